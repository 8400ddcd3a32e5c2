// alignedBuffer(): memory at a chosen alignment, as O_DIRECT needs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants as FS, openSync, writeFileSync } from 'node:fs';
import { Ring, alignedBuffer } from '../../src/index';
import { native } from '../../src/native';
import { tempDir } from '../helpers';

describe('alignedBuffer', () => {
  it('returns zeroed Buffers of the size asked, at the alignment asked', () => {
    for (const alignment of [1, 2, 512, 4096, 65536, 1 << 21]) {
      for (const size of [1, 7, 4096, 100_000]) {
        const b = alignedBuffer(size, alignment);
        assert.ok(Buffer.isBuffer(b));
        assert.equal(b.length, size);
        assert.equal(native().address(b) % alignment, 0, `size ${size} alignment ${alignment}`);
        assert.ok(b.every((x) => x === 0));
      }
    }
    assert.equal(native().address(alignedBuffer(10)) % 4096, 0, 'a page by default');
    assert.equal(alignedBuffer(0).length, 0);
  });

  it('refuses sizes and alignments it cannot honour, with Node-shaped errors', () => {
    assert.throws(() => alignedBuffer(10, 3), { code: 'ERR_OUT_OF_RANGE', message: /power of two/ });
    assert.throws(() => alignedBuffer(10, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => alignedBuffer(10, 1 << 22), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => alignedBuffer(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => alignedBuffer(1.5), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => alignedBuffer('4096' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('serves O_DIRECT reads and writes through the ring', async (t) => {
    const tmp = tempDir();
    const ring = new Ring({ entries: 8 });
    try {
      const path = tmp.path('direct');
      const content = Buffer.alloc(8192);
      for (let i = 0; i < content.length; i++) content[i] = (i * 13) & 0xff;
      writeFileSync(path, content);
      let fd: number;
      try {
        fd = openSync(path, FS.O_RDWR | FS.O_DIRECT);
      } catch (err) {
        t.skip(`O_DIRECT is not supported here (${(err as NodeJS.ErrnoException).code})`);
        return;
      }
      try {
        const buf = alignedBuffer(4096);
        assert.equal(await ring.read(fd, buf, 4096), 4096);
        assert.deepEqual(buf, content.subarray(4096));
        buf.fill(0x42);
        assert.equal(await ring.write(fd, buf, 0), 4096);
        const back = alignedBuffer(4096);
        assert.equal(await ring.read(fd, back, 0), 4096);
        assert.ok(back.every((x) => x === 0x42));
      } finally {
        closeSync(fd);
      }
    } finally {
      await ring.close();
      tmp.cleanup();
    }
  });
});
