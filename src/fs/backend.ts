// Which backend uring/fs runs on in this thread: a ring of its own, created
// on first use, or node:fs/promises when io_uring cannot be used here. Every
// module-level value is per thread (a worker loads its own copy), so each
// worker gets its own ring.
import { Ring } from '../ring';
import { UringUnavailableError } from '../native';
import { SlotTable } from './slots';

/** What uring/fs runs on, and why. */
export interface FsBackend {
  /** 'io_uring': operations go through this thread's ring; 'node': they go to node:fs/promises. */
  readonly kind: 'io_uring' | 'node';
  /** Why the node backend is in use (absent for io_uring). */
  readonly reason?: string;
  /** The classified reason when io_uring was unavailable ('disabled', 'enosys', 'eperm', ...). */
  readonly code?: string;
  /** The thread's ring (io_uring backend only). */
  readonly ring?: Ring;
  /** Size of the ring's registered file table used for direct descriptors (0: none). */
  readonly fileSlots?: number;
  /** Whether readFile runs as one linked chain (needs IORING_FEAT_LINKED_FILE). */
  readonly chains?: boolean;
}

/** @internal The live state of the backend in this thread. */
export interface Engine {
  ring: Ring;
  slots: SlotTable;
  /** readFile may chain openat-direct, read and close_direct. */
  chains: boolean;
}

let engine: Engine | undefined;
let info: FsBackend | undefined;
let forced: 'node' | undefined;

function createRing(): Ring {
  // COOP_TASKRUN spares the thread an interrupt per completion; fall back to
  // a plain ring on kernels without it.
  try {
    return new Ring({ entries: 256, coopTaskrun: true });
  } catch (err) {
    if (err instanceof UringUnavailableError) throw err;
    return new Ring({ entries: 256 });
  }
}

function start(): void {
  if (forced === 'node') {
    info = Object.freeze({ kind: 'node', reason: 'selected by the caller', code: 'forced' });
    return;
  }
  try {
    const ring = createRing();
    const slots = new SlotTable(ring);
    const chains = ring.features.linkedFile && slots.size > 0;
    engine = { ring, slots, chains };
    info = Object.freeze({ kind: 'io_uring', ring, fileSlots: slots.size, chains });
  } catch (err) {
    const e = err as Error & { reason?: string };
    info = Object.freeze({
      kind: 'node',
      reason: e.message,
      code: err instanceof UringUnavailableError ? e.reason : 'other',
    });
  }
}

/** @internal The ring engine of this thread, or undefined on the node backend. */
export function ring(): Engine | undefined {
  if (info === undefined) start();
  return engine;
}

/** The backend of this thread (creates the ring on first use). */
export function backend(): FsBackend {
  if (info === undefined) start();
  return info!;
}

/**
 * @internal Switches this thread's backend (tests compare both modes in one
 * process). 'node' closes the ring; 'auto' goes back to io_uring if it can.
 */
export async function _setBackend(kind: 'node' | 'auto'): Promise<FsBackend> {
  const e = engine;
  engine = undefined;
  info = undefined;
  forced = kind === 'node' ? 'node' : undefined;
  if (e !== undefined) await e.ring.close();
  return backend();
}
