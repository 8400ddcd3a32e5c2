// A round of HTTP load from autocannon (a devDependency), run in its own
// process so that the server under test has this thread to itself and the
// load generator is one nobody here wrote. Keep-alive connections, one
// request in flight each (no pipelining): what browsers and proxies do.
import { execFile } from 'node:child_process';
import type { RoundResult } from '../harness';

/** autocannon's entry point, or undefined where it is not installed. */
export function autocannonPath(): string | undefined {
  try {
    return require.resolve('autocannon/autocannon.js');
  } catch {
    return undefined;
  }
}

/** Runs autocannon against http://127.0.0.1:port/ for about `ms` (whole seconds, at least one). */
export function autocannonRound(bin: string, port: number, ms: number, conns: number): Promise<RoundResult> {
  const secs = Math.max(1, Math.round(ms / 1000));
  const args = [bin, '-c', String(conns), '-d', String(secs), '-j', `http://127.0.0.1:${port}/`];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 24 }, (err, stdout) => {
      if (err) { reject(err); return; }
      try {
        const r = JSON.parse(stdout) as { requests: { total: number }; duration: number; latency: { p99: number };
          errors: number; non2xx: number };
        if (r.errors > 0 || r.non2xx > 0) throw new Error(`autocannon saw ${r.errors} errors and ${r.non2xx} non-2xx responses`);
        resolve({ ops: r.requests.total, seconds: r.duration, p99Ns: r.latency.p99 * 1e6 });
      } catch (e) {
        reject(e);
      }
    });
  });
}
