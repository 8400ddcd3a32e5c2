// The SQE layout, pinned to the byte offsets of struct io_uring_sqe in the
// kernel's UAPI header: every field written by encodeSqe() and by its named
// setter lands where the kernel reads it, and nowhere else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as sqe from '../../src/sqe';

// name: [byte offset, size in bytes] in struct io_uring_sqe.
const FIELDS: Record<string, [number, number]> = {
  opcode: [0, 1], flags: [1, 1], ioprio: [2, 2], fd: [4, 4], off: [8, 8], addr: [16, 8], len: [24, 4],
  opFlags: [28, 4], userData: [32, 8], bufIndex: [40, 2], personality: [42, 2], fileIndex: [44, 4], addr3: [48, 8],
};

function bytesOf(w: Uint32Array): Uint8Array {
  return new Uint8Array(w.buffer, w.byteOffset, 64);
}

/** The bytes a field holds, as a little-endian bigint. */
function read(w: Uint32Array, name: string): bigint {
  const [at, size] = FIELDS[name]!;
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytesOf(w)[at + k]!);
  return v;
}

/** Asserts that every byte outside `names` is zero. */
function onlyTouched(w: Uint32Array, names: string[]): void {
  const b = bytesOf(w);
  const mine = new Set<number>();
  for (const n of names) for (let k = 0; k < FIELDS[n]![1]; k++) mine.add(FIELDS[n]![0] + k);
  for (let k = 0; k < 64; k++) if (!mine.has(k)) assert.equal(b[k], 0, `byte ${k} is not part of ${names.join(', ')}`);
}

describe('SQE layout', () => {
  it('encodeSqe() puts each field at its UAPI offset and zeroes the rest', () => {
    const w = new Uint32Array(32).fill(0xffffffff);
    const vals = {
      opcode: 0x16, flags: 0x05, ioprio: 0x1234, fd: 0x7eadbeef, off: 0x0102030405060708n,
      addr: 0x1112131415161718n, len: 0x21222324, opFlags: 0x31323334, bufIndex: 0x4142, fileIndex: 0x51525354,
      addr3: 0x6162636465666768n,
    };
    sqe.encodeSqe(w, 0, vals, 0x71727374, 0x75767778);
    for (const [k, v] of Object.entries(vals)) assert.equal(read(w, k), BigInt(v), k);
    assert.equal(read(w, 'userData'), 0x7576777871727374n);
    assert.equal(read(w, 'personality'), 0n);
    for (let k = 56; k < 64; k++) assert.equal(bytesOf(w)[k], 0, `__pad2 byte ${k}`);
    assert.equal(w[16], 0xffffffff, 'the next SQE is untouched');
  });

  it('encodes -1 offsets (the file position) as all ones and numbers above 2**32 exactly', () => {
    const w = new Uint32Array(16);
    sqe.encodeSqe(w, 0, { opcode: 22, flags: 0, ioprio: 0, fd: -1, off: -1, addr: 2 ** 47 + 4096, len: 4096,
      opFlags: 0, bufIndex: 0, fileIndex: 0, addr3: 0 }, 0, 0);
    assert.equal(read(w, 'off'), 0xffffffffffffffffn);
    assert.equal(read(w, 'fd'), 0xffffffffn);
    assert.equal(read(w, 'addr'), BigInt(2 ** 47 + 4096));
  });

  const setters: [string, (w: Uint32Array, v: number) => void, number][] = [
    ['opcode', (w, v) => sqe.setOpcode(w, 0, v), 0xab],
    ['flags', (w, v) => sqe.setFlags(w, 0, v), 0xcd],
    ['ioprio', (w, v) => sqe.setIoprio(w, 0, v), 0xbeef],
    ['fd', (w, v) => sqe.setFd(w, 0, v), 0x12345678],
    ['off', (w, v) => sqe.setOff(w, 0, v), 2 ** 40 + 3],
    ['addr', (w, v) => sqe.setAddr(w, 0, v), 2 ** 41 + 5],
    ['len', (w, v) => sqe.setLen(w, 0, v), 0x9abcdef0],
    ['opFlags', (w, v) => sqe.setOpFlags(w, 0, v), 0x0fedcba9],
    ['userData', (w, v) => sqe.setUserData(w, 0, v, 7), 9],
    ['bufIndex', (w, v) => sqe.setBufIndex(w, 0, v), 0xfeed],
    ['personality', (w, v) => sqe.setPersonality(w, 0, v), 0xface],
    ['fileIndex', (w, v) => sqe.setFileIndex(w, 0, v), 0x13579bdf],
    ['addr3', (w, v) => sqe.setAddr3(w, 0, v), 2 ** 45 + 7],
  ];
  for (const [name, set, v] of setters) {
    it(`the ${name} setter writes bytes ${FIELDS[name]![0]}..${FIELDS[name]![0] + FIELDS[name]![1] - 1} only`, () => {
      const w = new Uint32Array(16);
      set(w, v);
      const want = name === 'userData' ? (7n << 32n) | BigInt(v) : BigInt(v);
      assert.equal(read(w, name), want);
      onlyTouched(w, [name]);
    });
  }

  it('addFlags() keeps the opcode and ioprio and the flags already set', () => {
    const w = new Uint32Array(16);
    sqe.setOpcode(w, 0, 22);
    sqe.setIoprio(w, 0, 0x8001);
    sqe.setFlags(w, 0, 1);
    sqe.addFlags(w, 0, 4);
    assert.equal(read(w, 'opcode'), 22n);
    assert.equal(read(w, 'flags'), 5n);
    assert.equal(read(w, 'ioprio'), 0x8001n);
  });
});
