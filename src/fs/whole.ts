// Whole-file reads and writes for uring/fs (readFile, writeFile, appendFile
// and their FileHandle forms), in bounded pieces. A read or write of page-cache
// data is done inline by io_uring_enter, on the submitting thread: one 128 MiB
// read would hold the event loop for the whole copy. Pieces of PIECE bytes keep
// each enter short, and the AbortSignal is checked between them, as node:fs
// checks it between its 512 KiB chunks. A read ends only when the kernel
// returns 0, whatever statx said: pipes, procfs, devices and files that grow
// are read to their real end.
import { OPS } from '../opcodes';
import { AbortError, nodeCoded } from '../errors';
import type { FileTarget } from '../operation';
import type { Engine } from './backend';
import { rw } from './submit';

/** The most bytes one read or write SQE copies. */
export const PIECE = 2 * 1024 * 1024;
/** Pieces of at least this size are copied by a kernel worker (IOSQE_ASYNC), off the loop's thread. */
const OFFLOAD = 256 * 1024;
/** The buffer size for data whose size is unknown (node:fs uses the same). */
const UNKNOWN = 64 * 1024;
/** Node's limit for a whole-file Buffer (kIoMaxLength). */
const MAX = 2 ** 31 - 1;

/**
 * How long a whole-file read or write may run before it lets the event loop
 * turn. A piece's CQE is often reaped by the same enter that submitted it
 * (the copy is done inline), so a loop of awaits never leaves the microtask
 * queue by itself.
 */
const TURN_MS = 2;

/** Resolves after one turn of the event loop (timers, I/O, nextTick and abort events run). */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * Before each piece: lets the loop turn when TURN_MS have passed (always
 * when there is a signal, so that an abort scheduled meanwhile is seen, as it
 * is after node:fs's thread-pool round trips), then checks the signal.
 */
async function between(signal: AbortSignal | undefined, since: number): Promise<number> {
  if (signal === undefined && performance.now() - since < TURN_MS) return since;
  await turn();
  checkAborted(signal);
  return performance.now();
}

/** Throws Node's AbortError when `signal` has fired (node:fs checkAborted()). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

/** ERR_FS_FILE_TOO_LARGE, as node:fs words it. */
export function tooLarge(size: number): RangeError {
  return nodeCoded(new RangeError(`File size (${size}) is greater than 2 GiB`), 'ERR_FS_FILE_TOO_LARGE');
}

/** The first `n` bytes of `buf` in a Buffer that owns exactly its memory. */
export function owned(buf: Buffer, n: number): Buffer {
  if (n === buf.length && buf.byteOffset === 0 && buf.buffer.byteLength === n) return buf;
  const out = Buffer.allocUnsafeSlow(n);
  buf.copy(out, 0, 0, n);
  return out;
}

function concat(parts: Buffer[], total: number): Buffer {
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const p of parts) at += p.copy(out, at);
  return out;
}

/**
 * Reads `file` from its position until a read returns 0. `size` is what
 * statx said (0: unknown), `head` bytes already read from it. With `hint`,
 * the size came from a statx of the path rather than of the open file (which
 * another file may have replaced since): it sizes the buffer, but only the
 * bytes actually read can make the file too large.
 */
export async function readRest(e: Engine, file: FileTarget, size: number, signal: AbortSignal | undefined,
  head?: Buffer, hint = false): Promise<Buffer> {
  const stated = size;
  if (size > MAX) {
    if (!hint) throw tooLarge(size);
    size = 0;
  }
  const parts: Buffer[] = [];
  let total = 0;
  let buf: Buffer;
  let at = 0;
  const had = head === undefined ? 0 : head.length;
  if (size > had) {
    // One buffer of the expected size, the bytes already read at its start.
    buf = Buffer.allocUnsafeSlow(size);
    if (had > 0) at = head!.copy(buf);
  } else {
    if (had > 0) { parts.push(head!); total = had; }
    buf = Buffer.allocUnsafeSlow(UNKNOWN);
  }
  checkAborted(signal);
  let since = performance.now();
  for (;;) {
    since = await between(signal, since);
    if (at === buf.length) {
      parts.push(buf);
      total += at;
      if (total > MAX) throw tooLarge(Math.max(total, stated));
      buf = Buffer.allocUnsafeSlow(UNKNOWN);
      at = 0;
    }
    const len = Math.min(PIECE, buf.length - at);
    const n = await rw(e.ring, OPS.read, file, buf, at, len, -1, 'read', len >= OFFLOAD);
    if (n === 0) break;
    at += n;
  }
  // The common case: a regular file read whole into a buffer of its size.
  if (at === 0 && parts.length === 1) return owned(parts[0]!, parts[0]!.length);
  if (parts.length === 0) return owned(buf, at);
  parts.push(buf.subarray(0, at));
  return concat(parts, total + at);
}

/** Writes all of `view` at the file position of `file`, PIECE bytes at a time. */
export async function writeAll(e: Engine, file: FileTarget, view: ArrayBufferView, total: number,
  signal: AbortSignal | undefined): Promise<void> {
  let at = 0;
  checkAborted(signal);
  let since = performance.now();
  while (at < total) {
    since = await between(signal, since);
    const len = Math.min(PIECE, total - at);
    at += await rw(e.ring, OPS.write, file, view, at, len, -1, 'write', len >= OFFLOAD);
  }
}
