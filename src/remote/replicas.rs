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

/// The replicas `INFO replication` lists on the primary: (host, port).
pub(crate) fn listed(info: &str) -> Vec<(String, u16)> {
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
            Some((field("ip")?.to_string(), field("port")?.parse().ok()?))
        })
        .collect()
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
pub(crate) fn addresses(data: &mut Conn) -> anyhow::Result<Vec<String>> {
    Ok(listed(&info(data)?)
        .into_iter()
        .map(|(host, port)| {
            Target {
                socket: None,
                host,
                port,
                user: None,
                password: None,
                db: 0,
            }
            .address()
        })
        .collect())
}

/// Reads `touched` on every replica of the primary `data` is connected to,
/// each set beside `left`, what the run left on the primary.
pub(crate) fn read(
    target: &Target,
    data: &mut Conn,
    touched: &[(usize, Vec<u8>)],
    left: impl Fn(usize, &[u8]) -> Option<Entry>,
) -> anyhow::Result<Vec<ReplicaRead>> {
    let primary = info(data)?;
    let listed = listed(&primary);
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let offset = field(&primary, "master_repl_offset").unwrap_or(0);
    Ok(listed
        .into_iter()
        .map(|(host, port)| {
            let replica = Target {
                socket: None,
                host,
                port,
                ..target.clone()
            };
            let address = replica.address();
            match read_one(&replica, offset, touched, &left) {
                Ok((caught_up, keys)) => ReplicaRead {
                    address,
                    caught_up,
                    keys,
                    error: None,
                },
                Err(e) => ReplicaRead {
                    address,
                    caught_up: false,
                    keys: Vec::new(),
                    error: Some(format!("{e:#}")),
                },
            }
        })
        .collect())
}

fn read_one(
    replica: &Target,
    offset: i64,
    touched: &[(usize, Vec<u8>)],
    left: &impl Fn(usize, &[u8]) -> Option<Entry>,
) -> anyhow::Result<(bool, Vec<ReplicaKey>)> {
    let mut conn = Conn::open(replica)?;
    let deadline = Instant::now() + CATCH_UP;
    let caught_up = loop {
        let processed = field(&info(&mut conn)?, "slave_repl_offset").unwrap_or(-1);
        if processed >= offset {
            break true;
        }
        if Instant::now() >= deadline {
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
        assert_eq!(
            listed(info),
            vec![("127.0.0.1".to_string(), 6641), ("::1".to_string(), 6642)]
        );
        assert_eq!(field(info, "master_repl_offset"), Some(188));
        assert!(listed("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n").is_empty());
    }
}
