-- Claim up to N due members of a lease zset: push their score to now + lease so no other process
-- claims them until the lease runs out, and return them (with their payload from a hash).
-- Used for the outbox (payload = entry json) and for timers (payload = timer token).
--
-- KEYS: 1 lease zset, 2 payload hash      ARGV: 1 now ms, 2 lease-until ms, 3 limit
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, member in ipairs(due) do
  local payload = redis.call('HGET', KEYS[2], member)
  if payload then
    redis.call('ZADD', KEYS[1], ARGV[2], member)
    table.insert(out, member)
    table.insert(out, payload)
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
