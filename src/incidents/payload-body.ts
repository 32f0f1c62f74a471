// Turns a webhook body into a value for the adapters: JSON, or a form
// (application/x-www-form-urlencoded or multipart/form-data) whose JSON is
// in a `data` field (Uptime Kuma's "form-data" option) or spread over fields
// that each hold JSON or text. Whatever the sender wrote, the value handed
// on is safe to store: no field becomes a prototype (`__proto__` stays an
// own field), lone UTF-16 surrogates become U+FFFD (jsonb refuses them), NUL
// is refused, and nesting deeper than maxDepth is refused with a 400 instead
// of overflowing a stack later.
import { UserError } from '../errors.ts';
import { setOwn } from './alert.ts';

/** Deepest nesting of objects and arrays a payload may have. */
export const maxDepth = 64;

function badBody(message: string): UserError {
  return new UserError('malformed_alert', message, { details: { field: 'body' } });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badBody(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A form's fields: `data` holds the whole payload, else each field is JSON or text. */
function fromFields(fields: Map<string, string>): unknown {
  const data = fields.get('data');
  if (data !== undefined) return parseJson(data, 'form field "data"');
  if (fields.size === 0) throw badBody('the form has no fields');
  const out: Record<string, unknown> = {};
  for (const [name, value] of fields) {
    try {
      setOwn(out, name, JSON.parse(value));
    } catch {
      setOwn(out, name, value);
    }
  }
  return out;
}

function multipartFields(body: Buffer, contentType: string): Map<string, string> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw badBody('multipart/form-data without a boundary');
  const fields = new Map<string, string>();
  const parts = body.toString('utf8').split(`--${boundary.trim()}`);
  for (const part of parts.slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const headers = part.slice(0, split);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined) continue;
    fields.set(name, part.slice(split + 4).replace(/\r\n$/, ''));
  }
  return fields;
}

function decodeAny(contentType: string | undefined, body: Buffer): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  if (text.trim() === '') throw badBody('the request body is empty');
  if (type === 'application/x-www-form-urlencoded')
    return fromFields(new Map(new URLSearchParams(text)));
  if (type === 'multipart/form-data') return fromFields(multipartFields(body, contentType ?? ''));
  if (type === '' || type === 'application/json' || type.endsWith('+json') || type === 'text/plain')
    return parseJson(text, 'the request body');
  throw new UserError(
    'unsupported_media_type',
    `content type "${type}" is not accepted: send application/json, application/x-www-form-urlencoded or multipart/form-data`,
    { status: 415 },
  );
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function cleanText(text: string): string {
  // PostgreSQL text and jsonb cannot hold NUL; refuse it here rather than fail at insert.
  if (text.includes('\u0000'))
    throw badBody('the request body contains a NUL character (\\u0000), which cannot be stored');
  return text.replace(loneSurrogate, '\uFFFD');
}

/** A copy that is safe to store (see the module comment). */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxDepth)
    throw badBody(`the request body nests objects or arrays deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) return value.map((v) => storable(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, cleanText(k), storable(v, depth + 1));
  return out;
}

export function decodeBody(contentType: string | undefined, body: Buffer): unknown {
  return storable(decodeAny(contentType, body));
}
