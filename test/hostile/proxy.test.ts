// Issue 12, class 4: arrays that grow or change while the library reads them
// (a Proxy whose length changes, elements that are getters). See
// proxy.cases.ts; each scenario runs in a child process on every ring shape.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'proxy.cases.js');

const scenarios: [string, string][] = [
  ['readvProxyGrows', 'readv (and chain readv) of a Proxy whose length reads 1 then 64 reads at most the first buffer and never writes the other views'],
  ['writevProxyGrows', 'writev (and chain writev) of a Proxy whose length reads 1 then 64 writes only the first buffer\'s bytes'],
  ['readvElementGetterChanges', 'readv with an element getter answering a fresh view first and another later: the view read is kept alive, the later one untouched'],
  ['writevElementGetterChanges', 'writev with an element getter answering different views: the file holds the bytes of the view read once'],
];

describe('hostile: arrays that change under the library', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what] of scenarios) {
      it(`${what} [${shape.name}]`, { timeout: 90_000 }, async () => { await inChild(CASES, name, shape); });
    }
  }
});
