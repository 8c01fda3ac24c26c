//! Scripting behaviour that golden replies cannot show: the post's
//! scenario end to end, the sandbox against escape attempts, and scripts
//! stopped by the budget, an interrupt or the memory limit, with the engine
//! usable afterwards.

use std::time::Duration;

use redstep::engine::{ClientId, Engine, ManualClock, Reply};
use redstep::script::{ScriptConfig, Scripting};

struct Env {
    engine: Engine,
    scripting: Scripting,
    client: ClientId,
}

impl Env {
    fn new(config: ScriptConfig) -> Env {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let scripting = Scripting::new(&mut engine, config);
        let client = engine.connect();
        Env {
            engine,
            scripting,
            client,
        }
    }

    fn run(&mut self, argv: &[&[u8]]) -> Reply {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        self.engine
            .execute_with(self.client, &argv, &mut self.scripting)
            .expect("not blocked")
    }

    fn eval(&mut self, script: &str) -> Reply {
        self.run(&[b"EVAL", script.as_bytes(), b"0"])
    }

    fn error(&mut self, script: &str) -> String {
        match self.eval(script) {
            Reply::Error(e) => String::from_utf8(e).unwrap(),
            other => panic!("expected an error from {script:?}, got {other:?}"),
        }
    }
}

#[test]
fn the_post_scenario_keeps_the_first_write() {
    let mut env = Env::new(ScriptConfig::default());
    let init = include_str!("../assets/post/init.lua");
    let get = include_str!("../assets/post/get.lua");
    let inc = include_str!("../assets/post/inc.lua");
    assert_eq!(env.eval(init), Reply::Nil);
    assert_eq!(env.eval(get), Reply::bulks(["42", "42"]));
    assert_eq!(
        env.eval(inc),
        Reply::error(
            "ERR user_script:2: Script attempted to access nonexistent global variable 'result' script: d0e480e1285ebff8a062967eb0fa7d2ada562d97, on @user_script:2."
        )
    );
    assert_eq!(
        env.eval(get),
        Reply::bulks(["43", "42"]),
        "a was incremented, b never was: no rollback"
    );
}

#[test]
fn sandbox_escapes_are_refused_with_redis_errors() {
    let mut env = Env::new(ScriptConfig::default());
    let undefined =
        |name: &str| format!("Script attempted to access nonexistent global variable '{name}'");
    let cases: Vec<(&str, String)> = vec![
        ("os.execute('id')", undefined("os")),
        ("return io.open('/etc/passwd')", undefined("io")),
        ("return require('os')", undefined("require")),
        ("return dofile('/etc/passwd')", undefined("dofile")),
        ("return loadfile('/etc/passwd')", undefined("loadfile")),
        (
            "return package.loadlib('libc.so.6', 'system')",
            undefined("package"),
        ),
        ("return getfenv(0)", undefined("getfenv")),
        ("setfenv(1, {})", undefined("setfenv")),
        ("return debug.getregistry()", undefined("debug")),
        ("return newproxy(true)", undefined("newproxy")),
        ("return module('x')", undefined("module")),
        ("print('x')", undefined("print")),
        (
            "redis.call = function() return 1 end",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "string.rep = nil",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "getmetatable('').__index = {}",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "getmetatable(_G).__index = {}",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "rawset(_G, 'x', 1)",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "rawset(redis, 'call', 1)",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "setmetatable(_G, nil)",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "setmetatable(string, {})",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "table.insert(redis, 1)",
            "Attempt to modify a readonly table".into(),
        ),
        ("x = 1", "Attempt to modify a readonly table".into()),
        (
            "function f() end",
            "Attempt to modify a readonly table".into(),
        ),
        ("KEYS = {}", "Attempt to modify a readonly table".into()),
        (
            "loadstring('y = 1')()",
            "Attempt to modify a readonly table".into(),
        ),
        (
            "return loadstring(string.dump(function() return 1 end))()",
            "attempt to call a nil value".into(),
        ),
        (
            "return load(function() return string.dump(function() return 1 end) end)()",
            "attempt to call a nil value".into(),
        ),
        (
            "local f = coroutine.wrap(function() x = 1 end) f()",
            "Attempt to modify a readonly table".into(),
        ),
    ];
    for (script, expected) in cases {
        let error = env.error(script);
        assert!(error.contains(&expected), "{script}: {error}");
    }
    // Whatever a script tried, the sandbox and the engine still work.
    assert_eq!(env.eval("return redis.call('SET', 'k', 'v')"), Reply::ok());
    assert_eq!(env.eval("return type(string.rep)"), Reply::bulk("function"));
}

/// Runs `f` on a thread with the engine thread's stack size (64 MiB).
fn on_engine_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn runaway_recursion_and_huge_unpacks_fail_cleanly() {
    on_engine_stack(runaway_recursion_body);
}

fn runaway_recursion_body() {
    let mut env = Env::new(ScriptConfig::default());
    assert!(env
        .error("local function f() return 1 + f() end return f()")
        .contains("stack overflow"));
    assert!(env
        .error("local t = {} for i = 1, 10000 do t[i] = i end return unpack(t)")
        .contains("too many results to unpack"));
    let deep = "[".repeat(2000) + &"]".repeat(2000);
    let error = env.error(&format!("return cjson.decode('{deep}')"));
    assert!(
        error.contains("Found too many nested data structures (1001)"),
        "{error}"
    );
    assert!(env
        .error("return cmsgpack.unpack(string.rep('\\221', 100000))")
        .contains("stack overflow (in function mp_decode_to_lua_array)"));
    assert!(env
        .error("return struct.unpack('>I4', 'ab')")
        .contains("data string too short"));
    assert_eq!(env.eval("return 1"), Reply::Int(1));
}

#[test]
fn the_budget_stops_a_runaway_loop_and_the_next_command_works() {
    let mut env = Env::new(ScriptConfig {
        budget: Some(Duration::from_millis(200)),
        ..ScriptConfig::default()
    });
    let error = env.error("while true do end");
    assert!(
        error.starts_with("ERR Script stopped by redstep after 200 ms"),
        "{error}"
    );
    assert!(error.ends_with("on @user_script:1."), "{error}");
    let error = env.error("while true do pcall(function() while true do end end) end");
    assert!(
        error.starts_with("ERR Script stopped by redstep"),
        "pcall cannot swallow the stop: {error}"
    );
    assert_eq!(env.eval("return 'alive'"), Reply::bulk("alive"));
}

#[test]
fn an_interrupt_from_another_thread_stops_the_script() {
    let mut env = Env::new(ScriptConfig::default());
    let interrupt = env.scripting.interrupt.clone();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopper = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                interrupt.request();
                std::thread::yield_now();
            }
        })
    };
    let error = env.error("redis.call('SET', 'before', '1')\nwhile true do end");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    stopper.join().unwrap();
    assert!(
        error.starts_with("ERR Script stopped by the redstep user"),
        "{error}"
    );
    assert_eq!(
        env.run(&[b"GET", b"before"]),
        Reply::bulk("1"),
        "the write before the stop stays"
    );
}

#[test]
fn a_memory_bomb_hits_the_limit_and_the_engine_stays_usable() {
    let mut env = Env::new(ScriptConfig {
        memory_limit: 32 * 1024 * 1024,
        ..ScriptConfig::default()
    });
    let error = env.error("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1024) .. i end");
    assert!(
        error.starts_with(
            "ERR Script stopped by redstep: Lua used more memory than its limit allows"
        ),
        "{error}"
    );
    let error = env.error("local s = 'x' while true do s = s .. s end");
    assert!(error.contains("more memory than its limit"), "{error}");
    assert_eq!(env.eval("return #string.rep('y', 1000)"), Reply::Int(1000));
    assert!(
        env.scripting.used_memory() < 8 * 1024 * 1024,
        "garbage was collected: {}",
        env.scripting.used_memory()
    );
}

#[test]
fn script_flush_recreates_the_lua_state() {
    let mut env = Env::new(ScriptConfig::default());
    assert_eq!(
        env.run(&[b"SCRIPT", b"LOAD", b"return 1"]),
        Reply::bulk("e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    );
    assert_eq!(
        env.run(&[
            b"EVALSHA",
            b"E0E1F9FABFC9D4800C877A703B823AC0578FF8DB",
            b"0"
        ]),
        Reply::Int(1)
    );
    assert_eq!(env.run(&[b"SCRIPT", b"FLUSH"]), Reply::ok());
    assert_eq!(
        env.run(&[
            b"EVALSHA",
            b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            b"0"
        ]),
        Reply::error("NOSCRIPT No matching script. Please use EVAL.")
    );
}

#[test]
fn scripts_see_time_frozen_while_they_run() {
    let mut env = Env::new(ScriptConfig::default());
    env.run(&[b"SET", b"k", b"v", b"PX", b"1"]);
    assert_eq!(env.eval("return redis.call('EXISTS', 'k')"), Reply::Int(1));
    let clock_moves_inside =
        env.eval("redis.call('SET','ex','v','PX',50) return redis.call('PTTL','ex')");
    assert_eq!(clock_moves_inside, Reply::Int(50));
}
