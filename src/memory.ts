// Reading the caller's memory arguments once, and the library's own memory.
//
// A view's extent is read from the engine, through the TypedArray and
// DataView getters captured when this module loads (as Node core does with
// its primordials), never through properties the caller can shadow: an own
// `byteLength`, a subclass getter or a Proxy cannot make the kernel read or
// write outside the real view. The address of a caller's view is never
// computed here: the ring pins the view's memory and learns its address in one
// native call (RingCore._submit, native/pins.cc).
//
// Memory the library allocates itself (paths, iovec arrays, timespecs, statx
// buffers) is never handed to the caller before the request's CQE, so nobody
// can detach it; the request's record keeps it alive.
import { types } from 'node:util';
import { native } from './native';
import { elementName, invalidArgType, invalidArgValue, isRevokedProxy, outOfRange } from './errors';

type Getter = (self: unknown) => unknown;
const call = Function.prototype.call;
function intrinsic(proto: object, name: PropertyKey): Getter {
  const get = Object.getOwnPropertyDescriptor(proto, name)!.get!;
  return call.bind(get) as Getter;
}
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const typedArrayByteLength = intrinsic(TypedArrayPrototype, 'byteLength') as (v: ArrayBufferView) => number;
const typedArrayByteOffset = intrinsic(TypedArrayPrototype, 'byteOffset') as (v: ArrayBufferView) => number;
const typedArrayBuffer = intrinsic(TypedArrayPrototype, 'buffer') as (v: ArrayBufferView) => ArrayBufferLike;
const dataViewByteLength = intrinsic(DataView.prototype, 'byteLength') as (v: ArrayBufferView) => number;
const dataViewByteOffset = intrinsic(DataView.prototype, 'byteOffset') as (v: ArrayBufferView) => number;
const dataViewBuffer = intrinsic(DataView.prototype, 'buffer') as (v: ArrayBufferView) => ArrayBufferLike;
const arrayBufferByteLength = intrinsic(ArrayBuffer.prototype, 'byteLength') as (b: ArrayBufferLike) => number;
const sharedByteLength = intrinsic(SharedArrayBuffer.prototype, 'byteLength') as (b: ArrayBufferLike) => number;
const isSharedArrayBuffer = types.isSharedArrayBuffer;
const arrayIsArray = Array.isArray;
const isView = ArrayBuffer.isView;
// %TypedArray%.prototype[@@toStringTag] answers undefined for anything but a
// real TypedArray, without throwing and without asking the object.
const typedArrayTag = intrinsic(TypedArrayPrototype, Symbol.toStringTag) as (v: unknown) => string | undefined;
const { isUint8Array } = types;

function isTypedArray(v: unknown): boolean {
  return typedArrayTag(v) !== undefined;
}
function isDataView(v: unknown): boolean {
  return isView(v) && typedArrayTag(v) === undefined;
}

export type BufferLike = ArrayBufferView;

/**
 * The real byte length of a TypedArray or DataView (0 once detached), or
 * throws ERR_INVALID_ARG_TYPE for anything else.
 */
export function viewLength(value: unknown, name: string, index = -1): number {
  if (isTypedArray(value)) return typedArrayByteLength(value as ArrayBufferView);
  if (isDataView(value)) {
    try {
      return dataViewByteLength(value as ArrayBufferView);
    } catch {
      return 0; // V8's DataView getter throws on a detached buffer
    }
  }
  throw invalidArgType(elementName(name, index), 'an instance of Buffer, TypedArray, or DataView', value);
}

/**
 * Reads the extent of each of `views` through the engine: its byte length
 * (0 once detached), ArrayBuffer and byte offset, into `lens`, `bufs` and
 * `offs` at the same index. Throws ERR_INVALID_ARG_TYPE naming `name[k]`
 * for an element that is not a TypedArray or DataView. One brand check per
 * view, for the batches that measure dozens at a time.
 *
 * `prev` is an earlier batch's measurement (its views, lengths, buffers and
 * offsets at the same indexes). A TypedArray's buffer and byte offset never
 * change for the life of the object (resizable buffers are refused), so a
 * view that is the very object measured there at the same index, with the
 * same length now, has the same buffer and offset: only its length, which
 * detaching zeroes, is asked of the engine again.
 */
export function measureViews(views: readonly unknown[], name: string, lens: number[], bufs: ArrayBufferLike[],
  offs: number[], prev?: { views: readonly unknown[]; lens: readonly number[]; buffers: readonly ArrayBufferLike[]; offsets: readonly number[] }): void {
  const pv = prev?.views;
  const m = pv === undefined ? 0 : pv.length;
  for (let k = 0; k < views.length; k++) {
    const v = views[k] as ArrayBufferView;
    if (typedArrayTag(v) !== undefined) {
      const len = typedArrayByteLength(v);
      lens[k] = len;
      if (k < m && pv![k] === v && prev!.lens[k] === len && len !== 0) {
        bufs[k] = prev!.buffers[k]!;
        offs[k] = prev!.offsets[k]!;
        continue;
      }
      bufs[k] = typedArrayBuffer(v);
      offs[k] = typedArrayByteOffset(v);
    } else {
      lens[k] = viewLength(v, name, k); // a DataView, or throws
      bufs[k] = dataViewBuffer(v);
      offs[k] = viewByteOffset(v);
    }
  }
}

/** The engine's ArrayBuffer of a view already known to be a TypedArray or DataView. */
export function viewBuffer(v: ArrayBufferView): ArrayBufferLike {
  return isDataView(v) ? dataViewBuffer(v) : typedArrayBuffer(v);
}

/** The engine's size of an ArrayBuffer or SharedArrayBuffer (0 once detached). */
export function bufferByteLength(b: ArrayBufferLike): number {
  return isSharedArrayBuffer(b) ? sharedByteLength(b) : arrayBufferByteLength(b);
}

/** The engine's byte offset of a view already known to be a TypedArray or DataView (0 once detached). */
export function viewByteOffset(v: ArrayBufferView): number {
  if (!isDataView(v)) return typedArrayByteOffset(v);
  try {
    return dataViewByteOffset(v);
  } catch {
    return 0;
  }
}

/** Why the native pin of a view failed (its PIN_* code), as the caller's error. */
export function pinError(code: number, arg: string, view: unknown, index = -1): Error {
  const name = elementName(arg, index);
  if (code === -2) return invalidArgValue(name, view, 'is backed by a detached ArrayBuffer');
  if (code === -3) {
    return invalidArgValue(name, view, 'must not be backed by a resizable or growable buffer, which can move or shrink while the kernel uses it');
  }
  if (code === -1) return invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', view);
  return new RangeError(`Cannot pin the memory of "${name}" (out of memory)`);
}

/**
 * The elements of a caller's array, read once (one `length` read, one read
 * per element) into a new array that later code iterates instead.
 */
export function readArray<T = unknown>(value: unknown, name: string, expected: string, max: number): T[] {
  if (isRevokedProxy(value) || !arrayIsArray(value)) throw invalidArgType(name, expected, value);
  const arr = value as unknown[];
  const n = arr.length;
  if (typeof n !== 'number' || !(n >= 0 && n <= max)) throw outOfRange(`${name}.length`, `>= 0 && <= ${max}`, n);
  const out = new Array<T>(n);
  for (let k = 0; k < n; k++) out[k] = arr[k] as T;
  return out;
}

/** A path as the kernel gets it: a NUL-terminated copy, and its text for errors. */
export class KernelPath {
  readonly #brand = true;
  constructor(readonly bytes: Uint8Array, readonly shown: string) {}
  /** Whether `x` was made by this class (no code of `x` runs). */
  static _is(x: unknown): x is KernelPath {
    return typeof x === 'object' && x !== null && #brand in x;
  }
}

/**
 * Copies a path argument once: a string (encoded as UTF-8) or the raw bytes
 * of a Uint8Array (kept byte for byte). Refuses NUL bytes. A KernelPath the
 * library made already is used as it is.
 */
export function kernelPath(value: unknown, name: string): KernelPath {
  if (KernelPath._is(value)) return value; // copied already, by the library
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw invalidArgValue(name, value, 'must be a string without null bytes');
    // One UTF-8 encoding pass; a short path lands in Node's buffer pool,
    // which is never transferable and which the caller never sees.
    return new KernelPath(Buffer.from(value + '\u0000', 'utf8'), value);
  }
  if (isUint8Array(value)) {
    const v = value as Uint8Array;
    const len = typedArrayByteLength(v);
    if (len === 0 && typedArrayBuffer(v).byteLength === 0 && detached(v)) {
      throw invalidArgValue(name, value, 'is backed by a detached ArrayBuffer');
    }
    // A fresh view over the real extent: set() on it reads no property of the caller's object.
    const src = new Uint8Array(typedArrayBuffer(v), typedArrayByteOffset(v), len);
    const b = Buffer.allocUnsafe(len + 1);
    b.set(src, 0);
    b[len] = 0;
    if (b.indexOf(0) !== len) throw invalidArgValue(name, value, 'must be a buffer without null bytes');
    return new KernelPath(b, b.toString('utf8', 0, len));
  }
  throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
}

function detached(v: Uint8Array): boolean {
  try {
    new Uint8Array(typedArrayBuffer(v), 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Address of memory the library allocated itself (never a caller's view). */
export function internalAddress(mem: ArrayBufferView): number {
  return native().address(mem);
}

/** Writes a 64-bit value into a library-owned struct (iovec, open_how, register arguments). */
export function putU64(w: Uint32Array, at: number, v: number | bigint): void {
  if (typeof v === 'number') {
    w[at] = v;
    w[at + 1] = Math.floor(v / 4294967296);
  } else {
    w[at] = Number(v & 0xffffffffn);
    w[at + 1] = Number((v >> 32n) & 0xffffffffn);
  }
}

