// `warden agent "<task>"`: the orchestrator agent on the orchestrator model,
// with the local MCP servers. What it does goes to stderr as it happens; the
// answer to stdout (or everything as JSON with --json).
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import { Agent } from '../mcp/agent.ts';
import type { AgentEvent } from '../mcp/agent.ts';
import { connectLocalServers } from '../mcp/local-servers.ts';
import { withServices } from './context.ts';
import { printJson, printLine } from './output.ts';

type Flags = { servers?: string; maxSteps: string; model?: string; json?: boolean };

const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n)}…` : s);

function show(e: AgentEvent): string {
  switch (e.type) {
    case 'tool_call':
      return `[${e.step}] ${e.tool} ${JSON.stringify(e.arguments)}`;
    case 'tool_result':
      return `[${e.step}] ${e.isError ? 'error' : 'result'}: ${clip(e.text.replace(/\s+/g, ' '))}`;
    case 'refused':
      return `[${e.step}] refused ${e.tool}: ${e.reason}`;
    case 'answer':
      return `[${e.step}] answered`;
  }
}

export function registerAgentCommand(program: Command): void {
  program
    .command('agent <task...>')
    .description(
      'the orchestrator agent: the local model works on a task with the local MCP servers',
    )
    .option(
      '--servers <names>',
      'comma-separated: memory, thinking, workflows, files (default: all configured)',
    )
    .option('--max-steps <n>', 'model turns at most', '8')
    .option('--model <name>', 'model to use (default: the orchestrator role)')
    .option('--json', 'machine-readable output')
    .action(async (words: string[], flags: Flags) => {
      const maxSteps = Number(flags.maxSteps);
      if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 50)
        throw new UserError(
          'invalid_option',
          `--max-steps must be a whole number from 1 to 50, not "${flags.maxSteps}"`,
        );
      const result = await withServices(async (s) => {
        const names = flags.servers
          ?.split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        const local = await connectLocalServers(s, names);
        try {
          const agent = new Agent({
            llm: s.llm,
            model: flags.model ?? s.llm.modelFor('orchestrator'),
            servers: local.servers,
            maxSteps,
          });
          return await agent.run(words.join(' '), (e) => {
            if (!flags.json) process.stderr.write(`${show(e)}\n`);
          });
        } finally {
          await local.close();
        }
      });
      if (flags.json) return printJson(result);
      printLine(result.answer);
      if (result.stopped === 'max_steps') process.exitCode = 1;
    });
}
