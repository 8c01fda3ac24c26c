//! The same front-end protocol answered by a real server: `redstep --redis
//! URL`. A thread owns a connection to the server; the TUI's commands go
//! to it as they are, key pages are read with SCAN, and a run is stepped
//! through the server's Lua debugger (`remote::ldb`) into the same
//! [`Session`] the engine thread builds. Undo is refused: it would write
//! to someone's server what Redis itself never does.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use super::{Host, KeyPage, KeyRow, Message, Outgoing, Request, Response, QUEUE};
use crate::engine::{glob, ClientId, Engine, Reply};
use crate::remote::ldb::{self, Options};
use crate::remote::{keys, Conn, Target};
use crate::script::Interrupt;
use crate::trace::{self, Debugger, Limits, Session};

/// Steps of a run on a server: each is a round trip, so a runaway loop is
/// stopped here rather than at the embedded engine's cap.
pub const SERVER_MAX_STEPS: usize = 100_000;

/// Keys a key page looks at, at most, when a pattern is given.
const SCAN_LIMIT: usize = 100_000;

impl Host {
    /// Connects to the server at `target` and starts the thread that
    /// answers the front end from it; the label is `redis 7.0.15 @ host:port`.
    pub(crate) fn start_server(target: Target, options: Options) -> anyhow::Result<(Host, String)> {
        let mut conn = Conn::open(&target)?;
        let label = conn.label()?;
        let client_id = client_id(&mut conn)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let interrupt = Interrupt::default();
        let stop = interrupt.clone();
        let thread = std::thread::Builder::new()
            .name("server".into())
            .spawn(move || {
                ServerLoop {
                    target,
                    options,
                    conn: Some(conn),
                    db: 0,
                    version: 0,
                    interrupt: stop,
                    client: None,
                    table: Engine::default(),
                    client_id,
                    deferred: VecDeque::new(),
                }
                .run(rx)
            })?;
        Ok((
            Host {
                tx,
                waker: None,
                thread: Some(thread),
                interrupt,
            },
            label,
        ))
    }
}

struct ServerLoop {
    target: Target,
    options: Options,
    /// None after the server went away (reconnected on the next request).
    conn: Option<Conn>,
    /// The database `conn` has selected.
    db: usize,
    /// Bumped by every write sent from here: a run's view is stale after it.
    version: u64,
    interrupt: Interrupt,
    client: Option<(ClientId, Sender<Outgoing>)>,
    /// For the command table only (which commands write, which block).
    table: Engine,
    /// `conn`'s CLIENT ID, for CLIENT UNBLOCK from a connection of its own.
    client_id: Option<i64>,
    /// Messages that came while a blocking command waited.
    deferred: VecDeque<Message>,
}

/// How often a waiting blocking command looks for Esc (an Unblock).
const UNBLOCK_POLL: Duration = Duration::from_millis(50);

impl ServerLoop {
    fn run(mut self, rx: Receiver<Message>) {
        loop {
            let message = match self.deferred.pop_front() {
                Some(m) => m,
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                },
            };
            match message {
                Message::Connect { sink, answer, .. } => {
                    let id = 1;
                    self.client = Some((id, sink));
                    let _ = answer.send(id);
                }
                Message::Command { argv, .. } => {
                    let reply = self.command(&argv, &rx);
                    self.send(Outgoing::Reply(reply));
                }
                Message::Request {
                    request, serial, ..
                } => {
                    self.interrupt.begin(serial);
                    let response = self.request(request);
                    self.send(Outgoing::Response(Box::new(response)));
                }
                Message::Disconnect { .. } => self.client = None,
                Message::Stop => return,
                Message::Listen { .. } | Message::Registered { .. } => {}
            }
        }
    }

    fn send(&self, out: Outgoing) {
        if let Some((_, sink)) = &self.client {
            let _ = sink.send(out);
        }
    }

    /// The connection, opened again if the server went away.
    fn conn(&mut self) -> anyhow::Result<&mut Conn> {
        if self.conn.is_none() {
            let mut conn = Conn::open(&self.target)?;
            self.client_id = client_id(&mut conn)?;
            self.conn = Some(conn);
            self.db = self.target.db;
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// Runs `f` on the connection; an I/O failure drops it (the next call
    /// reconnects) and is told as the server going away.
    fn with_conn<R>(
        &mut self,
        f: impl FnOnce(&mut Conn) -> anyhow::Result<R>,
    ) -> Result<R, String> {
        let address = self.target.address();
        let result = self.conn().and_then(f);
        result.map_err(|e| {
            self.conn = None;
            format!("the server at {address} did not answer ({e:#}); your buffers are kept, and the next command tries again")
        })
    }

    fn command(&mut self, argv: &[Vec<u8>], rx: &Receiver<Message>) -> Reply {
        if let Some(why) = answers_otherwise(argv) {
            return Reply::error(format!(
                "ERR redstep: not sent: {why}; the redis-cli pane on a real server takes commands that answer once (redis-cli itself takes these)"
            ));
        }
        let spec = self.table.command_table().resolve(argv);
        let write = spec.is_some_and(|spec| spec.is_write());
        let answer = if spec.is_some_and(|spec| spec.is_blocking()) {
            self.with_conn(|conn| conn.send(argv))
                .and_then(|()| self.wait_for_answer(rx))
        } else {
            self.with_conn(|conn| conn.call(argv))
        };
        match answer {
            Ok(reply) => {
                if write {
                    self.version += 1;
                }
                if argv
                    .first()
                    .is_some_and(|c| c.eq_ignore_ascii_case(b"select"))
                    && reply == Reply::ok()
                {
                    if let Some(db) = argv
                        .get(1)
                        .and_then(|d| std::str::from_utf8(d).ok()?.parse().ok())
                    {
                        self.db = db;
                    }
                }
                reply
            }
            Err(e) => Reply::error(format!("ERR redstep: {e}")),
        }
    }

    /// The answer to a blocking command (BLPOP k 0 may wait for ever):
    /// read in short waits, and meanwhile an Unblock (Esc in the pane)
    /// answers it as the embedded engine does, with CLIENT UNBLOCK from a
    /// connection of its own; other messages wait until it is answered.
    fn wait_for_answer(&mut self, rx: &Receiver<Message>) -> Result<Reply, String> {
        loop {
            if let Some(reply) = self.with_conn(|conn| conn.read_within(UNBLOCK_POLL))? {
                return Ok(reply);
            }
            while let Ok(message) = rx.try_recv() {
                match message {
                    Message::Request {
                        request: Request::Unblock,
                        ..
                    } => {
                        let unblocked = self.unblock();
                        self.send(Outgoing::Response(Box::new(Response::Unblocked(unblocked))));
                    }
                    other => self.deferred.push_back(other),
                }
            }
        }
    }

    /// CLIENT UNBLOCK of `conn`'s client, from a connection of its own.
    fn unblock(&self) -> bool {
        let Some(id) = self.client_id else {
            return false;
        };
        let Ok(mut other) = Conn::open_within(&self.target, Duration::from_secs(5)) else {
            return false;
        };
        let id = id.to_string();
        matches!(
            other.cmd(&[b"CLIENT", b"UNBLOCK", id.as_bytes()]),
            Ok(Reply::Int(1))
        )
    }

    fn request(&mut self, request: Request) -> Response {
        match request {
            Request::Trace { lane, .. } if !lane.is_empty() => Response::Failed(
                "other clients' commands run on the embedded engine only: on a real server, LDB blocks every other client while it steps (forked, they would not even see the run)".into(),
            ),
            Request::Trace {
                argv, limits, start, ..
            } => match self.trace(&argv, limits) {
                Ok(run) => {
                    let debugger = Debugger::new(run.timeline, &run.mirror.keyspace);
                    let mut session = Session::new(debugger, &start);
                    session.keyspace_version = self.version;
                    Response::Traced(Box::new(session))
                }
                Err(e) => Response::Failed(e),
            },
            Request::Keys {
                pattern,
                offset,
                count,
                ..
            } => match self.key_page(pattern.as_deref(), offset, count) {
                Ok(page) => Response::Keys(page),
                Err(e) => Response::Failed(e),
            },
            Request::Key { key, .. } => {
                let db = self.db;
                match self.with_conn(|conn| keys::entry(conn, db, &key)) {
                    Ok(Ok(entry)) => Response::Key(key, entry),
                    Ok(Err(why)) => Response::Failed(format!("{}: {why}", String::from_utf8_lossy(&key))),
                    Err(e) => Response::Failed(e),
                }
            }
            // Nothing waits now (a blocking command's wait answers Esc
            // itself, in `wait_for_answer`).
            Request::Unblock => Response::Unblocked(false),
            Request::Cluster(_) => Response::Cluster(Err(
                "a lesson in cluster mode runs on the embedded engine only: a real server is a cluster node or not, as it was started".into(),
            )),
            Request::Undo(session) => Response::Undone(
                Err("undo is refused on a real server: Redis never rolls back, and redstep does not write to your server what Redis never would".into()),
                session,
            ),
        }
    }

    fn trace(&mut self, argv: &[Vec<u8>], limits: Limits) -> Result<ldb::Recorded, String> {
        let name = argv
            .first()
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_default();
        match name.as_slice() {
            b"EVAL" | b"EVAL_RO" => {}
            b"(COMMANDS)" => {
                return Err("on a real server redstep steps scripts; send these commands in the redis-cli pane".into())
            }
            b"FCALL" | b"FCALL_RO" => {
                return Err("Redis's Lua debugger does not step functions (FCALL); without --redis, redstep steps them on its own engine".into())
            }
            _ => {
                return Err("on a real server redstep steps scripts sent whole (EVAL); EVALSHA names a script the server keeps but cannot show".into())
            }
        }
        let mut eval = argv.to_vec();
        eval[0] = b"EVAL".to_vec();
        let options = Options {
            limits: Limits {
                max_steps: limits.max_steps.min(SERVER_MAX_STEPS),
                ..limits
            },
            ..self.options.clone()
        };
        let interrupt = self.interrupt.clone();
        let stop = move || interrupt.stopping();
        let recorded = ldb::record_argv(&self.target, &eval, &options, &stop)
            .map_err(|e| format!("the run could not be recorded on the server: {e:#}"))?;
        if !recorded.timeline.server.as_ref().is_some_and(|s| s.forked) {
            self.version += 1;
        }
        Ok(recorded)
    }

    fn key_page(
        &mut self,
        pattern: Option<&[u8]>,
        offset: usize,
        count: usize,
    ) -> Result<KeyPage, String> {
        let db = self.db;
        let pattern = pattern.filter(|p| *p != b"*");
        let version = self.version;
        self.with_conn(|conn| {
            let mut found: Vec<Vec<u8>> = Vec::new();
            let mut cursor = b"0".to_vec();
            let mut complete = false;
            // The whole keyspace up to SCAN_LIMIT keys, sorted, so pages
            // follow one another in a stable order.
            while found.len() < SCAN_LIMIT.max(offset + count) {
                let mut argv = vec![
                    b"SCAN".to_vec(),
                    cursor.clone(),
                    b"COUNT".to_vec(),
                    b"1000".to_vec(),
                ];
                if let Some(p) = pattern {
                    argv.extend([b"MATCH".to_vec(), p.to_vec()]);
                }
                let Reply::Array(parts) = conn.call(&argv)? else {
                    break;
                };
                let [Reply::Bulk(next), Reply::Array(keys)] = parts.as_slice() else {
                    break;
                };
                found.extend(keys.iter().filter_map(|k| match k {
                    Reply::Bulk(k) if pattern.is_none_or(|p| glob::matches(p, k, false)) => {
                        Some(k.clone())
                    }
                    _ => None,
                }));
                cursor = next.clone();
                if cursor == b"0" {
                    complete = true;
                    break;
                }
            }
            found.sort();
            found.dedup();
            let total = match (pattern, complete) {
                (_, true) => found.len(),
                (None, false) => match conn.cmd(&[b"DBSIZE"])? {
                    Reply::Int(n) => n as usize,
                    _ => found.len(),
                },
                (Some(_), false) => found.len() + 1,
            };
            let mut rows = Vec::new();
            for key in found.iter().skip(offset).take(count) {
                let Some(row) = keys::row(conn, db, key)? else {
                    continue;
                };
                let summary = match &row.entry {
                    Some(entry) => trace::export::short_value(entry, 120),
                    None if row.kind == "string" => format!("({} bytes)", row.size),
                    None => format!("({} items)", row.size),
                };
                rows.push(KeyRow {
                    key: key.clone(),
                    kind: kind_name(&row.kind),
                    ttl_ms: row.ttl_ms,
                    summary,
                });
            }
            Ok(KeyPage {
                db,
                total,
                offset,
                rows,
                version,
            })
        })
    }
}

/// The type names the keyspace pane knows.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "string" => "string",
        "list" => "list",
        "hash" => "hash",
        "set" => "set",
        "zset" => "zset",
        "stream" => "stream",
        _ => "other",
    }
}

/// The connection's CLIENT ID (None where the server refuses it: an ACL).
fn client_id(conn: &mut Conn) -> anyhow::Result<Option<i64>> {
    Ok(match conn.cmd(&[b"CLIENT", b"ID"])? {
        Reply::Int(id) => Some(id),
        _ => None,
    })
}

/// Why a command would not be answered once on the connection the pane
/// shares with the keyspace view (None: it is): replies that keep coming
/// (a subscription, MONITOR, a replica's stream), or none at all (CLIENT
/// REPLY OFF or SKIP), or in another protocol (HELLO 3: pushes); the view's
/// next read would take them for its own.
fn answers_otherwise(argv: &[Vec<u8>]) -> Option<&'static str> {
    let word = |i: usize| argv.get(i).map(|a| a.to_ascii_lowercase());
    let name = word(0)?;
    match name.as_slice() {
        b"subscribe" | b"psubscribe" | b"ssubscribe" => {
            Some("a subscription's messages keep coming")
        }
        b"monitor" => Some("MONITOR's lines keep coming"),
        b"sync" | b"psync" => Some("a replica's stream keeps coming"),
        b"client" if word(1).as_deref() == Some(b"reply") => match word(2).as_deref() {
            Some(b"off") | Some(b"skip") => Some("CLIENT REPLY OFF and SKIP hold replies back"),
            _ => None,
        },
        b"hello" if word(1).is_some_and(|v| v != b"2") => {
            Some("HELLO 3 switches the connection to RESP3")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::answers_otherwise;

    fn argv(words: &str) -> Vec<Vec<u8>> {
        words.split(' ').map(|w| w.as_bytes().to_vec()).collect()
    }

    #[test]
    fn commands_that_do_not_answer_once_are_told_apart() {
        for refused in [
            "SUBSCRIBE ch",
            "psubscribe c*",
            "SSUBSCRIBE s",
            "MONITOR",
            "SYNC",
            "PSYNC ? -1",
            "CLIENT REPLY OFF",
            "client reply skip",
            "HELLO 3",
        ] {
            assert!(answers_otherwise(&argv(refused)).is_some(), "{refused}");
        }
        for answered in [
            "GET a",
            "CLIENT REPLY ON",
            "CLIENT LIST",
            "HELLO",
            "HELLO 2",
            "UNSUBSCRIBE",
            "PUBLISH ch x",
        ] {
            assert!(answers_otherwise(&argv(answered)).is_none(), "{answered}");
        }
    }
}
