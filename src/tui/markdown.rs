//! Lesson text: Markdown (parsed by pulldown-cmark) turned into styled,
//! wrapped lines for a pane of a given width.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;

/// Styled runs of text: a paragraph's, or a table cell's.
type Runs = Vec<(String, Style)>;

/// Words with their style, gathered for one paragraph, then wrapped.
struct Builder<'t> {
    theme: &'t Theme,
    width: usize,
    lines: Vec<Line<'static>>,
    /// The paragraph being built: (text, style) runs.
    runs: Vec<(String, Style)>,
    styles: Vec<Style>,
    /// Prefix for the lines of the current block ("• ", "  ", "> ").
    prefix: String,
    list_depth: usize,
    /// Per open list: the next item's number (None: bullets).
    numbers: Vec<Option<u64>>,
    in_code_block: bool,
    /// A table being read: rows of cells, each cell its styled runs.
    table: Option<Vec<Vec<Runs>>>,
}

impl Builder<'_> {
    /// Draws the table read: columns aligned when they fit the width, else
    /// each row wrapped as one paragraph with cells separated by │.
    fn table(&mut self, rows: Vec<Vec<Runs>>) {
        let cell_width = |cell: &Vec<(String, Style)>| {
            cell.iter().map(|(t, _)| t.chars().count()).sum::<usize>()
        };
        let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in &rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell_width(cell));
            }
        }
        let total = widths.iter().sum::<usize>() + 3 * columns.saturating_sub(1);
        let sep = self.theme.dim();
        for (r, row) in rows.into_iter().enumerate() {
            if total <= self.width {
                let mut line = Vec::new();
                for (i, cell) in row.into_iter().enumerate() {
                    if i > 0 {
                        line.push(Span::styled(" │ ", sep));
                    }
                    let pad = widths[i] - cell_width(&cell);
                    line.extend(cell.into_iter().map(|(t, st)| Span::styled(t, st)));
                    if pad > 0 && i + 1 < columns {
                        line.push(Span::raw(" ".repeat(pad)));
                    }
                }
                self.lines.push(Line::from(line));
                if r == 0 {
                    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                    self.lines.push(Line::styled(rule.join("─┼─"), sep));
                }
            } else {
                for (i, cell) in row.into_iter().enumerate() {
                    if i > 0 {
                        self.runs.push((" │ ".into(), sep));
                    }
                    self.runs.extend(cell);
                }
                self.flush();
            }
        }
        self.lines.push(Line::raw(""));
    }

    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::default(), |acc, s| acc.patch(*s))
    }

    fn text(&mut self, text: &str) {
        let style = self.style();
        self.runs.push((text.to_string(), style));
    }

    /// Wraps the gathered runs into lines of at most `width` columns,
    /// breaking only at spaces (a word may span runs: `(`code`)`).
    fn flush(&mut self) {
        if self.runs.is_empty() {
            return;
        }
        // Words as styled pieces, each with whether a space came before it.
        let mut words: Vec<(Vec<(String, Style)>, bool)> = Vec::new();
        let mut space = false;
        for (text, style) in std::mem::take(&mut self.runs) {
            for (i, part) in text.split(' ').enumerate() {
                if i > 0 {
                    space = true;
                }
                if part.is_empty() {
                    continue;
                }
                match words.last_mut() {
                    Some((pieces, _)) if !space => pieces.push((part.to_string(), style)),
                    _ => words.push((vec![(part.to_string(), style)], space)),
                }
                space = false;
            }
        }
        let width = self
            .width
            .saturating_sub(self.prefix.chars().count())
            .max(10);
        let continuation = " ".repeat(self.prefix.chars().count());
        let mut line: Vec<Span<'static>> = vec![Span::raw(self.prefix.clone())];
        let mut used = 0;
        for (pieces, space_before) in words {
            let len: usize = pieces.iter().map(|(t, _)| t.chars().count()).sum();
            let gap = usize::from(space_before && used > 0);
            if used > 0 && used + gap + len > width {
                self.lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(continuation.clone()));
                used = 0;
            } else if gap == 1 {
                line.push(Span::raw(" "));
                used += 1;
            }
            // A word longer than a line is cut where the line ends, not lost.
            let mut pieces = pieces;
            let mut len = len;
            while used + len > width {
                let room = width - used;
                let mut head = Vec::new();
                let mut taken = 0;
                while taken < room {
                    let (text, style) = pieces.remove(0);
                    let n = text.chars().count();
                    if taken + n <= room {
                        taken += n;
                        head.push((text, style));
                    } else {
                        let cut: String = text.chars().take(room - taken).collect();
                        let rest: String = text.chars().skip(room - taken).collect();
                        head.push((cut, style));
                        pieces.insert(0, (rest, style));
                        taken = room;
                    }
                }
                line.extend(head.into_iter().map(|(t, st)| Span::styled(t, st)));
                self.lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(continuation.clone()));
                used = 0;
                len -= room;
            }
            used += len;
            line.extend(pieces.into_iter().map(|(t, st)| Span::styled(t, st)));
        }
        self.lines.push(Line::from(line));
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| l.width() > 0) {
            self.lines.push(Line::raw(""));
        }
    }
}

/// Plain text wrapped at word boundaries to `width`, continuation lines
/// indented like the first.
pub(crate) fn wrap_plain(text: &str, width: u16, style: Style, indent: &str) -> Vec<Line<'static>> {
    let theme = Theme::new(false);
    let mut b = Builder {
        theme: &theme,
        width: width as usize,
        lines: Vec::new(),
        runs: vec![(text.to_string(), style)],
        styles: Vec::new(),
        prefix: indent.to_string(),
        list_depth: 0,
        numbers: Vec::new(),
        in_code_block: false,
        table: None,
    };
    b.flush();
    b.lines
}

pub fn render(markdown: &str, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut b = Builder {
        theme,
        width: width as usize,
        lines: Vec::new(),
        runs: Vec::new(),
        styles: Vec::new(),
        prefix: String::new(),
        list_depth: 0,
        numbers: Vec::new(),
        in_code_block: false,
        table: None,
    };
    let options = pulldown_cmark::Options::ENABLE_TABLES;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Heading { .. }) => {
                b.blank();
                b.styles.push(b.theme.focused_border());
            }
            Event::End(TagEnd::Heading(_)) => {
                b.flush();
                b.styles.pop();
                b.lines.push(Line::raw(""));
            }
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) => {
                b.flush();
                if b.list_depth == 0 {
                    b.lines.push(Line::raw(""));
                }
            }
            Event::Start(Tag::Emphasis) => b.styles.push(b.theme.emphasis()),
            Event::Start(Tag::Strong) => b.styles.push(b.theme.bold()),
            Event::End(TagEnd::Emphasis) | Event::End(TagEnd::Strong) => {
                b.styles.pop();
            }
            Event::Start(Tag::List(start)) => {
                b.flush();
                b.list_depth += 1;
                b.numbers.push(start);
            }
            Event::End(TagEnd::List(_)) => {
                b.flush();
                b.list_depth -= 1;
                b.numbers.pop();
                b.prefix.clear();
                if b.list_depth == 0 {
                    b.lines.push(Line::raw(""));
                }
            }
            Event::Start(Tag::Item) => {
                b.flush();
                let indent = "  ".repeat(b.list_depth.saturating_sub(1));
                b.prefix = match b.numbers.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{indent}{}. ", *n - 1)
                    }
                    _ => format!("{indent}• "),
                };
            }
            Event::End(TagEnd::Item) => b.flush(),
            Event::Start(Tag::CodeBlock(kind)) => {
                b.flush();
                b.in_code_block = true;
                if let CodeBlockKind::Fenced(_) = kind {}
            }
            Event::End(TagEnd::CodeBlock) => {
                b.in_code_block = false;
                b.lines.push(Line::raw(""));
            }
            Event::Code(code) => {
                let style = b.style().patch(b.theme.code());
                b.runs.push((code.to_string(), style));
            }
            Event::Text(text) if b.in_code_block => {
                for line in text.lines() {
                    b.lines.push(Line::from(Span::styled(
                        format!("  {line}"),
                        b.theme.code(),
                    )));
                }
            }
            Event::Text(text) => b.text(&text),
            Event::SoftBreak => b.text(" "),
            Event::HardBreak => b.flush(),
            Event::Start(Tag::Table(_)) => {
                b.flush();
                b.table = Some(Vec::new());
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                if let Some(rows) = &mut b.table {
                    rows.push(Vec::new());
                }
            }
            Event::End(TagEnd::TableCell) => {
                let cell = std::mem::take(&mut b.runs);
                if let Some(row) = b.table.as_mut().and_then(|rows| rows.last_mut()) {
                    row.push(cell);
                }
            }
            Event::End(TagEnd::Table) => {
                let rows = b.table.take().unwrap_or_default();
                b.table(rows);
            }
            _ => {}
        }
    }
    b.flush();
    while b.lines.last().is_some_and(|l| l.width() == 0) {
        b.lines.pop();
    }
    b.lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn markdown_is_wrapped_and_styled() {
        let theme = Theme::new(false);
        let md = "# Title\n\nA **bold** word and `code` in a long sentence that must wrap.\n\n- one\n- two\n\n```\nlet x\n```\n";
        let lines = render(md, 30, &theme);
        assert_eq!(
            text(&lines),
            vec![
                "Title",
                "",
                "A bold word and code in a long",
                "sentence that must wrap.",
                "",
                "• one",
                "• two",
                "",
                "  let x"
            ]
        );
        assert!(lines[2]
            .spans
            .iter()
            .any(|s| s.content == "bold" && s.style == theme.bold()));
    }

    #[test]
    fn tables_are_aligned_and_long_words_are_not_cut_off() {
        let theme = Theme::new(false);
        let md = "| command | reply |\n|---|---|\n| `INCR a` | 43 |\n| GET | \"x\" |\n";
        assert_eq!(
            text(&render(md, 40, &theme)),
            vec![
                "command │ reply",
                "────────┼──────",
                "INCR a  │ 43",
                "GET     │ \"x\"",
            ]
        );
        let lines = text(&wrap_plain(
            "see abcdefghijklmnopqrstuvwxyz now",
            12,
            Style::default(),
            "",
        ));
        assert_eq!(lines, vec!["see", "abcdefghijkl", "mnopqrstuvwx", "yz now"]);
    }

    #[test]
    fn no_character_of_a_lesson_is_lost_at_any_width() {
        let theme = Theme::new(false);
        for lesson in crate::lessons::builtin() {
            // What the Markdown says, without its spacing.
            let mut said = String::new();
            for event in Parser::new_ext(&lesson.body, pulldown_cmark::Options::ENABLE_TABLES) {
                if let Event::Text(t) | Event::Code(t) = event {
                    said.extend(t.chars().filter(|c| !c.is_whitespace()));
                }
            }
            for width in 20..=60 {
                let shown: String = text(&render(&lesson.body, width, &theme))
                    .concat()
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                // Every character said is shown, in order (bullets and
                // table rules come in between).
                let mut rest = shown.chars();
                for c in said.chars() {
                    assert!(
                        rest.any(|s| s == c),
                        "lesson {} at width {width} lost {c:?}",
                        lesson.id
                    );
                }
                for line in render(&lesson.body, width, &theme) {
                    assert!(
                        line.width() <= width as usize,
                        "lesson {} at width {width}: {line:?}",
                        lesson.id
                    );
                }
            }
        }
    }
}
