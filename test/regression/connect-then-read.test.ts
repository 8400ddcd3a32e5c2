// A client that attaches its reader right after connect() (before the
// connection is made) must receive: stream.Readable asks once (_read) and
// not again while that read is outstanding. The server runs in another
// process, so the connect never completes before the reader is attached.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from '../../src/net/index';

const SERVER = `
const net = require('node:net');
const srv = net.createServer((c) => { c.end('hello from server\\n'); srv.close(); });
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
`;

it('a socket read from right after connect() receives the data and the end', { timeout: 10000 }, async () => {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    // Connect and read from inside the event that gives the port, as a plain callback program would.
    const received = new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (line: Buffer) => {
        const s = connect(Number(line.toString().trim()), '127.0.0.1');
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('error', reject);
        s.on('end', () => { resolve(Buffer.concat(chunks).toString()); s.destroy(); });
      });
    });
    assert.equal(await received, 'hello from server\n');
  } finally {
    child.kill();
  }
});
