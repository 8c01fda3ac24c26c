//! `maxmemory`: the memory figure INFO reports as `used_memory`, and the
//! refusals Redis 7.0 makes once it is above `maxmemory` under its only
//! policy redstep models, `noeviction` (processCommand's maxmemory block;
//! the script side, scriptVerifyOOM, is in `script/api.rs`).
//!
//! Redis counts what its allocator handed out; redstep reports its
//! resident set (Linux's `/proc/self/statm`), the figure INFO memory has
//! always shown. Reading it costs a system call or two, too much before
//! every command, so the check uses a reading at most [`REFRESH_US`] old
//! (Redis's own RSS figure is refreshed by serverCron at `hz 10`, every
//! 100 ms, too); INFO reads afresh and leaves its reading for the check,
//! so the two agree. Nothing here runs while `maxmemory` is 0 (the
//! default): the command pipeline tests that first.

use super::table::{flags, CommandSpec, Handler};
use super::value::Bytes;
use super::{Client, Engine, Extension, Reply};

/// Redis's `shared.oomerr`.
pub(crate) const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// scriptPrepareForRun's refusal of a flags-mode script without
/// `allow-oom` (or `no-writes`), when processCommand did not refuse it
/// first (a script queued in MULTI before it was loaded, an EXEC).
pub(crate) const OOM_SCRIPT_FLAG: &str =
    "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'";

/// How old a memory reading the check may use, in microseconds.
pub(crate) const REFRESH_US: u64 = 100_000;

/// This process's resident memory in bytes (Linux), else 0.
pub(crate) fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page_size())
}

/// The system's page size, the unit of `/proc/self/statm`.
fn page_size() -> u64 {
    // SAFETY: sysconf reads a constant of the system; no memory is passed.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

/// The last reading of the used memory, and when it was taken.
#[derive(Default)]
pub(crate) struct UsedMemory {
    bytes: u64,
    /// `micros_now()` of the reading; None before the first.
    read_at: Option<u64>,
}

impl UsedMemory {
    /// A fresh reading (INFO), kept for the check.
    pub(crate) fn now(&mut self) -> u64 {
        self.bytes = resident_bytes();
        self.read_at = Some(super::micros_now());
        self.bytes
    }

    /// The last reading if it is at most [`REFRESH_US`] old, else a fresh one.
    fn recent(&mut self) -> u64 {
        match self.read_at {
            Some(at) if super::micros_now().saturating_sub(at) <= REFRESH_US => self.bytes,
            _ => self.now(),
        }
    }
}

impl Engine {
    /// The used memory INFO reports (a fresh reading).
    pub(crate) fn used_memory(&mut self) -> u64 {
        self.memory.now()
    }

    /// Redis's `getCommandFlags`: a script's or a function's declared
    /// flags stand for EVAL's and FCALL's own (evalGetCommandFlags,
    /// fcallGetCommandFlags).
    pub(crate) fn command_flags(spec: &CommandSpec, argv: &[Bytes], ext: &dyn Extension) -> u32 {
        match spec.handler {
            Handler::External => ext.command_flags(argv, spec.flags),
            Handler::Engine(_) => spec.flags,
        }
    }

    /// Redis's `performEvictions() == EVICT_FAIL` under `noeviction`:
    /// above `maxmemory`, unless clients are paused (isSafeToPerformEvictions
    /// keeps the dataset as it is then: nothing is refused either).
    fn out_of_memory(&mut self) -> bool {
        self.end_pause_if_due();
        self.pause.is_none() && self.memory.recent() > self.config.maxmemory
    }

    /// processCommand's maxmemory block (only called while `maxmemory` is
    /// set): above it, a deny-oom command is refused, an EXEC whose queue
    /// holds one is aborted, and inside MULTI every command but EXEC,
    /// DISCARD, QUIT and RESET is refused (queuing takes memory too).
    /// Otherwise the state is kept for the scripts this command runs
    /// (`pre_command_oom_state`). Skipped for the commands other clients
    /// send while a script is busy, as Redis skips it then: the running
    /// script keeps the state it started with.
    #[cold]
    pub(crate) fn process_maxmemory(
        &mut self,
        client: &mut Client,
        spec: &CommandSpec,
        argv: &[Bytes],
        ext: &dyn Extension,
    ) -> Option<Reply> {
        if self.frozen_now.is_some() {
            return None;
        }
        let out_of_memory = self.out_of_memory();
        let reject = out_of_memory
            && (Self::command_flags(spec, argv, ext) & flags::DENYOOM != 0
                || (spec.name == "exec" && client.multi.is_some() && client.multi_denyoom)
                || (client.multi.is_some()
                    && !matches!(spec.name, "exec" | "discard" | "quit" | "reset")));
        if !reject {
            self.oom_at_start = out_of_memory;
            return None;
        }
        self.rejected(client, Some(spec.full_name));
        if spec.name == "exec" && client.multi.is_some() {
            // execCommandAbort: the transaction is discarded.
            client.multi = None;
            client.multi_error = false;
            client.multi_denyoom = false;
            self.unwatch_all(client);
            return Some(Reply::error(format!(
                "EXECABORT Transaction discarded because of: {OOM}"
            )));
        }
        Some(Reply::error(OOM))
    }

    /// Whether a script starting now is above `maxmemory` (scriptVerifyOOM
    /// and scriptPrepareForRun read processCommand's state).
    pub(crate) fn script_oom(&self) -> bool {
        self.config.maxmemory != 0 && self.oom_at_start
    }
}

/// Redis's `bytesToHuman`: `1023B`, `1.00K`, ... up to `P`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 5] = [
        ("P", 1 << 50),
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    if n >= 1 << 60 {
        return format!("{n}B");
    }
    for (unit, size) in UNITS {
        if n >= size {
            return format!("{:.2}{unit}", n as f64 / size as f64);
        }
    }
    format!("{n}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_is_bytes_to_human() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        // %.2f rounds half to even on the exact value, as Rust does.
        assert_eq!(human_bytes(1152), "1.12K");
        assert_eq!(human_bytes(10 << 20), "10.00M");
        assert_eq!(human_bytes(3 << 40), "3.00T");
        assert_eq!(human_bytes(5 << 50), "5.00P");
        assert_eq!(human_bytes(1 << 60), "1152921504606846976B");
    }
}
