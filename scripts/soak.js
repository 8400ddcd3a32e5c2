#!/usr/bin/env node
// `npm run soak [-- OPS]`: the full soak, 10 million mixed operations by
// default (about 6 to 10 minutes on a 2-core machine; URING_SOAK_OPS or the
// first argument changes the count). Prints throughput, resource samples and
// any failure; exits non-zero on failure or on growth of RSS, fds or threads.
'use strict';
const { spawnSync } = require('node:child_process');
const { readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ops = Number(process.argv[2] || process.env.URING_SOAK_OPS) || 10_000_000;
const out = join(tmpdir(), `uring-soak-${process.pid}.json`);
console.log(`soak: ${ops} operations`);
const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, '..', 'dist', 'test', 'reliability', 'soak.js'), String(ops), out],
  { stdio: ['ignore', 'inherit', 'inherit'], timeout: Math.max(600_000, ops / 5) });
if (r.signal || r.status !== 0) {
  console.error(`the soak ${r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`}`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(out, 'utf8'));
rmSync(out, { force: true });
console.log(`${report.ops} ops in ${(report.ms / 1000).toFixed(1)} s (${report.opsPerSec} ops/s)`);
console.log('by kind:', report.byKind);
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
for (const s of [report.baseline, ...report.samples.filter((x) => x.ops > report.baseline.ops)].filter(Boolean)) {
  console.log(`  at ${String(s.ops).padStart(9)}: rss ${mb(s.rss).padStart(10)}  fds ${s.fds}  threads ${s.threads}`);
}
const bad = [...report.failures, ...report.leaks];
if (bad.length) {
  for (const f of bad) console.error(`- ${f}`);
  process.exit(1);
}
console.log('ok');
