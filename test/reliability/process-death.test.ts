// Process death: a process that dies with I/O in flight releases what its
// rings held, and a process that exits with operations pending exits at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fstatSync, readFileSync, readlinkSync, readdirSync, writeSync } from 'node:fs';
import { native } from '../../src/native';
import { allShapes } from '../helpers';

const child = require.resolve('../fixtures/process-death-child');

function writeUntilEpipe(fd: number, deadlineMs: number): Promise<{ epipe: boolean; ms: number; error?: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const tryOnce = (): void => {
      try {
        writeSync(fd, Buffer.from('x'));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        resolve({ epipe: code === 'EPIPE', ms: Date.now() - t0, error: code });
        return;
      }
      if (Date.now() - t0 > deadlineMs) resolve({ epipe: false, ms: Date.now() - t0 });
      else setTimeout(tryOnce, 5);
    };
    tryOnce();
  });
}

describe('process death', () => {
  it('a child killed by SIGKILL with a fixed read in flight releases the registered pipe (the writer sees EPIPE)', async () => {
    const n = native();
    const [r, w] = n.pipe() as [number, number];
    const ino = fstatSync(w).ino;
    const proc = spawn(process.execPath, [child, 'fixed-read'], { stdio: ['ignore', 'pipe', 'pipe', r] });
    // From here the child holds the only read end.
    n.closeFd(r);
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d) => { err += d; });
    const ringFd = await new Promise<number>((resolve, reject) => {
      const watchdog = setTimeout(() => reject(new Error(`child not ready: ${err}`)), 20000);
      proc.stdout!.on('data', (d) => {
        out += d;
        const m = /ready (\d+)/.exec(out);
        if (m) { clearTimeout(watchdog); resolve(Number(m[1])); }
      });
      proc.once('exit', (code, sig) => { clearTimeout(watchdog); reject(new Error(`child exited ${code} ${sig}: ${err}`)); });
    });
    try {
      // The kernel's view: the ring's table holds the pipe, no fd of the child does.
      const info = readFileSync(`/proc/${proc.pid}/fdinfo/${ringFd}`, 'utf8');
      assert.match(info, new RegExp(`^\\s*0: pipe:\\[${ino}\\]`, 'm'), 'slot 0 holds the pipe');
      const fds = readdirSync(`/proc/${proc.pid}/fd`).map((f) => { try { return readlinkSync(`/proc/${proc.pid}/fd/${f}`); } catch { return ''; } });
      assert.ok(!fds.includes(`pipe:[${ino}]`), 'the child has no fd for the pipe');
    } catch (e) {
      proc.kill('SIGKILL');
      throw e;
    }
    const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve(sig)));
    proc.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const res = await writeUntilEpipe(w, 5000);
    n.closeFd(w);
    assert.ok(res.epipe, `the writer saw ${res.error ?? 'no error'} after ${res.ms} ms (expected EPIPE)`);
    assert.doesNotMatch(out, /unexpected/);
  });

  for (const shape of [...allShapes().filter((s) => s.name !== 'tiny'), { name: 'worker', available: true }]) {
    const which = shape.name === 'single-issuer+defer-taskrun' ? 'defer' : shape.name;
    it(`a ${shape.name === 'worker' ? 'worker thread' : `process with a ${shape.name} ring`} that exits with 100 operations pending exits promptly`,
      { skip: !shape.available && `kernel cannot set up ${shape.name}` }, () => {
        const t0 = Date.now();
        const r = spawnSync(process.execPath, [child, 'exit-pending', which], { encoding: 'utf8', timeout: 15000 });
        const ms = Date.now() - t0;
        assert.equal(r.signal, null, `the watchdog did not have to kill it (${ms} ms): ${r.stderr}`);
        assert.equal(r.status, 0, r.stderr);
        if (which === 'worker') assert.match(r.stdout, /worker exited 0/);
      });
  }
});

