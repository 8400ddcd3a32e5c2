// copyfile: copyFile of 4 KiB files (16 in flight) and of a 64 MiB file (one
// at a time) through uring/fs and node:fs/promises, onto destinations that
// exist already (as a build or a cache would overwrite them).
import { mkdirSync } from 'node:fs';
import { copyFile as nodeCopyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ufs from '../../fs/index';
import { benchDir, dataFile, fileSet } from '../files';
import { Variant, Workload, roundRobin } from '../harness';

export interface CopyfileConfig {
  size: number;
  files: number;
  iodepth: number;
}

export const COPYFILE_SMALL: CopyfileConfig = { size: 4096, files: 1000, iodepth: 16 };
export const COPYFILE_LARGE: CopyfileConfig = { size: 64 << 20, files: 1, iodepth: 1 };

function sources(c: CopyfileConfig): string[] {
  return c.files === 1 ? [dataFile(c.size)] : fileSet(`copy-src-${c.files}x${c.size}`, c.files, c.size, 0x63);
}

function workload(name: string, c: CopyfileConfig): Workload {
  const src = sources(c);
  const variants: Variant[] = [
    { name: 'uring-fs', copy: ufs.copyFile as (a: string, b: string) => Promise<void> },
    { name: 'node-fs-promises', copy: nodeCopyFile as (a: string, b: string) => Promise<void> },
  ].map(({ name: v, copy }) => {
    const dir = join(benchDir(), `copy-dst-${v}-${c.size}`);
    mkdirSync(dir, { recursive: true });
    const dst = src.map((_, k) => join(dir, `d${k}`));
    return { name: v, run: (ms: number) => roundRobin(src.length, c.iodepth, ms, c.size, c.size > 1 << 20 ? 1 : 16, (k) => copy(src[k]!, dst[k]!)) };
  });
  const shown = c.size >= 1 << 20 ? `${c.size >> 20} MiB` : `${c.size >> 10} KiB`;
  return { name, unit: `copyFile of ${shown} files, ${c.iodepth} in flight`, baseline: 'node-fs-promises', variants };
}

/** The copyfile workloads: 4 KiB files, and a 64 MiB file. */
export function copyfileWorkloads(): Workload[] {
  return [workload('copyfile-4k', COPYFILE_SMALL), workload('copyfile-64m', COPYFILE_LARGE)];
}
