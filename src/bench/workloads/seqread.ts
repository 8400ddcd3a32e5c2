// seqread and seqwrite: 64 KiB sequential FileHandle reads and writes (a few
// in flight at consecutive offsets), uring/fs against node:fs/promises, in GB/s.
import { open as nodeOpen } from 'node:fs/promises';
import { join } from 'node:path';
import * as ufs from '../../fs/index';
import { benchDir, dataFile } from '../files';
import { RoundResult, Variant, Workload } from '../harness';
import { concurrentLoop } from './randread';

export interface SeqConfig {
  size: number;
  bs: number;
  iodepth: number;
}

export const SEQ_DEFAULTS: SeqConfig = { size: 256 << 20, bs: 64 << 10, iodepth: 4 };

type Handle = { read(b: Buffer, o: number, l: number, p: number): Promise<unknown>; write(b: Buffer, o: number, l: number, p: number): Promise<unknown>; close(): Promise<void> };

/** `depth` loops taking consecutive blocks (wrapping at `size`) until the deadline. */
export function seqLoop(h: Handle, write: boolean, c: SeqConfig, ms: number): Promise<RoundResult> {
  const bufs = Array.from({ length: c.iodepth }, () => Buffer.alloc(c.bs, 0x5a));
  const blocks = Math.floor(c.size / c.bs);
  let next = 0;
  return concurrentLoop(c.iodepth, ms, (k) => {
    const pos = next * c.bs;
    next = next + 1 === blocks ? 0 : next + 1;
    return write ? h.write(bufs[k]!, 0, c.bs, pos) : h.read(bufs[k]!, 0, c.bs, pos);
  }, blocks, c.bs);
}

function variants(path: string, flags: string, write: boolean, c: SeqConfig): Variant[] {
  const opens: [string, () => Promise<Handle>][] = [
    ['uring-fs', async () => (await ufs.open(path, flags)) as unknown as Handle],
    ['node-fs-promises', async () => (await nodeOpen(path, flags)) as unknown as Handle],
  ];
  return opens.map(([name, openIt]) => {
    let h: Handle | undefined;
    return {
      name,
      async run(ms: number) {
        h ??= await openIt();
        return seqLoop(h, write, c, ms);
      },
      async teardown() { await h?.close(); h = undefined; },
    };
  });
}

export function seqreadWorkload(c: SeqConfig = SEQ_DEFAULTS): Workload {
  const path = dataFile(c.size);
  return { name: 'seqread', unit: `${c.bs >> 10} KiB sequential read, ${c.iodepth} in flight`, baseline: 'node-fs-promises', variants: variants(path, 'r', false, c) };
}

export function seqwriteWorkload(c: SeqConfig = SEQ_DEFAULTS): Workload {
  const path = join(benchDir(), 'seqwrite.bin');
  return { name: 'seqwrite', unit: `${c.bs >> 10} KiB sequential write, ${c.iodepth} in flight`, baseline: 'node-fs-promises', variants: variants(path, 'w', true, c) };
}
