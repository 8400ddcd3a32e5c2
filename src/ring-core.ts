// The ring itself: setup, the submit/complete protocol, and the lifecycle.
// Operations are built on top of this in ring.ts.
import {
  CQE_F_MORE, ENTER_GETEVENTS, ENTER_SQ_WAKEUP, Feature, FeatureName,
  Op, SQ_CQ_OVERFLOW, SQ_NEED_WAKEUP, SQ_TASKRUN, Setup, ASYNC_CANCEL_ANY,
  ASYNC_CANCEL_ALL, Register,
} from './constants';
import { native, checkEnabled, classifySetupError, NativeBinding } from './native';
import { SubmissionQueue, prep } from './sq';
import { CompletionQueue } from './cq';
import { Request, RequestTable, CqeHandler, TAG_BIT, Failure, settle } from './requests';
import {
  UringError, outOfRange, ringClosed, systemError, unsupportedOp,
} from './errors';
import { validateInteger, validateObject } from './validators';
import { Probe, readProbe } from './probe';
import { encodeRestrictions, restrictionCount } from './restrictions';
import { credentialsEpoch, currentCredentials, Credentials, sameCredentials } from './credentials';
import { setupFlags, RingOptions, RingFeatures, OpOptions, RingStats } from './setup';

export type { RingOptions, RingFeatures, OpOptions, RingStats };

const MICROTASK_FLUSH_LIMIT = 64;
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
  /** @internal */ readonly _req = new RequestTable();
  /** @internal */ readonly _sqpoll: boolean;
  /** @internal */ readonly _defer: boolean;
  /** @internal SQE array the next prep writes into (the ring, or the staging area). */
  _w: Uint32Array;
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
  private destroyed = false;
  private flushScheduled = false;
  private microFlushes = 0;
  private resetScheduled = false;
  private reaping = false;
  private referenced = true;
  private unrefScheduled = false;
  private closePromise: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private probe_: Probe | undefined;
  private readonly creds: Credentials;
  private credEpoch: number;
  private readonly flushCb = (): void => this.flush();
  private readonly readableCb = (): void => this.onReadable();
  private readonly resetCb = (): void => { this.resetScheduled = false; this.microFlushes = 0; };
  private readonly unrefCb = (): void => {
    this.unrefScheduled = false;
    if (this._req.live === 0 && this.referenced && this.state !== 2) {
      this.referenced = false;
      this._n.pollRef(this._handle, false);
    }
  };

  constructor(options: RingOptions = {}) {
    validateObject(options, 'options');
    const entries = options.entries === undefined ? 256 : validateInteger(options.entries, 'options.entries', 1, 32768);
    const s = setupFlags(options, (x) => x instanceof RingCore);
    const restrictions = options.restrictions === undefined ? undefined : encodeRestrictions(options.restrictions);
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
    this._w = this._sq.sqes;
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
      if (rc >= 0 && !options.disabled) rc = n.register(r.fd, Register.REGISTER_ENABLE_RINGS, null, 0);
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

  // ---- submission ---------------------------------------------------------

  /**
   * @internal Reserves one SQE and returns its word index in `this._w`.
   * `chain` is the length of the chain this entry starts (1 for a lone
   * request), or 0 for an entry continuing a chain whose space was reserved.
   */
  _sqe(chain = 1): number {
    const sq = this._sq;
    if (chain === 0) {
      // Continues a chain: it goes where its head went.
      if (this._w === sq.sqes) return sq.take();
      // Staging may grow into a new array: point _w at the current one.
      const at = sq.stage(0);
      this._w = sq.stagingArray();
      return at;
    }
    if (!sq.hasStaged()) {
      if (sq.fits(chain)) {
        this._w = sq.sqes;
        this.scheduleFlush();
        return sq.take();
      }
      if (chain > sq.entries) {
        throw outOfRange('chain length', `<= ${sq.entries} (the SQ size)`, chain);
      }
      if (!this._sqpoll) {
        // Without SQPOLL the kernel consumes the whole SQ in one enter, so
        // submitting now frees room at once.
        this.submitNow();
        if (!sq.hasStaged() && sq.fits(chain)) {
          this._w = sq.sqes;
          this.scheduleFlush();
          return sq.take();
        }
      }
    }
    this.stats_.staged += chain;
    this.scheduleFlush();
    const at = sq.stage(chain);
    this._w = sq.stagingArray();
    return at;
  }

  /**
   * @internal Attaches a request record to the SQE at `i` (in `this._w`) and
   * returns the promise it settles.
   */
  _track(i: number, hold: unknown, syscall: string): Promise<any> {
    const r = this.attach(i, hold, syscall);
    const p = settle(new Promise(r.executor));
    r.promise = p;
    return p;
  }

  /** @internal Like _track, but returns the record (for options, maps and paths). */
  _trackReq(i: number, hold: unknown, syscall: string): { req: Request; promise: Promise<any> } {
    const promise = this._track(i, hold, syscall);
    const w = this._w;
    return { req: this._req.get(w[i + 8]!)!, promise };
  }

  /** @internal Tracks a request whose CQEs go to `handler` (multishot and internal ops). */
  _trackHandler(i: number, hold: unknown, syscall: string, handler: CqeHandler): Request {
    const r = this.attach(i, hold, syscall);
    r.handler = handler;
    return r;
  }

  /** A live request record named by the SQE at `i` (its user_data), holding `hold`. */
  private attach(i: number, hold: unknown, syscall: string): Request {
    const r = this._req.acquire();
    const w = this._w;
    w[i + 8] = r.slot;
    w[i + 9] = r.gen;
    r.hold = hold;
    r.syscall = syscall;
    if (!this.referenced) this.ref();
    return r;
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
    // that timers and other I/O get their turn.
    if (this.microFlushes < MICROTASK_FLUSH_LIMIT) {
      this.microFlushes++;
      if (!this.resetScheduled) {
        this.resetScheduled = true;
        setImmediate(this.resetCb);
      }
      queueMicrotask(this.flushCb);
    } else {
      setImmediate(this.flushCb);
    }
  }

  /** Submits everything written so far now, instead of at the end of this turn. Returns SQEs submitted. */
  submit(): number {
    this._checkOpen();
    return this.submitNow();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.state === 2) return;
    this.submitNow();
  }

  private submitNow(): number {
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
    this.reap();
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

  /** @internal Reads every available CQE and settles its request. */
  reap(): void {
    if (this.reaping || this.state === 2) return;
    this.reaping = true;
    const cq = this._cq;
    const c = cq.cqes;
    const stride = cq.stride;
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
        const mask = cq.mask;
        while (head !== tail) {
          const i = (head & mask) * stride;
          const lo = c[i]! >>> 0;
          const hi = c[i + 1]! >>> 0;
          const res = c[i + 2]!;
          const flags = c[i + 3]! >>> 0;
          head = (head + 1) >>> 0;
          count++;
          const r = table.lookup(lo, hi);
          if (r === undefined) {
            if ((hi & TAG_BIT) !== 0 && this._tagHandler !== undefined) this._tagHandler(lo, hi, res);
            else table.stale++;
            continue;
          }
          this.complete(r, res, flags);
        }
        // Release: our reads of the CQEs above happen before the kernel can
        // reuse their slots.
        cq.advance(head);
      }
    } finally {
      this.reaping = false;
    }
    this.stats_.completed += count;
    if (table.live === 0) this.onIdle();
  }

  private complete(r: Request, res: number, flags: number): void {
    const table = this._req;
    if (r.handler !== undefined) {
      const h = r.handler;
      if ((flags & CQE_F_MORE) === 0) table.release(r);
      h(res, flags);
      return;
    }
    const resolve = r.resolve!;
    if (r.settled) {
      // Nobody will see this result: an fd it carries would leak.
      if (res >= 0 && r.returnsFd) this._n.closeFd(res);
      table.release(r);
      return;
    }
    if (res >= 0 || res === r.okRes) {
      const map = r.map;
      const value = map === undefined ? res : map(res, flags);
      table.release(r);
      resolve(value);
    } else {
      const fail = r.fail;
      const syscall = r.syscall;
      const path = r.path;
      const dest = r.dest;
      table.release(r);
      resolve(new Failure(res, fail ?? ((e: number) => systemError(e, syscall, { path, dest }))));
    }
  }

  private onIdle(): void {
    if (this.referenced && !this.unrefScheduled) {
      this.unrefScheduled = true;
      setImmediate(this.unrefCb);
    }
    if (this.drained !== undefined) {
      const d = this.drained;
      this.drained = undefined;
      // Release from a fresh stack: the reap that got here may have been
      // called by code still writing an SQE (_sqe() submits to make room
      // when the SQ is full), which must not find the rings unmapped.
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
    const i = this._sqe(1);
    const w = this._w;
    prep(w, i, Op.ASYNC_CANCEL, 0, -1, 0, 0, 0);
    w[i + 4] = r.slot; // addr = target user_data
    w[i + 5] = r.gen;
    // Flags 0 matches by user_data on every kernel; ASYNC_CANCEL_USERDATA is
    // 6.6+ and older kernels refuse it with EINVAL.
    this._trackHandler(i, undefined, 'async_cancel', noop);
  }

  /** @internal Cancels every request in flight (IORING_ASYNC_CANCEL_ANY). */
  _cancelAll(): void {
    if (this.state === 2) return;
    const i = this._sqe(1);
    const w = this._w;
    prep(w, i, Op.ASYNC_CANCEL, 0, -1, 0, 0, 0);
    w[i + 7] = ASYNC_CANCEL_ALL | ASYNC_CANCEL_ANY;
    this._trackHandler(i, undefined, 'async_cancel', noop);
  }

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
      const g = options?.graceMs;
      grace = g === undefined ? DEFAULT_CLOSE_GRACE_MS : validateInteger(g, 'options.graceMs', 0, 2 ** 31 - 1);
    } catch (err) {
      // Like every promise-returning method: reject, never throw.
      return Promise.reject(err);
    }
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
      for (const r of this._req.each()) if (r.waiter) this._cancelRequest(r);
      timer = setTimeout(() => {
        timer = undefined;
        if (this._req.live > 0) this._cancelAll();
      }, grace);
      this.submitNow();
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
    if (this.state === 2 || (this.state === 1 && this.destroyed)) return;
    this.destroyed = true;
    const reason = err ?? new UringError('ERR_RING_DESTROYED', 'The ring was destroyed');
    this.state = 1;
    for (const r of this._req.each()) {
      if (r.settled) continue;
      r.settled = true;
      if (r.handler !== undefined) {
        const h = r.handler;
        r.handler = undefined;
        r.resolve = noop; // keeps the record live until its CQE
        try { h(-125, 0); } catch { /* a handler's failure must not stop the teardown */ }
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
    this._cancelAll();
    this.submitNow();
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
    this._n.close(this._handle);
  }

  /** Calls close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function noop(): void { /* ignore */ }

