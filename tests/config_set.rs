//! CONFIG SET answers every value as Redis 7.0.15 does (and CONFIG GET
//! every name): the probes
//! `tests/golden/record_config_types.py` sent a real server, parameter by
//! parameter, replayed here (the comments of `assets/redis/config-types.tsv`).
//! A value Redis refused is refused with its very words; a value it took is
//! taken (a parameter redstep models), or, for one it does not, taken when
//! it is the default and otherwise refused with redstep's own reason.

mod env;

use env::Env;
use redstep::engine::Reply;

const TYPES: &str = include_str!("../assets/redis/config-types.tsv");

fn config_set(env: &mut Env, name: &str, value: &str) -> Reply {
    let argv: Vec<Vec<u8>> = ["CONFIG", "SET", name, value]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    call(env, &argv)
}

fn call(env: &mut Env, argv: &[Vec<u8>]) -> Reply {
    env.engine.call(&mut env.client, argv, &mut env.scripting)
}

#[test]
fn every_recorded_value_is_answered_as_redis_answered_it() {
    let mut probes = 0;
    let mut refused = 0;
    let mut env = Env::new();
    let mut last = "";
    for line in TYPES.lines().filter_map(|l| l.strip_prefix("#\t")) {
        let [name, value, theirs] = line.splitn(3, '\t').collect::<Vec<_>>()[..] else {
            panic!("a probe line: {line}");
        };
        if name != last {
            // Each parameter on a server of its own (what an accepted
            // probe changed stays out of the next one's).
            env = Env::new();
            last = name;
        }
        let ours = config_set(&mut env, name, value);
        probes += 1;
        match theirs.strip_prefix('-') {
            Some(error) => {
                refused += 1;
                assert_eq!(ours, Reply::error(error), "CONFIG SET {name} {value:?}");
            }
            None => {
                assert_eq!(theirs, "+OK");
                let not_modelled = format!("ERR redstep does not model '{name}'");
                match &ours {
                    Reply::Status(s) if s == b"OK" => {}
                    Reply::Error(e) if e.starts_with(not_modelled.as_bytes()) => {}
                    other => {
                        panic!("CONFIG SET {name} {value:?}: Redis took it, redstep {other:?}")
                    }
                }
            }
        }
    }
    // The file holds what the recorder sent (1,200 and more).
    assert!(
        probes > 1200 && refused > 900,
        "{probes} probes, {refused} refused"
    );
}

/// Values Redis takes for a parameter redstep models are taken: what
/// CONFIG GET answers after them is Redis's.
#[test]
fn modelled_parameters_take_what_redis_takes() {
    let mut env = Env::new();
    for (name, value, then) in [
        // A memory value with no digits is 0; units in any case.
        ("maxmemory", "", "0"),
        ("maxmemory", "1GB", "1073741824"),
        ("hash-max-listpack-value", "1kb", "1024"),
        ("busy-reply-threshold", "0", "0"),
    ] {
        assert_eq!(
            config_set(&mut env, name, value),
            Reply::ok(),
            "{name} {value:?}"
        );
        let got = call(
            &mut env,
            &[
                b"CONFIG".to_vec(),
                b"GET".to_vec(),
                name.as_bytes().to_vec(),
            ],
        );
        assert_eq!(
            got,
            Reply::Array(vec![Reply::bulk(name), Reply::bulk(then)]),
            "{name}"
        );
    }
}

/// Several parameters at once: every name is looked up before any value
/// is read (the first name that fails is the answer), then the values in
/// turn; nothing is applied unless all pass. Redis 7.0.15's answers,
/// recorded with redis-cli.
#[test]
fn names_are_checked_before_values_as_redis_does() {
    let mut env = Env::new();
    for (args, error) in [
        ("hz x daemonize yes", "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        ("hz x nosuch 1", "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
        ("daemonize yes nosuch 1", "ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"),
        ("nosuch 1 daemonize yes", "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
        ("hz 20 HZ 30", "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"),
        ("maxmemory 10mb hz x", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
        ("HZ x", "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
        ("Maxmemory x", "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
        ("hz 10 dir /tmp", "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
        ("maxmemory-policy x hz 20 hz 30", "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"),
        // Every value is checked before a parameter redstep does not model
        // is refused (Redis fails on timeout's value first).
        ("hz 11 timeout x", "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"),
    ] {
        let mut argv = vec![b"CONFIG".to_vec(), b"SET".to_vec()];
        argv.extend(args.split(' ').map(|a| a.as_bytes().to_vec()));
        assert_eq!(call(&mut env, &argv), Reply::error(error), "CONFIG SET {args}");
    }
    // The maxmemory before the failing hz was not applied.
    let got = call(
        &mut env,
        &[b"CONFIG".to_vec(), b"GET".to_vec(), b"maxmemory".to_vec()],
    );
    assert_eq!(
        got,
        Reply::Array(vec![Reply::bulk("maxmemory"), Reply::bulk("0")])
    );
}

/// Values of the odd kinds, with Redis 7.0.15's answers and what CONFIG
/// GET shows after them (recorded over a socket): `save` split at each
/// space and read by `strtoll` (a number past 2^63 clamped, changes kept
/// in a C `int`), C strings cut at a NUL, a name echoed as its bytes up to
/// a NUL, and the seconds of an output buffer limit in a C `int`.
#[test]
fn odd_values_are_read_as_redis_reads_them() {
    let failed = |name: &str, why: &str| {
        Reply::error(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    let invalid_save = failed("save", "Invalid save parameters");
    // (name, value, Redis's answer, what CONFIG GET shows after it)
    type Case<'a> = (&'a [u8], &'a [u8], Reply, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (b"save", b"0 1", invalid_save.clone(), None),
        (b"save", b"900  1", invalid_save.clone(), None),
        (b"save", b"900 1 ", invalid_save.clone(), None),
        (b"save", b"900\t1", invalid_save.clone(), None),
        (
            b"save",
            b"900 99999999999999999999",
            Reply::ok(),
            Some("900 -1"),
        ),
        (b"save", b"+900 01", Reply::ok(), Some("900 1")),
        (b"save", b"", Reply::ok(), Some("")),
        (b"save", b"900 1 300 10", Reply::ok(), Some("900 1 300 10")),
        (b"maxmemory", b"1\x00abc", Reply::ok(), Some("1")),
        (
            b"lazyfree-lazy-eviction",
            b"no\x00x",
            Reply::ok(),
            Some("no"),
        ),
        (
            b"appendfsync",
            b"everysec\x00x",
            Reply::ok(),
            Some("everysec"),
        ),
        (b"notify-keyspace-events", b"E\x00", Reply::ok(), Some("E")),
        (
            b"cluster-announce-hostname",
            b"a_b",
            failed(
                "cluster-announce-hostname",
                "Hostnames may only contain alphanumeric characters, hyphens or dots",
            ),
            None,
        ),
        (
            b"cluster-announce-hostname",
            &[b'x'; 256],
            failed(
                "cluster-announce-hostname",
                "Hostnames must be less than 256 characters",
            ),
            None,
        ),
        (
            b"client-output-buffer-limit",
            b"\x00",
            failed(
                "client-output-buffer-limit",
                "Wrong number of arguments in buffer limit configuration.",
            ),
            None,
        ),
        (b"save", b"\x00", Reply::ok(), Some("")),
        (
            b"client-output-buffer-limit",
            b"normal 0 0 4294967295",
            failed(
                "client-output-buffer-limit",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
            None,
        ),
        (
            b"h\xffz",
            b"1",
            Reply::Error(
                b"ERR Unknown option or number of arguments for CONFIG SET - 'h\xffz'".to_vec(),
            ),
            None,
        ),
        (
            b"maxmemory\x00x",
            b"1",
            Reply::error("ERR Unknown option or number of arguments for CONFIG SET - 'maxmemory'"),
            None,
        ),
    ];
    for (name, value, answer, then) in cases {
        let mut env = Env::new();
        let argv = vec![
            b"CONFIG".to_vec(),
            b"SET".to_vec(),
            name.to_vec(),
            value.to_vec(),
        ];
        let shown = String::from_utf8_lossy(name);
        assert_eq!(call(&mut env, &argv), answer, "{shown} {value:?}");
        if let Some(then) = then {
            let got = call(
                &mut env,
                &[b"CONFIG".to_vec(), b"GET".to_vec(), name.to_vec()],
            );
            let name = std::str::from_utf8(name).unwrap();
            assert_eq!(
                got,
                Reply::Array(vec![Reply::bulk(name), Reply::bulk(then)]),
                "{name}"
            );
        }
    }
}

fn pairs_of(reply: Reply) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Reply::Array(items) = reply else {
        panic!("{reply:?}")
    };
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = items
        .chunks(2)
        .map(|p| match p {
            [Reply::Bulk(k), Reply::Bulk(v)] => (k.clone(), v.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    // Redis answers in its hash table's order, which changes from one
    // process to the next.
    pairs.sort();
    pairs
}

/// CONFIG GET as Redis 7.0.15 answers it (recorded with redis-cli): an
/// exact name under the name as given, a hidden parameter by its exact
/// name only, a parameter once however often it is asked for.
#[test]
fn config_get_answers_names_as_redis_does() {
    let mut env = Env::new();
    let mut get = |args: &[&str]| {
        let mut argv = vec![b"CONFIG".to_vec(), b"GET".to_vec()];
        argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
        pairs_of(call(&mut env, &argv))
    };
    let pair = |k: &str, v: &str| (k.as_bytes().to_vec(), v.as_bytes().to_vec());
    assert_eq!(get(&["MAXMEMORY"]), [pair("MAXMEMORY", "0")]);
    assert_eq!(get(&["maxmemory", "MAXMEMORY"]), [pair("maxmemory", "0")]);
    let maxmemory_all = [
        pair("maxmemory-clients", "0"),
        pair("maxmemory-eviction-tenacity", "10"),
        pair("maxmemory-policy", "noeviction"),
        pair("maxmemory-samples", "5"),
    ];
    let mut expected = vec![pair("maxmemory", "0")];
    expected.extend(maxmemory_all.iter().cloned());
    assert_eq!(get(&["maxmemory*", "MAXMEMORY"]), expected);
    let mut expected = vec![pair("MAXMEMORY", "0")];
    expected.extend(maxmemory_all.iter().cloned());
    assert_eq!(get(&["MAXMEMORY", "maxmemory*"]), expected);
    assert_eq!(
        get(&["hash-max-ziplist-entries"]),
        [pair("hash-max-ziplist-entries", "512")]
    );
    // The hidden parameters: by exact name, in any case, never by pattern.
    assert_eq!(get(&["KEY-LOAD-DELAY"]), [pair("KEY-LOAD-DELAY", "0")]);
    assert_eq!(
        get(&["loading-process-events-interval-bytes"]),
        [pair("loading-process-events-interval-bytes", "2097152")]
    );
    assert_eq!(get(&["key-load-dela?"]), []);
    // A pattern is read up to a NUL (a C string); a name is looked up whole.
    assert_eq!(get(&["h?\0x"]), [pair("hz", "10")]);
    assert_eq!(get(&["*\0"]).len(), 192);
    assert_eq!(get(&["hz\0"]), []);
    let all = get(&["*"]);
    assert_eq!(all.len(), 192);
    assert!(!all.iter().any(|(k, _)| k == b"watchdog-period"));
}

/// A value that leaves a parameter redstep does not model as it is, written
/// otherwise, is taken, as Redis takes it (recorded with redis-cli; CONFIG
/// GET shows the defaults after each); one that changes it is refused.
#[test]
fn a_default_written_otherwise_is_taken() {
    let mut env = Env::new();
    for (name, value) in [
        ("client-output-buffer-limit", "normal 0 0 0"),
        ("client-output-buffer-limit", "pubsub 32mb 8mb 60"),
        (
            "client-output-buffer-limit",
            "NORMAL 0 0 0 REPLICA 256mb 64mb 60",
        ),
        ("latency-tracking-info-percentiles", "50.0 99 99.90"),
        ("oom-score-adj-values", "0 200 0800"),
    ] {
        assert_eq!(
            config_set(&mut env, name, value),
            Reply::ok(),
            "{name} {value}"
        );
    }
    let refused = config_set(&mut env, "client-output-buffer-limit", "normal 1 0 0");
    assert!(
        matches!(&refused, Reply::Error(e) if e.starts_with(b"ERR redstep does not model 'client-output-buffer-limit'")),
        "{refused:?}"
    );
}
