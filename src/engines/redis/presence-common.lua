-- Shared by the presence scripts (prepended when they are loaded). Keys, all under the prefix P
-- (ARGV[1] of every presence script), for a channel C and a node N:
--   P:{C}:pm  hash: client -> "<node>|<member JSON>" (every member of the channel, tagged)
--   P:{C}:pu  hash: user -> how many of the channel's members are that user's
--   P:pc      sorted set: channel -> its member count (the busiest channels)
--   P:pn      sorted set: node -> when it is dead unless it heartbeats again: its last heartbeat
--             plus its own presenceTimeout (Redis time, ms; servers may differ in timeouts)
--   P:pr      set: nodes being reaped (taken out of P:pn, members still being removed)
--   P:pn:N    set: "<client>|<channel>" of every member node N added
-- The scripts build these names themselves: they touch several channels' keys (a reap), which
-- one Redis allows and a Redis Cluster would not (Holdfast speaks to one Redis).
-- Events go on the channel's pub/sub channel P:p:C, beside its publications (wire.ts):
-- "p1|join|<member JSON>" and "p1|leave|<member JSON>".

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Removes a member of the channel when it is tagged with `node` (any node when node is false),
-- with its leave event. Returns 1 when it was removed.
local function remove_member(prefix, channel, client, node)
  local key = prefix .. ':{' .. channel .. '}:pm'
  local v = redis.call('HGET', key, client)
  if not v then return 0 end
  local bar = string.find(v, '|', 1, true)
  local owner = string.sub(v, 1, bar - 1)
  if node and owner ~= node then return 0 end
  local json = string.sub(v, bar + 1)
  redis.call('HDEL', key, client)
  local users = prefix .. ':{' .. channel .. '}:pu'
  local user = cjson.decode(json).user
  if redis.call('HINCRBY', users, user, -1) <= 0 then redis.call('HDEL', users, user) end
  redis.call('SREM', prefix .. ':pn:' .. owner, client .. '|' .. channel)
  local counts = prefix .. ':pc'
  if tonumber(redis.call('ZINCRBY', counts, -1, channel)) <= 0 then redis.call('ZREM', counts, channel) end
  redis.call('PUBLISH', prefix .. ':p:' .. channel, 'p1|leave|' .. json)
  return 1
end
