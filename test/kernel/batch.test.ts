// ring.readMany / ring.writeMany: many reads or writes on one file, one
// promise, settled only when every entry's CQE has come.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { Ring } from '../../src/index';
import { native } from '../../src/native';
import { shapes, tempDir } from '../helpers';

/** Runs `f` with a ring of 8 entries and /dev/zero open for reading; closes both. */
async function withZero(f: (ring: Ring, fd: number) => Promise<void>): Promise<void> {
  const ring = new Ring({ entries: 8 });
  const fd = openSync('/dev/zero', 'r');
  try {
    await f(ring, fd);
  } finally {
    closeSync(fd);
    await ring.close();
  }
}

/** A file whose byte at offset i is (i * 7 + (i >> 12)) & 0xff. */
function patterned(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 12)) & 0xff;
  return b;
}

for (const shape of shapes()) {
  describe(`readMany/writeMany on a ${shape.name} ring`, () => {
    it('reads each buffer at its position and resolves with every count, short at the end of the file', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      const content = patterned(64 * 1024 + 100);
      writeFileSync(tmp.path('f'), content);
      const fd = openSync(tmp.path('f'), 'r');
      try {
        // 40 entries: more than the tiny ring's SQ and CQ hold at once.
        const arena = Buffer.alloc(40 * 512);
        const bufs = Array.from({ length: 40 }, (_, k) => arena.subarray(k * 512, (k + 1) * 512));
        const positions = bufs.map((_, k) => (k * 1637) % (64 * 1024));
        positions[39] = 64 * 1024; // 100 bytes before the end
        const counts = await ring.readMany(fd, bufs, positions);
        assert.equal(counts.length, 40);
        for (let k = 0; k < 40; k++) {
          const want = Math.min(512, content.length - positions[k]!);
          assert.equal(counts[k], want, `entry ${k}`);
          assert.deepEqual(bufs[k]!.subarray(0, want), content.subarray(positions[k]!, positions[k]! + want), `entry ${k}`);
        }
        assert.equal(ring.pending, 0);
      } finally {
        closeSync(fd);
        await ring.close();
        tmp.cleanup();
      }
    });

    it('writeMany writes each buffer at its position, views of separate buffers and bigint positions alike', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      const fd = openSync(tmp.path('f'), 'w+');
      try {
        const bufs = [Buffer.from('alpha'), new Uint8Array(Buffer.from('beta')), new DataView(new TextEncoder().encode('gamma').buffer)];
        const counts = await ring.writeMany(fd, bufs, [0, 10n, 20]);
        assert.deepEqual(counts, [5, 4, 5]);
        const got = readFileSync(tmp.path('f'));
        assert.equal(got.subarray(0, 5).toString(), 'alpha');
        assert.equal(got.subarray(10, 14).toString(), 'beta');
        assert.equal(got.subarray(20, 25).toString(), 'gamma');
      } finally {
        closeSync(fd);
        await ring.close();
        tmp.cleanup();
      }
    });

    it('an empty batch resolves with no entries and submits nothing', async () => {
      const ring = new Ring(shape.options);
      try {
        const before = ring.stats.submitted;
        assert.deepEqual(await ring.readMany(0, [], []), []);
        assert.equal(ring.stats.submitted, before);
      } finally {
        await ring.close();
      }
    });

    it('a failed entry rejects with a Node-shaped error naming it, after every entry completed', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      const fd = openSync(tmp.path('f'), 'w+');
      try {
        // A write past the largest offset the filesystem allows fails with
        // EFBIG; the entries around it succeed.
        const bufs = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
        const err = await ring.writeMany(fd, bufs, [0, 2n ** 63n - 2n, 8]).then(() => null, (e: unknown) => e) as
          Error & { code?: string; errno?: number; syscall?: string; index?: number; results?: number[] };
        assert.ok(err instanceof Error);
        assert.equal(err.syscall, 'write');
        assert.equal(typeof err.code, 'string');
        assert.ok(err.errno! < 0);
        assert.equal(err.index, 1);
        assert.equal(err.results![0], 3);
        assert.ok(err.results![1]! < 0);
        assert.equal(err.results![2], 5);
        // Both other writes landed before the promise settled.
        const got = readFileSync(tmp.path('f'));
        assert.equal(got.subarray(0, 3).toString(), 'one');
        assert.equal(got.subarray(8, 13).toString(), 'three');
        assert.equal(ring.pending, 0);
      } finally {
        closeSync(fd);
        await ring.close();
        tmp.cleanup();
      }
    });
  });
}

describe('readMany/writeMany refuse bad input before any SQE', () => {
  const cases: [string, (ring: Ring, fd: number) => Promise<unknown>, string, RegExp][] = [
    ['buffers not an array', (r, fd) => r.readMany(fd, 'x' as never, []), 'ERR_INVALID_ARG_TYPE', /"buffers"/],
    ['positions not an array', (r, fd) => r.readMany(fd, [], 7 as never), 'ERR_INVALID_ARG_TYPE', /"positions"/],
    ['lengths differ', (r, fd) => r.readMany(fd, [Buffer.alloc(1)], [0, 1]), 'ERR_INVALID_ARG_VALUE', /one entry per buffer/],
    ['an element not a view', (r, fd) => r.readMany(fd, [Buffer.alloc(1), 'x' as never], [0, 0]), 'ERR_INVALID_ARG_TYPE', /"buffers\[1\]"/],
    ['a bad position', (r, fd) => r.readMany(fd, [Buffer.alloc(1), Buffer.alloc(1)], [0, -5]), 'ERR_OUT_OF_RANGE', /"positions\[1\]"/],
    ['a timeout option', (r, fd) => r.readMany(fd, [Buffer.alloc(1)], [0], { timeout: 5 } as never), 'ERR_INVALID_ARG_VALUE', /AbortSignal\.timeout/],
    ['a bad signal', (r, fd) => r.readMany(fd, [Buffer.alloc(1)], [0], { signal: {} as never }), 'ERR_INVALID_ARG_TYPE', /signal/],
    ['a bad file', (r) => r.readMany(-7, [Buffer.alloc(1)], [0]), 'ERR_OUT_OF_RANGE', /fd|file/],
  ];
  for (const [name, call, code, msg] of cases) {
    it(`${name}: rejects with ${code}`, async () => {
      const ring = new Ring({ entries: 8 });
      const fd = openSync('/dev/zero', 'r');
      try {
        const before = ring.stats.submitted;
        const p = call(ring, fd);
        assert.ok(p instanceof Promise);
        await assert.rejects(p, (e: Error & { code?: string }) => {
          assert.equal(e.code, code);
          assert.match(e.message, msg);
          return true;
        });
        assert.equal(ring.pending, 0);
        await ring.nop();
        assert.equal(ring.stats.submitted, before + 1, 'only the nop reached the kernel');
      } finally {
        closeSync(fd);
        await ring.close();
      }
    });
  }

  it('a detached buffer among the entries refuses the whole batch and holds no pin', async () => {
    await withZero(async (ring, fd) => {
      const live = new Uint8Array(16);
      const gone = new Uint8Array(new ArrayBuffer(16));
      structuredClone(gone.buffer, { transfer: [gone.buffer] });
      await assert.rejects(ring.readMany(fd, [live, gone, live], [0, 0, 0]), { code: 'ERR_INVALID_ARG_VALUE', message: /buffers\[1\]/ });
      assert.equal(ring.pending, 0);
      // The ring still works, and the live buffer is usable.
      assert.deepEqual(await ring.readMany(fd, [live], [0]), [16]);
    });
  });

  it('a refused batch keeps no pin: the memory of its buffers can be collected at once', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return;
    await withZero(async (ring, fd) => {
      let ref: WeakRef<ArrayBuffer> | undefined;
      await (async () => {
        const big = new Uint8Array(1 << 20);
        ref = new WeakRef(big.buffer);
        const gone = new Uint8Array(new ArrayBuffer(16));
        structuredClone(gone.buffer, { transfer: [gone.buffer] });
        await assert.rejects(ring.readMany(fd, [big, gone], [0, 0]), { code: 'ERR_INVALID_ARG_VALUE' });
      })();
      // No request completes from here on: nothing else would trim a cached pin.
      for (let k = 0; k < 5 && ref!.deref() !== undefined; k++) {
        await new Promise((res) => setImmediate(res));
        gc();
      }
      assert.equal(ref!.deref(), undefined, 'the refused batch holds no reference to the buffer');
      assert.equal(ring.pending, 0);
    });
  });

  it('reads each array element once (a getter element runs once)', async () => {
    await withZero(async (ring, fd) => {
      let reads = 0;
      const bufs: Uint8Array[] = [new Uint8Array(4), new Uint8Array(4)];
      Object.defineProperty(bufs, 1, { get: () => { reads++; return reads === 1 ? new Uint8Array(8) : 'x'; } });
      const counts = await ring.readMany(fd, bufs, [0, 0]);
      assert.deepEqual(counts, [4, 8]);
      assert.equal(reads, 1);
    });
  });
});

describe('readMany across batches', () => {
  it('views seen in the previous batch are measured again: a swapped, detached or moved view is caught', async () => {
    await withZero(async (ring, fd) => {
      const a = new Uint8Array(new ArrayBuffer(64)).fill(1);
      const b = new Uint8Array(new ArrayBuffer(64)).fill(1);
      const views: Uint8Array[] = [a.subarray(0, 16), b.subarray(16, 32)];
      assert.deepEqual(await ring.readMany(fd, views, [0, 0]), [16, 16]);
      assert.equal(a.subarray(0, 16).every((x) => x === 0), true);
      assert.equal(b.subarray(16, 32).every((x) => x === 0), true);
      // Same array, one element replaced by a view elsewhere: the read lands there.
      a.fill(1);
      b.fill(1);
      views[1] = a.subarray(40, 48);
      assert.deepEqual(await ring.readMany(fd, views, [0, 0]), [16, 8]);
      assert.equal(a.subarray(40, 48).every((x) => x === 0), true);
      assert.equal(b.every((x) => x === 1), true, 'the replaced view was not written');
      // The buffer of a view used before is transferred away: refused, nothing read.
      const moved = structuredClone(a.buffer, { transfer: [a.buffer] });
      await assert.rejects(ring.readMany(fd, views, [0, 0]), { code: 'ERR_INVALID_ARG_VALUE', message: /buffers\[0\]/ });
      assert.equal(new Uint8Array(moved).subarray(48).every((x) => x === 1), true);
      assert.equal(ring.pending, 0);
    });
  });
});

describe('pins of finished batches', () => {
  it('a busy ring keeps at most about 64 MiB of finished batches\' buffers alive', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) return;
    const ring = new Ring({ entries: 16 });
    const [r, w] = native().pipe() as [number, number];
    const zero = openSync('/dev/zero', 'r');
    // A read that waits all along: the ring never goes idle, so only the cap trims.
    const waiting = ring.read(r, Buffer.alloc(1), -1);
    const refs: WeakRef<ArrayBuffer>[] = [];
    try {
      for (let k = 0; k < 24; k++) {
        const big = new Uint8Array(8 << 20);
        refs.push(new WeakRef(big.buffer));
        assert.deepEqual(await ring.readMany(zero, [big.subarray(0, 4096)], [0]), [4096]);
      }
      // A new batch replaces the one kept for measuring views again.
      assert.deepEqual(await ring.readMany(zero, [Buffer.alloc(16)], [0]), [16]);
      for (let k = 0; k < 3; k++) {
        await new Promise((res) => setImmediate(res));
        gc();
      }
      const alive = refs.filter((x) => x.deref() !== undefined).length;
      assert.ok(alive <= 9, `${alive} of 24 buffers of 8 MiB still alive`);
    } finally {
      writeSync(w, 'x');
      await waiting;
      closeSync(r);
      closeSync(w);
      closeSync(zero);
      await ring.close();
    }
  });
});

describe('readMany in flight', () => {
  it('destroy() rejects the batch at once; the memory stays held until the kernel lets go', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const bufs = [Buffer.alloc(4), Buffer.alloc(4)];
      const p = ring.readMany(r, bufs, [-1, -1]);
      await new Promise((res) => setImmediate(res));
      assert.equal(ring.pending, 2);
      ring.destroy();
      await assert.rejects(p, { code: 'ERR_RING_DESTROYED' });
    } finally {
      closeSync(r);
      closeSync(w);
    }
  });

  it('an aborted signal cancels the entries in flight and rejects with an AbortError', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const ac = new AbortController();
      const bufs = [Buffer.alloc(4), Buffer.alloc(4), Buffer.alloc(4)];
      writeSync(w, 'abcd'); // one entry completes, the others wait
      const p = ring.readMany(r, bufs, [-1, -1, -1], { signal: ac.signal });
      await new Promise((res) => setImmediate(res));
      ac.abort();
      await assert.rejects(p, (e: Error & { code?: string; cause?: { results?: number[] } }) => {
        assert.equal(e.name, 'AbortError');
        assert.equal(e.code, 'ABORT_ERR');
        const results = e.cause!.results!;
        assert.equal(results.filter((n) => n === 4).length, 1);
        assert.equal(results.filter((n) => n === -125).length, 2);
        return true;
      });
      assert.equal(ring.pending, 0);
      // An already aborted signal submits nothing.
      const before = ring.stats.submitted;
      await assert.rejects(ring.readMany(r, bufs, [-1, -1, -1], { signal: ac.signal }), { name: 'AbortError' });
      assert.equal(ring.stats.submitted, before);
    } finally {
      closeSync(r);
      closeSync(w);
      await ring.close();
    }
  });

  // /dev/kmsg cannot be read without blocking (no FMODE_NOWAIT): its reads
  // run in io-wq workers, and a cancelled one that was already blocked ends
  // with -EINTR rather than -ECANCELED. An abort is still an abort.
  let kmsg = -1;
  try { kmsg = openSync('/dev/kmsg', 'r'); closeSync(kmsg); } catch { kmsg = -1; }
  it('an abort that interrupts entries blocked in a kernel worker (-EINTR) rejects with an AbortError',
    { skip: kmsg < 0 ? '/dev/kmsg cannot be opened here' : undefined }, async () => {
      // The records /dev/kmsg holds now: that many reads return at once, the rest block.
      const probe = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
      let records = 0;
      for (const b = Buffer.alloc(8192); ;) {
        try { readSync(probe, b); records++; } catch (e) {
          if ((e as { code?: string }).code === 'EPIPE') continue;
          break;
        }
      }
      closeSync(probe);
      const ring = new Ring({ entries: 64 });
      const fd = openSync('/dev/kmsg', 'r');
      try {
        const n = records + 8;
        const ac = new AbortController();
        const p = ring.readMany(fd, Array.from({ length: n }, () => Buffer.alloc(8192)), new Array<number>(n).fill(-1), { signal: ac.signal });
        await new Promise((res) => setTimeout(res, 200));
        ac.abort();
        await assert.rejects(p, (e: Error & { cause?: { results?: number[] } }) => {
          assert.equal(e.name, 'AbortError');
          const results = e.cause!.results!;
          assert.equal(results.length, n);
          assert.ok(results.some((r) => r === -4 || r === -125), `some entries were cancelled: ${results.filter((r) => r < 0)}`);
          return true;
        });
        assert.equal(ring.pending, 0);
      } finally {
        closeSync(fd);
        await ring.close();
      }
    });

  it('a buffer transferred away while its read waits still receives the bytes, and the promise resolves', async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const ab = new ArrayBuffer(8);
      const p = ring.readMany(r, [new Uint8Array(ab, 0, 4), new Uint8Array(ab, 4, 4)], [-1, -1]);
      await new Promise((res) => setImmediate(res));
      const moved = structuredClone(ab, { transfer: [ab] });
      assert.equal(ab.byteLength, 0);
      writeSync(w, 'wxyz1234');
      assert.deepEqual(await p, [4, 4]);
      // The copy made at transfer time is independent of the kernel's writes.
      assert.equal(moved.byteLength, 8);
    } finally {
      closeSync(r);
      closeSync(w);
      await ring.close();
    }
  });

  it('close() waits for a batch to finish', async () => {
    const ring = new Ring({ entries: 8 });
    const fd = openSync('/dev/zero', 'r');
    try {
      const p = ring.readMany(fd, [Buffer.alloc(8), Buffer.alloc(8)], [0, 0]);
      await ring.close();
      assert.deepEqual(await p, [8, 8]);
    } finally {
      closeSync(fd);
    }
  });
});
