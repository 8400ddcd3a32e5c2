// Argument checks that run before anything touches the ring: a refused call
// consumes no SQE and makes no syscall. Numbers are never truncated or wrapped.
import { elementName, invalidArgType, isRevokedProxy, outOfRange } from './errors';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export function validateInteger(value: unknown, name: string, min = -MAX_SAFE, max = MAX_SAFE): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

export function validateUint32(value: unknown, name: string, positive = false): number {
  return validateInteger(value, name, positive ? 1 : 0, 0xffffffff);
}

export function validateInt32(value: unknown, name: string, min = -0x80000000, max = 0x7fffffff): number {
  return validateInteger(value, name, min, max);
}

/** A file descriptor: an int32 >= 0. */
export function validateFd(value: unknown, name = 'fd'): number {
  return validateInteger(value, name, 0, 0x7fffffff);
}

/**
 * A 64-bit file offset. `-1`, `null` and `undefined` mean the current file
 * position; bigints up to 2**63-1 are accepted.
 */
export function validatePosition(value: unknown, arg = 'position', index = -1): number | bigint {
  if (typeof value === 'number' && value >= 0 && value <= MAX_SAFE && Number.isInteger(value)) return value;
  if (value === undefined || value === null) return -1;
  const name = elementName(arg, index);
  if (typeof value === 'number') {
    if (value === -1) return -1;
    if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
    if (value < 0 || value > MAX_SAFE) throw outOfRange(name, `>= -1 && <= ${MAX_SAFE}`, value);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value === -1n) return -1;
    if (value < 0n || value > 0x7fffffffffffffffn) throw outOfRange(name, '>= -1n && <= 2n ** 63n - 1n', value);
    return value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

/** A 64-bit unsigned quantity (lengths, offsets that cannot mean "current"). */
export function validateU64(value: unknown, name: string): number | bigint {
  if (typeof value === 'number') return validateInteger(value, name, 0, MAX_SAFE);
  if (typeof value === 'bigint') {
    if (value < 0n || value > 0xffffffffffffffffn) throw outOfRange(name, '>= 0n && <= 2n ** 64n - 1n', value);
    return value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

export function validateString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  return value;
}

export function validateFunction(value: unknown, name: string): (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as (...args: never[]) => unknown;
}

export function validateObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || isRevokedProxy(value)) throw invalidArgType(name, 'of type object', value);
  return value as Record<string, unknown>;
}

export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}
