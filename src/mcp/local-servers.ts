// The local MCP servers the orchestrator agent works with, connected in
// process (no child processes, no ports): the knowledge graph, sequential
// thinking, workflows, and files when WARDEN_MCP_FILES_ROOTS names some.
// Files are always read-only for the agent, and the ops server is not among
// them: nothing here runs a command on the host.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

import type { Services } from '../app.ts';
import { UserError } from '../errors.ts';
import { wardenVersion } from '../version.ts';
import type { AgentServer } from './agent.ts';
import { createFilesServer } from './files-server.ts';
import { createMemoryServer } from './memory-server.ts';
import { createThinkingServer } from './thinking-server.ts';
import { createWorkflowsServer } from './workflows-server.ts';

export const localServerNames = ['memory', 'thinking', 'workflows', 'files'] as const;
export type LocalServerName = (typeof localServerNames)[number];

export type ConnectedServers = { servers: AgentServer[]; close(): Promise<void> };

function factory(name: LocalServerName, s: Services): McpServer {
  const version = wardenVersion;
  switch (name) {
    case 'memory':
      return createMemoryServer({ db: s.db, version });
    case 'thinking':
      return createThinkingServer({ db: s.db, version });
    case 'workflows':
      return createWorkflowsServer({ engine: s.engine, version });
    case 'files':
      if (s.config.mcpFiles.roots.length === 0)
        throw new UserError(
          'files_roots_missing',
          'the files server needs WARDEN_MCP_FILES_ROOTS (comma-separated absolute paths)',
        );
      return createFilesServer({ roots: s.config.mcpFiles.roots, write: false, version });
  }
}

/** The named servers (default: all, files only when roots are configured), each behind an MCP client. */
export async function connectLocalServers(
  s: Services,
  names?: readonly string[],
): Promise<ConnectedServers> {
  const wanted =
    names ?? localServerNames.filter((n) => n !== 'files' || s.config.mcpFiles.roots.length > 0);
  for (const n of wanted)
    if (!(localServerNames as readonly string[]).includes(n))
      throw new UserError(
        'unknown_server',
        `unknown local MCP server "${n}"; choose from ${localServerNames.join(', ')}`,
      );
  const opened: { client: Client; server: McpServer }[] = [];
  try {
    for (const name of wanted as LocalServerName[]) {
      const server = factory(name, s);
      const [a, b] = InMemoryTransport.createLinkedPair();
      await server.connect(a);
      const client = new Client({ name: 'warden-agent', version: wardenVersion });
      await client.connect(b);
      opened.push({ client, server });
    }
  } catch (err) {
    await Promise.all(opened.map((o) => o.client.close()));
    throw err;
  }
  return {
    servers: opened.map((o, i) => ({ name: wanted[i]!, client: o.client })),
    async close() {
      await Promise.all(opened.map((o) => o.client.close().then(() => o.server.close())));
    },
  };
}
