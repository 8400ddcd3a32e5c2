// The load generator of the `echo` and `http` workloads, run in a child
// process so that the server under test has the parent's thread to itself.
//
// It is a tight uring/net client: many connections, each keeping `depth`
// requests in flight (pipelining). The same generator drives every variant.
// It runs on uring/net because a node:net client measured here saturated its
// core before either server did, capping both at the client's speed;
// pipelining makes one client read carry many responses, so the generator
// spends less per request than the server it drives.
//
// Protocol (IPC): the parent sends { port, ms, conns, depth, mode }; the
// child answers { ops, seconds, clientCpuSeconds, latenciesNs } for that
// round: the round trip of one request in SAMPLE_EVERY, from the write that
// sent it to the read that completed its answer. `mode` is 'echo' (64-byte
// messages echoed back) or 'http' (GET requests, responses counted by their
// status line).
import { connect, Socket } from '../../net/index';
import { fork, ChildProcess } from 'node:child_process';
import { SAMPLE_EVERY } from '../harness';

export interface LoadRound {
  mode: 'echo' | 'http';
  port: number;
  ms: number;
  conns: number;
  depth: number;
}

export interface LoadResult {
  ops: number;
  seconds: number;
  /** CPU seconds the generator's process spent in the round. */
  clientCpuSeconds: number;
  /** Sampled round trips, in nanoseconds. */
  latenciesNs?: Float64Array;
}

/**
 * One connection's sampled requests: the sequence number of one request in
 * SAMPLE_EVERY and the time its write was made, until its answer is in.
 */
class RoundTrips {
  private sent = 0;
  private done = 0;
  private readonly seq: number[] = [];
  private readonly at: number[] = [];
  private head = 0;
  constructor(private readonly out: number[]) {}
  /** `n` requests written now. */
  wrote(n: number): void {
    const first = this.sent;
    this.sent += n;
    // The sampled sequence numbers in [first, sent): SAMPLE_EVERY - 1, 2 * SAMPLE_EVERY - 1, ...
    let s = first + ((SAMPLE_EVERY - 1 - (first % SAMPLE_EVERY)) % SAMPLE_EVERY);
    if (s >= this.sent) return;
    const t = performance.now();
    for (; s < this.sent; s += SAMPLE_EVERY) {
      this.seq.push(s);
      this.at.push(t);
    }
  }
  /** `n` more answers read now. */
  answered(n: number): void {
    this.done += n;
    if (this.head === this.seq.length || this.seq[this.head]! >= this.done) return;
    const t = performance.now();
    while (this.head < this.seq.length && this.seq[this.head]! < this.done) {
      this.out.push((t - this.at[this.head]!) * 1e6);
      this.head++;
    }
    if (this.head === this.seq.length) {
      this.seq.length = 0;
      this.at.length = 0;
      this.head = 0;
    }
  }
}

const MSG = 64;
const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
const STATUS = Buffer.from('HTTP/1.1 ');

function countStatus(chunk: Buffer, carry: Buffer): [number, Buffer] {
  const b = carry.length ? Buffer.concat([carry, chunk]) : chunk;
  let n = 0;
  let at = b.indexOf(STATUS);
  while (at >= 0) {
    n++;
    at = b.indexOf(STATUS, at + STATUS.length);
  }
  return [n, b.subarray(Math.max(0, b.length - STATUS.length + 1))];
}

/** Runs one round of load against 127.0.0.1:port. */
export async function runRound(r: LoadRound): Promise<LoadResult> {
  const out = Buffer.alloc(Math.max(MSG, REQUEST.length) * r.depth * 4, 'x');
  const reqs = Buffer.concat(Array.from({ length: r.depth * 4 }, () => REQUEST));
  let ops = 0;
  let stop = false;
  const sockets: Socket[] = [];
  const latencies: number[] = [];
  await Promise.all(Array.from({ length: r.conns }, () => new Promise<void>((resolve, reject) => {
    const s = connect({ port: r.port, host: '127.0.0.1', noDelay: true }, () => resolve());
    s.on('error', (e) => (stop ? undefined : reject(e)));
    sockets.push(s);
  })));
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (const s of sockets) {
    const trips = new RoundTrips(latencies);
    if (r.mode === 'echo') {
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        const done = Math.floor(got / MSG);
        got -= done * MSG;
        ops += done;
        if (done > 0) trips.answered(done);
        if (!stop && done > 0) {
          s.write(out.subarray(0, done * MSG));
          trips.wrote(done);
        }
      });
      s.write(out.subarray(0, r.depth * MSG));
      trips.wrote(r.depth);
    } else {
      let carry = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        const [n, rest] = countStatus(d, carry);
        carry = Buffer.from(rest);
        ops += n;
        if (n > 0) trips.answered(n);
        if (!stop && n > 0) {
          s.write(reqs.subarray(0, n * REQUEST.length));
          trips.wrote(n);
        }
      });
      s.write(reqs.subarray(0, r.depth * REQUEST.length));
      trips.wrote(r.depth);
    }
  }
  await new Promise((res) => setTimeout(res, r.ms));
  stop = true;
  const counted = ops;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const s of sockets) s.destroy();
  // A plain array: the IPC channel carries JSON.
  return { ops: counted, seconds, clientCpuSeconds: (cpu.user + cpu.system) / 1e6, latenciesNs: latencies as unknown as Float64Array };
}

/** The generator in a child process; `round()` runs one round there. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(__filename, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  round(r: LoadRound): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (m: LoadResult | { error: string }) => {
        this.child.off('exit', onExit);
        if ('error' in m) reject(new Error(m.error));
        else resolve({ ...m, latenciesNs: Float64Array.from(m.latenciesNs ?? []) });
      });
      this.child.send(r);
    });
  }
  close(): void {
    this.child.disconnect();
    this.child.kill();
  }
}

if (require.main === module && process.argv[2] === '--child') {
  process.on('message', (r: LoadRound) => {
    runRound(r).then((res) => process.send!(res), (err: Error) => process.send!({ error: String(err.stack ?? err) }));
  });
  process.on('disconnect', () => process.exit(0));
}
