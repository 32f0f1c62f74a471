// Embedded adapter with PGlite on a thread of its own (pglite-thread.ts).
// In one thread, PGlite's WebAssembly and the HTTP and engine work of the
// same executions take turns on one core; apart, a two-core machine runs
// both at once. A statement costs a message each way (tens of
// microseconds), which the batched writes of busy periods share.
//
// The same contract as PgliteDb (test/db-contract.ts): one connection,
// transactions that hold it, the process's own mutex for locks.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { Queryable, QueryOptions, QueryResult, Row } from './db.ts';
import type { EmbeddedDb, EmbeddedSnapshot, PgliteDbOptions } from './pglite-db.ts';
import { OneConnection } from './pglite-db.ts';
import type { ThreadReply, ThreadRequest } from './pglite-thread-protocol.ts';
import { rebuildError } from './pglite-thread-protocol.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; caller: Error };
type Request = ThreadRequest extends infer T ? (T extends unknown ? Omit<T, 'id'> : never) : never;

/**
 * A parameter as it must cross to the thread: values a message carries as
 * they are (primitives, arrays, Dates, byte arrays, plain objects) stay;
 * any other object (a class instance, perhaps with toJSON) becomes the JSON
 * it would have been sent as, since a message would drop its prototype.
 */
function portable(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v) || v instanceof Date || ArrayBuffer.isView(v)) return v;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null ? v : JSON.stringify(v);
}

export class PgliteThreadDb extends OneConnection implements EmbeddedDb {
  /** One statement runs at a time: the next batch gathers while it does. */
  readonly writeBatchesInFlight = 1;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the thread can no longer answer, once it cannot. */
  private stopped: Error | undefined;

  private constructor(private readonly worker: Worker) {
    super();
    worker.on('message', (reply: ThreadReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) =>
      this.fail(new Error(`the embedded database thread exited (code ${code})`)),
    );
  }

  /** Starts the thread and opens the database in it; rejects with PGlite's own error. */
  static async open(options: PgliteDbOptions = {}): Promise<PgliteThreadDb> {
    const self = import.meta.url;
    const ts = self.endsWith('.ts');
    const entry = new URL(`./pglite-thread.${ts ? 'ts' : 'js'}`, self);
    // From source (tests, a stale build), the thread compiles TypeScript as the process does.
    const tsx = () =>
      new URL(
        'dist/esm/api/index.mjs',
        pathToFileURL(createRequire(self).resolve('tsx/package.json')),
      ).href;
    const worker = ts
      ? new Worker(
          `import(${JSON.stringify(tsx())})` +
            `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
          { eval: true, workerData: options },
        )
      : new Worker(entry, { workerData: options });
    const db = new PgliteThreadDb(worker);
    try {
      await new Promise((resolve, reject) =>
        db.pending.set(0, { resolve, reject, caller: new Error() }),
      );
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    worker.unref();
    return db;
  }

  private settle(reply: ThreadReply) {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) p.resolve(reply.value);
    else p.reject(rebuildError(reply.error, p.caller));
  }

  private fail(err: Error) {
    this.stopped ??= err;
    for (const p of this.pending.values()) p.reject(this.stopped);
    this.pending.clear();
  }

  private call<T>(req: Request): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // While a reply is due the thread keeps the process alive; idle, it does not.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        caller: new Error(),
      });
      this.worker.postMessage({ ...req, id } as ThreadRequest);
    });
  }

  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    this.waiting++;
    this.statementCount++;
    try {
      return await this.call({
        op: 'query',
        sql,
        params: params?.map(portable),
        ...(options?.prepare ? { prepare: true } : {}),
      });
    } finally {
      this.waiting--;
    }
  }

  async exec(sql: string): Promise<void> {
    this.statementCount++;
    await this.call({ op: 'exec', sql });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.statementCount += 2;
    const tx = await this.call<number>({ op: 'begin' });
    let result: T;
    try {
      result = await fn({
        query: <R extends Row>(sql: string, params?: readonly unknown[]) => {
          this.statementCount++;
          return this.call<QueryResult<R>>({
            op: 'txQuery',
            tx,
            sql,
            params: params?.map(portable),
          });
        },
      });
    } catch (err) {
      await this.call({ op: 'end', tx, commit: false }).catch(() => {});
      throw err;
    }
    await this.call({ op: 'end', tx, commit: true });
    return result;
  }

  snapshot(): Promise<EmbeddedSnapshot> {
    return this.call({ op: 'snapshot' });
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    await this.call({ op: 'close' });
    this.stopped = new Error('the embedded database is closed');
    await this.worker.terminate();
  }
}
