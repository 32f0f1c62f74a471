// The local MCP servers by name (the knowledge graph, sequential thinking,
// workflows, and files when WARDEN_MCP_FILES_ROOTS names some) and the ways
// to reach them: in process (no child processes, no ports) for `warden
// agent`, or over Streamable HTTP from the main process that serves them at
// /mcp/<name>. Files are always read-only for the agent, and the ops server
// is not among them: nothing here runs a command on the host.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

import type { Services } from '../app.ts';
import type { Config } from '../config/load.ts';
import { UserError } from '../errors.ts';
import { wardenVersion } from '../version.ts';
import type { AgentServer } from './agent.ts';
import type { LocalServerName } from './local-server-names.ts';
import { localServerNames } from './local-server-names.ts';
import { createFilesServer } from './files-server.ts';
import { createMemoryServer } from './memory-server.ts';
import { createThinkingServer } from './thinking-server.ts';
import { createWorkflowsServer } from './workflows-server.ts';

export type ConnectedServers = { servers: AgentServer[]; close(): Promise<void> };

/** An MCP client connected to one server, and how to let go of it. */
export type Connection = { client: Client; close(): Promise<void> };

/** The files server over the configured roots; read-only unless `write`. */
export function filesServer(config: Pick<Config, 'mcpFiles'>, write: boolean): McpServer {
  if (config.mcpFiles.roots.length === 0)
    throw new UserError(
      'files_roots_missing',
      'the files server needs WARDEN_MCP_FILES_ROOTS (comma-separated absolute paths)',
    );
  return createFilesServer({
    roots: config.mcpFiles.roots,
    write,
    maxReadBytes: config.mcpFiles.maxReadBytes,
    version: wardenVersion,
  });
}

/** A new server of that name over these services (files: read-only unless `filesWrite`). */
export function createLocalServer(
  name: LocalServerName,
  s: Services,
  options: { filesWrite?: boolean } = {},
): McpServer {
  const version = wardenVersion;
  switch (name) {
    case 'memory':
      return createMemoryServer({ db: s.db, version });
    case 'thinking':
      return createThinkingServer({ db: s.db, version });
    case 'workflows':
      return createWorkflowsServer({ engine: s.engine, version });
    case 'files':
      return filesServer(s.config, options.filesWrite ?? false);
  }
}

/** The names asked for (default: all, files only when roots are configured), checked. */
export function wantedServers(
  names: readonly string[] | undefined,
  config: Pick<Config, 'mcpFiles'>,
): LocalServerName[] {
  const wanted =
    names ?? localServerNames.filter((n) => n !== 'files' || config.mcpFiles.roots.length > 0);
  for (const n of wanted)
    if (!(localServerNames as readonly string[]).includes(n))
      throw new UserError(
        'unknown_server',
        `unknown local MCP server "${n}"; choose from ${localServerNames.join(', ')}`,
      );
  return wanted as LocalServerName[];
}

/** A client linked to a server in this process. */
export async function connectInProcess(server: McpServer): Promise<Connection> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: 'warden-agent', version: wardenVersion });
  await client.connect(b);
  return { client, close: () => client.close().then(() => server.close()) };
}

/** A client of a server over Streamable HTTP, with a bearer token. */
export async function connectOverHttp(url: string, token: string): Promise<Connection> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'warden-agent', version: wardenVersion });
  await client.connect(transport);
  return {
    client,
    async close() {
      // Ends the session on the server rather than leaving it to the idle timeout.
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

/** Connects each named server with `open`; on a failure, closes those already open. */
export async function connectServers(
  wanted: readonly LocalServerName[],
  open: (name: LocalServerName) => Promise<Connection>,
): Promise<ConnectedServers> {
  const opened: Connection[] = [];
  try {
    for (const name of wanted) opened.push(await open(name));
  } catch (err) {
    await Promise.all(opened.map((o) => o.close().catch(() => {})));
    throw err;
  }
  return {
    servers: opened.map((o, i) => ({ name: wanted[i]!, client: o.client })),
    async close() {
      await Promise.all(opened.map((o) => o.close()));
    },
  };
}

/** The named servers over these services, each behind an in-process MCP client. */
export async function connectLocalServers(
  s: Services,
  names?: readonly string[],
): Promise<ConnectedServers> {
  return connectServers(wantedServers(names, s.config), (name) =>
    connectInProcess(createLocalServer(name, s)),
  );
}
