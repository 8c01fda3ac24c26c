//! Command handlers, one file per family, each exporting its slice of the
//! command table.

pub(crate) mod admin;
pub(crate) mod bits;
pub(crate) mod dump;
pub(crate) mod geo;
pub(crate) mod hashes;
pub(crate) mod help;
pub(crate) mod hll;
pub(crate) mod keys;
pub(crate) mod lists;
pub(crate) mod lolwut;
pub(crate) mod pubsub;
pub(crate) mod server;
pub(crate) mod sets;
pub(crate) mod streams;
pub(crate) mod strings;
pub(crate) mod transactions;
pub(crate) mod zsets;

use super::errors::{self, err};
use super::numbers::{c_cast_i64, parse_f64, parse_i64};
use super::table::CommandSpec;
use super::{Ctx, Reply};

/// A map: RESP3's map, or RESP2's flat array.
pub(crate) fn map_reply(ctx: &Ctx, pairs: Vec<(&str, Reply)>) -> Reply {
    if ctx.resp3() {
        Reply::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Reply::bulk(k), v))
                .collect(),
        )
    } else {
        Reply::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [Reply::bulk(k), v])
                .collect(),
        )
    }
}

/// A HELP subcommand's reply: one status line each.
pub(crate) fn help(lines: &[&str]) -> Reply {
    Reply::Array(lines.iter().map(|l| Reply::status(l)).collect())
}

pub(crate) const FAMILIES: &[&[CommandSpec]] = &[
    server::COMMANDS,
    keys::COMMANDS,
    strings::COMMANDS,
    hashes::COMMANDS,
    lists::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    transactions::COMMANDS,
    pubsub::COMMANDS,
    bits::COMMANDS,
    hll::COMMANDS,
    streams::COMMANDS,
    geo::COMMANDS,
    dump::COMMANDS,
    admin::COMMANDS,
];

/// Argument `i` as a strict integer, or Redis's not-an-integer error.
pub(crate) fn int_arg(ctx: &Ctx, i: usize) -> Result<i64, Reply> {
    parse_i64(ctx.arg(i)).ok_or_else(|| err(errors::NOT_INTEGER))
}

/// Argument `i` as a float, or Redis's not-a-float error.
pub(crate) fn float_arg(ctx: &Ctx, i: usize) -> Result<f64, Reply> {
    parse_f64(ctx.arg(i)).ok_or_else(|| err(errors::NOT_FLOAT))
}

/// Argument `i` as a non-negative count; Redis answers `ERR value is out of
/// range, must be positive` both for a negative number and for garbage.
pub(crate) fn positive_arg(ctx: &Ctx, i: usize) -> Result<i64, Reply> {
    parse_i64(ctx.arg(i))
        .filter(|n| *n >= 0)
        .ok_or_else(|| err(errors::MUST_BE_POSITIVE))
}

/// getPositiveLongFromObjectOrReply with a message: argument `i` as a
/// non-negative integer; `message` both for a negative number and for one
/// that does not parse (LPOS COUNT, SINTERCARD LIMIT...).
pub(crate) fn positive_or(ctx: &Ctx, i: usize, message: &'static str) -> Result<i64, Reply> {
    parse_i64(ctx.arg(i))
        .filter(|n| *n >= 0)
        .ok_or_else(|| err(message))
}

pub(crate) fn eq(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Redis's start/end index normalisation (LRANGE, GETRANGE, ZRANGE):
/// negative counts from the end; returns None for an empty range.
pub(crate) fn normalize_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if end < 0 {
        end = -1;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

/// Parses a blocking timeout in seconds (float allowed), as Redis 7.0 does.
/// Returns the deadline in unix ms, None for "forever".
pub(crate) fn timeout_arg(ctx: &Ctx, i: usize) -> Result<Option<i64>, Reply> {
    let raw = ctx.arg(i);
    let seconds = parse_f64(raw).ok_or_else(|| err(errors::TIMEOUT_NOT_FLOAT))?;
    let ms = c_cast_i64((seconds * 1000.0).ceil());
    if ms < 0 {
        return Err(err(errors::TIMEOUT_NEGATIVE));
    }
    if ms == 0 {
        return Ok(None);
    }
    let deadline = ms
        .checked_add(ctx.engine.wall_clock_ms())
        .ok_or_else(|| err(errors::TIMEOUT_OUT_OF_RANGE))?;
    Ok(Some(deadline))
}
