// Alert webhooks in, and the alerts, incidents and maintenance windows
// they lead to. The webhook routes are public to the session/API-key layer
// because each alert endpoint checks its own credential (a token in a header
// or the path, or an HMAC signature), read before anything is parsed or
// stored. Bodies are read raw, under their own size cap, so a signature can
// be checked over the exact bytes and an oversized payload gets a clear 413.
import { createHash } from 'node:crypto';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Services } from '../../app.ts';
import { UserError } from '../../errors.ts';
import { parseAlerts } from '../../incidents/adapters/index.ts';
import type { WebhookAlertSource } from '../../incidents/alert.ts';
import { alertSources } from '../../incidents/alert.ts';
import type { AlertEndpoint } from '../../incidents/alert-endpoints.ts';
import { incidentStatuses } from '../../incidents/incident-store.ts';
import { decodeBody } from '../../incidents/payload-body.ts';
import type { PageQuery } from '../paging.ts';
import {
  decodeCursor,
  pagedQuery,
  pagedResponse,
  pageInMemory,
  pageLimit,
  toPage,
} from '../paging.ts';
import { emptyBody } from '../schemas.ts';
import { alertEndpointRoutes } from './alert-endpoints.ts';
import { principalName } from './auth.ts';

const namedSources = alertSources.filter((s) => s !== 'generic');

type IngestParams = { source: WebhookAlertSource; name?: string; token?: string };

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (m) return m[1];
  const x = request.headers['x-warden-token'];
  return typeof x === 'string' && x !== '' ? x : undefined;
}

function signature(request: FastifyRequest): string | undefined {
  const s = request.headers['x-warden-signature'] ?? request.headers['x-hub-signature-256'];
  return typeof s === 'string' ? s : undefined;
}

/** Reads the body into a Buffer, refusing it once it passes the cap. */
function cappedBodyParser(maxBytes: number) {
  const tooLarge = (size: string) =>
    new UserError(
      'payload_too_large',
      `the alert payload is ${size} bytes; the limit is ${maxBytes} (WARDEN_ALERTS_MAX_PAYLOAD_BYTES)`,
      { status: 413, details: { limit: maxBytes } },
    );
  return async (request: FastifyRequest, payload: NodeJS.ReadableStream): Promise<Buffer> => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(String(declared));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of payload) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > maxBytes) throw tooLarge(`more than ${maxBytes}`);
      chunks.push(buf);
    }
    return Buffer.concat(chunks);
  };
}

async function ingestRoutes(app: FastifyInstance, opts: { services: Services }) {
  const { alertEndpoints, incidents, config } = opts.services;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', cappedBodyParser(config.alerts.maxPayloadBytes));

  async function ingest(request: FastifyRequest<{ Params: IngestParams }>, reply: FastifyReply) {
    const { source, name } = request.params;
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const token = request.params.token ?? bearer(request);
    const signed = signature(request);
    const endpoint: AlertEndpoint = await alertEndpoints.authenticate({
      source,
      body,
      ...(name !== undefined ? { name } : {}),
      ...(token !== undefined ? { token } : {}),
      ...(signed !== undefined ? { signature: signed } : {}),
    });
    const payload = decodeBody(request.headers['content-type'], body);
    const parsed = await parseAlerts(source, payload, {
      serviceLabel: endpoint.serviceLabel,
      mapping: endpoint.mapping,
    });
    if (parsed.alerts.length === 0 && parsed.rejected.length > 0) {
      throw new UserError(
        'malformed_alert',
        `no alert in the payload was accepted: ${parsed.rejected.map((r) => r.reason).join('; ')}`,
        { details: { rejected: parsed.rejected } },
      );
    }
    // A sender that retries (after a timeout, a 5xx) sends the same bytes
    // again, or the same Idempotency-Key: it is answered, not stored twice.
    const given = request.headers['idempotency-key'];
    const idempotencyKey = createHash('sha256')
      .update(`${endpoint.id}\u0000`)
      .update(typeof given === 'string' && given !== '' ? `key\u0000${given}` : body)
      .digest('hex');
    const { results, replayed } = await incidents.ingestNotification(parsed.alerts, {
      endpointId: endpoint.id,
      idempotencyKey,
    });
    request.log.info(
      {
        endpoint: endpoint.name,
        accepted: results.length,
        rejected: parsed.rejected.length,
        skipped: parsed.skipped.length,
        replayed,
      },
      'alerts received',
    );
    return reply.status(200).send({
      accepted: results.length,
      ...(replayed ? { replayed: true } : {}),
      results,
      rejected: parsed.rejected,
      skipped: parsed.skipped,
    });
  }

  const sourceParam = { type: 'string', enum: namedSources } as const;
  const token = { type: 'string', minLength: 1, maxLength: 200 } as const;
  const endpointName = { type: 'string', minLength: 1, maxLength: 63 } as const;
  const route = (url: string, params: Record<string, unknown>, fixed?: Partial<IngestParams>) =>
    app.post<{ Params: IngestParams }>(
      url,
      {
        config: { public: true },
        schema: {
          params: {
            type: 'object',
            properties: params,
            required: Object.keys(params),
          },
        },
      },
      (request, reply) => {
        Object.assign(request.params, fixed);
        return ingest(request, reply);
      },
    );
  route('/api/v1/alerts/:source', { source: sourceParam });
  route('/api/v1/alerts/generic/:name', { name: endpointName }, { source: 'generic' });
  route('/hooks/alerts/:source/:token', { source: sourceParam, token });
  route('/hooks/alerts/generic/:name/:token', { name: endpointName, token }, { source: 'generic' });
}

const anyObject = { type: 'object', additionalProperties: true } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1 } },
} as const;

export default async function alertsPlugin(app: FastifyInstance, opts: { services: Services }) {
  const { incidents, maintenance } = opts.services;
  await app.register(ingestRoutes, opts);
  await app.register(alertEndpointRoutes, opts);

  app.get<{
    Querystring: PageQuery & {
      service?: string;
      status?: 'firing' | 'resolved';
      incidentId?: number;
      raw?: boolean;
    };
  }>(
    '/api/v1/alerts',
    {
      schema: {
        querystring: pagedQuery({
          service: { type: 'string' },
          status: { type: 'string', enum: ['firing', 'resolved'] },
          incidentId: { type: 'integer', minimum: 1 },
          raw: { type: 'boolean', default: false },
        }),
        response: { 200: pagedResponse('alerts', anyObject) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const limit = pageLimit(request.query);
      const before = decodeCursor(cursor, ['number']);
      const rows = await incidents.listAlerts({
        ...filter,
        beforeId: before?.[0],
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (a) => [a.id]);
      return { alerts: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{
    Querystring: PageQuery & { status?: (typeof incidentStatuses)[number]; service?: string };
  }>(
    '/api/v1/incidents',
    {
      schema: {
        querystring: pagedQuery({
          status: { type: 'string', enum: [...incidentStatuses] },
          service: { type: 'string' },
        }),
        response: { 200: pagedResponse('incidents', anyObject) },
      },
    },
    async (request) => {
      const { cursor, ...filter } = request.query;
      const limit = pageLimit(request.query);
      const before = decodeCursor(cursor, ['number']);
      const rows = await incidents.list({ ...filter, beforeId: before?.[0], limit: limit + 1 });
      const page = toPage(rows, limit, (i) => [i.id]);
      return { incidents: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/incidents/:id',
    { schema: { params: idParams } },
    async (request) => incidents.show(request.params.id),
  );

  app.get<{ Querystring: PageQuery & { all?: boolean } }>(
    '/api/v1/maintenance-windows',
    {
      schema: {
        querystring: pagedQuery({ all: { type: 'boolean', default: false } }),
        response: { 200: pagedResponse('maintenanceWindows', anyObject) },
      },
    },
    async (request) => {
      const windows = await maintenance.list({ includePast: request.query.all ?? false });
      const page = pageInMemory(windows, request.query, {
        // Soonest first, as the service orders them.
        key: (w) => [w.startsAt.toISOString(), w.id],
        shape: ['string', 'number'],
      });
      return { maintenanceWindows: page.items, nextCursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: number } }>(
    '/api/v1/maintenance-windows/:id',
    { schema: { params: idParams } },
    async (request) => maintenance.get(request.params.id),
  );

  app.post<{
    Body: {
      service?: string;
      matchers?: Record<string, string>;
      reason: string;
      startsAt?: string;
      endsAt: string;
    };
  }>(
    '/api/v1/maintenance-windows',
    {
      schema: {
        body: {
          type: 'object',
          required: ['reason', 'endsAt'],
          properties: {
            service: { type: 'string', minLength: 1, maxLength: 200 },
            matchers: { type: 'object', additionalProperties: { type: 'string' } },
            reason: { type: 'string', minLength: 1, maxLength: 500 },
            startsAt: { type: 'string', format: 'date-time' },
            endsAt: { type: 'string', format: 'date-time' },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const window = await maintenance.create({
        reason: b.reason,
        startsAt: b.startsAt ? new Date(b.startsAt) : new Date(),
        endsAt: new Date(b.endsAt),
        createdBy: principalName(request.principal),
        ...(b.service !== undefined ? { service: b.service } : {}),
        ...(b.matchers !== undefined ? { matchers: b.matchers } : {}),
      });
      return reply.status(201).send(window);
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/v1/maintenance-windows/:id/end',
    {
      schema: {
        params: idParams,
        body: emptyBody,
      },
    },
    async (request) => maintenance.end(request.params.id),
  );

  app.delete<{ Params: { id: number } }>(
    '/api/v1/maintenance-windows/:id',
    { schema: { params: idParams } },
    async (request) => maintenance.remove(request.params.id),
  );
}
