#!/usr/bin/env node
// `npm test`: compiles the TypeScript, then runs every test file with
// node:test. Extra arguments select files (e.g. `npm test -- files`).
'use strict';
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function walk(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(walk(p));
    else if (/\.test\.(c|m)?js$/.test(name)) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
let files = walk(join(root, 'dist', 'test')).concat(walk(join(root, 'test')).filter((f) => /\.test\.mjs$/.test(f)));
if (filters.length) files = files.filter((f) => filters.some((x) => relative(root, f).includes(x)));
files.sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const args = ['--expose-gc', '--test', '--test-reporter=spec', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, URING_TEST: '1' } });
process.exit(r.status ?? 1);
