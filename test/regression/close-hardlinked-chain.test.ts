// close() and destroy() cancel what is in flight with a cancel-all. A
// hard-linked request is issued by the kernel only once the request before
// it has completed, so when the cancel-all ends the first read of a chain,
// the second arms after the cancel has passed. The ring must cancel again,
// or close() never settles and the stray read eats data meant for others.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Ring } from '../../src/index';
import { native } from '../../src/native';
import * as ufs from '../../src/fs/index';
import { tempDir } from '../helpers';

for (const how of ['close', 'destroy'] as const) {
  it(`${how}() settles a hard-linked chain waiting on a pipe, and no read outlives the ring`, { timeout: 5000 }, async () => {
    const ring = new Ring({ entries: 8 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const a = Buffer.alloc(8);
      const b = Buffer.alloc(8);
      const chain = ring.chain().read(r, a, -1).hardlink().read(r, b, -1).submit();
      await new Promise((res) => setTimeout(res, 20));
      if (how === 'close') await ring.close({ graceMs: 10 });
      else ring.destroy(new Error('gone'));
      // Both steps end cancelled (the chain resolves with each step's outcome).
      const steps = await chain;
      assert.deepEqual(steps.map((x) => x.status), ['rejected', 'rejected']);
      for (let k = 0; k < 50 && ring.pending > 0; k++) await new Promise((res) => setTimeout(res, 10));
      assert.equal(ring.pending, 0, 'nothing left in flight');
      // Data written now is there for the next reader, not eaten by a stray read.
      writeSync(w, 'SECRET');
      const got = Buffer.alloc(16);
      assert.equal(got.toString('utf8', 0, readSync(r, got)), 'SECRET');
    } finally {
      closeSync(r);
      closeSync(w);
      if (!ring.closed) ring.destroy();
    }
  });
}

it('closing the uring/fs ring settles a readFile of a FIFO whose writer is idle', { timeout: 5000 }, async () => {
  const tmp = tempDir();
  const fifo = tmp.path('fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = openSync(fifo, constants.O_RDWR);
  try {
    const ring = ufs.backend.ring!;
    const p = ufs.readFile(fifo).then(() => 'resolved', (e: { code?: string }) => e.code);
    await new Promise((res) => setTimeout(res, 20));
    await ring.close({ graceMs: 10 });
    assert.notEqual(await p, 'resolved');
    assert.equal(ring.pending, 0);
  } finally {
    closeSync(writer);
    tmp.cleanup();
  }
});
