//! A lesson's TOML front matter as written: serde-derived tables whose
//! values keep their place in the file (`toml::Spanned`). Nothing here
//! fails on a value of the wrong type or an unknown key: each is kept
//! (the type's name, the key and where it is) for `parse`, which tells the
//! instructor "`reply` must be a string, not integer" at the right line.
//! Only TOML that does not parse is an error here.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{
    DeserializeSeed, Deserializer, Error, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde::Deserialize;
use toml::{Spanned, Value};

/// A value of any type, with where it is.
pub(crate) type Field = Option<Spanned<Value>>;

/// The top level (see `lessons/README.md`).
#[derive(Deserialize)]
pub(crate) struct LessonDoc {
    pub id: Field,
    pub title: Field,
    pub order: Field,
    pub setup: Option<Spanned<List>>,
    pub args: Field,
    pub others: Option<Spanned<List>>,
    pub hints: Option<Spanned<List>>,
    pub cluster: Field,
    pub buffers: Option<Spanned<Tables<BufferDoc>>>,
    pub checks: Option<Spanned<Tables<CheckDoc>>>,
}

/// One `[[buffers]]` table.
#[derive(Deserialize)]
pub(crate) struct BufferDoc {
    pub name: Field,
    pub kind: Field,
    pub text: Field,
    pub solution: Field,
}

/// One `[[checks]]` table.
#[derive(Deserialize)]
pub(crate) struct CheckDoc {
    pub name: Field,
    pub setup: Option<Spanned<List>>,
    pub args: Field,
    pub reply: Field,
    pub error: Field,
    pub ok: Field,
    pub keys: Field,
    pub absent: Option<Spanned<List>>,
    pub unchanged: Field,
    pub writes: Field,
    pub probe: Field,
    pub others: Option<Spanned<List>>,
    pub others_saw: Option<Spanned<List>>,
    pub replica: Option<Spanned<List>>,
}

/// What a table is called in problems, and the keys it knows (its
/// fields, in the order the README lists them).
pub(crate) trait Doc {
    const WHAT: &'static str;
    const FIELDS: &'static [&'static str];
}

impl Doc for LessonDoc {
    const WHAT: &'static str = "lesson";
    const FIELDS: &'static [&'static str] = &[
        "id", "title", "order", "setup", "args", "others", "hints", "cluster", "buffers", "checks",
    ];
}

impl Doc for BufferDoc {
    const WHAT: &'static str = "a buffer";
    const FIELDS: &'static [&'static str] = &["name", "kind", "text", "solution"];
}

impl Doc for CheckDoc {
    const WHAT: &'static str = "a check";
    const FIELDS: &'static [&'static str] = &[
        "name",
        "setup",
        "args",
        "reply",
        "error",
        "ok",
        "keys",
        "absent",
        "unchanged",
        "writes",
        "probe",
        "others",
        "others_saw",
        "replica",
    ];
}

/// A table's known keys read as `T`, and the first key it does not know,
/// with where that key is. `doc` is `None` where the value is not a table.
pub(crate) struct Known<T> {
    pub doc: Option<T>,
    pub unknown: Option<Spanned<String>>,
}

impl<'de, T: Deserialize<'de> + Doc> Deserialize<'de> for Known<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KnownVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Doc> Visitor<'de> for KnownVisitor<T> {
            type Value = Known<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} table", T::WHAT)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Known<T>, A::Error> {
                let mut unknown = None;
                let only_known = OnlyKnown {
                    map,
                    fields: T::FIELDS,
                    unknown: &mut unknown,
                };
                let doc = T::deserialize(MapAccessDeserializer::new(only_known))?;
                Ok(Known {
                    doc: Some(doc),
                    unknown,
                })
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Known<T>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(not_a_table())
            }

            fn visit_bool<E: Error>(self, _: bool) -> Result<Known<T>, E> {
                Ok(not_a_table())
            }

            fn visit_i64<E: Error>(self, _: i64) -> Result<Known<T>, E> {
                Ok(not_a_table())
            }

            fn visit_u64<E: Error>(self, _: u64) -> Result<Known<T>, E> {
                Ok(not_a_table())
            }

            fn visit_f64<E: Error>(self, _: f64) -> Result<Known<T>, E> {
                Ok(not_a_table())
            }

            fn visit_str<E: Error>(self, _: &str) -> Result<Known<T>, E> {
                Ok(not_a_table())
            }
        }

        fn not_a_table<T>() -> Known<T> {
            Known {
                doc: None,
                unknown: None,
            }
        }

        deserializer.deserialize_any(KnownVisitor(PhantomData))
    }
}

/// A table's entries with the keys `fields` names; the others are
/// skipped, the first one kept (with its place) in `unknown`.
struct OnlyKnown<'u, A> {
    map: A,
    fields: &'static [&'static str],
    unknown: &'u mut Option<Spanned<String>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for OnlyKnown<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Spanned<String>>()? {
            if self.fields.contains(&key.get_ref().as_str()) {
                return seed
                    .deserialize(key.into_inner().into_deserializer())
                    .map(Some);
            }
            self.unknown.get_or_insert(key);
            self.map.next_value::<IgnoredAny>()?;
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// An array of tables (`[[checks]]`), or something else.
pub(crate) enum Tables<T> {
    Tables(Vec<Spanned<Known<T>>>),
    Not,
}

impl<'de, T: Deserialize<'de> + Doc> Deserialize<'de> for Tables<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TablesVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de> + Doc> Visitor<'de> for TablesVisitor<T> {
            type Value = Tables<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tables")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tables<T>, A::Error> {
                let mut tables = Vec::new();
                while let Some(table) = seq.next_element()? {
                    tables.push(table);
                }
                Ok(Tables::Tables(tables))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Tables<T>, A::Error> {
                any_map(map)?;
                Ok(Tables::Not)
            }

            fn visit_bool<E: Error>(self, _: bool) -> Result<Tables<T>, E> {
                Ok(Tables::Not)
            }

            fn visit_i64<E: Error>(self, _: i64) -> Result<Tables<T>, E> {
                Ok(Tables::Not)
            }

            fn visit_u64<E: Error>(self, _: u64) -> Result<Tables<T>, E> {
                Ok(Tables::Not)
            }

            fn visit_f64<E: Error>(self, _: f64) -> Result<Tables<T>, E> {
                Ok(Tables::Not)
            }

            fn visit_str<E: Error>(self, _: &str) -> Result<Tables<T>, E> {
                Ok(Tables::Not)
            }
        }

        deserializer.deserialize_any(TablesVisitor(PhantomData))
    }
}

/// A list whose items keep their place, or the name of the type written
/// instead.
pub(crate) enum List {
    Items(Vec<Spanned<Value>>),
    Not(&'static str),
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = List;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(List::Items(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List, A::Error> {
                Ok(List::Not(any_map(map)?.type_str()))
            }

            fn visit_bool<E: Error>(self, _: bool) -> Result<List, E> {
                Ok(List::Not("boolean"))
            }

            fn visit_i64<E: Error>(self, _: i64) -> Result<List, E> {
                Ok(List::Not("integer"))
            }

            fn visit_u64<E: Error>(self, _: u64) -> Result<List, E> {
                Ok(List::Not("integer"))
            }

            fn visit_f64<E: Error>(self, _: f64) -> Result<List, E> {
                Ok(List::Not("float"))
            }

            fn visit_str<E: Error>(self, _: &str) -> Result<List, E> {
                Ok(List::Not("string"))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

/// A table or a date-time (TOML hands both over as a map).
fn any_map<'de, A: MapAccess<'de>>(map: A) -> Result<Value, A::Error> {
    Value::deserialize(MapAccessDeserializer::new(map))
}
