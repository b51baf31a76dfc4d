-- Reads a channel's position and the publications after a position (HistoryStore.read). Writes
-- nothing for a channel without publications (engines/empty.ts).
-- KEYS: meta, stream. ARGV: [1] since epoch ('' for none), [2] since offset, [3] limit,
-- [4] history ttl ms, [5] meta ttl ms, [6] when `since` is an empty position this Redis gave
-- out: its time (ms), else ''.
-- Returns {epoch, offset, continued, now, then offset, time, data for each publication, oldest
-- first}; epoch is '' when the channel has no publication, continued is '1' when `since` was
-- read as (epoch, since offset).
local now = now_ms()
local meta = redis.call('HMGET', KEYS[1], 'e', 'o', 'b')
local epoch = meta[1]
if not epoch then return {'', '0', '0', string.format('%d', now)} end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local offset = tonumber(meta[2])
trim_age(KEYS[2], now - tonumber(ARGV[4]))
local since_epoch = ARGV[1]
local since = tonumber(ARGV[2])
local continued = '0'
-- An empty position continues into this epoch when it was born at or after it and sooner than
-- the meta ttl after it (see engines/empty.ts `continues`).
local born = tonumber(meta[3])
if ARGV[6] ~= '' and born then
  local t = tonumber(ARGV[6])
  if born >= t and born - t < tonumber(ARGV[5]) then
    since_epoch = epoch
    continued = '1'
  end
end
local out = {epoch, string.format('%d', offset), continued, string.format('%d', now)}
local limit = tonumber(ARGV[3])
if since_epoch == epoch and since < offset and limit > 0 then
  local entries = redis.call('XRANGE', KEYS[2], string.format('%d-0', since + 1), '+', 'COUNT', limit)
  for i = 1, #entries do
    local e = entries[i]
    out[#out + 1] = string.match(e[1], '^(%d+)')
    out[#out + 1] = e[2][2]
    out[#out + 1] = e[2][4]
  end
end
return out
