// Turns a webhook body into a value for the adapters: JSON, or a form
// (application/x-www-form-urlencoded or multipart/form-data) whose JSON is
// in a `data` field (Uptime Kuma's "form-data" option) or spread over fields
// that each hold JSON or text.
import { UserError } from '../errors.ts';

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
      out[name] = JSON.parse(value);
    } catch {
      out[name] = value;
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

export function decodeBody(contentType: string | undefined, body: Buffer): unknown {
  const value = decodeAny(contentType, body);
  // PostgreSQL text and jsonb cannot hold NUL; refuse it here rather than fail at insert.
  if (JSON.stringify(value).includes('\\u0000'))
    throw badBody('the request body contains a NUL character (\\u0000), which cannot be stored');
  return value;
}
