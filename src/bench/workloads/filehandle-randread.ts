// filehandle-randread: 4 KiB random reads from a 1 GiB file, 32 in flight,
// through FileHandle.read of uring/fs and of node:fs/promises.
import { open as nodeOpen, FileHandle as NodeFileHandle } from 'node:fs/promises';
import * as ufs from '../../fs/index';
import { dataFile } from '../files';
import { Variant, Workload } from '../harness';
import { concurrentLoop, RANDREAD_DEFAULTS, RandreadConfig } from './randread';

export function filehandleRandreadWorkload(c: RandreadConfig = RANDREAD_DEFAULTS): Workload {
  const path = c.file ?? dataFile(c.size);
  const blocks = Math.floor(c.size / c.bs);
  const bufs = Array.from({ length: c.iodepth }, () => Buffer.alloc(c.bs));
  let uh: ufs.FileHandle | undefined;
  let nh: NodeFileHandle | undefined;
  const variants: Variant[] = [
    {
      name: 'uring-fs',
      async run(ms) {
        uh ??= await ufs.open(path, 'r');
        const h = uh;
        return concurrentLoop(c.iodepth, ms, (k, pos) => h.read(bufs[k]!, 0, c.bs, pos), blocks, c.bs);
      },
      async teardown() { await uh?.close(); uh = undefined; },
    },
    {
      name: 'node-fs-promises',
      async run(ms) {
        nh ??= await nodeOpen(path, 'r');
        const h = nh;
        return concurrentLoop(c.iodepth, ms, (k, pos) => h.read(bufs[k]!, 0, c.bs, pos), blocks, c.bs);
      },
      async teardown() { await nh?.close(); nh = undefined; },
    },
  ];
  return { name: 'filehandle-randread', unit: `${c.bs} B random FileHandle.read, ${c.iodepth} in flight`, baseline: 'node-fs-promises', variants };
}
