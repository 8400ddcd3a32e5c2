// Class 6 of issue 12: a user handler (an event listener, a write callback, a
// promise handler) that throws while the ring is delivering completions. With
// process.on('uncaughtException') keeping the process up, as servers do, the
// ring must not deliver a completion twice, skip one, or hand it to the wrong
// request, and must stay usable.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import * as nodeNet from 'node:net';
import { Ring } from '../../src/index';
import { createServer, connect, Server, Socket } from '../../src/net/index';
import type { Shape } from '../helpers';
import { closeWithin, delay, pattern, ringOf, spawnPeer } from './harness';

const BOOM = 'hostile listener';

/** Collects uncaught exceptions (the ones the test throws, and any other). */
function catchUncaught(): { ours: number; others: unknown[]; stop(): void } {
  const r = { ours: 0, others: [] as unknown[], stop: () => process.off('uncaughtException', h) };
  const h = (err: unknown): void => {
    if (err instanceof Error && err.message.startsWith(BOOM)) r.ours++;
    else r.others.push(err);
  };
  process.on('uncaughtException', h);
  return r;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, delay(ms).then(() => assert.fail(`${what}: not within ${ms} ms`))]);
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as nodeNet.AddressInfo).port;
}

/** The ring still reads correctly after the exceptions. */
async function ringStillReads(ring: Ring): Promise<void> {
  const fd = openSync('/dev/zero', 'r');
  try {
    const buf = Buffer.alloc(4096, 1);
    assert.equal(await ring.read(fd, buf, -1), 4096, 'a later read works');
    assert.ok(buf.every((b) => b === 0), 'a later read gets its data');
  } finally {
    closeSync(fd);
  }
}

/**
 * A uring/net server whose 'data' listener throws once, on the first chunk
 * of the first connection, while three clients each send 1 MiB: every
 * connection receives exactly what its client sent (same length, same
 * sha256), the listener threw once, and nothing else was uncaught.
 */
export async function dataListenerThrows(shape: Shape): Promise<unknown> {
  const SIZE = 1 << 20;
  const uncaught = catchUncaught();
  const ring = ringOf(shape);
  const server = createServer({ ring });
  const clients: nodeNet.Socket[] = [];
  try {
    const got = new Map<number, { hash: ReturnType<typeof createHash>; n: number; done: Promise<unknown> }>();
    let thrown = false;
    server.on('connection', (s: Socket) => {
      const hash = createHash('sha256');
      const rec = { hash, n: 0, done: once(s, 'end') };
      let id = -1;
      s.on('data', (chunk: Buffer) => {
        if (id < 0) {
          // The first bytes of each client say which client it is.
          id = chunk[0]!;
          got.set(id, rec);
        }
        hash.update(chunk);
        rec.n += chunk.length;
        if (id === 0 && !thrown) {
          thrown = true;
          throw new Error(`${BOOM}: data`);
        }
      });
      s.on('error', () => { /* reported by the comparison */ });
    });
    const port = await listen(server);
    const sent: { sha: string; n: number }[] = [];
    for (let k = 0; k < 3; k++) {
      const data = pattern(SIZE, 100 + k);
      data[0] = k;
      sent.push({ sha: createHash('sha256').update(data).digest('hex'), n: SIZE });
      const c = nodeNet.connect(port, '127.0.0.1');
      c.on('error', () => { /* the comparison reports it */ });
      clients.push(c);
      c.on('connect', () => { c.end(data); });
    }
    await within((async () => {
      while (got.size < 3) await delay(5);
      await Promise.all([...got.values()].map((r) => r.done));
    })(), 10_000, 'all three connections end');
    for (let k = 0; k < 3; k++) {
      const r = got.get(k)!;
      assert.equal(r.n, sent[k]!.n, `connection ${k}: received ${r.n} bytes, the client sent ${sent[k]!.n}`);
      assert.equal(r.hash.digest('hex'), sent[k]!.sha, `connection ${k}: the bytes differ from what the client sent`);
    }
    assert.equal(uncaught.ours, 1, 'the listener threw once');
    assert.deepEqual(uncaught.others, [], 'nothing else was uncaught');
    await ringStillReads(ring);
    return { thrown };
  } finally {
    for (const c of clients) c.destroy();
    server.close();
    uncaught.stop();
    await closeWithin(ring, 3000);
  }
}

/** A 'connection' listener that throws for the first of three clients: 'connection' fires exactly three times. */
export async function connectionListenerThrows(shape: Shape): Promise<unknown> {
  const uncaught = catchUncaught();
  const ring = ringOf(shape);
  const server = createServer({ ring });
  const clients: nodeNet.Socket[] = [];
  const sockets: Socket[] = [];
  try {
    let fired = 0;
    server.on('connection', (s: Socket) => {
      fired++;
      sockets.push(s);
      s.on('error', () => { /* not under test */ });
      if (fired === 1) throw new Error(`${BOOM}: connection`);
    });
    const port = await listen(server);
    const connected: Promise<unknown>[] = [];
    for (let k = 0; k < 3; k++) {
      const c = nodeNet.connect(port, '127.0.0.1');
      c.on('error', () => { /* not under test */ });
      clients.push(c);
      connected.push(once(c, 'connect'));
    }
    await within(Promise.all(connected), 5000, 'three clients connect');
    await within((async () => { while (fired < 3) await delay(5); })(), 5000, "three 'connection' events");
    await delay(200);
    assert.equal(fired, 3, `'connection' fired ${fired} times for 3 clients`);
    assert.equal(new Set(sockets).size, 3, 'three distinct sockets');
    assert.equal(uncaught.ours, 1, 'the listener threw once');
    assert.deepEqual(uncaught.others, [], 'nothing else was uncaught');
    await ringStillReads(ring);
    return { fired };
  } finally {
    for (const c of clients) c.destroy();
    for (const s of sockets) s.destroy();
    server.close();
    uncaught.stop();
    await closeWithin(ring, 3000);
  }
}

/**
 * A uring/net client writes 8 chunks with callbacks; the first callback and
 * the first 'drain' listener throw. Every callback runs exactly once, the
 * peer (another process) receives exactly the bytes written, in order.
 */
export async function writeCallbackThrows(shape: Shape): Promise<unknown> {
  const CHUNK = 64 * 1024;
  const N = 8;
  const SEED = 9;
  const uncaught = catchUncaught();
  const ring = ringOf(shape);
  const peer = await spawnPeer(CHUNK * N, SEED, 0);
  const sock = connect({ port: peer.port, host: '127.0.0.1', ring, writableHighWaterMark: 1024, zeroCopyThreshold: false });
  try {
    await within(once(sock, 'connect'), 5000, 'connect');
    sock.on('error', () => { /* reported by the callbacks */ });
    let drains = 0;
    sock.on('drain', () => {
      if (drains++ === 0) throw new Error(`${BOOM}: drain`);
    });
    const data = pattern(CHUNK * N, SEED);
    const calls = new Array<number>(N).fill(0);
    const errors: unknown[] = [];
    for (let k = 0; k < N; k++) {
      sock.write(data.subarray(k * CHUNK, (k + 1) * CHUNK), (err) => {
        calls[k]!++;
        if (err) errors.push(err);
        if (k === 0) throw new Error(`${BOOM}: write callback`);
      });
    }
    await within((async () => { while (calls.some((c) => c === 0)) await delay(5); })(), 10_000, 'every write callback runs');
    sock.end();
    const res = await within(peer.result, 10_000, 'the peer sees the end');
    await delay(50);
    assert.deepEqual(calls, new Array(N).fill(1), 'each write callback ran exactly once');
    assert.deepEqual(errors, [], 'no write failed');
    assert.equal(res.firstBad, -1, `the peer got wrong bytes from offset ${res.firstBad}`);
    assert.equal(res.received, CHUNK * N, 'the peer got every byte once');
    assert.equal(uncaught.ours, drains > 0 ? 2 : 1, 'each throwing handler threw once');
    assert.deepEqual(uncaught.others, [], 'nothing else was uncaught');
    await ringStillReads(ring);
    return { drains };
  } finally {
    sock.destroy();
    peer.kill();
    uncaught.stop();
    await closeWithin(ring, 3000);
  }
}

/**
 * Promise handlers that throw (a read's, a chain's) while other requests of
 * the same batch complete: each promise settles once with its own result,
 * the throws surface as unhandled rejections only, and the ring works after.
 */
export async function promiseHandlersThrow(shape: Shape): Promise<unknown> {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => { unhandled.push(e); };
  process.on('unhandledRejection', onUnhandled);
  const ring = ringOf(shape);
  const fd = openSync('/dev/zero', 'r');
  try {
    const settledCount = new Array<number>(16).fill(0);
    const values: unknown[] = [];
    const all: Promise<unknown>[] = [];
    for (let k = 0; k < 16; k++) {
      const buf = Buffer.alloc(8 + k, 1);
      const p: Promise<unknown> = k % 4 === 3
        ? ring.chain().read(fd, buf, -1).nop().submit().then((r) => r.map((s) => s.status === 'fulfilled' ? s.value : 'rejected'))
        : ring.read(fd, buf, -1);
      all.push(p.then((v) => { settledCount[k]!++; values[k] = v; }, (e) => { settledCount[k]!++; values[k] = e; }));
      if (k === 0 || k === 3) void p.then(() => { throw new Error(`${BOOM}: then ${k}`); });
    }
    await within(Promise.all(all), 5000, 'every request settles');
    await delay(50);
    assert.deepEqual(settledCount, new Array(16).fill(1), 'each promise settled once');
    for (let k = 0; k < 16; k++) {
      assert.deepEqual(values[k], k % 4 === 3 ? [8 + k, 0] : 8 + k, `request ${k} got its own result`);
    }
    assert.equal(unhandled.length, 2, 'the two throwing handlers surfaced as unhandled rejections');
    await ringStillReads(ring);
    return null;
  } finally {
    process.off('unhandledRejection', onUnhandled);
    closeSync(fd);
    await closeWithin(ring, 2000);
  }
}
