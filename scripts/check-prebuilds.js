#!/usr/bin/env node
// Checks every binary in prebuilds/ against what its name promises
// (prebuilds/linux-arm64/uring.abi137.musl.node: AArch64, musl, Node ABI 137)
// and prints one line per binary. Exits 1 on any mismatch.
//
// From the ELF (readelf): 64-bit shared object, the machine, no program
// interpreter, the Node-API entry point exported. glibc: needs libc.so.6, and
// the newest GLIBC_ symbol version it needs is printed (the oldest glibc it
// loads on). musl: needs musl's libc, no glibc symbol version at all, every
// libc symbol it needs is one musl's libc.so exports (when the musl build
// cache of scripts/prebuild.js is there), and libstdc++ was told threads
// exist (no weak __pthread_key_create: see scripts/prebuild.js).
// When a Node of the binary's ABI and architecture can run here (this one, or
// one cached by scripts/prebuild.js; arm64 under qemu-user), the binary is
// loaded in it too. musl binaries are not loaded: no musl Node runs here.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'uring-prebuild');
const MACHINE = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
const MUSL = { x64: 'x86_64-linux-musl', arm64: 'aarch64-linux-musl' };
const DEB = { x64: 'amd64', arm64: 'arm64' };

function readelf(args, file) {
  return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });
}

/** Undefined and defined dynamic symbols, with their version tags. */
function dynsyms(file) {
  const undef = [];
  const defined = new Set();
  for (const line of readelf(['--dyn-syms'], file).split('\n')) {
    const m = /^\s*\d+:\s+\S+\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const [name, version] = m[4].split('@');
    if (m[3] === 'UND') undef.push({ name, version: version ?? '', weak: m[2] === 'WEAK' });
    else defined.add(name);
  }
  return { undef, defined };
}

function newest(versions, prefix) {
  const v = versions.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length).split('.').map(Number));
  v.sort((a, b) => { for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0); return 0; });
  return v.length ? prefix + v[v.length - 1].join('.') : undefined;
}

const QEMU = { arm64: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'] };
const abis = new Map();

/** How to run a Node of ABI `abi` for `arch` here, as [command, ...args], or undefined. */
function nodeFor(abi, arch) {
  if (arch === process.arch && String(abi) === process.versions.modules) return [process.execPath];
  const wrap = arch === process.arch ? [] : QEMU[arch];
  if (!wrap || (wrap.length && spawnSync(wrap[0], ['--version'], { stdio: 'ignore' }).status !== 0)) return undefined;
  const suffix = arch === process.arch ? '' : `-${arch}`;
  for (const d of existsSync(cache) ? readdirSync(cache) : []) {
    const bin = join(cache, d, 'bin', 'node');
    if (!new RegExp(`^node-\\d+${suffix}$`).test(d) || !existsSync(bin)) continue;
    const cmd = [...wrap, bin];
    if (!abis.has(bin)) {
      abis.set(bin, spawnSync(cmd[0], [...cmd.slice(1), '-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout?.trim());
    }
    if (abis.get(bin) === String(abi)) return cmd;
  }
  return undefined;
}

function check(tuple, name) {
  const file = join(root, 'prebuilds', tuple, name);
  const [platform, arch] = tuple.split('-');
  const tags = name.split('.');
  const abi = tags.find((t) => /^abi\d+$/.test(t))?.slice(3);
  const libc = tags.includes('musl') ? 'musl' : 'glibc';
  const problems = [];
  const header = readelf(['-h'], file);
  const field = (k) => new RegExp(`^\\s*${k}:\\s*(.+)$`, 'm').exec(header)?.[1].trim();
  if (platform !== 'linux') problems.push(`platform ${platform}`);
  if (field('Class') !== 'ELF64') problems.push(`class ${field('Class')}`);
  if (!/^DYN/.test(field('Type') ?? '')) problems.push(`type ${field('Type')}`);
  if (field('Machine') !== MACHINE[arch]) problems.push(`machine ${field('Machine')}, wanted ${MACHINE[arch]}`);
  if (!abi) problems.push('no abi tag in the name');
  if (/program interpreter/.test(readelf(['-l'], file))) problems.push('has a program interpreter');
  const needed = [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
  for (const n of needed) if (n.includes('/')) problems.push(`needs a path: ${n}`);
  const { undef, defined } = dynsyms(file);
  if (!defined.has('napi_register_module_v1')) problems.push('no napi_register_module_v1');
  const versions = [...new Set(undef.map((s) => s.version).filter(Boolean))];
  let needs;
  if (libc === 'glibc') {
    if (!needed.includes('libc.so.6')) problems.push('does not need libc.so.6');
    needs = [newest(versions, 'GLIBC_'), newest(versions, 'GLIBCXX_'), newest(versions, 'CXXABI_')].filter(Boolean).join(', ');
  } else {
    if (needed.includes('libc.so.6')) problems.push('needs glibc\'s libc.so.6');
    if (!needed.includes(`libc.musl-${MUSL[arch].split('-')[0]}.so.1`)) problems.push('does not need musl\'s libc by its name');
    const glibc = undef.filter((s) => s.version.startsWith('GLIBC_'));
    if (glibc.length) problems.push(`glibc symbol versions: ${glibc.map((s) => `${s.name}@${s.version}`).join(' ')}`);
    for (const bad of ['__pthread_key_create', '__libc_single_threaded', 'pthread_cancel']) {
      if (undef.some((s) => s.name === bad)) problems.push(`refers to ${bad}`);
    }
    const muslSo = join(cache, `musl-${DEB[arch]}`, 'lib', MUSL[arch], 'libc.so');
    if (existsSync(muslSo)) {
      const exported = dynsyms(muslSo).defined;
      const fromLibc = undef.filter((s) => !s.version && !s.weak && !/^(napi_|node_api_|uv_|_ZN2v8|_ZNK2v8)/.test(s.name));
      const missing = fromLibc.filter((s) => !exported.has(s.name)).map((s) => s.name);
      if (missing.length) problems.push(`not in musl's libc: ${missing.join(' ')}`);
    }
    needs = [newest(versions, 'GLIBCXX_'), newest(versions, 'CXXABI_')].filter(Boolean).join(', ');
  }
  let loads = libc === 'musl' ? 'not loaded (no musl Node here)' : 'not loaded (no Node for this ABI and arch here)';
  const node = abi && libc === (existsSync('/etc/alpine-release') ? 'musl' : 'glibc') ? nodeFor(abi, arch) : undefined;
  if (node) {
    const script = `const b = require(${JSON.stringify(file)}); if (typeof b.setup !== 'function') throw new Error('no setup()'); console.log(process.version + ' ' + process.arch)`;
    const r = spawnSync(node[0], [...node.slice(1), '-e', script], { encoding: 'utf8' });
    const via = node.length > 1 ? ` under ${node[0]}` : '';
    if (r.status === 0) loads = `loads in Node ${r.stdout.trim()}${via}`;
    else problems.push(`does not load in ${node.join(' ')}: ${r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim()}`);
  }
  const size = `${(statSync(file).size / 1024).toFixed(0)} KiB`;
  const elf = `${field('Class')} ${field('Type')?.split(' ')[0]} ${field('Machine')}, no interpreter, NEEDED ${needed.join(' ')}`;
  console.log(`${problems.length ? 'FAIL' : 'ok  '} ${tuple}/${name}  ${size}  ${elf}; needs ${needs || 'no versioned symbols'}; ${loads}`);
  for (const p of problems) console.log(`       ${p}`);
  return problems.length === 0;
}

const dir = join(root, 'prebuilds');
let ok = true;
let count = 0;
for (const tuple of existsSync(dir) ? readdirSync(dir).sort() : []) {
  for (const name of readdirSync(join(dir, tuple)).sort()) {
    if (!name.endsWith('.node')) continue;
    count++;
    ok = check(tuple, name) && ok;
  }
}
if (count === 0) {
  console.error('check-prebuilds: prebuilds/ holds no binaries');
  process.exit(1);
}
process.exit(ok ? 0 : 1);
