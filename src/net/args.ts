// The arguments of connect() and listen() as node:net reads them: the
// overloads normalised into one options object (read once), ports as numbers
// or numeric strings (ERR_SOCKET_BAD_PORT), a path for a Unix domain socket,
// and options uring/net cannot honour refused by name instead of ignored.
import { UringError, invalidArgType, invalidArgValue, outOfRange } from '../errors';

/** node:net's validatePort(): a number or numeric string in 0..65535. */
export function validatePort(port: unknown, name = 'Port'): number {
  const ok = (typeof port === 'number' || (typeof port === 'string' && port.trim().length > 0))
    && +port === (+port >>> 0) && +port <= 0xffff;
  if (!ok) {
    throw new UringError('ERR_SOCKET_BAD_PORT',
      `${name} should be >= 0 and < 65536. Received ${typeof port === 'string' ? `type string ('${port}')` : String(port)}.`);
  }
  return +port;
}

/**
 * Throws ERR_INVALID_ARG_VALUE for each option in `names` that `o` sets to a
 * value other than `allowed`: an option node:net has and uring/net does not.
 */
export function refuseOptions(o: Record<string, unknown>, names: readonly string[], where: string,
  allowed: unknown = undefined): void {
  for (const n of names) {
    const v = o[n];
    if (v !== undefined && v !== allowed) {
      throw invalidArgValue(`${where}.${n}`, v, 'is not supported by uring/net');
    }
  }
}

/** Whether `x` is a string naming a pipe (a path) rather than a port, as node:net decides. */
export function isPipeName(x: unknown): x is string {
  return typeof x === 'string' && !/^\s*\d+\s*$/.test(x);
}

/** A callback among trailing arguments (node:net takes it in any position after the first). */
export function trailingCallback(args: readonly unknown[]): (() => void) | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? last as () => void : undefined;
}

/** The object form of an options argument, read once into a plain copy. */
export function readObject(value: unknown, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return { ...(value as Record<string, unknown>) };
}

/** An optional AbortSignal option. */
export function readSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value);
  return value;
}

/** node:net's timer durations (setTimeout, options.timeout): a finite number in 0..2**31-1 ms. */
export function validateMsecs(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value >= 0 && value <= 0x7fffffff)) throw outOfRange(name, '>= 0 && <= 2147483647', value);
  return value;
}
