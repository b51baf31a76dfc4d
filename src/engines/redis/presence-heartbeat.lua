-- A node's heartbeat. ARGV: prefix, node, register ("1": the node's first heartbeat), the
-- node's presenceTimeout in ms (its deadline in P:pn is now plus that).
-- Returns 1, or 0 when the node is not registered and this is not its first heartbeat: it was
-- reaped (or Redis lost its data), so it must take a new id (its old one may still be being
-- reaped) and join its members again.
local prefix, node = ARGV[1], ARGV[2]
local nodes = prefix .. ':pn'
if ARGV[3] ~= '1' and not redis.call('ZSCORE', nodes, node) then return 0 end
redis.call('ZADD', nodes, now_ms() + tonumber(ARGV[4]), node)
return 1
