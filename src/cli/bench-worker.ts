// A worker thread of `uring bench --threads N`: runs one variant on request.
import { parentPort, workerData } from 'node:worker_threads';
import { makeVariant } from './bench-variants';
import type { WorkerInit } from './bench-threads';

const init = workerData as WorkerInit;
const variant = makeVariant(init.spec, init.job);

parentPort!.on('message', (m: { ms?: number; teardown?: boolean }) => {
  const work = m.teardown
    ? Promise.resolve(variant.teardown?.()).then(() => ({ done: true }))
    : variant.run(m.ms!).then((result) => ({ result }));
  work.then((reply) => {
    const lat = 'result' in reply ? reply.result.latenciesNs : undefined;
    parentPort!.postMessage(reply, lat ? [lat.buffer as ArrayBuffer] : []);
  }, (err: Error) => parentPort!.postMessage({ error: err.message }));
});
