/**
 * The bench's publication payload and the scanner that finds it in whatever a server sends.
 *
 * A payload is a JSON string `"HFB[<channel>,<seq>,<sentAt>]xxxx..."` padded to the requested
 * size. Its marker holds only letters, digits, `[`, `,`, `.` and `]`, characters that no JSON
 * or SSE envelope escapes, so the scanner finds it in any server's framing (a WebSocket
 * frame, an SSE chunk, a long-poll answer holding many messages, a payload encoded twice)
 * without parsing that framing. Pure: tested with strings.
 */
export const MARKER = 'HFB[';

/** The publication's text (without JSON quotes), `size` bytes long when size allows. */
export function payloadText(channel: number, seq: number, sentAt: number, size: number): string {
  const head = MARKER + channel + ',' + seq + ',' + sentAt.toFixed(3) + ']';
  return size > head.length ? head + 'x'.repeat(size - head.length) : head;
}

/** The publication as a JSON value (a string), ready for a request body. */
export function payloadJson(channel: number, seq: number, sentAt: number, size: number): string {
  // Two bytes of the requested size go to the quotes.
  return '"' + payloadText(channel, seq, sentAt, size - 2) + '"';
}

/** Called for each marker found: channel index, sequence number, send time (ms). */
export type OnMarker = (channel: number, seq: number, sentAt: number) => void;

/**
 * Finds every complete marker in `text` from `from`, calls `onMarker` for each, and returns the
 * index where an incomplete marker starts (the caller keeps that tail for the next chunk), or
 * -1 when nothing is left over.
 */
export function scanMarkers(text: string, onMarker: OnMarker, from = 0): number {
  let i = text.indexOf(MARKER, from);
  while (i !== -1) {
    const start = i;
    let p = i + MARKER.length;
    const n = text.length;
    let channel = 0;
    let seq = 0;
    let sentAt = 0;
    let ok = false;
    // channel
    let digits = 0;
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c < 48 || c > 57) break;
      channel = channel * 10 + (c - 48);
      p++;
      digits++;
    }
    if (p >= n) return start;
    if (digits > 0 && text.charCodeAt(p) === 44) {
      p++;
      digits = 0;
      while (p < n) {
        const c = text.charCodeAt(p);
        if (c < 48 || c > 57) break;
        seq = seq * 10 + (c - 48);
        p++;
        digits++;
      }
      if (p >= n) return start;
      if (digits > 0 && text.charCodeAt(p) === 44) {
        p++;
        const s = p;
        while (p < n) {
          const c = text.charCodeAt(p);
          if ((c < 48 || c > 57) && c !== 46) break;
          p++;
        }
        if (p >= n) return start;
        if (p > s && text.charCodeAt(p) === 93) {
          sentAt = Number(text.slice(s, p));
          ok = Number.isFinite(sentAt) && seq > 0;
        }
      }
    }
    if (ok) onMarker(channel, seq, sentAt);
    i = text.indexOf(MARKER, p);
  }
  // A chunk may end inside "HFB[": keep up to 3 trailing characters that could start it.
  const n = text.length;
  for (let k = Math.min(MARKER.length - 1, n); k > 0; k--) {
    if (MARKER.startsWith(text.slice(n - k))) return n - k;
  }
  return -1;
}
