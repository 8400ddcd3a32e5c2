// Kernel timeouts: sleep(), timeout() with counts, deadlines and clocks,
// removal and update, and the per-operation { timeout } option.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ring, TimeoutError, AbortError } from '../../src/index';
import { native } from '../../src/native';
import { allShapes } from '../helpers';

function pipe(): [number, number] {
  return native().pipe() as [number, number];
}

for (const shape of allShapes()) {
  describe(`timeouts on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    let ring: Ring;
    before(() => { ring = new Ring(shape.options); });
    after(async () => { await ring.close(); });

    it('sleep(ms) resolves with undefined once the time has passed', async () => {
      const t0 = performance.now();
      assert.equal(await ring.sleep(20), undefined);
      assert.ok(performance.now() - t0 >= 15);
      assert.equal(ring.pending, 0);
    });

    it("timeout(ms) resolves 'expired'", async () => {
      assert.equal(await ring.timeout(5), 'expired');
    });

    it("timeout({ count }) resolves 'count' once that many other requests completed", async () => {
      const t = ring.timeout({ ms: 10_000, count: 2 });
      await ring.nop();
      await ring.nop();
      assert.equal(await t, 'count');
    });

    it('timeout({ at }) takes absolute times on the monotonic and realtime clocks', async () => {
      assert.equal(await ring.timeout({ at: process.hrtime.bigint() + 10_000_000n }), 'expired');
      assert.equal(await ring.timeout({ at: Date.now() + 10, clock: 'realtime' }), 'expired');
      assert.equal(await ring.timeout({ at: new Date(Date.now() + 5), clock: 'realtime' }), 'expired');
      // A deadline in the past expires at once.
      assert.equal(await ring.timeout({ at: 1, clock: 'realtime' }), 'expired');
      assert.equal(await ring.timeout({ ms: 5, clock: 'boottime' }), 'expired');
    });

    it('timeoutRemove() cancels a pending timeout, which rejects with ECANCELED', async () => {
      const t = ring.timeout(60_000);
      assert.equal(await ring.timeoutRemove(t), 0);
      await assert.rejects(t, { code: 'ECANCELED', syscall: 'timeout' });
      await assert.rejects(ring.timeoutRemove(t), { code: 'ENOENT', syscall: 'timeout_remove' });
      assert.equal(ring.pending, 0);
    });

    it('timeoutUpdate() moves a pending timeout', async () => {
      const t = ring.timeout(60_000);
      assert.equal(await ring.timeoutUpdate(t, 5), 0);
      assert.equal(await t, 'expired');
      await assert.rejects(ring.timeoutUpdate(t, 5), { code: 'ENOENT' });
    });

    it('sleep() with an AbortSignal rejects with an AbortError whose cause is ECANCELED', async () => {
      const ac = new AbortController();
      const s = ring.sleep(60_000, { signal: ac.signal });
      setTimeout(() => ac.abort(), 5);
      const err = await s.then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof AbortError);
      assert.equal((err.cause as { code?: string }).code, 'ECANCELED');
      assert.equal(ring.pending, 0);
    });

    it('refuses bad specs before submitting anything', async () => {
      const before = ring.stats.submitted;
      await assert.rejects(ring.timeout(-1), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.timeout({}), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ring.timeout({ ms: 1, at: 2 }), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ring.timeout({ ms: 1, clock: 'tai' as 'realtime' }), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ring.timeout({ at: new Date() }), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ring.timeout({ at: 'soon' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.sleep(1.5), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.timeoutRemove(Promise.resolve()), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.equal(ring.pending, 0);
      assert.equal(ring.stats.submitted, before);
    });

    it('{ timeout } on an operation that never completes rejects with a TimeoutError caused by ECANCELED', async () => {
      const [r, w] = pipe();
      try {
        const err = await ring.read(r, Buffer.alloc(8), -1, { timeout: 20 }).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof TimeoutError, String(err));
        assert.equal((err as TimeoutError).code, 'ETIMEDOUT');
        assert.match(String((err.cause as { code?: string }).code), /ECANCELED|EINTR/);
        assert.equal(ring.pending, 0);
      } finally {
        native().closeFd(r); native().closeFd(w);
      }
    });

    it('{ timeout } never loses a result that arrives in time', async () => {
      const [r, w] = pipe();
      try {
        const b = Buffer.alloc(8);
        const p = ring.read(r, b, -1, { timeout: 5_000 });
        await ring.write(w, Buffer.from('part'));
        assert.equal(await p, 4);
        assert.equal(b.toString('utf8', 0, 4), 'part');
        // Data already there when the request starts: the result wins even
        // with a timeout of 0.
        await ring.write(w, Buffer.from('xy'));
        assert.equal(await ring.read(r, b, -1, { timeout: 0 }).catch((e) => e.name), 2);
        assert.equal(ring.pending, 0);
      } finally {
        native().closeFd(r); native().closeFd(w);
      }
    });
  });
}
