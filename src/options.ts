// Reading a caller's options object once. Builders destructure the object
// returned by optionsOf() (one read of each property they use), validate the
// plain values, and put the per-request ones on the Operation with
// requestOptions(). Nothing reads the caller's object after that.
import { invalidArgType } from './errors';
import { validateInteger } from './validators';
import type { Operation } from './operation';

/** Options every request takes. */
export interface OpOptions {
  /** Cancels the request when aborted; it then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Cancels the request after this many milliseconds (a linked timeout); it then rejects with a TimeoutError. */
  timeout?: number;
}

/** The longest per-request timeout, in milliseconds. */
export const MAX_TIMEOUT_MS = 2 ** 42;

/** `options` when it is an object, undefined when omitted; throws otherwise. */
export function optionsOf<T extends object>(options: T | undefined, name = 'options'): Partial<T> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw invalidArgType(name, 'of type object', options);
  return options as Partial<T>;
}

/** Validates a signal and a timeout already read from the caller's options and puts them on `op`. */
export function requestOptions(op: Operation, signal: unknown, timeout: unknown, name = 'options'): Operation {
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal)) throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', signal);
    op.signal = signal;
  }
  if (timeout !== undefined) op.timeout = validateInteger(timeout, `${name}.timeout`, 0, MAX_TIMEOUT_MS);
  return op;
}

/** Reads `signal` and `timeout` from options that carry nothing else, and puts them on `op`. */
export function withOptions(op: Operation, options: OpOptions | undefined): Operation {
  const o = optionsOf(options);
  if (o === undefined) return op;
  const { signal, timeout } = o;
  return requestOptions(op, signal, timeout);
}
