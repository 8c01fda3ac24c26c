//! Runs a lesson's checks: each on a fresh engine, from its setup, with the
//! learner's script (or a solution), and says in plain words what failed.

use std::time::Duration;

use crate::engine::value::Value;
use crate::engine::{Engine, Reply};
use crate::protocol::cli::{format_tty, split_args};
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, export, Limits};

use super::{Check, Expect, Kind, Lesson};

/// A learner's script is stopped after this long (the checks run headless).
pub const CHECK_BUDGET: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// What did not hold, one sentence each.
    pub failures: Vec<String>,
}

/// Runs every check of `lesson` on `script` (the text of its checked buffer).
pub fn run_all(lesson: &Lesson, script: &str) -> Vec<CheckResult> {
    lesson
        .checks
        .iter()
        .map(|c| run(lesson, c, script))
        .collect()
}

fn snapshot(engine: &Engine) -> Vec<String> {
    let now = engine.now();
    (0..crate::engine::keyspace::DATABASES)
        .flat_map(|db| {
            let mut keys: Vec<String> = engine
                .keyspace
                .db(db)
                .iter()
                .filter(|(_, e)| e.expire_at.is_none_or(|t| t > now))
                .map(|(k, e)| format!("{db} {k:?} {:?}", e.value))
                .collect();
            keys.sort();
            keys
        })
        .collect()
}

/// Runs one check.
pub fn run(lesson: &Lesson, check: &Check, script: &str) -> CheckResult {
    let mut failures = Vec::new();
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(
        &mut engine,
        ScriptConfig {
            budget: Some(CHECK_BUDGET),
            ..ScriptConfig::default()
        },
    );
    let mut client = engine.new_client();
    for (n, line) in check
        .setup
        .as_ref()
        .unwrap_or(&lesson.setup)
        .iter()
        .enumerate()
    {
        match split_args(line.as_bytes()) {
            Ok(argv) if argv.is_empty() => {}
            Ok(argv) => {
                let reply = engine.call(&mut client, &argv, &mut scripting);
                if let Reply::Error(e) = reply {
                    failures.push(format!(
                        "setup line {} ({line}) failed: {}",
                        n + 1,
                        String::from_utf8_lossy(&e)
                    ));
                }
            }
            Err(_) => failures.push(format!("setup line {} ({line}): unbalanced quotes", n + 1)),
        }
    }
    let before = snapshot(&engine);
    let kind = lesson.buffers[lesson.checked].kind;
    let (reply, writes) = match kind {
        Kind::Lua => {
            let words = check.args.as_deref().unwrap_or(&lesson.args);
            let keys_args = crate::run::parse_keys_args(words).unwrap_or_else(|e| {
                failures.push(e);
                (Vec::new(), Vec::new())
            });
            let argv = crate::run::eval_argv(script.as_bytes().to_vec(), keys_args);
            let timeline = trace::record(
                &mut engine,
                &mut scripting,
                &mut client,
                &argv,
                Limits::default(),
            );
            (
                timeline.outcome.reply,
                Some(timeline.outcome.writes_applied),
            )
        }
        Kind::Commands => {
            let mut last = Reply::Nil;
            for line in script.lines().filter(|l| !l.trim().is_empty()) {
                last = match split_args(line.as_bytes()) {
                    Ok(argv) => engine.call(&mut client, &argv, &mut scripting),
                    Err(_) => Reply::error("Invalid argument(s)"),
                };
            }
            (last, None)
        }
    };
    let shown = || format_tty(&reply).trim_end().to_string();
    let now = engine.now();
    let value_of = |key: &str| {
        engine
            .keyspace
            .db(0)
            .entry(key.as_bytes())
            .filter(|e| e.expire_at.is_none_or(|t| t > now))
            .map(|e| match &e.value {
                Value::String(s) => String::from_utf8_lossy(s).into_owned(),
                other => export::value_text(other, usize::MAX / 2),
            })
    };
    for expect in &check.expect {
        match expect {
            Expect::Reply(want) => {
                if shown() != want.trim_end() {
                    failures.push(format!("the reply should be {want}, but it is {}", shown()));
                }
            }
            Expect::Error(want) => match &reply {
                Reply::Error(e) if String::from_utf8_lossy(e).contains(want.as_str()) => {}
                Reply::Error(_) => failures.push(format!(
                    "the error should mention {want:?}, but it is {}",
                    shown()
                )),
                _ => failures.push(format!(
                    "the run should fail with an error mentioning {want:?}, but it replied {}",
                    shown()
                )),
            },
            Expect::Ok => {
                if reply.is_error() {
                    failures.push(format!(
                        "the run should succeed, but it failed: {}",
                        shown()
                    ));
                }
            }
            Expect::Keys(pairs) => {
                for (key, want) in pairs {
                    match value_of(key) {
                        Some(got) if &got == want => {}
                        Some(got) => {
                            failures.push(format!("{key} should be {want}, but it is {got}"))
                        }
                        None => {
                            failures.push(format!("{key} should be {want}, but it does not exist"))
                        }
                    }
                }
            }
            Expect::Absent(keys) => {
                for key in keys {
                    if let Some(got) = value_of(key) {
                        failures.push(format!("{key} should not exist, but it holds {got}"));
                    }
                }
            }
            Expect::Unchanged => {
                if snapshot(&engine) != before {
                    failures.push(
                        "no key should change, but some did: the run left a half-done write"
                            .to_string(),
                    );
                }
            }
            Expect::Writes(want) => match writes {
                Some(got) if got == *want => {}
                Some(got) => failures.push(format!(
                    "the script should make {want} write(s), but it made {got}"
                )),
                None => failures.push("`writes` only applies to Lua scripts".to_string()),
            },
        }
    }
    CheckResult {
        name: check.name.clone(),
        passed: failures.is_empty(),
        failures,
    }
}
