let text = '';
let until = 0;

/**
 * The value of a response's Date header for the routes that write their own heads, made once a
 * second (as node:http does) rather than once per response.
 */
export function httpDate(): string {
  const now = Date.now();
  if (now >= until) {
    text = new Date(now).toUTCString();
    until = now - (now % 1000) + 1000;
  }
  return text;
}
