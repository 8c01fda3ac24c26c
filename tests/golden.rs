//! Replays replies recorded from a real Redis 7.0.15 (`tests/golden/`)
//! against the in-process engine. Each case gets a fresh engine; `conn`
//! numbers become engine clients; time stands still unless a blocking
//! command has to time out.

use std::collections::HashMap;

use base64::Engine as _;

use redstep::engine::{ClientId, Engine, ManualClock, Reply};
use redstep::script::{ScriptConfig, Scripting};
use serde_json::{json, Value};

mod canonical;
use canonical::to_json;

/// Corpus cases not passing yet, each with the reason. This list only
/// shrinks: a listed case that starts passing must be removed from it.
const PENDING: &[(&str, &str)] = &[];

/// Sorts an array reply whose order Redis leaves undefined (both sides get
/// the same treatment, so the sort key only needs to be consistent).
fn unordered(reply: Value, mode: &Value) -> Value {
    let Some(items) = reply
        .get("v")
        .and_then(|v| v.as_array())
        .filter(|_| reply["t"] == "array")
    else {
        return reply;
    };
    let mut items = items.clone();
    match mode {
        Value::String(s) if s == "pairs" => {
            let mut pairs: Vec<Vec<Value>> = items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort_by_key(|p| serde_json::to_string(p).unwrap());
            items = pairs.concat();
        }
        Value::Bool(true) => items.sort_by_key(|v| serde_json::to_string(v).unwrap()),
        _ => return reply,
    }
    json!({"t": "array", "v": items})
}

fn arg_bytes(arg: &Value) -> Vec<u8> {
    match arg {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Object(o) if o.contains_key("b64") => base64::engine::general_purpose::STANDARD
            .decode(o["b64"].as_str().unwrap())
            .unwrap(),
        Value::Object(o) => {
            let hex = o["hex"].as_str().unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        }
        other => panic!("bad argument {other}"),
    }
}

fn run_case(case: &Value) -> Vec<String> {
    let clock = ManualClock::new(1_764_000_000_000);
    let mut engine = Engine::new(Box::new(clock.clone()));
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut clients: HashMap<u64, ClientId> = HashMap::new();
    let mut failures = Vec::new();
    let steps = case["cmds"].as_array().unwrap();
    for (i, (step, expected)) in steps
        .iter()
        .zip(case["replies"].as_array().unwrap())
        .enumerate()
    {
        let (cmd, conn, mode) = match step {
            Value::Array(_) => (step, 1, &Value::Null),
            _ => (
                &step["cmd"],
                step.get("conn").and_then(|c| c.as_u64()).unwrap_or(1),
                step.get("unordered").unwrap_or(&Value::Null),
            ),
        };
        let id = *clients.entry(conn).or_insert_with(|| engine.connect());
        let argv: Vec<Vec<u8>> = cmd.as_array().unwrap().iter().map(arg_bytes).collect();
        let reply = match engine.execute_with(id, &argv, &mut scripting) {
            Some(r) => r,
            None => {
                // A blocking command with nothing to pop: let its timeout pass.
                clock.advance(60_000);
                engine.expire_blocked();
                let outbox = engine.take_outbox();
                outbox
                    .into_iter()
                    .find(|(c, _)| *c == id)
                    .map(|(_, r)| r)
                    .expect("timed-out reply")
            }
        };
        engine.take_outbox();
        let got = unordered(to_json(&reply), mode);
        let expected = unordered(expected.clone(), mode);
        if got != expected {
            failures.push(format!(
                "{} cmd#{i} {}\n   expected {expected}\n   got      {got}",
                case["id"].as_str().unwrap(),
                cmd
            ));
        }
    }
    failures
}

fn replay(file: &str, skip: impl Fn(&Value) -> bool) -> usize {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut failures = Vec::new();
    let mut ran = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        if skip(&case) {
            continue;
        }
        ran += 1;
        failures.extend(run_case(&case));
    }
    assert!(
        failures.is_empty(),
        "{} mismatches against Redis 7.0.15:\n{}",
        failures.len(),
        failures.join("\n")
    );
    ran
}

fn pending(case: &Value) -> bool {
    let id = case["id"].as_str().unwrap();
    PENDING.iter().any(|(p, _)| *p == id)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A case's commands run on a fresh engine (time stands still; `conn`
/// numbers become clients; a command that would block times out),
/// `prepare` before the first, `after` after each.
fn replay_steps(
    case: &Value,
    prepare: impl FnOnce(&mut Engine),
    mut after: impl FnMut(&mut Engine),
) -> Engine {
    let clock = ManualClock::new(1_764_000_000_000);
    let mut engine = Engine::new(Box::new(clock.clone()));
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    prepare(&mut engine);
    after(&mut engine);
    let mut clients: HashMap<u64, ClientId> = HashMap::new();
    for step in case["cmds"].as_array().unwrap() {
        let (cmd, conn) = match step {
            Value::Array(_) => (step, 1),
            _ => (
                &step["cmd"],
                step.get("conn").and_then(|c| c.as_u64()).unwrap_or(1),
            ),
        };
        let id = *clients.entry(conn).or_insert_with(|| engine.connect());
        let argv: Vec<Vec<u8>> = cmd.as_array().unwrap().iter().map(arg_bytes).collect();
        if engine.execute_with(id, &argv, &mut scripting).is_none() {
            clock.advance(60_000);
            engine.expire_blocked();
        }
        after(&mut engine);
    }
    engine
}

/// Every engine and conformance case, in file order.
fn all_cases() -> Vec<Value> {
    let dir = format!("{}/tests/golden", env!("CARGO_MANIFEST_DIR"));
    ["engine-cases.jsonl", "conformance-cases.jsonl"]
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(format!("{dir}/{file}"))
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// A golden file's `field` by case id.
fn recorded(file: &str, field: &str) -> HashMap<String, Value> {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let case: Value = serde_json::from_str(l).unwrap();
            (
                case["id"].as_str().unwrap().to_string(),
                case[field].clone(),
            )
        })
        .collect()
}

/// Bytes as the recorders write them: the text, or `hex:...`.
fn shown(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => format!("hex:{}", hex(b)),
    }
}

/// The keyspace notifications a case publishes here, as
/// `record_notify.py` writes them: `channel message`, in order.
fn notifications_of(case: &Value) -> Vec<String> {
    let subscriber = std::cell::Cell::new(0);
    let mut events = Vec::new();
    replay_steps(
        case,
        |engine| {
            subscriber.set(engine.connect());
            let psubscribe = [b"PSUBSCRIBE".to_vec(), b"__key*__:*".to_vec()];
            engine.execute(subscriber.get(), &psubscribe);
            let config = ["CONFIG", "SET", "notify-keyspace-events", "KEAnm"];
            let admin = engine.connect();
            engine.execute(admin, &config.map(|w| w.as_bytes().to_vec()));
        },
        |engine| {
            for (id, message) in engine.take_outbox() {
                let (Reply::Array(items) | Reply::Push(items)) = message else {
                    continue;
                };
                if let (true, [_, _, Reply::Bulk(channel), Reply::Bulk(text)]) =
                    (id == subscriber.get(), items.as_slice())
                {
                    events.push(format!("{} {}", shown(channel), shown(text)));
                }
            }
        },
    );
    events
}

/// Keyspace notifications (`notify-keyspace-events KEAnm`: every class,
/// `new` and `keymiss` included) of every engine and conformance case, as
/// Redis 7.0.15 published them (`record_notify.py`).
#[test]
fn keyspace_notifications_match_redis() {
    let mut expected = recorded("notify.golden.jsonl", "events");
    let (mut ran, mut published, mut failures) = (0, 0, Vec::new());
    for case in all_cases() {
        let id = case["id"].as_str().unwrap();
        let want: Vec<String> = expected
            .remove(id)
            .map(|v| serde_json::from_value(v).unwrap())
            .unwrap_or_default();
        let got = notifications_of(&case);
        ran += 1;
        published += want.len();
        if got != want {
            failures.push(format!("{id}\n   redis:   {want:?}\n   redstep: {got:?}"));
        }
    }
    assert!(
        expected.is_empty(),
        "recorded cases not found: {:?}",
        expected.keys()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} cases publish differently:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        ran > 700 && published > 3000,
        "{ran} cases, {published} messages"
    );
}

/// What a case propagates here (replicas and the AOF), as
/// `record_repl.py` writes it, times masked.
fn propagation_of(case: &Value) -> Vec<Vec<String>> {
    let mut engine = replay_steps(
        case,
        |engine| {
            engine.keyspace.propagation.on = true;
            engine.keyspace.propagation.assume_selected(0);
        },
        |engine| {
            engine.take_outbox();
        },
    );
    engine
        .keyspace
        .propagation
        .take()
        .iter()
        .map(|op| op.iter().map(|a| masked(a)).collect())
        .collect()
}

/// An argument as the golden file shows it, with Unix times in ms (and
/// stream ids made of them) masked: the two clocks differ.
fn masked(arg: &[u8]) -> String {
    let text = shown(arg);
    let (ms, rest) = text.split_once('-').unwrap_or((&text, ""));
    if ms.len() >= 13 && ms.bytes().all(|b| b.is_ascii_digit()) {
        if rest.is_empty() {
            return "<ms>".into();
        }
        if rest.bytes().all(|b| b.is_ascii_digit()) {
            return format!("<ms>-{rest}");
        }
    }
    text
}

/// Cases whose propagation does not match yet, each with the reason. This
/// list only shrinks.
const REPL_PENDING: &[(&str, &str)] = &[];

/// What replicas and the AOF receive for every engine and conformance
/// case, as Redis 7.0.15 sent it to a replica (`record_repl.py`).
#[test]
fn propagation_matches_redis() {
    let mut expected = recorded("repl.golden.jsonl", "repl");
    let (mut ran, mut failures, mut still_pending) = (0, Vec::new(), Vec::new());
    for case in all_cases() {
        let id = case["id"].as_str().unwrap();
        let want: Vec<Vec<String>> = expected
            .remove(id)
            .map(|v| serde_json::from_value::<Vec<Vec<String>>>(v).unwrap())
            .unwrap_or_default()
            .iter()
            .map(|op| op.iter().map(|a| masked(a.as_bytes())).collect())
            .collect();
        let got = propagation_of(&case);
        ran += 1;
        let pending = REPL_PENDING.iter().any(|(p, _)| *p == id);
        match (got == want, pending) {
            (true, true) => still_pending.push(id.to_string()),
            (false, false) => {
                failures.push(format!("{id}\n   redis:   {want:?}\n   redstep: {got:?}"))
            }
            _ => {}
        }
    }
    assert!(
        expected.is_empty(),
        "recorded cases not found: {:?}",
        expected.keys()
    );
    assert!(
        still_pending.is_empty(),
        "these match now, take them off REPL_PENDING: {still_pending:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} cases propagate differently:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ran > 700, "{ran} cases");
}

#[test]
fn engine_cases_match_redis() {
    let ran = replay("engine.golden.jsonl", |_| false);
    assert!(ran >= 100, "only {ran} cases ran");
}

#[test]
fn conformance_corpus_matches_redis() {
    let ran = replay("conformance.golden.jsonl", pending);
    assert_eq!(ran, 539 - PENDING.len());
}

#[test]
fn pending_cases_still_fail() {
    let path = format!(
        "{}/tests/golden/conformance.golden.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        if pending(&case) {
            assert!(
                !run_case(&case).is_empty(),
                "{} passes now: remove it from PENDING",
                case["id"]
            );
        }
    }
}
