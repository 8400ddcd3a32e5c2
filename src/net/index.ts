// uring/net: TCP and Unix domain sockets on an io_uring ring, shaped like node:net.
export { Server, createServer } from './server';
export type { ServerOptions, ListenOptions } from './server';
export { Socket, connect, createConnection } from './socket';
export type { SocketOptions, ConnectOptions } from './socket';
export type { WriteCallback } from './sender';
export { encodeSockaddr, decodeSockaddr, encodeUnixSockaddr } from './sockaddr';
export type { AddressInfo } from './sockaddr';
export type { NetError } from './errors';
export { defaultRing } from './default-ring';
/** Low-level socket operations on a ring (socket, bind, listen, accept, connect, send, recv, shutdown). */
export * as ops from './ops';
