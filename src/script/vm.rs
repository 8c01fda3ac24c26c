//! The Lua 5.1 state, built as Redis 7.0 builds it: the same libraries,
//! the same removed functions, Redis's `pcall`, its error handler, and
//! read-only globals and library tables.
//!
//! Stock Lua 5.1 has no read-only tables (Redis patches its VM), so the
//! protection is built from proxies: the globals table every script sees is
//! an empty table whose metatable reads through to the real globals and
//! refuses stores; each library table is replaced by such a proxy too. The
//! few base functions that could see through a proxy (`rawset`, `rawget`,
//! `next`, `pairs`, `getmetatable`, `setmetatable`, `table.insert`) are
//! reimplemented to treat proxies as Redis treats read-only tables, and
//! `loadstring`/`load` refuse binary chunks by parsing them as text, which
//! is what Redis's patched parser does.

use std::ffi::{c_int, c_void, CStr};

use super::lua::{
    self, ffi, guard, push_bytes, push_str, raw_get_field, raw_set_field, set_function, Raise,
    State,
};

/// Registry fields.
const PROXIES: &CStr = c"redstep.proxies"; // proxy -> real table
const GLOBALS: &CStr = c"redstep.globals"; // the real globals table
const STRING_MT: &CStr = c"redstep.string_mt"; // read-only view of the string metatable
const GLOBALS_MT: &CStr = c"redstep.globals_mt"; // read-only view of _G's metatable
const ERROR_HANDLER_GLOBAL: &CStr = c"__redis__err__handler";
/// Registry field holding the error handler (functions have no global for it).
pub(crate) const ERROR_HANDLER: &CStr = c"redstep.error_handler";
/// Registry field holding what FUNCTION LOAD code sees as its globals.
const LOAD_API: &CStr = c"redstep.load_api";

pub(crate) const READONLY_ERROR: &[u8] = b"Attempt to modify a readonly table";

/// The C stack a script's call needs left: Lua's pattern matcher may take
/// 8 MB of it (it stops there, where Redis 7.0.15 crashes; see
/// vendor/lua-src/README.md), Lua and redstep's own frames the rest.
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
    /// Builds the state; `register` adds the `redis` table and the bundled
    /// libraries to the real globals before they are locked. The EVAL state
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
            ffi::lua_pushcclosure(state, error_handler, 0);
            ffi::lua_pushvalue(state, -1);
            ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, ERROR_HANDLER.as_ptr());
            if eval {
                ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, ERROR_HANDLER_GLOBAL.as_ptr());
            } else {
                ffi::lua_pop(state, 1);
            }
            register(state);
            lock_globals(state);
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
    for open in [
        ffi::luaopen_base,
        ffi::luaopen_table,
        ffi::luaopen_string,
        ffi::luaopen_math,
    ] {
        ffi::lua_pushcclosure(state, open, 0);
        ffi::lua_call(state, 0, 0);
    }
    // What Redis removes from the base library.
    for name in [
        c"dofile",
        c"loadfile",
        c"print",
        c"getfenv",
        c"setfenv",
        c"newproxy",
    ] {
        ffi::lua_pushnil(state);
        ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, name.as_ptr());
    }
    // Redis's replacements and redstep's proxy-aware versions.
    set_function(state, ffi::LUA_GLOBALSINDEX, c"pcall", redis_pcall);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"rawset", rawset);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"rawget", rawget);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"next", next);
    ffi::lua_pushcclosure(state, next, 0);
    ffi::lua_pushcclosure(state, pairs, 1);
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"pairs".as_ptr());
    set_function(state, ffi::LUA_GLOBALSINDEX, c"getmetatable", getmetatable);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"setmetatable", setmetatable);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"loadstring", loadstring);
    set_function(state, ffi::LUA_GLOBALSINDEX, c"load", load);
    ffi::lua_getfield_(state, ffi::LUA_GLOBALSINDEX, c"table".as_ptr());
    set_function(state, -1, c"insert", table_insert);
    ffi::lua_pop(state, 1);
    ffi::lua_getfield_(state, ffi::LUA_GLOBALSINDEX, c"math".as_ptr());
    set_function(state, -1, c"random", math_random);
    set_function(state, -1, c"randomseed", math_randomseed);
    ffi::lua_pop(state, 1);
}

/// Creates a read-only proxy for the table on top of the stack, replacing
/// it. `index` (a table or function) answers reads.
unsafe fn make_proxy(state: State) {
    let real = lua::absolute(state, -1);
    ffi::lua_createtable(state, 0, 0); // proxy
    ffi::lua_createtable(state, 0, 2); // its metatable
    ffi::lua_pushvalue(state, real);
    raw_set_field(state, -2, c"__index");
    ffi::lua_pushcclosure(state, readonly_newindex, 0);
    raw_set_field(state, -2, c"__newindex");
    ffi::lua_setmetatable(state, -2);
    // proxies[proxy] = real
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
    ffi::lua_pushvalue(state, -2);
    ffi::lua_pushvalue(state, real);
    ffi::lua_rawset(state, -3);
    ffi::lua_pop(state, 1);
    ffi::lua_replace(state, real);
}

unsafe fn lock_globals(state: State) {
    ffi::lua_createtable(state, 0, 16);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
    // The real globals table R, kept in the registry.
    ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX);
    let real = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, real);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
    // Library tables become proxies.
    for name in [
        c"string",
        c"table",
        c"math",
        c"coroutine",
        c"redis",
        c"cjson",
        c"cmsgpack",
        c"struct",
        c"bit",
    ] {
        if raw_get_field(state, real, name) == ffi::LUA_TTABLE {
            make_proxy(state);
            raw_set_field(state, real, name);
        } else {
            ffi::lua_pop(state, 1);
        }
    }
    // R's own metatable raises on undefined names.
    ffi::lua_pushvalue(state, real);
    set_raising_metatable(state);
    ffi::lua_pop(state, 1);
    // The globals proxy G: reads go to R, stores fail.
    ffi::lua_pushvalue(state, real);
    make_proxy(state);
    let proxy = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, proxy);
    raw_set_field(state, real, c"_G");
    // What getmetatable(_G) shows: a read-only table whose __index raises
    // on undefined names, like Redis's.
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_pushcclosure(state, globals_index, 0);
    raw_set_field(state, -2, c"__index");
    make_proxy(state);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, GLOBALS_MT.as_ptr());
    // What getmetatable('') shows: a read-only view whose __index is the
    // string library as scripts see it.
    ffi::lua_createtable(state, 0, 1);
    raw_get_field(state, real, c"string");
    raw_set_field(state, -2, c"__index");
    make_proxy(state);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, STRING_MT.as_ptr());
    // Every function created from now on (scripts, loadstring chunks,
    // coroutines) sees G as its globals.
    ffi::lua_pushvalue(state, proxy);
    ffi::lua_replace(state, ffi::LUA_GLOBALSINDEX);
    ffi::lua_settop(state, real - 1);
}

/// Builds what FUNCTION LOAD code sees as globals: only `redis` with
/// `register_function`, `log`, the log levels and the version; every other
/// name raises. (Redis's "library API".)
pub(crate) unsafe fn build_load_api(state: State, register_function: ffi::lua_CFunction) {
    // The load-time `redis` table.
    ffi::lua_createtable(state, 0, 8);
    set_function(state, -1, c"register_function", register_function);
    push_real_globals(state);
    raw_get_field(state, -1, c"redis");
    push_real_of_proxy(state, -1);
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
        raw_set_field(state, -5, name);
    }
    ffi::lua_pop(state, 3);
    set_raising_metatable(state);
    make_proxy(state);
    // The load-time globals: `redis` and nothing else.
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_insert(state, -2);
    raw_set_field(state, -2, c"redis");
    set_raising_metatable(state);
    ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, LOAD_API.as_ptr());
}

/// Gives the table on top a metatable whose __index raises on undefined names.
unsafe fn set_raising_metatable(state: State) {
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_pushcclosure(state, undefined_global, 0);
    raw_set_field(state, -2, c"__index");
    ffi::lua_setmetatable(state, -2);
}

/// Points the globals of scripts at the load API (during FUNCTION LOAD) or
/// back at the real globals.
pub(crate) unsafe fn use_load_api(state: State, load: bool) {
    ffi::lua_getmetatable(state, ffi::LUA_GLOBALSINDEX);
    if load {
        ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, LOAD_API.as_ptr());
    } else {
        push_real_globals(state);
    }
    raw_set_field(state, -2, c"__index");
    ffi::lua_pop(state, 1);
}

/// Pushes the real globals table.
pub(crate) unsafe fn push_real_globals(state: State) {
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, GLOBALS.as_ptr());
}

/// If the value at `idx` is a read-only proxy, pushes the real table and
/// returns true; otherwise pushes nothing.
unsafe fn push_real_of_proxy(state: State, idx: c_int) -> bool {
    if ffi::lua_type(state, idx) != ffi::LUA_TTABLE {
        return false;
    }
    let idx = lua::absolute(state, idx);
    ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, PROXIES.as_ptr());
    ffi::lua_pushvalue(state, idx);
    ffi::lua_rawget_(state, -2);
    ffi::lua_remove(state, -2);
    if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
        ffi::lua_pop(state, 1);
        false
    } else {
        true
    }
}

pub(crate) unsafe fn is_proxy(state: State, idx: c_int) -> bool {
    let found = push_real_of_proxy(state, idx);
    if found {
        ffi::lua_pop(state, 1);
    }
    found
}

// ---- functions exported to Lua ---------------------------------------------------

unsafe extern "C-unwind" fn readonly_newindex(state: State) -> c_int {
    guard(state, |_| Err(Raise::Located(READONLY_ERROR.to_vec())))
}

unsafe extern "C-unwind" fn undefined_global(state: State) -> c_int {
    guard(state, |s| {
        let name = lua::to_bytes(s, 2).map(|b| b.to_vec()).unwrap_or_default();
        let mut msg = b"Script attempted to access nonexistent global variable '".to_vec();
        msg.extend_from_slice(&name);
        msg.push(b'\'');
        Err(Raise::Located(msg))
    })
}

/// `getmetatable(_G).__index`: reads a global, raising on undefined names.
unsafe extern "C-unwind" fn globals_index(state: State) -> c_int {
    push_real_globals(state);
    ffi::lua_pushvalue(state, 2);
    ffi::lua_gettable(state, -2);
    1
}

/// Redis's `__redis__err__handler`: turns any error into a table with
/// `err`, and the `source` and `line` of the Lua code that raised it.
unsafe extern "C-unwind" fn error_handler(state: State) -> c_int {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut found = ffi::lua_getstack(state, 1, &mut ar) != 0;
    if found {
        ffi::lua_getinfo(state, c"nSl".as_ptr(), &mut ar);
        if lua::cstr_bytes(ar.what) == b"C" {
            found = ffi::lua_getstack(state, 2, &mut ar) != 0;
            if found {
                ffi::lua_getinfo(state, c"nSl".as_ptr(), &mut ar);
            }
        }
    }
    ffi::lua_settop(state, 1);
    if ffi::lua_type(state, 1) != ffi::LUA_TTABLE {
        // {err = 'ERR ' .. tostring(err)}
        ffi::lua_getfield_(state, ffi::LUA_GLOBALSINDEX, c"tostring".as_ptr());
        ffi::lua_pushvalue(state, 1);
        ffi::lua_call(state, 1, 1);
        push_str(state, "ERR ");
        ffi::lua_insert(state, -2);
        ffi::lua_concat(state, 2);
        ffi::lua_createtable(state, 0, 3);
        ffi::lua_insert(state, -2);
        ffi::lua_setfield(state, -2, c"err".as_ptr());
        ffi::lua_replace(state, 1);
    }
    if found {
        ffi::lua_pushstring_(state, ar.source);
        ffi::lua_setfield(state, 1, c"source".as_ptr());
        ffi::lua_pushnumber(state, f64::from(ar.currentline));
        ffi::lua_setfield(state, 1, c"line".as_ptr());
    }
    1
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

unsafe extern "C-unwind" fn rawset(state: State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(state, 2);
    ffi::luaL_checkany(state, 3);
    if is_proxy(state, 1) {
        lua::throw(state, Raise::Plain(READONLY_ERROR.to_vec()));
    }
    ffi::lua_settop(state, 3);
    ffi::lua_rawset(state, 1);
    1
}

unsafe extern "C-unwind" fn rawget(state: State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    ffi::luaL_checkany(state, 2);
    ffi::lua_settop(state, 2);
    if push_real_of_proxy(state, 1) {
        ffi::lua_replace(state, 1);
    }
    ffi::lua_rawget_(state, 1);
    1
}

unsafe extern "C-unwind" fn next(state: State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    ffi::lua_settop(state, 2);
    if push_real_of_proxy(state, 1) {
        ffi::lua_replace(state, 1);
    }
    if ffi::lua_next(state, 1) != 0 {
        2
    } else {
        ffi::lua_pushnil(state);
        1
    }
}

unsafe extern "C-unwind" fn pairs(state: State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    ffi::lua_pushvalue(state, ffi::LUA_GLOBALSINDEX - 1); // upvalue 1: next
    ffi::lua_pushvalue(state, 1);
    ffi::lua_pushnil(state);
    3
}

unsafe extern "C-unwind" fn getmetatable(state: State) -> c_int {
    ffi::luaL_checkany(state, 1);
    if ffi::lua_type(state, 1) == ffi::LUA_TSTRING {
        ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, STRING_MT.as_ptr());
        return 1;
    }
    if push_real_of_proxy(state, 1) {
        ffi::lua_pop(state, 1);
        // _G shows its metatable; library tables have none.
        if ffi::lua_rawequal(state, 1, ffi::LUA_GLOBALSINDEX) != 0 {
            ffi::lua_getfield_(state, ffi::LUA_REGISTRYINDEX, GLOBALS_MT.as_ptr());
        } else {
            ffi::lua_pushnil(state);
        }
        return 1;
    }
    if ffi::lua_getmetatable(state, 1) == 0 {
        ffi::lua_pushnil(state);
        return 1;
    }
    ffi::luaL_getmetafield_(state, 1, c"__metatable".as_ptr());
    1
}

unsafe extern "C-unwind" fn setmetatable(state: State) -> c_int {
    let t = ffi::lua_type(state, 2);
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    if t != ffi::LUA_TNIL && t != ffi::LUA_TTABLE {
        ffi::luaL_argerror(state, 2, c"nil or table expected".as_ptr());
    }
    if ffi::luaL_getmetafield_(state, 1, c"__metatable".as_ptr()) != 0 {
        ffi::luaL_error(state, c"cannot change a protected metatable".as_ptr());
    }
    if is_proxy(state, 1) {
        lua::throw(state, Raise::Plain(READONLY_ERROR.to_vec()));
    }
    ffi::lua_settop(state, 2);
    ffi::lua_setmetatable(state, 1);
    1
}

/// `table.insert`, refusing read-only tables like Redis's patched `lua_rawseti`.
unsafe extern "C-unwind" fn table_insert(state: State) -> c_int {
    ffi::luaL_checktype(state, 1, ffi::LUA_TTABLE);
    let mut end = ffi::lua_objlen(state, 1) as c_int + 1;
    let position;
    match ffi::lua_gettop(state) {
        2 => position = end,
        3 => {
            position = ffi::luaL_checkinteger(state, 2) as c_int;
            if position > end {
                end = position;
            }
            if is_proxy(state, 1) {
                lua::throw(state, Raise::Plain(READONLY_ERROR.to_vec()));
            }
            let mut i = end;
            while i > position {
                ffi::lua_rawgeti_(state, 1, i - 1);
                ffi::lua_rawseti_(state, 1, i);
                i -= 1;
            }
        }
        _ => {
            ffi::luaL_error(state, c"wrong number of arguments to 'insert'".as_ptr());
            unreachable!()
        }
    }
    if is_proxy(state, 1) {
        lua::throw(state, Raise::Plain(READONLY_ERROR.to_vec()));
    }
    ffi::lua_rawseti_(state, 1, position);
    0
}

/// Loads `code` as text (Redis's parser never accepts binary chunks: a
/// leading space makes Lua parse a dumped chunk as source, which fails the
/// same way).
unsafe fn load_text(state: State, code: &[u8], chunkname: *const std::ffi::c_char) -> c_int {
    if code.first() == Some(&0x1b) {
        let mut text = Vec::with_capacity(code.len() + 1);
        text.push(b' ');
        text.extend_from_slice(code);
        ffi::luaL_loadbuffer(state, text.as_ptr().cast(), text.len(), chunkname)
    } else {
        ffi::luaL_loadbuffer(state, code.as_ptr().cast(), code.len(), chunkname)
    }
}

unsafe fn load_result(state: State, status: c_int) -> c_int {
    if status == 0 {
        1
    } else {
        ffi::lua_pushnil(state);
        ffi::lua_insert(state, -2);
        2
    }
}

unsafe extern "C-unwind" fn loadstring(state: State) -> c_int {
    let mut len = 0usize;
    let s = ffi::luaL_checklstring(state, 1, &mut len);
    let chunkname = ffi::luaL_optlstring(state, 2, s, std::ptr::null_mut());
    let code = std::slice::from_raw_parts(s.cast::<u8>(), len);
    let status = load_text(state, code, chunkname);
    load_result(state, status)
}

struct ReaderState {
    first: bool,
    /// The first piece was binary: a space was returned, the piece is next.
    piece_pending: bool,
}

/// Lua's `generic_reader`, except that a chunk starting with the binary
/// signature gets a space in front (so it is parsed as text, and fails).
unsafe extern "C-unwind" fn reader(
    state: State,
    ud: *mut c_void,
    size: *mut usize,
) -> *const std::ffi::c_char {
    let st = &mut *(ud as *mut ReaderState);
    if st.piece_pending {
        st.piece_pending = false;
        return ffi::lua_tolstring(state, 3, size);
    }
    ffi::luaL_checkstack_(state, 2, c"too many nested functions".as_ptr());
    ffi::lua_pushvalue(state, 1);
    ffi::lua_call(state, 0, 1);
    if ffi::lua_type(state, -1) == ffi::LUA_TNIL {
        ffi::lua_pop(state, 1);
        *size = 0;
        return std::ptr::null();
    }
    if ffi::lua_isstring(state, -1) == 0 {
        ffi::luaL_error(state, c"reader function must return a string".as_ptr());
    }
    ffi::lua_replace(state, 3);
    let piece = ffi::lua_tolstring(state, 3, size);
    if std::mem::take(&mut st.first) && *size > 0 && *piece.cast::<u8>() == 0x1b {
        st.piece_pending = true;
        *size = 1;
        return c" ".as_ptr();
    }
    piece
}

/// `load(f [, chunkname])`, text chunks only.
unsafe extern "C-unwind" fn load(state: State) -> c_int {
    let chunkname = ffi::luaL_optlstring(state, 2, c"=(load)".as_ptr(), std::ptr::null_mut());
    ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
    ffi::lua_settop(state, 3);
    let mut st = ReaderState {
        first: true,
        piece_pending: false,
    };
    let status = ffi::lua_load(
        state,
        reader,
        (&mut st as *mut ReaderState).cast(),
        chunkname,
    );
    load_result(state, status)
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
    let status = load_text(state, code, chunkname.as_ptr());
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

/// Pushes a new array of strings.
pub(crate) unsafe fn push_array(state: State, items: &[Vec<u8>]) {
    ffi::lua_createtable(state, items.len() as c_int, 0);
    for (i, item) in items.iter().enumerate() {
        push_bytes(state, item);
        ffi::lua_rawseti_(state, -2, i as c_int + 1);
    }
}

/// Sets KEYS and ARGV in the real globals (scripts cannot rebind them).
pub(crate) unsafe fn set_keys_argv(state: State, keys: &[Vec<u8>], args: &[Vec<u8>]) {
    push_real_globals(state);
    for (name, items) in [(c"KEYS", keys), (c"ARGV", args)] {
        push_array(state, items);
        raw_set_field(state, -2, name);
    }
    ffi::lua_pop(state, 1);
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
