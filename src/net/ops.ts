// Socket operations on a ring: socket, bind, listen, accept (single and
// multishot), connect, send (plain, gathered and zero-copy), recv, shutdown
// and close. Each reads and validates its arguments, builds an Operation and
// hands it to the ring's submit funnel, which pins the callers' memory (the
// data a socket writes) and holds the library's own (sockaddrs, socklens,
// msghdrs) until the request's last CQE.
//
// Two shapes: promise functions for one-off calls (errors carry the caller's
// stack, like every Ring method), and handler functions for the hot paths of
// uring/net's sockets, which call back with (res, flags) and allocate no
// promise. A handler request can be cancelled through the token it returns.
// A socket is named by a FileTarget (operation.ts): an fd, or a connection
// that lives only in a registered slot (a direct descriptor).
import { types } from 'node:util';
import {
  ACCEPT_MULTISHOT, AF_INET, AF_INET6, CQE_F_MORE, IOSQE_IO_HARDLINK, MSG_NOSIGNAL,
  SHUT_RDWR, SOCK_CLOEXEC, SOCK_STREAM, IOSQE_BUFFER_SELECT, RECV_MULTISHOT,
  FILE_INDEX_ALLOC, Op, SOL_SOCKET, SO_LINGER,
} from '../constants';
import type { RingCore } from '../ring-core';
import type { Ring } from '../ring';
import { OPS, OpSpec } from '../opcodes';
import { Operation, FileTarget, SlotChange, isSlot, slotTarget, targetNumber } from '../operation';
import { internalAddress, putU64, viewBuffer, viewByteOffset, viewLength } from '../memory';
import { fileTarget, refuseFixed, FileRef } from '../files';
import { closeSlot } from '../ops/paths';
import { withOptions, OpOptions } from '../options';
import { validateFd, validateInteger } from '../validators';
import { invalidArgType, invalidArgValue } from '../errors';
import type { CqeHandler, RefGroup, Request } from '../requests';
import {
  AF_UNIX, AddressInfo, SOCKADDR_MAX, SOCKADDR_UN_MAX, decodeSockaddr, decodeUnixPath, sockaddrFamily,
} from './sockaddr';
import { netError } from './errors';

/** Names an in-flight handler request so that it can be cancelled. */
export interface OpToken {
  readonly req: Request;
  readonly gen: number;
}

/** Cancels a handler request if it is still the one the token names. */
export function cancelOp(ring: RingCore, t: OpToken | undefined): void {
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

/**
 * Starts a socket's own request; allowed while the ring closes, as sockets
 * wind down then. `group` is the owner's keep-alive group (ref()/unref()).
 */
function start(ring: RingCore, op: Operation, h: CqeHandler, group?: RefGroup): OpToken {
  op.group = group;
  const req = ring._startInternal(op, h);
  return { req, gen: req.gen };
}

/** A copy of a caller's sockaddr (read once, through the engine's own extent). */
function checkSockaddr(addr: unknown): Uint8Array {
  if (!types.isUint8Array(addr)) throw invalidArgType('address', 'an instance of Uint8Array (a sockaddr)', addr);
  const copy = new Uint8Array(viewLength(addr, 'address'));
  copy.set(new Uint8Array(viewBuffer(addr as Uint8Array), viewByteOffset(addr as Uint8Array), copy.length));
  const fam = sockaddrFamily(copy);
  if (!((fam === AF_INET && copy.length >= 16) || (fam === AF_INET6 && copy.length >= 28)
    || (fam === AF_UNIX && copy.length > 2 && copy.length <= SOCKADDR_UN_MAX))) {
    throw invalidArgValue('address', addr, 'must be a sockaddr_in, sockaddr_in6 or sockaddr_un (see encodeSockaddr)');
  }
  return copy;
}

function where(addr: Uint8Array): [string | undefined, number | undefined] {
  if (sockaddrFamily(addr) === AF_UNIX) return [decodeUnixPath(addr, addr.length), undefined];
  const a = decodeSockaddr(addr);
  return [a?.address, a?.port];
}

/**
 * IORING_OP_SOCKET: a new close-on-exec stream socket of `family` (AF_INET or
 * AF_INET6: TCP; AF_UNIX: a Unix domain socket). Resolves with its fd.
 * ERR_URING_UNSUPPORTED before Linux 5.19.
 */
export function socket(ring: RingCore, family: number, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._need(OPS.socket.op, 'SOCKET');
    if (family !== AF_INET && family !== AF_INET6 && family !== AF_UNIX) {
      throw invalidArgValue('family', family, 'must be AF_INET, AF_INET6 or AF_UNIX');
    }
    // domain in fd, type in off, protocol in len; rw_flags must be 0.
    const op = new Operation(OPS.socket);
    op.fd = family;
    op.off = SOCK_STREAM | SOCK_CLOEXEC;
    op.returnsFd = true;
    return ring._submit(withOptions(op, options));
  });
}

function nativeCall(res: number, syscall: string, addr?: Uint8Array): Promise<number> {
  if (res >= 0) return Promise.resolve(res);
  const [a, p] = addr ? where(addr) : [undefined, undefined];
  return Promise.reject(netError(res, syscall, a, p, true));
}

/** BIND or CONNECT of a socket to a sockaddr the request holds. */
function addressOp(spec: OpSpec, target: FileTarget, addr: Uint8Array, syscall: string, local: boolean): Operation {
  const op = new Operation(spec).file(target);
  op.addr = internalAddress(addr);
  op.off = addr.byteLength; // addrlen
  op.hold = addr;
  const [a, p] = where(addr);
  op.fail = (res) => netError(res, syscall, a, p, local);
  return op;
}

/**
 * bind(2): IORING_OP_BIND where the kernel has it (6.11+), else the
 * synchronous system call. `address` is a sockaddr from encodeSockaddr().
 */
export function bind(ring: RingCore, file: FileRef, address: Uint8Array, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    const addr = checkSockaddr(address);
    if (!ring.probe().supports(OPS.bind.op)) {
      refuseFixed(file, 'file', 'bind without IORING_OP_BIND');
      return nativeCall(ring._n.bind(validateFd(file), addr), 'bind', addr);
    }
    const op = addressOp(OPS.bind, fileTarget(file, OPS.bind, ring), addr, 'bind', true);
    return ring._submit(withOptions(op, options));
  });
}

/** listen(2): IORING_OP_LISTEN where the kernel has it (6.11+), else the system call. */
export function listen(ring: RingCore, file: FileRef, backlog = 511, options?: OpOptions): Promise<number> {
  return guard(() => {
    ring._checkOpen();
    validateInteger(backlog, 'backlog', 0, 0x7fffffff);
    if (!ring.probe().supports(OPS.listen.op)) {
      refuseFixed(file, 'file', 'listen without IORING_OP_LISTEN');
      return nativeCall(ring._n.listen(validateFd(file), backlog), 'listen');
    }
    const op = new Operation(OPS.listen).file(fileTarget(file, OPS.listen, ring));
    op.len = backlog;
    op.fail = (res) => netError(res, 'listen', undefined, undefined, true);
    return ring._submit(withOptions(op, options));
  });
}

/** What accept() resolves with. */
export interface Accepted {
  fd: number;
  /** The peer's address, when the kernel reported an IPv4/IPv6 one. */
  remote: AddressInfo | undefined;
}

/** accept4(2) on the ring, close-on-exec. Resolves with the new fd and the peer's address. */
export function accept(ring: RingCore, file: FileRef, options?: OpOptions): Promise<Accepted> {
  return guard(() => {
    const op = new Operation(OPS.accept).file(fileTarget(file, OPS.accept, ring));
    // sockaddr (28 bytes) then its socklen_t at a 4-byte boundary.
    const mem = new Uint8Array(32);
    const dv = new DataView(mem.buffer);
    dv.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
    const base = internalAddress(mem);
    op.addr = base;
    op.off = base + SOCKADDR_MAX;
    op.opFlags = SOCK_CLOEXEC;
    op.hold = mem;
    op.returnsFd = true;
    op.map = (res) => ({ fd: res, remote: decodeSockaddr(mem, dv.getUint32(SOCKADDR_MAX, true)) });
    op.fail = (res) => netError(res, 'accept');
    return ring._submit(withOptions(op, options));
  });
}

/**
 * Multishot accept (IORING_ACCEPT_MULTISHOT, 5.19+): one request that posts a
 * CQE per connection, `res` the new fd (or -errno) and CQE_F_MORE while it
 * stays armed. It reports no peer address; ask getpeername for that.
 */
export function acceptMultishot(ring: RingCore, file: FileRef, onCqe: CqeHandler, direct?: SlotChange,
  group?: RefGroup): OpToken {
  const op = new Operation(OPS.accept).file(fileTarget(file, OPS.accept, ring));
  op.ioprio = ACCEPT_MULTISHOT; // accept's own flags travel in sqe->ioprio
  // With `direct`, each connection goes into a free slot of the ring's file
  // table, which the kernel picks; a CQE's res is then the slot, not an fd,
  // and `direct` (FileTable._change) records it in the table's view.
  if (direct !== undefined) {
    op.fileIndex = FILE_INDEX_ALLOC;
    op.change = direct;
  } else {
    op.opFlags = SOCK_CLOEXEC;
  }
  return start(ring, op, onCqe, group);
}

/** One accept into a slot the kernel picks (file_index = IORING_FILE_INDEX_ALLOC); res is the slot. */
export function acceptDirectOnce(ring: RingCore, fd: FileTarget, onCqe: CqeHandler, change: SlotChange,
  group?: RefGroup): OpToken {
  const op = new Operation(OPS.accept).file(fd);
  op.fileIndex = FILE_INDEX_ALLOC;
  op.change = change;
  return start(ring, op, onCqe, group);
}

/** connect(2) on the ring. Rejects like node:net: `connect ECONNREFUSED 127.0.0.1:9`. */
export function connect(ring: RingCore, file: FileRef, address: Uint8Array, options?: OpOptions): Promise<number> {
  return guard(() => {
    const target = fileTarget(file, OPS.connect, ring);
    const op = addressOp(OPS.connect, target, checkSockaddr(address), 'connect', false);
    return ring._submit(withOptions(op, options));
  });
}

/** SEND of all of `data` (a caller's view: pinned) with MSG_NOSIGNAL. */
function sendOp(spec: OpSpec, fd: FileTarget, data: unknown): Operation {
  const op = new Operation(spec).file(fd);
  op.len = viewLength(data, 'data');
  op.view = data as ArrayBufferView;
  op.opFlags = MSG_NOSIGNAL;
  return op;
}

/** send(2) with MSG_NOSIGNAL. Resolves with the bytes sent (possibly fewer than asked). */
export function send(ring: RingCore, file: FileRef, data: ArrayBufferView, options?: OpOptions): Promise<number> {
  return guard(() => {
    const op = sendOp(OPS.send, fileTarget(file, OPS.send, ring), data);
    op.fail = (res) => netError(res, 'write');
    return ring._submit(withOptions(op, options));
  });
}

/** recv(2) into `buffer`. Resolves with the bytes received, 0 at end of stream. */
export function recv(ring: RingCore, file: FileRef, buffer: ArrayBufferView, options?: OpOptions): Promise<number> {
  return guard(() => {
    const op = new Operation(OPS.recv).file(fileTarget(file, OPS.recv, ring));
    op.len = viewLength(buffer, 'buffer');
    op.view = buffer;
    op.fail = (res) => netError(res, 'read');
    return ring._submit(withOptions(op, options));
  });
}

/** shutdown(2): `how` is SHUT_RD, SHUT_WR or SHUT_RDWR. */
export function shutdown(ring: RingCore, file: FileRef, how: number, options?: OpOptions): Promise<number> {
  return guard(() => {
    const op = new Operation(OPS.shutdown).file(fileTarget(file, OPS.shutdown, ring));
    op.len = validateInteger(how, 'how', 0, SHUT_RDWR);
    return ring._submit(withOptions(op, options));
  });
}

// ---- handler forms for the socket hot paths --------------------------------

/** The FileTarget of a socket held in registered slot `slot`. */
export const directRef = slotTarget;

/** Whether a socket's FileTarget names a registered slot. */
export const isDirect = isSlot;

/** A close of the socket: close(2), or close_direct of its slot. */
function closeOp(fd: FileTarget): Operation {
  if (isSlot(fd)) return closeSlot(targetNumber(fd));
  const op = new Operation(OPS.close);
  op.fd = fd;
  return op;
}

/** recv into `buffer`; `onCqe(res, flags)` gets the byte count, 0 (EOF) or -errno. */
export function recvInto(ring: RingCore, fd: FileTarget, buffer: Uint8Array, onCqe: CqeHandler,
  group?: RefGroup): OpToken {
  const op = new Operation(OPS.recv).file(fd);
  op.len = viewLength(buffer, 'buffer');
  op.view = buffer;
  return start(ring, op, onCqe, group);
}

/**
 * Multishot recv (Linux 6.0+): one request that posts a CQE per chunk, each
 * in a buffer the kernel picks from provided-buffer group `group`, until
 * end of file, an error, ENOBUFS or a cancel ends it (no CQE_F_MORE).
 */
export function recvMultishot(ring: RingCore, fd: FileTarget, bufGroup: number, onCqe: CqeHandler,
  group?: RefGroup): OpToken {
  const op = new Operation(OPS.recv).file(fd);
  op.flags |= IOSQE_BUFFER_SELECT;
  op.ioprio = RECV_MULTISHOT; // ioprio carries the recv flags
  op.bufIndex = bufGroup;     // buf_group
  return start(ring, op, onCqe, group);
}

/** send of one caller's buffer with MSG_NOSIGNAL (its memory is pinned until the CQE). */
export function sendFrom(ring: RingCore, fd: FileTarget, data: Uint8Array, onCqe: CqeHandler, group?: RefGroup): void {
  const op = sendOp(OPS.send, fd, data);
  op.group = group;
  ring._startInternal(op, onCqe);
}

/**
 * @internal The plain sends of one socket, one in flight at a time, through one
 * Operation. It is filled again only once the ring has released the request
 * that carried it (after its CQE: the record then no longer holds it), so
 * nothing the kernel may still read is changed; until then a new one is made.
 */
export class Sends {
  private op: Operation | undefined = undefined;
  private req: Request | undefined = undefined;

  constructor(private readonly ring: RingCore, private readonly fd: FileTarget, private readonly group: RefGroup) {}

  /** send of `data` (pinned until the CQE) with MSG_NOSIGNAL; `onCqe` gets the result. */
  send(data: Uint8Array, onCqe: CqeHandler): void {
    const len = viewLength(data, 'data');
    let op = this.op;
    if (op === undefined || this.req?.op === op) {
      op = this.op = new Operation(OPS.send).file(this.fd);
      op.opFlags = MSG_NOSIGNAL;
      op.group = this.group;
    }
    op.addr = 0;
    op.len = len;
    op.view = data;
    op.pin = undefined;
    this.req = undefined;
    this.req = this.ring._startInternal(op, onCqe);
  }

  /**
   * The last send completed: drop its buffer, so that an idle socket does
   * not keep it (and the pool it was cut from) alive. Only once the ring
   * has released the request, whose release gives the pin back.
   */
  done(): void {
    const op = this.op;
    if (op === undefined || this.req?.op === op) return;
    op.view = undefined;
    op.pin = undefined;
  }
}

/** Largest gather a single sendmsg takes (IOV_MAX). */
export const IOV_MAX = 1024;

/** sendmsg of up to IOV_MAX caller's buffers in order, with MSG_NOSIGNAL; each is pinned until the CQE. */
export function sendFromMany(ring: RingCore, fd: FileTarget, data: readonly Uint8Array[], onCqe: CqeHandler,
  group?: RefGroup): void {
  // struct msghdr (56 bytes: name, namelen, iov, iovlen, control,
  // controllen, flags) followed by the iovec array, in one allocation; the
  // funnel writes each iovec's base when it pins the buffer.
  const n = data.length;
  const words = new Uint32Array(14 + 4 * n);
  const base = internalAddress(words);
  putU64(words, 4, base + 56);
  words[6] = n;
  const views = new Array<ArrayBufferView>(n);
  for (let k = 0; k < n; k++) {
    views[k] = data[k]!;
    words[16 + 4 * k] = viewLength(data[k], 'data', k);
  }
  const op = new Operation(OPS.sendmsg).file(fd);
  op.addr = base;
  op.len = 1;
  op.opFlags = MSG_NOSIGNAL;
  op.views = views;
  op.iov = words.subarray(14);
  op.hold = words;
  start(ring, op, onCqe, group);
}

/**
 * Zero-copy send (IORING_OP_SEND_ZC, 6.0+). Two CQEs: the result (with
 * CQE_F_MORE when a notification follows), then the notification
 * (CQE_F_NOTIF) once the kernel no longer reads `data`. The request pins
 * `data` until that last CQE.
 */
export function sendZeroCopy(ring: RingCore, fd: FileTarget, data: Uint8Array, onCqe: CqeHandler,
  group?: RefGroup): OpToken {
  return start(ring, sendOp(OPS.sendZc, fd, data), onCqe, group);
}

/**
 * shutdown(how) hard-linked to close: the close runs after the shutdown
 * whatever its result, and the shutdown reaches the socket before the fd
 * goes. `onClosed` gets the close's result.
 */
export function shutdownAndClose(ring: Ring, fd: FileTarget, how: number, onClosed: CqeHandler): void {
  const sh = new Operation(OPS.shutdown).file(fd);
  sh.len = how;
  ring._submitLinked([sh, closing(ring, fd)], [IOSQE_IO_HARDLINK, 0], [noop, onClosed], true);
}

/** shutdown(2) of a socket's own (the sending side after end()); `onDone` gets its result. */
export function shutdownSocket(ring: RingCore, fd: FileTarget, how: number, onDone: CqeHandler = noop): void {
  const op = new Operation(OPS.shutdown).file(fd);
  op.len = how;
  start(ring, op, onDone);
}

/**
 * An abortive close (node:net's resetAndDestroy()): SO_LINGER with a zero
 * timeout set through IORING_OP_URING_CMD (Linux 6.7+), hard-linked to the
 * close, so that the last reference going sends RST instead of FIN. Returns
 * false (and submits nothing) where the kernel has no socket uring_cmd.
 */
export function resetAndClose(ring: Ring, fd: FileTarget, onClosed: CqeHandler): boolean {
  if (!ring.probe().supports(Op.URING_CMD)) return false;
  const linger = new Int32Array([1, 0]); // struct linger { l_onoff = 1, l_linger = 0 }
  const set = setsockoptCmd(fd, SOL_SOCKET, SO_LINGER, linger);
  ring._submitLinked([set, closing(ring, fd)], [IOSQE_IO_HARDLINK, 0], [noop, onClosed], true);
  return true;
}

/** close(2) of a socket fd on the ring. */
export function closeSocket(ring: Ring, fd: FileTarget, onClosed: CqeHandler): void {
  ring._startInternal(closing(ring, fd), onClosed);
}

/** The close of a socket; after a close_direct, ring.files learns the slot is empty through its bracket. */
function closing(ring: Ring, fd: FileTarget): Operation {
  const op = closeOp(fd);
  if (isSlot(fd)) {
    const slot = targetNumber(fd);
    const files = ring.files;
    op.change = files._change(slot, 1, () => [slot], (res) => { if (res >= 0) files._removed(slot); });
  }
  return op;
}

/** Whether a multishot CQE is the last of its request. */
export function isLast(flags: number): boolean {
  return (flags & CQE_F_MORE) === 0;
}

function noop(): void { /* the linked close reports */ }

// ---- synchronous socket calls (no opcode) -----------------------------------

/** setsockopt(2) with an int value; throws a Node-shaped error on failure. */
export function setIntOption(ring: RingCore, fd: FileTarget, level: number, name: number, value: number): void {
  if (isSlot(fd)) {
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
function setIntOptionDirect(ring: RingCore, fd: FileTarget, level: number, name: number, value: number): void {
  if (ring.closed || !ring.probe().supports(Op.URING_CMD)) return;
  start(ring, setsockoptCmd(fd, level, name, new Int32Array([value])), noop);
}

/** SOCKET_URING_OP_SETSOCKOPT on a socket (an fd or a slot) with `optval`'s bytes. */
function setsockoptCmd(fd: FileTarget, level: number, name: number, optval: Int32Array): Operation {
  const op = new Operation(URING_CMD).file(fd);
  op.off = SOCKET_URING_OP_SETSOCKOPT; // cmd_op
  op.addr = (BigInt(name >>> 0) << 32n) | BigInt(level >>> 0); // sqe->level, then sqe->optname
  op.fileIndex = optval.byteLength;    // sqe->optlen
  op.addr3 = internalAddress(optval);  // sqe->optval
  op.hold = optval;
  return op;
}

const URING_CMD: OpSpec = Object.freeze({ op: Op.URING_CMD, name: 'uring_cmd', fixed: true });

/**
 * getsockname(2) / getpeername(2) decoded: an AddressInfo for IPv4/IPv6, the
 * path (a string) for a Unix domain socket, or undefined when the socket has
 * none (or no fd to ask: a direct descriptor).
 */
export function socketAddress(ring: RingCore, fd: FileTarget, peer: boolean): AddressInfo | string | undefined {
  if (isSlot(fd)) return undefined;
  const out = new Uint8Array(SOCKADDR_UN_MAX);
  const len = peer ? ring._n.getpeername(fd, out) : ring._n.getsockname(fd, out);
  if (len < 0) return undefined;
  return sockaddrFamily(out) === AF_UNIX ? decodeUnixPath(out, len) : decodeSockaddr(out, len);
}
