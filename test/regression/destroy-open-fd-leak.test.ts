// destroy() rejects an openat at once, but the open may still succeed in the
// kernel afterwards: the fd in that late CQE must be closed, not leaked.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Ring } from '../../src/index';
import { delay, openFdCount, tempDir } from '../helpers';

it('fds opened by requests that destroy() already rejected are closed', async () => {
  const tmp = tempDir();
  const p = tmp.path('f');
  writeFileSync(p, 'x');
  const before = openFdCount();
  const ring = new Ring({ entries: 64 });
  const opens = Array.from({ length: 40 }, () => ring.openat(p));
  ring.destroy(new Error('gone'));
  for (const o of opens) await assert.rejects(o, { message: 'gone' });
  for (let k = 0; k < 100 && openFdCount() > before; k++) await delay(10);
  assert.equal(openFdCount(), before, 'no fd left open');
  tmp.cleanup();
});
