// Runs the fuzzer in a process of its own (so stray writes to fds 0-2 land in
// /dev/null, and a crash or a hang is seen by the parent), and writes the
// report as JSON to the file named by the third argument.
//   node child.js <calls> <seed> <report.json>
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz, FuzzReport } from './engine';

async function main(): Promise<void> {
  const [calls, seed, out] = process.argv.slice(2);
  const dir = mkdtempSync(join(tmpdir(), 'uring-fuzz-'));
  process.chdir(dir); // relative paths in the fuzz stay inside it
  try {
    const report = await runFuzz({ calls: Number(calls), seed: Number(seed), dir });
    writeFileSync(out!, JSON.stringify(report, null, 2));
  } finally {
    process.chdir(tmpdir());
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the fuzzer child; returns its report, or throws with what went wrong. */
export function runFuzzChild(calls: number, seed: number, timeoutMs: number): FuzzReport {
  const out = join(tmpdir(), `uring-fuzz-${process.pid}-${seed}.json`);
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, String(calls), String(seed), out], {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: timeoutMs,
  });
  try {
    if (r.signal) throw new Error(`the fuzzer (seed ${seed}) died with ${r.signal}${r.signal === 'SIGTERM' ? ' (watchdog: it hung)' : ''}: ${r.stderr}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as FuzzReport & { crashed?: string };
    if (report.crashed) throw new Error(`the fuzzer (seed ${seed}) crashed: ${report.crashed}`);
    if (r.status !== 0) throw new Error(`the fuzzer (seed ${seed}) exited ${r.status}: ${r.stderr}`);
    return report;
  } finally {
    rmSync(out, { force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    writeFileSync(process.argv[4]!, JSON.stringify({ crashed: String((err as Error)?.stack ?? err) }));
    process.exitCode = 1;
  });
}
