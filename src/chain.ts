// Linked requests: several operations submitted as one unit, each started only
// after the one before it completed (IOSQE_IO_LINK), or after it completed
// whatever its result (IOSQE_IO_HARDLINK). Each step is validated and encoded
// by the same prep functions as the single-operation methods, into a scratch
// area; submit() copies the whole chain into the SQ in one piece, so it is
// never split between two submissions (the kernel would cut the link there).
import {
  IOSQE_IO_DRAIN, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, O_RDONLY, TIMEOUT_ETIME_SUCCESS,
} from './constants';
import { OPS, OpSpec } from './opcodes';
import { UringError, systemError } from './errors';
import { FileRef, FixedFile, fixedSlot } from './files';
import {
  PathLike, SqeTarget, pathString, prepCloseDirect, prepClose, prepFsync, prepNop, prepOpenat,
  prepRw, prepSplice, prepStatx, prepVector, vectorLength,
} from './op-prep';
import { encodeTimeout, prepTimeout } from './timeouts';
import { Statx } from './statx';
import { invalidArgType, invalidArgValue } from './errors';
import { validateObject } from './validators';
import type { Ring } from './ring';

const ECANCELED = -125;
const ETIME = -62;

/** How each step of a chain turned out, in the shape of Promise.allSettled(). */
export type StepResult<T> =
  | {
    status: 'fulfilled';
    value: T;
    /** A read or write moved fewer bytes than asked; a soft link after it was broken. */
    short?: true;
  }
  | {
    status: 'rejected';
    reason: Error;
    /**
     * Set when the step never ran because an earlier step broke the link:
     * the index of that step, and whether it failed or was short.
     */
    brokenBy?: { step: number; reason: 'error' | 'short' };
  };

/** The results of a chain, one per step, typed by the steps added. */
export type ChainResults<R extends unknown[]> = { [K in keyof R]: StepResult<R[K]> };

/** Options of a chain. */
export interface ChainOptions {
  /**
   * 'soft' (default): a step that fails, or reads/writes short, cancels the
   * rest with ECANCELED (IOSQE_IO_LINK). 'hard': every step runs whatever
   * the results before it (IOSQE_IO_HARDLINK).
   */
  link?: 'soft' | 'hard';
  /** Start the chain only after every request submitted before it has completed (IOSQE_IO_DRAIN). */
  drain?: boolean;
}

interface Step {
  syscall: string;
  hold: unknown;
  path: string | undefined;
  /** Bytes the step asks for (a smaller result is short), or -1. */
  expect: number;
  map: ((res: number) => unknown) | undefined;
  okRes: number;
  hard: boolean;
  waiter: boolean;
}

/** The scratch SQEs a chain is encoded into before it goes to the ring. */
class Scratch implements SqeTarget {
  _w = new Uint32Array(16 * 4);
  _hold: unknown = undefined;
  count = 0;
  _sqe(): number {
    const i = this.count * 16;
    if (i + 16 > this._w.length) {
      const next = new Uint32Array(this._w.length * 2);
      next.set(this._w);
      this._w = next;
    }
    this.count++;
    return i;
  }
}

/**
 * A chain of linked requests under construction; get one from
 * `ring.chain()`. Each method validates its arguments at once (throwing as
 * the single-operation method would) and adds a step; `submit()` sends the
 * chain and resolves with every step's result. A chain is submitted once.
 *
 * @example
 * ```ts
 * const [r, w] = await ring.chain()
 *   .read(src, buf, 0)
 *   .write(dst, buf, 0)
 *   .submit();
 * if (r.status === 'fulfilled' && r.short) console.log('short read: write cancelled', w);
 * ```
 */
export class Chain<R extends unknown[] = []> {
  private readonly ring: Ring;
  private readonly scratch = new Scratch();
  private readonly steps: Step[] = [];
  private readonly hardAll: boolean;
  private readonly drain: boolean;
  private submitted = false;

  /** @internal Use ring.chain(). */
  constructor(ring: Ring, options?: ChainOptions) {
    if (options !== undefined) validateObject(options, 'options');
    const link = options?.link ?? 'soft';
    if (link !== 'soft' && link !== 'hard') throw invalidArgValue('options.link', link, "must be 'soft' or 'hard'");
    this.ring = ring;
    this.hardAll = link === 'hard';
    this.drain = options?.drain === true;
  }

  /** Steps added so far. */
  get length(): number {
    return this.steps.length;
  }

  private add<T>(syscall: string, expect = -1, path?: string, map?: (res: number) => T, okRes = 0,
    waiter = false): Chain<[...R, T]> {
    const hold = this.scratch._hold;
    this.scratch._hold = undefined;
    this.steps.push({ syscall, hold, path, expect, map, okRes, hard: this.hardAll, waiter });
    return this as unknown as Chain<[...R, T]>;
  }

  private check(): void {
    if (this.submitted) throw new UringError('ERR_CHAIN_SUBMITTED', 'This chain was already submitted');
  }

  /** Makes the link between the last step added and the next one hard: the next step runs even if the last fails. */
  hardlink(): this {
    const last = this.steps[this.steps.length - 1];
    if (last === undefined) throw new UringError('ERR_INVALID_STATE', 'hardlink() needs a step before it');
    last.hard = true;
    return this;
  }

  /** A step that does nothing (resolves 0). */
  nop(): Chain<[...R, number]> {
    this.check();
    prepNop(this.scratch, 1);
    return this.add('nop');
  }

  /** Reads into all of `buffer`; fewer bytes than its length is a short read, which breaks a soft link. */
  read(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null): Chain<[...R, number]> {
    this.check();
    prepRw(this.ring, this.scratch, 1, OPS.read, file, buffer, position);
    this.scratch._hold = buffer;
    return this.add(OPS.read.name, buffer.byteLength);
  }

  /** Writes all of `buffer`; a short write breaks a soft link. */
  write(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null): Chain<[...R, number]> {
    this.check();
    prepRw(this.ring, this.scratch, 1, OPS.write, file, buffer, position);
    this.scratch._hold = buffer;
    return this.add(OPS.write.name, buffer.byteLength);
  }

  /** Scatter read; short when fewer bytes than the buffers hold. */
  readv(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null): Chain<[...R, number]> {
    return this.vector(OPS.readv, file, buffers, position);
  }

  /** Gather write; short when fewer bytes than the buffers hold. */
  writev(file: FileRef, buffers: readonly ArrayBufferView[], position?: number | bigint | null): Chain<[...R, number]> {
    return this.vector(OPS.writev, file, buffers, position);
  }

  private vector(spec: OpSpec, file: FileRef, buffers: readonly ArrayBufferView[],
    position: number | bigint | null | undefined): Chain<[...R, number]> {
    this.check();
    prepVector(this.ring, this.scratch, 1, spec, file, buffers, position);
    return this.add(spec.name, vectorLength(buffers));
  }

  /** fsync (or fdatasync with `datasync: true`). */
  fsync(file: FileRef, options?: { datasync?: boolean }): Chain<[...R, number]> {
    this.check();
    const datasync = options?.datasync === true;
    prepFsync(this.ring, this.scratch, 1, file, datasync);
    return this.add(datasync ? 'fdatasync' : OPS.fsync.name);
  }

  /** openat: the step's value is the new fd (a later step cannot use it: use openDirect for that). */
  openat(path: PathLike, flags = O_RDONLY, mode = 0o666, options?: { dirfd?: number }): Chain<[...R, number]> {
    this.check();
    prepOpenat(this.scratch, 1, path, flags, mode, options);
    return this.add(OPS.openat.name, -1, pathString(path));
  }

  /**
   * Opens `path` into the registered slot `file` (a direct descriptor), so
   * that later steps of this chain can use `file`. Needs a registered file
   * table and, for use later in the same chain, IORING_FEAT_LINKED_FILE.
   * O_CLOEXEC is refused by the kernel (EINVAL).
   */
  openDirect(file: FixedFile, path: PathLike, flags = O_RDONLY, mode = 0o666,
    options?: { dirfd?: number }): Chain<[...R, number]> {
    this.check();
    if (!(file instanceof FixedFile)) throw invalidArgType('file', 'an instance of FixedFile', file);
    const slot = fixedSlot(file, this.ring, 'file');
    prepOpenat(this.scratch, 1, path, flags, mode, options, slot + 1);
    // Keep ring.files' view of the table in step with the kernel's.
    const files = this.ring.files;
    return this.add(OPS.openat.name, -1, pathString(path), (res) => { files._installed(slot); return res; });
  }

  /** close of a plain fd. */
  close(fd: number): Chain<[...R, number]> {
    this.check();
    prepClose(this.scratch, 1, fd);
    return this.add(OPS.close.name);
  }

  /** Closes the registered slot `file` (close_direct). */
  closeDirect(file: FixedFile): Chain<[...R, number]> {
    this.check();
    prepCloseDirect(this.ring, this.scratch, 1, file);
    const files = this.ring.files;
    const slot = file.index;
    return this.add(OPS.close.name, -1, undefined, (res) => { files._removed(slot); return res; });
  }

  /** statx; the step's value is a Statx. */
  statx(path: PathLike, options?: { dirfd?: number; flags?: number; mask?: number }): Chain<[...R, Statx]> {
    this.check();
    prepStatx(this.scratch, 1, path, options);
    const out = (this.scratch._hold as [Buffer, Uint8Array])[1];
    const shown = pathString(path);
    return this.add(OPS.statx.name, -1, shown === '' ? undefined : shown, () => new Statx(out));
  }

  /** splice between two files, one a pipe (offsets -1/null: the current position). */
  splice(fdIn: FileRef, offIn: number | bigint | null, fdOut: FileRef, offOut: number | bigint | null,
    nbytes: number, flags = 0): Chain<[...R, number]> {
    this.check();
    prepSplice(this.ring, this.scratch, 1, OPS.splice, fdIn, offIn, fdOut, offOut, nbytes, flags);
    return this.add(OPS.splice.name);
  }

  /**
   * Waits `ms` milliseconds before the next step. Its expiry counts as
   * success (IORING_TIMEOUT_ETIME_SUCCESS, Linux 5.16+), so it does not break the link.
   */
  sleep(ms: number): Chain<[...R, void]> {
    this.check();
    const e = encodeTimeout(ms, 'ms');
    e.flags |= TIMEOUT_ETIME_SUCCESS;
    prepTimeout(this.scratch, 1, e);
    this.scratch._hold = e.ts;
    return this.add(OPS.timeout.name, -1, undefined, () => undefined, ETIME, true);
  }

  /**
   * Submits the chain as one unit and resolves with each step's result once
   * every step has completed. Never rejects for a step's failure; throws
   * ERR_CHAIN_SUBMITTED when called twice, ERR_OUT_OF_RANGE when the chain is
   * longer than the SQ, ERR_RING_CLOSED on a closed ring.
   */
  submit(): Promise<ChainResults<R>> {
    this.check();
    const ring = this.ring;
    ring._checkOpen();
    const steps = this.steps;
    const n = steps.length;
    if (n === 0) {
      this.submitted = true;
      return Promise.resolve([] as unknown as ChainResults<R>);
    }
    const src = this.scratch._w;
    const results = new Array<number>(n);
    let left = n;
    let resolve!: (v: ChainResults<R>) => void;
    const promise = new Promise<ChainResults<R>>((r) => { resolve = r; });
    for (let k = 0; k < n; k++) {
      // The head reserves room for the whole chain; the others follow it.
      const i = ring._sqe(k === 0 ? n : 0);
      this.submitted = true;
      const w = ring._w;
      w.set(src.subarray(k * 16, k * 16 + 16), i);
      let flags = 0;
      if (k < n - 1) flags |= steps[k]!.hard ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK;
      if (k === 0 && this.drain) flags |= IOSQE_IO_DRAIN;
      w[i] = (w[i]! | (flags << 8)) >>> 0;
      const step = steps[k]!;
      const req = ring._trackHandler(i, step.hold, step.syscall, (res) => {
        results[k] = res;
        if (--left === 0) resolve(settle(steps, results) as ChainResults<R>);
      });
      req.waiter = step.waiter;
    }
    return promise;
  }
}

/** Turns the steps' raw results into StepResults, naming what broke a link. */
function settle(steps: Step[], res: number[]): StepResult<unknown>[] {
  const out: StepResult<unknown>[] = [];
  let broken: { step: number; reason: 'error' | 'short' } | undefined;
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k]!;
    const r = res[k]!;
    const last = k === steps.length - 1;
    if (r >= 0 || r === s.okRes) {
      const short = s.expect >= 0 && r < s.expect;
      out.push(short ? { status: 'fulfilled', value: r, short: true }
        : { status: 'fulfilled', value: s.map === undefined ? r : s.map(r) });
      if (short && !s.hard && !last && broken === undefined) broken = { step: k, reason: 'short' };
    } else {
      const reason = systemError(r, s.syscall, { path: s.path });
      out.push(r === ECANCELED && broken !== undefined
        ? { status: 'rejected', reason, brokenBy: broken }
        : { status: 'rejected', reason });
      if (!s.hard && !last && broken === undefined) broken = { step: k, reason: 'error' };
    }
  }
  return out;
}
