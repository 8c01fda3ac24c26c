//! Cluster mode (`--cluster N`): the engine answers as node 1, the first
//! master, of an N-shard Redis Cluster whose slots are split as
//! `redis-cli --cluster create ... --cluster-replicas 0` splits them.
//!
//! What Redis 7.0.15 does, and where it does it:
//! - `processCommand` asks `getNodeByQuery` about every command that takes
//!   keys (and EXEC, for all its queued commands): keys in two slots answer
//!   `CROSSSLOT`, a key of another node `MOVED <slot> <ip>:<port>`
//!   ([`process_command`]). The slot found is kept on the client for the
//!   length of the command (`c->slot`).
//! - `scriptVerifyClusterState` checks every `redis.call` of a script the
//!   same way, and (unless the script has no shebang or declares
//!   `allow-cross-slot-keys`) that it stays in the slot of the command
//!   ([`script_call`]).
//! - SELECT to a non-zero db, MOVE, SWAPDB and COPY to another db are
//!   refused by their handlers; CLUSTER answers for the node.
//!
//! The other nodes exist only as addresses: node `i` (from 1) listens on
//! the engine's port + `i` - 1 (`redstep serve --port 7000 --cluster 3`:
//! 7000, 7001, 7002), so a MOVED names where a real cluster made with those
//! ports would send the client. Nothing answers there.

use std::collections::HashMap;

use super::errors::err;
use super::numbers::parse_i64;
use super::table::{CommandSpec, Handler, HandlerFn};
use super::value::Bytes;
use super::{Client, CommandResult, Ctx, Engine, Reply};

/// Redis Cluster's number of hash slots.
pub const SLOTS: usize = 16384;

/// `redis-cli --cluster create` refuses fewer masters.
pub const MIN_SHARDS: usize = 3;

pub(crate) const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";
pub(crate) const SCRIPT_NON_LOCAL: &str =
    "Script attempted to access a non local key in a cluster node";
pub(crate) const SCRIPT_CROSS_SLOT: &str =
    "Script attempted to access keys that do not hash to the same slot";
pub(crate) const NO_CLUSTER_SCRIPT: &str =
    "ERR Can not run script on cluster, 'no-cluster' flag is set.";

/// CRC16-CCITT (XMODEM), Redis's `crc16`.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The part of a key that is hashed: what stands between the first `{`
/// and the first `}` after it, when that is not empty (Redis's
/// `keyHashSlot`).
pub fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let close = key[open + 1..].iter().position(|&b| b == b'}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

/// The hash slot of a key.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key).unwrap_or(key)) & 0x3FFF
}

/// The slot ranges of `shards` masters as `redis-cli --cluster create`
/// assigns them (clusterManagerCommandCreate: a float cursor, lround).
pub fn slot_ranges(shards: usize) -> Vec<(u16, u16)> {
    let per_node = SLOTS as f32 / shards as f32;
    let mut first: i64 = 0;
    let mut cursor = 0.0f32;
    let mut ranges = Vec::with_capacity(shards);
    for i in 0..shards {
        let mut last = ((cursor + per_node - 1.0) as f64).round() as i64;
        if last > SLOTS as i64 || i == shards - 1 {
            last = SLOTS as i64 - 1;
        }
        if last < first {
            last = first;
        }
        ranges.push((first as u16, last as u16));
        first = last + 1;
        cursor += per_node;
    }
    ranges
}

/// Whether `--cluster shards` can be emulated with node 1 on `port`.
pub fn validate(shards: usize, port: u16) -> Result<(), String> {
    if shards > SLOTS {
        return Err(format!(
            "--cluster: {shards} masters cannot share {SLOTS} slots (each needs one at least)"
        ));
    }
    if shards < MIN_SHARDS {
        return Err(format!(
            "--cluster: a Redis Cluster needs at least {MIN_SHARDS} masters (redis-cli --cluster create refuses {shards})"
        ));
    }
    if port as usize + shards - 1 > u16::MAX as usize {
        return Err(format!(
            "--cluster: {shards} nodes from port {port} do not fit under port 65536"
        ));
    }
    Ok(())
}

/// A new engine, in cluster mode when `shards` is given (already
/// [`validate`]d for the engine's port).
pub fn engine(shards: Option<usize>) -> Engine {
    let mut engine = Engine::default();
    if let Some(shards) = shards {
        engine
            .enable_cluster(shards)
            .expect("--cluster is validated before the engine starts");
    }
    engine
}

/// The emulated cluster: node 0 is this engine ("myself").
#[derive(Clone, Debug)]
pub struct Cluster {
    ranges: Vec<(u16, u16)>,
    ids: Vec<String>,
    /// The original handlers of the commands cluster mode wraps.
    originals: HashMap<&'static str, HandlerFn>,
}

impl Cluster {
    fn new(shards: usize) -> Cluster {
        let ids = (1..=shards)
            .map(|i| {
                use sha1::Digest;
                let digest = sha1::Sha1::digest(format!("redstep cluster node {i}").as_bytes());
                digest.iter().map(|b| format!("{b:02x}")).collect()
            })
            .collect();
        Cluster {
            ranges: slot_ranges(shards),
            ids,
            originals: HashMap::new(),
        }
    }

    pub fn shards(&self) -> usize {
        self.ranges.len()
    }

    /// The slots node `node` (from 0: this engine) serves.
    pub fn range(&self, node: usize) -> (u16, u16) {
        self.ranges[node]
    }

    /// The node (from 0: this engine) that serves a slot.
    pub fn owner(&self, slot: u16) -> usize {
        self.ranges
            .iter()
            .position(|&(first, last)| (first..=last).contains(&slot))
            .unwrap_or(0)
    }

    pub fn node_id(&self, node: usize) -> &str {
        &self.ids[node]
    }

    fn node_by_id(&self, id: &[u8]) -> Option<usize> {
        self.ids.iter().position(|n| n.as_bytes() == id)
    }
}

/// The commands cluster mode changes (wrapped, replaced or added), which a
/// standalone engine answers as a fresh one does.
const CHANGED: [&str; 8] = [
    "select",
    "move",
    "swapdb",
    "copy",
    "cluster",
    "asking",
    "readonly",
    "readwrite",
];

impl Engine {
    /// Makes this engine node 1 of a `shards`-master cluster. Without it
    /// the engine is a standalone server (CLUSTER answers "cluster support
    /// disabled").
    pub fn enable_cluster(&mut self, shards: usize) -> Result<(), String> {
        validate(shards, self.config.port)?;
        self.disable_cluster();
        let mut cluster = Cluster::new(shards);
        let wrapped: [(&'static str, HandlerFn); 4] = [
            ("select", select),
            ("move", move_key),
            ("swapdb", swapdb),
            ("copy", copy),
        ];
        for (name, handler) in wrapped {
            let Some(mut spec) = self.table.get(name.as_bytes()).copied() else {
                continue;
            };
            if let Handler::Engine(original) = spec.handler {
                cluster.originals.insert(name, original);
                spec.handler = Handler::Engine(handler);
                self.table.register(spec);
            }
        }
        if let Some(mut spec) = self.table.get(b"cluster").copied() {
            // The table keeps `&'static` subcommand lists: made once per
            // process, however often an engine goes in and out of cluster mode.
            static SUBCOMMANDS: std::sync::OnceLock<&'static [CommandSpec]> =
                std::sync::OnceLock::new();
            let standalone = spec.subcommands;
            spec.subcommands = SUBCOMMANDS.get_or_init(|| {
                let subcommands: Vec<CommandSpec> = standalone
                    .iter()
                    .map(|sub| CommandSpec {
                        handler: Handler::Engine(subcommand_handler(sub.name)),
                        ..*sub
                    })
                    .collect();
                Box::leak(subcommands.into_boxed_slice())
            });
            self.table.register(spec);
        }
        // What a cluster client sends to a master: nothing to do on one
        // that has no replica role and no slot being imported.
        use super::table::flags::{FAST, LOADING, STALE};
        for (name, flags) in [
            ("asking", FAST),
            ("readonly", FAST | LOADING | STALE),
            ("readwrite", FAST | LOADING | STALE),
        ] {
            self.table
                .register(CommandSpec::new(name, 1, flags, (0, 0, 0), |_| {
                    Ok(Reply::ok())
                }));
        }
        self.cluster = Some(cluster);
        // A cluster node has one database: clients that selected another
        // (in a redis-cli pane, before a lesson put the engine in cluster
        // mode) are back on 0, as they would be on a real node.
        for client in self.clients.values_mut() {
            client.db = 0;
        }
        Ok(())
    }

    /// Makes this engine a standalone server again (a lesson in cluster
    /// mode was left): the commands cluster mode changed answer as a fresh
    /// engine's do. The keys stay.
    pub fn disable_cluster(&mut self) {
        if self.cluster.take().is_none() {
            return;
        }
        let standalone = super::table::Table::new();
        for name in CHANGED {
            match standalone.get(name.as_bytes()) {
                Some(spec) => self.table.register(*spec),
                None => self.table.remove(name.as_bytes()),
            }
        }
    }

    /// `enable_cluster(shards)`, or `disable_cluster()` for None.
    pub fn set_cluster(&mut self, shards: Option<usize>) -> Result<(), String> {
        match shards {
            Some(shards) => self.enable_cluster(shards),
            None => {
                self.disable_cluster();
                Ok(())
            }
        }
    }

    /// HELLO's `mode` and INFO's `redis_mode`.
    pub(crate) fn mode(&self) -> &'static str {
        if self.cluster.is_some() {
            "cluster"
        } else {
            "standalone"
        }
    }

    /// The emulated cluster, when the engine runs in cluster mode.
    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    /// The address other nodes are given: the engine's bind address when
    /// it is one address, else loopback.
    fn node_ip(&self) -> String {
        match self.config.bind.parse::<std::net::IpAddr>() {
            Ok(ip) if !ip.is_unspecified() => ip.to_string(),
            _ => "127.0.0.1".to_string(),
        }
    }

    fn node_port(&self, node: usize) -> u16 {
        self.config.port + node as u16
    }
}

/// Why `getNodeByQuery` did not answer "myself".
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Refusal {
    CrossSlot,
    /// The slot and the node (from 0) that serves it.
    Moved(u16, usize),
}

/// Redis's `getNodeByQuery` for a list of commands (one, or EXEC's queue):
/// the slot of their keys (None: no keys), or why this node cannot serve
/// them.
pub(crate) fn node_for_query<'a>(
    cluster: &Cluster,
    commands: impl IntoIterator<Item = (&'a CommandSpec, &'a [Bytes])>,
) -> Result<Option<u16>, Refusal> {
    let mut first: Option<(&[u8], u16)> = None;
    for (spec, argv) in commands {
        for key in spec.keys(argv) {
            let slot = key_slot(key);
            match first {
                None => first = Some((key, slot)),
                Some((k, s)) if k != key && s != slot => return Err(Refusal::CrossSlot),
                Some(_) => {}
            }
        }
    }
    match first {
        None => Ok(None),
        Some((_, slot)) => match cluster.owner(slot) {
            0 => Ok(Some(slot)),
            node => Err(Refusal::Moved(slot, node)),
        },
    }
}

/// The cluster check of Redis's `processCommand`, for a command a client
/// sent: keys in two slots or owned by another node refuse it
/// (`CROSSSLOT`, `MOVED`); inside MULTI the refusal also fails the
/// transaction, and a refused EXEC discards it. Otherwise the client
/// keeps the command's slot for its scripts ([`script_call`]).
pub(crate) fn process_command(
    engine: &mut Engine,
    client: &mut Client,
    spec: &CommandSpec,
    argv: &[Bytes],
) -> Option<Reply> {
    let cluster = engine.cluster.as_ref()?;
    client.cluster_slot = None;
    let is_exec = spec.full_name == "exec";
    if !is_exec && !spec.takes_keys() {
        return None;
    }
    let outcome = if is_exec {
        let queue = client.multi.as_ref()?;
        let table = &engine.table;
        let resolved: Vec<(CommandSpec, &[Bytes])> = queue
            .iter()
            .filter_map(|argv| Some((*table.resolve(argv)?, argv.as_slice())))
            .collect();
        node_for_query(cluster, resolved.iter().map(|(s, a)| (s, *a)))
    } else {
        node_for_query(cluster, [(spec, argv)])
    };
    let refusal = match outcome {
        Ok(slot) => {
            client.cluster_slot = slot;
            return None;
        }
        Err(refusal) => refusal,
    };
    let reply = match refusal {
        Refusal::CrossSlot => Reply::error(CROSSSLOT),
        Refusal::Moved(slot, node) => Reply::error(format!(
            "MOVED {slot} {}:{}",
            engine.node_ip(),
            engine.node_port(node)
        )),
    };
    if is_exec {
        // discardTransaction
        client.multi = None;
        client.multi_error = false;
        engine.unwatch_all(client);
    } else if client.multi.is_some() {
        client.multi_error = true;
    }
    engine
        .stats
        .commands
        .get_or_default(spec.full_name)
        .rejected += 1;
    Some(reply)
}

/// Redis's `scriptVerifyClusterState` for one `redis.call`: a key of
/// another node (or keys of two slots in the one call) is refused; unless
/// `cross_slot_ok`, so is a key outside `slot`, the slot of the command
/// that runs the script (set by the first call with keys when it had none).
pub(crate) fn script_call(
    engine: &Engine,
    spec: &CommandSpec,
    argv: &[Bytes],
    slot: &mut Option<u16>,
    cross_slot_ok: bool,
) -> Result<(), &'static str> {
    let Some(cluster) = engine.cluster.as_ref() else {
        return Ok(());
    };
    let found = node_for_query(cluster, [(spec, argv)]).map_err(|_| SCRIPT_NON_LOCAL)?;
    if let (Some(found), false) = (found, cross_slot_ok) {
        match *slot {
            None => *slot = Some(found),
            Some(s) if s != found => return Err(SCRIPT_CROSS_SLOT),
            Some(_) => {}
        }
    }
    Ok(())
}

// ---- commands cluster mode changes --------------------------------------------

fn original(ctx: &mut Ctx, name: &str) -> CommandResult {
    let handler = ctx
        .engine
        .cluster
        .as_ref()
        .and_then(|c| c.originals.get(name).copied())
        .expect("cluster mode keeps the handlers it wraps");
    handler(ctx)
}

/// getIntFromObject: a C int.
fn parse_int(arg: &[u8]) -> Option<i32> {
    parse_i64(arg).and_then(|n| i32::try_from(n).ok())
}

fn select(ctx: &mut Ctx) -> CommandResult {
    if parse_int(ctx.arg(1)).is_some_and(|id| id != 0) {
        return Err(err("ERR SELECT is not allowed in cluster mode"));
    }
    original(ctx, "select")
}

fn move_key(_: &mut Ctx) -> CommandResult {
    Err(err("ERR MOVE is not allowed in cluster mode"))
}

fn swapdb(_: &mut Ctx) -> CommandResult {
    Err(err("ERR SWAPDB is not allowed in cluster mode"))
}

/// COPY's options are read as Redis reads them (an error there is the
/// original handler's to give); a copy to another db is then refused.
fn copy(ctx: &mut Ctx) -> CommandResult {
    let source = ctx.client.db;
    let mut target = source;
    let argc = ctx.argv.len();
    let mut j = 3;
    while j < argc {
        let arg = ctx.arg(j);
        if arg.eq_ignore_ascii_case(b"replace") {
            j += 1;
        } else if arg.eq_ignore_ascii_case(b"db") && j + 1 < argc {
            match parse_int(ctx.arg(j + 1)) {
                Some(db) if (0..super::keyspace::DATABASES as i32).contains(&db) => {
                    target = db as usize;
                }
                _ => return original(ctx, "copy"),
            }
            j += 2;
        } else {
            return original(ctx, "copy");
        }
    }
    if source != 0 || target != 0 {
        return Err(err(
            "ERR Copying to another database is not allowed in cluster mode",
        ));
    }
    original(ctx, "copy")
}

fn subcommand_handler(name: &str) -> HandlerFn {
    match name {
        "help" => cluster_help,
        "info" => cluster_info,
        "myid" => cluster_myid,
        "nodes" => cluster_nodes,
        "slots" => cluster_slots,
        "shards" => cluster_shards,
        "keyslot" => cluster_keyslot,
        "countkeysinslot" => cluster_countkeysinslot,
        "getkeysinslot" => cluster_getkeysinslot,
        "replicas" | "slaves" => cluster_replicas,
        "count-failure-reports" => cluster_failure_reports,
        "saveconfig" => |_| Ok(Reply::ok()),
        _ => cluster_fixed,
    }
}

fn cluster_of<'a>(ctx: &'a Ctx) -> &'a Cluster {
    ctx.engine
        .cluster
        .as_ref()
        .expect("CLUSTER's handlers are installed by enable_cluster")
}

/// What `addReplyVerbatim` sends: a `txt` verbatim string in RESP3.
fn text(ctx: &Ctx, text: String) -> Reply {
    if ctx.resp3() {
        Reply::Verbatim {
            format: *b"txt",
            text: text.into_bytes(),
        }
    } else {
        Reply::Bulk(text.into_bytes())
    }
}

/// The subcommands that change a cluster's shape: the emulated one is
/// fixed.
fn cluster_fixed(ctx: &mut Ctx) -> CommandResult {
    Err(Reply::error(format!(
        "ERR redstep emulates a fixed cluster: CLUSTER {} is not supported",
        String::from_utf8_lossy(ctx.arg(1)).to_ascii_uppercase()
    )))
}

fn cluster_help(_: &mut Ctx) -> CommandResult {
    Ok(super::commands::help(CLUSTER_HELP))
}

fn cluster_info(ctx: &mut Ctx) -> CommandResult {
    let n = cluster_of(ctx).shards();
    let info = format!(
        "cluster_state:ok\r\ncluster_slots_assigned:{SLOTS}\r\ncluster_slots_ok:{SLOTS}\r\ncluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:{n}\r\ncluster_size:{n}\r\ncluster_current_epoch:{n}\r\ncluster_my_epoch:1\r\ncluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
    );
    Ok(text(ctx, info))
}

fn cluster_myid(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::bulk(cluster_of(ctx).node_id(0)))
}

fn cluster_nodes(ctx: &mut Ctx) -> CommandResult {
    let cluster = cluster_of(ctx);
    let ip = ctx.engine.node_ip();
    let mut out = String::new();
    for node in 0..cluster.shards() {
        let port = ctx.engine.node_port(node);
        let (first, last) = cluster.range(node);
        out.push_str(&format!(
            "{} {ip}:{port}@{} {} - 0 0 {} connected {first}-{last}\n",
            cluster.node_id(node),
            port as u32 + 10000,
            if node == 0 { "myself,master" } else { "master" },
            node + 1,
        ));
    }
    Ok(text(ctx, out))
}

fn node_entry(ctx: &Ctx, node: usize) -> Reply {
    Reply::Array(vec![
        Reply::bulk(ctx.engine.node_ip()),
        Reply::Int(ctx.engine.node_port(node) as i64),
        Reply::bulk(cluster_of(ctx).node_id(node)),
        // The map of other endpoints: none (an empty array in RESP2).
        Reply::Map(Vec::new()),
    ])
}

fn cluster_slots(ctx: &mut Ctx) -> CommandResult {
    let cluster = cluster_of(ctx);
    Ok(Reply::Array(
        (0..cluster.shards())
            .map(|node| {
                let (first, last) = cluster.range(node);
                Reply::Array(vec![
                    Reply::Int(first as i64),
                    Reply::Int(last as i64),
                    node_entry(ctx, node),
                ])
            })
            .collect(),
    ))
}

fn cluster_shards(ctx: &mut Ctx) -> CommandResult {
    let cluster = cluster_of(ctx);
    let ip = ctx.engine.node_ip();
    let pair = |k: &str, v: Reply| (Reply::bulk(k), v);
    Ok(Reply::Array(
        (0..cluster.shards())
            .map(|node| {
                let (first, last) = cluster.range(node);
                let details = Reply::Map(vec![
                    pair("id", Reply::bulk(cluster.node_id(node))),
                    pair("port", Reply::Int(ctx.engine.node_port(node) as i64)),
                    pair("ip", Reply::bulk(&ip)),
                    pair("endpoint", Reply::bulk(&ip)),
                    pair("role", Reply::bulk("master")),
                    pair("replication-offset", Reply::Int(0)),
                    pair("health", Reply::bulk("online")),
                ]);
                Reply::Map(vec![
                    pair(
                        "slots",
                        Reply::Array(vec![Reply::Int(first as i64), Reply::Int(last as i64)]),
                    ),
                    pair("nodes", Reply::Array(vec![details])),
                ])
            })
            .collect(),
    ))
}

fn cluster_keyslot(ctx: &mut Ctx) -> CommandResult {
    Ok(Reply::Int(key_slot(ctx.arg(2)) as i64))
}

fn slot_arg(ctx: &Ctx, i: usize) -> Result<i64, Reply> {
    parse_i64(ctx.arg(i)).ok_or_else(|| err(super::errors::NOT_INTEGER))
}

/// The keys of db 0 in a slot (logically expired ones too, as Redis's
/// slot index keeps them until they are deleted).
fn keys_in_slot<'a>(ctx: &'a Ctx, slot: u16) -> impl Iterator<Item = &'a Bytes> {
    ctx.engine
        .keyspace
        .db(0)
        .iter()
        .map(|(k, _)| k)
        .filter(move |k| key_slot(k) == slot)
}

fn cluster_countkeysinslot(ctx: &mut Ctx) -> CommandResult {
    let slot = slot_arg(ctx, 2)?;
    if !(0..SLOTS as i64).contains(&slot) {
        return Err(err("ERR Invalid slot"));
    }
    Ok(Reply::Int(keys_in_slot(ctx, slot as u16).count() as i64))
}

fn cluster_getkeysinslot(ctx: &mut Ctx) -> CommandResult {
    let slot = slot_arg(ctx, 2)?;
    let max = slot_arg(ctx, 3)?;
    if !(0..SLOTS as i64).contains(&slot) || max < 0 {
        return Err(err("ERR Invalid slot or number of keys"));
    }
    Ok(Reply::Array(
        keys_in_slot(ctx, slot as u16)
            .take(max as usize)
            .map(Reply::bulk)
            .collect(),
    ))
}

fn unknown_node(ctx: &Ctx) -> Reply {
    let mut text = b"ERR Unknown node ".to_vec();
    text.extend_from_slice(ctx.arg(2));
    Reply::Error(super::errors::sanitize(text))
}

fn cluster_replicas(ctx: &mut Ctx) -> CommandResult {
    match cluster_of(ctx).node_by_id(ctx.arg(2)) {
        Some(_) => Ok(Reply::Array(Vec::new())),
        None => Err(unknown_node(ctx)),
    }
}

fn cluster_failure_reports(ctx: &mut Ctx) -> CommandResult {
    match cluster_of(ctx).node_by_id(ctx.arg(2)) {
        Some(_) => Ok(Reply::Int(0)),
        None => Err(unknown_node(ctx)),
    }
}

const CLUSTER_HELP: &[&str] = &[
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ADDSLOTS <slot> [<slot> ...]",
    "    Assign slots to current node.",
    "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Assign slots which are between <start-slot> and <end-slot> to current node.",
    "BUMPEPOCH",
    "    Advance the cluster config epoch.",
    "COUNT-FAILURE-REPORTS <node-id>",
    "    Return number of failure reports for <node-id>.",
    "COUNTKEYSINSLOT <slot>",
    "    Return the number of keys in <slot>.",
    "DELSLOTS <slot> [<slot> ...]",
    "    Delete slots information from current node.",
    "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
    "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
    "FAILOVER [FORCE|TAKEOVER]",
    "    Promote current replica node to being a master.",
    "FORGET <node-id>",
    "    Remove a node from the cluster.",
    "GETKEYSINSLOT <slot> <count>",
    "    Return key names stored by current node in a slot.",
    "FLUSHSLOTS",
    "    Delete current node own slots information.",
    "INFO",
    "    Return information about the cluster.",
    "KEYSLOT <key>",
    "    Return the hash slot for <key>.",
    "MEET <ip> <port> [<bus-port>]",
    "    Connect nodes into a working cluster.",
    "MYID",
    "    Return the node id.",
    "NODES",
    "    Return cluster configuration seen by node. Output format:",
    "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
    "REPLICATE <node-id>",
    "    Configure current node as replica to <node-id>.",
    "RESET [HARD|SOFT]",
    "    Reset current node (default: soft).",
    "SET-CONFIG-EPOCH <epoch>",
    "    Set config epoch of current node.",
    "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
    "    Set slot state.",
    "REPLICAS <node-id>",
    "    Return <node-id> replicas.",
    "SAVECONFIG",
    "    Force saving cluster configuration on disk.",
    "SLOTS",
    "    Return information about slots range mappings. Each range is made of:",
    "    start, end, master and replicas IP addresses, ports and ids",
    "SHARDS",
    "    Return information about slot range mappings and the nodes associated with them.",
    "LINKS",
    "    Return information about all network links between this node and its peers.",
    "    Output format is an array where each array element is a map containing attributes of a link",
    "HELP",
    "    Prints this help.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_as_redis_computes_them() {
        assert_eq!(key_slot(b"a"), 15495);
        assert_eq!(key_slot(b"b"), 3300);
        assert_eq!(key_slot(b"{user1000}.following"), 3443);
        assert_eq!(key_slot(b"{b}j"), key_slot(b"b"));
        // An empty tag hashes the whole key.
        assert_eq!(hash_tag(b"{}a"), None);
        assert_eq!(hash_tag(b"x{a}{b}"), Some(&b"a"[..]));
    }

    #[test]
    fn slot_ranges_as_redis_cli_splits_them() {
        assert_eq!(
            slot_ranges(3),
            vec![(0, 5460), (5461, 10922), (10923, 16383)]
        );
        // What redis-cli 7.0.15 printed (`Master[i] -> Slots a - b`) for
        // 4, 5, 6, 7 and 10 nodes on 127.0.0.1.
        let printed: [(usize, &[(u16, u16)]); 5] = [
            (4, &[(0, 4095), (4096, 8191), (8192, 12287), (12288, 16383)]),
            (
                5,
                &[
                    (0, 3276),
                    (3277, 6553),
                    (6554, 9829),
                    (9830, 13106),
                    (13107, 16383),
                ],
            ),
            (
                6,
                &[
                    (0, 2730),
                    (2731, 5460),
                    (5461, 8191),
                    (8192, 10922),
                    (10923, 13652),
                    (13653, 16383),
                ],
            ),
            (
                7,
                &[
                    (0, 2340),
                    (2341, 4680),
                    (4681, 7021),
                    (7022, 9361),
                    (9362, 11702),
                    (11703, 14042),
                    (14043, 16383),
                ],
            ),
            (
                10,
                &[
                    (0, 1637),
                    (1638, 3276),
                    (3277, 4914),
                    (4915, 6553),
                    (6554, 8191),
                    (8192, 9829),
                    (9830, 11468),
                    (11469, 13106),
                    (13107, 14745),
                    (14746, 16383),
                ],
            ),
        ];
        for (n, ranges) in printed {
            assert_eq!(slot_ranges(n), ranges, "{n} masters");
        }
        for n in 3..50 {
            let ranges = slot_ranges(n);
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges[n - 1].1, 16383);
            for w in ranges.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
    }
}
