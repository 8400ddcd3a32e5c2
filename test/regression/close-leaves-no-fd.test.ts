// A uring/fs call cut short by the ring closing under it must still close
// the fds it opened: when the ring no longer takes the close, node:fs does.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as ufs from '../../src/fs/index';
import { ring as engine } from '../../src/fs/backend';
import { delay, openFdCount, tempDir } from '../helpers';

it('copyFile cut short by ring.close() leaves no fd open', async (t) => {
  const e = engine();
  if (e === undefined) { t.skip('no io_uring here'); return; }
  const tmp = tempDir();
  try {
    const src = tmp.path('src');
    writeFileSync(src, Buffer.alloc(8 << 20, 1));
    const before = openFdCount();
    const copy = ufs.copyFile(src, tmp.path('dst')).then(() => 'copied', (err: { code?: string }) => err.code);
    await new Promise((res) => setImmediate(res));
    await e.ring.close();
    const outcome = await copy;
    assert.ok(outcome === 'copied' || outcome === 'ERR_RING_CLOSED', String(outcome));
    // The ring's own fd is gone too.
    for (let k = 0; k < 50 && openFdCount() > before - 1; k++) await delay(10);
    assert.equal(openFdCount(), before - 1, 'the copy\'s source and destination fds were closed');
  } finally {
    tmp.cleanup();
  }
});
