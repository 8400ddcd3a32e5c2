// Builders of the data operations on open files: reads and writes (plain,
// vectored, into registered buffers), sync, allocation, advice, truncation,
// splice, tee and poll. Each takes its file already resolved (files.ts
// fileTarget), reads the other arguments once, validates them and returns an
// Operation for the ring's submit funnel; none reserves anything.
import { FSYNC_DATASYNC, RECVSEND_FIXED_BUF, SPLICE_F_FD_IN_FIXED } from '../constants';
import { OPS, OpSpec } from '../opcodes';
import { Operation, FileTarget, isSlot, targetNumber } from '../operation';
import { internalAddress, readArray, viewLength } from '../memory';
import { optionsOf, requestOptions, withOptions, OpOptions } from '../options';
import { validateInt32, validateInteger, validatePosition, validateU64, validateUint32 } from '../validators';
import { invalidArgValue } from '../errors';
import { FixedBuffer } from '../buffers';
import type { RingCore } from '../ring-core';

/** Options of `fsync()`. */
export interface SyncOptions extends OpOptions {
  /** Flush data only, like fdatasync(2). */
  datasync?: boolean;
}

/** Options of readFixed(), writeFixed() and sendFixed(): a sub-range of the registered buffer. */
export interface FixedIoOptions extends OpOptions {
  /** First byte of the buffer to use. Default 0. */
  offset?: number;
  /** Bytes to transfer. Default: from `offset` to the end of the buffer. */
  length?: number;
}

/** The most iovecs one vectored request takes (IOV_MAX). */
export const IOV_MAX = 1024;

/** A position argument: -1, null or undefined mean the file's current position. */
function position(p: unknown, name = 'position'): number | bigint {
  return p === undefined || p === -1 ? -1 : validatePosition(p, name);
}

/**
 * READ or WRITE of `length` bytes at `offset` inside `view` (default: the
 * whole view) at file position `pos`. `view` must be a TypedArray or DataView;
 * its extent is the engine's, whatever the object claims.
 */
export function rw(spec: OpSpec, target: FileTarget, view: unknown, pos: unknown,
  syscall = spec.name, offset = 0, length = -1): Operation {
  const size = viewLength(view, 'buffer');
  const len = length < 0 ? size - offset : length;
  if (offset < 0 || offset > size || len > size - offset) {
    throw invalidArgValue('buffer', view, `is too small for ${len} bytes at offset ${offset}`);
  }
  const op = new Operation(spec, syscall).file(target);
  op.view = view as ArrayBufferView;
  op.addr = offset; // the funnel adds the view's address
  op.len = len;
  op.off = position(pos);
  return op;
}

/** READV or WRITEV over a copy of `buffers` (read once: one length, one read per element). */
export function vector(spec: OpSpec, target: FileTarget, buffers: unknown, pos: unknown,
  syscall = spec.name): Operation {
  const views = readArray<ArrayBufferView>(buffers, 'buffers', 'an Array of ArrayBufferViews', IOV_MAX);
  // struct iovec { void *base; size_t len; }: the funnel writes each base.
  const iov = new Uint32Array(Math.max(1, views.length) * 4);
  for (let k = 0; k < views.length; k++) {
    const n = viewLength(views[k], 'buffers', k);
    iov[k * 4 + 2] = n;
  }
  const op = new Operation(spec, syscall).file(target);
  op.off = position(pos);
  op.len = views.length;
  op.views = views;
  op.iov = iov;
  op.hold = iov;
  if (views.length > 0) op.addr = internalAddress(iov);
  return op;
}

/** Total bytes an iovec array built by vector() covers. */
export function vectorLength(op: Operation): number {
  let s = 0;
  const iov = op.iov!;
  for (let k = 0; k < op.len; k++) s += iov[k * 4 + 2]!;
  return s;
}

/** READ_FIXED / WRITE_FIXED (or SEND_ZC with a registered buffer) of a sub-range of `buf`. */
function fixedRange(buf: FixedBuffer, options: FixedIoOptions | undefined, op: Operation): void {
  const o = optionsOf(options);
  const size = FixedBuffer._sizeOf(buf);
  let off = 0;
  let len = size;
  if (o !== undefined) {
    const { offset, length, signal, timeout } = o;
    if (offset !== undefined) off = validateInteger(offset, 'options.offset', 0, size);
    len = length === undefined ? size - off : validateInteger(length, 'options.length', 0, size - off);
    requestOptions(op, signal, timeout);
  }
  op.addr = FixedBuffer._addrOf(buf) + off;
  op.len = len;
  op.bufIndex = FixedBuffer._indexOf(buf);
  op.hold = buf;
  op.owner = buf;
}

export function rwFixed(ring: RingCore, spec: OpSpec, target: FileTarget, buffer: unknown, pos: unknown,
  options: FixedIoOptions | undefined): Operation {
  const b = ring._buffers()._use(buffer, ring, 'buffer');
  const op = new Operation(spec).file(target);
  op.off = position(pos);
  fixedRange(b, options, op);
  return op;
}

/** SEND_ZC from a registered buffer (IORING_RECVSEND_FIXED_BUF in ioprio). */
export function sendFixed(ring: RingCore, target: FileTarget, buffer: unknown,
  options: (FixedIoOptions & { flags?: number }) | undefined, msgNoSignal: number): Operation {
  const b = ring._buffers()._use(buffer, ring, 'buffer');
  const op = new Operation(OPS.sendZc).file(target);
  const o = optionsOf(options);
  const flags = o?.flags;
  const msg = flags === undefined ? 0 : validateInt32(flags, 'options.flags', 0);
  fixedRange(b, o, op);
  if (op.timeout !== undefined) throw invalidArgValue('options.timeout', op.timeout, 'is not supported by sendFixed()');
  op.ioprio = RECVSEND_FIXED_BUF;
  op.opFlags = (msg | msgNoSignal) >>> 0;
  return op;
}

/** FSYNC (FSYNC_DATASYNC with `datasync`). */
export function fsync(target: FileTarget, options: SyncOptions | undefined, datasyncDefault = false): Operation {
  const o = optionsOf(options);
  let datasync = datasyncDefault;
  let signal: unknown;
  let timeout: unknown;
  if (o !== undefined) {
    let d: unknown;
    ({ datasync: d, signal, timeout } = o);
    if (d !== undefined) datasync = d === true;
  }
  const op = new Operation(OPS.fsync, datasync ? 'fdatasync' : OPS.fsync.name).file(target);
  if (datasync) op.opFlags = FSYNC_DATASYNC;
  return requestOptions(op, signal, timeout);
}

/** sync_file_range(2). */
export function syncFileRange(target: FileTarget, offset: unknown, length: unknown, flags: unknown,
  options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.syncFileRange).file(target);
  op.off = validateU64(offset, 'offset');
  op.len = validateUint32(length, 'length');
  op.opFlags = validateUint32(flags, 'flags');
  return withOptions(op, options);
}

/** fallocate(2): the kernel takes the length from addr and the mode from len. */
export function fallocate(target: FileTarget, mode: unknown, offset: unknown, length: unknown,
  options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.fallocate).file(target);
  op.len = validateInt32(mode, 'mode', 0);
  op.off = validateU64(offset, 'offset');
  op.addr = validateU64(length, 'length');
  return withOptions(op, options);
}

/** posix_fadvise(2). */
export function fadvise(target: FileTarget, offset: unknown, length: unknown, advice: unknown,
  options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.fadvise).file(target);
  op.off = validateU64(offset, 'offset');
  op.len = validateUint32(length, 'length');
  op.opFlags = validateInt32(advice, 'advice', 0, 5);
  return withOptions(op, options);
}

/** ftruncate(2) (Linux 6.9+). */
export function ftruncate(target: FileTarget, length: unknown, options: OpOptions | undefined,
  syscall = OPS.ftruncate.name): Operation {
  const op = new Operation(OPS.ftruncate, syscall).file(target);
  op.off = validateU64(length, 'length');
  return withOptions(op, options);
}

/** SPLICE (or TEE with `spec` OPS.tee, where the offsets are ignored). */
export function splice(spec: OpSpec, inT: FileTarget, offIn: unknown, outT: FileTarget, offOut: unknown,
  nbytes: unknown, flags: unknown, options: OpOptions | undefined): Operation {
  const tee = spec === OPS.tee;
  const oi = tee || offIn === null || offIn === -1 ? -1 : validatePosition(offIn, 'offIn');
  const oo = tee || offOut === null || offOut === -1 ? -1 : validatePosition(offOut, 'offOut');
  const op = new Operation(spec).file(outT);
  op.len = validateUint32(nbytes, 'nbytes');
  const f = validateUint32(flags, 'flags');
  if (!tee) {
    op.off = oo;
    op.addr = oi; // splice_off_in shares the addr field
  }
  op.opFlags = (f | (isSlot(inT) ? SPLICE_F_FD_IN_FIXED : 0)) >>> 0;
  op.fileIndex = targetNumber(inT); // splice_fd_in
  return withOptions(op, options);
}

/** POLL_ADD for `events` (poll32_events). */
export function pollAdd(target: FileTarget, events: unknown, options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.pollAdd).file(target);
  op.opFlags = validateUint32(events, 'events');
  return withOptions(op, options);
}

/** NOP. */
export function nop(options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.nop);
  op.fd = -1;
  return withOptions(op, options);
}


/** POLL_REMOVE of a poll started by pollAdd() on this ring. */
export function pollRemove(ring: RingCore, poll: unknown, options: OpOptions | undefined): Operation {
  const token = ring._namedUserData(poll);
  if (token === undefined) throw invalidArgValue('poll', poll, 'must be a promise returned by pollAdd() on this ring');
  const op = new Operation(OPS.pollRemove);
  op.fd = -1;
  op.addr = token;
  return withOptions(op, options);
}
