// copyfile: copyFile of 4 KiB files (16 in flight) and of a 64 MiB file (one
// at a time) through uring/fs and node:fs/promises, onto destinations that
// exist already (as a build or a cache would overwrite them).
import { mkdirSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { copyFile as nodeCopyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ufs from '../../fs/index';
import { benchDir, dataFile } from '../files';
import { RoundResult, Variant, Workload } from '../harness';

export interface CopyfileConfig {
  size: number;
  files: number;
  iodepth: number;
}

export const COPYFILE_SMALL: CopyfileConfig = { size: 4096, files: 1000, iodepth: 16 };
export const COPYFILE_LARGE: CopyfileConfig = { size: 64 << 20, files: 1, iodepth: 1 };

function sources(c: CopyfileConfig): string[] {
  if (c.files === 1) return [dataFile(c.size)];
  const dir = join(benchDir(), `copy-src-${c.files}x${c.size}`);
  const paths = Array.from({ length: c.files }, (_, k) => join(dir, `f${k}`));
  if (!existsSync(paths[paths.length - 1]!)) {
    mkdirSync(dir, { recursive: true });
    const data = Buffer.alloc(c.size, 0x63);
    for (const p of paths) writeFileSync(p, data);
  }
  for (const p of paths) readFileSync(p); // into the page cache
  return paths;
}

async function loop(src: string[], dst: string[], depth: number, ms: number, size: number,
  copy: (a: string, b: string) => Promise<void>): Promise<RoundResult> {
  let next = 0;
  let ops = 0;
  let stop = false;
  const start = performance.now();
  const deadline = start + ms;
  const worker = async (): Promise<void> => {
    while (!stop) {
      const k = next;
      next = next + 1 === src.length ? 0 : next + 1;
      await copy(src[k]!, dst[k]!);
      if ((++ops & 15) === 0 || size > 1 << 20) if (performance.now() > deadline) stop = true;
    }
  };
  const ws: Promise<void>[] = [];
  for (let k = 0; k < depth; k++) ws.push(worker());
  await Promise.all(ws);
  return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * size };
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
    return { name: v, run: (ms: number) => loop(src, dst, c.iodepth, ms, c.size, copy) };
  });
  const shown = c.size >= 1 << 20 ? `${c.size >> 20} MiB` : `${c.size >> 10} KiB`;
  return { name, unit: `copyFile of ${shown} files, ${c.iodepth} in flight`, baseline: 'node-fs-promises', variants };
}

/** The copyfile workloads: 4 KiB files, and a 64 MiB file. */
export function copyfileWorkloads(): Workload[] {
  return [workload('copyfile-4k', COPYFILE_SMALL), workload('copyfile-64m', COPYFILE_LARGE)];
}
