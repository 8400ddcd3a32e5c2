// Checks around file registration: the fd lists themselves, RLIMIT_NOFILE
// (which the kernel applies to a table's size), and errors that explain
// themselves when the kernel refuses a file.
import { readlinkSync } from 'node:fs';
import { RLIMIT_NOFILE } from './constants';
import type { NativeBinding } from './native';
import { UringSystemError, invalidArgType, invalidArgValue, outOfRange, systemError } from './errors';
import { readArray } from './memory';

/** The kernel's limit on a table's size (IORING_MAX_FIXED_FILES). */
export const MAX_TABLE_SIZE = 1 << 20;
/** High-word bit (with TAG_BIT) of the CQE another ring posts when it passes a file here. */
export const MSG_BIT = 0x40000000;

const EBADF = -9;
const EMFILE = -24;
const EBUSY = -16;

/**
 * Validates a list of fds for the table: an array of `1..max` integers, each
 * `>= min` (-1 empties a slot, -2 skips one in an update). Returns a copy.
 */
export function validateFdList(fds: unknown, name: string, min: number, max: number): number[] {
  // One read of the length and of each element: a Proxy cannot answer twice.
  const list = readArray(fds, name, 'an Array of file descriptors', MAX_TABLE_SIZE);
  if (list.length === 0) throw invalidArgValue(name, fds, 'must not be empty');
  if (list.length > max) throw outOfRange(`${name}.length`, `>= 1 && <= ${max}`, list.length);
  const out = new Array<number>(list.length);
  for (let k = 0; k < list.length; k++) {
    const v = list[k];
    if (typeof v !== 'number') throw invalidArgType(`${name}[${k}]`, 'of type number', v);
    if (!Number.isInteger(v) || v < min || v > 0x7fffffff) {
      throw outOfRange(`${name}[${k}]`, `an integer >= ${min} && <= 2147483647`, v);
    }
    out[k] = v;
  }
  return out;
}

/**
 * The kernel refuses a table larger than RLIMIT_NOFILE with EMFILE. Raises
 * the soft limit up to the hard one when needed (as liburing does); beyond
 * the hard limit, throws EMFILE naming the limit. Nothing is registered.
 */
export function ensureNofile(n: NativeBinding, size: number): void {
  const lim = n.getRlimit(RLIMIT_NOFILE);
  if (typeof lim === 'number') return; // cannot tell: let the kernel decide
  const [soft, hard] = lim;
  if (soft === -1 || size <= soft) return;
  if (hard !== -1 && size > hard) {
    throw withHint(systemError(EMFILE, 'io_uring_register'),
      `a table of ${size} files exceeds RLIMIT_NOFILE (soft ${soft}, hard ${hard}); raise the hard limit (ulimit -Hn) or use a smaller table`);
  }
  const r = n.setRlimit(RLIMIT_NOFILE, size);
  if (r < 0) {
    throw withHint(systemError(EMFILE, 'io_uring_register'),
      `a table of ${size} files exceeds RLIMIT_NOFILE (soft ${soft}) and raising it failed (${-r})`);
  }
}

/** Whether `fd` is an io_uring instance (which the kernel will not register). */
export function isRingFd(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[io_uring]';
  } catch {
    return false;
  }
}

function isOpen(fd: number): boolean {
  try {
    readlinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Turns a register failure into an error that says what to do. For EBADF it
 * looks for the offending fd (`fds[k]` is entry `base + k` of the caller's
 * list): a ring fd, or one that is not open.
 */
export function explainRegisterError(res: number, fds: readonly number[], size: number,
  base = 0): UringSystemError {
  const err = systemError(res, 'io_uring_register');
  if (res === EBUSY && size > 0) {
    return withHint(err, `a file table of ${size} slots is already registered; unregister() it first, or change it with update()`);
  }
  if (res === EBADF) {
    for (let k = 0; k < fds.length; k++) {
      const fd = fds[k]!;
      if (fd < 0) continue;
      if (isRingFd(fd)) {
        return withHint(err, `fds[${k + base}] (${fd}) is an io_uring instance; a ring cannot be registered as a file (pass files between rings with send())`);
      }
      if (!isOpen(fd)) return withHint(err, `fds[${k + base}] (${fd}) is not an open file descriptor`);
    }
  }
  return err;
}

/** Appends a hint to a system error's message and keeps it as `hint`. */
export function withHint(err: UringSystemError, hint: string): UringSystemError {
  err.message += ` (${hint})`;
  (err as UringSystemError & { hint: string }).hint = hint;
  return err;
}
