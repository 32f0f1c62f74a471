// Random tokens for API keys, sessions and setup links; only their SHA-256
// is stored, so a database dump does not leak usable credentials.
import { createHash, randomBytes } from 'node:crypto';

export function newToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
