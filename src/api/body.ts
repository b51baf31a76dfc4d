import type { IncomingMessage } from 'node:http';
import { HoldfastError } from '../contract/codes.js';

/** Reads a JSON body of at most `maxBytes`; 413 past it (without reading the rest), 400 if not JSON. */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new HoldfastError('payload_too_large', `The body is larger than ${maxBytes} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        reject(new HoldfastError('payload_too_large', `The body is larger than ${maxBytes} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks, size).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HoldfastError('invalid_json'));
      }
    });
    req.on('error', () => {
      if (!failed) reject(new HoldfastError('bad_request', 'The request body was cut off.'));
      failed = true;
    });
  });
}
