// The local files MCP server: reading (and, when asked, writing) files inside
// a few allowed directories, in the spirit of the reference "filesystem"
// server. Every path is resolved with realpath, following symlinks, and must
// stay inside a root: `..` segments, NUL bytes and symlinks that lead out are
// refused before anything is read or written. Without `write` the write
// tools are not registered at all. Writes go to a temp file in the same
// directory and are renamed into place; they never write through a symlink.
import { randomBytes } from 'node:crypto';
import { constants, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { errorMessage, UserError } from '../errors.ts';
import { guardTool, readOnly, toolText as text } from './tool-results.ts';

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

const MAX_PATH = 4096;

const refuse = (message: string) => new UserError('path_refused', `refused: ${message}`);

const errno = (err: unknown): string | undefined =>
  err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string'
    ? (err as NodeJS.ErrnoException).code
    : undefined;

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Resolves the configured roots: absolute, existing directories, by their real paths. */
export function resolveRoots(roots: readonly string[]): string[] {
  if (roots.length === 0)
    throw new UserError(
      'mcp_files_roots_missing',
      'no allowed directories: set WARDEN_MCP_FILES_ROOTS to comma-separated absolute paths',
    );
  const out: string[] = [];
  for (const root of roots) {
    if (!isAbsolute(root) || root.includes('\0'))
      throw new UserError(
        'mcp_files_root_invalid',
        `${root}: an allowed directory must be absolute`,
      );
    let real: string;
    try {
      real = realpathSync(root);
    } catch (err) {
      throw new UserError('mcp_files_root_invalid', `${root}: ${errorMessage(err)}`);
    }
    if (!statSync(real).isDirectory())
      throw new UserError('mcp_files_root_invalid', `${root}: not a directory`);
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

/** Path checks against a fixed set of real root directories. */
export class PathGuard {
  constructor(
    readonly roots: readonly string[],
    private readonly given: readonly string[] = roots,
  ) {}

  private inside(path: string): boolean {
    return this.roots.some((r) => within(path, r));
  }

  /** The lexical absolute path: no NUL, no `..`, relative paths against the first root, inside a root. */
  lexical(input: string): string {
    if (input.includes('\0')) throw refuse('the path contains a NUL byte');
    if (input.length === 0) throw refuse('the path is empty');
    if (input.length > MAX_PATH) throw refuse(`the path is longer than ${MAX_PATH} characters`);
    if (input.split(/[\\/]/).includes('..'))
      throw refuse(`${JSON.stringify(input)} contains a ".." segment`);
    const abs = resolve(this.roots[0]!, input);
    // A root may be given through a symlink (/tmp on some systems): accept either spelling here;
    // the real path is checked again below.
    const spelledRoots = [...this.roots, ...this.given];
    if (!spelledRoots.some((r) => within(abs, r)))
      throw refuse(`${abs} is outside the allowed directories (${this.roots.join(', ')})`);
    return abs;
  }

  private async real(path: string, shown: string): Promise<string> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new UserError('not_found', `${shown} does not exist`);
      if (errno(err) === 'ENAMETOOLONG') throw refuse(`${shown.slice(0, 80)}...: name too long`);
      throw new UserError('path_error', `${shown}: ${errorMessage(err)}`);
    }
    if (!this.inside(real))
      throw refuse(`${shown} leads outside the allowed directories (through a symlink)`);
    return real;
  }

  /** An existing path, symlinks followed, inside a root. */
  async existing(input: string): Promise<string> {
    const abs = this.lexical(input);
    return this.real(abs, abs);
  }

  /**
   * A path that may not exist yet: its nearest existing ancestor is resolved
   * with realpath and must be inside a root; the missing rest is appended.
   */
  async creatable(input: string): Promise<string> {
    const abs = this.lexical(input);
    const missing: string[] = [];
    let at = abs;
    for (;;) {
      try {
        await lstat(at);
        break;
      } catch (err) {
        if (errno(err) === 'ENAMETOOLONG') throw refuse(`${abs.slice(0, 80)}...: name too long`);
        if (errno(err) !== 'ENOENT')
          throw new UserError('path_error', `${at}: ${errorMessage(err)}`);
        const up = dirname(at);
        if (up === at) throw refuse(`${abs}: no existing parent`);
        missing.unshift(basename(at));
        at = up;
      }
    }
    const base = await this.real(at, abs);
    return missing.length ? join(base, ...missing) : base;
  }

  /**
   * A file to write: its parent directory must exist (real path inside a
   * root) and the file itself, if present, must be a regular file, not a
   * symlink.
   */
  async writable(input: string): Promise<{ path: string; stats: Stats | undefined }> {
    const abs = this.lexical(input);
    if (this.roots.includes(abs) || this.given.includes(abs))
      throw refuse(`${abs} is an allowed directory itself`);
    const parent = await this.real(dirname(abs), dirname(abs));
    const path = join(parent, basename(abs));
    let stats: Stats | undefined;
    try {
      stats = await lstat(path);
    } catch (err) {
      if (errno(err) !== 'ENOENT')
        throw new UserError('path_error', `${abs}: ${errorMessage(err)}`);
    }
    if (stats?.isSymbolicLink())
      throw refuse(`${abs} is a symbolic link; Warden does not write through symlinks`);
    if (stats && !stats.isFile()) throw refuse(`${abs} exists and is not a regular file`);
    return { path, stats };
  }
}

/** Writes a file atomically: a new temp file in the same directory, renamed over the target. */
export async function writeAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

async function readCapped(
  path: string,
  cap: number,
  opts: { head?: number; tail?: number },
): Promise<{ text: string; size: number; truncated: boolean }> {
  // O_NOFOLLOW: the path was resolved already; a symlink swapped in since is
  // refused. O_NONBLOCK: opening a FIFO would otherwise wait for a writer
  // forever; this way it opens at once and is refused as not a regular file.
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
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
    await fh.close();
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
      const real = await guard.existing(path);
      const out = await readCapped(real, maxRead, { head, tail });
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
      const real = await guard.existing(path);
      const entries = await readdir(real, { withFileTypes: true });
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
        const real = await guard.existing(path);
        const excluded = (excludePatterns ?? []).map(nameMatcherExact);
        let count = 0;
        let truncated = false;
        const walk = async (dir: string, level: number): Promise<TreeNode[]> => {
          const out: TreeNode[] = [];
          const entries = await readdir(dir, { withFileTypes: true });
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
              if (level < (depth ?? maxDepth))
                node.children = await walk(join(dir, e.name), level + 1);
              else truncated = true;
            }
            out.push(node);
          }
          return out;
        };
        const tree = await walk(real, 1);
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
        const real = await guard.existing(path);
        const matches = nameMatcher(pattern);
        const excluded = (excludePatterns ?? []).map(nameMatcherExact);
        const found: string[] = [];
        let visited = 0;
        let truncated = false;
        const walk = async (dir: string, level: number) => {
          let entries;
          try {
            entries = await readdir(dir, { withFileTypes: true });
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
            const full = join(dir, e.name);
            if (matches(e.name)) found.push(full);
            if (e.isDirectory() && level < maxDepth) await walk(full, level + 1);
          }
        };
        await walk(real, 1);
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
      const real = await guard.existing(path);
      const st = await stat(real);
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
      const target = await guard.writable(path);
      await writeAtomic(target.path, content, target.stats ? target.stats.mode & 0o777 : 0o644);
      return text(`Wrote ${Buffer.byteLength(content)} bytes to ${target.path}`);
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
        const target = await guard.writable(path);
        if (!target.stats) throw new UserError('not_found', `${path} does not exist`);
        let body = (await readCapped(target.path, maxRead, {})).text;
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
        if (!dryRun) await writeAtomic(target.path, body, target.stats.mode & 0o777);
        return text(
          `${dryRun ? 'Dry run, nothing written' : `Edited ${target.path}`}:\n${changes.join('\n')}`,
        );
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
      const target = await guard.creatable(path);
      await mkdir(target, { recursive: true, mode: 0o755 });
      // Check again: nothing on the way may have become a symlink leading out.
      await guard.existing(target);
      return text(`Directory ${target} exists`);
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
      const srcAbs = guard.lexical(source);
      if (roots.includes(srcAbs)) throw refuse(`${srcAbs} is an allowed directory itself`);
      const srcParent = await guard.existing(dirname(srcAbs));
      const src = join(srcParent, basename(srcAbs));
      await lstat(src); // ENOENT when missing; a symlink moves as the link itself
      const dstAbs = guard.lexical(destination);
      if (roots.includes(dstAbs)) throw refuse(`${dstAbs} is an allowed directory itself`);
      const dstParent = await guard.existing(dirname(dstAbs));
      const dst = join(dstParent, basename(dstAbs));
      try {
        await lstat(dst);
        throw new UserError('destination_exists', `${dst} already exists`);
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
      }
      await rename(src, dst);
      return text(`Moved ${src} to ${dst}`);
    }),
  );

  return server;
}

/** Exclusion patterns match the whole name: a glob or the exact name. */
function nameMatcherExact(pattern: string): (name: string) => boolean {
  const re = globRegex(pattern);
  return (name) => re.test(name);
}
