//! `bit`: LuaBitOp 1.0.2 as bundled with Redis (32-bit operations on Lua
//! numbers).

use std::ffi::c_int;

use crate::script::lua::{self, ffi, guard, set_function, State};

/// LuaBitOp's `barg`: the number's low 32 bits after adding 2^52+2^51,
/// which rounds to the nearest integer and wraps modulo 2^32.
unsafe fn barg(state: State, idx: c_int) -> lua::Result<u32> {
    let n = ffi::lua_tonumber(state, idx) + 6_755_399_441_055_744.0;
    let b = n.to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(state, idx) == 0 {
        return Err(lua::type_error(state, idx, "number"));
    }
    Ok(b)
}

unsafe fn ret(state: State, b: u32) -> lua::Result<c_int> {
    ffi::lua_pushnumber(state, f64::from(b as i32));
    Ok(1)
}

macro_rules! unary {
    ($name:ident, |$b:ident| $body:expr) => {
        unsafe extern "C-unwind" fn $name(state: State) -> c_int {
            guard(state, |s| {
                let $b = barg(s, 1)?;
                ret(s, $body)
            })
        }
    };
}

macro_rules! fold {
    ($name:ident, $op:tt) => {
        unsafe extern "C-unwind" fn $name(state: State) -> c_int {
            guard(state, |s| {
                let mut b = barg(s, 1)?;
                let mut i = ffi::lua_gettop(s);
                while i > 1 {
                    b $op barg(s, i)?;
                    i -= 1;
                }
                ret(s, b)
            })
        }
    };
}

macro_rules! shift {
    ($name:ident, |$b:ident, $n:ident| $body:expr) => {
        unsafe extern "C-unwind" fn $name(state: State) -> c_int {
            guard(state, |s| {
                let $b = barg(s, 1)?;
                let $n = barg(s, 2)? & 31;
                ret(s, $body)
            })
        }
    };
}

unary!(tobit, |b| b);
unary!(bnot, |b| !b);
unary!(bswap, |b| b.swap_bytes());
fold!(band, &=);
fold!(bor, |=);
fold!(bxor, ^=);
shift!(lshift, |b, n| b << n);
shift!(rshift, |b, n| b >> n);
shift!(arshift, |b, n| ((b as i32) >> n) as u32);
shift!(rol, |b, n| b.rotate_left(n));
shift!(ror, |b, n| b.rotate_right(n));

unsafe extern "C-unwind" fn tohex(state: State) -> c_int {
    guard(state, |s| {
        let mut b = barg(s, 1)?;
        let mut n: i32 = if ffi::lua_type(s, 2) == ffi::LUA_TNONE {
            8
        } else {
            barg(s, 2)? as i32
        };
        let mut digits = b"0123456789abcdef";
        if n < 0 {
            n = n.wrapping_neg();
            digits = b"0123456789ABCDEF";
        }
        let n = n.clamp(0, 8) as usize;
        let mut buf = [0u8; 8];
        for slot in buf[..n].iter_mut().rev() {
            *slot = digits[(b & 15) as usize];
            b >>= 4;
        }
        lua::push_bytes(s, &buf[..n]);
        Ok(1)
    })
}

pub(crate) unsafe fn register(state: State) {
    ffi::lua_createtable(state, 0, 12);
    let functions: &[(&std::ffi::CStr, ffi::lua_CFunction)] = &[
        (c"tobit", tobit),
        (c"bnot", bnot),
        (c"band", band),
        (c"bor", bor),
        (c"bxor", bxor),
        (c"lshift", lshift),
        (c"rshift", rshift),
        (c"arshift", arshift),
        (c"rol", rol),
        (c"ror", ror),
        (c"bswap", bswap),
        (c"tohex", tohex),
    ];
    for (name, f) in functions {
        set_function(state, -1, name, *f);
    }
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"bit".as_ptr());
}
