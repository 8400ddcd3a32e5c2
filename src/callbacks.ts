// The callback forms of the hottest operations. A promise per request costs
// more than the request itself when the I/O is a 4 KiB read from the page
// cache (the promise, its reaction and the caller's await each take a
// turn of the microtask queue); a loop that keeps many reads in flight can
// instead hand each read a Node-style callback, which the ring calls straight
// from the completion, as liburing programs do. Same arguments, checks,
// memory rule and errors as the promise methods; reached as `ring.callbacks`.
import { OPS } from './opcodes';
import * as data from './ops/data';
import { fileTarget, FileRef } from './files';
import { validateFunction } from './validators';
import { invalidArgValue } from './errors';
import type { Operation } from './operation';
import type { FixedBuffer } from './buffers';
import type { FixedIoOptions } from './ops/data';
import type { Callback } from './requests';
import type { RingCore } from './ring-core';

export type { Callback };

/** The callback forms take no signal or timeout: they have no promise to reject. */
function noRequestOptions(op: Operation): Operation {
  if (op.signal !== undefined) throw invalidArgValue('options.signal', op.signal, 'is not supported by the callback forms');
  if (op.timeout !== undefined) throw invalidArgValue('options.timeout', op.timeout, 'is not supported by the callback forms');
  return op;
}

/**
 * `ring.callbacks`: read, write, readFixed and writeFixed with a completion
 * callback `(err, bytes)` instead of a promise. Bad arguments and a closed
 * ring throw at once (as node:fs's callback functions do), and nothing is
 * submitted then; a failed request calls back with a Node-shaped error.
 * Errors carry no frame of the caller (nothing awaits them).
 *
 * @example
 * ```ts
 * const bufs = Array.from({ length: 32 }, () => Buffer.alloc(4096));
 * const next = (k: number): void => ring.callbacks.read(fd, bufs[k]!, offsetOf(k), (err, n) => {
 *   if (err) throw err;
 *   consume(bufs[k]!.subarray(0, n));
 *   next(k);
 * });
 * for (let k = 0; k < 32; k++) next(k);
 * ```
 */
export class RingCallbacks {
  /** @internal Use `ring.callbacks`. */
  constructor(private readonly ring: RingCore) {}

  /** Reads into all of `buffer` at `position` (-1/null/omitted: the current position); calls back with the bytes read. */
  read(file: FileRef, buffer: ArrayBufferView, position: number | bigint | null | undefined, callback: Callback): void {
    validateFunction(callback, 'callback');
    this.ring._callback(data.rw(OPS.read, fileTarget(file, OPS.read, this.ring), buffer, position), callback);
  }

  /** Writes all of `buffer` at `position`; calls back with the bytes written. */
  write(file: FileRef, buffer: ArrayBufferView, position: number | bigint | null | undefined, callback: Callback): void {
    validateFunction(callback, 'callback');
    this.ring._callback(data.rw(OPS.write, fileTarget(file, OPS.write, this.ring), buffer, position), callback);
  }

  /** readFixed() with a callback. */
  readFixed(file: FileRef, buffer: FixedBuffer, position: number | bigint | null | undefined,
    options: FixedIoOptions | undefined, callback: Callback): void {
    validateFunction(callback, 'callback');
    const op = data.rwFixed(this.ring, OPS.readFixed, fileTarget(file, OPS.readFixed, this.ring), buffer, position, options);
    this.ring._callback(noRequestOptions(op), callback);
  }

  /** writeFixed() with a callback. */
  writeFixed(file: FileRef, buffer: FixedBuffer, position: number | bigint | null | undefined,
    options: FixedIoOptions | undefined, callback: Callback): void {
    validateFunction(callback, 'callback');
    const op = data.rwFixed(this.ring, OPS.writeFixed, fileTarget(file, OPS.writeFixed, this.ring), buffer, position, options);
    this.ring._callback(noRequestOptions(op), callback);
  }
}
