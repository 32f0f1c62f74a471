// deploy/docker-compose.yml and deploy/Dockerfile cannot run here (no Docker
// engine), so this checks what can drift without one noticing: every
// variable the compose file gives Warden is a setting Warden reads, every
// command and option it runs exists, the health checks ask the ports the
// processes listen on, and the image runs the entry point the build makes.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { domains } from '../src/config/domains.ts';
import { runWarden } from './helpers/cli.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
type Service = {
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
};
const compose = parse(readFileSync(`${root}deploy/docker-compose.yml`, 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const warden = ['warden-main', 'warden-worker'].map((n) => [n, compose.services[n]!] as const);
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
    // The base image's Node satisfies engines (>=20.19 runs on node:20).
    expect(dockerfile).toMatch(/^FROM node:20-/m);
    expect(pkg.engines.node).toBe('>=20.19');
  });
});
