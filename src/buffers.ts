// Registered (fixed) buffers: memory the kernel pins once at registration, so
// that read_fixed, write_fixed and fixed-buffer sends skip pinning the pages
// on every operation.
//
// The kernel keeps using registered memory until it says otherwise, so the
// pool owns that memory instead of borrowing the user's: it is allocated here
// as a WebAssembly.Memory whose size is fixed (initial == maximum). Such a
// buffer is page aligned, never resizable, and V8 refuses to detach it:
// transfer() throws, and postMessage/structuredClone copy it instead of
// moving it. Only `memory.grow()` could replace it, and the Memory object
// never leaves this module. The pool holds every region until the kernel has
// released all of its slots (the tag CQE, or unregistration where the kernel
// has no tags), and every request holds the FixedBuffer it uses, so nothing
// registered is collected early.
import { Register, RSRC_REGISTER_SPARSE, RLIMIT_MEMLOCK } from './constants';
import { TAG_BIT } from './requests';
import { internalAddress, putU64 as put64 } from './memory';
import { UringError, UringSystemError, invalidArgType, outOfRange, systemError } from './errors';
import { validateInteger, validateObject } from './validators';
import type { RingCore } from './ring-core';

const ENOMEM = -12;
const WASM_PAGE = 65536;
/** The kernel's limit on registered buffers per ring (IORING_MAX_REG_BUFFERS). */
export const MAX_FIXED_BUFFERS = 1 << 14;
/** The kernel's limit on one registered buffer (1 GiB). */
export const MAX_FIXED_BUFFER_SIZE = 1 << 30;
/** Tag CQEs of buffer slots carry this bit in the tag's low word (file tags do not). */
const BUFFER_TAG = 0x40000000;

// The compiler's ES library set has no WebAssembly types; this is the part used.
interface WasmMemory { readonly buffer: ArrayBuffer }
declare const WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => WasmMemory };

/** @internal Memory owned by the library: page aligned, fixed size, never detached. */
export interface OwnedMemory {
  readonly memory: WasmMemory;
  readonly buffer: ArrayBuffer;
  readonly address: number;
}

/** @internal Allocates `bytes` (rounded up to 64 KiB) of zeroed memory that cannot be detached or resized. */
export function ownedMemory(bytes: number): OwnedMemory {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  let memory: WasmMemory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch (err) {
    throw new UringError('ERR_OUT_OF_MEMORY', `Cannot allocate ${bytes} bytes of buffer memory: ${(err as Error).message}`, { cause: err });
  }
  const buffer = memory.buffer;
  return { memory, buffer, address: internalAddress(new Uint8Array(buffer, 0, 0)) };
}

/**
 * @internal The error for ENOMEM from a registration that pins memory: the
 * usual cause is RLIMIT_MEMLOCK, so the message names it and the limit.
 */
export function memlockError(res: number, ring: RingCore, bytes: number, what: string): UringSystemError {
  const err = systemError(res, 'io_uring_register');
  if (res !== ENOMEM) return err;
  const lim = ring._n.getRlimit(RLIMIT_MEMLOCK);
  const soft = Array.isArray(lim) ? (lim[0] < 0 ? 'unlimited' : `${lim[0]} bytes`) : 'unknown';
  err.message = `ENOMEM: cannot lock memory, registering ${what} (${bytes} bytes) exceeds the locked-memory ` +
    `limit RLIMIT_MEMLOCK (soft limit ${soft}). Raise it (ulimit -l, LimitMEMLOCK= in systemd, ` +
    '--ulimit memlock in Docker) or register less memory.';
  return err;
}

/** One allocation holding several registered buffers. */
class Region {
  /** Slots of this region the kernel may still use. */
  live = 0;
  constructor(readonly mem: OwnedMemory) {}
}

/**
 * A registered buffer handed out by a ring's buffer pool: a view of memory
 * the kernel has pinned, and its index in the ring's buffer table. Only
 * buffers obtained from `ring.buffers` are accepted by readFixed(),
 * writeFixed() and sendFixed(); give it back with `release()`.
 */
export class FixedBuffer {
  // The fields the kernel's view of the buffer depends on are private, so
  // neither a forged object nor an assignment can point a request elsewhere.
  readonly #pool: FixedBuffers;
  readonly #index: number;
  readonly #size: number;
  readonly #addr: number;
  /** The slot in the ring's registered buffer table (`buf_index`). */
  get index(): number { return this.#index; }
  /** Size of the buffer in bytes. */
  get byteLength(): number { return this.#size; }
  /** @internal */ get _pool(): FixedBuffers { return this.#pool; }
  /** @internal */ get _addr(): number { return this.#addr; }
  /** @internal Whether `x` was made by this class (no code of `x` runs). */
  static _is(x: unknown): x is FixedBuffer {
    return typeof x === 'object' && x !== null && #addr in x;
  }
  // What a request is built from comes from the private fields: a getter
  // defined on an instance (or a subclass) cannot answer for them.
  /** @internal */ static _addrOf(b: FixedBuffer): number { return b.#addr; }
  /** @internal */ static _sizeOf(b: FixedBuffer): number { return b.#size; }
  /** @internal */ static _indexOf(b: FixedBuffer): number { return b.#index; }
  /** @internal */ static _poolOf(b: FixedBuffer): FixedBuffers { return b.#pool; }
  /** @internal */ readonly _region: Region;
  /** @internal */ readonly _view: Buffer;
  /** @internal 0 free, 1 handed out, 2 unregistered. */ _state = 0;
  /** @internal Requests in flight on this buffer. */ _inflight = 0;
  /** @internal release() was called while requests were in flight. */ _releasing = false;
  /** @internal Called as each request using this buffer is placed. */
  _requestStarted(): void {
    this._inflight++;
  }
  /** @internal Called as each request using this buffer is released. */
  _requestDone(): void {
    if (--this._inflight === 0 && this._releasing) this.release();
  }

  /** @internal */
  constructor(pool: FixedBuffers, region: Region, index: number, offset: number, size: number) {
    this.#pool = pool;
    this._region = region;
    this.#index = index;
    this.#size = size;
    this.#addr = region.mem.address + offset;
    this._view = Buffer.from(region.mem.buffer, offset, size);
  }

  /**
   * The buffer's bytes. Throws ERR_URING_BUFFER_RELEASED once the buffer was
   * given back to the pool or unregistered.
   */
  get bytes(): Buffer {
    if (this._state !== 1) throw bufferReleased(this);
    return this._view;
  }

  /** Gives the buffer back to its pool (after any request on it completes). Idempotent. */
  release(): void {
    this.#pool.release(this);
  }

  /** @internal */
  toString(): string {
    return `FixedBuffer(${this.#index}, ${this.#size} bytes)`;
  }
}

function bufferReleased(b: FixedBuffer): UringError {
  return new UringError('ERR_URING_BUFFER_RELEASED',
    `${b} was released to its pool or unregistered; acquire a buffer from ring.buffers again`);
}

/** How to register a pool of buffers. */
export interface RegisterBuffersOptions {
  /** Number of buffers to allocate and register (1 to 16384). */
  count: number;
  /** Size of each buffer in bytes (1 to 1 GiB). */
  size: number;
  /**
   * Table size (default `count`). Extra slots are left empty (a sparse
   * table) so that add() can fill them later; needs Linux 5.13+.
   */
  capacity?: number;
}

/**
 * A ring's registered buffer table and the pool that hands its buffers out.
 * Reached through `ring.buffers`.
 *
 * @example
 * ```ts
 * ring.buffers.register({ count: 8, size: 4096 });
 * const buf = ring.buffers.acquire()!;
 * const n = await ring.readFixed(fd, buf, 0);
 * console.log(buf.bytes.subarray(0, n));
 * buf.release();
 * ```
 */
export class FixedBuffers {
  private readonly ring: RingCore;
  private table: (FixedBuffer | undefined)[] = [];
  private free: FixedBuffer[] = [];
  private waiters: ((b: FixedBuffer) => void)[] = [];
  private tagged = false;
  private gen = 0;
  /** Regions the kernel may still use, by tag; dropped when their last tag arrives. */
  private readonly pendingTags = new Map<number, Region>();
  private readonly regions = new Set<Region>();

  /** @internal */
  constructor(ring: RingCore) {
    this.ring = ring;
  }

  /** Size of the registered table (0 when nothing is registered). */
  get capacity(): number {
    return this.table.length;
  }

  /** Buffers ready to be acquired. */
  get available(): number {
    return this.free.length;
  }

  /**
   * Allocates `count` buffers of `size` bytes and registers them
   * (IORING_REGISTER_BUFFERS2 with tags where the kernel has them, else
   * IORING_REGISTER_BUFFERS). Throws EBUSY when a table is registered
   * already, ENOMEM naming RLIMIT_MEMLOCK when the pinned memory exceeds the
   * locked-memory limit, ERR_OUT_OF_RANGE for sizes beyond the kernel's limits.
   */
  register(options: RegisterBuffersOptions): FixedBuffer[] {
    this.ring._checkOpen();
    validateObject(options, 'options');
    const count = validateInteger(options.count, 'options.count', 1, MAX_FIXED_BUFFERS);
    const size = validateInteger(options.size, 'options.size', 1, MAX_FIXED_BUFFER_SIZE);
    const cap = options.capacity === undefined ? count
      : validateInteger(options.capacity, 'options.capacity', count, MAX_FIXED_BUFFERS);
    if (this.table.length > 0) throw systemError(-16, 'io_uring_register');
    const n = this.ring._n;
    this.tagged = this.ring.features.rsrcTags;
    if (!this.tagged) {
      if (cap !== count) throw new UringError('ERR_URING_UNSUPPORTED', 'A sparse buffer table (options.capacity) needs Linux 5.13 or later');
      const { region, iov, bufs } = this.allocate(0, count, size);
      const res = n.register(this.ring.fd, Register.REGISTER_BUFFERS, iov, count);
      if (res < 0) throw memlockError(res, this.ring, count * size, `${count} buffers`);
      this.table = bufs;
      this.adopt(region, bufs);
      return bufs.slice();
    }
    // struct io_uring_rsrc_register { u32 nr; u32 flags; u64 resv2; u64 data; u64 tags; }
    const reg = new Uint32Array(8);
    reg[0] = cap;
    reg[1] = RSRC_REGISTER_SPARSE;
    const res = n.register(this.ring.fd, Register.REGISTER_BUFFERS2, reg, 32);
    if (res < 0) throw systemError(res, 'io_uring_register');
    this.table = new Array<FixedBuffer | undefined>(cap).fill(undefined);
    try {
      return this.fill(0, count, size);
    } catch (err) {
      n.register(this.ring.fd, Register.UNREGISTER_BUFFERS, null, 0);
      this.table = [];
      throw err;
    }
  }

  /**
   * Allocates `count` more buffers of `size` bytes into adjacent empty slots
   * of a sparse table (IORING_REGISTER_BUFFERS_UPDATE, tagged). Throws
   * ERR_OUT_OF_RANGE when there are not enough adjacent empty slots.
   */
  add(count: number, size: number): FixedBuffer[] {
    this.ring._checkOpen();
    validateInteger(count, 'count', 1, MAX_FIXED_BUFFERS);
    validateInteger(size, 'size', 1, MAX_FIXED_BUFFER_SIZE);
    if (!this.tagged || this.table.length === 0) {
      throw new UringError('ERR_URING_NO_TABLE', 'add() needs a buffer table registered with register() on Linux 5.13+');
    }
    // Contiguous run of empty slots.
    let start = -1;
    for (let s = 0, run = 0; s < this.table.length; s++) {
      run = this.table[s] === undefined ? run + 1 : 0;
      if (run === count) { start = s - count + 1; break; }
    }
    if (start < 0) throw outOfRange('count', `<= the number of adjacent empty slots in the table`, count);
    return this.fill(start, count, size);
  }

  /**
   * Removes one buffer from the table (its slot becomes empty). The kernel
   * lets requests in flight on it finish; the memory is freed after that.
   */
  remove(buffer: FixedBuffer): void {
    this.own(buffer, 'buffer');
    if (!this.tagged) throw new UringError('ERR_URING_UNSUPPORTED', 'Removing one buffer needs Linux 5.13 or later');
    if (buffer._state === 2) return;
    const iov = new Uint32Array(4); // an empty iovec clears the slot
    this.update(FixedBuffer._indexOf(buffer), 1, iov, new BigUint64Array(1));
    this.retire(buffer);
  }

  /**
   * Unregisters the whole table (IORING_UNREGISTER_BUFFERS). Buffers handed
   * out become unusable (ERR_URING_BUFFER_RELEASED). Requests in flight
   * finish normally: each holds its buffer, and the pool keeps the memory
   * until the kernel's tag CQEs say it let go. Does nothing when no table is
   * registered.
   */
  unregister(): void {
    if (this.table.length === 0) return;
    const res = this.ring._n.register(this.ring.fd, Register.UNREGISTER_BUFFERS, null, 0);
    if (res < 0) throw systemError(res, 'io_uring_register');
    for (const b of this.table) if (b !== undefined) this.retire(b);
    this.table = [];
    this.free = [];
    if (!this.tagged) this.regions.clear();
    else this.ring.reap();
  }

  /** A free buffer from the pool, or undefined when all are handed out. */
  acquire(): FixedBuffer | undefined {
    const b = this.free.pop();
    if (b !== undefined) b._state = 1;
    return b;
  }

  /** Resolves with a free buffer as soon as one is released. */
  take(): Promise<FixedBuffer> {
    const b = this.acquire();
    if (b !== undefined) return Promise.resolve(b);
    if (this.table.length === 0) return Promise.reject(new UringError('ERR_URING_NO_TABLE', 'No buffers are registered'));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a buffer back; it returns to the pool once no request uses it. Idempotent. */
  release(buffer: FixedBuffer): void {
    this.own(buffer, 'buffer');
    if (buffer._state !== 1) return;
    if (buffer._inflight > 0) {
      buffer._releasing = true;
      return;
    }
    buffer._state = 0;
    buffer._releasing = false;
    const w = this.waiters.shift();
    if (w !== undefined) {
      buffer._state = 1;
      w(buffer);
    } else {
      this.free.push(buffer);
    }
  }

  /** @internal Checks that `buffer` is a handed-out FixedBuffer of `ring`, for an operation. */
  _use(buffer: unknown, ring: RingCore, name: string): FixedBuffer {
    if (!FixedBuffer._is(buffer)) {
      throw invalidArgType(name, 'an instance of FixedBuffer (from ring.buffers)', buffer);
    }
    if (FixedBuffer._poolOf(buffer).ring !== ring) {
      throw new UringError('ERR_URING_FOREIGN_BUFFER', `The "${name}" FixedBuffer belongs to another ring`);
    }
    if (buffer._state !== 1) throw bufferReleased(buffer);
    return buffer;
  }

  private own(buffer: FixedBuffer, name: string): void {
    if (!FixedBuffer._is(buffer)) throw invalidArgType(name, 'an instance of FixedBuffer', buffer);
    if (FixedBuffer._poolOf(buffer) !== this) {
      throw new UringError('ERR_URING_FOREIGN_BUFFER', `The "${name}" FixedBuffer belongs to another ring`);
    }
  }

  private allocate(first: number, count: number, size: number): { region: Region; iov: Uint32Array; bufs: FixedBuffer[] } {
    // Buffers of a page or more start on a page (as O_DIRECT wants); small
    // ones on a cache line.
    const stride = size >= 4096 ? Math.ceil(size / 4096) * 4096 : Math.ceil(size / 64) * 64;
    const region = new Region(ownedMemory(stride * count));
    const iov = new Uint32Array(count * 4);
    const bufs: FixedBuffer[] = [];
    for (let k = 0; k < count; k++) {
      const b = new FixedBuffer(this, region, first + k, k * stride, size);
      put64(iov, k * 4, FixedBuffer._addrOf(b));
      put64(iov, k * 4 + 2, size);
      bufs.push(b);
    }
    return { region, iov, bufs };
  }

  private fill(first: number, count: number, size: number): FixedBuffer[] {
    const { region, iov, bufs } = this.allocate(first, count, size);
    const tags = new BigUint64Array(count);
    this.gen = (this.gen + 1) & 0xffff;
    for (let k = 0; k < count; k++) tags[k] = this.tagOf(first + k);
    this.update(first, count, iov, tags, count * size);
    for (let k = 0; k < count; k++) {
      this.table[first + k] = bufs[k];
      this.pendingTags.set(Number(tags[k]! & 0xffffffffn), region);
    }
    this.adopt(region, bufs);
    return bufs.slice();
  }

  private tagOf(slot: number): bigint {
    const lo = (BUFFER_TAG | (this.gen << 14) | slot) >>> 0;
    return (BigInt(TAG_BIT) << 32n) | BigInt(lo);
  }

  private update(offset: number, nr: number, iov: Uint32Array, tags: BigUint64Array, bytes = 0): void {
    // struct io_uring_rsrc_update2 { u32 offset; u32 resv; u64 data; u64 tags; u32 nr; u32 resv2; }
    const up = new Uint32Array(8);
    up[0] = offset;
    put64(up, 2, internalAddress(iov));
    put64(up, 4, internalAddress(tags));
    up[6] = nr;
    const res = this.ring._n.register(this.ring.fd, Register.REGISTER_BUFFERS_UPDATE, up, 32);
    if (res < 0) throw memlockError(res, this.ring, bytes, `${nr} buffers`);
    installTagHandler(this.ring, this);
  }

  private adopt(region: Region, bufs: FixedBuffer[]): void {
    region.live += bufs.length;
    this.regions.add(region);
    for (let k = bufs.length - 1; k >= 0; k--) this.free.push(bufs[k]!);
    while (this.waiters.length > 0 && this.free.length > 0) {
      const b = this.free.pop()!;
      b._state = 1;
      this.waiters.shift()!(b);
    }
  }

  /** The slot no longer holds this buffer; it can never be used again. */
  private retire(b: FixedBuffer): void {
    b._state = 2;
    this.table[FixedBuffer._indexOf(b)] = undefined;
    const at = this.free.indexOf(b);
    if (at >= 0) this.free.splice(at, 1);
  }

  /** @internal A tag CQE: the kernel released the buffer in one slot. */
  _onTag(lo: number): void {
    const region = this.pendingTags.get(lo);
    if (region === undefined) return;
    this.pendingTags.delete(lo);
    if (--region.live === 0) this.regions.delete(region);
  }

  /** @internal Memory regions still held (for tests). */
  get _regionCount(): number {
    return this.regions.size;
  }
}

const installed = new WeakSet<object>();

/**
 * Routes tag CQEs carrying BUFFER_TAG to the buffer pool and everything else
 * to the handler installed before (registered files use small tags).
 */
function installTagHandler(ring: RingCore, pool: FixedBuffers): void {
  if (installed.has(ring)) return;
  installed.add(ring);
  const prev = ring._tagHandler;
  ring._tagHandler = (lo: number, hi: number, res: number) => {
    // Only a plain tag (high word exactly TAG_BIT) is a buffer tag; files
    // passed in by other rings set more bits in the high word.
    if (hi === TAG_BIT && (lo & BUFFER_TAG) !== 0) pool._onTag(lo);
    else if (prev !== undefined) prev(lo, hi, res);
  };
}
