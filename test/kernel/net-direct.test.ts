// uring/net with directDescriptors: connections live in registered slots of
// the ring's file table, never as fds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as nodeNet from 'node:net';
import { createServer, connect, Server, Socket } from '../../src/net/index';
import type { AddressInfo } from '../../src/net/index';
import { Ring } from '../../src/index';
import { assertViewMatches, delay, fdinfo, needsOp, openFdCount } from '../helpers';

const skip = needsOp('SOCKET') ?? needsOp('ACCEPT');

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await delay(10);
}

describe('uring/net on direct descriptors', { skip, timeout: 60000 }, () => {
  it('accepts into slots: echo works, each connection is a slot in fdinfo and takes no fd', async () => {
    const ring = new Ring({ entries: 256 });
    const conns: Socket[] = [];
    const server = createServer({ ring, directDescriptors: true, maxConnections: 16 }, (s) => {
      conns.push(s);
      s.on('data', (d) => s.write(d));
    });
    const port = await listening(server);
    const before = openFdCount();
    const clients: nodeNet.Socket[] = [];
    for (let k = 0; k < 6; k++) {
      const c = nodeNet.connect(port, '127.0.0.1');
      await once(c, 'connect');
      clients.push(c);
    }
    for (const [k, c] of clients.entries()) {
      c.write(`ping ${k}`);
      const [d] = await once(c, 'data');
      assert.equal(d.toString(), `ping ${k}`);
    }
    assert.equal(ring.files.size, 16, 'a sparse table was registered');
    assert.equal(ring.files.occupiedCount, 6);
    assertViewMatches(ring);
    // Only the six client sockets are new fds: the server side has none.
    assert.equal(openFdCount() - before, 6);
    assert.equal(conns[0]!.remoteAddress, undefined, 'a direct descriptor has no fd to ask');
    for (const c of clients) c.destroy();
    await until(() => ring.files.occupiedCount === 0);
    assert.equal(ring.files.occupiedCount, 0, 'closed connections free their slots');
    assert.equal(fdinfo(ring).files.size, 0);
    await new Promise((r) => server.close(r));
    await ring.close();
  });

  it('end() shuts the slot\'s socket down so the peer sees EOF, then closes the slot', async () => {
    const ring = new Ring({ entries: 64 });
    const server = createServer({ ring, directDescriptors: true, maxConnections: 4 }, (s) => {
      s.resume(); // reading is what notices the peer's close, as in node:net
      s.end(Buffer.from('bye'));
    });
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    let got = '';
    c.on('data', (d) => { got += d.toString(); });
    await once(c, 'end');
    assert.equal(got, 'bye');
    c.destroy();
    await until(() => ring.files.occupiedCount === 0);
    assert.equal(fdinfo(ring).files.size, 0);
    await new Promise((r) => server.close(r));
    await ring.close();
  });

  it('a full table holds further connections back, unaccepted, until a slot frees', async () => {
    const ring = new Ring({ entries: 64 });
    const conns: Socket[] = [];
    const server = createServer({ ring, directDescriptors: true, maxConnections: 2 }, (s) => {
      conns.push(s);
      s.on('data', (d) => s.write(d));
    });
    const port = await listening(server);
    const a = nodeNet.connect(port, '127.0.0.1');
    const b = nodeNet.connect(port, '127.0.0.1');
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    await until(() => conns.length === 2);
    const c = nodeNet.connect(port, '127.0.0.1'); // completes in the kernel's backlog
    await once(c, 'connect');
    await delay(100);
    assert.equal(conns.length, 2, 'no slot: the third waits');
    a.destroy();
    await until(() => conns.length === 3, 3000);
    assert.equal(conns.length, 3, 'accepted once a slot was free');
    c.write('third');
    const [d] = await once(c, 'data');
    assert.equal(d.toString(), 'third');
    b.destroy(); c.destroy();
    await until(() => ring.files.occupiedCount === 0);
    await new Promise((r) => server.close(r));
    await ring.close();
  });

  it('1,000 connections opened and closed leave no slot, fd or request behind', async () => {
    const ring = new Ring({ entries: 512 });
    const server = createServer({ ring, directDescriptors: true, maxConnections: 64 }, (s) => s.on('data', (d) => s.end(d)));
    const port = await listening(server);
    const fds0 = openFdCount();
    let next = 0;
    let echoed = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000) {
        next++;
        const c = connect({ port, host: '127.0.0.1', ring });
        await once(c, 'connect');
        c.write('x');
        for await (const d of c) echoed += (d as Buffer).length;
      }
    };
    await Promise.all(Array.from({ length: 20 }, worker));
    assert.equal(echoed, 1000);
    await until(() => ring.files.occupiedCount === 0 && openFdCount() <= fds0);
    assert.equal(ring.files.occupiedCount, 0);
    assert.equal(fdinfo(ring).files.size, 0);
    assert.ok(openFdCount() <= fds0, `fds before ${fds0}, after ${openFdCount()}`);
    await new Promise((r) => server.close(r));
    assert.equal(ring.pending, 0);
    await ring.close();
  });
});
