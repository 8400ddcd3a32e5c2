// Errors shaped like Node's. System errors carry code, a negative errno,
// syscall and path; library misuse carries a stable ERR_* code. The codes are
// part of the API: never change or reuse one.
import { getSystemErrorMap } from 'node:util';
import { inspect, types } from 'node:util';

const systemErrors: Map<number, [string, string]> = getSystemErrorMap();

/** The symbolic name of a negative (or positive) errno, e.g. -2 -> 'ENOENT'. */
export function errnoName(errno: number): string {
  const e = systemErrors.get(-Math.abs(errno));
  return e ? e[0] : `Unknown system error ${-Math.abs(errno)}`;
}

/** The description Node uses for an errno, e.g. 'no such file or directory'. */
export function errnoDescription(errno: number): string {
  const e = systemErrors.get(-Math.abs(errno));
  return e ? e[1] : 'unknown error';
}

export interface SystemErrorDetails {
  path?: string | undefined;
  dest?: string | undefined;
  /** Registered-file slot the failed operation named. */
  slot?: number | undefined;
  cause?: unknown;
}

/**
 * A failed system call or io_uring operation, as Node reports one:
 * `ENOENT: no such file or directory, openat '/x'` with `code`, a negative
 * `errno`, `syscall` and, where known, `path`, `dest` and `slot`.
 */
export class UringSystemError extends Error {
  // Declared, not defined: the own properties appear in Node's order (errno,
  // code, syscall, path, dest) and only when set, so the error's keys are
  // those of Node's own system errors.
  /** The negative errno, as Node reports it (-2 for ENOENT). */
  declare errno: number;
  /** The errno name, e.g. `ENOENT`. */
  declare code: string;
  /** The operation or system call that failed, e.g. `openat` or `io_uring_register`. */
  declare syscall: string;
  /** The path the operation named, when it named one. */
  declare path?: string;
  /** The destination path of a two-path operation (rename, link). */
  declare dest?: string;
  /** The registered-file slot the operation named. */
  declare slot?: number;
  /** Builds the error for a negative (or positive) errno `errno` from `syscall`. */
  constructor(errno: number, syscall: string, details?: SystemErrorDetails) {
    const neg = -Math.abs(errno);
    const code = errnoName(neg);
    let message = `${code}: ${errnoDescription(neg)}, ${syscall}`;
    if (details?.path !== undefined) message += ` '${details.path}'`;
    if (details?.dest !== undefined) message += ` -> '${details.dest}'`;
    super(message, details?.cause !== undefined ? { cause: details.cause } : undefined);
    this.errno = neg;
    this.code = code;
    this.syscall = syscall;
    if (details?.path !== undefined) this.path = details.path;
    if (details?.dest !== undefined) this.dest = details.dest;
    if (details?.slot !== undefined) this.slot = details.slot;
  }
  /** `'Error'`, as Node's system errors are named. */
  override get name(): string { return 'Error'; }
}

// util.inspect() names an error after its constructor when that differs
// from err.name ('UringSystemError: ENOENT ...'); Node's system errors print
// as 'Error: ENOENT ...'. The class keeps its identity for instanceof.
Object.defineProperty(UringSystemError, 'name', { value: 'Error' });

/** Builds the system error for a failed CQE or syscall result. */
/** The name of argument `name` (or of its element `index`, when >= 0), built only for an error. */
export function elementName(name: string, index: number): string {
  return index < 0 ? name : `${name}[${index}]`;
}

export function systemError(res: number, syscall: string, details?: SystemErrorDetails): UringSystemError {
  return new UringSystemError(res, syscall, details);
}

/**
 * Writes `err`'s stack (captured anew from `top` when given) as Node's own
 * coded errors show it: the first line says `TypeError [CODE]: ...` while
 * `name` stays the class's. V8 writes that line when the stack is first
 * read, so it is read once under the longer name.
 */
function codedStack(err: Error, code: string, top?: (...args: never[]) => unknown): void {
  err.name = `${err.name} [${code}]`;
  if (top !== undefined) Error.captureStackTrace(err, top);
  void err.stack;
  delete (err as { name?: string }).name;
}

function withCode<T extends Error>(err: T, code: string): T & { code: string } {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  codedStack(err, code);
  return err as T & { code: string };
}

/** @internal withCode() for the modules that build Node's errors themselves. */
export const nodeCoded = withCode;

/**
 * @internal Error.captureStackTrace(err, top), keeping the `[ERR_*]` of a
 * coded error's first stack line (see withCode()).
 */
export function restack(err: Error, top: (...args: never[]) => unknown): void {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('ERR_') && !(err instanceof UringError)
    && !Object.prototype.hasOwnProperty.call(err, 'name')) codedStack(err, code, top);
  else Error.captureStackTrace(err, top);
}

/** Whether `value` is a Proxy whose handler was revoked (found without running any trap). */
export function isRevokedProxy(value: unknown): boolean {
  return types.isProxy(value) && inspect(value, { showProxy: true, depth: -1 }).startsWith('<Revoked Proxy>');
}

function describe(value: unknown): string {
  if (value == null) return ` Received ${value}`;
  if (isRevokedProxy(value)) return ' Received a revoked Proxy';
  if (typeof value === 'function') return ` Received function ${(value as { name?: string }).name ?? ''}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? ` Received an instance of ${ctor}` : ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  if (typeof value === 'bigint') shown = `${String(value)}n`;
  return ` Received type ${typeof value} (${shown})`;
}

/** ERR_INVALID_ARG_TYPE, worded as Node words it. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & { code: string } {
  const what = name.includes('.') ? 'property' : 'argument';
  return withCode(new TypeError(`The "${name}" ${what} must be ${expected}.${describe(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** ERR_OUT_OF_RANGE, worded as Node words it. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & { code: string } {
  const shown = typeof actual === 'bigint' ? `${actual}n` : inspect(actual);
  return withCode(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`), 'ERR_OUT_OF_RANGE');
}

/** ERR_INVALID_ARG_VALUE: the type is right but the value is not allowed. */
export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): TypeError & { code: string } {
  return withCode(new TypeError(`The argument '${name}' ${reason}. Received ${inspect(value, { depth: 0 })}`), 'ERR_INVALID_ARG_VALUE');
}

/** ERR_UNKNOWN_ENCODING, worded as Node words it. */
export function unknownEncoding(encoding: unknown): TypeError & { code: string } {
  return withCode(new TypeError(`Unknown encoding: ${String(encoding)}`), 'ERR_UNKNOWN_ENCODING');
}

/** An error with a stable library code (ERR_RING_CLOSED and the like). */
export class UringError extends Error {
  /** A stable `ERR_*` code; codes are never changed or reused. */
  code: string;
  /** Creates an error with a library code and a message. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
  /** `Error [CODE]`, as Node names its coded errors. */
  override get name(): string { return `Error [${this.code}]`; }
  override toString(): string { return `Error [${this.code}]: ${this.message}`; }
}

export function ringClosed(): UringError {
  return new UringError('ERR_RING_CLOSED', 'The ring is closed');
}

export function unsupportedOp(op: string, why = 'this kernel does not support it'): UringError {
  return new UringError('ERR_URING_UNSUPPORTED', `io_uring operation ${op} is unavailable: ${why}`);
}

/** Rejected because an AbortSignal fired; `cause` is the ECANCELED error or the signal's reason. */
export class AbortError extends Error {
  /** Always `ABORT_ERR`, as Node's AbortError. */
  declare code: 'ABORT_ERR';
  /** Creates the error; `options.cause` is what aborted the operation. */
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    // Own properties in Node's order (its AbortError sets code, then name),
    // so the keys and util.inspect() output are those of Node's.
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

/** Rejected because a per-operation timeout expired before the operation completed. */
export class TimeoutError extends Error {
  /** Always `ETIMEDOUT`. */
  code = 'ETIMEDOUT';
  /** Creates the error; `options.cause` is the kernel's ECANCELED, when there is one. */
  constructor(message = 'The operation timed out', options?: { cause?: unknown }) {
    super(message, options);
  }
  /** `'TimeoutError'`. */
  override get name(): string { return 'TimeoutError'; }
}
