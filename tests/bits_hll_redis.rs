//! Bitmaps and HyperLogLog against a real redis-server 7.0 (started by
//! the test on a Unix socket of its own; SKIPPED when it is missing):
//! random BITFIELD / BITPOS / BITCOUNT arguments answer the same; the
//! same 100,000 elements added here and there give the same `GET` bytes at
//! every stage (sparse, the promotion, dense) and the same PFCOUNT, and a
//! payload taken from the real server and SET here counts the same.

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

fn words(line: &str) -> Argv {
    line.split(' ').map(|w| w.as_bytes().to_vec()).collect()
}

fn get(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Bulk(b) => b,
        other => panic!("GET answered {other:?}"),
    }
}

#[test]
fn the_same_elements_give_the_same_bytes_and_counts_as_redis() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed; HLL bytes were not compared");
        return;
    };
    let mut ours = Ours::new();
    let mut added = 0usize;
    let mut stages = Vec::new();
    // Small batches first (the sparse stage and its promotion), then larger.
    while added < 100_000 {
        let batch = match added {
            0..=2_000 => 7,
            2_001..=20_000 => 500,
            _ => 5_000,
        };
        let mut argv = words("PFADD k");
        argv.extend((added..added + batch).map(|i| format!("element:{i}").into_bytes()));
        added += batch;
        assert_eq!(ours.call(&argv), real.call(&argv), "PFADD up to {added}");
        let here = get(ours.call(&words("GET k")));
        let there = get(real.call(&words("GET k")));
        assert!(here == there, "GET differs after {added} elements");
        let encoding = if here[4] == 1 { "sparse" } else { "dense" };
        if stages.last() != Some(&encoding) {
            stages.push(encoding);
        }
        // PFCOUNT writes the cached count into the header: same bytes again.
        let count = real.call(&words("PFCOUNT k"));
        assert_eq!(ours.call(&words("PFCOUNT k")), count, "PFCOUNT at {added}");
        assert!(
            get(ours.call(&words("GET k"))) == get(real.call(&words("GET k"))),
            "cached count bytes differ at {added}"
        );
    }
    assert_eq!(stages, ["sparse", "dense"]);
    let count = real.call(&words("PFCOUNT k"));
    assert_eq!(ours.call(&words("PFCOUNT k")), count);
    // Several keys, merges, and a second small key.
    for line in [
        "PFADD small a b c d e f g",
        "PFCOUNT k small",
        "PFCOUNT small nokey",
        "PFMERGE m small",
        "GET m",
        "PFMERGE m2 small k",
        "GET m2",
        "PFCOUNT m2",
        "GET m2",
        "PFDEBUG DECODE small",
        "PFDEBUG ENCODING k",
        "PFDEBUG TODENSE small",
        "GET small",
    ] {
        assert_eq!(ours.call(&words(line)), real.call(&words(line)), "{line}");
    }
    eprintln!("HLL: 100000 elements, stages {stages:?}, PFCOUNT {count:?}, same bytes as Redis");
}

#[test]
fn a_payload_from_redis_counts_the_same_here() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed; HLL payloads were not compared");
        return;
    };
    let mut ours = Ours::new();
    for (key, n) in [("sparse", 300usize), ("dense", 30_000)] {
        let mut argv = words(&format!("PFADD {key}"));
        argv.extend((0..n).map(|i| format!("{key}-{i}").into_bytes()));
        real.call(&argv);
        // The payload with its cache invalidated, and once counted.
        for _ in 0..2 {
            let payload = get(real.call(&words(&format!("GET {key}"))));
            let set = vec![b"SET".to_vec(), key.as_bytes().to_vec(), payload];
            assert_eq!(ours.call(&set), Reply::ok());
            for line in [format!("PFCOUNT {key}"), format!("GET {key}")] {
                assert_eq!(ours.call(&words(&line)), real.call(&words(&line)), "{line}");
            }
        }
        let line = format!("PFADD {key} one more element");
        assert_eq!(ours.call(&words(&line)), real.call(&words(&line)));
        let line = format!("GET {key}");
        assert_eq!(ours.call(&words(&line)), real.call(&words(&line)));
    }
    for line in [
        "PFCOUNT sparse dense",
        "PFMERGE both sparse dense",
        "PFCOUNT both",
        "GET both",
    ] {
        assert_eq!(ours.call(&words(line)), real.call(&words(line)), "{line}");
    }
}

#[test]
fn corrupt_sparse_payloads_fail_as_in_redis() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed; corrupt HLLs were not compared");
        return;
    };
    let mut ours = Ours::new();
    let mut rng = fastrand::Rng::with_seed(22);
    for round in 0..400 {
        // A sparse header, then a few opcodes: mostly valid runs that do not
        // add up to 16384 registers, sometimes random bytes.
        let mut payload = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
        for _ in 0..rng.usize(0..6) {
            match rng.usize(..4) {
                0 => payload.push(rng.u8(..0x40)),
                1 => payload.extend_from_slice(&[0x40 | rng.u8(..0x40), rng.u8(..)]),
                2 => payload.push(0x80 | rng.u8(..0x80)),
                _ => payload.extend_from_slice(&[0x7f, 0xff]),
            }
        }
        let mut lines: Vec<Argv> = vec![vec![b"SET".to_vec(), b"k".to_vec(), payload.clone()]];
        for line in [
            "PFCOUNT k",
            "PFCOUNT k nokey",
            "PFDEBUG DECODE k",
            "PFMERGE m k",
            "PFADD k a b c d e f",
            "GET k",
            "PFCOUNT k",
            "GET k",
            "PFADD dd a",
            "PFDEBUG TODENSE dd",
            "PFMERGE dd k",
            "PFDEBUG TODENSE k",
            "PFCOUNT k",
            "DEL m dd",
        ] {
            lines.push(words(line));
        }
        for argv in &lines {
            assert_eq!(
                ours.call(argv),
                real.call(argv),
                "round {round}, payload {payload:x?}, {:?}",
                String::from_utf8_lossy(&argv.join(&b' '))
            );
        }
    }
}

#[test]
fn random_bit_commands_answer_as_redis_does() {
    let Some(mut real) = Real::start() else {
        eprintln!("SKIPPED: redis-server is not installed; bit commands were not compared");
        return;
    };
    let mut ours = Ours::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let int = |rng: &mut fastrand::Rng| -> String {
        match rng.usize(..6) {
            0 => rng.i64(..).to_string(),
            1 => ["9223372036854775807", "-9223372036854775808", "x", "#3"][rng.usize(..4)].into(),
            _ => rng.i64(-70..70).to_string(),
        }
    };
    for round in 0..3000 {
        let key = ["k", "j"][rng.usize(..2)];
        let line: Vec<String> = match rng.usize(..6) {
            0 | 1 => {
                let mut l = vec!["BITFIELD".to_string(), key.into()];
                for _ in 0..rng.usize(1..4) {
                    if rng.usize(..4) == 0 {
                        l.push("OVERFLOW".into());
                        l.push(["WRAP", "SAT", "FAIL"][rng.usize(..3)].into());
                    }
                    let ty = format!(
                        "{}{}",
                        ["i", "u"][rng.usize(..2)],
                        [1, 2, 7, 8, 9, 16, 31, 32, 33, 63, 64][rng.usize(..11)]
                    );
                    let offset = if rng.bool() {
                        rng.usize(..80).to_string()
                    } else {
                        format!("#{}", rng.usize(..6))
                    };
                    match rng.usize(..3) {
                        0 => l.extend(["GET".into(), ty, offset]),
                        1 => l.extend(["SET".into(), ty, offset, int(&mut rng)]),
                        _ => l.extend(["INCRBY".into(), ty, offset, int(&mut rng)]),
                    }
                }
                l
            }
            2 => {
                let mut l = vec!["BITPOS".to_string(), key.into(), rng.usize(..2).to_string()];
                for _ in 0..rng.usize(0..3) {
                    l.push(rng.i64(-30..30).to_string());
                }
                if l.len() == 5 && rng.bool() {
                    l.push(["BIT", "BYTE"][rng.usize(..2)].into());
                }
                l
            }
            3 => {
                let mut l = vec!["BITCOUNT".to_string(), key.into()];
                if rng.bool() {
                    l.push(rng.i64(-30..30).to_string());
                    l.push(rng.i64(-30..30).to_string());
                    if rng.bool() {
                        l.push(["BIT", "BYTE"][rng.usize(..2)].into());
                    }
                }
                l
            }
            4 => vec![
                "SETBIT".into(),
                key.into(),
                rng.usize(..120).to_string(),
                rng.usize(..2).to_string(),
            ],
            _ => vec![
                "BITOP".into(),
                ["AND", "OR", "XOR"][rng.usize(..3)].into(),
                key.into(),
                "k".into(),
                "j".into(),
            ],
        };
        let argv: Argv = line.iter().map(|w| w.as_bytes().to_vec()).collect();
        assert_eq!(
            ours.call(&argv),
            real.call(&argv),
            "round {round}: {line:?}"
        );
        if round % 50 == 0 {
            for k in ["k", "j"] {
                let get = words(&format!("GET {k}"));
                assert_eq!(ours.call(&get), real.call(&get), "round {round}");
            }
        }
    }
}
