// uring/http: node:http's own Server (parser, keep-alive, timeouts, events)
// whose connections come from a uring/net server on a ring instead of a
// libuv TCP handle. Express apps and Fastify (through serverFactory) run on it
// unchanged; createSecureServer() does the same for node:https (TLS over ring
// sockets).
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { Server as RingServer, ServerOptions as RingServerOptions } from '../net/server';
import type { Socket } from '../net/socket';
import { readObject } from '../net/args';

/** Options of createServer(): node:http's, plus the ring transport's. */
export interface ServerOptions extends http.ServerOptions {
  /** Options of the uring/net server the connections come from (ring, directDescriptors...). */
  transport?: RingServerOptions;
}

/** Options of createSecureServer(): node:https's, plus the ring transport's. */
export interface SecureServerOptions extends https.ServerOptions {
  /** Options of the uring/net server the connections come from (ring, directDescriptors...). */
  transport?: RingServerOptions;
}

const CHECKING_INTERVAL = 'http.server.connectionsCheckingInterval';

/**
 * Makes `server` (a node:http, node:https, node:tls or node:net Server) take
 * its connections from a uring/net server: listen(), close(), address(),
 * listening, maxConnections, getConnections(), ref() and unref() go to the
 * ring server, which emits each accepted socket as the node server's
 * 'connection'. Returns `server`.
 */
export function onRing<T extends net.Server>(server: T, transport: RingServerOptions = {}): T {
  // node:http's own net.Server options: half-open connections, Nagle off.
  const o = readObject(transport, 'options.transport');
  const ring = new RingServer({ allowHalfOpen: true, noDelay: true, ...o },
    (s: Socket) => server.emit('connection', s));
  ring.on('listening', () => server.emit('listening'));
  ring.on('error', (err) => server.emit('error', err));
  ring.on('drop', (data) => server.emit('drop', data));
  const self = server as unknown as Record<string, unknown>;
  self.listen = (...args: unknown[]): T => {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() as () => void : undefined;
    if (cb) server.once('listening', cb);
    ring.listen(...args);
    return server;
  };
  self.close = (cb?: (err?: Error) => void): T => {
    // What node:http's close() does before closing its handle.
    const h = server as unknown as http.Server;
    if (typeof h.closeIdleConnections === 'function') h.closeIdleConnections();
    const interval = Object.getOwnPropertySymbols(server).find((s) => s.description === CHECKING_INTERVAL);
    if (interval !== undefined) clearInterval(self[interval as unknown as string] as NodeJS.Timeout);
    ring.close((err) => {
      if (err) cb?.(err);
      else {
        if (cb) server.once('close', cb);
        server.emit('close');
      }
    });
    return server;
  };
  self.address = (): ReturnType<net.Server['address']> => ring.address();
  self.getConnections = (cb: (err: Error | null, count: number) => void): T => { ring.getConnections(cb); return server; };
  self.ref = (): T => { ring.ref(); return server; };
  self.unref = (): T => { ring.unref(); return server; };
  Object.defineProperty(server, 'listening', { get: () => ring.listening, configurable: true });
  Object.defineProperty(server, 'maxConnections', {
    get: () => ring.maxConnections,
    set: (v: number | undefined) => { ring.maxConnections = v; },
    configurable: true,
  });
  return server;
}

/**
 * Creates a node:http Server whose connections come from the ring, like
 * node:http's createServer(). `uringHttp.createServer(app).listen(3000)`
 * runs an Express app; Fastify takes it through `serverFactory`.
 *
 * @example
 * ```ts
 * import { createServer } from 'uring/http';
 * createServer((req, res) => res.end('hello')).listen(3000);
 * ```
 */
export function createServer(options?: ServerOptions | http.RequestListener, handler?: http.RequestListener): http.Server {
  if (typeof options === 'function') return onRing(http.createServer(options));
  const o = options === undefined ? {} : readObject(options, 'options');
  const transport = o.transport as RingServerOptions | undefined;
  delete o.transport;
  return onRing(http.createServer(o as http.ServerOptions, handler), transport);
}

/** Creates a node:https Server (TLS over ring sockets), like node:https's createServer(). */
export function createSecureServer(options: SecureServerOptions, handler?: http.RequestListener): https.Server {
  const o = readObject(options, 'options');
  const transport = o.transport as RingServerOptions | undefined;
  delete o.transport;
  return onRing(https.createServer(o as https.ServerOptions, handler), transport);
}
