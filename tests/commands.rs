//! The command table against Redis 7.0.15's own `COMMAND` output
//! (assets/redis/command-info.resp, recorded by
//! tests/golden/record_commands.py, which COMMAND INFO answers from): every
//! Redis command is in the table, with Redis's arity, key positions (first,
//! last, step) and the flags that change behaviour (write, read-only,
//! refused in scripts, blocking, ...).

use std::collections::BTreeSet;

use redstep::engine::catalog::catalog;
use redstep::engine::table::{flags, CommandSpec};
use redstep::engine::{Engine, ManualClock};
use redstep::script::{ScriptConfig, Scripting};

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
    (flags::NO_MULTI, "no_multi"),
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
    let mut problems = Vec::new();
    for spec in all_specs(&engine) {
        let Some(expected) = catalog().get(spec.full_name) else {
            problems.push(format!("{}: not a Redis 7.0 command", spec.full_name));
            continue;
        };
        if expected.arity != spec.arity as i64 {
            problems.push(format!(
                "{}: arity {} but Redis has {}",
                spec.full_name, spec.arity, expected.arity
            ));
        }
        let keys = [spec.first_key, spec.last_key, spec.key_step].map(i64::from);
        if expected.range != keys {
            problems.push(format!(
                "{}: key positions {keys:?} but Redis has {:?}",
                spec.full_name, expected.range
            ));
        }
        for (bit, name) in CHECKED {
            let ours = spec.flags & bit != 0;
            if ours != expected.has_flag(name) {
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

/// Every command and subcommand of Redis 7.0.15 is in the table, so a
/// script calling one gets Redis's answer, not "Unknown Redis command".
#[test]
fn every_redis_command_is_there() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let _scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let ours: BTreeSet<&str> = all_specs(&engine).iter().map(|s| s.full_name).collect();
    let missing: Vec<&str> = catalog()
        .iter()
        .map(|c| c.full_name.as_str())
        .filter(|name| !ours.contains(name))
        .collect();
    assert!(missing.is_empty(), "not in the table: {missing:?}");
    assert_eq!(
        engine.command_table().len(),
        240,
        "Redis 7.0.15 has 240 commands"
    );
}
