// The Docker Engine API client over a unix socket: against the stand-in
// engine always, and against a real engine when its socket answers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { demultiplex, DockerEngine } from '../src/exec/docker-engine.ts';
import type { DockerEngineServer } from './helpers/docker-engine-server.ts';
import { startDockerEngineServer } from './helpers/docker-engine-server.ts';
import type { TestExec } from './helpers/exec.ts';
import { makeTestExec } from './helpers/exec.ts';

describe('Docker Engine API client (stand-in engine)', () => {
  let exec: TestExec;
  let engine: DockerEngineServer;
  beforeAll(async () => {
    exec = await makeTestExec();
    engine = await startDockerEngineServer(exec.config.exec.dockerSocket, [
      {
        id: 'a1b2c3d4e5f6a7b8',
        name: 'web',
        image: 'nginx:1.27',
        running: true,
        env: ['DB_PASSWORD=hunter2'],
        logs: [
          { stream: 1, line: 'GET / 200' },
          { stream: 2, line: 'upstream timed out' },
          { stream: 1, line: 'GET /health 200' },
        ],
      },
      { id: 'ffeeddccbbaa9988', name: 'worker', image: 'app:2', running: false, logs: [] },
    ]);
  });
  afterAll(async () => {
    await engine?.close();
    await exec?.dispose();
  });

  it('lists containers, running or not', async () => {
    expect(await exec.docker.list()).toEqual([
      {
        id: 'a1b2c3d4e5f6',
        names: ['web'],
        image: 'nginx:1.27',
        state: 'running',
        status: 'Up 2 hours',
      },
      {
        id: 'ffeeddccbbaa',
        names: ['worker'],
        image: 'app:2',
        state: 'exited',
        status: 'Exited (1) 5 minutes ago',
      },
    ]);
  });

  it('splits multiplexed logs into stdout and stderr and honours tail', async () => {
    expect(await exec.docker.logs('web', 100)).toEqual({
      stdout: 'GET / 200\nGET /health 200\n',
      stderr: 'upstream timed out\n',
    });
    expect(engine.requests.at(-1)?.url).toContain('tail=100');
    expect((await exec.docker.logs('web', 1)).stdout).toBe('GET /health 200\n');
  });

  it('inspects a container with its environment hidden', async () => {
    const c = await exec.docker.inspect('web');
    expect(c.State).toMatchObject({ Running: true });
    expect(JSON.stringify(c)).not.toContain('hunter2');
  });

  it('restarts through the catalogue action and audits it', async () => {
    const out = await exec.executor.runAction(
      'docker.restart',
      { container: 'worker' },
      { kind: 'mcp' },
    );
    expect(out).toMatchObject({ status: 'done', result: { restarted: 'worker', running: true } });
    expect(engine.restarts).toEqual(['worker']);
    expect(
      engine.requests.some(
        (r) => r.method === 'POST' && r.url === '/containers/worker/restart?t=10',
      ),
    ).toBe(true);
  });

  it('refuses container references that would leave the containers path', async () => {
    const before = engine.requests.length;
    await expect(exec.docker.logs('../../images/json', 1)).rejects.toThrow(/container must be/);
    await expect(exec.docker.inspect('web?all=1')).rejects.toThrow(/container must be/);
    expect(engine.requests.length).toBe(before);
  });

  it('reports an unknown container as not found', async () => {
    await expect(exec.docker.inspect('nope')).rejects.toMatchObject({ code: 'docker_not_found' });
  });

  it('reports an engine that is not there as unavailable', async () => {
    const absent = new DockerEngine({ socketPath: join(exec.dir, 'absent.sock') });
    await expect(absent.list()).rejects.toMatchObject({ code: 'docker_unavailable' });
    expect(await absent.ping()).toBe(false);
  });

  it('demultiplexes frames split across a chunk boundary and raw TTY output', () => {
    const head = Buffer.from([2, 0, 0, 0, 0, 0, 0, 3]);
    expect(demultiplex(Buffer.concat([head, Buffer.from('err')]))).toEqual({
      stdout: '',
      stderr: 'err',
    });
    expect(demultiplex(Buffer.from('plain tty output\n'))).toEqual({
      stdout: 'plain tty output\n',
      stderr: '',
    });
  });
});

const liveSocket = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
describe.runIf(existsSync(liveSocket))('Docker Engine API client (live engine)', () => {
  it('pings and lists containers on the real engine', async () => {
    const docker = new DockerEngine({ socketPath: liveSocket });
    expect(await docker.ping()).toBe(true);
    expect(Array.isArray(await docker.list())).toBe(true);
  });
});
