// http: keep-alive GET requests answered with "Hello, world!" on 127.0.0.1.
//
// Two comparisons in one workload, each with its own load generator:
// - uring-http against node-http (the baseline): the same node:http handler,
//   res.end('hello'), on node:http's own server, its connections from the
//   ring (uring/http) or from libuv. Driven by autocannon in its own process,
//   keep-alive, one request in flight per connection. This is the transport
//   comparison users care about.
// - uring-net against node-net (the secondary): a minimal HTTP/1.1 responder,
//   no node:http parser, driven by the repository's pipelining generator
//   (echo-load.ts). What the ring gains on its own.
// Compare rows only with the reference driven the same way.
import * as http from 'node:http';
import * as net from 'node:net';
import { createServer, Socket } from '../../net/index';
import { Variant, Workload } from '../harness';
import * as uringHttp from '../../http/index';
import { ServerUnderTest, lazyGenerator, serverVariant, wrap } from './echo';
import { autocannonPath, autocannonRound } from './autocannon';

const BODY = 'Hello, world!';
let dateSecond = -1;
let response = Buffer.alloc(0);

function currentResponse(): Buffer {
  const now = Math.floor(Date.now() / 1000);
  if (now !== dateSecond) {
    dateSecond = now;
    response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n`
      + `Date: ${new Date(now * 1000).toUTCString()}\r\nConnection: keep-alive\r\n\r\n${BODY}`);
  }
  return response;
}

const END = Buffer.from('\r\n\r\n');

/** The part of a socket the responder uses: node:net's and uring/net's alike. */
interface DataSocket {
  on(event: 'data', cb: (d: Buffer) => void): unknown;
  on(event: 'error', cb: () => void): unknown;
  write(b: Buffer): unknown;
}

/** Answers every request head that arrives (no bodies: GET only). */
export function helloResponder(s: Socket | DataSocket): void {
  let carry = Buffer.alloc(0);
  s.on('data', (d: Buffer) => {
    const b = carry.length ? Buffer.concat([carry, d]) : d;
    let n = 0;
    let from = 0;
    for (let at = b.indexOf(END); at >= 0; at = b.indexOf(END, from)) { n++; from = at + 4; }
    carry = from < b.length ? Buffer.from(b.subarray(from)) : Buffer.alloc(0);
    if (n === 1) s.write(currentResponse());
    else if (n > 1) s.write(Buffer.concat(new Array<Buffer>(n).fill(currentResponse())));
  });
  (s as DataSocket).on('error', () => undefined);
}

/** A variant driven by autocannon in its own process. */
function autocannonVariant(name: string, bin: string, conns: number, make: () => ServerUnderTest): Variant {
  let server: ServerUnderTest | undefined;
  return {
    name,
    async run(ms) {
      server ??= make();
      return autocannonRound(bin, await server.port(), ms, conns);
    },
    async teardown() {
      await server?.close();
      server = undefined;
    },
  };
}

const hello: http.RequestListener = (_req, res) => { res.end('hello'); };

export function httpWorkload(conns = 32, depth = 4): Workload {
  const gen = lazyGenerator();
  const bin = autocannonPath();
  const variants: Variant[] = [];
  if (bin !== undefined) {
    variants.push(
      autocannonVariant('uring-http', bin, conns, () => wrap(uringHttp.createServer(hello))),
      autocannonVariant('node-http', bin, conns, () => wrap(http.createServer(hello))),
    );
  }
  variants.push(
    serverVariant('uring-net', gen.get, 'http', conns, depth, () => wrap(createServer(helloResponder))),
    // The same minimal responder on node:net: what the ring itself gains,
    // apart from what node:http's full parser and response objects cost.
    serverVariant('node-net', gen.get, 'http', conns, depth, () => wrap(net.createServer(helloResponder))),
  );
  return {
    name: 'http',
    unit: `GET request, ${conns} keep-alive connections (autocannon: 1 in flight each; responder rows: ${depth} pipelined)`,
    baseline: bin !== undefined ? 'node-http' : 'node-net',
    secondary: 'node-net',
    variants,
    teardown: () => gen.close(),
  };
}
