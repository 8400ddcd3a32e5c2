// Bugs the fuzzer found, one test each.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from '../../src/index';
import { native } from '../../src/native';

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

  it('option getters are read once: one that throws on a second read cannot orphan a submitted request', async () => {
    let reads = 0;
    const options = {
      get timeout(): number {
        if (reads++ > 0) throw new Error('read twice');
        return 60_000;
      },
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      assert.equal(await ring.nop(options), 0);
      let signalReads = 0;
      const ac = new AbortController();
      const withSignal = {
        get signal(): AbortSignal {
          if (signalReads++ > 0) throw new Error('read twice');
          return ac.signal;
        },
      };
      assert.equal(await ring.nop(withSignal), 0);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
      assert.equal(reads, 1);
      assert.equal(signalReads, 1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('SQEs queued after one the kernel refuses at submission still run (the batch is not left in the SQ)', async () => {
    // Unknown splice flags fail in the kernel's prep step, which ends the
    // batch there; the nops behind it must still be submitted.
    const n = native();
    const [r, w] = n.pipe() as [number, number];
    try {
      const bad = ring.splice(r, null, w, null, 1, 0x100);
      const nops = [ring.nop(), ring.nop(), ring.nop()];
      const watchdog = new Promise((_, rej) => setTimeout(() => rej(new Error('the nops never completed')), 5000).unref());
      assert.deepEqual(await Promise.race([Promise.all(nops), watchdog]), [0, 0, 0]);
      await assert.rejects(bad, { code: 'EINVAL' });
    } finally {
      n.closeFd(r); n.closeFd(w);
    }
  });

  it('destroy() during close() resolves the close() promise and does not keep its grace timer running', async () => {
    const n = native();
    const [r, w] = n.pipe() as [number, number];
    const own = new Ring({ entries: 4 });
    const read = own.read(r, Buffer.alloc(4));
    const closing = own.close({ graceMs: 60_000 });
    own.destroy();
    const watchdog = new Promise((_, rej) => setTimeout(() => rej(new Error('close() never resolved')), 5000).unref());
    await Promise.race([closing, watchdog]);
    await assert.rejects(read, { code: 'ERR_RING_DESTROYED' });
    assert.ok(own.closed);
    n.closeFd(r); n.closeFd(w);
  });

  it('destroy() of a ring whose SQ is full of unsubmitted entries does not touch the unmapped rings', async () => {
    // Making room for the cancel submits the queued nops, whose completions
    // drain the ring; it used to be released under _sqe()'s feet.
    const tiny = new Ring({ entries: 2, cqEntries: 4 });
    const queued = [tiny.nop(), tiny.nop()];
    tiny.destroy();
    for (const p of queued) await assert.rejects(p, { code: 'ERR_RING_DESTROYED' });
    assert.ok(tiny.closed);
  });

  it('close() with an invalid graceMs rejects (never throws) and leaves the ring open', async () => {
    const own = new Ring({ entries: 2 });
    for (const graceMs of ['1', -1, 1.5, NaN, {}]) {
      let p: Promise<void> | undefined;
      assert.doesNotThrow(() => { p = own.close({ graceMs: graceMs as number }); });
      await assert.rejects(p!, { code: /^ERR_(INVALID_ARG_TYPE|OUT_OF_RANGE)$/ });
      assert.equal(own.closed, false);
    }
    await own.close();
  });
});
