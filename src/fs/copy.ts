// copyFile on the ring, step for step as libuv's uv__fs_copyfile (which
// node:fs uses): open the source, statx it, open (create) the destination with
// the source's mode, unless O_EXCL: stop if both are the same file, else
// truncate it; give it the source's permission bits; copy st_size bytes;
// close both; on failure remove the destination it opened. The bytes go
// through a library buffer in bounded pieces (READ then WRITE, offloaded to a
// kernel worker when large), never through the event loop's thread for long.
// Errors are Node's: syscall 'copyfile', path and dest.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, Op } from '../constants';
import { dirname } from 'node:path';
import { OPS } from '../opcodes';
import { Statx } from '../statx';
import { systemError } from '../errors';
import type { Engine } from './backend';
import { KernelPath, closeFd, ftruncate, kernelPath, openPath, rw, statxPath, unlinkPath } from './submit';
import { PIECE } from './whole';

const fchmod = promisify(fs.fchmod);
const OFFLOAD = 256 * 1024;
const EPERM = -1;

/** An errno from a failed step (a system error), or the error itself when it is not one. */
function errnoOf(err: unknown): number {
  const n = (err as { errno?: unknown }).errno;
  if (typeof n === 'number' && n < 0) return n;
  throw err;
}

/** Copies st_size bytes of `src` to `dst` in pieces. */
async function copyBytes(e: Engine, src: number, dst: number, size: number): Promise<void> {
  const buf = Buffer.allocUnsafeSlow(Math.max(1, Math.min(size, PIECE)));
  let at = 0;
  while (at < size) {
    const want = Math.min(buf.length, size - at);
    const n = await rw(e.ring, OPS.read, src, buf, 0, want, at, 'read', want >= OFFLOAD);
    if (n === 0) break;
    let done = 0;
    while (done < n) done += await rw(e.ring, OPS.write, dst, buf, done, n - done, at + done, 'write', n >= OFFLOAD);
    at += n;
  }
}

/** The process umask, read once (open() masks a new file's mode with it). */
let umask: number | undefined;
function currentUmask(): number {
  // process.umask() without an argument is documented as deprecated (no
  // warning) and is the only way to read it; 0o022 when it cannot be read.
  if (umask === undefined) {
    try { umask = process.umask(); } catch { umask = 0o022; }
  }
  return umask;
}

/**
 * copyFile(src, dest, mode) with mode 0 or COPYFILE_EXCL. The statx calls
 * are made by path alongside the source's open (one enter for the three):
 * the destination's tells whether it is the source itself (then nothing is
 * done, as libuv does) and which mode it has, so the destination can be
 * opened with O_TRUNC and fchmod()ed only when its mode differs.
 */
export async function copyFileRing(e: Engine, src: KernelPath, dest: KernelPath, excl: boolean): Promise<void> {
  const ring = e.ring;
  const fail = (errno: number): Error => systemError(errno, 'copyfile', { path: src.shown, dest: dest.shown });
  let srcFd = -1;
  let dstFd = -1;
  let result = 0;
  let big = false;
  let cut = false;
  let special = false;
  const opened = openPath(ring, src, O_RDONLY | O_CLOEXEC, 0).then((fd) => { srcFd = fd; return fd; });
  try {
    const [, srcStat, dstStat] = await Promise.all([
      opened,
      statxPath(ring, src, 0, 'stat'),
      excl ? undefined : statxPath(ring, dest, 0, 'stat').then((b) => new Statx(b), () => undefined),
    ]);
    const st = new Statx(srcStat);
    const mode = st.mode & 0o7777;
    if (dstStat !== undefined && dstStat.dev === st.dev && dstStat.ino === st.ino) return;
    // An existing destination is overwritten in place and cut to size after,
    // rather than truncated first: the end state is libuv's, and opening
    // without O_CREAT/O_TRUNC runs inline instead of on a kernel worker.
    const flags = dstStat !== undefined ? O_WRONLY : O_WRONLY | O_CREAT | (excl ? O_EXCL : 0);
    dstFd = await openPath(ring, dest, flags | O_CLOEXEC, mode);
    // libuv truncates an existing destination first; that fails EINVAL on
    // a FIFO or a device, and the copy fails as Node's. (libuv then unlinks
    // it, /dev/null included; we leave a FIFO or device where it is.)
    if (dstStat !== undefined && (dstStat.mode & 0o170000) !== 0o100000) {
      special = true;
      throw fail(-22);
    }
    const has = dstStat !== undefined ? dstStat.mode & 0o7777 : mode & ~currentUmask();
    // libuv gives the destination the source's mode exactly (fchmod, EPERM ignored).
    if (has !== mode) {
      try {
        await fchmod(dstFd, mode);
      } catch (err) {
        if (errnoOf(err) !== EPERM) throw err;
      }
    }
    await copyBytes(e, srcFd, dstFd, st.size);
    if (dstStat !== undefined && dstStat.size > st.size) {
      cut = true;
      if (ring.probe().supports(Op.FTRUNCATE)) await ftruncate(ring, dstFd, st.size);
      else await promisify(fs.ftruncate)(dstFd, st.size);
    }
    big = st.size >= OFFLOAD;
  } catch (err) {
    await opened.catch(() => -1);
    result = errnoOf(err);
  } finally {
    const closing: Promise<number>[] = [];
    if (srcFd >= 0) closing.push(closeFd(ring, srcFd).catch(() => 0));
    if (dstFd >= 0) closing.push(closeFd(ring, dstFd, big || cut) /* the last close of a rewritten file starts its writeback */.then(() => 0, errnoOf));
    const codes = await Promise.all(closing);
    if (dstFd >= 0) {
      if (result === 0) result = codes[codes.length - 1]!;
      if (result !== 0 && !special) await unlinkPath(ring, dest, false).catch(() => 0);
    }
  }
  if (result !== 0) throw fail(result);
}

/**
 * cp(src, dest) of a regular file with default options, on the ring: the
 * copy Node's cp makes in that case (lstat both, an existing regular
 * destination removed first since `force` is on, then copyFile, whose mode is
 * already the source's). Resolves false, having changed nothing, for every
 * other case, which node:fs/promises' cp then handles.
 */
export async function cpFileRing(e: Engine, src: string, dest: string): Promise<boolean> {
  const ring = e.ring;
  const s = kernelPath(src, src);
  const d = kernelPath(dest, dest);
  const look = (p: KernelPath, flags: number): Promise<Statx | undefined> =>
    statxPath(ring, p, flags, 'lstat').then((b) => new Statx(b), () => undefined);
  const parent = dirname(dest);
  const [st, dt, pt] = await Promise.all([
    look(s, AT_SYMLINK_NOFOLLOW),
    look(d, AT_SYMLINK_NOFOLLOW),
    look(kernelPath(parent, parent), 0),
  ]);
  if (st === undefined || (st.mode & S_IFMT) !== S_IFREG) return false;
  if (pt === undefined || (pt.mode & S_IFMT) !== S_IFDIR) return false;
  if (dt !== undefined) {
    if ((dt.mode & S_IFMT) !== S_IFREG || (dt.dev === st.dev && dt.ino === st.ino)) return false;
    await unlinkPath(ring, d, false);
  }
  await copyFileRing(e, s, d, false);
  return true;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
