// The local files MCP server: reading (and, when asked, writing) files inside
// a few allowed directories, in the spirit of the reference "filesystem"
// server. The tools only describe what to do; every path goes through the
// path guard (path-guard.ts), which opens it component by component from the
// root's descriptor, so `..`, NUL bytes, symlinks that lead out and
// directories swapped for symlinks while a tool runs are all refused before
// anything is read or written. Without `write` the write tools are not
// registered at all. Writes go to a temp file in the same (verified)
// directory and are renamed into place; they never write through a symlink.
import type { Stats } from 'node:fs';
import { join, resolve } from 'node:path';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { errorMessage, UserError } from '../errors.ts';
import type { Opened } from './path-guard.ts';
import {
  closeAll,
  errno,
  MAX_PATH,
  PathGuard,
  READ_FLAGS,
  refuse,
  resolveRoots,
} from './path-guard.ts';
import { guardTool, readOnly, toolText as text } from './tool-results.ts';

export { resolveRoots } from './path-guard.ts';

export type FilesServerOptions = {
  /** Absolute paths of existing directories; everything the tools touch stays inside them. */
  roots: readonly string[];
  /** Register the write tools. @default false */
  write?: boolean;
  version: string;
  /** Most bytes read_text_file returns. @default 1 MiB */
  maxReadBytes?: number;
  /** Most entries list_directory returns. @default 1000 */
  maxEntries?: number;
  /** Deepest directory_tree and search_files go. @default 8 */
  maxDepth?: number;
  /** Most paths search_files returns, and entries directory_tree returns. @default 500 / 2000 */
  maxResults?: number;
  maxTreeEntries?: number;
};

/**
 * Reads a file the guard opened (O_NONBLOCK: a FIFO opens at once and is
 * refused as not a regular file instead of waiting for a writer forever).
 */
async function readCapped(
  file: Opened,
  cap: number,
  opts: { head?: number; tail?: number },
): Promise<{ text: string; size: number; truncated: boolean }> {
  const fh = file.handle;
  const path = file.real;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new UserError('not_a_file', `${path} is not a regular file`);
    const size = st.size;
    if (size > cap && opts.head === undefined && opts.tail === undefined)
      throw new UserError(
        'file_too_large',
        `${path} has ${size} bytes, over the ${cap}-byte read cap; ask for head or tail lines`,
      );
    const length = Math.min(size, cap);
    const start = opts.tail !== undefined ? size - length : 0;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, start);
    let body = buf.subarray(0, bytesRead).toString('utf8');
    let truncated = size > cap;
    if (opts.head !== undefined) {
      const lines = body.split('\n');
      if (lines.length > opts.head) truncated = true;
      body = lines.slice(0, opts.head).join('\n');
    } else if (opts.tail !== undefined) {
      const lines = body.split('\n');
      if (body.endsWith('\n')) lines.pop();
      if (lines.length > opts.tail) truncated = true;
      body = lines.slice(-opts.tail).join('\n');
    }
    return { text: body, size, truncated };
  } finally {
    await closeAll(file);
  }
}

function globRegex(pattern: string): RegExp {
  const re = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${re}$`, 'i');
}

/** A name matcher: a glob (`*`, `?`) against the whole name, otherwise a case-insensitive substring. */
function nameMatcher(pattern: string): (name: string) => boolean {
  if (/[*?]/.test(pattern)) {
    const re = globRegex(pattern);
    return (name) => re.test(name);
  }
  const p = pattern.toLowerCase();
  return (name) => name.toLowerCase().includes(p);
}

function entryKind(e: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }) {
  return e.isSymbolicLink()
    ? 'symlink'
    : e.isDirectory()
      ? 'directory'
      : e.isFile()
        ? 'file'
        : 'other';
}

type TreeNode = { name: string; type: string; children?: TreeNode[] };

const pathArg = z.string().max(MAX_PATH).describe('a path inside an allowed directory');
const excludeArg = z
  .array(z.string().max(256))
  .max(50)
  .optional()
  .describe('names to skip (globs such as "node_modules" or "*.log")');

export function createFilesServer(options: FilesServerOptions): McpServer {
  const roots = resolveRoots(options.roots);
  const guard = new PathGuard(
    roots,
    options.roots.map((r) => resolve(r)),
  );
  const maxRead = options.maxReadBytes ?? 1_048_576;
  const maxEntries = options.maxEntries ?? 1000;
  const maxDepth = options.maxDepth ?? 8;
  const maxResults = options.maxResults ?? 500;
  const maxTree = options.maxTreeEntries ?? 2000;
  const write = options.write ?? false;

  const server = new McpServer(
    { name: 'warden-files', version: options.version },
    {
      instructions: `Files inside the allowed directories only (list_allowed_directories). Relative paths are taken against ${roots[0]}. Paths with "..", and symlinks leading outside, are refused. ${write ? 'Writes are atomic and never go through a symlink.' : 'Read-only: no write tools.'}`,
    },
  );

  // A filesystem error the path checks could not foresee (EACCES, EISDIR...) is an answer too.
  const run = <A>(fn: (args: A) => Promise<CallToolResult>) =>
    guardTool(fn, (err) => {
      const code = errno(err);
      return code ? text({ error: code, message: errorMessage(err) }, true) : undefined;
    });

  const readTool = run(
    async ({ path, head, tail }: { path: string; head?: number; tail?: number }) => {
      if (head !== undefined && tail !== undefined)
        throw new UserError('invalid_arguments', 'give head or tail, not both');
      const abs = guard.lexical(path);
      const out = await readCapped(await guard.openPath(abs, READ_FLAGS), maxRead, { head, tail });
      if (!out.truncated) return text(out.text);
      return {
        content: [
          { type: 'text', text: out.text },
          {
            type: 'text',
            text: `[partial: ${out.size} bytes in the file; at most ${maxRead} bytes are read]`,
          },
        ],
      };
    },
  );
  const readSchema = {
    path: pathArg,
    head: z.number().int().min(1).max(100_000).optional().describe('only the first N lines'),
    tail: z.number().int().min(1).max(100_000).optional().describe('only the last N lines'),
  };
  server.registerTool(
    'read_text_file',
    {
      title: 'Read a text file',
      description: `Reads a file as UTF-8 text. Files over ${maxRead} bytes need head or tail (lines).`,
      inputSchema: readSchema,
      annotations: readOnly,
    },
    readTool,
  );
  server.registerTool(
    'read_file',
    {
      title: 'Read a text file (alias)',
      description: 'Same as read_text_file.',
      inputSchema: readSchema,
      annotations: readOnly,
    },
    readTool,
  );

  server.registerTool(
    'list_directory',
    {
      title: 'List a directory',
      description: `Entries of one directory, each marked [DIR], [FILE] or [LINK]; at most ${maxEntries}.`,
      inputSchema: { path: pathArg },
      annotations: readOnly,
    },
    run(async ({ path }: { path: string }) => {
      const dir = await guard.openDir(guard.lexical(path));
      const entries = await guard.list(dir).finally(() => closeAll(dir));
      entries.sort((a, b) => a.name.localeCompare(b.name));
      const mark = { directory: '[DIR]', file: '[FILE]', symlink: '[LINK]', other: '[OTHER]' };
      const lines = entries.slice(0, maxEntries).map((e) => `${mark[entryKind(e)]} ${e.name}`);
      if (entries.length > maxEntries)
        lines.push(`[... ${entries.length - maxEntries} more entries not shown]`);
      return text(lines.join('\n') || '(empty)');
    }),
  );

  server.registerTool(
    'directory_tree',
    {
      title: 'Directory tree',
      description: `A JSON tree of names and types under a directory. Symlinks are shown, not followed. At most ${maxDepth} levels and ${maxTree} entries.`,
      inputSchema: {
        path: pathArg,
        maxDepth: z.number().int().min(1).max(maxDepth).optional().describe('levels to descend'),
        excludePatterns: excludeArg,
      },
      annotations: readOnly,
    },
    run(
      async ({
        path,
        maxDepth: depth,
        excludePatterns,
      }: {
        path: string;
        maxDepth?: number;
        excludePatterns?: string[];
      }) => {
        const top = await guard.openDir(guard.lexical(path));
        const excluded = (excludePatterns ?? []).map(nameMatcherExact);
        let count = 0;
        let truncated = false;
        // Each level is read through its own verified descriptor; a subdirectory
        // that is (or became) a symlink is not descended into.
        const walk = async (dir: Opened, level: number): Promise<TreeNode[]> => {
          const out: TreeNode[] = [];
          const entries = await guard.list(dir);
          entries.sort((a, b) => a.name.localeCompare(b.name));
          for (const e of entries) {
            if (excluded.some((m) => m(e.name))) continue;
            if (count >= maxTree) {
              truncated = true;
              break;
            }
            count++;
            const node: TreeNode = { name: e.name, type: entryKind(e) };
            if (e.isDirectory()) {
              if (level < (depth ?? maxDepth)) {
                const sub = await guard.child(dir, e.name, join(dir.real, e.name));
                if (sub) node.children = await walk(sub, level + 1).finally(() => closeAll(sub));
              } else truncated = true;
            }
            out.push(node);
          }
          return out;
        };
        const tree = await walk(top, 1).finally(() => closeAll(top));
        return text(truncated ? { tree, truncated: true } : tree);
      },
    ),
  );

  server.registerTool(
    'search_files',
    {
      title: 'Search for files by name',
      description: `Paths under a directory whose name matches a pattern: a glob (*, ?) against the whole name, or else a case-insensitive substring. Symlinks are not followed. At most ${maxResults} results.`,
      inputSchema: {
        path: pathArg,
        pattern: z.string().min(1).max(256).describe('glob or substring of the name'),
        excludePatterns: excludeArg,
      },
      annotations: readOnly,
    },
    run(
      async ({
        path,
        pattern,
        excludePatterns,
      }: {
        path: string;
        pattern: string;
        excludePatterns?: string[];
      }) => {
        const top = await guard.openDir(guard.lexical(path));
        const matches = nameMatcher(pattern);
        const excluded = (excludePatterns ?? []).map(nameMatcherExact);
        const found: string[] = [];
        let visited = 0;
        let truncated = false;
        const walk = async (dir: Opened, level: number) => {
          let entries;
          try {
            entries = await guard.list(dir);
          } catch {
            return;
          }
          for (const e of entries) {
            if (found.length >= maxResults || visited >= maxResults * 100) {
              truncated = true;
              return;
            }
            visited++;
            if (excluded.some((m) => m(e.name))) continue;
            const full = join(dir.real, e.name);
            if (matches(e.name)) found.push(full);
            if (e.isDirectory() && level < maxDepth) {
              const sub = await guard.child(dir, e.name, full);
              if (sub) await walk(sub, level + 1).finally(() => closeAll(sub));
            }
          }
        };
        await walk(top, 1).finally(() => closeAll(top));
        if (found.length === 0) return text('No matches found');
        return text(found.join('\n') + (truncated ? '\n[... search stopped at its cap]' : ''));
      },
    ),
  );

  server.registerTool(
    'get_file_info',
    {
      title: 'File information',
      description: 'Size, times, type and permissions of a file or directory.',
      inputSchema: { path: pathArg },
      annotations: readOnly,
    },
    run(async ({ path }: { path: string }) => {
      const abs = guard.lexical(path);
      const opened = await guard.openPath(abs, READ_FLAGS);
      const real = opened.real;
      const st = await opened.handle.stat().finally(() => closeAll(opened));
      return text({
        path: real,
        ...(real !== abs ? { requested: abs } : {}),
        type: st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other',
        size: st.size,
        created: st.birthtime.toISOString(),
        modified: st.mtime.toISOString(),
        accessed: st.atime.toISOString(),
        permissions: (st.mode & 0o777).toString(8),
      });
    }),
  );

  server.registerTool(
    'list_allowed_directories',
    {
      title: 'Allowed directories',
      description: `The directories this server may touch${write ? '' : ' (read-only)'}.`,
      inputSchema: {},
      annotations: readOnly,
    },
    run(async () => text({ roots, write })),
  );

  if (!write) return server;

  server.registerTool(
    'write_file',
    {
      title: 'Write a file',
      description:
        'Creates a file or replaces its whole content, atomically (temp file and rename). The parent directory must exist. Refuses symlinks and non-regular files at the target.',
      inputSchema: {
        path: pathArg,
        content: z
          .string()
          .max(maxRead * 10)
          .describe('the new content (UTF-8)'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    run(async ({ path, content }: { path: string; content: string }) => {
      const { dir, name } = await guard.parentOf(path);
      try {
        const target = join(dir.real, name);
        const stats = await writableEntry(guard, dir, name, target);
        await guard.writeAtomic(dir, name, content, stats ? stats.mode & 0o777 : 0o644);
        return text(`Wrote ${Buffer.byteLength(content)} bytes to ${target}`);
      } finally {
        await closeAll(dir);
      }
    }),
  );

  server.registerTool(
    'edit_file',
    {
      title: 'Edit a file',
      description:
        'Replaces exact text in a file: each oldText must occur exactly once. Applied in order, atomically; dryRun shows the changes without writing.',
      inputSchema: {
        path: pathArg,
        edits: z
          .array(
            z.object({
              oldText: z.string().min(1).max(100_000).describe('text to find (exactly once)'),
              newText: z.string().max(100_000).describe('its replacement'),
            }),
          )
          .min(1)
          .max(100),
        dryRun: z.boolean().optional().describe('only show what would change'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    run(
      async ({
        path,
        edits,
        dryRun,
      }: {
        path: string;
        edits: { oldText: string; newText: string }[];
        dryRun?: boolean;
      }) => {
        const { dir, name } = await guard.parentOf(path);
        try {
          const target = join(dir.real, name);
          const stats = await writableEntry(guard, dir, name, target);
          if (!stats) throw new UserError('not_found', `${path} does not exist`);
          let body = (
            await readCapped(await guard.openEntry(dir, name, READ_FLAGS, target), maxRead, {})
          ).text;
          const changes: string[] = [];
          for (const [i, e] of edits.entries()) {
            const at = body.indexOf(e.oldText);
            if (at < 0) throw new UserError('edit_not_found', `edit ${i + 1}: oldText not found`);
            if (body.indexOf(e.oldText, at + 1) >= 0)
              throw new UserError('edit_ambiguous', `edit ${i + 1}: oldText occurs more than once`);
            const line = body.slice(0, at).split('\n').length;
            body = body.slice(0, at) + e.newText + body.slice(at + e.oldText.length);
            changes.push(
              `@@ line ${line} @@\n${e.oldText
                .split('\n')
                .map((l) => `-${l}`)
                .join('\n')}\n${e.newText
                .split('\n')
                .map((l) => `+${l}`)
                .join('\n')}`,
            );
          }
          if (!dryRun) await guard.writeAtomic(dir, name, body, stats.mode & 0o777);
          return text(
            `${dryRun ? 'Dry run, nothing written' : `Edited ${target}`}:\n${changes.join('\n')}`,
          );
        } finally {
          await closeAll(dir);
        }
      },
    ),
  );

  server.registerTool(
    'create_directory',
    {
      title: 'Create a directory',
      description: 'Creates a directory and any missing parents; succeeds if it exists.',
      inputSchema: { path: pathArg },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    run(async ({ path }: { path: string }) => {
      const abs = guard.lexical(path);
      const made = await guard.openDir(abs, { create: true });
      await closeAll(made);
      return text(`Directory ${made.real} exists`);
    }),
  );

  server.registerTool(
    'move_file',
    {
      title: 'Move or rename',
      description:
        'Moves or renames a file or directory within the allowed directories. Refuses when the destination exists.',
      inputSchema: { source: pathArg, destination: pathArg },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    run(async ({ source, destination }: { source: string; destination: string }) => {
      const from = await guard.parentOf(source);
      let to: Awaited<ReturnType<PathGuard['parentOf']>> | undefined;
      try {
        const src = join(from.dir.real, from.name);
        // A symlink moves as the link itself.
        if (!(await guard.entryStats(from.dir, from.name, src)))
          throw new UserError('not_found', `${src} does not exist`);
        to = await guard.parentOf(destination);
        const dst = join(to.dir.real, to.name);
        if (await guard.entryStats(to.dir, to.name, dst))
          throw new UserError('destination_exists', `${dst} already exists`);
        await guard.move(from.dir, from.name, to.dir, to.name);
        return text(`Moved ${src} to ${dst}`);
      } finally {
        await closeAll(from.dir, to?.dir);
      }
    }),
  );

  return server;
}

/** The entry a write replaces: absent, or a regular file (never a symlink). */
async function writableEntry(
  guard: PathGuard,
  dir: Opened,
  name: string,
  shown: string,
): Promise<Stats | undefined> {
  const stats = await guard.entryStats(dir, name, shown);
  if (stats?.isSymbolicLink())
    throw refuse(`${shown} is a symbolic link; Warden does not write through symlinks`);
  if (stats && !stats.isFile()) throw refuse(`${shown} exists and is not a regular file`);
  return stats;
}

/** Exclusion patterns match the whole name: a glob or the exact name. */
function nameMatcherExact(pattern: string): (name: string) => boolean {
  const re = globRegex(pattern);
  return (name) => re.test(name);
}
