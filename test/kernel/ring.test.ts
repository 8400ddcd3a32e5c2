// The ring as a whole: setup, features, probe, lifecycle and threads.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { Ring, RingOptions, constants as C } from '../../src/index';
import { native } from '../../src/native';
import { openFdCount, tempDir } from '../helpers';

const indexPath = require.resolve('../../src/index');

describe('Ring', () => {
  it('exposes the sizes and the kernel feature bits as named booleans', async () => {
    const ring = new Ring({ entries: 16, cqEntries: 64 });
    try {
      assert.equal(ring.sqEntries, 16);
      assert.equal(ring.cqEntries, 64);
      for (const [name, bit] of Object.entries(C.Feature)) {
        assert.equal(ring.features[name as keyof typeof C.Feature], (ring.featureBits & bit) !== 0, name);
      }
      assert.ok(ring.features.nodrop, 'NODROP is in every kernel this library supports');
      assert.ok(Object.isFrozen(ring.features));
    } finally {
      await ring.close();
    }
  });

  for (const [name, options] of [
    ['NO_SQARRAY', { noSqArray: true }], ['COOP_TASKRUN', { coopTaskrun: true }],
    ['SUBMIT_ALL', { submitAll: true }], ['CLAMP', { clamp: true, entries: 32768, cqEntries: 2 ** 30 }],
  ] as [string, RingOptions][]) {
    it(`a ${name} ring runs requests, or setup fails with EINVAL on kernels without it`, async (t) => {
      let ring: Ring;
      try {
        ring = new Ring({ entries: 8, ...options });
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'EINVAL');
        return t.skip(`kernel lacks IORING_SETUP_${name}`);
      }
      try {
        const ps = Array.from({ length: 20 }, () => ring.nop());
        assert.deepEqual(await Promise.all(ps), new Array(20).fill(0));
      } finally {
        await ring.close();
      }
    });
  }

  it('probe() reports supported opcodes by name and number', async () => {
    const ring = new Ring({ entries: 2 });
    try {
      const p = ring.probe();
      assert.ok(p.supports('READ'));
      assert.ok(p.supports(C.Op.NOP));
      assert.ok(!p.supports(250));
      assert.ok(p.ops.includes('OPENAT'));
      assert.equal(ring.probe(), p, 'asked once per ring');
    } finally {
      await ring.close();
    }
  });

  it('the ring fd is close-on-exec', async () => {
    const ring = new Ring({ entries: 2 });
    try {
      const flags = parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${ring.fd}`, 'utf8'))![1]!, 8);
      assert.equal(flags & C.O_CLOEXEC, C.O_CLOEXEC);
    } finally {
      await ring.close();
    }
  });

  it('close() waits for in-flight work, then closes the fd; it is idempotent', async () => {
    const tmp = tempDir();
    const p = tmp.path('f');
    writeFileSync(p, 'data');
    const ring = new Ring({ entries: 4 });
    const fd = await ring.openat(p);
    const read = ring.read(fd, Buffer.alloc(4), 0);
    const closing = ring.close();
    assert.equal(ring.close(), closing);
    assert.equal(await read, 4);
    await closing;
    assert.ok(ring.closed);
    assert.ok(!isRingFd(ring.fd), 'the ring fd is closed');
    tmp.cleanup();
  });

  it('close() settles a pipe read that never gets data within a second', async () => {
    const n = native();
    const [r, w] = n.pipe() as [number, number];
    const ring = new Ring({ entries: 4 });
    const read = ring.read(r, Buffer.alloc(8));
    const t0 = Date.now();
    await ring.close();
    await assert.rejects(read, { code: 'ECANCELED' });
    assert.ok(Date.now() - t0 < 1000);
    n.closeFd(r); n.closeFd(w);
  });

  it('destroy(err) rejects every pending promise with err at once; it is idempotent', async () => {
    const n = native();
    const pipes = [n.pipe(), n.pipe(), n.pipe()] as [number, number][];
    const ring = new Ring({ entries: 4 });
    const reads = pipes.map(([r]) => ring.read(r, Buffer.alloc(8)));
    const boom = new Error('boom');
    const t0 = Date.now();
    ring.destroy(boom);
    ring.destroy(new Error('again'));
    for (const p of reads) await assert.rejects(p, (e) => e === boom);
    assert.ok(Date.now() - t0 < 1000);
    assert.ok(ring.closed);
    await assert.rejects(ring.nop(), { code: 'ERR_RING_CLOSED' });
    for (const [r, w] of pipes) { n.closeFd(r); n.closeFd(w); }
  });

  it('Symbol.asyncDispose closes the ring', async () => {
    const ring = new Ring({ entries: 2 });
    await ring[Symbol.asyncDispose]();
    assert.ok(ring.closed);
  });

  it('an idle ring does not keep the process alive', () => {
    const script = `const { Ring } = require(${JSON.stringify(indexPath)});
      const ring = new Ring({ entries: 2 });
      ring.nop().then((r) => console.log('nop', r));`;
    const r = spawnSync(process.execPath, ['-e', script], { timeout: 5000, encoding: 'utf8' });
    assert.equal(r.signal, null, 'the process exited by itself');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /nop 0/);
  });

  it('works in a worker thread, and an exiting worker tears its ring down', async () => {
    const before = openFdCount();
    const tmp = tempDir();
    const p = join(tmp.dir, 'w.txt');
    writeFileSync(p, 'from a worker');
    const code = `const { parentPort, workerData } = require('node:worker_threads');
      const { Ring } = require(workerData.index);
      const ring = new Ring({ entries: 8 });
      (async () => {
        const fd = await ring.openat(workerData.path);
        const b = Buffer.alloc(64);
        const n = await ring.read(fd, b, 0);
        await ring.closeFd(fd);
        // A read that never completes: the worker exits with it pending.
        const { pipe } = require(workerData.native).native();
        const [r] = pipe();
        ring.read(r, Buffer.alloc(8)).catch(() => {});
        parentPort.postMessage(b.toString('utf8', 0, n));
        process.exit(0);
      })();`;
    const w = new Worker(code, { eval: true, workerData: { index: indexPath, path: p, native: require.resolve('../../src/native') } });
    // Listen for 'exit' at once: it can follow the message within one turn.
    const exited = new Promise((r) => w.once('exit', r));
    const msg = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    assert.equal(msg, 'from a worker');
    await exited;
    tmp.cleanup();
    // The worker's ring fd is closed by the environment cleanup hook. (Its
    // pipe fds are the test's own leak and are not counted: at most 2.)
    assert.ok(openFdCount() <= before + 2, `fds before ${before}, after ${openFdCount()}`);
  });
});

function isRingFd(fd: number): boolean {
  try {
    return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').includes('SqMask');
  } catch {
    return false;
  }
}
