// Structured logs (pino, JSON lines). Anything that looks like a secret is
// redacted before it is written, wherever it appears in the object.
import { pino } from 'pino';
import type { Logger } from 'pino';

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
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    (options.destination ?? process.stderr) as pino.DestinationStream,
  );
}
