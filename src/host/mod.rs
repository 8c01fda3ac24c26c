//! The engine thread, like Redis's main thread: it owns the [`Engine`] and
//! runs commands one at a time, in arrival order. Every front end (`exec`,
//! `serve` connections, later the TUI) talks to it through a [`Connection`].

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::engine::{ClientId, Engine, Reply};
use crate::script::{ScriptConfig, Scripting};

/// What the engine thread sends to a connection.
#[derive(Debug, PartialEq)]
pub enum Outgoing {
    Reply(Reply),
    /// Close the connection after what was sent before (QUIT, protocol error).
    Close,
}

enum Message {
    Connect {
        addr: String,
        laddr: String,
        sink: Sender<Outgoing>,
        answer: Sender<ClientId>,
    },
    Command {
        client: ClientId,
        argv: Vec<Vec<u8>>,
    },
    /// A protocol error found by the reader: reply, then close.
    Fatal {
        client: ClientId,
        error: String,
    },
    Disconnect {
        client: ClientId,
    },
    Stop,
}

/// A handle on the engine thread; dropping it stops the thread (connections
/// still open then see the engine as gone).
pub struct Host {
    tx: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
}

/// Queue depth between readers and the engine thread; a full queue makes
/// readers wait, which bounds memory under a flood.
const QUEUE: usize = 4096;

impl Host {
    /// Starts the engine thread. The engine and its Lua state are built on
    /// that thread (a Lua state cannot move between threads).
    pub fn start(make: impl FnOnce() -> Engine + Send + 'static, script: ScriptConfig) -> Host {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .stack_size(64 * 1024 * 1024)
            .spawn(move || {
                let mut engine = make();
                let scripting = Scripting::new(&mut engine, script);
                EngineLoop::new(engine, scripting).run(rx)
            })
            .expect("spawn engine thread");
        Host {
            tx,
            thread: Some(thread),
        }
    }

    pub fn connect(&self, addr: String, laddr: String) -> Connection {
        let (sink, outgoing) = mpsc::channel();
        let (answer, id) = mpsc::channel();
        self.tx
            .send(Message::Connect {
                addr,
                laddr,
                sink,
                answer,
            })
            .expect("engine thread alive");
        let id = id.recv().expect("engine thread answers");
        Connection {
            sender: ClientSender {
                id,
                tx: self.tx.clone(),
            },
            outgoing,
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One client of the engine thread; dropping it disconnects.
pub struct Connection {
    sender: ClientSender,
    outgoing: Receiver<Outgoing>,
}

impl Connection {
    pub fn id(&self) -> ClientId {
        self.sender.id
    }

    /// Sends a command without waiting for its reply.
    pub fn send(&self, argv: Vec<Vec<u8>>) {
        self.sender.send(argv);
    }

    /// The next thing the engine sends this connection (None: engine gone).
    pub fn recv(&self) -> Option<Outgoing> {
        self.outgoing.recv().ok()
    }

    pub fn try_recv(&self) -> Option<Outgoing> {
        self.outgoing.try_recv().ok()
    }

    /// Sends a command and waits for its reply.
    pub fn call(&self, argv: Vec<Vec<u8>>) -> Reply {
        self.send(argv);
        loop {
            match self.recv() {
                Some(Outgoing::Reply(r)) => return r,
                Some(Outgoing::Close) => continue,
                None => return Reply::error("ERR engine stopped"),
            }
        }
    }

    /// The sending and receiving halves, for a reader and a writer thread.
    pub fn split(self) -> (ClientSender, Receiver<Outgoing>) {
        (self.sender, self.outgoing)
    }
}

/// The sending half of a [`Connection`]; dropping it disconnects.
pub struct ClientSender {
    pub id: ClientId,
    tx: SyncSender<Message>,
}

impl ClientSender {
    pub fn send(&self, argv: Vec<Vec<u8>>) {
        let _ = self.tx.send(Message::Command {
            client: self.id,
            argv,
        });
    }

    /// Reports a protocol error: the engine replies with it, then closes.
    pub fn fatal(&self, error: String) {
        let _ = self.tx.send(Message::Fatal {
            client: self.id,
            error,
        });
    }
}

impl Drop for ClientSender {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Disconnect { client: self.id });
    }
}

struct EngineLoop {
    engine: Engine,
    scripting: Scripting,
    sinks: HashMap<ClientId, Sender<Outgoing>>,
    /// Commands that arrived while their client was blocked.
    pending: HashMap<ClientId, VecDeque<Vec<Vec<u8>>>>,
}

impl EngineLoop {
    fn new(engine: Engine, scripting: Scripting) -> Self {
        EngineLoop {
            engine,
            scripting,
            sinks: HashMap::new(),
            pending: HashMap::new(),
        }
    }

    fn run(mut self, rx: Receiver<Message>) {
        loop {
            let wait = self.next_wakeup();
            let message = match wait {
                Some(d) => match rx.recv_timeout(d) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                },
            };
            match message {
                Some(Message::Stop) => return,
                Some(m) => self.handle(m),
                None => {}
            }
            self.engine.active_expire();
            self.engine.expire_blocked();
            self.deliver();
        }
    }

    /// How long to sleep: until the next blocked client times out, or the
    /// next active-expiry round (10 per second, as Redis's default hz) when
    /// some key has a TTL; otherwise until a message comes.
    fn next_wakeup(&mut self) -> Option<Duration> {
        let now = self.engine.wall_clock_ms();
        let blocked = self
            .engine
            .clients()
            .filter_map(|c| c.blocked.as_ref().and_then(|b| b.deadline))
            .min();
        let expiring = (0..crate::engine::keyspace::DATABASES)
            .any(|db| self.engine.keyspace.db(db).expiring_len() > 0);
        let mut wait: Option<i64> = blocked.map(|t| (t - now).max(0));
        if expiring {
            wait = Some(wait.map_or(100, |w| w.min(100)));
        }
        wait.map(|ms| Duration::from_millis(ms as u64))
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Connect {
                addr,
                laddr,
                sink,
                answer,
            } => {
                let id = self.engine.connect();
                self.engine.set_client_addr(id, addr, laddr);
                self.sinks.insert(id, sink);
                let _ = answer.send(id);
            }
            Message::Command { client, argv } => {
                let blocked = self
                    .engine
                    .client(client)
                    .is_some_and(|c| c.blocked.is_some());
                if blocked || self.pending.get(&client).is_some_and(|q| !q.is_empty()) {
                    self.pending.entry(client).or_default().push_back(argv);
                } else {
                    self.execute(client, argv);
                }
            }
            Message::Fatal { client, error } => {
                self.send(
                    client,
                    Outgoing::Reply(Reply::error(format!("ERR {error}"))),
                );
                self.send(client, Outgoing::Close);
            }
            Message::Disconnect { client } => {
                self.engine.disconnect(client);
                self.sinks.remove(&client);
                self.pending.remove(&client);
            }
            Message::Stop => {}
        }
    }

    fn execute(&mut self, client: ClientId, argv: Vec<Vec<u8>>) {
        if argv.is_empty() {
            return;
        }
        if let Some(reply) = self.engine.execute_with(client, &argv, &mut self.scripting) {
            self.send(client, Outgoing::Reply(reply));
        }
        if self.engine.client(client).is_some_and(|c| c.closing) {
            self.send(client, Outgoing::Close);
        }
    }

    fn send(&self, client: ClientId, out: Outgoing) {
        if let Some(sink) = self.sinks.get(&client) {
            let _ = sink.send(out);
        }
    }

    /// Sends queued replies, then runs commands that waited behind a
    /// blocked client that is now free.
    fn deliver(&mut self) {
        loop {
            for (client, reply) in self.engine.take_outbox() {
                self.send(client, Outgoing::Reply(reply));
            }
            let ready: Vec<ClientId> = self
                .pending
                .iter()
                .filter(|(id, q)| {
                    !q.is_empty()
                        && self
                            .engine
                            .client(**id)
                            .is_some_and(|c| c.blocked.is_none())
                })
                .map(|(id, _)| *id)
                .collect();
            if ready.is_empty() {
                return;
            }
            for id in ready {
                while let Some(argv) = self.pending.get_mut(&id).and_then(|q| q.pop_front()) {
                    self.execute(id, argv);
                    if self.engine.client(id).is_some_and(|c| c.blocked.is_some()) {
                        break;
                    }
                }
            }
        }
    }
}
