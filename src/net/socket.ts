// A TCP connection on a ring, shaped like node:net's Socket: write() returns
// false past the high-water mark and 'drain' follows; 'data', 'end',
// 'close', 'error'; end() shuts down the sending side after pending writes;
// destroy() shuts down and closes at once. It is also an AsyncIterable of
// chunks. Back-pressure: while nobody consumes (paused, or an iterator not
// pulling) and the buffered bytes reach the high-water mark, no receive is
// armed, so the kernel's socket buffer fills and TCP slows the peer.
import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, SHUT_RDWR, SHUT_WR, SOL_SOCKET, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_NODELAY,
} from '../constants';
import type { Ring } from '../ring';
import { UringError } from '../errors';
import { validateInteger } from '../validators';
import { defaultRing } from './default-ring';
import { AddressInfo, encodeSockaddr } from './sockaddr';
import { ReceiveSink, Receiver, createReceiver } from './receiver';
import { Sender, WriteCallback } from './sender';
import * as ops from './ops';
import { netError } from './errors';

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
}

/** Where to connect. */
export interface ConnectOptions extends SocketOptions {
  /** Port to connect to. */
  port: number;
  /** IP literal or host name (default 'localhost'). */
  host?: string;
}

/** A TCP connection. Made by a Server for each accepted connection, or by connect(). */
export class Socket extends EventEmitter implements AsyncIterable<Buffer | string> {
  /**
   * @internal The socket: an fd, or a registered slot encoded by ops.directRef()
   * (a connection accepted into a direct descriptor); -1 when there is none.
   */
  _fd = -1;
  /** @internal */ readonly _ring: Ring;
  /** True until a client socket has connected. */
  connecting = false;
  /** True after destroy() (or once both sides ended and the socket closed). */
  destroyed = false;
  /** Bytes received so far. */
  bytesRead = 0;
  private readonly allowHalfOpen: boolean;
  private readonly readHwm: number;
  private readonly recvSize: number;
  private readonly sender: Sender;
  private receiver: Receiver | undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private flowing: boolean | null = null;
  private eof = false;
  private endEmitted = false;
  private ending = false;
  private writeShut = false;
  private closing = false;
  private decoder: StringDecoder | undefined;
  private waiter: ((v: IteratorResult<Buffer | string>) => void) | undefined;
  private waiterFail: ((e: unknown) => void) | undefined;
  private iterating = false;
  private error: Error | undefined;
  private remote: AddressInfo | undefined;
  private noDelay: boolean | undefined;
  private keepAlive: [boolean, number] | undefined;

  /** Creates an unconnected socket; prefer connect() or a server's 'connection'. */
  constructor(options: SocketOptions = {}) {
    super();
    this._ring = options.ring ?? defaultRing();
    this.allowHalfOpen = options.allowHalfOpen === true;
    this.readHwm = options.readableHighWaterMark === undefined ? 65536
      : validateInteger(options.readableHighWaterMark, 'options.readableHighWaterMark', 1, 2 ** 31 - 1);
    this.recvSize = options.recvBufferSize === undefined ? 16384
      : validateInteger(options.recvBufferSize, 'options.recvBufferSize', 1, 2 ** 30);
    this.sender = new Sender(this._ring, {
      highWaterMark: options.writableHighWaterMark === undefined ? 16384
        : validateInteger(options.writableHighWaterMark, 'options.writableHighWaterMark', 0, 2 ** 31 - 1),
      zeroCopyThreshold: options.zeroCopyThreshold,
      onDrain: () => this.emit('drain'),
      onError: (res, err) => this.destroy(err ?? netError(res, 'write')),
      onFlushed: () => this.flushed(),
    });
    if (options.noDelay) this.noDelay = true;
    this.on('newListener', (name: string) => {
      if (name === 'data' && this.flowing !== false) this.resume();
    });
  }

  /** @internal Adopts a connected fd (an accepted connection). */
  _attach(fd: number, remote: AddressInfo | undefined): this {
    this._fd = fd;
    this.remote = remote;
    this.sender.attach(fd);
    this.applyOptions();
    this.receiver = createReceiver(this._ring, fd, this.sink, { bufferSize: this.recvSize });
    if (this.flowing === true || this.iterating) this.receiver.arm();
    return this;
  }

  // ---- reading --------------------------------------------------------------

  private readonly sink: ReceiveSink = {
    onData: (chunk) => {
      this.bytesRead += chunk.length;
      if (this.flowing === true && this.queue.length === 0) {
        this.emitData(chunk);
        return this.flowing === true && !this.destroyed;
      }
      this.queue.push(chunk);
      this.queued += chunk.length;
      this.pump();
      return this.queued < this.readHwm && !this.destroyed;
    },
    onEnd: () => {
      this.eof = true;
      this.pump();
    },
    onError: (res) => {
      this.destroy(netError(res, 'read'));
    },
  };

  private emitData(chunk: Buffer): void {
    this.emit('data', this.decoder ? this.decoder.write(chunk) : chunk);
  }

  /** Delivers buffered chunks and the end to whoever consumes. */
  private pump(): void {
    if (this.waiter !== undefined) {
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        this.queued -= chunk.length;
        const w = this.waiter;
        this.waiter = this.waiterFail = undefined;
        w({ value: this.decoder ? this.decoder.write(chunk) : chunk, done: false });
      }
    } else {
      while (this.flowing === true && !this.destroyed && this.queue.length > 0) {
        const chunk = this.queue.shift()!;
        this.queued -= chunk.length;
        this.emitData(chunk);
      }
    }
    if (this.eof && this.queue.length === 0 && (this.flowing === true || this.waiter !== undefined)) this.emitEnd();
    else if (!this.eof && this.queued < this.readHwm && (this.flowing === true || this.waiter !== undefined)) this.receiver?.arm();
  }

  private emitEnd(): void {
    if (this.endEmitted) return;
    this.endEmitted = true;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = this.waiterFail = undefined;
      w({ value: undefined, done: true });
    }
    this.emit('end');
    if (!this.allowHalfOpen) this.end();
    this.maybeClose();
  }

  /** Switches to flowing mode: 'data' events as chunks arrive. */
  resume(): this {
    this.flowing = true;
    if (!this.connecting) process.nextTick(() => this.pump());
    return this;
  }

  /** Stops 'data' events; received bytes are buffered up to the high-water mark. */
  pause(): this {
    this.flowing = false;
    return this;
  }

  /** Whether 'data' events flow. */
  isPaused(): boolean {
    return this.flowing === false;
  }

  /** Emits strings decoded with `encoding` instead of Buffers. */
  setEncoding(encoding: BufferEncoding = 'utf8'): this {
    this.decoder = new StringDecoder(encoding);
    return this;
  }

  /** Bytes received and not yet consumed. */
  get readableLength(): number {
    return this.queued;
  }

  /**
   * Iterates over received chunks; ends at the peer's end of stream, throws
   * the socket's error. Leaving the loop early destroys the socket.
   */
  [Symbol.asyncIterator](): AsyncIterator<Buffer | string> {
    this.iterating = true;
    this.flowing = false;
    return {
      next: () => {
        if (this.error) return Promise.reject(this.error);
        if (this.endEmitted || (this.destroyed && this.queue.length === 0)) {
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => {
          this.waiter = resolve;
          this.waiterFail = reject;
          this.pump();
        });
      },
      return: () => {
        this.destroy();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  // ---- writing --------------------------------------------------------------

  /**
   * Queues `data` for sending. Returns false when the queued bytes reach the
   * writable high-water mark: wait for 'drain' before writing more.
   */
  write(data: string | Uint8Array, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    if (this.ending || this.destroyed) {
      const err = new UringError(this.destroyed ? 'ERR_STREAM_DESTROYED' : 'ERR_STREAM_WRITE_AFTER_END',
        this.destroyed ? 'Cannot call write after a stream was destroyed' : 'write after end');
      process.nextTick(() => { cb?.(err); if (!this.destroyed) this.emit('error', err); });
      return false;
    }
    const buf = typeof data === 'string' ? Buffer.from(data, encoding)
      : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.sender.write(buf, cb);
  }

  /** Bytes queued and not yet sent. */
  get writableLength(): number {
    return this.sender.length;
  }

  /** Bytes sent so far. */
  get bytesWritten(): number {
    return this.sender.bytesWritten;
  }

  /** Sends `data` if given, then shuts down the sending side once everything queued is sent. */
  end(data?: string | Uint8Array | (() => void), encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    if (typeof data === 'function') { cb = data; data = undefined; }
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    if (data !== undefined && !this.ending) this.write(data, encoding);
    if (cb) this.once('finish', cb);
    if (this.ending) return this;
    this.ending = true;
    if (!this.connecting && this._fd !== -1) this.sender.end();
    return this;
  }

  private flushed(): void {
    // Everything queued before end() was sent: shut the sending side down.
    if (this.writeShut || this.destroyed) return;
    this.writeShut = true;
    this.emit('finish');
    ops.shutdownSocket(this._ring, this._fd, SHUT_WR);
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.writeShut && this.endEmitted && !this.destroyed) this.finish(undefined);
  }

  /** Closes the connection at once (after shutting it down, so the peer sees the end). */
  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.finish(err);
    return this;
  }

  private finish(err: Error | undefined): void {
    this.destroyed = true;
    this.receiver?.stop();
    this.error = err;
    this.sender.abort(err);
    if (this.waiterFail !== undefined) {
      const f = this.waiterFail;
      const w = this.waiter!;
      this.waiter = this.waiterFail = undefined;
      if (err) f(err); else w({ value: undefined, done: true });
    }
    const fd = this._fd;
    const done = (): void => {
      // An iterator reports the error through next(); 'error' then needs a listener.
      if (err && (!this.iterating || this.listenerCount('error') > 0)) this.emit('error', err);
      // Node emits 'close' from the handle's close callback, a later turn of
      // the loop: listeners added after 'error' (await once(s, 'error'),
      // then once(s, 'close')) must still see it.
      setImmediate(() => this.emit('close', err !== undefined));
    };
    if (fd === -1 || this.closing || this._ring.closed) { process.nextTick(done); return; }
    this.closing = true;
    // A receive or send in flight holds the socket: shutting it down wakes
    // them, and the peer sees the end even before the last reference goes.
    ops.shutdownAndClose(this._ring, fd, SHUT_RDWR, () => done());
  }

  // ---- connecting -------------------------------------------------------------

  /** Connects to `port` on `host` (default 'localhost'); 'connect' follows. */
  connect(port: number | ConnectOptions, host?: string | (() => void), cb?: () => void): this {
    let o: { port: number; host?: string };
    if (typeof port === 'object' && port !== null) o = port; else o = { port, host: typeof host === 'string' ? host : undefined };
    if (typeof host === 'function') cb = host;
    validateInteger(o.port, 'port', 0, 65535);
    if (cb) this.once('connect', cb);
    this.connecting = true;
    void this.doConnect(o.port, o.host ?? 'localhost');
    return this;
  }

  private async doConnect(port: number, host: string): Promise<void> {
    let address = host;
    try {
      if (isIP(host) === 0) address = (await lookup(host)).address;
      const sa = encodeSockaddr(address, port);
      const fd = await ops.socket(this._ring, isIP(address) === 6 ? AF_INET6 : AF_INET);
      this._fd = fd;
      if (this.destroyed) { ops.closeSocket(this._ring, fd, () => undefined); return; }
      await ops.connect(this._ring, fd, sa);
    } catch (err) {
      this.connecting = false;
      this.destroy(err as Error);
      return;
    }
    if (this.destroyed) return;
    this.connecting = false;
    this._attach(this._fd, { address, port, family: isIP(address) === 6 ? 'IPv6' : 'IPv4' });
    this.emit('connect');
    this.emit('ready');
    if (this.ending) this.sender.end();
  }

  // ---- addresses and options ----------------------------------------------

  /** The local address, like node:net's socket.address(). */
  address(): AddressInfo | Record<string, never> {
    return (this._fd !== -1 && ops.socketAddress(this._ring, this._fd, false)) || {};
  }

  private peer(): AddressInfo | undefined {
    if (this.remote === undefined && this._fd !== -1 && !this.destroyed) this.remote = ops.socketAddress(this._ring, this._fd, true);
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

  /** 'opening', 'open', 'readOnly', 'writeOnly' or 'closed', as node:net reports. */
  get readyState(): string {
    if (this.connecting) return 'opening';
    if (this.destroyed || this._fd === -1) return 'closed';
    if (this.eof && this.writeShut) return 'closed';
    if (this.eof) return 'writeOnly';
    if (this.writeShut) return 'readOnly';
    return 'open';
  }

  /** TCP_NODELAY: send small writes at once instead of coalescing them (Nagle). */
  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    if (this._fd !== -1 && !this.destroyed) ops.setIntOption(this._ring, this._fd, IPPROTO_TCP, TCP_NODELAY, noDelay ? 1 : 0);
    return this;
  }

  /** SO_KEEPALIVE, and TCP_KEEPIDLE from `initialDelay` milliseconds when above 0. */
  setKeepAlive(enable = false, initialDelay = 0): this {
    this.keepAlive = [enable, initialDelay];
    if (this._fd !== -1 && !this.destroyed) {
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

  /** Kept for node:net compatibility; the ring decides what keeps the process alive. */
  ref(): this { return this; }
  /** Kept for node:net compatibility; the ring decides what keeps the process alive. */
  unref(): this { return this; }
}

/**
 * Opens a TCP connection, like node:net's connect(). Returns the socket at
 * once; 'connect' is emitted (and `listener` called) when it is connected,
 * 'error' when it fails (`connect ECONNREFUSED 127.0.0.1:9`).
 *
 * @example
 * ```ts
 * const s = connect(8000, '127.0.0.1', () => s.end('hello'));
 * for await (const chunk of s) console.log(chunk.toString());
 * ```
 */
export function connect(port: number | ConnectOptions, host?: string | (() => void), listener?: () => void): Socket {
  const options = typeof port === 'object' && port !== null ? port : {};
  return new Socket(options).connect(port, host, listener);
}

/** The same as connect(). */
export const createConnection = connect;
