// The ring itself: setup, the one submission funnel, completions, and the
// lifecycle. Operations are built by the family modules (ops/, direct.ts,
// net/) and reach the kernel only through _submit(), _start() and
// _submitLinked() here; ring.ts is the facade users call.
import { types } from 'node:util';
import {
  CQE_F_MORE, ENTER_GETEVENTS, ENTER_SQ_WAKEUP, Feature, FeatureName, IOSQE_IO_LINK,
  SQ_CQ_OVERFLOW, SQ_NEED_WAKEUP, SQ_TASKRUN, Setup, ASYNC_CANCEL_ANY,
  ASYNC_CANCEL_ALL, Register,
} from './constants';
import { native, checkEnabled, classifySetupError, NativeBinding } from './native';
import { SubmissionQueue } from './sq';
import { CompletionQueue } from './cq';
import { encodeEntry, encodeSqe } from './sqe';
import { Operation } from './operation';
import { OPS } from './opcodes';
import { putU64, viewByteOffset } from './memory';
import { BatchOperation, BatchState } from './ops/batch';
import { Pin, Pins } from './pins';
import { Callback, Request, RequestTable, userDataOf, CqeHandler, RefGroup, TAG_BIT, Failure, failed } from './requests';
import { UringError, outOfRange, ringClosed, systemError, unsupportedOp } from './errors';
import { validateInteger, validateObject } from './validators';
import { Probe, readProbe } from './probe';
import { encodeRestrictions, restrictionCount } from './restrictions';
import { credentialsEpoch, currentCredentials, Credentials, sameCredentials } from './credentials';
import { readRingOptions, setupFlags, RingOptions, RingFeatures, RingStats } from './setup';
import {
  RequestOutcome, abortedError, addListener, linkTimeout, removeListener, signalAborted,
} from './options';
import type { OpOptions } from './options';
import { FixedBuffers } from './buffers';

export type { RingOptions, RingFeatures, OpOptions, RingStats };

function rethrow(err: unknown): void {
  throw err;
}

const MICROTASK_FLUSH_LIMIT = 64;
/** The operation every batch entry's record carries; the batch itself holds the entry's memory. */
const BATCH_ENTRY = new Operation(OPS.read);
// The turn's flush is a reaction to an already resolved promise: a microtask,
// like queueMicrotask(), without the AsyncResource Node makes for each of those.
const resolved = Promise.resolve();
const promiseThen = Promise.prototype.then;
const DEFAULT_CLOSE_GRACE_MS = 250;


/**
 * One io_uring instance: a submission queue and a completion queue in memory
 * shared with the kernel, driven from TypeScript. Construct it with
 * `new Ring(options)`; see ring.ts for the operations.
 */
export class RingCore {
  /** The ring's file descriptor (close-on-exec). */
  readonly fd: number;
  /** SQ size the kernel chose. */
  readonly sqEntries: number;
  /** CQ size the kernel chose. */
  readonly cqEntries: number;
  /** IORING_SETUP_* flags in effect. */
  readonly setupFlags: number;
  /** Raw feature bits. */
  readonly featureBits: number;
  /** Feature bits as named booleans. */
  readonly features: RingFeatures;
  /** @internal */ readonly _n: NativeBinding;
  /** @internal */ readonly _handle: object;
  /** @internal */ readonly _sq: SubmissionQueue;
  /** @internal */ readonly _cq: CompletionQueue;
  /** @internal */ readonly _req: RequestTable;
  /** @internal */ readonly _sqpoll: boolean;
  /** @internal */ readonly _defer: boolean;
  /** SQE array the last reserve() wrote into: the ring's, or the staging area. */
  private w: Uint32Array;
  private readonly pins: Pins;
  /** CQEs copied out of the CQ before they are dispatched (4 words each). */
  private readonly batch: Int32Array;
  /** @internal eventfd watched instead of the ring fd (DEFER_TASKRUN), or -1. */
  _eventfd = -1;
  /**
   * @internal Receives CQEs whose user_data high word has TAG_BIT: resource
   * tags and files passed in by other rings (see file-table.ts).
   */
  _tagHandler: ((lo: number, hi: number, res: number) => void) | undefined = undefined;
  /** @internal fd (or registered ring index) given to io_uring_enter, and the flag that goes with it. */
  _enterFd = -1;
  /** @internal ENTER_REGISTERED_RING once the ring fd is registered, else 0. */
  _enterFlag = 0;
  /** @internal Run just before the ring fd is closed (unregister what must not outlive it). */
  readonly _beforeRelease: (() => void)[] = [];
  private readonly stats_: RingStats = { enters: 0, submitted: 0, completed: 0, stale: 0, overflowFlushes: 0, staged: 0 };
  private state: 0 | 1 | 2 = 0; // open, closing, closed
  /**
   * @internal What destroy() rejected pending work with (set once destroyed):
   * requests settled through their handlers (with -ECANCELED) use it to
   * reject as the others do.
   */
  _destroyReason: unknown = undefined;
  private flushScheduled = false;
  private microFlushes = 0;
  private resetScheduled = false;
  private reaping = false;
  /** Run once the CQEs being dispatched have all been handled (see _afterBatch). */
  private readonly batchEnd: (() => void)[] = [];
  private referenced = true;
  private unrefScheduled = false;
  private closePromise: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  /** A cancel-all of close() or destroy() is in flight (see sweep()). */
  private sweepInFlight = false;
  /** CQEs reaped so far: whether anything completed after a sweep was sent. */
  private cqeCount = 0;
  private probe_: Probe | undefined;
  private readonly creds: Credentials;
  private credEpoch: number;
  private readonly flushCb = (): void => {
    try {
      this.flush();
    } catch (err) {
      process.nextTick(rethrow, err);
    }
  };
  private readonly readableCb = (): void => this.onReadable();
  private readonly resetCb = (): void => { this.resetScheduled = false; this.microFlushes = 0; };
  private readonly unrefCb = (): void => {
    this.unrefScheduled = false;
    const table = this._req;
    if (table.live === table.weak && this.referenced && this.state !== 2) {
      this.referenced = false;
      this._n.pollRef(this._handle, false);
      // Idle for a whole turn: give back the memory of buffers no request uses.
      if (table.live === 0) {
        this.pins.trim();
        this._lastBatch = undefined;
      }
    }
  };

  constructor(options: RingOptions = {}) {
    const o = readRingOptions(options);
    const entries = o.entries === undefined ? 256 : validateInteger(o.entries, 'options.entries', 1, 32768);
    const s = setupFlags(o, (x) => x instanceof RingCore);
    const restrictions = o.restrictions === undefined ? undefined : encodeRestrictions(o.restrictions);
    checkEnabled();
    const n = native();
    const r = n.setup(entries, s.flags, s.cpu, s.idle, s.cq, s.wq);
    if (typeof r === 'number') {
      throw classifySetupError(r) ?? systemError(r, 'io_uring_setup');
    }
    this._n = n;
    this._handle = r.handle;
    this.fd = r.fd;
    this._enterFd = r.fd;
    this.sqEntries = r.sqEntries;
    this.cqEntries = r.cqEntries;
    this.setupFlags = r.flags;
    this.featureBits = r.features;
    const f = {} as Record<FeatureName, boolean>;
    for (const k of Object.keys(Feature) as FeatureName[]) f[k] = (r.features & Feature[k]) !== 0;
    this.features = Object.freeze(f);
    this._sqpoll = (r.flags & Setup.SQPOLL) !== 0;
    this._defer = (r.flags & Setup.DEFER_TASKRUN) !== 0;
    this._sq = new SubmissionQueue(r.sqRing, r.sqes, r.sqOff, r.sqEntries, (r.flags & Setup.NO_SQARRAY) !== 0);
    this._cq = new CompletionQueue(r.cqRing, r.cqOff, r.cqEntries, (r.flags & Setup.CQE32) !== 0);
    this._req = new RequestTable(r.live);
    this.pins = new Pins(n, r.handle);
    this.w = this._sq.sqes;
    this.batch = new Int32Array(this._cq.entries * 4);
    this.creds = currentCredentials();
    this.credEpoch = credentialsEpoch();
    // Under DEFER_TASKRUN, completion work waits until this thread enters
    // the kernel, and queuing it does not make the ring fd readable: only
    // posted CQEs do. The kernel does signal a registered eventfd when it
    // queues such work, so that eventfd is what the event loop watches.
    let watch = r.fd;
    if (this._defer) {
      const efd = n.eventfd();
      const reg = efd < 0 ? efd : n.register(r.fd, Register.REGISTER_EVENTFD, new Int32Array([efd]), 1);
      if (reg < 0) {
        if (efd >= 0) n.closeFd(efd);
        n.close(r.handle);
        throw systemError(reg, 'io_uring_register');
      }
      watch = efd;
      this._eventfd = efd;
    }
    if (restrictions !== undefined) {
      // The probe is a register call the sandbox may not allow: ask first.
      this.probe();
      let rc = n.register(r.fd, Register.REGISTER_RESTRICTIONS, restrictions, restrictionCount(restrictions));
      if (rc >= 0 && !o.disabled) rc = n.register(r.fd, Register.REGISTER_ENABLE_RINGS, null, 0);
      if (rc < 0) {
        if (this._eventfd >= 0) n.closeFd(this._eventfd);
        n.close(r.handle);
        throw systemError(rc, 'io_uring_register');
      }
    }
    // The ring object holds the callback: the addon keeps only a weak
    // reference to it while the ring is idle (see pollRef in the addon).
    const rc = n.pollStart(r.handle, watch, this.readableCb);
    if (rc < 0) {
      if (watch !== r.fd) n.closeFd(watch);
      n.close(r.handle);
      throw systemError(rc, 'uv_poll_start');
    }
    // Idle until the first request: do not keep the process alive.
    this.referenced = false;
    n.pollRef(r.handle, false);
  }

  /**
   * Enables a ring created with `disabled: true` (IORING_REGISTER_ENABLE_RINGS).
   * Errors: EBADFD when it is already enabled.
   */
  enable(): void {
    this._checkOpen();
    const rc = this._n.register(this.fd, Register.REGISTER_ENABLE_RINGS, null, 0);
    if (rc < 0) throw systemError(rc, 'io_uring_register');
  }

  /** Whether close() or destroy() has been called. */
  get closed(): boolean {
    return this.state !== 0;
  }

  /** Requests submitted and not yet completed. */
  get pending(): number {
    return this._req.live;
  }

  /** A copy of the ring's counters. */
  get stats(): RingStats {
    return { ...this.stats_, stale: this._req.stale, staged: this.stats_.staged };
  }

  /** Which operations this kernel supports (IORING_REGISTER_PROBE), asked once per ring. */
  probe(): Probe {
    if (this.probe_ === undefined) {
      this._checkOpen();
      this.probe_ = readProbe(this._n, this.fd);
    }
    return this.probe_;
  }

  /** @internal Throws ERR_URING_UNSUPPORTED unless the kernel has the opcode. */
  _need(op: number, name: string): void {
    if (!this.probe().supports(op)) throw unsupportedOp(name);
  }

  /** @internal */
  _checkOpen(): void {
    if (this.state !== 0) throw ringClosed();
    if (this.credEpoch !== credentialsEpoch()) this.checkCredentials();
  }

  private checkCredentials(): void {
    this.credEpoch = credentialsEpoch();
    if (!sameCredentials(this.creds, currentCredentials())) {
      throw new UringError('ERR_RING_CREDENTIALS_CHANGED',
        'The process changed its user or group IDs since this ring was created; the ring refuses new work. Create a new ring.');
    }
  }

  // ---- submission: the one funnel ----------------------------------------
  //
  // Every request goes through _submit(), _start() or _submitLinked(). Each
  // takes Operations whose values were read from the caller and validated
  // already, and runs no user code: it checks the ring, pins the callers'
  // views, reserves the SQE(s), encodes them and attaches the records. A
  // refusal (closed ring, aborted signal, a view detached meanwhile) happens
  // before anything is reserved and leaves nothing behind.

  /** @internal Submits one operation; resolves with its mapped result. Rejects, never throws. */
  _submit(op: Operation): Promise<any> {
    try {
      if (!op.followUp) this._checkOpen();
      else if (this.state === 2 || this._destroyReason !== undefined) throw ringClosed();
      const { signal, timeout } = op;
      if (signal !== undefined && signalAborted(signal)) return Promise.reject(abortedError(signal));
      // A timeout is a LINK_TIMEOUT linked after the request, placed with it:
      // two SQEs that must fit in the SQ together.
      if (timeout !== undefined && this._sq.entries < 2) {
        throw outOfRange('options.timeout', 'unset on a ring whose SQ holds one entry (a timeout takes a second, linked SQE)', timeout);
      }
      this.pin(op);
      if (timeout !== undefined) op.flags |= IOSQE_IO_LINK;
      const r = this.place(op, timeout !== undefined ? 2 : 1);
      // One derived promise: successes pass through, failures become errors in failed().
      const p = new Promise(r.executor).then(undefined, failed);
      r.promise = p;
      if (op.named) this.named.set(p, userDataOf(r));
      if (timeout !== undefined || signal !== undefined) {
        const outcome = new RequestOutcome(r, timeout);
        if (timeout !== undefined) this.place(linkTimeout(timeout), 0).handler = outcome.onTimeout;
        if (signal !== undefined) this._abortWith(r, signal, outcome.onAbort);
      }
      return p;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * @internal Starts an operation whose CQEs go to `handler` (multishot and
   * internal requests, chains of the library's own). Throws on refusal.
   */
  _start(op: Operation, handler: CqeHandler): Request {
    this._checkOpen();
    const signal = op.signal;
    if (signal !== undefined && signalAborted(signal)) throw abortedError(signal);
    const r = this._startInternal(op, handler);
    if (signal !== undefined) this._abortWith(r, signal);
    return r;
  }

  /**
   * @internal Starts an operation whose result goes to a caller's Node-style
   * callback instead of a promise (Ring.callbacks). Throws on refusal.
   */
  _callback(op: Operation, cb: Callback<any>): void {
    this._checkOpen();
    this.pin(op);
    this.place(op, 1).callback = cb;
  }

  /** @internal _start() that works on a closing ring too (cancellations, the close of a slot). */
  _startInternal(op: Operation, handler: CqeHandler): Request {
    if (this.state === 2) throw ringClosed();
    this.pin(op);
    const r = this.place(op, 1);
    r.handler = handler;
    return r;
  }

  /**
   * @internal Submits `ops` as one linked chain: `links[k]` is the IOSQE_*
   * link flag from step k to step k + 1 (and may carry IOSQE_IO_DRAIN for the
   * head). Step k's CQE goes to `handlers[k]`. The chain is reserved whole,
   * so it is never split between two submissions. Throws on refusal.
   * `internal` chains (the library's own) may still be submitted while the
   * ring closes.
   */
  _submitLinked(ops: readonly Operation[], links: readonly number[], handlers: readonly CqeHandler[],
    internal = false): Request[] {
    if (!internal) this._checkOpen();
    else if (this.state === 2) throw ringClosed();
    const n = ops.length;
    if (n > this._sq.entries) throw outOfRange('chain length', `<= ${this._sq.entries} (the SQ size)`, n);
    let pinned = 0;
    const mark = this.pins.mark;
    try {
      for (; pinned < n; pinned++) this.pin(ops[pinned]!);
    } catch (err) {
      const held: Pin[] = [];
      for (let k = 0; k < pinned; k++) this.unpinOp(ops[k]!, held);
      this.pins.rollback(held, mark);
      throw err;
    }
    const out = new Array<Request>(n);
    for (let k = 0; k < n; k++) {
      const op = ops[k]!;
      op.flags |= links[k]!;
      const r = this.place(op, k === 0 ? n : 0);
      r.handler = handlers[k];
      out[k] = r;
    }
    return out;
  }

  /**
   * @internal Submits a batch (readMany, writeMany): one SQE per entry, one
   * promise for all, settled when the last entry's CQE has come. Pins each
   * distinct buffer once. Rejects, never throws; a refusal places nothing.
   */
  _submitBatch(b: BatchOperation): Promise<number[]> {
    try {
      this._checkOpen();
      const signal = b.signal;
      if (signal !== undefined && signalAborted(signal)) return Promise.reject(abortedError(signal));
      const n = b.views.length;
      if (n === 0) return Promise.resolve([]);
      const { views, lens, offsets, positions, op } = b;
      const held: Pin[] = [];
      const mark = this.pins.mark;
      try {
        for (let k = 0; k < n; k++) {
          if (b.startsRun(k)) held.push(this.pins.acquire(views[k]!, lens[k]!, 'buffers', k));
        }
      } catch (err) {
        this.pins.rollback(held, mark);
        throw err;
      }
      const state = this.batchStates.pop() ?? new BatchState();
      state.start(b, held);
      const promise = new Promise(state.executor).then(undefined, failed) as Promise<number[]>;
      // No user code from here to the return: every entry is placed. The
      // batch (r.batch) holds the views and pins of every entry; the records
      // share one constant operation, so placing an entry stores no new
      // object but the batch in a long-lived record.
      const table = this._req;
      // Room for the whole batch is reserved at once when the SQ can hold
      // it (the entries then continue it, as a chain's do); a larger batch
      // takes its entries one by one, entering the kernel as the SQ fills.
      const whole = n <= this._sq.entries;
      let h = -1;
      for (let k = 0; k < n; k++) {
        if (b.startsRun(k)) h++;
        const i = this.reserve(whole ? (k === 0 ? n : 0) : 1);
        const r = table.acquire();
        encodeEntry(this.w, i, op, held[h]!.base + offsets[k]!, lens[k]!, positions[k]!, r.slot, r.gen);
        r.op = BATCH_ENTRY;
        r.batch = state;
        r.index = k;
      }
      state.live = n;
      this._lastBatch = b;
      if (!this.referenced) this.ref();
      if (signal !== undefined) {
        const listener = (): void => {
          state.aborted = true;
          for (const r of this._req.each()) if (r.batch === state) this._cancelRequest(r);
        };
        addListener(signal, 'abort', listener, { once: true });
        state.cleanup = () => removeListener(signal, 'abort', listener);
      }
      return promise;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Pins the callers' views of `op` and writes their addresses; throws (with nothing pinned) on failure. */
  private pin(op: Operation): void {
    const mark = this.pins.mark;
    const view = op.view;
    if (view !== undefined) {
      const p = this.pins.acquire(view, op.len, 'buffer');
      op.pin = p;
      op.addr = (op.addr as number) + p.base + viewByteOffset(view);
    }
    const views = op.views;
    if (views !== undefined) {
      const held: Pin[] = [];
      const iov = op.iov!;
      try {
        for (let k = 0; k < views.length; k++) {
          const v = views[k]!;
          const p = this.pins.acquire(v, iov[k * 4 + 2]!, 'buffers', k);
          held.push(p);
          putU64(iov, k * 4, p.base + viewByteOffset(v));
        }
      } catch (err) {
        if (op.pin !== undefined) held.push(op.pin);
        op.pin = undefined;
        this.pins.rollback(held, mark);
        throw err;
      }
      op.pins = held;
    }
  }

  /** Takes the pins off `op` (a chain refused before placing), into `into` for Pins.rollback(). */
  private unpinOp(op: Operation, into: Pin[]): void {
    if (op.pin !== undefined) into.push(op.pin);
    op.pin = undefined;
    if (op.pins !== undefined) for (const p of op.pins) into.push(p);
    op.pins = undefined;
  }

  /**
   * Reserves `chain` SQEs (0: the next entry of a chain whose room was
   * reserved by its head), writes `op` into the first and attaches a live
   * request record to it. Runs no user code.
   */
  private place(op: Operation, chain: number): Request {
    const i = this.reserve(chain);
    const r = this._req.acquire();
    encodeSqe(this.w, i, op, r.slot, r.gen);
    // The record holds the operation, and with it every byte the kernel may
    // touch, until its last CQE.
    r.op = op;
    if (op.owner !== undefined) op.owner._requestStarted();
    if (op.change !== undefined) op.change.begin();
    if (op.group !== undefined) this._req.join(r, op.group);
    if (!this.referenced && r.group?.referenced !== false) this.ref();
    return r;
  }

  /**
   * Word index of a reserved SQE in `this.w` (the ring's SQE array, or the
   * staging area when the ring is full). `chain` is the length of the chain
   * the entry starts, or 0 for an entry continuing one.
   */
  private reserve(chain: number): number {
    const sq = this._sq;
    if (chain === 0) {
      if (this.w === sq.sqes) return sq.take();
      const at = sq.stage(0);
      this.w = sq.stagingArray();
      return at;
    }
    // Callers check this before pinning anything; a chain longer than the
    // SQ would wait in the staging area forever.
    if (chain > sq.entries) throw outOfRange('chain length', `<= ${sq.entries} (the SQ size)`, chain);
    if (!sq.hasStaged()) {
      if (sq.fits(chain)) {
        this.w = sq.sqes;
        this.scheduleFlush();
        return sq.take();
      }
      if (!this._sqpoll) {
        // Without SQPOLL the kernel consumes the whole SQ in one enter, so
        // entering now frees room at once. Only enter: completions are reaped
        // later, never while an SQE is being written.
        this.enterKernel();
        if (!sq.hasStaged() && sq.fits(chain)) {
          this.w = sq.sqes;
          this.scheduleFlush();
          return sq.take();
        }
      }
    }
    this.stats_.staged += chain;
    this.scheduleFlush();
    const at = sq.stage(chain);
    this.w = sq.stagingArray();
    return at;
  }

  /** Idle batch states, reused (see BatchState). */
  private readonly batchStates: BatchState[] = [];
  /**
   * @internal The last batch placed: the next one's builder reuses what it
   * measured of the same views. Forgotten when the ring idles, as idle pins
   * are, so that it does not keep the caller's buffers alive.
   */
  _lastBatch: BatchOperation | undefined = undefined;

  /** Requests other requests can name later (poll, timeout): their user_data, by promise. */
  private readonly named = new WeakMap<Promise<unknown>, bigint>();

  /**
   * @internal The user_data of the request pollAdd(), timeout() or sleep()
   * returned `target` for, on this ring (kept after it completed, so that a
   * late remove gets the kernel's ENOENT), or undefined.
   */
  _namedUserData(target: unknown): bigint | undefined {
    return types.isPromise(target) ? this.named.get(target as Promise<unknown>) : undefined;
  }

  private buffers_: FixedBuffers | undefined;
  /** @internal The registered buffer table (Ring.buffers). */
  _buffers(): FixedBuffers {
    return this.buffers_ ??= new FixedBuffers(this);
  }

  /**
   * @internal Cancels `req` when `signal` aborts, until the request is
   * released. `onAbort` runs first (to tell the request's error it was aborted).
   */
  _abortWith(req: Request, signal: AbortSignal, onAbort?: () => void): void {
    const listener = (): void => {
      onAbort?.();
      this._cancelRequest(req);
    };
    addListener(signal, 'abort', listener, { once: true });
    req.cleanup = () => removeListener(signal, 'abort', listener);
  }

  /** @internal The live request whose promise is `p`, if any. */
  _requestOf(p: Promise<unknown>): Request | undefined {
    for (const r of this._req.each()) if (r.promise === p && !r.settled) return r;
    return undefined;
  }

  /**
   * @internal ref()/unref() of a group of requests (a uring/net socket's or
   * server's): the ring holds the event loop only while it has live requests
   * outside unreferenced groups.
   */
  _setReferenced(group: RefGroup, referenced: boolean): void {
    const table = this._req;
    table.setReferenced(group, referenced);
    if (this.state === 2) return;
    if (table.live > table.weak) {
      if (!this.referenced) this.ref();
    } else {
      this.onIdle();
    }
  }

  private ref(): void {
    this.referenced = true;
    this._n.pollRef(this._handle, true);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Submissions made during one turn go to the kernel together. Completions
    // that arrive inline can trigger more submissions from microtasks; after
    // a bounded number of such rounds the flush moves to the check phase so
    // that timers and other I/O get their turn. The count restarts at each
    // completion wake-up, and at the check phase of a turn that used half
    // the limit: so no turn exceeds it, and every turn gets at least half,
    // without a setImmediate in every turn that submits.
    if (this.microFlushes < MICROTASK_FLUSH_LIMIT) {
      if (++this.microFlushes >= MICROTASK_FLUSH_LIMIT / 2 && !this.resetScheduled) {
        this.resetScheduled = true;
        setImmediate(this.resetCb);
      }
      promiseThen.call(resolved, this.flushCb);
    } else {
      setImmediate(this.flushCb);
    }
  }

  /** Submits everything written so far now, instead of at the end of this turn. Returns SQEs submitted. */
  submit(): number {
    this._checkOpen();
    const n = this.enterKernel();
    this.reap();
    return n;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 2) return;
    this.enterKernel();
    this.reap();
  }

  /** Publishes the SQ and enters the kernel as needed. Runs no user code. */
  private enterKernel(): number {
    const sq = this._sq;
    if (sq.hasStaged()) sq.drainStaged();
    const n = sq.unconsumed();
    let submitted = 0;
    if (n > 0 || this._defer) {
      const fresh = sq.publish(this._sqpoll);
      if (this._sqpoll) {
        if (sq.flags() & SQ_NEED_WAKEUP) {
          this.stats_.enters++;
          this._n.enter(this._enterFd, 0, 0, ENTER_SQ_WAKEUP | this._enterFlag);
        }
        submitted = fresh;
      } else if (n > 0 || this._req.live > 0) {
        this.stats_.enters++;
        // Under DEFER_TASKRUN, GETEVENTS with min_complete 0 runs the ring's
        // pending completion work without waiting.
        const flags = (this._defer ? ENTER_GETEVENTS : 0) | this._enterFlag;
        let ret = this._n.enter(this._enterFd, n, 0, flags);
        // The kernel stops a batch at an SQE it refuses while submitting (a
        // prep error, such as unknown flags, posts that SQE's CQE) and leaves
        // the rest in the SQ. Nothing else may come to flush them: go on now.
        while (ret > 0 && submitted + ret < n) {
          submitted += ret;
          this.stats_.enters++;
          ret = this._n.enter(this._enterFd, n - submitted, 0, flags);
        }
        if (ret < 0) {
          // EAGAIN/EBUSY/EINTR: the kernel took nothing this time; entries stay
          // in the ring and go with the next flush.
          if (ret !== -11 && ret !== -16 && ret !== -4) this.failUnsubmitted(ret);
          else setImmediate(this.flushCb);
        } else {
          submitted += ret;
        }
      }
      this.stats_.submitted += submitted;
    }
    if (sq.hasStaged()) {
      // SQPOLL: the thread has not consumed enough yet; try again shortly.
      setImmediate(this.flushCb);
    }
    return submitted;
  }

  /** A ring-level enter error: the unconsumed SQEs will never run; fail their requests. */
  private failUnsubmitted(ret: number): void {
    // A SINGLE_ISSUER ring answers EEXIST to any task but its creator (a
    // forked child, another thread handed the fd).
    const err = ret === -17 && (this.setupFlags & Setup.SINGLE_ISSUER) !== 0
      ? new UringError('ERR_RING_WRONG_THREAD', 'EEXIST from io_uring_enter: this ring was set up with singleIssuer and only the thread (and process) that created it may submit to it')
      : systemError(ret, 'io_uring_enter');
    queueMicrotask(() => this.destroy(err));
  }

  // ---- completion ---------------------------------------------------------

  private onReadable(): void {
    this.microFlushes = 0;
    if (this.state === 2) return;
    if (this._eventfd >= 0) this._n.drainEventfd(this._eventfd);
    if (this._defer || (this._sq.flags() & (SQ_TASKRUN | SQ_CQ_OVERFLOW)) !== 0) {
      this.stats_.enters++;
      this._n.enter(this._enterFd, 0, 0, ENTER_GETEVENTS | this._enterFlag);
    }
    this.reap();
  }

  /**
   * @internal Runs `fn` once the batch of CQEs being dispatched has been
   * handled, or now when none is: work that per-CQE handlers can share,
   * such as publishing a buffer ring's tail once for all the buffers they
   * gave back.
   */
  _afterBatch(fn: () => void): void {
    if (this.reaping) this.batchEnd.push(fn);
    else fn();
  }

  private endBatch(): void {
    const fns = this.batchEnd;
    for (let k = 0; k < fns.length; k++) {
      try {
        fns[k]!();
      } catch (err) {
        process.nextTick(rethrow, err);
      }
    }
    fns.length = 0;
  }

  /**
   * @internal Reads every available CQE and settles its request, each exactly
   * once. A batch is copied out and the CQ head published before any of it
   * is dispatched, so a handler that throws (a user's listener called from
   * it) cannot make a CQE be seen twice; the rest of the batch is still
   * delivered, and the exception is rethrown from a fresh stack, where it
   * reaches 'uncaughtException' as a throwing listener does in Node.
   */
  reap(): void {
    if (this.reaping || this.state === 2) return;
    this.reaping = true;
    const cq = this._cq;
    const table = this._req;
    let count = 0;
    try {
      for (;;) {
        let head = cq.head;
        const tail = cq.tail();
        if (head === tail) {
          if ((this._sq.flags() & SQ_CQ_OVERFLOW) === 0) break;
          // The kernel kept CQEs that did not fit (IORING_FEAT_NODROP); a
          // GETEVENTS enter moves them into the CQ.
          this.stats_.overflowFlushes++;
          this.stats_.enters++;
          this._n.enter(this._enterFd, 0, 0, ENTER_GETEVENTS | this._enterFlag);
          if (cq.tail() === head) break;
          continue;
        }
        const c = cq.cqes;
        const stride = cq.stride;
        const mask = cq.mask;
        const batch = this.batch;
        let n = 0;
        while (head !== tail) {
          const i = (head & mask) * stride;
          batch[n] = c[i]!;
          batch[n + 1] = c[i + 1]!;
          batch[n + 2] = c[i + 2]!;
          batch[n + 3] = c[i + 3]!;
          n += 4;
          head = (head + 1) >>> 0;
        }
        // Release: our reads of the CQEs above happen before the kernel can
        // reuse their slots.
        cq.advance(head);
        count += n >> 2;
        this.cqeCount += n >> 2;
        for (let k = 0; k < n; k += 4) {
          const lo = batch[k]! >>> 0;
          const hi = batch[k + 1]! >>> 0;
          const r = table.lookup(lo, hi);
          try {
            if (r !== undefined) this.complete(r, batch[k + 2]!, batch[k + 3]! >>> 0);
            else if ((hi & TAG_BIT) !== 0 && this._tagHandler !== undefined) this._tagHandler(lo, hi, batch[k + 2]!);
            else table.stale++;
          } catch (err) {
            process.nextTick(rethrow, err);
          }
        }
        if (this.batchEnd.length > 0) this.endBatch();
        // A handler may have destroyed the ring and released its mappings.
        if ((this.state as number) === 2) break;
      }
    } finally {
      if (this.batchEnd.length > 0) this.endBatch();
      this.reaping = false;
    }
    this.stats_.completed += count;
    if (table.live === table.weak) this.onIdle();
  }

  private complete(r: Request, res: number, flags: number): void {
    const b = r.batch;
    if (b !== undefined) {
      if (!b.settled) b.results[r.index] = res;
      this.releaseRequest(r);
      return;
    }
    const op = r.op!;
    const change = op.change;
    if (change !== undefined) {
      // The table's view follows the kernel whether or not anyone awaits
      // this. Each CQE of a multishot request is one change, and the request
      // stays armed for the next while CQE_F_MORE is set.
      change.settle(res);
      if ((flags & CQE_F_MORE) !== 0) change.begin();
    }
    if (r.handler !== undefined) {
      const h = r.handler;
      if ((flags & CQE_F_MORE) === 0) this.releaseRequest(r);
      h(res, flags);
      return;
    }
    if (r.settled) {
      // Nobody will see this result: an fd it carries would leak.
      if (res >= 0 && op.returnsFd) this._n.closeFd(res);
      this.releaseRequest(r);
      return;
    }
    const cb = r.callback;
    if (res >= 0 || res === op.okRes) {
      const map = op.map;
      let value: unknown = res;
      const resolve = r.resolve;
      try {
        if (map !== undefined) value = map(res, flags);
      } finally {
        this.releaseRequest(r);
      }
      if (cb !== undefined) cb(null, value);
      else resolve!(value);
    } else {
      const reject = r.reject;
      this.releaseRequest(r);
      const fail = op.fail ?? ((e: number) => systemError(e, op.syscall, { path: op.path, dest: op.dest, slot: op.slot }));
      if (cb !== undefined) cb(fail(res) as Error, 0);
      else reject!(new Failure(res, fail));
    }
  }

  /** Returns a request's record to the table once the kernel is done with everything it holds. */
  private releaseRequest(r: Request): void {
    const op = r.op!;
    if (op.pin !== undefined) this.pins.release(op.pin);
    if (op.pins !== undefined) for (const p of op.pins) this.pins.release(p);
    const b = r.batch;
    this._req.release(r);
    if (b !== undefined && --b.live === 0) {
      // The kernel is done with every buffer of the batch.
      for (const p of b.pins) this.pins.release(p);
      b.cleanup?.();
      b.finish();
      b.clear();
      if (this.batchStates.length < 16) this.batchStates.push(b);
    }
  }

  private onIdle(): void {
    if (this.referenced && !this.unrefScheduled) {
      this.unrefScheduled = true;
      setImmediate(this.unrefCb);
    }
    if (this.drained !== undefined && this._req.live === 0) {
      const d = this.drained;
      this.drained = undefined;
      // Release from a fresh stack: the reap that got here may have been
      // called by code that still uses the rings.
      queueMicrotask(() => {
        if (this._req.live === 0) d();
        else this.drained = d;
      });
    }
  }

  // ---- cancellation helpers ----------------------------------------------

  /** @internal Submits an ASYNC_CANCEL for one request; its own CQE is ignored. */
  _cancelRequest(r: Request): void {
    if (this.state === 2) return;
    const op = new Operation(OPS.asyncCancel);
    op.fd = -1;
    // Flags 0 matches by user_data on every kernel; ASYNC_CANCEL_USERDATA is
    // 6.6+ and older kernels refuse it with EINVAL.
    op.addr = userDataOf(r);
    this._startInternal(op, noop);
  }

  /**
   * Cancels everything in flight (IORING_ASYNC_CANCEL_ANY) for close() and
   * destroy(), and cancels
   * again after each such sweep that other completions followed while
   * requests remain: the kernel issues a hard-linked request only once the
   * one before it has completed (here: been cancelled), which is after the
   * sweep that cancelled that one has passed. A sweep that nothing followed
   * is the last, so a request the kernel cannot cancel does not make this spin.
   */
  private sweep(): void {
    if (this.state === 2 || this.sweepInFlight) return;
    this.sweepInFlight = true;
    const mark = this.cqeCount;
    const op = new Operation(OPS.asyncCancel);
    op.fd = -1;
    op.opFlags = ASYNC_CANCEL_ALL | ASYNC_CANCEL_ANY;
    this._startInternal(op, () => {
      this.sweepInFlight = false;
      // The sweep's own CQE is one of those counted since the mark.
      if (this.cqeCount - mark > 1) this._afterBatch(this.sweepAgain);
    });
  }

  private readonly sweepAgain = (): void => {
    if (this._req.live > 0) this.sweep();
  };

  // ---- lifecycle ----------------------------------------------------------

  /**
   * Stops accepting work and waits for requests in flight. Requests that only
   * wait for an event (polls, accepts, timeouts, receives) are cancelled at
   * once; any other request still running after `graceMs` (default 250) is
   * cancelled too, and its promise rejects with ECANCELED. Idempotent.
   */
  close(options?: { graceMs?: number }): Promise<void> {
    if (this.closePromise) return this.closePromise;
    let grace: number;
    try {
      const g = options === undefined ? undefined : validateObject(options, 'options').graceMs;
      grace = g === undefined ? DEFAULT_CLOSE_GRACE_MS : validateInteger(g, 'options.graceMs', 0, 2 ** 31 - 1);
    } catch (err) {
      // Like every promise-returning method: reject, never throw.
      return Promise.reject(err);
    }
    // The getter above may itself have closed or destroyed the ring.
    if (this.closePromise) return this.closePromise;
    this.state = 1;
    this.closePromise = new Promise<void>((resolve) => {
      if (this._req.live === 0) {
        this.release();
        resolve();
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      this.drained = () => {
        if (timer) clearTimeout(timer);
        this.release();
        resolve();
      };
      for (const r of this._req.each()) if (r.op!.waiter) this._cancelRequest(r);
      timer = setTimeout(() => {
        timer = undefined;
        if (this._req.live > 0) this.sweep();
      }, grace);
      this.enterKernel();
      this.reap();
    });
    return this.closePromise;
  }

  /**
   * Cancels everything in flight and rejects every pending promise with
   * `err` (or an ERR_RING_DESTROYED error) at once. Memory held by cancelled
   * requests stays referenced until the kernel's CQE says it is done with
   * it; then the ring is released. Idempotent.
   */
  destroy(err?: Error): void {
    if (this.state === 2 || this._destroyReason !== undefined) return;
    const reason = err ?? new UringError('ERR_RING_DESTROYED', 'The ring was destroyed');
    this._destroyReason = reason;
    this.state = 1;
    for (const r of this._req.each()) {
      if (r.settled) continue;
      r.settled = true;
      if (r.handler !== undefined) {
        const h = r.handler;
        r.handler = undefined;
        r.resolve = noop; // keeps the record live until its CQE
        try { h(-125, 0); } catch { /* a handler's failure must not stop the teardown */ }
      } else if (r.callback !== undefined) {
        const cb = r.callback;
        process.nextTick(cb, reason, 0);
      } else if (r.batch !== undefined) {
        // The batch's promise rejects now; its pins stay until its last CQE.
        r.batch.fail(reason);
      } else if (r.reject !== undefined) {
        r.reject(reason);
      }
    }
    // A close() in progress keeps its drain callback: it clears the grace
    // timer and resolves the close() promise once the cancelled work is done.
    const drained = this.drained ?? ((): void => this.release());
    if (this._req.live === 0) {
      this.drained = undefined;
      drained();
      return;
    }
    this.drained = drained;
    this.sweep();
    this.enterKernel();
    this.reap();
    // Nothing can complete work for the user now: do not hold the process.
    if (this.referenced) {
      this.referenced = false;
      this._n.pollRef(this._handle, false);
    }
  }

  private release(): void {
    if (this.state === 2) return;
    for (const hook of this._beforeRelease.splice(0)) {
      try { hook(); } catch { /* the ring is going away regardless */ }
    }
    this.state = 2;
    // Nothing is in flight: every pin left is an idle one.
    this.pins.trim();
    this._lastBatch = undefined;
    this._n.close(this._handle);
  }

  /** Calls close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function noop(): void { /* ignore */ }

