// The soak, short: a few seconds of mixed operations (`npm run soak` runs
// 10 million). Runs in a child process with --expose-gc and a watchdog.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SoakReport } from './soak';

describe('soak (short)', () => {
  it('mixed reads, writes, aborts, timeouts and nops: data intact, every promise settles once, fds and threads flat', (t) => {
    const ops = Number(process.env.URING_SOAK_OPS) || 40_000;
    const out = join(tmpdir(), `uring-soak-${process.pid}.json`);
    const r = spawnSync(process.execPath, ['--expose-gc', require.resolve('./soak'), String(ops), out], { encoding: 'utf8', timeout: 120_000 });
    try {
      assert.equal(r.signal, null, `the soak was killed (${r.signal}; SIGTERM means the watchdog: it hung): ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(out, 'utf8')) as SoakReport & { leaks: string[] };
      t.diagnostic(`${report.ops} ops in ${report.ms} ms (${report.opsPerSec}/s): ${JSON.stringify(report.byKind)}`);
      assert.deepEqual(report.failures, []);
      assert.deepEqual(report.leaks, []);
      assert.ok(report.baseline, 'a baseline was taken after warm-up');
    } finally {
      rmSync(out, { force: true });
    }
  });
});
