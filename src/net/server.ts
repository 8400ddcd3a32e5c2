// A stream server on a ring (TCP, or a Unix domain socket), shaped like
// node:net's Server: listen() with node:net's overloads, address(), close(),
// maxConnections and 'drop', ref()/unref(), events 'listening',
// 'connection', 'close', 'error'. It is also an AsyncIterable of
// connections; while an iterator holds `maxQueued` unclaimed connections the
// server stops accepting and the kernel's backlog holds the rest.
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { chmodSync, unlinkSync } from 'node:fs';
import { AF_INET, AF_INET6, IPPROTO_IPV6, IPV6_V6ONLY, SOL_SOCKET, SO_REUSEADDR } from '../constants';
import type { Ring } from '../ring';
import { RefGroup } from '../requests';
import { UringError, invalidArgType } from '../errors';
import { validateInteger } from '../validators';
import { defaultRing } from './default-ring';
import { AF_UNIX, AddressInfo, encodeSockaddr, encodeUnixSockaddr } from './sockaddr';
import { Acceptor, createAcceptor } from './acceptor';
import { Socket, SocketOptions, SocketSettings, readSocketSettings } from './socket';
import { isPipeName, readObject, readSignal, refuseOptions, trailingCallback, validatePort } from './args';
import { netError } from './errors';
import * as ops from './ops';

/** Options of createServer(): those of its connections, plus the accept queue bound. */
export interface ServerOptions extends SocketOptions {
  /** Unclaimed connections an async iterator may hold before accepting pauses (default 128). */
  maxQueued?: number;
  /** Accepted connections start paused: nothing is received until socket.resume(). */
  pauseOnConnect?: boolean;
  /**
   * Accept connections into direct descriptors: each lives only in a slot of
   * the ring's registered file table (registered sparse with `maxConnections`
   * slots if the ring has none), never as an fd, and every send and receive
   * skips the kernel's fd lookup. Such sockets have no fd: `remoteAddress` and
   * `localAddress` are unknown, and socket options go through
   * IORING_OP_URING_CMD (Linux 6.7+). With the table full, further
   * connections wait in the listen backlog until one closes. Falls back to
   * plain fds where the kernel or the table does not allow it. Default false.
   */
  directDescriptors?: boolean;
  /**
   * Slots registered for `directDescriptors` when the ring has no file table
   * (default 4096). Not node:net's `server.maxConnections`, which is a
   * property here too.
   */
  maxConnections?: number;
}

/** What listen() takes as an object. */
export interface ListenOptions {
  /** TCP port (a number or numeric string); 0 picks a free one. */
  port?: number | string;
  /** Address to bind (default '::', falling back to '0.0.0.0'). */
  host?: string;
  /** A Unix domain socket's path ('\0name': the abstract namespace). */
  path?: string;
  /** listen(2) backlog (default 511). */
  backlog?: number;
  /** IPV6_V6ONLY: an IPv6 listener that takes no IPv4 clients. */
  ipv6Only?: boolean;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Unix domain socket: readable by all users. */
  readableAll?: boolean;
  /** Unix domain socket: writable by all users. */
  writableAll?: boolean;
  /** Accepted for node:net compatibility: it concerns the cluster module, which uring/net does not join. */
  exclusive?: boolean;
}

const EAFNOSUPPORT = -97;

/** A server. Make one with createServer(). */
export class Server extends EventEmitter implements AsyncIterable<Socket> {
  /**
   * Connections beyond this many are closed as they arrive, and 'drop' is
   * emitted (as node:net's server.maxConnections). Default: no limit.
   */
  maxConnections: number | undefined = undefined;
  private readonly ring: Ring;
  private readonly options: ServerOptions;
  private readonly settings: SocketSettings;
  private readonly maxQueued: number;
  private readonly pauseOnConnect: boolean;
  private readonly group = new RefGroup();
  private fd = -1;
  private acceptor: Acceptor | undefined;
  private state: 'idle' | 'binding' | 'listening' | 'closed' = 'idle';
  private readonly connections = new Set<Socket>();
  private readonly queue: Socket[] = [];
  private waiters: ((r: IteratorResult<Socket>) => void)[] = [];
  private iterating = false;
  private paused = false;
  private local: AddressInfo | string | undefined;
  private pipePath: string | undefined;
  private closeEmitted = false;

  /** Creates a server; `listener` is added for 'connection'. Prefer createServer(). */
  constructor(options: ServerOptions = {}, listener?: (socket: Socket) => void) {
    super();
    const o = readObject(options, 'options');
    this.ring = (o.ring as Ring | undefined) ?? defaultRing();
    o.ring = this.ring;
    this.maxQueued = o.maxQueued === undefined ? 128 : validateInteger(o.maxQueued, 'options.maxQueued', 1, 1 << 20);
    this.pauseOnConnect = o.pauseOnConnect === true;
    // What connections take, read and checked once here.
    this.settings = readSocketSettings(o);
    this.options = o as ServerOptions;
    if (listener) this.on('connection', listener);
  }

  /** Whether the server is accepting connections. */
  get listening(): boolean {
    return this.state === 'listening';
  }

  /**
   * Starts listening, as node:net's server.listen(): `(port[, host][, backlog][, cb])`,
   * `(path[, backlog][, cb])` for a Unix domain socket, or `(options[, cb])`.
   * Emits 'listening', or 'error' with a Node-shaped error (`listen
   * EADDRINUSE: address already in use 127.0.0.1:8000`).
   */
  listen(...args: unknown[]): this {
    const o = listenArgs(args);
    const fn = trailingCallback(args);
    const port = o.path === undefined ? (o.port === undefined ? 0 : validatePort(o.port, 'options.port')) : 0;
    const backlog = o.backlog === undefined ? 511 : validateInteger(o.backlog, 'backlog', 0, 0x7fffffff);
    if (o.host !== undefined && typeof o.host !== 'string') throw invalidArgType('options.host', 'of type string', o.host);
    const signal = readSignal(o.signal, 'options.signal');
    if (this.state === 'binding' || this.state === 'listening') {
      throw new UringError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    }
    if (fn) this.once('listening', fn);
    this.state = 'binding';
    this.closeEmitted = false;
    if (signal !== undefined) {
      const onAbort = (): void => { this.close(); };
      if (signal.aborted) process.nextTick(onAbort);
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        this.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
    void this.start(o, port, backlog);
    return this;
  }

  private async start(o: ListenOptions, port: number, backlog: number): Promise<void> {
    const path = o.path;
    let address = path ?? o.host ?? '::';
    let fd = -1;
    try {
      let sa: Uint8Array;
      if (path !== undefined) {
        sa = encodeUnixSockaddr(path);
        fd = await ops.socket(this.ring, AF_UNIX);
      } else {
        if (isIP(address) === 0) address = (await lookup(address)).address;
        try {
          fd = await ops.socket(this.ring, isIP(address) === 6 ? AF_INET6 : AF_INET);
        } catch (err) {
          if (o.host !== undefined || (err as { errno?: number }).errno !== EAFNOSUPPORT) throw err;
          address = '0.0.0.0';
          fd = await ops.socket(this.ring, AF_INET);
        }
        sa = encodeSockaddr(address, port);
        ops.setIntOption(this.ring, fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (o.ipv6Only === true && isIP(address) === 6) ops.setIntOption(this.ring, fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
      }
      this.fd = fd;
      try {
        await ops.bind(this.ring, fd, sa);
        if (path !== undefined && path[0] !== '\0') {
          this.pipePath = path;
          const mode = (o.readableAll ? 0o444 : 0) | (o.writableAll ? 0o222 : 0);
          if (mode !== 0) chmodSync(path, 0o600 | mode);
        }
        await ops.listen(this.ring, fd, backlog);
      } catch (err) {
        // Node reports a failed bind as a failed listen.
        const e = err as { errno?: number };
        throw e.errno !== undefined ? netError(e.errno, 'listen', address, path === undefined ? port : undefined, true) : err;
      }
    } catch (err) {
      this.fd = -1;
      if (fd >= 0) ops.closeSocket(this.ring, fd, noop);
      this.unlinkPipe();
      this.state = 'idle';
      this.emit('error', err);
      return;
    }
    if (this.state !== 'binding') {
      ops.closeSocket(this.ring, fd, noop);
      this.unlinkPipe();
      return;
    }
    this.state = 'listening';
    this.local = path ?? ops.socketAddress(this.ring, fd, false);
    this.acceptor = createAcceptor(this.ring, fd, path === undefined && this.directTable(), {
      onAccept: (cfd, remote) => this.accepted(cfd, remote),
      onError: (err) => this.emit('error', err),
    }, this.group);
    this.acceptor.start();
    this.emit('listening');
  }

  private accepted(fd: number, remote: AddressInfo | undefined): void {
    if (this.state !== 'listening') {
      ops.closeSocket(this.ring, fd, noop);
      return;
    }
    if (this.maxConnections !== undefined && this.connections.size >= this.maxConnections) {
      // As node:net: close it at once and say so.
      ops.closeSocket(this.ring, fd, noop);
      if (ops.isDirect(fd)) this.acceptor?.slotFreed();
      const local = typeof this.local === 'object' ? this.local : undefined;
      this.emit('drop', {
        localAddress: local?.address, localPort: local?.port, localFamily: local?.family,
        remoteAddress: remote?.address, remotePort: remote?.port, remoteFamily: remote?.family,
      });
      return;
    }
    const s = new Socket(this.settings)._attach(fd, remote, this.pauseOnConnect, this.pipePath !== undefined);
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

  /** The bound address, as node:net reports it (a path for a Unix domain socket); null when not listening. */
  address(): AddressInfo | string | null {
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
    this.unlinkPipe();
    for (const w of this.waiters) w({ value: undefined, done: true });
    this.waiters = [];
    this.maybeClosed();
    return this;
  }

  /** A Unix domain socket's file goes with its server, as libuv removes it. */
  private unlinkPipe(): void {
    if (this.pipePath === undefined) return;
    try { unlinkSync(this.pipePath); } catch { /* gone already */ }
    this.pipePath = undefined;
  }

  private maybeClosed(): void {
    if (this.state === 'closed' && this.connections.size === 0 && !this.closeEmitted) {
      this.closeEmitted = true;
      process.nextTick(() => this.emit('close'));
    }
  }

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

  /** Lets the process exit while listening is all it has to do (connections keep their own ref). */
  unref(): this {
    if (!this.ring.closed) this.ring._setReferenced(this.group, false);
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    if (!this.ring.closed) this.ring._setReferenced(this.group, true);
    return this;
  }
}

/** listen()'s overloads as one options object, read once. */
function listenArgs(args: readonly unknown[]): ListenOptions {
  const a = args[0];
  if (a !== null && typeof a === 'object') {
    const o = readObject(a, 'options');
    refuseOptions(o, ['fd', 'handle', '_handle'], 'options');
    if (o.path !== undefined && typeof o.path !== 'string') throw invalidArgType('options.path', 'of type string', o.path);
    return o as ListenOptions;
  }
  if (typeof a === 'function' || a === undefined || a === null) return {};
  const rest = args.slice(1).filter((x) => typeof x !== 'function');
  if (isPipeName(a)) return { path: a, backlog: typeof rest[0] === 'number' ? rest[0] : undefined };
  if (typeof a !== 'number' && typeof a !== 'string') {
    throw new UringError('ERR_INVALID_ARG_VALUE', `The argument 'options' is invalid. Received ${String(a)}`);
  }
  const o: ListenOptions = { port: a };
  if (typeof rest[0] === 'string') { o.host = rest[0]; if (typeof rest[1] === 'number') o.backlog = rest[1]; }
  else if (typeof rest[0] === 'number') o.backlog = rest[0];
  return o;
}

/**
 * Makes a server, like node:net's createServer().
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
