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
import { IOV_MAX, sendFrom, sendFromMany, sendZeroCopy } from './ops';

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
  private fd = -1;
  private bufs: Buffer[] = [];
  /** Each queued buffer's length when it was written (a detached buffer reads 0 later). */
  private lens: number[] = [];
  /** Bytes of bufs[0] already sent. */
  private headSent = 0;
  private cbs: (WriteCallback | undefined)[] = [];
  private inFlight = false;
  private ending = false;
  private flushed = false;
  private aborted = false;
  private zcPending = 0;
  private zcWaiting: WriteCallback[] = [];
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
    this.kick();
  }

  /**
   * Queues a buffer; `cb` runs once the kernel has taken it (for a zero-copy
   * send, once it no longer reads it). The stream's own buffering (its
   * high-water mark, 'drain') is the Writable's.
   */
  write(buf: Buffer, cb: WriteCallback | undefined): void {
    if (buf.length === 0) {
      if (cb) process.nextTick(cb);
      return;
    }
    const n = buf.length;
    this.bufs.push(buf);
    this.lens.push(n);
    this.cbs.push(cb);
    this.length += n;
    this.kick();
  }

  /** No more writes: report onFlushed() once the queue is empty. */
  end(): void {
    this.ending = true;
    this.checkFlushed();
  }

  /** Fails every queued write's callback; sends in flight finish in the kernel. */
  abort(err: Error | undefined): void {
    if (this.aborted) return;
    this.aborted = true;
    const e = err ?? new UringError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
    const cbs = this.cbs.concat(this.zcWaiting);
    this.bufs = [];
    this.lens = [];
    this.headSent = 0;
    this.cbs = [];
    this.zcWaiting = [];
    this.length = 0;
    for (const cb of cbs) if (cb) process.nextTick(cb, e);
  }

  private kick(): void {
    if (this.inFlight || this.fd === -1 || this.aborted || this.bufs.length === 0) return;
    this.inFlight = true;
    const bufs = this.bufs;
    // Each send pins the memory it points at until its CQE. A buffer the
    // caller detached (transferred) while it waited in the queue cannot be
    // pinned: the write fails instead of sending memory that is not its own.
    try {
      const head = this.headSent === 0 ? bufs[0]! : bufs[0]!.subarray(this.headSent);
      if (bufs.length === 1) {
        if (head.length >= this.zcThreshold) {
          sendZeroCopy(this.ring, this.fd, head, this.onZc, this.o.group);
          this.zcPending++;
        } else {
          sendFrom(this.ring, this.fd, head, this.onSent, this.o.group);
        }
      } else {
        const list = bufs.slice(0, IOV_MAX);
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
    if (this.aborted) return;
    if (res < 0) {
      this.o.onError(res);
      return;
    }
    // Drop what was sent from the front of the queue; keep a partial rest.
    this.bytesWritten += res;
    this.length -= res;
    // Counted with the lengths the buffers had when written: one detached
    // since then reads as empty, and its rest then fails to pin in kick().
    const bufs = this.bufs;
    const lens = this.lens;
    let k = 0;
    let n = res + this.headSent;
    while (k < lens.length && n >= lens[k]!) n -= lens[k++]!;
    this.headSent = k < lens.length ? n : 0;
    const done = k === 0 ? undefined : this.cbs.splice(0, k);
    if (k > 0) { bufs.splice(0, k); lens.splice(0, k); }
    this.kick();
    if (done !== undefined) {
      for (const cb of done) {
        if (cb === undefined) continue;
        if (this.zcPending > 0) this.zcWaiting.push(cb); else cb();
      }
    }
    this.checkFlushed();
  }

  private zcReleased(early = false): void {
    this.zcPending--;
    if (this.zcPending > 0 || early) return;
    const cbs = this.zcWaiting;
    this.zcWaiting = [];
    for (const cb of cbs) cb();
    this.checkFlushed();
  }

  private checkFlushed(): void {
    if (!this.ending || this.flushed || this.aborted || this.fd === -1) return;
    if (this.inFlight || this.bufs.length > 0) return;
    this.flushed = true;
    this.o.onFlushed();
  }
}
