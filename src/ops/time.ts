// Timeouts on the ring (IORING_OP_TIMEOUT and TIMEOUT_REMOVE): sleeping,
// waiting for a number of completions, absolute deadlines on a chosen clock,
// and removing or moving a pending timeout. The timespec each request points
// at is held by its record until the CQE.
import { types } from 'node:util';
import { TIMEOUT_ABS, TIMEOUT_BOOTTIME, TIMEOUT_REALTIME, TIMEOUT_UPDATE } from '../constants';
import { OPS } from '../opcodes';
import { Operation } from '../operation';
import { internalAddress } from '../memory';
import { invalidArgType, invalidArgValue } from '../errors';
import { validateInteger, validateObject } from '../validators';
import { timespec, withOptions, OpOptions } from '../options';
import type { RingCore } from '../ring-core';

const ETIME = -62;
// The Date's own time, not a getTime the caller may have put on the object.
const dateTime = Function.prototype.call.bind(Date.prototype.getTime) as (d: Date) => number;
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
  const { clock, count: c, ms, at } = spec; // read once
  let flags = clockFlag(clock);
  const count = c === undefined ? 0 : validateInteger(c, `${name}.count`, 0, 0xffffffff);
  if ((ms === undefined) === (at === undefined)) {
    throw invalidArgValue(name, spec, 'must have exactly one of "ms" and "at"');
  }
  let ts: BigInt64Array;
  if (ms !== undefined) {
    ts = timespec(validateInteger(ms, `${name}.ms`, 0, MAX_MS));
  } else {
    flags |= TIMEOUT_ABS;
    if (types.isDate(at)) {
      if (clock !== 'realtime') throw invalidArgValue(`${name}.at`, at, "may be a Date only with clock: 'realtime'");
      ts = timespec(validateInteger(dateTime(at), `${name}.at`, 0, Number.MAX_SAFE_INTEGER));
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

/** @internal An IORING_OP_TIMEOUT operation (len must be 1: one timespec). */
export function timeoutOp(e: EncodedTimeout): Operation {
  const op = new Operation(OPS.timeout);
  op.fd = -1;
  op.addr = internalAddress(e.ts);
  op.len = 1;
  op.off = e.count;
  op.opFlags = e.flags;
  op.hold = e.ts;
  return op;
}

/** A timeout whose result `onTime` maps; other requests can name it (remove, update). */
function track<T>(e: EncodedTimeout, options: OpOptions | undefined, onTime: (res: number) => T): Operation {
  const op = withOptions(timeoutOp(e), options);
  // -ETIME is how a timeout says its time came: a result, not an error.
  op.okRes = ETIME;
  op.map = onTime;
  op.named = true;
  return op;
}

/**
 * @internal Ring.timeout(): resolves 'expired' when the time came, 'count'
 * when `count` other completions came first; rejects ECANCELED if removed.
 */
export function timeout(spec: number | TimeoutSpec, options?: OpOptions): Operation {
  const e = encodeTimeout(spec);
  return track(e, options, (res) => (res === ETIME ? 'expired' : 'count'));
}

/** @internal Ring.sleep(): resolves after `ms` milliseconds, timed by the kernel. */
export function sleep(ms: number, options?: OpOptions): Operation {
  const e = encodeTimeout(validateInteger(ms, 'ms', 0, MAX_MS));
  return track(e, options, () => undefined);
}

/** The user_data of a timeout started on this ring, or throws. */
function tokenOf(ring: RingCore, target: unknown, name: string): bigint {
  const token = ring._namedUserData(target);
  if (token === undefined) {
    throw invalidArgValue(name, target, 'must be a promise returned by timeout() or sleep() on this ring');
  }
  return token;
}

/**
 * A TIMEOUT_REMOVE naming `token`; with `e` it is an update to that time
 * (the new timespec goes in addr2 and is held by the request).
 */
function removeOrUpdate(token: bigint, e: EncodedTimeout | undefined,
  options: OpOptions | undefined): Operation {
  const op = new Operation(OPS.timeoutRemove);
  op.fd = -1;
  op.addr = token;
  if (e !== undefined) {
    op.off = internalAddress(e.ts);
    op.opFlags = e.flags | TIMEOUT_UPDATE;
    op.hold = e.ts;
  }
  return withOptions(op, options);
}

/**
 * @internal Ring.timeoutRemove(): cancels a pending timeout (it rejects with
 * ECANCELED). Resolves 0; rejects ENOENT when it already fired, EBUSY when
 * it is completing.
 */
export function timeoutRemove(ring: RingCore, target: unknown, options?: OpOptions): Operation {
  return removeOrUpdate(tokenOf(ring, target, 'timeout'), undefined, options);
}

/**
 * @internal Ring.timeoutUpdate(): gives a pending timeout a new time (from
 * now, or absolute with `at`). Resolves 0; rejects ENOENT when it already
 * fired. The count of the original timeout is kept.
 */
export function timeoutUpdate(ring: RingCore, target: unknown, spec: number | TimeoutSpec,
  options?: OpOptions): Operation {
  const token = tokenOf(ring, target, 'timeout');
  const e = encodeTimeout(spec, 'spec');
  if (e.count !== 0) throw invalidArgValue('spec.count', e.count, 'cannot be changed by an update');
  return removeOrUpdate(token, e, options);
}
