// A small workload for scripts/valgrind.sh: exercises every path of the addon
// (setup of each ring shape, enter, register, address, polls, close, the
// environment cleanup hook of an exiting worker, collection of an unclosed
// ring) so that memcheck can see invalid reads or writes in uring.node.
'use strict';
const { writeFileSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Worker } = require('node:worker_threads');
const dist = join(__dirname, '..', 'dist', 'src');
const { Ring, FixedFile, constants: C } = require(join(dist, 'index.js'));
const { native } = require(join(dist, 'native.js'));

const SHAPES = [
  { entries: 8 },
  { entries: 2, cqEntries: 4 },
  { entries: 8, singleIssuer: true, deferTaskrun: true },
  { entries: 8, sqpoll: { idleMs: 20 } },
];

async function onShape(options, dir) {
  let ring;
  try { ring = new Ring(options); } catch (err) { console.log(`skip ${JSON.stringify(options)}: ${err.code}`); return; }
  const n = native();
  const path = join(dir, 'f');
  const fd = await ring.openat(path, C.O_CREAT | C.O_RDWR, 0o600);
  for (let k = 0; k < 20; k++) {
    const data = Buffer.alloc(256, k);
    await ring.write(fd, data, k * 256);
    const back = Buffer.alloc(256);
    await ring.read(fd, back, k * 256);
    if (!back.equals(data)) throw new Error('data mismatch');
  }
  await ring.writev(fd, [Buffer.from('ab'), new Uint8Array(3)], 0);
  await ring.readv(fd, [Buffer.alloc(2), new Uint8Array(3)], 0);
  await ring.statx(path);
  await ring.fstat(fd);
  await Promise.all(Array.from({ length: 16 }, () => ring.nop()));
  // Cancellation and timeouts on a pipe nothing is written to.
  const [r, w] = n.pipe();
  const ac = new AbortController();
  const aborted = ring.read(r, Buffer.alloc(8), -1, { signal: ac.signal }).catch((e) => e.code);
  setImmediate(() => ac.abort());
  await aborted;
  await ring.read(r, Buffer.alloc(8), -1, { timeout: 2 }).catch((e) => e.code);
  // A registered file and a fixed read.
  if (n.register(ring.fd, C.Register.REGISTER_FILES, new Int32Array([r]), 1) === 0) {
    const fixed = ring.read(new FixedFile(ring, 0), Buffer.alloc(4));
    setImmediate(() => require('node:fs').writeSync(w, 'ping'));
    await fixed;
  }
  // Refused calls and bad native arguments: nothing reaches the kernel.
  await ring.read(-1, Buffer.alloc(1)).catch(() => {});
  for (const f of [() => n.address({}), () => n.enter(-1, 1, 0, 0), () => n.register(ring.fd, 2, 'x', 1)]) {
    try { f(); } catch { /* refused */ }
  }
  await ring.closeFd(fd);
  // Leave work pending: destroy one ring, close another with a grace period.
  ring.read(r, Buffer.alloc(8)).catch(() => {});
  if (options.entries === 2) ring.destroy(); else await ring.close({ graceMs: 5 });
  n.closeFd(r); n.closeFd(w);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'uring-valgrind-'));
  try {
    for (const s of SHAPES) await onShape(s, dir);
    // A worker that exits with a read pending: its cleanup hook tears the ring down.
    const code = `const { Ring } = require(${JSON.stringify(join(dist, 'index.js'))});
      const { native } = require(${JSON.stringify(join(dist, 'native.js'))});
      const ring = new Ring({ entries: 4 });
      const [r] = native().pipe();
      ring.read(r, Buffer.alloc(8)).catch(() => {});
      ring.nop().then(() => process.exit(0));`;
    await new Promise((resolve, reject) => {
      const wk = new Worker(code, { eval: true });
      wk.on('error', reject);
      wk.on('exit', resolve);
    });
    // A ring nobody closes, collected.
    (() => { new Ring({ entries: 2 }); })();
    if (global.gc) { global.gc(); await new Promise((r) => setImmediate(r)); global.gc(); }
    writeFileSync(join(dir, 'done'), 'ok');
    console.log('valgrind workload done');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
