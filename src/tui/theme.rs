//! Every colour the TUI uses, in one place. With `NO_COLOR` set, styles keep
//! only modifiers (bold, dim, reversed), and the marks are characters anyway.

use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
    pub palette: Palette,
}

/// The colour of each role (a config file's `[theme]` changes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    pub focused: Color,
    pub border: Color,
    pub keyword: Color,
    pub string: Color,
    pub number: Color,
    pub comment: Color,
    pub builtin: Color,
    pub error: Color,
    pub ok: Color,
    pub changed: Color,
    pub stayed: Color,
    pub breakpoint: Color,
    pub code: Color,
}

impl Default for Palette {
    fn default() -> Palette {
        Palette {
            focused: Color::Cyan,
            border: Color::DarkGray,
            keyword: Color::Magenta,
            string: Color::Green,
            number: Color::Yellow,
            comment: Color::DarkGray,
            builtin: Color::Cyan,
            error: Color::Red,
            ok: Color::Green,
            changed: Color::Yellow,
            stayed: Color::Red,
            breakpoint: Color::Red,
            code: Color::Cyan,
        }
    }
}

impl Palette {
    /// Each role's name in `[theme]`, with the colour it holds.
    pub(crate) fn roles(&mut self) -> [(&'static str, &mut Color); 13] {
        [
            ("focused", &mut self.focused),
            ("border", &mut self.border),
            ("keyword", &mut self.keyword),
            ("string", &mut self.string),
            ("number", &mut self.number),
            ("comment", &mut self.comment),
            ("builtin", &mut self.builtin),
            ("error", &mut self.error),
            ("ok", &mut self.ok),
            ("changed", &mut self.changed),
            ("stayed", &mut self.stayed),
            ("breakpoint", &mut self.breakpoint),
            ("code", &mut self.code),
        ]
    }
}

impl Theme {
    /// The default colours, or none at all.
    pub fn new(color: bool) -> Theme {
        Theme {
            color,
            palette: Palette::default(),
        }
    }

    pub(crate) fn from_env() -> Theme {
        Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }

    pub(crate) fn plain(&self) -> Style {
        Style::default()
    }
    pub(crate) fn dim(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }
    pub(crate) fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub(crate) fn focused_border(&self) -> Style {
        self.fg(self.palette.focused).add_modifier(Modifier::BOLD)
    }
    pub(crate) fn border(&self) -> Style {
        self.fg(self.palette.border)
    }
    pub(crate) fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
    pub(crate) fn keyword(&self) -> Style {
        self.fg(self.palette.keyword)
    }
    pub(crate) fn string(&self) -> Style {
        self.fg(self.palette.string)
    }
    pub(crate) fn number(&self) -> Style {
        self.fg(self.palette.number)
    }
    pub(crate) fn comment(&self) -> Style {
        self.fg(self.palette.comment).add_modifier(Modifier::ITALIC)
    }
    pub(crate) fn builtin(&self) -> Style {
        self.fg(self.palette.builtin)
    }
    pub fn error(&self) -> Style {
        self.fg(self.palette.error).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(self.palette.ok)
    }
    /// A key changed at the cursor's step.
    pub(crate) fn changed_now(&self) -> Style {
        self.fg(self.palette.changed).add_modifier(Modifier::BOLD)
    }
    /// A key changed earlier in the run.
    pub(crate) fn changed_before(&self) -> Style {
        self.fg(self.palette.changed)
    }
    /// A write that stayed after a failure.
    pub(crate) fn stayed(&self) -> Style {
        self.fg(self.palette.stayed).add_modifier(Modifier::BOLD)
    }
    pub(crate) fn current_line(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    pub(crate) fn breakpoint(&self) -> Style {
        self.fg(self.palette.breakpoint)
    }
    pub(crate) fn emphasis(&self) -> Style {
        Style::default().add_modifier(Modifier::ITALIC)
    }
    /// Inline code and code blocks in lesson text.
    pub(crate) fn code(&self) -> Style {
        self.fg(self.palette.code)
    }
    pub fn status(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}
