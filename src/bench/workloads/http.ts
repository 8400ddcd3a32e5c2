// http: keep-alive GET requests answered with "Hello, world!" on
// 127.0.0.1, pipelined; a minimal HTTP/1.1 responder on uring/net against
// node:http. Both send the same headers (Date, Content-Type, Content-Length,
// Connection); node:http also runs its full request parser, which is part of
// what a small responder ports away from.
import * as http from 'node:http';
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

/** Answers every request head that arrives (no bodies: GET only). */
export function helloResponder(s: Socket): void {
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
  s.on('error', () => undefined);
}

export function httpWorkload(conns = 32, depth = 4): Workload {
  const gen = lazyGenerator();
  return {
    name: 'http',
    unit: `GET request, ${conns} keep-alive connections x ${depth} pipelined`,
    baseline: 'node-http',
    variants: [
      serverVariant('uring-net', gen.get, 'http', conns, depth, () => wrap(createServer(helloResponder))),
      serverVariant('node-http', gen.get, 'http', conns, depth, () => wrap(http.createServer((_req, res) => {
        res.setHeader('Content-Type', 'text/plain');
        res.end(BODY);
      }))),
    ],
    teardown: () => gen.close(),
  };
}
