/**
 * The floor for bench/memory/idle.ts: a bare node:net server that holds each socket and answers
 * its first bytes with `"ok":true` (enough for every client kind of clients.ts to count it ready).
 * What Node itself costs per idle TCP connection, before any protocol.
 *
 * Usage: node dist/bench/memory/raw-reference.js [port=0]   (prints "listening <port>")
 */
import { createServer, type Socket } from 'node:net';

const OK = Buffer.from('"ok":true event: subscribed\n');
const sockets = new Set<Socket>();

function onFirstData(this: Socket): void {
  this.write(OK);
}
function onClose(this: Socket): void {
  sockets.delete(this);
}

const server = createServer((s) => {
  sockets.add(s);
  s.once('data', onFirstData);
  s.on('close', onClose);
  s.on('error', onClose);
});
server.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1', backlog: 4096 }, () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'string' || addr === null ? addr : addr.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
