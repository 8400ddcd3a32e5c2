// destroy(reason) rejects every pending request with `reason`. A readFile
// chain learns of it through its handlers (-ECANCELED), and must reject with
// the same reason, not an ECANCELED system error of its own.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as ufs from '../../src/fs/index';
import { ring as engine } from '../../src/fs/backend';
import { tempDir } from '../helpers';

it('readFile in flight rejects with the reason destroy() was given', async (t) => {
  const e = engine();
  if (!e?.chains) { t.skip('no io_uring chains here'); return; }
  const tmp = tempDir();
  const p = tmp.path('f');
  writeFileSync(p, 'data');
  try {
    const reason = new Error('my reason');
    const small = ufs.readFile(p);
    const stat = ufs.stat(p);
    e.ring.destroy(reason);
    await assert.rejects(small, (err) => err === reason);
    await assert.rejects(stat, (err) => err === reason);
  } finally {
    tmp.cleanup();
  }
});
