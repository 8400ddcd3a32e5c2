// uring/net: TCP on an io_uring ring, shaped like node:net.
export { Server, createServer } from './server';
export type { ServerOptions, ListenOptions } from './server';
export { Socket, connect, createConnection } from './socket';
export type { SocketOptions, ConnectOptions } from './socket';
export type { WriteCallback } from './sender';
export { encodeSockaddr, decodeSockaddr } from './sockaddr';
export type { AddressInfo } from './sockaddr';
export type { NetError } from './errors';
export { defaultRing } from './default-ring';
export * as ops from './ops';
