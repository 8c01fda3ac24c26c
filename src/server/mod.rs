//! `redstep serve`: RESP2 over TCP. Each connection has a reader thread
//! (parses requests, hands them to the engine thread) and a writer thread
//! (encodes what the engine sends back). The engine runs one command at a
//! time, in arrival order, as Redis does.

use std::io::{BufWriter, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use anyhow::Context;

use crate::host::{ClientSender, Host, Outgoing};
use crate::protocol::resp::{self, Parsed};

pub struct ServeOptions {
    pub bind: IpAddr,
    pub port: u16,
    pub max_bulk: i64,
}

/// A bound listener; `run` serves until the process ends.
pub struct Server {
    listener: TcpListener,
    host: Arc<Host>,
    max_bulk: i64,
}

impl Server {
    pub fn bind(options: &ServeOptions, host: Host) -> anyhow::Result<Server> {
        let addr = SocketAddr::new(options.bind, options.port);
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Server {
            listener,
            host: Arc::new(host),
            max_bulk: options.max_bulk,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    pub fn run(self) {
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            let host = Arc::clone(&self.host);
            let max_bulk = self.max_bulk;
            let _ = std::thread::Builder::new()
                .name("client".into())
                .spawn(move || serve_client(stream, &host, max_bulk));
        }
    }
}

fn serve_client(stream: TcpStream, host: &Host, max_bulk: i64) {
    let _ = stream.set_nodelay(true);
    let addr = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let laddr = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let (sender, outgoing) = host.connect(addr, laddr).split();
    let writer = std::thread::Builder::new()
        .name("client-writer".into())
        .spawn(move || write_loop(write_half, outgoing));
    read_loop(stream, &sender, max_bulk);
    drop(sender);
    if let Ok(w) = writer {
        let _ = w.join();
    }
}

/// Reads requests until EOF or a protocol error.
fn read_loop(mut stream: TcpStream, sender: &ClientSender, max_bulk: i64) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut needed = 1;
    loop {
        while buf.len() >= needed {
            match resp::parse_request(&buf, max_bulk) {
                Ok(Parsed::Request(argv, used)) => {
                    buf.drain(..used);
                    needed = 1;
                    if !argv.is_empty() {
                        sender.send(argv);
                    }
                }
                Ok(Parsed::Incomplete(n)) => needed = n,
                Err(e) => {
                    sender.fatal(e.0);
                    return;
                }
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes replies in order; batches whatever is queued into one flush.
fn write_loop(stream: TcpStream, outgoing: Receiver<Outgoing>) {
    let mut out = BufWriter::with_capacity(64 * 1024, &stream);
    let mut scratch = Vec::new();
    let mut resp3 = false;
    while let Ok(first) = outgoing.recv() {
        let mut next = Some(first);
        while let Some(item) = next {
            match item {
                Outgoing::Protocol(version) => resp3 = version == 3,
                Outgoing::Reply(reply) => {
                    scratch.clear();
                    if resp3 {
                        resp::encode3(&reply, &mut scratch);
                    } else {
                        resp::encode(&reply, &mut scratch);
                    }
                    if out.write_all(&scratch).is_err() {
                        return;
                    }
                }
                Outgoing::Close => {
                    let _ = out.flush();
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                Outgoing::Response(_) => {}
            }
            next = outgoing.try_recv().ok();
        }
        if out.flush().is_err() {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// SIGTERM ends the server at once with exit status 0, as it ends Redis
/// (which saves first; redstep keeps nothing on disk), even while a script
/// is busy.
pub fn exit_on_sigterm() {
    extern "C" fn on_sigterm(_: libc::c_int) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: installs a handler that only calls an async-signal-safe function.
    unsafe {
        libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t);
    }
}
