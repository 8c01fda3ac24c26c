//! A real `redis-server` for the benches' side-by-side ratios: started on a
//! free loopback port with nothing saved, stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Redis {
    /// Its loopback port (the serve bench points redis-benchmark at it).
    #[allow(dead_code)]
    pub port: u16,
    child: Child,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    /// Its process id (the serve bench places it on a core).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// None when redis-server is not installed or does not answer; panics
    /// if it keeps a replication backlog (no fair baseline then).
    pub fn start() -> Option<Redis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let number = port;
        let port = port.to_string();
        // A copy of the bench runs its own copy (see `copies`).
        let program = std::env::var_os(copies::REDIS).unwrap_or_else(|| "redis-server".into());
        let child = Command::new(program)
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            // Its own file name in the temp folder. A dump.rdb lying in the
            // working folder would be loaded, and one carrying a replication
            // id gives Redis a replication backlog: every write a script
            // makes is then copied into it, and 1M INCRs in one script took
            // 450-500 ms instead of 245 (2026-12-06's morning runs).
            .arg("--dir")
            .arg(std::env::temp_dir())
            .arg("--dbfilename")
            .arg(format!("redstep-bench-{}-{number}.rdb", std::process::id()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let start = Instant::now();
        let stream = loop {
            match TcpStream::connect(format!("127.0.0.1:{port}")) {
                Ok(s) => break s,
                Err(_) if start.elapsed() < Duration::from_secs(10) => std::thread::yield_now(),
                Err(_) => {
                    let mut child = child;
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        };
        let reader = BufReader::new(stream.try_clone().ok()?);
        let mut redis = Redis {
            port: number,
            child,
            stream,
            reader,
        };
        while redis.call(&["PING"]) != "+PONG" {}
        // What the ratios compare against: a lone primary that keeps no
        // replication backlog, as redstep keeps none without replicas.
        let replication = redis.call(&["INFO", "replication"]);
        assert!(
            replication.contains("repl_backlog_active:0"),
            "the baseline redis-server keeps a replication backlog:\n{replication}"
        );
        Some(redis)
    }

    /// Sends a command; the reply as text (a bulk string's bytes, an
    /// integer as `:n`, a status as `+OK`).
    pub fn call(&mut self, args: &[&str]) -> String {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out += &format!("${}\r\n{a}\r\n", a.len());
        }
        self.stream.write_all(out.as_bytes()).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        if let Some(len) = line.strip_prefix('$') {
            let len: usize = len.trim().parse().unwrap();
            let mut body = vec![0u8; len + 2];
            self.reader.read_exact(&mut body).unwrap();
            return String::from_utf8_lossy(&body[..len]).into_owned();
        }
        line.trim().to_string()
    }
}

/// The heap in use, counted (`heap::live()`).
pub mod heap;

/// Figures measured by several copies of a bench's program.
pub mod copies;
