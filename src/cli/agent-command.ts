// `warden agent "<task>"`: the orchestrator agent on the orchestrator model,
// with the local MCP servers (in process, or a running Warden's). What it does goes to stderr as it happens; the
// answer to stdout (or everything as JSON with --json).
import type { Command } from 'commander';

import { UserError } from '../errors.ts';
import { Agent } from '../mcp/agent.ts';
import type { AgentEvent } from '../mcp/agent.ts';
import type { LlmGateway } from '../llm/gateway.ts';
import type { ConnectedServers } from '../mcp/local-servers.ts';
import {
  connectInProcess,
  connectLocalServers,
  connectOverHttp,
  connectServers,
  filesServer,
  wantedServers,
} from '../mcp/local-servers.ts';
import { runningWarden } from './api-client.ts';
import { cliConfig, withServices } from './context.ts';
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
      const names = flags.servers
        ?.split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const run = async (llm: LlmGateway, local: ConnectedServers) => {
        try {
          const agent = new Agent({
            llm,
            model: flags.model ?? llm.modelFor('orchestrator'),
            servers: local.servers,
            maxSteps,
          });
          return await agent.run(words.join(' '), (e) => {
            if (!flags.json) process.stderr.write(`${show(e)}\n`);
          });
        } finally {
          await local.close();
        }
      };
      // Beside a running Warden the model is called from here and the
      // servers are that Warden's (/mcp/<name>); files, which need no
      // database, stay in this process and read-only.
      const config = cliConfig();
      const api = await runningWarden(config);
      const result = api
        ? await run(
            (await import('../app.ts')).createLlmGateway(config),
            await connectServers(wantedServers(names, config), (name) =>
              name === 'files'
                ? connectInProcess(filesServer(config, false))
                : connectOverHttp(
                    new URL(`/mcp/${name}`, api.control.url).toString(),
                    api.control.token,
                  ),
            ),
          )
        : await withServices(async (s) => run(s.llm, await connectLocalServers(s, names)));
      if (flags.json) return printJson(result);
      printLine(result.answer);
      if (result.stopped === 'max_steps') process.exitCode = 1;
    });
}
