//! A script stepped through a real server's Lua debugger, recorded as a
//! [`Timeline`].
//!
//! LDB stops before every line of the script (`* Stopped at N`); each
//! `step` answers with what the line did (`<redis> argv`, `<reply> ...`,
//! `<error> ...`) and the next stop, or `<endsession>` and the script's
//! reply. At each stop redstep asks for the call depth (`trace`) and the
//! locals (`print`). The keys the script touches are mirrored in an
//! embedded engine: each key is read from the server before the script
//! first names it, and each command the server ran is run on the mirror
//! too, which gives every step its keyspace changes as compact inverse
//! deltas. Where the mirror's reply differs from the server's, the
//! server's reply is kept, the keys that command names are read back from
//! the server (inside the session), and a note says so.

use anyhow::{anyhow, bail};

use super::human;
use super::keys::read_key;
use super::{Conn, Target};
use crate::engine::{Client, Engine, NoExtension};
use crate::protocol::cli::eval_argv;
use crate::protocol::Reply;
use crate::script::Control;
use crate::trace::{Builder, Limits, Server, Timeline};

/// How the server runs the session (`SCRIPT DEBUG YES` or `SYNC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Redis forks; the session's writes vanish with the child, so the
    /// server's data is untouched afterwards.
    Forked,
    /// The server itself runs the script, blocked while it is stepped;
    /// the writes stay.
    Sync,
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Forked => "forked",
            Mode::Sync => "sync",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub limits: Limits,
    /// Allow `Mode::Sync` on a server that is not on this machine.
    pub allow_blocking: bool,
}

/// A run recorded on a server.
pub struct Recorded {
    pub timeline: Timeline,
    /// The mirror: the keys the script touched, as it left them.
    pub mirror: Engine,
    /// The commands that load the touched keys as they were before the run
    /// (for a fresh engine to run the same script on the same data).
    pub loads: Vec<Vec<Vec<u8>>>,
    /// The keys the script named (db, key), in the order it first did.
    pub touched: Vec<(usize, Vec<u8>)>,
}

/// What `SCRIPT DEBUG` refusals and old servers are told.
fn refused(label: &str, error: &[u8]) -> anyhow::Error {
    anyhow!(
        "{label} refused the Lua debugger (SCRIPT DEBUG): {}\n\
         Managed services and ACLs often forbid it; the embedded engine (redstep without --redis) \
         steps the same script.",
        String::from_utf8_lossy(error)
    )
}

/// Steps `body` with `keys` and `args` on the server at `target`, to the
/// end, and records it. When `stop` answers true (asked before each step)
/// the script is aborted at its next line, as LDB's `abort` does.
pub fn record(
    target: &Target,
    body: &[u8],
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
    options: &Options,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Recorded> {
    record_argv(
        target,
        &eval_argv(body.to_vec(), (keys, args)),
        options,
        stop,
    )
}

/// `record` of an EVAL command line (`EVAL body numkeys key... arg...`).
/// On a Redis Cluster it runs on the master that owns the slot of the
/// first declared key, whichever node `target` is (`remote::cluster`).
pub fn record_argv(
    target: &Target,
    argv: &[Vec<u8>],
    options: &Options,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<Recorded> {
    let mut route = super::cluster::route(target, argv)?;
    let mut notes = Vec::new();
    for _ in 0..3 {
        let (at, asking) = match &route {
            Some(r) => {
                notes.push(r.why.clone());
                (&r.target, r.asking)
            }
            None => (target, false),
        };
        let mut recorded = record_at(at, argv, options, stop, asking)?;
        let timeline = &recorded.timeline;
        // Refused before any line ran with MOVED or ASK: the slot lives
        // elsewhere now; go there.
        let redirect = match &timeline.outcome.reply {
            Reply::Error(e)
                if !timeline
                    .steps
                    .iter()
                    .any(|s| matches!(s.kind, crate::trace::StepKind::Line { .. })) =>
            {
                super::cluster::redirect(at, e)
            }
            _ => None,
        };
        if redirect.is_none() {
            if let Some(server) = &mut recorded.timeline.server {
                server.notes.splice(0..0, notes);
            }
            return Ok(recorded);
        }
        route = redirect;
    }
    bail!(
        "{}: the cluster redirected the script more than twice (MOVED/ASK); its topology is changing, try again",
        target.address()
    )
}

fn record_at(
    target: &Target,
    argv: &[Vec<u8>],
    options: &Options,
    stop: &dyn Fn() -> bool,
    asking: bool,
) -> anyhow::Result<Recorded> {
    let body = argv.get(1).map(Vec::as_slice).unwrap_or_default();
    if options.mode == Mode::Sync && !target.is_loopback() && !options.allow_blocking {
        bail!(
            "--ldb sync blocks {} for every client while you step; it is refused for a server \
             that is not on this machine unless --allow-blocking is given",
            target.address()
        );
    }
    let mut data = Conn::open(target)?;
    data.asking = asking;
    let label = data.label()?;
    let mut mirror = Mirror::new(target.db);
    let mut notes = Vec::new();
    if options.mode == Mode::Sync {
        // The server is blocked during a sync session, so the keys are
        // found first in a forked one (which changes nothing) and read now.
        let dry = Options {
            mode: Mode::Forked,
            limits: Limits {
                locals_steps: 0,
                ..options.limits.clone()
            },
            allow_blocking: false,
        };
        let found = record_at(target, argv, &dry, stop, asking)?;
        for load in &found.loads {
            mirror.run_load(load);
        }
        mirror.run_load(&[b"SELECT".to_vec(), target.db.to_string().into_bytes()]);
        mirror.loads = found.loads;
        mirror.touched = found.touched;
        mirror.frozen = true;
    }
    // The mirror replays the run as one top-level command for
    // propagation: what it sends replicas is what the server's run sent
    // (effects, MULTI/EXEC around more than one), or would have, forked.
    let propagation = &mut mirror.engine.keyspace.propagation;
    propagation.reset();
    propagation.assume_selected(target.db);
    propagation.cap = Some(crate::trace::REPLICA_KEPT);
    let propagating = propagation.enter(mirror.engine.keyspace.dirty);
    let mut session = Session {
        ldb: Conn::open(target)?,
        data: &mut data,
        mirror: &mut mirror,
        builder: Builder::new(options.limits.clone()),
        line: 0,
        frames: Vec::new(),
        source: String::from_utf8_lossy(body)
            .lines()
            .map(str::to_string)
            .collect(),
        notes: &mut notes,
        ended: false,
    };
    let debug: &[u8] = match options.mode {
        Mode::Forked => b"YES",
        Mode::Sync => b"SYNC",
    };
    match session.ldb.cmd(&[b"SCRIPT", b"DEBUG", debug])? {
        Reply::Error(e) => return Err(refused(&label, &e)),
        Reply::Status(_) => {}
        other => return Err(refused(&label, format!("{other:?}").as_bytes())),
    }
    if asking {
        session.ldb.cmd(&[b"ASKING"])?;
    }
    session.ldb.send(argv)?;
    let reply = session.run(stop)?;
    let source = String::from_utf8_lossy(body)
        .lines()
        .map(str::to_string)
        .collect();
    let Session { builder, .. } = session;
    let dirty = mirror.engine.keyspace.dirty;
    let propagation = &mut mirror.engine.keyspace.propagation;
    propagation.leave(propagating, dirty, target.db, argv, false);
    let sent = propagation.take();
    let more = std::mem::take(&mut propagation.dropped);
    propagation.cap = None;
    let name = crate::script::sha1_hex(body);
    let mut timeline = builder.finish(name, argv, source, reply, &mirror.engine.keyspace);
    timeline.replica = sent;
    timeline.replica_more = more;
    // A sync run's writes reached the replicas: read them back.
    let replicas = match options.mode {
        Mode::Forked => {
            if let Ok(listed) = super::replicas::addresses(target, &mut data) {
                if !listed.is_empty() {
                    notes.push(format!(
                        "its replicas ({}) received nothing: a forked session's writes vanish with the fork (--ldb sync runs the script on the server, and redstep reads the replicas after the run)",
                        listed.join(", ")
                    ));
                }
            }
            Vec::new()
        }
        Mode::Sync => {
            let now = mirror.engine.now();
            let left = |db: usize, key: &[u8]| {
                mirror
                    .engine
                    .keyspace
                    .db(db)
                    .entry(key)
                    .filter(|e| e.expire_at.is_none_or(|t| t > now))
                    .cloned()
            };
            super::replicas::read(target, &mut data, &mirror.touched, left, stop).unwrap_or_else(
                |e| {
                    notes.push(format!("its replicas could not be listed: {e:#}"));
                    Vec::new()
                },
            )
        }
    };
    timeline.server = Some(Server {
        label,
        forked: options.mode == Mode::Forked,
        notes,
        replicas,
    });
    Ok(Recorded {
        timeline,
        loads: mirror.loads,
        touched: mirror.touched,
        mirror: mirror.engine,
    })
}

/// The embedded engine holding the keys the script touched.
struct Mirror {
    engine: Engine,
    client: Client,
    /// Keys read from the server already (db, key), in order.
    touched: Vec<(usize, Vec<u8>)>,
    loads: Vec<Vec<Vec<u8>>>,
    /// The database the last load was for.
    load_db: usize,
    /// Nothing more can be read before the run (a sync session).
    frozen: bool,
}

impl Mirror {
    fn new(db: usize) -> Mirror {
        let mut engine = Engine::default();
        let mut client = engine.new_client();
        client.db = db;
        let select = vec![b"SELECT".to_vec(), db.to_string().into_bytes()];
        Mirror {
            engine,
            client,
            touched: Vec::new(),
            loads: vec![select],
            load_db: db,
            frozen: false,
        }
    }

    fn run_load(&mut self, argv: &[Vec<u8>]) {
        self.engine.call(&mut self.client, argv, &mut NoExtension);
    }
}

/// One LDB session being driven.
struct Session<'a> {
    ldb: Conn,
    data: &'a mut Conn,
    mirror: &'a mut Mirror,
    builder: Builder,
    /// The line the script is stopped at, and the lines of the frames
    /// that called it (innermost first).
    line: u32,
    frames: Vec<u32>,
    source: Vec<String>,
    notes: &'a mut Vec<String>,
    /// `<endsession>` was seen: nothing can be asked any more.
    ended: bool,
}

/// A `<redis>` line waiting for its `<reply>`.
struct PendingCall {
    text: String,
    error: Option<String>,
}

impl Session<'_> {
    /// Drives the session to its end; returns the script's reply.
    fn run(&mut self, stop: &dyn Fn() -> bool) -> anyhow::Result<Reply> {
        let mut reply = self.ldb.read()?;
        let mut first = true;
        loop {
            let lines = match reply {
                Reply::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        Reply::Status(s) | Reply::Bulk(s) => {
                            String::from_utf8_lossy(&s).into_owned()
                        }
                        other => human::render(&other),
                    })
                    .collect::<Vec<_>>(),
                // Refused before any session started (e.g. a bad numkeys).
                other if first => return Ok(other),
                other => bail!("the server's debugger answered {}", human::render(&other)),
            };
            first = false;
            let mut pending: Option<PendingCall> = None;
            let mut stopped_at = None;
            let mut control = Control::Continue;
            for line in lines {
                if let Some(text) = line.strip_prefix("<redis> ") {
                    control = self.flush(pending.take(), None, control)?;
                    pending = Some(PendingCall {
                        text: text.to_string(),
                        error: None,
                    });
                } else if let Some(text) = line.strip_prefix("<error> ") {
                    if let Some(p) = pending.as_mut() {
                        p.error = Some(text.to_string());
                    }
                } else if let Some(text) = line.strip_prefix("<reply> ") {
                    control = self.flush(pending.take(), Some(text), control)?;
                } else if let Some(rest) = line.strip_prefix("* Stopped at ") {
                    control = self.flush(pending.take(), None, control)?;
                    let n = rest.split(',').next().unwrap_or("").trim();
                    stopped_at = n.parse::<u32>().ok();
                } else if line == "<endsession>" {
                    self.ended = true;
                    control = self.flush(pending.take(), None, control)?;
                }
            }
            control = self.flush(pending.take(), None, control)?;
            if self.ended {
                return self.ldb.read_or_eof()?.ok_or_else(|| {
                    anyhow!("the server closed the debugging session before the script's reply")
                });
            }
            let Some(line) = stopped_at else {
                bail!("the server's debugger neither stopped nor ended the session");
            };
            if self.line == 0 {
                // Replies are logged whole, not cut at 256 bytes.
                self.ask(&[b"maxlen", b"0"])?;
            }
            self.line = line;
            if let Control::Continue = control {
                let depth = self.backtrace()?;
                let locals = if self.builder.wants_locals() {
                    self.locals()?
                } else {
                    Vec::new()
                };
                control = self.builder.line(line, depth, |_, out| {
                    for (name, value) in &locals {
                        out.push(name, value);
                    }
                });
            }
            if let (Control::Continue, true) = (&control, stop()) {
                control = Control::Stop("stopped by the user".into());
            }
            let cap = self.builder.limits().max_steps;
            if let (Control::Continue, true) = (&control, self.builder.len() >= cap) {
                // Each step is a round trip to the server: past the cap the
                // script is stopped, not run on unrecorded.
                control = Control::Stop(format!(
                    "the script was stopped at the cap of {cap} steps (LDB's abort)"
                ));
            }
            match control {
                Control::Continue => self.ldb.send(&[b"step".to_vec()])?,
                Control::Stop(reason) => {
                    self.builder.stop(reason);
                    self.ldb.send(&[b"abort".to_vec()])?;
                }
                Control::Kill => {
                    self.builder.stop("killed".into());
                    self.ldb.send(&[b"abort".to_vec()])?;
                }
            }
            reply = self.ldb.read()?;
        }
    }

    /// The log lines a debugger command answers.
    fn ask(&mut self, argv: &[&[u8]]) -> anyhow::Result<Vec<String>> {
        match self.ldb.cmd(argv)? {
            Reply::Array(items) => Ok(items
                .into_iter()
                .map(|i| match i {
                    Reply::Status(s) | Reply::Bulk(s) => String::from_utf8_lossy(&s).into_owned(),
                    other => human::render(&other),
                })
                .collect()),
            other => bail!("the server's debugger answered {}", human::render(&other)),
        }
    }

    /// Reads the frames' lines (LDB's `trace`) and returns how many
    /// functions deep the script is (1 = the main chunk, as the embedded
    /// recorder counts).
    fn backtrace(&mut self) -> anyhow::Result<u32> {
        let lines = self.ask(&[b"trace"])?;
        self.frames = lines
            .iter()
            .filter(|l| !l.starts_with("In ") && !l.starts_with("From "))
            .filter_map(|l| {
                l.trim_start_matches("->")
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .collect();
        Ok(self.frames.len().max(1) as u32)
    }

    /// The line a logged command ran on. LDB does not say; it is the line
    /// stopped at, unless that line calls no `redis.*` and a calling
    /// frame's line does: a function returned, and its caller went on
    /// evaluating its own line (`return {f(), redis.call(...)}`), which
    /// Lua does not report as a new line.
    fn call_line(&self) -> u32 {
        let calls_redis = |n: &u32| {
            self.source
                .get((*n as usize).wrapping_sub(1))
                .is_some_and(|text| text.contains("redis."))
        };
        if calls_redis(&self.line) {
            return self.line;
        }
        self.frames
            .iter()
            .skip(1)
            .find(|n| calls_redis(n))
            .copied()
            .unwrap_or(self.line)
    }

    /// The locals LDB's `print` shows, as `name = value` pairs.
    fn locals(&mut self) -> anyhow::Result<Vec<(String, String)>> {
        Ok(self
            .ask(&[b"print"])?
            .iter()
            .filter_map(|l| l.strip_prefix("<value> "))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Runs a command LDB logged on the mirror and records it.
    fn flush(
        &mut self,
        call: Option<PendingCall>,
        reply_text: Option<&str>,
        control: Control,
    ) -> anyhow::Result<Control> {
        let Some(call) = call else {
            return Ok(control);
        };
        let (argv, cut) = split_logged(&call.text);
        let spec = self.mirror.engine.command_table().resolve(&argv).copied();
        let write = spec.is_some_and(|s| s.is_write());
        if let Some(spec) = &spec {
            for key in spec.keys(&argv) {
                self.load(key.to_vec())?;
            }
        }
        let observer = self.builder.observer();
        let previous = self.mirror.engine.keyspace.set_observer(Some(observer));
        // A command refused before it ran (arity, an unknown command, a
        // write in a read-only script) is logged without a reply: it
        // changed nothing, and the mirror does not run it.
        let refused = reply_text.is_none();
        let ours = if cut || refused {
            None
        } else {
            // Only the script's own commands are propagated, not the
            // mirror's loads and read-backs.
            self.mirror.engine.keyspace.propagation.on = true;
            let reply = self
                .mirror
                .engine
                .call(&mut self.mirror.client, &argv, &mut NoExtension);
            self.mirror.engine.keyspace.propagation.on = false;
            Some(reply)
        };
        let theirs = match reply_text {
            Some(text) => match &ours {
                Some(ours) if human::render(ours) == text => Some(ours.clone()),
                _ => human::parse(text).map(|r| match r {
                    Reply::Bulk(b) if call.error.is_some() && b.first() == Some(&b'-') => {
                        Reply::Error(b[1..].to_vec())
                    }
                    other => other,
                }),
            },
            // Refused before it ran: the error the script receives, as
            // luaPushErrorBuff words it.
            None => call.error.as_deref().map(|e| match e.strip_prefix('-') {
                Some(coded) if coded.contains(' ') => Reply::Error(coded.as_bytes().to_vec()),
                Some(bare) => Reply::error(format!("ERR {bare}")),
                None => Reply::error(format!("ERR {e}")),
            }),
        };
        let reply = theirs
            .clone()
            .unwrap_or_else(|| Reply::error("ERR (the server's reply was not logged)"));
        let agreed = match (&ours, &theirs) {
            (Some(a), Some(b)) => human::render(a) == human::render(b),
            _ => refused,
        };
        // A command that names no key and writes nothing (DBSIZE, TIME,
        // KEYS) reads what the mirror does not hold: no note for it.
        let noted = write || spec.is_some_and(|s| !s.keys(&argv).is_empty());
        if !agreed && noted {
            self.notes.push(format!(
                "line {}: {}: redstep's engine answered {} where the server answered {}{}",
                self.line,
                call.text,
                ours.as_ref()
                    .map(human::render)
                    .unwrap_or_else(|| "nothing (the logged command was cut)".into()),
                reply_text.unwrap_or("an error"),
                if write {
                    "; the keys it names were read back from the server"
                } else {
                    ""
                }
            ));
            if write {
                if let Some(spec) = &spec {
                    for key in spec.keys(&argv) {
                        self.read_back(key.to_vec())?;
                    }
                }
            }
        }
        self.mirror.engine.keyspace.set_observer(previous);
        Ok(match control {
            Control::Continue => self.builder.command(self.call_line(), &argv, &reply, write),
            stop => stop,
        })
    }

    /// Loads `key` into the mirror as it was before the run.
    fn load(&mut self, key: Vec<u8>) -> anyhow::Result<()> {
        let db = self.mirror.client.db;
        if self
            .mirror
            .touched
            .iter()
            .any(|(d, k)| *d == db && *k == key)
        {
            return Ok(());
        }
        self.mirror.touched.push((db, key.clone()));
        if self.mirror.frozen {
            self.notes.push(format!(
                "{}: not seen before the run, so its value before it is not known",
                human::render(&Reply::Bulk(key))
            ));
            return Ok(());
        }
        let data = &mut *self.data;
        data.cmd(&[b"SELECT", db.to_string().as_bytes()])?;
        match read_key(&key, |argv| data.call(argv))? {
            Ok(commands) => {
                if db != self.mirror.load_db {
                    self.mirror
                        .loads
                        .push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
                    self.mirror.load_db = db;
                }
                for argv in commands {
                    self.mirror.run_load(&argv);
                    self.mirror.loads.push(argv);
                }
            }
            Err(why) => self.notes.push(format!(
                "{}: not copied ({why}); the keyspace view leaves it out",
                human::render(&Reply::Bulk(key))
            )),
        }
        Ok(())
    }

    /// Replaces the mirror's `key` by the server's, read inside the session.
    fn read_back(&mut self, key: Vec<u8>) -> anyhow::Result<()> {
        if self.ended {
            self.notes.push(format!(
                "{}: the session had ended, so it could not be read back",
                human::render(&Reply::Bulk(key))
            ));
            return Ok(());
        }
        let ldb = &mut self.ldb;
        let read = read_key(&key, |argv| {
            let mut words = vec![b"redis".to_vec()];
            words.extend(argv.iter().cloned());
            let lines = match ldb.call(&words)? {
                Reply::Array(items) => items,
                other => return Ok(other),
            };
            let logged = lines.iter().find_map(|l| match l {
                Reply::Status(s) => String::from_utf8_lossy(s)
                    .strip_prefix("<reply> ")
                    .map(str::to_string),
                _ => None,
            });
            Ok(logged.and_then(|t| human::parse(&t)).unwrap_or(Reply::Nil))
        })?;
        let client = &mut self.mirror.client;
        self.mirror
            .engine
            .call(client, &[b"DEL".to_vec(), key.clone()], &mut NoExtension);
        match read {
            Ok(commands) => {
                for argv in commands {
                    self.mirror.engine.call(client, &argv, &mut NoExtension);
                }
            }
            Err(why) => self.notes.push(format!(
                "{}: could not be read back ({why})",
                human::render(&Reply::Bulk(key))
            )),
        }
        Ok(())
    }
}

/// A command as LDB logs it: arguments joined by spaces, at most ten.
pub(crate) fn logged_command(argv: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for (i, arg) in argv.iter().enumerate() {
        if i == 10 {
            out.push_str(&format!(" ... ({} more)", argv.len() - i - 1));
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&String::from_utf8_lossy(arg));
    }
    out
}

/// The arguments of a `<redis>` line: LDB joins them with spaces and logs
/// at most ten (`... (N more)`); true when it cut some.
fn split_logged(text: &str) -> (Vec<Vec<u8>>, bool) {
    let (text, cut) = match text.find(" ... (") {
        Some(at) if text.ends_with(" more)") => (&text[..at], true),
        _ => (text, false),
    };
    (
        text.split(' ').map(|w| w.as_bytes().to_vec()).collect(),
        cut,
    )
}
