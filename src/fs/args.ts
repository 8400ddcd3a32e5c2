// Argument shapes of node:fs/promises that the ring paths handle themselves.
// Each helper returns undefined for anything unusual; the caller then hands
// the call to node:fs/promises, which accepts or refuses it exactly as Node
// does (same validation, same error text).
import { fileURLToPath } from 'node:url';
import { invalidArgType, invalidArgValue } from '../errors';
import {
  O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
} from '../constants';

const O_SYNC = 0o4010000;

const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Node's flags argument (a string such as 'a+' or a number) as open(2) flags, or undefined. */
export function openFlags(flags: unknown, fallback: number): number | undefined {
  if (flags === undefined || flags === null) return fallback;
  if (typeof flags === 'number') return Number.isInteger(flags) && flags >= -0x80000000 && flags <= 0x7fffffff ? flags : undefined;
  if (typeof flags === 'string') return FLAGS[flags];
  return undefined;
}

/** Node's mode argument (a number or an octal string) as a number, or undefined. */
export function fileMode(mode: unknown, fallback: number): number | undefined {
  if (mode === undefined || mode === null) return fallback;
  if (typeof mode === 'number') return Number.isInteger(mode) && mode >= 0 && mode <= 0xffffffff ? mode : undefined;
  if (typeof mode === 'string' && /^[0-7]+$/.test(mode)) {
    const m = parseInt(mode, 8);
    return m <= 0xffffffff ? m : undefined;
  }
  return undefined;
}

/**
 * A path argument (string, Buffer or file: URL) as the string errors show,
 * or undefined when Node would refuse it or it needs Node's own handling.
 */
type WellFormed = string & { isWellFormed(): boolean; toWellFormed(): string };

export function plainPath(path: unknown): string | undefined {
  let s: string;
  // A lone surrogate reaches the kernel as U+FFFD's bytes, and Node's errors name that path.
  if (typeof path === 'string') s = (path as WellFormed).isWellFormed() ? path : (path as WellFormed).toWellFormed();
  else if (path instanceof Uint8Array) s = Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString();
  else if (path instanceof URL) {
    if (path.protocol !== 'file:') return undefined;
    try { s = fileURLToPath(path); } catch { return undefined; }
  } else return undefined;
  if (s.length === 0 || s.includes('\u0000')) return undefined;
  return s;
}

/** Whether a Buffer path holds bytes that do not survive a round trip through a string. */
export function rawPath(path: unknown): Uint8Array | undefined {
  return path instanceof Uint8Array ? path : undefined;
}

/** The options object or encoding string most functions take; undefined when unusual. */
export function optionsObject(options: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (options === undefined || options === null) return EMPTY;
  if (typeof options === 'string') return Buffer.isEncoding(options) ? { encoding: options } : undefined;
  if (typeof options === 'object') {
    // A plain copy of the keys the call uses, each read once: the checks
    // below and a fallback to node:fs/promises see the same values.
    const src = options as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = src[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return undefined;
}
const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * The encoding option of readFile and writeFile: undefined/null mean bytes;
 * a known encoding name; else false ('buffer' too: Node's whole-file calls
 * refuse it with ERR_UNKNOWN_ENCODING).
 */
export function encodingOf(options: Record<string, unknown>): BufferEncoding | undefined | false {
  const enc = options.encoding;
  if (enc === undefined || enc === null) return undefined;
  if (typeof enc === 'string' && Buffer.isEncoding(enc)) return enc as BufferEncoding;
  return false;
}

/** An AbortSignal option: undefined, a signal, or false when not a signal. */
export function signalOf(options: Record<string, unknown>): AbortSignal | undefined | false {
  const s = options.signal;
  if (s === undefined) return undefined;
  return s instanceof AbortSignal ? s : false;
}

/** The options of a whole-file call, as Node's getOptions() leaves them (each read once). */
export interface WholeOptions {
  /** The encoding as given (undefined, null, '' or a name Buffer knows, or 'buffer'). */
  encoding: unknown;
  signal: AbortSignal | undefined;
}

/**
 * Node's getOptions() for readFile/writeFile/appendFile: null, undefined or a
 * function mean no options; a string is the encoding; any other non-object
 * is refused; the encoding must be one Buffer knows (or 'buffer', which
 * fails later, where Node's fails); a signal must look like an AbortSignal.
 */
export function wholeOptions(options: unknown): WholeOptions {
  if (options === null || options === undefined || typeof options === 'function') return { encoding: undefined, signal: undefined };
  if (typeof options === 'string') {
    if (options !== 'buffer' && !Buffer.isEncoding(options)) throw invalidArgValue('encoding', options, 'is invalid encoding');
    return { encoding: options, signal: undefined };
  }
  if (typeof options !== 'object') throw invalidArgType('options', 'one of type string or object', options);
  const { encoding, signal } = options as { encoding?: unknown; signal?: unknown };
  if (encoding !== 'buffer' && encoding && !Buffer.isEncoding(encoding as string)) {
    throw invalidArgValue('encoding', encoding, 'is invalid encoding');
  }
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  return { encoding, signal: signal as AbortSignal | undefined };
}
