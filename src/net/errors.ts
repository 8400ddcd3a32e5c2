// Socket errors shaped like node:net's: `connect ECONNREFUSED 127.0.0.1:9`,
// `read ECONNRESET`, `write EPIPE`, with code, negative errno, syscall and,
// for connect/bind/listen, address and port.
import { UringSystemError, errnoDescription } from '../errors';

/** A failed socket call as node:net reports it. */
export interface NetError extends UringSystemError {
  /** The address the operation named. */
  address?: string;
  /** The port the operation named. */
  port?: number;
}

/**
 * Builds the error for a failed socket operation. `describe` adds the errno's
 * description, as Node does for listen and bind (`listen EADDRINUSE: address
 * already in use 127.0.0.1:80`) but not for connect.
 */
export function netError(res: number, syscall: string, address?: string, port?: number, describe = false): NetError {
  const err: NetError = new UringSystemError(res, syscall);
  let msg = `${syscall} ${err.code}`;
  if (describe) msg += `: ${errnoDescription(res)}`;
  if (address !== undefined) {
    msg += port !== undefined && port > 0 ? ` ${address}:${port}` : ` ${address}`;
    err.address = address;
    if (port !== undefined) err.port = port;
  }
  err.message = msg;
  return err;
}
