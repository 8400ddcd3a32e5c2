// The ring users construct: the data operations of ring-io.ts plus paths,
// timeouts, cancellation, chains and the registered file and buffer tables.
// Each method validates everything first (a refused call consumes no SQE and
// makes no syscall), writes one SQE through prep(), and returns a promise of
// the kernel's result.
import {
  O_RDONLY, AT_EMPTY_PATH, AT_REMOVEDIR,
} from './constants';
import { OpOptions, RingOptions } from './ring-core';
import { RingIo } from './ring-io';
export type { SyncOptions, FixedIoOptions, SendOptions } from './ring-io';
import { OPS, OpSpec } from './opcodes';
import { prep } from './sq';
import { cstring, internalAddress } from './memory';
import { FixedFile, FileRef, refuseFixed } from './files';
import { abortedBeforeStart, optionSlots } from './submit-options';
import {
  PathLike, dirfdOf, openHow, pathString, prepClose, prepOpenat, prepStatx, 
} from './op-prep';
import {
  validateFd, validateInt32, validateInteger, validateUint32,
} from './validators';
import { invalidArgValue } from './errors';
import { Statx } from './statx';
import { FileTable } from './file-table';
import { registerRingFd, unregisterRingFd } from './ring-fd';
import * as timeouts from './timeouts';
import * as cancels from './cancel';
import { Chain, ChainOptions } from './chain';
import type { TimeoutResult, TimeoutSpec } from './timeouts';

export type { OpOptions, RingOptions };

export type { PathLike };

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
export class Ring extends RingIo {
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

  /** openat(2): resolves with a new fd (close-on-exec is up to `flags`). */
  openat(path: PathLike, flags = O_RDONLY, mode = 0o666, options?: OpenOptions): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepOpenat(this, n, path, flags, mode, options);
    const p = this._op(i, this._takeHold(), OPS.openat, options, pathString(path));
    this.returnsFd(i);
    return p;
  }

  /**
   * Marks the request at SQE `i` as one whose result is a new fd: if destroy()
   * has already rejected its promise, the fd that still arrives is closed
   * rather than leaked.
   */
  private returnsFd(i: number): void {
    this._req.get(this._w[i + 8]!)!.returnsFd = true;
  }

  /** openat2(2) with RESOLVE_* flags; resolves with a new fd. */
  openat2(path: PathLike, flags = O_RDONLY, mode = 0, options?: Open2Options): Promise<number> {
    this._checkOpen();
    this._need(OPS.openat2.op, 'OPENAT2');
    const p = cstring(path, 'path');
    validateInt32(flags, 'flags');
    validateInteger(mode, 'mode', 0, 0o7777);
    const dirfd = dirfdOf(options);
    const how = openHow(flags, mode, options?.resolve);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    prep(this._w, i, OPS.openat2.op, 0, dirfd, internalAddress(p), 24, internalAddress(how));
    const promise = this._op(i, [p, how], OPS.openat2, options, pathString(path));
    this.returnsFd(i);
    return promise;
  }

  /** close(2) of a plain fd, on the ring. A registered slot is closed with closeDirect(). */
  closeFd(fd: number, options?: OpOptions): Promise<number> {
    this._checkOpen();
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    return this._op(prepClose(this, n, fd), undefined, OPS.close, options);
  }

  /**
   * statx(2). Resolves with a Statx. For an open file pass `''` as the path
   * with `{ dirfd: fd, flags: AT_EMPTY_PATH }`, or use fstat().
   */
  statx(path: PathLike, options?: StatxOptions): Promise<Statx> {
    this._checkOpen();
    if (path instanceof FixedFile) refuseFixed(path, 'path', 'statx');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = prepStatx(this, n, path, options);
    const hold = this._takeHold() as [Buffer, Uint8Array];
    const shown = pathString(path);
    return this._op(i, hold, OPS.statx, options, shown === '' ? undefined : shown, () => new Statx(hold[1]));
  }

  /** statx of an open fd (AT_EMPTY_PATH). */
  fstat(fd: number, options?: OpOptions): Promise<Statx> {
    refuseFixed(fd, 'fd', 'statx');
    validateFd(fd, 'fd');
    return this.statx('', { ...options, dirfd: fd, flags: AT_EMPTY_PATH });
  }

  /** renameat2(2). */
  renameat(oldPath: PathLike, newPath: PathLike, options?: TwoDirOptions): Promise<number> {
    return this.twoPath(OPS.renameat, oldPath, newPath, options);
  }

  /** renameat and linkat: two paths, each with its own directory, and flags. */
  private twoPath(spec: OpSpec, oldPath: PathLike, newPath: PathLike, options: TwoDirOptions | undefined): Promise<number> {
    this._checkOpen();
    const a = cstring(oldPath, 'oldPath');
    const b = cstring(newPath, 'newPath');
    const od = dirfdOf(options?.oldDirfd === undefined ? undefined : { dirfd: options.oldDirfd }, 'options.oldDirfd');
    const nd = dirfdOf(options?.newDirfd === undefined ? undefined : { dirfd: options.newDirfd }, 'options.newDirfd');
    const flags = options?.flags === undefined ? 0 : validateUint32(options.flags, 'options.flags');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, spec.op, 0, od, internalAddress(a), nd, internalAddress(b));
    w[i + 7] = flags;
    return this._op(i, [a, b], spec, options, pathString(oldPath), undefined, pathString(newPath));
  }

  /** unlinkat(2); `flags: AT_REMOVEDIR` removes a directory. */
  unlinkat(path: PathLike, options?: AtOptions): Promise<number> {
    this._checkOpen();
    const p = cstring(path, 'path');
    const dirfd = dirfdOf(options);
    const flags = options?.flags === undefined ? 0 : validateUint32(options.flags, 'options.flags');
    if (flags & ~AT_REMOVEDIR) throw invalidArgValue('options.flags', flags, 'may only contain AT_REMOVEDIR');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    const w = this._w;
    prep(w, i, OPS.unlinkat.op, 0, dirfd, internalAddress(p), 0, 0);
    w[i + 7] = flags;
    return this._op(i, p, OPS.unlinkat, options, pathString(path));
  }

  /** mkdirat(2). */
  mkdirat(path: PathLike, mode = 0o777, options?: AtOptions): Promise<number> {
    this._checkOpen();
    const p = cstring(path, 'path');
    validateInteger(mode, 'mode', 0, 0o7777);
    const dirfd = dirfdOf(options);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    prep(this._w, i, OPS.mkdirat.op, 0, dirfd, internalAddress(p), mode, 0);
    return this._op(i, p, OPS.mkdirat, options, pathString(path));
  }

  /** symlinkat(2): creates `linkPath` pointing at `target`. */
  symlinkat(target: PathLike, linkPath: PathLike, options?: AtOptions): Promise<number> {
    this._checkOpen();
    const t = cstring(target, 'target');
    const l = cstring(linkPath, 'linkPath');
    const dirfd = dirfdOf(options);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = this._sqe(n);
    prep(this._w, i, OPS.symlinkat.op, 0, dirfd, internalAddress(t), 0, internalAddress(l));
    return this._op(i, [t, l], OPS.symlinkat, options, pathString(target), undefined, pathString(linkPath));
  }

  /** linkat(2): `flags: AT_SYMLINK_FOLLOW` follows a symlink source. */
  linkat(oldPath: PathLike, newPath: PathLike, options?: TwoDirOptions): Promise<number> {
    return this.twoPath(OPS.linkat, oldPath, newPath, options);
  }

  /**
   * Resolves after `ms` milliseconds, timed by the kernel (IORING_OP_TIMEOUT).
   * With `{ signal }` it rejects with an AbortError when aborted.
   * @example
   * ```ts
   * await ring.sleep(10);
   * ```
   */
  sleep(ms: number, options?: OpOptions): Promise<void> {
    return timeouts.sleep(this, ms, options);
  }

  /**
   * A kernel timeout: `ms` from now, or a TimeoutSpec with a completion
   * `count`, an absolute `at` and a `clock`. Resolves 'expired' when its time
   * came, 'count' when that many other requests completed first; rejects
   * ECANCELED when removed with timeoutRemove(). Errors: ERR_INVALID_ARG_*,
   * ERR_OUT_OF_RANGE for a bad spec (thrown before anything is submitted).
   * @example
   * ```ts
   * const t = ring.timeout({ ms: 1000, count: 4 });   // 4 completions or 1 s
   * const deadline = ring.timeout({ at: Date.now() + 50, clock: 'realtime' });
   * ```
   */
  timeout(spec: number | TimeoutSpec, options?: OpOptions): Promise<TimeoutResult> {
    return timeouts.timeout(this, spec, options);
  }

  /**
   * Removes a pending timeout() or sleep(); it rejects with ECANCELED.
   * Resolves 0, or rejects ENOENT when it already fired.
   */
  timeoutRemove(target: Promise<unknown>, options?: OpOptions): Promise<number> {
    return timeouts.timeoutRemove(this, target, options);
  }

  /**
   * Gives a pending timeout() or sleep() a new time (milliseconds from now,
   * or a TimeoutSpec with `ms` or `at` and `clock`). Resolves 0, or rejects
   * ENOENT when it already fired.
   */
  timeoutUpdate(target: Promise<unknown>, spec: number | TimeoutSpec, options?: OpOptions): Promise<number> {
    return timeouts.timeoutUpdate(this, target, spec, options);
  }

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
    return cancels.cancelFd(this, file, options);
  }

  /** Cancels every request in flight on this ring (Linux 5.19+). Resolves with how many. */
  cancelAll(options?: OpOptions): Promise<number> {
    return cancels.cancelAll(this, options);
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
  'nop', 'read', 'write', 'readv', 'writev', 'fsync', 'fdatasync', 'syncFileRange', 'fallocate',
  'fadvise', 'ftruncate', 'openat', 'openat2', 'closeFd', 'statx', 'fstat', 'renameat', 'unlinkat',
  'mkdirat', 'symlinkat', 'linkat', 'splice', 'tee', 'pollAdd', 'pollRemove',
  'readFixed', 'writeFixed', 'sendFixed', 'sleep', 'timeout', 'timeoutRemove', 'timeoutUpdate',
  'cancel', 'cancelFd', 'cancelAll',
]);

rejectInsteadOfThrow(FileTable.prototype, [
  'openat', 'openat2', 'socket', 'accept', 'close', 'install', 'updateAsync', 'send', 'released', 'receive',
]);
