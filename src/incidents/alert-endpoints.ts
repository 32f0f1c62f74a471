// Alert endpoints: who may post alerts, each with its own credential. A
// token is shown once and stored as SHA-256; a generic endpoint may instead
// (or also) carry an HMAC-SHA256 secret, kept encrypted in the credential
// store because verifying a signature needs the secret itself.
import { createHmac, timingSafeEqual } from 'node:crypto';

import { newToken, sha256 } from '../auth/tokens.ts';
import type { Db } from '../db/db.ts';
import { notFound, UserError } from '../errors.ts';
import type { CredentialStore } from '../secrets/credential-store.ts';
import type { WebhookAlertSource } from './alert.ts';
import { isAlertSource } from './alert.ts';
import { compileMapping } from './adapters/generic.ts';

export type AlertEndpoint = {
  id: number;
  name: string;
  source: WebhookAlertSource;
  tokenPrefix: string;
  /** Whether requests must carry an HMAC-SHA256 signature. */
  signed: boolean;
  mapping: string | null;
  serviceLabel: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  disabledAt: Date | null;
};

export type CreateAlertEndpointInput = {
  name: string;
  source: WebhookAlertSource;
  /** JSONata mapping (generic only). */
  mapping?: string | null;
  /** Label naming the service. */
  serviceLabel?: string | null;
  /** Generate an HMAC secret (generic only). @default false */
  signed?: boolean;
};

export type UpdateAlertEndpointInput = {
  mapping?: string | null;
  serviceLabel?: string | null;
  disabled?: boolean;
};

/** What a request presents to prove it may post to an endpoint. */
export type AlertCredentials = {
  source: WebhookAlertSource;
  /** Endpoint name, from the path of generic endpoints. */
  name?: string;
  token?: string;
  /** `sha256=<hex>` over the raw body. */
  signature?: string;
  body: Buffer;
};

type Row = {
  id: number;
  name: string;
  source: WebhookAlertSource;
  token_prefix: string;
  token_hash: string;
  hmac_credential: string | null;
  mapping: string | null;
  service_label: string | null;
  created_at: Date;
  last_used_at: Date | null;
  disabled_at: Date | null;
};

const toEndpoint = (r: Row): AlertEndpoint => ({
  id: r.id,
  name: r.name,
  source: r.source,
  tokenPrefix: r.token_prefix,
  signed: r.hmac_credential !== null,
  mapping: r.mapping,
  serviceLabel: r.service_label,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  disabledAt: r.disabled_at,
});

export const alertTokenPrefix = 'wdn_alert_';
const namePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function unauthorized(message: string): UserError {
  return new UserError('unauthorized', message, { status: 401 });
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The signature a sender must put in X-Warden-Signature. */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Where a sender posts: with the token in a header, or in the path. */
export function endpointUrls(baseUrl: string, endpoint: AlertEndpoint, token?: string) {
  const base = baseUrl.replace(/\/$/, '');
  const named =
    endpoint.source === 'generic' ? `generic/${endpoint.name}` : (endpoint.source as string);
  return {
    withHeader: `${base}/api/v1/alerts/${named}`,
    withTokenInPath: `${base}/hooks/alerts/${named}/${token ?? '<token>'}`,
  };
}

export class AlertEndpointService {
  constructor(
    private readonly db: Db,
    private readonly credentials: CredentialStore,
  ) {}

  async create(
    input: CreateAlertEndpointInput,
  ): Promise<{ endpoint: AlertEndpoint; token: string; hmacSecret?: string }> {
    const name = input.name.trim();
    if (!namePattern.test(name))
      throw new UserError(
        'invalid_name',
        `endpoint name must be 1-63 lowercase letters, digits, "-" or "_"; got "${input.name}"`,
      );
    if (!isAlertSource(input.source))
      throw new UserError(
        'invalid_source',
        `source must be uptime-kuma, alertmanager, grafana or generic; got "${String(input.source)}"`,
      );
    if (input.source !== 'generic' && (input.mapping || input.signed))
      throw new UserError(
        'invalid_endpoint',
        'a mapping and HMAC signing are for generic endpoints only',
      );
    if (input.mapping) compileMapping(input.mapping);
    const token = newToken(alertTokenPrefix);
    const hmacSecret = input.signed ? newToken('', 32) : undefined;
    const credential = hmacSecret ? `alert-endpoint.${name}.hmac` : null;
    const { rows } = await this.db.query<Row>(
      `INSERT INTO alert_endpoints (name, source, token_prefix, token_hash, hmac_credential, mapping, service_label)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING *`,
      [
        name,
        input.source,
        token.slice(0, alertTokenPrefix.length + 6),
        sha256(token),
        credential,
        input.mapping || null,
        input.serviceLabel || null,
      ],
    );
    if (!rows[0])
      throw new UserError('endpoint_exists', `an alert endpoint named "${name}" already exists`, {
        status: 409,
      });
    if (credential && hmacSecret) {
      try {
        await this.credentials.set(credential, 'hmac', hmacSecret);
      } catch (err) {
        await this.db.query('DELETE FROM alert_endpoints WHERE id = $1', [rows[0].id]);
        throw err;
      }
    }
    return { endpoint: toEndpoint(rows[0]), token, ...(hmacSecret ? { hmacSecret } : {}) };
  }

  async list(): Promise<AlertEndpoint[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM alert_endpoints ORDER BY id');
    return rows.map(toEndpoint);
  }

  async get(id: number): Promise<AlertEndpoint> {
    const { rows } = await this.db.query<Row>('SELECT * FROM alert_endpoints WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('alert endpoint', id);
    return toEndpoint(rows[0]);
  }

  async update(id: number, input: UpdateAlertEndpointInput): Promise<AlertEndpoint> {
    const current = await this.get(id);
    if (input.mapping && current.source !== 'generic')
      throw new UserError('invalid_endpoint', 'a mapping is for generic endpoints only');
    if (input.mapping) compileMapping(input.mapping);
    const { rows } = await this.db.query<Row>(
      `UPDATE alert_endpoints SET
         mapping = CASE WHEN $2 THEN $3 ELSE mapping END,
         service_label = CASE WHEN $4 THEN $5 ELSE service_label END,
         disabled_at = CASE WHEN $6::boolean IS NULL THEN disabled_at
                            WHEN $6 THEN coalesce(disabled_at, now()) ELSE NULL END
       WHERE id = $1 RETURNING *`,
      [
        id,
        input.mapping !== undefined,
        input.mapping || null,
        input.serviceLabel !== undefined,
        input.serviceLabel || null,
        input.disabled ?? null,
      ],
    );
    return toEndpoint(rows[0]!);
  }

  /** Replaces the token; the old one stops working at once. */
  async rotateToken(id: number): Promise<{ endpoint: AlertEndpoint; token: string }> {
    const token = newToken(alertTokenPrefix);
    const { rows } = await this.db.query<Row>(
      'UPDATE alert_endpoints SET token_prefix = $2, token_hash = $3 WHERE id = $1 RETURNING *',
      [id, token.slice(0, alertTokenPrefix.length + 6), sha256(token)],
    );
    if (!rows[0]) throw notFound('alert endpoint', id);
    return { endpoint: toEndpoint(rows[0]), token };
  }

  /** Deletes the endpoint; the alerts it received stay. */
  async delete(id: number): Promise<AlertEndpoint> {
    const { rows } = await this.db.query<Row>(
      'DELETE FROM alert_endpoints WHERE id = $1 RETURNING *',
      [id],
    );
    if (!rows[0]) throw notFound('alert endpoint', id);
    if (rows[0].hmac_credential) {
      await this.credentials.delete(rows[0].hmac_credential).catch(() => undefined);
    }
    return toEndpoint(rows[0]);
  }

  /**
   * The endpoint a request may post to, or a 401. Generic endpoints are
   * named in the path; a signed one needs a valid signature, any other a
   * token. The other sources are found by their token.
   */
  async authenticate(creds: AlertCredentials): Promise<AlertEndpoint> {
    let row: Row | undefined;
    if (creds.source === 'generic') {
      if (!creds.name) throw unauthorized('a generic alert endpoint is named in the path');
      row = (
        await this.db.query<Row>('SELECT * FROM alert_endpoints WHERE name = $1', [creds.name])
      ).rows[0];
      if (!row || row.source !== 'generic')
        throw unauthorized(`no generic alert endpoint named "${creds.name}" accepts this request`);
      if (row.hmac_credential) {
        if (!creds.signature)
          throw unauthorized('this endpoint needs an X-Warden-Signature: sha256=<hex> header');
        const secret = await this.credentials.get(row.hmac_credential);
        if (!sameText(creds.signature.trim().toLowerCase(), signBody(secret, creds.body)))
          throw unauthorized('the X-Warden-Signature does not match the body');
      } else if (!creds.token || !sameText(sha256(creds.token), row.token_hash)) {
        throw unauthorized(creds.token ? 'the alert token is wrong' : 'an alert token is required');
      }
    } else {
      if (!creds.token)
        throw unauthorized(
          'an alert token is required: "Authorization: Bearer <token>", X-Warden-Token, or /hooks/alerts/<source>/<token>',
        );
      row = (
        await this.db.query<Row>('SELECT * FROM alert_endpoints WHERE token_hash = $1', [
          sha256(creds.token),
        ])
      ).rows[0];
      if (!row) throw unauthorized('the alert token is unknown');
      if (row.source !== creds.source)
        throw unauthorized(`this token belongs to a ${row.source} endpoint, not ${creds.source}`);
    }
    if (row.disabled_at) throw unauthorized(`the alert endpoint "${row.name}" is disabled`);
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000)
      await this.db.query('UPDATE alert_endpoints SET last_used_at = now() WHERE id = $1', [
        row.id,
      ]);
    return toEndpoint(row);
  }
}
