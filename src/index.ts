export { Ring } from './ring';
export type {
  OpOptions, RingOptions, PathLike, OpenOptions, Open2Options, StatxOptions, AtOptions, TwoDirOptions,
  SyncOptions, FixedIoOptions, SendOptions, BatchOptions,
} from './ring';
export type { RingFeatures, RingStats } from './ring-core';
export { FixedFile } from './files';
export { FixedBuffer, FixedBuffers, MAX_FIXED_BUFFERS, MAX_FIXED_BUFFER_SIZE } from './buffers';
export type { RegisterBuffersOptions } from './buffers';
export { BufferRing, ProvidedBuffer } from './buffer-ring';
export type { BufferRingOptions, RecvOptions } from './buffer-ring';
export { FileTable, MAX_TABLE_SIZE } from './file-table';
export type { RegisterOptions, UpdateResult, ReceivedFile } from './file-table';
export type {
  SlotOptions, DirectOpenOptions, DirectOpen2Options, AcceptDirectOptions, InstallOptions,
  SendFileOptions, AsyncUpdateResult,
} from './direct';
export type { FileRef } from './files';
export { Probe } from './probe';
export type { Restrictions, SqeFlagName } from './restrictions';
export { Chain } from './chain';
export { RingCallbacks } from './callbacks';
export type { Callback } from './callbacks';
export type { ChainOptions, ChainResults, StepResult } from './chain';
export type { TimeoutSpec, TimeoutClock, TimeoutResult } from './ops/time';
export { Statx } from './statx';
export { alignedBuffer } from './aligned';
export {
  UringError, UringSystemError, AbortError, TimeoutError, errnoName,
} from './errors';
export { UringUnavailableError } from './native';
export type { UnavailableReason } from './native';
/** The kernel's io_uring numbers: opcodes, flags, feature bits, register opcodes. */
export * as constants from './constants';
