#!/usr/bin/env node
// `npm run fuzz [-- CALLS [SEED]]`: the full API fuzz, 100,000 random calls
// with hostile arguments by default (the test suite runs 10,000). Prints the
// report; exits non-zero on any failure. Replay a run with its seed;
// URING_FUZZ_FAMILIES=views,getters,reentry,proxies picks the hostile input
// families (default all).
'use strict';
const { join } = require('node:path');

const calls = Number(process.argv[2] || process.env.URING_FUZZ_CALLS) || 100_000;
const seed = Number(process.argv[3] || process.env.URING_FUZZ_SEED) || (Date.now() % 1_000_000);
const { optionsFromEnv, replayCommand, runFuzzChild } = require(join(__dirname, '..', 'dist', 'test', 'fuzz', 'child.js'));
const options = optionsFromEnv();
console.log(`fuzz: ${calls} calls, seed ${seed}${options.families ? `, families ${options.families.join(',') || 'none'}` : ''}`);
let report;
try {
  report = runFuzzChild(calls, seed, Math.max(120_000, calls * 5), options, 'npm run fuzz');
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
console.log(`${report.calls} calls in ${report.ms} ms: ${report.refused} refused, ${report.accepted} submitted, ${report.resolved} resolved, ${report.rejected} rejected`);
console.log('error codes:', report.codes);
if (report.generic.length) console.log('fuzzed with generic arguments:', report.generic.join(', '));
if (report.failures.length) {
  console.error(`failures by kind (seed ${seed}): ${JSON.stringify(report.kinds)}${report.stopped ? `; ${report.stopped}` : ''}`);
  for (const f of report.failures) console.error(`- ${f}`);
  console.error(`replay: ${replayCommand(calls, seed, options, 'npm run fuzz')}`);
  process.exit(1);
}
console.log('ok');
