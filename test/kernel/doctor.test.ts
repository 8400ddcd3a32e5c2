// `uring doctor --json` tells the truth about this kernel, and `uring bench`
// measures the io_uring variants.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ring, constants as C } from '../../src/index';
import { native } from '../../src/native';
import type { DoctorReport } from '../../src/cli/doctor';
import { tempDir } from '../helpers';
import { assertWellFormedSvg } from '../unit/cli-svg';

const MAIN = join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function uring(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function canSetUp(options: ConstructorParameters<typeof Ring>[0]): boolean {
  try {
    void new Ring(options).close();
    return true;
  } catch {
    return false;
  }
}

/** Registers a sparse file table of `nr` slots on a fresh ring; returns the result. */
function sparseTable(nr: number): number {
  const ring = new Ring({ entries: 2 });
  try {
    // struct io_uring_rsrc_register { u32 nr; u32 flags; u64 resv2; u64 data; u64 tags; }
    const arg = new Uint32Array(8);
    arg[0] = nr;
    arg[1] = C.RSRC_REGISTER_SPARSE;
    return native().register(ring.fd, C.Register.REGISTER_FILES2, arg, 32);
  } finally {
    void ring.close();
  }
}

describe('uring doctor --json', () => {
  const r = uring(['doctor', '--json']);
  const report = JSON.parse(r.stdout) as DoctorReport;

  it('exits with 0 and reports io_uring usable when a ring can be set up here', () => {
    assert.equal(r.status, 0, r.stderr);
    assert.equal(report.usable, true);
    assert.equal(report.unavailable, undefined);
    assert.equal(report.platform, 'linux');
    assert.match(report.kernel.release, /^\d+\.\d+/);
    assert.equal(report.kernel.version.length, 3);
  });

  it('reports the addon binary it loaded: in this repository, the source build', () => {
    assert.equal(report.addon?.kind, 'source');
    assert.equal(report.addon?.file, join(__dirname, '..', '..', '..', 'build', 'Release', 'uring.node'));
  });

  it('reports the feature bits and opcodes the ring itself reports', () => {
    const ring = new Ring({ entries: 2 });
    try {
      assert.deepEqual(report.ring!.features, ring.features);
      assert.equal(report.ring!.featureBits, ring.featureBits);
      assert.deepEqual(report.opcodes.supported, ring.probe().ops);
      for (const op of report.opcodes.unsupported) assert.equal(ring.probe().supports(op), false, op);
    } finally {
      void ring.close();
    }
  });

  it('reports setup flags that match what a ring can be created with', () => {
    const f = report.setupFlags;
    for (const k of ['SQPOLL', 'SINGLE_ISSUER', 'DEFER_TASKRUN', 'COOP_TASKRUN', 'NO_SQARRAY', 'CQE32', 'SQE128']) {
      assert.equal(typeof f[k]?.ok, 'boolean', k);
      if (!f[k]!.ok) assert.match(f[k]!.error!, /^E[A-Z]+$/, k);
    }
    assert.equal(f.SQPOLL!.ok, canSetUp({ entries: 2, sqpoll: { idleMs: 10 } }));
    assert.equal(f.DEFER_TASKRUN!.ok, canSetUp({ entries: 2, singleIssuer: true, deferTaskrun: true }));
    assert.equal(f.COOP_TASKRUN!.ok, canSetUp({ entries: 2, coopTaskrun: true }));
    assert.equal(f.NO_SQARRAY!.ok, canSetUp({ entries: 2, noSqArray: true }));
  });

  it('reports the rlimits, and a file table of fileTable.now slots registers while one more does not', (t) => {
    const nofile = native().getRlimit(C.RLIMIT_NOFILE) as [number, number];
    assert.equal(report.limits.nofile!.soft, nofile[0] < 0 ? null : nofile[0]);
    assert.equal(report.limits.nofile!.hard, nofile[1] < 0 ? null : nofile[1]);
    assert.ok(report.limits.memlock !== null);
    const ft = report.limits.fileTable!;
    assert.ok(ft.now <= ft.max && ft.max <= ft.kernelMax);
    if (ft.now > 65536) return t.skip('RLIMIT_NOFILE is too large to try the whole table cheaply');
    assert.equal(sparseTable(ft.now), 0);
    assert.ok([-24, -22].includes(sparseTable(ft.now + 1)), 'one slot more is refused (EMFILE or EINVAL)');
  });

  it('lists the quirks that follow from the features it reports', () => {
    const ids = report.quirks.map((q) => q.id);
    assert.equal(ids.includes('sqpoll-fixed-files-only'), !report.ring!.features.sqpollNonfixed);
    assert.equal(ids.includes('defer-taskrun-missing'), !report.setupFlags.DEFER_TASKRUN!.ok);
    assert.ok(ids.includes('getevents-eintr'));
    for (const q of report.quirks) assert.ok(q.title && q.detail, q.id);
  });

  it('the seccomp mode and io_uring_disabled come from /proc', () => {
    const m = /^Seccomp:\s*(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) assert.equal(report.seccomp.mode, Number(m[1]));
    let disabled: number | null = null;
    try { disabled = Number(readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8')); } catch { /* absent before 6.6 */ }
    assert.equal(report.ioUringDisabled, disabled);
  });

  it('with URING_DISABLE set: exits non-zero and classifies the reason as disabled', () => {
    const d = uring(['doctor', '--json'], { URING_DISABLE: '1' });
    assert.notEqual(d.status, 0);
    const rep = JSON.parse(d.stdout) as DoctorReport;
    assert.equal(rep.usable, false);
    assert.equal(rep.unavailable!.reason, 'disabled');
    assert.match(rep.unavailable!.hint, /URING_DISABLE/);
    const text = uring(['doctor'], { URING_DISABLE: '1' });
    assert.match(text.stdout, /NOT usable \(disabled\)/);
  });
});

describe('uring bench with io_uring', () => {
  it('the default comparison runs with a tiny --runtime and gives valid rows for all four variants', () => {
    const tmp = tempDir();
    try {
      const chart = tmp.path('bench.svg');
      const r = uring(['bench', '--json', '--runtime', '90ms', '--size', '2m', '--chart', chart]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(rows.map((x) => x.variant),
        ['node:fs/promises', 'uring', 'uring fixed-file', 'uring fixed-file+fixed-buffers']);
      for (const row of rows) {
        assert.ok(row.ops_per_sec > 0, row.variant);
        assert.ok(row.p50_us > 0 && row.p999_us >= row.p50_us, row.variant);
        assert.equal(row.baseline, 'node:fs/promises');
      }
      assertWellFormedSvg(readFileSync(chart, 'utf8'));
    } finally {
      tmp.cleanup();
    }
  });

  it('write modes, SQPOLL and threads run and count their operations', () => {
    for (const args of [['--rw', 'randwrite', '--engine', 'uring', '--fixed-buffers'],
      ['--rw', 'read', '--engine', 'uring', '--sqpoll', '--fixed-files'],
      ['--rw', 'readfile', '--engine', 'uring', '--threads', '2']]) {
      if (args.includes('--sqpoll') && !canSetUp({ entries: 2, sqpoll: true })) continue;
      const r = uring(['bench', '--json', '--runtime', '60ms', '--size', '1m', '--iodepth', '4', ...args]);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      const row = JSON.parse(r.stdout.trim());
      assert.ok(row.ops_per_sec > 0, args.join(' '));
    }
  });
});
