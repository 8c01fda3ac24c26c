#!/usr/bin/env python3
"""Writes engine-cases.jsonl: redstep's own engine cases (the format of
../shared/conformance, documented in tests/golden/README.md).

Each case is a list of commands written as redis-cli lines. Run
`python3 make_cases.py` after editing, then `record.py` against a real Redis.
"""
import json, shlex

def cmd(line):
    """A redis-cli-like line, or (line, {"conn":2}/{"unordered":...})."""
    if isinstance(line, tuple):
        text, extra = line
        return {"cmd": shlex.split(text), **extra}
    return shlex.split(line)

U = {"unordered": True}
P = {"unordered": "pairs"}
C2 = {"conn": 2}

CASES = {
    # ---- keys
    "k-del-multi": ["MSET a 1 b 2 c 3", "DEL a b nokey", "EXISTS a b c"],
    "k-type-all": ["SET s v", "RPUSH l a", "HSET h f v", "SADD st m", "ZADD z 1 m", "TYPE s", "TYPE l", "TYPE h", "TYPE st", "TYPE z", "TYPE nokey"],
    "k-scan-all": ["SET a 1", "SCAN 0", "SCAN 0 MATCH b*", "SCAN 0 TYPE list", "SCAN 0 TYPE string COUNT 5", "SCAN 0 COUNT 0", "SCAN x", "SCAN 0 FOO bar"],
    "k-scan-type-match": ["MSET a1 1 a2 2 b1 3", "RPUSH a3 x", ("KEYS a*", U)],
    "k-copy": ["SET a 1", "EXPIRE a 100", "COPY a b", "TTL b", "COPY a b", "COPY a b REPLACE", "COPY a a", "COPY a c DB 1", "SELECT 1", "GET c", "COPY a c DB 99", "COPY a c DB x", "COPY a c FOO"],
    "k-copy-types": ["RPUSH l a b", "HSET h f v", "SADD s 1 2", "ZADD z 1 m", "COPY l l2", "COPY h h2", "COPY s s2", "COPY z z2", "LRANGE l2 0 -1", "HGETALL h2", "SMEMBERS s2", "ZRANGE z2 0 -1 WITHSCORES"],
    "k-move": ["SET a 1", "MOVE a 1", "EXISTS a", "SELECT 1", "GET a", "MOVE a 1", "MOVE nokey 0", "MOVE a x", "MOVE a 16", "SET b 2", "SELECT 0", "SET b 0", "SELECT 1", "MOVE b 0"],
    "k-swapdb": ["SET a db0", "SELECT 1", "SET a db1", "SWAPDB 0 1", "GET a", "SELECT 0", "GET a", "SWAPDB 0 x", "SWAPDB x 0", "SWAPDB 0 16"],
    "k-select-errors": ["SELECT 16", "SELECT -1", "SELECT x", "SELECT 1.5"],
    "k-flush-args": ["SET a 1", "FLUSHDB ASYNC", "DBSIZE", "SET a 1", "FLUSHALL SYNC", "FLUSHALL FOO", "FLUSHDB SYNC ASYNC"],
    "k-expire-gt-lt": ["SET k v", "EXPIRE k 100 GT", "EXPIRE k 100 LT", "TTL k", "EXPIRE k 50 GT", "EXPIRE k 200 GT", "TTL k", "EXPIRE k 300 LT", "EXPIRE k 10 LT", "TTL k", "EXPIRE k 20 XX GT", "TTL k"],
    "k-expire-errors": ["SET k v", "EXPIRE k x", "EXPIRE k 9223372036854775807", "PEXPIRE k 9223372036854775807", "EXPIRE nokey 10", "EXPIRE k 10 nx xx", "EXPIRE k"],
    "k-persist": ["SET k v EX 100", "PERSIST k", "TTL k", "PERSIST k", "PERSIST nokey"],
    "k-expiretime": ["SET k v", "EXPIRETIME k", "EXPIRETIME nokey", "PEXPIRETIME k", "PEXPIREAT k 4102444800123", "EXPIRETIME k", "PEXPIRETIME k"],
    "k-expireat-options": ["SET k v", "EXPIREAT k 4102444800 NX", "EXPIREAT k 4102444801 NX", "EXPIRETIME k", "PEXPIREAT k 4102444800000 LT", "EXPIRETIME k"],
    "k-rename-overwrite": ["SET a 1", "RPUSH b x", "RENAME a b", "TYPE b", "GET b", "RENAMENX b b", "RENAME b b"],
    "k-keys-escape": ["MSET a*b 1 axb 2 a?b 3", ("KEYS a\\*b", U), ("KEYS a[*]b", U), ("KEYS *", U), ("KEYS a[^x]b", U)],
    "k-touch-missing": ["TOUCH nokey", "UNLINK nokey"],
    "k-sort-by-get": ["RPUSH l 3 1 2", "MSET w_1 30 w_2 10 w_3 20 o_1 one o_2 two o_3 three", "SORT l BY w_*", "SORT l BY w_* GET o_*", "SORT l BY w_* GET # GET o_*", "SORT l BY nosort GET o_*", "SORT l BY w_* DESC LIMIT 1 1", "SORT l GET nokey_*"],
    "k-sort-hash-field": ["RPUSH l 1 2", "HSET h_1 score 5 name one", "HSET h_2 score 2 name two", "SORT l BY h_*->score GET h_*->name"],
    "k-sort-store": ["RPUSH l 3 1 2", "SORT l STORE dst", "LRANGE dst 0 -1", "SORT nokey STORE dst", "EXISTS dst", "SORT l LIMIT 5 1", "SORT l LIMIT -1 2", "SORT l LIMIT 0 -1"],
    "k-sort-set-zset": ["SADD s 3 1 2", "SORT s", "ZADD z 1 c 2 a 3 b", "SORT z ALPHA", "SORT z BY nosort", "SET str x", "SORT str", "SORT s FOO"],
    "k-sort-ro": ["RPUSH l 2 1", "SORT_RO l", "SORT_RO l STORE x", "SORT l ALPHA DESC"],
    "k-sort-spaces": ["RPUSH l ' 2' 1", "SORT l", "RPUSH m 1e2 1.5 -inf", "SORT m"],
    "k-object-encoding": ["SET i 123", "SET e abc", "SET r aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "RPUSH l a", "HSET h f v", "SADD s1 1", "SADD s2 a", "ZADD z 1 m",
                          "OBJECT ENCODING i", "OBJECT ENCODING e", "OBJECT ENCODING r", "OBJECT ENCODING l", "OBJECT ENCODING h", "OBJECT ENCODING s1", "OBJECT ENCODING s2", "OBJECT ENCODING z", "OBJECT ENCODING nokey"],
    # ---- strings
    "s-set-nx-get": ["SET k v1 NX GET", "SET k v2 NX GET", "GET k", "SET k2 x XX GET"],
    "s-set-ex-twice": ["SET k v EX 10 EX 20", "TTL k", "SET k v PX 100 EX 10", "SET k v KEEPTTL EX 10", "SET k v EX", "SET k v PXAT 1", "GET k"],
    "s-set-expire-errors": ["SET k v EX 0", "SET k v PX -5", "SET k v EXAT 0", "SET k v EX 9223372036854775807", "SETEX k -1 v", "PSETEX k 0 v", "SETEX k x v"],
    "s-getex-variants": ["SET k v", "GETEX k PX 100000", "TTL k", "GETEX k EXAT 4102444800", "EXPIRETIME k", "GETEX k PXAT 4102444800123", "PEXPIRETIME k", "GETEX k PERSIST EX 1", "GETEX k EX 0", "GETEX k KEEPTTL", "GETEX k", "GETEX k EX 1 EX 2", "TTL k"],
    "s-getex-wrongtype": ["RPUSH l a", "GETEX l", "GETDEL l", "GETSET l x"],
    "s-msetnx": ["MSETNX a 1 b 2", "MSETNX b 3 c 4", "MGET a b c", "MSETNX a"],
    "s-incr-edges": ["SET n 9223372036854775807", "INCR n", "INCRBY n -1", "SET m -9223372036854775808", "DECRBY m 1", "DECRBY m -9223372036854775808", "INCRBY m x", "INCR nokey", "DECR nokey2", "SET f 1.0", "INCR f", "SET big 12345678901234567890", "INCR big"],
    "s-incr-keeps-ttl": ["SET n 1 EX 100", "INCR n", "TTL n", "INCRBYFLOAT n 1.5", "TTL n", "APPEND n x", "TTL n", "SETRANGE n 0 9", "TTL n", "GET n"],
    "s-incrbyfloat-formats": ["INCRBYFLOAT f 3.0e3", "INCRBYFLOAT f 1.1", "INCRBYFLOAT f -3001.1", "INCRBYFLOAT f 5.0e-3", "INCRBYFLOAT f 1e-20", "SET g 1e400", "INCRBYFLOAT g 1", "INCRBYFLOAT f abc", "INCRBYFLOAT f ''", "INCRBYFLOAT f ' 1'", "INCRBYFLOAT f nan", "INCRBYFLOAT f -inf", "SET h 0x1p3", "INCRBYFLOAT h 0"],
    "s-setrange-edges": ["SETRANGE k 3 ab", "GET k", "SETRANGE k 1 x", "GET k", "SETRANGE k 0 ''", "SETRANGE k 536870912 x", "SETRANGE k x a", "RPUSH l a", "SETRANGE l 0 x"],
    "s-getrange-edges": ["SET k hello", "GETRANGE k 0 -100", "GETRANGE k -1 -5", "GETRANGE k -3 -1", "GETRANGE k 2 2", "GETRANGE k 0 x", "SUBSTR k 1 3", "SET e ''", "GETRANGE e 0 -1"],
    "s-append-strlen": ["APPEND k ''", "EXISTS k", "STRLEN k", "RPUSH l a", "APPEND l x", "STRLEN l"],
    "s-lcs-idx": ["MSET k1 ohmytext k2 mynewtext", "LCS k1 k2 IDX", "LCS k1 k2 IDX MINMATCHLEN 4", "LCS k1 k2 IDX WITHMATCHLEN", "LCS k1 k2 LEN IDX", "LCS k1 k2 FOO", "LCS k1 nokey", "LCS k1 k2 MINMATCHLEN x"],
    "s-mget-many": ["MSET a 1 c 3", "MGET a b c d"],
    "s-binary": [["SET", {"hex": "00ff"}, {"hex": "0d0a00"}], ["GET", {"hex": "00ff"}], ["STRLEN", {"hex": "00ff"}]],
    # ---- hashes
    "h-hset-odd": ["HSET h a 1 b", "HMSET h a", "HSET h a 1", "HSETNX h a 2", "HGET h a"],
    "h-order-listpack": ["HSET h b 1 a 2 c 3", "HGETALL h", "HDEL h b", "HSET h b 9", "HGETALL h", "HKEYS h", "HVALS h"],
    "h-hdel-multi": ["HSET h a 1 b 2 c 3", "HDEL h a b x", "HLEN h", "HDEL nokey a", "HEXISTS h c", "HEXISTS h a", "HEXISTS nokey a"],
    "h-hincrby-edges": ["HSET h n 9223372036854775807", "HINCRBY h n 1", "HINCRBY h m x", "HINCRBY h m 9223372036854775807", "HINCRBY h m 1", "HSET h s ' 1'", "HINCRBY h s 1"],
    "h-hincrbyfloat-edges": ["HINCRBYFLOAT h f inf", "HINCRBYFLOAT h f abc", "HSET h f abc", "HINCRBYFLOAT h f 1", "HINCRBYFLOAT h g 1.5", "HINCRBYFLOAT h g -1.5", "HGET h g", "HINCRBYFLOAT h n 1e400"],
    "h-hstrlen": ["HSET h f hello", "HSTRLEN h f", "HSTRLEN h x", "HSTRLEN nokey x"],
    "h-hscan": ["HSET h a 1 b 2", "HSCAN h 0", "HSCAN h 0 MATCH a", "HSCAN nokey 0", "HSCAN h x", "HSCAN h 0 COUNT 0"],
    "h-hrandfield-errors": ["HSET h a 1", "HRANDFIELD h 1 BAD", "HRANDFIELD h x", "HRANDFIELD h 5", "HRANDFIELD h 1 WITHVALUES", "HRANDFIELD h", "HRANDFIELD h -2"],
    "h-wrongtype": ["SET s v", "HSET s f v", "HGETALL s", "HLEN s", "HDEL s f", "HINCRBY s f 1"],
    # ---- lists
    "l-pushx": ["LPUSHX l a", "RPUSH l x", "LPUSHX l a b", "RPUSHX l c", "LRANGE l 0 -1", "RPUSHX nokey a"],
    "l-lrange-neg": ["RPUSH l a b c d e", "LRANGE l -3 -2", "LRANGE l -100 -50", "LRANGE l 3 1", "LRANGE l 0 0", "LRANGE l -1 100"],
    "l-ltrim": ["RPUSH l a b c d e", "LTRIM l 1 -2", "LRANGE l 0 -1", "LTRIM l 5 10", "EXISTS l", "RPUSH m a b", "LTRIM m 0 100", "LRANGE m 0 -1", "LTRIM m -1 -1", "LRANGE m 0 -1", "LTRIM nokey 0 1", "LTRIM m x 1"],
    "l-lrem-pos": ["RPUSH l a b a c a", "LREM l 2 a", "LRANGE l 0 -1", "LREM l 1 zz", "LREM l x a"],
    "l-linsert": ["RPUSH l a c", "LINSERT l BEFORE c b", "LINSERT l AFTER c d", "LINSERT l after zz x", "LRANGE l 0 -1"],
    "l-lset-neg": ["RPUSH l a b c", "LSET l -1 z", "LSET l -4 z", "LRANGE l 0 -1", "LSET l x z"],
    "l-rpoplpush": ["RPUSH a 1 2", "RPOPLPUSH a b", "RPOPLPUSH a a", "LRANGE a 0 -1", "LRANGE b 0 -1", "RPOPLPUSH nokey b", "SET s x", "RPOPLPUSH a s", "LRANGE a 0 -1"],
    "l-lmove-same": ["RPUSH l a b c", "LMOVE l l LEFT RIGHT", "LRANGE l 0 -1", "LMOVE l l RIGHT LEFT", "LRANGE l 0 -1"],
    "l-lmpop": ["RPUSH a 1 2 3", "LMPOP 1 a LEFT COUNT 2", "LMPOP 2 nokey a RIGHT COUNT 5", "EXISTS a", "LMPOP 2 x y LEFT", "LMPOP 0 a LEFT", "LMPOP x a LEFT", "LMPOP 2 a LEFT", "LMPOP 1 a MIDDLE", "LMPOP 1 a LEFT COUNT 0", "LMPOP 1 a LEFT COUNT 1 COUNT 2"],
    "l-pop-count-errors": ["RPUSH l a b", "LPOP l -1", "LPOP l x", "LPOP l 1 2", "LPOP nokey 2", "RPOP nokey", "LPOP l 10", "EXISTS l"],
    "l-lpos-more": ["RPUSH l a b a b a", "LPOS l a RANK -2", "LPOS l a RANK 10", "LPOS l a COUNT 2 RANK -1", "LPOS l a MAXLEN 1 RANK 2", "LPOS l a FOO 1", "LPOS l a RANK", "LPOS l a RANK x"],
    "l-blocking-nonblocking": ["RPUSH l a", "BRPOP l 0", "BLPOP nokey 0.01", "BLPOP l x", "BLPOP l -1", "BLPOP l inf", "RPUSH l b c", "BLMOVE l d LEFT RIGHT 0", "BRPOPLPUSH l d 0", "LRANGE d 0 -1", "BLMPOP 0 1 d LEFT COUNT 5", "BLMPOP 0 0 d LEFT"],
    "l-multi-blocking": ["MULTI", "BLPOP nokey 0", "BRPOPLPUSH nokey x 0", "BZPOPMIN nokey 0", "BLMPOP 0 1 nokey LEFT", "EXEC"],
    # ---- sets
    "st-intset-order": ["SADD s 10 -5 3 100", "SMEMBERS s", "SADD s x", ("SMEMBERS s", U), "SREM s x", ("SMEMBERS s", U)],
    "st-ops": ["SADD a 1 2 3 4", "SADD b 3 4 5", "SADD c 4", "SINTER a b c", "SDIFF a b c", ("SUNION a b c", U), "SINTER a nokey", "SDIFF nokey a", "SET str x", "SINTER a str", "SUNION nokey str", "SDIFF a str"],
    "st-store": ["SADD a x y", "SET dst old", "SUNIONSTORE dst a", "TYPE dst", ("SMEMBERS dst", U), "SDIFFSTORE dst a a", "EXISTS dst", "SINTERSTORE dst a nokey", "SADD n 1 2", "SUNIONSTORE dst n", "SMEMBERS dst"],
    "st-sintercard": ["SADD a 1 2 3", "SADD b 2 3 4", "SINTERCARD 2 a b", "SINTERCARD 2 a b LIMIT 1", "SINTERCARD 2 a b LIMIT 0", "SINTERCARD 1 nokey", "SINTERCARD 0 a", "SINTERCARD 3 a b", "SINTERCARD 1 a LIMIT -1", "SINTERCARD 1 a FOO", "SINTERCARD x a"],
    "st-smove": ["SADD a x", "SET s v", "SMOVE a s x", "SMOVE s a x", "SMOVE a a x", "SMOVE a a zz", "SMOVE nokey a x", "SMOVE a b x", "EXISTS a", "SMEMBERS b"],
    "st-pop-rand-edges": ["SADD s a", "SPOP s 0", "SPOP s -1", "SPOP s 1 2", "SRANDMEMBER s 1 2", "SRANDMEMBER nokey -2", "SPOP nokey 3", "SRANDMEMBER s -9223372036854775808", "SPOP s 5", "EXISTS s"],
    "st-sscan": ["SADD s 3 1 2", "SSCAN s 0", "SSCAN s 0 MATCH 1", "SSCAN nokey 0", "SET str v", "SSCAN str 0 COUNT 0"],
    "st-wrongtype": ["SET str v", "SADD str a", "SMEMBERS str", "SCARD str", "SISMEMBER str a", "SREM str a"],
    # ---- sorted sets
    "z-zadd-ch-incr": ["ZADD z CH 1 a 2 b", "ZADD z CH 1 a 3 b 4 c", "ZADD z INCR 1 a 2 b", "ZADD z 1", "ZADD z nan a", "ZADD z x a", "ZADD z XX CH 10 a 10 nope", "ZRANGE z 0 -1 WITHSCORES", "ZADD z GT XX 5 a", "ZSCORE z a"],
    "z-zadd-xx-missing": ["ZADD nokey XX 1 a", "EXISTS nokey", "ZADD nokey XX INCR 1 a"],
    "z-zincrby": ["ZINCRBY z 1.5 a", "ZINCRBY z x a", "ZINCRBY z 0.1 a", "ZINCRBY z 0.2 b", "ZINCRBY z 0.1 b", "SET s v", "ZINCRBY s 1 a"],
    "z-rank": ["ZADD z 1 a 2 b 3 c", "ZRANK z a", "ZREVRANK z a", "ZRANK z nope", "ZRANK nokey a", "ZRANK z a WITHSCORE"],
    "z-zrange-rev-rank": ["ZADD z 1 a 2 b 3 c 4 d", "ZRANGE z 0 1 REV", "ZRANGE z -1 -1 REV WITHSCORES", "ZREVRANGE z 0 -1 WITHSCORES", "ZREVRANGE z 0 1 REV", "ZRANGE z 0 -1 REV REV", "ZRANGE z (1 2 BYSCORE LIMIT 0", "ZRANGE z 0 -1 BYSCORE BYLEX", "ZRANGE z a b", "ZREVRANGE z 0 -1 LIMIT 0 1"],
    "z-zrangebyscore-more": ["ZADD z 1 a 2 b 3 c", "ZRANGEBYSCORE z -inf +inf LIMIT -1 1", "ZRANGEBYSCORE z -inf +inf LIMIT 1 -1", "ZRANGEBYSCORE z (1 (3", "ZRANGEBYSCORE z 2 +inf WITHSCORES LIMIT 0 1", "ZREVRANGEBYSCORE z +inf -inf", "ZREVRANGEBYSCORE z (3 1 WITHSCORES", "ZRANGEBYSCORE z 3 1", "ZRANGEBYSCORE z ' 1' 2", "ZRANGEBYSCORE z inf -inf", "ZRANGEBYSCORE z 0x1 3"],
    "z-lex": ["ZADD z 0 a 0 b 0 c 0 d", "ZRANGEBYLEX z - +", "ZRANGEBYLEX z [b (d", "ZREVRANGEBYLEX z + -", "ZREVRANGEBYLEX z (d [b LIMIT 0 1", "ZRANGE z [c - BYLEX REV", "ZRANGEBYLEX z a b", "ZRANGEBYLEX z +a -", "ZLEXCOUNT z [b +", "ZREMRANGEBYLEX z [a [b", "ZRANGE z 0 -1"],
    "z-lex-listpack-quirk": ["ZADD lz 1 b 2 a 3 c", "ZRANGEBYLEX lz - [b", "ZLEXCOUNT lz - [b", "ZRANGEBYLEX lz [a +", "ZREVRANGEBYLEX lz + [b", "ZREMRANGEBYLEX lz - [b", "ZRANGE lz 0 -1"],
    "z-zrangestore": ["ZADD z 1 a 2 b 3 c", "ZRANGESTORE d z 0 1", "ZRANGE d 0 -1 WITHSCORES", "ZRANGESTORE d z (1 +inf BYSCORE LIMIT 0 1", "ZRANGE d 0 -1", "ZRANGESTORE d nokey 0 -1", "EXISTS d", "ZRANGESTORE d z 0 -1 WITHSCORES", "ZRANGESTORE d z [b + BYLEX", "ZRANGE d 0 -1"],
    "z-setops": ["ZADD a 1 x 2 y", "ZADD b 10 y 20 z", "SADD s x z", "ZUNION 2 a b WITHSCORES", "ZINTER 2 a b WITHSCORES", "ZDIFF 2 a b WITHSCORES", "ZUNION 2 a s WITHSCORES", "ZINTER 2 a s AGGREGATE MIN WITHSCORES", "ZUNION 2 a b WEIGHTS 1 -1 WITHSCORES", "ZUNION 2 a b AGGREGATE MAX WITHSCORES", "ZUNION 0 a", "ZUNION 3 a b", "ZUNION 1 a WEIGHTS x", "ZUNION 1 a AGGREGATE foo", "ZDIFF 1 a WEIGHTS 1", "ZUNIONSTORE o 0 a", "ZUNIONSTORE o 3 a", "ZINTERSTORE o 2 a nokey", "EXISTS o", "ZDIFFSTORE o 2 a b", "ZRANGE o 0 -1 WITHSCORES", "SET str v", "ZUNION 2 a str"],
    "z-setops-inf": ["ZADD a inf x", "ZADD b -inf x", "ZUNION 2 a b WITHSCORES", "ZINTERSTORE o 2 a b WEIGHTS 0 1", "ZRANGE o 0 -1 WITHSCORES"],
    "z-zintercard": ["ZADD a 1 x 2 y", "ZADD b 1 y", "ZINTERCARD 2 a b", "ZINTERCARD 2 a b LIMIT 0", "ZINTERCARD 0 a", "ZINTERCARD 1 nokey"],
    "z-pop": ["ZADD z 1 a 2 b 3 c", "ZPOPMIN z", "ZPOPMAX z 5", "EXISTS z", "ZPOPMIN nokey", "ZPOPMIN z -1", "ZADD z 1 a", "ZPOPMIN z 0", "ZPOPMIN z 1 2", "BZPOPMAX z 0", "BZPOPMIN nokey 0.01"],
    "z-mpop": ["ZADD z 1 a 2 b 3 c", "ZMPOP 1 z MIN COUNT 2", "ZMPOP 2 nokey z MAX", "ZMPOP 1 z MIN", "ZMPOP 1 z MID", "ZMPOP 0 z MIN", "BZMPOP 0.01 1 nokey MIN"],
    "z-remrange": ["ZADD z 1 a 2 b 3 c 4 d", "ZREMRANGEBYRANK z -2 -1", "ZRANGE z 0 -1", "ZREMRANGEBYSCORE z (1 +inf", "ZRANGE z 0 -1", "ZREMRANGEBYSCORE z x 1", "ZREMRANGEBYRANK z x 1", "ZREMRANGEBYRANK nokey 0 -1"],
    "z-count-edge": ["ZADD z 1 a 2 b", "ZCOUNT z (1 (2", "ZCOUNT z 2 1", "ZCOUNT z -inf (2", "ZCOUNT nokey 0 1", "ZCOUNT z x 1"],
    "z-zmscore-zcard": ["ZMSCORE nokey a", "ZCARD nokey", "ZADD z 1 a", "ZMSCORE z a b a"],
    "z-zscan": ["ZADD z 1 a 2 b", "ZSCAN z 0", "ZSCAN z 0 MATCH b", "ZSCAN nokey 0"],
    "z-zrandmember": ["ZADD z 1 a", "ZRANDMEMBER z", "ZRANDMEMBER z 1 WITHSCORES", "ZRANDMEMBER z -9223372036854775808", "ZRANDMEMBER nokey", "ZRANDMEMBER nokey 2", "ZRANDMEMBER z 1 FOO"],
    "z-wrongtype": ["SET s v", "ZADD s 1 a", "ZRANGE s 0 -1", "ZSCORE s a", "ZRANK s a", "ZREM s a", "ZPOPMIN s"],
    "z-big-listpack-conversion": ["ZADD z 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "OBJECT ENCODING z", "ZADD z -0 b", "ZSCORE z b"],
    # ---- streams (explicit ids: `*` depends on the clock)
    "x-add-ids": ["XADD s 1-1 a 1", "XADD s 1-1 a 1", "XADD s 1-* b 2", "XADD s 2-* c 3", "XADD s 1 x y", "XADD s 0-0 a 1", "XADD t 0-* a 1", "XADD t 0-1 a 1", "XADD s abc a 1", "XADD s 1-x a 1", "XADD s 01-1 a 1", "XADD s 5-1 a", "XADD s 18446744073709551615-18446744073709551615 a 1", "XADD s 18446744073709551615-* a 1", "XADD s 3-0 a 1", "XLEN s", "TYPE s", "OBJECT ENCODING s", "XLEN nokey"],
    "x-add-options": ["XADD s NOMKSTREAM 1-1 a 1", "EXISTS s", "XADD s 1-1 a 1", "XADD s NOMKSTREAM 2-1 a 1", "XADD s MAXLEN abc 3-1 a 1", "XADD s MAXLEN -1 3-1 a 1", "XADD s MAXLEN 1 LIMIT 5 3-1 a 1", "XADD s MAXLEN 1 MINID 0 3-1 a 1", "XADD s LIMIT 5 3-1 a 1", "XADD s MAXLEN = 1 3-1 a 1", "XRANGE s - +", "XADD s MINID = 4 4-1 a 1", "XRANGE s - +", "XADD s MAXLEN ~ 1 5-1 a 1", "XLEN s", "XADD s MAXLEN ~ 1 LIMIT -1 6-1 a 1", "XADD s MINID x 6-1 a 1", "XADD s FOO 6-1 a 1", "XADD s MAXLEN"],
    "x-range": ["XADD s 1-1 a 1", "XADD s 1-2 b 2", "XADD s 2-0 c 3 d 4", "XADD s 3-5 e 5", "XRANGE s - +", "XRANGE s 1 1", "XRANGE s (1-1 +", "XRANGE s - (3-5", "XRANGE s 2 + COUNT 1", "XRANGE s - + COUNT 0", "XRANGE s - + COUNT -1", "XRANGE s - + COUNT x", "XRANGE s - + FOO 1", "XRANGE s + -", "XRANGE s (- +", "XRANGE s (18446744073709551615-18446744073709551615 +", "XRANGE s - (0-0", "XREVRANGE s + -", "XREVRANGE s + - COUNT 2", "XREVRANGE s (3-5 (1-1", "XRANGE nokey - +", "XRANGE s x +"],
    "x-del-trim": ["XADD s 1-1 a 1", "XADD s 2-1 a 2", "XADD s 3-1 a 3", "XADD s 4-1 a 4", "XDEL s 2-1 9-9", "XDEL s 2-1", "XDEL s abc", "XDEL nokey 1-1", "XLEN s", "XTRIM s MAXLEN 2", "XRANGE s - +", "XTRIM s MINID 4", "XRANGE s - +", "XTRIM s", "XTRIM s FOO", "XTRIM s MAXLEN -1", "XTRIM s MAXLEN 0 LIMIT 1", "XTRIM s MAXLEN ~ 0", "XTRIM s MAXLEN 0", "XLEN s", "EXISTS s", "XTRIM nokey MAXLEN 0", "XADD s 4-1 a 1", "XADD s 4-2 a 1"],
    "x-trim-approx": ["EVAL \"for i=1,250 do redis.call('XADD','s',i..'-1','f',i) end return redis.call('XLEN','s')\" 0", "XTRIM s MAXLEN ~ 120", "XLEN s", "XRANGE s - + COUNT 1", "XTRIM s MAXLEN ~ 0 LIMIT 100", "XLEN s", "XTRIM s MINID ~ 240", "XLEN s", "XTRIM s MAXLEN ~ 0", "XLEN s"],
    "x-trim-approx-deleted": ["EVAL \"for i=1,350 do redis.call('XADD','s',i,'f','v') end return redis.call('XLEN','s')\" 0", "XDEL s 5 100", "XTRIM s MAXLEN ~ 200", "XLEN s", "XRANGE s - + COUNT 1",
        "EVAL \"for i=1,350 do redis.call('XADD','t',i,'f','v') end return redis.call('XLEN','t')\" 0", "XDEL t 5 100", "XTRIM t MINID ~ 260", "XLEN t", "XRANGE t - + COUNT 1", "XDEL t 301", "XADD t MAXLEN ~ 60 351 f v", "XLEN t",
        "EVAL \"for i=1,150 do redis.call('XADD','u',i,'f','v') end return redis.call('XDEL','u',101)\" 0", "XTRIM u MINID ~ 102", "XLEN u", "XTRIM u MINID ~ 151 LIMIT 40", "XLEN u", "XTRIM u MAXLEN ~ 0 LIMIT 49", "XLEN u"],
    "x-trim-approx-bytes": ["EVAL \"for i=1,29 do redis.call('XADD','s',i,'f',string.rep('y',500)) end return redis.call('XLEN','s')\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s", "XTRIM s MAXLEN ~ 5", "XLEN s", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s",
        "EVAL \"for i=1,60 do if i%3==0 then redis.call('XADD','m',i,'f',i*1000,'g','x') else redis.call('XADD','m',i,'h',-i,'k',string.rep('z',i*3)) end end return 1\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 m", "XTRIM m MAXLEN ~ 30", "XLEN m",
        "EVAL \"for i=1,20 do redis.call('XADD','n',i..'-'..(i*70000),i*123456,string.rep('q',i*10),'big',string.rep('w',3000)) end return 1\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 n", "XTRIM n MINID ~ 12", "XLEN n",
        "EVAL \"local d = redis.call('DUMP', KEYS[1]) redis.call('RESTORE', KEYS[2], 0, d) return redis.call('XTRIM', KEYS[2], 'MAXLEN', '~', '30')\" 2 m m2", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 m2"],
    "x-trim-node-config": ["CONFIG SET stream-node-max-entries 7", "CONFIG GET stream-node-max-*",
        "EVAL \"for i=1,30 do redis.call('XADD','s',i,'f',i,'g','x') end return 1\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s", "XTRIM s MAXLEN ~ 10", "XTRIM s MAXLEN ~ 0", "XLEN s",
        "CONFIG SET stream-node-max-bytes 300 stream-node-max-entries 0", "CONFIG GET stream-node-max-*",
        "EVAL \"for i=1,40 do if i%3==0 then redis.call('XADD','t',i,'f',i*1000,'g','x') else redis.call('XADD','t',i,'h',-i,'k',string.rep('z',i)) end end return 1\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 t", "XTRIM t MAXLEN ~ 10", "XLEN t",
        "CONFIG SET stream-node-max-bytes 0 stream-node-max-entries 3", "EVAL \"for i=1,10 do redis.call('XADD','u',i,'f',string.rep('y',5000)) end return 1\" 0", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 u", "XTRIM u MAXLEN ~ 0", "XLEN u",
        "CONFIG SET stream-node-max-bytes 4096 stream-node-max-entries 100", "CONFIG GET stream-node-max-*"],
    "x-trim-exact-empty-node": ["XADD s 1 a 1", "XADD s 2 a 1", "XADD s 3 a 1", "XDEL s 3", "XTRIM s MINID 3", "XLEN s", "EXISTS s", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s", "XADD s 4 a 1", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s", "XDEL s 4", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 s", "XLEN s",
        "EVAL \"for i=1,120 do redis.call('XADD','t',i,'f','v') end return 1\" 0", "XDEL t 120", "XADD t 121 f v", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 t", "XTRIM t MAXLEN 15", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 t", "XTRIM t MAXLEN ~ 0", "XLEN t", "EVAL \"local r = redis.call('XINFO', 'STREAM', KEYS[1]) return {r[1], r[2], r[3], r[4]}\" 1 t"],
    "x-trim-approx-rewrite": ["XADD s 1 a 1", "XTRIM s MINID ~ 5", "XLEN s", "XADD t 1 a 1", "XADD t 2 a 1", "XDEL t 1", "XTRIM t MINID ~ 0", "XTRIM t MINID = 2", "XTRIM t MINID ~ 3", "XADD t 3 a 1", "XTRIM t MAXLEN ~ 0",
        "EVAL \"for i=1,150 do redis.call('XADD','u',i,'f','v') end return redis.call('XDEL','u',101,102)\" 0", "XTRIM u MINID ~ 103", "XLEN u", "XADD u MINID ~ 200 151 f v", "XLEN u"],
    "x-info-radix-nodes": ["EVAL \"for i=1,1000 do redis.call('XADD','s',i,'f','v') end return 1\" 0", "XINFO STREAM s", "XTRIM s MAXLEN ~ 500", "EVAL \"for i=701,800 do redis.call('XDEL','s',i) end return 1\" 0", "XINFO STREAM s", "XINFO STREAM s FULL COUNT 1",
        "EVAL \"for i=1,700 do redis.call('XADD','t',(i*7919)..'-'..(i*i*104729),'f',i) end return 1\" 0", "XINFO STREAM t", "XTRIM t MINID ~ 300000", "XINFO STREAM t",
        "EVAL \"for i=1,300 do redis.call('XADD','u','5-'..i,'f',i) end for i=1,300 do redis.call('XADD','u',(4294967296*i)..'-0','f',i) end return 1\" 0", "XINFO STREAM u", "XDEL u 5-150 5-250", "XINFO STREAM u", "XTRIM u MAXLEN 0", "XINFO STREAM u"],
    "x-read": ["XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD t 1-1 c 3", "XREAD STREAMS s t 0 0", "XREAD COUNT 1 STREAMS s t 1-1 0", "XREAD STREAMS s $", "XREAD STREAMS s 2-1", "XREAD STREAMS nokey 0", "XREAD STREAMS s", "XREAD STREAMS s t 0", "XREAD COUNT x STREAMS s 0", "XREAD STREAMS s >", "XREAD GROUP g c STREAMS s 0", "XREAD NOACK STREAMS s 0", "XREAD FOO STREAMS s 0", "XREAD COUNT 1", "XREAD STREAMS s abc", "SET str v", "XREAD STREAMS str 0", "XREAD BLOCK 10 STREAMS s 0", "XREAD COUNT -5 STREAMS s 0", "XREAD BLOCK x STREAMS s 0", "XREAD BLOCK -1 STREAMS s 0", "XREAD BLOCK 1.5 STREAMS s 0"],
    "x-groups": ["XGROUP CREATE s g 0", "XGROUP CREATE s g $ MKSTREAM", "XGROUP CREATE s g $", "XGROUP CREATE s g2 abc", "XADD s 1-1 a 1", "XADD s 2-1 b 2", "XGROUP CREATE s g0 0", "XGROUP CREATECONSUMER s g0 alice", "XGROUP CREATECONSUMER s g0 alice", "XGROUP CREATECONSUMER s nog alice", "XREADGROUP GROUP g0 alice COUNT 1 STREAMS s >", "XREADGROUP GROUP g0 bob STREAMS s >", "XREADGROUP GROUP g0 bob STREAMS s >", "XREADGROUP GROUP g0 alice STREAMS s 0", "XREADGROUP GROUP g0 bob STREAMS s 0", "XPENDING s g0", "XACK s g0 1-1 9-9", "XACK s g0 1-1", "XACK s nog 1-1", "XACK nokey g0 1-1", "XACK s g0 abc", "XPENDING s g0", "XPENDING s g0 - + 10 nobody", "XPENDING s g0 IDLE 99999999 - + 10", "XPENDING s nog", "XGROUP DELCONSUMER s g0 bob", "XPENDING s g0", "XGROUP DELCONSUMER s g0 bob", "XGROUP SETID s g0 0", "XREADGROUP GROUP g0 carol NOACK STREAMS s >", "XPENDING s g0", "XGROUP SETID s nog 0", "XGROUP DESTROY s g0", "XGROUP DESTROY s g0", "XGROUP CREATE nokey g 0", "XGROUP CREATE s g3 0 ENTRIESREAD -2", "XGROUP CREATE s g3 0 FOO", "XGROUP FOO s g", "XREADGROUP GROUP nog c STREAMS s >", "XREADGROUP GROUP g c STREAMS s $", "XREADGROUP STREAMS s >", "XREADGROUP GROUP g c STREAMS nokey >", "XGROUP CREATECONSUMER nokey g c"],
    "x-setid": ["XADD s 5-1 a 1", "XSETID s 4-0", "XSETID s 6-0", "XADD s 6-* a 1", "XSETID s 7-0 ENTRIESADDED 0", "XSETID s 7-0 ENTRIESADDED -1", "XSETID s 7-0 MAXDELETEDID 8-0", "XSETID s 7-0 ENTRIESADDED 9 MAXDELETEDID 1-0", "XSETID nokey 1-1", "XSETID s abc", "XSETID s 8-0 FOO"],
    "x-wrongtype": ["SET k v", "XADD k 1-1 a 1", "XLEN k", "XRANGE k - +", "XDEL k 1-1", "XTRIM k MAXLEN 0", "XGROUP CREATE k g 0", "XACK k g 1-1", "XPENDING k g", "RPUSH l a", "XREADGROUP GROUP g c STREAMS l >"],
    "x-script": ["EVAL \"return redis.call('XADD', KEYS[1], '1-1', 'event', 'added', 'jobId', '7')\" 1 ev", "EVAL \"return redis.call('XRANGE', KEYS[1], '-', '+')\" 1 ev", "EVAL \"return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')\" 0 ev", "EVAL \"return redis.pcall('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', KEYS[1], '>')\" 1 ev", "EVAL \"redis.call('XADD', KEYS[1], '2-1', 'a', '1') return redis.call('XADD', KEYS[1], '2-1', 'a', '1')\" 1 ev", "XLEN ev", "EVAL \"return redis.call('XGROUP', 'CREATE', KEYS[1], 'g', '0')\" 1 ev", "EVAL \"return redis.call('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', KEYS[1], '>')\" 1 ev", "EVAL \"return redis.call('XPENDING', KEYS[1], 'g')\" 1 ev", "EVAL \"return redis.call('TYPE', KEYS[1])\" 1 ev"],
    "x-info": ["XGROUP CREATE e g $ MKSTREAM", "XINFO STREAM e", "XINFO GROUPS e", "XINFO CONSUMERS e g", "XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XGROUP CREATE s g 0", "XGROUP CREATE s h $", "XGROUP CREATE s i 0 ENTRIESREAD 1", "XREADGROUP GROUP g c COUNT 1 STREAMS s >", "XINFO GROUPS s", "XINFO STREAM s", "XDEL s 2-1", "XINFO GROUPS s", "XDEL s 1-1", "XINFO GROUPS s", "XINFO STREAM s", "XINFO STREAM nokey", "XINFO GROUPS nokey", "XINFO CONSUMERS s nog", "XINFO STREAM s FOO", "XINFO FOO s", "SET str v", "XINFO STREAM str"],
    "x-claim": ["XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XADD s 4-1 d 4", "XGROUP CREATE s g 0", "XREADGROUP GROUP g alice STREAMS s >", "XCLAIM s g bob 0 1-1 2-1", "XCLAIM s g bob 0 3-1 JUSTID", "XCLAIM s g bob 99999999 4-1", "XPENDING s g", "XDEL s 2-1", "XCLAIM s g carol 0 2-1 4-1 RETRYCOUNT 5", "XPENDING s g", "XCLAIM s g carol 0 9-9", "XCLAIM s g carol 0 9-9 FORCE", "XACK s g 1-1", "XCLAIM s g dave 0 1-1 FORCE JUSTID LASTID 7-0", "XPENDING s g", "XINFO GROUPS s", "XCLAIM s g c x 1-1", "XCLAIM s g c 0 1-1 IDLE x", "XCLAIM s g c 0 1-1 TIME x", "XCLAIM s g c 0 1-1 RETRYCOUNT x", "XCLAIM s g c 0 1-1 LASTID x", "XCLAIM s g c 0 1-1 FOO", "XCLAIM s nog c 0 1-1", "XCLAIM nokey g c 0 1-1", "XCLAIM s g c 0 abc"],
    "x-autoclaim": ["XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XADD s 4-1 d 4", "XGROUP CREATE s g 0", "XREADGROUP GROUP g alice STREAMS s >", "XDEL s 2-1", "XAUTOCLAIM s g bob 0 0 COUNT 2", "XAUTOCLAIM s g bob 0 (1-1 COUNT 1 JUSTID", "XAUTOCLAIM s g bob 0 -", "XAUTOCLAIM s g bob 99999999 -", "XPENDING s g", "XAUTOCLAIM s g bob 0 - COUNT 0", "XAUTOCLAIM s g bob 0 - COUNT x", "XAUTOCLAIM s g bob x -", "XAUTOCLAIM s g bob 0 x", "XAUTOCLAIM s g bob 0 - FOO", "XAUTOCLAIM s nog bob 0 -", "XAUTOCLAIM nokey g bob 0 -", "XAUTOCLAIM s g bob 0 (18446744073709551615-18446744073709551615"],
    "x-multi": ["MULTI", "XADD s 1-1 a 1", "XADD s 1-1 a 1", "XLEN s", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >", "XACK s g 1-1", "XADD s", "EXEC", "MULTI", "XADD s 2-1 a 1", "XRANGE s - +", "XREAD STREAMS s 0", "XREAD BLOCK 0 STREAMS nokey 0", "XGROUP CREATE s g2 $", "XREADGROUP GROUP g2 c BLOCK 0 STREAMS s >", "EXEC"],
    # ---- transactions and pub/sub
    "m-watch-in-multi": ["MULTI", "WATCH k", "SET a 1", "EXEC"],
    "m-exec-errors-inside": ["SET s v", "MULTI", "LPUSH s a", "INCR s", "SET t 1", "EXEC", "GET t"],
    "m-multi-select": ["MULTI", "SELECT 1", "SET a 1", "EXEC", "GET a", "SELECT 0", "GET a"],
    "m-watch-expire": ["SET k 1", "WATCH k", ("EXPIRE k 100", C2), "MULTI", "PING", "EXEC"],
    "m-watch-flushall": ["SET k 1", "WATCH k", ("FLUSHALL", C2), "MULTI", "PING", "EXEC"],
    "m-watch-swapdb": ["SET k 1", "WATCH k", ("SWAPDB 0 1", C2), "MULTI", "PING", "EXEC"],
    "m-watch-other-db": ["WATCH k", ("SELECT 1", C2), ("SET k 1", C2), "MULTI", "PING", "EXEC"],
    "m-unwatch": ["SET k 1", "WATCH k", "UNWATCH", ("SET k 2", C2), "MULTI", "PING", "EXEC"],
    "m-discard-errors": ["MULTI", "SET a", "DISCARD", "EXEC"],
    "p-publish-none": ["PUBLISH ch hello", "PUBSUB NUMSUB ch", "PUBSUB NUMPAT", "PUBSUB CHANNELS"],
    "p-subscribe-mode": ["SUBSCRIBE ch", "GET a", "PING", "PING x", "UNSUBSCRIBE", "PING", ("PUBLISH ch x", C2)],
    "p-publish-count": ["SUBSCRIBE ch", ("PUBLISH ch x", C2), ("PUBSUB NUMSUB ch other", C2), ("PUBSUB CHANNELS", C2), ("PUBSUB CHANNELS c*", C2)],
    "p-unsubscribe-none": ["UNSUBSCRIBE", "PUNSUBSCRIBE", "UNSUBSCRIBE x"],
    # ---- generic
    "g-ping-echo": ["PING", "PING hi", "PING a b", "ECHO a b"],
    "g-client-name": ["CLIENT GETNAME", "CLIENT SETNAME a b", "CLIENT SETNAME ab", "CLIENT GETNAME", "CLIENT SETNAME 'a b'", "CLIENT SETNAME ''", "CLIENT GETNAME", "CLIENT NOPE"],
    "g-hello": ["HELLO 4", "HELLO x", "HELLO 2 SETNAME 'a b'", "HELLO 2 FOO"],
    "g-subcommand-errors": ["CONFIG", "CONFIG NOPE", "OBJECT", "OBJECT NOPE x", "COMMAND NOPE", "CLIENT", "PUBSUB", "PUBSUB NOPE"],
    "g-config-get": ["CONFIG GET busy-reply-threshold", "CONFIG GET databases", "CONFIG SET busy-reply-threshold 100", "CONFIG GET busy-reply-threshold", "CONFIG GET lua-time-limit", "CONFIG SET busy-reply-threshold 5000"],
    "g-command-info": ["COMMAND INFO nope", "COMMAND COUNT x"],
    "g-quit-last": ["SET a 1", "QUIT"],
}

# ---- bitmaps and HyperLogLog (issue 22): strings, so tagged "string"
CASES.update({
    "s-bit-setbit-basic": ["SETBIT k 7 1", "GET k", "SETBIT k 7 1", "SETBIT k 7 0", "GET k", "SETBIT k 100 1", "STRLEN k", "GETBIT k 100", "GETBIT k 101", "GETBIT k 100000", "GETBIT nokey 3", "OBJECT ENCODING k"],
    "s-bit-setbit-errors": ["SETBIT k -1 1", "SETBIT k x 1", "SETBIT k 4294967296 1", "SETBIT k 4294967295 2", "SETBIT k 0 2", "SETBIT k 0 -1", "SETBIT k 0 x", "SETBIT k '#1' 1", "GETBIT k -1", "GETBIT k 4294967296", "GETBIT k x", "EXISTS k", "RPUSH l a", "SETBIT l 0 1", "GETBIT l 0", "SETBIT l x 1"],
    "s-bit-on-strings": ["SET k 123", "GETBIT k 2", "SETBIT k 2 0", "GET k", "SET n 5", "SETBIT n 0 0", "GET n", "SET k2 a EX 100", "SETBIT k2 1 0", "TTL k2", "GET k2", "SETBIT k2 20 1", "GET k2"],
    "s-bit-bitcount": ["SET k foobar", "BITCOUNT k", "BITCOUNT k 0 0", "BITCOUNT k 1 1", "BITCOUNT k 1 1 BYTE", "BITCOUNT k 5 30 BIT", "BITCOUNT k -3 -1", "BITCOUNT k -1 -3", "BITCOUNT k -1 -3 BIT", "BITCOUNT k 0 -1 BIT", "BITCOUNT k 7 9 BIT", "BITCOUNT k 100 200", "BITCOUNT k -100 -50", "BITCOUNT k 0", "BITCOUNT k 0 1 FOO", "BITCOUNT k x 1", "BITCOUNT k 0 1 BIT x", "BITCOUNT nokey", "BITCOUNT nokey 0 x", "RPUSH l a", "BITCOUNT l", "SET e ''", "BITCOUNT e", "BITCOUNT e 0 -1 BIT"],
    "s-bit-bitpos": [["SET", "k", {"hex": "fff000"}], "BITPOS k 0", "BITPOS k 1", "BITPOS k 0 1", "BITPOS k 1 2", "BITPOS k 0 2 -1", "BITPOS k 1 2 -1", "BITPOS k 0 0 -1 BIT", "BITPOS k 0 3 9 BIT", "BITPOS k 1 7 15 BIT", "BITPOS k 1 12 20 BIT", "BITPOS k 0 0 7 BIT", "BITPOS k 1 -5 -1 BIT", "BITPOS k 0 -1 -3", "BITPOS k 2", "BITPOS k x", "BITPOS k 1 0 1 FOO", "BITPOS k 1 0 1 BIT x", "BITPOS k 1 x", "BITPOS nokey 0", "BITPOS nokey 1", "BITPOS nokey 2", ["SET", "ones", {"hex": "ffff"}], "BITPOS ones 0", "BITPOS ones 0 0 -1", "BITPOS ones 0 0", "BITPOS ones 0 0 -1 BIT", "SET z ''", "BITPOS z 0", "BITPOS z 1", "RPUSH l a", "BITPOS l 1", "BITPOS l 3"],
    "s-bit-bitop": [["SET", "a", {"hex": "0ff0616263"}], ["SET", "b", {"hex": "ff"}], "BITOP AND d a b", "GET d", "BITOP OR d a b nokey", "GET d", "BITOP XOR d a b", "GET d", "BITOP NOT d a", "GET d", "BITOP NOT d a b", "BITOP NAND d a b", "BITOP AND d nokey nokey2", "EXISTS d", "SET d x EX 100", "BITOP OR d a", "TTL d", "RPUSH l a", "BITOP OR d a l", "BITOP OR l a", "TYPE l", "OBJECT ENCODING d", "BITOP and d2 b", "GET d2", "BITOP"],
    "s-bit-bitfield": ["BITFIELD k SET i8 0 100 GET i8 0 INCRBY i8 0 100", "BITFIELD k OVERFLOW SAT INCRBY i8 0 100 INCRBY u4 #3 20 OVERFLOW FAIL INCRBY i8 0 1 GET u8 0", "GET k", "BITFIELD k SET u63 5 123456789 GET u63 5 GET i64 0 SET i64 64 -1 GET u8 #8", "BITFIELD k OVERFLOW WRAP INCRBY i64 64 -9223372036854775807 INCRBY u2 100 7 SET i3 200 5 GET i3 200", "STRLEN k", "BITFIELD k OVERFLOW SAT SET i4 0 100 SET u4 4 -1 GET i4 0 GET u4 4", "BITFIELD nokey GET u8 0 GET i5 3", "EXISTS nokey", "BITFIELD k", "BITFIELD k GET u64 0", "BITFIELD k GET i65 0", "BITFIELD k GET u0 0", "BITFIELD k GET x8 0", "BITFIELD k GET u8 -1", "BITFIELD k GET u8 #-1", "BITFIELD k GET u8 x", "BITFIELD k SET u8 0 x", "BITFIELD k OVERFLOW FOO", "BITFIELD k FOO", "BITFIELD k GET u8", "BITFIELD k OVERFLOW", "BITFIELD k SET u8 0", "BITFIELD k GET u8 4294967296", "RPUSH l a", "BITFIELD l GET u8 0", "BITFIELD l SET u8 0 1"],
    "s-bit-bitfield-ro": [["SET", "k", {"hex": "8001"}], "BITFIELD_RO k GET u8 0 GET i8 0 GET u16 0 GET i2 #0", "BITFIELD_RO k SET u8 0 1", "BITFIELD_RO k INCRBY u8 0 1", "BITFIELD_RO k OVERFLOW SAT GET u8 8", "BITFIELD_RO nokey GET u8 0", "BITFIELD_RO k", "GET k"],
    "s-bit-bitfield-create": ["BITFIELD k OVERFLOW FAIL INCRBY u2 10 5", "GET k", "BITFIELD k2 SET u8 #2 0", "GET k2", "BITFIELD k3 GET u8 0 SET u1 0 1", "GET k3"],
    "s-bit-script": ["EVAL \"redis.call('SETBIT', KEYS[1], 9, 1); return {redis.call('GETBIT', KEYS[1], 9), redis.call('BITCOUNT', KEYS[1]), redis.call('BITPOS', KEYS[1], 1), redis.call('GET', KEYS[1])}\" 1 k",
                     "EVAL \"return redis.call('BITFIELD', KEYS[1], 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 0, 9, 'GET', 'u8', 0)\" 1 k",
                     "EVAL \"return redis.pcall('SETBIT', KEYS[1], -1, 1)\" 1 k",
                     "EVAL \"redis.call('SETBIT', KEYS[1], 0, 1); return redis.call('SETBIT', KEYS[1], 0, 5)\" 1 k2", "GET k2",
                     "EVAL \"return redis.call('BITOP', 'OR', KEYS[1], KEYS[2], KEYS[3])\" 3 d k k2",
                     "EVAL_RO \"return redis.call('BITFIELD_RO', KEYS[1], 'GET', 'u8', 0)\" 1 k",
                     "EVAL_RO \"return redis.call('SETBIT', KEYS[1], 0, 1)\" 1 k"],
    "s-bit-multi": ["MULTI", "SETBIT k 3 1", "SETBIT k x 1", "GETBIT k 3", "BITCOUNT k", "BITOP NOT k2 k", "BITFIELD k GET u4 0", "EXEC", "GET k2", "MULTI", "SETBIT k 1 1", "BITPOS k", "EXEC", "GET k"],
})

CASES.update({
    "s-hll-pfadd-basic": ["PFADD h a b c", "PFADD h a", "PFADD h", "PFCOUNT h", "GET h", "PFADD h d", "GET h", "PFCOUNT h", "GET h", "PFADD new", "GET new", "PFCOUNT new", "STRLEN h", "TYPE h", "OBJECT ENCODING h", "PFADD h2 x y z", "PFCOUNT h h2", "PFCOUNT h h2 nokey", "PFCOUNT nokey", "PFCOUNT nokey nokey2"],
    "s-hll-errors": ["SET s hello", "PFADD s a", "PFCOUNT s", "PFCOUNT h s", "PFMERGE s", "PFMERGE d s", "EXISTS d", "SET i 12345678901234567890", "PFADD i a", "RPUSH l a", "PFADD l a", "PFCOUNT l", "PFMERGE l", "PFMERGE d l", "PFADD", "PFCOUNT", "PFMERGE", "PFDEBUG ENCODING", "PFSELFTEST x",
                     ["SET", "bad", {"hex": "48594c4c01000000000000000000000000"}], "PFCOUNT bad", "PFADD bad x", "PFMERGE d2 bad", "PFCOUNT bad bad",
                     ["SET", "dshort", {"hex": "48594c4c000000000000000000000000"}], "PFCOUNT dshort", "PFADD dshort a",
                     ["SET", "enc2", {"hex": "48594c4c020000000000000000000000"}], "PFCOUNT enc2", "SET tiny HYLL", "PFCOUNT tiny"],
    "s-hll-pfmerge": ["PFADD a 1 2 3 4 5", "PFADD b 4 5 6 7", "PFMERGE c a b", "GET c", "PFCOUNT c", "GET c", "PFMERGE c", "GET c", "PFMERGE a b", "GET a", "PFMERGE e", "GET e", "PFMERGE e nokey", "PFCOUNT e", "SET t x EX 100", "DEL t", "PFADD t q", "EXPIRE t 100", "PFMERGE t a", "TTL t", "PFADD t z", "TTL t"],
    "s-hll-dense-merge": ["PFADD s 1 2 3", "PFADD d2 a", "PFDEBUG TODENSE d2", "PFMERGE s d2", "PFDEBUG ENCODING s", "GET s", "PFCOUNT s d2", "PFCOUNT s"],
    "s-hll-pfdebug": ["PFADD h a b c d e f g h i j", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFDEBUG decode h", "PFDEBUG FOO h", "PFDEBUG ENCODING nokey", "SET s x", "PFDEBUG ENCODING s", "PFDEBUG TODENSE h", "PFDEBUG TODENSE h", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFCOUNT h", "STRLEN h", "PFADD g x", "PFDEBUG GETREG g", "PFDEBUG ENCODING g", "STRLEN g"],
    "s-hll-selftest": ["PFSELFTEST"],
    "s-hll-script": ["EVAL \"redis.call('PFADD', KEYS[1], 'a', 'b'); return {redis.call('PFCOUNT', KEYS[1]), redis.call('GET', KEYS[1])}\" 1 h",
                     "EVAL \"return redis.pcall('PFADD', KEYS[1], 'x')\" 1 s0",
                     "SET s hello",
                     "EVAL \"return redis.pcall('PFADD', KEYS[1], 'x')\" 1 s",
                     "EVAL \"redis.call('PFADD', KEYS[2], 'z'); return redis.call('PFCOUNT', KEYS[1], KEYS[2])\" 2 h h2",
                     "EVAL \"redis.call('PFADD', KEYS[1], 'q'); return redis.call('PFMERGE', KEYS[1], 'nokey')\" 1 m",
                     "EVAL_RO \"return redis.call('PFCOUNT', KEYS[1])\" 1 h",
                     "EVAL_RO \"return redis.call('PFADD', KEYS[1], 'w')\" 1 h",
                     "EVAL \"redis.call('PFADD', KEYS[1], 'before'); return redis.call('PFADD', KEYS[2], 'after')\" 2 h3 s",
                     "PFCOUNT h3", "GET m"],
    "s-hll-multi": ["MULTI", "PFADD h a b", "PFCOUNT h", "PFADD s", "SET s x", "PFADD s y", "PFMERGE h2 h", "GET h2", "EXEC", "MULTI", "PFADD h c", "PFCOUNT h", "PFCOUNT h x", "EXEC"],
    "s-hll-copied-payload": [["SET", "h", {"hex": "48594c4c010000000000000000000000" + "7fff"}], "PFADD h a", "GET h", ["SET", "h2", {"hex": "48594c4c010000000000000000000000" + "8041807fff"}], "PFCOUNT h2", "GET h2", "PFADD h2 b", "GET h2"],
})

CASES.update({
    "s-bit-hll-encoding": ["SET i 123", "SETBIT i 0 0", "OBJECT ENCODING i", "SET e abc", "BITFIELD e GET u8 0", "OBJECT ENCODING e", "BITFIELD e SET u8 0 97", "OBJECT ENCODING e", "GETBIT e 1", "OBJECT ENCODING e",
                           ["SET", "h", {"hex": "48594c4c0100000000000000000000007fff"}], "OBJECT ENCODING h", "PFCOUNT h", "OBJECT ENCODING h", ["SET", "h2", {"hex": "48594c4c0100000000000000000000007fff"}], "PFADD h2", "OBJECT ENCODING h2", ["SET", "h3", {"hex": "48594c4c0100000000000000000000007fff"}], "PFMERGE h3", "OBJECT ENCODING h3", "GET h3"],
    "s-bit-hll-watch": ["SET w 7", "WATCH w", ("SETBIT w 0 0", C2), "MULTI", "PING", "EXEC", "WATCH w", ("SETBIT w 0 1", C2), "MULTI", "PING", "EXEC",
                        "PFADD p a", "PFCOUNT p", "WATCH p", ("PFCOUNT p", C2), "MULTI", "PING", "EXEC", "PFADD p b", "WATCH p", ("PFCOUNT p", C2), "MULTI", "PING", "EXEC"],
})

# ---- issue 10: the fidelity classes found by the differential round against Redis 7.0.15
def ev(script, *args):
    """EVAL of a Lua source written as Python text (\\0 stays a Lua escape)."""
    return ["EVAL", script, str(len(args)), *args]

CASES.update({
    # 1. the key is looked up before arguments are checked (and the texts for garbage)
    "s-getex-missing-bad-args": ["GETEX nokey EX 0", "GETEX nokey EX -1", "GETEX nokey EX abc", "GETEX nokey EXAT 0", "GETEX nokey PX abc", "GETEX nokey PXAT -5", "GETEX nokey FOO", "GETEX nokey EX 1 PX 1",
                                 "RPUSH l a", "GETEX l EX abc", "GETEX l EX 0", "SET k v", "GETEX k EX abc", "GETEX k EX 0", "GET k", "EXISTS k"],
    "s-lcs-setrange-order": ["RPUSH l a", "LCS l nokey FOO", "LCS nokey l MINMATCHLEN x", "LCS nokey other FOO", "SETRANGE l -1 x", "SETRANGE l x y", "SETRANGE nokey -1 x", "SETRANGE nokey 0 ''", "EXISTS nokey"],
    "l-lindex-lset-missing": ["LINDEX nokey abc", "LINDEX nokey 1.5", "LSET nokey abc v", "LSET nokey 0 v", "SET s v", "LINDEX s abc", "LSET s abc v", "RPUSH l a", "LINDEX l abc", "LSET l abc v", "LSET l 5 v"],
    "l-lpos-count-maxlen-garbage": ["LPOS nokey a COUNT x", "LPOS nokey a MAXLEN x", "LPOS nokey a COUNT -1", "LPOS nokey a RANK x", "LPOS nokey a RANK 0", "SET s v", "LPOS s a COUNT x", "LPOS s a",
                                    "RPUSH l a b a c a", "LPOS l a RANK -9223372036854775808", "LPOS l a RANK -9223372036854775808 COUNT 1", "LPOS l a RANK -9223372036854775808 MAXLEN 2", "LPOS l a COUNT 1.5", "LPOS l a MAXLEN ''"],
    "st-sintercard-limit-garbage": ["SINTERCARD 1 nokey LIMIT x", "SINTERCARD 1 nokey LIMIT ''", "SET s v", "SINTERCARD 1 s LIMIT x", "SINTERCARD 1 s LIMIT -1", "SINTERCARD 1 s", "SINTERCARD x s", "SINTERCARD 2 s"],
    "z-zintercard-order": ["ZINTERCARD x a", "ZINTERCARD 3 a", "ZINTERCARD -1 a", "SET s v", "ZINTERCARD 1 s LIMIT x", "ZINTERCARD 1 s FOO", "ZINTERCARD 1 nokey LIMIT x", "ZINTERCARD 1 nokey LIMIT -1", "ZINTERCARD 1 nokey FOO", "ZADD z 1 a", "ZINTERCARD 1 z LIMIT 1.5"],
    "k-scan-cursor-strtoul": ["SET a 1", "SCAN ''", "SCAN -0", "SCAN +0", "SCAN ' 1'", "SCAN 18446744073709551616", "SCAN 1x", "SCAN -", "SCAN 0x1",
                              "HSET h f v", "HSCAN h -1", "HSCAN h +5", "HSCAN h 18446744073709551615", "ZADD z 1 m", "ZSCAN z -1", "SSCAN nokey -1", "SSCAN nokey x", "SET s v", "SSCAN s -1", "HSCAN s ' 1'"],
    "k-db-index-range": ["SELECT 99999999999", "SELECT -9223372036854775808", "SELECT 9223372036854775808", "SELECT 2147483648", "SET a 1", "MOVE a 99999999999", "MOVE a -2147483649", "COPY a b DB 99999999999", "COPY a b DB x",
                         "SWAPDB 0 99999999999", "SWAPDB 99999999999 0", "SWAPDB 0 9223372036854775808"],
    "h-hrandfield-long-min": ["HRANDFIELD nokey -9223372036854775808", "SET s v", "HRANDFIELD s -9223372036854775808", "HSET h f v", "HRANDFIELD h -9223372036854775808 WITHVALUES", "HRANDFIELD h -9223372036854775807x"],
    "k-object-refcount-shared": ["SET a 5", "OBJECT REFCOUNT a", "SET a 9999", "OBJECT REFCOUNT a", "SET a 10000", "OBJECT REFCOUNT a", "SET a -1", "OBJECT REFCOUNT a", "INCR n", "OBJECT REFCOUNT n",
                                 "SET e 007", "OBJECT REFCOUNT e", "APPEND q 5", "OBJECT REFCOUNT q", "RPUSH l 1", "OBJECT REFCOUNT l", "OBJECT REFCOUNT nokey"],
    # 2. -0 scores: replied as computed, stored as a listpack stores them
    "z-negative-zero": ["ZINCRBY z -0 a", "ZADD z INCR -0 b", "ZSCORE z a", "ZINCRBY z -0 a", "ZADD z 0 c", "ZINCRBY z -0 c", "ZADD z INCR -0.0 new", "ZINCRBY z -0e5 new2", "ZADD z GT INCR -0 a",
                        "ZADD z NX INCR -0 fresh", "ZADD z XX INCR -0 nope", "ZRANGE z 0 -1 WITHSCORES",
                        "ZUNION 1 z WEIGHTS -0 WITHSCORES", "ZINTER 1 z WEIGHTS -0 AGGREGATE MIN WITHSCORES", "ZUNIONSTORE u 1 z WEIGHTS -0", "ZRANGE u 0 -1 WITHSCORES",
                        "ZADD z2 -0 a", "ZUNION 2 z z2 AGGREGATE MIN WITHSCORES", "ZUNION 2 z z2 WEIGHTS -0 1 AGGREGATE MAX WITHSCORES", "ZUNION 2 z2 z WEIGHTS 1 -0 AGGREGATE MIN WITHSCORES",
                        "SADD s x", "ZUNION 1 s WEIGHTS -0 WITHSCORES", "ZINTER 2 s z WEIGHTS -0 -0 WITHSCORES", "ZDIFF 1 z WITHSCORES",
                        ev("return redis.call('ZINCRBY', KEYS[1], '-0', 'q')", "z3"), ev("return redis.call('ZINCRBY', KEYS[1], -0.0, 'q')", "z4")],
    "z-negative-zero-skiplist": ["ZADD z 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ZINCRBY z -0 b", "ZSCORE z b", "ZINCRBY z 0 b", "ZINCRBY z -0 b", "ZRANGE z 0 -1 WITHSCORES"],
    # 3. script error texts: C strings (cut at a NUL), CR/LF
    "sc-error-nul": [ev("error('a\\0b')"), ev("error('\\0x')"), ev("error('a\\0b', 0)"), ev("error('\\0', 0)"), ev("error('')"), ev("error('', 0)"), ev("error('a\\255b', 0)"),
                     ev("error({err='a\\0b'})"), ev("error({err='\\0'})"), ev("error({err='\\0\\n'})"), ev("error({err='x', source='a\\0b', line='1\\0'})"),
                     ev("local ok, e = pcall(error, 'a\\0b') return e")],
    "sc-error-reply-nul": [ev("return redis.error_reply('a\\0b')"), ev("return redis.error_reply('\\0x')"), ev("return redis.error_reply('\\0\\n')"), ev("return redis.error_reply('')"),
                           ev("local t = redis.error_reply('a\\0b') return t.err"), ev("return {err='a\\0b'}"), ev("return {err='\\0'}"), ev("return {err='\\0\\n'}"),
                           ev("return {err='\\255\\0'}"), ev("return {err='\\255\\254'}"), ev("return redis.status_reply('a\\0b')"), ev("return {ok='a\\0b'}"), ev("return {ok=''}")],
    "sc-error-newlines": [ev("return {err='\\r\\n'}"), ev("return {err='\\n'}"), ev("return {err=' \\n '}"), ev("return {err='\\na'}"), ev("return {err='a\\n\\r'}"), ev("return {err=''}"),
                          ev("return redis.error_reply('\\n')"), ev("return redis.error_reply('a\\r\\nb')"), ev("return redis.status_reply('a\\r\\nb')"), ev("return {ok='\\n'}"),
                          ev("error('\\r\\n', 0)"), ev("error({err='\\n'})"), ev("error({err='a\\nb'})"), ev("error('x\\ny', 0)")],
    # 4. lex ranges over members with different scores (Redis's listpack walk)
    "z-lex-mixed-scores": ["ZADD z 3 a 1 b 2 c 0 d", "ZLEXCOUNT z - +", "ZLEXCOUNT z [a [c", "ZLEXCOUNT z (a +", "ZLEXCOUNT z - (c", "ZRANGE z [b + BYLEX LIMIT 0 1", "ZRANGEBYLEX z [b [d",
                           "ZRANGE z - + BYLEX LIMIT 1 2", "ZRANGE z + - BYLEX REV LIMIT 0 2", "ZREVRANGEBYLEX z [d [b", "ZRANGEBYLEX z - + LIMIT 1 1", "ZRANGEBYLEX z - -", "ZRANGEBYLEX z + +",
                           "ZRANGEBYLEX z [c [b", "ZRANGEBYLEX z [c (c", "ZRANGEBYLEX z [c [c", "ZRANGESTORE d z [b + BYLEX", "ZRANGESTORE d z - (b BYLEX", "ZRANGE d 0 -1", "ZREMRANGEBYLEX z [b [c", "ZRANGE z 0 -1 WITHSCORES"],
    "z-lex-mixed-offset": ["ZADD z 1 c 2 d -1 a 0 e", "ZRANGEBYLEX z (a [d LIMIT 2 -1", "ZRANGEBYLEX z (a [e LIMIT 1 -1", "ZRANGEBYLEX z - [c LIMIT 2 5", "ZREVRANGEBYLEX z [d - LIMIT 1 2",
                           "ZREVRANGEBYLEX z + (a LIMIT 3 1", "ZLEXCOUNT z (a [e", "ZLEXCOUNT z - [c", "ZREMRANGEBYLEX z - [c", "ZRANGE z 0 -1 WITHSCORES"],
    # 5. every Lua value type as a redis.call argument
    "sc-call-arg-types": [ev("return redis.pcall('SET', 'k', nil)"), ev("return redis.pcall('SET', 'k', true)"), ev("return redis.pcall('SET', 'k', false)"), ev("return redis.pcall('SET', 'k', {})"),
                          ev("return redis.pcall('SET', 'k', function() end)"), ev("return redis.pcall('SET', 'k', coroutine.create(function() end))"), ev("return redis.pcall('SET', 'k', redis.error_reply('x'))"),
                          ev("return redis.pcall(nil, 'k')"), ev("return redis.pcall(true)"), ev("return redis.pcall({})"), ev("return redis.pcall('NOSUCH', {})"), ev("return redis.pcall('GET', 'k', nil)"),
                          ev("local ok, e = pcall(redis.call, 'SET', 'k', {}) return e"), ev("return redis.call('SET', 'k', true)"), "EXISTS k"],
    "sc-call-arg-numbers": [ev("return redis.call('ECHO', 1.5)"), ev("return redis.call('ECHO', 2.0)"), ev("return redis.call('ECHO', 0/0)"), ev("return redis.call('ECHO', -(0/0))"), ev("return redis.call('ECHO', 1/0)"),
                            ev("return redis.call('ECHO', -1/0)"), ev("return redis.call('ECHO', -0.0)"), ev("return redis.call('ECHO', 0.1)"), ev("return redis.call('ECHO', 1e300)"), ev("return redis.call('ECHO', 2^53)"),
                            ev("return redis.call('ECHO', 2^63)"), ev("return redis.call('ECHO', -2^63)"), ev("return redis.call('ECHO', 1e-7)"), ev("return redis.call('ECHO', 1/3)"), ev("return redis.call('ECHO', 123456789012)"),
                            ev("return redis.pcall('INCRBY', 'n', 1.5)"), ev("return redis.pcall('INCRBY', 'n', 2.0)"), ev("return redis.pcall('EXPIRE', 'n', 0/0)"), ev("return redis.pcall('ZADD', 'z', 0/0, 'm')"),
                            ev("return redis.pcall('ZADD', 'z', 1/0, 'm')"), ev("return redis.pcall('LINDEX', 'l', 0.5)"), "GET n", "ZRANGE z 0 -1 WITHSCORES"],
})

# ---- geo (issue 22): sorted sets whose scores are 52-bit geohashes
SICILY = "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 Trapani"
CASES.update({
    "geo-add-options": [SICILY, "ZRANGE g 0 -1 WITHSCORES", "GEOADD g NX 0 0 Palermo 1 1 new", "GEOADD g XX 2 2 new2 13.4 38.1 Palermo", "GEOADD g CH 13.5 38.2 Palermo 3 3 fresh", "GEOADD g XX CH 13.6 38.3 Palermo",
                        "GEOADD g ch nx xx 1 1 a", "GEOADD g NX XX 1 1 a", "GEOADD g 1 1", "GEOADD g 1 1 a 2", "GEOADD g CH CH CH", "GEOADD g 200 100 a", "GEOADD g 1 85.05112879 a", "GEOADD g inf 0 a", "GEOADD g -inf 0 a", "GEOADD g 0 -90 a",
                        "GEOADD g abc 1 a", "GEOADD g 1 abc a", "GEOADD g 1 1 ok 200 1 bad", "ZSCORE g ok", "GEOADD g GT 1 1 a", "ZRANGE g 0 -1 WITHSCORES", "TYPE g", "OBJECT ENCODING g", "SET s v", "GEOADD s 1 1 a", "GEOADD s 200 1 a", "GEOADD"],
    "geo-pos-hash-dist": [SICILY, "GEOPOS g Palermo nope Catania", "GEOPOS g", "GEOPOS nokey a b", "GEOHASH g Palermo Catania nope", "GEOHASH g", "GEOHASH nokey a",
                          "GEODIST g Palermo Catania", "GEODIST g Palermo Catania m", "GEODIST g Palermo Catania KM", "GEODIST g Palermo Catania ft", "GEODIST g Palermo Catania mi", "GEODIST g Palermo Palermo", "GEODIST g Palermo Catania yd",
                          "GEODIST g Palermo Catania km x", "GEODIST g Palermo nope", "GEODIST nokey a b", "GEODIST nokey a b yd", "GEODIST g Palermo", "SET s v", "GEOPOS s a", "GEOHASH s a", "GEODIST s a b", "GEODIST s a b yd"],
    "geo-edges": ["GEOADD e 180 0 east -180 0 west 179.9999 0.5 near-e -179.9999 -0.5 near-w 0 85.05112878 top 0 -85.05112878 bottom 0 0 origin -0.0000001 0.0000001 tiny 45 84.9 high -120 -84.99 low",
                  "GEOPOS e east west near-e near-w top bottom origin tiny high low", "GEOHASH e east west near-e near-w top bottom origin tiny high low", "ZRANGE e 0 -1 WITHSCORES",
                  "GEODIST e east west", "GEODIST e near-e near-w km", "GEODIST e top bottom km", "GEODIST e origin tiny m", "GEODIST e high low mi",
                  "GEORADIUS e 180 0 200 km WITHDIST ASC", "GEORADIUS e -180 0 200 km WITHCOORD DESC", "GEOSEARCH e FROMLONLAT 179.99 0 BYBOX 100 300 km WITHDIST WITHCOORD ASC",
                  "GEOSEARCH e FROMMEMBER top BYRADIUS 3000 km WITHDIST", "GEOSEARCH e FROMMEMBER high BYBOX 5000 2000 km WITHCOORD WITHHASH", "GEOSEARCH e FROMMEMBER low BYRADIUS 1000 km WITHDIST", "GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 1 m WITHDIST WITHCOORD WITHHASH", "GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 0 m"],
    "geo-radius-options": [SICILY, "GEORADIUS g 15 37 200 km", "GEORADIUS g 15 37 200 km WITHDIST", "GEORADIUS g 15 37 200 km WITHCOORD", "GEORADIUS g 15 37 200 km WITHHASH", "GEORADIUS g 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
                           "GEORADIUS g 15 37 200 km withhash withdist DESC", "GEORADIUS g 15 37 200000 m COUNT 1", "GEORADIUS g 15 37 200 km COUNT 2 DESC", "GEORADIUS g 15 37 300 km COUNT 1 ANY", "GEORADIUS g 15 37 300 km COUNT 5 ANY WITHDIST",
                           "GEORADIUS g 15 37 100 mi WITHDIST", "GEORADIUS g 15 37 500000 ft WITHDIST", "GEORADIUS g 15 37 1 m", "GEORADIUS nokey 15 37 1 m", "GEORADIUS g 15 37 -1 km", "GEORADIUS g 15 37 x km", "GEORADIUS g 15 37 1 yd", "GEORADIUS g 200 37 1 km",
                           "GEORADIUS g 15 37 1 km COUNT 0", "GEORADIUS g 15 37 1 km COUNT -1", "GEORADIUS g 15 37 1 km COUNT x", "GEORADIUS g 15 37 1 km COUNT", "GEORADIUS g 15 37 1 km ANY", "GEORADIUS g 15 37 1 km FOO", "GEORADIUS g 15 37 1 km FROMMEMBER Palermo",
                           "GEORADIUSBYMEMBER g Palermo 200 km WITHDIST", "GEORADIUSBYMEMBER g Palermo 200 km WITHCOORD COUNT 2 ASC", "GEORADIUSBYMEMBER g nope 200 km", "GEORADIUSBYMEMBER nokey nope x yd", "GEORADIUSBYMEMBER nokey nope 1 km STORE d WITHDIST", "GEORADIUSBYMEMBER g Palermo x km",
                           "GEORADIUS_RO g 15 37 200 km WITHDIST", "GEORADIUS_RO g 15 37 200 km STORE d", "GEORADIUSBYMEMBER_RO g Palermo 100 km WITHDIST", "GEORADIUSBYMEMBER_RO g Palermo 100 km STOREDIST d", "SET s v", "GEORADIUS s 200 0 1 km", "GEORADIUSBYMEMBER s a x km"],
    "geo-search-options": [SICILY, "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 200 km ASC WITHDIST", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 200 400 km DESC",
                           "GEOSEARCH g FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1 ANY", "GEOSEARCH g FROMMEMBER Palermo BYBOX 0 0 m WITHDIST", "GEOSEARCH g FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 1 km", "GEOSEARCH g FROMLONLAT 15 37 FROMMEMBER Catania BYRADIUS 1 km",
                           "GEOSEARCH g FROMMEMBER Catania FROMLONLAT 15 37 BYRADIUS 1 km", "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 1 km BYBOX 1 1 km", "GeoSearch g BYRADIUS 1 km", "geosearch g FROMMEMBER Palermo ASC WITHDIST", "GEOSEARCH g FROMMEMBER nope BYRADIUS 1 km",
                           "GEOSEARCH nokey FROMMEMBER nope BYRADIUS 1 km", "GEOSEARCH nokey FROMMEMBER nope BYRADIUS x km", "GEOSEARCH g FROMLONLAT 15 37 BYBOX -1 1 km", "GEOSEARCH g FROMLONLAT 15 37 BYBOX x 1 km", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 x km", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 1 yd",
                           "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km STORE d", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km STOREDIST", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km ANY", "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1 km COUNT 0", "GEOSEARCH g FROMLONLAT 15 BYRADIUS 1 km",
                           "GEOSEARCH g FROMLONLAT 15 37 BYRADIUS 1", "GEOSEARCH g FROMLONLAT 15 37 BYBOX 1 1", "GEOSEARCH g FROMLONLAT 15 91 BYRADIUS 1 km", "SET s v", "GEOSEARCH s FROMLONLAT 15 37 BYRADIUS 1 km", "GEOSEARCH s FOO"],
    "geo-store": [SICILY, "SET d v", "GEORADIUS g 15 37 200 km STORE d", "TYPE d", "ZRANGE d 0 -1 WITHSCORES", "GEORADIUS g 15 37 200 km STOREDIST d", "ZRANGE d 0 -1 WITHSCORES", "GEORADIUS g 15 37 200 km STOREDIST d COUNT 1 DESC", "ZRANGE d 0 -1 WITHSCORES",
                  "EXPIRE d 100", "GEORADIUSBYMEMBER g Palermo 300 km STORE d STOREDIST d2", "TTL d", "ZRANGE d2 0 -1 WITHSCORES", "GEORADIUS g 15 37 1 m STORE d", "EXISTS d", "GEORADIUS g 15 37 1 km STORE d WITHDIST", "GEORADIUS nokey 15 37 1 km STORE d2", "EXISTS d2",
                  "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 200 km", "ZRANGE d 0 -1 WITHSCORES", "GEOSEARCHSTORE d g FROMMEMBER Palermo BYRADIUS 200 km STOREDIST ASC", "ZRANGE d 0 -1 WITHSCORES", "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km COUNT 2 DESC STOREDIST", "ZRANGE d 0 -1 WITHSCORES",
                  "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km WITHDIST", "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km STORE x", "GEOSEARCHSTORE d nokey FROMMEMBER a BYRADIUS 1 km", "EXISTS d", "GEOSEARCHSTORE g g FROMMEMBER Palermo BYRADIUS 10 km", "ZRANGE g 0 -1",
                  "SET s v", "GEOSEARCHSTORE d s FROMMEMBER a BYRADIUS 1 km", "GEOSEARCHSTORE s g FROMMEMBER Palermo BYRADIUS 1 km", "TYPE s"],
    "geo-ties-and-many": ["GEOADD t 10 10 m00 10 10 m01 10 10 m02 10 10 m03 10 10 m04 10 10 m05 10 10 m06 10 10 m07 10 10 m08 10 10 m09 10 10 m10 10 10 m11 10.001 10 n1 10.001 10 n2 10.001 10 n3 9.999 10 n4 9.999 10 n5 10 10.001 n6 10 9.999 n7",
                          "GEORADIUS t 10 10 1 km", "GEORADIUS t 10 10 1 km ASC", "GEORADIUS t 10 10 1 km DESC", "GEORADIUS t 10 10 1 km COUNT 3", "GEORADIUS t 10 10 1 km COUNT 7 ASC", "GEORADIUS t 10 10 1 km COUNT 9 DESC WITHDIST", "GEORADIUS t 10 10 1 km COUNT 14 DESC",
                          "GEORADIUS t 10.001 10 1 km COUNT 4 WITHDIST", "GEORADIUS t 10 10 1 km COUNT 4 ANY", "GEORADIUS t 10 10 1 km COUNT 4 ANY ASC", "GEOSEARCH t FROMMEMBER n1 BYBOX 1 1 km COUNT 10 DESC WITHDIST"],
    "geo-plain-zset": ["ZADD z 1.5 a -1 b 1e300 c 0 d 4503599627370496 e -inf f inf g 4503599627370495 h", "GEOPOS z a b c d e f g h", "GEOHASH z a b c d e f g h", "GEODIST z a h km", "GEODIST z f g", "GEORADIUS z -180 -85 1000 km WITHHASH WITHCOORD", "GEOSEARCH z FROMMEMBER h BYRADIUS 1 km WITHHASH"],
    "geo-huge-radius": [SICILY, "GEOADD g -73.9 40.7 NewYork 139.7 35.7 Tokyo -43.2 -22.9 Rio 151.2 -33.9 Sydney", "GEORADIUS g 0 0 20000 km WITHDIST", "GEORADIUS g 15 37 5000 km", "GEORADIUS g 15 37 10000 km WITHDIST ASC", "GEORADIUS g 15 37 25000 km COUNT 3 DESC",
                        "GEOSEARCH g FROMMEMBER Tokyo BYBOX 40000 40000 km WITHDIST", "GEOSEARCH g FROMMEMBER Sydney BYRADIUS 8000 mi WITHDIST DESC", "GEORADIUS g 15 37 inf km", "GEOSEARCH g FROMLONLAT 0 0 BYBOX inf 1 m"],
    "geo-script": [SICILY,
                   ev("return redis.call('GEOADD', KEYS[1], 13.583333, 37.316667, 'Agrigento')", "g"),
                   ev("return redis.call('GEOPOS', KEYS[1], 'Palermo', 'nope')", "g"),
                   ev("local p = redis.call('GEOPOS', KEYS[1], 'nope') return {type(p[1]), tostring(p[1])}", "g"),
                   ev("return redis.call('GEODIST', KEYS[1], 'Palermo', 'Agrigento', 'km')", "g"),
                   ev("return redis.call('GEOSEARCH', KEYS[1], 'FROMMEMBER', 'Agrigento', 'BYRADIUS', 150, 'km', 'WITHDIST', 'WITHCOORD', 'WITHHASH', 'ASC')", "g"),
                   ev("return redis.call('GEOHASH', KEYS[1], 'Agrigento', 'nope')", "g"),
                   ev("redis.setresp(3) return redis.call('GEOPOS', KEYS[1], 'Palermo', 'nope')", "g"),
                   ev("redis.setresp(3) local p = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', 13, 38, 'BYRADIUS', 100, 'km', 'WITHCOORD', 'WITHDIST') return {p[1][1], p[1][2], tostring(p[1][3][1].double), type(p[1][3][2])}", "g"),
                   ev("return redis.pcall('GEOADD', KEYS[1], 200, 0, 'x')", "g"),
                   ev("return redis.pcall('GEOSEARCH', KEYS[1], 'BYRADIUS', 1, 'km')", "g"),
                   ev("redis.call('GEOADD', KEYS[1], 1, 1, 'before') return redis.call('GEOADD', KEYS[1], 1, 100, 'after')", "g2"), "GEOPOS g2 before after",
                   ev("return redis.call('GEORADIUS', KEYS[1], 15, 37, 200, 'km', 'STORE', KEYS[2])", "g", "dst"), "ZRANGE dst 0 -1",
                   ["EVAL_RO", "return redis.call('GEORADIUS_RO', KEYS[1], 15, 37, 200, 'km')", "1", "g"],
                   ["EVAL_RO", "return redis.call('GEORADIUS', KEYS[1], 15, 37, 200, 'km')", "1", "g"],
                   ["EVAL_RO", "return redis.call('GEOADD', KEYS[1], 1, 1, 'x')", "1", "g"],
                   ["EVAL_RO", "return redis.call('GEOSEARCH', KEYS[1], 'FROMMEMBER', 'Palermo', 'BYRADIUS', 1, 'm')", "1", "g"]],
    "geo-multi": ["MULTI", SICILY, "GEOADD g 200 0 bad", "GEOPOS g Palermo", "GEODIST g Palermo Catania mi", "GEOSEARCHSTORE d g FROMMEMBER Catania BYRADIUS 300 km STOREDIST", "GEORADIUS g 15 37 200 km WITHDIST WITHHASH", "SET s v", "GEOADD s 1 1 x", "EXEC",
                  "ZRANGE d 0 -1 WITHSCORES", "MULTI", "GEOADD g 1 1", "GEOHASH g Palermo", "EXEC", "MULTI", "GEORADIUSBYMEMBER g Palermo 1 km STORE d", "GEOSEARCH g FROMMEMBER Palermo BYBOX 1 1 km", "EXEC", "EXISTS d"],
})

# ==== DUMP / RESTORE / MEMORY USAGE (dump branch; keep this block last) ====
def crc64_jones(data):
    """Redis's crc64 (Jones polynomial, reflected), for payloads built here."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x95AC9329AC4BC9B5 if crc & 1 else 0)
    return crc

def payload(body_hex, version=10):
    """A DUMP payload: the object, the RDB version, a correct CRC."""
    body = bytes.fromhex(body_hex) + version.to_bytes(2, "little")
    return {"hex": (body + crc64_jones(body).to_bytes(8, "little")).hex()}

DUMP_TYPES = ["SET s hello", "SET i 12345", "SET n -9223372036854775808", "SET a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "SET t 'the quick brown fox jumps over the lazy dog, the quick brown cat'",
              "RPUSH l a b 1 -1 128 -4096 70000 9000000 3000000000 ''", "SADD si 3 1 2 -5", "SADD sw 1 70000 -5000000000", "SADD ss a", "HSET h f v n 5 neg -123456",
              "HSET hl f vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", "ZADD z 1 a 2.5 b -3 c inf d 0.1 e 123456789012 f",
              "ZADD zl 1 mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm 2 x", "SETBIT b 100 1", "PFADD p a b c"]
DUMP_KEYS = ["s", "i", "n", "a", "t", "l", "si", "sw", "ss", "h", "hl", "z", "zl", "b", "p"]
READ = {"s": "GET", "i": "GET", "n": "GET", "a": "GET", "t": "GET", "b": "GET", "p": "GET", "l": "LRANGE {} 0 -1", "si": "SMEMBERS", "sw": "SMEMBERS", "ss": "SMEMBERS",
        "h": "HGETALL", "hl": "HGETALL", "z": "ZRANGE {} 0 -1 WITHSCORES", "zl": "ZRANGE {} 0 -1 WITHSCORES"}

def read(key, as_key):
    r = READ[key]
    return r.format(as_key) if "{}" in r else f"{r} {as_key}"

CASES.update({
    "k-dump-types": DUMP_TYPES + [f"DUMP {k}" for k in DUMP_KEYS] + ["DUMP nokey", "DUMP", "DUMP a b"],
    "k-dump-restore-each": DUMP_TYPES + [ev(f"return redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1]))", k, "r" + k) for k in DUMP_KEYS]
                           + sum([[f"TYPE r{k}", f"OBJECT ENCODING r{k}", read(k, "r" + k)] for k in DUMP_KEYS], []),
    "k-restore-errors": ["SET k v", ev("return redis.call('DUMP', KEYS[1])", "k"), ["RESTORE", "x", "0", "garbage"], "RESTORE x -1 foo", "RESTORE x abc foo", "RESTORE k 0 foo",
                         "RESTORE k -1 foo REPLACE", "RESTORE x 0 foo REPLACE ABSTTL IDLETIME -1", "RESTORE x 0 foo IDLETIME 5 FREQ 3", "RESTORE x 0 foo FREQ 3 IDLETIME 5", "RESTORE x 0 foo FREQ 300",
                         "RESTORE x 0 foo FREQ -1", "RESTORE x 0 foo IDLETIME abc", "RESTORE x 0 foo BOGUS", "RESTORE x 0 foo IDLETIME", "RESTORE x 0 foo FREQ", "RESTORE x 0", "RESTORE x 0 ''",
                         ["RESTORE", "x", "0", payload("000568656c6c6f", version=11)], ["RESTORE", "x", "0", payload("000568656c6c6f", version=9)], "GET x",
                         ["RESTORE", "y", "0", {"hex": "000568656c6c6f0a000000000000000000"}], ["RESTORE", "y1", "0", payload("630568656c6c6f")], ["RESTORE", "y2", "0", payload("000568656c6c")], "GET y2",
                         ["RESTORE", "y3", "0", payload("000568656c6c6f00")], "GET y3", ["RESTORE", "y4", "0", payload("1200")], ["RESTORE", "y5", "0", payload("0b080200000000000000")],
                         ["RESTORE", "y6", "0", payload("0200")], ["RESTORE", "y7", "0", payload("0202016101")], ["RESTORE", "y8", "0", payload("0203016101610162")], ["RESTORE", "y9", "0", payload("10070700000000ff")],
                         ["RESTORE", "y10", "0", payload("0401016601")], ["RESTORE", "y11", "0", payload("00c3050301616161")], ["RESTORE", "y12", "0", payload("00c3020a0161")], ("KEYS y*", U)],
    "k-restore-options": ["SET k v", "SET other o", ev("redis.call('SET', KEYS[2], redis.call('DUMP', KEYS[1])) return 1", "k", "p"),
                          ev("return redis.call('RESTORE', KEYS[1], 0, redis.call('GET', KEYS[2]))", "r", "p"), "TTL r", "GET r",
                          ev("return redis.call('RESTORE', KEYS[1], 100000, redis.call('GET', KEYS[2]), 'REPLACE')", "r", "p"), "TTL r",
                          ev("return redis.call('RESTORE', KEYS[1], 4102444800000, redis.call('GET', KEYS[2]), 'REPLACE', 'ABSTTL')", "r", "p"), "PEXPIRETIME r",
                          ev("return redis.call('RESTORE', KEYS[1], 1, redis.call('GET', KEYS[2]), 'ABSTTL', 'REPLACE')", "other", "p"), "EXISTS other",
                          ev("return redis.call('RESTORE', KEYS[1], 1, redis.call('GET', KEYS[2]), 'ABSTTL')", "fresh", "p"), "EXISTS fresh",
                          ev("return redis.call('RESTORE', KEYS[1], 0, redis.call('GET', KEYS[2]), 'REPLACE', 'IDLETIME', '10')", "r", "p"), "TTL r",
                          ev("return redis.call('RESTORE', KEYS[1], 0, redis.call('GET', KEYS[2]), 'replace', 'freq', '5', 'absttl')", "r", "p"), "GET r",
                          ev("return redis.pcall('RESTORE', KEYS[1], 0, redis.call('GET', KEYS[2]))", "r", "p"),
                          "MULTI", "DUMP k", "RESTORE k2 0 x", "EXEC", "RPUSH l a",
                          ev("redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1])) redis.call('RPUSH', KEYS[2], 'b') return redis.call('LRANGE', KEYS[2], 0, -1)", "l", "l2"),
                          "SET s x", ev("redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1])) return redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1]))", "s", "s2"), "GET s2"],
    "k-restore-old-encodings": [["RESTORE", "s", "0", payload("000568656c6c6f")], ["RESTORE", "i", "0", payload("00c13930")], ["RESTORE", "l1", "0", payload("0103016101620163")],
                                ["RESTORE", "s1", "0", payload("020201610162")], ["RESTORE", "s2", "0", payload("0202c001c002")], ["RESTORE", "h1", "0", payload("040101660176")],
                                ["RESTORE", "z1", "0", payload("05020161000000000000f03f01620000000000000040")], ["RESTORE", "z0", "0", payload("0302016103312e350162fe")],
                                "GET s", "GET i", "OBJECT ENCODING i", "LRANGE l1 0 -1", "OBJECT ENCODING l1", ("SMEMBERS s1", U), "OBJECT ENCODING s1", "SMEMBERS s2", "OBJECT ENCODING s2",
                                "HGETALL h1", "OBJECT ENCODING h1", "ZRANGE z1 0 -1 WITHSCORES", "OBJECT ENCODING z1", "ZRANGE z0 0 -1 WITHSCORES", "OBJECT ENCODING z0", "DBSIZE"],
    "k-memory-usage": ["SET s hello", "SET i 12345", "SET r " + "x" * 100, "SADD si 1 2 3", "HSET h f v", "ZADD z 1 a", "RPUSH l a b c", "SETBIT b 100 1",
                       "MEMORY USAGE s", "MEMORY USAGE i", "MEMORY USAGE r", "MEMORY USAGE si", "MEMORY USAGE h", "MEMORY USAGE z", "MEMORY USAGE l", "MEMORY USAGE b", "MEMORY USAGE s SAMPLES 0",
                       "MEMORY USAGE s SAMPLES 100", "MEMORY USAGE nokey", "MEMORY USAGE nokey SAMPLES x", "MEMORY USAGE s SAMPLES", "MEMORY USAGE s SAMPLES -1", "MEMORY USAGE s SAMPLES x",
                       "MEMORY USAGE s foo", "MEMORY USAGE s samples 5 samples 2", "MEMORY USAGE", "MEMORY", "MEMORY FOO", "memory usage s", ev("return redis.call('MEMORY', 'USAGE', KEYS[1])", "s")],
    "x-dump-restore-stream": ["XADD x 1-1 f v", "XADD x 1-2 f w g x", "XADD x 2-0 f 12", "XGROUP CREATE x g 0", "XGROUP CREATE x g2 1-2", "DUMP x",
                              ev("return redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1]))", "x", "y"), "TYPE y", "OBJECT ENCODING y", "XRANGE y - +", "XINFO GROUPS y",
                              "XADD y 3-0 a b", "XREADGROUP GROUP g c STREAMS y >", "XPENDING y g", "XLEN y", "XGROUP CREATE e g $ MKSTREAM", "DUMP e",
                              ev("return redis.call('RESTORE', KEYS[2], 0, redis.call('DUMP', KEYS[1]))", "e", "e2"), "XINFO GROUPS e2", "XLEN e2"],
    "k-object-encoding-new-types": ["XADD x 1-1 f v", "OBJECT ENCODING x", "SETBIT b 7 1", "OBJECT ENCODING b", "SETBIT b2 100 1", "OBJECT ENCODING b2", "PFADD p a b", "OBJECT ENCODING p",
                                    "SET s 1", "SETBIT s 0 1", "OBJECT ENCODING s", "SET n 12", "BITFIELD n GET u8 0", "OBJECT ENCODING n", "PFADD e", "OBJECT ENCODING e", "PFCOUNT e", "OBJECT ENCODING e"],
})

# ---- issue 22, streams: XINFO STREAM FULL, XINFO HELP, XGROUP HELP, BLOCK timing out ----
# (no consumers or pending entries under FULL here: their seen/delivery times are wall-clock ms;
# tests/streams.rs checks those with a manual clock)
CASES.update({
    "x-info-full": ["XADD s 1-1 a 1", "XADD s 2-1 b 2 c 3", "XADD s 3-1 d 4", "XINFO STREAM s FULL", "XDEL s 2-1", "XGROUP CREATE s g 0", "XGROUP CREATE s h $ ENTRIESREAD 2",
                    "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s full count 0", "XINFO STREAM s FULL COUNT -1", "XINFO STREAM s FULL COUNT 2",
                    "XINFO STREAM s FULL COUNT x", "XINFO STREAM s FULL COUNT 99999999999999999999", "XINFO STREAM s FULL COUNT", "XINFO STREAM s FULL x y", "XINFO STREAM s FULL COUNT 1 x", "XINFO STREAM s COUNT 1",
                    "XINFO STREAM nokey FULL", "XINFO STREAM nokey FULL COUNT x", "XINFO STREAM nokey FOO", "SET str v", "XINFO STREAM str FULL COUNT x", "XINFO STREAM str FOO",
                    "XGROUP CREATE e g $ MKSTREAM", "XINFO STREAM e FULL", "XADD e 5-5 x y", "XDEL e 5-5", "XINFO STREAM e FULL", "XSETID e 9-9 ENTRIESADDED 7 MAXDELETEDID 8-8", "XINFO STREAM e FULL"],
    "x-info-full-script": ["XADD s 1-1 a 1", "XGROUP CREATE s g $",
                           ev("return redis.call('XINFO', 'STREAM', KEYS[1], 'FULL')", "s"),
                           ev("return redis.pcall('XINFO', 'STREAM', KEYS[1], 'FULL', 'COUNT', 'x')", "s"),
                           ev("redis.setresp(3) local r = redis.call('XINFO', 'STREAM', KEYS[1], 'FULL') return {type(r.map), r.map['length'], r.map['last-generated-id'], r.map['groups'][1].map['name']}", "s"),
                           "MULTI", "XINFO STREAM s FULL COUNT 1", "XINFO STREAM s FULL COUNT", "XINFO STREAM nokey FULL", "EXEC"],
    "x-help": ["XINFO HELP", "XGROUP HELP", "xinfo help", "XGROUP Help", "XINFO HELP extra", "XGROUP HELP extra", "XINFO", "XGROUP", "XINFO FOO", "XGROUP FOO",
               ev("return redis.call('XINFO', 'HELP')"), ev("return redis.call('XGROUP', 'HELP')"), ev("return redis.pcall('XGROUP', 'HELP', 'x')"),
               "MULTI", "XINFO HELP", "XGROUP HELP", "EXEC"],
    "x-block-timeout": ["XREAD BLOCK 10 STREAMS nokey $", "XGROUP CREATE s g $ MKSTREAM", "XREADGROUP GROUP g c BLOCK 10 STREAMS s >", "XINFO GROUPS s", "XREAD BLOCK 10 STREAMS s $",
                        "XADD s 1-1 a 1", "XREAD BLOCK 10 STREAMS s 1-1", "XREAD COUNT 1 BLOCK 10 STREAMS nokey s $ 0", "XREADGROUP GROUP g c BLOCK 10 STREAMS s 0", "XINFO GROUPS s",
                        "XREADGROUP GROUP g c BLOCK 10 STREAMS s >", "XREADGROUP GROUP g c2 BLOCK 10 STREAMS s >", "XINFO GROUPS s", "XREAD BLOCK 10 STREAMS s s $ 0"],
})

# ---- issue #11, engine fidelity (fidelity branch): SORT BY <constant> ----
CASES.update({
    "k-sort-nosort-desc-limit": ["ZADD z 1 a 2 b 3 c 4 d 5 e", "SORT z BY nosort", "SORT z BY nosort DESC", "SORT z BY nosort LIMIT 1 2", "SORT z BY nosort DESC LIMIT 1 2",
                                 "SORT z BY nosort DESC LIMIT 3 10", "SORT z BY nosort DESC LIMIT 9 2", "SORT z BY nosort LIMIT -3 2", "SORT z BY nosort DESC LIMIT 0 -1", "SORT z BY const DESC LIMIT 0 3 GET #",
                                 "RPUSH l c a e b d", "SORT l BY nosort DESC", "SORT l BY nosort DESC LIMIT 1 3", "SORT l BY nosort LIMIT 2 2", "SORT l BY nokey DESC LIMIT 4 5", "SORT l BY nosort DESC LIMIT 5 1",
                                 "SORT l BY nosort DESC LIMIT 1 2 STORE dst", "LRANGE dst 0 -1", "SORT z BY nosort DESC LIMIT 0 2 STORE dst", "LRANGE dst 0 -1",
                                 "SADD ints 30 10 20", "SORT ints BY nosort", "SORT ints BY nosort DESC LIMIT 0 2"],
    "k-sort-constant-store-script": ["SADD s banana apple cherry 10 9", "SORT s BY nosort STORE dst", "LRANGE dst 0 -1", "SORT s BY constant DESC STORE dst", "LRANGE dst 0 -1",
                                     "SORT s BY nosort LIMIT 1 2 STORE dst", "LRANGE dst 0 -1", "SORT s BY nosort GET # STORE dst", "LRANGE dst 0 -1",
                                     ev("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", "s"),
                                     ev("return redis.call('SORT', KEYS[1], 'BY', 'x', 'DESC', 'LIMIT', 1, 3)", "s"),
                                     ev("return redis.call('SORT_RO', KEYS[1], 'BY', 'nosort', 'DESC')", "s"),
                                     ev("return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'ALPHA')", "s"),
                                     "RPUSH l c a b", ev("return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'DESC')", "l"),
                                     "ZADD z 3 a 1 c 2 b", ev("return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2)", "z")],
})

# ---- issue #11: COMMAND GETKEYS / LIST, CLUSTER disabled, FUNCTION FLUSH arity (main) ----
CASES.update({
    "k-command-getkeys": ["COMMAND GETKEYS SET a b", "COMMAND GETKEYS MSET a 1 b 2", "COMMAND GETKEYS GET", "COMMAND GETKEYS GET a b",
                          "COMMAND GETKEYS PING x", "COMMAND GETKEYS NOSUCH a", "COMMAND GETKEYS EVAL x 2 a b c", "COMMAND GETKEYS EVAL x 0",
                          "COMMAND GETKEYS ZUNIONSTORE d 2 a b", "COMMAND GETKEYS SORT l BY w* STORE d", "COMMAND GETKEYS SORT_RO l",
                          "COMMAND GETKEYS XREAD COUNT 2 STREAMS a b 0 0", "COMMAND GETKEYS XREADGROUP GROUP g c STREAMS a >",
                          "COMMAND GETKEYS GEORADIUS g 0 0 1 km STORE d", "COMMAND GETKEYS LMPOP 2 a b LEFT", "COMMAND GETKEYS BZMPOP 1 2 a b MIN",
                          "COMMAND GETKEYS RENAME a b", "COMMAND GETKEYS OBJECT ENCODING k", "COMMAND GETKEYS CLIENT ID",
                          ("COMMAND LIST FILTERBY PATTERN xa*", U), "COMMAND LIST FILTERBY MODULE x", "COMMAND LIST FILTERBY FOO x", "COMMAND LIST EXTRA"],
    "g-cluster-disabled": ["CLUSTER INFO", "CLUSTER KEYSLOT a", "CLUSTER KEYSLOT", "CLUSTER nosuch", "CLUSTER HELP",
                           ev("return redis.pcall('CLUSTER', 'INFO')"), ev("return redis.pcall('CLUSTER', 'KEYSLOT', 'a')"),
                           "FUNCTION FLUSH a b", "FUNCTION FLUSH x", "FUNCTION FLUSH SYNC"],
})

# ---- issue #11: CONFIG SET of the small encodings (main); every case ends with the defaults ----
RESET_ENC = "CONFIG SET hash-max-listpack-entries 512 hash-max-listpack-value 64 zset-max-listpack-entries 128 zset-max-listpack-value 64 set-max-intset-entries 512 list-max-listpack-size -2 maxmemory 0"
CASES.update({
    "g-config-encodings": ["CONFIG SET hash-max-listpack-entries 2", "HSET h a 1 b 2", "OBJECT ENCODING h", "HSET h c 3", "OBJECT ENCODING h",
                           "CONFIG SET hash-max-ziplist-value 3", "HSET h2 f abcd", "OBJECT ENCODING h2", ("CONFIG GET hash-max-*", P),
                           "CONFIG SET zset-max-listpack-entries 1", "ZADD z 1 a", "OBJECT ENCODING z", "ZADD z 2 b", "OBJECT ENCODING z",
                           "CONFIG SET zset-max-ziplist-value 2", "ZADD z2 1 abc", "OBJECT ENCODING z2",
                           "CONFIG SET set-max-intset-entries 2", "SADD s 1 2", "OBJECT ENCODING s", "SADD s 3", "OBJECT ENCODING s",
                           "SADD u 1 2 3", "OBJECT ENCODING u", "SUNIONSTORE d s", "OBJECT ENCODING d",
                           "CONFIG SET list-max-listpack-size 5", ("CONFIG GET list-max-*", P), "CONFIG SET list-max-ziplist-size -7",
                           RESET_ENC, "OBJECT ENCODING h"],
    "g-config-set-errors": ["CONFIG SET hash-max-listpack-entries -1", "CONFIG SET hash-max-listpack-entries abc", "CONFIG SET zset-max-listpack-value 99999999999999999999",
                            "CONFIG SET set-max-intset-entries 1.5", "CONFIG SET save abc", "CONFIG SET save 100", "CONFIG SET save '100 10'", "CONFIG GET save",
                            "CONFIG SET save ''", "CONFIG SET maxmemory -1", "CONFIG SET maxmemory 10mb", "CONFIG GET maxmemory", "CONFIG SET maxmemory 1GB", "CONFIG GET maxmemory",
                            "CONFIG SET maxmemory 5k", "CONFIG GET maxmemory", "CONFIG SET hash-max-listpack-entries 10 hash-max-listpack-entries 11",
                            "CONFIG SET hash-max-listpack-entries 10 hash-max-ziplist-entries 11", "CONFIG GET hash-max-ziplist-entries",
                            "CONFIG SET foo 1", "CONFIG SET hash-max-listpack-entries 5 foo 1", "CONFIG GET hash-max-listpack-entries", RESET_ENC],
})

# ---- issue 22: every new command the same three ways: alone, in a script (redis.pcall, so an
# error is the reply too), inside MULTI. Times (IDLE, XINFO CONSUMERS) are left out: they move.
def pcall(line):
    quoted = ["'" + a.replace("\\", "\\\\").replace("'", "\\'") + "'" for a in shlex.split(line)]
    return ev("return redis.pcall(" + ", ".join(quoted) + ")")

def three_ways(setup, lines):
    return (setup + lines + ["FLUSHALL"] + setup + [pcall(l) for l in lines]
            + ["FLUSHALL"] + setup + ["MULTI"] + lines + ["EXEC"])

CASES.update({
    "x-three-ways": three_ways(
        ["XADD s 1-1 a 1", "XADD s 2-1 b 2", "XADD s 3-1 c 3", "XGROUP CREATE s g 0"],
        ["XADD s 4-1 d 4", "XADD s 4-1 d 4", "XADD s NOMKSTREAM 5-1 e 5", "XLEN s", "XRANGE s - + COUNT 2", "XREVRANGE s + (1-1",
         "XREAD COUNT 1 STREAMS s 0", "XREADGROUP GROUP g alice COUNT 2 STREAMS s >", "XPENDING s g", "XACK s g 1-1",
         "XCLAIM s g bob 0 2-1 JUSTID", "XAUTOCLAIM s g carol 0 - COUNT 5 JUSTID", "XGROUP CREATECONSUMER s g dan",
         "XGROUP DELCONSUMER s g dan", "XGROUP SETID s g 0 ENTRIESREAD 0", "XINFO GROUPS s", "XINFO STREAM s", "XDEL s 3-1",
         "XTRIM s MAXLEN 2", "XSETID s 9-0", "XGROUP DESTROY s g", "XADD s 1-0 x y", "XRANGE s x +", "XGROUP CREATE s g 0 MKSTREAM",
         "XINFO STREAM s", "XRANGE s - +"]),
    "geo-three-ways": three_ways(
        [SICILY],
        ["GEOADD g 13.5 38 X", "GEOPOS g Palermo X nope", "GEODIST g Palermo Catania km", "GEOHASH g Palermo X",
         "GEOSEARCH g FROMMEMBER Palermo BYRADIUS 200 km ASC WITHDIST", "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYBOX 400 400 km",
         "GEORADIUS g 15 37 200 km WITHCOORD ASC", "GEORADIUS_RO g 15 37 200 km ASC", "GEORADIUSBYMEMBER g Palermo 100 km ASC",
         "GEORADIUSBYMEMBER_RO g Palermo 100 km WITHHASH ASC", "GEORADIUSBYMEMBER g Palermo 300 km STORE d2", "ZRANGE d2 0 -1 WITHSCORES",
         "GEOADD g 200 100 bad", "GEOSEARCH g FROMMEMBER nope BYRADIUS 1 km"]),
    "s-bits-hll-three-ways": three_ways(
        [],
        ["SETBIT b 7 1", "SETBIT b 7 2", "GETBIT b 7", "BITCOUNT b 0 -1 BIT", "BITPOS b 1", "BITOP OR c b b", "GET c",
         "BITFIELD b INCRBY u4 0 20 OVERFLOW SAT INCRBY u4 4 20", "BITFIELD_RO b GET u8 0", "BITFIELD_RO b SET u8 0 1",
         "PFADD h a b c", "PFCOUNT h", "PFMERGE h2 h", "PFCOUNT h h2", "PFDEBUG ENCODING h", "PFDEBUG DECODE h", "PFDEBUG TODENSE h",
         "PFDEBUG ENCODING h", "PFCOUNT h", "PFADD b x", "PFSELFTEST",
         "DUMP b", "RESTORE b 0 x", "RESTORE b2 0 x", "MEMORY USAGE b", "OBJECT ENCODING b", "OBJECT ENCODING h"]),
})

# ---- issue 17: SLOWLOG and the common CONFIG parameters (timeout, requirepass, slowlog-*) ----
CASES.update({
    "g-slowlog-config": ["SLOWLOG GET -2", "SLOWLOG GET x", "SLOWLOG GET 0", "SLOWLOG FOO", "SLOWLOG LEN x", "SLOWLOG RESET x", "SLOWLOG GET 1 2", "SLOWLOG HELP", "SLOWLOG",
                         "CONFIG SET timeout -1", "CONFIG SET timeout abc", "CONFIG SET timeout 3000000000", "CONFIG SET slowlog-log-slower-than -2",
                         "CONFIG SET slowlog-log-slower-than x", "CONFIG SET slowlog-max-len -1", "CONFIG SET slowlog-max-len 99999999999999999999",
                         "CONFIG GET timeout", "CONFIG SET timeout 30", "CONFIG GET timeout", "CONFIG SET timeout 0", "CONFIG GET slowlog-log-slower-than",
                         "CONFIG GET slowlog-max-len", "CONFIG GET requirepass", "CONFIG SET slowlog-max-len 0", "SLOWLOG RESET", "SET a 1", "SLOWLOG LEN",
                         "CONFIG SET slowlog-max-len 128", "SLOWLOG RESET", "SLOWLOG LEN", "SLOWLOG GET",
                         ev("return redis.pcall('SLOWLOG', 'LEN')"), "MULTI", "SLOWLOG LEN", "CONFIG GET slowlog-max-len", "EXEC"],
})

# ---- issue 17: CLIENT PAUSE's refusals; subcommand syntax errors name the subcommand as typed ----
CASES.update({
    "g-client-pause-subcommand-errors": ["CLIENT PAUSE", "CLIENT PAUSE x", "CLIENT PAUSE -1", "CLIENT PAUSE 1 foo", "CLIENT PAUSE 1 Write x",
                                         "CLIENT UNPAUSE x", "CLIENT PAUSE 0", "CLIENT UNPAUSE", "FUNCTION flush a b", "FUNCTION Flush a b",
                                         "FUNCTION restore a b c d", "XINFO Foo k", "XGROUP Create k g $ x y", "SLOWLOG Get 1 2",
                                         "XINFO stream", "XGROUP SETID k g $ ENTRIESREAD"],
})


# ---- a precompiled chunk (luac5.1 of `return 42` on x86_64) is refused as source, as Redis's
# patched f_parser always parses text: EVAL, SCRIPT LOAD, after a shebang, FUNCTION LOAD ----
BYTECODE = "1b4c7561510001040804080008000000000000004062632e6c75610000000000000000000000020203000000010000001e0000011e0080000100000003000000000000454000000000030000000100000001000000010000000000000000000000"
CASES.update({
    "sc-bytecode-refused": [["EVAL", {"hex": BYTECODE}, "0"], ["SCRIPT", "LOAD", {"hex": BYTECODE}],
                            ["EVAL", {"hex": b"#!lua\n".hex() + BYTECODE}, "0"],
                            ["FUNCTION", "LOAD", {"hex": b"#!lua name=x\n".hex() + BYTECODE}],
                            "EVAL \"return loadstring(ARGV[1])\" 0 x", "EVAL \"return 1\" 0"],
})

# ---- a function's `redis` table has no breakpoint, debug nor replicate_commands (eval.c adds them
# to EVAL's only) ----
FUNC_API = ("#!lua name=lib\n"
            "redis.register_function('f', function(keys, args) local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t end)\n"
            "redis.register_function('g', function(keys, args) return {tostring(redis.breakpoint), tostring(redis.debug), tostring(redis.replicate_commands)} end)\n"
            "redis.register_function('h', function(keys, args) return redis.breakpoint() end)")
CASES.update({
    "sc-function-redis-api": [["FUNCTION", "LOAD", FUNC_API], "FCALL f 0", "FCALL g 0", "FCALL h 0",
                              "EVAL \"local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t\" 0"],
})

# ---- struct's missing arguments and offsets, cjson's option arguments, as Redis's C libraries
# check them ----
CASES.update({
    "sc-struct-cjson-argument-errors": [
        "EVAL \"return struct.pack('ii',1)\" 0", "EVAL \"return struct.pack('i')\" 0", "EVAL \"return struct.pack('s')\" 0",
        "EVAL \"return struct.pack('c1')\" 0", "EVAL \"return struct.unpack('b','abc',-1)\" 0", "EVAL \"return struct.unpack('b','abc',5)\" 0",
        "EVAL \"return struct.unpack('b','abc',0)\" 0", "EVAL \"return {struct.unpack('','abc',-1)}\" 0", "EVAL \"return {struct.unpack('','abc',9)}\" 0",
        "EVAL \"return struct.unpack('<','abc',9)\" 0",
        "EVAL \"return cjson.encode_sparse_array('x')\" 0", "EVAL \"return {cjson.encode_sparse_array(true)}\" 0",
        "EVAL \"return {cjson.encode_sparse_array(false, 3)}\" 0", "EVAL \"return {cjson.encode_sparse_array('on', 2, 10)}\" 0",
        "EVAL \"return cjson.encode_sparse_array(true, 1, 2, 3)\" 0", "EVAL \"return cjson.encode_keep_buffer(0)\" 0",
        "EVAL \"return cjson.encode_keep_buffer({})\" 0", "EVAL \"return cjson.decode_invalid_numbers(1000)\" 0",
        "EVAL \"return cjson.encode_max_depth(5, 6)\" 0", "EVAL \"return {cjson.encode_keep_buffer('off')}\" 0",
    ],
    # json_enum_option with "off", "on" and "null"; "on" writes NaN as nan, without a sign.
    "sc-cjson-invalid-numbers": [
        "EVAL \"local r = {cjson.encode_invalid_numbers('null')} r[2] = cjson.encode({0/0, 1/0, -1/0, 1.5}) r[3] = cjson.encode_invalid_numbers() cjson.encode_invalid_numbers(false) return r\" 0",
        "EVAL \"cjson.encode_invalid_numbers(true) local a = cjson.encode({0/0, -(0/0), 1/0, -1/0}) cjson.encode_invalid_numbers('off') return a\" 0",
        "EVAL \"local r = {cjson.encode_invalid_numbers('on'), tostring(cjson.encode_invalid_numbers('off'))} return r\" 0",
        "EVAL \"return cjson.encode_invalid_numbers('NULL')\" 0", "EVAL \"return cjson.decode_invalid_numbers('null')\" 0",
        "EVAL \"cjson.encode_invalid_numbers('null') local ok, e = pcall(cjson.encode, {x = 0/0}) cjson.encode_invalid_numbers(false) return {tostring(ok), e}\" 0",
        "EVAL \"return cjson.encode(0/0)\" 0",
        # luaL_checkoption compares C strings.
        ["EVAL", "local r = {cjson.encode_invalid_numbers('null\\0x')} r[2] = cjson.encode({0/0}) cjson.encode_invalid_numbers(false) return r", "0"],
        ["EVAL", "return cjson.encode_keep_buffer('on\\0')", "0"], ["EVAL", "return cjson.encode_keep_buffer('of\\0f')", "0"],
    ],
})


# ---- FUNCTION RESTORE payloads (after the DUMP block's helpers) ----
def rdb_string(b):
    b = b.encode() if isinstance(b, str) else b
    n = len(b)
    head = bytes([n]) if n < 64 else bytes([0x40 | (n >> 8), n & 0xFF]) if n < 16384 else b"\x80" + n.to_bytes(4, "big")
    return head + b

def lib(name, fn, ret, body=None):
    return f"#!lua name={name}\nredis.register_function('{fn}', function() return '{ret}' end)" if body is None else f"#!lua name={name}\n{body}"

def fpayload(*items):
    """A FUNCTION DUMP payload: each item bytes (already with its opcode) or a library's code."""
    out = b"".join(i if isinstance(i, bytes) else b"\xf5" + rdb_string(i) for i in items)
    return payload(out.hex())

def old_item(name, engine, blob, desc=None):
    """RDB_OPCODE_FUNCTION (246), as Redis 7.0's release candidates wrote a library."""
    return b"\xf6" + rdb_string(name) + rdb_string(engine) + (b"\x01" + rdb_string(desc) if desc is not None else b"\x00") + rdb_string(blob)

CASES["sc-function-restore-payloads"] = [
    ["FUNCTION", "LOAD", lib("a", "fa", "a1")],
    ["FUNCTION", "RESTORE", payload("0003616263")],
    ["FUNCTION", "RESTORE", payload("f514616263")],
    ["FUNCTION", "RESTORE", fpayload(lib("b", "fb", "b1"), lib("b", "fb2", "b2"))],
    ["FUNCTION", "RESTORE", fpayload(lib("b", "fb", "b1"), lib("c", "", "", body="return +"))],
    ["FUNCTION", "RESTORE", fpayload(lib("b", "fb", "b1"), lib("c", "fc", "c1"), lib("d", "fb", "d1"))],
    "FCALL fb 0",
    ["FUNCTION", "RESTORE", fpayload(lib("a", "fa", "a2"))],
    ["FUNCTION", "RESTORE", fpayload(lib("b", "fa", "b1"))],
    ["FUNCTION", "RESTORE", fpayload(lib("b", "fa", "b1")), "REPLACE"],
    ["FUNCTION", "RESTORE", fpayload(lib("a", "fa", "a2"), lib("b", "fb", "b1")), "REPLACE"],
    "FCALL fa 0", "FCALL fb 0",
    ["FUNCTION", "RESTORE", fpayload(lib("e", "fe", "e1"), lib("f", "", "", body="return 1")), "FLUSH"],
    "FCALL fa 0", "FCALL fe 0",
    ["FUNCTION", "RESTORE", fpayload(old_item("old", "LUA", "redis.register_function('fo', function() return 'old' end)", desc="d"))],
    "FCALL fo 0",
    ["FUNCTION", "RESTORE", fpayload(old_item("old2", "lua", "redis.register_function('fo2', function() return 'o2' end)"))],
    "FCALL fo2 0",
    ["FUNCTION", "RESTORE", fpayload(b"\xf6" + rdb_string("x") + rdb_string("lua") + b"\x01")],
    ["FUNCTION", "RESTORE", fpayload(b"\xf6" + rdb_string("x"))],
    ["FUNCTION", "RESTORE", fpayload(lib("g", "fg", "g1"), lib("h", "fh", "h1")), "FLUSH"],
    "FCALL fa 0", "FCALL fg 0", "FCALL fh 0",
    # An old-format library is cut at a NUL (sdscatfmt's %s).
    ["FUNCTION", "RESTORE", fpayload(old_item("nul", "lua", "redis.register_function('fn', function() return 'nul' end)\0 garbage("))],
    "FCALL fn 0",
]

# WAIT without replicas: 0 at once when none is asked for or the client
# cannot block; refused in scripts (noscript).
CASES["g-wait-no-replicas"] = [
    "WAIT 0 0", "WAIT -1 5", "WAIT x 1", "WAIT 1 x", "WAIT 1 -1", "WAIT 1", "WAIT 0 1 2",
    "MULTI", "WAIT 5 0", "EXEC",
    "EVAL \"return redis.call('WAIT', 0, 0)\" 0", "EVAL \"return redis.pcall('WAIT', 0)\" 0",
]

# DEBUG with Redis 7.0's default configuration (enable-debug-command no,
# immutable): refused before anything else, a transaction aborted at EXEC;
# in scripts, noscript.
CASES["g-debug-refused"] = [
    "DEBUG SLEEP 0", "DEBUG", "DEBUG nosuchsubcommand 1 2",
    "MULTI", "DEBUG SLEEP 0", "SET k v", "EXEC", "GET k",
    "EVAL \"return redis.call('DEBUG', 'SLEEP', 0)\" 0", "EVAL \"return redis.pcall('DEBUG')\" 0",
    "EVAL \"return redis.pcall('DEBUG', 'SLEEP', 0)\" 0",
]

# Redis's error handler is Lua (chunk @err_handler_def): a read-only error
# table fails inside it, at its line 10; a global's name ends at a NUL.
CASES["sc-error-handler-is-lua"] = [
    "EVAL \"error(redis)\" 0", "EVAL \"error(_G)\" 0", "EVAL \"return __redis__err__handler(redis)\" 0",
    "EVAL \"return {xpcall(function() error(redis) end, __redis__err__handler)}\" 0",
    "EVAL \"local t = __redis__err__handler('x') return {t.err, t.source, t.line}\" 0",
    ["EVAL", "return _G['a\\0b']", "0"], ["EVAL", "return {pcall(function() return _G['a\\0b'] end)}", "0"],
    "EVAL \"return debug\" 0",
    ["FUNCTION", "LOAD", "#!lua name=eh\nredis.register_function('e', function() error(redis) end)\nredis.register_function('g', function() return _G['a\\0b'] end)"],
    "FCALL e 0", "FCALL g 0",
]

# REPLACE unlinks every replaced library before linking the new ones: `c`
# takes `f` from `a`, which `a`'s new version no longer has.
CASES["sc-function-restore-replace-moves-function"] = [
    ["FUNCTION", "LOAD", lib("a", "", "", body="redis.register_function('f', function() return 'a.f' end) redis.register_function('h', function() return 'a.h' end)")],
    ["FUNCTION", "RESTORE", fpayload(lib("c", "f", "c.f"), lib("a", "h", "a.h2")), "REPLACE"],
    "FCALL f 0", "FCALL h 0", "FUNCTION STATS",
    ["FUNCTION", "LOAD", lib("d", "f", "d.f")],
]

# COMMAND LIST names subcommands too (`xinfo|help`), after their command,
# and a pattern matches the full name without case. (Redis lists in its
# hash table's order, which changes from one start to the next.)
CASES["g-command-list-subcommands"] = [
    ("COMMAND LIST FILTERBY PATTERN xinfo*", U), ("COMMAND LIST FILTERBY PATTERN XGROUP|C*", U),
    ("COMMAND LIST FILTERBY PATTERN script*", U), ("COMMAND LIST FILTERBY PATTERN slowlog|*", U),
    "COMMAND LIST FILTERBY PATTERN client|LIST", "COMMAND LIST FILTERBY PATTERN client|nosuch",
]

# The HELP of CLIENT, COMMAND, CONFIG, MEMORY, OBJECT and PUBSUB, word for
# word; CONFIG REWRITE without a config file; a client never in tracking
# mode (GETREDIR, TRACKINGINFO, CACHING refused).
CASES["g-help-and-untracked-client"] = [
    "CLIENT HELP", "COMMAND HELP", "CONFIG HELP", "MEMORY HELP", "OBJECT HELP", "PUBSUB HELP", "CLIENT HELP x",
    "CONFIG REWRITE", "CONFIG REWRITE x", "MEMORY PURGE", "MEMORY PURGE x",
    "CLIENT NO-EVICT on", "CLIENT NO-EVICT OFF", "CLIENT NO-EVICT maybe", "CLIENT NO-EVICT",
    "CLIENT GETREDIR", "CLIENT GETREDIR x", "CLIENT TRACKINGINFO", "CLIENT CACHING yes", "CLIENT CACHING",
    "EVAL \"return redis.call('CONFIG', 'HELP')[2]\" 0", "EVAL \"return redis.call('MEMORY', 'PURGE')\" 0",
    "EVAL \"return redis.pcall('CLIENT', 'GETREDIR')\" 0", "EVAL \"return redis.pcall('CONFIG', 'REWRITE')\" 0",
]

# The order `pairs` visits the `redis` table in: Redis 7.0 fills it from
# empty in luaRegisterRedisAPI's order (eval.c adds three for EVAL).
CASES["sc-pairs-order-of-redis-table"] = [
    "EVAL \"local t = {} for k in pairs(redis) do t[#t+1] = k end return t\" 0",
    ["FUNCTION", "LOAD", "#!lua name=pl\nredis.register_function('pr', function() local t = {} for k in pairs(redis) do t[#t+1] = k end return t end)"],
    "FCALL pr 0",
]

# The order `pairs` visits the globals in: where each name landed as the
# table grew, libraries registering through Redis's allow list (a dropped
# name still takes its place), KEYS and ARGV at the first EVAL. The same in
# a function (through its globals' read-through table) and in every library
# table.
CASES["sc-pairs-order-of-globals"] = [
    "EVAL \"local t = {} for k in pairs(_G) do t[#t+1] = k end return t\" 0",
    "EVAL \"local t = {} for _, n in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'struct', 'cmsgpack', 'bit'}) do for k in pairs(_G[n]) do t[#t+1] = n .. '.' .. k end end return t\" 0",
    ["FUNCTION", "LOAD", "#!lua name=pg\nredis.register_function('pg', function() local t = {} for k in pairs(_G) do t[#t+1] = k end return t end)"],
    "FCALL pg 0",
    "SCRIPT FLUSH",
    "EVAL \"local n = 0 for k in pairs(_G) do n = n + 1 if k == 'KEYS' then return n end end\" 1 a",
]

# Tables built from a reply, KEYS and ARGV grow from empty as Redis's do:
# `#` finds Redis's border once an item is set to nil (and over a RESP3
# array with nulls), `pairs` visits a 64- or 65-field map and a verbatim
# string's fields in Redis's order.
CASES["sc-reply-tables-grow-as-redis"] = [
    "RPUSH l a b c d e f g h i j",
    "EVAL \"local r = redis.call('LRANGE', 'l', 0, -1) r[8] = nil return #r\" 0",
    "EVAL \"KEYS[8] = nil ARGV[3] = nil return {#KEYS, #ARGV}\" 10 a b c d e f g h i j 1 2 3 4 5",
    "MSET k2 x k5 y k9 z",
    "EVAL \"redis.setresp(3) local r = redis.call('MGET', unpack(KEYS)) local t = {#r} for k in pairs(r) do t[#t+1] = k end return t\" 5 k1 k2 k3 k4 k5",
    "EVAL \"redis.setresp(3) local r = redis.call('MGET', unpack(KEYS)) local t = {#r} for k in pairs(r) do t[#t+1] = k end return t\" 12 k1 k2 k2 k2 k2 k1 k1 k5 k2 k9 k1 k9",
    "HSET h " + " ".join("f%d %d" % (i, i) for i in range(64)),
    "EVAL \"redis.setresp(3) local t = {} for k in pairs(redis.call('HGETALL', 'h').map) do t[#t+1] = k end return t\" 0",
    "HSET h f64 64",
    "EVAL \"redis.setresp(3) local t = {} for k in pairs(redis.call('HGETALL', 'h').map) do t[#t+1] = k end return t\" 0",
    "EVAL \"redis.setresp(3) local t = {} for k in pairs(redis.call('LOLWUT', 'VERSION', '5', '1', '1').verbatim_string) do t[#t+1] = k end return t\" 0",
]

# Lua hashes every byte of a string, as Redis's patched Lua does (stock 5.1
# skips bytes of strings of 32 or more), so tables keyed by long strings
# are visited in Redis's order.
CASES["sc-pairs-order-of-long-keys"] = [
    "EVAL \"local t = {} for i = 1, 9 do t[string.rep('x', 32) .. i] = i end local r = {} for k, v in pairs(t) do r[#r+1] = v end return r\" 0",
    "EVAL \"local a = string.rep('a', 31) return cjson.encode({[a .. '1'] = 1, [a .. '2'] = 2, [a .. '3'] = 3})\" 0",
    "HSET h " + " ".join("%s%d %d" % ("field:" * 7, i, i) for i in range(6)),
    "EVAL \"redis.setresp(3) local t = {} for k in pairs(redis.call('HGETALL', 'h').map) do t[#t+1] = k end return t\" 0",
]

# register_function reads flags as Redis does: items 1, 2, ... up to the
# first nil, names compared without case up to a NUL; other fields ignored.
FLAG_TABLES = ["{x='no-writes'}", "{[2]='no-writes'}", "{'no-writes', x='bad'}", "{'no-writes', nil, 'bad'}",
               "{[1.5]='bad'}", "{'allow-oom', [3]='bad'}", "{'NO-WRITES', 'allow-stale'}", "{1}", "{true}",
               "{'no-writes\\0x'}", "redis"]
CASES["sc-function-flags-read-as-redis"] = [
    step
    for flags in FLAG_TABLES
    for step in (
        ["FUNCTION", "LOAD", "REPLACE",
         "#!lua name=fl\nredis.register_function{function_name='f', callback=function() return 1 end, flags=" + flags + "}"],
        "FUNCTION LIST LIBRARYNAME fl",
    )
]

# cjson as Redis bundles it: each module table (the EVAL state's, the
# functions state's, each cjson.new()) has its own configuration, which
# FUNCTION FLUSH leaves alone and SCRIPT FLUSH resets for EVAL; the largest
# array key kept in a C int (2^31 and up, or an infinity, turns INT_MIN).
CJ_LIB = ("#!lua name=cj\nredis.register_function('setp', function(k, a) cjson.encode_number_precision(tonumber(a[1])) return cjson.encode(1/3) end)\n"
          "redis.register_function('getp', function() return cjson.encode(1/3) end)")
CASES["sc-cjson-config-per-instance"] = [
    "EVAL \"local c = cjson.new() c.encode_sparse_array(true) return {cjson.encode_sparse_array()}\" 0",
    "EVAL \"cjson.encode_number_precision(3) local c = cjson.new() return {c.encode(1/3), cjson.encode(1/3)}\" 0",
    "EVAL \"return cjson.encode(1/3)\" 0",
    ["FUNCTION", "LOAD", CJ_LIB],
    "FCALL getp 0",
    "FCALL setp 0 5",
    "EVAL \"return cjson.encode(1/3)\" 0",
    "FUNCTION FLUSH",
    ["FUNCTION", "LOAD", CJ_LIB],
    "FCALL getp 0",
    "SCRIPT FLUSH",
    "EVAL \"return cjson.encode(1/3)\" 0",
    "FCALL getp 0",
    "FCALL setp 0 14",
    "EVAL \"return {cjson.encode({[2^31] = 1}), cjson.encode({[2^32] = 1, [2] = 1}), cjson.encode({[2^53] = 1}), cjson.encode({[3e9] = 1, [1] = 2})}\" 0",
    "EVAL \"return cjson.encode({[1/0] = 1})\" 0",
    "EVAL \"return cjson.encode({1, 2, [2^31 - 1] = 3})\" 0",
    "EVAL \"local ok = pcall(cjson.encode_sparse_array, true, -1) return {tostring(ok), tostring(cjson.encode_sparse_array())}\" 0",
]

# SMOVE looks both keys up before it answers 0 for a missing source: an
# expired destination expires there (its `expired` event comes from SMOVE).
CASES["k-smove-looks-up-both-keys"] = [
    "SET z v EXAT 10",
    "SMOVE s z 007",
    "SET w v EXAT 10",
    "SET t x",
    "SMOVE t w 1",
]

# COMMAND INFO, DOCS, GETKEYS and GETKEYSANDFLAGS, answered from Redis's own
# description of its commands (assets/redis): key specs where they are
# reliable, a command's own key function otherwise, and their errors.
CASES["g-command-info-docs-getkeys"] = [
    "COMMAND INFO get", "COMMAND INFO nosuch client|list client|nosuch get|x a|b|c SET", "COMMAND INFO eval xread",
    "COMMAND DOCS get", "COMMAND DOCS client|list nosuch zadd", "COMMAND DOCS nosuch", "COMMAND COUNT",
    ("COMMAND LIST FILTERBY ACLCAT hyperloglog", U), ("COMMAND LIST FILTERBY ACLCAT Scripting", U),
    "COMMAND LIST FILTERBY ACLCAT nosuch", "COMMAND LIST FILTERBY ACLCAT @read",
    "COMMAND GETKEYS time x", "COMMAND GETKEYS get", "COMMAND GETKEYS eval s 0", "COMMAND GETKEYS eval s 2 a",
    "COMMAND GETKEYS eval s 2 a b", "COMMAND GETKEYS eval s x a", "COMMAND GETKEYS zunion 0 a",
    "COMMAND GETKEYS zunionstore d 2 a b", "COMMAND GETKEYS sintercard 0 a b", "COMMAND GETKEYS spublish c m",
    "COMMAND GETKEYS mset a 1 b", "COMMAND GETKEYS nosuch", "COMMAND GETKEYS client list",
    "COMMAND GETKEYSANDFLAGS set k v get", "COMMAND GETKEYSANDFLAGS set k v nx", "COMMAND GETKEYSANDFLAGS mset a 1 b 2",
    "COMMAND GETKEYSANDFLAGS sort k by x limit 0 1 get # store d", "COMMAND GETKEYSANDFLAGS sort_ro k by x",
    "COMMAND GETKEYSANDFLAGS xread count 1 streams a b 1 2", "COMMAND GETKEYSANDFLAGS xreadgroup group g c streams a 1",
    "COMMAND GETKEYSANDFLAGS georadius k 1 2 3 m store d storedist e", "COMMAND GETKEYSANDFLAGS bitfield k get u8 0",
    "COMMAND GETKEYSANDFLAGS bitfield k get u8 0 set u8 0 1", "COMMAND GETKEYSANDFLAGS migrate h p \"\" 0 1 auth2 u pw keys a b",
    "COMMAND GETKEYSANDFLAGS migrate h p k 0 1", "COMMAND GETKEYSANDFLAGS lmove a b left right",
    "COMMAND GETKEYSANDFLAGS object encoding k", "COMMAND GETKEYSANDFLAGS blmpop 0 2 a b left",
    "COMMAND GETKEYSANDFLAGS zinterstore d 2 a b weights 1 2", "COMMAND GETKEYSANDFLAGS geosearchstore d s frommember m byradius 1 m",
    "EVAL \"return redis.call('COMMAND', 'GETKEYS', 'SET', 'k', 'v')\" 0",
    "EVAL \"return redis.call('COMMAND', 'INFO', 'incr')\" 0",
]

# What a lone primary with no replicas, files or modules answers about
# replication, persistence, modules, the latency monitor (off), cluster
# clients, LOLWUT and MIGRATE; SAVE in MULTI; and these from scripts.
CASES["g-lone-primary-admin"] = [
    "ASKING", "READONLY", "READWRITE", "ASKING x",
    "MODULE LIST", "MODULE HELP", "MODULE UNLOAD x", "MODULE LOAD /nonexistent.so", "MODULE LOADEX /x.so ARGS a",
    "MODULE bogus", "MODULE",
    "LATENCY LATEST", "LATENCY HISTORY command", "LATENCY RESET", "LATENCY RESET a b", "LATENCY GRAPH command",
    "LATENCY DOCTOR", "LATENCY HELP", "LATENCY bogus",
    "LOLWUT", "LOLWUT VERSION 1", "LOLWUT VERSION 7", "LOLWUT VERSION x", "LOLWUT bogus", "LOLWUT VERSION",
    "OBJECT FREQ k", "SET k v", "OBJECT FREQ k", "OBJECT FREQ",
    "MULTI", "SAVE", "SET a 1", "EXEC", "GET a", "BGSAVE x", "BGSAVE SCHEDULE x",
    "MIGRATE h 1 nokey 0 10", "MIGRATE h 1 nokey x 10", "MIGRATE h 1 nokey 0 x", "MIGRATE h 1 nokey 0 10 bogus",
    "MIGRATE h 1 k 0 10 KEYS a", "MIGRATE h 1 \"\" 0 10 KEYS a b", "MIGRATE h 1 \"\" 0 10 AUTH",
    "MIGRATE h 1 \"\" 0 10 AUTH2 a", "MIGRATE h 1 \"\" 0 10 COPY REPLACE AUTH2 a b KEYS x y",
    "RESTORE-ASKING k 0 x", "RESTORE-ASKING",
    "CLIENT TRACKING off", "CLIENT TRACKING maybe", "CLIENT TRACKING on REDIRECT 99999", "CLIENT TRACKING on REDIRECT x",
    "CLIENT TRACKING on PREFIX a", "CLIENT TRACKING on BCAST OPTIN", "CLIENT TRACKING on OPTIN OPTOUT",
    "CLIENT TRACKING off bogus", "CLIENT TRACKING on PREFIX", "CLIENT TRACKINGINFO",
    "EVAL \"return redis.pcall('SAVE')\" 0", "EVAL \"return redis.pcall('ROLE')\" 0", "EVAL \"return redis.call('LOLWUT')\" 0",
    "EVAL \"return redis.pcall('ASKING')\" 0", "EVAL \"return redis.pcall('OBJECT', 'FREQ', 'k')\" 0",
    "EVAL \"return redis.call('MIGRATE', 'h', '1', 'nokey', '0', '1')\" 0",
    "EVAL \"return redis.pcall('LATENCY', 'LATEST')\" 0", "EVAL \"return redis.pcall('MODULE', 'LIST')\" 0",
    "EVAL \"return redis.pcall('ACL', 'WHOAMI')\" 0", "EVAL \"return redis.pcall('REPLICAOF', 'NO', 'ONE')\" 0",
]

# ACL with only the default user, no password and no ACL file.
CASES["g-acl-default-user"] = [
    "ACL WHOAMI", "ACL USERS", "ACL LIST", "ACL GETUSER default", "ACL GETUSER nosuch", "ACL CAT",
    ("ACL CAT read", U), ("ACL CAT HyperLogLog", U), "ACL CAT nosuch", "ACL CAT a b",
    "ACL GENPASS 0", "ACL GENPASS x", "ACL GENPASS 5000", "ACL GENPASS -1", "ACL GENPASS 1 2",
    "ACL LOG", "ACL LOG RESET", "ACL LOG 5", "ACL LOG x", "ACL LOG -1", "ACL LOG 1 2",
    "ACL DRYRUN default get k", "ACL DRYRUN default nosuch", "ACL DRYRUN default get", "ACL DRYRUN nosuch get k",
    "ACL DRYRUN default client list", "ACL DRYRUN default client nosuch",
    "ACL DELUSER default", "ACL DELUSER nosuch", "ACL DELUSER nosuch default", "ACL LOAD", "ACL SAVE",
    "ACL SETUSER default", "ACL bogus", "ACL", "ACL HELP",
]

# LOLWUT's art where it draws without random numbers: version 5 with at
# most two rows of squares (rows from the third are shaken at random),
# version 6 on a canvas too small for a building; bad sizes.
CASES["g-lolwut-art"] = [
    "LOLWUT VERSION 5 1 1 1", "LOLWUT VERSION 5 0 0 0", "LOLWUT VERSION 5 10 3 2", "LOLWUT VERSION 5 66 8 2",
    "LOLWUT VERSION 5 33 5 1", "LOLWUT VERSION 5 200 20 2", "LOLWUT VERSION 5 7 1 2", "LOLWUT VERSION 5 x",
    "LOLWUT VERSION 5 1 x", "LOLWUT VERSION 6 1 1", "LOLWUT VERSION 6 0 0", "LOLWUT VERSION 6 x",
    "LOLWUT VERSION 4294967301 1 1 1", "LOLWUT VERSION 5 1 1 1 extra",
    "EVAL \"return redis.call('LOLWUT', 'VERSION', 5, 4, 2, 1)\" 0",
]

# ---- streams: XSETID against the last entry, ms-* past the last sequence,
# deleted entries in a consumer's history, cmsgpack's uint64
def pel_counts(key="s", group="g"):
    """Each pending entry's id, consumer and delivery count (XPENDING's idle
    time left out: the recording cannot pin it down)."""
    return ev("local t = {} for i, e in ipairs(redis.call('XPENDING', KEYS[1], KEYS[2], '-', '+', 10)) do t[i] = e[1] .. ' ' .. e[2] .. ' ' .. e[4] end return t", key, group)

def mp(data):
    """A Lua string literal of msgpack bytes (decimal escapes)."""
    return "'" + "".join(f"\\{b}" for b in data) + "'"

def mp_unpack(data):
    v = f"cmsgpack.unpack({mp(data)})"
    return ev(f"return {{tostring({v}), string.format('%.0f', {v}), {v}}}")

CASES.update({
    "x-setid-checks-last-entry": [
        "XADD s 5 f v", "XTRIM s MAXLEN 0", "XSETID s 3", "XINFO STREAM s", "XADD s 4 f v", "XINFO STREAM s",
        "DEL s", "XADD s 5 f v", "XDEL s 5", "XSETID s 3", "XINFO STREAM s", "XADD s 3-* f v", "XINFO STREAM s",
        "DEL s", "XADD s 5 f v", "XADD s 6 f v", "XDEL s 6", "XSETID s 5", "XINFO STREAM s", "XSETID s 5-1", "XSETID s 4-9",
        "XINFO STREAM s", "XADD s 5-* f v", "XSETID s 4", "XSETID s 5-2 ENTRIESADDED 0",
        "DEL s", "XADD s 5 f v", "XDEL s 5", "XSETID s 1 ENTRIESADDED 0", "XSETID s 0-0 ENTRIESADDED 0 MAXDELETEDID 0-0", "XINFO STREAM s",
        "XSETID s 2 MAXDELETEDID 1", "XINFO STREAM s", "XADD s 1 f v", "XADD s 2-* f v",
        "DEL s", "XADD s 1 f v", "XADD s 2 f v", "XGROUP CREATE s g $", "XDEL s 2", "XSETID s 1", "XINFO GROUPS s",
        pcall("XSETID s 1-1"), "MULTI", "XDEL s 1", "XSETID s 0-1", "EXEC", "XINFO STREAM s"],
    "x-add-sequence-exhausted": [
        "XADD s 1-18446744073709551615 a b", "XADD s 1-* a b", "XADD s 0-* a b", "XLEN s", "XADD s 2-* a b", "XADD s 2-* a b", "XLEN s",
        "XADD t 18446744073709551615-18446744073709551615 a b", "XADD t * a b", "XADD t 18446744073709551615-* a b", "XADD t 5-* a b", "XADD t 5-1 a b", "XLEN t",
        "XADD u 18446744073709551614-18446744073709551615 a b", "XADD u * a b", "XADD u 18446744073709551614-* a b", "XADD u 18446744073709551615-* a b", "XADD u * a b", "XRANGE u - +",
        "XADD w 1 a b", "XDEL w 1", "XSETID w 3-18446744073709551615", "XADD w 3-* a b", "XADD w 3-* a b MAXLEN 0", "XINFO STREAM w",
        pcall("XADD s 1-* a b"), "MULTI", "XADD s 1-* a b", "XADD s 3-* a b", "EXEC"],
    "x-readgroup-deleted-pending": [
        "XADD s 1 a 1", "XADD s 2 b 2", "XGROUP CREATE s g 0", "XREADGROUP GROUP g c STREAMS s >", "XDEL s 1",
        "XREADGROUP GROUP g c STREAMS s 0", pel_counts(), "XREADGROUP GROUP g c STREAMS s 0", pel_counts(),
        "XREADGROUP GROUP g c COUNT 1 STREAMS s 0", pel_counts(), "XREADGROUP GROUP g c STREAMS s 1", pel_counts(),
        "XREADGROUP GROUP g c STREAMS s 18446744073709551615-18446744073709551614", "XREADGROUP GROUP g c STREAMS s 18446744073709551615-18446744073709551615",
        "XREADGROUP GROUP g c2 STREAMS s 18446744073709551615-18446744073709551615", "XGROUP CREATECONSUMER s g c2", "XPENDING s g",
        "XADD s 3 c 3", "XREADGROUP GROUP g c COUNT 1 STREAMS s 18446744073709551615-18446744073709551615", pel_counts(),
        "XCLAIM s g d 0 1 2", pel_counts(), "XPENDING s g",
        "XADD s 4 d 4", "XREADGROUP GROUP g c STREAMS s >", "XDEL s 4", "XREADGROUP GROUP g c STREAMS s 0", pel_counts(),
        "XAUTOCLAIM s g e 0 0", pel_counts(), "XPENDING s g",
        "XADD s 5 e 5", "XREADGROUP GROUP g e STREAMS s >", "XDEL s 5", "XCLAIM s g e 0 5 JUSTID", pel_counts(), "XAUTOCLAIM s g e 0 0 JUSTID", pel_counts(),
        pcall("XREADGROUP GROUP g d STREAMS s 0"), pel_counts()],
    "sc-cmsgpack-uint64-signed": [mp_unpack(bytes([0xcf] + [255] * 8)), mp_unpack(bytes([0xcf, 128, 0, 0, 0, 0, 0, 0, 1])),
        mp_unpack(bytes([0xcf, 128] + [0] * 7)), mp_unpack(bytes([0xcf, 127] + [255] * 7)), mp_unpack(bytes([0xcf] + [0] * 7 + [5])),
        mp_unpack(bytes([0xcf, 0, 0, 0, 1, 0, 0, 0, 0])), mp_unpack(bytes([0xcf, 0, 32, 0, 0, 0, 0, 0, 1])), mp_unpack(bytes([0xcf, 255, 255, 255, 255, 255, 255, 255, 0])),
        mp_unpack(bytes([0xd3] + [255] * 8)), mp_unpack(bytes([0xce] + [255] * 4)), mp_unpack(bytes([0xcd, 255, 255])), mp_unpack(bytes([0xcc, 255])),
        ev(f"return cmsgpack.pack(cmsgpack.unpack({mp(bytes([0xcf] + [255] * 8))}))"),
        ev(f"local a, b = cmsgpack.unpack({mp(bytes([0x92, 0xcf] + [255] * 8 + [0xcf, 0x80] + [0] * 7))}) return {{tostring(a[1]), tostring(a[2])}}")],
})

# ---- a count at least the size: the whole collection in Redis's order ----
CASES.update({
    "st-srandmember-whole-intset": ["SADD s 5 3 9 1", "SRANDMEMBER s 4", "SRANDMEMBER s 10"],
    "h-hrandfield-whole-listpack": ["HSET h z 1 y 2 x 3", "HRANDFIELD h 3", "HRANDFIELD h 5 WITHVALUES", "HDEL h y", "HSET h w 4", "HRANDFIELD h 3"],
    "z-zrandmember-whole": ["ZADD z 1 a 2 b 3 c 4 d", "ZRANDMEMBER z 4", "ZRANDMEMBER z 9 WITHSCORES", "ZADD t 1 a 1 c 1 b", "ZRANDMEMBER t 3",
                            "ZADD big 1 a 2 " + "m" * 70, "OBJECT ENCODING big", "ZRANDMEMBER big 2 WITHSCORES"],
})

# ---- maxmemory (noeviction): what Redis 7.0.15 refuses above it. `maxmemory 1`
# is below any server's memory; each case ends with `maxmemory 0` ----
import hashlib
def sha(body):
    return hashlib.sha1(body.encode()).hexdigest()
MM1, MM0 = "CONFIG SET maxmemory 1", "CONFIG SET maxmemory 0"
OOM_LIB = ("#!lua name=oomlib\n"
           "redis.register_function('f', function() return redis.call('SET', 'y', '1') end)\n"
           "redis.register_function{function_name='g', callback=function() return redis.call('SET', 'y', '2') end, flags={'allow-oom'}}\n"
           "redis.register_function{function_name='h', callback=function() return redis.call('GET', 'y') end, flags={'no-writes'}}\n"
           "redis.register_function('k', function() return redis.call('GET', 'y') end)")
CASES.update({
    "s-oom-deny-oom-commands": ["SET x 5", "RPUSH l a", MM1, "SET x 1", "LPUSH l b", "RPUSH l c", "INCR n", "SADD s m", "HSET h f v",
                                "APPEND x y", "SETNX z 1", "MSET a 1 b 2", "GET x", "LRANGE l 0 -1", "EXPIRE l 100", "PERSIST l", "LPOP l",
                                "DEL x", "EXISTS x l", "PING", "CONFIG GET maxmemory", MM0, "SET x 1", "GET x"],
    "sc-oom-compat-first-write": ["SET x 5", MM1, ev("return redis.call('GET','x')"), ev("return redis.call('SET','x','2')"),
                                  ev("return redis.pcall('SET','x','2')"), ev("local r = redis.pcall('SET','x','2') return r['err']"),
                                  ev("local v = redis.call('GET','x')\nreturn redis.call('SET','y',v)"),
                                  ev("return redis.call('DEL','nokey')"),
                                  ev("redis.call('DEL','nokey')\nreturn redis.call('SET','x','6')"),
                                  ev("local r = redis.pcall('SET','a','1')\nredis.call('DEL','nokey')\nredis.call('SET','b','2')\nreturn r"),
                                  ev("redis.call('EXPIRE','x','100')\nreturn redis.call('INCR','n')"),
                                  ["EVAL_RO", "return redis.call('GET','x')", "0"], ["EVAL_RO", "return redis.call('SET','x','1')", "0"],
                                  ["SCRIPT", "LOAD", "return redis.call('SET','x','7')"], ["EVALSHA", sha("return redis.call('SET','x','7')"), "0"],
                                  "MGET x y a b n", MM0, ev("return redis.call('SET','x','2')")],
    "sc-oom-shebang-flags": ["SET x 5", MM1, ["EVAL", "#!lua\nreturn redis.call('GET','x')", "0"],
                             ["EVAL", "#!lua flags=allow-oom\nreturn redis.call('SET','x','3')", "0"],
                             ["EVAL", "#!lua flags=no-writes\nreturn redis.call('GET','x')", "0"],
                             ["EVAL", "#!lua flags=no-writes\nreturn redis.call('SET','x','1')", "0"],
                             ["EVAL", "#!lua flags=allow-stale\nreturn 1", "0"],
                             ["EVAL", "#!lua flags=bogus\nreturn 1", "0"], ["EVAL", "#!python\nreturn 1", "0"],
                             ["EVAL_RO", "#!lua\nreturn 1", "0"], ["EVAL_RO", "#!lua flags=allow-oom\nreturn 1", "0"],
                             ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('GET','x')", "0"],
                             ["SCRIPT", "LOAD", "#!lua\nreturn 2"], ["EVALSHA", sha("#!lua\nreturn 2"), "0"], ["EVALSHA_RO", sha("#!lua\nreturn 2"), "0"],
                             ["EVALSHA", "0" * 40, "0"], ["EVALSHA", "abc", "0"],
                             ["SCRIPT", "LOAD", "#!lua flags=allow-oom\nreturn redis.call('INCR','n')"],
                             ["EVALSHA", sha("#!lua flags=allow-oom\nreturn redis.call('INCR','n')"), "0"], "GET x", MM0,
                             ["EVAL", "#!lua\nreturn redis.call('GET','x')", "0"]],
    "sc-oom-functions": [MM1, ["FUNCTION", "LOAD", OOM_LIB], "FUNCTION LIST", MM0, ["FUNCTION", "LOAD", OOM_LIB], MM1,
                         "FCALL f 0", "FCALL g 0", "FCALL h 0", "FCALL k 0", "FCALL_RO f 0", "FCALL_RO g 0", "FCALL_RO h 0", "FCALL_RO k 0",
                         "FCALL nosuch 0", "FUNCTION DUMP", "FUNCTION DELETE oomlib", "FUNCTION DELETE oomlib", MM0, "GET y"],
    "m-oom-queueing": [MM1, "MULTI", "SET x 1", "GET x", "NOSUCH", "SET x", "WATCH x", "MULTI", "PING", "EXEC", "MULTI", "DISCARD",
                       "EXEC", "DISCARD", "GET x", "EVAL \"return redis.call('SET','x','1')\" 0", "MULTI", "FLUSHALL", "EXEC", MM0,
                       "MULTI", "SET x 1", "EXEC"],
    "m-oom-exec-of-queued": ["MULTI", "SET x 1", (MM1, C2), "EXEC", "GET x", (MM0, C2),
                             "MULTI", "GET x", (MM1, C2), "EXEC", (MM0, C2),
                             "MULTI", "SET x 1", (MM1, C2), "GET x", "EXEC", (MM0, C2),
                             "MULTI", "GET x", (MM1, C2), "GET x", "EXEC", (MM0, C2),
                             "MULTI", "EVAL \"return redis.call('SET','x','9')\" 0", "GET x", (MM1, C2), "EXEC", (MM0, C2),
                             "MULTI", ["SCRIPT", "LOAD", "#!lua\nreturn 1"], ["EVALSHA", sha("#!lua\nreturn 1"), "0"], (MM1, C2), "EXEC", (MM0, C2),
                             "MULTI", ["EVAL", "#!lua\nreturn 1", "0"], (MM1, C2), "EXEC", (MM0, C2),
                             "WATCH x", "MULTI", "SET x 2", (MM1, C2), "EXEC", "MULTI", "EXEC", (MM0, C2), "GET x"],
})

# ---- cases with their own tags (notifications, replication; issues #11, #23) ----
EXTRA = [
    # Error texts format names and arguments as C strings: cut at a NUL.
    {"id": "g-unknown-names-nul", "tags": ["engine", "generic"], "cmds": [[{"hex": "666f006f"}, {"hex": "610062"}, "c"], [{"hex": "006765"}, "x"],
        ["CLIENT", {"hex": "666f006f"}], ["CONFIG", {"hex": "780079"}, "z"], ["OBJECT", {"hex": "680069"}], ["XINFO", {"hex": "610062"}],
        ["XGROUP", {"hex": "630072"}, "s", "g"], ["GET", {"hex": "610062"}], ["SET", {"hex": "6b00"}, "v"], ["GET", {"hex": "6b00"}]]},
    # CLIENT KILL TYPE. Not TYPE pubsub here: it would kill record_notify.py's
    # subscriber (tests/client_cmds.rs kills one with two clients); TYPE
    # replica kills record_repl.py's SYNC connection, hence needs-no-replica.
    {"id": "g-client-kill-type", "tags": ["engine", "generic", "needs-no-replica"], "cmds": [cmd(l) for l in ["CLIENT KILL TYPE bogus",
        "CLIENT KILL TYPE master SKIPME no", "CLIENT KILL TYPE replica", "CLIENT KILL TYPE slave", "CLIENT KILL TYPE PubSub ADDR 1.2.3.4:5",
        "CLIENT KILL TYPE normal USER nobody", "CLIENT KILL TYPE", "CLIENT KILL TYPE normal TYPE bogus"]]},
    # Needs a primary without replicas: record_repl.py, whose SYNC
    # connection is a replica, skips it (FAILOVER would start).
    {"id": "g-lone-primary-replication", "tags": ["engine", "generic", "needs-no-replica"], "cmds": [cmd(l) for l in [
        "ROLE", "REPLICAOF NO ONE", "SLAVEOF no one", "REPLICAOF no two", "REPLICAOF host abc", "REPLICAOF host 70000",
        "REPLICAOF host -1", "FAILOVER", "FAILOVER ABORT", "FAILOVER TIMEOUT 0", "FAILOVER TIMEOUT x", "FAILOVER TO h 1",
        "FAILOVER TO h x", "FAILOVER FORCE", "FAILOVER bogus", "FAILOVER TIMEOUT 10 TIMEOUT 20", "FAILOVER FORCE FORCE",
        "EVAL \"return redis.pcall('FAILOVER')\" 0", "EVAL \"return redis.pcall('ROLE')\" 0"]]},
    {"id": "cfg-notify-keyspace-events", "tags": ["engine", "server", "notifications"], "cmds": [["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "KEA"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "Ex"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "KEAnm"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "g$lshzxetd"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "mE$"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "KEA?"], ["CONFIG", "GET", "notify-keyspace-events"], ["CONFIG", "SET", "notify-keyspace-events", "a", "b"], ["CONFIG", "SET", "maxmemory", "1", "timeout"], ["CONFIG", "SET", "notify-keyspace-events", "K", "notify-keyspace-events", "E"], ["CONFIG", "SET", "NOTIFY-KEYSPACE-EVENTS", ""], ["CONFIG", "GET", "notify-keyspace-events"]]},
    {"id": "repl-post-partial-write", "tags": ["engine", "scripting", "replication"], "cmds": [["SET", "b", "x"], ["EVAL", "redis.call('INCR', KEYS[1])\nredis.call('INCR', KEYS[2])\nreturn 'ok'", "2", "a", "b"], ["MGET", "a", "b"]]},
    {"id": "repl-two-writes", "tags": ["engine", "scripting", "replication"], "cmds": [["EVAL", "redis.call('INCR', KEYS[1]) redis.call('INCR', KEYS[2]) return 1", "2", "a", "b"]]},
    {"id": "repl-write-then-error-reply", "tags": ["engine", "scripting", "replication"], "cmds": [["EVAL", "redis.call('SET', KEYS[1], '1') return redis.error_reply('x')", "1", "c"]]},
    {"id": "repl-read-only-script", "tags": ["engine", "scripting", "replication"], "cmds": [["SET", "a", "1"], ["EVAL", "return redis.call('GET', KEYS[1])", "1", "a"]]},
    {"id": "repl-set-repl", "tags": ["engine", "scripting", "replication"], "cmds": [["EVAL", "redis.set_repl(redis.REPL_NONE)\nredis.call('SET', KEYS[1], '1')\nredis.set_repl(redis.REPL_ALL)\nredis.call('SET', KEYS[2], '1')\nreturn redis.call('MGET', KEYS[1], KEYS[2])", "2", "hidden", "shown"], ["EVAL", "redis.set_repl(redis.REPL_NONE)\nredis.call('INCR', KEYS[1])\nredis.call('INCR', KEYS[1])\nredis.set_repl(redis.REPL_AOF)\nredis.call('INCR', KEYS[1])\nredis.set_repl(redis.REPL_REPLICA)\nredis.call('INCR', KEYS[1])\nreturn redis.call('GET', KEYS[1])", "1", "n"]]},
]

with open("engine-cases.jsonl", "w") as f:
    for name, lines in CASES.items():
        area = {"k": "keys", "s": "string", "h": "hash", "l": "list", "st": "set", "z": "zset", "m": "multi", "p": "pubsub", "g": "generic", "sc": "scripting", "x": "stream", "geo": "geo"}[name.split("-")[0]]
        cmds = [l if isinstance(l, list) else cmd(l) for l in lines]
        f.write(json.dumps({"id": name, "tags": ["engine", area], "cmds": cmds}, ensure_ascii=False) + "\n")
    for case in EXTRA:
        f.write(json.dumps(case, ensure_ascii=False) + "\n")
print(f"wrote {len(CASES) + len(EXTRA)} cases")
