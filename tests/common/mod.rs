//! What the TCP tests share: a server on a free port and a RESP client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use redstep::engine::{Engine, Reply};
use redstep::host::Host;
use redstep::protocol::resp::{encode_request, parse_reply};
use redstep::script::ScriptConfig;
use redstep::server::{ServeOptions, Server};

/// `redstep serve` on a free port of 127.0.0.1, in this process.
pub fn start() -> SocketAddr {
    start_engine(Engine::default, ScriptConfig::default())
}

/// The same, with an engine made by `make` and these script settings.
pub fn start_engine(
    make: impl FnOnce() -> Engine + Send + 'static,
    script: ScriptConfig,
) -> SocketAddr {
    let host = Host::start(make, script);
    let options = ServeOptions {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        max_bulk: 512 * 1024 * 1024,
    };
    let server = Server::bind(&options, host).unwrap();
    let addr = server.local_addr();
    std::thread::spawn(move || server.run());
    addr
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a command given as words separated by single spaces.
    pub fn send(&mut self, line: &str) {
        let argv: Vec<&str> = line.split(' ').collect();
        self.send_words(&argv);
    }

    pub fn send_words(&mut self, words: &[&str]) {
        let argv: Vec<Vec<u8>> = words.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.send_raw(&encode_request(&argv));
    }

    /// The next reply, or None when the server closed the connection.
    pub fn read(&mut self) -> Option<Reply> {
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf).unwrap() {
                self.buf.drain(..used);
                return Some(reply);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    pub fn call(&mut self, line: &str) -> Reply {
        self.send(line);
        self.read().expect("a reply")
    }

    pub fn call_words(&mut self, words: &[&str]) -> Reply {
        self.send_words(words);
        self.read().expect("a reply")
    }
}

/// `redstep serve --requirepass PASS` on a free port, in this process.
pub fn start_with_password(password: &str) -> SocketAddr {
    let password = password.as_bytes().to_vec();
    start_engine(
        move || {
            let mut engine = Engine::default();
            engine.config.requirepass = Some(password);
            engine
        },
        ScriptConfig::default(),
    )
}

/// Polls INFO until the server counts `n` blocked clients (a command held
/// by CLIENT PAUSE counts too), for tests that order clients without
/// sleeping; fails after 10 s.
pub fn wait_blocked(conn: &mut redstep::remote::Conn, n: usize) {
    let want = format!("blocked_clients:{n}\r");
    let start = std::time::Instant::now();
    loop {
        if let Reply::Bulk(info) = conn.cmd(&[b"INFO", b"clients"]).unwrap() {
            if String::from_utf8_lossy(&info).contains(&want) {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server never showed {n} blocked clients"
        );
        std::thread::yield_now();
    }
}

/// Polls CLIENT LIST until the client `id` is gone (its connection closed
/// and seen by the server); fails after 10 s.
pub fn wait_gone(conn: &mut redstep::remote::Conn, id: i64) {
    let id = id.to_string();
    let start = std::time::Instant::now();
    loop {
        match conn
            .cmd(&[b"CLIENT", b"LIST", b"ID", id.as_bytes()])
            .unwrap()
        {
            Reply::Bulk(list) if list.is_empty() => return,
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "client {id} never went away"
        );
        std::thread::yield_now();
    }
}
