// The embedded database's own thread: PGlite runs here, and the process's
// main thread (HTTP, the engine) reaches it through messages
// (pglite-thread-db.ts). PGlite's WebAssembly is about half of what an
// execution costs; on its own thread it runs beside the main thread's work
// instead of taking turns with it on one core.
//
// The protocol: each request carries an id and gets one reply with that id,
// { ok: true, value } or { ok: false, error }. Requests are served as they
// come; PGlite itself runs one statement at a time, and a transaction holds
// it from `begin` to `end`, as it does in process.
import { parentPort, workerData } from 'node:worker_threads';

import { IdleGc } from '../idle-gc.ts';
import { createLogger } from '../log.ts';
import type { Queryable } from './db.ts';
import type { PgliteDbOptions } from './pglite-db.ts';
import { PgliteDb } from './pglite-db.ts';
import type { ThreadReply, ThreadRequest } from './pglite-thread-protocol.ts';
import { errorFields } from './pglite-thread-protocol.ts';

const port = parentPort!;
const options = workerData as PgliteDbOptions;

type OpenTx = { tx: Queryable; finish: (commit: boolean) => void; done: Promise<unknown> };
const rolledBack = Symbol('rolled back');

async function main() {
  let db: PgliteDb;
  try {
    db = await PgliteDb.open(options);
  } catch (err) {
    port.postMessage({ id: 0, ok: false, error: errorFields(err) } satisfies ThreadReply);
    return;
  }
  port.postMessage({ id: 0, ok: true, value: null } satisfies ThreadReply);
  // This thread's heap is its own: after a burst, it is collected here.
  const idleGc = new IdleGc({ logger: createLogger({ level: 'silent' }) });
  idleGc.start();

  const txs = new Map<number, OpenTx>();
  let nextTx = 1;

  const begin = () =>
    new Promise<number>((resolve, reject) => {
      const id = nextTx++;
      const done = db.transaction(
        (tx) =>
          new Promise((finishResolve, finishReject) => {
            txs.set(id, {
              tx,
              finish: (commit) => (commit ? finishResolve(undefined) : finishReject(rolledBack)),
              done,
            });
            resolve(id);
          }),
      );
      // BEGIN itself failed: the callback never ran.
      done.catch((err: unknown) => {
        if (!txs.has(id)) reject(err);
      });
    });

  const end = async (id: number, commit: boolean) => {
    const open = txs.get(id);
    if (!open) throw new Error(`no open transaction ${id} in the embedded database thread`);
    txs.delete(id);
    open.finish(commit);
    try {
      await open.done;
    } catch (err) {
      if (err !== rolledBack) throw err;
    }
  };

  const serve = async (
    req: ThreadRequest,
  ): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> => {
    switch (req.op) {
      case 'query':
        return { value: await db.query(req.sql, req.params, { prepare: req.prepare }) };
      case 'exec':
        await db.exec(req.sql);
        return { value: null };
      case 'begin':
        return { value: await begin() };
      case 'txQuery': {
        const open = txs.get(req.tx);
        if (!open) throw new Error(`no open transaction ${req.tx} in the embedded database thread`);
        return { value: await open.tx.query(req.sql, req.params) };
      }
      case 'end':
        await end(req.tx, req.commit);
        return { value: null };
      case 'snapshot': {
        const snap = await db.snapshot();
        // File contents move to the main thread without a copy when they
        // own their memory; the rest is copied.
        const transfer =
          snap.kind === 'tree'
            ? snap.tree.flatMap((e) => (ownsBuffer(e.data) ? [e.data.buffer as ArrayBuffer] : []))
            : ownsBuffer(snap.data)
              ? [snap.data.buffer as ArrayBuffer]
              : [];
        return { value: snap, transfer };
      }
      case 'close':
        idleGc.stop();
        await db.close();
        return { value: null };
    }
  };

  port.on('message', (req: ThreadRequest) => {
    serve(req).then(
      ({ value, transfer }) => {
        port.postMessage({ id: req.id, ok: true, value } satisfies ThreadReply, transfer ?? []);
        if (req.op === 'close') port.close();
      },
      (err: unknown) =>
        port.postMessage({ id: req.id, ok: false, error: errorFields(err) } satisfies ThreadReply),
    );
  });
}

function ownsBuffer(b: Uint8Array): boolean {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.byteLength > 0;
}

void main();
