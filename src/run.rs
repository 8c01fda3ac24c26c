//! `redstep run FILE.lua [KEY ...] [, ARG ...] [--setup FILE] [-c CMD]...`: runs a
//! script as `redis-cli --eval` would, then shows every key it touched.

use std::io::Write;

use indexmap::IndexSet;

use crate::engine::{Client, Engine, Extension, NoExtension, Reply};
use crate::protocol::cli::{eval_argv, format_raw, format_tty, quote, split_args, SetupLine};
use crate::remote::{self, ldb, Target};
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, Event, Limits, Timeline};

/// How `run --trace` prints the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Text,
    Json,
    Markdown,
    Html,
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
    /// Run on a real server instead of the embedded engine.
    pub server: Option<ServerRun>,
    /// Other clients' commands around the run.
    pub lane: Vec<trace::LaneCommand>,
    /// Cluster mode: the engine is node 1 of this many shards.
    pub cluster: Option<usize>,
    /// The name of the file the script came from, for a trace page's title.
    pub file: Option<String>,
}

/// How a run is printed: its trace's format, or its reply (raw or as
/// redis-cli at a terminal shows it).
struct Printing<'a> {
    raw: bool,
    format: Option<TraceFormat>,
    file: Option<&'a str>,
}

/// `--redis URL [--ldb MODE] [--allow-blocking]` or `--compare URL`.
pub enum ServerRun {
    Debug {
        url: String,
        mode: ldb::Mode,
        allow_blocking: bool,
    },
    Compare {
        url: String,
    },
}

/// Runs the setup lines on a real server, as on the engine.
fn setup_on_server(
    target: &Target,
    setup: Vec<SetupLine>,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    if setup.is_empty() {
        return Ok(());
    }
    let mut conn = remote::Conn::open(target)?;
    for SetupLine { place, line } in setup {
        match split_args(&line) {
            Ok(argv) if argv.is_empty() => {}
            Ok(argv) => {
                let reply = conn.call(&argv)?;
                if reply.is_error() {
                    write!(err, "setup {place}: {}", format_tty(&reply))?;
                }
            }
            Err(_) => writeln!(err, "setup {place}: Invalid argument(s)")?,
        }
    }
    Ok(())
}

/// `run --redis` and `run --compare`; the exit code is 1 when --compare
/// finds a difference.
fn run_on_server(
    input: RunInput,
    server: ServerRun,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<i32> {
    if !input.lane.is_empty() {
        anyhow::bail!("--other runs on the embedded engine only (LDB blocks a real server's other clients while it steps)");
    }
    let (url, mode, allow_blocking, compare) = match server {
        ServerRun::Debug {
            url,
            mode,
            allow_blocking,
        } => (url, mode, allow_blocking, false),
        ServerRun::Compare { url } => (url, ldb::Mode::Forked, false, true),
    };
    let target = Target::parse(&url)?;
    // On a cluster, the setup goes where the script will run.
    let argv = crate::protocol::cli::eval_argv(
        input.body.clone(),
        (input.keys.clone(), input.args.clone()),
    );
    let setup_at =
        remote::cluster::route(&target, &argv)?.map_or_else(|| target.clone(), |r| r.target);
    setup_on_server(&setup_at, input.setup, err)?;
    let options = ldb::Options {
        mode,
        limits: input.limits.clone(),
        allow_blocking,
    };
    let recorded = ldb::record(
        &target,
        &input.body,
        input.keys.clone(),
        input.args.clone(),
        &options,
        &|| false,
    )?;
    if compare {
        let report = remote::compare::against_engine(&recorded, input.limits);
        out.write_all(report.text.as_bytes())?;
        return Ok(if report.difference.is_some() { 1 } else { 0 });
    }
    let mut mirror = recorded.mirror;
    let mut client = mirror.new_client();
    client.db = target.db;
    print_run(
        &recorded.timeline,
        &mut mirror,
        &mut client,
        &mut NoExtension,
        Printing {
            raw: input.raw,
            format: input.trace,
            file: input.file.as_deref(),
        },
        out,
    )?;
    if input.trace.is_none() {
        if let Some(server) = &recorded.timeline.server {
            let mode = if server.forked {
                "forked: the server's data is untouched; without the debugger these writes would stay"
            } else {
                "sync: the writes stayed on the server"
            };
            writeln!(out, "\n(stepped on {}, LDB {mode})", server.label)?;
            for note in &server.notes {
                writeln!(out, "note: {note}")?;
            }
            for line in crate::trace::export::replica_reads(server) {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(0)
}

/// Runs the script and prints what `input` asks for; returns the exit code.
pub fn run(mut input: RunInput, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<i32> {
    if let Some(server) = input.server.take() {
        return run_on_server(input, server, out, err);
    }
    if let Some(shards) = input.cluster {
        crate::engine::cluster::validate(shards, crate::engine::DEFAULT_PORT)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    let mut engine = crate::engine::cluster::engine(input.cluster);
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
    let timeline = trace::record_with_lane(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        input.limits,
        &input.lane,
    );
    print_run(
        &timeline,
        &mut engine,
        &mut client,
        &mut scripting,
        Printing {
            raw: input.raw,
            format: input.trace,
            file: input.file.as_deref(),
        },
        out,
    )?;
    Ok(0)
}

/// Prints the trace, or the reply and the keys the script touched.
fn print_run(
    timeline: &Timeline,
    engine: &mut Engine,
    client: &mut Client,
    ext: &mut dyn Extension,
    printing: Printing,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Printing { raw, format, file } = printing;
    match format {
        Some(TraceFormat::Text) => {
            return Ok(out.write_all(trace::export::text(timeline, &engine.keyspace).as_bytes())?)
        }
        Some(TraceFormat::Markdown) => {
            return Ok(
                out.write_all(trace::export::markdown(timeline, &engine.keyspace).as_bytes())?
            )
        }
        Some(TraceFormat::Html) => {
            return Ok(
                out.write_all(trace::export::html(timeline, &engine.keyspace, file).as_bytes())?
            )
        }
        Some(TraceFormat::Json) => {
            let json = trace::export::json_text(timeline, &engine.keyspace, true);
            return Ok(writeln!(out, "{json}")?);
        }
        None => {}
    }
    let reply = timeline.outcome.reply.clone();
    if raw {
        out.write_all(&format_raw(&reply))?;
    } else {
        out.write_all(format_tty(&reply).as_bytes())?;
    }
    let mut touched: IndexSet<Vec<u8>> = IndexSet::new();
    let calls = timeline
        .steps
        .iter()
        .filter_map(|s| match timeline.event(s) {
            Event::Call(call) => Some(call.argv),
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
        let kind = engine.call(client, &[b"TYPE".to_vec(), key.clone()], ext);
        let kind = match kind {
            Reply::Status(k) => String::from_utf8_lossy(&k).into_owned(),
            // --cluster: a key another node serves.
            Reply::Error(e) if e.starts_with(b"MOVED ") => {
                format!("on another node: {}", String::from_utf8_lossy(&e))
            }
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
            client,
            &read.iter().map(|a| a.to_vec()).collect::<Vec<_>>(),
            ext,
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
