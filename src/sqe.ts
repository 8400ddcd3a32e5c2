// struct io_uring_sqe as sixteen little-endian 32-bit words. This module is
// the only code that knows where a field lives; everything else fills an
// Operation (operation.ts) with plain values and lets encodeSqe() write it.
//
//   word  bytes   field
//   0     0..3    opcode (u8) | flags (u8) << 8 | ioprio (u16) << 16
//   1     4..7    fd (s32)
//   2-3   8..15   off, or addr2
//   4-5   16..23  addr, or splice_off_in
//   6     24..27  len
//   7     28..31  the opcode's flags: rw_flags, fsync_flags, open_flags, msg_flags, timeout_flags, ...
//   8-9   32..39  user_data
//   10    40..43  buf_index or buf_group (u16) | personality (u16) << 16
//   11    44..47  file_index, splice_fd_in, or addr_len
//   12-13 48..55  addr3 (also the start of cmd[] for IORING_OP_URING_CMD)
//   14-15 56..63  __pad2
import { SQE_WORDS } from './constants';

// 2 ** -32: scaling by a power of two is exact, and cheaper than dividing.
const INV_TWO_32 = 1 / 4294967296;

function put64(w: Uint32Array, at: number, v: number | bigint): void {
  if (typeof v === 'number') {
    // The stores convert with ToUint32: the low 32 bits, truncated toward
    // zero, so a negative value (-1: all ones) needs the floor.
    w[at] = v;
    w[at + 1] = v >= 0 ? v * INV_TWO_32 : Math.floor(v * INV_TWO_32);
  } else {
    putBig(w, at, v);
  }
}

// Apart, so that the number path above stays small enough to be inlined.
function putBig(w: Uint32Array, at: number, v: bigint): void {
  w[at] = Number(v & 0xffffffffn);
  w[at + 1] = Number((v >> 32n) & 0xffffffffn);
}

export function setOpcode(w: Uint32Array, i: number, v: number): void { w[i] = (w[i]! & ~0xff) | (v & 0xff); }
export function setFlags(w: Uint32Array, i: number, v: number): void { w[i] = (w[i]! & ~0xff00) | ((v & 0xff) << 8); }
export function addFlags(w: Uint32Array, i: number, v: number): void { w[i] = w[i]! | ((v & 0xff) << 8); }
export function setIoprio(w: Uint32Array, i: number, v: number): void { w[i] = (w[i]! & 0xffff) | ((v & 0xffff) << 16); }
export function setFd(w: Uint32Array, i: number, v: number): void { w[i + 1] = v; }
export function setOff(w: Uint32Array, i: number, v: number | bigint): void { put64(w, i + 2, v); }
export function setAddr(w: Uint32Array, i: number, v: number | bigint): void { put64(w, i + 4, v); }
export function setLen(w: Uint32Array, i: number, v: number): void { w[i + 6] = v; }
export function setOpFlags(w: Uint32Array, i: number, v: number): void { w[i + 7] = v; }
export function setUserData(w: Uint32Array, i: number, lo: number, hi: number): void { w[i + 8] = lo; w[i + 9] = hi; }
export function setBufIndex(w: Uint32Array, i: number, v: number): void { w[i + 10] = (w[i + 10]! & ~0xffff) | (v & 0xffff); }
export function setPersonality(w: Uint32Array, i: number, v: number): void { w[i + 10] = (w[i + 10]! & 0xffff) | ((v & 0xffff) << 16); }
export function setFileIndex(w: Uint32Array, i: number, v: number): void { w[i + 11] = v; }
export function setAddr3(w: Uint32Array, i: number, v: number | bigint): void { put64(w, i + 12, v); }

/** The user_data words of the SQE at `i`: [low, high]. */
export function userDataOf(w: Uint32Array, i: number): [number, number] {
  return [w[i + 8]!, w[i + 9]!];
}

/** The plain values of one SQE. Fields an operation leaves alone stay zero. */
export interface SqeValues {
  opcode: number;
  flags: number;
  ioprio: number;
  fd: number;
  off: number | bigint;
  addr: number | bigint;
  len: number;
  opFlags: number;
  bufIndex: number;
  fileIndex: number;
  addr3: number | bigint;
}

/** Writes a whole SQE at word `i`: every field from `s`, user_data from `lo`/`hi`, the rest zero. */
export function encodeSqe(w: Uint32Array, i: number, s: SqeValues, lo: number, hi: number): void {
  encodeEntry(w, i, s, s.addr, s.len, s.off, lo, hi);
}

/**
 * encodeSqe() of `s` with its own addr, len and off: one entry of a batch
 * whose entries differ only there.
 */
export function encodeEntry(w: Uint32Array, i: number, s: SqeValues, addr: number | bigint, len: number,
  off: number | bigint, lo: number, hi: number): void {
  w[i] = (s.opcode & 0xff) | ((s.flags & 0xff) << 8) | ((s.ioprio & 0xffff) << 16);
  w[i + 1] = s.fd;
  // put64 by hand for numbers, the usual case: every request passes here,
  // and a batch places dozens of entries in one call.
  if (typeof off === 'number') {
    w[i + 2] = off;
    w[i + 3] = off >= 0 ? off * INV_TWO_32 : Math.floor(off * INV_TWO_32);
  } else {
    putBig(w, i + 2, off);
  }
  if (typeof addr === 'number') {
    w[i + 4] = addr;
    w[i + 5] = addr >= 0 ? addr * INV_TWO_32 : Math.floor(addr * INV_TWO_32);
  } else {
    putBig(w, i + 4, addr);
  }
  w[i + 6] = len;
  w[i + 7] = s.opFlags;
  w[i + 8] = lo;
  w[i + 9] = hi;
  w[i + 10] = s.bufIndex & 0xffff;
  w[i + 11] = s.fileIndex;
  const a3 = s.addr3;
  if (a3 === 0) { w[i + 12] = 0; w[i + 13] = 0; } else { put64(w, i + 12, a3); }
  w[i + 14] = 0;
  w[i + 15] = 0;
}

export { SQE_WORDS };
