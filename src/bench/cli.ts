// The command line of `npm run bench`: picks workloads by name and prints a
// table (or JSON lines with --json).
import { runWorkload, formatTable, Workload } from './harness';
import { randreadWorkload } from './workloads/randread';
import { randreadThreadsWorkload } from './workloads/randread-threads';
import { readfileWorkload } from './workloads/readfile';
import { filehandleRandreadWorkload } from './workloads/filehandle-randread';
import { seqreadWorkload } from './workloads/seqread';
import { seqwriteWorkload } from './workloads/seqwrite';
import { echoWorkload } from './workloads/echo';
import { httpWorkload } from './workloads/http';
import { copyfileWorkloads } from './workloads/copyfile';

/** A workload, or several measured one after the other under one name (copyfile: two file sizes). */
type Factory = () => Workload | Workload[] | Promise<Workload | Workload[]>;

/** Every workload by name. Names and variant names are a contract: keep them. */
export const WORKLOADS: Record<string, Factory> = {
  randread: () => randreadWorkload(),
  'randread-threads': () => randreadThreadsWorkload(),
  readfile: () => readfileWorkload(),
  'filehandle-randread': () => filehandleRandreadWorkload(),
  seqread: () => seqreadWorkload(),
  seqwrite: () => seqwriteWorkload(),
  echo: () => echoWorkload(),
  http: () => httpWorkload(),
  copyfile: () => copyfileWorkloads(),
};

export function usage(): string {
  return `usage: npm run bench -- <workload>... [--json] [--rounds N] [--round-ms MS]\nworkloads: ${Object.keys(WORKLOADS).join(', ')}`;
}

export async function main(argv: string[]): Promise<void> {
  const names: string[] = [];
  let json = false;
  let rounds = 5;
  let roundMs = 1000;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--rounds') rounds = Number(argv[++i]);
    else if (a === '--round-ms') roundMs = Number(argv[++i]);
    else if (a === '-h' || a === '--help') { console.log(usage()); return; }
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${usage()}`);
    else names.push(a);
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a positive integer');
  if (!Number.isFinite(roundMs) || roundMs < 10) throw new Error('--round-ms takes a number >= 10');
  if (names.length === 0) names.push('randread');
  for (const n of names) {
    const f = WORKLOADS[n];
    if (!f) throw new Error(`unknown workload ${n}\n${usage()}`);
    const made = await f();
    for (const w of Array.isArray(made) ? made : [made]) {
      const rows = await runWorkload(w, { rounds, roundMs, json });
      if (json) for (const r of rows) console.log(JSON.stringify(r));
      else console.log(formatTable(rows, w.unit) + '\n');
    }
  }
}
