//! Connection and server commands: PING, ECHO, SELECT, DBSIZE, FLUSH*,
//! QUIT, HELLO, RESET, COMMAND, TIME, INFO, CLIENT, CONFIG, SWAPDB, MOVE,
//! OBJECT, AUTH, LASTSAVE.

use crate::engine::errors::{self, err};
use crate::engine::keyspace::DATABASES;
use crate::engine::memory::human_bytes;
use crate::engine::numbers::parse_i64;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::{catalog, glob, notify, CommandResult, Ctx, Reply};

use super::eq;

pub(crate) const REDIS_VERSION: &str = "7.0.15";

/// DEBUG's answer: Redis 7.0 refuses it unless its configuration file sets
/// `enable-debug-command` (immutable, `no` by default), and redstep has no
/// such file.
pub(crate) const DEBUG_REFUSED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

const KEY1: (i32, i32, i32) = (1, 1, 1);
const NOKEYS: (i32, i32, i32) = (0, 0, 0);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST | SUBSCRIBED_OK, NOKEYS, ping),
    CommandSpec::new("echo", 2, FAST, NOKEYS, echo),
    CommandSpec::new("wait", 3, NOSCRIPT, NOKEYS, wait),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, NOKEYS, select),
    CommandSpec::new("dbsize", 1, READONLY | FAST, NOKEYS, dbsize),
    CommandSpec::new("flushall", -1, WRITE, NOKEYS, flushall),
    CommandSpec::new("flushdb", -1, WRITE, NOKEYS, flushdb),
    CommandSpec::new(
        "quit",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | SUBSCRIBED_OK | NOT_QUEUED | ALLOW_BUSY | NO_AUTH,
        NOKEYS,
        quit,
    ),
    CommandSpec::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | SUBSCRIBED_OK | NOT_QUEUED | ALLOW_BUSY | NO_AUTH,
        NOKEYS,
        reset,
    ),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_AUTH,
        NOKEYS,
        hello,
    ),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | NO_AUTH,
        NOKEYS,
        auth,
    ),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, NOKEYS, time),
    CommandSpec::new("lastsave", 1, LOADING | STALE | FAST, NOKEYS, lastsave),
    CommandSpec::new(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        monitor,
    ),
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY | NO_MULTI,
        NOKEYS,
        shutdown,
    ),
    CommandSpec::new("info", -1, LOADING | STALE, NOKEYS, info),
    // Refused before it runs (see `DEBUG_REFUSED`); in scripts, as noscript.
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NOKEYS,
        |_| Err(err(DEBUG_REFUSED)),
    ),
    CommandSpec::new("swapdb", 3, WRITE | FAST, NOKEYS, swapdb),
    CommandSpec::new("move", 3, WRITE | FAST, KEY1, move_key),
    CommandSpec::container(
        "command",
        -1,
        LOADING | STALE,
        COMMAND_SUBCOMMANDS,
        command_all,
    ),
    CommandSpec::container_of("client", 0, CLIENT_SUBCOMMANDS),
    CommandSpec::container_of("config", 0, CONFIG_SUBCOMMANDS),
    CommandSpec::container_of("slowlog", 0, SLOWLOG_SUBCOMMANDS),
    CommandSpec::container_of("object", 0, OBJECT_SUBCOMMANDS),
    CommandSpec::container_of("cluster", 0, CLUSTER_SUBCOMMANDS),
];

const COMMAND_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub("command|count", "count", 2, LOADING | STALE, command_count),
    CommandSpec::sub("command|info", "info", -2, LOADING | STALE, command_info),
    CommandSpec::sub("command|list", "list", -2, LOADING | STALE, command_list),
    CommandSpec::sub(
        "command|getkeys",
        "getkeys",
        -4,
        LOADING | STALE,
        command_getkeys,
    ),
    CommandSpec::sub(
        "command|getkeysandflags",
        "getkeysandflags",
        -4,
        LOADING | STALE,
        command_getkeys,
    ),
    CommandSpec::sub("command|docs", "docs", -2, LOADING | STALE, command_docs),
    CommandSpec::sub("command|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::COMMAND))
    }),
];

const CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub("client|id", "id", 2, NOSCRIPT | LOADING | STALE, client_id),
    CommandSpec::sub(
        "client|getname",
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        client_getname,
    ),
    CommandSpec::sub(
        "client|setname",
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        client_setname,
    ),
    CommandSpec::sub(
        "client|list",
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_list,
    ),
    CommandSpec::sub(
        "client|info",
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        client_info,
    ),
    CommandSpec::sub(
        "client|reply",
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        client_reply,
    ),
    CommandSpec::sub(
        "client|unblock",
        "unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_unblock,
    ),
    CommandSpec::sub(
        "client|kill",
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_kill,
    ),
    CommandSpec::sub(
        "client|pause",
        "pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_pause,
    ),
    CommandSpec::sub(
        "client|unpause",
        "unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_unpause,
    ),
    CommandSpec::sub(
        "client|no-evict",
        "no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        client_no_evict,
    ),
    CommandSpec::sub(
        "client|getredir",
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        |ctx| Ok(Reply::Int(redirect_of(ctx.client))),
    ),
    CommandSpec::sub(
        "client|trackinginfo",
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        client_trackinginfo,
    ),
    CommandSpec::sub(
        "client|tracking",
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        client_tracking,
    ),
    CommandSpec::sub(
        "client|caching",
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        client_caching,
    ),
    CommandSpec::sub("client|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::CLIENT))
    }),
];

// Client-side caching (CLIENT TRACKING) is not implemented: a client is
// never in tracking mode, and the commands about it answer as Redis does
// for one that is not (GETREDIR -1, TRACKINGINFO off, CACHING refused).
const NOT_TRACKING: &str = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled";

/// CLIENT NO-EVICT ON|OFF: redstep evicts no client (its output buffers
/// are capped per client instead), so the flag changes nothing.
fn client_no_evict(ctx: &mut Ctx) -> CommandResult {
    let on_off = ctx.arg(2).to_ascii_lowercase();
    if on_off == b"on" || on_off == b"off" {
        Ok(Reply::ok())
    } else {
        Err(err(errors::SYNTAX))
    }
}

/// CLIENT TRACKINGINFO of a client not in tracking mode.
/// CLIENT GETREDIR's and CLIENT LIST's `redir`: -1 when not tracking.
fn redirect_of(client: &crate::engine::Client) -> i64 {
    client.tracking.as_ref().map_or(-1, |m| m.redirect as i64)
}

fn client_trackinginfo(ctx: &mut Ctx) -> CommandResult {
    let mode = ctx.client.tracking.as_deref();
    let mut flags = Vec::new();
    match mode {
        None => flags.push("off"),
        Some(m) => {
            flags.push("on");
            for (on, name) in [
                (m.bcast, "bcast"),
                (m.optin, "optin"),
                (m.optin && m.caching, "caching-yes"),
                (m.optout, "optout"),
                (m.optout && m.caching, "caching-no"),
                (m.noloop, "noloop"),
                (m.broken, "broken_redirect"),
            ] {
                if on {
                    flags.push(name);
                }
            }
        }
    }
    let flags: Vec<Reply> = flags.into_iter().map(Reply::bulk).collect();
    let prefixes = Reply::bulks(
        mode.map(|m| m.prefixes.iter().cloned().collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    let flags = if ctx.resp3() {
        Reply::Set(flags)
    } else {
        Reply::Array(flags)
    };
    let redirect = redirect_of(ctx.client);
    Ok(super::map_reply(
        ctx,
        vec![
            ("flags", flags),
            ("redirect", Reply::Int(redirect)),
            ("prefixes", prefixes),
        ],
    ))
}

/// CLIENT CACHING yes|no: whether the next command's reads are
/// remembered (OPTIN: yes; OPTOUT: no).
fn client_caching(ctx: &mut Ctx) -> CommandResult {
    let Some(mode) = ctx.client.tracking.as_deref_mut() else {
        return Err(err(NOT_TRACKING));
    };
    let arg = ctx.argv[2].to_ascii_lowercase();
    match arg.as_slice() {
        b"yes" if mode.optin => mode.caching = true,
        b"yes" => {
            return Err(err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ))
        }
        b"no" if mode.optout => mode.caching = true,
        b"no" => {
            return Err(err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ))
        }
        _ => return Err(err(errors::SYNTAX)),
    }
    Ok(Reply::ok())
}

/// CLIENT PAUSE timeout [WRITE|ALL]: hold back every command (ALL, the
/// default) or those that may write (WRITE) for `timeout` ms.
fn client_pause(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 4 {
        return Err(errors::subcommand_syntax(ctx.arg(1), "client"));
    }
    let all = match ctx.argv.get(3) {
        None => true,
        Some(mode) if mode.eq_ignore_ascii_case(b"all") => true,
        Some(mode) if mode.eq_ignore_ascii_case(b"write") => false,
        Some(_) => return Err(err("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    // getTimeoutFromObjectOrReply: ms from now; 0 (or an end that wraps
    // past i64, as in C) has already passed, so it pauses nothing.
    let timeout = parse_i64(ctx.arg(2))
        .ok_or_else(|| err("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(err("ERR timeout is negative"));
    }
    let end = if timeout > 0 {
        timeout.wrapping_add(ctx.engine.wall_clock_ms())
    } else {
        0
    };
    ctx.engine.pause_clients(end, all);
    Ok(Reply::ok())
}

/// WAIT numreplicas timeout, as Redis 7.0 answers with no replica
/// attached (redstep has none): none acknowledges, so 0 at once when no
/// replica is asked for or the client cannot block (MULTI), else 0 when the
/// timeout (ms; 0 waits for ever) ends or CLIENT UNBLOCK comes.
fn wait(ctx: &mut Ctx) -> CommandResult {
    let replicas = parse_i64(ctx.arg(1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
    let timeout = parse_i64(ctx.arg(2))
        .ok_or_else(|| err("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(err(errors::TIMEOUT_NEGATIVE));
    }
    if replicas <= 0 || !ctx.may_block() {
        return Ok(Reply::Int(0));
    }
    // A deadline past i64 (Redis 7.0's wraps, and its timeout table never
    // reaches it) waits for ever.
    let deadline = match timeout {
        0 => None,
        ms => ms.checked_add(ctx.engine.wall_clock_ms()),
    };
    super::lists::block_or(ctx, Vec::new(), deadline, Reply::Int(0))
}

/// CLIENT UNPAUSE: held commands run now, in the order they came.
fn client_unpause(ctx: &mut Ctx) -> CommandResult {
    ctx.engine.unpause_clients();
    Ok(Reply::ok())
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR].
fn client_unblock(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 4 {
        return Err(err(errors::SYNTAX));
    }
    let id = parse_i64(ctx.arg(2)).ok_or_else(|| err(errors::NOT_INTEGER))?;
    let error = match ctx.argv.get(3).map(|a| a.to_ascii_lowercase()) {
        None => false,
        Some(r) if r == b"timeout" => false,
        Some(r) if r == b"error" => true,
        Some(_) => return Err(err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
    };
    let done = id >= 0 && ctx.engine.unblock_client(id as u64, error);
    Ok(Reply::Int(i64::from(done)))
}

/// CLIENT KILL addr:port, or CLIENT KILL [ID id] [ADDR a] [LADDR a] [USER u]
/// [SKIPME yes|no] ...: closes the matching connections.
fn client_kill(ctx: &mut Ctx) -> CommandResult {
    let me = ctx.client.id;
    let all: Vec<(u64, String, String, bool)> = ctx
        .engine
        .clients()
        .map(|c| (c.id, c.addr.clone(), c.laddr.clone(), c.subscribed()))
        .chain(std::iter::once((
            me,
            ctx.client.addr.clone(),
            ctx.client.laddr.clone(),
            ctx.client.subscribed(),
        )))
        .collect();
    if ctx.argv.len() == 3 {
        // The old form: one address, an error when nobody has it.
        let addr = String::from_utf8_lossy(ctx.arg(2)).into_owned();
        let Some((id, ..)) = all.iter().find(|(_, a, ..)| *a == addr) else {
            return Err(err("ERR No such client"));
        };
        ctx.engine.killed.push(*id);
        return Ok(Reply::ok());
    }
    if !(ctx.argv.len() - 2).is_multiple_of(2) {
        return Err(err(errors::SYNTAX));
    }
    let (mut id, mut addr, mut laddr, mut user, mut skipme) = (None, None, None, None, true);
    // TYPE: Some(Some(pubsub?)), or Some(None) for a type no client has.
    let mut kind: Option<Option<bool>> = None;
    for pair in ctx.argv[2..].chunks(2) {
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        match pair[0].to_ascii_lowercase().as_slice() {
            b"id" => match value.parse::<u64>() {
                Ok(n) if n > 0 => id = Some(n),
                _ => return Err(err("ERR client-id should be greater than 0")),
            },
            b"type" => kind = Some(client_type(&pair[1])?),
            b"addr" => addr = Some(value),
            b"laddr" => laddr = Some(value),
            b"user" => user = Some(value),
            b"skipme" => match value.to_ascii_lowercase().as_str() {
                "yes" => skipme = true,
                "no" => skipme = false,
                _ => return Err(err(errors::SYNTAX)),
            },
            _ => return Err(err(errors::SYNTAX)),
        }
    }
    if let Some(u) = user.as_deref().filter(|u| *u != "default") {
        return Err(Reply::error(format!("ERR No such user '{u}'")));
    }
    let mut killed = 0;
    for (cid, caddr, claddr, pubsub) in all {
        let matches = id.is_none_or(|i| i == cid)
            && kind.is_none_or(|k| k == Some(pubsub))
            && addr.as_ref().is_none_or(|a| *a == caddr)
            && laddr.as_ref().is_none_or(|a| *a == claddr);
        if matches && !(skipme && cid == me) {
            ctx.engine.killed.push(cid);
            killed += 1;
        }
    }
    Ok(Reply::Int(killed))
}

/// CLIENT REPLY ON|OFF|SKIP: the host leaves out the replies it turns off.
fn client_reply(ctx: &mut Ctx) -> CommandResult {
    use crate::engine::ReplyMode;
    ctx.client.reply_mode = match ctx.arg(2).to_ascii_lowercase().as_slice() {
        b"on" => ReplyMode::On,
        b"off" => ReplyMode::Off,
        b"skip" => ReplyMode::Skip,
        _ => return Err(err(errors::SYNTAX)),
    };
    Ok(Reply::ok())
}

const SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "slowlog|get",
        "get",
        -2,
        ADMIN | LOADING | STALE,
        slowlog_get,
    ),
    CommandSpec::sub(
        "slowlog|len",
        "len",
        2,
        ADMIN | LOADING | STALE,
        slowlog_len,
    ),
    CommandSpec::sub(
        "slowlog|reset",
        "reset",
        2,
        ADMIN | LOADING | STALE,
        slowlog_reset,
    ),
    CommandSpec::sub("slowlog|help", "help", 2, LOADING | STALE, slowlog_help),
];

/// SLOWLOG GET [count]: the newest `count` entries (10; -1 for all), each
/// `[id, unix time, microseconds, arguments, client address, client name]`.
fn slowlog_get(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 3 {
        return Err(errors::subcommand_syntax(ctx.arg(1), "slowlog"));
    }
    let count = match ctx.argv.get(2) {
        None => 10,
        Some(arg) => match parse_i64(arg) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return Err(err("ERR count should be greater than or equal to -1")),
        },
    };
    Ok(Reply::Array(
        ctx.engine
            .slowlog
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id),
                    Reply::Int(e.time_s),
                    Reply::Int(e.micros),
                    Reply::bulks(&e.argv),
                    Reply::bulk(&e.peer),
                    Reply::bulk(&e.name),
                ])
            })
            .collect(),
    ))
}

fn slowlog_len(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(ctx.engine.slowlog.len() as i64))
}

fn slowlog_reset(ctx: &mut Ctx) -> CommandResult {
    ctx.engine.slowlog.clear();
    Ok(Reply::ok())
}

fn slowlog_help(_ctx: &mut Ctx) -> CommandResult {
    Ok(super::help(&[
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ]))
}

const CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "config|get",
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_get,
    ),
    CommandSpec::sub(
        "config|set",
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_set,
    ),
    CommandSpec::sub(
        "config|resetstat",
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        config_resetstat,
    ),
    // Nothing is kept on disk: as a Redis started without a config file.
    CommandSpec::sub(
        "config|rewrite",
        "rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        |_| Err(err("ERR The server is running without a config file")),
    ),
    CommandSpec::sub("config|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::CONFIG))
    }),
];

/// CLUSTER's subcommands (Redis 7.0's arities and flags): redstep is one
/// standalone server, so each answers as Redis does with cluster support
/// disabled.
const CLUSTER_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "cluster|addslots",
        "addslots",
        -3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|addslotsrange",
        "addslotsrange",
        -4,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|bumpepoch",
        "bumpepoch",
        2,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|count-failure-reports",
        "count-failure-reports",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|countkeysinslot",
        "countkeysinslot",
        3,
        STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|delslots",
        "delslots",
        -3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|delslotsrange",
        "delslotsrange",
        -4,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|failover",
        "failover",
        -2,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|flushslots",
        "flushslots",
        2,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|forget",
        "forget",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|getkeysinslot",
        "getkeysinslot",
        4,
        STALE,
        cluster_disabled,
    ),
    CommandSpec::sub("cluster|help", "help", 2, LOADING | STALE, cluster_disabled),
    CommandSpec::sub("cluster|info", "info", 2, STALE, cluster_disabled),
    CommandSpec::sub("cluster|keyslot", "keyslot", 3, STALE, cluster_disabled),
    CommandSpec::sub("cluster|links", "links", 2, STALE, cluster_disabled),
    CommandSpec::sub("cluster|meet", "meet", -4, ADMIN | STALE, cluster_disabled),
    CommandSpec::sub("cluster|myid", "myid", 2, STALE, cluster_disabled),
    CommandSpec::sub("cluster|nodes", "nodes", 2, STALE, cluster_disabled),
    CommandSpec::sub(
        "cluster|replicas",
        "replicas",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|replicate",
        "replicate",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|reset",
        "reset",
        -2,
        ADMIN | NOSCRIPT | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|saveconfig",
        "saveconfig",
        2,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|set-config-epoch",
        "set-config-epoch",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub(
        "cluster|setslot",
        "setslot",
        -4,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub("cluster|shards", "shards", 2, STALE, cluster_disabled),
    CommandSpec::sub(
        "cluster|slaves",
        "slaves",
        3,
        ADMIN | STALE,
        cluster_disabled,
    ),
    CommandSpec::sub("cluster|slots", "slots", 2, STALE, cluster_disabled),
];

fn cluster_disabled(_: &mut Ctx) -> CommandResult {
    Err(err("ERR This instance has cluster support disabled"))
}

const OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("object|encoding", "encoding", 3, READONLY, object_encoding)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("object|refcount", "refcount", 3, READONLY, object_refcount)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("object|idletime", "idletime", 3, READONLY, object_idletime)
    },
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("object|freq", "freq", 3, READONLY, object_freq)
    },
    CommandSpec::sub("object|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::OBJECT))
    }),
];

fn ping(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 2 {
        return Err(errors::arity("ping"));
    }
    // A subscribed RESP2 client gets ["pong", msg]; RESP3 keeps replies
    // and pushes apart, so PING answers as usual there.
    let subscribed = ctx.client.subscribed() && !ctx.resp3();
    match (ctx.argv.get(1), subscribed) {
        (None, false) => Ok(Reply::status("PONG")),
        (Some(msg), false) => Ok(Reply::bulk(msg)),
        (msg, true) => Ok(Reply::bulks([
            &b"pong"[..],
            msg.map(|m| m.as_slice()).unwrap_or(b""),
        ])),
    }
}

fn echo(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::bulk(ctx.arg(1)))
}

/// A database index argument; `what` names it in the not-an-integer error.
/// A database index as getIntFromObjectOrReply reads it: with Redis's own
/// messages (`not_integer` is NOT_INTEGER) a 64-bit integer out of the
/// `int` range has its own error; a command's message covers both.
pub(crate) fn db_index(ctx: &Ctx, i: usize, not_integer: &str) -> Result<usize, Reply> {
    let n = parse_i64(ctx.arg(i)).ok_or_else(|| err(not_integer))?;
    if i32::try_from(n).is_err() {
        return Err(err(if not_integer == errors::NOT_INTEGER {
            "ERR value is out of range, value must between -2147483648 and 2147483647"
        } else {
            not_integer
        }));
    }
    usize::try_from(n)
        .ok()
        .filter(|n| *n < DATABASES)
        .ok_or_else(|| err(errors::DB_INDEX))
}

fn select(ctx: &mut Ctx) -> CommandResult {
    ctx.client.db = db_index(ctx, 1, errors::NOT_INTEGER)?;
    Ok(Reply::ok())
}

fn dbsize(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(ctx.engine.keyspace.db(ctx.db()).len() as i64))
}

fn flush_mode(ctx: &Ctx) -> Result<(), Reply> {
    match ctx.argv.len() {
        1 => Ok(()),
        2 if eq(ctx.arg(1), "sync") || eq(ctx.arg(1), "async") => Ok(()),
        _ => Err(err(errors::SYNTAX)),
    }
}

fn flushall(ctx: &mut Ctx) -> CommandResult {
    flush_mode(ctx)?;
    ctx.ks().flush(None);
    Ok(Reply::ok())
}

fn flushdb(ctx: &mut Ctx) -> CommandResult {
    flush_mode(ctx)?;
    let db = ctx.db();
    ctx.ks().flush(Some(db));
    Ok(Reply::ok())
}

fn quit(ctx: &mut Ctx) -> CommandResult {
    ctx.client.closing = true;
    Ok(Reply::ok())
}

fn reset(ctx: &mut Ctx) -> CommandResult {
    ctx.client.multi = None;
    ctx.client.multi_error = false;
    ctx.client.db = 0;
    ctx.client.name = None;
    ctx.engine.unsubscribe_all(ctx.client, false, false);
    ctx.engine.unsubscribe_all(ctx.client, true, false);
    ctx.engine.shard_unsubscribe(ctx.client, &[]);
    super::transactions::unwatch_client(ctx);
    ctx.engine.disable_tracking(ctx.client);
    ctx.client.authenticated = false;
    ctx.client.resp = 2;
    Ok(Reply::status("RESET"))
}

fn hello(ctx: &mut Ctx) -> CommandResult {
    let mut protocol: Option<u8> = None;
    let mut i = 1;
    if ctx.argv.len() >= 2 {
        let version = parse_i64(ctx.arg(1))
            .ok_or_else(|| err("ERR Protocol version is not an integer or out of range"))?;
        if version != 2 && version != 3 {
            return Err(err("NOPROTO unsupported protocol version"));
        }
        protocol = Some(version as u8);
        i = 2;
    }
    // Options are checked first, then AUTH is applied, as Redis does.
    let mut credentials = None;
    while i < ctx.argv.len() {
        let more = ctx.argv.len() - i - 1;
        if eq(ctx.arg(i), "auth") && more >= 2 {
            credentials = Some((ctx.arg(i + 1).to_vec(), ctx.arg(i + 2).to_vec()));
            i += 3;
        } else if eq(ctx.arg(i), "setname") && more >= 1 {
            let name = ctx.arg(i + 1).to_vec();
            validate_client_name(&name)?;
            ctx.client.name = if name.is_empty() { None } else { Some(name) };
            i += 2;
        } else {
            return Err(Reply::Error(errors::sanitize(
                [
                    b"ERR Syntax error in HELLO option '".as_slice(),
                    ctx.arg(i),
                    b"'",
                ]
                .concat(),
            )));
        }
    }
    match credentials {
        Some((user, pass)) => authenticate(ctx, Some(&user), &pass)?,
        None if needs_auth(ctx.engine, ctx.client) => return Err(err(NOAUTH_HELLO)),
        None => {}
    }
    if let Some(p) = protocol {
        ctx.client.resp = p;
    }
    let map = Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk(REDIS_VERSION)),
        (Reply::bulk("proto"), Reply::Int(i64::from(ctx.client.resp))),
        (Reply::bulk("id"), Reply::Int(ctx.client.id as i64)),
        (Reply::bulk("mode"), Reply::bulk(ctx.engine.mode())),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(vec![])),
    ]);
    Ok(if ctx.resp3() { map } else { map.to_resp2() })
}

const NOAUTH_HELLO: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";

/// Whether `requirepass` holds this client back.
pub(crate) fn needs_auth(engine: &crate::engine::Engine, client: &crate::engine::Client) -> bool {
    engine.config.requirepass.is_some() && !client.authenticated && !client.is_script
}

/// Checks a password for `user` (only `default` exists, with `requirepass`
/// as its password, or no password at all).
fn authenticate(ctx: &mut Ctx, user: Option<&[u8]>, pass: &[u8]) -> Result<(), Reply> {
    let default = user.is_none_or(|u| u == b"default");
    let ok = default
        && ctx
            .engine
            .config
            .requirepass
            .as_deref()
            .is_none_or(|p| p == pass);
    if !ok {
        super::admin::log_auth_failure(ctx, user.unwrap_or(b"default"));
        return Err(err(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ));
    }
    ctx.client.authenticated = true;
    Ok(())
}

fn auth(ctx: &mut Ctx) -> CommandResult {
    match ctx.argv.len() {
        2 if ctx.engine.config.requirepass.is_none() => Err(err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        )),
        2 => {
            let pass = ctx.arg(1).to_vec();
            authenticate(ctx, None, &pass).map(|()| Reply::ok())
        }
        3 => {
            let (user, pass) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
            authenticate(ctx, Some(&user), &pass).map(|()| Reply::ok())
        }
        _ => Err(err("ERR syntax error")),
    }
}

fn time(ctx: &mut Ctx) -> CommandResult {
    let ms = ctx.engine.wall_clock_ms();
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    let micros = (ms % 1000) * 1000 + i64::from(micros % 1000);
    Ok(Reply::bulks([(ms / 1000).to_string(), micros.to_string()]))
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: Redis's argument checks;
/// accepted, it asks the host to end the server (redstep saves nothing).
fn shutdown(ctx: &mut Ctx) -> CommandResult {
    let (mut nosave, mut save, mut abort, mut other) = (false, false, false, false);
    for arg in &ctx.argv[1..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" | b"force" => other = true,
            b"abort" => abort = true,
            _ => return Err(err(errors::SYNTAX)),
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(err(errors::SYNTAX));
    }
    if abort {
        return Err(err("ERR No shutdown in progress."));
    }
    ctx.engine.shutdown_requested = true;
    Ok(Reply::ok())
}

/// MONITOR: from now on every command any client runs is fed to this one.
fn monitor(ctx: &mut Ctx) -> CommandResult {
    // Inside EXEC (queued, as Redis queues it) a client may not block.
    if ctx.client.no_block {
        return Err(err("ERR MONITOR isn't allowed for DENY BLOCKING client"));
    }
    ctx.engine.monitors.insert(ctx.client.id);
    Ok(Reply::ok())
}

fn lastsave(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(
        (ctx.engine.wall_clock_ms() - ctx.engine.uptime_ms()) / 1000,
    ))
}

/// INFO's sections in Redis 7.0's order; `default` leaves out the last
/// two of `all` (commandstats, latencystats).
const INFO_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// INFO [section ...]: every section Redis 7.0 has, with the values
/// redstep knows (what it does not keep is left out rather than made up).
fn info(ctx: &mut Ctx) -> CommandResult {
    let mut wanted: Vec<&str> = Vec::new();
    let args: Vec<String> = ctx.argv[1..]
        .iter()
        .map(|s| String::from_utf8_lossy(s).to_ascii_lowercase())
        .collect();
    if args.is_empty() {
        wanted.extend(
            INFO_SECTIONS
                .iter()
                .filter(|s| !matches!(**s, "commandstats" | "latencystats")),
        );
    }
    for arg in &args {
        match arg.as_str() {
            "all" | "everything" => wanted.extend(INFO_SECTIONS),
            "default" => wanted.extend(
                INFO_SECTIONS
                    .iter()
                    .filter(|s| !matches!(**s, "commandstats" | "latencystats")),
            ),
            other => wanted.extend(INFO_SECTIONS.iter().filter(|s| **s == other)),
        }
    }
    // The figure the maxmemory check reads (`engine/memory.rs`).
    let rss = ctx.engine.used_memory();
    let engine = &*ctx.engine;
    let uptime = engine.uptime_ms() / 1000;
    let redis_mode = ctx.engine.mode();
    let mut out = String::new();
    for section in INFO_SECTIONS.iter().filter(|s| wanted.contains(s)) {
        let body = match *section {
            "server" => format!(
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_mode:{redis_mode}\r\nredstep_version:{}\r\nos:{} {}\r\narch_bits:64\r\nprocess_id:{}\r\nprocess_supervised:no\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nexecutable:{}\r\nconfig_file:\r\nio_threads_active:0\r\n",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                engine.config.port,
                engine.wall_clock_ms() * 1000,
                uptime / 86400,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            ),
            "clients" => format!(
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:10000\r\nblocked_clients:{}\r\ntracking_clients:{}\r\n",
                engine.clients().count() + 1,
                engine.clients().filter(|c| c.blocked.is_some()).count(),
                engine.tracking_clients() + usize::from(ctx.client.tracking.is_some()),
            ),
            "memory" => format!(
                "# Memory\r\nused_memory:{rss}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nmaxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:noeviction\r\nmem_allocator:libc\r\n",
                human_bytes(rss),
                human_bytes(rss),
                engine.config.maxmemory,
                human_bytes(engine.config.maxmemory)
            ),
            "persistence" => "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\nrdb_saves:0\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_last_bgrewrite_status:ok\r\naof_last_write_status:ok\r\n".to_string(),
            "stats" => format!(
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\ntotal_error_replies:{}\r\n",
                engine.stats.connections_received,
                engine.commands_processed,
                engine.channels.len(),
                engine.patterns.len(),
                engine.stats.errors.values().sum::<u64>()
            ),
            "replication" => "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n".to_string(),
            "cpu" => "# CPU\r\n".to_string(),
            "modules" => "# Modules\r\n".to_string(),
            "commandstats" => {
                let mut text = "# Commandstats\r\n".to_string();
                let mut names: Vec<_> = engine.stats.commands.iter().collect();
                names.sort_by_key(|(name, _)| *name);
                for (name, c) in names {
                    let per_call = if c.calls == 0 { 0.0 } else { c.usec as f64 / c.calls as f64 };
                    text += &format!(
                        "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                        c.calls, c.usec, c.rejected, c.failed
                    );
                }
                text
            }
            "errorstats" => {
                let mut text = "# Errorstats\r\n".to_string();
                for (code, count) in &engine.stats.errors {
                    text += &format!("errorstat_{code}:count={count}\r\n");
                }
                text
            }
            "latencystats" => "# Latencystats\r\n".to_string(),
            "cluster" => format!(
                "# Cluster\r\ncluster_enabled:{}\r\n",
                u8::from(ctx.engine.cluster().is_some())
            ),
            _ => {
                let mut text = "# Keyspace\r\n".to_string();
                for db in 0..DATABASES {
                    let d = engine.keyspace.db(db);
                    if !d.is_empty() {
                        text += &format!(
                            "db{db}:keys={},expires={},avg_ttl=0\r\n",
                            d.len(),
                            d.expiring_len()
                        );
                    }
                }
                text
            }
        };
        if !out.is_empty() {
            out += "\r\n";
        }
        out += &body;
    }
    Ok(text_reply(ctx, out))
}

fn swapdb(ctx: &mut Ctx) -> CommandResult {
    let a = db_index(ctx, 1, "ERR invalid first DB index")?;
    let b = db_index(ctx, 2, "ERR invalid second DB index")?;
    if a != b {
        ctx.ks().swap_dbs(a, b);
    }
    Ok(Reply::ok())
}

fn move_key(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let target = db_index(ctx, 2, errors::NOT_INTEGER)?;
    let src = ctx.db();
    if target == src {
        return Err(err(errors::SAME_OBJECT));
    }
    let now = ctx.now;
    let Some(entry) = ctx.lookup(&key).cloned() else {
        return Ok(Reply::Int(0));
    };
    ctx.ks().expire_if_needed(target, &key, now);
    if ctx.engine.keyspace.db(target).entry(&key).is_some() {
        return Ok(Reply::Int(0));
    }
    ctx.ks().remove(src, &key);
    ctx.ks()
        .put_string_as(target, &key, entry.value, entry.expire_at, entry.str_enc);
    ctx.ks().notify(notify::GENERIC, "move_from", src, &key);
    ctx.ks().notify(notify::GENERIC, "move_to", target, &key);
    Ok(Reply::Int(1))
}

// ---- COMMAND ---------------------------------------------------------------
//
// Answered from Redis's own description of its commands (`catalog.rs`),
// for the commands in redstep's table.

/// A command named as COMMAND INFO and DOCS name them (Redis's
/// `lookupCommandBySds`): `get`, or `client|list` for a subcommand.
pub(crate) fn named<'t>(
    table: &'t crate::engine::table::Table,
    name: &[u8],
) -> Option<&'t CommandSpec> {
    let parts: Vec<&[u8]> = name.split(|b| *b == b'|').collect();
    let spec = table.get(parts[0])?;
    match parts.len() {
        1 => Some(spec),
        2 => spec
            .subcommands
            .iter()
            .find(|c| c.name.as_bytes().eq_ignore_ascii_case(parts[1])),
        _ => None,
    }
}

fn described(spec: &CommandSpec) -> Option<&'static catalog::Described> {
    catalog::catalog().get(spec.full_name)
}

/// A recorded reply (RESP3 types) as this client reads it: a RESP2 one,
/// a script included, gets arrays.
fn spoken(ctx: &Ctx, reply: Reply) -> Reply {
    if ctx.resp3() {
        reply
    } else {
        reply.to_resp2()
    }
}

/// COMMAND with no subcommand: every command's description.
pub(crate) fn command_all(ctx: &mut Ctx) -> CommandResult {
    let mut specs: Vec<&CommandSpec> = ctx.engine.command_table().iter().collect();
    specs.sort_by_key(|s| s.name);
    let all = Reply::Array(
        specs
            .into_iter()
            .filter_map(described)
            .map(|d| d.info.clone())
            .collect(),
    );
    Ok(spoken(ctx, all))
}

fn command_count(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(ctx.engine.command_table().len() as i64))
}

fn command_info(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() == 2 {
        return command_all(ctx);
    }
    let table = ctx.engine.command_table();
    let infos = Reply::Array(
        ctx.argv[2..]
            .iter()
            .map(|name| {
                named(table, name)
                    .and_then(described)
                    .map_or(Reply::Nil, |d| d.info.clone())
            })
            .collect(),
    );
    Ok(spoken(ctx, infos))
}

/// COMMAND DOCS [name ...]: a map of full names to docs (unknown names
/// left out).
fn command_docs(ctx: &mut Ctx) -> CommandResult {
    let table = ctx.engine.command_table();
    let specs: Vec<&CommandSpec> = if ctx.argv.len() == 2 {
        let mut all: Vec<&CommandSpec> = table.iter().collect();
        all.sort_by_key(|s| s.name);
        all
    } else {
        ctx.argv[2..]
            .iter()
            .filter_map(|name| named(table, name))
            .collect()
    };
    let docs = Reply::Map(
        specs
            .into_iter()
            .filter_map(described)
            .map(|d| (Reply::bulk(&d.full_name), d.docs.clone()))
            .collect(),
    );
    Ok(spoken(ctx, docs))
}

/// COMMAND LIST: every command's full name, its subcommands' after it
/// (`client|list`), as Redis 7.0 lists them; a pattern is matched against
/// the full name, without case. (Redis answers in its hash table's order,
/// which changes from one start to the next; sorted here.)
fn command_list(ctx: &mut Ctx) -> CommandResult {
    let mut specs: Vec<&CommandSpec> = ctx
        .engine
        .command_table()
        .iter()
        .flat_map(|s| std::iter::once(s).chain(s.subcommands))
        .collect();
    match ctx.argv.len() {
        2 => {}
        5 if eq(ctx.arg(2), "filterby") => {
            let value = ctx.arg(4).to_vec();
            match ctx.arg(3).to_ascii_lowercase().as_slice() {
                b"pattern" => specs.retain(|s| glob::matches(&value, s.full_name.as_bytes(), true)),
                b"module" => specs.clear(),
                b"aclcat" => specs.retain(|s| described(s).is_some_and(|d| d.in_category(&value))),
                _ => return Err(err(errors::SYNTAX)),
            }
        }
        _ => return Err(err(errors::SYNTAX)),
    }
    let mut names: Vec<&str> = specs.iter().map(|s| s.full_name).collect();
    names.sort_unstable();
    Ok(Reply::bulks(names))
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS command arg...: the keys Redis finds
/// in it, by its key specs or the command's own key function.
fn command_getkeys(ctx: &mut Ctx) -> CommandResult {
    let with_flags = eq(ctx.arg(1), "getkeysandflags");
    let argv = &ctx.argv[2..];
    let table = ctx.engine.command_table();
    let Some(spec) = table.resolve(argv) else {
        return Err(err("ERR Invalid command specified"));
    };
    let Some(described) = described(spec).filter(|d| catalog::has_keys(d)) else {
        return Err(err("ERR The command has no key arguments"));
    };
    if !spec.arity_ok(argv.len()) {
        return Err(err("ERR Invalid number of arguments specified for command"));
    }
    let keys = catalog::keys_with_specs(described, argv);
    if keys.is_empty() && !described.has_flag("no_mandatory_keys") {
        return Err(err("ERR Invalid arguments specified for command"));
    }
    Ok(Reply::Array(
        keys.iter()
            .map(|k| {
                let key = Reply::bulk(&argv[k.pos]);
                if with_flags {
                    let flags = spoken(ctx, catalog::key_flags::reply(k.flags));
                    Reply::Array(vec![key, flags])
                } else {
                    key
                }
            })
            .collect(),
    ))
}

// ---- CLIENT ----------------------------------------------------------------

fn validate_client_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP], with Redis's checks in Redis's order (see
/// `engine/tracking.rs` for what tracking then does).
fn client_tracking(ctx: &mut Ctx) -> CommandResult {
    use crate::engine::tracking::ClientTracking;
    let argc = ctx.argv.len();
    let mut mode = ClientTracking::default();
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut j = 3;
    while j < argc {
        let more = argc - 1 - j;
        if eq(ctx.arg(j), "redirect") && more > 0 {
            j += 1;
            if mode.redirect != 0 {
                return Err(err(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let id = parse_i64(ctx.arg(j)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            let exists =
                id > 0 && (id as u64 == ctx.client.id || ctx.engine.client(id as u64).is_some());
            if !exists {
                return Err(err("ERR The client ID you want redirect to does not exist"));
            }
            mode.redirect = id as u64;
        } else if eq(ctx.arg(j), "bcast") {
            mode.bcast = true;
        } else if eq(ctx.arg(j), "optin") {
            mode.optin = true;
        } else if eq(ctx.arg(j), "optout") {
            mode.optout = true;
        } else if eq(ctx.arg(j), "noloop") {
            mode.noloop = true;
        } else if eq(ctx.arg(j), "prefix") && more > 0 {
            j += 1;
            prefixes.push(ctx.argv[j].clone());
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    if eq(ctx.arg(2), "off") {
        ctx.engine.disable_tracking(ctx.client);
        return Ok(Reply::ok());
    }
    if !eq(ctx.arg(2), "on") {
        return Err(err(errors::SYNTAX));
    }
    if !mode.bcast && !prefixes.is_empty() {
        return Err(err("ERR PREFIX option requires BCAST mode to be enabled"));
    }
    let current = ctx.client.tracking.as_deref();
    if current.is_some_and(|c| c.bcast != mode.bcast) {
        return Err(err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if mode.bcast && (mode.optin || mode.optout) {
        return Err(err("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    }
    if mode.optin && mode.optout {
        return Err(err("ERR You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if current.is_some_and(|c| (mode.optin && c.optout) || (mode.optout && c.optin)) {
        return Err(err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
    }
    if mode.bcast {
        // Two prefixes overlap when one starts the other.
        let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
        let show = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        for (i, new) in prefixes.iter().enumerate() {
            if let Some(old) = current.and_then(|c| c.prefixes.iter().find(|o| overlap(o, new))) {
                return Err(Reply::error(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    show(new),
                    show(old)
                )));
            }
            if let Some(other) = prefixes[i + 1..].iter().find(|o| overlap(o, new)) {
                return Err(Reply::error(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    show(new),
                    show(other)
                )));
            }
        }
    }
    ctx.engine.enable_tracking(ctx.client, mode, prefixes);
    Ok(Reply::ok())
}

fn client_id(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(ctx.client.id as i64))
}

fn client_getname(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::bulk_or_nil(ctx.client.name.as_ref()))
}

fn client_setname(ctx: &mut Ctx) -> CommandResult {
    let name = ctx.arg(2).to_vec();
    validate_client_name(&name)?;
    ctx.client.name = if name.is_empty() { None } else { Some(name) };
    Ok(Reply::ok())
}

/// A client's line in CLIENT LIST, newline included.
pub(crate) fn client_line(c: &crate::engine::Client, now: i64) -> String {
    // Redis's letters, in its order (`N` for none).
    let tracking = c.tracking.as_deref();
    let mut flags: String = [
        (c.subscribed(), 'P'),
        (c.multi.is_some(), 'x'),
        (c.blocked.is_some(), 'b'),
        (tracking.is_some(), 't'),
        (tracking.is_some_and(|m| m.broken), 'R'),
        (tracking.is_some_and(|m| m.bcast), 'B'),
        (c.watch_dirty, 'd'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, letter)| *letter)
    .collect();
    if flags.is_empty() {
        flags.push('N');
    }
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={flags} db={} sub={} psub={} ssub={} multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir={} resp={}\n",
        c.id,
        c.addr,
        c.laddr,
        String::from_utf8_lossy(c.name.as_deref().unwrap_or(b"")),
        (now - c.created_ms) / 1000,
        (now - c.last_ms) / 1000,
        c.db,
        c.channels.len(),
        c.patterns.len(),
        c.shard_channels.len(),
        c.multi.as_ref().map(|m| m.len() as i64).unwrap_or(-1),
        c.last_command,
        redirect_of(c),
        c.resp,
    )
}

/// A client type's name (getClientTypeByName): whether it names pub/sub
/// clients (`pubsub`) or normal ones (`normal`); None for `replica`,
/// `slave` and `master`, which no redstep connection is.
fn client_type(name: &[u8]) -> Result<Option<bool>, Reply> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Ok(Some(false)),
        b"pubsub" => Ok(Some(true)),
        b"replica" | b"slave" | b"master" => Ok(None),
        _ => Err(Reply::Error(errors::sanitize(
            [
                b"ERR Unknown client type '".as_slice(),
                errors::c_str(name),
                b"'",
            ]
            .concat(),
        ))),
    }
}

fn client_list(ctx: &mut Ctx) -> CommandResult {
    let now = ctx.engine.wall_clock_ms();
    let mut clients: Vec<&crate::engine::Client> = ctx.engine.clients().collect();
    clients.push(ctx.client);
    clients.sort_by_key(|c| c.id);
    // As Redis's clientCommand: TYPE t (normal, replica/slave, pubsub,
    // master), or ID id ... (in the order given, a missing id skipped).
    let chosen: Vec<&crate::engine::Client> = match ctx.argv.len() {
        2 => clients,
        4 if eq(ctx.arg(2), "type") => {
            let Some(pubsub) = client_type(ctx.arg(3))? else {
                return Ok(text_reply(ctx, String::new()));
            };
            clients
                .into_iter()
                .filter(|c| c.subscribed() == pubsub)
                .collect()
        }
        n if n > 3 && eq(ctx.arg(2), "id") => {
            let mut chosen = Vec::new();
            for a in &ctx.argv[3..] {
                let id = parse_i64(a).ok_or_else(|| err("ERR Invalid client ID"))?;
                chosen.extend(clients.iter().find(|c| c.id as i64 == id));
            }
            chosen
        }
        _ => return Err(err(errors::SYNTAX)),
    };
    Ok(text_reply(
        ctx,
        chosen
            .into_iter()
            .map(|c| client_line(c, now))
            .collect::<String>(),
    ))
}

/// Text as Redis's addReplyVerbatim sends it: a `txt` verbatim string in
/// RESP3 (INFO, CLIENT LIST, CLIENT INFO), a bulk string in RESP2.
fn text_reply(ctx: &Ctx, text: impl Into<Vec<u8>>) -> Reply {
    let text = text.into();
    if ctx.resp3() {
        Reply::Verbatim {
            format: *b"txt",
            text,
        }
    } else {
        Reply::Bulk(text)
    }
}

fn client_info(ctx: &mut Ctx) -> CommandResult {
    let now = ctx.engine.wall_clock_ms();
    let line = client_line(ctx.client, now);
    Ok(text_reply(ctx, line))
}

// ---- CONFIG ----------------------------------------------------------------

fn config_values(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let c = &ctx.engine.config;
    let l = &ctx.engine.keyspace.limits;
    vec![
        (
            "busy-reply-threshold",
            c.busy_reply_threshold_ms.to_string(),
        ),
        ("lua-time-limit", c.busy_reply_threshold_ms.to_string()),
        ("databases", DATABASES.to_string()),
        ("port", c.port.to_string()),
        ("bind", c.bind.clone()),
        ("maxmemory", c.maxmemory.to_string()),
        ("timeout", c.timeout.to_string()),
        (
            "requirepass",
            String::from_utf8_lossy(c.requirepass.as_deref().unwrap_or_default()).into_owned(),
        ),
        (
            "slowlog-log-slower-than",
            c.slowlog_log_slower_than.to_string(),
        ),
        ("slowlog-max-len", c.slowlog_max_len.to_string()),
        (
            "notify-keyspace-events",
            notify::to_text(ctx.engine.keyspace.notify),
        ),
        ("appendonly", "no".into()),
        ("save", c.save.clone()),
        ("proto-max-bulk-len", c.proto_max_bulk_len.to_string()),
        ("hash-max-listpack-entries", l.hash_entries.to_string()),
        ("hash-max-ziplist-entries", l.hash_entries.to_string()),
        ("hash-max-listpack-value", l.hash_value.to_string()),
        ("hash-max-ziplist-value", l.hash_value.to_string()),
        ("zset-max-listpack-entries", l.zset_entries.to_string()),
        ("zset-max-ziplist-entries", l.zset_entries.to_string()),
        ("zset-max-listpack-value", l.zset_value.to_string()),
        ("zset-max-ziplist-value", l.zset_value.to_string()),
        ("set-max-intset-entries", l.set_intset_entries.to_string()),
        // In the order Redis's CONFIG GET stream-node-* answers.
        ("stream-node-max-entries", l.stream_node_entries.to_string()),
        ("stream-node-max-bytes", l.stream_node_bytes.to_string()),
        (
            "list-max-listpack-size",
            c.list_max_listpack_size.to_string(),
        ),
        (
            "list-max-ziplist-size",
            c.list_max_listpack_size.to_string(),
        ),
    ]
}

/// Redis 7.0.15's configuration as a server started without a file has it
/// (`assets/redis/config-defaults.tsv`, recorded by
/// `tests/golden/record_config.sh`): CONFIG GET answers these for the
/// parameters redstep does not model.
const REDIS_DEFAULTS: &str = include_str!("../../../assets/redis/config-defaults.tsv");

/// (name, default value, `immutable` or `protected` when CONFIG SET
/// refuses it, `hidden` when only its exact name reaches it), read once.
fn redis_defaults() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    type Row = (&'static str, &'static str, &'static str);
    static ROWS: std::sync::OnceLock<Vec<Row>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        REDIS_DEFAULTS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut fields = l.split('\t');
                Some((fields.next()?, fields.next()?, fields.next().unwrap_or("")))
            })
            .collect()
    })
    .iter()
    .copied()
}

/// Every parameter with its value: redstep's for those it models, Redis's
/// default for the others (the working directory for `dir`).
fn all_config_values(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let mut values = config_values(ctx);
    let modelled = values.len();
    for (name, default, _) in redis_defaults() {
        if values[..modelled].iter().any(|(n, _)| *n == name) {
            continue;
        }
        let value = match name {
            "dir" => std::env::current_dir()
                .map(|d| d.to_string_lossy().into_owned())
                .unwrap_or_default(),
            "cluster-enabled" if ctx.engine.cluster().is_some() => "yes".into(),
            _ => default.to_string(),
        };
        values.push((name, value));
    }
    values
}

/// CONFIG GET as Redis's `configGetCommand`: a name without `[`, `*` or
/// `?` is looked up (a hidden parameter too) and answered under the name
/// as given; a pattern matches the others' names without case. A
/// parameter already answered is not answered again.
fn config_get(ctx: &mut Ctx) -> CommandResult {
    let values = all_config_values(ctx);
    let hidden: Vec<&str> = redis_defaults()
        .filter(|(_, _, flag)| *flag == "hidden")
        .map(|(name, _, _)| name)
        .collect();
    let mut out: Vec<(Vec<u8>, &str)> = Vec::new();
    let answered = |out: &[(Vec<u8>, &str)], name: &[u8]| {
        out.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    for asked in &ctx.argv[2..] {
        // A pattern is read as a C string (up to a NUL); a name is looked
        // up whole.
        if !c_string(asked)
            .iter()
            .any(|b| matches!(b, b'[' | b'*' | b'?'))
        {
            let found = values
                .iter()
                .find(|(name, _)| name.as_bytes().eq_ignore_ascii_case(asked));
            if let Some((_, value)) = found.filter(|_| !answered(&out, asked)) {
                out.push((asked.clone(), value));
            }
            continue;
        }
        let pattern = c_string(asked).to_ascii_lowercase();
        for (name, value) in &values {
            if hidden.contains(name) || answered(&out, name.as_bytes()) {
                continue;
            }
            if glob::matches(&pattern, name.as_bytes(), true) {
                out.push((name.as_bytes().to_vec(), value));
            }
        }
    }
    let pairs = out
        .into_iter()
        .map(|(name, value)| (Reply::Bulk(name), Reply::bulk(value)));
    if ctx.resp3() {
        // A map in RESP3, as Redis replies.
        return Ok(Reply::Map(pairs.collect()));
    }
    Ok(Reply::Array(pairs.flat_map(|(k, v)| [k, v]).collect()))
}

/// One CONFIG SET change, checked before any is made.
enum Setting {
    BusyThreshold(i64),
    Limit(fn(&mut crate::engine::value::Limits) -> &mut usize, usize),
    ListSize(i64),
    Save(String),
    MaxMemory(u64),
    Timeout(i64),
    RequirePass(Vec<u8>),
    SlowerThan(i64),
    SlowlogLen(usize),
    Notify(u32),
    /// A parameter redstep does not model, set to the value it has.
    Unchanged,
}

/// How Redis 7.0.15 checks each parameter's CONFIG SET value, read off a
/// server by `tests/golden/record_config_types.py`
/// (`assets/redis/config-types.tsv`): its kind, then its values or bounds.
const REDIS_TYPES: &str = include_str!("../../../assets/redis/config-types.tsv");

/// A parameter's row of [`REDIS_TYPES`]: its kind and what follows.
fn redis_type(name: &str) -> Option<(&'static str, Vec<&'static str>)> {
    // The rows, read once (the file also holds the recorder's probes).
    static ROWS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let rows = ROWS.get_or_init(|| {
        REDIS_TYPES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect()
    });
    rows.iter().find_map(|l| {
        let mut fields = l.split('\t');
        (fields.next()? == name).then(|| (fields.next().unwrap_or(""), fields.collect()))
    })
}

/// Redis's `memtoull`: digits (none reads as 0, too many for `strtoull`
/// as its largest) and a unit among b, k, kb, m, mb, g, gb in any case;
/// the product wraps as Redis's does.
fn memory_value(value: &[u8]) -> Option<u64> {
    if value.first() == Some(&b'-') {
        return None;
    }
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = value[digits..].to_ascii_lowercase();
    let factor: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let number = value[..digits].iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    Some(number.unwrap_or(u64::MAX).wrapping_mul(factor))
}

/// A value's words as `sdssplitlen` splits several values: at each
/// space (two spaces make an empty word), none for an empty value.
fn split_words(value: &[u8]) -> Vec<&[u8]> {
    match value {
        b"" => Vec::new(),
        _ => value.split(|b| *b == b' ').collect(),
    }
}

/// The bytes C sees of a value: up to its first NUL.
fn c_string(value: &[u8]) -> &[u8] {
    &value[..value.iter().position(|b| *b == 0).unwrap_or(value.len())]
}

/// A CONFIG SET value checked as Redis checks its parameter (config.c's
/// `boolConfigSet`, `enumConfigSet`, `numericConfigSet`, read off the
/// server): the number it reads for a numeric one (a percentage of
/// `maxmemory-clients` negative, as Redis stores it), None for the
/// others. Err is Redis's reason. A `special` parameter or one not
/// recorded passes: its caller checks it.
fn check_value(name: &str, value: &[u8]) -> Result<Option<i128>, String> {
    let Some((kind, rest)) = redis_type(name) else {
        return Ok(None);
    };
    let one_of = |values: &[&str]| {
        format!(
            "argument(s) must be one of the following: {}",
            values.join(", ")
        )
    };
    let bound = |i: usize| rest.get(i).and_then(|b| b.parse::<i128>().ok());
    // Read as a C string (up to a NUL) by all but the integers, which
    // `string2ll` reads to the value's length, and the special ones, split
    // at their spaces (`sdssplitlen`) before their words are read.
    let value = match kind {
        "int" | "special" => value,
        _ => c_string(value),
    };
    match kind {
        "bool" => {
            let yes = value.eq_ignore_ascii_case(b"yes");
            if !yes && !value.eq_ignore_ascii_case(b"no") {
                return Err("argument must be 'yes' or 'no'".into());
            }
            match rest.as_slice() {
                ["yes", why] if yes => Err(why.to_string()),
                _ => Ok(Some(i128::from(yes))),
            }
        }
        "enum" => match rest
            .iter()
            .any(|v| value.eq_ignore_ascii_case(v.as_bytes()))
        {
            true => Ok(None),
            false => Err(one_of(&rest)),
        },
        "enums" => {
            let words = split_words(value);
            let known = |w: &[u8]| rest.iter().any(|v| w.eq_ignore_ascii_case(v.as_bytes()));
            if words.is_empty() || !words.iter().all(|w| known(w)) {
                return Err(one_of(&rest));
            }
            let has = |v: &[u8]| words.iter().any(|w| w.eq_ignore_ascii_case(v));
            if has(b"save") && has(b"nosave") {
                return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
            }
            Ok(None)
        }
        "int" | "memory" | "memory%" => {
            let (lo, hi) = (bound(0).unwrap_or(0), bound(1).unwrap_or(0));
            let number = match kind {
                "int" => parse_i64(value)
                    .map(i128::from)
                    .ok_or("argument couldn't be parsed into an integer")?,
                _ => match memory_value(value) {
                    // Read as the parameter's signed type would: a
                    // negative amount is a percentage (never below `lo`).
                    Some(n) if kind == "memory%" => i128::from(n as i64),
                    Some(n) => i128::from(n),
                    None if kind == "memory%" => value
                        .strip_suffix(b"%")
                        .filter(|p| !p.is_empty())
                        .and_then(parse_i64)
                        .filter(|p| *p >= 0)
                        .map(|p| -i128::from(p))
                        .ok_or("argument must be a memory or percent value")?,
                    None => return Err("argument must be a memory value".into()),
                },
            };
            if kind == "memory%" && number < 0 {
                if number < lo {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        -lo
                    ));
                }
            } else if number < lo || number > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(Some(number))
        }
        "special" => check_special(name, value).map(|()| None),
        "string" if name == "cluster-announce-hostname" => {
            // config.c's isValidAnnouncedHostname.
            if value.len() >= 256 {
                return Err("Hostnames must be less than 256 characters".into());
            }
            if !value
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
            {
                return Err(
                    "Hostnames may only contain alphanumeric characters, hyphens or dots".into(),
                );
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// Redis's `setConfigSaveOption`: pairs of seconds (1 or more) and
/// changes (0 or more) split at each space, each read by `strtoll` to its
/// end; kept as CONFIG GET shows them (changes in a C `int`).
fn save_value(value: &[u8]) -> Option<String> {
    use crate::engine::numbers::strtoll_whole;
    let mut words = split_words(value);
    // One word that is empty as a C string (`\0...`) clears, as "".
    if let [word] = words[..] {
        if c_string(word).is_empty() {
            words.clear();
        }
    }
    if !words.len().is_multiple_of(2) {
        return None;
    }
    let mut pairs = Vec::new();
    for pair in words.chunks(2) {
        let ((seconds, whole_s), (changes, whole_c)) =
            (strtoll_whole(pair[0]), strtoll_whole(pair[1]));
        if !whole_s || !whole_c || seconds < 1 || changes < 0 {
            return None;
        }
        pairs.push(format!("{seconds} {}", changes as i32));
    }
    Some(pairs.join(" "))
}

/// The parameters whose values have a grammar of their own (config.c's
/// `setConfig...Option`), several words split at each space. `save` and
/// `notify-keyspace-events` are checked where redstep applies them; `bind`
/// binds (redstep does not model it).
fn check_special(name: &str, value: &[u8]) -> Result<(), String> {
    use crate::engine::numbers::{parse_f64, strtoll_whole};
    let words = split_words(value);
    match name {
        "client-output-buffer-limit" => {
            if !words.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            for limit in words.chunks(4) {
                let class = c_string(limit[0]).to_ascii_lowercase();
                if !matches!(
                    class.as_slice(),
                    b"normal" | b"slave" | b"replica" | b"pubsub"
                ) {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    );
                }
                let (seconds, whole) = strtoll_whole(limit[3]);
                if memory_value(c_string(limit[1])).is_none()
                    || memory_value(c_string(limit[2])).is_none()
                    || !whole
                    || (seconds as i32) < 0
                {
                    return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into());
                }
            }
        }
        "oom-score-adj-values" => {
            if words.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            for word in words {
                let (n, whole) = strtoll_whole(word);
                if !whole || !(-2000..=2000).contains(&n) {
                    return Err(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .into(),
                    );
                }
            }
        }
        "latency-tracking-info-percentiles" => {
            for word in words {
                let p = parse_f64(word)
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether a special parameter's value (checked) leaves it as it is: the
/// same numbers written otherwise, or for client-output-buffer-limit the
/// classes it names at the limits they have (Redis sets only those).
fn same_special(name: &str, value: &[u8], now: &[u8]) -> bool {
    use crate::engine::numbers::{parse_f64, strtoll_whole};
    let words = |v: &'_ [u8]| -> Vec<Vec<u8>> {
        split_words(v)
            .into_iter()
            .map(|w| c_string(w).to_vec())
            .collect()
    };
    match name {
        "client-output-buffer-limit" => {
            // A class's (name, hard, soft, seconds in a C int).
            type Limit = (Vec<u8>, Option<u64>, Option<u64>, i32);
            let limits = |v: &[u8]| -> Vec<Limit> {
                words(v)
                    .chunks(4)
                    .map(|l| {
                        let class = match l[0].to_ascii_lowercase().as_slice() {
                            b"replica" => b"slave".to_vec(),
                            other => other.to_vec(),
                        };
                        let seconds = strtoll_whole(&l[3]).0 as i32;
                        (class, memory_value(&l[1]), memory_value(&l[2]), seconds)
                    })
                    .collect()
            };
            let current = limits(now);
            limits(value).iter().all(|limit| current.contains(limit))
        }
        "oom-score-adj-values" => {
            let numbers =
                |v: &[u8]| -> Vec<i64> { words(v).iter().map(|w| strtoll_whole(w).0).collect() };
            numbers(value) == numbers(now)
        }
        "latency-tracking-info-percentiles" => {
            let numbers =
                |v: &[u8]| -> Vec<Option<f64>> { words(v).iter().map(|w| parse_f64(w)).collect() };
            numbers(value) == numbers(now)
        }
        _ => false,
    }
}

/// CONFIG SET name value [name value ...] as Redis's `configSetCommand`:
/// every name looked up first (the first that fails, unknown, immutable,
/// protected or given twice, is the answer), then every value checked in
/// turn, and all applied only when each passed.
fn config_set(ctx: &mut Ctx) -> CommandResult {
    use crate::engine::value::Limits;
    if !(ctx.argv.len() - 2).is_multiple_of(2) {
        // A name without its value (CONFIG SET alone fails its arity first).
        return Err(errors::err(errors::SYNTAX));
    }
    let failed = |name: &str, why: &str| {
        Reply::error(format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    let values = all_config_values(ctx);
    let pairs: Vec<(&[u8], &[u8])> = ctx.argv[2..]
        .chunks(2)
        .map(|pair| (pair[0].as_slice(), pair[1].as_slice()))
        .collect();
    // The names, as given: an error here names the parameter so, as C's
    // `%s` prints it (its bytes, up to a NUL).
    let named = |given: &[u8], text: &str| {
        let end = given.iter().position(|b| *b == 0).unwrap_or(given.len());
        let mut error = Vec::new();
        for part in text.split("{}") {
            error.extend_from_slice(part.as_bytes());
            error.extend_from_slice(&given[..end]);
        }
        error.truncate(error.len() - end);
        Reply::Error(error)
    };
    for (i, (given, _)) in pairs.iter().enumerate() {
        let name = String::from_utf8_lossy(given).to_ascii_lowercase();
        if !values.iter().any(|(n, _)| *n == name) {
            return Err(named(
                given,
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            ));
        }
        let why = match redis_defaults().find(|(n, _, _)| *n == name) {
            Some((_, _, "immutable")) => Some("can't set immutable config"),
            Some((_, _, "protected")) => Some("can't set protected config"),
            _ if pairs[..i]
                .iter()
                .any(|(g, _)| g.eq_ignore_ascii_case(given)) =>
            {
                Some("duplicate parameter")
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(named(
                given,
                &format!("ERR CONFIG SET failed (possibly related to argument '{{}}') - {why}"),
            ));
        }
    }
    // The values, in turn: an error names the parameter as Redis spells it.
    let mut settings = Vec::new();
    // A value Redis would take for a parameter redstep does not model is
    // refused once every value passed (as Redis's apply step fails after
    // its checks).
    let mut not_modelled = None;
    for (given, value) in pairs {
        let name = String::from_utf8_lossy(given).to_ascii_lowercase();
        let number = check_value(&name, value).map_err(|why| failed(&name, &why))?;
        let n = number.unwrap_or(0);
        let setting = match name.as_str() {
            "busy-reply-threshold" | "lua-time-limit" => Setting::BusyThreshold(n as i64),
            "hash-max-listpack-entries" | "hash-max-ziplist-entries" => {
                Setting::Limit(|l: &mut Limits| &mut l.hash_entries, n as usize)
            }
            "hash-max-listpack-value" | "hash-max-ziplist-value" => {
                Setting::Limit(|l: &mut Limits| &mut l.hash_value, n as usize)
            }
            "zset-max-listpack-entries" | "zset-max-ziplist-entries" => {
                Setting::Limit(|l: &mut Limits| &mut l.zset_entries, n as usize)
            }
            "zset-max-listpack-value" | "zset-max-ziplist-value" => {
                Setting::Limit(|l: &mut Limits| &mut l.zset_value, n as usize)
            }
            "set-max-intset-entries" => {
                Setting::Limit(|l: &mut Limits| &mut l.set_intset_entries, n as usize)
            }
            "stream-node-max-bytes" => {
                Setting::Limit(|l: &mut Limits| &mut l.stream_node_bytes, n as usize)
            }
            "stream-node-max-entries" => {
                Setting::Limit(|l: &mut Limits| &mut l.stream_node_entries, n as usize)
            }
            "list-max-listpack-size" | "list-max-ziplist-size" => Setting::ListSize(n as i64),
            "save" => Setting::Save(
                save_value(value).ok_or_else(|| failed(&name, "Invalid save parameters"))?,
            ),
            "timeout" => Setting::Timeout(n as i64),
            "slowlog-log-slower-than" => Setting::SlowerThan(n as i64),
            "slowlog-max-len" => Setting::SlowlogLen(n as usize),
            "requirepass" => Setting::RequirePass(value.to_vec()),
            // Read as a C string, up to a NUL.
            "notify-keyspace-events" => {
                Setting::Notify(notify::parse(c_string(value)).ok_or_else(|| {
                    failed(
                        &name,
                        "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.",
                    )
                })?)
            }
            "maxmemory" => Setting::MaxMemory(n as u64),
            _ => {
                // A parameter redstep does not model keeps Redis's default:
                // a value Redis takes is fine when it is that one (in any
                // case, or the same amount in other units), refused else.
                let value_now = values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                let same = value == value_now.as_bytes()
                    || match number {
                        Some(n) => check_value(&name, value_now.as_bytes()) == Ok(Some(n)),
                        None => {
                            // An enum is read as a C string (up to a NUL).
                            (matches!(redis_type(&name), Some(("enum" | "enums", _)))
                                && c_string(value).eq_ignore_ascii_case(value_now.as_bytes()))
                                || same_special(&name, value, value_now.as_bytes())
                        }
                    };
                if !same && not_modelled.is_none() {
                    not_modelled = Some(Reply::error(format!(
                        "ERR redstep does not model '{name}': it stays at Redis 7.0.15's default, '{value_now}'"
                    )));
                }
                Setting::Unchanged
            }
        };
        settings.push(setting);
    }
    if let Some(refusal) = not_modelled {
        return Err(refusal);
    }
    for setting in settings {
        match setting {
            Setting::BusyThreshold(ms) => ctx.engine.config.busy_reply_threshold_ms = ms,
            Setting::Limit(field, n) => *field(&mut ctx.engine.keyspace.limits) = n,
            Setting::ListSize(n) => ctx.engine.config.list_max_listpack_size = n,
            Setting::Save(s) => ctx.engine.config.save = s,
            Setting::MaxMemory(n) => ctx.engine.config.maxmemory = n,
            Setting::Timeout(n) => ctx.engine.config.timeout = n,
            Setting::SlowerThan(n) => ctx.engine.config.slowlog_log_slower_than = n,
            Setting::Notify(flags) => ctx.engine.keyspace.notify = flags,
            Setting::Unchanged => {}
            Setting::SlowlogLen(n) => {
                ctx.engine.config.slowlog_max_len = n;
                ctx.engine.slowlog.truncate(n);
            }
            // An empty password turns AUTH off again (Redis's `nopass`).
            Setting::RequirePass(p) => {
                // Clients connected while there was no password stay
                // authenticated, as in Redis; new ones must AUTH.
                if ctx.engine.config.requirepass.is_none() {
                    ctx.client.authenticated = true;
                    for c in ctx.engine.clients.values_mut() {
                        c.authenticated = true;
                    }
                }
                ctx.engine.config.requirepass = (!p.is_empty()).then_some(p)
            }
        }
    }
    Ok(Reply::ok())
}

/// CONFIG RESETSTAT: the counters INFO reports start again (commands,
/// connections, errors; Redis's `resetServerStats` and
/// `resetCommandTableStats`).
fn config_resetstat(ctx: &mut Ctx) -> CommandResult {
    ctx.engine.commands_processed = 0;
    ctx.engine.stats = Default::default();
    Ok(Reply::ok())
}

// ---- OBJECT ----------------------------------------------------------------

fn object_encoding(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(2).to_vec();
    Ok(match ctx.lookup_quiet(&key) {
        Some(entry) => Reply::bulk(entry.encoding()),
        None => Reply::Nil,
    })
}

fn object_refcount(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(2).to_vec();
    Ok(match ctx.lookup_quiet(&key) {
        // Integers 0..9999 stored as `int` are Redis's shared objects,
        // whose refcount is OBJ_SHARED_REFCOUNT (INT_MAX).
        Some(entry)
            if entry.encoding() == "int"
                && matches!(&entry.value, crate::engine::value::Value::String(s)
                    if parse_i64(s).is_some_and(|n| (0..10000).contains(&n))) =>
        {
            Reply::Int(i64::from(i32::MAX))
        }
        Some(_) => Reply::Int(1),
        None => Reply::Nil,
    })
}

/// OBJECT FREQ: access frequency is kept only under an LFU eviction
/// policy, and redstep's is Redis's default, noeviction.
fn object_freq(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(2).to_vec();
    if ctx.lookup_quiet(&key).is_none() {
        return Ok(Reply::Nil);
    }
    Err(err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."))
}

fn object_idletime(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(2).to_vec();
    Ok(if ctx.lookup_quiet(&key).is_some() {
        Reply::Int(0)
    } else {
        Reply::Nil
    })
}
