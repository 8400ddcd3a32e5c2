// The in-flight table. A request's user_data is its slot (low word) and the
// slot's generation (high word), never a pointer to a JS object; a CQE whose
// generation is stale is counted and ignored. While a request is live its
// record holds every JS object whose memory the SQE points at, so nothing the
// kernel may touch is collected before the CQE arrives.

/** High-word bit reserved for user_data values the library gives to resource tags. */
export const TAG_BIT = 0x80000000;

/**
 * A failed request, delivered as a value rather than a rejection so that the
 * Error is built inside `settle()`, after the caller's await resumes: V8 then
 * records the caller's async stack in it, which an Error built while reaping
 * completions could not show.
 */
export class Failure {
  constructor(
    readonly res: number,
    readonly build: (res: number) => unknown,
  ) {}
}

/** Unwraps a request's value, turning a Failure into the thrown error. */
export async function settle<T>(p: Promise<T | Failure>): Promise<T> {
  const v = await p;
  if (v instanceof Failure) {
    const err = v.build(v.res);
    // Start the stack at the caller's await; the library's frames say nothing.
    if (err instanceof Error) Error.captureStackTrace(err, settle);
    throw err;
  }
  return v;
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

export class Request {
  gen = 1;
  resolve: ((v: unknown) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  /** Library-owned memory the kernel may read or write for this request. */
  hold: unknown = undefined;
  /** The caller's view(s) the request uses; their memory is pinned (pin ids below) until release. */
  view: ArrayBufferView | undefined = undefined;
  views: ArrayBufferView[] | undefined = undefined;
  pin: import('./pins').Pin | undefined = undefined;
  pins: import('./pins').Pin[] | undefined = undefined;
  /** A change to the registered file table, settled by the CQE. */
  change: import('./operation').SlotChange | undefined = undefined;
  /** Registered-file slot for errors. */
  slotNo: number | undefined = undefined;
  /** Operation name for errors ("read", "openat"). */
  syscall = '';
  path: string | undefined = undefined;
  dest: string | undefined = undefined;
  /** Turns a successful res into the promised value. */
  map: ((res: number, flags: number) => unknown) | undefined = undefined;
  /** Handles every CQE instead of a promise (multishot, internal requests). */
  handler: CqeHandler | undefined = undefined;
  /** A negative res that is a result, not an error (-ETIME for timeouts), or 0. */
  okRes = 0;
  /** The promise this record settles (cancel(promise) finds the request by it). */
  promise: Promise<unknown> | undefined = undefined;
  /** Builds the rejection for a negative res (set to customise errors). */
  fail: ((res: number) => unknown) | undefined = undefined;
  /** Settled early (abort, destroy): the CQE only releases the record. */
  settled = false;
  /** Its result is a new fd (plain openat): closed if it arrives after the promise was settled early. */
  returnsFd = false;
  /** A waiter (poll, accept, timeout, recv...) that close() cancels right away. */
  waiter = false;
  /** Told when the request is released (a registered buffer counting its users). */
  owner: RequestOwner | undefined = undefined;
  /** Cleanup run when the record is released (AbortSignal listeners). */
  cleanup: (() => void) | undefined = undefined;
  /** The keep-alive group the request counts in, if any. */
  group: RefGroup | undefined = undefined;
  readonly executor: (res: (v: unknown) => void, rej: (e: unknown) => void) => void;
  constructor(readonly slot: number) {
    this.executor = (res, rej) => { this.resolve = res; this.reject = rej; };
  }
}

export class RequestTable {
  private readonly records: Request[] = [];
  private free: number[] = [];
  /** Live requests. */
  live = 0;
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
    this.live++;
    return r;
  }

  /** The live request named by a CQE's user_data, or undefined. */
  lookup(lo: number, hi: number): Request | undefined {
    const r = this.records[lo];
    if (r === undefined || r.gen !== hi || r.resolve === undefined && r.handler === undefined) return undefined;
    return r;
  }

  /** Returns a record to the pool; its generation moves on so late CQEs are recognised. */
  release(r: Request): void {
    r.gen = (r.gen + 1) & 0x7fffffff || 1;
    r.resolve = undefined;
    r.reject = undefined;
    r.hold = undefined;
    r.view = undefined;
    r.views = undefined;
    r.pin = undefined;
    r.pins = undefined;
    r.slotNo = undefined;
    r.change = undefined;
    r.map = undefined;
    r.handler = undefined;
    r.fail = undefined;
    r.okRes = 0;
    r.promise = undefined;
    r.path = undefined;
    r.dest = undefined;
    r.settled = false;
    r.returnsFd = false;
    r.waiter = false;
    if (r.owner !== undefined) {
      const o = r.owner;
      r.owner = undefined;
      o._requestDone();
    }
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
    this.live--;
  }

  /** Every live request (for destroy and cancellation). */
  *each(): IterableIterator<Request> {
    for (const r of this.records) {
      if (r.resolve !== undefined || r.handler !== undefined) yield r;
    }
  }

  get(slot: number): Request | undefined {
    return this.records[slot];
  }
}
