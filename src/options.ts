// Reading a caller's options object once. Builders destructure the object
// returned by optionsOf() (one read of each property they use), validate the
// plain values, and put the per-request ones on the Operation with
// requestOptions(). Nothing reads the caller's object after that.
import { AbortError, TimeoutError, invalidArgType, isRevokedProxy, systemError } from './errors';
import { validateInteger } from './validators';
import { Operation } from './operation';
import { OPS } from './opcodes';
import { internalAddress } from './memory';
import type { Request } from './requests';

const ETIME = -62;
/** -ECANCELED: what a cancelled request, or a link broken before it, ends with. */
export const ECANCELED = -125;
const EINTR = -4;

/**
 * Whether `res` is how a cancel ends a request: -ECANCELED, or -EINTR for
 * one already blocked in an io-wq worker (a device without nonblocking
 * reads, such as /dev/kmsg).
 */
export function cancelEnded(res: number): boolean {
  return res === ECANCELED || res === EINTR;
}

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
  if (options === null || typeof options !== 'object' || isRevokedProxy(options)) {
    throw invalidArgType(name, 'of type object', options);
  }
  return options as Partial<T>;
}

/** Validates a signal and a timeout already read from the caller's options and puts them on `op`. */
export function requestOptions(op: Operation, signal: unknown, timeout: unknown, name = 'options'): Operation {
  if (signal !== undefined) {
    if (!isAbortSignal(signal)) throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', signal);
    op.signal = signal;
  }
  if (timeout !== undefined) op.timeout = validateInteger(timeout, `${name}.timeout`, 0, MAX_TIMEOUT_MS);
  return op;
}

/**
 * Whether `x` is a real AbortSignal: asked of the engine (its `aborted`
 * getter throws for anything else), not of the object's prototype chain.
 */
function isAbortSignal(x: unknown): x is AbortSignal {
  if (typeof x !== 'object' || x === null) return false;
  try {
    signalAborted(x as AbortSignal);
    return true;
  } catch {
    return false;
  }
}

/** Reads `signal` and `timeout` from options that carry nothing else, and puts them on `op`. */
export function withOptions(op: Operation, options: OpOptions | undefined): Operation {
  const o = optionsOf(options);
  if (o === undefined) return op;
  const { signal, timeout } = o;
  return requestOptions(op, signal, timeout);
}

// The signal's own state and listeners, through the intrinsics: a caller's
// AbortSignal with own `aborted` or `addEventListener` properties is not asked.
const call = Function.prototype.call;
export const signalAborted = call.bind(Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!) as
  (s: AbortSignal) => boolean;
const signalReason = call.bind(Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!) as
  (s: AbortSignal) => unknown;
export const addListener = call.bind(EventTarget.prototype.addEventListener) as
  (t: EventTarget, type: string, f: () => void, o: { once: boolean }) => void;
export const removeListener = call.bind(EventTarget.prototype.removeEventListener) as
  (t: EventTarget, type: string, f: () => void) => void;

/** The rejection of a request whose signal had already aborted when it was made. */
export function abortedError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signalReason(signal) });
}

/** A __kernel_timespec for `ms` milliseconds. */
export function timespec(ms: number): BigInt64Array {
  const ts = new BigInt64Array(2);
  const whole = Math.floor(ms / 1000);
  ts[0] = BigInt(whole);
  ts[1] = BigInt(Math.round((ms - whole * 1000) * 1e6));
  return ts;
}

/** The IORING_OP_LINK_TIMEOUT that follows a request with a per-request timeout of `ms`. */
export function linkTimeout(ms: number): Operation {
  const ts = timespec(ms);
  const t = new Operation(OPS.linkTimeout);
  t.fd = -1;
  t.addr = internalAddress(ts);
  t.len = 1;
  t.hold = ts;
  return t;
}

/**
 * How a request with a signal or a timeout ended: its ECANCELED becomes an
 * AbortError when its signal fired, a TimeoutError when its time ran out,
 * and stays a system error when something else cancelled it (cancelAll,
 * close). Wraps the request's `fail`.
 */
export class RequestOutcome {
  private aborted = false;
  private timedOut = false;
  private readonly started = performance.now();
  /** The link timeout's CQE: -ETIME when it fired, -ECANCELED (or 0) when the request finished first. */
  readonly onTimeout = (res: number): void => { if (res === ETIME) this.timedOut = true; };
  readonly onAbort = (): void => { this.aborted = true; };

  constructor(req: Request, private readonly timeout: number | undefined) {
    const op = req.op!;
    const { syscall, path, dest } = op;
    const base = op.fail;
    op.fail = (res) => {
      const sys = base !== undefined ? base(res) : systemError(res, syscall, { path, dest });
      if (!cancelEnded(res)) return sys;
      if (this.aborted) return new AbortError(undefined, { cause: sys });
      // The request's CQE may arrive before its timeout's: without the
      // timeout's -ETIME yet, a cancellation after the time has run out is
      // the timeout's.
      const t = this.timeout;
      if (t !== undefined && (this.timedOut || performance.now() - this.started >= t - 1)) {
        return new TimeoutError(`${syscall} timed out after ${t} ms`, { cause: sys });
      }
      return sys;
    };
  }
}
