// SQPOLL: a kernel thread consumes the SQ, so submission needs no syscall
// while it is awake; a sleeping thread is woken through IORING_SQ_NEED_WAKEUP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ring, constants as C } from '../../src/index';
import { allShapes, delay, fdinfo } from '../helpers';

const sqpoll = allShapes().find((s) => s.name === 'sqpoll')!;

describe('SQPOLL rings', { skip: !sqpoll.available && 'kernel cannot set up an SQPOLL ring' }, () => {
  it('is off unless asked for', async () => {
    const ring = new Ring({ entries: 4 });
    assert.equal(ring.setupFlags & C.Setup.SQPOLL, 0);
    await ring.close();
  });

  it('submits without io_uring_enter while the kernel thread is awake', async () => {
    const ring = new Ring({ entries: 16, sqpoll: { idleMs: 2000 } });
    try {
      await ring.nop(); // the thread is awake from here on
      const before = ring.stats.enters;
      for (let k = 0; k < 100; k++) assert.equal(await ring.nop(), 0);
      const batch = await Promise.all(Array.from({ length: 40 }, () => ring.nop()));
      assert.equal(batch.length, 40);
      // 140 submissions; a thread descheduled on a busy machine may need an
      // occasional wakeup, never one per submission.
      assert.ok(ring.stats.enters - before < 10, `${ring.stats.enters - before} enters for 140 submissions`);
    } finally {
      await ring.close();
    }
  });

  it('wakes a kernel thread that went idle (IORING_SQ_NEED_WAKEUP)', async () => {
    const ring = new Ring({ entries: 4, sqpoll: { idleMs: 1 } });
    try {
      await ring.nop();
      await delay(50); // the thread sleeps after 1 ms idle
      const before = ring.stats.enters;
      assert.equal(await ring.nop(), 0);
      assert.ok(ring.stats.enters > before, 'the sleeping thread was woken with an enter');
    } finally {
      await ring.close();
    }
  });

  it('pins the kernel thread to a CPU with sqpoll.cpu', async () => {
    const ring = new Ring({ entries: 4, sqpoll: { cpu: 0, idleMs: 10 } });
    try {
      assert.ok(ring.setupFlags & C.Setup.SQ_AFF);
      assert.equal(await ring.nop(), 0);
      const m = /SqThreadCpu:\s*(-?\d+)/.exec(fdinfo(ring).raw);
      if (m) assert.equal(Number(m[1]), 0);
    } finally {
      await ring.close();
    }
  });

  it('refuses bad sqpoll options before setup', () => {
    assert.throws(() => new Ring({ sqpoll: { idleMs: -1 } }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ sqpoll: { cpu: 1.5 } }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ sqpoll: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
