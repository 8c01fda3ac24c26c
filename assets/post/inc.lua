redis.call('INCR', 'a')
local result = result + 1
redis.call('INCR', 'b')
