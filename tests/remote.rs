//! The debugger on a real server: scripts stepped through Redis's own Lua
//! debugger (LDB) against a redis-server 7.0.15 of the test's own, compared
//! with the embedded engine's run of the same script on the same keys.

mod real;

use real::Real;
use redstep::engine::{Engine, Reply};
use redstep::remote::compare;
use redstep::remote::ldb::{self, Mode, Options, Recorded};
use redstep::remote::Target;
use redstep::trace::{export, Limits, Status, StepKind};

const INC: &str = "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n";

fn server() -> Option<Real> {
    let real = Real::start();
    if real.is_none() {
        eprintln!("skipped: redis-server is not installed");
    }
    real
}

fn record_on(
    real: &Real,
    body: &str,
    keys: &[&str],
    args: &[&str],
    mode: Mode,
) -> anyhow::Result<Recorded> {
    let options = Options {
        mode,
        limits: Limits::default(),
        allow_blocking: false,
    };
    record_with(real, body, keys, args, &options)
}

fn record_with(
    real: &Real,
    body: &str,
    keys: &[&str],
    args: &[&str],
    options: &Options,
) -> anyhow::Result<Recorded> {
    let bytes = |w: &[&str]| w.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
    ldb::record(
        &Target::parse(&real.url()).unwrap(),
        body.as_bytes(),
        bytes(keys),
        bytes(args),
        options,
        &|| false,
    )
}

/// The text export without what only a server run says (the header's
/// "on redis ..." and the mode lines).
fn export_without_server_lines(recorded: &Recorded) -> String {
    // What replicas receive is worded by mode (a forked run sent nothing:
    // it says what it would have sent); the commands compare on their own.
    export::text(&recorded.timeline, &recorded.mirror.keyspace)
        .lines()
        .filter(|l| {
            !l.starts_with("Stepped on ")
                && !l.starts_with("  Note: ")
                && !l.starts_with("Without the debugger's fork, replicas")
                && !l.starts_with("Replicas and the AOF received it too")
        })
        .map(|l| match l.find(" on redis ") {
            Some(at) if l.starts_with("trace of ") => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn embedded_export(body: &str, setup: &[&[&str]], keys: &[&str]) -> String {
    let mut engine = Engine::default();
    let mut scripting = redstep::script::Scripting::new(&mut engine, Default::default());
    let mut client = engine.new_client();
    for cmd in setup {
        let argv: Vec<Vec<u8>> = cmd.iter().map(|s| s.as_bytes().to_vec()).collect();
        engine.call(&mut client, &argv, &mut scripting);
    }
    let argv = redstep::protocol::cli::eval_argv(
        body.as_bytes().to_vec(),
        (
            keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
            Vec::new(),
        ),
    );
    let mut timeline = redstep::trace::record(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        Limits::default(),
    );
    // A forked run on a server words what replicas receive differently
    // (see export_without_server_lines); the commands compare on their own.
    timeline.replica.clear();
    export::text(&timeline, &engine.keyspace)
}

#[test]
fn the_posts_script_steps_on_a_real_server_as_on_the_engine_in_both_modes() {
    let Some(mut real) = server() else { return };
    real.cmd(&["MSET", "a", "42", "b", "42"]);
    let forked = record_on(&real, INC, &[], &[], Mode::Forked).unwrap();
    let t = &forked.timeline;
    assert_eq!(t.outcome.status, Status::Error);
    assert_eq!(t.outcome.error_line, Some(2));
    assert_eq!(t.outcome.writes_applied, 1);
    let server = t.server.as_ref().unwrap();
    assert!(
        server.forked && server.label.starts_with("redis 7.0.15 @ "),
        "{server:?}"
    );
    assert!(server.notes.is_empty(), "{:?}", server.notes);
    // Step for step the embedded engine's trace (same text export).
    let embedded = embedded_export(INC, &[&["MSET", "a", "42", "b", "42"]], &[]);
    assert_eq!(export_without_server_lines(&forked), embedded.trim_end());
    // The mirror's replay says what the run sends replicas, as the engine.
    assert_eq!(t.replica, [vec![b"INCR".to_vec(), b"a".to_vec()]]);
    assert!(embedded.contains("a: \"42\" → \"43\""), "{embedded}");
    let text = export::text(t, &forked.mirror.keyspace);
    assert!(
        text.contains("in a forked copy (LDB's default): the server's data is untouched. On a real server without the debugger these writes would stay."),
        "{text}"
    );
    assert_eq!(
        real.cmd(&["GET", "a"]),
        Reply::bulk("42"),
        "forked: the server is untouched"
    );
    assert!(compare::against_engine(&forked, Limits::default())
        .difference
        .is_none());

    let sync = record_on(&real, INC, &[], &[], Mode::Sync).unwrap();
    assert_eq!(export_without_server_lines(&sync), embedded.trim_end());
    assert!(!sync.timeline.server.as_ref().unwrap().forked);
    assert!(export::text(&sync.timeline, &sync.mirror.keyspace)
        .contains("in sync mode: these writes stayed on the server."));
    assert_eq!(
        real.cmd(&["GET", "a"]),
        Reply::bulk("43"),
        "sync: the write stayed"
    );
    assert_eq!(real.cmd(&["GET", "b"]), Reply::bulk("42"));
}

const NESTED: &str = r#"local function bump(k, n)
  local total = 0
  for i = 1, n do
    total = total + redis.call('INCRBY', k, i)
  end
  return total
end
local ok, err = pcall(function() return redis.call('LPUSH', KEYS[1], 'x') end)
local e = redis.pcall('HSET', KEYS[1], 'f')
redis.call('RPUSH', KEYS[2], 'a', 'b')
redis.call('HSET', KEYS[3], 'f', 'v', 'g', '-1')
redis.call('ZADD', KEYS[4], 1.5, 'm', 2, 'n')
redis.call('EXPIRE', KEYS[2], 100)
local t = redis.call('HGETALL', KEYS[3])
return {bump(KEYS[1], 3), e.err, t, redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES'), ok}
"#;

#[test]
fn loops_pcall_and_nested_functions_step_as_on_the_engine() {
    let Some(mut real) = server() else { return };
    real.cmd(&["SET", "a", "5"]);
    real.cmd(&["RPUSH", "l", "old"]);
    let recorded = record_on(&real, NESTED, &["a", "l", "h", "z"], &[], Mode::Forked).unwrap();
    let report = compare::against_engine(&recorded, Limits::default());
    assert!(report.difference.is_none(), "{}", report.text);
    assert!(report.text.starts_with("identical on "), "{}", report.text);
    let t = &recorded.timeline;
    assert_eq!(t.outcome.status, Status::Ok);
    assert!(
        t.server.as_ref().unwrap().notes.is_empty(),
        "{:?}",
        t.server
    );
    // Inside bump() the line steps are one function deeper.
    let depth_of = |line: u32| {
        t.steps.iter().find_map(|s| match s.kind {
            StepKind::Line { depth, .. } if s.line == line => Some(depth.get()),
            _ => None,
        })
    };
    assert_eq!(depth_of(4).unwrap(), depth_of(8).unwrap() + 1);
    // Locals as LDB prints them.
    let locals = t.steps.iter().rev().find_map(|s| match &s.kind {
        StepKind::Line {
            locals: Some(l), ..
        } if s.line == 4 => Some(t.locals.get(*l)),
        _ => None,
    });
    assert!(locals.unwrap().contains("k", "\"a\""));
    // The keys it changed, before and after, as the debugger shows them.
    let text = export::text(t, &recorded.mirror.keyspace);
    assert!(
        text.contains("l: [\"old\"] → [\"old\", \"a\", \"b\"]"),
        "{text}"
    );
    assert!(text.contains("a: \"5\" → \"6\""), "{text}");
    assert_eq!(real.cmd(&["LLEN", "l"]), Reply::Int(1));
}

/// Lines of several instructions: a loop on one line, a jump forward on
/// one line, calls that return into the middle of a line, recursion on one
/// line: where Lua's line hook fires (a new line, a jump back, a function
/// entered) and where it does not (a return into the line it left).
const ONE_LINERS: &str = r#"local function f(n) return n * 2 end
local t = 0
for i = 1, 3 do t = t + f(i) end
local j = 0 while j < 2 do j = j + 1 end
if t > 5 then t = t + 1 else t = t - 1 end
repeat j = j - 1 until j <= 0
local s = f(1) + f(2) ; local u = t > 100 and 1 or f(3)
local function g(x) if x > 0 then return g(x - 1) end return 0 end
g(2) for k = 1, 2 do redis.call('INCRBY', KEYS[1], k + g(1)) end
redis.call('SET', KEYS[2], t + s + u)
return {t, s, u, j}
"#;

/// The lines Redis 7.0.15's debugger stops at for [`ONE_LINERS`] (recorded by
/// the test below, which asks a real server again).
const ONE_LINERS_LINES: [u32; 32] = [
    1, 2, 3, 3, 1, 3, 1, 3, 1, 4, 4, 4, 5, 6, 6, 7, 1, 1, 1, 8, 9, 8, 8, 8, 9, 8, 8, 9, 8, 8, 10,
    11,
];

fn line_steps(t: &redstep::trace::Timeline) -> Vec<u32> {
    t.steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Line { .. }))
        .map(|s| s.line)
        .collect()
}

#[test]
fn one_line_loops_jumps_and_returns_step_as_on_a_real_server() {
    // The engine, with or without a server.
    let mut engine = Engine::default();
    let mut scripting = redstep::script::Scripting::new(&mut engine, Default::default());
    let mut client = engine.new_client();
    let argv = redstep::protocol::cli::eval_argv(
        ONE_LINERS.as_bytes().to_vec(),
        (vec![b"n".to_vec(), b"m".to_vec()], Vec::new()),
    );
    let embedded = redstep::trace::record(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        Limits::default(),
    );
    assert_eq!(embedded.outcome.status, Status::Ok);
    assert_eq!(line_steps(&embedded), ONE_LINERS_LINES);
    // A real server's debugger stops at the same lines, step for step.
    let Some(real) = server() else { return };
    let recorded = record_on(&real, ONE_LINERS, &["n", "m"], &[], Mode::Forked).unwrap();
    assert_eq!(line_steps(&recorded.timeline), ONE_LINERS_LINES);
    let report = compare::against_engine(&recorded, Limits::default());
    assert!(report.difference.is_none(), "{}", report.text);
}

#[test]
fn an_argument_with_a_space_is_read_back_from_the_server_and_said() {
    let Some(real) = server() else { return };
    let body = "redis.call('RPUSH', KEYS[1], 'a b', 'c')\nreturn redis.call('LLEN', KEYS[1])";
    let recorded = record_on(&real, body, &["l"], &[], Mode::Forked).unwrap();
    let text = export::text(&recorded.timeline, &recorded.mirror.keyspace);
    // LDB logs `RPUSH l a b c`; the list itself is read back from the server.
    assert!(text.contains("l: (absent) → [\"a b\", \"c\"]"), "{text}");
    assert!(text.contains("Note: line 1: RPUSH l a b c:"), "{text}");
    assert_eq!(recorded.timeline.outcome.reply, Reply::Int(2));
}

#[test]
fn a_runaway_loop_is_aborted_at_the_step_cap_and_the_server_goes_on() {
    let Some(mut real) = server() else { return };
    let options = Options {
        mode: Mode::Forked,
        limits: Limits {
            max_steps: 300,
            ..Limits::default()
        },
        allow_blocking: false,
    };
    let recorded = record_with(
        &real,
        "local n = 0\nwhile true do\n  n = n + 1\nend",
        &[],
        &[],
        &options,
    )
    .unwrap();
    let t = &recorded.timeline;
    assert_eq!(t.outcome.status, Status::Interrupted);
    let error = String::from_utf8_lossy(match &t.outcome.reply {
        Reply::Error(e) => e,
        other => panic!("{other:?}"),
    })
    .into_owned();
    assert!(
        error.starts_with("ERR script aborted for user request script: "),
        "{error}"
    );
    assert!(t
        .outcome
        .truncated
        .as_deref()
        .unwrap()
        .contains("cap of 300 steps"));
    assert_eq!(real.cmd(&["PING"]), Reply::status("PONG"));
}

#[test]
fn a_server_that_refuses_the_debugger_says_so() {
    let Some(real) = Real::start_with(&["--rename-command", "SCRIPT", ""]) else {
        return;
    };
    let error = match record_on(&real, INC, &[], &[], Mode::Forked) {
        Ok(_) => panic!("SCRIPT is renamed away"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        error.contains("refused the Lua debugger (SCRIPT DEBUG): ERR unknown command 'SCRIPT'"),
        "{error}"
    );
    assert!(error.contains("the embedded engine"), "{error}");
}

#[test]
fn a_server_that_goes_away_mid_session_is_told_clearly() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    let path = std::env::temp_dir().join(format!("redstep-gone-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    // A server that answers INFO, then starts a session and closes it after
    // its first stop.
    let fake = std::thread::spawn(move || {
        let mut info = listener.accept().unwrap().0;
        let mut buf = [0u8; 4096];
        let _ = info.read(&mut buf);
        info.write_all(b"$20\r\nredis_version:7.0.15\r\n").unwrap();
        let mut ldb = listener.accept().unwrap().0;
        let _ = ldb.read(&mut buf);
        ldb.write_all(b"+OK\r\n").unwrap();
        let _ = ldb.read(&mut buf);
        ldb.write_all(b"*2\r\n+* Stopped at 1, stop reason = step over\r\n+-> 1   x\r\n")
            .unwrap();
        let _ = ldb.read(&mut buf);
        drop(ldb);
        drop(info);
    });
    let target = Target::parse(&format!("redis+unix://{}", path.display())).unwrap();
    let options = Options {
        mode: Mode::Forked,
        limits: Limits::default(),
        allow_blocking: false,
    };
    let result = ldb::record(&target, b"x", vec![], vec![], &options, &|| false);
    fake.join().unwrap();
    let error = format!("{:#}", result.err().expect("the server went away"));
    assert!(error.contains("closed the connection"), "{error}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn compare_reports_a_planted_difference_at_its_step() {
    let Some(mut real) = server() else { return };
    real.cmd(&["MSET", "a", "42", "b", "42"]);
    let recorded = record_on(&real, INC, &[], &[], Mode::Forked).unwrap();
    // A test double of the engine whose INCR decrements.
    let mut engine = Engine::default();
    let mut incr = *engine.command_table().get(b"decr").unwrap();
    incr.name = "incr";
    incr.full_name = "incr";
    engine.register(incr);
    let report = compare::against(&recorded, engine, Limits::default());
    let d = report.difference.expect("a difference");
    assert_eq!((d.step, d.line), (2, 1));
    assert_eq!(d.server, "line 1: INCR a → 43");
    assert_eq!(d.engine, "line 1: INCR a → 41");
    assert!(
        report
            .text
            .starts_with("first difference at step 2, line 1:"),
        "{}",
        report.text
    );
}

#[test]
fn lessons_reference_solutions_step_the_same_on_a_real_server() {
    let Some(mut real) = server() else { return };
    let mut compared = 0;
    for lesson in redstep::lessons::builtin() {
        let buffer = &lesson.buffers[lesson.checked];
        let Some(solution) = &buffer.solution else {
            continue;
        };
        if buffer.kind != redstep::lessons::Kind::Lua {
            continue;
        }
        for check in &lesson.checks {
            // Other clients need the embedded engine (LDB blocks them), and
            // their lessons read the clock (TIME) to run long.
            if !lesson.others.is_empty() || check.others.is_some() {
                continue;
            }
            real.cmd(&["FLUSHALL"]);
            real.cmd(&["SCRIPT", "FLUSH"]);
            real.cmd(&["FUNCTION", "FLUSH"]);
            for line in check.setup.as_ref().unwrap_or(&lesson.setup) {
                let argv = redstep::protocol::cli::split_args(line.as_bytes()).unwrap();
                if !argv.is_empty() {
                    real.call(&argv);
                }
            }
            let args = check.args.as_deref().unwrap_or(&lesson.args);
            let (keys, args) = redstep::protocol::cli::parse_keys_args(args).unwrap();
            let recorded = ldb::record(
                &Target::parse(&real.url()).unwrap(),
                solution.as_bytes(),
                keys,
                args,
                &Options {
                    mode: Mode::Forked,
                    limits: Limits::default(),
                    allow_blocking: false,
                },
                &|| false,
            )
            .unwrap();
            let report = compare::against_engine(&recorded, Limits::default());
            assert!(
                report.difference.is_none(),
                "{} / {}: {}",
                lesson.id,
                check.name,
                report.text
            );
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} checks compared");
}

#[test]
fn run_redis_and_compare_from_the_command_line() {
    let Some(mut real) = server() else { return };
    real.cmd(&["MSET", "a", "42", "b", "42"]);
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc.lua");
    std::fs::write(&inc, INC).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redstep"))
            .arg("run")
            .arg(&inc)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let url = real.url();
    let (code, out, _) = run(&["--redis", &url, "--trace"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with(
            "trace of EVAL (d0e480e1285ebff8a062967eb0fa7d2ada562d97) on redis 7.0.15 @ "
        ),
        "{out}"
    );
    let (code, out, _) = run(&["--compare", &url]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("identical on 4 steps: redis 7.0.15 @ "),
        "{out}"
    );
    let (code, _, err) = run(&["--redis", "redis://203.0.113.1:6379", "--ldb", "sync"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--ldb sync blocks 203.0.113.1:6379 for every client"),
        "{err}"
    );
    let (code, out, _) = run(&["--redis", &url, "--ldb", "sync"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("LDB sync: the writes stayed on the server"),
        "{out}"
    );
    assert_eq!(real.cmd(&["GET", "a"]), Reply::bulk("43"));
}

/// One command of the shared corpus: a list of strings, or `{"hex": ..}` /
/// `{"b64": ..}` for raw bytes; None for a step on another connection.
fn corpus_command(step: &serde_json::Value) -> Option<Vec<Vec<u8>>> {
    use base64::Engine as _;
    let arg = |a: &serde_json::Value| -> Vec<u8> {
        match a {
            serde_json::Value::String(s) => s.as_bytes().to_vec(),
            serde_json::Value::Object(o) => match (o.get("hex"), o.get("b64")) {
                (Some(h), _) => {
                    let h = h.as_str().unwrap();
                    (0..h.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                        .collect()
                }
                (_, Some(b)) => base64::engine::general_purpose::STANDARD
                    .decode(b.as_str().unwrap())
                    .unwrap(),
                _ => panic!("{a}"),
            },
            other => panic!("{other}"),
        }
    };
    match step {
        serde_json::Value::Array(args) => Some(args.iter().map(arg).collect()),
        _ => None,
    }
}

/// Corpus cases `--compare` cannot match, and why.
const NOT_COMPARABLE: &[(&str, &str)] = &[
    // LDB also stops at its count hook (every 100,000 Lua instructions)
    // while stepping: a long loop gets a few line steps the engine's
    // recorder has no reason to make.
    ("lua-lang-big-loop", "LDB's count hook adds stops"),
    ("lua-lang-recursion-fib", "LDB's count hook adds stops"),
    // --compare copies the keys a script names; DBSIZE counts the others.
    ("lua-script-dbsize", "reads the whole keyspace"),
];

#[test]
fn the_conformance_corpus_lua_cases_step_the_same_on_a_real_server() {
    let Some(mut real) = server() else { return };
    let path = format!(
        "{}/tests/golden/conformance-cases.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let target = Target::parse(&real.url()).unwrap();
    let options = Options {
        mode: Mode::Forked,
        limits: Limits::default(),
        allow_blocking: false,
    };
    let (mut compared, mut differences) = (0, Vec::new());
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let steps: Option<Vec<_>> = case["cmds"]
            .as_array()
            .unwrap()
            .iter()
            .map(corpus_command)
            .collect();
        let Some(steps) = steps else { continue };
        if NOT_COMPARABLE.iter().any(|(id, _)| case["id"] == *id) {
            continue;
        }
        if !steps.iter().any(|s| s[0].eq_ignore_ascii_case(b"eval")) {
            continue;
        }
        for cmd in [
            &["FLUSHALL"][..],
            &["SCRIPT", "FLUSH"],
            &["FUNCTION", "FLUSH"],
        ] {
            real.cmd(cmd);
        }
        for argv in &steps {
            if argv[0].eq_ignore_ascii_case(b"eval") {
                let recorded = ldb::record_argv(&target, argv, &options, &|| false).unwrap();
                let report = compare::against_engine(&recorded, Limits::default());
                compared += 1;
                if report.difference.is_some() {
                    differences.push(format!("{}: {}", case["id"], report.text));
                }
            }
            real.call(argv);
        }
    }
    eprintln!("compared {compared} EVALs; {} differ", differences.len());
    for d in &differences {
        eprintln!("{d}");
    }
    assert!(differences.is_empty());
    assert!(compared >= 290, "only {compared} EVALs compared");
}
