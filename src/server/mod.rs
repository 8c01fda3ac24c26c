//! `redstep serve`: RESP over TCP. The listener is handed to the engine
//! thread, which serves every connection in one event loop (see
//! `host::net`), as Redis's main thread does: requests run one at a time,
//! in arrival order.

use std::net::{IpAddr, SocketAddr, TcpListener};

use anyhow::Context;

use crate::host::Host;

pub struct ServeOptions {
    pub bind: IpAddr,
    pub port: u16,
    pub max_bulk: i64,
}

/// A bound listener; `run` serves until the process ends.
pub struct Server {
    listener: TcpListener,
    host: Host,
    max_bulk: i64,
}

impl Server {
    pub fn bind(options: &ServeOptions, host: Host) -> anyhow::Result<Server> {
        let addr = SocketAddr::new(options.bind, options.port);
        let listener =
            TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Server {
            listener,
            host,
            max_bulk: options.max_bulk,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound")
    }

    pub fn run(self) {
        if let Err(e) = self.host.serve(self.listener, self.max_bulk) {
            eprintln!("redstep serve: {e:#}");
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
