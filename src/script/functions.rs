//! Redis 7.0 functions: FUNCTION LOAD / LIST / DELETE / FLUSH / STATS and
//! the libraries they keep. Functions live in their own Lua state, as in
//! Redis; library code runs once at load time with only
//! `redis.register_function`, `redis.log` and the version in reach.

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::c_int;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use crate::engine::{glob, Reply};
use crate::protocol::cli::split_args;

use super::lua::{self, ffi, guard, Raise, State};
use super::vm;

/// Library code may run this long at load time.
const LOAD_TIMEOUT: Duration = Duration::from_millis(500);

pub(crate) const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

const NAME_ERROR: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Function flags, in the order Redis lists them.
pub(crate) const FLAG_NAMES: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

#[derive(Clone, Debug)]
pub(crate) struct Function {
    pub name: String,
    pub description: Option<Vec<u8>>,
    /// Bit i set: FLAG_NAMES[i].
    pub flags: u8,
    /// Registry reference to the callback in the functions state.
    pub callback: c_int,
}

impl Function {
    pub(crate) fn no_writes(&self) -> bool {
        self.flags & 1 != 0
    }

    pub(crate) fn allow_oom(&self) -> bool {
        self.flags & (1 << 1) != 0
    }

    pub(crate) fn allow_stale(&self) -> bool {
        self.flags & (1 << 2) != 0
    }

    pub(crate) fn no_cluster(&self) -> bool {
        self.flags & (1 << 3) != 0
    }

    pub(crate) fn allow_cross_slot_keys(&self) -> bool {
        self.flags & (1 << 4) != 0
    }
}

pub(crate) struct Library {
    pub code: Vec<u8>,
    pub functions: IndexMap<String, Function>,
}

/// All loaded libraries, and an index from lowercase function name to library.
#[derive(Default)]
pub(crate) struct Libraries {
    pub libraries: IndexMap<String, Library>,
    by_function: HashMap<String, String>,
}

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// What register_function fills while a library loads.
struct LoadContext {
    functions: IndexMap<String, Function>,
    started: Instant,
}

thread_local! {
    static LOADING: Cell<*mut LoadContext> = const { Cell::new(std::ptr::null_mut()) };
}

impl Libraries {
    /// The code of the library holding this function.
    pub(crate) fn code_of(&self, function: &[u8]) -> Option<Vec<u8>> {
        let key = String::from_utf8_lossy(function).to_ascii_lowercase();
        let library = self.by_function.get(&key)?;
        self.libraries.get(library).map(|l| l.code.clone())
    }

    pub(crate) fn function(&self, name: &[u8]) -> Option<&Function> {
        let key = String::from_utf8_lossy(name).to_ascii_lowercase();
        let library = self.by_function.get(&key)?;
        self.libraries.get(library)?.functions.get(&key)
    }

    fn unref_library(state: State, library: &Library) {
        for f in library.functions.values() {
            // SAFETY: the reference was made in this state; called outside any
            // Lua call, disarmed (see `lua`), so luaL_unref cannot raise.
            unsafe { ffi::luaL_unref(state, ffi::LUA_REGISTRYINDEX, f.callback) };
        }
    }

    /// FUNCTION LOAD: returns the library name, or the error text (after "ERR ").
    pub fn load(&mut self, state: State, code: &[u8], replace: bool) -> Result<String, String> {
        let (engine, name, body_start) = metadata(code)?;
        if !valid_name(name.as_bytes()) {
            return Err(NAME_ERROR.into());
        }
        if !engine.eq_ignore_ascii_case("lua") {
            return Err(format!("Engine '{engine}' not found"));
        }
        if self.libraries.contains_key(&name) && !replace {
            return Err(format!("Library '{name}' already exists"));
        }
        let functions = run_library(state, &code[body_start..])?;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        for (key, f) in &functions {
            if self.by_function.get(key).is_some_and(|lib| *lib != name) {
                let error = format!("Function {} already exists", f.name);
                Libraries::unref_library(
                    state,
                    &Library {
                        code: Vec::new(),
                        functions,
                    },
                );
                return Err(error);
            }
        }
        if let Some(old) = self.libraries.shift_remove(&name) {
            for key in old.functions.keys() {
                self.by_function.remove(key);
            }
            Libraries::unref_library(state, &old);
        }
        for key in functions.keys() {
            self.by_function.insert(key.clone(), name.clone());
        }
        self.libraries.insert(
            name.clone(),
            Library {
                code: code.to_vec(),
                functions,
            },
        );
        Ok(name)
    }

    pub(crate) fn delete(&mut self, state: State, name: &[u8]) -> bool {
        let name = String::from_utf8_lossy(name).into_owned();
        let Some(library) = self.libraries.shift_remove(&name) else {
            return false;
        };
        for key in library.functions.keys() {
            self.by_function.remove(key);
        }
        Libraries::unref_library(state, &library);
        true
    }

    pub(crate) fn clear(&mut self) {
        self.libraries.clear();
        self.by_function.clear();
    }

    /// Forgets every library, releasing its functions in `state`.
    pub(crate) fn release(&mut self, state: State) {
        for library in self.libraries.values() {
            Libraries::unref_library(state, library);
        }
        self.clear();
    }

    /// Redis's libraryJoin (FUNCTION RESTORE without FLUSH): adds the
    /// libraries of `other`, loaded in the same state, if none exists here
    /// (with `replace`, those replace theirs) and no function of theirs is
    /// another library's here; `other` is left empty. On an error nothing
    /// changes.
    pub(crate) fn join(
        &mut self,
        state: State,
        other: &mut Libraries,
        replace: bool,
    ) -> Result<(), String> {
        let replaced = |name: &String| replace && other.libraries.contains_key(name);
        if !replace {
            if let Some(name) = other
                .libraries
                .keys()
                .find(|n| self.libraries.contains_key(*n))
            {
                return Err(format!("Library {name} already exists"));
            }
        }
        for library in other.libraries.values() {
            for (key, f) in &library.functions {
                if self.by_function.get(key).is_some_and(|lib| !replaced(lib)) {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        // Every library replaced goes before any comes in: a new library
        // may take a function name an old one of another name held.
        for name in other.libraries.keys() {
            self.delete(state, name.as_bytes());
        }
        other.by_function.clear();
        for (name, library) in std::mem::take(&mut other.libraries) {
            for key in library.functions.keys() {
                self.by_function.insert(key.clone(), name.clone());
            }
            self.libraries.insert(name, library);
        }
        Ok(())
    }

    pub(crate) fn list(&self, argv: &[Vec<u8>]) -> Reply {
        let (mut with_code, mut pattern): (bool, Option<&[u8]>) = (false, None);
        let mut i = 2;
        while i < argv.len() {
            if !with_code && argv[i].eq_ignore_ascii_case(b"withcode") {
                with_code = true;
            } else if pattern.is_none() && argv[i].eq_ignore_ascii_case(b"libraryname") {
                if i >= argv.len() - 1 {
                    return Reply::error("ERR library name argument was not given");
                }
                i += 1;
                pattern = Some(&argv[i]);
            } else {
                return Reply::Error(crate::engine::errors::sanitize(
                    [b"ERR Unknown argument ".as_slice(), &argv[i]].concat(),
                ));
            }
            i += 1;
        }
        let mut out = Vec::new();
        for (name, library) in &self.libraries {
            if pattern.is_some_and(|p| !glob::matches(p, name.as_bytes(), true)) {
                continue;
            }
            let functions = library
                .functions
                .values()
                .map(|f| {
                    let flags = FLAG_NAMES
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| f.flags & (1 << i) != 0)
                        .map(|(_, n)| Reply::status(n))
                        .collect();
                    Reply::Map(vec![
                        (Reply::bulk("name"), Reply::bulk(&f.name)),
                        (
                            Reply::bulk("description"),
                            Reply::bulk_or_nil(f.description.as_ref()),
                        ),
                        (Reply::bulk("flags"), Reply::Set(flags)),
                    ])
                })
                .collect();
            // Maps and a set in RESP3, flat arrays in RESP2 (functions.c).
            let mut entry = vec![
                (Reply::bulk("library_name"), Reply::bulk(name)),
                (Reply::bulk("engine"), Reply::bulk("LUA")),
                (Reply::bulk("functions"), Reply::Array(functions)),
            ];
            if with_code {
                entry.push((Reply::bulk("library_code"), Reply::bulk(&library.code)));
            }
            out.push(Reply::Map(entry));
        }
        Reply::Array(out)
    }

    /// Libraries and functions loaded.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.libraries.len(), self.by_function.len())
    }

    pub(crate) fn stats(&self) -> Reply {
        stats_reply(Reply::Nil, self.libraries.len(), self.by_function.len())
    }
}

/// FUNCTION STATS: the running script (nil when none) and the engine's
/// counts, maps in RESP3 (functions.c's functionStatsCommand).
pub(crate) fn stats_reply(running: Reply, libraries: usize, functions: usize) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("running_script"), running),
        (
            Reply::bulk("engines"),
            Reply::Map(vec![(
                Reply::bulk("LUA"),
                Reply::Map(vec![
                    (Reply::bulk("libraries_count"), Reply::Int(libraries as i64)),
                    (Reply::bulk("functions_count"), Reply::Int(functions as i64)),
                ]),
            )]),
        ),
    ])
}

/// Redis's `functionExtractLibMetaData`: (engine, library name, where the
/// code after the shebang starts: at its newline, so lines keep their numbers).
fn metadata(code: &[u8]) -> Result<(String, String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err("Invalid library metadata".into());
    };
    let parts = match split_args(&code[..end]) {
        Ok(p) if !p.is_empty() => p,
        _ => return Err("Invalid library metadata".into()),
    };
    let engine = String::from_utf8_lossy(&parts[0][2.min(parts[0].len())..]).into_owned();
    let mut name: Option<String> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&part[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        ));
    }
    let name = name.ok_or_else(|| "Library name was not given".to_string())?;
    Ok((engine, name, end))
}

/// Compiles and runs library code with the load-time globals; returns the
/// functions it registered.
fn run_library(state: State, body: &[u8]) -> Result<IndexMap<String, Function>, String> {
    let mut context = LoadContext {
        functions: IndexMap::new(),
        started: Instant::now(),
    };
    // SAFETY: outside any Lua call and disarmed (see `lua`), so the
    // unprotected calls below only allocate and cannot raise; the library
    // code runs under lua_pcall, armed. The load context pointer is valid
    // for exactly the duration of the run.
    unsafe {
        let base = ffi::lua_gettop(state);
        vm::compile(state, body, c"@user_function").map_err(|msg| {
            format!(
                "Error compiling function: {}",
                String::from_utf8_lossy(&msg)
            )
        })?;
        vm::use_load_api(state, true);
        let previous = LOADING.with(|l| l.replace(&mut context));
        ffi::lua_sethook(state, Some(load_hook), ffi::LUA_MASKCOUNT, 100_000);
        lua::arm(state, true);
        let status = vm::protected_call(state, 0, 0, 0);
        lua::arm(state, false);
        // The load hook stays while the error is read: an error table's
        // metamethods are the library's code.
        let result = if status == 0 {
            Ok(())
        } else {
            let msg = if ffi::lua_isstring(state, -1) != 0 {
                let mut m = b"ERR ".to_vec();
                m.extend_from_slice(lua::to_bytes(state, -1).unwrap_or(b""));
                Ok(m)
            } else if ffi::lua_type(state, -1) == ffi::LUA_TTABLE {
                vm::error_fields(state).map(|[err, _, _]| err.unwrap_or_default())
            } else {
                Ok(Vec::new())
            };
            Err(match msg {
                Ok(msg) => format!(
                    "Error registering functions: {}",
                    String::from_utf8_lossy(&msg)
                ),
                Err(raised) => format!(
                    "redstep: real Redis 7.0.15 crashes here (a Lua error outside any protected call): reading the fields of the library's error table raised: {}",
                    String::from_utf8_lossy(&raised)
                ),
            })
        };
        ffi::lua_sethook(state, None, 0, 0);
        LOADING.with(|l| l.set(previous));
        vm::use_load_api(state, false);
        ffi::lua_settop(state, base);
        if let Err(e) = result {
            for f in context.functions.values() {
                ffi::luaL_unref(state, ffi::LUA_REGISTRYINDEX, f.callback);
            }
            return Err(e);
        }
    }
    Ok(context.functions)
}

unsafe extern "C-unwind" fn load_hook(state: State, _ar: *mut ffi::lua_Debug) {
    let timed_out = std::panic::catch_unwind(|| {
        LOADING.with(|l| {
            l.get()
                .as_ref()
                .is_some_and(|context| context.started.elapsed() > LOAD_TIMEOUT)
        })
    });
    match timed_out {
        Ok(false) => {}
        Ok(true) => {
            ffi::lua_sethook(state, Some(load_hook), ffi::LUA_MASKLINE, 0);
            lua::throw(state, Raise::ErrorTable(b"FUNCTION LOAD timeout".to_vec()));
        }
        Err(payload) => {
            std::mem::forget(payload);
            lua::throw(
                state,
                Raise::ErrorTable(super::api::HOOK_PANIC.as_bytes().to_vec()),
            );
        }
    }
}

fn flag_bit(name: &[u8]) -> Option<u8> {
    FLAG_NAMES
        .iter()
        .position(|f| f.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1u8 << i)
}

/// `redis.register_function`'s arguments (the callback stays on the stack).
struct Registration {
    name: Vec<u8>,
    description: Option<Vec<u8>>,
    flags: u8,
}

/// Reads `redis.register_function`'s arguments; leaves the callback in
/// stack slot 2.
unsafe fn read_arguments(s: State) -> Result<Registration, &'static str> {
    let argc = ffi::lua_gettop(s);
    if !(1..=2).contains(&argc) {
        return Err("wrong number of arguments to redis.register_function");
    }
    if argc == 2 {
        if ffi::lua_isstring(s, 1) == 0 {
            return Err("first argument to redis.register_function must be a string");
        }
        if ffi::lua_type(s, 2) != ffi::LUA_TFUNCTION {
            return Err("second argument to redis.register_function must be a function");
        }
        let name = lua::to_bytes(s, 1).unwrap_or(b"").to_vec();
        return Ok(Registration {
            name,
            description: None,
            flags: 0,
        });
    }
    if ffi::lua_type(s, 1) != ffi::LUA_TTABLE {
        return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
    }
    let (mut name, mut description, mut flags) = (None, None, 0u8);
    let mut callback = false;
    ffi::lua_pushnil(s);
    while ffi::lua_next(s, 1) != 0 {
        if ffi::lua_isstring(s, -2) == 0 {
            return Err("named argument key given to redis.register_function is not a string");
        }
        ffi::lua_pushvalue(s, -2);
        let key = lua::to_bytes(s, -1).unwrap_or(b"").to_ascii_lowercase();
        ffi::lua_pop(s, 1);
        match key.as_slice() {
            b"function_name" => {
                if ffi::lua_isstring(s, -1) == 0 {
                    return Err(
                        "function_name argument given to redis.register_function must be a string",
                    );
                }
                ffi::lua_pushvalue(s, -1);
                name = Some(lua::to_bytes(s, -1).unwrap_or(b"").to_vec());
                ffi::lua_pop(s, 1);
            }
            b"description" => {
                if ffi::lua_isstring(s, -1) == 0 {
                    return Err(
                        "description argument given to redis.register_function must be a string",
                    );
                }
                ffi::lua_pushvalue(s, -1);
                description = Some(lua::to_bytes(s, -1).unwrap_or(b"").to_vec());
                ffi::lua_pop(s, 1);
            }
            b"callback" => {
                if ffi::lua_type(s, -1) != ffi::LUA_TFUNCTION {
                    return Err(
                        "callback argument given to redis.register_function must be a function",
                    );
                }
                // Keep the callback at stack slot 2.
                ffi::lua_pushvalue(s, -1);
                if callback {
                    ffi::lua_replace(s, 2);
                } else {
                    ffi::lua_insert(s, 2);
                }
                callback = true;
            }
            b"flags" => {
                if ffi::lua_type(s, -1) != ffi::LUA_TTABLE {
                    return Err("flags argument to redis.register_function must be a table representing function flags");
                }
                // As Redis's luaRegisterFunctionReadFlags: items 1, 2, ...
                // up to the first nil; a number reads as its text. Redis
                // reads with lua_gettable: the only tables with a
                // metatable that loading code can reach (it has no
                // setmetatable) are the load API's, whose __index raises
                // on a missing name, so a missing item 1 there raises that.
                let raising = ffi::lua_getmetatable(s, -1) != 0;
                if raising {
                    ffi::lua_pop(s, 1);
                }
                for i in 1.. {
                    ffi::lua_rawgeti_(s, -1, i);
                    if ffi::lua_type(s, -1) == ffi::LUA_TNIL {
                        ffi::lua_pop(s, 1);
                        if raising && i == 1 {
                            return Err(
                                "Script attempted to access nonexistent global variable '1'",
                            );
                        }
                        break;
                    }
                    if ffi::lua_isstring(s, -1) == 0 {
                        return Err("unknown flag given");
                    }
                    // strcasecmp: the name ends at a NUL.
                    let name = crate::engine::errors::c_str(lua::to_bytes(s, -1).unwrap_or(b""));
                    flags |= flag_bit(name).ok_or("unknown flag given")?;
                    ffi::lua_pop(s, 1);
                }
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
        ffi::lua_pop(s, 1);
    }
    let Some(name) = name else {
        return Err("redis.register_function must get a function name argument");
    };
    if !callback {
        return Err("redis.register_function must get a callback argument");
    }
    ffi::lua_settop(s, 2);
    Ok(Registration {
        name,
        description,
        flags,
    })
}

pub unsafe extern "C-unwind" fn register_function(state: State) -> c_int {
    guard(state, |s| {
        let Some(context) = LOADING.with(|l| l.get().as_mut()) else {
            return Err(Raise::ErrorTable(
                b"redis.register_function can only be called on FUNCTION LOAD command".to_vec(),
            ));
        };
        let Registration {
            name,
            description,
            flags,
        } = read_arguments(s).map_err(|e| Raise::ErrorTable(e.as_bytes().to_vec()))?;
        if !valid_name(&name) {
            return Err(Raise::ErrorTable(NAME_ERROR.as_bytes().to_vec()));
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        let key = name.to_ascii_lowercase();
        if context.functions.contains_key(&key) {
            return Err(Raise::ErrorTable(
                b"Function already exists in the library".to_vec(),
            ));
        }
        ffi::lua_settop(s, 2);
        let callback = ffi::luaL_ref(s, ffi::LUA_REGISTRYINDEX);
        context.functions.insert(
            key,
            Function {
                name,
                description,
                flags,
                callback,
            },
        );
        Ok(0)
    })
}
