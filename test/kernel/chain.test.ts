// Linked requests: chains with soft and hard links and drain, per-step
// results, short reads that break a link, chains that are never split, and
// chains on direct descriptors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, writeSync } from 'node:fs';
import { Ring, FixedFile, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, delay, fdinfo, tempDir } from '../helpers';

for (const shape of allShapes()) {
  describe(`chains on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    let ring: Ring;
    const tmp = tempDir();
    before(() => { ring = new Ring(shape.options); });
    after(async () => { await ring.close(); tmp.cleanup(); });

    it('runs steps in order and reports each result', async (t) => {
      if (ring.sqEntries < 3) return t.skip('a 3-step chain does not fit this SQ');
      const src = tmp.path('src.txt');
      writeFileSync(src, 'chained!');
      const dst = tmp.path('dst.txt');
      const fin = await ring.openat(src);
      const fout = await ring.openat(dst, C.O_CREAT | C.O_WRONLY, 0o600);
      const buf = Buffer.alloc(8);
      const [r, w, s] = await ring.chain().read(fin, buf, 0).write(fout, buf, 0).statx(dst).submit();
      assert.deepEqual(r, { status: 'fulfilled', value: 8 });
      assert.deepEqual(w, { status: 'fulfilled', value: 8 });
      assert.equal(s.status === 'fulfilled' && s.value.size, 8);
      assert.equal(readFileSync(dst, 'utf8'), 'chained!');
      await ring.closeFd(fin);
      await ring.closeFd(fout);
      assert.equal(ring.pending, 0);
    });

    it('a short read breaks a soft link: later steps are ECANCELED, flagged as broken by it', async (t) => {
      if (ring.sqEntries < 3) return t.skip('a 3-step chain does not fit this SQ');
      const src = tmp.path('short.txt');
      writeFileSync(src, 'abc');
      const fd = await ring.openat(src);
      const [r, n, x] = await ring.chain().read(fd, Buffer.alloc(8), 0).nop().nop().submit();
      assert.deepEqual(r, { status: 'fulfilled', value: 3, short: true });
      for (const later of [n, x]) {
        assert.equal(later.status, 'rejected');
        assert.equal(later.status === 'rejected' && (later.reason as { code?: string }).code, 'ECANCELED');
        assert.deepEqual(later.status === 'rejected' && later.brokenBy, { step: 0, reason: 'short' });
      }
      await ring.closeFd(fd);
    });

    it('a failed step breaks a soft link; a hard link runs the next step anyway', async (t) => {
      if (ring.sqEntries < 3) return t.skip('a 3-step chain does not fit this SQ');
      const badFd = 0x7ffff000;
      const [a, b] = await ring.chain().read(badFd, Buffer.alloc(1), 0).nop().submit();
      assert.equal(a.status === 'rejected' && (a.reason as { code?: string }).code, 'EBADF');
      assert.deepEqual(b.status === 'rejected' && b.brokenBy, { step: 0, reason: 'error' });
      const [c, d, e] = await ring.chain().read(badFd, Buffer.alloc(1), 0).hardlink().nop().nop().submit();
      assert.equal(c.status, 'rejected');
      assert.deepEqual(d, { status: 'fulfilled', value: 0 });
      assert.deepEqual(e, { status: 'fulfilled', value: 0 });
      const all = await ring.chain({ link: 'hard' }).read(badFd, Buffer.alloc(1), 0).nop().submit();
      assert.deepEqual(all[1], { status: 'fulfilled', value: 0 });
    });

    it('sleep() inside a chain delays the next step without breaking the link', async () => {
      const t0 = performance.now();
      const [s, n] = await ring.chain().sleep(10).nop().submit();
      assert.deepEqual(s, { status: 'fulfilled', value: undefined });
      assert.deepEqual(n, { status: 'fulfilled', value: 0 });
      assert.ok(performance.now() - t0 >= 8);
    });

    it('drain starts the chain only after earlier requests completed', async () => {
      const [r, w] = native().pipe() as [number, number];
      try {
        const pending = ring.read(r, Buffer.alloc(1));
        let done = false;
        const c = ring.chain({ drain: true }).nop().submit().then((x) => { done = true; return x; });
        await delay(20);
        assert.equal(done, false);
        // Not through the ring: requests submitted after a drain wait for it too.
        writeSync(w, 'x');
        assert.equal(await pending, 1);
        assert.deepEqual((await c)[0], { status: 'fulfilled', value: 0 });
      } finally {
        native().closeFd(r); native().closeFd(w);
      }
    });

    it('validates every step when it is added and consumes no SQE for a refused chain', async () => {
      const before = ring.stats.submitted;
      const ch = ring.chain().nop();
      assert.throws(() => ch.read(-1, Buffer.alloc(1)), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ch.write(3, 'text' as unknown as Buffer), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ch.openat('a\u0000b'), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => ch.closeDirect(3 as unknown as FixedFile), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ring.chain().hardlink(), { code: 'ERR_INVALID_STATE' });
      assert.throws(() => ring.chain({ link: 'weak' as 'soft' }), { code: 'ERR_INVALID_ARG_VALUE' });
      const long = ring.chain();
      for (let k = 0; k <= ring.sqEntries; k++) long.nop();
      await assert.rejects(long.submit(), { code: 'ERR_OUT_OF_RANGE' });
      assert.equal(ring.pending, 0);
      await delay(0);
      assert.equal(ring.stats.submitted, before);
      assert.deepEqual(await ring.chain().submit(), []);
      await ch.submit();
      await assert.rejects(ch.submit(), { code: 'ERR_CHAIN_SUBMITTED' });
      assert.throws(() => ch.nop(), { code: 'ERR_CHAIN_SUBMITTED' });
    });

    it('a chain is never split across submissions, even when the SQ is nearly full', async () => {
      const src = tmp.path('split.txt');
      writeFileSync(src, 'ab');
      const fd = await ring.openat(src);
      // Fill the SQ to every level, then add a chain whose link must hold.
      const len = Math.min(ring.sqEntries, 2);
      for (let fill = 0; fill < ring.sqEntries * 2; fill++) {
        const nops: Promise<number>[] = [];
        for (let k = 0; k < fill; k++) nops.push(ring.nop());
        const ch = ring.chain().read(fd, Buffer.alloc(4), 0);
        for (let k = 1; k < len; k++) ch.nop();
        const res = await ch.submit();
        await Promise.all(nops);
        assert.equal(res[0]!.status === 'fulfilled' && res[0]!.short, true);
        for (let k = 1; k < len; k++) {
          const step = res[k]!;
          assert.deepEqual(step.status === 'rejected' && step.brokenBy, { step: 0, reason: 'short' }, `fill ${fill}`);
        }
      }
      await ring.closeFd(fd);
      assert.equal(ring.pending, 0);
    });

    it('opens into a slot, reads it and closes the slot in one chain (IORING_FEAT_LINKED_FILE)', async (t) => {
      if (!ring.features.linkedFile) return t.skip('kernel lacks IORING_FEAT_LINKED_FILE');
      if (ring.sqEntries < 3) return t.skip('a 3-step chain does not fit this SQ');
      ring.files.registerSparse(2);
      try {
        const src = tmp.path('direct.txt');
        writeFileSync(src, 'direct');
        const slot = ring.files.get(1);
        // The open step alone: ring.files follows the kernel's table.
        const [only] = await ring.chain().openDirect(slot, src).submit();
        assert.deepEqual(only, { status: 'fulfilled', value: 0 });
        assert.deepEqual(ring.files.occupied(), [1]);
        assert.deepEqual([...fdinfo(ring).files.keys()], [1]);
        const [closed] = await ring.chain().closeDirect(slot).submit();
        assert.deepEqual(closed, { status: 'fulfilled', value: 0 });
        assert.deepEqual(ring.files.occupied(), []);
        const buf = Buffer.alloc(6);
        const [o, r, c] = await ring.chain()
          .openDirect(slot, src)
          .read(slot, buf, 0)
          .hardlink()
          .closeDirect(slot)
          .submit();
        assert.deepEqual(o, { status: 'fulfilled', value: 0 });
        assert.deepEqual(r, { status: 'fulfilled', value: 6 });
        assert.deepEqual(c, { status: 'fulfilled', value: 0 });
        assert.equal(buf.toString(), 'direct');
        assert.equal(fdinfo(ring).files.has(1), false, 'the slot is empty again');
        assert.deepEqual(ring.files.occupied(), [], 'and ring.files says so');
        // A failed open breaks the soft link after it: the read and everything
        // after it are cancelled, hard links further on included.
        const [o2, r2, c2] = await ring.chain()
          .openDirect(slot, tmp.path('missing'))
          .read(slot, buf, 0)
          .hardlink()
          .closeDirect(slot)
          .submit();
        assert.equal(o2.status === 'rejected' && (o2.reason as { code?: string }).code, 'ENOENT');
        assert.deepEqual(r2.status === 'rejected' && r2.brokenBy, { step: 0, reason: 'error' });
        assert.deepEqual(c2.status === 'rejected' && c2.brokenBy, { step: 0, reason: 'error' });
        // With every link hard, each step runs: the read and close find an empty slot.
        const [, r3, c3] = await ring.chain({ link: 'hard' })
          .openDirect(slot, tmp.path('missing'))
          .read(slot, buf, 0)
          .closeDirect(slot)
          .submit();
        assert.equal(r3.status === 'rejected' && (r3.reason as { code?: string }).code, 'EBADF');
        assert.equal(c3.status === 'rejected' && (c3.reason as { code?: string }).code, 'EBADF');
      } finally {
        ring.files.unregister();
      }
    });
  });
}
