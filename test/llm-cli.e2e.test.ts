// `warden models list|pull`, `warden doctor`, `warden memory reindex` and
// `warden memory search` as a
// user runs them: a child process, against the Ollama test server and a
// fresh PostgreSQL database.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OllamaTestServer } from './helpers/ollama-test-server.ts';
import type { TestDatabase } from './helpers/servers.ts';
import { createTestDatabase } from './helpers/servers.ts';
import { makeServicesOn } from './helpers/services-on.ts';
import type { TestServices } from './helpers/services.ts';

const bin = fileURLToPath(new URL('../bin/warden.js', import.meta.url));

let ollama: OllamaTestServer;
let db: TestDatabase;
let cwd: string;

function warden(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH,
          HOME: cwd,
          OLLAMA_URL: ollama.url,
          DATABASE_URL: db.url,
          LOG_LEVEL: 'error',
          ...env,
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  ollama = await OllamaTestServer.start();
  // A server where the reasoning model has not been pulled yet.
  ollama.models.delete('mistral:7b');
  db = await createTestDatabase();
  cwd = mkdtempSync(join(tmpdir(), 'warden-cli-'));
});
afterAll(async () => {
  await ollama?.close();
  await db?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('warden models', () => {
  it('lists each role with its model and whether it is present', async () => {
    const res = await warden(['models', 'list', '--json']);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as {
      reachable: boolean;
      roles: Array<{ role: string; model: string; present: boolean }>;
    };
    expect(report.reachable).toBe(true);
    expect(report.roles.map((r) => [r.role, r.model, r.present])).toEqual([
      ['orchestrator', 'qwen2.5-coder:3b-instruct', true],
      ['reasoning', 'mistral:7b', false],
      ['vision', 'llava:7b', false],
      ['embedding', 'nomic-embed-text', true],
      ['validator', 'phi3:mini', true],
    ]);
  });

  it('doctor reports the missing models and how to fix them, with exit code 1', async () => {
    const res = await warden(['doctor']);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('FAIL  model reasoning: mistral:7b is not on the server');
    expect(res.stdout).toContain('fix: run `warden models pull` (or `ollama pull mistral:7b`)');
    expect(res.stdout).toMatch(/ok +database: postgres, migrated/);
    expect(res.stdout).toContain('warn  pgvector');
  });

  it('pulls the missing models of the roles in use with plain progress lines off a terminal', async () => {
    const res = await warden(['models', 'pull']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('mistral:7b: pulling manifest');
    expect(res.stdout).toMatch(/mistral:7b [0-9a-f]{12} 50% of 4\.1 GB/);
    expect(res.stdout).toContain('mistral:7b: verifying sha256 digest');
    expect(res.stdout).toContain('pulled mistral:7b\n');
    // Nothing uses the vision role yet: its 4.7 GB model is not downloaded.
    expect(res.stdout).not.toContain('llava');
    expect(res.stdout).not.toContain('\x1b[');
    const list = JSON.parse((await warden(['models', 'list', '--json'])).stdout) as {
      roles: Array<{ role: string; present: boolean; inUse: boolean }>;
    };
    expect(list.roles.filter((r) => r.inUse).every((r) => r.present)).toBe(true);
    expect(list.roles.find((r) => r.role === 'vision')).toMatchObject({
      present: false,
      inUse: false,
    });
  });

  it('fails a pull of a model the registry does not have, with the server’s reason', async () => {
    const res = await warden(['models', 'pull', 'ghost:1b']);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain('failed ghost:1b');
    expect(res.stdout).toContain('file does not exist');
  });

  it('says the model server is unreachable', async () => {
    const res = await warden(['models', 'list'], {
      OLLAMA_URL: 'http://127.0.0.1:9',
      LLM_RETRIES: '0',
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('model server unreachable');
  });
});

describe('warden memory reindex', () => {
  it('re-embeds every incident with the configured embedder, with progress', async () => {
    const s: TestServices = await makeServicesOn(db.url, cwd, { OLLAMA_URL: ollama.url });
    try {
      for (const title of ['disk full on web-1', 'nginx 502', 'redis maxmemory'])
        await s.memory.remember({ title, outcome: 'resolved' });
    } finally {
      await s.close();
    }
    const stale = await warden(['memory', 'status', '--json'], { MEMORY_EMBEDDER: 'ollama' });
    expect(JSON.parse(stale.stdout)).toMatchObject({
      incidents: 3,
      stale: 3,
      embedder: 'ollama:nomic-embed-text',
    });
    const res = await warden(['memory', 'reindex', '--batch-size', '2'], {
      MEMORY_EMBEDDER: 'ollama',
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('reindexing 0/3\nreindexing 2/3\nreindexing 3/3\n');
    expect(res.stdout).toContain(
      'reindexed 3 incident(s) with ollama:nomic-embed-text into postgres-exact',
    );
    const after = await warden(['memory', 'status', '--json'], { MEMORY_EMBEDDER: 'ollama' });
    expect(JSON.parse(after.stdout)).toMatchObject({ incidents: 3, stale: 0 });
  });

  it('searches the reindexed memory, plainly or as JSON, and names a bad option', async () => {
    const env = { MEMORY_EMBEDDER: 'ollama' };
    const json = await warden(['memory', 'search', 'disk', 'full', 'on', 'web-1', '--json'], env);
    expect(json.code).toBe(0);
    const found = JSON.parse(json.stdout) as {
      threshold: number;
      matches: { incident: { title: string }; score: number; autoApply: boolean }[];
    };
    expect(found.threshold).toBe(0.85);
    expect(found.matches[0]!.incident.title).toBe('disk full on web-1');
    // Remembered without a fix: it never runs by itself.
    expect(found.matches.every((m) => !m.autoApply)).toBe(true);
    const plain = await warden(['memory', 'search', 'nginx 502', '--top', '1'], env);
    expect(plain.code).toBe(0);
    // The search reports what the real gate would do, with its reason.
    expect(plain.stdout).toMatch(/^ID\s+SCORE\s+SERVICE\s+TITLE\s+RISK\s+EVIDENCE\s+GATE$/m);
    expect(plain.stdout).toContain('nginx 502');
    expect(plain.stdout).toContain('not_nominated: the incident has no fix');
    const bad = await warden(['memory', 'search', 'x', '--top', '0'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--top must be a whole number from 1 to 20, not "0"');
  });
});
