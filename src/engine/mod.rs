//! The Redis 7.0 semantics engine: keyspace, values, commands and replies.
//!
//! It knows nothing of Lua, threads, terminals or sockets. Callers connect a
//! client, then [`Engine::execute`] one command at a time. Commands that Lua
//! scripting provides (EVAL, ...) are registered by the scripting layer as
//! external commands and reached through the [`Extension`] it passes in, so
//! they work inside MULTI/EXEC like any other command.

pub mod catalog;
pub mod cluster;

/// The port a server listens on unless told otherwise (as redis-server).
pub const DEFAULT_PORT: u16 = 6379;
pub(crate) mod commands;
pub mod dict;
pub(crate) mod errors;
pub(crate) mod glob;
pub mod keyspace;
pub(crate) mod memory;
pub(crate) mod notify;
pub(crate) mod numbers;
pub mod propagate;
pub mod rdb;
pub mod table;
pub mod tracking;
pub(crate) mod value;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use indexmap::IndexSet;

pub use crate::protocol::Reply;
pub use keyspace::{Delta, Keyspace, Observer, Side};

/// Commands return `Result<Reply, Reply>` so `?` can carry an error reply.
pub type CommandResult = Result<Reply, Reply>;
pub(crate) use table::{CommandSpec, Handler};
pub use value::{Bytes, Kind, Value};

use table::flags;

pub type ClientId = u64;

/// A hash map with foldhash (randomly seeded per map) instead of SipHash:
/// for maps on the per-command path (clients, watched and blocking keys).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Where the engine's time comes from; tests inject a manual clock.
pub trait Clock: Send {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;
}

pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to.
#[derive(Clone)]
pub struct ManualClock(pub Arc<AtomicI64>);

impl ManualClock {
    pub fn new(ms: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(ms)))
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Hands out client ids; clones share the counter.
#[derive(Clone)]
pub(crate) struct ClientIds(Arc<std::sync::atomic::AtomicU64>);

impl Default for ClientIds {
    fn default() -> Self {
        ClientIds(Arc::new(std::sync::atomic::AtomicU64::new(1)))
    }
}

impl ClientIds {
    pub(crate) fn next(&self) -> ClientId {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
}

/// Commands the engine does not implement itself (scripting).
pub trait Extension {
    fn call(&mut self, engine: &mut Engine, client: &mut Client, argv: &[Bytes]) -> Reply;

    /// Redis's `getCommandFlags` for a command implemented here: a script
    /// or function that declares its flags has them stand for EVAL's and
    /// FCALL's (`no-writes` drops may-replicate, so CLIENT PAUSE WRITE
    /// lets it run; without `allow-oom` it is deny-oom). `flags` are the
    /// command's own.
    fn command_flags(&self, _argv: &[Bytes], flags: u32) -> u32 {
        flags
    }

    /// EXEC ran one of its queued commands (`write`: a write command); a
    /// recorder listening here can give each its own changes.
    fn queued_ran(&mut self, _argv: &[Bytes], _reply: &Reply, _write: bool) {}
}

/// The extension used when no scripting layer is attached.
pub(crate) struct NoExtension;

impl Extension for NoExtension {
    fn call(&mut self, _engine: &mut Engine, _client: &mut Client, argv: &[Bytes]) -> Reply {
        errors::unknown_command(argv)
    }
}

/// A client waiting in a blocking command.
#[derive(Clone, Debug)]
pub struct Blocked {
    pub keys: Vec<Bytes>,
    pub db: usize,
    /// Unix ms; None waits forever.
    pub deadline: Option<i64>,
    pub timeout_reply: Reply,
    pub argv: Vec<Bytes>,
    /// XREAD / XREADGROUP: what is served when a key is ready (ids fixed
    /// when the call blocked), instead of running `argv` again.
    pub stream: Option<commands::streams::StreamWait>,
    /// Held back by CLIENT PAUSE (Redis's BLOCKED_POSTPONE): `argv` runs
    /// when the pause ends.
    pub postponed: bool,
}

/// CLIENT PAUSE in force: until when (unix ms), and whether every command
/// waits (ALL) or only those that may write (WRITE).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Pause {
    pub end_ms: i64,
    pub all: bool,
}

/// The state of one connection.
#[derive(Debug)]
pub struct Client {
    pub id: ClientId,
    pub db: usize,
    pub name: Option<Bytes>,
    pub addr: String,
    pub laddr: String,
    pub created_ms: i64,
    pub last_ms: i64,
    pub last_command: &'static str,
    /// Queued commands while in MULTI, and whether a queuing error happened.
    pub multi: Option<Vec<Vec<Bytes>>>,
    pub multi_error: bool,
    /// A command queued while the transaction was clean is deny-oom
    /// (Redis's `mstate.cmd_flags & CMD_DENYOOM`): EXEC is then refused
    /// above `maxmemory`.
    pub multi_denyoom: bool,
    pub watched: Vec<(usize, Bytes)>,
    pub watch_dirty: bool,
    pub blocked: Option<Blocked>,
    pub channels: IndexSet<Bytes>,
    pub patterns: IndexSet<Bytes>,
    /// SSUBSCRIBE's channels (sharded pub/sub; counted apart).
    pub shard_channels: IndexSet<Bytes>,
    /// Set while running commands for a script or inside EXEC: blocking
    /// commands must not block there.
    pub no_block: bool,
    /// Running its transaction's commands (EXEC): what Redis's
    /// `CLIENT_MULTI` still says then (ACL LOG's `multi` context).
    pub in_exec: bool,
    /// Set after QUIT: the connection closes once the reply is written.
    pub closing: bool,
    /// CLIENT REPLY: `On`, `Off` (no replies), or `Skip` (not the next one).
    pub reply_mode: ReplyMode,
    /// Commands a script may not run, and write refusals, are checked by the
    /// scripting layer; this marks the client a script runs as.
    pub is_script: bool,
    /// Passed AUTH (only checked when `requirepass` is set).
    pub authenticated: bool,
    /// The protocol this client speaks (2, or 3 for a script after
    /// `redis.setresp(3)`).
    pub resp: u8,
    /// Cluster mode: the hash slot of the command running (Redis's
    /// `c->slot`), which its scripts must stay in.
    pub cluster_slot: Option<u16>,
    /// CLIENT TRACKING ON: its mode.
    pub tracking: Option<Box<tracking::ClientTracking>>,
}

impl Client {
    fn new(id: ClientId, now: i64) -> Client {
        Client {
            id,
            db: 0,
            name: None,
            addr: String::new(),
            laddr: String::new(),
            created_ms: now,
            last_ms: now,
            last_command: "NULL",
            multi: None,
            multi_error: false,
            multi_denyoom: false,
            watched: Vec::new(),
            watch_dirty: false,
            blocked: None,
            channels: IndexSet::new(),
            patterns: IndexSet::new(),
            shard_channels: IndexSet::new(),
            no_block: false,
            in_exec: false,
            closing: false,
            reply_mode: ReplyMode::On,
            is_script: false,
            authenticated: false,
            resp: 2,
            cluster_slot: None,
            tracking: None,
        }
    }

    pub(crate) fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Whether the client is in subscribed mode (any kind of subscription).
    pub(crate) fn subscribed(&self) -> bool {
        self.subscriptions() + self.shard_channels.len() > 0
    }
}

/// Settings a user can read or change with CONFIG.
#[derive(Clone, Debug)]
pub struct Config {
    /// The default user's password (`redstep serve --requirepass`).
    pub requirepass: Option<Bytes>,
    pub busy_reply_threshold_ms: i64,
    pub proto_max_bulk_len: i64,
    pub port: u16,
    pub bind: String,
    /// Kept for CONFIG GET (redstep's lists have no node size to obey).
    pub list_max_listpack_size: i64,
    /// Kept for CONFIG GET: redstep saves nothing and evicts nothing.
    pub save: String,
    /// Above it (`engine/memory.rs`), deny-oom commands are refused as
    /// under Redis's `noeviction` policy; 0: no limit.
    pub maxmemory: u64,
    /// Kept for CONFIG GET: `redstep serve` closes no idle client.
    pub timeout: i64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            requirepass: None,
            busy_reply_threshold_ms: 5000,
            proto_max_bulk_len: 512 * 1024 * 1024,
            list_max_listpack_size: -2,
            save: String::new(),
            maxmemory: 0,
            port: DEFAULT_PORT,
            bind: "127.0.0.1".into(),
            timeout: 0,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
        }
    }
}

pub struct Engine {
    pub keyspace: Keyspace,
    pub config: Config,
    clock: Box<dyn Clock>,
    /// Time frozen for the length of a script, as Redis does.
    frozen_now: Option<i64>,
    table: table::Table,
    clients: FastMap<ClientId, Box<Client>>,
    client_ids: ClientIds,
    /// Replies for clients other than the caller (pub/sub messages,
    /// unblocked clients), in order; the server delivers them.
    outbox: Vec<(ClientId, Reply)>,
    watchers: FastMap<(usize, Bytes), Vec<ClientId>>,
    blocked_on: FastMap<(usize, Bytes), VecDeque<ClientId>>,
    pause: Option<Pause>,
    /// Clients CLIENT PAUSE holds, in the order they arrived.
    postponed: VecDeque<ClientId>,
    /// Postponed commands released by the end of a pause, in order: the
    /// host runs each (and what its client sent after it) again.
    resumed: Vec<(ClientId, Vec<Bytes>)>,
    /// Keys XADD or XGROUP DESTROY made ready for blocked stream readers
    /// (Redis's `signalKeyAsReady` for streams).
    stream_ready: Vec<(usize, Bytes)>,
    channels: FastMap<Bytes, IndexSet<ClientId>>,
    /// Sharded pub/sub (SSUBSCRIBE, SPUBLISH).
    shard_channels: FastMap<Bytes, IndexSet<ClientId>>,
    patterns: FastMap<Bytes, IndexSet<ClientId>>,
    started_ms: i64,
    pub commands_processed: u64,
    /// SHUTDOWN was accepted: the host ends the server (or says why not).
    pub shutdown_requested: bool,
    /// What INFO's commandstats, errorstats and stats sections report.
    pub stats: Stats,
    /// Clients in MONITOR mode: every command run is fed to them.
    pub monitors: IndexSet<ClientId>,
    /// Connections CLIENT KILL closed: the host drops them.
    pub killed: Vec<ClientId>,
    /// SLOWLOG: the newest entry first, at most `slowlog-max-len`.
    pub(crate) slowlog: VecDeque<SlowEntry>,
    /// ACL LOG, newest first.
    pub(crate) acl_log: VecDeque<commands::admin::AclLogEntry>,
    /// CLIENT TRACKING's table of keys read and prefixes broadcast.
    pub(crate) tracking: tracking::Table,
    /// While a tracking client's script runs: its id and the keys it
    /// declared, remembered when the script reads (Redis remembers the
    /// caller's command's keys).
    script_tracking: Option<(ClientId, Vec<Bytes>)>,
    /// A blocked client's command runs again to be served (counted as
    /// Redis counts it: not a new call).
    serving_blocked: bool,
    slowlog_next_id: i64,
    /// The client whose command runs now (out of the client table
    /// meanwhile), and whether it speaks RESP3 (then what it is published
    /// is a push).
    executing: Option<(ClientId, bool)>,
    /// The used memory the maxmemory check reads (`memory.rs`).
    memory: memory::UsedMemory,
    /// Whether the command running (the outermost: EVAL, EXEC) found the
    /// memory above `maxmemory` when it started (Redis's
    /// `pre_command_oom_state`, which its scripts' writes are checked by).
    oom_at_start: bool,
    /// Messages published to the client whose command runs now: Redis
    /// writes them before that command's reply.
    pub(crate) published_to_caller: Vec<(ClientId, Reply)>,
    /// Cluster mode (`enable_cluster`): the node this engine is.
    cluster: Option<cluster::Cluster>,
}

/// One SLOWLOG entry, as Redis's slowlogCreateEntry keeps it.
#[derive(Clone, Debug)]
pub(crate) struct SlowEntry {
    pub id: i64,
    pub time_s: i64,
    pub micros: i64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub name: Bytes,
}

/// What CLIENT REPLY set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// The next command's reply is not sent.
    Skip,
}

/// Counters INFO reports.
#[derive(Debug, Default)]
pub struct Stats {
    /// Per command (`get`, `client|list`): calls, microseconds, failures.
    pub commands: CommandStats,
    /// Error replies by their code (the first word: `ERR`, `WRONGTYPE`).
    pub errors: std::collections::BTreeMap<String, u64>,
    pub connections_received: u64,
}

/// Each command's [`CommandStat`] by its name (the table's `full_name`).
#[derive(Debug, Default)]
pub struct CommandStats {
    places: HashMap<&'static str, usize, table::NameHash>,
    stats: Vec<(&'static str, CommandStat)>,
    /// The last name asked for, by address and length, and its place: a
    /// script's loop of one command finds its counters without hashing.
    last: (usize, usize, usize),
}

impl CommandStats {
    pub fn get(&self, name: &str) -> Option<&CommandStat> {
        self.places.get(name).map(|&i| &self.stats[i].1)
    }

    /// The command's counters, new ones (zero) the first time.
    #[inline]
    pub fn get_or_default(&mut self, name: &'static str) -> &mut CommandStat {
        let (address, len, place) = self.last;
        // A `&'static str` at the same address with the same length is
        // the same name.
        if name.as_ptr() as usize == address && name.len() == len {
            return &mut self.stats[place].1;
        }
        self.find_or_add(name)
    }

    /// [`CommandStats::get_or_default`] for another command than the last.
    fn find_or_add(&mut self, name: &'static str) -> &mut CommandStat {
        let place = match self.places.get(name) {
            Some(&place) => place,
            None => {
                self.stats.push((name, CommandStat::default()));
                self.places.insert(name, self.stats.len() - 1);
                self.stats.len() - 1
            }
        };
        self.last = (name.as_ptr() as usize, name.len(), place);
        &mut self.stats[place].1
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &CommandStat)> {
        self.stats.iter().map(|(name, stat)| (*name, stat))
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    /// Calls per bucket of [`LATENCY_BUCKETS`] (LATENCY HISTOGRAM).
    pub latency: [u64; LATENCY_BUCKETS.len()],
}

/// The bucket bounds, in microseconds, LATENCY HISTOGRAM reports: Redis
/// keeps each command's latencies in an HDR histogram (2 significant
/// figures, 1 ns to 1 s) and reports it at every power of two from 1024
/// ns, labelled with the highest value of the bucket reached, in µs.
pub const LATENCY_BUCKETS: [u64; 21] = [
    1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908, 33816, 67633, 135266,
    270532, 541065, 1073741,
];

/// The bucket a call of `micros` falls in (the first bound at or above it;
/// past a second, the last). Bound `i` is 2^i or a little more, so the
/// bucket is the rounded-up log2, or the one before.
#[inline]
fn latency_bucket(micros: u64) -> usize {
    let log2 = (64 - micros.saturating_sub(1).leading_zeros()) as usize;
    let log2 = log2.min(LATENCY_BUCKETS.len() - 1);
    log2 - usize::from(log2 > 0 && micros <= LATENCY_BUCKETS[log2 - 1])
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(Box::new(SystemClock))
    }
}

impl Engine {
    pub fn new(clock: Box<dyn Clock>) -> Engine {
        let started_ms = clock.now_ms();
        Engine {
            keyspace: Keyspace::default(),
            config: Config::default(),
            clock,
            frozen_now: None,
            table: table::Table::new(),
            clients: FastMap::default(),
            client_ids: ClientIds::default(),
            outbox: Vec::new(),
            watchers: FastMap::default(),
            blocked_on: FastMap::default(),
            pause: None,
            postponed: VecDeque::new(),
            resumed: Vec::new(),
            stream_ready: Vec::new(),
            channels: FastMap::default(),
            shard_channels: FastMap::default(),
            patterns: FastMap::default(),
            started_ms,
            commands_processed: 0,
            shutdown_requested: false,
            stats: Stats::default(),
            monitors: IndexSet::new(),
            killed: Vec::new(),
            executing: None,
            memory: memory::UsedMemory::default(),
            oom_at_start: false,
            published_to_caller: Vec::new(),
            slowlog: VecDeque::new(),
            acl_log: VecDeque::new(),
            tracking: Default::default(),
            script_tracking: None,
            serving_blocked: false,
            slowlog_next_id: 0,
            cluster: None,
        }
    }

    /// Redis's slowlogPushEntryIfNeeded: a command that took at least
    /// `slowlog-log-slower-than` microseconds (never when it is negative).
    /// At most 32 arguments (the last says how many more) of at most 128
    /// bytes each are kept; a script's own calls come from `?:0`.
    #[inline]
    fn slowlog_push(&mut self, client: &Client, spec: &CommandSpec, argv: &[Bytes], micros: i64) {
        let threshold = self.config.slowlog_log_slower_than;
        if threshold >= 0 && micros >= threshold {
            self.slowlog_log(client, spec, argv, micros);
        }
    }

    #[inline(never)]
    fn slowlog_log(&mut self, client: &Client, spec: &CommandSpec, argv: &[Bytes], micros: i64) {
        const MAX_ARGC: usize = 32;
        const MAX_STRING: usize = 128;
        let argv = &*redacted(spec.full_name, argv);
        let kept = argv.len().min(MAX_ARGC);
        let args = argv[..kept]
            .iter()
            .enumerate()
            .map(|(j, arg)| {
                if kept != argv.len() && j == kept - 1 {
                    format!("... ({} more arguments)", argv.len() - kept + 1).into_bytes()
                } else if arg.len() > MAX_STRING {
                    let mut s = arg[..MAX_STRING].to_vec();
                    s.extend(format!("... ({} more bytes)", arg.len() - MAX_STRING).into_bytes());
                    s
                } else {
                    arg.clone()
                }
            })
            .collect();
        let entry = SlowEntry {
            id: self.slowlog_next_id,
            time_s: self.wall_clock_ms() / 1000,
            micros,
            argv: args,
            peer: if client.addr.is_empty() {
                "?:0".into()
            } else {
                client.addr.clone()
            },
            name: client.name.clone().unwrap_or_default(),
        };
        self.slowlog_next_id += 1;
        self.slowlog.push_front(entry);
        self.slowlog.truncate(self.config.slowlog_max_len);
    }

    /// The engine's notion of now (frozen while a script runs).
    pub(crate) fn now(&self) -> i64 {
        self.frozen_now.unwrap_or_else(|| self.clock.now_ms())
    }

    /// The wall clock, even while a script runs (TIME uses it).
    pub(crate) fn wall_clock_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn freeze_time(&mut self, frozen: Option<i64>) {
        self.frozen_now = frozen;
    }

    pub(crate) fn uptime_ms(&self) -> i64 {
        self.clock.now_ms() - self.started_ms
    }

    pub fn register(&mut self, spec: CommandSpec) {
        self.table.register(spec);
    }

    pub fn command_table(&self) -> &table::Table {
        &self.table
    }

    pub(crate) fn lookup_command(&self, argv: &[Bytes]) -> Result<&CommandSpec, Reply> {
        self.table.lookup(argv)
    }

    pub fn connect(&mut self) -> ClientId {
        let id = self.client_ids.next();
        self.connect_as(id);
        id
    }

    /// Registers a client whose id came from [`Engine::client_ids`].
    pub(crate) fn connect_as(&mut self, id: ClientId) {
        self.stats.connections_received += 1;
        let now = self.clock.now_ms();
        self.clients
            .entry(id)
            .or_insert_with(|| Box::new(Client::new(id, now)));
    }

    /// The id source, shareable with a front end that must hand out ids
    /// while the engine is busy.
    pub(crate) fn client_ids(&self) -> ClientIds {
        self.client_ids.clone()
    }

    /// A client that is not connected (a script's own client).
    pub fn new_client(&mut self) -> Client {
        Client::new(self.client_ids.next(), self.clock.now_ms())
    }

    pub(crate) fn set_client_addr(&mut self, id: ClientId, addr: String, laddr: String) {
        if let Some(c) = self.clients.get_mut(&id) {
            c.addr = addr;
            c.laddr = laddr;
        }
    }

    pub(crate) fn client_mut(&mut self, id: ClientId) -> Option<&mut Client> {
        self.clients.get_mut(&id).map(|c| &mut **c)
    }

    pub(crate) fn client(&self, id: ClientId) -> Option<&Client> {
        self.clients.get(&id).map(|c| &**c)
    }

    pub(crate) fn clients(&self) -> impl Iterator<Item = &Client> {
        self.clients.values().map(|c| &**c)
    }

    pub(crate) fn disconnect(&mut self, id: ClientId) {
        self.monitors.shift_remove(&id);
        let Some(mut client) = self.clients.remove(&id) else {
            return;
        };
        self.unwatch_all(&mut client);
        self.unblock(&mut client);
        self.disable_tracking(&mut client);
        let channels: Vec<Bytes> = client.channels.drain(..).collect();
        for ch in channels {
            self.unsubscribe_registry(false, &ch, id);
        }
        let patterns: Vec<Bytes> = client.patterns.drain(..).collect();
        for p in patterns {
            self.unsubscribe_registry(true, &p, id);
        }
        for ch in client.shard_channels.drain(..).collect::<Vec<_>>() {
            self.shard_unsubscribe_registry(&ch, id);
        }
        self.outbox.retain(|(c, _)| *c != id);
        self.published_to_caller.retain(|(c, _)| *c != id);
    }

    /// Replies owed to other clients; the caller delivers them in order.
    pub fn take_outbox(&mut self) -> Vec<(ClientId, Reply)> {
        let mut out = std::mem::take(&mut self.published_to_caller);
        out.append(&mut self.outbox);
        out
    }

    /// What a client's last command published to that client itself: it
    /// goes out before the command's reply, as Redis writes it.
    pub fn take_published_to(&mut self, id: ClientId) -> Vec<Reply> {
        if self.published_to_caller.is_empty() {
            return Vec::new();
        }
        let (own, rest) = std::mem::take(&mut self.published_to_caller)
            .into_iter()
            .partition::<Vec<_>, _>(|(c, _)| *c == id);
        self.published_to_caller = rest;
        own.into_iter().map(|(_, r)| r).collect()
    }

    /// Runs one command for a client without scripting. Returns None when
    /// the client is now blocked (its reply will come through the outbox).
    pub fn execute(&mut self, id: ClientId, argv: &[Bytes]) -> Option<Reply> {
        self.execute_with(id, argv, &mut NoExtension)
    }

    pub fn execute_with(
        &mut self,
        id: ClientId,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        let mut client = self
            .clients
            .remove(&id)
            .unwrap_or_else(|| Box::new(Client::new(id, self.clock.now_ms())));
        let outer = self.executing.replace((id, client.resp == 3));
        let reply = self.dispatch(&mut client, argv, ext);
        self.executing = outer;
        if let Some(mode) = client.tracking.as_deref_mut() {
            // CLIENT CACHING holds for one command (a transaction's, to
            // its EXEC), CLIENT commands aside, as Redis's resetClient.
            if mode.caching && client.multi.is_none() && !argv[0].eq_ignore_ascii_case(b"client") {
                mode.caching = false;
            }
        }
        self.clients.insert(id, client);
        self.after_command(ext);
        self.process_tracking(Some(id));
        reply
    }

    /// Runs `f` with a client taken out of the client table (a traced run
    /// needs the client and the engine at once).
    pub fn with_client<R>(
        &mut self,
        id: ClientId,
        f: impl FnOnce(&mut Engine, &mut Client) -> R,
    ) -> R {
        let mut client = self
            .clients
            .remove(&id)
            .unwrap_or_else(|| Box::new(Client::new(id, self.clock.now_ms())));
        let outer = self.executing.replace((id, client.resp == 3));
        let result = f(self, &mut client);
        self.executing = outer;
        self.clients.insert(id, client);
        self.after_command(&mut NoExtension);
        self.process_tracking(Some(id));
        result
    }

    /// The reverse of `with_client`: puts a client the caller holds back in
    /// the client table for `f` (so other clients' writes reach its WATCH,
    /// through `execute_with`), never blocking, then hands it back.
    pub(crate) fn lend_client<R>(
        &mut self,
        client: &mut Client,
        f: impl FnOnce(&mut Engine) -> R,
    ) -> R {
        let id = client.id;
        let now = self.clock.now_ms();
        let mut lent = std::mem::replace(client, Client::new(id, now));
        let saved = lent.no_block;
        lent.no_block = true;
        self.clients.insert(id, Box::new(lent));
        let result = f(self);
        let mut back = self
            .clients
            .remove(&id)
            .unwrap_or_else(|| Box::new(Client::new(id, now)));
        back.no_block = saved;
        *client = *back;
        result
    }

    /// Runs a command as part of a script (or another command) for a client
    /// the caller holds. Never blocks.
    pub fn call(&mut self, client: &mut Client, argv: &[Bytes], ext: &mut dyn Extension) -> Reply {
        let saved = client.no_block;
        client.no_block = true;
        let reply = self.dispatch(client, argv, ext).unwrap_or(Reply::NilArray);
        client.no_block = saved;
        reply
    }

    /// The command pipeline of Redis's `processCommand`: lookup, arity,
    /// subscribed-mode and MULTI queuing rules, then the handler.
    pub(crate) fn dispatch(
        &mut self,
        client: &mut Client,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        let reply = self.dispatch_counted(client, argv, ext);
        if let Some(Reply::Error(e)) = &reply {
            let code = e.split(|&b| b == b' ').next().unwrap_or(b"");
            *self
                .stats
                .errors
                .entry(String::from_utf8_lossy(code).into_owned())
                .or_default() += 1;
        }
        reply
    }

    /// A command refused before it ran (`rejectCommand`): counted for
    /// INFO commandstats when it is known, its transaction flagged.
    fn rejected(&mut self, client: &mut Client, known: Option<&'static str>) {
        if let Some(name) = known {
            self.stats.commands.get_or_default(name).rejected += 1;
        }
        if client.multi.is_some() {
            client.multi_error = true;
        }
    }

    fn dispatch_counted(
        &mut self,
        client: &mut Client,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        if argv.is_empty() {
            return Some(Reply::Nil);
        }
        self.commands_processed += 1;
        if !client.no_block {
            // A connection's last interaction (CLIENT LIST's idle); a
            // script's or a transaction's commands are part of theirs.
            client.last_ms = self.clock.now_ms();
        }
        let spec = match self.table.lookup(argv) {
            Ok(spec) => *spec,
            Err(reply) => {
                // A known command refused (arity) counts as rejected.
                let known = self.table.resolve(argv).map(|spec| spec.full_name);
                self.rejected(client, known);
                if client.multi.is_some() {
                    // A refused EXEC ends the transaction (execCommandAbort).
                    if argv[0].eq_ignore_ascii_case(b"exec") {
                        client.multi = None;
                        client.multi_error = false;
                        self.unwatch_all(client);
                        let text = reply.error_text().unwrap_or_default();
                        let why = text.strip_prefix("ERR ").unwrap_or(&text);
                        return Some(Reply::error(format!(
                            "EXECABORT Transaction discarded because of: {why}"
                        )));
                    }
                }
                return Some(reply);
            }
        };
        client.last_command = spec.full_name;
        if spec.full_name == "debug" {
            // Redis 7.0's `enable-debug-command` is `no` unless the
            // configuration file says otherwise, and CONFIG SET cannot
            // change it: every client is refused, before the other checks.
            self.rejected(client, Some(spec.full_name));
            return Some(reject(&spec, commands::server::DEBUG_REFUSED));
        }
        if spec.flags & flags::NO_AUTH == 0 && commands::server::needs_auth(self, client) {
            if client.multi.is_some() {
                client.multi_error = true;
            }
            return Some(reject(&spec, "NOAUTH Authentication required."));
        }
        if client.multi.is_some() && spec.flags & flags::NO_MULTI != 0 {
            self.rejected(client, Some(spec.full_name));
            return Some(reject(
                &spec,
                "ERR Command not allowed inside a transaction",
            ));
        }
        if let Some(reply) = cluster::process_command(self, client, &spec, argv) {
            return Some(reply);
        }
        if self.config.maxmemory != 0 {
            if let Some(reply) = self.process_maxmemory(client, &spec, argv, ext) {
                return Some(reply);
            }
        }
        // Only a RESP2 connection is limited once it subscribes.
        if client.subscribed() && client.resp == 2 && spec.flags & flags::SUBSCRIBED_OK == 0 {
            return Some(reject(&spec, &format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                spec.full_name
            )));
        }
        if !client.no_block && self.pauses(&spec, client, argv, ext) {
            client.blocked = Some(Blocked {
                keys: Vec::new(),
                db: client.db,
                deadline: None,
                timeout_reply: Reply::Nil,
                argv: argv.to_vec(),
                stream: None,
                postponed: true,
            });
            self.postponed.push_back(client.id);
            return None;
        }
        if let Some(queue) = client.multi.as_mut() {
            if spec.flags & flags::NOT_QUEUED == 0 {
                queue.push(argv.to_vec());
                // queueMultiCommand: the flags of what a clean transaction
                // queues, as they are now (a script's as loaded now).
                if !client.multi_error
                    && !client.watch_dirty
                    && Self::command_flags(&spec, argv, ext) & flags::DENYOOM != 0
                {
                    client.multi_denyoom = true;
                }
                return Some(Reply::status("QUEUED"));
            }
        }
        if !self.monitors.is_empty() {
            let addr = client.addr.clone();
            self.feed_monitors(&spec, client.db, &addr, argv);
        }
        self.run(client, &spec, argv, ext)
    }

    /// Runs a looked-up command right now (no queuing checks).
    #[inline]
    pub(crate) fn run(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        if !self.keyspace.propagation.on {
            return self.run_handler(client, spec, argv, ext);
        }
        self.run_propagated(client, spec, argv, ext)
    }

    /// [`Engine::run`] while what is propagated is recorded.
    fn run_propagated(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        let saved = self.keyspace.propagation.enter(self.keyspace.dirty);
        let reply = self.run_handler(client, spec, argv, ext);
        // A script and EXEC propagate what their commands did, never
        // themselves.
        let itself = spec.flags & flags::NOT_PROPAGATED == 0;
        let dirty = self.keyspace.dirty;
        self.keyspace
            .propagation
            .leave(saved, dirty, client.db, argv, itself);
        reply
    }

    fn run_handler(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        if self.keyspace.tracking {
            return self.run_handler_tracked(client, spec, argv, ext);
        }
        self.run_handler_as(client, spec, argv, ext)
    }

    /// `run_handler` while some client tracks keys: the keys this command
    /// modifies are told who modified them, and turned into invalidations
    /// once it ran; a read is remembered.
    #[cold]
    fn run_handler_tracked(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        let outer = self.keyspace.modifier.replace(client.id);
        let reply = self.run_handler_as(client, spec, argv, ext);
        self.keyspace.modifier = outer;
        self.drain_tracking();
        if spec.flags & table::flags::READONLY != 0 {
            self.remember_read(client, spec, argv);
        }
        reply
    }

    /// A read-only command ran: a tracking client's keys are remembered
    /// (Redis's call(): for a script, its caller's declared keys; not
    /// EVAL_RO and the like themselves, nor sharded channels).
    fn remember_read(&mut self, client: &Client, spec: &CommandSpec, argv: &[Bytes]) {
        if matches!(spec.full_name, "eval_ro" | "evalsha_ro" | "fcall_ro")
            || spec.flags & table::flags::PUBSUB != 0
        {
            return;
        }
        if client.is_script {
            if let Some((id, keys)) = self.script_tracking.clone() {
                self.remember_keys(id, keys);
            }
        } else if client.tracking.as_deref().is_some_and(|m| m.remembers()) {
            let keys = spec.keys(argv).into_iter().map(<[u8]>::to_vec).collect();
            self.remember_keys(client.id, keys);
        }
    }

    #[inline]
    fn run_handler_as(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &mut dyn Extension,
    ) -> Option<Reply> {
        let logged = spec.flags & table::flags::SKIP_SLOWLOG == 0;
        match spec.handler {
            Handler::External => {
                let declared = client
                    .tracking
                    .as_deref()
                    .filter(|m| m.remembers() && !client.is_script)
                    .map(|_| {
                        let keys = spec.keys(argv).into_iter().map(<[u8]>::to_vec).collect();
                        (client.id, keys)
                    });
                let outer = std::mem::replace(&mut self.script_tracking, declared);
                let started = micros_now();
                let reply = ext.call(self, client, argv);
                self.script_tracking = outer;
                self.publish_events(Some(client));
                let micros = micros_since(started);
                self.count_call(spec.full_name, micros, reply.is_error(), false);
                if logged {
                    self.slowlog_push(client, spec, argv, micros as i64);
                }
                Some(reply)
            }
            Handler::Engine(handler) => {
                // A connection's own command: the time `dispatch` read for
                // its last interaction a moment ago (one clock read less).
                let now = match self.frozen_now {
                    Some(now) => now,
                    None if !client.no_block => client.last_ms,
                    None => self.clock.now_ms(),
                };
                let mut ctx = Ctx {
                    engine: self,
                    client,
                    argv,
                    now,
                    ext,
                    block: None,
                };
                let started = micros_now();
                let reply = guarded(|| handler(&mut ctx), spec.full_name);
                let blocked = ctx.block.take();
                self.publish_events(Some(client));
                let micros = micros_since(started);
                self.count_call(spec.full_name, micros, reply.is_error(), blocked.is_some());
                if logged && blocked.is_none() {
                    self.slowlog_push(client, spec, argv, micros as i64);
                }
                match blocked {
                    Some(blocked) => {
                        self.block(client, *blocked);
                        None
                    }
                    None => Some(reply),
                }
            }
        }
    }

    /// A command that ran, for INFO commandstats and LATENCY HISTOGRAM, as
    /// Redis counts it: a call that blocks counts as a call when it
    /// blocks, and its latency when it is served (not when it times out).
    #[inline(always)]
    fn count_call(&mut self, name: &'static str, micros: u64, failed: bool, blocked: bool) {
        let serving = self.serving_blocked;
        if serving && blocked {
            return;
        }
        let stat = self.stats.commands.get_or_default(name);
        if !serving {
            stat.calls += 1;
        }
        stat.usec += micros;
        if !blocked {
            stat.latency[latency_bucket(micros)] += 1;
        }
        if failed {
            stat.failed += 1;
        }
    }

    /// Feeds a command to the MONITOR clients as Redis 7.0 shows it:
    /// `1796434840.890767 [0 127.0.0.1:42412] "SET" "a" "1"` (`lua` for a
    /// script's calls). Admin commands are not shown, as in Redis.
    #[inline]
    pub(crate) fn feed_monitors(
        &mut self,
        spec: &CommandSpec,
        db: usize,
        addr: &str,
        argv: &[Bytes],
    ) {
        if !self.monitors.is_empty() && spec.flags & table::flags::ADMIN == 0 {
            self.feed_monitors_now(spec, db, addr, argv);
        }
    }

    #[inline(never)]
    fn feed_monitors_now(&mut self, spec: &CommandSpec, db: usize, addr: &str, argv: &[Bytes]) {
        let argv = &*redacted(spec.full_name, argv);
        let micros = self.clock.now_ms() * 1000;
        let mut line = format!(
            "{}.{:06} [{db} {addr}]",
            micros / 1_000_000,
            micros % 1_000_000
        );
        for arg in argv {
            line.push(' ');
            line.push_str(&crate::protocol::cli::quote(arg));
        }
        for id in self.monitors.clone() {
            self.outbox
                .push((id, Reply::Status(line.clone().into_bytes())));
        }
    }

    /// A stream key got entries or lost a group: blocked XREAD /
    /// XREADGROUP clients on it are looked at (other changes of the key,
    /// such as XSETID, wake nobody, as in Redis).
    pub(crate) fn signal_stream_ready(&mut self, db: usize, key: &[u8]) {
        let id = (db, key.to_vec());
        if self.blocked_on.contains_key(&id) && !self.stream_ready.contains(&id) {
            self.stream_ready.push(id);
        }
    }

    fn after_command(&mut self, ext: &mut dyn Extension) {
        loop {
            let signaled = self.keyspace.take_signaled();
            // Keys created, replaced or deleted are ready for stream
            // readers too (Redis's dbAdd and signalDeletedKeyAsReady).
            let mut stream_ready = std::mem::take(&mut self.stream_ready);
            stream_ready.extend(self.keyspace.take_replaced());
            if signaled.is_empty() {
                return;
            }
            let mut ready: Vec<(usize, Bytes)> = Vec::new();
            for id in signaled {
                if let Some(watchers) = self.watchers.get(&id) {
                    for w in watchers.clone() {
                        if let Some(c) = self.clients.get_mut(&w) {
                            c.watch_dirty = true;
                        }
                    }
                }
                if self.blocked_on.contains_key(&id) && !ready.contains(&id) {
                    ready.push(id);
                }
            }
            for key in ready {
                let stream_ready = stream_ready.contains(&key);
                self.serve_blocked(&key, stream_ready, ext);
            }
        }
    }

    /// Retries the clients blocked on a key that changed, oldest first.
    fn serve_blocked(&mut self, key: &(usize, Bytes), stream_ready: bool, ext: &mut dyn Extension) {
        let waiting: Vec<ClientId> = self
            .blocked_on
            .get(key)
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default();
        for id in waiting {
            let Some(mut client) = self.clients.remove(&id) else {
                continue;
            };
            let Some(blocked) = client.blocked.clone() else {
                self.clients.insert(id, client);
                continue;
            };
            if blocked.stream.is_some() {
                // Stream readers stay in their place in the queue until served.
                let saved_db = client.db;
                client.db = blocked.db;
                let reply = commands::streams::serve_blocked(
                    self,
                    &mut client,
                    &blocked,
                    &key.1,
                    stream_ready,
                    ext,
                );
                client.db = saved_db;
                if let Some(reply) = reply {
                    self.unblock(&mut client);
                    self.outbox.push((id, reply));
                }
                self.clients.insert(id, client);
                continue;
            }
            // As Redis does, a client is served only if the key now holds the
            // type its command pops from (a list pushed then deleted or
            // overwritten inside one EXEC or script leaves it waiting), and
            // from this key alone, whatever the command's other keys hold.
            let now = self.now();
            let holds = self
                .keyspace
                .live(key.0, &key.1, now)
                .map(|e| e.value.kind());
            let argv = match blocking_kind(&blocked.argv) {
                Some(kind) if holds != Some(kind) => {
                    self.clients.insert(id, client);
                    continue;
                }
                Some(_) => served_argv(&blocked.argv, &key.1),
                None => blocked.argv.clone(),
            };
            self.unblock(&mut client);
            let saved_db = client.db;
            client.db = blocked.db;
            let serving = std::mem::replace(&mut self.serving_blocked, true);
            let reply = self.dispatch(&mut client, &argv, ext);
            self.serving_blocked = serving;
            client.db = saved_db;
            match reply {
                Some(reply) => self.outbox.push((id, reply)),
                None => {
                    // Still nothing to pop: keep waiting on all the keys with
                    // the original deadline.
                    self.unblock(&mut client);
                    self.block(&mut client, blocked);
                }
            }
            self.clients.insert(id, client);
        }
    }

    fn block(&mut self, client: &mut Client, blocked: Blocked) {
        for key in &blocked.keys {
            let id = (blocked.db, key.clone());
            self.blocked_on.entry(id).or_default().push_back(client.id);
            self.keyspace.add_interest(blocked.db, key);
        }
        client.blocked = Some(blocked);
    }

    fn unblock(&mut self, client: &mut Client) {
        let Some(blocked) = client.blocked.take() else {
            return;
        };
        for key in &blocked.keys {
            let id = (blocked.db, key.clone());
            if let Some(q) = self.blocked_on.get_mut(&id) {
                q.retain(|c| *c != client.id);
                if q.is_empty() {
                    self.blocked_on.remove(&id);
                }
            }
            self.keyspace.remove_interest(blocked.db, key);
        }
    }

    /// Whether CLIENT PAUSE holds this command back (processCommand's
    /// check, before MULTI queuing): every command under ALL; under WRITE
    /// those that may write or replicate (EVAL, FCALL, PUBLISH, PFCOUNT,
    /// an EXEC of such commands), not a script declared `no-writes`.
    fn pauses(
        &mut self,
        spec: &CommandSpec,
        client: &Client,
        argv: &[Bytes],
        ext: &dyn Extension,
    ) -> bool {
        self.end_pause_if_due();
        let Some(pause) = self.pause else {
            return false;
        };
        let may_write = |spec: &CommandSpec, argv: &[Bytes]| {
            Self::command_flags(spec, argv, ext) & (flags::WRITE | flags::MAY_REPLICATE) != 0
        };
        let exec_may_write = spec.name == "exec"
            && client.multi.as_ref().is_some_and(|queue| {
                queue.iter().any(|queued| {
                    self.table
                        .resolve(queued)
                        .is_some_and(|queued_spec| may_write(queued_spec, queued))
                })
            });
        pause.all || may_write(spec, argv) || exec_may_write
    }

    /// CLIENT PAUSE: a pause already in force keeps its later end and the
    /// stricter mode (Redis's `pauseClients`).
    pub(crate) fn pause_clients(&mut self, end_ms: i64, all: bool) {
        let pause = match self.pause {
            Some(p) => Pause {
                end_ms: p.end_ms.max(end_ms),
                all: p.all || all,
            },
            None => Pause { end_ms, all },
        };
        self.pause = Some(pause);
        self.end_pause_if_due();
    }

    /// CLIENT UNPAUSE.
    pub(crate) fn unpause_clients(&mut self) {
        if self.pause.take().is_some() {
            self.release_postponed();
        }
    }

    /// When the pause ends (unix ms), if one is in force.
    pub(crate) fn pause_end(&self) -> Option<i64> {
        self.pause.map(|p| p.end_ms)
    }

    /// Whether keys may expire now: not while clients are paused (Redis
    /// keeps expired keys, unseen, until the pause ends).
    pub(crate) fn paused(&self) -> bool {
        self.pause.is_some()
    }

    fn end_pause_if_due(&mut self) {
        if self.pause.is_some_and(|p| p.end_ms < self.clock.now_ms()) {
            self.pause = None;
            self.release_postponed();
        }
    }

    fn release_postponed(&mut self) {
        for id in std::mem::take(&mut self.postponed) {
            let Some(client) = self.clients.get_mut(&id) else {
                continue;
            };
            if client.blocked.as_ref().is_some_and(|b| b.postponed) {
                let blocked = client.blocked.take().expect("checked");
                self.resumed.push((id, blocked.argv));
            }
        }
    }

    /// Commands a pause held back, now free to run, in arrival order (the
    /// host runs each, then what its client sent after it).
    pub fn take_resumed(&mut self) -> Vec<(ClientId, Vec<Bytes>)> {
        std::mem::take(&mut self.resumed)
    }

    /// Ends blocking commands whose timeout passed; their replies go to the
    /// outbox. Returns the earliest deadline still pending.
    pub fn expire_blocked(&mut self) -> Option<i64> {
        self.end_pause_if_due();
        let now = self.clock.now_ms();
        let mut next: Option<i64> = None;
        let ids: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| c.blocked.is_some())
            .map(|c| c.id)
            .collect();
        for id in ids {
            let mut client = self.clients.remove(&id).expect("listed");
            let deadline = client.blocked.as_ref().and_then(|b| b.deadline);
            match deadline {
                Some(t) if t <= now => {
                    let reply = client
                        .blocked
                        .as_ref()
                        .map(|b| b.timeout_reply.clone())
                        .unwrap_or(Reply::NilArray);
                    self.unblock(&mut client);
                    self.outbox.push((id, reply));
                }
                Some(t) => next = Some(next.map_or(t, |n: i64| n.min(t))),
                None => {}
            }
            self.clients.insert(id, client);
        }
        next
    }

    /// CLIENT UNBLOCK: a blocked client answered now, with its timeout
    /// reply or the UNBLOCKED error; false when it was not blocked.
    pub(crate) fn unblock_client(&mut self, id: ClientId, error: bool) -> bool {
        let Some(mut client) = self.clients.remove(&id) else {
            return false;
        };
        // A client CLIENT PAUSE holds is not unblocked (Redis 7.0.15 would
        // crash on TIMEOUT here: replyToBlockedClientTimedOut has no case
        // for BLOCKED_POSTPONE); it waits for the pause like the others.
        let Some(blocked) = client.blocked.clone().filter(|b| !b.postponed) else {
            self.clients.insert(id, client);
            return false;
        };
        self.unblock(&mut client);
        let reply = if error {
            Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        } else {
            blocked.timeout_reply
        };
        self.outbox.push((id, reply));
        self.clients.insert(id, client);
        true
    }

    /// One round of active expiry, as Redis's cron does: sample keys with a
    /// TTL in each database and delete the expired ones.
    pub fn active_expire(&mut self) {
        if self.paused() {
            return;
        }
        let now = self.now();
        for db in 0..keyspace::DATABASES {
            for _ in 0..16 {
                let len = self.keyspace.db(db).expiring_len();
                if len == 0 {
                    break;
                }
                let mut expired = 0;
                for _ in 0..20.min(len) {
                    let len = self.keyspace.db(db).expiring_len();
                    if len == 0 {
                        break;
                    }
                    let key = self
                        .keyspace
                        .db(db)
                        .expiring_key(fastrand::usize(..len))
                        .cloned();
                    if let Some(key) = key {
                        if self.keyspace.expire_if_needed(db, &key, now) {
                            expired += 1;
                        }
                    }
                }
                if expired * 4 < 20 {
                    break;
                }
            }
        }
        self.publish_events(None);
        // Each expired key goes out alone (active expiry never wraps).
        self.keyspace.propagation.flush(false);
        self.after_command(&mut NoExtension);
    }

    // ---- WATCH ------------------------------------------------------------

    fn watch(&mut self, client: &mut Client, key: &[u8]) {
        let id = (client.db, key.to_vec());
        if client.watched.contains(&id) {
            return;
        }
        self.watchers.entry(id.clone()).or_default().push(client.id);
        self.keyspace.add_interest(client.db, key);
        client.watched.push(id);
    }

    fn unwatch_all(&mut self, client: &mut Client) {
        for (db, key) in client.watched.drain(..) {
            let id = (db, key);
            if let Some(w) = self.watchers.get_mut(&id) {
                w.retain(|c| *c != client.id);
                if w.is_empty() {
                    self.watchers.remove(&id);
                }
            }
            self.keyspace.remove_interest(id.0, &id.1);
        }
        client.watch_dirty = false;
    }

    // ---- pub/sub ----------------------------------------------------------

    fn unsubscribe_registry(&mut self, pattern: bool, name: &[u8], id: ClientId) {
        let registry = if pattern {
            &mut self.patterns
        } else {
            &mut self.channels
        };
        if let Some(set) = registry.get_mut(name) {
            set.swap_remove(&id);
            if set.is_empty() {
                registry.remove(name);
            }
        }
    }

    /// Publishes the keyspace events the last command reported; `current`
    /// is the client that ran it (out of the client table meanwhile).
    #[inline]
    fn publish_events(&mut self, current: Option<&Client>) {
        if !self.keyspace.events.is_empty() {
            self.publish_pending_events(current);
        }
    }

    #[inline(never)]
    fn publish_pending_events(&mut self, current: Option<&Client>) {
        let events = std::mem::take(&mut self.keyspace.events);
        if self.channels.is_empty() && self.patterns.is_empty() {
            return;
        }
        let flags = self.keyspace.notify;
        for event in &events {
            for (channel, message) in notify::messages(flags, event) {
                self.publish(&channel, &message, current);
            }
        }
    }

    /// Publishes a message; `current` is the client running the command,
    /// which is out of the client table while it runs.
    pub(crate) fn publish(
        &mut self,
        channel: &[u8],
        message: &[u8],
        current: Option<&Client>,
    ) -> i64 {
        // A RESP3 subscriber gets its messages as pushes.
        let resp3: HashSet<ClientId> = self
            .clients
            .values()
            .map(|c| &**c)
            .chain(current)
            .filter(|c| c.resp == 3)
            .map(|c| c.id)
            .chain(self.executing.filter(|(_, resp3)| *resp3).map(|(id, _)| id))
            .collect();
        let caller = self.executing.map(|(id, _)| id);
        let mut out = Vec::new();
        if let Some(subs) = self.channels.get(channel) {
            for id in subs {
                out.push((*id, Reply::bulks([&b"message"[..], channel, message])));
            }
        }
        for (pattern, subs) in &self.patterns {
            if glob::matches(pattern, channel, false) {
                for id in subs {
                    let message = Reply::bulks([&b"pmessage"[..], pattern, channel, message]);
                    out.push((*id, message));
                }
            }
        }
        let receivers = out.len() as i64;
        for (id, message) in out {
            let message = match message {
                Reply::Array(items) if resp3.contains(&id) => Reply::Push(items),
                other => other,
            };
            if Some(id) == caller {
                self.published_to_caller.push((id, message));
            } else {
                self.outbox.push((id, message));
            }
        }
        receivers
    }
}

/// What a command handler works with.
pub struct Ctx<'a> {
    pub engine: &'a mut Engine,
    pub client: &'a mut Client,
    pub argv: &'a [Bytes],
    pub now: i64,
    pub ext: &'a mut dyn Extension,
    /// Set by a blocking command that found nothing and may wait.
    pub block: Option<Box<Blocked>>,
}

impl Ctx<'_> {
    pub fn db(&self) -> usize {
        self.client.db
    }

    pub(crate) fn ks(&mut self) -> &mut Keyspace {
        &mut self.engine.keyspace
    }

    pub(crate) fn arg(&self, i: usize) -> &[u8] {
        &self.argv[i]
    }

    /// The live entry of a key in the selected database, expiring it first
    /// if its time has passed.
    pub(crate) fn lookup(&mut self, key: &[u8]) -> Option<&keyspace::Entry> {
        let miss_event = self.engine.keyspace.notify & notify::KEY_MISS != 0 && self.reads();
        self.lookup_as(key, miss_event)
    }

    /// `lookup` that never reports a `keymiss` (Redis's LOOKUP_NONOTIFY,
    /// OBJECT's lookups).
    pub(crate) fn lookup_quiet(&mut self, key: &[u8]) -> Option<&keyspace::Entry> {
        self.lookup_as(key, false)
    }

    /// Redis's `lookupKeyRead` whatever the command: a miss is a
    /// `keymiss` event (SORT's key and its BY/GET keys).
    pub(crate) fn lookup_read(&mut self, key: &[u8]) -> Option<&keyspace::Entry> {
        let miss_event = self.engine.keyspace.notify & notify::KEY_MISS != 0;
        self.lookup_as(key, miss_event)
    }

    /// A write command's `lookupKeyRead` (SET ... GET, GETDEL, a STORE's
    /// sources): reports `keymiss` when the key just looked up is absent.
    pub(crate) fn keymiss(&mut self, key: &[u8]) {
        let (db, now) = (self.db(), self.now);
        if self.engine.keyspace.notify & notify::KEY_MISS != 0
            && self.engine.keyspace.live(db, key, now).is_none()
        {
            self.engine
                .keyspace
                .notify(notify::KEY_MISS, "keymiss", db, key);
        }
    }

    /// [`lookup`](Self::lookup)'s entry by its place in the database
    /// ([`keyspace::Keyspace::entry_at`]), for a command that reads a key
    /// and then rewrites it where it is.
    pub(crate) fn lookup_index(&mut self, key: &[u8]) -> Option<usize> {
        let miss_event = self.engine.keyspace.notify & notify::KEY_MISS != 0 && self.reads();
        self.lookup_index_as(key, miss_event)
    }

    fn lookup_as(&mut self, key: &[u8], miss_event: bool) -> Option<&keyspace::Entry> {
        let index = self.lookup_index_as(key, miss_event)?;
        Some(self.engine.keyspace.entry_at(self.db(), index))
    }

    #[inline]
    fn lookup_index_as(&mut self, key: &[u8], miss_event: bool) -> Option<usize> {
        let (db, now) = (self.db(), self.now);
        // CLIENT PAUSE keeps the dataset still: an expired key reads as
        // gone but stays until the pause ends (Redis's expireIfNeeded).
        if !self.engine.paused() {
            self.engine.keyspace.expire_if_needed(db, key, now);
        }
        let found = self.engine.keyspace.live_index(db, key, now);
        if miss_event && found.is_none() {
            self.engine
                .keyspace
                .notify(notify::KEY_MISS, "keymiss", db, key);
        }
        found
    }

    /// Whether this command's lookups are Redis's `lookupKeyRead` (a miss
    /// is a `keymiss` event): those of commands that do not write.
    fn reads(&self) -> bool {
        self.engine
            .table
            .resolve(self.argv)
            .is_some_and(|spec| spec.flags & flags::WRITE == 0)
    }

    /// Redis's `setKey`: the key looked up for writing (an expired one is
    /// deleted, `expired`), then the value stored (`new` if it was absent).
    pub(crate) fn set_key(&mut self, key: &[u8], value: Value) {
        let db = self.db();
        self.lookup_quiet(key);
        self.engine.keyspace.put(db, key, value, None);
    }

    /// `del` when a command's removals emptied the key and so deleted it
    /// (the last element popped, removed or trimmed).
    pub(crate) fn deleted_if_gone(&mut self, key: &[u8]) {
        let db = self.db();
        if self.engine.keyspace.db(db).entry(key).is_none() {
            self.notify(notify::GENERIC, "del", key);
        }
    }

    /// Redis's `dbDelete` of a STORE's empty result: the key goes whether
    /// or not it had expired, with a `del` event if it was there.
    pub(crate) fn delete_key(&mut self, key: &[u8]) -> bool {
        let db = self.db();
        let deleted = self.engine.keyspace.remove(db, key).is_some();
        if deleted {
            self.notify(notify::GENERIC, "del", key);
        }
        deleted
    }

    /// This command goes to replicas and the AOF as `argv` instead (Redis's
    /// rewriteClientCommandVector: EXPIRE as PEXPIREAT, ...).
    pub(crate) fn propagate_as<A: AsRef<[u8]>>(&mut self, argv: impl IntoIterator<Item = A>) {
        if self.propagates() {
            let argv = argv.into_iter().map(|a| a.as_ref().to_vec()).collect();
            self.engine.keyspace.propagation.rewrite(argv);
        }
    }

    /// Whether a command's rewrite for replicas ([`Ctx::propagate_owned`])
    /// would be used: one that costs something to build need not be, else.
    pub(crate) fn propagates(&self) -> bool {
        self.engine.keyspace.propagation.takes_rewrite()
    }

    /// [`Ctx::propagate_as`] with arguments already owned.
    pub(crate) fn propagate_owned(&mut self, argv: Vec<Bytes>) {
        self.engine.keyspace.propagation.rewrite(argv);
    }

    /// This command does not go to replicas itself (what it asked with
    /// `also_propagate` still does).
    pub(crate) fn prevent_propagation(&mut self) {
        self.engine.keyspace.propagation.prevent();
    }

    /// Redis's alsoPropagate: one more command for replicas, after what is
    /// pending.
    pub(crate) fn also_propagate(&mut self, argv: Vec<Bytes>) {
        let db = self.db();
        self.engine.keyspace.propagation.also(db, argv);
    }

    /// This command goes to replicas even if it changed nothing (PUBLISH).
    pub(crate) fn force_propagation(&mut self) {
        self.engine.keyspace.propagation.force();
    }

    /// Reports a keyspace event of this class on a key of the selected
    /// database (Redis's `notifyKeyspaceEvent`).
    #[inline]
    pub(crate) fn notify(&mut self, class: u32, name: &'static str, key: &[u8]) {
        let db = self.client.db;
        self.engine.keyspace.notify(class, name, db, key);
    }

    pub(crate) fn value(&mut self, key: &[u8]) -> Option<&Value> {
        self.lookup(key).map(|e| &e.value)
    }

    pub(crate) fn exists(&mut self, key: &[u8]) -> bool {
        self.lookup(key).is_some()
    }

    pub(crate) fn string(&mut self, key: &[u8]) -> Result<Option<&Bytes>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    pub(crate) fn list(&mut self, key: &[u8]) -> Result<Option<&VecDeque<Bytes>>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::List(l)) => Ok(Some(l)),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    pub(crate) fn hash(&mut self, key: &[u8]) -> Result<Option<&value::Hash>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Hash(h)) => Ok(Some(h)),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    pub(crate) fn set(&mut self, key: &[u8]) -> Result<Option<&value::Set>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::Set(s)) => Ok(Some(s)),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    pub(crate) fn zset(&mut self, key: &[u8]) -> Result<Option<&value::ZSet>, Reply> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::ZSet(z)) => Ok(Some(z)),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    /// Errors unless the key is absent or of this kind.
    pub(crate) fn expect_kind(&mut self, key: &[u8], kind: Kind) -> Result<bool, Reply> {
        match self.value(key) {
            None => Ok(false),
            Some(v) if v.kind() == kind => Ok(true),
            Some(_) => Err(errors::err(errors::WRONGTYPE)),
        }
    }

    /// Whether the client speaks RESP3 (maps, sets and doubles in replies).
    pub(crate) fn resp3(&self) -> bool {
        self.client.resp == 3
    }

    /// Whether this command may wait (not inside MULTI/EXEC or a script).
    pub(crate) fn may_block(&self) -> bool {
        !self.client.no_block
    }
}

/// A command processCommand refuses before running it. A refused EXEC
/// answers as an aborted transaction, quoting the refusal (Redis's
/// `execCommandAbort`; formatted refusals lose their `ERR ` there).
fn reject(spec: &CommandSpec, error: &str) -> Reply {
    if spec.name == "exec" {
        let why = error.strip_prefix("ERR ").unwrap_or(error);
        Reply::error(format!("EXECABORT Transaction discarded because of: {why}"))
    } else {
        Reply::error(error)
    }
}

/// A command as SLOWLOG and MONITOR show it: passwords replaced by
/// `(redacted)`, as Redis's commands redact them while they parse (AUTH,
/// HELLO ... AUTH, MIGRATE's AUTH and AUTH2, ACL SETUSER, CONFIG SET of
/// a password).
fn redacted<'a>(name: &str, argv: &'a [Bytes]) -> std::borrow::Cow<'a, [Bytes]> {
    let argc = argv.len();
    let is = |i: usize, word: &str| argv[i].eq_ignore_ascii_case(word.as_bytes());
    let mut hidden: Vec<usize> = Vec::new();
    match name {
        "auth" if argc <= 3 => hidden.extend(1..argc),
        // Only once the protocol version was read.
        "hello" if argc >= 2 && numbers::parse_i64(&argv[1]).is_some_and(|v| v == 2 || v == 3) => {
            let mut j = 2;
            while j < argc {
                let more = argc - 1 - j;
                if is(j, "auth") && more >= 2 {
                    hidden.extend([j + 1, j + 2]);
                    j += 2;
                } else if is(j, "setname") && more >= 1 {
                    j += 1;
                } else {
                    break;
                }
                j += 1;
            }
        }
        "migrate" => {
            let mut j = 6;
            while j < argc {
                let more = argc - 1 - j;
                if is(j, "copy") || is(j, "replace") {
                } else if is(j, "auth") && more >= 1 {
                    hidden.push(j + 1);
                    j += 1;
                } else if is(j, "auth2") && more >= 2 {
                    hidden.extend([j + 1, j + 2]);
                    j += 2;
                } else {
                    break;
                }
                j += 1;
            }
        }
        "acl|setuser" => hidden.extend(2..argc),
        "config|set" if argc >= 4 && argc.is_multiple_of(2) => {
            for name in (2..argc).step_by(2) {
                if ["requirepass", "masterauth", "masteruser"]
                    .iter()
                    .any(|s| argv[name].eq_ignore_ascii_case(s.as_bytes()))
                {
                    hidden.push(name + 1);
                }
            }
        }
        _ => {}
    }
    if hidden.is_empty() {
        return std::borrow::Cow::Borrowed(argv);
    }
    let mut shown = argv.to_vec();
    for j in hidden {
        shown[j] = b"(redacted)".to_vec();
    }
    std::borrow::Cow::Owned(shown)
}

/// The clock that times each command for INFO commandstats and SLOWLOG,
/// as Redis's `call()` does: the CPU's time-stamp counter where it is
/// steady (a third of the cost of `Instant::now`, read twice a command),
/// with its first reading and its microseconds a tick.
struct Stopwatch {
    clock: quanta::Clock,
    origin: u64,
    /// Microseconds a tick, times 2^64.
    scale: u64,
}

fn stopwatch() -> &'static Stopwatch {
    static CLOCK: std::sync::OnceLock<Stopwatch> = std::sync::OnceLock::new();
    CLOCK.get_or_init(|| {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        // Nanoseconds in 2^32 ticks, as the clock scales them: 2^32 times
        // the nanoseconds a tick.
        let nanos = u128::from(clock.delta_as_nanos(0, 1 << 32));
        let scale = u64::try_from((nanos << 32) / 1000).unwrap_or(u64::MAX);
        Stopwatch {
            clock,
            origin,
            scale,
        }
    })
}

/// The [`stopwatch`]'s time in whole microseconds, as Redis's `ustime()`
/// reads it: a command's time is the difference of two such readings, so
/// a call shorter than a microsecond counts one when it crosses into the
/// next (a million INCRs of a sixth of a microsecond add up to their
/// time, not to nothing).
fn micros_now() -> u64 {
    let watch = stopwatch();
    let ticks = watch.clock.raw().saturating_sub(watch.origin);
    ((u128::from(ticks) * u128::from(watch.scale)) >> 64) as u64
}

/// Microseconds since a [`micros_now`] reading.
fn micros_since(started: u64) -> u64 {
    micros_now().saturating_sub(started)
}

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic now would be caught by a command's guard (a panic hook
/// that restores a terminal leaves it alone then: the user gets an error
/// reply, the program goes on).
pub(crate) fn panic_is_guarded() -> bool {
    GUARDED.with(|g| g.get())
}

/// Runs a command handler; a panic in it (a redstep bug) becomes an error
/// reply instead of ending the engine thread and every client with it.
fn guarded(handler: impl FnOnce() -> CommandResult, name: &str) -> Reply {
    let outer = GUARDED.with(|g| g.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler));
    GUARDED.with(|g| g.set(outer));
    match outcome {
        Ok(result) => result.unwrap_or_else(|e| e),
        Err(payload) => {
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Reply::error(format!(
                "ERR redstep bug: {name} panicked ({why}); what it changed before is kept — please report it"
            ))
        }
    }
}

/// The type a blocking command pops from (None for the stream readers,
/// which are served as before).
fn blocking_kind(argv: &[Bytes]) -> Option<Kind> {
    let name = argv.first()?.to_ascii_uppercase();
    match name.as_slice() {
        b"BLPOP" | b"BRPOP" | b"BLMOVE" | b"BRPOPLPUSH" | b"BLMPOP" => Some(Kind::List),
        b"BZPOPMIN" | b"BZPOPMAX" | b"BZMPOP" => Some(Kind::ZSet),
        _ => None,
    }
}

/// A blocked command's arguments narrowed to the one key being served.
fn served_argv(argv: &[Bytes], key: &[u8]) -> Vec<Bytes> {
    let name = argv[0].to_ascii_uppercase();
    match name.as_slice() {
        b"BLPOP" | b"BRPOP" | b"BZPOPMIN" | b"BZPOPMAX" if argv.len() > 3 => {
            vec![argv[0].clone(), key.to_vec(), argv[argv.len() - 1].clone()]
        }
        b"BLMPOP" | b"BZMPOP" if argv.len() > 4 => {
            let numkeys = std::str::from_utf8(&argv[2])
                .ok()
                .and_then(|n| n.parse::<usize>().ok());
            match numkeys {
                Some(n) if n > 1 && argv.len() > 3 + n => {
                    let mut out = vec![
                        argv[0].clone(),
                        argv[1].clone(),
                        b"1".to_vec(),
                        key.to_vec(),
                    ];
                    out.extend(argv[3 + n..].iter().cloned());
                    out
                }
                _ => argv.to_vec(),
            }
        }
        _ => argv.to_vec(),
    }
}

#[cfg(test)]
mod latency_tests {
    use super::*;

    /// Each duration lands in the first bound at or above it (Redis's
    /// buckets, worked out from its HDR histogram), past a second the last.
    #[test]
    fn latency_buckets_are_redis_s() {
        for micros in 0..2_000_000u64 {
            let expected = LATENCY_BUCKETS
                .iter()
                .position(|&bound| micros <= bound)
                .unwrap_or(LATENCY_BUCKETS.len() - 1);
            assert_eq!(latency_bucket(micros), expected, "{micros}");
        }
        assert_eq!(latency_bucket(u64::MAX), LATENCY_BUCKETS.len() - 1);
    }
}
