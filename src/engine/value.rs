//! The values a key can hold, with the small-encoding details Redis 7.0 lets
//! clients see (hash field order, integer-set order, `-0` scores).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, VecDeque};

use indexmap::{IndexMap, IndexSet};

use super::numbers::parse_i64;

pub type Bytes = Vec<u8>;

/// Defaults of `hash-max-listpack-*`, `zset-max-listpack-*`, `set-max-intset-entries`.
pub const HASH_LISTPACK_ENTRIES: usize = 512;
pub const HASH_LISTPACK_VALUE: usize = 64;
pub const ZSET_LISTPACK_ENTRIES: usize = 128;
pub const ZSET_LISTPACK_VALUE: usize = 64;
pub const SET_INTSET_ENTRIES: usize = 512;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    String(Bytes),
    List(VecDeque<Bytes>),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    List,
    Hash,
    Set,
    ZSet,
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
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding(&self) -> &'static str {
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
        }
    }
}

/// A hash. While small (listpack) Redis keeps insertion order, and so do we;
/// once converted, order is unspecified and removal may reorder.
#[derive(Clone, Debug)]
pub struct Hash {
    pub map: IndexMap<Bytes, Bytes>,
    pub listpack: bool,
}

impl Default for Hash {
    fn default() -> Self {
        Hash {
            map: IndexMap::new(),
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
    pub fn needs_conversion(&self, field: &[u8], value: &[u8]) -> bool {
        self.listpack
            && (self.map.len() >= HASH_LISTPACK_ENTRIES
                || field.len() > HASH_LISTPACK_VALUE
                || value.len() > HASH_LISTPACK_VALUE)
    }
}

/// A set. An intset (all members integers, at most 512) lists its members in
/// ascending numeric order, as Redis does.
#[derive(Clone, Debug)]
pub struct Set {
    pub members: IndexSet<Bytes>,
    pub intset: bool,
}

impl Default for Set {
    fn default() -> Self {
        Set {
            members: IndexSet::new(),
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
    pub fn needs_conversion(&self, member: &[u8]) -> bool {
        self.intset && (self.members.len() >= SET_INTSET_ENTRIES || parse_i64(member).is_none())
    }

    /// Members in the order SMEMBERS gives them.
    pub fn ordered(&self) -> Vec<&Bytes> {
        let mut members: Vec<&Bytes> = self.members.iter().collect();
        if self.intset {
            members.sort_by_key(|m| parse_i64(m).unwrap_or(0));
        }
        members
    }
}

/// A score with the total order Redis uses (scores are never NaN).
#[derive(Clone, Copy, Debug)]
pub struct Score(pub f64);

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
    scores: HashMap<Bytes, f64>,
    order: BTreeSet<(Score, Bytes)>,
    pub listpack: bool,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet {
            scores: HashMap::new(),
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

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    pub fn needs_conversion(&self, member: &[u8]) -> bool {
        self.listpack
            && (self.scores.len() >= ZSET_LISTPACK_ENTRIES || member.len() > ZSET_LISTPACK_VALUE)
    }

    /// Inserts or updates; returns the previous score. A listpack stores
    /// scores as text, so `-0` comes back as `0`.
    pub fn insert(&mut self, member: Bytes, mut score: f64) -> Option<f64> {
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

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let old = self.scores.remove(member)?;
        self.order.remove(&(Score(old), member.to_vec()));
        Some(old)
    }

    /// Members in ascending (score, member) order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Bytes, f64)> + ExactSizeIterator {
        self.order.iter().map(|(s, m)| (m, s.0))
    }

    /// 0-based rank in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.order.range(..(Score(score), member.to_vec())).count())
    }
}
