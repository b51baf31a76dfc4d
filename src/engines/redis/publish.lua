-- Assigns the channel's next offset, stores the publication and publishes it, atomically, so
-- offsets stay consecutive whatever the number of publishers and servers.
-- KEYS: meta, stream. ARGV: [1] epoch if new, [2] data, [3] history size, [4] history ttl ms
-- (both the channel's namespace's), [5] meta ttl ms, [6] pub/sub channel, [7] sender id.
-- Returns {epoch, offset, time}. The pub/sub message is `1|sender|epoch|offset|time|data`
-- (wire version 1; see wire.ts).
local now = now_ms()
-- A missing meta hash (never published, expired, or lost with Redis) starts a new epoch, born
-- now, at offset 0, and drops any stream left from the old one.
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0, 'b', now)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local size = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
if size > 0 then
  local id = string.format('%d-0', offset)
  redis.call('XADD', KEYS[2], 'MAXLEN', size, id, 't', now, 'd', ARGV[2])
  trim_age(KEYS[2], now - ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  -- Keeps nothing: drops what a configuration with history left (a no-op when there is none).
  redis.call('DEL', KEYS[2])
end
local t = string.format('%d', now)
local o = string.format('%d', offset)
redis.call('PUBLISH', ARGV[6], '1|' .. ARGV[7] .. '|' .. epoch .. '|' .. o .. '|' .. t .. '|' .. ARGV[2])
return {epoch, o, t}
