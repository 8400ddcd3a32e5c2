// The allocator of the slots uring/fs uses in its ring's registered file
// table (ring.files), registered empty (IORING_RSRC_REGISTER_SPARSE); a slot
// is filled either by an openat into a direct descriptor (readFile chains)
// or by a register-update with a plain fd (FileHandle). A slot goes back to
// the free list only once the kernel has emptied it, so no open can land in
// a slot that a pending close is about to clear.
//
// A readFile chain done with its file retires the slot instead of closing
// it: an openat into an occupied slot replaces the file there (the kernel
// releases the old one), so the next chain opens over it and no CLOSE is
// needed while readFiles follow each other. Slots still retired once the
// promise reactions of the moment have run (a nextTick queued from a
// reaction runs when the microtask queue is empty) are closed then, so a
// file is not kept open while the program goes on to other work.
import { RLIMIT_NOFILE } from '../constants';
import { closeSlot } from '../ops/paths';
import type { Ring } from '../ring';

/** Slots registered when the file limit allows it. */
const WANTED = 4096;

/** The registered file table of the default ring, managed by uring/fs. */
export class SlotTable {
  /** Table size; 0 when registration failed (then nothing is registered). */
  readonly size: number;
  /** Why registration failed, when it did. */
  readonly error: number;
  private readonly free: Int32Array;
  private top = 0;
  /** Retired slots: each still holds a file nobody uses. */
  private readonly retired: Int32Array;
  private nRetired = 0;
  private sweepScheduled = false;
  private readonly sweepCb = (): void => this.sweep();

  constructor(private readonly ring: Ring) {
    const lim = ring._n.getRlimit(RLIMIT_NOFILE);
    const soft = typeof lim === 'number' ? 1024 : lim[0];
    let size = Math.max(0, Math.min(WANTED, soft));
    let error = 0;
    // The ring's own file table, so that ring.files reports these slots too
    // and a table the user registered first is respected (EBUSY: no slots).
    try {
      if (size > 0) ring.files.registerSparse(size);
    } catch (err) {
      size = 0;
      error = (err as { errno?: number }).errno ?? -22;
    }
    this.size = size;
    this.error = error;
    this.free = new Int32Array(size);
    this.retired = new Int32Array(size);
    // Lowest slots first: the kernel's table lookups stay in a few cache lines.
    for (let k = 0; k < size; k++) this.free[k] = size - 1 - k;
    this.top = size;
  }

  /** A free slot, or -1 when none is left. */
  take(): number {
    return this.top === 0 ? -1 : this.free[--this.top]!;
  }

  /** Returns a slot the kernel has emptied. */
  give(slot: number): void {
    this.free[this.top++] = slot;
  }

  /** A slot for an openat into a direct descriptor: a retired one (the open replaces its file) or a free one; -1 when none is left. */
  takeForOpen(): number {
    return this.nRetired > 0 ? this.retired[--this.nRetired]! : this.take();
  }

  /** A slot whose file is no longer used: reused by the next open, or closed when the microtask queue is empty. */
  retire(slot: number): void {
    this.retired[this.nRetired++] = slot;
    if (!this.sweepScheduled) {
      this.sweepScheduled = true;
      process.nextTick(this.sweepCb);
    }
  }

  /** Closes the retired slots; each is free again at its close's CQE. */
  private sweep(): void {
    this.sweepScheduled = false;
    while (this.nRetired > 0) {
      const slot = this.retired[--this.nRetired]!;
      try {
        this.ring._startInternal(closeSlot(slot), () => this.give(slot));
      } catch {
        // The ring is closed: its file table, and the files, went with it.
        this.nRetired = 0;
      }
    }
  }

  /** Slots in use (retired ones included). */
  get used(): number {
    return this.size - this.top;
  }

  /**
   * Puts a plain fd into `slot` (or -1 to empty it) with a synchronous
   * register-update through the ring's file table. Returns 0 or -errno.
   */
  set(slot: number, fd: number): number {
    const r = this.ring.files.update(slot, [fd]);
    return r.error === undefined ? 0 : (r.error as { errno?: number }).errno ?? -9;
  }

}
