// The submission queue as TypeScript sees it: SQE slots in shared memory, a
// local tail that is published in one store per batch, and a staging area for
// entries that do not fit yet. Staged entries keep their order, and a linked
// chain is staged or placed whole, so a chain is never split between two
// io_uring_enter calls (the kernel would cut the link at the boundary).
import { SQE_WORDS } from './constants';
import { loadAcquire, storeFence, storeRelease } from './barrier';

export class SubmissionQueue {
  /** All SQEs, 16 words each. */
  readonly sqes: Uint32Array;
  readonly entries: number;
  readonly mask: number;
  private readonly ring: Uint32Array;
  private readonly headIdx: number;
  private readonly tailIdx: number;
  private readonly flagsIdx: number;
  private readonly droppedIdx: number;
  /** Local tail: SQEs up to here are written; the kernel sees them after publish(). */
  tail: number;
  /** Entries waiting for room in the ring, 16 words each, and the chain length at each chain head. */
  private staged: Uint32Array = new Uint32Array(0);
  private stagedChains: number[] = [];
  private stagedWords = 0;

  constructor(sqRing: ArrayBuffer, sqes: ArrayBuffer, off: number[], entries: number, noSqArray: boolean) {
    this.ring = new Uint32Array(sqRing);
    this.sqes = new Uint32Array(sqes);
    this.headIdx = off[0]! >>> 2;
    this.tailIdx = off[1]! >>> 2;
    this.flagsIdx = off[4]! >>> 2;
    this.droppedIdx = off[5]! >>> 2;
    this.mask = this.ring[off[2]! >>> 2]!;
    this.entries = entries;
    this.tail = this.ring[this.tailIdx]!;
    this.cachedHead = this.ring[this.headIdx]!;
    this.published = this.tail;
    if (!noSqArray) {
      // The indirection array maps ring positions to SQE indexes. An identity
      // map written once lets every later submission skip it, as liburing does.
      const array = new Uint32Array(sqRing, off[6]!, entries);
      for (let i = 0; i < entries; i++) array[i] = i;
    }
  }

  /** Kernel's consumption point. */
  head(): number {
    return loadAcquire(this.ring, this.headIdx);
  }

  /** Free SQE slots in the ring right now. */
  space(): number {
    this.cachedHead = this.head();
    return this.entries - ((this.tail - this.cachedHead) >>> 0);
  }

  /**
   * Whether `n` SQEs fit. The kernel's head only moves forward, so a stale
   * copy can only under-estimate the room; it is re-read only when it says no.
   */
  fits(n: number): boolean {
    if (this.entries - ((this.tail - this.cachedHead) >>> 0) >= n) return true;
    return this.space() >= n;
  }
  private cachedHead = 0;

  /** Entries written but not yet consumed by the kernel. */
  unconsumed(): number {
    return (this.tail - this.head()) >>> 0;
  }

  hasStaged(): boolean {
    return this.stagedWords !== 0;
  }

  stagedCount(): number {
    return this.stagedWords / SQE_WORDS;
  }

  /** Word index of the next free SQE in the ring; the caller checked space(). */
  take(): number {
    const idx = (this.tail & this.mask) * SQE_WORDS;
    this.tail = (this.tail + 1) >>> 0;
    return idx;
  }

  /**
   * Word index of a new entry in the staging area (the returned array is
   * `stagingArray()`); `chain` is the length of the chain it starts, or 0 for
   * an entry that continues the chain before it.
   */
  stage(chain: number): number {
    const at = this.stagedWords;
    if (at + SQE_WORDS > this.staged.length) {
      const next = new Uint32Array(Math.max(SQE_WORDS * 64, this.staged.length * 2));
      next.set(this.staged);
      this.staged = next;
    }
    this.stagedWords = at + SQE_WORDS;
    if (chain > 0) this.stagedChains.push(chain);
    return at;
  }

  stagingArray(): Uint32Array {
    return this.staged;
  }

  /** Moves whole staged chains into the ring while they fit; returns how many entries moved. */
  drainStaged(): number {
    let moved = 0;
    let from = 0;
    let chains = 0;
    let space = this.space();
    for (const len of this.stagedChains) {
      if (len > space) break;
      for (let k = 0; k < len; k++) {
        const dst = this.take();
        this.sqes.set(this.staged.subarray(from, from + SQE_WORDS), dst);
        from += SQE_WORDS;
      }
      space -= len;
      moved += len;
      chains++;
    }
    if (chains > 0) {
      this.stagedChains.splice(0, chains);
      this.staged.copyWithin(0, from, this.stagedWords);
      this.stagedWords -= from;
      this.staged.fill(0, this.stagedWords, this.stagedWords + from);
    }
    return moved;
  }

  /** Tail at the last publish(). */
  published: number;

  /** Makes written SQEs visible to the kernel; returns how many are new. */
  publish(sqpoll: boolean): number {
    const fresh = (this.tail - this.published) >>> 0;
    this.published = this.tail;
    if (sqpoll) {
      // The kernel thread reads the tail concurrently: every SQE word written
      // above must be visible before the tail that covers it, and the flags
      // read that follows (NEED_WAKEUP) must not move above this store.
      storeFence(this.ring, this.tailIdx, this.tail);
    } else {
      // io_uring_enter reads the tail inside the syscall, which orders it; a
      // release store costs little and keeps the JIT from sinking SQE writes.
      storeRelease(this.ring, this.tailIdx, this.tail);
    }
    return fresh;
  }

  /** IORING_SQ_* flags the kernel sets (NEED_WAKEUP, CQ_OVERFLOW, TASKRUN). */
  flags(): number {
    return loadAcquire(this.ring, this.flagsIdx);
  }

  dropped(): number {
    return loadAcquire(this.ring, this.droppedIdx);
  }
}

