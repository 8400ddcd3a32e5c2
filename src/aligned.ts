// Memory whose first byte sits at a chosen alignment. O_DIRECT reads and
// writes need buffers aligned to the device's logical block size, which
// Buffer.alloc() does not promise; and a 4 KiB read from the page cache into
// a page-aligned buffer copies into one page instead of straddling two, which
// the kernel does measurably faster (the benchmark's C reference and every
// variant of randread use such buffers).
import { constants as bufferConstants } from 'node:buffer';
import { internalAddress } from './memory';
import { outOfRange } from './errors';
import { validateInteger } from './validators';

/** The largest alignment alignedBuffer() takes (a huge page). */
const MAX_ALIGNMENT = 1 << 21;

/**
 * A zero-filled Buffer of `size` bytes whose address is a multiple of
 * `alignment` (a power of two, default 4096: a page). It is a view into a
 * slightly larger ArrayBuffer (up to `alignment - 1` bytes more), so its
 * `byteOffset` need not be 0; its memory never moves, so the alignment holds
 * for its whole life.
 *
 * @example
 * ```ts
 * const buf = alignedBuffer(64 * 1024);          // page aligned
 * const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
 * await ring.read(fd, buf, 0);
 * ```
 */
export function alignedBuffer(size: number, alignment = 4096): Buffer {
  validateInteger(size, 'size', 0, bufferConstants.MAX_LENGTH - MAX_ALIGNMENT);
  validateInteger(alignment, 'alignment', 1, MAX_ALIGNMENT);
  if ((alignment & (alignment - 1)) !== 0) throw outOfRange('alignment', 'a power of two', alignment);
  if (size === 0) return Buffer.alloc(0);
  const ab = new ArrayBuffer(size + alignment - 1);
  const address = internalAddress(new Uint8Array(ab));
  const skip = (alignment - (address % alignment)) % alignment;
  return Buffer.from(ab, skip, size);
}
