// The files and workflows MCP servers through the SDK client: reads stay
// inside the allowed roots, every way out (.., absolute paths, symlinks,
// symlinked parents, NUL, overlong names) is refused and touches nothing,
// read-only mode has no write tools, writes are atomic and never go through
// a symlink; workflows run on the engine. One test spawns the real
// `warden mcp files` over stdio.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFilesServer } from '../src/mcp/files-server.ts';
import { createWorkflowsServer } from '../src/mcp/workflows-server.ts';
import type { TestServices } from './helpers/services.ts';
import { makeTestServices } from './helpers/services.ts';

const warden = fileURLToPath(new URL('../bin/warden.js', import.meta.url));

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

async function connect(server: McpServer): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'files-test', version: '1' });
  await client.connect(clientSide);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = r.content.map((c) => c.text).join('\n');
  if (!r.isError) return { isError: false, text };
  // Refusals come as {error, message}; SDK validation errors as plain text.
  try {
    const e = JSON.parse(text) as { error: string; message: string };
    return { isError: true, text: `${e.error}: ${e.message}` };
  } catch {
    return { isError: true, text };
  }
}

describe('warden mcp files', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-files-')));
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  let ro: Client;
  let rw: Client;

  beforeAll(async () => {
    mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(root, 'hello.txt'), 'hello\nworld\n');
    writeFileSync(join(root, 'sub', 'notes.md'), '# notes\n');
    writeFileSync(join(root, 'sub', 'deep', 'x.log'), 'x');
    writeFileSync(join(root, 'big.txt'), `${'line\n'.repeat(300_000)}last\n`);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
    symlinkSync(outside, join(root, 'dir-out'));
    symlinkSync(join(root, 'hello.txt'), join(root, 'link-in.txt'));
    ro = await connect(createFilesServer({ roots: [root], version: 't' }));
    rw = await connect(createFilesServer({ roots: [root], write: true, version: 't' }));
  });
  afterAll(async () => {
    await ro?.close();
    await rw?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('reads, lists, searches and describes inside the root', async () => {
    expect(await call(ro, 'read_text_file', { path: 'hello.txt' })).toEqual({
      isError: false,
      text: 'hello\nworld\n',
    });
    expect((await call(ro, 'read_file', { path: join(root, 'sub/notes.md') })).text).toBe(
      '# notes\n',
    );
    // A symlink that stays inside the root is followed.
    expect((await call(ro, 'read_text_file', { path: 'link-in.txt' })).text).toBe('hello\nworld\n');
    const list = await call(ro, 'list_directory', { path: '.' });
    expect(list.text).toContain('[DIR] sub');
    expect(list.text).toContain('[FILE] hello.txt');
    expect(list.text).toContain('[LINK] dir-out');
    const tree = JSON.parse((await call(ro, 'directory_tree', { path: 'sub' })).text) as unknown;
    expect(tree).toEqual([
      {
        name: 'deep',
        type: 'directory',
        children: [{ name: 'x.log', type: 'file' }],
      },
      { name: 'notes.md', type: 'file' },
    ]);
    const found = await call(ro, 'search_files', { path: '.', pattern: '*.log' });
    expect(found.text).toBe(join(root, 'sub', 'deep', 'x.log'));
    // The search does not descend through the symlink leading out.
    expect((await call(ro, 'search_files', { path: '.', pattern: 'secret' })).text).toBe(
      'No matches found',
    );
    const info = JSON.parse((await call(ro, 'get_file_info', { path: 'hello.txt' })).text) as {
      size: number;
      type: string;
    };
    expect(info).toMatchObject({ size: 12, type: 'file' });
    expect(JSON.parse((await call(ro, 'list_allowed_directories')).text)).toEqual({
      roots: [root],
      write: false,
    });
  });

  it('caps reads: a large file needs head or tail', async () => {
    const whole = await call(ro, 'read_text_file', { path: 'big.txt' });
    expect(whole.isError).toBe(true);
    expect(whole.text).toMatch(/read cap; ask for head or tail/);
    expect((await call(ro, 'read_text_file', { path: 'big.txt', head: 2 })).text).toMatch(
      /^line\nline\n\[partial/,
    );
    expect((await call(ro, 'read_text_file', { path: 'big.txt', tail: 2 })).text).toMatch(
      /^line\nlast\n\[partial/,
    );
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [join(root, 'pipe')]);
    try {
      const r = await call(ro, 'read_text_file', { path: 'pipe' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('is not a regular file');
    } finally {
      rmSync(join(root, 'pipe'));
    }
  });

  it('refuses every way out of the root, with a clear message', async () => {
    const attempts: [string, RegExp][] = [
      ['../outside/secret.txt', /contains a "\.\." segment/],
      ['sub/../../outside/secret.txt', /contains a "\.\." segment/],
      [join(outside, 'secret.txt'), /outside the allowed directories/],
      ['/etc/passwd', /outside the allowed directories/],
      ['link-out.txt', /leads outside the allowed directories \(through a symlink\)/],
      ['dir-out/secret.txt', /leads outside the allowed directories/],
      ['hello.txt\0.png', /NUL byte/],
      [`${'a'.repeat(300)}.txt`, /name too long/],
      ['a/'.repeat(3000), /longer than|too_big|at most/i],
    ];
    for (const [path, message] of attempts) {
      for (const tool of ['read_text_file', 'get_file_info', 'list_directory']) {
        const r = await call(ro, tool, { path });
        expect(r.isError, `${tool} ${path.slice(0, 40)}`).toBe(true);
        expect(r.text, `${tool} ${path.slice(0, 40)}`).toMatch(message);
        expect(r.text).not.toContain('secret"');
      }
    }
  });

  it('has no write tools when read-only', async () => {
    const names = (await ro.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'directory_tree',
      'get_file_info',
      'list_allowed_directories',
      'list_directory',
      'read_file',
      'read_text_file',
      'search_files',
    ]);
    const write = await call(ro, 'write_file', { path: 'x.txt', content: 'x' });
    expect(write.isError).toBe(true);
    expect(existsSync(join(root, 'x.txt'))).toBe(false);
    const rwTools = (await rw.listTools()).tools;
    expect(rwTools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['write_file', 'edit_file', 'create_directory', 'move_file']),
    );
    for (const t of rwTools)
      expect(t.annotations?.readOnlyHint, t.name).toBe(
        !['write_file', 'edit_file', 'create_directory', 'move_file'].includes(t.name),
      );
  });

  it('writes atomically, edits, creates directories and moves inside the root', async () => {
    const w = await call(rw, 'write_file', { path: 'new.txt', content: 'one\ntwo\n' });
    expect(w.isError, w.text).toBe(false);
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('one\ntwo\n');
    await call(rw, 'write_file', { path: 'new.txt', content: 'three\n' });
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('three\n');
    // No temp files left behind.
    expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const dry = await call(rw, 'edit_file', {
      path: 'new.txt',
      edits: [{ oldText: 'three', newText: 'four' }],
      dryRun: true,
    });
    expect(dry.text).toMatch(/-three\n\+four/);
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('three\n');
    await call(rw, 'edit_file', {
      path: 'new.txt',
      edits: [{ oldText: 'three', newText: 'four' }],
    });
    expect(readFileSync(join(root, 'new.txt'), 'utf8')).toBe('four\n');
    const missing = await call(rw, 'edit_file', {
      path: 'new.txt',
      edits: [{ oldText: 'nope', newText: 'x' }],
    });
    expect(missing).toMatchObject({ isError: true, text: expect.stringMatching(/not found/) });

    expect((await call(rw, 'create_directory', { path: 'made/a/b' })).isError).toBe(false);
    expect(existsSync(join(root, 'made', 'a', 'b'))).toBe(true);
    expect(
      (await call(rw, 'move_file', { source: 'new.txt', destination: 'made/n.txt' })).isError,
    ).toBe(false);
    expect(readFileSync(join(root, 'made', 'n.txt'), 'utf8')).toBe('four\n');
    const clobber = await call(rw, 'move_file', { source: 'hello.txt', destination: 'made/n.txt' });
    expect(clobber).toMatchObject({ isError: true, text: expect.stringMatching(/already exists/) });
  });

  it('never writes through a symlink or outside the root', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['write_file', { path: 'link-out.txt', content: 'pwned' }, /symbolic link/],
      ['write_file', { path: 'link-in.txt', content: 'pwned' }, /symbolic link/],
      ['write_file', { path: 'dir-out/new.txt', content: 'pwned' }, /leads outside/],
      ['write_file', { path: '../outside/new.txt', content: 'pwned' }, /"\.\."/],
      ['write_file', { path: join(outside, 'new.txt'), content: 'pwned' }, /outside the allowed/],
      ['write_file', { path: 'n\0.txt', content: 'pwned' }, /NUL byte/],
      ['edit_file', { path: 'link-out.txt', edits: [{ oldText: 's', newText: 'p' }] }, /symbolic/],
      ['create_directory', { path: 'dir-out/made' }, /leads outside/],
      ['move_file', { source: 'hello.txt', destination: 'dir-out/hello.txt' }, /leads outside/],
      ['move_file', { source: 'dir-out/secret.txt', destination: 'stolen.txt' }, /leads outside/],
    ];
    for (const [tool, args, message] of cases) {
      const r = await call(rw, tool, args);
      expect(r.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(r.text, `${tool} ${JSON.stringify(args)}`).toMatch(message);
    }
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('hello\nworld\n');
    expect(existsSync(join(root, 'stolen.txt'))).toBe(false);
  });

  it('refuses to start without roots or with a root that is not a directory', () => {
    expect(() => createFilesServer({ roots: [], version: 't' })).toThrow(/WARDEN_MCP_FILES_ROOTS/);
    expect(() => createFilesServer({ roots: ['relative/dir'], version: 't' })).toThrow(/absolute/);
    expect(() => createFilesServer({ roots: [join(root, 'hello.txt')], version: 't' })).toThrow(
      /not a directory/,
    );
  });

  it('runs as `warden mcp files` over stdio', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [warden, 'mcp', 'files'],
      cwd: base,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        WARDEN_MCP_FILES_ROOTS: root,
        WARDEN_DATA_DIR: join(base, 'data'),
        LOG_LEVEL: 'silent',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('read_text_file');
      expect(names).not.toContain('write_file');
      expect(await call(client, 'read_text_file', { path: 'hello.txt' })).toEqual({
        isError: false,
        text: 'hello\nworld\n',
      });
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe('warden mcp workflows', () => {
  let s: TestServices;
  let client: Client;
  let workflowId: number;

  beforeAll(async () => {
    s = await makeTestServices('pglite');
    await s.engine.startWorker(2);
    const wf = await s.engine.createWorkflow({
      name: 'double',
      nodes: [
        { id: '1', name: 'Start', type: 'manual', parameters: {} },
        {
          id: '2',
          name: 'Double',
          type: 'set',
          parameters: { values: { doubled: '={{ n * 2 }}' }, keepOnlySet: true },
        },
      ],
      connections: { Start: { main: [[{ node: 'Double', index: 0 }]] } },
      settings: {},
    });
    workflowId = wf.id;
    client = await connect(createWorkflowsServer({ engine: s.engine, version: 't' }));
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await s?.dispose();
  });

  it('lists and reads workflows; only run_workflow changes anything', async () => {
    const tools = (await client.listTools()).tools;
    expect(tools.filter((t) => !t.annotations?.readOnlyHint).map((t) => t.name)).toEqual([
      'run_workflow',
    ]);
    const list = JSON.parse((await call(client, 'list_workflows')).text) as { name: string }[];
    expect(list).toEqual([expect.objectContaining({ id: workflowId, name: 'double' })]);
    const wf = JSON.parse((await call(client, 'get_workflow', { id: workflowId })).text) as {
      definition: { nodes: unknown[] };
    };
    expect(wf.definition.nodes).toHaveLength(2);
    const missing = await call(client, 'get_workflow', { id: 999_999 });
    expect(missing).toMatchObject({ isError: true, text: expect.stringMatching(/not_found/) });
  });

  it('runs a workflow, waits for its result and reads the execution', async () => {
    const ran = await call(client, 'run_workflow', {
      id: workflowId,
      items: [{ n: 2 }, { n: 5 }],
      wait: true,
      waitSeconds: 20,
    });
    expect(ran.isError, ran.text).toBe(false);
    const out = JSON.parse(ran.text) as { executionId: string; status: string; result: unknown };
    expect(out.status).toBe('succeeded');
    expect(JSON.stringify(out.result)).toContain('"doubled":10');

    const ex = JSON.parse(
      (await call(client, 'get_execution', { id: out.executionId, includeData: true })).text,
    ) as { status: string; steps: { node: string; status: string }[] };
    expect(ex.status).toBe('succeeded');
    expect(ex.steps.map((st) => [st.node, st.status])).toEqual([
      ['Start', 'succeeded'],
      ['Double', 'succeeded'],
    ]);

    // Without wait: the id comes back at once and the run ends on the worker.
    const queued = JSON.parse(
      (await call(client, 'run_workflow', { id: workflowId, items: [{ n: 1 }] })).text,
    ) as { executionId: string };
    await s.engine.waitForStatus(queued.executionId);
    const listed = JSON.parse(
      (await call(client, 'list_executions', { workflowId, status: 'succeeded' })).text,
    ) as { id: string }[];
    expect(listed.map((e) => e.id).sort()).toEqual([out.executionId, queued.executionId].sort());
  });
});
