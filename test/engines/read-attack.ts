import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import type { HoldfastServer } from '../../src/server/server.js';

/**
 * Issue 13, point 1, as an attacker plays it: clients name many channels that were never
 * published (an SSE request may name 128; a WebSocket client subscribes, with or without a
 * position), wait until every one is followed, and leave. Whatever the engine keeps for those
 * names afterwards is what the attack costs the server.
 */
export interface ReadAttack {
  /** SSE requests, each naming `perRequest` channels. */
  sse: number;
  perRequest: number;
  /** WebSocket clients, each subscribing `perClient` channels (half with a made-up position). */
  ws: number;
  perClient: number;
}

let run = 0;

/** Runs the attack against `server` at `base`; resolves once its sessions are all gone. */
export async function readNeverPublished(
  server: HoldfastServer,
  base: string,
  a: ReadAttack,
): Promise<number> {
  run++;
  const tag = `never:${process.pid}-${run}-${Math.random().toString(36).slice(2, 8)}`;
  let names = 0;
  const name = (): string => `${tag}:${names++}`;
  const streams: Promise<void>[] = [];
  for (let i = 0; i < a.sse; i++) {
    const channels = Array.from({ length: a.perRequest }, name);
    streams.push(sseFollow(base, channels));
  }
  for (let i = 0; i < a.ws; i++) {
    const channels = Array.from({ length: a.perClient }, name);
    streams.push(wsFollow(base.replace('http:', 'ws:') + '/ws', channels));
  }
  await Promise.all(streams);
  const end = Date.now() + 10_000;
  while (server.node.sessionCount > 0) {
    assert.ok(Date.now() < end, 'the server closed every session of the clients that left');
    await new Promise((r) => setTimeout(r, 10));
  }
  return names;
}

/** One SSE request: resolves after every channel's `subscribed` event, having left. */
function sseFollow(base: string, channels: string[]): Promise<void> {
  const query = channels.map((c) => `channel=${encodeURIComponent(c)}`).join('&');
  return new Promise((resolve, reject) => {
    const req = request(`${base}/sse?${query}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let seen = 0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        let at = text.indexOf('event: subscribed\n');
        while (at >= 0) {
          seen++;
          text = text.slice(at + 1);
          at = text.indexOf('event: subscribed\n');
        }
        if (seen === channels.length) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}

/** One WebSocket client: subscribes to every channel with a made-up position, then leaves. */
function wsFollow(url: string, channels: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let answered = 0;
    ws.on('open', () => {
      channels.forEach((channel, i) => {
        const since = i % 2 === 0 ? { epoch: 'k3j9x2ab', offset: 41 } : undefined;
        ws.send(JSON.stringify({ id: i + 1, op: 'subscribe', channel, since }));
      });
    });
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as { id?: number; ok?: boolean };
      if (m.id === undefined) return;
      if (m.ok !== true) reject(new Error(`subscribe refused: ${raw.toString()}`));
      if (++answered === channels.length) {
        ws.terminate();
        resolve();
      }
    });
    ws.on('error', reject);
  });
}
