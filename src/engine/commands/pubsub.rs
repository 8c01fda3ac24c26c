//! PUBLISH / SUBSCRIBE / UNSUBSCRIBE / PSUBSCRIBE / PUNSUBSCRIBE / PUBSUB.
//!
//! Messages and the confirmations after the first go to the engine's
//! outbox; the server writes them after the command's own reply.

use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::Bytes;
use crate::engine::{glob, Client, CommandResult, Ctx, Engine, Reply};

const PUBSUB_FLAGS: u32 = PUBSUB | NOSCRIPT | LOADING | STALE | SUBSCRIBED_OK;

pub(crate) const COMMANDS: &[CommandSpec] = &[
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
    CommandSpec::new("ssubscribe", -2, PUBSUB_FLAGS, (1, -1, 1), ssubscribe),
    CommandSpec::new("sunsubscribe", -1, PUBSUB_FLAGS, (1, -1, 1), sunsubscribe),
    CommandSpec::new(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (1, 1, 1),
        spublish,
    ),
    CommandSpec::container_of("pubsub", 0, PUBSUB_SUBCOMMANDS),
];

const PUBSUB_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::sub(
        "pubsub|shardchannels",
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardchannels,
    ),
    CommandSpec::sub(
        "pubsub|shardnumsub",
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        pubsub_shardnumsub,
    ),
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
    CommandSpec::sub("pubsub|help", "help", 2, LOADING | STALE, |_| {
        Ok(super::help(super::help::PUBSUB))
    }),
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
    pub(crate) fn unsubscribe_all(
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

impl Engine {
    /// SSUBSCRIBE: one confirmation per channel, counting shard
    /// subscriptions only.
    fn shard_subscribe(&mut self, client: &mut Client, names: &[Bytes]) -> Vec<Reply> {
        names
            .iter()
            .map(|name| {
                if client.shard_channels.insert(name.clone()) {
                    self.shard_channels
                        .entry(name.clone())
                        .or_default()
                        .insert(client.id);
                }
                confirmation(
                    "ssubscribe",
                    Some(name),
                    client.shard_channels.len(),
                    client.resp,
                )
            })
            .collect()
    }

    /// SUNSUBSCRIBE: the named channels, or every one (none: one
    /// confirmation with a nil name).
    pub(crate) fn shard_unsubscribe(&mut self, client: &mut Client, names: &[Bytes]) -> Vec<Reply> {
        let names: Vec<Bytes> = if names.is_empty() {
            client.shard_channels.iter().cloned().collect()
        } else {
            names.to_vec()
        };
        if names.is_empty() {
            return vec![confirmation("sunsubscribe", None, 0, client.resp)];
        }
        names
            .iter()
            .map(|name| {
                if client.shard_channels.shift_remove(name) {
                    self.shard_unsubscribe_registry(name, client.id);
                }
                confirmation(
                    "sunsubscribe",
                    Some(name),
                    client.shard_channels.len(),
                    client.resp,
                )
            })
            .collect()
    }

    pub(crate) fn shard_unsubscribe_registry(&mut self, name: &[u8], id: crate::engine::ClientId) {
        if let Some(set) = self.shard_channels.get_mut(name) {
            set.shift_remove(&id);
            if set.is_empty() {
                self.shard_channels.remove(name);
            }
        }
    }

    /// SPUBLISH: `smessage` to the channel's shard subscribers.
    pub(crate) fn spublish(&mut self, channel: &[u8], message: &[u8]) -> i64 {
        let Some(subs) = self.shard_channels.get(channel) else {
            return 0;
        };
        let subs: Vec<crate::engine::ClientId> = subs.iter().copied().collect();
        for id in &subs {
            let items = vec![
                Reply::bulk("smessage"),
                Reply::bulk(channel),
                Reply::bulk(message),
            ];
            let resp3 = self.client(*id).is_some_and(|c| c.resp == 3);
            self.outbox.push((
                *id,
                if resp3 {
                    Reply::Push(items)
                } else {
                    Reply::Array(items)
                },
            ));
        }
        subs.len() as i64
    }
}

fn ssubscribe(ctx: &mut Ctx) -> CommandResult {
    let replies = ctx.engine.shard_subscribe(ctx.client, &ctx.argv[1..]);
    first_and_queue(ctx, replies)
}

fn sunsubscribe(ctx: &mut Ctx) -> CommandResult {
    let replies = ctx.engine.shard_unsubscribe(ctx.client, &ctx.argv[1..]);
    first_and_queue(ctx, replies)
}

fn spublish(ctx: &mut Ctx) -> CommandResult {
    let (channel, message) = (ctx.arg(1).to_vec(), ctx.arg(2).to_vec());
    Ok(Reply::Int(ctx.engine.spublish(&channel, &message)))
}

fn pubsub_shardchannels(ctx: &mut Ctx) -> CommandResult {
    let pattern = ctx.argv.get(2).cloned();
    let mut names: Vec<&Bytes> = ctx
        .engine
        .shard_channels
        .keys()
        .filter(|ch| pattern.as_ref().is_none_or(|p| glob::matches(p, ch, false)))
        .collect();
    names.sort();
    Ok(Reply::bulks(names))
}

fn pubsub_shardnumsub(ctx: &mut Ctx) -> CommandResult {
    let mut out = Vec::new();
    for ch in &ctx.argv[2..] {
        out.push(Reply::bulk(ch));
        out.push(Reply::Int(
            ctx.engine.shard_channels.get(ch).map_or(0, |s| s.len()) as i64,
        ));
    }
    Ok(Reply::Array(out))
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
    // Replicas get every PUBLISH (forceCommandPropagation).
    ctx.force_propagation();
    Ok(Reply::Int(ctx.engine.publish(
        &channel,
        &message,
        Some(ctx.client),
    )))
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
