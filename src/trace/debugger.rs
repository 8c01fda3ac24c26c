//! The debugger model: a cursor on a [`Timeline`], breakpoints, and the
//! moves of a step debugger, forwards and backwards. It keeps a small
//! keyspace holding only the keys the run changed, moved from step to step
//! by applying deltas (each application yields the delta that reverses it),
//! so any step's keyspace can be shown without re-running Lua.
//!
//! Everything a query needs is indexed when the debugger is built (once,
//! linear in steps and keys); queries cost what they answer, not the
//! length of the run (`changes_at` another step moves the view there and
//! back). Moving the cursor costs the deltas between the two steps, but a
//! jump across whole segments of [`SEGMENT`] steps restores the keys each
//! one changed, as they were at its end (or start), instead of applying
//! its steps (see [`Debugger::goto`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::engine::keyspace::{Entry, Keyspace, DATABASES};
use crate::engine::{Bytes, Delta};

use super::changes::{Target, SLOT};
use super::words::Look;
use super::{delta_range, Changes, Locals, Status, Step, StepKind, Timeline};

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
    pub locals: Option<Locals<'a>>,
}

/// Steps per segment (see [`Segment`]).
const SEGMENT: usize = 4096;

/// A run of [`SEGMENT`] steps, and what a jump across it needs.
///
/// Each step's moves are forwards or backwards; a segment's are all one
/// way (`backwards`) except in the segment the view is inside, where the
/// steps before `applied` are backwards. A jump across a checkpointed
/// segment restores its keys and leaves its moves as they were: they are
/// turned when the view next enters the segment ([`Debugger::settle`]),
/// from the checkpoint at the side they are still facing.
struct Segment {
    /// The keys its steps change (their places in `outcome.keys_changed`).
    keys: Vec<usize>,
    /// Those keys before its first step and after its last (None: absent);
    /// both None when it has no checkpoint (a SWAPDB in the run, or its
    /// keys too large beside its deltas): it is then crossed step by step.
    start: Option<Vec<Option<Entry>>>,
    end: Option<Vec<Option<Entry>>>,
    /// Its steps' moves are backwards (the steps applied).
    backwards: bool,
}

impl Segment {
    fn checkpointed(&self) -> bool {
        self.start.is_some() && self.end.is_some()
    }
}

/// Puts these keys in `keyspace` as a checkpoint holds them.
fn restore(
    keyspace: &mut Keyspace,
    keys: &[(usize, Bytes)],
    which: &[usize],
    states: &[Option<Entry>],
) {
    for (&k, state) in which.iter().zip(states) {
        let (db, key) = &keys[k];
        let delta = match state {
            Some(entry) => Delta::Overwritten {
                key: key.clone(),
                entry: entry.clone(),
            },
            None => Delta::Created { key: key.clone() },
        };
        keyspace.apply(*db, delta);
    }
}

/// What a copy of an entry holds, roughly, without walking it: its slot,
/// the boxed kinds' tables and each element with its own allocations.
fn entry_weight(entry: Option<&Entry>) -> usize {
    use crate::engine::value::Value;
    std::mem::size_of::<Option<Entry>>()
        + match entry.map(|e| &e.value) {
            None => 0,
            Some(Value::String(s)) => s.len(),
            Some(Value::List(l)) => 32 + l.len() * 40,
            Some(Value::Hash(h)) => 128 + h.map.len() * 96,
            Some(Value::Set(set)) => 128 + set.members.len() * 64,
            Some(Value::ZSet(z)) => 128 + z.len() * 96,
            Some(Value::Stream(st)) => 256 + st.entries.len() * 128,
        }
}

pub struct Debugger {
    timeline: Timeline,
    /// The changed keys, as they are after `applied` steps.
    view: Keyspace,
    /// Databases a SWAPDB of the run swapped (the view holds them whole).
    swapped: BTreeSet<usize>,
    /// Each step's deltas that move `view` across it, in the timeline's
    /// places ([`delta_range`]): forwards or backwards, as its segment says.
    moves: Changes,
    /// The steps in segments of [`SEGMENT`], with their checkpoints.
    segments: Vec<Segment>,
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
    /// Each function's `end` line and first line (see
    /// [`super::function_headers`]): the first reads as run with the `end`.
    headers: Vec<(u32, u32)>,
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
        let segment_count = timeline.steps.len().div_ceil(SEGMENT);
        let mut segments: Vec<Segment> = (0..segment_count)
            .map(|_| Segment {
                keys: Vec::new(),
                start: None,
                end: None,
                backwards: true,
            })
            .collect();
        // Each segment's deltas' weight (what its checkpoint may cost).
        let mut weights = vec![0usize; segment_count];
        let mut last_segment = vec![usize::MAX; keys.len()];
        for (i, step) in timeline.steps.iter().enumerate() {
            let range = delta_range(&timeline.steps, i);
            let s = i / SEGMENT;
            if let Some(call) = timeline.call(i) {
                let look = Look::of_command(call.argv);
                if look != Look::Plain {
                    for j in range.clone() {
                        if let Target::Key(db, key) = moves.target(j) {
                            looks.insert((db, key.to_vec()), look);
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
            for j in range.clone() {
                match moves.target(j) {
                    Target::Swapped(db, other) => {
                        for d in [db, other] {
                            if swapped.insert(d) {
                                view.copy_db_from(live, d);
                            }
                        }
                    }
                    Target::Key(db, key) => {
                        weights[s] += SLOT + moves.boxed_size(j);
                        let Some(&k) = order[db].get(key) else {
                            continue;
                        };
                        if last_segment[k] != s {
                            last_segment[k] = s;
                            segments[s].keys.push(k);
                        }
                        if first_change[k] == usize::MAX && !swapped.contains(&db) {
                            view.copy_entry_from(live, db, key);
                        }
                        first_change[k] = first_change[k].min(i);
                    }
                }
            }
            // Recorded deltas undo the step when applied last-first.
            moves.reverse(range);
        }
        let never_reached = timeline.lines_never_reached();
        let headers = super::function_headers(&timeline.source);
        let failure = timeline.failure_step();
        let applied = timeline.steps.len();
        let mut debugger = Debugger {
            timeline,
            view,
            swapped,
            moves,
            segments,
            applied,
            cursor: 0,
            order,
            first_change,
            net: Vec::new(),
            calls,
            line_steps,
            by_line,
            headers,
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
            .rposition(|s| matches!(s.kind, StepKind::Error(_) | StepKind::Return(_)))
            .map_or(steps.len(), |i| i + 1);
        let script_start = steps.iter().position(|s| !is_other(s)).unwrap_or(0);
        let mut after = None;
        let mut before = None;
        // Checkpoints are taken on the way (none with a SWAPDB: those
        // databases are held whole).
        let checkpoints = debugger.swapped.is_empty();
        let len = debugger.len();
        loop {
            let applied = debugger.applied;
            if applied == script_end {
                after = Some(debugger.snapshot());
            }
            if applied == script_start {
                before = Some(debugger.snapshot());
            }
            if checkpoints && applied > 0 && (applied == len || applied.is_multiple_of(SEGMENT)) {
                let s = (applied - 1) / SEGMENT;
                debugger.segments[s].end = debugger.checkpoint(s, weights[s]);
            }
            if checkpoints && applied < len && applied.is_multiple_of(SEGMENT) {
                let s = applied / SEGMENT;
                let start = debugger.checkpoint(s, weights[s]);
                let segment = &mut debugger.segments[s];
                segment.start = start.filter(|_| segment.end.is_some());
                if segment.start.is_none() {
                    segment.end = None;
                }
            }
            if applied.is_multiple_of(SEGMENT) && applied < len {
                debugger.segments[applied / SEGMENT].backwards = false;
            }
            if applied == 0 {
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

    /// Segment `s`'s keys as the view holds them, unless copying them
    /// would cost more than a quarter of its deltas (`weight`): both
    /// checkpoints of a segment stay within half of what its steps hold.
    fn checkpoint(&self, s: usize, weight: usize) -> Option<Vec<Option<Entry>>> {
        let keys = &self.timeline.outcome.keys_changed;
        let states: Vec<Option<&Entry>> = self.segments[s]
            .keys
            .iter()
            .map(|&k| self.view.db(keys[k].0).entry(&keys[k].1))
            .collect();
        let cost: usize = states.iter().map(|&e| entry_weight(e)).sum();
        (cost <= weight / 4).then(|| states.into_iter().map(Option::<&Entry>::cloned).collect())
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

    /// The run, without its deltas: the debugger holds them, turned (see
    /// [`Debugger::undoable`] for a timeline with them).
    /// The step where the script died, if it did.
    pub fn failure(&self) -> Option<usize> {
        self.failure
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
        self.moves.flip(range, &mut self.view);
    }

    /// Turns segment `s`'s moves to face this way, in a scratch keyspace
    /// started from the checkpoint at the side they face now (only a
    /// checkpointed segment is ever jumped over, and so left facing the
    /// wrong way).
    fn settle(&mut self, s: usize, backwards: bool) {
        let segment = &self.segments[s];
        if segment.backwards == backwards {
            return;
        }
        let from = if segment.backwards {
            &segment.end
        } else {
            &segment.start
        };
        let from = from
            .as_ref()
            .expect("a segment jumped over has its checkpoint");
        let mut scratch = Keyspace::default();
        let keys = &self.timeline.outcome.keys_changed;
        restore(&mut scratch, keys, &segment.keys, from);
        let steps = s * SEGMENT..((s + 1) * SEGMENT).min(self.len());
        // Backwards moves are undone last step first; forwards, in order.
        let order: Vec<usize> = if segment.backwards {
            steps.rev().collect()
        } else {
            steps.collect()
        };
        for i in order {
            let range = self.range(i);
            self.moves.flip(range, &mut scratch);
        }
        self.segments[s].backwards = backwards;
    }

    /// Moves the view to just after step `target - 1` (0: before the
    /// run): step by step inside a segment, a whole checkpointed segment
    /// at once.
    fn move_to(&mut self, target: usize) {
        let len = self.len();
        while self.applied < target {
            let i = self.applied;
            if i.is_multiple_of(SEGMENT) {
                // Entering segment s at its start.
                let s = i / SEGMENT;
                let end = ((s + 1) * SEGMENT).min(len);
                let segment = &self.segments[s];
                if segment.checkpointed() && end <= target {
                    let states = segment.end.as_deref().expect("a checkpoint");
                    let keys = &self.timeline.outcome.keys_changed;
                    restore(&mut self.view, keys, &segment.keys, states);
                    self.applied = end;
                    continue;
                }
                self.settle(s, false);
            }
            self.cross(i);
            self.applied += 1;
            if self.applied.is_multiple_of(SEGMENT) || self.applied == len {
                self.segments[i / SEGMENT].backwards = true;
            }
        }
        while self.applied > target {
            let i = self.applied;
            if i.is_multiple_of(SEGMENT) || i == len {
                // Entering segment s at its end.
                let s = (i - 1) / SEGMENT;
                let start = s * SEGMENT;
                let segment = &self.segments[s];
                if segment.checkpointed() && start >= target {
                    let states = segment.start.as_deref().expect("a checkpoint");
                    let keys = &self.timeline.outcome.keys_changed;
                    restore(&mut self.view, keys, &segment.keys, states);
                    self.applied = start;
                    continue;
                }
                self.settle(s, true);
            }
            self.applied -= 1;
            self.cross(self.applied);
            if self.applied.is_multiple_of(SEGMENT) {
                self.segments[self.applied / SEGMENT].backwards = false;
            }
        }
        // The step before the view reads its moves as backwards (what it
        // changed, see `changes`): at a segment's end, that segment may
        // have been jumped over.
        let applied = self.applied;
        if applied > 0 && (applied.is_multiple_of(SEGMENT) || applied == len) {
            self.settle((applied - 1) / SEGMENT, true);
        }
    }

    /// Turns every step's moves backwards (the view at the end of the
    /// run), for what reads them all.
    fn all_backwards(&mut self) {
        self.move_to(self.len());
        for s in 0..self.segments.len() {
            self.settle(s, true);
        }
    }

    /// Puts the cursor on step `index`; the keyspace then shows the state
    /// after that step (a line step: before the line runs). Costs the
    /// deltas between the old cursor and the new one; a jump, the
    /// checkpoints of the whole segments between, the steps at each end
    /// and up to two segments turned (one it enters, one it stops at the
    /// end of). Segments without a checkpoint cost all their steps.
    pub fn goto(&mut self, index: usize) {
        if self.is_empty() {
            return;
        }
        let index = index.min(self.len() - 1);
        self.move_to(index + 1);
        self.cursor = index;
    }

    fn depth_at(&self, i: usize) -> Option<u32> {
        match self.timeline.steps[i].kind {
            StepKind::Line { depth, .. } => Some(depth.get()),
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
        matches!(step.kind, StepKind::Error(_) | StepKind::Return(_))
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
        let line_at = |s: &Step, max: u32| matches!(s.kind, StepKind::Line { depth, .. } if depth.get() <= max);
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
        self.all_backwards();
        let mut timeline = self.timeline.clone();
        timeline.deltas = self.moves.clone();
        for i in 0..timeline.steps.len() {
            timeline.deltas.reverse(self.range(i));
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
        self.all_backwards();
        // Every step is applied: each list moves the view (and the live
        // keyspace, which is where the view's end state came from) back.
        for i in (0..self.len()).rev() {
            for (db, delta) in self.moves.range(self.range(i)) {
                keyspace.apply(db, delta);
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
    /// the run first changed them. The cursor stays; the view goes there
    /// and back (see [`Debugger::goto`] for the cost).
    pub fn changes_at(&mut self, index: usize) -> Vec<KeyChange> {
        if index == self.cursor {
            return self.changes();
        }
        let cursor = self.cursor;
        let changes = self.goto_changes(index);
        self.goto(cursor);
        changes
    }

    /// Puts the cursor on step `index` and returns what that step changed
    /// (walking a run in order, this costs the step's deltas twice).
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
        self.move_to(index);
        let before = grab(&self.view);
        self.move_to(index + 1);
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

    /// The changes of the step at the cursor: the view is just after it,
    /// and its moves (backwards) give what it was before. Costs the step's keys.
    pub fn changes(&self) -> Vec<KeyChange> {
        let keys = self.keys_changed_by(self.cursor);
        if keys.is_empty() {
            return Vec::new();
        }
        debug_assert_eq!(self.applied, self.cursor + 1);
        let grab = |state: &Keyspace| -> Vec<Option<Entry>> {
            keys.iter()
                .map(|(db, k)| state.db(*db).entry(k).cloned())
                .collect()
        };
        let after = grab(&self.view);
        let mut scratch = self.scratch(&keys);
        for (db, d) in self.moves.range(self.range(self.cursor)) {
            scratch.apply(db, d);
        }
        let before = grab(&scratch);
        self.pair(&keys, before, after)
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
        let moves = (index < self.len()).then(|| self.range(index));
        for j in moves.into_iter().flatten() {
            if let Target::Key(db, key) = self.moves.target(j) {
                if seen.insert((db, key)) {
                    keys.push((db, key));
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
        let mut run: BTreeSet<u32> = self
            .by_line
            .iter()
            .filter(|(_, steps)| steps[0] <= self.cursor)
            .map(|(line, _)| *line)
            .collect();
        // A function's first line once its `end` line has run (the one
        // at the cursor is about to run: the function is not made yet).
        for &(end, header) in &self.headers {
            if self.by_line.get(&end).is_some_and(|s| s[0] < self.cursor) {
                run.insert(header);
            }
        }
        run
    }

    /// The locals at the cursor (from the nearest line step at or before it).
    pub(crate) fn locals(&self) -> Option<Locals<'_>> {
        match &self.timeline.steps[self.line_step()?].kind {
            StepKind::Line { locals, .. } => locals.map(|at| self.timeline.locals.get(at)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, ManualClock};
    use crate::script::{ScriptConfig, Scripting};
    use crate::trace::{fingerprint, record, Limits};

    /// A keyspace holding these keys as `from` holds them.
    fn copy(from: &Keyspace, keys: &[(usize, Bytes)]) -> Keyspace {
        let mut copy = Keyspace::default();
        for (db, key) in keys {
            copy.copy_entry_from(from, *db, key);
        }
        copy
    }

    /// About 26,000 steps over strings, hashes, lists, sets and expiries
    /// (the stress tests' mix), one to a list too large to copy at a
    /// checkpoint; the run dies at its end.
    fn script() -> String {
        super::stress::mix(1500).replace(
            "end\nreturn 1",
            "  if i == 700 then redis.call('LPUSH', 'big', 'x') end\nend\nreturn nil + 1",
        )
    }

    #[test]
    fn jumps_across_segments_show_what_stepping_shows() {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        let mut run = |engine: &mut Engine, client: &mut crate::engine::Client, argv: &[&str]| {
            let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
            engine.call(client, &argv, &mut scripting)
        };
        let fill = "for i = 1, 50000 do redis.call('RPUSH', 'big', i) end";
        run(&mut engine, &mut client, &["EVAL", fill, "0"]);
        run(&mut engine, &mut client, &["SET", "k3", "before"]);
        let before_run = copy(
            &engine.keyspace,
            &[(0, b"k3".to_vec()), (0, b"big".to_vec())],
        );
        let script = script();
        assert!(script.contains("LPUSH") && script.ends_with("nil + 1"));
        let argv: Vec<Vec<u8>> = ["EVAL", &script, "0"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let timeline = record(
            &mut engine,
            &mut scripting,
            &mut client,
            &argv,
            Limits::default(),
        );
        assert_eq!(timeline.outcome.status, Status::Error);
        let len = timeline.steps.len();
        assert!(len > 6 * SEGMENT, "{len} steps");
        let keys = timeline.outcome.keys_changed.clone();

        // Where to jump: segment edges, the ends, and steps in between.
        let mut targets: Vec<usize> = vec![0, 1, len - 1, len - 2];
        for s in 1..len / SEGMENT + 1 {
            // A segment's end reached from far before it and from far after.
            let edge = s * SEGMENT;
            targets.extend([0, edge - 1, len - 1, edge - 1, edge, edge + 1]);
        }
        let mut x: u64 = 7;
        for _ in 0..120 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            targets.push((x >> 33) as usize % len);
        }
        targets.retain(|&t| t < len);

        // What each target shows, from the recorded deltas alone: the live
        // keyspace undone step by step (the debugger plays no part).
        let wanted: HashSet<usize> = targets
            .iter()
            .map(|t| t + 1)
            .chain(targets.iter().copied())
            .collect();
        let mut expected: HashMap<usize, u64> = HashMap::new();
        let mut undone = copy(&engine.keyspace, &keys);
        for applied in (0..=len).rev() {
            if wanted.contains(&applied) {
                expected.insert(applied, fingerprint(&undone, &keys));
            }
            if applied > 0 {
                for (db, delta) in timeline.deltas_of(applied - 1).iter().rev() {
                    undone.apply(*db, delta.clone());
                }
            }
        }
        assert_eq!(fingerprint(&undone, &keys), fingerprint(&before_run, &keys));

        let mut debugger = Debugger::new(timeline.clone(), &engine.keyspace);
        let checkpointed = debugger
            .segments
            .iter()
            .filter(|s| s.checkpointed())
            .count();
        assert!(
            checkpointed >= 4,
            "{checkpointed} of {} segments checkpointed",
            debugger.segments.len()
        );
        assert!(
            checkpointed < debugger.segments.len(),
            "the one writing `big` has no checkpoint"
        );

        let mut previous = 0;
        for &t in &targets {
            debugger.goto(t);
            assert_eq!(
                fingerprint(&debugger.view, &keys),
                expected[&(t + 1)],
                "at step {t}, from {previous}"
            );
            // What the step changed, before and after it: the view holds
            // each `after`; putting back each `before` gives the step before.
            let mut before = copy(&debugger.view, &keys);
            for change in debugger.changes() {
                let view = debugger.view.db(change.db).entry(&change.key);
                assert_eq!(view, change.after.as_ref(), "step {t}: after");
                let key = change.key.clone();
                let delta = match change.before {
                    Some(entry) => Delta::Overwritten { key, entry },
                    None => Delta::Created { key },
                };
                before.apply(change.db, delta);
            }
            assert_eq!(
                fingerprint(&before, &keys),
                expected[&t],
                "step {t}: before"
            );
            // A query elsewhere leaves the view where it was.
            let other = targets[(t * 31) % targets.len()];
            debugger.changes_at(other);
            assert_eq!(debugger.cursor(), t);
            assert_eq!(
                fingerprint(&debugger.view, &keys),
                expected[&(t + 1)],
                "back at {t} after a query at {other}"
            );
            previous = t;
        }

        // Every move turned back: the run undoes, and its deltas are the
        // recorded ones (but for a removed key's place, see `placeless`).
        let placeless = super::stress::placeless;
        assert!(placeless(debugger.undoable().deltas) == placeless(timeline.deltas.clone()));
        let mut live = copy(&engine.keyspace, &keys);
        debugger.undo_in(&mut live).unwrap();
        assert_eq!(fingerprint(&live, &keys), fingerprint(&before_run, &keys));
        assert_eq!(
            fingerprint(&debugger.view, &keys),
            expected[&(previous + 1)]
        );
    }
}

#[cfg(test)]
/// Random sequences of moves, jumps and queries over runs of every shape
/// (short, exact segments, elided changes, other clients, SWAPDB, every
/// type), each checked against keyspaces rebuilt from the recorded deltas.
mod stress {
    use super::*;
    use crate::engine::{Engine, ManualClock};
    use crate::script::{ScriptConfig, Scripting};
    use crate::trace::Change;
    use crate::trace::{record_with_lane, LaneCommand, Limits, When};

    pub(super) fn snap(from: &Keyspace) -> Keyspace {
        let mut copy = Keyspace::default();
        for db in 0..DATABASES {
            copy.copy_db_from(from, db);
        }
        copy
    }

    /// The keyspace after `applied` steps, from the recorded deltas alone.
    pub(super) struct Reference {
        snaps: Vec<(usize, Keyspace)>,
    }

    impl Reference {
        pub(super) fn new(timeline: &Timeline, live: &Keyspace) -> Reference {
            let len = timeline.steps.len();
            let mut undone = snap(live);
            let mut snaps = Vec::new();
            for applied in (0..=len).rev() {
                if applied == len || applied % 256 == 0 {
                    snaps.push((applied, snap(&undone)));
                }
                if applied > 0 {
                    for (db, delta) in timeline.deltas_of(applied - 1).iter().rev() {
                        undone.apply(*db, delta.clone());
                    }
                }
            }
            snaps.reverse();
            Reference { snaps }
        }

        pub(super) fn at(&self, timeline: &Timeline, applied: usize) -> Keyspace {
            let (from, ks) = self.snaps.iter().find(|(a, _)| *a >= applied).unwrap();
            let mut ks = snap(ks);
            for a in (applied..*from).rev() {
                for (db, delta) in timeline.deltas_of(a).iter().rev() {
                    ks.apply(*db, delta.clone());
                }
            }
            ks
        }
    }

    fn check_view(d: &Debugger, tl: &Timeline, r: &Reference, keys: &[(usize, Bytes)], why: &str) {
        let want = r.at(tl, d.cursor + 1);
        assert_eq!(d.applied, d.cursor + 1, "{why}");
        for (db, key) in keys {
            assert_eq!(
                d.view.db(*db).entry(key),
                want.db(*db).entry(key),
                "{why}: view at cursor {} key {db}/{}",
                d.cursor,
                String::from_utf8_lossy(key)
            );
        }
    }

    fn check_changes(tl: &Timeline, r: &Reference, i: usize, got: &[KeyChange], why: &str) {
        let before = r.at(tl, i);
        let after = r.at(tl, i + 1);
        let mut want: Vec<(usize, Bytes)> = Vec::new();
        for (db, delta) in tl.deltas_of(i) {
            if let Some(k) = delta.key() {
                if !want.contains(&(db, k.to_vec())) {
                    want.push((db, k.to_vec()));
                }
            }
        }
        let mut have: Vec<(usize, Bytes)> = got.iter().map(|c| (c.db, c.key.clone())).collect();
        want.sort();
        have.sort();
        assert_eq!(have, want, "{why}: keys of step {i}");
        for c in got {
            same_pair(c, &before, &after, &format!("{why}: step {i}"));
        }
    }

    /// A change's before and after are these keyspaces' entries.
    fn same_pair(c: &KeyChange, before: &Keyspace, after: &Keyspace, why: &str) {
        let (b, a) = (before.db(c.db).entry(&c.key), after.db(c.db).entry(&c.key));
        assert_eq!(c.before.as_ref(), b, "{why}: before");
        assert_eq!(c.after.as_ref(), a, "{why}: after");
    }

    /// The deltas without a removed key's place among its database's keys
    /// (the view's, which holds only the run's keys).
    pub(super) fn placeless(deltas: Changes) -> Vec<Change> {
        deltas
            .to_vec()
            .into_iter()
            .map(|(db, d)| match d {
                Delta::Removed { key, entry, .. } => (
                    db,
                    Delta::Removed {
                        key,
                        entry,
                        position: 0,
                    },
                ),
                d => (db, d),
            })
            .collect()
    }

    fn run(
        prep: &[&[&str]],
        script: &str,
        max_steps: usize,
        lane: &[(When, &[&str])],
        extra_keys: &[(usize, &str)],
    ) -> (Timeline, Keyspace, Vec<(usize, Bytes)>) {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        for argv in prep {
            let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
            engine.call(&mut client, &argv, &mut scripting);
        }
        let lane: Vec<LaneCommand> = lane
            .iter()
            .map(|(when, argv)| LaneCommand {
                client: 2,
                when: when.clone(),
                argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            })
            .collect();
        let argv: Vec<Vec<u8>> = ["EVAL", script, "0"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let limits = Limits {
            max_steps,
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let timeline = record_with_lane(
            &mut engine,
            &mut scripting,
            &mut client,
            &argv,
            limits,
            &lane,
        );
        let mut keys = timeline.outcome.keys_changed.clone();
        for (db, k) in extra_keys {
            keys.push((*db, k.as_bytes().to_vec()));
        }
        (timeline, snap(&engine.keyspace), keys)
    }

    fn stress(
        name: &str,
        timeline: Timeline,
        live: Keyspace,
        keys: Vec<(usize, Bytes)>,
        rounds: usize,
    ) {
        let len = timeline.steps.len();
        eprintln!(
            "{name}: {len} steps, {} deltas, {} keys",
            timeline.deltas.len(),
            keys.len()
        );
        let r = Reference::new(&timeline, &live);
        let mut d = Debugger::new(timeline.clone(), &live);
        eprintln!(
            "  segments {} checkpointed {}",
            d.segments.len(),
            d.segments.iter().filter(|s| s.checkpointed()).count()
        );
        if len == 0 {
            return;
        }
        check_view(&d, &timeline, &r, &keys, &format!("{name}: new"));
        let steps = &timeline.steps;
        let script_end = steps
            .iter()
            .rposition(|s| matches!(s.kind, StepKind::Error(_) | StepKind::Return(_)))
            .map_or(len, |i| i + 1);
        let script_start = steps
            .iter()
            .position(|s| !matches!(s.kind, StepKind::Other(_)))
            .unwrap_or(0);
        let (b, a) = (r.at(&timeline, script_start), r.at(&timeline, script_end));
        for c in d.net_changes() {
            same_pair(c, &b, &a, &format!("{name}: net"));
        }
        let mut x: u64 = 12345;
        let mut rnd = |n: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) as usize) % n.max(1)
        };
        let moves = [
            Move::StepInto,
            Move::StepOver,
            Move::StepOut,
            Move::NextCall,
            Move::Continue,
            Move::BackInto,
            Move::BackOver,
            Move::BackOut,
            Move::PreviousCall,
            Move::ReverseContinue,
            Move::Start,
            Move::End,
            Move::Failure,
        ];
        let bps: BTreeSet<u32> = [2u32, 4].into_iter().collect();
        let pick = |rnd: &mut dyn FnMut(usize) -> usize| -> usize {
            match rnd(4) {
                0 => rnd(len),
                1 => {
                    let edge = rnd(len / SEGMENT + 2) * SEGMENT;
                    (edge + rnd(5)).saturating_sub(2).min(len - 1)
                }
                2 => len - 1 - rnd(3).min(len - 1),
                _ => rnd(3).min(len - 1),
            }
        };
        for round in 0..rounds {
            let op = rnd(7);
            let why = format!("{name}: round {round} op {op}");
            match op {
                0 => {
                    let t = pick(&mut rnd);
                    d.goto(t);
                    assert_eq!(d.cursor, t);
                }
                1 => {
                    let t = pick(&mut rnd);
                    let got = d.goto_changes(t);
                    check_changes(&timeline, &r, t, &got, &why);
                }
                2 => {
                    let t = pick(&mut rnd);
                    let c = d.cursor;
                    let got = d.changes_at(t);
                    check_changes(&timeline, &r, t, &got, &why);
                    assert_eq!(d.cursor, c);
                }
                3 | 4 => {
                    let m = moves[rnd(moves.len())];
                    d.apply(m, &bps);
                }
                5 => {
                    if rnd(8) == 0 {
                        let u = d.undoable();
                        assert!(
                            placeless(u.deltas) == placeless(timeline.deltas.clone()),
                            "{why}: undoable"
                        );
                    }
                }
                _ => {
                    if rnd(8) == 0 {
                        let mut l = snap(&live);
                        d.undo_in(&mut l).unwrap();
                        let want = r.at(&timeline, 0);
                        for (db, key) in &keys {
                            assert_eq!(
                                l.db(*db).entry(key),
                                want.db(*db).entry(key),
                                "{why}: undo_in"
                            );
                        }
                    }
                }
            }
            check_view(&d, &timeline, &r, &keys, &why);
            let got = d.changes();
            check_changes(&timeline, &r, d.cursor, &got, &format!("{why} changes()"));
        }
    }

    const MIX: &str = "
for i = 1, ITER do
  redis.call('INCR', 'counter')
  redis.call('SET', 'k' .. (i % 50), i)
  if i % 7 == 0 then redis.call('DEL', 'k' .. (i % 11)) end
  redis.call('HSET', 'h', 'f' .. (i % 30), i)
  redis.call('RPUSH', 'l', i)
  redis.call('LTRIM', 'l', -20, -1)
  if i % 13 == 0 then redis.call('PEXPIRE', 'counter', 100000 + i) end
  redis.call('SADD', 's', i % 40)
  if i % 5 == 0 then redis.call('SREM', 's', (i * 3) % 40) end
end
return 1";

    pub(super) fn mix(iter: usize) -> String {
        MIX.replace("ITER", &iter.to_string())
    }

    #[test]
    fn short_run() {
        let (t, l, k) = run(&[], &mix(3), usize::MAX, &[], &[]);
        stress("short", t, l, k, 100);
    }

    #[test]
    fn last_segment_of_one_step_with_elided_deltas() {
        let (t, l, k) = run(&[], &mix(3000), 2 * SEGMENT, &[], &[]);
        assert_eq!(t.steps.len(), 2 * SEGMENT + 1);
        stress("one-step last segment", t, l, k, 250);
    }

    #[test]
    fn exact_segments() {
        let (t, l, k) = run(&[], &mix(3000), 2 * SEGMENT - 1, &[], &[]);
        assert_eq!(t.steps.len(), 2 * SEGMENT);
        stress("exact", t, l, k, 250);
    }

    #[test]
    fn only_the_last_step_changes() {
        let script = "local x = 0\nfor i = 1, 20000 do\n x = x + 1\nend\nfor i = 1, 3000 do redis.call('SET', 'k' .. (i % 50), i) redis.call('INCR', 'c') end\nreturn 1";
        let (t, l, k) = run(
            &[&["SET", "k3", "before"]],
            script,
            2 * SEGMENT + 10,
            &[],
            &[],
        );
        assert_eq!(
            t.steps
                .iter()
                .filter(|s| matches!(s.kind, StepKind::Call(_)))
                .count(),
            0
        );
        stress("only last", t, l, k, 250);
    }

    #[test]
    fn others_before_and_after() {
        let mut lane: Vec<(When, &[&str])> = Vec::new();
        for _ in 0..5000 {
            lane.push((When::Before, &["INCR", "other"]));
        }
        for _ in 0..5000 {
            lane.push((When::After, &["INCR", "counter"]));
        }
        lane.push((When::After, &["DEL", "h"]));
        let (t, l, k) = run(&[], &mix(700), usize::MAX, &lane, &[]);
        stress("others", t, l, k, 300);
    }

    #[test]
    fn others_after_a_capped_run() {
        let mut lane: Vec<(When, &[&str])> = Vec::new();
        for _ in 0..3000 {
            lane.push((When::After, &["INCR", "counter"]));
        }
        lane.push((When::After, &["DEL", "h"]));
        let (t, l, k) = run(&[], &mix(3000), 2 * SEGMENT - 3, &lane, &[]);
        stress("others after cap", t, l, k, 300);
    }

    #[test]
    fn swapdb_after() {
        let lane: Vec<(When, &[&str])> = vec![
            (When::After, &["SWAPDB", "0", "1"]),
            (When::After, &["INCR", "counter"]),
        ];
        let (t, l, k) = run(
            &[
                &["SELECT", "1"],
                &["SET", "in1", "x"],
                &["SELECT", "0"],
                &["SET", "in0", "y"],
            ],
            &mix(1500),
            usize::MAX,
            &lane,
            &[
                (0, "in0"),
                (1, "in1"),
                (0, "in1"),
                (1, "in0"),
                (1, "counter"),
                (1, "h"),
            ],
        );
        stress("swapdb", t, l, k, 150);
    }

    #[test]
    fn swapdb_in_script() {
        let script = "redis.call('SET', 'a', 1)\nfor i = 1, 2000 do redis.call('INCR', 'a') end\nredis.call('SWAPDB', 0, 1)\nfor i = 1, 2000 do redis.call('INCR', 'a') end\nreturn 1";
        let (t, l, k) = run(
            &[&["SELECT", "1"], &["SET", "in1", "x"], &["SELECT", "0"]],
            script,
            usize::MAX,
            &[],
            &[(0, "in1"), (1, "in1"), (1, "a")],
        );
        stress("swapdb in script", t, l, k, 150);
    }

    #[test]
    fn mixed_checkpoints() {
        let script = mix(1500).replace(
            "end\nreturn 1",
            "  if i == 700 then redis.call('LPUSH', 'big', 'x') end\nend\nreturn 1",
        );
        let (t, l, k) = run(
            &[&[
                "EVAL",
                "for i = 1, 50000 do redis.call('RPUSH', 'big', i) end",
                "0",
            ]],
            &script,
            usize::MAX,
            &[],
            &[],
        );
        stress("mixed", t, l, k, 400);
    }

    #[test]
    fn other_kinds() {
        let script = "
for i = 1, 1200 do
  redis.call('ZADD', 'z', i % 37, 'm' .. (i % 23))
  if i % 3 == 0 then redis.call('ZREM', 'z', 'm' .. (i % 7)) end
  redis.call('XADD', 'st', 'MAXLEN', '5', '*', 'f', i)
  redis.call('SETRANGE', 'sr', i % 17, 'ab')
  redis.call('SETBIT', 'bits', i % 200, i % 2)
  redis.call('LPUSH', 'q', i)
  redis.call('LSET', 'q', 0, 'x' .. i)
  if i % 9 == 0 then redis.call('RENAME', 'q', 'q2') redis.call('RENAME', 'q2', 'q') end
  redis.call('HINCRBY', 'hh', 'c' .. (i % 3), 1)
  if i % 11 == 0 then redis.call('EXPIRE', 'hh', 1000 + i) end
  if i % 17 == 0 then redis.call('PERSIST', 'hh') end
  if i % 50 == 0 then redis.call('DEL', 'z', 'sr') end
end
return 1";
        let (t, l, k) = run(&[], script, usize::MAX, &[], &[]);
        stress("other kinds", t, l, k, 400);
    }

    #[test]
    fn empty_timeline() {
        let t = Timeline {
            name: String::new(),
            command: Vec::new(),
            source: Vec::new(),
            steps: Vec::new(),
            payloads: Default::default(),
            deltas: Changes::default(),
            locals: Default::default(),
            outcome: crate::trace::Outcome {
                status: Status::Ok,
                reply: crate::engine::Reply::Nil,
                error_line: None,
                compile_error: false,
                writes_applied: 0,
                keys_changed: Vec::new(),
                truncated: None,
                trace_bytes: 0,
                final_state: crate::trace::fingerprint(&Keyspace::default(), &[]),
            },
            server: None,
            replica: Vec::new(),
            replica_more: 0,
        };
        let live = Keyspace::default();
        let mut d = Debugger::new(t, &live);
        d.goto(3);
        assert!(d.changes_at(2).is_empty());
        assert!(d.goto_changes(2).is_empty());
        assert!(d.changes().is_empty());
        let _ = d.undoable();
        let mut l = Keyspace::default();
        d.undo_in(&mut l).unwrap();
        assert!(!d.apply(Move::End, &BTreeSet::new()));
    }
}

#[cfg(test)]
mod past_the_cap {
    use super::stress::{snap, Reference};
    use super::*;
    use crate::engine::{Engine, ManualClock};
    use crate::script::{ScriptConfig, Scripting};
    use crate::trace::{record_commands, LaneCommand, Limits};

    /// Past the step cap, another client's write (a lane command at a step)
    /// still has its step, but its change joins the run's unrecorded ones
    /// at the end, in order (it once kept its own, and stepping back undid
    /// the changes out of order).
    #[test]
    fn an_other_step_past_the_cap_keeps_the_changes_in_order() {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        let lane = vec![LaneCommand::parse("step 4: SET a 3").unwrap()];
        let limits = Limits {
            max_steps: 2,
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let timeline = record_commands(
            &mut engine,
            &mut scripting,
            &mut client,
            "SET a 1\nSET a 2\nSET a 4",
            limits,
            &lane,
        );
        let other = timeline
            .steps
            .iter()
            .position(|s| matches!(s.kind, StepKind::Other(_)))
            .unwrap();
        let live = snap(&engine.keyspace);
        let r = Reference::new(&timeline, &live);
        let value = |ks: &Keyspace| match ks.db(0).entry(b"a").map(|e| &e.value) {
            Some(crate::engine::value::Value::String(s)) => {
                String::from_utf8_lossy(&s.to_vec()).into_owned()
            }
            other => format!("{other:?}"),
        };
        // Past the cap the keyspace shows what it held at the cap, then the
        // end; undone, the run leaves `a` absent again.
        assert!(timeline.deltas_of(other).is_empty());
        assert_eq!(value(&r.at(&timeline, other + 1)), "1");
        assert_eq!(value(&r.at(&timeline, timeline.steps.len())), "4");
        assert_eq!(value(&r.at(&timeline, 0)), "None");
    }
}
