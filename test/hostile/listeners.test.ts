// Issue 12, class 6: user handlers that throw while completions are being
// delivered, with process.on('uncaughtException') keeping the process up.
// See listeners.cases.ts; each scenario runs in a child process (which
// installs the handler) on every ring shape.
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { shapes, needsOp } from '../helpers';
import { inChild } from './harness';

const CASES = join(__dirname, 'listeners.cases.js');
const noNet = needsOp('SOCKET');

const scenarios: [string, string, (string | undefined)?][] = [
  ['dataListenerThrows', 'a uring/net \'data\' listener that throws once: each of three concurrent connections receives exactly its client\'s bytes (length and sha256), the ring reads afterwards', noNet],
  ['connectionListenerThrows', 'a \'connection\' listener that throws for the first of three clients: \'connection\' fires exactly 3 times', noNet],
  ['writeCallbackThrows', 'a socket.write() callback and a \'drain\' listener that throw: every callback runs once, the peer gets every byte once and in order', noNet],
  ['promiseHandlersThrow', 'then-handlers of a read and of a chain that throw: every request of the batch settles once with its own result, the ring reads afterwards'],
];

describe('hostile: throwing listeners and handlers', { concurrency: 3 }, () => {
  for (const shape of shapes()) {
    for (const [name, what, skip] of scenarios) {
      it(`${what} [${shape.name}]`, { skip, timeout: 90_000 }, async () => { await inChild(CASES, name, shape, 30_000); });
    }
  }
});
