// uring/fs on the ring itself: readFile as one linked submission, slots
// returned, registered FileHandles, close() waiting for work, worker threads
// and the URING_DISABLE fallback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import * as ufs from '../../src/fs/index';
import { ring as engine } from '../../src/fs/backend';
import { _pooledChains } from '../../src/fs/readfile';
import { fdinfo, openFdCount, tempDir } from '../helpers';

const FS_MODULE = join(__dirname, '..', '..', 'src', 'fs', 'index.js');

/** Lets the loop turn until uring/fs has closed the slots of finished readFiles (at most 100 turns). */
async function slotsSettle(): Promise<void> {
  const e = engine();
  for (let k = 0; k < 100 && (e?.slots.used ?? 0) > 0; k++) await new Promise((r) => setImmediate(r));
}

describe('uring/fs on an io_uring ring', () => {
  const tmp = tempDir('uring-fs-ring-');
  before(async () => { await ufs._setBackend('auto'); });
  after(() => tmp.cleanup());

  it('backend says io_uring and shows the ring, its file slots and whether chains are used', (t) => {
    if (ufs.backend.kind !== 'io_uring') { t.skip(`io_uring unavailable: ${ufs.backend.reason}`); return; }
    assert.ok(ufs.backend.ring);
    assert.ok((ufs.backend.fileSlots ?? 0) > 0);
    assert.equal(typeof ufs.backend.chains, 'boolean');
    assert.equal(JSON.parse(JSON.stringify(ufs.backend)).kind, 'io_uring');
  });

  it('readFile of a small file is one enter of three linked SQEs (open, read, read to the end); its slot is closed once the reactions of the moment have run', async (t) => {
    const e = engine();
    if (!e?.chains) { t.skip('kernel lacks IORING_FEAT_LINKED_FILE or file slots'); return; }
    const p = join(tmp.dir, 'small');
    fs.writeFileSync(p, 'chain me');
    const before = e.ring.stats;
    assert.equal((await ufs.readFile(p)).toString(), 'chain me');
    const afterStats = e.ring.stats;
    // The chain is one enter; the result does not wait for the close.
    assert.equal(afterStats.submitted - before.submitted, 3);
    assert.equal(afterStats.enters - before.enters, 1);
    // No readFile followed: the file is out of the table before the next macrotask.
    await new Promise((r) => setImmediate(r));
    assert.equal(fdinfo(e.ring).files.size, 0);
    await slotsSettle();
    assert.equal(e.ring.stats.submitted - before.submitted, 4);
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
  });

  it('readFile of a large file sizes by the path only as a hint: a file renamed over the path meanwhile changes nothing', async (t) => {
    const e = engine();
    if (!e?.chains) { t.skip('kernel lacks IORING_FEAT_LINKED_FILE or file slots'); return; }
    const p = join(tmp.dir, 'renamed-over');
    const big = join(tmp.dir, 'sparse-3g');
    const data = Buffer.alloc(200 * 1024, 0x61);
    fs.writeFileSync(p, data);
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 3 * 2 ** 30);
    const pending = ufs.readFile(p);
    // The chain ran in the flush queued before this microtask: the open file
    // is the 200 KB one; the path now names a 3 GiB file.
    queueMicrotask(() => fs.renameSync(big, p));
    assert.deepEqual(await pending, data);
  });

  it('readFile with an encoding whose string would be too long rejects, as Node does (and does not hang)', { timeout: 20000 }, async () => {
    const p = join(tmp.dir, 'too-long-for-hex');
    fs.writeFileSync(p, '');
    fs.truncateSync(p, 257 * 1024 * 1024); // 514 Mi hex digits: past V8's longest string
    try {
      await assert.rejects(ufs.readFile(p, 'hex'), (e: Error & { code?: string }) => {
        assert.ok(e instanceof RangeError || e.code === 'ERR_STRING_TOO_LONG', String(e));
        return true;
      });
    } finally {
      fs.unlinkSync(p);
    }
  });

  it('FileHandle write and writev to a FIFO write everything, as libuv does, however full the pipe gets', { timeout: 20000 }, async () => {
    const fifo = join(tmp.dir, 'short-writes');
    spawnSync('mkfifo', [fifo]);
    const h = await ufs.open(fifo, 'r+');
    const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let got = 0;
    const chunk = Buffer.alloc(65536);
    const drain = setInterval(() => { try { for (;;) got += fs.readSync(r, chunk); } catch { /* EAGAIN: empty for now */ } }, 1);
    try {
      const n = 1 << 20;
      const [w, v] = await Promise.all([h.write(Buffer.alloc(n, 1)), h.writev([Buffer.alloc(n, 2), Buffer.alloc(5, 3)])]);
      assert.equal(w.bytesWritten, n);
      assert.equal(v.bytesWritten, n + 5);
      for (let k = 0; k < 200 && got < 2 * n + 5; k++) await new Promise((res) => setTimeout(res, 5));
      assert.equal(got, 2 * n + 5);
    } finally {
      clearInterval(drain);
      await h.close();
      fs.closeSync(r);
    }
  });

  it('copyFile onto an existing FIFO fails EINVAL and leaves the FIFO in place', { timeout: 10000 }, async () => {
    const src = join(tmp.dir, 'cp-src');
    const fifo = join(tmp.dir, 'cp-fifo');
    fs.writeFileSync(src, 'data');
    spawnSync('mkfifo', [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      await assert.rejects(ufs.copyFile(src, fifo), { code: 'EINVAL', syscall: 'copyfile' });
      assert.ok(fs.statSync(fifo).isFIFO());
    } finally {
      fs.closeSync(reader);
    }
  });

  it('readFiles in a row open over the slot the previous one retired, with no close between them', async (t) => {
    const e = engine();
    if (!e?.chains) { t.skip('kernel lacks IORING_FEAT_LINKED_FILE or file slots'); return; }
    const paths = [0, 1, 2, 3].map((k) => {
      const p = join(tmp.dir, `row${k}`);
      fs.writeFileSync(p, `row ${k}`);
      return p;
    });
    await slotsSettle();
    const before = e.ring.stats;
    // Every readFile here is started from the continuation of the previous
    // one, before the microtask queue empties, and finds its slot retired.
    const got: string[] = [];
    for (const p of paths) got.push(await ufs.readFile(p, 'utf8'));
    assert.deepEqual(got, ['row 0', 'row 1', 'row 2', 'row 3']);
    assert.equal(e.slots.used, 1);
    const closes = e.ring.stats.submitted - before.submitted - 3 * paths.length;
    assert.ok(closes >= 0 && closes < paths.length, `${closes} closes between ${paths.length} chains`);
    await slotsSettle();
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
  });

  it('a failed open over a retired slot reads nothing of the file still in it', async (t) => {
    const e = engine();
    if (!e?.chains) { t.skip('kernel lacks IORING_FEAT_LINKED_FILE or file slots'); return; }
    const a = join(tmp.dir, 'retired-a');
    const b = join(tmp.dir, 'retired-b');
    fs.writeFileSync(a, 'first file');
    fs.writeFileSync(b, 'second file');
    await slotsSettle();
    // Each call, from the previous one's continuation, opens over the slot it retired.
    assert.equal(await ufs.readFile(a, 'utf8'), 'first file');
    await assert.rejects(ufs.readFile(join(tmp.dir, 'missing'), 'utf8'), { code: 'ENOENT', syscall: 'open' });
    await assert.rejects(ufs.readFile(join(tmp.dir, 'retired-a', 'x')), { code: 'ENOTDIR', syscall: 'open' });
    assert.equal(await ufs.readFile(b, 'utf8'), 'second file');
    await slotsSettle();
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
  });

  it('a failed open in the chain frees its slot and reports the open error', async () => {
    const e = engine()!;
    await assert.rejects(ufs.readFile(join(tmp.dir, 'missing')), { code: 'ENOENT', syscall: 'open' });
    await assert.rejects(ufs.readFile(tmp.dir), { code: 'EISDIR', syscall: 'read' });
    await slotsSettle();
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
  });

  it('500 concurrent readFiles of files of many sizes return the right bytes and leak nothing', async () => {
    const e = engine()!;
    const fds = openFdCount();
    const sizes = [0, 1, 4095, 4096, 65535, 65536, 65537, 300_000];
    const paths = sizes.map((n, k) => {
      const p = join(tmp.dir, `s${k}`);
      fs.writeFileSync(p, Buffer.alloc(n, 97 + k));
      return p;
    });
    const reads = Array.from({ length: 500 }, (_, k) => ufs.readFile(paths[k % paths.length]!));
    const got = await Promise.all(reads);
    got.forEach((b, k) => assert.ok((b as Buffer).equals(fs.readFileSync(paths[k % paths.length]!)), `read ${k}`));
    await slotsSettle();
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
    assert.equal(openFdCount(), fds);
  });

  it('a FileHandle is registered in a slot while open and leaves it on close', async () => {
    const e = engine()!;
    const p = join(tmp.dir, 'h');
    fs.writeFileSync(p, 'handle');
    const h = await ufs.open(p);
    assert.equal(e.slots.used, 1);
    assert.equal(fdinfo(e.ring).files.size, 1);
    assert.equal((await h.read(Buffer.alloc(6), 0, 6, 0)).bytesRead, 6);
    await h.close();
    assert.equal(e.slots.used, 0);
    assert.equal(fdinfo(e.ring).files.size, 0);
    assert.equal(h.fd, -1);
  });

  it('close() waits for reads in flight, which complete with data', async () => {
    const p = join(tmp.dir, 'w');
    fs.writeFileSync(p, Buffer.alloc(1 << 16, 1));
    const h = await ufs.open(p);
    const reads = Array.from({ length: 16 }, (_, k) => h.read(Buffer.alloc(4096), 0, 4096, k * 4096));
    let closed = false;
    const c = h.close().then(() => { closed = true; });
    assert.equal(h.close(), h.close());
    for (const r of await Promise.all(reads)) assert.equal(r.bytesRead, 4096);
    await c;
    assert.ok(closed);
    await assert.rejects(h.read(Buffer.alloc(1), 0, 1, 0), { code: 'EBADF', message: 'file closed' });
  });

  it('await using closes the handle', async () => {
    const p = join(tmp.dir, 'd');
    fs.writeFileSync(p, 'x');
    let fh: ufs.FileHandle | undefined;
    {
      await using h = await ufs.open(p);
      fh = h;
      assert.ok(h.fd >= 0);
    }
    assert.equal(fh.fd, -1);
  });

  it('a worker thread gets its own ring and reads files', async (t) => {
    if (ufs.backend.kind !== 'io_uring') { t.skip('io_uring unavailable'); return; }
    const p = join(tmp.dir, 'wk');
    fs.writeFileSync(p, 'from a worker');
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require(workerData.mod);
      fs.readFile(workerData.p, 'utf8').then((text) => parentPort.postMessage({ text, kind: fs.backend.kind, ringFd: fs.backend.ring.fd }));
    `;
    const w = new Worker(code, { eval: true, workerData: { mod: FS_MODULE, p } });
    const msg = await new Promise<{ text: string; kind: string; ringFd: number }>((res, rej) => { w.once('message', res); w.once('error', rej); });
    await w.terminate();
    assert.equal(msg.text, 'from a worker');
    assert.equal(msg.kind, 'io_uring');
    assert.notEqual(msg.ringFd, ufs.backend.ring!.fd);
  });

  it('readFile chains settled early by destroy() are not reused while the kernel may still hold them', async (t) => {
    const e = engine();
    if (!e?.chains) { t.skip('kernel lacks IORING_FEAT_LINKED_FILE or file slots'); return; }
    const fifo = join(tmp.dir, 'destroy-fifo');
    spawnSync('mkfifo', [fifo]);
    // Writers keep the FIFOs open with nothing written: each readFile's read waits.
    const writers = Array.from({ length: 4 }, () => fs.openSync(fifo, fs.constants.O_RDWR));
    try {
      // A warm pool first, so that settled chains would show in it.
      const plain = join(tmp.dir, 'destroy-plain');
      fs.writeFileSync(plain, 'x');
      await Promise.all(Array.from({ length: 8 }, () => ufs.readFile(plain)));
      const before = _pooledChains();
      const waiting = Array.from({ length: 4 }, () => ufs.readFile(fifo).then(() => 'read', (err: Error & { code?: string }) => err.code));
      await new Promise((r) => setImmediate(r));
      assert.equal(_pooledChains(), before - 4, 'four chains in flight');
      e.ring.destroy();
      const outcomes = await Promise.all(waiting);
      for (const o of outcomes) assert.notEqual(o, 'read');
      assert.equal(_pooledChains(), before - 4, 'no chain settled by destroy() went back to the pool');
    } finally {
      for (const w of writers) fs.closeSync(w);
      await ufs._setBackend('auto');
    }
  });
});

describe('uring/fs without io_uring', () => {
  it('falls back to node:fs/promises with URING_DISABLE=1 and says why', () => {
    const code = `
      const fs = require(${JSON.stringify(FS_MODULE)});
      (async () => {
        const text = await fs.readFile(${JSON.stringify(__filename)}, 'utf8');
        let err;
        try { await fs.stat('/nonexistent-uring-fs'); } catch (e) { err = { ...e, message: e.message }; }
        console.log(JSON.stringify({ backend: fs.backend, same: text.length > 0, err }));
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', code], { env: { ...process.env, URING_DISABLE: '1' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.backend.kind, 'node');
    assert.equal(out.backend.code, 'disabled');
    assert.match(out.backend.reason, /URING_DISABLE/);
    assert.ok(out.same);
    assert.deepEqual(out.err, { errno: -2, code: 'ENOENT', syscall: 'stat', path: '/nonexistent-uring-fs', message: "ENOENT: no such file or directory, stat '/nonexistent-uring-fs'" });
  });

});
