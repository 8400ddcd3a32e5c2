// Per-operation options shared by every request: an AbortSignal (mapped to
// IORING_OP_ASYNC_CANCEL) and a timeout (a linked IORING_OP_LINK_TIMEOUT).
import { IOSQE_IO_LINK, Op } from './constants';
import { AbortError, TimeoutError, invalidArgType, systemError } from './errors';
import { validateInteger } from './validators';
import { prep } from './sq';
import type { RingCore, OpOptions } from './ring-core';
import type { Request } from './requests';
import { internalAddress } from './memory';

const ECANCELED = -125;
const EINTR = -4;

interface Snapshot {
  signal: AbortSignal | undefined;
  timeout: number | undefined;
}

// The options of the request being built, read once. Between optionSlots()
// and applyOptions() the request takes an SQE, so the user's object (whose
// getters may throw, or answer differently the second time) is not read
// again: a throw there would leave a request in flight with no one awaiting it.
let current: { of: object; snap: Snapshot } | undefined;

function snapshot(options: OpOptions): Snapshot {
  if (current !== undefined && current.of === options) return current.snap;
  return { signal: options.signal, timeout: options.timeout };
}

/** Validates options; returns how many SQEs the request needs (1, or 2 with a timeout). */
export function optionSlots(options: OpOptions | undefined): number {
  current = undefined;
  if (options === undefined) return 1;
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (timeout !== undefined) validateInteger(timeout, 'options.timeout', 0, 2 ** 42);
  current = { of: options, snap: { signal, timeout } };
  return timeout !== undefined ? 2 : 1;
}

/** Rejects at once when the signal already fired: nothing is submitted. */
export function abortedBeforeStart(options: OpOptions | undefined): Promise<never> | undefined {
  if (options === undefined) return undefined;
  const s = snapshot(options).signal;
  if (s !== undefined && s.aborted) {
    return Promise.reject(new AbortError(undefined, { cause: s.reason }));
  }
  return undefined;
}

/** A __kernel_timespec for `ms` milliseconds. */
export function timespec(ms: number): BigInt64Array {
  const ts = new BigInt64Array(2);
  const whole = Math.floor(ms / 1000);
  ts[0] = BigInt(whole);
  ts[1] = BigInt(Math.round((ms - whole * 1000) * 1e6));
  return ts;
}

/**
 * Applies options to a tracked request whose SQE is at `i`: links a timeout
 * after it and wires the signal. Call right after the request's own SQE.
 */
export function applyOptions(ring: RingCore, i: number, req: Request, options: OpOptions): void {
  let timedOut = false;
  let aborted = false;
  let started = 0;
  const { signal, timeout } = snapshot(options);
  if (timeout !== undefined) {
    started = performance.now();
    const w = ring._w;
    w[i] |= IOSQE_IO_LINK << 8;
    const ts = timespec(timeout);
    const j = ring._sqe(0);
    const tw = ring._w;
    prep(tw, j, Op.LINK_TIMEOUT, 0, -1, internalAddress(ts), 1, 0);
    // The timeout's own CQE is -ETIME when it fired, -ECANCELED (or 0) when
    // the request finished first.
    ring._trackHandler(j, ts, 'link_timeout', (res) => { if (res === -62) timedOut = true; });
  }
  if (signal !== undefined) {
    const onAbort = (): void => {
      aborted = true;
      ring._cancelRequest(req);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.cleanup = () => signal.removeEventListener('abort', onAbort);
  }
  const syscall = req.syscall;
  const path = req.path;
  const dest = req.dest;
  const base = req.fail;
  req.fail = (res) => {
    const sys = base !== undefined ? base(res) : systemError(res, syscall, { path, dest });
    if (res === ECANCELED || res === EINTR) {
      if (aborted) return new AbortError(undefined, { cause: sys });
      // The request's CQE may arrive before its timeout's: without the
      // timeout's -ETIME yet, a cancellation after the time has run out is
      // the timeout's; an earlier one came from elsewhere (cancelAll, close).
      if (timeout !== undefined && (timedOut || performance.now() - started >= timeout - 1)) {
        return new TimeoutError(`${syscall} timed out after ${timeout} ms`, { cause: sys });
      }
    }
    return sys;
  };
}
