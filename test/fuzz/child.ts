// Runs the fuzzer in a process of its own (so stray writes to fds 0-2 land in
// /dev/null, and a crash or a hang is seen by the parent), and writes the
// report as JSON to the file named by the third argument. Every batch, call
// and failure is also written, as it happens, to a trace file, so that when
// the child dies (SIGSEGV, glibc's abort, a hang) the parent can say which
// call it was running and what had already failed.
//   node child.js <calls> <seed> <report.json> <trace.txt> <options.json>
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz, FuzzOptions, FuzzReport } from './engine';
import { FAMILIES, Family } from './hostile';

/** Options the parent passes through: which hostile families, how long to wait. */
export type ChildOptions = Pick<FuzzOptions, 'families' | 'settleMs' | 'budgetMs' | 'failingBatches'>;

async function main(): Promise<void> {
  const [calls, seed, out, tracePath, options] = process.argv.slice(2);
  const dir = mkdtempSync(join(tmpdir(), 'uring-fuzz-'));
  const traceFd = openSync(tracePath!, 'w');
  process.chdir(dir); // relative paths in the fuzz stay inside it
  try {
    const report = await runFuzz({
      ...(JSON.parse(options!) as ChildOptions), calls: Number(calls), seed: Number(seed), dir,
      trace: (line) => { writeSync(traceFd, `${line}\n`); },
    });
    writeFileSync(out!, JSON.stringify(report, null, 2));
    // The run is over: nothing should keep the process alive now. An unref'd
    // timer fires only if something else (a ring's poll handle) still does.
    setTimeout(() => {
      const kind = 'process-kept-alive';
      report.kinds[kind] = (report.kinds[kind] ?? 0) + 1;
      report.failures.push(`[${kind}] the process did not exit 2 s after the run: a ring (a poll handle) still holds the event loop`);
      writeFileSync(out!, JSON.stringify(report, null, 2));
      process.exit(0);
    }, 2000).unref();
  } finally {
    closeSync(traceFd);
    process.chdir(tmpdir());
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Families named in URING_FUZZ_FAMILIES (comma-separated, or `none`), or all. */
export function familiesFromEnv(): Family[] | undefined {
  const v = process.env.URING_FUZZ_FAMILIES;
  if (!v) return undefined;
  const out = v.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
  for (const f of out) if (!(FAMILIES as readonly string[]).includes(f)) throw new Error(`URING_FUZZ_FAMILIES: unknown family ${f} (known: ${FAMILIES.join(', ')})`);
  return out as Family[];
}

/** Run options from the environment: URING_FUZZ_FAMILIES, and URING_FUZZ_FAILING_BATCHES (how many failing batches to go on for). */
export function optionsFromEnv(defaults: ChildOptions = {}): ChildOptions {
  const failing = Number(process.env.URING_FUZZ_FAILING_BATCHES);
  return { ...defaults, families: familiesFromEnv(), ...(failing > 0 ? { failingBatches: failing } : {}) };
}

/** The command that replays a run. */
export function replayCommand(calls: number, seed: number, options: ChildOptions, command = 'npm test -- fuzz'): string {
  const fam = options.families ? `URING_FUZZ_FAMILIES=${options.families.join(',') || 'none'} ` : '';
  return `${fam}URING_FUZZ_SEED=${seed} URING_FUZZ_CALLS=${calls} ${command}`;
}

/** What the trace says about a run that died: the calls it was running, and the failures before. */
function lastWords(tracePath: string): string {
  if (!existsSync(tracePath)) return 'no trace';
  const lines = readFileSync(tracePath, 'utf8').split('\n').filter(Boolean);
  const fails = lines.filter((l) => l.startsWith('FAIL ')).slice(0, 10);
  const calls = lines.filter((l) => !l.startsWith('FAIL ')).slice(-4);
  // Memory damage often kills the process later than the call that did it.
  const memory = lines.filter((l) => l.startsWith('#') && /lying|Proxy array|wild/.test(l)).slice(-3);
  return `last calls (the crash came during or after the last one):\n  ${calls.join('\n  ')}`
    + (memory.length ? `\nlast calls with lying views or Proxy arrays:\n  ${memory.join('\n  ')}` : '')
    + (fails.length ? `\nfailures before it:\n  ${fails.join('\n  ')}` : '');
}

/** Runs the fuzzer child; returns its report, or throws with what went wrong (a crash or hang names its seed and last calls). */
export function runFuzzChild(calls: number, seed: number, timeoutMs: number, options: ChildOptions = {},
  command = 'npm test -- fuzz'): FuzzReport {
  const base = join(tmpdir(), `uring-fuzz-${process.pid}-${seed}`);
  const out = `${base}.json`;
  const tracePath = `${base}.trace`;
  rmSync(out, { force: true });
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, String(calls), String(seed), out, tracePath, JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20,
  });
  try {
    const replay = `replay: ${replayCommand(calls, seed, options, command)}`;
    const stderr = (r.stderr ?? '').slice(-2000);
    if (r.signal) {
      throw new Error(`the fuzzer (seed ${seed}) died with ${r.signal}${r.signal === 'SIGTERM' ? ' (watchdog: it hung)' : ''}\n${lastWords(tracePath)}\nstderr: ${stderr}\n${replay}`);
    }
    if (!existsSync(out)) throw new Error(`the fuzzer (seed ${seed}) exited ${r.status} without a report\n${lastWords(tracePath)}\nstderr: ${stderr}\n${replay}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as FuzzReport & { crashed?: string };
    if (report.crashed) throw new Error(`the fuzzer (seed ${seed}) crashed: ${report.crashed}\n${lastWords(tracePath)}\n${replay}`);
    if (r.status !== 0) throw new Error(`the fuzzer (seed ${seed}) exited ${r.status}: ${stderr}\n${replay}`);
    return report;
  } finally {
    rmSync(out, { force: true });
    rmSync(tracePath, { force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    writeFileSync(process.argv[4]!, JSON.stringify({ crashed: String((err as Error)?.stack ?? err) }));
    process.exitCode = 1;
  });
}
