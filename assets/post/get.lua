local values = {}
table.insert(values, redis.call('GET', 'a'))
table.insert(values, redis.call('GET', 'b'))
return values
