// Provided-buffer rings (IORING_REGISTER_PBUF_RING): a ring of buffers the
// kernel picks from when a read or receive completes, instead of the caller
// choosing a buffer before the data exists. The ring and its buffers live in
// memory this module allocates (page aligned, never detached: see
// ownedMemory), so no mmap of the kernel's is needed.
//
// A buffer the kernel picked belongs to the user until released; release()
// writes it back into the ring and publishes the tail with a release store.
// When every buffer is out, the kernel fails the request with ENOBUFS; that is
// back-pressure, not an error: the request is submitted again once a buffer
// comes back.
//
// With incremental consumption (IOU_PBUF_RING_INC, Linux 6.12+) the kernel
// fills one buffer across several completions; CQE_F_BUF_MORE says it keeps
// the buffer, and each completion's data starts where the previous ended.
import {
  CQE_BUFFER_SHIFT, CQE_F_BUFFER, CQE_F_BUF_MORE, IOSQE_BUFFER_SELECT, Register,
} from './constants';
import { storeRelease16 } from './barrier';
import { ownedMemory, memlockError, OwnedMemory } from './buffers';
import { putU64 as put64 } from './memory';
import { OPS, OpSpec } from './opcodes';
import { Operation, FileTarget } from './operation';
import { fileTarget } from './files';
import { optionsOf, requestOptions } from './options';
import { AbortError, UringError, systemError, unsupportedOp } from './errors';
import { validateBoolean, validateInt32, validateInteger, validateObject, validatePosition } from './validators';
import type { RingCore } from './ring-core';
import type { OpOptions } from './options';
import type { FileRef } from './files';

const ENOBUFS = -105;
const EINVAL = -22;
const IOU_PBUF_RING_INC = 2;
const ENTRY = 16; // struct io_uring_buf { u64 addr; u32 len; u16 bid; u16 resv; }
const PAGE = 4096;

const groups = new WeakMap<object, Set<number>>();
const typedArraySet = Function.prototype.call.bind(Object.getPrototypeOf(Uint8Array.prototype).set) as
  (target: Uint8Array, source: Uint8Array) => void;

/** How to create a provided-buffer ring. */
export interface BufferRingOptions {
  /** Number of buffers: a power of two from 1 to 32768. */
  count: number;
  /** Size of each buffer in bytes. */
  size: number;
  /** Buffer group id (0 to 65535). Default: the lowest unused on this ring. */
  groupId?: number;
  /** Incremental consumption (IOU_PBUF_RING_INC, Linux 6.12+). Default false. */
  incremental?: boolean;
}

/** Options of BufferRing.recv(). */
export interface RecvOptions extends OpOptions {
  /** MSG_* flags of recv(2). */
  flags?: number;
}

/**
 * Data the kernel placed in a provided buffer. `bytes` is valid until
 * release(), which gives the buffer back to the ring.
 */
export class ProvidedBuffer {
  /** The buffer id within its group. */
  readonly bufferId: number;
  private view: Buffer | undefined;
  private readonly owner: BufferRing;
  /** @internal */
  constructor(owner: BufferRing, bufferId: number, view: Buffer) {
    this.owner = owner;
    this.bufferId = bufferId;
    this.view = view;
  }
  /** The data. Throws ERR_URING_BUFFER_RELEASED after release(). */
  get bytes(): Buffer {
    if (this.view === undefined) {
      throw new UringError('ERR_URING_BUFFER_RELEASED', `Provided buffer ${this.bufferId} was released to its ring`);
    }
    return this.view;
  }
  /** Number of bytes of data. */
  get length(): number {
    return this.view === undefined ? 0 : this.view.length;
  }
  /** Gives the buffer back to the kernel. Idempotent. */
  release(): void {
    if (this.view === undefined) return;
    this.view = undefined;
    this.owner._unlease(this.bufferId);
  }
}

/**
 * A ring of provided buffers registered with one io_uring instance (buffer
 * group `groupId`). read() and recv() let the kernel pick the buffer.
 *
 * @example
 * ```ts
 * const group = new BufferRing(ring, { count: 64, size: 4096 });
 * const data = await group.recv(socketFd);
 * process.stdout.write(data.bytes);
 * data.release();
 * ```
 */
export class BufferRing {
  /** The buffer group id requests name (`buf_group`). */
  readonly groupId: number;
  /** Number of buffers in the ring (a power of two). */
  readonly count: number;
  /** Bytes in each buffer. */
  readonly size: number;
  /** Whether the kernel consumes buffers incrementally. */
  readonly incremental: boolean;
  /** Times a request found no buffer (ENOBUFS) and waited for one. */
  noBufferRetries = 0;
  private readonly ring: RingCore;
  private readonly mem: OwnedMemory;
  private readonly tailView: Uint16Array;
  private readonly halves: Uint16Array;
  private readonly entries: Uint32Array;
  private readonly dataOffset: number;
  private tail = 0;
  private closed = false;
  private inflight = 0;
  /** Per buffer: user leases outstanding, whether the kernel holds it, and (incremental) bytes consumed. */
  private readonly leases: Uint32Array;
  private readonly kernelHolds: Uint8Array;
  private readonly consumed: Uint32Array;
  private returns = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  /**
   * Allocates the ring and its buffers and registers them. Throws
   * ERR_URING_UNSUPPORTED when the kernel has no buffer rings (before 5.19)
   * or no incremental mode, EEXIST when the group id is taken, ENOMEM naming
   * RLIMIT_MEMLOCK when pinning the ring exceeds the limit.
   */
  constructor(ring: RingCore, options: BufferRingOptions) {
    ring._checkOpen();
    validateObject(options, 'options');
    const count = validateInteger(options.count, 'options.count', 1, 32768);
    if ((count & (count - 1)) !== 0) throw new UringError('ERR_OUT_OF_RANGE', `The value of "options.count" is out of range. It must be a power of two. Received ${count}`);
    const size = validateInteger(options.size, 'options.size', 1, 0xffffffff);
    const inc = options.incremental === undefined ? false : validateBoolean(options.incremental, 'options.incremental');
    let used = groups.get(ring);
    if (used === undefined) groups.set(ring, used = new Set());
    let gid = 0;
    if (options.groupId !== undefined) gid = validateInteger(options.groupId, 'options.groupId', 0, 0xffff);
    else while (used.has(gid)) gid++;
    const ringBytes = Math.ceil((count * ENTRY) / PAGE) * PAGE;
    this.mem = ownedMemory(ringBytes + count * size);
    this.dataOffset = ringBytes;
    this.entries = new Uint32Array(this.mem.buffer, 0, (count * ENTRY) / 4);
    this.tailView = new Uint16Array(this.mem.buffer, 0, 8);
    this.halves = new Uint16Array(this.mem.buffer, 0, (count * ENTRY) / 2);
    // struct io_uring_buf_reg { u64 ring_addr; u32 ring_entries; u16 bgid; u16 flags; u64 resv[3]; }
    const reg = new Uint32Array(10);
    put64(reg, 0, this.mem.address);
    reg[2] = count;
    reg[3] = gid | ((inc ? IOU_PBUF_RING_INC : 0) << 16);
    const res = ring._n.register(ring.fd, Register.REGISTER_PBUF_RING, reg, 1);
    if (res < 0) {
      if (res === EINVAL && inc) throw unsupportedOp('REGISTER_PBUF_RING with IOU_PBUF_RING_INC', 'incremental buffer consumption needs Linux 6.12 or later');
      if (res === EINVAL) throw unsupportedOp('REGISTER_PBUF_RING', 'provided-buffer rings need Linux 5.19 or later');
      throw memlockError(res, ring, ringBytes, 'a provided-buffer ring');
    }
    used.add(gid);
    this.ring = ring;
    this.groupId = gid;
    this.count = count;
    this.size = size;
    this.incremental = inc;
    this.leases = new Uint32Array(count);
    this.kernelHolds = new Uint8Array(count);
    this.consumed = new Uint32Array(count);
    for (let bid = 0; bid < count; bid++) this.put(bid);
    this.publish();
  }

  /** Buffers the kernel can pick from right now. */
  get available(): number {
    let n = 0;
    for (let bid = 0; bid < this.count; bid++) n += this.kernelHolds[bid]!;
    return n;
  }

  /**
   * Reads from `file` into a buffer the kernel picks (IOSQE_BUFFER_SELECT),
   * at `position` (-1/null/omitted: the current position). Resolves with the
   * data; a read at end of file resolves with an empty ProvidedBuffer. Waits
   * for a released buffer when none is free.
   */
  read(file: FileRef, position?: number | bigint | null, options?: OpOptions): Promise<ProvidedBuffer> {
    const target = fileTarget(file, OPS.read, this.ring);
    const pos = position === undefined || position === -1 ? -1 : validatePosition(position);
    return this.select(OPS.read, target, this.size, pos, 0, options);
  }

  /** recv(2) into a buffer the kernel picks. Resolves with the data (empty at end of stream). */
  recv(socket: FileRef, options?: RecvOptions): Promise<ProvidedBuffer> {
    const target = fileTarget(socket, OPS.recv, this.ring, 'socket');
    const flags = optionsOf(options)?.flags;
    const f = flags === undefined ? 0 : validateInt32(flags, 'options.flags', 0);
    return this.select(OPS.recv, target, 0, 0, f, options);
  }

  /** Submits `spec` with IOSQE_BUFFER_SELECT on this group, again after each ENOBUFS. */
  private select(spec: OpSpec, target: FileTarget, len: number, off: number | bigint, opFlags: number,
    options: OpOptions | undefined): Promise<ProvidedBuffer> {
    const { signal, timeout } = optionsOf(options) ?? {};
    const make = (): Operation => {
      const op = new Operation(spec).file(target);
      op.flags |= IOSQE_BUFFER_SELECT;
      op.len = len;
      op.off = off;
      op.opFlags = opFlags;
      op.bufIndex = this.groupId; // buf_group shares the buf_index field
      op.hold = this;
      op.map = this.leaseCb;
      return requestOptions(op, signal, timeout);
    };
    make(); // refuses bad options before anything is submitted
    this.ring._checkOpen();
    this.checkOpen();
    return this.retrying(() => this.ring._submit(make()), (signal as AbortSignal | undefined));
  }

  /**
   * Unregisters the group once no request that may pick from it is in
   * flight; requests waiting for a buffer reject with
   * ERR_URING_BUFFER_RING_CLOSED. Leased buffers stay readable until
   * released. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new UringError('ERR_URING_BUFFER_RING_CLOSED', `Buffer ring ${this.groupId} was closed`);
    for (const w of this.waiters.splice(0)) w.reject(err);
    while (this.inflight > 0) await this.whenReturned(undefined);
    if (!this.ring.closed) {
      const reg = new Uint32Array(10);
      reg[3] = this.groupId;
      const res = this.ring._n.register(this.ring.fd, Register.UNREGISTER_PBUF_RING, reg, 1);
      if (res < 0) throw systemError(res, 'io_uring_register');
    }
    groups.get(this.ring)?.delete(this.groupId);
  }

  /**
   * @internal Turns a CQE's result and flags into the data it delivered;
   * for multishot receives, which call it for every CQE.
   */
  _lease(res: number, flags: number): ProvidedBuffer {
    if ((flags & CQE_F_BUFFER) === 0) {
      return new ProvidedBuffer(this, -1, Buffer.alloc(0));
    }
    const bid = flags >>> CQE_BUFFER_SHIFT;
    const base = this.dataOffset + bid * this.size;
    let start = 0;
    if (this.incremental) {
      start = this.consumed[bid]!;
      if ((flags & CQE_F_BUF_MORE) !== 0) this.consumed[bid] = start + res;
      else { this.consumed[bid] = 0; this.kernelHolds[bid] = 0; }
    } else {
      this.kernelHolds[bid] = 0;
    }
    this.leases[bid]!++;
    return new ProvidedBuffer(this, bid, Buffer.from(this.mem.buffer, base + start, res));
  }

  private readonly leaseCb = (res: number, flags: number): ProvidedBuffer => this._lease(res, flags);

  /**
   * @internal The data a CQE delivered, copied into a new Buffer, its
   * provided buffer given straight back: _lease() and release() in one,
   * without the objects (multishot receives, once per chunk).
   */
  _copyOut(res: number, flags: number): Buffer {
    const chunk = Buffer.allocUnsafe(res);
    if ((flags & CQE_F_BUFFER) === 0) return chunk.fill(0);
    const bid = flags >>> CQE_BUFFER_SHIFT;
    let at = this.dataOffset + bid * this.size;
    if (this.incremental) {
      const start = this.consumed[bid]!;
      at += start;
      if ((flags & CQE_F_BUF_MORE) !== 0) this.consumed[bid] = start + res;
      else { this.consumed[bid] = 0; this.kernelHolds[bid] = 0; }
    } else {
      this.kernelHolds[bid] = 0;
    }
    typedArraySet(chunk, new Uint8Array(this.mem.buffer, at, res));
    if (this.leases[bid] === 0 && this.kernelHolds[bid] === 0 && !this.closed) {
      // Written back now, published once for the whole batch of CQEs.
      this.put(bid);
      this.returns++;
      if (!this.publishQueued) {
        this.publishQueued = true;
        this.ring._afterBatch(this.publishCb);
      }
    }
    return chunk;
  }

  private publishQueued = false;
  private readonly publishCb = (): void => {
    this.publishQueued = false;
    this.publish();
    if (this.waiters.length > 0) for (const w of this.waiters.splice(0)) w.resolve();
  };

  /** @internal A lease ended; the buffer goes back once the kernel and every lease are done with it. */
  _unlease(bid: number): void {
    if (bid < 0) return;
    if (--this.leases[bid]! !== 0) return;
    this.giveBack(bid);
  }

  private giveBack(bid: number): void {
    if (this.kernelHolds[bid] !== 0 || this.closed) return;
    this.put(bid);
    this.publish();
    this.returns++;
    if (this.waiters.length > 0) for (const w of this.waiters.splice(0)) w.resolve();
  }

  /**
   * @internal Resolves when a buffer is returned to the ring (or, while the
   * group is closing, when a request finishes); multishot receives wait here
   * after ENOBUFS.
   */
  _whenReturned(signal?: AbortSignal): Promise<void> {
    return this.whenReturned(signal);
  }

  private whenReturned(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      this.waiters.push(w);
      if (signal !== undefined) {
        signal.addEventListener('abort', () => {
          const at = this.waiters.indexOf(w);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new AbortError(undefined, { cause: signal.reason }));
        }, { once: true });
      }
    });
  }

  private async retrying(submit: () => Promise<ProvidedBuffer>, signal: AbortSignal | undefined): Promise<ProvidedBuffer> {
    for (;;) {
      const epoch = this.returns;
      this.inflight++;
      try {
        return await submit();
      } catch (err) {
        if ((err as { errno?: number }).errno !== ENOBUFS || this.closed) throw err;
        this.noBufferRetries++;
      } finally {
        this.inflight--;
        if (this.closed) for (const w of this.waiters.splice(0)) w.resolve();
      }
      // Out of buffers: wait for one to come back, unless one already did
      // while this request was in flight.
      if (this.returns === epoch) await this.whenReturned(signal);
      this.ring._checkOpen();
      this.checkOpen();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new UringError('ERR_URING_BUFFER_RING_CLOSED', `Buffer ring ${this.groupId} was closed`);
  }

  /** Writes buffer `bid` at the local tail (published by publish()). */
  private put(bid: number): void {
    const e = (this.tail & (this.count - 1)) * (ENTRY / 4);
    put64(this.entries, e, this.mem.address + this.dataOffset + bid * this.size);
    this.entries[e + 2] = this.size;
    // bid in the low half of word 3; the high half of entry 0's word 3 is the
    // ring tail, which only publish() writes.
    this.halves[e * 2 + 6] = bid;
    this.kernelHolds[bid] = 1;
    this.tail = (this.tail + 1) & 0xffff;
  }

  private publish(): void {
    storeRelease16(this.tailView, 7, this.tail);
  }
}
