// The ring uring/net uses when none is given: one per thread, made on first
// use and made again if someone closed it. It keeps the process alive only
// while it has requests in flight (an armed accept or receive counts).
import { Ring } from '../ring';

let shared: Ring | undefined;

/** The thread's shared networking ring. */
export function defaultRing(): Ring {
  if (shared === undefined || shared.closed) {
    // Room for a receive and a send per connection in one batch; entries
    // that do not fit wait in the staging area, never fail.
    shared = new Ring({ entries: 1024, cqEntries: 4096 });
  }
  return shared;
}
