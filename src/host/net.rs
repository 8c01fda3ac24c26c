//! Clients over TCP, served on the engine thread by one event loop (mio),
//! as Redis's own ae loop serves them: a connection's requests are parsed
//! from its input buffer on the engine thread and run at once, and the
//! replies are encoded into its output buffer, written out before the loop
//! sleeps. No thread per connection, no hop between threads per request.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

use crate::engine::Reply;
use crate::protocol::resp::{self, RequestParser};

/// Bytes one read asks for, at least (a long argument is read in larger
/// pieces as its bytes come).
const READ_CHUNK: usize = 64 * 1024;
/// What a connection may read in one turn of the loop.
pub(super) const TURN: usize = READ_CHUNK;
/// Input kept for a connection that cannot run now (a blocked or paused
/// client): past this the client is closed, as Redis closes a client past
/// its `client-query-buffer-limit` (1 GB by default).
pub(super) const QUERY_LIMIT: usize = 1024 * 1024 * 1024;
/// An output buffer larger than this is given back once written out.
const KEEP_OUTPUT: usize = 1024 * 1024;

/// Whether a request is a line of HTTP (POST, or a Host: header), which
/// Redis answers by closing the connection. Compared as Redis compares
/// it: a C string (up to a NUL), in any case.
pub(super) fn looks_like_http(argv: &[Vec<u8>]) -> bool {
    let name = crate::engine::errors::c_str(&argv[0]);
    name.eq_ignore_ascii_case(b"post") || name.eq_ignore_ascii_case(b"host:")
}

/// Says so on stderr, as Redis logs it: once a minute at most (and never
/// fails: a closed stderr must not stop the server, as `eprintln!` would).
pub(super) fn warn_http() {
    static LAST: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if last.is_none_or(|t| t.elapsed().as_secs() > 60) {
        *last = Some(std::time::Instant::now());
        let _ = writeln!(
            io::stderr(),
            "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: \
             commands to Redis. This is likely due to an attacker attempting to use Cross \
             Protocol Scripting to compromise your Redis instance. Connection aborted."
        );
    }
}

/// One TCP client: its socket, what it sent and what it is owed.
pub(super) struct NetClient {
    stream: TcpStream,
    /// Bytes read; `input[start..end]` are not parsed yet.
    input: Vec<u8>,
    start: usize,
    end: usize,
    parser: RequestParser,
    /// The parser needs at least this many unparsed bytes to try again.
    needed: usize,
    output: Vec<u8>,
    written: usize,
    pub resp3: bool,
    /// The socket may hold bytes not read yet (its events are edge-triggered).
    pub readable: bool,
    /// The peer's side may be closed: read until the end is seen.
    pub read_closed: bool,
    /// The peer closed its side, or the connection failed.
    pub gone: bool,
    /// Close once the output is written (QUIT, a protocol error, CLIENT KILL).
    pub closing: bool,
    /// In the loop's queue of connections to serve.
    pub queued: bool,
    /// In the loop's list of connections to write out.
    pub dirty: bool,
    max_bulk: i64,
}

/// What a connection's input holds next.
pub(super) enum Input {
    Request(Vec<Vec<u8>>),
    /// A protocol error (the text after `-ERR `): reply, then close.
    Error(String),
    /// Nothing whole yet.
    Wait,
}

/// How writing a connection's output went.
#[derive(Debug, PartialEq)]
pub(super) enum Flushed {
    /// All written.
    Done,
    /// The socket is full; a writable event will come.
    Pending,
    /// The connection is broken.
    Failed,
}

impl NetClient {
    pub fn new(stream: TcpStream, max_bulk: i64) -> NetClient {
        NetClient {
            stream,
            input: Vec::new(),
            start: 0,
            end: 0,
            parser: RequestParser::default(),
            needed: 1,
            output: Vec::new(),
            written: 0,
            resp3: false,
            readable: true,
            read_closed: false,
            gone: false,
            closing: false,
            queued: false,
            dirty: false,
            max_bulk,
        }
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Unparsed bytes held.
    pub fn held(&self) -> usize {
        self.end - self.start
    }

    /// The next whole request, reading the socket while `budget` lasts
    /// (each read spends what it got). What a read brings is parsed once:
    /// the parser keeps a long request's arguments as they come.
    pub fn next(&mut self, budget: &mut usize) -> Input {
        loop {
            if self.held() >= self.needed {
                match self
                    .parser
                    .feed(&self.input[self.start..self.end], self.max_bulk)
                {
                    Ok(fed) => {
                        self.start += fed.used;
                        self.needed = fed.needed.max(1);
                        match fed.request {
                            Some(argv) if argv.is_empty() => continue,
                            Some(argv) => return Input::Request(argv),
                            None => {}
                        }
                    }
                    Err(e) => return Input::Error(e.0),
                }
            }
            if *budget == 0 {
                return Input::Wait;
            }
            match self.fill() {
                0 => return Input::Wait,
                n => *budget = budget.saturating_sub(n),
            }
        }
    }

    /// Reads once into the input buffer; the bytes read (0: nothing now,
    /// or the peer is gone).
    pub fn fill(&mut self) -> usize {
        if !self.readable || self.gone {
            return 0;
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.input.len() > 4 * READ_CHUNK && self.held() < self.input.len() / 4 {
            // A large request is done with: keep room for what is left.
            let mut smaller = vec![0; (2 * self.held()).max(READ_CHUNK)];
            smaller[..self.held()].copy_from_slice(&self.input[self.start..self.end]);
            self.input = smaller;
            self.end -= self.start;
            self.start = 0;
        }
        // A long argument is read in larger pieces as its bytes come (not
        // as its announced length says: that may be a lie).
        let missing = self.needed.saturating_sub(self.held());
        let want = READ_CHUNK.max(missing.min(self.held()));
        if self.input.len() - self.end < want {
            // Move the unparsed bytes to the front before growing.
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.input.len() - self.end < want {
                self.input.resize(self.end + want, 0);
            }
        }
        loop {
            let room = self.input.len() - self.end;
            match self.stream.read(&mut self.input[self.end..]) {
                Ok(0) => {
                    self.gone = true;
                    return 0;
                }
                Ok(n) => {
                    self.end += n;
                    // Less than asked for: the socket is empty now, and
                    // bytes that come later bring a new event (as tokio
                    // reads an edge-triggered socket): no read that only
                    // says "would block", which was one syscall in three
                    // for a client sending one request at a time. Unless
                    // the peer may have closed: its end is read now.
                    if n < room && !self.read_closed {
                        self.readable = false;
                    }
                    return n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return 0;
                }
                Err(_) => {
                    self.gone = true;
                    return 0;
                }
            }
        }
    }

    /// Encodes a reply in the client's protocol, to be written out.
    pub fn push(&mut self, reply: &Reply) {
        if self.resp3 {
            resp::encode3(reply, &mut self.output);
        } else {
            resp::encode(reply, &mut self.output);
        }
    }

    /// Writes what the client is owed until done or the socket is full.
    pub fn flush(&mut self) -> Flushed {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return Flushed::Failed,
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Pending,
                Err(_) => return Flushed::Failed,
            }
        }
        self.output.clear();
        self.written = 0;
        if self.output.capacity() > KEEP_OUTPUT {
            self.output = Vec::new();
        }
        Flushed::Done
    }
}
