// Socket operations on a ring: socket, bind, listen, accept (single and
// multishot), connect, send (plain, gathered and zero-copy), recv, shutdown
// and close. Each validates its arguments before taking an SQE, and each
// request holds every buffer its SQE points at (sockaddr, socklen, data)
// until its last CQE.
//
// Two shapes: promise functions for one-off calls (errors carry the caller's
// stack, like every Ring method), and handler functions for the hot paths of
// uring/net's sockets, which call back with (res, flags) and allocate no
// promise. A handler request can be cancelled through the token it returns.
import {
  ACCEPT_MULTISHOT, AF_INET, AF_INET6, CQE_F_MORE, IOSQE_IO_HARDLINK, MSG_NOSIGNAL,
  SHUT_RDWR, SOCK_CLOEXEC, SOCK_STREAM, IOSQE_BUFFER_SELECT, RECV_MULTISHOT, IOSQE_FIXED_FILE,
  FILE_INDEX_ALLOC, Op,
} from '../constants';
import type { Ring, OpOptions } from '../ring';
import { OPS, OpSpec } from '../opcodes';
import { prep, put64 } from '../sq';
import { internalAddress, viewAddress } from '../memory';
import type { FileRef } from '../files';
import { refuseFixed } from '../files';
import { abortedBeforeStart, applyOptions, optionSlots } from '../submit-options';
import { validateFd, validateInteger } from '../validators';
import { invalidArgType, invalidArgValue } from '../errors';
import type { CqeHandler, Request } from '../requests';
import { AddressInfo, SOCKADDR_MAX, decodeSockaddr, sockaddrFamily } from './sockaddr';
import { netError } from './errors';

/** Names an in-flight handler request so that it can be cancelled. */
export interface OpToken {
  readonly req: Request;
  readonly gen: number;
}

/** Cancels a handler request if it is still the one the token names. */
export function cancelOp(ring: Ring, t: OpToken | undefined): void {
  if (t === undefined || ring.closed) return;
  if (t.req.gen === t.gen && t.req.handler !== undefined) ring._cancelRequest(t.req);
}

/** Bad input becomes a rejected promise, never a synchronous throw. */
function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f();
  } catch (err) {
    return Promise.reject(err);
  }
}

function track(ring: Ring, i: number, hold: unknown, spec: OpSpec, options: OpOptions | undefined,
  map?: (res: number, flags: number) => unknown, fail?: (res: number) => unknown): Promise<any> {
  const { req, promise } = ring._trackReq(i, hold, spec.name);
  req.map = map;
  req.fail = fail;
  req.waiter = spec.waiter === true;
  if (options !== undefined) applyOptions(ring, i, req, options);
  return promise;
}

function handler(ring: Ring, i: number, hold: unknown, spec: OpSpec, h: CqeHandler): OpToken {
  const req = ring._trackHandler(i, hold, spec.name, h);
  req.waiter = spec.waiter === true;
  return { req, gen: req.gen };
}

function checkSockaddr(addr: unknown): Uint8Array {
  if (!(addr instanceof Uint8Array)) throw invalidArgType('address', 'an instance of Uint8Array (a sockaddr)', addr);
  const fam = sockaddrFamily(addr);
  if (!((fam === AF_INET && addr.byteLength >= 16) || (fam === AF_INET6 && addr.byteLength >= 28))) {
    throw invalidArgValue('address', addr, 'must be a sockaddr_in or sockaddr_in6 (see encodeSockaddr)');
  }
  return addr;
}

function where(addr: Uint8Array): [string | undefined, number | undefined] {
  const a = decodeSockaddr(addr);
  return [a?.address, a?.port];
}

/**
 * IORING_OP_SOCKET: a new close-on-exec TCP socket of `family` (AF_INET or
 * AF_INET6). Resolves with its fd. ERR_URING_UNSUPPORTED before Linux 5.19.
 */
export function socket(ring: Ring, family: number, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    ring._need(OPS.socket.op, 'SOCKET');
    if (family !== AF_INET && family !== AF_INET6) throw invalidArgValue('family', family, 'must be AF_INET or AF_INET6');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    // domain in fd, type in off, protocol in len; rw_flags must be 0.
    prep(ring._w, i, OPS.socket.op, 0, family, 0, 0, SOCK_STREAM | SOCK_CLOEXEC);
    return track(ring, i, undefined, OPS.socket, options);
  });
}

function nativeCall(res: number, syscall: string, addr?: Uint8Array): Promise<number> {
  if (res >= 0) return Promise.resolve(res);
  const [a, p] = addr ? where(addr) : [undefined, undefined];
  return Promise.reject(netError(res, syscall, a, p, true));
}

/**
 * bind(2): IORING_OP_BIND where the kernel has it (6.11+), else the
 * synchronous system call. `address` is a sockaddr from encodeSockaddr().
 */
export function bind(ring: Ring, file: FileRef, address: Uint8Array, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const addr = checkSockaddr(address);
    if (!ring.probe().supports(OPS.bind.op)) {
      refuseFixed(file, 'file', 'bind without IORING_OP_BIND');
      return nativeCall(ring._n.bind(validateFd(file), addr), 'bind', addr);
    }
    const fd = ring._file(file, OPS.bind);
    const ff = ring._ff;
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    prep(ring._w, i, OPS.bind.op, ff, fd, internalAddress(addr), 0, addr.byteLength);
    const [a, p] = where(addr);
    return track(ring, i, addr, OPS.bind, options, undefined, (res) => netError(res, 'bind', a, p, true));
  });
}

/** listen(2): IORING_OP_LISTEN where the kernel has it (6.11+), else the system call. */
export function listen(ring: Ring, file: FileRef, backlog = 511, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    validateInteger(backlog, 'backlog', 0, 0x7fffffff);
    if (!ring.probe().supports(OPS.listen.op)) {
      refuseFixed(file, 'file', 'listen without IORING_OP_LISTEN');
      return nativeCall(ring._n.listen(validateFd(file), backlog), 'listen');
    }
    const fd = ring._file(file, OPS.listen);
    const ff = ring._ff;
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    prep(ring._w, i, OPS.listen.op, ff, fd, 0, backlog, 0);
    return track(ring, i, undefined, OPS.listen, options, undefined, (res) => netError(res, 'listen', undefined, undefined, true));
  });
}

/** What accept() resolves with. */
export interface Accepted {
  fd: number;
  /** The peer's address, when the kernel reported an IPv4/IPv6 one. */
  remote: AddressInfo | undefined;
}

/** accept4(2) on the ring, close-on-exec. Resolves with the new fd and the peer's address. */
export function accept(ring: Ring, file: FileRef, options?: OpOptions): Promise<Accepted> {
  return guard(() => {
    ring._checkOpen();
    const fd = ring._file(file, OPS.accept);
    const ff = ring._ff;
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    // sockaddr (28 bytes) then its socklen_t at a 4-byte boundary.
    const mem = new Uint8Array(32);
    new DataView(mem.buffer).setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
    const base = internalAddress(mem);
    const i = ring._sqe(n);
    const w = ring._w;
    prep(w, i, OPS.accept.op, ff, fd, base, 0, base + SOCKADDR_MAX);
    w[i + 7] = SOCK_CLOEXEC;
    return track(ring, i, mem, OPS.accept, options, (res) => ({
      fd: res,
      remote: decodeSockaddr(mem, new DataView(mem.buffer).getUint32(SOCKADDR_MAX, true)),
    }), (res) => netError(res, 'accept'));
  });
}

/**
 * Multishot accept (IORING_ACCEPT_MULTISHOT, 5.19+): one request that posts a
 * CQE per connection, `res` the new fd (or -errno) and CQE_F_MORE while it
 * stays armed. It reports no peer address; ask getpeername for that.
 */
export function acceptMultishot(ring: Ring, file: FileRef, onCqe: CqeHandler, direct = false): OpToken {
  ring._checkOpen();
  const fd = ring._file(file, OPS.accept);
  const ff = ring._ff;
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.accept.op, ff, fd, 0, 0, 0);
  w[i] |= ACCEPT_MULTISHOT << 16; // accept's own flags travel in sqe->ioprio
  if (direct) {
    // Each connection goes into a free slot of the ring's file table, which
    // the kernel picks; a CQE's res is then the slot, not an fd.
    w[i + 11] = FILE_INDEX_ALLOC;
  } else {
    w[i + 7] = SOCK_CLOEXEC;
  }
  return handler(ring, i, undefined, OPS.accept, onCqe);
}

/** One accept into a slot the kernel picks (file_index = IORING_FILE_INDEX_ALLOC); res is the slot. */
export function acceptDirectOnce(ring: Ring, fd: number, onCqe: CqeHandler): OpToken {
  ring._checkOpen();
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.accept.op, 0, fd, 0, 0, 0);
  w[i + 11] = FILE_INDEX_ALLOC;
  return handler(ring, i, undefined, OPS.accept, onCqe);
}

/** connect(2) on the ring. Rejects like node:net: `connect ECONNREFUSED 127.0.0.1:9`. */
export function connect(ring: Ring, file: FileRef, address: Uint8Array, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const fd = ring._file(file, OPS.connect);
    const ff = ring._ff;
    const addr = checkSockaddr(address);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    prep(ring._w, i, OPS.connect.op, ff, fd, internalAddress(addr), 0, addr.byteLength);
    const [a, p] = where(addr);
    return track(ring, i, addr, OPS.connect, options, undefined, (res) => netError(res, 'connect', a, p));
  });
}

/** send(2) with MSG_NOSIGNAL. Resolves with the bytes sent (possibly fewer than asked). */
export function send(ring: Ring, file: FileRef, data: ArrayBufferView, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const fd = ring._file(file, OPS.send);
    const ff = ring._ff;
    const addr = viewAddress(data, 'data');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    const w = ring._w;
    prep(w, i, OPS.send.op, ff, fd, addr, data.byteLength, 0);
    w[i + 7] = MSG_NOSIGNAL;
    return track(ring, i, data, OPS.send, options, undefined, (res) => netError(res, 'write'));
  });
}

/** recv(2) into `buffer`. Resolves with the bytes received, 0 at end of stream. */
export function recv(ring: Ring, file: FileRef, buffer: ArrayBufferView, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const fd = ring._file(file, OPS.recv);
    const ff = ring._ff;
    const addr = viewAddress(buffer, 'buffer');
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    prep(ring._w, i, OPS.recv.op, ff, fd, addr, buffer.byteLength, 0);
    return track(ring, i, buffer, OPS.recv, options, undefined, (res) => netError(res, 'read'));
  });
}

/** shutdown(2): `how` is SHUT_RD, SHUT_WR or SHUT_RDWR. */
export function shutdown(ring: Ring, file: FileRef, how: number, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const fd = ring._file(file, OPS.shutdown);
    const ff = ring._ff;
    validateInteger(how, 'how', 0, SHUT_RDWR);
    const n = optionSlots(options);
    const early = abortedBeforeStart(options);
    if (early) return early;
    const i = ring._sqe(n);
    prep(ring._w, i, OPS.shutdown.op, ff, fd, 0, how, 0);
    return track(ring, i, undefined, OPS.shutdown, options);
  });
}

// ---- handler forms for the socket hot paths --------------------------------
//
// These take an internal socket handle: an fd (>= 0), or a connection that
// lives only in a registered slot (a direct descriptor), encoded as
// -(slot + 2) so that the socket code carries one number either way.

/** The internal handle of a socket held in registered slot `slot`. */
export function directRef(slot: number): number {
  return -(slot + 2);
}

/** Whether an internal handle names a registered slot. */
export function isDirect(fd: number): boolean {
  return fd <= -2;
}

/** The SQE fd field and flags for an internal handle. */
function target(fd: number): number {
  return fd <= -2 ? -fd - 2 : fd;
}
function fixedFlag(fd: number): number {
  return fd <= -2 ? IOSQE_FIXED_FILE : 0;
}

/** Writes a close of the handle at SQE `i`: close(2), or close_direct of the slot. */
function prepCloseHandle(w: Uint32Array, i: number, fd: number): void {
  if (fd <= -2) {
    // close_direct: the slot goes in file_index (+1), never with IOSQE_FIXED_FILE.
    prep(w, i, OPS.close.op, 0, 0, 0, 0, 0);
    w[i + 11] = -fd - 1;
  } else {
    prep(w, i, OPS.close.op, 0, fd, 0, 0, 0);
  }
}

/** recv into `buffer`; `onCqe(res, flags)` gets the byte count, 0 (EOF) or -errno. */
export function recvInto(ring: Ring, fd: number, buffer: Uint8Array, onCqe: CqeHandler): OpToken {
  const i = ring._sqe(1);
  prep(ring._w, i, OPS.recv.op, fixedFlag(fd), target(fd), internalAddress(buffer), buffer.byteLength, 0);
  return handler(ring, i, buffer, OPS.recv, onCqe);
}

/**
 * Multishot recv (Linux 6.0+): one request that posts a CQE per chunk, each
 * in a buffer the kernel picks from provided-buffer group `group`, until
 * end of file, an error, ENOBUFS or a cancel ends it (no CQE_F_MORE).
 */
export function recvMultishot(ring: Ring, fd: number, group: number, onCqe: CqeHandler): OpToken {
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.recv.op, IOSQE_BUFFER_SELECT | fixedFlag(fd), target(fd), 0, 0, 0);
  w[i] |= RECV_MULTISHOT << 16; // ioprio carries the recv flags
  w[i + 10] = group;            // buf_group
  return handler(ring, i, undefined, OPS.recv, onCqe);
}

/** send of one buffer with MSG_NOSIGNAL. */
export function sendFrom(ring: Ring, fd: number, data: Uint8Array, onCqe: CqeHandler): void {
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.send.op, fixedFlag(fd), target(fd), internalAddress(data), data.byteLength, 0);
  w[i + 7] = MSG_NOSIGNAL;
  handler(ring, i, data, OPS.send, onCqe);
}

/** Largest gather a single sendmsg takes (IOV_MAX). */
export const IOV_MAX = 1024;

/** sendmsg of up to IOV_MAX buffers in order, with MSG_NOSIGNAL. */
export function sendFromMany(ring: Ring, fd: number, data: readonly Uint8Array[], onCqe: CqeHandler): void {
  // struct msghdr (56 bytes: name, namelen, iov, iovlen, control,
  // controllen, flags) followed by the iovec array, in one allocation.
  const n = data.length;
  const words = new Uint32Array(14 + 4 * n);
  const base = internalAddress(words);
  put64(words, 4, base + 56);
  words[6] = n;
  for (let k = 0; k < n; k++) {
    const b = data[k]!;
    put64(words, 14 + 4 * k, internalAddress(b));
    words[16 + 4 * k] = b.byteLength;
  }
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.sendmsg.op, fixedFlag(fd), target(fd), base, 1, 0);
  w[i + 7] = MSG_NOSIGNAL;
  handler(ring, i, [words, data], OPS.sendmsg, onCqe);
}

/**
 * Zero-copy send (IORING_OP_SEND_ZC, 6.0+). Two CQEs: the result (with
 * CQE_F_MORE when a notification follows), then the notification
 * (CQE_F_NOTIF) once the kernel no longer reads `data`. The request holds
 * `data` until that last CQE.
 */
export function sendZeroCopy(ring: Ring, fd: number, data: Uint8Array, onCqe: CqeHandler): void {
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, OPS.sendZc.op, fixedFlag(fd), target(fd), internalAddress(data), data.byteLength, 0);
  w[i + 7] = MSG_NOSIGNAL;
  handler(ring, i, data, OPS.sendZc, onCqe);
}

/**
 * shutdown(how) hard-linked to close: the close runs after the shutdown
 * whatever its result, and the shutdown reaches the socket before the fd
 * goes. `onClosed` gets the close's result.
 */
export function shutdownAndClose(ring: Ring, fd: number, how: number, onClosed: CqeHandler): void {
  const i = ring._sqe(2);
  prep(ring._w, i, OPS.shutdown.op, IOSQE_IO_HARDLINK | fixedFlag(fd), target(fd), 0, how, 0);
  handler(ring, i, undefined, OPS.shutdown, noop);
  const j = ring._sqe(0);
  prepCloseHandle(ring._w, j, fd);
  handler(ring, j, undefined, OPS.close, closed(ring, fd, onClosed));
}

/** shutdown(2) whose result is not needed (the sending side after end()). */
export function shutdownSocket(ring: Ring, fd: number, how: number): void {
  const i = ring._sqe(1);
  prep(ring._w, i, OPS.shutdown.op, fixedFlag(fd), target(fd), 0, how, 0);
  handler(ring, i, undefined, OPS.shutdown, noop);
}

/** close(2) of a socket fd on the ring. */
export function closeSocket(ring: Ring, fd: number, onClosed: CqeHandler): void {
  const i = ring._sqe(1);
  prepCloseHandle(ring._w, i, fd);
  handler(ring, i, undefined, OPS.close, closed(ring, fd, onClosed));
}

/** After a close_direct, tells ring.files the slot is empty. */
function closed(ring: Ring, fd: number, onClosed: CqeHandler): CqeHandler {
  if (fd > -2) return onClosed;
  const slot = -fd - 2;
  return (res, flags) => {
    if (res >= 0) ring.files._removed(slot);
    onClosed(res, flags);
  };
}

/** Whether a multishot CQE is the last of its request. */
export function isLast(flags: number): boolean {
  return (flags & CQE_F_MORE) === 0;
}

function noop(): void { /* the linked close reports */ }

// ---- synchronous socket calls (no opcode) -----------------------------------

/** setsockopt(2) with an int value; throws a Node-shaped error on failure. */
export function setIntOption(ring: Ring, fd: number, level: number, name: number, value: number): void {
  if (fd <= -2) {
    setIntOptionDirect(ring, fd, level, name, value);
    return;
  }
  const res = ring._n.setsockopt(fd, level, name, value);
  if (res < 0) throw netError(res, 'setsockopt');
}

/** SOCKET_URING_OP_SETSOCKOPT, the cmd_op of IORING_OP_URING_CMD on a socket (Linux 6.7+). */
const SOCKET_URING_OP_SETSOCKOPT = 3;

/**
 * setsockopt on a socket that has no fd, only a registered slot: an
 * IORING_OP_URING_CMD. Asynchronous; a kernel without the command leaves the
 * option as it was (options are hints here, as setNoDelay() is in node:net).
 */
function setIntOptionDirect(ring: Ring, fd: number, level: number, name: number, value: number): void {
  if (ring.closed || !ring.probe().supports(Op.URING_CMD)) return;
  const optval = new Int32Array([value]);
  const i = ring._sqe(1);
  const w = ring._w;
  prep(w, i, Op.URING_CMD, IOSQE_FIXED_FILE, target(fd), 0, 0, SOCKET_URING_OP_SETSOCKOPT);
  w[i + 4] = level;            // sqe->level
  w[i + 5] = name;             // sqe->optname
  w[i + 11] = 4;               // sqe->optlen
  put64(w, i + 12, internalAddress(optval)); // sqe->optval
  handler(ring, i, optval, OPS.socket, noop);
}

/** getsockname(2) / getpeername(2) decoded, or undefined when the socket has none. */
export function socketAddress(ring: Ring, fd: number, peer: boolean): AddressInfo | undefined {
  // A direct descriptor has no fd to ask; the server records what it knows.
  if (fd <= -2) return undefined;
  const out = new Uint8Array(SOCKADDR_MAX);
  const len = peer ? ring._n.getpeername(fd, out) : ring._n.getsockname(fd, out);
  return len < 0 ? undefined : decodeSockaddr(out, len);
}
