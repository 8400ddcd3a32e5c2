// Class 3 of issue 12: user code that runs while a call is being built (a
// getter of a view, of a path, of an options object) and throws. The call
// must return a promise (never throw), and a call that rejects must leave no
// trace: no SQE published (a stale SQE left in the slot would run again), no
// request left pending, no fd opened, no directory made, no file removed.
//
// The replay oracle: before each call, every SQ slot is made to hold an
// unlinkat() of a sentinel file (which fails, the file not existing yet);
// then the sentinel is created. A refused call that publishes a reserved but
// unwritten SQE makes the kernel run one of those unlinkat()s again, and the
// sentinel disappears.
import assert from 'node:assert/strict';
import {
  closeSync, existsSync, fstatSync, openSync, readFileSync, rmdirSync, statSync, writeFileSync,
  constants as FS,
} from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Ring, constants as C } from '../../src/index';
import * as fsu from '../../src/fs/index';
import type { Shape } from '../helpers';
import { closeWithin, delay, fdCount, pattern, ringOf, scratchDir, settled, watch } from './harness';

const GETTER_ERROR = 'hostile getter';

/** Defines an accessor `prop` on `obj` answering `value` until its `n`th read, which (and every later one) throws. */
function throwOnRead<T extends object>(obj: T, prop: PropertyKey, value: unknown, n: number): T {
  let reads = 0;
  Object.defineProperty(obj, prop, {
    configurable: true,
    enumerable: true,
    get() {
      if (++reads >= n) throw new Error(`${GETTER_ERROR} (${String(prop)}, read ${reads})`);
      return value;
    },
  });
  return obj;
}

/** Fills every SQ slot with an unlinkat(sentinel) that fails, then creates the sentinel. */
async function armReplay(ring: Ring, sentinel: string): Promise<void> {
  const all: Promise<unknown>[] = [];
  for (let k = 0; k < ring.sqEntries; k++) all.push(ring.unlinkat(sentinel).catch(() => undefined));
  await Promise.all(all);
  writeFileSync(sentinel, 'sentinel');
}

interface Probe {
  pending: number;
  stale: number;
  fds: number;
}

function probe(ring: Ring): Probe {
  return { pending: ring.pending, stale: ring.stats.stale, fds: fdCount() };
}

/**
 * Calls `f`; returns how it settled. A synchronous throw, a promise that
 * never settles, or one that settles twice is a violation.
 */
async function attempt<T>(what: string, f: () => Promise<T>, violations: string[]):
  Promise<{ ok: true; value: T } | { ok: false; error: unknown } | undefined> {
  let p: Promise<T>;
  try {
    p = f();
  } catch (err) {
    violations.push(`${what}: threw synchronously (${err instanceof Error ? err.message : inspect(err)}) instead of rejecting`);
    return { ok: false, error: err };
  }
  if (!(p instanceof Promise)) {
    violations.push(`${what}: returned ${inspect(p)}, not a promise`);
    return undefined;
  }
  const o = watch(p);
  try {
    await settled(o, 3000, what);
  } catch (err) {
    violations.push((err as Error).message);
    return undefined;
  }
  return o.status === 'fulfilled' ? { ok: true, value: o.value as T } : { ok: false, error: o.error };
}

/** Lets anything a refused call published reach the kernel and complete. */
async function quiesce(ring: Ring): Promise<void> {
  await ring.nop();
  await delay(15);
  await ring.nop();
}

/**
 * Checks that nothing was left behind: the sentinel removed by a replayed
 * SQE, requests left pending, fds. After a rejected call, also that no CQE
 * arrived for a request the ring does not know (ring.stats.stale).
 */
function noTrace(ring: Ring, before: Probe, sentinel: string, what: string, violations: string[],
  rejected: boolean, fdDelta = 0): void {
  if (!existsSync(sentinel)) violations.push(`${what}: a stale SQE ran again (the sentinel unlinkat was replayed)`);
  const now = probe(ring);
  if (now.pending !== before.pending) violations.push(`${what}: ring.pending went from ${before.pending} to ${now.pending}`);
  if (rejected && now.stale !== before.stale) violations.push(`${what}: rejected, yet ${now.stale - before.stale} completion(s) arrived for requests the ring does not know`);
  if (now.fds !== before.fds + fdDelta) violations.push(`${what}: ${now.fds - before.fds - fdDelta} fd(s) leaked`);
}

/** After everything: a plain read on the ring returns the right bytes. */
async function ringStillReads(ring: Ring, dir: string): Promise<void> {
  const file = join(dir, 'final');
  const data = pattern(300, 77);
  writeFileSync(file, data);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(300);
    assert.equal(await ring.read(fd, buf, 0), 300, 'a later read works');
    assert.deepEqual(buf, data, 'a later read returns the file\'s bytes');
  } finally {
    closeSync(fd);
  }
}

/**
 * read() and write() with a view whose byteLength, byteOffset or buffer
 * getter throws on its 1st, 2nd or 3rd read. The second-read case is the
 * issue's: the SQE was already reserved when the getter threw.
 */
export async function viewGetterThrows(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const sentinel = dir.path('A');
  const zero = openSync('/dev/zero', 'r');
  const devnull = openSync('/dev/null', 'w');
  const violations: string[] = [];
  const outcomes: string[] = [];
  try {
    for (const op of ['read', 'write'] as const) {
      for (const prop of ['byteLength', 'byteOffset', 'buffer'] as const) {
        for (const n of [1, 2, 3]) {
          const what = `${op}() with a view whose ${prop} getter throws on read ${n}`;
          await armReplay(ring, sentinel);
          const view = new Uint8Array(64);
          view.fill(1);
          throwOnRead(view, prop, prop === 'buffer' ? view.buffer : prop === 'byteLength' ? 64 : 0, n);
          const before = probe(ring);
          const r = await attempt(what, () => (op === 'read' ? ring.read(zero, view, -1) : ring.write(devnull, view, -1)), violations);
          await quiesce(ring);
          noTrace(ring, before, sentinel, what, violations, r?.ok === false);
          if (r?.ok) {
            outcomes.push(`${what}: ${r.value}`);
            if (r.value !== 64) violations.push(`${what}: resolved ${r.value}, the view has 64 bytes`);
            if (op === 'read' && !view.every((b) => b === 0)) violations.push(`${what}: resolved but the view did not get the data`);
          } else if (r) {
            outcomes.push(`${what}: rejected`);
          }
        }
      }
    }
    await ringStillReads(ring, dir.dir);
    assert.deepEqual([...new Set(violations)], [], 'calls with throwing view getters');
    return outcomes;
  } finally {
    closeSync(zero);
    closeSync(devnull);
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/** A Uint8Array path whose `prop` accessor throws on read `n` (and after). */
function hostilePath(path: string, prop: 'buffer' | 'byteLength' | 'byteOffset' | 'length', n: number): Buffer {
  const p = Buffer.from(path);
  return throwOnRead(p, prop, p[prop], n);
}

/**
 * openat/mkdirat/unlinkat with a Uint8Array path whose buffer, byteLength,
 * byteOffset or length accessor throws: a rejected call opens no fd, makes
 * no directory, removes no file, and publishes nothing. The repro
 * (20 openat calls, `.buffer` always throwing) is the first case.
 */
export async function pathGetterThrows(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const sentinel = dir.path('A');
  const target = dir.path('target');
  writeFileSync(target, 'target');
  const targetIno = statSync(target).ino;
  const violations: string[] = [];
  const outcomes: string[] = [];
  try {
    for (const prop of ['buffer', 'byteLength', 'byteOffset', 'length'] as const) {
      for (const n of prop === 'buffer' ? [1, 2, 3] : [1, 2]) {
        // openat, 20 times (5 for the variants).
        const calls = prop === 'buffer' && n === 1 ? 20 : 5;
        const what = `${calls} openat() calls with a path whose ${prop} accessor throws on read ${n}`;
        await armReplay(ring, sentinel);
        const before = probe(ring);
        let opened = 0;
        for (let k = 0; k < calls; k++) {
          const r = await attempt(what, () => ring.openat(hostilePath(target, prop, n), FS.O_RDONLY), violations);
          if (r?.ok) {
            opened++;
            if (fstatSync(r.value).ino !== targetIno) violations.push(`${what}: resolved with an fd of another file`);
            closeSync(r.value);
          }
        }
        await quiesce(ring);
        noTrace(ring, before, sentinel, what, violations, opened < calls);
        outcomes.push(`${what}: ${opened} opened`);

        const made = dir.path(`d-${prop}-${n}`);
        const mwhat = `mkdirat() with a path whose ${prop} accessor throws on read ${n}`;
        await armReplay(ring, sentinel);
        const mbefore = probe(ring);
        const m = await attempt(mwhat, () => ring.mkdirat(hostilePath(made, prop, n), 0o755), violations);
        await quiesce(ring);
        noTrace(ring, mbefore, sentinel, mwhat, violations, m?.ok === false);
        if (m?.ok === false && existsSync(made)) violations.push(`${mwhat}: rejected, yet the directory was created`);
        if (m?.ok === true && !existsSync(made)) violations.push(`${mwhat}: resolved, yet no directory exists`);
        if (existsSync(made)) rmdirSync(made);

        const victim = dir.path(`v-${prop}-${n}`);
        writeFileSync(victim, 'victim');
        const uwhat = `unlinkat() with a path whose ${prop} accessor throws on read ${n}`;
        await armReplay(ring, sentinel);
        const ubefore = probe(ring);
        const u = await attempt(uwhat, () => ring.unlinkat(hostilePath(victim, prop, n)), violations);
        await quiesce(ring);
        noTrace(ring, ubefore, sentinel, uwhat, violations, u?.ok === false);
        if (u?.ok === false && !existsSync(victim)) violations.push(`${uwhat}: rejected, yet the file was removed`);
        if (u?.ok === true && existsSync(victim)) violations.push(`${uwhat}: resolved, yet the file is still there`);
      }
    }
    await ringStillReads(ring, dir.dir);
    assert.deepEqual([...new Set(violations)], [], 'calls with throwing path accessors');
    return outcomes;
  } finally {
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

type OptionOp = 'openat' | 'mkdirat' | 'unlinkat' | 'read' | 'statx' | 'renameat';

const OPTION_KEYS: Record<OptionOp, string[]> = {
  openat: ['dirfd', 'signal', 'timeout'],
  mkdirat: ['dirfd', 'signal', 'timeout'],
  unlinkat: ['dirfd', 'flags', 'signal', 'timeout'],
  read: ['signal', 'timeout'],
  statx: ['dirfd', 'flags', 'mask', 'signal', 'timeout'],
  renameat: ['oldDirfd', 'newDirfd', 'flags', 'signal', 'timeout'],
};

/**
 * Ring operations whose options object has a getter (dirfd, flags, mask,
 * signal, timeout, oldDirfd, newDirfd) that answers a valid value until its
 * 1st, 2nd or 3rd read, then throws. Paths are relative to a directory fd, so
 * that the dirfd read matters. A call that rejects leaves no trace; a call
 * that resolves did exactly what was asked.
 */
export async function optionGetterThrows(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const sentinel = dir.path('A');
  const dfd = openSync(dir.dir, FS.O_RDONLY | FS.O_DIRECTORY);
  const zero = openSync('/dev/zero', 'r');
  writeFileSync(dir.path('present'), 'present');
  const violations: string[] = [];
  const outcomes: string[] = [];
  try {
    let k = 0;
    for (const op of Object.keys(OPTION_KEYS) as OptionOp[]) {
      for (const key of OPTION_KEYS[op]) {
        for (const n of [1, 2, 3]) {
          const what = `${op}() with an options.${key} getter that throws on read ${n}`;
          const name = `${op}-${key}-${n}-${k++}`;
          const valid: Record<string, unknown> = {
            dirfd: dfd, oldDirfd: dfd, newDirfd: dfd, flags: 0, mask: C.STATX_BASIC_STATS,
            signal: new AbortController().signal, timeout: 10_000,
          };
          const options: Record<string, unknown> = {};
          for (const other of OPTION_KEYS[op]) if (other !== key && other.endsWith('irfd')) options[other] = dfd;
          throwOnRead(options, key, valid[key], n);
          const path = dir.path(name);
          if (op === 'unlinkat' || op === 'renameat' || op === 'statx' || op === 'openat') writeFileSync(path, name);
          await armReplay(ring, sentinel);
          const before = probe(ring);
          const o = options as never;
          const r = await attempt<unknown>(what, () => {
            switch (op) {
              case 'openat': return ring.openat(name, FS.O_RDONLY, 0o666, o);
              case 'mkdirat': return ring.mkdirat(name, 0o755, o);
              case 'unlinkat': return ring.unlinkat(name, o);
              case 'read': return ring.read(zero, Buffer.alloc(8, 1), -1, o);
              case 'statx': return ring.statx(name, o);
              case 'renameat': return ring.renameat(name, `${name}.moved`, o);
            }
          }, violations);
          await quiesce(ring);
          let fdDelta = 0;
          if (op === 'openat' && r?.ok) fdDelta = 1;
          noTrace(ring, before, sentinel, what, violations, r?.ok === false, fdDelta);
          if (op === 'openat' && r?.ok) closeSync(r.value as number);
          const exists = existsSync(path);
          if (r === undefined) continue;
          outcomes.push(`${what}: ${r.ok ? 'resolved' : 'rejected'}`);
          if (op === 'mkdirat' && exists !== r.ok) violations.push(`${what}: ${r.ok ? 'resolved' : 'rejected'}, yet the directory ${exists ? 'exists' : 'does not exist'}`);
          if (op === 'unlinkat' && exists === r.ok) violations.push(`${what}: ${r.ok ? 'resolved' : 'rejected'}, yet the file ${exists ? 'is still there' : 'was removed'}`);
          if (op === 'renameat' && exists === r.ok) violations.push(`${what}: ${r.ok ? 'resolved' : 'rejected'}, yet the file ${exists ? 'was not moved' : 'was moved'}`);
        }
      }
    }
    await ringStillReads(ring, dir.dir);
    assert.deepEqual([...new Set(violations)], [], 'calls with throwing option getters');
    return outcomes;
  } finally {
    closeSync(dfd);
    closeSync(zero);
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/**
 * The replay, step by step: unlinkat(A) removes A, A is made again,
 * then a read whose view's byteLength getter throws on its second read is
 * refused. A must survive, and the ring must go on working.
 */
export async function refusedCallDoesNotReplayUnlink(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const dir = scratchDir();
  const a = dir.path('A');
  const zero = openSync('/dev/zero', 'r');
  const violations: string[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      writeFileSync(a, 'first');
      // One real unlinkat of A, then fill the rest of the SQ with ones that fail.
      assert.equal(await ring.unlinkat(a), 0, 'unlinkat(A) removes A');
      await armReplay(ring, a);
      assert.ok(existsSync(a), 'A made again');
      const view = throwOnRead(new Uint8Array(16), 'byteLength', 16, 2);
      const r = await attempt('read() with a byteLength getter that throws on its second read', () => ring.read(zero, view, -1), violations);
      await quiesce(ring);
      if (!existsSync(a)) violations.push(`round ${round}: the refused read made the kernel run unlinkat(A) again: A is gone`);
      if (r?.ok === false) {
        const e = r.error as Error;
        if (!(e instanceof Error)) violations.push(`round ${round}: rejected with a non-Error ${inspect(e)}`);
      }
    }
    await ringStillReads(ring, dir.dir);
    assert.deepEqual([...new Set(violations)], [], 'refused call and the unlinkat before it');
    return null;
  } finally {
    closeSync(zero);
    dir.cleanup();
    await closeWithin(ring, 2000);
  }
}

/**
 * uring/fs with options whose getters throw: mkdir (mode, recursive),
 * writeFile (flag, mode, encoding, signal), readFile (encoding, flag,
 * signal), open on a path whose accessor throws. Each call returns a promise;
 * a rejected one made no directory, no file, and opened no fd.
 */
export async function fsOptionGetterThrows(): Promise<unknown> {
  const dir = scratchDir();
  const violations: string[] = [];
  const outcomes: string[] = [];
  writeFileSync(dir.path('existing'), 'existing');
  try {
    // Make the thread's ring before counting fds.
    await fsu.readFile(dir.path('existing'));
    let k = 0;
    const cases: [string, string[], (o: object, path: string) => Promise<unknown>, 'dir' | 'file' | 'none'][] = [
      ['mkdir', ['mode', 'recursive'], (o, p) => fsu.mkdir(p, o as never), 'dir'],
      ['writeFile', ['flag', 'mode', 'encoding', 'signal'], (o, p) => fsu.writeFile(p, 'data', o as never), 'file'],
      ['appendFile', ['flag', 'mode', 'encoding'], (o, p) => fsu.appendFile(p, 'data', o as never), 'file'],
      ['readFile', ['encoding', 'flag', 'signal'], (o) => fsu.readFile(dir.path('existing'), o as never), 'none'],
    ];
    const valid: Record<string, unknown> = {
      mode: 0o644, recursive: false, flag: undefined, encoding: 'utf8', signal: new AbortController().signal,
    };
    for (const [fn, keys, f, makes] of cases) {
      for (const key of keys) {
        for (const n of [1, 2]) {
          const what = `uring/fs ${fn}() with an options.${key} getter that throws on read ${n}`;
          const path = dir.path(`${fn}-${key}-${n}-${k++}`);
          const before = fdCount();
          const r = await attempt(what, () => f(throwOnRead({}, key, valid[key], n), path), violations);
          await delay(10);
          if (fdCount() !== before) violations.push(`${what}: ${fdCount() - before} fd(s) leaked`);
          if (r === undefined) continue;
          outcomes.push(`${what}: ${r.ok ? 'resolved' : 'rejected'}`);
          if (makes !== 'none' && r.ok === false && existsSync(path)) violations.push(`${what}: rejected, yet the ${makes} was created`);
          if (makes === 'file' && r.ok && readFileSync(path, 'utf8') !== 'data') violations.push(`${what}: resolved, yet the file does not hold the data`);
          if (makes === 'dir' && r.ok && !existsSync(path)) violations.push(`${what}: resolved, yet no directory exists`);
        }
      }
    }
    // open() on a Uint8Array-like path whose buffer accessor throws: 20 times.
    const before = fdCount();
    for (let j = 0; j < 20; j++) {
      const r = await attempt('uring/fs open() with a path whose buffer accessor throws',
        () => fsu.open(hostilePath(dir.path('existing'), 'buffer', 1), 'r'), violations);
      if (r?.ok) await (r.value as fsu.FileHandle).close();
    }
    await delay(10);
    if (fdCount() !== before) violations.push(`uring/fs open() with throwing path accessors: ${fdCount() - before} fd(s) leaked`);
    assert.equal(await fsu.readFile(dir.path('existing'), 'utf8'), 'existing', 'uring/fs still reads');
    assert.deepEqual([...new Set(violations)], [], 'uring/fs calls with throwing option getters');
    return outcomes;
  } finally {
    dir.cleanup();
  }
}
