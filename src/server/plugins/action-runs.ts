// POST /api/v1/actions/:name/run: a catalogue action run now, through the
// same executor, gate and audit log as everything else (a `dangerous` one
// is refused without an approval). Admin only: it acts on the host. The
// CLI on this machine (the control token) is audited as the CLI, exactly as
// when it runs the action itself; anyone else as who they are.
import type { FastifyInstance } from 'fastify';

import type { Services } from '../../app.ts';
import type { Caller } from '../../exec/audit-log.ts';
import type { Principal } from './auth.ts';
import { principalName } from './auth.ts';

function callerOf(p: Principal | undefined): Caller {
  if (p?.kind === 'api_key' && p.actor !== undefined) return { kind: 'cli' };
  return { kind: 'api_key', id: principalName(p) };
}

export default async function actionRunsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { executor } = opts.services.exec;
  app.post<{ Params: { name: string }; Body: { params?: Record<string, string> } }>(
    '/api/v1/actions/:name/run',
    {
      config: { role: 'admin' },
      schema: {
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        body: {
          type: 'object',
          properties: {
            params: {
              type: 'object',
              maxProperties: 32,
              additionalProperties: { type: 'string', maxLength: 4096 },
            },
          },
          additionalProperties: false,
        },
        response: {
          // What the executor answers: refused (rule, reason), ran (argv, exit
          // code, output, verify, rollback) or done (a builtin's result).
          200: {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['refused', 'ran', 'done'] } },
            additionalProperties: true,
          },
        },
      },
    },
    async (request, reply) => {
      // The client going away before the answer stops the action.
      const gone = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort();
      });
      return executor.runAction(
        request.params.name,
        request.body?.params ?? {},
        callerOf(request.principal),
        gone.signal,
      );
    },
  );
}
