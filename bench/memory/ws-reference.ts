/**
 * The reference for bench/memory/idle.ts: a stock `ws` broadcast server as its README shows it,
 * with no Holdfast code. A Set of clients; a subscribe frame gets `{"id":..,"ok":true}`; SIGUSR1
 * broadcasts one 64-byte message to every client (the broadcast loop).
 *
 * Usage: node dist/bench/memory/ws-reference.js [port=0]   (prints "listening <port>")
 */
import { WebSocketServer } from 'ws';

const clients = new Set<import('ws').WebSocket>();
const wss = new WebSocketServer({
  port: Number(process.argv[2] ?? 0),
  host: '127.0.0.1',
  backlog: 4096,
  perMessageDeflate: false,
  clientTracking: false,
});

wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number };
    ws.send(JSON.stringify({ id: msg.id, ok: true }));
  });
  ws.on('close', () => clients.delete(ws));
});

const MESSAGE = JSON.stringify({ op: 'message', data: 'x'.repeat(40) });
process.on('SIGUSR1', () => {
  for (const ws of clients) ws.send(MESSAGE);
});
process.on('SIGTERM', () => process.exit(0));

wss.on('listening', () => {
  const addr = wss.address();
  process.stdout.write(`listening ${typeof addr === 'string' || addr === null ? addr : addr.port}\n`);
});
