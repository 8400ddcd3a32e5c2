// Issue 12, class 2: views that lie about their extent (own properties,
// subclass getters, DataViews). See extents.cases.ts; each scenario runs in a
// child process, on every ring shape, because a broken library writes past
// the view and can abort the process.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'extents.cases.js');

const scenarios: [string, string][] = [
  ['readLies', 'read/readv/chain reads from /dev/urandom into views lying about byteLength, byteOffset or buffer read at most the real 32 bytes, into the real extent only'],
  ['writeLies', 'write/writev/chain writes from 6-byte views lying about byteLength, byteOffset or buffer put exactly the 6 real bytes in the file, or are refused'],
  ['bareBufferClaimsOneMiB', 'a Buffer.alloc(32) with an own byteLength of 1 MiB read from /dev/urandom: no crash, at most 32 bytes'],
  ['addressCachePoisoning', 'a lying byteOffset or buffer used once does not poison the address of its ArrayBuffer: later honest views are written and read at their own address'],
];

describe('hostile: lying views', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what] of scenarios) {
      it(`${what} [${shape.name}]`, { timeout: 90_000 }, async () => { await inChild(CASES, name, shape); });
    }
  }
  it('uring/fs: FileHandle read/readv/write/writev and writeFile with lying views read at most the real bytes and write exactly them', { timeout: 90_000 }, async () => {
    await inChild(CASES, 'fsLies', { name: 'uring/fs', options: {} });
  });
});
