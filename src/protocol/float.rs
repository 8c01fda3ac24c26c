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
    let mut buf = [0u8; 64];
    // SAFETY: buf is large enough for any %g output of a double with precision <= 17.
    let n = unsafe { redstep_fmt_g(value, precision, buf.as_mut_ptr().cast(), buf.len()) };
    String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned()
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
