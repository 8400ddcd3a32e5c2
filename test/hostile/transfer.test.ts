// Issue 12, class 1: a buffer transferred away while the kernel still uses it.
// See transfer.cases.ts for what each scenario does and asserts; each runs in
// a child process on every ring shape, because a broken library corrupts the
// heap or aborts in glibc.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes, needsOp } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'transfer.cases.js');
const hasTransfer = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';

const scenarios: [string, string, (string | false)?][] = [
  ['readStructuredClone', 'read() pending on a pipe, buffer transferred by structuredClone and collected: no fresh buffer is written, the read resolves with a count or rejects with a code'],
  ['readMessagePort', 'read() pending, buffer transferred through MessagePort.postMessage: no fresh buffer is written'],
  ['readWorker', 'read() pending, buffer transferred to a worker that writes it and exits: no fresh buffer is written'],
  ['readArrayBufferTransfer', 'read() pending, buffer detached by ArrayBuffer.prototype.transfer(): no fresh buffer is written',
    !hasTransfer && 'ArrayBuffer.prototype.transfer needs Node 21+'],
  ['writeFullPipeStructuredClone', 'write() into a full pipe, buffer transferred: the pipe carries exactly the original bytes'],
  ['readvStructuredClone', 'readv() pending, one element\'s buffer transferred: no fresh buffer is written'],
  ['chainReadTransferredBeforeSubmit', 'chain().read(buf) then buf transferred before submit(): submit rejects or completes without touching freed memory'],
];

describe('hostile: transfer while in flight', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what, skip] of scenarios) {
      it(`${what} [${shape.name}]`, { skip, timeout: 90_000 }, async () => { await inChild(CASES, name, shape); });
    }
    it(`uring/net: socket.write(32 MiB) to a slow peer, then the buffer is transferred: the peer receives exactly the original bytes, no crash [${shape.name}]`,
      { skip: needsOp('SOCKET'), timeout: 90_000 }, async () => { await inChild(CASES, 'netWriteStructuredClone', shape, 30_000); });
  }
});
