// Structured logs (pino, JSON lines). Anything that looks like a secret is
// redacted before it is written, wherever it appears in the object; every URL
// in a message, a field or an error has its credentials masked.
import { pino } from 'pino';
import type { Logger } from 'pino';

import { maskDeep, maskUrlsInText } from './config/mask.ts';

export type { Logger };

const secretKeys = [
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
];

export const redactPaths = [
  ...secretKeys,
  ...secretKeys.map((k) => `*.${k}`),
  ...secretKeys.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

/** Alert tokens travel in some webhook paths (senders that cannot set headers); logs get the path without them. */
export function redactUrl(url: string): string {
  return url.replace(/^(\/hooks\/alerts\/(?:generic\/[^/?]+|[^/?]+)\/)[^/?]+/, '$1[redacted]');
}

/** pino's error serializer, with URLs in the message and stack masked (errors quote the server they failed on). */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return maskDeep(err);
  // The serialized error has pino's own prototype; spread it into a plain object to walk it.
  return maskDeep({ ...pino.stdSerializers.err(err) });
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
  return pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        // Fields that hold URLs (a server's address, a failed fetch) lose their credentials.
        log: (obj) => maskDeep(obj),
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
}
