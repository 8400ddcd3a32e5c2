// readFile on the ring. A file that fits in the first read is one submission:
//
//   OPENAT into a free direct-descriptor slot  (IOSQE_IO_LINK)
//   READ 64 KiB from the slot at offset 0       (IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK)
//   CLOSE the slot                              (file_index = slot + 1, never FIXED_FILE)
//
// The hard link makes the close run even when the read is short or fails; a
// failed open cancels both followers, and its slot was never filled. The
// slot returns to the free list only at the close's CQE. A file that fills
// the first buffer is read again whole through a plain fd (stat, read to the
// end, close), as node:fs does for large files.
import { AT_FDCWD, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, O_CLOEXEC, O_RDONLY } from '../constants';
import { OPS } from '../opcodes';
import { FileTarget, slotTarget } from '../operation';
import { closeSlot, openPath as openOp } from '../ops/paths';
import * as data from '../ops/data';
import { systemError } from '../errors';
import type { Engine } from './backend';
import { KernelPath, closeFd, kernelPath, openPath, rw, statxFd } from './submit';
import { statxIsFile, statxSize } from './stats';

/** Size of the first read; a file smaller than this is read by one chain. */
export const FIRST_READ = 64 * 1024;
const CHUNK = 64 * 1024;
const POOL_MAX = 256;

type Out = Buffer | string;

function finish(buf: Buffer, n: number, encoding: BufferEncoding | undefined): Out {
  if (encoding !== undefined) return buf.toString(encoding, 0, n);
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, 0, n);
  return out;
}

/** One readFile chain in flight; pooled, with its handlers bound once. */
class Chain {
  engine!: Engine;
  slot = -1;
  readonly scratch = Buffer.allocUnsafeSlow(FIRST_READ);
  path: KernelPath | undefined = undefined;
  shown = '';
  encoding: BufferEncoding | undefined = undefined;
  openRes = 0;
  readRes = 0;
  resolve: ((v: Out) => void) | undefined = undefined;
  reject: ((e: unknown) => void) | undefined = undefined;
  readonly executor = (res: (v: Out) => void, rej: (e: unknown) => void): void => {
    this.resolve = res;
    this.reject = rej;
  };
  readonly onOpen = (res: number): void => { this.openRes = res; };
  readonly onRead = (res: number): void => { this.readRes = res; };
  readonly onClose = (): void => { this.settle(); };
  readonly handlers = [this.onOpen, this.onRead, this.onClose];

  private settle(): void {
    const e = this.engine;
    e.slots.give(this.slot);
    this.slot = -1;
    const resolve = this.resolve!;
    const reject = this.reject!;
    const { openRes, readRes, shown, encoding } = this;
    this.resolve = undefined;
    this.reject = undefined;
    this.path = undefined;
    if (openRes < 0) reject(systemError(openRes, 'open', { path: shown }));
    else if (readRes < 0) reject(systemError(readRes, 'read'));
    else if (readRes < FIRST_READ) resolve(finish(this.scratch, readRes, encoding));
    else readPlain(e, shown, kernelPath(shown, shown), encoding).then(resolve, reject);
    release(this);
  }
}

const pool: Chain[] = [];
function release(c: Chain): void {
  if (pool.length < POOL_MAX) pool.push(c);
}

/**
 * Reads a whole file by path. `p` is the path's bytes (NUL-terminated),
 * `shown` its string for errors.
 */
export function readFileRing(e: Engine, p: KernelPath, shown: string, encoding: BufferEncoding | undefined): Promise<Out> {
  const slot = e.chains ? e.slots.take() : -1;
  if (slot < 0) return readPlain(e, shown, p, encoding);
  const ring = e.ring;
  const c = pool.pop() ?? new Chain();
  c.engine = e;
  c.slot = slot;
  c.path = p;
  c.shown = shown;
  c.encoding = encoding;
  c.openRes = 0;
  c.readRes = 0;
  // The scratch buffer is the library's own, never seen by the caller
  // before the chain completes.
  const ops = [
    openOp(p, O_RDONLY, 0, AT_FDCWD, slot + 1, 'open'),
    data.rw(OPS.read, slotTarget(slot), c.scratch, 0, 'read'),
    closeSlot(slot),
  ];
  try {
    ring._submitLinked(ops, LINKS, c.handlers);
  } catch (err) {
    e.slots.give(slot);
    release(c);
    return Promise.reject(err);
  }
  return new Promise<Out>(c.executor);
}

const LINKS = [IOSQE_IO_LINK, IOSQE_IO_HARDLINK, 0];

/** readFile through a plain fd: open, read to the end, close (large files, no slots). */
export async function readPlain(e: Engine, shown: string, p: KernelPath, encoding: BufferEncoding | undefined): Promise<Out> {
  const fd = await openPath(e.ring, p, O_RDONLY | O_CLOEXEC, 0o666);
  let data: Buffer;
  try {
    data = await readToEnd(e, fd);
  } finally {
    await closeFd(e.ring, fd).catch(() => 0);
  }
  return encoding === undefined ? data : data.toString(encoding);
}

/**
 * Reads from the file position of `fd` to the end of the file: one read of
 * the known size for a regular file, chunks until a read returns 0 otherwise.
 */
export async function readToEnd(e: Engine, fd: number, file: FileTarget = fd): Promise<Buffer> {
  const st = await statxFd(e.ring, fd, 'fstat');
  const size = statxIsFile(st) ? statxSize(st) : 0;
  if (size > 0x7fffffff) {
    const err = new RangeError(`File size (${size}) is greater than 2 GiB`) as RangeError & { code: string };
    err.code = 'ERR_FS_FILE_TOO_LARGE';
    throw err;
  }
  const parts: Buffer[] = [];
  let total = 0;
  let buf = Buffer.allocUnsafeSlow(size > 0 ? size : CHUNK);
  let at = 0;
  for (;;) {
    if (at === buf.length) {
      parts.push(buf);
      total += at;
      buf = Buffer.allocUnsafeSlow(CHUNK);
      at = 0;
    }
    const n = await rw(e.ring, OPS.read, file, buf, at, buf.length - at, -1, 'read');
    if (n === 0) break;
    at += n;
    if (size > 0 && total + at === size && parts.length === 0) {
      // The size stat gave is read; one more read confirms the end only for
      // files that grew, which node:fs does not chase either.
      break;
    }
  }
  if (parts.length === 0) return at === buf.length ? buf : buf.subarray(0, at);
  parts.push(buf.subarray(0, at));
  return Buffer.concat(parts, total + at);
}
