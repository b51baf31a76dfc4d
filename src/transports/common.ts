import type { Config } from '../config/config.js';
import { isValidChannel } from '../contract/channel.js';
import { HoldfastError } from '../contract/codes.js';

/** `?channel=a&channel=b` (also `channel=a,b`), validated, de-duplicated, order kept. */
export function parseChannels(params: URLSearchParams, config: Config): string[] {
  const out: string[] = [];
  for (const value of params.getAll('channel')) {
    for (const name of value.split(',')) {
      if (!isValidChannel(name, config.maxChannelLength)) {
        throw new HoldfastError(
          'invalid_channel',
          `Channel name not valid: ${JSON.stringify((name as string).slice(0, 64))}.`,
        );
      }
      if (!out.includes(name)) out.push(name);
    }
  }
  if (out.length === 0) throw new HoldfastError('bad_request', 'Give at least one ?channel=.');
  if (out.length > config.maxChannelsPerConnection) throw new HoldfastError('too_many_channels');
  return out;
}
