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
import { pinError, viewBuffer, viewByteOffset } from './memory';

/** Pins kept after their last request completed, before the oldest are given back. */
const IDLE_MAX = 256;

export class Pin {
  /** Requests in flight that use the memory. */
  users = 0;
  /** In the idle list (users may be > 0 again: the list is pruned lazily). */
  idle = false;
  constructor(readonly id: number, readonly buffer: ArrayBufferLike, readonly base: number) {}
}

export class Pins {
  private readonly byBuffer = new WeakMap<ArrayBufferLike, Pin>();
  private idle: Pin[] = [];
  private free: number[] = [];
  private next = 0;

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
    const p = new Pin(id, buffer, addr - viewByteOffset(view));
    p.users = 1;
    // A zero-length pin is not cached: release() gives it back at once.
    if (length !== 0) this.byBuffer.set(buffer, p);
    return p;
  }

  /** A request using `p` was released. */
  release(p: Pin): void {
    if (--p.users !== 0) return;
    if (this.byBuffer.get(p.buffer) !== p) {
      this.unpin(p);
      return;
    }
    if (!p.idle) {
      p.idle = true;
      this.idle.push(p);
      if (this.idle.length > IDLE_MAX) this.trim(IDLE_MAX >> 1);
    }
  }

  /** Gives back idle pins until at most `keep` remain (all with 0). */
  trim(keep = 0): void {
    const kept: Pin[] = [];
    for (const p of this.idle) {
      if (p.users > 0) { p.idle = false; continue; }
      kept.push(p);
    }
    const excess = kept.length - keep;
    for (let k = 0; k < kept.length; k++) {
      const p = kept[k]!;
      if (k < excess) {
        p.idle = false;
        this.byBuffer.delete(p.buffer);
        this.unpin(p);
      }
    }
    this.idle = excess > 0 ? kept.slice(excess) : kept;
  }

  private unpin(p: Pin): void {
    this.n.unpin(this.handle, p.id);
    this.free.push(p.id);
  }
}
