// Core file operations on real files, on every ring shape the kernel offers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { Ring, constants as C } from '../../src/index';
import { allShapes, tempDir } from '../helpers';

for (const shape of allShapes()) {
  describe(`core operations on a ${shape.name} ring`, { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
    let ring: Ring;
    const tmp = tempDir();
    before(() => { ring = new Ring(shape.options); });
    after(async () => { await ring.close(); tmp.cleanup(); });

    it('nop() resolves with 0', async () => {
      assert.equal(await ring.nop(), 0);
    });

    it('openat(), write(), read() and closeFd() round-trip data', async () => {
      const p = tmp.path('rw.txt');
      const fd = await ring.openat(p, C.O_CREAT | C.O_RDWR | C.O_CLOEXEC, 0o644);
      assert.ok(fd >= 0);
      assert.equal(await ring.write(fd, Buffer.from('hello ring'), 0), 10);
      const buf = Buffer.alloc(32);
      assert.equal(await ring.read(fd, buf, 0), 10);
      assert.equal(buf.toString('utf8', 0, 10), 'hello ring');
      assert.equal(await ring.read(fd, buf.subarray(0, 4), 6), 4);
      assert.equal(buf.toString('utf8', 0, 4), 'ring');
      assert.equal(await ring.closeFd(fd), 0);
      assert.equal(readFileSync(p, 'utf8'), 'hello ring');
    });

    it('read() and write() without a position use and advance the file position', async () => {
      const p = tmp.path('pos.txt');
      writeFileSync(p, 'abcdef');
      const fd = await ring.openat(p, C.O_RDWR);
      const b = Buffer.alloc(2);
      assert.equal(await ring.read(fd, b), 2);
      assert.equal(b.toString(), 'ab');
      assert.equal(await ring.read(fd, b, -1), 2);
      assert.equal(b.toString(), 'cd');
      assert.equal(await ring.read(fd, b, null), 2);
      assert.equal(b.toString(), 'ef');
      assert.equal(await ring.read(fd, b), 0, 'end of file reads 0');
      await ring.closeFd(fd);
    });

    it('readv() and writev() scatter and gather', async () => {
      const p = tmp.path('vec.txt');
      const fd = await ring.openat(p, C.O_CREAT | C.O_RDWR, 0o600);
      assert.equal(await ring.writev(fd, [Buffer.from('one-'), Buffer.from('two-'), new Uint8Array([51])], 0), 9);
      const a = Buffer.alloc(4);
      const b = new Uint8Array(5);
      assert.equal(await ring.readv(fd, [a, b], 0), 9);
      assert.equal(a.toString(), 'one-');
      assert.equal(Buffer.from(b).toString(), 'two-3');
      await ring.closeFd(fd);
    });

    it('fsync(), fdatasync(), fallocate(), fadvise() and syncFileRange() succeed on a file', async () => {
      const p = tmp.path('sync.bin');
      const fd = await ring.openat(p, C.O_CREAT | C.O_RDWR, 0o600);
      assert.equal(await ring.fallocate(fd, 0, 0, 8192), 0);
      assert.equal(statSync(p).size, 8192);
      assert.equal(await ring.fadvise(fd, 0, 8192, 1 /* POSIX_FADV_SEQUENTIAL */), 0);
      assert.equal(await ring.write(fd, Buffer.alloc(100, 1), 0), 100);
      assert.equal(await ring.fsync(fd), 0);
      assert.equal(await ring.fdatasync(fd), 0);
      assert.equal(await ring.syncFileRange(fd, 0, 4096, 0), 0);
      await ring.closeFd(fd);
    });

    it('ftruncate() changes the size where the kernel has it', async (t) => {
      if (!ring.probe().supports('FTRUNCATE')) return t.skip('kernel lacks IORING_OP_FTRUNCATE');
      const p = tmp.path('trunc.bin');
      writeFileSync(p, Buffer.alloc(1000));
      const fd = await ring.openat(p, C.O_RDWR);
      assert.equal(await ring.ftruncate(fd, 10), 0);
      assert.equal(statSync(p).size, 10);
      await ring.closeFd(fd);
    });

    it('statx() and fstat() agree with node:fs', async () => {
      const p = tmp.path('stat.txt');
      writeFileSync(p, 'x'.repeat(1234));
      const s = await ring.statx(p);
      const n = statSync(p);
      assert.equal(s.size, 1234);
      assert.equal(s.ino, n.ino);
      assert.equal(s.mode, n.mode);
      assert.equal(s.dev, n.dev);
      assert.equal(s.nlink, n.nlink);
      assert.ok(s.isFile());
      assert.ok(Math.abs(s.mtimeMs - n.mtimeMs) < 1);
      const fd = await ring.openat(p);
      const f = await ring.fstat(fd);
      assert.equal(f.ino, n.ino);
      await ring.closeFd(fd);
      assert.ok((await ring.statx(tmp.dir)).isDirectory());
    });

    it('openat2() opens a file', async (t) => {
      if (!ring.probe().supports('OPENAT2')) return t.skip('kernel lacks IORING_OP_OPENAT2');
      const p = tmp.path('o2.txt');
      writeFileSync(p, 'o2');
      const fd = await ring.openat2(p, C.O_RDONLY | C.O_CLOEXEC, 0, { resolve: 0 });
      const b = Buffer.alloc(2);
      assert.equal(await ring.read(fd, b, 0), 2);
      assert.equal(b.toString(), 'o2');
      await ring.closeFd(fd);
    });

    it('mkdirat(), renameat(), symlinkat(), linkat() and unlinkat() change the tree', async () => {
      const d = tmp.path('dir');
      assert.equal(await ring.mkdirat(d, 0o755), 0);
      assert.ok(statSync(d).isDirectory());
      const a = tmp.path('dir/a');
      writeFileSync(a, 'A');
      assert.equal(await ring.renameat(a, tmp.path('dir/b')), 0);
      assert.ok(!existsSync(a));
      assert.equal(await ring.symlinkat('b', tmp.path('dir/s')), 0);
      assert.equal(readlinkSync(tmp.path('dir/s')), 'b');
      assert.ok(lstatSync(tmp.path('dir/s')).isSymbolicLink());
      assert.equal(await ring.linkat(tmp.path('dir/b'), tmp.path('dir/h')), 0);
      assert.equal(statSync(tmp.path('dir/h')).nlink, 2);
      for (const f of ['b', 's', 'h']) assert.equal(await ring.unlinkat(tmp.path(`dir/${f}`)), 0);
      assert.equal(await ring.unlinkat(d, { flags: C.AT_REMOVEDIR }), 0);
      assert.ok(!existsSync(d));
    });

    it('splice() and tee() move data through pipes', async () => {
      const n = require('../../src/native').native();
      const [r1, w1] = n.pipe() as [number, number];
      const [r2, w2] = n.pipe() as [number, number];
      const [r3, w3] = n.pipe() as [number, number];
      try {
        await ring.write(w1, Buffer.from('spliced'));
        assert.equal(await ring.tee(r1, w3, 7), 7);
        assert.equal(await ring.splice(r1, null, w2, null, 7), 7);
        const b = Buffer.alloc(7);
        assert.equal(await ring.read(r2, b), 7);
        assert.equal(b.toString(), 'spliced');
        assert.equal(await ring.read(r3, b), 7);
        assert.equal(b.toString(), 'spliced');
        // splice from a file into a pipe at an offset
        const p = tmp.path('splice.txt');
        writeFileSync(p, '0123456789');
        const fd = await ring.openat(p);
        assert.equal(await ring.splice(fd, 5, w2, null, 5), 5);
        assert.equal(await ring.read(r2, b.subarray(0, 5)), 5);
        assert.equal(b.toString('utf8', 0, 5), '56789');
        await ring.closeFd(fd);
      } finally {
        for (const fd of [r1, w1, r2, w2, r3, w3]) n.closeFd(fd);
      }
    });

    it('pollAdd() resolves when a pipe becomes readable; pollRemove() cancels a poll', async () => {
      const n = require('../../src/native').native();
      const [r, w] = n.pipe() as [number, number];
      try {
        const POLLIN = 1;
        const p = ring.pollAdd(r, POLLIN);
        await ring.write(w, Buffer.from('x'));
        assert.equal((await p) & POLLIN, POLLIN);
        const [r2, w2] = n.pipe() as [number, number];
        const q = ring.pollAdd(r2, POLLIN);
        assert.equal(await ring.pollRemove(q), 0);
        await assert.rejects(q, { code: 'ECANCELED' });
        n.closeFd(r2); n.closeFd(w2);
      } finally {
        n.closeFd(r); n.closeFd(w);
      }
    });

    it('many requests in one turn all complete, more than the SQ holds', async () => {
      const ps: Promise<number>[] = [];
      for (let i = 0; i < ring.sqEntries * 4 + 3; i++) ps.push(ring.nop());
      const rs = await Promise.all(ps);
      assert.equal(rs.length, ring.sqEntries * 4 + 3);
      assert.ok(rs.every((r) => r === 0));
      assert.equal(ring.pending, 0);
    });
  });
}
