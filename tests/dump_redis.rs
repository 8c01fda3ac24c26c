//! DUMP and RESTORE against a real redis-server 7.0 (started by the test
//! on a Unix socket of its own; SKIPPED when it is missing): every type,
//! small (listpack, intset) and large (hashtable, skiplist, several
//! quicklist nodes), goes both ways — DUMP there, RESTORE here, and DUMP
//! here, RESTORE there — and comes back with the same type, encoding and
//! value; where Redis's bytes do not depend on its hash tables' layout,
//! the payloads are byte for byte the same. A TTL travels with ABSTTL.

mod real;
use real::Real;

use redstep::engine::{ClientId, Engine, Reply};

type Argv = Vec<Vec<u8>>;

struct Ours(Engine, ClientId);

impl Ours {
    fn new() -> Ours {
        let mut engine = Engine::default();
        let client = engine.connect();
        Ours(engine, client)
    }
    fn call(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.0.execute(self.1, argv).expect("not blocked")
    }
}

trait Server {
    fn run(&mut self, argv: &[Vec<u8>]) -> Reply;
}
impl Server for Ours {
    fn run(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.call(argv)
    }
}
impl Server for Real {
    fn run(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.call(argv)
    }
}

fn words(line: &str) -> Argv {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

fn cmd(parts: &[&[u8]]) -> Argv {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// One value: the commands that build it under key `k`, and whether
/// Redis's DUMP bytes are determined by the value (no hash table order).
struct Case {
    name: &'static str,
    build: Vec<Argv>,
    same_bytes: bool,
}

fn push(name: &'static str, head: &str, items: Vec<String>, same_bytes: bool) -> Case {
    let mut argv = words(head);
    argv.extend(items.into_iter().map(String::into_bytes));
    Case {
        name,
        build: vec![argv],
        same_bytes,
    }
}

fn cases() -> Vec<Case> {
    let n = |count: usize, f: &dyn Fn(usize) -> String| (0..count).map(f).collect::<Vec<_>>();
    let mut binary = b"SET k ".to_vec();
    binary.extend((0..=255u8).rev());
    vec![
        push("short string", "SET k", vec!["hello".into()], true),
        push("int", "SET k", vec!["12345".into()], true),
        push("negative int", "SET k", vec!["-7".into()], true),
        push(
            "64-bit int",
            "SET k",
            vec!["-9223372036854775808".into()],
            true,
        ),
        push(
            "int with a leading zero",
            "SET k",
            vec!["0123".into()],
            true,
        ),
        push("compressible string", "SET k", vec!["a".repeat(30)], true),
        push(
            "text",
            "SET k",
            vec!["the quick brown fox jumps over the lazy dog, the quick brown cat".into()],
            true,
        ),
        push(
            "long string",
            "SET k",
            vec!["0123456789abcdef".repeat(700)],
            true,
        ),
        push(
            "incompressible string",
            "SET k",
            vec![n(40, &|i| format!("{}", (i * 7919) % 97)).concat()],
            true,
        ),
        Case {
            name: "binary string",
            build: vec![vec![b"SET".to_vec(), b"k".to_vec(), binary[6..].to_vec()]],
            same_bytes: true,
        },
        Case {
            name: "bitmap",
            build: vec![words("SETBIT k 1000 1"), words("SETBIT k 7 1")],
            same_bytes: true,
        },
        Case {
            name: "hyperloglog",
            build: vec![words("PFADD k a b c d e f g")],
            same_bytes: true,
        },
        push(
            "small list",
            "RPUSH k",
            [
                "a",
                "b",
                "1",
                "-1",
                "127",
                "128",
                "-4096",
                "4095",
                "70000",
                "-70000",
                "9000000",
                "3000000000",
                "-9223372036854775808",
                "",
                "x".repeat(70).as_str(),
                "y".repeat(5000).as_str(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            true,
        ),
        push(
            "long list",
            "RPUSH k",
            n(3000, &|i| format!("item:{i}")),
            true,
        ),
        push(
            "list of big elements",
            "RPUSH k",
            n(200, &|i| format!("{i}:{}", "v".repeat(300))),
            true,
        ),
        push(
            "small intset",
            "SADD k",
            ["3", "1", "2", "-5"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            true,
        ),
        push(
            "wide intset",
            "SADD k",
            ["1", "70000", "-5000000000"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            true,
        ),
        push(
            "large intset",
            "SADD k",
            n(400, &|i| format!("{}", i * 3)),
            true,
        ),
        push(
            "set of strings",
            "SADD k",
            ["a", "b", "c"].iter().map(|s| s.to_string()).collect(),
            false,
        ),
        push(
            "set of 600 integers",
            "SADD k",
            n(600, &|i| i.to_string()),
            false,
        ),
        push(
            "small hash",
            "HSET k",
            ["f", "v", "n", "5", "neg", "-123456", "empty", ""]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            true,
        ),
        push(
            "hash with a long value",
            "HSET k",
            vec!["f".into(), "v".repeat(100)],
            false,
        ),
        push(
            "hash of 600 fields",
            "HSET k",
            n(1200, &|i| format!("f{}", i / 2 + (i % 2) * 1000)),
            false,
        ),
        push(
            "small zset",
            "ZADD k",
            [
                "1",
                "a",
                "2.5",
                "b",
                "-3",
                "c",
                "inf",
                "d",
                "-inf",
                "e",
                "0.1",
                "f",
                "1e300",
                "g",
                "123456789012",
                "h",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            true,
        ),
        push(
            "large zset",
            "ZADD k",
            n(400, &|i| {
                if i % 2 == 0 {
                    format!("{}.5", i)
                } else {
                    format!("m{i}")
                }
            }),
            true,
        ),
        push(
            "zset with a long member",
            "ZADD k",
            vec!["1".into(), "m".repeat(80)],
            true,
        ),
        Case {
            name: "small stream",
            build: vec![
                words("XADD k 1-1 f v"),
                words("XADD k 1-2 f w g x"),
                words("XADD k 2-0 f 12"),
            ],
            same_bytes: true,
        },
        Case {
            name: "stream with a group and pending entries",
            build: vec![
                words("XADD k 1-1 f v"),
                words("XADD k 1-2 f w g x"),
                words("XADD k 2-0 f 12"),
                words("XGROUP CREATE k g1 0"),
                words("XGROUP CREATE k g2 $"),
                words("XREADGROUP GROUP g1 alice COUNT 2 STREAMS k >"),
                words("XREADGROUP GROUP g1 bob COUNT 1 STREAMS k >"),
                words("XACK k g1 1-2"),
            ],
            // Delivery and seen times are each server's clock.
            same_bytes: false,
        },
        Case {
            name: "stream with a deleted entry",
            build: vec![
                words("XADD k 1-1 f v"),
                words("XADD k 1-2 f w"),
                words("XADD k 1-3 f x"),
                words("XDEL k 1-2"),
            ],
            // Redis keeps the deleted entry in its node, flagged.
            same_bytes: false,
        },
        Case {
            name: "emptied stream with a group",
            build: vec![
                words("XADD k 5-5 f v"),
                words("XDEL k 5-5"),
                words("XGROUP CREATE k g 0"),
            ],
            same_bytes: true,
        },
        Case {
            name: "stream made by MKSTREAM",
            build: vec![words("XGROUP CREATE k g $ MKSTREAM")],
            same_bytes: true,
        },
        Case {
            name: "long stream",
            build: (1..=250)
                .map(|i| words(&format!("XADD k {i}-1 n {i} m x")))
                .collect(),
            same_bytes: true,
        },
        Case {
            name: "stream of big entries",
            build: (1..=40)
                .map(|i| words(&format!("XADD k 7-{i} v {}", "z".repeat(300))))
                .collect(),
            same_bytes: true,
        },
        Case {
            name: "stream of varying fields",
            build: (0..30)
                .map(|i| words(&format!("XADD k {}-0 a{} 1 b -{i}", i * 1000 + 3, i % 3)))
                .collect(),
            same_bytes: true,
        },
    ]
}

/// The value as clients read it, and its type and encoding.
fn observe(server: &mut dyn Server, key: &str) -> Vec<Reply> {
    let kind = server.run(&words(&format!("TYPE {key}")));
    let read = match &kind {
        Reply::Status(t) if t == b"string" => format!("GET {key}"),
        Reply::Status(t) if t == b"list" => format!("LRANGE {key} 0 -1"),
        Reply::Status(t) if t == b"set" => format!("SORT {key} ALPHA"),
        Reply::Status(t) if t == b"hash" => format!("HGETALL {key}"),
        Reply::Status(t) if t == b"zset" => format!("ZRANGE {key} 0 -1 WITHSCORES"),
        Reply::Status(t) if t == b"stream" => format!("XRANGE {key} - +"),
        other => panic!("TYPE {key} answered {other:?}"),
    };
    let mut value = server.run(&words(&read));
    if let (Reply::Status(t), Reply::Array(items)) = (&kind, &mut value) {
        // A hashtable hash's field order is its table's: compare as pairs, sorted.
        if t == b"hash" {
            let mut pairs: Vec<Vec<Reply>> = items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort_by_key(|p| format!("{p:?}"));
            *items = pairs.concat();
        }
    }
    let encoding = server.run(&words(&format!("OBJECT ENCODING {key}")));
    let mut seen = vec![kind.clone(), encoding, value];
    if kind == Reply::Status(b"stream".to_vec()) {
        // The counters, the groups and who holds what (not the radix-tree
        // figures, which are estimates here, nor idle times).
        let Reply::Array(info) = server.run(&words(&format!("XINFO STREAM {key}"))) else {
            panic!("XINFO STREAM {key}")
        };
        for pair in info.chunks(2) {
            if !matches!(&pair[0], Reply::Bulk(n) if n.starts_with(b"radix-tree")) {
                seen.extend(pair.iter().cloned());
            }
        }
        let groups = server.run(&words(&format!("XINFO GROUPS {key}")));
        if let Reply::Array(groups) = &groups {
            for group in groups {
                let Reply::Array(fields) = group else {
                    panic!()
                };
                let name = String::from_utf8_lossy(match &fields[1] {
                    Reply::Bulk(b) => b,
                    _ => panic!(),
                })
                .into_owned();
                seen.push(server.run(&words(&format!("XPENDING {key} {name}"))));
            }
        }
        seen.push(groups);
    }
    seen
}

fn bulk(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Bulk(b) => b,
        other => panic!("DUMP answered {other:?}"),
    }
}

#[test]
fn every_type_round_trips_both_ways() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed; DUMP payloads were not compared");
        return;
    };
    let mut ours = Ours::new();
    let mut identical = 0;
    for case in cases() {
        for server in [&mut ours as &mut dyn Server, &mut real] {
            server.run(&words("FLUSHALL"));
            for argv in &case.build {
                let reply = server.run(argv);
                assert!(
                    !matches!(reply, Reply::Error(_)),
                    "{}: {reply:?}",
                    case.name
                );
            }
        }
        let expected = observe(&mut real, "k");
        assert_eq!(
            observe(&mut ours, "k"),
            expected,
            "{}: built alike",
            case.name
        );

        let theirs = bulk(real.call(&words("DUMP k")));
        let mine = bulk(ours.call(&words("DUMP k")));
        if case.same_bytes {
            assert_eq!(mine, theirs, "{}: DUMP bytes", case.name);
            identical += 1;
        }

        // DUMP there, RESTORE here (and there too: a restored value's
        // encoding is what loading makes of it, not the original's).
        for (payload, from) in [(&theirs, "Redis"), (&mine, "redstep")] {
            let restore = cmd(&[b"RESTORE", b"r", b"0", payload, b"REPLACE"]);
            assert_eq!(
                ours.call(&restore),
                Reply::ok(),
                "{}: {from}'s DUMP restored here",
                case.name
            );
            assert_eq!(
                real.call(&restore),
                Reply::ok(),
                "{}: {from}'s DUMP restored there",
                case.name
            );
            let there = observe(&mut real, "r");
            assert_eq!(there[0], expected[0], "{}: {from}'s DUMP, type", case.name);
            assert_eq!(there[2], expected[2], "{}: {from}'s DUMP, value", case.name);
            assert_eq!(
                observe(&mut ours, "r"),
                there,
                "{}: {from}'s DUMP restored",
                case.name
            );
        }
    }
    eprintln!("{identical} cases compared byte for byte");
    assert!(identical >= 26, "{identical} cases compared byte for byte");
}

#[test]
fn a_ttl_travels_with_absttl_and_replace() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    let mut ours = Ours::new();
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 600_000;
    real.call(&words("RPUSH k a b c"));
    ours.call(&words("RPUSH k a b c"));
    ours.call(&words("SET r old"));
    real.call(&words("SET r old"));
    let theirs = bulk(real.call(&words("DUMP k")));
    assert_eq!(bulk(ours.call(&words("DUMP k"))), theirs);
    let at = at.to_string();
    let restore = |extra: &[&[u8]], payload: &[u8]| {
        let mut argv = cmd(&[b"RESTORE", b"r", at.as_bytes(), payload]);
        argv.extend(extra.iter().map(|e| e.to_vec()));
        argv
    };
    for server in [&mut ours as &mut dyn Server, &mut real] {
        let busy = server.run(&restore(&[b"ABSTTL"], &theirs));
        assert_eq!(
            busy,
            Reply::Error(b"BUSYKEY Target key name already exists.".to_vec())
        );
        let ok = server.run(&restore(
            &[b"ABSTTL", b"REPLACE", b"IDLETIME", b"10"],
            &theirs,
        ));
        assert_eq!(ok, Reply::ok());
        assert_eq!(
            server.run(&words("PEXPIRETIME r")),
            Reply::Int(at.parse().unwrap())
        );
        assert_eq!(
            server.run(&words("LRANGE r 0 -1")),
            Reply::Array(vec![Reply::bulk("a"), Reply::bulk("b"), Reply::bulk("c")])
        );
        // A time already past stores nothing, and REPLACE deleted the old key.
        let ok = server.run(&cmd(&[
            b"RESTORE", b"r", b"1", &theirs, b"ABSTTL", b"REPLACE",
        ]));
        assert_eq!(ok, Reply::ok());
        assert_eq!(server.run(&words("EXISTS r")), Reply::Int(0));
    }
}

/// MEMORY USAGE is an estimate (Redis's figure is jemalloc's); it follows
/// Redis's objectComputeSize with jemalloc's size classes, so for these
/// values it is Redis's figure, except a skiplist's nodes, whose heights
/// are random there (within 10%).
#[test]
fn memory_usage_estimates_what_redis_reports() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    let mut ours = Ours::new();
    for case in cases() {
        for server in [&mut ours as &mut dyn Server, &mut real] {
            server.run(&words("FLUSHALL"));
            for argv in &case.build {
                server.run(argv);
            }
        }
        for samples in ["5", "0"] {
            let usage = format!("MEMORY USAGE k SAMPLES {samples}");
            let (Reply::Int(here), Reply::Int(there)) =
                (ours.call(&words(&usage)), real.call(&words(&usage)))
            else {
                panic!("{}: MEMORY USAGE is not an integer", case.name);
            };
            if real.call(&words("OBJECT ENCODING k")) == Reply::bulk("stream") {
                continue; // an estimate of Redis's radix tree: not compared
            }
            if real.call(&words("OBJECT ENCODING k")) == Reply::bulk("skiplist") {
                // Skiplist nodes have random heights: Redis's estimate from
                // 5 of them swings from run to run (18,840 to 24,600 bytes
                // for this zset, measured), so only the full count
                // (SAMPLES 0: 19,784 to 20,024) is compared, within 5% and
                // 128 bytes: a one-node skiplist's figure moves with that
                // node's height alone, 16 bytes a level (997 here and 1,056
                // there was seen once in a CI run; 128 bytes is 8 levels).
                if samples == "0" {
                    assert!(
                        (here - there).abs() <= there / 20 + 128,
                        "{}: {here} here, {there} there",
                        case.name
                    );
                }
            } else {
                assert_eq!(here, there, "{}: SAMPLES {samples}", case.name);
            }
        }
    }
}

/// Redis compresses strings over 20 bytes with LZF when that saves 4 bytes
/// (its compressor's own bounds decide near the edge): random strings of
/// every compressibility, near and far from that edge, give Redis's bytes.
#[test]
fn string_payloads_match_redis_lzf_byte_for_byte() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    let mut ours = Ours::new();
    let mut rng = fastrand::Rng::with_seed(22);
    let mut compressed = 0;
    for round in 0..600 {
        let len = match round % 3 {
            0 => rng.usize(19..60),
            1 => rng.usize(60..600),
            _ => rng.usize(600..9000),
        };
        let alphabet = [2u8, 4, 16, 64, 255][rng.usize(..5)];
        let run = rng.usize(1..6);
        let mut value = Vec::with_capacity(len);
        while value.len() < len {
            let b = rng.u8(..alphabet);
            for _ in 0..run.min(len - value.len()) {
                value.push(b);
            }
        }
        let set = cmd(&[b"SET", b"k", &value]);
        ours.call(&set);
        real.call(&set);
        let theirs = bulk(real.call(&words("DUMP k")));
        assert_eq!(
            bulk(ours.call(&words("DUMP k"))),
            theirs,
            "round {round}: {len} bytes over {alphabet} symbols in runs of {run}"
        );
        compressed += usize::from(theirs[1] == 0xC3);
    }
    assert!(
        compressed > 100 && compressed < 550,
        "{compressed} of 600 compressed"
    );
}

/// Payloads damaged anywhere (their checksum made right again) are
/// refused with an error or read as some value; the engine never panics.
/// (No server needed.)
#[test]
fn damaged_payloads_never_panic() {
    let mut ours = Ours::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let mut payloads = Vec::new();
    for case in cases() {
        ours.call(&words("FLUSHALL"));
        for argv in &case.build {
            ours.call(argv);
        }
        payloads.push(bulk(ours.call(&words("DUMP k"))));
    }
    let mut outcomes = [0usize; 2];
    for round in 0..20_000 {
        let mut p = payloads[rng.usize(..payloads.len())].clone();
        for _ in 0..rng.usize(1..4) {
            let body = p.len() - 10;
            if body < 2 {
                break;
            }
            match rng.usize(..3) {
                0 => p[rng.usize(..body)] = rng.u8(..),
                1 => {
                    let i = rng.usize(..body);
                    p[i] ^= 1 << rng.u8(..8);
                }
                _ => {
                    let cut = rng.usize(..body);
                    let n = rng.usize(1..=(body - cut).min(8));
                    p.drain(cut..cut + n);
                }
            }
        }
        let body = p.len() - 8;
        let crc = redstep::engine::rdb::crc64(&p[..body]);
        p[body..].copy_from_slice(&crc.to_le_bytes());
        let reply = ours.call(&cmd(&[b"RESTORE", b"r", b"0", &p, b"REPLACE"]));
        match reply {
            Reply::Status(_) => outcomes[0] += 1,
            Reply::Error(e) => {
                assert!(e.starts_with(b"ERR "), "round {round}: {e:?}");
                outcomes[1] += 1;
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
