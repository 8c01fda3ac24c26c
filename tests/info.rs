//! INFO as clients read it: every section Redis 7.0.15 has, in its order,
//! for each way of asking; errorstats and commandstats counting what Redis
//! counts (timings aside), compared with a real redis-server.

mod env;
mod real;

use env::Env;
use real::Real;
use redstep::engine::Reply;

fn text(reply: Reply) -> String {
    match reply {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn headers(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.trim().to_string())
        .collect()
}

/// A section's lines with the figures that are timings removed.
fn counted(info: &str) -> Vec<String> {
    let mut lines: Vec<String> = info
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.split(',')
                .filter(|f| !f.starts_with("usec"))
                .map(|f| f.strip_prefix(|c: char| c == ',').unwrap_or(f))
                .collect::<Vec<_>>()
                .join(",")
        })
        .map(|l| match l.split_once(":calls=") {
            Some((name, rest)) => format!("{name}:calls={rest}"),
            None => l,
        })
        .collect();
    lines.sort();
    lines
}

const SEQUENCE: &[&str] = &[
    "SET a 1",
    "GET a",
    "INCR nope x",
    "LPUSH a x",
    "NOSUCHCOMMAND",
    "HGET a f",
    "GET a",
];

#[test]
fn info_sections_and_counters_are_redis_s() {
    let Some(mut real) = Real::start() else {
        return;
    };
    let mut env = Env::new();
    for (i, line) in SEQUENCE.iter().enumerate() {
        let words: Vec<&str> = line.split(' ').collect();
        let theirs = real.cmd(&words);
        let ours = env.run(line);
        assert_eq!(ours, theirs, "step {i}: {line}");
    }
    for ask in [
        &[][..],
        &["all"],
        &["everything"],
        &["default"],
        &["server", "clients"],
        &["cluster"],
        &["CLUSTER", "keyspace"],
        &["nosuch"],
        &["commandstats"],
        &["errorstats"],
    ] {
        let mut words = vec!["INFO"];
        words.extend(ask);
        let theirs = text(real.cmd(&words));
        let ours = text(env.run(&words.join(" ")));
        assert_eq!(headers(&ours), headers(&theirs), "INFO {ask:?}");
    }
    let ours = text(env.run("INFO errorstats"));
    let theirs = text(real.cmd(&["INFO", "errorstats"]));
    assert_eq!(counted(&ours), counted(&theirs));
    let ours = text(env.run("INFO cluster"));
    assert_eq!(ours, "# Cluster\r\ncluster_enabled:0\r\n");
    // The commands of the sequence, counted alike (INFO itself is left out:
    // the two sides asked it a different number of times above).
    let keep = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| {
                !l.starts_with("cmdstat_info")
                    && !l.starts_with("cmdstat_flushall")
                    && !l.starts_with("cmdstat_config")
            })
            .collect()
    };
    let ours = keep(counted(&text(env.run("INFO commandstats"))));
    let theirs = keep(counted(&text(real.cmd(&["INFO", "commandstats"]))));
    assert_eq!(ours, theirs);
}

/// One field of a commandstats line (`usec`, `calls`, ...).
fn stat(info: &str, command: &str, field: &str) -> f64 {
    let line = info
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:")))
        .unwrap_or_else(|| panic!("no {command} in {info}"));
    line.split(',')
        .find_map(|f| f.strip_prefix(&format!("{field}=")))
        .unwrap_or_else(|| panic!("no {field} in {line}"))
        .parse()
        .unwrap()
}

/// A command's time is counted in whole microseconds, as Redis's `call()`
/// takes the difference of two `ustime()` readings: calls shorter than a
/// microsecond each add up to their time (one whenever a call crosses into
/// the next microsecond), not to nothing. Redis 7.0.15 after this script:
/// `cmdstat_incr:calls=100000,usec=6622,usec_per_call=0.07` beside
/// `cmdstat_eval:…usec=25942`; a count that truncated each call's
/// nanoseconds said `usec=142,usec_per_call=0.00`.
#[test]
fn calls_shorter_than_a_microsecond_add_up_to_their_time() {
    let mut env = Env::new();
    env.run("EVAL \"for i = 1, 100000 do redis.call('INCR', KEYS[1]) end\" 1 c");
    let info = text(env.run("INFO commandstats"));
    let (incr, eval) = (stat(&info, "incr", "usec"), stat(&info, "eval", "usec"));
    assert_eq!(stat(&info, "incr", "calls"), 100000.0);
    // The calls' own time is a good part of the script's (a fifth to a
    // half in Redis), and never more.
    assert!(incr * 20.0 >= eval && incr <= eval, "{info}");
    assert!(stat(&info, "incr", "usec_per_call") > 0.0, "{info}");
}
