// Shared test helpers: ring shapes, the kernel's view of a ring (fdinfo),
// temporary directories and feature checks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ring, RingOptions } from '../src/index';

export interface Shape {
  name: string;
  options: RingOptions;
}

const ALL_SHAPES: Shape[] = [
  { name: 'default', options: { entries: 64 } },
  { name: 'sqpoll', options: { entries: 64, sqpoll: { idleMs: 50 } } },
  { name: 'single-issuer+defer-taskrun', options: { entries: 64, singleIssuer: true, deferTaskrun: true } },
  { name: 'tiny', options: { entries: 2, cqEntries: 4 } },
];

let usable: Shape[] | undefined;
/** The ring shapes this kernel can set up; operation tests run on each. */
export function shapes(): Shape[] {
  if (usable) return usable;
  usable = ALL_SHAPES.filter((s) => {
    try {
      const r = new Ring(s.options);
      void r.close();
      return true;
    } catch {
      return false;
    }
  });
  return usable;
}

/** All shapes, marking which are unavailable so a test can skip them. */
export function allShapes(): (Shape & { available: boolean })[] {
  const ok = new Set(shapes().map((s) => s.name));
  return ALL_SHAPES.map((s) => ({ ...s, available: ok.has(s.name) }));
}

export interface FdInfo {
  /** `UserFiles:` — the size of the registered file table. */
  userFiles: number;
  /** Populated slots: slot -> the file's description (`pipe:[123]`, a path). */
  files: Map<number, string>;
  raw: string;
}

/** The kernel's view of a ring, from /proc/self/fdinfo/<ring fd>. */
export function fdinfo(ring: Ring): FdInfo {
  const raw = readFileSync(`/proc/self/fdinfo/${ring.fd}`, 'utf8');
  const lines = raw.split('\n');
  let userFiles = 0;
  const files = new Map<number, string>();
  let inFiles = false;
  for (const line of lines) {
    const m = /^UserFiles:\s*(\d+)/.exec(line);
    if (m) { userFiles = Number(m[1]); inFiles = true; continue; }
    if (inFiles) {
      const f = /^\s*(\d+):\s*(.*)$/.exec(line);
      if (f) { files.set(Number(f[1]), f[2]!); continue; }
      if (/^\S/.test(line)) inFiles = false;
    }
  }
  return { userFiles, files, raw };
}

/** The slots the kernel shows populated in fdinfo, in order. */
export function kernelSlots(ring: Ring): number[] {
  return [...fdinfo(ring).files.keys()].sort((a, b) => a - b);
}

/**
 * Waits, without letting the event loop reap a CQE, until fdinfo shows that
 * the kernel has run a request: on an SQPOLL ring the kernel runs requests on
 * its own thread. `done` is tested on a listing that shows slot `witness`
 * (fdinfo lists slots only when it gets the ring's lock).
 */
export function spinUntil(ring: Ring, witness: number, done: (slots: Map<number, string>) => boolean): void {
  const end = Date.now() + 2000;
  for (;;) {
    const files = fdinfo(ring).files;
    if (files.has(witness) && done(files)) return;
    if (Date.now() > end) throw new Error('the kernel did not run the request within 2 s');
  }
}

/** Asserts that ring.files' view of the table (size, occupied slots) equals the kernel's fdinfo. */
export function assertViewMatches(ring: Ring): void {
  const k = fdinfo(ring);
  assert.equal(ring.files.size, k.userFiles, 'table size');
  assert.deepEqual(ring.files.occupied(), [...k.files.keys()].sort((a, b) => a - b), 'occupied slots');
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'uring-test-'): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Open fds of this process (for leak checks). */
export function openFdCount(): number {
  return require('node:fs').readdirSync('/proc/self/fd').length;
}

/** Threads of this process (for leak checks: iou-wrk and iou-sqp show here). */
export function threadCount(): number {
  return Number(/Threads:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

/** Skip reason when the kernel lacks an opcode, else undefined. */
export function needsOp(op: string): string | undefined {
  const r = new Ring({ entries: 2 });
  try {
    return r.probe().supports(op) ? undefined : `kernel lacks IORING_OP_${op}`;
  } finally {
    void r.close();
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
