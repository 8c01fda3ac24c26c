//! Drawing: the model as it is, on a ratatui frame. Only what is visible is
//! built (the keyspace pane asks the engine for one page; the timeline
//! shows a window around the cursor).

use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::trace::{self, export, Event, Status, StepKind};

use super::app::{display_key, App, Ask, Focus, KeyMark};
use super::highlight::{self, Class};
use super::keymap::{self, Context};
use super::layout::{self, Areas, GUTTER};
use super::lesson::Mark;
use super::markdown;
use super::theme::Theme;

pub fn draw(frame: &mut Frame, app: &App) {
    let size = frame.area();
    let Some(areas) = app.areas() else {
        too_small(frame, size, &app.theme, app.asks.front());
        return;
    };
    editor(frame, app, &areas);
    keyspace(frame, app, areas.keyspace);
    debugger(frame, app, areas.debugger);
    if !areas.shared() {
        lesson_pane(frame, app, areas.lesson, false);
        cli(frame, app, areas.cli, false);
    } else if app.lesson_shown() {
        lesson_pane(frame, app, areas.lesson, true);
    } else {
        cli(frame, app, areas.cli, true);
    }
    status(frame, app, areas.status);
    if areas.banner.height > 0 {
        banner(frame, app, areas.banner);
    }
    if let Some(ask) = app.asks.front() {
        question(frame, &app.theme, size, ask);
    }
    if app.lesson.as_ref().is_some_and(|l| l.list.is_some()) {
        lesson_list(frame, app, size);
    }
    if let Some(list) = &app.probe {
        probe_list(frame, app, list, size);
    }
    if app.help {
        help(frame, &app.theme, &app.keymap, size, app.help_scroll);
    }
}

/// The title of the lesson's or the redis-cli's pane: when they share one
/// place, two tabs, the hidden one dimmed with the key that shows it.
fn shared_title(app: &App, lesson_shown: bool, shared: bool, width: u16) -> Line<'static> {
    let theme = app.theme;
    let lesson = match &app.lesson {
        Some(l) => {
            let mark = match l.progress.get(&l.lessons[l.current].id) {
                Some(Mark::Done) => " ✓ done",
                Some(Mark::Started) => " • started",
                None => "",
            };
            format!("Lesson {}/{}{mark}", l.current + 1, l.lessons.len())
        }
        None => String::new(),
    };
    if app.lesson.is_none() || !shared {
        return Line::from(if lesson_shown {
            title(&lesson, app.focus == Focus::Lesson, &theme)
        } else {
            match &app.server {
                Some(server) => title(
                    &format!("redis-cli → {server}"),
                    app.focus == Focus::Cli,
                    &theme,
                ),
                None => title("redis-cli", app.focus == Focus::Cli, &theme),
            }
        });
    }
    let focused = matches!(app.focus, Focus::Lesson | Focus::Cli);
    let tab = |text: String, on: bool| {
        if on {
            title(&text, focused, &theme)
        } else {
            Span::styled(format!(" {text} "), theme.dim())
        }
    };
    // The hidden tab names its key; on a narrow pane, only the key.
    let (shown, hidden) = if lesson_shown {
        (lesson, "redis-cli".to_string())
    } else {
        ("redis-cli".to_string(), lesson)
    };
    let (command, short) = if lesson_shown {
        (keymap::Command::FocusCli, "cli")
    } else {
        (keymap::Command::FocusLesson, "lesson")
    };
    let key = app.key_for(command);
    let long = format!("{hidden}: {key}");
    let room = (width as usize).saturating_sub(shown.chars().count() + 8);
    let hidden = if long.chars().count() <= room {
        long
    } else {
        format!("{short} {key}")
    };
    Line::from(if lesson_shown {
        vec![tab(shown, true), tab(hidden, false)]
    } else {
        vec![tab(hidden, false), tab(shown, true)]
    })
}

fn lesson_pane(frame: &mut Frame, app: &App, area: Rect, shared: bool) {
    let theme = app.theme;
    let focused = app.focus == Focus::Lesson;
    let block = block(shared_title(app, true, shared, area.width), focused, &theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(l) = &app.lesson else { return };
    let lines = lesson_lines(app, inner.width);
    // Every line is wrapped already: the count is the height.
    let scroll = l
        .scroll
        .min((lines.len() as u16).saturating_sub(inner.height));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

/// The lesson pane's text at `width`: progress, the lesson, the checks'
/// results, the hints shown, the keys (the model clamps its scroll with it).
pub(crate) fn lesson_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let theme = app.theme;
    let Some(l) = &app.lesson else {
        return Vec::new();
    };
    let inner = Rect::new(0, 0, width, 0);
    let lesson = &l.lessons[l.current];
    let mut lines = Vec::new();
    lines.extend(markdown::render(&lesson.body, inner.width, &theme));
    lines.push(Line::raw(""));
    if l.checking {
        lines.push(Line::styled("Checking…", theme.changed_now()));
    } else if let Some(results) = &l.results {
        lines.push(Line::styled("Checks", theme.focused_border()));
        for r in results {
            let (m, style) = if r.passed {
                ("✓", theme.ok())
            } else {
                ("✗", theme.error())
            };
            lines.extend(markdown::wrap_plain(
                &format!("{m} {}", r.name),
                inner.width,
                style,
                "",
            ));
            for f in &r.failures {
                lines.extend(markdown::wrap_plain(f, inner.width, theme.dim(), "    "));
            }
        }
    } else {
        let text = format!(
            "F4 checks your {} ({} checks).",
            lesson.buffers[lesson.checked].name,
            lesson.checks.len()
        );
        lines.extend(markdown::wrap_plain(&text, inner.width, theme.dim(), ""));
    }
    for (i, hint) in lesson.hints.iter().take(l.hints_shown).enumerate() {
        lines.push(Line::raw(""));
        lines.extend(markdown::render(
            &format!("**Hint {}:** {hint}", i + 1),
            inner.width,
            &theme,
        ));
    }
    let more = lesson.hints.len() - l.hints_shown.min(lesson.hints.len());
    lines.push(Line::raw(""));
    let keys = format!(
        "h hint ({more} left) · n next · p previous · l list · r reset (asks first) · Alt+5: redis-cli · F12 zoom"
    );
    lines.extend(markdown::wrap_plain(&keys, inner.width, theme.dim(), ""));
    lines
}

fn lesson_list(frame: &mut Frame, app: &App, size: Rect) {
    let theme = app.theme;
    let Some(l) = &app.lesson else { return };
    let width = size.width.saturating_sub(4).min(90);
    let height = size
        .height
        .saturating_sub(2)
        .min(l.lessons.len() as u16 + 2);
    let area = centered(size, width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(" Lessons — Enter opens, Esc closes ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let selected = l.list.unwrap_or(0);
    let first = selected.saturating_sub(inner.height.saturating_sub(1) as usize);
    let lines: Vec<Line> = l
        .lessons
        .iter()
        .enumerate()
        .skip(first)
        .map(|(i, lesson)| {
            let mark = match l.progress.get(&lesson.id) {
                Some(Mark::Done) => "✓",
                Some(Mark::Started) => "•",
                None => " ",
            };
            let here = if i == l.current { "▸" } else { " " };
            let text = format!("{here}{mark} {:>2}  {}", i + 1, lesson.title);
            Line::styled(
                text,
                if i == selected {
                    theme.selected()
                } else {
                    theme.plain()
                },
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Ctrl+P's findings: each way the script dies after writing (then the
/// errors before any write), one a row.
fn probe_list(frame: &mut Frame, app: &App, list: &super::app::ProbeList, size: Rect) {
    let theme = app.theme;
    let width = size.width.saturating_sub(4).min(110);
    let inner_width = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    match &list.report {
        None => lines.push(Line::styled(
            "Probing: each input on a fresh keyspace… (Esc stops waiting)",
            theme.changed_now(),
        )),
        Some(report) => {
            lines.push(Line::styled(
                fit(
                    &format!(
                        "{} to die after writing, {} before any write, in {} inputs (not found is not impossible):",
                        plural(report.partial.len(), "way"),
                        report.early.len(),
                        report.runs
                    ),
                    inner_width,
                ),
                theme.bold(),
            ));
            let findings = report
                .partial
                .iter()
                .map(|(f, _)| (f, true))
                .chain(report.early.iter().map(|f| (f, false)));
            for (i, (finding, wrote)) in findings.enumerate() {
                let line = finding.error_line.map_or("?".into(), |l| l.to_string());
                let text = if wrote {
                    let writes: Vec<String> = finding
                        .writes
                        .iter()
                        .map(|w| format!("L{} {}", w.line, w.command))
                        .collect();
                    format!(
                        "✗ {}: {} stayed, then line {line} failed: {}",
                        report.sentence(&finding.variation),
                        writes.join(", "),
                        finding.error
                    )
                } else {
                    format!(
                        "· {}: line {line}, before any write: {}",
                        report.sentence(&finding.variation),
                        finding.error
                    )
                };
                let style = if i == list.selected {
                    theme.selected()
                } else if wrote {
                    theme.error()
                } else {
                    theme.dim()
                };
                lines.push(Line::styled(fit(&text, inner_width), style));
            }
        }
    }
    let height = size.height.saturating_sub(2).min(lines.len() as u16 + 2);
    let area = centered(size, width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(" Probe — Enter runs the chosen input to its failure, Esc closes ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Keep the selected row (after the header line) in view.
    let first = (list.selected + 1).saturating_sub(inner.height.saturating_sub(1) as usize);
    frame.render_widget(Paragraph::new(lines).scroll((first as u16, 0)), inner);
}

/// A question before anything is lost: its text and the keys that answer.
fn question(frame: &mut Frame, theme: &Theme, size: Rect, ask: &super::app::Ask) {
    let width = size.width.saturating_sub(4).min(72);
    let inner = width.saturating_sub(2);
    let mut lines = markdown::wrap_plain(&ask.text, inner, theme.bold(), "");
    lines.push(Line::raw(""));
    for (key, what) in &ask.choices {
        lines.extend(markdown::wrap_plain(
            &format!("{key}  {what}"),
            inner,
            theme.plain(),
            "   ",
        ));
    }
    lines.extend(markdown::wrap_plain(
        "Esc  leave everything as it is",
        inner,
        theme.dim(),
        "   ",
    ));
    let height = (lines.len() as u16 + 2).min(size.height);
    let area = centered(size, width, height);
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(" A question ");
    let text_area = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), text_area);
}

/// A `width`×`height` box in the middle of `size`.
fn centered(size: Rect, width: u16, height: u16) -> Rect {
    Rect {
        x: size.x + (size.width - width) / 2,
        y: size.y + (size.height - height) / 2,
        width,
        height,
    }
}

/// Presenter mode's top line: where the run is (large enough to read from
/// the back of a room), the lesson, and the keys just pressed.
fn banner(frame: &mut Frame, app: &App, area: Rect) {
    let theme = app.theme;
    let step = match &app.session {
        Some(s) => {
            let d = s.debugger();
            let view = d.view();
            let what = match &view.step.kind {
                StepKind::Error(_) => format!("line {} ✗ DIED HERE", view.line),
                StepKind::Return(_) => "RETURNED".to_string(),
                _ => format!("line {}", view.line),
            };
            format!(" STEP {} / {} · {what} ", view.index + 1, view.total)
        }
        None if app.running.is_some() => " RUNNING… ".to_string(),
        None => " NO RUN YET ".to_string(),
    };
    let lesson = app
        .lesson
        .as_ref()
        .map(|l| format!("  Lesson {}: {}", l.current + 1, l.lesson().title))
        .unwrap_or_default();
    let keys = if app.recent_keys.is_empty() {
        String::new()
    } else {
        format!(
            " keys: {} ",
            app.recent_keys
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let room = (area.width as usize).saturating_sub(step.chars().count() + keys.chars().count());
    let lesson = fit(&lesson, room);
    let pad = room.saturating_sub(lesson.chars().count());
    let line = Line::from(vec![
        Span::styled(step, theme.selected().patch(theme.bold())),
        Span::styled(lesson, theme.bold()),
        Span::raw(" ".repeat(pad)),
        Span::styled(keys, theme.selected()),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

fn too_small(frame: &mut Frame, size: Rect, theme: &Theme, ask: Option<&Ask>) {
    let mut text = Vec::new();
    // A question waits for its answer (Ctrl+Q with unsaved edits asks one):
    // it comes first, whatever the size, or a key would seem to do nothing.
    if let Some(ask) = ask {
        text.push(Line::styled(ask.text.clone(), theme.error()));
        let choices: Vec<String> = ask
            .choices
            .iter()
            .map(|(key, what)| format!("{key}: {what}"))
            .chain(std::iter::once(
                "Esc: leave everything as it is".to_string(),
            ))
            .collect();
        text.push(Line::raw(choices.join(" · ")));
    }
    text.extend([
        Line::styled("terminal too small", theme.error()),
        Line::raw(format!(
            "redstep needs {}×{}; this is {}×{}.",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            size.width,
            size.height
        )),
        Line::raw("Enlarge the window (nothing is lost). Ctrl+Q quits."),
    ]);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .alignment(Alignment::Center),
        size,
    );
}

fn block<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let style = if focused {
        theme.focused_border()
    } else {
        theme.border()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

fn title(text: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let marker = if focused { "▸ " } else { " " };
    Span::styled(
        format!("{marker}{text} "),
        if focused {
            theme.focused_border()
        } else {
            theme.bold()
        },
    )
}

fn editor(frame: &mut Frame, app: &App, areas: &Areas) {
    let area = areas.editor;
    let theme = app.theme;
    let focused = app.focus == Focus::Editor;
    let mut tabs = vec![title("Editor", focused, &theme)];
    for (i, b) in app.buffers.iter().enumerate() {
        let name = format!(" {}{} ", b.name, if b.modified() { "*" } else { "" });
        tabs.push(Span::styled(
            name,
            if i == app.active {
                theme.selected()
            } else {
                theme.dim()
            },
        ));
    }
    let args = app.buffer().args.clone();
    let bottom = Line::from(vec![Span::styled(
        format!(
            " KEYS , ARGV: {} ",
            if args.is_empty() {
                "(none) — F2"
            } else {
                &args
            }
        ),
        theme.dim(),
    )]);
    let block = block(Line::from(tabs), focused, &theme).title_bottom(bottom);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let session = app
        .session
        .as_ref()
        .filter(|s| s.buffer == app.active && !s.edited);
    let view = session.map(|s| s.debugger().view());
    let buffer = &app.buffers[app.active];
    let row = buffer.area.cursor().0;
    // Columns on screen: a tab reaches the next tab stop.
    let col = display_column(&buffer.area.lines()[row], buffer.area.cursor().1);
    let height = inner.height as usize;
    let width = inner.width.saturating_sub(GUTTER) as usize;
    let lines = buffer.area.lines();
    let end = (buffer.top + height).min(lines.len());
    let spans = highlight::highlight(&lines[..end]);
    let mut out = Vec::with_capacity(height);
    for (i, text) in lines.iter().enumerate().take(end).skip(buffer.top) {
        let n = i as u32 + 1;
        let bp = if buffer.breakpoints.contains(&n) {
            Span::styled("●", theme.breakpoint())
        } else {
            Span::raw(" ")
        };
        let (mark, mark_style, dim) = match &view {
            Some(v) if v.died_line == Some(n) => ("✗", theme.error(), false),
            Some(v) if v.line == n => ("▶", theme.changed_now(), false),
            Some(v) if v.lines_never_reached.contains(&n) => (" ", theme.dim(), true),
            Some(v) if v.lines_run.contains(&n) => ("✓", theme.ok(), false),
            _ => (" ", theme.plain(), false),
        };
        let current = view.as_ref().is_some_and(|v| v.line == n);
        let mut line = vec![
            bp,
            Span::styled(mark, mark_style),
            Span::styled(
                format!("{n:>4} "),
                if current { mark_style } else { theme.dim() },
            ),
        ];
        for &(start, stop, class) in &spans[i] {
            let piece = visible(text, start, stop, buffer.left, width);
            if piece.is_empty() {
                continue;
            }
            let mut style = match class {
                Class::Plain => theme.plain(),
                Class::Keyword => theme.keyword(),
                Class::String => theme.string(),
                Class::Number => theme.number(),
                Class::Comment => theme.comment(),
                Class::Builtin => theme.builtin(),
            };
            if dim {
                style = theme.dim();
            }
            if current {
                style = style.patch(if view.as_ref().is_some_and(|v| v.at_failure) {
                    theme.error()
                } else {
                    theme.current_line()
                });
            }
            line.push(Span::styled(piece, style));
        }
        out.push(Line::from(line));
    }
    frame.render_widget(Paragraph::new(out), inner);
    if focused && app.prompt.is_none() && !app.help && app.asks.is_empty() {
        // The model keeps the cursor in view (`App::follow_cursor`).
        if let (Some(dx), Some(dy)) = (col.checked_sub(buffer.left), row.checked_sub(buffer.top)) {
            let (x, y) = (inner.x + GUTTER + dx as u16, inner.y + dy as u16);
            if x < inner.right() && y < inner.bottom() {
                frame.set_cursor_position((x, y));
            }
        }
    }
}

/// Tab stops in the editor, as the text area's own Tab key uses.
pub(crate) const TAB_WIDTH: usize = 4;

/// The screen column of character `index` of `line` (tabs expanded).
pub(crate) fn display_column(line: &str, index: usize) -> usize {
    line.chars().take(index).fold(0, next_column)
}

fn next_column(col: usize, ch: char) -> usize {
    if ch == '\t' {
        (col / TAB_WIDTH + 1) * TAB_WIDTH
    } else {
        // Wide characters (CJK, most emoji) take two columns.
        col + unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0)
    }
}

/// The characters of `text[start..stop]` (bytes) that fall in screen columns
/// `left..left+width`, tabs expanded to spaces; a wide character cut by an
/// edge shows as spaces.
fn visible(text: &str, start: usize, stop: usize, left: usize, width: usize) -> String {
    let mut col = display_column(&text[..start], usize::MAX);
    let inside = |c: usize| c >= left && c < left + width;
    let mut out = String::new();
    for ch in text[start..stop].chars() {
        let next = next_column(col, ch);
        if ch != '\t' && next > col && inside(col) && next <= left + width {
            out.push(ch);
        } else if next == col {
            // A combining mark stays with the character before it.
            if col > left && col <= left + width {
                out.push(ch);
            }
        } else {
            out.extend((col..next).filter(|c| inside(*c)).map(|_| ' '));
        }
        col = next;
    }
    out
}

/// A line cut into rows of `width` columns at its last space before the
/// edge where there is one (a reply keeps its own spacing otherwise).
fn wrap_at_spaces(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut rows = Vec::new();
    let mut start = 0;
    // Linear in the line: a pasted 100 MB value must not stall the screen.
    while chars.len() - start > width {
        let window = &chars[start + 1..=start + width];
        match window.iter().rposition(|c| *c == ' ') {
            Some(i) => {
                let at = start + 1 + i;
                rows.push(chars[start..at].iter().collect());
                start = at + 1;
            }
            None => {
                rows.push(chars[start..start + width].iter().collect());
                start += width;
            }
        }
    }
    rows.push(chars[start..].iter().collect());
    rows
}

/// "1 key", "2 keys".
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn ttl_text(ttl: Option<i64>) -> String {
    match ttl {
        None => "-".into(),
        Some(ms) if ms >= 10_000 => format!("{}s", ms / 1000),
        Some(ms) => format!("{ms}ms"),
    }
}

fn keyspace(frame: &mut Frame, app: &App, area: Rect) {
    let theme = app.theme;
    let focused = app.focus == Focus::Keyspace;
    let at = match &app.session {
        Some(s) => format!(
            "at step {}/{}",
            s.debugger().cursor() + 1,
            s.debugger().len()
        ),
        None => "live".into(),
    };
    // The filter hides the run's keys it does not match, as it hides live
    // ones: the title says how many, so none goes missing unsaid.
    let hidden = app
        .session
        .as_ref()
        .map_or(0, |s| s.key_count() - s.shown_count());
    let filter = match (app.filter.as_str(), hidden) {
        ("*", _) => String::new(),
        (f, 0) => format!(" filter {f}"),
        (f, n) => format!(" filter {f} ({n} hidden)"),
    };
    let mut head = vec![
        title("Keyspace", focused, &theme),
        Span::styled(
            format!("{}{filter} · {at} ", plural(app.keys.total, "key")),
            theme.dim(),
        ),
    ];
    if let Some(server) = &app.server {
        // Nobody mistakes a real server for the embedded engine.
        let at = server.split(" · ").next().unwrap_or(server);
        let at = at.split_once(" @ ").map_or(at, |(_, a)| a);
        head.push(Span::styled(format!(" @ {at} "), theme.bold()));
    }
    if let Some(shards) = app.cluster {
        let (first, last) = crate::engine::cluster::slot_ranges(shards)[0];
        head.push(Span::styled(
            // Node 1 of the emulated cluster and its slots.
            format!(" node 1/{shards} · {first}-{last} "),
            theme.bold(),
        ));
    }
    let head = Line::from(head);
    let block = block(head, focused, &theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Narrow panes drop the TTL column (a TTL then follows the value) and
    // shorten type names, so the value keeps room.
    let narrow = inner.width < 48;
    let key_w = if narrow { 8 } else { 12 };
    // Cluster mode: each key's slot, and its hash tag when it has one.
    let slot_of = |key: &[u8]| {
        app.cluster.map(|_| {
            let slot = crate::engine::cluster::key_slot(key);
            match crate::engine::cluster::hash_tag(key) {
                Some(tag) => format!("{slot} {{{}}}", String::from_utf8_lossy(tag)),
                None => slot.to_string(),
            }
        })
    };
    let lines = app.key_lines();
    let slot_w = lines
        .iter()
        .filter_map(|k| slot_of(&k.key))
        .map(|s| s.chars().count().min(16))
        .max()
        .unwrap_or(4)
        .max(4);
    let header = if narrow {
        format!("  {:<key_w$} {:<4} value", "key", "type")
    } else {
        format!("  {:<key_w$} {:<6} {:>6}  value", "key", "type", "ttl")
    };
    let header = match (app.cluster, narrow) {
        (Some(_), false) => header.replacen("  value", &format!("  {:<slot_w$}  value", "slot"), 1),
        _ => header,
    };
    let mut out = vec![Line::styled(header, theme.dim())];
    let selected = app.selected_line();
    let empty = lines.is_empty();
    for (i, k) in lines
        .into_iter()
        .enumerate()
        .take(inner.height.saturating_sub(1) as usize)
    {
        let (mark, style) = match (&k.mark, k.gone) {
            (KeyMark::Now, _) => ("▶", theme.changed_now()),
            (KeyMark::Before, _) if k.stayed => ("!", theme.stayed()),
            (KeyMark::Before, _) => ("•", theme.changed_before()),
            (KeyMark::Later, _) => ("·", theme.plain()),
            (KeyMark::Untouched, _) => (" ", theme.plain()),
        };
        let key = fit(&display_key(&k.key), key_w);
        let value = match (&k.before, k.gone) {
            (Some(before), true) => format!("{before} → (deleted)"),
            (Some(before), false) => format!("{before} → {}", k.value),
            (None, true) => "(deleted by the run)".into(),
            (None, false) => k.value.clone(),
        };
        let value = if k.stayed {
            format!("{value}  ← stayed")
        } else {
            value
        };
        let kind = if k.gone {
            "gone".to_string()
        } else {
            k.kind.clone()
        };
        let slot = slot_of(&k.key);
        let text = if narrow {
            let kind = if kind == "string" { "str" } else { &kind };
            let ttl = k
                .ttl_ms
                .map(|t| format!("  (ttl {})", ttl_text(Some(t))))
                .unwrap_or_default();
            let slot = slot.map(|s| format!("  (slot {s})")).unwrap_or_default();
            format!("{mark} {key:<key_w$} {kind:<4} {value}{ttl}{slot}")
        } else {
            let slot = slot
                .map(|s| format!("{:<slot_w$}  ", fit(&s, slot_w)))
                .unwrap_or_default();
            format!(
                "{mark} {key:<key_w$} {kind:<6} {:>6}  {slot}{value}",
                ttl_text(k.ttl_ms)
            )
        };
        let mut line_style = style;
        if focused && i == selected {
            line_style = line_style.patch(theme.selected());
        }
        out.push(Line::styled(text, line_style));
    }
    if empty {
        out.push(Line::styled(
            "  (empty: SET a 1 in the redis-cli pane)",
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(out), inner);
    if let Some((key, value)) = &app.detail {
        let popup = Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: area.height.saturating_sub(3),
        };
        frame.render_widget(Clear, popup);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.focused_border())
            .title(format!(" {key} — Esc closes "));
        frame.render_widget(
            Paragraph::new(value.as_str())
                .wrap(Wrap { trim: false })
                .block(block),
            popup,
        );
    }
}

fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars()
            .take(width.saturating_sub(1))
            .collect::<String>()
            + "…"
    }
}

fn debugger(frame: &mut Frame, app: &App, area: Rect) {
    let theme = app.theme;
    let focused = app.focus == Focus::Debugger;
    let name = match &app.server {
        Some(server) => format!("Debugger — {server}"),
        None => "Debugger".to_string(),
    };
    let block = block(Line::from(title(&name, focused, &theme)), focused, &theme);
    frame.render_widget(block, area);
    let Some(session) = &app.session else {
        let text = if let Some(r) = &app.running {
            vec![Line::styled(
                format!(
                    "running… {:.1}s — Esc stops it",
                    app.now().saturating_duration_since(r.since).as_secs_f64()
                ),
                theme.changed_now(),
            )]
        } else if let Some(why) = &app.closed_why {
            vec![
                Line::styled("The last run's view is closed:", theme.bold()),
                Line::raw(why.clone()),
                Line::raw(format!(
                    "{} runs the script again.",
                    app.key_for(keymap::Command::Run)
                )),
            ]
        } else {
            vec![
                Line::raw("No run to show."),
                Line::raw(format!(
                    "{} steps through the script a line at a time,",
                    app.key_for(keymap::Command::StepOver)
                )),
                Line::raw(format!(
                    "{} jumps to each redis.call, {} runs it all.",
                    app.key_for(keymap::Command::NextCall),
                    app.key_for(keymap::Command::Run)
                )),
                Line::raw("Every redis.call shows here with its reply."),
            ]
        };
        let mut text = text;
        if !app.lane.is_empty() {
            text.push(Line::raw(""));
            text.push(Line::styled(
                "Other clients, with the next run:",
                theme.bold(),
            ));
            text.extend(
                app.lane_lines()
                    .into_iter()
                    .map(|l| Line::raw(format!("  {l}"))),
            );
        }
        let inner = Rect {
            x: area.x + 1,
            y: area.y + 1,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        return;
    };
    let d = session.debugger();
    let view = d.view();
    let name = &app
        .buffers
        .get(session.buffer)
        .map(|b| b.name.clone())
        .unwrap_or_default();
    let where_ = match d.timeline().event(view.step) {
        Event::Line { .. } => format!("line {} (about to run)", view.line),
        Event::Call(_) => format!("line {} (redis.call done)", view.line),
        Event::Error { .. } if session.compile_error_line().is_some() => {
            format!("line {} ✗ the script did not compile", view.line)
        }
        Event::Error { .. } => format!("line {} ✗ the script died here", view.line),
        Event::Return { reply } if reply.is_error() => {
            format!("line {} returned an error", view.line)
        }
        Event::Return { .. } => "returned".to_string(),
        Event::Other(other) => format!("client {}", other.client),
    };
    let edited = if session.edited {
        " · edited since"
    } else {
        ""
    };
    let [header, left, right] = layout::debugger_parts(area, session.rows().len());
    let head = format!(
        "{name} · step {}/{} · {where_}{edited}",
        view.index + 1,
        view.total
    );
    frame.render_widget(Paragraph::new(Line::styled(head, theme.bold())), header);
    let mut rows = Vec::new();
    let current = session.current_row();
    let (first, last) =
        layout::timeline_window(session.rows().len(), current, left.height as usize);
    for (r, &i) in session.rows().iter().enumerate().take(last).skip(first) {
        let step = &d.timeline().steps[i];
        let here = i == d.cursor();
        let passed = i <= d.cursor();
        let (text, style) = match d.timeline().event(step) {
            Event::Call(call) => {
                let keys: Vec<String> = d
                    .keys_changed_by(i)
                    .iter()
                    .map(|(_, k)| display_key(k))
                    .collect();
                let wrote = if keys.is_empty() {
                    String::new()
                } else {
                    format!("  wrote {}", keys.join(" "))
                };
                let text = format!(
                    "L{:<3} {} → {}{wrote}",
                    step.line,
                    export::command_text(call.argv),
                    export::reply_text(&call.reply)
                );
                let style = if !keys.is_empty() && passed {
                    theme.changed_before()
                } else {
                    theme.plain()
                };
                (text, style)
            }
            Event::Error { message, .. } => (
                format!("L{:<3} ✗ {}", step.line, String::from_utf8_lossy(message)),
                theme.error(),
            ),
            Event::Return { reply } => (
                format!("     ← returned {}", export::reply_text(reply)),
                theme.ok(),
            ),
            Event::Other(other) => (format!("  ⇄  {}", export::other_text(other)), theme.plain()),
            Event::Line { .. } => continue,
        };
        let marker = if here {
            "▶ "
        } else if Some(r) == current {
            "› "
        } else {
            "  "
        };
        let mut style = if passed { style } else { theme.dim() };
        if here {
            style = style.patch(theme.selected());
        }
        rows.push(Line::styled(format!("{marker}{text}"), style));
    }
    if session.rows().is_empty() {
        rows.push(Line::styled("  (no redis.call in this run)", theme.dim()));
    }
    frame.render_widget(Paragraph::new(rows), left);

    let mut side = Vec::new();
    if d.at_failure() || session.at_end() {
        // The sentence to remember first; the exact error text after it.
        for (i, s) in session.summary().iter().enumerate() {
            let style = if i == 0 && d.timeline().outcome.status != Status::Ok {
                theme.stayed()
            } else {
                theme.plain()
            };
            side.push(Line::styled(s.trim_start().to_string(), style));
        }
        side.extend(replica_view(session, &theme));
        if let Event::Error { message, .. } = d.timeline().event(view.step) {
            side.push(Line::styled(
                format!("(error) {}", String::from_utf8_lossy(message)),
                theme.error(),
            ));
        }
    } else if !session.changes().is_empty() {
        side.push(Line::styled("This step changed:", theme.bold()));
        for c in session.changes() {
            side.push(Line::styled(
                format!(
                    "{}: {}",
                    display_key(&c.key),
                    trace::words::change(c.before.as_ref(), c.after.as_ref(), c.look)
                ),
                theme.changed_now(),
            ));
        }
    }
    if session.compile_error_line().is_some() {
        // Nothing ran: there are no locals to speak of.
        frame.render_widget(Paragraph::new(side).wrap(Wrap { trim: false }), right);
        return;
    }
    side.push(Line::styled("Locals", theme.bold()));
    match view.locals {
        Some(locals) if !locals.is_empty() => {
            for (name, value) in locals.iter() {
                side.push(Line::raw(format!("  {name} = {value}")));
            }
        }
        Some(_) => side.push(Line::styled("  (none)", theme.dim())),
        None => side.push(Line::styled(
            "  (not recorded this far into the run)",
            theme.dim(),
        )),
    }
    // At the end it stands above the error text (a short pane shows it);
    // while stepping, below the step's changes and locals (what is read
    // while stepping a loop: a long stream would push them out of view).
    if !(d.at_failure() || session.at_end()) {
        side.extend(replica_view(session, &theme));
    }
    frame.render_widget(Paragraph::new(side).wrap(Wrap { trim: false }), right);
}

/// The debugger's "replicas receive" view: what replicas and the AOF
/// receive of the run (dim until the script ends, when Redis sends it).
fn replica_view(session: &trace::Session, theme: &Theme) -> Vec<Line<'static>> {
    let Some((heading, sent)) = session.replica() else {
        return Vec::new();
    };
    let style = if session.at_end() {
        theme.plain()
    } else {
        theme.dim()
    };
    std::iter::once(Line::styled(heading, theme.bold()))
        .chain(
            sent.iter()
                .map(|command| Line::styled(format!("  {command}"), style)),
        )
        .collect()
}

fn cli(frame: &mut Frame, app: &App, area: Rect, shared: bool) {
    let theme = app.theme;
    let focused = app.focus == Focus::Cli;
    let block = block(
        shared_title(app, false, shared, area.width),
        focused,
        &theme,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = (inner.width as usize).max(1);
    // A command that waits for its reply says so above the prompt (with
    // what cancels it and the lines typed meanwhile).
    let waiting: Vec<String> = app
        .cli_waiting_lines()
        .iter()
        .flat_map(|text| wrap_at_spaces(text, width))
        .collect();
    let waiting: Vec<String> = waiting
        .into_iter()
        .take(inner.height.saturating_sub(1) as usize)
        .collect();
    let height = inner.height.saturating_sub(1 + waiting.len() as u16) as usize;
    // Long lines wrap; only the last `height` screen rows are built.
    let mut rows: Vec<String> = Vec::new();
    for line in app.cli_output.iter().rev() {
        // Only the last rows of a huge line can show: wrap just its tail.
        let tail = height * width + 1;
        let pieces = match line.char_indices().rev().nth(tail) {
            Some((at, _)) => wrap_at_spaces(&format!("…{}", &line[at..]), width),
            None => wrap_at_spaces(line, width),
        };
        rows.extend(pieces.into_iter().rev());
        if rows.len() >= height {
            break;
        }
    }
    rows.truncate(height);
    rows.reverse();
    let mut lines: Vec<Line> = rows.into_iter().map(Line::raw).collect();
    while lines.len() < height {
        lines.insert(0, Line::raw(""));
    }
    lines.extend(
        waiting
            .into_iter()
            .map(|row| Line::styled(row, theme.changed_now())),
    );
    let prompt = app.cli_prompt();
    let prompt = prompt.as_str();
    let input: String = {
        let room = width.saturating_sub(prompt.len() + 1);
        let n = app.cli_input.chars().count();
        app.cli_input.chars().skip(n.saturating_sub(room)).collect()
    };
    lines.push(Line::from(vec![
        Span::styled(prompt, theme.dim()),
        Span::raw(input.clone()),
    ]));
    frame.render_widget(Paragraph::new(lines), inner);
    if focused && app.prompt.is_none() && !app.help {
        let x = inner.x + (prompt.len() + input.chars().count()) as u16;
        if x < inner.right() {
            frame.set_cursor_position((x, inner.bottom().saturating_sub(1)));
        }
    }
}

fn status(frame: &mut Frame, app: &App, area: Rect) {
    let theme = app.theme;
    if let Some(prompt) = &app.prompt {
        let mut spans = vec![Span::styled(
            format!("{}{}", prompt.kind.label(), prompt.input),
            theme.bold(),
        )];
        let x = area.x + spans[0].content.chars().count() as u16;
        if let Some(error) = &prompt.error {
            spans.push(Span::styled(format!("  ✗ {error}"), theme.error()));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    // F1 and quit stay in sight at any width: the rest gives way first.
    // With a lesson open, F4 (its check) is kept in sight too.
    let check = [keymap::Command::CheckScript];
    let lesson_keys: &[keymap::Command] = if app.lesson.is_some() { &check } else { &[] };
    let pinned: Vec<Span> = lesson_keys
        .iter()
        .chain(keymap::PINNED.iter())
        .flat_map(|command| {
            let binding = app.keymap.keys_of(*command).expect("pinned keys are bound");
            [
                Span::styled(format!(" {}", binding.keys), theme.status()),
                Span::raw(format!(" {} ", binding.hint)),
            ]
        })
        .collect();
    let pinned_width: usize = pinned.iter().map(|s| s.content.chars().count()).sum();
    let mut spans = Vec::new();
    if let Some(running) = &app.running {
        let name = app
            .buffers
            .get(app.active)
            .map(|b| b.name.as_str())
            .unwrap_or("");
        spans.push(Span::styled(
            format!(
                " running {name} {:.1}s — Esc stops it ",
                app.now()
                    .saturating_duration_since(running.since)
                    .as_secs_f64()
            ),
            theme.changed_now().patch(theme.status()),
        ));
        spans.push(Span::raw(" "));
    } else if let Some((text, error)) = &app.message {
        spans.push(Span::styled(
            format!("{text}  "),
            if *error { theme.error() } else { theme.bold() },
        ));
    }
    // Cut what does not fit before the pinned keys: the message with an
    // ellipsis, a key's hint whole or not at all (never a key without its
    // word).
    let room = (area.width as usize).saturating_sub(pinned_width);
    let mut used = 0;
    let mut left = Vec::new();
    for span in spans {
        let n = span.content.chars().count();
        if used + n <= room {
            used += n;
            left.push(span);
        } else {
            let rest = room.saturating_sub(used);
            if rest > 1 {
                let cut: String = span.content.chars().take(rest - 1).collect();
                left.push(Span::styled(cut + "…", span.style));
                used += rest;
            }
            break;
        }
    }
    let context: Context = app.focus.context();
    for (keys, what, command) in app.keymap.hints(context) {
        if command == keymap::Command::CheckScript || keymap::PINNED.contains(&command) {
            continue;
        }
        let keys = format!(" {keys}");
        let what = format!(" {what} ");
        let n = keys.chars().count() + what.chars().count();
        if used + n > room {
            break;
        }
        used += n;
        left.push(Span::styled(keys, theme.status()));
        left.push(Span::raw(what));
    }
    left.push(Span::raw(" ".repeat(room.saturating_sub(used))));
    left.extend(pinned);
    frame.render_widget(Paragraph::new(Line::from(left)), area);
}

/// What each mark on the screen means (the help shows it under the keys).
/// Every mark is a character, so nothing is lost without colour.
pub const LEGEND: &[(&str, &str)] = &[
    ("●", "editor: a breakpoint (F9)"),
    ("✓", "editor: a line the run has run"),
    ("▶", "editor: the debugger's line"),
    ("✗", "editor: where it died or did not compile"),
    ("dim", "editor: a line the failure left unrun"),
    ("▶", "keys: changed by this step: before → after"),
    ("•", "keys: changed earlier in the run (yellow)"),
    ("·", "keys: the run changes it later"),
    ("!", "keys: ← stayed: written before the failure"),
    ("gone", "keys: the script deleted it"),
    ("*", "tab: edits not written to its file yet"),
    ("▸", "title of the focused pane (cyan border)"),
];

/// The help's lines for a screen of `size`, how many columns they fill and
/// how many rows each column has.
fn help_lines(
    theme: &Theme,
    keymap: &keymap::Keymap,
    size: Rect,
) -> (Vec<Line<'static>>, usize, usize) {
    // Two columns when there is room, else one; Up/Down scroll what does not
    // fit. A column breaks only between groups (each starts with its name).
    let width = size.width.saturating_sub(2).min(130);
    let columns: usize = if width >= 100 { 2 } else { 1 };
    let column_width = (width.saturating_sub(2) as usize / columns).saturating_sub(1);
    // Grouped by where the keys work, then the marks; long texts wrap
    // under themselves.
    let mut lines: Vec<Line> = Vec::new();
    let mut starts = Vec::new();
    let entry = |lines: &mut Vec<Line<'static>>, keys: &str, what: &str| {
        let wrapped = markdown::wrap_plain(
            what,
            column_width.saturating_sub(11) as u16,
            theme.plain(),
            "",
        );
        for (i, line) in wrapped.into_iter().enumerate() {
            let head = if i == 0 {
                format!(" {keys:<10}")
            } else {
                " ".repeat(11)
            };
            let mut spans = vec![Span::styled(head, theme.bold())];
            spans.extend(line.spans);
            lines.push(Line::from(spans));
        }
    };
    for context in [
        Context::Global,
        Context::Editor,
        Context::Debugger,
        Context::Keyspace,
        Context::Lesson,
        Context::Cli,
        Context::HelpOverlay,
        Context::Prompt,
        Context::ListOverlay,
        Context::ValueDetail,
        Context::Question,
    ] {
        let group: Vec<_> = keymap
            .bindings
            .iter()
            .filter(|b| b.context == context)
            .collect();
        if group.is_empty() {
            continue;
        }
        starts.push(lines.len());
        lines.push(Line::styled(
            context.name().to_string(),
            theme.focused_border(),
        ));
        for b in group {
            entry(&mut lines, b.keys, b.description);
        }
    }
    starts.push(lines.len());
    lines.push(Line::styled("marks", theme.focused_border()));
    for (mark, meaning) in LEGEND {
        entry(&mut lines, mark, meaning);
    }
    if columns == 1 {
        let rows = lines.len();
        return (lines, 1, rows);
    }
    // The group start that splits the lines most evenly; the right column
    // is padded so `chunks(rows)` puts it on the right.
    let total = lines.len();
    let split = starts
        .iter()
        .copied()
        .min_by_key(|&b| b.max(total - b))
        .unwrap_or(total);
    let rows = split.max(total - split);
    let mut padded = lines;
    padded.splice(
        split..split,
        std::iter::repeat_n(Line::raw(""), rows - split),
    );
    (padded, 2, rows)
}

/// How far the help can scroll on a screen of `size` (the model keeps its
/// scroll within it).
pub(crate) fn help_scroll_max(theme: &Theme, keymap: &keymap::Keymap, size: Rect) -> usize {
    let (_, _, rows) = help_lines(theme, keymap, size);
    let visible = size
        .height
        .saturating_sub(2)
        .min(rows as u16 + 2)
        .saturating_sub(2);
    rows.saturating_sub(visible as usize)
}

/// Draws the key list, scrolled.
fn help(frame: &mut Frame, theme: &Theme, keymap: &keymap::Keymap, size: Rect, scroll: usize) {
    let (lines, columns, rows) = help_lines(theme, keymap, size);
    let width = size.width.saturating_sub(2).min(130);
    let height = size.height.saturating_sub(2).min(rows as u16 + 2);
    let area = centered(size, width, height);
    frame.render_widget(Clear, area);
    let visible = height.saturating_sub(2) as usize;
    let scroll = scroll.min(rows.saturating_sub(visible));
    let more = if rows > visible {
        " — Up/Down scroll"
    } else {
        ""
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focused_border())
        .title(format!(" Keys and marks — any other key closes{more} "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let areas =
        Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns]).split(inner);
    for (column, chunk) in lines.chunks(rows).enumerate() {
        let shown: Vec<Line> = chunk.iter().skip(scroll).cloned().collect();
        frame.render_widget(Paragraph::new(shown), areas[column]);
    }
}
