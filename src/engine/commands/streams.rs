//! Stream commands (Redis 7.0's t_stream.c): XADD, XLEN, XRANGE, XREVRANGE,
//! XDEL, XTRIM, XREAD, XGROUP CREATE/CREATECONSUMER/DELCONSUMER/DESTROY/SETID,
//! XREADGROUP, XACK, XPENDING, XSETID. Writes go through the keyspace's
//! stream primitives, so each reports only what it changed.

use crate::engine::errors::{self, err};
use crate::engine::notify::STREAM;
use crate::engine::numbers::{parse_i64, parse_u64};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{
    Bytes, Consumer, Group, Limits, PendingEntry, Stream, StreamFields, StreamId, StreamMeta, Value,
};
use crate::engine::{Blocked, Client, CommandResult, Ctx, Engine, Extension, Reply};

use super::{eq, map_reply};

const KEY1: (i32, i32, i32) = (1, 1, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, KEY1, xadd),
    CommandSpec::new("xlen", 2, READONLY | FAST, KEY1, xlen),
    CommandSpec::new("xrange", -4, READONLY, KEY1, xrange),
    CommandSpec::new("xrevrange", -4, READONLY, KEY1, xrevrange),
    CommandSpec::new("xdel", -3, WRITE | FAST, KEY1, xdel),
    CommandSpec::new("xtrim", -4, WRITE, KEY1, xtrim),
    CommandSpec::new("xread", -4, READONLY | BLOCKING, NOKEYS, xread),
    CommandSpec::new("xreadgroup", -7, WRITE | BLOCKING, NOKEYS, xreadgroup),
    CommandSpec::new("xack", -4, WRITE | FAST, KEY1, xack),
    CommandSpec::new("xpending", -3, READONLY, KEY1, xpending),
    CommandSpec::new("xclaim", -6, WRITE | FAST, KEY1, xclaim),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, KEY1, xautoclaim),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, KEY1, xsetid),
    CommandSpec::container_of("xgroup", 0, XGROUP_SUBCOMMANDS),
    CommandSpec::container_of("xinfo", 0, XINFO_SUBCOMMANDS),
];

const XINFO_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xinfo|consumers", "consumers", 4, READONLY, xinfo)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xinfo|groups", "groups", 3, READONLY, xinfo)
    },
    CommandSpec::sub("xinfo|help", "help", 2, LOADING | STALE, xinfo_help),
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xinfo|stream", "stream", -3, READONLY, xinfo)
    },
];

const XGROUP_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xgroup|create", "create", -5, WRITE | DENYOOM, xgroup)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub(
            "xgroup|createconsumer",
            "createconsumer",
            5,
            WRITE | DENYOOM,
            xgroup,
        )
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xgroup|delconsumer", "delconsumer", 5, WRITE, xgroup)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xgroup|destroy", "destroy", 4, WRITE, xgroup)
    },
    CommandSpec::sub("xgroup|help", "help", 2, LOADING | STALE, xgroup_help),
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("xgroup|setid", "setid", -5, WRITE, xgroup)
    },
];

// ---- ids --------------------------------------------------------------------

/// Redis's streamGenericParseIDOrReply. `missing_seq` fills an absent
/// sequence; `-`/`+` are allowed unless `strict`; with `seq_star`, `ms-*`
/// gives (ms, None).
fn parse_id(b: &[u8], missing_seq: u64, strict: bool) -> Result<(StreamId, bool), Reply> {
    if b.len() > 127 {
        return Err(err(INVALID_ID));
    }
    let b = c_str(b);
    if !strict && b == b"-" {
        return Ok((StreamId::MIN, true));
    }
    if !strict && b == b"+" {
        return Ok((StreamId::MAX, true));
    }
    match b.iter().position(|c| *c == b'-') {
        None => {
            let ms = parse_u64(b).ok_or_else(|| err(INVALID_ID))?;
            Ok((StreamId::new(ms, missing_seq), false))
        }
        Some(dash) => {
            let ms = parse_u64(&b[..dash]).ok_or_else(|| err(INVALID_ID))?;
            let seq = parse_u64(&b[dash + 1..]).ok_or_else(|| err(INVALID_ID))?;
            Ok((StreamId::new(ms, seq), true))
        }
    }
}

fn strict_id(b: &[u8], missing_seq: u64) -> Result<StreamId, Reply> {
    parse_id(b, missing_seq, true).map(|(id, _)| id)
}

/// Redis copies an id into a C buffer: it ends at the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    b.split(|c| *c == 0).next().unwrap_or_default()
}

/// XADD's id: None for `*`, (ms, None) for `ms-*`, else the full id.
fn parse_add_id(b: &[u8]) -> Result<Option<(u64, Option<u64>)>, Reply> {
    if b.len() > 127 {
        return Err(err(INVALID_ID));
    }
    let b = c_str(b);
    if b == b"*" {
        return Ok(None);
    }
    if let Some(ms) = b.strip_suffix(b"-*") {
        let ms = parse_u64(ms).ok_or_else(|| err(INVALID_ID))?;
        return Ok(Some((ms, None)));
    }
    // A bare `ms` means `ms-0`, an explicit id (Redis sets seq_given for it).
    let id = strict_id(b, 0)?;
    Ok(Some((id.ms, Some(id.seq))))
}

/// An interval bound: `(id` is exclusive.
fn parse_bound(b: &[u8], missing_seq: u64, start: bool) -> Result<StreamId, Reply> {
    if b.len() > 1 && b[0] == b'(' {
        let id = strict_id(&b[1..], missing_seq)?;
        let next = if start { id.incr() } else { id.decr() };
        return next.ok_or_else(|| {
            err(if start {
                "ERR invalid start ID for the interval"
            } else {
                "ERR invalid end ID for the interval"
            })
        });
    }
    parse_id(b, missing_seq, false).map(|(id, _)| id)
}

// ---- lookups ----------------------------------------------------------------

fn stream<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Stream>, Reply> {
    match ctx.value(key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(err(errors::WRONGTYPE)),
    }
}

/// `stream` read as Redis's lookupKeyRead in a write command (XREADGROUP,
/// XACK, XCLAIM, XAUTOCLAIM): a missing key is a keymiss.
fn stream_read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a Stream>, Reply> {
    match ctx.lookup_read(key).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(err(errors::WRONGTYPE)),
    }
}

fn entry_reply(id: StreamId, fields: &StreamFields) -> Reply {
    Reply::Array(vec![
        Reply::bulk(id.text()),
        Reply::Array(
            fields
                .iter()
                .flat_map(|(f, v)| [Reply::bulk(f), Reply::bulk(v)])
                .collect(),
        ),
    ])
}

// ---- trimming ----------------------------------------------------------------

enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

struct TrimArgs {
    strategy: Strategy,
    approx: bool,
    limit: Option<i64>,
    no_mkstream: bool,
    /// Index of the id argument (XADD).
    id_pos: usize,
    /// Index of the MAXLEN/MINID threshold argument.
    threshold_pos: usize,
}

/// Redis's streamParseAddOrTrimArgsOrReply.
fn parse_trim_args(ctx: &Ctx, xadd: bool) -> Result<TrimArgs, Reply> {
    let mut args = TrimArgs {
        strategy: Strategy::None,
        approx: false,
        limit: None,
        no_mkstream: false,
        id_pos: ctx.argv.len(),
        threshold_pos: 0,
    };
    let argc = ctx.argv.len();
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = ctx.arg(i);
        if xadd && opt == b"*" {
            args.id_pos = i;
            break;
        } else if (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0 {
            if !matches!(args.strategy, Strategy::None) {
                return Err(err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            let maxlen = eq(opt, "maxlen");
            args.approx = false;
            let next = ctx.arg(i + 1);
            if more >= 2 && next == b"~" {
                args.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            args.threshold_pos = i + 1;
            if maxlen {
                let n = parse_i64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
                if n < 0 {
                    return Err(err("ERR The MAXLEN argument must be >= 0."));
                }
                args.strategy = Strategy::MaxLen(n as u64);
            } else {
                args.strategy = Strategy::MinId(strict_id(ctx.arg(i + 1), 0)?);
            }
            i += 1;
        } else if eq(opt, "limit") && more > 0 {
            let n = parse_i64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            if n < 0 {
                return Err(err("ERR The LIMIT argument must be >= 0."));
            }
            args.limit = Some(n);
            i += 1;
        } else if xadd && eq(opt, "nomkstream") {
            args.no_mkstream = true;
        } else if xadd {
            parse_add_id(opt)?;
            args.id_pos = i;
            break;
        } else {
            return Err(err(errors::SYNTAX));
        }
        i += 1;
    }
    if args.limit.is_some_and(|l| l != 0) && matches!(args.strategy, Strategy::None) {
        return Err(err(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && matches!(args.strategy, Strategy::None) {
        return Err(err(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if args.limit.is_some() && !args.approx {
        return Err(err(
            "ERR syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    Ok(args)
}

/// Redis's streamRewriteApproxSpecifier and streamRewriteTrimArgument: a
/// `~` trim reaches replicas as `=` with what it left (the length, or the
/// first id), so they trim exactly the same.
fn exact_trim_argument(ctx: &mut Ctx, key: &[u8], args: &TrimArgs, argv: &mut [Bytes]) {
    let Ok(Some(s)) = stream(ctx, key) else {
        return;
    };
    argv[args.threshold_pos - 1] = b"=".to_vec();
    argv[args.threshold_pos] = match args.strategy {
        Strategy::MaxLen(_) => s.len().to_string().into_bytes(),
        // streamGetEdgeID counting deleted entries: the first node's first
        // entry, its master id (the largest id when no node is left).
        _ => s
            .nodes
            .keys()
            .next()
            .copied()
            .unwrap_or(StreamId::MAX)
            .text(),
    };
}

/// What `streamTrim` removes: whole nodes, oldest first, while the stream
/// stays at least MAXLEN long (or the node's last entry, deleted or not, is
/// below MINID) and the live entries removed stay within LIMIT (default
/// 100 nodes' worth, 0 for none). `~` stops at the first node it cannot
/// remove; exact trimming then flags entries of that node deleted, and
/// keeps the node even if none is left live (returned as the second item).
fn trim_plan(s: &Stream, args: &TrimArgs, limits: &Limits) -> (Vec<StreamId>, Option<StreamId>) {
    if matches!(args.strategy, Strategy::None) {
        return (Vec::new(), None);
    }
    let limit = match (args.approx, args.limit) {
        (false, _) => 0,
        (true, Some(l)) => l.max(0) as u64,
        (true, None) => match (limits.stream_node_entries as u64).saturating_mul(100) {
            0 => 10_000,
            l => l.min(1_000_000),
        },
    };
    let mut length = s.len() as u64;
    let mut deleted = 0u64;
    let mut ids = Vec::new();
    let mut keys = s.nodes.iter().peekable();
    while let Some((&key, node)) = keys.next() {
        if let Strategy::MaxLen(max) = args.strategy {
            if length <= max {
                break;
            }
        }
        let entries = node.live as u64;
        if limit != 0 && deleted + entries > limit {
            break;
        }
        let range = match keys.peek() {
            Some((next, _)) => s.entries.range(key..**next),
            None => s.entries.range(key..),
        };
        let remove_node = match args.strategy {
            Strategy::MaxLen(max) => length - entries >= max,
            Strategy::MinId(min) => node.last < min,
            Strategy::None => false,
        };
        if remove_node {
            ids.extend(range.map(|(id, _)| *id));
            length -= entries;
            deleted += entries;
            continue;
        }
        if args.approx {
            break;
        }
        for (id, _) in range {
            let stop = match args.strategy {
                Strategy::MaxLen(max) => length <= max,
                Strategy::MinId(min) => *id >= min,
                Strategy::None => true,
            };
            if stop {
                break;
            }
            ids.push(*id);
            length -= 1;
        }
        return (ids, Some(key));
    }
    (ids, None)
}

fn trim(ctx: &mut Ctx, key: &[u8], args: &TrimArgs) -> i64 {
    let limits = ctx.ks().limits;
    let Ok(Some(s)) = stream(ctx, key) else {
        return 0;
    };
    let (ids, keep) = trim_plan(s, args, &limits);
    if ids.is_empty() {
        return 0;
    }
    let meta = s.meta;
    let db = ctx.db();
    ctx.ks().stream_remove(db, key, &ids, keep, meta) as i64
}

// ---- commands -----------------------------------------------------------------

fn xadd(ctx: &mut Ctx) -> CommandResult {
    let args = parse_trim_args(ctx, true)?;
    let argc = ctx.argv.len();
    let field_pos = args.id_pos + 1;
    if field_pos > argc || argc - field_pos < 2 || (argc - field_pos) % 2 == 1 {
        return Err(errors::arity("xadd"));
    }
    let wanted = parse_add_id(ctx.arg(args.id_pos))?;
    if let Some((0, Some(0))) = wanted {
        return Err(err("ERR The ID specified in XADD must be greater than 0-0"));
    }
    let key = ctx.arg(1).to_vec();
    let meta = match stream(ctx, &key)? {
        Some(s) => s.meta,
        None if args.no_mkstream => return Ok(Reply::Nil),
        None => StreamMeta::default(),
    };
    let last = meta.last_id;
    if last == StreamId::MAX {
        return Err(err(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let too_small =
        || err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    let id = match wanted {
        None => {
            let now = ctx.now.max(0) as u64;
            if now > last.ms {
                StreamId::new(now, 0)
            } else {
                last.incr().ok_or_else(too_small)?
            }
        }
        Some((ms, None)) => {
            if ms == last.ms {
                // Redis's streamAppendItem fails here without setting
                // errno to EDOM, so XADD answers with its other error.
                if last.seq == u64::MAX {
                    return Err(err("ERR Elements are too large to be stored"));
                }
                StreamId::new(ms, last.seq + 1)
            } else if ms > last.ms {
                StreamId::new(ms, 0)
            } else {
                return Err(too_small());
            }
        }
        Some((ms, Some(seq))) => {
            let id = StreamId::new(ms, seq);
            if id <= last {
                return Err(too_small());
            }
            id
        }
    };
    let fields: StreamFields = ctx.argv[field_pos..]
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    let new_meta = StreamMeta {
        last_id: id,
        entries_added: meta.entries_added + 1,
        ..meta
    };
    let db = ctx.db();
    ctx.ks().stream_add(db, &key, id, fields, new_meta);
    ctx.engine.signal_stream_ready(db, &key);
    ctx.notify(STREAM, "xadd", &key);
    // What replicas get, built only when it goes out (a script's XADDs
    // past the propagation cap are only counted).
    let propagates = ctx.propagates();
    let mut propagated = if propagates {
        ctx.argv.to_vec()
    } else {
        Vec::new()
    };
    if !matches!(args.strategy, Strategy::None) {
        if trim(ctx, &key, &args) > 0 {
            ctx.notify(STREAM, "xtrim", &key);
        }
        if args.approx && propagates {
            exact_trim_argument(ctx, &key, &args, &mut propagated);
        }
    }
    let text = id.text();
    if propagates {
        if !matches!(wanted, Some((_, Some(_)))) {
            // Replicas get the id the entry got, not `*` or `ms-*`.
            propagated[args.id_pos] = text.clone();
        }
        ctx.propagate_owned(propagated);
    }
    Ok(Reply::Bulk(text))
}

fn xlen(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    Ok(Reply::Int(stream(ctx, &key)?.map_or(0, |s| s.len() as i64)))
}

fn range_generic(ctx: &mut Ctx, rev: bool) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let (start_arg, end_arg) = if rev { (3, 2) } else { (2, 3) };
    let start = parse_bound(ctx.arg(start_arg), 0, true)?;
    let end = parse_bound(ctx.arg(end_arg), u64::MAX, false)?;
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < ctx.argv.len() {
        let more = ctx.argv.len() - j - 1;
        if eq(ctx.arg(j), "count") && more > 0 {
            let n = parse_i64(ctx.arg(j + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            count = Some(n.max(0) as usize);
            j += 1;
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    let Some(s) = stream(ctx, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Reply::NilArray);
    }
    if start > end {
        return Ok(Reply::Array(Vec::new()));
    }
    let limit = count.unwrap_or(usize::MAX);
    let range = s.entries.range(start..=end);
    let items: Vec<Reply> = if rev {
        range
            .rev()
            .take(limit)
            .map(|(id, f)| entry_reply(*id, f))
            .collect()
    } else {
        range
            .take(limit)
            .map(|(id, f)| entry_reply(*id, f))
            .collect()
    };
    Ok(Reply::Array(items))
}

fn xrange(ctx: &mut Ctx) -> CommandResult {
    range_generic(ctx, false)
}

fn xrevrange(ctx: &mut Ctx) -> CommandResult {
    range_generic(ctx, true)
}

fn xdel(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    // Redis looks the key up before it parses the ids: a missing key answers 0 whatever they are.
    if stream(ctx, &key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let mut ids = Vec::new();
    for i in 2..ctx.argv.len() {
        ids.push(strict_id(ctx.arg(i), 0)?);
    }
    let Some(s) = stream(ctx, &key)? else {
        return Ok(Reply::Int(0));
    };
    let mut meta = s.meta;
    let present: Vec<StreamId> = ids
        .into_iter()
        .filter(|id| s.entries.contains_key(id))
        .collect();
    if present.is_empty() {
        return Ok(Reply::Int(0));
    }
    for id in &present {
        meta.max_deleted = meta.max_deleted.max(*id);
    }
    let db = ctx.db();
    let deleted = ctx.ks().stream_remove(db, &key, &present, None, meta) as i64;
    if deleted > 0 {
        ctx.notify(STREAM, "xdel", &key);
    }
    Ok(Reply::Int(deleted))
}

fn xtrim(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    // Redis parses the arguments before it looks the key up.
    let args = parse_trim_args(ctx, false)?;
    stream(ctx, &key)?;
    let deleted = trim(ctx, &key, &args);
    if deleted > 0 {
        ctx.notify(STREAM, "xtrim", &key);
        if args.approx {
            let mut propagated = ctx.argv.to_vec();
            exact_trim_argument(ctx, &key, &args, &mut propagated);
            ctx.propagate_as(propagated);
        }
    }
    Ok(Reply::Int(deleted))
}

/// Parsed XREAD / XREADGROUP arguments.
struct ReadArgs {
    count: Option<usize>,
    /// BLOCK was given: Some(deadline in Unix ms, None for BLOCK 0).
    block: Option<Option<i64>>,
    noack: bool,
    group: Option<(Bytes, Bytes)>,
    streams_arg: usize,
    streams_count: usize,
}

fn parse_read(ctx: &Ctx, group_cmd: bool) -> Result<ReadArgs, Reply> {
    let argc = ctx.argv.len();
    let mut args = ReadArgs {
        count: None,
        block: None,
        noack: false,
        group: None,
        streams_arg: 0,
        streams_count: 0,
    };
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = ctx.arg(i);
        if eq(o, "block") && more > 0 {
            if ctx.client.is_script {
                return Err(err(&format!(
                    "ERR {} command is not allowed with BLOCK option from scripts",
                    String::from_utf8_lossy(ctx.arg(0))
                )));
            }
            i += 1;
            let ms = parse_i64(ctx.arg(i))
                .ok_or_else(|| err("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(err("ERR timeout is negative"));
            }
            // Redis 7.0 waits forever when now + ms overflows.
            let deadline = ctx.engine.wall_clock_ms().checked_add(ms);
            args.block = Some(if ms == 0 { None } else { deadline });
        } else if eq(o, "count") && more > 0 {
            i += 1;
            let n = parse_i64(ctx.arg(i)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            args.count = Some(n.max(0) as usize);
        } else if eq(o, "streams") && more > 0 {
            args.streams_arg = i + 1;
            let n = argc - args.streams_arg;
            if !n.is_multiple_of(2) {
                return Err(err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            args.streams_count = n / 2;
            break;
        } else if eq(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(err(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            args.group = Some((ctx.arg(i + 1).to_vec(), ctx.arg(i + 2).to_vec()));
            i += 2;
        } else if eq(o, "noack") {
            if !group_cmd {
                return Err(err(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            args.noack = true;
        } else {
            return Err(err(errors::SYNTAX));
        }
        i += 1;
    }
    if args.streams_arg == 0 {
        return Err(err(errors::SYNTAX));
    }
    if group_cmd && args.group.is_none() {
        return Err(err("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(args)
}

fn xread(ctx: &mut Ctx) -> CommandResult {
    let args = parse_read(ctx, false)?;
    let mut wanted = Vec::new();
    for k in 0..args.streams_count {
        let key = ctx.arg(args.streams_arg + k).to_vec();
        let raw = ctx.arg(args.streams_arg + args.streams_count + k).to_vec();
        let s = stream(ctx, &key)?;
        let id = if raw == b"$" {
            s.map_or(StreamId::MIN, |s| s.meta.last_id)
        } else if raw == b">" {
            return Err(err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
        } else {
            strict_id(&raw, 0)?
        };
        wanted.push((key, id));
    }
    let limit = args.count.filter(|c| *c > 0).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for (key, id) in &wanted {
        let Some(s) = stream(ctx, key)? else {
            continue;
        };
        let items = entries_after(s, *id, limit);
        if !items.is_empty() {
            out.push((Reply::bulk(key), Reply::Array(items)));
        }
    }
    read_reply(ctx, &args, out, wanted)
}

/// The entries after `id`, at most `limit`.
fn entries_after(s: &Stream, id: StreamId, limit: usize) -> Vec<Reply> {
    let Some(start) = id.incr() else {
        return Vec::new();
    };
    s.entries
        .range(start..)
        .take(limit)
        .map(|(id, f)| entry_reply(*id, f))
        .collect()
}

/// What a blocked XREAD / XREADGROUP waits for, fixed when it blocked:
/// for XREAD the id each key's entries must be above (`$` resolved then),
/// for XREADGROUP the group and consumer (`>` means the group's last id
/// when served).
#[derive(Clone, Debug)]
pub struct StreamWait {
    /// Aligned with `Blocked::keys`.
    ids: Vec<StreamId>,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
    count: Option<usize>,
}

/// The reply when something was read; otherwise the client blocks (BLOCK
/// given and the client may wait) or gets a nil array.
fn read_reply(
    ctx: &mut Ctx,
    args: &ReadArgs,
    out: Vec<(Reply, Reply)>,
    wanted: Vec<(Bytes, StreamId)>,
) -> CommandResult {
    if !out.is_empty() {
        return Ok(by_stream(out, ctx.resp3()));
    }
    if let Some(deadline) = args.block {
        if ctx.may_block() {
            // A key named twice waits once, with its first id (blockForKeys).
            let mut keys: Vec<Bytes> = Vec::new();
            let mut ids = Vec::new();
            for (key, id) in wanted {
                if !keys.contains(&key) {
                    keys.push(key);
                    ids.push(id);
                }
            }
            ctx.block = Some(Box::new(Blocked {
                keys,
                db: ctx.db(),
                deadline,
                timeout_reply: Reply::NilArray,
                argv: ctx.argv.to_vec(),
                stream: Some(StreamWait {
                    ids,
                    group: args.group.clone(),
                    noack: args.noack,
                    count: args.count.filter(|c| *c > 0),
                }),
                postponed: false,
            }));
        }
    }
    Ok(Reply::NilArray)
}

/// Redis's serveClientsBlockedOnStreamKey and the unblocking of
/// XREADGROUP readers of a deleted key, for one blocked client and one
/// key that changed. `ready`: the key got entries (XADD), lost a group
/// (XGROUP DESTROY), or was created, replaced or deleted whole. None
/// leaves the client blocked.
pub(crate) fn serve_blocked(
    engine: &mut Engine,
    client: &mut Client,
    blocked: &Blocked,
    key: &[u8],
    ready: bool,
    ext: &mut dyn Extension,
) -> Option<Reply> {
    let wait = blocked.stream.as_ref()?;
    if !ready {
        return None;
    }
    let db = blocked.db;
    let now = engine.now();
    engine.keyspace.expire_if_needed(db, key, now);
    let (last_id, group_last) = match engine.keyspace.db(db).entry(key).map(|e| &e.value) {
        Some(Value::Stream(s)) => (
            s.meta.last_id,
            wait.group
                .as_ref()
                .map(|(g, _)| s.groups.get(g).map(|g| g.last_id)),
        ),
        _ if wait.group.is_some() => {
            return Some(err("UNBLOCKED the stream key no longer exists"));
        }
        _ => return None,
    };
    let gt = match group_last {
        Some(None) => {
            return Some(err(
                "NOGROUP the consumer group this client was blocked on no longer exists",
            ))
        }
        Some(Some(id)) => id,
        None => {
            let at = blocked.keys.iter().position(|k| k == key)?;
            wait.ids[at]
        }
    };
    if last_id <= gt {
        return None;
    }
    let limit = wait.count.unwrap_or(usize::MAX);
    let argv = blocked.argv.clone();
    let mut ctx = Ctx {
        engine,
        client,
        argv: &argv,
        now,
        ext,
        block: None,
    };
    let items = match &wait.group {
        Some((group, consumer)) => deliver_new(&mut ctx, key, group, consumer, limit, wait.noack),
        None => {
            let Ok(Some(s)) = stream(&mut ctx, key) else {
                return None;
            };
            entries_after(s, gt, limit)
        }
    };
    Some(by_stream(
        vec![(Reply::bulk(key), Reply::Array(items))],
        client.resp == 3,
    ))
}

/// XREAD's and XREADGROUP's reply from (key, entries) pairs: an array of
/// `[key, entries]` in RESP2, a map from key to entries in RESP3 (as Redis
/// 7.0).
fn by_stream(pairs: Vec<(Reply, Reply)>, resp3: bool) -> Reply {
    if resp3 {
        return Reply::Map(pairs);
    }
    Reply::Array(
        pairs
            .into_iter()
            .map(|(key, entries)| Reply::Array(vec![key, entries]))
            .collect(),
    )
}

/// XREADGROUP's `>` on one stream whose group exists: the entries after
/// the group's last id go to the consumer (created if new), into the PEL
/// unless NOACK (Redis's streamReplyWithRange with a group).
fn deliver_new(
    ctx: &mut Ctx,
    key: &[u8],
    group_name: &[u8],
    consumer_name: &[u8],
    limit: usize,
    noack: bool,
) -> Vec<Reply> {
    let now = ctx.now;
    let db = ctx.db();
    let Ok(Some(s)) = stream(ctx, key) else {
        return Vec::new();
    };
    let mut groups = s.groups.clone();
    let Some(group) = groups.get_mut(group_name) else {
        return Vec::new();
    };
    let created = !group.consumers.contains_key(consumer_name);
    touch_consumer(group, consumer_name, now);
    let mut propagate = Vec::new();
    if created && noack {
        // With NOACK no XCLAIM will create it on replicas.
        propagate.push(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            group_name.to_vec(),
            consumer_name.to_vec(),
        ]);
    }
    let fresh: Vec<(StreamId, &StreamFields)> = match group.last_id.incr() {
        Some(start) => s
            .entries
            .range(start..)
            .take(limit)
            .map(|(i, f)| (*i, f))
            .collect(),
        None => Vec::new(),
    };
    let mut items = Vec::with_capacity(fresh.len());
    for (eid, fields) in fresh {
        // Redis's streamReplyWithRange group bookkeeping.
        match group.entries_read {
            Some(read) if !stream_has_tombstones_from(s, eid) => {
                group.entries_read = Some(read + 1);
            }
            _ if s.meta.entries_added > 0 => {
                group.entries_read = s.estimate_distance(eid);
            }
            _ => {}
        }
        group.last_id = eid;
        if !noack {
            if let Some(old) = group.pel.insert(
                eid,
                PendingEntry {
                    consumer: consumer_name.to_vec(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            ) {
                if let Some(c) = group.consumers.get_mut(&old.consumer) {
                    c.pending.remove(&eid);
                }
            }
            group
                .consumers
                .get_mut(consumer_name)
                .expect("created")
                .pending
                .insert(eid);
            let nack = group.pel.get(&eid).expect("just added");
            propagate.push(xclaim_argv(key, group_name, &eid.text(), nack, group));
        }
        items.push(entry_reply(eid, fields));
    }
    if noack && !items.is_empty() {
        propagate.push(setid_argv(key, group_name, group));
    }
    for argv in propagate {
        ctx.also_propagate(argv);
    }
    ctx.ks().stream_set_groups(db, key, groups);
    if created {
        ctx.notify(STREAM, "xgroup-createconsumer", key);
    }
    items
}

/// Redis's streamPropagateXCLAIM: replicas learn a PEL entry's owner and
/// counters (and the group's last id) as an XCLAIM. `id` is the text
/// XCLAIM was given (`1`, not `1-0`), or the id's own for the others.
fn xclaim_argv(
    key: &[u8],
    group_name: &[u8],
    id: &[u8],
    nack: &PendingEntry,
    group: &Group,
) -> Vec<Bytes> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group_name.to_vec(),
        nack.consumer.clone(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        group.last_id.text(),
    ]
}

/// Redis's streamPropagateGroupID: XGROUP SETID with the read counter.
fn setid_argv(key: &[u8], group_name: &[u8], group: &Group) -> Vec<Bytes> {
    let read = group.entries_read.map_or(-1, |n| n as i64);
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group_name.to_vec(),
        group.last_id.text(),
        b"ENTRIESREAD".to_vec(),
        read.to_string().into_bytes(),
    ]
}

/// The consumer, created if new, seen now.
fn touch_consumer<'a>(group: &'a mut Group, name: &[u8], now: i64) -> &'a mut Consumer {
    let consumer = group
        .consumers
        .entry(name.to_vec())
        .or_insert_with(|| Consumer {
            seen_time: now,
            pending: Default::default(),
        });
    consumer.seen_time = now;
    consumer
}

fn nogroup_read(key: &[u8], group: &[u8]) -> Reply {
    err(&format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn xreadgroup(ctx: &mut Ctx) -> CommandResult {
    let args = parse_read(ctx, true)?;
    // What it changed reaches replicas as XCLAIM / XGROUP commands.
    ctx.prevent_propagation();
    let (group_name, consumer_name) = args.group.clone().expect("checked");
    let mut wanted = Vec::new();
    for k in 0..args.streams_count {
        let key = ctx.arg(args.streams_arg + k).to_vec();
        let raw = ctx.arg(args.streams_arg + args.streams_count + k).to_vec();
        let has_group = stream_read(ctx, &key)?.is_some_and(|s| s.groups.contains_key(&group_name));
        if !has_group {
            return Err(nogroup_read(&key, &group_name));
        }
        let id = if raw == b"$" {
            return Err(err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
        } else if raw == b">" {
            None
        } else {
            // xreadCommand stands `>` for the last possible id, so that id
            // given by hand reads new entries too.
            Some(strict_id(&raw, 0)?).filter(|id| *id != StreamId::MAX)
        };
        wanted.push((key, id));
    }
    let limit = args.count.filter(|c| *c > 0).unwrap_or(usize::MAX);
    let now = ctx.now;
    let db = ctx.db();
    let mut out = Vec::new();
    let mut waits = Vec::new();
    for (key, id) in wanted {
        let Some(s) = stream(ctx, &key)? else {
            continue;
        };
        let Some(from) = id else {
            // `>`: served now only when an entry is above the group's last
            // id; the consumer is created only then (as Redis 7.0 does).
            let group_last = s.groups.get(&group_name).expect("checked").last_id;
            if s.entries
                .keys()
                .next_back()
                .is_some_and(|l| *l > group_last)
            {
                let items = deliver_new(ctx, &key, &group_name, &consumer_name, limit, args.noack);
                out.push((Reply::bulk(&key), Reply::Array(items)));
            } else {
                waits.push((key, group_last));
            }
            continue;
        };
        // An id: the consumer's own history, always answered.
        let mut groups = s.groups.clone();
        let group = groups.get_mut(&group_name).expect("checked");
        let created = !group.consumers.contains_key(&consumer_name);
        let consumer = touch_consumer(group, &consumer_name, now);
        let ids: Vec<StreamId> = consumer
            .pending
            .range(from.incr().unwrap_or(StreamId::MAX)..)
            .take(limit)
            .copied()
            .collect();
        let mut items = Vec::with_capacity(ids.len());
        for eid in ids {
            // Only an entry still in the stream counts as delivered again
            // (streamReplyWithRangeFromConsumerPEL): a deleted one is
            // answered with a nil and keeps its time and count.
            items.push(match s.entries.get(&eid) {
                Some(fields) => {
                    if let Some(nack) = group.pel.get_mut(&eid) {
                        nack.delivery_time = now;
                        nack.delivery_count += 1;
                    }
                    entry_reply(eid, fields)
                }
                None => Reply::Array(vec![Reply::bulk(eid.text()), Reply::NilArray]),
            });
        }
        ctx.ks().stream_set_groups(db, &key, groups);
        if created {
            ctx.notify(STREAM, "xgroup-createconsumer", &key);
        }
        out.push((Reply::bulk(&key), Reply::Array(items)));
    }
    read_reply(ctx, &args, out, waits)
}

fn stream_has_tombstones_from(s: &Stream, id: StreamId) -> bool {
    if s.is_empty() || s.meta.max_deleted == StreamId::MIN {
        return false;
    }
    if s.first_id() > s.meta.max_deleted {
        return false;
    }
    id <= s.meta.max_deleted
}

fn xack(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let group_name = ctx.arg(2).to_vec();
    // As in Redis: no key or no group acknowledges nothing, before the ids are parsed.
    let Some(s) = stream_read(ctx, &key)? else {
        return Ok(Reply::Int(0));
    };
    let mut groups = s.groups.clone();
    let Some(group) = groups.get_mut(&group_name) else {
        return Ok(Reply::Int(0));
    };
    let mut ids = Vec::new();
    for i in 3..ctx.argv.len() {
        ids.push(strict_id(ctx.arg(i), 0)?);
    }
    let mut acked = 0;
    for id in ids {
        if let Some(nack) = group.pel.remove(&id) {
            if let Some(c) = group.consumers.get_mut(&nack.consumer) {
                c.pending.remove(&id);
            }
            acked += 1;
        }
    }
    let db = ctx.db();
    ctx.ks().stream_set_groups(db, &key, groups);
    Ok(Reply::Int(acked))
}

fn xpending(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let group_name = ctx.arg(2).to_vec();
    let argc = ctx.argv.len();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(err(errors::SYNTAX));
    }
    let mut min_idle: Option<i64> = None;
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count = 0i64;
    let mut consumer: Option<Bytes> = None;
    if !justinfo {
        let mut i = 3;
        if eq(ctx.arg(3), "idle") {
            let n = parse_i64(ctx.arg(4)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            if argc < 8 {
                return Err(err(errors::SYNTAX));
            }
            min_idle = Some(n.max(0));
            i += 2;
        }
        if argc > i + 3 {
            consumer = Some(ctx.arg(i + 3).to_vec());
        }
        count = parse_i64(ctx.arg(i + 2)).ok_or_else(|| err(errors::NOT_INTEGER))?;
        if count < 0 {
            count = 0;
        }
        start = parse_bound(ctx.arg(i), 0, true)?;
        end = parse_bound(ctx.arg(i + 1), u64::MAX, false)?;
    }
    let now = ctx.now;
    let s = stream(ctx, &key)?;
    let Some(group) = s.and_then(|s| s.groups.get(&group_name)) else {
        return Err(err(&format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            String::from_utf8_lossy(&key),
            String::from_utf8_lossy(&group_name)
        )));
    };
    if justinfo {
        if group.pel.is_empty() {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        }
        let first = *group.pel.keys().next().expect("non-empty");
        let last = *group.pel.keys().next_back().expect("non-empty");
        let consumers: Vec<Reply> = group
            .consumers
            .iter()
            .filter(|(_, c)| !c.pending.is_empty())
            .map(|(name, c)| {
                Reply::Array(vec![
                    Reply::bulk(name),
                    Reply::bulk(c.pending.len().to_string()),
                ])
            })
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(group.pel.len() as i64),
            Reply::bulk(first.text()),
            Reply::bulk(last.text()),
            Reply::Array(consumers),
        ]));
    }
    let mut out = Vec::new();
    if start <= end {
        for (id, nack) in group.pel.range(start..=end) {
            if out.len() as i64 >= count {
                break;
            }
            if consumer.as_ref().is_some_and(|c| *c != nack.consumer) {
                continue;
            }
            let idle = (now - nack.delivery_time).max(0);
            if min_idle.is_some_and(|m| idle < m) {
                continue;
            }
            out.push(Reply::Array(vec![
                Reply::bulk(id.text()),
                Reply::bulk(&nack.consumer),
                Reply::Int(idle),
                Reply::Int(nack.delivery_count as i64),
            ]));
        }
    }
    Ok(Reply::Array(out))
}

fn xsetid(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let id = strict_id(ctx.arg(2), 0)?;
    let mut entries_added: Option<u64> = None;
    let mut max_deleted: Option<StreamId> = None;
    let mut i = 3;
    while i < ctx.argv.len() {
        let more = ctx.argv.len() - i - 1;
        if eq(ctx.arg(i), "entriesadded") && more > 0 {
            let n = parse_i64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            if n < 0 {
                return Err(err("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
            i += 2;
        } else if eq(ctx.arg(i), "maxdeletedid") && more > 0 {
            let m = strict_id(ctx.arg(i + 1), 0)?;
            if id < m {
                return Err(err(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            max_deleted = Some(m);
            i += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    let Some(s) = stream(ctx, &key)? else {
        return Err(err("ERR no such key"));
    };
    // Checked against the last entry still there, not the last id given
    // out (Redis's streamLastValidID): an empty stream takes any id.
    if s.entries.keys().next_back().is_some_and(|top| id < *top) {
        return Err(err(
            "ERR The ID specified in XSETID is smaller than the target stream top item",
        ));
    }
    if let Some(n) = entries_added {
        if (s.len() as u64) > n {
            return Err(err(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    let mut meta = s.meta;
    meta.last_id = id;
    if let Some(n) = entries_added {
        meta.entries_added = n;
    }
    // MAXDELETEDID 0-0 leaves the counter as it is, as in Redis.
    if let Some(m) = max_deleted.filter(|m| *m != StreamId::MIN) {
        meta.max_deleted = m;
    }
    let db = ctx.db();
    ctx.ks().stream_set_meta(db, &key, meta);
    ctx.notify(STREAM, "xsetid", &key);
    Ok(Reply::ok())
}

fn xgroup(ctx: &mut Ctx) -> CommandResult {
    let sub = String::from_utf8_lossy(ctx.arg(1)).to_ascii_lowercase();
    let key = ctx.arg(2).to_vec();
    let group_name = ctx.arg(3).to_vec();
    let argc = ctx.argv.len();
    let mut mkstream = false;
    let mut entries_read: Option<Option<u64>> = None;
    let mut i = 5;
    while i < argc {
        if sub == "create" && eq(ctx.arg(i), "mkstream") {
            mkstream = true;
            i += 1;
        } else if (sub == "create" || sub == "setid")
            && eq(ctx.arg(i), "entriesread")
            && i + 1 < argc
        {
            let n = parse_i64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            if n < 0 && n != -1 {
                return Err(err("ERR value for ENTRIESREAD must be positive or -1"));
            }
            entries_read = Some((n >= 0).then_some(n as u64));
            i += 2;
        } else {
            return Err(errors::subcommand_syntax(ctx.arg(1), "xgroup"));
        }
    }
    let s = stream(ctx, &key)?.cloned_meta();
    if s.is_none() && !(sub == "create" && mkstream) {
        return Err(err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
    }
    let (meta, mut groups) = s.unwrap_or_default();
    let nogroup = |key: &[u8], group: &[u8]| {
        err(&format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group),
            String::from_utf8_lossy(key)
        ))
    };
    if (sub == "setid" || sub == "createconsumer" || sub == "delconsumer")
        && !groups.contains_key(&group_name)
    {
        return Err(nogroup(&key, &group_name));
    }
    let db = ctx.db();
    let now = ctx.now;
    let mut event = None;
    let reply = match sub.as_str() {
        "create" if argc <= 8 => {
            let raw = ctx.arg(4);
            let id = if raw == b"$" {
                meta.last_id
            } else {
                strict_id(raw, 0)?
            };
            ctx.ks().stream_create(db, &key);
            if groups.contains_key(&group_name) {
                return Err(err("BUSYGROUP Consumer Group name already exists"));
            }
            groups.insert(
                group_name.clone(),
                Group {
                    last_id: id,
                    entries_read: entries_read.flatten(),
                    ..Group::default()
                },
            );
            event = Some("xgroup-create");
            Reply::ok()
        }
        "setid" if argc == 5 || argc == 7 => {
            let raw = ctx.arg(4);
            let id = if raw == b"$" {
                meta.last_id
            } else {
                parse_id(raw, 0, false)?.0
            };
            let g = groups.get_mut(&group_name).expect("checked");
            g.last_id = id;
            g.entries_read = entries_read.flatten();
            event = Some("xgroup-setid");
            Reply::ok()
        }
        "destroy" if argc == 4 => {
            let destroyed = groups.remove(&group_name).is_some();
            if destroyed {
                // Readers blocked on the group get -NOGROUP.
                ctx.engine.signal_stream_ready(db, &key);
                event = Some("xgroup-destroy");
            }
            Reply::Int(destroyed as i64)
        }
        "createconsumer" if argc == 5 => {
            let g = groups.get_mut(&group_name).expect("checked");
            let name = ctx.arg(4).to_vec();
            match g.consumers.entry(name) {
                std::collections::btree_map::Entry::Occupied(_) => Reply::Int(0),
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(Consumer {
                        seen_time: now,
                        pending: Default::default(),
                    });
                    event = Some("xgroup-createconsumer");
                    Reply::Int(1)
                }
            }
        }
        "delconsumer" if argc == 5 => {
            let g = groups.get_mut(&group_name).expect("checked");
            match g.consumers.remove(ctx.arg(4)) {
                None => Reply::Int(0),
                Some(c) => {
                    for id in &c.pending {
                        g.pel.remove(id);
                    }
                    event = Some("xgroup-delconsumer");
                    Reply::Int(c.pending.len() as i64)
                }
            }
        }
        _ => return Err(errors::subcommand_syntax(ctx.arg(1), "xgroup")),
    };
    ctx.ks().stream_set_groups(db, &key, groups);
    if let Some(event) = event {
        ctx.notify(STREAM, event, &key);
    }
    Ok(reply)
}

trait ClonedMeta {
    fn cloned_meta(self) -> Option<(StreamMeta, crate::engine::value::Groups)>;
}

impl ClonedMeta for Option<&Stream> {
    fn cloned_meta(self) -> Option<(StreamMeta, crate::engine::value::Groups)> {
        self.map(|s| (s.meta, s.groups.clone()))
    }
}

/// XINFO GROUPS / CONSUMERS / STREAM (not FULL). The radix-tree figures
/// of XINFO STREAM count the stream's nodes and its radix tree's nodes.
fn xinfo(ctx: &mut Ctx) -> CommandResult {
    let sub = String::from_utf8_lossy(ctx.arg(1)).to_ascii_lowercase();
    let key = ctx.arg(2).to_vec();
    let syntax_reply = errors::subcommand_syntax(ctx.arg(1), "xinfo");
    let syntax = || syntax_reply.clone();
    // XINFO STREAM key [FULL [COUNT n]]: COUNT defaults to 10, 0 (or
    // less) shows everything. Checked once the key is found, as Redis does.
    let full: Result<Option<usize>, Reply> = match (sub.as_str(), ctx.argv.len()) {
        ("stream", 3) => Ok(None),
        ("stream", 4) if eq(ctx.arg(3), "full") => Ok(Some(10)),
        ("stream", 6) if eq(ctx.arg(3), "full") && eq(ctx.arg(4), "count") => {
            match parse_i64(ctx.arg(5)) {
                Some(n) if n <= 0 => Ok(Some(usize::MAX)),
                Some(n) => Ok(Some(n as usize)),
                None => Err(err(errors::NOT_INTEGER)),
            }
        }
        ("stream", _) => Err(syntax()),
        _ => Ok(None),
    };
    let group_arg = ctx.argv.get(3).cloned();
    let now = ctx.now;
    let Some(s) = stream(ctx, &key)? else {
        return Err(err("ERR no such key"));
    };
    let s = s.clone();
    let full = full?;
    let ctx = &*ctx;
    match sub.as_str() {
        "consumers" => {
            let group_name = group_arg.expect("arity 4");
            let Some(group) = s.groups.get(&group_name) else {
                return Err(err(&format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(&group_name),
                    String::from_utf8_lossy(&key)
                )));
            };
            Ok(Reply::Array(
                group
                    .consumers
                    .iter()
                    .map(|(name, c)| {
                        map_reply(
                            ctx,
                            vec![
                                ("name", Reply::bulk(name)),
                                ("pending", Reply::Int(c.pending.len() as i64)),
                                ("idle", Reply::Int((now - c.seen_time).max(0))),
                            ],
                        )
                    })
                    .collect(),
            ))
        }
        "groups" => Ok(Reply::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    map_reply(
                        ctx,
                        vec![
                            ("name", Reply::bulk(name)),
                            ("consumers", Reply::Int(g.consumers.len() as i64)),
                            ("pending", Reply::Int(g.pel.len() as i64)),
                            ("last-delivered-id", Reply::bulk(g.last_id.text())),
                            (
                                "entries-read",
                                g.entries_read.map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                            ),
                            (
                                "lag",
                                s.group_lag(g).map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                            ),
                        ],
                    )
                })
                .collect(),
        )),
        "stream" if full.is_some() => Ok(xinfo_full(ctx, &s, full.unwrap_or(10))),
        "stream" => {
            let nodes = s.nodes.len();
            let edge = |e: Option<(&StreamId, &StreamFields)>| {
                e.map_or(Reply::Nil, |(id, f)| entry_reply(*id, f))
            };
            Ok(map_reply(
                ctx,
                vec![
                    ("length", Reply::Int(s.len() as i64)),
                    ("radix-tree-keys", Reply::Int(nodes as i64)),
                    ("radix-tree-nodes", Reply::Int(s.radix_tree_nodes() as i64)),
                    ("last-generated-id", Reply::bulk(s.meta.last_id.text())),
                    (
                        "max-deleted-entry-id",
                        Reply::bulk(s.meta.max_deleted.text()),
                    ),
                    ("entries-added", Reply::Int(s.meta.entries_added as i64)),
                    ("recorded-first-entry-id", Reply::bulk(s.first_id().text())),
                    ("groups", Reply::Int(s.groups.len() as i64)),
                    ("first-entry", edge(s.entries.iter().next())),
                    ("last-entry", edge(s.entries.iter().next_back())),
                ],
            ))
        }
        _ => Err(syntax()),
    }
}

/// XINFO STREAM key FULL: every field of the stream, up to `count`
/// entries, and each group with up to `count` of its PEL and of each
/// consumer's (Redis 7.0's xinfoReplyWithStreamInfo, full form).
fn xinfo_full(ctx: &Ctx, s: &Stream, count: usize) -> Reply {
    let nodes = s.nodes.len();
    let entries: Vec<Reply> = s
        .entries
        .iter()
        .take(count)
        .map(|(id, f)| entry_reply(*id, f))
        .collect();
    let groups: Vec<Reply> = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pel: Vec<Reply> = g
                .pel
                .iter()
                .take(count)
                .map(|(id, nack)| {
                    Reply::Array(vec![
                        Reply::bulk(id.text()),
                        Reply::bulk(&nack.consumer),
                        Reply::Int(nack.delivery_time),
                        Reply::Int(nack.delivery_count as i64),
                    ])
                })
                .collect();
            let consumers: Vec<Reply> = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let pending: Vec<Reply> = c
                        .pending
                        .iter()
                        .take(count)
                        .map(|id| {
                            let nack = g.pel.get(id);
                            Reply::Array(vec![
                                Reply::bulk(id.text()),
                                Reply::Int(nack.map_or(0, |n| n.delivery_time)),
                                Reply::Int(nack.map_or(0, |n| n.delivery_count as i64)),
                            ])
                        })
                        .collect();
                    map_reply(
                        ctx,
                        vec![
                            ("name", Reply::bulk(cname)),
                            ("seen-time", Reply::Int(c.seen_time)),
                            ("pel-count", Reply::Int(c.pending.len() as i64)),
                            ("pending", Reply::Array(pending)),
                        ],
                    )
                })
                .collect();
            map_reply(
                ctx,
                vec![
                    ("name", Reply::bulk(name)),
                    ("last-delivered-id", Reply::bulk(g.last_id.text())),
                    (
                        "entries-read",
                        g.entries_read.map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                    ),
                    (
                        "lag",
                        s.group_lag(g).map_or(Reply::Nil, |n| Reply::Int(n as i64)),
                    ),
                    ("pel-count", Reply::Int(g.pel.len() as i64)),
                    ("pending", Reply::Array(pel)),
                    ("consumers", Reply::Array(consumers)),
                ],
            )
        })
        .collect();
    map_reply(
        ctx,
        vec![
            ("length", Reply::Int(s.len() as i64)),
            ("radix-tree-keys", Reply::Int(nodes as i64)),
            ("radix-tree-nodes", Reply::Int(s.radix_tree_nodes() as i64)),
            ("last-generated-id", Reply::bulk(s.meta.last_id.text())),
            (
                "max-deleted-entry-id",
                Reply::bulk(s.meta.max_deleted.text()),
            ),
            ("entries-added", Reply::Int(s.meta.entries_added as i64)),
            ("recorded-first-entry-id", Reply::bulk(s.first_id().text())),
            ("entries", Reply::Array(entries)),
            ("groups", Reply::Array(groups)),
        ],
    )
}

fn xinfo_help(_ctx: &mut Ctx) -> CommandResult {
    Ok(super::help(&[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]))
}

fn xgroup_help(_ctx: &mut Ctx) -> CommandResult {
    Ok(super::help(&[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]))
}

fn nogroup_claim(key: &[u8], group: &[u8]) -> Reply {
    err(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// Gives a pending entry to `consumer` (creating it), as XCLAIM and
/// XAUTOCLAIM do.
fn give(
    group: &mut Group,
    id: StreamId,
    consumer: &[u8],
    delivery_time: i64,
    count: Option<u64>,
    now: i64,
) {
    let c = group
        .consumers
        .entry(consumer.to_vec())
        .or_insert_with(|| Consumer {
            seen_time: now,
            pending: Default::default(),
        });
    c.seen_time = now;
    c.pending.insert(id);
    let nack = group.pel.get_mut(&id).expect("pending");
    let previous = std::mem::replace(&mut nack.consumer, consumer.to_vec());
    nack.delivery_time = delivery_time;
    if let Some(n) = count {
        nack.delivery_count = n;
    }
    if previous != consumer {
        if let Some(p) = group.consumers.get_mut(&previous) {
            p.pending.remove(&id);
        }
    }
}

fn xclaim(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let group_name = ctx.arg(2).to_vec();
    let consumer = ctx.arg(3).to_vec();
    let now = ctx.now;
    let Some(s) = stream_read(ctx, &key)? else {
        return Err(nogroup_claim(&key, &group_name));
    };
    if !s.groups.contains_key(&group_name) {
        return Err(nogroup_claim(&key, &group_name));
    }
    let mut groups = s.groups.clone();
    let min_idle = parse_i64(ctx.arg(4))
        .ok_or_else(|| err("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < ctx.argv.len() {
        match strict_id(ctx.arg(j), 0) {
            Ok(id) => ids.push((id, ctx.arg(j).to_vec())),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retry: Option<i64> = None;
    let mut delivery: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < ctx.argv.len() {
        let more = ctx.argv.len() - 1 - j;
        let opt = ctx.arg(j);
        let int_at = |j: usize, what: &str| {
            parse_i64(ctx.arg(j))
                .ok_or_else(|| err(&format!("ERR Invalid {what} option argument for XCLAIM")))
        };
        if eq(opt, "force") {
            force = true;
        } else if eq(opt, "justid") {
            justid = true;
        } else if eq(opt, "idle") && more > 0 {
            j += 1;
            delivery = Some(now - int_at(j, "IDLE")?);
        } else if eq(opt, "time") && more > 0 {
            j += 1;
            delivery = Some(int_at(j, "TIME")?);
        } else if eq(opt, "retrycount") && more > 0 {
            j += 1;
            retry = Some(int_at(j, "RETRYCOUNT")?);
        } else if eq(opt, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(ctx.arg(j), 0)?;
        } else {
            return Err(err(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let s = stream(ctx, &key)?.expect("checked");
    let group = groups.get_mut(&group_name).expect("checked");
    let mut propagate = Vec::new();
    let mut propagate_last_id = false;
    if last_id > group.last_id {
        group.last_id = last_id;
        propagate_last_id = true;
    }
    let delivery = match delivery {
        Some(t) if t >= 0 && t <= now => t,
        _ => now,
    };
    let mut out = Vec::new();
    for (id, text) in ids {
        let pending = group.pel.get(&id).cloned();
        let Some(fields) = s.entries.get(&id) else {
            if let Some(nack) = pending {
                propagate.push(xclaim_argv(&key, &group_name, &text, &nack, group));
                group.pel.remove(&id);
                if let Some(c) = group.consumers.get_mut(&nack.consumer) {
                    c.pending.remove(&id);
                }
            }
            continue;
        };
        let nack = match pending {
            Some(nack) => nack,
            None if force => {
                let nack = PendingEntry {
                    consumer: Vec::new(),
                    delivery_time: now,
                    delivery_count: 1,
                };
                group.pel.insert(id, nack.clone());
                nack
            }
            None => continue,
        };
        if !nack.consumer.is_empty() && min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let count = match retry {
            Some(n) if n >= 0 => Some(n as u64),
            _ if !justid => Some(nack.delivery_count + 1),
            _ => None,
        };
        give(group, id, &consumer, delivery, count, now);
        let nack = group.pel.get(&id).expect("given");
        propagate.push(xclaim_argv(&key, &group_name, &text, nack, group));
        out.push(if justid {
            Reply::bulk(id.text())
        } else {
            entry_reply(id, fields)
        });
    }
    if propagate.is_empty() && propagate_last_id {
        propagate.push(setid_argv(&key, &group_name, group));
    }
    let created = consumer_created(s, &groups, &group_name, &consumer);
    ctx.prevent_propagation();
    for argv in propagate {
        ctx.also_propagate(argv);
    }
    let db = ctx.db();
    ctx.ks().stream_set_groups(db, &key, groups);
    if created {
        ctx.notify(STREAM, "xgroup-createconsumer", &key);
    }
    Ok(Reply::Array(out))
}

/// Whether claiming created the consumer (its `xgroup-createconsumer`).
fn consumer_created(
    before: &Stream,
    after: &crate::engine::value::Groups,
    group: &[u8],
    consumer: &[u8],
) -> bool {
    let had = |groups: &crate::engine::value::Groups| {
        groups
            .get(group)
            .is_some_and(|g| g.consumers.contains_key(consumer))
    };
    !had(&before.groups) && had(after)
}

fn xautoclaim(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let group_name = ctx.arg(2).to_vec();
    let consumer = ctx.arg(3).to_vec();
    let now = ctx.now;
    let min_idle = parse_i64(ctx.arg(4))
        .ok_or_else(|| err("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_bound(ctx.arg(5), 0, true)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < ctx.argv.len() {
        let more = ctx.argv.len() - 1 - j;
        if eq(ctx.arg(j), "count") && more > 0 {
            count = parse_i64(ctx.arg(j + 1))
                .filter(|n| (1..=i64::MAX / 16).contains(n))
                .ok_or_else(|| err("ERR COUNT must be > 0"))?;
            j += 1;
        } else if eq(ctx.arg(j), "justid") {
            justid = true;
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    let Some(s) = stream_read(ctx, &key)? else {
        return Err(nogroup_claim(&key, &group_name));
    };
    if !s.groups.contains_key(&group_name) {
        return Err(nogroup_claim(&key, &group_name));
    }
    let mut groups = s.groups.clone();
    let group = groups.get_mut(&group_name).expect("checked");
    let ids: Vec<StreamId> = group.pel.range(start..).map(|(id, _)| *id).collect();
    let mut propagate = Vec::new();
    let mut attempts = count.saturating_mul(10);
    let mut idx = 0;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    loop {
        let go = attempts > 0;
        attempts -= 1;
        if !go || count == 0 || idx >= ids.len() {
            break;
        }
        let id = ids[idx];
        idx += 1;
        let Some(fields) = s.entries.get(&id) else {
            if let Some(nack) = group.pel.get(&id) {
                propagate.push(xclaim_argv(&key, &group_name, &id.text(), nack, group));
            }
            if let Some(nack) = group.pel.remove(&id) {
                if let Some(c) = group.consumers.get_mut(&nack.consumer) {
                    c.pending.remove(&id);
                }
            }
            deleted.push(Reply::bulk(id.text()));
            count -= 1;
            continue;
        };
        let nack = group.pel.get(&id).expect("listed");
        if min_idle > 0 && now - nack.delivery_time < min_idle {
            continue;
        }
        let delivered = (!justid).then_some(nack.delivery_count + 1);
        give(group, id, &consumer, now, delivered, now);
        let nack = group.pel.get(&id).expect("given");
        propagate.push(xclaim_argv(&key, &group_name, &id.text(), nack, group));
        claimed.push(if justid {
            Reply::bulk(id.text())
        } else {
            entry_reply(id, fields)
        });
        count -= 1;
    }
    let next = ids.get(idx).copied().unwrap_or(StreamId::MIN);
    let created = consumer_created(s, &groups, &group_name, &consumer);
    ctx.prevent_propagation();
    for argv in propagate {
        ctx.also_propagate(argv);
    }
    let db = ctx.db();
    ctx.ks().stream_set_groups(db, &key, groups);
    if created {
        ctx.notify(STREAM, "xgroup-createconsumer", &key);
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.text()),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}
