// Structured logs (pino, JSON lines). Anything that looks like a secret is
// redacted before it is written, wherever it appears in the object; every URL
// in a message, a field or an error has its credentials masked. The walk runs
// when a line is written, never when a child logger is made: pino's own
// path-based redaction ran on every child's bindings, and a request and its
// execution each make one (about a fifth of what an execution allocated).
import { pino } from 'pino';
import type { Logger } from 'pino';

import { maskUrlsInText } from './config/mask.ts';

export type { Logger };

/** Keys whose values never reach a log line, at any depth, in any letter case. */
const secretKeys = new Set(
  [
    'password',
    'secret',
    'token',
    'apiKey',
    'api_key',
    'authorization',
    'cookie',
    'set-cookie',
    'x-csrf-token',
    'encryptionKey',
    'privateKey',
  ].map((k) => k.toLowerCase()),
);
const redacted = '[redacted]';
const tooDeep = '[nested too deep]';
const maxDepth = 10;
/** Fields a serializer below writes: they reach it as they were logged. */
const serialized = new Set(['err', 'error', 'req']);

/**
 * A copy of value for a log line, as JSON would write it (an object's own
 * fields, or what its toJSON gives), with the values under secret keys
 * replaced, URLs in strings masked and whatever is nested deeper than ten
 * levels cut off (a secret could hide there).
 */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskUrlsInText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxDepth) return tooDeep;
  if (Array.isArray(value)) return value.map((v: unknown) => scrub(v, depth + 1));
  const { toJSON } = value as { toJSON?: unknown };
  if (typeof toJSON === 'function') return scrub(toJSON.call(value), depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubField(k, v, depth + 1);
  return out;
}

function scrubField(key: string, value: unknown, depth: number): unknown {
  return secretKeys.has(key.toLowerCase()) && value !== undefined ? redacted : scrub(value, depth);
}

/** A log call's fields scrubbed, but those a serializer writes (it scrubs or picks what it writes). */
function scrubFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = serialized.has(k) ? v : scrubField(k, v, 1);
  return out;
}

/** Alert tokens travel in some webhook paths (senders that cannot set headers); logs get the path without them. */
export function redactUrl(url: string): string {
  return url.replace(/^(\/hooks\/alerts\/(?:generic\/[^/?]+|[^/?]+)\/)[^/?]+/, '$1[redacted]');
}

/** pino's error serializer, with URLs in the message and stack masked (errors quote the server they failed on). */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return scrub(err);
  // The serialized error has pino's own prototype; spread it into a plain object to walk it.
  return scrub({ ...pino.stdSerializers.err(err) });
}

type RequestLike = {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
};

export type LoggerOptions = {
  /** @default 'info' */
  level?: string;
  /** Where lines go. @default process.stderr */
  destination?: NodeJS.WritableStream;
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      formatters: {
        level: (label) => ({ level: label }),
        // Secrets and the credentials in URLs (a server's address, a failed fetch) never reach a line.
        log: scrubFields,
      },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskUrlsInText(a) : a));
          method.apply(this, masked as Parameters<typeof method>);
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Replaces Fastify's request serializer, which would log the full URL.
      serializers: {
        err: serializeError,
        error: serializeError,
        req: (req: RequestLike) => ({
          method: req.method,
          url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
    },
    (options.destination ?? process.stderr) as pino.DestinationStream,
  );
  // A child's bindings are written into every line it logs, and pino's
  // formatters do not see them: they are scrubbed once, when the child is
  // made. Children inherit this method, so grandchildren are scrubbed too.
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, scrub(bindings) as pino.Bindings, childOptions);
  } as typeof child;
  return logger;
}
