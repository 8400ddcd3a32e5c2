// How a connection sends: one send in flight at a time (two sends racing on
// one stream socket could reorder bytes when the first is only partly done),
// writes queued behind it gathered into one sendmsg, partial sends resumed,
// and large single buffers sent zero-copy where the kernel has SEND_ZC.
//
// Write callbacks run once the kernel has taken the bytes; for a zero-copy
// send, only after its notification says the kernel no longer reads the
// buffer, so a caller that reuses its buffer in the callback is safe.
import { CQE_F_MORE, CQE_F_NOTIF } from '../constants';
import type { Ring } from '../ring';
import { OPS } from '../opcodes';
import { UringError } from '../errors';
import type { RefGroup } from '../requests';
import { IOV_MAX, Sends, sendFromMany, sendZeroCopy } from './ops';
import { viewLength } from '../memory';

/** Called when a write has been sent, or with the error that stopped it. */
export type WriteCallback = (err?: Error | null) => void;

export interface SenderOptions {
  zeroCopyThreshold: number | false | undefined;
  /** The owner's keep-alive group (ref()/unref()). */
  group: RefGroup;
  /** A send failed with -errno `res`, or could not be made at all (`err`). */
  onError(res: number, err?: Error): void;
  /** Everything was sent after end(). */
  onFlushed(): void;
}

const DEFAULT_ZC_THRESHOLD = 65536;

export class Sender {
  /** Bytes queued or in flight. */
  length = 0;
  bytesWritten = 0;
  /** Bytes of writes whose callback has not run yet. */
  unacked = 0;
  private fd = -1;
  private sends: Sends | undefined;
  // The queue is entries [head, count) of the four arrays below, which keep
  // their size between writes rather than being rebuilt for each one.
  private bufs: (Buffer | undefined)[] = [];
  /** Each queued buffer's length when it was written (a detached buffer reads 0 later). */
  private lens: number[] = [];
  private cbs: (WriteCallback | undefined)[] = [];
  /** Bytes that an entry's callback acknowledges (see write()). */
  private acks: number[] = [];
  private head = 0;
  private count = 0;
  /** Bytes of bufs[head] already sent. */
  private headSent = 0;
  private inFlight = false;
  private ending = false;
  private flushed = false;
  private aborted = false;
  private abortError: Error | undefined = undefined;
  /** The queue index after the last entry the send in flight carries. */
  private flightEnd = 0;
  private zcPending = 0;
  private zcWaiting: (() => void)[] = [];
  private readonly zcThreshold: number;
  private readonly onSent = (res: number): void => this.sent(res);
  private readonly onZc = (res: number, flags: number): void => {
    if ((flags & CQE_F_NOTIF) !== 0) {
      this.zcReleased();
      return;
    }
    // Without CQE_F_MORE no notification follows: the kernel is done already.
    if ((flags & CQE_F_MORE) === 0) this.zcReleased(true);
    this.sent(res);
  };

  constructor(private readonly ring: Ring, private readonly o: SenderOptions) {
    const t = o.zeroCopyThreshold;
    this.zcThreshold = t === false || !ring.probe().supports(OPS.sendZc.op) ? Infinity
      : t === undefined ? DEFAULT_ZC_THRESHOLD : t;
  }

  attach(fd: number): void {
    this.fd = fd;
    this.sends = new Sends(this.ring, fd, this.o.group);
    this.kick();
  }

  /**
   * Queues a buffer; once it and everything before it was sent (for a
   * zero-copy send, once the kernel no longer reads it), `ack` bytes stop
   * counting in `unacked` and `cb` runs. A gathered write queues its buffers
   * with no callback and 0 except the last. The stream's own buffering (its
   * high-water mark, 'drain') is the Writable's.
   */
  write(buf: Buffer, cb: WriteCallback | undefined, ack: number, send = true): void {
    this.unacked += ack;
    // The engine's length: a `length` property the caller defined cannot
    // make the queue's count differ from what a send takes.
    const n = viewLength(buf, 'data');
    if (n === 0 && this.head === this.count) {
      process.nextTick(acknowledge, this, cb, ack, undefined);
      return;
    }
    if (this.head === this.count) this.head = this.count = 0;
    const at = this.count++;
    if (at === this.bufs.length) {
      this.bufs.push(buf);
      this.lens.push(n);
      this.cbs.push(cb);
      this.acks.push(ack);
    } else {
      this.bufs[at] = buf;
      this.lens[at] = n;
      this.cbs[at] = cb;
      this.acks[at] = ack;
    }
    this.length += n;
    // A gathered write queues all its buffers before the first send, so
    // they go out together (cork()/uncork(), a header and a body).
    if (send) this.kick();
  }

  /** Sends what write(..., false) queued. */
  flush(): void {
    this.kick();
  }

  /** No more writes: report onFlushed() once the queue is empty. */
  end(): void {
    this.ending = true;
    this.checkFlushed();
  }

  /**
   * Fails the callbacks of the queued writes not yet handed to the kernel.
   * Those of the send in flight run from its CQE (and, for a zero-copy
   * send, its notification), since the kernel reads their buffers until
   * then: a callback that reuses its buffer must not change what is sent.
   */
  abort(err: Error | undefined): void {
    if (this.aborted) return;
    this.aborted = true;
    const e = err ?? new UringError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
    this.abortError = e;
    const from = this.inFlight ? this.flightEnd : this.head;
    for (let k = from; k < this.count; k++) {
      if (this.cbs[k] !== undefined || this.acks[k] !== 0) process.nextTick(acknowledge, this, this.cbs[k], this.acks[k]!, e);
      this.bufs[k] = undefined;
      this.cbs[k] = undefined;
    }
    this.count = from;
    this.length = 0;
    if (!this.inFlight) this.clear();
  }

  private kick(): void {
    if (this.inFlight || this.fd === -1 || this.aborted || this.head === this.count) return;
    this.inFlight = true;
    const bufs = this.bufs;
    // Each send pins the memory it points at until its CQE. A buffer the
    // caller detached (transferred) while it waited in the queue cannot be
    // pinned: the write fails instead of sending memory that is not its own.
    try {
      const first = bufs[this.head]!;
      const head = this.headSent === 0 ? first : first.subarray(this.headSent);
      if (this.count - this.head === 1) {
        this.flightEnd = this.head + 1;
        if (head.length >= this.zcThreshold) {
          sendZeroCopy(this.ring, this.fd, head, this.onZc, this.o.group);
          this.zcPending++;
        } else {
          this.sends!.send(head, this.onSent);
        }
      } else {
        this.flightEnd = Math.min(this.count, this.head + IOV_MAX);
        const list = bufs.slice(this.head, this.flightEnd) as Buffer[];
        list[0] = head;
        sendFromMany(this.ring, this.fd, list, this.onSent, this.o.group);
      }
    } catch (err) {
      this.inFlight = false;
      const coded = typeof (err as { code?: unknown }).code === 'string' ? err as Error
        : new UringError('ERR_INVALID_STATE', 'A buffer given to write() was detached (transferred) before all of it was sent', { cause: err });
      this.o.onError(-22, coded);
    }
  }

  private sent(res: number): void {
    this.inFlight = false;
    this.sends?.done();
    if (res < 0) {
      // Destroyed meanwhile: the writes this send carried fail below.
      if (!this.aborted) {
        this.o.onError(res);
        return;
      }
      res = 0;
    }
    // Drop what was sent from the front of the queue; keep a partial rest.
    this.bytesWritten += res;
    if (!this.aborted) this.length -= res; // abort() emptied the count already
    // Counted with the lengths the buffers had when written: one detached
    // since then reads as empty, and its rest then fails to pin in kick().
    const lens = this.lens;
    const from = this.head;
    const count = this.count;
    let k = from;
    let n = res + this.headSent;
    while (k < count && n >= lens[k]!) n -= lens[k++]!;
    this.headSent = k < count ? n : 0;
    // The finished entries' callbacks, taken out before any of them runs (a
    // callback may write, and so reuse the entries). Usually there is one.
    let cb: WriteCallback | undefined;
    let ack = 0;
    let more: [WriteCallback | undefined, number][] | undefined;
    for (let j = from; j < k; j++) {
      const c = this.cbs[j];
      const a = this.acks[j]!;
      this.bufs[j] = undefined;
      this.cbs[j] = undefined;
      if (c === undefined && a === 0) continue;
      if (cb === undefined && ack === 0) { cb = c; ack = a; } else (more ??= []).push([c, a]);
    }
    this.head = k;
    if (!this.aborted) this.kick();
    else {
      // The stream was destroyed while this send was in flight (abort()
      // left its writes here): what it carried whole succeeded, the rest
      // fails, and nothing more is sent.
      for (let j = k; j < count; j++) {
        if (this.cbs[j] !== undefined || this.acks[j] !== 0) process.nextTick(acknowledge, this, this.cbs[j], this.acks[j]!, this.abortError);
      }
      this.clear();
    }
    if (cb !== undefined || ack !== 0) {
      this.done(cb, ack);
      if (more !== undefined) for (const [c, a] of more) this.done(c, a);
    }
    this.checkFlushed();
  }

  /** An empty queue. */
  private clear(): void {
    this.bufs = [];
    this.lens = [];
    this.cbs = [];
    this.acks = [];
    this.head = this.count = 0;
    this.headSent = 0;
  }

  /** A write was sent: acknowledge it now, or after the zero-copy notification. */
  private done(cb: WriteCallback | undefined, ack: number): void {
    if (this.zcPending > 0) this.zcWaiting.push((err?: Error) => acknowledge(this, cb, ack, err));
    else acknowledge(this, cb, ack, undefined);
  }

  private zcReleased(early = false): void {
    this.zcPending--;
    if (this.zcPending > 0 || early) return;
    const waiting = this.zcWaiting;
    this.zcWaiting = [];
    for (const f of waiting) f();
    this.checkFlushed();
  }

  private checkFlushed(): void {
    if (!this.ending || this.flushed || this.aborted || this.fd === -1) return;
    if (this.inFlight || this.head !== this.count) return;
    this.flushed = true;
    this.o.onFlushed();
  }
}

function acknowledge(s: Sender, cb: WriteCallback | undefined, ack: number, err: Error | undefined): void {
  s.unacked -= ack;
  if (cb !== undefined) cb(err);
}
