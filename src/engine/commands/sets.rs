//! Set commands.

use crate::engine::errors::{self, err};
use crate::engine::notify::SET;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Set, Value};
use crate::engine::{CommandResult, Ctx, Reply};

use super::keys::{parse_cursor, scan_matches, scan_options};
use super::{eq, int_arg, positive_arg, positive_or};
use crate::engine::value::Limits;

const KEY1: (i32, i32, i32) = (1, 1, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, KEY1, sadd),
    CommandSpec::new("srem", -3, WRITE | FAST, KEY1, srem),
    CommandSpec::new("smembers", 2, READONLY, KEY1, smembers),
    CommandSpec::new("sismember", 3, READONLY | FAST, KEY1, sismember),
    CommandSpec::new("smismember", -3, READONLY | FAST, KEY1, smismember),
    CommandSpec::new("scard", 2, READONLY | FAST, KEY1, scard),
    CommandSpec::new("spop", -2, WRITE | FAST, KEY1, spop),
    CommandSpec::new("srandmember", -2, READONLY, KEY1, srandmember),
    CommandSpec::new("sinter", -2, READONLY, ALLKEYS, sinter),
    CommandSpec::new("sunion", -2, READONLY, ALLKEYS, sunion),
    CommandSpec::new("sdiff", -2, READONLY, ALLKEYS, sdiff),
    CommandSpec::new("sinterstore", -3, WRITE | DENYOOM, ALLKEYS, sinterstore),
    CommandSpec::new("sunionstore", -3, WRITE | DENYOOM, ALLKEYS, sunionstore),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, ALLKEYS, sdiffstore),
    CommandSpec::new("sintercard", -3, READONLY, (0, 0, 0), sintercard),
    CommandSpec::new("smove", 4, WRITE | FAST, (1, 2, 1), smove),
    CommandSpec::new("sscan", -3, READONLY, KEY1, sscan),
];

/// A set built the way SADD builds one (intset while it can be).
pub(crate) fn make_set<'a>(members: impl IntoIterator<Item = &'a Bytes>, limits: &Limits) -> Set {
    let mut set = Set::default();
    for m in members {
        if !set.members.contains(m) {
            if set.needs_conversion(m, limits) {
                set.intset = false;
            }
            set.members.insert(m.clone());
        }
    }
    set
}

fn sadd(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    ctx.set(&key)?;
    let db = ctx.db();
    let mut added = 0;
    for i in 2..ctx.argv.len() {
        let member = ctx.argv[i].clone();
        if ctx.ks().set_add(db, &key, &member) {
            added += 1;
        }
    }
    if added > 0 {
        ctx.notify(SET, "sadd", &key);
    }
    Ok(Reply::Int(added))
}

fn srem(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    if ctx.set(&key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    let mut removed = 0;
    for i in 2..ctx.argv.len() {
        let member = ctx.argv[i].clone();
        if ctx.ks().set_remove(db, &key, &member) {
            removed += 1;
        }
    }
    if removed > 0 {
        ctx.notify(SET, "srem", &key);
        ctx.deleted_if_gone(&key);
    }
    Ok(Reply::Int(removed))
}

/// A set reply: an array in RESP2, a set in RESP3.
fn set_reply(ctx: &Ctx, members: Reply) -> Reply {
    match members {
        Reply::Array(items) if ctx.resp3() => Reply::Set(items),
        other => other,
    }
}

fn smembers(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let members = Reply::bulks(ctx.set(&key)?.map(|s| s.ordered()).unwrap_or_default());
    Ok(set_reply(ctx, members))
}

fn sismember(ctx: &mut Ctx) -> CommandResult {
    let (key, member) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::Int(
        ctx.set(&key)?.is_some_and(|s| s.members.contains(&member)) as i64,
    ))
}

fn smismember(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let members = ctx.argv[2..].to_vec();
    let set = ctx.set(&key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| Reply::Int(set.is_some_and(|s| s.members.contains(m)) as i64))
            .collect(),
    ))
}

fn scard(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.set(&key)?.map(|s| s.members.len()).unwrap_or(0) as i64,
    ))
}

fn spop(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 3 {
        return Err(err(errors::SYNTAX));
    }
    let count = if ctx.argv.len() == 3 {
        Some(positive_arg(ctx, 2)?)
    } else {
        None
    };
    let key = ctx.arg(1).to_vec();
    // With a count, a set reply (Redis's spopWithCountCommand), empty or not.
    let Some(set) = ctx.set(&key)? else {
        return Ok(if count.is_some() {
            set_reply(ctx, Reply::Array(vec![]))
        } else {
            Reply::Nil
        });
    };
    let len = set.members.len();
    let wanted = count.unwrap_or(1).min(len as i64) as usize;
    // A count that takes the whole set answers it as SMEMBERS would (an
    // intset sorted: Redis's spopWithCountCommand replies with SUNION's).
    let mut picked: Vec<Bytes> = if count.is_some() && wanted == len {
        set.ordered().into_iter().cloned().collect()
    } else {
        let mut indexes: Vec<usize> = (0..len).collect();
        fastrand::shuffle(&mut indexes);
        indexes
            .into_iter()
            .take(wanted)
            .map(|i| set.members[i].clone())
            .collect()
    };
    if count == Some(0) {
        return Ok(set_reply(ctx, Reply::Array(vec![])));
    }
    let db = ctx.db();
    for m in &picked {
        ctx.ks().set_remove(db, &key, m);
    }
    // Few members left (SPOP_MOVE_STRATEGY_MUL): Redis copied them to a
    // new set, so the encoding is chosen afresh.
    if let Some(count) = count.filter(|_| wanted < len) {
        if ((len - wanted) as i64).saturating_mul(5) <= count {
            ctx.ks().set_rebuilt(db, &key);
        }
    }
    // Replicas get what was removed: an SREM a member (7.0.15's
    // spopWithCountCommand; 7.2 batches them), or DEL when the whole set
    // went.
    if count.is_some() && picked.len() == len {
        ctx.propagate_as([&b"DEL"[..], &key]);
    } else {
        ctx.prevent_propagation();
        for member in &picked {
            ctx.also_propagate(vec![b"SREM".to_vec(), key.clone(), member.clone()]);
        }
    }
    ctx.notify(SET, "spop", &key);
    ctx.deleted_if_gone(&key);
    Ok(match count {
        None => Reply::bulk_or_nil(picked.pop()),
        Some(_) => set_reply(ctx, Reply::bulks(picked)),
    })
}

fn srandmember(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 3 {
        return Err(err(errors::SYNTAX));
    }
    let count = if ctx.argv.len() == 3 {
        let n = int_arg(ctx, 2)?;
        if n == i64::MIN {
            return Err(err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
        }
        Some(n)
    } else {
        None
    };
    let key = ctx.arg(1).to_vec();
    let Some(set) = ctx.set(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Nil
        });
    };
    let len = set.members.len();
    let Some(count) = count else {
        return Ok(Reply::bulk(&set.members[fastrand::usize(..len)]));
    };
    let picked: Vec<&Bytes> = if count >= len as i64 {
        // The whole set, in the order SMEMBERS gives (Redis iterates it:
        // an intset ascending).
        set.ordered()
    } else if count >= 0 {
        let mut indexes: Vec<usize> = (0..len).collect();
        fastrand::shuffle(&mut indexes);
        indexes
            .into_iter()
            .take(count as usize)
            .map(|i| &set.members[i])
            .collect()
    } else {
        if count.unsigned_abs() > errors::MOST_PICKS {
            return Err(err(&errors::too_many_picks(count.unsigned_abs())));
        }
        (0..count.unsigned_abs())
            .map(|_| &set.members[fastrand::usize(..len)])
            .collect()
    };
    Ok(Reply::bulks(picked))
}

/// The sets named by `keys` (None for a missing key), type-checked first.
fn load_sets(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<Set>>, Reply> {
    let mut sets = Vec::with_capacity(keys.len());
    for key in keys {
        // lookupKeyRead, for the STORE forms too (a missing one is a keymiss).
        sets.push(match ctx.lookup_read(key).map(|e| &e.value) {
            None => None,
            Some(Value::Set(s)) => Some(Set::clone(s)),
            Some(_) => return Err(err(errors::WRONGTYPE)),
        });
    }
    Ok(sets)
}

fn intersection(sets: &[Option<Set>]) -> Vec<Bytes> {
    if sets.iter().any(|s| s.is_none()) {
        return Vec::new();
    }
    let mut sets: Vec<&Set> = sets.iter().flatten().collect();
    sets.sort_by_key(|s| s.members.len());
    let (first, rest) = sets.split_first().expect("at least one key");
    first
        .ordered()
        .into_iter()
        .filter(|m| rest.iter().all(|s| s.members.contains(*m)))
        .cloned()
        .collect()
}

fn union(sets: &[Option<Set>], limits: &Limits) -> Set {
    make_set(sets.iter().flatten().flat_map(|s| s.members.iter()), limits)
}

fn difference(sets: &[Option<Set>], limits: &Limits) -> Set {
    let Some(Some(first)) = sets.first() else {
        return Set::default();
    };
    make_set(
        first
            .members
            .iter()
            .filter(|m| sets[1..].iter().flatten().all(|s| !s.members.contains(*m))),
        limits,
    )
}

fn sinter(ctx: &mut Ctx) -> CommandResult {
    let keys = ctx.argv[1..].to_vec();
    let sets = load_sets(ctx, &keys)?;
    Ok(set_reply(ctx, Reply::bulks(intersection(&sets))))
}

fn sunion(ctx: &mut Ctx) -> CommandResult {
    let keys = ctx.argv[1..].to_vec();
    let sets = load_sets(ctx, &keys)?;
    Ok(set_reply(
        ctx,
        Reply::bulks(union(&sets, &ctx.engine.keyspace.limits.clone()).ordered()),
    ))
}

fn sdiff(ctx: &mut Ctx) -> CommandResult {
    let keys = ctx.argv[1..].to_vec();
    let sets = load_sets(ctx, &keys)?;
    Ok(set_reply(
        ctx,
        Reply::bulks(difference(&sets, &ctx.engine.keyspace.limits.clone()).ordered()),
    ))
}

/// Stores a computed set at `dst` (deleting it when empty).
fn store_set(ctx: &mut Ctx, dst: &[u8], set: Set, event: &'static str) -> CommandResult {
    let len = set.members.len();
    if len == 0 {
        ctx.delete_key(dst);
    } else {
        ctx.set_key(dst, Value::Set(Box::new(set)));
        ctx.notify(SET, event, dst);
    }
    Ok(Reply::Int(len as i64))
}

fn sinterstore(ctx: &mut Ctx) -> CommandResult {
    let (dst, keys) = (ctx.arg(1).to_vec(), ctx.argv[2..].to_vec());
    let sets = load_sets(ctx, &keys)?;
    let result = intersection(&sets);
    let limits = ctx.engine.keyspace.limits;
    store_set(ctx, &dst, make_set(result.iter(), &limits), "sinterstore")
}

fn sunionstore(ctx: &mut Ctx) -> CommandResult {
    let (dst, keys) = (ctx.arg(1).to_vec(), ctx.argv[2..].to_vec());
    let sets = load_sets(ctx, &keys)?;
    let limits = ctx.engine.keyspace.limits;
    store_set(ctx, &dst, union(&sets, &limits), "sunionstore")
}

fn sdiffstore(ctx: &mut Ctx) -> CommandResult {
    let (dst, keys) = (ctx.arg(1).to_vec(), ctx.argv[2..].to_vec());
    let sets = load_sets(ctx, &keys)?;
    let limits = ctx.engine.keyspace.limits;
    store_set(ctx, &dst, difference(&sets, &limits), "sdiffstore")
}

/// numkeys and keys of SINTERCARD / ZINTERCARD, then an optional LIMIT.
pub(crate) fn intercard_args(ctx: &Ctx, zero_error: &str) -> Result<(Vec<Bytes>, usize), Reply> {
    let numkeys = int_arg(ctx, 1)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| err(zero_error))?;
    if numkeys as usize > ctx.argv.len() - 2 {
        return Err(err(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys = ctx.argv[2..2 + numkeys as usize].to_vec();
    let mut limit = 0usize;
    let mut i = 2 + numkeys as usize;
    while i < ctx.argv.len() {
        if eq(ctx.arg(i), "limit") && i + 1 < ctx.argv.len() {
            limit = positive_or(ctx, i + 1, "ERR LIMIT can't be negative")? as usize;
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    Ok((keys, limit))
}

fn sintercard(ctx: &mut Ctx) -> CommandResult {
    let (keys, limit) = intercard_args(ctx, errors::NUMKEYS_ZERO)?;
    let sets = load_sets(ctx, &keys)?;
    let n = intersection(&sets).len();
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

fn smove(ctx: &mut Ctx) -> CommandResult {
    let (src, dst, member) = (
        ctx.arg(1).to_vec(),
        ctx.arg(2).to_vec(),
        ctx.arg(3).to_vec(),
    );
    // smoveCommand's order: both keys looked up (an expired one expires
    // here, even when the source is missing), a missing source answers 0,
    // then both types are checked.
    ctx.lookup(&src);
    ctx.lookup(&dst);
    let src_has = match ctx.set(&src)? {
        None => return Ok(Reply::Int(0)),
        Some(s) => s.members.contains(&member),
    };
    ctx.set(&dst)?;
    if src == dst {
        return Ok(Reply::Int(src_has as i64));
    }
    if !src_has {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    ctx.ks().set_remove(db, &src, &member);
    ctx.notify(SET, "srem", &src);
    ctx.deleted_if_gone(&src);
    if ctx.ks().set_add(db, &dst, &member) {
        ctx.notify(SET, "sadd", &dst);
    }
    Ok(Reply::Int(1))
}

fn sscan(ctx: &mut Ctx) -> CommandResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let key = ctx.arg(1).to_vec();
    let Some(set) = ctx.set(&key)? else {
        return Ok(Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])]));
    };
    // An intset comes back whole, in order, COUNT or not; a hash table
    // pages through its buckets (see engine::dict).
    let whole: Option<Vec<Bytes>> = set
        .intset
        .then(|| set.ordered().into_iter().cloned().collect());
    let options = scan_options(ctx, 3, false)?;
    let (next, members) = match whole {
        Some(members) => (0, members),
        None => {
            let db = ctx.db();
            ctx.ks().scan_set(db, &key, cursor, options.count)
        }
    };
    let members = members.into_iter().filter(|m| scan_matches(&options, m));
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::bulks(members),
    ]))
}
