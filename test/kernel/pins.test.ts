// The pin cache: a view pinned before is found by the view itself, with its
// address; after the ring gives its idle pins back, and for other views of
// the same buffer, every read still lands in the view's own bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { Ring } from '../../src/index';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('pin cache', () => {
  it('reads land in the view they name, across idle turns and sibling views of one buffer', async () => {
    const ring = new Ring({ entries: 8 });
    const zero = openSync('/dev/zero', 'r');
    try {
      const ab = new ArrayBuffer(4096);
      const all = new Uint8Array(ab).fill(7);
      const a = new Uint8Array(ab, 100, 16);
      const b = new Uint8Array(ab, 200, 16);
      const check = (zeroed: [number, number][]): void => {
        for (let i = 0; i < all.length; i++) {
          const inside = zeroed.some(([from, to]) => i >= from && i < to);
          assert.equal(all[i], inside ? 0 : 7, `byte ${i}`);
        }
      };
      assert.equal(await ring.read(zero, a, 0), 16);
      check([[100, 116]]);
      // The ring idles for turns: its idle pins are given back.
      await turn();
      await turn();
      all.fill(7);
      assert.equal(await ring.read(zero, a, 0), 16);
      check([[100, 116]]);
      all.fill(7);
      assert.equal(await ring.read(zero, b, 0), 16);
      check([[200, 216]]);
      all.fill(7);
      await Promise.all([ring.read(zero, a, 0), ring.read(zero, b, 0)]);
      check([[100, 116], [200, 216]]);
      // Transferred away: the view is empty now, and the read moves nothing.
      structuredClone(ab, { transfer: [ab] });
      assert.equal(a.byteLength, 0);
      const n = await ring.read(zero, a, 0).catch((e: { code?: string }) => e.code);
      assert.ok(n === 0 || n === 'ERR_INVALID_ARG_VALUE', String(n));
    } finally {
      closeSync(zero);
      await ring.close();
    }
  });
});
