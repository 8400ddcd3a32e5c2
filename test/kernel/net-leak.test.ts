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
});
