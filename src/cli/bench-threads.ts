// A variant run on several threads at once: each worker thread builds the
// same single-thread variant (its own ring or file handle) and runs it for
// the round; the round's result is the sum of theirs.
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { RoundResult, Variant } from '../bench/harness';
import type { VariantSpec } from './bench-options';
import { variantName, Job } from './bench-variants';

/** What a worker thread is created with. */
export interface WorkerInit {
  spec: VariantSpec;
  job: Job;
}

type Reply = { result: RoundResult } | { error: string } | { done: true };

function ask(w: Worker, msg: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Reply): void => { w.off('error', onError); resolve(m); };
    const onError = (e: Error): void => { w.off('message', onMessage); reject(e); };
    w.once('message', onMessage);
    w.once('error', onError);
    w.postMessage(msg);
  });
}

/** `spec` on `threads` worker threads, each doing `job` with its own engine. */
export function threadedVariant(spec: VariantSpec, job: Job, threads: number): Variant {
  let workers: Worker[] | undefined;
  return {
    name: variantName(spec),
    async run(ms) {
      const init: WorkerInit = { spec, job };
      workers ??= Array.from({ length: threads }, () => new Worker(join(__dirname, 'bench-worker.js'), { workerData: init }));
      const replies = await Promise.all(workers.map((w) => ask(w, { ms })));
      const out: RoundResult = { ops: 0, seconds: 0, bytes: 0 };
      const lat: Float64Array[] = [];
      for (const r of replies) {
        if ('error' in r) throw new Error(r.error);
        if (!('result' in r)) continue;
        out.ops += r.result.ops;
        out.bytes = (out.bytes ?? 0) + (r.result.bytes ?? 0);
        out.seconds = Math.max(out.seconds, r.result.seconds);
        if (r.result.latenciesNs) lat.push(r.result.latenciesNs);
      }
      const all = new Float64Array(lat.reduce((n, a) => n + a.length, 0));
      let at = 0;
      for (const a of lat) { all.set(a, at); at += a.length; }
      out.latenciesNs = all;
      return out;
    },
    async teardown() {
      if (!workers) return;
      await Promise.all(workers.map(async (w) => { await ask(w, { teardown: true }); await w.terminate(); }));
      workers = undefined;
    },
  };
}
