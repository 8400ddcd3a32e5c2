// The in-flight table. A request's user_data is its slot (low word) and the
// slot's generation (high word), never a pointer to a JS object; a CQE whose
// generation is stale is counted and ignored. While a request is live its
// record holds every JS object whose memory the SQE points at, so nothing the
// kernel may touch is collected before the CQE arrives.
import type { Operation } from './operation';
import { restack } from './errors';
import type { BatchState } from './ops/batch';

/** High-word bit reserved for user_data values the library gives to resource tags. */
export const TAG_BIT = 0x80000000;

/**
 * A failed request: the rejection value the ring hands to the request's
 * promise. The Error itself is built by `failed()`, the rejection handler of
 * the promise the caller awaits, so that V8 records the caller's async stack
 * in it, which an Error built while reaping completions could not show.
 */
export class Failure {
  constructor(
    readonly res: number,
    readonly build: (res: number) => unknown,
    /** The error is the caller's own (a destroy() reason): thrown as it is, its stack untouched. */
    readonly asIs = false,
  ) {}
}

/** The rejection handler of every request promise: turns a Failure into the thrown error. */
export function failed(v: unknown): never {
  if (v instanceof Failure) {
    const err = v.build(v.res);
    // Start the stack at the caller's await; the library's frames say nothing.
    if (err instanceof Error && !v.asIs) restack(err, failed);
    throw err;
  }
  throw v;
}

/**
 * For promises a pooled handler resolves with either a value or a Failure
 * (uring/fs's FileHandle reads and writes, readFile's chain): the Failure
 * becomes the thrown error in the derived promise, on the caller's await
 * chain, as in failed().
 */
export function settle<T>(p: Promise<T | Failure>): Promise<T> {
  return p.then(unwrap) as Promise<T>;
}

function unwrap<T>(v: T | Failure): T {
  if (v instanceof Failure) failed(v);
  return v as T;
}

/** Something that counts the requests using it, without a closure per request. */
export interface RequestOwner {
  /** A request using it was placed in the SQ. */
  _requestStarted(): void;
  /** That request was released. */
  _requestDone(): void;
}

export type CqeHandler = (res: number, flags: number) => void;

/**
 * Requests that keep the process alive together, or not at all: those of one
 * uring/net socket or server, whose ref()/unref() it is. The ring keeps the
 * event loop alive while it has a live request outside unreferenced groups.
 */
export class RefGroup {
  /** Live requests placed in this group. */
  live = 0;
  /** False after unref(): the group's requests do not hold the process. */
  referenced = true;
}

/** A Node-style completion callback: an error, or null and the operation's result. */
export type Callback<T = number> = (err: Error | null, result: T) => void;

/**
 * The 64-bit user_data that names `r` in an SQE (its slot in the low word,
 * its generation in the high one), for operations that target another
 * request: ASYNC_CANCEL, POLL_REMOVE, TIMEOUT_REMOVE.
 */
export function userDataOf(r: Request): bigint {
  return (BigInt(r.gen) << 32n) | BigInt(r.slot);
}

export class Request {
  gen = 1;
  resolve: ((v: unknown) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  /**
   * The operation this record carries: everything the kernel may read or
   * write for it (library memory, the caller's views and their pins) and how
   * its result is reported (syscall, path, map, fail, ...). Held until the
   * record is released, after the request's last CQE.
   */
  op: Operation | undefined = undefined;
  /** Handles every CQE instead of a promise (multishot, internal requests). */
  handler: CqeHandler | undefined = undefined;
  /** A caller's completion callback instead of a promise (Ring.callbacks). */
  callback: Callback<any> | undefined = undefined;
  /** The batch (readMany, writeMany) this request is entry `index` of. */
  batch: BatchState | undefined = undefined;
  index = 0;
  /** The promise this record settles (cancel(promise) finds the request by it). */
  promise: Promise<unknown> | undefined = undefined;
  /** Settled early (abort, destroy): the CQE only releases the record. */
  settled = false;
  /** Cleanup run when the record is released (AbortSignal listeners). */
  cleanup: (() => void) | undefined = undefined;
  /** The keep-alive group the request counts in, if any. */
  group: RefGroup | undefined = undefined;
  readonly executor: (res: (v: unknown) => void, rej: (e: unknown) => void) => void;
  constructor(readonly slot: number) {
    this.executor = (res, rej) => { this.resolve = res; this.reject = rej; };
  }
}

/** Whether a record is placed: it has something to settle when its CQE comes. */
function isLive(r: Request): boolean {
  return r.resolve !== undefined || r.handler !== undefined || r.callback !== undefined || r.batch !== undefined;
}

export class RequestTable {
  private readonly records: Request[] = [];
  private free: number[] = [];
  /** Live requests. */
  live = 0;
  /** Where the addon reads `live` when it tears a ring down without JavaScript. */
  private readonly shared: Int32Array;
  constructor(shared: ArrayBuffer) {
    this.shared = new Int32Array(shared);
  }
  /** CQEs that named no live request. */
  stale = 0;
  /** Live requests in unreferenced groups: they do not keep the process alive. */
  weak = 0;

  /** Counts `r` in `group` (the ring places it). */
  join(r: Request, group: RefGroup): void {
    r.group = group;
    group.live++;
    if (!group.referenced) this.weak++;
  }

  /** ref()/unref() of a group: its live requests stop or start counting as weak. */
  setReferenced(group: RefGroup, referenced: boolean): void {
    if (group.referenced === referenced) return;
    group.referenced = referenced;
    this.weak += referenced ? -group.live : group.live;
  }

  acquire(): Request {
    const slot = this.free.pop();
    let r: Request;
    if (slot === undefined) {
      r = new Request(this.records.length);
      this.records.push(r);
    } else {
      r = this.records[slot]!;
    }
    this.shared[0] = ++this.live;
    return r;
  }

  /** The live request named by a CQE's user_data, or undefined. */
  lookup(lo: number, hi: number): Request | undefined {
    const r = this.records[lo];
    if (r === undefined || r.gen !== hi || !isLive(r)) return undefined;
    return r;
  }

  /** Returns a record to the pool; its generation moves on so late CQEs are recognised. */
  release(r: Request): void {
    r.gen = (r.gen + 1) & 0x7fffffff || 1;
    const owner = r.op?.owner;
    r.op = undefined;
    r.resolve = undefined;
    r.reject = undefined;
    r.handler = undefined;
    r.callback = undefined;
    r.batch = undefined;
    r.promise = undefined;
    r.settled = false;
    if (owner !== undefined) owner._requestDone();
    if (r.group !== undefined) {
      const g = r.group;
      r.group = undefined;
      g.live--;
      if (!g.referenced) this.weak--;
    }
    if (r.cleanup !== undefined) {
      const c = r.cleanup;
      r.cleanup = undefined;
      c();
    }
    this.free.push(r.slot);
    this.shared[0] = --this.live;
  }

  /** Every live request (for destroy and cancellation). */
  *each(): IterableIterator<Request> {
    for (const r of this.records) {
      if (isLive(r)) yield r;
    }
  }

  get(slot: number): Request | undefined {
    return this.records[slot];
  }
}
