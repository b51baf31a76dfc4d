/**
 * Channel names: ASCII letters, digits and `_ - = @ , . ; : # /`, so that namespaces
 * (`chat:room1`), user channels (`#42`, `feed#42`) and Pusher names (`private-x`, `presence-y`)
 * all fit. Length is capped by configuration (default 255).
 */
const CHANNEL_CHARS = /^[A-Za-z0-9_\-=@,.;:#/]+$/;

export function isValidChannel(name: unknown, maxLength: number): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= maxLength && CHANNEL_CHARS.test(name);
}
