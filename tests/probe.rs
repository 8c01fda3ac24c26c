//! `redstep probe`: the partial-write finder, through the library and the
//! built binary (its reproduce commands are run as printed).

use std::process::Command;

use redstep::probe::{probe, Change, KeyState, Options, Report, Target};
use redstep::protocol::cli::setup_commands;

const INC: &str = include_str!("../assets/post/inc.lua");
const TWO: &str = "redis.call('INCR', KEYS[1])\nredis.call('HSET', KEYS[2], 'f', 'v')\nreturn 1\n";
/// The same, checking the second key's type before writing anything.
const VALIDATED: &str = "local t = redis.call('TYPE', KEYS[2]).ok\n\
    if t ~= 'hash' and t ~= 'none' then return redis.error_reply('KEYS[2] is not a hash') end\n\
    if tonumber(redis.call('GET', KEYS[1]) or '0') == nil then return redis.error_reply('KEYS[1] is not a number') end\n\
    redis.call('INCR', KEYS[1])\nredis.call('HSET', KEYS[2], 'f', 'v')\nreturn 1\n";

fn target(name: &str, body: &str, keys: &[&str], setup: &[&str]) -> Target {
    Target {
        name: name.into(),
        body: body.as_bytes().to_vec(),
        keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
        args: Vec::new(),
        setup: setup_commands(&setup.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
    }
}

fn run(t: &Target, seed: u64) -> Report {
    probe(t, Options { budget: 500, seed })
}

#[test]
fn the_posts_inc_lua_has_one_partial_write_whatever_the_input() {
    let report = run(&target("inc.lua", INC, &[], &["SET a 42", "SET b 42"]), 1);
    assert_eq!(report.partial.len(), 1, "{}", report.text());
    let (finding, kept) = &report.partial[0];
    assert_eq!(finding.error_line, Some(2));
    assert!(finding
        .error
        .contains("nonexistent global variable 'result'"));
    assert_eq!(finding.writes.len(), 1);
    assert_eq!(finding.writes[0].line, 1);
    assert_eq!(finding.writes[0].command, "INCR a");
    assert!(
        finding.variation.is_empty(),
        "it fails as given: {:?}",
        finding.variation
    );
    assert_eq!(kept[0].key, "a");
    assert_eq!(
        (kept[0].before.as_str(), kept[0].after.as_str()),
        ("\"42\"", "\"43\"")
    );
    assert!(report.found());
}

#[test]
fn a_write_then_a_wrong_type_is_one_finding_shrunk_to_one_keys_type() {
    let report = run(&target("two.lua", TWO, &["k1", "k2"], &[]), 1);
    let wrongtype: Vec<_> = report
        .partial
        .iter()
        .filter(|(f, _)| f.error.contains("WRONGTYPE"))
        .collect();
    assert_eq!(wrongtype.len(), 1, "{}", report.text());
    let (finding, _) = wrongtype[0];
    assert_eq!(finding.error_line, Some(2));
    assert_eq!(
        finding.variation.len(),
        1,
        "shrunk: {:?}",
        finding.variation
    );
    assert!(matches!(&finding.variation[0], Change::Key(k, _) if k == b"k2"));
    for state in [
        KeyState::Integer,
        KeyState::List,
        KeyState::Set,
        KeyState::Zset,
    ] {
        assert!(
            finding
                .singles
                .contains(&Change::Key(b"k2".to_vec(), state)),
            "{state:?}"
        );
    }
    let sentence = report.sentence(&finding.variation);
    assert!(
        sentence.starts_with("when KEYS[2] (k2) holds an integer")
            && sentence.contains("a list")
            && sentence.contains("a sorted set"),
        "{sentence}"
    );
    // A hash is what the script expects: not among the failures.
    assert!(!finding
        .singles
        .contains(&Change::Key(b"k2".to_vec(), KeyState::Hash)));
}

#[test]
fn validating_first_leaves_no_partial_write_and_early_errors_are_notes() {
    let report = run(&target("validated.lua", VALIDATED, &["k1", "k2"], &[]), 1);
    let partial: Vec<_> = report
        .partial
        .iter()
        .filter(|(f, _)| !f.variation.contains(&Change::FewerKeys))
        .collect();
    assert!(partial.is_empty(), "{}", report.text());
    assert!(report
        .early
        .iter()
        .any(|f| f.error.contains("KEYS[2] is not a hash")));

    let early_only = "local n = tonumber(ARGV[1])\nif not n then return redis.error_reply('not a number') end\nredis.call('SET', KEYS[1], n)\nreturn n\n";
    let mut t = target("early.lua", early_only, &["k"], &[]);
    t.args = vec![b"5".to_vec()];
    let report = run(&t, 1);
    assert!(report.partial.is_empty(), "{}", report.text());
    assert!(!report.found());
    let notes: Vec<_> = report
        .early
        .iter()
        .filter(|f| f.error.contains("not a number"))
        .collect();
    assert_eq!(notes.len(), 1, "one early-error note: {}", report.text());
}

#[test]
fn the_same_seed_gives_byte_identical_json() {
    let t = target("two.lua", TWO, &["k1", "k2"], &["SET k1 5"]);
    let a = serde_json::to_string(&run(&t, 7).json()).unwrap();
    let b = serde_json::to_string(&run(&t, 7).json()).unwrap();
    assert_eq!(a, b);
    assert!(a.contains("\"partial_writes\""));
}

#[test]
fn each_reproduce_command_shows_the_same_partial_write() {
    let dir = std::env::temp_dir().join(format!("redstep-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("two.lua"), TWO).unwrap();
    let bin = env!("CARGO_BIN_EXE_redstep");
    let out = Command::new(bin)
        .current_dir(&dir)
        .args(["probe", "two.lua", "k1", "k2", "--budget", "300"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a partial write found: exit 1");
    let text = String::from_utf8(out.stdout).unwrap();
    let commands: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("reproduce: "))
        .collect();
    assert!(!commands.is_empty(), "{text}");
    for command in commands {
        let shown = Command::new("sh")
            .current_dir(&dir)
            .arg("-c")
            .arg(command.replacen("redstep", bin, 1))
            .output()
            .unwrap();
        let shown = String::from_utf8(shown.stdout).unwrap();
        assert!(
            shown.contains("The script failed at line 2 after 1 write")
                && shown.contains("k1 went from"),
            "{command}:\n{shown}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
