// What a ring is set up with: the options users pass, their validation, and
// the IORING_SETUP_* flags and parameters they become.
import { FeatureName, Setup } from './constants';
import { UringError, invalidArgType } from './errors';
import { validateBoolean, validateInteger, validateObject } from './validators';
import type { Restrictions } from './restrictions';
import type { RingCore } from './ring-core';

/** How to set up a ring. Every field is optional. */
export interface RingOptions {
  /** SQ size, a power of two from 1 to 32768 (rounded up by the kernel). Default 256. */
  entries?: number;
  /** CQ size (IORING_SETUP_CQSIZE). Default: twice `entries`. */
  cqEntries?: number;
  /** Clamp sizes to the kernel's maxima instead of failing (IORING_SETUP_CLAMP). */
  clamp?: boolean;
  /**
   * A kernel thread that consumes the SQ, so submission needs no syscall while
   * it is awake. Off unless asked for; it spends CPU. `idleMs` is how long the
   * thread spins before sleeping (default 1000), `cpu` pins it to one CPU.
   */
  sqpoll?: boolean | { idleMs?: number; cpu?: number };
  /** Only this thread submits (IORING_SETUP_SINGLE_ISSUER). */
  singleIssuer?: boolean;
  /** Run completion work only when this thread asks (IORING_SETUP_DEFER_TASKRUN; needs singleIssuer). */
  deferTaskrun?: boolean;
  /** IORING_SETUP_COOP_TASKRUN: no IPI to interrupt the thread for completion work. */
  coopTaskrun?: boolean;
  /** IORING_SETUP_NO_SQARRAY, where the kernel has it (6.6+). */
  noSqArray?: boolean;
  /** IORING_SETUP_SUBMIT_ALL: keep submitting a batch after one SQE fails. */
  submitAll?: boolean;
  /** Share the async worker pool of another ring (IORING_SETUP_ATTACH_WQ). */
  attachWq?: RingCore;
  /** Start disabled (IORING_SETUP_R_DISABLED); submissions fail until enable(). */
  disabled?: boolean;
  /**
   * A sandbox: the ring is created disabled, restricted to these operations,
   * register calls and SQE flags (IORING_REGISTER_RESTRICTIONS), then enabled
   * (unless `disabled` is also set). A disallowed operation rejects with
   * EACCES. The ring's probe is read before the restrictions apply.
   */
  restrictions?: Restrictions;
  /** Extra raw IORING_SETUP_* bits, for flags this version does not name. */
  rawFlags?: number;
}

/** The kernel's feature bits as named booleans. */
export type RingFeatures = Readonly<Record<FeatureName, boolean>>;

/** Counters for tests and tuning. */
export interface RingStats {
  /** io_uring_enter calls made. */
  enters: number;
  /** SQEs submitted. */
  submitted: number;
  /** CQEs reaped. */
  completed: number;
  /** CQEs that named no live request. */
  stale: number;
  /** Times the CQ had overflowed and was flushed. */
  overflowFlushes: number;
  /** Entries that waited for room in the SQ. */
  staged: number;
}

/**
 * A plain copy of the caller's ring options: each property read once (and
 * those of `sqpoll`), so that nothing later asks the caller's object again.
 */
export function readRingOptions(options: unknown): RingOptions {
  const o = validateObject(options, 'options') as RingOptions;
  const {
    entries, cqEntries, clamp, sqpoll, singleIssuer, deferTaskrun, coopTaskrun, noSqArray, submitAll,
    attachWq, disabled, restrictions, rawFlags,
  } = o;
  let sq = sqpoll;
  if (typeof sqpoll === 'object' && sqpoll !== null) {
    const { idleMs, cpu } = sqpoll;
    sq = { idleMs, cpu };
  }
  return {
    entries, cqEntries, clamp, sqpoll: sq, singleIssuer, deferTaskrun, coopTaskrun, noSqArray, submitAll,
    attachWq, disabled, restrictions, rawFlags,
  };
}

/** The IORING_SETUP_* flags and parameters `o` (from readRingOptions) asks for; throws on a bad option before any syscall. */
export function setupFlags(o: RingOptions, isRing: (x: unknown) => boolean): { flags: number; cpu: number; idle: number; cq: number; wq: number } {
  let flags = 0;
  let cpu = 0;
  let idle = 0;
  let cq = 0;
  let wq = 0;
  const sqpoll = o.sqpoll;
  if (sqpoll !== undefined && sqpoll !== false) {
    flags |= Setup.SQPOLL;
    if (typeof sqpoll === 'object' && sqpoll !== null) {
      if (sqpoll.idleMs !== undefined) idle = validateInteger(sqpoll.idleMs, 'options.sqpoll.idleMs', 0, 0xffffffff);
      if (sqpoll.cpu !== undefined) {
        cpu = validateInteger(sqpoll.cpu, 'options.sqpoll.cpu', 0, 0xffffffff);
        flags |= Setup.SQ_AFF;
      }
    } else if (sqpoll !== true) {
      throw invalidArgType('options.sqpoll', 'of type boolean or object', sqpoll);
    }
  }
  if (o.cqEntries !== undefined) {
    cq = validateInteger(o.cqEntries, 'options.cqEntries', 1, 0x80000000);
    flags |= Setup.CQSIZE;
  }
  const bools: [keyof RingOptions, number][] = [
    ['clamp', Setup.CLAMP], ['singleIssuer', Setup.SINGLE_ISSUER], ['deferTaskrun', Setup.DEFER_TASKRUN],
    ['coopTaskrun', Setup.COOP_TASKRUN], ['noSqArray', Setup.NO_SQARRAY], ['submitAll', Setup.SUBMIT_ALL],
    ['disabled', Setup.R_DISABLED],
  ];
  for (const [k, bit] of bools) {
    if (o[k] !== undefined && validateBoolean(o[k], `options.${k}`)) flags |= bit;
  }
  if (o.deferTaskrun && !o.singleIssuer) {
    throw new UringError('ERR_INVALID_ARG_VALUE', 'options.deferTaskrun requires options.singleIssuer');
  }
  if (o.attachWq !== undefined) {
    if (!isRing(o.attachWq)) throw invalidArgType('options.attachWq', 'an instance of Ring', o.attachWq);
    wq = o.attachWq.fd;
    flags |= Setup.ATTACH_WQ;
  }
  if (o.rawFlags !== undefined) flags |= validateInteger(o.rawFlags, 'options.rawFlags', 0, 0xffffffff);
  if (o.restrictions !== undefined) flags |= Setup.R_DISABLED;
  return { flags: flags >>> 0, cpu, idle, cq, wq };
}
