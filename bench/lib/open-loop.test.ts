import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { runOpenLoop, spawnOpenLoop } from './open-loop.ts';

/** A server that answers nothing until `hold` requests have arrived, then answers them all. */
async function holdingServer(hold: number) {
  const waiting: (() => void)[] = [];
  let received = 0;
  const server = createServer((req, res) => {
    received++;
    req.resume();
    const answer = () => res.writeHead(req.url === '/fail' ? 500 : 200).end('{}');
    if (received >= hold) {
      for (const w of waiting.splice(0)) w();
      answer();
    } else waiting.push(answer);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, received: () => received };
}

let close: (() => void) | undefined;
afterEach(() => close?.());

describe('the open-loop generator', () => {
  it('keeps sending while no request has been answered (it never waits for answers)', async () => {
    const s = await holdingServer(30);
    close = () => s.server.close();
    const r = await runOpenLoop({
      url: `${s.url}/hook`,
      body: '{}',
      phases: [
        { name: '50/s', ratePerSec: 50, seconds: 0.4 },
        { name: '100/s', ratePerSec: 100, seconds: 0.1 },
      ],
    });
    expect(s.received()).toBe(30);
    expect(r.generator.sent).toBe(30);
    expect(r.generator.maxInFlight).toBe(30);
    expect(r.phases.map((p) => p.whole.count)).toEqual([20, 10]);
    // The first request waited for all the others, and its latency says so.
    expect(r.phases[0]!.whole.max).toBeGreaterThan(r.phases[1]!.whole.max);
  });

  it('counts non-2xx answers as errors by status', async () => {
    const s = await holdingServer(1);
    close = () => s.server.close();
    const r = await runOpenLoop({
      url: `${s.url}/fail`,
      body: '{}',
      phases: [{ name: '100/s', ratePerSec: 100, seconds: 0.05 }],
    });
    expect(r.phases[0]!.whole.errors).toBe(5);
    expect(r.phases[0]!.whole.count).toBe(0);
    expect(r.generator.errorsByCode).toEqual({ http_500: 5 });
  });

  it('runs as its own process, says when it started, and waits to be closed', async () => {
    const s = await holdingServer(1);
    close = () => s.server.close();
    const gen = spawnOpenLoop({
      url: `${s.url}/hook`,
      body: '{}',
      phases: [{ name: '20/s', ratePerSec: 20, seconds: 0.5 }],
    });
    expect(gen.pid).not.toBe(process.pid);
    expect(await gen.started).toBeGreaterThan(0);
    const r = await gen.result;
    expect(r.phases[0]!.whole.count).toBe(10);
    await gen.close();
  });
});
