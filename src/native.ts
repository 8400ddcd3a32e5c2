// Finds and loads the addon. When that fails, or when io_uring cannot be set
// up, the user gets one classified answer that says why and what to do.
import { join, sep } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { UringError } from './errors';

/** The addon's flat functions. All return a result or -errno; see native/uring.c. */
export interface NativeBinding {
  setup(entries: number, flags: number, cpu: number, idle: number, cqEntries: number, wqFd: number): number | NativeRing;
  enter(fd: number, toSubmit: number, minComplete: number, flags: number): number;
  register(fd: number, opcode: number, arg: ArrayBufferView | ArrayBuffer | number | null, nr: number): number;
  address(mem: ArrayBufferView | ArrayBuffer): number;
  /**
   * Holds the backing store of `view` in pin slot `id` of the ring and
   * returns the address of the view's first byte, or a negative code: -1 not
   * a view, -2 detached, -3 resizable or growable, -4 out of memory.
   */
  pin(handle: object, id: number, view: ArrayBufferView): number;
  /** Releases pin slot `id`. */
  unpin(handle: object, id: number): void;
  pollStart(handle: object, fd: number, cb: (status: number) => void): number;
  pollRef(handle: object, on: boolean): void;
  close(handle: object): number;
  getRlimit(resource: number): [number, number] | number;
  setRlimit(resource: number, soft: number): number;
  sendFds(sock: number, fds: number[]): number;
  socketpair(type: number): [number, number] | number;
  pipe(): [number, number] | number;
  closeFd(fd: number): number;
  ids(): [number, number, number, number];
  eventfd(): number;
  drainEventfd(fd: number): number;
  /** bind(2) with the bytes of a sockaddr. */
  bind(fd: number, sockaddr: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  /** setsockopt(2) with an int value. */
  setsockopt(fd: number, level: number, name: number, value: number): number;
  /** getsockname(2) into `out`; returns the address length. */
  getsockname(fd: number, out: Uint8Array): number;
  getpeername(fd: number, out: Uint8Array): number;
}

export interface NativeRing {
  handle: object;
  fd: number;
  sqEntries: number;
  cqEntries: number;
  flags: number;
  features: number;
  sqOff: number[];
  cqOff: number[];
  sqRing: ArrayBuffer;
  cqRing: ArrayBuffer;
  sqes: ArrayBuffer;
  /** One int32: the requests in flight, which the request table keeps up to date (see release_pins in the addon). */
  live: ArrayBuffer;
}

/** Why io_uring cannot be used here. */
export type UnavailableReason =
  | 'not-linux'      // the platform is not Linux
  | 'addon'          // the native addon is missing or failed to load
  | 'disabled'       // URING_DISABLE is set in the environment
  | 'enosys'         // the kernel has no io_uring (old kernel, or a sandbox such as gVisor)
  | 'eperm'          // blocked: seccomp (Docker's default profile) or kernel.io_uring_disabled
  | 'enomem'         // the locked-memory limit (RLIMIT_MEMLOCK) is too low for the rings
  | 'other';

const HINTS: Record<UnavailableReason, string> = {
  'not-linux': 'io_uring exists only on Linux. Use node:fs, or uring/fs which falls back to it.',
  addon: 'See "Install" in the README: a prebuilt binary covers linux-x64 and linux-arm64 (glibc and musl) on the Node versions listed there; anything else builds from source.',
  disabled: 'Unset URING_DISABLE to allow io_uring.',
  enosys: 'The kernel has no io_uring: it needs Linux 5.6 or later (5.19+ recommended), and sandboxes such as gVisor do not offer it.',
  eperm: 'io_uring is blocked: check `sysctl kernel.io_uring_disabled` (0 allows it; 2 forbids it for everyone), and in containers the seccomp profile (Docker\'s default profile blocks io_uring; run with a profile that allows io_uring_setup, io_uring_enter and io_uring_register).',
  enomem: 'The locked-memory limit is too low for the rings: raise RLIMIT_MEMLOCK (`ulimit -l`), or use fewer entries.',
  other: 'See `npx uring doctor` for details.',
};

/** Thrown when io_uring cannot be used on this machine; `reason` classifies why. */
export class UringUnavailableError extends UringError {
  /** Why: `enosys`, `eperm`, `enomem`, `disabled`, `addon`, `not-linux` or `other`. */
  readonly reason: UnavailableReason;
  /** The negative errno io_uring_setup returned, when the reason comes from one. */
  readonly errno: number | undefined;
  /** What to do about it, in one or two sentences. */
  readonly hint: string;
  /** Creates the error for `reason`; `detail` says what was observed. */
  constructor(reason: UnavailableReason, detail: string, errno?: number, cause?: unknown) {
    const hint = HINTS[reason];
    super('ERR_URING_UNAVAILABLE', `io_uring is unavailable (${reason}): ${detail}. ${hint}`,
      cause !== undefined ? { cause } : undefined);
    this.reason = reason;
    this.errno = errno;
    this.hint = hint;
  }
}

/** Classifies a failed io_uring_setup. */
export function classifySetupError(errno: number): UringUnavailableError | undefined {
  const e = -Math.abs(errno);
  if (e === -38) return new UringUnavailableError('enosys', 'io_uring_setup returned ENOSYS', e);
  if (e === -1) return new UringUnavailableError('eperm', 'io_uring_setup returned EPERM', e);
  if (e === -12) return new UringUnavailableError('enomem', 'io_uring_setup returned ENOMEM', e);
  return undefined;
}

let binding: NativeBinding | undefined;
let loadError: UringUnavailableError | undefined;
let loaded: AddonInfo | undefined;

function disabledByEnv(): boolean {
  const v = process.env.URING_DISABLE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** Which addon binary was loaded, and how it came to be there. */
export interface AddonInfo {
  /** Absolute path of the `.node` file. */
  file: string;
  /** `prebuild`: shipped in the package; `source`: built on this machine by node-gyp (build/). */
  kind: 'prebuild' | 'source';
}

// node-gyp-build (the loader that goes with prebuildify) finds the binary:
// build/Release, then build/Debug (a source build made on this machine, so it
// wins over anything shipped), then prebuilds/<platform>-<arch>/ matching
// this Node's ABI and libc. It has no types of its own.
interface NodeGypBuild {
  resolve(dir: string): string;
}

/** What this process needs from a binary, in the words of prebuildify's file names. */
function wanted(): string {
  const libc = process.env.LIBC ?? (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
  return `prebuilds/${process.platform}-${process.arch}/uring.abi${process.versions.modules}.${libc}.node `
    + `(Node ${process.version}, ABI ${process.versions.modules}, ${libc})`;
}

function shipped(root: string): string {
  const dir = join(root, 'prebuilds');
  const found: string[] = [];
  for (const tuple of existsSync(dir) ? readdirSync(dir) : []) {
    for (const f of readdirSync(join(dir, tuple))) if (f.endsWith('.node')) found.push(`${tuple}/${f}`);
  }
  return found.length > 0 ? `this package ships ${found.join(', ')}` : 'this package ships no prebuilt binaries';
}

const REBUILD = 'Build it from source with `npm rebuild uring --build-from-source` (needs python3, make and a C/C++ compiler)';

/** The addon, or throws UringUnavailableError (never calls io_uring_setup). */
export function native(): NativeBinding {
  if (binding) return binding;
  if (loadError) throw loadError;
  if (process.platform !== 'linux') {
    throw (loadError = new UringUnavailableError('not-linux', `platform is ${process.platform}`));
  }
  // URING_PREBUILD names another package directory to load from (node-gyp-build's override).
  const root = process.env.URING_PREBUILD || join(__dirname, '..', '..');
  const finder = require('node-gyp-build/node-gyp-build.js') as NodeGypBuild;
  let file: string;
  try {
    file = finder.resolve(join(__dirname, '..', '..'));
  } catch (err) {
    throw (loadError = new UringUnavailableError('addon',
      `no binary for this Node: looked for ${wanted()} and for a source build in ${join(root, 'build', 'Release')}; `
      + `${shipped(root)}. ${REBUILD}`, undefined, err));
  }
  const kind = file.startsWith(join(root, 'build') + sep) ? 'source' : 'prebuild';
  try {
    binding = require(file) as NativeBinding;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0].replace(`${file}: `, '');
    throw (loadError = new UringUnavailableError('addon',
      `the ${kind === 'source' ? 'source build' : 'prebuilt binary'} ${file} failed to load: ${why}. `
      + `This process wanted ${wanted()}. `
      + (kind === 'source'
        ? 'A source build belongs to the Node version that made it: after changing Node, run `npm rebuild uring`'
        : `${REBUILD}; a prebuilt binary needs glibc 2.32 or later (or musl) and the Node ABI in its name`),
      undefined, err));
  }
  loaded = { file, kind };
  return binding;
}

/** The binary `native()` loaded, or undefined before a successful load. */
export function addonInfo(): AddonInfo | undefined {
  return loaded;
}

/** Throws UringUnavailableError when the environment disables io_uring. */
export function checkEnabled(): void {
  if (disabledByEnv()) throw new UringUnavailableError('disabled', 'URING_DISABLE is set');
}
