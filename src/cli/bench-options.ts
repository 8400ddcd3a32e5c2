// The options of `uring bench`, named like fio's.

/** A wrong command line; the command prints usage and exits with 2. */
export class UsageError extends Error {
  override get name(): string { return 'UsageError'; }
}

/** The access patterns `--rw` accepts. */
export const RW_MODES = ['randread', 'read', 'randwrite', 'write', 'readfile'] as const;
/** One access pattern. */
export type Rw = typeof RW_MODES[number];

/** One configuration to measure. */
export interface VariantSpec {
  engine: 'node' | 'uring';
  fixedFiles?: boolean;
  fixedBuffers?: boolean;
  sqpoll?: boolean;
}

/** A parsed `uring bench` command line. */
export interface BenchConfig {
  rw: Rw;
  /** Bytes per operation. */
  bs: number;
  /** Operations in flight per thread. */
  iodepth: number;
  /** Bytes of the file the operations spread over (readfile: of all the files). */
  size: number;
  /** Whether --size was given (otherwise an existing --file's size is used). */
  sizeGiven: boolean;
  /** Seconds measured per variant, split into `rounds` interleaved rounds. */
  runtime: number;
  rounds: number;
  file: string | undefined;
  threads: number;
  variants: VariantSpec[];
  json: boolean;
  chart: string | undefined;
}

/** Usage text of `uring bench`. */
export function benchUsage(): string {
  return `usage: uring bench [options]

With no options: 4 KiB random reads, 32 in flight, from a 128 MiB file generated
in a temporary directory, by node:fs/promises and by io_uring with a plain fd,
a registered file, and registered buffers. Prints a table; removes the file.

  --rw MODE          randread | read | randwrite | write | readfile   (randread)
  --bs SIZE          bytes per operation, e.g. 4k, 64k, 1m             (4k)
  --iodepth N        operations in flight per thread                    (32)
  --size SIZE        file size (readfile: total size of the files)      (128m)
  --runtime SECONDS  measured time per variant, e.g. 3, 500ms           (3)
  --rounds N         interleaved rounds the runtime is split into       (3)
  --file PATH        use this file instead of a generated one (write modes overwrite it)
  --engine LIST      node, uring, or both: node,uring                   (both)
  --fixed-files      uring: use a registered file
  --fixed-buffers    uring: use registered buffers (READ_FIXED / WRITE_FIXED)
  --sqpoll           uring: a kernel thread polls the submission queue
  --threads N        run each variant on N threads, each with its own ring/handle (1)
  --json             one JSON object per variant instead of the table
  --chart FILE.svg   also draw the comparison as a bar chart`;
}

/** Parses `4k`, `64KiB`, `1m`, `2g` or plain bytes. */
export function parseSize(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${name} takes a size such as 4k, 1m or 4096, not "${v}"`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k']!;
  const n = Math.floor(Number(m[1]) * mult);
  if (n < 1) throw new UsageError(`${name} must be at least 1 byte`);
  return n;
}

/** Parses `3`, `3s`, `500ms` into seconds. */
export function parseSeconds(v: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(v.trim());
  if (!m) throw new UsageError(`${name} takes seconds such as 3, 0.5 or 500ms, not "${v}"`);
  const s = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
  if (s <= 0) throw new UsageError(`${name} must be positive`);
  return s;
}

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} takes an integer from ${min} to ${max}, not "${v}"`);
  return n;
}

/** The default comparison for a mode: node, then uring plain, registered file, registered buffers. */
export function defaultVariants(rw: Rw): VariantSpec[] {
  if (rw === 'readfile') return [{ engine: 'node' }, { engine: 'uring' }];
  return [
    { engine: 'node' },
    { engine: 'uring' },
    { engine: 'uring', fixedFiles: true },
    { engine: 'uring', fixedFiles: true, fixedBuffers: true },
  ];
}

/** Parses the arguments after `bench`. Throws UsageError. */
export function parseBenchArgs(argv: readonly string[]): BenchConfig {
  const c: BenchConfig = {
    rw: 'randread', bs: 4096, iodepth: 32, size: 128 << 20, sizeGiven: false, runtime: 3, rounds: 3,
    file: undefined, threads: 1, variants: [], json: false, chart: undefined,
  };
  let engines: ('node' | 'uring')[] | undefined;
  const mods = { fixedFiles: false, fixedBuffers: false, sqpoll: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let val: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) { val = a.slice(eq + 1); a = a.slice(0, eq); }
    const next = (): string => {
      if (val !== undefined) return val;
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--rw': {
        const v = next();
        if (!(RW_MODES as readonly string[]).includes(v)) throw new UsageError(`--rw takes one of ${RW_MODES.join(', ')}, not "${v}"`);
        c.rw = v as Rw;
        break;
      }
      case '--bs': c.bs = parseSize(next(), '--bs'); break;
      case '--iodepth': c.iodepth = int(next(), '--iodepth', 1, 4096); break;
      case '--size': c.size = parseSize(next(), '--size'); c.sizeGiven = true; break;
      case '--runtime': c.runtime = parseSeconds(next(), '--runtime'); break;
      case '--rounds': c.rounds = int(next(), '--rounds', 1, 1000); break;
      case '--file': c.file = next(); break;
      case '--threads': c.threads = int(next(), '--threads', 1, 256); break;
      case '--engine': {
        engines = next().split(',').map((e) => {
          if (e !== 'node' && e !== 'uring') throw new UsageError(`--engine takes node, uring or node,uring, not "${e}"`);
          return e;
        });
        break;
      }
      case '--fixed-files': mods.fixedFiles = true; break;
      case '--fixed-buffers': mods.fixedBuffers = true; break;
      case '--sqpoll': mods.sqpoll = true; break;
      case '--json': c.json = true; break;
      case '--chart': c.chart = next(); break;
      default: throw new UsageError(`unknown option ${a}`);
    }
  }
  const modded = mods.fixedFiles || mods.fixedBuffers || mods.sqpoll;
  if (c.rw === 'readfile' && (mods.fixedFiles || mods.fixedBuffers)) {
    throw new UsageError('--fixed-files and --fixed-buffers do not apply to --rw readfile');
  }
  if (engines === undefined && !modded) {
    c.variants = defaultVariants(c.rw);
  } else {
    const list = engines ?? ['node', 'uring'];
    if (modded && !list.includes('uring')) throw new UsageError('--fixed-files, --fixed-buffers and --sqpoll apply to --engine uring');
    c.variants = list.map((engine) => (engine === 'node' ? { engine } : { engine, ...mods }));
  }
  if (c.bs > c.size) throw new UsageError('--bs is larger than --size');
  if (c.chart !== undefined && !c.chart.endsWith('.svg')) throw new UsageError('--chart takes a file name ending in .svg');
  return c;
}
