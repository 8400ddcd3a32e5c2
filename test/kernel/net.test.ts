// uring/net: servers and connections on loopback (127.0.0.1 and ::1 only).
import { RECV_POOL_BYTES } from '../../src/net/receiver';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as nodeNet from 'node:net';
import { createServer, connect, Server, Socket, encodeSockaddr, decodeSockaddr, ops } from '../../src/net/index';
import type { AddressInfo } from '../../src/net/index';
import { Ring } from '../../src/index';
import { needsOp, delay } from '../helpers';

const skip = needsOp('SOCKET');

async function listening(server: Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function readAll(s: nodeNet.Socket | Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

describe('uring/net', { skip, timeout: 5000 }, () => {
  const servers: Server[] = [];
  after(async () => { for (const s of servers) if (s.listening) await closeServer(s); });

  it('sockaddr encoding round-trips IPv4 and IPv6 addresses as Node prints them', () => {
    for (const [host, shown] of [['127.0.0.1', '127.0.0.1'], ['::1', '::1'], ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], ['::', '::']] as const) {
      const a = decodeSockaddr(encodeSockaddr(host, 8080))!;
      assert.deepEqual(a, { address: shown, family: host.includes(':') ? 'IPv6' : 'IPv4', port: 8080 });
    }
    assert.throws(() => encodeSockaddr('example.com', 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => encodeSockaddr('127.0.0.1', 70000), { code: 'ERR_OUT_OF_RANGE' });
  });

  it('low-level ops reject bad input before taking an SQE', async () => {
    const ring = new Ring({ entries: 4 });
    try {
      await assert.rejects(ops.socket(ring, 99), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ops.connect(ring, -1, encodeSockaddr('127.0.0.1', 1)), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ops.connect(ring, 0, new Uint8Array(3)), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ops.shutdown(ring, 0, 7), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ops.listen(ring, 0, -1), { code: 'ERR_OUT_OF_RANGE' });
      assert.equal(ring.stats.submitted, 0);
    } finally { await ring.close(); }
  });

  it('low-level ops: socket, bind, listen, accept, connect, send, recv, shutdown on one ring', async () => {
    const ring = new Ring({ entries: 16 });
    try {
      const lfd = await ops.socket(ring, 2);
      await ops.bind(ring, lfd, encodeSockaddr('127.0.0.1', 0));
      await ops.listen(ring, lfd, 16);
      const port = (ops.socketAddress(ring, lfd, false) as AddressInfo).port;
      const cfd = await ops.socket(ring, 2);
      const accepted = ops.accept(ring, lfd);
      await ops.connect(ring, cfd, encodeSockaddr('127.0.0.1', port));
      const a = await accepted;
      assert.equal(a.remote?.address, '127.0.0.1');
      assert.equal(await ops.send(ring, cfd, Buffer.from('ping')), 4);
      const buf = Buffer.alloc(16);
      assert.equal(await ops.recv(ring, a.fd, buf), 4);
      assert.equal(buf.toString('utf8', 0, 4), 'ping');
      await ops.shutdown(ring, cfd, 1);
      assert.equal(await ops.recv(ring, a.fd, buf), 0, 'EOF after the peer shut down writing');
      for (const fd of [a.fd, cfd, lfd]) await ring.closeFd(fd);
    } finally { await ring.close(); }
  });

  it('echoes data to a node:net client and reports addresses like node:net', async () => {
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    servers.push(server);
    const port = await listening(server);
    assert.deepEqual(server.address(), { address: '127.0.0.1', family: 'IPv4', port });
    const connection = once(server, 'connection');
    const c = nodeNet.connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.write('hello');
    const sock = (await connection)[0] as Socket;
    assert.equal(sock.remoteAddress, '127.0.0.1');
    assert.equal(sock.remotePort, c.localPort);
    assert.equal(sock.localPort, port);
    const [d] = await once(c, 'data');
    assert.equal(d.toString(), 'hello');
    c.end();
    await once(sock, 'close');
    await closeServer(server);
  });

  it('works over IPv6 (::1) with a uring/net client', async (t) => {
    const server = createServer((s) => s.on('data', (d) => s.write(d)));
    servers.push(server);
    let port: number;
    try { port = await listening(server, '::1'); } catch { return t.skip('no IPv6 loopback'); }
    const c = connect(port, '::1');
    await once(c, 'connect');
    assert.equal(c.remoteAddress, '::1');
    assert.equal(c.remoteFamily, 'IPv6');
    c.write('six');
    const [d] = await once(c, 'data');
    assert.equal(d.toString(), 'six');
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  it('connect to a closed port fails like node:net: ECONNREFUSED with syscall, address and port', async () => {
    const probe = nodeNet.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as nodeNet.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const c = connect(port, '127.0.0.1');
    const [err] = await once(c, 'error');
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.errno, -111);
    assert.equal(err.syscall, 'connect');
    assert.equal(err.address, '127.0.0.1');
    assert.equal(err.port, port);
    assert.equal(err.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
    await once(c, 'close');
  });

  it('listening on a port in use emits EADDRINUSE with syscall listen', async () => {
    const a = createServer();
    servers.push(a);
    const port = await listening(a);
    const b = createServer();
    b.listen(port, '127.0.0.1');
    const [err] = await once(b, 'error');
    assert.equal(err.code, 'EADDRINUSE');
    assert.equal(err.syscall, 'listen');
    assert.equal(err.port, port);
    await closeServer(a);
  });

  it('half-close: the peer ends, the server still writes, then ends', async () => {
    const server = createServer({ allowHalfOpen: true }, async (s) => {
      // As with node:net, a for-await loop that ends destroys the stream; a
      // half-open socket that still writes iterates without that.
      const parts: Buffer[] = [];
      for await (const c of s.iterator({ destroyOnReturn: false })) parts.push(c as Buffer);
      s.end(`got ${Buffer.concat(parts).length} bytes`);
    });
    servers.push(server);
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    c.end(Buffer.alloc(100000, 7));
    assert.equal((await readAll(c)).toString(), 'got 100000 bytes');
    await closeServer(server);
  });

  it('end() shuts down after pending writes, so the peer reads everything then EOF', async () => {
    const big = Buffer.alloc(3 << 20, 1);
    const server = createServer((s) => { s.resume(); s.write(big); s.write('tail'); s.end(); });
    servers.push(server);
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    const all = await readAll(c);
    assert.equal(all.length, big.length + 4);
    assert.equal(all.subarray(-4).toString(), 'tail');
    await closeServer(server);
  });

  it('a large write goes out zero-copy where the kernel has SEND_ZC, and its callback runs', async (t) => {
    if (needsOp('SEND_ZC')) return t.skip('kernel lacks SEND_ZC');
    const data = Buffer.alloc(256 * 1024, 3);
    let called = false;
    const server = createServer((s) => s.resume().end(data, () => { called = true; }));
    servers.push(server);
    const port = await listening(server);
    const all = await readAll(nodeNet.connect(port, '127.0.0.1'));
    assert.equal(all.length, data.length);
    assert.ok(all.equals(data));
    await delay(20);
    assert.ok(called, 'end() callback ran after the notification');
    await closeServer(server);
  });

  it('a peer that vanishes mid-stream gives ECONNRESET (read) or EPIPE (write) and a close', async () => {
    let resolveErr!: (e: NodeJS.ErrnoException) => void;
    const gotErr = new Promise<NodeJS.ErrnoException>((r) => { resolveErr = r; });
    const server = createServer((s) => {
      s.on('error', resolveErr);
      const chunk = Buffer.alloc(65536);
      const pump = (): void => { while (!s.destroyed && s.write(chunk)); };
      s.on('drain', pump);
      s.on('data', () => undefined);
      pump();
    });
    servers.push(server);
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.write('x');
    await delay(30);
    c.resetAndDestroy();
    const err = await gotErr;
    assert.ok(['ECONNRESET', 'EPIPE'].includes(err.code!), err.code);
    assert.ok(['read', 'write'].includes(err.syscall!));
    await closeServer(server);
  });

  it('connections and incoming data are async iterables', async () => {
    const server = createServer({ allowHalfOpen: true });
    servers.push(server);
    const port = await listening(server);
    const clients = [0, 1, 2].map((k) => {
      const c = nodeNet.connect(port, '127.0.0.1');
      c.end(`client ${k}`);
      return readAll(c);
    });
    const seen: string[] = [];
    for await (const conn of server) {
      let text = '';
      for await (const chunk of conn.iterator({ destroyOnReturn: false })) text += String(chunk);
      seen.push(text);
      conn.end(text.toUpperCase());
      if (seen.length === 3) break;
    }
    assert.deepEqual(seen.sort(), ['client 0', 'client 1', 'client 2']);
    assert.deepEqual((await Promise.all(clients)).map(String).sort(), ['CLIENT 0', 'CLIENT 1', 'CLIENT 2']);
    assert.equal(server.listening, false, 'leaving the loop closes the server');
  });

  it('back-pressure: a consumer that does not read stops receiving at the high-water mark', async () => {
    let conn!: Socket;
    const server = createServer({ readableHighWaterMark: 32768, recvBufferSize: 8192 }, (s) => { conn = s; });
    servers.push(server);
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    await once(c, 'connect');
    const total = 8 << 20;
    const blob = Buffer.alloc(total, 9);
    let flushed = false;
    c.write(blob, () => { flushed = true; });
    await delay(50);
    const it = conn[Symbol.asyncIterator]();
    // A stream.Readable's iterator hands over all it buffered in one chunk.
    const first = await it.next();
    await delay(100);
    // One receive's worth beyond the mark, or with multishot receives what
    // the kernel posted before the cancel landed: at most the shared pool.
    assert.ok(conn.readableLength <= 32768 + Math.max(8192, RECV_POOL_BYTES), `buffered ${conn.readableLength}`);
    assert.equal(flushed, false, 'the sender is held back by TCP');
    let got = (first.value as Buffer).length;
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      got += (r.value as Buffer).length;
      if (got + 8192 >= total - 65536) { c.end(); }
    }
    assert.ok(got > total - 65536);
    await closeServer(server);
  });

  it('writes of every size keep their order and call back in order, across partial sends, with bytesWritten counting them', async () => {
    // A peer that reads only after a while fills the socket buffers, so
    // sends come back partial and writes queue up behind them.
    const sizes = [1, 0, 64, 300000, 7, 0, 2 << 20, 13, 65536, 5];
    const parts = sizes.map((n, k) => Buffer.alloc(n, k + 1));
    const total = sizes.reduce((a, b) => a + b, 0);
    const server = nodeNet.createServer((s) => { s.pause(); setTimeout(() => s.resume(), 50); s.pipe(s); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const c = connect(port, '127.0.0.1');
    const order: number[] = [];
    // Written before the connection exists, then in one turn, then from a callback.
    c.write(parts[0]!, () => order.push(0));
    c.write(parts[1]!, () => order.push(1));
    await once(c, 'connect');
    for (let k = 2; k < 8; k++) c.write(parts[k]!, () => order.push(k));
    c.write(parts[8]!, () => {
      order.push(8);
      c.end(parts[9]!, () => order.push(9));
    });
    const got = await readAll(c);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(c.bytesWritten, total);
    assert.ok(got.equals(Buffer.concat(parts)));
    server.close();
  });

  it('destroy() with writes queued fails their callbacks, after the ones already sent', async () => {
    const server = nodeNet.createServer((s) => s.pause());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    const results: (string | undefined)[] = [];
    for (let k = 0; k < 4; k++) c.write(Buffer.alloc(4 << 20), (err) => results.push((err as NodeJS.ErrnoException | null | undefined)?.code));
    c.on('error', () => undefined);
    await delay(20);
    c.destroy();
    await once(c, 'close');
    await delay(10);
    assert.equal(results.length, 4);
    assert.equal(results.at(-1), 'ERR_STREAM_DESTROYED');
    server.close();
  });

  it('write() returns false past the high-water mark and drain follows', async () => {
    const server = createServer({ writableHighWaterMark: 1024 }, (s) => {
      s.resume();
      const ok = s.write(Buffer.alloc(4096));
      assert.equal(ok, false);
      s.once('drain', () => s.end('done'));
    });
    servers.push(server);
    const port = await listening(server);
    const all = await readAll(nodeNet.connect(port, '127.0.0.1'));
    assert.equal(all.length, 4096 + 4);
    await closeServer(server);
  });

  it('destroy() closes at once and the peer sees the end', async () => {
    const server = createServer((s) => s.destroy());
    servers.push(server);
    const port = await listening(server);
    const c = nodeNet.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    await once(c, 'close');
    await closeServer(server);
  });

  it('write after end fails with ERR_STREAM_WRITE_AFTER_END', async () => {
    const server = createServer((s) => s.on('data', () => undefined));
    servers.push(server);
    const port = await listening(server);
    const c = connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.end();
    const done = new Promise((r) => c.write('x', r));
    const [err] = await once(c, 'error');
    assert.equal(err.code, 'ERR_STREAM_WRITE_AFTER_END');
    await done;
    c.destroy();
    await closeServer(server);
  });

  it('setNoDelay() and setKeepAlive() apply to a connected socket', async () => {
    const server = createServer((s) => { s.resume().setNoDelay(true).setKeepAlive(true, 5000); s.end('ok'); });
    servers.push(server);
    const port = await listening(server);
    assert.equal((await readAll(nodeNet.connect(port, '127.0.0.1'))).toString(), 'ok');
    await closeServer(server);
  });

  it('close() on a server that is not listening calls back with ERR_SERVER_NOT_RUNNING', async () => {
    const s = createServer();
    const err = await new Promise<Error | undefined>((r) => s.close(r));
    assert.equal((err as { code?: string }).code, 'ERR_SERVER_NOT_RUNNING');
  });
});
