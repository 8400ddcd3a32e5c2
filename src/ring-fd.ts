// A registered ring fd (IORING_REGISTER_RING_FDS): io_uring_enter then takes
// an index into the calling thread's table of registered rings, with
// IORING_ENTER_REGISTERED_RING, and skips the fd lookup and reference count
// on every call. The table belongs to the thread, which is fine here: a ring
// is only ever entered from the JS thread that created it. The registration
// holds a reference to the ring, so it is dropped before the ring fd closes.
import { ENTER_REGISTERED_RING, Register } from './constants';
import type { RingCore } from './ring-core';
import { putU64 as put64 } from './memory';
import { systemError } from './errors';

const EINVAL = -22;

/** Registers `ring`'s fd; returns false when the kernel does not support it. */
export function registerRingFd(ring: RingCore): boolean {
  ring._checkOpen();
  if (ring._enterFlag !== 0) return true;
  // struct io_uring_rsrc_update { u32 offset; u32 resv; u64 data; }
  const up = new Uint32Array(4);
  up[0] = 0xffffffff; // any free index; the kernel writes the chosen one back
  put64(up, 2, ring.fd);
  const r = ring._n.register(ring.fd, Register.REGISTER_RING_FDS, up, 1);
  if (r === EINVAL) return false;
  if (r < 0) throw systemError(r, 'io_uring_register');
  ring._enterFd = up[0]!;
  ring._enterFlag = ENTER_REGISTERED_RING;
  ring._beforeRelease.push(() => unregisterRingFd(ring));
  return true;
}

/** Drops the registration made by registerRingFd(); the fd is entered again. */
export function unregisterRingFd(ring: RingCore): void {
  if (ring._enterFlag === 0) return;
  const up = new Uint32Array(4);
  up[0] = ring._enterFd;
  ring._enterFd = ring.fd;
  ring._enterFlag = 0;
  const r = ring._n.register(ring.fd, Register.UNREGISTER_RING_FDS, up, 1);
  if (r < 0) throw systemError(r, 'io_uring_register');
}
