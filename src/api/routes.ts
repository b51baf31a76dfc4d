import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { isValidChannel } from '../contract/channel.js';
import { HoldfastError } from '../contract/codes.js';
import { MAX_USER_LENGTH } from '../contract/identity.js';
import { presenceMember } from '../core/encode.js';
import type { Node } from '../core/node.js';
import type { ControlMessage } from '../engines/types.js';
import { sendError, sendErrorAndClose, sendJson } from '../http/json.js';
import type { KeyGate } from './auth.js';
import { readJsonBody } from './body.js';

const MAX_HISTORY_LIMIT = 10_000;
const MAX_BROADCAST_CHANNELS = 1000;

/**
 * The HTTP API (DESIGN.md "Public contract" and "Server API"): publish, broadcast, history,
 * channels, presence, and the commands on a user's connections (disconnect, subscribe,
 * unsubscribe) and info, behind X-API-Key. Every answer is JSON; every failure is `{"error": {"code", "message"}}`.
 */
export class Api {
  readonly #node: Node;
  readonly #config: Config;
  readonly #keys: KeyGate;
  readonly #info: () => Promise<unknown>;
  /** Requests being handled (a drain waits for them). */
  inFlight = 0;

  /**
   * `keys` checks X-API-Key (shared with the server's other key checks, for one throttle);
   * `info` answers GET /api/info (observe/info.ts).
   */
  constructor(node: Node, config: Config, keys: KeyGate, info: () => Promise<unknown>) {
    this.#node = node;
    this.#config = config;
    this.#keys = keys;
    this.#info = info;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.inFlight++;
    try {
      await this.#handle(req, res, url);
    } finally {
      this.inFlight--;
    }
    this.#node.stats.apiRequest(Object.hasOwn(ROUTES, url.pathname) ? url.pathname : 'other', res.statusCode);
  }

  async #handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    try {
      const route = ROUTES[url.pathname];
      if (route === undefined) throw new HoldfastError('not_found');
      if (req.method !== route.method) throw new HoldfastError('method_not_allowed', `Use ${route.method}.`);
      const refusal = this.#keys.verify(req, req.headers['x-api-key']);
      if (refusal !== null) {
        sendError(res, refusal.error, refusal.headers);
        return;
      }
      if (!this.#node.engine.ready()) throw new HoldfastError('unavailable', 'The engine is not reachable.');
      const body = route.method === 'POST' ? await readJsonBody(req, this.#config.maxBodyBytes) : undefined;
      const result = await route.run(this, body, url.searchParams);
      sendJson(res, 200, result);
    } catch (err) {
      if (err instanceof HoldfastError && err.code === 'payload_too_large') {
        // Do not read an oversized body: answer and close the connection.
        sendErrorAndClose(req, res, err);
        return;
      }
      sendError(res, err instanceof HoldfastError ? err : new HoldfastError('unavailable'));
    }
  }

  channel(value: unknown): string {
    if (!isValidChannel(value, this.#config.maxChannelLength)) {
      throw new HoldfastError('invalid_channel', '"channel" must be a valid channel name.');
    }
    return value;
  }

  async publish(body: unknown): Promise<unknown> {
    const b = object(body);
    const channel = this.channel(b['channel']);
    const data = encodeData(b);
    const pub = await this.#node.publish(channel, data);
    return { epoch: pub.epoch, offset: pub.offset };
  }

  async broadcast(body: unknown): Promise<unknown> {
    const b = object(body);
    const list = b['channels'];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BROADCAST_CHANNELS) {
      throw new HoldfastError(
        'bad_request',
        `"channels" must be a list of 1 to ${MAX_BROADCAST_CHANNELS} channel names.`,
      );
    }
    const channels = list.map((c) => this.channel(c));
    const data = encodeData(b);
    const pubs = await Promise.all(channels.map((c) => this.#node.publish(c, data)));
    return { publications: pubs.map((p) => ({ channel: p.channel, epoch: p.epoch, offset: p.offset })) };
  }

  async history(params: URLSearchParams): Promise<unknown> {
    const history = this.#node.engine.history;
    if (history === null) throw new HoldfastError('bad_request', 'This engine keeps no history.');
    const channel = this.channel(params.get('channel'));
    const since = intParam(params, 'since', 0);
    const limit = Math.min(intParam(params, 'limit', 100), MAX_HISTORY_LIMIT);
    const epochParam = params.get('epoch');
    const first = await history.read(channel, { limit: 0 });
    const epoch = epochParam ?? first.epoch;
    const res = await history.read(channel, { since: { epoch, offset: since }, limit });
    const pubs = res.publications;
    const from = res.from ?? { epoch, offset: since };
    const complete =
      from.epoch === res.epoch &&
      (from.offset >= res.offset || (pubs.length > 0 && pubs[0]!.offset === from.offset + 1));
    return {
      channel,
      epoch: res.epoch,
      offset: res.offset,
      recovered: complete,
      messages: pubs.map((p) => ({
        channel: p.channel,
        offset: p.offset,
        data: JSON.parse(p.data) as unknown,
      })),
    };
  }

  /** GET /api/presence?channel=: every member, over every node (`presence_disabled` without). */
  async presence(params: URLSearchParams): Promise<unknown> {
    const channel = this.channel(params.get('channel'));
    const members = await this.#node.presence.members(channel);
    return { channel, members: members.map(presenceMember) };
  }

  /** GET /api/presence_stats?channel=: connections and distinct users. */
  async presenceStats(params: URLSearchParams): Promise<unknown> {
    const channel = this.channel(params.get('channel'));
    const { clients, users } = await this.#node.presence.stats(channel);
    return { channel, clients, users };
  }

  /** A user id of the server API: a non-empty string of at most MAX_USER_LENGTH characters. */
  user(value: unknown): string {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_LENGTH) {
      throw new HoldfastError(
        'bad_request',
        `"user" must be a string of 1 to ${MAX_USER_LENGTH} characters.`,
      );
    }
    return value;
  }

  /**
   * POST /api/disconnect, /api/subscribe, /api/unsubscribe: `{}` once the command is handed to
   * the engine's control bus, which carries it to every worker and server (each applies it to
   * its own connections of the user: core/node.ts Node.control).
   */
  async command(t: ControlMessage['t'], body: unknown): Promise<unknown> {
    const b = object(body);
    const user = this.user(b['user']);
    let msg: ControlMessage;
    if (t === 'disconnect') msg = { t, user };
    else {
      const channel = this.channel(b['channel']);
      const table = this.#config.namespaceTable;
      if (table !== null && table.of(channel) === undefined) throw new HoldfastError('unknown_namespace');
      msg = { t, user, channel };
    }
    const bus = this.#node.engine.control;
    if (bus === null) throw new HoldfastError('unavailable', 'This engine has no control bus.');
    await bus.broadcast(msg);
    return {};
  }

  info(): Promise<unknown> {
    return this.#info();
  }

  async channels(): Promise<unknown> {
    const engine = this.#node.engine;
    const list =
      engine.clusterChannels !== undefined ? await engine.clusterChannels() : this.#node.channels();
    return { channels: list };
  }
}

interface Route {
  method: 'GET' | 'POST';
  run(api: Api, body: unknown, params: URLSearchParams): Promise<unknown> | unknown;
}

const ROUTES: Record<string, Route> = {
  '/api/publish': { method: 'POST', run: (api, body) => api.publish(body) },
  '/api/broadcast': { method: 'POST', run: (api, body) => api.broadcast(body) },
  '/api/history': { method: 'GET', run: (api, _b, params) => api.history(params) },
  '/api/channels': { method: 'GET', run: (api) => api.channels() },
  '/api/presence': { method: 'GET', run: (api, _b, params) => api.presence(params) },
  '/api/presence_stats': { method: 'GET', run: (api, _b, params) => api.presenceStats(params) },
  '/api/disconnect': { method: 'POST', run: (api, body) => api.command('disconnect', body) },
  '/api/subscribe': { method: 'POST', run: (api, body) => api.command('subscribe', body) },
  '/api/unsubscribe': { method: 'POST', run: (api, body) => api.command('unsubscribe', body) },
  '/api/info': { method: 'GET', run: (api) => api.info() },
};

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HoldfastError('bad_request', 'The body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function encodeData(b: Record<string, unknown>): string {
  if (!('data' in b) || b['data'] === undefined)
    throw new HoldfastError('bad_request', '"data" is required.');
  try {
    return JSON.stringify(b['data']);
  } catch {
    // JSON.parse takes nesting that JSON.stringify cannot give back (it runs out of stack):
    // the client's fault, not a reason to retry.
    throw new HoldfastError('bad_request', '"data" is nested too deeply.');
  }
}

function intParam(params: URLSearchParams, name: string, fallback: number): number {
  const v = params.get(name);
  if (v === null || v === '') return fallback;
  if (!/^\d{1,15}$/.test(v))
    throw new HoldfastError('bad_request', `"${name}" must be a non-negative integer.`);
  return Number(v);
}
