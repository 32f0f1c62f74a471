// The webhook route cache on a real database: a burst of requests for a
// route not in memory costs one lookup, not one per request; a change made
// in this process is seen at once; a change made by another process within
// twice the cache's life.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PgliteDb } from '../src/db/pglite-db.ts';
import { migrate } from '../src/db/migrate.ts';
import { WorkflowStore } from '../src/engine/workflow-store.ts';
import { webhookSetRespond } from './helpers/workflows.ts';

let db: PgliteDb;

beforeAll(async () => {
  db = await PgliteDb.open();
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');
  await migrate(db);
});

afterAll(() => db.close());

describe('webhook route cache', () => {
  it('answers a burst of lookups for one uncached route with one statement', async () => {
    const store = new WorkflowStore(db);
    const wf = await store.create(webhookSetRespond('burst'));
    await store.setActive(wf.id, true);
    const before = db.statementCount;
    const routes = await Promise.all(
      Array.from({ length: 40 }, () => store.findWebhook('POST', 'burst')),
    );
    expect(db.statementCount - before).toBe(1);
    expect(new Set(routes.map((r) => r?.workflowId))).toEqual(new Set([wf.id]));
  });

  it('sees a deactivation made in this process at once, and one made elsewhere within twice its life', async () => {
    const ttl = 100;
    const here = new WorkflowStore(db, ttl);
    const elsewhere = new WorkflowStore(db, ttl);
    const wf = await here.create(webhookSetRespond('switch'));
    await here.setActive(wf.id, true);
    expect(await here.findWebhook('POST', 'switch')).toMatchObject({ workflowId: wf.id });
    expect(await elsewhere.findWebhook('POST', 'switch')).toMatchObject({ workflowId: wf.id });

    await here.setActive(wf.id, false);
    expect(await here.findWebhook('POST', 'switch')).toBeNull();

    // The other process still has the route in memory; it is gone once its
    // entry is past both windows, whatever was answered in between.
    await new Promise((r) => setTimeout(r, 2 * ttl + 20));
    expect(await elsewhere.findWebhook('POST', 'switch')).toBeNull();
  });
});
