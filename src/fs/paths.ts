// The path operations uring/fs runs on the ring, each a single SQE (or a few
// for open+write+close and recursive mkdir), failing with the errors
// node:fs/promises gives: the same syscall names, paths and messages.
import { AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_RDWR } from '../constants';
import type { Engine } from './backend';
import {
  closeFd, ftruncate, kernelPath, mkdirPath, openPath, statxPath, twoPath, unlinkPath,
} from './submit';
import { statxIsDir, toStats } from './stats';
import { systemError } from '../errors';
import { constants } from 'node:os';

const { EACCES, EEXIST, ENOENT, ENOSPC, ENOTDIR, EPERM } = constants.errno;
import { writeAll } from './whole';
import { viewLength } from '../memory';
import type { Stats } from 'node:fs';

/** stat/lstat of a path, as fs.Stats. */
export async function statRing(e: Engine, raw: unknown, shown: string, nofollow: boolean): Promise<Stats> {
  const p = kernelPath(raw, shown);
  const buf = await statxPath(e.ring, p, nofollow ? AT_SYMLINK_NOFOLLOW : 0, nofollow ? 'lstat' : 'stat');
  return toStats(buf);
}

/** unlink, or rmdir with `dir`. */
export async function unlinkRing(e: Engine, raw: unknown, shown: string, dir: boolean): Promise<void> {
  const p = kernelPath(raw, shown);
  await unlinkPath(e.ring, p, dir);
}

/** Two-path operations: rename, link, symlink (errors show `path -> dest`). */
export async function twoPathRing(e: Engine, kind: 'rename' | 'link' | 'symlink',
  rawA: unknown, a: string, rawB: unknown, b: string): Promise<void> {
  await twoPath(e.ring, kind, kernelPath(rawA, a), kernelPath(rawB, b));
}

const SLASH = 0x2f;

/** mkdir of one path given as bytes: 0 or -errno. */
function mkdirBytes(e: Engine, p: Buffer, mode: number): Promise<number> {
  return mkdirPath(e.ring, kernelPath(p, p.toString()), mode).then(() => 0, (err) => (err as { errno: number }).errno);
}

/** Whether a path given as bytes is a directory (following symlinks): the statx errno when it cannot be read. */
function dirBytes(e: Engine, p: Buffer): Promise<boolean | number> {
  return statxPath(e.ring, kernelPath(p, p.toString()), 0, 'stat').then(statxIsDir, (err) => (err as { errno: number }).errno);
}

/**
 * mkdir with `recursive`, step for step as Node's MKDirpAsync (node_file.cc)
 * does it, on the path's bytes (a Buffer path reaches the kernel byte for
 * byte): on ENOENT the parent is made first; on any other error the path is
 * stat()ed, and an existing non-directory (a file, a dangling symlink) in the
 * middle of the path gives ENOTDIR, at its end EEXIST or the stat's error.
 * Resolves with the first directory created (as a string), or undefined.
 */
async function mkdirp(e: Engine, path: Buffer, mode: number): Promise<string | undefined> {
  const fail = (errno: number, at: Buffer): never => { throw systemError(errno, 'mkdir', { path: at.toString() }); };
  const stack: Buffer[] = [path];
  let first: Buffer | undefined;
  while (stack.length > 0) {
    const p = stack.pop()!;
    let err = await mkdirBytes(e, p, mode);
    if (err === 0) {
      first ??= p;
      continue;
    }
    if (err === -EACCES || err === -ENOSPC || err === -ENOTDIR || err === -EPERM) fail(err, p);
    if (err === -ENOENT) {
      const cut = p.lastIndexOf(SLASH);
      const parent = cut < 0 ? p : p.subarray(0, cut);
      if (!parent.equals(p)) {
        stack.push(p, parent);
        continue;
      }
      if (stack.length > 0) continue;
      err = -EEXIST;
    }
    const dir = await dirBytes(e, p);
    if (err === -EEXIST && stack.length > 0) {
      if (dir === true) continue;
      fail(-ENOTDIR, p);
    }
    if (typeof dir === 'number') fail(dir, p);
    if (!dir) fail(-EEXIST, p);
    break;
  }
  return first?.toString();
}

/**
 * mkdir; with `recursive`, creates the missing parents and resolves with the
 * first directory it created (undefined when all existed), as Node does.
 */
export async function mkdirRing(e: Engine, raw: unknown, shown: string, mode: number, recursive: boolean): Promise<string | undefined> {
  if (!recursive) {
    await mkdirPath(e.ring, kernelPath(raw, shown), mode);
    return undefined;
  }
  const bytes = raw instanceof Uint8Array ? Buffer.from(raw) : Buffer.from(shown);
  return mkdirp(e, bytes, mode);
}

/** open, write everything in bounded pieces (checking `signal` between them), close: writeFile/appendFile of bytes. */
export async function writeFileRing(e: Engine, raw: unknown, shown: string, data: ArrayBufferView,
  flags: number, mode: number, signal: AbortSignal | undefined): Promise<void> {
  const ring = e.ring;
  const total = viewLength(data, 'data');
  const fd = await openPath(ring, kernelPath(raw, shown), flags | O_CLOEXEC, mode);
  try {
    await writeAll(e, fd, data, total, signal);
  } finally {
    await closeFd(ring, fd, true).catch(() => 0);
  }
}

/** truncate(path, len): open for writing, ftruncate, close. */
export async function truncateRing(e: Engine, raw: unknown, shown: string, len: number): Promise<void> {
  const ring = e.ring;
  const fd = await openPath(ring, kernelPath(raw, shown), O_RDWR | O_CLOEXEC, 0o666);
  try {
    await ftruncate(ring, fd, len);
  } finally {
    await closeFd(ring, fd).catch(() => 0);
  }
}
