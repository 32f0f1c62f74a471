// Messages between the main thread and the embedded database's thread
// (pglite-thread.ts), and how an error crosses between them.
export type ThreadRequest = { id: number } & (
  | { op: 'query'; sql: string; params?: unknown[]; prepare?: boolean }
  | { op: 'exec'; sql: string }
  | { op: 'begin' }
  | { op: 'txQuery'; tx: number; sql: string; params?: unknown[] }
  | { op: 'end'; tx: number; commit: boolean }
  | { op: 'snapshot' }
  | { op: 'close' }
);

/** Reply 0 is the thread's own: the database opened, or why it did not. */
export type ThreadReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ErrorFields };

export type ErrorFields = { name: string; message: string; [field: string]: unknown };

/**
 * What a thrown value says, as data a message can carry: an Error's name
 * and message, and the fields PostgreSQL fills in (code, detail, constraint,
 * position...), which callers test.
 */
export function errorFields(err: unknown): ErrorFields {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const out: ErrorFields = { name: err.name, message: err.message };
  for (const [k, v] of Object.entries(err)) {
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * The error as the main thread throws it: a new Error whose stack is the
 * caller's (where the query was made), with the thread's name, message and
 * fields.
 */
export function rebuildError(fields: ErrorFields, caller?: Error): Error {
  const err = new Error(fields.message);
  const { name, message: _message, ...rest } = fields;
  Object.assign(err, rest);
  err.name = name;
  if (caller?.stack)
    err.stack = `${name}: ${fields.message}\n${caller.stack.split('\n').slice(1).join('\n')}`;
  return err;
}
