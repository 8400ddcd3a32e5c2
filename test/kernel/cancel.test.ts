// Cancellation: AbortSignal per operation, cancel(promise), cancelFd(),
// cancelAll(), and cancels racing completions.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ring, AbortError, FixedFile, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, delay } from '../helpers';

function pipe(): [number, number] {
  return native().pipe() as [number, number];
}
function closeAll(...fds: number[]): void {
  for (const fd of fds) native().closeFd(fd);
}
const gc = (globalThis as { gc?: () => void }).gc;

for (const shape of allShapes()) {
  describe(`cancellation on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    let ring: Ring;
    before(() => { ring = new Ring(shape.options); });
    after(async () => { await ring.close(); });

    it('{ signal } cancels a pending read: AbortError caused by ECANCELED', async () => {
      const [r, w] = pipe();
      try {
        const ac = new AbortController();
        const p = ring.read(r, Buffer.alloc(4), -1, { signal: ac.signal });
        await delay(5);
        ac.abort();
        const err = await p.then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof AbortError, String(err));
        assert.equal((err.cause as { code?: string }).code, 'ECANCELED');
        assert.equal(ring.pending, 0);
      } finally { closeAll(r, w); }
    });

    it('{ signal } already aborted rejects without submitting anything', async () => {
      const before = ring.stats.submitted;
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      const err = await ring.nop({ signal: ac.signal }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof AbortError);
      assert.equal((err.cause as Error).message, 'stop');
      assert.equal(ring.stats.submitted, before);
    });

    it('cancel(promise) cancels one request; the target rejects with ECANCELED', async () => {
      const [r, w] = pipe();
      try {
        const a = ring.read(r, Buffer.alloc(4));
        const b = ring.pollAdd(r, 1);
        await delay(2);
        assert.equal(await ring.cancel(a), true);
        await assert.rejects(a, { code: 'ECANCELED', syscall: 'read' });
        assert.equal(ring.pending, 1, 'the other request is untouched');
        assert.equal(await ring.cancel(a), false, 'a completed request is not found');
        assert.equal(await ring.cancel(Promise.resolve(1)), false);
        assert.equal(await ring.cancel(b), true);
        await assert.rejects(b, { code: 'ECANCELED' });
        await assert.rejects(ring.cancel(1 as unknown as Promise<number>), { code: 'ERR_INVALID_ARG_TYPE' });
      } finally { closeAll(r, w); }
    });

    it('cancelFd() cancels every request on an fd and nothing else', async () => {
      const [r1, w1] = pipe();
      const [r2, w2] = pipe();
      try {
        const on1 = Promise.allSettled([ring.read(r1, Buffer.alloc(1)), ring.read(r1, Buffer.alloc(1)), ring.pollAdd(r1, 1)]);
        const on2 = ring.read(r2, Buffer.alloc(1));
        on2.catch(() => undefined);
        await delay(2);
        assert.equal(await ring.cancelFd(r1), 3);
        for (const s of await on1) assert.equal(s.status === 'rejected' && s.reason.code, 'ECANCELED');
        assert.equal(ring.pending, 1);
        assert.equal(await ring.cancelFd(r1), 0, 'nothing left on the fd');
        assert.equal(await ring.cancelAll(), 1);
        await assert.rejects(on2, { code: 'ECANCELED' });
        assert.equal(await ring.cancelAll(), 0);
        assert.equal(ring.pending, 0);
      } finally { closeAll(r1, w1, r2, w2); }
    });

    it('cancelFd() takes a registered file (ASYNC_CANCEL_FD_FIXED)', async (t) => {
      const [r, w] = pipe();
      const [r2, w2] = pipe();
      const reg = native().register(ring.fd, C.Register.REGISTER_FILES, new Int32Array([r]), 1);
      if (reg < 0) { closeAll(r, w, r2, w2); return t.skip(`cannot register files here (${reg})`); }
      try {
        const fixed = new FixedFile(ring, 0);
        const ps = Promise.allSettled([ring.read(fixed, Buffer.alloc(1)), ring.read(fixed, Buffer.alloc(1))]);
        const other = ring.read(r2, Buffer.alloc(1));
        other.catch(() => undefined);
        await delay(2);
        // The kernel matches by the open file the slot refers to.
        assert.equal(await ring.cancelFd(fixed), 2);
        for (const s of await ps) assert.equal(s.status === 'rejected' && s.reason.code, 'ECANCELED');
        assert.equal(await ring.cancel(other), true);
        await assert.rejects(other, { code: 'ECANCELED' });
      } finally {
        native().register(ring.fd, C.Register.UNREGISTER_FILES, null, 0);
        closeAll(r, w, r2, w2);
      }
    });

    it('a cancel racing a completion settles the target exactly once, with its data or ECANCELED', async () => {
      let values = 0;
      let cancelled = 0;
      for (let k = 0; k < 200; k++) {
        const [r, w] = pipe();
        const buf = Buffer.alloc(4);
        let settlements = 0;
        const ac = new AbortController();
        const p = ring.read(r, buf, -1, k % 2 ? { signal: ac.signal } : undefined);
        p.then(() => settlements++, () => settlements++);
        // Data and cancel go into the same batch, in either order.
        const writeFirst = k % 4 < 2;
        if (writeFirst) void ring.write(w, Buffer.from("data"));
        const c = k % 2 ? (ac.abort(), Promise.resolve(true)) : ring.cancel(p);
        if (!writeFirst) void ring.write(w, Buffer.from('data'));
        const outcome = await p.then((n) => n, (e: Error & { code?: string; cause?: { code?: string } }) => e);
        await c;
        if (typeof outcome === 'number') {
          values++;
          assert.equal(outcome, 4);
          assert.equal(buf.toString(), 'data');
        } else {
          cancelled++;
          const code = outcome instanceof AbortError ? outcome.cause && (outcome.cause as { code?: string }).code : outcome.code;
          assert.equal(code, 'ECANCELED', String(outcome));
        }
        await delay(0);
        assert.equal(settlements, 1);
        closeAll(r, w);
      }
      assert.equal(values + cancelled, 200);
      assert.equal(ring.pending, 0);
      assert.equal(ring.stats.stale, 0, 'every CQE named a live request');
    });

    it('a cancelled request keeps its buffer alive until its own completion', { skip: !gc && 'needs --expose-gc' }, async () => {
      const [r, w] = pipe();
      try {
        let collected = false;
        const registry = new FinalizationRegistry(() => { collected = true; });
        let p!: Promise<number>;
        (() => {
          const buf = Buffer.alloc(1 << 16);
          registry.register(buf.buffer, 'buf');
          p = ring.read(r, buf);
        })();
        const settled = Promise.allSettled([p]);
        const c = ring.cancel(p);
        gc!();
        await delay(0);
        gc!();
        assert.equal((await settled)[0]!.status, 'rejected');
        assert.equal(collected, false, 'not collected while the read was in flight');
        await c;
      } finally { closeAll(r, w); }
    });
  });
}
