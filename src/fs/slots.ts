// A small sparse registered-file table for uring/fs and the allocator of its
// slots. The table is registered empty (IORING_RSRC_REGISTER_SPARSE); a slot
// is filled either by an openat into a direct descriptor (readFile chains)
// or by a register-update with a plain fd (FileHandle). A slot goes back to
// the free list only once the kernel has emptied it, so no open can land in
// a slot that a pending close is about to clear.
import { Register, RSRC_REGISTER_SPARSE, RLIMIT_NOFILE } from '../constants';
import type { Ring } from '../ring';
import { put64 } from '../sq';
import { internalAddress } from '../memory';

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
  private readonly update = new Uint32Array(4);
  private readonly one = new Int32Array(1);

  constructor(private readonly ring: Ring) {
    const lim = ring._n.getRlimit(RLIMIT_NOFILE);
    const soft = typeof lim === 'number' ? 1024 : lim[0];
    let size = Math.max(0, Math.min(WANTED, soft));
    // struct io_uring_rsrc_register { u32 nr; u32 flags; u64 resv2; u64 data; u64 tags; }
    const reg = new Uint32Array(8);
    reg[0] = size;
    reg[1] = RSRC_REGISTER_SPARSE;
    const rc = size > 0 ? ring._n.register(ring.fd, Register.REGISTER_FILES2, reg, 32) : -22;
    if (rc < 0) size = 0;
    this.size = size;
    this.error = rc < 0 ? rc : 0;
    this.free = new Int32Array(size);
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

  /** Slots in use. */
  get used(): number {
    return this.size - this.top;
  }

  /**
   * Puts a plain fd into `slot` (or -1 to empty it) with a synchronous
   * register-update. Returns 0 or -errno.
   */
  set(slot: number, fd: number): number {
    // struct io_uring_files_update { u32 offset; u32 resv; u64 fds; }
    const u = this.update;
    this.one[0] = fd;
    u[0] = slot;
    u[1] = 0;
    put64(u, 2, internalAddress(this.one));
    const rc = this.ring._n.register(this.ring.fd, Register.REGISTER_FILES_UPDATE, u, 1);
    return rc < 0 ? rc : 0;
  }
}
