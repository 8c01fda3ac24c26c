//! Client-side caching (CLIENT TRACKING), as Redis 7.0's tracking.c does
//! it.
//!
//! - Default mode: the keys of every read-only command a tracking client
//!   runs (a script's declared keys when a script reads) are remembered
//!   for it; when such a key is modified it gets one `invalidate` message
//!   and the key is forgotten until read again. OPTIN remembers only after
//!   `CLIENT CACHING yes`, OPTOUT not after `CLIENT CACHING no`; NOLOOP
//!   leaves out what the client changed itself.
//! - BCAST: every modified key under one of the client's prefixes is
//!   collected and sent once per prefix before the server sleeps.
//! - A flush invalidates everything: a null to every tracking client.
//!
//! Messages are RESP3 pushes, or go to the REDIRECT client (a RESP2 one
//! gets them as `__redis__:invalidate` pub/sub messages when subscribed).
//! A RESP2 client without redirection gets nothing, as in Redis.
//!
//! The keyspace lists the keys modified while anyone tracks; the engine
//! turns them into messages once the command that modified them has
//! replied ([`Engine::process_tracking`]), so a client's own invalidation
//! comes right after the reply, as Redis's pending invalidations do.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::value::Bytes;
use super::{ClientId, Engine, Reply};

/// Redis's `tracking-table-max-keys` default: past it, keys are forgotten
/// (with an invalidation, as if modified).
const MAX_KEYS: usize = 1_000_000;

/// A client's tracking mode (CLIENT TRACKING ON and its options).
#[derive(Debug, Clone, Default)]
pub struct ClientTracking {
    /// The client that gets the messages (0: this one).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING was given for the next command.
    pub caching: bool,
    /// The redirect client is gone.
    pub broken: bool,
    /// BCAST's prefixes (the empty one when none was given).
    pub prefixes: BTreeSet<Bytes>,
}

impl ClientTracking {
    /// Whether this client's reads are remembered now.
    pub(crate) fn remembers(&self) -> bool {
        // OPTIN remembers after CLIENT CACHING yes; OPTOUT unless after
        // CLIENT CACHING no.
        let skipped = (self.optin && !self.caching) || (self.optout && self.caching);
        !self.bcast && !skipped
    }
}

/// One BCAST prefix: its clients, and the keys under it modified since
/// the last broadcast, each with the client that modified it last.
#[derive(Debug, Default)]
struct Prefix {
    clients: BTreeSet<ClientId>,
    changed: BTreeMap<Bytes, Option<ClientId>>,
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Table {
    /// Keys read by tracking clients, and by whom.
    keys: HashMap<Bytes, BTreeSet<ClientId>>,
    prefixes: BTreeMap<Bytes, Prefix>,
    /// Clients in tracking mode (whether modified keys are listed).
    clients: usize,
    /// Invalidations owed to the client whose command runs (a key, or
    /// None for a flush): sent once it has replied.
    pending: Vec<Option<Bytes>>,
}

impl Engine {
    /// CLIENT TRACKING ON for `client` (whose options were checked).
    pub(crate) fn enable_tracking(
        &mut self,
        client: &mut super::Client,
        mut mode: ClientTracking,
        prefixes: Vec<Bytes>,
    ) {
        // Turning it on again keeps the prefixes and a CLIENT CACHING
        // given before, as Redis's enableTracking does.
        match client.tracking.take() {
            Some(old) => {
                mode.prefixes = old.prefixes;
                mode.caching = old.caching;
            }
            None => self.tracking.clients += 1,
        }
        if mode.bcast {
            let wanted = if prefixes.is_empty() {
                vec![Vec::new()]
            } else {
                prefixes
            };
            for prefix in wanted {
                self.tracking
                    .prefixes
                    .entry(prefix.clone())
                    .or_default()
                    .clients
                    .insert(client.id);
                mode.prefixes.insert(prefix);
            }
        }
        client.tracking = Some(Box::new(mode));
        self.keyspace.tracking = true;
    }

    /// CLIENT TRACKING OFF, RESET, or the client went away.
    pub(crate) fn disable_tracking(&mut self, client: &mut super::Client) {
        let Some(mode) = client.tracking.take() else {
            return;
        };
        for prefix in &mode.prefixes {
            if let Some(p) = self.tracking.prefixes.get_mut(prefix) {
                p.clients.remove(&client.id);
                if p.clients.is_empty() {
                    self.tracking.prefixes.remove(prefix);
                }
            }
        }
        self.tracking.clients -= 1;
        self.keyspace.tracking = self.tracking.clients > 0;
    }

    /// Remembers `keys` as read by `client` (Redis's trackingRememberKeys).
    pub(crate) fn remember_keys(&mut self, client: ClientId, keys: Vec<Bytes>) {
        for key in keys {
            self.tracking.keys.entry(key).or_default().insert(client);
        }
    }

    /// Turns the keys modified so far into invalidations (after each
    /// command, a script's own calls included, so the list stays short);
    /// those owed to the client whose command runs wait for its reply.
    pub(crate) fn drain_tracking(&mut self) {
        let current = self.executing.map(|(id, _)| id);
        for (key, by) in std::mem::take(&mut self.keyspace.tracking_modified) {
            match key {
                Some(key) => self.invalidate(&key, by, current, true),
                None => self.invalidate_all(current),
            }
        }
    }

    /// After `current`'s command replied (it is back in the client table):
    /// what its command owes it, and what else is left.
    pub(crate) fn process_tracking(&mut self, current: Option<ClientId>) {
        if !self.keyspace.tracking && self.tracking.pending.is_empty() {
            return;
        }
        self.drain_tracking();
        let pending = std::mem::take(&mut self.tracking.pending);
        let Some(id) = current else {
            return;
        };
        for key in pending {
            let Some(mode) = self.clients.get(&id).and_then(|c| c.tracking.as_deref()) else {
                return;
            };
            match key {
                // Its own change: not in BCAST mode (a broadcast tells
                // it), nor with NOLOOP.
                Some(key) if !mode.bcast && !mode.noloop => {
                    self.send_tracking(id, Reply::Array(vec![Reply::bulk(key)]))
                }
                Some(_) => {}
                None => self.send_tracking(id, Reply::Nil),
            }
        }
    }

    /// Redis's trackingInvalidateKey.
    fn invalidate(
        &mut self,
        key: &[u8],
        by: Option<ClientId>,
        current: Option<ClientId>,
        bcast: bool,
    ) {
        if bcast {
            for (prefix, p) in self.tracking.prefixes.iter_mut() {
                if key.starts_with(prefix) {
                    p.changed.insert(key.to_vec(), by);
                }
            }
        }
        let Some(readers) = self.tracking.keys.remove(key) else {
            return;
        };
        for id in readers {
            if Some(id) == current {
                self.tracking.pending.push(Some(key.to_vec()));
                continue;
            }
            let Some(mode) = self.clients.get(&id).and_then(|c| c.tracking.as_deref()) else {
                continue;
            };
            if mode.bcast {
                continue;
            }
            self.send_tracking(id, Reply::Array(vec![Reply::bulk(key)]));
        }
    }

    /// A flush: every tracking client is told that every key changed (a
    /// null), and the table starts again.
    fn invalidate_all(&mut self, current: Option<ClientId>) {
        let mut tracking: Vec<ClientId> = self
            .clients
            .values()
            .filter(|c| c.tracking.is_some())
            .map(|c| c.id)
            .collect();
        tracking.sort_unstable();
        for id in tracking {
            self.send_tracking(id, Reply::Nil);
        }
        if current.is_some_and(|id| !self.clients.contains_key(&id)) {
            self.tracking.pending.push(None);
        }
        self.tracking.keys.clear();
    }

    /// Redis's sendTrackingMessage: `keys` (an array, or a null for all)
    /// to the client or its redirect.
    fn send_tracking(&mut self, id: ClientId, keys: Reply) {
        let Some(client) = self.clients.get(&id) else {
            return;
        };
        let Some(mode) = client.tracking.as_deref() else {
            return;
        };
        let (redirect, resp3) = (mode.redirect, client.resp == 3);
        // The client whose command runs is out of the table meanwhile; a
        // RESP2 one is not subscribed (it could not run a write).
        let current = self.executing;
        let speaks = |engine: &Engine, to: ClientId| match engine.clients.get(&to) {
            Some(c) => Some((c.resp == 3, c.subscribed())),
            None => current
                .filter(|(c, _)| *c == to)
                .map(|(_, resp3)| (resp3, false)),
        };
        let mut target = id;
        if redirect != 0 {
            if speaks(self, redirect).is_none() {
                if let Some(mode) = self
                    .clients
                    .get_mut(&id)
                    .and_then(|c| c.tracking.as_deref_mut())
                {
                    mode.broken = true;
                }
                if resp3 {
                    self.outbox.push((
                        id,
                        Reply::Push(vec![
                            Reply::bulk("tracking-redir-broken"),
                            Reply::Int(redirect as i64),
                        ]),
                    ));
                }
                return;
            }
            target = redirect;
        }
        let Some((resp3, subscribed)) = speaks(self, target) else {
            return;
        };
        let message = if resp3 {
            Reply::Push(vec![Reply::bulk("invalidate"), keys])
        } else if redirect != 0 && subscribed {
            Reply::Push(vec![
                Reply::bulk("message"),
                Reply::bulk("__redis__:invalidate"),
                keys,
            ])
        } else {
            return;
        };
        if current.is_some_and(|(c, _)| c == target) {
            // To the client whose command runs: before its reply, as
            // Redis writes it into its buffer at once.
            self.published_to_caller.push((target, message));
        } else {
            self.outbox.push((target, message));
        }
    }

    /// Before the server sleeps: BCAST clients get the keys changed under
    /// their prefixes (one message a prefix), and a table past its limit
    /// forgets keys.
    pub fn broadcast_tracking(&mut self) {
        if !self.keyspace.tracking {
            return;
        }
        self.process_tracking(None);
        let mut messages: Vec<(ClientId, Vec<Bytes>)> = Vec::new();
        for p in self.tracking.prefixes.values_mut() {
            if p.changed.is_empty() {
                continue;
            }
            let changed = std::mem::take(&mut p.changed);
            for &id in &p.clients {
                let noloop = self
                    .clients
                    .get(&id)
                    .and_then(|c| c.tracking.as_deref())
                    .is_some_and(|m| m.noloop);
                let keys: Vec<Bytes> = changed
                    .iter()
                    .filter(|(_, by)| !(noloop && **by == Some(id)))
                    .map(|(k, _)| k.clone())
                    .collect();
                if !keys.is_empty() {
                    messages.push((id, keys));
                }
            }
        }
        for (id, keys) in messages {
            self.send_tracking(id, Reply::bulks(keys));
        }
        while self.tracking.keys.len() > MAX_KEYS {
            let Some(key) = self.tracking.keys.keys().next().cloned() else {
                break;
            };
            self.invalidate(&key, None, None, false);
        }
    }

    /// Clients in tracking mode, besides the one whose command runs
    /// (INFO's `tracking_clients`).
    pub(crate) fn tracking_clients(&self) -> usize {
        self.clients
            .values()
            .filter(|c| c.tracking.is_some())
            .count()
    }
}
