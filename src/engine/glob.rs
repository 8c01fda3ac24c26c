//! Glob-style matching exactly as Redis's `stringmatchlen` (KEYS, SCAN
//! MATCH, PSUBSCRIBE), including its handling of malformed patterns.

/// True if `string` matches `pattern`.
pub(crate) fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

fn match_impl(
    pattern: &[u8],
    string: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    depth: usize,
) -> bool {
    // Redis reads the terminating NUL of its strings; `at` does the same.
    let at = |s: &[u8], i: usize| -> u8 { s.get(i).copied().unwrap_or(0) };
    if depth > 1000 {
        return false;
    }
    let (mut p, mut s) = (0usize, 0usize);
    let (plen, slen) = (pattern.len(), string.len());
    while p < plen && s < slen {
        match pattern[p] {
            b'*' => {
                while p < plen && at(pattern, p + 1) == b'*' {
                    p += 1;
                }
                if plen - p == 1 {
                    return true;
                }
                while s < slen {
                    if match_impl(
                        &pattern[p + 1..],
                        &string[s..],
                        nocase,
                        skip_longer,
                        depth + 1,
                    ) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = at(pattern, p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                let c = string[s];
                loop {
                    let remaining = plen.saturating_sub(p);
                    if at(pattern, p) == b'\\' && remaining >= 2 {
                        p += 1;
                        if pattern[p] == c {
                            matched = true;
                        }
                    } else if at(pattern, p) == b']' && remaining > 0 {
                        break;
                    } else if remaining == 0 {
                        p -= 1;
                        break;
                    } else if remaining >= 3 && pattern[p + 1] == b'-' {
                        // C compares plain (signed) chars.
                        let (mut start, mut end) =
                            (pattern[p] as i8 as i32, pattern[p + 2] as i8 as i32);
                        let mut ch = c as i8 as i32;
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower(start as u8) as i8 as i32;
                            end = lower(end as u8) as i8 as i32;
                            ch = lower(ch as u8) as i8 as i32;
                        }
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if (!nocase && pattern[p] == c)
                        || (nocase && lower(pattern[p]) == lower(c))
                    {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            other => {
                let mut pc = other;
                if other == b'\\' && plen - p >= 2 {
                    p += 1;
                    pc = pattern[p];
                }
                let equal = if nocase {
                    lower(pc) == lower(string[s])
                } else {
                    pc == string[s]
                };
                if !equal {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == slen {
            while at(pattern, p) == b'*' && p < plen {
                p += 1;
            }
            break;
        }
    }
    p >= plen && s == slen
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_rules() {
        assert!(matches(b"h*llo", b"heeeello", false));
        assert!(matches(b"h?llo", b"hallo", false));
        assert!(!matches(b"h?llo", b"hllo", false));
        assert!(matches(b"h[ae]llo", b"hello", false));
        assert!(!matches(b"h[^e]llo", b"hello", false));
        assert!(matches(b"h[a-b]llo", b"hbllo", false));
        assert!(matches(b"h[b-a]llo", b"hallo", false));
        // Redis special-cases a lone "*" in its callers; the matcher itself says no.
        assert!(!matches(b"*", b"", false));
        assert!(matches(b"user:*", b"user:1", false));
        assert!(!matches(b"user:*", b"item:1", false));
        assert!(matches(b"a\\*b", b"a*b", false));
        assert!(!matches(b"a\\*b", b"axb", false));
        assert!(matches(b"A*", b"abc", true));
        assert!(matches(
            b"*a*a*a*a*a*a*a*a*b",
            b"aaaaaaaaaaaaaaaaaaaaaaab",
            false
        ));
        assert!(!matches(
            b"*a*a*a*a*a*a*a*a*b",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false
        ));
        assert!(matches(b"[abc", b"a", false));
    }
}
