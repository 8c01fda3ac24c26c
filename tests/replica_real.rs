//! What replicas and the AOF receive (issue #23), against a real primary
//! and an AOF-enabled replica: this test starts two `redis-server` on free
//! loopback ports (the replica with `--appendonly yes`), runs scripts on the
//! primary, and parses the replica's AOF: between two marker writes, each
//! script's part must be exactly what redstep's trace recorded for the same
//! script on the same keys (`Timeline::replica`). Then `--redis --ldb sync`
//! on the primary reads the replica back after the run. It skips, saying
//! so, where redis-server is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redstep::engine::{Engine, Reply};
use redstep::protocol::resp::parse_reply;
use redstep::remote::{Conn, Target};
use redstep::script::{ScriptConfig, Scripting};
use redstep::trace::{record, Limits};

struct Servers {
    children: Vec<Child>,
    dir: PathBuf,
    primary: u16,
    replica: u16,
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn target(port: u16) -> Target {
    Target::parse(&format!("redis://127.0.0.1:{port}")).unwrap()
}

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|w| w.as_bytes().to_vec()).collect()
}

fn info(conn: &mut Conn, section: &str) -> String {
    match conn.cmd(&[b"INFO", section.as_bytes()]).unwrap() {
        Reply::Bulk(b) => String::from_utf8(b).unwrap(),
        other => panic!("INFO answered {other:?}"),
    }
}

/// Two free ports in 6700-6798.
fn free_ports() -> (u16, u16) {
    let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
    let base = (6700..6798)
        .step_by(2)
        .find(|&p| free(p) && free(p + 1))
        .expect("two free ports in 6700-6799");
    (base, base + 1)
}

fn start() -> Option<Servers> {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        return None;
    }
    let (primary, replica) = free_ports();
    let dir = std::env::temp_dir().join(format!("redstep-replica-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut servers = Servers {
        children: Vec::new(),
        dir: dir.clone(),
        primary,
        replica,
    };
    let primary_port = primary.to_string();
    for (port, extra) in [
        // The full sync starts at once (the default waits 5 s for more
        // replicas to share a diskless transfer).
        (
            primary,
            vec!["--appendonly", "no", "--repl-diskless-sync-delay", "0"],
        ),
        (
            replica,
            vec![
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--replicaof",
                "127.0.0.1",
                &primary_port,
            ],
        ),
    ] {
        let node = dir.join(port.to_string());
        std::fs::create_dir_all(&node).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(extra)
            .arg("--dir")
            .arg(&node)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        servers.children.push(child);
    }
    // The replica is ready when it is linked and the AOF rewrite its full
    // sync starts is over (the incr file's name is settled then).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        if let Ok(c) = Conn::open(&target(replica)) {
            break c;
        }
        assert!(Instant::now() < deadline, "the replica did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    loop {
        // One INFO, so its sections agree: linked, loaded, and the AOF
        // rewrite the full sync starts has run (aof_rewrites counts it).
        let all = info(&mut conn, "all");
        let rewrites = all
            .lines()
            .find_map(|l| l.strip_prefix("aof_rewrites:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if all.contains("master_link_status:up")
            && all.contains("master_sync_in_progress:0")
            && all.contains("loading:0")
            && all.contains("aof_rewrite_in_progress:0")
            && all.contains("aof_rewrite_scheduled:0")
            && rewrites >= 1
            && incr_file(&dir.join(replica.to_string())).is_some()
        {
            break;
        }
        let repl = all;
        assert!(
            Instant::now() < deadline,
            "the replica never synced: {repl}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(servers)
}

/// The replica's current incremental AOF, from the 7.0 manifest.
fn incr_file(dir: &Path) -> Option<PathBuf> {
    let aof = dir.join("appendonlydir");
    let manifest = std::fs::read_to_string(aof.join("appendonly.aof.manifest")).ok()?;
    manifest
        .lines()
        .rev()
        .filter(|l| l.ends_with("type i"))
        .find_map(|l| l.split(' ').nth(1))
        .map(|name| aof.join(name))
}

/// The commands of an AOF file, in order.
fn parse_aof(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut commands = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (reply, used) = parse_reply(&bytes[at..])
            .unwrap()
            .expect("the AOF ends with a whole command");
        let Reply::Array(items) = reply else {
            panic!("an AOF command is an array: {reply:?}")
        };
        commands.push(
            items
                .into_iter()
                .map(|i| match i {
                    Reply::Bulk(b) => b,
                    other => panic!("an AOF argument is a bulk string: {other:?}"),
                })
                .collect(),
        );
        at += used;
    }
    commands
}

fn text(commands: &[Vec<Vec<u8>>]) -> Vec<String> {
    commands
        .iter()
        .map(|c| {
            c.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

struct Case {
    name: &'static str,
    setup: &'static [&'static [&'static str]],
    body: &'static str,
    keys: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "the post's inc.lua: INCR a, then a Lua error",
        setup: &[&["SET", "a", "42"], &["SET", "b", "42"]],
        body: include_str!("../assets/post/inc.lua"),
        keys: &[],
    },
    Case {
        name: "two writes",
        setup: &[&["SET", "a", "1"]],
        body: "redis.call('INCR', 'a')\nredis.call('INCR', 'b')\nreturn 1",
        keys: &[],
    },
    Case {
        name: "a write, then error_reply",
        setup: &[],
        body: "redis.call('SET', 'c', '1')\nreturn redis.error_reply('x')",
        keys: &[],
    },
    Case {
        name: "read-only",
        setup: &[&["SET", "a", "1"]],
        body: "return redis.call('GET', 'a')",
        keys: &[],
    },
    Case {
        name: "rewrites: INCRBYFLOAT as SET KEEPTTL, a redis.call error after it",
        setup: &[&["SET", "price", "2.5"]],
        body: "redis.call('INCRBYFLOAT', KEYS[1], '1.25')\nredis.call('HSET', KEYS[2], 'f', 'v')\nreturn redis.call('INCR', KEYS[2])",
        keys: &["price", "h"],
    },
    Case {
        name: "another database, then back",
        setup: &[],
        body: "redis.call('SELECT', 1)\nredis.call('SET', 'k', 'in 1')\nredis.call('SELECT', 0)\nredis.call('SET', 'k', 'in 0')\nreturn 1",
        keys: &[],
    },
    Case {
        name: "redis.set_repl(REPL_NONE) keeps a write from replicas",
        setup: &[],
        body: "redis.set_repl(redis.REPL_NONE)\nredis.call('SET', 'hidden', '1')\nredis.set_repl(redis.REPL_ALL)\nredis.call('SET', 'shown', '1')\nreturn 1",
        keys: &[],
    },
    Case {
        name: "REPL_NONE: an SPOP that empties the set (its DEL rewrite is muted too)",
        setup: &[&["SADD", "s", "a"]],
        body: "redis.set_repl(redis.REPL_NONE)\nredis.call('SPOP', KEYS[1], 5)\nredis.set_repl(redis.REPL_ALL)\nredis.call('SET', KEYS[2], '1')\nreturn 1",
        keys: &["s", "x"],
    },
];

fn eval(case: &Case) -> Vec<Vec<u8>> {
    let mut argv = vec![
        b"EVAL".to_vec(),
        case.body.as_bytes().to_vec(),
        case.keys.len().to_string().into_bytes(),
    ];
    argv.extend(case.keys.iter().map(|k| k.as_bytes().to_vec()));
    argv
}

/// What redstep's trace says replicas receive for `case`.
fn predicted(case: &Case) -> Vec<Vec<Vec<u8>>> {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    for command in case.setup {
        engine.call(&mut client, &words(command), &mut scripting);
    }
    let timeline = record(
        &mut engine,
        &mut scripting,
        &mut client,
        &eval(case),
        Limits::default(),
    );
    assert_eq!(timeline.replica_more, 0);
    timeline.replica
}

/// One pair of servers for both parts (tests side by side would race for
/// the same free ports).
#[test]
fn a_primary_and_its_aof_replica() {
    let Some(servers) = start() else {
        eprintln!("SKIPPED: redis-server is not installed (.ci/run installs it)");
        return;
    };
    the_replicas_aof_holds_what_the_trace_recorded(&servers);
    a_sync_run_on_the_primary_reads_the_replica_back(&servers);
    the_debugger_shows_the_replica(&servers);
}

fn the_replicas_aof_holds_what_the_trace_recorded(servers: &Servers) {
    let mut primary = Conn::open(&target(servers.primary)).unwrap();
    for (i, case) in CASES.iter().enumerate() {
        primary.call(&words(&["FLUSHALL"])).unwrap();
        for command in case.setup {
            primary.call(&words(command)).unwrap();
        }
        primary
            .call(&words(&["SET", &format!("mark:{i}:before"), "1"]))
            .unwrap();
        primary.call(&eval(case)).unwrap();
        primary
            .call(&words(&["SET", &format!("mark:{i}:after"), "1"]))
            .unwrap();
    }
    let last = format!("mark:{}:after", CASES.len() - 1);
    // The replica acknowledges the stream, then its AOF holds the last mark.
    assert_eq!(
        primary.call(&words(&["WAIT", "1", "10000"])).unwrap(),
        Reply::Int(1)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let aof = loop {
        // The manifest is read again each time: an AOF rewrite would name
        // another incr file (none is due: they start at 64 MB).
        let file = incr_file(&servers.dir.join(servers.replica.to_string())).unwrap();
        let aof = parse_aof(&std::fs::read(&file).unwrap());
        if aof
            .iter()
            .any(|c| c.get(1) == Some(&last.as_bytes().to_vec()))
        {
            break aof;
        }
        assert!(
            Instant::now() < deadline,
            "the replica's AOF never got {last}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mark = |name: String| {
        aof.iter()
            .position(|c| {
                c.first().map(|w| w.as_slice()) == Some(b"SET")
                    && c.get(1) == Some(&name.clone().into_bytes())
            })
            .unwrap_or_else(|| panic!("{name} is not in the AOF: {:?}", text(&aof)))
    };
    let mut failures = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let (from, to) = (
            mark(format!("mark:{i}:before")),
            mark(format!("mark:{i}:after")),
        );
        let mut part = aof[from + 1..to].to_vec();
        // The after mark is written in database 0: a script that left
        // another one selected has the AOF select 0 again before it.
        if part.last().map(|c| text(std::slice::from_ref(c))) == Some(vec!["SELECT 0".into()]) {
            part.pop();
        }
        let want = predicted(case);
        if part != want {
            failures.push(format!(
                "{}:\n   the replica's AOF {:?}\n   redstep's trace   {:?}",
                case.name,
                text(&part),
                text(&want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The four facts, as the AOF holds them.
    let part = |i: usize| {
        text(&aof[mark(format!("mark:{i}:before")) + 1..mark(format!("mark:{i}:after"))])
    };
    assert_eq!(part(0), ["INCR a"]);
    assert_eq!(part(1), ["MULTI", "INCR a", "INCR b", "EXEC"]);
    assert_eq!(part(2), ["SET c 1"]);
    assert!(part(3).is_empty());
}

fn a_sync_run_on_the_primary_reads_the_replica_back(servers: &Servers) {
    let mut primary = Conn::open(&target(servers.primary)).unwrap();
    primary
        .call(&words(&["MSET", "a", "42", "b", "42"]))
        .unwrap();
    let dir = servers.dir.join("scripts");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("inc.lua");
    std::fs::write(&script, include_str!("../assets/post/inc.lua")).unwrap();
    let run = |ldb: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
            .args([
                "run",
                "--redis",
                &format!("redis://127.0.0.1:{}", servers.primary),
            ])
            .args(["--ldb", ldb])
            .arg(&script)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let out = run("sync");
    assert!(
        out.contains(&format!(
            "Replica 127.0.0.1:{} holds what the run left on the primary: a = \"43\".",
            servers.replica
        )),
        "{out}"
    );
    let mut replica = Conn::open(&target(servers.replica)).unwrap();
    assert_eq!(
        replica.call(&words(&["GET", "a"])).unwrap(),
        Reply::Bulk(b"43".to_vec())
    );
    // A forked session sends replicas nothing, and says so.
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args([
            "run",
            "--redis",
            &format!("redis://127.0.0.1:{}", servers.primary),
        ])
        .arg(&script)
        .arg("--trace")
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains(&format!(
            "Note: its replicas (127.0.0.1:{}) received nothing",
            servers.replica
        )),
        "{out}"
    );
    assert_eq!(
        replica.call(&words(&["GET", "a"])).unwrap(),
        Reply::Bulk(b"43".to_vec())
    );
}

/// The debugger's view of a sync run: the replica's keys in the replica
/// view, not twice in the summary.
fn the_debugger_shows_the_replica(servers: &Servers) {
    use redstep::remote::ldb::{record_argv, Mode, Options};
    use redstep::trace::{Debugger, Move, Session, Start};
    let mut primary = Conn::open(&target(servers.primary)).unwrap();
    primary
        .call(&words(&["MSET", "a", "42", "b", "42"]))
        .unwrap();
    let options = Options {
        mode: Mode::Sync,
        limits: Limits::default(),
        allow_blocking: false,
    };
    let argv = words(&["EVAL", include_str!("../assets/post/inc.lua"), "0"]);
    let run = record_argv(&target(servers.primary), &argv, &options, &|| false).unwrap();
    let debugger = Debugger::new(run.timeline, &run.mirror.keyspace);
    let session = Session::new(debugger, &Start::new(Move::End, Default::default()));
    // What the run sent (the mirror's replay), then what the replica holds.
    let (heading, lines) = session.replica().unwrap();
    assert_eq!(heading, "Replicas and the AOF received:");
    assert_eq!(
        lines,
        [
            "INCR a".to_string(),
            format!("127.0.0.1:{} holds:", servers.replica),
            "  a = \"43\"  as on the primary".to_string()
        ]
    );
    assert!(
        !session.summary().iter().any(|l| l.starts_with("Replica ")),
        "{:?}",
        session.summary()
    );
}
