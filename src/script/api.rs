//! The `redis` table scripts see (`redis.call`, `redis.pcall`, ...), the
//! conversions between Redis replies and Lua values, and the count hook
//! that enforces kills, budgets and busy polling.
//!
//! Functions called from Lua reach the running script's context through a
//! thread-local pointer set for the length of one run, as Redis reaches
//! its global run context.

use std::cell::Cell;
use std::ffi::c_int;
use std::time::{Duration, Instant};

use crate::engine::numbers::{c_cast_i64, write_g};
use crate::engine::table::{flags, CommandSpec};
use crate::engine::{errors, Bytes, Client, Engine, Extension, Reply};

use super::lua::{
    self, ffi, guard, push_bytes, push_error_table, raw_get_field, raw_set_field, set_function,
    Raise, State,
};
use super::{Interrupt, Probe};

pub(crate) const REDIS_VERSION: &str = "7.0.15";
pub(crate) const REDIS_VERSION_NUM: f64 = 458767.0;
/// Redis's count hook period.
pub(crate) const HOOK_INSTRUCTIONS: c_int = 100_000;

/// Why a run was stopped from outside the script.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// SCRIPT KILL (or its TUI equivalent) on a script that had not written.
    Killed,
    /// The redstep user stopped it (Esc); allowed even after writes.
    Interrupted,
    /// redstep's time budget ran out.
    Budget(Duration),
    /// A probe asked to stop (the trace reached its cap).
    Probe(String),
}

impl Stop {
    pub(crate) fn message(&self) -> String {
        match self {
            Stop::Killed => "Script killed by user with SCRIPT KILL...".into(),
            Stop::Interrupted => "Script stopped by the redstep user. Real Redis would answer SCRIPT KILL with UNKILLABLE once the script has written".into(),
            Stop::Probe(reason) => format!("Script stopped by redstep: {reason}"),
            Stop::Budget(d) => format!(
                "Script stopped by redstep after {} ms. Real Redis would keep running it and answer BUSY to other clients",
                d.as_millis()
            ),
        }
    }
}

/// Answers other clients while a script runs past the busy threshold.
pub trait BusyPoller {
    /// Serves pending requests (BUSY for most); returns true when a
    /// SCRIPT KILL was accepted. `wrote` tells whether the script has
    /// executed a write command (then SCRIPT KILL must answer UNKILLABLE).
    fn poll(&mut self, engine: &mut Engine, busy: &Busy<'_>) -> bool;
}

/// The busy script, as the poller sees it (FUNCTION STATS shows it).
pub struct Busy<'a> {
    pub name: &'a str,
    pub is_function: bool,
    /// It has run a write command (SCRIPT KILL answers UNKILLABLE).
    pub wrote: bool,
    /// The command that runs it (FCALL name numkeys ...).
    pub command: &'a [Vec<u8>],
    pub duration_ms: i64,
    /// Libraries and functions loaded (FUNCTION STATS's engines part).
    pub libraries: usize,
    pub functions: usize,
}

/// One script run's state, reachable from Lua callbacks.
pub(crate) struct RunContext<'a> {
    pub engine: &'a mut Engine,
    pub client: &'a mut Client,
    pub name: String,
    /// The command that runs it, and the functions loaded (for the poller).
    pub command: Vec<Vec<u8>>,
    pub counts: (usize, usize),
    pub is_function: bool,
    pub read_only: bool,
    /// Cluster mode: the slot the run is bound to (the caller's command's,
    /// or its first key's), and whether it may leave it (no shebang, or
    /// `allow-cross-slot-keys`).
    pub cluster_slot: Option<u16>,
    pub cross_slot_ok: bool,
    /// SCRIPT_ALLOW_OOM: a flags-mode script declared `allow-oom`; its
    /// writes are never refused for memory.
    pub allow_oom: bool,
    /// A write command was attempted (Redis's SCRIPT_WRITE_DIRTY).
    pub wrote: bool,
    /// `redis.setresp(3)` was called.
    pub resp3: bool,
    /// `redis.set_repl(...)`'s flags (REPL_ALL, 3, until it is called).
    pub repl: u8,
    pub started: Instant,
    pub busy_threshold: Duration,
    pub budget: Option<Duration>,
    pub interrupt: &'a Interrupt,
    pub poller: Option<&'a mut dyn BusyPoller>,
    pub probe: Option<&'a mut dyn Probe>,
    pub stopped: Option<Stop>,
    pub log: &'a mut Vec<String>,
    /// The arguments of the running `redis.call`, kept between calls so
    /// their buffers are reused.
    pub argv: Vec<Vec<u8>>,
    /// The last command called that has no subcommands: a loop calling
    /// the same command finds it without the table (the table does not
    /// change while a script runs).
    pub last_command: Option<CommandSpec>,
    /// The name as the script spelled it for `last_command` (compared as
    /// bytes first: the same spelling again needs no case folding).
    pub last_name: Vec<u8>,
}

thread_local! {
    /// The running script's context, type-erased (its lifetime is the run's).
    static CURRENT: Cell<*mut std::ffi::c_void> = const { Cell::new(std::ptr::null_mut()) };
}

/// Restores the previous context when a run ends.
pub(crate) struct Leave(*mut std::ffi::c_void);

impl Drop for Leave {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Makes `ctx` the current run for the life of the returned guard.
pub(crate) fn enter(ctx: &mut RunContext<'_>) -> Leave {
    let ptr = (ctx as *mut RunContext<'_>).cast::<std::ffi::c_void>();
    Leave(CURRENT.with(|c| c.replace(ptr)))
}

/// The current run, if a script is running on this thread.
///
/// # Safety
/// The caller must not keep the reference beyond the Lua callback it is in.
unsafe fn current<'a>() -> Option<&'a mut RunContext<'a>> {
    CURRENT.with(|c| c.get().cast::<RunContext<'a>>().as_mut())
}

// ---- registration --------------------------------------------------------------

/// The `redis` table: the API scripts and functions share (Redis's
/// `luaRegisterRedisAPI`), and for EVAL's state (`eval`) also
/// `replicate_commands`, `breakpoint` and `debug`, which Redis's eval.c
/// adds there only: a function finds them nil.
pub(crate) unsafe fn register_redis_table(state: State, eval: bool) {
    enum Field {
        Function(ffi::lua_CFunction),
        Number(f64),
        Text(&'static str),
    }
    use Field::{Function, Number, Text};
    // In Redis 7.0's order (luaRegisterRedisAPI: call, pcall, the log
    // function and levels, the version, ...; then eval.c's three), into a
    // table grown from empty as Redis's is: the order `pairs` visits a
    // table in follows where each key landed as it grew.
    let fields: [(&std::ffi::CStr, Field, bool); 23] = [
        (c"call", Function(redis_call), false),
        (c"pcall", Function(redis_pcall), false),
        (c"log", Function(redis_log), false),
        (c"LOG_DEBUG", Number(0.0), false),
        (c"LOG_VERBOSE", Number(1.0), false),
        (c"LOG_NOTICE", Number(2.0), false),
        (c"LOG_WARNING", Number(3.0), false),
        (c"REDIS_VERSION_NUM", Number(REDIS_VERSION_NUM), false),
        (c"REDIS_VERSION", Text(REDIS_VERSION), false),
        (c"setresp", Function(redis_setresp), false),
        (c"sha1hex", Function(redis_sha1hex), false),
        (c"error_reply", Function(redis_error_reply), false),
        (c"status_reply", Function(redis_status_reply), false),
        (c"set_repl", Function(redis_set_repl), false),
        (c"REPL_NONE", Number(0.0), false),
        (c"REPL_AOF", Number(1.0), false),
        (c"REPL_SLAVE", Number(2.0), false),
        (c"REPL_REPLICA", Number(2.0), false),
        (c"REPL_ALL", Number(3.0), false),
        (c"acl_check_cmd", Function(redis_acl_check_cmd), false),
        (c"breakpoint", Function(redis_breakpoint), true),
        (c"debug", Function(redis_debug), true),
        (
            c"replicate_commands",
            Function(redis_replicate_commands),
            true,
        ),
    ];
    ffi::lua_newtable(state);
    let t = ffi::lua_gettop(state);
    for (name, field, eval_only) in fields {
        if eval_only && !eval {
            continue;
        }
        match field {
            Function(f) => set_function(state, t, name, f),
            Number(n) => {
                ffi::lua_pushnumber(state, n);
                raw_set_field(state, t, name);
            }
            Text(text) => {
                lua::push_str(state, text);
                raw_set_field(state, t, name);
            }
        }
    }
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"redis".as_ptr());
}

// ---- redis.call / redis.pcall ------------------------------------------------------

/// Redis's `luaArgsToRedisArgv`: strings as they are, numbers with `%.17g`.
/// The call's arguments into `argv`, reusing its buffers.
unsafe fn args_to_argv(state: State, argv: &mut Vec<Vec<u8>>) -> Result<(), Vec<u8>> {
    let argc = ffi::lua_gettop(state) as usize;
    if argc == 0 {
        return Err(b"Please specify at least one argument for this redis lib call".to_vec());
    }
    if argv.len() != argc {
        // Exactly as long as needed (a traced call keeps its arguments).
        argv.truncate(argc);
        argv.reserve_exact(argc - argv.len());
        argv.resize_with(argc, Vec::new);
    }
    for (j, slot) in (1..).zip(argv.iter_mut()) {
        slot.clear();
        let (mut bytes, mut len, mut number) = (std::ptr::null(), 0, 0.0);
        match lua_argvalue(state, j, &mut bytes, &mut len, &mut number) {
            ffi::LUA_TSTRING => {
                slot.extend_from_slice(std::slice::from_raw_parts(bytes.cast::<u8>(), len))
            }
            ffi::LUA_TNUMBER => write_g(number, 17, slot),
            _ => {
                return Err(b"Lua redis lib command arguments must be strings or integers".to_vec())
            }
        }
    }
    Ok(())
}

/// The line of the Lua code that called the current C function: the
/// nearest Lua frame, past C functions such as `pcall(redis.call, ...)`.
unsafe fn caller_line(state: State) -> u32 {
    lua_callerline(state).max(0) as u32
}

extern "C-unwind" {
    // redstep's additions to Lua's API (vendor/lua-src/lua-5.1.5: lua_argvalue
    // in lapi.c, the rest in ldebug.c).
    /// An argument's type and its bytes (a string) or value (a number),
    /// read from the stack in one call (1 <= idx <= lua_gettop).
    fn lua_argvalue(
        state: State,
        idx: std::ffi::c_int,
        s: *mut *const std::ffi::c_char,
        len: *mut usize,
        n: *mut ffi::lua_Number,
    ) -> std::ffi::c_int;
    /// lua_getinfo's "S" `source` alone.
    fn lua_getsource(state: State, ar: *mut ffi::lua_Debug) -> *const std::ffi::c_char;
    /// How many levels lua_getstack finds.
    fn lua_stackdepth(state: State) -> std::ffi::c_int;
    /// The current line of the nearest Lua function from level 1 up (0: none).
    fn lua_callerline(state: State) -> std::ffi::c_int;
    /// The names of the declared locals in scope (`names[k]` is local
    /// k+1, lua_getlocal's numbering); how many, at most `max`.
    fn lua_localnames(
        state: State,
        ar: *const ffi::lua_Debug,
        names: *mut *const std::ffi::c_char,
        max: std::ffi::c_int,
    ) -> std::ffi::c_int;
    /// Pushes local `n`, a number lua_localnames gave.
    fn lua_pushlocal(state: State, ar: *const ffi::lua_Debug, n: std::ffi::c_int);
}

/// Whether a line event is in the user's code (`@user_script`,
/// `@user_function`), not in a chunk it built with `loadstring`: those
/// lines are not the script's, and Redis's debugger skips them too.
unsafe fn in_user_code(state: State, ar: *mut ffi::lua_Debug) -> bool {
    let source = lua_getsource(state, ar);
    // Compared byte by byte: the C string ends at a NUL, which differs
    // from every byte of the prefix (no strlen on every line).
    !source.is_null()
        && b"@user_"
            .iter()
            .enumerate()
            .all(|(i, &byte)| *source.add(i) as u8 == byte)
}

impl RunContext<'_> {
    /// Redis's `scriptCall`: the checks a command must pass inside a
    /// script, in Redis's order, then the command itself.
    /// Returns the reply and whether the command is a write command.
    fn call(&mut self, argv: &[Vec<u8>]) -> Result<(Reply, bool), &'static str> {
        let spec = match self.last_command {
            Some(spec) if self.last_name == argv[0] => spec,
            _ => {
                let Some(spec) = self.engine.command_table().resolve(argv).copied() else {
                    return Err("Unknown Redis command called from script");
                };
                if spec.subcommands.is_empty() && spec.full_name == spec.name {
                    self.last_command = Some(spec);
                    self.last_name.clone_from(&argv[0]);
                }
                spec
            }
        };
        if !spec.arity_ok(argv.len()) {
            return Err("Wrong number of args calling Redis command from script");
        }
        if spec.flags & flags::NOSCRIPT != 0 {
            return Err("This Redis command is not allowed from script");
        }
        if self.read_only && spec.flags & (flags::WRITE | flags::MAY_REPLICATE) != 0 {
            return Err("Write commands are not allowed from read-only scripts.");
        }
        // scriptVerifyOOM: only the first write can be refused (the script
        // may not stop halfway through its changes), and only when the
        // command that started it found the memory above `maxmemory`.
        if spec.flags & flags::DENYOOM != 0
            && !self.wrote
            && !self.allow_oom
            && self.engine.script_oom()
        {
            return Err(SCRIPT_OOM);
        }
        if spec.flags & flags::WRITE != 0 {
            self.wrote = true;
        }
        crate::engine::cluster::script_call(
            self.engine,
            &spec,
            argv,
            &mut self.cluster_slot,
            self.cross_slot_ok,
        )?;
        self.engine
            .feed_monitors(&spec, self.client.db, "lua", argv);
        // Without REPL_REPLICA (REPL_NONE, REPL_AOF) the command does not
        // propagate itself to replicas, as scriptCall's call() without
        // CMD_CALL_PROPAGATE_REPL; the stream is what a primary with
        // Redis's default `appendonly no` sends (an AOF-only command is
        // then not propagated at all, and not counted for MULTI/EXEC).
        let muted = std::mem::replace(
            &mut self.engine.keyspace.propagation.muted,
            self.repl & 2 == 0,
        );
        // (A command that would block answers at once in a script; `None`
        // cannot come. Not `unwrap_or`: it would drop the unused default
        // through Reply's drop glue on every call.)
        let reply = match self.engine.run(self.client, &spec, argv, &mut InScript) {
            Some(reply) => reply,
            None => Reply::NilArray,
        };
        self.engine.keyspace.propagation.muted = muted;
        Ok((reply, spec.is_write()))
    }
}

/// Redis's `shared.oomerr` as scriptCall passes it on (its code kept).
const SCRIPT_OOM: &str = "-OOM command not allowed when used memory > 'maxmemory'.";

/// The scripting layer's commands as a script reaches them: of SCRIPT and
/// FUNCTION only HELP (every other one is refused as `noscript` before).
struct InScript;

impl Extension for InScript {
    fn call(&mut self, _engine: &mut Engine, _client: &mut Client, argv: &[Bytes]) -> Reply {
        let help = match argv {
            [command, sub] if sub.eq_ignore_ascii_case(b"help") => {
                if command.eq_ignore_ascii_case(b"script") {
                    Some(super::SCRIPT_HELP)
                } else if command.eq_ignore_ascii_case(b"function") {
                    Some(super::functions::FUNCTION_HELP)
                } else {
                    None
                }
            }
            _ => None,
        };
        match help {
            Some(lines) => crate::engine::commands::help(lines),
            None => errors::unknown_command(argv),
        }
    }
}

unsafe fn generic_command(state: State, raise: bool) -> lua::Result<c_int> {
    let Some(ctx) = current() else {
        return Err(Raise::ErrorTable(
            b"redis.call/pcall can only be called inside a script invocation".to_vec(),
        ));
    };
    let mut argv = std::mem::take(&mut ctx.argv);
    match args_to_argv(state, &mut argv) {
        Ok(()) => {}
        Err(msg) if raise => return Err(Raise::ErrorTable(msg)),
        Err(msg) => {
            push_error_table(state, &msg);
            return Ok(1);
        }
    }
    let line = if ctx.probe.is_some() {
        caller_line(state)
    } else {
        0
    };
    let outcome = ctx.call(&argv);
    if let Some(probe) = ctx.probe.as_deref_mut() {
        let control = match &outcome {
            Ok((reply, write)) => probe.command(line, &argv, reply, *write),
            Err(e) => probe.command(
                line,
                &argv,
                &Reply::Error(lua::error_text(e.as_bytes())),
                false,
            ),
        };
        match control {
            super::Control::Stop(reason) => {
                ctx.stopped.get_or_insert(Stop::Probe(reason));
            }
            super::Control::Kill => {
                ctx.stopped.get_or_insert(Stop::Killed);
            }
            super::Control::Continue => {}
        }
    }
    // The buffers serve the next call (a probe copied what it keeps).
    ctx.argv = argv;
    let failed = match outcome {
        Err(msg) => {
            push_error_table(state, msg.as_bytes());
            mark_ignore_stats(state);
            true
        }
        Ok((reply, _)) => {
            ffi::lua_settop(state, 0);
            match reply {
                // The commonest reply (INCR's, SADD's, ...), without a call.
                Reply::Int(n) => {
                    ffi::lua_pushnumber(state, n as f64);
                    // An integer holds nothing to free: not handed to the
                    // drop glue of every reply (a call on every redis.call).
                    std::mem::forget(reply);
                    false
                }
                reply => {
                    let failed = reply.is_error();
                    push_value(state, reply, ctx.client.resp == 3)?;
                    failed
                }
            }
        }
    };
    if raise && failed {
        Err(Raise::OnStack)
    } else {
        Ok(1)
    }
}

unsafe fn mark_ignore_stats(state: State) {
    ffi::lua_pushboolean(state, 1);
    raw_set_field(state, -2, c"ignore_error_stats_update");
}

unsafe extern "C-unwind" fn redis_call(state: State) -> c_int {
    guard(state, |s| generic_command(s, true))
}

unsafe extern "C-unwind" fn redis_pcall(state: State) -> c_int {
    guard(state, |s| generic_command(s, false))
}

/// Redis reply -> Lua value: integers become numbers, nil becomes false
/// (nil under RESP3), status and error become `{ok=}` / `{err=}` tables,
/// and RESP3's map, set and double become `{map=}`, `{set=}`, `{double=}`.
/// Every table grows from empty as Redis's does (fields in Redis's order),
/// so `pairs` visits it and `#` measures it as in Redis (an array whose
/// nth item is later set to nil has Redis's border).
///
/// Runs disarmed (inside [`guard`]): what it pushes is charged against the
/// limit by hand, and a reply that does not fit is [`Raise::Memory`].
pub(crate) unsafe fn push_reply(state: State, reply: Reply, resp3: bool) -> lua::Result<()> {
    if ffi::lua_checkstack(state, 4) == 0 {
        return Err(Raise::Located(
            b"stack overflow (reply nested too deeply)".to_vec(),
        ));
    }
    push_value(state, reply, resp3)
}

/// [`push_reply`] where four stack slots are known to be free (a C
/// function called with its arguments cleared has Lua's `LUA_MINSTACK`).
unsafe fn push_value(state: State, reply: Reply, resp3: bool) -> lua::Result<()> {
    /// Lua's cost of one value in a table, roughly (TValue + node).
    const SLOT: usize = 40;
    match reply {
        Reply::Int(n) => ffi::lua_pushnumber(state, n as f64),
        Reply::Bulk(b) => {
            lua::check_room(state, b.len() + SLOT)?;
            push_bytes(state, &b)
        }
        Reply::Nil | Reply::NilArray if resp3 => ffi::lua_pushnil(state),
        Reply::Nil | Reply::NilArray => ffi::lua_pushboolean(state, 0),
        Reply::Double(d) => {
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_pushnumber(state, d);
            raw_set_field(state, -2, c"double");
        }
        // A RESP3 double sent as text reaches Lua through strtod, as in Redis.
        Reply::DoubleText(text) if resp3 => {
            let value = std::str::from_utf8(&text)
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0.0);
            push_reply(state, Reply::Double(value), resp3)?;
        }
        Reply::DoubleText(text) => push_reply(state, Reply::Bulk(text), resp3)?,
        Reply::Bool(b) => ffi::lua_pushboolean(state, c_int::from(b)),
        Reply::BigNumber(digits) => {
            lua::check_room(state, digits.len() + SLOT)?;
            ffi::lua_createtable(state, 0, 1);
            push_bytes(state, &digits);
            raw_set_field(state, -2, c"big_number");
        }
        Reply::Verbatim { format, text } => {
            lua::check_room(state, text.len() + 2 * SLOT)?;
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_createtable(state, 0, 0);
            push_bytes(state, &text);
            raw_set_field(state, -2, c"string");
            push_bytes(state, &format);
            raw_set_field(state, -2, c"format");
            raw_set_field(state, -2, c"verbatim_string");
        }
        Reply::Map(pairs) => {
            lua::check_room(state, pairs.len().saturating_mul(2 * SLOT))?;
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_createtable(state, 0, 0);
            for (count, (k, v)) in pairs.into_iter().enumerate() {
                push_reply(state, k, resp3)?;
                push_reply(state, v, resp3)?;
                lua::rawset_checked(state, -3, count)?;
            }
            raw_set_field(state, -2, c"map");
        }
        Reply::Set(items) => {
            lua::check_room(state, items.len().saturating_mul(2 * SLOT))?;
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_createtable(state, 0, 0);
            for (count, item) in items.into_iter().enumerate() {
                push_reply(state, item, resp3)?;
                ffi::lua_pushboolean(state, 1);
                lua::rawset_checked(state, -3, count)?;
            }
            raw_set_field(state, -2, c"set");
        }
        Reply::Status(s) => {
            lua::check_room(state, s.len() + SLOT)?;
            ffi::lua_createtable(state, 0, 1);
            push_bytes(state, &s);
            raw_set_field(state, -2, c"ok");
        }
        Reply::Error(e) => {
            lua::check_room(state, e.len() + SLOT)?;
            let mut raw = b"-".to_vec();
            raw.extend_from_slice(&e);
            push_error_table(state, &raw);
            mark_ignore_stats(state);
        }
        Reply::Array(items) | Reply::Push(items) => {
            lua::check_room(state, items.len().saturating_mul(SLOT))?;
            ffi::lua_createtable(state, 0, 0);
            for (i, item) in items.into_iter().enumerate() {
                push_reply(state, item, resp3)?;
                ffi::lua_rawseti_(state, -2, i as c_int + 1);
            }
        }
    }
    Ok(())
}

/// What converting one value into a [`Reply`] is charged against a
/// reply's budget: the value's bytes plus the `Reply` holding them.
fn charge(budget: &mut usize, bytes: usize) -> Option<()> {
    let cost = bytes.saturating_add(std::mem::size_of::<Reply>());
    *budget = budget.checked_sub(cost)?;
    Some(())
}

/// Lua value at the top -> reply for a RESP2 caller (Redis's
/// `luaReplyToRedisReply`); pops the value. None when the reply would take
/// more than `budget` bytes (the stack is then left for the caller to reset).
/// Called disarmed, outside any Lua call: it cannot raise.
pub(crate) unsafe fn pop_reply(state: State, resp3: bool, budget: &mut usize) -> Option<Reply> {
    if ffi::lua_checkstack(state, 4) == 0 {
        ffi::lua_pop(state, 1);
        return Some(Reply::error("ERR reached lua stack limit"));
    }
    let reply = match ffi::lua_type(state, -1) {
        ffi::LUA_TSTRING => {
            let bytes = lua::to_bytes(state, -1).unwrap_or(b"");
            charge(budget, bytes.len())?;
            Reply::Bulk(bytes.to_vec())
        }
        // After redis.setresp(3) a boolean is RESP3's (`:1`/`:0` for a RESP2
        // caller); before it, true is 1 and false the caller's null.
        ffi::LUA_TBOOLEAN => match (ffi::lua_toboolean(state, -1) != 0, resp3) {
            (b, true) => Reply::Bool(b),
            (true, false) => Reply::Int(1),
            (false, false) => Reply::Nil,
        },
        ffi::LUA_TNUMBER => Reply::Int(c_cast_i64(ffi::lua_tonumber(state, -1))),
        ffi::LUA_TTABLE => table_reply(state, resp3, budget)?,
        _ => Reply::Nil,
    };
    charge(budget, 0)?;
    ffi::lua_pop(state, 1);
    Some(reply)
}

unsafe fn table_reply(state: State, resp3: bool, budget: &mut usize) -> Option<Reply> {
    if raw_get_field(state, -1, c"err") == ffi::LUA_TSTRING {
        let text = crate::engine::errors::error_from_table(lua::to_bytes(state, -1).unwrap_or(b""));
        ffi::lua_pop(state, 1);
        charge(budget, text.len())?;
        return Some(Reply::Error(text));
    }
    ffi::lua_pop(state, 1);
    if raw_get_field(state, -1, c"ok") == ffi::LUA_TSTRING {
        // sdsnew(lua_tostring(...)): a C string, cut at a NUL.
        let text = crate::engine::errors::c_str(lua::to_bytes(state, -1).unwrap_or(b"")).to_vec();
        ffi::lua_pop(state, 1);
        charge(budget, text.len())?;
        return Some(Reply::Status(crate::engine::errors::sanitize(text)));
    }
    ffi::lua_pop(state, 1);
    if raw_get_field(state, -1, c"double") == ffi::LUA_TNUMBER {
        let value = ffi::lua_tonumber(state, -1);
        ffi::lua_pop(state, 1);
        return Some(Reply::Double(value));
    }
    ffi::lua_pop(state, 1);
    if raw_get_field(state, -1, c"big_number") == ffi::LUA_TSTRING {
        let text = lua::to_bytes(state, -1).unwrap_or(b"").to_vec();
        ffi::lua_pop(state, 1);
        charge(budget, text.len())?;
        return Some(Reply::BigNumber(crate::engine::errors::sanitize(text)));
    }
    ffi::lua_pop(state, 1);
    if raw_get_field(state, -1, c"verbatim_string") == ffi::LUA_TTABLE {
        let has_format = raw_get_field(state, -1, c"format") == ffi::LUA_TSTRING;
        // The format is a C string: its first three bytes, spaces after a NUL.
        let mut format = [b' '; 3];
        if has_format {
            let ext = crate::engine::errors::c_str(lua::to_bytes(state, -1).unwrap_or(b""));
            for (slot, b) in format.iter_mut().zip(ext) {
                *slot = *b;
            }
        }
        ffi::lua_pop(state, 1);
        if has_format && raw_get_field(state, -1, c"string") == ffi::LUA_TSTRING {
            let text = lua::to_bytes(state, -1).unwrap_or(b"").to_vec();
            ffi::lua_pop(state, 2);
            charge(budget, text.len())?;
            return Some(Reply::Verbatim { format, text });
        }
        ffi::lua_pop(state, if has_format { 1 } else { 0 });
    }
    ffi::lua_pop(state, 1);
    for (field, with_values) in [(c"map", true), (c"set", false)] {
        if raw_get_field(state, -1, field) == ffi::LUA_TTABLE {
            let mut items = Vec::new();
            let mut pairs = Vec::new();
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, -2) != 0 {
                ffi::lua_pushvalue(state, -2);
                if with_values {
                    let key = pop_reply(state, resp3, budget)?;
                    pairs.push((key, pop_reply(state, resp3, budget)?));
                } else {
                    items.push(pop_reply(state, resp3, budget)?);
                    ffi::lua_pop(state, 1);
                }
            }
            ffi::lua_pop(state, 1);
            return Some(if with_values {
                Reply::Map(pairs)
            } else {
                Reply::Set(items)
            });
        }
        ffi::lua_pop(state, 1);
    }
    let mut items = Vec::new();
    let mut j = 1;
    loop {
        ffi::lua_rawgeti_(state, -1, j);
        if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
            ffi::lua_pop(state, 1);
            break;
        }
        items.push(pop_reply(state, resp3, budget)?);
        j += 1;
    }
    Some(Reply::Array(items))
}

// ---- the rest of the redis table -------------------------------------------------------

unsafe extern "C-unwind" fn redis_sha1hex(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 1 {
            return Err(Raise::ErrorTable(b"wrong number of arguments".to_vec()));
        }
        let data = lua::to_bytes(s, 1).unwrap_or(b"").to_vec();
        lua::push_str(s, &super::sha1_hex(&data));
        Ok(1)
    })
}

unsafe extern "C-unwind" fn redis_error_reply(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 1 || ffi::lua_type(s, -1) != ffi::LUA_TSTRING {
            push_error_table(s, b"wrong number or type of arguments");
            return Ok(1);
        }
        // Redis copies the message as a C string: a NUL ends it.
        let text = crate::engine::errors::c_str(lua::to_bytes(s, -1).unwrap_or(b""));
        let raw = if text.first() == Some(&b'-') {
            text.to_vec()
        } else {
            [b"-", text].concat()
        };
        push_error_table(s, &raw);
        Ok(1)
    })
}

unsafe extern "C-unwind" fn redis_status_reply(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 1 || ffi::lua_type(s, -1) != ffi::LUA_TSTRING {
            push_error_table(s, b"wrong number or type of arguments");
            return Ok(1);
        }
        ffi::lua_createtable(s, 0, 1);
        ffi::lua_pushvalue(s, -2);
        raw_set_field(s, -2, c"ok");
        Ok(1)
    })
}

unsafe extern "C-unwind" fn redis_log(state: State) -> c_int {
    guard(state, |s| {
        let argc = ffi::lua_gettop(s);
        if argc < 2 {
            return Err(Raise::ErrorTable(
                b"redis.log() requires two arguments or more.".to_vec(),
            ));
        }
        if ffi::lua_isnumber(s, 1) == 0 {
            return Err(Raise::ErrorTable(
                b"First argument must be a number (log level).".to_vec(),
            ));
        }
        let level = ffi::lua_tonumber(s, 1) as c_int;
        if !(0..=3).contains(&level) {
            return Err(Raise::ErrorTable(b"Invalid debug level.".to_vec()));
        }
        // Redis's default verbosity is notice: debug and verbose lines are dropped.
        if level < 2 {
            return Ok(0);
        }
        // Redis writes the whole line to its log file; redstep keeps the
        // last lines in memory, so each is cut (a script logging a 50 MB
        // string in a loop would otherwise grow the process past the limit).
        let mut line = Vec::new();
        let mut total = 0usize;
        for j in 2..=argc {
            if let Some(text) = lua::to_bytes(s, j) {
                if j != 2 {
                    line.push(b' ');
                    total += 1;
                }
                total += text.len();
                let room = LOG_LINE_MAX.saturating_sub(line.len());
                line.extend_from_slice(&text[..text.len().min(room)]);
            }
        }
        if let Some(ctx) = current() {
            let mark = if level == 3 { '#' } else { '*' };
            let mut entry = format!("{mark} {}", String::from_utf8_lossy(&line));
            if total > line.len() {
                entry.push_str(&format!("… (cut by redstep: {total} bytes)"));
            }
            ctx.log.push(entry);
            if ctx.log.len() > 1000 {
                ctx.log.remove(0);
            }
        }
        Ok(0)
    })
}

/// The longest `redis.log` line redstep keeps, in bytes.
const LOG_LINE_MAX: usize = 8 * 1024;

unsafe extern "C-unwind" fn redis_setresp(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 1 {
            return Err(Raise::ErrorTable(
                b"redis.setresp() requires one argument.".to_vec(),
            ));
        }
        let resp = ffi::lua_tonumber(s, 1) as c_int;
        if resp != 2 && resp != 3 {
            return Err(Raise::ErrorTable(b"RESP version must be 2 or 3.".to_vec()));
        }
        if let Some(ctx) = current() {
            ctx.resp3 = resp == 3;
            ctx.client.resp = resp as u8;
        }
        Ok(0)
    })
}

unsafe extern "C-unwind" fn redis_set_repl(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 1 {
            return Err(Raise::ErrorTable(
                b"redis.set_repl() requires two arguments.".to_vec(),
            ));
        }
        let flags = ffi::lua_tonumber(s, 1) as c_int;
        if flags & !3 != 0 {
            return Err(Raise::ErrorTable(
                b"Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
                    .to_vec(),
            ));
        }
        if let Some(ctx) = current() {
            ctx.repl = flags as u8;
        }
        Ok(0)
    })
}

unsafe extern "C-unwind" fn redis_replicate_commands(state: State) -> c_int {
    ffi::lua_pushboolean(state, 1);
    1
}

unsafe extern "C-unwind" fn redis_breakpoint(state: State) -> c_int {
    ffi::lua_pushboolean(state, 0);
    1
}

unsafe extern "C-unwind" fn redis_debug(_state: State) -> c_int {
    0
}

unsafe extern "C-unwind" fn redis_acl_check_cmd(state: State) -> c_int {
    guard(state, |s| {
        let Some(ctx) = current() else {
            return Err(Raise::ErrorTable(
                b"redis.acl_check_cmd can only be called inside a script invocation".to_vec(),
            ));
        };
        let mut argv = Vec::new();
        args_to_argv(s, &mut argv).map_err(Raise::ErrorTable)?;
        if ctx.engine.command_table().resolve(&argv).is_none() {
            return Err(Raise::ErrorTable(
                b"Invalid command passed to redis.acl_check_cmd()".to_vec(),
            ));
        }
        // The default user may run everything.
        ffi::lua_pushboolean(s, 1);
        Ok(1)
    })
}

// ---- the hook ----------------------------------------------------------------------

/// Installs the hook: every 100,000 instructions as Redis, plus every line
/// while a probe listens or once the script was stopped.
pub(crate) unsafe fn set_hook(state: State, every_line: bool) {
    let mask = ffi::LUA_MASKCOUNT | if every_line { ffi::LUA_MASKLINE } else { 0 };
    ffi::lua_sethook(state, Some(hook), mask, HOOK_INSTRUCTIONS);
}

pub(crate) unsafe fn clear_hook(state: State) {
    ffi::lua_sethook(state, None, 0, 0);
}

/// The stop reason when a hook's Rust code panicked.
pub(crate) const HOOK_PANIC: &str =
    "redstep internal error (a bug): a Rust panic in the line or count hook";

unsafe extern "C-unwind" fn hook(state: State, ar: *mut ffi::lua_Debug) {
    // Disarmed, like every Rust function Lua calls (see `lua`), and no
    // panic may unwind into Lua's C frames.
    let disarmed = lua::disarm(state);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook_body(state, ar)));
    let message = match outcome {
        Ok(message) => message,
        Err(payload) => {
            std::mem::forget(payload);
            let stop = Stop::Probe(HOOK_PANIC.into());
            let message = stop.message().into_bytes();
            if let Some(ctx) = current() {
                ctx.stopped.get_or_insert(stop);
            }
            Some(message)
        }
    };
    lua::rearm(disarmed);
    if let Some(message) = message {
        // From now on fire on every line, so pcall cannot swallow the stop.
        set_hook(state, true);
        lua::throw(state, Raise::ErrorTable(message));
    }
}

/// The hook's work; returns the message to stop the script with.
unsafe fn hook_body(state: State, ar: *mut ffi::lua_Debug) -> Option<Vec<u8>> {
    let ctx = current()?;
    if ctx.stopped.is_none() && (*ar).event == ffi::LUA_HOOKLINE && in_user_code(state, ar) {
        if let Some(probe) = ctx.probe.as_deref_mut() {
            let frame = Frame {
                state,
                ar,
                line: (*ar).currentline.max(0) as u32,
            };
            match probe.line(&frame) {
                super::Control::Stop(reason) => ctx.stopped = Some(Stop::Probe(reason)),
                super::Control::Kill => ctx.stopped = Some(Stop::Killed),
                super::Control::Continue => {}
            }
        }
    }
    if ctx.stopped.is_none() && (*ar).event == ffi::LUA_HOOKCOUNT {
        if (*lua::allocator(state)).refused {
            // A memory error was caught by the script; Lua 5.1 has no
            // emergency collection, so collect what it left behind.
            lua::collect_garbage(state);
        }
        ctx.stopped = check_stop(ctx);
    }
    ctx.stopped.as_ref().map(|stop| stop.message().into_bytes())
}

/// The Lua function running when a line event fires, for a probe.
pub struct Frame {
    state: State,
    ar: *mut ffi::lua_Debug,
    pub line: u32,
}

impl Frame {
    /// How many functions are active (the main chunk is 1).
    pub(crate) fn depth(&self) -> u32 {
        // SAFETY: the state is valid during the hook that made this frame;
        // lua_stackdepth reads its call stack, neither allocating nor raising.
        let depth = unsafe { lua_stackdepth(self.state) }.max(0) as u32;
        debug_assert_eq!(
            depth,
            self.levels(),
            "lua_stackdepth counts as lua_getstack"
        );
        depth
    }

    /// The levels lua_getstack finds, one call each (what `depth` counts).
    fn levels(&self) -> u32 {
        // SAFETY: lua_Debug is plain C data; all zeroes is a valid value.
        let mut ar: ffi::lua_Debug = unsafe { std::mem::zeroed() };
        let mut level = 0;
        // SAFETY: as in `depth`; lua_getstack neither allocates nor raises.
        while unsafe { ffi::lua_getstack(self.state, level, &mut ar) } != 0 {
            level += 1;
        }
        level as u32
    }

    /// Each of the current function's local variables that are in scope,
    /// with its value rendered as a short Lua-style string (at most
    /// `max_len` characters, in `value`: one buffer for every value, so no
    /// allocation a value), in the order they were declared.
    pub(crate) fn each_local(
        &self,
        max_len: usize,
        value: &mut String,
        mut found: impl FnMut(&str, &str),
    ) {
        // SAFETY: `ar` is the hook's activation record; lua_pushlocal
        // pushes one value per local, popped below. A frame exists only
        // inside the hook, which runs disarmed (see `lua`): these calls
        // may allocate (stack room) but cannot raise over the Strings
        // built here.
        unsafe {
            // Lua allows 200 locals a function (LUAI_MAXVARS), so all are
            // named in one walk.
            // Uninitialised: zeroing 2 KB a line would cost more than the walk.
            let mut names =
                [const { std::mem::MaybeUninit::<*const std::ffi::c_char>::uninit() }; 256];
            let count = lua_localnames(self.state, self.ar, names.as_mut_ptr().cast(), 256);
            for (n, name) in (1..).zip(&names[..count.clamp(0, 256) as usize]) {
                // The first `count` were written; Lua's own (`(for index)`)
                // are not shown.
                let name = lua::cstr_bytes(name.assume_init());
                if name.first() == Some(&b'(') {
                    continue;
                }
                lua_pushlocal(self.state, self.ar, n);
                value.clear();
                render_value_into(self.state, -1, max_len, 1, value);
                match std::str::from_utf8(name) {
                    Ok(name) => found(name, value),
                    Err(_) => found(&String::from_utf8_lossy(name), value),
                }
                ffi::lua_pop(self.state, 1);
            }
        }
    }
}

/// Clips what `out` holds from `start` to `max_len` characters, the last
/// one an ellipsis.
fn clip(out: &mut String, start: usize, max_len: usize) {
    let text = &out[start..];
    // No more bytes than `max_len`: no more characters either.
    if text.len() > max_len && text.chars().count() > max_len {
        let keep = text
            .char_indices()
            .nth(max_len.saturating_sub(1))
            .map_or(text.len(), |(at, _)| at);
        out.truncate(start + keep);
        out.push('…');
    }
}

/// A Lua value as a short string, without calling metamethods.
unsafe fn render_value(state: State, idx: c_int, max_len: usize, depth: u32) -> String {
    let mut out = String::new();
    render_value_into(state, idx, max_len, depth, &mut out);
    out
}

/// [`render_value`] appended to `out`.
unsafe fn render_value_into(
    state: State,
    idx: c_int,
    max_len: usize,
    depth: u32,
    out: &mut String,
) {
    use std::fmt::Write;
    let idx = lua::absolute(state, idx);
    let start = out.len();
    match ffi::lua_type(state, idx) {
        ffi::LUA_TNIL => out.push_str("nil"),
        ffi::LUA_TBOOLEAN => out.push_str(if ffi::lua_toboolean(state, idx) != 0 {
            "true"
        } else {
            "false"
        }),
        // SAFETY: %g writes ASCII only, so `out` stays UTF-8.
        ffi::LUA_TNUMBER => write_g(ffi::lua_tonumber(state, idx), 14, out.as_mut_vec()),
        ffi::LUA_TSTRING => {
            let mut len = 0usize;
            let ptr = ffi::lua_tolstring(state, idx, &mut len);
            let bytes = std::slice::from_raw_parts(ptr.cast::<u8>(), len.min(max_len * 4));
            let _ = write!(out, "{:?}", String::from_utf8_lossy(bytes));
        }
        ffi::LUA_TTABLE if depth > 2 => out.push_str("{…}"),
        ffi::LUA_TTABLE => {
            if ffi::lua_checkstack(state, 3) == 0 {
                out.push_str("{…}");
                return;
            }
            let mut parts = Vec::new();
            let mut array_next = 1.0;
            ffi::lua_pushnil(state);
            while ffi::lua_next(state, idx) != 0 {
                if parts.len() == 6 {
                    parts.push("…".to_string());
                    ffi::lua_pop(state, 2);
                    break;
                }
                let value = render_value(state, -1, max_len, depth + 1);
                let key_is_next = ffi::lua_type(state, -2) == ffi::LUA_TNUMBER
                    && ffi::lua_tonumber(state, -2) == array_next;
                if key_is_next {
                    array_next += 1.0;
                    parts.push(value);
                } else if ffi::lua_type(state, -2) == ffi::LUA_TSTRING {
                    ffi::lua_pushvalue(state, -2);
                    let key = String::from_utf8_lossy(lua::to_bytes(state, -1).unwrap_or(b""))
                        .into_owned();
                    ffi::lua_pop(state, 1);
                    parts.push(format!("{key}={value}"));
                } else {
                    let key = render_value(state, -2, max_len, depth + 1);
                    parts.push(format!("[{key}]={value}"));
                }
                ffi::lua_pop(state, 1);
            }
            let _ = write!(out, "{{{}}}", parts.join(", "));
        }
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, idx).is_null() => {
            out.push_str("cjson.null")
        }
        ffi::LUA_TFUNCTION => out.push_str("function"),
        other => out.push_str(&String::from_utf8_lossy(lua::cstr_bytes(
            ffi::lua_typename(state, other),
        ))),
    }
    clip(out, start, max_len);
}

fn check_stop(ctx: &mut RunContext<'_>) -> Option<Stop> {
    if ctx.interrupt.stopping() {
        return Some(Stop::Interrupted);
    }
    let elapsed = ctx.started.elapsed();
    if let Some(budget) = ctx.budget {
        if elapsed >= budget {
            return Some(Stop::Budget(budget));
        }
    }
    if elapsed >= ctx.busy_threshold {
        if let Some(poller) = ctx.poller.as_deref_mut() {
            let busy = Busy {
                name: &ctx.name,
                is_function: ctx.is_function,
                wrote: ctx.wrote,
                command: &ctx.command,
                duration_ms: elapsed.as_millis() as i64,
                libraries: ctx.counts.0,
                functions: ctx.counts.1,
            };
            if poller.poll(ctx.engine, &busy) {
                return Some(Stop::Killed);
            }
        }
    }
    None
}
