//! The keyspace pane: the run's keys at the cursor, then a page of live keys.

use super::*;

#[derive(Clone, Debug)]
pub struct KeyLine {
    pub db: usize,
    pub key: Vec<u8>,
    pub kind: String,
    pub ttl_ms: Option<i64>,
    pub value: String,
    /// The value before this step, for keys changed now.
    pub before: Option<String>,
    pub mark: KeyMark,
    pub gone: bool,
    /// Changed before a failure: it keeps what the run wrote.
    pub stayed: bool,
}

pub(super) fn entry_value(entry: Option<&Entry>, look: Look) -> String {
    match entry {
        Some(e) => words::short(e, look, 200),
        None => "(absent)".into(),
    }
}

pub fn display_key(key: &[u8]) -> String {
    export::word(key)
}

impl App {
    /// Rows of the keyspace pane the screen has room for.
    pub(crate) fn key_rows(&self) -> usize {
        self.areas()
            .map(|a| a.keyspace.height.saturating_sub(3) as usize)
            .unwrap_or(10)
            .max(1)
    }

    pub(crate) fn refresh_keys(&self) -> Effect {
        // The run's keys are left out of the live rows: fetch enough for a
        // screen whatever the run's size.
        let changed = self.session.as_ref().map_or(0, |s| s.shown_count());
        Effect::Request(RequestKind::Keys {
            pattern: self.filter.clone().into_bytes(),
            offset: self.key_offset,
            count: self.key_rows() + changed.min(self.key_rows()),
        })
    }

    /// The rows the keyspace pane shows: the run's keys as they are at the
    /// cursor (as many as the pane has rows), then the live page (without
    /// the run's keys). Costs a screen of keys, whatever the run's size.
    pub(crate) fn key_lines(&self) -> Vec<KeyLine> {
        let mut lines = Vec::new();
        if let Some(session) = &self.session {
            for k in session.shown_keys(0, self.key_rows()) {
                lines.push(KeyLine {
                    db: k.db,
                    key: k.key.to_vec(),
                    kind: k
                        .entry
                        .map(|e| e.value.kind().name().to_string())
                        .unwrap_or_else(|| "none".into()),
                    ttl_ms: None,
                    // A stream, bitmap, HyperLogLog or geo set changed now
                    // reads as what the step did to it; other values as before → after.
                    value: k
                        .before
                        .filter(|_| k.entry.is_some())
                        .and_then(|b| words::told(b, k.entry, k.look))
                        .unwrap_or_else(|| entry_value(k.entry, k.look)),
                    before: k
                        .before
                        .filter(|b| k.entry.is_none() || words::told(*b, k.entry, k.look).is_none())
                        .map(|b| entry_value(b, k.look)),
                    mark: k.mark,
                    gone: k.gone,
                    stayed: k.stayed,
                });
            }
        }
        for row in &self.keys.rows {
            if self
                .session
                .as_ref()
                .is_some_and(|s| s.is_touched(self.keys.db, &row.key))
            {
                continue;
            }
            lines.push(KeyLine {
                db: self.keys.db,
                key: row.key.clone(),
                kind: row.kind.to_string(),
                ttl_ms: row.ttl_ms,
                value: row.summary.clone(),
                before: None,
                mark: KeyMark::Untouched,
                gone: false,
                stayed: false,
            });
        }
        lines
    }

    pub(super) fn select_key(&mut self, by: isize) -> Vec<Effect> {
        let run_keys = self.session.as_ref().map_or(0, |s| s.shown_count());
        let total = run_keys + self.keys.total;
        if total == 0 {
            return Vec::new();
        }
        let target = (self.key_selected as isize + by).clamp(0, total as isize - 1) as usize;
        self.key_selected = target;
        // Keep the selection on screen: live keys are fetched a page at a time.
        let rows = self.key_rows().saturating_sub(run_keys).max(1);
        let live = target.saturating_sub(run_keys);
        let old = self.key_offset;
        if target >= run_keys {
            if live < self.key_offset {
                self.key_offset = live;
            } else if live >= self.key_offset + rows {
                self.key_offset = live + 1 - rows;
            }
        }
        if self.key_offset != old {
            vec![self.refresh_keys()]
        } else {
            Vec::new()
        }
    }

    /// The run's keys are filtered as the live ones are (the filter was
    /// typed, or a run came back).
    pub(super) fn filter_run_keys(&mut self) {
        let pattern = self.filter.clone().into_bytes();
        if let Some(session) = &mut self.session {
            session.filter_keys(&pattern);
        }
    }

    /// The selected row's index among [`App::key_lines`].
    pub(crate) fn selected_line(&self) -> usize {
        let run_keys = self.session.as_ref().map_or(0, |s| s.shown_count());
        if self.key_selected < run_keys {
            self.key_selected
        } else {
            run_keys + self.key_selected - run_keys - self.key_offset
        }
    }

    pub(super) fn detail_of_selected(&mut self) -> Vec<Effect> {
        if let Some(k) = self
            .session
            .as_ref()
            .and_then(|s| s.shown_key(self.key_selected))
        {
            self.detail = Some((display_key(k.key), export::entry_text(k.entry)));
            return Vec::new();
        }
        let lines = self.key_lines();
        let Some(line) = lines.get(self.selected_line()) else {
            return Vec::new();
        };
        vec![Effect::Request(RequestKind::Key(line.key.clone()))]
    }
}
