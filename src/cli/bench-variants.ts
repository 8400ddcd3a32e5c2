// One benchmark variant of `uring bench` on one thread: an engine (node or
// uring, with registered files, buffers or SQPOLL) doing one access pattern.
// Every variant runs the same loop with the same latency sampling.
import { openSync, closeSync } from 'node:fs';
import { open as openPromise, readFile, FileHandle } from 'node:fs/promises';
import { Ring } from '../ring';
import { alignedBuffer } from '../aligned';
import { O_RDONLY } from '../constants';
import type { FileRef } from '../files';
import { LatencySampler, Variant } from '../bench/harness';
import { concurrentLoop } from '../bench/workloads/randread';
import type { Rw, VariantSpec } from './bench-options';

/** What every variant of one run works on. */
export interface Job {
  rw: Rw;
  bs: number;
  iodepth: number;
  /** Bytes the offsets spread over. */
  size: number;
  /** The data file (read and write modes). */
  path: string;
  /** The small files read whole (readfile). */
  files: string[];
}

/** The name a variant has in tables, JSON and charts. */
export function variantName(s: VariantSpec): string {
  if (s.engine === 'node') return 'node:fs/promises';
  const parts: string[] = [];
  if (s.fixedFiles) parts.push('fixed-file');
  if (s.fixedBuffers) parts.push('fixed-buffers');
  if (s.sqpoll) parts.push('sqpoll');
  return parts.length ? `uring ${parts.join('+')}` : 'uring';
}

type OpFn = (k: number, pos: number) => Promise<unknown>;
interface Engine { op: OpFn; close(): Promise<void> | void }

function isWrite(rw: Rw): boolean {
  return rw === 'write' || rw === 'randwrite';
}

/** Sequential modes ignore the random position and take the next block. */
function positions(job: Job): (pos: number) => number {
  if (job.rw !== 'read' && job.rw !== 'write') return (pos) => pos;
  const blocks = Math.max(1, Math.floor(job.size / job.bs));
  let next = 0;
  return () => {
    const p = next * job.bs;
    next = next + 1 === blocks ? 0 : next + 1;
    return p;
  };
}

function buffers(job: Job): Buffer[] {
  // One page-aligned allocation sliced per in-flight operation (as a C
  // program would use); non-zero data for writes.
  const all = alignedBuffer(job.bs * job.iodepth).fill(0x61);
  return Array.from({ length: job.iodepth }, (_, k) => all.subarray(k * job.bs, (k + 1) * job.bs));
}

async function nodeEngine(job: Job): Promise<Engine> {
  if (job.rw === 'readfile') {
    let n = 0;
    return { op: () => readFile(job.files[n++ % job.files.length]!), close() { /* nothing */ } };
  }
  const fh: FileHandle = await openPromise(job.path, isWrite(job.rw) ? 'r+' : 'r');
  const bufs = buffers(job);
  const at = positions(job);
  const op: OpFn = isWrite(job.rw)
    ? (k, pos) => fh.write(bufs[k]!, 0, job.bs, at(pos))
    : (k, pos) => fh.read(bufs[k]!, 0, job.bs, at(pos));
  return { op, close: () => fh.close() };
}

function uringEngine(job: Job, s: VariantSpec): Engine {
  const ring = new Ring({ entries: Math.max(64, job.iodepth * 2), ...(s.sqpoll ? { sqpoll: { idleMs: 100 } } : {}) });
  const bufs = buffers(job);
  if (job.rw === 'readfile') {
    let n = 0;
    const big = bufs.map(() => Buffer.alloc(Math.max(job.bs, 64 * 1024)));
    const op: OpFn = async (k) => {
      const fd = await ring.openat(job.files[n++ % job.files.length]!, O_RDONLY);
      try {
        let total = 0;
        for (;;) {
          const got = await ring.read(fd, big[k]!, total);
          total += got;
          if (got < big[k]!.length) return total;
        }
      } finally {
        await ring.closeFd(fd);
      }
    };
    return { op, close: () => ring.close() };
  }
  const fd = openSync(job.path, isWrite(job.rw) ? 'r+' : 'r');
  let file: FileRef = fd;
  if (s.fixedFiles) file = ring.files.register([fd])[0]!;
  const at = positions(job);
  let op: OpFn;
  if (s.fixedBuffers) {
    ring.buffers.register({ count: bufs.length, size: job.bs });
    const fixed = bufs.map(() => ring.buffers.acquire()!);
    op = isWrite(job.rw) ? (k, pos) => ring.writeFixed(file, fixed[k]!, at(pos)) : (k, pos) => ring.readFixed(file, fixed[k]!, at(pos));
  } else {
    op = isWrite(job.rw) ? (k, pos) => ring.write(file, bufs[k]!, at(pos)) : (k, pos) => ring.read(file, bufs[k]!, at(pos));
  }
  return {
    op,
    async close() {
      await ring.close();
      closeSync(fd);
    },
  };
}

/**
 * A variant running `spec` on this thread. The engine is set up on the first
 * run (the harness's warm-up round) and torn down by `teardown()`.
 */
export function makeVariant(spec: VariantSpec, job: Job): Variant {
  const sampler = new LatencySampler();
  let engine: Engine | undefined;
  let op: OpFn | undefined;
  const blocks = Math.max(1, Math.floor(job.size / job.bs));
  return {
    name: variantName(spec),
    async run(ms) {
      if (engine === undefined) {
        engine = spec.engine === 'node' ? await nodeEngine(job) : uringEngine(job, spec);
        op = sampler.wrap(engine.op);
      }
      const res = await concurrentLoop(job.iodepth, ms, op!, blocks, job.bs);
      return { ...res, latenciesNs: sampler.take() };
    },
    async teardown() {
      await engine?.close();
      engine = undefined;
    },
  };
}
