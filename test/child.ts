// Runs a small script in a child Node process under a watchdog, for tests
// that could hang (lifecycle) or must change process state (credentials,
// environment). The script gets `uring` bound to the built library.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The watchdog had to kill the child. */
  hung: boolean;
  ms: number;
}

/** Runs `body` (CommonJS, with `uring` in scope) in a child; kills it after `watchdogMs`. */
export function runChild(body: string, watchdogMs = 10_000, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'uring-child-'));
  const file = join(dir, 'child.js');
  const lib = JSON.stringify(join(__dirname, '..', 'src', 'index.js'));
  writeFileSync(file, `'use strict';\nconst uring = require(${lib});\n${body}\n`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', file], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let hung = false;
    const dog = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, watchdogMs);
    child.on('close', (code, signal) => {
      clearTimeout(dog);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr, hung, ms: performance.now() - t0 });
    });
  });
}
