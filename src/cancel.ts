// Cancelling requests in flight (IORING_OP_ASYNC_CANCEL): one request named by
// its promise, every request on a file, or everything. Cancelling never
// settles the target itself: its promise settles from its own CQE, exactly
// once, with its result if it completed first or ECANCELED if the cancel won,
// and the memory it holds stays referenced until that CQE.
import {
  ASYNC_CANCEL_ALL, ASYNC_CANCEL_ANY, ASYNC_CANCEL_FD, ASYNC_CANCEL_FD_FIXED, Op,
} from './constants';
import { OPS } from './opcodes';
import { prep } from './sq';
import { invalidArgType } from './errors';
import { FileRef } from './files';
import { abortedBeforeStart, applyOptions, optionSlots } from './submit-options';
import type { OpSpec } from './opcodes';
import type { OpOptions } from './ring-core';
import type { Request } from './requests';
import type { Ring } from './ring';

const ENOENT = -2;
// ASYNC_CANCEL names its file like any fd-taking request (FD_FIXED for a slot).
const CANCEL_FD: OpSpec = Object.freeze({ op: Op.ASYNC_CANCEL, name: 'async_cancel', fixed: true });
const EALREADY = -114;

/** @internal The live request whose promise is `target`, or undefined once it completed. */
export function findRequest(ring: Ring, target: Promise<unknown>): Request | undefined {
  for (const r of ring._req.each()) if (r.promise === target && !r.settled) return r;
  return undefined;
}

/** Submits one ASYNC_CANCEL; resolves with the kernel's count, 0 for "nothing found". */
function submitCancel(ring: Ring, options: OpOptions | undefined,
  fill: (w: Uint32Array, i: number) => void, notFound: number): Promise<number> {
  const n = optionSlots(options);
  const early = abortedBeforeStart(options);
  if (early) return early;
  const i = ring._sqe(n);
  prep(ring._w, i, Op.ASYNC_CANCEL, 0, -1, 0, 0, 0);
  fill(ring._w, i);
  const { req, promise } = ring._trackReq(i, undefined, OPS.asyncCancel.name);
  req.okRes = ENOENT;
  req.map = (res) => (res === ENOENT ? notFound : res);
  if (options !== undefined) applyOptions(ring, i, req, options);
  return promise;
}

/**
 * @internal Ring.cancel(): cancels the request whose promise is `target`.
 * Resolves true when the kernel cancelled it, false when it had already
 * completed, was not from this ring, or was too far along to stop (EALREADY:
 * it will complete by itself).
 */
export function cancel(ring: Ring, target: Promise<unknown>, options?: OpOptions): Promise<boolean> {
  ring._checkOpen();
  if (!(target instanceof Promise)) throw invalidArgType('target', 'an instance of Promise', target);
  optionSlots(options);
  const r = findRequest(ring, target);
  if (r === undefined) return Promise.resolve(false);
  const slot = r.slot;
  const gen = r.gen;
  // Flags 0 matches by user_data on every kernel (ASYNC_CANCEL_USERDATA is 6.6+).
  return submitCancel(ring, options, (w, i) => { w[i + 4] = slot; w[i + 5] = gen; }, -1)
    .then((res) => res === 0, (err: { errno?: number }) => {
      if (err?.errno === EALREADY) return false;
      throw err;
    });
}

/**
 * @internal Ring.cancelFd(): cancels every request on a plain fd or a
 * registered file (IORING_ASYNC_CANCEL_FD | ALL, with FD_FIXED for a
 * FixedFile; Linux 5.19+, 6.0+ for registered files). Resolves with how many
 * requests were cancelled.
 */
export function cancelFd(ring: Ring, file: FileRef, options?: OpOptions): Promise<number> {
  ring._checkOpen();
  const fd = ring._file(file, CANCEL_FD);
  const flags = ASYNC_CANCEL_FD | ASYNC_CANCEL_ALL | (ring._ff !== 0 ? ASYNC_CANCEL_FD_FIXED : 0);
  return submitCancel(ring, options, (w, i) => { w[i + 1] = fd; w[i + 7] = flags; }, 0);
}

/**
 * @internal Ring.cancelAll(): cancels every request in flight on the ring
 * (IORING_ASYNC_CANCEL_ANY | ALL; Linux 5.19+). Resolves with how many.
 */
export function cancelAll(ring: Ring, options?: OpOptions): Promise<number> {
  ring._checkOpen();
  return submitCancel(ring, options, (w, i) => { w[i + 7] = ASYNC_CANCEL_ANY | ASYNC_CANCEL_ALL; }, 0);
}
