//! Small helpers over Lua 5.1's C API (through `mlua::ffi`), the one way
//! Rust code raises a Lua error, and the memory accounting that keeps a
//! raise from ever jumping over a Rust frame that owns something.
//!
//! Redis's scripting glue is C that raises Lua errors with `lua_error`
//! (a `longjmp`). Lua 5.1 as vendored by mlua is C too, so a raise is a
//! `longjmp`: it must never cross a Rust frame that owns a value with a
//! destructor (the value would leak, and skipping a destructor that way is
//! undefined behaviour). redstep keeps that true with two rules:
//!
//! 1. **The memory limit is armed only while Lua code runs.** The
//!    allocator refuses growth past the limit only when [`arm`]ed (around
//!    the `lua_pcall` of a script or a library load, and around compiling
//!    a body). Rust code that calls the Lua API — every function exported
//!    to Lua ([`guard`]), the hooks, the conversions before and after a run
//!    — runs disarmed: an allocation there either succeeds or, when the
//!    system allocator itself fails, the process aborts (as Rust does on its
//!    own allocation failures). So no memory error can be raised in them.
//!    They bound what they build explicitly ([`check_room`]) and report
//!    running out as [`Raise::Memory`], raised once their frames are gone.
//! 2. **Other errors are values.** Each function exported to Lua does its
//!    work in an inner function that returns `Result<c_int, Raise>`; every
//!    Rust value is dropped before [`throw`] jumps. Panics are caught at
//!    the same boundary. Functions that own nothing Rust-side (plain
//!    `luaL_check*` users in `vm.rs`) may raise directly.
//!
//! Nothing calls Lua unprotected with the limit armed, so Lua's panic
//! function (an error outside any protected call) is unreachable; it is
//! set to abort loudly rather than let Lua `exit` silently.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use mlua::ffi;
pub use mlua::ffi::lua_State;

pub(crate) type State = *mut lua_State;

/// A Lua error to raise once the Rust frame is gone.
pub(crate) enum Raise {
    /// `{err = "<msg>"}` built as Redis's `luaPushError` does ("ERR " added
    /// unless the text starts with "-CODE").
    ErrorTable(Vec<u8>),
    /// A plain string error, no position.
    Plain(Vec<u8>),
    /// A string error prefixed with the calling Lua line (`luaL_error`).
    Located(Vec<u8>),
    /// Argument error (`luaL_argerror`): "bad argument #n to 'f' (msg)".
    Argument(c_int, Vec<u8>),
    /// The error value is already on top of the stack.
    OnStack,
    /// Lua's own out-of-memory error (status `LUA_ERRMEM`, message "not
    /// enough memory"), as if the allocation that did not fit had failed.
    Memory,
}

pub(crate) type Result<T> = std::result::Result<T, Raise>;

// ---- memory accounting -------------------------------------------------------------

/// Memory accounting for a state. Past `limit` (0: none) growth fails, but
/// only while `armed`; see the module notes.
#[derive(Default)]
pub(crate) struct Allocator {
    pub used: usize,
    /// The limit in force (the configured one, plus a run's arguments).
    pub limit: usize,
    armed: bool,
    /// Fail the next allocation whatever the limit ([`raise_memory_error`]).
    fail_next: bool,
    /// An allocation was refused since the last collection.
    pub refused: bool,
}

/// The `lua_Alloc` of every redstep state; `ud` is its [`Allocator`].
///
/// # Safety
/// `ud` must point to the live `Allocator` the state was created with.
pub unsafe extern "C" fn allocate(
    ud: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    let accounting = &mut *(ud as *mut Allocator);
    if nsize == 0 {
        libc::free(ptr);
        accounting.used = accounting.used.saturating_sub(osize);
        return std::ptr::null_mut();
    }
    let grows = nsize > osize;
    if grows && std::mem::take(&mut accounting.fail_next) {
        accounting.refused = true;
        return std::ptr::null_mut();
    }
    if grows
        && accounting.armed
        && accounting.limit > 0
        && accounting.used.saturating_sub(osize) + nsize > accounting.limit
    {
        accounting.refused = true;
        return std::ptr::null_mut();
    }
    let new = libc::realloc(ptr, nsize);
    if new.is_null() {
        if !accounting.armed {
            // Rule 1 of the module notes: disarmed code must never see a
            // Lua memory error, so a failing system allocator ends the
            // process, as it does for Rust's own allocations.
            eprintln!("redstep: fatal: the system allocator refused {nsize} bytes");
            std::process::abort();
        }
        accounting.refused = true;
    } else {
        accounting.used = accounting.used.saturating_sub(osize) + nsize;
    }
    new
}

/// The accounting of `state`'s allocator. Do not keep the pointer's target
/// borrowed across a Lua call (the allocator writes to it).
pub(crate) unsafe fn allocator(state: State) -> *mut Allocator {
    let mut ud: *mut c_void = std::ptr::null_mut();
    ffi::lua_getallocf(state, &mut ud);
    ud.cast()
}

/// Arms (or disarms) the memory limit; returns the previous setting.
pub(crate) unsafe fn arm(state: State, armed: bool) -> bool {
    std::mem::replace(&mut (*allocator(state)).armed, armed)
}

/// Disarms the memory limit; returns what [`rearm`] puts back (the state's
/// allocator, asked once, and whether the limit was armed).
pub(crate) unsafe fn disarm(state: State) -> (*mut Allocator, bool) {
    let a = allocator(state);
    (a, std::mem::replace(&mut (*a).armed, false))
}

/// Puts back what [`disarm`] took.
pub(crate) unsafe fn rearm((a, armed): (*mut Allocator, bool)) {
    (*a).armed = armed;
}

/// Room for `extra` more bytes under the limit, or [`Raise::Memory`].
pub(crate) unsafe fn check_room(state: State, extra: usize) -> Result<()> {
    let a = &*allocator(state);
    if a.limit > 0 && a.used.saturating_add(extra) > a.limit {
        Err(Raise::Memory)
    } else {
        Ok(())
    }
}

/// Raises Lua's out-of-memory error (status `LUA_ERRMEM`), exactly as an
/// allocation past the limit does.
///
/// # Safety
/// As [`throw`]: no live Rust values with destructors in the frames it
/// jumps over.
pub(crate) unsafe fn raise_memory_error(state: State) -> ! {
    (*allocator(state)).fail_next = true;
    ffi::lua_newuserdata(state, 1);
    unreachable!("an allocation succeeded after fail_next was set")
}

/// A full collection, disarmed (shrinking tables may allocate).
pub(crate) unsafe fn collect_garbage(state: State) {
    let armed = arm(state, false);
    ffi::lua_gc(state, ffi::LUA_GCCOLLECT, 0);
    (*allocator(state)).refused = false;
    arm(state, armed);
}

/// Lua's panic function: reached only if an error escaped every protected
/// call, which the rules above make impossible. Lua would `exit` silently
/// after it returns; abort loudly instead, so the bug is seen.
pub unsafe extern "C-unwind" fn on_panic(state: State) -> c_int {
    let msg = String::from_utf8_lossy(to_bytes(state, -1).unwrap_or(b"?")).into_owned();
    eprintln!("redstep: fatal: a Lua error escaped every protected call (a redstep bug): {msg}");
    std::process::abort()
}

// ---- raising -----------------------------------------------------------------------

const PANIC_TEXT: &[u8] = b"redstep internal error (a bug): a Rust panic inside a Lua call";

/// Runs `body` as the body of a Lua C function: returns its result count,
/// or raises its error after everything it owned was dropped. The body
/// runs disarmed (see the module notes); panics become a Lua error.
///
/// # Safety
/// `state` must be the state Lua called the function with.
pub(crate) unsafe fn guard(state: State, body: impl FnOnce(State) -> Result<c_int>) -> c_int {
    let disarmed = disarm(state);
    let outcome = catch_unwind(AssertUnwindSafe(|| body(state)));
    let raise = match outcome {
        Ok(Ok(n)) => {
            rearm(disarmed);
            let (a, armed) = (&*disarmed.0, disarmed.1);
            if armed && a.limit > 0 && a.used > a.limit {
                raise_memory_error(state);
            }
            return n;
        }
        Ok(Err(raise)) => raise,
        Err(payload) => {
            // A payload whose destructor panics would unwind from here.
            std::mem::forget(payload);
            Raise::Plain(PANIC_TEXT.to_vec())
        }
    };
    rearm(disarmed);
    throw(state, raise)
}

/// Pushes the error value and raises it.
///
/// # Safety
/// Must be called from a Lua C function (or hook) on `state`, with no live
/// Rust values that need dropping in the frames it jumps over (`raise` is
/// dropped here before the jump).
pub(crate) unsafe fn throw(state: State, raise: Raise) -> ! {
    if matches!(raise, Raise::Memory) {
        raise_memory_error(state);
    }
    // Pushing the message may allocate: disarmed, so it cannot raise while
    // `raise` is alive.
    let armed = arm(state, false);
    // Room for the error value; a function that filled its stack gives its
    // values up (it is raising anyway).
    if ffi::lua_checkstack(state, 4) == 0 {
        ffi::lua_settop(state, 0);
    }
    let argument = match &raise {
        Raise::ErrorTable(msg) => {
            push_error_table(state, msg);
            None
        }
        Raise::Plain(msg) => {
            push_bytes(state, msg);
            None
        }
        Raise::Located(msg) => {
            ffi::luaL_where(state, 1);
            push_bytes(state, msg);
            ffi::lua_concat(state, 2);
            None
        }
        Raise::Argument(n, msg) => {
            push_bytes(state, msg);
            Some(*n)
        }
        Raise::OnStack | Raise::Memory => None,
    };
    drop(raise);
    arm(state, armed);
    if let Some(n) = argument {
        // The message lives on the Lua stack, so nothing of Rust's is left
        // to drop when luaL_argerror jumps.
        let text = ffi::lua_tolstring(state, -1, std::ptr::null_mut());
        ffi::luaL_argerror(state, n, text);
        unreachable!("luaL_argerror returned");
    }
    ffi::lua_error(state)
}

/// Lua 5.1's largest hash part (2^MAXBITS nodes); one more key raises
/// "table overflow".
const MAX_HASH_KEYS: usize = 1 << 26;

/// `lua_rawset(state, idx)` for the key and value on top, as a value
/// instead of a raise: Rust code that owns something calls this, so the
/// errors `lua_rawset` can raise (a nil or NaN key, a hash part past Lua's
/// maximum) come back before anything jumps. `count` is how many keys this
/// table got so far.
pub(crate) unsafe fn rawset_checked(state: State, idx: c_int, count: usize) -> Result<()> {
    if ffi::lua_type(state, -2) == ffi::LUA_TNIL {
        return Err(Raise::Plain(b"table index is nil".to_vec()));
    }
    if ffi::lua_type(state, -2) == ffi::LUA_TNUMBER && ffi::lua_tonumber(state, -2).is_nan() {
        return Err(Raise::Plain(b"table index is NaN".to_vec()));
    }
    if count >= MAX_HASH_KEYS {
        return Err(Raise::Plain(b"table overflow".to_vec()));
    }
    ffi::lua_rawset(state, idx);
    Ok(())
}

pub(crate) unsafe fn push_bytes(state: State, bytes: &[u8]) {
    ffi::lua_pushlstring_(state, bytes.as_ptr().cast(), bytes.len());
}

pub(crate) unsafe fn push_str(state: State, s: &str) {
    push_bytes(state, s.as_bytes());
}

/// The string at `idx` (numbers are converted in place, as Lua does).
pub unsafe fn to_bytes<'a>(state: State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let ptr = ffi::lua_tolstring(state, idx, &mut len);
    if ptr.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(ptr.cast(), len))
    }
}

/// The error `luaL_checktype` and friends raise: "<expected> expected, got <type>".
pub(crate) unsafe fn type_error(state: State, narg: c_int, expected: &str) -> Raise {
    let got = lua_type_name(state, narg);
    Raise::Argument(narg, format!("{expected} expected, got {got}").into_bytes())
}

pub(crate) unsafe fn lua_type_name(state: State, idx: c_int) -> String {
    let t = ffi::lua_type(state, idx);
    String::from_utf8_lossy(cstr_bytes(ffi::lua_typename(state, t))).into_owned()
}

/// `luaL_checknumber` without jumping: numbers and numeric strings.
pub(crate) unsafe fn check_number(state: State, narg: c_int) -> Result<f64> {
    let n = ffi::lua_tonumber(state, narg);
    if n == 0.0 && ffi::lua_isnumber(state, narg) == 0 {
        return Err(type_error(state, narg, "number"));
    }
    Ok(n)
}

/// `luaL_checkinteger` without jumping.
pub(crate) unsafe fn check_integer(state: State, narg: c_int) -> Result<i64> {
    check_number(state, narg).map(|n| n as i64)
}

/// `luaL_optinteger` without jumping.
pub(crate) unsafe fn opt_integer(state: State, narg: c_int, default: i64) -> Result<i64> {
    if ffi::lua_type(state, narg) <= ffi::LUA_TNIL {
        Ok(default)
    } else {
        check_integer(state, narg)
    }
}

/// `luaL_checklstring` without jumping (numbers become strings in place).
pub(crate) unsafe fn check_bytes<'a>(state: State, narg: c_int) -> Result<&'a [u8]> {
    to_bytes(state, narg).ok_or_else(|| type_error(state, narg, "string"))
}

/// `t[name]` without metamethods, for the table at `idx`.
pub(crate) unsafe fn raw_get_field(state: State, idx: c_int, name: &CStr) -> c_int {
    let idx = absolute(state, idx);
    ffi::lua_pushstring_(state, name.as_ptr());
    ffi::lua_rawget_(state, idx);
    ffi::lua_type(state, -1)
}

/// `t[name] = <top>` without metamethods; pops the value.
pub(crate) unsafe fn raw_set_field(state: State, idx: c_int, name: &CStr) {
    let idx = absolute(state, idx);
    ffi::lua_pushstring_(state, name.as_ptr());
    ffi::lua_insert(state, -2);
    ffi::lua_rawset(state, idx);
}

pub(crate) unsafe fn absolute(state: State, idx: c_int) -> c_int {
    if idx < 0 && idx > ffi::LUA_REGISTRYINDEX {
        ffi::lua_gettop(state) + idx + 1
    } else {
        idx
    }
}

pub(crate) unsafe fn set_function(state: State, table: c_int, name: &CStr, f: ffi::lua_CFunction) {
    let table = absolute(state, table);
    ffi::lua_pushcclosure(state, f, 0);
    ffi::lua_setfield(state, table, name.as_ptr());
}

/// Redis's `luaPushErrorBuff`: "-CODE msg" keeps its code, anything else
/// gets "ERR "; surrounding CR/LF are trimmed from the message.
pub fn error_text(raw: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match raw.strip_prefix(b"-") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(space) => (&rest[..space], &rest[space + 1..]),
            None => (b"ERR", rest),
        },
        None => (b"ERR", raw),
    };
    let trim = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !trim(b)).unwrap_or(msg.len());
    let end = msg
        .iter()
        .rposition(|b| !trim(b))
        .map(|p| p + 1)
        .unwrap_or(start);
    let mut text = code.to_vec();
    text.push(b' ');
    text.extend_from_slice(&msg[start..end.max(start)]);
    text
}

/// Pushes `{err = error_text(raw)}`.
pub(crate) unsafe fn push_error_table(state: State, raw: &[u8]) {
    ffi::lua_createtable(state, 0, 2);
    push_bytes(state, &error_text(raw));
    raw_set_field(state, -2, c"err");
}

pub(crate) unsafe fn cstr_bytes<'a>(ptr: *const c_char) -> &'a [u8] {
    if ptr.is_null() {
        b""
    } else {
        CStr::from_ptr(ptr).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[test]
    fn error_texts_follow_lua_push_error() {
        assert_eq!(error_text(b"-MY x"), b"MY x");
        assert_eq!(error_text(b"-x"), b"ERR x");
        assert_eq!(error_text(b"x"), b"ERR x");
        assert_eq!(error_text(b"-"), b"ERR ");
        assert_eq!(error_text(b"-x\r\n"), b"ERR x");
        assert_eq!(
            error_text(b"-WRONGTYPE Operation against"),
            b"WRONGTYPE Operation against"
        );
        assert_eq!(
            error_text(b"Wrong number of args"),
            b"ERR Wrong number of args"
        );
    }
}
