// `uring bench`: prepares the data, runs the variants through the shared
// benchmark harness, prints a table or JSON, draws the chart, cleans up.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { runWorkload, formatTable, Workload, VariantSummary } from '../bench/harness';
import { fillFile } from '../bench/files';
import { parseBenchArgs, BenchConfig, UsageError, benchUsage } from './bench-options';
import { makeVariant, Job } from './bench-variants';
import { threadedVariant } from './bench-threads';
import { startProgress } from './progress';
import { renderChart } from './chart';

export { UsageError, benchUsage };

/** Readfile mode reads at most this many distinct files. */
const MAX_FILES = 1024;

/** `4096` -> "4 KiB". */
export function formatBytes(n: number): string {
  for (const [u, m] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= m && n % (m / 16) === 0) return `${Number((n / m).toFixed(2))} ${u}`;
  }
  return `${n} B`;
}

function describe(c: BenchConfig): string {
  const what = {
    randread: 'random read', read: 'sequential read', randwrite: 'random write',
    write: 'sequential write', readfile: 'whole-file read',
  }[c.rw];
  const threads = c.threads > 1 ? ` on ${c.threads} threads` : '';
  return `${formatBytes(c.bs)} ${what}, ${c.iodepth} in flight${threads}`;
}

/** Creates the data the job needs; returns it and the temporary directory to remove (if any). */
function prepare(c: BenchConfig): { job: Job; tmp: string | undefined } {
  const job: Job = { rw: c.rw, bs: c.bs, iodepth: c.iodepth, size: c.size, path: '', files: [] };
  if (c.file !== undefined) {
    let size: number;
    try { size = statSync(c.file).size; } catch (err) { throw new UsageError(`--file: ${(err as Error).message}`); }
    if (size === 0) throw new UsageError(`--file ${c.file} is empty`);
    if (c.rw === 'readfile') {
      job.files = [c.file];
      job.bs = size;
    } else {
      if (!c.sizeGiven) job.size = size;
      if (job.size < c.bs) throw new UsageError(`--file ${c.file} is smaller than one block (--bs)`);
      job.path = c.file;
    }
    return { job, tmp: undefined };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'uring-bench-'));
  if (c.rw === 'readfile') {
    const count = Math.max(1, Math.min(MAX_FILES, Math.floor(c.size / c.bs)));
    const data = Buffer.alloc(c.bs, 0x62);
    for (let k = 0; k < count; k++) {
      const p = join(tmp, `f${k}`);
      writeFileSync(p, data);
      job.files.push(p);
    }
  } else {
    job.path = join(tmp, 'data.bin');
    fillFile(job.path, c.size);
  }
  return { job, tmp };
}

/** The table, JSON lines, or both written by one run. */
export interface BenchOutput {
  rows: VariantSummary[];
  text: string;
}

/** Runs a parsed configuration and returns the summaries and the printed text. */
export async function bench(c: BenchConfig): Promise<BenchOutput> {
  const { job, tmp } = prepare(c);
  const cleanup = (): void => { if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true }); };
  const onSignal = (): void => { cleanup(); process.exit(130); };
  process.once('SIGINT', onSignal);
  const roundMs = Math.max(10, (c.runtime * 1000) / c.rounds);
  const variants = c.variants.map((s) => (c.threads > 1 ? threadedVariant(s, job, c.threads) : makeVariant(s, job)));
  const w: Workload = {
    name: c.rw,
    unit: describe({ ...c, bs: job.bs }),
    baseline: variants[0]!.name,
    variants,
  };
  const expected = variants.length * (Math.min(300, roundMs) + c.rounds * roundMs);
  const progress = startProgress(expected);
  progress.label(`${variants[0]!.name}: warming up`);
  let rows: VariantSummary[];
  try {
    rows = await runWorkload(w, {
      rounds: c.rounds,
      roundMs,
      json: c.json,
      onRound: (r, name) => {
        const i = variants.findIndex((v) => v.name === name);
        const nextName = variants[(i + 1) % variants.length]!.name;
        const round = i + 1 === variants.length ? r + 2 : r + 1;
        progress.label(`round ${Math.min(round, c.rounds)}/${c.rounds}: ${nextName}`);
      },
    });
  } finally {
    progress.done();
    for (const v of variants) await v.teardown?.();
    process.off('SIGINT', onSignal);
    cleanup();
  }
  const config = { rw: c.rw, bs: job.bs, iodepth: c.iodepth, size: job.size, threads: c.threads };
  const text = c.json
    ? rows.map((r) => JSON.stringify({ ...r, ...config })).join('\n')
    : formatTable(rows, w.unit);
  if (c.chart !== undefined) {
    const subtitle = `${w.unit} · Linux ${release()} · Node ${process.version} · ratios against ${w.baseline}`;
    writeFileSync(c.chart, renderChart(rows, { title: `uring bench: ${c.rw}`, subtitle }));
  }
  return { rows, text };
}

/** `uring bench ...`: parses, runs, prints. Returns the exit code. */
export async function runBench(argv: readonly string[]): Promise<number> {
  const c = parseBenchArgs(argv);
  const { text } = await bench(c);
  console.log(text);
  if (c.chart !== undefined && !c.json) console.log(`\nchart written to ${c.chart}`);
  return 0;
}
