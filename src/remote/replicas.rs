//! The replicas of the server a run was stepped on, read after the run.
//!
//! A sync session's writes reach replicas as any script's do (its effects,
//! once it ends). The primary's `INFO replication` names each replica
//! (`slave0:ip=...,port=...,state=online,...`) and the offset of its
//! stream (`master_repl_offset`); each replica is asked for the offset it
//! has processed (`slave_repl_offset`) until it has caught up, then for the
//! keys the script touched, which are set beside what the run left on the
//! primary.

use std::time::{Duration, Instant};

use super::{keys, Conn, Target};
use crate::engine::keyspace::Entry;
use crate::protocol::Reply;
use crate::trace::{export, ReplicaKey, ReplicaRead};

/// How long a replica may take to catch up before its keys are read anyway.
const CATCH_UP: Duration = Duration::from_secs(5);

/// A replica as `INFO replication` lists it on the primary.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Listed {
    pub host: String,
    pub port: u16,
    /// `online`, or where its sync stands (`wait_bgsave`, `send_bulk`, ...).
    pub state: String,
}

/// The replicas `INFO replication` lists on the primary.
pub(crate) fn listed(info: &str) -> Vec<Listed> {
    info.lines()
        .filter(|l| {
            l.strip_prefix("slave")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .filter_map(|l| {
            let (_, fields) = l.split_once(':')?;
            let field = |name: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            };
            Some(Listed {
                host: field("ip")?.to_string(),
                port: field("port")?.parse().ok()?,
                state: field("state").unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// Where to reach a listed replica from here: the primary sees a replica
/// on its own machine as loopback, which from here is the primary's host.
fn reach(target: &Target, replica: &Listed) -> Target {
    let loopback = replica
        .host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback());
    let host = if loopback && !target.is_loopback() {
        target.host.clone()
    } else {
        replica.host.clone()
    };
    Target {
        socket: None,
        host,
        port: replica.port,
        ..target.clone()
    }
}

/// A numeric field of an INFO section.
fn field(info: &str, name: &str) -> Option<i64> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

fn info(conn: &mut Conn) -> anyhow::Result<String> {
    match conn.cmd(&[b"INFO", b"replication"])? {
        Reply::Bulk(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        other => anyhow::bail!("INFO replication answered {other:?}"),
    }
}

/// The addresses of the primary's replicas.
pub(crate) fn addresses(target: &Target, data: &mut Conn) -> anyhow::Result<Vec<String>> {
    Ok(listed(&info(data)?)
        .iter()
        .map(|r| reach(target, r).address())
        .collect())
}

/// Reads `touched` on every replica of the primary `data` is connected to,
/// each set beside `left`, what the run left on the primary. All of them
/// get `CATCH_UP` together to catch up, and `stop` (Esc) ends the wait.
pub(crate) fn read(
    target: &Target,
    data: &mut Conn,
    touched: &[(usize, Vec<u8>)],
    left: impl Fn(usize, &[u8]) -> Option<Entry>,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Vec<ReplicaRead>> {
    let primary = info(data)?;
    let listed = listed(&primary);
    let offset = field(&primary, "master_repl_offset").unwrap_or(0);
    let deadline = Instant::now() + CATCH_UP;
    Ok(listed
        .iter()
        .map(|replica| {
            let at = reach(target, replica);
            let address = at.address();
            let result = if replica.state != "online" {
                Err(anyhow::anyhow!(
                    "not read: it is not online yet (state={})",
                    replica.state
                ))
            } else {
                read_one(&at, offset, deadline, touched, &left, stop)
            };
            match result {
                Ok((caught_up, keys)) => ReplicaRead {
                    address,
                    caught_up,
                    keys,
                    error: None,
                    waited_s: CATCH_UP.as_secs(),
                },
                Err(e) => ReplicaRead {
                    address,
                    caught_up: false,
                    keys: Vec::new(),
                    error: Some(format!("{e:#}")),
                    waited_s: CATCH_UP.as_secs(),
                },
            }
        })
        .collect())
}

fn read_one(
    replica: &Target,
    offset: i64,
    deadline: Instant,
    touched: &[(usize, Vec<u8>)],
    left: &impl Fn(usize, &[u8]) -> Option<Entry>,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<(bool, Vec<ReplicaKey>)> {
    let mut conn = Conn::open_within(replica, CATCH_UP)?;
    // A cluster replica answers reads only after READONLY (a standalone
    // one refuses the command: nothing to do there).
    conn.cmd(&[b"READONLY"])?;
    let caught_up = loop {
        let processed = field(&info(&mut conn)?, "slave_repl_offset").unwrap_or(-1);
        if processed >= offset {
            break true;
        }
        if Instant::now() >= deadline || stop() {
            break false;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut read = Vec::new();
    for (db, key) in touched {
        conn.call(&[b"SELECT".to_vec(), db.to_string().into_bytes()])?;
        let predicted = left(*db, key);
        let (held, same) = match keys::entry(&mut conn, *db, key)? {
            Ok(entry) => {
                let same = entry.as_ref().map(|e| &e.value) == predicted.as_ref().map(|e| &e.value);
                (export::entry_text(entry.as_ref()), same)
            }
            Err(why) => (why, false),
        };
        read.push(ReplicaKey {
            db: *db,
            key: key.clone(),
            held,
            primary: export::entry_text(predicted.as_ref()),
            same,
        });
    }
    conn.call(&[b"SELECT".to_vec(), replica.db.to_string().into_bytes()])?;
    Ok((caught_up, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_replication_lists_each_replica() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
                    slave0:ip=127.0.0.1,port=6641,state=online,offset=188,lag=0\r\n\
                    slave1:ip=::1,port=6642,state=wait_bgsave,offset=0,lag=0\r\n\
                    master_failover_state:no-failover\r\nmaster_repl_offset:188\r\n";
        let listed = listed(info);
        assert_eq!(
            listed
                .iter()
                .map(|r| (r.host.as_str(), r.port, r.state.as_str()))
                .collect::<Vec<_>>(),
            [("127.0.0.1", 6641, "online"), ("::1", 6642, "wait_bgsave")]
        );
        // Seen from elsewhere, a replica on the primary's machine is there.
        let remote = Target::parse("redis://10.0.0.5:6379").unwrap();
        assert_eq!(reach(&remote, &listed[0]).address(), "10.0.0.5:6641");
        let local = Target::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(reach(&local, &listed[1]).address(), "[::1]:6642");
        assert_eq!(field(info, "master_repl_offset"), Some(188));
        assert!(super::listed("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n").is_empty());
    }
}
