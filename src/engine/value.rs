//! The values a key can hold, with the small-encoding details Redis 7.0 lets
//! clients see (hash field order, integer-set order, `-0` scores).

use std::cmp::Ordering;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::dict::{ScanMap, ScanSet};

use super::numbers::parse_i64;

pub type Bytes = Vec<u8>;

/// Defaults of `hash-max-listpack-*`, `zset-max-listpack-*`, `set-max-intset-entries`.
pub(crate) const HASH_LISTPACK_ENTRIES: usize = 512;
pub(crate) const HASH_LISTPACK_VALUE: usize = 64;
pub(crate) const ZSET_LISTPACK_ENTRIES: usize = 128;
pub(crate) const ZSET_LISTPACK_VALUE: usize = 64;
pub(crate) const SET_INTSET_ENTRIES: usize = 512;

/// The small-encoding thresholds CONFIG SET can change (Redis's
/// `hash-max-listpack-*`, `zset-max-listpack-*`, `set-max-intset-entries`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub hash_entries: usize,
    pub hash_value: usize,
    pub zset_entries: usize,
    pub zset_value: usize,
    pub set_intset_entries: usize,
    /// `stream-node-max-bytes` and `stream-node-max-entries`: when
    /// XADD starts a new stream node.
    pub stream_node_bytes: usize,
    pub stream_node_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hash_entries: HASH_LISTPACK_ENTRIES,
            hash_value: HASH_LISTPACK_VALUE,
            zset_entries: ZSET_LISTPACK_ENTRIES,
            zset_value: ZSET_LISTPACK_VALUE,
            set_intset_entries: SET_INTSET_ENTRIES,
            stream_node_bytes: STREAM_NODE_MAX_BYTES,
            stream_node_entries: STREAM_NODE_MAX_ENTRIES,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Bytes),
    List(VecDeque<Bytes>),
    // The larger kinds are boxed: an entry stays 56 bytes (the keyspace
    // and every trace delta hold entries inline).
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Hash,
    Set,
    ZSet,
    Stream,
}

impl Kind {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List => "list",
            Kind::Hash => "hash",
            Kind::Set => "set",
            Kind::ZSet => "zset",
            Kind::Stream => "stream",
        }
    }
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::String(_) => Kind::String,
            Value::List(_) => Kind::List,
            Value::Hash(_) => Kind::Hash,
            Value::Set(_) => Kind::Set,
            Value::ZSet(_) => Kind::ZSet,
            Value::Stream(_) => Kind::Stream,
        }
    }

    /// OBJECT ENCODING's answer.
    pub(crate) fn encoding(&self) -> &'static str {
        match self {
            Value::String(s) => {
                if s.len() <= 20 && parse_i64(s).is_some() {
                    "int"
                } else if s.len() <= 44 {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::List(_) => "quicklist",
            Value::Hash(h) => {
                if h.listpack {
                    "listpack"
                } else {
                    "hashtable"
                }
            }
            Value::Set(s) => {
                if s.intset {
                    "intset"
                } else {
                    "hashtable"
                }
            }
            Value::ZSet(z) => {
                if z.listpack {
                    "listpack"
                } else {
                    "skiplist"
                }
            }
            Value::Stream(_) => "stream",
        }
    }
}

/// A hash. While small (listpack) Redis keeps insertion order, and so do we;
/// once converted, order is unspecified and removal may reorder.
#[derive(Clone, Debug)]
pub struct Hash {
    pub map: ScanMap<Bytes>,
    pub listpack: bool,
}

impl Default for Hash {
    fn default() -> Self {
        Hash {
            map: ScanMap::new(),
            listpack: true,
        }
    }
}

impl PartialEq for Hash {
    fn eq(&self, other: &Self) -> bool {
        self.listpack == other.listpack && self.map.iter().eq(other.map.iter())
    }
}

impl Hash {
    pub(crate) fn needs_conversion(&self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        self.listpack
            && (self.map.len() >= limits.hash_entries
                || field.len() > limits.hash_value
                || value.len() > limits.hash_value)
    }
}

/// A set. An intset (all members integers, at most 512) lists its members in
/// ascending numeric order, as Redis does.
#[derive(Clone, Debug)]
pub struct Set {
    pub members: ScanSet,
    pub intset: bool,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            members: ScanSet::new(),
            intset: true,
        }
    }
}

impl PartialEq for Set {
    fn eq(&self, other: &Self) -> bool {
        self.intset == other.intset && self.members.iter().eq(other.members.iter())
    }
}

impl Set {
    pub(crate) fn needs_conversion(&self, member: &[u8], limits: &Limits) -> bool {
        self.intset
            && (self.members.len() >= limits.set_intset_entries || parse_i64(member).is_none())
    }

    /// Members in the order SMEMBERS gives them.
    pub(crate) fn ordered(&self) -> Vec<&Bytes> {
        let mut members: Vec<&Bytes> = self.members.iter().collect();
        if self.intset {
            members.sort_by_key(|m| parse_i64(m).unwrap_or(0));
        }
        members
    }
}

/// A score with the total order Redis uses (scores are never NaN).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Score(pub f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

/// A sorted set: members ordered by (score, member bytes).
#[derive(Clone, Debug)]
pub struct ZSet {
    scores: ScanMap<f64>,
    order: BTreeSet<(Score, Bytes)>,
    pub listpack: bool,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            scores: ScanMap::new(),
            order: BTreeSet::new(),
            listpack: true,
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.listpack == other.listpack
            && self.order.len() == other.order.len()
            && self
                .order
                .iter()
                .zip(other.order.iter())
                .all(|(a, b)| a.0 .0.to_bits() == b.0 .0.to_bits() && a.1 == b.1)
    }
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub(crate) fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    pub(crate) fn needs_conversion(&self, member: &[u8], limits: &Limits) -> bool {
        self.listpack
            && (self.scores.len() >= limits.zset_entries || member.len() > limits.zset_value)
    }

    /// Inserts or updates; returns the previous score. A listpack stores
    /// scores as text, so `-0` comes back as `0`.
    pub(crate) fn insert(&mut self, member: Bytes, mut score: f64) -> Option<f64> {
        if self.listpack && score == 0.0 {
            score = 0.0;
        }
        let old = self.scores.insert(member.clone(), score);
        if let Some(old) = old {
            self.order.remove(&(Score(old), member.clone()));
        }
        self.order.insert((Score(score), member));
        old
    }

    pub(crate) fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let old = self.scores.swap_remove(member)?;
        self.order.remove(&(Score(old), member.to_vec()));
        Some(old)
    }

    /// One ZSCAN call of a skiplist-encoded set (its dict): members with
    /// scores from `cursor`, and the next cursor.
    pub(crate) fn scan(&mut self, cursor: u64, count: usize) -> (u64, Vec<(Bytes, f64)>) {
        let mut page = Vec::new();
        let next = self
            .scores
            .scan(cursor, count, |m, s| page.push((m.clone(), *s)));
        (next, page)
    }

    /// Members in ascending (score, member) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Bytes, f64)> + ExactSizeIterator {
        self.order.iter().map(|(s, m)| (m, s.0))
    }

    /// Members with scores from `min` up, in ascending (score, member) order.
    pub(crate) fn iter_from(&self, min: f64) -> impl Iterator<Item = (&Bytes, f64)> {
        self.order
            .range((Score(min), Bytes::new())..)
            .map(|(s, m)| (m, s.0))
    }

    /// 0-based rank in ascending order.
    pub(crate) fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.order.range(..(Score(score), member.to_vec())).count())
    }
}

/// Defaults of `stream-node-max-entries` and `stream-node-max-bytes`: a
/// stream node (a listpack in Redis's radix tree) takes entries until it
/// holds this many or its listpack would pass this size.
pub(crate) const STREAM_NODE_MAX_ENTRIES: usize = 100;
pub(crate) const STREAM_NODE_MAX_BYTES: usize = 4096;
/// STREAM_LISTPACK_MAX_SIZE: the node size used when the setting is 0 or above it.
const STREAM_LISTPACK_MAX_SIZE: usize = 1 << 30;

/// The bytes a listpack element storing integer `v` takes (encoding and
/// back length).
pub(crate) fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        5
    } else {
        9
    };
    enc + 1
}

/// The bytes a listpack element storing string `s` takes: as an integer
/// when lpStringToInt64 reads it as one, else a 6-, 12- or 32-bit length
/// string; then its back length.
pub(crate) fn lp_str_size(s: &[u8]) -> usize {
    if !s.is_empty() && s.len() <= 20 {
        if let Some(v) = parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let l = s.len()
        + if s.len() < 64 {
            1
        } else if s.len() < 4096 {
            2
        } else {
            5
        };
    l + match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// One stream node as Redis's streamAppendItem fills it: keyed by its
/// master id (its first entry's), holding the entries appended until it was
/// full, deleted ones included (a deletion only flags the entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamNode {
    /// The last entry appended, deleted or not (what MINID trimming reads).
    pub last: StreamId,
    /// The master entry's `count` and `deleted`.
    pub live: usize,
    pub deleted: usize,
    /// The first entry's field names (the master entry's), shared: the
    /// node is copied into an undo patch on every append to it.
    pub master_fields: std::sync::Arc<[Bytes]>,
    /// The bytes the entries take in the listpack.
    pub entry_bytes: usize,
}

impl StreamNode {
    /// lpBytes of the node's listpack: header, master entry, entries,
    /// terminator.
    pub(crate) fn lp_bytes(&self) -> usize {
        7 + lp_int_size(self.live as i64)
            + lp_int_size(self.deleted as i64)
            + lp_int_size(self.master_fields.len() as i64)
            + self
                .master_fields
                .iter()
                .map(|f| lp_str_size(f))
                .sum::<usize>()
            + lp_int_size(0)
            + self.entry_bytes
    }
}

/// The nodes a stream edit touched, each with what it was before (None:
/// it did not exist), for undoing it.
pub(crate) type NodePatch = Vec<(StreamId, Option<StreamNode>)>;

/// A stream entry id, `ms-seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub(crate) const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub(crate) const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn text(self) -> Bytes {
        let (mut ms, mut seq) = (itoa::Buffer::new(), itoa::Buffer::new());
        let (ms, seq) = (
            ms.format(self.ms).as_bytes(),
            seq.format(self.seq).as_bytes(),
        );
        let mut text = Vec::with_capacity(ms.len() + 1 + seq.len());
        text.extend_from_slice(ms);
        text.push(b'-');
        text.extend_from_slice(seq);
        text
    }

    /// The next id, None past the maximum.
    pub(crate) fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            (self.ms != u64::MAX).then(|| StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous id, None before 0-0.
    pub(crate) fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            (self.ms != 0).then(|| StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// An entry's field-value pairs, in the order given to XADD.
pub(crate) type StreamFields = Vec<(Bytes, Bytes)>;

/// The counters a stream keeps besides its entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamMeta {
    pub last_id: StreamId,
    pub entries_added: u64,
    pub max_deleted: StreamId,
}

/// A pending (delivered, not acknowledged) entry of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    pub consumer: Bytes,
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    pub seen_time: i64,
    pub pending: BTreeSet<StreamId>,
}

/// A consumer group: its last delivered id, entries read (None is Redis's
/// "invalid" counter), pending entries list and consumers (name order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    pub last_id: StreamId,
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<Bytes, Consumer>,
}

pub(crate) type Groups = BTreeMap<Bytes, Group>;

/// A stream: entries by id, its counters and its consumer groups (kept in
/// name order, as Redis's radix tree lists them).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    pub entries: BTreeMap<StreamId, StreamFields>,
    /// Redis's nodes, by master id: which entries `~` trimming removes
    /// together (XINFO's radix-tree-keys).
    pub nodes: BTreeMap<StreamId, StreamNode>,
    pub meta: StreamMeta,
    pub groups: Groups,
}

impl Stream {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends an entry as streamAppendItem does: to the last node unless
    /// it is full (its listpack plus the entry's fields and values would
    /// reach `stream-node-max-bytes`, or it has `stream-node-max-entries`
    /// entries, deleted ones included), else to a new node whose master
    /// entry takes this entry's field names.
    pub(crate) fn append(
        &mut self,
        id: StreamId,
        fields: StreamFields,
        limits: &Limits,
    ) -> NodePatch {
        let elements: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let max_bytes = match limits.stream_node_bytes {
            0 => STREAM_LISTPACK_MAX_SIZE,
            n => n.min(STREAM_LISTPACK_MAX_SIZE),
        };
        let full = |node: &StreamNode| {
            node.lp_bytes() + elements >= max_bytes
                || (limits.stream_node_entries != 0
                    && node.live + node.deleted >= limits.stream_node_entries)
        };
        // The last node when it has room, else a new one keyed by this id.
        let (key, before, node) = match self.nodes.last_entry() {
            Some(last) if !full(last.get()) => {
                (*last.key(), Some(last.get().clone()), last.into_mut())
            }
            _ => match self.nodes.entry(id) {
                Entry::Occupied(node) => (id, Some(node.get().clone()), node.into_mut()),
                Entry::Vacant(slot) => (
                    id,
                    None,
                    slot.insert(StreamNode {
                        last: id,
                        live: 0,
                        deleted: 0,
                        master_fields: fields.iter().map(|(f, _)| f.clone()).collect(),
                        entry_bytes: 0,
                    }),
                ),
            },
        };
        let same = node.master_fields.len() == fields.len()
            && node
                .master_fields
                .iter()
                .zip(&fields)
                .all(|(m, (f, _))| m == f);
        let mut bytes = lp_int_size(0) // flags
            + lp_int_size(id.ms.wrapping_sub(key.ms) as i64)
            + lp_int_size(id.seq.wrapping_sub(key.seq) as i64);
        let mut lp_count = fields.len() + 3;
        if same {
            bytes += fields.iter().map(|(_, v)| lp_str_size(v)).sum::<usize>();
        } else {
            bytes += lp_int_size(fields.len() as i64)
                + fields
                    .iter()
                    .map(|(f, v)| lp_str_size(f) + lp_str_size(v))
                    .sum::<usize>();
            lp_count += fields.len() + 1;
        }
        bytes += lp_int_size(lp_count as i64);
        node.entry_bytes += bytes;
        node.live += 1;
        node.last = id;
        self.entries.insert(id, fields);
        vec![(key, before)]
    }

    /// Removes entries: each is flagged deleted in its node, and a node
    /// left without live entries goes (streamIteratorRemoveEntry), except
    /// `keep` (a node exact trimming emptied, which Redis leaves).
    pub(crate) fn remove_entries(
        &mut self,
        ids: &[StreamId],
        keep: Option<StreamId>,
        mut removed: impl FnMut(StreamId, StreamFields),
    ) -> (usize, NodePatch) {
        let mut patch: NodePatch = Vec::new();
        let mut count = 0;
        for id in ids {
            let Some(fields) = self.entries.remove(id) else {
                continue;
            };
            count += 1;
            removed(*id, fields);
            let Some((&key, node)) = self.nodes.range_mut(..=*id).next_back() else {
                continue;
            };
            if !patch.iter().any(|(k, _)| *k == key) {
                patch.push((key, Some(node.clone())));
            }
            node.live = node.live.saturating_sub(1);
            node.deleted += 1;
            if node.live == 0 && keep != Some(key) {
                self.nodes.remove(&key);
            }
        }
        (count, patch)
    }

    /// Puts back nodes as a patch had them; returns the patch undoing that.
    pub(crate) fn apply_patch(&mut self, patch: NodePatch) -> NodePatch {
        let mut undo = Vec::with_capacity(patch.len());
        for (key, node) in patch.into_iter().rev() {
            let now = match node {
                Some(n) => self.nodes.insert(key, n),
                None => self.nodes.remove(&key),
            };
            undo.push((key, now));
        }
        undo
    }

    /// XINFO's radix-tree-nodes: the nodes of Redis's radix tree holding
    /// the node keys (16-byte big-endian ids): the root, a compressed
    /// node for each run shared without branching, a node per branching
    /// and one per key.
    pub(crate) fn radix_tree_nodes(&self) -> usize {
        fn key(id: &StreamId) -> [u8; 16] {
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&id.ms.to_be_bytes());
            k[8..].copy_from_slice(&id.seq.to_be_bytes());
            k
        }
        // Nodes below a point `depth` bytes into these (sorted) keys.
        fn below(keys: &[[u8; 16]], depth: usize) -> usize {
            if depth == 16 {
                return 1;
            }
            let (first, last) = (keys[0], keys[keys.len() - 1]);
            let shared = (depth..16).take_while(|&i| first[i] == last[i]).count();
            if shared > 0 {
                return 1 + below(keys, depth + shared);
            }
            let mut n = 1;
            let mut rest = keys;
            while let Some(head) = rest.first() {
                let same = rest.iter().take_while(|k| k[depth] == head[depth]).count();
                n += below(&rest[..same], depth + 1);
                rest = &rest[same..];
            }
            n
        }
        let keys: Vec<[u8; 16]> = self.nodes.keys().map(key).collect();
        if keys.is_empty() {
            1
        } else {
            below(&keys, 0)
        }
    }

    pub(crate) fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// Redis's streamRangeHasTombstones(s, start, NULL).
    fn has_tombstones(&self, start: StreamId) -> bool {
        if self.entries.is_empty() || self.meta.max_deleted == StreamId::MIN {
            return false;
        }
        if self.first_id() > self.meta.max_deleted {
            return false;
        }
        start <= self.meta.max_deleted
    }

    /// Redis's streamEstimateDistanceFromFirstEverEntry: the logical read
    /// counter of `id`, None when it cannot be known.
    pub(crate) fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        let m = &self.meta;
        if m.entries_added == 0 {
            return Some(0);
        }
        if self.entries.is_empty() && id <= m.last_id {
            return Some(m.entries_added);
        }
        match id.cmp(&m.last_id) {
            Ordering::Equal => return Some(m.entries_added),
            Ordering::Greater => return None,
            Ordering::Less => {}
        }
        let first = self.first_id();
        if m.max_deleted == StreamId::MIN || m.max_deleted < first {
            match id.cmp(&first) {
                Ordering::Less => return Some(m.entries_added - self.entries.len() as u64),
                Ordering::Equal => return Some(m.entries_added - self.entries.len() as u64 + 1),
                Ordering::Greater => {}
            }
        }
        None
    }

    /// Redis's streamReplyWithCGLag: a group's lag, None when unknown.
    pub(crate) fn group_lag(&self, group: &Group) -> Option<u64> {
        if self.meta.entries_added == 0 {
            return Some(0);
        }
        match group.entries_read {
            Some(read) if !self.has_tombstones(group.last_id) => {
                Some(self.meta.entries_added - read)
            }
            _ => self
                .estimate_distance(group.last_id)
                .map(|d| self.meta.entries_added - d),
        }
    }
}
