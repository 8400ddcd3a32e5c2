// Hostile environments: io_uring blocked by seccomp with EPERM (as Docker's
// default profile does) or ENOSYS (as gVisor does), and disabled through the
// environment. Each case runs in a child process under a seccomp filter.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { seccompExec } from './seccomp';
import type { AvailabilityReport } from '../fixtures/availability-child';

const child = require.resolve('../fixtures/availability-child');
const helper = seccompExec();
const skip = 'skip' in helper ? helper.skip : false;

function run(mode: 'eperm' | 'enosys' | 'kill', env: NodeJS.ProcessEnv = {}): { report?: AvailabilityReport; status: number | null; signal: string | null; stderr: string } {
  if ('skip' in helper) throw new Error(helper.skip);
  const baseEnv = { ...process.env };
  delete baseEnv.URING_DISABLE;
  delete baseEnv.NODE_TEST_CONTEXT;
  const r = spawnSync(helper.path, [mode, process.execPath, child], {
    encoding: 'utf8', timeout: 60000, env: { ...baseEnv, ...env },
  });
  const line = r.stdout.trim().split('\n').pop();
  let report: AvailabilityReport | undefined;
  try { report = line ? JSON.parse(line) as AvailabilityReport : undefined; } catch { report = undefined; }
  return { report, status: r.status, signal: r.signal, stderr: r.stderr };
}

for (const [mode, errno, what] of [
  ['eperm', -1, "seccomp returns EPERM (Docker's default profile)"],
  ['enosys', -38, 'seccomp returns ENOSYS (gVisor, kernels without io_uring)'],
] as const) {
  describe(`when ${what}`, { skip }, () => {
    const r = skip ? undefined : run(mode);

    it(`new Ring() throws UringUnavailableError with reason '${mode}' and a hint`, () => {
      assert.ok(r!.report, `the child reported (status ${r!.status}, signal ${r!.signal}): ${r!.stderr}`);
      const ring = r!.report.ring;
      assert.equal(ring.threw, true);
      assert.equal(ring.unavailable, true, 'an instance of UringUnavailableError');
      assert.equal(ring.code, 'ERR_URING_UNAVAILABLE');
      assert.equal(ring.reason, mode);
      assert.equal(ring.errno, errno);
      assert.match(ring.message!, new RegExp(mode === 'eperm' ? 'EPERM' : 'ENOSYS'));
      assert.match(ring.message!, mode === 'eperm' ? /seccomp/ : /gVisor|Linux 5\.6/, 'the message says what to do');
      assert.equal(typeof ring.hint, 'string');
    });

    it('`uring doctor` explains why', (t) => {
      const d = r!.report!.doctor;
      if ('skipped' in d) return t.skip(d.skipped);
      assert.equal(d.signal, null, 'doctor did not crash');
      assert.match(`${d.stdout}\n${d.stderr}`, new RegExp(mode, 'i'), 'the text report names the cause');
      assert.ok(d.json !== undefined, 'doctor --json prints JSON');
      assert.match(JSON.stringify(d.json), new RegExp(mode, 'i'), 'the JSON report names the cause');
    });

    it('uring/fs falls back to node:fs/promises and says so', (t) => {
      const f = r!.report!.fs;
      if ('skipped' in f) return t.skip(f.skipped);
      assert.equal(f.error, undefined);
      assert.ok(f.ok, 'readFile and writeFile work through the fallback');
      assert.ok(Object.keys(f.backend).length > 0, 'the module exposes which backend it uses');
      // uring/fs's `backend` names the fallback and the classified cause.
      const b = f.backend.backend as { kind?: string; code?: string; reason?: string } | undefined;
      assert.equal(b?.kind, 'node');
      assert.equal(b?.code, mode);
      assert.match(String(b?.reason), new RegExp(mode === 'eperm' ? 'EPERM|seccomp|disabled' : 'ENOSYS'));
    });
  });
}

describe('URING_DISABLE', { skip }, () => {
  it('the seccomp helper in kill mode really kills a process that calls io_uring_setup', () => {
    const r = run('kill');
    assert.equal(r.signal, 'SIGSYS', `expected death by SIGSYS, got status ${r.status} signal ${r.signal}`);
  });

  it("URING_DISABLE=1 gives reason 'disabled' without ever calling io_uring_setup", () => {
    // Under a filter that kills the process on io_uring_setup, surviving
    // proves the syscall was never made.
    const r = run('kill', { URING_DISABLE: '1' });
    assert.equal(r.signal, null, `the process survived: ${r.stderr}`);
    assert.equal(r.status, 0);
    assert.equal(r.report!.ring.code, 'ERR_URING_UNAVAILABLE');
    assert.equal(r.report!.ring.reason, 'disabled');
    assert.match(r.report!.ring.message!, /URING_DISABLE/);
  });

  it('URING_DISABLE=0 and URING_DISABLE=false do not disable io_uring', () => {
    for (const v of ['0', 'false', '']) {
      const r = run('eperm', { URING_DISABLE: v });
      assert.equal(r.report!.ring.reason, 'eperm', `URING_DISABLE=${JSON.stringify(v)} reaches io_uring_setup`);
    }
  });
});
