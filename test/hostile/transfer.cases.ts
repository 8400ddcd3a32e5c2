// Class 1 of issue 12: memory the kernel touches stays allocated until the
// request's CQE, whatever the caller does with the ArrayBuffer meanwhile.
// Each scenario starts a request on a buffer, transfers the buffer away
// (structuredClone, a MessagePort, a worker), drops every reference, forces
// collections, allocates fresh buffers of the same size filled with a canary
// byte, and only then lets the kernel finish. Nothing may land in (or be read
// from) memory that now belongs to someone else. A library may instead refuse
// the transfer (an in-flight ArrayBuffer that cannot be detached): then the
// data must land in the caller's buffer.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Ring } from '../../src/index';
import { connect } from '../../src/net/index';
import type { Shape } from '../helpers';
import {
  Canaries, assertCoded, call, closeWithin, collect, delay, makePipe, pattern, ringOf, settled, spawnPeer, watch,
} from './harness';

/** Transfers `ab` away; resolves false when the transfer was refused (the buffer stays usable). */
export type Transfer = (ab: ArrayBuffer) => Promise<boolean>;

export const transfers: Record<string, Transfer> = {
  async structuredClone(ab) {
    try {
      structuredClone(ab, { transfer: [ab] });
    } catch {
      return false;
    }
    return true;
  },
  async messagePort(ab) {
    const { port1, port2 } = new MessageChannel();
    try {
      const got = once(port2, 'message');
      try {
        port1.postMessage(ab, [ab]);
      } catch {
        return false;
      }
      await got;
      return true;
    } finally {
      port1.close();
      port2.close();
    }
  },
  async worker(ab) {
    // The worker writes into what it received, reports, and exits: its copy
    // of the ArrayBuffer dies with it.
    const w = new Worker(`
      const { parentPort } = require('node:worker_threads');
      parentPort.once('message', (ab) => { new Uint8Array(ab).fill(0x77); parentPort.postMessage(ab.byteLength); });
    `, { eval: true });
    try {
      await once(w, 'online');
      try {
        w.postMessage(ab, [ab]);
      } catch {
        return false;
      }
      const [len] = await once(w, 'message');
      assert.equal(len, 65536, 'the worker received the buffer');
      return true;
    } finally {
      await w.terminate();
      // The worker's copy is freed as its isolate goes away.
      await delay(50);
    }
  },
  async arrayBufferTransfer(ab) {
    const t = (ab as unknown as { transfer?: () => ArrayBuffer }).transfer;
    assert.ok(typeof t === 'function', 'ArrayBuffer.prototype.transfer');
    try {
      t.call(ab);
    } catch {
      return false;
    }
    return true;
  },
};

const SIZE = 65536;
/** Errors that mean the kernel touched memory it should not have. */
const NOT_EFAULT = /^(?!EFAULT$)[A-Z_]+$/;

function checkOutcome(o: { status: string; value?: unknown; error?: unknown }, max: number, what: string): number {
  if (o.status === 'fulfilled') {
    const n = o.value as number;
    assert.ok(Number.isInteger(n) && n >= 0 && n <= max, `${what}: resolved with ${n}, expected 0..${max}`);
    return n;
  }
  assertCoded(o.error, what, NOT_EFAULT);
  return -1;
}

/** The ring still reads correctly: what is left in the pipe is drained, then a fresh read gets fresh data. */
async function ringStillWorks(ring: Ring, pipe: ReturnType<typeof makePipe>): Promise<void> {
  pipe.take();
  const data = pattern(64, 99);
  writeSync(pipe.w, data);
  const buf = Buffer.alloc(64);
  const n = await ring.read(pipe.r, buf, -1);
  assert.equal(n, 64, 'a later read works');
  assert.deepEqual(buf, data, 'a later read gets its data');
}

/** ring.read into a 64 KiB buffer pending on a pipe; the buffer is transferred by `how`. */
async function readThenTransfer(shape: Shape, how: Transfer): Promise<unknown> {
  const ring = ringOf(shape);
  const pipe = makePipe();
  try {
    let buf: Buffer | undefined = Buffer.alloc(SIZE);
    const o = watch(call('ring.read', () => ring.read(pipe.r, buf!, -1)));
    await delay(10);
    const moved = await how(buf.buffer as ArrayBuffer);
    const kept = moved ? undefined : buf;
    buf = undefined;
    await collect();
    const canaries = new Canaries(SIZE, 512);
    const data = pattern(4096, 7);
    writeSync(pipe.w, data);
    await settled(o, 3000, 'read into a transferred buffer');
    const n = checkOutcome(o, SIZE, 'read into a transferred buffer');
    canaries.check('read into a transferred buffer');
    if (kept !== undefined) {
      assert.equal(o.status, 'fulfilled', 'the transfer was refused, so the read completes normally');
      assert.deepEqual(kept.subarray(0, n), data.subarray(0, n), 'the data landed in the caller\'s buffer');
    }
    await ringStillWorks(ring, pipe);
    return { moved, status: o.status };
  } finally {
    pipe.close();
    await closeWithin(ring, 2000);
  }
}

export const readStructuredClone = (s: Shape): Promise<unknown> => readThenTransfer(s, transfers.structuredClone!);
export const readMessagePort = (s: Shape): Promise<unknown> => readThenTransfer(s, transfers.messagePort!);
export const readWorker = (s: Shape): Promise<unknown> => readThenTransfer(s, transfers.worker!);
export const readArrayBufferTransfer = (s: Shape): Promise<unknown> => readThenTransfer(s, transfers.arrayBufferTransfer!);

/**
 * ring.write of 64 KiB into a full pipe, so the kernel reads the buffer only
 * once the pipe is drained, after the transfer: the pipe must carry exactly
 * the original bytes, never the bytes of whatever took the freed memory.
 */
export async function writeFullPipeStructuredClone(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const pipe = makePipe();
  try {
    const filled = pipe.fill(0x11);
    let buf: Buffer | undefined = pattern(SIZE, 3);
    const expected = Buffer.from(buf);
    const o = watch(call('ring.write', () => ring.write(pipe.wBlock, buf!, -1)));
    await delay(20);
    assert.equal(o.status, 'pending', 'the write waits for room in the pipe');
    const moved = await transfers.structuredClone!(buf.buffer as ArrayBuffer);
    buf = undefined;
    await collect();
    const canaries = new Canaries(SIZE, 512);
    const parts: Buffer[] = [];
    const t0 = Date.now();
    for (;;) {
      const got = pipe.take();
      if (got.length) parts.push(got);
      if (o.status !== 'pending' && got.length === 0) break;
      assert.ok(Date.now() - t0 < 3000, 'write settles once the pipe is drained');
      await delay(2);
    }
    const all = Buffer.concat(parts);
    assert.ok(all.length >= filled && all.subarray(0, filled).every((b) => b === 0x11), 'the filler comes out first');
    const sent = all.subarray(filled);
    const n = checkOutcome(o, SIZE, 'write from a transferred buffer');
    if (n >= 0) assert.equal(sent.length, n, 'the pipe got as many bytes as the write reported');
    const firstBad = sent.findIndex((b, k) => b !== expected[k]);
    assert.equal(firstBad, -1, `the pipe carried foreign bytes from offset ${firstBad} (of ${sent.length}): `
      + `got ${sent.subarray(firstBad, firstBad + 8).toString('hex')}, expected ${expected.subarray(firstBad, firstBad + 8).toString('hex')}`);
    canaries.check('write from a transferred buffer');
    await ringStillWorks(ring, pipe);
    return { moved, sent: sent.length };
  } finally {
    pipe.close();
    await closeWithin(ring, 2000);
  }
}

/** ring.readv whose first element's buffer is transferred while the read waits. */
export async function readvStructuredClone(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const pipe = makePipe();
  try {
    let a: Buffer | undefined = Buffer.alloc(SIZE);
    const b = Buffer.alloc(16);
    const o = watch(call('ring.readv', () => ring.readv(pipe.r, [a!, b], -1)));
    await delay(10);
    const moved = await transfers.structuredClone!(a.buffer as ArrayBuffer);
    const kept = moved ? undefined : a;
    a = undefined;
    await collect();
    const canaries = new Canaries(SIZE, 512);
    const data = pattern(SIZE, 11);
    writeSync(pipe.w, data);
    await settled(o, 3000, 'readv into a transferred buffer');
    const n = checkOutcome(o, SIZE + 16, 'readv into a transferred buffer');
    canaries.check('readv into a transferred buffer');
    if (kept !== undefined) {
      assert.equal(o.status, 'fulfilled');
      assert.deepEqual(kept.subarray(0, Math.min(n, SIZE)), data.subarray(0, Math.min(n, SIZE)));
    }
    await ringStillWorks(ring, pipe);
    return { moved, status: o.status };
  } finally {
    pipe.close();
    await closeWithin(ring, 2000);
  }
}

/** A chain's read step whose buffer is transferred between chain().read() and submit(). */
export async function chainReadTransferredBeforeSubmit(shape: Shape): Promise<unknown> {
  const ring = ringOf(shape);
  const pipe = makePipe();
  try {
    let buf: Buffer | undefined = Buffer.alloc(SIZE);
    const chain = ring.chain().read(pipe.r, buf, -1);
    const moved = await transfers.structuredClone!(buf.buffer as ArrayBuffer);
    const kept = moved ? undefined : buf;
    buf = undefined;
    await collect();
    const canaries = new Canaries(SIZE, 512);
    const o = watch(call('chain.submit()', () => chain.submit()));
    await delay(10);
    const data = pattern(4096, 13);
    writeSync(pipe.w, data);
    await settled(o, 3000, 'chain with a transferred buffer');
    let status: string = o.status;
    if (o.status === 'fulfilled') {
      const [step] = o.value!;
      status = `step ${step.status}`;
      if (step.status === 'fulfilled') {
        assert.ok(step.value >= 0 && step.value <= SIZE, `step read ${step.value}`);
        if (kept !== undefined) assert.deepEqual(kept.subarray(0, step.value), data.subarray(0, step.value));
      } else {
        assertCoded(step.reason, 'chain read step', NOT_EFAULT);
      }
    } else {
      assertCoded(o.error, 'chain.submit()', NOT_EFAULT);
    }
    canaries.check('chain read into a transferred buffer');
    await ringStillWorks(ring, pipe);
    return { moved, status };
  } finally {
    pipe.close();
    await closeWithin(ring, 2000);
  }
}

/**
 * uring/net: a 32 MiB socket.write() to a peer that does not read for a
 * while, then the buffer is transferred. The peer must get exactly the
 * original bytes (or a prefix of them if the write fails), never other
 * memory, and the process must survive.
 */
export async function netWriteStructuredClone(shape: Shape): Promise<unknown> {
  const BIG = 32 << 20;
  const SEED = 5;
  const ring = ringOf(shape);
  const peer = await spawnPeer(BIG, SEED, 300);
  const sock = connect({ port: peer.port, host: '127.0.0.1', ring });
  try {
    await once(sock, 'connect');
    let big: Buffer | undefined = pattern(BIG, SEED);
    const expectedSha = createHash('sha256').update(big).digest('hex');
    let writeResult: Error | null | undefined;
    sock.on('error', () => { /* reported through the write callback */ });
    sock.write(big, (err) => { writeResult = err ?? null; sock.end(); });
    await delay(20);
    const moved = await transfers.structuredClone!(big.buffer as ArrayBuffer);
    big = undefined;
    await collect();
    const canaries = new Canaries(BIG, 3);
    const got = await Promise.race([peer.result, delay(20_000).then(() => assert.fail('the peer never saw the connection end'))]);
    assert.equal(got.firstBad, -1, `the peer received foreign bytes from offset ${got.firstBad} (of ${got.received})`);
    assert.notEqual(writeResult, undefined, 'the write callback ran');
    if (writeResult === null) {
      assert.equal(got.received, BIG, 'a write that succeeded delivered every byte');
      assert.equal(got.sha256, expectedSha);
    } else {
      assertCoded(writeResult, 'socket.write', NOT_EFAULT);
    }
    canaries.check('socket.write from a transferred buffer');
    return { moved, received: got.received, failed: writeResult !== null };
  } finally {
    sock.destroy();
    peer.kill();
    await closeWithin(ring, 3000);
  }
}
