//! `redstep demo --print`: the post "Lua Scripts Are Not Atomic in Redis"
//! replayed headless on the embedded engine — every reply computed, none
//! written in — for CI and for pasting; `redstep demo --write DIR` writes
//! its files so a reader can replay it without a checkout.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::engine::Engine;
use crate::lessons::{Kind, Lesson, LessonBuffer};
use crate::protocol::cli::eval_argv;
use crate::protocol::cli::format_tty;
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, Limits};

pub(crate) const INIT: &str = include_str!("../assets/post/init.lua");
pub(crate) const GET: &str = include_str!("../assets/post/get.lua");
pub(crate) const INC: &str = include_str!("../assets/post/inc.lua");
/// What init.lua leaves, as `redstep run --setup` takes it.
pub(crate) const SETUP: &str = "SET a 42\nSET b 42\n";

/// The files `demo --write` writes, in order.
pub(crate) const FILES: [(&str, &str); 4] = [
    ("init.lua", INIT),
    ("get.lua", GET),
    ("inc.lua", INC),
    ("setup.txt", SETUP),
];

/// The folder the printed commands use.
const FOLDER: &str = "post";

/// The command that prints the trace `demo --print` shows, once
/// `redstep demo --write DIR` has written the files.
pub(crate) fn trace_command(dir: &str) -> String {
    let inc = crate::protocol::cli::shell_word(&format!("{dir}/inc.lua"));
    let mut command = format!("redstep run {inc}");
    for line in SETUP.lines() {
        command.push_str(&format!(" -c {}", crate::protocol::cli::shell_word(line)));
    }
    command + " --trace"
}

/// Writes the post's scripts and setup into `dir`, then says what to run.
/// A file already there is left alone when it holds the same text, and is
/// an error when it differs (nothing is overwritten).
pub fn write(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Look at every file first, so a refusal writes nothing.
    let mut missing = Vec::new();
    for (name, text) in FILES {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(there) if there == text.as_bytes() => {}
            Ok(_) => anyhow::bail!(
                "{} exists and differs from the post's; nothing written (choose another folder)",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(name),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
    for (name, text) in FILES {
        let path = dir.join(name);
        if missing.contains(&name) {
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "wrote {}", path.display())?;
        } else {
            writeln!(out, "{} is already there", path.display())?;
        }
    }
    let shown = dir.display().to_string();
    writeln!(out)?;
    writeln!(out, "The failing run, step by step:")?;
    writeln!(out, "  {}", trace_command(&shown))?;
    writeln!(out, "The same with the setup file, then the keys it left:")?;
    writeln!(
        out,
        "  redstep run {} --setup {}",
        crate::protocol::cli::shell_word(&format!("{shown}/inc.lua")),
        crate::protocol::cli::shell_word(&format!("{shown}/setup.txt"))
    )?;
    writeln!(
        out,
        "The whole post on one server (Redis, or `redstep serve` on port 6379), in {}:",
        crate::protocol::cli::shell_word(&shown)
    )?;
    writeln!(
        out,
        "  for f in init get inc get; do redis-cli --eval $f.lua; done"
    )?;
    Ok(())
}

/// The guided walk `redstep demo` opens: the post's three scripts on an
/// empty engine, with the walk in the lesson pane (no checks).
pub fn walk() -> Lesson {
    let buffer = |name: &str, text: &str| LessonBuffer {
        name: name.into(),
        kind: Kind::Lua,
        text: text.into(),
        solution: None,
        line: 0,
        text_at: Default::default(),
        solution_at: Default::default(),
    };
    Lesson {
        id: "demo".into(),
        title: "The post, step by step".into(),
        order: 0,
        setup: Vec::new(),
        setup_lines: Vec::new(),
        args: String::new(),
        others: Vec::new(),
        cluster: None,
        hints: Vec::new(),
        buffers: vec![
            buffer("init.lua", INIT),
            buffer("get.lua", GET),
            buffer("inc.lua", INC),
        ],
        checked: 0,
        checks: Vec::new(),
        body: include_str!("../assets/post/demo.md").into(),
        source: "builtin:demo".into(),
    }
}

pub fn print(out: &mut dyn Write) -> anyhow::Result<()> {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    let eval = |engine: &mut Engine,
                scripting: &mut Scripting,
                client: &mut crate::engine::Client,
                body: &str| {
        let argv = eval_argv(body.as_bytes().to_vec(), (Vec::new(), Vec::new()));
        engine.call(client, &argv, scripting)
    };

    writeln!(out, "The post \"Lua Scripts Are Not Atomic in Redis\", replayed on redstep's embedded Redis 7.0.")?;
    writeln!(
        out,
        "`redstep demo --write {FOLDER}` writes its scripts into {FOLDER}/ to replay each step below."
    )?;
    writeln!(out)?;
    let show = |out: &mut dyn Write, name: &str, body: &str| -> std::io::Result<()> {
        writeln!(out, "-- {name}")?;
        write!(out, "{body}")?;
        writeln!(out)
    };
    show(out, "init.lua", INIT)?;
    show(out, "get.lua", GET)?;
    show(out, "inc.lua", INC)?;

    writeln!(
        out,
        "One after the other on one server (Redis, or `redstep serve`), in {FOLDER}/:"
    )?;
    writeln!(out, "$ redis-cli --eval init.lua")?;
    write!(
        out,
        "{}",
        format_tty(&eval(&mut engine, &mut scripting, &mut client, INIT))
    )?;
    writeln!(out, "$ redis-cli --eval get.lua")?;
    write!(
        out,
        "{}",
        format_tty(&eval(&mut engine, &mut scripting, &mut client, GET))
    )?;
    writeln!(out, "$ redis-cli --eval inc.lua")?;
    // The run that matters, recorded step by step.
    let argv = eval_argv(INC.as_bytes().to_vec(), (Vec::new(), Vec::new()));
    let timeline = trace::record(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        Limits::default(),
    );
    write!(out, "{}", format_tty(&timeline.outcome.reply))?;
    writeln!(out, "$ redis-cli --eval get.lua")?;
    write!(
        out,
        "{}",
        format_tty(&eval(&mut engine, &mut scripting, &mut client, GET))
    )?;
    writeln!(out)?;
    writeln!(out, "What happened inside inc.lua, step by step:")?;
    writeln!(out, "$ {}", trace_command(FOLDER))?;
    write!(out, "{}", trace::export::text(&timeline, &engine.keyspace))?;
    writeln!(out)?;
    // The other half: another client, sending while the script runs.
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    for line in SETUP.lines() {
        let argv = crate::protocol::cli::split_args(line.as_bytes()).unwrap_or_default();
        engine.call(&mut client, &argv, &mut scripting);
    }
    let lane = [crate::trace::LaneCommand::parse(ISOLATION).expect("a lane command")];
    let timeline = trace::record_with_lane(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        Limits::default(),
        &lane,
    );
    writeln!(
        out,
        "What another client sees: it reads a and b right after INCR a (step 2):"
    )?;
    writeln!(
        out,
        "$ {} --other {}",
        trace_command(FOLDER),
        crate::protocol::cli::shell_word(ISOLATION)
    )?;
    write!(out, "{}", trace::export::text(&timeline, &engine.keyspace))?;
    writeln!(out)?;
    writeln!(
        out,
        "Redis runs a script without letting anything else run, but it does not roll back:"
    )?;
    writeln!(
        out,
        "a script that fails half way leaves its first writes in place."
    )?;
    Ok(())
}

/// The demo's other client: it reads both keys right after `INCR a`.
const ISOLATION: &str = "step 2: MGET a b";
