#!/usr/bin/env node
// `npm run fuzz [-- CALLS [SEED]]`: the full API fuzz, 100,000 random calls
// with hostile arguments by default (the test suite runs 10,000). Prints the
// report; exits non-zero on any failure. Replay a run with its seed.
'use strict';
const { join } = require('node:path');

const calls = Number(process.argv[2] || process.env.URING_FUZZ_CALLS) || 100_000;
const seed = Number(process.argv[3] || process.env.URING_FUZZ_SEED) || (Date.now() % 1_000_000);
const { runFuzzChild } = require(join(__dirname, '..', 'dist', 'test', 'fuzz', 'child.js'));
console.log(`fuzz: ${calls} calls, seed ${seed}`);
let report;
try {
  report = runFuzzChild(calls, seed, Math.max(120_000, calls * 5));
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
console.log(`${report.calls} calls in ${report.ms} ms: ${report.refused} refused, ${report.accepted} submitted, ${report.resolved} resolved, ${report.rejected} rejected`);
console.log('error codes:', report.codes);
if (report.generic.length) console.log('fuzzed with generic arguments:', report.generic.join(', '));
if (report.failures.length) {
  console.error(`${report.failures.length} failures (seed ${seed}):`);
  for (const f of report.failures) console.error(`- ${f}`);
  process.exit(1);
}
console.log('ok');
