-- Reaps nodes past their deadline (P:pn: each node's last heartbeat plus its own timeout, so a
-- node with a shorter timeout never reaps one heartbeating at a longer interval): each is taken
-- out of the registry (P:pn) into the reaping set (P:pr) by one script run, so one reaper wins;
-- then up to ARGV[3] of the reaping nodes' members are removed per run, with leave events (a
-- short script even for a node with many members; any node's next run goes on). ARGV: prefix, (unused), batch.
-- Returns {members removed, members left to remove}.
local prefix, batch = ARGV[1], tonumber(ARGV[3])
local nodes, reaping = prefix .. ':pn', prefix .. ':pr'
local dead = redis.call('ZRANGEBYSCORE', nodes, '-inf', string.format('(%d', now_ms()))
for _, node in ipairs(dead) do
  redis.call('ZREM', nodes, node)
  redis.call('SADD', reaping, node)
end
local removed, budget = 0, batch
for _, node in ipairs(redis.call('SMEMBERS', reaping)) do
  local index = prefix .. ':pn:' .. node
  if budget > 0 then
    local entries = redis.call('SPOP', index, budget)
    budget = budget - #entries
    for _, e in ipairs(entries) do
      local bar = string.find(e, '|', 1, true)
      removed = removed + remove_member(prefix, string.sub(e, bar + 1), string.sub(e, 1, bar - 1), node)
    end
  end
  if redis.call('SCARD', index) == 0 then redis.call('SREM', reaping, node) end
end
local left = 0
for _, node in ipairs(redis.call('SMEMBERS', reaping)) do
  left = left + redis.call('SCARD', prefix .. ':pn:' .. node)
end
return {removed, left}
