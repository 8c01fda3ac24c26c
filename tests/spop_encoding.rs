//! SPOP with a count that leaves few members (at most a fifth of the count:
//! Redis's SPOP_MOVE_STRATEGY_MUL) copies those to a new set, whose
//! encoding is chosen afresh: an intset again when they are all integers
//! and fit one. The encodings below were answered by Redis 7.0.15
//! (2026-12-07); `the_same_as_a_real_server` replays them against one
//! when `redis-server` is installed. Which members a SPOP takes is random,
//! so each sequence is one whose encodings do not depend on it.

mod real;

use redstep::engine::{Engine, Reply};

/// Each sequence, and the encoding after it.
const CASES: &[(&[&str], &str)] = &[
    // 600 integers (a hash table), 590 popped: 10 left, copied: intset.
    (
        &[
            "CONFIG SET set-max-intset-entries 512",
            "EVAL_LOOP s 600",
            "SPOP s 590",
        ],
        "intset",
    ),
    // 400 popped one by one (200 left: 1000 > 400): the table stays.
    (
        &[
            "CONFIG SET set-max-intset-entries 512",
            "EVAL_LOOP s 600",
            "SPOP s 400",
        ],
        "hashtable",
    ),
    // The boundary: 12 integers over a limit of 4, 10 popped (2 left,
    // 10 <= 10): copied, 2 fit an intset.
    (
        &[
            "CONFIG SET set-max-intset-entries 4",
            "EVAL_LOOP s 12",
            "SPOP s 10",
        ],
        "intset",
    ),
    // 9 popped (3 left, 15 > 9): one by one, the table stays.
    (
        &[
            "CONFIG SET set-max-intset-entries 4",
            "EVAL_LOOP s 12",
            "SPOP s 9",
        ],
        "hashtable",
    ),
    // 30 over a limit of 4, 25 popped (5 left, 25 <= 25): copied, but 5
    // integers are more than an intset of 4 holds.
    (
        &[
            "CONFIG SET set-max-intset-entries 4",
            "EVAL_LOOP s 30",
            "SPOP s 25",
        ],
        "hashtable",
    ),
    // Strings only: copied into a table again.
    (
        &[
            "CONFIG SET set-max-intset-entries 512",
            "SADD s a b c d e f g h i j k l",
            "SPOP s 11",
        ],
        "hashtable",
    ),
];

/// A line's words; `EVAL_LOOP key n` adds the integers 1..n in a script.
fn argv(line: &str) -> Vec<Vec<u8>> {
    let words: Vec<&str> = line.split(' ').collect();
    if words[0] == "EVAL_LOOP" {
        let script = format!(
            "for i = 1, {} do redis.call('SADD', KEYS[1], i) end",
            words[2]
        );
        return ["EVAL", &script, "1", words[1]]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
    }
    words.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn encodings(mut run: impl FnMut(Vec<Vec<u8>>) -> Reply) -> Vec<String> {
    CASES
        .iter()
        .map(|(lines, _)| {
            run(argv("FLUSHALL"));
            for line in *lines {
                if let Reply::Error(e) = run(argv(line)) {
                    panic!("{line}: {}", String::from_utf8_lossy(&e));
                }
            }
            match run(argv("OBJECT ENCODING s")) {
                Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
                other => format!("{other:?}"),
            }
        })
        .collect()
}

fn ours() -> Vec<String> {
    let mut engine = Engine::default();
    let mut scripting = redstep::script::Scripting::new(&mut engine, Default::default());
    let client = engine.connect();
    encodings(|argv| {
        engine
            .execute_with(client, &argv, &mut scripting)
            .expect("no command here blocks")
    })
}

#[test]
fn spop_that_leaves_few_members_chooses_the_encoding_afresh() {
    let want: Vec<String> = CASES.iter().map(|(_, e)| e.to_string()).collect();
    assert_eq!(ours(), want);
}

#[test]
fn the_same_as_a_real_server() {
    let Some(mut real) = real::Real::start() else {
        return;
    };
    assert_eq!(encodings(|argv| real.call(&argv)), ours());
}

/// What replicas get for SPOP with a count: Redis 7.0.15 sends one SREM a
/// member, in MULTI/EXEC (recorded with tests/golden/record_repl.py:
/// `SADD s a b c d`, `SPOP s 2` sent `MULTI`, `SREM s c`, `SREM s d`,
/// `EXEC`); 7.2 batches them. Which members is random, so the shape is
/// compared: the members sent are the ones popped.
#[test]
fn spop_with_a_count_sends_replicas_an_srem_a_member() {
    let mut engine = Engine::default();
    engine.keyspace.propagation.on = true;
    engine.keyspace.propagation.assume_selected(0);
    let client = engine.connect();
    engine.execute(client, &argv("SADD s a b c d"));
    let Some(Reply::Array(popped)) = engine.execute(client, &argv("SPOP s 2")) else {
        panic!("SPOP's reply")
    };
    let popped: Vec<Vec<u8>> = popped
        .into_iter()
        .map(|r| match r {
            Reply::Bulk(b) => b,
            other => panic!("{other:?}"),
        })
        .collect();
    let ops = engine.keyspace.propagation.take();
    let mut want = vec![argv("SADD s a b c d"), argv("MULTI")];
    want.extend(
        popped
            .iter()
            .map(|m| [b"SREM".to_vec(), b"s".to_vec(), m.clone()].to_vec()),
    );
    want.push(argv("EXEC"));
    assert_eq!(ops, want);
}
