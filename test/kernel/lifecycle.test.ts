// Lifecycle: close() and destroy() with requests of every kind pending, the
// kernel threads they leave, process exit, use after close, and worker
// threads that exit with a ring open. Anything that could hang runs in a
// child process under a watchdog.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { Ring } from '../../src/index';
import { runChild } from '../child';
import { shapes } from '../helpers';

// Starts a timeout, a poll, an accept and a pipe read on `ring`, and returns
// their promises settled into strings.
const PENDING = `
const LIB = ${JSON.stringify(join(__dirname, '..', '..', 'src'))};
const { native } = require(LIB + '/native.js');
const { OPS } = require(LIB + '/opcodes.js');
const { Operation } = require(LIB + '/operation.js');
const net = require('net');
const fs = require('fs');
function ioThreads() {
  return fs.readdirSync('/proc/self/task').map((t) => {
    try { return fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim(); } catch { return ''; }
  }).filter((c) => c.startsWith('iou-'));
}
async function startAll(ring) {
  const [r, w] = native().pipe();
  const [r2, w2] = native().pipe();
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((res) => server.once('listening', res));
  const lfd = server._handle.fd;
  const accept = ring._submit(new Operation(OPS.accept).file(lfd));
  const ps = { timeout: ring.timeout(60000), poll: ring.pollAdd(r2, 1), accept, read: ring.read(r, Buffer.alloc(8)) };
  const out = {};
  for (const [k, p] of Object.entries(ps)) out[k] = p.then((v) => 'value ' + v, (e) => 'error ' + (e.code || e.message));
  await new Promise((res) => setTimeout(res, 20));
  return { out, cleanup() { server.close(); for (const fd of [r, w, r2, w2]) native().closeFd(fd); } };
}
async function settled(out) {
  const res = {};
  for (const [k, p] of Object.entries(out)) res[k] = await p;
  return res;
}
`;

const kinds = shapes().filter((s) => s.name === 'default' || s.name === 'sqpoll');

describe('lifecycle', () => {
  for (const shape of kinds) {
    for (const verb of ['close', 'destroy'] as const) {
      it(`${verb}() on a ${shape.name} ring with a timeout, poll, accept and pipe read pending settles all within a second and leaves no io_uring threads`, async () => {
        const res = await runChild(`${PENDING}
(async () => {
  const ring = new uring.Ring(${JSON.stringify(shape.options)});
  const { out, cleanup } = await startAll(ring);
  const t0 = performance.now();
  ${verb === 'close' ? 'await ring.close();' : 'ring.destroy();'}
  const results = await settled(out);
  const ms = performance.now() - t0;
  let threads = ioThreads();
  for (let k = 0; k < 40 && threads.length; k++) { await new Promise((r) => setTimeout(r, 50)); threads = ioThreads(); }
  cleanup();
  console.log(JSON.stringify({ results, ms, threads, pending: ring.pending, closed: ring.closed }));
})();`, 15_000);
        assert.equal(res.hung, false, `child hung: ${res.stderr}`);
        assert.equal(res.code, 0, res.stderr);
        const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
        assert.ok(out.ms < 1000, `settled in ${out.ms} ms`);
        for (const [k, v] of Object.entries(out.results as Record<string, string>)) {
          assert.match(v, verb === 'close' ? /^error ECANCELED$/ : /^error (ERR_RING_DESTROYED|ECANCELED)$/, k);
        }
        assert.deepEqual(out.threads, []);
        assert.equal(out.pending, 0);
        assert.equal(out.closed, true);
      });
    }
  }

  it('process.exit() with operations pending does not hang', async () => {
    const res = await runChild(`${PENDING}
(async () => {
  const ring = new uring.Ring({ entries: 8 });
  await startAll(ring);
  process.exit(7);
})();`, 10_000);
    assert.equal(res.hung, false);
    assert.equal(res.code, 7, res.stderr);
  });

  it('a process whose only pending work is on a ring stays alive until it completes, then exits', async () => {
    const res = await runChild(`
const ring = new uring.Ring({ entries: 4 });
ring.sleep(50).then(() => console.log('slept'));`, 10_000);
    assert.equal(res.hung, false);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'slept');
  });

  it('a closed ring refuses work with ERR_RING_CLOSED; close() and destroy() are idempotent', async () => {
    const ring = new Ring({ entries: 4 });
    const first = ring.close();
    assert.equal(ring.close(), first);
    await first;
    ring.destroy();
    await assert.rejects(ring.nop(), { code: 'ERR_RING_CLOSED' });
    await assert.rejects(ring.sleep(1), { code: 'ERR_RING_CLOSED' });
    assert.throws(() => ring.chain(), { code: 'ERR_RING_CLOSED' });
    await assert.rejects(ring.cancelAll(), { code: 'ERR_RING_CLOSED' });
    assert.throws(() => ring.submit(), { code: 'ERR_RING_CLOSED' });
    const d = new Ring({ entries: 4 });
    const p = d.sleep(60_000);
    d.destroy(new Error('gone'));
    await assert.rejects(p, { message: 'gone' });
    d.destroy();
    await d.close();
  });

  it('a worker thread that exits with a ring and a pending pipe read tears the ring down', async () => {
    const ringFds = (): number => readdirSync('/proc/self/fd').filter((f) => {
      try { return readlinkSync(`/proc/self/fd/${f}`).includes('io_uring'); } catch { return false; }
    }).length;
    const before = ringFds();
    const lib = join(__dirname, '..', '..', 'src');
    const worker = new Worker(`
const { Ring } = require(${JSON.stringify(join(lib, 'index.js'))});
const { native } = require(${JSON.stringify(join(lib, 'native.js'))});
const { parentPort } = require('worker_threads');
const ring = new Ring({ entries: 4 });
const [r, w] = native().pipe();
ring.read(r, Buffer.alloc(8)).catch(() => {});
parentPort.postMessage({ fds: [r, w] });
setTimeout(() => process.exit(0), 20);
`, { eval: true });
    const msg = await new Promise<{ fds: number[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const during = ringFds();
    await new Promise((resolve) => worker.once('exit', resolve));
    const { native } = require('../../src/native') as typeof import('../../src/native');
    for (const fd of msg.fds) native().closeFd(fd);
    assert.equal(during, before + 1, 'the worker had its ring open');
    let after = ringFds();
    for (let k = 0; k < 20 && after !== before; k++) { await new Promise((r) => setTimeout(r, 25)); after = ringFds(); }
    assert.equal(after, before, 'no io_uring fd leaked');
  });
});
