//! Keyspace notifications, as Redis's `notify.c`: commands report what they
//! did to a key (`set`, `lpush`, `del`, `expired`, ...) with a class; when
//! `notify-keyspace-events` has that class on, the event is published on
//! `__keyspace@<db>__:<key>` (message: the event) and/or
//! `__keyevent@<db>__:<event>` (message: the key).
//!
//! Events are queued on the keyspace while a command runs (the keyspace
//! itself reports `new` and `expired`), and the engine publishes them when
//! the command ends, in the order they happened. With notifications off
//! (the default) nothing is queued.

use super::Bytes;

pub(crate) const KEYSPACE: u32 = 1 << 0; // K
pub(crate) const KEYEVENT: u32 = 1 << 1; // E
pub(crate) const GENERIC: u32 = 1 << 2; // g
pub(crate) const STRING: u32 = 1 << 3; // $
pub(crate) const LIST: u32 = 1 << 4; // l
pub(crate) const SET: u32 = 1 << 5; // s
pub(crate) const HASH: u32 = 1 << 6; // h
pub(crate) const ZSET: u32 = 1 << 7; // z
pub(crate) const EXPIRED: u32 = 1 << 8; // x
pub(crate) const EVICTED: u32 = 1 << 9; // e
pub(crate) const STREAM: u32 = 1 << 10; // t
pub(crate) const KEY_MISS: u32 = 1 << 11; // m (not part of A)
pub(crate) const MODULE: u32 = 1 << 13; // d
pub(crate) const NEW: u32 = 1 << 14; // n (not part of A)
pub(crate) const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// One event a command reported.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub name: &'static str,
    pub db: usize,
    pub key: Bytes,
}

/// Redis's `keyspaceEventsStringToFlags`: None for a character that names
/// no class.
pub(crate) fn parse(classes: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for c in classes {
        flags |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Redis's `keyspaceEventsFlagsToString` (CONFIG GET's form).
pub(crate) fn to_text(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (flag, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & flag != 0 {
                out.push(c);
            }
        }
    }
    for (flag, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & flag != 0 {
            out.push(c);
        }
    }
    out
}

/// The channels and messages one event is published as, in Redis's order
/// (the keyspace channel first).
pub(crate) fn messages(flags: u32, event: &Event) -> Vec<(Bytes, Bytes)> {
    let mut out = Vec::with_capacity(2);
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{}__:", event.db).into_bytes();
        channel.extend_from_slice(&event.key);
        out.push((channel, event.name.as_bytes().to_vec()));
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{}__:{}", event.db, event.name).into_bytes();
        out.push((channel, event.key.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_print_as_redis_does() {
        // Printed forms checked with CONFIG SET / CONFIG GET on 7.0.15.
        for (given, shown) in [
            ("", ""),
            ("KEA", "AKE"),
            ("AKEm", "AKEm"),
            ("Ex", "xE"),
            ("g$lshzxetd", "A"),
            ("nK", "nK"),
            ("mE$", "$Em"),
            ("An", "A"),
            ("Kn", "nK"),
            ("KEAnm", "AKEm"),
            ("x", "x"),
        ] {
            let flags = parse(given.as_bytes()).unwrap();
            assert_eq!(to_text(flags), shown, "{given}");
        }
        assert_eq!(parse(b"KEA?"), None);
        assert_eq!(parse(b"a"), None);
    }
}
