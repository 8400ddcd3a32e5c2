// Regression: a per-request timeout is a second, linked SQE placed with its
// request. On a ring whose SQ holds one entry the pair never fit, and the
// request waited in the staging area forever. It is refused up front now.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from '../../src/index';

it('a timeout on a one-entry ring is refused and leaves the ring usable', async () => {
  const ring = new Ring({ entries: 1 });
  try {
    assert.equal(ring.sqEntries, 1);
    const tail = ring._sq.tail;
    await assert.rejects(ring.nop({ timeout: 10 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.equal(ring._sq.tail, tail);
    assert.equal(ring.pending, 0);
    assert.equal(await ring.nop(), 0);
  } finally {
    await ring.close();
  }
});
