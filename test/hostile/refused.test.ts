// Issue 12, class 3: user code that throws while a call is being built. A
// call returns a promise, and a refused call leaves no trace (no replayed
// SQE, no pending request, no fd, no directory made, no file removed). See
// refused.cases.ts; each scenario runs in a child process on every ring shape.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'refused.cases.js');

const scenarios: [string, string][] = [
  ['refusedCallDoesNotReplayUnlink', 'after unlinkat(A) and re-creating A, a read whose byteLength getter throws on its second read is refused without running unlinkat(A) again'],
  ['viewGetterThrows', 'read/write with a view whose byteLength, byteOffset or buffer getter throws on read 1, 2 or 3: a promise, and a refusal leaves no SQE, request, CQE or fd behind'],
  ['pathGetterThrows', 'openat (20 times), mkdirat and unlinkat with a path whose buffer/byteLength/byteOffset/length accessor throws: no fd leaks, no directory made, no file removed'],
  ['optionGetterThrows', 'openat/mkdirat/unlinkat/read/statx/renameat with an options getter (dirfd, flags, mask, signal, timeout, oldDirfd, newDirfd) throwing on read 1, 2 or 3: rejected calls leave no trace, resolved ones did what was asked'],
];

describe('hostile: refused calls leave no trace', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what] of scenarios) {
      it(`${what} [${shape.name}]`, { timeout: 90_000 }, async () => { await inChild(CASES, name, shape); });
    }
  }
  it('uring/fs: mkdir/writeFile/appendFile/readFile with throwing option getters and open with a throwing path accessor return rejected promises and leave no directory, file or fd', { timeout: 90_000 }, async () => {
    await inChild(CASES, 'fsOptionGetterThrows', { name: 'uring/fs', options: {} });
  });
});
