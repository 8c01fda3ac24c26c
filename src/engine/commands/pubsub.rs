//! PUBLISH / SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE / PUNSUBSCRIBE / PUBSUB.
//!
//! Messages and the confirmations after the first go to the engine's
//! outbox; the server writes them after the command's own reply.

use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::Bytes;
use crate::engine::{glob, Client, CommandResult, Ctx, Engine, Reply};

const PUBSUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (0, 0, 0),
        publish,
    ),
    CommandSpec::new("subscribe", -2, PUBSUB_FLAGS, (0, 0, 0), subscribe),
    CommandSpec::new("unsubscribe", -1, PUBSUB_FLAGS, (0, 0, 0), unsubscribe),
    CommandSpec::new("psubscribe", -2, PUBSUB_FLAGS, (0, 0, 0), psubscribe),
    CommandSpec::new("punsubscribe", -1, PUBSUB_FLAGS, (0, 0, 0), punsubscribe),
    CommandSpec::container_of("pubsub", 0, PUBSUB_SUBCOMMANDS),
];

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "pubsub|channels",
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_channels,
    ),
    CommandSpec::sub(
        "pubsub|numsub",
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_numsub,
    ),
    CommandSpec::sub(
        "pubsub|numpat",
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        pubsub_numpat,
    ),
];

fn confirmation(kind: &str, name: Option<&[u8]>, count: usize, resp: u8) -> Reply {
    let items = vec![
        Reply::bulk(kind),
        Reply::bulk_or_nil(name),
        Reply::Int(count as i64),
    ];
    // RESP3 clients get pub/sub replies as pushes, as Redis 7.0 sends them.
    if resp == 3 {
        Reply::Push(items)
    } else {
        Reply::Array(items)
    }
}

impl Engine {
    /// Subscribes and returns one confirmation per name.
    fn subscribe_names(
        &mut self,
        client: &mut Client,
        pattern: bool,
        names: &[Bytes],
    ) -> Vec<Reply> {
        let kind = if pattern { "psubscribe" } else { "subscribe" };
        names
            .iter()
            .map(|name| {
                let set = if pattern {
                    &mut client.patterns
                } else {
                    &mut client.channels
                };
                if set.insert(name.clone()) {
                    let registry = if pattern {
                        &mut self.patterns
                    } else {
                        &mut self.channels
                    };
                    registry.entry(name.clone()).or_default().insert(client.id);
                }
                confirmation(kind, Some(name), client.subscriptions(), client.resp)
            })
            .collect()
    }

    fn unsubscribe_names(
        &mut self,
        client: &mut Client,
        pattern: bool,
        names: &[Bytes],
    ) -> Vec<Reply> {
        let kind = if pattern {
            "punsubscribe"
        } else {
            "unsubscribe"
        };
        names
            .iter()
            .map(|name| {
                let set = if pattern {
                    &mut client.patterns
                } else {
                    &mut client.channels
                };
                if set.shift_remove(name) {
                    self.unsubscribe_registry(pattern, name, client.id);
                }
                confirmation(kind, Some(name), client.subscriptions(), client.resp)
            })
            .collect()
    }

    /// Drops every channel (or pattern) subscription; with `notify`, returns
    /// the confirmations Redis sends.
    pub fn unsubscribe_all(
        &mut self,
        client: &mut Client,
        pattern: bool,
        notify: bool,
    ) -> Vec<Reply> {
        let names: Vec<Bytes> = if pattern {
            client.patterns.iter().cloned().collect()
        } else {
            client.channels.iter().cloned().collect()
        };
        let replies = self.unsubscribe_names(client, pattern, &names);
        if notify {
            replies
        } else {
            Vec::new()
        }
    }
}

/// The first reply is the command's; the rest queue behind it.
fn first_and_queue(ctx: &mut Ctx, mut replies: Vec<Reply>) -> CommandResult {
    if replies.is_empty() {
        return Ok(Reply::Array(vec![]));
    }
    let first = replies.remove(0);
    let id = ctx.client.id;
    ctx.engine
        .outbox
        .extend(replies.into_iter().map(|r| (id, r)));
    Ok(first)
}

fn publish(ctx: &mut Ctx) -> CommandResult {
    let (channel, message) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::Int(ctx.engine.publish(&channel, &message)))
}

fn subscribe(ctx: &mut Ctx) -> CommandResult {
    let replies = ctx
        .engine
        .subscribe_names(ctx.client, false, &ctx.argv[1..]);
    first_and_queue(ctx, replies)
}

fn psubscribe(ctx: &mut Ctx) -> CommandResult {
    let replies = ctx.engine.subscribe_names(ctx.client, true, &ctx.argv[1..]);
    first_and_queue(ctx, replies)
}

fn unsubscribe_generic(ctx: &mut Ctx, pattern: bool) -> CommandResult {
    let replies = if ctx.argv.len() > 1 {
        ctx.engine
            .unsubscribe_names(ctx.client, pattern, &ctx.argv[1..])
    } else {
        let replies = ctx.engine.unsubscribe_all(ctx.client, pattern, true);
        if replies.is_empty() {
            let kind = if pattern {
                "punsubscribe"
            } else {
                "unsubscribe"
            };
            vec![confirmation(
                kind,
                None,
                ctx.client.subscriptions(),
                ctx.client.resp,
            )]
        } else {
            replies
        }
    };
    first_and_queue(ctx, replies)
}

fn unsubscribe(ctx: &mut Ctx) -> CommandResult {
    unsubscribe_generic(ctx, false)
}

fn punsubscribe(ctx: &mut Ctx) -> CommandResult {
    unsubscribe_generic(ctx, true)
}

fn pubsub_channels(ctx: &mut Ctx) -> CommandResult {
    let pattern = ctx.argv.get(2).cloned();
    let mut names: Vec<&Bytes> = ctx
        .engine
        .channels
        .keys()
        .filter(|ch| pattern.as_ref().is_none_or(|p| glob::matches(p, ch, false)))
        .collect();
    names.sort();
    Ok(Reply::bulks(names))
}

fn pubsub_numsub(ctx: &mut Ctx) -> CommandResult {
    let mut out = Vec::new();
    for ch in &ctx.argv[2..] {
        out.push(Reply::bulk(ch));
        out.push(Reply::Int(
            ctx.engine.channels.get(ch).map(|s| s.len()).unwrap_or(0) as i64,
        ));
    }
    Ok(Reply::Array(out))
}

fn pubsub_numpat(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(ctx.engine.patterns.len() as i64))
}
