// FileHandle of uring/fs: node:fs/promises' FileHandle, with its reads and
// writes on the thread's ring. The handle owns a real fd (so `fd` works with
// any fd-taking API) and, when a slot is free, the same file in the ring's
// registered table, which the hot read and write paths use.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { createInterface, Interface } from 'node:readline';
import { AsyncResource } from 'node:async_hooks';
import type { ReadableStream } from 'node:stream/web';
import { Op } from '../constants';
import { constants as osConstants } from 'node:os';
import { FileTarget, slotTarget } from '../operation';
import * as data from '../ops/data';
import { OPS } from '../opcodes';
import { systemError, unknownEncoding } from '../errors';
import { Failure, settle } from '../requests';
import type { Engine } from './backend';
import { closeFd, fsync, ftruncate, rwv, statxFd } from './submit';
import { toStats } from './stats';
import { readToEnd } from './readfile';
import { checkAborted, writeAll } from './whole';
import { Owned, disown, own } from './lifetime';
import { RwArgs, positionOf, positionRules, readArgs, stringBytes, stringPosition, writeArgs } from './rwargs';
import { viewBuffer, viewByteOffset, viewLength } from '../memory';
import { wholeOptions } from './args';
import { invalidState, streamType, webStream } from './webstream';
import { invalidArgType } from '../errors';

const { EINVAL } = osConstants.errno;

type ReadResult = { bytesRead: number; buffer: ArrayBufferView };
type WriteResult<T> = { bytesWritten: number; buffer: T };

/** Node's error for a call on a closed handle: EBADF, 'file closed', named after the method's syscall. */
function fileClosed(syscall: string): Promise<never> {
  const err = new Error('file closed') as Error & { code: string; syscall: string };
  err.code = 'EBADF';
  err.syscall = syscall;
  return Promise.reject(err);
}

const fdCalls = {
  fstat: promisify(fs.fstat),
  fchmod: promisify(fs.fchmod),
  fchown: promisify(fs.fchown),
  futimes: promisify(fs.futimes),
  ftruncate: promisify(fs.ftruncate),
};

/** One read or write in flight on a handle: pooled, its CQE handler bound once. */
class HandleOp {
  h: FileHandle | undefined = undefined;
  buffer: unknown = undefined;
  write = false;
  resolve: ((v: unknown) => void) | undefined = undefined;
  // A write's range, for going on after a short write.
  view: ArrayBufferView | undefined = undefined;
  at = 0;
  left = 0;
  pos: number | bigint = -1;
  /** Bytes a write has written before the request now in flight. */
  sum = 0;
  readonly executor = (res: (v: unknown) => void): void => {
    this.resolve = res;
  };
  readonly onCqe = (res: number): void => {
    // libuv writes a whole buffer: after a short write (a full pipe), the
    // rest goes out in a next request; an error after some bytes ends the
    // write with the count so far.
    if (this.write && res > 0 && res < this.left && this.h!._more(this, res)) return;
    const { h, buffer, resolve, write, sum } = this;
    this.h = undefined;
    this.buffer = undefined;
    this.view = undefined;
    this.resolve = undefined;
    ops.push(this);
    h!._done();
    // A failure is built after the caller's await (requests.ts settle()),
    // so that its stack shows the caller, as Node's does.
    if (res < 0 && !(write && sum > 0)) resolve!(write ? WRITE_FAILED(res) : READ_FAILED(res));
    else if (write) resolve!({ __proto__: null, bytesWritten: sum + Math.max(res, 0), buffer });
    else resolve!({ __proto__: null, bytesRead: res, buffer });
  };
}
const ops: HandleOp[] = [];
const buildRead = (res: number): Error => systemError(res, 'read');
const buildWrite = (res: number): Error => systemError(res, 'write');
const READ_FAILED = (res: number): Failure => new Failure(res, buildRead);
const WRITE_FAILED = (res: number): Failure => new Failure(res, buildWrite);

/**
 * An open file, as node:fs/promises' FileHandle: same methods, results and
 * errors. Created by `open()`. `close()` waits for calls in flight and is
 * idempotent; any call after it rejects with EBADF ('file closed').
 */
export class FileHandle extends EventEmitter {
  #fd: number;
  #file: FileTarget;
  #engine: Engine;
  #owned: Owned;
  #pending = 0;
  #closing: Promise<void> | undefined = undefined;
  #drained: (() => void) | undefined = undefined;
  #locked = false;
  #resource: AsyncResource | undefined = undefined;

  /** @internal Takes ownership of an open fd; registers it in a free slot of the ring's table. */
  constructor(engine: Engine, fd: number) {
    super();
    this.#engine = engine;
    this.#fd = fd;
    this.#owned = own(engine, fd, this);
    this.#file = this.#owned.slot >= 0 ? slotTarget(this.#owned.slot) : fd;
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** @internal A call on this handle completed. */
  _done(): void {
    if (--this.#pending === 0 && this.#drained !== undefined) this.#drained();
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending++;
    const done = (): void => this._done();
    return p.finally(done);
  }

  #submit(view: ArrayBufferView, offset: number, length: number, pos: number | bigint, write: boolean): Promise<any> {
    const ring = this.#engine.ring;
    try {
      const op = data.rw(write ? OPS.write : OPS.read, this.#file, view, pos, write ? 'write' : 'read', offset, length);
      const o = ops.pop() ?? new HandleOp();
      const promise = settle(new Promise(o.executor));
      ring._start(op, o.onCqe);
      o.h = this;
      o.buffer = view;
      o.write = write;
      o.sum = 0;
      if (write) {
        o.view = view;
        o.at = offset;
        o.left = length;
        o.pos = pos;
      }
      this.#pending++;
      return promise;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * @internal A write of `o` was short by some bytes (`res` written): sends
   * the rest as the same call. False when it cannot (the ring is closed):
   * the write then ends with what it wrote.
   */
  _more(o: HandleOp, res: number): boolean {
    const pos = o.pos;
    const next = typeof pos === 'bigint' ? (pos < 0n ? pos : pos + BigInt(res)) : (pos < 0 ? pos : pos + res);
    try {
      const op = data.rw(OPS.write, this.#file, o.view!, next, 'write', o.at + res, o.left - res);
      this.#engine.ring._start(op, o.onCqe);
    } catch {
      return false;
    }
    o.sum += res;
    o.at += res;
    o.left -= res;
    o.pos = next;
    return true;
  }

  /**
   * Reads into a buffer: `(buffer, offset, length, position)`,
   * `(buffer, { offset, length, position })`, `({ buffer, offset, length, position })`
   * or `()` (a new 16 KiB buffer). `position` null reads at the file position.
   * Resolves with `{ bytesRead, buffer }`, the caller's buffer.
   */
  read(buffer?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<ReadResult> {
    if (this.#closing !== undefined) return fileClosed('read');
    let a: RwArgs;
    try {
      a = readArgs(buffer, offset, length, position);
    } catch (err) {
      return Promise.reject(err);
    }
    if (a.length === 0) return Promise.resolve({ __proto__: null, bytesRead: 0, buffer: a.view } as ReadResult);
    if (a.pos !== undefined) return this.#submit(a.view, a.offset, a.length, a.pos, false);
    // A position only some Node versions accept: ask which rule applies. The
    // read counts as in flight from now, so a close() meanwhile waits for it.
    return this.#track(positionRules().then((strict) =>
      this.#submit(a.view, a.offset, a.length, positionOf(a.rawPos, a.length, strict), false)));
  }

  /**
   * Writes a buffer `(buffer, offset, length, position)` or
   * `(buffer, { offset, length, position })`, or a string
   * `(string, position, encoding)`. Resolves with `{ bytesWritten, buffer }`.
   */
  write<T extends ArrayBufferView | string>(buffer: T, offset?: unknown, length?: unknown, position?: unknown): Promise<WriteResult<T>> {
    if (this.#closing !== undefined) return fileClosed('write');
    try {
      if (ArrayBuffer.isView(buffer)) {
        if (viewLength(buffer, 'buffer') === 0) return Promise.resolve({ __proto__: null, bytesWritten: 0, buffer } as WriteResult<T>);
        const a = writeArgs(buffer, offset, length, position);
        return this.#submit(buffer, a.offset, a.length, a.pos!, true);
      }
      if (typeof buffer !== 'string') {
        throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', buffer);
      }
      const bytes = stringBytes(buffer, length);
      const pos = stringPosition(offset);
      if (bytes.length === 0) return Promise.resolve({ __proto__: null, bytesWritten: 0, buffer } as WriteResult<T>);
      return this.#submit(bytes, 0, bytes.length, pos, true).then(
        (r: { bytesWritten: number }) => ({ __proto__: null, bytesWritten: r.bytesWritten, buffer }) as WriteResult<T>);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Scatter read at `position` (null or negative: the file position), into
   * at most the first IOV_MAX (1024) buffers, as libuv does. Resolves with
   * `{ bytesRead, buffers }`.
   */
  async readv<T extends ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesRead: number; buffers: T }> {
    if (this.#closing !== undefined) return fileClosed('readv');
    const list = viewList(buffers);
    // Node's readv of no buffers fails in the kernel call: EINVAL.
    if (list.length === 0) throw systemError(-EINVAL, 'read');
    const views = list.length > data.IOV_MAX ? list.slice(0, data.IOV_MAX) : list;
    const n = await this.#track(rwv(this.#engine.ring, OPS.readv, this.#file, views, vectorPosition(position), 'read'));
    return { __proto__: null, bytesRead: n, buffers } as { bytesRead: number; buffers: T };
  }

  /**
   * Gather write at `position` (null or negative: the file position). Like
   * libuv, writes everything: IOV_MAX buffers at a time, and on after a
   * short write (a pipe that was full); an error after some bytes ends it
   * with the count so far. Resolves with `{ bytesWritten, buffers }`.
   */
  async writev<T extends ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesWritten: number; buffers: T }> {
    if (this.#closing !== undefined) return fileClosed('writev');
    const list = viewList(buffers);
    if (list.length === 0) return { __proto__: null, bytesWritten: 0, buffers } as { bytesWritten: number; buffers: T };
    const n = await this.#track(this.#writeViews(list, vectorPosition(position)));
    return { __proto__: null, bytesWritten: n, buffers } as { bytesWritten: number; buffers: T };
  }

  async #writeViews(list: ArrayBufferView[], pos: number): Promise<number> {
    // Each view as bytes, measured once; the front one cut by what was written.
    // (A detached view reads as empty, and writes nothing, as in Node.)
    let rest: Uint8Array[] = [];
    for (const v of list) {
      const n = viewLength(v, 'buffers');
      if (n > 0) rest.push(new Uint8Array(viewBuffer(v), viewByteOffset(v), n));
    }
    let total = 0;
    while (rest.length > 0) {
      const part = rest.length > data.IOV_MAX ? rest.slice(0, data.IOV_MAX) : rest;
      let n: number;
      try {
        n = await rwv(this.#engine.ring, OPS.writev, this.#file, part, pos < 0 ? -1 : pos + total, 'write');
      } catch (err) {
        if (total > 0) break;
        throw err;
      }
      if (n <= 0) break;
      total += n;
      let k = 0;
      while (k < rest.length && n >= rest[k]!.length) n -= rest[k++]!.length;
      rest = rest.slice(k);
      if (n > 0) rest[0] = rest[0]!.subarray(n);
      while (rest.length > 0 && rest[0]!.length === 0) rest.shift();
    }
    return total;
  }

  /** fstat: resolves with fs.Stats (fs.BigIntStats with `{ bigint: true }`). */
  async stat(options?: { bigint?: boolean }): Promise<fs.Stats | fs.BigIntStats> {
    if (this.#closing !== undefined) return fileClosed('fstat');
    // Node reads options.bigint of whatever it is given; null throws there.
    if (options === null) throw new TypeError("Cannot read properties of null (reading 'bigint')");
    if (options?.bigint) return this.#track(fdCalls.fstat(this.#fd, { bigint: true }) as Promise<fs.BigIntStats>);
    return toStats(await this.#track(statxFd(this.#engine.ring, this.#fd, 'fstat')));
  }

  /** ftruncate to `len` bytes (default 0). */
  async truncate(len = 0): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('ftruncate');
    const ring = this.#engine.ring;
    if (typeof len === 'number' && Number.isSafeInteger(len) && len >= 0 && ring.probe().supports(Op.FTRUNCATE)) {
      await this.#track(ftruncate(ring, this.#file, len));
      return;
    }
    await this.#track(fdCalls.ftruncate(this.#fd, len));
  }

  /** fsync(2) on the ring. */
  async sync(): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('fsync');
    await this.#track(fsync(this.#engine.ring, this.#file, false));
  }

  /** fdatasync(2) on the ring. */
  async datasync(): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('fdatasync');
    await this.#track(fsync(this.#engine.ring, this.#file, true));
  }

  /** fchmod (through node:fs: io_uring has no such operation). */
  async chmod(mode: fs.Mode): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('fchmod');
    return this.#track(fdCalls.fchmod(this.#fd, mode));
  }

  /** fchown (through node:fs). */
  async chown(uid: number, gid: number): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('fchown');
    return this.#track(fdCalls.fchown(this.#fd, uid, gid));
  }

  /** futimes (through node:fs). */
  async utimes(atime: fs.TimeLike, mtime: fs.TimeLike): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('futimes');
    return this.#track(fdCalls.futimes(this.#fd, atime, mtime));
  }

  /** Reads from the file position to the end. Resolves with a Buffer, or a string with an encoding. */
  async readFile(options?: { encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): Promise<Buffer | string> {
    if (this.#closing !== undefined) return fileClosed('readFile');
    const { encoding, signal } = wholeOptions(options);
    // Node decodes through a StringDecoder, which does not know 'buffer'.
    if (encoding === 'buffer') throw unknownEncoding(encoding);
    const data = await this.#track(readToEnd(this.#engine, this.#fd, this.#file, signal));
    return encoding ? data.toString(encoding as BufferEncoding) : data;
  }

  /** Writes all of `data` (string, buffer, or an iterable of them) at the file position. */
  writeFile(data: unknown, options?: { encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): Promise<void> {
    if (this.#closing !== undefined) return fileClosed('writeFile');
    // In flight from the first chunk to the last, so that a close() between
    // two chunks of an iterable waits, as Node's does, and no chunk is
    // written through a slot the handle has given back.
    return this.#track(this.#writeFile(data, options));
  }

  async #writeFile(data: unknown, options: unknown): Promise<void> {
    const { encoding, signal } = wholeOptions(options as never);
    const enc = (encoding || 'utf8') as BufferEncoding;
    const iterable = isCustomIterable(data);
    if (!ArrayBuffer.isView(data) && !iterable) {
      if (typeof data !== 'string') {
        throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
      }
      data = Buffer.from(data, enc);
    }
    checkAborted(signal);
    if (!iterable) {
      await this.#writeAll(data as ArrayBufferView, signal);
      return;
    }
    for await (const chunk of data as AsyncIterable<unknown>) {
      checkAborted(signal);
      await this.#writeAll(ArrayBuffer.isView(chunk) ? chunk : Buffer.from(chunk as string, enc), signal);
    }
  }

  /** Same as writeFile() on a handle (the handle's open flags decide appending). */
  appendFile(data: unknown, options?: { encoding?: BufferEncoding | null; signal?: AbortSignal } | BufferEncoding | null): Promise<void> {
    return this.writeFile(data, options);
  }

  #writeAll(view: ArrayBufferView, signal: unknown): Promise<void> {
    return this.#track(writeAll(this.#engine, this.#file, view, viewLength(view, 'data'), signal as AbortSignal | undefined));
  }

  /** A line reader over the file (readline Interface on createReadStream()). */
  readLines(options?: Parameters<FileHandle['createReadStream']>[0]): Interface {
    return createInterface({ input: this.createReadStream(options), crlfDelay: Infinity });
  }

  /** An fs.ReadStream whose reads go through this handle (and close it at the end unless autoClose is false). */
  createReadStream(options?: { encoding?: BufferEncoding; autoClose?: boolean; emitClose?: boolean; start?: number; end?: number; highWaterMark?: number; signal?: AbortSignal }): fs.ReadStream {
    return fs.createReadStream(null as unknown as string, { ...options, fd: this.#fd, fs: this.#streamFs() } as never);
  }

  /** An fs.WriteStream whose writes go through this handle. */
  createWriteStream(options?: { encoding?: BufferEncoding; autoClose?: boolean; emitClose?: boolean; start?: number; highWaterMark?: number; flush?: boolean }): fs.WriteStream {
    return fs.createWriteStream(null as unknown as string, { ...options, fd: this.#fd, fs: this.#streamFs() } as never);
  }

  /**
   * A web ReadableStream of the file from its position, as Node's: the
   * handle is locked once it has given one (ERR_INVALID_STATE); chunks are of
   * the type Node's own stream gives (ArrayBuffer in Node 20; Uint8Array
   * with `{ type: 'bytes' }`).
   */
  readableWebStream(options?: { type?: 'bytes' }): ReadableStream {
    if (this.#closing !== undefined) throw invalidState(this.#pending > 0 ? 'The FileHandle is closing' : 'The FileHandle is closed');
    if (this.#locked) throw invalidState('The FileHandle is locked');
    this.#locked = true;
    return webStream(this, streamType(options));
  }

  /** The async id of this handle's async resource, as Node's FileHandle has one. */
  getAsyncId(): number {
    this.#resource ??= new AsyncResource('FILEHANDLE', { requireManualDestroy: true });
    return this.#resource.asyncId();
  }

  #streamFs(): object {
    type Cb = (err: unknown, ...rest: unknown[]) => void;
    return {
      open: (_p: unknown, _f: unknown, _m: unknown, cb: Cb) => cb(null, this.#fd),
      read: (_fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: Cb) => {
        this.read(buf, off, len, pos ?? null).then((r) => cb(null, r.bytesRead, r.buffer), cb);
      },
      write: (_fd: number, buf: Buffer, off: number, len: number, pos: number | null, cb: Cb) => {
        this.write(buf, off, len, pos ?? null).then((r) => cb(null, r.bytesWritten, r.buffer), cb);
      },
      writev: (_fd: number, bufs: Buffer[], pos: number | null, cb: Cb) => {
        this.writev(bufs, pos ?? null).then((r) => cb(null, r.bytesWritten, r.buffers), cb);
      },
      // createWriteStream({ flush: true }) syncs before it closes.
      fsync: (_fd: number, cb: Cb) => { this.sync().then(() => cb(null), cb); },
      close: (_fd: number, cb: Cb) => { this.close().then(() => cb(null), cb); },
    };
  }

  /**
   * Closes the file once the calls in flight have completed: empties its
   * registered slot and closes the fd. Idempotent: later calls return the
   * same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = this.#release();
    // Node emits 'close' from close() itself, before the promise settles.
    this.emit('close');
    return this.#closing;
  }

  async #release(): Promise<void> {
    if (this.#pending > 0) await new Promise<void>((r) => { this.#drained = r; });
    const ring = this.#engine.ring;
    const fd = disown(this.#owned);
    this.#fd = -1;
    if (fd < 0) return;
    try {
      await closeFd(ring, fd, true);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_RING_CLOSED') throw err;
      fs.closeSync(fd);
    }
  }

  /** Calls close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Node's isCustomIterable(): an iterable or async iterable that is neither a view nor a string. */
function isCustomIterable(data: unknown): boolean {
  if (data === null || data === undefined || ArrayBuffer.isView(data) || typeof data === 'string') return false;
  const d = data as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof d[Symbol.iterator] === 'function' || typeof d[Symbol.asyncIterator] === 'function';
}

/** The views of a readv/writev array, each element read once (Node: ERR_INVALID_ARG_TYPE otherwise). */
function viewList(buffers: unknown): ArrayBufferView[] {
  if (!Array.isArray(buffers)) throw invalidArgType('buffers', 'an ArrayBufferView[]', buffers);
  const n = buffers.length;
  const out = new Array<ArrayBufferView>(n);
  for (let k = 0; k < n; k++) {
    const v: unknown = buffers[k];
    if (!ArrayBuffer.isView(v)) throw invalidArgType('buffers', 'an ArrayBufferView[]', buffers);
    out[k] = v;
  }
  return out;
}

/** A readv/writev position as Node hands it to libuv: a number (negative: the file position), else the file position. */
function vectorPosition(position: unknown): number {
  if (typeof position !== 'number' || !Number.isFinite(position) || position < 0) return -1;
  return Math.min(Math.trunc(position), Number.MAX_SAFE_INTEGER);
}

