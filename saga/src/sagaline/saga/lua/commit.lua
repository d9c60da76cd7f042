-- One saga transition, atomically: compare-and-set the state on its version, move the saga between
-- status indexes, append the outgoing messages to the bucket's outbox (leased to the committer so
-- only a crash hands them to the recovery relay), and set or clear the saga's one timer.
--
-- KEYS: 1 saga hash, 2 outbox hash, 3 outbox lease zset, 4 timers zset, 5 timer tokens hash,
--       6 old status index, 7 new status index, 8 all-sagas index
-- ARGV: 1 saga_id, 2 expected version, 3 new version, 4 state json, 5 status, 6 workflow,
--       7 created ms, 8 lease-until ms, 9 timer action (set|clear|keep), 10 timer due ms,
--       11 timer token, 12 outbox count, then (entry id, entry json) pairs
local stored = redis.call('HGET', KEYS[1], 'version')
local expected = tonumber(ARGV[2])
if (not stored and expected ~= 0) or (stored and tonumber(stored) ~= expected) then
  return {0, stored or '-1'}
end
local saga_id = ARGV[1]
redis.call('HSET', KEYS[1], 'version', ARGV[3], 'state', ARGV[4], 'status', ARGV[5], 'workflow', ARGV[6])
if stored then
  redis.call('ZREM', KEYS[6], saga_id)
end
redis.call('ZADD', KEYS[7], ARGV[7], saga_id)
redis.call('ZADD', KEYS[8], ARGV[7], saga_id)
local count = tonumber(ARGV[12])
for i = 0, count - 1 do
  local id = ARGV[13 + 2 * i]
  redis.call('HSET', KEYS[2], id, ARGV[14 + 2 * i])
  redis.call('ZADD', KEYS[3], ARGV[8], id)
end
if ARGV[9] == 'set' then
  redis.call('ZADD', KEYS[4], ARGV[10], saga_id)
  redis.call('HSET', KEYS[5], saga_id, ARGV[11])
elseif ARGV[9] == 'clear' then
  redis.call('ZREM', KEYS[4], saga_id)
  redis.call('HDEL', KEYS[5], saga_id)
end
return {1, ARGV[3]}
