//! `redstep exec`: commands from arguments, a file or stdin, printed as
//! redis-cli prints them.

use std::io::{BufRead, Write};

use crate::host::Host;
use crate::protocol::cli::{format_reply, split_args};
use crate::script::ScriptConfig;

/// Runs the commands, writing replies to `out`. Errors only when the input
/// cannot be read.
pub fn run(
    args: Vec<Vec<u8>>,
    input: Option<Box<dyn BufRead>>,
    raw: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    run_on(args, input, raw, None, out)
}

/// `run`, with the engine in cluster mode when `cluster` gives its shards.
pub fn run_on(
    args: Vec<Vec<u8>>,
    input: Option<Box<dyn BufRead>>,
    raw: bool,
    cluster: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if let Some(shards) = cluster {
        crate::engine::cluster::validate(shards, crate::engine::DEFAULT_PORT)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    // Nobody can send SCRIPT KILL to `exec`, so runaway scripts stop after
    // the same budget as `redstep run`.
    let config = ScriptConfig {
        budget: Some(crate::script::HEADLESS_BUDGET),
        ..ScriptConfig::default()
    };
    let host = Host::start(move || crate::engine::cluster::engine(cluster), config);
    let conn = host.connect("exec".into(), String::new());
    let print = |argv: Vec<Vec<u8>>, out: &mut dyn Write| -> anyhow::Result<()> {
        let reply = conn.call(argv.clone());
        let printed = format_reply(&argv, &reply, raw, conn.resp3());
        out.write_all(&printed)?;
        Ok(())
    };
    if !args.is_empty() {
        return print(args, out);
    }
    let Some(input) = input else { return Ok(()) };
    for line in input.split(b'\n') {
        let line = line?;
        match split_args(&line) {
            Ok(argv) if argv.is_empty() => {}
            Ok(argv) => print(argv, out)?,
            Err(_) => writeln!(out, "Invalid argument(s)")?,
        }
    }
    Ok(())
}
