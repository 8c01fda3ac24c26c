//! `cjson`: Lua CJSON 2.1.0 as bundled with Redis: `encode`, `decode`,
//! `null`, and the configuration functions, with its number format (14
//! significant digits), escaping (`/` is escaped), sparse-array rule and
//! error messages.

use std::ffi::c_int;

use crate::engine::numbers::{format_g, strtod};
use crate::script::lua::{self, ffi, guard, push_bytes, raw_set_field, Raise, State};

#[derive(Clone, Copy)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    precision: i64,
    /// 0 refuses NaN and Inf, 1 writes them (`nan`, `inf`), 2 writes `null`.
    encode_invalid_numbers: u8,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
}

const DEFAULTS: Config = Config {
    sparse_convert: false,
    sparse_ratio: 2,
    sparse_safe: 10,
    encode_max_depth: 1000,
    decode_max_depth: 1000,
    precision: 14,
    encode_invalid_numbers: 0,
    decode_invalid_numbers: true,
    keep_buffer: true,
};

/// The configuration of the module table whose function is running: each
/// table (`cjson`, and each `cjson.new()`) has its own, kept in a userdata
/// every one of its functions holds as upvalue 1, as CJSON keeps it.
unsafe fn config(state: State) -> Config {
    *config_of(state)
}

unsafe fn config_of(state: State) -> *mut Config {
    ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)).cast::<Config>()
}

// ---- encode ----------------------------------------------------------------------

fn escape(byte: u8) -> Option<&'static str> {
    const CONTROL: [&str; 32] = [
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018", "\\u0019",
        "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    ];
    match byte {
        0..=31 => Some(CONTROL[byte as usize]),
        b'"' => Some("\\\""),
        b'\\' => Some("\\\\"),
        b'/' => Some("\\/"),
        127 => Some("\\u007f"),
        _ => None,
    }
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match escape(b) {
            Some(e) => out.extend_from_slice(e.as_bytes()),
            None => out.push(b),
        }
    }
    out.push(b'"');
}

unsafe fn encode_error(state: State, idx: c_int, reason: &str) -> Raise {
    let name = lua::lua_type_name(state, idx);
    Raise::Located(format!("Cannot serialise {name}: {reason}").into_bytes())
}

unsafe fn append_number(
    state: State,
    out: &mut Vec<u8>,
    idx: c_int,
    cfg: &Config,
) -> lua::Result<()> {
    let n = ffi::lua_tonumber(state, idx);
    match cfg.encode_invalid_numbers {
        0 if !n.is_finite() => return Err(encode_error(state, idx, "must not be NaN or Inf")),
        // Without its sign, whatever printf would write.
        1 if n.is_nan() => {
            out.extend_from_slice(b"nan");
            return Ok(());
        }
        2 if !n.is_finite() => {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        _ => {}
    }
    out.extend_from_slice(format_g(n, cfg.precision as i32).as_bytes());
    Ok(())
}

/// CJSON's `lua_array_length`: the array size, or None for an object.
/// As in C, the largest key is kept in an `int`: a key of 2^31 or more
/// (or an infinite one) becomes INT_MIN there (x86-64's conversion), which
/// makes the table an object unless a smaller key comes after it.
unsafe fn array_length(state: State, cfg: &Config) -> lua::Result<Option<usize>> {
    let (mut max, mut items) = (0i32, 0i32);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        let key = ffi::lua_tonumber(state, -2);
        if ffi::lua_type(state, -2) == ffi::LUA_TNUMBER
            && key != 0.0
            && key.floor() == key
            && key >= 1.0
        {
            if key > f64::from(max) {
                max = c_int_of(key);
            }
            items = items.wrapping_add(1);
            ffi::lua_pop(state, 1);
            continue;
        }
        ffi::lua_pop(state, 2);
        return Ok(None);
    }
    if cfg.sparse_ratio > 0
        && max > items.wrapping_mul(cfg.sparse_ratio as i32)
        && max > cfg.sparse_safe as i32
    {
        if !cfg.sparse_convert {
            return Err(encode_error(state, -1, "excessively sparse array"));
        }
        return Ok(None);
    }
    Ok((max > 0).then_some(max as usize))
}

/// C's `(int)` of a double on x86-64 (cvttsd2si): truncated, or INT_MIN
/// when out of range.
fn c_int_of(x: f64) -> i32 {
    if (-2147483648.0..2147483648.0).contains(&x) {
        x as i32
    } else {
        i32::MIN
    }
}

unsafe fn append_value(
    state: State,
    out: &mut Vec<u8>,
    depth: i64,
    cfg: &Config,
) -> lua::Result<()> {
    // The output is Rust's, not Lua's: it is charged against the limit by
    // hand (this runs disarmed, see `lua`).
    lua::check_room(state, out.len())?;
    match ffi::lua_type(state, -1) {
        ffi::LUA_TSTRING => {
            let s = lua::to_bytes(state, -1).unwrap_or(b"");
            lua::check_room(state, out.len().saturating_add(s.len()))?;
            append_string(out, s)
        }
        ffi::LUA_TNUMBER => append_number(state, out, -1, cfg)?,
        ffi::LUA_TBOOLEAN => out.extend_from_slice(if ffi::lua_toboolean(state, -1) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TTABLE => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth || ffi::lua_checkstack(state, 3) == 0 {
                return Err(Raise::Located(
                    format!("Cannot serialise, excessive nesting ({depth})").into_bytes(),
                ));
            }
            match array_length(state, cfg)? {
                Some(len) if len > 0 => {
                    out.push(b'[');
                    for i in 1..=len {
                        if i > 1 {
                            out.push(b',');
                        }
                        ffi::lua_rawgeti_(state, -1, i as c_int);
                        append_value(state, out, depth, cfg)?;
                        ffi::lua_pop(state, 1);
                    }
                    out.push(b']');
                }
                _ => {
                    out.push(b'{');
                    let mut comma = false;
                    ffi::lua_pushnil(state);
                    while ffi::lua_next(state, -2) != 0 {
                        if comma {
                            out.push(b',');
                        }
                        comma = true;
                        match ffi::lua_type(state, -2) {
                            ffi::LUA_TNUMBER => {
                                out.push(b'"');
                                append_number(state, out, -2, cfg)?;
                                out.extend_from_slice(b"\":");
                            }
                            ffi::LUA_TSTRING => {
                                // Copy the key: converting it in place would confuse lua_next.
                                let key = lua::to_bytes(state, -2).unwrap_or(b"").to_vec();
                                append_string(out, &key);
                                out.push(b':');
                            }
                            _ => {
                                return Err(encode_error(
                                    state,
                                    -2,
                                    "table key must be a number or string",
                                ))
                            }
                        }
                        append_value(state, out, depth, cfg)?;
                        ffi::lua_pop(state, 1);
                    }
                    out.push(b'}');
                }
            }
        }
        ffi::LUA_TNIL => out.extend_from_slice(b"null"),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(state, -1).is_null() => {
            out.extend_from_slice(b"null")
        }
        _ => return Err(encode_error(state, -1, "type not supported")),
    }
    Ok(())
}

unsafe fn encode(s: State) -> lua::Result<c_int> {
    if ffi::lua_gettop(s) != 1 {
        return Err(Raise::Argument(1, b"expected 1 argument".to_vec()));
    }
    let cfg = config(s);
    let mut out = Vec::new();
    append_value(s, &mut out, 0, &cfg)?;
    // The Lua copy needs the same room again.
    lua::check_room(s, out.len().saturating_mul(2))?;
    push_bytes(s, &out);
    Ok(1)
}

// ---- decode ----------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum TokenKind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            TokenKind::ObjBegin => "T_OBJ_BEGIN",
            TokenKind::ObjEnd => "T_OBJ_END",
            TokenKind::ArrBegin => "T_ARR_BEGIN",
            TokenKind::ArrEnd => "T_ARR_END",
            TokenKind::String => "T_STRING",
            TokenKind::Number => "T_NUMBER",
            TokenKind::Boolean => "T_BOOLEAN",
            TokenKind::Null => "T_NULL",
            TokenKind::Colon => "T_COLON",
            TokenKind::Comma => "T_COMMA",
            TokenKind::End => "T_END",
            TokenKind::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: TokenKind,
    index: usize,
    string: Vec<u8>,
    number: f64,
    boolean: bool,
    error: &'static str,
}

struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    depth: i64,
    cfg: Config,
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn error_token(&self, index: usize, error: &'static str) -> Token {
        Token {
            kind: TokenKind::Error,
            index,
            string: Vec::new(),
            number: 0.0,
            boolean: false,
            error,
        }
    }

    fn simple(&self, kind: TokenKind, index: usize) -> Token {
        Token {
            kind,
            index,
            string: Vec::new(),
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let starts = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    fn number_token(&mut self, index: usize) -> Token {
        let (value, consumed, _) = strtod(&self.data[self.pos..]);
        if consumed == 0 {
            return self.error_token(self.pos, "invalid number");
        }
        self.pos += consumed;
        Token {
            kind: TokenKind::Number,
            index,
            string: Vec::new(),
            number: value,
            boolean: false,
            error: "",
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.data.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    /// Appends the UTF-8 of a `\uXXXX` escape (or surrogate pair) at pos.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> bool {
        let Some(mut codepoint) = self.hex4(self.pos + 2) else {
            return false;
        };
        let mut escape_len = 6;
        if codepoint & 0xF800 == 0xD800 {
            if codepoint & 0x400 != 0 {
                return false;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.pos + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            codepoint = (((codepoint & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        let Some(ch) = char::from_u32(codepoint).or(if codepoint < 0x110000 {
            Some('\u{FFFD}')
        } else {
            None
        }) else {
            return false;
        };
        if (0xD800..0xE000).contains(&codepoint) {
            // A lone low surrogate: CJSON writes its 3-byte form.
            out.extend_from_slice(&[
                0xE0 | (codepoint >> 12) as u8,
                0x80 | ((codepoint >> 6) & 0x3F) as u8,
                0x80 | (codepoint & 0x3F) as u8,
            ]);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        self.pos += escape_len;
        true
    }

    fn string_token(&mut self, index: usize) -> Token {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let ch = self.at(self.pos);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error_token(self.pos, "unexpected end of string");
            }
            if ch == b'\\' {
                let translated = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut out) {
                            continue;
                        }
                        return self.error_token(self.pos, "invalid unicode escape code");
                    }
                    _ => return self.error_token(self.pos, "invalid escape code"),
                };
                out.push(translated);
                self.pos += 2;
                continue;
            }
            out.push(ch);
            self.pos += 1;
        }
        self.pos += 1;
        Token {
            kind: TokenKind::String,
            index,
            string: out,
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let index = self.pos;
        let ch = self.at(self.pos);
        let single = match ch {
            b'{' => Some(TokenKind::ObjBegin),
            b'}' => Some(TokenKind::ObjEnd),
            b'[' => Some(TokenKind::ArrBegin),
            b']' => Some(TokenKind::ArrEnd),
            b':' => Some(TokenKind::Colon),
            b',' => Some(TokenKind::Comma),
            0 => return self.simple(TokenKind::End, index),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return self.simple(kind, index);
        }
        let unknown = matches!(
            ch,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9'
        );
        if !unknown {
            return self.error_token(index, "invalid token");
        }
        let rest = &self.data[self.pos..];
        if ch == b'"' {
            return self.string_token(index);
        } else if ch == b'-' || ch.is_ascii_digit() {
            if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                return self.error_token(self.pos, "invalid number");
            }
            return self.number_token(index);
        } else if rest.starts_with(b"true") {
            self.pos += 4;
            return Token {
                kind: TokenKind::Boolean,
                index,
                string: Vec::new(),
                number: 0.0,
                boolean: true,
                error: "",
            };
        } else if rest.starts_with(b"false") {
            self.pos += 5;
            return Token {
                kind: TokenKind::Boolean,
                index,
                string: Vec::new(),
                number: 0.0,
                boolean: false,
                error: "",
            };
        } else if rest.starts_with(b"null") {
            self.pos += 4;
            return self.simple(TokenKind::Null, index);
        } else if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
            return self.number_token(index);
        }
        self.error_token(index, "invalid token")
    }

    fn parse_error(&self, expected: &str, token: &Token) -> Raise {
        let found = if token.kind == TokenKind::Error {
            token.error
        } else {
            token.kind.name()
        };
        Raise::Located(
            format!(
                "Expected {expected} but found {found} at character {}",
                token.index + 1
            )
            .into_bytes(),
        )
    }

    unsafe fn descend(&mut self, state: State, slots: c_int) -> lua::Result<()> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(state, slots) != 0 {
            return Ok(());
        }
        Err(Raise::Located(
            format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )
            .into_bytes(),
        ))
    }

    unsafe fn value(&mut self, state: State, token: Token) -> lua::Result<()> {
        // Decoding runs disarmed (see `lua`): stop at the limit by hand.
        lua::check_room(state, token.string.len())?;
        match token.kind {
            TokenKind::String => push_bytes(state, &token.string),
            TokenKind::Number => ffi::lua_pushnumber(state, token.number),
            TokenKind::Boolean => ffi::lua_pushboolean(state, token.boolean as c_int),
            TokenKind::ObjBegin => self.object(state)?,
            TokenKind::ArrBegin => self.array(state)?,
            TokenKind::Null => ffi::lua_pushlightuserdata(state, std::ptr::null_mut()),
            _ => return Err(self.parse_error("value", &token)),
        }
        Ok(())
    }

    unsafe fn object(&mut self, state: State) -> lua::Result<()> {
        self.descend(state, 3)?;
        ffi::lua_createtable(state, 0, 0);
        let mut token = self.next_token();
        if token.kind == TokenKind::ObjEnd {
            self.depth -= 1;
            return Ok(());
        }
        let mut count = 0;
        loop {
            if token.kind != TokenKind::String {
                return Err(self.parse_error("object key string", &token));
            }
            push_bytes(state, &token.string);
            token = self.next_token();
            if token.kind != TokenKind::Colon {
                return Err(self.parse_error("colon", &token));
            }
            let value = self.next_token();
            self.value(state, value)?;
            lua::rawset_checked(state, -3, count)?;
            count += 1;
            token = self.next_token();
            if token.kind == TokenKind::ObjEnd {
                self.depth -= 1;
                return Ok(());
            }
            if token.kind != TokenKind::Comma {
                return Err(self.parse_error("comma or object end", &token));
            }
            token = self.next_token();
        }
    }

    unsafe fn array(&mut self, state: State) -> lua::Result<()> {
        self.descend(state, 2)?;
        ffi::lua_createtable(state, 0, 0);
        let mut token = self.next_token();
        if token.kind == TokenKind::ArrEnd {
            self.depth -= 1;
            return Ok(());
        }
        let mut i: c_int = 1;
        loop {
            self.value(state, token)?;
            ffi::lua_rawseti_(state, -2, i);
            i += 1;
            token = self.next_token();
            if token.kind == TokenKind::ArrEnd {
                self.depth -= 1;
                return Ok(());
            }
            if token.kind != TokenKind::Comma {
                return Err(self.parse_error("comma or array end", &token));
            }
            token = self.next_token();
        }
    }
}

unsafe fn decode(s: State) -> lua::Result<c_int> {
    if ffi::lua_gettop(s) != 1 {
        return Err(Raise::Argument(1, b"expected 1 argument".to_vec()));
    }
    let data = lua::check_bytes(s, 1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise::Located(
            b"JSON parser does not support UTF-16 or UTF-32".to_vec(),
        ));
    }
    let mut parser = Parser {
        data,
        pos: 0,
        depth: 0,
        cfg: config(s),
    };
    let token = parser.next_token();
    parser.value(s, token)?;
    let token = parser.next_token();
    if token.kind != TokenKind::End {
        return Err(parser.parse_error("the end", &token));
    }
    Ok(1)
}

// ---- configuration ---------------------------------------------------------------

unsafe fn integer_option(
    s: State,
    idx: c_int,
    value: &mut i64,
    min: i64,
    max: i64,
) -> lua::Result<()> {
    if ffi::lua_type(s, idx) > ffi::LUA_TNIL {
        let n = lua::check_integer(s, idx)?;
        if !(min..=max).contains(&n) {
            return Err(Raise::Argument(
                idx,
                format!("expected integer between {min} and {max}").into_bytes(),
            ));
        }
        *value = n;
    }
    ffi::lua_pushnumber(s, *value as f64);
    Ok(())
}

/// cjson's `json_arg_init`: at most `args` arguments, the missing ones
/// made nil (each option pushes its value after them).
unsafe fn arg_init(s: State, args: c_int) -> lua::Result<()> {
    if ffi::lua_gettop(s) > args {
        return Err(Raise::Argument(
            args + 1,
            b"found too many arguments".to_vec(),
        ));
    }
    while ffi::lua_gettop(s) < args {
        ffi::lua_pushnil(s);
    }
    Ok(())
}

/// cjson's `json_enum_option` with the options "off" and "on": a boolean,
/// or one of those names (Lua's `luaL_checkoption`: a number is taken as
/// its text, anything else is not a string).
unsafe fn bool_option(s: State, idx: c_int, value: &mut bool) -> lua::Result<()> {
    let mut setting = u8::from(*value);
    enum_option(s, idx, &mut setting, &[b"off", b"on"])?;
    *value = setting == 1;
    Ok(())
}

/// CJSON's `json_enum_option`: the setting is the index of one of `names`
/// (the first two are off and on, also given as booleans); pushes it back,
/// a boolean for those two, its name otherwise.
unsafe fn enum_option(s: State, idx: c_int, value: &mut u8, names: &[&[u8]]) -> lua::Result<()> {
    match ffi::lua_type(s, idx) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => {}
        ffi::LUA_TBOOLEAN => *value = u8::from(ffi::lua_toboolean(s, idx) != 0),
        _ => {
            let given = lua::check_bytes(s, idx)?;
            // luaL_checkoption compares C strings: up to a NUL.
            let given = &given[..given.iter().position(|&c| c == 0).unwrap_or(given.len())];
            let Some(found) = names.iter().position(|name| *name == given) else {
                let mut msg = b"invalid option '".to_vec();
                msg.extend_from_slice(given);
                msg.push(b'\'');
                return Err(Raise::Argument(idx, msg));
            };
            *value = found as u8;
        }
    }
    if *value < 2 {
        ffi::lua_pushboolean(s, c_int::from(*value));
    } else {
        push_bytes(s, names[usize::from(*value)]);
    }
    Ok(())
}

/// Runs an option setter on the module's configuration itself: as in
/// CJSON, each option is set as it is read, so one set before a later
/// argument fails stays set.
unsafe fn update(
    state: State,
    f: impl FnOnce(&mut Config) -> lua::Result<c_int>,
) -> lua::Result<c_int> {
    f(&mut *config_of(state))
}

unsafe extern "C-unwind" fn encode_fn(state: State) -> c_int {
    guard(state, |s| encode(s))
}

unsafe extern "C-unwind" fn decode_fn(state: State) -> c_int {
    guard(state, |s| decode(s))
}

unsafe extern "C-unwind" fn encode_sparse_array(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 3)?;
            bool_option(s, 1, &mut c.sparse_convert)?;
            integer_option(s, 2, &mut c.sparse_ratio, 0, i32::MAX as i64)?;
            integer_option(s, 3, &mut c.sparse_safe, 0, i32::MAX as i64)?;
            Ok(3)
        })
    })
}

unsafe extern "C-unwind" fn encode_max_depth(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            integer_option(s, 1, &mut c.encode_max_depth, 1, i32::MAX as i64).map(|_| 1)
        })
    })
}

unsafe extern "C-unwind" fn decode_max_depth(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            integer_option(s, 1, &mut c.decode_max_depth, 1, i32::MAX as i64).map(|_| 1)
        })
    })
}

unsafe extern "C-unwind" fn encode_number_precision(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            integer_option(s, 1, &mut c.precision, 1, 14).map(|_| 1)
        })
    })
}

unsafe extern "C-unwind" fn encode_keep_buffer(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            bool_option(s, 1, &mut c.keep_buffer).map(|_| 1)
        })
    })
}

unsafe extern "C-unwind" fn encode_invalid_numbers(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            enum_option(
                s,
                1,
                &mut c.encode_invalid_numbers,
                &[b"off", b"on", b"null"],
            )
            .map(|_| 1)
        })
    })
}

unsafe extern "C-unwind" fn decode_invalid_numbers(state: State) -> c_int {
    guard(state, |s| {
        update(s, |c| {
            arg_init(s, 1)?;
            bool_option(s, 1, &mut c.decode_invalid_numbers).map(|_| 1)
        })
    })
}

/// `cjson.new()`: another module table, with its own configuration (the
/// defaults).
unsafe extern "C-unwind" fn new_instance(state: State) -> c_int {
    push_module(state);
    1
}

unsafe fn push_module(state: State) {
    ffi::lua_createtable(state, 0, 16);
    // SAFETY (of the write): Lua returns a block of the size asked for,
    // aligned for any C type; Config is plain data with no drop.
    let cfg = ffi::lua_newuserdata(state, std::mem::size_of::<Config>()).cast::<Config>();
    cfg.write(DEFAULTS);
    let functions: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
        (c"encode", encode_fn),
        (c"decode", decode_fn),
        (c"encode_sparse_array", encode_sparse_array),
        (c"encode_max_depth", encode_max_depth),
        (c"decode_max_depth", decode_max_depth),
        (c"encode_number_precision", encode_number_precision),
        (c"encode_keep_buffer", encode_keep_buffer),
        (c"encode_invalid_numbers", encode_invalid_numbers),
        (c"decode_invalid_numbers", decode_invalid_numbers),
        (c"new", new_instance),
    ];
    for (name, f) in functions {
        ffi::lua_pushvalue(state, -1);
        ffi::lua_pushcclosure(state, *f, 1);
        ffi::lua_setfield(state, -3, name.as_ptr());
    }
    ffi::lua_pop(state, 1);
    ffi::lua_pushlightuserdata(state, std::ptr::null_mut());
    raw_set_field(state, -2, c"null");
    lua::push_str(state, "cjson");
    raw_set_field(state, -2, c"_NAME");
    lua::push_str(state, "2.1.0");
    raw_set_field(state, -2, c"_VERSION");
}

pub(crate) unsafe fn register(state: State) {
    push_module(state);
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"cjson".as_ptr());
}
