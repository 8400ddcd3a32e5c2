// How a connection receives: the receive strategy, behind a small interface
// so that the socket does not care how bytes arrive.
//
// Where the kernel has them (6.0+), a connection keeps one multishot recv
// armed, and the kernel picks a buffer for each chunk from a provided-buffer
// ring that all connections on the ring share: one SQE per connection rather
// than one per chunk, and no receive memory per idle connection. Each chunk is
// copied out and its buffer handed straight back, so a slow consumer never
// starves the others; when the ring runs dry (ENOBUFS) the receive re-arms
// once a buffer returns. Elsewhere: one single-shot recv at a time into a
// buffer owned by the connection.
import type { Ring } from '../ring';
import { CQE_F_MORE } from '../constants';
import { BufferRing } from '../buffer-ring';
import type { RefGroup } from '../requests';
import { OpToken, cancelOp, recvInto, recvMultishot } from './ops';

/** Where received bytes go. */
export interface ReceiveSink {
  /** A chunk the sink may keep. Returns whether it wants more now (false: back-pressure). */
  onData(chunk: Buffer): boolean;
  /** The peer shut down its sending side (recv returned 0). */
  onEnd(): void;
  /** The receive failed with -errno. */
  onError(res: number): void;
}

/** A connection's receive strategy. */
export interface Receiver {
  /** Asks for data; does nothing when a receive is armed, stopped or at EOF. */
  arm(): void;
  /** Stops for good: cancels an armed receive; the sink hears nothing more. */
  stop(): void;
}

/** Options a receiver takes. */
export interface ReceiverOptions {
  /** Bytes one receive can take (single-shot receives). */
  bufferSize: number;
  /** false: never use multishot recv with the shared buffer ring. */
  multishot?: boolean;
  /** The owner's keep-alive group (ref()/unref()). */
  group?: RefGroup;
}

const ECANCELED = -125;
const ENOBUFS = -105;
const EINVAL = -22;

/** Single-shot recv, re-armed after each chunk while the sink wants more. */
export class SingleShotReceiver implements Receiver {
  private buf: Buffer | undefined;
  private token: OpToken | undefined;
  private done = false;
  private readonly onCqe = (res: number): void => this.complete(res);

  constructor(
    private readonly ring: Ring,
    private readonly fd: number,
    private readonly sink: ReceiveSink,
    private readonly size: number,
    private readonly group: RefGroup | undefined,
  ) {}

  arm(): void {
    if (this.token !== undefined || this.done || this.ring.closed) return;
    // Not from the shared pool: the request holds the whole ArrayBuffer.
    this.buf ??= Buffer.allocUnsafeSlow(this.size);
    this.token = recvInto(this.ring, this.fd, this.buf, this.onCqe, this.group);
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    cancelOp(this.ring, this.token);
  }

  private complete(res: number): void {
    this.token = undefined;
    if (this.done) return;
    if (res > 0) {
      const chunk = Buffer.allocUnsafe(res);
      this.buf!.copy(chunk, 0, 0, res);
      // A 'data' listener that throws must not stop the receiving.
      let more = true;
      try {
        more = this.sink.onData(chunk);
      } finally {
        if (more) this.arm();
      }
    } else if (res === 0) {
      this.done = true;
      this.buf = undefined;
      this.sink.onEnd();
    } else if (res !== ECANCELED) {
      this.done = true;
      this.buf = undefined;
      this.sink.onError(res);
    }
  }
}

/** Multishot recv through the ring's shared provided buffers. */
export class MultishotReceiver implements Receiver {
  private token: OpToken | undefined;
  private wanted = false;
  private done = false;
  private waiting = false;
  private readonly onCqe = (res: number, flags: number): void => this.complete(res, flags);

  constructor(
    private readonly ring: Ring,
    private readonly fd: number,
    private readonly sink: ReceiveSink,
    private readonly pool: BufferRing,
    private readonly fallback: () => Receiver,
    private readonly group: RefGroup | undefined,
  ) {}

  arm(): void {
    if (this.replacement !== undefined) return this.replacement.arm();
    this.wanted = true;
    if (this.token !== undefined || this.done || this.waiting || this.ring.closed) return;
    this.token = recvMultishot(this.ring, this.fd, this.pool.groupId, this.onCqe, this.group);
  }

  stop(): void {
    if (this.replacement !== undefined) return this.replacement.stop();
    if (this.done) return;
    this.done = true;
    cancelOp(this.ring, this.token);
  }

  private complete(res: number, flags: number): void {
    const last = (flags & CQE_F_MORE) === 0;
    if (last) {
      this.token = undefined;
      this.cancelling = false;
    }
    if (res > 0) {
      this.sawData = true;
      if (this.done) { this.pool._lease(res, flags).release(); return; }
      const chunk = this.pool._copyOut(res, flags);
      let more = true;
      try {
        more = this.sink.onData(chunk);
      } finally {
        // A 'data' listener that threw must not stop the receiving either.
        if (more && last) this.arm();
      }
      if (!more) {
        // Back-pressure: stop the multishot; arm() starts it again. Chunks
        // the kernel posted before the cancel lands still arrive: at most
        // what the shared buffer ring holds (RECV_POOL_BYTES).
        this.wanted = false;
        if (!last && !this.cancelling) {
          this.cancelling = true;
          cancelOp(this.ring, this.token);
        }
      }
      return;
    }
    if (this.done) return;
    if (res === 0) {
      this.done = true;
      this.sink.onEnd();
    } else if (res === ENOBUFS) {
      // Every shared buffer was out when the kernel looked. They are copied
      // out and returned as their CQEs are read, so some may be back already.
      if (this.pool.available > 0) {
        if (this.wanted) this.arm();
        return;
      }
      this.waiting = true;
      this.pool._whenReturned().then(() => {
        this.waiting = false;
        if (this.wanted) this.arm();
      }, () => { this.waiting = false; });
    } else if (res === ECANCELED) {
      if (this.wanted) this.arm();
    } else if (res === EINVAL && !this.sawData) {
      // The kernel refused multishot recv for this socket: receive one chunk at a time.
      this.done = true;
      this.replacement = this.fallback();
      if (this.wanted) this.replacement.arm();
    } else {
      this.done = true;
      this.sink.onError(res);
    }
  }
  private sawData = false;
  private cancelling = false;
  private replacement: Receiver | undefined;
}

const pools = new WeakMap<Ring, BufferRing | null>();
const POOL_BUFFERS = 64;
const POOL_BUFFER_SIZE = 16384;
/**
 * Bytes of shared receive buffers per ring: also the most a connection can
 * receive beyond its readable high-water mark before a paused receive stops.
 */
export const RECV_POOL_BYTES = POOL_BUFFERS * POOL_BUFFER_SIZE;

/** The provided-buffer ring the connections of `ring` share, or null where the kernel has none. */
function sharedPool(ring: Ring): BufferRing | null {
  let p = pools.get(ring);
  if (p === undefined) {
    try {
      p = ring.probe().supports('RECV') && ring.features.fastPoll
        ? new BufferRing(ring, { count: POOL_BUFFERS, size: POOL_BUFFER_SIZE })
        : null;
    } catch {
      p = null; // no IORING_REGISTER_PBUF_RING (before 5.19) or no memory for it
    }
    pools.set(ring, p);
  }
  return p;
}

/** The receive strategy for a connection on `ring`. */
export function createReceiver(ring: Ring, fd: number, sink: ReceiveSink, o: ReceiverOptions): Receiver {
  const single = (): Receiver => new SingleShotReceiver(ring, fd, sink, o.bufferSize, o.group);
  const pool = o.multishot === false ? null : sharedPool(ring);
  return pool === null ? single() : new MultishotReceiver(ring, fd, sink, pool, single, o.group);
}
