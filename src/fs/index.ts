// uring/fs: the node:fs/promises API on an io_uring ring. Switch by changing
// one import. Operations with an io_uring opcode run on this thread's ring;
// the others, and every call whose arguments need Node's own handling, go to
// node:fs/promises, so each function exists and behaves as Node's does. When
// io_uring is unavailable, everything goes to node:fs/promises and `backend`
// says why.
import * as fsp from 'node:fs/promises';
import { Op, O_RDONLY, O_CLOEXEC } from '../constants';
import { ring, backend as currentBackend, FsBackend } from './backend';
import { FileHandle } from './filehandle';
import { readFileRing } from './readfile';
import { copyFileRing, cpFileRing } from './copy';
import { kernelPath, openPath } from './submit';
import {
  encodingOf, fileMode, openFlags, optionsObject, plainPath, signalOf,
} from './args';
import {
  mkdirRing, statRing, truncateRing, twoPathRing, unlinkRing, writeFileRing,
} from './paths';
import { AbortError } from '../errors';
import type { Stats, PathLike, OpenMode, ObjectEncodingOptions } from 'node:fs';
import type { Abortable } from 'node:events';

/** A path, or a FileHandle of this module. */
export type PathOrHandle = PathLike | FileHandle;

export { FileHandle };
export type { FsBackend };
/** @internal */
export { _setBackend } from './backend';

/**
 * Which backend this thread uses (live: each property reads the current state): `{ kind: 'io_uring', ring, ... }`, or
 * `{ kind: 'node', reason, code }` when io_uring is unavailable (for example
 * with URING_DISABLE=1). Reading it creates the thread's ring on first use.
 *
 * @example
 * ```ts
 * import * as fs from 'uring/fs';
 * console.log(fs.backend.kind); // 'io_uring'
 * ```
 */
export const backend: FsBackend = Object.freeze({
  get kind() { return currentBackend().kind; },
  get reason() { return currentBackend().reason; },
  get code() { return currentBackend().code; },
  get ring() { return currentBackend().ring; },
  get fileSlots() { return currentBackend().fileSlots; },
  get chains() { return currentBackend().chains; },
  toJSON() { const { ring: _r, ...rest } = currentBackend(); return rest; },
});

/** Runs `f` and turns a synchronous throw into a rejection, as async functions do. */
function run<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f();
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * `f` as node:fs/promises functions behave: a throw while reading the
 * caller's arguments (a getter, a Proxy) becomes a rejected promise.
 */
function rejecting<A extends unknown[], R>(f: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  const wrapped = (...args: A): Promise<R> => run(() => f(...args));
  Object.defineProperty(wrapped, 'name', { value: f.name.replace(/_$/, '') });
  return wrapped;
}

function aborted(signal: AbortSignal): Promise<never> {
  return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
}

/**
 * Opens a file; resolves with a FileHandle. `flags` as Node takes them
 * ('r', 'w+', 'ax', ... or a number), `mode` for new files (default 0o666).
 *
 * @example
 * ```ts
 * await using fh = await fs.open('/tmp/x', 'w+');
 * await fh.write('hello');
 * ```
 */
export const open = rejecting(open_);
function open_(path: fsp.FileHandle | string | Buffer | URL, flags?: string | number, mode?: string | number): Promise<FileHandle> {
  const e = ring();
  const shown = e && plainPath(path);
  const f = openFlags(flags, O_RDONLY);
  const m = fileMode(mode, 0o666);
  if (shown === undefined || f === undefined || m === undefined) {
    return fsp.open(path as string, flags, mode as number) as unknown as Promise<FileHandle>;
  }
  return run(async () => new FileHandle(e!, await openPath(e!.ring, kernelPath(path, shown), f | O_CLOEXEC, m)));
}

/**
 * Reads a whole file. A small file (under 64 KiB) is read by one linked
 * submission: open into a direct descriptor, read, close.
 *
 * @example
 * ```ts
 * const text = await fs.readFile('/etc/hostname', 'utf8');
 * ```
 */
// Not rejecting(readFile_): no rest-parameter array and closure per call on the hottest path.
export const readFile = function readFile(path: unknown, options?: unknown): Promise<Buffer | string> {
  try {
    return readFile_(path, options);
  } catch (err) {
    return Promise.reject(err);
  }
} as {
  (path: PathOrHandle, options?: ({ encoding?: null; flag?: OpenMode } & Abortable) | null): Promise<Buffer>;
  (path: PathOrHandle, options: ({ encoding: BufferEncoding; flag?: OpenMode } & Abortable) | BufferEncoding): Promise<string>;
  (path: PathOrHandle, options?: (ObjectEncodingOptions & Abortable & { flag?: OpenMode }) | BufferEncoding | null): Promise<string | Buffer>;
};
function readFile_(path: unknown, options?: unknown): Promise<Buffer | string> {
  // Options first, then the path, as node:fs reads them: an options getter
  // that changes a Buffer path cannot make the error name other bytes than
  // the ones opened.
  const o = optionsObject(options, ['encoding', 'flag', 'signal']);
  if (path instanceof FileHandle) return path.readFile((o ?? options) as never);
  const e = ring();
  const shown = e && plainPath(path);
  if (shown === undefined || o === undefined) return fsp.readFile(path as string, (o ?? options) as never);
  const enc = encodingOf(o);
  const signal = signalOf(o);
  const flag = o.flag;
  if (enc === false || signal === false || (flag !== undefined && flag !== 'r' && flag !== null)) {
    return fsp.readFile(path as string, o as never);
  }
  if (signal?.aborted) return aborted(signal);
  return readFileRing(e!, path, shown, enc, signal);
}

function writeLike(path: unknown, data: unknown, options: unknown, defaultFlag: number,
  viaNode: (options: unknown) => Promise<void>, viaHandle: (h: FileHandle, options: unknown) => Promise<void>): Promise<void> {
  const o = optionsObject(options, ['encoding', 'mode', 'flag', 'flush', 'signal']);
  if (path instanceof FileHandle) return viaHandle(path, o ?? options);
  const e = ring();
  const shown = e && plainPath(path);
  if (shown === undefined || o === undefined || (typeof data !== 'string' && !ArrayBuffer.isView(data)) || o.flush) {
    return viaNode(o ?? options);
  }
  const enc = encodingOf(o);
  const signal = signalOf(o);
  // Node: `options.flag || 'w'` (or 'a'): any falsy flag is the default.
  const flags = openFlags(o.flag || undefined, defaultFlag);
  const mode = fileMode(o.mode, 0o666);
  if (enc === false || signal === false || flags === undefined || mode === undefined) return viaNode(o);
  if (signal?.aborted) return aborted(signal);
  return run(() => writeFileRing(e!, path, shown,
    typeof data === 'string' ? Buffer.from(data, enc ?? 'utf8') : data as ArrayBufferView, flags, mode, signal));
}

/** Writes a whole file (replacing it; `flag` 'a' appends). Data: string, Buffer, TypedArray, or an iterable. */
export const writeFile = rejecting(writeFile_) as
  (file: PathOrHandle, data: Parameters<typeof fsp.writeFile>[1], options?: Parameters<typeof fsp.writeFile>[2]) => Promise<void>;
function writeFile_(path: unknown, data: unknown, options?: unknown): Promise<void> {
  return writeLike(path, data, options, 0o1101 /* O_WRONLY | O_CREAT | O_TRUNC */,
    (o) => fsp.writeFile(path as string, data as string, o as never),
    (h, o) => h.writeFile(data, o as never));
}

/** Appends to a file, creating it if needed. */
export const appendFile = rejecting(appendFile_) as
  (path: PathOrHandle, data: Parameters<typeof fsp.appendFile>[1], options?: Parameters<typeof fsp.appendFile>[2]) => Promise<void>;
function appendFile_(path: unknown, data: unknown, options?: unknown): Promise<void> {
  return writeLike(path, data, options, 0o2101 /* O_WRONLY | O_CREAT | O_APPEND */,
    (o) => fsp.appendFile(path as string, data as string, o as never),
    (h, o) => h.appendFile(data, o as never));
}

function statLike(path: unknown, options: unknown, nofollow: boolean): Promise<Stats> {
  const e = ring();
  // The path, then options.bigint, each read once, as Node reads them.
  const shown = e && plainPath(path);
  const usual = options === undefined || (options !== null && typeof options === 'object');
  const bigint = usual && options !== undefined ? (options as { bigint?: unknown }).bigint : undefined;
  if (shown === undefined || !usual || bigint) {
    const o = usual && options !== undefined ? { bigint } : options;
    return (nofollow ? fsp.lstat : fsp.stat)(path as string, o as never) as never;
  }
  return run(() => statRing(e!, path, shown, nofollow));
}

/** stat(2) as fs.Stats (statx on the ring; `{ bigint: true }` goes to node:fs). */
export const stat = rejecting(stat_) as typeof fsp.stat;
function stat_(path: unknown, options?: unknown): Promise<Stats> {
  return statLike(path, options, false);
}

/** lstat(2) as fs.Stats. */
export const lstat = rejecting(lstat_) as typeof fsp.lstat;
function lstat_(path: unknown, options?: unknown): Promise<Stats> {
  return statLike(path, options, true);
}

/** Removes a file or symbolic link (unlinkat on the ring). */
export const unlink = rejecting(unlink_) as typeof fsp.unlink;
function unlink_(path: unknown): Promise<void> {
  const e = ring();
  const shown = e && plainPath(path);
  if (shown === undefined) return fsp.unlink(path as string);
  return run(() => unlinkRing(e!, path, shown, false));
}

/** Removes an empty directory (unlinkat with AT_REMOVEDIR). */
export const rmdir = rejecting(rmdir_) as typeof fsp.rmdir;
function rmdir_(path: unknown, options?: unknown): Promise<void> {
  const e = ring();
  const shown = e && plainPath(path);
  if (shown === undefined || options !== undefined) return fsp.rmdir(path as string, options as never);
  return run(() => unlinkRing(e!, path, shown, true));
}

function twoPaths(kind: 'rename' | 'link', a: unknown, b: unknown, viaNode: () => Promise<void>): Promise<void> {
  const e = ring();
  const sa = e && plainPath(a);
  const sb = e && plainPath(b);
  if (sa === undefined || sb === undefined) return viaNode();
  return run(() => twoPathRing(e!, kind, a, sa, b, sb));
}

/** Renames a file or directory (renameat). */
export const rename = rejecting(rename_) as typeof fsp.rename;
function rename_(oldPath: unknown, newPath: unknown): Promise<void> {
  return twoPaths('rename', oldPath, newPath, () => fsp.rename(oldPath as string, newPath as string));
}

/** Creates a hard link (linkat). */
export const link = rejecting(link_) as typeof fsp.link;
function link_(existingPath: unknown, newPath: unknown): Promise<void> {
  return twoPaths('link', existingPath, newPath, () => fsp.link(existingPath as string, newPath as string));
}

const SYMLINK_TYPES = new Set(['dir', 'file', 'junction']);

/** Creates a symbolic link at `path` pointing at `target` (symlinkat); `type` ('dir', 'file', 'junction') has no effect on Linux. */
export const symlink = rejecting(symlink_) as typeof fsp.symlink;
function symlink_(target: unknown, path: unknown, type?: unknown): Promise<void> {
  const e = ring();
  const a = e && plainPath(target);
  const b = e && plainPath(path);
  // Node ignores a type that is not a string and refuses an unknown string
  // (ERR_FS_INVALID_SYMLINK_TYPE): those go to it.
  if (a === undefined || b === undefined || (typeof type === 'string' && !SYMLINK_TYPES.has(type))) {
    return fsp.symlink(target as string, path as string, type as string);
  }
  return run(() => twoPathRing(e!, 'symlink', target, a, path, b));
}

/**
 * Creates a directory (mkdirat). With `{ recursive: true }` creates missing
 * parents and resolves with the first directory created, or undefined.
 */
export const mkdir = rejecting(mkdir_) as typeof fsp.mkdir;
function mkdir_(path: unknown, options?: unknown): Promise<string | undefined> {
  const e = ring();
  let recursive = false;
  let mode: number | undefined = 0o777;
  if (typeof options === 'number' || typeof options === 'string') mode = fileMode(options, 0o777);
  else if (options !== undefined && options !== null) {
    if (typeof options !== 'object') mode = undefined;
    else {
      const { recursive: r, mode: m } = options as { recursive?: unknown; mode?: unknown }; // read once
      options = { recursive: r, mode: m };
      mode = fileMode(m, 0o777);
      if (r !== undefined && typeof r !== 'boolean') mode = undefined;
      recursive = r === true;
    }
  }
  // The path after the options, as Node reads them.
  const shown = e && plainPath(path);
  if (shown === undefined || mode === undefined) return fsp.mkdir(path as string, options as never);
  return run(() => mkdirRing(e!, path, shown, mode!, recursive));
}

/** Truncates a file to `len` bytes (open, ftruncate on the ring where the kernel has it, close). */
export const truncate = rejecting(truncate_) as typeof fsp.truncate;
function truncate_(path: unknown, len?: unknown): Promise<void> {
  const e = ring();
  const shown = e && plainPath(path);
  const n = len === undefined || len === null ? 0 : len;
  if (shown === undefined || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0
    || !e!.ring.probe().supports(Op.FTRUNCATE)) {
    return fsp.truncate(path as string, len as number);
  }
  return run(() => truncateRing(e!, path, shown, n));
}

/**
 * Copies a file (open, statx, open, read/write pieces, close on the ring, as
 * libuv's copyfile does it). `mode` COPYFILE_FICLONE(_FORCE) goes to
 * node:fs/promises, which can clone.
 */
export const copyFile = rejecting(copyFile_) as typeof fsp.copyFile;
function copyFile_(src: unknown, dest: unknown, mode?: unknown): Promise<void> {
  const e = ring();
  const a = e && plainPath(src);
  const b = e && plainPath(dest);
  if (a === undefined || b === undefined || (mode !== undefined && mode !== null && mode !== 0 && mode !== COPYFILE_EXCL)) {
    return fsp.copyFile(src as string, dest as string, mode as number);
  }
  return run(() => copyFileRing(e!, kernelPath(src, a), kernelPath(dest, b), mode === COPYFILE_EXCL));
}

const COPYFILE_EXCL = fsp.constants.COPYFILE_EXCL;

/**
 * Copies a file or a tree. A regular file with default options is copied on
 * the ring (see copyFile); everything else is node:fs/promises' cp.
 */
export const cp = rejecting(cp_) as typeof fsp.cp;
function cp_(src: unknown, dest: unknown, options?: unknown): Promise<void> {
  const e = ring();
  if (e === undefined || typeof src !== 'string' || typeof dest !== 'string' || options !== undefined
    || plainPath(src) === undefined || plainPath(dest) === undefined) {
    return fsp.cp(src as string, dest as string, options as never);
  }
  return run(async () => {
    if (!await cpFileRing(e, src, dest)) await fsp.cp(src, dest);
  });
}

/** io_uring has no operation for these: they are node:fs/promises' own, with its documentation. */
export const access = fsp.access;
export const chmod = fsp.chmod;
export const lchmod = fsp.lchmod;
export const chown = fsp.chown;
export const lchown = fsp.lchown;
export const utimes = fsp.utimes;
export const lutimes = fsp.lutimes;
export const opendir = fsp.opendir;
export const readdir = fsp.readdir;
export const readlink = fsp.readlink;
export const realpath = fsp.realpath;
export const mkdtemp = fsp.mkdtemp;
export const rm = fsp.rm;
export const statfs = fsp.statfs;
export const watch = fsp.watch;
export const constants = fsp.constants;
