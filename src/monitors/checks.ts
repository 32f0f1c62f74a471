// The checks a monitor can run. Each answers ok or not with a one-line
// detail and its latency; none throws for a failing target.
import { connect } from 'node:net';

export type CheckResult = { ok: boolean; latencyMs: number; detail: string };

export type HttpCheck = {
  kind: 'http';
  url: string;
  /** @default "GET" */
  method?: 'GET' | 'HEAD' | 'POST';
  /** Accepted status codes; ranges like "200-299". @default ["200-399"] */
  expectStatus?: string[];
  /** The body must contain this text. */
  keyword?: string;
  /** Slower than this counts as down. */
  maxLatencyMs?: number;
};

export type TcpCheck = { kind: 'tcp'; host: string; port: number };

/** Runs a `read` action from the catalogue; exit code 0 is up. */
export type ActionCheck = { kind: 'action'; action: string; params?: Record<string, unknown> };

export type CheckSpec = HttpCheck | TcpCheck | ActionCheck;

/** Runs a catalogue action for an action check (provided by the exec layer). */
export type ActionRunner = (
  action: string,
  params: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<{ exitCode: number | null; output: string }>;

const keywordScanBytes = 1024 * 1024;

export function statusAccepted(status: number, accepted: string[] = ['200-399']): boolean {
  return accepted.some((spec) => {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(spec.trim());
    if (!m) return false;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    return status >= lo && status <= hi;
  });
}

async function readCapped(res: Response, cap: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < cap) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).toString('utf8');
}

export async function runHttpCheck(c: HttpCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(c.url, {
      method: c.method ?? 'GET',
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = c.keyword
      ? await readCapped(res, keywordScanBytes)
      : (await res.body?.cancel(), '');
    const latencyMs = elapsed();
    if (!statusAccepted(res.status, c.expectStatus)) {
      return {
        ok: false,
        latencyMs,
        detail: `HTTP ${res.status} (expected ${(c.expectStatus ?? ['200-399']).join(', ')})`,
      };
    }
    if (c.keyword && !body.includes(c.keyword)) {
      return {
        ok: false,
        latencyMs,
        detail: `HTTP ${res.status} but the body lacks "${c.keyword}"`,
      };
    }
    if (c.maxLatencyMs !== undefined && latencyMs > c.maxLatencyMs) {
      return {
        ok: false,
        latencyMs,
        detail: `answered in ${latencyMs} ms, over the ${c.maxLatencyMs} ms limit`,
      };
    }
    return { ok: true, latencyMs, detail: `HTTP ${res.status} in ${latencyMs} ms` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, latencyMs: elapsed(), detail: `request failed: ${why}` };
  }
}

export function runTcpCheck(c: TcpCheck, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host: c.host, port: c.port });
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({ ok, latencyMs: Math.round(performance.now() - started), detail });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no connection within ${timeoutMs} ms`));
    socket.once('connect', () => done(true, `port ${c.port} open`));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(false, `connect failed: ${err.code ?? err.message}`),
    );
  });
}

export async function runActionCheck(
  c: ActionCheck,
  timeoutMs: number,
  runner: ActionRunner | undefined,
): Promise<CheckResult> {
  const started = performance.now();
  if (!runner)
    return {
      ok: false,
      latencyMs: 0,
      detail: 'action checks need the action catalogue, which is not available',
    };
  try {
    const r = await runner(c.action, c.params ?? {}, AbortSignal.timeout(timeoutMs));
    const latencyMs = Math.round(performance.now() - started);
    const tail = r.output.trim().split('\n').slice(-1)[0]?.slice(0, 200) ?? '';
    return r.exitCode === 0
      ? { ok: true, latencyMs, detail: `${c.action} succeeded` }
      : {
          ok: false,
          latencyMs,
          detail: `${c.action} exited with ${r.exitCode}${tail ? `: ${tail}` : ''}`,
        };
  } catch (err) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      detail: `${c.action} could not run: ${(err as Error).message}`,
    };
  }
}

export function runCheck(
  spec: CheckSpec,
  timeoutMs: number,
  actions?: ActionRunner,
): Promise<CheckResult> {
  switch (spec.kind) {
    case 'http':
      return runHttpCheck(spec, timeoutMs);
    case 'tcp':
      return runTcpCheck(spec, timeoutMs);
    case 'action':
      return runActionCheck(spec, timeoutMs, actions);
  }
}
