//! ACL on a server with only the default user, and MEMORY DOCTOR: what a
//! recorded golden case cannot pin down (ages, client lines, memory).
//! ACL LOG and the default user's password rule are compared with a real
//! redis-server 7.0.15 through the same sockets when one is installed.

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn text(r: &Reply) -> String {
    match r {
        Reply::Bulk(b) | Reply::Status(b) | Reply::Error(b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Reply::Int(n) => n.to_string(),
        Reply::Array(items) => {
            let items: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", items.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Failed authentications in ACL LOG (grouped, newest first, in MULTI
/// too) and the password rule ACL LIST and GETUSER show, by shape: ages
/// and client lines differ from one server to the other.
fn story(target: &Target) -> Vec<String> {
    let mut c = Conn::open(target).unwrap();
    let mut out = Vec::new();
    let mut run = |w: &[&str]| c.call(&words(w)).unwrap();
    run(&["ACL", "LOG", "RESET"]);
    for w in [
        &["AUTH", "nosuch", "pw"][..],
        &["auth", "nosuch", "pw"],
        &["AUTH", "nosuch", "pw"],
        &["HELLO", "2", "AUTH", "other", "pw"],
        &["AUTH", "default", "anything"],
        &["MULTI"],
        &["AUTH", "z", "y"],
        &["EXEC"],
    ] {
        out.push(format!("{w:?} -> {}", text(&run(w))));
    }
    let Reply::Array(entries) = run(&["ACL", "LOG"]) else {
        panic!()
    };
    for entry in &entries {
        let Reply::Array(fields) = entry else {
            panic!("{entry:?}")
        };
        let mut line = Vec::new();
        for pair in fields.chunks(2) {
            let (name, value) = (text(&pair[0]), &pair[1]);
            match name.as_str() {
                "age-seconds" => {
                    let age: f64 = text(value).parse().unwrap();
                    assert!((0.0..5.0).contains(&age), "{age}");
                }
                "client-info" => {
                    let info = text(value);
                    let cmd = info.split(' ').find(|w| w.starts_with("cmd=")).unwrap();
                    assert!(info.starts_with("id="), "{info}");
                    line.push(cmd.to_string());
                }
                _ => line.push(format!("{name}={}", text(value))),
            }
        }
        out.push(line.join(" "));
    }
    let Reply::Array(one) = run(&["ACL", "LOG", "1"]) else {
        panic!()
    };
    out.push(format!("ACL LOG 1: {} entry", one.len()));
    run(&["CONFIG", "SET", "requirepass", "s3cret"]);
    for w in [
        &["ACL", "LIST"][..],
        &["ACL", "GETUSER", "default"],
        &["CONFIG", "SET", "requirepass", ""],
        &["ACL", "LIST"],
        &["ACL", "GETUSER", "default"],
        &["ACL", "LOG", "RESET"],
        &["ACL", "LOG"],
    ] {
        out.push(format!("{w:?} -> {}", text(&run(w))));
    }
    out
}

#[test]
fn acl_log_and_password_rules_are_redis_s() {
    let addr = common::start();
    let ours = story(&Target::parse(&format!("redis://{addr}")).unwrap());
    let all = ours.join("\n");
    // Not vacuous: grouped entries, the typed command, MULTI's context,
    // the password's SHA-256.
    for needle in [
        "count=2 reason=auth context=toplevel object=AUTH username=nosuch",
        "object=HELLO username=other",
        "context=multi object=AUTH username=z cmd=exec",
        "#1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0",
        "user default on nopass ~* &* +@all",
    ] {
        assert!(all.contains(needle), "{needle} not in\n{all}");
    }
    let Some(real) = Real::start() else { return };
    let theirs = story(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
}

/// MEMORY DOCTOR tells an instance too small to judge (under 5 MB, Redis's
/// own count of its memory) from one with data and no issue.
#[test]
fn memory_doctor_waits_for_data() {
    let addr = common::start();
    let mut c = Conn::open(&Target::parse(&format!("redis://{addr}")).unwrap()).unwrap();
    let mut doctor = || text(&c.call(&words(&["MEMORY", "DOCTOR"])).unwrap());
    assert!(doctor().starts_with("Hi Sam, this instance is empty"));
    let mut c = Conn::open(&Target::parse(&format!("redis://{addr}")).unwrap()).unwrap();
    c.call(&words(&[
        "EVAL",
        "for i = 1, 40000 do redis.call('SET', 'key:' .. i, string.rep('x', 100)) end",
        "0",
    ]))
    .unwrap();
    let report = text(&c.call(&words(&["MEMORY", "DOCTOR"])).unwrap());
    assert_eq!(
        report,
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    );
}

/// LATENCY HISTOGRAM after a few commands, a script and a transaction:
/// which commands, how many calls, and buckets that are Redis's bounds
/// with counts that only grow (durations differ).
fn histograms(target: &Target) -> Vec<String> {
    let mut c = Conn::open(target).unwrap();
    let mut run = |w: &[&str]| c.call(&words(w)).unwrap();
    run(&["CONFIG", "RESETSTAT"]);
    run(&["SET", "a", "1"]);
    run(&["GET", "a"]);
    run(&["EVAL", "return redis.call('GET', 'a')", "0"]);
    run(&["MULTI"]);
    run(&["INCR", "n"]);
    run(&["EXEC"]);
    run(&["NOSUCH"]);
    run(&["GET"]);
    // A call that blocks counts when it blocks; its latency when it is
    // served, not when it times out.
    run(&["BLPOP", "nothing", "0.01"]);
    let mut waiting = Conn::open(target).unwrap();
    waiting.send(&words(&["BLPOP", "q", "0"])).unwrap();
    common::wait_blocked(&mut c, 1);
    c.call(&words(&["LPUSH", "q", "x"])).unwrap();
    waiting.read().unwrap();
    let mut run = |w: &[&str]| c.call(&words(w)).unwrap();
    let mut out = Vec::new();
    for ask in [
        &[
            "LATENCY",
            "HISTOGRAM",
            "set",
            "get",
            "eval",
            "incr",
            "exec",
            "multi",
            "blpop",
            "nosuch",
        ][..],
        &[
            "LATENCY",
            "HISTOGRAM",
            "config",
            "CONFIG|RESETSTAT",
            "get|x",
        ],
    ] {
        let Reply::Array(flat) = run(ask) else {
            panic!()
        };
        for pair in flat.chunks(2) {
            let Reply::Array(fields) = &pair[1] else {
                panic!("{pair:?}")
            };
            let (Reply::Int(calls), Reply::Array(buckets)) = (&fields[1], &fields[3]) else {
                panic!("{fields:?}")
            };
            let mut last = 0;
            for b in buckets.chunks(2) {
                let (Reply::Int(bound), Reply::Int(count)) = (&b[0], &b[1]) else {
                    panic!("{b:?}")
                };
                assert!(
                    redstep::engine::LATENCY_BUCKETS.contains(&(*bound as u64)),
                    "{bound}"
                );
                assert!(*count > last, "{buckets:?}");
                last = *count;
            }
            out.push(format!("{} calls={calls} timed={last}", text(&pair[0])));
        }
    }
    out
}

#[test]
fn latency_histograms_count_what_redis_counts() {
    let addr = common::start();
    let ours = histograms(&Target::parse(&format!("redis://{addr}")).unwrap());
    assert_eq!(
        ours,
        [
            "set calls=1 timed=1",
            "get calls=2 timed=2",
            "eval calls=1 timed=1",
            "incr calls=1 timed=1",
            "exec calls=1 timed=1",
            "multi calls=1 timed=1",
            "blpop calls=1 timed=1",
            "config|resetstat calls=1 timed=1",
            "config|resetstat calls=1 timed=1",
        ]
    );
    let Some(real) = Real::start() else { return };
    let theirs = histograms(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
}

/// LOLWUT's art drawn with random numbers: the same canvas and caption as
/// Redis's (as many Braille cells or coloured spaces a row), the numbers
/// aside; and a canvas too big for a laptop refused.
#[test]
fn lolwut_draws_redis_s_canvases() {
    let shape = |target: &Target| -> Vec<String> {
        let mut c = Conn::open(target).unwrap();
        let mut out = Vec::new();
        for w in [
            &["LOLWUT", "VERSION", "5"][..],
            &["LOLWUT", "VERSION", "6"],
            &["LOLWUT", "VERSION", "5", "20", "3", "4"],
        ] {
            let art = text(&c.call(&words(w)).unwrap());
            let lines: Vec<&str> = art.lines().collect();
            // A version 6 row is coloured spaces, its bytes vary with the
            // colours; a version 5 row is Braille cells.
            let cells: Vec<usize> = lines
                .iter()
                .take(3)
                .map(|l| match w[2] {
                    "6" => l.matches(' ').count(),
                    _ => l.chars().count(),
                })
                .collect();
            out.push(format!(
                "{} lines, cells {cells:?}, last {:?}",
                lines.len(),
                lines.last()
            ));
        }
        out
    };
    let addr = common::start();
    let target = Target::parse(&format!("redis://{addr}")).unwrap();
    let ours = shape(&target);
    assert!(
        ours[0].starts_with("51 lines, cells [66, 66, 66]"),
        "{ours:?}"
    );
    let mut c = Conn::open(&target).unwrap();
    let refused = text(
        &c.call(&words(&["LOLWUT", "VERSION", "5", "1000", "1", "200"]))
            .unwrap(),
    );
    assert!(
        refused.starts_with("ERR redstep: this LOLWUT canvas would hold 798408000 pixels"),
        "{refused}"
    );
    let Some(real) = Real::start() else { return };
    assert_eq!(ours, shape(&Target::parse(&real.url()).unwrap()));
}

/// CONFIG GET knows every parameter of Redis 7.0.15: redstep's value where
/// it models one, Redis's default otherwise; CONFIG SET keeps an unmodelled
/// one at that default (set to it: OK; to anything else: an error that
/// says so).
#[test]
fn config_get_knows_every_redis_parameter() {
    let addr = common::start();
    let mut c = Conn::open(&Target::parse(&format!("redis://{addr}")).unwrap()).unwrap();
    let mut ask = |w: &[&str]| c.call(&words(w)).unwrap();
    let pairs = |reply: Reply| -> Vec<(String, String)> {
        let Reply::Array(items) = reply else {
            panic!("{reply:?}")
        };
        let mut pairs: Vec<(String, String)> = items
            .chunks(2)
            .map(|p| (text(&p[0]), text(&p[1])))
            .collect();
        pairs.sort();
        pairs
    };
    let ours = pairs(ask(&["CONFIG", "GET", "*"]));
    // (Redis answers several in its hash table's order, which changes
    // from one process to the next.)
    assert_eq!(
        pairs(ask(&["CONFIG", "GET", "maxmemory-policy", "appendonly"])),
        pairs(Reply::bulks([
            "appendonly",
            "no",
            "maxmemory-policy",
            "noeviction"
        ]))
    );
    assert_eq!(
        ask(&["CONFIG", "SET", "maxmemory-policy", "NoEviction"]),
        Reply::ok()
    );
    assert_eq!(
        ask(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]),
        Reply::error("ERR redstep does not model 'maxmemory-policy': it stays at Redis 7.0.15's default, 'noeviction'")
    );
    assert_eq!(
        ask(&["CONFIG", "SET", "NoSuch", "1"]),
        Reply::error("ERR Unknown option or number of arguments for CONFIG SET - 'NoSuch'")
    );
    // Refused as Redis refuses them even at their own value; the same
    // amount in other units is the same value.
    assert_eq!(
        ask(&["CONFIG", "SET", "Daemonize", "no"]),
        Reply::error("ERR CONFIG SET failed (possibly related to argument 'Daemonize') - can't set immutable config")
    );
    assert_eq!(
        ask(&["CONFIG", "SET", "dir", "/"]),
        Reply::error("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config")
    );
    assert_eq!(
        ask(&["CONFIG", "SET", "client-query-buffer-limit", "1gb"]),
        Reply::ok()
    );
    let Some(real) = Real::start() else { return };
    let mut r = Conn::open(&Target::parse(&real.url()).unwrap()).unwrap();
    let theirs = pairs(r.call(&words(&["CONFIG", "GET", "*"])).unwrap());
    let names = |p: &[(String, String)]| p.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs));
    // Where the server was started differs (its address, port, socket,
    // folder, dump file, save points); every other value is the same.
    let launch = [
        "bind",
        "port",
        "unixsocket",
        "unixsocketperm",
        "dir",
        "dbfilename",
        "save",
    ];
    for ((name, ours), (_, theirs)) in ours.iter().zip(&theirs) {
        if !launch.contains(&name.as_str()) {
            assert_eq!(ours, theirs, "{name}");
        }
    }
}
