//! The debugger's view model: one traced run as the panes show it. A
//! [`Session`] owns the [`Debugger`] and everything derived from the run —
//! the timeline's rows, each key's first change, the net changes and the
//! outcome in words, the changes at the cursor, each key's mark — and the
//! policy of what a debugger key does (move, say why not, or run again).
//!
//! It is built where the run happens (the engine thread), in time linear in
//! the steps and keys, so a front end receives it ready; its queries take
//! `&self` and cost what they return (a page of keys, a step's changes),
//! never the length of the run. Breakpoints are not kept here: the one
//! copy belongs to the script's editor and is passed to each move.

use std::collections::{BTreeSet, HashMap};

use crate::engine::keyspace::Entry;

use super::debugger::{Debugger, KeyChange, Move};
use super::{export, StepKind};

/// How many propagated commands the debugger's view lists.
const REPLICA_SHOWN: usize = 8;

fn replica_lines(timeline: &super::Timeline) -> Vec<String> {
    let sent = &timeline.replica;
    let mut lines: Vec<String> = sent
        .iter()
        .take(REPLICA_SHOWN)
        .map(|argv| export::command_text(argv))
        .collect();
    let more = sent.len().saturating_sub(REPLICA_SHOWN) + timeline.replica_more;
    if more > 0 {
        lines.push(format!("… and {more} more"));
    }
    // A real server's replicas, read after the run: each key beside what
    // the run left on the primary.
    for replica in timeline.server.iter().flat_map(|s| &s.replicas) {
        if let Some(error) = &replica.error {
            lines.push(format!("{}: {error}", replica.address));
            continue;
        }
        lines.push(format!("{} holds{}:", replica.address, replica.lateness()));
        for k in replica.keys.iter().take(REPLICA_SHOWN) {
            let mark = if k.same {
                "as on the primary".to_string()
            } else {
                format!("≠ {} on the primary", k.primary)
            };
            lines.push(format!("  {} = {}  {mark}", export::word(&k.key), k.held));
        }
        if replica.keys.len() > REPLICA_SHOWN {
            lines.push(format!(
                "  … and {} more keys",
                replica.keys.len() - REPLICA_SHOWN
            ));
        }
    }
    lines
}

/// Where a new run's cursor goes once it is recorded: the move that asked
/// for the run, with the script's breakpoints at the time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Start {
    pub movement: Option<Move>,
    pub breakpoints: BTreeSet<u32>,
}

impl Start {
    pub fn new(movement: Move, breakpoints: BTreeSet<u32>) -> Start {
        Start {
            movement: Some(movement),
            breakpoints,
        }
    }
}

/// How a key the run changed stands at the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMark {
    /// Changed by the step at the cursor.
    Now,
    /// Changed earlier in the run.
    Before,
    /// The run changes it later (shown as it still is).
    Later,
    /// Not touched by the run.
    Untouched,
}

/// One changed key at the cursor, for the keyspace pane.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyState<'a> {
    pub db: usize,
    pub key: &'a [u8],
    /// The key at the cursor (None: absent).
    pub entry: Option<&'a Entry>,
    /// For a key the step at the cursor changed: what it held before.
    pub before: Option<Option<&'a Entry>>,
    pub mark: KeyMark,
    /// The run deleted it (by the cursor).
    pub gone: bool,
    /// The run failed and this key keeps what the run wrote: Redis does not roll back.
    pub stayed: bool,
    /// How it reads (a bitmap, a geo set), from the run's commands.
    pub look: super::words::Look,
}

/// Why a debugger key did not move the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The cursor is on the run's last step: moving on would mean running
    /// the script again, which writes again. Only Continue does that.
    RunOver,
    /// The cursor is already where the move goes.
    AlreadyThere,
    /// There is no run (or it is stale) to move back through.
    NoRun,
    /// Go to the failure, on a run that did not fail.
    NoFailure,
}

/// What a debugger key does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Moved,
    Stayed(Why),
    /// Run the script (again), then make this move in the new run.
    Run(Move),
}

/// Moves that go forwards, and so may start a run when there is none.
fn fresh(movement: Move) -> bool {
    matches!(
        movement,
        Move::Continue | Move::StepInto | Move::StepOver | Move::NextCall
    )
}

pub struct Session {
    debugger: Debugger,
    /// Steps that are calls, errors or returns (the timeline's rows).
    rows: Vec<usize>,
    summary: Vec<String>,
    /// What replicas and the AOF receive, a command a line (at most
    /// `REPLICA_SHOWN`, then how many more).
    replica: Vec<String>,
    /// The keys the step at the cursor changed, before and after it.
    changes: Vec<KeyChange>,
    /// Index into `changes` of each key changed at the cursor.
    now: HashMap<(usize, Vec<u8>), usize>,
    /// The keyspace's change count when the run ended (see
    /// `Keyspace::changes`): any later write makes this view stale.
    pub keyspace_version: u64,
    /// The run's keys a glob pattern lets through (indices into the
    /// changed keys), for the keyspace pane's filter; None: all of them.
    shown: Option<Vec<usize>>,
}

impl Session {
    /// The view model of a run, its cursor placed as `start` asks: a run
    /// started by a step stays on its first line (not run yet); one started
    /// by Continue stops at the first breakpoint, line 1's included.
    pub fn new(debugger: Debugger, start: &Start) -> Session {
        let timeline = debugger.timeline();
        let rows = timeline
            .steps
            .iter()
            .enumerate()
            .filter(|(_, step)| !matches!(step.kind, StepKind::Line { .. }))
            .map(|(i, _)| i)
            .collect();
        // The replica view says what the summary's sentences on replicas
        // would (what they received; what a real server's replicas hold).
        let summary = export::summary_without_replicas(timeline, debugger.net_changes());
        let replica = replica_lines(timeline);
        let mut session = Session {
            debugger,
            rows,
            summary,
            replica,
            changes: Vec::new(),
            now: HashMap::new(),
            keyspace_version: 0,
            shown: None,
        };
        match start.movement {
            None | Some(Move::StepInto) | Some(Move::StepOver) | Some(Move::Start) => {}
            Some(Move::Continue) if session.debugger.on_breakpoint(0, &start.breakpoints) => {}
            Some(other) => {
                session.debugger.apply(other, &start.breakpoints);
            }
        }
        session.moved();
        session
    }

    fn moved(&mut self) {
        let cursor = self.debugger.cursor();
        self.changes = self.debugger.goto_changes(cursor);
        self.now = self
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.db, c.key.clone()), i))
            .collect();
    }

    pub fn debugger(&self) -> &Debugger {
        &self.debugger
    }

    /// What step `index` changed; the cursor stays (see [`Debugger::changes_at`]).
    pub fn changes_at(&mut self, index: usize) -> Vec<super::KeyChange> {
        self.debugger.changes_at(index)
    }

    /// What a debugger key does when there is no usable run (none yet, or
    /// the script was edited since): a forward move runs the script.
    pub fn without_run(movement: Move) -> Answer {
        if fresh(movement) {
            Answer::Run(movement)
        } else {
            Answer::Stayed(Why::NoRun)
        }
    }

    /// What a debugger key does with this run: move the cursor, or say why
    /// not. Continue on a finished run runs the script again; the other
    /// forward moves stop there ("the run is over"): running again writes
    /// again, which must be asked for.
    pub fn command(&mut self, movement: Move, breakpoints: &BTreeSet<u32>) -> Answer {
        if self.at_end() && movement == Move::Continue {
            return Answer::Run(movement);
        }
        if movement == Move::Failure && self.debugger.failure().is_none() {
            return Answer::Stayed(Why::NoFailure);
        }
        if self.debugger.apply(movement, breakpoints) {
            self.moved();
            Answer::Moved
        } else if self.at_end() {
            Answer::Stayed(Why::RunOver)
        } else {
            Answer::Stayed(Why::AlreadyThere)
        }
    }

    /// Puts the cursor on step `index` (a click on a timeline row).
    pub fn goto(&mut self, index: usize) {
        self.debugger.goto(index);
        self.moved();
    }

    /// Undoes the run in the live keyspace (refused if its keys changed
    /// since); the cursor stays.
    pub fn undo_in(
        &mut self,
        keyspace: &mut crate::engine::keyspace::Keyspace,
    ) -> Result<(), String> {
        self.debugger.undo_in(keyspace)
    }

    /// Whether the cursor is on the run's last step.
    pub fn at_end(&self) -> bool {
        self.debugger.at_end()
    }

    /// Steps that are calls, errors or returns: the timeline's rows.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// The timeline row of the cursor: the last call/error/return at or before it.
    pub fn current_row(&self) -> Option<usize> {
        let cursor = self.debugger.cursor();
        match self.rows.binary_search(&cursor) {
            Ok(i) => Some(i),
            Err(0) => None,
            Err(i) => Some(i - 1),
        }
    }

    /// The outcome in plain words (the first sentence is the one to remember).
    pub fn summary(&self) -> &[String] {
        &self.summary
    }

    /// The "replicas receive" view: a heading, then what replicas and the
    /// AOF receive of this run, a command a line, as they go out (`SELECT`,
    /// `MULTI` and `EXEC` included). Redis sends a script's effects when it
    /// ends, so before the end the heading says they are on their way.
    /// For a run on a real server, the engine's replay of the run says
    /// what was sent (a forked run sent nothing: it says what would have
    /// been), then each replica read after a sync run.
    pub fn replica(&self) -> Option<(&'static str, &[String])> {
        if self
            .debugger
            .timeline()
            .server
            .as_ref()
            .is_some_and(|s| s.forked)
        {
            let heading = if self.replica.is_empty() {
                "Replicas and the AOF: a forked run sends them nothing."
            } else {
                "Without the fork, replicas and the AOF would receive:"
            };
            return Some((heading, &self.replica));
        }
        let heading = match (self.at_end(), self.replica.is_empty()) {
            (false, false) => "Replicas and the AOF get nothing until the script ends, then:",
            (false, true) => "Replicas and the AOF receive nothing until the script ends.",
            (true, false) => "Replicas and the AOF received:",
            (true, true) if self.debugger.timeline().outcome.writes_applied > 0 => {
                "Replicas and the AOF received nothing: redis.set_repl kept the writes from them."
            }
            (true, true) => "Replicas and the AOF received nothing: no data changed.",
        };
        Some((heading, &self.replica))
    }

    /// The keys the step at the cursor changed, before and after it.
    pub fn changes(&self) -> &[KeyChange] {
        &self.changes
    }

    /// The line a compile error points at (the script ran nothing).
    pub fn compile_error_line(&self) -> Option<u32> {
        let outcome = &self.debugger.timeline().outcome;
        outcome
            .compile_error
            .then_some(outcome.error_line)
            .flatten()
    }

    /// The first step that changes this key, if the run changes it.
    pub fn first_change(&self, db: usize, key: &[u8]) -> Option<usize> {
        self.debugger
            .first_change(self.debugger.first_seen(db, key))
    }

    /// How many keys the run changes.
    pub fn key_count(&self) -> usize {
        self.debugger.timeline().outcome.keys_changed.len()
    }

    /// The `i`-th key the run changes (in the order it first changed them),
    /// as it stands at the cursor.
    pub fn key(&self, i: usize) -> Option<KeyState<'_>> {
        let (db, key) = self.debugger.timeline().outcome.keys_changed.get(i)?;
        let (db, key) = (*db, key.as_slice());
        let entry = self.debugger.changed_entry(db, key);
        let now = self.now.get(&(db, key.to_vec())).map(|&c| &self.changes[c]);
        let first = self.debugger.first_change(i).unwrap_or(usize::MAX);
        let mark = if now.is_some() {
            KeyMark::Now
        } else if first <= self.debugger.cursor() {
            KeyMark::Before
        } else {
            KeyMark::Later
        };
        Some(KeyState {
            db,
            key,
            entry,
            before: now.map(|c| c.before.as_ref()),
            gone: entry.is_none() && matches!(mark, KeyMark::Now | KeyMark::Before),
            stayed: mark == KeyMark::Before && self.debugger.at_failure(),
            look: self.debugger.look(db, key),
            mark,
        })
    }

    /// Keys `from..from + count` of [`Session::key`].
    pub fn keys(&self, from: usize, count: usize) -> impl Iterator<Item = KeyState<'_>> {
        (from..from.saturating_add(count).min(self.key_count())).filter_map(|i| self.key(i))
    }

    /// Shows only the run's keys that match a glob `pattern` (`*`: all of
    /// them) through [`Session::shown_count`] and [`Session::shown_keys`],
    /// as the live keys are filtered. Costs the run's keys, once.
    pub fn filter_keys(&mut self, pattern: &[u8]) {
        self.shown = (pattern != b"*").then(|| {
            self.debugger
                .timeline()
                .outcome
                .keys_changed
                .iter()
                .enumerate()
                .filter(|(_, (_, key))| crate::engine::glob::matches(pattern, key, false))
                .map(|(i, _)| i)
                .collect()
        });
    }

    /// How many of the run's keys the filter lets through.
    pub fn shown_count(&self) -> usize {
        self.shown.as_ref().map_or(self.key_count(), Vec::len)
    }

    /// The `i`-th key the filter lets through, as [`Session::key`] gives it.
    pub fn shown_key(&self, i: usize) -> Option<KeyState<'_>> {
        match &self.shown {
            Some(shown) => self.key(*shown.get(i)?),
            None => self.key(i),
        }
    }

    /// Keys `from..from + count` of [`Session::shown_key`].
    pub fn shown_keys(&self, from: usize, count: usize) -> impl Iterator<Item = KeyState<'_>> {
        (from..from.saturating_add(count).min(self.shown_count())).filter_map(|i| self.shown_key(i))
    }

    /// Whether the run changes this key at some step.
    pub(crate) fn is_touched(&self, db: usize, key: &[u8]) -> bool {
        self.debugger.is_touched(db, key)
    }
}
