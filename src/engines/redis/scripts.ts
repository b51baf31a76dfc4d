import { readFileSync } from 'node:fs';

/**
 * The Lua scripts, read once at start from the .lua files beside this module (the build copies
 * them next to the compiled .js; from a source checkout they are read from src/).
 */
function load(name: string): string {
  const here = new URL(`./${name}`, import.meta.url);
  try {
    return readFileSync(here, 'utf8');
  } catch {
    return readFileSync(new URL(`../../../../src/engines/redis/${name}`, import.meta.url), 'utf8');
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
    cached = { publish: common + '\n' + load('publish.lua'), read: common + '\n' + load('read.lua') };
  }
  return cached;
}
