// Hostile inputs for the API fuzzer (issue 12): getters that throw or answer
// differently on each read, getters that re-enter the ring (close, destroy,
// nop, submit, another operation), forged FixedFiles whose fields do the
// same, and Proxy arrays whose length and elements change between reads or
// whose traps throw. Views that lie about their extent are in lying-views.ts.
//
// Hostility holds a batch's hostile state and what a correct call may do, for
// the engine's checks: the most bytes an honest snapshot of an argument covers
// (`bounds`), the arena zone of each view (`zones`), the effects of re-entrant
// calls on the ring (`inner`), and getters read more than once or after their
// call returned (`getters`, `notes`).
import { types } from 'node:util';
import { FixedFile } from '../../src/files';
import type { Ring } from '../../src/index';
import { Arena, Zone, realExtent } from './canary';
import { honestView } from './lying-views';
import { TrapError, type Ctx } from './values';

export const FAMILIES = ['views', 'getters', 'reentry', 'proxies'] as const;
export type Family = typeof FAMILIES[number];

/** [SQ tail, staged SQEs, pending requests, io_uring_enter calls] of a ring. */
export type Counters = [number, number, number, number];

export function counters(ring: Ring): Counters {
  const sq = ring._sq;
  return [sq.tail, sq.stagedCount(), ring.pending, ring.stats.enters];
}

/** What a re-entrant getter does to the ring of the call that reads it. */
export type Action = 'close' | 'destroy' | 'nop' | 'nopTimeout' | 'submit' | 'read' | 'openat' | 'cancelAll';
export const ACTIONS: readonly Action[] = ['nop', 'nop', 'submit', 'submit', 'read', 'openat', 'nopTimeout', 'cancelAll', 'close', 'destroy'];

/** One answer of a fickle getter; the last one repeats. `lazy` is computed at read time. */
export type Step = { value: unknown } | { lazy: () => unknown } | { throws: true } | { reenter: Action; then: Step };

interface Getter { what: string; reads: number; call: number; counted: boolean }

/** Per-batch state of the hostile generators, shared with the engine. */
export class Hostility {
  readonly labels = new WeakMap<object, string>();
  /** Most bytes an honest, single snapshot of a buffer argument covers. */
  readonly bounds = new WeakMap<object, number>();
  /** The arena zone of each view handed out. */
  readonly zoneOf = new WeakMap<object, Zone>();
  arenas: Arena[] = [];
  /** Ring the current call targets: re-entrant getters act on it. */
  target: Ring | undefined;
  /** Number of the current call, and whether it is still running. */
  call = 0;
  inCall = false;
  /** Re-entrant calls made during the current call, and their effect on its ring's counters. */
  reentries = 0;
  inner: Counters = [0, 0, 0, 0];
  /** Zones of the views generated for the current call. */
  zones: Zone[] = [];
  /** Whether a view with a lie went into the current call. */
  liar = false;
  /** Getters of the current call's options and FixedFiles (read at most once each). */
  getters: Getter[] = [];
  /** Set when a re-entrant getter closed or destroyed the batch's ring. */
  closedByGetter = false;
  /** [kind, message] pairs the engine reports as failures. */
  notes: [string, string][] = [];
  private depth = 0;

  constructor(readonly families: ReadonlySet<Family>, readonly track: (p: unknown, what: string) => void) {}

  on(f: Family): boolean { return this.families.has(f); }
  /** Whether options, paths and FixedFiles get accessors: fickle ones (getters), re-entrant ones (reentry). */
  get accessors(): boolean { return this.on('getters') || this.on('reentry'); }
  /** Whether Proxy arrays are made: hostile ones (proxies), re-entrant ones (reentry). */
  get arrays(): boolean { return this.on('proxies') || this.on('reentry'); }

  label<T>(v: T, text: string): T {
    if ((typeof v === 'object' && v !== null) || typeof v === 'function') this.labels.set(v as object, text);
    return v;
  }

  /** Starts call number `n`: forgets the previous call's views, getters and re-entries. */
  begin(n: number): void {
    this.call = n;
    this.zones = [];
    this.liar = false;
    this.getters = [];
    this.reentries = 0;
    this.inner = [0, 0, 0, 0];
  }

  /** A fresh arena region of `length` bytes. */
  carve(length: number): { arena: Arena; at: number } {
    let arena = this.arenas[this.arenas.length - 1];
    let at = arena?.carve(length);
    if (arena === undefined || at === undefined) {
      arena = new Arena();
      this.arenas.push(arena);
      at = arena.carve(length)!;
    }
    return { arena, at };
  }

  /** Runs a re-entrant call on the current ring, measuring its effect so the outer call is judged alone. */
  reenter(c: Ctx, action: Action, where: string): void {
    if (this.depth > 0) return;
    const ring = this.target ?? c.ring;
    if (ring === c.ring && !ring.closed && (action === 'close' || action === 'destroy')) this.closedByGetter = true;
    this.depth++;
    this.reentries++;
    const before = counters(ring);
    const what = `${action}() re-entered from ${where}`;
    try {
      switch (action) {
        case 'close': this.track(ring.close(), what); break;
        case 'destroy': ring.destroy(); break;
        case 'nop': this.track(ring.nop(), what); break;
        case 'nopTimeout': this.track(ring.nop({ timeout: 1 }), what); break;
        case 'submit': try { ring.submit(); } catch (err) {
          if ((err as { code?: unknown })?.code !== 'ERR_RING_CLOSED') this.notes.push(['reentrant-submit-threw', `${what}: ${String(err)}`]);
        } break;
        case 'read': this.track(ring.read(c.fds.devzero, honestView(c, 16), 0), what); break;
        case 'openat': {
          const p = ring.openat('f1');
          p.then((fd) => { c.disposable.push(fd); }, () => {});
          this.track(p, what);
          break;
        }
        case 'cancelAll': this.track(ring.cancelAll(), what); break;
      }
    } catch (err) {
      this.notes.push(['reentrant-call-threw', `${what} threw synchronously: ${(err as Error)?.stack ?? String(err)}`]);
    } finally {
      const after = counters(ring);
      if (ring === this.target) for (let k = 0; k < 4; k++) this.inner[k]! += after[k]! - before[k]!;
      this.depth--;
    }
  }

  /**
   * A getter that answers `steps` in turn (the last repeats). `counted`: it
   * stands for an input that must be read at most once, during its call.
   */
  getter(c: Ctx, what: string, steps: Step[], counted: boolean): () => unknown {
    const g: Getter = { what, reads: 0, call: this.call, counted };
    this.getters.push(g);
    const answer = (s: Step): unknown => {
      if ('throws' in s) throw new TrapError(`${what} read`);
      if ('reenter' in s) { this.reenter(c, s.reenter, what); return answer(s.then); }
      return 'lazy' in s ? s.lazy() : s.value;
    };
    return () => {
      const step = steps[Math.min(g.reads, steps.length - 1)]!;
      g.reads++;
      if (counted && !(this.inCall && this.call === g.call)) this.notes.push(['read-after-return', `${what} was read after its call (#${g.call}) returned`]);
      return answer(step);
    };
  }

  /** A step list: throw at once, throw on the second read, change, or re-enter, around `good`. */
  steps(c: Ctx, good: Step, bad: Step): { steps: Step[]; text: string } {
    const r = c.rng;
    const show = (s: Step): string => ('value' in s ? describe(s.value) : 'lazy' in s ? 'honest' : '?');
    const lo = this.on('getters') ? 0 : 4;
    const hi = this.on('reentry') ? 7 : 4;
    switch (lo + r.int(hi - lo)) {
      case 0: return { steps: [{ throws: true }], text: 'throws' };
      case 1: return { steps: [good, { throws: true }], text: `${show(good)} then throws` };
      case 2: return { steps: [good, bad], text: `${show(good)} then ${show(bad)}` };
      case 3: return { steps: [bad, good], text: `${show(bad)} then ${show(good)}` };
      default: {
        const a = r.pick(ACTIONS);
        return r.chance(0.5)
          ? { steps: [{ reenter: a, then: good }, good], text: `${a}() then ${show(good)}` }
          : { steps: [good, { reenter: a, then: bad }], text: `${show(good)}, then ${a}() and ${show(bad)}` };
      }
    }
  }
}

export function describe(v: unknown): string {
  try {
    if (types.isProxy(v)) return 'Proxy';
    if (typeof v === 'string') return JSON.stringify(v.length > 12 ? `${v.slice(0, 12)}...` : v);
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol') return v.toString();
    if (v instanceof AbortSignal) return v.aborted ? 'aborted signal' : 'signal';
    if (typeof v === 'object' && v !== null) return Object.prototype.toString.call(v);
    if (typeof v === 'function') return 'function';
    return String(v);
  } catch { return '<unprintable>'; }
}

// ---- arrays ----------------------------------------------------------------

/**
 * A Proxy over an array of arena views whose `length` grows or shrinks
 * between reads, whose elements change, whose traps throw or re-enter, or
 * which is revoked. The bound recorded is the most an honest single snapshot
 * covers: indexes past the first length are holes, which a snapshot refuses.
 */
export function proxyArray(c: Ctx): unknown {
  const r = c.rng;
  const h = c.h;
  const n = 1 + r.int(3);
  const views = Array.from({ length: n }, () => honestView(c, r.pick([1, 4, 16, 64])));
  const bigger = honestView(c, 512);
  const lens = views.map((v) => realExtent(v)!.length);
  let bound = lens.reduce((s, x) => s + x, 0);
  const target: unknown[] = views.slice();
  const mode = h.on('proxies') ? r.pick(['grow', 'grow', 'shrink', 'swap', 'swapJunk', 'throw', 'throwTrap', 'reenter', 'revoked'] as const) : 'reenter';
  h.liar = true;
  let lengthReads = 0;
  let gets = 0;
  const throwAt = 1 + r.int(6);
  const indexReads = new Map<PropertyKey, number>();
  const action = r.pick(ACTIONS);
  const handler: ProxyHandler<unknown[]> = {
    get(t, k, recv) {
      gets++;
      if (mode === 'throw' && gets === throwAt) throw new TrapError(`proxy get #${gets}`);
      if (k === 'length') {
        lengthReads++;
        if (mode === 'grow') return lengthReads === 1 ? n : n + r.pick([1, 2, 64, 1024]);
        if (mode === 'shrink') return lengthReads === 1 ? n : 0;
      }
      if (typeof k === 'string' && /^\d+$/.test(k)) {
        const reads = (indexReads.get(k) ?? 0) + 1;
        indexReads.set(k, reads);
        if (mode === 'reenter' && reads === 1 && k === '0') h.reenter(c, action, 'a Proxy array element');
        if (reads > 1 && mode === 'swap') return bigger;
        if (reads > 1 && mode === 'swapJunk') return r.pick([undefined, 7, {}, 'x']);
      }
      return Reflect.get(t, k, recv);
    },
  };
  if (mode === 'throwTrap') {
    const trap = r.pick(['has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf'] as const);
    (handler as Record<string, unknown>)[trap] = () => { throw new TrapError(`proxy ${trap}`); };
  }
  // Under 'swap' any index may honestly read as the bigger view.
  if (mode === 'swap') bound = n * 512;
  if (mode === 'revoked') {
    const { proxy, revoke } = Proxy.revocable(target, handler);
    revoke();
    return h.label(proxy, `revoked Proxy array`);
  }
  const proxy = new Proxy(target, handler);
  h.bounds.set(proxy, bound);
  return h.label(proxy, `Proxy array (${mode}${mode === 'throw' ? ` on get ${throwAt}` : mode === 'reenter' ? `: ${action}()` : ''}) of ${n} views, ${bound} bytes`);
}

// ---- options and FixedFiles ------------------------------------------------

const BAD: Record<string, (c: Ctx) => unknown> = {
  timeout: (c) => c.rng.pick(['x', -1, 2 ** 50, NaN]),
  signal: (c) => c.rng.pick([undefined, {}, null, AbortSignal.abort()]),
  dirfd: (c) => c.rng.pick([-5, 'x', 2 ** 31, c.fds.devnull]),
  oldDirfd: (c) => c.rng.pick([-5, 'x', 2 ** 31]),
  newDirfd: (c) => c.rng.pick([-5, 'x', 2 ** 31]),
  flags: (c) => c.rng.pick([-1, 2 ** 32, 'x']),
  mask: (c) => c.rng.pick([-1, 2 ** 33]),
  resolve: (c) => c.rng.pick([2n ** 64n, -1]),
  datasync: (c) => c.rng.pick(['yes', 1, {}]),
};

/** Defines option `key` on `o` as a getter that throws, changes its answer or re-enters the ring. */
export function fickleOption(c: Ctx, o: object, key: string, good: unknown): string {
  const bad = (BAD[key] ?? ((x: Ctx) => x.rng.pick([-1, 'x', {}])))(c);
  const s = c.h.steps(c, { value: good }, { value: bad });
  Object.defineProperty(o, key, { get: c.h.getter(c, `options.${key}`, s.steps, true), enumerable: true, configurable: true });
  return `${key}: get(${s.text})`;
}

/** An options object whose every property read (a Proxy get) re-enters the ring once. */
export function reentrantOptions(c: Ctx, o: object): object {
  const a = c.rng.pick(ACTIONS);
  let done = false;
  return c.h.label(new Proxy(o, {
    get(t, k, recv) {
      if (!done && typeof k === 'string') { done = true; c.h.reenter(c, a, `an options Proxy (get ${k})`); }
      return Reflect.get(t, k, recv);
    },
  }), `Proxy options (${a}() on first get)`);
}

/**
 * `Object.create(FixedFile.prototype)` with `index` and `_owner` getters that
 * throw, change or re-enter. Indexes stay 0 or 1, which as plain fds are the
 * child's /dev/null, should a library mistake the slot for an fd.
 */
export function forgedFixedFile(c: Ctx): FixedFile {
  const h = c.h;
  const r = c.rng;
  const f = Object.create(FixedFile.prototype) as FixedFile;
  const ownRing: Step = { lazy: () => h.target ?? c.ring }; // shown as 'honest'
  const which = r.int(3);
  const index = which !== 1 ? h.steps(c, { value: r.int(2) }, { value: r.pick([-1, NaN, 2 ** 32 + 1, 0.5, '0']) }) : { steps: [{ value: r.int(2) }], text: '' };
  const owner = which !== 0 ? h.steps(c, ownRing, { value: c.other }) : { steps: [ownRing], text: '' };
  Object.defineProperty(f, 'index', { get: h.getter(c, 'FixedFile.index', index.steps, true), configurable: true });
  Object.defineProperty(f, '_owner', { get: h.getter(c, 'FixedFile._owner', owner.steps, true), configurable: true });
  return h.label(f, `forged FixedFile { ${[index.text && `index: ${index.text}`, owner.text && `_owner: ${owner.text}`].filter(Boolean).join('; ')} }`);
}
