//! Lua 5.1 scripting with Redis 7.0 semantics: EVAL and friends, the script
//! cache, the sandbox, and the `redis` API.
//!
//! [`Scripting`] is the engine's [`Extension`]: it registers EVAL, EVALSHA,
//! EVAL_RO, EVALSHA_RO and SCRIPT in the command table, and the engine
//! calls back into it (also from inside MULTI/EXEC). Scripts call commands
//! through [`Engine::run`] as a separate script client, as Redis does.
//! Line and command events go to an optional [`Probe`]; who listens (the
//! trace recorder) is not this module's business.

mod api;
pub(crate) mod functions;
mod libs;
mod lua;
mod prng;
mod shebang;
mod vm;

use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use crate::engine::errors::{self, err};
use crate::engine::memory::OOM_SCRIPT_FLAG;
use crate::engine::numbers::parse_i64;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::{Client, Engine, Extension, Reply};

pub use api::{Busy, BusyPoller, Stop};
pub use shebang::ScriptFlags;

use lua::ffi;

/// Receives what a script does, as it does it.
pub trait Probe {
    /// A new line of Lua is about to run.
    fn line(&mut self, frame: &Frame) -> Control;
    /// `redis.call`/`redis.pcall` ran a command (or had it refused);
    /// `write` tells whether it is a write command.
    fn command(&mut self, line: u32, argv: &[Vec<u8>], reply: &Reply, write: bool) -> Control;
    /// The script's function returned (it did not raise an error): what
    /// it returned is the reply, an error reply too (`redis.error_reply`).
    fn returned(&mut self) {}
}

/// What a probe wants after an event.
#[derive(Clone, Debug, PartialEq)]
pub enum Control {
    Continue,
    /// Stop the script with this reason (e.g. the trace is full).
    Stop(String),
    /// Kill the script as SCRIPT KILL does (its error is Redis's).
    Kill,
}

/// What Redis does with another client's command while a script is busy
/// (running past `busy-reply-threshold`): the host's poller and the
/// debugger's other-clients lane both answer from here.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BusyAnswer {
    /// Refused at once (BUSY, UNKILLABLE); a transaction the client is in
    /// is flagged (EXEC will abort it).
    Reply(Reply),
    /// SCRIPT KILL / FUNCTION KILL accepted: OK, and the script dies.
    Kill,
    /// Run now, beside the script (the `allow_busy` commands: MULTI, WATCH,
    /// DISCARD, AUTH, HELLO, QUIT, RESET, FUNCTION STATS).
    Run,
    /// SHUTDOWN NOSAVE: the server ends.
    Shutdown,
}

pub(crate) const BUSY_SCRIPT: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
pub(crate) const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
pub(crate) const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

/// Redis's rule (`processCommand`, `scriptKill`, `shutdownCommand`) for
/// a command `argv` arriving while a script (or a function) is busy;
/// `allow_busy` is the command's flag, `wrote` tells whether the script
/// has run a write command.
pub(crate) fn busy_answer(
    argv: &[Vec<u8>],
    allow_busy: bool,
    is_function: bool,
    wrote: bool,
) -> BusyAnswer {
    let name = argv
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    let sub = argv
        .get(1)
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    let busy = |function: bool| {
        BusyAnswer::Reply(Reply::error(if function {
            BUSY_FUNCTION
        } else {
            BUSY_SCRIPT
        }))
    };
    if !allow_busy {
        return busy(is_function);
    }
    match (name.as_slice(), sub.as_slice()) {
        (b"script", b"kill") | (b"function", b"kill") => {
            let by_script = name == b"script";
            if wrote {
                BusyAnswer::Reply(Reply::error(UNKILLABLE))
            } else if by_script == is_function {
                // SCRIPT KILL of a function, FUNCTION KILL of a script.
                busy(is_function)
            } else {
                BusyAnswer::Kill
            }
        }
        (b"function", b"stats") if !is_function => busy(false),
        (b"shutdown", _) => {
            if argv[1..].iter().any(|a| a.eq_ignore_ascii_case(b"nosave")) {
                BusyAnswer::Shutdown
            } else {
                busy(is_function)
            }
        }
        _ => BusyAnswer::Run,
    }
}

pub use api::Frame;

/// Esc in the TUI: stops the script a front end asked for, from another
/// thread (the Lua hook checks it every 100,000 instructions).
///
/// A stop reaches the work of the messages sent before it and never a later
/// one. Every message a front end sends gets the next serial, the engine
/// notes the serial of the message it works on, and a stop covers the
/// serials up to the last one sent when it was asked for. So Esc pressed
/// before the engine even starts the run it queued still stops that run,
/// and Esc pressed as a run ends does not stop the next.
#[derive(Clone, Default)]
pub struct Interrupt(Arc<Serials>);

#[derive(Default)]
struct Serials {
    /// The last serial a front end's message got (they start at 1).
    sent: AtomicU64,
    /// The serial of the message the engine works on.
    working_on: AtomicU64,
    /// 1 + the last serial a stop covers; 0 when none was asked for.
    stop: AtomicU64,
}

impl Interrupt {
    /// Stops the script running now or run later for a message already
    /// sent.
    pub fn request(&self) {
        let last = self.0.sent.load(Ordering::SeqCst);
        self.0.stop.fetch_max(last + 1, Ordering::SeqCst);
    }

    /// The serial for a message a front end sends now.
    pub(crate) fn next_serial(&self) -> u64 {
        self.0.sent.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The last serial sent: for work whose message is not known (a TCP
    /// client's command, one CLIENT PAUSE held).
    pub(crate) fn last_serial(&self) -> u64 {
        self.0.sent.load(Ordering::SeqCst)
    }

    /// The engine starts on the message with this serial; a stop that
    /// covers only earlier messages is dropped.
    pub(crate) fn begin(&self, serial: u64) {
        self.0.working_on.store(serial, Ordering::SeqCst);
        let stop = self.0.stop.load(Ordering::SeqCst);
        if stop != 0 && stop <= serial {
            let _ = self
                .0
                .stop
                .compare_exchange(stop, 0, Ordering::SeqCst, Ordering::SeqCst);
        }
    }

    /// Whether a stop covers the work under way (it holds until the
    /// engine begins a later message: every script of the covered ones
    /// stops).
    pub(crate) fn stopping(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst) > self.0.working_on.load(Ordering::SeqCst)
    }
}

pub(crate) fn sha1_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(40);
    for b in Sha1::digest(data) {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 15)] as char);
    }
    hex
}

struct CachedScript {
    body: Vec<u8>,
    flags: ScriptFlags,
    /// Registry reference to the compiled function.
    function: c_int,
}

/// Scripts run by the headless commands (`run`, `exec`) stop after this
/// long: there is nobody to send SCRIPT KILL (Redis itself would keep
/// running them).
pub(crate) const HEADLESS_BUDGET: std::time::Duration = std::time::Duration::from_secs(5);

/// Settings of the scripting layer.
#[derive(Clone, Debug)]
pub struct ScriptConfig {
    /// Bytes the Lua state may use (0: no limit), on top of what a run's
    /// KEYS and ARGV take. Redis has no such limit; redstep stops a memory
    /// bomb before it takes the machine down. A script's reply (built in
    /// Rust) gets the same budget.
    pub memory_limit: usize,
    /// Stop scripts that run longer than this (None: never, as Redis).
    pub budget: Option<Duration>,
}

impl Default for ScriptConfig {
    fn default() -> Self {
        ScriptConfig {
            memory_limit: 256 * 1024 * 1024,
            budget: None,
        }
    }
}

pub struct Scripting {
    vm: vm::Vm,
    /// Functions run in a Lua state of their own, as in Redis.
    functions_vm: vm::Vm,
    libraries: functions::Libraries,
    scripts: crate::engine::FastMap<String, CachedScript>,
    /// The client scripts run their commands as.
    script_client: Client,
    pub config: ScriptConfig,
    pub interrupt: Interrupt,
    pub poller: Option<Box<dyn BusyPoller>>,
    /// Lines written by `redis.log` (capped).
    pub log: Vec<String>,
}

pub(crate) const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

fn unused(_: &mut crate::engine::Ctx) -> crate::engine::CommandResult {
    Ok(Reply::Nil)
}

const EVAL_FLAGS: u32 = NOSCRIPT | STALE | NOT_PROPAGATED;
const SCRIPT_FLAGS: u32 = NOSCRIPT;

const FUNCTION_FLAGS: u32 = NOSCRIPT;

const FUNCTION_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "function|load",
        "load",
        -3,
        FUNCTION_FLAGS | WRITE | DENYOOM,
        unused,
    )
    .external(),
    CommandSpec::sub(
        "function|delete",
        "delete",
        3,
        FUNCTION_FLAGS | WRITE,
        unused,
    )
    .external(),
    CommandSpec::sub(
        "function|flush",
        "flush",
        -2,
        FUNCTION_FLAGS | WRITE,
        unused,
    )
    .external(),
    CommandSpec::sub("function|list", "list", -2, FUNCTION_FLAGS, unused).external(),
    CommandSpec::sub(
        "function|kill",
        "kill",
        2,
        FUNCTION_FLAGS | ALLOW_BUSY,
        unused,
    )
    .external(),
    CommandSpec::sub(
        "function|stats",
        "stats",
        2,
        FUNCTION_FLAGS | ALLOW_BUSY,
        unused,
    )
    .external(),
    CommandSpec::sub("function|help", "help", 2, LOADING | STALE, unused).external(),
    CommandSpec::sub("function|dump", "dump", 2, FUNCTION_FLAGS, unused).external(),
    CommandSpec::sub(
        "function|restore",
        "restore",
        -3,
        FUNCTION_FLAGS | WRITE | DENYOOM,
        unused,
    )
    .external(),
];

const SCRIPT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub("script|load", "load", 3, SCRIPT_FLAGS, unused).external(),
    CommandSpec::sub("script|exists", "exists", -3, SCRIPT_FLAGS, unused).external(),
    CommandSpec::sub("script|flush", "flush", -2, SCRIPT_FLAGS, unused).external(),
    CommandSpec::sub("script|kill", "kill", 2, SCRIPT_FLAGS | ALLOW_BUSY, unused).external(),
    CommandSpec::sub("script|debug", "debug", 3, SCRIPT_FLAGS, unused).external(),
    CommandSpec::sub("script|help", "help", 2, LOADING | STALE, unused).external(),
];

/// The commands this layer adds to the engine's table.
pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS | MAY_REPLICATE, (0, 0, 0), unused).external(),
    CommandSpec::new("evalsha", -3, EVAL_FLAGS | MAY_REPLICATE, (0, 0, 0), unused).external(),
    CommandSpec::new("eval_ro", -3, EVAL_FLAGS | READONLY, (0, 0, 0), unused).external(),
    CommandSpec::new("evalsha_ro", -3, EVAL_FLAGS | READONLY, (0, 0, 0), unused).external(),
    CommandSpec::container_of("script", 0, SCRIPT_SUBCOMMANDS),
    CommandSpec::new("fcall", -3, EVAL_FLAGS | MAY_REPLICATE, (0, 0, 0), unused).external(),
    CommandSpec::new("fcall_ro", -3, EVAL_FLAGS | READONLY, (0, 0, 0), unused).external(),
    CommandSpec::container_of("function", 0, FUNCTION_SUBCOMMANDS),
];

/// Redis's scriptFlagsToCmdFlags: a script's declared flags in place of
/// its command's write, deny-oom and stale flags (`no-writes` implies
/// `allow-oom`), and no may-replicate: it is known whether it writes.
fn declared_flags(flags: u32, no_writes: bool, allow_oom: bool, allow_stale: bool) -> u32 {
    let mut flags = flags & !(STALE | DENYOOM | WRITE | MAY_REPLICATE);
    if !(allow_oom || no_writes) {
        flags |= DENYOOM;
    }
    if !no_writes {
        flags |= WRITE;
    }
    if allow_stale {
        flags |= STALE;
    }
    flags
}

/// What a run executes.
struct Target<'a> {
    state: lua::State,
    function: c_int,
    /// The SHA1 (EVAL) or the function name (FCALL), for error suffixes.
    name: &'a str,
    /// For a function, the caller's FCALL or FCALL_RO as sent (FUNCTION
    /// STATS shows it); None for EVAL. Functions get KEYS and ARGV as
    /// parameters, EVAL as globals.
    call: Option<&'a [Vec<u8>]>,
}

impl Scripting {
    /// Creates the scripting layer and registers its commands in `engine`.
    pub fn new(engine: &mut Engine, config: ScriptConfig) -> Scripting {
        for spec in COMMANDS {
            engine.register(*spec);
        }
        let mut script_client = engine.new_client();
        script_client.is_script = true;
        script_client.no_block = true;
        Scripting {
            vm: new_vm(config.memory_limit),
            functions_vm: new_functions_vm(config.memory_limit),
            libraries: functions::Libraries::default(),
            scripts: Default::default(),
            script_client,
            config,
            interrupt: Interrupt::default(),
            poller: None,
            log: Vec::new(),
        }
    }

    /// SCRIPT FLUSH: forget every script and start a fresh Lua state.
    pub(crate) fn flush(&mut self) {
        self.scripts.clear();
        self.vm = new_vm(self.config.memory_limit);
    }

    pub fn used_memory(&self) -> usize {
        self.vm.used_memory()
    }

    /// Compiles and caches a body (EVAL / SCRIPT LOAD); returns its SHA1.
    fn load(&mut self, body: &[u8]) -> Result<String, Reply> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = shebang::parse(body).map_err(|e| err(&format!("ERR {e}")))?;
        let state = self.vm.state;
        // SAFETY: outside any Lua call, disarmed (see `lua`): compile() runs
        // the parser protected, and luaL_ref only allocates, which cannot raise.
        let function = unsafe {
            vm::compile(state, &body[shebang_len..], c"@user_script").map_err(|msg| {
                let mut text = b"ERR Error compiling script (new function): ".to_vec();
                text.extend_from_slice(&msg);
                Reply::Error(errors::sanitize(text))
            })?;
            ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX)
        };
        self.scripts.insert(
            sha.clone(),
            CachedScript {
                body: body.to_vec(),
                flags,
                function,
            },
        );
        Ok(sha)
    }

    fn eval(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        argv: &[Vec<u8>],
        by_sha: bool,
        ro_command: bool,
    ) -> Reply {
        self.eval_probed(engine, caller, argv, by_sha, ro_command, None)
    }

    /// Runs EVAL, EVALSHA, their _RO forms, FCALL or FCALL_RO for a client
    /// the caller holds, with a probe that sees every line and call.
    pub fn call_with_probe(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        argv: &[Vec<u8>],
        probe: &mut dyn Probe,
    ) -> Reply {
        let spec = match engine.lookup_command(argv) {
            Ok(spec) => *spec,
            Err(reply) => return reply,
        };
        // What `processCommand` checks before the script runs (cluster
        // mode, maxmemory).
        if let Some(reply) = crate::engine::cluster::process_command(engine, caller, &spec, argv) {
            return reply;
        }
        if engine.config.maxmemory != 0 {
            if let Some(reply) = engine.process_maxmemory(caller, &spec, argv, self) {
                return reply;
            }
        }
        match spec.name {
            "eval" => self.eval_probed(engine, caller, argv, false, false, Some(probe)),
            "evalsha" => self.eval_probed(engine, caller, argv, true, false, Some(probe)),
            "eval_ro" => self.eval_probed(engine, caller, argv, false, true, Some(probe)),
            "evalsha_ro" => self.eval_probed(engine, caller, argv, true, true, Some(probe)),
            "fcall" => self.fcall_probed(engine, caller, argv, false, Some(probe)),
            "fcall_ro" => self.fcall_probed(engine, caller, argv, true, Some(probe)),
            _ => Reply::error("ERR only EVAL, EVALSHA, FCALL and their _RO forms can be traced"),
        }
    }

    /// The source a traced call runs: the script body (EVAL, or EVALSHA of a
    /// cached script) or the library code of the function (FCALL).
    pub(crate) fn source_of(&self, argv: &[Vec<u8>]) -> Option<Vec<u8>> {
        let name = argv.first()?.to_ascii_lowercase();
        match name.as_slice() {
            b"eval" | b"eval_ro" => argv.get(1).cloned(),
            b"evalsha" | b"evalsha_ro" => {
                let sha = String::from_utf8_lossy(argv.get(1)?).to_ascii_lowercase();
                self.scripts.get(&sha).map(|s| s.body.clone())
            }
            b"fcall" | b"fcall_ro" => self.libraries.code_of(argv.get(1)?),
            _ => None,
        }
    }

    /// The name errors of this call carry: the SHA1 (EVAL*) or the function name (FCALL*).
    pub(crate) fn run_name(&self, argv: &[Vec<u8>]) -> String {
        let name = argv
            .first()
            .map(|a| a.to_ascii_lowercase())
            .unwrap_or_default();
        match name.as_slice() {
            b"eval" | b"eval_ro" => argv.get(1).map(|b| sha1_hex(b)).unwrap_or_default(),
            b"fcall" | b"fcall_ro" => argv
                .get(1)
                .and_then(|f| self.libraries.function(f))
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            _ => argv
                .get(1)
                .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
                .unwrap_or_default(),
        }
    }

    fn eval_probed(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        argv: &[Vec<u8>],
        by_sha: bool,
        ro_command: bool,
        probe: Option<&mut dyn Probe>,
    ) -> Reply {
        if by_sha && argv[1].len() != 40 {
            return err(errors::NOSCRIPT);
        }
        let Some(numkeys) = parse_i64(&argv[2]) else {
            return err(errors::NOT_INTEGER);
        };
        if numkeys > argv.len() as i64 - 3 {
            return err("ERR Number of keys can't be greater than number of args");
        }
        if numkeys < 0 {
            return err("ERR Number of keys can't be negative");
        }
        let sha = if by_sha {
            let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
            if !self.scripts.contains_key(&sha) {
                return err(errors::NOSCRIPT);
            }
            sha
        } else {
            match self.load(&argv[1]) {
                Ok(sha) => sha,
                Err(reply) => return reply,
            }
        };
        let script = &self.scripts[&sha];
        if engine.cluster().is_some() && script.flags.no_cluster {
            return err(crate::engine::cluster::NO_CLUSTER_SCRIPT);
        }
        let flags = script.flags;
        if ro_command && !flags.compat && !flags.no_writes {
            return err("ERR Can not execute a script with write flag using *_ro command.");
        }
        if !flags.compat && !flags.no_writes && !flags.allow_oom && engine.script_oom() {
            return err(OOM_SCRIPT_FLAG);
        }
        let read_only = ro_command || (!flags.compat && flags.no_writes);
        let cross_slot_ok = flags.compat || flags.allow_cross_slot_keys;
        // SCRIPT_ALLOW_OOM: a compat-mode script's first deny-oom write is
        // checked whatever it declares (it cannot declare anything).
        let allow_oom = !flags.compat && flags.allow_oom;
        let function = script.function;
        let split = 3 + numkeys as usize;
        let target = Target {
            state: self.vm.state,
            function,
            name: &sha,
            call: None,
        };
        self.run(
            engine,
            caller,
            &target,
            &argv[3..split],
            &argv[split..],
            (read_only, cross_slot_ok, allow_oom),
            probe,
        )
    }

    fn fcall(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        argv: &[Vec<u8>],
        ro_command: bool,
    ) -> Reply {
        self.fcall_probed(engine, caller, argv, ro_command, None)
    }

    fn fcall_probed(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        argv: &[Vec<u8>],
        ro_command: bool,
        probe: Option<&mut dyn Probe>,
    ) -> Reply {
        let Some(function) = self.libraries.function(&argv[1]).cloned() else {
            return err("ERR Function not found");
        };
        let Some(numkeys) = parse_i64(&argv[2]) else {
            return err("ERR Bad number of keys provided");
        };
        if numkeys > argv.len() as i64 - 3 {
            return err("ERR Number of keys can't be greater than number of args");
        }
        if numkeys < 0 {
            return err("ERR Number of keys can't be negative");
        }
        if engine.cluster().is_some() && function.no_cluster() {
            return err(crate::engine::cluster::NO_CLUSTER_SCRIPT);
        }
        if ro_command && !function.no_writes() {
            return err("ERR Can not execute a script with write flag using *_ro command.");
        }
        if !function.no_writes() && !function.allow_oom() && engine.script_oom() {
            return err(OOM_SCRIPT_FLAG);
        }
        let read_only = ro_command || function.no_writes();
        let allow_oom = function.allow_oom();
        let cross_slot_ok = function.allow_cross_slot_keys();
        let split = 3 + numkeys as usize;
        let target = Target {
            state: self.functions_vm.state,
            function: function.callback,
            name: &function.name,
            call: Some(argv),
        };
        self.run(
            engine,
            caller,
            &target,
            &argv[3..split],
            &argv[split..],
            (read_only, cross_slot_ok, allow_oom),
            probe,
        )
    }

    fn function_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        let state = self.functions_vm.state;
        match sub.as_str() {
            "load" => {
                let mut replace = false;
                let mut i = 2;
                while i < argv.len() - 1 {
                    if argv[i].eq_ignore_ascii_case(b"replace") {
                        replace = true;
                        i += 1;
                        continue;
                    }
                    return Reply::Error(errors::sanitize(
                        [b"ERR Unknown option given: ".as_slice(), &argv[i]].concat(),
                    ));
                }
                if i >= argv.len() {
                    return err("ERR Function code is missing");
                }
                match self.libraries.load(state, &argv[i], replace) {
                    Ok(name) => Reply::bulk(name),
                    Err(e) => Reply::Error(errors::sanitize(format!("ERR {e}").into_bytes())),
                }
            }
            "delete" => {
                if self.libraries.delete(state, &argv[2]) {
                    Reply::ok()
                } else {
                    err("ERR Library not found")
                }
            }
            "flush" => {
                if argv.len() > 3 {
                    return errors::subcommand_syntax(&argv[1], "function");
                }
                let ok = argv.len() == 2
                    || (argv.len() == 3
                        && (argv[2].eq_ignore_ascii_case(b"sync")
                            || argv[2].eq_ignore_ascii_case(b"async")));
                if !ok {
                    return err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
                }
                // As Redis: the libraries go, the Lua state stays (a
                // cjson configuration set by a function survives).
                self.libraries.release(self.functions_vm.state);
                self.functions_vm.collect_garbage();
                Reply::ok()
            }
            "list" => self.libraries.list(argv),
            "dump" => Reply::Bulk(crate::engine::rdb::function_dump(
                self.libraries.libraries.values().map(|l| l.code.as_slice()),
            )),
            "restore" => self.function_restore(argv),
            "kill" => err("NOTBUSY No scripts in execution right now."),
            "stats" => self.libraries.stats(),
            _ => crate::engine::commands::help(functions::FUNCTION_HELP),
        }
    }

    /// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE], as Redis 7.0: the
    /// payload checked first, then the policy; APPEND refuses a library
    /// that exists, and nothing changes on an error.
    fn function_restore(&mut self, argv: &[Vec<u8>]) -> Reply {
        if argv.len() > 4 {
            return errors::subcommand_syntax(&argv[1], "function");
        }
        let policy = argv.get(3).map(|p| p.to_ascii_lowercase());
        let policy = match policy.as_deref() {
            None | Some(b"append") => "append",
            Some(b"replace") => "replace",
            Some(b"flush") => "flush",
            Some(_) => return err(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ),
        };
        let payload = &argv[2];
        if !crate::engine::rdb::verify(payload) {
            return err("ERR DUMP payload version or checksum are wrong");
        }
        // As Redis: each library loads into a set of its own, in the same
        // state; only when all did does that set replace or join the
        // current one, so an error changes nothing.
        let state = self.functions_vm.state;
        let mut restored = functions::Libraries::default();
        for item in crate::engine::rdb::function_items(payload) {
            let loaded = item
                .map_err(str::to_string)
                .and_then(|code| restored.load(state, &code, false));
            if let Err(e) = loaded {
                restored.release(state);
                return Reply::Error(errors::sanitize(format!("ERR {e}").into_bytes()));
            }
        }
        if policy == "flush" {
            std::mem::replace(&mut self.libraries, restored).release(state);
        } else if let Err(e) = self
            .libraries
            .join(state, &mut restored, policy == "replace")
        {
            restored.release(state);
            return Reply::Error(errors::sanitize(format!("ERR {e}").into_bytes()));
        }
        Reply::ok()
    }

    /// Runs a compiled script. Exposed (with a probe) for the trace recorder.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        engine: &mut Engine,
        caller: &mut Client,
        target: &Target,
        keys: &[Vec<u8>],
        args: &[Vec<u8>],
        (read_only, cross_slot_ok, allow_oom): (bool, bool, bool),
        probe: Option<&mut dyn Probe>,
    ) -> Reply {
        let (state, name) = (target.state, target.name);
        self.script_client.db = caller.db;
        // Every run starts in RESP2, whatever the last one switched to.
        self.script_client.resp = 2;
        let now = engine.now();
        engine.freeze_time(Some(now));
        let busy_threshold =
            Duration::from_millis(engine.config.busy_reply_threshold_ms.max(0) as u64);
        let every_line = probe.is_some();
        let command = target.call.map(<[_]>::to_vec).unwrap_or_default();
        let counts = self.libraries.counts();
        let mut ctx = api::RunContext {
            engine,
            client: &mut self.script_client,
            name: name.to_string(),
            command,
            counts,
            is_function: target.call.is_some(),
            read_only,
            cluster_slot: caller.cluster_slot,
            cross_slot_ok,
            allow_oom,
            wrote: false,
            resp3: false,
            repl: 3,
            started: Instant::now(),
            busy_threshold,
            budget: self.config.budget,
            interrupt: &self.interrupt,
            poller: self.poller.as_deref_mut().map(|p| p as &mut dyn BusyPoller),
            probe: probe.map(|p| p as &mut dyn Probe),
            stopped: None,
            log: &mut self.log,
            argv: Vec::new(),
            last_command: None,
            last_name: Vec::new(),
        };
        // SAFETY: everything below runs on the state's thread, outside any
        // Lua call and disarmed (see `lua`), so nothing here can raise: the
        // pushes only allocate, and the limit is armed only for the
        // protected calls that run script code: the script (with Redis's
        // error handler) and an error table's metamethods. The context
        // pointer lives exactly as long as the run.
        let (status, reply) = unsafe {
            let base = ffi::lua_gettop(state);
            let allocator = lua::allocator(state);
            let limit = (*allocator).limit;
            if limit > 0 && (*allocator).used > limit / 2 {
                // Left over from earlier runs (their arguments, a caught
                // memory bomb): free it before this run counts.
                lua::collect_garbage(state);
            }
            ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, vm::ERROR_HANDLER.as_ptr());
            let handler = ffi::lua_gettop(state);
            ffi::lua_rawgeti_(state, ffi::LUA_REGISTRYINDEX, target.function);
            let nargs = if target.call.is_some() {
                vm::push_array(state, keys);
                vm::push_array(state, args);
                2
            } else {
                vm::set_keys_argv(state, keys, args);
                0
            };
            // The arguments do not count against the limit: a run may use
            // the limit on top of them.
            let allowance = arguments_allowance(keys, args);
            if limit > 0 {
                (*allocator).limit = limit.saturating_add(allowance);
            }
            let guard = api::enter(&mut ctx);
            api::set_hook(state, every_line);
            lua::arm(state, true);
            let status = vm::protected_call(state, nargs, 1, handler);
            lua::arm(state, false);
            // The hook stays until the reply is built: reading an error
            // table may run its metamethods (script code).
            let mut returned = false;
            let reply = if status == 0 {
                let mut budget = if limit > 0 {
                    (*allocator).limit
                } else {
                    usize::MAX
                };
                let popped = api::pop_reply(state, ctx.resp3, &mut budget);
                returned = popped.is_some();
                popped.unwrap_or_else(|| {
                    Reply::error(format!(
                        "ERR redstep refused the script's reply: it needs more memory than the Lua memory limit ({} bytes) allows. Real Redis has no such limit. script: {name}",
                        (*allocator).limit
                    ))
                })
            } else {
                let reply = self::error_reply(state, status, name);
                ffi::lua_pop(state, 1);
                reply
            };
            api::clear_hook(state);
            drop(guard);
            // A stop of redstep's own (its budget, the user, a probe) that
            // the script caught with pcall and then returned from the same
            // line (no line event left to raise it again) still ends the
            // run as stopped. SCRIPT KILL does not: Redis returns the
            // script's value then too.
            let reply = match &ctx.stopped {
                Some(stop) if status == 0 && !matches!(stop, api::Stop::Killed) => {
                    returned = false;
                    Reply::error(format!("ERR {} script: {name}", stop.message()))
                }
                _ => reply,
            };
            if returned {
                if let Some(probe) = ctx.probe.as_mut() {
                    probe.returned();
                }
            }
            ffi::lua_settop(state, base);
            (*allocator).limit = limit;
            if allowance > BIG_ARGUMENTS && target.call.is_none() {
                // Let big arguments go now rather than at the next run.
                vm::set_keys_argv(state, &[], &[]);
            }
            if status == ffi::LUA_ERRMEM || allowance > BIG_ARGUMENTS {
                lua::collect_garbage(state);
            }
            (status, reply)
        };
        ctx.engine.freeze_time(None);
        caller.cluster_slot = ctx.cluster_slot;
        if status == ffi::LUA_ERRMEM {
            self.vm.collect_garbage();
            self.functions_vm.collect_garbage();
        }
        // The script's maps, sets, doubles and booleans reach a RESP3 caller
        // as such; a RESP2 caller gets them as Redis writes them in RESP2.
        if caller.resp == 3 {
            reply
        } else {
            reply.to_resp2()
        }
    }

    fn script_command(&mut self, argv: &[Vec<u8>]) -> Reply {
        let sub = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
        match sub.as_str() {
            "load" => match self.load(&argv[2]) {
                Ok(sha) => Reply::bulk(sha),
                Err(reply) => reply,
            },
            "exists" => Reply::Array(
                argv[2..]
                    .iter()
                    .map(|sha| {
                        Reply::Int(
                            self.scripts
                                .contains_key(&String::from_utf8_lossy(sha).to_ascii_lowercase())
                                as i64,
                        )
                    })
                    .collect(),
            ),
            "flush" => {
                let ok = argv.len() == 2
                    || (argv.len() == 3
                        && (argv[2].eq_ignore_ascii_case(b"sync")
                            || argv[2].eq_ignore_ascii_case(b"async")));
                if !ok {
                    return err("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
                }
                self.flush();
                Reply::ok()
            }
            "kill" => err("NOTBUSY No scripts in execution right now."),
            "debug" => {
                let mode = argv[2].to_ascii_lowercase();
                match mode.as_slice() {
                    b"no" => Reply::ok(),
                    b"yes" | b"sync" => err("ERR redstep does not implement the Redis Lua debugger (LDB); step through scripts with redstep's own debugger"),
                    _ => err("ERR Use SCRIPT DEBUG YES/SYNC/NO"),
                }
            }
            _ => crate::engine::commands::help(SCRIPT_HELP),
        }
    }
}

/// Arguments past this size are dropped from the Lua state right after the run.
const BIG_ARGUMENTS: usize = 1 << 20;

/// What KEYS and ARGV take in the Lua state, roughly: each string's bytes
/// plus its header and its slot in the table.
fn arguments_allowance(keys: &[Vec<u8>], args: &[Vec<u8>]) -> usize {
    const PER_ITEM: usize = 64;
    keys.iter()
        .chain(args)
        .map(|a| a.len() + PER_ITEM)
        .fold(2 * PER_ITEM, usize::saturating_add)
}

fn new_vm(memory_limit: usize) -> vm::Vm {
    // SAFETY: `register` runs on the fresh state during setup, disarmed
    // (see `lua`): its calls only allocate and cannot raise.
    vm::Vm::new(memory_limit, true, |state| unsafe {
        api::register_redis_table(state, true);
    })
}

fn new_functions_vm(memory_limit: usize) -> vm::Vm {
    // SAFETY: as in new_vm: setup of a fresh state, disarmed.
    let vm = vm::Vm::new(memory_limit, false, |state| unsafe {
        api::register_redis_table(state, false);
    });
    // SAFETY: setup of a fresh state outside any Lua call, disarmed (see
    // `lua`): it only allocates, which cannot raise.
    unsafe { vm::build_load_api(vm.state, functions::register_function) };
    vm
}

/// The reply for a failed run (Redis's `luaCallFunction` error path).
unsafe fn error_reply(state: lua::State, status: c_int, name: &str) -> Reply {
    if status == ffi::LUA_ERRMEM {
        return Reply::error(format!(
            "ERR Script stopped by redstep: Lua used more memory than its limit allows. Real Redis has no such limit. script: {name}"
        ));
    }
    if ffi::lua_type(state, -1) != ffi::LUA_TTABLE {
        // `%.100s` of a C string: cut at a NUL too.
        let msg = lua::to_bytes(state, -1)
            .map(|m| errors::c_str(m).to_vec())
            .unwrap_or_else(|| b"execution failure".to_vec());
        let msg = String::from_utf8_lossy(&msg[..msg.len().min(100)]).into_owned();
        return Reply::Error(errors::sanitize(
            format!("ERR Error running script {name}, {msg}").into_bytes(),
        ));
    }
    // Formatted with `%s` by Redis: each field is a C string, cut at a NUL.
    let [err, source, line] = match vm::error_fields(state) {
        Ok(fields) => fields.map(|f| f.map(|b| errors::c_str(&b).to_vec())),
        Err(raised) => {
            let mut text = b"ERR redstep: real Redis 7.0.15 crashes here (a Lua error outside any protected call): reading the fields of the script's error table raised: ".to_vec();
            text.extend_from_slice(&raised);
            text.extend_from_slice(format!(". script: {name}").as_bytes());
            return Reply::Error(errors::sanitize(text));
        }
    };
    let Some(mut text) = err else {
        return Reply::error(format!(
            "ERR redstep: real Redis 7.0.15 crashes here (SIGSEGV): the script raised a table without an 'err' field. script: {name}"
        ));
    };
    if let (Some(source), Some(line)) = (source, line) {
        text.extend_from_slice(format!(" script: {name}, on ").as_bytes());
        text.extend_from_slice(&source);
        text.push(b':');
        text.extend_from_slice(&line);
        text.push(b'.');
    }
    Reply::Error(errors::sanitize(text))
}

impl Extension for Scripting {
    fn call(&mut self, engine: &mut Engine, client: &mut Client, argv: &[Vec<u8>]) -> Reply {
        let name = argv[0].to_ascii_lowercase();
        match name.as_slice() {
            b"eval" => self.eval(engine, client, argv, false, false),
            b"evalsha" => self.eval(engine, client, argv, true, false),
            b"eval_ro" => self.eval(engine, client, argv, false, true),
            b"evalsha_ro" => self.eval(engine, client, argv, true, true),
            b"script" => self.script_command(argv),
            b"fcall" => self.fcall(engine, client, argv, false),
            b"fcall_ro" => self.fcall(engine, client, argv, true),
            b"function" => {
                let reply = self.function_command(argv);
                // What changes the libraries goes to replicas as called.
                let sub = argv.get(1).map(|s| s.to_ascii_lowercase());
                let writes = matches!(
                    sub.as_deref(),
                    Some(b"load" | b"delete" | b"flush" | b"restore")
                );
                if writes && !reply.is_error() {
                    engine.keyspace.propagation.force();
                }
                reply
            }
            _ => errors::unknown_command(argv),
        }
    }

    /// Redis's evalGetCommandFlags / fcallGetCommandFlags: a script with a
    /// shebang (cached, or read from the body) or a function declares its
    /// flags, which stand for the command's (scriptFlagsToCmdFlags); a
    /// script without one (compat mode), an unknown script or function, or
    /// a body whose shebang does not parse leaves them as they are.
    fn command_flags(&self, argv: &[Vec<u8>], flags: u32) -> u32 {
        let Some(body_or_name) = argv.get(1) else {
            return flags;
        };
        let declared = |script: &shebang::ScriptFlags| {
            if script.compat {
                flags
            } else {
                declared_flags(
                    flags,
                    script.no_writes,
                    script.allow_oom,
                    script.allow_stale,
                )
            }
        };
        match argv[0].to_ascii_lowercase().as_slice() {
            b"eval" | b"eval_ro" => match self.scripts.get(&sha1_hex(body_or_name)) {
                Some(script) => declared(&script.flags),
                None => shebang::parse(body_or_name).map_or(flags, |(f, _)| declared(&f)),
            },
            b"evalsha" | b"evalsha_ro" if body_or_name.len() == 40 => self
                .scripts
                .get(&String::from_utf8_lossy(body_or_name).to_ascii_lowercase())
                .map_or(flags, |script| declared(&script.flags)),
            b"fcall" | b"fcall_ro" => self.libraries.function(body_or_name).map_or(flags, |f| {
                declared_flags(flags, f.no_writes(), f.allow_oom(), f.allow_stale())
            }),
            _ => flags,
        }
    }
}
