export { Ring } from './ring';
export type {
  OpOptions, RingOptions, PathLike, OpenOptions, Open2Options, StatxOptions, AtOptions, TwoDirOptions,
  SyncOptions,
} from './ring';
export type { RingFeatures, RingStats } from './ring-core';
export { FixedFile } from './files';
export type { FileRef } from './files';
export { Probe } from './probe';
export type { Restrictions, SqeFlagName } from './restrictions';
export { Chain } from './chain';
export type { ChainOptions, ChainResults, StepResult } from './chain';
export type { TimeoutSpec, TimeoutClock, TimeoutResult } from './timeouts';
export { Statx } from './statx';
export {
  UringError, UringSystemError, AbortError, TimeoutError, errnoName,
} from './errors';
export { UringUnavailableError } from './native';
export type { UnavailableReason } from './native';
export * as constants from './constants';
