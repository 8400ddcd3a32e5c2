// The soak: many operations of mixed kinds kept in flight on one ring, with
// forced collections, while RSS, open fds and threads are sampled. Checks that
// data read back equals data written, that every promise settles exactly
// once with the expected outcome, and that resources stay flat after warm-up.
//   node --expose-gc soak.js [OPS] [REPORT.json]
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring } from '../../src/index';
import { native } from '../../src/native';

/** What an operation in the mix can use. */
export interface SoakCtx {
  ring: Ring;
  /** A regular file of BLOCKS blocks of BLOCK bytes. */
  file: number;
  /** The read end of a pipe nothing is ever written to. */
  idle: number;
  /** Takes a block no other in-flight operation uses; give it back with `free`. */
  block(): number;
  free(b: number): void;
  /** Takes a registered-file slot no other in-flight operation uses; give it back with `freeSlot`. */
  slot(): number;
  freeSlot(s: number): void;
  seq: number;
}

/** One kind of operation: `run` resolves when it is done, or throws what it found wrong. */
export interface MixEntry {
  name: string;
  weight: number;
  run(c: SoakCtx): Promise<void>;
}

const BLOCK = 512;
const BLOCKS = 1024;

function pattern(seq: number): Buffer {
  const b = Buffer.allocUnsafe(BLOCK);
  b.fill(seq & 0xff);
  b.writeUInt32LE(seq >>> 0, 0);
  return b;
}

function expectCode(code: string) {
  return (err: unknown): void => {
    if ((err as { code?: unknown })?.code !== code) throw new Error(`expected ${code}, got ${(err as Error)?.stack ?? String(err)}`);
  };
}

/** The operations of the soak, by weight. */
export const MIX: MixEntry[] = [
  { name: 'nop', weight: 25, run: async (c) => { if (await c.ring.nop() !== 0) throw new Error('nop did not give 0'); } },
  {
    name: 'write+read', weight: 30, run: async (c) => {
      const b = c.block();
      try {
        const data = pattern(c.seq++);
        if (await c.ring.write(c.file, data, b * BLOCK) !== BLOCK) throw new Error('short write');
        const back = Buffer.alloc(BLOCK);
        if (await c.ring.read(c.file, back, b * BLOCK) !== BLOCK) throw new Error('short read');
        if (!back.equals(data)) throw new Error(`block ${b}: data read back differs from data written`);
      } finally {
        c.free(b);
      }
    },
  },
  {
    name: 'read with timeout (completes)', weight: 15, run: async (c) => {
      if (await c.ring.read(c.file, Buffer.alloc(BLOCK), 0, { timeout: 10_000 }) !== BLOCK) throw new Error('short read');
    },
  },
  {
    name: 'abort', weight: 15, run: (c) => {
      const ac = new AbortController();
      const p = c.ring.read(c.idle, Buffer.alloc(8), -1, { signal: ac.signal });
      setImmediate(() => ac.abort());
      return p.then(() => { throw new Error('an aborted read resolved'); }, expectCode('ABORT_ERR'));
    },
  },
  {
    name: 'timeout', weight: 15, run: (c) => c.ring.read(c.idle, Buffer.alloc(8), -1, { timeout: 1 })
      .then(() => { throw new Error('a timed-out read resolved'); }, expectCode('ETIMEDOUT')),
  },
  {
    // A slot is filled with the file, read through as a registered file,
    // and emptied again: table updates interleaved with every other kind.
    name: 'files-update+fixed read', weight: 10, run: async (c) => {
      const s = c.slot();
      const b = c.block();
      try {
        const u = c.ring.files.update(s, [c.file]);
        if (u.applied !== 1) throw new Error(`update of slot ${s} applied ${u.applied}: ${String(u.error)}`);
        const data = pattern(c.seq++);
        if (await c.ring.write(c.file, data, b * BLOCK) !== BLOCK) throw new Error('short write');
        const back = Buffer.alloc(BLOCK);
        if (await c.ring.read(c.ring.files.get(s), back, b * BLOCK) !== BLOCK) throw new Error('short fixed read');
        if (!back.equals(data)) throw new Error(`slot ${s}, block ${b}: data read back differs from data written`);
        if (c.ring.files.update(s, [-1]).applied !== 1) throw new Error(`slot ${s} could not be emptied`);
      } finally {
        c.free(b);
        c.freeSlot(s);
      }
    },
  },
];

/** Registered-file slots: one per operation in flight at most. */
const SLOTS = 128;

export interface Sample { ops: number; rss: number; fds: number; threads: number }
export interface SoakReport {
  ops: number;
  ms: number;
  opsPerSec: number;
  byKind: Record<string, number>;
  baseline: Sample | undefined;
  samples: Sample[];
  failures: string[];
}

function sample(ops: number): Sample {
  const status = readFileSync('/proc/self/status', 'utf8');
  return {
    ops,
    rss: process.memoryUsage.rss(),
    fds: readdirSync('/proc/self/fd').length,
    threads: Number(/Threads:\s*(\d+)/.exec(status)![1]),
  };
}

/** Runs `ops` operations with `depth` in flight. */
export async function runSoak(ops: number, depth = 64): Promise<SoakReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'uring-soak-'));
  const path = join(dir, 'data');
  writeFileSync(path, Buffer.alloc(BLOCK * BLOCKS));
  const n = native();
  const [idle, idleW] = n.pipe() as [number, number];
  const ring = new Ring({ entries: 128 });
  const freeBlocks = Array.from({ length: BLOCKS }, (_, i) => i);
  ring.files.registerSparse(SLOTS);
  const freeSlots = Array.from({ length: SLOTS }, (_, i) => i);
  const c: SoakCtx = {
    ring, file: openSync(path, 'r+'), idle, seq: 1,
    block: () => freeBlocks.splice(Math.floor(Math.random() * freeBlocks.length), 1)[0]!,
    free: (b) => { freeBlocks.push(b); },
    slot: () => freeSlots.pop()!,
    freeSlot: (s) => { freeSlots.push(s); },
  };
  const total = MIX.reduce((s, m) => s + m.weight, 0);
  const report: SoakReport = { ops, ms: 0, opsPerSec: 0, byKind: {}, baseline: undefined, samples: [], failures: [] };
  const fail = (m: string): void => { if (report.failures.length < 20) report.failures.push(m); };
  const warmup = Math.min(Math.max(20_000, Math.floor(ops / 10)), Math.floor(ops / 2));
  const every = Math.max(1000, Math.floor(ops / 50));
  let started = 0;
  let settled = 0;
  const t0 = Date.now();

  await new Promise<void>((resolve) => {
    const launch = (): void => {
      while (started < ops && started - settled < depth) {
        let r = Math.random() * total;
        const m = MIX.find((x) => (r -= x.weight) < 0) ?? MIX[0]!;
        report.byKind[m.name] = (report.byKind[m.name] ?? 0) + 1;
        started++;
        let count = 0;
        const done = (err?: unknown): void => {
          if (++count !== 1) { fail(`${m.name} settled ${count} times`); return; }
          settled++;
          if (err !== undefined) fail(`${m.name}: ${(err as Error)?.stack ?? String(err)}`);
          if (settled % every === 0) {
            gc();
            const s = sample(settled);
            if (settled >= warmup && report.baseline === undefined) report.baseline = s;
            else report.samples.push(s);
          }
          if (settled === ops) resolve();
          else if (started < ops) setImmediate(launch);
        };
        m.run(c).then(() => done(), done);
      }
    };
    launch();
  });
  report.ms = Date.now() - t0;
  report.opsPerSec = Math.round(ops / (report.ms / 1000));
  if (ring.pending !== 0) fail(`${ring.pending} requests still pending at the end`);
  // Every slot was emptied again, in the library's view and in the kernel's.
  if (ring.files.occupiedCount !== 0) fail(`${ring.files.occupiedCount} registered slots still occupied`);
  const listed = readFileSync(`/proc/self/fdinfo/${ring.fd}`, 'utf8').split('\n').filter((l) => /^\s*\d+:\s/.test(l));
  if (listed.length !== 0) fail(`fdinfo lists ${listed.length} occupied slots: ${listed.slice(0, 3).join('; ')}`);
  // A ring created and closed now and then must not leak either.
  for (let k = 0; k < 50; k++) { const r = new Ring({ entries: 4 }); await r.nop(); await r.close(); }
  await ring.close();
  closeSync(c.file);
  n.closeFd(idle); n.closeFd(idleW);
  rmSync(dir, { recursive: true, force: true });
  return report;
}

/** Checks the samples after warm-up against the baseline; returns what grew too much. */
export function leaks(report: SoakReport): string[] {
  const b = report.baseline;
  if (!b) return [];
  const out: string[] = [];
  for (const s of report.samples.filter((x) => x.ops > b.ops)) {
    if (s.rss > b.rss * 1.5 + 64 * 2 ** 20) out.push(`RSS grew from ${b.rss} to ${s.rss} bytes by op ${s.ops}`);
    if (s.fds > b.fds + 4) out.push(`open fds grew from ${b.fds} to ${s.fds} by op ${s.ops}`);
    if (s.threads > b.threads + 8) out.push(`threads grew from ${b.threads} to ${s.threads} by op ${s.ops}`);
  }
  return out;
}

if (require.main === module) {
  const ops = Number(process.argv[2]) || 10_000_000;
  const out = process.argv[3];
  runSoak(ops).then((report) => {
    const text = JSON.stringify({ ...report, leaks: leaks(report) });
    if (out) writeFileSync(out, text); else process.stdout.write(`${text}\n`);
  }, (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exitCode = 1;
  });
}
