//! Replays replies recorded from a real Redis 7.0.15 (`tests/golden/`)
//! against the in-process engine. Each case gets a fresh engine; `conn`
//! numbers become engine clients; time stands still unless a blocking
//! command has to time out.

use std::collections::HashMap;

use base64::Engine as _;
use redstep::engine::{ClientId, Engine, ManualClock, Reply};
use redstep::script::{ScriptConfig, Scripting};
use serde_json::{json, Value};

/// Corpus cases not passing yet, each with the reason. This list only
/// shrinks: a listed case that starts passing must be removed from it.
const PENDING: &[(&str, &str)] = &[];

fn canon(kind: &str, bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => json!({"t": kind, "v": s}),
        Err(_) => {
            json!({"t": kind, "b64": base64::engine::general_purpose::STANDARD.encode(bytes)})
        }
    }
}

fn to_json(reply: &Reply) -> Value {
    match reply {
        Reply::Status(s) => canon("status", s),
        Reply::Error(e) => canon("error", e),
        Reply::Int(n) => json!({"t": "int", "v": n}),
        Reply::Bulk(b) => canon("bulk", b),
        Reply::Nil => json!({"t": "nil"}),
        Reply::NilArray => json!({"t": "nilarray"}),
        Reply::Array(items) => {
            json!({"t": "array", "v": items.iter().map(to_json).collect::<Vec<_>>()})
        }
        resp3 => to_json(&resp3.to_resp2()),
    }
}

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
