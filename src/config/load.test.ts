import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError, configTableMarkdown, describeConfig, loadConfig } from './load.ts';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'warden-config-'));

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const c = loadConfig({ env: {}, cwd: emptyDir() });
    expect(c.server.port).toBe(5678);
    expect(c.database.url).toBeUndefined();
    expect(c.database.dataDir).toBe('./data');
  });

  it('names the variable and the problem for a bad value, and reports every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({
        env: { WARDEN_PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' },
        cwd: emptyDir(),
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/WARDEN_PORT \(server\.port\): .*number.*"eighty"/);
    expect(msg).toMatch(/DATABASE_URL \(database\.url\): must start with postgres:\/\//);
    expect(msg).toMatch(/LOG_LEVEL/);
    // A secret's value is never echoed back.
    expect(msg).not.toContain('mysql://x');
  });

  it('layers defaults < warden.yaml < .env < environment', () => {
    const dir = emptyDir();
    writeFileSync(
      join(dir, 'warden.yaml'),
      'server:\n  port: 7000\n  host: 127.0.0.1\nlog:\n  level: debug\n',
    );
    writeFileSync(join(dir, '.env'), 'WARDEN_PORT=7001\n');
    const c = loadConfig({ env: { LOG_LEVEL: 'warn' }, cwd: dir });
    expect(c.server.host).toBe('127.0.0.1'); // yaml
    expect(c.server.port).toBe(7001); // .env over yaml
    expect(c.log.level).toBe('warn'); // environment over all
  });

  it('refuses unknown sections and settings in warden.yaml, naming them', () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'warden.yaml'), 'server:\n  prot: 80\nservre:\n  port: 1\n');
    expect(() => loadConfig({ env: {}, cwd: dir })).toThrow(
      /unknown setting "server\.prot".*\n.*unknown section "servre"/s,
    );
  });

  it('masks secrets when describing the effective config', () => {
    const key = 'a'.repeat(64);
    const rows = describeConfig(
      loadConfig({
        env: { WARDEN_ENCRYPTION_KEY: key, DATABASE_URL: 'postgres://u:pw@h/db' },
        cwd: emptyDir(),
      }),
    );
    const text = JSON.stringify(rows);
    expect(text).not.toContain(key);
    expect(text).not.toContain('pw@h');
    expect(rows.find((r) => r.env === 'DATABASE_URL')?.value).toBe('********');
  });

  it('config print masks credentials inside every URL-valued setting', () => {
    const rows = describeConfig(
      loadConfig({
        env: {
          OLLAMA_URL: 'http://llmuser:llmpass@ollama.lan:11434',
          QDRANT_URL: 'https://qd:qdpass@qdrant.lan:6333',
          WARDEN_NOTIFY_WEBHOOK_URL: 'https://hooks.example/n?token=hooktoken&x=1',
          TELEGRAM_API_URL: 'https://tg.example/bot12345:tgsecret',
          REDIS_URL: 'redis://:redispass@cache:6379',
        },
        cwd: emptyDir(),
      }),
    );
    const text = JSON.stringify(rows);
    for (const secret of ['llmpass', 'llmuser', 'qdpass', 'hooktoken', 'tgsecret', 'redispass'])
      expect(text).not.toContain(secret);
    // Which server is meant stays readable.
    expect(rows.find((r) => r.env === 'OLLAMA_URL')?.value).toBe('http://***@ollama.lan:11434/');
  });
});

describe('docs/configuration.md table', () => {
  it('matches the config schemas (regenerate with npm run docs:config)', () => {
    const readme = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const m = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme);
    expect(m, 'docs/configuration.md has the config-table markers').toBeTruthy();
    expect(m![1]).toBe(configTableMarkdown());
  });
});
