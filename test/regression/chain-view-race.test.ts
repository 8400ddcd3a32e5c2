// A chain's openDirect and closeDirect steps change the file table like the
// FileTable methods do, so they go through the same bracket: a step whose CQE
// is reaped after a later synchronous update() of the same slot must leave
// ring.files' view equal to what the kernel holds. Before the bracket, the
// chain applied its step at the CQE regardless of the update in between.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Ring, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, kernelSlots, spinUntil, tempDir } from '../helpers';

const n = native();
const sqpoll = allShapes().find((s) => s.name === 'sqpoll')!;



describe('a chain racing update() on the same slot', { skip: !sqpoll.available && 'kernel cannot set up an SQPOLL ring' }, () => {
  it('a chain closeDirect whose CQE is reaped after a later update() leaves the view equal to the kernel', async () => {
    const ring = new Ring(sqpoll.options);
    const p = n.pipe() as [number, number];
    try {
      ring.files.register([p[0], p[0]]);
      const done = ring.chain().nop().closeDirect(ring.files.get(0)).submit();
      ring.submit();
      spinUntil(ring, 1, (f) => !f.has(0)); // the kernel ran the close; its CQE is not reaped yet
      ring.files.update(0, [p[0]]);      // ... and this install comes after it
      const [, closed] = await done;
      assert.equal(closed.status, 'fulfilled');
      assert.deepEqual(kernelSlots(ring), [0, 1]);
      assert.deepEqual(ring.files.occupied(), kernelSlots(ring));
    } finally {
      await ring.close();
      n.closeFd(p[0]);
      n.closeFd(p[1]);
    }
  });

  it('a chain openDirect whose CQE is reaped after a later update() clearing the slot leaves the view equal to the kernel', async () => {
    const ring = new Ring(sqpoll.options);
    const tmp = tempDir();
    const p = n.pipe() as [number, number];
    try {
      writeFileSync(tmp.path('f'), 'x');
      ring.files.register([-1, -1, p[0]]);
      const done = ring.chain().openDirect(ring.files.get(1), tmp.path('f'), C.O_RDONLY).submit();
      ring.submit();
      spinUntil(ring, 2, (f) => f.has(1));
      ring.files.update(1, [-1]);
      const [opened] = await done;
      assert.equal(opened.status, 'fulfilled');
      assert.deepEqual(kernelSlots(ring), [2]);
      assert.deepEqual(ring.files.occupied(), kernelSlots(ring));
    } finally {
      await ring.close();
      tmp.cleanup();
      n.closeFd(p[0]);
      n.closeFd(p[1]);
    }
  });

  it('without a race, openDirect and closeDirect steps show in the view', async () => {
    const ring = new Ring({ entries: 8 });
    const tmp = tempDir();
    try {
      writeFileSync(tmp.path('f'), 'x');
      ring.files.registerSparse(4);
      const slot = ring.files.get(3);
      await ring.chain().openDirect(slot, tmp.path('f')).submit();
      assert.deepEqual(ring.files.occupied(), [3]);
      assert.deepEqual(kernelSlots(ring), [3]);
      await ring.chain().closeDirect(slot).submit();
      assert.deepEqual(ring.files.occupied(), []);
      assert.deepEqual(kernelSlots(ring), []);
    } finally {
      await ring.close();
      tmp.cleanup();
    }
  });
});
