/**
 * The reference for the 100,000-client runs: a stock `ws` broadcast server the way its README
 * and node:cluster's documentation put one together, with no Holdfast code. Node 20 has no
 * reusePort, so past one process's 20,000 open files it takes node:cluster workers; `ws` has no
 * cross-process broadcast, so a publication taken by one worker goes to the primary over IPC
 * and from there to every worker, which sends it to each of its clients (`ws.send` per client:
 * `ws` builds a frame per send).
 *
 *   POST /pub   body = the message text, sent to every connected client
 *   GET  /      WebSocket upgrade (any path); client frames are ignored
 *
 * Load it with `holdfast bench --protocol generic --ws-url '{ws}/' --subscribe-message ''
 * --publish-url '{url}/pub' --publish-body '{text}' --publish-header 'Content-Type: text/plain'
 * --rate 0` (every publication goes to every client, so only the broadcast channel is used).
 *
 * Usage: node dist/bench/ws-cluster-reference.js [--port 0] [--workers 7]
 * Prints "listening <port>" once every worker listens; SIGTERM ends it.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { options } from './serve-proc.js';

interface Broadcast {
  text: string;
}

const values = options({ port: '0', workers: '7' });

if (cluster.isPrimary) {
  const workers = Number(values.workers);
  let listening = 0;
  cluster.on('listening', (_w, address) => {
    if (++listening === workers) process.stdout.write(`listening ${address.port}\n`);
  });
  cluster.on('message', (_from, msg: Broadcast) => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send(msg);
  });
  cluster.on('exit', (w, code, signal) => {
    process.stderr.write(`worker ${w.process.pid} exited (${signal ?? code})\n`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const clients = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const http = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/pub') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      process.send?.({ text: Buffer.concat(chunks).toString('utf8') } satisfies Broadcast);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      clients.add(ws);
      ws.on('close', () => clients.delete(ws));
      ws.on('error', () => ws.terminate());
    });
  });
  process.on('message', (msg: Broadcast) => {
    for (const ws of clients) if (ws.readyState === WebSocket.OPEN) ws.send(msg.text);
  });
  process.on('SIGTERM', () => process.exit(0));
  http.listen({ port: Number(values.port), host: '127.0.0.1', backlog: 4096 });
}
