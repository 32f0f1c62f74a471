// The local MCP servers, served by the main process over Streamable HTTP at
// /mcp/memory, /mcp/thinking, /mcp/workflows and /mcp/files (when
// WARDEN_MCP_FILES_ROOTS names directories; write tools only with
// WARDEN_MCP_FILES_WRITE). Beside a running Warden this is how they are
// reached: `warden mcp <name>` over stdio forwards here, and `warden agent`
// connects here, so nothing else opens the embedded database.
//
// Auth: a bearer credential only, an API key or the local control token;
// never a browser session, so no page can drive a tool with someone's
// cookie. memory, thinking and workflows need the operator role (their tools
// write the knowledge graph and run workflows); files needs admin (it reads
// the host's files). An Origin header must be one in
// WARDEN_MCP_ALLOWED_ORIGINS. A session belongs to the credential that opened
// it. The MCP SDK (about 10 MB of the main process's memory) is loaded when a
// client first calls one of them, not at start.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Services } from '../../app.ts';
import type { Role } from '../../auth/roles.ts';
import { UserError } from '../../errors.ts';
import type { LocalServerName } from '../../mcp/local-server-names.ts';
import { localServerNames } from '../../mcp/local-server-names.ts';
import type { McpSessions } from '../../mcp/mcp-sessions.ts';
import { resolveRoots } from '../../mcp/path-guard.ts';
import { rejectMcp } from '../../mcp/reject.ts';
import { principalName } from './auth.ts';

const roleOf: Record<LocalServerName, Role> = {
  memory: 'operator',
  thinking: 'operator',
  workflows: 'operator',
  files: 'admin',
};

export default async function mcpPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { services } = opts;
  const { config } = services;
  const served = localServerNames.filter((n) => n !== 'files' || config.mcpFiles.roots.length > 0);
  // A misconfigured root stops the start here, not at a client's first call.
  if (served.includes('files')) resolveRoots(config.mcpFiles.roots);
  const pools = new Map<LocalServerName, Promise<McpSessions>>();
  // Before the server waits for open requests: a session's event stream
  // never ends by itself, and would hold the shutdown to its timeout.
  app.addHook('preClose', async () => {
    await Promise.all(
      [...pools.values()].map((p) =>
        p.then(
          (s) => s.close(),
          () => {},
        ),
      ),
    );
  });
  /** The sessions of one server, made (and the SDK loaded) at its first request. */
  const sessionsOf = (name: LocalServerName): Promise<McpSessions> => {
    let pool = pools.get(name);
    if (!pool) {
      pool = (async () => {
        const [{ McpSessions }, { createLocalServer }] = await Promise.all([
          import('../../mcp/mcp-sessions.ts'),
          import('../../mcp/local-servers.ts'),
        ]);
        return new McpSessions({
          createServer: () =>
            createLocalServer(name, services, { filesWrite: config.mcpFiles.write }),
          logger: services.logger.child({ mcp: name }),
        });
      })();
      // A failed load is tried again at the next request.
      pool.catch(() => pools.delete(name));
      pools.set(name, pool);
    }
    return pool;
  };

  for (const name of served) {
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const p = request.principal;
      if (p?.kind !== 'api_key')
        throw new UserError(
          'unauthorized',
          'the MCP endpoints take an API key: send "Authorization: Bearer <api key>"',
          { status: 401 },
        );
      const origin = request.headers.origin;
      if (origin !== undefined && !config.mcp.allowedOrigins.includes(origin))
        throw new UserError(
          'origin_not_allowed',
          `Origin ${origin} is not in WARDEN_MCP_ALLOWED_ORIGINS`,
          { status: 403 },
        );
      // From here the MCP transport writes the answer (JSON or an event stream).
      reply.hijack();
      try {
        const sessions = await sessionsOf(name);
        await sessions.handle(request.raw, reply.raw, request.body, principalName(p));
      } catch (err) {
        request.log.error({ err }, 'MCP request failed');
        if (!reply.raw.headersSent) rejectMcp(reply.raw, 500, 'Internal error');
        else reply.raw.end();
      }
    };
    // One route per method: each is its own operation in the OpenAPI document.
    for (const method of ['GET', 'POST', 'DELETE'] as const)
      app.route({
        method,
        url: `/mcp/${name}`,
        config: { role: roleOf[name] },
        // The body is JSON-RPC, checked by the MCP server itself.
        handler,
      });
  }
}
