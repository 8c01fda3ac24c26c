//! String commands.

use crate::engine::errors::{self, err};
use crate::engine::keyspace::StrEnc;
use crate::engine::notify::{GENERIC, STRING};
use crate::engine::numbers::{self, parse_i64, IncrFloatError};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Value};
use crate::engine::{CommandResult, Ctx, Reply};

use super::int_arg;
use super::keys::invalid_expire;

const KEY1: (i32, i32, i32) = (1, 1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, KEY1, get),
    CommandSpec::new("set", -3, WRITE | DENYOOM, KEY1, set),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, KEY1, setnx),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, KEY1, setex),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, KEY1, psetex),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, KEY1, getset),
    CommandSpec::new("getdel", 2, WRITE | FAST, KEY1, getdel),
    CommandSpec::new("getex", -2, WRITE | FAST, KEY1, getex),
    CommandSpec::new("mget", -2, READONLY | FAST, (1, -1, 1), mget),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, (1, -1, 2), mset),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, (1, -1, 2), msetnx),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, KEY1, incr),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, KEY1, decr),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, KEY1, incrby),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, KEY1, decrby),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, KEY1, incrbyfloat),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, KEY1, append),
    CommandSpec::new("strlen", 2, READONLY | FAST, KEY1, strlen),
    CommandSpec::new("getrange", 4, READONLY, KEY1, getrange),
    CommandSpec::new("substr", 4, READONLY, KEY1, getrange),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, KEY1, setrange),
    CommandSpec::new("lcs", -3, READONLY, (1, 2, 1), lcs),
];

fn get(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::bulk_or_nil(ctx.string(&key)?))
}

#[derive(Clone, Copy, PartialEq)]
enum Unit {
    Seconds,
    Millis,
}

#[derive(Default)]
struct SetOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keep_ttl: bool,
    persist: bool,
    /// (raw argument, unit, absolute)
    expire: Option<(Bytes, Unit, bool)>,
}

/// Redis's parseExtendedStringArgumentsOrReply for SET (`is_set`) and GETEX.
fn parse_set_options(ctx: &Ctx, from: usize, is_set: bool) -> Result<SetOptions, Reply> {
    let mut o = SetOptions::default();
    let mut j = from;
    while j < ctx.argv.len() {
        let opt = ctx.arg(j).to_ascii_lowercase();
        let next = ctx.argv.get(j + 1);
        let has_expire = o.expire.is_some();
        let expire_kind = o.expire.as_ref().map(|(_, u, abs)| (*u, *abs));
        match opt.as_slice() {
            b"nx" if !o.xx && is_set => o.nx = true,
            b"xx" if !o.nx && is_set => o.xx = true,
            b"get" if is_set => o.get = true,
            b"keepttl" if !o.persist && !has_expire && is_set => o.keep_ttl = true,
            b"persist" if !is_set && !has_expire && !o.keep_ttl => o.persist = true,
            b"ex" | b"px" | b"exat" | b"pxat" if next.is_some() && !o.keep_ttl && !o.persist => {
                let unit = if opt.starts_with(b"e") {
                    Unit::Seconds
                } else {
                    Unit::Millis
                };
                let absolute = opt.ends_with(b"at");
                // Another expiry option is a syntax error, the same one again is not.
                if expire_kind.is_some_and(|k| k != (unit, absolute)) {
                    return Err(err(errors::SYNTAX));
                }
                o.expire = Some((next.expect("checked").clone(), unit, absolute));
                j += 1;
            }
            _ => return Err(err(errors::SYNTAX)),
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expiry time in ms for an EX/PX/EXAT/PXAT argument.
fn expire_at(now: i64, raw: &[u8], unit: Unit, absolute: bool, name: &str) -> Result<i64, Reply> {
    let mut ms = parse_i64(raw).ok_or_else(|| err(errors::NOT_INTEGER))?;
    if ms <= 0 || (unit == Unit::Seconds && ms > i64::MAX / 1000) {
        return Err(invalid_expire(name));
    }
    if unit == Unit::Seconds {
        ms *= 1000;
    }
    if !absolute {
        ms = ms.checked_add(now).ok_or_else(|| invalid_expire(name))?;
    }
    Ok(ms)
}

/// setGenericCommand: returns the reply for SET-like commands.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: Bytes,
    o: &SetOptions,
    name: &str,
) -> CommandResult {
    let expire = match &o.expire {
        Some((raw, unit, absolute)) => Some(expire_at(ctx.now, raw, *unit, *absolute, name)?),
        None => None,
    };
    let old = if o.get {
        let old = ctx.string(key)?.cloned();
        ctx.keymiss(key);
        old
    } else {
        None
    };
    let found = ctx.lookup(key);
    let current_expire = found.and_then(|e| e.expire_at);
    let found = found.is_some();
    if (o.nx && found) || (o.xx && !found) {
        return Ok(if o.get {
            Reply::bulk_or_nil(old)
        } else {
            Reply::Nil
        });
    }
    let expire = expire.or(if o.keep_ttl { current_expire } else { None });
    let db = ctx.db();
    let propagated =
        (ctx.engine.keyspace.propagation.on && o.expire.is_some()).then(|| value.clone());
    ctx.ks().put(db, key, Value::String(value), expire);
    ctx.notify(STRING, "set", key);
    if let Some(t) = expire.filter(|_| o.expire.is_some()) {
        ctx.notify(GENERIC, "expire", key);
        // Replicas get SET key value PXAT ms (SETEX, PSETEX, EX, PX, EXAT).
        let value = propagated.unwrap_or_default();
        ctx.propagate_as([&b"SET"[..], key, &value, b"PXAT", t.to_string().as_bytes()]);
    } else if o.get {
        // Without its GET argument.
        let argv: Vec<Bytes> = ctx
            .argv
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate_as(argv);
    }
    Ok(if o.get {
        Reply::bulk_or_nil(old)
    } else {
        Reply::ok()
    })
}

fn set(ctx: &mut Ctx) -> CommandResult {
    let options = parse_set_options(ctx, 3, true)?;
    let (key, value) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    set_generic(ctx, &key, value, &options, "set")
}

fn setnx(ctx: &mut Ctx) -> CommandResult {
    let (key, value) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    if ctx.exists(&key) {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    ctx.ks().put(db, &key, Value::String(value), None);
    ctx.notify(STRING, "set", &key);
    Ok(Reply::Int(1))
}

fn setex_generic(ctx: &mut Ctx, unit: Unit, name: &str) -> CommandResult {
    let options = SetOptions {
        expire: Some((ctx.arg(2).to_vec(), unit, false)),
        ..SetOptions::default()
    };
    let (key, value) = (ctx.arg(1).to_vec(), ctx.arg(3).to_vec());
    set_generic(ctx, &key, value, &options, name)
}

fn setex(ctx: &mut Ctx) -> CommandResult {
    setex_generic(ctx, Unit::Seconds, "setex")
}

fn psetex(ctx: &mut Ctx) -> CommandResult {
    setex_generic(ctx, Unit::Millis, "psetex")
}

fn getset(ctx: &mut Ctx) -> CommandResult {
    let (key, value) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let old = ctx.string(&key)?.cloned();
    ctx.keymiss(&key);
    let db = ctx.db();
    ctx.ks().put(db, &key, Value::String(value), None);
    ctx.notify(STRING, "set", &key);
    let mut argv = ctx.argv.to_vec();
    argv[0] = b"SET".to_vec();
    ctx.propagate_as(argv);
    Ok(Reply::bulk_or_nil(old))
}

fn getdel(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let old = ctx.string(&key)?.cloned();
    ctx.keymiss(&key);
    if old.is_some() {
        let db = ctx.db();
        ctx.ks().remove(db, &key);
        ctx.notify(GENERIC, "del", &key);
        ctx.propagate_as([&b"DEL"[..], &key]);
    }
    Ok(Reply::bulk_or_nil(old))
}

fn getex(ctx: &mut Ctx) -> CommandResult {
    let options = parse_set_options(ctx, 2, false)?;
    let key = ctx.arg(1).to_vec();
    // Redis looks the key up before it reads the expire time: a missing
    // key answers nil even with `EX abc`.
    let Some(value) = ctx.string(&key)?.cloned() else {
        ctx.keymiss(&key);
        return Ok(Reply::Nil);
    };
    let expire = match &options.expire {
        Some((raw, unit, absolute)) => Some(expire_at(ctx.now, raw, *unit, *absolute, "getex")?),
        None => None,
    };
    let db = ctx.db();
    match expire {
        Some(t) if t <= ctx.now => {
            ctx.ks().remove(db, &key);
            ctx.notify(GENERIC, "del", &key);
            ctx.propagate_as([&b"DEL"[..], &key]);
        }
        Some(t) => {
            ctx.ks().set_expire(db, &key, Some(t));
            ctx.notify(GENERIC, "expire", &key);
            ctx.propagate_as([&b"PEXPIREAT"[..], &key, t.to_string().as_bytes()]);
        }
        None if options.persist && ctx.lookup(&key).is_some_and(|e| e.expire_at.is_some()) => {
            ctx.ks().set_expire(db, &key, None);
            ctx.notify(GENERIC, "persist", &key);
            ctx.propagate_as([&b"PERSIST"[..], &key]);
        }
        None => {}
    }
    Ok(Reply::bulk(value))
}

fn mget(ctx: &mut Ctx) -> CommandResult {
    let mut out = Vec::with_capacity(ctx.argv.len() - 1);
    for i in 1..ctx.argv.len() {
        let key = ctx.argv[i].clone();
        out.push(match ctx.value(&key) {
            Some(Value::String(s)) => Reply::bulk(s),
            _ => Reply::Nil,
        });
    }
    Ok(Reply::Array(out))
}

fn mset_generic(ctx: &mut Ctx, nx: bool) -> CommandResult {
    if ctx.argv.len().is_multiple_of(2) {
        return Err(errors::arity(if nx { "msetnx" } else { "mset" }));
    }
    let pairs: Vec<(Bytes, Bytes)> = ctx.argv[1..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    if nx {
        for (key, _) in &pairs {
            if ctx.exists(key) {
                return Ok(Reply::Int(0));
            }
        }
    }
    let db = ctx.db();
    for (key, value) in pairs {
        ctx.lookup(&key);
        ctx.ks().put(db, &key, Value::String(value), None);
        ctx.notify(STRING, "set", &key);
    }
    Ok(if nx { Reply::Int(1) } else { Reply::ok() })
}

fn mset(ctx: &mut Ctx) -> CommandResult {
    mset_generic(ctx, false)
}

fn msetnx(ctx: &mut Ctx) -> CommandResult {
    mset_generic(ctx, true)
}

/// Replaces a string's value keeping its TTL (INCR, APPEND, SETRANGE...).
fn store_keep_ttl(ctx: &mut Ctx, key: &[u8], value: Bytes, how: StrEnc) {
    let db = ctx.db();
    let expire = ctx.lookup(key).and_then(|e| e.expire_at);
    ctx.ks()
        .put_string_as(db, key, Value::String(value), expire, how);
}

fn incr_generic(ctx: &mut Ctx, by: i64) -> CommandResult {
    let argv = ctx.argv;
    let key = &argv[1];
    let db = ctx.db();
    // Looked up (and expired if due) once: an existing string is
    // rewritten where it is.
    let found = ctx.lookup_index(key);
    let current = match found {
        Some(index) => match &ctx.ks().entry_at(db, index).value {
            Value::String(s) => parse_i64(s).ok_or_else(|| err(errors::NOT_INTEGER))?,
            _ => return Err(err(errors::WRONGTYPE)),
        },
        None => 0,
    };
    let value = current
        .checked_add(by)
        .ok_or_else(|| err(errors::OVERFLOW))?;
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value).as_bytes();
    match found {
        Some(index) => {
            let rewritten = ctx
                .ks()
                .rewrite_string_at(db, index, key, digits, StrEnc::Auto);
            debug_assert!(rewritten, "a string was found there");
        }
        None => store_keep_ttl(ctx, key, digits.to_vec(), StrEnc::Auto),
    }
    ctx.notify(STRING, "incrby", key);
    Ok(Reply::Int(value))
}

fn incr(ctx: &mut Ctx) -> CommandResult {
    incr_generic(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CommandResult {
    incr_generic(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CommandResult {
    let by = int_arg(ctx, 2)?;
    incr_generic(ctx, by)
}

fn decrby(ctx: &mut Ctx) -> CommandResult {
    let by = int_arg(ctx, 2)?;
    if by == i64::MIN {
        return Err(err("ERR decrement would overflow"));
    }
    incr_generic(ctx, -by)
}

fn incrbyfloat(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let increment = ctx.arg(2).to_vec();
    let current = ctx.string(&key)?.cloned();
    let value = numbers::incr_by_float(current.as_deref(), &increment).map_err(|e| match e {
        IncrFloatError::NanOrInfinity => err(errors::NAN_OR_INFINITY),
        _ => err(errors::NOT_FLOAT),
    })?;
    store_keep_ttl(ctx, &key, value.clone(), StrEnc::NoInt);
    ctx.notify(STRING, "incrbyfloat", &key);
    // Replicas get the result, not the sum to redo.
    ctx.propagate_as([&b"SET"[..], &key, &value, b"KEEPTTL"]);
    Ok(Reply::Bulk(value))
}

fn check_size(ctx: &Ctx, size: u64) -> Result<(), Reply> {
    if size > ctx.engine.config.proto_max_bulk_len as u64 {
        return Err(err(errors::STRING_TOO_LONG));
    }
    Ok(())
}

fn append(ctx: &mut Ctx) -> CommandResult {
    let (key, suffix) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let current = ctx.string(&key)?.cloned();
    // A new key is stored as SET stores it; an existing string is edited in place (raw).
    let how = if current.is_some() {
        StrEnc::Raw
    } else {
        StrEnc::Auto
    };
    let mut value = current.unwrap_or_default();
    check_size(ctx, (value.len() + suffix.len()) as u64)?;
    value.extend_from_slice(&suffix);
    let len = value.len();
    store_keep_ttl(ctx, &key, value, how);
    ctx.notify(STRING, "append", &key);
    Ok(Reply::Int(len as i64))
}

fn strlen(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.string(&key)?.map(|s| s.len()).unwrap_or(0) as i64
    ))
}

fn getrange(ctx: &mut Ctx) -> CommandResult {
    let (mut start, mut end) = (int_arg(ctx, 2)?, int_arg(ctx, 3)?);
    let key = ctx.arg(1).to_vec();
    let Some(s) = ctx.string(&key)? else {
        return Ok(Reply::bulk(""));
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Ok(Reply::bulk(""));
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Ok(Reply::bulk(""));
    }
    Ok(Reply::bulk(&s[start as usize..=end as usize]))
}

fn setrange(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let offset = int_arg(ctx, 2)?;
    let patch = ctx.arg(3).to_vec();
    // Redis checks the offset's sign before the key's type.
    if offset < 0 {
        return Err(err(errors::OFFSET_RANGE));
    }
    let current = ctx.string(&key)?.cloned();
    let Some(mut value) = current else {
        if patch.is_empty() {
            return Ok(Reply::Int(0));
        }
        check_size(ctx, offset as u64 + patch.len() as u64)?;
        let mut value = vec![0u8; offset as usize];
        value.extend_from_slice(&patch);
        let len = value.len();
        let db = ctx.db();
        ctx.ks()
            .put_string_as(db, &key, Value::String(value), None, StrEnc::Raw);
        ctx.notify(STRING, "setrange", &key);
        return Ok(Reply::Int(len as i64));
    };
    if patch.is_empty() {
        return Ok(Reply::Int(value.len() as i64));
    }
    check_size(ctx, offset as u64 + patch.len() as u64)?;
    let end = offset as usize + patch.len();
    if value.len() < end {
        value.resize(end, 0);
    }
    value[offset as usize..end].copy_from_slice(&patch);
    let len = value.len();
    store_keep_ttl(ctx, &key, value, StrEnc::Raw);
    ctx.notify(STRING, "setrange", &key);
    Ok(Reply::Int(len as i64))
}

fn lcs(ctx: &mut Ctx) -> CommandResult {
    let (ka, kb) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    // Redis looks both keys up, then checks their types, before it parses
    // the options.
    let a = ctx.value(&ka).cloned();
    let b = ctx.value(&kb).cloned();
    let text = |v: Option<Value>| match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(err("ERR The specified keys must contain string values")),
    };
    let (a, b) = (text(a)?, text(b)?);
    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < ctx.argv.len() {
        let opt = ctx.arg(j).to_ascii_lowercase();
        match opt.as_slice() {
            b"idx" => get_idx = true,
            b"len" => get_len = true,
            b"withmatchlen" => with_match_len = true,
            b"minmatchlen" if j + 1 < ctx.argv.len() => {
                min_match_len = int_arg(ctx, j + 1)?.max(0);
                j += 1;
            }
            _ => return Err(err(errors::SYNTAX)),
        }
        j += 1;
    }
    if get_idx && get_len {
        return Err(err(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > ctx.engine.config.proto_max_bulk_len as u64 {
        return Err(err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let width = blen + 1;
    let mut table = vec![0u32; (alen + 1) * width];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let lcs_len = table[alen * width + blen] as usize;
    let mut result = vec![0u8; lcs_len];
    let mut matches = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, lcs_len);
    // Redis's backtracking, range bookkeeping included.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        let match_len = a_end as i64 - a_start as i64 + 1;
        if emit {
            if min_match_len == 0 || match_len >= min_match_len {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(a_start as i64), Reply::Int(a_end as i64)]),
                    Reply::Array(vec![Reply::Int(b_start as i64), Reply::Int(b_end as i64)]),
                ];
                if with_match_len {
                    m.push(Reply::Int(match_len));
                }
                matches.push(Reply::Array(m));
            }
            a_start = alen;
        }
    }
    if get_idx {
        // A map in RESP3 (Redis's addReplyMapLen), flat in RESP2.
        Ok(super::map_reply(
            ctx,
            vec![
                ("matches", Reply::Array(matches)),
                ("len", Reply::Int(lcs_len as i64)),
            ],
        ))
    } else if get_len {
        Ok(Reply::Int(lcs_len as i64))
    } else {
        Ok(Reply::Bulk(result))
    }
}
