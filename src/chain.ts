// Linked requests: several operations submitted as one unit, each started only
// after the one before it completed (IOSQE_IO_LINK), or after it completed
// whatever its result (IOSQE_IO_HARDLINK). Each step is read, validated and
// built by the same builders as the single-operation methods; submit() hands
// the Operations to the ring's funnel as one unit, which pins the callers'
// views then, reserves the whole chain at once (so it is never split between
// two submissions: the kernel would cut the link there) and encodes it.
import {
  IOSQE_IO_DRAIN, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, O_RDONLY, TIMEOUT_ETIME_SUCCESS,
} from './constants';
import { OPS, OpSpec } from './opcodes';
import { UringError, invalidArgValue, systemError } from './errors';
import { fileTarget } from './files';
import type { FileRef, FixedFile } from './files';
import { Operation } from './operation';
import * as data from './ops/data';
import * as paths from './ops/paths';
import * as direct from './direct';
import { encodeTimeout, timeoutOp } from './ops/time';
import type { PathLike } from './ops/paths';
import type { Statx } from './statx';
import type { CqeHandler } from './requests';
import { ECANCELED, optionsOf } from './options';
import type { Ring } from './ring';

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
  op: Operation;
  /** Bytes the step asks for (a smaller result is short), or -1. */
  expect: number;
  hard: boolean;
}

/**
 * A chain of linked requests under construction; get one from
 * `ring.chain()`. Each method reads and validates its arguments at once
 * (throwing as the single-operation method would) and adds a step;
 * `submit()` sends the chain and resolves with every step's result. A chain
 * is submitted once. The callers' buffers are pinned at submit(): a buffer
 * detached between adding its step and submit() makes submit() reject,
 * and nothing of the chain is submitted.
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
  private readonly steps: Step[] = [];
  private readonly hardAll: boolean;
  private readonly drain: boolean;
  private submitted = false;

  /** @internal Use ring.chain(). */
  constructor(ring: Ring, options?: ChainOptions) {
    const { link = 'soft', drain } = optionsOf(options) ?? {};
    if (link !== 'soft' && link !== 'hard') throw invalidArgValue('options.link', link, "must be 'soft' or 'hard'");
    this.ring = ring;
    this.hardAll = link === 'hard';
    this.drain = drain === true;
  }

  /** Steps added so far. */
  get length(): number {
    return this.steps.length;
  }

  private add<T>(op: Operation, expect = -1): Chain<[...R, T]> {
    if (this.submitted) throw new UringError('ERR_CHAIN_SUBMITTED', 'This chain was already submitted');
    this.steps.push({ op, expect, hard: this.hardAll });
    return this as unknown as Chain<[...R, T]>;
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
    return this.add(data.nop(undefined));
  }

  /** Reads into all of `buffer`; fewer bytes than its length is a short read, which breaks a soft link. */
  read(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null): Chain<[...R, number]> {
    const op = data.rw(OPS.read, fileTarget(file, OPS.read, this.ring), buffer, position);
    return this.add(op, op.len);
  }

  /** Writes all of `buffer`; a short write breaks a soft link. */
  write(file: FileRef, buffer: ArrayBufferView, position?: number | bigint | null): Chain<[...R, number]> {
    const op = data.rw(OPS.write, fileTarget(file, OPS.write, this.ring), buffer, position);
    return this.add(op, op.len);
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
    const op = data.vector(spec, fileTarget(file, spec, this.ring), buffers, position);
    return this.add(op, data.vectorLength(op));
  }

  /** fsync (or fdatasync with `datasync: true`). */
  fsync(file: FileRef, options?: { datasync?: boolean }): Chain<[...R, number]> {
    const { datasync } = optionsOf(options) ?? {};
    return this.add(data.fsync(fileTarget(file, OPS.fsync, this.ring), undefined, datasync === true));
  }

  /** openat: the step's value is the new fd (a later step cannot use it: use openDirect for that). */
  openat(path: PathLike, flags = O_RDONLY, mode = 0o666, options?: { dirfd?: number }): Chain<[...R, number]> {
    const { dirfd } = optionsOf(options) ?? {};
    return this.add(paths.openat(path, flags, mode, { dirfd }));
  }

  /**
   * Opens `path` into the registered slot `file` (a direct descriptor), so
   * that later steps of this chain can use `file`. Needs a registered file
   * table and, for use later in the same chain, IORING_FEAT_LINKED_FILE.
   * O_CLOEXEC is refused by the kernel (EINVAL).
   */
  openDirect(file: FixedFile, path: PathLike, flags = O_RDONLY, mode = 0o666,
    options?: { dirfd?: number }): Chain<[...R, number]> {
    const op = direct.openInto(this.ring.files, file, path, flags, mode, options);
    op.map = undefined; // the step's value is the kernel's 0
    return this.add(op);
  }

  /** close of a plain fd. */
  close(fd: number): Chain<[...R, number]> {
    return this.add(paths.close(fd, undefined));
  }

  /** Closes the registered slot `file` (close_direct). */
  closeDirect(file: FixedFile): Chain<[...R, number]> {
    const op = direct.close(this.ring.files, file, undefined);
    op.map = undefined;
    return this.add(op);
  }

  /** statx; the step's value is a Statx. */
  statx(path: PathLike, options?: { dirfd?: number; flags?: number; mask?: number }): Chain<[...R, Statx]> {
    const { dirfd, flags, mask } = optionsOf(options) ?? {};
    return this.add(paths.statx(path, { dirfd, flags, mask }));
  }

  /** splice between two files, one a pipe (offsets -1/null: the current position). */
  splice(fdIn: FileRef, offIn: number | bigint | null, fdOut: FileRef, offOut: number | bigint | null,
    nbytes: number, flags = 0): Chain<[...R, number]> {
    return this.add(data.splice(OPS.splice, fileTarget(fdIn, OPS.splice, this.ring, 'fdIn'), offIn,
      fileTarget(fdOut, OPS.splice, this.ring, 'fdOut'), offOut, nbytes, flags, undefined));
  }

  /**
   * Waits `ms` milliseconds before the next step. Its expiry counts as
   * success (IORING_TIMEOUT_ETIME_SUCCESS, Linux 5.16+), so it does not break the link.
   */
  sleep(ms: number): Chain<[...R, void]> {
    const e = encodeTimeout(ms, 'ms');
    e.flags |= TIMEOUT_ETIME_SUCCESS;
    const op = timeoutOp(e);
    op.okRes = ETIME;
    op.map = () => undefined;
    op.waiter = true;
    return this.add(op);
  }

  /**
   * Submits the chain as one unit and resolves with each step's result once
   * every step has completed. Never rejects for a step's failure; rejects
   * (submitting nothing) with ERR_CHAIN_SUBMITTED when called twice,
   * ERR_OUT_OF_RANGE when the chain is longer than the SQ, ERR_RING_CLOSED on
   * a closed ring, and ERR_INVALID_ARG_VALUE when a step's buffer was
   * detached since it was added.
   */
  submit(): Promise<ChainResults<R>> {
    try {
      return this.submitNow();
    } catch (err) {
      // Like every promise-returning method: reject, never throw.
      return Promise.reject(err);
    }
  }

  private submitNow(): Promise<ChainResults<R>> {
    if (this.submitted) throw new UringError('ERR_CHAIN_SUBMITTED', 'This chain was already submitted');
    const steps = this.steps;
    const n = steps.length;
    if (n === 0) {
      this.ring._checkOpen();
      this.submitted = true;
      return Promise.resolve([] as unknown as ChainResults<R>);
    }
    const results = new Array<number>(n);
    let left = n;
    let resolve!: (v: ChainResults<R>) => void;
    const promise = new Promise<ChainResults<R>>((r) => { resolve = r; });
    const ops = new Array<Operation>(n);
    const links = new Array<number>(n);
    const handlers = new Array<CqeHandler>(n);
    for (let k = 0; k < n; k++) {
      ops[k] = steps[k]!.op;
      links[k] = (k < n - 1 ? (steps[k]!.hard ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK) : 0)
        | (k === 0 && this.drain ? IOSQE_IO_DRAIN : 0);
      handlers[k] = (res) => {
        results[k] = res;
        if (--left === 0) resolve(settle(steps, results) as ChainResults<R>);
      };
    }
    this.ring._submitLinked(ops, links, handlers);
    this.submitted = true;
    return promise;
  }
}

/** Turns the steps' raw results into StepResults, naming what broke a link. */
function settle(steps: Step[], res: number[]): StepResult<unknown>[] {
  const out: StepResult<unknown>[] = [];
  let broken: { step: number; reason: 'error' | 'short' } | undefined;
  for (let k = 0; k < steps.length; k++) {
    const { op, expect, hard } = steps[k]!;
    const r = res[k]!;
    const last = k === steps.length - 1;
    if (r >= 0 || r === op.okRes) {
      const short = expect >= 0 && r < expect;
      out.push(short ? { status: 'fulfilled', value: r, short: true }
        : { status: 'fulfilled', value: op.map === undefined ? r : op.map(r, 0) });
      if (short && !hard && !last && broken === undefined) broken = { step: k, reason: 'short' };
    } else {
      const reason = systemError(r, op.syscall, { path: op.path });
      out.push(r === ECANCELED && broken !== undefined
        ? { status: 'rejected', reason, brokenBy: broken }
        : { status: 'rejected', reason });
      if (!hard && !last && broken === undefined) broken = { step: k, reason: 'error' };
    }
  }
  return out;
}
