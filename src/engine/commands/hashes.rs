//! Hash commands.

use crate::engine::errors::{self, err};
use crate::engine::notify::HASH;
use crate::engine::numbers::{self, parse_f64, parse_i64, IncrFloatError};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::Bytes;
use crate::engine::{CommandResult, Ctx, Reply};

use super::keys::{parse_cursor, scan_matches, scan_options};
use super::{eq, int_arg};

const KEY1: (i32, i32, i32) = (1, 1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, KEY1, hset),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, KEY1, hmset),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, KEY1, hsetnx),
    CommandSpec::new("hget", 3, READONLY | FAST, KEY1, hget),
    CommandSpec::new("hmget", -3, READONLY | FAST, KEY1, hmget),
    CommandSpec::new("hgetall", 2, READONLY, KEY1, hgetall),
    CommandSpec::new("hdel", -3, WRITE | FAST, KEY1, hdel),
    CommandSpec::new("hexists", 3, READONLY | FAST, KEY1, hexists),
    CommandSpec::new("hlen", 2, READONLY | FAST, KEY1, hlen),
    CommandSpec::new("hkeys", 2, READONLY, KEY1, hkeys),
    CommandSpec::new("hvals", 2, READONLY, KEY1, hvals),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, KEY1, hincrby),
    CommandSpec::new(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        KEY1,
        hincrbyfloat,
    ),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, KEY1, hstrlen),
    CommandSpec::new("hrandfield", -2, READONLY, KEY1, hrandfield),
    CommandSpec::new("hscan", -3, READONLY, KEY1, hscan),
];

fn hset_generic(ctx: &mut Ctx, name: &str) -> Result<i64, Reply> {
    if !ctx.argv.len().is_multiple_of(2) {
        return Err(errors::arity(name));
    }
    let key = ctx.arg(1).to_vec();
    ctx.hash(&key)?;
    let db = ctx.db();
    let mut created = 0;
    for i in (2..ctx.argv.len()).step_by(2) {
        let (field, value) = (ctx.argv[i].clone(), ctx.argv[i + 1].clone());
        if ctx.ks().hash_set(db, &key, &field, value) {
            created += 1;
        }
    }
    ctx.notify(HASH, "hset", &key);
    Ok(created)
}

fn hset(ctx: &mut Ctx) -> CommandResult {
    hset_generic(ctx, "hset").map(Reply::Int)
}

fn hmset(ctx: &mut Ctx) -> CommandResult {
    hset_generic(ctx, "hmset").map(|_| Reply::ok())
}

fn hsetnx(ctx: &mut Ctx) -> CommandResult {
    let (key, field, value) = (
        ctx.arg(1).to_vec(),
        ctx.arg(2).to_vec(),
        ctx.arg(3).to_vec(),
    );
    if ctx.hash(&key)?.is_some_and(|h| h.map.contains_key(&field)) {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    ctx.ks().hash_set(db, &key, &field, value);
    ctx.notify(HASH, "hset", &key);
    Ok(Reply::Int(1))
}

fn field_of(ctx: &mut Ctx, key: &[u8], field: &[u8]) -> Result<Option<Bytes>, Reply> {
    Ok(ctx.hash(key)?.and_then(|h| h.map.get(field).cloned()))
}

fn hget(ctx: &mut Ctx) -> CommandResult {
    let (key, field) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::bulk_or_nil(field_of(ctx, &key, &field)?))
}

fn hmget(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let fields: Vec<Bytes> = ctx.argv[2..].to_vec();
    let hash = ctx.hash(&key)?;
    Ok(Reply::Array(
        fields
            .iter()
            .map(|f| Reply::bulk_or_nil(hash.and_then(|h| h.map.get(f))))
            .collect(),
    ))
}

fn hgetall(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    if ctx.resp3() {
        let hash = ctx.hash(&key)?;
        return Ok(Reply::Map(
            hash.into_iter()
                .flat_map(|h| h.map.iter().map(|(f, v)| (Reply::bulk(f), Reply::bulk(v))))
                .collect(),
        ));
    }
    let hash = ctx.hash(&key)?;
    Ok(Reply::bulks(
        hash.into_iter()
            .flat_map(|h| h.map.iter().flat_map(|(f, v)| [f, v])),
    ))
}

fn hdel(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    if ctx.hash(&key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    let mut deleted = 0;
    for i in 2..ctx.argv.len() {
        let field = ctx.argv[i].clone();
        if ctx.ks().hash_delete(db, &key, &field) {
            deleted += 1;
        }
    }
    if deleted > 0 {
        ctx.notify(HASH, "hdel", &key);
        ctx.deleted_if_gone(&key);
    }
    Ok(Reply::Int(deleted))
}

fn hexists(ctx: &mut Ctx) -> CommandResult {
    let (key, field) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::Int(field_of(ctx, &key, &field)?.is_some() as i64))
}

fn hlen(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.hash(&key)?.map(|h| h.map.len()).unwrap_or(0) as i64,
    ))
}

fn hkeys(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::bulks(
        ctx.hash(&key)?.into_iter().flat_map(|h| h.map.keys()),
    ))
}

fn hvals(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::bulks(
        ctx.hash(&key)?.into_iter().flat_map(|h| h.map.values()),
    ))
}

fn hincrby(ctx: &mut Ctx) -> CommandResult {
    let by = int_arg(ctx, 3)?;
    let (key, field) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let current = match field_of(ctx, &key, &field)? {
        Some(v) => parse_i64(&v).ok_or_else(|| err(errors::HASH_NOT_INTEGER))?,
        None => 0,
    };
    let value = current
        .checked_add(by)
        .ok_or_else(|| err(errors::OVERFLOW))?;
    let db = ctx.db();
    ctx.ks()
        .hash_set(db, &key, &field, value.to_string().into_bytes());
    ctx.notify(HASH, "hincrby", &key);
    Ok(Reply::Int(value))
}

fn hincrbyfloat(ctx: &mut Ctx) -> CommandResult {
    let increment = ctx.arg(3).to_vec();
    if numbers::incr_by_float(None, &increment).is_err() {
        if parse_f64(&increment).is_some_and(|v| v.is_infinite()) {
            return Err(err("ERR value is NaN or Infinity"));
        }
        return Err(err(errors::NOT_FLOAT));
    }
    let (key, field) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let current = field_of(ctx, &key, &field)?;
    let value = numbers::incr_by_float(current.as_deref(), &increment).map_err(|e| match e {
        IncrFloatError::CurrentNotFloat => err(errors::HASH_NOT_FLOAT),
        IncrFloatError::IncrementNotFloat => err(errors::NOT_FLOAT),
        IncrFloatError::NanOrInfinity => err(errors::NAN_OR_INFINITY),
    })?;
    let db = ctx.db();
    ctx.ks().hash_set(db, &key, &field, value.clone());
    ctx.notify(HASH, "hincrbyfloat", &key);
    ctx.propagate_as([&b"HSET"[..], &key, &field, &value]);
    Ok(Reply::Bulk(value))
}

fn hstrlen(ctx: &mut Ctx) -> CommandResult {
    let (key, field) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::Int(
        field_of(ctx, &key, &field)?.map(|v| v.len()).unwrap_or(0) as i64,
    ))
}

fn hrandfield(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    // Redis's order: the count's range, the syntax, then WITHVALUES's range.
    let count = if ctx.argv.len() >= 3 {
        let n = int_arg(ctx, 2)?;
        if n == i64::MIN {
            return Err(err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
        }
        Some(n)
    } else {
        None
    };
    if ctx.argv.len() > 4 || (ctx.argv.len() == 4 && !eq(ctx.arg(3), "withvalues")) {
        return Err(err(errors::SYNTAX));
    }
    let with_values = ctx.argv.len() == 4;
    // Field and value flat in RESP2, a pair each in RESP3 (Redis's
    // hrandfieldWithCountCommand).
    let pairs = with_values && ctx.resp3();
    if with_values && count.is_some_and(|n| !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n)) {
        return Err(err("ERR value is out of range"));
    }
    let Some(hash) = ctx.hash(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Nil
        });
    };
    let len = hash.map.len();
    let Some(count) = count else {
        let (field, _) = hash
            .map
            .get_index(fastrand::usize(..len))
            .expect("non-empty");
        return Ok(Reply::bulk(field));
    };
    let indexes: Vec<usize> = if count >= len as i64 {
        // The whole hash, in the order HGETALL gives (Redis iterates it).
        (0..len).collect()
    } else if count >= 0 {
        let mut all: Vec<usize> = (0..len).collect();
        fastrand::shuffle(&mut all);
        all.truncate(count as usize);
        all
    } else {
        if count.unsigned_abs() > errors::MOST_PICKS {
            return Err(err(&errors::too_many_picks(count.unsigned_abs())));
        }
        (0..count.unsigned_abs())
            .map(|_| fastrand::usize(..len))
            .collect()
    };
    let mut out = Vec::new();
    for i in indexes {
        let (f, v) = hash.map.get_index(i).expect("in range");
        if pairs {
            out.push(Reply::Array(vec![Reply::bulk(f), Reply::bulk(v)]));
            continue;
        }
        out.push(Reply::bulk(f));
        if with_values {
            out.push(Reply::bulk(v));
        }
    }
    Ok(Reply::Array(out))
}

fn hscan(ctx: &mut Ctx) -> CommandResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let key = ctx.arg(1).to_vec();
    let Some(hash) = ctx.hash(&key)? else {
        return Ok(Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])]));
    };
    // A listpack comes back whole, in order, COUNT or not; a hash table
    // pages through its buckets (see engine::dict).
    let whole = hash.listpack.then(|| {
        hash.map
            .iter()
            .map(|(f, v)| (f.clone(), v.clone()))
            .collect()
    });
    let options = scan_options(ctx, 3, false)?;
    let (next, pairs) = match whole {
        Some(pairs) => (0, pairs),
        None => {
            let db = ctx.db();
            ctx.ks().scan_hash(db, &key, cursor, options.count)
        }
    };
    let items: Vec<Bytes> = pairs
        .into_iter()
        .filter(|(f, _)| scan_matches(&options, f))
        .flat_map(|(f, v)| [f, v])
        .collect();
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::bulks(items),
    ]))
}
