//! List commands, blocking forms included.

use std::collections::VecDeque;

use crate::engine::errors::{self, err};
use crate::engine::keyspace::Side;
use crate::engine::notify::LIST;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Kind};
use crate::engine::{Blocked, CommandResult, Ctx, Reply};

use super::{eq, int_arg, normalize_range, positive_arg, positive_or, timeout_arg};

const KEY1: (i32, i32, i32) = (1, 1, 1);
const KEY12: (i32, i32, i32) = (1, 2, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, KEY1, lpush),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, KEY1, rpush),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, KEY1, lpushx),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, KEY1, rpushx),
    CommandSpec::new("lpop", -2, WRITE | FAST, KEY1, lpop),
    CommandSpec::new("rpop", -2, WRITE | FAST, KEY1, rpop),
    CommandSpec::new("lrange", 4, READONLY, KEY1, lrange),
    CommandSpec::new("llen", 2, READONLY | FAST, KEY1, llen),
    CommandSpec::new("lindex", 3, READONLY, KEY1, lindex),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, KEY1, lset),
    CommandSpec::new("lrem", 4, WRITE, KEY1, lrem),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, KEY1, linsert),
    CommandSpec::new("ltrim", 4, WRITE, KEY1, ltrim),
    CommandSpec::new("lpos", -3, READONLY, KEY1, lpos),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, KEY12, rpoplpush),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, KEY12, lmove),
    CommandSpec::new("lmpop", -4, WRITE, (0, 0, 0), lmpop),
    CommandSpec::new("blpop", -3, WRITE | BLOCKING | NOSCRIPT, (1, -2, 1), blpop),
    CommandSpec::new("brpop", -3, WRITE | BLOCKING | NOSCRIPT, (1, -2, 1), brpop),
    CommandSpec::new(
        "brpoplpush",
        4,
        WRITE | DENYOOM | BLOCKING | NOSCRIPT,
        KEY12,
        brpoplpush,
    ),
    CommandSpec::new(
        "blmove",
        6,
        WRITE | DENYOOM | BLOCKING | NOSCRIPT,
        KEY12,
        blmove,
    ),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, (0, 0, 0), blmpop),
];

fn push_generic(ctx: &mut Ctx, side: Side, only_existing: bool) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let exists = ctx.expect_kind(&key, Kind::List)?;
    if only_existing && !exists {
        return Ok(Reply::Int(0));
    }
    let items: Vec<Bytes> = ctx.argv[2..].to_vec();
    let db = ctx.db();
    let len = ctx.ks().list_push(db, &key, side, items);
    pushed(ctx, &key, side);
    Ok(Reply::Int(len as i64))
}

fn side_name(side: Side, left: &'static str, right: &'static str) -> &'static str {
    match side {
        Side::Left => left,
        Side::Right => right,
    }
}

/// The events of a push: `lpush` or `rpush`.
fn pushed(ctx: &mut Ctx, key: &[u8], side: Side) {
    let event = match side {
        Side::Left => "lpush",
        Side::Right => "rpush",
    };
    ctx.notify(LIST, event, key);
}

/// The events of a pop (Redis's listElementsRemoved): `lpop` or `rpop`,
/// then `del` if that emptied the list.
pub(crate) fn popped(ctx: &mut Ctx, key: &[u8], side: Side) {
    let event = match side {
        Side::Left => "lpop",
        Side::Right => "rpop",
    };
    ctx.notify(LIST, event, key);
    ctx.deleted_if_gone(key);
}

fn lpush(ctx: &mut Ctx) -> CommandResult {
    push_generic(ctx, Side::Left, false)
}

fn rpush(ctx: &mut Ctx) -> CommandResult {
    push_generic(ctx, Side::Right, false)
}

fn lpushx(ctx: &mut Ctx) -> CommandResult {
    push_generic(ctx, Side::Left, true)
}

fn rpushx(ctx: &mut Ctx) -> CommandResult {
    push_generic(ctx, Side::Right, true)
}

fn pop_generic(ctx: &mut Ctx, side: Side) -> CommandResult {
    if ctx.argv.len() > 3 {
        return Err(errors::arity(if side == Side::Left {
            "lpop"
        } else {
            "rpop"
        }));
    }
    let count = if ctx.argv.len() == 3 {
        Some(positive_arg(ctx, 2)?)
    } else {
        None
    };
    let key = ctx.arg(1).to_vec();
    if ctx.list(&key)?.is_none() {
        return Ok(if count.is_some() {
            Reply::NilArray
        } else {
            Reply::Nil
        });
    }
    let db = ctx.db();
    let reply = match count {
        None => Reply::bulk_or_nil(ctx.ks().list_pop(db, &key, side, 1).pop()),
        Some(0) => return Ok(Reply::Array(vec![])),
        Some(n) => Reply::bulks(ctx.ks().list_pop(db, &key, side, n as usize)),
    };
    popped(ctx, &key, side);
    Ok(reply)
}

fn lpop(ctx: &mut Ctx) -> CommandResult {
    pop_generic(ctx, Side::Left)
}

fn rpop(ctx: &mut Ctx) -> CommandResult {
    pop_generic(ctx, Side::Right)
}

fn lrange(ctx: &mut Ctx) -> CommandResult {
    let (start, end) = (int_arg(ctx, 2)?, int_arg(ctx, 3)?);
    let key = ctx.arg(1).to_vec();
    let Some(list) = ctx.list(&key)? else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(match normalize_range(start, end, list.len()) {
        Some((s, e)) => Reply::bulks(list.range(s..=e)),
        None => Reply::Array(vec![]),
    })
}

fn llen(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.list(&key)?.map(|l| l.len()).unwrap_or(0) as i64
    ))
}

/// A list index (negative from the end) resolved against a length.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

fn lindex(ctx: &mut Ctx) -> CommandResult {
    // Redis looks the key up before it parses the index.
    let key = ctx.arg(1).to_vec();
    if ctx.list(&key)?.is_none() {
        return Ok(Reply::Nil);
    }
    let index = int_arg(ctx, 2)?;
    let Some(list) = ctx.list(&key)? else {
        return Ok(Reply::Nil);
    };
    Ok(Reply::bulk_or_nil(
        resolve_index(index, list.len()).map(|i| &list[i]),
    ))
}

fn lset(ctx: &mut Ctx) -> CommandResult {
    // Redis looks the key up before it parses the index.
    let (key, item) = (ctx.arg(1).to_vec(), ctx.arg(3).to_vec());
    if ctx.list(&key)?.is_none() {
        return Err(err(errors::NO_SUCH_KEY));
    }
    let index = int_arg(ctx, 2)?;
    let Some(list) = ctx.list(&key)? else {
        return Err(err(errors::NO_SUCH_KEY));
    };
    let i = resolve_index(index, list.len()).ok_or_else(|| err(errors::INDEX_OUT_OF_RANGE))?;
    let db = ctx.db();
    ctx.ks().list_set(db, &key, i, item);
    ctx.notify(LIST, "lset", &key);
    Ok(Reply::ok())
}

fn lrem(ctx: &mut Ctx) -> CommandResult {
    let count = int_arg(ctx, 2)?;
    let (key, item) = (ctx.arg(1).to_vec(), ctx.arg(3).to_vec());
    let Some(list) = ctx.list(&key)? else {
        return Ok(Reply::Int(0));
    };
    let mut kept: VecDeque<Bytes> = VecDeque::with_capacity(list.len());
    let limit = if count == 0 {
        usize::MAX
    } else {
        count.unsigned_abs() as usize
    };
    let mut removed = 0usize;
    if count >= 0 {
        for e in list.iter() {
            if removed < limit && *e == item {
                removed += 1;
            } else {
                kept.push_back(e.clone());
            }
        }
    } else {
        for e in list.iter().rev() {
            if removed < limit && *e == item {
                removed += 1;
            } else {
                kept.push_front(e.clone());
            }
        }
    }
    if removed > 0 {
        let db = ctx.db();
        ctx.ks().list_replace(db, &key, kept);
        ctx.notify(LIST, "lrem", &key);
        ctx.deleted_if_gone(&key);
    }
    Ok(Reply::Int(removed as i64))
}

fn linsert(ctx: &mut Ctx) -> CommandResult {
    let after = if eq(ctx.arg(2), "after") {
        true
    } else if eq(ctx.arg(2), "before") {
        false
    } else {
        return Err(err(errors::SYNTAX));
    };
    let (key, pivot, item) = (
        ctx.arg(1).to_vec(),
        ctx.arg(3).to_vec(),
        ctx.arg(4).to_vec(),
    );
    let Some(list) = ctx.list(&key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(at) = list.iter().position(|e| *e == pivot) else {
        return Ok(Reply::Int(-1));
    };
    let mut list = list.clone();
    list.insert(if after { at + 1 } else { at }, item);
    let len = list.len();
    let db = ctx.db();
    ctx.ks().list_replace(db, &key, list);
    ctx.notify(LIST, "linsert", &key);
    Ok(Reply::Int(len as i64))
}

fn ltrim(ctx: &mut Ctx) -> CommandResult {
    let (mut start, mut end) = (int_arg(ctx, 2)?, int_arg(ctx, 3)?);
    let key = ctx.arg(1).to_vec();
    let Some(list) = ctx.list(&key)? else {
        return Ok(Reply::ok());
    };
    let len = list.len() as i64;
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    let (left, right) = if start > end || start >= len {
        (len, 0)
    } else {
        if end >= len {
            end = len - 1;
        }
        (start, len - end - 1)
    };
    let db = ctx.db();
    // Trimming is two pops, so the recorded change stays small.
    if left > 0 {
        ctx.ks().list_pop(db, &key, Side::Left, left as usize);
    }
    if right > 0 {
        ctx.ks().list_pop(db, &key, Side::Right, right as usize);
    }
    if left == 0 && right == 0 {
        // Redis signals the key even when nothing was trimmed.
        ctx.ks().touch(db, &key);
    }
    ctx.notify(LIST, "ltrim", &key);
    ctx.deleted_if_gone(&key);
    Ok(Reply::ok())
}

fn lpos(ctx: &mut Ctx) -> CommandResult {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut i = 3;
    while i < ctx.argv.len() {
        let has_value = i + 1 < ctx.argv.len();
        if eq(ctx.arg(i), "rank") && has_value {
            rank = int_arg(ctx, i + 1)?;
            if rank == 0 {
                return Err(err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if eq(ctx.arg(i), "count") && has_value {
            count = Some(positive_or(ctx, i + 1, "ERR COUNT can't be negative")?);
        } else if eq(ctx.arg(i), "maxlen") && has_value {
            maxlen = positive_or(ctx, i + 1, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(err(errors::SYNTAX));
        }
        i += 2;
    }
    let (key, item) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let Some(list) = ctx.list(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Nil
        });
    };
    let len = list.len();
    let wanted = match count {
        Some(0) => usize::MAX,
        // RANK -9223372036854775808 is negated in C with no effect: every
        // match then counts, and `matches - rank + 1 >= count` never holds.
        Some(_) if rank == i64::MIN => usize::MAX,
        Some(n) => n as usize,
        None => 1,
    };
    let limit = if maxlen == 0 {
        len
    } else {
        (maxlen as usize).min(len)
    };
    let mut skip = if rank == i64::MIN {
        0
    } else {
        rank.unsigned_abs().saturating_sub(1)
    };
    let mut found = Vec::new();
    let order: Box<dyn Iterator<Item = usize>> = if rank > 0 {
        Box::new(0..len)
    } else {
        Box::new((0..len).rev())
    };
    for idx in order.take(limit) {
        if list[idx] == item {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            found.push(idx as i64);
            if found.len() >= wanted {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(Reply::Int).collect()),
        None => found.first().map(|i| Reply::Int(*i)).unwrap_or(Reply::Nil),
    })
}

fn side_arg(arg: &[u8]) -> Result<Side, Reply> {
    if eq(arg, "left") {
        Ok(Side::Left)
    } else if eq(arg, "right") {
        Ok(Side::Right)
    } else {
        Err(err(errors::SYNTAX))
    }
}

/// Pops from `src` and pushes on `dst`; None when `src` is empty.
fn move_one(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from: Side,
    to: Side,
) -> Result<Option<Bytes>, Reply> {
    if ctx.list(src)?.is_none() {
        return Ok(None);
    }
    ctx.expect_kind(dst, Kind::List)?;
    let db = ctx.db();
    if src == dst {
        // Rotating one list: push the element first, then pop it, so the
        // list never empties on the way (Redis keeps the key and its TTL).
        let list = ctx.list(src)?.expect("checked above");
        let item = match from {
            Side::Left => list.front().cloned(),
            Side::Right => list.back().cloned(),
        };
        let Some(item) = item else { return Ok(None) };
        ctx.ks().list_push(db, dst, to, vec![item.clone()]);
        ctx.ks().list_pop(db, src, from, 1);
        pushed(ctx, dst, to);
        popped(ctx, src, from);
        return Ok(Some(item));
    }
    let Some(item) = ctx.ks().list_pop(db, src, from, 1).pop() else {
        return Ok(None);
    };
    ctx.ks().list_push(db, dst, to, vec![item.clone()]);
    // Redis pushes on the destination before it reports the pop.
    pushed(ctx, dst, to);
    popped(ctx, src, from);
    Ok(Some(item))
}

fn rpoplpush(ctx: &mut Ctx) -> CommandResult {
    let (src, dst) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::bulk_or_nil(move_one(
        ctx,
        &src,
        &dst,
        Side::Right,
        Side::Left,
    )?))
}

fn lmove(ctx: &mut Ctx) -> CommandResult {
    let (from, to) = (side_arg(ctx.arg(3))?, side_arg(ctx.arg(4))?);
    let (src, dst) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::bulk_or_nil(move_one(ctx, &src, &dst, from, to)?))
}

/// numkeys, keys, side and COUNT of LMPOP / ZMPOP and their blocking forms,
/// starting at argument `at`.
pub(crate) fn mpop_args<T>(
    ctx: &Ctx,
    at: usize,
    side: fn(&[u8]) -> Result<T, Reply>,
) -> Result<(Vec<Bytes>, T, i64), Reply> {
    let numkeys = int_arg(ctx, at)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| err(errors::NUMKEYS_ZERO))?;
    let first = at + 1;
    if numkeys as usize >= ctx.argv.len() - first {
        return Err(err(errors::SYNTAX));
    }
    let keys = ctx.argv[first..first + numkeys as usize].to_vec();
    let mut i = first + numkeys as usize;
    let where_ = side(ctx.arg(i))?;
    i += 1;
    let mut count = None;
    while i < ctx.argv.len() {
        if eq(ctx.arg(i), "count") && i + 1 < ctx.argv.len() && count.is_none() {
            let n = int_arg(ctx, i + 1)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| err("ERR count should be greater than 0"))?;
            count = Some(n);
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    Ok((keys, where_, count.unwrap_or(1)))
}

/// Pops up to `count` from the first non-empty list: `[key, [items]]`.
fn mpop_lists(
    ctx: &mut Ctx,
    keys: &[Bytes],
    side: Side,
    count: i64,
) -> Result<Option<Reply>, Reply> {
    let db = ctx.db();
    for key in keys {
        if ctx.list(key)?.is_some() {
            let items = ctx.ks().list_pop(db, key, side, count as usize);
            popped(ctx, key, side);
            // Replicas get LPOP/RPOP key n (n: what was popped).
            let pop = side_name(side, "LPOP", "RPOP");
            ctx.propagate_as([pop.as_bytes(), key, items.len().to_string().as_bytes()]);
            return Ok(Some(Reply::Array(vec![
                Reply::bulk(key),
                Reply::bulks(items),
            ])));
        }
    }
    Ok(None)
}

fn lmpop(ctx: &mut Ctx) -> CommandResult {
    let (keys, side, count) = mpop_args(ctx, 1, side_arg)?;
    Ok(mpop_lists(ctx, &keys, side, count)?.unwrap_or(Reply::NilArray))
}

/// Blocks the client on `keys` if it may wait; otherwise answers `timeout_reply`.
pub(crate) fn block_or(
    ctx: &mut Ctx,
    keys: Vec<Bytes>,
    deadline: Option<i64>,
    timeout_reply: Reply,
) -> CommandResult {
    block_or_answer(ctx, keys, deadline, timeout_reply.clone(), timeout_reply)
}

/// As `block_or`, where the answer when the client may not wait (in MULTI,
/// in a script) is not the one it gets at its timeout.
fn block_or_answer(
    ctx: &mut Ctx,
    keys: Vec<Bytes>,
    deadline: Option<i64>,
    now: Reply,
    timeout_reply: Reply,
) -> CommandResult {
    if ctx.may_block() {
        ctx.block = Some(Box::new(Blocked {
            keys,
            db: ctx.db(),
            deadline,
            timeout_reply,
            argv: ctx.argv.to_vec(),
            stream: None,
            postponed: false,
        }));
    }
    Ok(now)
}

fn bpop_generic(ctx: &mut Ctx, side: Side) -> CommandResult {
    let last = ctx.argv.len() - 1;
    let deadline = timeout_arg(ctx, last)?;
    let keys: Vec<Bytes> = ctx.argv[1..last].to_vec();
    let db = ctx.db();
    for key in &keys {
        if ctx.list(key)?.is_some() {
            let item = ctx
                .ks()
                .list_pop(db, key, side, 1)
                .pop()
                .expect("non-empty list");
            popped(ctx, key, side);
            ctx.propagate_as([side_name(side, "LPOP", "RPOP").as_bytes(), key]);
            return Ok(Reply::bulks([key.clone(), item]));
        }
    }
    block_or(ctx, keys, deadline, Reply::NilArray)
}

fn blpop(ctx: &mut Ctx) -> CommandResult {
    bpop_generic(ctx, Side::Left)
}

fn brpop(ctx: &mut Ctx) -> CommandResult {
    bpop_generic(ctx, Side::Right)
}

fn blmove_generic(ctx: &mut Ctx, from: Side, to: Side, timeout_at: usize) -> CommandResult {
    let deadline = timeout_arg(ctx, timeout_at)?;
    let (src, dst) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    match move_one(ctx, &src, &dst, from, to)? {
        Some(item) => {
            // Replicas get the command that does not block.
            if timeout_at == 3 {
                ctx.propagate_as([&b"RPOPLPUSH"[..], &src, &dst]);
            } else {
                let (a, b) = (
                    side_name(from, "LEFT", "RIGHT"),
                    side_name(to, "LEFT", "RIGHT"),
                );
                ctx.propagate_as([&b"LMOVE"[..], &src, &dst, a.as_bytes(), b.as_bytes()]);
            }
            Ok(Reply::Bulk(item))
        }
        // A null at once (t_list.c), a null array at the timeout, as every
        // blocked list command gets (blocked.c's replyToBlockedClientTimedOut).
        None => block_or_answer(ctx, vec![src], deadline, Reply::Nil, Reply::NilArray),
    }
}

fn brpoplpush(ctx: &mut Ctx) -> CommandResult {
    blmove_generic(ctx, Side::Right, Side::Left, 3)
}

fn blmove(ctx: &mut Ctx) -> CommandResult {
    let (from, to) = (side_arg(ctx.arg(3))?, side_arg(ctx.arg(4))?);
    blmove_generic(ctx, from, to, 5)
}

fn blmpop(ctx: &mut Ctx) -> CommandResult {
    let deadline = timeout_arg(ctx, 1)?;
    let (keys, side, count) = mpop_args(ctx, 2, side_arg)?;
    match mpop_lists(ctx, &keys, side, count)? {
        Some(reply) => Ok(reply),
        None => block_or(ctx, keys, deadline, Reply::NilArray),
    }
}
