// The Claude Desktop snippet in docs/mcp.md works from anywhere: each server
// is started exactly as the snippet says (command, args, env), from a
// directory that is not the checkout, and answers MCP. The snippet's
// placeholders are replaced as a reader would: /usr/bin/node by this node,
// /opt/warden/data by a fresh data directory, /opt/warden by this checkout,
// /home/me/notes by a directory to serve. The servers share the embedded
// data directory, so they run one after another, as the docs say.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const docs = readFileSync(join(root, 'docs/mcp.md'), 'utf8');

type Snippet = { command: string; args: string[]; env?: Record<string, string> };

const elsewhere = mkdtempSync(join(tmpdir(), 'warden-claude-cwd-'));
const dataDir = mkdtempSync(join(tmpdir(), 'warden-claude-data-'));
const notes = mkdtempSync(join(tmpdir(), 'warden-claude-notes-'));
writeFileSync(join(notes, 'hello.txt'), 'hello from the notes\n');

const local = [...docs.matchAll(/```json\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .find((j) => j.includes('"warden-memory"') && j.includes('/usr/bin/node'));
const servers = (
  JSON.parse(
    (local ?? '{}')
      .replaceAll('/usr/bin/node', process.execPath)
      .replaceAll('/opt/warden/data', dataDir)
      .replaceAll('/opt/warden', root.replace(/\/$/, ''))
      .replaceAll('/home/me/notes', notes),
  ) as { mcpServers?: Record<string, Snippet> }
).mcpServers;

async function connect(s: Snippet): Promise<Client> {
  const transport = new StdioClientTransport({
    command: s.command,
    args: s.args,
    env: { ...s.env, LOG_LEVEL: 'warn' },
    cwd: elsewhere,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'snippet-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

const toolNames = async (c: Client) => (await c.listTools()).tools.map((t) => t.name);

describe('the Claude Desktop snippet in docs/mcp.md', () => {
  afterAll(() => {
    for (const d of [elsewhere, dataDir, notes]) rmSync(d, { recursive: true, force: true });
  });

  it('names every local server with an absolute command', () => {
    expect(Object.keys(servers ?? {}).sort()).toEqual([
      'warden-files',
      'warden-memory',
      'warden-ops',
      'warden-thinking',
      'warden-workflows',
    ]);
    for (const s of Object.values(servers ?? {})) {
      expect(s.command).toBe(process.execPath);
      expect(s.args[0]).toBe(join(root, 'bin/warden.js'));
    }
  });

  const expected: Record<string, string[]> = {
    'warden-memory': ['create_entities', 'read_graph'],
    'warden-thinking': ['sequentialthinking'],
    'warden-workflows': [],
    'warden-files': ['read_text_file', 'list_allowed_directories'],
    'warden-ops': ['diagnose', 'diagnose_vps', 'check_system_resources', 'list_docker_containers'],
  };
  for (const [name, tools] of Object.entries(expected)) {
    it(`starts ${name} from another directory and it answers`, async () => {
      const client = await connect(servers![name]!);
      try {
        const names = await toolNames(client);
        expect(names.length, name).toBeGreaterThan(0);
        expect(names).toEqual(expect.arrayContaining(tools));
        if (name === 'warden-files') {
          const r = await client.callTool({
            name: 'read_text_file',
            arguments: { path: join(notes, 'hello.txt') },
          });
          expect(JSON.stringify(r.content)).toContain('hello from the notes');
        }
        if (name === 'warden-ops') {
          // The original stack's names answer as the tools they name.
          for (const [old, now] of [
            ['check_system_resources', 'system_resources'],
            ['restart_docker_container', 'restart_container'],
          ] as const) {
            const args = old === 'restart_docker_container' ? { container: 'no-such-x' } : {};
            const a = await client.callTool({ name: old, arguments: args });
            const b = await client.callTool({ name: now, arguments: args });
            expect(a.isError ?? false, old).toBe(b.isError ?? false);
          }
          const d = await client.callTool({ name: 'diagnose_vps', arguments: {} });
          expect(JSON.stringify(d.content)).toContain('failedUnits');
        }
      } finally {
        await client.close();
      }
    }, 60_000);
  }
});
