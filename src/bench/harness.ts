// Measuring code shared by `npm run bench` and `uring bench`. Variants of a
// workload run in interleaved rounds (A B C A B C ...) so that the machine's
// drift and noise fall on all of them alike; the report gives per-variant
// medians and each variant's ratio to the baseline measured in the same run.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface RoundResult {
  ops: number;
  /** Seconds of wall time. */
  seconds: number;
  /** Bytes moved, for throughput workloads. */
  bytes?: number;
  /**
   * CPU seconds (user + system) the work cost, when the variant measures it
   * itself (a C program, a server in another process); otherwise the
   * harness measures this process.
   */
  cpuSeconds?: number;
  userSeconds?: number;
  sysSeconds?: number;
  /** Per-operation latencies in nanoseconds, when sampled. */
  latenciesNs?: Float64Array;
  /** The 99th percentile latency in nanoseconds, when the load generator reports only that (autocannon). */
  p99Ns?: number;
  /** CPU seconds the load generator's process spent (to show it was not the bottleneck). */
  clientCpuSeconds?: number;
}

export interface Variant {
  name: string;
  /** Runs the workload for about `ms` milliseconds. */
  run(ms: number): Promise<RoundResult>;
  /** Called once after all rounds. */
  teardown?(): Promise<void> | void;
}

export interface Workload {
  name: string;
  /** What one op is, for the table ("4 KiB read"). */
  unit: string;
  /** The variant the others are compared with. */
  baseline: string;
  /** A second variant to compare with (for example `uring` when the baseline is Node's). */
  secondary?: string;
  variants: Variant[];
  teardown?(): Promise<void> | void;
}

export interface BenchOptions {
  rounds: number;
  roundMs: number;
  json: boolean;
  /** Called after each measured round (progress bars). */
  onRound?: (round: number, variant: string) => void;
}

export interface VariantSummary {
  workload: string;
  variant: string;
  ops_per_sec: number;
  mb_per_sec?: number;
  gb_per_sec?: number;
  ratio_vs_baseline: number;
  baseline: string;
  /** Ratio to the workload's second reference variant, when it has one. */
  ratio_vs_secondary?: number;
  secondary?: string;
  rounds: number;
  /** ops/s of each round, in order. */
  samples: number[];
  cpu_us_per_op?: number;
  /** The user-space and kernel parts of cpu_us_per_op. */
  cpu_user_us_per_op?: number;
  cpu_sys_us_per_op?: number;
  /** CPU the load generator spent per op, when it reports it. */
  client_cpu_us_per_op?: number;
  p50_us?: number;
  p99_us?: number;
  p999_us?: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

// A full collection between rounds, so that one variant's garbage (Node's
// promise-per-read variants make a lot) is not collected, and billed, in the
// next variant's round. The flag exposes gc() to a fresh context only.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Collects the heap and lets the GC's helper threads finish before a round is timed. */
async function quiesce(): Promise<void> {
  collect();
  await new Promise((r) => setTimeout(r, 20));
}

/** Runs every variant `rounds` times, interleaved, after one warm-up round each. */
export async function runWorkload(w: Workload, o: BenchOptions): Promise<VariantSummary[]> {
  const samples = new Map<string, number[]>();
  const bytes = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const user = new Map<string, number[]>();
  const sys = new Map<string, number[]>();
  const lat = new Map<string, Float64Array[]>();
  const p99 = new Map<string, number[]>();
  const clientCpu = new Map<string, number[]>();
  for (const v of w.variants) {
    samples.set(v.name, []);
    bytes.set(v.name, []);
    cpu.set(v.name, []);
    user.set(v.name, []);
    sys.set(v.name, []);
    lat.set(v.name, []);
    p99.set(v.name, []);
    clientCpu.set(v.name, []);
    await v.run(Math.min(300, o.roundMs)); // warm-up: JIT, page cache, ring setup
  }
  for (let r = 0; r < o.rounds; r++) {
    for (const v of w.variants) {
      await quiesce();
      const c0 = process.cpuUsage();
      const res = await v.run(o.roundMs);
      const c1 = process.cpuUsage(c0);
      samples.get(v.name)!.push(res.ops / res.seconds);
      if (res.bytes !== undefined) bytes.get(v.name)!.push(res.bytes / res.seconds);
      const ops = Math.max(1, res.ops);
      const u = res.userSeconds ?? c1.user / 1e6;
      const k = res.sysSeconds ?? c1.system / 1e6;
      cpu.get(v.name)!.push((res.cpuSeconds ?? u + k) / ops);
      user.get(v.name)!.push(u / ops);
      sys.get(v.name)!.push(k / ops);
      if (res.latenciesNs) lat.get(v.name)!.push(res.latenciesNs);
      if (res.p99Ns !== undefined) p99.get(v.name)!.push(res.p99Ns);
      if (res.clientCpuSeconds !== undefined) clientCpu.get(v.name)!.push(res.clientCpuSeconds / Math.max(1, res.ops));
      o.onRound?.(r, v.name);
    }
  }
  for (const v of w.variants) await v.teardown?.();
  await w.teardown?.();
  const base = median(samples.get(w.baseline) ?? [1]);
  const second = w.secondary !== undefined && samples.has(w.secondary) ? median(samples.get(w.secondary)!) : undefined;
  return w.variants.map((v) => {
    const s = samples.get(v.name)!;
    const ops = median(s);
    const out: VariantSummary = {
      workload: w.name,
      variant: v.name,
      ops_per_sec: Math.round(ops),
      ratio_vs_baseline: Number((ops / base).toFixed(3)),
      baseline: w.baseline,
      rounds: s.length,
      samples: s.map((x) => Math.round(x)),
      cpu_us_per_op: Number((median(cpu.get(v.name)!) * 1e6).toFixed(3)),
      cpu_user_us_per_op: Number((median(user.get(v.name)!) * 1e6).toFixed(3)),
      cpu_sys_us_per_op: Number((median(sys.get(v.name)!) * 1e6).toFixed(3)),
    };
    if (second !== undefined) {
      out.ratio_vs_secondary = Number((ops / second).toFixed(3));
      out.secondary = w.secondary;
    }
    const b = bytes.get(v.name)!;
    if (b.length) {
      out.mb_per_sec = Number((median(b) / 1e6).toFixed(1));
      out.gb_per_sec = Number((median(b) / 1e9).toFixed(3));
    }
    const cc = clientCpu.get(v.name)!;
    if (cc.length) out.client_cpu_us_per_op = Number((median(cc) * 1e6).toFixed(3));
    const q = p99.get(v.name)!;
    if (q.length) out.p99_us = Number((median(q) / 1e3).toFixed(2));
    const l = lat.get(v.name)!;
    if (l.length) {
      const all = new Float64Array(l.reduce((n, a) => n + a.length, 0));
      let at = 0;
      for (const a of l) { all.set(a, at); at += a.length; }
      all.sort();
      out.p50_us = Number((quantile(all, 0.5) / 1e3).toFixed(2));
      out.p99_us = Number((quantile(all, 0.99) / 1e3).toFixed(2));
      out.p999_us = Number((quantile(all, 0.999) / 1e3).toFixed(2));
    }
    return out;
  });
}

/** A plain-text table of summaries, with ratios against the baseline. */
export function formatTable(rows: VariantSummary[], unit: string): string {
  if (rows.length === 0) return '';
  const secondary = rows[0]!.secondary;
  const head = ['variant', 'ops/s (median)', 'vs ' + rows[0]!.baseline, secondary ? `vs ${secondary}` : '',
    'MB/s', 'CPU us/op', 'user', 'sys', 'client CPU us/op', 'p50 us', 'p99 us', 'p99.9 us'];
  const body = rows.map((r) => [
    r.variant,
    r.ops_per_sec.toLocaleString('en-US'),
    `${r.ratio_vs_baseline.toFixed(2)}x`,
    r.ratio_vs_secondary === undefined ? '' : `${r.ratio_vs_secondary.toFixed(3)}x`,
    r.mb_per_sec === undefined ? '' : r.mb_per_sec.toFixed(0),
    r.cpu_us_per_op === undefined ? '' : r.cpu_us_per_op.toFixed(2),
    r.cpu_user_us_per_op === undefined ? '' : r.cpu_user_us_per_op.toFixed(2),
    r.cpu_sys_us_per_op === undefined ? '' : r.cpu_sys_us_per_op.toFixed(2),
    r.client_cpu_us_per_op === undefined ? '' : r.client_cpu_us_per_op.toFixed(2),
    r.p50_us === undefined ? '' : r.p50_us.toFixed(1),
    r.p99_us === undefined ? '' : r.p99_us.toFixed(1),
    r.p999_us === undefined ? '' : r.p999_us.toFixed(1),
  ]);
  const keep = head.map((_, c) => c < 3 || body.some((row) => row[c] !== ''));
  const cols = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]): string => cells
    .map((x, c) => (c === 0 ? x.padEnd(cols[c]!) : x.padStart(cols[c]!)))
    .filter((_, c) => keep[c]).join('  ');
  const out = [`${rows[0]!.workload} (${unit}, ${rows[0]!.rounds} interleaved rounds)`, line(head), ...body.map(line)];
  return out.join('\n');
}

/**
 * Records the latency of one operation in every `every` (default 4) into a
 * preallocated array, so that sampling costs the same small amount in every
 * variant and allocates nothing while measuring. `wrap()` times an async
 * operation; `take()` returns the samples of the round and starts a new one.
 */
/** The loops time one operation in this many (the percentiles need no more). */
export const SAMPLE_EVERY = 16;

export class LatencySampler {
  private buf: Float64Array;
  private n = 0;
  private tick = 0;
  private readonly every: number;
  constructor(every = 4, capacity = 1 << 18) {
    this.every = Math.max(1, every | 0);
    this.buf = new Float64Array(capacity);
  }
  /** Records one latency in nanoseconds (dropped once the round's array is full). */
  record(ns: number): void {
    if (this.n < this.buf.length) this.buf[this.n++] = ns;
  }
  /**
   * Wraps `op` (of at most two arguments) so that one call in `every` is
   * timed from call to settlement. The untimed calls pass straight through
   * with no allocation, so the sampling costs every variant the same little.
   */
  wrap<A, R, B = undefined>(op: (a: A, b: B) => Promise<R>): (a: A, b?: B) => Promise<R> {
    const record = (t0: number) => (v: R): R => {
      this.record((performance.now() - t0) * 1e6);
      return v;
    };
    return (a: A, b?: B) => {
      if (++this.tick < this.every) return op(a, b as B);
      this.tick = 0;
      return op(a, b as B).then(record(performance.now()));
    };
  }
  /** The samples recorded since the last take(). */
  take(): Float64Array {
    const out = this.buf.slice(0, this.n);
    this.n = 0;
    return out;
  }
}

/** A tiny fast PRNG so that random offsets cost the same in every variant. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/**
 * `depth` loops calling `op(k)` for k = 0, 1, ... `count - 1`, round-robin,
 * until about `ms` have passed (the clock is read every `every` ops, a power
 * of two).
 */
export async function roundRobin(count: number, depth: number, ms: number, bytesPerOp: number, every: number,
  op: (k: number) => Promise<unknown>): Promise<RoundResult> {
  // One op in SAMPLE_EVERY is timed, as in every other loop; operations of
  // a megabyte or more are few and long, and each is timed.
  const sampler = new LatencySampler(bytesPerOp >= 1 << 20 ? 1 : SAMPLE_EVERY);
  const timed = sampler.wrap(op);
  let next = 0;
  let ops = 0;
  let stop = false;
  const start = performance.now();
  const deadline = start + ms;
  const mask = every - 1;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const k = next;
      next = next + 1 === count ? 0 : next + 1;
      await timed(k);
      if ((++ops & mask) === 0 && performance.now() > deadline) stop = true;
    }
  };
  const ws: Promise<void>[] = [];
  for (let k = 0; k < depth; k++) ws.push(worker());
  await Promise.all(ws);
  return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * bytesPerOp, latenciesNs: sampler.take() };
}
