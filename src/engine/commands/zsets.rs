//! Sorted-set commands, blocking forms included.

use crate::engine::errors::{self, err};
use crate::engine::notify::ZSET;
use crate::engine::numbers::{format_double, parse_f64, strtod};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Value, ZSet};
use crate::engine::{CommandResult, Ctx, Reply};

use super::keys::{parse_cursor, scan_matches, scan_options};
use super::lists::{block_or, mpop_args};
use super::{eq, float_arg, int_arg, normalize_range, positive_arg, positive_or, timeout_arg};

const KEY1: (i32, i32, i32) = (1, 1, 1);
const KEY12: (i32, i32, i32) = (1, 2, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, KEY1, zadd),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, KEY1, zincrby),
    CommandSpec::new("zscore", 3, READONLY | FAST, KEY1, zscore),
    CommandSpec::new("zmscore", -3, READONLY | FAST, KEY1, zmscore),
    CommandSpec::new("zcard", 2, READONLY | FAST, KEY1, zcard),
    CommandSpec::new("zcount", 4, READONLY | FAST, KEY1, zcount),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, KEY1, zlexcount),
    CommandSpec::new("zrank", 3, READONLY | FAST, KEY1, zrank),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, KEY1, zrevrank),
    CommandSpec::new("zrem", -3, WRITE | FAST, KEY1, zrem),
    CommandSpec::new("zrange", -4, READONLY, KEY1, zrange),
    CommandSpec::new("zrangebyscore", -4, READONLY, KEY1, zrangebyscore),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, KEY1, zrevrangebyscore),
    CommandSpec::new("zrevrange", -4, READONLY, KEY1, zrevrange),
    CommandSpec::new("zrangebylex", -4, READONLY, KEY1, zrangebylex),
    CommandSpec::new("zrevrangebylex", -4, READONLY, KEY1, zrevrangebylex),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, KEY12, zrangestore),
    CommandSpec::new("zremrangebyrank", 4, WRITE, KEY1, zremrangebyrank),
    CommandSpec::new("zremrangebyscore", 4, WRITE, KEY1, zremrangebyscore),
    CommandSpec::new("zremrangebylex", 4, WRITE, KEY1, zremrangebylex),
    CommandSpec::new("zunion", -3, READONLY, NOKEYS, zunion),
    CommandSpec::new("zinter", -3, READONLY, NOKEYS, zinter),
    CommandSpec::new("zdiff", -3, READONLY, NOKEYS, zdiff),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM, KEY1, zunionstore),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM, KEY1, zinterstore),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM, KEY1, zdiffstore),
    CommandSpec::new("zintercard", -3, READONLY, NOKEYS, zintercard),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, KEY1, zpopmin),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, KEY1, zpopmax),
    CommandSpec::new(
        "bzpopmin",
        -3,
        WRITE | FAST | BLOCKING | NOSCRIPT,
        (1, -2, 1),
        bzpopmin,
    ),
    CommandSpec::new(
        "bzpopmax",
        -3,
        WRITE | FAST | BLOCKING | NOSCRIPT,
        (1, -2, 1),
        bzpopmax,
    ),
    CommandSpec::new("zmpop", -4, WRITE, NOKEYS, zmpop),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, NOKEYS, bzmpop),
    CommandSpec::new("zrandmember", -2, READONLY, KEY1, zrandmember),
    CommandSpec::new("zscan", -3, READONLY, KEY1, zscan),
];

/// A score: a bulk string in RESP2, a double in RESP3.
fn score_reply(score: f64, resp3: bool) -> Reply {
    if resp3 {
        Reply::Double(score)
    } else {
        Reply::bulk(format_double(score))
    }
}

// ---- ZADD / ZINCRBY ------------------------------------------------------------

fn zadd_generic(ctx: &mut Ctx, incr_only: bool) -> CommandResult {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, incr_only);
    let mut idx = 2;
    if !incr_only {
        while idx < ctx.argv.len() {
            match ctx.arg(idx).to_ascii_lowercase().as_slice() {
                b"nx" => nx = true,
                b"xx" => xx = true,
                b"gt" => gt = true,
                b"lt" => lt = true,
                b"ch" => ch = true,
                b"incr" => incr = true,
                _ => break,
            }
            idx += 1;
        }
    }
    let elements = ctx.argv.len() - idx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return Err(err(errors::SYNTAX));
    }
    if xx && nx {
        return Err(err(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 2 {
        return Err(err(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs: Vec<(f64, Bytes)> = Vec::with_capacity(elements / 2);
    for j in (idx..ctx.argv.len()).step_by(2) {
        pairs.push((float_arg(ctx, j)?, ctx.argv[j + 1].clone()));
    }
    let key = ctx.arg(1).to_vec();
    let exists = ctx.zset(&key)?.is_some();
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last_score = 0.0;
    if exists || !xx {
        let db = ctx.db();
        for (mut score, member) in pairs {
            let current = ctx.zset(&key)?.and_then(|z| z.score(&member));
            match current {
                Some(cur) => {
                    if nx {
                        continue;
                    }
                    if incr {
                        score += cur;
                        if score.is_nan() {
                            return Err(err(errors::SCORE_NAN));
                        }
                    }
                    if (lt && score >= cur) || (gt && score <= cur) {
                        continue;
                    }
                    if score != cur {
                        ctx.ks().zset_add(db, &key, &member, score);
                        updated += 1;
                    }
                }
                None => {
                    if xx {
                        continue;
                    }
                    ctx.ks().zset_add(db, &key, &member, score);
                    added += 1;
                }
            }
            processed += 1;
            // The reply is the computed score, before a listpack stores it
            // (a new member at -0 answers "-0").
            last_score = score;
        }
    }
    if added > 0 || updated > 0 {
        ctx.notify(ZSET, if incr { "zincr" } else { "zadd" }, &key);
    }
    if incr {
        return Ok(if processed > 0 {
            score_reply(last_score, ctx.resp3())
        } else {
            Reply::Nil
        });
    }
    Ok(Reply::Int(if ch { added + updated } else { added }))
}

pub(crate) fn zadd(ctx: &mut Ctx) -> CommandResult {
    zadd_generic(ctx, false)
}

fn zincrby(ctx: &mut Ctx) -> CommandResult {
    zadd_generic(ctx, true)
}

fn zscore(ctx: &mut Ctx) -> CommandResult {
    let (key, member) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let resp3 = ctx.resp3();
    Ok(ctx
        .zset(&key)?
        .and_then(|z| z.score(&member))
        .map(|s| score_reply(s, resp3))
        .unwrap_or(Reply::Nil))
}

fn zmscore(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let members = ctx.argv[2..].to_vec();
    let resp3 = ctx.resp3();
    let z = ctx.zset(&key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| {
                z.and_then(|z| z.score(m))
                    .map(|s| score_reply(s, resp3))
                    .unwrap_or(Reply::Nil)
            })
            .collect(),
    ))
}

fn zcard(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.zset(&key)?.map(|z| z.len()).unwrap_or(0) as i64
    ))
}

fn zrank_generic(ctx: &mut Ctx, reverse: bool) -> CommandResult {
    let (key, member) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    let Some(z) = ctx.zset(&key)? else {
        return Ok(Reply::Nil);
    };
    Ok(match z.rank(&member) {
        Some(r) => Reply::Int(if reverse { z.len() - 1 - r } else { r } as i64),
        None => Reply::Nil,
    })
}

fn zrank(ctx: &mut Ctx) -> CommandResult {
    zrank_generic(ctx, false)
}

fn zrevrank(ctx: &mut Ctx) -> CommandResult {
    zrank_generic(ctx, true)
}

fn zrem(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    if ctx.zset(&key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let db = ctx.db();
    let mut removed = 0;
    for i in 2..ctx.argv.len() {
        let member = ctx.argv[i].clone();
        if ctx.ks().zset_remove(db, &key, &member) {
            removed += 1;
        }
    }
    if removed > 0 {
        ctx.notify(ZSET, "zrem", &key);
        ctx.deleted_if_gone(&key);
    }
    Ok(Reply::Int(removed))
}

// ---- ranges --------------------------------------------------------------------

#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    max: f64,
    min_ex: bool,
    max_ex: bool,
}

impl ScoreRange {
    fn gte_min(&self, s: f64) -> bool {
        if self.min_ex {
            s > self.min
        } else {
            s >= self.min
        }
    }
    fn lte_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }
}

/// zslParseRange: `(` marks an exclusive bound; strtod must use it all.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.first() {
        Some(b'(') => (&arg[1..], true),
        _ => (arg, false),
    };
    let (value, consumed, _) = strtod(text);
    let whole = consumed == text.iter().position(|&b| b == 0).unwrap_or(text.len());
    (whole && !value.is_nan()).then_some((value, exclusive))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reply> {
    let bad = || err(errors::MIN_MAX_NOT_FLOAT);
    let (min, min_ex) = parse_score_bound(min).ok_or_else(bad)?;
    let (max, max_ex) = parse_score_bound(max).ok_or_else(bad)?;
    Ok(ScoreRange {
        min,
        max,
        min_ex,
        max_ex,
    })
}

#[derive(Clone)]
enum LexBound {
    Min,
    Max,
    Inclusive(Bytes),
    Exclusive(Bytes),
}

#[derive(Clone)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

fn parse_lex_bound(arg: &[u8]) -> Option<LexBound> {
    match arg.first() {
        Some(b'+') if arg.len() == 1 => Some(LexBound::Max),
        Some(b'-') if arg.len() == 1 => Some(LexBound::Min),
        Some(b'(') => Some(LexBound::Exclusive(arg[1..].to_vec())),
        Some(b'[') => Some(LexBound::Inclusive(arg[1..].to_vec())),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, Reply> {
    let bad = || err(errors::MIN_MAX_NOT_LEX);
    Ok(LexRange {
        min: parse_lex_bound(min).ok_or_else(bad)?,
        max: parse_lex_bound(max).ok_or_else(bad)?,
    })
}

impl LexRange {
    fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Inclusive(v) => m >= v.as_slice(),
            LexBound::Exclusive(v) => m > v.as_slice(),
        }
    }
    fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Inclusive(v) => m <= v.as_slice(),
            LexBound::Exclusive(v) => m < v.as_slice(),
        }
    }
    /// zslIsInLexRange's first test: a range that is always empty (`min`
    /// past `max` as sdscmplex orders them, or equal with an exclusive end;
    /// `-` and `+` count as exclusive).
    fn always_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        use LexBound::*;
        let cmp = match (&self.min, &self.max) {
            (Min, Min) | (Max, Max) => Equal,
            (Min, _) | (_, Max) => Less,
            (Max, _) | (_, Min) => Greater,
            (Inclusive(a) | Exclusive(a), Inclusive(b) | Exclusive(b)) => a.cmp(b),
        };
        let exclusive = |b: &LexBound| !matches!(b, Inclusive(_));
        cmp == Greater || (cmp == Equal && (exclusive(&self.min) || exclusive(&self.max)))
    }
}

enum RangeKind {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

/// Members (with scores) selected by a range, in reply order. Score and lex
/// ranges follow Redis's listpack code, which assumes members sorted by
/// both (true when all scores are equal, as lex commands require, and not
/// otherwise): nothing when the range is always empty, the last member is
/// below the min or the first above the max (zzlIsInLexRange); else from
/// the first member past the min (the max, walking down), skip `offset`
/// members unchecked, then take members while they are within the other
/// bound.
fn select(
    z: &ZSet,
    range: &RangeKind,
    reverse: bool,
    offset: i64,
    limit: i64,
) -> Vec<(Bytes, f64)> {
    let items: Vec<(&Bytes, f64)> = if reverse {
        z.iter().rev().collect()
    } else {
        z.iter().collect()
    };
    match range {
        RangeKind::Rank(start, end) => match normalize_range(*start, *end, items.len()) {
            Some((s, e)) => items[s..=e]
                .iter()
                .map(|(m, sc)| ((*m).clone(), *sc))
                .collect(),
            None => Vec::new(),
        },
        RangeKind::Score(r) => {
            // Walking down, the max bound is where the run starts.
            let enter = |s: f64| if reverse { r.lte_max(s) } else { r.gte_min(s) };
            let stay = |s: f64| if reverse { r.gte_min(s) } else { r.lte_max(s) };
            scan_range(&items, |(_, s)| enter(*s), |(_, s)| stay(*s), offset, limit)
        }
        RangeKind::Lex(r) => {
            let in_range = !r.always_empty()
                && z.iter().next_back().is_some_and(|(m, _)| r.gte_min(m))
                && z.iter().next().is_some_and(|(m, _)| r.lte_max(m));
            if !in_range {
                return Vec::new();
            }
            let enter = |m: &[u8]| if reverse { r.lte_max(m) } else { r.gte_min(m) };
            let stay = |m: &[u8]| if reverse { r.gte_min(m) } else { r.lte_max(m) };
            scan_range(&items, |(m, _)| enter(m), |(m, _)| stay(m), offset, limit)
        }
    }
}

fn scan_range(
    items: &[(&Bytes, f64)],
    enter: impl Fn(&(&Bytes, f64)) -> bool,
    stay: impl Fn(&(&Bytes, f64)) -> bool,
    offset: i64,
    limit: i64,
) -> Vec<(Bytes, f64)> {
    let Some(first) = items.iter().position(enter) else {
        return Vec::new();
    };
    // zzlFirstInLexRange: the first member past one bound must be within
    // the other, or the range is empty.
    if offset < 0 || !stay(&items[first]) {
        return Vec::new();
    }
    let limit = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    // The offset is skipped without looking at the members (Redis's
    // `while (eptr && offset--) zzlNext(...)`), then the bound is checked.
    items[first..]
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take_while(|i| stay(i))
        .take(limit)
        .map(|(m, s)| ((*m).clone(), *s))
        .collect()
}

/// Members, with their scores if asked: flat in RESP2, pairs in RESP3.
fn with_scores(items: Vec<(Bytes, f64)>, scores: bool, resp3: bool) -> Reply {
    if scores && resp3 {
        return Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        );
    }
    let mut out = Vec::with_capacity(items.len() * if scores { 2 } else { 1 });
    for (m, s) in items {
        out.push(Reply::Bulk(m));
        if scores {
            out.push(score_reply(s, false));
        }
    }
    Reply::Array(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Preset {
    Auto,
    Rank,
    Score,
    Lex,
}

/// zrangeGenericCommand: `at` is the index of the key's first argument
/// (min/start follows the key); `store` the destination for ZRANGESTORE.
fn zrange_generic(
    ctx: &mut Ctx,
    key_at: usize,
    store: Option<Bytes>,
    preset: Preset,
    preset_reverse: bool,
) -> CommandResult {
    let (mut reverse, mut kind, mut withscores) = (preset_reverse, preset, false);
    let reverse_fixed = preset != Preset::Auto;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut limit_given = false;
    let mut j = key_at + 3;
    while j < ctx.argv.len() {
        let left = ctx.argv.len() - j - 1;
        let a = ctx.arg(j).to_ascii_lowercase();
        match a.as_slice() {
            b"withscores" if store.is_none() => withscores = true,
            b"limit" if left >= 2 => {
                offset = int_arg(ctx, j + 1)?;
                limit = int_arg(ctx, j + 2)?;
                limit_given = true;
                j += 2;
            }
            b"rev" if !reverse_fixed && !reverse => reverse = true,
            b"bylex" if kind == Preset::Auto => kind = Preset::Lex,
            b"byscore" if kind == Preset::Auto => kind = Preset::Score,
            _ => return Err(err(errors::SYNTAX)),
        }
        j += 1;
    }
    if kind == Preset::Auto {
        kind = Preset::Rank;
    }
    if limit_given && kind == Preset::Rank {
        return Err(err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Preset::Lex {
        return Err(err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min_at, mut max_at) = (key_at + 1, key_at + 2);
    if reverse && kind != Preset::Rank {
        std::mem::swap(&mut min_at, &mut max_at);
    }
    let range = match kind {
        Preset::Score => RangeKind::Score(parse_score_range(ctx.arg(min_at), ctx.arg(max_at))?),
        Preset::Lex => RangeKind::Lex(parse_lex_range(ctx.arg(min_at), ctx.arg(max_at))?),
        _ => RangeKind::Rank(int_arg(ctx, min_at)?, int_arg(ctx, max_at)?),
    };
    let key = ctx.arg(key_at).to_vec();
    // lookupKeyRead, ZRANGESTORE's source too.
    let items = match ctx.lookup_read(&key).map(|e| &e.value) {
        Some(Value::ZSet(z)) => select(z, &range, reverse, offset, limit),
        Some(_) => return Err(err(errors::WRONGTYPE)),
        None => Vec::new(),
    };
    match store {
        Some(dst) => store_zset(ctx, &dst, items, "zrangestore"),
        None => Ok(with_scores(items, withscores, ctx.resp3())),
    }
}

fn zrange(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Auto, false)
}

fn zrangebyscore(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Score, false)
}

fn zrevrangebyscore(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Score, true)
}

fn zrevrange(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Rank, true)
}

fn zrangebylex(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Lex, false)
}

fn zrevrangebylex(ctx: &mut Ctx) -> CommandResult {
    zrange_generic(ctx, 1, None, Preset::Lex, true)
}

fn zrangestore(ctx: &mut Ctx) -> CommandResult {
    let dst = ctx.arg(1).to_vec();
    zrange_generic(ctx, 2, Some(dst), Preset::Auto, false)
}

/// A sorted set built member by member, as ZADD would build it.
fn build_zset(
    items: impl IntoIterator<Item = (Bytes, f64)>,
    limits: &crate::engine::value::Limits,
) -> ZSet {
    let mut z = ZSet::default();
    for (m, s) in items {
        if z.score(&m).is_none() && z.needs_conversion(&m, limits) {
            z.listpack = false;
        }
        z.insert(m, s);
    }
    z
}

/// Stores a computed sorted set at `dst` (deleting it when empty), with
/// the command's event.
pub(crate) fn store_zset(
    ctx: &mut Ctx,
    dst: &[u8],
    items: Vec<(Bytes, f64)>,
    event: &'static str,
) -> CommandResult {
    let limits = ctx.engine.keyspace.limits;
    let z = build_zset(items, &limits);
    let len = z.len();
    if len == 0 {
        ctx.delete_key(dst);
    } else {
        ctx.set_key(dst, Value::ZSet(Box::new(z)));
        ctx.notify(ZSET, event, dst);
    }
    Ok(Reply::Int(len as i64))
}

fn zcount(ctx: &mut Ctx) -> CommandResult {
    let range = parse_score_range(ctx.arg(2), ctx.arg(3))?;
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.zset(&key)?
            .map(|z| select(z, &RangeKind::Score(range), false, 0, -1).len())
            .unwrap_or(0) as i64,
    ))
}

fn zlexcount(ctx: &mut Ctx) -> CommandResult {
    let range = parse_lex_range(ctx.arg(2), ctx.arg(3))?;
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(
        ctx.zset(&key)?
            .map(|z| select(z, &RangeKind::Lex(range), false, 0, -1).len())
            .unwrap_or(0) as i64,
    ))
}

fn zremrange_generic(ctx: &mut Ctx, range: RangeKind) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let Some(z) = ctx.zset(&key)? else {
        return Ok(Reply::Int(0));
    };
    let doomed = select(z, &range, false, 0, -1);
    let db = ctx.db();
    for (m, _) in &doomed {
        ctx.ks().zset_remove(db, &key, m);
    }
    if !doomed.is_empty() {
        let event = match range {
            RangeKind::Rank(..) => "zremrangebyrank",
            RangeKind::Score(_) => "zremrangebyscore",
            RangeKind::Lex(_) => "zremrangebylex",
        };
        ctx.notify(ZSET, event, &key);
        ctx.deleted_if_gone(&key);
    }
    Ok(Reply::Int(doomed.len() as i64))
}

fn zremrangebyrank(ctx: &mut Ctx) -> CommandResult {
    let range = RangeKind::Rank(int_arg(ctx, 2)?, int_arg(ctx, 3)?);
    zremrange_generic(ctx, range)
}

fn zremrangebyscore(ctx: &mut Ctx) -> CommandResult {
    let range = RangeKind::Score(parse_score_range(ctx.arg(2), ctx.arg(3))?);
    zremrange_generic(ctx, range)
}

fn zremrangebylex(ctx: &mut Ctx) -> CommandResult {
    let range = RangeKind::Lex(parse_lex_range(ctx.arg(2), ctx.arg(3))?);
    zremrange_generic(ctx, range)
}

// ---- set operations ------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

fn aggregate(how: Aggregate, a: f64, b: f64) -> f64 {
    match how {
        Aggregate::Sum => {
            let s = a + b;
            if s.is_nan() {
                0.0
            } else {
                s
            }
        }
        // C's comparisons, so that -0 against 0 keeps the one Redis keeps.
        Aggregate::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        Aggregate::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
    }
}

/// zunionInterDiffGenericCommand. `numkeys_at` is where numkeys stands.
fn zsetop(
    ctx: &mut Ctx,
    op: SetOp,
    numkeys_at: usize,
    dst: Option<Bytes>,
    name: &str,
) -> CommandResult {
    let setnum = int_arg(ctx, numkeys_at)?;
    if setnum < 1 {
        return Err(Reply::error(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if setnum as usize > ctx.argv.len() - numkeys_at - 1 {
        return Err(err(errors::SYNTAX));
    }
    let first = numkeys_at + 1;
    let keys: Vec<Bytes> = ctx.argv[first..first + setnum as usize].to_vec();
    let mut inputs: Vec<Option<Vec<(Bytes, f64)>>> = Vec::with_capacity(keys.len());
    for key in &keys {
        inputs.push(match ctx.lookup_read(key).map(|e| &e.value) {
            None => None,
            Some(Value::ZSet(z)) => Some(z.iter().map(|(m, s)| (m.clone(), s)).collect()),
            Some(Value::Set(s)) => Some(s.members.iter().map(|m| (m.clone(), 1.0)).collect()),
            Some(_) => return Err(err(errors::WRONGTYPE)),
        });
    }
    let mut weights = vec![1.0; keys.len()];
    let mut how = Aggregate::Sum;
    let mut withscores = false;
    let mut j = first + setnum as usize;
    while j < ctx.argv.len() {
        let remaining = ctx.argv.len() - j;
        if op != SetOp::Diff && remaining > keys.len() && eq(ctx.arg(j), "weights") {
            j += 1;
            for w in weights.iter_mut() {
                *w = parse_f64(ctx.arg(j)).ok_or_else(|| err("ERR weight value is not a float"))?;
                j += 1;
            }
        } else if op != SetOp::Diff && remaining >= 2 && eq(ctx.arg(j), "aggregate") {
            how = match ctx.arg(j + 1).to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => return Err(err(errors::SYNTAX)),
            };
            j += 2;
        } else if dst.is_none() && eq(ctx.arg(j), "withscores") {
            withscores = true;
            j += 1;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    // Redis sorts the inputs from the smallest to the largest (qsort by
    // cardinality, weights travelling with their sets) before it
    // aggregates: the order decides which of -0 and 0 MIN/MAX keep and how
    // a SUM rounds.
    let (inputs, weights): (Vec<_>, Vec<f64>) = if op == SetOp::Diff {
        (inputs, weights)
    } else {
        let mut pairs: Vec<_> = inputs.into_iter().zip(weights).collect();
        pairs.sort_by_key(|(input, _)| input.as_ref().map_or(0, |i| i.len()));
        pairs.into_iter().unzip()
    };
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result: indexmap::IndexMap<Bytes, f64> = indexmap::IndexMap::new();
    match op {
        SetOp::Union => {
            for (input, w) in inputs.iter().zip(&weights) {
                for (m, s) in input.iter().flatten() {
                    let v = weighted(*s, *w);
                    result
                        .entry(m.clone())
                        .and_modify(|cur| *cur = aggregate(how, *cur, v))
                        .or_insert(v);
                }
            }
        }
        SetOp::Inter => {
            if inputs.iter().all(|i| i.is_some()) {
                let maps: Vec<std::collections::HashMap<&Bytes, f64>> = inputs
                    .iter()
                    .flatten()
                    .map(|i| i.iter().map(|(m, s)| (m, *s)).collect())
                    .collect();
                for (m, s) in inputs[0].iter().flatten() {
                    let mut acc = weighted(*s, weights[0]);
                    let mut everywhere = true;
                    for (k, map) in maps.iter().enumerate().skip(1) {
                        match map.get(m) {
                            Some(other) => acc = aggregate(how, acc, weighted(*other, weights[k])),
                            None => {
                                everywhere = false;
                                break;
                            }
                        }
                    }
                    if everywhere {
                        result.insert(m.clone(), acc);
                    }
                }
            }
        }
        SetOp::Diff => {
            if let Some(Some(first)) = inputs.first() {
                for (m, s) in first {
                    if !inputs[1..]
                        .iter()
                        .flatten()
                        .any(|other| other.iter().any(|(o, _)| o == m))
                    {
                        result.insert(m.clone(), *s);
                    }
                }
            }
        }
    }
    let items: Vec<(Bytes, f64)> = result.into_iter().collect();
    match dst {
        Some(dst) => {
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_zset(ctx, &dst, items, event)
        }
        None => {
            // Replied from a skiplist, never a listpack: a -0 stays -0.
            let mut z = ZSet::default();
            z.listpack = false;
            for (m, s) in items {
                z.insert(m, s);
            }
            Ok(with_scores(
                z.iter().map(|(m, s)| (m.clone(), s)).collect(),
                withscores,
                ctx.resp3(),
            ))
        }
    }
}

fn zunion(ctx: &mut Ctx) -> CommandResult {
    zsetop(ctx, SetOp::Union, 1, None, "zunion")
}

fn zinter(ctx: &mut Ctx) -> CommandResult {
    zsetop(ctx, SetOp::Inter, 1, None, "zinter")
}

fn zdiff(ctx: &mut Ctx) -> CommandResult {
    zsetop(ctx, SetOp::Diff, 1, None, "zdiff")
}

fn zunionstore(ctx: &mut Ctx) -> CommandResult {
    let dst = ctx.arg(1).to_vec();
    zsetop(ctx, SetOp::Union, 2, Some(dst), "zunionstore")
}

fn zinterstore(ctx: &mut Ctx) -> CommandResult {
    let dst = ctx.arg(1).to_vec();
    zsetop(ctx, SetOp::Inter, 2, Some(dst), "zinterstore")
}

fn zdiffstore(ctx: &mut Ctx) -> CommandResult {
    let dst = ctx.arg(1).to_vec();
    zsetop(ctx, SetOp::Diff, 2, Some(dst), "zdiffstore")
}

fn zintercard(ctx: &mut Ctx) -> CommandResult {
    // zunionInterDiffGenericCommand's order: numkeys, the keys' types,
    // then LIMIT.
    let numkeys = int_arg(ctx, 1)?;
    if numkeys < 1 {
        return Err(err(
            "ERR at least 1 input key is needed for 'zintercard' command",
        ));
    }
    if numkeys as usize > ctx.argv.len() - 2 {
        return Err(err(errors::SYNTAX));
    }
    let keys = ctx.argv[2..2 + numkeys as usize].to_vec();
    let mut sets: Vec<Option<Vec<Bytes>>> = Vec::new();
    for key in &keys {
        sets.push(match ctx.value(key) {
            None => None,
            Some(Value::ZSet(z)) => Some(z.iter().map(|(m, _)| m.clone()).collect()),
            Some(Value::Set(s)) => Some(s.members.iter().cloned().collect()),
            Some(_) => return Err(err(errors::WRONGTYPE)),
        });
    }
    let mut limit = 0usize;
    let mut i = 2 + keys.len();
    while i < ctx.argv.len() {
        if eq(ctx.arg(i), "limit") && i + 1 < ctx.argv.len() {
            limit = positive_or(ctx, i + 1, "ERR LIMIT can't be negative")? as usize;
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    if sets.iter().any(|s| s.is_none()) {
        return Ok(Reply::Int(0));
    }
    let sets: Vec<Vec<Bytes>> = sets.into_iter().flatten().collect();
    let n = sets[0]
        .iter()
        .filter(|m| sets[1..].iter().all(|s| s.contains(m)))
        .count();
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

// ---- pops ----------------------------------------------------------------------

/// Pops up to `count` members from one end; returns (member, score) pairs.
fn pop_members(
    ctx: &mut Ctx,
    key: &[u8],
    max: bool,
    count: usize,
) -> Result<Vec<(Bytes, f64)>, Reply> {
    let Some(z) = ctx.zset(key)? else {
        return Ok(Vec::new());
    };
    let picked: Vec<(Bytes, f64)> = if max {
        z.iter()
            .rev()
            .take(count)
            .map(|(m, s)| (m.clone(), s))
            .collect()
    } else {
        z.iter().take(count).map(|(m, s)| (m.clone(), s)).collect()
    };
    let db = ctx.db();
    for (m, _) in &picked {
        ctx.ks().zset_remove(db, key, m);
    }
    if !picked.is_empty() {
        ctx.notify(ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        ctx.deleted_if_gone(key);
    }
    Ok(picked)
}

fn zpop_generic(ctx: &mut Ctx, max: bool) -> CommandResult {
    if ctx.argv.len() > 3 {
        return Err(err(errors::SYNTAX));
    }
    let count = if ctx.argv.len() == 3 {
        Some(positive_arg(ctx, 2)? as usize)
    } else {
        None
    };
    let key = ctx.arg(1).to_vec();
    // As Redis's zpopMinMaxCommand: pairs nested in RESP3 only when a
    // count was given; without one, one flat member and score.
    let nested = ctx.resp3() && count.is_some();
    let popped = pop_members(ctx, &key, max, count.unwrap_or(1))?;
    if nested {
        return Ok(with_scores(popped, true, true));
    }
    let resp3 = ctx.resp3();
    Ok(Reply::Array(
        popped
            .into_iter()
            .flat_map(|(m, s)| [Reply::Bulk(m), score_reply(s, resp3)])
            .collect(),
    ))
}

fn zpopmin(ctx: &mut Ctx) -> CommandResult {
    zpop_generic(ctx, false)
}

fn zpopmax(ctx: &mut Ctx) -> CommandResult {
    zpop_generic(ctx, true)
}

fn bzpop_generic(ctx: &mut Ctx, max: bool) -> CommandResult {
    let last = ctx.argv.len() - 1;
    let deadline = timeout_arg(ctx, last)?;
    let keys: Vec<Bytes> = ctx.argv[1..last].to_vec();
    for key in &keys {
        if ctx.zset(key)?.is_some() {
            let (m, s) = pop_members(ctx, key, max, 1)?
                .pop()
                .expect("non-empty zset");
            let pop = if max { "ZPOPMAX" } else { "ZPOPMIN" };
            ctx.propagate_as([pop.as_bytes(), key]);
            return Ok(Reply::Array(vec![
                Reply::bulk(key),
                Reply::Bulk(m),
                score_reply(s, ctx.resp3()),
            ]));
        }
    }
    block_or(ctx, keys, deadline, Reply::NilArray)
}

fn bzpopmin(ctx: &mut Ctx) -> CommandResult {
    bzpop_generic(ctx, false)
}

fn bzpopmax(ctx: &mut Ctx) -> CommandResult {
    bzpop_generic(ctx, true)
}

fn min_max_arg(arg: &[u8]) -> Result<bool, Reply> {
    if eq(arg, "min") {
        Ok(false)
    } else if eq(arg, "max") {
        Ok(true)
    } else {
        Err(err(errors::SYNTAX))
    }
}

fn mpop_zsets(
    ctx: &mut Ctx,
    keys: &[Bytes],
    max: bool,
    count: i64,
) -> Result<Option<Reply>, Reply> {
    for key in keys {
        if ctx.zset(key)?.is_some() {
            let popped = pop_members(ctx, key, max, count as usize)?;
            let pop = if max { "ZPOPMAX" } else { "ZPOPMIN" };
            ctx.propagate_as([pop.as_bytes(), key, popped.len().to_string().as_bytes()]);
            let resp3 = ctx.resp3();
            let pairs = popped
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), score_reply(s, resp3)]))
                .collect();
            return Ok(Some(Reply::Array(vec![
                Reply::bulk(key),
                Reply::Array(pairs),
            ])));
        }
    }
    Ok(None)
}

fn zmpop(ctx: &mut Ctx) -> CommandResult {
    let (keys, max, count) = mpop_args(ctx, 1, min_max_arg)?;
    Ok(mpop_zsets(ctx, &keys, max, count)?.unwrap_or(Reply::NilArray))
}

fn bzmpop(ctx: &mut Ctx) -> CommandResult {
    let deadline = timeout_arg(ctx, 1)?;
    let (keys, max, count) = mpop_args(ctx, 2, min_max_arg)?;
    match mpop_zsets(ctx, &keys, max, count)? {
        Some(reply) => Ok(reply),
        None => block_or(ctx, keys, deadline, Reply::NilArray),
    }
}

fn zrandmember(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    // Redis's order: the count's range, the syntax, then WITHSCORES's range.
    let count = if ctx.argv.len() >= 3 {
        let n = int_arg(ctx, 2)?;
        if n == i64::MIN {
            return Err(err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
        }
        Some(n)
    } else {
        None
    };
    if ctx.argv.len() > 4 || (ctx.argv.len() == 4 && !eq(ctx.arg(3), "withscores")) {
        return Err(err(errors::SYNTAX));
    }
    let withscores = ctx.argv.len() == 4;
    if withscores && count.is_some_and(|n| !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n)) {
        return Err(err("ERR value is out of range"));
    }
    let Some(z) = ctx.zset(&key)? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Nil
        });
    };
    let items: Vec<(Bytes, f64)> = z.iter().map(|(m, s)| (m.clone(), s)).collect();
    let Some(count) = count else {
        return Ok(Reply::Bulk(items[fastrand::usize(..items.len())].0.clone()));
    };
    let picked: Vec<(Bytes, f64)> = if count >= items.len() as i64 {
        // The whole zset, highest first: Redis's iterator (zuiInitIterator)
        // starts at the tail, a listpack's or a skiplist's.
        items.into_iter().rev().collect()
    } else if count >= 0 {
        let mut idx: Vec<usize> = (0..items.len()).collect();
        fastrand::shuffle(&mut idx);
        idx.into_iter()
            .take(count as usize)
            .map(|i| items[i].clone())
            .collect()
    } else {
        if count.unsigned_abs() > errors::MOST_PICKS {
            return Err(err(&errors::too_many_picks(count.unsigned_abs())));
        }
        (0..count.unsigned_abs())
            .map(|_| items[fastrand::usize(..items.len())].clone())
            .collect()
    };
    Ok(with_scores(picked, withscores, ctx.resp3()))
}

fn zscan(ctx: &mut Ctx) -> CommandResult {
    let cursor = parse_cursor(ctx.arg(2))?;
    let key = ctx.arg(1).to_vec();
    let Some(zset) = ctx.zset(&key)? else {
        return Ok(Reply::Array(vec![Reply::bulk("0"), Reply::Array(vec![])]));
    };
    // A listpack comes back whole, in score order, COUNT or not; a
    // skiplist pages through its dict's buckets (see engine::dict).
    let whole: Option<Vec<(Bytes, f64)>> = zset
        .listpack
        .then(|| zset.iter().map(|(m, s)| (m.clone(), s)).collect());
    let options = scan_options(ctx, 3, false)?;
    let (next, members) = match whole {
        Some(members) => (0, members),
        None => {
            let db = ctx.db();
            ctx.ks().scan_zset(db, &key, cursor, options.count)
        }
    };
    let items: Vec<(Bytes, f64)> = members
        .into_iter()
        .filter(|(m, _)| scan_matches(&options, m))
        .collect();
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        with_scores(items, true, false),
    ]))
}
