// Open-loop load at a fixed rate: request i is due at start + i / rate,
// whether or not earlier ones have been answered, and its latency counts from
// when it was due, so a stall shows in the figures instead of slowing the
// sender down (no coordinated omission). autocannon's overallRate does not do
// this: each connection sends its share back to back at the top of every
// second, so "200/s" there is a burst of as many requests as connections.
import http from 'node:http';

export type ConstantRateResult = {
  sent: number;
  ok: number;
  errors: number;
  /** Requests answered per second over the run. */
  perSec: number;
  p50: number;
  p99: number;
  max: number;
};

export async function constantRate(options: {
  url: string;
  body: string;
  ratePerSec: number;
  seconds: number;
  /** Keep-alive sockets at most; a request waits for one when all are busy. @default 64 */
  maxSockets?: number;
}): Promise<ConstantRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const url = new URL(options.url);
  const total = Math.round(options.ratePerSec * options.seconds);
  const interval = 1000 / options.ratePerSec;
  const latencies: number[] = [];
  let errors = 0;
  let answered = 0;
  let sent = 0;
  const start = performance.now();

  const fire = (due: number) =>
    new Promise<void>((resolve) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(options.body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const ok = res.statusCode !== undefined && res.statusCode < 300;
            if (ok) latencies.push(performance.now() - due);
            else errors++;
            answered++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        answered++;
        resolve();
      });
      req.end(options.body);
    });

  const inFlight: Promise<void>[] = [];
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        inFlight.push(fire(start + sent * interval));
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - now));
      else done();
    };
    tick();
  });
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies.length
      ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
      : NaN;
  return {
    sent,
    ok: latencies.length,
    errors,
    perSec: answered / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? NaN,
  };
}
