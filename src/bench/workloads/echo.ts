// echo: 64-byte messages echoed by a TCP server on 127.0.0.1, many
// connections with several messages in flight each; uring/net against
// node:net. The load comes from a child process (see echo-load.ts).
import * as net from 'node:net';
import { once } from 'node:events';
import { createServer } from '../../net/index';
import { Variant, Workload } from '../harness';
import { LoadGenerator, LoadRound } from './echo-load';
import { cServerVariant } from '../c-reference';

export interface ServerUnderTest {
  port(): Promise<number>;
  close(): Promise<void>;
}

/** A variant that starts its server lazily and drives it with the shared generator. */
export function serverVariant(name: string, gen: () => LoadGenerator, mode: LoadRound['mode'],
  conns: number, depth: number, make: () => ServerUnderTest): Variant {
  let server: ServerUnderTest | undefined;
  return {
    name,
    async run(ms) {
      server ??= make();
      const port = await server.port();
      return gen().round({ mode, port, ms, conns, depth });
    },
    async teardown() {
      await server?.close();
      server = undefined;
    },
  };
}

/** Listens with a node:net-shaped server on 127.0.0.1 and wraps it. */
export function wrap(server: { listen(port: number, host: string): unknown; address(): unknown; close(cb: () => void): unknown }
  & NodeJS.EventEmitter): ServerUnderTest {
  server.listen(0, '127.0.0.1');
  const ready = once(server, 'listening').then(() => (server.address() as { port: number }).port);
  return { port: () => ready, close: () => new Promise((r) => server.close(() => r())) };
}

/** Starts the load generator on first use; the workload's teardown stops it. */
export function lazyGenerator(): { get(): LoadGenerator; close(): void } {
  let g: LoadGenerator | undefined;
  return { get: () => (g ??= new LoadGenerator()), close: () => { g?.close(); g = undefined; } };
}

export function echoWorkload(conns = 32, depth = 8): Workload {
  const gen = lazyGenerator();
  const variants: Variant[] = [
    serverVariant('uring-net', gen.get, 'echo', conns, depth, () => wrap(createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('error', () => undefined);
    }))),
    // The same server with its connections in registered slots (direct
    // descriptors): no fd lookup per send or receive.
    serverVariant('uring-net-direct', gen.get, 'echo', conns, depth, () => wrap(createServer({ directDescriptors: true }, (s) => {
      s.on('data', (d) => s.write(d));
      s.on('error', () => undefined);
    }))),
    serverVariant('node-net', gen.get, 'echo', conns, depth, () => wrap(net.createServer((s) => {
      s.on('data', (d) => s.write(d));
      s.on('error', () => undefined);
    }))),
  ];
  // The physical anchor: a C server on raw io_uring (multishot receive into
  // a provided-buffer ring, send from the buffer), driven by the same generator.
  const cref = cServerVariant('echo', (port, ms) => gen.get().round({ mode: 'echo', port, ms, conns, depth }));
  if (cref !== undefined) variants.push(cref);
  return {
    name: 'echo',
    unit: `64 B round trip, ${conns} connections x ${depth} in flight`,
    baseline: 'node-net',
    variants,
    teardown: () => gen.close(),
  };
}
