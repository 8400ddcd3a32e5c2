// randread: 4 KiB random reads from a 1 GiB file in the page cache, 32 in
// flight, one thread. Every variant reads into page-aligned buffers, as the C
// reference does: a read into a buffer that straddles two pages costs the
// kernel about 6% more, and Buffer.alloc() memory is not page aligned.
import { openSync, closeSync, readSync } from 'node:fs';
import { open as openPromise } from 'node:fs/promises';
import { Ring } from '../../ring';
import { alignedBuffer } from '../../aligned';
import { dataFile, } from '../files';
import { LatencySampler, SAMPLE_EVERY, Variant, Workload, xorshift, RoundResult } from '../harness';
import { cVariant } from '../c-reference';

export interface RandreadConfig {
  size: number;
  bs: number;
  iodepth: number;
  file?: string;
}

export const RANDREAD_DEFAULTS: RandreadConfig = { size: 1 << 30, bs: 4096, iodepth: 32 };

/**
 * Runs `depth` concurrent loops of `op` until the deadline; counts completed
 * ops and times one in four (as the C reference does).
 */
export async function concurrentLoop(depth: number, ms: number,
  op: (worker: number, pos: number) => Promise<unknown>, blocks: number, bs: number, seed = 0): Promise<RoundResult> {
  const rand = xorshift(0x12345 + depth + seed * 7919);
  const sampler = new LatencySampler(SAMPLE_EVERY);
  const timed = sampler.wrap(op);
  let ops = 0;
  let stop = false;
  const start = performance.now();
  const deadline = start + ms;
  const worker = async (k: number): Promise<void> => {
    while (!stop) {
      await timed(k, (rand() % blocks) * bs);
      if ((++ops & 255) === 0 && performance.now() > deadline) stop = true;
    }
  };
  const ws: Promise<void>[] = [];
  for (let k = 0; k < depth; k++) ws.push(worker(k));
  await Promise.all(ws);
  const seconds = (performance.now() - start) / 1000;
  return { ops, seconds, bytes: ops * bs, latenciesNs: sampler.take() };
}

export function uringVariant(name: string, path: string, c: RandreadConfig,
  make: () => { ring: Ring; read: (k: number, pos: number) => Promise<number>; close(): Promise<void> | void }): Variant {
  let state: ReturnType<typeof make> | undefined;
  return {
    name,
    async run(ms) {
      state ??= make();
      return concurrentLoop(c.iodepth, ms, state.read, Math.floor(c.size / c.bs), c.bs);
    },
    async teardown() {
      await state?.close();
      state = undefined;
      void path;
    },
  };
}

export function randreadWorkload(c: RandreadConfig = RANDREAD_DEFAULTS, name = 'randread'): Workload {
  const path = c.file ?? dataFile(c.size);
  const blocks = Math.floor(c.size / c.bs);
  const variants: Variant[] = [];

  const plain = (variant: string, sqpoll: boolean): Variant => uringVariant(variant, path, c, () => {
    const ring = new Ring({ entries: Math.max(64, c.iodepth * 2), sqpoll: sqpoll && { idleMs: 20 } });
    const fd = openSync(path, 'r');
    const bufs = Array.from({ length: c.iodepth }, () => alignedBuffer(c.bs));
    return {
      ring,
      read: (k, pos) => ring.read(fd, bufs[k]!, pos),
      async close() { await ring.close(); closeSync(fd); },
    };
  });
  variants.push(plain('uring', false));

  // The same reads through a registered file: no per-read fd lookup or
  // reference count on the file.
  variants.push(uringVariant('uring-fixed', path, c, () => {
    const ring = new Ring({ entries: Math.max(64, c.iodepth * 2) });
    const fd = openSync(path, 'r');
    const [file] = ring.files.register([fd]);
    const bufs = Array.from({ length: c.iodepth }, () => alignedBuffer(c.bs));
    return {
      ring,
      read: (k, pos) => ring.read(file!, bufs[k]!, pos),
      async close() { await ring.close(); closeSync(fd); },
    };
  }));

  // Registered file and registered buffers.
  variants.push(uringVariant('uring-fixed-buffers', path, c, () => {
    const ring = new Ring({ entries: Math.max(64, c.iodepth * 2) });
    const fd = openSync(path, 'r');
    const [file] = ring.files.register([fd]);
    ring.buffers.register({ count: c.iodepth, size: c.bs });
    const bufs = Array.from({ length: c.iodepth }, () => ring.buffers.acquire()!);
    return {
      ring,
      read: (k, pos) => ring.readFixed(file!, bufs[k]!, pos),
      async close() { ring.buffers.unregister(); await ring.close(); closeSync(fd); },
    };
  }));

  variants.push(plain('uring-sqpoll', true));

  // The callback form (ring.callbacks): the same reads with no promise per
  // request; each completion submits the worker's next read.
  let cb: { ring: Ring; fd: number; bufs: Buffer[] } | undefined;
  variants.push({
    name: 'uring-callbacks',
    run(ms) {
      cb ??= { ring: new Ring({ entries: Math.max(64, c.iodepth * 2) }), fd: openSync(path, 'r'), bufs: Array.from({ length: c.iodepth }, () => alignedBuffer(c.bs)) };
      const { ring, fd, bufs } = cb;
      const rand = xorshift(0x12345 + c.iodepth);
      const sampler = new LatencySampler(SAMPLE_EVERY);
      const started = new Float64Array(c.iodepth);
      let ops = 0;
      let live = c.iodepth;
      let stop = false;
      const start = performance.now();
      const deadline = start + ms;
      return new Promise<RoundResult>((resolve, reject) => {
        const next = (k: number): void => {
          if ((ops & (SAMPLE_EVERY - 1)) === SAMPLE_EVERY - 1) started[k] = performance.now();
          ring.callbacks.read(fd, bufs[k]!, (rand() % blocks) * c.bs, done[k]!);
        };
        const done = bufs.map((_, k) => (err: Error | null): void => {
          if (err) { stop = true; reject(err); return; }
          if (started[k] !== 0) { sampler.record((performance.now() - started[k]!) * 1e6); started[k] = 0; }
          if ((++ops & 255) === 0 && performance.now() > deadline) stop = true;
          if (!stop) next(k);
          else if (--live === 0) resolve({ ops, seconds: (performance.now() - start) / 1000, bytes: ops * c.bs, latenciesNs: sampler.take() });
        });
        for (let k = 0; k < c.iodepth; k++) next(k);
      });
    },
    async teardown() {
      if (cb) { await cb.ring.close(); closeSync(cb.fd); }
      cb = undefined;
    },
  });

  // The batch form (ring.readMany): the reads of all workers submitted
  // together and awaited as one promise, then the next batch; as the C
  // reference does, one submit per reaped batch. Each batch is timed whole.
  let bt: { ring: Ring; fd: number; bufs: Buffer[] } | undefined;
  variants.push({
    name: 'uring-batch',
    async run(ms) {
      if (bt === undefined) {
        const arena = alignedBuffer(c.iodepth * c.bs);
        bt = {
          ring: new Ring({ entries: Math.max(64, c.iodepth * 2) }),
          fd: openSync(path, 'r'),
          bufs: Array.from({ length: c.iodepth }, (_, k) => arena.subarray(k * c.bs, (k + 1) * c.bs)),
        };
      }
      const { ring, fd, bufs } = bt;
      const rand = xorshift(0x12345 + c.iodepth);
      const sampler = new LatencySampler(SAMPLE_EVERY);
      const positions = new Array<number>(c.iodepth).fill(0);
      let ops = 0;
      const start = performance.now();
      const deadline = start + ms;
      for (let batch = 0; ; batch++) {
        for (let k = 0; k < positions.length; k++) positions[k] = (rand() % blocks) * c.bs;
        const t0 = performance.now();
        await ring.readMany(fd, bufs, positions);
        const t1 = performance.now();
        sampler.record((t1 - t0) * 1e6);
        ops += positions.length;
        if (t1 > deadline) break;
      }
      return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * c.bs, latenciesNs: sampler.take() };
    },
    async teardown() {
      if (bt) { await bt.ring.close(); closeSync(bt.fd); }
      bt = undefined;
    },
  });

  let fh: Awaited<ReturnType<typeof openPromise>> | undefined;
  variants.push({
    name: 'node-filehandle',
    async run(ms) {
      fh ??= await openPromise(path, 'r');
      const h = fh;
      const bufs = Array.from({ length: c.iodepth }, () => alignedBuffer(c.bs));
      return concurrentLoop(c.iodepth, ms, (k, pos) => h.read(bufs[k]!, 0, c.bs, pos), blocks, c.bs);
    },
    async teardown() { await fh?.close(); fh = undefined; },
  });

  let sfd = -1;
  variants.push({
    name: 'node-readsync',
    async run(ms) {
      if (sfd < 0) sfd = openSync(path, 'r');
      const buf = alignedBuffer(c.bs);
      const rand = xorshift(99);
      const sampler = new LatencySampler(SAMPLE_EVERY);
      let ops = 0;
      const start = performance.now();
      const deadline = start + ms;
      for (;;) {
        if ((ops & (SAMPLE_EVERY - 1)) === SAMPLE_EVERY - 1) {
          const t0 = performance.now();
          readSync(sfd, buf, 0, c.bs, (rand() % blocks) * c.bs);
          sampler.record((performance.now() - t0) * 1e6);
        } else {
          readSync(sfd, buf, 0, c.bs, (rand() % blocks) * c.bs);
        }
        if ((++ops & 255) === 0 && performance.now() > deadline) break;
      }
      return { ops, seconds: (performance.now() - start) / 1000, bytes: ops * c.bs, latenciesNs: sampler.take() };
    },
    teardown() { if (sfd >= 0) closeSync(sfd); sfd = -1; },
  });

  // The physical anchor: the same reads from C on raw io_uring.
  const cref = cVariant('randread', () => [path, String(c.bs), String(c.iodepth), String(blocks), '0'], c.bs);
  if (cref !== undefined) variants.push(cref);

  return { name, unit: `${c.bs} B random read, ${c.iodepth} in flight`, baseline: 'node-filehandle', secondary: 'uring', variants };
}
