// Class 5 of issue 12: user code that re-enters the ring while a call is being
// built: close(), destroy() or another operation called from a view getter,
// an options getter, a path accessor, a Proxy trap or a forged FixedFile's
// `index` getter. Re-entrant calls either work or are refused with an ERR_*
// error; every promise settles exactly once; close() resolves; the outer call
// gets exactly what it asked for (no timeout nobody asked for).
import assert from 'node:assert/strict';
import { closeSync, fstatSync, statSync, writeFileSync, writeSync, constants as FS } from 'node:fs';
import { inspect } from 'node:util';
import { Ring, FixedFile } from '../../src/index';
import type { Shape } from '../helpers';
import {
  Outcome, Pipe, closeWithin, delay, fdCount, makePipe, pattern, ringOf, scratchDir, settled, watch,
} from './harness';

type Action = 'close' | 'destroy' | 'nop';

interface Ctx {
  ring: Ring;
  pipe: Pipe;
  file: string;
  action: Action;
  /** Runs the action, once. */
  fire(): void;
  /** A fresh options object for the outer call (for 'nop': a timeout that reads undefined first, then 1 ms). */
  opts(): Record<string, unknown>;
  /** The view the outer read fills, when the test can see it. */
  view?: Uint8Array;
}

type Hook = (c: Ctx) => Promise<number>;

/** The outer calls, each with one hook that runs the action while the call is being built. */
const HOOKS: Record<string, Hook> = {
  'a view byteLength getter': (c) => {
    const v = new Uint8Array(16);
    c.view = v;
    Object.defineProperty(v, 'byteLength', { get() { c.fire(); return 16; } });
    return c.ring.read(c.pipe.r, v, -1, c.opts());
  },
  'an options.signal getter': (c) => {
    const v = new Uint8Array(16);
    c.view = v;
    const o = c.opts();
    Object.defineProperty(o, 'signal', { enumerable: true, get() { c.fire(); return undefined; } });
    return c.ring.read(c.pipe.r, v, -1, o);
  },
  'an options.timeout getter': (c) => {
    const v = new Uint8Array(16);
    c.view = v;
    const o: Record<string, unknown> = {};
    Object.defineProperty(o, 'timeout', { enumerable: true, get() { c.fire(); return undefined; } });
    return c.ring.read(c.pipe.r, v, -1, o);
  },
  'a Proxy length trap (readv)': (c) => {
    const v = new Uint8Array(16);
    c.view = v;
    const arr = new Proxy([v], {
      get(t, k, r) {
        if (k === 'length') c.fire();
        return Reflect.get(t, k, r);
      },
    });
    return c.ring.readv(c.pipe.r, arr, -1, c.opts());
  },
  'a forged FixedFile index getter': (c) => {
    const v = new Uint8Array(16);
    c.view = v;
    const [real] = c.ring.files.register([c.pipe.r]);
    const forged = Object.create(FixedFile.prototype, {
      ...Object.getOwnPropertyDescriptors(real),
      index: { get() { c.fire(); return real!.index; } },
    }) as FixedFile;
    return c.ring.read(forged, v, -1, c.opts());
  },
  'a path buffer accessor (openat)': (c) => {
    const p = Buffer.from(c.file);
    const ab = p.buffer;
    Object.defineProperty(p, 'buffer', { get() { c.fire(); return ab; } });
    return c.ring.openat(p, FS.O_RDONLY, 0o666, c.opts());
  },
};

const DATA = pattern(16, 55);

async function one(shape: Shape, action: Action, hookName: string, hook: Hook, file: string): Promise<string[]> {
  const v: string[] = [];
  const what = `${action}() from ${hookName}`;
  const fds = fdCount();
  const ring = ringOf(shape);
  const pipe = makePipe();
  let inner: Outcome<unknown> | undefined;
  let fired = 0;
  const c: Ctx = {
    ring, pipe, file, action,
    fire() {
      if (fired++) return;
      try {
        if (action === 'close') inner = watch(ring.close());
        else if (action === 'destroy') ring.destroy();
        else inner = watch(ring.nop());
      } catch (err) {
        v.push(`${what}: ring.${action}() threw synchronously: ${inspect(err)}`);
      }
    },
    opts() {
      const o: Record<string, unknown> = {};
      if (action === 'nop') {
        let reads = 0;
        // Read once, this is "no timeout".
        Object.defineProperty(o, 'timeout', { enumerable: true, get: () => (reads++ === 0 ? undefined : 1) });
      }
      return o;
    },
  };
  let outer: Outcome<number>;
  try {
    outer = watch(hook(c));
  } catch (err) {
    outer = watch(Promise.reject(err));
    v.push(`${what}: the outer call threw synchronously: ${inspect(err)}`);
  }
  await delay(60);
  writeSync(pipe.w, DATA);
  try {
    await settled(outer, 2000, `${what}: the outer call`);
  } catch (err) {
    v.push((err as Error).message);
  }
  const isFd = hookName.endsWith('(openat)');
  if (outer.status === 'fulfilled') {
    if (isFd) {
      if (fstatSync(outer.value!).ino !== statSync(file).ino) v.push(`${what}: openat resolved with an fd of another file`);
      closeSync(outer.value!);
    } else {
      if (outer.value !== 16) v.push(`${what}: the outer read resolved ${outer.value}, expected 16`);
      else if (c.view && !Buffer.from(c.view.buffer, c.view.byteOffset, 16).equals(DATA)) v.push(`${what}: the outer read's data is not in its view`);
    }
  } else if (outer.status === 'rejected') {
    const e = outer.error as { code?: unknown; name?: string; message?: string };
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const shown = `${e?.name} ${String(e?.code)}: ${e?.message}`;
    if (code === undefined) v.push(`${what}: the outer call rejected with an error without a code (${shown})`);
    else if (action === 'close' && !/^(ERR_|ECANCELED$)/.test(code)) v.push(`${what}: the outer call rejected with ${shown}`);
    else if (action === 'nop' && !/^ERR_/.test(code)) v.push(`${what}: the outer call, which asked for no timeout, rejected with ${shown}`);
  }
  if (inner !== undefined) {
    try {
      await settled(inner, 1500, `${what}: the re-entrant ${action}()`);
      if (inner.status === 'rejected') {
        const code = (inner.error as { code?: unknown })?.code;
        if (typeof code !== 'string' || !code.startsWith('ERR_')) {
          v.push(`${what}: the re-entrant ${action}() was refused without an ERR_* code: ${inspect(inner.error)}`);
        }
      } else if (action === 'nop' && inner.value !== 0) {
        v.push(`${what}: the re-entrant nop() resolved ${inspect(inner.value)}`);
      }
    } catch (err) {
      v.push((err as Error).message);
    }
  }
  try {
    await closeWithin(ring, action === 'nop' ? 1000 : 2000, `${what}: ring.close() afterwards`);
  } catch (err) {
    v.push((err as Error).message);
  }
  pipe.close();
  await delay(20);
  if (fdCount() !== fds) v.push(`${what}: ${fdCount() - fds} fd(s) leaked`);
  return v;
}

async function run(shape: Shape, action: Action): Promise<unknown> {
  const dir = scratchDir();
  const file = dir.path('target');
  writeFileSync(file, 'target');
  const violations: string[] = [];
  try {
    for (const [name, hook] of Object.entries(HOOKS)) violations.push(...await one(shape, action, name, hook, file));
    assert.deepEqual(violations, [], `re-entrant ${action}()`);
    return null;
  } finally {
    dir.cleanup();
  }
}

/** close() from each hook: the outer call settles (data, ECANCELED or ERR_RING_CLOSED) and close() resolves. */
export const closeFromGetters = (s: Shape): Promise<unknown> => run(s, 'close');
/** destroy() from each hook: the outer call settles with a coded error (or its data); nothing hangs or leaks. */
export const destroyFromGetters = (s: Shape): Promise<unknown> => run(s, 'destroy');
/**
 * nop() from each hook, the outer call carrying an options object whose
 * timeout reads undefined first and 1 ms after: the nop settles, the outer
 * call gets its data (no timeout), and close() resolves within a second.
 */
export const nopFromGetters = (s: Shape): Promise<unknown> => run(s, 'nop');
