// The ring users construct: a facade of short methods over the operation
// families. Each method hands the caller's arguments to the family's builder
// (ops/data.ts, ops/paths.ts, ops/time.ts, ops/cancel.ts, direct.ts), which
// reads them once and validates them, and submits the Operation it returns
// through the ring's one funnel (RingCore._submit). A refused call rejects
// and leaves nothing behind: no SQE, no request, no fd, nothing on disk.
import { CQE_F_MORE, CQE_F_NOTIF, O_RDONLY } from './constants';
import { RingCore, RingOptions } from './ring-core';
import { OPS } from './opcodes';
import * as data from './ops/data';
import * as batch from './ops/batch';
import * as paths from './ops/paths';
import * as time from './ops/time';
import * as cancels from './ops/cancel';
import type { FixedIoOptions, SyncOptions } from './ops/data';
import type { BatchOptions } from './ops/batch';
import type { PathLike } from './ops/paths';
import { withOptions, OpOptions } from './options';
import { FileRef, fileTarget } from './files';
import { systemError } from './errors';
import { Statx } from './statx';
import { FileTable } from './file-table';
import { FixedBuffer, FixedBuffers } from './buffers';
import { registerRingFd, unregisterRingFd } from './ring-fd';
import { Chain, ChainOptions } from './chain';
import { RingCallbacks } from './callbacks';
import type { TimeoutResult, TimeoutSpec } from './ops/time';

export type { OpOptions, RingOptions, PathLike, SyncOptions, FixedIoOptions, BatchOptions };

/** Options of sendFixed(). */
export interface SendOptions extends FixedIoOptions {
  /** MSG_* flags of send(2). MSG_NOSIGNAL is always added. */
  flags?: number;
}

const MSG_NOSIGNAL = 0x4000;

/** Options of `openat()`. */
export interface OpenOptions extends OpOptions {
  /** Directory the path is relative to (default: the current directory). */
  dirfd?: number;
}

/** Options of `openat2()`. */
export interface Open2Options extends OpenOptions {
  /** RESOLVE_* flags of openat2(2). */
  resolve?: number | bigint;
}

/** Options of `statx()`. */
export interface StatxOptions extends OpOptions {
  /** Directory a relative path is resolved from (default: the current directory). */
  dirfd?: number;
  /** AT_* flags, e.g. AT_SYMLINK_NOFOLLOW. */
  flags?: number;
  /** STATX_* mask of wanted fields. Default: basic stats and birth time. */
  mask?: number;
}

/** Options of the `*at()` path operations (unlinkat, mkdirat, symlinkat). */
export interface AtOptions extends OpOptions {
  /** Directory a relative path is resolved from (default: the current directory). */
  dirfd?: number;
  /** The operation's AT_* flags, e.g. AT_REMOVEDIR for unlinkat. */
  flags?: number;
}

/** Options of the two-path operations (renameat, linkat). */
export interface TwoDirOptions extends OpOptions {
  /** Directory the old path is resolved from (default: the current directory). */
  oldDirfd?: number;
  /** Directory the new path is resolved from (default: the current directory). */
  newDirfd?: number;
  /** RENAME_* flags for renameat, AT_* flags for linkat. */
  flags?: number;
}

/**
 * An io_uring instance. Every operation returns a promise of its result;
 * requests made in one turn of the event loop are submitted together.
 *
 * @example
 * ```ts
 * await using ring = new Ring({ entries: 64 });
 * const fd = await ring.openat('/etc/hostname');
 * const buf = Buffer.alloc(256);
 * const n = await ring.read(fd, buf, 0);
 * await ring.closeFd(fd);
 * ```
 */
export class Ring extends RingCore {
  /**
   * Creates a ring. Throws UringUnavailableError when io_uring cannot be used here.
   *
   * @throws {UringUnavailableError} io_uring cannot be used on this machine; `reason` says why (enosys, eperm, enomem, disabled, addon, not-linux).
   * @throws {TypeError} ERR_INVALID_ARG_TYPE or ERR_INVALID_ARG_VALUE for malformed options; {RangeError} ERR_OUT_OF_RANGE for sizes out of bounds.
   */
  constructor(options?: RingOptions) {
    super(options);
  }

  private files_: FileTable | undefined;
  /** The ring's registered file table and direct descriptors (created on first use). */
  get files(): FileTable {
    return this.files_ ??= new FileTable(this);
  }

  /** The ring's registered buffer table and the pool of its buffers (created on first use). */
  get buffers(): FixedBuffers {
    return this._buffers();
  }

  private callbacks_: RingCallbacks | undefined;
  /**
   * Callback forms of read, write, readFixed and writeFixed, for the hottest
   * loops: no promise per request (see RingCallbacks and docs/rings.md).
   */
  get callbacks(): RingCallbacks {
    return this.callbacks_ ??= new RingCallbacks(this);
  }

  /**
   * Registers the ring's own fd with the kernel (IORING_REGISTER_RING_FDS,
   * Linux 5.18+), so that io_uring_enter skips looking it up. Returns false
   * where the kernel lacks it. Idempotent; undone when the ring closes.
   */
  registerRingFd(): boolean {
    return registerRingFd(this);
  }

  /** Undoes registerRingFd(). */
  unregisterRingFd(): void {
    unregisterRingFd(this);
  }

  // ---- file data ----------------------------------------------------------

  /** Does nothing in the kernel; resolves with 0. Measures the ring's own overhead. */
  nop(options?: OpOptions): Promise<number> {
    return this._submit(data.nop(options));
  }

  /**
   * Reads into `buffer` (all of it: pass a subarray for part) at `position`,
   * or at the file's current position when `position` is -1, null or
   * omitted. Resolves with the number of bytes read (0 at end of file).
   * The buffer's memory is held for the kernel until the read completes,
   * whatever happens to the ArrayBuffer meanwhile (see docs/rings.md).
   */
  read(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null, options?: OpOptions): Promise<number> {
    const op = data.rw(OPS.read, fileTarget(file, OPS.read, this), buffer, position);
    return this._submit(options === undefined ? op : withOptions(op, options));
  }

  /** Writes all of `buffer` at `position` (-1: the current position). Resolves with bytes written. */
  write(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null, options?: OpOptions): Promise<number> {
    const op = data.rw(OPS.write, fileTarget(file, OPS.write, this), buffer, position);
    return this._submit(options === undefined ? op : withOptions(op, options));
  }

  /**
   * Reads into each of `buffers` (all of it) at the matching entry of
   * `positions`, on one file: one request per entry, submitted together, and
   * one promise for all of them. Resolves, once every read has completed,
   * with the bytes each read (an array in the order of `buffers`); if any
   * failed, rejects with the first failure's error (Node-shaped, with its
   * `index` and every entry's `results`, negative errnos for failures) after
   * the others completed, so no buffer is still in use when the promise
   * settles. The batch form of read() for the hottest loops (see
   * docs/rings.md): it pays one promise per batch instead of one per read.
   * `options.signal` cancels the entries still in flight.
   *
   * @example
   * ```ts
   * const pages = Array.from({ length: 32 }, (_, k) => arena.subarray(k * 4096, (k + 1) * 4096));
   * const counts = await ring.readMany(fd, pages, offsets);
   * ```
   */
  readMany(file: FileRef, buffers: readonly ArrayBufferView[], positions: readonly (number | bigint)[],
    options?: BatchOptions): Promise<number[]> {
    return this._submitBatch(batch.many(OPS.read, fileTarget(file, OPS.read, this), buffers, positions, options, this._lastBatch));
  }

  /** The batch form of write(): writes each of `buffers` at the matching entry of `positions`; see readMany(). */
  writeMany(file: FileRef, buffers: readonly ArrayBufferView[], positions: readonly (number | bigint)[],
    options?: BatchOptions): Promise<number[]> {
    return this._submitBatch(batch.many(OPS.write, fileTarget(file, OPS.write, this), buffers, positions, options, this._lastBatch));
  }

  /** Scatter read into several buffers. Resolves with the total bytes read. */
  readv(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: OpOptions): Promise<number> {
    return this._submit(withOptions(data.vector(OPS.readv, fileTarget(file, OPS.readv, this), buffers, position), options));
  }

  /** Gather write from several buffers. Resolves with the total bytes written. */
  writev(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: OpOptions): Promise<number> {
    return this._submit(withOptions(data.vector(OPS.writev, fileTarget(file, OPS.writev, this), buffers, position), options));
  }

  /**
   * Reads into a registered buffer (IORING_OP_READ_FIXED) at `position`
   * (-1, null or omitted: the current position); `options.offset` and
   * `options.length` select part of the buffer. Resolves with bytes read.
   * Only buffers from `ring.buffers` are accepted.
   */
  readFixed(file: FileRef, buffer: FixedBuffer, position?: number | bigint | null, options?: FixedIoOptions): Promise<number> {
    return this._submit(data.rwFixed(this, OPS.readFixed, fileTarget(file, OPS.readFixed, this), buffer, position, options));
  }

  /** Writes from a registered buffer (IORING_OP_WRITE_FIXED); see readFixed(). Resolves with bytes written. */
  writeFixed(file: FileRef, buffer: FixedBuffer, position?: number | bigint | null, options?: FixedIoOptions): Promise<number> {
    return this._submit(data.rwFixed(this, OPS.writeFixed, fileTarget(file, OPS.writeFixed, this), buffer, position, options));
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
    const op = data.sendFixed(this, fileTarget(socket, OPS.sendZc, this, 'socket'), buffer, options, MSG_NOSIGNAL);
    this._need(OPS.sendZc.op, 'SEND_ZC');
    return new Promise<number>((resolve, reject) => {
      let sent = 0;
      let failure: Error | undefined;
      // Two CQEs: the result (with CQE_F_MORE when a notification follows),
      // then the notification (CQE_F_NOTIF) once the pages are released.
      this._start(op, (res, flags) => {
        if ((flags & CQE_F_NOTIF) === 0) {
          if (res < 0) failure = systemError(res, OPS.sendZc.name);
          else sent = res;
        }
        if ((flags & CQE_F_MORE) === 0) {
          if (failure === undefined) resolve(sent);
          else reject(failure);
        }
      });
    });
  }

  /** Flushes the file to storage (fsync, or fdatasync with `datasync: true`). */
  fsync(file: FileRef, options?: SyncOptions): Promise<number> {
    return this._submit(data.fsync(fileTarget(file, OPS.fsync, this), options));
  }

  /** fdatasync(2) on the ring. */
  fdatasync(file: FileRef, options?: OpOptions): Promise<number> {
    return this._submit(data.fsync(fileTarget(file, OPS.fsync, this), options, true));
  }

  /** sync_file_range(2): `flags` are SYNC_FILE_RANGE_* bits. */
  syncFileRange(file: FileRef, offset: number | bigint, length: number, flags = 0, options?: OpOptions): Promise<number> {
    return this._submit(data.syncFileRange(fileTarget(file, OPS.syncFileRange, this), offset, length, flags, options));
  }

  /** fallocate(2): `mode` is FALLOC_FL_* bits (0 allocates and extends). */
  fallocate(file: FileRef, mode: number, offset: number | bigint, length: number | bigint, options?: OpOptions): Promise<number> {
    return this._submit(data.fallocate(fileTarget(file, OPS.fallocate, this), mode, offset, length, options));
  }

  /** posix_fadvise(2): `advice` is a POSIX_FADV_* value. */
  fadvise(file: FileRef, offset: number | bigint, length: number, advice: number, options?: OpOptions): Promise<number> {
    return this._submit(data.fadvise(fileTarget(file, OPS.fadvise, this), offset, length, advice, options));
  }

  /** ftruncate(2) on the ring (Linux 6.9+). */
  ftruncate(file: FileRef, length: number | bigint, options?: OpOptions): Promise<number> {
    this._need(OPS.ftruncate.op, 'FTRUNCATE');
    return this._submit(data.ftruncate(fileTarget(file, OPS.ftruncate, this), length, options));
  }

  /**
   * splice(2) between `fdIn` and `fdOut`, one of which must be a pipe.
   * Offsets of -1 (or null) mean the current position (required for pipes).
   */
  splice(fdIn: FileRef, offIn: number | bigint | null, fdOut: FileRef, offOut: number | bigint | null,
    nbytes: number, flags = 0, options?: OpOptions): Promise<number> {
    return this._submit(data.splice(OPS.splice, fileTarget(fdIn, OPS.splice, this, 'fdIn'), offIn,
      fileTarget(fdOut, OPS.splice, this, 'fdOut'), offOut, nbytes, flags, options));
  }

  /** tee(2) between two pipes. */
  tee(fdIn: FileRef, fdOut: FileRef, nbytes: number, flags = 0, options?: OpOptions): Promise<number> {
    return this._submit(data.splice(OPS.tee, fileTarget(fdIn, OPS.tee, this, 'fdIn'), null, fileTarget(fdOut, OPS.tee, this, 'fdOut'), null, nbytes, flags, options));
  }

  /**
   * Waits until the file is ready for `events` (POLLIN, POLLOUT, ... bits)
   * and resolves with the ready mask. Remove it early with pollRemove().
   */
  pollAdd(file: FileRef, events: number, options?: OpOptions): Promise<number> {
    const op = data.pollAdd(fileTarget(file, OPS.pollAdd, this), events, options);
    op.named = true;
    return this._submit(op);
  }

  /**
   * Removes a poll started by pollAdd(); the poll's promise rejects with
   * ECANCELED. Resolves with 0, or rejects ENOENT if it already completed.
   */
  pollRemove(poll: Promise<number>, options?: OpOptions): Promise<number> {
    return this._submit(data.pollRemove(this, poll, options));
  }

  // ---- paths --------------------------------------------------------------

  /** openat(2): resolves with a new fd (close-on-exec is up to `flags`). */
  openat(path: PathLike, flags = O_RDONLY, mode = 0o666, options?: OpenOptions): Promise<number> {
    return this._submit(paths.openat(path, flags, mode, options));
  }

  /** openat2(2) with RESOLVE_* flags; resolves with a new fd. */
  openat2(path: PathLike, flags = O_RDONLY, mode = 0, options?: Open2Options): Promise<number> {
    return this._submit(paths.openat2(this, path, flags, mode, options));
  }

  /** close(2) of a plain fd, on the ring. A registered slot is closed with closeDirect(). */
  closeFd(fd: number, options?: OpOptions): Promise<number> {
    return this._submit(paths.close(fd, options));
  }

  /**
   * statx(2). Resolves with a Statx. For an open file pass `''` as the path
   * with `{ dirfd: fd, flags: AT_EMPTY_PATH }`, or use fstat().
   */
  statx(path: PathLike, options?: StatxOptions): Promise<Statx> {
    return this._submit(paths.statx(path, options));
  }

  /** statx of an open fd (AT_EMPTY_PATH). */
  fstat(fd: number, options?: OpOptions): Promise<Statx> {
    return this._submit(paths.fstat(fd, options));
  }

  /** renameat2(2). */
  renameat(oldPath: PathLike, newPath: PathLike, options?: TwoDirOptions): Promise<number> {
    return this._submit(paths.twoPath(OPS.renameat, oldPath, newPath, options));
  }

  /** unlinkat(2); `flags: AT_REMOVEDIR` removes a directory. */
  unlinkat(path: PathLike, options?: AtOptions): Promise<number> {
    return this._submit(paths.unlinkat(path, options));
  }

  /** mkdirat(2). */
  mkdirat(path: PathLike, mode = 0o777, options?: AtOptions): Promise<number> {
    return this._submit(paths.mkdirat(path, mode, options));
  }

  /** symlinkat(2): creates `linkPath` pointing at `target`. */
  symlinkat(target: PathLike, linkPath: PathLike, options?: AtOptions): Promise<number> {
    return this._submit(paths.symlinkat(target, linkPath, options));
  }

  /** linkat(2): `flags: AT_SYMLINK_FOLLOW` follows a symlink source. */
  linkat(oldPath: PathLike, newPath: PathLike, options?: TwoDirOptions): Promise<number> {
    return this._submit(paths.twoPath(OPS.linkat, oldPath, newPath, options));
  }

  // ---- time ---------------------------------------------------------------

  /**
   * Resolves after `ms` milliseconds, timed by the kernel (IORING_OP_TIMEOUT).
   * With `{ signal }` it rejects with an AbortError when aborted.
   * @example
   * ```ts
   * await ring.sleep(10);
   * ```
   */
  sleep(ms: number, options?: OpOptions): Promise<void> {
    return this._submit(time.sleep(ms, options));
  }

  /**
   * A kernel timeout: `ms` from now, or a TimeoutSpec with a completion
   * `count`, an absolute `at` and a `clock`. Resolves 'expired' when its time
   * came, 'count' when that many other requests completed first; rejects
   * ECANCELED when removed with timeoutRemove(). Errors: ERR_INVALID_ARG_*,
   * ERR_OUT_OF_RANGE for a bad spec (before anything is submitted).
   * @example
   * ```ts
   * const t = ring.timeout({ ms: 1000, count: 4 });   // 4 completions or 1 s
   * const deadline = ring.timeout({ at: Date.now() + 50, clock: 'realtime' });
   * ```
   */
  timeout(spec: number | TimeoutSpec, options?: OpOptions): Promise<TimeoutResult> {
    return this._submit(time.timeout(spec, options));
  }

  /**
   * Removes a pending timeout() or sleep(); it rejects with ECANCELED.
   * Resolves 0, or rejects ENOENT when it already fired.
   */
  timeoutRemove(target: Promise<unknown>, options?: OpOptions): Promise<number> {
    return this._submit(time.timeoutRemove(this, target, options));
  }

  /**
   * Gives a pending timeout() or sleep() a new time (milliseconds from now,
   * or a TimeoutSpec with `ms` or `at` and `clock`). Resolves 0, or rejects
   * ENOENT when it already fired.
   */
  timeoutUpdate(target: Promise<unknown>, spec: number | TimeoutSpec, options?: OpOptions): Promise<number> {
    return this._submit(time.timeoutUpdate(this, target, spec, options));
  }

  // ---- cancellation -------------------------------------------------------

  /**
   * Cancels the request whose promise is `target` (IORING_OP_ASYNC_CANCEL).
   * Resolves true when the kernel cancelled it (the target then rejects with
   * ECANCELED), false when it had already completed, is not from this ring,
   * or was too far along to stop. The target settles exactly once either way,
   * and keeps its buffers until its own completion.
   * @example
   * ```ts
   * const p = ring.read(pipeFd, buf);
   * await ring.cancel(p);          // true
   * await p.catch((e) => e.code);  // 'ECANCELED'
   * ```
   */
  cancel(target: Promise<unknown>, options?: OpOptions): Promise<boolean> {
    return cancels.cancel(this, target, options);
  }

  /**
   * Cancels every request on a file: a plain fd or a FixedFile
   * (IORING_ASYNC_CANCEL_FD | ALL; Linux 5.19+, registered files 6.0+).
   * Resolves with how many requests were cancelled.
   */
  cancelFd(file: FileRef, options?: OpOptions): Promise<number> {
    return this._submit(cancels.cancelFd(this, file, options));
  }

  /** Cancels every request in flight on this ring (Linux 5.19+). Resolves with how many. */
  cancelAll(options?: OpOptions): Promise<number> {
    return this._submit(cancels.cancelAll(options));
  }

  /**
   * Starts a chain of linked requests: add steps, then `submit()` sends them
   * as one unit and resolves with each step's result. See Chain.
   * @example
   * ```ts
   * const [open, read, close] = await ring.chain()
   *   .openDirect(slot, '/etc/hostname')
   *   .read(slot, buf)
   *   .hardlink()            // close the slot even if the read fails
   *   .closeDirect(slot)
   *   .submit();
   * ```
   */
  chain(options?: ChainOptions): Chain<[]> {
    this._checkOpen();
    return new Chain(this, options);
  }
}


/**
 * Promise-returning methods reject, never throw: a bad argument becomes a
 * rejected promise (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE, ERR_RING_CLOSED),
 * as in node:fs/promises. Validation still runs before any SQE is taken.
 */
export function rejectInsteadOfThrow(proto: object, names: readonly string[]): void {
  const target = proto as Record<string, unknown>;
  for (const name of names) {
    const f = target[name];
    if (typeof f !== 'function') throw new Error(`no method ${name}`);
    const wrapped = function (this: unknown, a?: unknown, b?: unknown, c?: unknown, d?: unknown,
      e?: unknown, g?: unknown, h?: unknown): unknown {
      try {
        return f.call(this, a, b, c, d, e, g, h);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    Object.defineProperty(proto, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  }
}

rejectInsteadOfThrow(Ring.prototype, [
  'nop', 'read', 'write', 'readMany', 'writeMany', 'readv', 'writev', 'fsync', 'fdatasync', 'syncFileRange', 'fallocate',
  'fadvise', 'ftruncate', 'openat', 'openat2', 'closeFd', 'statx', 'fstat', 'renameat', 'unlinkat',
  'mkdirat', 'symlinkat', 'linkat', 'splice', 'tee', 'pollAdd', 'pollRemove',
  'readFixed', 'writeFixed', 'sendFixed', 'sleep', 'timeout', 'timeoutRemove', 'timeoutUpdate',
  'cancel', 'cancelFd', 'cancelAll',
]);

rejectInsteadOfThrow(FileTable.prototype, [
  'openat', 'openat2', 'socket', 'accept', 'close', 'install', 'updateAsync', 'send', 'released', 'receive',
]);
