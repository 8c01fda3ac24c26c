//! The engine thread, like Redis's main thread: it owns the [`Engine`] and
//! runs commands one at a time, in arrival order. In-process front ends
//! (`exec`, the TUI) talk to it through a [`Connection`] (a channel); the
//! TCP clients of `serve` are served on the same thread by one event loop
//! (`net`), as Redis's ae loop serves them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

mod net;
mod remote;

use net::{NetClient, QUERY_LIMIT};

pub use remote::SERVER_MAX_STEPS;

use crate::engine::keyspace::{Entry, DATABASES};
use crate::engine::{glob, ClientId, ClientIds, Engine, FastMap, Reply};

type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
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
    /// The command ran and its reply was held back (CLIENT REPLY OFF or
    /// SKIP): none will come for it. A connection writes nothing; a front
    /// end that pairs replies with the commands it sent stops waiting.
    Silenced,
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
    /// The front end's command that waits (BLPOP, WAIT...) answered now
    /// with its timeout reply, as CLIENT UNBLOCK from another client would.
    Unblock,
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
    /// Whether a waiting command was unblocked (`Request::Unblock`).
    Unblocked(bool),
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
        Request::Unblock => Response::Unblocked(engine.unblock_client(client, false)),
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
    /// `serial`: the front end's message count (see [`Interrupt`]).
    Command {
        client: ClientId,
        argv: Vec<Vec<u8>>,
        serial: u64,
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
        serial: u64,
    },
    /// Serve TCP clients from this listener (`redstep serve`).
    Listen {
        listener: mio::net::TcpListener,
        max_bulk: i64,
    },
    Stop,
}

/// A handle on the engine thread; dropping it stops the thread (connections
/// still open then see the engine as gone).
pub struct Host {
    tx: SyncSender<Message>,
    /// Wakes the engine thread's event loop after a message (None: the
    /// thread waits on the channel alone).
    waker: Option<Arc<Waker>>,
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
        let poll = Poll::new().expect("an epoll instance");
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).expect("an eventfd"));
        let thread = std::thread::Builder::new()
            .name("engine".into())
            .stack_size(64 * 1024 * 1024)
            .spawn(move || {
                let mut engine = make();
                let mut scripting = Scripting::new(&mut engine, script);
                scripting.interrupt = engine_interrupt;
                EngineLoop::new(engine, scripting, rx, poll, shutdown_exits).run()
            })
            .expect("spawn engine thread");
        Host {
            tx,
            waker: Some(waker),
            thread: Some(thread),
            interrupt,
        }
    }

    /// Serves TCP clients from `listener` on the engine thread until the
    /// process ends (`redstep serve`).
    pub fn serve(mut self, listener: std::net::TcpListener, max_bulk: i64) -> anyhow::Result<()> {
        listener.set_nonblocking(true)?;
        let listener = mio::net::TcpListener::from_std(listener);
        self.tx
            .send(Message::Listen { listener, max_bulk })
            .map_err(|_| anyhow::anyhow!("the engine thread stopped"))?;
        wake(&self.waker);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Ok(())
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
        wake(&self.waker);
        let id = id.recv().expect("engine thread answers");
        Connection {
            sender: ClientSender {
                id,
                tx: self.tx.clone(),
                waker: self.waker.clone(),
                interrupt: self.interrupt.clone(),
            },
            outgoing,
            resp3: std::cell::Cell::new(false),
        }
    }
}

fn wake(waker: &Option<Arc<Waker>>) {
    if let Some(w) = waker {
        let _ = w.wake();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A running script is stopped first (it holds the engine thread),
        // as Esc stops it; one stuck in a single long C call (a huge
        // string.rep, say) is not waited for past a second: the thread
        // ends with the process (the TUI quits, its terminal restored).
        self.interrupt.request();
        let _ = self.tx.send(Message::Stop);
        wake(&self.waker);
        if let Some(t) = self.thread.take() {
            let waited = std::time::Instant::now();
            while !t.is_finished() && waited.elapsed() < std::time::Duration::from_secs(1) {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// One client of the engine thread; dropping it disconnects.
pub struct Connection {
    sender: ClientSender,
    outgoing: Receiver<Outgoing>,
    /// Whether the connection speaks RESP3 (HELLO 3), as [`call`](Self::call) last heard.
    resp3: std::cell::Cell<bool>,
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
                Some(Outgoing::Protocol(version)) => self.resp3.set(version == 3),
                // CLIENT REPLY OFF/SKIP: no reply comes; nil stands for it.
                Some(Outgoing::Silenced) => return Reply::Nil,
                Some(_) => continue,
                None => return Reply::error("ERR engine stopped"),
            }
        }
    }

    /// Whether the connection speaks RESP3, as of the last [`call`](Self::call).
    pub fn resp3(&self) -> bool {
        self.resp3.get()
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
    waker: Option<Arc<Waker>>,
    /// Numbers each message, so a stop reaches only what was sent before it.
    interrupt: Interrupt,
}

impl ClientSender {
    pub fn send(&self, argv: Vec<Vec<u8>>) {
        self.message(Message::Command {
            client: self.id,
            argv,
            serial: self.interrupt.next_serial(),
        });
    }

    /// Sends a request; its answer arrives as `Outgoing::Response`.
    pub fn request(&self, request: Request) {
        self.message(Message::Request {
            client: self.id,
            request,
            serial: self.interrupt.next_serial(),
        });
    }

    fn message(&self, message: Message) {
        let _ = self.tx.send(message);
        wake(&self.waker);
    }
}

impl Drop for ClientSender {
    fn drop(&mut self) {
        self.message(Message::Disconnect { client: self.id });
    }
}

/// The event loop's own tokens; a TCP client's token is its id.
const WAKER: Token = Token(usize::MAX);
const LISTENER: Token = Token(usize::MAX - 1);

/// Where a client's replies go.
enum Sink {
    /// An in-process front end (the TUI, `exec`).
    Channel(Sender<Outgoing>),
    /// A TCP client, encoded into its output buffer.
    Net(Box<NetClient>),
}

/// What the engine loop and the busy poller share (both on the engine
/// thread; never borrowed across a command's execution).
struct Shared {
    rx: Receiver<Message>,
    poll: Poll,
    events: Events,
    /// The listener of `serve` and the largest bulk length it accepts.
    listener: Option<(mio::net::TcpListener, i64)>,
    sinks: FastMap<ClientId, Sink>,
    ids: ClientIds,
    /// Messages that arrived while a script was busy and need the engine.
    deferred: VecDeque<Message>,
    /// TCP clients whose socket may hold requests, in the order they came.
    ready: VecDeque<ClientId>,
    /// TCP clients with input that wait until they may run (blocked, paused).
    held: Vec<ClientId>,
    /// TCP clients with output to write (or to close).
    dirty: Vec<ClientId>,
    /// TCP clients whose connection went away while their command ran:
    /// dropped once it has returned (Redis protects a script's caller).
    dropped_later: Vec<ClientId>,
    /// Accepting failed (out of file descriptors): try again soon.
    accept_later: bool,
    /// The client whose command is running (its input waits, as Redis
    /// protects a script's caller).
    running_for: Option<ClientId>,
    /// SHUTDOWN ends the process (`redstep serve`), or is refused (the TUI).
    shutdown_exits: bool,
    /// Clients speaking RESP3.
    resp3: FastSet<ClientId>,
    /// Interactive front ends (they send `Request`s: the TUI): CLIENT KILL
    /// does not close them, or the learner's session would end.
    interactive: FastSet<ClientId>,
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

    fn send(&mut self, client: ClientId, out: Outgoing) {
        match self.sinks.get_mut(&client) {
            Some(Sink::Channel(sink)) => {
                let _ = sink.send(out);
            }
            Some(Sink::Net(net)) => {
                match out {
                    Outgoing::Reply(reply) => net.push(&reply),
                    Outgoing::Protocol(version) => net.resp3 = version == 3,
                    Outgoing::Close => net.closing = true,
                    Outgoing::Response(_) | Outgoing::Silenced => return,
                }
                if !net.dirty {
                    net.dirty = true;
                    self.dirty.push(client);
                }
            }
            None => {}
        }
    }

    fn is_net(&self, client: ClientId) -> bool {
        matches!(self.sinks.get(&client), Some(Sink::Net(_)))
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
        self.sinks.insert(id, Sink::Channel(sink));
        let _ = answer.send(id);
        Message::Registered {
            client: id,
            addr,
            laddr,
        }
    }

    fn listen(&mut self, mut listener: mio::net::TcpListener, max_bulk: i64) {
        if self
            .poll
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .is_ok()
        {
            self.listener = Some((listener, max_bulk));
        }
    }

    /// Waits up to `timeout` for sockets and messages, then accepts new
    /// connections and queues the clients whose sockets have news; whether
    /// there was any.
    fn poll(&mut self, engine: &mut Engine, timeout: Option<Duration>) -> bool {
        if self.poll.poll(&mut self.events, timeout).is_err() {
            return false;
        }
        let news = !self.events.is_empty();
        let mut accept = false;
        for event in self.events.iter() {
            match event.token() {
                WAKER => {}
                LISTENER => accept = true,
                Token(id) => {
                    let id = id as ClientId;
                    let Some(Sink::Net(net)) = self.sinks.get_mut(&id) else {
                        continue;
                    };
                    if event.is_readable() || event.is_read_closed() || event.is_error() {
                        net.readable = true;
                        net.read_closed |= event.is_read_closed() || event.is_error();
                        if !net.queued {
                            net.queued = true;
                            self.ready.push_back(id);
                        }
                    }
                    if event.is_writable() && !net.dirty {
                        net.dirty = true;
                        self.dirty.push(id);
                    }
                }
            }
        }
        if accept {
            self.accept_tcp(engine);
        }
        news
    }

    /// Takes every connection waiting on the listener.
    fn accept_tcp(&mut self, engine: &mut Engine) {
        let Some((listener, max_bulk)) = &self.listener else {
            return;
        };
        loop {
            let (mut stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    // The backlog keeps its connections; no new event may
                    // come for them, so the loop asks again shortly.
                    self.accept_later = true;
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            let laddr = stream
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let id = self.ids.next();
            let interest = Interest::READABLE | Interest::WRITABLE;
            if self
                .poll
                .registry()
                .register(&mut stream, Token(id as usize), interest)
                .is_err()
            {
                continue;
            }
            let mut net = NetClient::new(stream, *max_bulk);
            net.queued = true;
            self.sinks.insert(id, Sink::Net(Box::new(net)));
            self.ready.push_back(id);
            engine.connect_as(id);
            engine.set_client_addr(id, peer.to_string(), laddr);
        }
    }

    /// The next request a TCP client sent, reading its socket while
    /// `budget` lasts; None when nothing whole is there (the client is
    /// queued again if its socket may hold more, and closes once written
    /// out if its peer is gone or sent what is not RESP).
    ///
    /// A request that is a line of HTTP (POST, Host:) closes the
    /// connection at once, without a reply nor the ones it was still owed,
    /// as the first thing Redis's processCommand does (busy script or
    /// not): cross-protocol scripting, a web page talking to the server.
    fn next_request(
        &mut self,
        engine: &mut Engine,
        client: ClientId,
        budget: &mut usize,
    ) -> Option<Vec<Vec<u8>>> {
        let Some(Sink::Net(net)) = self.sinks.get_mut(&client) else {
            return None;
        };
        net.queued = false;
        if net.closing {
            return None;
        }
        match net.next(budget) {
            net::Input::Request(argv) if net::looks_like_http(&argv) => {
                self.drop_net(engine, client);
                net::warn_http();
                return None;
            }
            net::Input::Request(argv) => return Some(argv),
            net::Input::Error(error) => {
                net.push(&Reply::error(format!("ERR {error}")));
                net.closing = true;
            }
            net::Input::Wait if net.gone => net.closing = true,
            net::Input::Wait => {
                if net.readable {
                    net.queued = true;
                    self.ready.push_back(client);
                }
                return None;
            }
        }
        if !net.dirty {
            net.dirty = true;
            self.dirty.push(client);
        }
        None
    }

    /// A TCP client that cannot run now keeps what it sent; its socket is
    /// read on (a turn's worth at a time), so that a peer that went away
    /// is seen, as Redis reads a blocked client, up to its query buffer limit.
    fn hold(&mut self, engine: &mut Engine, client: ClientId) {
        let Some(Sink::Net(net)) = self.sinks.get_mut(&client) else {
            return;
        };
        net.queued = false;
        let mut budget = net::TURN;
        while budget > 0 {
            match net.fill() {
                0 => break,
                n => budget = budget.saturating_sub(n),
            }
        }
        if net.gone || net.held() > QUERY_LIMIT {
            self.drop_net(engine, client);
            return;
        }
        if net.readable {
            net.queued = true;
            self.ready.push_back(client);
        }
        if !self.held.contains(&client) {
            self.held.push(client);
        }
    }

    /// Writes out what TCP clients are owed; closes those done with.
    fn flush(&mut self, engine: &mut Engine) {
        for id in std::mem::take(&mut self.dirty) {
            let Some(Sink::Net(net)) = self.sinks.get_mut(&id) else {
                continue;
            };
            net.dirty = false;
            match net.flush() {
                net::Flushed::Done if net.closing => self.drop_net(engine, id),
                net::Flushed::Done | net::Flushed::Pending => {}
                net::Flushed::Failed => self.drop_net(engine, id),
            }
        }
    }

    fn drop_net(&mut self, engine: &mut Engine, client: ClientId) {
        if Some(client) == self.running_for {
            // Out of the client table while its command runs: dropped
            // when it returns.
            if let Some(Sink::Net(net)) = self.sinks.get_mut(&client) {
                net.gone = true;
                net.closing = true;
            }
            if !self.dropped_later.contains(&client) {
                self.dropped_later.push(client);
            }
            return;
        }
        if let Some(Sink::Net(mut net)) = self.sinks.remove(&client) {
            let _ = self.poll.registry().deregister(net.stream());
        }
        self.resp3.remove(&client);
        self.held.retain(|id| *id != client);
        engine.disconnect(client);
    }
}

/// A command waiting for its client to be free, with its message's serial.
type Pending = (u64, Vec<Vec<u8>>);

/// Answers other clients while a script runs past the busy threshold, as
/// Redis does between hook calls.
struct HostPoller(Rc<RefCell<Shared>>);

impl BusyPoller for HostPoller {
    fn poll(&mut self, engine: &mut Engine, busy: &Busy<'_>) -> bool {
        let mut shared = self.0.borrow_mut();
        let shared = &mut *shared;
        let mut kill = false;
        loop {
            let message = match shared.rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
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
                Message::Command {
                    client,
                    argv,
                    serial,
                } if Some(client) == shared.running_for || argv.is_empty() => {
                    shared.deferred.push_back(Message::Command {
                        client,
                        argv,
                        serial,
                    });
                }
                Message::Command { client, argv, .. } => {
                    busy_answer_to(engine, shared, client, &argv, busy, &mut kill);
                }
                other => shared.deferred.push_back(other),
            }
        }
        shared.poll(engine, Some(Duration::ZERO));
        // The script's caller and blocked clients wait for the script's end.
        let mut later = Vec::new();
        for id in std::mem::take(&mut shared.ready) {
            let runnable = engine.client(id).is_some_and(|c| c.blocked.is_none());
            if Some(id) == shared.running_for || !runnable {
                later.push(id);
                continue;
            }
            let mut budget = net::TURN;
            while let Some(argv) = shared.next_request(engine, id, &mut budget) {
                busy_answer_to(engine, shared, id, &argv, busy, &mut kill);
            }
        }
        for id in later {
            if let Some(Sink::Net(net)) = shared.sinks.get_mut(&id) {
                net.queued = true;
                shared.ready.push_back(id);
            }
        }
        shared.flush(engine);
        kill
    }
}

fn busy_answer_to(
    engine: &mut Engine,
    shared: &mut Shared,
    client: ClientId,
    argv: &[Vec<u8>],
    busy: &Busy<'_>,
    kill: &mut bool,
) {
    let reply = busy_reply(engine, shared, client, argv, busy, kill);
    shared.note_protocol(client, engine);
    shared.send(client, Outgoing::Reply(reply));
    if engine.client(client).is_some_and(|c| c.closing) {
        shared.send(client, Outgoing::Close);
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
/// engines, as Redis 7.0 replies.
fn function_stats(busy: &Busy<'_>) -> Reply {
    crate::script::functions::stats_reply(
        Reply::Map(vec![
            (Reply::bulk("name"), Reply::bulk(busy.name)),
            (Reply::bulk("command"), Reply::bulks(busy.command.iter())),
            (Reply::bulk("duration_ms"), Reply::Int(busy.duration_ms)),
        ]),
        busy.libraries,
        busy.functions,
    )
}

/// SHUTDOWN where the engine is not a server's (the TUI, `exec`).
const TUI_SHUTDOWN: &str = "ERR redstep: SHUTDOWN ends `redstep serve`; this engine is not a server and keeps running (in the TUI, Ctrl+Q quits)";

struct EngineLoop {
    engine: Engine,
    scripting: Scripting,
    shared: Rc<RefCell<Shared>>,
    /// Commands of in-process clients that arrived while they were blocked
    /// (a TCP client's wait in its input buffer).
    pending: FastMap<ClientId, VecDeque<Pending>>,
}

/// Messages handled in one turn of the loop, at most (then sockets get theirs).
const MESSAGES_PER_TURN: usize = 1024;

/// How long the loop keeps polling, without sleeping, after a turn that
/// had news. A client that answers each reply with its next request (a
/// benchmark's, a queue worker's) then finds the loop awake: a sleeping
/// thread is woken by the sender's write, and on a virtual machine that
/// wakeup costs the sender more than the request itself costs the server
/// (`redis-benchmark` EVAL, 50 clients: ~16,000 sleeps a 100,000 requests
/// without this, ~300 with it, and 4-9% more requests a second in three runs; the README's
/// Speed section). Idle, the loop sleeps as before; each poll returns to the
/// kernel, so a client sharing the core preempts it.
const KEEP_POLLING: Duration = Duration::from_micros(50);

impl EngineLoop {
    fn new(
        engine: Engine,
        mut scripting: Scripting,
        rx: Receiver<Message>,
        poll: Poll,
        shutdown_exits: bool,
    ) -> Self {
        let shared = Rc::new(RefCell::new(Shared {
            rx,
            poll,
            events: Events::with_capacity(1024),
            listener: None,
            sinks: FastMap::default(),
            ids: engine.client_ids(),
            deferred: VecDeque::new(),
            ready: VecDeque::new(),
            held: Vec::new(),
            dirty: Vec::new(),
            dropped_later: Vec::new(),
            accept_later: false,
            running_for: None,
            shutdown_exits,
            resp3: FastSet::default(),
            interactive: FastSet::default(),
        }));
        scripting.poller = Some(Box::new(HostPoller(Rc::clone(&shared))));
        EngineLoop {
            engine,
            scripting,
            shared,
            pending: FastMap::default(),
        }
    }

    /// One turn: wait for sockets, messages or the next timer (not at all
    /// for [`KEEP_POLLING`] after news); handle the messages, then each TCP
    /// client with input once; then timers, what became free, and write out
    /// the replies.
    fn run(mut self) {
        let mut more_messages = false;
        let mut last_news = Instant::now();
        loop {
            loop {
                let deferred = self.shared.borrow_mut().deferred.pop_front();
                match deferred {
                    Some(Message::Stop) => return,
                    Some(m) => self.handle(m),
                    None => break,
                }
            }
            let busy = more_messages || !self.shared.borrow().ready.is_empty();
            let mut wait = if busy || last_news.elapsed() < KEEP_POLLING {
                Some(Duration::ZERO)
            } else {
                self.next_wakeup()
            };
            if std::mem::take(&mut self.shared.borrow_mut().accept_later) {
                self.shared.borrow_mut().accept_tcp(&mut self.engine);
                let retry = Duration::from_millis(100);
                wait = Some(wait.map_or(retry, |w| w.min(retry)));
            }
            if self.shared.borrow_mut().poll(&mut self.engine, wait) {
                last_news = Instant::now();
            }
            more_messages = false;
            for _ in 0..MESSAGES_PER_TURN {
                let message = self.shared.borrow().rx.try_recv();
                match message {
                    Ok(Message::Stop) | Err(TryRecvError::Disconnected) => return,
                    Ok(m) => self.handle(m),
                    Err(TryRecvError::Empty) => break,
                }
                more_messages = true;
            }
            // Each client queued now gets one turn (those queued again, or
            // queued meanwhile, wait for the next; a busy script's poller
            // serves the ones still in the queue).
            let queued = self.shared.borrow().ready.len();
            for _ in 0..queued {
                let next = self.shared.borrow_mut().ready.pop_front();
                match next {
                    Some(id) => self.serve_net(id),
                    None => break,
                }
            }
            self.engine.active_expire();
            self.engine.expire_blocked();
            // Before sleeping, as Redis's beforeSleep: BCAST tracking
            // clients get the keys changed in this turn.
            self.engine.broadcast_tracking();
            self.deliver();
            self.shared.borrow_mut().flush(&mut self.engine);
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
            Message::Command {
                client,
                argv,
                serial,
            } => {
                if !self.runnable(client)
                    || self.pending.get(&client).is_some_and(|q| !q.is_empty())
                {
                    self.pending
                        .entry(client)
                        .or_default()
                        .push_back((serial, argv));
                } else {
                    self.execute(client, argv, serial);
                }
            }
            Message::Request {
                client,
                request,
                serial,
            } => {
                self.scripting.interrupt.begin(serial);
                self.shared.borrow_mut().interactive.insert(client);
                self.shared.borrow_mut().running_for = Some(client);
                let response =
                    serve_request(&mut self.engine, &mut self.scripting, client, request);
                self.shared.borrow_mut().running_for = None;
                // What the run published to its own client (the TUI's
                // redis-cli pane, subscribed) comes before the run's
                // answer, as a command's does.
                for message in self.engine.take_published_to(client) {
                    self.send(client, Outgoing::Reply(message));
                }
                self.send(client, Outgoing::Response(Box::new(response)));
            }
            Message::Disconnect { client } => {
                self.engine.disconnect(client);
                self.shared.borrow_mut().resp3.remove(&client);
                self.shared.borrow_mut().sinks.remove(&client);
                self.pending.remove(&client);
            }
            Message::Listen { listener, max_bulk } => {
                self.shared.borrow_mut().listen(listener, max_bulk)
            }
            Message::Stop => {}
        }
    }

    /// Whether a client's next command may run now (not blocked, not held
    /// by a pause).
    fn runnable(&self, client: ClientId) -> bool {
        self.engine
            .client(client)
            .is_some_and(|c| c.blocked.is_none())
    }

    /// Runs what a TCP client sent, one request after another, for one
    /// turn's worth of reading; a client that cannot run keeps the rest.
    fn serve_net(&mut self, client: ClientId) {
        let mut budget = net::TURN;
        loop {
            if !self.runnable(client) {
                self.shared.borrow_mut().hold(&mut self.engine, client);
                return;
            }
            let next = self
                .shared
                .borrow_mut()
                .next_request(&mut self.engine, client, &mut budget);
            match next {
                Some(argv) => {
                    let serial = self.scripting.interrupt.last_serial();
                    self.execute(client, argv, serial);
                }
                None => return,
            }
        }
    }

    /// Runs one command; `serial` is its message's (see [`Interrupt`]).
    fn execute(&mut self, client: ClientId, argv: Vec<Vec<u8>>, serial: u64) {
        if argv.is_empty() || !self.shared.borrow().sinks.contains_key(&client) {
            return;
        }
        self.scripting.interrupt.begin(serial);
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
        let mut shared = self.shared.borrow_mut();
        shared.running_for = None;
        if std::mem::take(&mut self.engine.shutdown_requested) {
            if shared.shutdown_exits {
                // Redis exits without a reply; redstep keeps nothing on disk.
                std::process::exit(0);
            }
            reply = Some(Reply::error(TUI_SHUTDOWN));
        }
        shared.note_protocol(client, &self.engine);
        for message in self.engine.take_published_to(client) {
            shared.send(client, Outgoing::Reply(message));
        }
        match reply {
            Some(reply) => shared.send(client, Outgoing::Reply(reply)),
            None if silent => shared.send(client, Outgoing::Silenced),
            None => {}
        }
        if self.engine.client(client).is_some_and(|c| c.closing) {
            shared.send(client, Outgoing::Close);
        }
        for id in std::mem::take(&mut shared.dropped_later) {
            shared.drop_net(&mut self.engine, id);
        }
        drop(shared);
        self.close_killed(Some(client));
        // What the command released (an unblocked client's reply, commands
        // a pause held) goes before anything its clients sent since.
        self.deliver();
    }

    /// CLIENT KILL: a killed connection is closed at once, what it was
    /// still owed thrown away, as Redis frees it; the client that killed
    /// itself gets its reply first. The TUI's own connection stays.
    fn close_killed(&mut self, current: Option<ClientId>) {
        let killed = std::mem::take(&mut self.engine.killed);
        let mut shared = self.shared.borrow_mut();
        for id in killed {
            if shared.interactive.contains(&id) {
                continue;
            }
            if Some(id) != current && shared.is_net(id) {
                shared.drop_net(&mut self.engine, id);
            } else {
                shared.send(id, Outgoing::Close);
            }
        }
    }

    fn send(&self, client: ClientId, out: Outgoing) {
        self.shared.borrow_mut().send(client, out);
    }

    /// Runs what a client sent while it could not run, now that it can.
    fn resume(&mut self, client: ClientId) {
        if self.shared.borrow().is_net(client) {
            self.shared.borrow_mut().held.retain(|id| *id != client);
            self.serve_net(client);
            return;
        }
        while self.runnable(client) {
            let Some((serial, argv)) = self.pending.get_mut(&client).and_then(|q| q.pop_front())
            else {
                break;
            };
            self.execute(client, argv, serial);
        }
    }

    /// Sends queued replies, then runs commands that waited behind a
    /// blocked client that is now free.
    fn deliver(&mut self) {
        self.close_killed(None);
        loop {
            for (client, reply) in self.engine.take_outbox() {
                self.send(client, Outgoing::Reply(reply));
            }
            // The end of a CLIENT PAUSE: each held command runs in the
            // order it came, then what its client sent after it.
            for (id, argv) in self.engine.take_resumed() {
                let serial = self.scripting.interrupt.last_serial();
                self.execute(id, argv, serial);
                self.resume(id);
            }
            let mut free: Vec<ClientId> = self
                .pending
                .iter()
                .filter(|(id, q)| !q.is_empty() && self.runnable(**id))
                .map(|(id, _)| *id)
                .collect();
            free.extend(
                self.shared
                    .borrow()
                    .held
                    .iter()
                    .filter(|id| self.runnable(**id)),
            );
            if free.is_empty() {
                return;
            }
            for id in free {
                self.resume(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(conn: &Connection) -> Reply {
        match conn.recv_timeout(Duration::from_secs(30)) {
            Some(Outgoing::Reply(reply)) => reply,
            _ => panic!("no reply"),
        }
    }

    fn unblocked(conn: &Connection) -> bool {
        match conn.recv_timeout(Duration::from_secs(30)) {
            Some(Outgoing::Response(response)) => match *response {
                Response::Unblocked(done) => done,
                _ => panic!("another response"),
            },
            _ => panic!("no response"),
        }
    }

    /// Dropping the host (the TUI quitting) while a script runs stops the
    /// script, as Esc does, rather than waiting for it: a loop without end
    /// kept the process from ever exiting, its screen blank.
    #[test]
    fn dropping_the_host_stops_the_running_script() {
        let host = Host::start(Engine::default, ScriptConfig::default());
        let conn = host.connect("front".into(), "front".into());
        conn.send(vec![
            b"EVAL".to_vec(),
            b"redis.call('SET', 'k', 'v') while true do end".to_vec(),
            b"0".to_vec(),
        ]);
        let (done, dropped) = mpsc::channel();
        std::thread::spawn(move || {
            drop(host);
            let _ = done.send(());
        });
        assert!(
            dropped.recv_timeout(Duration::from_secs(30)).is_ok(),
            "dropping the host waited for the script"
        );
        let Reply::Error(error) = reply(&conn) else {
            panic!("the script was not stopped")
        };
        assert!(
            String::from_utf8_lossy(&error).starts_with("ERR Script stopped by the redstep user"),
            "{}",
            String::from_utf8_lossy(&error)
        );
    }

    /// The TUI's Esc on a redis-cli line that waits: the waiting command
    /// gets its timeout reply, and the lines typed after it run.
    #[test]
    fn unblock_answers_the_front_ends_waiting_command() {
        let host = Host::start(Engine::default, ScriptConfig::default());
        let conn = host.connect("front".into(), "front".into());
        let words = |line: &str| line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
        conn.send(words("WAIT 1 0"));
        conn.send(words("PING"));
        // Served in order: WAIT is waiting when the request comes.
        conn.request(Request::Unblock);
        assert!(unblocked(&conn), "WAIT 1 0 was waiting");
        assert_eq!(reply(&conn), Reply::Int(0));
        assert_eq!(reply(&conn), Reply::Status(b"PONG".to_vec()));
        conn.send(words("BLPOP k 0"));
        conn.request(Request::Unblock);
        assert!(unblocked(&conn));
        assert_eq!(reply(&conn), Reply::NilArray);
        // Nothing waits now.
        conn.request(Request::Unblock);
        assert!(!unblocked(&conn));
    }

    /// Esc reaches the scripts of lines already sent, even those the engine
    /// has not started yet, and never a line sent after it.
    #[test]
    fn a_stop_reaches_what_was_sent_before_it_and_nothing_after() {
        let host = Host::start(Engine::default, ScriptConfig::default());
        let conn = host.connect("front".into(), "front".into());
        let eval = |script: &str| -> Vec<Vec<u8>> {
            vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()]
        };
        let stopped = |reply: Reply| match reply {
            Reply::Error(ref e) => {
                assert!(
                    e.starts_with(b"ERR Script stopped by the redstep user"),
                    "{reply:?}"
                )
            }
            other => panic!("not stopped: {other:?}"),
        };
        // The second loop is still queued behind the first when Esc comes.
        conn.send(eval("while true do end"));
        conn.send(eval("redis.call('SET', 'k', 'v') while true do end"));
        host.interrupt().request();
        conn.send(eval("return redis.call('GET', 'k')"));
        stopped(reply(&conn));
        stopped(reply(&conn));
        assert_eq!(reply(&conn), Reply::bulk("v"));
        // A stop asked for after its line was answered stops nothing later.
        host.interrupt().request();
        conn.send(eval(
            "local i = 0 while i < 300000 do i = i + 1 end return i",
        ));
        assert_eq!(reply(&conn), Reply::Int(300000));
    }
}
