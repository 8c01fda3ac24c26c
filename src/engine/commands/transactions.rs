//! MULTI / EXEC / DISCARD / WATCH / UNWATCH.
//!
//! Redis transactions do not roll back either: a command that fails inside
//! EXEC leaves the others applied. Only errors found while queuing (unknown
//! command, wrong arity) abort the whole transaction with EXECABORT.

use crate::engine::errors::{self, err};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::{CommandResult, Ctx, Reply};

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED | ALLOW_BUSY,
        (0, 0, 0),
        multi,
    ),
    CommandSpec::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | NOT_QUEUED | SKIP_SLOWLOG | NOT_PROPAGATED,
        (0, 0, 0),
        exec,
    ),
    CommandSpec::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED | ALLOW_BUSY,
        (0, 0, 0),
        discard,
    ),
    CommandSpec::new(
        "watch",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NOT_QUEUED | ALLOW_BUSY,
        (1, -1, 1),
        watch,
    ),
    CommandSpec::new(
        "unwatch",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        (0, 0, 0),
        unwatch,
    ),
];

fn multi(ctx: &mut Ctx) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(err(errors::MULTI_NESTED));
    }
    ctx.client.multi = Some(Vec::new());
    ctx.client.multi_error = false;
    ctx.client.multi_denyoom = false;
    Ok(Reply::ok())
}

pub(crate) fn unwatch_client(ctx: &mut Ctx) {
    ctx.engine.unwatch_all(ctx.client);
}

fn exec(ctx: &mut Ctx) -> CommandResult {
    let Some(queued) = ctx.client.multi.take() else {
        return Err(err(errors::EXEC_WITHOUT_MULTI));
    };
    let aborted = std::mem::take(&mut ctx.client.multi_error);
    let dirty = ctx.client.watch_dirty;
    unwatch_client(ctx);
    if aborted {
        return Err(err(errors::EXECABORT));
    }
    if dirty {
        return Ok(Reply::NilArray);
    }
    let saved = ctx.client.no_block;
    ctx.client.no_block = true;
    ctx.client.in_exec = true;
    let mut replies = Vec::with_capacity(queued.len());
    for argv in &queued {
        let (reply, write) = match ctx.engine.lookup_command(argv) {
            Ok(spec) => {
                let spec = *spec;
                let reply = ctx
                    .engine
                    .run(ctx.client, &spec, argv, ctx.ext)
                    .unwrap_or(Reply::NilArray);
                (reply, spec.is_write())
            }
            Err(e) => (e, false),
        };
        ctx.ext.queued_ran(argv, &reply, write);
        replies.push(reply);
    }
    ctx.client.no_block = saved;
    ctx.client.in_exec = false;
    Ok(Reply::Array(replies))
}

fn discard(ctx: &mut Ctx) -> CommandResult {
    if ctx.client.multi.take().is_none() {
        return Err(err(errors::DISCARD_WITHOUT_MULTI));
    }
    ctx.client.multi_error = false;
    unwatch_client(ctx);
    Ok(Reply::ok())
}

fn watch(ctx: &mut Ctx) -> CommandResult {
    if ctx.client.multi.is_some() {
        return Err(err(errors::WATCH_IN_MULTI));
    }
    for i in 1..ctx.argv.len() {
        let key = ctx.argv[i].clone();
        ctx.engine.watch(ctx.client, &key);
    }
    Ok(Reply::ok())
}

fn unwatch(ctx: &mut Ctx) -> CommandResult {
    unwatch_client(ctx);
    Ok(Reply::ok())
}
