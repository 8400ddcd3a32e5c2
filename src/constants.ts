// Numbers from the kernel's io_uring UAPI. The system header on build
// machines may be older than the running kernel, so every value the project
// uses is defined here; whether the kernel supports it is asked at run time
// (probe and feature bits), never assumed from this table.

/** Opcodes (`enum io_uring_op`). */
export const Op = {
  NOP: 0, READV: 1, WRITEV: 2, FSYNC: 3, READ_FIXED: 4, WRITE_FIXED: 5, POLL_ADD: 6,
  POLL_REMOVE: 7, SYNC_FILE_RANGE: 8, SENDMSG: 9, RECVMSG: 10, TIMEOUT: 11, TIMEOUT_REMOVE: 12,
  ACCEPT: 13, ASYNC_CANCEL: 14, LINK_TIMEOUT: 15, CONNECT: 16, FALLOCATE: 17, OPENAT: 18,
  CLOSE: 19, FILES_UPDATE: 20, STATX: 21, READ: 22, WRITE: 23, FADVISE: 24, MADVISE: 25,
  SEND: 26, RECV: 27, OPENAT2: 28, EPOLL_CTL: 29, SPLICE: 30, PROVIDE_BUFFERS: 31,
  REMOVE_BUFFERS: 32, TEE: 33, SHUTDOWN: 34, RENAMEAT: 35, UNLINKAT: 36, MKDIRAT: 37,
  SYMLINKAT: 38, LINKAT: 39, MSG_RING: 40, FSETXATTR: 41, SETXATTR: 42, FGETXATTR: 43,
  GETXATTR: 44, SOCKET: 45, URING_CMD: 46, SEND_ZC: 47, SENDMSG_ZC: 48, READ_MULTISHOT: 49,
  WAITID: 50, FUTEX_WAIT: 51, FUTEX_WAKE: 52, FUTEX_WAITV: 53, FIXED_FD_INSTALL: 54,
  FTRUNCATE: 55, BIND: 56, LISTEN: 57, RECV_ZC: 58, EPOLL_WAIT: 59, READV_FIXED: 60,
  WRITEV_FIXED: 61, PIPE: 62,
} as const;
/** The name of an opcode, e.g. `'READ'`. */
export type OpName = keyof typeof Op;
/** Opcode names indexed by opcode number. */
export const OP_NAMES: readonly string[] = Object.keys(Op).sort(
  (a, b) => Op[a as OpName] - Op[b as OpName]);

/** SQE flags (`sqe->flags`). */
export const IOSQE_FIXED_FILE = 1 << 0;
export const IOSQE_IO_DRAIN = 1 << 1;
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_IO_HARDLINK = 1 << 3;
export const IOSQE_ASYNC = 1 << 4;
export const IOSQE_BUFFER_SELECT = 1 << 5;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

/** Setup flags (`io_uring_params.flags`). */
export const Setup = {
  IOPOLL: 1 << 0, SQPOLL: 1 << 1, SQ_AFF: 1 << 2, CQSIZE: 1 << 3, CLAMP: 1 << 4,
  ATTACH_WQ: 1 << 5, R_DISABLED: 1 << 6, SUBMIT_ALL: 1 << 7, COOP_TASKRUN: 1 << 8,
  TASKRUN_FLAG: 1 << 9, SQE128: 1 << 10, CQE32: 1 << 11, SINGLE_ISSUER: 1 << 12,
  DEFER_TASKRUN: 1 << 13, NO_MMAP: 1 << 14, REGISTERED_FD_ONLY: 1 << 15, NO_SQARRAY: 1 << 16,
  HYBRID_IOPOLL: 1 << 17,
} as const;

/** Feature bits (`io_uring_params.features`), as the names `Ring.features` uses. */
export const Feature = {
  singleMmap: 1 << 0, nodrop: 1 << 1, submitStable: 1 << 2, rwCurPos: 1 << 3,
  curPersonality: 1 << 4, fastPoll: 1 << 5, poll32Bits: 1 << 6, sqpollNonfixed: 1 << 7,
  extArg: 1 << 8, nativeWorkers: 1 << 9, rsrcTags: 1 << 10, cqeSkip: 1 << 11,
  linkedFile: 1 << 12, regRegRing: 1 << 13, recvsendBundle: 1 << 14, minTimeout: 1 << 15,
  rwAttr: 1 << 16, noIowait: 1 << 17,
} as const;
/** The name of a feature bit, e.g. `'nodrop'`. */
export type FeatureName = keyof typeof Feature;

/** io_uring_enter flags. */
export const ENTER_GETEVENTS = 1 << 0;
export const ENTER_SQ_WAKEUP = 1 << 1;
export const ENTER_SQ_WAIT = 1 << 2;
export const ENTER_EXT_ARG = 1 << 3;
export const ENTER_REGISTERED_RING = 1 << 4;

/** SQ ring flags (`sq_ring->flags`). */
export const SQ_NEED_WAKEUP = 1 << 0;
export const SQ_CQ_OVERFLOW = 1 << 1;
export const SQ_TASKRUN = 1 << 2;

/** CQE flags. */
export const CQE_F_BUFFER = 1 << 0;
export const CQE_F_MORE = 1 << 1;
export const CQE_F_SOCK_NONEMPTY = 1 << 2;
export const CQE_F_NOTIF = 1 << 3;
export const CQE_F_BUF_MORE = 1 << 4;
export const CQE_BUFFER_SHIFT = 16;

/** io_uring_register opcodes. */
export const Register = {
  REGISTER_BUFFERS: 0, UNREGISTER_BUFFERS: 1, REGISTER_FILES: 2, UNREGISTER_FILES: 3,
  REGISTER_EVENTFD: 4, UNREGISTER_EVENTFD: 5, REGISTER_FILES_UPDATE: 6,
  REGISTER_EVENTFD_ASYNC: 7, REGISTER_PROBE: 8, REGISTER_PERSONALITY: 9,
  UNREGISTER_PERSONALITY: 10, REGISTER_RESTRICTIONS: 11, REGISTER_ENABLE_RINGS: 12,
  REGISTER_FILES2: 13, REGISTER_FILES_UPDATE2: 14, REGISTER_BUFFERS2: 15,
  REGISTER_BUFFERS_UPDATE: 16, REGISTER_IOWQ_AFF: 17, UNREGISTER_IOWQ_AFF: 18,
  REGISTER_IOWQ_MAX_WORKERS: 19, REGISTER_RING_FDS: 20, UNREGISTER_RING_FDS: 21,
  REGISTER_PBUF_RING: 22, UNREGISTER_PBUF_RING: 23, REGISTER_SYNC_CANCEL: 24,
  REGISTER_FILE_ALLOC_RANGE: 25, REGISTER_PBUF_STATUS: 26, REGISTER_NAPI: 27,
  UNREGISTER_NAPI: 28, REGISTER_CLOCK: 29, REGISTER_CLONE_BUFFERS: 30,
  REGISTER_SEND_MSG_RING: 31, REGISTER_ZCRX_IFQ: 32, REGISTER_RESIZE_RINGS: 33,
  REGISTER_MEM_REGION: 34,
} as const;
/** Or'ed into a register opcode: the fd argument is a registered ring index. */
export const REGISTER_USE_REGISTERED_RING = 0x80000000;

/** A file-table update entry that leaves its slot unchanged. */
export const REGISTER_FILES_SKIP = -2;
/** IORING_RSRC_REGISTER_SPARSE: register an empty table of the given size. */
export const RSRC_REGISTER_SPARSE = 1 << 0;
/** `file_index` value asking the kernel to choose a free slot. */
export const FILE_INDEX_ALLOC = 0xffffffff;

/** Flags of individual operations. */
export const FSYNC_DATASYNC = 1 << 0;
export const TIMEOUT_ABS = 1 << 0;
export const TIMEOUT_UPDATE = 1 << 1;
export const TIMEOUT_BOOTTIME = 1 << 2;
export const TIMEOUT_REALTIME = 1 << 3;
export const LINK_TIMEOUT_UPDATE = 1 << 4;
export const TIMEOUT_ETIME_SUCCESS = 1 << 5;
export const TIMEOUT_MULTISHOT = 1 << 6;
export const POLL_ADD_MULTI = 1 << 0;
export const POLL_UPDATE_EVENTS = 1 << 1;
export const POLL_UPDATE_USER_DATA = 1 << 2;
export const ASYNC_CANCEL_ALL = 1 << 0;
export const ASYNC_CANCEL_FD = 1 << 1;
export const ASYNC_CANCEL_ANY = 1 << 2;
export const ASYNC_CANCEL_FD_FIXED = 1 << 3;
export const ASYNC_CANCEL_USERDATA = 1 << 4;
export const ASYNC_CANCEL_OP = 1 << 5;
export const RECVSEND_POLL_FIRST = 1 << 0;
export const RECV_MULTISHOT = 1 << 1;
export const RECVSEND_FIXED_BUF = 1 << 2;
export const SEND_ZC_REPORT_USAGE = 1 << 3;
export const RECVSEND_BUNDLE = 1 << 4;
export const ACCEPT_MULTISHOT = 1 << 0;
export const ACCEPT_DONTWAIT = 1 << 1;
export const ACCEPT_POLL_FIRST = 1 << 2;
export const MSG_DATA = 0;
export const MSG_SEND_FD = 1;
export const MSG_RING_CQE_SKIP = 1 << 0;
export const MSG_RING_FLAGS_PASS = 1 << 1;
export const FIXED_FD_NO_CLOEXEC = 1 << 0;
export const SPLICE_F_FD_IN_FIXED = 1 << 31;

/** Probe op flag: the opcode is supported. */
export const IO_URING_OP_SUPPORTED = 1 << 0;

/** Offsets of the fields of a 64-byte SQE, in 32-bit words. */
export const SQE_WORDS = 16;
export const CQE_WORDS = 4;

/** Linux open flags (x86-64 and arm64 agree on these). */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;

/** Linux socket numbers used by uring/net (the same on x86-64 and arm64). */
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const TCP_NODELAY = 1;
export const TCP_KEEPIDLE = 4;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const MSG_NOSIGNAL = 0x4000;
