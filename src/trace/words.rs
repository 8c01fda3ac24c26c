//! How a value and a change read to the people who wrote them: a stream as
//! the entries a step added, trimmed or acknowledged; a bitmap as the bits
//! that changed; a HyperLogLog as its count; a geo set as places with
//! coordinates. Redis stores a bitmap as a string and a geo set as a sorted
//! set, so which of those a key is comes from the commands that wrote it in
//! the run ([`Look`]).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::engine::commands::{geo, hll};
use crate::engine::keyspace::Entry;
use crate::engine::value::{Stream, StreamId, Value, ZSet};
use crate::protocol::cli::quote;

/// What kind of value a key is to the user, beyond its Redis type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Look {
    #[default]
    Plain,
    /// A string written with SETBIT, BITOP or BITFIELD.
    Bits,
    /// A sorted set written with GEOADD or a GEO…STORE.
    Geo,
}

impl Look {
    /// The look a command gives the keys it writes (Plain: no opinion).
    /// A GEO…STORE with STOREDIST stores distances, not places.
    pub(crate) fn of_command(argv: &[Vec<u8>]) -> Look {
        let Some(name) = argv.first() else {
            return Look::Plain;
        };
        let distances = argv[1..]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(b"STOREDIST"));
        match name.to_ascii_uppercase().as_slice() {
            b"SETBIT" | b"BITOP" | b"BITFIELD" => Look::Bits,
            b"GEOADD" => Look::Geo,
            b"GEOSEARCHSTORE" | b"GEORADIUS" | b"GEORADIUSBYMEMBER" if !distances => Look::Geo,
            _ => Look::Plain,
        }
    }
}

/// A key's value in one line as the keyspace pane shows it, about `max`
/// characters: HyperLogLogs (found by their header) as their count,
/// bitmaps as their set bits, geo sets as places.
pub fn short(entry: &Entry, look: Look, max: usize) -> String {
    let text = match (&entry.value, look) {
        (Value::String(s), _) if hll::describe(s).is_some() => hll_text(s),
        (Value::String(s), Look::Bits) => bits_text(s, max),
        (Value::ZSet(z), Look::Geo) => places_text(z, max),
        (value, _) => return super::export::value_text(value, max),
    };
    cut(text, max)
}

/// `before → after` for one key, in the words of its kind. Costs what the
/// step changed for a stream (its new entries are found from the old last
/// id), not the stream's length, unless entries went from its middle.
pub(crate) fn change(before: Option<&Entry>, after: Option<&Entry>, look: Look) -> String {
    told(before, after, look).unwrap_or_else(|| {
        format!(
            "{} → {}",
            super::export::entry_text(before),
            super::export::entry_text(after)
        )
    })
}

/// [`change`] when the kind has words of its own (None: values as they are).
pub(crate) fn told(before: Option<&Entry>, after: Option<&Entry>, look: Look) -> Option<String> {
    let hll = |v: Option<&Value>| matches!(v, Some(Value::String(s)) if hll::describe(s).is_some());
    let (b, a) = (before.map(|e| &e.value), after.map(|e| &e.value));
    let text = match (b, a) {
        (Some(Value::Stream(b)), Some(Value::Stream(a))) => stream_change(b, a),
        (None | Some(Value::String(_)), None | Some(Value::String(_))) if hll(b) || hll(a) => {
            let side = |v: Option<&[u8]>| v.map_or("(absent)".into(), hll_text);
            format!("{} → {}", side(string(b)), side(string(a)))
        }
        (None | Some(Value::String(_)), None | Some(Value::String(_))) if look == Look::Bits => {
            match (string(b), string(a)) {
                (Some(b), Some(a)) => bits_change(b, a),
                (None, Some(a)) => format!("(absent) → {}", bits_text(a, 120)),
                (Some(b), None) => format!("{} → (absent)", bits_text(b, 120)),
                (None, None) => "(absent) → (absent)".into(),
            }
        }
        (None | Some(Value::ZSet(_)), None | Some(Value::ZSet(_)))
            if look == Look::Geo && (b.is_some() || a.is_some()) =>
        {
            places_change(b, a)
        }
        _ => return None,
    };
    Some(text + &expiry_change(before, after))
}

fn string(v: Option<&Value>) -> Option<&[u8]> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn zset(v: Option<&Value>) -> Option<&ZSet> {
    match v {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// The expiry part of a change told in a kind's own words.
fn expiry_change(before: Option<&Entry>, after: Option<&Entry>) -> String {
    let (b, a) = (
        before.and_then(|e| e.expire_at),
        after.and_then(|e| e.expire_at),
    );
    match (b == a, a) {
        (true, _) => String::new(),
        (false, Some(t)) => format!(" (expires at {t} ms)"),
        (false, None) => " (no expiry now)".into(),
    }
}

fn cut(text: String, max: usize) -> String {
    if text.chars().count() > max {
        text.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    } else {
        text
    }
}

// ---- HyperLogLog ---------------------------------------------------------------

fn hll_text(s: &[u8]) -> String {
    match hll::describe(s) {
        Some((count, sparse)) => {
            let encoding = if sparse { "sparse" } else { "dense" };
            format!("hll ~{count} ({encoding})")
        }
        None => quote(s),
    }
}

// ---- bitmaps -------------------------------------------------------------------

/// The set bits of a bitmap: `bitmap 2 bytes, 3 set: 0 7 9`.
fn bits_text(s: &[u8], max: usize) -> String {
    let count: u32 = s.iter().map(|b| b.count_ones()).sum();
    let mut out = format!(
        "bitmap {} byte{}, {} set",
        s.len(),
        if s.len() == 1 { "" } else { "s" },
        count
    );
    if count > 0 {
        out.push(':');
        for bit in set_bits(s) {
            if out.len() > max {
                out.push_str(" …");
                break;
            }
            out += &format!(" {bit}");
        }
    }
    out
}

/// Bit offsets (Redis numbers bit 0 as the first byte's high bit) set in `s`.
fn set_bits(s: &[u8]) -> impl Iterator<Item = usize> + '_ {
    s.iter().enumerate().flat_map(|(i, byte)| {
        (0..8)
            .filter(move |b| byte & (0x80 >> b) != 0)
            .map(move |b| i * 8 + b)
    })
}

/// How many changed bits are named one by one.
const BITS_NAMED: usize = 8;
/// How many bytes around the changed bits are drawn.
const BYTES_DRAWN: usize = 4;

/// The bits that differ and the bytes around them:
/// `bit 7: 0 → 1 · byte 0: 00000000 → 00000001`.
fn bits_change(before: &[u8], after: &[u8]) -> String {
    let len = before.len().max(after.len());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let bit = |s: &[u8], n: usize| (at(s, n / 8) >> (7 - n % 8)) & 1;
    let changed: Vec<usize> = (0..len)
        .filter(|&i| at(before, i) != at(after, i))
        .collect();
    let bytes_len = |n: usize| format!("{n} byte{}", if n == 1 { "" } else { "s" });
    let length = if before.len() == after.len() {
        String::new()
    } else {
        format!(
            " · {} → {}",
            bytes_len(before.len()),
            bytes_len(after.len())
        )
    };
    let Some(&first) = changed.first() else {
        return format!("no bit changed{length}");
    };
    let flipped: Vec<usize> = changed
        .iter()
        .flat_map(|&i| {
            let x = at(before, i) ^ at(after, i);
            (0..8)
                .filter(move |b| x & (0x80 >> b) != 0)
                .map(move |b| i * 8 + b)
        })
        .collect();
    let shown = &flipped[..flipped.len().min(BITS_NAMED)];
    let list = |s: &[u8]| {
        shown
            .iter()
            .map(|&n| bit(s, n).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let more = if flipped.len() > BITS_NAMED {
        format!(" (of {} changed)", flipped.len())
    } else {
        String::new()
    };
    let names: Vec<String> = shown.iter().map(usize::to_string).collect();
    let last = changed.last().copied().unwrap_or(first);
    let bytes = first..(first + BYTES_DRAWN).min(last + 1);
    let draw = |s: &[u8]| {
        bytes
            .clone()
            .map(|i| format!("{:08b}", at(s, i)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let range = if bytes.len() == 1 {
        format!("byte {}", bytes.start)
    } else {
        format!("bytes {}–{}", bytes.start, bytes.end - 1)
    };
    let beyond = if last >= bytes.end { " …" } else { "" };
    format!(
        "bit{} {}{more}: {} → {} · {range}: {} → {}{beyond}{length}",
        if flipped.len() == 1 { "" } else { "s" },
        names.join(" "),
        list(before),
        list(after),
        draw(before),
        draw(after),
    )
}

// ---- geo -----------------------------------------------------------------------

fn place(member: &[u8], score: f64) -> String {
    let [lon, lat] = geo::decode_score(score);
    format!("{} ({lon:.6}, {lat:.6})", quote(member))
}

/// A geo set as its places: `"Palermo" (13.361389, 38.115556), …`.
fn places_text(z: &ZSet, max: usize) -> String {
    let mut out = String::new();
    for (shown, (member, score)) in z.iter().enumerate() {
        if out.len() > max && shown > 0 {
            out += &format!(", … {} more", z.len() - shown);
            break;
        }
        if shown > 0 {
            out += ", ";
        }
        out += &place(member, score);
    }
    format!("{{{out}}}")
}

/// Places added, moved and removed (a step touches a few; the set is
/// walked once).
fn places_change(before: Option<&Value>, after: Option<&Value>) -> String {
    let (b, a) = (zset(before), zset(after));
    let Some(b) = b else {
        return format!("(absent) → {}", places_text(a.expect("one side"), 200));
    };
    let Some(a) = a else {
        return format!("{} → (absent)", places_text(b, 200));
    };
    let mut parts = Vec::new();
    for (member, score) in a.iter() {
        match b.score(member) {
            None => parts.push(format!("+ {}", place(member, score))),
            Some(old) if old != score => parts.push(format!(
                "{} moved to {}",
                place(member, old),
                place(member, score)
                    .split_once(' ')
                    .map(|(_, p)| p.to_string())
                    .unwrap_or_default()
            )),
            _ => {}
        }
    }
    for (member, score) in b.iter() {
        if a.score(member).is_none() {
            parts.push(format!("− {}", place(member, score)));
        }
    }
    let count = |z: &ZSet| format!("{} place{}", z.len(), if z.len() == 1 { "" } else { "s" });
    format!("{} → {}: {}", count(b), count(a), parts.join(", "))
}

// ---- streams -------------------------------------------------------------------

/// How many added or removed entries are shown one by one.
const ENTRIES_NAMED: usize = 3;

fn entry_words(id: &StreamId, fields: &[(Vec<u8>, Vec<u8>)]) -> String {
    let mut e = id.to_string();
    for (f, v) in fields {
        e.push_str(&format!(" {} {}", quote(f), quote(v)));
    }
    e
}

fn entries_count(s: &Stream) -> String {
    format!("{} entr{}", s.len(), if s.len() == 1 { "y" } else { "ies" })
}

/// What a step did to a stream: entries added and removed, groups created,
/// read from (pending, last delivered id), acknowledged or destroyed.
fn stream_change(before: &Stream, after: &Stream) -> String {
    let mut parts = Vec::new();
    // New entries come after the old last id (XADD cannot write below it).
    let added: Vec<_> = after
        .entries
        .range((Bound::Excluded(before.meta.last_id), Bound::Unbounded))
        .collect();
    let named = |items: &mut dyn Iterator<Item = String>, total: usize| {
        let mut shown: Vec<String> = items.take(ENTRIES_NAMED).collect();
        if total > ENTRIES_NAMED {
            shown.push(format!("… {} more", total - ENTRIES_NAMED));
        }
        shown.join(", ")
    };
    if !added.is_empty() {
        parts.push(format!(
            "added {}",
            named(
                &mut added.iter().map(|(id, f)| entry_words(id, f)),
                added.len()
            )
        ));
    }
    let removed_count = (before.len() + added.len()).saturating_sub(after.len());
    if removed_count > 0 {
        let removed = removed_ids(before, after, removed_count);
        let verb = if removed.first() == before.entries.keys().next() {
            "trimmed"
        } else {
            "deleted"
        };
        parts.push(format!(
            "{verb} {}",
            named(&mut removed.iter().map(|id| id.to_string()), removed_count)
        ));
    }
    parts.extend(groups_change(&before.groups, &after.groups));
    if parts.is_empty() && before.meta.last_id != after.meta.last_id {
        parts.push(format!(
            "last id {} → {}",
            before.meta.last_id, after.meta.last_id
        ));
    }
    if parts.is_empty() {
        parts.push("no entry or group changed".into());
    }
    let counts = if before.len() == after.len() {
        entries_count(after)
    } else {
        format!("{} → {}", entries_count(before), entries_count(after))
    };
    format!("{counts}: {}", parts.join("; "))
}

/// The ids of `before` missing from `after`: trimming takes them from the
/// front, so that is looked at first; only XDEL from the middle walks on.
fn removed_ids(before: &Stream, after: &Stream, count: usize) -> Vec<StreamId> {
    let mut removed = Vec::new();
    for id in before.entries.keys() {
        if removed.len() == count.min(ENTRIES_NAMED + 1) {
            break;
        }
        if !after.entries.contains_key(id) {
            removed.push(*id);
        }
    }
    removed
}

fn groups_change(
    before: &BTreeMap<Vec<u8>, crate::engine::value::Group>,
    after: &BTreeMap<Vec<u8>, crate::engine::value::Group>,
) -> Vec<String> {
    let mut parts = Vec::new();
    for (name, a) in after {
        let n = quote(name);
        match before.get(name) {
            None => parts.push(format!(
                "group {n} created at {} ({} pending)",
                a.last_id,
                a.pel.len()
            )),
            Some(b) if b != a => {
                let mut what = Vec::new();
                if b.last_id != a.last_id {
                    what.push(format!("delivered up to {} → {}", b.last_id, a.last_id));
                }
                if b.pel.len() != a.pel.len() {
                    what.push(format!("{} pending → {}", b.pel.len(), a.pel.len()));
                    let acked: Vec<String> = b
                        .pel
                        .keys()
                        .filter(|id| !a.pel.contains_key(id))
                        .take(ENTRIES_NAMED)
                        .map(|id| id.to_string())
                        .collect();
                    if !acked.is_empty() && a.pel.len() < b.pel.len() {
                        what.push(format!("acknowledged {}", acked.join(", ")));
                    }
                }
                if b.consumers.len() != a.consumers.len() {
                    what.push(format!(
                        "{} consumers → {}",
                        b.consumers.len(),
                        a.consumers.len()
                    ));
                }
                if what.is_empty() {
                    what.push("pending entries moved".into());
                }
                parts.push(format!("group {n} {}", what.join(", ")));
            }
            _ => {}
        }
    }
    for name in before.keys() {
        if !after.contains_key(name) {
            parts.push(format!("group {} destroyed", quote(name)));
        }
    }
    parts
}
