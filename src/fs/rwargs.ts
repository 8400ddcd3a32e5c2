// The argument rules of FileHandle.read() and write(), as the running Node
// applies them (lib/internal/fs/promises.js): which forms are accepted, which
// defaults apply (destructuring defaults replace only undefined), the order
// of the checks and their errors. Every caller value is read once, here,
// before anything is reserved.
//
// One rule changed between Node versions: Node 20 reads at the current
// position for any position that is not a safe integer (5n, -2, 1.5, '2'),
// Node 21+ validates it (bigints are offsets, -2 and 1.5 are refused). Which
// one applies is found by asking the running Node once (positionRules()), not
// by its version number; only a call with such a position waits for that.
import * as fsp from 'node:fs/promises';
import { invalidArgType, invalidArgValue, outOfRange } from '../errors';
import { viewLength } from '../memory';
import { validateInteger } from '../validators';

/** A read or write as plain values. `pos` is undefined when the position rule must be asked first. */
export interface RwArgs {
  view: ArrayBufferView;
  offset: number;
  length: number;
  pos: number | bigint | undefined;
  /** The raw position, for positionOf() once the rule is known. */
  rawPos: unknown;
}

const DEFAULT_READ = 16384;

/** Node's validateObject(value, name, allowNullable): a non-array object, or null. */
function optionsObject(value: unknown, name: string): Record<string, unknown> | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidArgType(name, 'of type object', value);
  return value as Record<string, unknown>;
}

/** A position that both rules take as is: null/undefined (-1) or a safe integer >= -1. */
function plainPosition(p: unknown): number | undefined {
  if (p === null || p === undefined) return -1;
  if (typeof p === 'number' && Number.isSafeInteger(p) && p >= -1) return p;
  return undefined;
}

/** fh.read(...) arguments, validated; throws Node's errors. */
export function readArgs(buffer: unknown, offset: unknown, length: unknown, position: unknown): RwArgs {
  if (!ArrayBuffer.isView(buffer)) {
    // fh.read(options)
    const o = buffer === undefined ? null : optionsObject(buffer, 'options');
    if (o !== null) {
      ({ buffer, offset, length, position } = o);
    } else {
      buffer = offset = length = position = undefined;
    }
    // Node's destructuring defaults run before its buffer check, so the
    // length default meets a null buffer first.
    if (buffer === undefined) buffer = Buffer.alloc(DEFAULT_READ);
    if (offset === undefined) offset = 0;
    if (length === undefined) {
      if (buffer === null) throw new TypeError("Cannot read properties of null (reading 'byteLength')");
      length = ArrayBuffer.isView(buffer) ? viewLength(buffer, 'buffer') - (offset as number) : NaN;
    }
    if (position === undefined) position = null;
    if (!ArrayBuffer.isView(buffer)) {
      throw invalidArgType('buffer', 'an instance of Buffer, TypedArray, or DataView', buffer);
    }
  }
  const view = buffer as ArrayBufferView;
  const size = viewLength(view, 'buffer');
  if (offset !== null && typeof offset === 'object') {
    // fh.read(buffer, options)
    ({ offset, length, position } = offset as Record<string, unknown>);
    if (offset === undefined) offset = 0;
    if (length === undefined) length = size - (offset as number);
    if (position === undefined) position = null;
  }
  const off = offset === null || offset === undefined ? 0 : validateInteger(offset, 'offset', 0);
  const len = length === null || length === undefined ? size - off : length;
  if (len === 0) return { view, offset: off, length: 0, pos: -1, rawPos: null };
  if (size === 0) throw invalidArgValue('buffer', view, 'is empty and cannot be written');
  // Node 20 passes a non-integer length to its binding, which aborts the
  // process; refusing it is the one answer a library can give.
  if (typeof len !== 'number') throw invalidArgType('length', 'of type number', len);
  if (!Number.isInteger(len)) throw outOfRange('length', 'an integer', len);
  if (len < 0) throw outOfRange('length', '>= 0', len);
  if (off + len > size) throw outOfRange('length', `<= ${size - off}`, len);
  return { view, offset: off, length: len, pos: plainPosition(position), rawPos: position };
}

/** fh.write(buffer, ...) arguments, validated; throws Node's errors. Undefined for the string form. */
export function writeArgs(buffer: ArrayBufferView, offset: unknown, length: unknown, position: unknown): RwArgs {
  const size = viewLength(buffer, 'buffer');
  if (typeof offset === 'object') {
    // fh.write(buffer, options): `typeof null` is 'object' too, as in Node.
    ({ offset, length, position } = (offset ?? {}) as Record<string, unknown>);
    if (offset === undefined) offset = 0;
    if (length === undefined) length = size - (offset as number);
    if (position === undefined) position = null;
  }
  const off = offset === null || offset === undefined ? 0 : validateInteger(offset, 'offset', 0);
  const len = typeof length === 'number' ? length : size - off;
  if (off > size) throw outOfRange('offset', `<= ${size}`, off);
  if (len > size - off) throw outOfRange('length', `<= ${size - off}`, len);
  if (len < 0) throw outOfRange('length', '>= 0', len);
  validateInteger(len, 'length', 0, 0x7fffffff);
  // Node's binding writes at the current position for anything but a safe
  // integer >= 0, in every version.
  const pos = typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : -1;
  return { view: buffer, offset: off, length: len, pos, rawPos: position };
}

/** The bytes of fh.write(string, position, encoding), as Node's writeString encodes them. */
export function stringBytes(data: string, encoding: unknown): Buffer {
  if (typeof encoding === 'string' && encoding.toLowerCase() === 'hex' && data.length % 2 !== 0) {
    throw invalidArgValue('encoding', encoding, `is invalid for data of length ${data.length}`);
  }
  // The binding's ParseEncoding: a known name (any case), else UTF-8
  // ('buffer' too: StringBytes::Write encodes BUFFER as UTF-8).
  let enc: BufferEncoding = 'utf8';
  if (typeof encoding === 'string' && Buffer.isEncoding(encoding)) enc = encoding;
  return Buffer.from(data, enc);
}

/** Position of a string write: a safe integer >= 0, else the current position. */
export function stringPosition(position: unknown): number {
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : -1;
}

let strict: Promise<boolean> | undefined;

/**
 * Whether the running Node validates read positions (21+) rather than
 * reading at the current position for any unusual one (20): asked once, by
 * a read at position -2 of /dev/null through node:fs/promises.
 */
export function positionRules(): Promise<boolean> {
  strict ??= (async () => {
    const h = await fsp.open('/dev/null');
    try {
      await h.read(Buffer.alloc(1), 0, 1, -2);
      return false;
    } catch (err) {
      return (err as { code?: string }).code === 'ERR_OUT_OF_RANGE';
    } finally {
      await h.close();
    }
  })();
  return strict;
}

/** The position of an unusual read position under the rule in force; throws Node's error. */
export function positionOf(raw: unknown, length: number, strictRule: boolean): number | bigint {
  if (!strictRule) return -1;
  if (typeof raw === 'number') return validateInteger(raw, 'position', -1);
  if (typeof raw === 'bigint') {
    const max = 2n ** 63n - 1n - BigInt(length);
    if (!(raw >= -1n && raw <= max)) throw outOfRange('position', `>= -1 && <= ${max}`, raw);
    return raw === -1n ? -1 : raw;
  }
  throw invalidArgType('position', 'of type number or bigint', raw);
}
