// The path guard of the files MCP server: every path is opened one component
// at a time from a descriptor of its root and never looked up by name again,
// so another writer inside the root that swaps a directory for a symlink
// between a check and a use cannot lead an operation outside.
//
// How, without openat(2) in Node: `/proc/self/fd/N/name` is looked up by the
// kernel inside the very directory that descriptor N refers to (the fd entry
// is a "magic link" to the open file, not to whatever now bears its old
// name), so opening it is openat(N, name). Each step opens
// `/proc/self/fd/<dir>/<component>` with O_DIRECTORY|O_NOFOLLOW: a component
// that is a symlink fails (ENOTDIR/ELOOP) instead of being followed. Its
// target is then read with readlink and resolved here, lexically, against
// the real path of the directory it sits in; a target inside a root is walked
// again the same way from that root's descriptor, one leading out is refused.
// After every open the descriptor's own link (/proc/self/fd/N) is read and
// must lie inside the root: that catches a directory moved out (or deleted)
// while it is held. The leaf is opened with O_NOFOLLOW through a verified
// directory; new entries are made with mkdir or O_CREAT|O_EXCL (neither
// follows a symlink) through such a directory too, and atomic writes create
// their temp file and rename it inside one verified directory descriptor,
// checking the temp file's own descriptor link before writing.
//
// Not covered: hard links placed inside a root by someone else (a hard link
// is the file itself; no path check can tell it apart), and a root whose
// ancestors are changed by someone with rights outside the roots.
import { randomBytes } from 'node:crypto';
import { constants, existsSync, realpathSync, statSync } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, mkdir, open, readdir, readlink, rename, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import { errorMessage, UserError } from '../errors.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
// Symlinks followed in one lookup, as the kernel's own limit.
const MAX_HOPS = 40;
export const MAX_PATH = 4096;

export const refuse = (message: string) => new UserError('path_refused', `refused: ${message}`);

export const errno = (err: unknown): string | undefined =>
  err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string'
    ? (err as NodeJS.ErrnoException).code
    : undefined;

function within(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The kernel path of an open descriptor, or of a name inside an open directory. */
const fdPath = (fd: number, name?: string) =>
  name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;

/** An open descriptor whose real path was checked to lie inside `root`. */
export type Opened = { handle: FileHandle; real: string; root: string };

/** The path by which a name inside an open, verified directory is reached. */
export const inside = (dir: Opened, name: string) => fdPath(dir.handle.fd, name);

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

function translate(err: unknown, shown: string): Error {
  const code = errno(err);
  if (code === 'ENOENT') return new UserError('not_found', `${shown} does not exist`);
  if (code === 'ENAMETOOLONG') return refuse(`${shown.slice(0, 80)}...: name too long`);
  if (code === 'ENOTDIR')
    return new UserError('not_a_directory', `${shown}: a part of the path is not a directory`);
  return err instanceof Error ? err : new Error(String(err));
}

export async function closeAll(...opened: (Opened | undefined)[]): Promise<void> {
  for (const o of opened) await o?.handle.close().catch(() => {});
}

/** Opens paths inside a fixed set of real root directories, safe against concurrent swaps. */
export class PathGuard {
  /** Each spelling of a root (as given, and real) with its real path, longest first. */
  private readonly spellings: { spelled: string; real: string }[];

  constructor(
    readonly roots: readonly string[],
    given: readonly string[] = roots,
  ) {
    if (!existsSync('/proc/self/fd'))
      throw new UserError(
        'mcp_files_unsupported',
        'the files server needs /proc/self/fd (Linux with /proc mounted)',
      );
    const pairs = roots.map((r) => ({ spelled: r, real: r }));
    for (const g of given) {
      const real = realpathSync(g);
      if (roots.includes(real)) pairs.push({ spelled: g, real });
    }
    this.spellings = pairs.sort((a, b) => b.spelled.length - a.spelled.length);
  }

  /** The lexical absolute path: no NUL, no `..`, relative paths against the first root, inside a root. */
  lexical(input: string): string {
    if (input.includes('\0')) throw refuse('the path contains a NUL byte');
    if (input.length === 0) throw refuse('the path is empty');
    if (input.length > MAX_PATH) throw refuse(`the path is longer than ${MAX_PATH} characters`);
    if (input.split(/[\\/]/).includes('..'))
      throw refuse(`${JSON.stringify(input)} contains a ".." segment`);
    const abs = resolve(this.roots[0]!, input);
    if (!this.locate(abs))
      throw refuse(`${abs} is outside the allowed directories (${this.roots.join(', ')})`);
    return abs;
  }

  /** True when the lexical path names an allowed directory itself. */
  isRoot(abs: string): boolean {
    return this.spellings.some((s) => s.spelled === abs);
  }

  private locate(abs: string): { root: string; parts: string[] } | undefined {
    const s = this.spellings.find((x) => within(abs, x.spelled));
    if (!s) return undefined;
    return { root: s.real, parts: relative(s.spelled, abs).split(sep).filter(Boolean) };
  }

  /** Reads the descriptor's own link and refuses it unless it lies inside the root. */
  private async verify(handle: FileHandle, root: string, shown: string): Promise<Opened> {
    let real: string;
    try {
      real = await readlink(fdPath(handle.fd));
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    if (real.endsWith(' (deleted)') || !within(real, root)) {
      await handle.close().catch(() => {});
      throw refuse(`${shown} leads outside the allowed directories (it moved while opened)`);
    }
    return { handle, real, root };
  }

  private async openRoot(root: string, shown: string): Promise<Opened> {
    const handle = await open(root, DIR_FLAGS).catch((err: unknown) => {
      throw translate(err, shown);
    });
    const o = await this.verify(handle, root, shown);
    if (o.real !== root) {
      await closeAll(o);
      throw refuse(`${root}: the allowed directory itself was replaced`);
    }
    return o;
  }

  /**
   * Where a symlink met at `name` in `dir` leads: the absolute target, which
   * must lie inside a root. Undefined when `name` is not a symlink after all.
   */
  private async follow(
    dir: Opened,
    name: string,
    rest: readonly string[],
    shown: string,
  ): Promise<string | undefined> {
    let link: string;
    try {
      link = await readlink(inside(dir, name));
    } catch (err) {
      if (errno(err) === 'EINVAL') return undefined;
      throw translate(err, shown);
    }
    const target = resolve(dir.real, link, ...rest);
    if (!this.locate(target))
      throw refuse(`${shown} leads outside the allowed directories (through a symlink)`);
    return target;
  }

  /**
   * Opens a directory, following symlinks that stay inside a root. With
   * `create`, missing directories on the way are made (mode 0755).
   */
  async openDir(abs: string, options: { shown?: string; create?: boolean } = {}): Promise<Opened> {
    const shown = options.shown ?? abs;
    let target = abs;
    for (let hops = 0; hops <= MAX_HOPS; hops++) {
      const at = this.locate(target);
      if (!at) throw refuse(`${shown} leads outside the allowed directories (through a symlink)`);
      let dir = await this.openRoot(at.root, shown);
      let restart: string | undefined;
      try {
        for (let i = 0; i < at.parts.length && restart === undefined; i++) {
          const name = at.parts[i]!;
          const next = await this.step(dir, name, at.parts.slice(i + 1), shown, options.create);
          if (typeof next === 'string') restart = next;
          else {
            await closeAll(dir);
            dir = next;
          }
        }
      } catch (err) {
        await closeAll(dir);
        throw err;
      }
      if (restart === undefined) return dir;
      await closeAll(dir);
      target = restart;
    }
    throw refuse(`${shown}: too many levels of symbolic links`);
  }

  /** One component: the opened directory, or the absolute path a symlink there leads to. */
  private async step(
    dir: Opened,
    name: string,
    rest: readonly string[],
    shown: string,
    create = false,
  ): Promise<Opened | string> {
    for (let attempt = 0; attempt < 4; attempt++) {
      let handle: FileHandle;
      try {
        handle = await open(inside(dir, name), DIR_FLAGS);
      } catch (err) {
        const code = errno(err);
        if (code === 'ENOTDIR' || code === 'ELOOP') {
          const target = await this.follow(dir, name, rest, shown);
          if (target !== undefined) return target;
          // Not a symlink (any more): a file, or a swap in progress; look again.
          if (attempt < 3) continue;
          throw translate(err, shown);
        }
        if (code === 'ENOENT' && create) {
          await mkdir(inside(dir, name), 0o755).catch((e: unknown) => {
            if (errno(e) !== 'EEXIST') throw translate(e, shown);
          });
          continue;
        }
        throw translate(err, shown);
      }
      return this.verify(handle, dir.root, shown);
    }
    throw refuse(`${shown}: the path kept changing while it was opened`);
  }

  /**
   * Opens any existing path (file or directory) with `flags`, following
   * symlinks that stay inside a root; O_NOFOLLOW is always added.
   */
  async openPath(abs: string, flags: number, shown = abs): Promise<Opened> {
    let target = abs;
    for (let hops = 0; hops <= MAX_HOPS; hops++) {
      const at = this.locate(target);
      if (!at) throw refuse(`${shown} leads outside the allowed directories (through a symlink)`);
      if (at.parts.length === 0) return this.openRoot(at.root, shown);
      const dir = await this.openDir(dirname(target), { shown });
      try {
        const name = basename(target);
        let handle: FileHandle;
        try {
          handle = await open(inside(dir, name), flags | O_NOFOLLOW);
        } catch (err) {
          const code = errno(err);
          const next =
            code === 'ELOOP' || code === 'ENOTDIR'
              ? await this.follow(dir, name, [], shown)
              : undefined;
          if (next === undefined) throw translate(err, shown);
          target = next;
          continue;
        }
        return await this.verify(handle, dir.root, shown);
      } finally {
        await closeAll(dir);
      }
    }
    throw refuse(`${shown}: too many levels of symbolic links`);
  }

  /** An entry of a verified directory, opened with `flags`; a symlink there is refused, not followed. */
  async openEntry(dir: Opened, name: string, flags: number, shown: string): Promise<Opened> {
    const handle = await open(inside(dir, name), flags | O_NOFOLLOW).catch((err: unknown) => {
      if (errno(err) === 'ELOOP') throw refuse(`${shown} is a symbolic link`);
      throw translate(err, shown);
    });
    return this.verify(handle, dir.root, shown);
  }

  /** An entry of a directory, not followed when it is a symlink: its lstat, or undefined. */
  async entryStats(dir: Opened, name: string, shown: string): Promise<Stats | undefined> {
    try {
      return await lstat(inside(dir, name));
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw translate(err, shown);
    }
  }

  /**
   * The directory that will hold a new or replaced entry, opened and
   * verified, and the entry's name. The allowed directories themselves are
   * refused.
   */
  async parentOf(input: string): Promise<{ dir: Opened; name: string; abs: string }> {
    const abs = this.lexical(input);
    if (this.isRoot(abs)) throw refuse(`${abs} is an allowed directory itself`);
    const dir = await this.openDir(dirname(abs), { shown: dirname(abs) });
    return { dir, name: basename(abs), abs };
  }

  /** A subdirectory of an open one, not followed if it is (or became) a symlink. */
  async child(dir: Opened, name: string, shown: string): Promise<Opened | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(inside(dir, name), DIR_FLAGS);
    } catch {
      return undefined;
    }
    return this.verify(handle, dir.root, shown);
  }

  /** The entries of an open directory. */
  async list(dir: Opened): Promise<Dirent[]> {
    return readdir(fdPath(dir.handle.fd), { withFileTypes: true });
  }

  /**
   * Writes a file atomically: a temp file created (O_EXCL, never through a
   * symlink) in the verified directory, checked, written, synced, and renamed
   * over `name` within that same directory.
   */
  async writeAtomic(dir: Opened, name: string, content: string, mode = 0o644): Promise<void> {
    const tmpName = `.${name.slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`;
    const tmp = inside(dir, tmpName);
    const fh = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode).catch(
      (err: unknown) => {
        throw translate(err, join(dir.real, name));
      },
    );
    try {
      await this.verify(fh, dir.root, join(dir.real, tmpName));
      await fh.writeFile(content, 'utf8');
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
    await fh.close();
    try {
      await rename(tmp, inside(dir, name));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  /** Moves an entry between two verified directories (the names are not followed). */
  async move(from: Opened, fromName: string, to: Opened, toName: string): Promise<void> {
    await rename(inside(from, fromName), inside(to, toName));
  }
}

/** Flags that open anything readable without waiting on a FIFO. */
export const READ_FLAGS = O_RDONLY | O_NONBLOCK;
