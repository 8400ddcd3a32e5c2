// Provided-buffer rings: the kernel picks the buffer for read and recv, the
// user releases it back, and running out of buffers is back-pressure.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { Ring, BufferRing } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, delay, tempDir } from '../helpers';

function pbufSupported(): boolean {
  const r = new Ring({ entries: 2 });
  try {
    const g = new BufferRing(r, { count: 1, size: 16 });
    void g.close();
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_URING_UNSUPPORTED') return false;
    throw e;
  } finally {
    void r.close();
  }
}
const skip = !pbufSupported() && 'kernel lacks IORING_REGISTER_PBUF_RING';

for (const shape of allShapes()) {
  describe(`provided-buffer rings on a ${shape.name} ring`, { skip: (!shape.available && `kernel cannot set up ${shape.name}`) || skip }, () => {
    let ring: Ring;
    const tmp = tempDir();
    before(() => { ring = new Ring(shape.options); });
    after(async () => { await ring.close(); tmp.cleanup(); });

    it('read() lets the kernel pick a buffer and release() returns it', async () => {
      const g = new BufferRing(ring, { count: 4, size: 8 });
      const p = tmp.path('pbuf.txt');
      writeFileSync(p, 'abcdefghijklmnop');
      const fd = openSync(p, 'r');
      try {
        assert.equal(g.available, 4);
        const a = await g.read(fd, 0);
        const b = await g.read(fd, 8);
        assert.equal(a.bytes.toString(), 'abcdefgh');
        assert.equal(b.bytes.toString(), 'ijklmnop');
        assert.notEqual(a.bufferId, b.bufferId);
        assert.equal(g.available, 2);
        a.release(); b.release(); a.release();
        assert.equal(g.available, 4);
        assert.throws(() => a.bytes, { code: 'ERR_URING_BUFFER_RELEASED' });
        const eof = await g.read(fd, 100);
        assert.equal(eof.length, 0);
        eof.release();
      } finally {
        closeSync(fd);
        await g.close();
      }
    });

    it('recv() receives into a provided buffer', async () => {
      const g = new BufferRing(ring, { count: 2, size: 64 });
      const [s0, s1] = native().socketpair(1) as [number, number];
      try {
        const p = g.recv(s1);
        writeSync(s0, 'over the socket');
        const d = await p;
        assert.equal(d.bytes.toString(), 'over the socket');
        d.release();
      } finally {
        native().closeFd(s0); native().closeFd(s1);
        await g.close();
      }
    });

    it('running out of buffers waits for a release instead of failing (ENOBUFS is back-pressure)', async () => {
      const g = new BufferRing(ring, { count: 1, size: 4 });
      const [s0, s1] = native().socketpair(1) as [number, number];
      try {
        writeSync(s0, 'one!two!');
        const first = await g.recv(s1);
        assert.equal(first.bytes.toString(), 'one!');
        let second: string | undefined;
        const p = g.recv(s1).then((d) => { second = d.bytes.toString(); d.release(); });
        for (let k = 0; k < 200 && g.noBufferRetries === 0; k++) await delay(10);
        assert.ok(g.noBufferRetries >= 1, 'the kernel answered ENOBUFS');
        await delay(20);
        assert.equal(second, undefined, 'waits while the only buffer is leased');
        first.release();
        await p;
        assert.equal(second, 'two!');
      } finally {
        native().closeFd(s0); native().closeFd(s1);
        await g.close();
      }
    });
  });
}

describe('provided-buffer ring options', { skip }, () => {
  it('incremental consumption fills one buffer across completions where supported', async (t) => {
    const ring = new Ring({ entries: 8 });
    let g: BufferRing;
    try {
      g = new BufferRing(ring, { count: 1, size: 64, incremental: true });
    } catch (e) {
      await ring.close();
      if ((e as { code?: string }).code === 'ERR_URING_UNSUPPORTED') return t.skip('kernel lacks IOU_PBUF_RING_INC');
      throw e;
    }
    const [s0, s1] = native().socketpair(1) as [number, number];
    try {
      writeSync(s0, 'first');
      const a = await g.recv(s1);
      writeSync(s0, 'second');
      const b = await g.recv(s1);
      assert.equal(a.bytes.toString(), 'first');
      assert.equal(b.bytes.toString(), 'second');
      assert.equal(a.bufferId, b.bufferId, 'the same buffer, consumed in parts');
      assert.equal(b.bytes.byteOffset - a.bytes.byteOffset, 5);
      a.release(); b.release();
    } finally {
      native().closeFd(s0); native().closeFd(s1);
      await g.close();
      await ring.close();
    }
  });

  it('group ids are chosen uniquely, validated, and refused when taken', async () => {
    const ring = new Ring({ entries: 4 });
    try {
      const a = new BufferRing(ring, { count: 2, size: 16 });
      const b = new BufferRing(ring, { count: 2, size: 16 });
      assert.notEqual(a.groupId, b.groupId);
      assert.throws(() => new BufferRing(ring, { count: 3, size: 16 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new BufferRing(ring, { count: 2, size: 16, groupId: a.groupId }), { code: 'EEXIST' });
      await a.close();
      await b.close();
      assert.throws(() => a.recv(0), { code: 'ERR_URING_BUFFER_RING_CLOSED' });
    } finally {
      await ring.close();
    }
  });
});
