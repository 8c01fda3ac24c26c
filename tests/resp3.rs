//! RESP3 for network clients: `redis-cli -3` against `redstep serve` and a
//! real redis-server 7.0.15 prints the same for each command (maps, sets,
//! doubles, nulls), HELLO switches the protocol, and pub/sub messages come
//! as pushes.

mod common;
mod real;

use std::process::Command;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn cli(target: &[&str], args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-3")
        .args(target)
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const COMMANDS: &[&[&str]] = &[
    &["HSET", "h", "f", "v", "g", "w"],
    &["HGETALL", "h"],
    &["SADD", "s", "a"],
    &["SMEMBERS", "s"],
    &["ZADD", "z", "1.5", "m", "2", "n"],
    &["ZSCORE", "z", "m"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZPOPMIN", "z"],
    &["ZINCRBY", "z", "inf", "n"],
    &["GET", "missing"],
    &["HGET", "h", "nope"],
    &["LPOP", "missing"],
    &["BLPOP", "missing", "0.01"],
    &["HSET", "one", "f", "v"],
    &["HRANDFIELD", "one", "-2", "WITHVALUES"],
    &["CONFIG", "GET", "busy-reply-threshold"],
    &["XADD", "x", "1-1", "f", "v"],
    &["XRANGE", "x", "-", "+"],
    &["XINFO", "GROUPS", "x"],
    &["EVAL", "return {1, 'a', false}", "0"],
    &["MGET", "h", "missing"],
    &["GEOADD", "g", "13.361389", "38.115556", "P"],
    &["ZRANDMEMBER", "z", "1", "WITHSCORES"],
];

#[test]
fn redis_cli_in_resp3_prints_the_same_on_serve_and_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let port = addr.port().to_string();
    let ours: &[&str] = &["-p", &port];
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let theirs: &[&str] = &["-s", &socket];
    if Command::new("redis-cli").arg("-v").output().is_err() {
        eprintln!("skipped: redis-cli is not installed");
        return;
    }
    for command in COMMANDS {
        assert_eq!(cli(ours, command), cli(theirs, command), "{command:?}");
    }
    // HELLO 3: the same map but the client id.
    let strip_id = |text: String| {
        text.lines()
            .filter(|l| !l.starts_with("id "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let hello = strip_id(cli(ours, &["HELLO", "3"]));
    assert!(hello.contains("\nproto 3\n"), "{hello}");
    assert_eq!(hello, strip_id(cli(theirs, &["HELLO", "3"])));
}

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// HELLO 3, SUBSCRIBE, a PUBLISH from another client, RESET: what the
/// subscriber reads.
fn subscriber(target: &Target) -> Vec<Reply> {
    let mut sub = Conn::open(target).unwrap();
    let mut publisher = Conn::open(target).unwrap();
    let mut got = Vec::new();
    let mut hello = sub.call(&words(&["HELLO", "3"])).unwrap();
    if let Reply::Map(pairs) = &mut hello {
        pairs.retain(|(k, _)| *k != Reply::bulk("id"));
    }
    got.push(hello);
    got.push(sub.call(&words(&["SUBSCRIBE", "ch"])).unwrap());
    got.push(sub.call(&words(&["PSUBSCRIBE", "c*"])).unwrap());
    assert_eq!(
        publisher.call(&words(&["PUBLISH", "ch", "hi"])).unwrap(),
        Reply::Int(2)
    );
    got.push(sub.read().unwrap());
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["PING"])).unwrap());
    got.push(sub.call(&words(&["UNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["RESET"])).unwrap());
    got.push(sub.call(&words(&["HGETALL", "nothing"])).unwrap());
    got
}

#[test]
fn pub_sub_messages_are_pushes_in_resp3_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = subscriber(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = subscriber(&Target::parse(&real.url()).unwrap());
    assert!(matches!(ours[3], Reply::Push(_)), "{:?}", ours[3]);
    assert_eq!(ours, theirs);
}

/// Sharded pub/sub, in RESP2 and in RESP3: every reply and message.
fn sharded(target: &Target, resp3: bool) -> Vec<Reply> {
    let mut sub = Conn::open(target).unwrap();
    let mut publisher = Conn::open(target).unwrap();
    let mut got = Vec::new();
    if resp3 {
        sub.call(&words(&["HELLO", "3"])).unwrap();
    }
    sub.send(&words(&["SSUBSCRIBE", "a", "b"])).unwrap();
    got.push(sub.read().unwrap());
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["SUBSCRIBE", "c"])).unwrap());
    got.push(publisher.call(&words(&["SPUBLISH", "a", "hi"])).unwrap());
    got.push(sub.read().unwrap());
    got.push(publisher.call(&words(&["PUBLISH", "a", "x"])).unwrap());
    // Redis lists channels in its hash order: compare them sorted.
    let mut all = publisher
        .call(&words(&["PUBSUB", "SHARDCHANNELS"]))
        .unwrap();
    if let Reply::Array(items) = &mut all {
        items.sort_by_key(|r| format!("{r:?}"));
    }
    got.push(all);
    got.push(
        publisher
            .call(&words(&["PUBSUB", "SHARDCHANNELS", "b*"]))
            .unwrap(),
    );
    got.push(
        publisher
            .call(&words(&["PUBSUB", "SHARDNUMSUB", "a", "x"]))
            .unwrap(),
    );
    got.push(
        publisher
            .call(&words(&["PUBSUB", "NUMSUB", "a", "c"]))
            .unwrap(),
    );
    got.push(sub.call(&words(&["PING"])).unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE", "a"])).unwrap());
    sub.send(&words(&["SUNSUBSCRIBE"])).unwrap();
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["UNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["GET", "k"])).unwrap());
    got
}

#[test]
fn sharded_pub_sub_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    for resp3 in [false, true] {
        let ours = sharded(&Target::parse(&format!("redis://{addr}")).unwrap(), resp3);
        let theirs = sharded(&Target::parse(&real.url()).unwrap(), resp3);
        assert_eq!(ours, theirs, "resp3: {resp3}");
    }
}

/// Every byte a RESP3 connection receives for `commands` (sent after HELLO 3,
/// whose reply, holding the client id, is left out), up to a final PING.
fn raw_resp3<S: std::io::Read + std::io::Write>(mut stream: S, commands: &[&[&str]]) -> Vec<u8> {
    let hello_end: &[u8] = b"$7\r\nmodules\r\n*0\r\n";
    stream
        .write_all(&redstep::protocol::resp::encode_request(&words(&[
            "HELLO", "3",
        ])))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !got.ends_with(hello_end) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    let mut out = Vec::new();
    for c in commands.iter().chain([&["PING"][..]].iter()) {
        out.extend(redstep::protocol::resp::encode_request(&words(c)));
    }
    stream.write_all(&out).unwrap();
    let mut got = Vec::new();
    while !got.ends_with(b"+PONG\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// A script's reply to a RESP3 caller keeps its RESP3 types ({map=},
/// {set=}, {double=}, {big_number=}, {verbatim_string=}, booleans after
/// redis.setresp(3)); GEOPOS and WITHCOORD send Redis's human long double
/// digits; INFO is a verbatim string. Byte for byte as redis-server 7.0.15.
#[test]
fn script_replies_coordinates_and_info_in_resp3_are_byte_for_byte_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let commands: &[&[&str]] = &[
        &["FLUSHALL"],
        &["HSET", "h", "a", "1"],
        &["SADD", "s", "x"],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &["GEOPOS", "g", "Palermo", "nope"],
        &["GEOSEARCH", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "100", "km", "WITHCOORD", "WITHDIST", "WITHHASH"],
        &["GEORADIUS", "g", "13", "38", "100", "km", "WITHCOORD"],
        &["EVAL", "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", "1", "h"],
        &["EVAL", "return redis.call('HGETALL', KEYS[1])", "1", "h"],
        &["EVAL", "return {map={a=1}}", "0"],
        &["EVAL", "return {map={a={1,2}, b={map={c=true}}}}", "0"],
        &["EVAL", "return {double=3.5}", "0"],
        &["EVAL", "return {double=1/0}", "0"],
        &["EVAL", "return {set={a=true}}", "0"],
        &["EVAL", "return {big_number='123456789012345678901234567890'}", "0"],
        &["EVAL", "return {big_number='1\\r\\n2'}", "0"],
        &["EVAL", "return {verbatim_string={format='txt', string='hi'}}", "0"],
        &["EVAL", "return {verbatim_string={format='markdown', string='# hi'}}", "0"],
        &["EVAL", "return {verbatim_string={format='m', string='x'}}", "0"],
        &["EVAL", "redis.setresp(3); return redis.call('ZSCORE', 'g', 'Palermo')", "0"],
        &["EVAL", "redis.setresp(3); return redis.call('GEOPOS', 'g', 'Palermo')", "0"],
        &["EVAL", "return redis.call('GEOPOS', 'g', 'Palermo')", "0"],
        &["EVAL", "redis.setresp(3); return redis.call('SMEMBERS', 's')", "0"],
        &["EVAL", "redis.setresp(3); return redis.call('EXISTS', 'h') == 1", "0"],
        &["EVAL", "redis.setresp(3); return false", "0"],
        &["EVAL", "return true", "0"],
        &["EVAL", "return false", "0"],
        &["EVAL", "redis.setresp(3); return redis.call('INFO', 'keyspace')", "0"],
        &["EVAL", "redis.setresp(3); return type(redis.call('INFO', 'keyspace'))", "0"],
        &["EVAL", "redis.setresp(3); local v = redis.call('INFO', 'keyspace'); return v.verbatim_string.format", "0"],
        &["INFO", "keyspace"],
        &["MULTI"],
        &["EVAL", "return {map={k='v'}}", "0"],
        &["EXEC"],
    ];
    let ours = raw_resp3(std::net::TcpStream::connect(addr).unwrap(), commands);
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let theirs = raw_resp3(
        std::os::unix::net::UnixStream::connect(socket).unwrap(),
        commands,
    );
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    let text = String::from_utf8_lossy(&ours);
    for typed in [
        "%1\r\n$1\r\na\r\n:1\r\n",
        ",3.5\r\n",
        ",inf\r\n",
        "~1\r\n$1\r\na\r\n",
        "(123456789012345678901234567890\r\n",
        "(1  2\r\n",
        "=6\r\ntxt:hi\r\n",
        "=8\r\nmar:# hi\r\n",
        "=5\r\nm  :x\r\n",
        ",13.36138933897018433\r\n",
        "#t\r\n",
        "#f\r\n",
        "=48\r\ntxt:# Keyspace",
    ] {
        assert!(text.contains(typed), "{typed:?} not in {text:?}");
    }
    // RESP2 callers get the flat forms, as from Redis.
    let ours2 = raw_resp3_after_hello2(std::net::TcpStream::connect(addr).unwrap(), commands);
    let theirs2 = raw_resp3_after_hello2(
        std::os::unix::net::UnixStream::connect(real.url().trim_start_matches("redis+unix://"))
            .unwrap(),
        commands,
    );
    assert_eq!(
        String::from_utf8_lossy(&ours2),
        String::from_utf8_lossy(&theirs2)
    );
}

/// Replies whose shape changes with the protocol, as Redis 7.0.15 shapes
/// them, to a RESP3 client, to a RESP2 one, and to a script after
/// `redis.setresp(3)`: XREAD and XREADGROUP a map by key, LCS IDX a map,
/// SPOP with a count a set, ZPOPMIN/ZPOPMAX flat without a count and
/// nested with one, HRANDFIELD WITHVALUES pairs, FUNCTION LIST and STATS
/// maps (flags a set), HELP lines as status replies (from scripts too),
/// a blocked BLMOVE's timeout a null array in RESP2; CLIENT LIST TYPE. (`redis-cli -3` prints
/// flat and nested arrays alike when not at a terminal, so the bytes are
/// compared.)
#[test]
fn reply_shapes_that_follow_the_protocol_are_byte_for_byte_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let setup: &[&[&str]] = &[
        &["SADD", "s", "one"],
        &["SADD", "t", "3", "-5", "1", "10", "2"],
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ];
    let shaped: &[&[&str]] = &[
        &["XREAD", "STREAMS", "x", "y", "0", "0"],
        &["XREAD", "COUNT", "1", "STREAMS", "x", "nosuch", "0", "0"],
        &["XREAD", "STREAMS", "nosuch", "0"],
        &["XREADGROUP", "GROUP", "grp", "c", "STREAMS", "x", ">"],
        &["LCS", "k", "k2", "IDX"],
        &["LCS", "k", "k2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"],
        &["SPOP", "s", "0"],
        &["SPOP", "nosuch", "1"],
        &["SPOP", "t", "5"],
        &["ZPOPMAX", "z"],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z", "1"],
        &["ZPOPMIN", "z", "5"],
        &["ZPOPMIN", "nosuch"],
        &["HRANDFIELD", "h1", "1", "WITHVALUES"],
        &["HRANDFIELD", "h1", "-2", "WITHVALUES"],
        &["HRANDFIELD", "nosuch", "1", "WITHVALUES"],
        &["FUNCTION", "LIST"],
        &["FUNCTION", "LIST", "WITHCODE"],
        &["FUNCTION", "STATS"],
        &["SCRIPT", "HELP"],
        &["FUNCTION", "HELP"],
        &["BLMOVE", "nosuch", "k2", "LEFT", "RIGHT", "0.01"],
        &["BRPOPLPUSH", "nosuch", "k2", "0.01"],
        &["CLIENT", "LIST", "TYPE", "pubsub"],
        &["CLIENT", "LIST", "TYPE", "Bogus"],
    ];
    // Each directly, then from a script that shows the Lua value it got.
    let script = "redis.setresp(3) return cjson.encode(redis.call(unpack(ARGV)))";
    let mut commands: Vec<Vec<&str>> = vec![
        vec!["FLUSHALL"],
        vec!["XADD", "x", "1-1", "f", "v"],
        vec!["XADD", "y", "2-1", "g", "w"],
        vec!["XGROUP", "CREATE", "x", "grp", "0"],
        vec!["MSET", "k", "ohmytext", "k2", "mynewtext"],
        vec!["HSET", "h1", "f", "v"],
        vec!["FUNCTION", "FLUSH"],
        vec![
            "FUNCTION",
            "LOAD",
            "#!lua name=lib\nredis.register_function{function_name='ro', callback=function() return 2 end, flags={'no-writes'}, description='d'}",
        ],
    ];
    for round in 0..2 {
        commands.extend(setup.iter().map(|c| c.to_vec()));
        if round == 1 {
            commands.push(vec!["XGROUP", "SETID", "x", "grp", "0"]);
        }
        for c in shaped {
            let mut command = if round == 0 {
                Vec::new()
            } else {
                vec!["EVAL", script, "0"]
            };
            command.extend_from_slice(c);
            commands.push(command);
        }
    }
    let commands: Vec<&[&str]> = commands.iter().map(|c| c.as_slice()).collect();
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let ours = raw_resp3(std::net::TcpStream::connect(addr).unwrap(), &commands);
    let theirs = raw_resp3(
        std::os::unix::net::UnixStream::connect(&socket).unwrap(),
        &commands,
    );
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    let text = String::from_utf8_lossy(&ours);
    for shape in [
        "%2\r\n$1\r\nx\r\n",
        "%2\r\n$7\r\nmatches",
        "~0\r\n",
        "*2\r\n$1\r\nd\r\n,4\r\n",
        "{\"map\":{\"x\":",
    ] {
        assert!(text.contains(shape), "{shape:?} not in {text:?}");
    }
    let ours2 = raw_resp3_after_hello2(std::net::TcpStream::connect(addr).unwrap(), &commands);
    let theirs2 = raw_resp3_after_hello2(
        std::os::unix::net::UnixStream::connect(&socket).unwrap(),
        &commands,
    );
    assert_eq!(
        String::from_utf8_lossy(&ours2),
        String::from_utf8_lossy(&theirs2)
    );
}

/// The same commands over RESP2 (no HELLO), up to a final PING.
fn raw_resp3_after_hello2<S: std::io::Read + std::io::Write>(
    mut stream: S,
    commands: &[&[&str]],
) -> Vec<u8> {
    let mut out = Vec::new();
    for c in commands.iter().chain([&["PING"][..]].iter()) {
        out.extend(redstep::protocol::resp::encode_request(&words(c)));
    }
    stream.write_all(&out).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !got.ends_with(b"+PONG\r\n") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// An interactive `redis-cli -3` in a tmux pane (a terminal, so it prints
/// as a user sees it), its screen read with capture-pane.
struct Pane(String);

impl Pane {
    fn start(name: &str, target: &[&str]) -> Pane {
        let session = format!("redstep-cli3-{name}-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "100", "-y", "50"])
            .arg(format!("redis-cli -3 {}; sleep 60", target.join(" ")))
            .status()
            .unwrap();
        assert!(status.success());
        Pane(session)
    }

    fn type_line(&self, line: &str) {
        for keys in [&["-l", line][..], &["Enter"]] {
            let status = Command::new("tmux")
                .args(["send-keys", "-t", &self.0])
                .args(keys)
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the pane never showed {needle:?}:\n{screen}"
            );
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .status();
    }
}

/// What a user sees typing HELLO 3, a map reply and SUBSCRIBE into
/// `redis-cli -3` at a terminal, then a message published to the channel;
/// the prompt and the client id (which name the server) left out.
/// (The pane is handed back: killing the only tmux session ends the tmux
/// server, and a session started meanwhile can land on the dying one.)
fn interactive(name: &str, target: &[&str], publisher: &Target) -> (Pane, Vec<String>) {
    let pane = Pane::start(name, target);
    pane.wait_for(">");
    pane.type_line("HELLO 3");
    pane.wait_for("modules");
    pane.type_line("HSET h f v");
    // redis-cli drops keys typed while it waits for a reply (under load).
    pane.wait_for("HSET h f v\n(integer) 1");
    pane.type_line("HGETALL h");
    pane.wait_for("=> \"v\"");
    pane.type_line("SUBSCRIBE news");
    pane.wait_for("Reading messages");
    let mut publisher = Conn::open(publisher).unwrap();
    // The subscription is in place once PUBLISH reaches one subscriber.
    while publisher
        .call(&words(&["PUBLISH", "news", "hello"]))
        .unwrap()
        != Reply::Int(1)
    {}
    let screen = pane.wait_for("\"hello\"");
    let lines = screen
        .lines()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && !l.contains("\"id\""))
        .map(|l| match l.find("> ") {
            Some(i) if l[..i].ends_with(|c: char| c.is_ascii_digit() || c == 'k') => {
                format!("> {}", &l[i + 2..])
            }
            _ => l.to_string(),
        })
        .collect();
    (pane, lines)
}

#[test]
fn redis_cli_3_at_a_terminal_shows_hello_a_map_and_pushes_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let tools = ["tmux", "redis-cli"]
        .iter()
        .all(|t| Command::new(t).arg("-V").output().is_ok());
    if !tools {
        eprintln!(
            "SKIPPED: tmux or redis-cli is not installed; redis-cli -3 was not run at a terminal"
        );
        return;
    }
    let addr = common::start();
    let port = addr.port().to_string();
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let (_ours_pane, ours) = interactive(
        "ours",
        &["-p", &port],
        &Target::parse(&format!("redis://{addr}")).unwrap(),
    );
    let (_theirs_pane, theirs) = interactive(
        "theirs",
        &["-s", &socket],
        &Target::parse(&real.url()).unwrap(),
    );
    assert_eq!(ours, theirs);
    let screen = ours.join("\n");
    for shown in [
        "> HELLO 3",
        "1# \"server\" => \"redis\"",
        "3# \"proto\" => (integer) 3",
        "1# \"f\" => \"v\"",
        "3) \"hello\"",
    ] {
        assert!(screen.contains(shown), "{shown:?} not in:\n{screen}");
    }
}

/// Replies whose maps nest (a value of several lines starts on a line of
/// its own), and empty ones.
const NESTED: &[&[&str]] = &[
    &["CLIENT", "TRACKINGINFO"],
    &[
        "FUNCTION",
        "LOAD",
        // One function: Redis lists a library's functions in its dict's
        // order, which changes from one server process to the next.
        "#!lua name=mylib\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes'}}",
    ],
    &["FUNCTION", "LIST"],
    &["COMMAND", "DOCS", "echo"],
    &["HGETALL", "missing"],
    &["SMEMBERS", "missing"],
    &["LRANGE", "missing", "0", "-1"],
    // redis-cli reads the whole reply before printing: a NaN double or a
    // big number anywhere in it is all it prints.
    &["EVAL", "redis.setresp(3); return {double=0/0}", "0"],
    &["EVAL", "redis.setresp(3); return {1, {big_number='5'}}", "0"],
];

/// `redis-cli -3` on a terminal (`script` gives it one) against a real
/// server, and `redstep exec` after HELLO 3, print each of [`COMMANDS`]
/// and [`NESTED`] the same: maps as `1# "f" => "v"`, sets as `1~`, `(double) 1.5`, a
/// nested map's value of several lines under its key.
#[test]
fn redstep_exec_prints_resp3_replies_as_redis_cli_at_a_terminal() {
    let Some(real) = Real::start() else { return };
    let tools = Command::new("redis-cli").arg("-v").output().is_ok()
        && Command::new("script").arg("-V").output().is_ok();
    if !tools {
        eprintln!("SKIPPED: redis-cli or script (util-linux) is not installed");
        return;
    }
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let shell = |arg: &str| format!("'{}'", arg.replace('\'', "'\\''"));
    let quoted = |arg: &str| {
        let escaped = arg
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n");
        format!("\"{escaped}\"")
    };
    let commands: Vec<&[&str]> = COMMANDS.iter().chain(NESTED).copied().collect();
    let mut theirs = Vec::new();
    let mut input = String::from("HELLO 3\n");
    for (i, command) in commands.iter().enumerate() {
        let line: Vec<String> = command.iter().map(|a| shell(a)).collect();
        let out = Command::new("script")
            .args([
                "-qc",
                &format!("redis-cli -3 -s {socket} {}", line.join(" ")),
            ])
            .arg("/dev/null")
            .output()
            .expect("script");
        theirs.push(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"));
        input += &format!("ECHO ---{i}\n");
        let line: Vec<String> = command.iter().map(|a| quoted(a)).collect();
        input += &(line.join(" ") + "\n");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .arg("exec")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    for (i, (command, expected)) in commands.iter().zip(&theirs).enumerate() {
        let start = printed.find(&format!("\"---{i}\"\n")).unwrap() + format!("\"---{i}\"\n").len();
        let end = printed[start..]
            .find(&format!("\"---{}\"\n", i + 1))
            .map_or(printed.len(), |e| start + e);
        assert_eq!(&printed[start..end], expected, "{command:?}");
    }
    let all = printed.as_str();
    for shown in [
        "1# \"f\" => \"v\"",
        "1~ \"a\"",
        "(double) 1.5",
        "   3# \"functions\" => \n      1) 1# \"name\" => \"f2\"",
        "(empty hash)",
    ] {
        assert!(all.contains(shown), "{shown:?} not in:\n{all}");
    }
}
