// Making the embedded database's writes reach the disk.
//
// PGlite starts PostgreSQL with fsync off, and its Node file system
// (Emscripten's NODEFS) has no fsync at all: every write reaches the
// operating system's cache and none is ever flushed. That survives a crash
// of Warden (the kernel still holds the writes), not a power loss or a
// kernel crash, after which PostgreSQL with fsync off can lose committed
// work and corrupt the database. FlushingNodeFS gives NODEFS a real fsync;
// with fsync on and wal_sync_method=fsync (Emscripten's fdatasync does
// nothing, its fsync calls the file system's), each commit flushes the WAL
// and each checkpoint the files it wrote, as PostgreSQL does on a disk of
// its own.
import { fsyncSync } from 'node:fs';

import { NodeFS } from '@electric-sql/pglite/nodefs';

/** PostgreSQL settings that make it flush, through FlushingNodeFS. */
export const flushingStartParams = ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];

type EmscriptenStream = { nfd: number };
type NodefsOps = {
  stream_ops: { fsync?: (stream: EmscriptenStream) => number };
  tryFSOperation<T>(fn: () => T): T;
};
type ModuleWithFs = { FS: { filesystems: { NODEFS: NodefsOps } } };

/** NODEFS with an fsync that reaches the disk; counts what it flushed. */
export class FlushingNodeFS extends NodeFS {
  /** fsync calls made, each a file flushed to the disk. */
  flushCount = 0;

  override async init(...args: Parameters<NodeFS['init']>): ReturnType<NodeFS['init']> {
    const { emscriptenOpts } = await super.init(...args);
    const addFsync = (mod: unknown) => {
      const nodefs = (mod as ModuleWithFs).FS.filesystems.NODEFS;
      // The stream operations are one object that every NODEFS file shares.
      // An error becomes the errno PostgreSQL sees, and PostgreSQL stops
      // rather than carry on after a failed flush (data_sync_retry=off).
      nodefs.stream_ops.fsync = (stream) => {
        nodefs.tryFSOperation(() => fsyncSync(stream.nfd));
        this.flushCount++;
        return 0;
      };
    };
    const preRun = [emscriptenOpts.preRun ?? []].flat();
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...preRun, addFsync] } };
  }
}
