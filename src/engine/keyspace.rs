//! The keyspace: 16 databases of keys, each with an optional expiry, and the
//! small set of mutation primitives every write goes through.
//!
//! Each primitive can report what it changed to an [`Observer`] as an
//! inverse [`Delta`]: enough to undo that one change without copying whole
//! values (a pushed list element is undone by popping it, not by restoring
//! the list). With no observer attached the cost is one branch.

use std::collections::{HashMap, VecDeque};

use indexmap::IndexSet;

use super::dict::ScanMap;
use super::notify;

use super::value::{Bytes, Groups, NodePatch, Stream, StreamFields, StreamId, StreamMeta, Value};

pub const DATABASES: usize = 16;

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry time in unix milliseconds.
    pub expire_at: Option<i64>,
    /// How a string was written, which Redis's encoding remembers.
    pub str_enc: StrEnc,
}

/// What OBJECT ENCODING of a string depends on besides its content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StrEnc {
    /// Stored as SET stores it: `int` when it reads as one, else by length.
    #[default]
    Auto,
    /// Made from a float (INCRBYFLOAT): `embstr` or `raw`, never `int`.
    NoInt,
    /// Edited in place (APPEND to an existing string, SETRANGE): `raw`.
    Raw,
}

impl Entry {
    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding(&self) -> &'static str {
        match (&self.value, self.str_enc) {
            (Value::String(_), StrEnc::Raw) => "raw",
            (Value::String(s), StrEnc::NoInt) if s.len() <= 44 => "embstr",
            (Value::String(_), StrEnc::NoInt) => "raw",
            (value, _) => value.encoding(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// How to undo one change. Applying a recorded sequence of deltas in
/// reverse order restores the keyspace exactly as it was.
#[derive(Clone, Debug, PartialEq)]
pub enum Delta {
    /// The key did not exist.
    Created { key: Bytes },
    /// The key held this entry and stood at this position of its database.
    Removed {
        key: Bytes,
        entry: Entry,
        position: usize,
    },
    /// The key held this entry (its value was replaced as a whole).
    Overwritten { key: Bytes, entry: Entry },
    /// The key's expiry was this.
    Expire { key: Bytes, expire_at: Option<i64> },
    /// The hash field was absent (None), or held this value at this position.
    HashField {
        key: Bytes,
        field: Bytes,
        old: Option<(Bytes, usize)>,
    },
    /// The set member was absent (None), or stood at this position.
    SetMember {
        key: Bytes,
        member: Bytes,
        position: Option<usize>,
    },
    /// The sorted-set member was absent (None), or had this score.
    ZSetMember {
        key: Bytes,
        member: Bytes,
        score: Option<f64>,
    },
    /// `count` elements were pushed on this side.
    ListPushed {
        key: Bytes,
        side: Side,
        count: usize,
    },
    /// These elements were popped from this side, in pop order.
    ListPopped {
        key: Bytes,
        side: Side,
        items: Vec<Bytes>,
    },
    /// The list element at `index` was `old`.
    ListItem {
        key: Bytes,
        index: usize,
        old: Bytes,
    },
    /// The value's encoding was small (listpack / intset) or not.
    Encoding { key: Bytes, small: bool },
    /// The string was `len` bytes long, written as `str_enc`, and its bytes
    /// from `offset` were `old` (past `len`, `old` is the zero padding an
    /// extension added). Undoes an in-place edit (SETBIT, BITFIELD, HLL
    /// registers) without copying the string.
    StringRange {
        key: Bytes,
        offset: usize,
        old: Bytes,
        len: usize,
        str_enc: StrEnc,
    },
    /// A stream edit, undone by removing the entries `added`, putting back
    /// the entries `removed`, restoring the counters and (when a group
    /// changed) the groups. Only the touched entries are kept.
    Stream {
        key: Bytes,
        added: Vec<StreamId>,
        removed: Vec<(StreamId, StreamFields)>,
        /// Boxed, as the groups: a delta stays as small as a string's.
        /// With the counters, the stream nodes touched, as they were.
        meta: Box<(StreamMeta, NodePatch)>,
        groups: Option<Box<Groups>>,
    },
    /// The two databases were swapped (this delta is its own inverse).
    SwappedWith { other: usize },
}

impl Delta {
    /// `Overwritten` of a string (see [`Observer::string_was`]).
    pub(crate) fn string_was(
        key: &[u8],
        old: &[u8],
        expire_at: Option<i64>,
        str_enc: StrEnc,
    ) -> Delta {
        Delta::Overwritten {
            key: key.to_vec(),
            entry: Entry {
                value: Value::String(old.to_vec()),
                expire_at,
                str_enc,
            },
        }
    }

    /// The key this change is about, if it is about one key.
    pub(crate) fn key(&self) -> Option<&[u8]> {
        match self {
            Delta::Created { key }
            | Delta::Removed { key, .. }
            | Delta::Overwritten { key, .. }
            | Delta::Expire { key, .. }
            | Delta::HashField { key, .. }
            | Delta::SetMember { key, .. }
            | Delta::ZSetMember { key, .. }
            | Delta::ListPushed { key, .. }
            | Delta::ListPopped { key, .. }
            | Delta::ListItem { key, .. }
            | Delta::Encoding { key, .. }
            | Delta::StringRange { key, .. }
            | Delta::Stream { key, .. } => Some(key),
            Delta::SwappedWith { .. } => None,
        }
    }
}

/// Receives every change made to the keyspace, as an inverse delta.
/// (`Send` so a keyspace, and a debugger's view of one, can cross threads.)
pub trait Observer: Send {
    fn record(&mut self, db: usize, delta: Delta);

    /// The string at `key` held `old` (written as `str_enc`, expiring at
    /// `expire_at`) before an edit in place: `Delta::Overwritten`, told
    /// without copying the key and the old bytes (an observer that keeps
    /// them compactly copies what it keeps; INCR tells this).
    fn string_was(
        &mut self,
        db: usize,
        key: &[u8],
        old: &[u8],
        expire_at: Option<i64>,
        str_enc: StrEnc,
    ) {
        self.record(db, Delta::string_was(key, old, expire_at, str_enc));
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Db {
    entries: ScanMap<Entry, KeyHasher>,
    /// Keys that have an expiry, for the active sweep to sample.
    expiring: IndexSet<Bytes, KeyHasher>,
}

/// How a database hashes its keys: foldhash with a random seed per map, so
/// keys a client chooses cannot be aimed at one bucket (Redis seeds its
/// SipHash at start for the same reason), at a fraction of SipHash's cost
/// per lookup. Iteration order is the map's own insertion order either way.
type KeyHasher = foldhash::fast::RandomState;

impl Db {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The raw entry, expired or not.
    pub fn entry(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub(crate) fn get_index(&self, index: usize) -> Option<(&Bytes, &Entry)> {
        self.entries.get_index(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Entry)> {
        self.entries.iter()
    }

    pub fn expiring_len(&self) -> usize {
        self.expiring.len()
    }

    pub(crate) fn expiring_key(&self, index: usize) -> Option<&Bytes> {
        self.expiring.get_index(index)
    }

    fn track_expiry(&mut self, key: &[u8], expire_at: Option<i64>) {
        if expire_at.is_some() {
            if !self.expiring.contains(key) {
                self.expiring.insert(key.to_vec());
            }
        } else if !self.expiring.is_empty() {
            self.expiring.swap_remove(key);
        }
    }

    fn insert_at(&mut self, key: Bytes, entry: Entry, position: usize) {
        self.track_expiry(&key, entry.expire_at);
        let (index, _) = self.entries.insert_full(key, entry);
        let last = self.entries.len() - 1;
        if position < last && index == last {
            self.entries.swap_indices(position, last);
        }
    }

    fn remove(&mut self, key: &[u8]) -> Option<(usize, Entry)> {
        let (position, _, entry) = self.entries.swap_remove_full(key)?;
        self.expiring.swap_remove(key);
        Some((position, entry))
    }
}

/// All databases, the optional observer, and the keys someone waits on.
pub struct Keyspace {
    dbs: Vec<Db>,
    observer: Option<Box<dyn Observer>>,
    /// Keys a WATCH or a blocked client cares about.
    interest: HashMap<(usize, Bytes), usize>,
    /// Keys of `interest` that changed since the last drain.
    signaled: Vec<(usize, Bytes)>,
    /// Keys of `interest` created, replaced or deleted whole since the
    /// last drain (a subset of `signaled`).
    replaced: Vec<(usize, Bytes)>,
    /// How many changes were made.
    pub changes: u64,
    /// Redis's `server.dirty`: `changes` without encoding conversions and
    /// expired keys' deletions (what decides whether a command is
    /// propagated).
    pub(crate) dirty: u64,
    /// The small encodings' thresholds (CONFIG SET changes them).
    pub limits: super::value::Limits,
    /// `notify-keyspace-events`: which classes of events are published.
    pub(crate) notify: u32,
    /// Events reported while a command runs, published when it ends.
    pub(crate) events: Vec<notify::Event>,
    /// What replicas and the AOF receive (recorded only when asked).
    pub propagation: super::propagate::Propagation,
    /// Some client tracks keys (CLIENT TRACKING): modified keys are listed
    /// in `tracking_modified`, each with who modified it (`modifier`), a
    /// flush as None.
    pub(crate) tracking: bool,
    pub(crate) tracking_modified: Vec<(Option<Bytes>, Option<super::ClientId>)>,
    /// The client whose command runs (None: the server itself, expiring).
    pub(crate) modifier: Option<super::ClientId>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace {
            dbs: vec![Db::default(); DATABASES],
            observer: None,
            interest: HashMap::new(),
            signaled: Vec::new(),
            limits: Default::default(),
            replaced: Vec::new(),
            changes: 0,
            dirty: 0,
            notify: 0,
            events: Vec::new(),
            propagation: Default::default(),
            tracking: false,
            tracking_modified: Vec::new(),
            modifier: None,
        }
    }
}

impl Keyspace {
    pub fn db(&self, db: usize) -> &Db {
        &self.dbs[db]
    }

    pub fn set_observer(
        &mut self,
        observer: Option<Box<dyn Observer>>,
    ) -> Option<Box<dyn Observer>> {
        std::mem::replace(&mut self.observer, observer)
    }

    pub(crate) fn add_interest(&mut self, db: usize, key: &[u8]) {
        *self.interest.entry((db, key.to_vec())).or_insert(0) += 1;
    }

    pub(crate) fn remove_interest(&mut self, db: usize, key: &[u8]) {
        let id = (db, key.to_vec());
        if let Some(n) = self.interest.get_mut(&id) {
            *n -= 1;
            if *n == 0 {
                self.interest.remove(&id);
            }
        }
    }

    /// Reports an event of this class (Redis's `notifyKeyspaceEvent`);
    /// nothing happens when the class is off.
    #[inline]
    pub(crate) fn notify(&mut self, class: u32, name: &'static str, db: usize, key: &[u8]) {
        if self.notify & class != 0 {
            self.events.push(notify::Event {
                name,
                db,
                key: key.to_vec(),
            });
        }
    }

    pub(crate) fn take_signaled(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.signaled)
    }

    pub(crate) fn take_replaced(&mut self) -> Vec<(usize, Bytes)> {
        std::mem::take(&mut self.replaced)
    }

    /// A whole key was created, replaced or deleted.
    #[inline]
    fn mark_replaced(&mut self, db: usize, key: &[u8]) {
        if !self.interest.is_empty() {
            self.mark_replaced_watched(db, key);
        }
    }

    #[cold]
    fn mark_replaced_watched(&mut self, db: usize, key: &[u8]) {
        if self.interest.contains_key(&(db, key.to_vec())) {
            self.replaced.push((db, key.to_vec()));
        }
    }

    #[inline]
    fn changed(&mut self, db: usize, key: &[u8], delta: impl FnOnce() -> Delta) {
        if let Some(observer) = self.observer.as_mut() {
            observer.record(db, delta());
        }
        self.counted(db, key);
    }

    /// A change the observer was told of (or there is none): counted, and
    /// the clients waiting on the key signaled.
    #[inline]
    fn counted(&mut self, db: usize, key: &[u8]) {
        self.changes += 1;
        self.dirty += 1;
        if !self.interest.is_empty() || self.tracking {
            self.counted_watched(db, key);
        }
    }

    /// [`Keyspace::counted`]'s part for a key some client waits on or tracks.
    #[cold]
    fn counted_watched(&mut self, db: usize, key: &[u8]) {
        if !self.interest.is_empty() && self.interest.contains_key(&(db, key.to_vec())) {
            self.signaled.push((db, key.to_vec()));
        }
        if self.tracking {
            self.tracking_modified
                .push((Some(key.to_vec()), self.modifier));
        }
    }

    /// A small encoding (listpack, intset) became a big one: recorded for
    /// undo and watchers, but not a change Redis counts as dirty.
    fn converted(&mut self, db: usize, key: &[u8]) {
        self.changed(db, key, || Delta::Encoding {
            key: key.to_vec(),
            small: true,
        });
        self.dirty -= 1;
    }

    /// Redis's `signalModifiedKey` for a write that changed nothing (a
    /// no-op LTRIM): WATCHers of the key see it touched; nothing else.
    pub(crate) fn touch(&mut self, db: usize, key: &[u8]) {
        if !self.interest.is_empty() && self.interest.contains_key(&(db, key.to_vec())) {
            self.signaled.push((db, key.to_vec()));
        }
        if self.tracking {
            self.tracking_modified
                .push((Some(key.to_vec()), self.modifier));
        }
    }

    /// The entry if it exists and has not expired at `now`.
    pub(crate) fn live(&self, db: usize, key: &[u8], now: i64) -> Option<&Entry> {
        self.live_index(db, key, now).map(|i| self.entry_at(db, i))
    }

    /// Where [`live`](Self::live)'s entry is: a command that reads a key
    /// and then rewrites it finds it once ([`entry_at`](Self::entry_at),
    /// [`rewrite_string_at`](Self::rewrite_string_at)).
    pub(crate) fn live_index(&self, db: usize, key: &[u8], now: i64) -> Option<usize> {
        let entries = &self.dbs[db].entries;
        let index = entries.get_index_of(key)?;
        let (_, entry) = entries.get_index(index)?;
        entry.expire_at.is_none_or(|t| t > now).then_some(index)
    }

    /// The entry at a position [`live_index`](Self::live_index) gave, the
    /// keyspace unchanged since.
    pub(crate) fn entry_at(&self, db: usize, index: usize) -> &Entry {
        &self.dbs[db].entries[index]
    }

    /// Deletes the key if it has expired at `now`; true if it did.
    #[inline]
    pub(crate) fn expire_if_needed(&mut self, db: usize, key: &[u8], now: i64) -> bool {
        // Every key with an expiry is in `expiring`: none there, none due.
        !self.dbs[db].expiring.is_empty() && self.expire_if_due(db, key, now)
    }

    /// [`Keyspace::expire_if_needed`] in a database where some key expires.
    fn expire_if_due(&mut self, db: usize, key: &[u8], now: i64) -> bool {
        let expired = matches!(self.dbs[db].entries.get(key), Some(Entry { expire_at: Some(t), .. }) if *t <= now);
        if expired {
            self.remove(db, key);
            // Not a change of the command's own (Redis does not count it).
            self.dirty -= 1;
            self.notify(notify::EXPIRED, "expired", db, key);
            // Redis's propagateDeletion (lazyfree-lazy-expire is off).
            self.propagation
                .also(db, vec![b"DEL".to_vec(), key.to_vec()]);
        }
        expired
    }

    // ---- whole keys -------------------------------------------------------

    /// Stores a value, replacing whatever the key held, with this expiry.
    pub(crate) fn put(&mut self, db: usize, key: &[u8], value: Value, expire_at: Option<i64>) {
        self.put_string_as(db, key, value, expire_at, StrEnc::Auto);
    }

    /// `put`, saying how a string was written (OBJECT ENCODING shows it).
    pub(crate) fn put_string_as(
        &mut self,
        db: usize,
        key: &[u8],
        value: Value,
        expire_at: Option<i64>,
        str_enc: StrEnc,
    ) {
        let entry = Entry {
            value,
            expire_at,
            str_enc,
        };
        self.dbs[db].track_expiry(key, expire_at);
        match self.dbs[db].entries.get_mut(key) {
            Some(slot) => {
                let old = std::mem::replace(slot, entry);
                self.mark_replaced(db, key);
                self.changed(db, key, || Delta::Overwritten {
                    key: key.to_vec(),
                    entry: old,
                });
            }
            None => {
                self.dbs[db].entries.insert(key.to_vec(), entry);
                self.mark_replaced(db, key);
                self.changed(db, key, || Delta::Created { key: key.to_vec() });
                self.notify(notify::NEW, "new", db, key);
            }
        }
    }

    /// Sets the string at `index` (from [`live_index`](Self::live_index),
    /// the keyspace unchanged since), `key`'s, to `bytes`, keeping its
    /// expiry (INCR and its kind): what `put_string_as` does when the key
    /// exists, without looking it up again and without a new buffer when
    /// nobody keeps the old value. False (nothing done) if the entry holds
    /// another type.
    pub(crate) fn rewrite_string_at(
        &mut self,
        db: usize,
        index: usize,
        key: &[u8],
        bytes: &[u8],
        str_enc: StrEnc,
    ) -> bool {
        let Some(entry) = self.dbs[db].entries.get_index_mut(index) else {
            return false;
        };
        let Value::String(value) = &mut entry.value else {
            return false;
        };
        let old_enc = std::mem::replace(&mut entry.str_enc, str_enc);
        if let Some(observer) = self.observer.as_mut() {
            observer.string_was(db, key, value, entry.expire_at, old_enc);
        }
        value.clear();
        value.extend_from_slice(bytes);
        self.mark_replaced(db, key);
        self.counted(db, key);
        true
    }

    pub(crate) fn remove(&mut self, db: usize, key: &[u8]) -> Option<Value> {
        let (position, entry) = self.dbs[db].remove(key)?;
        let recorded = self.observer.is_some().then(|| entry.clone());
        self.mark_replaced(db, key);
        self.changed(db, key, || Delta::Removed {
            key: key.to_vec(),
            entry: recorded.expect("observer present"),
            position,
        });
        Some(entry.value)
    }

    pub(crate) fn set_expire(&mut self, db: usize, key: &[u8], expire_at: Option<i64>) {
        let Some(entry) = self.dbs[db].entries.get_mut(key) else {
            return;
        };
        let old = std::mem::replace(&mut entry.expire_at, expire_at);
        if old == expire_at {
            return;
        }
        self.dbs[db].track_expiry(key, expire_at);
        self.changed(db, key, || Delta::Expire {
            key: key.to_vec(),
            expire_at: old,
        });
    }

    /// Removes every key of one database, or of all (`None`).
    pub(crate) fn flush(&mut self, db: Option<usize>) {
        let range = match db {
            Some(d) => d..d + 1,
            None => 0..DATABASES,
        };
        // Tracking clients hear of a flush as one null, not key by key.
        let tracking = std::mem::take(&mut self.tracking);
        if tracking {
            self.tracking_modified.push((None, self.modifier));
        }
        self.flush_dbs(range);
        self.tracking = tracking;
    }

    fn flush_dbs(&mut self, range: std::ops::Range<usize>) {
        for d in range {
            if self.observer.is_none() && self.interest.is_empty() {
                self.changes += self.dbs[d].len() as u64;
                self.dirty += self.dbs[d].len() as u64;
                self.dbs[d] = Db::default();
                continue;
            }
            while let Some((key, _)) = self.dbs[d].entries.last() {
                let key = key.clone();
                self.remove(d, &key);
            }
        }
    }

    pub(crate) fn swap_dbs(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
        self.changes += 1;
        self.dirty += 1;
        if let Some(observer) = self.observer.as_mut() {
            observer.record(a, Delta::SwappedWith { other: b });
        }
        if !self.interest.is_empty() {
            let keys: Vec<(usize, Bytes)> = self
                .interest
                .keys()
                .filter(|(d, k)| {
                    (*d == a || *d == b)
                        && (self.dbs[a].entries.contains_key(k)
                            || self.dbs[b].entries.contains_key(k))
                })
                .cloned()
                .collect();
            self.replaced.extend(keys.iter().cloned());
            self.signaled.extend(keys);
        }
    }

    fn value_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Value> {
        self.dbs[db].entries.get_mut(key).map(|e| &mut e.value)
    }

    fn create_if_absent(&mut self, db: usize, key: &[u8], make: impl FnOnce() -> Value) {
        if !self.dbs[db].entries.contains_key(key) {
            self.put(db, key, make(), None);
        }
    }

    fn remove_if_empty(&mut self, db: usize, key: &[u8]) {
        let empty = match self.dbs[db].entries.get(key).map(|e| &e.value) {
            Some(Value::List(l)) => l.is_empty(),
            Some(Value::Hash(h)) => h.map.is_empty(),
            Some(Value::Set(s)) => s.members.is_empty(),
            Some(Value::ZSet(z)) => z.is_empty(),
            _ => false,
        };
        if empty {
            self.remove(db, key);
        }
    }

    // ---- lists ------------------------------------------------------------

    pub(crate) fn list_push(
        &mut self,
        db: usize,
        key: &[u8],
        side: Side,
        items: Vec<Bytes>,
    ) -> usize {
        self.create_if_absent(db, key, || Value::List(VecDeque::new()));
        let count = items.len();
        let Some(Value::List(list)) = self.value_mut(db, key) else {
            unreachable!("list_push on a non-list")
        };
        for item in items {
            match side {
                Side::Left => list.push_front(item),
                Side::Right => list.push_back(item),
            }
        }
        let len = list.len();
        self.changed(db, key, || Delta::ListPushed {
            key: key.to_vec(),
            side,
            count,
        });
        len
    }

    pub(crate) fn list_pop(
        &mut self,
        db: usize,
        key: &[u8],
        side: Side,
        count: usize,
    ) -> Vec<Bytes> {
        let Some(Value::List(list)) = self.value_mut(db, key) else {
            return Vec::new();
        };
        let mut items = Vec::with_capacity(count.min(list.len()));
        while items.len() < count {
            let item = match side {
                Side::Left => list.pop_front(),
                Side::Right => list.pop_back(),
            };
            match item {
                Some(item) => items.push(item),
                None => break,
            }
        }
        if !items.is_empty() {
            let recorded = if self.observer.is_some() {
                items.clone()
            } else {
                Vec::new()
            };
            self.changed(db, key, || Delta::ListPopped {
                key: key.to_vec(),
                side,
                items: recorded,
            });
            self.remove_if_empty(db, key);
        }
        items
    }

    pub(crate) fn list_set(&mut self, db: usize, key: &[u8], index: usize, item: Bytes) {
        let Some(Value::List(list)) = self.value_mut(db, key) else {
            return;
        };
        let old = std::mem::replace(&mut list[index], item);
        self.changed(db, key, || Delta::ListItem {
            key: key.to_vec(),
            index,
            old,
        });
    }

    /// Replaces a list as a whole (LREM, LINSERT, LTRIM, SORT STORE); an
    /// empty list deletes the key.
    pub(crate) fn list_replace(&mut self, db: usize, key: &[u8], list: VecDeque<Bytes>) {
        if list.is_empty() {
            self.remove(db, key);
            return;
        }
        let expire_at = self.dbs[db].entries.get(key).and_then(|e| e.expire_at);
        self.put(db, key, Value::List(list), expire_at);
    }

    // ---- SCAN -------------------------------------------------------------

    /// One SCAN call over a database's keys, expired ones included (the
    /// command filters them as Redis does); the next cursor. Builds the
    /// keyspace's buckets on first use: not a change.
    pub(crate) fn scan_keys(&mut self, db: usize, cursor: u64, count: usize) -> (u64, Vec<Bytes>) {
        let mut keys = Vec::new();
        let next = self.dbs[db]
            .entries
            .scan(cursor, count, |k, _| keys.push(k.clone()));
        (next, keys)
    }

    /// One HSCAN call of a hash-table hash: fields with values.
    pub(crate) fn scan_hash(
        &mut self,
        db: usize,
        key: &[u8],
        cursor: u64,
        count: usize,
    ) -> (u64, Vec<(Bytes, Bytes)>) {
        let mut page = Vec::new();
        let next = match self.value_mut(db, key) {
            Some(Value::Hash(h)) => h
                .map
                .scan(cursor, count, |f, v| page.push((f.clone(), v.clone()))),
            _ => 0,
        };
        (next, page)
    }

    /// One SSCAN call of a hash-table set.
    pub(crate) fn scan_set(
        &mut self,
        db: usize,
        key: &[u8],
        cursor: u64,
        count: usize,
    ) -> (u64, Vec<Bytes>) {
        let mut page = Vec::new();
        let next = match self.value_mut(db, key) {
            Some(Value::Set(s)) => s.members.scan(cursor, count, |m| page.push(m.clone())),
            _ => 0,
        };
        (next, page)
    }

    /// One ZSCAN call of a skiplist-encoded sorted set: members with scores.
    pub(crate) fn scan_zset(
        &mut self,
        db: usize,
        key: &[u8],
        cursor: u64,
        count: usize,
    ) -> (u64, Vec<(Bytes, f64)>) {
        match self.value_mut(db, key) {
            Some(Value::ZSet(z)) => z.scan(cursor, count),
            _ => (0, Vec::new()),
        }
    }

    // ---- hashes -----------------------------------------------------------

    /// Sets a field; true if the field is new.
    pub(crate) fn hash_set(&mut self, db: usize, key: &[u8], field: &[u8], value: Bytes) -> bool {
        let limits = self.limits;
        self.create_if_absent(db, key, || Value::Hash(Box::default()));
        let Some(Value::Hash(hash)) = self.value_mut(db, key) else {
            unreachable!("hash_set on a non-hash")
        };
        let convert = hash.needs_conversion(field, &value, &limits);
        if convert {
            hash.listpack = false;
        }
        let old = match hash.map.get_full_mut(field) {
            Some((position, _, slot)) => Some((std::mem::replace(slot, value), position)),
            None => {
                hash.map.insert(field.to_vec(), value);
                None
            }
        };
        let created = old.is_none();
        if convert {
            self.converted(db, key);
        }
        self.changed(db, key, || Delta::HashField {
            key: key.to_vec(),
            field: field.to_vec(),
            old,
        });
        created
    }

    pub(crate) fn hash_delete(&mut self, db: usize, key: &[u8], field: &[u8]) -> bool {
        let Some(Value::Hash(hash)) = self.value_mut(db, key) else {
            return false;
        };
        let removed = if hash.listpack {
            hash.map.shift_remove_full(field)
        } else {
            hash.map.swap_remove_full(field)
        };
        let Some((position, _, old)) = removed else {
            return false;
        };
        self.changed(db, key, || Delta::HashField {
            key: key.to_vec(),
            field: field.to_vec(),
            old: Some((old, position)),
        });
        self.remove_if_empty(db, key);
        true
    }

    // ---- sets -------------------------------------------------------------

    /// SPOP's rebuild (spopWithCountCommand's third case, which keeps the
    /// members that stay in a new set made by setTypeCreate): an intset
    /// again when every member left is an integer and they fit one.
    pub(crate) fn set_rebuilt(&mut self, db: usize, key: &[u8]) {
        let limits = self.limits;
        let Some(Value::Set(set)) = self.value_mut(db, key) else {
            return;
        };
        if set.intset
            || set.members.is_empty()
            || set.members.len() > limits.set_intset_entries
            || !set
                .members
                .iter()
                .all(|m| super::numbers::parse_i64(m).is_some())
        {
            return;
        }
        set.intset = true;
        self.changed(db, key, || Delta::Encoding {
            key: key.to_vec(),
            small: false,
        });
        self.dirty -= 1;
    }

    pub(crate) fn set_add(&mut self, db: usize, key: &[u8], member: &[u8]) -> bool {
        let limits = self.limits;
        self.create_if_absent(db, key, || Value::Set(Box::default()));
        let Some(Value::Set(set)) = self.value_mut(db, key) else {
            unreachable!("set_add on a non-set")
        };
        if set.members.contains(member) {
            return false;
        }
        let convert = set.needs_conversion(member, &limits);
        if convert {
            set.intset = false;
        }
        set.members.insert(member.to_vec());
        if convert {
            self.converted(db, key);
        }
        self.changed(db, key, || Delta::SetMember {
            key: key.to_vec(),
            member: member.to_vec(),
            position: None,
        });
        true
    }

    pub(crate) fn set_remove(&mut self, db: usize, key: &[u8], member: &[u8]) -> bool {
        let Some(Value::Set(set)) = self.value_mut(db, key) else {
            return false;
        };
        let Some((position, _)) = set.members.swap_remove_full(member) else {
            return false;
        };
        self.changed(db, key, || Delta::SetMember {
            key: key.to_vec(),
            member: member.to_vec(),
            position: Some(position),
        });
        self.remove_if_empty(db, key);
        true
    }

    // ---- sorted sets ------------------------------------------------------

    /// Moves a small sorted set to the skiplist encoding (SORT does: it
    /// reads the zset through its dict).
    pub(crate) fn zset_to_skiplist(&mut self, db: usize, key: &[u8]) {
        if let Some(Value::ZSet(zset)) = self.value_mut(db, key) {
            if zset.listpack {
                zset.listpack = false;
                self.converted(db, key);
            }
        }
    }

    /// Sets a member's score; returns the previous score.
    pub(crate) fn zset_add(
        &mut self,
        db: usize,
        key: &[u8],
        member: &[u8],
        score: f64,
    ) -> Option<f64> {
        let limits = self.limits;
        self.create_if_absent(db, key, || Value::ZSet(Box::default()));
        let Some(Value::ZSet(zset)) = self.value_mut(db, key) else {
            unreachable!("zset_add on a non-zset")
        };
        let convert = zset.score(member).is_none() && zset.needs_conversion(member, &limits);
        if convert {
            zset.listpack = false;
        }
        let old = zset.insert(member.to_vec(), score);
        if convert {
            self.converted(db, key);
        }
        self.changed(db, key, || Delta::ZSetMember {
            key: key.to_vec(),
            member: member.to_vec(),
            score: old,
        });
        old
    }

    pub(crate) fn zset_remove(&mut self, db: usize, key: &[u8], member: &[u8]) -> bool {
        let Some(Value::ZSet(zset)) = self.value_mut(db, key) else {
            return false;
        };
        let Some(old) = zset.remove(member) else {
            return false;
        };
        self.changed(db, key, || Delta::ZSetMember {
            key: key.to_vec(),
            member: member.to_vec(),
            score: Some(old),
        });
        self.remove_if_empty(db, key);
        true
    }

    // ---- strings edited in place ------------------------------------------

    /// Writes `bytes` at `offset` of the string at `key`, padding it with
    /// zeros first if it is shorter; it is then `raw` (Redis edits it in
    /// place). The key must hold a string. Records only the bytes it
    /// replaced.
    pub(crate) fn string_patch(&mut self, db: usize, key: &[u8], offset: usize, bytes: &[u8]) {
        let Some(entry) = self.dbs[db].entries.get_mut(key) else {
            return;
        };
        let Value::String(s) = &mut entry.value else {
            return;
        };
        let (len, str_enc) = (s.len(), std::mem::replace(&mut entry.str_enc, StrEnc::Raw));
        let end = offset + bytes.len();
        if s.len() < end {
            s.resize(end, 0);
        }
        let old = if self.observer.is_some() {
            s[offset..end].to_vec()
        } else {
            Vec::new()
        };
        s[offset..end].copy_from_slice(bytes);
        self.changed(db, key, || Delta::StringRange {
            key: key.to_vec(),
            offset,
            old,
            len,
            str_enc,
        });
    }

    /// Marks a string `raw`, as Redis does when a command unshares a string
    /// to edit it in place and then changes nothing (OBJECT ENCODING shows
    /// it). Not a modification: WATCH does not see it; undo restores it.
    pub(crate) fn string_make_raw(&mut self, db: usize, key: &[u8]) {
        let Some(Entry {
            value: Value::String(s),
            str_enc,
            ..
        }) = self.dbs[db].entries.get_mut(key)
        else {
            return;
        };
        if *str_enc == StrEnc::Raw {
            return;
        }
        let old = std::mem::replace(str_enc, StrEnc::Raw);
        let len = s.len();
        if let Some(observer) = self.observer.as_mut() {
            observer.record(
                db,
                Delta::StringRange {
                    key: key.to_vec(),
                    offset: 0,
                    old: Vec::new(),
                    len,
                    str_enc: old,
                },
            );
        }
    }

    // ---- streams ------------------------------------------------------------

    fn stream_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Stream> {
        match self.value_mut(db, key) {
            Some(Value::Stream(s)) => Some(s),
            _ => None,
        }
    }

    /// Creates an empty stream if the key is absent.
    pub(crate) fn stream_create(&mut self, db: usize, key: &[u8]) {
        self.create_if_absent(db, key, || Value::Stream(Box::default()));
    }

    /// Appends an entry (its id above the last one) and sets the counters.
    pub(crate) fn stream_add(
        &mut self,
        db: usize,
        key: &[u8],
        id: StreamId,
        fields: StreamFields,
        meta: StreamMeta,
    ) {
        self.stream_create(db, key);
        let limits = self.limits;
        let stream = self.stream_mut(db, key).expect("a stream");
        let nodes = stream.append(id, fields, &limits);
        let old = std::mem::replace(&mut stream.meta, meta);
        self.changed(db, key, || Delta::Stream {
            key: key.to_vec(),
            added: vec![id],
            removed: Vec::new(),
            meta: Box::new((old, nodes)),
            groups: None,
        });
    }

    /// Removes these entries (those present) and sets the counters; returns
    /// how many were removed. A node left with no live entry goes, but for
    /// `keep` (see [`Stream::remove_entries`]).
    pub(crate) fn stream_remove(
        &mut self,
        db: usize,
        key: &[u8],
        ids: &[StreamId],
        keep: Option<StreamId>,
        meta: StreamMeta,
    ) -> usize {
        let observed = self.observer.is_some();
        let Some(stream) = self.stream_mut(db, key) else {
            return 0;
        };
        let mut removed = Vec::new();
        let (count, nodes) = stream.remove_entries(ids, keep, |id, fields| {
            if observed {
                removed.push((id, fields));
            }
        });
        let old = std::mem::replace(&mut stream.meta, meta);
        if count > 0 || old != meta {
            self.changed(db, key, || Delta::Stream {
                key: key.to_vec(),
                added: Vec::new(),
                removed,
                meta: Box::new((old, nodes)),
                groups: None,
            });
        }
        count
    }

    /// Sets the counters (XSETID).
    pub(crate) fn stream_set_meta(&mut self, db: usize, key: &[u8], meta: StreamMeta) {
        self.stream_remove(db, key, &[], None, meta);
    }

    /// Replaces the consumer groups (XGROUP, XREADGROUP, XACK, XCLAIM).
    pub(crate) fn stream_set_groups(&mut self, db: usize, key: &[u8], groups: Groups) {
        let Some(stream) = self.stream_mut(db, key) else {
            return;
        };
        if stream.groups == groups {
            return;
        }
        let old = std::mem::replace(&mut stream.groups, groups);
        let meta = stream.meta;
        self.changed(db, key, || Delta::Stream {
            key: key.to_vec(),
            added: Vec::new(),
            removed: Vec::new(),
            meta: Box::new((meta, Vec::new())),
            groups: Some(Box::new(old)),
        });
    }

    // ---- undo and redo ------------------------------------------------------

    /// Applies one inverse delta. It is not reported to the observer.
    pub fn undo(&mut self, db: usize, delta: Delta) {
        self.apply(db, delta);
    }

    /// Applies a delta (moving the keyspace one change back, or forward
    /// again) and returns the delta that reverts what it just did. It is not
    /// reported to the observer. Time travel is repeated `apply`.
    pub fn apply(&mut self, db: usize, delta: Delta) -> Delta {
        if let Delta::SwappedWith { other } = delta {
            self.dbs.swap(db, other);
            return Delta::SwappedWith { other };
        }
        match delta {
            Delta::Created { key } => match self.unmake(db, &key) {
                Some((position, entry)) => Delta::Removed {
                    key,
                    entry,
                    position,
                },
                None => Delta::Created { key },
            },
            Delta::Removed {
                key,
                entry,
                position,
            } => {
                self.remake(db, key.clone(), entry, position);
                Delta::Created { key }
            }
            Delta::Overwritten { key, entry } => match self.overwrite(db, &key, entry) {
                Some(old) => Delta::Overwritten { key, entry: old },
                None => Delta::Created { key },
            },
            delta => self.apply_in_entry(db, delta),
        }
    }

    /// `apply` of `Delta::Created`, the key borrowed: its entry and place,
    /// removed (None: it was absent).
    pub(crate) fn unmake(&mut self, db: usize, key: &[u8]) -> Option<(usize, Entry)> {
        self.dbs[db].remove(key)
    }

    /// `apply` of `Delta::Removed`.
    pub(crate) fn remake(&mut self, db: usize, key: Bytes, entry: Entry, position: usize) {
        self.dbs[db].insert_at(key, entry, position);
    }

    /// `apply` of `Delta::Overwritten`, the key borrowed: the entry it
    /// replaced (None: the key was absent, and is created).
    pub(crate) fn overwrite(&mut self, db: usize, key: &[u8], entry: Entry) -> Option<Entry> {
        let d = &mut self.dbs[db];
        d.track_expiry(key, entry.expire_at);
        match d.entries.get_mut(key) {
            Some(slot) => Some(std::mem::replace(slot, entry)),
            None => {
                d.entries.insert(key.to_vec(), entry);
                None
            }
        }
    }

    /// `apply` of the deltas inside an entry (and its expiry).
    fn apply_in_entry(&mut self, db: usize, delta: Delta) -> Delta {
        let d = &mut self.dbs[db];
        match delta {
            Delta::Expire { key, expire_at } => {
                let old = d
                    .entries
                    .get_mut(&key)
                    .map(|e| std::mem::replace(&mut e.expire_at, expire_at))
                    .unwrap_or(None);
                let now = d.entries.get(&key).and_then(|e| e.expire_at);
                d.track_expiry(&key, now);
                Delta::Expire {
                    key,
                    expire_at: old,
                }
            }
            Delta::HashField { key, field, old } => {
                let Some(Entry {
                    value: Value::Hash(h),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::HashField { key, field, old };
                };
                match old {
                    None => {
                        let removed = if h.listpack {
                            h.map.shift_remove_full(&field)
                        } else {
                            h.map.swap_remove_full(&field)
                        };
                        let old = removed.map(|(position, _, value)| (value, position));
                        Delta::HashField { key, field, old }
                    }
                    Some((value, position)) => {
                        if let Some((current_position, _, slot)) = h.map.get_full_mut(&field) {
                            let previous = std::mem::replace(slot, value);
                            Delta::HashField {
                                key,
                                field,
                                old: Some((previous, current_position)),
                            }
                        } else {
                            if h.listpack {
                                h.map.shift_insert(position, field.clone(), value);
                            } else {
                                h.map.insert(field.clone(), value);
                                let last = h.map.len() - 1;
                                h.map.swap_indices(position, last);
                            }
                            Delta::HashField {
                                key,
                                field,
                                old: None,
                            }
                        }
                    }
                }
            }
            Delta::SetMember {
                key,
                member,
                position,
            } => {
                let Some(Entry {
                    value: Value::Set(s),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::SetMember {
                        key,
                        member,
                        position,
                    };
                };
                match position {
                    None => {
                        let position = s.members.swap_remove_full(&member).map(|(p, _)| p);
                        Delta::SetMember {
                            key,
                            member,
                            position,
                        }
                    }
                    Some(position) => {
                        s.members.insert(member.clone());
                        let last = s.members.len() - 1;
                        s.members.swap_indices(position, last);
                        Delta::SetMember {
                            key,
                            member,
                            position: None,
                        }
                    }
                }
            }
            Delta::ZSetMember { key, member, score } => {
                let Some(Entry {
                    value: Value::ZSet(z),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::ZSetMember { key, member, score };
                };
                let previous = match score {
                    None => z.remove(&member),
                    Some(score) => z.insert(member.clone(), score),
                };
                Delta::ZSetMember {
                    key,
                    member,
                    score: previous,
                }
            }
            Delta::ListPushed { key, side, count } => {
                let Some(Entry {
                    value: Value::List(l),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::ListPushed { key, side, count };
                };
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    let item = match side {
                        Side::Left => l.pop_front(),
                        Side::Right => l.pop_back(),
                    };
                    items.extend(item);
                }
                Delta::ListPopped { key, side, items }
            }
            Delta::ListPopped { key, side, items } => {
                let Some(Entry {
                    value: Value::List(l),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::ListPopped { key, side, items };
                };
                let count = items.len();
                for item in items.into_iter().rev() {
                    match side {
                        Side::Left => l.push_front(item),
                        Side::Right => l.push_back(item),
                    }
                }
                Delta::ListPushed { key, side, count }
            }
            Delta::ListItem { key, index, old } => {
                match d.entries.get_mut(&key).map(|e| &mut e.value) {
                    Some(Value::List(l)) if index < l.len() => {
                        let current = std::mem::replace(&mut l[index], old);
                        Delta::ListItem {
                            key,
                            index,
                            old: current,
                        }
                    }
                    _ => Delta::ListItem { key, index, old },
                }
            }
            Delta::Encoding { key, small } => {
                let flag = match d.entries.get_mut(&key).map(|e| &mut e.value) {
                    Some(Value::Hash(h)) => Some(&mut h.listpack),
                    Some(Value::Set(s)) => Some(&mut s.intset),
                    Some(Value::ZSet(z)) => Some(&mut z.listpack),
                    _ => None,
                };
                let previous = flag.map(|f| std::mem::replace(f, small)).unwrap_or(small);
                Delta::Encoding {
                    key,
                    small: previous,
                }
            }
            Delta::StringRange {
                key,
                offset,
                old,
                len,
                str_enc,
            } => match d.entries.get_mut(&key) {
                Some(Entry {
                    value: Value::String(s),
                    str_enc: enc,
                    ..
                }) => {
                    let current_len = s.len();
                    let end = offset + old.len();
                    if s.len() < end {
                        s.resize(end, 0);
                    }
                    let current = s[offset..end].to_vec();
                    s[offset..end].copy_from_slice(&old);
                    s.resize(len, 0);
                    Delta::StringRange {
                        key,
                        offset,
                        old: current,
                        len: current_len,
                        str_enc: std::mem::replace(enc, str_enc),
                    }
                }
                _ => Delta::StringRange {
                    key,
                    offset,
                    old,
                    len,
                    str_enc,
                },
            },
            Delta::Stream {
                key,
                added,
                removed,
                meta,
                groups,
            } => {
                let Some(Entry {
                    value: Value::Stream(st),
                    ..
                }) = d.entries.get_mut(&key)
                else {
                    return Delta::Stream {
                        key,
                        added,
                        removed,
                        meta,
                        groups,
                    };
                };
                let mut now_removed = Vec::with_capacity(added.len());
                for id in added {
                    if let Some(fields) = st.entries.remove(&id) {
                        now_removed.push((id, fields));
                    }
                }
                let mut now_added = Vec::with_capacity(removed.len());
                for (id, fields) in removed {
                    st.entries.insert(id, fields);
                    now_added.push(id);
                }
                let (mut counters, nodes) = *meta;
                std::mem::swap(&mut st.meta, &mut counters);
                let meta = Box::new((counters, st.apply_patch(nodes)));
                let groups = groups.map(|g| Box::new(std::mem::replace(&mut st.groups, *g)));
                Delta::Stream {
                    key,
                    added: now_added,
                    removed: now_removed,
                    meta,
                    groups,
                }
            }
            Delta::SwappedWith { .. }
            | Delta::Created { .. }
            | Delta::Removed { .. }
            | Delta::Overwritten { .. } => unreachable!("handled by apply"),
        }
    }

    /// Copies one entry into this keyspace (the trace's view starts from the
    /// final values of the keys a run touched).
    pub(crate) fn copy_entry_from(&mut self, source: &Keyspace, db: usize, key: &[u8]) {
        if let Some((position, _, entry)) = source.dbs[db].entries.get_full(key) {
            let entry = entry.clone();
            let position = position.min(self.dbs[db].len());
            self.dbs[db].insert_at(key.to_vec(), entry, position);
        }
    }

    /// Copies a whole database (a SWAPDB inside a traced run).
    pub(crate) fn copy_db_from(&mut self, source: &Keyspace, db: usize) {
        self.dbs[db] = source.dbs[db].clone();
    }
}
