//! Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, expiry,
//! RANDOMKEY, COPY, TOUCH, SORT.

use std::collections::VecDeque;

use crate::engine::errors::{self, err};
use crate::engine::notify::GENERIC;
use crate::engine::numbers::strtod;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Value};
use crate::engine::{glob, CommandResult, Ctx, Reply};

use super::{eq, int_arg};

const KEY1: (i32, i32, i32) = (1, 1, 1);
const KEY12: (i32, i32, i32) = (1, 2, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, ALLKEYS, del),
    CommandSpec::new("unlink", -2, WRITE | FAST, ALLKEYS, del),
    CommandSpec::new("exists", -2, READONLY | FAST, ALLKEYS, exists),
    CommandSpec::new("touch", -2, READONLY | FAST, ALLKEYS, exists),
    CommandSpec::new("type", 2, READONLY | FAST, KEY1, key_type),
    CommandSpec::new("keys", 2, READONLY, (0, 0, 0), keys),
    CommandSpec::new("scan", -2, READONLY, (0, 0, 0), scan),
    CommandSpec::new("randomkey", 1, READONLY, (0, 0, 0), randomkey),
    CommandSpec::new("rename", 3, WRITE, KEY12, rename),
    CommandSpec::new("renamenx", 3, WRITE | FAST, KEY12, renamenx),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, KEY12, copy),
    CommandSpec::new("expire", -3, WRITE | FAST, KEY1, expire),
    CommandSpec::new("pexpire", -3, WRITE | FAST, KEY1, pexpire),
    CommandSpec::new("expireat", -3, WRITE | FAST, KEY1, expireat),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, KEY1, pexpireat),
    CommandSpec::new("ttl", 2, READONLY | FAST, KEY1, ttl),
    CommandSpec::new("pttl", 2, READONLY | FAST, KEY1, pttl),
    CommandSpec::new("expiretime", 2, READONLY | FAST, KEY1, expiretime),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, KEY1, pexpiretime),
    CommandSpec::new("persist", 2, WRITE | FAST, KEY1, persist),
    CommandSpec::new("sort", -2, WRITE | DENYOOM, KEY1, sort),
    CommandSpec::new("sort_ro", -2, READONLY, KEY1, sort_ro),
];

fn del(ctx: &mut Ctx) -> CommandResult {
    let db = ctx.db();
    let mut deleted = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.argv[i].clone();
        if ctx.exists(&key) {
            ctx.ks().remove(db, &key);
            ctx.notify(GENERIC, "del", &key);
            deleted += 1;
        }
    }
    Ok(Reply::Int(deleted))
}

fn exists(ctx: &mut Ctx) -> CommandResult {
    let mut count = 0;
    for i in 1..ctx.argv.len() {
        let key = ctx.argv[i].clone();
        if ctx.exists(&key) {
            count += 1;
        }
    }
    Ok(Reply::Int(count))
}

fn key_type(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::status(
        ctx.value(&key).map(|v| v.kind().name()).unwrap_or("none"),
    ))
}

/// Live keys of the selected database matching a pattern ("*" matches all,
/// as Redis special-cases it).
fn matching_keys(ctx: &Ctx, pattern: &[u8]) -> Vec<Bytes> {
    let all = pattern == b"*";
    ctx.engine
        .keyspace
        .db(ctx.db())
        .iter()
        .filter(|(k, e)| {
            e.expire_at.is_none_or(|t| t > ctx.now) && (all || glob::matches(pattern, k, false))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn keys(ctx: &mut Ctx) -> CommandResult {
    let pattern = ctx.arg(1).to_vec();
    Ok(Reply::bulks(matching_keys(ctx, &pattern)))
}

/// MATCH / COUNT / TYPE options of the SCAN family, from argument `from`.
pub(crate) struct ScanOptions {
    pub pattern: Option<Bytes>,
    pub count: usize,
    pub kind: Option<Bytes>,
}

pub(crate) fn scan_options(ctx: &Ctx, from: usize, allow_type: bool) -> Result<ScanOptions, Reply> {
    let mut options = ScanOptions {
        pattern: None,
        count: 10,
        kind: None,
    };
    let mut i = from;
    while i < ctx.argv.len() {
        let more = ctx.argv.len() - i - 1;
        if eq(ctx.arg(i), "count") && more >= 1 {
            let n = int_arg(ctx, i + 1)?;
            if n < 1 {
                return Err(err(errors::SYNTAX));
            }
            options.count = n as usize;
            i += 2;
        } else if eq(ctx.arg(i), "match") && more >= 1 {
            let p = ctx.arg(i + 1).to_vec();
            options.pattern = if p == b"*" { None } else { Some(p) };
            i += 2;
        } else if allow_type && eq(ctx.arg(i), "type") && more >= 1 {
            options.kind = Some(ctx.arg(i + 1).to_ascii_lowercase());
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    Ok(options)
}

/// A SCAN cursor as Redis's parseScanCursorOrReply reads it with C's
/// `strtoul`: an optional sign then decimal digits, a `-` negating modulo
/// 2^64 (`-1` is the largest cursor), the empty string as 0; a leading
/// space, trailing garbage or a value past 2^64 - 1 are invalid.
pub(crate) fn parse_cursor(arg: &[u8]) -> Result<u64, Reply> {
    let invalid = || err("ERR invalid cursor");
    let (negative, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul consumed nothing: only the empty string ends there.
        return if arg.is_empty() {
            Ok(0)
        } else {
            Err(invalid())
        };
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// SCAN: one call of dictScan's walk over the database's buckets (see
/// `engine::dict`), then scanGenericCommand's filters in its order: the
/// pattern, then the type (read as `lookupKeyRead` does: an expired key is
/// deleted and has type `none`), then expiry (a key found expired is
/// deleted, unless clients are paused, and left out).
fn scan(ctx: &mut Ctx) -> CommandResult {
    let cursor = parse_cursor(ctx.arg(1))?;
    let options = scan_options(ctx, 2, true)?;
    let db = ctx.db();
    let (next, found) = ctx.engine.keyspace.scan_keys(db, cursor, options.count);
    let mut keys = Vec::with_capacity(found.len());
    for key in found {
        if let Some(p) = &options.pattern {
            if !glob::matches(p, &key, false) {
                continue;
            }
        }
        if let Some(kind) = &options.kind {
            let name = ctx.lookup(&key).map_or("none", |e| e.value.kind().name());
            if !kind.eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
        }
        let now = ctx.now;
        let expired = ctx
            .engine
            .keyspace
            .db(db)
            .entry(&key)
            .is_some_and(|e| e.expire_at.is_some_and(|t| t <= now));
        if expired {
            ctx.lookup_quiet(&key);
            continue;
        }
        keys.push(key);
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::bulks(keys),
    ]))
}

/// A SCAN-family element passes MATCH.
pub(crate) fn scan_matches(options: &ScanOptions, element: &[u8]) -> bool {
    options
        .pattern
        .as_ref()
        .is_none_or(|p| glob::matches(p, element, false))
}

fn randomkey(ctx: &mut Ctx) -> CommandResult {
    let db = ctx.engine.keyspace.db(ctx.db());
    let live: Vec<usize> = (0..db.len())
        .filter(|i| {
            db.get_index(*i)
                .is_some_and(|(_, e)| e.expire_at.is_none_or(|t| t > ctx.now))
        })
        .collect();
    if live.is_empty() {
        return Ok(Reply::Nil);
    }
    let (key, _) = db
        .get_index(live[fastrand::usize(..live.len())])
        .expect("in range");
    Ok(Reply::bulk(key))
}

fn rename_generic(ctx: &mut Ctx, nx: bool) -> CommandResult {
    let (src, dst) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let db = ctx.db();
    let Some(entry) = ctx.lookup(&src).cloned() else {
        return Err(err(errors::NO_SUCH_KEY));
    };
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::ok() });
    }
    if ctx.exists(&dst) {
        if nx {
            return Ok(Reply::Int(0));
        }
        ctx.ks().remove(db, &dst);
    }
    ctx.ks().remove(db, &src);
    ctx.ks()
        .put_string_as(db, &dst, entry.value, entry.expire_at, entry.str_enc);
    ctx.notify(GENERIC, "rename_from", &src);
    ctx.notify(GENERIC, "rename_to", &dst);
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

fn rename(ctx: &mut Ctx) -> CommandResult {
    rename_generic(ctx, false)
}

fn renamenx(ctx: &mut Ctx) -> CommandResult {
    rename_generic(ctx, true)
}

fn copy(ctx: &mut Ctx) -> CommandResult {
    let (src, dst) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let mut target = ctx.db();
    let mut replace = false;
    let mut i = 3;
    while i < ctx.argv.len() {
        if eq(ctx.arg(i), "replace") {
            replace = true;
            i += 1;
        } else if eq(ctx.arg(i), "db") && i + 1 < ctx.argv.len() {
            target = super::server::db_index(ctx, i + 1, errors::NOT_INTEGER)?;
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    if src == dst && target == ctx.db() {
        return Err(err(errors::SAME_OBJECT));
    }
    let Some(entry) = ctx.lookup(&src).cloned() else {
        ctx.keymiss(&src);
        return Ok(Reply::Int(0));
    };
    let now = ctx.now;
    ctx.ks().expire_if_needed(target, &dst, now);
    if ctx.engine.keyspace.db(target).entry(&dst).is_some() {
        if !replace {
            return Ok(Reply::Int(0));
        }
        ctx.ks().remove(target, &dst);
    }
    ctx.ks()
        .put_string_as(target, &dst, entry.value, entry.expire_at, entry.str_enc);
    ctx.engine.keyspace.notify(GENERIC, "copy_to", target, &dst);
    Ok(Reply::Int(1))
}

// ---- expiry ----------------------------------------------------------------

#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn expire_flags(ctx: &Ctx) -> Result<ExpireFlags, Reply> {
    let mut f = ExpireFlags::default();
    for arg in &ctx.argv[3..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            _ => {
                return Err(Reply::Error(errors::sanitize(
                    [b"ERR Unsupported option ".as_slice(), arg].concat(),
                )));
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(err(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(err(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

pub(crate) fn invalid_expire(name: &str) -> Reply {
    Reply::error(format!("ERR invalid expire time in '{name}' command"))
}

/// Redis's expireGenericCommand; `base` is now (relative) or 0 (absolute).
fn expire_generic(ctx: &mut Ctx, base: i64, seconds: bool, name: &str) -> CommandResult {
    let flags = expire_flags(ctx)?;
    let mut when = int_arg(ctx, 2)?;
    if seconds {
        when = when.checked_mul(1000).ok_or_else(|| invalid_expire(name))?;
    }
    when = when.checked_add(base).ok_or_else(|| invalid_expire(name))?;
    let key = ctx.arg(1).to_vec();
    let Some(entry) = ctx.lookup(&key) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expire_at;
    if (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c))
    {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    if when <= ctx.now {
        ctx.ks().remove(db, &key);
        ctx.notify(GENERIC, "del", &key);
        ctx.propagate_as([&b"DEL"[..], &key]);
    } else {
        ctx.ks().set_expire(db, &key, Some(when));
        ctx.notify(GENERIC, "expire", &key);
        // Replicas get the absolute time: PEXPIREAT key ms [flags].
        let mut argv = ctx.argv.to_vec();
        argv[0] = b"PEXPIREAT".to_vec();
        argv[2] = when.to_string().into_bytes();
        ctx.propagate_as(argv);
    }
    Ok(Reply::Int(1))
}

fn expire(ctx: &mut Ctx) -> CommandResult {
    let now = ctx.now;
    expire_generic(ctx, now, true, "expire")
}

fn pexpire(ctx: &mut Ctx) -> CommandResult {
    let now = ctx.now;
    expire_generic(ctx, now, false, "pexpire")
}

fn expireat(ctx: &mut Ctx) -> CommandResult {
    expire_generic(ctx, 0, true, "expireat")
}

fn pexpireat(ctx: &mut Ctx) -> CommandResult {
    expire_generic(ctx, 0, false, "pexpireat")
}

/// -2 for a missing key, -1 for no expiry, otherwise the expiry time.
fn expiry_of(ctx: &mut Ctx) -> Result<i64, i64> {
    let key = ctx.arg(1).to_vec();
    match ctx.lookup(&key) {
        None => Err(-2),
        Some(e) => e.expire_at.ok_or(-1),
    }
}

/// TTL and PTTL count from the wall clock (ttlGenericCommand's
/// `mstime()`), not the time a script froze for its keys: inside a long
/// script a key can exist (its expiry read at the script's start) with a
/// PTTL already down to 0.
fn ttl(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(match expiry_of(ctx) {
        Ok(t) => ((t - ctx.engine.wall_clock_ms()).max(0) + 500) / 1000,
        Err(code) => code,
    }))
}

fn pttl(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(match expiry_of(ctx) {
        Ok(t) => (t - ctx.engine.wall_clock_ms()).max(0),
        Err(code) => code,
    }))
}

fn expiretime(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(
        expiry_of(ctx).map(|t| t / 1000).unwrap_or_else(|c| c),
    ))
}

fn pexpiretime(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(expiry_of(ctx).unwrap_or_else(|c| c)))
}

fn persist(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let db = ctx.db();
    match ctx.lookup(&key) {
        Some(e) if e.expire_at.is_some() => {
            ctx.ks().set_expire(db, &key, None);
            ctx.notify(GENERIC, "persist", &key);
            Ok(Reply::Int(1))
        }
        _ => Ok(Reply::Int(0)),
    }
}

// ---- SORT ------------------------------------------------------------------

/// Looks up `pattern` with its first `*` replaced by `subst`; `->field`
/// reads a hash field. `#` returns the element itself.
fn sort_lookup(ctx: &mut Ctx, pattern: &[u8], subst: &[u8]) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(subst.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let arrow = pattern
        .windows(2)
        .rposition(|w| w == b"->")
        .filter(|p| *p > star && p + 2 < pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let key = [&pattern[..star], subst, &pattern[star + 1..key_end]].concat();
    match (ctx.lookup_read(&key).map(|e| &e.value), arrow) {
        (Some(Value::String(s)), None) => Some(s.clone()),
        (Some(Value::Hash(h)), Some(a)) => h.map.get(&pattern[a + 2..]).cloned(),
        _ => None,
    }
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let (mut desc, mut alpha) = (false, false);
    let mut limit: Option<(i64, i64)> = None;
    let mut by: Option<Bytes> = None;
    let mut gets: Vec<Bytes> = Vec::new();
    let mut store: Option<Bytes> = None;
    let mut i = 2;
    while i < ctx.argv.len() {
        let more = ctx.argv.len() - i - 1;
        let a = ctx.arg(i);
        if eq(a, "asc") {
            desc = false;
        } else if eq(a, "desc") {
            desc = true;
        } else if eq(a, "alpha") {
            alpha = true;
        } else if eq(a, "limit") && more >= 2 {
            limit = Some((int_arg(ctx, i + 1)?, int_arg(ctx, i + 2)?));
            i += 2;
        } else if eq(a, "store") && more >= 1 && !readonly {
            store = Some(ctx.arg(i + 1).to_vec());
            i += 1;
        } else if eq(a, "by") && more >= 1 {
            by = Some(ctx.arg(i + 1).to_vec());
            i += 1;
        } else if eq(a, "get") && more >= 1 {
            gets.push(ctx.arg(i + 1).to_vec());
            i += 1;
        } else {
            return Err(err(errors::SYNTAX));
        }
        i += 1;
    }
    let mut dont_sort = by.as_ref().is_some_and(|p| !p.contains(&b'*'));
    // Redis keeps a list's or a sorted set's own order for BY <constant>
    // (honouring DESC and LIMIT), but a set's order is not deterministic, so
    // with STORE or inside a script it sorts the members ALPHA instead.
    let (elements, native_order): (Vec<Bytes>, bool) = match ctx.lookup_read(&key).map(|e| &e.value)
    {
        None => (Vec::new(), true),
        Some(Value::List(l)) => (l.iter().cloned().collect(), true),
        Some(Value::Set(s)) => (s.ordered().into_iter().cloned().collect(), false),
        Some(Value::ZSet(z)) => (z.iter().map(|(m, _)| m.clone()).collect(), true),
        Some(_) => return Err(err(errors::WRONGTYPE)),
    };
    if dont_sort && !native_order && (store.is_some() || ctx.client.is_script) {
        dont_sort = false;
        alpha = true;
        by = None;
    }
    if let Some(Value::ZSet(_)) = ctx.lookup_quiet(&key).map(|e| &e.value) {
        let db = ctx.db();
        ctx.ks().zset_to_skiplist(db, &key);
    }
    let len = elements.len() as i64;
    let (mut start, mut end) = match limit {
        Some((offset, count)) => {
            let start = offset.max(0);
            (
                start,
                if count < 0 {
                    len - 1
                } else {
                    start.saturating_add(count) - 1
                },
            )
        }
        None => (0, len - 1),
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let selected: Vec<Bytes> = if dont_sort && native_order {
        // The range is read straight from the head (or, with DESC, the tail).
        if end >= start && start >= 0 {
            let take = (end - start + 1) as usize;
            if desc {
                elements
                    .into_iter()
                    .rev()
                    .skip(start as usize)
                    .take(take)
                    .collect()
            } else {
                elements
                    .into_iter()
                    .skip(start as usize)
                    .take(take)
                    .collect()
            }
        } else {
            Vec::new()
        }
    } else {
        let mut items: Vec<(Bytes, Option<Bytes>, f64)> = Vec::with_capacity(elements.len());
        for element in elements {
            let weight = match &by {
                Some(p) if !dont_sort => sort_lookup(ctx, p, &element),
                _ => Some(element.clone()),
            };
            let mut score = 0.0;
            if !alpha && !dont_sort {
                if let Some(w) = &weight {
                    let (value, consumed, erange) = strtod(w);
                    if consumed != w.len() || erange || value.is_nan() {
                        return Err(err("ERR One or more scores can't be converted into double"));
                    }
                    score = value;
                }
            }
            items.push((element, weight, score));
        }
        if !dont_sort {
            items.sort_by(|a, b| {
                let ord = if alpha {
                    match (&a.1, &b.1) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (None, Some(_)) => std::cmp::Ordering::Less,
                        (Some(_), None) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    }
                } else {
                    a.2.partial_cmp(&b.2)
                        .unwrap_or(std::cmp::Ordering::Equal)
                        .then_with(|| a.0.cmp(&b.0))
                };
                if desc {
                    ord.reverse()
                } else {
                    ord
                }
            });
        }
        if end >= start && start >= 0 {
            items[start as usize..=end as usize]
                .iter()
                .map(|i| i.0.clone())
                .collect()
        } else {
            Vec::new()
        }
    };
    let mut out: Vec<Option<Bytes>> = Vec::new();
    for element in selected {
        if gets.is_empty() {
            out.push(Some(element));
        } else {
            for g in &gets {
                out.push(sort_lookup(ctx, g, &element));
            }
        }
    }
    match store {
        Some(dst) => {
            let count = out.len();
            let list: VecDeque<Bytes> = out.into_iter().map(|v| v.unwrap_or_default()).collect();
            if list.is_empty() {
                ctx.delete_key(&dst);
            } else {
                ctx.set_key(&dst, Value::List(list));
                ctx.notify(crate::engine::notify::LIST, "sortstore", &dst);
            }
            Ok(Reply::Int(count as i64))
        }
        None => Ok(Reply::Array(
            out.into_iter().map(Reply::bulk_or_nil).collect(),
        )),
    }
}

fn sort(ctx: &mut Ctx) -> CommandResult {
    sort_generic(ctx, false)
}

fn sort_ro(ctx: &mut Ctx) -> CommandResult {
    sort_generic(ctx, true)
}
