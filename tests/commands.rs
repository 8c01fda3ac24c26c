//! The command table against Redis 7.0.15's own `COMMAND` output
//! (tests/golden/commands.json, recorded by record_commands.py): every
//! command redstep implements has Redis's arity, key positions (first, last,
//! step) and the flags that change behaviour (write, read-only, refused in
//! scripts, blocking, ...).

use std::collections::BTreeSet;

use redstep::engine::table::{flags, CommandSpec};
use redstep::engine::{Engine, ManualClock};
use redstep::script::{ScriptConfig, Scripting};
use serde_json::Value;

/// The flags compared; the others (fast, loading, stale...) only feed
/// COMMAND's output and Redis's internals. (7.0's COMMAND does not show
/// may-replicate, so PUBLISH's refusal in read-only scripts is tested by
/// the golden replies instead.)
const CHECKED: &[(u32, &str)] = &[
    (flags::WRITE, "write"),
    (flags::READONLY, "readonly"),
    (flags::DENYOOM, "denyoom"),
    (flags::NOSCRIPT, "noscript"),
    (flags::BLOCKING, "blocking"),
    (flags::PUBSUB, "pubsub"),
    (flags::ALLOW_BUSY, "allow_busy"),
    (flags::NO_AUTH, "no_auth"),
];

fn all_specs(engine: &Engine) -> Vec<CommandSpec> {
    let mut specs = Vec::new();
    for spec in engine.command_table().iter() {
        specs.push(*spec);
        specs.extend(spec.subcommands.iter().copied());
    }
    specs
}

#[test]
fn arity_and_flags_match_redis() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let _scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let path = format!("{}/tests/golden/commands.json", env!("CARGO_MANIFEST_DIR"));
    let redis: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut problems = Vec::new();
    for spec in all_specs(&engine) {
        let Some(expected) = redis.get(spec.full_name) else {
            problems.push(format!("{}: not a Redis 7.0 command", spec.full_name));
            continue;
        };
        if expected["arity"] != spec.arity {
            problems.push(format!(
                "{}: arity {} but Redis has {}",
                spec.full_name, spec.arity, expected["arity"]
            ));
        }
        let keys = [spec.first_key, spec.last_key, spec.key_step];
        if expected["keys"] != serde_json::json!(keys) {
            problems.push(format!(
                "{}: key positions {keys:?} but Redis has {}",
                spec.full_name, expected["keys"]
            ));
        }
        let redis_flags: BTreeSet<&str> = expected["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for (bit, name) in CHECKED {
            let ours = spec.flags & bit != 0;
            if ours != redis_flags.contains(name) {
                problems.push(format!(
                    "{}: flag {name} is {ours} but Redis says {}",
                    spec.full_name, !ours
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences from Redis 7.0.15:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Families redstep implements whole: every Redis 7.0 command of theirs is
/// in the table (so `COMMAND` lists it, checked above against Redis).
#[test]
fn whole_families_are_all_there() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let _scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let path = format!("{}/tests/golden/commands.json", env!("CARGO_MANIFEST_DIR"));
    let redis: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ours: BTreeSet<&str> = all_specs(&engine).iter().map(|s| s.full_name).collect();
    let geo: Vec<&str> = redis
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("geo"))
        .collect();
    assert_eq!(geo.len(), 10, "Redis 7.0 has ten geo commands");
    let missing: Vec<&&str> = geo.iter().filter(|k| !ours.contains(**k)).collect();
    assert!(missing.is_empty(), "geo commands missing: {missing:?}");
    // Streams: every x command and every XGROUP / XINFO subcommand, HELP too.
    let streams: Vec<&str> = redis
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with('x'))
        .collect();
    assert_eq!(
        streams.len(),
        25,
        "Redis 7.0 has 25 stream commands and subcommands"
    );
    let missing: Vec<&&str> = streams.iter().filter(|k| !ours.contains(**k)).collect();
    assert!(missing.is_empty(), "stream commands missing: {missing:?}");
}
