// How a listening socket accepts: the accept strategy, behind a small
// interface so that the server does not care how connections arrive.
//
// Today: multishot accept (one armed request, a CQE per connection) into
// plain fds, falling back to re-armed single-shot accepts on kernels that
// refuse IORING_ACCEPT_MULTISHOT (before 5.19). With `direct`, single-shot
// accepts into direct descriptors (file_index = IORING_FILE_INDEX_ALLOC), no
// more in flight than the table has free slots: each connection is a slot of
// the ring's file table, reported as a slot handle (ops.directRef).
//
// Why not multishot into direct descriptors: the kernel takes a connection
// off the listen queue first and only then looks for a slot. A multishot
// accept drains the whole backlog in one go, so with the table nearly full
// the connections beyond its last free slot are accepted and closed at once
// (ENFILE): their clients see a reset. A single-shot accept per free slot
// never takes a connection it has no room for; the rest wait in the backlog
// until a connection closes and frees a slot (slotFreed()).
import type { Ring } from '../ring';
import { AddressInfo } from './sockaddr';
import type { RefGroup } from '../requests';
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
/** Direct accepts kept in flight at most (each holds a free slot in reserve). */
const DIRECT_IN_FLIGHT = 8;

class RingAcceptor implements Acceptor {
  private wanted = false;
  private armed = false;
  private token: OpToken | undefined;
  private multishot = true;
  private accepted = false;
  private retry: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private readonly onCqe = (res: number, flags: number): void => this.complete(res, flags);

  private readonly directTokens = new Set<OpToken>();

  constructor(private readonly ring: Ring, private readonly fd: number, private readonly sink: AcceptSink,
    private direct: boolean, private readonly group: RefGroup | undefined) {}

  start(): void {
    this.wanted = true;
    if (this.direct) this.armDirect();
    else if (!this.armed && this.retry === undefined) this.arm();
  }

  stop(): void {
    this.wanted = false;
    if (this.retry !== undefined) { clearTimeout(this.retry); this.retry = undefined; }
    cancelOp(this.ring, this.token);
    for (const t of this.directTokens) cancelOp(this.ring, t);
    this.abort?.abort();
  }

  /**
   * A slot of the file table was freed (a direct-descriptor connection
   * closed): an acceptor waiting for room accepts again.
   */
  slotFreed(): void {
    if (this.direct) this.armDirect();
  }

  /** Free slots in the ring's file table. */
  private freeSlots(): number {
    const f = this.ring.files;
    return f.size - f.occupiedCount;
  }

  /**
   * Keeps single-shot direct accepts in flight, one per free slot (at most
   * DIRECT_IN_FLIGHT): none is ever without a slot to land in.
   */
  private armDirect(): void {
    while (this.wanted && this.retry === undefined && !this.ring.closed
      && this.directTokens.size < Math.min(DIRECT_IN_FLIGHT, this.freeSlots())) {
      const files = this.ring.files;
      const change = files._change(-1, 1, (res) => (res >= 0 ? [res] : []), (res) => {
        if (res >= 0) files._installed(res);
      });
      let token: OpToken | undefined = undefined;
      const done = (res: number): void => {
        this.directTokens.delete(token!);
        this.directDone(res);
      };
      token = acceptDirectOnce(this.ring, this.fd, done, change, this.group);
      this.directTokens.add(token);
    }
  }

  private directDone(res: number): void {
    if (res >= 0) {
      this.accepted = true;
      // The file table's view already has the slot (the request's bracket).
      try {
        this.sink.onAccept(directRef(res), undefined);
      } finally {
        this.armDirect();
      }
      return;
    }
    if (res === ECANCELED) return;
    if (res === EINVAL && !this.accepted) {
      // No accept into direct descriptors here: plain fds.
      this.direct = false;
      this.next();
      return;
    }
    this.failed(res);
  }

  private arm(): void {
    if (this.ring.closed) return;
    this.armed = true;
    if (this.multishot) {
      this.token = acceptMultishot(this.ring, this.fd, this.onCqe, undefined, this.group);
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
    if (this.direct) this.armDirect();
    else if (this.wanted && !this.armed && this.retry === undefined) this.arm();
  }

  private complete(res: number, flags: number): void {
    const last = isLast(flags);
    if (last) { this.armed = false; this.token = undefined; }
    if (res >= 0) {
      this.accepted = true;
      // The file table's view already has the slot (the request's bracket).
      // A 'connection' listener that throws must not stop the accepting.
      try {
        this.sink.onAccept(res, undefined);
      } finally {
        if (last) this.next();
      }
      return;
    }
    if (res === EINVAL && !this.accepted && this.multishot) {
      // The kernel does not know IORING_ACCEPT_MULTISHOT: single-shot accepts.
      this.multishot = false;
      this.next();
      return;
    }
    if (last) this.failed(res);
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

/** The accept strategy for a listening socket on `ring`; its requests count in `group` (ref()/unref()). */
export function createAcceptor(ring: Ring, fd: number, direct: boolean, sink: AcceptSink, group?: RefGroup): Acceptor {
  return new RingAcceptor(ring, fd, sink, direct, group);
}
