// How a listening socket accepts: the accept strategy, behind a small
// interface so that the server does not care how connections arrive.
//
// Today: multishot accept (one armed request, a CQE per connection) into
// plain fds, falling back to re-armed single-shot accepts on kernels that
// refuse IORING_ACCEPT_MULTISHOT (before 5.19). With `direct`, multishot
// accept into direct descriptors (file_index = IORING_FILE_INDEX_ALLOC): each
// connection is a slot of the ring's file table, reported as a slot handle
// (ops.directRef); a full table (ENFILE) waits and accepts again.
import type { Ring } from '../ring';
import { AddressInfo } from './sockaddr';
import { OpToken, accept, acceptDirectOnce, acceptMultishot, cancelOp, directRef, isLast } from './ops';
import { netError } from './errors';

/** Where accepted connections go. */
export interface AcceptSink {
  /** A new connection; `remote` when the strategy learned the peer's address. */
  onAccept(fd: number, remote: AddressInfo | undefined): void;
  /** Accepting failed for good (not a transient shortage of fds or memory). */
  onError(err: Error): void;
}

/** A listening socket's accept strategy. start/stop may alternate (back-pressure). */
export interface Acceptor {
  start(): void;
  /** Stops accepting; connections already accepted are still delivered. */
  stop(): void;
  /** A registered slot was freed (direct-descriptor connections). */
  slotFreed(): void;
}

const EINVAL = -22;
const ECANCELED = -125;
/** Shortages that pass: wait a little and accept again. */
const TRANSIENT = new Set([-24 /* EMFILE */, -23 /* ENFILE */, -105 /* ENOBUFS */, -12 /* ENOMEM */, -103 /* ECONNABORTED */]);
const RETRY_MS = 20;

class RingAcceptor implements Acceptor {
  private wanted = false;
  private armed = false;
  private token: OpToken | undefined;
  private multishot = true;
  private accepted = false;
  private retry: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private readonly onCqe = (res: number, flags: number): void => this.complete(res, flags);

  constructor(private readonly ring: Ring, private readonly fd: number, private readonly sink: AcceptSink,
    private direct: boolean) {}

  start(): void {
    this.wanted = true;
    if (!this.armed && this.retry === undefined) this.arm();
  }

  stop(): void {
    this.wanted = false;
    if (this.retry !== undefined) { clearTimeout(this.retry); this.retry = undefined; }
    cancelOp(this.ring, this.token);
    this.abort?.abort();
  }

  /**
   * A slot of the file table was freed (a direct-descriptor connection
   * closed): an acceptor waiting for room accepts again.
   */
  slotFreed(): void {
    this.next();
  }

  /** Free slots in the ring's file table. */
  private freeSlots(): number {
    const f = this.ring.files;
    return f.size - f.occupiedCount;
  }

  private arm(): void {
    if (this.ring.closed) return;
    if (this.direct) {
      // The kernel accepts a connection first and only then looks for a
      // slot: with the table full it closes the connection it just accepted
      // (ENFILE). So accept only with room: multishot while there is plenty,
      // one at a time near the end, and not at all when full.
      const free = this.freeSlots();
      if (free === 0) return; // slotFreed() calls back
      this.armed = true;
      const files = this.ring.files;
      const change = files._change(-1, 1, (res) => (res >= 0 ? [res] : []), (res) => {
        if (res >= 0) files._installed(res);
      });
      this.token = free > headroom(files.size)
        ? acceptMultishot(this.ring, this.fd, this.onCqe, change)
        : acceptDirectOnce(this.ring, this.fd, this.onCqe, change);
      return;
    }
    this.armed = true;
    if (this.multishot) {
      this.token = acceptMultishot(this.ring, this.fd, this.onCqe);
      return;
    }
    this.token = undefined;
    const abort = this.abort = new AbortController();
    accept(this.ring, this.fd, { signal: abort.signal }).then(
      (a) => {
        this.armed = false;
        try {
          this.sink.onAccept(a.fd, a.remote);
        } finally {
          this.next();
        }
      },
      (err: { errno?: number }) => {
        this.armed = false;
        if (!abort.signal.aborted) this.failed(err.errno ?? -5, err as Error);
      },
    );
  }

  private next(): void {
    if (this.wanted && !this.armed && this.retry === undefined) this.arm();
  }

  private complete(res: number, flags: number): void {
    const last = isLast(flags);
    if (last) { this.armed = false; this.token = undefined; }
    if (res >= 0) {
      this.accepted = true;
      // The file table's view already has the slot (the request's bracket).
      // A 'connection' listener that throws must not stop the accepting.
      try {
        this.sink.onAccept(this.direct ? directRef(res) : res, undefined);
      } finally {
        // Running low on slots: stop the multishot; arm() goes on one at a time.
        if (this.direct && !last && this.freeSlots() <= headroom(this.ring.files.size)) cancelOp(this.ring, this.token);
        if (last) this.next();
      }
      return;
    }
    if (res === EINVAL && !this.accepted && this.multishot) {
      // The kernel does not know IORING_ACCEPT_MULTISHOT: single-shot
      // accepts into plain fds.
      this.multishot = false;
      this.direct = false;
      this.next();
      return;
    }
    if (last) {
      if (res === ECANCELED && this.direct) this.next(); // stopped for lack of room
      else this.failed(res);
    }
  }

  private failed(res: number, err?: Error): void {
    if (res === ECANCELED || !this.wanted) return;
    if (TRANSIENT.has(res)) {
      this.retry = setTimeout(() => { this.retry = undefined; this.next(); }, RETRY_MS);
      return;
    }
    this.wanted = false;
    this.sink.onError(err ?? netError(res, 'accept'));
  }
}

/** Free slots below which direct accepts go one at a time: a multishot burst may take this many. */
function headroom(size: number): number {
  return Math.max(8, size >> 3);
}

/** The accept strategy for a listening socket on `ring`. */
export function createAcceptor(ring: Ring, fd: number, direct: boolean, sink: AcceptSink): Acceptor {
  return new RingAcceptor(ring, fd, sink, direct);
}
