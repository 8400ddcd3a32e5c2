// The path operations uring/fs runs on the ring, each a single SQE (or a few
// for open+write+close and recursive mkdir), failing with the errors
// node:fs/promises gives: the same syscall names, paths and messages.
import { dirname } from 'node:path';
import { AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_RDWR } from '../constants';
import type { Engine } from './backend';
import {
  closeFd, ftruncate, kernelPath, mkdirPath, openPath, statxPath, twoPath, unlinkPath,
} from './submit';
import { toStats } from './stats';
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

function mkdirOne(e: Engine, raw: unknown, shown: string, mode: number): Promise<number> {
  return mkdirPath(e.ring, kernelPath(raw, shown), mode);
}

async function isDir(e: Engine, shown: string): Promise<boolean> {
  try {
    return (await statRing(e, shown, shown, false)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * mkdir; with `recursive`, creates the missing parents and resolves with the
 * first directory it created (undefined when all existed), as Node does.
 */
export async function mkdirRing(e: Engine, raw: unknown, shown: string, mode: number, recursive: boolean): Promise<string | undefined> {
  if (!recursive) {
    await mkdirOne(e, raw, shown, mode);
    return undefined;
  }
  try {
    await mkdirOne(e, raw, shown, mode);
    return shown;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST' && await isDir(e, shown)) return undefined;
    if (code !== 'ENOENT') throw err;
    const parent = dirname(shown);
    if (parent === shown) throw err;
    const first = await mkdirRing(e, parent, parent, mode, true);
    try {
      await mkdirOne(e, shown, shown, mode);
    } catch (again) {
      if ((again as { code?: string }).code === 'EEXIST' && await isDir(e, shown)) return first;
      throw again;
    }
    return first ?? shown;
  }
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
