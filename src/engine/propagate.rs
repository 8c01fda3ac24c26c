//! What replicas and the AOF receive (Redis 7.0's propagation): a command
//! that changed the dataset is propagated as it was called, or rewritten
//! (EXPIRE as PEXPIREAT, SPOP as SREM, ...); a key deleted because it
//! expired is propagated as DEL before the command that found it; what a
//! script or a transaction propagated goes out as one `MULTI` ... `EXEC`
//! when there is more than one command (a script never goes out as EVAL);
//! a SELECT goes before a command for another database than the last.
//!
//! Nothing is recorded unless `on` is set (a traced run, a test): then
//! `stream` grows with every command until it is taken.

use super::Bytes;

#[derive(Default)]
pub struct Propagation {
    /// Record what is propagated.
    pub on: bool,
    /// Redis's `server.also_propagate` for the command running now.
    pending: Vec<(usize, Vec<Bytes>)>,
    /// What the running command asked for: its argv rewritten, no
    /// propagation of its own, or propagation even if nothing changed.
    rewrite: Option<Vec<Bytes>>,
    prevent: bool,
    force: bool,
    /// Nested calls (a script's commands, EXEC's) under the top level.
    depth: usize,
    /// Set by a script under `redis.set_repl(redis.REPL_NONE)` (or
    /// `REPL_AOF`, with no AOF on the primary) while one of its commands
    /// runs: the command does not propagate itself.
    pub muted: bool,
    /// The stream replicas receive, SELECTs included, until taken.
    stream: Vec<Vec<Bytes>>,
    /// The database the stream last selected.
    selected: Option<usize>,
    /// At most this many commands are kept pending (a traced run of a
    /// million writes keeps its memory bounded); the others are counted.
    pub cap: Option<usize>,
    /// Commands left out because of `cap` since the last take.
    pub dropped: usize,
}

/// A running command's propagation state, put back when it ends.
pub(crate) struct Saved {
    rewrite: Option<Vec<Bytes>>,
    prevent: bool,
    force: bool,
    dirty_before: u64,
}

impl Propagation {
    /// A command starts (`changes`: the keyspace's change counter).
    #[inline]
    pub(crate) fn enter(&mut self, changes: u64) -> Saved {
        self.depth += 1;
        Saved {
            rewrite: self.rewrite.take(),
            prevent: std::mem::take(&mut self.prevent),
            force: std::mem::take(&mut self.force),
            dirty_before: changes,
        }
    }

    /// The command ended: Redis's `call()` propagates it (as rewritten) if
    /// it changed something or forced it, unless it prevented it; at the
    /// top level the pending commands go out.
    #[inline]
    pub(crate) fn leave(
        &mut self,
        saved: Saved,
        changes: u64,
        db: usize,
        argv: &[Bytes],
        itself: bool,
    ) {
        let dirty = changes != saved.dirty_before;
        if itself && !self.prevent && !self.muted && (dirty || self.force) {
            if self.full() {
                // Counted, not copied: a long script's millionth write.
                self.dropped += 1;
            } else {
                let argv = self.rewrite.take().unwrap_or_else(|| argv.to_vec());
                self.push(db, argv);
            }
        }
        self.rewrite = saved.rewrite;
        self.prevent = saved.prevent;
        self.force = saved.force;
        self.depth -= 1;
        if self.depth == 0 {
            self.flush(true);
        }
    }

    /// Redis's `alsoPropagate`: one more command after what is pending.
    pub(crate) fn also(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.on {
            self.push(db, argv);
        }
    }

    /// Whether the cap is reached (what comes now is only counted).
    fn full(&self) -> bool {
        self.cap.is_some_and(|cap| self.pending.len() >= cap)
    }

    fn push(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.full() {
            self.dropped += 1;
        } else {
            self.pending.push((db, argv));
        }
    }

    /// Whether a rewrite given now can go out: not when propagation is off,
    /// muted or prevented, nor past the cap (a command is only counted
    /// there), so a command need not build one.
    pub(crate) fn takes_rewrite(&self) -> bool {
        self.on && !self.muted && !self.prevent && !self.full()
    }

    /// The running command is propagated as `argv` instead.
    pub(crate) fn rewrite(&mut self, argv: Vec<Bytes>) {
        if self.on {
            self.rewrite = Some(argv);
        }
    }

    /// The running command propagates nothing of its own (Redis's
    /// preventCommandPropagation, or a write whose changes Redis does not
    /// count as dirty).
    pub(crate) fn prevent(&mut self) {
        self.prevent = true;
    }

    /// The running command propagates even if it changed nothing.
    pub fn force(&mut self) {
        self.force = true;
    }

    /// Redis's `propagatePendingCommands`: more than one command goes out
    /// as a transaction (unless `wrap` is false, as for active expiry).
    pub(crate) fn flush(&mut self, wrap: bool) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let transaction = wrap && pending.len() + self.dropped > 1;
        if transaction {
            self.emit(pending[0].0, vec![b"MULTI".to_vec()]);
        }
        let last = pending[pending.len() - 1].0;
        for (db, argv) in pending {
            self.emit(db, argv);
        }
        if transaction {
            self.emit(last, vec![b"EXEC".to_vec()]);
        }
    }

    fn emit(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.selected != Some(db) {
            self.stream
                .push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
            self.selected = Some(db);
        }
        self.stream.push(argv);
    }

    /// What was propagated since the last take.
    pub fn take(&mut self) -> Vec<Vec<Bytes>> {
        std::mem::take(&mut self.stream)
    }

    /// The stream starts over as a new replica's would: its first command
    /// is preceded by a SELECT.
    pub fn reset(&mut self) {
        self.stream.clear();
        self.selected = None;
    }

    /// Makes the stream's database known (a replica that already selected
    /// `db`).
    pub fn assume_selected(&mut self, db: usize) {
        self.selected = Some(db);
    }
}
