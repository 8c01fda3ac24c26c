//! The Lua 5.1 state, built as Redis 7.0 builds it: the same libraries,
//! the same removed functions, Redis's `pcall`, its error handler, and
//! read-only globals and library tables.
//!
//! The Lua redstep builds (vendor/lua-src) has Redis's read-only tables:
//! a store into one, raw or not, or a new metatable for it, raises
//! "Attempt to modify a readonly table". As Redis, the globals and every
//! table reachable from them are made read-only once the libraries are in;
//! KEYS and ARGV are set with the globals unlocked for a moment. The
//! functions state hides its globals behind an empty read-only table whose
//! metatable reads through to them, so FUNCTION LOAD can switch what
//! library code sees. Its parser, as Redis's, never loads bytecode.

use std::ffi::{c_int, CStr};

use super::lua::{
    self, ffi, guard, push_bytes, raw_get_field, raw_set_field, set_function, Raise, State,
};

/// Registry fields.
const GLOBALS: &CStr = c"redstep.globals"; // the functions state's real globals
const ERROR_HANDLER_GLOBAL: &CStr = c"__redis__err__handler";
/// Registry field holding the error handler (functions have no global for it).
pub(crate) const ERROR_HANDLER: &CStr = c"redstep.error_handler";
/// Registry field holding what FUNCTION LOAD code sees as its globals.
const LOAD_API: &CStr = c"redstep.load_api";

extern "C-unwind" {
    // Redis 7.0's additions to Lua's API (vendor/lua-src/lua-5.1.5/lapi.c).
    fn lua_enablereadonlytable(state: State, index: c_int, enabled: c_int);
    fn lua_isreadonlytable(state: State, index: c_int) -> c_int;
}

/// The C stack a script's call needs left: Lua's pattern matcher may take
/// 16 MB of it (it stops there, past where Redis 7.0.15 crashes with its
/// 8 MB; see vendor/lua-src/README.md), Lua and redstep's own frames the
/// rest.
const SCRIPT_RED_ZONE: usize = 20 << 20;
/// The stack a script runs on when its thread has less left (a main
/// thread's 8 MB, a test thread's 2 MB). It is mapped, not allocated:
/// only the pages a script touches cost memory.
const SCRIPT_STACK: usize = 24 << 20;

/// `lua_pcall`, on a stack with room for whatever the script does.
///
/// # Safety
/// As `lua_pcall`: a function and its `nargs` arguments on top of `state`.
pub(crate) unsafe fn protected_call(
    state: State,
    nargs: c_int,
    nresults: c_int,
    handler: c_int,
) -> c_int {
    stacker::maybe_grow(SCRIPT_RED_ZONE, SCRIPT_STACK, || {
        // SAFETY: as the caller promised; the call neither moves nor
        // outlives the state.
        unsafe { ffi::lua_pcall(state, nargs, nresults, handler) }
    })
}

/// A Lua state configured like Redis's scripting VM.
pub(crate) struct Vm {
    pub state: State,
    allocator: Box<lua::Allocator>,
}

impl Drop for Vm {
    fn drop(&mut self) {
        // SAFETY: the state was created by lua_newstate and is closed once.
        unsafe { ffi::lua_close(self.state) }
    }
}

impl Vm {
    /// Builds the state (the libraries, Redis's bundled ones among them,
    /// opened in Redis's order); `register` adds the `redis` table to the
    /// real globals before they are locked. The EVAL state
    /// has the `__redis__err__handler` global; the functions state does not.
    pub fn new(memory_limit: usize, eval: bool, register: impl FnOnce(State)) -> Vm {
        let mut allocator = Box::<lua::Allocator>::default();
        // SAFETY: allocate() follows lua_Alloc's contract; the box outlives
        // the state (Drop closes the state first).
        let state = unsafe {
            ffi::lua_newstate(
                lua::allocate,
                (&mut *allocator as *mut lua::Allocator).cast(),
            )
        };
        assert!(!state.is_null(), "cannot create a Lua state");
        // SAFETY: a fresh state, disarmed (no limit yet): an allocation
        // either succeeds or aborts, and nothing else here raises, so no
        // error can reach the panic function.
        unsafe {
            ffi::lua_atpanic(state, lua::on_panic);
            open_libraries(state);
            register(state);
            define_error_handler(state, eval);
            lock_globals(state, eval);
        }
        allocator.limit = memory_limit;
        Vm { state, allocator }
    }

    pub fn used_memory(&self) -> usize {
        self.allocator.used
    }

    /// Runs a full garbage collection (after a memory error).
    pub(crate) fn collect_garbage(&self) {
        // SAFETY: the state is valid and outside any Lua call; collected
        // disarmed, so it cannot raise (no userdata has a __gc).
        unsafe { lua::collect_garbage(self.state) }
    }
}

unsafe fn open_libraries(state: State) {
    // Redis's luaSetAllowListProtection: while the libraries register,
    // a global that is not on the allow list is dropped.
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_pushcclosure(state, allow_listed, 0);
    raw_set_field(state, -2, c"__newindex");
    ffi::lua_setmetatable(state, ffi::LUA_GLOBALSINDEX);
    for open in [
        ffi::luaopen_base,
        ffi::luaopen_table,
        ffi::luaopen_string,
        ffi::luaopen_math,
        // For the error handler only, which takes it out of the globals.
        ffi::luaopen_debug,
    ] {
        ffi::lua_pushcclosure(state, open, 0);
        ffi::lua_call(state, 0, 0);
    }
    super::libs::register(state);
    // Redis's replacements.
    set_function(state, ffi::LUA_GLOBALSINDEX, c"pcall", redis_pcall);
    ffi::lua_getfield_(state, ffi::LUA_GLOBALSINDEX, c"math".as_ptr());
    set_function(state, -1, c"random", math_random);
    set_function(state, -1, c"randomseed", math_randomseed);
    ffi::lua_pop(state, 1);
}

/// The globals a library may add (script_lua.c's allow lists, as Debian's
/// Redis 7.0.15 has them: without `getfenv`, `setfenv` and `newproxy`,
/// which it lacks). `print`, `dofile`, `loadfile` and those three are
/// dropped.
const ALLOWED_GLOBALS: [&[u8]; 34] = [
    // libraries
    b"string",
    b"cjson",
    b"bit",
    b"cmsgpack",
    b"math",
    b"table",
    b"struct",
    // Redis's API
    b"redis",
    b"__redis__err__handler",
    // Lua's builtins
    b"xpcall",
    b"tostring",
    b"setmetatable",
    b"next",
    b"assert",
    b"tonumber",
    b"rawequal",
    b"collectgarbage",
    b"getmetatable",
    b"rawset",
    b"pcall",
    b"coroutine",
    b"type",
    b"_G",
    b"select",
    b"unpack",
    b"gcinfo",
    b"pairs",
    b"rawget",
    b"loadstring",
    b"ipairs",
    b"_VERSION",
    b"load",
    b"error",
    // removed once the error handler holds it
    b"debug",
];

/// The globals' `__newindex` while the libraries register (Redis's
/// luaNewIndexAllowList): an allowed name is stored, any other dropped.
/// As in Redis, Lua has already made room for the name in the table by
/// then, which is why the order `pairs` visits the globals in is Redis's.
unsafe extern "C-unwind" fn allow_listed(state: State) -> c_int {
    let allowed = lua::to_bytes(state, 2).is_some_and(|name| ALLOWED_GLOBALS.contains(&name));
    if allowed {
        ffi::lua_rawset(state, 1);
    }
    0
}

/// Redis's luaSetTableProtectionRecursively: makes the table on top, every
/// table reachable from it and their metatables read-only.
unsafe fn protect_recursively(state: State) {
    if lua_isreadonlytable(state, -1) != 0 {
        return;
    }
    lua_enablereadonlytable(state, -1, 1);
    ffi::luaL_checkstack_(state, 2, c"protecting tables".as_ptr());
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
            protect_recursively(state);
        }
        ffi::lua_pop(state, 1);
    }
    if ffi::lua_getmetatable(state, -1) != 0 {
        protect_recursively(state);
        ffi::lua_pop(state, 1);
    }
}

/// Locks the globals as Redis does once the libraries are registered: an
/// error metatable on them, then everything reachable made read-only (the
/// strings' metatable too, read-only in Redis 7.0.15 as well). The
/// functions state then gets its empty front table.
unsafe fn lock_globals(state: State, eval: bool) {
    ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX);
    set_raising_metatable(state);
    protect_recursively(state);
    ffi::lua_pushlstring_(state, c"".as_ptr(), 0);
    if ffi::lua_getmetatable(state, -1) != 0 {
        protect_recursively(state);
        ffi::lua_pop(state, 1);
    }
    ffi::lua_pop(state, 1);
    if eval {
        ffi::lua_pop(state, 1);
        return;
    }
    // The functions state (function_lua.c): the real globals saved, and an
    // empty read-only table in front whose read-only metatable reads
    // through to them (or to the load API during FUNCTION LOAD).
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
    ffi::lua_createtable(state, 0, 0);
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
    raw_set_field(state, -2, c"__index");
    lua_enablereadonlytable(state, -1, 1);
    ffi::lua_setmetatable(state, -2);
    lua_enablereadonlytable(state, -1, 1);
    ffi::lua_replace(state, ffi::LUA_GLOBALSINDEX);
}

/// Builds what FUNCTION LOAD code sees as globals: only `redis` with
/// `register_function`, `log`, the log levels and the version; every other
/// name raises. (Redis's "library API".)
pub(crate) unsafe fn build_load_api(state: State, register_function: ffi::lua_CFunction) {
    // The load-time globals, and their `redis` table.
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_createtable(state, 0, 8);
    set_function(state, -1, c"register_function", register_function);
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
    raw_get_field(state, -1, c"redis");
    for name in [
        c"log",
        c"LOG_DEBUG",
        c"LOG_VERBOSE",
        c"LOG_NOTICE",
        c"LOG_WARNING",
        c"REDIS_VERSION",
        c"REDIS_VERSION_NUM",
    ] {
        raw_get_field(state, -1, name);
        raw_set_field(state, -4, name);
    }
    ffi::lua_pop(state, 2);
    set_raising_metatable(state);
    raw_set_field(state, -2, c"redis");
    set_raising_metatable(state);
    protect_recursively(state);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, LOAD_API.as_ptr());
}

/// Gives the table on top a metatable whose __index raises on undefined
/// names (Redis's luaSetErrorMetatable).
unsafe fn set_raising_metatable(state: State) {
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_pushcclosure(state, undefined_global, 0);
    raw_set_field(state, -2, c"__index");
    ffi::lua_setmetatable(state, -2);
}

/// Points the functions state's globals at the load API (during FUNCTION
/// LOAD) or back at the real globals.
pub(crate) unsafe fn use_load_api(state: State, load: bool) {
    ffi::lua_getmetatable(state, ffi::LUA_GLOBALSINDEX);
    lua_enablereadonlytable(state, -1, 0);
    let field = if load { LOAD_API } else { GLOBALS };
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, field.as_ptr());
    raw_set_field(state, -2, c"__index");
    lua_enablereadonlytable(state, -1, 1);
    ffi::lua_pop(state, 1);
}

// ---- functions exported to Lua ---------------------------------------------------

/// Redis's luaProtectedTableError, the `__index` of the globals' metatable.
unsafe extern "C-unwind" fn undefined_global(state: State) -> c_int {
    guard(state, |s| {
        if ffi::lua_gettop(s) != 2 {
            return Err(Raise::Located(
                b"Wrong number of arguments to luaProtectedTableError".to_vec(),
            ));
        }
        if ffi::lua_isstring(s, -1) == 0 {
            return Err(Raise::Located(
                b"Second argument to luaProtectedTableError must be a string or number".to_vec(),
            ));
        }
        // luaL_error's %s: the name ends at a NUL.
        let name = lua::to_bytes(s, -1).map(|b| b.to_vec()).unwrap_or_default();
        let name = crate::engine::errors::c_str(&name);
        let mut msg = b"Script attempted to access nonexistent global variable '".to_vec();
        msg.extend_from_slice(name);
        msg.push(b'\'');
        Err(Raise::Located(msg))
    })
}

/// Redis's error handler, as Lua code (eval.c's scriptingInit; the
/// functions state's, in function_lua.c, is the same function returned
/// instead of a global): any error becomes a table with `err`, and the
/// `source` and `line` of the Lua code that raised it. Being Lua, it fails
/// as Redis's does on a read-only error table (`err_handler_def:10`).
const ERROR_HANDLER_EVAL: &str = "local dbg = debug\n\
debug = nil\n\
function __redis__err__handler(err)\n";
const ERROR_HANDLER_FUNCTIONS: &str = "local dbg = debug\n\
debug = nil\n\
local error_handler = function (err)\n";
const ERROR_HANDLER_BODY: &str = "  local i = dbg.getinfo(2,'nSl')\n\
\x20 if i and i.what == 'C' then\n\
\x20   i = dbg.getinfo(3,'nSl')\n\
\x20 end\n\
\x20 if type(err) ~= 'table' then\n\
\x20   err = {err='ERR ' .. tostring(err)}\
\x20 end\
\x20 if i then\n\
\x20   err['source'] = i.source\n\
\x20   err['line'] = i.currentline\n\
\x20 end\
\x20 return err\n\
end\n";

/// Defines the error handler (chunk `@err_handler_def`, as Redis) and keeps
/// it in the registry; in the EVAL state it is also the global
/// `__redis__err__handler`. The `debug` library goes with it.
unsafe fn define_error_handler(state: State, eval: bool) {
    let code = if eval {
        format!("{ERROR_HANDLER_EVAL}{ERROR_HANDLER_BODY}")
    } else {
        format!("{ERROR_HANDLER_FUNCTIONS}{ERROR_HANDLER_BODY}return error_handler")
    };
    let status = ffi::luaL_loadbuffer(
        state,
        code.as_ptr().cast(),
        code.len(),
        c"@err_handler_def".as_ptr(),
    );
    assert_eq!(status, 0, "the error handler compiles");
    ffi::lua_call(state, 0, if eval { 0 } else { 1 });
    if eval {
        ffi::lua_getfield_(state, ffi::LUA_GLOBALSINDEX, ERROR_HANDLER_GLOBAL.as_ptr());
    }
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, ERROR_HANDLER.as_ptr());
}

/// Redis's `pcall`: a caught error table with a string `err` becomes that
/// string, so code written for string errors keeps working.
unsafe extern "C-unwind" fn redis_pcall(state: State) -> c_int {
    let argc = ffi::lua_gettop(state);
    ffi::lua_pushboolean(state, 1);
    ffi::lua_insert(state, 1);
    let status = ffi::lua_pcall(state, argc - 1, ffi::LUA_MULTRET, 0);
    if status == ffi::LUA_ERRMEM {
        // What did not fit is garbage now; collect it, so a script that
        // caught the error can go on (Lua 5.1 has no emergency collection).
        lua::collect_garbage(state);
    }
    if status != 0 {
        ffi::lua_remove(state, 1);
        if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
            ffi::lua_getfield_(state, -1, c"err".as_ptr());
            if ffi::lua_isstring(state, -1) != 0 {
                ffi::lua_replace(state, -2);
            } else {
                ffi::lua_pop(state, 1);
            }
        }
        ffi::lua_pushboolean(state, 0);
        ffi::lua_insert(state, 1);
    }
    ffi::lua_gettop(state)
}

unsafe extern "C-unwind" fn math_random(state: State) -> c_int {
    use super::prng::{lrand48, LRAND48_MAX};
    let r = f64::from(lrand48() % LRAND48_MAX) / f64::from(LRAND48_MAX);
    match ffi::lua_gettop(state) {
        0 => ffi::lua_pushnumber(state, r),
        1 => {
            let upper = ffi::luaL_checkinteger(state, 1) as c_int;
            if upper < 1 {
                ffi::luaL_argerror(state, 1, c"interval is empty".as_ptr());
            }
            ffi::lua_pushnumber(state, (r * f64::from(upper)).floor() + 1.0);
        }
        2 => {
            let lower = ffi::luaL_checkinteger(state, 1) as c_int;
            let upper = ffi::luaL_checkinteger(state, 2) as c_int;
            if lower > upper {
                ffi::luaL_argerror(state, 2, c"interval is empty".as_ptr());
            }
            let span = f64::from(upper.wrapping_sub(lower).wrapping_add(1));
            ffi::lua_pushnumber(state, (r * span).floor() + f64::from(lower));
        }
        _ => {
            ffi::luaL_error(state, c"wrong number of arguments".as_ptr());
        }
    }
    1
}

unsafe extern "C-unwind" fn math_randomseed(state: State) -> c_int {
    let seed = ffi::luaL_checkinteger(state, 1) as i32;
    super::prng::srand48(seed);
    0
}

/// Compiles `code` with this chunk name, leaving the function on the stack;
/// on failure returns Lua's message. The parser runs protected, armed with
/// room for the code's own size on top of the limit. A precompiled chunk
/// is parsed as text, and refused, as Redis's Lua does (loading bytecode
/// would let a script past the sandbox).
pub(crate) unsafe fn compile(state: State, code: &[u8], chunkname: &CStr) -> Result<(), Vec<u8>> {
    let a = lua::allocator(state);
    let limit = (*a).limit;
    if limit > 0 {
        (*a).limit = limit.saturating_add(code.len().saturating_mul(2));
    }
    let armed = lua::arm(state, true);
    let status = ffi::luaL_loadbuffer(state, code.as_ptr().cast(), code.len(), chunkname.as_ptr());
    lua::arm(state, armed);
    (*a).limit = limit;
    if status == 0 {
        Ok(())
    } else {
        let msg = lua::to_bytes(state, -1).unwrap_or(b"").to_vec();
        ffi::lua_pop(state, 1);
        Err(msg)
    }
}

/// Pushes a new array of strings, grown from empty as Redis's
/// luaCreateArray grows KEYS and ARGV (so `#` finds Redis's border after a
/// script sets an item to nil).
pub(crate) unsafe fn push_array(state: State, items: &[Vec<u8>]) {
    ffi::lua_createtable(state, 0, 0);
    for (i, item) in items.iter().enumerate() {
        push_bytes(state, item);
        ffi::lua_rawseti_(state, -2, i as c_int + 1);
    }
}

/// Sets KEYS and ARGV in the EVAL state's globals, unlocking them for the
/// moment as Redis does (scripts cannot rebind them).
pub(crate) unsafe fn set_keys_argv(state: State, keys: &[Vec<u8>], args: &[Vec<u8>]) {
    for (name, items) in [(c"KEYS", keys), (c"ARGV", args)] {
        push_array(state, items);
        lua_enablereadonlytable(state, ffi::LUA_GLOBALSINDEX, 0);
        raw_set_field(state, ffi::LUA_GLOBALSINDEX, name);
        lua_enablereadonlytable(state, ffi::LUA_GLOBALSINDEX, 1);
    }
}

/// `t.err`, `t.source` and `t.line` for the table `t` in slot 1, read with
/// `lua_getfield` as Redis's `luaExtractErrorInformation` does (so
/// metamethods run).
unsafe extern "C-unwind" fn read_error_fields(state: State) -> c_int {
    ffi::lua_getfield_(state, 1, c"err".as_ptr());
    ffi::lua_getfield_(state, 1, c"source".as_ptr());
    ffi::lua_getfield_(state, 1, c"line".as_ptr());
    3
}

/// The `err`, `source` and `line` fields of an error table, each when it is
/// a string or a number.
pub(crate) type ErrorFields = [Option<Vec<u8>>; 3];

/// Reads the fields of the error table on top (which stays there). Its
/// metamethods are script code, so they run inside a protected call,
/// armed, under whatever hook is installed. Redis reads them unprotected
/// and crashes when one raises; here the raise comes back as `Err` with
/// its message.
///
/// # Safety
/// Outside any Lua call on `state`'s thread, disarmed, with a table on top.
pub(crate) unsafe fn error_fields(state: State) -> Result<ErrorFields, Vec<u8>> {
    ffi::lua_pushcclosure(state, read_error_fields, 0);
    ffi::lua_pushvalue(state, -2);
    let armed = lua::arm(state, true);
    let status = protected_call(state, 1, 3, 0);
    lua::arm(state, armed);
    if status != 0 {
        let msg = if status == ffi::LUA_ERRMEM {
            b"not enough memory".to_vec()
        } else if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
            // A stop raised by the hook ({err = ...}), read raw this time.
            raw_get_field(state, -1, c"err");
            let msg = lua::to_bytes(state, -1).unwrap_or(b"?").to_vec();
            ffi::lua_pop(state, 1);
            msg
        } else {
            lua::to_bytes(state, -1).unwrap_or(b"?").to_vec()
        };
        ffi::lua_pop(state, 1);
        return Err(msg);
    }
    let mut fields = ErrorFields::default();
    for (slot, idx) in fields.iter_mut().zip(-3..) {
        if ffi::lua_isstring(state, idx) != 0 {
            *slot = lua::to_bytes(state, idx).map(|b| b.to_vec());
        }
    }
    ffi::lua_pop(state, 3);
    Ok(fields)
}
