// A small Docker Engine API client over its unix socket (node:http with
// socketPath): list, logs, inspect, restart. No docker CLI, no shell.
// Logs of a container without a TTY come multiplexed: 8-byte frames
// (stream, 0, 0, 0, big-endian length) that are split back into streams.
import { request } from 'node:http';

import { OperationalError, UserError } from '../errors.ts';

export type ContainerSummary = {
  id: string;
  names: string[];
  image: string;
  state: string;
  status: string;
};

export type DockerEngineOptions = {
  socketPath: string;
  /** @default 15000 */
  timeoutMs?: number;
  /** Largest response body read. @default 4 MiB */
  maxBodyBytes?: number;
};

const containerRef = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Splits a multiplexed log stream; a raw (TTY) stream is all stdout. */
export function demultiplex(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  const framed =
    buf.length >= 8 && [0, 1, 2].includes(buf[0]!) && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!framed) return { stdout: buf.toString('utf8'), stderr: '' };
  while (i + 8 <= buf.length) {
    const stream = buf[i]!;
    const len = buf.readUInt32BE(i + 4);
    const body = buf.subarray(i + 8, Math.min(i + 8 + len, buf.length));
    (stream === 2 ? err : out).push(body);
    i += 8 + len;
  }
  return {
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
  };
}

export class DockerEngine {
  constructor(private readonly options: DockerEngineOptions) {}

  private call(
    method: 'GET' | 'POST',
    path: string,
    signal?: AbortSignal,
  ): Promise<{ status: number; body: Buffer }> {
    const max = this.options.maxBodyBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.options.socketPath,
          method,
          path,
          headers: { host: 'docker', 'content-length': 0 },
          timeout: this.options.timeoutMs ?? 15_000,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size >= max) return;
            chunks.push(c);
            size += c.length;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, max) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) =>
        reject(
          new OperationalError(
            'docker_unavailable',
            `Docker Engine API at ${this.options.socketPath}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      req.end();
    });
  }

  private async json<T>(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.call(method, path, signal);
    this.check(res, path);
    return JSON.parse(res.body.toString('utf8')) as T;
  }

  private check(res: { status: number; body: Buffer }, path: string) {
    if (res.status >= 200 && res.status < 300) return;
    let message = res.body.toString('utf8').slice(0, 300);
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 404)
      throw new UserError('docker_not_found', `Docker: ${message}`, { status: 404 });
    throw new OperationalError('docker_error', `Docker ${path} answered ${res.status}: ${message}`);
  }

  private ref(id: string): string {
    if (typeof id !== 'string' || !containerRef.test(id))
      throw new UserError(
        'invalid_container',
        'container must be a name or id of letters, digits, _ . -',
      );
    return encodeURIComponent(id);
  }

  async ping(signal?: AbortSignal): Promise<boolean> {
    try {
      const res = await this.call('GET', '/_ping', signal);
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async list(all = true, signal?: AbortSignal): Promise<ContainerSummary[]> {
    const rows = await this.json<
      { Id: string; Names?: string[]; Image: string; State: string; Status: string }[]
    >('GET', `/containers/json?all=${all ? 1 : 0}`, signal);
    return rows.map((c) => ({
      id: c.Id.slice(0, 12),
      names: (c.Names ?? []).map((n) => n.replace(/^\//, '')),
      image: c.Image,
      state: c.State,
      status: c.Status,
    }));
  }

  async inspect(id: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const c = await this.json<Record<string, unknown>>(
      'GET',
      `/containers/${this.ref(id)}/json`,
      signal,
    );
    // Env often holds secrets; the model does not need them.
    const config = c.Config as Record<string, unknown> | undefined;
    if (config && 'Env' in config) config.Env = ['(hidden)'];
    return c;
  }

  async logs(
    id: string,
    tail: number,
    signal?: AbortSignal,
  ): Promise<{ stdout: string; stderr: string }> {
    const n = Math.max(1, Math.min(5000, Math.trunc(tail)));
    const path = `/containers/${this.ref(id)}/logs?stdout=1&stderr=1&timestamps=1&tail=${n}`;
    const res = await this.call('GET', path, signal);
    this.check(res, path);
    return demultiplex(res.body);
  }

  async restart(id: string, timeoutSeconds = 10, signal?: AbortSignal): Promise<void> {
    const path = `/containers/${this.ref(id)}/restart?t=${Math.max(0, Math.min(120, Math.trunc(timeoutSeconds)))}`;
    const res = await this.call('POST', path, signal);
    this.check(res, path);
  }
}
