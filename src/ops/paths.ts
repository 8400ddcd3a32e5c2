// Builders of the path operations: open, openat2, close, statx, rename,
// unlink, mkdir, symlink and link. Each copies its paths once (memory.ts
// kernelPath) and reads each option once, then returns an Operation for the
// ring's submit funnel. The path copies are the request's to hold.
import { AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, O_RDONLY, STATX_BASIC_STATS, STATX_BTIME } from '../constants';
import { OPS, OpSpec } from '../opcodes';
import { Operation } from '../operation';
import { FixedFile, refuseFixed } from '../files';
import { KernelPath, internalAddress, kernelPath, putU64 } from '../memory';
import { optionsOf, requestOptions, withOptions, OpOptions } from '../options';
import { validateFd, validateInt32, validateInteger, validateU64, validateUint32 } from '../validators';
import { invalidArgValue } from '../errors';
import { STATX_SIZE, Statx } from '../statx';
import type { RingCore } from '../ring-core';

/** Path arguments: a string or the raw bytes of one. */
export type PathLike = string | Uint8Array;

/** A dirfd option: AT_FDCWD when omitted. */
export function dirfdOf(d: unknown, name = 'options.dirfd'): number {
  if (d === undefined || d === AT_FDCWD) return AT_FDCWD;
  return validateFd(d, name);
}

/** OPENAT of `p` with validated flags and mode; `fileIndex` > 0 opens into slot fileIndex - 1. */
export function openPath(p: KernelPath, flags: number, mode: number, dirfd: number, fileIndex = 0,
  syscall = OPS.openat.name): Operation {
  const op = new Operation(OPS.openat, syscall);
  op.fd = dirfd;
  op.addr = internalAddress(p.bytes);
  op.len = mode;
  op.opFlags = flags;
  op.fileIndex = fileIndex;
  op.hold = p;
  op.path = p.shown;
  op.returnsFd = fileIndex === 0;
  return op;
}

/** openat(2) into a plain fd. */
export function openat(path: unknown, flags: unknown = O_RDONLY, mode: unknown = 0o666,
  options: { dirfd?: number } & OpOptions | undefined = undefined): Operation {
  const p = kernelPath(path, 'path');
  const f = validateInt32(flags, 'flags');
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const o = optionsOf(options);
  const op = openPath(p, f, m, dirfdOf(o?.dirfd));
  return o === undefined ? op : requestOptions(op, o.signal, o.timeout);
}

/** struct open_how { u64 flags; u64 mode; u64 resolve; } for openat2. */
export function openHow(flags: number, mode: number, resolve: unknown): Uint32Array {
  const r = resolve === undefined ? 0 : validateU64(resolve, 'options.resolve');
  const how = new Uint32Array(6);
  putU64(how, 0, flags >>> 0);
  putU64(how, 2, mode);
  putU64(how, 4, r);
  return how;
}

/** OPENAT2 of a path; `fileIndex` > 0 opens into slot fileIndex - 1. */
export function openat2(ring: RingCore, path: unknown, flags: unknown, mode: unknown,
  options: { dirfd?: number; resolve?: number | bigint } & OpOptions | undefined, fileIndex = 0,
  check?: (flags: number) => void): Operation {
  ring._need(OPS.openat2.op, 'OPENAT2');
  const p = kernelPath(path, 'path');
  const f = validateInt32(flags, 'flags');
  check?.(f);
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const o = optionsOf(options);
  const dirfd = dirfdOf(o?.dirfd);
  const how = openHow(f, m, o?.resolve);
  const op = new Operation(OPS.openat2);
  op.fd = dirfd;
  op.addr = internalAddress(p.bytes);
  op.len = 24;
  op.off = internalAddress(how);
  op.fileIndex = fileIndex;
  op.hold = [p, how];
  op.path = p.shown;
  op.returnsFd = fileIndex === 0;
  return o === undefined ? op : requestOptions(op, o.signal, o.timeout);
}

/** CLOSE of a plain fd. */
export function close(fd: unknown, options: OpOptions | undefined, syscall = OPS.close.name): Operation {
  refuseFixed(fd, 'fd', 'close (use closeDirect for a registered slot)');
  const op = new Operation(OPS.close, syscall);
  op.fd = validateFd(fd, 'fd');
  return withOptions(op, options);
}

/**
 * CLOSE of a registered slot (close_direct): the slot goes in file_index as
 * slot + 1 and IOSQE_FIXED_FILE stays clear (the kernel refuses the flag on
 * this opcode with EBADF).
 */
export function closeSlot(slot: number): Operation {
  const op = new Operation(OPS.closeDirect);
  op.fileIndex = slot + 1;
  op.slot = slot;
  return op;
}

/** STATX of `p` (or of `dirfd` itself with AT_EMPTY_PATH and an empty path). Resolves with a Statx. */
export function statxPath(p: KernelPath, dirfd: number, flags: number, mask: number, syscall = OPS.statx.name): Operation {
  const out = new Uint8Array(STATX_SIZE);
  const op = new Operation(OPS.statx, syscall);
  op.fd = dirfd;
  op.addr = internalAddress(p.bytes);
  op.len = mask;
  op.off = internalAddress(out);
  op.opFlags = flags;
  op.hold = [p, out];
  if (p.shown !== '') op.path = p.shown;
  op.map = () => new Statx(out);
  return op;
}

/** statx(2) with the caller's options. */
export function statx(path: unknown, options: { dirfd?: number; flags?: number; mask?: number } & OpOptions | undefined): Operation {
  if (FixedFile._is(path)) refuseFixed(path, 'path', 'statx');
  const p = kernelPath(path, 'path');
  const o = optionsOf(options);
  if (o === undefined) return statxPath(p, AT_FDCWD, 0, STATX_BASIC_STATS | STATX_BTIME);
  const { dirfd, flags, mask, signal, timeout } = o;
  const op = statxPath(p, dirfdOf(dirfd), flags === undefined ? 0 : validateInt32(flags, 'options.flags', 0),
    mask === undefined ? STATX_BASIC_STATS | STATX_BTIME : validateUint32(mask, 'options.mask'));
  return requestOptions(op, signal, timeout);
}

const EMPTY = new KernelPath(new Uint8Array(8), '');

/** statx of an open fd (AT_EMPTY_PATH). */
export function fstat(fd: unknown, options: OpOptions | undefined, syscall = OPS.statx.name): Operation {
  refuseFixed(fd, 'fd', 'statx');
  const op = statxPath(EMPTY, validateFd(fd, 'fd'), AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, syscall);
  return withOptions(op, options);
}

/** RENAMEAT or LINKAT: two paths, each with its own directory, and flags. */
export function twoPath(spec: OpSpec, oldPath: unknown, newPath: unknown,
  options: { oldDirfd?: number; newDirfd?: number; flags?: number } & OpOptions | undefined, syscall = spec.name): Operation {
  const a = kernelPath(oldPath, 'oldPath');
  const b = kernelPath(newPath, 'newPath');
  const o = optionsOf(options) ?? {};
  const { oldDirfd, newDirfd, flags, signal, timeout } = o;
  const op = new Operation(spec, syscall);
  op.fd = dirfdOf(oldDirfd, 'options.oldDirfd');
  op.addr = internalAddress(a.bytes);
  op.len = dirfdOf(newDirfd, 'options.newDirfd');
  op.off = internalAddress(b.bytes);
  op.opFlags = flags === undefined ? 0 : validateUint32(flags, 'options.flags');
  op.hold = [a, b];
  op.path = a.shown;
  op.dest = b.shown;
  return requestOptions(op, signal, timeout);
}

/** UNLINKAT (AT_REMOVEDIR removes a directory). */
export function unlinkat(path: unknown, options: { dirfd?: number; flags?: number } & OpOptions | undefined,
  syscall = OPS.unlinkat.name): Operation {
  const p = kernelPath(path, 'path');
  const { dirfd, flags, signal, timeout } = optionsOf(options) ?? {};
  const f = flags === undefined ? 0 : validateUint32(flags, 'options.flags');
  if (f & ~AT_REMOVEDIR) throw invalidArgValue('options.flags', f, 'may only contain AT_REMOVEDIR');
  const op = new Operation(OPS.unlinkat, syscall);
  op.fd = dirfdOf(dirfd);
  op.addr = internalAddress(p.bytes);
  op.opFlags = f;
  op.hold = p;
  op.path = p.shown;
  return requestOptions(op, signal, timeout);
}

/** MKDIRAT. */
export function mkdirat(path: unknown, mode: unknown, options: { dirfd?: number } & OpOptions | undefined,
  syscall = OPS.mkdirat.name): Operation {
  const p = kernelPath(path, 'path');
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const { dirfd, signal, timeout } = optionsOf(options) ?? {};
  const op = new Operation(OPS.mkdirat, syscall);
  op.fd = dirfdOf(dirfd);
  op.addr = internalAddress(p.bytes);
  op.len = m;
  op.hold = p;
  op.path = p.shown;
  return requestOptions(op, signal, timeout);
}

/** SYMLINKAT: creates `linkPath` pointing at `target`. */
export function symlinkat(target: unknown, linkPath: unknown, options: { dirfd?: number } & OpOptions | undefined,
  syscall = OPS.symlinkat.name): Operation {
  const t = kernelPath(target, 'target');
  const l = kernelPath(linkPath, 'linkPath');
  const { dirfd, signal, timeout } = optionsOf(options) ?? {};
  const op = new Operation(OPS.symlinkat, syscall);
  op.fd = dirfdOf(dirfd);
  op.addr = internalAddress(t.bytes);
  op.off = internalAddress(l.bytes);
  op.hold = [t, l];
  op.path = t.shown;
  op.dest = l.shown;
  return requestOptions(op, signal, timeout);
}
