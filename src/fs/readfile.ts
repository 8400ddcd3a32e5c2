// readFile on the ring. One submission reads a small file to its end:
//
//   OPENAT into a direct-descriptor slot       (IOSQE_IO_LINK)
//   READ 64 KiB from the slot, file position   (IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK)
//   READ 64 KiB more, file position            (IOSQE_FIXED_FILE)
//
// A short read is no proof of the end (a pipe, procfs, a file that grows):
// only a read that returns 0 is. The hard link makes the second read run
// whatever the first returned; when it returns 0 the file is whole. When it
// returns data, reading goes on from the same open file until a read returns
// 0. A failed open cancels both reads, and leaves the slot as it was.
//
// The file is not closed by a CLOSE of its own: the slot is retired
// (slots.ts), and the next chain's OPENAT into it replaces the file; a slot
// no chain reused once the pending promise reactions have run is closed then.
import { AT_FDCWD, IOSQE_IO_HARDLINK, IOSQE_IO_LINK, O_CLOEXEC, O_RDONLY } from '../constants';
import { OPS } from '../opcodes';
import { FileTarget, Operation, slotTarget } from '../operation';
import { internalAddress } from '../memory';
import { restack, systemError } from '../errors';
import { Failure } from '../requests';
import { ECANCELED } from '../options';
import type { Engine } from './backend';
import { KernelPath, closeFd, kernelPath, openPath, statxFd, statxPath } from './submit';
import { statxIsFile, statxSize } from './stats';
import { checkAborted, readRest } from './whole';

/** Size of each of the chain's reads. */
export const FIRST_READ = 64 * 1024;
/** Room for the path of a chain's open (PATH_MAX with its NUL); longer paths get their own copy. */
const PATH_ROOM = 4096;
const PATH_AT = 2 * FIRST_READ;
const POOL_MAX = 256;

type Out = Buffer | string;

function decode(buf: Buffer, encoding: BufferEncoding | undefined): Out {
  return encoding === undefined ? buf : buf.toString(encoding);
}

const openError = (res: number, path: string): Failure => new Failure(res, (r) => systemError(r, 'open', { path }));
const readError = (res: number): Failure => new Failure(res, (r) => systemError(r, 'read'));

/**
 * One readFile chain in flight; pooled, with its operations and handlers
 * made once. Its scratch memory (the two reads' buffers and the path) is the
 * library's own and never handed out, so nothing can detach or free it: each
 * request holds it (Operation.hold) and it needs no per-request pin. A chain
 * is reused only after the last CQE of its requests, when the kernel is done
 * with all of it.
 */
class Chain {
  engine!: Engine;
  slot = -1;
  readonly scratch = Buffer.allocUnsafeSlow(PATH_AT + PATH_ROOM);
  readonly base = internalAddress(this.scratch);
  /** The first read's bytes as a plain Uint8Array: its subarray() is cheaper than Buffer.copy()'s checks. */
  readonly firstBytes = new Uint8Array(this.scratch.buffer, this.scratch.byteOffset, FIRST_READ);
  readonly openOp = new Operation(OPS.openat, 'open');
  readonly firstOp = this.readOp(0);
  readonly secondOp = this.readOp(FIRST_READ);
  readonly ops = [this.openOp, this.firstOp, this.secondOp];
  /** The path when it was not copied into the scratch memory. */
  path: KernelPath | undefined = undefined;
  /** The path as given (a string), or undefined when `path` holds it. */
  text: string | undefined = undefined;
  shown = '';
  encoding: BufferEncoding | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  /** CQEs of the chain still to come. */
  pending = 0;
  openRes = 0;
  readRes = 0;
  secondRes = 0;
  /** The outcome, kept until the caller's promise takes it in finish(). */
  result: Out | Failure | undefined = undefined;
  resolve: ((v: undefined) => void) | undefined = undefined;
  readonly executor = (res: (v: undefined) => void): void => { this.resolve = res; };
  /**
   * The reaction that settles the caller's promise: the chain's own promise
   * resolves with undefined (no thenable lookup on a Buffer) and this hands
   * over the result, or throws the error here, on the caller's await chain,
   * so that its stack shows the caller. The chain is pooled only now.
   */
  readonly finish = (): Out => {
    const v = this.result!;
    this.result = undefined;
    // A failed chain is not reused: destroy() settles a chain's requests
    // before their CQEs (with ECANCELED), and the kernel may still write into
    // the scratch memory until then; the records hold it, the pool must not.
    if (!(v instanceof Failure)) release(this);
    if (v instanceof Failure) {
      const err = v.build(v.res);
      if (err instanceof Error && !v.asIs) restack(err, this.finish);
      throw err;
    }
    return v;
  };
  readonly onOpen = (res: number): void => { this.openRes = res; if (--this.pending === 0) this.settle(); };
  readonly onRead = (res: number): void => { this.readRes = res; if (--this.pending === 0) this.settle(); };
  readonly onSecond = (res: number): void => { this.secondRes = res; if (--this.pending === 0) this.settle(); };
  readonly handlers = [this.onOpen, this.onRead, this.onSecond];

  constructor() {
    const o = this.openOp;
    o.fd = AT_FDCWD;
    o.opFlags = O_RDONLY;
  }

  private readOp(at: number): Operation {
    const op = new Operation(OPS.read, 'read');
    op.addr = this.base + at;
    op.len = FIRST_READ;
    op.off = -1;
    op.hold = this.scratch;
    return op;
  }

  /**
   * Fills the chain's operations for `slot` and a path: a string short
   * enough is encoded into the scratch memory, anything else copied by
   * kernelPath() (which throws, before anything is reserved, for a path it
   * refuses).
   */
  arm(slot: number, raw: unknown, shown: string): void {
    const o = this.openOp;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (typeof raw === 'string' && raw.length * 3 < PATH_ROOM) {
      const n = this.scratch.write(raw, PATH_AT, PATH_ROOM - 1, 'utf8');
      this.scratch[PATH_AT + n] = 0;
      o.addr = this.base + PATH_AT;
      o.hold = this.scratch;
      this.path = undefined;
      this.text = raw;
    } else {
      const p = kernelPath(raw, shown);
      o.addr = internalAddress(p.bytes);
      o.hold = p;
      this.path = p;
      this.text = undefined;
    }
    this.slot = slot;
    this.shown = shown;
    o.flags = 0;
    o.fileIndex = slot + 1;
    this.firstOp.flags = 0;
    this.firstOp.file(slotTarget(slot));
    this.secondOp.flags = 0;
    this.secondOp.file(slotTarget(slot));
    this.pending = 3;
  }

  private settle(): void {
    const { openRes, readRes, secondRes: second, shown, encoding, signal } = this;
    this.signal = undefined;
    if (openRes < 0 || readRes < 0 || second < 0) {
      this.retire();
      // destroy() ends the chain's requests with -ECANCELED through their
      // handlers: the caller gets destroy()'s reason, as every other request does.
      const reason = this.engine.ring._destroyReason;
      if (reason !== undefined && (openRes === ECANCELED || readRes === ECANCELED || second === ECANCELED)) {
        this.end(new Failure(ECANCELED, () => reason, true));
        return;
      }
      this.end(openRes < 0 ? openError(openRes, shown) : readError(readRes < 0 ? readRes : second));
      return;
    }
    if (second === 0) {
      let out: Out;
      if (encoding === undefined) {
        out = Buffer.allocUnsafeSlow(readRes);
        out.set(this.firstBytes.subarray(0, readRes));
      } else {
        // A string result is decoded straight from the scratch memory: no Buffer to make and drop.
        out = this.scratch.toString(encoding, 0, readRes);
      }
      this.retire();
      this.end(out);
      return;
    }
    // More than the chain read: go on reading the same open file, into one
    // buffer of the size the path's statx gives (a hint: the path may name
    // another file by now, and reading stops only at a read of 0). A slot
    // cannot be statx'ed.
    const head = Buffer.allocUnsafeSlow(readRes + second);
    this.scratch.copy(head, 0, 0, readRes);
    this.scratch.copy(head, readRes, FIRST_READ, FIRST_READ + second);
    const e = this.engine;
    statxPath(e.ring, this.path ?? kernelPath(this.text!, shown), 0, 'stat')
      .then((st) => (statxIsFile(st) ? statxSize(st) : 0), () => 0)
      .then((size) => readRest(e, slotTarget(this.slot), size, signal, head, true))
      .then((b) => decode(b, encoding))
      .then(
      (out) => { this.retire(); this.end(out); },
      // A read that failed, or a string too long to make: the chain ends either way.
      (err) => { this.retire(); this.end(new Failure(0, () => err)); },
    );
  }

  /** The slot's file is no longer used: the next open over the slot closes it, or a CLOSE soon after (slots.ts). */
  private retire(): void {
    this.engine.slots.retire(this.slot);
    this.slot = -1;
  }

  private end(v: Out | Failure): void {
    const resolve = this.resolve!;
    this.resolve = undefined;
    this.result = v;
    resolve(undefined);
  }
}

const pool: Chain[] = [];
/** @internal Chains waiting for reuse (tests). */
export function _pooledChains(): number {
  return pool.length;
}
function release(c: Chain): void {
  c.path = undefined;
  c.text = undefined;
  if (pool.length < POOL_MAX) pool.push(c);
}

const LINKS = [IOSQE_IO_LINK, IOSQE_IO_HARDLINK, 0];

/**
 * Reads a whole file by path: `raw` the path as given (a string, a Buffer
 * or a file: URL), already checked by plainPath() (no NUL), `shown` its
 * string for errors.
 */
export function readFileRing(e: Engine, raw: unknown, shown: string, encoding: BufferEncoding | undefined,
  signal: AbortSignal | undefined): Promise<Out> {
  const slot = e.chains ? e.slots.takeForOpen() : -1;
  if (slot < 0) return readPlain(e, kernelPath(raw, shown), encoding, signal);
  const c = pool.pop() ?? new Chain();
  try {
    c.arm(slot, raw, shown);
    c.engine = e;
    c.encoding = encoding;
    c.signal = signal;
    e.ring._submitLinked(c.ops, LINKS, c.handlers);
  } catch (err) {
    // Nothing was submitted: the slot is as it was taken (a retired one still holds its file).
    e.slots.retire(slot);
    c.slot = -1;
    release(c);
    return Promise.reject(err);
  }
  const done = new Promise<undefined>(c.executor).then(c.finish);
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
