//! A step's change told the way the key's users think of it (#22): a
//! stream as entries added, trimmed and acknowledged; a bitmap as the bits
//! that changed; a HyperLogLog as its count; a geo set as places. The text
//! trace, the debugger's "This step changed" and the keyspace pane use the
//! same words.

mod env;
use env::Env;
use std::collections::BTreeSet;

use redstep::trace::{export, words, Move, Session, Start};

/// Each call step's change lines in the text trace, in order.
fn changes(env: &mut Env, body: &str) -> Vec<String> {
    let timeline = env.eval(body);
    let text = export::text(&timeline, &env.engine.keyspace);
    text.lines()
        .filter(|l| l.starts_with("               "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn a_stream_step_reads_as_the_entries_and_groups_it_changed() {
    let mut env = Env::new();
    let lines = changes(
        &mut env,
        "redis.call('XADD', 'events', '1-1', 'job', '42')\n\
         redis.call('XADD', 'events', '2-1', 'job', 'b')\n\
         redis.call('XGROUP', 'CREATE', 'events', 'workers', '0')\n\
         redis.call('XREADGROUP', 'GROUP', 'workers', 'w1', 'COUNT', 1, 'STREAMS', 'events', '>')\n\
         redis.call('XACK', 'events', 'workers', '1-1')\n\
         redis.call('XTRIM', 'events', 'MAXLEN', 1)\n\
         redis.call('XADD', 'events', '3-1', 'job', 'c')\n\
         redis.call('XDEL', 'events', '3-1')\n\
         redis.call('XGROUP', 'DESTROY', 'events', 'workers')",
    );
    assert_eq!(
        lines,
        [
            r#"events: (absent) → 1 entry, last id 1-1 [1-1 "job" "42"]"#,
            r#"events: 1 entry → 2 entries: added 2-1 "job" "b""#,
            r#"events: 2 entries: group "workers" created at 0-0 (0 pending)"#,
            r#"events: 2 entries: group "workers" delivered up to 0-0 → 1-1, 0 pending → 1, 0 consumers → 1"#,
            r#"events: 2 entries: group "workers" 1 pending → 0, acknowledged 1-1"#,
            r#"events: 2 entries → 1 entry: trimmed 1-1"#,
            r#"events: 1 entry → 2 entries: added 3-1 "job" "c""#,
            r#"events: 2 entries → 1 entry: deleted 3-1"#,
            r#"events: 1 entry: group "workers" destroyed"#,
        ]
    );
}

#[test]
fn a_big_stream_step_names_a_few_entries_and_counts_the_rest() {
    let mut env = Env::new();
    for i in 1..=1000 {
        env.run(&format!("XADD big {i}-0 n {i}"));
    }
    let lines = changes(
        &mut env,
        "for i = 1001, 1005 do redis.call('XADD', 'big', i .. '-0', 'n', i) end\n\
         redis.call('XTRIM', 'big', 'MAXLEN', 10)",
    );
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[0],
        r#"big: 1000 entries → 1001 entries: added 1001-0 "n" "1001""#
    );
    assert_eq!(
        lines[5],
        "big: 1005 entries → 10 entries: trimmed 1-0, 2-0, 3-0, … 992 more"
    );
}

#[test]
fn a_bitmap_step_shows_the_bits_it_changed_and_their_bytes() {
    let mut env = Env::new();
    let lines = changes(
        &mut env,
        "redis.call('SETBIT', 'bits', 7, 1)\n\
         redis.call('SETBIT', 'bits', 17, 1)\n\
         redis.call('SETBIT', 'bits', 7, 0)\n\
         redis.call('SET', 'other', 'x')\n\
         redis.call('BITOP', 'NOT', 'inv', 'bits')",
    );
    assert_eq!(
        lines,
        [
            "bits: (absent) → bitmap 1 byte, 1 set: 7",
            "bits: bit 17: 0 → 1 · byte 2: 00000000 → 01000000 · 1 byte → 3 bytes",
            "bits: bit 7: 1 → 0 · byte 0: 00000001 → 00000000",
            // SET is a string write: other keeps the plain look.
            r#"other: (absent) → "x""#,
            "inv: (absent) → bitmap 3 bytes, 23 set: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 18 19 20 21 22 23",
        ]
    );
}

#[test]
fn many_changed_bits_are_counted_past_the_first_eight() {
    let mut env = Env::new();
    env.run("SET b \"\\x00\\x00\"");
    let lines = changes(&mut env, "redis.call('BITOP', 'NOT', 'b', 'b')");
    assert_eq!(
        lines,
        ["b: bits 0 1 2 3 4 5 6 7 (of 16 changed): 0 0 0 0 0 0 0 0 → 1 1 1 1 1 1 1 1 · bytes 0–1: 00000000 00000000 → 11111111 11111111"]
    );
}

#[test]
fn a_hyperloglog_step_reads_as_its_count() {
    let mut env = Env::new();
    let lines = changes(
        &mut env,
        "redis.call('PFADD', 'hll', 'a', 'b', 'c')\n\
         redis.call('PFADD', 'hll', 'd')",
    );
    assert_eq!(
        lines,
        [
            "hll: (absent) → hll ~3 (sparse)",
            "hll: hll ~3 (sparse) → hll ~4 (sparse)"
        ]
    );
}

#[test]
fn a_geo_step_shows_places_added_and_moved_and_storedist_stays_a_sorted_set() {
    let mut env = Env::new();
    let lines = changes(
        &mut env,
        "redis.call('GEOADD', 'geo', 13.361389, 38.115556, 'Palermo')\n\
         redis.call('GEOADD', 'geo', 15.087269, 37.502669, 'Catania', 13, 38, 'Palermo')\n\
         redis.call('ZREM', 'geo', 'Catania')\n\
         redis.call('GEOSEARCHSTORE', 'near', 'geo', 'FROMLONLAT', 13, 38, 'BYRADIUS', 10, 'km', 'STOREDIST')",
    );
    assert_eq!(
        lines,
        [
            r#"geo: (absent) → {"Palermo" (13.361389, 38.115556)}"#,
            r#"geo: 1 place → 2 places: "Palermo" (13.361389, 38.115556) moved to (12.999999, 38.000001), + "Catania" (15.087267, 37.502668)"#,
            r#"geo: 2 places → 1 place: − "Catania" (15.087267, 37.502668)"#,
            // The distance redis-server 7.0.15 stores (STOREDIST): a sorted set, not places.
            r#"near: (absent) → ["Palermo" 0.00012961620217823521]"#,
        ]
    );
}

#[test]
fn the_keyspace_pane_and_the_summary_use_the_same_words() {
    let body = "redis.call('SETBIT', 'bits', 3, 1)\n\
                redis.call('GEOADD', 'geo', 13.361389, 38.115556, 'Palermo')\n\
                redis.call('XADD', 'events', '5-0', 'job', '1')\n\
                redis.call('PFADD', 'hll', 'a')\n\
                error('boom')";
    let mut session: Session =
        Env::new().session(body, Start::new(Move::Continue, BTreeSet::new()));
    session.goto(session.debugger().len() - 1);
    let pane: Vec<(String, words::Look, String)> = session
        .keys(0, 10)
        .map(|k| {
            (
                String::from_utf8_lossy(k.key).into_owned(),
                k.look,
                words::short(k.entry.unwrap(), k.look, 200),
            )
        })
        .collect();
    let row = |key: &str, look, value: &str| (key.to_string(), look, value.to_string());
    assert_eq!(
        pane,
        [
            row("bits", words::Look::Bits, "bitmap 1 byte, 1 set: 3"),
            row(
                "geo",
                words::Look::Geo,
                r#"{"Palermo" (13.361389, 38.115556)}"#
            ),
            row(
                "events",
                words::Look::Plain,
                r#"1 entry, last id 5-0 [5-0 "job" "1"]"#
            ),
            row("hll", words::Look::Plain, "hll ~1 (sparse)"),
        ]
    );
    let summary = session.summary();
    assert_eq!(
        summary[1..],
        [
            "  bits: (absent) → bitmap 1 byte, 1 set: 3, and stayed that way.",
            r#"  geo: (absent) → {"Palermo" (13.361389, 38.115556)}, and stayed that way."#,
            r#"  events went from (absent) to 1 entry, last id 5-0 [5-0 "job" "1"] and stayed that way."#,
            "  hll: (absent) → hll ~1 (sparse), and stayed that way.",
        ],
        "{summary:#?}"
    );
    // GEOADD reaches replicas as the ZADD it becomes (Redis 7.0).
    assert_eq!(
        session.replica().unwrap().1,
        [
            "MULTI",
            "SETBIT bits 3 1",
            "zadd geo 3479099956230698 Palermo",
            "XADD events 5-0 job 1",
            "PFADD hll a",
            "EXEC"
        ]
    );
}
