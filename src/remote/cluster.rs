//! A real Redis Cluster: the node that serves a script.
//!
//! Given any node, a run goes to the master that owns the slot of the
//! script's first declared key, as a cluster client sends it: the slot is
//! `CRC16(key) mod 16384` (hash tags honoured, `engine::cluster::key_slot`),
//! its owner is read from `CLUSTER SLOTS` (the node given owns it when its
//! `CLUSTER MYID` is the owner's id). A `MOVED` or `ASK` a node still
//! answers (the topology changed, a slot is being migrated) is followed by
//! the caller (`ldb::record_argv`), twice at most.

use anyhow::bail;

use super::{Conn, Target};
use crate::engine::cluster::key_slot;
use crate::protocol::Reply;

/// Where a run goes instead of the node it was given.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub target: Target,
    /// Send `ASKING` first: the slot is being imported there.
    pub asking: bool,
    /// Why, in words (a note on the run).
    pub why: String,
}

/// The first key an EVAL/EVALSHA/FCALL (or their _RO forms) declares.
pub(crate) fn first_key(argv: &[Vec<u8>]) -> Option<&[u8]> {
    let numkeys: usize = std::str::from_utf8(argv.get(2)?).ok()?.parse().ok()?;
    (numkeys > 0)
        .then(|| argv.get(3).map(Vec::as_slice))
        .flatten()
}

/// The node that owns the slot of `argv`'s first key, when the server at
/// `target` is a cluster node that does not (None: it serves the run).
pub fn route(target: &Target, argv: &[Vec<u8>]) -> anyhow::Result<Option<Route>> {
    let Some(key) = first_key(argv) else {
        return Ok(None);
    };
    let mut conn = Conn::open(target)?;
    let enabled = match conn.cmd(&[b"INFO", b"cluster"])? {
        Reply::Bulk(info) => String::from_utf8_lossy(&info).contains("cluster_enabled:1"),
        _ => false,
    };
    if !enabled {
        return Ok(None);
    }
    let slot = key_slot(key);
    let myself = match conn.cmd(&[b"CLUSTER", b"MYID"])? {
        Reply::Bulk(id) => id,
        _ => Vec::new(),
    };
    let slots = conn.cmd(&[b"CLUSTER", b"SLOTS"])?;
    let Some((host, port, id)) = owner(&slots, slot) else {
        bail!(
            "{}: no node of the cluster serves slot {slot} (CLUSTER SLOTS)",
            target.address()
        );
    };
    // The node given owns the slot (whatever name it was given by).
    if id == myself {
        return Ok(None);
    }
    let to = Target {
        host: announced(target, host),
        port,
        socket: None,
        ..target.clone()
    };
    Ok(Some(Route {
        why: format!(
            "{} is in slot {slot}, which {} serves (CLUSTER SLOTS on {}): the script ran there",
            crate::trace::export::word(key),
            to.address(),
            target.address()
        ),
        target: to,
        asking: false,
    }))
}

/// A node's address as the cluster announces it; one announced as "" (it
/// does not know its own) is on the host of the node given, or this
/// machine for a node given by its Unix socket.
fn announced(target: &Target, host: String) -> String {
    match (host.is_empty(), target.socket.is_some()) {
        (false, _) => host,
        (true, false) => target.host.clone(),
        (true, true) => "127.0.0.1".to_string(),
    }
}

/// The master serving `slot` in a `CLUSTER SLOTS` reply: (host, port,
/// node id).
pub(crate) fn owner(slots: &Reply, slot: u16) -> Option<(String, u16, Vec<u8>)> {
    let Reply::Array(ranges) = slots else {
        return None;
    };
    ranges.iter().find_map(|range| {
        let Reply::Array(fields) = range else {
            return None;
        };
        let (Some(Reply::Int(start)), Some(Reply::Int(end)), Some(Reply::Array(master))) =
            (fields.first(), fields.get(1), fields.get(2))
        else {
            return None;
        };
        if !(*start..=*end).contains(&(slot as i64)) {
            return None;
        }
        match (master.first(), master.get(1), master.get(2)) {
            (Some(Reply::Bulk(host)), Some(Reply::Int(port)), Some(Reply::Bulk(id))) => Some((
                String::from_utf8_lossy(host).into_owned(),
                u16::try_from(*port).ok()?,
                id.clone(),
            )),
            _ => None,
        }
    })
}

/// A `MOVED slot host:port` or `ASK slot host:port` error, as a route.
pub(crate) fn redirect(target: &Target, error: &[u8]) -> Option<Route> {
    let text = std::str::from_utf8(error).ok()?;
    let mut words = text.split(' ');
    let asking = match words.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    let slot = words.next()?;
    let (host, port) = words.next()?.rsplit_once(':')?;
    let to = Target {
        host: announced(target, host.to_string()),
        port: port.parse().ok()?,
        socket: None,
        ..target.clone()
    };
    if slot.parse::<u16>().is_err() {
        return None;
    }
    Some(Route {
        why: format!(
            "{} answered {}: the script ran on {}{}",
            target.address(),
            text,
            to.address(),
            if asking {
                " after ASKING (the slot is being migrated there)"
            } else {
                ""
            }
        ),
        target: to,
        asking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    #[test]
    fn the_owner_of_a_slot_is_read_from_cluster_slots() {
        let range = |start, end, port| {
            Reply::Array(vec![
                Reply::Int(start),
                Reply::Int(end),
                Reply::Array(vec![bulk("127.0.0.1"), Reply::Int(port), bulk("id")]),
            ])
        };
        let slots = Reply::Array(vec![
            range(0, 5460, 7000),
            range(5461, 10922, 7001),
            range(10923, 16383, 7002),
        ]);
        assert_eq!(
            owner(&slots, 5461),
            Some(("127.0.0.1".into(), 7001, b"id".to_vec()))
        );
        assert_eq!(owner(&slots, 16383).map(|o| o.1), Some(7002));
        assert_eq!(owner(&Reply::Array(vec![]), 0), None);
    }

    #[test]
    fn moved_and_ask_become_routes() {
        let target = Target::parse("redis://:pw@127.0.0.1:7000/0").unwrap();
        let moved = redirect(&target, b"MOVED 3999 127.0.0.1:7001").unwrap();
        assert_eq!((moved.target.port, moved.asking), (7001, false));
        assert_eq!(moved.target.password.as_deref(), Some("pw"));
        let ask = redirect(&target, b"ASK 3999 127.0.0.1:7002").unwrap();
        assert_eq!((ask.target.port, ask.asking), (7002, true));
        assert_eq!(redirect(&target, b"ERR other"), None);
        assert_eq!(
            first_key(&[
                b"EVAL".to_vec(),
                b"return 1".to_vec(),
                b"1".to_vec(),
                b"k".to_vec()
            ]),
            Some(&b"k"[..])
        );
        assert_eq!(
            first_key(&[b"EVAL".to_vec(), b"return 1".to_vec(), b"0".to_vec()]),
            None
        );
    }
}
