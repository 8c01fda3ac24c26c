//! The trace recorder: a script run becomes a [`Timeline`] of steps (each
//! line, each `redis.call` with its reply and the keyspace changes it made,
//! the error or the return) plus an [`Outcome`].
//!
//! It listens to the scripting layer as a [`Probe`] and to the keyspace as
//! an [`Observer`]. Changes are kept as inverse deltas only, so a trace costs
//! memory in proportion to what changed, not to the size of what was
//! touched; the [`Debugger`] rebuilds any step's keyspace from them.

mod changes;
mod cluster;
pub(crate) mod commands;
mod debugger;
pub mod export;
pub(crate) mod lane;
pub(crate) mod session;
pub mod words;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::engine::value::Value;
use crate::engine::{Client, Delta, Engine, Observer, Reply};
use crate::script::{busy_answer, BusyAnswer, Control, Frame, Probe, Scripting};

pub use changes::Changes;
pub use commands::record_commands;
pub use lane::{LaneCommand, When};

/// A key's value and expiry, as the debugger hands them to the views.
pub use crate::engine::keyspace::Entry;
pub use debugger::{DebugView, Debugger, KeyChange, Move};
pub use session::{Answer, KeyMark, KeyState, Session, Start, Why};

/// How much a trace may hold. Past the step cap recording stops and the
/// script runs on (what it changes after that shows at its end); past the
/// byte cap the script is stopped with an error that says so (its writes
/// so far stay, as in Redis), unless `run_on_at_max_bytes`. The outcome
/// records that the trace was cut.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_steps: usize,
    pub max_bytes: usize,
    /// At the byte cap, stop recording as at the step cap and let the
    /// script run on (the TUI: a trace must not change what a run does);
    /// it is stopped only at twice the cap.
    pub run_on_at_max_bytes: bool,
    /// Locals are recorded for this many line steps (the first ones).
    pub locals_steps: usize,
    /// Longest rendering of one local's value.
    pub value_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 5_000_000,
            max_bytes: 512 * 1024 * 1024,
            run_on_at_max_bytes: false,
            locals_steps: 100_000,
            value_len: 60,
        }
    }
}

/// What a step is. A step is 16 bytes (a traced loop records millions):
/// what a call, an error, a return or another client's command holds sits
/// in the timeline's [`Payloads`], and [`Timeline::event`] reads it back.
#[derive(Clone, Copy, Debug)]
pub enum StepKind {
    /// A line is about to run, `depth` functions deep, with these locals.
    Line {
        depth: Depth,
        /// None past [`Limits::locals_steps`].
        locals: Option<LocalsAt>,
    },
    /// `redis.call`/`redis.pcall` ran a command.
    Call(CallAt),
    /// The script died.
    Error(ErrorAt),
    /// The script returned.
    Return(ReturnAt),
    /// Another client's command (`lane`): sent before, during or after
    /// the run, answered when Redis would answer it.
    Other(OtherAt),
}

const _: () = assert!(std::mem::size_of::<Step>() == 16);

/// A line step's depth in 24 bits (so that a step stays 16 bytes). Lost
/// tail calls count (a tail-recursive loop goes one deeper each turn), so
/// it has no bound of Lua's own; but each level takes a recorded line
/// step, and a trace holds fewer than [`Depth::MAX`] steps unless its step
/// cap is raised above that (the TUI's is 5,000,000): past it a depth
/// reads as `Depth::MAX`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Depth([u8; 3]);

impl Depth {
    pub const MAX: u32 = (1 << 24) - 1;

    pub fn new(depth: u32) -> Depth {
        let [a, b, c, _] = depth.min(Depth::MAX).to_le_bytes();
        Depth([a, b, c])
    }

    pub fn get(self) -> u32 {
        let [a, b, c] = self.0;
        u32::from_le_bytes([a, b, c, 0])
    }
}

/// Where a call step's call sits in [`Payloads`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallAt(u32);

/// Where an error step's error sits in [`Payloads`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorAt(u32);

/// Where a return step's reply sits in [`Payloads`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReturnAt(u32);

/// Where another client's command sits in [`Payloads`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtherAt(u32);

/// A step as the views read it (see [`Timeline::event`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Event<'a> {
    /// A line is about to run, `depth` functions deep, with these locals.
    Line {
        depth: u32,
        locals: Option<LocalsAt>,
    },
    /// `redis.call`/`redis.pcall` ran a command.
    Call(Call<'a>),
    /// The script died; `message` is what the client receives.
    Error {
        message: &'a [u8],
        interrupted: bool,
    },
    /// The script returned; the client receives `reply`.
    Return { reply: &'a Reply },
    /// Another client's command.
    Other(&'a Other),
}

/// Another client's command in a run's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Other {
    /// The client's number as the user wrote it (2, 3, ...).
    pub client: u32,
    pub argv: Vec<Vec<u8>>,
    /// None: sent while the script runs, it waits (its answer is a later
    /// step). Some: answered here.
    pub reply: Option<Reply>,
    /// The step (index) at which it was sent, when that is not this one.
    pub sent_at: Option<usize>,
}

/// A command a script ran, with its reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Call<'a> {
    pub argv: &'a [Vec<u8>],
    pub reply: Cow<'a, Reply>,
    /// A write command (it may still have changed nothing).
    pub write: bool,
}

/// What a timeline's steps hold beyond their kind, each kind in its own
/// vector. A call is 16 bytes: its arguments by number (a loop's equal
/// calls share one copy), its reply an integer in place (INCR's, SADD's:
/// no heap) or a number in the replies.
#[derive(Clone, Debug, Default)]
pub struct Payloads {
    calls: Vec<CallRecord>,
    argvs: Vec<Vec<Vec<u8>>>,
    replies: Vec<Reply>,
    errors: Vec<(Vec<u8>, bool)>,
    returns: Vec<Reply>,
    others: Vec<Other>,
    /// The heap the arguments, replies, errors and commands hold.
    heap: usize,
}

#[derive(Clone, Copy, Debug)]
struct CallRecord {
    /// The integer reply when `int`, else its number in `replies`.
    reply: i64,
    argv: u32,
    write: bool,
    int: bool,
}

/// A vector's index as a step stores it.
fn index(len: usize) -> u32 {
    u32::try_from(len).expect("a trace holds fewer than 2^32 of each")
}

impl Payloads {
    /// Adds an argument list; returns its number.
    fn add_argv(&mut self, argv: &[Vec<u8>]) -> u32 {
        self.heap += argv_size(argv);
        room_for(&mut self.argvs, 1);
        self.argvs.push(argv.to_vec());
        index(self.argvs.len() - 1)
    }

    fn argv(&self, at: u32) -> &[Vec<u8>] {
        &self.argvs[at as usize]
    }

    #[inline]
    fn add_call(&mut self, argv: u32, reply: &Reply, write: bool) -> CallAt {
        let (reply, int) = match reply {
            // An integer (INCR's) holds no heap: nothing to count or walk.
            Reply::Int(n) => (*n, true),
            other => {
                self.heap += reply_size(other);
                room_for(&mut self.replies, 1);
                self.replies.push(other.clone());
                (self.replies.len() as i64 - 1, false)
            }
        };
        room_for(&mut self.calls, 1);
        self.calls.push(CallRecord {
            reply,
            argv,
            write,
            int,
        });
        CallAt(index(self.calls.len() - 1))
    }

    fn add_error(&mut self, message: Vec<u8>, interrupted: bool) -> ErrorAt {
        self.heap += message.len();
        self.errors.push((message, interrupted));
        ErrorAt(index(self.errors.len() - 1))
    }

    fn add_return(&mut self, reply: Reply) -> ReturnAt {
        self.heap += reply_size(&reply);
        self.returns.push(reply);
        ReturnAt(index(self.returns.len() - 1))
    }

    fn add_other(&mut self, other: Other) -> OtherAt {
        self.heap += argv_size(&other.argv) + other.reply.as_ref().map_or(0, reply_size);
        room_for(&mut self.others, 1);
        self.others.push(other);
        OtherAt(index(self.others.len() - 1))
    }

    pub fn call(&self, at: CallAt) -> Call<'_> {
        let record = self.calls[at.0 as usize];
        Call {
            argv: self.argv(record.argv),
            reply: if record.int {
                Cow::Owned(Reply::Int(record.reply))
            } else {
                Cow::Borrowed(&self.replies[record.reply as usize])
            },
            write: record.write,
        }
    }

    /// Whether this call is a write command.
    fn writes(&self, at: CallAt) -> bool {
        self.calls[at.0 as usize].write
    }

    /// The heap it holds, the room its vectors grew to included.
    fn held(&self) -> usize {
        use std::mem::size_of;
        self.heap
            + self.calls.capacity() * size_of::<CallRecord>()
            + self.argvs.capacity() * size_of::<Vec<Vec<u8>>>()
            + self.replies.capacity() * size_of::<Reply>()
            + self.errors.capacity() * size_of::<(Vec<u8>, bool)>()
            + self.returns.capacity() * size_of::<Reply>()
            + self.others.capacity() * size_of::<Other>()
    }

    fn shrink_to_fit(&mut self) {
        self.calls.shrink_to_fit();
        self.argvs.shrink_to_fit();
        self.replies.shrink_to_fit();
        self.others.shrink_to_fit();
    }
}

/// Where a line step's locals sit in [`Timeline::locals`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalsAt(std::num::NonZeroU32);

/// Every recorded line step's locals, one step's after the other in one
/// string (no allocation a line step: a traced loop records 100,000 of
/// them): (name, value) pairs, each name and value ended by a NUL (a NUL
/// inside one is written `\0`).
#[derive(Clone, Debug, Default)]
pub struct AllLocals {
    text: String,
    /// Where each step's pairs end in `text` (they start where the
    /// previous step's end).
    ends: Vec<u32>,
    /// Where a value is rendered before it joins `text` (one buffer for
    /// the whole trace: no allocation a value).
    value: String,
}

impl AllLocals {
    /// Adds a step's locals, written by `write`; None once the text would
    /// pass 4 GiB (a trace's byte cap stops it long before).
    pub(crate) fn add(&mut self, write: impl FnOnce(&mut LocalsWriter)) -> Option<LocalsAt> {
        let start = self.text.len();
        write(&mut LocalsWriter {
            text: &mut self.text,
            value: &mut self.value,
        });
        let (Ok(end), Ok(id)) = (
            u32::try_from(self.text.len()),
            u32::try_from(self.ends.len() + 1),
        ) else {
            self.text.truncate(start);
            return None;
        };
        self.ends.push(end);
        Some(LocalsAt(std::num::NonZeroU32::new(id)?))
    }

    pub fn get(&self, at: LocalsAt) -> Locals<'_> {
        let i = at.0.get() as usize - 1;
        let start = i.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        Locals(&self.text[start..self.ends[i] as usize])
    }

    /// The heap it holds, the room it grew to included.
    pub(crate) fn held(&self) -> usize {
        self.text.capacity()
            + self.ends.capacity() * std::mem::size_of::<u32>()
            + self.value.capacity()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.value = String::new();
    }
}

/// Writes one step's locals into [`AllLocals`].
pub struct LocalsWriter<'a> {
    text: &'a mut String,
    /// A buffer to render a value in (see [`AllLocals`]).
    value: &'a mut String,
}

impl LocalsWriter<'_> {
    pub fn push(&mut self, name: &str, value: &str) {
        push_local(self.text, name, value);
    }
}

fn push_local(text: &mut String, name: &str, value: &str) {
    // A large text grows by an eighth (see `room_for`).
    let more = name.len() + value.len() + 2;
    if text.capacity() - text.len() < more && text.capacity() >= 1 << 20 {
        text.reserve_exact(more.max(text.capacity() / 8));
    }
    for part in [name, value] {
        // A byte loop: the parts are short, too short for memchr's setup.
        if part.bytes().any(|b| b == 0) {
            text.push_str(&part.replace('\0', "\\0"));
        } else {
            text.push_str(part);
        }
        text.push('\0');
    }
}

/// A line step's locals (see [`AllLocals`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Locals<'a>(&'a str);

impl<'a> Locals<'a> {
    /// The pairs, in the order the function declared them.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let mut parts = self.0.split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    pub fn len(self) -> usize {
        self.0.matches('\0').count() / 2
    }

    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// Whether it holds this pair.
    pub fn contains(self, name: &str, value: &str) -> bool {
        self.iter().any(|pair| pair == (name, value))
    }
}

/// An inverse delta of one change: (database, delta).
pub type Change = (usize, Delta);

/// One step of a run. Not comparable on its own: its kind names what it
/// holds by number in its timeline's payloads (compare `Timeline::event`s).
#[derive(Clone, Debug)]
pub struct Step {
    pub line: u32,
    /// Where this step's inverse deltas end in [`Timeline::deltas`]; they
    /// start where the previous step's end. (All the steps' deltas sit in
    /// one vector: a step holds no slice, and most hold no change.)
    pub(crate) deltas_end: u32,
    pub kind: StepKind,
}

/// Where step `i`'s deltas sit in the vector of all of them.
pub(crate) fn delta_range(steps: &[Step], i: usize) -> std::ops::Range<usize> {
    let start = i.checked_sub(1).map_or(0, |p| steps[p].deltas_end as usize);
    start..steps[i].deltas_end as usize
}

/// Makes room for `more` elements. A large vector grows by an eighth, not
/// by doubling: the room it holds counts against the trace's byte cap (and
/// growing one that large moves pages, not bytes).
#[inline]
fn room_for<T>(vector: &mut Vec<T>, more: usize) {
    if vector.capacity() - vector.len() < more {
        grow(vector, more);
    }
}

#[cold]
#[inline(never)]
fn grow<T>(vector: &mut Vec<T>, more: usize) {
    if vector.capacity() >= 1 << 20 {
        vector.reserve_exact(more.max(vector.capacity() / 8));
    } else {
        vector.reserve(more);
    }
    populate(vector.spare_capacity_mut());
}

/// Asks the kernel for the pages of a large vector's new room at once
/// (`MADV_POPULATE_WRITE`), rather than one page fault at a time as the
/// steps fill it: a million traced INCRs wrote 16,000 pages a page fault
/// each, about 15% of a traced run's time on the 2-core machine of the
/// README (`perf`). The room is already counted against the trace's cap (see
/// `held`), so no more memory is taken than the cap allows; a kernel
/// without the advice (before 5.14) refuses it and the pages come as before.
fn populate<T>(room: &mut [std::mem::MaybeUninit<T>]) {
    let bytes = std::mem::size_of_val(room);
    if bytes < 1 << 20 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = room.as_mut_ptr() as usize;
        let (first, end) = (start.next_multiple_of(PAGE), (start + bytes) / PAGE * PAGE);
        // SAFETY: the pages lie within the vector's own allocation, past
        // its elements; the advice only faults them in, keeping their
        // contents (it neither frees nor moves memory).
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                end - first,
                libc::MADV_POPULATE_WRITE,
            );
        }
    }
}

/// A count of deltas as a step stores it.
fn delta_end(len: usize) -> u32 {
    u32::try_from(len).expect("a trace holds fewer than 2^32 changes")
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Status {
    Ok,
    Error,
    /// Stopped from outside: SCRIPT KILL, the budget, Esc, a trace cap.
    Interrupted,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
            Status::Interrupted => "interrupted",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub status: Status,
    /// What the client received.
    pub reply: Reply,
    pub error_line: Option<u32>,
    /// The script did not compile: Redis ran none of it (`error_line` is
    /// where the compiler stopped, the last line when it hit the end).
    pub compile_error: bool,
    /// Write commands that changed the keyspace (all of them stay: Redis
    /// does not roll back).
    pub writes_applied: usize,
    pub keys_changed: Vec<(usize, Vec<u8>)>,
    /// Set when a cap stopped the recording.
    pub truncated: Option<String>,
    /// The recorder's estimate of the bytes the trace holds.
    pub trace_bytes: usize,
    /// A fingerprint of what the changed keys held when the run ended.
    pub final_state: u64,
}

/// A fingerprint of the entries of these keys (linear in their sizes).
pub(crate) fn fingerprint(
    keyspace: &crate::engine::keyspace::Keyspace,
    keys: &[(usize, Vec<u8>)],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (db, key) in keys {
        (db, key).hash(&mut hasher);
        match keyspace.db(*db).entry(key) {
            None => 0u8.hash(&mut hasher),
            Some(entry) => {
                entry.expire_at.hash(&mut hasher);
                std::mem::discriminant(&entry.str_enc).hash(&mut hasher);
                match &entry.value {
                    Value::String(s) => (1u8, s).hash(&mut hasher),
                    Value::List(l) => (2u8, l).hash(&mut hasher),
                    Value::Hash(h) => {
                        3u8.hash(&mut hasher);
                        h.map.iter().for_each(|pair| pair.hash(&mut hasher));
                    }
                    Value::Set(set) => {
                        4u8.hash(&mut hasher);
                        set.members.iter().for_each(|m| m.hash(&mut hasher));
                    }
                    Value::ZSet(z) => {
                        5u8.hash(&mut hasher);
                        z.iter()
                            .for_each(|(m, score)| (m, score.to_bits()).hash(&mut hasher));
                    }
                    Value::Stream(st) => {
                        6u8.hash(&mut hasher);
                        st.entries.iter().for_each(|e| e.hash(&mut hasher));
                        format!("{:?}{:?}", st.meta, st.groups).hash(&mut hasher);
                    }
                }
            }
        }
    }
    hasher.finish()
}

#[derive(Clone, Debug)]
pub struct Timeline {
    /// The SHA1 of the body (EVAL*), or the function name (FCALL*).
    pub name: String,
    pub command: Vec<Vec<u8>>,
    pub source: Vec<String>,
    pub steps: Vec<Step>,
    /// What the steps hold beyond their kind (see [`Timeline::event`]).
    pub payloads: Payloads,
    /// Every step's inverse deltas, step after step, each step's in the
    /// order its changes were made (see [`Timeline::deltas_of`]).
    pub deltas: Changes,
    /// The line steps' locals (see [`StepKind::Line`]).
    pub locals: AllLocals,
    pub outcome: Outcome,
    /// Set when the run was stepped on a real server, not the embedded engine.
    pub server: Option<Server>,
    /// What replicas and the AOF received for this run (Redis 7.0's
    /// propagation: the script's effects, `MULTI`/`EXEC` around more than
    /// one, `SELECT` when the database changes): recorded by the engine
    /// that ran it, or for a run on a real server by the mirror replaying
    /// it (a forked run sent nothing: what it would have sent).
    pub replica: Vec<Vec<Vec<u8>>>,
    /// Commands replicas received that `replica` leaves out (it keeps the
    /// first `REPLICA_KEPT`).
    pub replica_more: usize,
}

/// How many propagated commands a timeline keeps.
pub const REPLICA_KEPT: usize = 10_000;

/// Where a run recorded on a real server ran, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// `redis 7.0.15 @ 127.0.0.1:6379`.
    pub label: String,
    /// The debugger ran the script in a forked copy of the server (LDB's
    /// default): the server's data is untouched afterwards.
    pub forked: bool,
    /// What the recording could not see exactly (said, not hidden).
    pub notes: Vec<String>,
    /// The server's replicas, read after a sync run (a forked run sends
    /// them nothing).
    pub replicas: Vec<ReplicaRead>,
}

/// One replica of the server a run was stepped on, read after the run.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaRead {
    /// `127.0.0.1:6380`, as the primary lists it.
    pub address: String,
    /// It had processed all the primary had sent when its keys were read.
    pub caught_up: bool,
    /// The keys the script touched, in the order it first named them.
    pub keys: Vec<ReplicaKey>,
    /// Why it could not be read.
    pub error: Option<String>,
    /// How long it was given to catch up, in seconds.
    pub waited_s: u64,
}

impl ReplicaRead {
    /// `` or ` (it had not caught up with the primary after 5 s)`.
    pub fn lateness(&self) -> String {
        if self.caught_up {
            String::new()
        } else {
            format!(
                " (it had not caught up with the primary after {} s)",
                self.waited_s
            )
        }
    }
}

/// A key as a replica holds it, beside what the run left on the primary.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaKey {
    pub db: usize,
    pub key: Vec<u8>,
    /// Its value on the replica, in words (`"2"`, `(absent)`).
    pub held: String,
    /// What the run left on the primary, in words.
    pub primary: String,
    /// The replica holds the same value.
    pub same: bool,
}

impl Timeline {
    /// What a step of this timeline is, with what it holds.
    pub fn event(&self, step: &Step) -> Event<'_> {
        let p = &self.payloads;
        match step.kind {
            StepKind::Line { depth, locals } => Event::Line {
                depth: depth.get(),
                locals,
            },
            StepKind::Call(at) => Event::Call(p.call(at)),
            StepKind::Error(at) => {
                let (message, interrupted) = &p.errors[at.0 as usize];
                Event::Error {
                    message,
                    interrupted: *interrupted,
                }
            }
            StepKind::Return(at) => Event::Return {
                reply: &p.returns[at.0 as usize],
            },
            StepKind::Other(at) => Event::Other(&p.others[at.0 as usize]),
        }
    }

    /// Step `i`'s call, if it is one.
    pub fn call(&self, i: usize) -> Option<Call<'_>> {
        match self.steps.get(i)?.kind {
            StepKind::Call(at) => Some(self.payloads.call(at)),
            _ => None,
        }
    }

    /// The inverse deltas of the changes step `i` made, in order (none
    /// when a [`Debugger`] holds them: see [`Timeline::holds_deltas`]).
    pub fn deltas_of(&self, i: usize) -> Vec<Change> {
        let range = delta_range(&self.steps, i);
        if range.end > self.deltas.len() {
            return Vec::new();
        }
        self.deltas.range(range).collect()
    }

    /// Each step with the number of changes it made.
    pub fn steps_with_change_counts(&self) -> impl Iterator<Item = (&Step, usize)> {
        let mut start = 0;
        self.steps.iter().map(move |step| {
            let end = step.deltas_end as usize;
            let count = end - start;
            start = end;
            (step, count)
        })
    }

    /// Whether the deltas are here: a [`Debugger`] takes them (its own
    /// `timeline()` has none; [`Debugger::undoable`] gives them back).
    pub fn holds_deltas(&self) -> bool {
        self.steps
            .last()
            .is_none_or(|s| s.deltas_end as usize == self.deltas.len())
    }

    /// Lines that ran at least once (a function's first line counting as
    /// run once its definition ran: see [`function_headers`]).
    pub(crate) fn lines_run(&self) -> BTreeSet<u32> {
        let mut run: BTreeSet<u32> = self
            .steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Line { .. }))
            .map(|s| s.line)
            .collect();
        add_headers(&mut run, &function_headers(&self.source));
        run
    }

    /// Lines with code that never ran (an empty set unless the run failed).
    pub fn lines_never_reached(&self) -> BTreeSet<u32> {
        if self.outcome.status == Status::Ok || self.outcome.compile_error {
            return BTreeSet::new();
        }
        let run = self.lines_run();
        let after = self.outcome.error_line.unwrap_or(0);
        self.source
            .iter()
            .enumerate()
            .map(|(i, text)| (i as u32 + 1, text.trim()))
            .filter(|(n, text)| *n > after && !run.contains(n) && is_code(text))
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether the keys the run changed still hold what it left in them.
    pub(crate) fn unchanged_since(&self, keyspace: &crate::engine::keyspace::Keyspace) -> bool {
        fingerprint(keyspace, &self.outcome.keys_changed) == self.outcome.final_state
    }

    /// Undoes the whole run in `keyspace` — what Redis never does. Refused
    /// when the keys the run changed no longer hold what it left in them
    /// (something ran since), because undoing would then destroy newer data.
    pub fn undo_in(&self, keyspace: &mut crate::engine::keyspace::Keyspace) -> Result<(), String> {
        if !self.holds_deltas() {
            return Err("this run's changes are held by its debugger, which undoes it".into());
        }
        if !self.unchanged_since(keyspace) {
            return Err("keys this run changed were changed again since; undoing it would destroy newer data".into());
        }
        // Each change undone, last first.
        for (db, delta) in self.deltas.range(0..self.deltas.len()).rev() {
            keyspace.apply(db, delta);
        }
        Ok(())
    }

    /// The step where the run failed, if it did: where the script died,
    /// or its return of an error reply.
    pub(crate) fn failure_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| match s.kind {
            StepKind::Error(_) => true,
            StepKind::Return(at) => self.payloads.returns[at.0 as usize].is_error(),
            _ => false,
        })
    }
}

/// Each function written over several lines, as (the line of its `end`,
/// the line of its `function` keyword), in the order of their `end`s.
///
/// Lua 5.1 never reports a function's first line to the line hook: the
/// closure is made by an instruction on the line of the function's `end`
/// (that is where a `local function f() ... end` statement runs, and
/// where Redis's LDB stops for it), and a call's first line event is the
/// body's first statement. So the header reads as run once its `end`
/// line has run: the definition ran (or the function itself, which it
/// had to be defined for).
pub(crate) fn function_headers(source: &[String]) -> Vec<(u32, u32)> {
    #[derive(PartialEq)]
    enum Block {
        Function(u32),
        Other,
    }
    let text = source.join("\n");
    let bytes = text.as_bytes();
    let mut line = 1u32;
    let mut i = 0;
    let mut stack: Vec<Block> = Vec::new();
    let mut headers = Vec::new();
    // The level of a long bracket `[==[` at `at` (None: not one).
    let long_open = |at: usize| -> Option<usize> {
        if bytes.get(at) != Some(&b'[') {
            return None;
        }
        let level = bytes[at + 1..].iter().take_while(|&&b| b == b'=').count();
        (bytes.get(at + 1 + level) == Some(&b'[')).then_some(level)
    };
    // Skips a long bracket of `level` opening at `at`; returns where it ends.
    let skip_long = |at: usize, level: usize, line: &mut u32| -> usize {
        let close: Vec<u8> = std::iter::once(b']')
            .chain(std::iter::repeat_n(b'=', level))
            .chain(std::iter::once(b']'))
            .collect();
        let mut j = at + level + 2;
        while j < bytes.len() {
            if bytes[j..].starts_with(&close) {
                return j + close.len();
            }
            if bytes[j] == b'\n' {
                *line += 1;
            }
            j += 1;
        }
        bytes.len()
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = match long_open(i + 2) {
                    Some(level) => skip_long(i + 2, level, &mut line),
                    None => bytes[i..]
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(bytes.len(), |n| i + n),
                };
            }
            b'[' if long_open(i).is_some() => {
                let level = long_open(i).unwrap_or(0);
                i = skip_long(i, level, &mut line);
            }
            b'"' | b'\'' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    match bytes[i] {
                        b'\\' => {
                            if bytes.get(i + 1) == Some(&b'\n') {
                                line += 1;
                            }
                            i += 2;
                        }
                        // An unfinished string ends at its line (a compile
                        // error: the run has no lines then anyway).
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                match &bytes[start..i] {
                    b"function" => stack.push(Block::Function(line)),
                    b"if" | b"do" | b"repeat" => stack.push(Block::Other),
                    b"end" | b"until" => {
                        if let Some(Block::Function(header)) = stack.pop() {
                            if header != line {
                                headers.push((line, header));
                            }
                        }
                    }
                    _ => {}
                }
            }
            b if b.is_ascii_digit() => {
                // A number as Lua 5.1's read_numeral reads one: digits and
                // points, an optional `E` with its sign, then letters,
                // digits and `_` (so `0xE-1` is `0xE` minus 1).
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                if matches!(bytes.get(i), Some(b'e' | b'E')) {
                    i += 1;
                    if matches!(bytes.get(i), Some(b'+' | b'-')) {
                        i += 1;
                    }
                }
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    headers
}

/// Adds to `run` the header of each function whose `end` line ran.
pub(crate) fn add_headers(run: &mut BTreeSet<u32>, headers: &[(u32, u32)]) {
    for &(end, header) in headers {
        if run.contains(&end) {
            run.insert(header);
        }
    }
}

/// Whether a source line holds code (not blank, a comment or a lone keyword).
fn is_code(text: &str) -> bool {
    !(text.is_empty()
        || text.starts_with("--")
        || matches!(text, "end" | "else" | "do" | "then" | "}" | ")"))
}

/// Approximate bytes a value keeps alive beyond its own size.
fn value_size(value: &Value) -> usize {
    match value {
        Value::String(s) => s.len(),
        Value::List(l) => l.iter().map(|e| e.len() + 16).sum(),
        Value::Hash(h) => h.map.iter().map(|(f, v)| f.len() + v.len() + 32).sum(),
        Value::Set(s) => s.members.iter().map(|m| m.len() + 16).sum(),
        Value::ZSet(z) => z.iter().map(|(m, _)| m.len() + 48).sum(),
        Value::Stream(st) => st
            .entries
            .values()
            .map(|f| 32 + f.iter().map(|(a, b)| a.len() + b.len() + 16).sum::<usize>())
            .sum(),
    }
}

/// Approximate bytes a delta keeps alive beyond its own size.
fn delta_size(delta: &Delta) -> usize {
    let entry = |e: &Entry| value_size(&e.value);
    delta.key().map(|k| k.len()).unwrap_or(0)
        + match delta {
            Delta::Removed { entry: e, .. } | Delta::Overwritten { entry: e, .. } => entry(e),
            Delta::HashField { field, old, .. } => {
                field.len() + old.as_ref().map(|(v, _)| v.len()).unwrap_or(0)
            }
            Delta::SetMember { member, .. } | Delta::ZSetMember { member, .. } => member.len(),
            Delta::ListPopped { items, .. } => items.iter().map(|i| i.len() + 16).sum(),
            Delta::ListItem { old, .. } | Delta::StringRange { old, .. } => old.len(),
            Delta::Stream {
                added,
                removed,
                groups,
                meta,
                ..
            } => {
                meta.1.len() * 96
                    + added.len() * 16
                    + removed
                        .iter()
                        .map(|(_, f)| 32 + f.iter().map(|(a, b)| a.len() + b.len()).sum::<usize>())
                        .sum::<usize>()
                    + groups.as_ref().map_or(0, |g| {
                        g.values()
                            .map(|g| 64 + g.pel.len() * 64 + g.consumers.len() * 64)
                            .sum()
                    })
            }
            _ => 0,
        }
}

/// The heap a reply holds beyond its own size.
fn reply_size(reply: &Reply) -> usize {
    let size = std::mem::size_of::<Reply>();
    match reply {
        Reply::Bulk(b) | Reply::Status(b) | Reply::Error(b) => b.len(),
        Reply::Array(items) | Reply::Set(items) => {
            items.iter().map(|r| size + reply_size(r)).sum::<usize>()
        }
        Reply::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| 2 * size + reply_size(k) + reply_size(v))
            .sum::<usize>(),
        _ => 0,
    }
}

/// What a command's arguments hold on the heap.
fn argv_size(argv: &[Vec<u8>]) -> usize {
    argv.iter()
        .map(|a| std::mem::size_of::<Vec<u8>>() + a.len())
        .sum()
}

/// What the keyspace observer and the recorder share: each change goes
/// into the timeline's store as the keyspace reports it (past the step
/// cap, into what is kept of the unrecorded ones), encoded once, never
/// queued; the recorder attaches those not yet attached to the next step
/// that made changes.
#[derive(Default)]
struct Log {
    changes: Changes,
    /// Past the step cap: steps are no longer recorded, but the changes
    /// still are (here), so every recorded step's keyspace stays right.
    elided: Option<Elided>,
    /// The heap boxed and elided changes hold beyond their slots.
    bytes: usize,
}

/// The log, and what the recorder reads of it at every call without
/// taking its lock: the observer keeps these as it writes (the engine's
/// thread writes and reads them all).
#[derive(Default)]
struct Shared {
    log: Mutex<Log>,
    /// The log's changes.
    len: AtomicUsize,
    /// The heap the log holds.
    held: AtomicUsize,
    /// Changes reported since the recorder last looked.
    since: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().expect("trace lock")
    }

    /// After a change is written to `log`.
    fn reported(&self, log: &Log) {
        self.len.store(log.changes.len(), Ordering::Relaxed);
        self.held.store(log.held(), Ordering::Relaxed);
        self.since
            .store(self.since.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// After the recorder changed `log` itself.
    fn changed(&self, log: &Log) {
        self.len.store(log.changes.len(), Ordering::Relaxed);
        self.held.store(log.held(), Ordering::Relaxed);
    }
}

impl Log {
    fn record(&mut self, db: usize, delta: Delta) {
        self.bytes += match &mut self.elided {
            Some(elided) => elided.push(db, delta),
            None => self.changes.push(db, delta),
        };
    }

    /// The heap it holds.
    fn held(&self) -> usize {
        self.bytes + self.changes.held()
    }
}

struct DeltaSink(Arc<Shared>);

impl Observer for DeltaSink {
    fn record(&mut self, db: usize, delta: Delta) {
        let mut log = self.0.lock();
        log.record(db, delta);
        self.0.reported(&log);
    }

    fn string_was(
        &mut self,
        db: usize,
        key: &[u8],
        old: &[u8],
        expire_at: Option<i64>,
        str_enc: crate::engine::keyspace::StrEnc,
    ) {
        let mut log = self.0.lock();
        if log.elided.is_some() {
            log.record(db, Delta::string_was(key, old, expire_at, str_enc));
        } else {
            log.bytes += log.changes.push_string(db, key, old, expire_at, str_enc);
        }
        self.0.reported(&log);
    }
}

/// Changes reported to a plain list (other clients' commands served
/// after a run, each step taking its own).
struct ListSink(Arc<Mutex<Vec<Change>>>);

/// Sends the keyspace's changes to a list from now on (the caller puts
/// its observer back).
fn after_sink(engine: &mut Engine) -> Arc<Mutex<Vec<Change>>> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    engine
        .keyspace
        .set_observer(Some(Box::new(ListSink(Arc::clone(&sink)))));
    sink
}

impl Observer for ListSink {
    fn record(&mut self, db: usize, delta: Delta) {
        self.0.lock().expect("trace lock").push((db, delta));
    }
}

/// The changes made past the step cap, as few as undoing them needs: a key
/// whose change here replaced its whole entry (`Overwritten`) needs nothing
/// after that while it keeps existing, since undoing restores that entry
/// whole (value and expiry). A million INCRs past the cap keep one delta.
#[derive(Default)]
struct Elided {
    deltas: Vec<(usize, Delta)>,
    /// What is kept of each key's changes so far, by database.
    keys: Vec<crate::engine::FastMap<Vec<u8>, Kept>>,
    /// A change about no single key came (SWAPDB): all is kept after it.
    all: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kept {
    /// Changes inside the entry: each is needed.
    Parts,
    /// The entry as it was is kept: what follows inside it is not needed.
    Whole,
    /// The key was created or removed: every change is kept, in order.
    All,
}

impl Elided {
    /// Adds a change; returns the bytes it holds (0 when not needed).
    fn push(&mut self, db: usize, delta: Delta) -> usize {
        if !self.all {
            let Some(key) = delta.key() else {
                self.all = true;
                return self.keep(db, delta);
            };
            if self.keys.len() <= db {
                self.keys.resize_with(db + 1, Default::default);
            }
            let keys = &mut self.keys[db];
            let now = match delta {
                Delta::Created { .. } | Delta::Removed { .. } => Kept::All,
                Delta::Overwritten { .. } => Kept::Whole,
                _ => Kept::Parts,
            };
            match keys.get_mut(key) {
                Some(Kept::All) => {}
                Some(Kept::Whole) if now != Kept::All => return 0,
                Some(kept) => *kept = now,
                None => {
                    let size = key.len() + 48;
                    keys.insert(key.to_vec(), now);
                    return size + self.keep(db, delta);
                }
            }
        }
        self.keep(db, delta)
    }

    fn keep(&mut self, db: usize, delta: Delta) -> usize {
        let size = std::mem::size_of::<Change>() + delta_size(&delta);
        self.deltas.push((db, delta));
        size
    }
}

struct Recorder {
    /// The steps' deltas, one after the other (see [`Step::deltas_end`]).
    log: Arc<Shared>,
    steps: Vec<Step>,
    payloads: Payloads,
    locals: AllLocals,
    /// The changes attached to steps so far (the last step's end).
    attached: usize,
    limits: Limits,
    line_steps: usize,
    /// Set when a cap was reached (recording stopped, or the script was).
    truncated: Option<String>,
    /// Past the step cap (the log keeps the changes in its `elided`).
    elided: bool,
    /// Write calls that changed something (recorded or not).
    writes: usize,
    /// The byte cap stopped the script.
    stopped: bool,
    /// The script's function returned (an error reply it returned is not
    /// an error it raised).
    returned: bool,
    /// Each line's last call's arguments (their number in the payloads),
    /// shared by the next equal call.
    last_argv: crate::engine::FastMap<u32, u32>,
    /// The last call's line and arguments (a loop's next call is likely
    /// the same: no lookup then).
    last_call: Option<(u32, u32)>,
}

impl Recorder {
    /// The heap the recording holds: what its steps and deltas hold, and
    /// the steps and deltas themselves (with the room their vectors grew to).
    fn held(&self) -> usize {
        self.payloads.held()
            + self.steps.capacity() * std::mem::size_of::<Step>()
            + self.locals.held()
            + self.log.held.load(Ordering::Relaxed)
    }

    /// Adds a step whose changes end at `end` in the log.
    #[inline]
    fn push(&mut self, line: u32, kind: StepKind, end: usize) {
        room_for(&mut self.steps, 1);
        self.steps.push(Step {
            line,
            deltas_end: delta_end(end),
            kind,
        });
        self.attached = end;
    }

    /// Adds a step that made the changes reported since the last one,
    /// then `more` (reported elsewhere).
    fn push_with_changes(&mut self, line: u32, kind: StepKind, more: Vec<Change>) {
        let end = {
            let mut log = self.log.lock();
            log.changes.reserve(more.len());
            for (db, delta) in more {
                log.bytes += log.changes.push(db, delta);
            }
            self.log.changed(&log);
            self.log.since.store(0, Ordering::Relaxed);
            log.changes.len()
        };
        self.push(line, kind, end);
    }

    /// Whether a cap is reached: the byte cap, or the step cap while
    /// steps are still recorded (every step asks: kept short).
    #[inline]
    fn check_caps(&mut self) -> Control {
        if self.held() < self.limits.max_bytes
            && (self.elided || self.steps.len() < self.limits.max_steps)
        {
            return Control::Continue;
        }
        self.at_cap()
    }

    #[cold]
    fn at_cap(&mut self) -> Control {
        let size = |cap: usize| {
            if cap >= 1024 * 1024 {
                format!("{} MB", cap / (1024 * 1024))
            } else {
                format!("{cap} bytes")
            }
        };
        let held = self.held();
        let cap = self.limits.max_bytes;
        let run_on = self.limits.run_on_at_max_bytes;
        if held >= cap && run_on && !self.elided {
            self.elide(size(cap));
        } else if held >= cap && (!run_on || held >= cap.saturating_mul(2)) {
            let cap = if run_on { cap.saturating_mul(2) } else { cap };
            let reason = format!("the trace reached its cap of {}", size(cap));
            self.truncated.get_or_insert(reason.clone());
            self.stopped = true;
            return Control::Stop(reason);
        }
        if !self.elided && self.steps.len() >= self.limits.max_steps {
            self.elide(format!("{} steps", self.limits.max_steps));
        }
        Control::Continue
    }

    /// Stops recording steps at this cap; the script runs on.
    fn elide(&mut self, cap: String) {
        self.truncated.get_or_insert(format!(
            "recording stopped at its cap of {cap}; the script ran on, and what it changed after that shows at its end"
        ));
        self.elided = true;
        self.log.lock().elided = Some(Elided::default());
    }
}

impl Recorder {
    fn line(
        &mut self,
        line: u32,
        depth: u32,
        locals: impl FnOnce(usize, &mut LocalsWriter),
    ) -> Control {
        if self.elided {
            return Control::Continue;
        }
        let value_len = self.limits.value_len;
        let locals = (self.line_steps < self.limits.locals_steps)
            .then(|| self.locals.add(|out| locals(value_len, out)))
            .flatten();
        self.line_steps += 1;
        let depth = Depth::new(depth);
        self.push(line, StepKind::Line { depth, locals }, self.attached);
        self.check_caps()
    }

    fn command(&mut self, line: u32, argv: &[Vec<u8>], reply: &Reply, write: bool) -> Control {
        // The changes reported since the last step are this call's.
        // Read, then cleared: one thread writes and reads it (see
        // `Shared`), so no atomic swap (a locked instruction, a full fence
        // on every call).
        let changed = self.log.since.load(Ordering::Relaxed) > 0;
        self.log.since.store(0, Ordering::Relaxed);
        if self.elided {
            if write && changed {
                self.writes += 1;
            }
            return self.check_caps();
        }
        let end = self.log.len.load(Ordering::Relaxed);
        if write && end > self.attached {
            self.writes += 1;
        }
        let last = match self.last_call {
            Some((last_line, last)) if last_line == line => Some(last),
            _ => self.last_argv.get(&line).copied(),
        };
        let argv = match last {
            Some(last) if self.payloads.argv(last) == argv => last,
            _ => {
                let new = self.payloads.add_argv(argv);
                self.last_argv.insert(line, new);
                new
            }
        };
        self.last_call = Some((line, argv));
        let call = self.payloads.add_call(argv, reply, write);
        self.push(line, StepKind::Call(call), end);
        self.check_caps()
    }
}

impl Recorder {
    fn other(
        &mut self,
        client: u32,
        argv: Vec<Vec<u8>>,
        reply: Option<Reply>,
        sent_at: Option<usize>,
    ) {
        // Past the step cap its changes joined the run's unrecorded ones,
        // in order, at the end (its step still shows what it sent).
        let line = self.steps.last().map_or(0, |s| s.line);
        let other = self.payloads.add_other(Other {
            client,
            argv,
            reply,
            sent_at,
        });
        self.push_with_changes(line, StepKind::Other(other), Vec::new());
    }
}

/// The frame's locals, each value at most `len` characters.
fn locals_of(frame: &Frame, len: usize, out: &mut LocalsWriter) {
    let LocalsWriter { text, value } = out;
    frame.each_local(len, value, |name, value| push_local(text, name, value));
}

impl Probe for Recorder {
    fn line(&mut self, frame: &Frame) -> Control {
        Recorder::line(self, frame.line, frame.depth(), |len, out| {
            locals_of(frame, len, out)
        })
    }

    fn command(&mut self, line: u32, argv: &[Vec<u8>], reply: &Reply, write: bool) -> Control {
        Recorder::command(self, line, argv, reply, write)
    }

    fn returned(&mut self) {
        self.returned = true;
    }
}

/// The line an error reply names: `on @user_script:N.`, or a compile
/// error's `user_script:N:`.
fn error_line(text: &str) -> Option<u32> {
    let after = |marker: &str, end: char| -> Option<u32> {
        let start = text.rfind(marker)? + marker.len();
        text[start..].split(end).next()?.parse().ok()
    };
    after(":", '.')
        .filter(|_| text.contains(" on @"))
        .or_else(|| after("user_script:", ':'))
        .or_else(|| after("user_function:", ':'))
}

/// The last line of the script's body that is not blank (where a compile
/// error "near '<eof>'" is shown: Lua counts the lines after it too).
fn last_code_line(source: &[String]) -> u32 {
    source
        .iter()
        .enumerate()
        .rfind(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i as u32 + 1)
        .unwrap_or(1)
}

/// Runs `argv` (EVAL, EVALSHA, FCALL or their _RO forms) for `client`,
/// recording everything, and returns the timeline. The engine keeps the
/// script's writes, exactly as an untraced run would.
pub fn record(
    engine: &mut Engine,
    scripting: &mut Scripting,
    client: &mut Client,
    argv: &[Vec<u8>],
    limits: Limits,
) -> Timeline {
    record_with_lane(engine, scripting, client, argv, limits, &[])
}

/// `record`, with other clients' commands sent before, during or after
/// the run (see [`lane`]); their steps join the timeline where Redis
/// would serve them.
pub fn record_with_lane(
    engine: &mut Engine,
    scripting: &mut Scripting,
    client: &mut Client,
    argv: &[Vec<u8>],
    limits: Limits,
    lane: &[LaneCommand],
) -> Timeline {
    let mut builder = Builder::new(limits);
    let previous = engine.keyspace.set_observer(Some(builder.observer()));
    let mut others: std::collections::BTreeMap<u32, Client> = Default::default();
    let db = client.db;
    let mut run_other = |engine: &mut Engine, scripting: &mut Scripting, command: &LaneCommand| {
        let c = others.entry(command.client).or_insert_with(|| {
            let mut c = engine.new_client();
            c.db = db;
            c
        });
        engine.call(c, &command.argv, scripting)
    };
    for command in lane.iter().filter(|c| c.when == When::Before) {
        let reply = run_other(engine, scripting, command);
        builder.other(command.client, command.argv.clone(), Some(reply), None);
    }
    let is_function = argv
        .first()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with(b"fcall"));
    let lookups = lane
        .iter()
        .map(|c| {
            engine
                .lookup_command(&c.argv)
                .map(|spec| spec.flags & crate::engine::table::flags::ALLOW_BUSY != 0)
        })
        .collect();
    let mut probe = LaneProbe {
        recorder: &mut builder.recorder,
        lane,
        started: std::time::Instant::now(),
        threshold: std::time::Duration::from_millis(
            engine.config.busy_reply_threshold_ms.max(0) as u64
        ),
        is_function,
        wrote: false,
        waiting: Vec::new(),
        script_steps: 0,
        lines_seen: HashSet::new(),
        lookups,
    };
    // The run is one top-level command for propagation: what its calls
    // changed goes out together, as Redis sends a script's effects.
    let propagating = std::mem::replace(&mut engine.keyspace.propagation.on, true);
    engine.keyspace.propagation.reset();
    engine.keyspace.propagation.assume_selected(client.db);
    let cap = engine.keyspace.propagation.cap.replace(REPLICA_KEPT);
    let saved = engine.keyspace.propagation.enter(engine.keyspace.dirty);
    let reply = if lane.is_empty() {
        // Nothing to deliver: the recorder alone hears the run.
        scripting.call_with_probe(engine, client, argv, &mut *probe.recorder)
    } else {
        scripting.call_with_probe(engine, client, argv, &mut probe)
    };
    let dirty = engine.keyspace.dirty;
    engine
        .keyspace
        .propagation
        .leave(saved, dirty, client.db, argv, false);
    let replica = engine.keyspace.propagation.take();
    let replica_more = std::mem::take(&mut engine.keyspace.propagation.dropped);
    engine.keyspace.propagation.cap = cap;
    engine.keyspace.propagation.on = propagating;
    let mut waiting = std::mem::take(&mut probe.waiting);
    let delivered = probe.script_steps;
    // Sent at a step or line the run never reached: sent after it, then.
    let lines_seen = std::mem::take(&mut probe.lines_seen);
    waiting.extend(
        lane.iter()
            .enumerate()
            .filter(|(_, c)| match c.when {
                When::Step(k) => k > delivered,
                When::Line(n) => !lines_seen.contains(&n),
                _ => false,
            })
            .map(|(i, _)| (i, None)),
    );
    // Served after the script, in the order they arrived, then the ones
    // sent after it: each with its own changes.
    let mut after = Vec::new();
    let sink = after_sink(engine);
    let last = lane
        .iter()
        .enumerate()
        .filter(|(_, c)| c.when == When::After)
        .map(|(i, _)| (i, None));
    for (i, sent_at) in waiting.into_iter().chain(last) {
        let command = &lane[i];
        let reply = run_other(engine, scripting, command);
        after.push((
            Other {
                client: command.client,
                argv: command.argv.clone(),
                reply: Some(reply),
                sent_at,
            },
            std::mem::take(&mut *sink.lock().expect("trace lock")),
        ));
    }
    engine.keyspace.set_observer(previous);
    let source = scripting
        .source_of(argv)
        .map(|s| {
            String::from_utf8_lossy(&s)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut builder = builder;
    builder.after = after;
    let mut timeline = builder.finish(
        scripting.run_name(argv),
        argv,
        source,
        reply,
        &engine.keyspace,
    );
    timeline.replica = replica;
    timeline.replica_more = replica_more;
    timeline
}

/// The recorder, delivering other clients' commands at their steps.
struct LaneProbe<'a> {
    recorder: &'a mut Recorder,
    lane: &'a [LaneCommand],
    started: std::time::Instant,
    threshold: std::time::Duration,
    is_function: bool,
    /// The script has run a write command (SCRIPT KILL is refused then).
    wrote: bool,
    /// Commands that wait for the script: lane index, step sent at.
    waiting: Vec<(usize, Option<usize>)>,
    /// The script's own steps so far (`step K` counts these).
    script_steps: usize,
    /// Lines reached so far (`line N` is due the first time only).
    lines_seen: HashSet<u32>,
    /// Each lane command's lookup: its `allow_busy` flag, or the error an
    /// unknown command or a wrong arity gets.
    lookups: Vec<Result<bool, Reply>>,
}

impl LaneProbe<'_> {
    /// Sends the commands due at the step just recorded.
    fn deliver(&mut self, control: Control) -> Control {
        if !matches!(control, Control::Continue) {
            self.script_steps += 1;
            return control;
        }
        self.script_steps += 1;
        let step = self.script_steps;
        // The index of the step just recorded, as the timeline shows it.
        let here = self.recorder.steps.len().saturating_sub(1);
        let mut control = control;
        let line = match self.recorder.steps.last() {
            Some(Step {
                kind: StepKind::Line { .. },
                line,
                ..
            }) if !self.lines_seen.contains(line) => Some(*line),
            _ => None,
        };
        if let Some(line) = line {
            self.lines_seen.insert(line);
        }
        for (i, command) in self.lane.iter().enumerate() {
            let due = match command.when {
                When::Step(k) => k == step,
                When::Line(n) => line == Some(n),
                _ => false,
            };
            if !due {
                continue;
            }
            let busy = self.started.elapsed() >= self.threshold;
            let reply = match (&self.lookups[i], busy) {
                // Not busy yet: it waits for the script, as every command does.
                (_, false) => None,
                // An unknown command or a wrong arity is told at once.
                (Err(refusal), true) => Some(refusal.clone()),
                (Ok(allow_busy), true) => {
                    match busy_answer(&command.argv, *allow_busy, self.is_function, self.wrote) {
                        BusyAnswer::Reply(reply) => Some(reply),
                        BusyAnswer::Kill => {
                            control = Control::Kill;
                            Some(Reply::ok())
                        }
                        // Redis runs these beside the script; here they are
                        // served when it ends (same reply, same effect).
                        BusyAnswer::Run => None,
                        BusyAnswer::Shutdown => Some(Reply::error(
                            "ERR redstep: SHUTDOWN NOSAVE would end the server here, and the script with it; the debugger does not",
                        )),
                    }
                }
            };
            if reply.is_none() {
                self.waiting.push((i, Some(here)));
            }
            self.recorder
                .other(command.client, command.argv.clone(), reply, None);
        }
        control
    }
}

impl Probe for LaneProbe<'_> {
    fn line(&mut self, frame: &Frame) -> Control {
        let control = Recorder::line(self.recorder, frame.line, frame.depth(), |len, out| {
            locals_of(frame, len, out)
        });
        self.deliver(control)
    }

    fn command(&mut self, line: u32, argv: &[Vec<u8>], reply: &Reply, write: bool) -> Control {
        self.wrote |= write;
        let control = self.recorder.command(line, argv, reply, write);
        self.deliver(control)
    }

    fn returned(&mut self) {
        self.recorder.returned = true;
    }
}

/// Builds a [`Timeline`] from a run's events, whoever reports them: the
/// embedded engine's Lua hook ([`record`]) or a real server's debugger
/// (`remote`). The keyspace the run writes to reports its changes to
/// [`Builder::observer`]; each change joins the step that made it.
pub(crate) struct Builder {
    recorder: Recorder,
    /// Steps that follow the script's end (other clients served after it,
    /// on line 0), with their changes.
    after: Vec<(Other, Vec<Change>)>,
}

impl Builder {
    pub fn new(limits: Limits) -> Builder {
        Builder {
            recorder: Recorder {
                log: Arc::new(Shared::default()),
                steps: Vec::new(),
                payloads: Payloads::default(),
                locals: AllLocals::default(),
                attached: 0,
                limits,
                line_steps: 0,
                truncated: None,
                elided: false,
                writes: 0,
                last_argv: Default::default(),
                last_call: None,
                stopped: false,
                returned: false,
            },
            after: Vec::new(),
        }
    }

    /// Another client's command, with the changes reported since the last
    /// event (see [`Other`]).
    pub(crate) fn other(
        &mut self,
        client: u32,
        argv: Vec<Vec<u8>>,
        reply: Option<Reply>,
        sent_at: Option<usize>,
    ) {
        self.recorder.other(client, argv, reply, sent_at);
    }

    /// The keyspace observer whose changes go into this timeline.
    pub(crate) fn observer(&self) -> Box<dyn Observer> {
        Box::new(DeltaSink(Arc::clone(&self.recorder.log)))
    }

    /// A line is about to run; `locals` is asked only while locals are
    /// recorded, with the longest rendering of one value.
    pub(crate) fn line(
        &mut self,
        line: u32,
        depth: u32,
        locals: impl FnOnce(usize, &mut LocalsWriter),
    ) -> Control {
        self.recorder.line(line, depth, locals)
    }

    /// Steps recorded so far.
    pub fn len(&self) -> usize {
        self.recorder.steps.len()
    }

    /// The limits it records within.
    pub(crate) fn limits(&self) -> &Limits {
        &self.recorder.limits
    }

    /// Whether the next line's locals will be recorded.
    pub(crate) fn wants_locals(&self) -> bool {
        !self.recorder.elided && self.recorder.line_steps < self.recorder.limits.locals_steps
    }

    /// A command ran, with this reply; the changes reported since the last
    /// event are its own.
    pub fn command(&mut self, line: u32, argv: &[Vec<u8>], reply: &Reply, write: bool) -> Control {
        self.recorder.command(line, argv, reply, write)
    }

    /// Stops recording with this reason (the driver stopped the script).
    pub(crate) fn stop(&mut self, reason: String) {
        self.recorder.truncated.get_or_insert(reason);
        self.recorder.stopped = true;
    }

    /// The run ended with `reply`; `live` is the keyspace it wrote to, as
    /// it is now.
    pub(crate) fn finish(
        mut self,
        name: String,
        argv: &[Vec<u8>],
        source: Vec<String>,
        reply: Reply,
        live: &crate::engine::keyspace::Keyspace,
    ) -> Timeline {
        let mut recorder = self.recorder;
        let (at_end, reported) = {
            let mut log = recorder.log.lock();
            // Changes made after recording stopped belong to the run's last step.
            let at_end = log.elided.take().map(|elided| {
                // Counted when kept; counted again below, where they join.
                let counted: usize = elided
                    .deltas
                    .iter()
                    .map(|(_, d)| std::mem::size_of::<Change>() + delta_size(d))
                    .sum();
                log.bytes = log.bytes.saturating_sub(counted);
                elided.deltas
            });
            recorder.log.changed(&log);
            (at_end, log.changes.len())
        };
        if reported > recorder.attached {
            // Changes no step has taken yet: the last step's.
            let end = delta_end(reported);
            let previous_end = recorder
                .steps
                .iter()
                .rev()
                .nth(1)
                .map_or(0, |s| s.deltas_end);
            match recorder.steps.last_mut() {
                Some(step) => {
                    // A write call that changed nothing until now did.
                    if step.deltas_end == previous_end
                        && matches!(step.kind, StepKind::Call(call) if recorder.payloads.writes(call))
                    {
                        recorder.writes += 1;
                    }
                    step.deltas_end = end;
                }
                None => {
                    let nil = recorder.payloads.add_return(Reply::Nil);
                    recorder.steps.push(Step {
                        line: 0,
                        deltas_end: end,
                        kind: StepKind::Return(nil),
                    })
                }
            }
            recorder.attached = reported;
        }
        let last_line = recorder
            .steps
            .iter()
            .rev()
            .find(|s| matches!(s.kind, StepKind::Line { .. }))
            .map(|s| s.line)
            .unwrap_or(0);
        let mut compiled = true;
        let (status, error_line) = match &reply {
            // Returned, not raised (`return redis.error_reply(...)`): the
            // client gets an error, and the run ends on its return.
            Reply::Error(_) if recorder.returned => {
                let returned = recorder.payloads.add_return(reply.clone());
                recorder.push_with_changes(
                    last_line,
                    StepKind::Return(returned),
                    at_end.unwrap_or_default(),
                );
                (Status::Error, Some(last_line))
            }
            Reply::Error(e) => {
                let text = String::from_utf8_lossy(e).into_owned();
                let interrupted = recorder.stopped
                    || text.contains("Script killed by user with SCRIPT KILL")
                    || text.contains("Script stopped by");
                let compile_error = text.starts_with("ERR Error compiling script");
                compiled = !compile_error;
                let mut line = error_line(&text).unwrap_or(last_line);
                if compile_error && text.contains("near '<eof>'") {
                    line = line.min(last_code_line(&source).max(1));
                }
                let error = recorder.payloads.add_error(e.clone(), interrupted);
                recorder.push_with_changes(
                    line,
                    StepKind::Error(error),
                    at_end.unwrap_or_default(),
                );
                (
                    if interrupted {
                        Status::Interrupted
                    } else {
                        Status::Error
                    },
                    Some(line),
                )
            }
            other => {
                let returned = recorder.payloads.add_return(other.clone());
                recorder.push_with_changes(
                    last_line,
                    StepKind::Return(returned),
                    at_end.unwrap_or_default(),
                );
                (Status::Ok, None)
            }
        };
        for (other, deltas) in std::mem::take(&mut self.after) {
            let other = recorder.payloads.add_other(other);
            recorder.push_with_changes(0, StepKind::Other(other), deltas);
        }
        let (mut deltas, log_bytes) = {
            let mut log = recorder.log.lock();
            (std::mem::take(&mut log.changes), log.bytes)
        };
        let mut steps = recorder.steps;
        let keys_changed = deltas.keys_named();
        // The room the vectors grew to is given back: a run's view may be
        // kept for a long while.
        steps.shrink_to_fit();
        deltas.shrink_to_fit();
        let mut locals = recorder.locals;
        locals.shrink_to_fit();
        let mut payloads = recorder.payloads;
        payloads.shrink_to_fit();
        let trace_bytes = payloads.held()
            + log_bytes
            + steps.len() * std::mem::size_of::<Step>()
            + deltas.held()
            + locals.held();
        let final_state = fingerprint(live, &keys_changed);
        Timeline {
            name,
            command: argv.to_vec(),
            source,
            steps,
            payloads,
            deltas,
            locals,
            outcome: Outcome {
                status,
                reply,
                error_line,
                compile_error: !compiled,
                writes_applied: recorder.writes,
                keys_changed,
                truncated: recorder.truncated,
                trace_bytes,
                final_state,
            },
            server: None,
            replica: Vec::new(),
            replica_more: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{AllLocals, Depth};

    /// A function's first line pairs with its `end`, however the text
    /// between reads: strings, comments, long brackets, and numbers read
    /// as Lua 5.1 reads them (`0xE--end` is `0xE` and a comment).
    #[test]
    fn function_headers_pair_each_function_with_its_end() {
        let headers = |text: &str| {
            let source: Vec<String> = text.lines().map(str::to_string).collect();
            super::function_headers(&source)
        };
        assert_eq!(
            headers("local function f()\n  local m = 0xE--end\n  return 1\nend\nreturn f()"),
            vec![(4, 1)]
        );
        assert_eq!(
            headers("local function f()\n  local m = 0xE--if\n  return 1e-5\nend"),
            vec![(4, 1)]
        );
        assert_eq!(
            headers("function a()\n  local s = 'end' .. [==[\nend ]] ]==]\n  --[[ end\n  ]] if x then\n  end\nend"),
            vec![(7, 1)]
        );
        assert_eq!(
            headers("local t = {f = function()\n return 1 end}\nlocal g = function() return 2 end"),
            vec![(2, 1)]
        );
        // Odd endings do not panic.
        for text in [
            "[", "--[", "--[=", "[=", "'", "\"\\", "function", "0x", "1e",
        ] {
            headers(text);
        }
    }

    #[test]
    fn depths_read_back_up_to_24_bits() {
        for depth in [0, 1, 255, 256, 65_535, 65_536, 70_002, Depth::MAX] {
            assert_eq!(Depth::new(depth).get(), depth);
        }
        assert_eq!(Depth::new(Depth::MAX + 1).get(), Depth::MAX);
        assert_eq!(Depth::new(u32::MAX).get(), Depth::MAX);
    }

    /// Each step's pairs read back as they went in, a NUL inside one
    /// written `\0`; a step without locals reads back empty.
    #[test]
    fn locals_read_back_in_order() {
        let mut all = AllLocals::default();
        let first = all.add(|out| out.push("x", "1")).unwrap();
        let none = all.add(|_| {}).unwrap();
        let third = all
            .add(|out| {
                for (name, value) in [("i", "3"), ("s", "\"a\0b\""), ("t", "")] {
                    out.push(name, value);
                }
            })
            .unwrap();
        let locals = all.get(third);
        assert_eq!(
            locals.iter().collect::<Vec<_>>(),
            vec![("i", "3"), ("s", "\"a\\0b\""), ("t", "")]
        );
        assert_eq!(locals.len(), 3);
        assert!(locals.contains("i", "3") && !locals.contains("i", "4"));
        assert_eq!(all.get(first).iter().collect::<Vec<_>>(), vec![("x", "1")]);
        assert!(all.get(none).is_empty() && all.get(none).iter().next().is_none());
    }
}
