// Churn: many cycles of register, open direct, close direct, update and
// unregister leak no fd, no thread and no memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from '../../src/index';
import { native } from '../../src/native';
import { delay, fdinfo, openFdCount, threadCount } from '../helpers';

const CYCLES = 10_000;

async function cycles(ring: Ring, count: number, fd: number): Promise<void> {
  for (let k = 0; k < count; k++) {
    ring.files.registerSparse(4, { tags: (k & 1) === 1 });
    const f = await ring.files.openat('/dev/null');
    const g = await ring.files.openat('/dev/null', 0, 0, { slot: 3 });
    await ring.files.close(f);
    ring.files.update(1, [fd, -1, fd]);
    await ring.files.close(g);
    ring.files.unregister();
  }
}

function settle(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

describe('registered file churn', () => {
  it(`${CYCLES} cycles of register / open direct / close direct / update / unregister leak nothing`, async () => {
    const n = native();
    const p = n.pipe() as [number, number];
    const ring = new Ring({ entries: 16 });
    try {
      await cycles(ring, 500, p[0]); // warm up: JIT, io-wq workers, allocator pools
      const fds = openFdCount();
      const threads = threadCount();
      const rss = settle();
      const start = Date.now();
      await cycles(ring, CYCLES, p[0]);
      const ms = Date.now() - start;
      assert.equal(ring.files.size, 0);
      assert.equal(fdinfo(ring).userFiles, 0);
      assert.equal(ring.pending, 0);
      assert.equal(openFdCount(), fds, 'no fd leaked');
      // io-wq workers come and go on their own; a leak would grow with the cycle count.
      let t = threadCount();
      for (let k = 0; k < 40 && t > threads + 2; k++) { await delay(50); t = threadCount(); }
      assert.ok(t <= threads + 2, `threads ${threads} -> ${t}`);
      const grown = settle() - rss;
      assert.ok(grown < 32 * 1024 * 1024, `rss grew by ${(grown / 1048576).toFixed(1)} MiB over ${CYCLES} cycles (${ms} ms)`);
    } finally {
      await ring.close();
      n.closeFd(p[0]);
      n.closeFd(p[1]);
    }
  });
});
