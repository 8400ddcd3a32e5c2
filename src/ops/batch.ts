// Batches: many reads (or writes) on one file that the caller hands over in
// one call and gets back as one promise, resolved once every one of them has
// completed. A promise per 4 KiB read from the page cache costs more than the
// read; a batch pays for one promise, one await and one pass through the
// funnel for all of its requests, and each request costs the ring only its
// SQE and its CQE. The builder reads the caller's arrays once into plain
// values, as every builder does; the funnel (RingCore._submitBatch) pins each
// distinct buffer once and places one SQE per entry.
import { Operation, FileTarget } from '../operation';
import { OpSpec } from '../opcodes';
import { measureViews, readArray } from '../memory';
import { cancelEnded, optionsOf, requestOptions, OpOptions } from '../options';
import { validatePosition } from '../validators';
import { invalidArgValue, outOfRange, systemError, AbortError } from '../errors';
import { Failure } from '../requests';
import type { Pin } from '../pins';

/** The most entries one batch takes. */
export const BATCH_MAX = 65536;

/** Options of readMany() and writeMany(). */
export interface BatchOptions {
  /** Cancels every request of the batch still in flight; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/**
 * A batch read from the caller once: the template SQE (opcode, file), and
 * per entry its view, byte count and file position.
 */
export class BatchOperation {
  constructor(
    /** The values every entry shares, and the name errors carry. */
    readonly op: Operation,
    readonly views: ArrayBufferView[],
    readonly lens: number[],
    readonly positions: (number | bigint)[],
    /** The engine's ArrayBuffer and byte offset of each view, read with its length. */
    readonly buffers: ArrayBufferLike[],
    readonly offsets: number[],
    /** Cancels the entries in flight; the batch, not each entry, listens to it. */
    readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * Whether entry `k` takes a pin of its own: it starts a run of entries on
   * one buffer (a batch over one arena is one run), or is empty (a
   * zero-length view is pinned apart, as the pin cache keeps no such pin).
   */
  startsRun(k: number): boolean {
    const { buffers, lens } = this;
    return k === 0 || buffers[k] !== buffers[k - 1] || lens[k] === 0 || lens[k - 1] === 0;
  }
}

/**
 * READ or WRITE of each of `buffers` (whole) at the matching entry of
 * `positions`, on one file. Both arrays are read once: one length, one read
 * per element. `prev`, the ring's previous batch, spares re-reading the
 * buffer and offset of views it measured already (memory.ts measureViews).
 */
export function many(spec: OpSpec, target: FileTarget, buffers: unknown, positions: unknown,
  options: BatchOptions | undefined, prev?: BatchOperation): BatchOperation {
  const views = readArray<ArrayBufferView>(buffers, 'buffers', 'an Array of ArrayBufferViews', BATCH_MAX);
  const pos = readArray<unknown>(positions, 'positions', 'an Array of numbers or bigints', BATCH_MAX);
  if (pos.length !== views.length) {
    throw invalidArgValue('positions', positions, `must have one entry per buffer (${views.length}), not ${pos.length}`);
  }
  // The options too are read before anything is measured: no caller's code
  // runs between the extents read below and the placement.
  const op = new Operation(spec).file(target);
  let signal: AbortSignal | undefined;
  const o = optionsOf(options);
  if (o !== undefined) {
    const { signal: s, timeout } = o as BatchOptions & OpOptions;
    if (timeout !== undefined) {
      throw invalidArgValue('options.timeout', timeout, 'is not supported by batches; pass signal: AbortSignal.timeout(ms)');
    }
    // The same check as every request's options.signal.
    signal = requestOptions(op, s, undefined).signal;
    op.signal = undefined;
  }
  const n = views.length;
  const lens = new Array<number>(n);
  const bufs = new Array<ArrayBufferLike>(n);
  const offs = new Array<number>(n);
  measureViews(views, 'buffers', lens, bufs, offs, prev);
  for (let k = 0; k < n; k++) {
    // One SQE moves at most 2 GiB - 4 KiB (MAX_RW_COUNT); larger reads would be short.
    if (lens[k]! > 0x7ffff000) throw outOfRange(`buffers[${k}].byteLength`, '<= 2147479552', lens[k]);
    pos[k] = validatePosition(pos[k], 'positions', k); // our copy: validated in place
  }
  return new BatchOperation(op, views, lens, pos as (number | bigint)[], bufs, offs, signal);
}

/**
 * A batch in flight: the results so far, the pins it holds (one per
 * distinct buffer), and its promise's settlement. Every entry's request
 * record points here; the last record released gives the pins back and
 * settles the promise, so the promise never settles while the kernel may
 * still write into one of the buffers.
 *
 * A ring reuses its BatchStates (RingCore keeps the idle ones): the request
 * records are long-lived, and pointing each of them at a new object per
 * batch cost a write barrier per entry. A state goes back to the pool only
 * once every record is released and the promise settled; nothing settled
 * from it later (a failure's error) reads the state again.
 */
export class BatchState {
  batch: BatchOperation | undefined = undefined;
  pins: Pin[] = [];
  /** Records not yet released (one per entry placed). */
  live = 0;
  /** Settled early (the ring was destroyed): the records only release. */
  settled = false;
  aborted = false;
  /** Removes the abort listener, once the last entry is released. */
  cleanup: (() => void) | undefined = undefined;
  results: number[] = [];
  resolve: ((v: unknown) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  readonly executor = (res: (v: unknown) => void, rej: (e: unknown) => void): void => {
    this.resolve = res;
    this.reject = rej;
  };

  /** Takes on a new batch. */
  start(batch: BatchOperation, pins: Pin[]): void {
    this.batch = batch;
    this.pins = pins;
    this.live = 0;
    this.settled = false;
    this.aborted = false;
    this.cleanup = undefined;
    // No fill: every entry's CQE writes its result before finish() reads them.
    this.results = new Array<number>(batch.views.length);
  }

  /** Forgets the batch, before the state waits for the next. */
  clear(): void {
    this.batch = undefined;
    this.pins = [];
    this.results = [];
    this.resolve = undefined;
    this.reject = undefined;
    this.cleanup = undefined;
  }

  /** Settles the promise from the results: every count, or the first failure. */
  finish(): void {
    if (this.settled) return;
    this.settled = true;
    const results = this.results;
    let first = -1;
    let cancelled = false;
    for (let k = 0; k < results.length; k++) {
      const res = results[k]!;
      if (res >= 0) continue;
      if (first < 0) first = k;
      if (cancelEnded(res)) cancelled = true;
    }
    if (first < 0) {
      this.resolve!(results);
      return;
    }
    const syscall = this.batch!.op.syscall;
    const aborted = this.aborted && cancelled;
    this.reject!(new Failure(results[first]!, (e) => batchError(syscall, results, aborted, e, first)));
  }

  /** Rejects at once (the ring was destroyed); the entries' CQEs only release their records. */
  fail(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject!(reason);
  }
}

/**
 * The error of a batch's first failed entry: Node-shaped, with its index and
 * every entry's result; an AbortError with it as the cause when the signal
 * cancelled entries of the batch.
 */
function batchError(syscall: string, results: number[], aborted: boolean, res: number, index: number): Error {
  const sys = systemError(res, syscall) as Error & { index?: number; results?: number[] };
  sys.index = index;
  sys.results = results.slice();
  if (aborted) return new AbortError(undefined, { cause: sys });
  return sys;
}
