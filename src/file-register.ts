// The io_uring_register calls of the file table, each with the struct its
// opcode takes, laid out as 32-bit words (u64 fields little-endian). They
// return the kernel's answer (a count or -errno) and decide nothing.
import { ASYNC_CANCEL_FD, ASYNC_CANCEL_FD_FIXED, ASYNC_CANCEL_USERDATA, Register } from './constants';
import type { RingCore } from './ring-core';
import { internalAddress } from './memory';
import { putU64 as put64 } from './memory';

/** IORING_REGISTER_FILES: a dense array of fds (-1: empty slot). */
export function registerFiles(ring: RingCore, fds: Int32Array): number {
  return ring._n.register(ring.fd, Register.REGISTER_FILES, fds, fds.length);
}

/** IORING_REGISTER_FILES2 with struct io_uring_rsrc_register { u32 nr; u32 flags; u64 resv2; u64 data; u64 tags; }. */
export function registerFiles2(ring: RingCore, nr: number, flags: number,
  fds: Int32Array | undefined, tags: Uint32Array | undefined): number {
  const arg = new Uint32Array(8);
  arg[0] = nr;
  arg[1] = flags;
  if (fds !== undefined) put64(arg, 4, internalAddress(fds));
  if (tags !== undefined) put64(arg, 6, internalAddress(tags));
  return ring._n.register(ring.fd, Register.REGISTER_FILES2, arg, 32);
}

/**
 * Replaces slots from `offset`: IORING_REGISTER_FILES_UPDATE without tags,
 * IORING_REGISTER_FILES_UPDATE2 with them. Returns the count applied.
 */
export function updateFiles(ring: RingCore, offset: number, fds: Int32Array, tags: Uint32Array | undefined): number {
  if (tags === undefined) {
    // struct io_uring_files_update { u32 offset; u32 resv; u64 fds; }
    const arg = new Uint32Array(4);
    arg[0] = offset;
    put64(arg, 2, internalAddress(fds));
    return ring._n.register(ring.fd, Register.REGISTER_FILES_UPDATE, arg, fds.length);
  }
  // struct io_uring_rsrc_update2 { u32 offset; u32 resv; u64 data; u64 tags; u32 nr; u32 resv2; }
  const arg = new Uint32Array(8);
  arg[0] = offset;
  put64(arg, 2, internalAddress(fds));
  put64(arg, 4, internalAddress(tags));
  arg[6] = fds.length;
  return ring._n.register(ring.fd, Register.REGISTER_FILES_UPDATE2, arg, 32);
}

/** IORING_UNREGISTER_FILES. */
export function unregisterFiles(ring: RingCore): number {
  return ring._n.register(ring.fd, Register.UNREGISTER_FILES, null, 0);
}

/** IORING_REGISTER_FILE_ALLOC_RANGE with struct io_uring_file_index_range { u32 off; u32 len; u64 resv; }. */
export function fileAllocRange(ring: RingCore, offset: number, length: number): number {
  const arg = new Uint32Array(4);
  arg[0] = offset;
  arg[1] = length;
  return ring._n.register(ring.fd, Register.REGISTER_FILE_ALLOC_RANGE, arg, 0);
}

/**
 * Asks the kernel whether `slot` holds a file, without changing anything:
 * IORING_REGISTER_SYNC_CANCEL by registered file AND a user_data no request
 * ever carries (generation 0), so nothing matches. The kernel looks the slot
 * up first and answers EBADF when it is empty, ENOENT when it holds a file.
 * struct io_uring_sync_cancel_reg { u64 addr; s32 fd; u32 flags;
 * __kernel_timespec timeout; u8 opcode; u8 pad[7]; u64 pad2[3]; }.
 * Returns 1 (occupied), 0 (empty) or -1 when the kernel cannot tell (before
 * Linux 6.6, which lacks ASYNC_CANCEL_USERDATA, or a restricted ring).
 */
export function slotState(ring: RingCore, slot: number): number {
  const arg = new Uint32Array(16);
  arg[0] = 0xffffffff; // user_data: slot 0xffffffff, generation 0
  arg[2] = slot;
  arg[3] = ASYNC_CANCEL_FD | ASYNC_CANCEL_FD_FIXED | ASYNC_CANCEL_USERDATA;
  arg.fill(0xffffffff, 4, 8); // no timeout: tv_sec = tv_nsec = -1
  const r = ring._n.register(ring.fd, Register.REGISTER_SYNC_CANCEL, arg, 1);
  return r === -2 ? 1 : r === -9 ? 0 : -1;
}
