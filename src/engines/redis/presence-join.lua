-- Joins a member. ARGV: prefix, node, channel, client, user, member JSON.
-- Returns 1 (joined, join event sent), 0 (already a member: nothing changes, no event; a member
-- tagged with another node, this process's id before it was reaped, is tagged with this one),
-- or -1 (this node is not registered: it was reaped or Redis lost its data; nothing is written,
-- the node takes a new id and joins again).
local prefix, node, channel, client, user, json = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if not redis.call('ZSCORE', prefix .. ':pn', node) then return -1 end
local key = prefix .. ':{' .. channel .. '}:pm'
local v = redis.call('HGET', key, client)
if v then
  local owner = string.sub(v, 1, string.find(v, '|', 1, true) - 1)
  if owner ~= node then
    redis.call('HSET', key, client, node .. '|' .. string.sub(v, #owner + 2))
    redis.call('SREM', prefix .. ':pn:' .. owner, client .. '|' .. channel)
    redis.call('SADD', prefix .. ':pn:' .. node, client .. '|' .. channel)
  end
  return 0
end
redis.call('HSET', key, client, node .. '|' .. json)
redis.call('HINCRBY', prefix .. ':{' .. channel .. '}:pu', user, 1)
redis.call('SADD', prefix .. ':pn:' .. node, client .. '|' .. channel)
redis.call('ZINCRBY', prefix .. ':pc', 1, channel)
redis.call('PUBLISH', prefix .. ':p:' .. channel, 'p1|join|' .. json)
return 1
