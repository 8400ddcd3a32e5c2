// Addresses of JS memory for SQEs, and the checks that keep them honest.
//
// The address of an ArrayBuffer's backing store never changes once V8 has
// given it one, so it is looked up natively once per buffer and cached. A
// small typed array may live inside V8's heap, where the collector moves it;
// reading `.buffer` first makes V8 give it a fixed backing store. Resizable
// and growable buffers can move or shrink under the kernel and are refused, as
// are detached ones.
import { native } from './native';
import { invalidArgType, invalidArgValue } from './errors';

const addresses = new WeakMap<ArrayBufferLike, number>();

export type BufferLike = ArrayBufferView;

function baseAddress(view: ArrayBufferView, ab: ArrayBufferLike): number {
  let a = addresses.get(ab);
  if (a === undefined) {
    if ((ab as { resizable?: boolean }).resizable || (ab as { growable?: boolean }).growable) {
      throw invalidArgValue('buffer', view, 'must not be backed by a resizable or growable buffer, which can move or shrink while the kernel uses it');
    }
    a = native().address(view) - view.byteOffset;
    addresses.set(ab, a);
  }
  return a;
}

/** Checks a view the kernel will read or write and returns its address. */
export function viewAddress(view: ArrayBufferView, name: string): number {
  if (!ArrayBuffer.isView(view)) {
    throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', view);
  }
  const ab = view.buffer;
  if (view.byteLength === 0 && ab.byteLength === 0 && isDetached(ab)) {
    throw invalidArgValue(name, view, 'is backed by a detached ArrayBuffer');
  }
  return baseAddress(view, ab) + view.byteOffset;
}

/** Whether an ArrayBuffer has been detached (transferred). */
export function isDetached(ab: ArrayBufferLike): boolean {
  const d = (ab as { detached?: boolean }).detached;
  if (d !== undefined) return d;
  try {
    // Slicing a detached buffer throws; an empty live one does not.
    (ab as ArrayBuffer).slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Address of an ArrayBuffer or view that the library itself allocated. */
export function internalAddress(mem: ArrayBufferView): number {
  return baseAddress(mem, mem.buffer) + mem.byteOffset;
}

/** A NUL-terminated copy of a path, kept alive by the request that uses it. */
export function cstring(value: string | Uint8Array, name: string): Buffer {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw invalidArgValue(name, value, 'must be a string without null bytes');
    }
    const b = Buffer.allocUnsafe(Buffer.byteLength(value) + 1);
    b.write(value, 0);
    b[b.length - 1] = 0;
    return b;
  }
  if (value instanceof Uint8Array) {
    if (value.byteLength === 0 && isDetached(value.buffer)) {
      throw invalidArgValue(name, value, 'is backed by a detached ArrayBuffer');
    }
    if (value.includes(0)) throw invalidArgValue(name, value, 'must be a buffer without null bytes');
    const b = Buffer.allocUnsafe(value.byteLength + 1);
    b.set(value);
    b[b.length - 1] = 0;
    return b;
  }
  throw invalidArgType(name, 'of type string or an instance of Buffer', value);
}
