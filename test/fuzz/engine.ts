// The API fuzzer: random calls with hostile arguments across every public
// operation of Ring. Checks, for each call: no synchronous throw from a
// promise method, every error typed (a string `code`), and a refused call
// consumes no SQE (the SQ tail, the staging area, the pending count and the
// enter counter are unchanged when the call returns). At the end of each batch
// the ring is closed or destroyed and every promise must settle in time.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, constants as FS } from 'node:fs';
import { join } from 'node:path';
import { Ring } from '../../src/index';
import { native } from '../../src/native';
import {
  Ctx, Rng, bufArg, bufsArg, dirfdArg, fdArg, hostile, intArg, lengthArg, optionsArg, pathArg, posArg,
} from './values';

type Gen = (c: Ctx) => unknown;

/** Argument generators per method. A method of Ring missing here is fuzzed with generic arguments. */
export const SPECS: Record<string, Gen[]> = {
  nop: [(c) => optionsArg(c)],
  read: [fdArg, bufArg, posArg, (c) => optionsArg(c)],
  write: [fdArg, bufArg, posArg, (c) => optionsArg(c)],
  readv: [fdArg, bufsArg, posArg, (c) => optionsArg(c)],
  writev: [fdArg, bufsArg, posArg, (c) => optionsArg(c)],
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
  failures: string[];
  ms: number;
}

interface Tracked { promise: Promise<unknown>; settled: number; what: string }

function describeCall(method: string, args: unknown[]): string {
  const show = (v: unknown): string => {
    try {
      if (typeof v === 'bigint') return `${v}n`;
      if (typeof v === 'symbol') return v.toString();
      if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
      if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${v.byteLength})`;
      if (typeof v === 'object' && v !== null) return `[${Object.prototype.toString.call(v)}]`;
      return String(v);
    } catch { return '<unprintable>'; }
  };
  return `${method}(${args.map(show).join(', ')})`;
}

/** Runs `calls` random calls in batches, each batch on a fresh ring inside `dir` (the cwd). */
export async function runFuzz(opts: { calls: number; seed: number; dir: string; batch?: number }): Promise<FuzzReport> {
  const t0 = Date.now();
  const rng = new Rng(opts.seed);
  const batch = opts.batch ?? 400;
  const methods = publicMethods();
  const report: FuzzReport = {
    seed: opts.seed, calls: 0, refused: 0, accepted: 0, resolved: 0, rejected: 0, codes: {},
    generic: methods.filter((m) => !(m in SPECS)), failures: [], ms: 0,
  };
  const fail = (msg: string): void => { if (report.failures.length < 50) report.failures.push(msg); };
  const other = new Ring({ entries: 4 });
  const n = native();
  let closedRing: Ring | undefined;

  for (let done = 0; done < opts.calls;) {
    // A clean directory for every batch (the previous one renamed and removed things).
    for (const e of readdirSync(opts.dir)) rmSync(join(opts.dir, e), { recursive: true, force: true });
    mkdirSync(`${opts.dir}/d1`);
    writeFileSync(`${opts.dir}/f1`, 'fuzz');
    const [pipeR, pipeW] = n.pipe() as [number, number];
    const fds = {
      devnull: openSync('/dev/null', 'r+'), devzero: openSync('/dev/zero', 'r'),
      file: openSync(`${opts.dir}/f1`, 'r+'), pipeR, pipeW, dir: openSync(opts.dir, FS.O_RDONLY | FS.O_DIRECTORY),
    };
    const ring = new Ring(rng.pick([{ entries: 64 }, { entries: 2, cqEntries: 4 }, { entries: 8 }]));
    const c: Ctx = { rng, ring, other, fds, disposable: [], polls: [], dir: opts.dir };
    const tracked: Tracked[] = [];
    let ringClosedReported = false;
    const size = Math.min(batch, opts.calls - done);

    for (let k = 0; k < size; k++, done++) {
      const method = rng.pick(methods);
      const spec = SPECS[method];
      let args: unknown[] = spec
        ? spec.map((g) => (rng.chance(0.15) ? hostile(c) : g(c)))
        : Array.from({ length: rng.int(6) }, () => (rng.chance(0.5) ? fdArg(c) : hostile(c)));
      if (rng.chance(0.05)) args = args.slice(0, rng.int(args.length + 1));
      if (rng.chance(0.03)) args.push(hostile(c));
      const target = closedRing !== undefined && rng.chance(0.03) ? closedRing : ring;
      const what = describeCall(method, args);
      const sq = target._sq;
      const before = [sq.tail, sq.stagedCount(), target.pending, target.stats.enters];
      let ret: unknown;
      try {
        ret = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
      } catch (err) {
        fail(`${what} threw synchronously: ${(err as Error)?.stack ?? String(err)}`);
        continue;
      }
      const after = [sq.tail, sq.stagedCount(), target.pending, target.stats.enters];
      const consumed = before.some((v, i) => v !== after[i]);
      report.calls++;
      if (!(ret instanceof Promise)) {
        fail(`${what} returned ${typeof ret}, not a promise`);
        continue;
      }
      if (consumed) report.accepted++; else report.refused++;
      if (method === 'pollAdd' && consumed) c.polls.push(ret as Promise<number>);
      const t: Tracked = { promise: ret, settled: 0, what };
      tracked.push(t);
      ret.then((v) => {
        t.settled++;
        report.resolved++;
        // cancel() of a promise that is no request of this ring (or one
        // already settled) has nothing to cancel: it answers false at once.
        const nothingToCancel = method === 'cancel' && v === false;
        if (!consumed && !nothingToCancel) fail(`${what} resolved (${String(v)}) without submitting anything`);
        if ((method === 'openat' || method === 'openat2') && typeof v === 'number') c.disposable.push(v);
      }, (err: unknown) => {
        t.settled++;
        report.rejected++;
        const code = (err as { code?: unknown } | null)?.code;
        if (typeof code !== 'string') {
          fail(`${what} rejected with an untyped error: ${(err as Error)?.stack ?? String(err)}`);
          return;
        }
        report.codes[code] = (report.codes[code] ?? 0) + 1;
        if (REFUSALS.has(code) && consumed) fail(`${what} was refused (${code}) after consuming an SQE`);
        if (!consumed && !REFUSALS.has(code) && code !== 'ABORT_ERR') fail(`${what} rejected with ${code} without submitting anything`);
        if (/^E[A-Z0-9]+$/.test(code) && code !== 'ETIMEDOUT' && code !== 'E_FUZZ_TRAP') {
          const e = err as { errno?: unknown; syscall?: unknown };
          if (typeof e.errno !== 'number' || e.errno >= 0 || typeof e.syscall !== 'string') fail(`${what}: system error ${code} without a negative errno and a syscall`);
        }
      });
      if (rng.chance(0.002) && !ring.closed) ring.submit();
      if (ring.closed && !ringClosedReported) { ringClosedReported = true; fail(`the ring closed itself after ${what}`); }
      if (rng.chance(0.02)) await new Promise((r) => setImmediate(r));
    }

    // End of the batch: close (waits, then cancels) or destroy (cancels at once).
    let closing: Promise<unknown> | undefined;
    if (rng.chance(0.1)) {
      // close() with a hostile grace period: refused (rejects, ring stays open) or accepted.
      const bad = hostile(c);
      try {
        closing = ring.close({ graceMs: bad as number });
        const valid = Number.isInteger(bad) && (bad as number) >= 0 && (bad as number) <= 2 ** 31 - 1;
        closing.then(() => {}, (err) => {
          if (valid) fail(`close({ graceMs: ${String(bad)} }) rejected: ${err}`);
          else if (typeof (err as { code?: unknown })?.code !== 'string') fail(`close() rejected with an untyped error ${String(err)}`);
        });
        if (!valid) closing = undefined;
      } catch (err) {
        fail(`close({ graceMs: ${describeCall('', [bad])} }) threw synchronously: ${String(err)}`);
      }
    }
    if (process.env.FUZZ_DEBUG) process.stderr.write(`batch end ${done} pending ${ring.pending} closed ${ring.closed}\n`);
    if (closing === undefined && rng.chance(0.5)) {
      const closing = ring.close({ graceMs: rng.int(20) }).then(() => true, (e) => { fail(`close() rejected: ${e}`); return true; });
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 10000).unref());
      if (!(await Promise.race([closing, timer]))) fail(`close() did not resolve within 10 s (pending ${ring.pending})`);
    } else {
      ring.destroy();
    }
    const deadline = Date.now() + (Number(process.env.FUZZ_SETTLE_MS) || 10000);
    while (tracked.some((t) => t.settled === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const t of tracked) if (t.settled !== 1) fail(`${t.what} settled ${t.settled} times`);
    while (ring.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (ring.pending > 0) {
      const live = [...ring._req.each()].map((r) => `${r.syscall}${r.settled ? ' (settled)' : ''}`);
      fail(`a closed ring still has ${ring.pending} requests after 10 s: ${live.join(', ')}`);
    }
    for (const fd of [...Object.values(fds), ...c.disposable]) { try { closeSync(fd); } catch { /* closed by an operation */ } }
    closedRing = ring;
  }
  await other.close();
  report.ms = Date.now() - t0;
  return report;
}

