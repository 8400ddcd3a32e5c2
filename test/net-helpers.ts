// node:net and uring/net side by side, for tests that run the same calls on
// both and compare (node:net is the control).
import { once } from 'node:events';
import * as nodeNet from 'node:net';
import * as uringNet from '../src/net/index';

/** The part of node:net both modules offer. */
export interface NetModule {
  createServer(options: object, listener?: (s: nodeNet.Socket) => void): nodeNet.Server;
  connect(...args: unknown[]): nodeNet.Socket;
}
export const impls: [string, NetModule][] = [
  ['node:net', nodeNet as unknown as NetModule],
  ['uring/net', uringNet as unknown as NetModule],
];

export async function listen(server: nodeNet.Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as nodeNet.AddressInfo).port;
}

export function closed(server: nodeNet.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Bounded wait: the value, or 'timeout'. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<'timeout'>((r) => { t = setTimeout(() => r('timeout'), ms); })])
    .finally(() => clearTimeout(t));
}

