// A TCP server on a ring, shaped like node:net's Server: listen(), address(),
// close(), events 'listening', 'connection', 'close', 'error'. It is also an
// AsyncIterable of connections; while an iterator holds `maxQueued` unclaimed
// connections the server stops accepting and the kernel's backlog holds the
// rest.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { AF_INET, AF_INET6, SOL_SOCKET, SO_REUSEADDR } from '../constants';
import type { Ring } from '../ring';
import { UringError, invalidArgType } from '../errors';
import { validateInteger } from '../validators';
import { defaultRing } from './default-ring';
import { AddressInfo, encodeSockaddr } from './sockaddr';
import { Acceptor, createAcceptor } from './acceptor';
import { Socket, SocketOptions } from './socket';
import { netError } from './errors';
import * as ops from './ops';

/** Options of createServer(): those of its connections, plus the accept queue bound. */
export interface ServerOptions extends SocketOptions {
  /** Unclaimed connections an async iterator may hold before accepting pauses (default 128). */
  maxQueued?: number;
  /**
   * Accept connections into direct descriptors: each lives only in a slot of
   * the ring's registered file table (registered sparse with `maxConnections`
   * slots if the ring has none), never as an fd, and every send and receive
   * skips the kernel's fd lookup. Such sockets have no fd: `remoteAddress` and
   * `localAddress` are unknown, and socket options go through
   * IORING_OP_URING_CMD (Linux 6.7+). Falls back to plain fds where the
   * kernel or the table does not allow it. Default false.
   */
  directDescriptors?: boolean;
  /** Slots registered for `directDescriptors` when the ring has no file table (default 4096). */
  maxConnections?: number;
}

/** What listen() takes as an object. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Address to bind (default '::', falling back to '0.0.0.0'). */
  host?: string;
  /** listen(2) backlog (default 511). */
  backlog?: number;
}

const EAFNOSUPPORT = -97;

/** A TCP server. Make one with createServer(). */
export class Server extends EventEmitter implements AsyncIterable<Socket> {
  private readonly ring: Ring;
  private readonly options: ServerOptions;
  private readonly maxQueued: number;
  private fd = -1;
  private acceptor: Acceptor | undefined;
  private state: 'idle' | 'binding' | 'listening' | 'closed' = 'idle';
  private readonly connections = new Set<Socket>();
  private readonly queue: Socket[] = [];
  private waiters: ((r: IteratorResult<Socket>) => void)[] = [];
  private iterating = false;
  private paused = false;
  private local: AddressInfo | undefined;

  /** Creates a server; `listener` is added for 'connection'. Prefer createServer(). */
  constructor(options: ServerOptions = {}, listener?: (socket: Socket) => void) {
    super();
    this.options = { ...options };
    this.ring = options.ring ?? defaultRing();
    this.options.ring = this.ring;
    this.maxQueued = options.maxQueued === undefined ? 128 : validateInteger(options.maxQueued, 'options.maxQueued', 1, 1 << 20);
    if (listener) this.on('connection', listener);
  }

  /** Whether the server is accepting connections. */
  get listening(): boolean {
    return this.state === 'listening';
  }

  /**
   * Starts listening on `port` (0: any free port) of `host` (default '::',
   * or '0.0.0.0' without IPv6). Emits 'listening', or 'error' with a
   * Node-shaped error (`listen EADDRINUSE: address already in use
   * 127.0.0.1:8000`). `await once(server, 'listening')` waits for it.
   */
  listen(port?: number | ListenOptions | (() => void), host?: string | number | (() => void),
    backlog?: number | (() => void), cb?: () => void): this {
    let o: ListenOptions = {};
    const args = [port, host, backlog, cb];
    const fn = args.find((a) => typeof a === 'function') as (() => void) | undefined;
    if (typeof port === 'object' && port !== null) o = port;
    else {
      if (typeof port === 'number') o.port = port;
      if (typeof host === 'string') o.host = host;
      else if (typeof host === 'number') o.backlog = host;
      if (typeof backlog === 'number') o.backlog = backlog;
    }
    const p = o.port === undefined ? 0 : validateInteger(o.port, 'port', 0, 65535);
    const b = o.backlog === undefined ? 511 : validateInteger(o.backlog, 'backlog', 0, 0x7fffffff);
    if (o.host !== undefined && typeof o.host !== 'string') throw invalidArgType('host', 'of type string', o.host);
    if (this.state === 'binding' || this.state === 'listening') {
      throw new UringError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    }
    if (fn) this.once('listening', fn);
    this.state = 'binding';
    void this.start(p, o.host, b);
    return this;
  }

  private async start(port: number, host: string | undefined, backlog: number): Promise<void> {
    let address = host ?? '::';
    let fd = -1;
    try {
      if (isIP(address) === 0) address = (await lookup(address)).address;
      try {
        fd = await ops.socket(this.ring, isIP(address) === 6 ? AF_INET6 : AF_INET);
      } catch (err) {
        if (host !== undefined || (err as { errno?: number }).errno !== EAFNOSUPPORT) throw err;
        address = '0.0.0.0';
        fd = await ops.socket(this.ring, AF_INET);
      }
      this.fd = fd;
      ops.setIntOption(this.ring, fd, SOL_SOCKET, SO_REUSEADDR, 1);
      try {
        await ops.bind(this.ring, fd, encodeSockaddr(address, port));
        await ops.listen(this.ring, fd, backlog);
      } catch (err) {
        // Node reports a failed bind as a failed listen.
        const e = err as { errno?: number };
        throw e.errno !== undefined ? netError(e.errno, 'listen', address, port, true) : err;
      }
    } catch (err) {
      this.fd = -1;
      if (fd >= 0) ops.closeSocket(this.ring, fd, noop);
      this.state = 'idle';
      this.emit('error', err);
      return;
    }
    if (this.state !== 'binding') { ops.closeSocket(this.ring, fd, noop); return; }
    this.state = 'listening';
    this.local = ops.socketAddress(this.ring, fd, false);
    this.acceptor = createAcceptor(this.ring, fd, this.directTable(), {
      onAccept: (cfd, remote) => this.accepted(cfd, remote),
      onError: (err) => this.emit('error', err),
    });
    this.acceptor.start();
    this.emit('listening');
  }

  private accepted(fd: number, remote: AddressInfo | undefined): void {
    if (this.state !== 'listening') {
      ops.closeSocket(this.ring, fd, noop);
      return;
    }
    const s = new Socket(this.options)._attach(fd, remote);
    this.connections.add(s);
    s.once('close', () => {
      this.connections.delete(s);
      if (ops.isDirect(fd)) this.acceptor?.slotFreed();
      this.maybeClosed();
    });
    if (this.iterating) {
      const w = this.waiters.shift();
      if (w) w({ value: s, done: false });
      else {
        this.queue.push(s);
        if (this.queue.length >= this.maxQueued && !this.paused) {
          this.paused = true;
          this.acceptor?.stop();
        }
      }
    }
    this.emit('connection', s);
  }

  /** The bound address, as node:net reports it; null when not listening. */
  address(): AddressInfo | null {
    return this.state === 'listening' ? this.local ?? null : null;
  }

  /**
   * Stops accepting. Existing connections stay open; 'close' is emitted (and
   * `cb` called) once they have all closed. `cb` gets ERR_SERVER_NOT_RUNNING
   * when the server was not listening.
   */
  close(cb?: (err?: Error) => void): this {
    if (this.state !== 'listening' && this.state !== 'binding') {
      if (cb) process.nextTick(cb, new UringError('ERR_SERVER_NOT_RUNNING', 'Server is not running.'));
      return this;
    }
    if (cb) this.once('close', cb);
    this.state = 'closed';
    // Cancel the armed accept first: it holds the listening socket open.
    this.acceptor?.stop();
    this.acceptor = undefined;
    if (this.fd >= 0) ops.closeSocket(this.ring, this.fd, noop);
    this.fd = -1;
    for (const w of this.waiters) w({ value: undefined, done: true });
    this.waiters = [];
    this.maybeClosed();
    return this;
  }

  private maybeClosed(): void {
    if (this.state === 'closed' && this.connections.size === 0 && !this.closeEmitted) {
      this.closeEmitted = true;
      process.nextTick(() => this.emit('close'));
    }
  }
  private closeEmitted = false;

  /** Calls back with the number of open connections. */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.connections.size);
    return this;
  }

  /** Whether accepted connections can go into direct descriptors on this ring. */
  private directTable(): boolean {
    if (this.options.directDescriptors !== true) return false;
    const files = this.ring.files;
    if (files.registered) return files.size > 0;
    try {
      files.registerSparse(this.options.maxConnections === undefined ? 4096
        : validateInteger(this.options.maxConnections, 'options.maxConnections', 1, 1 << 20));
      return true;
    } catch {
      return false; // no room under RLIMIT_NOFILE, or no sparse tables: plain fds
    }
  }

  /**
   * Iterates over new connections until the server closes. Connections the
   * loop has not claimed are queued up to `maxQueued`; then accepting pauses.
   */
  [Symbol.asyncIterator](): AsyncIterator<Socket> {
    this.iterating = true;
    return {
      next: () => {
        const s = this.queue.shift();
        if (s !== undefined) {
          if (this.paused && this.queue.length < this.maxQueued / 2 && this.state === 'listening') {
            this.paused = false;
            this.acceptor?.start();
          }
          return Promise.resolve({ value: s, done: false });
        }
        if (this.state === 'closed') return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Closes the server (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return new Promise((resolve) => this.close(() => resolve()));
  }

  /** Kept for node:net compatibility; the ring decides what keeps the process alive. */
  ref(): this { return this; }
  /** Kept for node:net compatibility; the ring decides what keeps the process alive. */
  unref(): this { return this; }
}

/**
 * Makes a TCP server, like node:net's createServer().
 *
 * @example
 * ```ts
 * const server = createServer((socket) => socket.on('data', (d) => socket.write(d)));
 * server.listen(8000, '127.0.0.1');
 * ```
 */
export function createServer(options?: ServerOptions | ((socket: Socket) => void),
  listener?: (socket: Socket) => void): Server {
  if (typeof options === 'function') return new Server({}, options);
  return new Server(options ?? {}, listener);
}

function noop(): void { /* result not needed */ }
