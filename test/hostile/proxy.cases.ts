// Class 4 of issue 12: arrays that change while the library reads them. A
// Proxy of an array reports length 1 for its first `k` reads and 64 after
// (the other 63 elements are real views of a "victim" buffer); an array whose
// element 0 is a getter answers a different view the second time. Read once,
// such an array is one buffer: the kernel must see exactly the views the
// library validated, never more iovecs than it built, never views it does
// not keep alive.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync, constants as FS } from 'node:fs';
import { Ring } from '../../src/index';
import type { Shape } from '../helpers';
import {
  Canaries, call, closeWithin, collect, delay, makePipe, pattern, refusalViolation, ringOf, scratchDir, settled, watch,
} from './harness';

/** A Proxy of `target` whose length reads as 1 for the first `k` reads, then as target.length. */
function growingArray<T>(target: T[], k: number): T[] {
  let reads = 0;
  return new Proxy(target, {
    get(t, key, receiver) {
      if (key === 'length') return ++reads <= k ? 1 : t.length;
      return Reflect.get(t, key, receiver);
    },
  });
}

type Vec = 'readv' | 'writev' | 'chain.readv' | 'chain.writev' | 'readMany' | 'writeMany';

async function vec(ring: Ring, op: Vec, fd: number, bufs: ArrayBufferView[]): Promise<number> {
  if (op === 'readv') return call(op, () => ring.readv(fd, bufs, -1));
  if (op === 'writev') return call(op, () => ring.writev(fd, bufs, 0));
  // A batch over the Proxy with one position: it holds one entry, or is refused.
  if (op === 'readMany') return call(op, () => ring.readMany(fd, bufs, [-1])).then((c) => c.reduce((a, b) => a + b, 0));
  if (op === 'writeMany') return call(op, () => ring.writeMany(fd, bufs, [0])).then((c) => c.reduce((a, b) => a + b, 0));
  // A chain's builder validates at once and may throw: that is a refusal.
  const c = op === 'chain.readv' ? ring.chain().readv(fd, bufs, -1) : ring.chain().writev(fd, bufs, 0);
  const [r] = await call('chain.submit', () => c.submit());
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/**
 * readv (plain and in a chain) from /dev/urandom with a growing Proxy: at
 * most the first buffer's 16 bytes are read, and none of the 63 victim views
 * is written.
 */
export async function readvProxyGrows(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const urandom = openSync('/dev/urandom', 'r');
  const violations: string[] = [];
  const outcomes: string[] = [];
  try {
    for (const op of ['readv', 'chain.readv', 'readMany'] as Vec[]) {
      for (const k of [1, 2, 3, 4]) {
        const what = `${op} of a Proxy whose length is 1 for ${k} read(s), then 64`;
        const real = new Uint8Array(16);
        const victim = new ArrayBuffer(63 * 256);
        const target: ArrayBufferView[] = [real];
        for (let j = 0; j < 63; j++) target.push(new Uint8Array(victim, j * 256, 256));
        try {
          const n = await vec(ring, op, urandom, growingArray(target, k));
          outcomes.push(`${what}: ${n}`);
          if (n > 16) violations.push(`${what}: resolved ${n} bytes, the array it validated holds 16`);
        } catch (err) {
          outcomes.push(`${what}: rejected`);
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
        }
        if (!new Uint8Array(victim).every((b) => b === 0)) violations.push(`${what}: views beyond the validated length were written`);
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'readv of growing arrays');
    return outcomes;
  } finally {
    closeSync(urandom);
    await closeWithin(ring, 2000);
  }
}

/**
 * writev (plain and in a chain) to a file with a growing Proxy: the file holds
 * only the first buffer's 6 bytes, or nothing if the call was refused.
 */
export async function writevProxyGrows(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const violations: string[] = [];
  const outcomes: string[] = [];
  try {
    let i = 0;
    for (const op of ['writev', 'chain.writev', 'writeMany'] as Vec[]) {
      for (const k of [1, 2, 3, 4]) {
        const what = `${op} of a Proxy whose length is 1 for ${k} read(s), then 64`;
        const real = Buffer.from('ABCDEF');
        const target: ArrayBufferView[] = [real];
        for (let j = 0; j < 63; j++) target.push(Buffer.alloc(256, 0x5a));
        const file = dir.path(`f${i++}`);
        writeFileSync(file, '');
        const fd = openSync(file, FS.O_WRONLY);
        try {
          const n = await vec(ring, op, fd, growingArray(target, k));
          outcomes.push(`${what}: ${n}`);
          const got = readFileSync(file);
          if (!got.equals(real)) violations.push(`${what}: the file got ${got.length} bytes, expected 'ABCDEF'`);
          if (n !== got.length) violations.push(`${what}: resolved ${n}, the file got ${got.length}`);
        } catch (err) {
          outcomes.push(`${what}: rejected`);
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
          const got = readFileSync(file);
          if (got.length !== 0) violations.push(`${what}: refused, yet the file got ${got.length} bytes`);
        } finally {
          closeSync(fd);
        }
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'writev of growing arrays');
    return outcomes;
  } finally {
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/**
 * readv with an array whose element 0 is a getter: the first read answers a
 * fresh 64 KiB view nobody else references, every later read answers `kept`.
 * Read once, the kernel writes into the fresh view, which the library must
 * then keep alive: the fresh buffers allocated after a collection stay
 * untouched, and so does `kept`.
 */
export async function readvElementGetterChanges(shape: Shape): Promise<unknown> {
  const SIZE = 65536;
  const ring = ringOf(shape);
  const pipe = makePipe();
  try {
    const kept = new Uint8Array(SIZE);
    const arr: ArrayBufferView[] = [kept, new Uint8Array(8)];
    let reads = 0;
    Object.defineProperty(arr, 0, { get: () => (++reads === 1 ? new Uint8Array(SIZE) : kept) });
    const o = watch(call('ring.readv', () => ring.readv(pipe.r, arr, -1)));
    await delay(10);
    await collect();
    const canaries = new Canaries(SIZE, 512);
    writeSync(pipe.w, pattern(SIZE, 31));
    await settled(o, 3000, 'readv with a changing element');
    if (o.status === 'fulfilled') {
      assert.ok((o.value as number) <= SIZE + 8, `resolved ${o.value}`);
    } else {
      const v = refusalViolation(o.error, 'readv with a changing element');
      assert.equal(v, undefined, v);
    }
    canaries.check('readv with an element getter');
    assert.ok(kept.every((b) => b === 0), 'the view the element answered on later reads was not used');
    return { status: o.status, reads };
  } finally {
    pipe.close();
    await closeWithin(ring, 2000);
  }
}

/**
 * writev with an element getter answering 'ABCDEF' first and 12 'Z' bytes
 * later: the file holds the bytes of one and the same view, 'ABCDEF', then
 * the honest tail.
 */
export async function writevElementGetterChanges(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  try {
    const file = dir.path('f');
    writeFileSync(file, '');
    const fd = openSync(file, FS.O_WRONLY);
    try {
      const arr: ArrayBufferView[] = [Buffer.alloc(0), Buffer.from('!')];
      let reads = 0;
      Object.defineProperty(arr, 0, { get: () => (++reads === 1 ? Buffer.from('ABCDEF') : Buffer.alloc(12, 0x5a)) });
      let n: number;
      try {
        n = await call('ring.writev', () => ring.writev(fd, arr, 0));
      } catch (err) {
        const v = refusalViolation(err, 'writev with a changing element');
        assert.equal(v, undefined, v);
        assert.equal(readFileSync(file).length, 0, 'refused, and the file is empty');
        return { status: 'rejected' };
      }
      const got = readFileSync(file, 'latin1');
      assert.equal(got, 'ABCDEF!', 'the file holds the first answer of the getter, then the tail');
      assert.equal(n, 7);
      return { status: 'fulfilled', reads };
    } finally {
      closeSync(fd);
    }
  } finally {
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}
