//! Doubles as Redis writes them: C's `%.*g` (through `csrc/numfmt.c`, the
//! same libc Redis calls), and `addReplyDouble`'s `inf`/`-inf`.

extern "C" {
    fn redstep_fmt_g(
        value: f64,
        precision: libc::c_int,
        out: *mut libc::c_char,
        outcap: usize,
    ) -> libc::c_int;
}

/// C `printf("%.*g", precision, value)`.
pub(crate) fn format_g(value: f64, precision: i32) -> String {
    let mut out = Vec::new();
    write_g(value, precision, &mut out);
    // printf's %g writes ASCII only.
    String::from_utf8(out).expect("%g is ASCII")
}

/// [`format_g`] appended to `out` (a script's numeric argument, without
/// a string of its own).
pub(crate) fn write_g(value: f64, precision: i32, out: &mut Vec<u8>) {
    // A whole number of at most `precision` digits prints as its digits in
    // `%g` (no exponent, no fraction): the common case of a Lua loop
    // counter passed to `redis.call` or shown among a line's locals,
    // without printf's long arithmetic. (Below 10^17 a double converts to
    // an i64 and back unchanged exactly when it is whole; the comparisons
    // are false for NaN.)
    const POWERS: [f64; 18] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17,
    ];
    if let Some(&limit) = usize::try_from(precision).ok().and_then(|p| POWERS.get(p)) {
        if precision > 0
            && value.abs() < limit
            && value == (value as i64) as f64
            && !(value == 0.0 && value.is_sign_negative())
        {
            out.extend_from_slice(itoa::Buffer::new().format(value as i64).as_bytes());
            return;
        }
    }
    let mut buf = [0u8; 64];
    // SAFETY: buf is large enough for any %g output of a double with precision <= 17.
    let n = unsafe { redstep_fmt_g(value, precision, buf.as_mut_ptr().cast(), buf.len()) };
    out.extend_from_slice(&buf[..n.max(0) as usize]);
}

/// A double as Redis replies it (`addReplyDouble` in RESP2): `inf`, `-inf`,
/// otherwise `%.17g`.
pub(crate) fn format_double(value: f64) -> String {
    if value.is_infinite() {
        if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format_g(value, 17)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// printf itself, for the values the whole-number shortcut answers.
    fn printf_g(value: f64, precision: i32) -> String {
        let mut buf = [0u8; 64];
        let n = unsafe { redstep_fmt_g(value, precision, buf.as_mut_ptr().cast(), buf.len()) };
        String::from_utf8_lossy(&buf[..n as usize]).into_owned()
    }

    #[test]
    fn whole_numbers_print_as_printf_prints_them() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            42.0,
            1e15,
            9007199254740993.0,
            2f64.powi(53),
        ];
        for p in 1..=17 {
            let edge = 10f64.powi(p);
            values.extend([
                edge - 1.0,
                edge,
                edge + 1.0,
                -(edge - 1.0),
                -edge,
                10f64.powi(p) * 1.5,
            ]);
        }
        values.extend([
            0.5,
            -2.5,
            1e17,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        for &v in &values {
            for p in [1, 6, 14, 16, 17] {
                assert_eq!(format_g(v, p), printf_g(v, p), "%.{p}g of {v:e}");
            }
        }
    }
}
