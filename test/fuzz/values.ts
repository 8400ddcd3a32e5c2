// Value pools for the API fuzzer: plausible arguments mixed with hostile ones.
// Everything that can reach the kernel stays inside the fuzzer's own files:
// numeric fds come only from descriptors the fuzzer opened (or numbers that
// are never open), and paths are plain names inside its temporary directory,
// never containing '/' or '..' (so no symlink it creates can point outside).
import { FixedFile } from '../../src/files';
import { Hostility, fickleOption, forgedFixedFile as forgedWithGetters, proxyArray, reentrantOptions } from './hostile';
import { honestView, lyingPath, lyingView, lyingViews } from './lying-views';

/**
 * A FixedFile whose index the constructor would refuse (it validates), made
 * without it: what a caller forging or mutating a handle would pass.
 */
function forgedFixedFile(owner: object, index: number): FixedFile {
  return Object.create(FixedFile.prototype, {
    _owner: { value: owner }, index: { value: index },
  }) as FixedFile;
}
import type { Ring } from '../../src/index';

/** A seeded PRNG (mulberry32), so that a failing run can be replayed. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
}

/** The error a hostile getter or proxy trap throws; it carries a code so it is typed. */
export class TrapError extends Error {
  code = 'E_FUZZ_TRAP';
}

/** What generators need: the PRNG, the rings and the fuzzer's own descriptors. */
export interface Ctx {
  rng: Rng;
  ring: Ring;
  /** Another live ring (for foreign FixedFiles). */
  other: Ring;
  /** Descriptors the fuzzer owns for this batch: devnull, devzero, a file, a pipe, the directory. */
  fds: { devnull: number; devzero: number; urandom: number; file: number; pipeR: number; pipeW: number; dir: number };
  /** fds returned by openat that nobody else uses: the only ones closeFd may close. */
  disposable: number[];
  /** Promises returned by pollAdd (valid pollRemove targets while live). */
  polls: Promise<number>[];
  /** Absolute path of the temporary directory. */
  dir: string;
  /** Lying views, fickle and re-entrant getters, Proxy arrays and what they did (hostile.ts). */
  h: Hostility;
}

const trapHandler: ProxyHandler<object> = {};
for (const k of ['get', 'has', 'set', 'ownKeys', 'getPrototypeOf', 'getOwnPropertyDescriptor', 'defineProperty', 'apply'] as const) {
  (trapHandler as Record<string, unknown>)[k] = () => { throw new TrapError(`trap ${k}`); };
}

function detachedView(): Uint8Array {
  const ab = new ArrayBuffer(16);
  const v = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return v;
}

function resizableView(): Uint8Array | undefined {
  try {
    const ab = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(16, { maxByteLength: 64 });
    return new Uint8Array(ab);
  } catch { return undefined; }
}

function growableView(): Uint8Array | undefined {
  try {
    const sab = new (SharedArrayBuffer as unknown as new (n: number, o: object) => SharedArrayBuffer)(16, { maxByteLength: 64 });
    return new Uint8Array(sab);
  } catch { return undefined; }
}

export const HOSTILE_NUMBERS: readonly number[] = [
  NaN, Infinity, -Infinity, -0, 0.5, -1.5, 1e-300, -1, -2, -100, -(2 ** 31), -(2 ** 31) - 1, 2 ** 31, 2 ** 32,
  2 ** 32 + 1, 2 ** 32 + 7, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e300, Number.MAX_VALUE, Number.EPSILON, 2 ** 42 + 1, 0x7fffffff + 0.5,
];

export const HOSTILE_BIGINTS: readonly bigint[] = [
  0n, -1n, 1n, -2n, 2n ** 31n, 2n ** 32n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 63n), -(2n ** 64n), 2n ** 200n,
];

/** Strings with no '/' and no '..': harmless as paths, hostile as anything else. */
export const HOSTILE_STRINGS: readonly string[] = [
  '', 'abc', 'a\u0000b', '\u0000', 'x'.repeat(5000), '\u{1F600}', '\ud800', '12', '-1', 'NaN', ' ', '\n',
];

/** Any value at all, of any type. */
export function hostile(c: Ctx): unknown {
  const r = c.rng;
  if (r.chance(0.15)) {
    const h = c.h;
    switch (r.int(4)) {
      case 0: if (h.on('views')) return lyingView(c); break;
      case 1: if (h.arrays) return proxyArray(c); break;
      case 2: if (h.accessors) return forgedWithGetters(c); break;
      default: if (h.accessors) {
        const o = {};
        return h.label(o, `{ ${fickleOption(c, o, r.pick(['signal', 'timeout', 'dirfd', 'flags', 'length', 'byteLength', 'buffer', 'index']), r.pick([0, 1, 3, 'x']))} }`);
      }
    }
  }
  switch (r.int(14)) {
    case 0: return r.pick(HOSTILE_NUMBERS);
    case 1: return r.pick(HOSTILE_BIGINTS);
    case 2: return r.pick(HOSTILE_STRINGS);
    case 3: return r.pick([undefined, null, true, false]);
    case 4: return r.pick([Symbol('fuzz'), Symbol.iterator]);
    case 5: return new Proxy(r.chance(0.5) ? {} : function f() { /* trap */ }, trapHandler);
    case 6: return Object.defineProperty({}, r.pick(['signal', 'timeout', 'dirfd', 'flags', 'length', 'byteLength', 'buffer', 'then']), {
      get() { throw new TrapError('getter'); }, enumerable: true,
    });
    case 7: return r.pick([{}, [], [1, 2], Object.create(null), () => 1, new Date(0), /x/, new Map(), Promise.resolve(1)]);
    case 8: return r.pick([new Number(3), new String('s'), Object(1n), new Boolean(false)]);
    case 9: return r.pick([detachedView(), resizableView(), growableView(), new ArrayBuffer(8), new SharedArrayBuffer(8)]);
    case 10: return forgedFixedFile(r.chance(0.5) ? c.ring : c.other, r.pick([0, 1, 63, -1, NaN, 2 ** 32 + 1, 0.5]));
    case 11: return { valueOf: () => { throw new TrapError('valueOf'); }, toString: () => { throw new TrapError('toString'); } };
    case 12: return r.pick([{ aborted: true }, { signal: {} }, { timeout: {} }, { length: 2 ** 32 }]);
    default: return r.int(2 ** 31);
  }
}

/** A file argument: mostly the fuzzer's own fds, sometimes registered-file handles or junk. */
export function fdArg(c: Ctx): unknown {
  const r = c.rng;
  const f = c.fds;
  switch (r.int(8)) {
    case 0: case 1: case 2: return r.pick([f.devnull, f.devzero, f.urandom, f.file, f.file, f.pipeR, f.pipeW, f.dir]);
    case 3: return c.disposable.length ? r.pick(c.disposable) : f.devnull;
    case 4: return r.pick([0x7fffffff, 1_000_000, 65535]); // valid numbers, never open
    case 5: return c.h.accessors && r.chance(0.25) ? forgedWithGetters(c) : new FixedFile(r.chance(0.8) ? c.ring : c.other, r.int(4));
    case 6: return r.pick(HOSTILE_NUMBERS);
    default: return hostile(c);
  }
}

/** A buffer argument. */
export function bufArg(c: Ctx): unknown {
  const r = c.rng;
  if (c.h.on('views') && r.chance(0.3)) return r.chance(0.7) ? lyingView(c) : honestView(c);
  switch (r.int(10)) {
    case 0: return Buffer.alloc(r.pick([0, 1, 16, 4096, 65536]));
    case 1: return new Uint8Array(r.pick([1, 8, 64]));
    case 2: return new DataView(new ArrayBuffer(24), r.int(8));
    case 3: return new Float64Array(r.pick([1, 4]));
    case 4: return Buffer.allocUnsafe(64).subarray(r.int(32));
    case 5: return new Uint8Array(new SharedArrayBuffer(32));
    case 6: return r.pick([detachedView(), resizableView(), growableView()]);
    case 7: return Buffer.from('payload');
    default: return hostile(c);
  }
}

export function bufsArg(c: Ctx): unknown {
  const r = c.rng;
  if (c.h.on('views') && r.chance(0.2)) return lyingViews(c);
  if (c.h.arrays && r.chance(0.2)) return proxyArray(c);
  switch (r.int(6)) {
    case 0: return [];
    case 1: case 2: return Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.9) ? Buffer.alloc(1 + r.int(64)) : bufArg(c)));
    case 3: return new Array(1025).fill(Buffer.alloc(1));
    case 4: { const a: unknown[] = [Buffer.alloc(4)]; a[3] = Buffer.alloc(4); return a; } // sparse
    default: return r.chance(0.5) ? { length: 1, 0: Buffer.alloc(4) } : hostile(c);
  }
}

export function posArg(c: Ctx): unknown {
  const r = c.rng;
  switch (r.int(5)) {
    case 0: return r.pick([undefined, null, -1, -1n]);
    case 1: return r.pick([0, 7, 4096, 2 ** 40, Number.MAX_SAFE_INTEGER, 0n, 2n ** 63n - 1n]);
    case 2: return r.pick(HOSTILE_NUMBERS);
    case 3: return r.pick(HOSTILE_BIGINTS);
    default: return hostile(c);
  }
}

/** An integer argument (flags, modes, counts); `small` keeps accepted values harmless. */
export function intArg(c: Ctx, small: readonly number[] = [0, 1, 2, 3, 4, 5, 0o644, 0o7777, 64, 4096]): unknown {
  const r = c.rng;
  switch (r.int(6)) {
    case 0: case 1: return r.pick(small);
    case 2: return r.pick([0xffffffff, 0x7fffffff, 0o10000, 2 ** 31, -1, r.int(2 ** 31) | 0, r.int(2 ** 32)]);
    case 3: return r.pick(HOSTILE_NUMBERS);
    case 4: return r.pick(HOSTILE_BIGINTS);
    default: return hostile(c);
  }
}

/** A length the kernel may act on: small when accepted (no huge allocations on disk). */
export function lengthArg(c: Ctx): unknown {
  const r = c.rng;
  if (r.chance(0.6)) return r.pick([0, 1, 4096, 1 << 20, 0n, 4096n]);
  if (r.chance(0.5)) return r.pick([2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -1n, -1, 2 ** 53, NaN, 1.5]);
  return hostile(c);
}

/** A path: a name inside the temporary directory, or junk. */
export function pathArg(c: Ctx): unknown {
  const r = c.rng;
  const names = ['f1', 'f2', 'd1', 'lnk', 'd1/f1', 'n\u00e9', 'x'.repeat(300)];
  if (c.h.accessors && r.chance(0.08)) return lyingPath(c);
  switch (r.int(7)) {
    case 0: case 1: return r.pick(names);
    case 2: return `${c.dir}/${r.pick(names)}`;
    case 3: return Buffer.from(r.pick(names));
    case 4: return r.pick(['', 'a\u0000b', 'x'.repeat(5000), Buffer.from([0x61, 0, 0x62]), new Uint8Array(0)]);
    case 5: return r.pick(HOSTILE_STRINGS);
    default: return hostile(c);
  }
}

/** An AbortSignal in some state, or something that only looks like one. */
export function signalArg(c: Ctx): unknown {
  const r = c.rng;
  switch (r.int(6)) {
    case 0: { const a = new AbortController(); a.abort(new Error('early')); return a.signal; }
    case 1: { const a = new AbortController(); queueMicrotask(() => a.abort()); return a.signal; }
    case 2: { const a = new AbortController(); setTimeout(() => a.abort(), r.int(3)); return a.signal; }
    case 3: return new AbortController().signal;
    case 4: return AbortSignal.timeout(1 + r.int(3));
    default: return hostile(c);
  }
}

export function timeoutArg(c: Ctx): unknown {
  const r = c.rng;
  if (r.chance(0.6)) return r.pick([0, 1, 2, 5, 1000]);
  return r.pick([...HOSTILE_NUMBERS, '5', 5n, null, {}]);
}

/** An options object with the per-operation fields, extra fields, or junk. */
export function optionsArg(c: Ctx, extra: Record<string, (c: Ctx) => unknown> = {}): unknown {
  const r = c.rng;
  if (r.chance(0.3)) return undefined;
  if (r.chance(0.1)) return hostile(c);
  const o: Record<string, unknown> = {};
  const fickle: string[] = [];
  const set = (k: string, v: unknown): void => {
    // A getter that throws on the first or second read, answers differently
    // each time, or calls back into the ring before answering.
    if (c.h.accessors && r.chance(0.15)) fickle.push(fickleOption(c, o, k, v));
    else o[k] = v;
  };
  if (r.chance(0.3)) set('signal', signalArg(c));
  if (r.chance(0.3)) set('timeout', timeoutArg(c));
  for (const [k, g] of Object.entries(extra)) if (r.chance(0.5)) set(k, g(c));
  if (fickle.length) c.h.label(o, `{ ${fickle.join('; ')} }`);
  if (r.chance(0.05)) return new Proxy(o, { get(t, k) { if (r.chance(0.5)) throw new TrapError('options get'); return Reflect.get(t, k); } });
  if (c.h.on('reentry') && r.chance(0.03)) return reentrantOptions(c, o);
  return o;
}

/** A dirfd option value: AT_FDCWD, the directory, a non-directory, or junk. */
export function dirfdArg(c: Ctx): unknown {
  const r = c.rng;
  if (r.chance(0.7)) return r.pick([-100, c.fds.dir, c.fds.dir, c.fds.devnull]);
  return r.chance(0.5) ? r.pick(HOSTILE_NUMBERS) : hostile(c);
}
