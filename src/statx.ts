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
  /** ID of the device holding the file. */
  readonly dev: number;
  /** Inode number. */
  readonly ino: number;
  /** File type and permission bits (S_IF* | 0o7777). */
  readonly mode: number;
  /** Number of hard links. */
  readonly nlink: number;
  /** Owner user ID. */
  readonly uid: number;
  /** Owner group ID. */
  readonly gid: number;
  /** Device ID, for a device file. */
  readonly rdev: number;
  /** Size in bytes. */
  readonly size: number;
  /** Preferred I/O block size. */
  readonly blksize: number;
  /** Number of 512-byte blocks allocated. */
  readonly blocks: number;
  /** Last access time, in milliseconds since the epoch. */
  readonly atimeMs: number;
  /** Last modification time, in milliseconds since the epoch. */
  readonly mtimeMs: number;
  /** Last status change time, in milliseconds since the epoch. */
  readonly ctimeMs: number;
  /** Birth time, or 0 when the filesystem does not record it. */
  readonly birthtimeMs: number;
  /** Last access time, in nanoseconds since the epoch. */
  readonly atimeNs: bigint;
  /** Last modification time, in nanoseconds since the epoch. */
  readonly mtimeNs: bigint;
  /** Last status change time, in nanoseconds since the epoch. */
  readonly ctimeNs: bigint;
  /** Birth time in nanoseconds, or 0n when the filesystem does not record it. */
  readonly birthtimeNs: bigint;
  /** STATX_ATTR_* bits (compressed, immutable, append-only, ...). */
  readonly attributes: bigint;
  /** Decodes a struct statx the kernel filled in. */
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
  /** Whether this is a regular file. */
  isFile(): boolean { return (this.mode & S_IFMT) === 0o100000; }
  /** Whether this is a directory. */
  isDirectory(): boolean { return (this.mode & S_IFMT) === 0o040000; }
  /** Whether this is a symbolic link (only when the link itself was examined). */
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === 0o120000; }
  /** Whether this is a FIFO (named pipe). */
  isFIFO(): boolean { return (this.mode & S_IFMT) === 0o010000; }
  /** Whether this is a socket. */
  isSocket(): boolean { return (this.mode & S_IFMT) === 0o140000; }
  /** Whether this is a character device. */
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === 0o020000; }
  /** Whether this is a block device. */
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === 0o060000; }
}

/** glibc's makedev(): the dev_t encoding node:fs reports. */
export function makedev(major: number, minor: number): number {
  const lo = ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
  const hi = (major & ~0xfff) >>> 0;
  return (lo >>> 0) + hi * 2 ** 32;
}
