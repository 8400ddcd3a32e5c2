// uring/net: many connections opened and closed leak no fds or requests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, Server } from '../../src/net/index';
import type { AddressInfo } from '../../src/net/index';
import { Ring } from '../../src/index';
import { needsOp, openFdCount } from '../helpers';

const skip = needsOp('SOCKET');

describe('uring/net resources', { skip, timeout: 60000 }, () => {
  it('10,000 connections opened and closed leave no fds and no requests behind', async () => {
    const ring = new Ring({ entries: 512 });
    const server: Server = createServer({ ring }, (s) => s.on('data', (d) => s.end(d)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const fds0 = openFdCount();
    const total = 10000;
    const parallel = 50;
    let next = 0;
    let echoed = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        next++;
        const c = connect({ port, host: '127.0.0.1', ring });
        await once(c, 'connect');
        c.write('x');
        for await (const d of c) echoed += (d as Buffer).length;
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    assert.equal(echoed, total);
    // Closes finish on the ring; give the last CQEs a moment.
    for (let k = 0; k < 50 && openFdCount() > fds0; k++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(openFdCount() <= fds0, `fds before ${fds0}, after ${openFdCount()}`);
    await new Promise((r) => server.close(r));
    assert.equal(ring.pending, 0, 'nothing left in flight');
    await ring.close();
  });

  it('an idle socket does not keep the buffer it last sent alive', async (t) => {
    if (typeof globalThis.gc !== 'function') return t.skip('needs --expose-gc');
    const server: Server = createServer((s) => s.resume());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const idle = connect(port, '127.0.0.1');
    const busy = connect(port, '127.0.0.1');
    try {
      await Promise.all([once(idle, 'connect'), once(busy, 'connect')]);
      const write = (s: typeof idle, b: Buffer): Promise<void> =>
        new Promise((resolve, reject) => s.write(b, (err) => (err ? reject(err) : resolve())));
      // In its own function, so that no frame of this one holds the buffer.
      const sendOne = async (): Promise<WeakRef<ArrayBuffer>> => {
        const buf = Buffer.from(new ArrayBuffer(65536), 0, 4096);
        await write(idle, buf);
        return new WeakRef(buf.buffer);
      };
      const sent = await sendOne();
      // More buffers than the ring keeps pinned after use, so that its own
      // cache of pins lets go of the first.
      for (let k = 0; k < 600; k++) await write(busy, Buffer.alloc(16));
      for (let k = 0; k < 10 && sent.deref() !== undefined; k++) {
        await new Promise((r) => setImmediate(r));
        globalThis.gc();
      }
      assert.equal(sent.deref(), undefined, 'the sent buffer was collected while the socket stays open');
    } finally {
      idle.destroy();
      busy.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
