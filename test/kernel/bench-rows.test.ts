// The benchmark's --json rows carry CPU and latency for every variant: the
// echo workload (server CPU from /proc, round trips sampled by the load
// generator), run briefly against the real kernel.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', '..', 'bench', 'main.js');

describe('npm run bench -- echo --json', () => {
  it('every row has ops/s, CPU per op split into user and system, and latency percentiles', { timeout: 120_000 }, () => {
    const r = spawnSync(process.execPath, [BENCH, 'echo', '--json', '--rounds', '1', '--round-ms', '200'],
      { encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const names = rows.map((x) => x.variant);
    for (const v of ['uring-net', 'uring-net-direct', 'node-net']) assert.ok(names.includes(v), `row ${v} in ${names.join(', ')}`);
    for (const row of rows) {
      const what = String(row.variant);
      assert.equal(row.workload, 'echo');
      assert.ok((row.ops_per_sec as number) > 0, what);
      assert.ok((row.cpu_us_per_op as number) > 0, `${what}: cpu_us_per_op`);
      assert.equal(typeof row.cpu_user_us_per_op, 'number', what);
      assert.equal(typeof row.cpu_sys_us_per_op, 'number', what);
      const p50 = row.p50_us as number;
      const p99 = row.p99_us as number;
      assert.ok(p50 > 0 && p99 >= p50 && (row.p999_us as number) >= p99, `${what}: p50 ${p50}, p99 ${p99}`);
    }
  });
});
