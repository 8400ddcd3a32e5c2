// A gathered write (cork()/uncork(), or writes queued behind a send) goes
// out as one send, and counts bytes by the engine's length, not by a
// `length` property a caller can define on the buffer.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { connect, defaultRing } from '../../src/net/index';

async function nodeServer(onConn: (c: net.Socket) => void): Promise<{ port: number; close(): void }> {
  const srv = net.createServer(onConn);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

it('cork(), two writes, uncork() reach the peer as one segment', { timeout: 5000 }, async () => {
  let first!: (s: string) => void;
  const got = new Promise<string>((r) => { first = r; });
  const srv = await nodeServer((c) => { c.once('data', (d) => first(d.toString())); c.on('error', () => undefined); });
  const s = connect(srv.port, '127.0.0.1');
  try {
    await once(s, 'connect');
    await new Promise((r) => setImmediate(r));
    const ring = defaultRing();
    const before = ring.stats.submitted;
    s.cork();
    s.write('a');
    s.write('bc');
    s.uncork();
    assert.equal(await got, 'abc');
    // One sendmsg for both: the first buffer did not go out alone.
    assert.equal(ring.stats.submitted - before, 1);
  } finally {
    s.destroy();
    srv.close();
  }
});

it('a buffer whose length property lies is sent whole, by its real length', { timeout: 5000 }, async () => {
  for (const lie of [0, 1000]) {
    let done!: (n: number) => void;
    const total = new Promise<number>((r) => { done = r; });
    const srv = await nodeServer((c) => {
      let n = 0;
      c.on('data', (d) => { n += d.length; });
      c.on('end', () => done(n));
      c.on('error', () => undefined);
    });
    const s = connect(srv.port, '127.0.0.1');
    try {
      await once(s, 'connect');
      const buf = Buffer.alloc(100, 0x61);
      Object.defineProperty(buf, 'length', { value: lie });
      s.write(buf);
      s.end(Buffer.from('tail'));
      assert.equal(await total, 104, `length shadowed as ${lie}`);
    } finally {
      s.destroy();
      srv.close();
    }
  }
});

// destroy() right after write(): the kernel still reads the buffer, so its
// callback must wait for the send's result; a callback that reuses the
// buffer must not change what the peer receives.
for (const size of [100, 200000]) {
  it(`destroy() after a write of ${size} B: the callback waits for the send, and the peer gets the bytes written`, { timeout: 5000 }, async () => {
    let peer!: (v: { total: number; other: number }) => void;
    const received = new Promise<{ total: number; other: number }>((r) => { peer = r; });
    const srv = await nodeServer((c) => {
      let total = 0;
      let other = 0;
      c.on('data', (d: Buffer) => { total += d.length; for (const b of d) if (b !== 0x41) other++; });
      c.on('error', () => undefined);
      c.on('close', () => peer({ total, other }));
    });
    try {
      const s = connect(srv.port, '127.0.0.1');
      await once(s, 'connect');
      s.on('error', () => undefined);
      const buf = Buffer.alloc(size, 0x41);
      const cb = new Promise<unknown>((r) => s.write(buf, (err) => { buf.fill(0x42); r(err ?? null); }));
      s.destroy();
      assert.equal(await cb, null);
      const got = await received;
      assert.equal(got.other, 0, 'no byte the callback wrote reached the peer');
      assert.equal(got.total, size);
    } finally {
      srv.close();
    }
  });
}
