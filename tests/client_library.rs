//! A real client library (the `redis` crate, sync) against `redstep serve`
//! and a real redis-server 7.0.15 side by side, over RESP2 and RESP3: the
//! same calls, the same values — first a script user's everyday calls,
//! then each thing issue #17 found clients and their test suites rely on.

mod common;
mod real;

use real::Real;

/// What a client sees for a series of calls (as `redis::Value`s).
fn session(url: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut seen = Vec::new();
    let mut call = |args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let value: redis::RedisResult<redis::Value> = cmd.query(&mut con);
        seen.push(format!("{:?}", value.map_err(|e| e.to_string())));
    };
    call(&["FLUSHALL"]);
    call(&["SET", "a", "42"]);
    call(&["INCR", "a"]);
    call(&["GET", "a"]);
    call(&["GET", "missing"]);
    call(&["HSET", "h", "f", "v"]);
    call(&["HGETALL", "h"]);
    call(&["SADD", "s", "x"]);
    call(&["SMEMBERS", "s"]);
    call(&["ZADD", "z", "1.5", "m"]);
    call(&["ZSCORE", "z", "m"]);
    call(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    call(&["LPUSH", "a", "x"]);
    call(&[
        "EVAL",
        "redis.call('INCR', KEYS[1]); return redis.call('GET', KEYS[1])",
        "1",
        "a",
    ]);
    call(&["EVAL", "return {1, 'two', {3}}", "0"]);
    call(&["EVAL", "redis.call('INCR', 'a') local x = nil + 1", "0"]);
    call(&["GET", "a"]);
    call(&["MULTI"]);
    call(&["INCR", "a"]);
    call(&["EXEC"]);
    call(&["CONFIG", "GET", "busy-reply-threshold"]);
    call(&["XADD", "x", "1-1", "f", "v"]);
    call(&["XRANGE", "x", "-", "+"]);
    call(&["PFADD", "p", "a", "b"]);
    call(&["PFCOUNT", "p"]);
    seen
}

#[test]
fn the_redis_crate_sees_the_same_on_serve_and_on_redis_in_resp2_and_resp3() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    for protocol in ["", "?protocol=resp3"] {
        let ours = session(&format!("redis://{addr}/{protocol}"));
        let theirs = session(&format!("{}{protocol}", real.url()));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "call {i} over {protocol:?}");
        }
        assert_eq!(ours.len(), theirs.len());
        assert!(ours[3].contains("43"), "{ours:?}");
        if !protocol.is_empty() {
            assert!(ours[6].contains("map("), "RESP3 maps: {ours:?}");
        }
    }
}

/// A command built from words.
fn command(args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd
}

fn query(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    command(args)
        .query(con)
        .unwrap_or_else(|e| redis::Value::SimpleString(format!("error: {e}")))
}

/// Words of a value's text (bulk, simple or verbatim string).
fn text(value: &redis::Value) -> String {
    match value {
        redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        redis::Value::SimpleString(s) => s.clone(),
        redis::Value::VerbatimString { text, .. } => text.clone(),
        other => format!("{other:?}"),
    }
}

/// What a client sees of each #17 item, with what differs between any two
/// servers (ids, addresses, times, versions) left out.
fn items(url: &str, proto: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut other = client.get_connection().unwrap();
    let mut seen: Vec<String> = Vec::new();
    let mut see = |what: &str, value: String| seen.push(format!("{what}: {value}"));
    let call = |con: &mut redis::Connection, args: &[&str]| format!("{:?}", query(con, args));
    see("flush", call(&mut con, &["FLUSHALL"]));
    // INFO: every section Redis 7.0 has, in its order, and what redis-py
    // reads first.
    let info = text(&query(&mut con, &["INFO", "everything"]));
    let headers: Vec<&str> = info.lines().filter(|l| l.starts_with('#')).collect();
    see("INFO sections", headers.join(" "));
    see(
        "cluster_enabled",
        info.lines()
            .find(|l| l.starts_with("cluster_enabled"))
            .unwrap_or("missing")
            .to_string(),
    );
    let two = text(&query(&mut con, &["INFO", "server", "clients"]));
    let two: Vec<&str> = two.lines().filter(|l| l.starts_with('#')).collect();
    see("INFO server clients", two.join(" "));
    // HELLO: the fields of its map, AUTH refused, SETNAME kept.
    // (The reply's id differs between servers: its field names are kept.)
    let fields = |value: redis::Value| -> String {
        let names: Vec<String> = match value {
            redis::Value::Map(fields) => fields.iter().map(|(k, _)| text(k)).collect(),
            redis::Value::Array(fields) => fields.iter().step_by(2).map(text).collect(),
            other => vec![format!("{other:?}")],
        };
        names.join(" ")
    };
    see(
        "HELLO SETNAME",
        fields(query(&mut con, &["HELLO", proto, "SETNAME", "lib"])),
    );
    see("CLIENT GETNAME", call(&mut con, &["CLIENT", "GETNAME"]));
    see(
        "HELLO AUTH (nopass user)",
        fields(query(&mut con, &["HELLO", proto, "AUTH", "default", "any"])),
    );
    see("HELLO 4", call(&mut con, &["HELLO", "4"]));
    // Transactions: EXEC with an argument discards; a no-op LTRIM touches
    // a WATCHed key.
    see("set", call(&mut con, &["SET", "a", "1"]));
    see("multi", call(&mut con, &["MULTI"]));
    see("incr queued", call(&mut con, &["INCR", "a"]));
    see("EXEC extra", call(&mut con, &["EXEC", "extra"]));
    see("a after", call(&mut con, &["GET", "a"]));
    see("rpush", call(&mut con, &["RPUSH", "l", "x"]));
    see("watch", call(&mut con, &["WATCH", "l"]));
    see("no-op LTRIM", call(&mut other, &["LTRIM", "l", "0", "-1"]));
    see("multi", call(&mut con, &["MULTI"]));
    see("get queued", call(&mut con, &["GET", "a"]));
    see("EXEC after no-op LTRIM", call(&mut con, &["EXEC"]));
    // Sorted-set algebra: inf x 0 is NaN, stored as 0.
    see("zadd", call(&mut con, &["ZADD", "z1", "inf", "m"]));
    see("zadd", call(&mut con, &["ZADD", "z2", "0", "m"]));
    see(
        "ZINTERSTORE inf*0",
        call(
            &mut con,
            &["ZINTERSTORE", "out", "2", "z1", "z2", "WEIGHTS", "0", "1"],
        ),
    );
    see("score", call(&mut con, &["ZSCORE", "out", "m"]));
    see(
        "ZUNIONSTORE inf-inf",
        call(
            &mut con,
            &["ZUNIONSTORE", "out", "2", "z1", "z1", "WEIGHTS", "1", "-1"],
        ),
    );
    see("score", call(&mut con, &["ZSCORE", "out", "m"]));
    // SCAN family: a small hash comes back whole with cursor 0.
    see("hset", call(&mut con, &["HSET", "h", "f1", "1", "f2", "2"]));
    see("HSCAN small", call(&mut con, &["HSCAN", "h", "0"]));
    // A hash table pages with a real cursor; the crate's scan iterators
    // walk it to the end and see every element once.
    see(
        "fill",
        call(
            &mut con,
            &[
                "EVAL",
                "for i = 1, 1000 do redis.call('HSET', 'bigh', 'f'..i, i) redis.call('SADD', 'bigs', 'm'..i) redis.call('ZADD', 'bigz', i, 'm'..i) end return 1",
                "0",
            ],
        ),
    );
    let first = query(&mut con, &["HSCAN", "bigh", "0"]);
    let redis::Value::Array(parts) = &first else {
        panic!("HSCAN: {first:?}")
    };
    see(
        "HSCAN big: a cursor to go on",
        format!("{}", text(&parts[0]) != "0"),
    );
    // What each iterator collected, sorted: the same on both servers.
    fn sorted<T: std::fmt::Debug>(items: &[T]) -> String {
        let mut shown: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        shown.sort();
        let distinct = shown.len() - {
            shown.dedup();
            shown.len()
        };
        // FNV-1a of the sorted items keeps the line short.
        let digest = shown
            .join("\n")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        format!(
            "{} items, {distinct} repeated, sorted digest {digest:016x}",
            shown.len()
        )
    }
    let fields: Vec<(String, String)> = redis::Commands::hscan(&mut con, "bigh")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    see("hscan iterator", sorted(&fields));
    let members: Vec<String> = redis::Commands::sscan(&mut con, "bigs")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    see("sscan iterator", sorted(&members));
    let scored: Vec<(String, f64)> = redis::Commands::zscan(&mut con, "bigz")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    see("zscan iterator", sorted(&scored));
    let mut keys: Vec<String> = redis::Commands::scan_match(&mut con, "big*")
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    keys.sort();
    see("scan_match iterator", keys.join(" "));
    // scan_iter while another client deletes: every key the iterator has
    // not reached yet and that stays comes once; nothing comes twice.
    see(
        "fill keys",
        call(
            &mut con,
            &[
                "EVAL",
                "for i = 1, 1000 do redis.call('SET', 'key:'..i, i) end return 1",
                "0",
            ],
        ),
    );
    let mut came = Vec::new();
    let mut deleted = std::collections::BTreeSet::new();
    {
        let iter: redis::Iter<String> = redis::Commands::scan_match(&mut con, "key:*").unwrap();
        for (n, key) in iter.enumerate() {
            let key = key.unwrap();
            // Each tenth key seen, delete ten keys further on.
            if n % 10 == 0 {
                let i: usize = key[4..].parse().unwrap();
                for j in (i + 1..i + 11).filter(|j| *j <= 1000) {
                    let gone: i64 = redis::Commands::del(&mut other, format!("key:{j}")).unwrap();
                    if gone == 1 {
                        deleted.insert(format!("key:{j}"));
                    }
                }
            }
            came.push(key);
        }
    }
    let unique: std::collections::BTreeSet<&String> = came.iter().collect();
    let stayed = (1..=1000)
        .map(|i| format!("key:{i}"))
        .filter(|k| !deleted.contains(k));
    let missed = stayed.filter(|k| !unique.contains(k)).count();
    see(
        "scan_iter with deletes",
        format!(
            "repeated {}, kept and missed {missed}",
            came.len() - unique.len()
        ),
    );
    // CLIENT: LIST ID filters, KILL and UNBLOCK of nobody, REPLY ON,
    // PAUSE WRITE lets reads through, UNPAUSE.
    let redis::Value::Int(id) = query(&mut con, &["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    let list = text(&query(&mut con, &["CLIENT", "LIST", "ID", &id.to_string()]));
    see(
        "CLIENT LIST ID",
        format!(
            "{} line(s), named lib: {}",
            list.lines().count(),
            list.contains(" name=lib ")
        ),
    );
    see(
        "CLIENT KILL nobody",
        call(&mut con, &["CLIENT", "KILL", "ID", "999999"]),
    );
    see(
        "CLIENT UNBLOCK",
        call(&mut con, &["CLIENT", "UNBLOCK", &id.to_string()]),
    );
    see(
        "CLIENT REPLY ON",
        call(&mut con, &["CLIENT", "REPLY", "ON"]),
    );
    see(
        "CLIENT PAUSE",
        call(&mut con, &["CLIENT", "PAUSE", "100000", "WRITE"]),
    );
    see("read while paused", call(&mut other, &["GET", "a"]));
    see("CLIENT UNPAUSE", call(&mut con, &["CLIENT", "UNPAUSE"]));
    see("write after", call(&mut other, &["INCR", "a"]));
    // Pub/sub, plain and sharded: the subscriber reads what was published
    // (push messages in RESP3).
    let mut subscriber = client.get_connection().unwrap();
    for (subscribe, publish, channel) in [
        ("SUBSCRIBE", "PUBLISH", "news"),
        ("SSUBSCRIBE", "SPUBLISH", "shard"),
    ] {
        subscriber
            .send_packed_command(&command(&[subscribe, channel]).get_packed_command())
            .unwrap();
        see(
            subscribe,
            format!("{:?}", subscriber.recv_response().unwrap()),
        );
        see(publish, call(&mut con, &[publish, channel, "hello"]));
        see(
            "message",
            format!("{:?}", subscriber.recv_response().unwrap()),
        );
    }
    see(
        "PUBSUB SHARDCHANNELS",
        call(&mut con, &["PUBSUB", "SHARDCHANNELS"]),
    );
    see(
        "PUBSUB SHARDNUMSUB",
        call(&mut con, &["PUBSUB", "SHARDNUMSUB", "shard"]),
    );
    // DUMP and RESTORE: the payload travels.
    let redis::Value::BulkString(payload) = query(&mut con, &["DUMP", "l"]) else {
        panic!("DUMP")
    };
    see("DUMP bytes", format!("{payload:?}"));
    let restored: redis::Value = redis::cmd("RESTORE")
        .arg("l2")
        .arg(0)
        .arg(&payload[..])
        .query(&mut con)
        .unwrap();
    see("RESTORE", format!("{restored:?}"));
    see("LRANGE l2", call(&mut con, &["LRANGE", "l2", "0", "-1"]));
    // FUNCTION DUMP and RESTORE.
    see(
        "FUNCTION LOAD",
        call(
            &mut con,
            &[
                "FUNCTION",
                "LOAD",
                "#!lua name=lib\nredis.register_function('hi', function() return 'hi' end)",
            ],
        ),
    );
    let redis::Value::BulkString(functions) = query(&mut con, &["FUNCTION", "DUMP"]) else {
        panic!("FUNCTION DUMP")
    };
    see("FUNCTION FLUSH", call(&mut con, &["FUNCTION", "FLUSH"]));
    let restored: redis::Value = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&functions[..])
        .query(&mut con)
        .unwrap();
    see("FUNCTION RESTORE", format!("{restored:?}"));
    see("FCALL", call(&mut con, &["FCALL", "hi", "0"]));
    // CONFIG of the common parameters, and SLOWLOG.
    see(
        "CONFIG SET timeout",
        call(&mut con, &["CONFIG", "SET", "timeout", "30"]),
    );
    see(
        "CONFIG GET timeout",
        call(&mut con, &["CONFIG", "GET", "timeout"]),
    );
    see(
        "CONFIG SET timeout",
        call(&mut con, &["CONFIG", "SET", "timeout", "0"]),
    );
    see(
        "CONFIG GET requirepass",
        call(&mut con, &["CONFIG", "GET", "requirepass"]),
    );
    see(
        "log everything",
        call(&mut con, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
    );
    see("SLOWLOG RESET", call(&mut con, &["SLOWLOG", "RESET"]));
    see("a write", call(&mut con, &["SET", "slow", "1"]));
    if let redis::Value::Array(entries) = query(&mut con, &["SLOWLOG", "GET"]) {
        let args: Vec<String> = entries
            .iter()
            .map(|e| match e {
                redis::Value::Array(fields) => format!("{:?}", fields.get(3)),
                other => format!("{other:?}"),
            })
            .collect();
        see("SLOWLOG GET arguments", args.join(" | "));
    }
    see(
        "log as before",
        call(
            &mut con,
            &["CONFIG", "SET", "slowlog-log-slower-than", "10000"],
        ),
    );
    // MONITOR: a script's redis.call shown as Redis shows it (the time and
    // the client's address left out).
    let mut monitor = client.get_connection().unwrap();
    monitor
        .send_packed_command(&command(&["MONITOR"]).get_packed_command())
        .unwrap();
    see("MONITOR", format!("{:?}", monitor.recv_response().unwrap()));
    see(
        "EVAL",
        call(
            &mut con,
            &["EVAL", "return redis.call('INCR', KEYS[1])", "1", "a"],
        ),
    );
    for _ in 0..2 {
        let line = text(&monitor.recv_response().unwrap());
        // `1796434840.890767 [0 127.0.0.1:42412] "EVAL" ...`: the time
        // and the address vary; `[0 lua]` marks a script's call.
        let (head, after) = line.split_once(']').unwrap_or(("", &line));
        let client = head.split_once('[').map_or("", |(_, c)| c);
        let client = if client.ends_with(" lua") {
            client.to_string()
        } else {
            format!("{} ...", &client[..1])
        };
        see("MONITOR line", format!("[{client}]{after}"));
    }
    seen
}

#[test]
fn each_item_of_issue_17_through_the_redis_crate_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    for (protocol, proto) in [("", "2"), ("?protocol=resp3", "3")] {
        let ours = items(&format!("redis://{addr}/{protocol}"), proto);
        let theirs = items(&format!("{}{protocol}", real.url()), proto);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "item {i} over {protocol:?}");
        }
        assert_eq!(ours.len(), theirs.len());
        let all = theirs.join("\n");
        for shown in [
            "cluster_enabled: cluster_enabled:0",
            "INFO server clients: # Server # Clients",
            "EXEC extra: simple-string(\"error: ExecAbort: Transaction discarded",
            "EXEC after no-op LTRIM: nil",
            if proto == "2" {
                "score: bulk-string('\"0\"')\nZUNIONSTORE"
            } else {
                "score: double(0.0)\nZUNIONSTORE"
            },
            "read while paused: bulk-string('\"1\"')",
            "HSCAN big: a cursor to go on: true",
            "hscan iterator: 1000 items, 0 repeated",
            "sscan iterator: 1000 items, 0 repeated",
            "zscan iterator: 1000 items, 0 repeated",
            "scan_iter with deletes: repeated 0, kept and missed 0",
            "scan_match iterator: bigh bigs bigz",
            if proto == "2" {
                "message: array([bulk-string('\"smessage\"')"
            } else {
                "message: push(SMessage"
            },
            "MONITOR line: [0 ...] \"EVAL\"",
            "MONITOR line: [0 lua] \"INCR\" \"a\"",
        ] {
            assert!(all.contains(shown), "{shown:?} not in:\n{all}");
        }
    }
}
