//! Cluster mode (`--cluster`, issue #23) without a server: the replies a
//! real 3-master Redis 7.0.15 cluster's node 1 gave (`tests/golden/
//! cluster.golden.jsonl`, recorded by `record_cluster.py`) replayed against
//! an engine in cluster mode; the trace of a script that dies after its
//! write; and a standalone engine left as it was.

use redstep::engine::{Engine, ManualClock, Reply};
use redstep::script::{ScriptConfig, Scripting};
use serde_json::{json, Value};

mod canonical;
use canonical::to_json;

fn sorted(reply: Value, unordered: bool) -> Value {
    match reply.get("v").and_then(|v| v.as_array()) {
        Some(items) if unordered && reply["t"] == "array" => {
            let mut items = items.clone();
            items.sort_by_key(|v| serde_json::to_string(v).unwrap());
            json!({"t": "array", "v": items})
        }
        _ => reply,
    }
}

/// An engine in cluster mode whose node 1 listens where the recording's did.
fn cluster_engine(port: u16) -> (Engine, Scripting) {
    let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
    engine.config.port = port;
    engine.enable_cluster(3).unwrap();
    let scripting = Scripting::new(&mut engine, ScriptConfig::default());
    (engine, scripting)
}

fn words(cmd: &Value) -> Vec<Vec<u8>> {
    cmd.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().as_bytes().to_vec())
        .collect()
}

#[test]
fn cluster_cases_match_a_real_cluster_node() {
    let path = format!(
        "{}/tests/golden/cluster.golden.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut failures = Vec::new();
    let mut ran = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let (mut engine, mut scripting) =
            cluster_engine(case["base_port"].as_u64().unwrap() as u16);
        let id = engine.connect();
        for (i, (step, expected)) in case["cmds"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["replies"].as_array().unwrap())
            .enumerate()
        {
            let (cmd, unordered) = match step {
                Value::Array(_) => (step, false),
                _ => (&step["cmd"], step["unordered"] == true),
            };
            let reply = engine
                .execute_with(id, &words(cmd), &mut scripting)
                .expect("no command here blocks");
            ran += 1;
            let got = sorted(to_json(&reply), unordered);
            let expected = sorted(expected.clone(), unordered);
            if got != expected {
                failures.push(format!(
                    "{} cmd#{i} {cmd}\n   expected {expected}\n   got      {got}",
                    case["id"].as_str().unwrap()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches against a Redis 7.0.15 cluster node:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(ran >= 150, "only {ran} commands ran");
}

/// The script in the debugger's terms: the write is a step, the
/// refused call the next, and the failure names line 3.
#[test]
fn a_shebang_script_dies_after_its_write_at_the_call_that_left_the_slot() {
    let input = redstep::run::RunInput {
        body: b"#!lua\nredis.call('set',KEYS[1],'1')\nredis.call('set','f','2')\nreturn 1\n"
            .to_vec(),
        keys: vec![b"b".to_vec()],
        args: Vec::new(),
        setup: Vec::new(),
        raw: false,
        trace: Some(redstep::run::TraceFormat::Text),
        limits: redstep::trace::Limits::default(),
        server: None,
        lane: Vec::new(),
        cluster: Some(3),
        file: None,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    redstep::run::run(input, &mut out, &mut err).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("set b 1 → OK"),
        "the write is a step of its own:\n{out}"
    );
    assert!(
        out.contains("set f 2 → (error) ERR Script attempted to access keys that do not hash to the same slot\n"),
        "the refused call is a step:\n{out}"
    );
    assert!(
        out.contains("on @user_script:3.") && out.contains("failed at line 3 after 1 write"),
        "{out}"
    );
    assert!(
        out.contains("  The cluster refused step 4, set f 2: f (slot 3168) is outside slot 3300, the slot of its first declared key b."),
        "the outcome names the step that broke the rule:\n{out}"
    );
}

#[test]
fn without_cluster_mode_the_engine_stays_standalone() {
    let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let id = engine.connect();
    let mut run = |words: &[&str]| {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        engine.execute_with(id, &argv, &mut scripting).unwrap()
    };
    for sub in [
        vec!["CLUSTER", "KEYSLOT", "a"],
        vec!["CLUSTER", "INFO"],
        vec!["CLUSTER", "SLOTS"],
    ] {
        assert_eq!(
            run(&sub),
            Reply::error("ERR This instance has cluster support disabled")
        );
    }
    assert_eq!(run(&["MGET", "a", "b"]), Reply::Array(vec![Reply::Nil; 2]));
    assert_eq!(run(&["SELECT", "1"]), Reply::ok());
    assert_eq!(
        run(&[
            "EVAL",
            "#!lua flags=no-cluster\nreturn redis.call('get','c')",
            "2",
            "a",
            "b"
        ]),
        Reply::Nil
    );
    let info = run(&["INFO", "cluster"]);
    assert_eq!(info, Reply::bulk("# Cluster\r\ncluster_enabled:0\r\n"));
}

/// CLUSTER SLOTS, SHARDS, NODES and MYID describe the same nodes, at the
/// engine's port and the next ones.
#[test]
fn cluster_topology_replies_agree() {
    let (mut engine, mut scripting) = cluster_engine(7000);
    let id = engine.connect();
    let mut run = |words: &[&str]| {
        let argv: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        engine.execute_with(id, &argv, &mut scripting).unwrap()
    };
    let Reply::Bulk(myid) = run(&["CLUSTER", "MYID"]) else {
        panic!("MYID is a bulk string")
    };
    assert_eq!(myid.len(), 40);
    let Reply::Array(slots) = run(&["CLUSTER", "SLOTS"]) else {
        panic!()
    };
    let ranges: Vec<(Reply, Reply, Reply)> = slots
        .iter()
        .map(|r| match r {
            Reply::Array(v) => match &v[2] {
                Reply::Array(node) => (v[0].clone(), v[1].clone(), node[1].clone()),
                _ => panic!(),
            },
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        ranges,
        vec![
            (Reply::Int(0), Reply::Int(5460), Reply::Int(7000)),
            (Reply::Int(5461), Reply::Int(10922), Reply::Int(7001)),
            (Reply::Int(10923), Reply::Int(16383), Reply::Int(7002)),
        ]
    );
    let Reply::Bulk(nodes) = run(&["CLUSTER", "NODES"]) else {
        panic!()
    };
    let nodes = String::from_utf8(nodes).unwrap();
    let first = nodes.lines().next().unwrap();
    assert!(first.starts_with(std::str::from_utf8(&myid).unwrap()));
    assert!(first.contains(" 127.0.0.1:7000@17000 myself,master - ") && first.ends_with(" 0-5460"));
    assert_eq!(nodes.lines().count(), 3);
    assert_eq!(
        run(&["GET", "a"]),
        Reply::error("MOVED 15495 127.0.0.1:7002")
    );
    let Reply::Array(shards) = run(&["CLUSTER", "SHARDS"]) else {
        panic!()
    };
    assert_eq!(shards.len(), 3);
}

/// `redstep --cluster` in the TUI: F5 runs the script to its
/// failure at line 3, the keyspace pane gives each key its slot (and hash
/// tag), and the debugger's outcome names the refused step.
#[test]
fn the_tui_shows_slots_and_the_step_that_left_the_slot() {
    use crossterm::event::KeyCode;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use redstep::tui::opening::{BufferSpec, Opening};

    let opening = Opening {
        id: "cluster".into(),
        buffers: vec![BufferSpec {
            name: "cross.lua".into(),
            path: None,
            text: "#!lua\nredis.call('set',KEYS[1],'1')\nredis.call('set','f','2')\nreturn 1\n"
                .into(),
            args: "b".into(),
        }],
        active: 0,
        setup: vec![
            words(&json!(["SET", "{b}.n", "0"])),
            words(&json!(["SET", "a", "1"])),
        ],
        intro: String::new(),
    };
    let mut driver = redstep::tui::driver::Driver::cluster(opening, 3, 120, 40);
    driver.key(KeyCode::F(5));
    let session = driver.app.session.as_ref().expect("a run");
    assert!(session.debugger().at_failure());
    let summary = session.summary().join("\n");
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|frame| redstep::tui::ui::draw(frame, &driver.app))
        .unwrap();
    let buffer = terminal.backend().buffer();
    let screen: Vec<String> = (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect();
    let text = screen.join("\n");
    assert!(text.contains(" node 1/3 · 0-5460 "), "{text}");
    // The setup's SET a was refused (a is node 3's): only node 1's keys.
    let row = |key: &str| {
        // The keyspace pane is the right half of the top.
        screen[..20]
            .iter()
            .map(|l| l.chars().skip(66).collect::<String>())
            .find(|l| {
                l.split_whitespace()
                    .any(|w| w.trim_start_matches('│') == key)
            })
            .unwrap_or_default()
    };
    assert!(row("{b}.n").contains("3300 {b}"), "{}", row("{b}.n"));
    assert!(row("b").contains(" 3300 "), "{}", row("b"));
    assert!(row("a").is_empty(), "{text}");
    assert!(
        summary.contains("The cluster refused step 4, set f 2: f (slot 3168) is outside slot 3300, the slot of its first declared key b."),
        "{summary}"
    );
}

/// The debugger's runs (`trace::record`, what the TUI and `run` use) pass
/// the same check as a client's EVAL: refused before any line runs.
#[test]
fn traced_runs_are_refused_before_they_run_as_a_client_eval_is() {
    let (mut engine, mut scripting) = cluster_engine(7101);
    let mut client = engine.new_client();
    let eval = |script: &str, keys: &[&str]| {
        let mut argv = vec![
            b"EVAL".to_vec(),
            script.as_bytes().to_vec(),
            keys.len().to_string().into_bytes(),
        ];
        argv.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
        argv
    };
    for (argv, error) in [
        (
            eval("redis.call('set', KEYS[1], 1)", &["b", "f"]),
            "CROSSSLOT Keys in request don't hash to the same slot",
        ),
        (
            eval("redis.call('set', KEYS[1], 1)", &["a"]),
            "MOVED 15495 127.0.0.1:7103",
        ),
        (
            eval("#!lua flags=no-cluster\nredis.call('set', 'b', 1)", &[]),
            "ERR Can not run script on cluster, 'no-cluster' flag is set.",
        ),
    ] {
        let timeline = redstep::trace::record(
            &mut engine,
            &mut scripting,
            &mut client,
            &argv,
            redstep::trace::Limits::default(),
        );
        assert_eq!(timeline.outcome.reply, Reply::error(error));
        assert!(
            !timeline
                .steps
                .iter()
                .any(|s| matches!(s.kind, redstep::trace::StepKind::Line { .. })),
            "no line ran: {:?}",
            timeline.steps
        );
    }
    let other = engine.connect();
    let keys = engine.execute(other, &[b"DBSIZE".to_vec()]);
    assert_eq!(keys, Some(Reply::Int(0)));
}
