// A stream socket on a ring (TCP, or a Unix domain socket), shaped like
// node:net's Socket: a stream.Duplex, so pipe(), pipeline(), finished(),
// cork(), setEncoding(), async iteration and node:http work on it as on
// node:net's. The ring is its handle: _read() arms a receive (receiver.ts),
// _write()/_writev() queue sends (sender.ts), _final() shuts the sending side
// down after the last send, _destroy() shuts down and closes in one linked
// chain. As in node:net, a connected socket starts reading at once into its
// readable buffer (up to readableHighWaterMark; then no receive is armed and
// TCP slows the peer), so it sees the peer's end whether or not anyone reads,
// and with allowHalfOpen false (the default) ends its own side then.
import { Duplex, addAbortSignal } from 'node:stream';
import { isIP } from 'node:net';
import { lookup as dnsLookup, LookupOneOptions } from 'node:dns';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SHUT_RDWR, SHUT_WR, SOL_SOCKET, SO_KEEPALIVE, SO_REUSEADDR, TCP_KEEPIDLE, TCP_NODELAY,
} from '../constants';
import type { Ring } from '../ring';
import { RefGroup } from '../requests';
import { UringError } from '../errors';
import { validateInteger } from '../validators';
import { defaultRing } from './default-ring';
import { AF_UNIX, AddressInfo, encodeSockaddr, encodeUnixSockaddr } from './sockaddr';
import { ReceiveSink, Receiver, createReceiver } from './receiver';
import { Sender, WriteCallback } from './sender';
import {
  isPipeName, readObject, readSignal, refuseOptions, trailingCallback, validateMsecs, validatePort,
} from './args';
import * as ops from './ops';
import { netError } from './errors';
import { viewLength } from '../memory';

/** Options of a Socket (and of the connections a Server makes). */
export interface SocketOptions {
  /** The ring to run on. Default: the thread's shared networking ring. */
  ring?: Ring;
  /** Keep the sending side open after the peer ends (default false, as in node:net). */
  allowHalfOpen?: boolean;
  /** Bytes buffered unread before receiving pauses (default 64 KiB). */
  readableHighWaterMark?: number;
  /** Bytes queued unsent before write() returns false (default 16 KiB). */
  writableHighWaterMark?: number;
  /** Bytes one receive can take (default 16 KiB). */
  recvBufferSize?: number;
  /** Writes of at least this many bytes use zero-copy send where the kernel has it (default 64 KiB; false: never). */
  zeroCopyThreshold?: number | false;
  /** Set TCP_NODELAY once connected (default false, as in node:net). */
  noDelay?: boolean;
  /** Enable SO_KEEPALIVE once connected (default false). */
  keepAlive?: boolean;
  /** TCP_KEEPIDLE in milliseconds with keepAlive (default 0: the system's). */
  keepAliveInitialDelay?: number;
  /** Destroys the socket with an AbortError when aborted. */
  signal?: AbortSignal;
}

/** Where to connect: `port` (and `host`) for TCP, or `path` for a Unix domain socket. */
export interface ConnectOptions extends SocketOptions {
  /** Port to connect to (a number, or a numeric string). */
  port?: number | string;
  /** IP literal or host name (default 'localhost'). */
  host?: string;
  /** A Unix domain socket's path ('\0name': the abstract namespace). */
  path?: string;
  /** Local address to bind before connecting. */
  localAddress?: string;
  /** Local port to bind before connecting. */
  localPort?: number;
  /** Address family for the host name lookup: 4, 6 or 0 (either). */
  family?: number;
  /** Custom lookup function, as dns.lookup(hostname, options, callback). */
  lookup?: (hostname: string, options: LookupOneOptions,
    cb: (err: Error | null, address: string, family: number) => void) => void;
  /** setTimeout() at once with this many milliseconds. */
  timeout?: number;
}

/** A connection. Made by a Server for each accepted connection, or by connect(). */
export class Socket extends Duplex {
  /**
   * @internal The socket: an fd, or a registered slot encoded by ops.directRef()
   * (a connection accepted into a direct descriptor); -1 when there is none.
   */
  _fd = -1;
  /** @internal */ readonly _ring: Ring;
  /** @internal The requests that keep the process alive unless unref()'d. */
  readonly _group = new RefGroup();
  /** True until a client socket has connected. */
  connecting = false;
  /** Bytes received so far. */
  bytesRead = 0;
  /** The idle timeout set by setTimeout(), in milliseconds (undefined: none). */
  timeout: number | undefined = undefined;
  private readonly recvSize: number;
  private readonly sender: Sender;
  private receiver: Receiver | undefined;
  /** _read() came before there was a receiver to arm (see _attach()). */
  private readWanted = false;
  private unix = false;
  private fdClosed = false;
  private resetting = false;
  private local: AddressInfo | string | undefined;
  private remote: AddressInfo | undefined;
  private noDelay: boolean | undefined;
  private keepAlive: [boolean, number] | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Writes and the end made before the socket connected. */
  private queuedWrites: { chunks: Buffer[]; cb: WriteCallback }[] = [];
  private pendingFinal: ((err?: Error | null) => void) | undefined;
  /** A SHUT_WR is in flight; the close waits for it (closeAfterShutdown). */
  private shuttingDown = false;
  private closeAfterShutdown: (() => void) | undefined;
  /** Bytes handed to the sender (those whose write has not called back: sender.unacked). */
  private dispatched = 0;

  /** Creates an unconnected socket; prefer connect() or a server's 'connection'. */
  constructor(options: SocketOptions | SocketSettings = {}) {
    const o = options instanceof SocketSettings ? options : readSocketSettings(options);
    super({
      allowHalfOpen: o.allowHalfOpen,
      readableHighWaterMark: o.readableHighWaterMark,
      writableHighWaterMark: o.writableHighWaterMark,
      // 'close' comes from the close's CQE, with hadError, as node:net's from its handle.
      emitClose: false,
      autoDestroy: true,
    });
    this._ring = o.ring ?? defaultRing();
    this.recvSize = o.recvBufferSize;
    this.sender = new Sender(this._ring, {
      zeroCopyThreshold: o.zeroCopyThreshold,
      group: this._group,
      onError: (res, err) => this.destroy(err ?? netError(res, 'write')),
      onFlushed: () => this.flushed(),
    });
    if (o.noDelay) this.noDelay = true;
    if (o.keepAlive) this.keepAlive = [true, o.keepAliveInitialDelay];
    if (o.signal !== undefined) addAbortSignal(o.signal, this);
  }

  /**
   * @internal Adopts a connected socket (an accepted connection, or one that
   * just connected) and starts reading unless `paused` (pauseOnConnect).
   */
  _attach(fd: number, remote: AddressInfo | undefined, paused = false, unix = false): this {
    this._fd = fd;
    this.remote = remote;
    this.unix = unix;
    this.sender.attach(fd);
    this.applyOptions();
    this.receiver = createReceiver(this._ring, fd, this.sink, { bufferSize: this.recvSize, group: this._group });
    // pauseOnConnect: nothing is received until resume() (stream.Readable calls _read()).
    if (paused) this.pause();
    else if (this.readWanted) this.receiver.arm();
    else this.read(0);
    return this;
  }

  // ---- reading --------------------------------------------------------------

  private readonly sink: ReceiveSink = {
    onData: (chunk) => {
      this.bytesRead += chunk.length;
      this.timer?.refresh();
      return this.push(chunk) && !this.destroyed;
    },
    onEnd: () => {
      this.push(null);
      // As node:net does: with nothing buffered, 'end' follows even if nobody reads.
      this.read(0);
    },
    onError: (res) => {
      this.destroy(netError(res, 'read'));
    },
  };

  /**
   * @internal stream.Readable: wants data. Before the socket is connected
   * there is nothing to arm yet; Readable will not ask again while this
   * read is outstanding, so _attach() arms it.
   */
  override _read(): void {
    if (this.receiver === undefined) this.readWanted = true;
    else this.receiver.arm();
  }

  // ---- writing --------------------------------------------------------------

  /**
   * stream.Writable's write(). A callback that throws is rethrown from a
   * fresh stack ('uncaughtException'), so that it cannot stop the callbacks
   * of the writes sent with it, or the stream's bookkeeping.
   */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    const f = cb;
    const guarded = typeof f !== 'function' ? undefined : (err?: Error | null): void => {
      try { f(err); } catch (e) { process.nextTick(rethrow, e); }
    };
    return encoding === undefined || encoding === null ? super.write(chunk, guarded) : super.write(chunk, encoding, guarded);
  }

  /** A 'drain' listener that throws is rethrown from a fresh stack, as write callbacks are. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'drain') return super.emit(event, ...args);
    try {
      return super.emit(event, ...args);
    } catch (e) {
      process.nextTick(rethrow, e);
      return true;
    }
  }

  /** @internal stream.Writable: one chunk. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: WriteCallback): void {
    if (this._fd === -1) {
      this.queuedWrites.push({ chunks: [chunk], cb });
      return;
    }
    this.timer?.refresh();
    const n = viewLength(chunk, 'chunk');
    this.dispatched += n;
    this.sender.write(chunk, cb, n);
  }

  /** @internal stream.Writable: the chunks buffered while a send was in flight, gathered. */
  override _writev(chunks: { chunk: Buffer }[], cb: WriteCallback): void {
    this.queue(chunks.map((c) => c.chunk), cb);
  }

  private queue(chunks: Buffer[], cb: WriteCallback): void {
    if (this._fd === -1) {
      this.queuedWrites.push({ chunks, cb });
      return;
    }
    this.timer?.refresh();
    let n = 0;
    for (const c of chunks) n += viewLength(c, 'chunk');
    this.dispatched += n;
    const last = chunks.length - 1;
    for (let k = 0; k < last; k++) this.sender.write(chunks[k]!, undefined, 0, false);
    this.sender.write(chunks[last]!, cb, n, false);
    this.sender.flush();
  }

  /** Bytes sent, and queued to be sent, as node:net counts them. */
  get bytesWritten(): number {
    return this.dispatched + this.writableLength - this.sender.unacked;
  }

  /** @internal stream.Writable: end() after everything queued: shut the sending side down. */
  override _final(cb: (err?: Error | null) => void): void {
    if (this._fd === -1) {
      this.pendingFinal = cb;
      return;
    }
    this.pendingFinal = cb;
    this.sender.end();
  }

  private flushed(): void {
    // Everything queued before end() was sent: shut the sending side down.
    const cb = this.pendingFinal;
    this.pendingFinal = undefined;
    if (cb === undefined || this.destroyed) return;
    // Node ignores a failed shutdown here (the peer may be gone already).
    // The kernel runs IORING_OP_SHUTDOWN in an io-wq worker, which looks the
    // fd up only when it gets to it: a close submitted meanwhile could free
    // the number for a new socket, which the shutdown would then hit. So a
    // close waits for this shutdown (see _destroy).
    this.shuttingDown = true;
    ops.shutdownSocket(this._ring, this._fd, SHUT_WR, () => {
      this.shuttingDown = false;
      const close = this.closeAfterShutdown;
      this.closeAfterShutdown = undefined;
      if (close !== undefined) close();
      else cb();
    });
  }

  // ---- closing --------------------------------------------------------------

  /** @internal stream: destroy(). Shuts down and closes; 'close' follows the close's CQE. */
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.clearTimer();
    this.receiver?.stop();
    this.sender.abort(err ?? undefined);
    const failed = this.queuedWrites;
    this.queuedWrites = [];
    const gone = err ?? new UringError('ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
    for (const w of failed) process.nextTick(w.cb, gone);
    // A zero-copy send's buffer stays the kernel's until the peer's side
    // lets go of it, which a peer that never reads may never do: what is
    // left in flight must not keep the process alive.
    if (!this._ring.closed) this._ring._setReferenced(this._group, false);
    const hadError = err !== null && err !== undefined;
    const fd = this._fd;
    cb(err);
    // Node emits 'close' from the handle's close callback, a later turn of
    // the loop than 'error' (queued by cb() below): listeners added after
    // 'error' (await once(s, 'error'), then once(s, 'close')) must still see
    // it, and the close's CQE may be reaped within this very turn.
    const emitClose = (): void => { setImmediate(() => this.emit('close', hadError)); };
    if (fd === -1 || this.fdClosed || this._ring.closed) {
      emitClose();
      return;
    }
    this.fdClosed = true;
    const close = (): void => {
      try {
        // A receive or send in flight holds the socket: shutting it down wakes
        // them, and the peer sees the end even before the last reference goes.
        // resetAndDestroy() closes with SO_LINGER 0 instead: the peer sees RST.
        if (!(this.resetting && ops.resetAndClose(this._ring, fd, emitClose))) {
          ops.shutdownAndClose(this._ring, fd, SHUT_RDWR, emitClose);
        }
      } catch {
        emitClose();
      }
    };
    // Never free the fd number while a shutdown that names it is in flight.
    if (this.shuttingDown) this.closeAfterShutdown = close;
    else close();
  }

  /** Ends the sending side, then destroys the socket once everything was sent. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Closes the connection with a TCP RST (SO_LINGER 0), as node:net's resetAndDestroy(). */
  resetAndDestroy(): this {
    if (this.unix) throw new UringError('ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent');
    this.resetting = true;
    if (this.connecting) this.once('connect', () => this.destroy());
    else this.destroy();
    return this;
  }

  // ---- connecting -------------------------------------------------------------

  /**
   * Connects, as node:net's socket.connect(): `(port[, host][, cb])`,
   * `(path[, cb])` or `(options[, cb])`. 'connect' follows, or 'error'
   * (`connect ECONNREFUSED 127.0.0.1:9`). Throws ERR_SOCKET_BAD_PORT,
   * ERR_MISSING_ARGS and ERR_INVALID_ARG_VALUE for options uring/net lacks.
   */
  connect(...args: unknown[]): this {
    const o = connectArgs(args);
    const cb = trailingCallback(args.slice(1));
    if (cb) this.once('connect', cb);
    if (o.timeout !== undefined) this.setTimeout(validateMsecs(o.timeout, 'options.timeout'));
    this.connecting = true;
    void this.doConnect(o);
    return this;
  }

  private async doConnect(o: ConnectOptions): Promise<void> {
    let fd = -1;
    let remote: AddressInfo | undefined;
    const unix = o.path !== undefined;
    try {
      let sa: Uint8Array;
      let family = AF_UNIX;
      if (unix) sa = encodeUnixSockaddr(o.path!);
      else {
        const host = o.host ?? 'localhost';
        let address = host;
        let v = isIP(host);
        if (v === 0) {
          [address, v] = await lookupHost(o, host);
          this.emit('lookup', null, address, v, host);
        }
        const port = validatePort(o.port);
        sa = encodeSockaddr(address, port);
        family = v === 6 ? AF_INET6 : AF_INET;
        remote = { address, port, family: v === 6 ? 'IPv6' : 'IPv4' };
      }
      if (this.destroyed) return;
      fd = await ops.socket(this._ring, family);
      if (this.destroyed) { ops.closeSocket(this._ring, fd, noop); return; }
      this._fd = fd;
      if (!unix && (o.localAddress !== undefined || o.localPort !== undefined)) {
        const local = o.localAddress ?? (family === AF_INET6 ? '::' : '0.0.0.0');
        // As libuv's uv_tcp_bind: a port in TIME_WAIT can be bound again.
        ops.setIntOption(this._ring, fd, SOL_SOCKET, SO_REUSEADDR, 1);
        await ops.bind(this._ring, fd, encodeSockaddr(local,
          o.localPort === undefined ? 0 : validatePort(o.localPort, 'options.localPort')));
      }
      await ops.connect(this._ring, fd, sa);
    } catch (err) {
      this.connecting = false;
      this.destroy(err as Error);
      return;
    }
    if (this.destroyed) return;
    this.connecting = false;
    this._attach(fd, remote, false, unix);
    for (const w of this.queuedWrites.splice(0)) this.queue(w.chunks, w.cb);
    if (this.pendingFinal !== undefined) this.sender.end();
    this.emit('connect');
    this.emit('ready');
  }

  // ---- addresses and options ----------------------------------------------

  /** The local address, like node:net's socket.address(): {} once closed. */
  address(): AddressInfo | Record<string, never> {
    if (this._fd === -1 || this.fdClosed) return {};
    this.local ??= ops.socketAddress(this._ring, this._fd, false);
    return typeof this.local === 'object' ? this.local : {};
  }

  private peer(): AddressInfo | undefined {
    if (this.remote === undefined && this._fd !== -1 && !this.fdClosed && !this.unix) {
      const a = ops.socketAddress(this._ring, this._fd, true);
      if (typeof a === 'object') this.remote = a;
    }
    return this.remote;
  }

  /** The peer's IP address. */
  get remoteAddress(): string | undefined { return this.peer()?.address; }
  /** The peer's port. */
  get remotePort(): number | undefined { return this.peer()?.port; }
  /** 'IPv4' or 'IPv6'. */
  get remoteFamily(): string | undefined { return this.peer()?.family; }
  /** The local IP address. */
  get localAddress(): string | undefined { return (this.address() as AddressInfo).address; }
  /** The local port. */
  get localPort(): number | undefined { return (this.address() as AddressInfo).port; }
  /** The local address family. */
  get localFamily(): string | undefined { return (this.address() as AddressInfo).family; }
  /** True before the socket is connected (no socket yet, or connecting). */
  get pending(): boolean { return this._fd === -1 || this.connecting; }

  /** 'opening', 'open', 'readOnly', 'writeOnly' or 'closed', as node:net reports. */
  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** TCP_NODELAY: send small writes at once instead of coalescing them (Nagle). */
  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    if (this._fd !== -1 && !this.fdClosed && !this.unix) {
      ops.setIntOption(this._ring, this._fd, IPPROTO_TCP, TCP_NODELAY, noDelay ? 1 : 0);
    }
    return this;
  }

  /** SO_KEEPALIVE, and TCP_KEEPIDLE from `initialDelay` milliseconds when above 0. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.keepAlive = [enable, initialDelay];
    if (this._fd !== -1 && !this.fdClosed && !this.unix) {
      ops.setIntOption(this._ring, this._fd, SOL_SOCKET, SO_KEEPALIVE, enable ? 1 : 0);
      if (enable && initialDelay > 0) {
        ops.setIntOption(this._ring, this._fd, IPPROTO_TCP, TCP_KEEPIDLE, Math.max(1, Math.floor(initialDelay / 1000)));
      }
    }
    return this;
  }

  private applyOptions(): void {
    if (this.noDelay !== undefined) this.setNoDelay(this.noDelay);
    if (this.keepAlive !== undefined) this.setKeepAlive(...this.keepAlive);
  }

  /**
   * Emits 'timeout' after `msecs` without activity (received data or a
   * write); 0 turns it off. Like node:net, the timer does not keep the
   * process alive and the socket stays open: end or destroy it yourself.
   */
  setTimeout(msecs: number, callback?: () => void): this {
    validateMsecs(msecs, 'msecs');
    this.clearTimer();
    this.timeout = msecs;
    if (msecs === 0) {
      if (callback) this.removeListener('timeout', callback);
      return this;
    }
    if (!this.destroyed) {
      // Activity refreshes the timer, which re-arms it after it fired.
      this.timer = setTimeout(() => this.emit('timeout'), msecs);
      this.timer.unref();
    }
    if (callback) this.once('timeout', callback);
    return this;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
  }

  /** Lets the process exit while this socket is its only work (its receives and sends no longer hold it). */
  unref(): this {
    if (!this._ring.closed) this._ring._setReferenced(this._group, false);
    return this;
  }

  /** Undoes unref(): the socket's requests keep the process alive again. */
  ref(): this {
    if (!this._ring.closed && !this.destroyed) this._ring._setReferenced(this._group, true);
    return this;
  }
}

/** @internal A socket's options, read once and checked (a server reads them once for all its connections). */
export class SocketSettings {
  ring: Ring | undefined = undefined;
  allowHalfOpen = false;
  readableHighWaterMark = 65536;
  writableHighWaterMark = 16384;
  recvBufferSize = 16384;
  zeroCopyThreshold: number | false | undefined = undefined;
  noDelay = false;
  keepAlive = false;
  keepAliveInitialDelay = 0;
  signal: AbortSignal | undefined = undefined;
}

/** @internal Reads and checks a socket's options; refuses those uring/net cannot honour. */
export function readSocketSettings(options: unknown): SocketSettings {
  const o = readObject(options, 'options');
  refuseOptions(o, ['fd', 'handle', 'onread'], 'options');
  refuseOptions(o, ['readable', 'writable'], 'options', true);
  const s = new SocketSettings();
  s.ring = o.ring as Ring | undefined;
  s.allowHalfOpen = o.allowHalfOpen === true;
  if (o.readableHighWaterMark !== undefined) {
    s.readableHighWaterMark = validateInteger(o.readableHighWaterMark, 'options.readableHighWaterMark', 1, 2 ** 31 - 1);
  }
  if (o.writableHighWaterMark !== undefined) {
    s.writableHighWaterMark = validateInteger(o.writableHighWaterMark, 'options.writableHighWaterMark', 0, 2 ** 31 - 1);
  }
  if (o.recvBufferSize !== undefined) s.recvBufferSize = validateInteger(o.recvBufferSize, 'options.recvBufferSize', 1, 2 ** 30);
  const zc = o.zeroCopyThreshold;
  if (zc !== undefined && zc !== false) s.zeroCopyThreshold = validateInteger(zc, 'options.zeroCopyThreshold', 0, 2 ** 31 - 1);
  else s.zeroCopyThreshold = zc;
  s.noDelay = o.noDelay === true;
  s.keepAlive = o.keepAlive === true;
  if (o.keepAliveInitialDelay !== undefined) {
    s.keepAliveInitialDelay = validateInteger(o.keepAliveInitialDelay, 'options.keepAliveInitialDelay', 0, 2 ** 31 - 1);
  }
  s.signal = readSignal(o.signal, 'options.signal');
  return s;
}

/** connect()'s overloads as one options object, read once. */
function connectArgs(args: readonly unknown[]): ConnectOptions {
  const [a, b] = args;
  let o: Record<string, unknown>;
  if (a !== null && typeof a === 'object') o = readObject(a, 'options');
  else if (isPipeName(a)) o = { path: a };
  else o = { port: a, host: typeof b === 'string' ? b : undefined };
  refuseOptions(o, ['fd', 'handle', 'onread', 'autoSelectFamily'], 'options');
  if (o.path === undefined && o.port === undefined) {
    throw new UringError('ERR_MISSING_ARGS', 'The "options" or "port" or "path" argument must be specified');
  }
  if (o.path !== undefined && typeof o.path !== 'string') {
    throw new UringError('ERR_INVALID_ARG_TYPE', 'The "options.path" property must be of type string');
  }
  if (o.path === undefined) validatePort(o.port);
  if (o.host !== undefined && typeof o.host !== 'string') {
    throw new UringError('ERR_INVALID_ARG_TYPE', 'The "options.host" property must be of type string');
  }
  return o as ConnectOptions;
}

/** The address of a host name, through options.lookup or dns.lookup. */
function lookupHost(o: ConnectOptions, host: string): Promise<[string, number]> {
  const fn = o.lookup ?? dnsLookup;
  const family = o.family === undefined ? 0 : validateInteger(o.family, 'options.family', 0, 6);
  return new Promise((resolve, reject) => {
    fn(host, { family }, (err, address, fam) => {
      if (err) reject(err); else resolve([address, fam]);
    });
  });
}

function noop(): void { /* result not needed */ }

function rethrow(err: unknown): void {
  throw err;
}

/**
 * Opens a connection, like node:net's connect(): `(port[, host][, listener])`,
 * `(path[, listener])` for a Unix domain socket, or `(options[, listener])`.
 * Returns the socket at once; 'connect' is emitted (and `listener` called)
 * when it is connected, 'error' when it fails (`connect ECONNREFUSED 127.0.0.1:9`).
 *
 * @example
 * ```ts
 * const s = connect(8000, '127.0.0.1', () => s.end('hello'));
 * for await (const chunk of s) console.log(chunk.toString());
 * ```
 */
export function connect(options: ConnectOptions, listener?: () => void): Socket;
export function connect(port: number | string, host?: string, listener?: () => void): Socket;
export function connect(port: number | string, listener?: () => void): Socket;
export function connect(path: string, listener?: () => void): Socket;
export function connect(...args: unknown[]): Socket {
  const [a, ...rest] = args;
  if (a !== null && typeof a === 'object') {
    const o = readObject(a, 'options'); // read once: the socket and the connect share the copy
    return new Socket(o).connect(o, ...rest);
  }
  return new Socket().connect(...args);
}

/** The same as connect(). */
export const createConnection = connect;
