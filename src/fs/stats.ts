// struct statx as the fs.Stats object node:fs returns, field for field.
import { Stats } from 'node:fs';
import { Statx } from '../statx';

type StatsCtor = new (...fields: number[]) => Stats;

/** An fs.Stats built from a filled statx buffer, equal to the one node:fs would return. */
export function toStats(buf: Uint8Array): Stats {
  const s = new Statx(buf);
  return new (Stats as unknown as StatsCtor)(s.dev, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.blksize,
    s.ino, s.size, s.blocks, s.atimeMs, s.mtimeMs, s.ctimeMs, s.birthtimeMs);
}

/** The size field of a filled statx buffer. */
export function statxSize(buf: Uint8Array): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return Number(dv.getBigUint64(40, true));
}

/** Whether a filled statx buffer describes a regular file. */
export function statxIsFile(buf: Uint8Array): boolean {
  return ((buf[28]! | (buf[29]! << 8)) & 0o170000) === 0o100000;
}

/** Whether a filled statx buffer describes a directory. */
export function statxIsDir(buf: Uint8Array): boolean {
  return ((buf[28]! | (buf[29]! << 8)) & 0o170000) === 0o040000;
}
