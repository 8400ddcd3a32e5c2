// The few SQE shapes uring/fs needs, written straight into the ring with the
// syscall names node:fs uses in its errors ('open', 'stat', 'unlink', ...),
// so a failed CQE becomes the same error node:fs/promises would give.
import { AT_FDCWD, IOSQE_FIXED_FILE, Op, STATX_BASIC_STATS, STATX_BTIME, AT_EMPTY_PATH, FSYNC_DATASYNC } from '../constants';
import { prep } from '../sq';
import { cstring, internalAddress, viewAddress } from '../memory';
import { STATX_SIZE } from '../statx';
import type { Ring } from '../ring';

/** The NUL-terminated bytes of a path: a Buffer path as given, anything else from its string. */
export function kernelPath(path: unknown, shown: string): Buffer {
  return cstring(path instanceof Uint8Array ? path : shown, 'path');
}

/**
 * Submits one operation on a path (or two): `addr` is the first path,
 * `addr2` the second path or an output buffer, `len` and `opFlags` per opcode.
 * Rejects with a Node-shaped error naming `syscall`, `path` and `dest`.
 */
export function pathOp(ring: Ring, op: number, dirfd: number, p: Buffer, len: number, addr2: number,
  opFlags: number, syscall: string, path: string, dest: string | undefined, hold: unknown): Promise<number> {
  ring._checkOpen();
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, op, 0, dirfd, internalAddress(p), len, 0);
  w[i + 2] = addr2;
  w[i + 3] = addr2 / 4294967296;
  w[i + 7] = opFlags;
  const { req, promise } = ring._trackReq(i, hold, syscall);
  req.path = path;
  req.dest = dest;
  return promise;
}

/** statx of a path; resolves with the filled 256-byte struct. */
export function statxPath(ring: Ring, p: Buffer, flags: number, syscall: string, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(STATX_SIZE);
  return pathOp(ring, Op.STATX, AT_FDCWD, p, STATX_BASIC_STATS | STATX_BTIME, internalAddress(out), flags,
    syscall, path, undefined, [p, out]).then(() => out);
}

/** statx of an open fd (AT_EMPTY_PATH); errors name `syscall` ('fstat'). */
export function statxFd(ring: Ring, fd: number, syscall: string): Promise<Uint8Array> {
  ring._checkOpen();
  const out = new Uint8Array(STATX_SIZE);
  const empty = EMPTY_PATH;
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, Op.STATX, 0, fd, internalAddress(empty), STATX_BASIC_STATS | STATX_BTIME, internalAddress(out));
  w[i + 7] = AT_EMPTY_PATH;
  return ring._track(i, out, syscall).then(() => out);
}
const EMPTY_PATH = new Uint8Array(8);

/** openat(2) into a plain fd; errors name 'open'. */
export function openPath(ring: Ring, p: Buffer, flags: number, mode: number, path: string): Promise<number> {
  return pathOp(ring, Op.OPENAT, AT_FDCWD, p, mode, 0, flags, 'open', path, undefined, p);
}

/**
 * read/write at `pos` (-1: the file position) on a plain fd, or on a
 * registered slot when `fixed`. `view` is held until the CQE.
 */
export function rw(ring: Ring, op: number, fd: number, fixed: boolean, view: ArrayBufferView, offset: number,
  length: number, pos: number | bigint, syscall: string): Promise<number> {
  ring._checkOpen();
  const addr = viewAddress(view, 'buffer') + offset;
  const i = ring._sqe(1);
  prep(ring._w, i, op, fixed ? IOSQE_FIXED_FILE : 0, fd, addr, length, pos);
  return ring._track(i, view, syscall);
}

/** fsync/fdatasync/ftruncate/close on an fd or slot. */
export function fdOp(ring: Ring, op: number, fd: number, fixed: boolean, off: number | bigint, syscall: string): Promise<number> {
  ring._checkOpen();
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, op, fixed ? IOSQE_FIXED_FILE : 0, fd, 0, 0, off);
  if (syscall === 'fdatasync') w[i + 7] = FSYNC_DATASYNC;
  return ring._track(i, undefined, syscall);
}

/** readv/writev with a fresh iovec array; `views` and the array are held until the CQE. */
export function rwv(ring: Ring, op: number, fd: number, fixed: boolean, views: readonly ArrayBufferView[],
  pos: number | bigint, syscall: string): Promise<number> {
  ring._checkOpen();
  const iov = new Uint32Array(views.length * 4);
  for (let k = 0; k < views.length; k++) {
    const v = views[k]!;
    const a = viewAddress(v, `buffers[${k}]`);
    iov[k * 4] = a;
    iov[k * 4 + 1] = a / 4294967296;
    iov[k * 4 + 2] = v.byteLength;
  }
  const i = ring._sqe(1);
  prep(ring._w, i, op, fixed ? IOSQE_FIXED_FILE : 0, fd, views.length ? internalAddress(iov) : 0, views.length, pos);
  return ring._track(i, [iov, views.slice()], syscall);
}
