// uring/net against node:net: each scenario runs the same calls on both and
// compares what a user sees. node:net is the control; loopback only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import * as nodeNet from 'node:net';
import { Duplex, PassThrough, pipeline, finished } from 'node:stream';
import { needsOp } from '../helpers';
import { NetModule, impls, listen, closed, within } from '../net-helpers';

const skip = needsOp('SOCKET');

/** A node:http server whose connections come from `net`'s server. */
async function httpOn(net: NetModule, handler: http.RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const hs = http.createServer(handler);
  const ns = net.createServer({}, (s) => hs.emit('connection', s));
  const port = await listen(ns);
  return {
    port,
    close: async () => { hs.closeAllConnections(); await closed(ns); },
  };
}

function get(port: number, path: string, agent?: http.Agent, init: http.RequestOptions = {}, body?: string):
  Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path, agent: agent ?? false, ...init }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends raw bytes and reads until the peer ends (or `ms`). */
async function raw(port: number, bytes: string, ms = 1000): Promise<string> {
  const c = nodeNet.connect(port, '127.0.0.1');
  c.setEncoding('latin1');
  let text = '';
  c.on('data', (d) => { text += d; });
  c.write(bytes);
  const r = await within(once(c, 'close'), ms);
  c.destroy();
  return r === 'timeout' ? `${text}<timeout>` : text;
}

describe('uring/net is node:net: node:http on its sockets', { skip, timeout: 20000 }, () => {
  const handler: http.RequestListener = (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.url === '/chunked') {
        res.write('a');
        res.write('b');
        res.end('c');
      } else {
        res.end(`${req.method} ${req.url} ${body}`);
      }
    });
  };

  it('a node:http server on its connections answers GET, keep-alive, pipelining, chunked and POST', async () => {
    const seen: Record<string, unknown[]> = {};
    for (const [name, net] of impls) {
      const srv = await httpOn(net, handler);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const out: unknown[] = [];
      out.push((await get(srv.port, '/a')).body);
      const k1 = await get(srv.port, '/k1', agent);
      const k2 = await get(srv.port, '/k2', agent);
      out.push(k1.body, k2.body, k2.headers.connection);
      const chunked = await get(srv.port, '/chunked');
      out.push(chunked.body, chunked.headers['transfer-encoding']);
      out.push((await get(srv.port, '/post', undefined, { method: 'POST' }, 'x'.repeat(100000))).body.length);
      const piped = await raw(srv.port,
        'GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      out.push(piped.match(/GET \/p\d/g));
      agent.destroy();
      await srv.close();
      seen[name] = out;
    }
    assert.deepEqual(seen['uring/net'], seen['node:net']);
    assert.deepEqual(seen['node:net']![0], 'GET /a ');
  });

  it('http.request({ createConnection }) runs a node:http client over it', async () => {
    const hs = http.createServer(handler);
    const port = await listen(hs as unknown as nodeNet.Server);
    const bodies: string[] = [];
    for (const [, net] of impls) {
      const r = await within(new Promise<string>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port, path: '/via', method: 'POST',
          createConnection: (o: object) => net.connect(o),
        }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end('body');
      }), 3000);
      bodies.push(r);
    }
    assert.deepEqual(bodies, ['POST /via body', 'POST /via body']);
    hs.closeAllConnections();
    await closed(hs as unknown as nodeNet.Server);
  });
});

describe('uring/net is node:net: the stream.Duplex surface', { skip, timeout: 20000 }, () => {
  it('is a stream.Duplex with node:net.Socket\'s properties and methods', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, (s) => s.pipe(s));
      const port = await listen(server);
      const c = net.connect(port, '127.0.0.1');
      assert.ok(c instanceof Duplex, name);
      assert.equal(c.pending, true, `${name} pending before connect`);
      await once(c, 'connect');
      assert.equal(c.pending, false);
      for (const k of ['readable', 'writable', 'writableEnded', 'writableLength', 'readableFlowing',
        'localFamily', 'localPort', 'remotePort', 'readyState', 'bytesWritten', 'bytesRead'] as const) {
        assert.notEqual((c as unknown as Record<string, unknown>)[k], undefined, `${name}.${k}`);
      }
      for (const m of ['pipe', 'cork', 'uncork', 'setTimeout', 'destroySoon', 'resetAndDestroy', 'ref', 'unref',
        'setEncoding', 'setNoDelay', 'setKeepAlive', 'address'] as const) {
        assert.equal(typeof (c as unknown as Record<string, unknown>)[m], 'function', `${name}.${m}()`);
      }
      assert.equal(c.localFamily, 'IPv4');
      c.cork();
      c.write('a');
      c.write('b');
      assert.equal(c.writableLength, 2);
      c.uncork();
      c.end('c');
      assert.equal(c.writableEnded, true);
      c.setEncoding('utf8');
      let text = '';
      for await (const d of c) text += d;
      assert.equal(text, 'abc', name);
      await closed(server);
    }
  });

  it('stream.pipeline() and finished() work through it, errors included', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, (s) => s.pipe(s));
      const port = await listen(server);
      const c = net.connect(port, '127.0.0.1');
      const sink = new PassThrough();
      const parts: Buffer[] = [];
      sink.on('data', (d) => parts.push(d));
      const src = new PassThrough();
      const done = new Promise<void>((resolve, reject) => pipeline(src, c, sink, (e) => (e ? reject(e) : resolve())));
      src.end(Buffer.alloc(200000, 5));
      await done;
      assert.equal(Buffer.concat(parts).length, 200000, name);
      // finished() reports the peer vanishing.
      const c2 = net.connect(port, '127.0.0.1');
      await once(c2, 'connect');
      const fin = new Promise<Error | undefined>((r) => finished(c2, (e) => r(e ?? undefined)));
      c2.destroy(new Error('boom'));
      assert.equal((await fin)?.message, 'boom', name);
      await closed(server);
    }
  });

  it('setTimeout() emits \'timeout\' after idleness and leaves the socket open', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, (s) => s.resume());
      const port = await listen(server);
      const c = net.connect(port, '127.0.0.1');
      await once(c, 'connect');
      const t0 = Date.now();
      c.setTimeout(50);
      assert.equal(c.timeout, 50);
      await once(c, 'timeout');
      assert.ok(Date.now() - t0 >= 40, name);
      assert.equal(c.destroyed, false);
      c.setTimeout(0);
      assert.equal(c.timeout, 0);
      assert.throws(() => c.setTimeout(-1), { code: 'ERR_OUT_OF_RANGE' });
      c.destroy();
      await closed(server);
    }
  });

  it('no \'drain\' after end()', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, (s) => s.resume());
      const port = await listen(server);
      // Written while connecting, so that node:net cannot hand it to the kernel at once either.
      const c = net.connect({ port, host: '127.0.0.1', writableHighWaterMark: 1024 } as object);
      let drains = 0;
      c.on('drain', () => drains++);
      assert.equal(c.write(Buffer.alloc(4096)), false);
      c.end();
      await once(c, 'close');
      assert.equal(drains, 0, name);
      await closed(server);
    }
  });

  it('destroySoon() ends, then destroys once written; resetAndDestroy() makes the peer see ECONNRESET', async () => {
    for (const [name, net] of impls) {
      let conn!: nodeNet.Socket;
      const server = net.createServer({}, (s) => { conn = s; });
      const port = await listen(server);
      const accepted = once(server, 'connection');
      const c = nodeNet.connect(port, '127.0.0.1');
      let text = '';
      c.on('data', (d) => { text += d; });
      await accepted;
      const ended = once(c, 'end');
      conn.write('bye');
      conn.destroySoon();
      await once(conn, 'close');
      await ended;
      assert.equal(text, 'bye', name);
      c.destroy();
      const accepted2 = once(server, 'connection');
      const c2 = nodeNet.connect(port, '127.0.0.1');
      await accepted2;
      const err = within(once(c2, 'error').then(([e]) => (e as NodeJS.ErrnoException).code), 2000);
      conn.resetAndDestroy();
      assert.equal(await err, 'ECONNRESET', name);
      await closed(server);
    }
  });
});

describe('uring/net is node:net: half-open', { skip, timeout: 20000 }, () => {
  it('allowHalfOpen false: a server that never reads still ends and closes when the peer ends (20 of 20)', async () => {
    for (const [name, net] of impls) {
      // node:net's documented example.
      const server = net.createServer({}, (s) => s.end('goodbye\n'));
      const port = await listen(server);
      const clients = Array.from({ length: 20 }, async () => {
        const c = nodeNet.connect(port, '127.0.0.1');
        let text = '';
        c.on('data', (d) => { text += d; });
        await once(c, 'end');
        c.end();
        await once(c, 'close');
        return text;
      });
      assert.deepEqual(await Promise.all(clients), Array(20).fill('goodbye\n'), name);
      assert.notEqual(await within(closed(server), 2000), 'timeout', `${name}: server.close() called back`);
    }
  });

  it('allowHalfOpen false ends our side when the peer ends, whether or not the user reads', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, () => undefined);
      const port = await listen(server);
      const c = nodeNet.connect(port, '127.0.0.1');
      await once(c, 'connect');
      c.end();
      assert.notEqual(await within(once(c, 'end'), 2000), 'timeout', name);
      c.destroy();
      assert.notEqual(await within(closed(server), 2000), 'timeout', name);
    }
  });
});
