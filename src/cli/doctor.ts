// `uring doctor`: what this machine's kernel offers io_uring, why it cannot
// be used when it cannot, and which known kernel behaviours apply.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { Ring } from '../ring';
import { Setup, OP_NAMES, RLIMIT_MEMLOCK, RLIMIT_NOFILE } from '../constants';
import { addonInfo, native, UringUnavailableError, UnavailableReason } from '../native';
import type { AddonInfo } from '../native';
import { errnoName } from '../errors';
import type { RingFeatures } from '../ring-core';
import { applicableQuirks, atLeast } from './quirks';

/** A resource limit; `null` means unlimited. */
export interface Limit {
  soft: number | null;
  hard: number | null;
}

/** Whether a ring with one setup flag could be created: `error` is the errno name when not. */
export interface SetupFlagResult {
  ok: boolean;
  error?: string;
}

/** Everything `uring doctor --json` prints. */
export interface DoctorReport {
  platform: string;
  arch: string;
  node: string;
  kernel: { release: string; version: [number, number, number] };
  /** The addon binary that was loaded: a prebuilt one shipped in the package, or a source build. */
  addon?: AddonInfo;
  /** Whether a ring can be set up here. */
  usable: boolean;
  /** Why not, when `usable` is false. */
  unavailable?: { reason: UnavailableReason; message: string; hint: string; errno?: string; cause?: string };
  /** `/proc/sys/kernel/io_uring_disabled` (0, 1 or 2; null when the kernel has no such switch). */
  ioUringDisabled: number | null;
  /** Seccomp mode of this process (0 none, 1 strict, 2 filter; null when unknown). */
  seccomp: { mode: number | null; filters: number | null };
  ring?: { sqEntries: number; cqEntries: number; featureBits: number; features: RingFeatures };
  opcodes: { lastOp: number | null; supported: string[]; unsupported: string[] };
  limits: {
    nofile: Limit | null;
    memlock: Limit | null;
    /** Largest registered file table: now (soft limit), after raising the soft limit to the hard one, and the kernel's own maximum. */
    fileTable: { now: number; max: number; kernelMax: number } | null;
  };
  /** Setup flag name -> result. Empty when no ring can be set up. */
  setupFlags: Record<string, SetupFlagResult>;
  quirks: { id: string; title: string; detail: string }[];
}

/** Parses `6.8.0-45-generic` into [6, 8, 0]. */
export function kernelVersion(rel: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : [0, 0, 0];
}

function readNumber(path: string): number | null {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Seccomp mode and filter count from /proc/self/status. */
export function seccompStatus(status?: string): { mode: number | null; filters: number | null } {
  let text = status;
  if (text === undefined) {
    try { text = readFileSync('/proc/self/status', 'utf8'); } catch { return { mode: null, filters: null }; }
  }
  const mode = /^Seccomp:\s*(\d+)/m.exec(text);
  const filters = /^Seccomp_filters:\s*(\d+)/m.exec(text);
  return { mode: mode ? Number(mode[1]) : null, filters: filters ? Number(filters[1]) : null };
}

// Each flag with the companions the kernel requires, and the setup arguments.
const FLAG_TRIALS: [string, number, { cpu?: number; idle?: number; cq?: number }][] = [
  ['SQPOLL', Setup.SQPOLL, { idle: 10 }],
  ['SQ_AFF', Setup.SQPOLL | Setup.SQ_AFF, { idle: 10, cpu: 0 }],
  ['IOPOLL', Setup.IOPOLL, {}],
  ['CQSIZE', Setup.CQSIZE, { cq: 64 }],
  ['CLAMP', Setup.CLAMP, {}],
  ['R_DISABLED', Setup.R_DISABLED, {}],
  ['SUBMIT_ALL', Setup.SUBMIT_ALL, {}],
  ['COOP_TASKRUN', Setup.COOP_TASKRUN, {}],
  ['TASKRUN_FLAG', Setup.COOP_TASKRUN | Setup.TASKRUN_FLAG, {}],
  ['SQE128', Setup.SQE128, {}],
  ['CQE32', Setup.CQE32, {}],
  ['SINGLE_ISSUER', Setup.SINGLE_ISSUER, {}],
  ['DEFER_TASKRUN', Setup.SINGLE_ISSUER | Setup.DEFER_TASKRUN, {}],
  ['NO_SQARRAY', Setup.NO_SQARRAY, {}],
  ['HYBRID_IOPOLL', Setup.IOPOLL | Setup.HYBRID_IOPOLL, {}],
];

/** Tries to set up a small ring with each setup flag, and closes it at once. */
export function trySetupFlags(): Record<string, SetupFlagResult> {
  const n = native();
  const out: Record<string, SetupFlagResult> = {};
  for (const [name, flags, a] of FLAG_TRIALS) {
    const r = n.setup(4, flags, a.cpu ?? 0, a.idle ?? 0, a.cq ?? 0, 0);
    if (typeof r === 'number') {
      out[name] = { ok: false, error: errnoName(r) };
    } else {
      n.close(r.handle);
      out[name] = { ok: true };
    }
  }
  return out;
}

function limit(resource: number): Limit | null {
  const r = native().getRlimit(resource);
  if (typeof r === 'number') return null;
  return { soft: r[0] < 0 ? null : r[0], hard: r[1] < 0 ? null : r[1] };
}

/** IORING_MAX_FIXED_FILES: 1 << 20 since Linux 5.15, 1 << 15 before. */
function kernelMaxFiles(kernel: [number, number, number]): number {
  return atLeast(kernel, 5, 15) ? 1 << 20 : 1 << 15;
}

/** Explains an EPERM setup failure with what the machine says. */
function epermCause(disabled: number | null, seccomp: { mode: number | null }): string | undefined {
  if (disabled === 2) return 'kernel.io_uring_disabled is 2: io_uring is disabled for every process';
  if (disabled === 1) return 'kernel.io_uring_disabled is 1: only members of kernel.io_uring_group (and CAP_SYS_ADMIN) may create rings';
  if (seccomp.mode === 2) return 'a seccomp filter is active in this process (containers install one; Docker\'s default profile blocks io_uring)';
  return undefined;
}

/** Inspects this machine. Never throws for an io_uring problem: it reports it. */
export function diagnose(): DoctorReport {
  const rel = release();
  const version = kernelVersion(rel);
  const report: DoctorReport = {
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    kernel: { release: rel, version },
    addon: undefined,
    usable: false,
    ioUringDisabled: readNumber('/proc/sys/kernel/io_uring_disabled'),
    seccomp: seccompStatus(),
    opcodes: { lastOp: null, supported: [], unsupported: [] },
    limits: { nofile: null, memlock: null, fileTable: null },
    setupFlags: {},
    quirks: [],
  };
  let ring: Ring | undefined;
  try {
    ring = new Ring({ entries: 8 });
  } catch (err) {
    const e = err instanceof UringUnavailableError ? err : undefined;
    report.unavailable = {
      reason: e?.reason ?? 'other',
      message: e ? e.message.replace(` ${e.hint}`, '') : (err as Error).message,
      hint: e?.hint ?? 'See docs/troubleshooting.md.',
    };
    if (e?.errno !== undefined) report.unavailable.errno = errnoName(e.errno);
    const cause = e?.reason === 'eperm' ? epermCause(report.ioUringDisabled, report.seccomp) : undefined;
    if (cause !== undefined) report.unavailable.cause = cause;
  }
  const addon = addonInfo();
  if (addon !== undefined) report.addon = addon;
  if (ring !== undefined) {
    report.usable = true;
    report.ring = {
      sqEntries: ring.sqEntries, cqEntries: ring.cqEntries, featureBits: ring.featureBits, features: ring.features,
    };
    const probe = ring.probe();
    const supported = new Set(probe.ops);
    report.opcodes = {
      lastOp: probe.lastOp < 0 ? null : probe.lastOp,
      supported: probe.ops,
      unsupported: OP_NAMES.filter((op) => !supported.has(op)),
    };
    void ring.close();
    report.setupFlags = trySetupFlags();
  }
  if (report.unavailable?.reason !== 'addon' && report.unavailable?.reason !== 'not-linux') {
    report.limits.nofile = limit(RLIMIT_NOFILE);
    report.limits.memlock = limit(RLIMIT_MEMLOCK);
    const kmax = kernelMaxFiles(version);
    const nrOpen = readNumber('/proc/sys/fs/nr_open') ?? kmax;
    const nf = report.limits.nofile;
    if (nf) {
      report.limits.fileTable = {
        now: Math.min(nf.soft ?? kmax, kmax),
        max: Math.min(nf.hard ?? nrOpen, nrOpen, kmax),
        kernelMax: kmax,
      };
    }
  }
  const setupOk: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(report.setupFlags)) setupOk[k] = v.ok;
  report.quirks = applicableQuirks({
    kernel: version, features: report.ring?.features, ops: new Set(report.opcodes.supported), setup: setupOk,
  }).map(({ id, title, detail }) => ({ id, title, detail }));
  return report;
}
