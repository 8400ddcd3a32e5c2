// readFile on the ring. One submission reads a small file to its end:
//
//   OPENAT into a free direct-descriptor slot  (IOSQE_IO_LINK)
//   READ 64 KiB from the slot, file position   (IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK)
//   READ 64 KiB more, file position            (IOSQE_FIXED_FILE)
//
// A short read is no proof of the end (a pipe, procfs, a file that grows):
// only a read that returns 0 is. The hard link makes the second read run
// whatever the first returned; when it returns 0 the file is whole, and a
// CLOSE of the slot follows in the next submission (the result does not wait
// for it). When it returns data, reading goes on from the same open file
// until a read returns 0, then the slot is closed. A failed open cancels both
// reads, and its slot was never filled. The slot returns to the free list
// only at the close's CQE.
import { AT_FDCWD, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, O_CLOEXEC, O_RDONLY } from '../constants';
import { OPS } from '../opcodes';
import { FileTarget, slotTarget } from '../operation';
import { closeSlot, openPath as openOp } from '../ops/paths';
import * as data from '../ops/data';
import { systemError } from '../errors';
import { Failure, settle } from '../requests';
import type { Engine } from './backend';
import { KernelPath, closeFd, openPath, statxFd, statxPath } from './submit';
import { statxIsFile, statxSize } from './stats';
import { checkAborted, owned, readRest } from './whole';

/** Size of each of the chain's reads. */
export const FIRST_READ = 64 * 1024;
const POOL_MAX = 256;

type Out = Buffer | string;

function decode(buf: Buffer, encoding: BufferEncoding | undefined): Out {
  return encoding === undefined ? buf : buf.toString(encoding);
}

const openError = (res: number, path: string): Failure => new Failure(res, (r) => systemError(r, 'open', { path }));
const readError = (res: number): Failure => new Failure(res, (r) => systemError(r, 'read'));

/** One readFile chain in flight; pooled, with its handlers bound once. */
class Chain {
  engine!: Engine;
  slot = -1;
  readonly scratch = Buffer.allocUnsafeSlow(2 * FIRST_READ);
  readonly first = this.scratch.subarray(0, FIRST_READ);
  readonly second = this.scratch.subarray(FIRST_READ);
  path: KernelPath | undefined = undefined;
  shown = '';
  encoding: BufferEncoding | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  openRes = 0;
  readRes = 0;
  resolve: ((v: Out | Failure) => void) | undefined = undefined;
  readonly executor = (res: (v: Out | Failure) => void): void => { this.resolve = res; };
  readonly onOpen = (res: number): void => { this.openRes = res; };
  readonly onRead = (res: number): void => { this.readRes = res; };
  readonly onSecond = (res: number): void => { this.settle(res); };
  readonly handlers = [this.onOpen, this.onRead, this.onSecond];
  readonly onClosed = (): void => {
    this.engine.slots.give(this.slot);
    this.slot = -1;
    release(this);
  };

  private settle(second: number): void {
    const resolve = this.resolve!;
    const { openRes, readRes, shown, encoding, signal, path } = this;
    this.resolve = undefined;
    this.path = undefined;
    this.signal = undefined;
    if (openRes < 0) {
      // The slot was never filled.
      this.engine.slots.give(this.slot);
      this.slot = -1;
      release(this);
      resolve(openError(openRes, shown));
      return;
    }
    if (readRes < 0 || second < 0) {
      this.close();
      resolve(readError(readRes < 0 ? readRes : second));
      return;
    }
    if (second === 0) {
      const out = owned(this.first, readRes);
      this.close();
      resolve(decode(out, encoding));
      return;
    }
    // More than the chain read: go on reading the same open file, into one
    // buffer of the size the path's statx gives (a hint: reading stops only
    // at a read of 0).
    const head = Buffer.allocUnsafeSlow(readRes + second);
    this.first.copy(head, 0, 0, readRes);
    this.second.copy(head, readRes, 0, second);
    const e = this.engine;
    statxPath(e.ring, path!, 0, 'stat')
      .then((st) => (statxIsFile(st) ? statxSize(st) : 0), () => 0)
      .then((size) => readRest(e, slotTarget(this.slot), size, signal, head))
      .then(
      (b) => { this.close(); resolve(decode(b, encoding)); },
      (err) => { this.close(); resolve(new Failure(0, () => err)); },
    );
  }

  /** Closes the slot; it is free again at the close's CQE. */
  private close(): void {
    try {
      this.engine.ring._startInternal(closeSlot(this.slot), this.onClosed);
    } catch {
      // The ring is closed: its file table, and the file, went with it.
    }
  }
}

const pool: Chain[] = [];
function release(c: Chain): void {
  if (pool.length < POOL_MAX) pool.push(c);
}

const LINKS = [IOSQE_IO_LINK, IOSQE_IO_HARDLINK, 0];

/**
 * Reads a whole file by path. `p` is the path's bytes (NUL-terminated),
 * `p.shown` its string for errors.
 */
export function readFileRing(e: Engine, p: KernelPath, encoding: BufferEncoding | undefined,
  signal: AbortSignal | undefined): Promise<Out> {
  const slot = e.chains ? e.slots.take() : -1;
  if (slot < 0) return readPlain(e, p, encoding, signal);
  const c = pool.pop() ?? new Chain();
  c.engine = e;
  c.slot = slot;
  c.path = p;
  c.shown = p.shown;
  c.encoding = encoding;
  c.signal = signal;
  c.openRes = 0;
  c.readRes = 0;
  // The scratch buffer is the library's own, never seen by the caller.
  const ops = [
    openOp(p, O_RDONLY, 0, AT_FDCWD, slot + 1, 'open'),
    data.rw(OPS.read, slotTarget(slot), c.first, -1, 'read'),
    data.rw(OPS.read, slotTarget(slot), c.second, -1, 'read'),
  ];
  try {
    e.ring._submitLinked(ops, LINKS, c.handlers);
  } catch (err) {
    e.slots.give(slot);
    c.slot = -1;
    release(c);
    return Promise.reject(err);
  }
  const done = settle(new Promise<Out | Failure>(c.executor) as Promise<Out>);
  return signal === undefined ? done : done.then((v) => { checkAborted(signal); return v; });
}

/** readFile through a plain fd: open, read to the end, close (no free slot). */
export async function readPlain(e: Engine, p: KernelPath, encoding: BufferEncoding | undefined,
  signal: AbortSignal | undefined): Promise<Out> {
  const fd = await openPath(e.ring, p, O_RDONLY | O_CLOEXEC, 0o666);
  let data: Buffer;
  try {
    data = await readToEnd(e, fd, fd, signal);
  } finally {
    await closeFd(e.ring, fd).catch(() => 0);
  }
  return decode(data, encoding);
}

/** Reads from the file position of `fd` (used through `file`) until a read returns 0. */
export async function readToEnd(e: Engine, fd: number, file: FileTarget, signal: AbortSignal | undefined): Promise<Buffer> {
  checkAborted(signal);
  const st = await statxFd(e.ring, fd, 'fstat');
  return readRest(e, file, statxIsFile(st) ? statxSize(st) : 0, signal);
}
