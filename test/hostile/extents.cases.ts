// Class 2 of issue 12: the address and length in an SQE are the view's real
// extent, never what the view says about itself. Every lie below is a view
// whose `byteLength`, `byteOffset` or `buffer` (an own property, a subclass
// getter, a DataView) disagrees with the engine. Reads go into a view that
// sits in the middle of a 4 MiB ArrayBuffer, so that a library that trusts
// the lie writes inside memory the test can inspect (the "guard") instead of
// corrupting the heap; writes come from a 6-byte view inside a larger buffer
// of known bytes, so that a file shows any neighbouring byte that leaked.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync, constants as FS } from 'node:fs';
import { inspect } from 'node:util';
import { Ring } from '../../src/index';
import * as fsu from '../../src/fs/index';
import type { Shape } from '../helpers';
import { assertCoded, call, closeWithin, pattern, refusalViolation, ringOf, scratchDir } from './harness';

export const LIES = [
  'own byteLength', 'own byteOffset', 'own buffer',
  'subclass byteLength', 'subclass byteOffset', 'subclass buffer',
  'DataView byteLength', 'DataView byteOffset',
] as const;
export type Lie = typeof LIES[number];

/**
 * A view of `ab` at [off, off + len) that lies: it claims `lieLen` bytes, or
 * offset `lieOff`, or that its buffer is `other`, depending on `kind`.
 */
export function lyingView(kind: Lie, ab: ArrayBuffer, off: number, len: number,
  other: ArrayBuffer, lieLen: number, lieOff: number): ArrayBufferView {
  const [how, prop] = kind.split(' ') as ['own' | 'subclass' | 'DataView', 'byteLength' | 'byteOffset' | 'buffer'];
  const value = prop === 'byteLength' ? lieLen : prop === 'byteOffset' ? lieOff : other;
  if (how === 'subclass') {
    class Liar extends Uint8Array {}
    Object.defineProperty(Liar.prototype, prop, { get: () => value });
    return new Liar(ab, off, len);
  }
  const v: ArrayBufferView = how === 'DataView' ? new DataView(ab, off, len) : new Uint8Array(ab, off, len);
  Object.defineProperty(v, prop, { value });
  return v;
}

const MB = 1 << 20;
const ZERO = Buffer.alloc(4 * MB);

function zero(ab: ArrayBuffer, start: number, end: number): boolean {
  return Buffer.from(ab, start, end - start).equals(ZERO.subarray(0, end - start));
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${(e as { code?: string }).code ?? 'no code'}: ${e.message}` : inspect(e);
}

type ReadOp = 'read' | 'chain.read' | 'readv' | 'chain.readv' | 'readMany';
type WriteOp = 'write' | 'chain.write' | 'writev' | 'chain.writev' | 'writeMany';

/** Runs one data operation; resolves with the byte count, or rejects. */
async function runRead(ring: Ring, op: ReadOp, fd: number, view: ArrayBufferView, tail: Uint8Array): Promise<number> {
  switch (op) {
    case 'read': return call('ring.read', () => ring.read(fd, view, -1));
    case 'readv': return call('ring.readv', () => ring.readv(fd, [view, tail], -1));
    case 'readMany': return call('ring.readMany', () => ring.readMany(fd, [view, tail], [-1, -1])).then((c) => c[0]! + c[1]!);
    case 'chain.read':
    case 'chain.readv': {
      // A chain's builder validates at once and may throw (a refusal).
      const c = op === 'chain.read' ? ring.chain().read(fd, view, -1) : ring.chain().readv(fd, [view, tail], -1);
      const [r] = await call('chain.submit', () => c.submit());
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    }
  }
}

async function runWrite(ring: Ring, op: WriteOp, fd: number, view: ArrayBufferView, tail: Uint8Array): Promise<number> {
  switch (op) {
    case 'write': return call('ring.write', () => ring.write(fd, view, 0));
    case 'writev': return call('ring.writev', () => ring.writev(fd, [view, tail], 0));
    // The tail goes right after the view's real 6 bytes, as writev puts it.
    case 'writeMany': return call('ring.writeMany', () => ring.writeMany(fd, [view, tail], [0, 6])).then((c) => c[0]! + c[1]!);
    case 'chain.write':
    case 'chain.writev': {
      const c = op === 'chain.write' ? ring.chain().write(fd, view, 0) : ring.chain().writev(fd, [view, tail], 0);
      const [r] = await call('chain.submit', () => c.submit());
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    }
  }
}

/** Makes the library learn the address of `ab` through an honest view (a write to /dev/null). */
async function prime(ring: Ring, devnull: number, ab: ArrayBuffer): Promise<void> {
  assert.equal(await ring.write(devnull, new Uint8Array(ab, 0, 16), -1), 16);
}

/**
 * Reads from /dev/urandom into every kind of lying view, through read,
 * readv and chains: at most the real 32 bytes are read, into the real
 * extent, and nothing else in either buffer changes.
 */
export async function readLies(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const urandom = openSync('/dev/urandom', 'r');
  const devnull = openSync('/dev/null', 'w');
  const violations: string[] = [];
  const outcomes: Record<string, string> = {};
  try {
    for (const op of ['read', 'readv', 'chain.read', 'chain.readv', 'readMany'] as ReadOp[]) {
      for (const kind of LIES) {
        const what = `${op} into a view with a lying ${kind}`;
        const ab = new ArrayBuffer(4 * MB);
        const other = new ArrayBuffer(4 * MB);
        // Both buffers' addresses are known to the library before the lie.
        await prime(ring, devnull, ab);
        await prime(ring, devnull, other);
        const view = lyingView(kind, ab, MB, 32, other, MB, 2 * MB);
        const tail = new Uint8Array(16);
        const max = 32 + (op.endsWith('readv') || op === 'readMany' ? 16 : 0);
        try {
          const n = await runRead(ring, op, urandom, view, tail);
          outcomes[what] = `read ${n}`;
          if (!(n >= 0 && n <= max)) violations.push(`${what}: resolved ${n} bytes, at most ${max} exist`);
          if (n >= 8 && zero(ab, MB, MB + Math.min(n, 32))) violations.push(`${what}: resolved ${n} but the real extent got no data`);
        } catch (err) {
          outcomes[what] = `rejected ${describeError(err)}`;
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
        }
        if (!zero(ab, 0, MB) || !zero(ab, MB + 32, 4 * MB)) violations.push(`${what}: bytes outside the view's real extent changed`);
        if (!zero(other, 0, 4 * MB)) violations.push(`${what}: the ArrayBuffer the view claims as its buffer was written`);
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'reads through lying views');
    return outcomes;
  } finally {
    closeSync(urandom);
    closeSync(devnull);
    await closeWithin(ring, 2000);
  }
}

/**
 * Writes from every kind of lying 6-byte view to a file, through write,
 * writev and chains: the file holds exactly the view's real bytes (plus the
 * honest tail for writev), or nothing if the call was refused.
 */
export async function writeLies(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const devnull = openSync('/dev/null', 'w');
  const violations: string[] = [];
  const outcomes: Record<string, string> = {};
  try {
    let k = 0;
    for (const op of ['write', 'writev', 'chain.write', 'chain.writev', 'writeMany'] as WriteOp[]) {
      for (const kind of LIES) {
        const what = `${op} from a 6-byte view with a lying ${kind}`;
        const src = pattern(64 * 1024, 21);
        const ab = src.buffer.slice(src.byteOffset, src.byteOffset + src.length) as ArrayBuffer;
        const other = pattern(64 * 1024, 22);
        const otherAb = other.buffer.slice(other.byteOffset, other.byteOffset + other.length) as ArrayBuffer;
        await prime(ring, devnull, ab);
        await prime(ring, devnull, otherAb);
        const view = lyingView(kind, ab, 1000, 6, otherAb, 8192, 20_000);
        const tail = Buffer.from('XYZ');
        const real = Buffer.from(ab, 1000, 6);
        const expected = op.endsWith('writev') || op === 'writeMany' ? Buffer.concat([real, tail]) : Buffer.from(real);
        const file = dir.path(`f${k++}`);
        writeFileSync(file, '');
        const fd = openSync(file, FS.O_WRONLY);
        try {
          const n = await runWrite(ring, op, fd, view, tail);
          outcomes[what] = `wrote ${n}`;
          const got = readFileSync(file);
          if (!got.equals(expected)) {
            violations.push(`${what}: the file got ${got.length} bytes (${got.subarray(0, 12).toString('hex')}...), expected ${expected.toString('hex')}`);
          } else if (n !== expected.length) {
            violations.push(`${what}: resolved ${n}, the file got ${expected.length}`);
          }
        } catch (err) {
          outcomes[what] = `rejected ${describeError(err)}`;
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
          const got = readFileSync(file);
          if (got.length !== 0) violations.push(`${what}: refused, yet the file got ${got.length} bytes`);
        } finally {
          closeSync(fd);
        }
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'writes through lying views');
    return outcomes;
  } finally {
    closeSync(devnull);
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/**
 * The exact repro of the issue: a 32-byte Buffer that claims 1 MiB, read
 * from /dev/urandom. The process survives and at most 32 bytes are read.
 */
export async function bareBufferClaimsOneMiB(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const urandom = openSync('/dev/urandom', 'r');
  try {
    const results: string[] = [];
    for (let k = 0; k < 8; k++) {
      const buf = Object.defineProperty(Buffer.alloc(32), 'byteLength', { value: 1 << 20 });
      try {
        const n = await call('ring.read', () => ring.read(urandom, buf, -1));
        assert.ok(n >= 0 && n <= 32, `read resolved ${n} bytes into a 32-byte buffer`);
        results.push(`read ${n}`);
      } catch (err) {
        assertCoded(err, 'read into a lying buffer', /^(?!EFAULT$)/);
        results.push(`rejected ${(err as { code: string }).code}`);
      }
      // Give a corrupted heap the chance to show itself.
      const junk: Buffer[] = [];
      for (let j = 0; j < 200; j++) junk.push(Buffer.alloc(4096 + j));
    }
    return results;
  } finally {
    closeSync(urandom);
    await closeWithin(ring, 2000);
  }
}

/**
 * Address cache poisoning: a lying view is used once (its buffer's address
 * not yet known to the library), then an honest view of the same ArrayBuffer
 * is written to a file. The file must hold the honest view's bytes.
 */
export async function addressCachePoisoning(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const urandom = openSync('/dev/urandom', 'r');
  const devnull = openSync('/dev/null', 'w');
  const violations: string[] = [];
  try {
    let k = 0;
    for (const kind of ['own byteOffset', 'own buffer', 'subclass byteOffset', 'subclass buffer', 'DataView byteOffset'] as Lie[]) {
      for (const first of ['read', 'write'] as const) {
        const what = `a ${first} through a view with a lying ${kind}, then an honest view`;
        const ab = new ArrayBuffer(64 * 1024);
        const other = new ArrayBuffer(64 * 1024);
        const view = lyingView(kind, ab, 0, 16, other, 16, 32 * 1024);
        try {
          if (first === 'read') await call('ring.read', () => ring.read(urandom, view, -1));
          else await call('ring.write', () => ring.write(devnull, view, -1));
        } catch (err) {
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
        }
        if (!zero(ab, 16, 64 * 1024)) violations.push(`${what}: the lying ${first} touched bytes outside its real extent`);
        // The buffer the lie named, or the real one: the honest view must be used at its own address.
        const target = kind.endsWith('buffer') ? other : ab;
        const honest = new Uint8Array(target, 100, 16);
        const known = pattern(16, 40 + k);
        honest.set(known);
        const file = dir.path(`p${k++}`);
        writeFileSync(file, '');
        const fd = openSync(file, FS.O_WRONLY);
        try {
          const n = await ring.write(fd, honest, 0);
          const got = readFileSync(file);
          if (n !== 16 || !got.equals(known)) {
            violations.push(`${what}: the honest write put ${got.toString('hex')} in the file, expected ${known.toString('hex')}`);
          }
        } catch (err) {
          violations.push(`${what}: the honest write failed: ${describeError(err)}`);
        } finally {
          closeSync(fd);
        }
        // And an honest read lands in the honest view.
        const into = new Uint8Array(target, 200, 32);
        try {
          const n = await ring.read(urandom, into, -1);
          if (n !== 32 || zero(target, 200, 232)) violations.push(`${what}: an honest read did not land in the honest view`);
        } catch (err) {
          violations.push(`${what}: the honest read failed: ${describeError(err)}`);
        }
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'honest views after lying ones');
    return null;
  } finally {
    closeSync(urandom);
    closeSync(devnull);
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/**
 * uring/fs with lying views: FileHandle.read/readv from /dev/urandom read at
 * most the real 32 bytes into the real extent; FileHandle.write/writev and
 * writeFile put exactly the 6 real bytes in the file (or refuse).
 */
export async function fsLies(): Promise<unknown> {
  const dir = scratchDir();
  const violations: string[] = [];
  const outcomes: Record<string, string> = {};
  const fh = await fsu.open('/dev/urandom', 'r');
  try {
    let k = 0;
    for (const kind of LIES) {
      for (const op of ['fh.read(view)', 'fh.read({ buffer })', 'fh.readv([view])'] as const) {
        const what = `${op} with a lying ${kind}`;
        const ab = new ArrayBuffer(4 * MB);
        const other = new ArrayBuffer(4 * MB);
        // Let the library learn both addresses honestly first.
        await fh.read(new Uint8Array(ab, 0, 1), 0, 1, null);
        await fh.read(new Uint8Array(other, 0, 1), 0, 1, null);
        new Uint8Array(ab, 0, 1)[0] = 0;
        new Uint8Array(other, 0, 1)[0] = 0;
        const view = lyingView(kind, ab, MB, 32, other, MB, 2 * MB);
        try {
          const n = op === 'fh.read(view)' ? (await call(op, () => fh.read(view))).bytesRead
            : op === 'fh.read({ buffer })' ? (await call(op, () => fh.read({ buffer: view }))).bytesRead
              : (await call(op, () => fh.readv([view]))).bytesRead;
          outcomes[what] = `read ${n}`;
          if (!(n >= 0 && n <= 32)) violations.push(`${what}: read ${n} bytes, at most 32 exist`);
        } catch (err) {
          outcomes[what] = `rejected ${describeError(err)}`;
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
        }
        if (!zero(ab, 0, MB) || !zero(ab, MB + 32, 4 * MB)) violations.push(`${what}: bytes outside the view's real extent changed`);
        if (!zero(other, 0, 4 * MB)) violations.push(`${what}: the ArrayBuffer the view claims as its buffer was written`);
      }
      for (const op of ['fh.write(view)', 'fh.writev([view])', 'writeFile(path, view)'] as const) {
        const what = `${op} with a lying ${kind}`;
        const src = pattern(64 * 1024, 23);
        const ab = src.buffer.slice(src.byteOffset, src.byteOffset + src.length) as ArrayBuffer;
        const other = pattern(64 * 1024, 24);
        const otherAb = other.buffer.slice(other.byteOffset, other.byteOffset + other.length) as ArrayBuffer;
        const view = lyingView(kind, ab, 1000, 6, otherAb, 8192, 20_000);
        const real = Buffer.from(ab.slice(1000, 1006));
        const file = dir.path(`w${k++}`);
        writeFileSync(file, '');
        try {
          if (op === 'writeFile(path, view)') {
            await call(op, () => fsu.writeFile(file, view as Uint8Array));
          } else {
            const w = await fsu.open(file, 'r+');
            try {
              if (op === 'fh.write(view)') await call(op, () => w.write(view));
              else await call(op, () => w.writev([view]));
            } finally {
              await w.close();
            }
          }
          const got = readFileSync(file);
          outcomes[what] = `wrote ${got.length}`;
          if (!got.equals(real)) violations.push(`${what}: the file got ${got.length} bytes (${got.subarray(0, 12).toString('hex')}...), expected ${real.toString('hex')}`);
        } catch (err) {
          outcomes[what] = `rejected ${describeError(err)}`;
          const v = refusalViolation(err, what);
          if (v !== undefined) violations.push(v);
          const got = readFileSync(file);
          if (got.length !== 0) violations.push(`${what}: refused, yet the file got ${got.length} bytes`);
        }
      }
    }
    assert.deepEqual([...new Set(violations)], [], 'uring/fs with lying views');
    return outcomes;
  } finally {
    await fh.close();
    dir.cleanup();
  }
}
