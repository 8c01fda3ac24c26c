/* Number parsing and formatting that must match Redis byte for byte.
 *
 * Redis computes INCRBYFLOAT / HINCRBYFLOAT in C `long double` and prints
 * doubles with printf's "%.17g". Rust has neither a long double type nor
 * %g, so these few lines are C compiled by build.rs: the same libc calls
 * Redis makes give the same bytes. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis's string2ld (util.c). Returns 1 and stores the value on success. */
static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' ||
        (size_t)(eptr - buf) != slen || /* an embedded NUL ends strtold early */
        errno == EINVAL ||
        ((errno == ERANGE) &&
         (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    if (dp) *dp = value;
    return 1;
}

/* Redis's ld2string in LD_STR_HUMAN mode. Returns the length or 0. */
static int ld2string_human(char *buf, size_t len, long double value) {
    size_t l;
    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) { memcpy(buf, "inf", 3); l = 3; }
        else { memcpy(buf, "-inf", 4); l = 4; }
        return (int)l;
    }
    l = (size_t)snprintf(buf, len, "%.17Lf", value);
    if (l + 1 > len) return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    buf[l] = '\0';
    return (int)l;
}

/* Adds two decimal strings as Redis's INCRBYFLOAT does.
 * `current` may be NULL (missing key counts as 0).
 * Returns: 0 ok (result in out, its length in *outlen),
 *          1 current is not a valid float, 2 increment is not a valid float,
 *          3 the result is NaN or infinite, 4 formatting failed. */
int redstep_incrbyfloat(const char *current, size_t clen, const char *incr, size_t ilen,
                        char *out, size_t outcap, size_t *outlen) {
    long double value = 0, by = 0;
    if (current && !string2ld(current, clen, &value)) return 1;
    if (!string2ld(incr, ilen, &by)) return 2;
    value += by;
    if (isnan(value) || isinf(value)) return 3;
    int l = ld2string_human(out, outcap, value);
    if (l <= 0) return 4;
    *outlen = (size_t)l;
    return 0;
}

/* printf("%.*g") of a double, as Redis and Lua print numbers. */
int redstep_fmt_g(double value, int precision, char *out, size_t outcap) {
    return snprintf(out, outcap, "%.*g", precision, value);
}

/* Redis's addReplyHumanLongDouble of a double (GEOPOS, WITHCOORD):
 * ld2string in LD_STR_HUMAN mode of the value as a long double. */
int redstep_fmt_human(double value, char *out, size_t outcap) {
    return ld2string_human(out, outcap, (long double)value);
}

/* printf("%f") of a double (GEOADD's invalid-pair error). */
int redstep_fmt_f(double value, char *out, size_t outcap) {
    return snprintf(out, outcap, "%f", value);
}
