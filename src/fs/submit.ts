// The operations uring/fs submits, built by the library's operation families
// (ops/data.ts, ops/paths.ts) with the syscall names node:fs uses in its
// errors ('open', 'stat', 'unlink', ...), so a failed CQE becomes the same
// error node:fs/promises would give. Files are FileTargets (operation.ts):
// an fd, or the registered slot of a FileHandle.
import { close as nodeClose } from 'node:fs';
import { types } from 'node:util';
import { AT_FDCWD, AT_REMOVEDIR, IOSQE_ASYNC, STATX_BASIC_STATS, STATX_BTIME } from '../constants';
import { OPS, OpSpec } from '../opcodes';
import { kernelPath as copyPath, KernelPath } from '../memory';
import type { FileTarget, Operation } from '../operation';
import * as data from '../ops/data';
import * as paths from '../ops/paths';
import type { RingCore } from '../ring-core';

export type { KernelPath };

/** The NUL-terminated bytes of a path: a Buffer path as given (byte for byte), anything else from its string. */
export function kernelPath(path: unknown, shown: string): KernelPath {
  const p = copyPath(types.isUint8Array(path) ? path : shown, 'path');
  return p.shown === shown ? p : new KernelPath(p.bytes, shown);
}

function named<T>(ring: RingCore, op: Operation, path: string | undefined, dest?: string): Promise<T> {
  op.path = path;
  op.dest = dest;
  return ring._submit(op);
}

/** statx of a path; resolves with the filled 256-byte struct. */
export function statxPath(ring: RingCore, p: KernelPath, flags: number, syscall: string): Promise<Uint8Array> {
  const op = paths.statxPath(p, AT_FDCWD, flags, STATX_BASIC_STATS | STATX_BTIME, syscall);
  const out = (op.hold as [KernelPath, Uint8Array])[1];
  op.map = () => out;
  return named(ring, op, p.shown);
}

/** statx of an open fd (AT_EMPTY_PATH); errors name `syscall` ('fstat'). */
export function statxFd(ring: RingCore, fd: number, syscall: string): Promise<Uint8Array> {
  const op = paths.fstat(fd, undefined, syscall);
  const out = (op.hold as [KernelPath, Uint8Array])[1];
  op.map = () => out;
  return ring._submit(op);
}

/** openat(2) into a plain fd; errors name 'open'. */
export function openPath(ring: RingCore, p: KernelPath, flags: number, mode: number): Promise<number> {
  return ring._submit(paths.openPath(p, flags, mode, AT_FDCWD, 0, 'open'));
}

/** unlink, or rmdir with `dir`. */
export function unlinkPath(ring: RingCore, p: KernelPath, dir: boolean): Promise<number> {
  const op = paths.unlinkat(p, dir ? { flags: AT_REMOVEDIR } : undefined, dir ? 'rmdir' : 'unlink');
  return named(ring, op, p.shown);
}

/** mkdir of one directory. */
export function mkdirPath(ring: RingCore, p: KernelPath, mode: number): Promise<number> {
  return named(ring, paths.mkdirat(p, mode, undefined, 'mkdir'), p.shown);
}

/** rename, link or symlink: errors show `path -> dest`. */
export function twoPath(ring: RingCore, kind: 'rename' | 'link' | 'symlink', a: KernelPath, b: KernelPath): Promise<number> {
  const op = kind === 'symlink' ? paths.symlinkat(a, b, undefined, 'symlink')
    : paths.twoPath(kind === 'rename' ? OPS.renameat : OPS.linkat, a, b, undefined, kind);
  return named(ring, op, a.shown, b.shown);
}

/**
 * read/write of `length` bytes at `offset` in `view`, at `pos` (-1: the file
 * position). `offload` sets IOSQE_ASYNC: the copy runs on a kernel worker
 * rather than inline in the submitting thread's io_uring_enter.
 */
export function rw(ring: RingCore, spec: OpSpec, file: FileTarget, view: ArrayBufferView, offset: number,
  length: number, pos: number | bigint, syscall: string, offload = false): Promise<number> {
  const op = data.rw(spec, file, view, pos, syscall, offset, length);
  if (offload) op.flags |= IOSQE_ASYNC;
  return ring._submit(op);
}

/** readv/writev over a copy of `views`. */
export function rwv(ring: RingCore, spec: OpSpec, file: FileTarget, views: readonly ArrayBufferView[],
  pos: number | bigint, syscall: string): Promise<number> {
  return ring._submit(data.vector(spec, file, views, pos, syscall));
}

/** fsync or fdatasync. */
export function fsync(ring: RingCore, file: FileTarget, datasync: boolean): Promise<number> {
  return ring._submit(data.fsync(file, undefined, datasync));
}

/** ftruncate. */
export function ftruncate(ring: RingCore, file: FileTarget, len: number): Promise<number> {
  return ring._submit(data.ftruncate(file, len, undefined));
}

/**
 * close of a plain fd; errors name 'close'. `offload`: on a kernel worker
 * (IOSQE_ASYNC), for a file that was written: the last close of a file
 * truncated and rewritten starts its writeback (ext4 auto_da_alloc), which
 * would otherwise run in this thread.
 */
export function closeFd(ring: RingCore, fd: number, offload = false): Promise<number> {
  const op = paths.close(fd, undefined, 'close');
  if (offload) op.flags |= IOSQE_ASYNC;
  // Always the end of something: a closing ring takes it, and one that is
  // gone leaves it to node:fs, so that no fd is left open.
  op.followUp = true;
  return (ring._submit(op) as Promise<number>).catch((err: { code?: unknown }) => {
    if (err?.code !== 'ERR_RING_CLOSED') throw err;
    return new Promise<number>((resolve, reject) => nodeClose(fd, (e) => (e ? reject(e) : resolve(0))));
  });
}
