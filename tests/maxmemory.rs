//! `maxmemory` (the refusals themselves are golden cases, `*-oom-*` in
//! tests/golden/make_cases.py): INFO memory's figures, and the debugger's
//! view of a script whose first write is refused.

mod env;
mod real;

use env::Env;
use real::Real;
use redstep::engine::Reply;
use redstep::trace::Status;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn text(reply: Reply) -> String {
    match reply {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// INFO memory's `maxmemory` and `maxmemory_human` lines.
fn maxmemory_lines(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| l.starts_with("maxmemory"))
        .map(str::to_string)
        .collect()
}

/// What Redis 7.0.15 answered for these values (bytesToHuman; recorded on
/// the Debian build); checked again against a real server when one can
/// be started.
const VALUES: &[(&str, &str, &str)] = &[
    ("0", "0", "0B"),
    ("1", "1", "1B"),
    ("1023", "1023", "1023B"),
    ("1152", "1152", "1.12K"),
    ("10mb", "10485760", "10.00M"),
    ("3gb", "3221225472", "3.00G"),
    ("5497558138880", "5497558138880", "5.00T"),
    ("2251799813685248", "2251799813685248", "2.00P"),
];

#[test]
fn info_memory_reports_the_configured_maxmemory() {
    let mut env = Env::new();
    let mut real = Real::start();
    for (value, bytes, human) in VALUES {
        assert_eq!(
            env.run(&format!("CONFIG SET maxmemory {value}")),
            Reply::ok()
        );
        let ours = maxmemory_lines(&text(env.run("INFO memory")));
        let want = vec![
            format!("maxmemory:{bytes}"),
            format!("maxmemory_human:{human}"),
            "maxmemory_policy:noeviction".to_string(),
        ];
        assert_eq!(ours, want, "maxmemory {value}");
        if let Some(real) = real.as_mut() {
            real.cmd(&["CONFIG", "SET", "maxmemory", value]);
            let theirs = maxmemory_lines(&text(real.cmd(&["INFO", "memory"])));
            assert_eq!(ours, theirs, "maxmemory {value}");
        }
    }
    if let Some(real) = real.as_mut() {
        real.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    }
}

/// The check reads the figure INFO reports as `used_memory`: just above
/// it nothing is refused, far below it a write is.
#[test]
fn the_check_reads_info_s_used_memory() {
    let mut env = Env::new();
    let info = text(env.run("INFO memory"));
    let used: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(used > 0, "{info}");
    // Room for what the process may grow by meanwhile.
    env.run(&format!("CONFIG SET maxmemory {}", used + (64 << 20)));
    assert_eq!(env.run("SET a 1"), Reply::ok());
    env.run(&format!("CONFIG SET maxmemory {}", used / 2));
    assert_eq!(env.run("SET a 2"), Reply::error(OOM));
    env.run("CONFIG SET maxmemory 0");
    assert_eq!(env.run("SET a 3"), Reply::ok());
}

/// A compat-mode script's first deny-oom write is refused like any
/// `redis.call` error: the debugger shows it at its line, the writes
/// before it (not deny-oom) stay, nothing is rolled back.
#[test]
fn the_debugger_shows_a_refused_first_write() {
    let mut env = Env::new();
    env.run("SET x 5");
    env.run("RPUSH l a");
    env.run("CONFIG SET maxmemory 1");
    let kinds = env::step_kinds;
    // The same shape as a command's own error (WRONGTYPE): the call with
    // its error reply, then the script's error at that line.
    let wrongtype = env.eval("local v = redis.call('GET', 'x')\nredis.call('GET', 'l')\nreturn v");
    let timeline =
        env.eval("local v = redis.call('GET', 'x')\nredis.call('SET', 'y', v)\nreturn v");
    assert!(wrongtype.outcome.reply.is_error());
    assert!(!timeline
        .outcome
        .reply
        .error_text()
        .unwrap()
        .contains("WRONGTYPE"));
    assert!(wrongtype
        .outcome
        .reply
        .error_text()
        .unwrap()
        .starts_with("WRONGTYPE"));
    assert_eq!(kinds(&timeline), kinds(&wrongtype));
    assert_eq!(
        kinds(&timeline),
        vec![
            (1, "line"),
            (1, "call"),
            (2, "line"),
            (2, "call"),
            (2, "error")
        ]
    );
    assert_eq!(timeline.outcome.status, Status::Error);
    assert_eq!(timeline.outcome.error_line, Some(2));
    assert_eq!(
        timeline.outcome.reply,
        Reply::error(format!(
            "{OOM} script: {}, on @user_script:2.",
            timeline.name
        ))
    );
    // Once the script has written (DEL is a write, not deny-oom), later
    // writes are never refused: a script does not stop halfway.
    let timeline = env.eval(
        "redis.call('DEL', 'nokey')\nredis.call('SET', 'y', '1')\nreturn redis.call('INCR', 'n')",
    );
    assert_eq!(timeline.outcome.status, Status::Ok);
    assert_eq!(timeline.outcome.reply, Reply::Int(1));
    assert_eq!(timeline.outcome.writes_applied, 2);
    // A script with a shebang and no `allow-oom` is refused before it runs.
    let timeline = env.eval("#!lua\nreturn redis.call('GET', 'x')");
    assert_eq!(timeline.outcome.reply, Reply::error(OOM));
    let timeline = env.eval("#!lua flags=allow-oom\nreturn redis.call('SET', 'x', '3')");
    assert_eq!(timeline.outcome.reply, Reply::ok());
    env.run("CONFIG SET maxmemory 0");
}
