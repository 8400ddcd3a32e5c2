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
// child answers { ops, seconds } for that round. `mode` is 'echo' (64-byte
// messages echoed back) or 'http' (GET requests, responses counted by their
// status line).
import { connect, Socket } from '../../net/index';
import { fork, ChildProcess } from 'node:child_process';

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
  await Promise.all(Array.from({ length: r.conns }, () => new Promise<void>((resolve, reject) => {
    const s = connect({ port: r.port, host: '127.0.0.1', noDelay: true }, () => resolve());
    s.on('error', (e) => (stop ? undefined : reject(e)));
    sockets.push(s);
  })));
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (const s of sockets) {
    if (r.mode === 'echo') {
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        const done = Math.floor(got / MSG);
        got -= done * MSG;
        ops += done;
        if (!stop && done > 0) s.write(out.subarray(0, done * MSG));
      });
      s.write(out.subarray(0, r.depth * MSG));
    } else {
      let carry = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        const [n, rest] = countStatus(d, carry);
        carry = Buffer.from(rest);
        ops += n;
        if (!stop && n > 0) s.write(reqs.subarray(0, n * REQUEST.length));
      });
      s.write(reqs.subarray(0, r.depth * REQUEST.length));
    }
  }
  await new Promise((res) => setTimeout(res, r.ms));
  stop = true;
  const counted = ops;
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const s of sockets) s.destroy();
  return { ops: counted, seconds, clientCpuSeconds: (cpu.user + cpu.system) / 1e6 };
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
        if ('error' in m) reject(new Error(m.error)); else resolve(m);
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
