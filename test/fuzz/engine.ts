// The API fuzzer: random calls with hostile arguments across every public
// operation of Ring. Checks, for each call: no synchronous throw from a
// promise method, every error typed (a string `code`), and a refused call
// consumes no SQE (the SQ tail, the staging area, the pending count and the
// enter counter are unchanged when the call returns, not counting what a
// re-entrant getter's own calls did). Hostile inputs (hostile.ts: lying
// views, fickle and re-entrant getters, Proxy arrays) add: no call transfers
// more bytes than its views really hold, no byte outside a real view changes
// (canary arenas and guard Buffers, canary.ts), a read lands in its view, an
// input getter is read at most once and never after its call returned, and a
// registered-file slot is never used as a plain fd. Every promise, the inner
// ones too, must settle exactly once; an uncaught exception is a failure. At
// the end of each batch the ring is closed or destroyed and every promise
// must settle in time.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, constants as FS } from 'node:fs';
import { join } from 'node:path';
import { types } from 'node:util';
import { Ring } from '../../src/index';
import { FixedFile } from '../../src/files';
import { native } from '../../src/native';
import {
  Ctx, Rng, bufArg, bufsArg, dirfdArg, fdArg, hostile, intArg, lengthArg, optionsArg, pathArg, posArg,
} from './values';
import { checkGuards, guardBuffers, realExtent } from './canary';
import { Counters, FAMILIES, Family, Hostility, counters } from './hostile';

type Gen = (c: Ctx) => unknown;

/** Argument generators per method. A method of Ring missing here is fuzzed with generic arguments. */
export const SPECS: Record<string, Gen[]> = {
  nop: [(c) => optionsArg(c)],
  read: [fdArg, bufArg, posArg, (c) => optionsArg(c)],
  write: [fdArg, bufArg, posArg, (c) => optionsArg(c)],
  readv: [fdArg, bufsArg, posArg, (c) => optionsArg(c)],
  writev: [fdArg, bufsArg, posArg, (c) => optionsArg(c)],
  readMany: [fdArg, bufsArg, positionsArg, (c) => optionsArg(c)],
  writeMany: [fdArg, bufsArg, positionsArg, (c) => optionsArg(c)],
  fsync: [fdArg, (c) => optionsArg(c, { datasync: (x) => x.rng.pick([true, false, 1, 'yes', undefined]) })],
  fdatasync: [fdArg, (c) => optionsArg(c)],
  syncFileRange: [fdArg, posArg, (c) => intArg(c), (c) => intArg(c, [0, 1, 2, 4, 7]), (c) => optionsArg(c)],
  fallocate: [fdArg, (c) => intArg(c, [0, 1, 2, 3, 8, 16]), posArg, lengthArg, (c) => optionsArg(c)],
  fadvise: [fdArg, posArg, (c) => intArg(c), (c) => intArg(c, [0, 1, 2, 3, 4, 5, 6]), (c) => optionsArg(c)],
  ftruncate: [fdArg, lengthArg, (c) => optionsArg(c)],
  openat: [pathArg, (c) => intArg(c, [0, 0o2, 0o100 | 0o2, 0o200000, 0o100 | 0o1000 | 0o1, 0o20200000 | 0o2]), (c) => intArg(c, [0o644, 0, 0o7777]),
    (c) => optionsArg(c, { dirfd: dirfdArg })],
  openat2: [pathArg, (c) => intArg(c, [0, 0o2, 0o100 | 0o2]), (c) => intArg(c, [0o644, 0]),
    (c) => optionsArg(c, { dirfd: dirfdArg, resolve: (x) => intArg(x, [0, 1, 2, 4, 8, 16, 0x20]) })],
  closeFd: [(c) => (c.disposable.length && c.rng.chance(0.5) ? c.disposable.splice(c.rng.int(c.disposable.length), 1)[0] : fdArg(c) === c.fds.devnull ? 0x7fffffff : hostile(c)), (c) => optionsArg(c)],
  statx: [pathArg, (c) => optionsArg(c, { dirfd: dirfdArg, flags: (x) => intArg(x, [0, 0x100, 0x1000, 0x800]), mask: (x) => intArg(x, [0, 0xfff, 0x7ff]) })],
  fstat: [fdArg, (c) => optionsArg(c)],
  renameat: [pathArg, pathArg, (c) => optionsArg(c, { oldDirfd: dirfdArg, newDirfd: dirfdArg, flags: (x) => intArg(x, [0, 1, 2, 4]) })],
  unlinkat: [pathArg, (c) => optionsArg(c, { dirfd: dirfdArg, flags: (x) => intArg(x, [0, 0x200]) })],
  mkdirat: [pathArg, (c) => intArg(c, [0o755, 0, 0o7777]), (c) => optionsArg(c, { dirfd: dirfdArg })],
  symlinkat: [pathArg, pathArg, (c) => optionsArg(c, { dirfd: dirfdArg })],
  linkat: [pathArg, pathArg, (c) => optionsArg(c, { oldDirfd: dirfdArg, newDirfd: dirfdArg, flags: (x) => intArg(x, [0, 0x400]) })],
  splice: [fdArg, posArg, fdArg, posArg, (c) => intArg(c, [0, 1, 4096]), (c) => intArg(c, [0, 1, 2, 4]), (c) => optionsArg(c)],
  tee: [fdArg, fdArg, (c) => intArg(c, [0, 1, 4096]), (c) => intArg(c, [0, 1, 2]), (c) => optionsArg(c)],
  pollAdd: [fdArg, (c) => intArg(c, [1, 4, 5, 0x10, 0]), (c) => optionsArg(c)],
  pollRemove: [(c) => (c.polls.length && c.rng.chance(0.6) ? c.rng.pick(c.polls) : c.rng.chance(0.5) ? Promise.resolve(0) : hostile(c)), (c) => optionsArg(c)],
};

/** Positions of a batch: mostly as many as a small array of buffers has, some of them hostile. */
function positionsArg(c: Ctx): unknown {
  const r = c.rng;
  if (r.chance(0.1)) return hostile(c);
  return Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.8) ? r.pick([0, 4096, -1]) : posArg(c)));
}

/** Methods that are not operations: lifecycle and introspection, exercised separately. */
const NOT_OPS = new Set(['constructor', 'close', 'destroy', 'submit', 'probe', 'reap']);

/** Error codes of refusals: a call rejected with one of these must have consumed nothing. */
const REFUSALS = new Set([
  'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_RING_CLOSED',
  'ERR_URING_FOREIGN_FILE', 'ERR_URING_UNSUPPORTED', 'E_FUZZ_TRAP',
]);

/**
 * Every public promise-returning method of Ring (own and inherited), read
 * from the compiled declarations: TypeScript's private methods exist at run
 * time too, so the prototype alone cannot tell them apart.
 */
export function publicMethods(): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(join(__dirname, '..', '..', 'src')).filter((f) => /^ring.*\.d\.ts$/.test(f))) {
    const text = readFileSync(join(__dirname, '..', '..', 'src', file), 'utf8');
    for (const m of text.matchAll(/^ {4}(?!private |protected |static )([a-zA-Z]\w*)\(.*\): Promise<.*;$/gm)) {
      if (!NOT_OPS.has(m[1]!) && typeof (Ring.prototype as unknown as Record<string, unknown>)[m[1]!] === 'function') names.add(m[1]!);
    }
  }
  return [...names].sort();
}

export interface FuzzReport {
  seed: number;
  calls: number;
  refused: number;
  accepted: number;
  resolved: number;
  rejected: number;
  codes: Record<string, number>;
  /** Methods fuzzed with generic arguments (no spec yet). */
  generic: string[];
  /** Hostile input families that were on. */
  families: string[];
  /** Up to three messages per kind of failure, fifty in all. */
  failures: string[];
  /** How many failures of each kind (all of them, also those not kept). */
  kinds: Record<string, number>;
  /** Why the run stopped before `calls`, if it did. */
  stopped?: string;
  ms: number;
}

export interface FuzzOptions {
  calls: number;
  seed: number;
  /** The temporary directory (the cwd): every path the fuzzer makes is inside it. */
  dir: string;
  batch?: number;
  /** Hostile input families (default all; see hostile.ts). */
  families?: readonly Family[];
  /** How long a batch's promises and close() may take to settle (default 10 s). */
  settleMs?: number;
  /** Stop after this many batches with failures (default 3). */
  failingBatches?: number;
  /** Stop starting batches after this long (default: no limit). */
  budgetMs?: number;
  /** Called with each batch, call and failure as it happens (the child writes them to a file, for crashes). */
  trace?: (line: string) => void;
}

interface Tracked { settled: number; what: string }

/** Methods whose second argument is memory the kernel reads or writes: [method, vectored]. */
const DATA_OPS: Record<string, boolean> = { read: false, write: false, readv: true, writev: true, readMany: true, writeMany: true };
/** Methods whose first argument is the file the kernel acts on. */
const FILE_OPS = new Set(['read', 'write', 'readv', 'writev', 'readMany', 'writeMany', 'fsync', 'fdatasync', 'syncFileRange', 'fallocate', 'fadvise', 'ftruncate', 'tee', 'splice', 'pollAdd']);

function describeCall(h: Hostility, method: string, args: unknown[]): string {
  const show = (v: unknown): string => {
    try {
      // Never read a hostile value's own properties here: its getters count reads and may re-enter.
      const label = (typeof v === 'object' && v !== null) || typeof v === 'function' ? h.labels.get(v as object) : undefined;
      if (label !== undefined) return label;
      if (types.isProxy(v)) return '[Proxy]';
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'symbol') return v.toString();
      if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
      const e = realExtent(v);
      if (e !== undefined) return `${(v as object).constructor.name}(${e.length})`;
      if (typeof v === 'object' && v !== null) return `[${Object.prototype.toString.call(v)}]`;
      return String(v);
    } catch { return '<unprintable>'; }
  };
  return `${method}(${args.map(show).join(', ')})`;
}

/** The failure kind of an error without a code: its class and message, numbers blanked, so that distinct causes count apart. */
function untyped(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const text = typeof e?.message === 'string' ? `${String(e.name)}: ${e.message}` : typeof err;
  return `untyped-error (${text.replace(/\d+/g, 'N').slice(0, 80)})`;
}

/** The most bytes an honest call could move through `arg`, or undefined when unknown. */
function boundOf(h: Hostility, arg: unknown, vectored: boolean): number | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const b = h.bounds.get(arg);
  if (b !== undefined) return b;
  if (!vectored) return realExtent(arg)?.length;
  if (!Array.isArray(arg) || types.isProxy(arg)) return undefined;
  let sum = 0;
  for (const e of arg as unknown[]) sum += realExtent(e)?.length ?? 0;
  return sum;
}

/** Runs `calls` random calls in batches, each batch on a fresh ring inside `dir` (the cwd). */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const rng = new Rng(opts.seed);
  const batch = opts.batch ?? 400;
  const settleMs = opts.settleMs ?? (Number(process.env.FUZZ_SETTLE_MS) || 10000);
  const families = new Set<Family>(opts.families ?? FAMILIES);
  const trace = opts.trace ?? ((): void => {});
  const methods = publicMethods();
  const report: FuzzReport = {
    seed: opts.seed, calls: 0, refused: 0, accepted: 0, resolved: 0, rejected: 0, codes: {},
    generic: methods.filter((m) => !(m in SPECS)), families: [...families], failures: [], kinds: {}, ms: 0,
  };
  let callNo = 0;
  let lastWhat = '';
  let batchFailed = false;
  const fail = (kind: string, msg: string): void => {
    batchFailed = true;
    const seen = report.kinds[kind] = (report.kinds[kind] ?? 0) + 1;
    trace(`FAIL ${kind}: ${msg.split('\n', 1)[0]}`);
    if (seen <= 3 && report.failures.length < 50) report.failures.push(`[${kind}] ${msg}`);
  };
  // What Node would die of: a library exception in a completion handler, a getter read too late, an unhandled rejection.
  const onUncaught = (err: unknown): void => fail(`uncaught-exception (${untyped(err).slice(15, -1)})`, `after call #${callNo} ${lastWhat}: ${(err as Error)?.stack ?? String(err)}`);
  const onUnhandled = (err: unknown): void => fail('unhandled-rejection', `after call #${callNo} ${lastWhat}: ${(err as Error)?.stack ?? String(err)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandled);
  const other = new Ring({ entries: 4 });
  const n = native();
  let closedRing: Ring | undefined;
  let failingBatches = 0;

  try {
    for (let done = 0, b = 0; done < opts.calls; b++) {
      if (opts.budgetMs !== undefined && Date.now() - t0 > opts.budgetMs) { report.stopped = `time budget of ${opts.budgetMs} ms spent`; break; }
      batchFailed = false;
      // A clean directory for every batch (the previous one renamed and removed things).
      for (const e of readdirSync(opts.dir)) rmSync(join(opts.dir, e), { recursive: true, force: true });
      mkdirSync(`${opts.dir}/d1`);
      writeFileSync(`${opts.dir}/f1`, 'fuzz');
      const [pipeR, pipeW] = n.pipe() as [number, number];
      const fds = {
        devnull: openSync('/dev/null', 'r+'), devzero: openSync('/dev/zero', 'r'), urandom: openSync('/dev/urandom', 'r'),
        file: openSync(`${opts.dir}/f1`, 'r+'), pipeR, pipeW, dir: openSync(opts.dir, FS.O_RDONLY | FS.O_DIRECTORY),
      };
      const shape = rng.pick([{ entries: 64 }, { entries: 2, cqEntries: 4 }, { entries: 8 }]);
      trace(`batch ${b} from call #${callNo + 1}: ring ${JSON.stringify(shape)}`);
      const tracked: Tracked[] = [];
      const track = (p: unknown, what: string): void => {
        if (!(p instanceof Promise)) { fail('not-a-promise', `${what} returned ${typeof p}, not a promise`); return; }
        const t: Tracked = { settled: 0, what };
        tracked.push(t);
        p.then(() => { t.settled++; }, (err: unknown) => {
          t.settled++;
          if (typeof (err as { code?: unknown } | null)?.code !== 'string') fail(untyped(err), `${what} rejected with an untyped error: ${(err as Error)?.stack ?? String(err)}`);
        });
      };
      const h = new Hostility(families, track);
      const c: Ctx = { rng, ring: new Ring(shape), other, fds, disposable: [], polls: [], dir: opts.dir, h };
      const retired: Ring[] = [];
      const guards = guardBuffers();
      const notes = (): void => { for (const [kind, msg] of h.notes.splice(0)) fail(kind, msg); };
      let ringClosedReported = false;
      const size = Math.min(batch, opts.calls - done);

      for (let k = 0; k < size; k++, done++) {
        const method = rng.pick(methods);
        const spec = SPECS[method];
        const no = ++callNo;
        h.begin(no);
        let args: unknown[] = spec
          ? spec.map((g) => (rng.chance(0.15) ? hostile(c) : g(c)))
          : Array.from({ length: rng.int(6) }, () => (rng.chance(0.5) ? fdArg(c) : hostile(c)));
        if (rng.chance(0.05)) args = args.slice(0, rng.int(args.length + 1));
        if (rng.chance(0.03)) args.push(hostile(c));
        // Views that lie go mostly to fds where a correct library's writes are harmless.
        if (h.liar && method in DATA_OPS && rng.chance(0.9)) {
          args[0] = method.startsWith('read') ? rng.pick([fds.devzero, fds.devzero, fds.urandom, fds.file]) : rng.pick([fds.devnull, fds.devnull, fds.file, fds.pipeW]);
        }
        const target = closedRing !== undefined && rng.chance(0.03) ? closedRing : c.ring;
        const what = `#${no} ${describeCall(h, method, args)}`;
        lastWhat = what;
        trace(what);
        h.target = target;
        // Guards already damaged (by an earlier call's stray write) are not this call's doing.
        const zones = h.zones.filter((z) => z.arena.checkZone(z) === undefined);
        const getters = h.getters;
        const before = counters(target);
        let ret: unknown;
        h.inCall = true;
        try {
          ret = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
        } catch (err) {
          h.inCall = false;
          fail('sync-throw', `${what} threw synchronously: ${(err as Error)?.stack ?? String(err)}`);
          continue;
        }
        h.inCall = false;
        const after = counters(target);
        // What the call itself consumed: re-entrant getters' own calls are subtracted.
        const outer = after.map((v, i) => v - before[i]! - h.inner[i]!) as Counters;
        const consumed = outer.some((v) => v !== 0);
        const reentered = h.reentries > 0;
        for (const g of getters) if (g.counted && g.reads > 1) fail('getter-read-twice', `${what}: ${g.what} was read ${g.reads} times`);
        notes();
        report.calls++;
        if (!(ret instanceof Promise)) {
          fail('not-a-promise', `${what} returned ${typeof ret}, not a promise`);
          continue;
        }
        if (consumed) report.accepted++; else report.refused++;
        if (method === 'pollAdd' && consumed) c.polls.push(ret as Promise<number>);
        const t: Tracked = { settled: 0, what };
        tracked.push(t);
        // The guards of the views this call gave the kernel to write (other calls' damage shows in the arena check).
        const checkZones = (): void => {
          if (method !== 'read' && method !== 'readv' && method !== 'readMany') return;
          for (const z of zones) {
            const bad = z.reported ? undefined : z.arena.checkZone(z);
            if (bad !== undefined) {
              z.reported = true;
              fail('wrote-outside-view', `${what}: ${bad} (${z.what}), seen when it settled`);
            }
          }
        };
        ret.then((v) => {
          t.settled++;
          report.resolved++;
          // cancel() of a promise that is no request of this ring (or one
          // already settled) has nothing to cancel: it answers false at once.
          const nothingToCancel = method === 'cancel' && v === false;
          // A batch of no entries has nothing to submit: it resolves with none.
          const emptyBatch = (method === 'readMany' || method === 'writeMany') && Array.isArray(v) && v.length === 0;
          if (!consumed && !nothingToCancel && !emptyBatch) fail('resolved-without-submitting', `${what} resolved (${String(v)}) without submitting anything`);
          if ((method === 'openat' || method === 'openat2') && typeof v === 'number') c.disposable.push(v);
          if ((method === 'readMany' || method === 'writeMany') && Array.isArray(v)) {
            const bound = boundOf(h, args[1], true);
            const total = (v as number[]).reduce((a, b) => a + b, 0);
            if (bound !== undefined && total > bound) fail('transferred-beyond-view', `${what} resolved ${total} bytes in all, but its views really hold ${bound}`);
          }
          if (method in DATA_OPS && typeof v === 'number') {
            const bound = boundOf(h, args[1], DATA_OPS[method]!);
            if (bound !== undefined && v > bound) fail('transferred-beyond-view', `${what} resolved ${v} bytes, but its views really hold ${bound}`);
            const z = method === 'read' && args[0] === fds.devzero && typeof args[1] === 'object' && args[1] !== null ? h.zoneOf.get(args[1]) : undefined;
            if (z !== undefined && v > 0 && z.arena.bytes.subarray(z.at, z.at + Math.min(v, z.length)).some((x) => x !== 0)) {
              fail('read-landed-elsewhere', `${what} read ${v} bytes of /dev/zero, but the view's own bytes were not all written (${z.what})`);
            }
          }
          if (FILE_OPS.has(method) && !emptyBatch && (args[0] instanceof FixedFile || (method === 'splice' && args[2] instanceof FixedFile))) {
            fail('fixed-slot-used-as-fd', `${what} resolved (${String(v)}) on a ring with no registered files: a slot went to the kernel as a plain fd`);
          }
          checkZones();
        }, (err: unknown) => {
          t.settled++;
          report.rejected++;
          const code = (err as { code?: unknown } | null)?.code;
          if (typeof code !== 'string') {
            fail(untyped(err), `${what} rejected with an untyped error: ${(err as Error)?.stack ?? String(err)}`);
            return;
          }
          report.codes[code] = (report.codes[code] ?? 0) + 1;
          if (REFUSALS.has(code) && consumed) fail('refused-after-consuming', `${what} was refused (${code}) after consuming an SQE (${outer.join(' ')})`);
          // A call whose getter closed or destroyed the ring may be refused for that with any ERR_* code.
          if (!consumed && !REFUSALS.has(code) && code !== 'ABORT_ERR' && !(reentered && code.startsWith('ERR_'))) {
            fail('rejected-without-submitting', `${what} rejected with ${code} without submitting anything`);
          }
          if (/^E[A-Z0-9]+$/.test(code) && code !== 'ETIMEDOUT' && code !== 'E_FUZZ_TRAP') {
            const e = err as { errno?: unknown; syscall?: unknown };
            if (typeof e.errno !== 'number' || e.errno >= 0 || typeof e.syscall !== 'string') fail('bad-system-error', `${what}: system error ${code} without a negative errno and a syscall`);
          }
          checkZones();
        });
        if (c.ring.closed) {
          if (h.closedByGetter) {
            // A getter closed the batch's ring: go on with a fresh one; the old one is checked at the end.
            retired.push(c.ring);
            c.ring = new Ring(shape);
            h.closedByGetter = false;
          } else if (!ringClosedReported) {
            ringClosedReported = true;
            fail('ring-closed-itself', `the ring closed itself after ${what}`);
          }
        }
        if (rng.chance(0.002) && !c.ring.closed) c.ring.submit();
        if (rng.chance(0.02)) await new Promise((r) => setImmediate(r));
        notes();
      }

      // End of the batch: close (waits, then cancels) or destroy (cancels at once).
      const ring = c.ring;
      lastWhat = `(end of batch ${b})`;
      let closing: Promise<unknown> | undefined;
      if (rng.chance(0.1)) {
        // close() with a hostile grace period: refused (rejects, ring stays open) or accepted.
        const bad = hostile(c);
        try {
          closing = ring.close({ graceMs: bad as number });
          const valid = Number.isInteger(bad) && (bad as number) >= 0 && (bad as number) <= 2 ** 31 - 1;
          closing.then(() => {}, (err) => {
            if (valid) fail('close-rejected', `close({ graceMs: ${String(bad)} }) rejected: ${err}`);
            else if (typeof (err as { code?: unknown })?.code !== 'string') fail(untyped(err), `close() rejected with an untyped error ${String(err)}`);
          });
          if (!valid) closing = undefined;
        } catch (err) {
          fail('sync-throw', `close({ graceMs: ${describeCall(h, '', [bad])} }) threw synchronously: ${String(err)}`);
        }
      }
      if (process.env.FUZZ_DEBUG) process.stderr.write(`batch end ${done} pending ${ring.pending} closed ${ring.closed}\n`);
      if (closing === undefined && rng.chance(0.5)) {
        const closing = ring.close({ graceMs: rng.int(20) }).then(() => true, (e) => { fail('close-rejected', `close() rejected: ${e}`); return true; });
        const timer = new Promise<boolean>((r) => setTimeout(() => r(false), settleMs).unref());
        if (!(await Promise.race([closing, timer]))) fail('close-hang', `close() did not resolve within ${settleMs} ms (pending ${ring.pending}; last calls of batch ${b})`);
      } else {
        ring.destroy();
      }
      const deadline = Date.now() + settleMs;
      while (tracked.some((x) => x.settled === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      for (const x of tracked) if (x.settled !== 1) fail(x.settled === 0 ? 'never-settled' : 'settled-twice', `${x.what} settled ${x.settled} times`);
      const rings = [...retired, ring];
      while (rings.some((r) => r.pending > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      for (const r of rings) {
        if (r.pending > 0) {
          const live = [...r._req.each()].map((q) => `${q.op?.syscall}${q.settled ? ' (settled)' : ''}`);
          fail('requests-left', `a closed ring still has ${r.pending} requests after ${settleMs} ms: ${live.join(', ')}`);
        }
        r.destroy(); // a hung close() must not keep its ring into the next batch
      }
      notes();
      // The kernel is done with every request now: nothing outside a real view may have changed.
      for (const a of h.arenas) {
        const bad = a.check();
        if (bad !== undefined) fail('arena-corrupted', `batch ${b} (calls up to #${callNo}): ${bad}`);
      }
      const bad = checkGuards(guards);
      if (bad !== undefined) fail('guard-buffer-corrupted', `batch ${b} (calls up to #${callNo}): ${bad}`);
      for (const fd of [...Object.values(fds), ...c.disposable]) { try { closeSync(fd); } catch { /* closed by an operation */ } }
      closedRing = ring;
      trace(`batch ${b} checked`);
      if (batchFailed && ++failingBatches >= (opts.failingBatches ?? 3)) { report.stopped = `stopped after ${failingBatches} batches with failures`; break; }
    }
    trace('closing the other ring');
    await other.close();
    trace('done');
  } finally {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
  }
  report.ms = Date.now() - t0;
  return report;
}
