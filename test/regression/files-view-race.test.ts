// Regression: the file table's view followed CQEs in the order they were
// reaped. A direct close (or open) that the kernel had already run, but whose
// CQE had not been reaped yet, was applied AFTER a later synchronous update()
// of the same slot: the library then showed the slot empty while the kernel
// held the updated file (and the reverse for an open). Found by the races test.
// A chain's openDirect and closeDirect steps change the table as the
// FileTable methods do, through the same bracket, so both run the same race.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Ring, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, kernelSlots, spinUntil, tempDir } from '../helpers';

const n = native();
const sqpoll = allShapes().find((s) => s.name === 'sqpoll')!;

/** The two ways to close or open a slot directly; each resolves once the request succeeded. */
const WAYS: { name: string; close(ring: Ring, slot: number): Promise<unknown>; open(ring: Ring, path: string, slot: number): Promise<unknown> }[] = [
  {
    name: 'FileTable',
    close: (ring, slot) => ring.files.close(ring.files.get(slot)),
    open: (ring, path, slot) => ring.files.openat(path, C.O_RDONLY, 0, { slot }),
  },
  {
    name: 'chain',
    close: (ring, slot) => ring.chain().nop().closeDirect(ring.files.get(slot)).submit()
      .then(([, closed]) => assert.equal(closed!.status, 'fulfilled')),
    open: (ring, path, slot) => ring.chain().openDirect(ring.files.get(slot), path, C.O_RDONLY).submit()
      .then(([opened]) => assert.equal(opened!.status, 'fulfilled')),
  },
];

for (const way of WAYS) {
  describe(`file table view under a synchronous change racing a direct operation (${way.name})`,
    { skip: !sqpoll.available && 'kernel cannot set up an SQPOLL ring' }, () => {
    it('a close whose CQE is reaped after a later update() leaves the view equal to the kernel', async () => {
      const ring = new Ring(sqpoll.options);
      const p = n.pipe() as [number, number];
      try {
        ring.files.register([p[0], p[0]]);
        const closing = way.close(ring, 0);
        ring.submit();
        spinUntil(ring, 1, (f) => !f.has(0)); // the kernel ran the close; its CQE is not reaped yet
        ring.files.update(0, [p[0]]);      // ... and this install comes after it
        await closing;
        assert.deepEqual(kernelSlots(ring), [0, 1]);
        assert.deepEqual(ring.files.occupied(), kernelSlots(ring));
      } finally {
        await ring.close();
        n.closeFd(p[0]);
        n.closeFd(p[1]);
      }
    });

    it('an open whose CQE is reaped after a later update() clearing the slot leaves the view equal to the kernel', async () => {
      const ring = new Ring(sqpoll.options);
      const tmp = tempDir();
      const p = n.pipe() as [number, number];
      try {
        writeFileSync(tmp.path('f'), 'x');
        ring.files.register([-1, -1, p[0]]);
        const opening = way.open(ring, tmp.path('f'), 1);
        ring.submit();
        spinUntil(ring, 2, (f) => f.has(1));
        ring.files.update(1, [-1]);
        await opening;
        assert.deepEqual(kernelSlots(ring), [2]);
        assert.deepEqual(ring.files.occupied(), kernelSlots(ring));
      } finally {
        await ring.close();
        tmp.cleanup();
        n.closeFd(p[0]);
        n.closeFd(p[1]);
      }
    });
  });
}

describe('chain openDirect and closeDirect steps', () => {
  it('without a race, show in the view', async () => {
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
