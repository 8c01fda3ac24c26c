//! The editor pane: text edits, indent and dedent, pastes, and what an edit
//! changes elsewhere (breakpoints, the run's view, the workspace).

use super::*;

pub struct Buffer {
    pub name: String,
    pub path: Option<PathBuf>,
    pub area: TextArea<'static>,
    /// What Ctrl+Z goes back to (the text area keeps no history of its own).
    history: History,
    pub args: String,
    pub breakpoints: BTreeSet<u32>,
    /// First visible line and column.
    pub top: usize,
    pub left: usize,
    /// A hash of the file's content when it was last read or written (None:
    /// no file yet, or not known), to notice changes made by other programs.
    pub disk: Option<String>,
}

/// What an edit is, for the undo history: typing and deleting run on as one
/// step, anything else (a paste, a cut, an indent of many lines, a reload)
/// is a step of its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Edit {
    /// A character typed (Enter types '\n', Tab a '\t').
    Type(char),
    /// Backspace or Delete (Ctrl+H, Ctrl+D).
    Delete,
    /// A key that moves the cursor and never edits (arrows, Home, End,
    /// PgUp, PgDn): it ends the step, and no copy of the text is made.
    Move,
    Other,
}

/// The text before each step of edits, as editors group them: the
/// characters typed a word at a time (a step ends where a space or a
/// newline follows a word), a run of deletes, each other edit on its own;
/// moving the cursor or selecting ends a step. A step is a copy of the
/// text: scripts are small, and the copies are bounded.
#[derive(Default)]
struct History {
    undo: VecDeque<Snapshot>,
    redo: Vec<Snapshot>,
    /// The bytes of text the undo steps hold.
    bytes: usize,
    /// The step the next edit may join.
    open: Option<Open>,
}

/// Steps kept, at most, and the text they may hold: past either, the
/// oldest go.
const UNDO_STEPS: usize = 1000;
const UNDO_BYTES: usize = 32 << 20;

struct Snapshot {
    lines: Vec<String>,
    cursor: (usize, usize),
}

impl Snapshot {
    fn of(area: &TextArea<'static>) -> Snapshot {
        Snapshot {
            lines: area.lines().to_vec(),
            cursor: cursor_of(area),
        }
    }

    fn bytes(&self) -> usize {
        self.lines.iter().map(|l| l.len() + 1).sum()
    }
}

/// The step being typed or deleted: where its last edit left the cursor.
struct Open {
    deleting: bool,
    cursor: (usize, usize),
    /// The last character typed ended a word (was not white space).
    in_word: bool,
}

impl History {
    /// Whether `edit`, made at `cursor`, joins the open step.
    fn joins(&self, edit: Edit, cursor: (usize, usize), selecting: bool) -> bool {
        let Some(open) = self
            .open
            .as_ref()
            .filter(|o| o.cursor == cursor && !selecting)
        else {
            return false;
        };
        match edit {
            Edit::Type(c) => {
                // A space or a newline after a word starts a step.
                let ends_word = open.in_word && c.is_whitespace();
                !open.deleting && !ends_word
            }
            Edit::Delete => open.deleting,
            Edit::Move | Edit::Other => false,
        }
    }

    /// A new undo step: the text before it. Redo is gone (it would
    /// redo edits made on another text).
    fn push(&mut self, before: Snapshot) {
        self.bytes += before.bytes();
        self.undo.push_back(before);
        while self.undo.len() > UNDO_STEPS || (self.bytes > UNDO_BYTES && self.undo.len() > 1) {
            if let Some(old) = self.undo.pop_front() {
                self.bytes -= old.bytes();
            }
        }
        self.redo.clear();
    }

    fn pop(&mut self) -> Option<Snapshot> {
        let step = self.undo.pop_back()?;
        self.bytes -= step.bytes();
        Some(step)
    }
}

impl Buffer {
    pub(super) fn new(spec: BufferSpec, breakpoints: Vec<u32>, disk: Option<String>) -> Buffer {
        Buffer {
            area: text_area(&spec.text),
            history: History::default(),
            name: spec.name,
            path: spec.path,
            args: spec.args,
            breakpoints: breakpoints.into_iter().collect(),
            top: 0,
            left: 0,
            disk,
        }
    }

    /// Makes an edit (`edit` says whether the text changed) and keeps what
    /// undoes it: the text before, unless the edit joins the open step.
    pub(super) fn edit(
        &mut self,
        kind: Edit,
        edit: impl FnOnce(&mut TextArea<'static>) -> bool,
    ) -> bool {
        let selecting = self.area.selection_range().is_some();
        let joins = self.history.joins(kind, cursor_of(&self.area), selecting);
        let before = (!joins && kind != Edit::Move).then(|| Snapshot::of(&self.area));
        if !edit(&mut self.area) {
            // A key that changed nothing (a move) ends the step.
            self.history.open = None;
            return false;
        }
        if let Some(before) = before {
            self.history.push(before);
        }
        let cursor = cursor_of(&self.area);
        self.history.open = match kind {
            Edit::Type(c) => Some(Open {
                deleting: false,
                cursor,
                in_word: !c.is_whitespace(),
            }),
            Edit::Delete => Some(Open {
                deleting: true,
                cursor,
                in_word: false,
            }),
            Edit::Move | Edit::Other => None,
        };
        true
    }

    /// Ends the step being typed: the text as it is now is one Ctrl+Z
    /// can come back to (a run's text, a save's).
    pub(super) fn end_step(&mut self) {
        self.history.open = None;
    }

    /// Replaces the whole text (a reload from its file): one step, which
    /// Ctrl+Z undoes.
    pub(super) fn replace_text(&mut self, text: &str) {
        self.history.open = None;
        self.history.push(Snapshot::of(&self.area));
        self.set_lines(lines_of(text));
    }

    /// Ctrl+Z: back to the text before the last step.
    pub(super) fn undo(&mut self) -> bool {
        let Some(step) = self.history.pop() else {
            return false;
        };
        let now = self.restore(step);
        self.history.redo.push(now);
        true
    }

    /// Ctrl+Y: the last step undone, again.
    pub(super) fn redo(&mut self) -> bool {
        let Some(step) = self.history.redo.pop() else {
            return false;
        };
        let now = self.restore(step);
        self.history.bytes += now.bytes();
        self.history.undo.push_back(now);
        true
    }

    /// Puts a step's text and cursor back; the text it replaced.
    fn restore(&mut self, step: Snapshot) -> Snapshot {
        self.history.open = None;
        let now = Snapshot::of(&self.area);
        self.set_lines(step.lines);
        let (row, col) = step.cursor;
        self.area.move_cursor(CursorMove::Jump(
            row.min(u16::MAX as usize) as u16,
            col.min(u16::MAX as usize) as u16,
        ));
        now
    }

    /// The whole text changes (undo, redo, a reload): breakpoints stay on
    /// the lines that stayed, those below move with them, and one on a
    /// line that went goes.
    fn set_lines(&mut self, lines: Vec<String>) {
        self.breakpoints = moved_breakpoints(&self.breakpoints, self.area.lines(), &lines);
        let yank = self.area.yank_text();
        self.area = area_of(lines);
        self.area.set_yank_text(yank);
    }

    /// Holds edits its file does not have (only a buffer with a file can).
    pub fn modified(&self) -> bool {
        self.path.is_some() && self.disk.as_deref() != Some(self.hash().as_str())
    }

    /// [`disk_hash`] of the text as its file holds it: hashed in its
    /// editor form, a last blank line would be lost (`lines()` drops it)
    /// and a file ending with one would read as changed.
    pub(crate) fn hash(&self) -> String {
        disk_hash(&self.file_text())
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// What a run sends and a save writes: the text with a final newline,
    /// as editors save files (so the SHA1 is the one `redis-cli --eval
    /// FILE` gives for the saved file).
    pub(crate) fn file_text(&self) -> String {
        self.text() + "\n"
    }

    pub(super) fn spec(&self) -> BufferSpec {
        BufferSpec {
            name: self.name.clone(),
            path: self.path.clone(),
            // As its file holds it: a last blank line survives the
            // workspace (`text_area` reads lines, dropping one newline).
            text: self.file_text(),
            args: self.args.clone(),
        }
    }
}

/// Where a text area's cursor is: line and column (in characters), from 0.
fn cursor_of(area: &TextArea<'static>) -> (usize, usize) {
    let cursor = area.cursor();
    (cursor.0, cursor.1)
}

/// A text area holding `text`, with redstep's settings.
pub(super) fn text_area(text: &str) -> TextArea<'static> {
    area_of(lines_of(text))
}

fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// Breakpoints (lines from 1) of `old` text, on `new`: the lines both
/// start and end with keep theirs (those at the end moved by the change
/// in length); in the lines between, a breakpoint stays while its line
/// number is still there.
fn moved_breakpoints(breakpoints: &BTreeSet<u32>, old: &[String], new: &[String]) -> BTreeSet<u32> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let room = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    breakpoints
        .iter()
        .filter_map(|&line| {
            let i = (line as usize).checked_sub(1)?;
            let moved = if i < prefix {
                i
            } else if i >= old.len() {
                return None;
            } else if i >= old.len() - suffix {
                i + new.len() - old.len()
            } else if i < new.len() - suffix {
                i
            } else {
                return None; // its line went
            };
            Some(moved as u32 + 1)
        })
        .collect()
}

/// A text area holding `lines`; its own undo history is off (the buffer's
/// [`History`] groups edits as editors do).
fn area_of(lines: Vec<String>) -> TextArea<'static> {
    let mut area = TextArea::new(if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    });
    area.set_max_histories(0);
    area
}

/// The buffers to open: the saved ones if any, else the opening's (a file
/// just read is known to be on disk as it is).
pub(super) fn buffers_of(opening: &Opening, saved: Option<Saved>) -> (Vec<Buffer>, usize) {
    match saved {
        Some(saved) => (
            saved
                .buffers
                .into_iter()
                .map(|b| Buffer::new(b.spec, b.breakpoints, b.disk))
                .collect(),
            saved.active,
        ),
        None => (
            opening
                .buffers
                .iter()
                .cloned()
                .map(|spec| {
                    let disk = spec.path.as_ref().map(|_| disk_hash(&spec.text));
                    Buffer::new(spec, Vec::new(), disk)
                })
                .collect(),
            opening.active,
        ),
    }
}

impl App {
    pub(super) fn focus_pane(&mut self, pane: Focus) -> Vec<Effect> {
        self.set_focus(pane);
        Vec::new()
    }

    /// Tab / Shift+Tab in the editor: indent or dedent the cursor's line, or
    /// every line the selection touches (a Tab without a selection across
    /// lines inserts spaces to the next tab stop, as editors do).
    pub(super) fn indent(&mut self, more: bool) {
        let buffer = &mut self.buffers[self.active];
        let selection = buffer.area.selection_range();
        if more && selection.is_none() {
            if buffer.edit(Edit::Type('\t'), |area| area.insert_tab()) {
                self.edited();
            }
            return;
        }
        // Every line's indent is one undo step.
        let changed = buffer.edit(Edit::Other, |area| {
            let (first, last) = match selection {
                Some(((r0, _), (r1, c1))) => (r0, if c1 == 0 && r1 > r0 { r1 - 1 } else { r1 }),
                None => (area.cursor().0, area.cursor().0),
            };
            let unit = area.indent().to_string();
            let (row, col) = (area.cursor().0, area.cursor().1);
            area.cancel_selection();
            let mut changed = false;
            let mut shift_cursor: isize = 0;
            for r in first..=last {
                area.move_cursor(CursorMove::Jump(r as u16, 0));
                if more {
                    if !area.lines()[r].is_empty() {
                        changed |= area.insert_str(&unit);
                        if r == row {
                            shift_cursor = unit.chars().count() as isize;
                        }
                    }
                } else {
                    let line = &area.lines()[r];
                    let n = if line.starts_with('\t') {
                        1
                    } else {
                        line.chars()
                            .take(unit.chars().count().max(1))
                            .take_while(|c| *c == ' ')
                            .count()
                    };
                    if n > 0 && area.delete_str(n) {
                        changed = true;
                        if r == row {
                            shift_cursor = -(n as isize);
                        }
                    }
                }
            }
            let col = (col as isize + shift_cursor).max(0) as usize;
            if selection.is_some() {
                // Keep the lines selected, so Tab again indents them again.
                area.move_cursor(CursorMove::Jump(first as u16, 0));
                area.start_selection();
                let end = area.lines()[last].chars().count();
                area.move_cursor(CursorMove::Jump(last as u16, end as u16));
            } else {
                area.move_cursor(CursorMove::Jump(row as u16, col as u16));
            }
            changed
        });
        if changed {
            self.edited();
        }
    }

    /// Pasted text: one edit in a text field, never keys.
    pub(super) fn paste(&mut self, text: String) -> Vec<Effect> {
        // Terminals send Enter as \r in a paste.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if let Some(prompt) = &mut self.prompt {
            prompt.input.push_str(&text.replace('\n', " "));
            return Vec::new();
        }
        if !self.asks.is_empty() {
            self.warn("nothing pasted: answer the question first");
            return Vec::new();
        }
        if self.help {
            self.warn("nothing pasted: close the help first");
            return Vec::new();
        }
        match self.focus {
            Focus::Editor => {
                self.edit_text(Edit::Other, |area| area.insert_str(&text));
            }
            Focus::Cli => self.cli_input.push_str(&text.replace('\n', " ")),
            _ => {
                self.warn(format!(
                    "nothing pasted: the {} is not a text field ({}: the editor)",
                    self.focus.context().name(),
                    self.key_for(Command::FocusEditor)
                ));
            }
        }
        Vec::new()
    }

    /// The buffers changed: save them to the workspace soon.
    pub(super) fn touch(&mut self) {
        let now = self.now();
        self.dirty_since.get_or_insert(now);
    }

    /// The active buffer's text changed: a run of it is usable only while
    /// the buffer holds the text it ran (Ctrl+Z back to it restores it).
    pub(super) fn edited(&mut self) {
        self.lesson_started();
        let active = self.active;
        let runs = self.session.as_ref().map(|s| s.buffer) == Some(active)
            || self.running.as_ref().map(|r| r.buffer) == Some(active);
        if runs {
            let now = self.buffers[active].hash();
            if let Some(session) = self.session.as_mut().filter(|s| s.buffer == active) {
                session.edited = now != session.ran;
            }
            if let Some(running) = self.running.as_mut().filter(|r| r.buffer == active) {
                running.edited = now != running.ran;
            }
        }
        self.touch();
    }

    pub(super) fn editor_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Keys the text area would take for its own shortcuts but that a
        // beginner expects elsewhere are already bound in the key map.
        // A newline a terminal sends outside a bracketed paste (a terminal
        // without it, `tmux send-keys`) arrives as Ctrl+J, which the text
        // area takes for "delete to the start of the line": each pasted
        // line would delete the one before. It is a newline here.
        let key = if key.code == KeyCode::Char('j') && key.modifiers == KeyModifiers::CONTROL {
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
        } else {
            key
        };
        // The text area's own undo and redo keys (Ctrl+U, Ctrl+R) go
        // through the buffer's history: the text area keeps none.
        if key.modifiers == KeyModifiers::CONTROL {
            match key.code {
                KeyCode::Char('u') => return self.command(Command::Undo),
                KeyCode::Char('r') => return self.command(Command::Redo),
                _ => {}
            }
        }
        let kind = match key.code {
            KeyCode::Up
            | KeyCode::Down
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::PageUp
            | KeyCode::PageDown => Edit::Move,
            KeyCode::Char('h' | 'd') if key.modifiers == KeyModifiers::CONTROL => Edit::Delete,
            _ if key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Edit::Other
            }
            KeyCode::Char(c) => Edit::Type(c),
            KeyCode::Enter => Edit::Type('\n'),
            KeyCode::Backspace | KeyCode::Delete => Edit::Delete,
            _ => Edit::Other,
        };
        self.edit_text(kind, |area| area.input(key));
        Vec::new()
    }

    /// An edit of the active buffer's text; breakpoints below it move with
    /// their lines, and one on a line the edit removed goes.
    pub(super) fn edit_text(
        &mut self,
        kind: Edit,
        edit: impl FnOnce(&mut TextArea<'static>) -> bool,
    ) -> bool {
        let buffer = &mut self.buffers[self.active];
        let (row, col) = cursor_of(&buffer.area);
        let top = buffer
            .area
            .selection_range()
            .map_or(row, |((r, _), _)| r.min(row));
        let lines = buffer.area.lines().len();
        if !buffer.edit(kind, edit) {
            return false;
        }
        let after = buffer.area.lines().len();
        let start = top.min(buffer.area.cursor().0) as i64 + 1; // the first line touched, from 1
        let delta = after as i64 - lines as i64;
        // Text inserted at the very start of a line pushes that line down.
        let pushed = delta > 0 && row as i64 + 1 == start && col == 0;
        buffer.breakpoints = buffer
            .breakpoints
            .iter()
            .filter_map(|&l| {
                let l = l as i64;
                let moved = if l < start || (l == start && !pushed) {
                    l
                } else if delta < 0 && l <= start - delta {
                    return None; // its line was removed or joined to the one above
                } else {
                    l + delta
                };
                (moved >= 1 && moved <= after as i64).then_some(moved as u32)
            })
            .collect();
        self.edited();
        true
    }

    /// Scrolls the active buffer so the cursor is in view, or, with a run
    /// shown and the focus elsewhere, the run's line.
    pub(super) fn follow_cursor(&mut self) {
        let Some(areas) = self.areas() else { return };
        let height = areas.editor.height.saturating_sub(2) as usize;
        let width = areas.editor.width.saturating_sub(2 + layout::GUTTER) as usize;
        let run_line = self
            .session
            .as_ref()
            .filter(|s| s.buffer == self.active && !s.edited && self.focus != Focus::Editor)
            .map(|s| (s.debugger().view().line as usize).saturating_sub(1));
        let buffer = &mut self.buffers[self.active];
        let row = buffer.area.cursor().0;
        let col = crate::tui::ui::display_column(&buffer.area.lines()[row], buffer.area.cursor().1);
        let follow = run_line.unwrap_or(row);
        // No room left empty below the text's last line (a long text
        // replaced by a short one kept its scroll, its first lines hidden),
        // nor a column scrolled off that the width now shows.
        buffer.top = buffer
            .top
            .min(buffer.area.lines().len().saturating_sub(height));
        if width > 0 && col < width {
            buffer.left = 0;
        }
        if follow < buffer.top {
            buffer.top = follow;
        } else if height > 0 && follow >= buffer.top + height {
            buffer.top = follow + 1 - height;
        }
        if col < buffer.left {
            buffer.left = col;
        } else if width > 0 && col >= buffer.left + width {
            buffer.left = col + 1 - width;
        }
    }
}
