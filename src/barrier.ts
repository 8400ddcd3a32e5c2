// Memory ordering between this thread and the kernel, in one place.
//
// The rings are plain (non-shared) ArrayBuffers over memory the kernel maps
// into the process too. Atomics work on such buffers and keep both the JIT and
// the CPU from reordering around them: Atomics.load is an acquire load and
// Atomics.store a sequentially consistent store (a full fence on x86-64 and
// arm64), which is stronger than the release liburing uses. Plain typed-array
// accesses are used for everything the syscall itself orders.

/** Load-acquire: a value the kernel publishes (CQ tail, SQ head, ring flags). */
export function loadAcquire(view: Uint32Array, index: number): number {
  return Atomics.load(view, index);
}

/** Store-release: a value we publish to a kernel that may be reading concurrently. */
export function storeRelease(view: Uint32Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}

/**
 * Store followed by a full fence. Needed before reading IORING_SQ_NEED_WAKEUP
 * under SQPOLL: the kernel thread sets the flag and then re-reads the tail, so
 * our tail store must be visible before we read the flag, or both sides can
 * miss each other and the new entries wait for the next wakeup.
 */
export function storeFence(view: Uint32Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}

/**
 * Store-release of a 16-bit value: the tail of a provided-buffer ring. No
 * syscall follows it (the kernel picks buffers whenever a request needs one,
 * possibly on another CPU at this very moment), so the buffer entries written
 * before must be visible before the tail that covers them.
 */
export function storeRelease16(view: Uint16Array, index: number, value: number): void {
  Atomics.store(view, index, value);
}
