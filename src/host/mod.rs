//! The engine thread, like Redis's main thread: it owns the [`Engine`] and
//! runs commands one at a time, in arrival order. Every front end (`exec`,
//! `serve` connections, later the TUI) talks to it through a [`Connection`].

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

mod remote;

pub use remote::SERVER_MAX_STEPS;

use crate::engine::keyspace::{Entry, DATABASES};
use crate::engine::{glob, ClientId, ClientIds, Engine, Reply};
use crate::script::{
    busy_answer, Busy, BusyAnswer, BusyPoller, Interrupt, ScriptConfig, Scripting,
};
use crate::trace::{self, Debugger, Limits, Session, Start};

/// What the engine thread sends to a connection.
pub enum Outgoing {
    Reply(Reply),
    /// The client now speaks this RESP version (after HELLO, RESET): the
    /// replies after this marker are encoded in it.
    Protocol(u8),
    /// Close the connection after what was sent before (QUIT, protocol error).
    Close,
    /// The answer to a [`Request`] (interactive front ends only).
    Response(Box<Response>),
}

/// What an interactive front end (the TUI) asks the engine thread, besides
/// plain commands.
pub enum Request {
    /// Run EVAL/EVALSHA/FCALL with the trace recorder; the answer is the
    /// run's [`Session`], built here, its cursor placed as `start` says.
    Trace {
        argv: Vec<Vec<u8>>,
        limits: Limits,
        start: Start,
        /// Other clients' commands around the run.
        lane: Vec<trace::LaneCommand>,
    },
    /// A page of keys with their type, TTL and a short rendering.
    Keys {
        db: usize,
        pattern: Option<Vec<u8>>,
        offset: usize,
        count: usize,
    },
    /// One key's whole entry (the keyspace pane's detail view).
    Key { db: usize, key: Vec<u8> },
    /// Undo a traced run (what Redis never does); the session comes back
    /// with the answer (the undo walks its deltas here, not on the UI thread).
    Undo(Box<Session>),
    /// Put the engine in cluster mode as node 1 of this many masters, or
    /// back to a standalone server (a lesson with `cluster = N` opened or
    /// was left). The keys stay.
    Cluster(Option<usize>),
}

pub enum Response {
    /// The run's view model, ready to draw (built on the engine thread:
    /// the front end does nothing proportional to the run to show it).
    Traced(Box<Session>),
    Keys(KeyPage),
    Key(Vec<u8>, Option<Entry>),
    Undone(Result<(), String>, Box<Session>),
    /// The engine's cluster mode now (`Request::Cluster`), or why not.
    Cluster(Result<Option<usize>, String>),
    /// The request could not be served (a real server refused it or went
    /// away); the text says why, for the user.
    Failed(String),
}

/// One key as the keyspace pane lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyRow {
    pub key: Vec<u8>,
    pub kind: &'static str,
    /// Milliseconds left, when the key has a TTL.
    pub ttl_ms: Option<i64>,
    pub summary: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyPage {
    pub db: usize,
    /// Keys matching the pattern.
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<KeyRow>,
    /// The keyspace's change count when the page was read: a run's view is
    /// stale once this differs from the count its run ended with.
    pub version: u64,
}

/// Answers a request for `client` (on the engine thread, or inline in tests).
pub(crate) fn serve_request(
    engine: &mut Engine,
    scripting: &mut Scripting,
    client: ClientId,
    request: Request,
) -> Response {
    match request {
        Request::Trace {
            argv,
            limits,
            start,
            lane,
        } => engine.with_client(client, |engine, c| {
            let timeline = if argv.first().map(Vec::as_slice) == Some(trace::commands::COMMANDS) {
                let text = String::from_utf8_lossy(argv.get(1).map_or(&[][..], Vec::as_slice))
                    .into_owned();
                trace::record_commands(engine, scripting, c, &text, limits, &lane)
            } else {
                trace::record_with_lane(engine, scripting, c, &argv, limits, &lane)
            };
            let debugger = Debugger::new(timeline, &engine.keyspace);
            let mut session = Session::new(debugger, &start);
            session.keyspace_version = engine.keyspace.changes;
            Response::Traced(Box::new(session))
        }),
        Request::Keys {
            db,
            pattern,
            offset,
            count,
        } => Response::Keys(key_page(engine, db, pattern.as_deref(), offset, count)),
        Request::Key { db, key } => {
            let now = engine.now();
            let entry = engine
                .keyspace
                .db(db.min(DATABASES - 1))
                .entry(&key)
                .filter(|e| e.expire_at.is_none_or(|t| t > now))
                .cloned();
            Response::Key(key, entry)
        }
        Request::Undo(mut session) => {
            let result = session.undo_in(&mut engine.keyspace);
            Response::Undone(result, session)
        }
        Request::Cluster(shards) => Response::Cluster(engine.set_cluster(shards).map(|()| shards)),
    }
}

/// Live keys of `db` matching `pattern`, `count` of them from `offset`.
pub(crate) fn key_page(
    engine: &Engine,
    db: usize,
    pattern: Option<&[u8]>,
    offset: usize,
    count: usize,
) -> KeyPage {
    let db = db.min(DATABASES - 1);
    let now = engine.now();
    let matching = engine
        .keyspace
        .db(db)
        .iter()
        .filter(|(_, e)| e.expire_at.is_none_or(|t| t > now))
        .filter(|(k, _)| pattern.is_none_or(|p| p == b"*" || glob::matches(p, k, false)));
    let mut total = 0;
    let mut rows = Vec::new();
    for (i, (key, entry)) in matching.enumerate() {
        total += 1;
        if i >= offset && rows.len() < count {
            rows.push(KeyRow {
                key: key.clone(),
                kind: entry.value.kind().name(),
                ttl_ms: entry.expire_at.map(|t| t - now),
                summary: trace::export::short_value(entry, 120),
            });
        }
    }
    KeyPage {
        db,
        total,
        offset,
        rows,
        version: engine.keyspace.changes,
    }
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
    /// A connection accepted while the engine was busy, to register with it.
    Registered {
        client: ClientId,
        addr: String,
        laddr: String,
    },
    Request {
        client: ClientId,
        request: Request,
    },
    Stop,
}

/// A handle on the engine thread; dropping it stops the thread (connections
/// still open then see the engine as gone).
pub struct Host {
    tx: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
    interrupt: Interrupt,
}

/// Queue depth between readers and the engine thread; a full queue makes
/// readers wait, which bounds memory under a flood.
const QUEUE: usize = 4096;

impl Host {
    /// Starts the engine thread. The engine and its Lua state are built on
    /// that thread (a Lua state cannot move between threads).
    pub fn start(make: impl FnOnce() -> Engine + Send + 'static, script: ScriptConfig) -> Host {
        Host::start_with(make, script, false)
    }

    /// `start` for `redstep serve`: SHUTDOWN (and SHUTDOWN NOSAVE while a
    /// script is busy) ends the process, as it ends Redis.
    pub fn start_server_engine(
        make: impl FnOnce() -> Engine + Send + 'static,
        script: ScriptConfig,
    ) -> Host {
        Host::start_with(make, script, true)
    }

    fn start_with(
        make: impl FnOnce() -> Engine + Send + 'static,
        script: ScriptConfig,
        shutdown_exits: bool,
    ) -> Host {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let interrupt = Interrupt::default();
        let engine_interrupt = interrupt.clone();
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .stack_size(64 * 1024 * 1024)
            .spawn(move || {
                let mut engine = make();
                let mut scripting = Scripting::new(&mut engine, script);
                scripting.interrupt = engine_interrupt;
                EngineLoop::new(engine, scripting, rx, shutdown_exits).run()
            })
            .expect("spawn engine thread");
        Host {
            tx,
            thread: Some(thread),
            interrupt,
        }
    }

    /// Stops the running script from any thread (Esc in the TUI).
    pub(crate) fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    pub(crate) fn connect(&self, addr: String, laddr: String) -> Connection {
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
    /// Sends a command without waiting for its reply.
    pub fn send(&self, argv: Vec<Vec<u8>>) {
        self.sender.send(argv);
    }

    /// The next thing the engine sends this connection (None: engine gone).
    pub(crate) fn recv(&self) -> Option<Outgoing> {
        self.outgoing.recv().ok()
    }

    /// The next thing the engine sends, if it comes within `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Outgoing> {
        self.outgoing.recv_timeout(timeout).ok()
    }

    /// Sends a command and waits for its reply.
    pub fn call(&self, argv: Vec<Vec<u8>>) -> Reply {
        self.send(argv);
        loop {
            match self.recv() {
                Some(Outgoing::Reply(r)) => return r,
                Some(_) => continue,
                None => return Reply::error("ERR engine stopped"),
            }
        }
    }

    /// Sends a request; its answer arrives as `Outgoing::Response`.
    pub fn request(&self, request: Request) {
        self.sender.request(request);
    }

    /// The sending and receiving halves, for a reader and a writer thread.
    pub(crate) fn split(self) -> (ClientSender, Receiver<Outgoing>) {
        (self.sender, self.outgoing)
    }
}

/// The sending half of a [`Connection`]; dropping it disconnects.
pub(crate) struct ClientSender {
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

    /// Sends a request; its answer arrives as `Outgoing::Response`.
    pub fn request(&self, request: Request) {
        let _ = self.tx.send(Message::Request {
            client: self.id,
            request,
        });
    }

    /// Reports a protocol error: the engine replies with it, then closes.
    pub(crate) fn fatal(&self, error: String) {
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

/// What the engine loop and the busy poller share (both on the engine
/// thread; never borrowed across a command's execution).
struct Shared {
    rx: Receiver<Message>,
    sinks: HashMap<ClientId, Sender<Outgoing>>,
    ids: ClientIds,
    /// Messages that arrived while a script was busy and need the engine.
    deferred: VecDeque<Message>,
    /// The client whose command is running (its input waits, as Redis
    /// protects a script's caller).
    running_for: Option<ClientId>,
    /// SHUTDOWN ends the process (`redstep serve`), or is refused (the TUI).
    shutdown_exits: bool,
    /// Clients speaking RESP3.
    resp3: std::collections::HashSet<ClientId>,
    /// Interactive front ends (they send `Request`s: the TUI): CLIENT KILL
    /// does not close them, or the learner's session would end.
    interactive: std::collections::HashSet<ClientId>,
}

impl Shared {
    /// Tells the client's writer when its protocol changed (before the
    /// reply that changed it: HELLO 3 answers in RESP3).
    fn note_protocol(&mut self, client: ClientId, engine: &Engine) {
        let now3 = engine.client(client).is_some_and(|c| c.resp == 3);
        let was3 = self.resp3.contains(&client);
        if now3 != was3 {
            if now3 {
                self.resp3.insert(client);
            } else {
                self.resp3.remove(&client);
            }
            self.send(client, Outgoing::Protocol(if now3 { 3 } else { 2 }));
        }
    }

    fn send(&self, client: ClientId, out: Outgoing) {
        if let Some(sink) = self.sinks.get(&client) {
            let _ = sink.send(out);
        }
    }

    /// Registers a connection's sink and answers its id at once; the engine
    /// learns about it in `EngineLoop::handle` (deferred while busy).
    fn accept(
        &mut self,
        addr: String,
        laddr: String,
        sink: Sender<Outgoing>,
        answer: Sender<ClientId>,
    ) -> Message {
        let id = self.ids.next();
        self.sinks.insert(id, sink);
        let _ = answer.send(id);
        Message::Registered {
            client: id,
            addr,
            laddr,
        }
    }
}

/// Answers other clients while a script runs past the busy threshold, as
/// Redis does between hook calls.
struct HostPoller(Rc<RefCell<Shared>>);

impl BusyPoller for HostPoller {
    fn poll(&mut self, engine: &mut Engine, busy: &Busy<'_>) -> bool {
        let mut shared = self.0.borrow_mut();
        let mut kill = false;
        loop {
            let message = match shared.rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return kill,
            };
            match message {
                Message::Connect {
                    addr,
                    laddr,
                    sink,
                    answer,
                } => {
                    if let Message::Registered {
                        client,
                        addr,
                        laddr,
                    } = shared.accept(addr, laddr, sink, answer)
                    {
                        engine.connect_as(client);
                        engine.set_client_addr(client, addr, laddr);
                    }
                }
                Message::Command { client, argv }
                    if Some(client) == shared.running_for || argv.is_empty() =>
                {
                    shared.deferred.push_back(Message::Command { client, argv });
                }
                Message::Command { client, argv } => {
                    let reply = busy_reply(engine, &shared, client, &argv, busy, &mut kill);
                    shared.note_protocol(client, engine);
                    shared.send(client, Outgoing::Reply(reply));
                    if engine.client(client).is_some_and(|c| c.closing) {
                        shared.send(client, Outgoing::Close);
                    }
                }
                Message::Fatal { client, error } => {
                    shared.send(
                        client,
                        Outgoing::Reply(Reply::error(format!("ERR {error}"))),
                    );
                    shared.send(client, Outgoing::Close);
                }
                other => shared.deferred.push_back(other),
            }
        }
    }
}

/// Another client's command while a script is busy, answered as Redis's
/// `processCommand` does: lookup and arity errors first, then the busy
/// rule; a refused command flags the client's transaction, and EXEC
/// aborts it.
fn busy_reply(
    engine: &mut Engine,
    shared: &Shared,
    client: ClientId,
    argv: &[Vec<u8>],
    busy: &Busy<'_>,
    kill: &mut bool,
) -> Reply {
    let refuse = |engine: &mut Engine, reply: Reply| -> Reply {
        let Some(c) = engine.client_mut(client) else {
            return reply;
        };
        if c.multi.is_none() {
            return reply;
        }
        c.multi_error = true;
        if argv[0].eq_ignore_ascii_case(b"exec") {
            engine.execute(client, &[b"DISCARD".to_vec()]);
            let text = reply.error_text().unwrap_or_default();
            return Reply::error(format!(
                "EXECABORT Transaction discarded because of: {text}"
            ));
        }
        reply
    };
    let allow_busy = match engine.lookup_command(argv) {
        Ok(spec) => spec.flags & crate::engine::table::flags::ALLOW_BUSY != 0,
        Err(reply) => return refuse(engine, reply),
    };
    match busy_answer(argv, allow_busy, busy.is_function, busy.wrote) {
        BusyAnswer::Reply(reply) => refuse(engine, reply),
        BusyAnswer::Kill => {
            *kill = true;
            Reply::ok()
        }
        BusyAnswer::Shutdown if shared.shutdown_exits => std::process::exit(0),
        BusyAnswer::Shutdown => Reply::error(TUI_SHUTDOWN),
        BusyAnswer::Run if argv[0].eq_ignore_ascii_case(b"function") => function_stats(busy),
        BusyAnswer::Run => engine.execute(client, argv).unwrap_or(Reply::NilArray),
    }
}

/// FUNCTION STATS while a function is busy: the running script, then the
/// engines, as Redis 7.0 replies (RESP2).
fn function_stats(busy: &Busy<'_>) -> Reply {
    Reply::Array(vec![
        Reply::bulk("running_script"),
        Reply::Array(vec![
            Reply::bulk("name"),
            Reply::bulk(busy.name),
            Reply::bulk("command"),
            Reply::bulks(busy.command.iter()),
            Reply::bulk("duration_ms"),
            Reply::Int(busy.duration_ms),
        ]),
        Reply::bulk("engines"),
        Reply::Array(vec![
            Reply::bulk("LUA"),
            Reply::Array(vec![
                Reply::bulk("libraries_count"),
                Reply::Int(busy.libraries as i64),
                Reply::bulk("functions_count"),
                Reply::Int(busy.functions as i64),
            ]),
        ]),
    ])
}

/// SHUTDOWN where the engine is not a server's (the TUI, `exec`).
const TUI_SHUTDOWN: &str = "ERR redstep: SHUTDOWN ends `redstep serve`; this engine is not a server and keeps running (in the TUI, Ctrl+Q quits)";

struct EngineLoop {
    engine: Engine,
    scripting: Scripting,
    shared: Rc<RefCell<Shared>>,
    /// Commands that arrived while their client was blocked.
    pending: HashMap<ClientId, VecDeque<Vec<Vec<u8>>>>,
}

impl EngineLoop {
    fn new(
        engine: Engine,
        mut scripting: Scripting,
        rx: Receiver<Message>,
        shutdown_exits: bool,
    ) -> Self {
        let shared = Rc::new(RefCell::new(Shared {
            rx,
            sinks: HashMap::new(),
            ids: engine.client_ids(),
            deferred: VecDeque::new(),
            running_for: None,
            shutdown_exits,
            resp3: std::collections::HashSet::new(),
            interactive: std::collections::HashSet::new(),
        }));
        scripting.poller = Some(Box::new(HostPoller(Rc::clone(&shared))));
        EngineLoop {
            engine,
            scripting,
            shared,
            pending: HashMap::new(),
        }
    }

    fn run(mut self) {
        loop {
            let deferred = self.shared.borrow_mut().deferred.pop_front();
            let message = match deferred {
                Some(m) => Some(m),
                None => {
                    let wait = self.next_wakeup();
                    let shared = self.shared.borrow();
                    match wait {
                        Some(d) => match shared.rx.recv_timeout(d) {
                            Ok(m) => Some(m),
                            Err(RecvTimeoutError::Timeout) => None,
                            Err(RecvTimeoutError::Disconnected) => return,
                        },
                        None => match shared.rx.recv() {
                            Ok(m) => Some(m),
                            Err(_) => return,
                        },
                    }
                }
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
        // A CLIENT PAUSE ends by itself too.
        let blocked = match (blocked, self.engine.pause_end()) {
            (Some(b), Some(p)) => Some(b.min(p + 1)),
            (b, p) => b.or(p.map(|p| p + 1)),
        };
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
                let registered = self.shared.borrow_mut().accept(addr, laddr, sink, answer);
                self.handle(registered);
            }
            Message::Registered {
                client,
                addr,
                laddr,
            } => {
                self.engine.connect_as(client);
                self.engine.set_client_addr(client, addr, laddr);
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
            Message::Request { client, request } => {
                self.shared.borrow_mut().interactive.insert(client);
                self.shared.borrow_mut().running_for = Some(client);
                let response =
                    serve_request(&mut self.engine, &mut self.scripting, client, request);
                self.shared.borrow_mut().running_for = None;
                self.send(client, Outgoing::Response(Box::new(response)));
            }
            Message::Disconnect { client } => {
                self.engine.disconnect(client);
                self.shared.borrow_mut().resp3.remove(&client);
                self.shared.borrow_mut().sinks.remove(&client);
                self.pending.remove(&client);
            }
            Message::Stop => {}
        }
    }

    fn execute(&mut self, client: ClientId, argv: Vec<Vec<u8>>) {
        if argv.is_empty() || !self.shared.borrow().sinks.contains_key(&client) {
            return;
        }
        self.shared.borrow_mut().running_for = Some(client);
        let mode = |engine: &Engine| {
            engine
                .client(client)
                .map_or(crate::engine::ReplyMode::On, |c| c.reply_mode)
        };
        let before = mode(&self.engine);
        let mut reply = self.engine.execute_with(client, &argv, &mut self.scripting);
        // CLIENT REPLY: OFF keeps every reply back, SKIP the next command's
        // (and its own), ON answers again (its own OK included).
        let after = mode(&self.engine);
        let silent = match (before, after) {
            (_, crate::engine::ReplyMode::Off) => true,
            (crate::engine::ReplyMode::Skip, _) => {
                if after == crate::engine::ReplyMode::Skip {
                    if let Some(c) = self.engine.client_mut(client) {
                        c.reply_mode = crate::engine::ReplyMode::On;
                    }
                }
                true
            }
            (_, crate::engine::ReplyMode::Skip) => true,
            _ => false,
        };
        if silent {
            reply = None;
        }
        self.shared.borrow_mut().running_for = None;
        if std::mem::take(&mut self.engine.shutdown_requested) {
            if self.shared.borrow().shutdown_exits {
                // Redis exits without a reply; redstep keeps nothing on disk.
                std::process::exit(0);
            }
            reply = Some(Reply::error(TUI_SHUTDOWN));
        }
        self.shared.borrow_mut().note_protocol(client, &self.engine);
        for message in self.engine.take_published_to(client) {
            self.send(client, Outgoing::Reply(message));
        }
        if let Some(reply) = reply {
            self.send(client, Outgoing::Reply(reply));
        }
        if self.engine.client(client).is_some_and(|c| c.closing) {
            self.send(client, Outgoing::Close);
        }
    }

    fn send(&self, client: ClientId, out: Outgoing) {
        self.shared.borrow().send(client, out);
    }

    /// Sends queued replies, then runs commands that waited behind a
    /// blocked client that is now free.
    fn deliver(&mut self) {
        // CLIENT KILL: close those connections after what they were sent.
        for id in std::mem::take(&mut self.engine.killed) {
            if !self.shared.borrow().interactive.contains(&id) {
                self.send(id, Outgoing::Close);
            }
        }
        loop {
            for (client, reply) in self.engine.take_outbox() {
                self.send(client, Outgoing::Reply(reply));
            }
            // The end of a CLIENT PAUSE: each held command runs in the
            // order it came, then what its client sent after it.
            for (id, argv) in self.engine.take_resumed() {
                self.execute(id, argv);
                while self.engine.client(id).is_some_and(|c| c.blocked.is_none()) {
                    let Some(argv) = self.pending.get_mut(&id).and_then(|q| q.pop_front()) else {
                        break;
                    };
                    self.execute(id, argv);
                }
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
