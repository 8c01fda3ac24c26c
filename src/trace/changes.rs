//! A trace's deltas, kept small. Most changes a script makes are a short
//! string overwritten (INCR, SET of a counter) or a key created; those sit
//! in a 16-byte slot that names its key by number (each key is stored once)
//! and holds the old bytes inline. So does a one-byte edit in place (SETBIT,
//! BITFIELD, a HyperLogLog register). A removed key's slot boxes only its
//! entry and place; every other change is boxed whole.
//!
//! A slot is read as a [`Change`] (decoded: the key and value copied out);
//! applying one to a keyspace gives the change that reverses it, which goes
//! back into the same slot ([`Changes::flip`], which borrows a compact
//! slot's key from the store instead of copying it): the debugger moves its
//! view with these, forwards and backwards.

use std::ops::Range;

use crate::engine::keyspace::{Entry, Keyspace, StrEnc};
use crate::engine::value::Value;
use crate::engine::{Bytes, Delta, FastMap};

use super::Change;

/// Longest string a slot holds inline.
const INLINE: usize = 8;

#[derive(Clone, Debug, PartialEq)]
enum Slot {
    /// The key held a string of `len` bytes (`bytes`), without an expiry.
    Short {
        db: u8,
        enc: StrEnc,
        len: u8,
        bytes: [u8; INLINE],
        key: u32,
    },
    /// The key did not exist.
    Created {
        db: u8,
        key: u32,
    },
    /// The key held this entry at this place among its database's keys
    /// (`Delta::Removed`: what crossing a created key backwards gives).
    Removed {
        db: u8,
        key: u32,
        was: Box<(Entry, usize)>,
    },
    /// One byte of the string edited in place (`Delta::StringRange` of one
    /// byte: SETBIT, BITFIELD, a HyperLogLog register), the string `len`
    /// bytes long before.
    Byte {
        db: u8,
        enc: StrEnc,
        old: u8,
        key: u32,
        offset: u32,
        len: u32,
    },
    Boxed(Box<Change>),
}

/// The bytes of a slot.
pub(crate) const SLOT: usize = std::mem::size_of::<Slot>();

const _: () = assert!(SLOT == 16);

/// The entry a `Slot::Short` holds.
fn short_entry(enc: StrEnc, len: u8, bytes: &[u8; INLINE]) -> Entry {
    Entry {
        value: Value::String(bytes[..usize::from(len)].to_vec()),
        expire_at: None,
        str_enc: enc,
    }
}

/// A short string's bytes as a slot holds them (at most [`INLINE`]).
fn inline(bytes: &[u8]) -> [u8; INLINE] {
    let mut inline = [0; INLINE];
    inline[..bytes.len()].copy_from_slice(bytes);
    inline
}

/// What a change is about, read without decoding it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target<'a> {
    Key(usize, &'a [u8]),
    /// SWAPDB of this database with `other`.
    Swapped(usize, usize),
}

/// The deltas of a trace, step after step (see [`super::Step::deltas_end`]).
#[derive(Clone, Debug, Default)]
pub struct Changes {
    slots: Vec<Slot>,
    /// Each key a slot names, once.
    keys: Vec<Bytes>,
    ids: FastMap<Bytes, u32>,
    /// The key named last.
    last: u32,
    /// The heap the keys hold (see [`Changes::held`]).
    key_bytes: usize,
}

impl FromIterator<Change> for Changes {
    fn from_iter<I: IntoIterator<Item = Change>>(changes: I) -> Changes {
        let mut store = Changes::default();
        for (db, delta) in changes {
            store.push(db, delta);
        }
        store
    }
}

impl Changes {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The heap it holds, the room its vectors grew to included.
    pub(crate) fn held(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.keys.capacity() * std::mem::size_of::<Bytes>()
            + self.key_bytes
    }

    /// The bytes a boxed slot holds beyond the slot (0 for a compact one).
    pub(crate) fn boxed_size(&self, i: usize) -> usize {
        match &self.slots[i] {
            Slot::Boxed(change) => std::mem::size_of::<Change>() + super::delta_size(&change.1),
            Slot::Removed { was, .. } => {
                std::mem::size_of::<(Entry, usize)>() + super::value_size(&was.0.value)
            }
            _ => 0,
        }
    }

    /// Makes room for `more` slots. A large vector grows by an eighth,
    /// not by doubling (see [`super::room_for`]).
    pub(crate) fn reserve(&mut self, more: usize) {
        super::room_for(&mut self.slots, more);
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
        self.keys.shrink_to_fit();
    }

    /// Adds a change; returns the heap a boxed one holds beyond its slot
    /// (the slots and keys are counted by [`Changes::held`]).
    pub(crate) fn push(&mut self, db: usize, delta: Delta) -> usize {
        let slot = self.encode(db, delta);
        super::room_for(&mut self.slots, 1);
        self.slots.push(slot);
        self.boxed_size(self.slots.len() - 1)
    }

    /// Adds `Delta::Overwritten` of a string (see
    /// [`crate::engine::Observer::string_was`]); returns what
    /// [`Changes::push`] does.
    pub(crate) fn push_string(
        &mut self,
        db: usize,
        key: &[u8],
        old: &[u8],
        expire_at: Option<i64>,
        str_enc: StrEnc,
    ) -> usize {
        match u8::try_from(db) {
            Ok(small_db) if expire_at.is_none() && old.len() <= INLINE => {
                let slot = self.short(small_db, key, old, str_enc);
                super::room_for(&mut self.slots, 1);
                self.slots.push(slot);
                0
            }
            _ => self.push(db, Delta::string_was(key, old, expire_at, str_enc)),
        }
    }

    /// The change in slot `i`, decoded.
    pub fn get(&self, i: usize) -> Change {
        match &self.slots[i] {
            Slot::Short {
                db,
                enc,
                len,
                bytes,
                key,
            } => (
                usize::from(*db),
                Delta::Overwritten {
                    key: self.keys[*key as usize].clone(),
                    entry: short_entry(*enc, *len, bytes),
                },
            ),
            Slot::Created { db, key } => (
                usize::from(*db),
                Delta::Created {
                    key: self.keys[*key as usize].clone(),
                },
            ),
            Slot::Removed { db, key, was } => {
                let (entry, position) = (**was).clone();
                (
                    usize::from(*db),
                    Delta::Removed {
                        key: self.keys[*key as usize].clone(),
                        entry,
                        position,
                    },
                )
            }
            slot @ Slot::Byte { .. } => self.decode_byte(slot),
            Slot::Boxed(change) => (**change).clone(),
        }
    }

    /// A `Slot::Byte`'s change.
    fn decode_byte(&self, slot: &Slot) -> Change {
        let Slot::Byte {
            db,
            enc,
            old,
            key,
            offset,
            len,
        } = *slot
        else {
            unreachable!("decode_byte of another slot")
        };
        (
            usize::from(db),
            Delta::StringRange {
                key: self.keys[key as usize].clone(),
                offset: offset as usize,
                old: vec![old],
                len: len as usize,
                str_enc: enc,
            },
        )
    }

    /// The changes in `range`, decoded, in order.
    pub fn range(&self, range: Range<usize>) -> impl DoubleEndedIterator<Item = Change> + '_ {
        range.map(|i| self.get(i))
    }

    /// Every change, decoded, in order.
    pub fn to_vec(&self) -> Vec<Change> {
        self.range(0..self.len()).collect()
    }

    /// What slot `i` is about.
    pub(crate) fn target(&self, i: usize) -> Target<'_> {
        match &self.slots[i] {
            Slot::Short { db, key, .. }
            | Slot::Created { db, key }
            | Slot::Removed { db, key, .. }
            | Slot::Byte { db, key, .. } => {
                Target::Key(usize::from(*db), &self.keys[*key as usize])
            }
            Slot::Boxed(change) => match &change.1 {
                Delta::SwappedWith { other } => Target::Swapped(change.0, *other),
                delta => Target::Key(change.0, delta.key().expect("a keyed delta")),
            },
        }
    }

    /// Each (database, key) the changes name, once, in the order first
    /// named (a SWAPDB names no key). A loop changes the same key slot after
    /// slot: a compact slot naming the last one's key is passed over by
    /// its number, without reading the key.
    pub(crate) fn keys_named(&self) -> Vec<(usize, Vec<u8>)> {
        let mut named = Vec::new();
        let mut seen: std::collections::HashSet<(usize, &[u8]), foldhash::fast::RandomState> =
            Default::default();
        let mut last: Option<(u8, u32)> = None;
        for (i, slot) in self.slots.iter().enumerate() {
            let compact = match slot {
                Slot::Short { db, key, .. }
                | Slot::Created { db, key }
                | Slot::Removed { db, key, .. }
                | Slot::Byte { db, key, .. } => Some((*db, *key)),
                Slot::Boxed(_) => None,
            };
            if compact.is_some() && compact == last {
                continue;
            }
            last = compact;
            if let Target::Key(db, key) = self.target(i) {
                if seen.insert((db, key)) {
                    named.push((db, key.to_vec()));
                }
            }
        }
        named
    }

    /// Reverses the order of the slots in `range`.
    pub(crate) fn reverse(&mut self, range: Range<usize>) {
        self.slots[range].reverse();
    }

    /// Applies each change of `range` to `keyspace`, in order, puts the
    /// change that reverses it in its place, and reverses the range: its
    /// changes then undo what they just did (forwards become backwards and
    /// back).
    pub(crate) fn flip(&mut self, range: Range<usize>, keyspace: &mut Keyspace) {
        for i in range.clone() {
            let slot = std::mem::replace(&mut self.slots[i], Slot::Created { db: 0, key: 0 });
            // A compact slot's key is borrowed from the store, and its
            // inverse names the same key: no copy of it, no lookup.
            self.slots[i] = match slot {
                Slot::Created { db, key } => {
                    match keyspace.unmake(usize::from(db), &self.keys[key as usize]) {
                        Some((position, entry)) => Slot::Removed {
                            db,
                            key,
                            was: Box::new((entry, position)),
                        },
                        None => Slot::Created { db, key },
                    }
                }
                Slot::Removed { db, key, was } => {
                    let (entry, position) = *was;
                    let name = self.keys[key as usize].clone();
                    keyspace.remake(usize::from(db), name, entry, position);
                    Slot::Created { db, key }
                }
                Slot::Short {
                    db,
                    enc,
                    len,
                    bytes,
                    key,
                } => {
                    let entry = short_entry(enc, len, &bytes);
                    match keyspace.overwrite(usize::from(db), &self.keys[key as usize], entry) {
                        Some(old) => self.overwritten(db, key, old),
                        None => Slot::Created { db, key },
                    }
                }
                slot @ Slot::Byte { db, .. } => {
                    let (_, delta) = self.decode_byte(&slot);
                    let inverse = keyspace.apply(usize::from(db), delta);
                    self.encode(usize::from(db), inverse)
                }
                Slot::Boxed(change) => {
                    let (db, delta) = *change;
                    let inverse = keyspace.apply(db, delta);
                    self.encode(db, inverse)
                }
            };
        }
        self.slots[range].reverse();
    }

    /// `Delta::Overwritten` of the key numbered `key`, compact if it can be.
    fn overwritten(&mut self, db: u8, key: u32, entry: Entry) -> Slot {
        match entry {
            Entry {
                value: Value::String(s),
                expire_at: None,
                str_enc,
            } if s.len() <= INLINE => Slot::Short {
                db,
                enc: str_enc,
                len: s.len() as u8,
                bytes: inline(&s),
                key,
            },
            entry => Slot::Boxed(Box::new((
                usize::from(db),
                Delta::Overwritten {
                    key: self.keys[key as usize].clone(),
                    entry,
                },
            ))),
        }
    }

    fn encode(&mut self, db: usize, delta: Delta) -> Slot {
        let Ok(small_db) = u8::try_from(db) else {
            return Slot::Boxed(Box::new((db, delta)));
        };
        match delta {
            Delta::Created { key } => Slot::Created {
                db: small_db,
                key: self.id(&key),
            },
            Delta::Overwritten {
                key,
                entry:
                    Entry {
                        value: Value::String(s),
                        expire_at: None,
                        str_enc,
                    },
            } if s.len() <= INLINE => self.short(small_db, &key, &s, str_enc),
            Delta::Removed {
                key,
                entry,
                position,
            } => Slot::Removed {
                db: small_db,
                key: self.id(&key),
                was: Box::new((entry, position)),
            },
            Delta::StringRange {
                ref key,
                offset,
                ref old,
                len,
                str_enc,
            } if old.len() == 1 && u32::try_from(offset.max(len)).is_ok() => Slot::Byte {
                db: small_db,
                enc: str_enc,
                old: old[0],
                key: self.id(key),
                offset: offset as u32,
                len: len as u32,
            },
            delta => Slot::Boxed(Box::new((db, delta))),
        }
    }

    fn short(&mut self, db: u8, key: &[u8], old: &[u8], enc: StrEnc) -> Slot {
        Slot::Short {
            db,
            enc,
            len: old.len() as u8,
            bytes: inline(old),
            key: self.id(key),
        }
    }

    /// The key's number, stored on first sight.
    fn id(&mut self, key: &[u8]) -> u32 {
        // A loop changes the same key again and again.
        if self.keys.get(self.last as usize).map(Vec::as_slice) == Some(key) {
            return self.last;
        }
        if let Some(&id) = self.ids.get(key) {
            self.last = id;
            return id;
        }
        let id = u32::try_from(self.keys.len()).expect("a trace names fewer than 2^32 keys");
        // Each key twice (the list and the map), with the map's slot.
        self.key_bytes += 2 * key.len() + std::mem::size_of::<(Bytes, u32)>() + 8;
        self.keys.push(key.to_vec());
        self.ids.insert(key.to_vec(), id);
        self.last = id;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(s: &str, enc: StrEnc, expire_at: Option<i64>) -> Entry {
        Entry {
            value: Value::String(s.as_bytes().to_vec()),
            expire_at,
            str_enc: enc,
        }
    }

    /// Every kind of change reads back as it went in, compact or boxed.
    #[test]
    fn changes_read_back_as_they_went_in() {
        let changes: Vec<Change> = vec![
            (0, Delta::Created { key: b"a".to_vec() }),
            (
                3,
                Delta::Overwritten {
                    key: b"a".to_vec(),
                    entry: string("12345678", StrEnc::Raw, None),
                },
            ),
            (
                0,
                Delta::Overwritten {
                    key: b"b".to_vec(),
                    entry: string("123456789", StrEnc::Auto, None),
                },
            ),
            (
                0,
                Delta::Overwritten {
                    key: b"c".to_vec(),
                    entry: string("", StrEnc::NoInt, Some(5)),
                },
            ),
            (300, Delta::Created { key: b"d".to_vec() }),
            (1, Delta::SwappedWith { other: 2 }),
            (
                2,
                Delta::Removed {
                    key: b"a".to_vec(),
                    entry: string("a list's worth", StrEnc::Auto, Some(7)),
                    position: 3,
                },
            ),
        ];
        let store: Changes = changes.iter().cloned().collect();
        assert_eq!(store.to_vec(), changes);
        // The first two are compact and share their key.
        assert_eq!(store.keys, vec![b"a".to_vec()]);
        assert!(matches!(store.slots[1], Slot::Short { db: 3, .. }));
        assert!(matches!(store.slots[2], Slot::Boxed(_)));
        assert_eq!(store.target(1), Target::Key(3, b"a"));
        assert_eq!(store.target(5), Target::Swapped(1, 2));
        assert!(matches!(
            store.slots[6],
            Slot::Removed { db: 2, key: 0, .. }
        ));
    }

    /// A one-byte edit in place (SETBIT's) is compact, reads back as it
    /// went in, and flips: the byte goes back, then forward again; a wider
    /// edit stays boxed.
    #[test]
    fn a_one_byte_edit_is_compact_and_flips() {
        let range = |offset: usize, old: &[u8], len: usize| Delta::StringRange {
            key: b"bits".to_vec(),
            offset,
            old: old.to_vec(),
            len,
            str_enc: StrEnc::Raw,
        };
        let mut keyspace = Keyspace::default();
        keyspace.apply(
            0,
            Delta::Overwritten {
                key: b"bits".to_vec(),
                entry: string("ab", StrEnc::Raw, None),
            },
        );
        // What SETBIT bits 9 1 did to "ab" ('b' = 0x62 became 0x42 | ...):
        // byte 1 was 'b', the string 2 bytes long.
        keyspace.apply(0, range(1, b"c", 2));
        let mut store: Changes = [(0, range(1, b"b", 2)), (0, range(0, b"xy", 3))]
            .into_iter()
            .collect();
        assert!(matches!(
            store.slots[0],
            Slot::Byte {
                old: b'b',
                offset: 1,
                len: 2,
                key: 0,
                ..
            }
        ));
        assert!(matches!(store.slots[1], Slot::Boxed(_)));
        assert_eq!(store.get(0), (0, range(1, b"b", 2)));
        assert_eq!(store.target(0), Target::Key(0, b"bits"));
        let value = |k: &Keyspace| match k.db(0).entry(b"bits").map(|e| &e.value) {
            Some(Value::String(s)) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(value(&keyspace), b"ac");
        store.flip(0..1, &mut keyspace);
        assert_eq!(value(&keyspace), b"ab");
        assert!(matches!(store.slots[0], Slot::Byte { old: b'c', .. }));
        store.flip(0..1, &mut keyspace);
        assert_eq!(value(&keyspace), b"ac");
        assert_eq!(store.get(0), (0, range(1, b"b", 2)));
    }

    /// Flipping twice gives the keyspace and the changes back.
    #[test]
    fn a_flip_reverses_and_a_second_restores() {
        let mut keyspace = Keyspace::default();
        let mut store = Changes::default();
        // Recorded as inverse deltas of: create a = "1", then a = "22".
        store.push(0, Delta::Created { key: b"a".to_vec() });
        store.push(
            0,
            Delta::Overwritten {
                key: b"a".to_vec(),
                entry: string("1", StrEnc::Auto, None),
            },
        );
        keyspace.apply(
            0,
            Delta::Overwritten {
                key: b"a".to_vec(),
                entry: string("22", StrEnc::Auto, None),
            },
        );
        let recorded = store.to_vec();
        // Undo, last first: the view goes back to before the run.
        store.reverse(0..2);
        store.flip(0..2, &mut keyspace);
        assert!(keyspace.db(0).entry(b"a").is_none());
        store.flip(0..2, &mut keyspace);
        store.reverse(0..2);
        assert_eq!(store.to_vec(), recorded);
        assert_eq!(
            keyspace.db(0).entry(b"a").map(|e| e.value.clone()),
            Some(Value::String(b"22".to_vec()))
        );
    }
}
