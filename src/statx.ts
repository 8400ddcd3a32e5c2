// struct statx as a JS object with the names node:fs uses.
import { STATX_BTIME } from './constants';

/** sizeof(struct statx). */
export const STATX_SIZE = 256;

const S_IFMT = 0o170000;

function ms(dv: DataView, at: number): number {
  return Number(dv.getBigInt64(at, true)) * 1000 + dv.getUint32(at + 8, true) / 1e6;
}

function ns(dv: DataView, at: number): bigint {
  return dv.getBigInt64(at, true) * 1000000000n + BigInt(dv.getUint32(at + 8, true));
}

/** The result of statx(2), with node:fs Stats' field names. */
export class Statx {
  /** STATX_* bits of the fields the kernel filled in. */
  readonly mask: number;
  readonly dev: number;
  readonly ino: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  /** Birth time, or 0 when the filesystem does not record it. */
  readonly birthtimeMs: number;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly birthtimeNs: bigint;
  readonly attributes: bigint;
  constructor(buf: Uint8Array) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.mask = dv.getUint32(0, true);
    this.blksize = dv.getUint32(4, true);
    this.attributes = dv.getBigUint64(8, true);
    this.nlink = dv.getUint32(16, true);
    this.uid = dv.getUint32(20, true);
    this.gid = dv.getUint32(24, true);
    this.mode = dv.getUint16(28, true);
    this.ino = Number(dv.getBigUint64(32, true));
    this.size = Number(dv.getBigUint64(40, true));
    this.blocks = Number(dv.getBigUint64(48, true));
    this.atimeMs = ms(dv, 64);
    this.atimeNs = ns(dv, 64);
    const hasBirth = (this.mask & STATX_BTIME) !== 0;
    this.birthtimeMs = hasBirth ? ms(dv, 80) : 0;
    this.birthtimeNs = hasBirth ? ns(dv, 80) : 0n;
    this.ctimeMs = ms(dv, 96);
    this.ctimeNs = ns(dv, 96);
    this.mtimeMs = ms(dv, 112);
    this.mtimeNs = ns(dv, 112);
    // Node encodes dev_t the way glibc's makedev() does.
    this.rdev = makedev(dv.getUint32(128, true), dv.getUint32(132, true));
    this.dev = makedev(dv.getUint32(136, true), dv.getUint32(140, true));
  }
  isFile(): boolean { return (this.mode & S_IFMT) === 0o100000; }
  isDirectory(): boolean { return (this.mode & S_IFMT) === 0o040000; }
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === 0o120000; }
  isFIFO(): boolean { return (this.mode & S_IFMT) === 0o010000; }
  isSocket(): boolean { return (this.mode & S_IFMT) === 0o140000; }
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === 0o020000; }
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === 0o060000; }
}

/** glibc's makedev(): the dev_t encoding node:fs reports. */
export function makedev(major: number, minor: number): number {
  const lo = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
  const hi = (major & ~0xfff) >>> 0;
  return (lo >>> 0) + hi * 2 ** 32;
}
