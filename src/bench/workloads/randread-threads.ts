// randread-threads: two worker threads, each with its own ring, doing 4 KiB
// random reads of the same file (32 in flight each). With a plain fd every
// read takes and drops a reference on the shared file, a cache line both
// cores write; with a registered file it does not. Both workers run each
// round at the same time; the result is their combined ops/s.
//
// This module is also the workers' script: a Worker started on this file
// (the compiled .js next to it) runs workerMain().
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { openSync, closeSync } from 'node:fs';
import { Ring } from '../../ring';
import { dataFile } from '../files';
import { Variant, Workload } from '../harness';
import { RANDREAD_DEFAULTS, RandreadConfig, concurrentLoop } from './randread';

const THREADS = 2;
const MARK = 'uring-randread-threads';

interface RunMsg { variant: 'uring' | 'uring-fixed'; ms: number }
interface ResultMsg { ops: number; seconds: number; latenciesNs?: Float64Array; error?: string }

function workerMain(path: string, c: RandreadConfig): void {
  const ring = new Ring({ entries: Math.max(64, c.iodepth * 2) });
  const fd = openSync(path, 'r');
  const [file] = ring.files.register([fd]);
  const bufs = Array.from({ length: c.iodepth }, () => Buffer.alloc(c.bs));
  const blocks = Math.floor(c.size / c.bs);
  const port = parentPort!;
  port.on('message', (m: RunMsg | 'stop') => {
    if (m === 'stop') {
      void ring.close().then(() => { closeSync(fd); port.close(); });
      return;
    }
    const target = m.variant === 'uring-fixed' ? file! : fd;
    // Each thread its own sequence of offsets: the same file, not the same blocks.
    concurrentLoop(c.iodepth, m.ms, (k, pos) => ring.read(target, bufs[k]!, pos), blocks, c.bs, threadId)
      .then((r) => port.postMessage({ ops: r.ops, seconds: r.seconds, latenciesNs: r.latenciesNs } satisfies ResultMsg))
      .catch((e: unknown) => port.postMessage({ ops: 0, seconds: 1, error: String(e) } satisfies ResultMsg));
  });
}

if (!isMainThread && (workerData as { mark?: string } | null)?.mark === MARK) {
  const d = workerData as { path: string; config: RandreadConfig };
  workerMain(d.path, d.config);
}

function request(w: Worker, msg: RunMsg): Promise<ResultMsg> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => { w.off('message', onMessage); reject(e); };
    const onMessage = (r: ResultMsg): void => {
      w.off('error', onError);
      if (r.error) reject(new Error(r.error));
      else resolve(r);
    };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(msg);
  });
}

/** Two threads, one ring each, reading one shared file; variants uring and uring-fixed. */
export function randreadThreadsWorkload(c: RandreadConfig = RANDREAD_DEFAULTS): Workload {
  const path = c.file ?? dataFile(c.size);
  let workers: Worker[] | undefined;
  const start = (): Worker[] => workers ??= Array.from({ length: THREADS }, () =>
    new Worker(__filename, { workerData: { mark: MARK, path, config: c } }));
  const variant = (name: RunMsg['variant']): Variant => ({
    name,
    async run(ms) {
      const ws = start();
      // Both threads run the same variant at the same time.
      const rs = await Promise.all(ws.map((w) => request(w, { variant: name, ms })));
      const ops = rs.reduce((n, r) => n + r.ops, 0);
      const seconds = Math.max(...rs.map((r) => r.seconds));
      // Both threads' sampled latencies, in one array.
      const parts = rs.map((r) => r.latenciesNs ?? new Float64Array(0));
      const latenciesNs = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) { latenciesNs.set(p, at); at += p.length; }
      return { ops, seconds, bytes: ops * c.bs, latenciesNs };
    },
  });
  return {
    name: 'randread-threads',
    unit: `${c.bs} B random read, ${THREADS} threads x ${c.iodepth} in flight, one shared file`,
    baseline: 'uring',
    variants: [variant('uring'), variant('uring-fixed')],
    async teardown() {
      const ws = workers ?? [];
      workers = undefined;
      await Promise.all(ws.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.postMessage('stop');
      })));
    },
  };
}
