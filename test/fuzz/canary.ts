// Canary memory for the API fuzzer. Views that lie about their extent are
// carved out of an arena filled with a known pattern, with guard bytes on
// either side of each, so that a write the kernel makes outside a view's real
// extent (because the library believed a lie, or cached a poisoned address)
// shows as a changed guard byte instead of as silent heap damage. Guard
// Buffers allocated outside the arena catch writes that escape it.
//
// The real extent of a view is read through the engine's own getters,
// captured here at load time, never through properties the view can shadow.
import { types } from 'node:util';

export const PATTERN = 0xa5;
/** Pattern bytes before and after every region carved out of an arena. */
export const GUARD = 64;
const ARENA_SIZE = 1 << 20;

function intrinsic(proto: object, key: string): (this: unknown) => unknown {
  return Object.getOwnPropertyDescriptor(proto, key)!.get! as (this: unknown) => unknown;
}
const TA = Object.getPrototypeOf(Uint8Array.prototype) as object;
const taByteLength = intrinsic(TA, 'byteLength');
const taByteOffset = intrinsic(TA, 'byteOffset');
const taBuffer = intrinsic(TA, 'buffer');
const dvByteLength = intrinsic(DataView.prototype, 'byteLength');
const dvByteOffset = intrinsic(DataView.prototype, 'byteOffset');
const taLength = intrinsic(TA, 'length');
const dvBuffer = intrinsic(DataView.prototype, 'buffer');

export interface Extent { buffer: ArrayBufferLike; offset: number; length: number }

/** What a view really covers, whatever its own properties say; undefined for anything else (a Proxy too). */
export function realExtent(v: unknown): Extent | undefined {
  try {
    if (types.isTypedArray(v)) {
      return { buffer: taBuffer.call(v) as ArrayBufferLike, offset: taByteOffset.call(v) as number, length: taByteLength.call(v) as number };
    }
    if (types.isDataView(v)) {
      return { buffer: dvBuffer.call(v) as ArrayBufferLike, offset: dvByteOffset.call(v) as number, length: dvByteLength.call(v) as number };
    }
  } catch { /* detached */ }
  return undefined;
}

/** What a view's own `key` getter would say if nobody had shadowed it. */
export function honestProperty(v: object, key: 'byteLength' | 'byteOffset' | 'buffer' | 'length'): unknown {
  const e = realExtent(v);
  if (e === undefined) return undefined;
  switch (key) {
    case 'byteLength': return e.length;
    case 'byteOffset': return e.offset;
    case 'buffer': return e.buffer;
    case 'length': return types.isTypedArray(v) ? taLength.call(v) : undefined;
  }
}

/** A region of an arena handed to one view: `[at, at + length)`, guards around it. */
export interface Zone { arena: Arena; at: number; length: number; what: string; reported?: boolean }

/** Pattern-filled memory; only carved regions may change. */
export class Arena {
  readonly buffer = new ArrayBuffer(ARENA_SIZE);
  readonly bytes = new Uint8Array(this.buffer).fill(PATTERN);
  private readonly owned = new Uint8Array(ARENA_SIZE);
  private next = GUARD;

  /** Offset of `length` fresh bytes (8-aligned, guards either side), or undefined when the arena is full. */
  carve(length: number): number | undefined {
    const at = (this.next + 7) & ~7;
    if (at + length + GUARD > ARENA_SIZE) return undefined;
    this.next = at + length + GUARD;
    this.owned.fill(1, at, at + length);
    return at;
  }

  /** Where the guard bytes of one zone changed, or undefined. */
  checkZone(z: Zone): string | undefined {
    const lo = Math.max(0, z.at - GUARD);
    const hi = Math.min(ARENA_SIZE, z.at + z.length + GUARD);
    for (let k = lo; k < hi; k++) {
      if (this.owned[k] === 0 && this.bytes[k] !== PATTERN) {
        return `guard byte ${k - z.at < 0 ? k - z.at : `+${k - z.at - z.length}`} ${k < z.at ? 'before' : 'after'} the real view changed`;
      }
    }
    return undefined;
  }

  /** The first byte no view owns that is not the pattern any more, or undefined. */
  check(): string | undefined {
    for (let k = 0; k < ARENA_SIZE; k++) {
      if (this.owned[k] === 0 && this.bytes[k] !== PATTERN) {
        let end = k;
        while (end < ARENA_SIZE && this.owned[end] === 0 && this.bytes[end] !== PATTERN) end++;
        return `arena bytes [${k}, ${end}) that no view covers changed (0x${this.bytes[k]!.toString(16)}...)`;
      }
    }
    return undefined;
  }
}

const GUARD_BYTE = 0x5a;

/** Buffers of several sizes, on and off V8's heap and in Node's pool, that nothing may write. */
export function guardBuffers(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const n of [8, 32, 64, 200, 1024, 4096, 8192, 65536]) {
    out.push(Buffer.alloc(n, GUARD_BYTE), Buffer.allocUnsafe(n).fill(GUARD_BYTE), new Uint8Array(n).fill(GUARD_BYTE));
  }
  return out;
}

/** Which guard buffer changed, or undefined. */
export function checkGuards(gs: readonly Uint8Array[]): string | undefined {
  for (let g = 0; g < gs.length; g++) {
    const b = gs[g]!;
    for (let k = 0; k < b.length; k++) {
      if (b[k] !== GUARD_BYTE) return `guard buffer #${g} (${b.length} bytes, ${b.constructor.name}) changed at byte ${k}`;
    }
  }
  return undefined;
}
