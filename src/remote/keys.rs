//! Reading a key from a server, and writing it into an embedded engine.

use super::{human, Conn};
use crate::engine::keyspace::Entry;
use crate::engine::{Engine, NoExtension};
use crate::protocol::Reply;

/// How to read a key of each type, and how to write it back.
pub(crate) fn read_commands(kind: &[u8], key: &[u8]) -> Option<(Vec<Vec<u8>>, &'static [u8])> {
    let k = key.to_vec();
    let argv = |words: &[&[u8]]| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![words[0].to_vec(), k.clone()];
        v.extend(words[1..].iter().map(|w| w.to_vec()));
        v
    };
    Some(match kind {
        b"string" => (argv(&[b"GET"]), b"SET"),
        b"list" => (argv(&[b"LRANGE", b"0", b"-1"]), b"RPUSH"),
        b"hash" => (argv(&[b"HGETALL"]), b"HSET"),
        b"set" => (argv(&[b"SMEMBERS"]), b"SADD"),
        b"zset" => (argv(&[b"ZRANGE", b"0", b"-1", b"WITHSCORES"]), b"ZADD"),
        b"stream" => (argv(&[b"XRANGE", b"-", b"+"]), b"XADD"),
        _ => return None,
    })
}

/// The commands that recreate `key` from the replies of TYPE, its read
/// command and PTTL; None for a type redstep cannot copy.
pub(crate) fn write_commands(
    key: &[u8],
    kind: &[u8],
    value: Reply,
    pttl: i64,
) -> Option<Vec<Vec<Vec<u8>>>> {
    let (_, write) = read_commands(kind, key)?;
    let mut out = Vec::new();
    let head = || vec![write.to_vec(), key.to_vec()];
    let bytes = |r: &Reply| match r {
        Reply::Bulk(b) | Reply::Status(b) => Some(b.clone()),
        Reply::Int(n) => Some(n.to_string().into_bytes()),
        _ => None,
    };
    match (kind, value) {
        (b"string", Reply::Bulk(v)) => out.push(vec![write.to_vec(), key.to_vec(), v]),
        (b"stream", Reply::Array(entries)) => {
            for entry in entries {
                let Reply::Array(parts) = entry else {
                    return None;
                };
                let [id, Reply::Array(fields)] = parts.as_slice() else {
                    return None;
                };
                let mut argv = head();
                argv.push(bytes(id)?);
                for f in fields {
                    argv.push(bytes(f)?);
                }
                out.push(argv);
            }
        }
        (b"zset", Reply::Array(items)) => {
            for chunk in items.chunks(2 * 512) {
                let mut argv = head();
                for pair in chunk.chunks(2) {
                    argv.push(bytes(pair.get(1)?)?);
                    argv.push(bytes(&pair[0])?);
                }
                out.push(argv);
            }
        }
        (_, Reply::Array(items)) => {
            for chunk in items.chunks(1024) {
                let mut argv = head();
                for item in chunk {
                    argv.push(bytes(item)?);
                }
                out.push(argv);
            }
        }
        _ => return None,
    }
    if pttl > 0 {
        out.push(vec![
            b"PEXPIRE".to_vec(),
            key.to_vec(),
            pttl.to_string().into_bytes(),
        ]);
    }
    Some(out)
}

/// Reads `key` with `ask` (a plain connection or LDB's `redis` command)
/// and returns the commands that recreate it (empty: the key is absent).
pub(crate) fn read_key(
    key: &[u8],
    mut ask: impl FnMut(&[Vec<u8>]) -> anyhow::Result<Reply>,
) -> anyhow::Result<Result<Vec<Vec<Vec<u8>>>, String>> {
    let kind = match ask(&[b"TYPE".to_vec(), key.to_vec()])? {
        Reply::Status(k) => k,
        other => return Ok(Err(format!("TYPE answered {}", human::render(&other)))),
    };
    if kind == b"none" {
        return Ok(Ok(Vec::new()));
    }
    let Some((read, _)) = read_commands(&kind, key) else {
        return Ok(Err(format!(
            "redstep cannot copy a {}",
            String::from_utf8_lossy(&kind)
        )));
    };
    let value = ask(&read)?;
    let pttl = match ask(&[b"PTTL".to_vec(), key.to_vec()])? {
        Reply::Int(n) => n,
        _ => -1,
    };
    Ok(write_commands(key, &kind, value, pttl)
        .ok_or_else(|| format!("its {} could not be read", String::from_utf8_lossy(&kind))))
}

/// Elements (or bytes of a string) past which a key's row is summarised
/// by its size instead of being read whole.
const ROW_READ_LIMIT: i64 = 256;

/// `key` as it is on the server now, read whole (None: absent, or a type
/// redstep cannot copy — the reason is the error).
pub fn entry(
    conn: &mut Conn,
    db: usize,
    key: &[u8],
) -> anyhow::Result<Result<Option<Entry>, String>> {
    let commands = match read_key(key, |argv| conn.call(argv))? {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let mut scratch = Engine::default();
    let mut client = scratch.new_client();
    client.db = db;
    for argv in &commands {
        scratch.call(&mut client, argv, &mut NoExtension);
    }
    Ok(Ok(scratch.keyspace.db(db).entry(key).cloned()))
}

/// A key as the keyspace pane lists it.
pub(crate) struct Row {
    pub kind: String,
    /// Milliseconds left, when the key has a TTL.
    pub ttl_ms: Option<i64>,
    /// The whole value, when it is small enough to read for a row.
    pub entry: Option<Entry>,
    /// Elements, or bytes of a string.
    pub size: i64,
}

/// One row of the keyspace pane (None: the key is gone).
pub(crate) fn row(conn: &mut Conn, db: usize, key: &[u8]) -> anyhow::Result<Option<Row>> {
    let kind = match conn.cmd(&[b"TYPE", key])? {
        Reply::Status(k) if k != b"none" => String::from_utf8_lossy(&k).into_owned(),
        _ => return Ok(None),
    };
    let size_cmd: &[u8] = match kind.as_str() {
        "string" => b"STRLEN",
        "list" => b"LLEN",
        "hash" => b"HLEN",
        "set" => b"SCARD",
        "zset" => b"ZCARD",
        "stream" => b"XLEN",
        _ => b"",
    };
    let size = if size_cmd.is_empty() {
        0
    } else {
        match conn.cmd(&[size_cmd, key])? {
            Reply::Int(n) => n,
            _ => 0,
        }
    };
    let ttl = match conn.cmd(&[b"PTTL", key])? {
        Reply::Int(n) if n >= 0 => Some(n),
        _ => None,
    };
    let value = if size <= ROW_READ_LIMIT && !size_cmd.is_empty() {
        entry(conn, db, key)?.ok().flatten()
    } else {
        None
    };
    Ok(Some(Row {
        kind,
        ttl_ms: ttl,
        entry: value,
        size,
    }))
}
