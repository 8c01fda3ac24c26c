//! `redstep run FILE.lua [KEY ...] [, ARG ...] [--setup FILE] [-c CMD]...`: runs a
//! script as `redis-cli --eval` would, then shows every key it touched.

use std::io::Write;

use indexmap::IndexSet;

use crate::engine::{Engine, Reply};
use crate::protocol::cli::{eval_argv, format_raw, format_tty, quote, split_args, SetupLine};
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, Limits, StepKind};

/// How `run --trace` prints the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Text,
    Json,
    Markdown,
}

pub struct RunInput {
    pub body: Vec<u8>,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    /// Commands run before the script, in order; an error is reported on
    /// `err` and the run goes on.
    pub setup: Vec<SetupLine>,
    pub raw: bool,
    pub trace: Option<TraceFormat>,
    pub limits: Limits,
}

pub fn run(input: RunInput, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(
        &mut engine,
        ScriptConfig {
            budget: Some(crate::script::HEADLESS_BUDGET),
            ..ScriptConfig::default()
        },
    );
    let mut client = engine.new_client();
    for SetupLine { place, line } in input.setup {
        match split_args(&line) {
            Ok(argv) if argv.is_empty() => {}
            Ok(argv) => {
                let reply = engine.call(&mut client, &argv, &mut scripting);
                if reply.is_error() {
                    write!(err, "setup {place}: {}", format_tty(&reply))?;
                }
            }
            Err(_) => writeln!(err, "setup {place}: Invalid argument(s)")?,
        }
    }
    let argv = eval_argv(input.body, (input.keys, input.args));
    let timeline = trace::record(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        input.limits,
    );
    match input.trace {
        Some(TraceFormat::Text) => {
            return Ok(out.write_all(trace::export::text(&timeline, &engine.keyspace).as_bytes())?)
        }
        Some(TraceFormat::Markdown) => {
            return Ok(
                out.write_all(trace::export::markdown(&timeline, &engine.keyspace).as_bytes())?
            )
        }
        Some(TraceFormat::Json) => {
            let json = trace::export::json(&timeline, &engine.keyspace);
            return Ok(writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?);
        }
        None => {}
    }
    let reply = timeline.outcome.reply.clone();
    if input.raw {
        out.write_all(&format_raw(&reply))?;
    } else {
        out.write_all(format_tty(&reply).as_bytes())?;
    }
    let mut touched: IndexSet<Vec<u8>> = IndexSet::new();
    let calls = timeline.steps.iter().filter_map(|s| match &s.kind {
        StepKind::Call(call) => Some(&call.argv),
        _ => None,
    });
    for call in calls {
        if let Some(spec) = engine.command_table().resolve(call) {
            for key in spec.keys(call) {
                touched.insert(key.to_vec());
            }
        }
    }
    if touched.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nkeys the script touched:")?;
    for key in touched {
        let kind = engine.call(
            &mut client,
            &[b"TYPE".to_vec(), key.clone()],
            &mut scripting,
        );
        let kind = match kind {
            Reply::Status(k) => String::from_utf8_lossy(&k).into_owned(),
            _ => "?".into(),
        };
        let read: Option<Vec<&[u8]>> = match kind.as_str() {
            "string" => Some(vec![b"GET"]),
            "list" => Some(vec![b"LRANGE", b"", b"0", b"-1"]),
            "hash" => Some(vec![b"HGETALL"]),
            "set" => Some(vec![b"SMEMBERS"]),
            "zset" => Some(vec![b"ZRANGE", b"", b"0", b"-1", b"WITHSCORES"]),
            _ => None,
        };
        let Some(mut read) = read else {
            writeln!(out, "{} ({kind})", quote(&key))?;
            continue;
        };
        if read.len() == 1 {
            read.push(&key);
        } else {
            read[1] = &key;
        }
        let value = engine.call(
            &mut client,
            &read.iter().map(|a| a.to_vec()).collect::<Vec<_>>(),
            &mut scripting,
        );
        let text = format_tty(&value);
        if matches!(value, Reply::Array(ref items) if !items.is_empty()) {
            writeln!(out, "{} ({kind}):", quote(&key))?;
            for line in text.lines() {
                writeln!(out, "  {line}")?;
            }
        } else {
            write!(out, "{} ({kind}): {text}", quote(&key))?;
        }
    }
    Ok(())
}
