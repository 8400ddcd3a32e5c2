// Issue 12, class 5: close(), destroy() and other operations called from user
// code (view getters, options getters, path accessors, Proxy traps, a forged
// FixedFile's index getter) while a call is being built. See
// reentrancy.cases.ts; each scenario runs in a child process on every shape.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'reentrancy.cases.js');

const scenarios: [string, string][] = [
  ['closeFromGetters', 'close() from a view/options/path getter, a Proxy trap or a forged FixedFile: the call settles once (its data, ECANCELED or ERR_*), close() resolves, no fd leaks'],
  ['destroyFromGetters', 'destroy() from the same hooks: the call settles once with a coded error or its data, nothing crashes, hangs or leaks'],
  ['nopFromGetters', 'nop() from the same hooks, the outer options\' timeout reading undefined first: the nop settles, the outer call gets its data (no timeout nobody asked for), close() resolves within a second'],
];

describe('hostile: re-entrant calls from getters', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what] of scenarios) {
      it(`${what} [${shape.name}]`, { timeout: 90_000 }, async () => { await inChild(CASES, name, shape, 30_000); });
    }
  }
});
