// Hostile-caller tests (issue 12): shared plumbing. Scenarios that can crash
// or hang the process on a broken library run in a child process: the test
// names a scenario (an exported async function of a `*.cases.ts` module next
// to this file) and a ring shape; the child runs it, and the test asserts that
// the child exited cleanly and reported success. A scenario checks everything
// itself with node:assert and returns a JSON-able summary.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as FS, mkdtempSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Ring } from '../../src/index';
import { runChild } from '../child';
import type { Shape } from '../helpers';

const REPORT = 'HOSTILE-OK ';

/** A scenario: runs on a ring of `shape` (uring/fs scenarios ignore it), throws on a violation. */
export type Scenario = (shape: Shape) => Promise<unknown>;

/**
 * Runs `name` from the compiled scenario module `file` (an absolute path) in a
 * child under a watchdog; fails unless the child reports success.
 */
export async function inChild(file: string, name: string, shape: Shape, watchdogMs = 20_000): Promise<unknown> {
  const body = `require(${JSON.stringify(__filename)}).childMain(${JSON.stringify(file)}, ${JSON.stringify(name)}, ${JSON.stringify(shape)});`;
  // The child's temporary files go under a directory removed here, even if it crashed.
  const tmp = mkdtempSync(join(tmpdir(), 'uring-hostile-child-'));
  let res: Awaited<ReturnType<typeof runChild>>;
  try {
    res = await runChild(body, watchdogMs, { TMPDIR: tmp });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const tail = (s: string): string => (s.length > 4000 ? `...${s.slice(-4000)}` : s);
  const diag = `\n--- child stderr ---\n${tail(res.stderr)}\n--- child stdout ---\n${tail(res.stdout)}`;
  assert.equal(res.hung, false, `${name}: child hung and was killed after ${watchdogMs} ms${diag}`);
  assert.equal(res.signal, null, `${name}: child died of ${res.signal}${diag}`);
  assert.equal(res.code, 0, `${name}: child exited with code ${res.code}${diag}`);
  const line = res.stdout.split('\n').find((l) => l.startsWith(REPORT));
  assert.ok(line !== undefined, `${name}: child exited without reporting${diag}`);
  return JSON.parse(line.slice(REPORT.length));
}

/** @internal The child's entry point (see inChild). */
export function childMain(file: string, name: string, shape: Shape): void {
  // Relative paths of a misbehaving call land in the child's own temporary directory.
  process.chdir(tmpdir());
  const mod = require(file) as Record<string, Scenario>;
  const f = mod[name];
  if (typeof f !== 'function') {
    process.stderr.write(`no scenario ${name} in ${file}\n`);
    process.exit(2);
  }
  Promise.resolve().then(() => f(shape)).then((summary) => {
    process.stdout.write(`${REPORT}${JSON.stringify(summary ?? null)}\n`);
    process.exit(0);
  }, (err: unknown) => {
    process.stderr.write(`scenario ${name} on ${shape.name} failed:\n${inspect(err, { depth: 4 })}\n`);
    process.exit(1);
  });
}

// ---- helpers used inside scenarios ------------------------------------------

const gcFn = (globalThis as { gc?: () => void }).gc;

/** Forces collections (the child runs with --expose-gc), yielding to the loop between them. */
export async function collect(rounds = 3): Promise<void> {
  assert.ok(gcFn, 'run with --expose-gc');
  for (let k = 0; k < rounds; k++) {
    gcFn();
    await new Promise((r) => setImmediate(r));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `size` bytes of a deterministic pattern that no byte fill (canary, zeros) matches. */
export function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafeSlow(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let k = 0; k < size; k++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[k] = x & 0xff;
  }
  return b;
}

export const CANARY = 0xa5;

/**
 * Fresh buffers filled with CANARY, allocated after memory the kernel may
 * still use was freed: if the library let that memory go, some of these get
 * it, and whatever the kernel writes shows up in them.
 */
export class Canaries {
  private readonly bufs: Buffer[] = [];
  constructor(private readonly size: number, count: number) {
    for (let k = 0; k < count; k++) this.bufs.push(Buffer.alloc(size, CANARY));
  }
  /** Asserts no canary changed. */
  check(what: string): void {
    const ref = Buffer.alloc(this.size, CANARY);
    let bad = 0;
    for (const b of this.bufs) if (!b.equals(ref)) bad++;
    assert.equal(bad, 0, `${what}: ${bad} of ${this.bufs.length} fresh buffers allocated afterwards were overwritten`);
  }
}

/** How a promise settled, and how many times its handlers ran (must be once). */
export interface Outcome<T> {
  status: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
  calls: number;
}

/** Watches a promise: the returned record fills in when it settles. */
export function watch<T>(p: Promise<T>): Outcome<T> {
  const o: Outcome<T> = { status: 'pending', calls: 0 };
  p.then((v) => { o.calls++; o.status = 'fulfilled'; o.value = v; },
    (e) => { o.calls++; o.status = 'rejected'; o.error = e; });
  return o;
}

/** Resolves when `o` settles, or fails after `ms`. */
export async function settled<T>(o: Outcome<T>, ms: number, what: string): Promise<Outcome<T>> {
  const t0 = Date.now();
  while (o.status === 'pending') {
    if (Date.now() - t0 > ms) assert.fail(`${what}: promise still pending after ${ms} ms`);
    await delay(5);
  }
  await delay(0);
  assert.equal(o.calls, 1, `${what}: settled ${o.calls} times`);
  return o;
}

/** Calls `f` (a promise-returning method); a synchronous throw is a violation. */
export function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  let p: Promise<T>;
  try {
    p = f();
  } catch (err) {
    assert.fail(`${what} threw synchronously instead of returning a rejected promise: ${inspect(err)}`);
  }
  assert.ok(p instanceof Promise, `${what} did not return a promise`);
  return p;
}

/** Asserts `err` is an Error with a string `code` (a library code or an errno name). */
export function assertCoded(err: unknown, what: string, codes?: RegExp): void {
  // A failed check of this test is not the library's coded error.
  if (err instanceof assert.AssertionError) throw err;
  assert.ok(err instanceof Error, `${what}: rejected with a non-Error ${inspect(err)}`);
  const code = (err as { code?: unknown }).code;
  const shown = `${err.name} ${String(code)}: ${err.message}`;
  assert.equal(typeof code, 'string', `${what}: rejected with an error that has no code (${shown})`);
  if (codes) assert.match(code as string, codes, `${what}: rejected with ${shown}`);
}

/** The violation (a message) when `err` is not an acceptable refusal, else undefined. */
export function refusalViolation(err: unknown, what: string): string | undefined {
  try {
    assertCoded(err, what, /^(?!EFAULT$)/);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Closes a ring; fails if close() does not resolve within `ms`. */
export async function closeWithin(ring: Ring, ms: number, what = 'ring.close()'): Promise<void> {
  const o = watch(ring.close());
  await settled(o, ms, what);
  assert.equal(o.status, 'fulfilled', `${what} rejected: ${inspect(o.error)}`);
}

/** A temporary directory removed by cleanup(). */
export function scratchDir(): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'uring-hostile-'));
  return { dir, path: (n) => join(dir, n), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A pipe (a FIFO, so that only node:fs is needed): `r` is a blocking read end
 * for the ring, `w` a non-blocking write end for the test, `drain` a
 * non-blocking read end, and `wBlock` a blocking write end for the ring.
 */
export interface Pipe {
  r: number;
  w: number;
  wBlock: number;
  drain: number;
  /** Writes into the pipe until it is full; returns the bytes written. */
  fill(byte: number): number;
  /** Reads whatever the pipe holds now (non-blocking). */
  take(max?: number): Buffer;
  close(): void;
}

export function makePipe(): Pipe {
  const d = scratchDir();
  const path = d.path('fifo');
  execFileSync('mkfifo', [path]);
  // O_RDWR never blocks on a FIFO and keeps a writer, so reads block for data, never see EOF.
  const r = openSync(path, FS.O_RDWR);
  const drain = openSync(path, FS.O_RDONLY | FS.O_NONBLOCK);
  const w = openSync(path, FS.O_WRONLY | FS.O_NONBLOCK);
  const wBlock = openSync(path, FS.O_WRONLY);
  d.cleanup();
  return {
    r, w, wBlock, drain,
    fill(byte) {
      const chunk = Buffer.alloc(4096, byte);
      let total = 0;
      for (let k = 0; k < 4096; k++) {
        try {
          total += writeSync(w, chunk);
        } catch (err) {
          if ((err as { code?: string }).code === 'EAGAIN') return total;
          throw err;
        }
      }
      throw new Error('pipe never filled');
    },
    take(max = 1 << 20) {
      const out = Buffer.allocUnsafe(max);
      let n = 0;
      while (n < max) {
        let got: number;
        try {
          got = readSync(drain, out, n, max - n, null);
        } catch (err) {
          if ((err as { code?: string }).code === 'EAGAIN') break;
          throw err;
        }
        if (got === 0) break;
        n += got;
      }
      return Buffer.from(out.subarray(0, n));
    },
    close() {
      for (const fd of [r, drain, w, wBlock]) {
        try { closeSync(fd); } catch { /* already closed */ }
      }
    },
  };
}

/** Number of open fds of this process. */
export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A new ring of `shape`. */
export function ringOf(shape: Shape): Ring {
  return new Ring(shape.options);
}

/**
 * A TCP peer in a separate process: it accepts one connection on 127.0.0.1,
 * waits `delayMs` before reading (so the sender's data stays in flight), then
 * reads to the end (or for at most `maxMs`) and reports how many bytes it got
 * and the first offset where they differ from `pattern(size, seed)`.
 *
 * It lives in its own process on purpose: a zero-copy send whose peer is in
 * the same process and never reads can block that process's exit in the
 * kernel forever (the exit cancels io_uring requests before closing files).
 */
export interface Peer {
  port: number;
  /** The peer's report once the connection ended. */
  result: Promise<{ received: number; firstBad: number; sha256: string }>;
  kill(): void;
}

export async function spawnPeer(size: number, seed: number, delayMs: number, maxMs = 20_000): Promise<Peer> {
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, ['-e',
    `require(${JSON.stringify(__filename)}).peerMain(${size}, ${seed}, ${delayMs}, ${maxMs})`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const lines: ((l: string) => void)[] = [];
  child.stdout!.on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const next = (): Promise<string> => new Promise((r) => lines.push(r));
  const first = next();
  const second = next();
  const port = Number(await first);
  return {
    port,
    result: second.then((l) => JSON.parse(l)),
    kill: () => { child.kill('SIGKILL'); },
  };
}

/** @internal The peer process's entry point (see spawnPeer). */
export function peerMain(size: number, seed: number, delayMs: number, maxMs: number): void {
  const net = require('node:net') as typeof import('node:net');
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  const expected = pattern(size, seed);
  const server = net.createServer((sock) => {
    server.close();
    sock.pause();
    const hash = createHash('sha256');
    let received = 0;
    let firstBad = -1;
    sock.on('data', (c: Buffer) => {
      if (firstBad < 0) {
        for (let k = 0; k < c.length; k++) {
          if (received + k >= size || c[k] !== expected[received + k]) { firstBad = received + k; break; }
        }
      }
      hash.update(c);
      received += c.length;
    });
    const done = (): void => {
      process.stdout.write(`${JSON.stringify({ received, firstBad, sha256: hash.digest('hex') })}\n`);
      process.exit(0);
    };
    sock.on('error', () => { /* end of the report */ });
    sock.on('close', done);
    setTimeout(() => sock.resume(), delayMs);
    setTimeout(() => { sock.destroy(); }, maxMs).unref();
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  });
}
