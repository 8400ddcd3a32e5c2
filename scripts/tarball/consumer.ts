// A program as a user of the installed package writes it. scripts/tarball-test.sh
// compiles it with tsc three ways (ESM and CommonJS under moduleResolution
// node16, and bundler, type-check only), runs the two node16 builds, and each
// reads a file through uring/fs and through Ring and compares with node:fs.
import { readFileSync } from 'node:fs';
import * as fs from 'uring/fs';
import { Ring, constants, UringUnavailableError } from 'uring';
import type { Server, AddressInfo } from 'uring/net';

// Types from every entry point resolve; these are only checked.
export type Checked = [Server, AddressInfo, UringUnavailableError['reason']];

async function main(file: string): Promise<void> {
  const kind = typeof require === 'function' ? 'CommonJS' : 'ESM';
  const want = readFileSync(file, 'utf8');

  const text: string = await fs.readFile(file, 'utf8');
  if (text !== want) throw new Error('uring/fs readFile returned other bytes');
  if (fs.backend.kind !== 'io_uring') throw new Error(`uring/fs fell back to node:fs: ${String(fs.backend.reason)}`);

  const ring = new Ring({ entries: 8 });
  try {
    const fd = await ring.openat(file, constants.O_RDONLY | constants.O_CLOEXEC);
    const buf = Buffer.alloc(want.length + 64);
    const n: number = await ring.read(fd, buf, 0);
    await ring.closeFd(fd);
    if (buf.toString('utf8', 0, n) !== want) throw new Error('Ring read returned other bytes');
  } finally {
    await ring.close();
  }
  console.log(`${kind}: read ${want.length} bytes through uring/fs (${fs.backend.kind}) and through Ring`);
}

main(process.argv[2] ?? '').catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
