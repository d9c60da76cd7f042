-- Drop a fired timer, but only if the saga has not set a newer one meanwhile.
-- KEYS: 1 timers zset, 2 timer tokens hash      ARGV: 1 saga_id, 2 token that fired
if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
