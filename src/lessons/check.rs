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
pub(crate) const CHECK_BUDGET: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// What did not hold, one sentence each.
    pub failures: Vec<String>,
    /// When the script did not compile (the only result then): the line of
    /// the script where Lua stopped.
    pub line: Option<usize>,
}

/// A Lua script that Redis refuses to compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The script's line Lua names (the last line for an error at the end).
    pub line: usize,
    /// Redis's error, e.g. `ERR Error compiling script (new function):
    /// user_script:2: unexpected symbol near '='`.
    pub message: String,
}

/// Compiles `script` as EVAL would (SCRIPT LOAD on a fresh engine).
pub fn compile_error(script: &str) -> Option<CompileError> {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    let argv = vec![
        b"SCRIPT".to_vec(),
        b"LOAD".to_vec(),
        script.as_bytes().to_vec(),
    ];
    let Reply::Error(e) = engine.call(&mut client, &argv, &mut scripting) else {
        return None;
    };
    let message = String::from_utf8_lossy(&e).into_owned();
    let named = message
        .split_once("user_script:")
        .and_then(|(_, rest)| rest.split_once(':'))
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .unwrap_or(1);
    let last = script.lines().count().max(1);
    Some(CompileError {
        line: named.clamp(1, last),
        message,
    })
}

/// A setup line that fails: the instructor's mistake, not the learner's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetupError {
    /// The check whose own setup fails (None: the lesson's setup).
    pub(crate) check: Option<usize>,
    /// Which line of that setup (0-based).
    pub(crate) index: usize,
    pub(crate) command: String,
    pub(crate) error: String,
}

impl SetupError {
    /// The file line it is written on (0 when not known).
    pub(crate) fn file_line(&self, lesson: &Lesson) -> usize {
        let lines = match self.check {
            None => &lesson.setup_lines,
            Some(c) => &lesson.checks[c].setup_lines,
        };
        lines.get(self.index).copied().unwrap_or(0)
    }

    fn sentence(&self) -> String {
        format!("setup {:?} fails: {}", self.command, self.error)
    }
}

/// Runs setup lines in order on `engine`: the failing ones, with the error.
fn run_setup(
    engine: &mut Engine,
    scripting: &mut Scripting,
    client: &mut crate::engine::Client,
    setup: &[String],
) -> Vec<(usize, String)> {
    let mut errors = Vec::new();
    for (n, line) in setup.iter().enumerate() {
        match split_args(line.as_bytes()) {
            Ok(argv) if argv.is_empty() => {}
            Ok(argv) => {
                if let Reply::Error(e) = engine.call(client, &argv, scripting) {
                    errors.push((n, String::from_utf8_lossy(&e).into_owned()));
                }
            }
            Err(_) => errors.push((n, "unbalanced quotes".to_string())),
        }
    }
    errors
}

/// Every failing line of the lesson's setup and of its checks' own setups,
/// each once (each setup runs on a fresh engine).
pub(crate) fn setup_errors(lesson: &Lesson) -> Vec<SetupError> {
    let setups = std::iter::once((None, &lesson.setup)).chain(
        lesson
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.setup.as_ref().map(|s| (Some(i), s))),
    );
    let mut errors = Vec::new();
    for (check, setup) in setups {
        let mut engine = crate::engine::cluster::engine(lesson.cluster);
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        for (index, error) in run_setup(&mut engine, &mut scripting, &mut client, setup) {
            errors.push(SetupError {
                check,
                index,
                command: setup[index].clone(),
                error,
            });
        }
    }
    errors
}

/// Runs every check of `lesson` on `script` (the text of its checked buffer).
///
/// When the checks cannot run, one result says why instead of one per
/// check: a setup line fails (the lesson's fault: one result per setup), or
/// the Lua script does not compile (Redis ran nothing; the result has the line).
pub fn run_all(lesson: &Lesson, script: &str) -> Vec<CheckResult> {
    let setup = setup_errors(lesson);
    if !setup.is_empty() {
        let mut results: Vec<CheckResult> = Vec::new();
        for e in setup {
            let name = match e.check {
                None => "the lesson's setup".to_string(),
                Some(c) => format!("the setup of check {:?}", lesson.checks[c].name),
            };
            match results.iter_mut().find(|r| r.name == name) {
                Some(r) => r.failures.push(e.sentence()),
                None => results.push(CheckResult {
                    name,
                    passed: false,
                    failures: vec![e.sentence()],
                    line: None,
                }),
            }
        }
        for r in &mut results {
            r.failures
                .push("the lesson is broken: no check ran (tell its author)".into());
        }
        return results;
    }
    let buffer = &lesson.buffers[lesson.checked];
    if buffer.kind == Kind::Lua {
        if let Some(e) = compile_error(script) {
            return vec![CheckResult {
                name: format!("{} does not compile (line {})", buffer.name, e.line),
                passed: false,
                failures: vec![format!(
                    "Redis compiled nothing and ran nothing, so no check ran: {}",
                    e.message
                )],
                line: Some(e.line),
            }];
        }
    }
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

/// A check keeps few steps (what it asks of a run is in the outcome and
/// the keys; past the cap the run goes on, its changes still recorded), so
/// a runaway script meets the time budget, not a trace of hundreds of MB.
/// Other clients' commands are delivered at recorded steps: a check with
/// them records every step.
fn check_limits(lane: &[crate::trace::LaneCommand]) -> Limits {
    if !lane.is_empty() {
        return Limits::default();
    }
    Limits {
        max_steps: 100_000,
        ..Limits::default()
    }
}

/// Runs one check (setup errors, if any, are among its failures).
pub(crate) fn run(lesson: &Lesson, check: &Check, script: &str) -> CheckResult {
    let mut failures = Vec::new();
    let mut engine = crate::engine::cluster::engine(lesson.cluster);
    let mut scripting = Scripting::new(
        &mut engine,
        ScriptConfig {
            budget: Some(CHECK_BUDGET),
            ..ScriptConfig::default()
        },
    );
    let mut client = engine.new_client();
    let setup = check.setup.as_ref().unwrap_or(&lesson.setup);
    for (n, error) in run_setup(&mut engine, &mut scripting, &mut client, setup) {
        failures.push(format!("setup {:?} fails: {error}", setup[n]));
    }
    let before = snapshot(&engine);
    let kind = lesson.buffers[lesson.checked].kind;
    let lane = check.others.as_ref().unwrap_or(&lesson.others);
    let timeline = match kind {
        Kind::Lua => {
            let words = check.args.as_deref().unwrap_or(&lesson.args);
            let keys_args = crate::protocol::cli::parse_keys_args(words).unwrap_or_else(|e| {
                failures.push(e);
                (Vec::new(), Vec::new())
            });
            let argv = crate::protocol::cli::eval_argv(script.as_bytes().to_vec(), keys_args);
            trace::record_with_lane(
                &mut engine,
                &mut scripting,
                &mut client,
                &argv,
                check_limits(lane),
                lane,
            )
        }
        Kind::Commands => trace::record_commands(
            &mut engine,
            &mut scripting,
            &mut client,
            script,
            check_limits(lane),
            lane,
        ),
    };
    let reply = timeline.outcome.reply.clone();
    let writes = Some(timeline.outcome.writes_applied).filter(|_| kind == Kind::Lua);
    let others_saw: Vec<String> = timeline
        .steps
        .iter()
        .filter_map(|s| match timeline.event(s) {
            trace::Event::Other(o) => o.reply.as_ref(),
            _ => None,
        })
        .map(|r| format_tty(r).trim_end().to_string())
        .collect();
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
            Expect::OthersSaw(want) => {
                let want: Vec<String> = want.iter().map(|w| w.trim_end().to_string()).collect();
                if others_saw != want {
                    failures.push(format!(
                        "the other clients should get {}, but they got {}",
                        want.join(", "),
                        others_saw.join(", ")
                    ));
                }
            }
            Expect::Replica(want) => {
                let got: Vec<String> = timeline
                    .replica
                    .iter()
                    .map(|argv| export::command_text(argv))
                    .collect();
                if got != *want {
                    let list = |l: &[String]| match l {
                        [] => "nothing".to_string(),
                        l => l.join(", "),
                    };
                    failures.push(format!(
                        "replicas and the AOF should receive {}, but they received {}",
                        list(want),
                        list(&got)
                    ));
                }
            }
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
            Expect::NoPartialWrite(budget) => {
                let words = check.args.as_deref().unwrap_or(&lesson.args);
                let (keys, args) = crate::protocol::cli::parse_keys_args(words).unwrap_or_default();
                let target = crate::probe::Target {
                    name: lesson.buffers[lesson.checked].name.clone(),
                    body: script.as_bytes().to_vec(),
                    keys,
                    args,
                    setup: crate::protocol::cli::setup_commands(setup),
                };
                let report = crate::probe::probe(
                    &target,
                    crate::probe::Options {
                        budget: *budget,
                        seed: 1,
                    },
                );
                if let Some((finding, _)) = report.partial.first() {
                    let writes: Vec<String> =
                        finding.writes.iter().map(|w| w.command.clone()).collect();
                    failures.push(format!(
                        "probe found a partial write {}: {} stayed, then line {} failed ({}) — Ctrl+P shows it",
                        report.sentence(&finding.variation),
                        writes.join(", "),
                        finding.error_line.map_or("?".into(), |l| l.to_string()),
                        finding.error
                    ));
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
        line: None,
    }
}
