// Builds test/fixtures/seccomp-exec.c with the system C compiler, once per
// test process, into a temporary directory removed when the process exits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SECCOMP_SOURCE = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'seccomp-exec.c');

let built: { path: string } | { skip: string } | undefined;

/** The path of the built helper, or `{ skip }` saying why it cannot be built here. */
export function seccompExec(): { path: string } | { skip: string } {
  if (built) return built;
  if (!existsSync(SECCOMP_SOURCE)) return (built = { skip: `missing ${SECCOMP_SOURCE}` });
  const cc = process.env.CC || 'cc';
  const dir = mkdtempSync(join(tmpdir(), 'uring-seccomp-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'seccomp-exec');
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', out, SECCOMP_SOURCE], { encoding: 'utf8' });
  if (r.error) return (built = { skip: `no C compiler (${cc}: ${(r.error as NodeJS.ErrnoException).code}); install one to run the hostile-environment tests` });
  if (r.status !== 0) return (built = { skip: `the seccomp helper does not build here: ${r.stderr.trim().split('\n')[0]}` });
  // A kernel without seccomp filters (or a sandbox that forbids them) cannot run these tests.
  const probe = spawnSync(out, ['eperm', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return (built = { skip: `seccomp filters are not available: ${probe.stderr.trim()}` });
  return (built = { path: out });
}
