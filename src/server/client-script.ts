import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/**
 * GET /client.js: the client library as one minified ES module (scripts/build-client.mjs writes
 * dist/client/holdfast.js), read once, with its gzip made once. A long cache lifetime and an
 * ETag that is the content's hash, so a new version is fetched once its day has passed or at
 * once with a revalidation; CORS open to any origin, since a module script of another site's
 * page is fetched with CORS.
 */
const FILE = new URL('../../client/holdfast.js', import.meta.url);

export interface ClientScript {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly etag: string;
}

let loaded: ClientScript | null = null;

/** The bundle, read at the first request (the server starts without it in a tree not built). */
export function clientScript(): ClientScript | null {
  if (loaded !== null) return loaded;
  let body: Buffer;
  try {
    body = readFileSync(FILE);
  } catch {
    return null;
  }
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  loaded = { body, gzip: gzipSync(body, { level: 9 }), etag };
  return loaded;
}

const FIELDS = {
  'content-type': 'text/javascript; charset=utf-8',
  'cache-control': 'public, max-age=86400',
  'access-control-allow-origin': '*',
  vary: 'accept-encoding',
};

/** Answers GET and HEAD /client.js (304 for a matching If-None-Match; gzip when accepted). */
export function serveClientScript(req: IncomingMessage, res: ServerResponse): void {
  const script = clientScript();
  if (script === null) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The client library is not built: run npm run build.\n');
    return;
  }
  const match = req.headers['if-none-match'];
  if (
    match !== undefined &&
    (match.trim() === '*' || match.split(',').some((t) => t.trim() === script.etag))
  ) {
    res.writeHead(304, { ...FIELDS, etag: script.etag });
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = gzip ? script.gzip : script.body;
  res.writeHead(200, {
    ...FIELDS,
    etag: script.etag,
    'content-length': body.length,
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
