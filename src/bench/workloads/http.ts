// http: keep-alive GET requests answered with "Hello, world!" on
// 127.0.0.1, pipelined; a minimal HTTP/1.1 responder on uring/net against
// node:http. Both send the same headers (Date, Content-Type, Content-Length,
// Connection); node:http also runs its full request parser, which is part of
// what a small responder ports away from; the same responder on node:net
// (variant node-net) shows what the ring gains on its own.
import * as http from 'node:http';
import * as net from 'node:net';
import { createServer, Socket } from '../../net/index';
import { Workload } from '../harness';
import { lazyGenerator, serverVariant, wrap } from './echo';

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

export function httpWorkload(conns = 32, depth = 4): Workload {
  const gen = lazyGenerator();
  return {
    name: 'http',
    unit: `GET request, ${conns} keep-alive connections x ${depth} pipelined`,
    baseline: 'node-http',
    secondary: 'node-net',
    variants: [
      serverVariant('uring-net', gen.get, 'http', conns, depth, () => wrap(createServer(helloResponder))),
      // The same minimal responder on node:net: what the ring itself gains,
      // apart from what node:http's full parser and response objects cost.
      serverVariant('node-net', gen.get, 'http', conns, depth, () => wrap(net.createServer(helloResponder))),
      serverVariant('node-http', gen.get, 'http', conns, depth, () => wrap(http.createServer((_req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end(BODY);
      }))),
    ],
    teardown: () => gen.close(),
  };
}
