// The main process loads the MCP SDK (about 10 MB of its memory) when a
// client first calls a local MCP server, not at start: a Warden nobody
// reaches over MCP never holds it. Seen from inside a real `warden start`
// through a module resolution hook that notes every SDK module resolved.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { RunningWarden } from './helpers/cli.ts';
import { startWarden } from './helpers/cli.ts';
import { initializeRequest, mcpHeaders } from './helpers/mcp-http.ts';

describe('the MCP SDK in the main process', () => {
  let dir: string;
  let warden: RunningWarden;
  const seen = () => {
    const log = join(dir, 'sdk-modules.log');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-mcp-lazy-'));
    writeFileSync(
      join(dir, 'hook.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('@modelcontextprotocol/sdk')) appendFileSync(${JSON.stringify(join(dir, 'sdk-modules.log'))}, r.url + '\\n');
  return r;
}
`,
    );
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});\n`,
    );
    warden = await startWarden({
      cwd: dir,
      env: {
        WARDEN_DATA_DIR: join(dir, 'data'),
        WARDEN_HEAL_ENABLED: 'false',
        NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}`,
      },
      waitMs: 120_000,
    });
  }, 150_000);
  afterAll(async () => {
    await warden?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not loaded at start, and is at the first MCP request', async () => {
    // Started and answering: nothing of the SDK resolved.
    expect((await fetch(`${warden.url}/healthz`)).ok).toBe(true);
    expect(seen()).toEqual([]);

    const token = (
      JSON.parse(readFileSync(join(dir, 'data', 'control.json'), 'utf8')) as { token: string }
    ).token;
    const res = await fetch(`${warden.url}/mcp/thinking`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...mcpHeaders },
      body: JSON.stringify(initializeRequest),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeTruthy();
    await res.body?.cancel();
    // The first call loaded it (and the hook sees what is loaded).
    expect(seen().some((u) => u.includes('/server/streamableHttp.js'))).toBe(true);
  });
});
