//! Clicks and the wheel.

use super::*;

impl App {
    pub(super) fn mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let Some(areas) = self.areas() else {
            return Vec::new();
        };
        // An overlay has the keys: a click under it changes nothing.
        let overlay = self.help
            || !self.asks.is_empty()
            || self.prompt.is_some()
            || self.detail.is_some()
            || self.lesson.as_ref().is_some_and(|l| l.list.is_some())
            || self.probe.is_some();
        if overlay {
            return Vec::new();
        }
        let at = Position::new(mouse.column, mouse.row);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {}
            MouseEventKind::ScrollUp if areas.keyspace.contains(at) => return self.select_key(-3),
            MouseEventKind::ScrollDown if areas.keyspace.contains(at) => return self.select_key(3),
            _ => return Vec::new(),
        }
        let inner_row = |r: Rect| (mouse.row as i32 - r.y as i32 - 1).max(0) as usize;
        if areas.editor.contains(at) {
            self.focus = Focus::Editor;
            let buffer = &mut self.buffers[self.active];
            let row = buffer.top + inner_row(areas.editor);
            let screen_col =
                (mouse.column as i32 - areas.editor.x as i32 - 1 - layout::GUTTER as i32).max(0)
                    as usize
                    + buffer.left;
            // The character under the click (a tab spans several columns).
            let line = buffer
                .area
                .lines()
                .get(row)
                .or(buffer.area.lines().last())
                .cloned()
                .unwrap_or_default();
            let col = (0..=line.chars().count())
                .take_while(|&i| crate::tui::ui::display_column(&line, i) <= screen_col)
                .last()
                .unwrap_or(0);
            buffer.area.move_cursor(CursorMove::Jump(
                row.min(u16::MAX as usize) as u16,
                col.min(u16::MAX as usize) as u16,
            ));
        } else if areas.keyspace.contains(at) {
            self.focus = Focus::Keyspace;
            // Row 0 of the pane's inside is the column header.
            let row = inner_row(areas.keyspace);
            if row >= 1 {
                let run_keys = self.session.as_ref().map_or(0, |s| s.shown_count());
                let line = row - 1;
                let index = if line < run_keys {
                    line
                } else {
                    line + self.key_offset
                };
                if line < self.key_lines().len() {
                    self.key_selected = index;
                }
            }
        } else if areas.debugger.contains(at) {
            self.focus = Focus::Debugger;
            let row = inner_row(areas.debugger);
            if let Some(session) = &mut self.session {
                let rows = session.rows().len();
                let first = layout::timeline_window(
                    rows,
                    session.current_row(),
                    layout::timeline_height(areas.debugger, rows),
                )
                .0;
                if row >= 1 {
                    if let Some(&step) = session.rows().get(first + row - 1) {
                        session.goto(step);
                    }
                }
            }
        } else if !areas.shared() && areas.lesson.contains(at) {
            self.set_focus(Focus::Lesson);
        } else if areas.cli.contains(at) {
            self.set_focus(if areas.shared() && self.lesson_shown() {
                Focus::Lesson
            } else {
                Focus::Cli
            });
        }
        Vec::new()
    }
}
