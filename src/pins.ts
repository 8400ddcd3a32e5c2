// Pins: the ring's hold on callers' memory while the kernel may use it.
//
// A pin is a native reference to an ArrayBuffer's backing store (the memory,
// not the JavaScript object: native/pins.cc), taken before a request that
// points the kernel into a caller's view is placed, and given back when the
// request is released after its last CQE. Whatever happens to the
// ArrayBuffer meanwhile (transfer, detach, collection), the memory stays
// allocated.
//
// One pin serves every request on the same ArrayBuffer, and a pin whose last
// request completed stays cached for a while (up to IDLE_MAX, or until the
// ring goes idle), so that a buffer reused for request after request is
// pinned natively once, not per request. The cache is keyed by the engine's
// own ArrayBuffer (an intrinsic getter), and the address is the one V8
// reported when the pin was taken: nothing a caller can shadow.
import type { NativeBinding } from './native';
import { bufferByteLength, pinError, viewBuffer, viewByteOffset } from './memory';

/** Pins kept after their last request completed, before the oldest are given back. */
const IDLE_MAX = 256;
/**
 * Bytes of ArrayBuffers the idle pins may keep alive, before the oldest are
 * given back (the newest is always kept: a buffer reused for request after
 * request stays pinned however large it is).
 */
const IDLE_BYTES_MAX = 64 * 1024 * 1024;

export class Pin {
  /** Requests in flight that use the memory. */
  users = 0;
  /** In the idle list (users may be > 0 again: the list is pruned lazily). */
  idle = false;
  constructor(readonly id: number, readonly buffer: ArrayBufferLike, readonly base: number,
    /** Order of creation (see Pins.mark). */
    readonly serial: number,
    /** Size of the whole ArrayBuffer the pin keeps alive. */
    readonly bytes: number) {}
}

export class Pins {
  private readonly byBuffer = new WeakMap<ArrayBufferLike, Pin>();
  private idle: Pin[] = [];
  /** Bytes of the idle list's pins (an estimate between trims: the list is pruned lazily). */
  private idleBytes = 0;
  private free: number[] = [];
  private next = 0;
  private created = 0;

  constructor(private readonly n: NativeBinding, private readonly handle: object) {}

  /**
   * Holds the memory of `view` (of `length` bytes, read through the
   * engine) for one more request and returns the pin; the view's address is
   * `pin.base + viewByteOffset(view)`. Throws, holding nothing, for a view
   * that is detached or backed by a resizable or growable buffer.
   */
  acquire(view: ArrayBufferView, length: number, name: string, index = -1): Pin {
    // A view of length 0 may be a detached one: ask the engine every time.
    if (length !== 0) {
      const p = this.byBuffer.get(viewBuffer(view));
      if (p !== undefined) {
        p.users++;
        return p;
      }
    }
    const id = this.free.pop() ?? this.next++;
    const addr = this.n.pin(this.handle, id, view);
    if (addr < 0) {
      this.free.push(id);
      throw pinError(addr, name, view, index);
    }
    const buffer = viewBuffer(view);
    const p = new Pin(id, buffer, addr - viewByteOffset(view), this.created++, bufferByteLength(buffer));
    p.users = 1;
    // A zero-length pin is not cached: release() gives it back at once.
    if (length !== 0) this.byBuffer.set(buffer, p);
    return p;
  }

  /** A request using `p` was released. */
  release(p: Pin): void {
    if (--p.users === 0) this.unused(p);
  }

  /** What rollback() takes: pins created from here on belong to the call that asked. */
  get mark(): number {
    return this.created;
  }

  /**
   * Gives back the pins a refused call acquired (`held`, one entry per
   * acquire) and forgets those it created (since `mark`): a refusal leaves
   * no pin cached, so it keeps no memory alive.
   */
  rollback(held: readonly Pin[], mark: number): void {
    for (const p of held) {
      if (--p.users !== 0) continue;
      if (p.serial < mark) {
        this.unused(p);
        continue;
      }
      // Created by this call, so never released before: not in the idle list.
      if (this.byBuffer.get(p.buffer) === p) this.byBuffer.delete(p.buffer);
      this.unpin(p);
    }
  }

  /** `p` has no request left: cache it, or give it back if it is not the cached one. */
  private unused(p: Pin): void {
    if (this.byBuffer.get(p.buffer) !== p) {
      this.unpin(p);
      return;
    }
    if (!p.idle) {
      p.idle = true;
      this.idle.push(p);
      this.idleBytes += p.bytes;
      if (this.idle.length > IDLE_MAX) this.trim(IDLE_MAX >> 1, IDLE_BYTES_MAX);
      else if (this.idleBytes > IDLE_BYTES_MAX) this.trim(IDLE_MAX, IDLE_BYTES_MAX >> 1);
    }
  }

  /**
   * Gives back the oldest idle pins until at most `keep` remain and they
   * keep at most `keepBytes` alive (the newest stays when `keep` > 0); 0
   * gives back all of them.
   */
  trim(keep = 0, keepBytes = 0): void {
    const kept: Pin[] = [];
    let bytes = 0;
    for (const p of this.idle) {
      if (p.users > 0) { p.idle = false; continue; }
      kept.push(p);
      bytes += p.bytes;
    }
    let drop = 0;
    while (drop < kept.length && (kept.length - drop > keep || (bytes > keepBytes && kept.length - drop > 1))) {
      const p = kept[drop++]!;
      bytes -= p.bytes;
      p.idle = false;
      this.byBuffer.delete(p.buffer);
      this.unpin(p);
    }
    this.idle = drop > 0 ? kept.slice(drop) : kept;
    this.idleBytes = bytes;
  }

  private unpin(p: Pin): void {
    this.n.unpin(this.handle, p.id);
    this.free.push(p.id);
  }
}
