// Validate-and-encode functions shared by the single-operation methods of
// Ring and by chains. Each one checks every argument first (a refused call
// consumes no SQE), then reserves the SQE(s) through `t._sqe(n)` and writes
// the whole entry; it returns the entry's word index in `t._w`. The target is
// the ring itself for a lone request, or a chain's scratch area, whose entries
// are copied into the ring in one piece when the chain is submitted.
//
// Memory the entry points at and that the caller did not pass in (a path
// copy, an iovec array, a statx buffer) is left in `t._hold`; the caller
// moves it into the request record.
import { AT_FDCWD, FSYNC_DATASYNC, SPLICE_F_FD_IN_FIXED } from './constants';
import { OPS, OpSpec } from './opcodes';
import { prep, put64 } from './sq';
import { cstring, internalAddress, viewAddress } from './memory';
import { FileRef, FixedFile, fixedSlot, refuseFixed } from './files';
import {
  validateFd, validateInt32, validateInteger, validatePosition, validateU64, validateUint32,
} from './validators';
import { invalidArgType, invalidArgValue } from './errors';
import { STATX_SIZE } from './statx';
import { STATX_BASIC_STATS, STATX_BTIME } from './constants';
import type { RingIo as Ring } from './ring-io';

/** Where an entry is written: the ring's SQ (or its staging area), or a chain's scratch. */
export interface SqeTarget {
  _sqe(chain: number): number;
  _w: Uint32Array;
  _hold: unknown;
}

/** Path arguments: a string or the raw bytes of one. */
export type PathLike = string | Uint8Array;

export function pathString(p: PathLike): string {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString();
}

export function dirfdOf(options: { dirfd?: number } | undefined, name = 'options.dirfd'): number {
  const d = options?.dirfd;
  if (d === undefined || d === AT_FDCWD) return AT_FDCWD;
  return validateFd(d, name);
}

/** NOP. */
export function prepNop(t: SqeTarget, n: number): number {
  const i = t._sqe(n);
  prep(t._w, i, OPS.nop.op, 0, -1, 0, 0, 0);
  return i;
}

/** READ or WRITE of a whole view at `position` (-1/null/undefined: the file position). Holds: the view. */
export function prepRw(r: Ring, t: SqeTarget, n: number, spec: OpSpec, file: FileRef,
  buffer: ArrayBufferView, position: number | bigint | null | undefined): number {
  const fd = r._file(file, spec);
  const flags = r._ff;
  const addr = viewAddress(buffer, 'buffer');
  const pos = position === undefined || position === -1 ? -1 : validatePosition(position);
  const i = t._sqe(n);
  prep(t._w, i, spec.op, flags, fd, addr, buffer.byteLength, pos);
  return i;
}

/** READV or WRITEV. Holds (in `t._hold`): the iovec array and the views. */
export function prepVector(r: Ring, t: SqeTarget, n: number, spec: OpSpec, file: FileRef,
  buffers: readonly ArrayBufferView[], position: number | bigint | null | undefined): number {
  const fd = r._file(file, spec);
  const flags = r._ff;
  if (!Array.isArray(buffers)) throw invalidArgType('buffers', 'an Array of ArrayBufferViews', buffers);
  if (buffers.length > 1024) throw invalidArgValue('buffers', buffers.length, 'must have at most 1024 (IOV_MAX) entries');
  // struct iovec { void *base; size_t len; }, kept alive with the buffers.
  const words = new Uint32Array(buffers.length * 4);
  for (let k = 0; k < buffers.length; k++) {
    const b = buffers[k]!;
    put64(words, k * 4, viewAddress(b, `buffers[${k}]`));
    put64(words, k * 4 + 2, b.byteLength);
  }
  const pos = position === undefined || position === -1 ? -1 : validatePosition(position);
  const i = t._sqe(n);
  prep(t._w, i, spec.op, flags, fd, buffers.length ? internalAddress(words) : 0, buffers.length, pos);
  t._hold = [words, buffers.slice()];
  return i;
}

/** Total bytes a vector of views covers (a short-transfer check for chains). */
export function vectorLength(buffers: readonly ArrayBufferView[]): number {
  let s = 0;
  for (const b of buffers) s += b.byteLength;
  return s;
}

/** FSYNC (FSYNC_DATASYNC with `datasync`). */
export function prepFsync(r: Ring, t: SqeTarget, n: number, file: FileRef, datasync: boolean): number {
  const fd = r._file(file, OPS.fsync);
  const flags = r._ff;
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, OPS.fsync.op, flags, fd, 0, 0, 0);
  w[i + 7] = datasync ? FSYNC_DATASYNC : 0;
  return i;
}

/**
 * OPENAT. With `fileIndex` > 0 the file goes into registered slot
 * `fileIndex - 1` instead of a new fd (a direct descriptor). Holds: the path.
 */
export function prepOpenat(t: SqeTarget, n: number, path: PathLike, flags: number, mode: number,
  options: { dirfd?: number } | undefined, fileIndex = 0): number {
  const p = cstring(path, 'path');
  validateInt32(flags, 'flags');
  validateInteger(mode, 'mode', 0, 0o7777);
  const dirfd = dirfdOf(options);
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, OPS.openat.op, 0, dirfd, internalAddress(p), mode, 0);
  w[i + 7] = flags;
  w[i + 11] = fileIndex;
  t._hold = p;
  return i;
}

/** CLOSE of a plain fd. */
/** struct open_how { u64 flags; u64 mode; u64 resolve; } for openat2, checking `resolve`. */
export function openHow(flags: number, mode: number, resolve: number | bigint | undefined): Uint32Array {
  const r = resolve === undefined ? 0 : validateU64(resolve, 'options.resolve');
  const how = new Uint32Array(6);
  put64(how, 0, flags >>> 0);
  put64(how, 2, mode);
  put64(how, 4, r);
  return how;
}

export function prepClose(t: SqeTarget, n: number, fd: number): number {
  refuseFixed(fd, 'fd', 'close (use closeDirect for a registered slot)');
  validateFd(fd, 'fd');
  const i = t._sqe(n);
  prep(t._w, i, OPS.close.op, 0, fd, 0, 0, 0);
  return i;
}

/**
 * CLOSE of a registered slot (close_direct). The slot goes in file_index as
 * slot + 1 and IOSQE_FIXED_FILE must stay clear: the kernel refuses the
 * flag on this opcode with EBADF.
 */
export function prepCloseDirect(r: Ring, t: SqeTarget, n: number, file: FixedFile): number {
  if (!(file instanceof FixedFile)) throw invalidArgType('file', 'an instance of FixedFile', file);
  const slot = fixedSlot(file, r, 'file');
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, OPS.close.op, 0, 0, 0, 0, 0);
  w[i + 11] = slot + 1;
  return i;
}

/** STATX. Holds (in `t._hold`): `[path copy, statx buffer]`. */
export function prepStatx(t: SqeTarget, n: number, path: PathLike,
  options: { dirfd?: number; flags?: number; mask?: number } | undefined): number {
  const p = cstring(path, 'path');
  const dirfd = dirfdOf(options);
  const flags = options?.flags === undefined ? 0 : validateInt32(options.flags, 'options.flags', 0);
  const mask = options?.mask === undefined ? STATX_BASIC_STATS | STATX_BTIME : validateUint32(options.mask, 'options.mask');
  const out = new Uint8Array(STATX_SIZE);
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, OPS.statx.op, 0, dirfd, internalAddress(p), mask, internalAddress(out));
  w[i + 7] = flags;
  t._hold = [p, out];
  return i;
}

/** SPLICE (or TEE with `spec` OPS.tee, where the offsets are ignored). */
export function prepSplice(r: Ring, t: SqeTarget, n: number, spec: OpSpec, fdIn: FileRef,
  offIn: number | bigint | null, fdOut: FileRef, offOut: number | bigint | null, nbytes: number, flags: number): number {
  const inFd = r._file(fdIn, spec, 'fdIn');
  const inFixed = r._ff !== 0;
  const outFd = r._file(fdOut, spec, 'fdOut');
  const outFlags = r._ff;
  const tee = spec === OPS.tee;
  const oi = tee || offIn === null || offIn === -1 ? -1 : validatePosition(offIn, 'offIn');
  const oo = tee || offOut === null || offOut === -1 ? -1 : validatePosition(offOut, 'offOut');
  validateUint32(nbytes, 'nbytes');
  validateUint32(flags, 'flags');
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, spec.op, outFlags, outFd, 0, nbytes, tee ? 0 : oo);
  if (!tee) put64(w, i + 4, oi); // splice_off_in shares the addr field
  w[i + 7] = (flags | (inFixed ? SPLICE_F_FD_IN_FIXED : 0)) >>> 0;
  w[i + 11] = inFd;
  return i;
}
