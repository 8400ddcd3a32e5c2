// The ring uring/net uses when none is given: one per thread, made on first
// use and made again if someone closed it. It keeps the process alive only
// while it has requests in flight (an armed accept or receive counts).
import { Ring } from '../ring';
import { UringUnavailableError } from '../native';

let shared: Ring | undefined;

/** The thread's shared networking ring. */
export function defaultRing(): Ring {
  if (shared === undefined || shared.closed) {
    shared = createRing();
  }
  return shared;
}

function createRing(): Ring {
  // Room for a receive and a send per connection in one batch; entries that
  // do not fit wait in the staging area, never fail. COOP_TASKRUN: data that
  // arrives while JavaScript runs does not interrupt the thread (an IPI and
  // a trip through the kernel per chunk); the completions are posted at its
  // next system call, the submit or the event loop's wait, in one batch.
  // Kernels before 5.19 refuse the flag: a plain ring then.
  try {
    return new Ring({ entries: 1024, cqEntries: 4096, coopTaskrun: true });
  } catch (err) {
    if (err instanceof UringUnavailableError) throw err;
    return new Ring({ entries: 1024, cqEntries: 4096 });
  }
}
