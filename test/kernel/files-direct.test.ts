// Direct descriptors: files opened, accepted or created straight into a slot,
// closed from a slot, installed as fds, and passed between rings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Ring, FixedFile, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { Operation, slotTarget } from '../../src/operation';
import { OPS } from '../../src/opcodes';
import { internalAddress } from '../../src/memory';
import { allShapes, fdinfo, needsOp, tempDir, assertViewMatches } from '../helpers';

const n = native();
const AF_UNIX = 1;
const SOCK_STREAM = 1;


/** The flags byte of the most recently written SQE. */
function lastSqeFlags(ring: Ring): number {
  const sq = ring._sq;
  const i = (((sq.tail - 1) >>> 0) & sq.mask) * C.SQE_WORDS;
  return (sq.sqes[i]! >>> 8) & 0xff;
}

/** bind(2) + listen(2) of a direct socket on a unix path, as raw SQEs (the net layer has its own). */
async function listenUnix(ring: Ring, sock: FixedFile, path: string): Promise<void> {
  const sa = new Uint8Array(110);
  sa[0] = AF_UNIX;
  sa.set(Buffer.from(path), 2);
  const bind = new Operation(OPS.bind).file(slotTarget(sock.index));
  bind.addr = internalAddress(sa);
  bind.off = 110;
  bind.hold = sa;
  assert.equal(await ring._submit(bind), 0);
  const listen = new Operation(OPS.listen).file(slotTarget(sock.index));
  listen.len = 16;
  assert.equal(await ring._submit(listen), 0);
}

for (const shape of allShapes()) {
  describe(`direct descriptors on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    it('openat() into a kernel-chosen and a chosen slot, read, install, close', async () => {
      const ring = new Ring(shape.options);
      const tmp = tempDir();
      try {
        writeFileSync(tmp.path('d'), 'direct!');
        ring.files.registerSparse(4);
        const a = await ring.files.openat(tmp.path('d'));
        assert.equal(a.index, 0);
        const b = await ring.files.openat(tmp.path('d'), C.O_RDONLY, 0, { slot: 3 });
        assert.equal(b.index, 3);
        assertViewMatches(ring);
        const buf = Buffer.alloc(7);
        assert.equal(await ring.read(b, buf, 0), 7);
        assert.equal(buf.toString(), 'direct!');
        await ring.files.close(a);
        assert.deepEqual(ring.files.occupied(), [3]);
        assertViewMatches(ring);
        await assert.rejects(ring.files.close(a), { code: 'EBADF', syscall: 'close_direct', slot: 0 });
        assertViewMatches(ring);
        await ring.files.close(b);
        assert.equal(ring.files.occupiedCount, 0);
      } finally {
        await ring.close();
        tmp.cleanup();
      }
    });
  });
}

describe('direct descriptors', () => {
  it('openat() into an occupied slot replaces it; a read in flight finishes on the old file', async () => {
    const ring = new Ring({ entries: 8 });
    const p = n.pipe() as [number, number];
    try {
      const [f] = ring.files.register([p[0]]);
      const buf = Buffer.alloc(3);
      const pending = ring.read(f!, buf);
      ring.submit();
      const g = await ring.files.openat('/dev/zero', C.O_RDONLY, 0, { slot: 0 });
      assert.equal(g.index, 0);
      n.closeFd(p[1]); // EOF on the old file
      assert.equal(await pending, 0);
      assert.equal(await ring.read(g, buf, 0), 3);
      assert.deepEqual([...buf], [0, 0, 0], 'the slot now reads /dev/zero');
      assertViewMatches(ring);
    } finally {
      await ring.close();
      n.closeFd(p[0]);
    }
  });

  it('close() of a slot never sets IOSQE_FIXED_FILE; install() does, as the kernel requires', async (t) => {
    const ring = new Ring({ entries: 8 });
    try {
      ring.files.registerSparse(2);
      const f = await ring.files.openat('/dev/null');
      const closing = ring.files.close(f);
      assert.equal(lastSqeFlags(ring) & C.IOSQE_FIXED_FILE, 0);
      await closing;
      if (needsOp('FIXED_FD_INSTALL')) { t.diagnostic('no FIXED_FD_INSTALL'); return; }
      const g = await ring.files.openat('/dev/null');
      const installing = ring.files.install(g);
      assert.equal(lastSqeFlags(ring) & C.IOSQE_FIXED_FILE, C.IOSQE_FIXED_FILE);
      await installing;
    } finally {
      await ring.close();
    }
  });

  it('install() gives a regular fd (close-on-exec by default) and the slot keeps its file', { skip: needsOp('FIXED_FD_INSTALL') }, async () => {
    const ring = new Ring({ entries: 8 });
    const tmp = tempDir();
    try {
      writeFileSync(tmp.path('i'), 'installed');
      ring.files.registerSparse(2);
      const f = await ring.files.openat(tmp.path('i'));
      const fd = await ring.files.install(f);
      assert.equal(readlinkSync(`/proc/self/fd/${fd}`), tmp.path('i'));
      assert.match(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'), /flags:\s*02/, 'O_CLOEXEC set');
      const b = Buffer.alloc(9);
      assert.equal(readSync(fd, b, 0, 9, 0), 9);
      assert.equal(b.toString(), 'installed');
      closeSync(fd);
      const fd2 = await ring.files.install(f, { cloexec: false });
      assert.doesNotMatch(readFileSync(`/proc/self/fdinfo/${fd2}`, 'utf8'), /flags:\s*02/);
      closeSync(fd2);
      assert.deepEqual(ring.files.occupied(), [0]);
    } finally {
      await ring.close();
      tmp.cleanup();
    }
  });

  it('openat2() into a slot', { skip: needsOp('OPENAT2') }, async () => {
    const ring = new Ring({ entries: 8 });
    try {
      ring.files.registerSparse(2);
      const f = await ring.files.openat2('/dev/null', C.O_RDONLY, 0, { slot: 1 });
      assert.equal(f.index, 1);
      assertViewMatches(ring);
      await assert.rejects(ring.files.openat2('/nonexistent/x', C.O_RDONLY, 0, { slot: 0 }),
        { code: 'ENOENT', syscall: 'openat2', path: '/nonexistent/x', slot: 0 });
      assertViewMatches(ring);
    } finally {
      await ring.close();
    }
  });

  it('socket() into slots until the table is full, then ENFILE', { skip: needsOp('SOCKET') }, async () => {
    const ring = new Ring({ entries: 8 });
    try {
      ring.files.registerSparse(2);
      const a = await ring.files.socket(AF_UNIX, SOCK_STREAM);
      const b = await ring.files.socket(AF_UNIX, SOCK_STREAM);
      assert.deepEqual([a.index, b.index], [0, 1]);
      await assert.rejects(ring.files.socket(AF_UNIX, SOCK_STREAM), { code: 'ENFILE', syscall: 'socket' });
      assert.match(fdinfo(ring).files.get(0)!, /socket/);
      assertViewMatches(ring);
      await assert.rejects(ring.files.socket(AF_UNIX, SOCK_STREAM | C.O_CLOEXEC), { code: 'ERR_INVALID_ARG_VALUE' });
    } finally {
      await ring.close();
    }
  });

  it('updateAsync() at an offset and into kernel-chosen slots', async () => {
    const ring = new Ring({ entries: 8 });
    const p = n.pipe() as [number, number];
    try {
      ring.files.registerSparse(6);
      ring.files.setAllocRange(3, 3);
      const at = await ring.files.updateAsync(1, [p[0], -1, p[1]]);
      assert.equal(at.applied, 3);
      assert.deepEqual(at.files.map((f) => f.index), [1, 2, 3]);
      assert.deepEqual(ring.files.occupied(), [1, 3]);
      const al = await ring.files.updateAsync('alloc', [p[0], p[1]]);
      assert.equal(al.applied, 2);
      assert.deepEqual(al.files.map((f) => f.index), [4, 5]);
      assertViewMatches(ring);
      await assert.rejects(ring.files.updateAsync('alloc', [p[0]]), { code: 'ENFILE' });
    } finally {
      await ring.close();
      n.closeFd(p[0]);
      n.closeFd(p[1]);
    }
  });

  it('send() passes a slot to another ring, which receives it with its data', { skip: needsOp('MSG_RING') }, async () => {
    const a = new Ring({ entries: 8 });
    const b = new Ring({ entries: 8 });
    const p = n.pipe() as [number, number];
    try {
      a.files.register([p[0], p[1]]);
      b.files.registerSparse(4);
      const receiving = b.files.receive();
      assert.equal(await a.files.send(a.files.get(1), b, { data: 42 }), 0);
      const got = await receiving;
      assert.equal(got.data, 42);
      assert.equal(got.file.index, 0);
      assert.equal(await a.files.send(a.files.get(0), b.fd, { slot: 3, data: 7 }), 3);
      const got2 = await b.files.receive();
      assert.deepEqual([got2.file.index, got2.data], [3, 7]);
      assertViewMatches(b);
      assertViewMatches(a);
      assert.equal(await b.write(got.file, Buffer.from('via b')), 5);
      const buf = Buffer.alloc(5);
      assert.equal(await b.read(got2.file, buf), 5);
      assert.equal(buf.toString(), 'via b');
      const full = new Ring({ entries: 2 });
      full.files.registerSparse(1);
      await full.files.openat('/dev/null');
      await assert.rejects(a.files.send(a.files.get(0), full), { code: 'ENFILE', syscall: 'msg_ring' });
      await full.close();
    } finally {
      await a.close();
      await b.close();
      n.closeFd(p[0]);
      n.closeFd(p[1]);
    }
  });

  it('accept on one ring, serve on a ring in a worker thread', { skip: needsOp('BIND') ?? needsOp('LISTEN') ?? needsOp('MSG_RING') }, async () => {
    const ring = new Ring({ entries: 16 });
    const tmp = tempDir();
    const worker = new Worker(`
      const { parentPort } = require('node:worker_threads');
      const { Ring } = require(${JSON.stringify(join(__dirname, '..', '..', 'src', 'index.js'))});
      (async () => {
        const ring = new Ring({ entries: 8 });
        ring.files.registerSparse(4);
        parentPort.postMessage({ fd: ring.fd });
        const { file, data } = await ring.files.receive();
        const buf = Buffer.alloc(4);
        const got = await ring.read(file, buf);
        await ring.write(file, Buffer.from('pong ' + data + ' ' + buf.toString('utf8', 0, got)));
        await ring.files.close(file);
        parentPort.postMessage({ served: true, slot: file.index });
        await ring.close();
      })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
    `, { eval: true });
    try {
      const first = await new Promise<{ fd?: number; error?: string }>((res) => worker.once('message', res));
      assert.equal(first.error, undefined, first.error);
      ring.files.registerSparse(4);
      const listener = await ring.files.socket(AF_UNIX, SOCK_STREAM);
      const path = tmp.path('s.sock');
      await listenUnix(ring, listener, path);
      const accepting = ring.files.accept(listener);
      const client = connect(path);
      const conn = await accepting;
      assertViewMatches(ring);
      assert.equal(await ring.files.send(conn, first.fd!, { data: 9 }), 0);
      // This ring's slot still holds the connection: close it, or the peer never sees EOF.
      await ring.files.close(conn);
      const served = new Promise<{ served?: boolean; error?: string }>((res) => worker.once('message', res));
      client.write('ping');
      const reply = await new Promise<string>((res, rej) => {
        let s = '';
        client.on('data', (d) => { s += d; });
        client.on('end', () => res(s));
        client.on('error', rej);
      });
      assert.equal(reply, 'pong 9 ping');
      const done = await served;
      assert.equal(done.error, undefined, done.error);
      assert.equal(done.served, true);
      client.destroy();
    } finally {
      await worker.terminate();
      await ring.close();
      tmp.cleanup();
    }
  });

  it('registerRingFd() lets io_uring_enter use the registered index, on every shape', async () => {
    for (const shape of allShapes().filter((s) => s.available)) {
      const ring = new Ring(shape.options);
      try {
        const ok = ring.registerRingFd();
        if (!ok) return; // kernel before 5.18
        assert.equal(ring.registerRingFd(), true, 'idempotent');
        const enters = ring.stats.enters;
        const results = await Promise.all([ring.nop(), ring.nop(), ring.nop()]);
        assert.deepEqual(results, [0, 0, 0]);
        if (!shape.options.sqpoll) assert.ok(ring.stats.enters > enters);
        ring.unregisterRingFd();
        assert.equal(await ring.nop(), 0);
        ring.registerRingFd();
      } finally {
        await ring.close();
      }
    }
  });
});
