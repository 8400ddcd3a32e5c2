// `uring bench` end to end with the node engine (no io_uring needed): JSON
// rows, the chart file, the temporary directory removed, usage errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers';
import { assertWellFormedSvg } from './cli-svg';

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function uring(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('uring bench (node engine)', () => {
  it('--json prints one valid row per variant and removes its temporary directory', () => {
    const tmp = tempDir();
    let r;
    try {
      // The command makes its temporary directory under TMPDIR.
      r = uring(['bench', '--engine', 'node', '--json', '--runtime', '60ms', '--size', '1m', '--iodepth', '4'], { TMPDIR: tmp.dir });
      assert.deepEqual(readdirSync(tmp.dir), [], 'temporary directory removed');
    } finally {
      tmp.cleanup();
    }
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.equal(row.variant, 'node:fs/promises');
    assert.equal(row.workload, 'randread');
    assert.equal(row.bs, 4096);
    assert.equal(row.iodepth, 4);
    assert.equal(row.rounds, 3);
    assert.ok(row.ops_per_sec > 0);
    assert.ok(row.mb_per_sec > 0);
    assert.ok(row.cpu_us_per_op > 0);
    assert.ok(row.p50_us > 0 && row.p99_us >= row.p50_us && row.p999_us >= row.p99_us);
    assert.equal(row.ratio_vs_baseline, 1);
  });

  it('--chart writes a valid SVG and the table is printed', () => {
    const tmp = tempDir();
    try {
      const chart = tmp.path('c.svg');
      const r = uring(['bench', '--engine', 'node', '--rw', 'readfile', '--runtime', '60ms', '--size', '64k', '--chart', chart]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^readfile \(4 KiB whole-file read/);
      assert.match(r.stdout, /node:fs\/promises/);
      assertWellFormedSvg(readFileSync(chart, 'utf8'));
    } finally {
      tmp.cleanup();
    }
  });

  it('a wrong option exits with 2 and says what is wrong', () => {
    const r = uring(['bench', '--rw', 'sideways']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--rw takes one of randread, read, randwrite, write, readfile/);
    assert.equal(uring(['frobnicate']).status, 2);
    assert.equal(uring(['--help']).status, 0);
    assert.match(uring(['bench', '--help']).stdout, /--iodepth N/);
  });
});
