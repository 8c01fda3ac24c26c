//! The server-administration commands of a lone Redis: replication,
//! persistence, modules, the latency monitor, cluster-client commands,
//! LOLWUT and MIGRATE. redstep is one in-memory primary with no replicas,
//! no files and no modules: where Redis in that situation gives an answer
//! (ROLE, REPLICAOF NO ONE, FAILOVER's checks, MODULE LIST, LATENCY with
//! its monitor off), redstep gives the same bytes; where Redis would act
//! on the world outside (write dump.rdb, load a module, connect to
//! another server), redstep refuses with an error that says so.

use crate::engine::errors::{self, err};
use crate::engine::numbers::parse_i64;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::{CommandResult, Ctx, Reply};

use super::{eq, help, int_arg};

const NOKEYS: (i32, i32, i32) = (0, 0, 0);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    // Cluster-client commands: a standalone server refuses them (cluster
    // mode replaces them, see cluster.rs).
    CommandSpec::new("asking", 1, FAST, NOKEYS, cluster_disabled),
    CommandSpec::new(
        "readonly",
        1,
        FAST | LOADING | STALE,
        NOKEYS,
        cluster_disabled,
    ),
    CommandSpec::new(
        "readwrite",
        1,
        FAST | LOADING | STALE,
        NOKEYS,
        cluster_disabled,
    ),
    CommandSpec::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, NOKEYS, role),
    CommandSpec::new("replicaof", 3, ADMIN | NOSCRIPT | STALE, NOKEYS, replicaof),
    CommandSpec::new("slaveof", 3, ADMIN | NOSCRIPT | STALE, NOKEYS, replicaof),
    CommandSpec::new("failover", -1, ADMIN | NOSCRIPT | STALE, NOKEYS, failover),
    CommandSpec::new(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        no_replication,
    ),
    CommandSpec::new(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_MULTI,
        NOKEYS,
        no_replication,
    ),
    CommandSpec::new(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        NOKEYS,
        no_replication,
    ),
    CommandSpec::new("save", 1, ADMIN | NOSCRIPT | NO_MULTI, NOKEYS, no_files),
    CommandSpec::new("bgsave", -1, ADMIN | NOSCRIPT, NOKEYS, bgsave),
    CommandSpec::new("bgrewriteaof", 1, ADMIN | NOSCRIPT, NOKEYS, no_files),
    CommandSpec::container_of("module", 0, MODULE_SUBCOMMANDS),
    CommandSpec::container_of("latency", 0, LATENCY_SUBCOMMANDS),
    CommandSpec::new("lolwut", -1, READONLY | FAST, NOKEYS, lolwut),
    CommandSpec::new("migrate", -6, WRITE, (3, 3, 1), migrate),
    CommandSpec::container_of("acl", 0, ACL_SUBCOMMANDS),
];

const ACL_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

const ACL_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "acl|whoami",
        "whoami",
        2,
        NOSCRIPT | LOADING | STALE,
        |_| Ok(Reply::bulk("default")),
    ),
    CommandSpec::sub("acl|users", "users", 2, ACL_FLAGS, |_| {
        Ok(Reply::bulks(["default"]))
    }),
    CommandSpec::sub("acl|list", "list", 2, ACL_FLAGS, acl_list),
    CommandSpec::sub("acl|getuser", "getuser", 3, ACL_FLAGS, acl_getuser),
    CommandSpec::sub("acl|cat", "cat", -2, NOSCRIPT | LOADING | STALE, acl_cat),
    CommandSpec::sub(
        "acl|genpass",
        "genpass",
        -2,
        NOSCRIPT | LOADING | STALE,
        acl_genpass,
    ),
    CommandSpec::sub("acl|log", "log", -2, ACL_FLAGS, acl_log),
    CommandSpec::sub("acl|dryrun", "dryrun", -4, ACL_FLAGS, acl_dryrun),
    CommandSpec::sub("acl|deluser", "deluser", -3, ACL_FLAGS, acl_deluser),
    CommandSpec::sub("acl|setuser", "setuser", -3, ACL_FLAGS, acl_setuser),
    CommandSpec::sub("acl|load", "load", 2, ACL_FLAGS, no_acl_file),
    CommandSpec::sub("acl|save", "save", 2, ACL_FLAGS, no_acl_file),
    CommandSpec::sub("acl|help", "help", 2, LOADING | STALE, |_| {
        Ok(help(super::help::ACL))
    }),
];

const MODULE_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub("module|list", "list", 2, ADMIN | NOSCRIPT, |_| {
        Ok(Reply::Array(Vec::new()))
    }),
    CommandSpec::sub("module|load", "load", -3, ADMIN | NOSCRIPT, module_refused),
    CommandSpec::sub(
        "module|loadex",
        "loadex",
        -3,
        ADMIN | NOSCRIPT,
        module_refused,
    ),
    CommandSpec::sub(
        "module|unload",
        "unload",
        3,
        ADMIN | NOSCRIPT,
        module_refused,
    ),
    CommandSpec::sub("module|help", "help", 2, LOADING | STALE, |_| {
        Ok(help(super::help::MODULE))
    }),
];

const MONITOR_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

const LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub("latency|latest", "latest", 2, MONITOR_FLAGS, |_| {
        Ok(Reply::Array(Vec::new()))
    }),
    CommandSpec::sub("latency|history", "history", 3, MONITOR_FLAGS, |_| {
        Ok(Reply::Array(Vec::new()))
    }),
    CommandSpec::sub("latency|reset", "reset", -2, MONITOR_FLAGS, |_| {
        Ok(Reply::Int(0))
    }),
    CommandSpec::sub("latency|graph", "graph", 3, MONITOR_FLAGS, latency_graph),
    CommandSpec::sub("latency|doctor", "doctor", 2, MONITOR_FLAGS, |ctx| {
        Ok(verbatim(ctx, LATENCY_DOCTOR))
    }),
    CommandSpec::sub(
        "latency|histogram",
        "histogram",
        -2,
        MONITOR_FLAGS,
        latency_histogram,
    ),
    CommandSpec::sub("latency|help", "help", 2, LOADING | STALE, |_| {
        Ok(help(super::help::LATENCY))
    }),
];

fn cluster_disabled(_: &mut Ctx) -> CommandResult {
    Err(err("ERR This instance has cluster support disabled"))
}

/// Text Redis sends as a verbatim string (`=` in RESP3, bulk in RESP2).
pub(crate) fn verbatim(ctx: &Ctx, text: &str) -> Reply {
    if ctx.resp3() {
        Reply::Verbatim {
            format: *b"txt",
            text: text.as_bytes().to_vec(),
        }
    } else {
        Reply::bulk(text)
    }
}

// ---- Replication ------------------------------------------------------------

/// ROLE of a primary with no replica: its replication offset is 0 (no
/// backlog was ever made).
fn role(_: &mut Ctx) -> CommandResult {
    Ok(Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Int(0),
        Reply::Array(Vec::new()),
    ]))
}

/// REPLICAOF NO ONE: already a primary. REPLICAOF host port would make
/// this server a copy of another one: refused.
fn replicaof(ctx: &mut Ctx) -> CommandResult {
    if ctx.engine.cluster.is_some() {
        return Err(err("ERR REPLICAOF not allowed in cluster mode."));
    }
    if eq(ctx.arg(1), "no") && eq(ctx.arg(2), "one") {
        return Ok(Reply::ok());
    }
    if !parse_i64(ctx.arg(2)).is_some_and(|port| (0..=65535).contains(&port)) {
        return Err(err("ERR Invalid master port"));
    }
    Err(err(
        "ERR redstep cannot become a replica: it serves its own keyspace only (REPLICAOF NO ONE is accepted)",
    ))
}

/// FAILOVER: Redis's argument checks, then it needs a replica, which
/// redstep never has.
fn failover(ctx: &mut Ctx) -> CommandResult {
    if ctx.engine.cluster.is_some() {
        return Err(err(
            "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.",
        ));
    }
    let argc = ctx.argv.len();
    if argc == 2 && eq(ctx.arg(1), "abort") {
        return Err(err("ERR No failover in progress."));
    }
    let (mut timeout, mut host, mut force) = (0i64, false, false);
    let mut j = 1;
    while j < argc {
        if eq(ctx.arg(j), "timeout") && j + 1 < argc && timeout == 0 {
            timeout = int_arg(ctx, j + 1)?;
            if timeout <= 0 {
                return Err(err("ERR FAILOVER timeout must be greater than 0"));
            }
            j += 1;
        } else if eq(ctx.arg(j), "to") && j + 2 < argc && !host {
            int_arg(ctx, j + 2)?;
            host = true;
            j += 2;
        } else if eq(ctx.arg(j), "force") && !force {
            force = true;
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    Err(err("ERR FAILOVER requires connected replicas."))
}

/// SYNC, PSYNC and REPLCONF are what a replica sends its primary.
fn no_replication(ctx: &mut Ctx) -> CommandResult {
    Err(Reply::error(format!(
        "ERR redstep has no replicas: {} is what a replica sends its primary",
        ctx.argv[0].to_ascii_uppercase().escape_ascii()
    )))
}

// ---- Persistence ------------------------------------------------------------

/// SAVE and BGREWRITEAOF would write files into the server's directory.
fn no_files(ctx: &mut Ctx) -> CommandResult {
    Err(Reply::error(format!(
        "ERR redstep keeps no files: {} would write the keyspace to disk, and redstep's lives in memory only",
        ctx.argv[0].to_ascii_uppercase().escape_ascii()
    )))
}

/// BGSAVE [SCHEDULE]: Redis's argument check, then as SAVE.
fn bgsave(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 1 && !(ctx.argv.len() == 2 && eq(ctx.arg(1), "schedule")) {
        return Err(err(errors::SYNTAX));
    }
    no_files(ctx)
}

// ---- Modules ----------------------------------------------------------------

/// Redis 7.0 refuses MODULE LOAD, LOADEX and UNLOAD unless its
/// configuration file sets `enable-module-command` (`no` by default), and
/// redstep has no such file.
fn module_refused(_: &mut Ctx) -> CommandResult {
    Err(err(
        "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
    ))
}

// ---- Latency monitor ----------------------------------------------------------

/// LATENCY DOCTOR while the monitor is off (`latency-monitor-threshold`
/// 0, Redis's default, which redstep keeps).
const LATENCY_DOCTOR: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";

fn latency_graph(ctx: &mut Ctx) -> CommandResult {
    Err(Reply::error(format!(
        "ERR No samples available for event '{}'",
        ctx.arg(2).escape_ascii()
    )))
}

/// LATENCY HISTOGRAM [command ...]: each command's timed calls and how
/// many took at most each bucket's bound, cumulative, a bucket shown only
/// when its count grew. Without names, every command that ran (Redis answers in
/// its hash table's order; sorted here); a name may be a container (its
/// subcommands that ran) or `name|sub`; unknown names are skipped.
fn latency_histogram(ctx: &mut Ctx) -> CommandResult {
    let table = ctx.engine.command_table();
    let mut names: Vec<&'static str> = Vec::new();
    // A command is listed once a latency was recorded (a call that
    // blocked and timed out has none).
    let ran = |name: &str| {
        ctx.engine
            .stats
            .commands
            .get(name)
            .is_some_and(|s| s.latency.iter().any(|n| *n > 0))
    };
    if ctx.argv.len() == 2 {
        let mut all: Vec<&CommandSpec> = table
            .iter()
            .flat_map(|s| std::iter::once(s).chain(s.subcommands))
            .collect();
        all.sort_by_key(|s| s.full_name);
        names.extend(all.iter().map(|s| s.full_name).filter(|n| ran(n)));
    } else {
        for arg in &ctx.argv[2..] {
            let Some(spec) = super::server::named(table, arg) else {
                continue;
            };
            if spec.subcommands.is_empty() {
                names.extend(Some(spec.full_name).filter(|n| ran(n)));
            } else {
                names.extend(
                    spec.subcommands
                        .iter()
                        .map(|s| s.full_name)
                        .filter(|n| ran(n)),
                );
            }
        }
    }
    let histograms = names
        .into_iter()
        .map(|name| {
            let stat = *ctx
                .engine
                .stats
                .commands
                .get(name)
                .expect("listed when it ran");
            let (mut total, mut last) = (0, 0);
            let mut buckets = Vec::new();
            for (bound, count) in crate::engine::LATENCY_BUCKETS.iter().zip(stat.latency) {
                total += count;
                if total > last {
                    buckets.push((Reply::Int(*bound as i64), Reply::Int(total as i64)));
                    last = total;
                }
            }
            let entry = Reply::Map(vec![
                // The histogram's count of samples.
                (Reply::bulk("calls"), Reply::Int(total as i64)),
                (Reply::bulk("histogram_usec"), Reply::Map(buckets)),
            ]);
            (Reply::bulk(name), entry)
        })
        .collect();
    let reply = Reply::Map(histograms);
    Ok(if ctx.resp3() { reply } else { reply.to_resp2() })
}

// ---- LOLWUT -------------------------------------------------------------------

/// LOLWUT [VERSION v] [args]: Redis 7.0 draws art for versions 5 and 6
/// (`lolwut.rs`) and otherwise prints its version.
fn lolwut(ctx: &mut Ctx) -> CommandResult {
    let mut version = 7;
    if ctx.argv.len() >= 3 && eq(ctx.arg(1), "version") {
        // `%u.0.0` of the number as C's unsigned int.
        version = int_arg(ctx, 2)? as u32;
    }
    let text = match version {
        5 => super::lolwut::version5(&ctx.argv[3..])?,
        6 => super::lolwut::version6(&ctx.argv[3..])?,
        _ => format!("Redis ver. {}\n", super::server::REDIS_VERSION),
    };
    Ok(verbatim(ctx, &text))
}

// ---- MIGRATE ------------------------------------------------------------------

/// MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw]
/// [AUTH2 user pw] [KEYS key ...]: Redis's argument checks; with none of
/// the keys there it answers NOKEY, as Redis does; otherwise it would
/// connect to another server, which redstep does not.
fn migrate(ctx: &mut Ctx) -> CommandResult {
    let argc = ctx.argv.len();
    let (mut first, mut num) = (3, 1);
    let mut j = 6;
    while j < argc {
        let more = argc - j - 1;
        if eq(ctx.arg(j), "copy") || eq(ctx.arg(j), "replace") {
        } else if eq(ctx.arg(j), "auth") {
            if more == 0 {
                return Err(err(errors::SYNTAX));
            }
            j += 1;
        } else if eq(ctx.arg(j), "auth2") {
            if more < 2 {
                return Err(err(errors::SYNTAX));
            }
            j += 2;
        } else if eq(ctx.arg(j), "keys") {
            if !ctx.arg(3).is_empty() {
                return Err(err(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            first = j + 1;
            num = argc - j - 1;
            break;
        } else {
            return Err(err(errors::SYNTAX));
        }
        j += 1;
    }
    int_arg(ctx, 5)?; // the timeout
    int_arg(ctx, 4)?; // the database
                      // Every key is looked up (a miss is a keymiss event), as Redis does.
    let keys: Vec<Vec<u8>> = ctx.argv[first..first + num].to_vec();
    let found = keys.iter().filter(|k| ctx.lookup_read(k).is_some()).count();
    if found == 0 {
        return Ok(Reply::status("NOKEY"));
    }
    Err(err(
        "ERR redstep does not connect to other servers (MIGRATE); DUMP and RESTORE move a key by hand",
    ))
}

// ---- ACL ----------------------------------------------------------------------
//
// redstep has one user, `default`, allowed everything; its password is
// `requirepass` (none by default), as on a Redis started without ACL rules.

/// ACL's error for a subcommand given the wrong number of arguments (the
/// subcommand as typed).
fn acl_arity(ctx: &Ctx) -> Reply {
    Reply::error(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        ctx.arg(1).escape_ascii()
    ))
}

/// The default user's password rule: `nopass`, or its SHA-256.
fn password_rule(ctx: &Ctx) -> Option<String> {
    use sha2::Digest;
    let pass = ctx.engine.config.requirepass.as_deref()?;
    let digest = sha2::Sha256::digest(pass);
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn acl_list(ctx: &mut Ctx) -> CommandResult {
    let pass = match password_rule(ctx) {
        Some(hash) => format!("#{hash}"),
        None => "nopass".to_string(),
    };
    Ok(Reply::bulks([format!(
        "user default on {pass} ~* &* +@all"
    )]))
}

fn acl_getuser(ctx: &mut Ctx) -> CommandResult {
    if ctx.arg(2) != b"default" {
        return Ok(Reply::Nil);
    }
    let hash = password_rule(ctx);
    let mut flags = vec![Reply::bulk("on")];
    if hash.is_none() {
        flags.push(Reply::bulk("nopass"));
    }
    let flags = if ctx.resp3() {
        Reply::Set(flags)
    } else {
        Reply::Array(flags)
    };
    Ok(super::map_reply(
        ctx,
        vec![
            ("flags", flags),
            ("passwords", Reply::bulks(hash)),
            ("commands", Reply::bulk("+@all")),
            ("keys", Reply::bulk("~*")),
            ("channels", Reply::bulk("&*")),
            ("selectors", Reply::Array(Vec::new())),
        ],
    ))
}

/// ACL CAT [category]: the categories, or the commands of one (Redis
/// lists them in its hash table's order; sorted here).
fn acl_cat(ctx: &mut Ctx) -> CommandResult {
    let catalog = crate::engine::catalog::catalog();
    match ctx.argv.len() {
        2 => Ok(Reply::bulks(catalog.categories())),
        3 => {
            let category = ctx.arg(2).to_vec();
            if !catalog.is_category(&category) {
                return Err(Reply::error(format!(
                    "ERR Unknown category '{}'",
                    category.escape_ascii()
                )));
            }
            let mut names: Vec<&str> = ctx
                .engine
                .command_table()
                .iter()
                .flat_map(|s| std::iter::once(s).chain(s.subcommands))
                .filter(|s| {
                    catalog
                        .get(s.full_name)
                        .is_some_and(|d| d.in_category(&category))
                })
                // A container lists its subcommands, not itself.
                .filter(|s| s.subcommands.is_empty())
                .map(|s| s.full_name)
                .collect();
            names.sort_unstable();
            Ok(Reply::bulks(names))
        }
        _ => Err(acl_arity(ctx)),
    }
}

/// ACL GENPASS [bits]: random bits (256 by default) as hex.
fn acl_genpass(ctx: &mut Ctx) -> CommandResult {
    let bits = match ctx.argv.len() {
        2 => 256,
        3 => {
            let bits = int_arg(ctx, 2)?;
            if bits <= 0 || bits > 4096 {
                return Err(err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"));
            }
            bits as usize
        }
        _ => return Err(acl_arity(ctx)),
    };
    let chars = bits.div_ceil(4);
    let hex: String = (0..chars)
        .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
        .collect();
    Ok(Reply::bulk(hex))
}

/// One ACL LOG entry (redstep logs only failed authentications: with
/// every permission granted, nothing else is ever denied).
#[derive(Clone, Debug)]
pub(crate) struct AclLogEntry {
    count: i64,
    /// `toplevel`, or `multi` inside EXEC.
    context: &'static str,
    /// The command as typed (`AUTH`, `hello`).
    object: Vec<u8>,
    username: Vec<u8>,
    ms: i64,
    client_info: String,
}

/// Redis's `acllog-max-len` default.
const ACL_LOG_MAX: usize = 128;
/// Failures this close in time, and otherwise alike, are one entry.
const ACL_LOG_GROUPING_MS: i64 = 60_000;

/// Logs a failed authentication, as Redis's `addACLLogEntry` does.
pub(crate) fn log_auth_failure(ctx: &mut Ctx, username: &[u8]) {
    let now = ctx.engine.wall_clock_ms();
    let entry = AclLogEntry {
        count: 1,
        context: if ctx.client.in_exec {
            "multi"
        } else {
            "toplevel"
        },
        object: ctx.argv[0].clone(),
        username: username.to_vec(),
        ms: now,
        client_info: super::server::client_line(ctx.client, now)
            .trim_end()
            .to_string(),
    };
    let log = &mut ctx.engine.acl_log;
    let alike = log.iter().take(10).position(|e| {
        e.context == entry.context
            && (e.ms - entry.ms).abs() <= ACL_LOG_GROUPING_MS
            && e.object == entry.object
            && e.username == entry.username
    });
    match alike {
        Some(i) => {
            let mut e = log.remove(i).expect("found above");
            e.count += 1;
            e.ms = entry.ms;
            e.client_info = entry.client_info;
            log.push_front(e);
        }
        None => {
            log.push_front(entry);
            log.truncate(ACL_LOG_MAX);
        }
    }
}

/// ACL LOG [count|RESET]: the newest entries first, ten by default.
fn acl_log(ctx: &mut Ctx) -> CommandResult {
    let mut count = 10;
    match ctx.argv.len() {
        2 => {}
        3 if eq(ctx.arg(2), "reset") => {
            ctx.engine.acl_log.clear();
            return Ok(Reply::ok());
        }
        3 => count = int_arg(ctx, 2)?.max(0) as usize,
        _ => return Err(acl_arity(ctx)),
    }
    let now = ctx.engine.wall_clock_ms();
    let entries: Vec<AclLogEntry> = ctx.engine.acl_log.iter().take(count).cloned().collect();
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                let age = (now - e.ms) as f64 / 1000.0;
                let map = Reply::Map(vec![
                    (Reply::bulk("count"), Reply::Int(e.count)),
                    (Reply::bulk("reason"), Reply::bulk("auth")),
                    (Reply::bulk("context"), Reply::bulk(e.context)),
                    (Reply::bulk("object"), Reply::Bulk(e.object)),
                    (Reply::bulk("username"), Reply::Bulk(e.username)),
                    (Reply::bulk("age-seconds"), Reply::Double(age)),
                    (Reply::bulk("client-info"), Reply::bulk(e.client_info)),
                ]);
                if ctx.resp3() {
                    map
                } else {
                    map.to_resp2()
                }
            })
            .collect(),
    ))
}

/// ACL DRYRUN user command arg...: the default user may run anything
/// that exists with the right number of arguments.
fn acl_dryrun(ctx: &mut Ctx) -> CommandResult {
    if ctx.arg(2) != b"default" {
        return Err(Reply::error(format!(
            "ERR User '{}' not found",
            ctx.arg(2).escape_ascii()
        )));
    }
    let argv = &ctx.argv[3..];
    let table = ctx.engine.command_table();
    let Some(spec) = table.resolve(argv) else {
        return Err(Reply::error(format!(
            "ERR Command '{}' not found",
            ctx.arg(3).escape_ascii()
        )));
    };
    if !spec.arity_ok(argv.len()) {
        return Err(Reply::error(format!(
            "ERR wrong number of arguments for '{}' command",
            spec.full_name
        )));
    }
    Ok(Reply::ok())
}

fn acl_deluser(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv[2..].iter().any(|u| u == b"default") {
        return Err(err("ERR The 'default' user cannot be removed"));
    }
    Ok(Reply::Int(0))
}

/// ACL SETUSER default (no rules) changes nothing; anything else would
/// make users and rules redstep does not have.
fn acl_setuser(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() == 3 && ctx.arg(2) == b"default" {
        return Ok(Reply::ok());
    }
    Err(err(
        "ERR redstep has one user, default, allowed everything (its password is requirepass): ACL SETUSER cannot make users or rules",
    ))
}

fn no_acl_file(_: &mut Ctx) -> CommandResult {
    Err(err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."))
}
