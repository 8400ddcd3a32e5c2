// Cancelling requests in flight (IORING_OP_ASYNC_CANCEL): one request named by
// its promise, every request on a file, or everything. Cancelling never
// settles the target itself: its promise settles from its own CQE, exactly
// once, with its result if it completed first or ECANCELED if the cancel won,
// and the memory it holds stays pinned until that CQE.
import { types } from 'node:util';
import { ASYNC_CANCEL_ALL, ASYNC_CANCEL_ANY, ASYNC_CANCEL_FD, ASYNC_CANCEL_FD_FIXED, Op } from '../constants';
import { OPS, OpSpec } from '../opcodes';
import { Operation, isSlot, targetNumber } from '../operation';
import { fileTarget } from '../files';
import { invalidArgType } from '../errors';
import { withOptions, OpOptions } from '../options';
import type { RingCore } from '../ring-core';
import { userDataOf } from '../requests';

const ENOENT = -2;
const EALREADY = -114;
// ASYNC_CANCEL names its file like any fd-taking request (FD_FIXED for a slot).
const CANCEL_FD: OpSpec = Object.freeze({ op: Op.ASYNC_CANCEL, name: 'async_cancel', fixed: true });

/** An ASYNC_CANCEL resolving with the kernel's count, `notFound` for "nothing found". */
function cancelOp(options: OpOptions | undefined, notFound: number): Operation {
  const op = new Operation(OPS.asyncCancel);
  op.fd = -1;
  op.okRes = ENOENT;
  op.map = (res) => (res === ENOENT ? notFound : res);
  return withOptions(op, options);
}

/**
 * @internal Ring.cancel(): cancels the request whose promise is `target`.
 * Resolves true when the kernel cancelled it, false when it had already
 * completed, was not from this ring, or was too far along to stop (EALREADY:
 * it will complete by itself).
 */
export function cancel(ring: RingCore, target: unknown, options?: OpOptions): Promise<boolean> {
  if (!types.isPromise(target)) throw invalidArgType('target', 'an instance of Promise', target);
  const op = cancelOp(options, -1);
  ring._checkOpen();
  const r = ring._requestOf(target as Promise<unknown>);
  if (r === undefined) return Promise.resolve(false);
  // Flags 0 matches by user_data on every kernel (ASYNC_CANCEL_USERDATA is 6.6+).
  op.addr = userDataOf(r);
  return ring._submit(op).then((res: number) => res === 0, (err: { errno?: number }) => {
    if (err?.errno === EALREADY) return false;
    throw err;
  });
}

/**
 * @internal Ring.cancelFd(): cancels every request on a plain fd or a
 * registered file (IORING_ASYNC_CANCEL_FD | ALL, with FD_FIXED for a
 * FixedFile; Linux 5.19+, 6.0+ for registered files).
 */
export function cancelFd(ring: RingCore, file: unknown, options?: OpOptions): Operation {
  const t = fileTarget(file, CANCEL_FD, ring);
  const op = cancelOp(options, 0);
  op.fd = targetNumber(t); // the file goes in fd; the flag, not IOSQE_FIXED_FILE, says it is a slot
  op.opFlags = ASYNC_CANCEL_FD | ASYNC_CANCEL_ALL | (isSlot(t) ? ASYNC_CANCEL_FD_FIXED : 0);
  return op;
}

/** @internal Ring.cancelAll(): cancels every request in flight (IORING_ASYNC_CANCEL_ANY | ALL; Linux 5.19+). */
export function cancelAll(options?: OpOptions): Operation {
  const op = cancelOp(options, 0);
  op.opFlags = ASYNC_CANCEL_ANY | ASYNC_CANCEL_ALL;
  return op;
}
