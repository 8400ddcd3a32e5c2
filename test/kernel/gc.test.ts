// Memory the kernel writes into stays alive until its CQE, even when the
// program keeps no reference to it and the collector runs.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeSync, closeSync } from 'node:fs';
import { Ring } from '../../src/index';
import { native } from '../../src/native';

const gc = (globalThis as { gc?: () => void }).gc;

describe('buffers under GC pressure', { skip: !gc && 'run with --expose-gc' }, () => {
  const ring = new Ring({ entries: 64 });
  after(async () => { await ring.close(); });

  for (const [kind, make] of [
    ['small on-heap typed arrays', () => new Uint8Array(16)],
    ['large buffers', () => Buffer.alloc(65536)],
    ['slices of the Buffer pool', () => Buffer.allocUnsafe(32).fill(0)],
    ['DataViews', () => new DataView(new ArrayBuffer(24))],
  ] as [string, () => ArrayBufferView][]) {
    it(`reads into otherwise unreferenced ${kind} land intact after forced collections`, async () => {
      const n = native();
      const pipes: [number, number][] = [];
      const refs: WeakRef<ArrayBufferView>[] = [];
      const collectedEarly: number[] = [];
      let done = false;
      const registry = new FinalizationRegistry<number>((k) => { if (!done) collectedEarly.push(k); });
      const reads: Promise<number>[] = [];
      const N = 24;
      for (let k = 0; k < N; k++) {
        const p = n.pipe() as [number, number];
        pipes.push(p);
        // Only the ring references the buffer from here on.
        (() => {
          const buf = make();
          refs.push(new WeakRef(buf));
          registry.register(buf, k);
          reads.push(ring.read(p[0], buf));
        })();
      }
      for (let round = 0; round < 4; round++) {
        gc!();
        const junk: unknown[] = [];
        for (let j = 0; j < 20000; j++) junk.push({ j, s: `x${j}` }, new Uint8Array(16));
        await new Promise((r) => setImmediate(r));
      }
      for (let k = 0; k < N; k++) {
        const payload = Buffer.alloc(16, 0x41 + (k % 26));
        writeSync(pipes[k]![1], payload);
      }
      const results = await Promise.all(reads);
      assert.equal(collectedEarly.length, 0, 'no buffer was collected while its read was in flight');
      let checked = 0;
      for (let k = 0; k < N; k++) {
        assert.equal(results[k], 16);
        const buf = refs[k]!.deref();
        if (buf === undefined) continue;
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, 16);
        assert.ok(bytes.every((b) => b === 0x41 + (k % 26)), `buffer ${k} holds the data written`);
        checked++;
      }
      assert.ok(checked > 0, 'at least one buffer could be inspected');
      done = true;
      for (const [r, w] of pipes) { closeSync(r); closeSync(w); }
    });
  }
});
