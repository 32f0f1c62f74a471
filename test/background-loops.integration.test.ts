// The background loops on a database that is not there: each round fails,
// is logged and backed off, and nothing escapes as an unhandled rejection
// (which used to end the process: the scheduler's timer called a tick that
// threw when PostgreSQL restarted). Vitest fails a run on any unhandled
// rejection, so these tests also prove none escaped.
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { PostgresDb } from '../src/db/postgres-db.ts';
import { ExecutionStore } from '../src/engine/execution-store.ts';
import { Scheduler } from '../src/engine/scheduler.ts';
import { Sweeper } from '../src/engine/sweeper.ts';
import { WorkflowStore } from '../src/engine/workflow-store.ts';
import { freePort } from './helpers/processes.ts';
import { waitFor } from './helpers/wait.ts';

function recordingLogger() {
  const lines: { msg: string; failures?: number; retryInMs?: number }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    }),
  );
  return { logger, lines };
}

async function deadDatabase(): Promise<PostgresDb> {
  // Nothing listens on this port: every query fails as a connection error.
  return new PostgresDb({ url: `postgres://postgres@127.0.0.1:${await freePort()}/none` });
}

describe('background loops without a database', () => {
  it('regression: the scheduler logs its failed rounds and backs off instead of throwing from its timer', async () => {
    const db = await deadDatabase();
    const { logger, lines } = recordingLogger();
    const scheduler = new Scheduler({
      db,
      workflows: new WorkflowStore(db),
      executions: new ExecutionStore(db),
      logger,
      defaultTimeoutMs: 1000,
      enqueue: async () => {},
      checkMs: 10,
    });
    try {
      scheduler.start();
      await waitFor(
        () => lines.filter((l) => l.msg === 'scheduler round failed; retrying').length >= 2,
        'two failed rounds logged',
        10_000,
      );
      const failed = lines.filter((l) => l.msg === 'scheduler round failed; retrying');
      // Backed off: the second failure is counted as a streak, with a pause.
      expect(failed[1]).toMatchObject({ failures: 2 });
      expect(failed[1]!.retryInMs).toBeGreaterThan(0);
    } finally {
      scheduler.stop();
      await db.close();
    }
  });

  it('the sweep logs its failed rounds and backs off', async () => {
    const db = await deadDatabase();
    const { logger, lines } = recordingLogger();
    const sweeper = new Sweeper({
      db,
      executions: new ExecutionStore(db),
      logger,
      intervalMs: 10,
      requeueAfterMs: 1000,
      enqueue: async () => {},
    });
    try {
      sweeper.start();
      await waitFor(
        () => lines.filter((l) => l.msg === 'sweep failed').length >= 2,
        'two failed sweeps logged',
        10_000,
      );
      expect(lines.filter((l) => l.msg === 'sweep failed')[1]).toMatchObject({ failures: 2 });
    } finally {
      sweeper.stop();
      await db.close();
    }
  });
});
