//! The Lua boundary under hostile scripts and arguments: nothing a client
//! sends makes `redstep serve` exit, memory stays bounded by the Lua limit
//! plus the arguments, and a panic in a hook becomes a clean script error.
//!
//! The server tests run the real binary, so "the process is still there"
//! and its RSS (VmRSS of /proc/PID/status) are the server's own. The figures
//! are printed with `--nocapture`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Client;
use redstep::engine::{ClientId, Engine, ManualClock, Reply};
use redstep::script::{BusyPoller, Control, Frame, Probe, ScriptConfig, Scripting};

const MB: usize = 1024 * 1024;

/// `redstep serve` as a child process on a free loopback port.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_redstep"))
            .args(["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "redstep serve did not listen");
            assert!(server.alive(), "redstep serve exited at start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    fn rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap();
        kb / 1024
    }

    /// One command on a fresh connection, then a PING on another: the
    /// server answered and is still serving.
    fn call(&mut self, argv: &[&[u8]]) -> Reply {
        let mut client = Client::connect(self.addr);
        client.send_raw(&redstep::protocol::resp::encode_request(
            &argv.iter().map(|a| a.to_vec()).collect::<Vec<_>>(),
        ));
        let reply = client.read();
        assert!(self.alive(), "redstep serve exited");
        let reply = reply.expect("the server closed the connection instead of answering");
        assert_eq!(
            Client::connect(self.addr).call("PING"),
            Reply::Status(b"PONG".to_vec())
        );
        reply
    }

    fn eval(&mut self, script: &str) -> Reply {
        self.call(&[b"EVAL", script.as_bytes(), b"0"])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bulk(n: usize, byte: u8) -> Vec<u8> {
    vec![byte; n]
}

#[test]
fn huge_arguments_are_answered_and_the_server_stays_up() {
    let mut server = Server::start();
    let start = server.rss_mb();
    let mut peak = start;
    // The sequence that made the process exit: Redis 7.0.15 answers :1 to each.
    let a = bulk(130 * MB, b'a');
    for _ in 0..3 {
        assert_eq!(
            server.call(&[b"EVAL", b"return 1", b"0", &a]),
            Reply::Int(1)
        );
        peak = peak.max(server.rss_mb());
    }
    drop(a);
    let b = bulk(140 * MB, b'b');
    assert_eq!(
        server.call(&[b"EVAL", b"return 1", b"1", &b, &b]),
        Reply::Int(1)
    );
    peak = peak.max(server.rss_mb());
    // The arguments reach the script whole, and can be the reply.
    assert_eq!(
        server.call(&[b"EVAL", b"return #KEYS[1] + #ARGV[1]", b"1", &b, &b]),
        Reply::Int(280 * MB as i64)
    );
    assert_eq!(
        server.call(&[b"EVAL", b"return ARGV[1]", b"0", &b]),
        Reply::Bulk(b.clone())
    );
    // The same for a function (FCALL passes them as parameters), and for a
    // script whose body is huge. Redis 7.0.15 gives these replies (checked live).
    assert_eq!(
        server.call(&[
            b"FUNCTION",
            b"LOAD",
            b"#!lua name=big\nredis.register_function('big', function(keys, args) return #keys[1] + #args[1] end)",
        ]),
        Reply::bulk("big")
    );
    assert_eq!(
        server.call(&[b"FCALL", b"big", b"1", &b, &b]),
        Reply::Int(280 * MB as i64)
    );
    peak = peak.max(server.rss_mb());
    drop(b);
    let body = [b"return #'".as_slice(), &bulk(130 * MB, b'x'), b"'"].concat();
    assert_eq!(
        server.call(&[b"EVAL", &body, b"0"]),
        Reply::Int(130 * MB as i64)
    );
    peak = peak.max(server.rss_mb());
    drop(body);
    // The script cache keeps that body (as Redis's does) until a flush.
    assert_eq!(server.call(&[b"SCRIPT", b"FLUSH"]), Reply::ok());
    let after_sequence = server.rss_mb();
    eprintln!("RSS: start {start} MB, peak over the 130/140 MB sequence {peak} MB, after it {after_sequence} MB");
    // 50 MB arguments in a loop: memory does not grow with the count.
    let c = bulk(50 * MB, b'c');
    let mut figures = Vec::new();
    for i in 0..12 {
        let reply = server.call(&[b"EVAL", b"return #ARGV[1] + #ARGV[2]", b"0", &c, &c]);
        assert_eq!(reply, Reply::Int(100 * MB as i64), "round {i}");
        figures.push(server.rss_mb());
    }
    eprintln!("RSS after each of 12 rounds of 2 x 50 MB arguments (MB): {figures:?}");
    peak = peak.max(*figures.iter().max().unwrap());
    let last = *figures.last().unwrap();
    // Generous but real: the Lua limit (256 MB) plus 280 MB of arguments,
    // their Rust copy and the connection's buffer, with room to spare; a
    // leak of one 130 MB argument per request would pass 1.5 GB by the end.
    assert!(peak < 1536, "peak RSS {peak} MB");
    assert!(
        last < start + 600,
        "RSS after the loop {last} MB (start {start} MB)"
    );
}

/// A `pcall` memory bomb of each kind: each is caught as Lua's "not enough
/// memory" (Redis has no Lua memory limit; the limit, and so this answer,
/// are redstep's), the server stays up, and repeating a bomb does not
/// leak: RSS stays put from round to round.
#[test]
fn pcall_memory_bombs_are_caught_and_memory_stays_bounded() {
    let mut server = Server::start();
    let start = server.rss_mb();
    let caught = Reply::Array(vec![Reply::Int(0), Reply::bulk("not enough memory")]);
    let bombs: &[(&str, &str)] = &[
        ("string growth", "local s = 'x' while true do s = s .. s end"),
        (
            "table growth",
            "local t = {} for i = 1, 1e9 do t[i] = {i} end",
        ),
        ("string.rep", "return string.rep('x', 2^30)"),
        (
            "cjson.encode",
            "local s = string.rep('x', 10 * 2^20) local t = {} for i = 1, 60 do t[i] = s end return cjson.encode(t)",
        ),
        (
            "cmsgpack.pack",
            "local s = string.rep('x', 10 * 2^20) local t = {} for i = 1, 60 do t[i] = s end return cmsgpack.pack(t)",
        ),
        (
            "struct.pack",
            "local s = string.rep('x', 10 * 2^20) local t = {} for i = 1, 60 do t[i] = s end return struct.pack(string.rep('c0', 60), unpack(t))",
        ),
        (
            "cjson.decode",
            "return cjson.decode('[' .. string.rep('[],', 12e6) .. '[]]')",
        ),
        (
            "cmsgpack.unpack",
            "return cmsgpack.unpack('\\221\\0\\183\\27\\0' .. string.rep('\\144', 12e6))",
        ),
        (
            "redis.call replies",
            "local t = {} for i = 1, 100 do t[i] = redis.call('GETRANGE', 'big', i, -1) end",
        ),
    ];
    let big = bulk(40 * MB, b'v');
    assert_eq!(server.call(&[b"SET", b"big", &big]), Reply::ok());
    drop(big);
    let mut report = Vec::new();
    for (name, bomb) in bombs {
        let mut figures = Vec::new();
        for _ in 0..3 {
            let script = format!(
                "local ok, e = pcall(function() {bomb} end) return {{ok and 1 or 0, tostring(e)}}"
            );
            assert_eq!(server.eval(&script), caught, "{name}");
            figures.push(server.rss_mb());
        }
        // The same bomb without pcall: a clean error for the caller.
        match server.eval(bomb) {
            Reply::Error(e) => assert!(
                String::from_utf8_lossy(&e).starts_with(
                    "ERR Script stopped by redstep: Lua used more memory than its limit allows. Real Redis has no such limit."
                ),
                "{name}: {}",
                String::from_utf8_lossy(&e)
            ),
            other => panic!("{name}: {other:?}"),
        }
        figures.push(server.rss_mb());
        report.push(format!("{name}: {figures:?}"));
    }
    // Twenty bombs caught in one run: each one's garbage is collected, so
    // the script goes on and finishes.
    assert_eq!(
        server.eval(
            "local n = 0 for i = 1, 20 do if not pcall(function() local t = {} for j = 1, 1e9 do t[j] = j end end) then n = n + 1 end end return n"
        ),
        Reply::Int(20)
    );
    // A reply bigger than the limit is refused (redstep's own text).
    match server.eval(
        "local s = string.rep('x', 10 * 2^20) local t = {} for i = 1, 60 do t[i] = s end return t",
    ) {
        Reply::Error(e) => assert!(
            String::from_utf8_lossy(&e).starts_with(
                "ERR redstep refused the script's reply: it needs more memory than the Lua memory limit"
            ),
            "{}",
            String::from_utf8_lossy(&e)
        ),
        other => panic!("{other:?}"),
    }
    // redis.log keeps its lines in redstep's memory: each is cut, so
    // logging a 50 MB string 40 times costs nothing.
    assert_eq!(
        server.eval(
            "local s = string.rep('x', 50 * 2^20) for i = 1, 40 do redis.log(redis.LOG_WARNING, s) end return 1"
        ),
        Reply::Int(1)
    );
    let end = server.rss_mb();
    eprintln!("RSS: start {start} MB, end {end} MB; per bomb, after each of 3 pcall rounds and the raw run (MB):");
    for line in &report {
        eprintln!("  {line}");
    }
    assert!(
        end < start + 700,
        "RSS {end} MB at the end (start {start} MB)"
    );
    assert_eq!(
        server.eval("return 'still here'"),
        Reply::bulk("still here")
    );
}

// ---- panics in hooks, in-process through the library ------------------------------

struct Env {
    engine: Engine,
    scripting: Scripting,
    client: ClientId,
}

impl Env {
    fn new() -> Env {
        Env::with(ScriptConfig::default())
    }

    fn with(config: ScriptConfig) -> Env {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let scripting = Scripting::new(&mut engine, config);
        let client = engine.connect();
        Env {
            engine,
            scripting,
            client,
        }
    }

    fn eval(&mut self, script: &str) -> Reply {
        let argv = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
        self.engine
            .execute_with(self.client, &argv, &mut self.scripting)
            .expect("not blocked")
    }

    fn traced(&mut self, script: &str, probe: &mut dyn Probe) -> Reply {
        let argv = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
        let Env {
            engine,
            scripting,
            client,
        } = self;
        engine.with_client(*client, |engine, c| {
            scripting.call_with_probe(engine, c, &argv, probe)
        })
    }
}

/// Panics on the given line event, or on the first command.
struct PanickingProbe {
    on_line: Option<u32>,
}

impl Probe for PanickingProbe {
    fn line(&mut self, frame: &Frame) -> Control {
        if self.on_line == Some(frame.line) {
            panic!("injected panic in Probe::line");
        }
        Control::Continue
    }

    fn command(&mut self, _: u32, _: &[Vec<u8>], _: &Reply, _: bool) -> Control {
        if self.on_line.is_none() {
            panic!("injected panic in Probe::command");
        }
        Control::Continue
    }
}

struct PanickingPoller;

impl BusyPoller for PanickingPoller {
    fn poll(&mut self, _: &mut redstep::engine::Engine, _: &redstep::script::Busy<'_>) -> bool {
        panic!("injected panic in BusyPoller::poll");
    }
}

fn error_text(reply: Reply) -> String {
    match reply {
        Reply::Error(e) => String::from_utf8(e).unwrap(),
        other => panic!("expected an error, got {other:?}"),
    }
}

const HOOK_PANIC: &str = "ERR Script stopped by redstep: redstep internal error (a bug): a Rust panic in the line or count hook";

#[test]
fn a_panic_in_a_hook_or_callback_is_a_script_error_and_the_engine_goes_on() {
    let mut env = Env::new();
    // In the line hook (the trace recorder's side), even under pcall.
    let script = "redis.call('SET', 'a', '1')\nlocal ok = pcall(function()\nlocal x = 1\nend)\nreturn 'not reached'";
    let error = error_text(env.traced(script, &mut PanickingProbe { on_line: Some(3) }));
    assert!(error.starts_with(HOOK_PANIC), "{error}");
    // The write before it stays, as any script error leaves it.
    assert_eq!(env.eval("return redis.call('GET', 'a')"), Reply::bulk("1"));
    // In a callback (redis.call reporting to the probe).
    let error = error_text(env.traced(
        "redis.call('SET', 'b', '2') return 1",
        &mut PanickingProbe { on_line: None },
    ));
    assert!(
        error.contains("redstep internal error (a bug): a Rust panic inside a Lua call"),
        "{error}"
    );
    // In the count hook (the busy poller), past the busy threshold.
    env.engine.config.busy_reply_threshold_ms = 0;
    env.scripting.poller = Some(Box::new(PanickingPoller));
    let error = error_text(env.eval("local n = 0 for i = 1, 1e7 do n = n + i end return n"));
    assert!(error.starts_with(HOOK_PANIC), "{error}");
    env.scripting.poller = None;
    // The engine and the Lua state go on.
    assert_eq!(env.eval("return 1 + 1"), Reply::Int(2));
    let mut quiet = PanickingProbe { on_line: Some(999) };
    assert_eq!(
        env.traced("return 'traced'", &mut quiet),
        Reply::bulk("traced")
    );
}

/// Errors raised from Rust callbacks (caught by pcall, or inside a
/// coroutine) leave the memory limit in force for the rest of the run.
#[test]
fn the_limit_stays_armed_after_errors_raised_from_callbacks() {
    let mut env = Env::new();
    let caught = Reply::bulk("not enough memory");
    for setup in [
        "pcall(cmsgpack.unpack, string.char(0x81, 0xc0, 1))",
        "pcall(redis.call, 'NOSUCHCOMMAND')",
        "pcall(cjson.decode, '{')",
        "pcall(struct.pack, 'i')",
        "coroutine.resume(coroutine.create(function() redis.call('GET') end))",
    ] {
        let script =
            format!("{setup} local ok, e = pcall(string.rep, 'x', 2^30) return tostring(e)");
        assert_eq!(env.eval(&script), caught, "{setup}");
    }
    assert_eq!(
        error_text(env.eval("return cmsgpack.unpack(string.char(0x81, 0xc0, 1))")),
        "ERR table index is nil script: 42c1be7e22c37cab41e4a64d862c08f9a363e23e, on @user_script:1."
    );
}

#[test]
fn redis_log_lines_are_cut_in_redsteps_memory() {
    let mut env = Env::new();
    assert_eq!(
        env.eval("redis.log(redis.LOG_WARNING, 'short', 'line') redis.log(redis.LOG_NOTICE, string.rep('y', 2^20)) return 1"),
        Reply::Int(1)
    );
    assert_eq!(env.scripting.log[0], "# short line");
    let long = &env.scripting.log[1];
    assert!(long.starts_with("* yyyy"), "{}", &long[..20]);
    assert!(
        long.ends_with("… (cut by redstep: 1048576 bytes)"),
        "{}",
        &long[long.len() - 60..]
    );
    assert_eq!(
        long.len(),
        "* ".len() + 8192 + "… (cut by redstep: 1048576 bytes)".len()
    );
}

/// Redis reads the fields of a script's error table with lua_getfield,
/// outside any protected call: metamethods run, and one that raises
/// crashes Redis 7.0.15 (checked live). redstep reads them protected,
/// under the hook.
#[test]
fn error_tables_with_metamethods_are_read_safely() {
    let mut env = Env::with(ScriptConfig {
        budget: Some(std::time::Duration::from_millis(200)),
        ..ScriptConfig::default()
    });
    // As Redis 7.0.15 answers (checked live).
    assert_eq!(
        error_text(env.eval("error(setmetatable({}, {__index = {err = 'custom'}}))")),
        "custom script: 4d63c7bd3af04f1c43c87f1f1935a62292f575d2, on @user_script:1."
    );
    assert_eq!(
        error_text(
            env.eval("error(setmetatable({}, {__index = function(t, k) return 'via ' .. k end}))")
        ),
        "via err script: 2c1dfea30631c37e9b5517004a2d7ae46ac960de, on @user_script:1."
    );
    // Where Redis crashes, a clean error.
    assert_eq!(
        error_text(env.eval("error(setmetatable({}, {__index = function() error('boom') end}))")),
        "ERR redstep: real Redis 7.0.15 crashes here (a Lua error outside any protected call): reading the fields of the script's error table raised: user_script:1: boom. script: 76cccd968520d8e9438d7629c7c312dee61ac3b8"
    );
    // A metamethod that never returns is stopped like the script itself.
    let error = error_text(
        env.eval("error(setmetatable({}, {__index = function() while true do end end}))"),
    );
    assert!(
        error.contains("raised: ERR Script stopped by redstep after 200 ms"),
        "{error}"
    );
    assert_eq!(env.eval("return 'ok'"), Reply::bulk("ok"));
}

/// A loop that spends its time making long strings in C (`string.rep`,
/// `..`) runs few VM instructions a turn: with the count hook every
/// 100,000 of them it ran some 5,000 turns before the first check, and Esc
/// in the TUI took minutes to stop a 1 MB string a turn. A long string now
/// spends the count as it is made (vendored `luaS_newlstr`), so a stop
/// already due (a zero budget) ends it within a few turns. Counted in
/// turns, not timed.
#[test]
fn a_loop_of_long_strings_meets_the_count_hook_within_a_few_turns() {
    let mut env = Env::with(ScriptConfig {
        budget: Some(Duration::ZERO),
        ..ScriptConfig::default()
    });
    let error = error_text(env.eval(
        "local n = 0\nwhile true do\n  n = n + 1\n  redis.call('SET', 'turns', n)\n  local s = string.rep('x', 100000) .. n\nend",
    ));
    assert!(
        error.starts_with("ERR Script stopped by redstep after 0 ms"),
        "{error}"
    );
    let Reply::Bulk(turns) = env.eval("return redis.call('GET', 'turns')") else {
        panic!("no turns")
    };
    let turns: u32 = String::from_utf8(turns).unwrap().parse().unwrap();
    assert!((1..=10).contains(&turns), "{turns} turns before the stop");
}

/// Lua's pattern matcher is C: in Redis 7.0 no hook runs inside it, so a
/// pattern that backtracks without end keeps the server busy for good, and
/// one nested deeper than its 8 MB stack holds crashes it (at about 174,000
/// `a?` items, checked live on 7.0.15). redstep's matcher calls the count
/// hook as it goes and stops before its own stack runs out
/// (vendor/lua-src/README.md).
const BACKTRACKS: &str = "string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', 40)";

#[test]
fn a_pattern_that_backtracks_without_end_meets_the_budget() {
    let mut env = Env::with(ScriptConfig {
        budget: Some(Duration::from_millis(200)),
        ..ScriptConfig::default()
    });
    for call in [
        format!("string.find({BACKTRACKS})"),
        format!("string.match({BACKTRACKS})"),
        format!("string.gmatch({BACKTRACKS})()"),
        format!("string.gsub({BACKTRACKS}, 'x')"),
        // pcall cannot keep it going past its line.
        format!("pcall(string.find, {BACKTRACKS})\nreturn 'caught'"),
    ] {
        let script =
            format!("redis.call('INCR', 'before') return {call}").replace("return pcall", "pcall");
        let error = error_text(env.eval(&script));
        assert!(
            error.starts_with("ERR Script stopped by redstep after 200 ms"),
            "{call}: {error}"
        );
    }
    // The writes made before stay, as with any error.
    assert_eq!(
        env.eval("return redis.call('GET', 'before')"),
        Reply::bulk("5")
    );
    // Caught, and returned from on the same line (no line event left to
    // raise it again): the run still ends stopped.
    let error = error_text(env.eval(&format!(
        "local ok = pcall(string.find, {BACKTRACKS}) return 'caught'"
    )));
    assert!(
        error.starts_with("ERR Script stopped by redstep after 200 ms"),
        "{error}"
    );
    // Steps that each scan far (a %b at every start, a plain find of a
    // long needle) spend the count by what they scan: both stopped too.
    for call in [
        "string.find(string.rep('(', 600000), '%b()')",
        "string.find(string.rep('a', 2e6), string.rep('a', 5e4) .. 'b')",
    ] {
        let error = error_text(env.eval(&format!("return {call}")));
        assert!(
            error.starts_with("ERR Script stopped by redstep after 200 ms"),
            "{call}: {error}"
        );
    }
}

#[test]
fn a_pattern_nested_deeper_than_redis_can_match_is_an_error_not_a_crash() {
    // On a test thread's 2 MB stack: the script gets a stack of its own.
    let mut env = Env::new();
    // 50,000 nested items (more than 2 MB of C stack): as Redis answers.
    assert_eq!(
        env.eval("return {string.find(string.rep('a', 50000), string.rep('a?', 50000))}"),
        Reply::Array(vec![Reply::Int(1), Reply::Int(50000)])
    );
    // 1,000,000: Redis crashes; redstep stops the script.
    let error = error_text(env.eval(
        "redis.call('SET', 'before', '1')\nreturn string.find(string.rep('a', 1e6), string.rep('a?', 1e6))",
    ));
    assert!(
        error.starts_with("ERR user_script:2: redstep: real Redis 7.0.15 crashes here (SIGSEGV): the pattern nests deeper than its 8 MB C stack holds script: "),
        "{error}"
    );
    assert_eq!(
        env.eval("return redis.call('GET', 'before')"),
        Reply::bulk("1")
    );
}

#[test]
fn serve_answers_busy_during_a_runaway_pattern_and_script_kill_stops_it() {
    let mut server = Server::start();
    let mut admin = Client::connect(server.addr);
    assert_eq!(
        admin.call("CONFIG SET busy-reply-threshold 100"),
        Reply::Status(b"OK".to_vec())
    );
    let mut runner = Client::connect(server.addr);
    runner.send_words(&["EVAL", &format!("return string.find({BACKTRACKS})"), "0"]);
    let since = Instant::now();
    loop {
        assert!(since.elapsed() < Duration::from_secs(30), "never busy");
        if let Reply::Error(e) = admin.call("PING") {
            assert!(e.starts_with(b"BUSY"), "{}", String::from_utf8_lossy(&e));
            break;
        }
    }
    assert_eq!(admin.call("SCRIPT KILL"), Reply::Status(b"OK".to_vec()));
    let error = error_text(runner.read().expect("the script's reply"));
    assert!(
        error.starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{error}"
    );
    // Deeper than Redis's stack: an error, and the server goes on.
    let error =
        error_text(server.eval("return string.find(string.rep('a', 3e6), string.rep('a?', 3e6))"));
    assert!(error.contains("real Redis 7.0.15 crashes here"), "{error}");
    assert!(server.alive());
}
