// Bugs the fuzzer found, one test each.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from '../../src/index';

describe('fuzzer findings', () => {
  const ring = new Ring({ entries: 8 });
  after(async () => { await ring.close(); });

  it('a path in a detached Uint8Array is refused with ERR_INVALID_ARG_VALUE, not a TypeError without a code', async () => {
    const u = new Uint8Array(new ArrayBuffer(4));
    structuredClone(u.buffer, { transfer: [u.buffer] });
    for (const call of [() => ring.openat(u), () => ring.statx(u), () => ring.mkdirat(u), () => ring.symlinkat('x', u)]) {
      const before = ring._sq.tail;
      await assert.rejects(call(), { code: 'ERR_INVALID_ARG_VALUE', message: /detached/ });
      assert.equal(ring._sq.tail, before, 'no SQE was taken');
    }
  });
});
