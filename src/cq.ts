// The completion queue: CQEs the kernel writes, read in place. The kernel
// publishes the tail; we consume up to it and publish our head.
import { loadAcquire, storeRelease } from './barrier';

export class CompletionQueue {
  /** CQEs as int32 words: user_data low, user_data high, res, flags. */
  readonly cqes: Int32Array;
  readonly mask: number;
  readonly entries: number;
  /** Words per CQE: 4, or 8 with IORING_SETUP_CQE32. */
  readonly stride: number;
  /** Local head: everything before it has been consumed. */
  head: number;
  private readonly ring: Uint32Array;
  private readonly headIdx: number;
  private readonly tailIdx: number;
  private readonly overflowIdx: number;

  constructor(cqRing: ArrayBuffer, off: number[], entries: number, cqe32: boolean) {
    this.ring = new Uint32Array(cqRing);
    this.headIdx = off[0]! >>> 2;
    this.tailIdx = off[1]! >>> 2;
    this.overflowIdx = off[4]! >>> 2;
    this.mask = this.ring[off[2]! >>> 2]!;
    this.entries = entries;
    this.stride = cqe32 ? 8 : 4;
    this.cqes = new Int32Array(cqRing, off[5]!, entries * this.stride);
    this.head = this.ring[this.headIdx]!;
  }

  /** The kernel's tail: CQEs before it are fully written (acquire). */
  tail(): number {
    return loadAcquire(this.ring, this.tailIdx);
  }

  /** Publishes the new head once the CQEs before it have been read (release). */
  advance(head: number): void {
    this.head = head;
    storeRelease(this.ring, this.headIdx, head);
  }

  /** CQEs the kernel had to drop (only on kernels without IORING_FEAT_NODROP). */
  overflow(): number {
    return loadAcquire(this.ring, this.overflowIdx);
  }
}
