// An echo server on uring/net: `node dist/examples/echo-server.js [port]`,
// then `nc 127.0.0.1 7000`. Stop it with Ctrl-C.
import { createServer } from '../src/net/index';

const port = Number(process.argv[2] ?? 7000);

const server = createServer(async (socket) => {
  // Each connection's data is an async iterable; writing back is the echo.
  try {
    for await (const chunk of socket) {
      if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
    }
    socket.end();
  } catch (err) {
    console.error('connection failed:', (err as Error).message);
  }
});

server.listen(port, '127.0.0.1', () => console.log('echo server on', server.address()));
process.once('SIGINT', () => server.close(() => console.log('closed')));
