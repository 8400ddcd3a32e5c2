// A small HTTP/1.1 responder on uring/net: keep-alive, pipelining, GET and
// HEAD without bodies. `node dist/examples/http-hello.js [port]`, then
// `curl http://127.0.0.1:8000/`. Stop it with Ctrl-C.
import { createServer, Socket } from '../src/net/index';

const port = Number(process.argv[2] ?? 8000);
const BODY = 'Hello, world!\n';
const HEAD_END = Buffer.from('\r\n\r\n');

function response(keepAlive: boolean): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\n`
    + `Date: ${new Date().toUTCString()}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n${BODY}`;
}

function serve(socket: Socket): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (let end = pending.indexOf(HEAD_END); end >= 0; end = pending.indexOf(HEAD_END)) {
      const head = pending.subarray(0, end).toString('latin1');
      pending = pending.subarray(end + 4);
      const keepAlive = !/\r\nconnection:\s*close/i.test(head);
      socket.write(response(keepAlive));
      if (!keepAlive) { socket.end(); return; }
    }
    if (pending.length > 64 * 1024) socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
  });
  socket.on('error', () => socket.destroy());
}

const server = createServer(serve);
server.listen(port, '127.0.0.1', () => console.log('listening on', server.address()));
process.once('SIGINT', () => server.close(() => console.log('closed')));
