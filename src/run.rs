//! `redstep run FILE.lua [KEY ...] [, ARG ...] [--setup FILE] [-c CMD]...`: runs a
//! script as `redis-cli --eval` would, then shows every key it touched.

use std::io::{BufRead, Write};
use std::time::Duration;

use indexmap::IndexSet;

use crate::engine::{Engine, Reply};
use crate::protocol::cli::{format_raw, format_tty, quote, split_args};
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, Limits, StepKind};

/// How `run --trace` prints the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Text,
    Json,
    Markdown,
}

/// Scripts run by `run` stop after this long (there is nobody to send
/// SCRIPT KILL; Redis itself would keep running them).
pub const RUN_BUDGET: Duration = Duration::from_secs(5);

/// KEYS and ARGV of a run.
pub type KeysAndArgs = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Splits redis-cli `--eval` arguments at the first lone ",".
pub fn split_keys_args(mut words: Vec<Vec<u8>>) -> KeysAndArgs {
    match words.iter().position(|w| w == b",") {
        Some(comma) => {
            let args = words.split_off(comma + 1);
            words.pop();
            (words, args)
        }
        None => (words, Vec::new()),
    }
}

/// `k1 k2 , a1 a2` typed as one line in redis-cli quoting (the TUI's F2,
/// lesson files) into KEYS and ARGV.
pub fn parse_keys_args(line: &str) -> Result<KeysAndArgs, String> {
    let words = split_args(line.as_bytes())
        .map_err(|_| format!("KEYS/ARGV {line:?}: unbalanced quotes"))?;
    Ok(split_keys_args(words))
}

/// `EVAL body numkeys key ... arg ...`
pub fn eval_argv(body: Vec<u8>, (keys, args): KeysAndArgs) -> Vec<Vec<u8>> {
    let mut argv = vec![b"EVAL".to_vec(), body, keys.len().to_string().into_bytes()];
    argv.extend(keys);
    argv.extend(args);
    argv
}

/// One line of setup: where it comes from (`setup.txt:2`, `-c 'SET a 42'`)
/// and the command in redis-cli quoting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLine {
    pub place: String,
    pub line: Vec<u8>,
}

/// The lines of a `--setup` file, each named `FILE:N`.
pub fn setup_file(name: &str, input: impl BufRead) -> std::io::Result<Vec<SetupLine>> {
    input
        .split(b'\n')
        .enumerate()
        .map(|(n, line)| {
            Ok(SetupLine {
                place: format!("{name}:{}", n + 1),
                line: line?,
            })
        })
        .collect()
}

/// `-c COMMAND` setup lines, each named by its option.
pub fn setup_commands(commands: &[String]) -> Vec<SetupLine> {
    commands
        .iter()
        .map(|c| SetupLine {
            place: format!("-c {}", crate::cli::shell_word(c)),
            line: c.as_bytes().to_vec(),
        })
        .collect()
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
            budget: Some(RUN_BUDGET),
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

#[cfg(test)]
mod keys_args_tests {
    use super::*;

    #[test]
    fn keys_and_args_split_at_the_first_lone_comma_and_keep_their_bytes() {
        let (keys, args) = parse_keys_args("k1 \"a b\" , \"\\xff\" , x").unwrap();
        assert_eq!(keys, vec![b"k1".to_vec(), b"a b".to_vec()]);
        assert_eq!(args, vec![vec![0xff], b",".to_vec(), b"x".to_vec()]);
        assert_eq!(
            parse_keys_args("k1").unwrap(),
            (vec![b"k1".to_vec()], vec![])
        );
        assert!(parse_keys_args("\"open")
            .unwrap_err()
            .contains("unbalanced quotes"));
        assert_eq!(
            eval_argv(
                b"return 1".to_vec(),
                (vec![b"k".to_vec()], vec![b"a".to_vec()])
            ),
            vec![
                b"EVAL".to_vec(),
                b"return 1".to_vec(),
                b"1".to_vec(),
                b"k".to_vec(),
                b"a".to_vec()
            ]
        );
    }
}
