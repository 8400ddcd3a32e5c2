// The registered-file and registered-buffer calls `uring bench` needs, kept
// in this one small file so that it can move onto the library's own
// registration APIs without touching the benchmark code.
import { Register, Op, IOSQE_FIXED_FILE } from '../constants';
import { systemError } from '../errors';
import { FixedFile } from '../files';
import { viewAddress } from '../memory';
import { prep } from '../sq';
import type { Ring } from '../ring';

/**
 * Registers `fds` as the ring's file table (IORING_REGISTER_FILES) and
 * returns one FixedFile per slot. Throws a system error (EBUSY when the ring
 * already has a table, EMFILE above RLIMIT_NOFILE).
 */
export function registerFiles(ring: Ring, fds: readonly number[]): FixedFile[] {
  const ret = ring._n.register(ring.fd, Register.REGISTER_FILES, Int32Array.from(fds), fds.length);
  if (ret < 0) throw systemError(ret, 'io_uring_register');
  return fds.map((_, i) => new FixedFile(ring, i));
}

/**
 * Buffers registered with a ring (IORING_REGISTER_BUFFERS), read into and
 * written from by index with READ_FIXED / WRITE_FIXED. The kernel pins the
 * pages for as long as the registration lasts; this object keeps the
 * buffers referenced for that long.
 */
export class RegisteredBuffers {
  /** The registered buffers, by index. */
  readonly buffers: readonly Buffer[];
  private readonly ring: Ring;

  /** Registers `buffers` with `ring`. Throws a system error (ENOMEM over RLIMIT_MEMLOCK, EBUSY if already registered). */
  constructor(ring: Ring, buffers: readonly Buffer[]) {
    // struct iovec { void *iov_base; size_t iov_len; } for each buffer.
    const iov = new BigUint64Array(buffers.length * 2);
    buffers.forEach((b, k) => {
      iov[k * 2] = BigInt(viewAddress(b, 'buffer'));
      iov[k * 2 + 1] = BigInt(b.byteLength);
    });
    const ret = ring._n.register(ring.fd, Register.REGISTER_BUFFERS, iov, buffers.length);
    if (ret < 0) throw systemError(ret, 'io_uring_register');
    this.ring = ring;
    this.buffers = buffers;
  }

  /** Reads into registered buffer `index` at `position`; resolves with bytes read. */
  read(file: number | FixedFile, index: number, position: number): Promise<number> {
    return this.rw(Op.READ_FIXED, 'read_fixed', file, index, position);
  }

  /** Writes registered buffer `index` at `position`; resolves with bytes written. */
  write(file: number | FixedFile, index: number, position: number): Promise<number> {
    return this.rw(Op.WRITE_FIXED, 'write_fixed', file, index, position);
  }

  private rw(op: number, name: string, file: number | FixedFile, index: number, position: number): Promise<number> {
    const ring = this.ring;
    ring._checkOpen();
    const buf = this.buffers[index]!;
    const fixed = file instanceof FixedFile;
    const addr = viewAddress(buf, 'buffer');
    const i = ring._sqe(1);
    const w = ring._w;
    prep(w, i, op, fixed ? IOSQE_FIXED_FILE : 0, fixed ? file.index : file, addr, buf.byteLength, position);
    w[i + 10] = index; // buf_index
    return ring._track(i, buf, name);
  }
}
