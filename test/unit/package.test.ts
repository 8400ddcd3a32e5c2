// The package as users import it: CommonJS, ESM, types, and hidden internals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20000, env: { ...process.env, ...env } });
}

// Loads the addon with URING_PREBUILD (node-gyp-build's override of the
// package directory) pointing at `dir`, and prints the error message.
function loadFrom(dir: string): string {
  const r = run(['-e', "try { require('./dist/src/native').native(); console.log('loaded') } catch (e) { console.log(e.code + ': ' + e.message) }"],
    { URING_PREBUILD: dir });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

describe('package', () => {
  it('can be required from CommonJS by its name', () => {
    const r = run(['-e', "const u = require('uring'); console.log(typeof u.Ring, typeof u.UringSystemError, typeof u.constants.Op.READ)"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function function number');
  });

  it('can be imported from ESM with named exports', () => {
    const r = run(['--input-type=module', '-e', "import { Ring, FixedFile, constants } from 'uring'; const ring = new Ring({ entries: 2 }); console.log(typeof FixedFile, await ring.nop(), constants.Op.NOP); await ring.close();"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function 0 0');
  });

  it('says which binary it looked for when none matches this Node', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uring-prebuilds-'));
    try {
      const msg = loadFrom(dir);
      assert.match(msg, /^ERR_URING_UNAVAILABLE: io_uring is unavailable \(addon\): no binary for this Node/);
      const tuple = `${process.platform}-${process.arch}`;
      assert.ok(msg.includes(`looked for prebuilds/${tuple}/uring.abi${process.versions.modules}.`), msg);
      assert.match(msg, /this package ships no prebuilt binaries/);
      assert.match(msg, /--build-from-source/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which binary failed to load, and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uring-prebuilds-'));
    try {
      const tuple = `${process.platform}-${process.arch}`;
      mkdirSync(join(dir, 'prebuilds', tuple), { recursive: true });
      const file = join(dir, 'prebuilds', tuple, `uring.abi${process.versions.modules}.glibc.node`);
      writeFileSync(file, 'not an ELF file');
      const msg = loadFrom(dir);
      assert.ok(msg.includes(`the prebuilt binary ${file} failed to load:`), msg);
      assert.match(msg, /failed to load: (file too short|invalid ELF header)\. This process wanted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hides internal modules behind the exports map', () => {
    const r = run(['-e', "try { require('uring/dist/src/ring-core.js'); console.log('exposed') } catch (e) { console.log(e.code) }"]);
    assert.equal(r.stdout.trim(), 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('declares every Ring operation in the shipped types (none stripped as internal)', () => {
    const dts = ['ring.d.ts', 'ring-io.d.ts', 'ring-core.d.ts']
      .map((f) => join(root, 'dist', 'src', f)).filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const m of ['nop', 'read', 'write', 'readv', 'writev', 'readFixed', 'writeFixed', 'fsync', 'openat',
      'statx', 'splice', 'pollAdd', 'sleep', 'cancel', 'chain', 'close', 'destroy', 'submit', 'probe']) {
      assert.match(dts, new RegExp(`^ {4}${m}\\(`, 'm'), `${m}() is declared`);
    }
  });

  it('ships type declarations for every entry point it exports', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    for (const [entry, target] of Object.entries(pkg.exports as Record<string, { types?: string; default: string } | string>)) {
      if (typeof target === 'string') continue;
      const js = join(root, target.default);
      if (!existsSync(js)) continue; // an entry point still being written
      assert.ok(target.types && existsSync(join(root, target.types)), `types for ${entry}`);
    }
  });
});
