import WebSocket, { type RawData } from 'ws';
import { fill } from '../options.js';
import { BenchClient, lastSub, type Pool, resetLastSub } from '../pool.js';

/**
 * A WebSocket client (`ws`, about 6 KB per idle connection). Holdfast protocol: subscribes to
 * its two channels with ids 1 and 2 and, after a reconnect, resumes each from the last
 * (epoch, offset) it saw. Generic protocol: sends the configured frames (if any) after open.
 * Listeners are module-level functions; the socket finds its client through one WeakMap.
 */
export class WsClient extends BenchClient {
  ws: WebSocket | null = null;
  epochs: string[] = ['', ''];
  offsets: number[] = [-1, -1];

  constructor(pool: Pool, local: number, channel: number, source: string) {
    super(pool, local, channel, source);
  }

  connect(): void {
    this.beginConnect();
    const plan = this.pool.plan;
    const url = fill(plan.wsUrl, {
      channel: encodeURIComponent(plan.channelNames[this.channel]!),
      broadcast: encodeURIComponent(plan.channelNames[plan.channels]!),
    });
    const opts: WebSocket.ClientOptions = { perMessageDeflate: false, handshakeTimeout: 15_000 };
    if (this.source !== '') opts.localAddress = this.source;
    const ws = new WebSocket(url, opts);
    this.ws = ws;
    owners.set(ws, this);
    ws.on('open', onOpen);
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
    ws.on('unexpected-response', onUnexpected);
  }

  close(): void {
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) ws.terminate();
  }

  subscribe(): void {
    const plan = this.pool.plan;
    const tmpl = plan.subscribeMessage;
    if (tmpl === '') {
      this.confirmed(this.local * 2);
      this.confirmed(this.local * 2 + 1);
      return;
    }
    const names = [plan.channelNames[this.channel]!, plan.channelNames[plan.channels]!];
    for (let k = 0; k < 2; k++) {
      let frame = fill(tmpl, { channel: names[k]!, id: String(k + 1) });
      if (plan.protocol === 'holdfast' && this.offsets[k]! >= 0) {
        frame =
          frame.slice(0, -1) +
          `,"since":{"epoch":${JSON.stringify(this.epochs[k])},"offset":${this.offsets[k]}}}`;
      }
      this.ws?.send(frame);
    }
    // Generic servers do not acknowledge: the subscription counts from now.
    if (plan.protocol === 'generic') {
      this.confirmed(this.local * 2);
      this.confirmed(this.local * 2 + 1);
    }
  }

  onText(text: string): void {
    if (this.pool.plan.protocol === 'generic' || text.startsWith('{"op":"message"')) {
      resetLastSub();
      this.scan(text);
      if (lastSub >= 0 && this.pool.plan.protocol === 'holdfast') {
        const at = text.indexOf('"offset":');
        if (at !== -1) {
          const off = Number.parseInt(text.slice(at + 9, at + 26), 10);
          const k = lastSub & 1;
          if (off > this.offsets[k]!) this.offsets[k] = off;
        }
      }
      return;
    }
    let reply: { id?: unknown; ok?: boolean; epoch?: string; offset?: number; recovered?: boolean };
    try {
      reply = JSON.parse(text);
    } catch {
      this.pool.errors++;
      return;
    }
    const k: number = reply.id === 1 ? 0 : reply.id === 2 ? 1 : -1;
    if (k < 0) {
      if (this.scan(text) === -1 && text.includes('"error"')) this.pool.errors++;
      return;
    }
    if (reply.ok !== true) {
      this.pool.errors++;
      return;
    }
    if (reply.recovered === false) this.pool.recoveryFailures++;
    if (typeof reply.epoch === 'string' && reply.epoch !== this.epochs[k]) {
      this.epochs[k] = reply.epoch;
      this.offsets[k] = typeof reply.offset === 'number' ? reply.offset : -1;
    } else if (this.offsets[k]! < 0 && typeof reply.offset === 'number') {
      this.offsets[k] = reply.offset;
    }
    this.confirmed(this.local * 2 + k);
  }
}

const owners = new WeakMap<WebSocket, WsClient>();

function onOpen(this: WebSocket): void {
  const c = owners.get(this);
  if (c === undefined) return;
  c.opened();
  c.subscribe();
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const c = owners.get(this);
  if (c === undefined) return;
  c.onText(isBinary ? data.toString('latin1') : data.toString());
}

function onClose(this: WebSocket): void {
  const c = owners.get(this);
  if (c === undefined || c.ws !== this) return;
  c.ws = null;
  c.lost(false);
}

function onError(this: WebSocket): void {
  // 'close' follows every error and does the accounting.
}

function onUnexpected(this: WebSocket, _req: unknown, res: { statusCode?: number; resume(): void }): void {
  res.resume();
  this.terminate();
}
