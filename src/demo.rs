//! `redstep demo --print`: the post "Lua Scripts Are Not Atomic in Redis"
//! replayed headless on the embedded engine — every reply computed, none
//! written in — for CI and for pasting.

use std::io::Write;

use crate::engine::Engine;
use crate::lessons::{Kind, Lesson, LessonBuffer};
use crate::protocol::cli::format_tty;
use crate::run::eval_argv;
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, Limits};

pub const INIT: &str = include_str!("../assets/post/init.lua");
pub const GET: &str = include_str!("../assets/post/get.lua");
pub const INC: &str = include_str!("../assets/post/inc.lua");

/// The guided walk `redstep demo` opens: the post's three scripts on an
/// empty engine, with the walk in the lesson pane (no checks).
pub fn walk() -> Lesson {
    let buffer = |name: &str, text: &str| LessonBuffer {
        name: name.into(),
        kind: Kind::Lua,
        text: text.into(),
        solution: None,
        line: 0,
    };
    Lesson {
        id: "demo".into(),
        title: "The post, step by step".into(),
        order: 0,
        setup: Vec::new(),
        args: String::new(),
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
    writeln!(out)?;
    let show = |out: &mut dyn Write, name: &str, body: &str| -> std::io::Result<()> {
        writeln!(out, "-- {name}")?;
        write!(out, "{body}")?;
        writeln!(out)
    };
    show(out, "init.lua", INIT)?;
    show(out, "get.lua", GET)?;
    show(out, "inc.lua", INC)?;

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
    writeln!(
        out,
        "What happened inside inc.lua (redstep run assets/post/inc.lua --trace):"
    )?;
    writeln!(out)?;
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
