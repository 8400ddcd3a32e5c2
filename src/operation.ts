// An Operation is one request as plain, already validated values: the SQE's
// fields, the memory the kernel will use, and how to report the result. The
// family modules (ops/*.ts, direct.ts, net/ops.ts) read the caller's input
// once, validate it and build an Operation; the ring's one submit funnel
// (RingCore._submit and friends) then pins the caller's memory, reserves the
// SQE, encodes it and attaches the request. No user code runs from the moment
// an Operation is complete to the moment its promise is returned.
import { IOSQE_FIXED_FILE } from './constants';
import type { OpSpec } from './opcodes';
import type { SqeValues } from './sqe';
import type { RefGroup, RequestOwner } from './requests';
import type { Pin } from './pins';

/**
 * A file an SQE names, resolved once (files.ts fileTarget()): a plain fd as
 * itself (>= 0), a registered slot as `-(slot + 2)` (<= -2), so that -1 stays
 * free to mean "no file". The one encoding of "which file" in the library,
 * shared by uring/fs and uring/net; Operation.file() turns a slot into
 * fd = slot with IOSQE_FIXED_FILE.
 */
export type FileTarget = number;

/** The FileTarget of registered slot `slot`. */
export function slotTarget(slot: number): FileTarget {
  return -(slot + 2);
}

/** Whether a FileTarget names a registered slot. */
export function isSlot(t: FileTarget): boolean {
  return t <= -2;
}

/** The fd or slot number a FileTarget carries (the SQE's fd field). */
export function targetNumber(t: FileTarget): number {
  return t <= -2 ? -t - 2 : t;
}

/**
 * A change a request makes to the registered file table: `begin` when the
 * request is placed, `settle` with its CQE's res (FileTable._change).
 */
export interface SlotChange {
  begin(): void;
  settle(res: number): void;
}

export class Operation implements SqeValues {
  opcode: number;
  flags = 0;
  ioprio = 0;
  fd = 0;
  off: number | bigint = 0;
  addr: number | bigint = 0;
  len = 0;
  opFlags = 0;
  bufIndex = 0;
  fileIndex = 0;
  addr3: number | bigint = 0;

  /** The name errors carry as `syscall`. */
  syscall: string;
  /** Waits for an event that may never come: close() cancels it at once. */
  waiter: boolean;

  /**
   * A caller's view whose memory the SQE's addr points into: pinned by the
   * funnel, which adds the view's address to `addr` (so `addr` holds the
   * offset into the view until then).
   */
  view: ArrayBufferView | undefined = undefined;
  /**
   * Callers' views for an iovec array (`iov`, two u64 words each): the funnel
   * pins each and writes its address into the iovec's base; `iov` lengths are
   * filled by the builder.
   */
  views: ArrayBufferView[] | undefined = undefined;
  iov: Uint32Array | undefined = undefined;
  /** The pins the funnel took for `view` and `views` (pins.ts). */
  pin: Pin | undefined = undefined;
  pins: Pin[] | undefined = undefined;
  /** Library-owned memory the SQE points at (paths, iovecs, timespecs, outputs). */
  hold: unknown = undefined;

  /** Error details. */
  path: string | undefined = undefined;
  dest: string | undefined = undefined;
  slot: number | undefined = undefined;
  /** Turns a successful res into the promised value. */
  map: ((res: number, flags: number) => unknown) | undefined = undefined;
  /** A negative res that is a result, not an error (-ETIME for timeouts). */
  okRes = 0;
  /** Builds the rejection for a negative res (default: a Node-shaped system error). */
  fail: ((res: number) => unknown) | undefined = undefined;
  /** The result is a new fd: closed if it arrives after the promise was settled early. */
  returnsFd = false;
  /** Told when the request is released (a registered buffer counting its users). */
  owner: RequestOwner | undefined = undefined;
  /** The request changes slots of the registered file table (direct.ts): bracketed by the funnel. */
  change: SlotChange | undefined = undefined;
  /** The keep-alive group (a socket's ref()/unref()) the request counts in. */
  group: RefGroup | undefined = undefined;
  /** Other requests can name this one later by its promise (pollRemove, timeoutRemove). */
  named = false;
  /**
   * The end of a call already under way (the close of what it opened): a
   * closing ring still takes it, so that the call does not leave its fd open.
   */
  followUp = false;
  /** Per-request options, read once from the caller. */
  signal: AbortSignal | undefined = undefined;
  timeout: number | undefined = undefined;

  constructor(spec: OpSpec, syscall: string = spec.name) {
    this.opcode = spec.op;
    this.syscall = syscall;
    this.waiter = spec.waiter === true;
  }

  /** Names `target` in the SQE's fd field (setting IOSQE_FIXED_FILE for a slot). */
  file(target: FileTarget): this {
    if (target <= -2) {
      this.fd = -target - 2;
      this.flags |= IOSQE_FIXED_FILE;
    } else {
      this.fd = target;
    }
    return this;
  }
}
