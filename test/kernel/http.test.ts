// uring/http: node:http's Server on ring connections, with Express, Fastify
// and TLS, against the same code on node:http. Loopback only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import * as uringHttp from '../../src/http/index';
import * as uringNet from '../../src/net/index';
import { needsOp, tempDir } from '../helpers';
import { within } from '../net-helpers';

const skip = needsOp('SOCKET');

type Make = (handler: http.RequestListener) => http.Server;
const makers: [string, Make][] = [
  ['node:http', (h) => http.createServer(h)],
  ['uring/http', (h) => uringHttp.createServer(h)],
];

async function up(server: http.Server | https.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function down(server: http.Server | https.Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
}

async function fetchText(url: string, init?: RequestInit): Promise<[number, string]> {
  const r = await fetch(url, init);
  return [r.status, await r.text()];
}

describe('uring/http', { skip, timeout: 20000 }, () => {
  it('createServer() is a node:http Server: events, listen/close/address, keep-alive', async () => {
    const seen: Record<string, unknown[]> = {};
    for (const [name, make] of makers) {
      const server = make((req, res) => res.end(`hi ${req.url}`));
      assert.ok(server instanceof http.Server, name);
      const events: string[] = [];
      server.on('request', () => events.push('request'));
      server.on('connection', () => events.push('connection'));
      const port = await up(server);
      assert.equal(server.listening, true);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (path: string): Promise<string> => new Promise((resolve, reject) => {
        http.get({ port, host: '127.0.0.1', path, agent }, (res) => {
          let t = '';
          res.on('data', (d) => { t += d; });
          res.on('end', () => resolve(t));
        }).on('error', reject);
      });
      const out = [await get('/a'), await get('/b')];
      agent.destroy();
      await down(server);
      assert.equal(server.listening, false);
      seen[name] = [out, events];
    }
    assert.deepEqual(seen['uring/http'], seen['node:http']);
    assert.deepEqual(seen['node:http'], [['hi /a', 'hi /b'], ['connection', 'request', 'request']]);
  });

  it('headersTimeout/requestTimeout still apply: a slow client gets 408', async () => {
    const codes: string[] = [];
    for (const [, make] of makers) {
      const server = make((_req, res) => res.end('x'));
      server.headersTimeout = 200;
      server.requestTimeout = 300;
      (server as unknown as { connectionsCheckingInterval: number }).connectionsCheckingInterval = 50;
      const port = await up(server);
      const c = uringNet.connect(port, '127.0.0.1');
      c.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never finishes its headers
      let text = '';
      c.on('data', (d) => { text += d; });
      await within(once(c, 'close'), 3000);
      codes.push(text.split('\r\n')[0]!);
      await down(server);
    }
    assert.deepEqual(codes, ['HTTP/1.1 408 Request Timeout', 'HTTP/1.1 408 Request Timeout']);
  });

  it('runs an Express app unchanged: createServer(app).listen()', async () => {
    const results: unknown[] = [];
    for (const [, make] of makers) {
      const app = express();
      app.use(express.json());
      app.get('/users/:id', (req, res) => { res.json({ id: req.params.id }); });
      app.post('/echo', (req, res) => { res.status(201).json(req.body); });
      const server = make(app as unknown as http.RequestListener);
      const port = await up(server);
      const base = `http://127.0.0.1:${port}`;
      results.push([
        await fetchText(`${base}/users/7`),
        await fetchText(`${base}/echo`, { method: 'POST', body: '{"a":[1,2]}', headers: { 'content-type': 'application/json' } }),
        (await fetchText(`${base}/missing`))[0],
      ]);
      await down(server);
    }
    assert.deepEqual(results[1], results[0]);
    assert.deepEqual(results[0], [[200, '{"id":"7"}'], [201, '{"a":[1,2]}'], 404]);
  });

  it('runs Fastify through serverFactory', async () => {
    const results: unknown[] = [];
    for (const [name, make] of makers) {
      const app = Fastify({ serverFactory: (handler) => make(handler as http.RequestListener) });
      app.get('/hello/:who', async (req) => ({ hello: (req.params as { who: string }).who }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = (app.server.address() as AddressInfo).port;
      results.push([name === 'uring/http', await fetchText(`http://127.0.0.1:${port}/hello/ring`)]);
      await app.close();
    }
    assert.deepEqual(results, [[false, [200, '{"hello":"ring"}']], [true, [200, '{"hello":"ring"}']]]);
  });
});

describe('TLS over ring sockets', { skip, timeout: 20000 }, () => {
  const tmp = tempDir();
  let key = '';
  let cert = '';
  let haveOpenssl = true;
  before(() => {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', tmp.path('key.pem'), '-out', tmp.path('cert.pem'), '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      key = readFileSync(tmp.path('key.pem'), 'utf8');
      cert = readFileSync(tmp.path('cert.pem'), 'utf8');
    } catch { haveOpenssl = false; }
  });
  after(() => tmp.cleanup());

  it('an https server on ring connections, and tls.connect({ socket }) over a ring socket', async (t) => {
    if (!haveOpenssl) return t.skip('no openssl to make a certificate');
    const out: unknown[] = [];
    const servers: [string, https.Server][] = [
      ['node:https', https.createServer({ key, cert }, (req, res) => res.end(`secure ${req.url}`))],
      ['uring/http', uringHttp.createSecureServer({ key, cert }, (req, res) => res.end(`secure ${req.url}`))],
    ];
    for (const [, server] of servers) {
      const port = await up(server);
      // A node:https client...
      const viaHttps = await new Promise<string>((resolve, reject) => {
        https.get({ port, host: '127.0.0.1', path: '/x', ca: cert, agent: false }, (res) => {
          let text = '';
          res.on('data', (d) => { text += d; });
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      // ...and TLS wrapped around a uring/net socket on the client side.
      const raw = uringNet.connect(port, '127.0.0.1');
      const secure = tls.connect({ socket: raw as never, ca: cert, servername: 'localhost' });
      await once(secure, 'secureConnect');
      secure.end('GET /y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      let text = '';
      for await (const d of secure) text += d;
      out.push([viaHttps, secure.authorized, text.endsWith('secure /y')]);
      await down(server);
    }
    assert.deepEqual(out[1], out[0]);
    assert.deepEqual(out[0], ['secure /x', true, true]);
  });
});
