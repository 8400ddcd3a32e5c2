// Timeouts on the ring (IORING_OP_TIMEOUT and TIMEOUT_REMOVE): sleeping,
// waiting for a number of completions, absolute deadlines on a chosen clock,
// and removing or moving a pending timeout. The timespec each request points
// at is held by its record until the CQE.
import {
  Op, TIMEOUT_ABS, TIMEOUT_BOOTTIME, TIMEOUT_REALTIME, TIMEOUT_UPDATE,
} from './constants';
import { OPS } from './opcodes';
import { prep, put64 } from './sq';
import { internalAddress } from './memory';
import { invalidArgType, invalidArgValue } from './errors';
import { validateInteger, validateObject } from './validators';
import { abortedBeforeStart, applyOptions, optionSlots, timespec } from './submit-options';
import type { SqeTarget } from './op-prep';
import type { OpOptions } from './ring-core';
import type { Ring } from './ring';

const ETIME = -62;
const MAX_MS = 2 ** 42;

/** The clock a timeout is measured on. */
export type TimeoutClock = 'monotonic' | 'boottime' | 'realtime';

/**
 * When a timeout fires. Give either `ms` (relative) or `at` (absolute, on
 * `clock`): a number of milliseconds, a bigint of nanoseconds, or a Date
 * (realtime clock only). `count` also completes the timeout once that many
 * other requests have completed.
 */
export interface TimeoutSpec {
  /** Milliseconds from now. */
  ms?: number;
  /** Absolute time on `clock`: milliseconds (number), nanoseconds (bigint) or a Date. */
  at?: number | bigint | Date;
  /** Complete early once this many other completions have been posted. Default 0 (time only). */
  count?: number;
  /** Default 'monotonic'. `process.hrtime.bigint()` reads the monotonic clock; `Date.now()` the realtime one. */
  clock?: TimeoutClock;
}

/** How a timeout ended: its time came, or the completion count was reached. */
export type TimeoutResult = 'expired' | 'count';

/** @internal A validated timeout: the timespec (held until the CQE), flags and count. */
export interface EncodedTimeout { ts: BigInt64Array; flags: number; count: number }

function clockFlag(clock: unknown): number {
  if (clock === undefined || clock === 'monotonic') return 0;
  if (clock === 'boottime') return TIMEOUT_BOOTTIME;
  if (clock === 'realtime') return TIMEOUT_REALTIME;
  throw invalidArgValue('timeout.clock', clock, "must be 'monotonic', 'boottime' or 'realtime'");
}

/** @internal Validates a timeout argument (milliseconds or a TimeoutSpec). */
export function encodeTimeout(spec: number | TimeoutSpec, name = 'timeout'): EncodedTimeout {
  if (typeof spec === 'number') {
    return { ts: timespec(validateInteger(spec, name, 0, MAX_MS)), flags: 0, count: 0 };
  }
  validateObject(spec, name);
  let flags = clockFlag(spec.clock);
  const count = spec.count === undefined ? 0 : validateInteger(spec.count, `${name}.count`, 0, 0xffffffff);
  if ((spec.ms === undefined) === (spec.at === undefined)) {
    throw invalidArgValue(name, spec, 'must have exactly one of "ms" and "at"');
  }
  let ts: BigInt64Array;
  if (spec.ms !== undefined) {
    ts = timespec(validateInteger(spec.ms, `${name}.ms`, 0, MAX_MS));
  } else {
    flags |= TIMEOUT_ABS;
    const at = spec.at;
    if (at instanceof Date) {
      if (spec.clock !== 'realtime') throw invalidArgValue(`${name}.at`, at, "may be a Date only with clock: 'realtime'");
      ts = timespec(validateInteger(at.getTime(), `${name}.at`, 0, Number.MAX_SAFE_INTEGER));
    } else if (typeof at === 'bigint') {
      if (at < 0n || at >= 2n ** 63n) throw invalidArgValue(`${name}.at`, at, 'must be >= 0n and < 2n ** 63n nanoseconds');
      ts = new BigInt64Array([at / 1_000_000_000n, at % 1_000_000_000n]);
    } else if (typeof at === 'number') {
      ts = timespec(validateInteger(at, `${name}.at`, 0, Number.MAX_SAFE_INTEGER));
    } else {
      throw invalidArgType(`${name}.at`, 'of type number or bigint, or an instance of Date', at);
    }
  }
  return { ts, flags, count };
}

/** @internal Writes an IORING_OP_TIMEOUT entry (len must be 1: one timespec). */
export function prepTimeout(t: SqeTarget, n: number, e: EncodedTimeout): number {
  const i = t._sqe(n);
  const w = t._w;
  prep(w, i, Op.TIMEOUT, 0, -1, internalAddress(e.ts), 1, e.count);
  w[i + 7] = e.flags;
  return i;
}

/** Starts a timeout whose result `onTime` maps; registers it for remove/update. */
function track<T>(ring: Ring, e: EncodedTimeout, options: OpOptions | undefined,
  onTime: (res: number) => T): Promise<T> {
  ring._checkOpen();
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = prepTimeout(ring, n, e);
  const { req, promise } = ring._trackReq(i, e.ts, OPS.timeout.name);
  req.waiter = true;
  // -ETIME is how a timeout says its time came: a result, not an error.
  req.okRes = ETIME;
  req.map = onTime;
  if (options !== undefined) applyOptions(ring, i, req, options);
  ring._named.set(promise, ring._tokenAt(i));
  return promise;
}

/**
 * @internal Ring.timeout(): resolves 'expired' when the time came, 'count'
 * when `count` other completions came first; rejects ECANCELED if removed.
 */
export function timeout(ring: Ring, spec: number | TimeoutSpec, options?: OpOptions): Promise<TimeoutResult> {
  const e = encodeTimeout(spec);
  return track(ring, e, options, (res) => (res === ETIME ? 'expired' : 'count'));
}

/** @internal Ring.sleep(): resolves after `ms` milliseconds, timed by the kernel. */
export function sleep(ring: Ring, ms: number, options?: OpOptions): Promise<void> {
  const e = encodeTimeout(validateInteger(ms, 'ms', 0, MAX_MS));
  return track(ring, e, options, () => undefined);
}

/** The user_data of a pending timeout started on this ring, or throws. */
function tokenOf(ring: Ring, target: Promise<unknown>, name: string): [number, number] {
  const token = ring._named.get(target);
  if (token === undefined) {
    throw invalidArgValue(name, target, 'must be a promise returned by timeout() or sleep() on this ring');
  }
  return token;
}

/**
 * A TIMEOUT_REMOVE naming `target`; with `e` it is an update to that time
 * (the new timespec goes in addr2 and is held by the request).
 */
function removeOrUpdate(ring: Ring, target: Promise<unknown>, e: EncodedTimeout | undefined,
  options: OpOptions | undefined): Promise<number> {
  const token = tokenOf(ring, target, 'timeout');
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  const w = ring._w;
  prep(w, i, Op.TIMEOUT_REMOVE, 0, -1, 0, 0, 0);
  w[i + 4] = token[0];
  w[i + 5] = token[1];
  if (e !== undefined) {
    put64(w, i + 2, internalAddress(e.ts));
    w[i + 7] = e.flags | TIMEOUT_UPDATE;
  }
  return ring._op(i, e?.ts, OPS.timeoutRemove, options);
}

/**
 * @internal Ring.timeoutRemove(): cancels a pending timeout (it rejects with
 * ECANCELED). Resolves 0; rejects ENOENT when it already fired, EBUSY when
 * it is completing.
 */
export function timeoutRemove(ring: Ring, target: Promise<unknown>, options?: OpOptions): Promise<number> {
  ring._checkOpen();
  return removeOrUpdate(ring, target, undefined, options);
}

/**
 * @internal Ring.timeoutUpdate(): gives a pending timeout a new time (from
 * now, or absolute with `at`). Resolves 0; rejects ENOENT when it already
 * fired. The count of the original timeout is kept.
 */
export function timeoutUpdate(ring: Ring, target: Promise<unknown>, spec: number | TimeoutSpec,
  options?: OpOptions): Promise<number> {
  ring._checkOpen();
  tokenOf(ring, target, 'timeout');
  const e = encodeTimeout(spec, 'spec');
  if (e.count !== 0) throw invalidArgValue('spec.count', e.count, 'cannot be changed by an update');
  return removeOrUpdate(ring, target, e, options);
}
