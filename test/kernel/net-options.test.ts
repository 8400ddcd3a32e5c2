// uring/net against node:net: reset peers, zero-copy sends at destroy, full
// direct-descriptor tables, Unix domain sockets and the options node:net
// takes. Each scenario runs on both modules and compares; loopback only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as nodeNet from 'node:net';
import * as uringNet from '../../src/net/index';
import { Ring } from '../../src/index';
import { needsOp, tempDir } from '../helpers';
import { impls, listen, closed, within } from '../net-helpers';

const skip = needsOp('SOCKET');
const NET = join(__dirname, '../../src/net/index.js');

/** Runs `code` in a child node with `net` bound to the module; resolves with [ms to exit, stdout]. */
function child(mod: string, code: string, limitMs = 5000): Promise<[number, string]> {
  const t0 = Date.now();
  const src = `const net = require(${JSON.stringify(mod === 'node:net' ? 'node:net' : NET)});\n${code}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', src], { timeout: limitMs }, (_err, stdout) => resolve([Date.now() - t0, stdout]));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = nodeNet.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as nodeNet.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('uring/net is node:net: reset peers and closing', { skip, timeout: 30000 }, () => {
  it('a reading socket whose peer resets always sees ECONNRESET or \'end\' (20 of 20)', async () => {
    for (const [name, net] of impls) {
      const outcomes: string[] = [];
      const server = net.createServer({}, (s) => {
        const seen = new Promise<string>((resolve) => {
          s.on('data', () => undefined);
          s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code!));
          s.on('end', () => resolve('end'));
        });
        void within(seen, 2000).then((o) => { outcomes.push(o); if (o === 'timeout') s.destroy(); });
      });
      const port = await listen(server);
      await Promise.all(Array.from({ length: 20 }, async (_, k) => {
        const c = nodeNet.connect(port, '127.0.0.1');
        await once(c, 'connect');
        c.write(Buffer.alloc(k * 3000, 1));
        await new Promise((r) => setTimeout(r, k % 4));
        c.resetAndDestroy();
      }));
      for (let k = 0; k < 250 && outcomes.length < 20; k++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(outcomes.length, 20, name);
      assert.ok(outcomes.every((o) => o === 'ECONNRESET' || o === 'end'), `${name}: ${outcomes.join(' ')}`);
      await closed(server);
    }
  });

  it('destroy() with a large send queued to a peer that never reads lets the process exit at once', async () => {
    const code = `
      const nodeNet = require('node:net');
      const server = net.createServer({ zeroCopyThreshold: 4096 }, (s) => {
        s.write(Buffer.alloc(8 << 20));
        setTimeout(() => { s.destroy(); server.close(); console.log('destroyed'); }, 50);
      });
      server.listen(0, '127.0.0.1', () => {
        const c = nodeNet.connect(server.address().port, '127.0.0.1');
        c.pause(); // never reads
        c.on('error', () => {});
        c.unref();
      });`;
    const times: Record<string, number> = {};
    for (const [name] of impls) {
      const [ms, out] = await child(name, code, 10000);
      assert.match(out, /destroyed/, name);
      times[name] = ms;
    }
    assert.ok(times['uring/net']! < 3000, `uring/net took ${times['uring/net']} ms (node:net ${times['node:net']})`);
  });

  it('ref()/unref(): an unref\'d server and socket let the process exit; ref() holds it again', async () => {
    const code = (ref: boolean): string => `
      const server = net.createServer({}, (s) => s.unref());
      server.listen(0, '127.0.0.1', () => {
        const c = net.connect(server.address().port, '127.0.0.1', () => {
          c.unref(); server.unref();
          ${ref ? 'server.ref(); setTimeout(() => { console.log("held"); process.exit(0); }, 300);' : ''}
        });
      });`;
    for (const [name] of impls) {
      const [ms] = await child(name, code(false), 4000);
      assert.ok(ms < 3000, `${name}: unref'd exited after ${ms} ms`);
      const [, out] = await child(name, code(true), 4000);
      assert.match(out, /held/, `${name}: ref() kept it alive`);
    }
  });
});

describe('uring/net is node:net: direct descriptors with a full table', { skip, timeout: 30000 }, () => {
  it('64 clients on 16 slots: every one is served, none reset; the rest wait in the backlog', async () => {
    const results: Record<string, string[]> = {};
    for (const [name, net] of impls) {
      const ring = name === 'uring/net' ? new Ring({ entries: 256 }) : undefined;
      const server = net.createServer({ ring, directDescriptors: true, maxConnections: 16 }, (s) => {
        s.once('data', (d: Buffer) => setTimeout(() => s.end(d), 20));
      });
      const port = await listen(server);
      const replies = await Promise.all(Array.from({ length: 64 }, (_, k) => new Promise<string>((resolve) => {
        const c = nodeNet.connect(port, '127.0.0.1');
        let text = '';
        c.on('data', (d) => { text += d; });
        c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code!));
        c.on('end', () => { c.end(); resolve(text); });
        c.write(`c${k}`);
      })));
      results[name] = replies;
      await closed(server);
      await ring?.close();
    }
    const want = Array.from({ length: 64 }, (_, k) => `c${k}`);
    assert.deepEqual(results['node:net'], want);
    assert.deepEqual(results['uring/net'], want);
  });
});

describe('uring/net is node:net: Unix domain sockets and options', { skip, timeout: 30000 }, () => {
  it('listen(path) and connect(path): a Unix domain socket, its file removed on close', async () => {
    const tmp = tempDir();
    try {
      for (const [name, net] of impls) {
        for (const [cname, cnet] of impls) {
          const path = tmp.path(`${name.replace(/\W/g, '')}-${cname.replace(/\W/g, '')}.sock`);
          const server = net.createServer({}, (s) => s.pipe(s));
          server.listen(path);
          await once(server, 'listening');
          assert.equal(server.address(), path, name);
          const c = cnet.connect(path);
          await once(c, 'connect');
          c.end('over unix');
          let text = '';
          for await (const d of c) text += d;
          assert.equal(text, 'over unix', `${cname} -> ${name}`);
          await closed(server);
          assert.equal(existsSync(path), false, `${name} removes its socket file`);
        }
      }
      // The same for an address already in use.
      for (const [name, net] of impls) {
        const path = tmp.path(`busy-${name.replace(/\W/g, '')}.sock`);
        const a = net.createServer({});
        a.listen(path);
        await once(a, 'listening');
        const b = net.createServer({});
        b.listen(path);
        const [err] = await once(b, 'error');
        assert.equal(err.code, 'EADDRINUSE', name);
        await closed(a);
      }
    } finally { tmp.cleanup(); }
  });

  it('listen(\'8123\') listens on that port; listen({ ipv6Only }) keeps IPv4 clients out', async (t) => {
    for (const [name, net] of impls) {
      const port = await freePort();
      const server = net.createServer({});
      (server.listen as (...a: unknown[]) => unknown)(String(port), '127.0.0.1');
      await once(server, 'listening');
      assert.equal((server.address() as nodeNet.AddressInfo).port, port, name);
      await closed(server);
    }
    const v6 = nodeNet.createServer();
    const hasV6 = await new Promise<boolean>((r) => v6.once('error', () => r(false)).listen(0, '::1', () => v6.close(() => r(true))));
    if (!hasV6) return t.skip('no IPv6');
    for (const [name, net] of impls) {
      const server = net.createServer({});
      server.listen({ host: '::', port: 0, ipv6Only: true });
      await once(server, 'listening');
      const port = (server.address() as nodeNet.AddressInfo).port;
      const c = nodeNet.connect(port, '127.0.0.1');
      const [err] = await once(c, 'error');
      assert.equal(err.code, 'ECONNREFUSED', name);
      await closed(server);
    }
  });

  it('address() and localPort after close report nothing, not whichever socket has the fd now', async () => {
    for (const [name, net] of impls) {
      const server = net.createServer({}, (s) => s.resume());
      const port = await listen(server);
      const c = net.connect(port, '127.0.0.1');
      await once(c, 'connect');
      assert.equal(typeof c.localPort, 'number');
      c.destroy();
      await once(c, 'close');
      const other = nodeNet.connect(port, '127.0.0.1'); // may take the fd number
      await once(other, 'connect');
      assert.deepEqual(c.address(), {}, name);
      assert.equal(c.localPort, undefined, name);
      other.destroy();
      await closed(server);
    }
  });

  it('connect({ localAddress, localPort, timeout, signal, keepAlive }) does what node:net does', async () => {
    for (const [name, net] of impls) {
      let remotePort: number | undefined;
      const server = net.createServer({}, (s) => { remotePort = s.remotePort; s.resume(); });
      const port = await listen(server);
      const localPort = await freePort();
      const accepted = once(server, 'connection');
      const c = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1', localPort, keepAlive: true, timeout: 40 });
      await once(c, 'connect');
      assert.equal(c.localPort, localPort, name);
      await accepted;
      assert.equal(remotePort, localPort, name);
      assert.notEqual(await within(once(c, 'timeout'), 2000), 'timeout', `${name}: options.timeout`);
      c.destroy();
      const ac = new AbortController();
      const c2 = net.connect({ port, host: '127.0.0.1', signal: ac.signal });
      ac.abort();
      const [err] = await once(c2, 'error');
      assert.equal(err.name, 'AbortError', name);
      await closed(server);
    }
  });

  it('createServer({ pauseOnConnect }) receives nothing until resume(); maxConnections drops the excess', async () => {
    for (const [name, net] of impls) {
      let conn!: nodeNet.Socket;
      const server = net.createServer({ pauseOnConnect: true }, (s) => { conn = s; });
      const port = await listen(server);
      const accepted = once(server, 'connection');
      const c = nodeNet.connect(port, '127.0.0.1');
      c.write('early');
      await accepted;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(conn.bytesRead, 0, name);
      conn.resume();
      const [d] = await once(conn, 'data');
      assert.equal(String(d), 'early', name);
      c.destroy();
      conn.destroy();
      await closed(server);

      const limited = net.createServer({}, (s) => s.resume());
      limited.maxConnections = 1;
      const lport = await listen(limited);
      const firstIn = once(limited, 'connection');
      const first = nodeNet.connect(lport, '127.0.0.1');
      await firstIn;
      const dropped = once(limited, 'drop');
      const second = nodeNet.connect(lport, '127.0.0.1');
      second.on('error', () => undefined);
      second.resume();
      assert.notEqual(await within(once(second, 'close'), 2000), 'timeout', `${name}: the excess connection is closed`);
      assert.notEqual(await within(dropped, 2000), 'timeout', `${name}: 'drop'`);
      first.destroy();
      await closed(limited);
    }
  });

  it('options uring/net cannot honour are refused with ERR_INVALID_ARG_VALUE, bad ports with ERR_SOCKET_BAD_PORT', () => {
    assert.throws(() => uringNet.connect({ fd: 3 } as never), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => uringNet.connect({ port: 1, onread: {} } as never), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => uringNet.createServer().listen({ handle: {} } as never), { code: 'ERR_INVALID_ARG_VALUE' });
    for (const [, net] of impls) {
      assert.throws(() => net.connect(70000, '127.0.0.1'), { code: 'ERR_SOCKET_BAD_PORT' });
      assert.throws(() => net.connect({ host: '127.0.0.1' }), { code: 'ERR_MISSING_ARGS' });
    }
  });
});
