//! Redis 7.0.15's own description of its commands, recorded from a real
//! server (`assets/redis/`, by `tests/golden/record_commands.py`): the
//! entries COMMAND and COMMAND INFO answer, the docs COMMAND DOCS answers,
//! ACL categories, and the key specs with which COMMAND GETKEYS finds keys.
//!
//! The command table (`table.rs`) holds what dispatch needs (arity, flags,
//! the handler); `tests/commands.rs` checks it against this description,
//! so the two cannot drift apart.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::value::Bytes;
use super::Reply;
use crate::protocol::resp::parse_reply;

/// The reply to `COMMAND`, asked in RESP3 (sets and maps kept).
static INFO: &[u8] = include_bytes!("../../assets/redis/command-info.resp");
/// The reply to `COMMAND DOCS`, asked in RESP3.
static DOCS: &[u8] = include_bytes!("../../assets/redis/command-docs.resp");

/// One command or subcommand as Redis describes it.
pub struct Described {
    /// `get`, `client|list`.
    pub full_name: String,
    pub arity: i64,
    /// COMMAND's flag names (`write`, `noscript`, `movablekeys`...).
    pub flags: Vec<String>,
    /// The legacy key range: first, last, step.
    pub range: [i64; 3],
    /// `@read`, `@string`...
    pub acl_categories: Vec<String>,
    pub key_specs: Vec<KeySpec>,
    /// Its COMMAND INFO entry (RESP3 types).
    pub info: Reply,
    /// Its COMMAND DOCS entry (RESP3 types).
    pub docs: Reply,
}

impl Described {
    pub fn has_flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// Whether it is in the ACL category `name` (no `@`, any case).
    pub fn in_category(&self, name: &[u8]) -> bool {
        self.acl_categories
            .iter()
            .any(|c| c.as_bytes()[1..].eq_ignore_ascii_case(name))
    }
}

/// Where a key spec starts looking, and how it takes keys from there.
#[derive(Debug, Clone)]
pub struct KeySpec {
    /// Bits of [`key_flags`].
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
}

#[derive(Debug, Clone)]
pub enum Begin {
    Index(i64),
    /// The argument after `keyword`, searched from `startfrom` (from the
    /// end when negative).
    Keyword {
        keyword: Vec<u8>,
        startfrom: i64,
    },
    Unknown,
}

#[derive(Debug, Clone)]
pub enum Find {
    Range {
        lastkey: i64,
        keystep: i64,
        limit: i64,
    },
    Keynum {
        keynumidx: i64,
        firstkey: i64,
        keystep: i64,
    },
    Unknown,
}

/// A key spec's flags, in the order Redis names them.
pub mod key_flags {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    pub const NAMES: [&str; 11] = [
        "RO",
        "RW",
        "OW",
        "RM",
        "access",
        "update",
        "insert",
        "delete",
        "not_key",
        "incomplete",
        "variable_flags",
    ];

    /// The flags as Redis replies with them: a set of status lines.
    pub fn reply(flags: u16) -> super::Reply {
        super::Reply::Set(
            NAMES
                .iter()
                .enumerate()
                .filter(|(i, _)| flags & (1 << i) != 0)
                .map(|(_, name)| super::Reply::status(name))
                .collect(),
        )
    }
}

/// A key found in a command's arguments: its position and flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: u16,
}

pub struct Catalog {
    /// By full name (`client|list`), lowercase; in name order.
    commands: Vec<Described>,
    index: HashMap<String, usize>,
    /// ACL categories, without `@`, in the order Redis lists them.
    categories: Vec<String>,
}

/// The catalog, read from the recording on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::load)
}

fn field<'a>(map: &'a Reply, name: &str) -> Option<&'a Reply> {
    match map {
        Reply::Map(pairs) => pairs
            .iter()
            .find(|(k, _)| matches!(k, Reply::Bulk(b) if b == name.as_bytes()))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(b) | Reply::Status(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

fn int(reply: Option<&Reply>) -> i64 {
    match reply {
        Some(Reply::Int(n)) => *n,
        _ => 0,
    }
}

fn texts(reply: &Reply) -> Vec<String> {
    match reply {
        Reply::Set(items) | Reply::Array(items) => items.iter().map(text).collect(),
        _ => Vec::new(),
    }
}

fn key_spec(map: &Reply) -> KeySpec {
    let flags = texts(field(map, "flags").unwrap_or(&Reply::Nil))
        .iter()
        .filter_map(|f| key_flags::NAMES.iter().position(|n| n == f))
        .fold(0u16, |acc, i| acc | (1 << i));
    let begin = field(map, "begin_search");
    let begin_spec = begin.and_then(|b| field(b, "spec"));
    let begin = match begin.and_then(|b| field(b, "type")).map(text).as_deref() {
        Some("index") => Begin::Index(int(begin_spec.and_then(|s| field(s, "index")))),
        Some("keyword") => Begin::Keyword {
            keyword: text(
                begin_spec
                    .and_then(|s| field(s, "keyword"))
                    .unwrap_or(&Reply::Nil),
            )
            .into_bytes(),
            startfrom: int(begin_spec.and_then(|s| field(s, "startfrom"))),
        },
        _ => Begin::Unknown,
    };
    let find = field(map, "find_keys");
    let spec = find.and_then(|f| field(f, "spec"));
    let get = |name| int(spec.and_then(|s| field(s, name)));
    let find = match find.and_then(|f| field(f, "type")).map(text).as_deref() {
        Some("range") => Find::Range {
            lastkey: get("lastkey"),
            keystep: get("keystep"),
            limit: get("limit"),
        },
        Some("keynum") => Find::Keynum {
            keynumidx: get("keynumidx"),
            firstkey: get("firstkey"),
            keystep: get("keystep"),
        },
        _ => Find::Unknown,
    };
    KeySpec { flags, begin, find }
}

impl Catalog {
    fn load() -> Catalog {
        let Ok(Some((Reply::Array(entries), _))) = parse_reply(INFO) else {
            panic!("assets/redis/command-info.resp is not a RESP3 array");
        };
        let Ok(Some((Reply::Map(docs), _))) = parse_reply(DOCS) else {
            panic!("assets/redis/command-docs.resp is not a RESP3 map");
        };
        let mut docs: HashMap<String, Reply> =
            docs.into_iter().map(|(k, v)| (text(&k), v)).collect();
        let mut catalog = Catalog {
            commands: Vec::new(),
            index: HashMap::new(),
            categories: Vec::new(),
        };
        for entry in entries {
            catalog.add(entry, &mut docs, None);
        }
        catalog
            .commands
            .sort_by(|a, b| a.full_name.cmp(&b.full_name));
        for (i, c) in catalog.commands.iter().enumerate() {
            catalog.index.insert(c.full_name.clone(), i);
        }
        catalog.categories = CATEGORIES.iter().map(|c| c.to_string()).collect();
        catalog
    }

    /// Adds a COMMAND entry and its subcommands (their docs are in their
    /// parent's `subcommands` map).
    fn add(
        &mut self,
        entry: Reply,
        docs: &mut HashMap<String, Reply>,
        parent_docs: Option<&Reply>,
    ) {
        let Reply::Array(fields) = &entry else {
            return;
        };
        let full_name = text(&fields[0]);
        let doc = match parent_docs {
            Some(parent) => field(parent, "subcommands")
                .and_then(|s| field(s, &full_name))
                .cloned(),
            None => docs.remove(&full_name),
        }
        .unwrap_or(Reply::Map(Vec::new()));
        // Key specs and subcommands are RESP3 sets.
        let key_specs = match &fields[8] {
            Reply::Set(specs) | Reply::Array(specs) => specs.iter().map(key_spec).collect(),
            _ => Vec::new(),
        };
        if let Reply::Set(subs) | Reply::Array(subs) = &fields[9] {
            for sub in subs {
                self.add(sub.clone(), docs, Some(&doc));
            }
        }
        self.commands.push(Described {
            arity: int(fields.get(1)),
            flags: texts(&fields[2]),
            range: [int(fields.get(3)), int(fields.get(4)), int(fields.get(5))],
            acl_categories: texts(&fields[6]),
            key_specs,
            full_name,
            info: entry,
            docs: doc,
        });
    }

    /// Every command and subcommand, by full name.
    pub fn iter(&self) -> impl Iterator<Item = &Described> {
        self.commands.iter()
    }

    /// A command by its full name (`get`, `client|list`), any case.
    pub fn get(&self, full_name: &str) -> Option<&Described> {
        // The table's names are lowercase already: no copy for them.
        let i = match full_name.bytes().any(|b| b.is_ascii_uppercase()) {
            true => self.index.get(&full_name.to_ascii_lowercase()),
            false => self.index.get(full_name),
        };
        i.map(|&i| &self.commands[i])
    }

    /// Whether `name` (no `@`, any case) is an ACL category.
    pub fn is_category(&self, name: &[u8]) -> bool {
        self.categories
            .iter()
            .any(|c| c.as_bytes().eq_ignore_ascii_case(name))
    }

    /// The ACL categories, as ACL CAT lists them.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }
}

/// ACL categories (`ACLCommandCategories` in acl.c), in its order.
const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Redis's `getKeysFromCommandWithSpecs` (COMMAND GETKEYS and
/// GETKEYSANDFLAGS): the key specs when they are all reliable and find the
/// keys, otherwise the command's own key function; empty when neither
/// finds any (Redis then errs, unless the command needs no key).
pub fn keys_with_specs(described: &Described, argv: &[Bytes]) -> Vec<KeyRef> {
    let has_key = described
        .key_specs
        .iter()
        .any(|s| s.flags & key_flags::NOT_KEY == 0);
    let variable = described
        .key_specs
        .iter()
        .any(|s| s.flags & key_flags::VARIABLE_FLAGS != 0);
    if has_key && !variable {
        if let Some(keys) = keys_from_specs(described, argv) {
            return keys;
        }
    }
    getkeys_proc(&described.full_name, argv).unwrap_or_default()
}

/// Redis's `doesCommandHaveKeys`.
pub fn has_keys(described: &Described) -> bool {
    getkeys_proc(&described.full_name, &[]).is_some()
        || described
            .key_specs
            .iter()
            .any(|s| s.flags & key_flags::NOT_KEY == 0)
}

/// Redis's `getKeysUsingKeySpecs` without partial results: None when a
/// spec is unknown, incomplete or does not fit the arguments.
fn keys_from_specs(described: &Described, argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for spec in &described.key_specs {
        if spec.flags & key_flags::NOT_KEY != 0 {
            continue;
        }
        let mut first = match &spec.begin {
            Begin::Index(pos) => *pos,
            Begin::Keyword { keyword, startfrom } => {
                let (start, end) = if *startfrom > 0 {
                    (*startfrom, argc - 1)
                } else {
                    (argc + startfrom, 1)
                };
                let mut found = 0;
                let mut i = start;
                loop {
                    if i == end || i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match spec.find {
            Find::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, keystep)
            }
            Find::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                if keynumidx >= argc {
                    return None;
                }
                let at = (first + keynumidx) as usize;
                let numkeys = argv
                    .get(at)
                    .and_then(|n| super::numbers::parse_i64(n))
                    .filter(|n| *n >= 0)?;
                // Redis adds it as a C `int`.
                let numkeys = i64::from(numkeys as i32);
                first += firstkey;
                // A count past the arguments fails the bounds check below.
                (first.saturating_add(numkeys - 1), keystep)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            // Past the arguments: a negative arity's command reports it.
            if i < argc {
                keys.push(KeyRef {
                    pos: i as usize,
                    flags: spec.flags,
                });
            }
            i += step.max(1);
        }
        if spec.flags & key_flags::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(keys)
}

/// The key function of a command that has one (`get_keys_function` in
/// Redis's command JSON files, its `*GetKeys` in db.c), with the flags
/// those functions give (0 where Redis gives none); None for the others.
pub fn getkeys_proc(full_name: &str, argv: &[Bytes]) -> Option<Vec<KeyRef>> {
    use key_flags::*;
    let argc = argv.len();
    let is = |i: usize, word: &str| argv[i].eq_ignore_ascii_case(word.as_bytes());
    let key = |pos: usize, flags: u16| KeyRef { pos, flags };
    // Redis's genericGetKeys: `atoi` of the count, and no keys at all when
    // it is below 1 or more than the arguments hold.
    let generic = |store: usize, count: usize, first: usize| -> Vec<KeyRef> {
        // C's atoi: a `long` from strtol, kept as an `int`.
        let num = argv.get(count).map_or(0, |n| i64::from(atoi(n) as i32));
        if num < 1 || num > (argc as i64 - first as i64) {
            return Vec::new();
        }
        let mut keys: Vec<KeyRef> = (0..num as usize).map(|i| key(first + i, 0)).collect();
        if store > 0 {
            keys.push(key(store, 0));
        }
        keys
    };
    Some(match full_name {
        "sintercard" | "zunion" | "zinter" | "zdiff" | "zintercard" | "lmpop" | "zmpop" => {
            generic(0, 1, 2)
        }
        "zunionstore" | "zinterstore" | "zdiffstore" => generic(1, 2, 3),
        "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" | "blmpop"
        | "bzmpop" => generic(0, 2, 3),
        "sort_ro" => vec![key(1, RO | ACCESS)],
        "sort" => {
            let mut keys = vec![key(1, RO | ACCESS)];
            let mut store = None;
            let mut i = 2;
            while i < argc {
                // Options take no argument unless known; the last STORE wins.
                if is(i, "limit") {
                    i += 2;
                } else if is(i, "store") && i + 1 < argc {
                    store = Some(i + 1);
                } else if is(i, "get") || is(i, "by") {
                    i += 1;
                }
                i += 1;
            }
            keys.extend(store.map(|pos| key(pos, OW | UPDATE)));
            keys
        }
        "migrate" => {
            let (mut first, mut num) = (3, 1);
            if argc > 6 {
                let mut i = 6;
                while i < argc {
                    if is(i, "keys") {
                        if !argv[3].is_empty() {
                            num = 0;
                        } else {
                            first = i + 1;
                            num = argc - first;
                        }
                        break;
                    }
                    if is(i, "auth") {
                        i += 1;
                    } else if is(i, "auth2") {
                        i += 2;
                    }
                    i += 1;
                }
            }
            (0..num)
                .map(|i| key(first + i, RW | ACCESS | DELETE))
                .collect()
        }
        "georadius" | "georadiusbymember" => {
            let mut stored = None;
            let mut i = 5;
            while i < argc {
                if (is(i, "store") || is(i, "storedist")) && i + 1 < argc {
                    stored = Some(i + 1);
                    i += 1;
                }
                i += 1;
            }
            let mut keys = vec![key(1, 0)];
            keys.extend(stored.map(|pos| key(pos, 0)));
            keys
        }
        "xread" | "xreadgroup" => {
            let mut streams = None;
            let mut i = 1;
            while i < argc {
                if is(i, "block") || is(i, "count") {
                    i += 1;
                } else if is(i, "group") {
                    i += 2;
                } else if is(i, "noack") {
                } else if is(i, "streams") {
                    streams = Some(i);
                    break;
                } else {
                    break;
                }
                i += 1;
            }
            let Some(at) = streams else {
                return Some(Vec::new());
            };
            let num = argc - at - 1;
            if num == 0 || !num.is_multiple_of(2) {
                return Some(Vec::new());
            }
            (at + 1..argc - num / 2).map(|pos| key(pos, 0)).collect()
        }
        "set" => {
            let get = (3..argc).any(|i| argv[i].eq_ignore_ascii_case(b"get"));
            vec![key(
                1,
                if get {
                    RW | ACCESS | UPDATE
                } else {
                    OW | UPDATE
                },
            )]
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < argc {
                let remaining = argc - i - 1;
                if is(i, "get") && remaining >= 2 {
                    i += 2;
                } else if (is(i, "set") || is(i, "incrby")) && remaining >= 3 {
                    readonly = false;
                    break;
                } else if is(i, "overflow") && remaining >= 1 {
                    i += 1;
                } else {
                    readonly = false;
                    break;
                }
                i += 1;
            }
            vec![key(
                1,
                if readonly {
                    RO | ACCESS
                } else {
                    RW | ACCESS | UPDATE
                },
            )]
        }
        _ => return None,
    })
}

/// C's `atoi`: leading blanks, a sign, digits; 0 for anything else (what
/// Redis's key functions read a key count with).
fn atoi(bytes: &[u8]) -> i64 {
    let mut rest = bytes
        .iter()
        .skip_while(|b| b" \t\n\r\x0b\x0c".contains(b))
        .peekable();
    let negative = match rest.peek() {
        Some(b'-') => {
            rest.next();
            true
        }
        Some(b'+') => {
            rest.next();
            false
        }
        _ => false,
    };
    let mut n: i64 = 0;
    for b in rest {
        if !b.is_ascii_digit() {
            break;
        }
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recording_holds_every_command_with_docs_and_specs() {
        let catalog = catalog();
        assert_eq!(
            catalog
                .iter()
                .filter(|c| !c.full_name.contains('|'))
                .count(),
            240
        );
        let get = catalog.get("GET").unwrap();
        assert_eq!(get.arity, 2);
        assert_eq!(get.acl_categories, ["@read", "@string", "@fast"]);
        assert!(matches!(get.key_specs[0].begin, Begin::Index(1)));
        assert_eq!(get.key_specs[0].flags, key_flags::RO | key_flags::ACCESS);
        assert!(field(&get.docs, "summary").is_some());
        let list = catalog.get("client|list").unwrap();
        assert_eq!(list.arity, -2);
        assert!(field(&list.docs, "summary").is_some());
    }

    #[test]
    fn a_huge_key_count_finds_no_keys() {
        let argv: Vec<Bytes> = ["EVAL", "s", "9223372036854775807", "a"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let eval = catalog().get("eval").unwrap();
        assert!(keys_from_specs(eval, &argv).is_none());
        assert!(keys_with_specs(eval, &argv).is_empty());
    }

    #[test]
    fn a_key_count_is_a_c_int() {
        let argv: Vec<Bytes> = ["EVAL", "s", "4294967297", "a"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let eval = catalog().get("eval").unwrap();
        assert_eq!(
            keys_with_specs(eval, &argv),
            [KeyRef {
                pos: 3,
                flags: eval.key_specs[0].flags
            }]
        );
    }

    #[test]
    fn atoi_reads_as_c_does() {
        assert_eq!(atoi(b"12abc"), 12);
        assert_eq!(atoi(b"  -3"), -3);
        assert_eq!(atoi(b"x1"), 0);
        assert_eq!(atoi(b""), 0);
    }
}
