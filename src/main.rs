use std::fs::File;
use std::io::{BufRead, BufReader};

use anyhow::Context;

use redstep::cli::{Cli, Command, LessonsCommand};
use redstep::engine::Engine;
use redstep::host::Host;
use redstep::run::TraceFormat;
use redstep::script::ScriptConfig;
use redstep::server::{ServeOptions, Server};
use redstep::trace::Limits;

fn main() -> std::process::ExitCode {
    let (cli, warnings) = redstep::cli::parse();
    for warning in warnings {
        eprintln!("redstep: warning: {warning}");
    }
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes, without a backtrace: these are
            // the user's errors (a missing file, no terminal), not bugs.
            eprintln!("redstep: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn show(cli: &Cli) -> redstep::tui::Show {
    redstep::tui::Show {
        record: cli.record.clone(),
        present: cli.present,
        cluster: cli.cluster,
    }
}

fn ldb_mode(name: &str) -> redstep::remote::ldb::Mode {
    if name == "sync" {
        redstep::remote::ldb::Mode::Sync
    } else {
        redstep::remote::ldb::Mode::Forked
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                anyhow::bail!("the TUI needs a terminal; for scripts use `redstep run`, `redstep exec` or `redstep serve`");
            }
            if let Some(url) = &cli.redis {
                let target = redstep::remote::Target::parse(url)?;
                let options = redstep::remote::ldb::Options {
                    mode: ldb_mode(&cli.ldb),
                    limits: Limits::default(),
                    allow_blocking: cli.allow_blocking,
                };
                if options.mode == redstep::remote::ldb::Mode::Sync
                    && !target.is_loopback()
                    && !cli.allow_blocking
                {
                    anyhow::bail!("--ldb sync blocks {} for every client while a run is recorded; it is refused for a server that is not on this machine unless --allow-blocking is given", target.address());
                }
                let opening = match &cli.file {
                    Some(path) => redstep::tui::opening::file(path)?,
                    None => redstep::tui::opening::post(),
                };
                return redstep::tui::run(opening, None, Some((target, options)), show(&cli));
            }
            match &cli.file {
                Some(path) => {
                    redstep::tui::run(redstep::tui::opening::file(path)?, None, None, show(&cli))
                }
                None => {
                    let (list, index) = pick_lesson(cli.lessons.as_deref(), cli.lesson.as_deref())?;
                    redstep::tui::run(
                        redstep::tui::opening::post(),
                        Some((list, index)),
                        None,
                        show(&cli),
                    )
                }
            }
        }
        Some(Command::Exec {
            raw,
            file,
            cluster,
            args,
        }) => {
            let input: Option<Box<dyn BufRead>> = match (&file, args.is_empty()) {
                // `-f -` is standard input, as for most tools.
                (Some(path), _) if path.as_os_str() == "-" => {
                    Some(Box::new(BufReader::new(std::io::stdin())))
                }
                (Some(path), _) => Some(Box::new(BufReader::new(
                    File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
                ))),
                (None, true) => Some(Box::new(BufReader::new(std::io::stdin()))),
                (None, false) => None,
            };
            let args = args.into_iter().map(String::into_bytes).collect();
            redstep::exec::run_on(args, input, raw, cluster, &mut std::io::stdout().lock())
        }
        Some(Command::Run {
            file,
            setup,
            commands,
            raw,
            trace,
            trace_steps,
            trace_mb,
            others,
            redis,
            ldb,
            allow_blocking,
            compare,
            frame,
            cluster,
            words,
        }) => {
            if frame.is_some() && trace.as_deref() != Some("svg") {
                anyhow::bail!("--frame N picks the step a picture shows: it goes with --trace svg");
            }
            let body =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let setup = setup_lines(setup, &commands)?;
            if trace.as_deref() == Some("svg") {
                // A picture of the TUI's debugger: drawn by the TUI's views.
                let mut opening = redstep::tui::opening::file(&file)?;
                opening.setup = setup
                    .iter()
                    .filter_map(|s| redstep::protocol::cli::split_args(&s.line).ok())
                    .filter(|argv| !argv.is_empty())
                    .collect();
                let args = words
                    .iter()
                    .map(|w| redstep::trace::export::word(w.as_bytes()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let lane = others
                    .iter()
                    .map(|o| redstep::trace::LaneCommand::parse(o))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| anyhow::anyhow!(e))?;
                let svg =
                    redstep::tui::picture::svg_on(opening, &args, lane, frame, cluster, 120, 40)?;
                print!("{svg}");
                return Ok(());
            }
            let (keys, args) = redstep::protocol::cli::split_keys_args(
                words.into_iter().map(String::into_bytes).collect(),
            );
            let trace = trace.map(|t| match t.as_str() {
                "json" => TraceFormat::Json,
                "md" => TraceFormat::Markdown,
                "html" => TraceFormat::Html,
                _ => TraceFormat::Text,
            });
            let limits = Limits {
                max_steps: trace_steps,
                max_bytes: trace_mb * 1024 * 1024,
                ..Limits::default()
            };
            let lane = others
                .iter()
                .map(|o| redstep::trace::LaneCommand::parse(o))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!(e))?;
            let input = redstep::run::RunInput {
                lane,
                cluster,
                file: file
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned()),
                body,
                keys,
                args,
                setup,
                raw,
                trace,
                limits,
                server: match (redis, compare) {
                    (Some(url), _) => Some(redstep::run::ServerRun::Debug {
                        url,
                        mode: ldb_mode(&ldb),
                        allow_blocking,
                    }),
                    (None, Some(url)) => Some(redstep::run::ServerRun::Compare { url }),
                    (None, None) => None,
                },
            };
            let code = redstep::run::run(
                input,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            )?;
            if code != 0 {
                std::process::exit(code);
            }
            Ok(())
        }
        Some(Command::Demo {
            write: Some(dir), ..
        }) => redstep::demo::write(&dir, &mut std::io::stdout().lock()),
        Some(Command::Demo {
            record: Some(path), ..
        }) => {
            let frames = redstep::tui::record::play_to_cast(
                redstep::demo::walk(),
                &demo_strokes(),
                &path,
                (120, 40),
                1.5,
            )?;
            println!(
                "recorded the walk in {} ({frames} frames, 120×40): asciinema play {}",
                path.display(),
                path.display()
            );
            Ok(())
        }
        Some(Command::Demo { print: true, .. }) => {
            redstep::demo::print(&mut std::io::stdout().lock())
        }
        Some(Command::Demo {
            print: false,
            present,
            ..
        }) => {
            if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                anyhow::bail!("the demo needs a terminal; `redstep demo --print` prints it");
            }
            redstep::tui::run(
                redstep::tui::opening::post(),
                Some((vec![redstep::demo::walk()], 0)),
                None,
                redstep::tui::Show {
                    present: present || cli.present,
                    ..redstep::tui::Show::default()
                },
            )
        }
        Some(Command::Probe {
            setup,
            commands,
            budget,
            seed,
            json,
            words,
        }) => probe(words, setup_lines(setup, &commands)?, budget, seed, json),
        Some(Command::Lessons { action }) => lessons(action),
        Some(Command::Config { print, check }) => config(print, check),
        Some(Command::Serve {
            port,
            bind,
            requirepass,
            cluster,
        }) => {
            if let Some(shards) = cluster {
                redstep::engine::cluster::validate(shards, port).map_err(|e| anyhow::anyhow!(e))?;
            }
            if !bind.is_loopback() && requirepass.is_none() {
                eprintln!(
                    "WARNING: redstep is listening on {bind}, which is not a loopback address."
                );
                eprintln!("WARNING: anyone who can reach this machine can read and change its data: there is no password.");
            }
            let options = ServeOptions {
                bind,
                port,
                max_bulk: 512 * 1024 * 1024,
            };
            redstep::server::exit_on_sigterm();
            let host = Host::start_server_engine(
                move || {
                    let mut engine = Engine::default();
                    engine.config.port = port;
                    engine.config.bind = bind.to_string();
                    engine.config.requirepass = requirepass.map(String::into_bytes);
                    if let Some(shards) = cluster {
                        engine
                            .enable_cluster(shards)
                            .expect("--cluster is validated before the engine starts");
                    }
                    engine
                },
                ScriptConfig::default(),
            );
            let server = Server::bind(&options, host)?;
            eprintln!(
                "redstep {} serving Redis 7.0 semantics on {}",
                env!("CARGO_PKG_VERSION"),
                server.local_addr()
            );
            server.run();
            Ok(())
        }
    }
}

fn lessons(action: LessonsCommand) -> anyhow::Result<()> {
    use redstep::lessons::{builtin, load_dir, validate::validate};
    // A folder without a single lesson file is an error, not "all is well".
    let load = |dir: Option<std::path::PathBuf>| match dir {
        Some(dir) => {
            let (lessons, problems) = load_dir(&dir);
            if lessons.is_empty() && problems.is_empty() {
                return Err(no_lessons(&dir));
            }
            Ok((lessons, problems))
        }
        None => Ok((builtin(), Vec::new())),
    };
    match action {
        LessonsCommand::List { dir } => {
            let (lessons, problems) = load(dir)?;
            for l in &lessons {
                println!("{:>3}  {:<24} {}", l.order, l.id, l.title);
            }
            for p in &problems {
                eprintln!("{p}");
            }
            if !problems.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        LessonsCommand::Check { dir } => {
            let (lessons, mut problems) = load(dir)?;
            problems.extend(validate(&lessons));
            for p in &problems {
                println!("{p}");
            }
            let checks: usize = lessons.iter().map(|l| l.checks.len()).sum();
            if problems.is_empty() {
                println!("{} lessons, {checks} checks: every solution passes, every starting script fails a check", lessons.len());
                Ok(())
            } else {
                println!("{} problem(s) in {} lessons", problems.len(), lessons.len());
                std::process::exit(1);
            }
        }
    }
}

fn no_lessons(dir: &std::path::Path) -> anyhow::Error {
    anyhow::anyhow!(
        "no lessons found in {}: a lesson is a .md file (other than README.md) that starts with a +++ front matter (see lessons/README.md)",
        dir.display()
    )
}

/// The lessons (shipped, or an instructor's folder) and the one to open:
/// `id`, or the post's lesson, or the first.
fn pick_lesson(
    dir: Option<&std::path::Path>,
    id: Option<&str>,
) -> anyhow::Result<(Vec<redstep::lessons::Lesson>, usize)> {
    let lessons = match dir {
        Some(dir) => {
            let (lessons, problems) = redstep::lessons::load_dir(dir);
            if !problems.is_empty() {
                let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                anyhow::bail!(
                    "the lessons in {} have problems:\n{}",
                    dir.display(),
                    list.join("\n")
                );
            }
            lessons
        }
        None => redstep::lessons::builtin(),
    };
    if lessons.is_empty() {
        return Err(match dir {
            Some(dir) => no_lessons(dir),
            None => anyhow::anyhow!("no lessons found"),
        });
    }
    let wanted = id.unwrap_or(redstep::tui::opening::DEFAULT_LESSON);
    let index = lessons
        .iter()
        .position(|l| l.id == wanted || l.order.to_string() == wanted);
    match (index, id) {
        (Some(i), _) => Ok((lessons, i)),
        (None, None) => Ok((lessons, 0)),
        (None, Some(id)) => {
            let ids: Vec<&str> = lessons.iter().map(|l| l.id.as_str()).collect();
            anyhow::bail!("no lesson {id:?}; lessons: {}", ids.join(", "))
        }
    }
}

/// `redstep config`: the defaults, or a check of a config file.
fn config(print: bool, check: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    use redstep::tui::config;
    let path = match check {
        Some(p) if !p.as_os_str().is_empty() => Some(p),
        _ => config::path(),
    };
    if print {
        print!("{}", config::defaults());
        return Ok(());
    }
    let Some(path) = path else {
        anyhow::bail!("no config folder on this system (set XDG_CONFIG_HOME)");
    };
    if !path.exists() {
        println!(
            "{}: no config file (the defaults are in force; `redstep config --print > {}` writes them)",
            path.display(),
            path.display()
        );
        return Ok(());
    }
    let settings = config::load(&path);
    for problem in &settings.problems {
        eprintln!("{problem}");
    }
    if !settings.problems.is_empty() {
        std::process::exit(1);
    }
    println!("{}: ok", path.display());
    Ok(())
}

/// `redstep probe FILE... [KEY ... , ARG ...]`: the leading words that are
/// Lua files are the scripts; the rest are their keys and arguments.
fn probe(
    words: Vec<String>,
    setup: Vec<redstep::protocol::cli::SetupLine>,
    budget: usize,
    seed: u64,
    json: bool,
) -> anyhow::Result<()> {
    use redstep::probe::{probe, Options, Target};
    let files: Vec<String> = words
        .iter()
        .take_while(|w| w.ends_with(".lua") && std::path::Path::new(w).is_file())
        .cloned()
        .collect();
    if files.is_empty() {
        anyhow::bail!(
            "{}: not a Lua file (probe takes one or more *.lua files, then keys , args)",
            words.first().map_or("", String::as_str)
        );
    }
    let (keys, args) = redstep::protocol::cli::split_keys_args(
        words[files.len()..]
            .iter()
            .map(|w| w.clone().into_bytes())
            .collect(),
    );
    let options = Options { budget, seed };
    let mut reports = Vec::new();
    for file in &files {
        let body = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
        let target = Target {
            name: file.clone(),
            body,
            keys: keys.clone(),
            args: args.clone(),
            setup: setup.clone(),
        };
        reports.push(probe(&target, options));
    }
    if json {
        let all: Vec<serde_json::Value> = reports.iter().map(|r| r.json()).collect();
        let doc = if all.len() == 1 {
            all.into_iter().next().expect("one report")
        } else {
            serde_json::Value::Array(all)
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for (i, report) in reports.iter().enumerate() {
            if i > 0 {
                println!();
            }
            print!("{}", report.text());
        }
        if reports.len() > 1 {
            println!(
                "\n{:<40} {:>8} {:>14} {:>14}",
                "script", "inputs", "partial writes", "early errors"
            );
            for r in &reports {
                println!(
                    "{:<40} {:>8} {:>14} {:>14}",
                    r.target.name,
                    r.runs,
                    r.partial.len(),
                    r.early.len()
                );
            }
        }
    }
    if reports.iter().any(|r| r.found()) {
        std::process::exit(1);
    }
    Ok(())
}

/// `--setup FILE` lines, then each `-c COMMAND`, as `run` and `probe` take them.
fn setup_lines(
    file: Option<std::path::PathBuf>,
    commands: &[String],
) -> anyhow::Result<Vec<redstep::protocol::cli::SetupLine>> {
    let mut lines = match file {
        Some(path) => redstep::protocol::cli::setup_file(
            &path.display().to_string(),
            BufReader::new(
                File::open(&path).with_context(|| format!("cannot read {}", path.display()))?,
            ),
        )
        .with_context(|| format!("cannot read {}", path.display()))?,
        None => Vec::new(),
    };
    lines.extend(redstep::protocol::cli::setup_commands(commands));
    Ok(lines)
}

/// The keys of the demo's guided walk (`assets/post/demo.md`), as a
/// presenter presses them.
fn demo_strokes() -> Vec<redstep::tui::record::Stroke> {
    use crossterm::event::{KeyCode, KeyModifiers};
    use redstep::tui::record::Stroke::{Key, Type};
    let key = |code| Key(code, KeyModifiers::NONE);
    let alt = |c| Key(KeyCode::Char(c), KeyModifiers::ALT);
    vec![
        // 1. init.lua: a and b appear.
        key(KeyCode::F(5)),
        // 2. get.lua: ["42", "42"].
        key(KeyCode::F(3)),
        key(KeyCode::F(5)),
        // 3. inc.lua a line at a time, to the line it dies on.
        key(KeyCode::F(3)),
        key(KeyCode::F(10)),
        key(KeyCode::F(10)),
        key(KeyCode::F(10)),
        key(KeyCode::F(10)),
        // 4. get.lua again: ["43", "42"].
        key(KeyCode::F(3)),
        key(KeyCode::F(3)),
        key(KeyCode::F(5)),
        // 5. Another client reads while inc.lua runs.
        alt('5'),
        Type("step 2: MGET a b"),
        key(KeyCode::Enter),
        alt('1'),
        key(KeyCode::F(3)),
        key(KeyCode::F(5)),
    ]
}
