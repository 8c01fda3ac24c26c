//! Where each pane goes. One function decides it, for drawing and for
//! mouse clicks alike.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::Focus;

pub(crate) const MIN_WIDTH: u16 = 80;
pub(crate) const MIN_HEIGHT: u16 = 24;
/// Breakpoint, mark, four digits and a space.
pub(crate) const GUTTER: u16 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Areas {
    pub editor: Rect,
    pub keyspace: Rect,
    pub debugger: Rect,
    pub cli: Rect,
    /// Where the lesson goes: the redis-cli's place (the two share it, as
    /// tabs) unless the screen is wide enough for both side by side.
    pub lesson: Rect,
    pub status: Rect,
    /// Presenter mode: the step counter and the keys pressed (one line on top).
    pub banner: Rect,
}

/// From this width on, the lesson and the redis-cli sit side by side.
pub(crate) const SIDE_BY_SIDE: u16 = 150;

/// Presenter mode's layout inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Present {
    /// The pane that takes the keys.
    pub focus: Focus,
    /// The script's lines.
    pub script_rows: u16,
}

/// The panes for a screen of this size; None below 80×24. With `zoom`, that
/// pane fills the screen above the status line and the others get no room.
/// With `present` (presenter mode), the script and the keys on top (two
/// fifths of the screen, more for a long script, at most half), the rest
/// for the debugger,
/// or for the lesson or the redis-cli while one of them takes the keys: the
/// pane that takes the keys is always on screen.
pub(crate) fn areas(
    size: Rect,
    with_lesson: bool,
    zoom: Option<Focus>,
    present: Option<Present>,
) -> Option<Areas> {
    if size.width < MIN_WIDTH || size.height < MIN_HEIGHT {
        return None;
    }
    if let Some(present) = present {
        // For a room: the script and the keys large, the current call
        // with its whole outcome below, one line for the step and the
        // keys pressed, the status.
        let body = size.height - 2;
        let top = present
            .script_rows
            .saturating_add(3)
            .max(body * 2 / 5)
            .clamp(8, body / 2);
        let [banner, top, bottom, status] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(top),
            Constraint::Min(8),
            Constraint::Length(1),
        ])
        .areas(size);
        let [editor, keyspace] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(top);
        let mut areas = Areas {
            editor,
            keyspace,
            debugger: Rect::default(),
            cli: Rect::default(),
            lesson: Rect::default(),
            status,
            banner,
        };
        match present.focus {
            Focus::Lesson => areas.lesson = bottom,
            Focus::Cli => areas.cli = bottom,
            _ => areas.debugger = bottom,
        }
        return Some(areas);
    }
    let [top, bottom, status] = Layout::vertical([
        Constraint::Percentage(50),
        Constraint::Min(10),
        Constraint::Length(1),
    ])
    .areas(size);
    if let Some(pane) = zoom {
        let body = top.union(bottom);
        let mut areas = Areas {
            editor: Rect::default(),
            keyspace: Rect::default(),
            debugger: Rect::default(),
            cli: Rect::default(),
            lesson: Rect::default(),
            status,
            banner: Rect::default(),
        };
        match pane {
            Focus::Editor => areas.editor = body,
            Focus::Keyspace => areas.keyspace = body,
            Focus::Debugger => areas.debugger = body,
            Focus::Lesson => areas.lesson = body,
            Focus::Cli => areas.cli = body,
        }
        return Some(areas);
    }
    let [editor, keyspace] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let (debugger, lesson, cli) = if with_lesson && size.width >= SIDE_BY_SIDE {
        let [debugger, lesson, cli] = Layout::horizontal([
            Constraint::Percentage(44),
            Constraint::Percentage(30),
            Constraint::Percentage(26),
        ])
        .areas(bottom);
        (debugger, lesson, cli)
    } else {
        let [debugger, cli] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                .areas(bottom);
        (debugger, cli, cli)
    };
    Some(Areas {
        editor,
        keyspace,
        debugger,
        cli,
        lesson,
        status,
        banner: Rect::default(),
    })
}

impl Areas {
    /// Whether the lesson and the redis-cli share one place (as tabs).
    pub(crate) fn shared(&self) -> bool {
        self.lesson == self.cli
    }
}

/// The debugger pane's inside: a header line, the timeline, then the
/// step's changes, the outcome and the locals.
pub(crate) fn debugger_parts(debugger: Rect, rows: usize) -> [Rect; 3] {
    let inner = Rect {
        x: debugger.x + 1,
        y: debugger.y + 1,
        width: debugger.width.saturating_sub(2),
        height: debugger.height.saturating_sub(2),
    };
    let timeline = timeline_height(debugger, rows) as u16;
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(timeline),
        Constraint::Min(0),
    ])
    .areas(inner)
}

/// Rows for timeline entries: as many as there are, up to half the pane.
pub(crate) fn timeline_height(debugger: Rect, rows: usize) -> usize {
    let inside = debugger.height.saturating_sub(3) as usize;
    rows.max(1).min(inside.div_ceil(2))
}

/// The first and one-past-last timeline rows to show so that `current` is
/// visible, a little above the middle.
pub(crate) fn timeline_window(
    total: usize,
    current: Option<usize>,
    height: usize,
) -> (usize, usize) {
    if height == 0 || total == 0 {
        return (0, 0);
    }
    let current = current.unwrap_or(0);
    let first = current
        .saturating_sub(height / 3)
        .min(total.saturating_sub(height));
    (first, (first + height).min(total))
}
