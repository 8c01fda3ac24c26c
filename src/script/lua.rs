//! Small helpers over Lua 5.1's C API (through `mlua::ffi`), and the one
//! way Rust code raises a Lua error.
//!
//! Redis's scripting glue is C that raises Lua errors with `lua_error`
//! (a `longjmp`). redstep's glue is Rust with the same shape: each
//! function exported to Lua does its work in an inner function that
//! returns `Result<c_int, Raise>`, so every Rust value is dropped before
//! [`throw`] jumps. Panics are caught at the same boundary.

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use mlua::ffi;
pub use mlua::ffi::lua_State;

pub type State = *mut lua_State;

/// A Lua error to raise once the Rust frame is gone.
pub enum Raise {
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
}

pub type Result<T> = std::result::Result<T, Raise>;

/// Runs `body` as the body of a Lua C function: returns its result count,
/// or raises its error after everything it owned was dropped.
///
/// # Safety
/// `state` must be the state Lua called the function with.
pub unsafe fn guard(state: State, body: impl FnOnce(State) -> Result<c_int>) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(state)));
    let raise = match outcome {
        Ok(Ok(n)) => return n,
        Ok(Err(raise)) => raise,
        Err(_) => {
            Raise::Plain(b"redstep internal error (a bug): a Rust panic inside a Lua call".to_vec())
        }
    };
    throw(state, raise)
}

/// Pushes the error value and raises it.
///
/// # Safety
/// Must be called from a Lua C function (or hook) on `state`, with no live
/// Rust values that need dropping in the frames it jumps over.
pub unsafe fn throw(state: State, raise: Raise) -> ! {
    // Room for the error value; a function that filled its stack gives its
    // values up (it is raising anyway).
    if ffi::lua_checkstack(state, 4) == 0 {
        ffi::lua_settop(state, 0);
    }
    match &raise {
        Raise::ErrorTable(msg) => push_error_table(state, msg),
        Raise::Plain(msg) => push_bytes(state, msg),
        Raise::Located(msg) => {
            ffi::luaL_where(state, 1);
            push_bytes(state, msg);
            ffi::lua_concat(state, 2);
        }
        Raise::Argument(n, msg) => {
            // The message lives on the Lua stack, so nothing of Rust's is
            // left to drop when luaL_argerror jumps.
            let n = *n;
            push_bytes(state, msg);
            drop(raise);
            let text = ffi::lua_tolstring(state, -1, std::ptr::null_mut());
            ffi::luaL_argerror(state, n, text);
            unreachable!("luaL_argerror returned");
        }
        Raise::OnStack => {}
    }
    drop(raise);
    ffi::lua_error(state)
}

pub unsafe fn push_bytes(state: State, bytes: &[u8]) {
    ffi::lua_pushlstring_(state, bytes.as_ptr().cast(), bytes.len());
}

pub unsafe fn push_str(state: State, s: &str) {
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
pub unsafe fn type_error(state: State, narg: c_int, expected: &str) -> Raise {
    let got = lua_type_name(state, narg);
    Raise::Argument(narg, format!("{expected} expected, got {got}").into_bytes())
}

pub unsafe fn lua_type_name(state: State, idx: c_int) -> String {
    let t = ffi::lua_type(state, idx);
    String::from_utf8_lossy(cstr_bytes(ffi::lua_typename(state, t))).into_owned()
}

/// `luaL_checknumber` without jumping: numbers and numeric strings.
pub unsafe fn check_number(state: State, narg: c_int) -> Result<f64> {
    let n = ffi::lua_tonumber(state, narg);
    if n == 0.0 && ffi::lua_isnumber(state, narg) == 0 {
        return Err(type_error(state, narg, "number"));
    }
    Ok(n)
}

/// `luaL_checkinteger` without jumping.
pub unsafe fn check_integer(state: State, narg: c_int) -> Result<i64> {
    check_number(state, narg).map(|n| n as i64)
}

/// `luaL_optinteger` without jumping.
pub unsafe fn opt_integer(state: State, narg: c_int, default: i64) -> Result<i64> {
    if ffi::lua_type(state, narg) <= ffi::LUA_TNIL {
        Ok(default)
    } else {
        check_integer(state, narg)
    }
}

/// `luaL_checklstring` without jumping (numbers become strings in place).
pub unsafe fn check_bytes<'a>(state: State, narg: c_int) -> Result<&'a [u8]> {
    to_bytes(state, narg).ok_or_else(|| type_error(state, narg, "string"))
}

/// `t[name]` without metamethods, for the table at `idx`.
pub unsafe fn raw_get_field(state: State, idx: c_int, name: &CStr) -> c_int {
    let idx = absolute(state, idx);
    ffi::lua_pushstring_(state, name.as_ptr());
    ffi::lua_rawget_(state, idx);
    ffi::lua_type(state, -1)
}

/// `t[name] = <top>` without metamethods; pops the value.
pub unsafe fn raw_set_field(state: State, idx: c_int, name: &CStr) {
    let idx = absolute(state, idx);
    ffi::lua_pushstring_(state, name.as_ptr());
    ffi::lua_insert(state, -2);
    ffi::lua_rawset(state, idx);
}

pub unsafe fn absolute(state: State, idx: c_int) -> c_int {
    if idx < 0 && idx > ffi::LUA_REGISTRYINDEX {
        ffi::lua_gettop(state) + idx + 1
    } else {
        idx
    }
}

pub unsafe fn set_function(state: State, table: c_int, name: &CStr, f: ffi::lua_CFunction) {
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
pub unsafe fn push_error_table(state: State, raw: &[u8]) {
    ffi::lua_createtable(state, 0, 2);
    push_bytes(state, &error_text(raw));
    raw_set_field(state, -2, c"err");
}

pub unsafe fn cstr_bytes<'a>(ptr: *const c_char) -> &'a [u8] {
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
