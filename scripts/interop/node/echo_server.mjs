// A Node `ws` echo server, the peer for `examples/client`.
//
//   node echo_server.mjs [--port 0]
//
// Prints `listening on ws://127.0.0.1:PORT`, then one line per connection that ended:
// `end PATH CODE REASON`. Paths behave as in python/echo_server.py:
//
//   /reject      HTTP 403 instead of the upgrade
//   /hello       first a text "hello subprotocol=P x-interop=V", then echo
//   /binary      first a 3-byte binary message, then echo
//   /ping        first a ping "server-ping"; then "pong ok" if the pong carried that
//                payload within 3 s, else "no pong"; then echo
//   /close-1001  closes at once with 1001 "going away"
//   /close-1011  closes at once with 1011 "server error"
//   anything else: echo (text as text, binary as binary)
//
// The subprotocol `chat` is chosen when offered; otherwise none.

import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const args = process.argv.slice(2);
const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 0;

const http = createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket only\n');
});
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false),
});

http.on('upgrade', (req, socket, head) => {
  if (req.url.split('?')[0] === '/reject') {
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 32\r\n\r\nforbidden by the interop server\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, req));
});

function serveConnection(ws, req) {
  const path = req.url.split('?')[0];
  ws.on('close', (code, reason) => {
    console.log(`end ${req.url} ${code} ${reason.toString()}`.trimEnd());
  });
  ws.on('error', () => {}); // reported by the close line (1006, 1002, ...)
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  if (path === '/hello') {
    ws.send(`hello subprotocol=${ws.protocol || '-'} x-interop=${req.headers['x-interop'] ?? '-'}`);
  } else if (path === '/binary') {
    ws.send(Buffer.from([0, 1, 2]), { binary: true });
  } else if (path === '/ping') {
    const timer = setTimeout(() => ws.send('no pong'), 3000);
    ws.once('pong', (data) => {
      clearTimeout(timer);
      ws.send(data.toString() === 'server-ping' ? 'pong ok' : `pong with ${JSON.stringify(data.toString())}`);
    });
    ws.ping('server-ping');
  } else if (path === '/close-1001') {
    ws.close(1001, 'going away');
  } else if (path === '/close-1011') {
    ws.close(1011, 'server error');
  }
}

http.listen(port, '127.0.0.1', () => {
  const { address, port: bound } = http.address();
  console.log(`listening on ws://${address}:${bound}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
