import type { IncomingMessage } from 'node:http';
import { isIP, isIPv4, isIPv6 } from 'node:net';

/** Client addresses, for the API's throttle of wrong keys and for the backend proxy's remoteAddr. */

/**
 * The IP address in `entry`, a peer or X-Forwarded-For address: `a.b.c.d`, an IPv6 address,
 * either with a port (`a.b.c.d:port`, `[v6]:port`, as some proxies write them) or `[v6]`;
 * null when it is none of these (net.isIP decides).
 */
export function bareAddress(entry: string): string | null {
  const e = entry.trim();
  if (isIP(e) !== 0) return e;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(e);
  if (v4 !== null && isIPv4(v4[1]!)) return v4[1]!;
  const v6 = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(e);
  if (v6 !== null && isIPv6(v6[1]!)) return v6[1]!;
  return null;
}

/**
 * The client's address: the peer's, or behind a trusted proxy the last X-Forwarded-For entry
 * (the one that proxy appended; entries before it were written by the client and prove nothing),
 * without its port. An entry that is not an IP address counts as the peer's (the proxy's), so no
 * spelling of one client makes it many.
 */
export function clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const list = Array.isArray(xff) ? xff.join(',') : xff;
    if (list !== undefined) {
      const last = bareAddress(list.slice(list.lastIndexOf(',') + 1));
      if (last !== null) return last;
    }
  }
  return req.socket.remoteAddress ?? '';
}
