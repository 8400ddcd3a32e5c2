// The C reference variants: small C programs of ours (src/bench/c/) doing the
// same work on raw io_uring, compiled with the system's C compiler the first
// time a benchmark needs them. Their rows carry ops/s, CPU per op (user and
// system, from the program's own getrusage) and latency percentiles like
// every other variant, so every ratio to the physical anchor is measured in
// the same run. Without a compiler the variant is left out, with one line
// saying why.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './files';
import type { RoundResult, Variant } from './harness';

const SOURCES = join(__dirname, '..', '..', '..', 'src', 'bench', 'c');
const built = new Map<string, string | null>();

/** The compiled program `name` (src/bench/c/NAME.c), or undefined when it cannot be built here. */
export function cProgram(name: string): string | undefined {
  const known = built.get(name);
  if (known !== undefined) return known ?? undefined;
  const src = join(SOURCES, `${name}.c`);
  const out = join(benchDir(), `c-${name}`);
  let result: string | null = null;
  if (!existsSync(src)) {
    console.error(`c-reference: skipped (${src} is not in this installation)`);
  } else if (existsSync(out) && statSync(out).mtimeMs >= Math.max(statSync(src).mtimeMs, statSync(join(SOURCES, 'common.h')).mtimeMs)) {
    result = out;
  } else {
    const cc = process.env.CC ?? 'cc';
    const r = spawnSync(cc, ['-O2', '-Wall', '-o', out, src], { encoding: 'utf8' });
    if (r.status === 0) result = out;
    else console.error(`c-reference: skipped (no working C compiler: ${cc} ${r.error ? r.error.message : r.stderr.trim().split('\n')[0]}); set CC or install gcc`);
  }
  built.set(name, result);
  return result ?? undefined;
}

/** Runs the program for one round of about `ms` and reads its result and latency samples. */
export function runC(program: string, args: string[], ms: number, bytesPerOp = 0): RoundResult {
  const lat = join(benchDir(), `c-lat-${process.pid}.bin`);
  const r = spawnSync(program, [...args, String(Math.round(ms)), lat], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${program} failed: ${r.error?.message ?? r.stderr.trim()}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ops: number; seconds: number; user: number; sys: number };
  const raw = readFileSync(lat);
  rmSync(lat, { force: true });
  const ns = new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength >> 2);
  return {
    ops: o.ops, seconds: o.seconds, bytes: bytesPerOp ? o.ops * bytesPerOp : undefined,
    cpuSeconds: o.user + o.sys, userSeconds: o.user, sysSeconds: o.sys, latenciesNs: Float64Array.from(ns),
  };
}

/** A `c-reference` variant, or undefined without a compiler. */
export function cVariant(name: string, args: () => string[], bytesPerOp = 0): Variant | undefined {
  const program = cProgram(name);
  if (program === undefined) return undefined;
  return { name: 'c-reference', run: async (ms) => runC(program, args(), ms, bytesPerOp) };
}

/** CPU seconds (user, system) a process has used so far, from /proc/PID/stat. */
function processCpu(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const hz = 100; // USER_HZ, fixed at 100 on Linux
  return [Number(f[11]) / hz, Number(f[12]) / hz];
}

/**
 * A C server (the program prints its port, then serves until killed) whose
 * rounds are driven by `drive(port, ms)`; its CPU per round is read from
 * /proc, so its rows show the server's cost, like the JavaScript servers'.
 */
export function cServerVariant(name: string, drive: (port: number, ms: number) => Promise<RoundResult>): Variant | undefined {
  const program = cProgram(name);
  if (program === undefined) return undefined;
  let child: ChildProcess | undefined;
  let port: Promise<number> | undefined;
  const start = (): Promise<number> => {
    const c = child = spawn(program, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    return port = new Promise<number>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      c.once('exit', (code) => reject(new Error(`${program} exited with ${code}`)));
    });
  };
  return {
    name: 'c-reference',
    async run(ms) {
      const p = await (port ?? start());
      const [u0, s0] = processCpu(child!.pid!);
      const res = await drive(p, ms);
      const [u1, s1] = processCpu(child!.pid!);
      return { ...res, userSeconds: u1 - u0, sysSeconds: s1 - s0, cpuSeconds: u1 - u0 + s1 - s0 };
    },
    teardown() {
      child?.kill();
      child = undefined;
      port = undefined;
    },
  };
}
