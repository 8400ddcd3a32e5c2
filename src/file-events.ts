// Events of a registered file table that arrive as CQEs of no request:
// resource tags, and files other rings pass in.
//
// Resource tags of a registered file table. Each file registered with a tag
// makes the kernel post a CQE whose user_data is that tag once it has really
// released the file: after the slot was emptied or replaced and every request
// still using the file completed. Tags are u64 values lo = id, hi = TAG_BIT,
// which no request's user_data can equal (request generations stay below
// 2^31), so RingCore routes them here.
import { TAG_BIT } from './requests';

/** Largest file tag id: ids stay below bit 30, which registered buffers' tags use. */
export const FILE_TAG_MAX = 0x3fffffff;

/** @internal Live tags, who waits for them, and fresh ids. */
export class ResourceTags {
  /** Tags the kernel has not released yet: id -> slot. */
  private readonly live = new Map<number, number>();
  private readonly waiters = new Map<number, (() => void)[]>();
  private next = 1;

  /** Whether anyone waits for a release. */
  get waiting(): boolean { return this.waiters.size > 0; }
  /** Whether any tag is outstanding. */
  get outstanding(): boolean { return this.live.size > 0; }

  /** Tag words (u64 little-endian) for each fd >= 0; 0 for -1 and skips, as the kernel requires. */
  allocate(fds: readonly number[]): Uint32Array {
    const t = new Uint32Array(fds.length * 2);
    for (let k = 0; k < fds.length; k++) {
      if (fds[k]! < 0) continue;
      let id = this.next;
      while (id === 0 || this.live.has(id)) id = (id + 1) & FILE_TAG_MAX;
      this.next = (id + 1) & FILE_TAG_MAX;
      t[k * 2] = id;
      t[k * 2 + 1] = TAG_BIT;
    }
    return t;
  }

  /** The kernel accepted tag `id` for a file in `slot`. */
  record(id: number, slot: number): void {
    this.live.set(id, slot);
  }

  /** Resolves when every outstanding tag of `slot` has been released. */
  whenReleased(slot: number): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const [id, s] of this.live) {
      if (s !== slot) continue;
      pending.push(new Promise<void>((resolve) => {
        let list = this.waiters.get(id);
        if (list === undefined) this.waiters.set(id, list = []);
        list.push(resolve);
      }));
    }
    return Promise.all(pending).then(() => undefined);
  }

  /** A tag CQE arrived: returns the slot it belonged to, or undefined for an unknown tag. */
  released(id: number): number | undefined {
    const slot = this.live.get(id);
    if (slot === undefined) return undefined;
    this.live.delete(id);
    const list = this.waiters.get(id);
    if (list !== undefined) {
      this.waiters.delete(id);
      for (const w of list) w();
    }
    return slot;
  }

  /** The ring is gone and its files with it: settle every waiter. */
  settleAll(): void {
    for (const list of this.waiters.values()) for (const w of list) w();
    this.waiters.clear();
    this.live.clear();
  }
}

/**
 * @internal Keeps the event loop alive while someone waits for an event that
 * arrives as a CQE with nothing in flight (a tag, a passed file): the ring
 * itself holds the loop only while requests are live.
 */
export class LoopHold {
  private timer: NodeJS.Timeout | undefined;
  set(needed: boolean): void {
    if (needed) {
      this.timer ??= setInterval(() => { /* holds the loop */ }, 1 << 30);
    } else if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** @internal Values that arrive before or after someone asks for them, in order. */
export class Mailbox<T> {
  private readonly queue: T[] = [];
  private readonly takers: { resolve: (v: T) => void; reject: (e: unknown) => void }[] = [];
  /** Whether someone waits in take(). */
  get waiting(): boolean { return this.takers.length > 0; }
  push(v: T): void {
    const t = this.takers.shift();
    if (t !== undefined) t.resolve(v);
    else this.queue.push(v);
  }
  /** The next value, now or when it arrives. */
  take(): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    return new Promise((resolve, reject) => { this.takers.push({ resolve, reject }); });
  }
  /** Whether a value is queued. */
  get ready(): boolean { return this.queue.length > 0; }
  failAll(err: unknown): void {
    for (const t of this.takers.splice(0)) t.reject(err);
  }
}
