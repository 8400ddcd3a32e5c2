// CQ overflow on a tiny ring: completions beyond the CQ's size are kept by
// the kernel (IORING_FEAT_NODROP) and must all be delivered, in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { Ring, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes } from '../helpers';

const tiny = allShapes().find((s) => s.name === 'tiny')!;

describe('CQ overflow', { skip: !tiny.available && 'kernel cannot set up a tiny ring' }, () => {
  it('delivers every completion, in order, when many arrive while nothing is reaped', async (t) => {
    const ring = new Ring(tiny.options);
    if (!ring.features.nodrop) { await ring.close(); return t.skip('kernel lacks IORING_FEAT_NODROP'); }
    const n = native();
    const pipes = Array.from({ length: 16 }, () => n.pipe() as [number, number]);
    try {
      const order: number[] = [];
      const reads = pipes.map(([r], k) => ring.read(r, Buffer.alloc(1)).then((v) => { order.push(k); return v; }));
      // Let every read reach the kernel and wait there.
      for (let k = 0; k < 20; k++) await new Promise((res) => setImmediate(res));
      // Complete them all within one turn: nothing is reaped meanwhile.
      for (const [, w] of pipes) writeSync(w, 'x');
      const overflowed = (ring._sq.flags() & C.SQ_CQ_OVERFLOW) !== 0;
      assert.deepEqual(await Promise.all(reads), new Array(16).fill(1));
      assert.deepEqual(order, Array.from({ length: 16 }, (_, k) => k));
      assert.ok(overflowed, 'the kernel flagged the overflow');
      assert.ok(ring.stats.overflowFlushes > 0);
      assert.equal(ring._cq.overflow(), 0, 'nothing dropped');
    } finally {
      for (const [r, w] of pipes) { n.closeFd(r); n.closeFd(w); }
      await ring.close();
    }
  });
});
