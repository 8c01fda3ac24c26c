redis.call('SET', 'a', '42')
redis.call('SET', 'b', '42')
