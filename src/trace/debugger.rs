//! The debugger model: a cursor on a [`Timeline`], breakpoints, and the
//! moves of a step debugger, forwards and backwards. It keeps a small
//! keyspace holding only the keys the run changed, moved from step to step
//! by applying deltas (each application yields the delta that reverses it),
//! so any step's keyspace can be shown without re-running Lua.
//!
//! Everything a query needs is indexed when the debugger is built (once,
//! linear in steps and keys); queries take `&self` and cost what they
//! answer, not the length of the run. Moving the cursor costs the deltas
//! between the two steps.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::engine::keyspace::{Entry, Keyspace, DATABASES};
use crate::engine::{Bytes, Delta};

use super::words::Look;
use super::{delta_range, Change, Status, Step, StepKind, Timeline};

/// A cursor move; each has a backwards twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Next line (entering called functions).
    StepInto,
    /// Next line in this function or a caller.
    StepOver,
    /// Next line in a caller.
    StepOut,
    /// Next `redis.call`.
    NextCall,
    /// Forward to the next line with a breakpoint, or the end.
    Continue,
    BackInto,
    BackOver,
    BackOut,
    PreviousCall,
    /// Back to the previous line with a breakpoint, or the start.
    ReverseContinue,
    Start,
    End,
    Failure,
}

/// A key a step changed, as it was before and after that step.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyChange {
    pub db: usize,
    pub key: Bytes,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
    /// What the key is to the user (a bitmap, a geo set), from the run's commands.
    pub look: Look,
}

/// Everything the panes show at the cursor, borrowed from the debugger.
pub struct DebugView<'a> {
    pub step: &'a Step,
    pub index: usize,
    pub total: usize,
    pub line: u32,
    pub lines_run: BTreeSet<u32>,
    /// Lines that never ran in the whole run (only after a failure).
    pub lines_never_reached: &'a BTreeSet<u32>,
    pub at_failure: bool,
    /// The line the script died on, once the cursor is at or past the
    /// failure (steps after it, such as another client's reply, keep it).
    pub died_line: Option<u32>,
    pub last_call: Option<&'a Step>,
    pub locals: Option<&'a [(String, String)]>,
}

/// What a keyed delta is about: its key, or None for a database swap.
fn keyed(db: usize, delta: &Delta) -> Option<(usize, &[u8])> {
    delta.key().map(|k| (db, k))
}

pub struct Debugger {
    timeline: Timeline,
    /// The changed keys, as they are after `applied` steps.
    view: Keyspace,
    /// Databases a SWAPDB of the run swapped (the view holds them whole).
    swapped: BTreeSet<usize>,
    /// Each step's deltas that move `view` across it, in the timeline's
    /// places ([`delta_range`]): forwards if the step is not applied yet,
    /// backwards if it is.
    moves: Vec<Change>,
    applied: usize,
    cursor: usize,
    /// Each changed key's place in `outcome.keys_changed`, by database.
    order: Vec<HashMap<Bytes, usize>>,
    /// The first step changing each key of `outcome.keys_changed`.
    first_change: Vec<usize>,
    /// Each changed key as it was before the run and after it.
    net: Vec<KeyChange>,
    /// Steps that are calls (for the last call at or before the cursor).
    calls: Vec<usize>,
    /// Line steps (for the locals at the cursor).
    line_steps: Vec<usize>,
    /// Each line that ran, with the line steps that ran it, in order.
    by_line: BTreeMap<u32, Vec<usize>>,
    never_reached: BTreeSet<u32>,
    failure: Option<usize>,
    /// Keys a bit or geo command of the run wrote, and so how they read.
    looks: HashMap<(usize, Bytes), Look>,
}

impl Debugger {
    /// Builds the debugger from a timeline and the keyspace as the run left
    /// it, with the cursor on the first step. Linear in steps and deltas.
    pub fn new(mut timeline: Timeline, live: &Keyspace) -> Debugger {
        let mut view = Keyspace::default();
        let mut swapped = BTreeSet::new();
        let mut moves = std::mem::take(&mut timeline.deltas);
        let mut calls = Vec::new();
        let mut line_steps = Vec::new();
        let mut by_line: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        let keys = &timeline.outcome.keys_changed;
        let mut order: Vec<HashMap<Bytes, usize>> = vec![HashMap::new(); DATABASES];
        for (i, (db, key)) in keys.iter().enumerate() {
            order[*db].insert(key.clone(), i);
        }
        let mut first_change = vec![usize::MAX; keys.len()];
        let mut looks = HashMap::new();
        for (i, step) in timeline.steps.iter().enumerate() {
            let range = delta_range(&timeline.steps, i);
            if let StepKind::Call(call) = &step.kind {
                let look = Look::of_command(&call.argv);
                if look != Look::Plain {
                    for (db, delta) in &moves[range.clone()] {
                        if let Some(key) = delta.key() {
                            looks.insert((*db, key.to_vec()), look);
                        }
                    }
                }
            }
            match step.kind {
                StepKind::Line { .. } => {
                    line_steps.push(i);
                    by_line.entry(step.line).or_default().push(i);
                }
                StepKind::Call(_) => calls.push(i),
                _ => {}
            }
            for (db, delta) in &moves[range.clone()] {
                match delta {
                    Delta::SwappedWith { other } => {
                        for d in [*db, *other] {
                            if swapped.insert(d) {
                                view.copy_db_from(live, d);
                            }
                        }
                    }
                    other => {
                        let key = other.key().expect("keyed delta");
                        let Some(&k) = order[*db].get(key) else {
                            continue;
                        };
                        if first_change[k] == usize::MAX && !swapped.contains(db) {
                            view.copy_entry_from(live, *db, key);
                        }
                        first_change[k] = first_change[k].min(i);
                    }
                }
            }
            // Recorded deltas undo the step when applied last-first.
            moves[range].reverse();
        }
        let never_reached = timeline.lines_never_reached();
        let failure = timeline.failure_step();
        let applied = timeline.steps.len();
        let mut debugger = Debugger {
            timeline,
            view,
            swapped,
            moves,
            applied,
            cursor: 0,
            order,
            first_change,
            net: Vec::new(),
            calls,
            line_steps,
            by_line,
            never_reached,
            failure,
            looks,
        };
        // The view is at the end now: walk to the start, noting each key's
        // value where the script ended and where it began (other clients'
        // steps before and after it are not the script's changes), and
        // stop on step 1.
        let steps = &debugger.timeline.steps;
        let is_other = |s: &Step| matches!(s.kind, StepKind::Other(_));
        let script_end = steps
            .iter()
            .rposition(|s| matches!(s.kind, StepKind::Error { .. } | StepKind::Return { .. }))
            .map_or(steps.len(), |i| i + 1);
        let script_start = steps.iter().position(|s| !is_other(s)).unwrap_or(0);
        let mut after = None;
        let mut before = None;
        loop {
            if debugger.applied == script_end {
                after = Some(debugger.snapshot());
            }
            if debugger.applied == script_start {
                before = Some(debugger.snapshot());
            }
            if debugger.applied == 0 {
                break;
            }
            debugger.applied -= 1;
            debugger.cross(debugger.applied);
        }
        let after = after.unwrap_or_else(|| debugger.snapshot());
        let before = before.unwrap_or_else(|| debugger.snapshot());
        debugger.net = debugger
            .timeline
            .outcome
            .keys_changed
            .iter()
            .cloned()
            .zip(before.into_iter().zip(after))
            .filter(|(_, (before, after))| before != after)
            .map(|((db, key), (before, after))| KeyChange {
                look: debugger.look(db, &key),
                db,
                key,
                before,
                after,
            })
            .collect();
        debugger.goto(0);
        debugger
    }

    /// Every changed key's entry in the view, in `keys_changed` order.
    fn snapshot(&self) -> Vec<Option<Entry>> {
        self.timeline
            .outcome
            .keys_changed
            .iter()
            .map(|(db, key)| self.view.db(*db).entry(key).cloned())
            .collect()
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn len(&self) -> usize {
        self.timeline.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.timeline.steps.is_empty()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn step(&self) -> &Step {
        &self.timeline.steps[self.cursor]
    }

    /// Whether the cursor is on the last step (the run's end).
    pub fn at_end(&self) -> bool {
        self.cursor + 1 >= self.len()
    }

    /// Where step `i`'s moves sit in `moves`.
    fn range(&self, i: usize) -> std::ops::Range<usize> {
        delta_range(&self.timeline.steps, i)
    }

    /// Moves the view across step `i` (forwards or backwards).
    fn cross(&mut self, i: usize) {
        let range = self.range(i);
        let deltas = &mut self.moves[range];
        if deltas.is_empty() {
            return;
        }
        // Each delta is replaced by its inverse in place (a database swap
        // of 0 with 0 holds the slot meanwhile: it owns nothing).
        for slot in deltas.iter_mut() {
            let (db, delta) = std::mem::replace(slot, (0, Delta::SwappedWith { other: 0 }));
            *slot = (db, self.view.apply(db, delta));
        }
        deltas.reverse();
    }

    /// Puts the cursor on step `index`; the keyspace then shows the state
    /// after that step (a line step: before the line runs). Costs the
    /// deltas between the old cursor and the new one.
    pub fn goto(&mut self, index: usize) {
        if self.is_empty() {
            return;
        }
        let index = index.min(self.len() - 1);
        let target = index + 1;
        while self.applied < target {
            self.cross(self.applied);
            self.applied += 1;
        }
        while self.applied > target {
            self.applied -= 1;
            self.cross(self.applied);
        }
        self.cursor = index;
    }

    fn depth_at(&self, i: usize) -> Option<u32> {
        match self.timeline.steps[i].kind {
            StepKind::Line { depth, .. } => Some(depth),
            _ => None,
        }
    }

    /// The line step at or before the cursor.
    fn line_step(&self) -> Option<usize> {
        match self.line_steps.binary_search(&self.cursor) {
            Ok(i) => Some(self.line_steps[i]),
            Err(0) => None,
            Err(i) => Some(self.line_steps[i - 1]),
        }
    }

    /// The depth of the function the cursor is in.
    fn current_depth(&self) -> u32 {
        self.line_step().and_then(|i| self.depth_at(i)).unwrap_or(1)
    }

    fn is_terminal(step: &Step) -> bool {
        matches!(step.kind, StepKind::Error { .. } | StepKind::Return { .. })
    }

    /// The first step after (or before) the cursor that satisfies `hit`.
    fn find(&self, forward: bool, hit: impl Fn(usize, &Step) -> bool) -> Option<usize> {
        let steps = &self.timeline.steps;
        if forward {
            (self.cursor + 1..steps.len()).find(|&i| hit(i, &steps[i]))
        } else {
            (0..self.cursor).rev().find(|&i| hit(i, &steps[i]))
        }
    }

    /// The step a move would put the cursor on (None: it cannot move).
    pub(crate) fn target(&self, movement: Move, breakpoints: &BTreeSet<u32>) -> Option<usize> {
        let depth = self.current_depth();
        let line = |s: &Step| matches!(s.kind, StepKind::Line { .. });
        let line_at =
            |s: &Step, max: u32| matches!(s.kind, StepKind::Line { depth, .. } if depth <= max);
        let last = self.len().saturating_sub(1);
        let target = match movement {
            Move::StepInto => self.find(true, |_, s| line(s) || Self::is_terminal(s)),
            Move::StepOver => self.find(true, |_, s| line_at(s, depth) || Self::is_terminal(s)),
            Move::StepOut => self.find(true, |_, s| {
                line_at(s, depth.saturating_sub(1)) || Self::is_terminal(s)
            }),
            Move::NextCall => {
                let next = self.calls.partition_point(|&c| c <= self.cursor);
                Some(self.calls.get(next).copied().unwrap_or(last))
            }
            Move::Continue => Some(self.next_breakpoint(breakpoints).unwrap_or(last)),
            Move::BackInto => self.find(false, |_, s| line(s)),
            Move::BackOver => self.find(false, |_, s| line_at(s, depth)),
            Move::BackOut => self.find(false, |_, s| line_at(s, depth.saturating_sub(1))),
            Move::PreviousCall => {
                let before = self.calls.partition_point(|&c| c < self.cursor);
                before.checked_sub(1).map(|i| self.calls[i])
            }
            Move::ReverseContinue => Some(self.previous_breakpoint(breakpoints).unwrap_or(0)),
            Move::Start => Some(0),
            Move::End => Some(last),
            Move::Failure => self.failure,
        };
        target.filter(|&t| t != self.cursor && t < self.len())
    }

    /// The first line step on a breakpoint after the cursor (a binary
    /// search per breakpoint).
    fn next_breakpoint(&self, breakpoints: &BTreeSet<u32>) -> Option<usize> {
        breakpoints
            .iter()
            .filter_map(|b| {
                let steps = self.by_line.get(b)?;
                steps
                    .get(steps.partition_point(|&i| i <= self.cursor))
                    .copied()
            })
            .min()
    }

    fn previous_breakpoint(&self, breakpoints: &BTreeSet<u32>) -> Option<usize> {
        breakpoints
            .iter()
            .filter_map(|b| {
                let steps = self.by_line.get(b)?;
                let n = steps.partition_point(|&i| i < self.cursor);
                n.checked_sub(1).map(|n| steps[n])
            })
            .max()
    }

    /// Whether step `index` is a line step on one of these breakpoints.
    pub(crate) fn on_breakpoint(&self, index: usize, breakpoints: &BTreeSet<u32>) -> bool {
        self.timeline.steps.get(index).is_some_and(|s| {
            matches!(s.kind, StepKind::Line { .. }) && breakpoints.contains(&s.line)
        })
    }

    /// Applies a move; returns whether the cursor moved.
    pub fn apply(&mut self, movement: Move, breakpoints: &BTreeSet<u32>) -> bool {
        match self.target(movement, breakpoints) {
            Some(t) => {
                self.goto(t);
                true
            }
            None => false,
        }
    }

    /// The run with its deltas again, for [`Timeline::undo_in`] (the
    /// debugger keeps them in its own form). The cursor stays where it is.
    pub fn undoable(&mut self) -> Timeline {
        let cursor = self.cursor;
        self.goto(self.len().saturating_sub(1));
        let mut timeline = self.timeline.clone();
        timeline.deltas = self.moves.clone();
        for i in 0..timeline.steps.len() {
            timeline.deltas[self.range(i)].reverse();
        }
        self.goto(cursor);
        timeline
    }

    /// Undoes the whole run in `keyspace` (as [`Timeline::undo_in`], with
    /// the deltas the debugger keeps: no copy of the run). The cursor stays.
    pub fn undo_in(&mut self, keyspace: &mut Keyspace) -> Result<(), String> {
        if !self.timeline.unchanged_since(keyspace) {
            return Err("keys this run changed were changed again since; undoing it would destroy newer data".into());
        }
        let cursor = self.cursor;
        self.goto(self.len().saturating_sub(1));
        // Every step is applied: each list moves the view (and the live
        // keyspace, which is where the view's end state came from) back.
        for i in (0..self.len()).rev() {
            for (db, delta) in &self.moves[self.range(i)] {
                keyspace.apply(*db, delta.clone());
            }
        }
        self.goto(cursor);
        Ok(())
    }

    /// A key as it is at the cursor: from the view if the run changed it,
    /// otherwise from the live keyspace.
    pub fn entry<'a>(&'a self, live: &'a Keyspace, db: usize, key: &[u8]) -> Option<&'a Entry> {
        if self.is_touched(db, key) {
            self.view.db(db).entry(key)
        } else {
            live.db(db).entry(key)
        }
    }

    /// A key the run changed, as it is at the cursor.
    pub(crate) fn changed_entry(&self, db: usize, key: &[u8]) -> Option<&Entry> {
        self.view.db(db).entry(key)
    }

    /// Whether the run changes this key at some step (with a SWAPDB, every
    /// key of the swapped databases).
    pub(crate) fn is_touched(&self, db: usize, key: &[u8]) -> bool {
        self.swapped.contains(&db) || self.order.get(db).is_some_and(|o| o.contains_key(key))
    }

    /// The first step that changes the `i`-th key of `outcome.keys_changed`.
    pub fn first_change(&self, i: usize) -> Option<usize> {
        self.first_change
            .get(i)
            .copied()
            .filter(|&s| s != usize::MAX)
    }

    /// The keys step `index` changed, before and after it, in the order
    /// the run first changed them. A query: the cursor stays. Costs the
    /// step's keys when `index` is the cursor, else also the deltas between.
    pub fn changes_at(&self, index: usize) -> Vec<KeyChange> {
        let keys = self.keys_changed_by(index);
        if keys.is_empty() {
            return Vec::new();
        }
        let after_cursor = |state: &Keyspace, keys: &[(usize, &[u8])]| -> Vec<Option<Entry>> {
            keys.iter()
                .map(|(db, k)| state.db(*db).entry(k).cloned())
                .collect()
        };
        let keys: Vec<(usize, &[u8])> = keys;
        if index + 1 == self.applied {
            // The view is after the step; its backward deltas give before.
            let after = after_cursor(&self.view, &keys);
            let mut scratch = self.scratch(&keys);
            for (db, d) in &self.moves[self.range(index)] {
                scratch.apply(*db, d.clone());
            }
            let before = after_cursor(&scratch, &keys);
            return self.pair(&keys, before, after);
        }
        // Walk a scratch copy of these keys to just after the step.
        let mut scratch = self.scratch(&keys);
        let wanted: HashSet<(usize, &[u8])> = keys.iter().copied().collect();
        let relevant = |db: usize, d: &Delta| {
            self.swapped.contains(&db) || keyed(db, d).is_some_and(|k| wanted.contains(&k))
        };
        let walk = |scratch: &mut Keyspace, i: usize| {
            for (db, d) in &self.moves[self.range(i)] {
                if matches!(d, Delta::SwappedWith { .. }) || relevant(*db, d) {
                    scratch.apply(*db, d.clone());
                }
            }
        };
        if index >= self.applied {
            for i in self.applied..index {
                walk(&mut scratch, i);
            }
            let before = after_cursor(&scratch, &keys);
            walk(&mut scratch, index);
            let after = after_cursor(&scratch, &keys);
            self.pair(&keys, before, after)
        } else {
            for i in (index + 1..self.applied).rev() {
                walk(&mut scratch, i);
            }
            let after = after_cursor(&scratch, &keys);
            walk(&mut scratch, index);
            let before = after_cursor(&scratch, &keys);
            self.pair(&keys, before, after)
        }
    }

    /// Puts the cursor on step `index` and returns what that step changed
    /// (cheaper than [`Debugger::changes_at`] when walking a run in order:
    /// it costs the step's deltas twice, and no scratch keyspace).
    pub(crate) fn goto_changes(&mut self, index: usize) -> Vec<KeyChange> {
        if self.is_empty() {
            return Vec::new();
        }
        let index = index.min(self.len() - 1);
        let keys: Vec<(usize, Bytes)> = self
            .keys_changed_by(index)
            .into_iter()
            .map(|(db, k)| (db, k.to_vec()))
            .collect();
        if keys.is_empty() {
            self.goto(index);
            return Vec::new();
        }
        let grab = |view: &Keyspace| -> Vec<Option<Entry>> {
            keys.iter()
                .map(|(db, k)| view.db(*db).entry(k).cloned())
                .collect()
        };
        // To just before the step, then across it.
        while self.applied < index {
            self.cross(self.applied);
            self.applied += 1;
        }
        while self.applied > index {
            self.applied -= 1;
            self.cross(self.applied);
        }
        let before = grab(&self.view);
        self.cross(index);
        self.applied = index + 1;
        self.cursor = index;
        let after = grab(&self.view);
        keys.into_iter()
            .zip(before.into_iter().zip(after))
            .map(|((db, key), (before, after))| KeyChange {
                look: self.look(db, &key),
                db,
                key,
                before,
                after,
            })
            .collect()
    }

    /// The changes of the step at the cursor (see [`Debugger::changes_at`]).
    pub fn changes(&self) -> Vec<KeyChange> {
        self.changes_at(self.cursor)
    }

    /// A keyspace holding these keys (and any swapped database) as the view has them.
    fn scratch(&self, keys: &[(usize, &[u8])]) -> Keyspace {
        let mut scratch = Keyspace::default();
        for &db in &self.swapped {
            scratch.copy_db_from(&self.view, db);
        }
        for (db, key) in keys {
            if !self.swapped.contains(db) {
                scratch.copy_entry_from(&self.view, *db, key);
            }
        }
        scratch
    }

    fn pair(
        &self,
        keys: &[(usize, &[u8])],
        before: Vec<Option<Entry>>,
        after: Vec<Option<Entry>>,
    ) -> Vec<KeyChange> {
        keys.iter()
            .zip(before.into_iter().zip(after))
            .map(|((db, key), (before, after))| KeyChange {
                look: self.look(*db, key),
                db: *db,
                key: key.to_vec(),
                before,
                after,
            })
            .collect()
    }

    /// How a key reads: a bitmap or a geo set when a bit or geo command of
    /// the run wrote it (Redis stores those as a string and a sorted set).
    pub(crate) fn look(&self, db: usize, key: &[u8]) -> Look {
        self.looks
            .get(&(db, key.to_vec()))
            .copied()
            .unwrap_or_default()
    }

    /// The keys step `index` changed (without moving the cursor), in the
    /// order the run first changed them.
    pub(crate) fn keys_changed_by(&self, index: usize) -> Vec<(usize, &[u8])> {
        let mut seen: HashSet<(usize, &[u8])> = HashSet::new();
        let mut keys: Vec<(usize, &[u8])> = Vec::new();
        let moves = (index < self.len()).then(|| &self.moves[self.range(index)]);
        for (db, delta) in moves.into_iter().flatten() {
            if let Some(key) = keyed(*db, delta) {
                if seen.insert(key) {
                    keys.push(key);
                }
            }
        }
        keys.sort_by_key(|(db, k)| (self.first_seen(*db, k), *db));
        keys
    }

    /// Order of first appearance of a key in the run (for stable listings).
    pub(crate) fn first_seen(&self, db: usize, key: &[u8]) -> usize {
        self.order
            .get(db)
            .and_then(|o| o.get(key))
            .copied()
            .unwrap_or(usize::MAX)
    }

    /// Each key the run changed, before the run and after it (keys it put
    /// back as they were are left out), in the order it first changed them.
    pub fn net_changes(&self) -> &[KeyChange] {
        &self.net
    }

    /// What the panes show at the cursor.
    pub fn view(&self) -> DebugView<'_> {
        let step = self.step();
        DebugView {
            step,
            index: self.cursor,
            total: self.len(),
            line: step.line,
            lines_run: self.lines_run_so_far(),
            lines_never_reached: &self.never_reached,
            at_failure: self.at_failure(),
            died_line: self
                .failure
                .filter(|_| self.at_failure())
                .map(|f| self.timeline.steps[f].line),
            last_call: self.last_call(),
            locals: self.locals(),
        }
    }

    /// Whether the run ended in an error and the cursor is at or past it.
    pub fn at_failure(&self) -> bool {
        self.timeline.outcome.status != Status::Ok && self.failure.is_some_and(|f| self.cursor >= f)
    }

    /// Lines that had run by the cursor (costs the script's lines).
    pub(crate) fn lines_run_so_far(&self) -> BTreeSet<u32> {
        self.by_line
            .iter()
            .filter(|(_, steps)| steps[0] <= self.cursor)
            .map(|(line, _)| *line)
            .collect()
    }

    /// The locals at the cursor (from the nearest line step at or before it).
    pub(crate) fn locals(&self) -> Option<&[(String, String)]> {
        match &self.timeline.steps[self.line_step()?].kind {
            StepKind::Line { locals, .. } => locals.as_deref().map(Vec::as_slice),
            _ => None,
        }
    }

    /// The last `redis.call` at or before the cursor.
    pub fn last_call(&self) -> Option<&Step> {
        let n = self.calls.partition_point(|&c| c <= self.cursor);
        n.checked_sub(1)
            .map(|i| &self.timeline.steps[self.calls[i]])
    }

    /// Every key the run changed, as it is at the cursor (clones them all:
    /// for a page, use [`Debugger::changed_entry`]).
    pub fn changed_keys(&self) -> Vec<(usize, Bytes, Option<Entry>)> {
        self.timeline
            .outcome
            .keys_changed
            .iter()
            .map(|(db, key)| (*db, key.clone(), self.view.db(*db).entry(key).cloned()))
            .collect()
    }
}
