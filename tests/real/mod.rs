//! A real redis-server of its own, on a Unix socket, for the tests that
//! compare redstep with it (they skip, saying so, where it is missing).
//! Tests running side by side never share a server: a TCP port picked by
//! one and taken by another could have them talk to each other's.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redstep::engine::Reply;
use redstep::protocol::resp::{encode_request, parse_reply};

pub struct Real {
    child: Child,
    socket: std::path::PathBuf,
    /// The connection `call` and `cmd` use.
    main: Conn,
}

impl Real {
    /// None when redis-server is not installed (or does not start).
    pub fn start() -> Option<Real> {
        Real::start_with(&[])
    }

    /// `start` with more configuration, e.g. `["--rename-command", "SCRIPT", ""]`.
    pub fn start_with(extra: &[&str]) -> Option<Real> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket = std::env::temp_dir().join(format!(
            "redstep-real-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&socket);
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            // Its own file name in the temp folder: a dump.rdb lying in the
            // working folder is not loaded into the test's server.
            .arg("--dir")
            .arg(std::env::temp_dir())
            .arg("--dbfilename")
            .arg(socket.with_extension("rdb").file_name().unwrap())
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            if let Ok(s) = UnixStream::connect(&socket) {
                break s;
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Some(Real {
            child,
            socket,
            main: Conn {
                stream: Box::new(stream),
                buf: Vec::new(),
            },
        })
    }

    /// The server as `redstep --redis` takes it.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// `call` with string arguments.
    pub fn cmd(&mut self, words: &[&str]) -> Reply {
        self.main.cmd(words)
    }

    /// One command, its reply.
    pub fn call(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.main.call(argv)
    }
}

/// Another connection to a [`Real`] server (a subscriber, a second client),
/// or to a server a test started on a TCP port ([`Conn::tcp`]).
pub struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
}

pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

impl Real {
    pub fn connect(&self) -> Conn {
        (self.connect_fn())()
    }

    /// Connects anew each time it is called.
    pub fn connect_fn(&self) -> impl Fn() -> Conn {
        let socket = self.socket.clone();
        move || {
            let stream = UnixStream::connect(&socket).unwrap();
            // A test waiting for what never comes fails instead of hanging.
            stream
                .set_read_timeout(Some(Duration::from_secs(20)))
                .unwrap();
            Conn {
                stream: Box::new(stream),
                buf: Vec::new(),
            }
        }
    }
}

impl Conn {
    /// A connection to 127.0.0.1:`port` (the server may still be starting:
    /// the error says so).
    pub fn tcp(port: u16) -> std::io::Result<Conn> {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        // A test waiting for what never comes fails instead of hanging.
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        Ok(Conn {
            stream: Box::new(stream),
            buf: Vec::new(),
        })
    }

    /// `call` with string arguments.
    pub fn cmd(&mut self, words: &[&str]) -> Reply {
        self.call(
            &words
                .iter()
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        )
    }

    pub fn send(&mut self, argv: &[Vec<u8>]) {
        self.stream.write_all(&encode_request(argv)).unwrap();
    }

    /// The next reply or pushed message.
    pub fn read(&mut self) -> Reply {
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf).unwrap() {
                self.buf.drain(..used);
                return reply;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "redis-server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn call(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.send(argv);
        self.read()
    }
}

impl Drop for Real {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}
