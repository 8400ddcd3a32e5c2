// The registered file table of one ring. The library keeps its own view of the
// table (size, occupied slots, resource tags) and changes it only on the
// kernel's answer: a register call's return, or the CQE of an operation that
// installs or removes a file. With nothing in flight the view equals what the
// kernel shows in /proc/self/fdinfo/<ring fd>.
import { EventEmitter } from 'node:events';
import { REGISTER_FILES_SKIP, RSRC_REGISTER_SPARSE } from './constants';
import * as sys from './file-register';
import { FixedFile } from './files';
import type { RingCore } from './ring-core';
import type { SlotChange } from './operation';
import { ResourceTags, LoopHold, Mailbox, FILE_TAG_MAX } from './file-events';
import { UringError, UringSystemError, invalidArgValue, ringClosed, systemError } from './errors';
import { validateInteger } from './validators';
import { MAX_TABLE_SIZE, MSG_BIT, ensureNofile, explainRegisterError, validateFdList } from './file-limits';
import * as direct from './direct';
import type {
  AcceptDirectOptions, AsyncUpdateResult, DirectOpenOptions, DirectOpen2Options, InstallOptions,
  SendFileOptions, SlotOptions,
} from './direct';
import type { PathLike } from './ops/paths';
import type { FileRef } from './files';
import type { OpOptions } from './options';

export { MAX_TABLE_SIZE };
const SLOT_MASK = 0x3fffffff;

/** Options of register() and registerSparse(). */
export interface RegisterOptions {
  /**
   * Give every file a resource tag, so that the kernel reports when it has
   * really released the file (see released() and the 'release' event).
   */
  tags?: boolean;
}

/**
 * The outcome of update(). The kernel applies the entries in order and stops
 * at the first one it refuses; `applied` counts the entries it applied.
 */
export interface UpdateResult {
  /** Entries applied, from the first. */
  applied: number;
  /**
   * Index in `fds` of the entry the kernel refused, or -1 when all were
   * applied. A slot whose new fd was refused is left empty: the kernel
   * removes the old file before it looks at the new fd.
   */
  failedIndex: number;
  /** The refused fd, if any. */
  failedFd: number | undefined;
  /** Why it was refused (`EBADF`, ...), if it was. */
  error: UringSystemError | undefined;
}

/** A file another ring passed to this one (MSG_RING). */
export interface ReceivedFile {
  /** The slot in this ring's table that now holds the file. */
  file: FixedFile;
  /** The 32-bit value the sender attached. */
  data: number;
}

/**
 * The registered file table of a ring, from `ring.files`. Registered files
 * skip the per-request file lookup and reference count; direct descriptors
 * live in the table without ever taking an fd. Events: `'release'` (slot)
 * when the kernel has released a tagged file.
 *
 * @example
 * ```ts
 * const [file] = ring.files.register([fd]);
 * closeSync(fd);                      // the slot keeps the file open
 * await ring.read(file, buf, 0);      // IOSQE_FIXED_FILE is set for you
 * const log = await ring.files.openat('/tmp/log', O_WRONLY | O_CREAT);
 * await ring.files.close(log);
 * ```
 */
export class FileTable extends EventEmitter {
  /** In update(): leave this slot as it is. */
  static readonly SKIP = REGISTER_FILES_SKIP;
  /** @internal */ readonly _ring: RingCore;
  private size_ = 0;
  private used = new Uint8Array(0);
  private count = 0;
  private tagged_ = false;
  /** Current occupant's tag per slot (0: untagged). */
  private tagOf = new Uint32Array(0);
  private readonly tags = new ResourceTags();
  private range: [number, number] = [0, 0];
  private readonly inbox = new Mailbox<ReceivedFile>();
  private readonly hold = new LoopHold();
  // Requests in flight that may change a slot, and slots whose order of
  // changes is unknown. The kernel runs such a request at some moment before
  // its CQE: when another change to the slot was made or submitted meanwhile,
  // the order of CQEs need not be the order of effects, and the slot is asked
  // of the kernel when the CQE arrives.
  private readonly busy = new Map<number, number>();
  private allocBusy = 0;
  private readonly contested = new Set<number>();
  private allContested = false;

  /** @internal Use `ring.files`. */
  constructor(ring: RingCore) {
    super();
    this._ring = ring;
    // Chain with a handler installed before: registered buffers tag with bit
    // 30 of the low word, which file tag ids never use.
    const prev = ring._tagHandler;
    ring._tagHandler = (lo, hi, res) => {
      if ((hi & MSG_BIT) !== 0 || (lo & FILE_TAG_MAX) === lo) this.onTagCqe(lo, hi, res);
      else if (prev !== undefined) prev(lo, hi, res);
    };
    ring._beforeRelease.push(() => this.onRingRelease());
  }

  /** Slots in the table (0 when none is registered). */
  get size(): number { return this.size_; }
  /** Whether a table is registered. */
  get registered(): boolean { return this.size_ > 0; }
  /** Whether the table was registered with `tags: true`. */
  get tagged(): boolean { return this.tagged_; }
  /** Slots that hold a file. */
  get occupiedCount(): number { return this.count; }
  /** The range the kernel allocates from for FILE_INDEX_ALLOC: [offset, length]. */
  get allocRange(): readonly [number, number] { return this.range; }

  /** Indexes of the slots that hold a file, in order. */
  occupied(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.size_; s++) if (this.used[s] === 1) out.push(s);
    return out;
  }

  /** Whether `slot` holds a file. */
  has(slot: number): boolean {
    return this.used[this.checkSlot(slot, 'slot')] === 1;
  }

  /** A handle for `slot` (empty or not) to pass to operations. */
  get(slot: number): FixedFile {
    return new FixedFile(this._ring, this.checkSlot(slot, 'slot'));
  }

  /**
   * Registers `fds` as the table (IORING_REGISTER_FILES); -1 leaves a slot
   * empty. The kernel takes its own reference: the fds may be closed after.
   * Raises RLIMIT_NOFILE's soft limit when the table is larger.
   * @throws EBUSY if a table is registered; EBADF (with the offending index
   * when it can be found, and a hint for ring fds); EMFILE past the limit.
   */
  register(fds: readonly number[], options?: RegisterOptions): FixedFile[] {
    const list = validateFdList(fds, 'fds', -1, MAX_TABLE_SIZE);
    const tags = this.tagOption(options);
    // After the caller's input is read: a getter may have closed the ring.
    this._ring._checkOpen();
    ensureNofile(this._ring._n, list.length);
    const data = new Int32Array(list);
    let tagWords: Uint32Array | undefined;
    if (tags) tagWords = this.tags.allocate(list);
    const r = tags
      ? sys.registerFiles2(this._ring, list.length, 0, data, tagWords)
      : sys.registerFiles(this._ring, data);
    if (r < 0) throw explainRegisterError(r, list, this.size_);
    this.reset(list.length, tags);
    for (let s = 0; s < list.length; s++) {
      if (list[s]! >= 0) this.occupy(s, tagWords === undefined ? 0 : tagWords[s * 2]!);
    }
    return list.map((_, s) => new FixedFile(this._ring, s));
  }

  /**
   * Registers a table of `n` empty slots (IORING_RSRC_REGISTER_SPARSE), to be
   * filled by update(), direct opens, accepts and passed files.
   * @throws EBUSY if a table is registered; EMFILE past RLIMIT_NOFILE.
   */
  registerSparse(n: number, options?: RegisterOptions): void {
    validateInteger(n, 'n', 1, MAX_TABLE_SIZE);
    const tags = this.tagOption(options);
    this._ring._checkOpen();
    ensureNofile(this._ring._n, n);
    let r = sys.registerFiles2(this._ring, n, RSRC_REGISTER_SPARSE, undefined, undefined);
    if (r === -22 && !tags) {
      // Kernels before 5.19 have no sparse flag; a table of -1 is the same.
      r = sys.registerFiles(this._ring, new Int32Array(n).fill(-1));
    }
    if (r < 0) throw explainRegisterError(r, [], this.size_);
    this.reset(n, tags);
  }

  /**
   * Replaces slots `offset`, `offset + 1`, ... with `fds` in place: an fd
   * installs that file, -1 empties the slot, FileTable.SKIP keeps it. Files
   * replaced or removed stay alive until I/O in flight on them completes.
   * The kernel stops at the first entry it refuses; the result says which.
   * @throws ENXIO-like ERR_URING_NO_FILE_TABLE without a table, and
   * ERR_OUT_OF_RANGE when the range does not fit in it (before any syscall).
   */
  update(offset: number, fds: readonly number[]): UpdateResult {
    this.needTable();
    validateInteger(offset, 'offset', 0, this.size_ - 1);
    const list = validateFdList(fds, 'fds', REGISTER_FILES_SKIP, this.size_ - offset);
    // The elements were read after the first checks: look at the table again.
    this._ring._checkOpen();
    this.needTable();
    validateInteger(offset, 'offset', 0, this.size_ - list.length);
    let done = 0;
    while (done < list.length) {
      const part = list.slice(done);
      const at = offset + done;
      const tagWords = this.tagged_ ? this.tags.allocate(part) : undefined;
      const r = sys.updateFiles(this._ring, at, new Int32Array(part), tagWords);
      if (r < 0) {
        // The kernel returns an error only when the first entry it tried was
        // refused, so the failing entry is exactly `done`. It empties a slot
        // before it looks up the new fd: a refused fd leaves its slot empty.
        if (r === -9) { this.touched(at); this.vacate(at); }
        this.reapTags();
        return { applied: done, failedIndex: done, failedFd: list[done], error: explainRegisterError(r, [list[done]!], this.size_, done) };
      }
      for (let k = 0; k < r; k++) {
        const fd = part[k]!;
        if (fd === REGISTER_FILES_SKIP) continue;
        this.touched(at + k);
        if (fd === -1) this.vacate(at + k);
        else this.occupy(at + k, tagWords === undefined ? 0 : tagWords[k * 2]!);
      }
      if (r === 0) break;
      done += r;
    }
    this.reapTags();
    return { applied: done, failedIndex: -1, failedFd: undefined, error: undefined };
  }

  /**
   * Unregisters the table. Files with I/O in flight stay alive until it
   * completes; tagged files report their release as usual.
   * @throws ERR_URING_NO_FILE_TABLE when no table is registered.
   */
  unregister(): void {
    this._ring._checkOpen();
    this.needTable();
    const r = sys.unregisterFiles(this._ring);
    if (r < 0) throw systemError(r, 'io_uring_register');
    const tagged = this.tagged_;
    this.reset(0, false);
    if (tagged) this.reapTags();
  }

  /**
   * Sets the range of slots the kernel picks from when asked to allocate
   * (IORING_REGISTER_FILE_ALLOC_RANGE, Linux 6.0+). Registering a table resets
   * it to the whole table.
   */
  setAllocRange(offset: number, length: number): void {
    this._ring._checkOpen();
    this.needTable();
    validateInteger(offset, 'offset', 0, this.size_);
    validateInteger(length, 'length', 0, this.size_ - offset);
    const r = sys.fileAllocRange(this._ring, offset, length);
    if (r < 0) throw systemError(r, 'io_uring_register');
    this.range = [offset, length];
  }

  /**
   * Resolves when the kernel has released every tagged file that occupies or
   * occupied `file`'s slot: after it was replaced or removed and all I/O in
   * flight on it completed (or when the ring is released).
   * @throws ERR_URING_NO_TAGS for a table registered without tags, and
   * ERR_URING_UNTAGGED_FILE when the slot holds a file the kernel installed
   * itself (direct open, accept, socket, a passed file), which has no tag.
   */
  released(file: FixedFile | number): Promise<void> {
    const slot = this.checkSlot(FixedFile._is(file) ? FixedFile._slotOf(file) : file, 'file');
    if (!this.tagged_) throw new UringError('ERR_URING_NO_TAGS', 'The file table was registered without { tags: true }');
    if (this.used[slot] === 1 && this.tagOf[slot] === 0) {
      throw new UringError('ERR_URING_UNTAGGED_FILE',
        `Slot ${slot} holds a file the kernel installed without a tag (direct open, accept, socket or a passed file); its release cannot be observed`);
    }
    const all = this.tags.whenReleased(slot);
    this.holdLoop();
    return all;
  }

  /**
   * Resolves with the next file another ring passes to this one (see send()).
   * Keeps the event loop alive while it waits.
   */
  receive(): Promise<ReceivedFile> {
    if (!this.inbox.ready && this._ring.closed) return Promise.reject(ringClosed());
    const next = this.inbox.take();
    this.holdLoop();
    return next;
  }

  // ---- direct descriptors (see direct.ts) ----------------------------------

  /** openat(2) straight into a slot; resolves with the FixedFile. See direct.openat. */
  openat(path: PathLike, flags?: number, mode?: number, options?: DirectOpenOptions): Promise<FixedFile> {
    return this._ring._submit(direct.openat(this, path, flags, mode, options));
  }
  /** openat2(2) straight into a slot. */
  openat2(path: PathLike, flags?: number, mode?: number, options?: DirectOpen2Options): Promise<FixedFile> {
    return this._ring._submit(direct.openat2(this, path, flags, mode, options));
  }
  /** socket(2) straight into a slot. */
  socket(domain: number, type: number, protocol?: number, options?: SlotOptions): Promise<FixedFile> {
    return this._ring._submit(direct.socket(this, domain, type, protocol, options));
  }
  /** accept(2) straight into a slot. */
  accept(listener: FileRef, options?: AcceptDirectOptions): Promise<FixedFile> {
    return this._ring._submit(direct.accept(this, listener, options));
  }
  /** Closes a slot (IORING_OP_CLOSE with file_index). */
  close(file: FixedFile, options?: OpOptions): Promise<void> {
    return this._ring._submit(direct.close(this, file, options));
  }
  /** Installs the slot's file as a regular fd (IORING_OP_FIXED_FD_INSTALL); resolves with the fd. */
  install(file: FixedFile, options?: InstallOptions): Promise<number> {
    return this._ring._submit(direct.install(this, file, options));
  }
  /** The asynchronous IORING_OP_FILES_UPDATE, at `offset` or into kernel-chosen slots ('alloc'). */
  updateAsync(offset: number | 'alloc', fds: readonly number[], options?: OpOptions): Promise<AsyncUpdateResult> {
    return this._ring._submit(direct.updateAsync(this, offset, fds, options));
  }
  /** Passes the slot's file to another ring's table (IORING_OP_MSG_RING); resolves with the target slot. */
  send(file: FixedFile, target: RingCore | number, options?: SendFileOptions): Promise<number> {
    return this._ring._submit(direct.send(this, file, target, options));
  }

  /**
   * @internal The bracket of a request that changes `n` slots from `slot`
   * (-1: slots the kernel chooses): `landed(res)` names the slots it changed
   * and `apply(res)` records the change, when its CQE arrives.
   */
  _change(slot: number, n: number, landed: (res: number) => readonly number[], apply: (res: number) => void): SlotChange {
    return {
      begin: () => this._begin(slot, n),
      settle: (res) => this._settle(slot, n, landed(res), () => apply(res)),
    };
  }

  // ---- internals -----------------------------------------------------------

  /** @internal Throws unless a table is registered. */
  needTable(): void {
    if (this.size_ === 0) {
      throw new UringError('ERR_URING_NO_FILE_TABLE',
        'No file table is registered on this ring: call ring.files.register() or ring.files.registerSparse() first');
    }
  }

  /** @internal Validates a slot index against the table. */
  checkSlot(slot: unknown, name: string): number {
    this.needTable();
    return validateInteger(slot, name, 0, this.size_ - 1);
  }

  /**
   * @internal A request that may change `n` slots from `slot` (-1: slots the
   * kernel chooses) is being submitted. Pair with _settle().
   */
  _begin(slot: number, n = 1): void {
    if (slot < 0) {
      if (this.busy.size > 0 || this.allocBusy > 0) this.allContested = true;
      this.allocBusy++;
      return;
    }
    for (let s = slot; s < slot + n; s++) {
      const b = this.busy.get(s) ?? 0;
      if (b > 0 || this.allocBusy > 0) this.contested.add(s);
      this.busy.set(s, b + 1);
    }
  }

  /**
   * @internal The request begun with _begin(slot, n) completed: `apply`
   * records its effect on the slots it `landed` on. Where other changes
   * raced with it, the kernel is asked what those slots hold instead.
   */
  _settle(slot: number, n: number, landed: readonly number[], apply: () => void): void {
    const unsure = landed.filter((s) => s >= 0 && s < this.size_ && (this.allContested || this.contested.has(s)));
    apply();
    for (const s of unsure) {
      const state = sys.slotState(this._ring, s);
      if (state === 1 && this.used[s] === 0) this.occupy(s, 0);
      else if (state === 0) this.vacate(s);
    }
    if (slot < 0) this.allocBusy--;
    for (let s = slot; s >= 0 && s < slot + n; s++) {
      const b = this.busy.get(s)! - 1;
      if (b > 0) this.busy.set(s, b);
      else this.busy.delete(s);
      if (b === 0 && this.allocBusy === 0) this.contested.delete(s);
    }
    if (this.busy.size === 0 && this.allocBusy === 0) {
      this.allContested = false;
      this.contested.clear();
    }
  }

  /** A synchronous call changed `slot`: requests in flight on it are now unordered with it. */
  private touched(slot: number): void {
    if (this.busy.has(slot) || this.allocBusy > 0) this.contested.add(slot);
  }

  /** @internal The kernel installed an untagged file in `slot`. */
  _installed(slot: number): void {
    if (slot >= 0 && slot < this.size_) this.occupy(slot, 0);
  }

  /** @internal The kernel emptied `slot`. */
  _removed(slot: number): void {
    if (slot >= 0 && slot < this.size_) this.vacate(slot);
  }

  private occupy(slot: number, tag: number): void {
    if (this.used[slot] === 0) { this.used[slot] = 1; this.count++; }
    this.tagOf[slot] = tag;
    if (tag !== 0) this.tags.record(tag, slot);
  }

  private vacate(slot: number): void {
    if (this.used[slot] === 1) { this.used[slot] = 0; this.count--; }
    this.tagOf[slot] = 0;
  }

  private reset(size: number, tagged: boolean): void {
    if (this.busy.size > 0 || this.allocBusy > 0) this.allContested = true;
    this.size_ = size;
    this.used = new Uint8Array(size);
    this.tagOf = new Uint32Array(size);
    this.count = 0;
    this.tagged_ = tagged;
    this.range = [0, size];
  }

  private tagOption(options: RegisterOptions | undefined): boolean {
    if (options === undefined) return false;
    if (options === null || typeof options !== 'object') throw invalidArgValue('options', options, 'must be an object');
    const { tags } = options; // read once
    if (tags === undefined) return false;
    if (typeof tags !== 'boolean') throw invalidArgValue('options.tags', tags, 'must be a boolean');
    if (tags && !this._ring.features.rsrcTags) {
      throw new UringError('ERR_URING_UNSUPPORTED', 'Resource tags need Linux 5.13 or later (IORING_FEAT_RSRC_TAGS)');
    }
    return tags;
  }

  private onTagCqe(lo: number, hi: number, res: number): void {
    if ((hi & MSG_BIT) !== 0) {
      const encoded = hi & SLOT_MASK;
      const slot = encoded === 0 ? res : encoded - 1;
      this._installed(slot);
      this.inbox.push({ file: new FixedFile(this._ring, slot), data: lo });
      this.idleCheck();
      return;
    }
    const slot = this.tags.released(lo);
    if (slot === undefined) return;
    this.idleCheck();
    this.emit('release', slot);
  }

  /** A tag CQE posted during a register call is read at once. */
  private reapTags(): void {
    if (this.tags.outstanding) this._ring.reap();
  }

  /**
   * While someone waits for a release or a passed file, the event loop must
   * stay alive: with nothing in flight the ring itself does not hold it.
   */
  private holdLoop(): void {
    if (this.inbox.waiting || this.tags.waiting) this.hold.set(true);
  }

  private idleCheck(): void {
    if (!this.inbox.waiting && !this.tags.waiting) this.hold.set(false);
  }

  /** The ring is about to close its fd: unregister so tags report, then settle the rest. */
  private onRingRelease(): void {
    if (this.size_ > 0 && this.tagged_) {
      if (sys.unregisterFiles(this._ring) >= 0) this._ring.reap();
    }
    this.reset(0, false);
    this.tags.settleAll();
    this.inbox.failAll(ringClosed());
    this.idleCheck();
  }
}
