// Data operations on open files: reads and writes (plain, vectored and
// through registered buffers), sync, allocation, advice, truncation, splice,
// tee and poll. Each validates everything first (a refused call consumes no
// SQE and makes no syscall), writes one SQE, and returns a promise of the
// kernel's result. Ring (ring.ts) adds paths, timeouts, cancellation, chains
// and the registered file table.
import {
  RECVSEND_FIXED_BUF, CQE_F_MORE, CQE_F_NOTIF, IOSQE_FIXED_FILE,
} from './constants';
import { RingCore, OpOptions } from './ring-core';
import { OPS, OpSpec } from './opcodes';
import { prep, put64 } from './sq';
import { FixedFile, FileRef, fixedSlot, refuseFixed } from './files';
import { abortedBeforeStart, applyOptions, optionSlots } from './submit-options';
import {
  prepFsync, prepNop, prepRw, prepSplice, prepVector,
} from './op-prep';
import {
  validateFd, validateInt32, validateInteger, validatePosition, validateU64, validateUint32,
} from './validators';
import { invalidArgType, invalidArgValue, systemError } from './errors';
import { FixedBuffer, FixedBuffers } from './buffers';

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

/** Options of sendFixed(). */
export interface SendOptions extends FixedIoOptions {
  /** MSG_* flags of send(2). MSG_NOSIGNAL is always added. */
  flags?: number;
}

const MSG_NOSIGNAL = 0x4000;

function fixedRange(buf: FixedBuffer, options: FixedIoOptions | undefined): [number, number] {
  const off = options?.offset === undefined ? 0 : validateInteger(options.offset, 'options.offset', 0, buf.byteLength);
  const len = options?.length === undefined ? buf.byteLength - off
    : validateInteger(options.length, 'options.length', 0, buf.byteLength - off);
  return [off, len];
}

/** The data operations every Ring has (the base class of Ring; construct a Ring). */
export class RingIo extends RingCore {
  /** @internal Resolves an fd-or-FixedFile argument; returns the fd/slot and sets `this._ff`. */
  _file(file: FileRef, spec: OpSpec, name = 'file'): number {
    if (typeof file === 'number') {
      if ((file | 0) !== file || file < 0) validateFd(file, name);
      this._ff = 0;
      return file;
    }
    if (file instanceof FixedFile) {
      if (!spec.fixed) refuseFixed(file, name, spec.name);
      this._ff = IOSQE_FIXED_FILE;
      return fixedSlot(file, this, name);
    }
    throw invalidArgType(name, 'of type number or an instance of FixedFile', file);
  }
  /** @internal IOSQE_FIXED_FILE when the last _file() was a registered file. */
  _ff = 0;
  /** @internal Memory the last prep function allocated for its entry (see op-prep.ts). */
  _hold: unknown = undefined;

  /** @internal Takes `_hold` so the ring does not keep it alive. */
  _takeHold(): unknown {
    const h = this._hold;
    this._hold = undefined;
    return h;
  }

  private buffers_: FixedBuffers | undefined;
  /** The ring's registered buffer table and the pool of its buffers (created on first use). */
  get buffers(): FixedBuffers {
    return this.buffers_ ??= new FixedBuffers(this);
  }

  /**
   * Reads into a registered buffer (IORING_OP_READ_FIXED) at `position`
   * (-1, null or omitted: the current position); `options.offset` and
   * `options.length` select part of the buffer. Resolves with bytes read.
   * Only buffers from `ring.buffers` are accepted.
   */
  readFixed(file: FileRef, buffer: FixedBuffer, position?: number | bigint | null, options?: FixedIoOptions): Promise<number> {
    return this.rwFixed(OPS.readFixed, file, buffer, position, options);
  }

  /** Writes from a registered buffer (IORING_OP_WRITE_FIXED); see readFixed(). Resolves with bytes written. */
  writeFixed(file: FileRef, buffer: FixedBuffer, position?: number | bigint | null, options?: FixedIoOptions): Promise<number> {
    return this.rwFixed(OPS.writeFixed, file, buffer, position, options);
  }

  private rwFixed(spec: OpSpec, file: FileRef, buffer: FixedBuffer, position: number | bigint | null | undefined,
    options: FixedIoOptions | undefined): Promise<number> {
    this._checkOpen();
    const fd = this._file(file, spec);
    const flags = this._ff;
    const b = this.buffers._use(buffer, this, 'buffer');
    const [off, len] = fixedRange(b, options);
    const pos = position === undefined || position === -1 ? -1 : validatePosition(position);
    const n = options === undefined ? 1 : optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, spec.op, flags, fd, b._addr + off, len, pos);
    w[i + 10] = b.index;
    const p = this._op(i, b, spec, options);
    this.useFixed(b, i);
    return p;
  }

  /** Counts the request at SQE `i` on a registered buffer, so that release() waits for it. */
  private useFixed(b: FixedBuffer, i: number): void {
    b._inflight++;
    this._req.get(this._w[i + 8]!)!.owner = b;
  }

  /**
   * send(2) from a registered buffer: IORING_OP_SEND_ZC with
   * IORING_RECVSEND_FIXED_BUF, the form of send the kernel accepts a
   * registered buffer on (Linux 6.0+; TCP and UDP sockets). The kernel sends
   * from the pages without copying them, so the promise resolves (with the
   * bytes sent) only once the kernel's notification says it no longer reads
   * the buffer: the buffer may be reused as soon as it resolves.
   * `options.offset`/`length` select a sub-range. An AbortSignal cancels the
   * send; a timeout is not supported here.
   */
  sendFixed(socket: FileRef, buffer: FixedBuffer, options?: SendOptions): Promise<number> {
    this._checkOpen();
    const fd = this._file(socket, OPS.sendZc, 'socket');
    const ff = this._ff;
    const b = this.buffers._use(buffer, this, 'buffer');
    const [off, len] = fixedRange(b, options);
    const msg = options?.flags === undefined ? 0 : validateInt32(options.flags, 'options.flags', 0);
    if (optionSlots(options) !== 1) throw invalidArgValue('options.timeout', options!.timeout, 'is not supported by sendFixed()');
    this._need(OPS.sendZc.op, 'SEND_ZC');
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(1);
    const w = this._w;
    prep(w, i, OPS.sendZc.op, ff, fd, b._addr + off, len, 0);
    w[i] |= RECVSEND_FIXED_BUF << 16; // ioprio carries the send flags
    w[i + 7] = (msg | MSG_NOSIGNAL) >>> 0;
    w[i + 10] = b.index;
    let sent = 0;
    let failure: Error | undefined;
    let settle!: (err: Error | undefined) => void;
    const p = new Promise<number>((resolve, reject) => {
      settle = (err) => (err === undefined ? resolve(sent) : reject(err));
    });
    // Two CQEs: the result (with CQE_F_MORE when a notification follows),
    // then the notification (CQE_F_NOTIF) once the pages are released.
    const req = this._trackHandler(i, b, OPS.sendZc.name, (res, flags) => {
      if ((flags & CQE_F_NOTIF) === 0) {
        if (res < 0) failure = systemError(res, OPS.sendZc.name);
        else sent = res;
      }
      if ((flags & CQE_F_MORE) === 0) settle(failure);
    });
    const signal = options?.signal;
    if (signal !== undefined) {
      const onAbort = (): void => this._cancelRequest(req);
      signal.addEventListener('abort', onAbort, { once: true });
      req.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.useFixed(b, i);
    return p;
  }

  /** @internal Finishes an operation whose SQE is at `i`: tracks it and applies options. */
  _op(i: number, hold: unknown, spec: OpSpec, options: OpOptions | undefined,
    path?: string, map?: (res: number, flags: number) => unknown, dest?: string): Promise<any> {
    if (options === undefined && path === undefined && map === undefined && !spec.waiter) {
      return this._track(i, hold, spec.name);
    }
    const { req, promise } = this._trackReq(i, hold, spec.name);
    req.path = path;
    req.dest = dest;
    req.map = map;
    req.waiter = spec.waiter === true;
    if (options !== undefined) applyOptions(this, i, req, options);
    return promise;
  }

  /** Does nothing in the kernel; resolves with 0. Measures the ring's own overhead. */
  nop(options?: OpOptions): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    return this._op(prepNop(this, n), undefined, OPS.nop, options);
  }

  /**
   * Reads into `buffer` (all of it: pass a subarray for part) at `position`,
   * or at the file's current position when `position` is -1, null or
   * omitted. Resolves with the number of bytes read (0 at end of file).
   */
  read(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null, options?: OpOptions): Promise<number> {
    this._checkOpen();
    if (options === undefined) return this._op(prepRw(this, this, 1, OPS.read, file, buffer, position), buffer, OPS.read, undefined);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    return this._op(prepRw(this, this, n, OPS.read, file, buffer, position), buffer, OPS.read, options);
  }

  /** Writes all of `buffer` at `position` (-1: the current position). Resolves with bytes written. */
  write(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null, options?: OpOptions): Promise<number> {
    this._checkOpen();
    if (options === undefined) return this._op(prepRw(this, this, 1, OPS.write, file, buffer, position), buffer, OPS.write, undefined);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    return this._op(prepRw(this, this, n, OPS.write, file, buffer, position), buffer, OPS.write, options);
  }

  /** Scatter read into several buffers. Resolves with the total bytes read. */
  readv(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: OpOptions): Promise<number> {
    return this.vector(OPS.readv, file, buffers, position, options);
  }

  /** Gather write from several buffers. Resolves with the total bytes written. */
  writev(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: OpOptions): Promise<number> {
    return this.vector(OPS.writev, file, buffers, position, options);
  }

  private vector(spec: OpSpec, file: FileRef, buffers: readonly ArrayBufferView[],
    position: number | bigint | null | undefined, options: OpOptions | undefined): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepVector(this, this, n, spec, file, buffers, position);
    return this._op(i, this._takeHold(), spec, options);
  }

  /** Flushes the file to storage (fsync, or fdatasync with `datasync: true`). */
  fsync(file: FileRef, options?: SyncOptions): Promise<number> {
    this._checkOpen();
    const datasync = options?.datasync === undefined ? false : options.datasync === true;
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepFsync(this, this, n, file, datasync);
    return this._op(i, undefined, datasync ? { ...OPS.fsync, name: 'fdatasync' } : OPS.fsync, options);
  }

  /** fdatasync(2) on the ring. */
  fdatasync(file: FileRef, options?: OpOptions): Promise<number> {
    return this.fsync(file, { ...options, datasync: true });
  }

  /** sync_file_range(2): `flags` are SYNC_FILE_RANGE_* bits. */
  syncFileRange(file: FileRef, offset: number | bigint, length: number, flags = 0, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const fd = this._file(file, OPS.syncFileRange);
    const ff = this._ff;
    const off = validateU64(offset, 'offset');
    validateUint32(length, 'length');
    validateUint32(flags, 'flags');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, OPS.syncFileRange.op, ff, fd, 0, length, off);
    w[i + 7] = flags;
    return this._op(i, undefined, OPS.syncFileRange, options);
  }

  /** fallocate(2): `mode` is FALLOC_FL_* bits (0 allocates and extends). */
  fallocate(file: FileRef, mode: number, offset: number | bigint, length: number | bigint, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const fd = this._file(file, OPS.fallocate);
    const ff = this._ff;
    validateInt32(mode, 'mode', 0);
    const off = validateU64(offset, 'offset');
    const len = validateU64(length, 'length');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    // The kernel takes the length from sqe->addr and the mode from sqe->len.
    prep(w, i, OPS.fallocate.op, ff, fd, 0, mode, off);
    put64(w, i + 4, len);
    return this._op(i, undefined, OPS.fallocate, options);
  }

  /** posix_fadvise(2): `advice` is a POSIX_FADV_* value. */
  fadvise(file: FileRef, offset: number | bigint, length: number, advice: number, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const fd = this._file(file, OPS.fadvise);
    const ff = this._ff;
    const off = validateU64(offset, 'offset');
    validateUint32(length, 'length');
    validateInt32(advice, 'advice', 0, 5);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, OPS.fadvise.op, ff, fd, 0, length, off);
    w[i + 7] = advice;
    return this._op(i, undefined, OPS.fadvise, options);
  }

  /** ftruncate(2) on the ring (Linux 6.9+). */
  ftruncate(file: FileRef, length: number | bigint, options?: OpOptions): Promise<number> {
    this._checkOpen();
    this._need(OPS.ftruncate.op, 'FTRUNCATE');
    const fd = this._file(file, OPS.ftruncate);
    const ff = this._ff;
    const len = validateU64(length, 'length');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    prep(this._w, i, OPS.ftruncate.op, ff, fd, 0, 0, len);
    return this._op(i, undefined, OPS.ftruncate, options);
  }

  /**
   * splice(2) between `fdIn` and `fdOut`, one of which must be a pipe.
   * Offsets of -1 (or null) mean the current position (required for pipes).
   */
  splice(fdIn: FileRef, offIn: number | bigint | null, fdOut: FileRef, offOut: number | bigint | null,
    nbytes: number, flags = 0, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepSplice(this, this, n, OPS.splice, fdIn, offIn, fdOut, offOut, nbytes, flags);
    return this._op(i, undefined, OPS.splice, options);
  }

  /** tee(2) between two pipes. */
  tee(fdIn: FileRef, fdOut: FileRef, nbytes: number, flags = 0, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepSplice(this, this, n, OPS.tee, fdIn, null, fdOut, null, nbytes, flags);
    return this._op(i, undefined, OPS.tee, options);
  }

  /**
   * Waits until the file is ready for `events` (POLLIN, POLLOUT, ... bits)
   * and resolves with the ready mask. Remove it early with pollRemove().
   */
  pollAdd(file: FileRef, events: number, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const fd = this._file(file, OPS.pollAdd);
    const ff = this._ff;
    validateUint32(events, 'events');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, OPS.pollAdd.op, ff, fd, 0, 0, 0);
    w[i + 7] = events; // poll32_events, little-endian
    const p = this._op(i, undefined, OPS.pollAdd, options);
    this._named.set(p, this._tokenAt(i));
    return p;
  }

  /**
   * Removes a poll started by pollAdd(); the poll's promise rejects with
   * ECANCELED. Resolves with 0, or rejects ENOENT if it already completed.
   */
  pollRemove(poll: Promise<number>, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const token = this._named.get(poll);
    if (token === undefined) throw invalidArgValue('poll', poll, 'must be a promise returned by pollAdd() on this ring');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, OPS.pollRemove.op, 0, -1, 0, 0, 0);
    w[i + 4] = token[0];
    w[i + 5] = token[1];
    return this._op(i, undefined, OPS.pollRemove, options);
  }

  /** @internal Requests that other requests can name later (poll, timeout), by their promise. */
  readonly _named = new WeakMap<Promise<unknown>, [number, number]>();

  /** @internal The user_data words of the SQE at `i`. */
  _tokenAt(i: number): [number, number] {
    const w = this._w;
    return [w[i + 8]!, w[i + 9]!];
  }
}
