import { readFileSync } from 'node:fs';

/**
 * The Lua scripts, read once at start. tsc copies no .lua into dist/, so from the compiled
 * dist/src/engines/redis/scripts.js they are read in the source tree (src/engines/redis/);
 * a .lua file beside the module (a bundled install) is taken first.
 */
function load(name: string): string {
  const beside = new URL(`./${name}`, import.meta.url);
  const source = new URL(`../../../../src/engines/redis/${name}`, import.meta.url);
  try {
    return readFileSync(beside, 'utf8');
  } catch {
    return readFileSync(source, 'utf8');
  }
}

export interface RedisScripts {
  publish: string;
  read: string;
}

let cached: RedisScripts | null = null;

export function loadScripts(): RedisScripts {
  if (cached === null) {
    const common = load('common.lua');
    cached = { publish: `${common}\n${load('publish.lua')}`, read: `${common}\n${load('read.lua')}` };
  }
  return cached;
}

export interface PresenceScripts {
  join: string;
  leave: string;
  heartbeat: string;
  reap: string;
}

let presence: PresenceScripts | null = null;

/** The presence scripts (presence.ts), each with presence-common.lua before it. */
export function loadPresenceScripts(): PresenceScripts {
  if (presence === null) {
    const common = load('presence-common.lua');
    const with_ = (name: string): string => `${common}\n${load(name)}`;
    presence = {
      join: with_('presence-join.lua'),
      leave: with_('presence-leave.lua'),
      heartbeat: with_('presence-heartbeat.lua'),
      reap: with_('presence-reap.lua'),
    };
  }
  return presence;
}
