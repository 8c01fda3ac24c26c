//! A real Redis server as the debugger's backend.
//!
//! Redis ships a Lua debugger (LDB: `SCRIPT DEBUG YES|SYNC`, what
//! `redis-cli --ldb` drives). [`ldb::record`] steps a script through it to
//! the end and builds the same [`crate::trace::Timeline`] the embedded
//! engine's recorder makes, so everything downstream (stepping both ways,
//! the outcome, exports) works unchanged. [`compare`] runs a script on a
//! server and on the embedded engine and finds the first step where they
//! differ.
//!
//! The client is a plain RESP2 connection over `protocol::resp`, not the
//! `redis` crate: replies must stay byte for byte what the server sent
//! (that crate splits error texts into kinds), and an LDB session answers
//! a step with a log array, ends with a second reply, then closes.

pub mod cluster;
pub mod compare;
pub mod human;
pub mod keys;
pub mod ldb;
pub mod replicas;

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};

use crate::protocol::resp::{encode_request, parse_reply};
use crate::protocol::Reply;

/// Where the server is: `redis://[user:pass@]host:port[/db]`, or a Unix
/// socket: `redis+unix:///path/redis.sock[?db=N]` (also `unix://`).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub socket: Option<std::path::PathBuf>,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub db: usize,
}

impl Target {
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        if let Some(path) = url
            .strip_prefix("redis+unix://")
            .or_else(|| url.strip_prefix("unix://"))
        {
            let (path, db) = match path.split_once("?db=") {
                Some((p, db)) => (
                    p,
                    db.parse()
                        .map_err(|_| anyhow!("{url}: the database after ?db= must be a number"))?,
                ),
                None => (path, 0),
            };
            if path.is_empty() {
                bail!("{url}: no socket path");
            }
            return Ok(Target {
                socket: Some(path.into()),
                host: String::new(),
                port: 0,
                user: None,
                password: None,
                db,
            });
        }
        let rest = url.strip_prefix("redis://").ok_or_else(|| {
            anyhow!("{url}: a server is given as redis://[user:password@]host:port[/db]")
        })?;
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((auth, rest)) => (Some(auth), rest),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(auth) => match auth.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
                None => (None, Some(auth.to_string())),
            },
        };
        let (hostport, db) = match rest.split_once('/') {
            Some((hp, "")) => (hp, 0),
            Some((hp, db)) => (
                hp,
                db.parse()
                    .map_err(|_| anyhow!("{url}: the database after / must be a number"))?,
            ),
            None => (rest, 0),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h,
                p.parse()
                    .map_err(|_| anyhow!("{url}: the port must be a number"))?,
            ),
            _ => (hostport, 6379),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            bail!("{url}: no host");
        }
        Ok(Target {
            socket: None,
            host: host.to_string(),
            port,
            user,
            password,
            db,
        })
    }

    /// `host:port`.
    pub fn address(&self) -> String {
        if let Some(path) = &self.socket {
            return path.display().to_string();
        }
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the host is this machine (blocking it harms nobody else).
    pub fn is_loopback(&self) -> bool {
        self.socket.is_some()
            || self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Stream {
    fn set_read_timeout(&self, wait: Option<Duration>) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(wait),
            Stream::Unix(s) => s.set_read_timeout(wait),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One RESP2 connection.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    address: String,
    /// How long a read waits for a reply.
    wait: Duration,
    /// Every `call` is preceded by `ASKING` (a cluster node importing the
    /// slot the keys are read from).
    pub(crate) asking: bool,
}

impl Conn {
    /// Connects, authenticates and selects the database.
    pub fn open(target: &Target) -> anyhow::Result<Conn> {
        Conn::open_within(target, Duration::from_secs(60))
    }

    /// `open`, waiting at most `wait` to connect (5 s at most) and for
    /// each reply.
    pub fn open_within(target: &Target, wait: Duration) -> anyhow::Result<Conn> {
        let connect = wait.min(Duration::from_secs(5));
        let address = target.address();
        if let Some(path) = &target.socket {
            let stream = UnixStream::connect(path)
                .with_context(|| format!("cannot connect to {address}"))?;
            stream.set_read_timeout(Some(wait)).ok();
            let mut conn = Conn {
                stream: Stream::Unix(stream),
                buf: Vec::new(),
                address,
                wait,
                asking: false,
            };
            conn.login(target)?;
            return Ok(conn);
        }
        let addrs: Vec<_> = (target.host.as_str(), target.port)
            .to_socket_addrs()
            .with_context(|| format!("cannot resolve {address}"))?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, connect) {
                Ok(stream) => {
                    stream.set_nodelay(true).ok();
                    stream.set_read_timeout(Some(wait)).ok();
                    let mut conn = Conn {
                        stream: Stream::Tcp(stream),
                        buf: Vec::new(),
                        address: address.clone(),
                        wait,
                        asking: false,
                    };
                    conn.login(target)?;
                    return Ok(conn);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(anyhow!(
            "cannot connect to {address}: {}",
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into())
        ))
    }

    fn login(&mut self, target: &Target) -> anyhow::Result<()> {
        if let Some(password) = &target.password {
            let mut argv = vec![b"AUTH".to_vec()];
            if let Some(user) = &target.user {
                argv.push(user.as_bytes().to_vec());
            }
            argv.push(password.as_bytes().to_vec());
            if let Reply::Error(e) = self.call(&argv)? {
                bail!("{}: AUTH: {}", self.address, String::from_utf8_lossy(&e));
            }
        }
        if target.db != 0 {
            let reply = self.call(&[b"SELECT".to_vec(), target.db.to_string().into_bytes()])?;
            if let Reply::Error(e) = reply {
                bail!(
                    "{}: SELECT {}: {}",
                    self.address,
                    target.db,
                    String::from_utf8_lossy(&e)
                );
            }
        }
        Ok(())
    }

    pub fn send(&mut self, argv: &[Vec<u8>]) -> anyhow::Result<()> {
        self.stream
            .write_all(&encode_request(argv))
            .with_context(|| format!("the server at {} went away", self.address))
    }

    /// The next reply; an error when the server closed the connection.
    pub fn read(&mut self) -> anyhow::Result<Reply> {
        self.read_or_eof()?
            .ok_or_else(|| anyhow!("the server at {} closed the connection", self.address))
    }

    /// The next reply if it comes within `wait` (None: not yet; what came
    /// of it is kept for the next read); an error when the server closed
    /// the connection. The connection's own timeout holds again after.
    pub fn read_within(&mut self, wait: Duration) -> anyhow::Result<Option<Reply>> {
        self.stream.set_read_timeout(Some(wait)).ok();
        let read = self.read_or_eof();
        self.stream.set_read_timeout(Some(self.wait)).ok();
        match read {
            Ok(Some(reply)) => Ok(Some(reply)),
            Ok(None) => bail!("the server at {} closed the connection", self.address),
            Err(e)
                if e.downcast_ref::<std::io::Error>().is_some_and(|e| {
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The next reply, or None when the server closed the connection.
    pub fn read_or_eof(&mut self) -> anyhow::Result<Option<Reply>> {
        loop {
            if !self.buf.is_empty() {
                if let Some((reply, used)) =
                    parse_reply(&self.buf).map_err(|e| anyhow!("{}: {}", self.address, e.0))?
                {
                    self.buf.drain(..used);
                    return Ok(Some(reply));
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("reading from the server at {}", self.address))
                }
            };
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub fn call(&mut self, argv: &[Vec<u8>]) -> anyhow::Result<Reply> {
        if self.asking {
            self.send(&[b"ASKING".to_vec()])?;
            self.send(argv)?;
            self.read()?;
            return self.read();
        }
        self.send(argv)?;
        self.read()
    }

    /// `call` with string arguments.
    pub fn cmd(&mut self, argv: &[&[u8]]) -> anyhow::Result<Reply> {
        self.call(&argv.iter().map(|a| a.to_vec()).collect::<Vec<_>>())
    }

    /// `redis 7.0.15 @ host:port` (`valkey ...` for Valkey).
    pub(crate) fn label(&mut self) -> anyhow::Result<String> {
        let info = match self.cmd(&[b"INFO", b"server"])? {
            Reply::Bulk(b) => String::from_utf8_lossy(&b).into_owned(),
            other => bail!("{}: INFO server answered {other:?}", self.address),
        };
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        };
        let (product, version) = match field("valkey_version") {
            Some(v) => ("valkey", v),
            None => (
                "redis",
                field("redis_version").unwrap_or_else(|| "?".into()),
            ),
        };
        Ok(format!("{product} {version} @ {}", self.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_host_port_auth_and_db() {
        let t = Target::parse("redis://u:p@example.com:7000/3").unwrap();
        assert_eq!(
            (
                t.host.as_str(),
                t.port,
                t.user.as_deref(),
                t.password.as_deref(),
                t.db
            ),
            ("example.com", 7000, Some("u"), Some("p"), 3)
        );
        let t = Target::parse("redis://127.0.0.1").unwrap();
        assert_eq!((t.port, t.db, t.is_loopback()), (6379, 0, true));
        assert_eq!(
            Target::parse("redis://:secret@h:1")
                .unwrap()
                .password
                .as_deref(),
            Some("secret")
        );
        assert!(Target::parse("http://h").is_err());
        let t = Target::parse("redis+unix:///tmp/r.sock?db=2").unwrap();
        assert_eq!((t.socket.unwrap().to_str(), t.db), (Some("/tmp/r.sock"), 2));
        assert!(Target::parse("redis://h:x").is_err());
    }
}
