// The Fastify application: one plugin per feature, auth on every route that
// does not declare itself public, one error handler.
import { randomUUID } from 'node:crypto';

import cookie from '@fastify/cookie';
import Fastify, { LogController } from 'fastify';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RouteOptions,
} from 'fastify';

import type { Services } from '../app.ts';
import { acceptEmptyBodies } from './empty-body.ts';
import { registerErrorHandler } from './error-handler.ts';
import actionRunsPlugin from './plugins/action-runs.ts';
import actionsPlugin from './plugins/actions.ts';
import adminSettingsPlugin from './plugins/admin-settings.ts';
import alertsPlugin from './plugins/alerts.ts';
import apiKeysPlugin from './plugins/api-keys.ts';
import approvalsPlugin from './plugins/approvals.ts';
import auditPlugin from './plugins/audit.ts';
import backupsPlugin from './plugins/backups.ts';
import authPlugin from './plugins/auth.ts';
import consolePlugin from './plugins/console.ts';
import credentialsPlugin from './plugins/credentials.ts';
import dashboardPlugin from './plugins/dashboard.ts';
import eventsPlugin from './plugins/events.ts';
import executionsPlugin from './plugins/executions.ts';
import healthPlugin from './plugins/health.ts';
import incidentActionsPlugin from './plugins/incident-actions.ts';
import incidentAttachmentsPlugin from './plugins/incident-attachments.ts';
import mcpPlugin from './plugins/mcp.ts';
import memoryPlugin from './plugins/memory.ts';
import metricsPlugin from './plugins/metrics.ts';
import monitorsPlugin from './plugins/monitors.ts';
import openApiPlugin from './plugins/openapi.ts';
import sessionPlugin from './plugins/session.ts';
import setupPlugin from './plugins/setup.ts';
import usersPlugin from './plugins/users.ts';
import webhooksPlugin from './plugins/webhooks.ts';
import workflowEditorPlugin from './plugins/workflow-editor.ts';
import workflowsPlugin from './plugins/workflows.ts';

export type ServerPlugin = (app: FastifyInstance, opts: { services: Services }) => Promise<void>;

export type BuildServerOptions = {
  /** Feature plugins beyond the built-in ones (later subsystems add theirs here). */
  plugins?: ServerPlugin[];
  /** Observes each route as it is registered (tests walk the route table with it). */
  onRoute?: (route: RouteOptions) => void;
  /** Token of the local control file: the CLI on this machine calls the API as admin with it. */
  controlToken?: string;
};

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Keep a caller's request id when it is sane, so logs line up across hops. */
function genReqId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
}

function addResponseHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
}

/**
 * One log line per request, when it is answered, in place of Fastify's two
 * (in and out) at info: successful requests at debug, so a busy webhook does
 * not spend a tenth of its CPU writing logs, 4xx at info, 5xx at warn (the
 * error handler logs the error itself). The path is logged without its query
 * string, which may carry a token; so is an unknown route.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(
    error: Error | null,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const status = reply.statusCode;
    const level = error || status >= 500 ? 'warn' : status >= 400 ? 'info' : 'debug';
    const query = request.url.indexOf('?');
    reply.log[level](
      {
        method: request.method,
        path: query < 0 ? request.url : request.url.slice(0, query),
        status,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(error ? { err: error } : {}),
      },
      'request answered',
    );
  }
}

export async function buildServer(
  services: Services,
  options: BuildServerOptions = {},
): Promise<FastifyInstance> {
  const { config } = services;
  const app: FastifyInstance = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimit,
    trustProxy: config.server.trustProxy,
    genReqId,
    logController: new RequestLog(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  addResponseHeaders(app);
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  registerErrorHandler(app);
  acceptEmptyBodies(app);
  await app.register(cookie);
  await app.register(authPlugin, { services, controlToken: options.controlToken });
  // Before every feature plugin: the document is made from the routes declared after it.
  await app.register(openApiPlugin);
  for (const plugin of [
    healthPlugin,
    sessionPlugin,
    setupPlugin,
    usersPlugin,
    apiKeysPlugin,
    credentialsPlugin,
    monitorsPlugin,
    approvalsPlugin,
    memoryPlugin,
    metricsPlugin,
    alertsPlugin,
    workflowEditorPlugin,
    workflowsPlugin,
    executionsPlugin,
    webhooksPlugin,
    auditPlugin,
    backupsPlugin,
    actionsPlugin,
    actionRunsPlugin,
    incidentActionsPlugin,
    incidentAttachmentsPlugin,
    adminSettingsPlugin,
    dashboardPlugin,
    eventsPlugin,
    mcpPlugin,
    consolePlugin,
    ...(options.plugins ?? []),
  ]) {
    await app.register(plugin, { services });
  }
  return app;
}

/**
 * A worker's health port: /healthz and /readyz (public) and /metrics (a
 * viewer's API key, as on the main process), nothing else. Its errors have
 * the API's shape and request ids.
 */
export async function buildHealthServer(services: Services): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({ logger: false, genReqId });
  addResponseHeaders(app);
  registerErrorHandler(app);
  acceptEmptyBodies(app);
  await app.register(cookie);
  await app.register(authPlugin, { services });
  await app.register(healthPlugin, { services });
  await app.register(metricsPlugin, { services });
  return app;
}
