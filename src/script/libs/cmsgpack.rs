//! `cmsgpack`: lua-cmsgpack 0.4.0 as bundled with Redis: `pack`,
//! `unpack`, `unpack_one`, `unpack_limit`.

use std::ffi::c_int;

use crate::script::lua::{self, ffi, guard, push_bytes, raw_set_field, set_function, Raise, State};

/// Tables nested deeper than this are packed as nil (cycles terminate).
const MAX_NESTING: usize = 16;

/// IS_INT64_EQUIVALENT: `(int64_t)n == n` with C's cast, which on x86-64
/// gives INT64_MIN for 2^63 (so 2^63 packs as a float, as in Redis).
fn is_int64(n: f64) -> bool {
    n.is_finite() && crate::engine::numbers::c_cast_i64(n) as f64 == n
}

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_double(out: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if f64::from(f) == d {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_header(out: &mut Vec<u8>, n: usize, fix: u8, code16: u8, code32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(code16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(code32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// lua-cmsgpack's `table_is_an_array`: keys exactly 1..n.
unsafe fn table_is_array(state: State) -> bool {
    let top = ffi::lua_gettop(state);
    let (mut count, mut max) = (0f64, 0f64);
    ffi::lua_pushnil(state);
    while ffi::lua_next(state, -2) != 0 {
        ffi::lua_pop(state, 1);
        let n = ffi::lua_tonumber(state, -1);
        if ffi::lua_type(state, -1) != ffi::LUA_TNUMBER || n <= 0.0 || (n as i32) as f64 != n {
            ffi::lua_settop(state, top);
            return false;
        }
        max = max.max(n);
        count += 1.0;
    }
    ffi::lua_settop(state, top);
    max == count
}

/// Encodes the value on top of the stack and pops it.
unsafe fn encode_value(state: State, out: &mut Vec<u8>, level: usize) -> lua::Result<()> {
    let mut t = ffi::lua_type(state, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    // The output is Rust's, not Lua's: it is charged against the limit by
    // hand (this runs disarmed, see `lua`).
    lua::check_room(state, out.len())?;
    match t {
        ffi::LUA_TSTRING => {
            let s = lua::to_bytes(state, -1).unwrap_or(b"");
            lua::check_room(state, out.len().saturating_add(s.len()))?;
            encode_bytes(out, s)
        }
        ffi::LUA_TBOOLEAN => out.push(if ffi::lua_toboolean(state, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(state, -1);
            if is_int64(n) {
                encode_int(out, n as i64);
            } else {
                encode_double(out, n);
            }
        }
        ffi::LUA_TTABLE => {
            if ffi::lua_checkstack(state, 3) == 0 {
                return Err(Raise::Located(
                    b"stack overflow (in function mp_encode_lua_table)".to_vec(),
                ));
            }
            if table_is_array(state) {
                let len = ffi::lua_objlen(state, -1);
                encode_header(out, len, 0x90, 0xdc, 0xdd);
                for j in 1..=len {
                    ffi::lua_rawgeti_(state, -1, j as c_int);
                    encode_value(state, out, level + 1)?;
                }
            } else {
                let mut len = 0;
                ffi::lua_pushnil(state);
                while ffi::lua_next(state, -2) != 0 {
                    ffi::lua_pop(state, 1);
                    len += 1;
                }
                encode_header(out, len, 0x80, 0xde, 0xdf);
                ffi::lua_pushnil(state);
                while ffi::lua_next(state, -2) != 0 {
                    ffi::lua_pushvalue(state, -2);
                    encode_value(state, out, level + 1)?;
                    encode_value(state, out, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    ffi::lua_pop(state, 1);
    Ok(())
}

unsafe fn pack(s: State) -> lua::Result<c_int> {
    let nargs = ffi::lua_gettop(s);
    if nargs == 0 {
        return Err(Raise::Argument(
            0,
            b"MessagePack pack needs input.".to_vec(),
        ));
    }
    if ffi::lua_checkstack(s, nargs + 4) == 0 {
        return Err(Raise::Argument(
            0,
            b"Too many arguments for MessagePack pack.".to_vec(),
        ));
    }
    let mut out = Vec::new();
    for i in 1..=nargs {
        ffi::lua_pushvalue(s, i);
        encode_value(s, &mut out, 0)?;
    }
    // The Lua copy needs the same room again.
    lua::check_room(s, out.len().saturating_mul(2))?;
    push_bytes(s, &out);
    Ok(1)
}

enum DecodeError {
    Eof,
    BadFormat,
    /// `luaL_checkstack` failed with this message.
    Stack(&'static str),
    /// The decoded values reached the memory limit.
    Memory,
    /// What Lua would have raised (a nil or NaN key).
    Raise(Raise),
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.left() < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[self.pos + from..self.pos + from + n]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }
}

/// Decodes one value onto the stack.
unsafe fn decode_value(state: State, c: &mut Cursor) -> Result<(), DecodeError> {
    c.need(1)?;
    // Decoding runs disarmed (see `lua`): stop at the limit by hand.
    if lua::check_room(state, 0).is_err() {
        return Err(DecodeError::Memory);
    }
    if ffi::lua_checkstack(state, 1) == 0 {
        return Err(DecodeError::Stack(
            "too many return values at once; use unpack_one or unpack_limit instead.",
        ));
    }
    let b = c.data[c.pos];
    let push_num = |n: f64| ffi::lua_pushnumber(state, n);
    match b {
        0xcc | 0xd0 => {
            c.need(2)?;
            let v = c.data[c.pos + 1];
            push_num(if b == 0xcc {
                f64::from(v)
            } else {
                f64::from(v as i8)
            });
            c.pos += 2;
        }
        0xcd | 0xd1 => {
            c.need(3)?;
            let v = c.be(1, 2) as u16;
            push_num(if b == 0xcd {
                f64::from(v)
            } else {
                f64::from(v as i16)
            });
            c.pos += 3;
        }
        0xce | 0xd2 => {
            c.need(5)?;
            let v = c.be(1, 4) as u32;
            push_num(if b == 0xce {
                f64::from(v)
            } else {
                f64::from(v as i32)
            });
            c.pos += 5;
        }
        0xcf | 0xd3 => {
            c.need(9)?;
            // Both as int64: lua_cmsgpack.c pushes uint 64 with
            // lua_pushunsigned, which is lua_pushinteger (a signed
            // ptrdiff_t) on 64-bit builds, so 2^63 and up turn negative.
            push_num(c.be(1, 8) as i64 as f64);
            c.pos += 9;
        }
        0xc0 => {
            ffi::lua_pushnil(state);
            c.pos += 1;
        }
        0xc3 | 0xc2 => {
            ffi::lua_pushboolean(state, (b == 0xc3) as c_int);
            c.pos += 1;
        }
        0xca => {
            c.need(5)?;
            push_num(f64::from(f32::from_bits(c.be(1, 4) as u32)));
            c.pos += 5;
        }
        0xcb => {
            c.need(9)?;
            push_num(f64::from_bits(c.be(1, 8)));
            c.pos += 9;
        }
        0xd9..=0xdb => {
            let width = match b {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            c.need(1 + width)?;
            let len = c.be(1, width) as usize;
            c.need(1 + width + len)?;
            push_bytes(state, &c.data[c.pos + 1 + width..c.pos + 1 + width + len]);
            c.pos += 1 + width + len;
        }
        0xdc..=0xdf => {
            let width = if b == 0xdc || b == 0xde { 2 } else { 4 };
            c.need(1 + width)?;
            let len = c.be(1, width) as usize;
            c.pos += 1 + width;
            if b <= 0xdd {
                decode_array(state, c, len)?;
            } else {
                decode_map(state, c, len)?;
            }
        }
        _ if b & 0x80 == 0 => {
            push_num(f64::from(b));
            c.pos += 1;
        }
        _ if b & 0xe0 == 0xe0 => {
            push_num(f64::from(b as i8));
            c.pos += 1;
        }
        _ if b & 0xe0 == 0xa0 => {
            let len = usize::from(b & 0x1f);
            c.need(1 + len)?;
            push_bytes(state, &c.data[c.pos + 1..c.pos + 1 + len]);
            c.pos += 1 + len;
        }
        _ if b & 0xf0 == 0x90 => {
            c.pos += 1;
            decode_array(state, c, usize::from(b & 0xf))?;
        }
        _ if b & 0xf0 == 0x80 => {
            c.pos += 1;
            decode_map(state, c, usize::from(b & 0xf))?;
        }
        _ => return Err(DecodeError::BadFormat),
    }
    Ok(())
}

unsafe fn decode_array(state: State, c: &mut Cursor, len: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(state, 0, 0);
    if ffi::lua_checkstack(state, 1) == 0 {
        return Err(DecodeError::Stack("in function mp_decode_to_lua_array"));
    }
    for index in 1..=len {
        ffi::lua_pushnumber(state, index as f64);
        decode_value(state, c)?;
        ffi::lua_rawset(state, -3);
    }
    Ok(())
}

unsafe fn decode_map(state: State, c: &mut Cursor, len: usize) -> Result<(), DecodeError> {
    ffi::lua_createtable(state, 0, 0);
    for count in 0..len {
        decode_value(state, c)?;
        decode_value(state, c)?;
        // A nil key is "table index is nil", as lua_settable raises in Redis.
        lua::rawset_checked(state, -3, count).map_err(DecodeError::Raise)?;
    }
    Ok(())
}

unsafe fn unpack_full(s: State, limit: i64, offset: i64) -> lua::Result<c_int> {
    let data = lua::check_bytes(s, 1)?;
    let len = data.len() as i64;
    if offset < 0 || limit < 0 {
        return Err(Raise::Located(
            format!("Invalid request to unpack with offset of {offset} and limit of {len}.")
                .into_bytes(),
        ));
    } else if offset > len {
        return Err(Raise::Located(
            format!("Start offset {offset} greater than input length {len}.").into_bytes(),
        ));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all {
        i64::from(i32::MAX)
    } else {
        limit
    };
    let mut cursor = Cursor {
        data,
        pos: offset as usize,
    };
    let mut count = 0;
    while cursor.left() > 0 && count < limit {
        match decode_value(s, &mut cursor) {
            Ok(()) => count += 1,
            Err(DecodeError::Eof) => {
                return Err(Raise::Located(b"Missing bytes in input.".to_vec()))
            }
            Err(DecodeError::BadFormat) => {
                return Err(Raise::Located(b"Bad data format in input.".to_vec()))
            }
            Err(DecodeError::Memory) => return Err(Raise::Memory),
            Err(DecodeError::Raise(raise)) => return Err(raise),
            Err(DecodeError::Stack(what)) => {
                return Err(Raise::Located(
                    format!("stack overflow ({what})").into_bytes(),
                ))
            }
        }
    }
    let mut results = count as c_int;
    if !decode_all {
        let next = if cursor.left() == 0 {
            -1.0
        } else {
            (len as usize - cursor.left()) as f64
        };
        ffi::lua_pushnumber(s, next);
        ffi::lua_insert(s, 2);
        results += 1;
    }
    Ok(results)
}

unsafe extern "C-unwind" fn pack_fn(state: State) -> c_int {
    guard(state, |s| pack(s))
}

unsafe extern "C-unwind" fn unpack_fn(state: State) -> c_int {
    guard(state, |s| unpack_full(s, 0, 0))
}

unsafe extern "C-unwind" fn unpack_one_fn(state: State) -> c_int {
    guard(state, |s| {
        let offset = lua::opt_integer(s, 2, 0)?;
        ffi::lua_settop(s, 1);
        unpack_full(s, 1, offset)
    })
}

unsafe extern "C-unwind" fn unpack_limit_fn(state: State) -> c_int {
    guard(state, |s| {
        let limit = lua::check_integer(s, 2)?;
        let offset = lua::opt_integer(s, 3, 0)?;
        ffi::lua_settop(s, 1);
        unpack_full(s, limit, offset)
    })
}

pub(crate) unsafe fn register(state: State) {
    ffi::lua_createtable(state, 0, 8);
    set_function(state, -1, c"pack", pack_fn);
    set_function(state, -1, c"unpack", unpack_fn);
    set_function(state, -1, c"unpack_one", unpack_one_fn);
    set_function(state, -1, c"unpack_limit", unpack_limit_fn);
    for (name, value) in [
        (c"_NAME", "cmsgpack"),
        (c"_VERSION", "lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", "MessagePack C implementation for Lua"),
    ] {
        lua::push_str(state, value);
        raw_set_field(state, -2, name);
    }
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"cmsgpack".as_ptr());
}
