// Database backups. PostgreSQL: pg_dump's custom format, restored with
// pg_restore in one transaction. Embedded PGlite: a gzipped tarball of the
// data directory, restored while Warden is stopped. Each backup has a JSON
// sidecar with its kind, time, size and SHA-256; a backup is written under a
// temporary name and renamed, so a crash never leaves a half backup that
// looks whole, and a restore checks the checksum first. The sidecar also
// names the database the backup is of, so the schedule and `doctor` judge
// only backups of the database in use (after a move from the embedded
// database to PostgreSQL, the old tarballs do not count as a recent backup).
// Backups hold password hashes, credential ciphertexts and the audit log:
// files are 0600 in a 0700 directory. An embedded archive that does not
// unpack is "damaged", cleanly, and leaves no half-unpacked directory.
// Programs run without a shell, and the password reaches pg_dump through its
// environment, never its command line.
import type { SpawnOptions } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  chmod,
  mkdir,
  open as openFile,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gunzip } from 'node:zlib';

import type { Config } from '../config/load.ts';
import { acquireDataLock } from '../db/data-lock.ts';
import type { Db } from '../db/db.ts';
import type { EmbeddedDb } from '../db/pglite-db.ts';
import { tarOf } from '../db/tar.ts';
import { UserError } from '../errors.ts';
import { auditPendingFile, writePendingReanchor } from '../exec/audit-anchor.ts';
import { syncPath, syncPathAsync, syncTree } from '../fs-sync.ts';
import type { Logger } from '../log.ts';

export type BackupKind = 'pg_dump' | 'pglite';

export type BackupInfo = {
  file: string;
  path: string;
  kind: BackupKind;
  createdAt: Date;
  bytes: number;
  sha256: string;
  /** Which database it is of (see BackupService.database); undefined in backups older than this field. */
  database?: string;
};

type Sidecar = {
  kind: BackupKind;
  createdAt: string;
  bytes: number;
  sha256: string;
  database?: string;
};

export type Progress = (message: string) => void;

type Spawn = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ReturnType<typeof spawn>;

export type BackupServiceOptions = {
  settings: Config['backup'];
  database: Config['database'];
  /** Starts pg_dump and pg_restore; tests may wrap it. */
  spawn?: Spawn;
  logger?: Logger;
  now?: () => Date;
};

const extension: Record<BackupKind, string> = { pg_dump: '.pgdump', pglite: '.pglite.tar.gz' };
const namePattern = /^warden-\d{8}T\d{6}(?:\d{3})?Z\.(?:pgdump|pglite\.tar\.gz)$/;

/** libpq's environment for a connection URL: nothing secret on a command line. */
export function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {};
  if (u.hostname) env.PGHOST = decodeURIComponent(u.hostname.replace(/^\[|\]$/g, ''));
  if (u.port) env.PGPORT = u.port;
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db) env.PGDATABASE = db;
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const host = u.searchParams.get('host');
  if (host) env.PGHOST = host;
  return env;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const gunzipAsync = promisify(gunzip);

/** The message of whatever went wrong, on one line, without a stack. */
const reason = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('.', '');

export class BackupService {
  readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<unknown> | undefined;
  /** A look again at a check put off for load. */
  private retry: NodeJS.Timeout | undefined;
  private readonly now: () => Date;

  /** db: the open database; not needed to list, prune or restore. */
  constructor(
    private readonly db: Db | undefined,
    private readonly o: BackupServiceOptions,
  ) {
    this.dir = resolve(o.settings.dir ?? join(o.database.dataDir, 'backups'));
    this.now = o.now ?? (() => new Date());
  }

  get kind(): BackupKind {
    return this.o.database.url ? 'pg_dump' : 'pglite';
  }

  /**
   * The identity of the database in use, without credentials:
   * `postgres://host:port/name` or `pglite:<data directory>`.
   */
  get database(): string {
    const url = this.o.database.url;
    if (!url) return `pglite:${resolve(this.o.database.dataDir)}`;
    const env = libpqEnv(url);
    return `postgres://${env.PGHOST ?? 'localhost'}:${env.PGPORT ?? '5432'}/${env.PGDATABASE ?? env.PGUSER ?? ''}`;
  }

  /** Whether a backup is of the database in use (older backups without an identity: by kind alone). */
  isOfThisDatabase(b: BackupInfo): boolean {
    return b.kind === this.kind && (b.database === undefined || b.database === this.database);
  }

  /** Backups of the database in use, newest first. */
  async listOfThisDatabase(): Promise<BackupInfo[]> {
    return (await this.list()).filter((b) => this.isOfThisDatabase(b));
  }

  private get open(): Db {
    if (!this.db) throw new Error('this BackupService was made without a database');
    return this.db;
  }

  /** Takes a backup now. */
  async create(progress: Progress = () => {}): Promise<BackupInfo> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // mkdir's mode applies only when it creates the directory; an older one is tightened.
    await chmod(this.dir, 0o700);
    const createdAt = this.now();
    const file = `warden-${stamp(createdAt)}${extension[this.kind]}`;
    const path = join(this.dir, file);
    const partial = `${path}.partial`;
    try {
      if (this.kind === 'pg_dump') {
        // pg_dump creates its file with the umask (0644 as a rule); it is made 0600 first
        // and pg_dump writes into it, so no other user can read it at any moment.
        await (await openFile(partial, 'w', 0o600)).close();
        await chmod(partial, 0o600);
        await this.pgDump(partial, progress);
        await chmod(partial, 0o600);
      } else {
        progress('dumping the embedded database');
        await this.dumpPglite(partial, progress);
      }
      progress('computing the checksum');
      const bytes = (await stat(partial)).size;
      const sha256 = await sha256Of(partial);
      const sidecar: Sidecar = {
        kind: this.kind,
        createdAt: createdAt.toISOString(),
        bytes,
        sha256,
        database: this.database,
      };
      await writeFile(`${path}.json`, `${JSON.stringify(sidecar, null, 2)}\n`, { mode: 0o600 });
      await chmod(`${path}.json`, 0o600);
      // On the disk before it takes its name, so a power loss never leaves
      // a backup that is listed and empty.
      progress('flushing it to the disk');
      await syncPathAsync(partial);
      await syncPathAsync(`${path}.json`);
      await rename(partial, path);
      await syncPathAsync(this.dir);
      return { file, path, kind: this.kind, createdAt, bytes, sha256, database: this.database };
    } catch (err) {
      await rm(partial, { force: true });
      await rm(`${path}.json`, { force: true });
      throw err;
    }
  }

  /**
   * The embedded database as a gzipped tar. A checkpoint first, so the
   * archive holds only the WAL written since. PGlite answers no query while
   * its files are read into memory (a crash-consistent snapshot: a restore
   * replays the WAL from that checkpoint), about 80 ms for 70 MB; the tar and
   * its compression are made after, on libuv's thread pool, while queries go
   * on. PGlite's own dumpDataDir built the tar in JavaScript and compressed it
   * inside that hold: 1.4 s without an answer at 90 MB.
   */
  private async dumpPglite(partial: string, progress: Progress): Promise<void> {
    const pglite = this.open as EmbeddedDb;
    const t0 = performance.now();
    await pglite.exec('CHECKPOINT');
    const t1 = performance.now();
    const snap = await pglite.snapshot();
    // File contents from the database's thread arrive as Uint8Arrays.
    const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    const chunks: Iterable<Buffer> =
      snap.kind === 'tarball'
        ? [asBuffer(snap.data)]
        : tarOf(snap.tree.map((e) => ({ ...e, data: asBuffer(e.data) })));
    const t2 = performance.now();
    progress('compressing the archive');
    // Level 1: a data directory compresses almost as well as at the default
    // level, in a third of the CPU, which on a small machine the requests share.
    await pipeline(
      Readable.from(chunks),
      createGzip({ level: 1 }),
      createWriteStream(partial, { mode: 0o600 }),
    );
    const ms = (a: number, b: number) => Math.round(b - a);
    this.o.logger?.debug(
      { checkpointMs: ms(t0, t1), snapshotMs: ms(t1, t2), compressMs: ms(t2, performance.now()) },
      'embedded database archived',
    );
  }

  private run(program: string, args: string[], progress: Progress): Promise<void> {
    const url = this.o.database.url!;
    const start = this.o.spawn ?? spawn;
    return new Promise((resolvePromise, reject) => {
      const child = start(program, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...libpqEnv(url) },
      });
      const tail: string[] = [];
      let buffered = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 20) tail.shift();
          // Verbose lines name each table and step; they are the progress.
          progress(line.replace(/^pg_(dump|restore): /, ''));
        }
      });
      child.on('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT'
            ? new UserError(
                'backup_tool_missing',
                `${program} was not found; install the PostgreSQL client programs (Debian/Ubuntu: apt install postgresql-client) or set ${program === this.o.settings.pgDump ? 'WARDEN_PG_DUMP' : 'WARDEN_PG_RESTORE'}`,
              )
            : err,
        ),
      );
      child.on('close', (code) => {
        if (code === 0) resolvePromise();
        else
          reject(
            new UserError(
              'backup_failed',
              `${basename(program)} exited with code ${code}: ${tail.filter((l) => /error|fatal/i.test(l)).join('; ') || tail.slice(-3).join('; ')}`,
            ),
          );
      });
    });
  }

  private pgDump(path: string, progress: Progress): Promise<void> {
    return this.run(
      this.o.settings.pgDump,
      ['--format=custom', '--no-owner', '--no-privileges', '--verbose', `--file=${path}`],
      progress,
    );
  }

  /** Backups in the directory, newest first; files without a valid sidecar are left out. */
  async list(): Promise<BackupInfo[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: BackupInfo[] = [];
    for (const file of names.filter((n) => namePattern.test(n))) {
      try {
        const s = JSON.parse(await readFile(join(this.dir, `${file}.json`), 'utf8')) as Sidecar;
        const createdAt = new Date(s.createdAt);
        if (Number.isNaN(createdAt.getTime())) continue;
        out.push({
          file,
          path: join(this.dir, file),
          kind: s.kind,
          createdAt,
          bytes: s.bytes,
          sha256: s.sha256,
          ...(typeof s.database === 'string' ? { database: s.database } : {}),
        });
      } catch {
        // no sidecar: not a backup Warden finished
      }
    }
    return out.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /** Deletes backups older than keepDays, never the newest one; returns what it deleted. */
  async prune(): Promise<BackupInfo[]> {
    const cutoff = this.now().getTime() - this.o.settings.keepDays * 86_400_000;
    const [, ...older] = await this.list();
    const removed = older.filter((b) => b.createdAt.getTime() < cutoff);
    for (const b of removed) {
      await rm(b.path, { force: true });
      await rm(`${b.path}.json`, { force: true });
    }
    return removed;
  }

  /** Finds a backup by file name (or path) and checks it is whole. */
  private async verified(name: string): Promise<BackupInfo> {
    const file = basename(name);
    const b = (await this.list()).find((x) => x.file === file);
    if (!b)
      throw new UserError(
        'backup_not_found',
        `no backup named ${file} in ${this.dir} (see \`warden backup list\`)`,
        {
          status: 404,
        },
      );
    const actual = await sha256Of(b.path);
    if (actual !== b.sha256)
      throw new UserError(
        'backup_corrupt',
        `backup ${file} does not match its checksum (expected sha256 ${b.sha256}, found ${actual}); it was changed or damaged after it was written`,
      );
    return b;
  }

  /**
   * Restores a backup over the current database. PostgreSQL: in one
   * transaction, so a failure changes nothing. Embedded: Warden must be
   * stopped (the data lock says so otherwise); the old data directory is
   * kept next to the new one.
   */
  async restore(name: string, progress: Progress = () => {}): Promise<BackupInfo> {
    const b = await this.verified(name);
    if (b.kind !== this.kind)
      throw new UserError(
        'backup_kind_mismatch',
        `backup ${b.file} is a ${b.kind} backup, and Warden is configured for ${this.kind === 'pg_dump' ? 'PostgreSQL (DATABASE_URL)' : 'the embedded database'}`,
      );
    progress(`restoring ${b.file}`);
    if (b.kind === 'pg_dump')
      await this.run(
        this.o.settings.pgRestore,
        [
          '--clean',
          '--if-exists',
          '--no-owner',
          '--no-privileges',
          '--single-transaction',
          '--exit-on-error',
          '--verbose',
          `--dbname=${libpqEnv(this.o.database.url!).PGDATABASE ?? ''}`,
          b.path,
        ],
        progress,
      );
    else await BackupService.restoreEmbedded(this.o.database.dataDir, b, progress);
    return b;
  }

  /** Restores an embedded-database backup into the data directory; Warden must not be running. */
  static async restoreEmbedded(
    dataDir: string,
    backup: BackupInfo,
    progress: Progress = () => {},
  ): Promise<{ previous: string }> {
    const root = resolve(dataDir);
    const lock = acquireDataLock(root);
    try {
      const target = join(root, 'pglite');
      const incoming = join(root, `pglite.restoring-${Date.now()}`);
      const previous = join(root, `pglite.before-restore-${stamp(new Date())}`);
      progress('unpacking the backup');
      const bytes = await readFile(backup.path);
      const damaged = (why: string) =>
        new UserError(
          'backup_damaged',
          `backup ${backup.file} is damaged: ${why}; nothing was changed. Restore another backup (see \`warden backup list\`)`,
        );
      // A truncated or corrupt archive is found here, before PGlite sees it.
      await gunzipAsync(bytes).catch((err: unknown) => {
        throw damaged(`it does not decompress (${reason(err)})`);
      });
      // Imported here: a worker (PostgreSQL only) never loads PGlite.
      const [{ PGlite }, { vector }] = await Promise.all([
        import('@electric-sql/pglite'),
        import('@electric-sql/pglite-pgvector'),
      ]);
      try {
        const pg = await PGlite.create(incoming, {
          loadDataDir: new Blob([bytes]),
          extensions: { vector },
        });
        try {
          await pg.query('SELECT 1');
        } finally {
          await pg.close().catch(() => {});
        }
      } catch (err) {
        await rm(incoming, { recursive: true, force: true });
        throw damaged(`it does not open as a database (${reason(err)})`);
      }
      // What PGlite wrote is in the operating system's cache only: flushed
      // before it replaces the database, as initdb flushes its own.
      progress('flushing the restored files to the disk');
      syncTree(incoming);
      progress('switching the data directory');
      await rename(target, previous).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await rename(incoming, target);
      syncPath(root);
      // The audit chain now ends where the backup did; the next start records
      // that as a chain.restored event instead of reading it as removed records.
      writePendingReanchor(join(root, auditPendingFile), {
        event: 'chain.restored',
        details: { backup: backup.file, sha256: backup.sha256 },
      });
      return { previous };
    } finally {
      lock.release();
    }
  }

  /**
   * Runs scheduled backups: a check every checkEveryMs (the first a minute
   * after start, not during it) takes one when the newest is older than
   * everyHours, then prunes. With busy (the embedded database, whose backup
   * holds every query for its snapshot), a check that finds the process
   * busy looks again every retryMs, for at most maxDeferMs, before it goes
   * ahead anyway.
   */
  startSchedule(
    checkEveryMs = 10 * 60_000,
    firstAfterMs = 60_000,
    defer: { busy?: () => Promise<boolean>; retryMs?: number; maxDeferMs?: number } = {},
  ): void {
    if (this.timer) return;
    let deferredSince: number | undefined;
    const tick = () => {
      if (this.inFlight) return;
      this.inFlight = (async () => {
        if (defer.busy && (await defer.busy())) {
          deferredSince ??= Date.now();
          if (Date.now() - deferredSince < (defer.maxDeferMs ?? 30 * 60_000)) {
            this.retry = setTimeout(tick, defer.retryMs ?? 5000);
            this.retry.unref();
            return;
          }
        }
        deferredSince = undefined;
        await this.runScheduled();
      })()
        .catch((err: unknown) => this.o.logger?.error({ err }, 'scheduled backup failed'))
        .finally(() => (this.inFlight = undefined));
    };
    this.timer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, checkEveryMs);
      this.timer.unref();
    }, firstAfterMs);
    this.timer.unref();
  }

  /** One scheduled round; returns the backup it took, if it took one. */
  async runScheduled(): Promise<BackupInfo | undefined> {
    // One process at a time, and the check is repeated under the lock.
    return this.open.tryWithLock('warden:backup', async () => {
      // Only a backup of this database counts: a tarball of the embedded
      // database says nothing about the PostgreSQL one that replaced it.
      const [newest] = await this.listOfThisDatabase();
      const due = this.o.settings.everyHours * 3_600_000;
      if (newest && this.now().getTime() - newest.createdAt.getTime() < due) return undefined;
      const b = await this.create();
      const removed = await this.prune();
      this.o.logger?.info(
        { backup: b.file, bytes: b.bytes, removed: removed.map((r) => r.file) },
        'backup taken',
      );
      return b;
    });
  }

  /** Stops the schedule; a backup under way finishes first, so the database stays open for it. */
  async stop(): Promise<void> {
    // The first check's timeout and the interval after it share this handle.
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    this.timer = undefined;
    await this.inFlight;
    clearTimeout(this.retry);
  }
}
