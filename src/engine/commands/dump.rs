//! DUMP, RESTORE and MEMORY USAGE. The serialization is Redis 7.0's
//! (`engine/rdb.rs`); RESTORE writes through the keyspace's whole-key
//! primitives, so a traced run records it and undo reverses it.

use crate::engine::errors::{self, err};
use crate::engine::notify::GENERIC;
use crate::engine::numbers::parse_i64;
use crate::engine::rdb;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::{CommandResult, Ctx, Reply};

use super::{eq, int_arg};

const KEY1: (i32, i32, i32) = (1, 1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, READONLY, KEY1, dump),
    CommandSpec::new("restore", -4, WRITE | DENYOOM, KEY1, restore),
    // RESTORE sent with the ASKING flag during a cluster slot migration.
    CommandSpec::new("restore-asking", -4, WRITE | DENYOOM, KEY1, restore),
    CommandSpec::container_of("memory", 0, MEMORY_SUBCOMMANDS),
];

const MEMORY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        first_key: 2,
        last_key: 2,
        key_step: 1,
        ..CommandSpec::sub("memory|usage", "usage", -3, READONLY, memory_usage)
    },
    // redstep runs on the C library's allocator (INFO: mem_allocator:libc),
    // for which Redis has no statistics to print.
    CommandSpec::sub("memory|malloc-stats", "malloc-stats", 2, 0, |_| {
        Ok(Reply::bulk("Stats not supported for the current allocator"))
    }),
    CommandSpec::sub("memory|doctor", "doctor", 2, 0, memory_doctor),
    CommandSpec::sub("memory|stats", "stats", 2, 0, |_| {
        Err(Reply::error(
            "ERR redstep keeps no allocator statistics (MEMORY STATS); INFO memory and MEMORY USAGE answer",
        ))
    }),
    // Redis asks its allocator to give back what it can; nothing to ask here.
    CommandSpec::sub("memory|purge", "purge", 2, 0, |_| Ok(Reply::ok())),
    CommandSpec::sub("memory|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::MEMORY))
    }),
];

const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_FORMAT: &str = "ERR Bad data format";
const BAD_TTL: &str = "ERR Invalid TTL value, must be >= 0";
const BAD_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
const BAD_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";

fn dump(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let Some(value) = ctx.value(&key) else {
        return Ok(Reply::Nil);
    };
    Ok(Reply::Bulk(rdb::dump(value)))
}

/// restoreCommand (cluster.c): options first, then the existing key, the
/// TTL, the payload's footer, and its body, in that order.
fn restore(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < ctx.argv.len() {
        let more = ctx.argv.len() - j - 1;
        if eq(ctx.arg(j), "replace") {
            replace = true;
        } else if eq(ctx.arg(j), "absttl") {
            absttl = true;
        } else if eq(ctx.arg(j), "idletime") && more >= 1 && freq.is_none() {
            let v = int_arg(ctx, j + 1)?;
            if v < 0 {
                return Err(err(BAD_IDLETIME));
            }
            idle = Some(v);
            j += 1;
        } else if eq(ctx.arg(j), "freq") && more >= 1 && idle.is_none() {
            let v = int_arg(ctx, j + 1)?;
            if !(0..=255).contains(&v) {
                return Err(err(BAD_FREQ));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    if !replace && ctx.exists(&key) {
        return Err(err(BUSYKEY));
    }
    let mut ttl = parse_i64(ctx.arg(2)).ok_or_else(|| err(errors::NOT_INTEGER))?;
    if ttl < 0 {
        return Err(err(BAD_TTL));
    }
    let payload = ctx.arg(3);
    if !rdb::verify(payload) {
        return Err(err(BAD_PAYLOAD));
    }
    let value = rdb::load(payload).ok_or_else(|| err(BAD_FORMAT))?;
    let db = ctx.db();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now);
    }
    // REPLACE deletes the old key first (a new one is then created: `new`).
    let deleted = replace && ctx.exists(&key) && ctx.ks().remove(db, &key).is_some();
    if ttl != 0 && ttl <= ctx.now {
        // Already expired: Redis deletes the old key (REPLACE) and stores nothing.
        if deleted {
            ctx.notify(GENERIC, "del", &key);
            ctx.propagate_as([&b"DEL"[..], &key]);
        }
        return Ok(Reply::ok());
    }
    let expire_at = (ttl != 0).then_some(ttl);
    ctx.ks().put(db, &key, value, expire_at);
    ctx.notify(GENERIC, "restore", &key);
    if ttl != 0 && !absttl {
        // Replicas get the TTL as a time (ABSTTL appended).
        let mut argv = ctx.argv.to_vec();
        argv[2] = ttl.to_string().into_bytes();
        argv.push(b"ABSTTL".to_vec());
        ctx.propagate_as(argv);
    }
    Ok(Reply::ok())
}

/// MEMORY DOCTOR: Redis's report. Its first check is whether the
/// instance holds under 5 MB, too little to judge: counted as Redis
/// counts it, its memory at startup (876,064 bytes for 7.0.15) and each
/// key's MEMORY USAGE. Its other checks look at the allocator's
/// fragmentation and at replica and client buffers, none of which
/// redstep has, so a bigger instance has no issue.
fn memory_doctor(ctx: &mut Ctx) -> CommandResult {
    const STARTUP: usize = 876_064;
    const SMALL: usize = 5 * 1024 * 1024;
    let mut total = STARTUP;
    'count: for db in 0..crate::engine::keyspace::DATABASES {
        for (key, entry) in ctx.engine.keyspace.db(db).iter() {
            total += rdb::memory_usage(key, &entry.value, entry.encoding(), 5);
            if total >= SMALL {
                break 'count;
            }
        }
    }
    let text = if total < SMALL {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Ok(super::admin::verbatim(ctx, text))
}

fn memory_usage(ctx: &mut Ctx) -> CommandResult {
    let mut samples: usize = 5;
    let mut j = 3;
    while j < ctx.argv.len() {
        if eq(ctx.arg(j), "samples") && j + 1 < ctx.argv.len() {
            let n = int_arg(ctx, j + 1)?;
            if n < 0 {
                return Err(err(errors::SYNTAX));
            }
            samples = if n == 0 { usize::MAX } else { n as usize };
            j += 2;
        } else {
            return Err(err(errors::SYNTAX));
        }
    }
    let key = ctx.arg(2).to_vec();
    // A dictFind: an expired key still there is measured, no event.
    let db = ctx.db();
    Ok(match ctx.engine.keyspace.db(db).entry(&key) {
        Some(entry) => {
            let usage = rdb::memory_usage(&key, &entry.value, entry.encoding(), samples);
            Reply::Int(usage as i64)
        }
        None => Reply::Nil,
    })
}
