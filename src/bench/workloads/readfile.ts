// readfile: readFile of 20,000 files of 4 KiB from the page cache, 32 in
// flight, through uring/fs, node:fs/promises and readFileSync.
import { readFileSync } from 'node:fs';
import { readFile as nodeReadFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as ufs from '../../fs/index';
import { fileSet } from '../files';
import { LatencySampler, SAMPLE_EVERY, RoundResult, Variant, Workload, roundRobin } from '../harness';
import { cVariant } from '../c-reference';

export interface ReadfileConfig {
  files: number;
  size: number;
  iodepth: number;
}

export const READFILE_DEFAULTS: ReadfileConfig = { files: 20000, size: 4096, iodepth: 32 };

/** `depth` loops reading files round-robin until the deadline; one read in four is timed. */
function loop(paths: string[], depth: number, ms: number, read: (p: string) => Promise<unknown>, size: number): Promise<RoundResult> {
  return roundRobin(paths.length, depth, ms, size, 256, (k) => read(paths[k]!));
}

export function readfileWorkload(c: ReadfileConfig = READFILE_DEFAULTS): Workload {
  const paths = fileSet(`files-${c.files}x${c.size}`, c.files, c.size, 0x61);
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
        const sampler = new LatencySampler(SAMPLE_EVERY);
        for (;;) {
          if ((ops & (SAMPLE_EVERY - 1)) === SAMPLE_EVERY - 1) {
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
