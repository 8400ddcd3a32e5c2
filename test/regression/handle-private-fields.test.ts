// A FixedFile or FixedBuffer is resolved from its private fields. Its public
// getters (index, byteLength) can be shadowed on the very instance, or
// overridden by a subclass; a request must still name the slot and the
// memory the handle was made for.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, writeFileSync } from 'node:fs';
import { Ring } from '../../src/index';
import { tempDir } from '../helpers';

it('a FixedFile whose index or owner getter is shadowed still names its own slot', async () => {
  const tmp = tempDir();
  writeFileSync(tmp.path('reg'), 'REGISTERED');
  writeFileSync(tmp.path('plain'), 'plain-fd-file');
  const ring = new Ring({ entries: 8 });
  const other = new Ring({ entries: 8 });
  const fd = openSync(tmp.path('reg'), 'r');
  const plain = openSync(tmp.path('plain'), 'r');
  try {
    const [ff] = ring.files.register([fd]);
    const buf = Buffer.alloc(32);
    for (const v of [-(plain + 2), NaN, 2 ** 40, 1.5, 1]) {
      Object.defineProperty(ff, 'index', { value: v, configurable: true });
      buf.fill(0);
      const [n] = await ring.readMany(ff!, [buf], [0]);
      assert.equal(buf.toString('utf8', 0, n), 'REGISTERED', `index shadowed as ${v}`);
      assert.equal(await ring.read(ff!, buf, 0), 10);
    }
    // A forged owner does not make another ring's handle usable here.
    const [foreign] = other.files.register([fd]);
    Object.defineProperty(foreign, '_owner', { value: ring, configurable: true });
    await assert.rejects(ring.read(foreign!, buf, 0), { code: 'ERR_URING_FOREIGN_FILE' });
  } finally {
    await ring.close();
    await other.close();
    closeSync(fd);
    closeSync(plain);
    tmp.cleanup();
  }
});

it('a FixedBuffer whose byteLength or index getter is shadowed reads into its own memory only', async () => {
  const tmp = tempDir();
  const data = Buffer.alloc(8192, 0x5a);
  writeFileSync(tmp.path('f'), data);
  const ring = new Ring({ entries: 8 });
  const fd = openSync(tmp.path('f'), 'r');
  try {
    ring.buffers.register({ count: 2, size: 4096 });
    const a = ring.buffers.acquire()!;
    const b = ring.buffers.acquire()!;
    b.bytes.fill(0);
    a.bytes.fill(0);
    Object.defineProperty(a, 'byteLength', { value: 8192, configurable: true });
    Object.defineProperty(a, 'index', { value: 1, configurable: true });
    const n = await ring.readFixed(fd, a, 0);
    assert.equal(n, 4096, 'no more than the buffer holds');
    assert.ok(a.bytes.every((x) => x === 0x5a), 'its own memory was filled');
    assert.ok(b.bytes.every((x) => x === 0), 'the neighbouring buffer was not touched');
    await assert.rejects(ring.readFixed(fd, a, 0, { length: 8192 }), { code: 'ERR_OUT_OF_RANGE' });
    a.release();
    b.release();
  } finally {
    await ring.close();
    closeSync(fd);
    tmp.cleanup();
  }
});
