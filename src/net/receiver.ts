// How a connection receives: the receive strategy, behind a small interface
// so that the socket does not care how bytes arrive.
//
// Today: one single-shot IORING_OP_RECV at a time into a buffer owned by the
// connection, copied out per chunk. Later: multishot recv selecting buffers
// from a provided buffer ring (one armed request per connection, buffers
// shared by all connections, back-pressure when the ring runs dry). Only this
// file changes for that: a MultishotReceiver implementing Receiver, chosen in
// createReceiver().
import type { Ring } from '../ring';
import { OpToken, cancelOp, recvInto } from './ops';

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
  /** Bytes one receive can take. */
  bufferSize: number;
}

const ECANCELED = -125;

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
  ) {}

  arm(): void {
    if (this.token !== undefined || this.done || this.ring.closed) return;
    // Not from the shared pool: the request holds the whole ArrayBuffer.
    this.buf ??= Buffer.allocUnsafeSlow(this.size);
    this.token = recvInto(this.ring, this.fd, this.buf, this.onCqe);
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
      if (this.sink.onData(chunk)) this.arm();
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

/** The receive strategy for a connection on `ring`. */
export function createReceiver(ring: Ring, fd: number, sink: ReceiveSink, o: ReceiverOptions): Receiver {
  return new SingleShotReceiver(ring, fd, sink, o.bufferSize);
}
