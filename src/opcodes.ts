// One declaration per operation: its opcode, the name its errors carry as
// `syscall`, whether it accepts a registered file, and whether it only waits
// for an event (close() cancels such requests at once). Ring methods, the
// fixed-file checks, probe checks and the docs all read this table.
import { Op } from './constants';

export interface OpSpec {
  readonly op: number;
  readonly name: string;
  /** Accepts a FixedFile in place of an fd (the kernel allows IOSQE_FIXED_FILE). */
  readonly fixed: boolean;
  /** Waits for an event that may never come (close() cancels it at once). */
  readonly waiter?: boolean;
}

function spec(op: number, name: string, fixed: boolean, waiter = false): OpSpec {
  return Object.freeze({ op, name, fixed, waiter });
}

export const OPS = Object.freeze({
  nop: spec(Op.NOP, 'nop', false),
  read: spec(Op.READ, 'read', true),
  write: spec(Op.WRITE, 'write', true),
  readv: spec(Op.READV, 'readv', true),
  writev: spec(Op.WRITEV, 'writev', true),
  readFixed: spec(Op.READ_FIXED, 'read_fixed', true),
  writeFixed: spec(Op.WRITE_FIXED, 'write_fixed', true),
  fsync: spec(Op.FSYNC, 'fsync', true),
  syncFileRange: spec(Op.SYNC_FILE_RANGE, 'sync_file_range', true),
  fallocate: spec(Op.FALLOCATE, 'fallocate', true),
  fadvise: spec(Op.FADVISE, 'fadvise', true),
  ftruncate: spec(Op.FTRUNCATE, 'ftruncate', true),
  openat: spec(Op.OPENAT, 'openat', false),
  openat2: spec(Op.OPENAT2, 'openat2', false),
  close: spec(Op.CLOSE, 'close', false),
  /** Closes a registered slot (file_index); the kernel refuses IOSQE_FIXED_FILE on it. */
  closeDirect: spec(Op.CLOSE, 'close_direct', false),
  statx: spec(Op.STATX, 'statx', false),
  renameat: spec(Op.RENAMEAT, 'renameat', false),
  unlinkat: spec(Op.UNLINKAT, 'unlinkat', false),
  mkdirat: spec(Op.MKDIRAT, 'mkdirat', false),
  symlinkat: spec(Op.SYMLINKAT, 'symlinkat', false),
  linkat: spec(Op.LINKAT, 'linkat', false),
  splice: spec(Op.SPLICE, 'splice', true),
  tee: spec(Op.TEE, 'tee', true),
  pollAdd: spec(Op.POLL_ADD, 'poll_add', true, true),
  pollRemove: spec(Op.POLL_REMOVE, 'poll_remove', false),
  timeout: spec(Op.TIMEOUT, 'timeout', false, true),
  timeoutRemove: spec(Op.TIMEOUT_REMOVE, 'timeout_remove', false),
  linkTimeout: spec(Op.LINK_TIMEOUT, 'link_timeout', false),
  asyncCancel: spec(Op.ASYNC_CANCEL, 'async_cancel', false),
  filesUpdate: spec(Op.FILES_UPDATE, 'files_update', false),
  fixedFdInstall: spec(Op.FIXED_FD_INSTALL, 'fixed_fd_install', true),
  msgRing: spec(Op.MSG_RING, 'msg_ring', false),
  socket: spec(Op.SOCKET, 'socket', false),
  accept: spec(Op.ACCEPT, 'accept', true, true),
  connect: spec(Op.CONNECT, 'connect', true),
  send: spec(Op.SEND, 'send', true),
  recv: spec(Op.RECV, 'recv', true, true),
  sendZc: spec(Op.SEND_ZC, 'send_zc', true),
  sendmsg: spec(Op.SENDMSG, 'sendmsg', true),
  recvmsg: spec(Op.RECVMSG, 'recvmsg', true, true),
  shutdown: spec(Op.SHUTDOWN, 'shutdown', true),
  bind: spec(Op.BIND, 'bind', true),
  listen: spec(Op.LISTEN, 'listen', true),
  readMultishot: spec(Op.READ_MULTISHOT, 'read_multishot', true, true),
  provideBuffers: spec(Op.PROVIDE_BUFFERS, 'provide_buffers', false),
  removeBuffers: spec(Op.REMOVE_BUFFERS, 'remove_buffers', false),
});
export type OpKey = keyof typeof OPS;
