// Views that lie about their extent, for the API fuzzer (issue 12): Buffers,
// TypedArrays and DataViews with own `byteLength`, `byteOffset`, `buffer` or
// `length` data properties or accessors that lie (bigger, smaller, negative,
// NaN, bigint, another buffer), answer differently on each read, throw on the
// Nth read or re-enter the ring, or subclasses whose getters do the same.
//
// Every view is carved out of a canary arena (canary.ts), with guard bytes
// around it, and the engine sends views that lie mostly to harmless fds
// (/dev/zero, /dev/urandom, /dev/null, a temporary file), so a correct library
// only ever has the kernel write inside real views, and an incorrect one is
// seen writing outside them rather than corrupting the heap. Wild lies (marked
// so in their label) can reach beyond the arena: those may crash today's code.
// A view that reaches a path argument starts with pattern bytes (never '/' or
// '.'), so even a library that believes a longer byteLength can only name an
// entry inside the fuzzer's temporary directory.
import { GUARD, Zone, honestProperty, realExtent } from './canary';
import { ACTIONS, Step, describe } from './hostile';
import type { Ctx } from './values';

type LieKey = 'byteLength' | 'byteOffset' | 'buffer' | 'length';

/** Lies a subclass's own getters tell, per instance. */
const plans = new WeakMap<object, Partial<Record<LieKey, () => unknown>>>();

/** Uint8Array and DataView subclasses whose extent getters lie (set on the prototype: TypeScript declares them as fields). */
class LyingUint8Array extends Uint8Array {}
class LyingDataView extends DataView<ArrayBufferLike> {}
for (const cls of [LyingUint8Array, LyingDataView]) {
  for (const key of ['byteLength', 'byteOffset', 'buffer', 'length'] as const) {
    if (cls === LyingDataView && key === 'length') continue;
    Object.defineProperty(cls.prototype, key, {
      configurable: true,
      get(this: object) {
        const plan = plans.get(this)?.[key];
        return plan !== undefined ? plan() : honestProperty(this, key);
      },
    });
  }
}

type ViewKind = 'u8' | 'buffer' | 'dataview' | 'f64' | 'u16' | 'subclass' | 'subclassDV';

/** A view of `length` bytes (rounded up for wide elements) on a fresh arena region. */
function arenaView(c: Ctx, kind: ViewKind, length: number): ArrayBufferView {
  const h = c.h;
  const bytes = kind === 'f64' ? Math.max(8, (length + 7) & ~7) : kind === 'u16' ? Math.max(2, (length + 1) & ~1) : length;
  const { arena, at } = h.carve(bytes);
  const ab = arena.buffer;
  let view: ArrayBufferView;
  switch (kind) {
    case 'u8': view = new Uint8Array(ab, at, bytes); break;
    case 'buffer': view = Buffer.from(ab, at, bytes); break;
    case 'dataview': view = new DataView(ab, at, bytes); break;
    case 'f64': view = new Float64Array(ab, at, bytes / 8); break;
    case 'u16': view = new Uint16Array(ab, at, bytes / 2); break;
    case 'subclass': view = new LyingUint8Array(ab, at, bytes); break;
    case 'subclassDV': view = new LyingDataView(ab, at, bytes); break;
  }
  const zone: Zone = { arena, at, length: bytes, what: '' };
  h.zones.push(zone);
  h.zoneOf.set(view, zone);
  h.bounds.set(view, bytes);
  return view;
}

/** An honest view in an arena (so that a poisoned address cache shows). */
export function honestView(c: Ctx, length = c.rng.pick([1, 8, 16, 64, 512])): ArrayBufferView {
  const kind = c.rng.pick(['u8', 'u8', 'buffer', 'buffer', 'dataview', 'f64', 'u16'] as const);
  const v = arenaView(c, kind, length);
  c.h.zoneOf.get(v)!.what = `honest ${v.constructor.name}(${realExtent(v)!.length})`;
  return c.h.label(v, `${v.constructor.name}(${realExtent(v)!.length}, arena)`);
}

/** A lie about `key` of a view whose real extent is `real`; `wild` when it may point outside the arena. */
function lieFor(c: Ctx, key: LieKey, view: ArrayBufferView): { v: unknown; wild: boolean } {
  const r = c.rng;
  const real = realExtent(view)!;
  const wild = r.chance(0.15);
  switch (key) {
    case 'byteLength':
      if (wild) return { v: r.pick([1 << 20, -1, -4096, NaN, Infinity, 2 ** 31, 2 ** 53, '8', 8n, undefined]), wild };
      return { v: r.pick([real.length + 1 + r.int(GUARD - 1), real.length + GUARD, Math.max(0, real.length - 1 - r.int(real.length)), 0, 2 ** 32 + real.length]), wild };
    case 'byteOffset':
      if (wild) return { v: r.pick([-1, NaN, 2 ** 40, -(2 ** 31), 1.5, -4096]), wild };
      return { v: r.pick([real.offset + 1 + r.int(GUARD - 1), Math.max(0, real.offset - 1 - r.int(GUARD - 1)), 0]), wild };
    case 'buffer': {
      const detached = new ArrayBuffer(8);
      structuredClone(detached, { transfer: [detached] });
      // The pool's ArrayBuffer: a poisoned address for it would send later pooled Buffers into the arena.
      return { v: r.pick<unknown>([new ArrayBuffer(real.length), new ArrayBuffer(1 << 16), detached, Buffer.allocUnsafe(1).buffer,
        new SharedArrayBuffer(8), {}, undefined]), wild };
    }
    case 'length':
      return { v: r.pick([real.length * 2 + GUARD, 1 << 20, -1, NaN, 0]), wild };
  }
}

/**
 * A Buffer, TypedArray or DataView on an arena region that lies about its
 * extent: own data properties or accessors (constant, changing between reads,
 * throwing on the Nth read, re-entering the ring), or a subclass's getters.
 */
export function lyingView(c: Ctx): ArrayBufferView {
  const h = c.h;
  const r = c.rng;
  const kind = r.pick(['u8', 'buffer', 'buffer', 'dataview', 'f64', 'subclass', 'subclassDV'] as const);
  const view = arenaView(c, kind, r.pick([1, 6, 16, 64, 512, 4096]));
  const real = realExtent(view)!;
  const texts: string[] = [];
  const keys = r.chance(0.3) ? 2 : 1;
  for (let k = 0; k < keys; k++) {
    let key = r.pick(['byteLength', 'byteLength', 'byteLength', 'byteOffset', 'byteOffset', 'buffer', 'length'] as const);
    if (key === 'length' && (kind === 'dataview' || kind === 'subclassDV')) key = 'byteLength';
    const { v, wild } = lieFor(c, key, view);
    const honest: Step = { lazy: () => honestProperty(view, key) };
    const lie: Step = { value: v };
    let get: (() => unknown) | undefined;
    let how: string;
    switch (r.int(h.on('reentry') ? 7 : 6)) {
      case 0: how = 'constant'; get = () => v; break;
      case 1: how = 'honest, then the lie'; get = h.getter(c, key, [honest, lie], false); break;
      case 2: how = 'the lie, then honest'; get = h.getter(c, key, [lie, honest], false); break;
      case 3: case 4: {
        const n = 1 + r.int(3);
        how = `throws on read ${n}`;
        get = h.getter(c, key, [...Array<Step>(n - 1).fill(k === 0 ? honest : lie), { throws: true }, honest], false);
        break;
      }
      case 5: how = 'data property'; break;
      default: {
        const a = r.pick(ACTIONS);
        how = `${a}() on read ${1 + (k & 1)}`;
        get = h.getter(c, `view.${key}`, k & 1 ? [honest, { reenter: a, then: lie }] : [{ reenter: a, then: honest }, lie], false);
      }
    }
    texts.push(`${key}: ${how === 'throws on read 1' ? '' : `${describe(v)} `}(${how}${wild ? ', wild' : ''})`);
    if (kind === 'subclass' || kind === 'subclassDV') {
      const p = plans.get(view) ?? {};
      p[key] = get ?? ((): unknown => v);
      plans.set(view, p);
    } else if (get === undefined) {
      Object.defineProperty(view, key, { value: v, configurable: true, enumerable: r.chance(0.5) });
    } else {
      Object.defineProperty(view, key, { get, configurable: true });
    }
  }
  h.liar = true;
  const text = `lying ${view.constructor.name}(${real.length}) { ${texts.join('; ')} }`;
  h.zoneOf.get(view)!.what = text;
  return h.label(view, text);
}

/** A Uint8Array path naming a harmless entry whose accessors throw, change or re-enter (never longer than it is). */
export function lyingPath(c: Ctx): Uint8Array {
  const r = c.rng;
  const h = c.h;
  const name = r.pick(['f1', 'f2', 'd1', 'lnk']);
  const p = r.chance(0.5) ? Buffer.from(name) : new Uint8Array(Buffer.from(name));
  const key = r.pick(['buffer', 'buffer', 'byteLength', 'byteOffset', 'length'] as const);
  const honest: Step = { lazy: () => honestProperty(p, key) };
  const other = key === 'buffer' ? Buffer.from('f2\u0000').buffer : key === 'byteOffset' ? 1 : Math.max(0, name.length - 1);
  const s = h.steps(c, honest, { value: other });
  Object.defineProperty(p, key, { get: h.getter(c, `path.${key}`, s.steps, false), configurable: true });
  return h.label(p, `path ${JSON.stringify(name)} { ${key}: ${s.text} }`);
}

/** Views for readv/writev: a plain array mixing lying and honest arena views. */
export function lyingViews(c: Ctx): ArrayBufferView[] {
  const r = c.rng;
  const out = Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.5) ? lyingView(c) : honestView(c)));
  c.h.liar = true;
  c.h.bounds.set(out, out.reduce((s, v) => s + realExtent(v)!.length, 0));
  return c.h.label(out, `[${out.map((v) => c.h.labels.get(v)).join(', ')}]`);
}
