// Registered (fixed) buffers: the pool, read_fixed/write_fixed, the
// fixed-buffer send, sparse tables and tags, and the memory's lifetime.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as net from 'node:net';
import { Ring, FixedBuffer, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { allShapes, tempDir } from '../helpers';

for (const shape of allShapes()) {
  describe(`fixed buffers on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    let ring: Ring;
    const tmp = tempDir();
    before(() => { ring = new Ring(shape.options); ring.buffers.register({ count: 4, size: 8192 }); });
    after(async () => { ring.buffers.unregister(); await ring.close(); tmp.cleanup(); });

    it('writeFixed() and readFixed() round-trip data through registered buffers', async () => {
      const p = tmp.path('fixed.bin');
      const fd = openSync(p, 'w+');
      const a = ring.buffers.acquire()!;
      const b = ring.buffers.acquire()!;
      try {
        a.bytes.fill(0x61);
        assert.equal(await ring.writeFixed(fd, a, 0), 8192);
        assert.equal(await ring.readFixed(fd, b, 0), 8192);
        assert.ok(b.bytes.every((x) => x === 0x61));
      } finally {
        a.release(); b.release(); closeSync(fd);
      }
    });

    it('readFixed() and writeFixed() accept a sub-range of the buffer', async () => {
      const p = tmp.path('range.txt');
      writeFileSync(p, '0123456789');
      const fd = openSync(p, 'r+');
      const b = ring.buffers.acquire()!;
      try {
        b.bytes.fill(0);
        assert.equal(await ring.readFixed(fd, b, 2, { offset: 100, length: 5 }), 5);
        assert.equal(b.bytes.toString('latin1', 100, 105), '23456');
        assert.equal(b.bytes[99], 0);
        assert.equal(b.bytes[105], 0);
        b.bytes.write('AB', 500);
        assert.equal(await ring.writeFixed(fd, b, 8, { offset: 500, length: 2 }), 2);
        assert.equal(readFileSync(p, 'latin1'), '01234567AB');
      } finally {
        b.release(); closeSync(fd);
      }
    });
  });
}

describe('fixed buffer pool', () => {
  let ring: Ring;
  before(() => { ring = new Ring({ entries: 16 }); });
  after(async () => { await ring.close(); });

  it('register() hands out page-aligned buffers with consecutive indexes', async () => {
    const bufs = ring.buffers.register({ count: 3, size: 4096 });
    try {
      assert.deepEqual(bufs.map((b) => b.index), [0, 1, 2]);
      assert.equal(ring.buffers.capacity, 3);
      assert.equal(ring.buffers.available, 3);
      for (const b of bufs) assert.equal(native().address(b._view) % 4096, 0);
      assert.throws(() => ring.buffers.register({ count: 1, size: 10 }), { code: 'EBUSY' });
    } finally {
      ring.buffers.unregister();
    }
    assert.equal(ring.buffers.capacity, 0);
  });

  it('readFixed() refuses anything but a FixedBuffer from this ring, before any submission', async () => {
    ring.buffers.register({ count: 1, size: 64 });
    const other = new Ring({ entries: 2 });
    try {
      other.buffers.register({ count: 1, size: 64 });
      const foreign = other.buffers.acquire()!;
      const before = ring.stats.submitted;
      await assert.rejects(ring.readFixed(0, Buffer.alloc(64) as unknown as FixedBuffer), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.readFixed(0, foreign), { code: 'ERR_URING_FOREIGN_BUFFER' });
      const b = ring.buffers.acquire()!;
      await assert.rejects(ring.readFixed(0, b, 0, { offset: 65 }), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.readFixed(0, b, 0, { offset: 10, length: 55 }), { code: 'ERR_OUT_OF_RANGE' });
      b.release();
      await assert.rejects(ring.readFixed(0, b), { code: 'ERR_URING_BUFFER_RELEASED' });
      assert.throws(() => b.bytes, { code: 'ERR_URING_BUFFER_RELEASED' });
      assert.equal(ring.pending, 0);
      await ring.nop();
      assert.equal(ring.stats.submitted, before + 1);
    } finally {
      await other.close();
      ring.buffers.unregister();
    }
  });

  it('the memory cannot be detached, transferred or resized', async () => {
    ring.buffers.register({ count: 1, size: 4096 });
    try {
      const b = ring.buffers.acquire()!;
      const ab = b.bytes.buffer as ArrayBuffer & { resizable?: boolean; transfer?: () => ArrayBuffer };
      assert.notEqual(ab.resizable, true);
      if (typeof ab.transfer === 'function') assert.throws(() => ab.transfer!());
      b.bytes[0] = 7;
      try { structuredClone(ab, { transfer: [ab] }); } catch { /* refusing is fine too */ }
      const { port1, port2 } = new MessageChannel();
      try { port1.postMessage(b.bytes, [ab]); } catch { /* refusing is fine too */ }
      port1.close(); port2.close();
      assert.ok(ab.byteLength >= 4096, 'still attached');
      assert.equal(b.bytes[0], 7);
      b.release();
    } finally {
      ring.buffers.unregister();
    }
  });

  it('a buffer released while a request uses it returns to the pool only after the completion', async () => {
    ring.buffers.register({ count: 1, size: 16 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const b = ring.buffers.acquire()!;
      const p = ring.readFixed(r, b);
      b.release();
      await new Promise((res) => setImmediate(res));
      assert.equal(ring.buffers.acquire(), undefined, 'still in use by the kernel');
      const waiting = ring.buffers.take();
      writeSync(w, 'data');
      assert.equal(await p, 4);
      const again = await waiting;
      assert.equal(again, b);
      again.release();
    } finally {
      native().closeFd(r); native().closeFd(w);
      ring.buffers.unregister();
    }
  });

  it('unregister() with a readFixed() in flight lets the read finish with its data', async () => {
    ring.buffers.register({ count: 1, size: 16 });
    const [r, w] = native().pipe() as [number, number];
    try {
      const b = ring.buffers.acquire()!;
      const view = b.bytes;
      const p = ring.readFixed(r, b);
      await new Promise((res) => setImmediate(res));
      ring.buffers.unregister();
      writeSync(w, 'late');
      assert.equal(await p, 4);
      assert.equal(view.toString('latin1', 0, 4), 'late');
      assert.throws(() => b.bytes, { code: 'ERR_URING_BUFFER_RELEASED' });
    } finally {
      native().closeFd(r); native().closeFd(w);
    }
  });

  it('a sparse table fills with add() and empties with remove(); tags free the memory', async (t) => {
    if (!ring.features.rsrcTags) return t.skip('kernel lacks IORING_FEAT_RSRC_TAGS');
    ring.buffers.register({ count: 1, size: 128, capacity: 4 });
    try {
      assert.equal(ring.buffers.capacity, 4);
      const more = ring.buffers.add(2, 256);
      assert.deepEqual(more.map((b) => b.index), [1, 2]);
      assert.equal(ring.buffers.available, 3);
      assert.throws(() => ring.buffers.add(2, 10), { code: 'ERR_OUT_OF_RANGE' });
      assert.equal(ring.buffers._regionCount, 2);
      ring.buffers.remove(more[0]!);
      ring.buffers.remove(more[1]!);
      ring.reap();
      assert.equal(ring.buffers._regionCount, 1, 'the region is dropped once both tag CQEs arrived');
      const again = ring.buffers.add(3, 64);
      assert.deepEqual(again.map((b) => b.index), [1, 2, 3]);
    } finally {
      ring.buffers.unregister();
    }
    await ring.nop();
    assert.equal(ring.buffers._regionCount, 0);
  });

  it('sendFixed() sends a sub-range of a registered buffer over TCP', async (t) => {
    if (!ring.probe().supports('SEND_ZC')) return t.skip('kernel lacks IORING_OP_SEND_ZC');
    ring.buffers.register({ count: 1, size: 4096 });
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const got = new Promise<string>((resolve) => srv.on('connection', (c) => {
      let d = '';
      c.on('data', (x) => { d += x; if (d.length >= 11) { resolve(d); c.destroy(); } });
    }));
    const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.on('connect', r));
    try {
      const b = ring.buffers.acquire()!;
      b.bytes.write('..hello fixed..', 0, 'latin1');
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
      assert.equal(await ring.sendFixed(fd, b, { offset: 2, length: 11 }), 11);
      assert.equal(await got, 'hello fixed');
      b.release();
    } finally {
      client.destroy();
      srv.close();
      ring.buffers.unregister();
    }
  });
});

describe('locked-memory limit', () => {
  it('register() beyond RLIMIT_MEMLOCK fails with ENOMEM naming RLIMIT_MEMLOCK', (t) => {
    // Root bypasses the limit through CAP_IPC_LOCK; drop it in a child.
    const script = `
      const { Ring } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'index.js'))});
      const ring = new Ring({ entries: 2 });
      try { ring.buffers.register({ count: 1, size: 4 << 20 }); console.log('OK'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
      ring.close();`;
    const args = ['--memlock=65536', '--', 'node', '-e', script];
    const isRoot = process.getuid?.() === 0;
    const cmd = isRoot ? 'setpriv' : 'prlimit';
    const full = isRoot ? ['--inh-caps=-ipc_lock', '--bounding-set=-ipc_lock', 'prlimit', ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8', env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
    if (r.error || r.status !== 0) return t.skip(`cannot run a child with a low memlock limit: ${r.error?.message ?? r.stderr}`);
    const out = r.stdout.trim();
    if (out === 'OK') return t.skip('the limit was not enforced (CAP_IPC_LOCK kept)');
    const e = JSON.parse(out) as { code: string; message: string };
    assert.equal(e.code, 'ENOMEM');
    assert.match(e.message, /RLIMIT_MEMLOCK/);
    assert.match(e.message, /65536 bytes/);
  });
});

void C;
