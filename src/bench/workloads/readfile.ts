// readfile: readFile of 20,000 files of 4 KiB from the page cache, 32 in
// flight, through uring/fs, node:fs/promises and readFileSync.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { readFile as nodeReadFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as ufs from '../../fs/index';
import { benchDir } from '../files';
import { LatencySampler, RoundResult, Variant, Workload } from '../harness';
import { cVariant } from '../c-reference';

export interface ReadfileConfig {
  files: number;
  size: number;
  iodepth: number;
}

export const READFILE_DEFAULTS: ReadfileConfig = { files: 20000, size: 4096, iodepth: 32 };

/** The test files, created once and reused. */
function fileSet(c: ReadfileConfig): string[] {
  const dir = join(benchDir(), `files-${c.files}x${c.size}`);
  const paths = Array.from({ length: c.files }, (_, k) => join(dir, `f${k}`));
  if (!existsSync(paths[paths.length - 1]!)) {
    mkdirSync(dir, { recursive: true });
    const data = Buffer.alloc(c.size, 0x61);
    for (const p of paths) writeFileSync(p, data);
  }
  for (const p of paths) readFileSync(p); // into the page cache
  return paths;
}

/** `depth` loops reading files round-robin until the deadline; one read in four is timed. */
async function loop(paths: string[], depth: number, ms: number, op: (p: string) => Promise<unknown>, size: number): Promise<RoundResult> {
  const sampler = new LatencySampler(4);
  const read = sampler.wrap(op);
  let next = 0;
  let ops = 0;
  let stop = false;
  const start = performance.now();
  const deadline = start + ms;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const p = paths[next]!;
      next = next + 1 === paths.length ? 0 : next + 1;
      await read(p);
      if ((++ops & 255) === 0 && performance.now() > deadline) stop = true;
    }
  };
  const ws: Promise<void>[] = [];
  for (let k = 0; k < depth; k++) ws.push(worker());
  await Promise.all(ws);
  return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * size, latenciesNs: sampler.take() };
}

export function readfileWorkload(c: ReadfileConfig = READFILE_DEFAULTS): Workload {
  const paths = fileSet(c);
  const variants: Variant[] = [
    { name: 'uring-fs', run: (ms) => loop(paths, c.iodepth, ms, ufs.readFile, c.size) },
    { name: 'node-fs-promises', run: (ms) => loop(paths, c.iodepth, ms, nodeReadFile, c.size) },
    {
      name: 'node-readfilesync',
      async run(ms) {
        let ops = 0;
        let k = 0;
        const start = performance.now();
        const deadline = start + ms;
        const sampler = new LatencySampler(4);
        for (;;) {
          if ((ops & 3) === 3) {
            const t0 = performance.now();
            readFileSync(paths[k]!);
            sampler.record((performance.now() - t0) * 1e6);
          } else {
            readFileSync(paths[k]!);
          }
          k = k + 1 === paths.length ? 0 : k + 1;
          if ((++ops & 255) === 0 && performance.now() > deadline) break;
        }
        return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * c.size, latenciesNs: sampler.take() };
      },
    },
  ];
  // The physical anchor: the same files through open-direct/read/close-direct chains in C.
  const cref = cVariant('readfile', () => [dirname(paths[0]!), String(c.files), String(c.iodepth)], c.size);
  if (cref !== undefined) variants.push(cref);
  return { name: 'readfile', unit: `readFile of ${c.size} B files, ${c.iodepth} in flight`, baseline: 'node-fs-promises', secondary: 'node-readfilesync', variants };
}
