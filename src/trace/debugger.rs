//! The debugger model: a cursor on a [`Timeline`], breakpoints, and the
//! moves of a step debugger, forwards and backwards. It keeps a small
//! keyspace holding only the keys the run changed, moved from step to step
//! by applying deltas (each application yields the delta that reverses it),
//! so any step's keyspace can be shown without re-running Lua.

use std::collections::{BTreeSet, HashSet};

use crate::engine::keyspace::{Entry, Keyspace};
use crate::engine::{Bytes, Delta};

use super::{Status, Step, StepKind, Timeline};

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
}

/// Everything the panes show at the cursor, borrowed from the debugger.
pub struct DebugView<'a> {
    pub step: &'a Step,
    pub index: usize,
    pub total: usize,
    pub line: u32,
    pub lines_run: BTreeSet<u32>,
    /// Lines that never ran in the whole run (only after a failure).
    pub lines_never_reached: BTreeSet<u32>,
    pub at_failure: bool,
    pub last_call: Option<&'a Step>,
    pub locals: Option<&'a [(String, String)]>,
    pub breakpoints: &'a BTreeSet<u32>,
}

pub struct Debugger {
    timeline: Timeline,
    /// The changed keys, as they are after `applied` steps.
    view: Keyspace,
    touched: HashSet<(usize, Bytes)>,
    /// For each step, the deltas that move `view` across it: forwards if
    /// the step is not applied yet, backwards if it is.
    moves: Vec<Vec<(usize, Delta)>>,
    applied: usize,
    cursor: usize,
    pub breakpoints: BTreeSet<u32>,
}

impl Debugger {
    /// Builds the debugger from a timeline and the keyspace as the run left
    /// it, with the cursor on the first step.
    pub fn new(mut timeline: Timeline, live: &Keyspace) -> Debugger {
        let mut view = Keyspace::default();
        let mut touched = HashSet::new();
        let mut moves = Vec::with_capacity(timeline.steps.len());
        for step in timeline.steps.iter_mut() {
            for (db, delta) in &step.deltas {
                match delta {
                    Delta::SwappedWith { other } => {
                        for d in [*db, *other] {
                            view.copy_db_from(live, d);
                            for (key, _) in live.db(d).iter() {
                                touched.insert((d, key.clone()));
                            }
                        }
                    }
                    other => {
                        let key = other.key().expect("keyed delta").to_vec();
                        if touched.insert((*db, key.clone())) {
                            view.copy_entry_from(live, *db, &key);
                        }
                    }
                }
            }
            // Recorded deltas undo the step when applied last-first.
            let mut backwards = std::mem::take(&mut step.deltas);
            backwards.reverse();
            moves.push(backwards);
        }
        let applied = timeline.steps.len();
        let mut debugger = Debugger {
            timeline,
            view,
            touched,
            moves,
            applied,
            cursor: 0,
            breakpoints: BTreeSet::new(),
        };
        debugger.goto(0);
        debugger
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

    /// Moves the view across step `i` (forwards or backwards).
    fn cross(&mut self, i: usize) {
        let deltas = std::mem::take(&mut self.moves[i]);
        let mut reverse: Vec<(usize, Delta)> = deltas
            .into_iter()
            .map(|(db, d)| (db, self.view.apply(db, d)))
            .collect();
        reverse.reverse();
        self.moves[i] = reverse;
    }

    /// Puts the cursor on step `index`; the keyspace then shows the state
    /// after that step (a line step: before the line runs).
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

    /// The depth of the function the cursor is in.
    fn current_depth(&self) -> u32 {
        (0..=self.cursor)
            .rev()
            .find_map(|i| self.depth_at(i))
            .unwrap_or(1)
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

    /// Applies a move; returns whether the cursor moved.
    pub fn apply(&mut self, movement: Move) -> bool {
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
            Move::NextCall => self.find(true, |_, s| {
                matches!(s.kind, StepKind::Call(_)) || Self::is_terminal(s)
            }),
            Move::Continue => self.find(true, |_, s| {
                (line(s) && self.breakpoints.contains(&s.line)) || Self::is_terminal(s)
            }),
            Move::BackInto => self.find(false, |_, s| line(s)),
            Move::BackOver => self.find(false, |_, s| line_at(s, depth)),
            Move::BackOut => self.find(false, |_, s| line_at(s, depth.saturating_sub(1))),
            Move::PreviousCall => self.find(false, |_, s| matches!(s.kind, StepKind::Call(_))),
            Move::ReverseContinue => self
                .find(false, |_, s| line(s) && self.breakpoints.contains(&s.line))
                .or(Some(0)),
            Move::Start => Some(0),
            Move::End => Some(last),
            Move::Failure => self.timeline.failure_step(),
        };
        match target {
            Some(t) if t != self.cursor => {
                self.goto(t);
                true
            }
            _ => false,
        }
    }

    /// The run with its deltas again, for [`Timeline::undo_in`] (the
    /// debugger keeps them in its own form). The cursor stays where it is.
    pub fn undoable(&mut self) -> Timeline {
        let cursor = self.cursor;
        self.goto(self.len().saturating_sub(1));
        let mut timeline = self.timeline.clone();
        for (step, backwards) in timeline.steps.iter_mut().zip(&self.moves) {
            step.deltas = backwards.iter().rev().cloned().collect();
        }
        self.goto(cursor);
        timeline
    }

    pub fn toggle_breakpoint(&mut self, line: u32) {
        if !self.breakpoints.remove(&line) {
            self.breakpoints.insert(line);
        }
    }

    /// A key as it is at the cursor: from the view if the run changed it,
    /// otherwise from the live keyspace.
    pub fn entry<'a>(&'a self, live: &'a Keyspace, db: usize, key: &[u8]) -> Option<&'a Entry> {
        if self.touched.contains(&(db, key.to_vec())) {
            self.view.db(db).entry(key)
        } else {
            live.db(db).entry(key)
        }
    }

    /// Whether the run changes this key at some step.
    pub fn is_touched(&self, db: usize, key: &[u8]) -> bool {
        self.touched.contains(&(db, key.to_vec()))
    }

    /// The keys step `index` changed, before and after it. Moves the
    /// cursor there.
    pub fn changes_at(&mut self, index: usize) -> Vec<KeyChange> {
        let keys: Vec<(usize, Bytes)> = {
            let mut keys: Vec<(usize, Bytes)> = Vec::new();
            // The deltas live in `moves`, whichever direction they face.
            for (db, delta) in &self.moves[index] {
                if let Some(key) = delta.key() {
                    if !keys.iter().any(|(d, k)| d == db && k == key) {
                        keys.push((*db, key.to_vec()));
                    }
                }
            }
            keys.sort_by_key(|(db, k)| (self.first_seen(*db, k), *db));
            keys
        };
        if keys.is_empty() {
            self.goto(index);
            return Vec::new();
        }
        if index > 0 {
            self.goto(index - 1);
        } else {
            while self.applied > 0 {
                self.applied -= 1;
                self.cross(self.applied);
            }
        }
        let before: Vec<Option<Entry>> = keys
            .iter()
            .map(|(db, k)| self.view.db(*db).entry(k).cloned())
            .collect();
        self.goto(index);
        keys.into_iter()
            .zip(before)
            .map(|((db, key), before)| {
                let after = self.view.db(db).entry(&key).cloned();
                KeyChange {
                    db,
                    key,
                    before,
                    after,
                }
            })
            .collect()
    }

    /// The keys step `index` changed (without moving the cursor).
    pub fn keys_changed_by(&self, index: usize) -> Vec<(usize, &[u8])> {
        let mut keys: Vec<(usize, &[u8])> = Vec::new();
        for (db, delta) in self.moves.get(index).into_iter().flatten() {
            if let Some(key) = delta.key() {
                if !keys.contains(&(*db, key)) {
                    keys.push((*db, key));
                }
            }
        }
        keys
    }

    /// Order of first appearance of a key in the run (for stable listings).
    fn first_seen(&self, db: usize, key: &[u8]) -> usize {
        self.timeline
            .outcome
            .keys_changed
            .iter()
            .position(|(d, k)| *d == db && k == key)
            .unwrap_or(usize::MAX)
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
            lines_never_reached: self.timeline.lines_never_reached(),
            at_failure: self.at_failure(),
            last_call: self.last_call(),
            locals: self.locals(),
            breakpoints: &self.breakpoints,
        }
    }

    /// Whether the run ended in an error and the cursor is at or past it.
    pub fn at_failure(&self) -> bool {
        self.timeline.outcome.status != Status::Ok
            && self
                .timeline
                .failure_step()
                .is_some_and(|f| self.cursor >= f)
    }

    /// Lines that had run by the cursor.
    pub fn lines_run_so_far(&self) -> BTreeSet<u32> {
        self.timeline.steps[..=self.cursor.min(self.len().saturating_sub(1))]
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Line { .. }))
            .map(|s| s.line)
            .collect()
    }

    /// The locals at the cursor (from the nearest line step at or before it).
    pub fn locals(&self) -> Option<&[(String, String)]> {
        (0..=self.cursor)
            .rev()
            .find_map(|i| match &self.timeline.steps[i].kind {
                StepKind::Line { locals, .. } => Some(locals.as_deref()),
                _ => None,
            })?
    }

    /// The last `redis.call` at or before the cursor.
    pub fn last_call(&self) -> Option<&Step> {
        (0..=self.cursor)
            .rev()
            .map(|i| &self.timeline.steps[i])
            .find(|s| matches!(s.kind, StepKind::Call(_)))
    }

    /// Every key the run changed, as it is at the cursor.
    pub fn changed_keys(&self) -> Vec<(usize, Bytes, Option<Entry>)> {
        self.timeline
            .outcome
            .keys_changed
            .iter()
            .map(|(db, key)| (*db, key.clone(), self.view.db(*db).entry(key).cloned()))
            .collect()
    }
}
