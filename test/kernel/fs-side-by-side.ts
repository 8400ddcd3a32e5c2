// Side-by-side comparison of uring/fs with node:fs/promises: the same call
// through both modules, on identical fresh directories, compared by result,
// error fields (name, message, code, errno, syscall, path, dest, own keys) and
// the directory left behind; and a suite runner for both backends.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nfs from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as ufs from '../../src/fs/index';
import { tempDir } from '../helpers';

export type Api = typeof nfs;

/** Short bytes as hex; long ones as their length and sha256. */
function digest(b: Buffer): string {
  return b.length <= 64 ? b.toString('hex') : `${b.length} bytes, sha256 ${createHash('sha256').update(b).digest('hex')}`;
}

/** A comparable form of a value: the directory replaced by <dir>, Stats and handles summarised. */
export function norm(v: unknown, dir: string): unknown {
  if (typeof v === 'string') return dir ? v.split(dir).join('<dir>') : v;
  if (v instanceof fs.Stats) {
    return { Stats: true, mode: v.mode, size: v.size, nlink: v.nlink, uid: v.uid, gid: v.gid, file: v.isFile(), dir: v.isDirectory(), link: v.isSymbolicLink(), keys: Object.keys(v) };
  }
  if (Buffer.isBuffer(v)) return { Buffer: digest(v) };
  if (Array.isArray(v)) return v.map((x) => norm(x, dir));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = { proto: Object.getPrototypeOf(v) === null ? null : (v as object).constructor?.name };
    for (const [k, x] of Object.entries(v)) out[k] = norm(x, dir);
    return out;
  }
  return v;
}

/** The fields of an error that must match Node's. */
export function errorShape(e: unknown, dir = ''): unknown {
  const err = e as Error & Record<string, unknown>;
  return {
    error: true,
    keys: Object.keys(err),
    name: err.name,
    message: norm(err.message, dir),
    code: err.code,
    errno: err.errno,
    syscall: err.syscall,
    path: norm(err.path, dir),
    dest: norm(err.dest, dir),
  };
}

/**
 * Names, kinds, sizes and contents of everything under `dir`. Names are read
 * as bytes (a name need not be UTF-8) and shown with non-ASCII bytes as \xNN.
 */
export function tree(dir: string): unknown {
  const out: Record<string, string> = {};
  const show = (b: Buffer): string => [...b].map((c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16)}`)).join('');
  const walk = (d: Buffer, rel: string): void => {
    const entries = fs.readdirSync(d, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const n of entries) {
      const p = Buffer.concat([d, Buffer.from('/'), n]);
      const st = fs.lstatSync(p);
      const key = rel + show(n);
      if (st.isSymbolicLink()) out[key] = `link:${fs.readlinkSync(p).split(dir).join('<dir>')}`;
      else if (st.isDirectory()) { out[key] = `dir:${(st.mode & 0o777).toString(8)}`; walk(p, `${key}/`); }
      else out[key] = `file:${(st.mode & 0o777).toString(8)}:${digest(fs.readFileSync(p))}`;
    }
  };
  walk(Buffer.from(dir), '');
  return out;
}

/** What `call` does through `api` in `dir`: its normalised result or error, and the tree left behind. */
export async function run(api: Api, call: (api: Api, dir: string) => Promise<unknown>, dir: string): Promise<unknown> {
  let r: unknown;
  try {
    r = { value: norm(await call(api, dir), dir) };
  } catch (e) {
    r = errorShape(e, dir);
  }
  return { r, tree: tree(dir) };
}

let n = 0;
/**
 * Runs `call` through uring/fs and node:fs/promises, each in a fresh
 * directory under `tmp`, and asserts that both did the same.
 */
export async function outcome(call: (api: Api, dir: string) => Promise<unknown>, tmp?: { dir: string }): Promise<void> {
  const root = tmp?.dir ?? fs.mkdtempSync(join(tmpdir(), 'uring-sbs-'));
  const k = n++;
  const du = join(root, `u${k}`);
  const dn = join(root, `n${k}`);
  fs.mkdirSync(du);
  fs.mkdirSync(dn);
  try {
    const got = await run(ufs as unknown as Api, call, du);
    const want = await run(nfs, call, dn);
    assert.deepEqual(got, want);
  } finally {
    if (tmp === undefined) fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A describe() per backend: io_uring (skipped when unavailable) and the node fallback. */
export function bothModes(title: string, body: (tmp: { dir: string }) => void): void {
  for (const mode of ['io_uring', 'node'] as const) {
    describe(`${title} (${mode} backend)`, () => {
      const tmp = tempDir('uring-fs-sbs-');
      before(async () => {
        const b = await ufs._setBackend(mode === 'node' ? 'node' : 'auto');
        if (mode === 'io_uring') assert.equal(b.kind, 'io_uring', `io_uring backend unavailable: ${b.reason}`);
      });
      after(async () => { await ufs._setBackend('auto'); tmp.cleanup(); });
      body(tmp);
    });
  }
}
