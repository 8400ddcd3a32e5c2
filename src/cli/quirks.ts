// Known kernel behaviours that surprise io_uring users, keyed by kernel
// version, feature bit, opcode or setup flag. `uring doctor` lists the ones
// that apply to the running kernel; docs/troubleshooting.md explains them.
import type { RingFeatures } from '../ring-core';

/** What a quirk's test looks at. */
export interface QuirkContext {
  /** Kernel version from os.release(): [major, minor, patch]. */
  kernel: readonly [number, number, number];
  /** The ring's feature bits, or undefined when no ring could be set up. */
  features: RingFeatures | undefined;
  /** Supported opcode names (from the probe). */
  ops: ReadonlySet<string>;
  /** Setup flag name -> whether a ring with that flag could be set up. */
  setup: Readonly<Record<string, boolean>>;
}

/** One known kernel behaviour. */
export interface Quirk {
  /** Stable identifier, e.g. `getevents-eintr`. */
  id: string;
  /** One line: what happens. */
  title: string;
  /** Which kernels, and what this library does about it. */
  detail: string;
  /** Whether the quirk applies to the kernel described by `ctx`. */
  applies(ctx: QuirkContext): boolean;
}

/** Whether `kernel` is at least `major.minor`. */
export function atLeast(kernel: readonly [number, number, number], major: number, minor: number): boolean {
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
}

/** Every quirk the doctor knows, in the order it reports them. */
export const QUIRKS: readonly Quirk[] = [
  {
    id: 'ring-fd-scm-rights',
    title: 'A ring fd cannot be sent over a Unix socket (SCM_RIGHTS): sendmsg fails with EINVAL',
    detail: 'Since Linux 6.7 (and stable kernels that took the fix). Share work between processes with separate rings, or MSG_RING between rings of one process.',
    applies: (c) => atLeast(c.kernel, 6, 7),
  },
  {
    id: 'close-direct-fixed-flag',
    title: 'Closing a registered slot with IOSQE_FIXED_FILE set fails with EBADF',
    detail: 'Direct close names the slot in file_index and must not set the fixed-file flag. The library never sets it for close.',
    applies: (c) => c.ops.has('CLOSE') && atLeast(c.kernel, 5, 15),
  },
  {
    id: 'getevents-eintr',
    title: 'io_uring_enter(GETEVENTS) interrupted by a signal returns EINTR even with SA_RESTART',
    detail: 'Every kernel. The library never blocks in the kernel: completions arrive through the event loop, and an EINTR on submit is retried on the next flush.',
    applies: () => true,
  },
  {
    id: 'sqpoll-fixed-files-only',
    title: 'SQPOLL rings accept only registered files',
    detail: 'Before Linux 5.11 (no IORING_FEAT_SQPOLL_NONFIXED). Register the files and pass FixedFile handles, or do not use SQPOLL.',
    applies: (c) => c.features !== undefined && !c.features.sqpollNonfixed,
  },
  {
    id: 'sqpoll-privileged',
    title: 'SQPOLL cannot be set up here',
    detail: 'Before Linux 5.11 SQPOLL needs CAP_SYS_ADMIN; a seccomp or LSM policy can also refuse it. The ring options without sqpoll still work.',
    applies: (c) => c.features !== undefined && c.setup.SQPOLL === false,
  },
  {
    id: 'defer-taskrun-missing',
    title: 'IORING_SETUP_DEFER_TASKRUN is not available',
    detail: 'It needs Linux 6.1 (with SINGLE_ISSUER, 6.0). Rings fall back to ordinary task work; options.deferTaskrun fails with EINVAL.',
    applies: (c) => c.features !== undefined && c.setup.DEFER_TASKRUN === false,
  },
  {
    id: 'single-issuer-fork',
    title: 'A forked child that submits on an inherited SINGLE_ISSUER ring gets EEXIST',
    detail: 'Since Linux 6.0. Create rings after fork, in the process that uses them.',
    applies: (c) => c.setup.SINGLE_ISSUER === true,
  },
  {
    id: 'memlock-accounting',
    title: 'Ring memory counts against RLIMIT_MEMLOCK',
    detail: 'Before Linux 5.12 the rings themselves are locked memory, so a low `ulimit -l` makes setup fail with ENOMEM. Registered buffers count against it on every kernel.',
    applies: (c) => !atLeast(c.kernel, 5, 12),
  },
  {
    id: 'cq-overflow-drops',
    title: 'Completions are dropped when the completion queue overflows',
    detail: 'Before Linux 5.5 (no IORING_FEAT_NODROP). Keep cqEntries at least twice the requests in flight.',
    applies: (c) => c.features !== undefined && !c.features.nodrop,
  },
  {
    id: 'no-current-position',
    title: 'Reads and writes at position -1 (the current file position) are not supported',
    detail: 'Before Linux 5.6 (no IORING_FEAT_RW_CUR_POS). Always pass a position.',
    applies: (c) => c.features !== undefined && !c.features.rwCurPos,
  },
  {
    id: 'no-ext-arg',
    title: 'Waiting with a timeout needs a timeout request',
    detail: 'Before Linux 5.11 (no IORING_FEAT_EXT_ARG). The library does not wait in the kernel, so this affects only raw enter calls.',
    applies: (c) => c.features !== undefined && !c.features.extArg,
  },
  {
    id: 'tag-cqe-after-inflight',
    title: 'A tagged file slot that is replaced posts its tag CQE only after requests using it complete',
    detail: 'Kernels with resource tags (5.13+). Do not wait for the tag before in-flight requests on the slot finish.',
    applies: (c) => c.features !== undefined && c.features.rsrcTags,
  },
  {
    id: 'short-read-breaks-link',
    title: 'A short read breaks a link chain: the requests linked after it complete with ECANCELED',
    detail: 'Every kernel with linked requests. A close that must run belongs behind a hard link.',
    applies: () => true,
  },
];

/** The quirks that apply to `ctx`. */
export function applicableQuirks(ctx: QuirkContext): Quirk[] {
  return QUIRKS.filter((q) => q.applies(ctx));
}
