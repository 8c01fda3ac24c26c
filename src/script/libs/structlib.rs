//! `struct`: Roberto Ierusalimschy's struct library as bundled (and
//! patched against overreads) by Redis: `pack`, `unpack`, `size`.
//!
//! Sizes are those of x86-64 Linux, as on the Redis it imitates: short 2,
//! int 4, long 8, size_t 8, maximum alignment 8.

use std::ffi::c_int;

use crate::script::lua::{self, ffi, guard, set_function, Raise, State};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// A cursor over the format string.
struct Format<'a> {
    fmt: &'a [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        if c == 0 {
            return None;
        }
        self.pos += 1;
        Some(c)
    }

    fn number(&mut self, default: usize) -> lua::Result<usize> {
        if !self.fmt.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(c) = self.fmt.get(self.pos).filter(|c| c.is_ascii_digit()) {
            let d = usize::from(c - b'0');
            if a > (i32::MAX as usize) / 10 || a * 10 > i32::MAX as usize - d {
                return Err(Raise::Located(b"integral size overflow".to_vec()));
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a)
    }

    fn option_size(&mut self, opt: u8) -> lua::Result<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAX_INT_SIZE {
                    return Err(Raise::Located(
                        format!("integral size {size} is larger than limit of {MAX_INT_SIZE}")
                            .into_bytes(),
                    ));
                }
                size
            }
            _ => 0,
        })
    }

    fn control(&mut self, opt: u8, header: &mut Header) -> lua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => header.endian = Endian::Big,
            b'<' => header.endian = Endian::Little,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a == 0 || !a.is_power_of_two() {
                    return Err(Raise::Located(
                        format!("alignment {a} is not a power of 2").into_bytes(),
                    ));
                }
                header.align = a;
            }
            other => {
                return Err(Raise::Argument(
                    1,
                    format!("invalid format option '{}'", other as char).into_bytes(),
                ));
            }
        }
        Ok(())
    }
}

fn to_align(len: usize, header: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(header.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// `(long)n` for n < 0, else `(long)(unsigned long)n`, with the bits
/// x86-64 gives where C leaves the conversion undefined (out of range,
/// infinite, NaN): `cvttsd2si` answers 0x8000000000000000, and the
/// unsigned conversion GCC emits subtracts 2^63 first and flips that bit
/// back — so `struct.pack('>i4', math.huge)` is four zero bytes in Redis.
fn c_integer_bits(n: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let cvttsd2si = |x: f64| {
        if (-TWO_63..TWO_63).contains(&x) {
            x as i64
        } else {
            i64::MIN
        }
    };
    // NaN compares unordered, which GCC's branch treats as "below 2^63".
    if n >= TWO_63 {
        (cvttsd2si(n - TWO_63) as u64) ^ (1 << 63)
    } else {
        cvttsd2si(n) as u64
    }
}

fn put_integer(out: &mut Vec<u8>, n: f64, endian: Endian, size: usize) {
    let mut value: u64 = c_integer_bits(n);
    let mut bytes = vec![0u8; size];
    for byte in bytes.iter_mut() {
        *byte = (value & 0xff) as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    if endian == Endian::Big {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let size = bytes.len();
    let mut l: u64 = 0;
    let ordered: Box<dyn Iterator<Item = &u8>> = if endian == Endian::Big {
        Box::new(bytes.iter())
    } else {
        Box::new(bytes.iter().rev())
    };
    for b in ordered {
        l = (l << 8) | u64::from(*b);
    }
    if !signed {
        return l as f64;
    }
    if size * 8 < 64 && size > 0 {
        let mask = u64::MAX << (size * 8 - 1);
        if l & mask != 0 {
            l |= mask;
        }
    }
    (l as i64) as f64
}

unsafe fn pack(s: State) -> lua::Result<c_int> {
    let fmt = lua::check_bytes(s, 1)?.to_vec();
    // Redis's b_pack marks the end of the arguments with a nil: a missing
    // one is "got nil", not "got no value".
    ffi::lua_pushnil(s);
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut header = Header::default();
    let mut out = Vec::new();
    let mut arg: c_int = 2;
    let mut total = 0usize;
    while let Some(opt) = f.next() {
        let mut size = f.option_size(opt)?;
        let align = to_align(total, &header, opt, size);
        total += align;
        out.extend(std::iter::repeat_n(0u8, align));
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = lua::check_number(s, arg)?;
                arg += 1;
                put_integer(&mut out, n, header.endian, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = lua::check_number(s, arg)? as f32;
                arg += 1;
                let bytes = if header.endian == Endian::Big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                out.extend_from_slice(&bytes);
            }
            b'd' => {
                let v = lua::check_number(s, arg)?;
                arg += 1;
                let bytes = if header.endian == Endian::Big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                out.extend_from_slice(&bytes);
            }
            b'c' | b's' => {
                let data = lua::check_bytes(s, arg)?;
                arg += 1;
                if size == 0 {
                    size = data.len();
                }
                if data.len() < size {
                    return Err(Raise::Argument(arg, b"string too short".to_vec()));
                }
                // Rust's buffer, charged against the limit by hand (this
                // runs disarmed, see `lua`).
                lua::check_room(s, out.len().saturating_add(size))?;
                out.extend_from_slice(&data[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => f.control(opt, &mut header)?,
        }
        total += size;
    }
    lua::check_room(s, out.len().saturating_mul(2))?;
    lua::push_bytes(s, &out);
    Ok(1)
}

unsafe fn unpack(s: State) -> lua::Result<c_int> {
    let fmt = lua::check_bytes(s, 1)?.to_vec();
    let data = lua::check_bytes(s, 2)?;
    let ld = data.len();
    // Redis's lua_struct.c takes the offset as a size_t: only 0 is refused
    // here; a negative one wraps and fails as "data string too short".
    let start = lua::opt_integer(s, 3, 1)? as usize;
    if start == 0 {
        return Err(Raise::Argument(3, b"offset must be 1 or greater".to_vec()));
    }
    let mut pos = start - 1;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut header = Header::default();
    ffi::lua_settop(s, 2);
    while let Some(opt) = f.next() {
        let mut size = f.option_size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &header, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(Raise::Argument(2, b"data string too short".to_vec()));
        }
        if ffi::lua_checkstack(s, 1) == 0 {
            return Err(Raise::Located(
                b"stack overflow (too many results)".to_vec(),
            ));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let value = get_integer(
                    &data[pos..pos + size],
                    header.endian,
                    opt.is_ascii_lowercase(),
                );
                ffi::lua_pushnumber(s, value);
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = if header.endian == Endian::Big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                ffi::lua_pushnumber(s, f64::from(v));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = if header.endian == Endian::Big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                ffi::lua_pushnumber(s, v);
            }
            b'c' => {
                if size == 0 {
                    if ffi::lua_isnumber(s, -1) == 0 {
                        return Err(Raise::Located(
                            b"format 'c0' needs a previous size".to_vec(),
                        ));
                    }
                    size = ffi::lua_tonumber(s, -1) as usize;
                    ffi::lua_pop(s, 1);
                    if !(size <= ld && pos <= ld - size) {
                        return Err(Raise::Argument(2, b"data string too short".to_vec()));
                    }
                }
                lua::push_bytes(s, &data[pos..pos + size]);
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Raise::Located(b"unfinished string in data".to_vec()));
                };
                size = end + 1;
                lua::push_bytes(s, &data[pos..pos + end]);
            }
            _ => f.control(opt, &mut header)?,
        }
        pos += size;
    }
    // The next position, as C's size_t taken as a Lua integer.
    ffi::lua_pushnumber(s, pos.wrapping_add(1) as isize as f64);
    Ok(ffi::lua_gettop(s) - 2)
}

unsafe fn size(s: State) -> lua::Result<c_int> {
    let fmt = lua::check_bytes(s, 1)?.to_vec();
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut header = Header::default();
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.option_size(opt)?;
        pos += to_align(pos, &header, opt, size);
        if opt == b's' {
            return Err(Raise::Argument(1, b"option 's' has no fixed size".to_vec()));
        } else if opt == b'c' && size == 0 {
            return Err(Raise::Argument(
                1,
                b"option 'c0' has no fixed size".to_vec(),
            ));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(opt, &mut header)?;
        }
        pos += size;
    }
    ffi::lua_pushnumber(s, pos as f64);
    Ok(1)
}

unsafe extern "C-unwind" fn pack_fn(state: State) -> c_int {
    guard(state, |s| pack(s))
}

unsafe extern "C-unwind" fn unpack_fn(state: State) -> c_int {
    guard(state, |s| unpack(s))
}

unsafe extern "C-unwind" fn size_fn(state: State) -> c_int {
    guard(state, |s| size(s))
}

pub(crate) unsafe fn register(state: State) {
    ffi::lua_createtable(state, 0, 3);
    set_function(state, -1, c"pack", pack_fn);
    set_function(state, -1, c"unpack", unpack_fn);
    set_function(state, -1, c"size", size_fn);
    ffi::lua_setfield(state, ffi::LUA_GLOBALSINDEX, c"struct".as_ptr());
}
