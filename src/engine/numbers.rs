//! Number parsing and formatting exactly as Redis does it.
//!
//! Redis is strict about integers (`string2ll`: no `+`, no leading zeros,
//! no spaces) and uses libc for floats (`strtod`, `strtold`, `%.17g`). The
//! float paths call the same libc functions through `csrc/numfmt.c`, so the
//! bytes match Redis on the same platform.

use std::ffi::CString;

// How replies write doubles lives with the replies (`protocol`).
pub(crate) use crate::protocol::float::{format_double, format_g, write_g};

extern "C" {
    fn redstep_incrbyfloat(
        current: *const libc::c_char,
        clen: usize,
        incr: *const libc::c_char,
        ilen: usize,
        out: *mut libc::c_char,
        outcap: usize,
        outlen: *mut usize,
    ) -> libc::c_int;
    fn redstep_fmt_human(value: f64, out: *mut libc::c_char, outcap: usize) -> libc::c_int;
    fn redstep_fmt_f(value: f64, out: *mut libc::c_char, outcap: usize) -> libc::c_int;
}

fn c_format(
    value: f64,
    f: unsafe extern "C" fn(f64, *mut libc::c_char, usize) -> libc::c_int,
) -> String {
    let mut out = vec![0u8; 5 * 1024 + 8];
    // SAFETY: out has outcap writable bytes; the C side writes at most that.
    let len = unsafe { f(value, out.as_mut_ptr().cast(), out.len()) };
    out.truncate(len.max(0) as usize);
    String::from_utf8(out).unwrap_or_default()
}

/// Redis's `addReplyHumanLongDouble` of a double: `%.17Lf` with trailing
/// zeros (and a trailing dot) removed, as GEOPOS prints coordinates.
pub(crate) fn format_human_long_double(value: f64) -> String {
    c_format(value, redstep_fmt_human)
}

/// C's `%f` of a double.
pub(crate) fn format_f(value: f64) -> String {
    c_format(value, redstep_fmt_f)
}

/// Redis's `string2ll`: a strict signed 64-bit decimal.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    // 4 to 8 digits (a counter's, mostly: INCR parses its value on every
    // call) read at once; the others one by one.
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if (4..=8).contains(&digits.len()) {
        let magnitude = up_to_eight_digits(digits)? as i64;
        return match digits[0] {
            b'0' => None,
            _ if digits.len() < s.len() => Some(-magnitude),
            _ => Some(magnitude),
        };
    }
    parse_i64_by_digit(s)
}

/// The value of 4 to 8 decimal digits, None if a byte is not one: the
/// digits are loaded as two 4-byte words into one 8-byte word, after as
/// many `'0'`s as there are digits short of 8, checked all at once and
/// combined in three multiplications (as simdjson's
/// `parse_eight_digits_unrolled`).
fn up_to_eight_digits(digits: &[u8]) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let n = digits.len();
    debug_assert!((4..=8).contains(&n));
    let word = |at: usize| u64::from(u32::from_le_bytes(digits[at..at + 4].try_into().unwrap()));
    // Little-endian: the first byte is the lowest. The head's digits land
    // at `pad..pad + 4`, the tail's at `4..8`: each digit at `pad + its
    // index` in both, so where they overlap they agree.
    let pad = 8 - n;
    let chunk = (ZEROS & ((1u64 << (8 * pad)) - 1)) | (word(0) << (8 * pad)) | (word(n - 4) << 32);
    // Every byte 0x30..=0x39: its high half 3, and still 3 once 6 is
    // added (a low half above 9 carries into it; no byte carries into the next).
    if chunk & HIGH != ZEROS || chunk.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let pairs = ((chunk & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let quads = ((pairs & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    Some(((quads & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32)
}

/// [`parse_i64`], a digit at a time.
fn parse_i64_by_digit(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !(b'1'..=b'9').contains(&digits[0]) {
        return None;
    }
    let mut magnitude: u64 = 0;
    if digits.len() <= 19 {
        // 19 digits cannot overflow a u64 (10^19 - 1 < 2^64): no checked
        // multiply in the chain from one digit to the next (INCR parses
        // the value on every call).
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            magnitude = magnitude * 10 + u64::from(c - b'0');
        }
    } else {
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            magnitude = magnitude
                .checked_mul(10)?
                .checked_add(u64::from(c - b'0'))?;
        }
    }
    if negative {
        if magnitude > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((magnitude as i64).wrapping_neg())
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Redis's `string2ull`: `string2ll` when that parses (negative is out of
/// range), else C's `strtoull(s, &end, 10)` over the whole string, which
/// allows leading white space, a sign (`-n` wraps as in C) and leading zeros.
/// The argument is a C string: it ends at the first NUL.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    let s = s.split(|c| *c == 0).next().unwrap_or_default();
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let start = s
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let (negative, digits) = match s[start] {
        b'-' => (true, &s[start + 1..]),
        b'+' => (false, &s[start + 1..]),
        _ => (false, &s[start..]),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: u64 = 0;
    for &c in digits {
        value = value.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// A C cast of a double to `long long` on x86-64: NaN, infinities and
/// values outside the range become `i64::MIN` (Rust's `as` saturates).
pub(crate) fn c_cast_i64(value: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if value.is_nan() || !(-LIMIT..LIMIT).contains(&value) {
        i64::MIN
    } else {
        value as i64
    }
}

/// C `strtod` on the bytes: the value and how many bytes it consumed.
pub(crate) fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let c = CString::new(&s[..end]).expect("no interior NUL");
    let mut eptr: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: c is a valid NUL-terminated string; eptr points into it.
    unsafe {
        *libc::__errno_location() = 0;
        let value = libc::strtod(c.as_ptr(), &mut eptr);
        let erange = *libc::__errno_location() == libc::ERANGE;
        let consumed = eptr.offset_from(c.as_ptr()) as usize;
        (value, consumed, erange)
    }
}

/// C `strtoll` in base 10 as Redis's config checks use it: the value, and
/// whether it read up to the end (`*eptr == '\0'`: an empty string reads as
/// 0; bytes after a NUL are not seen, as in C).
pub(crate) fn strtoll_whole(s: &[u8]) -> (i64, bool) {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let c = CString::new(&s[..end]).expect("no interior NUL");
    let mut eptr: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: c is a valid NUL-terminated string; eptr points into it.
    unsafe {
        let value = libc::strtoll(c.as_ptr(), &mut eptr, 10);
        (value, *eptr == 0)
    }
}

/// Redis's `string2d` (used by `getDoubleFromObject`): the whole string must
/// be a float, no leading space, no NaN, no overflow.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s[0] == 0x0b {
        return None;
    }
    let (value, consumed, erange) = strtod(s);
    if consumed != s.len() || value.is_nan() {
        return None;
    }
    if erange && (value.is_infinite() || value == 0.0) {
        return None;
    }
    Some(value)
}

pub(crate) enum IncrFloatError {
    CurrentNotFloat,
    IncrementNotFloat,
    NanOrInfinity,
}

/// INCRBYFLOAT's arithmetic: `long double` addition, printed with `%.17Lf`
/// and trailing zeros removed.
pub(crate) fn incr_by_float(
    current: Option<&[u8]>,
    increment: &[u8],
) -> Result<Vec<u8>, IncrFloatError> {
    let mut out = vec![0u8; 5 * 1024 + 8];
    let mut len = 0usize;
    let (cptr, clen) = match current {
        Some(c) => (c.as_ptr().cast(), c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: pointers and lengths describe live slices; out has outcap bytes.
    let rc = unsafe {
        redstep_incrbyfloat(
            cptr,
            clen,
            increment.as_ptr().cast(),
            increment.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        1 => Err(IncrFloatError::CurrentNotFloat),
        2 => Err(IncrFloatError::IncrementNotFloat),
        _ => Err(IncrFloatError::NanOrInfinity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 4-to-8-digit path answers as the digit-by-digit one for every
    /// value around each length's edges, every byte value at every place,
    /// signs and leading zeros.
    #[test]
    fn eight_digits_at_once_agree_with_one_at_a_time() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for n in 1..=9u32 {
            let (low, high) = (10u64.pow(n - 1), 10u64.pow(n));
            for v in (low..(low + 300).min(high)).chain(high.saturating_sub(300).max(low)..high) {
                cases.push(v.to_string().into_bytes());
            }
        }
        for n in 3..=9 {
            let base = b"123456789"[..n].to_vec();
            for at in 0..n {
                for byte in 0..=255u8 {
                    let mut case = base.clone();
                    case[at] = byte;
                    cases.push(case);
                }
            }
        }
        for case in cases.clone() {
            let mut negative = b"-".to_vec();
            negative.extend_from_slice(&case);
            cases.push(negative);
            let mut zero = b"0".to_vec();
            zero.extend_from_slice(&case);
            cases.push(zero);
        }
        for case in &cases {
            assert_eq!(
                parse_i64(case),
                parse_i64_by_digit(case),
                "{:?}",
                String::from_utf8_lossy(case)
            );
        }
        assert_eq!(parse_i64(b"12345678"), Some(12_345_678));
        assert_eq!(parse_i64(b"-1000"), Some(-1000));
        assert_eq!(parse_i64(b"99999999"), Some(99_999_999));
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-5"), Some(-5));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"1000000000000000000"), Some(10i64.pow(18)));
        for bad in [
            // 19 digits (no overflow check) past i64; 20 digits (checked):
            // u64::MAX, past u64, and far past it.
            &b"9999999999999999999"[..],
            b"-9999999999999999999",
            b"18446744073709551615",
            b"18446744073709551616",
            b"99999999999999999999",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"",
            b"9223372036854775808",
            b"1.5",
            b"-",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn floats_like_strtod() {
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+1.5"), Some(1.5));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e999"), None);
        assert_eq!(parse_f64(b"abc"), None);
    }

    #[test]
    fn doubles_print_as_redis() {
        assert_eq!(format_double(0.1), "0.10000000000000001");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5), "1.5");
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn incrbyfloat_uses_long_double() {
        let r = incr_by_float(Some(b"0.1"), b"0.2").ok().unwrap();
        assert_eq!(r, b"0.3");
        let r = incr_by_float(None, b"1e20").ok().unwrap();
        assert_eq!(r, b"100000000000000000000");
        assert!(matches!(
            incr_by_float(None, b"inf"),
            Err(IncrFloatError::NanOrInfinity)
        ));
        assert!(matches!(
            incr_by_float(Some(b"abc"), b"1"),
            Err(IncrFloatError::CurrentNotFloat)
        ));
    }
}
