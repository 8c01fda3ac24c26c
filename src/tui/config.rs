//! The user's settings: `$XDG_CONFIG_HOME/redstep/config.toml` remaps keys
//! (per action) and recolours roles. A bad file never stops redstep: each
//! problem is told as `file:line: reason` and the defaults stand in for
//! what it could not read.
//!
//! ```toml
//! [keys]
//! step_over = "F6"              # one key, or several: ["F6", "Ctrl+N"]
//!
//! [theme]
//! focused = "lightblue"         # a colour name, "#rrggbb", or 0–255
//! ```

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Color;

use super::keymap::{Command, Keymap, BINDINGS};
use super::theme::Palette;

/// Every action a key can be bound to, by its name in `[keys]`.
pub(crate) const ACTIONS: &[(&str, Command)] = &[
    ("run", Command::Run),
    ("step_over", Command::StepOver),
    ("step_into", Command::StepInto),
    ("step_out", Command::StepOut),
    ("next_call", Command::NextCall),
    ("step_back", Command::StepBack),
    ("previous_call", Command::PreviousCall),
    ("toggle_breakpoint", Command::ToggleBreakpoint),
    ("debug_start", Command::DebugStart),
    ("debug_end", Command::DebugEnd),
    ("goto_failure", Command::GotoFailure),
    ("undo_run", Command::UndoRun),
    ("stop", Command::Stop),
    ("edit_args", Command::EditArgs),
    ("next_buffer", Command::NextBuffer),
    ("previous_buffer", Command::PreviousBuffer),
    ("focus_next", Command::FocusNext),
    ("focus_previous", Command::FocusPrevious),
    ("save", Command::Save),
    ("quit", Command::Quit),
    ("help", Command::Help),
    ("scroll_up", Command::ScrollUp),
    ("scroll_down", Command::ScrollDown),
    ("page_up", Command::PageUp),
    ("page_down", Command::PageDown),
    ("first", Command::First),
    ("last", Command::Last),
    ("filter", Command::Filter),
    ("goto_step", Command::GotoStep),
    ("detail", Command::Detail),
    ("open", Command::Open),
    ("undo", Command::Undo),
    ("redo", Command::Redo),
    ("check_script", Command::CheckScript),
    ("next_hint", Command::NextHint),
    ("next_lesson", Command::NextLesson),
    ("previous_lesson", Command::PreviousLesson),
    ("reset_lesson", Command::ResetLesson),
    ("lesson_list", Command::LessonList),
    ("select_all", Command::SelectAll),
    ("cli_run", Command::CliRun),
    ("history_back", Command::HistoryBack),
    ("history_forward", Command::HistoryForward),
    ("clear_line", Command::ClearLine),
    ("clear_screen", Command::ClearScreen),
    ("indent", Command::Indent),
    ("dedent", Command::Dedent),
    ("leave_editor", Command::LeaveEditor),
    ("focus_editor", Command::FocusEditor),
    ("focus_keyspace", Command::FocusKeyspace),
    ("focus_debugger", Command::FocusDebugger),
    ("focus_lesson", Command::FocusLesson),
    ("focus_cli", Command::FocusCli),
    ("zoom", Command::Zoom),
    ("present", Command::Present),
    ("file_start", Command::FileStart),
    ("file_end", Command::FileEnd),
    ("copy", Command::Copy),
    ("cut", Command::Cut),
    ("paste", Command::Paste),
    ("probe", Command::Probe),
    ("close", Command::Close),
    ("accept", Command::Accept),
    ("delete_back", Command::DeleteBack),
];

/// Where the config file is: `$XDG_CONFIG_HOME/redstep/config.toml`.
pub fn path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "redstep").map(|d| d.config_dir().join("config.toml"))
}

/// What a config file gives, and what was wrong in it.
#[derive(Default)]
pub struct Settings {
    pub keymap: Keymap,
    pub palette: Palette,
    /// `file:line: reason`, one per problem.
    pub problems: Vec<String>,
}

/// Reads the config file at `path`; a missing file is the defaults.
pub fn load(path: &Path) -> Settings {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Settings::default(),
        Err(e) => Settings {
            problems: vec![format!("{}: cannot read it: {e}", path.display())],
            ..Settings::default()
        },
    }
}

/// The settings `text` gives (`name` is how problems name the file).
pub fn parse(name: &str, text: &str) -> Settings {
    let mut settings = Settings::default();
    let table: toml::Table = match toml::from_str(text) {
        Ok(table) => table,
        Err(e) => {
            let line = e.span().map_or(1, |span| line_of(text, span.start));
            let reason = e.message().trim().to_string();
            settings.problems.push(format!("{name}:{line}: {reason}"));
            return settings;
        }
    };
    for (section, value) in &table {
        let at = |key: &str| line_of_key(text, section, key);
        let Some(entries) = value.as_table() else {
            settings.problems.push(format!(
                "{name}:{}: [{section}] should be a table of settings",
                at(section)
            ));
            continue;
        };
        match section.as_str() {
            "keys" => {
                for (action, keys) in entries {
                    let line = at(action);
                    let Some(&(_, command)) = ACTIONS.iter().find(|(n, _)| n == action) else {
                        settings.problems.push(format!(
                            "{name}:{line}: no action is called {action:?} (`redstep config --print` lists them)"
                        ));
                        continue;
                    };
                    let words: Vec<&str> = match keys {
                        toml::Value::String(s) => vec![s.as_str()],
                        toml::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                        _ => Vec::new(),
                    };
                    if words.is_empty() {
                        settings.problems.push(format!(
                            "{name}:{line}: {action} wants a key (\"F6\") or a list of keys"
                        ));
                        continue;
                    }
                    let remapped = words
                        .iter()
                        .map(|w| parse_key(w))
                        .collect::<Result<Vec<_>, _>>()
                        .and_then(|keys| settings.keymap.remap(command, &keys));
                    if let Err(e) = remapped {
                        settings.problems.push(format!("{name}:{line}: {e}"));
                    }
                }
            }
            "theme" => {
                for (role, colour) in entries {
                    let line = at(role);
                    let parsed = colour
                        .as_str()
                        .map(|s| s.parse::<Color>().map_err(|_| s.to_string()))
                        .or_else(|| {
                            colour
                                .as_integer()
                                .filter(|n| (0..=255).contains(n))
                                .map(|n| Ok(Color::Indexed(n as u8)))
                        });
                    let mut roles = settings.palette.roles();
                    let Some((_, slot)) = roles.iter_mut().find(|(r, _)| r == role) else {
                        let names: Vec<&str> = Palette::default().roles().map(|(n, _)| n).to_vec();
                        settings.problems.push(format!(
                            "{name}:{line}: no colour role is called {role:?} (roles: {})",
                            names.join(", ")
                        ));
                        continue;
                    };
                    match parsed {
                        Some(Ok(c)) => **slot = c,
                        _ => settings.problems.push(format!(
                            "{name}:{line}: {role}: not a colour (a name such as \"red\", \"#rrggbb\", or 0–255)"
                        )),
                    }
                }
            }
            other => settings.problems.push(format!(
                "{name}:{}: unknown section [{other}] (there are [keys] and [theme])",
                at(other)
            )),
        }
    }
    settings
}

/// A key as written in the help: `F6`, `Ctrl+N`, `Alt+Shift+Left`, `Esc`, `?`.
pub(crate) fn parse_key(text: &str) -> Result<(KeyCode, KeyModifiers, &'static str), String> {
    let parts: Vec<&str> = text.split('+').collect();
    // `+` itself, or `Ctrl++`.
    let (mods, last) = if text.ends_with("++") || text == "+" {
        (&parts[..parts.len().saturating_sub(2)], "+")
    } else {
        (&parts[..parts.len() - 1], *parts.last().unwrap_or(&""))
    };
    let mut modifiers = KeyModifiers::NONE;
    for m in mods {
        modifiers |= match m.to_ascii_lowercase().as_str() {
            "ctrl" | "control" => KeyModifiers::CONTROL,
            "alt" | "meta" => KeyModifiers::ALT,
            "shift" => KeyModifiers::SHIFT,
            _ => return Err(format!("{text:?}: {m:?} is not Ctrl, Alt or Shift")),
        };
    }
    let lower = last.to_ascii_lowercase();
    let code = match lower.as_str() {
        "esc" | "escape" => KeyCode::Esc,
        "enter" | "return" => KeyCode::Enter,
        "tab" if modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        "tab" => KeyCode::Tab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pagedown" => KeyCode::PageDown,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "space" => KeyCode::Char(' '),
        f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) => {
            KeyCode::F(f[1..].parse().expect("checked"))
        }
        _ if last.chars().count() == 1 => {
            let c = last.chars().next().expect("one character");
            // Ctrl and Alt letters arrive lower-case; Shift is the capital.
            if modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
                KeyCode::Char(c.to_ascii_lowercase())
            } else if modifiers.contains(KeyModifiers::SHIFT) {
                KeyCode::Char(c.to_ascii_uppercase())
            } else {
                KeyCode::Char(c)
            }
        }
        _ => return Err(format!("{text:?} is not a key (F1–F24, Ctrl+X, Alt+1, Esc, Enter, Tab, Up, PgDn, a character…)")),
    };
    Ok((
        code,
        modifiers,
        Box::leak(text.to_string().into_boxed_str()),
    ))
}

/// The config file with every action at its default keys and every colour
/// (`redstep config --print`).
pub fn defaults() -> String {
    let mut out = String::from(
        "# redstep's settings: $XDG_CONFIG_HOME/redstep/config.toml (usually\n\
         # ~/.config/redstep/config.toml). Keys are written as in the help (F1):\n\
         # \"F6\", \"Ctrl+N\", \"Alt+1\", \"Shift+F7\"; several: [\"F6\", \"Ctrl+N\"].\n\
         # A remapped action keeps the panes it works in; a key taken from\n\
         # another action leaves that action.\n\n[keys]\n",
    );
    for (name, command) in ACTIONS {
        let keys: Vec<String> = BINDINGS
            .iter()
            .filter(|b| b.command == *command)
            .map(|b| format!("{:?}", key_text(b.code, b.modifiers)))
            .collect();
        let what = BINDINGS
            .iter()
            .find(|b| b.command == *command)
            .map_or("", |b| b.description);
        let mut seen = Vec::new();
        let keys: Vec<String> = keys
            .into_iter()
            .filter(|k| {
                let new = !seen.contains(k);
                seen.push(k.clone());
                new
            })
            .collect();
        out += &format!("# {name} = [{}]  # {what}\n", keys.join(", "));
    }
    out += "\n# Colours: a name (\"red\", \"lightblue\"), \"#rrggbb\", or 0–255.\n[theme]\n";
    for (role, colour) in Palette::default().roles() {
        out += &format!("# {role} = \"{}\"\n", colour_name(*colour));
    }
    out
}

/// A key as [`parse_key`] reads it.
pub(crate) fn key_text(code: KeyCode, modifiers: KeyModifiers) -> String {
    let mut out = String::new();
    for (m, name) in [
        (KeyModifiers::CONTROL, "Ctrl+"),
        (KeyModifiers::ALT, "Alt+"),
        (KeyModifiers::SHIFT, "Shift+"),
    ] {
        // A capital letter says Shift by itself.
        if modifiers.contains(m) && !(m == KeyModifiers::SHIFT && matches!(code, KeyCode::Char(_)))
        {
            out += name;
        }
    }
    out += &match code {
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Char(' ') => "Space".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::BackTab | KeyCode::Tab => "Tab".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other:?}"),
    };
    out
}

fn colour_name(colour: Color) -> String {
    format!("{colour}").to_lowercase()
}

/// The line (from 1) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `key` is set in `[section]` (or the section's own line).
fn line_of_key(text: &str, section: &str, key: &str) -> usize {
    let mut in_section = false;
    let mut section_line = 1;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line.trim_matches(|c| c == '[' || c == ']').trim() == section;
            if in_section {
                section_line = i + 1;
            }
            if in_section && key == section {
                return i + 1;
            }
        } else if in_section {
            let name = line
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if name == key {
                return i + 1;
            }
        }
    }
    section_line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Context;
    use crossterm::event::KeyEvent;

    #[test]
    fn a_remapped_key_runs_its_action_and_leaves_the_old_one() {
        let s = parse(
            "c.toml",
            "[keys]\nstep_over = \"F6\"\n[theme]\nfocused = \"#ff8800\"\n",
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let f6 = KeyEvent::new(KeyCode::F(6), KeyModifiers::NONE);
        let f10 = KeyEvent::new(KeyCode::F(10), KeyModifiers::NONE);
        assert_eq!(
            s.keymap.lookup(Context::Editor, &f6),
            Some(Command::StepOver)
        );
        assert_eq!(s.keymap.lookup(Context::Editor, &f10), None);
        // F6 was undo-run's: it is step over's now; `u` in the debugger still undoes.
        let u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::NONE);
        assert_eq!(
            s.keymap.lookup(Context::Debugger, &u),
            Some(Command::UndoRun)
        );
        // The status line says the new key.
        assert!(s
            .keymap
            .hints(Context::Editor)
            .iter()
            .any(|(k, w, _)| *k == "F6" && *w == "step"));
        assert_eq!(s.palette.focused, Color::Rgb(0xff, 0x88, 0x00));
    }

    #[test]
    fn problems_name_the_file_and_line_and_the_defaults_stand() {
        let s = parse(
            "c.toml",
            "[keys]\nstep_over = \"F99\"\nwarp = \"F6\"\n\n[theme]\nok = \"blurple\"\n",
        );
        assert_eq!(
            s.problems,
            [
                "c.toml:2: \"F99\" is not a key (F1–F24, Ctrl+X, Alt+1, Esc, Enter, Tab, Up, PgDn, a character…)",
                "c.toml:3: no action is called \"warp\" (`redstep config --print` lists them)",
                "c.toml:6: ok: not a colour (a name such as \"red\", \"#rrggbb\", or 0–255)",
            ]
        );
        let f10 = KeyEvent::new(KeyCode::F(10), KeyModifiers::NONE);
        assert_eq!(
            s.keymap.lookup(Context::Editor, &f10),
            Some(Command::StepOver)
        );
        let broken = parse("c.toml", "[keys]\nstep_over = \n");
        assert_eq!(broken.problems.len(), 1);
        assert!(
            broken.problems[0].starts_with("c.toml:2: "),
            "{:?}",
            broken.problems
        );
        let letter = parse("c.toml", "[keys]\nsave = \"s\"\n");
        assert!(
            letter.problems[0].contains("would be typed as text"),
            "{:?}",
            letter.problems
        );
        // A letter is fine for an action of the panes that take no text.
        let lesson = parse("c.toml", "[keys]\nreset_lesson = \"R\"\n");
        assert!(lesson.problems.is_empty(), "{:?}", lesson.problems);
    }

    #[test]
    fn the_printed_defaults_parse_to_the_defaults() {
        // Uncommented, every setting must be understood and change nothing.
        let uncommented: String = defaults()
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(setting) if setting.contains(" = ") => {
                    setting.split("  #").next().unwrap_or(setting)
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let s = parse("defaults", &uncommented);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(s.palette, Palette::default());
        for b in BINDINGS {
            let key = KeyEvent::new(b.code, b.modifiers);
            assert_eq!(
                s.keymap.lookup(b.context, &key),
                Keymap::default().lookup(b.context, &key),
                "{} in the {}",
                b.keys,
                b.context.name()
            );
        }
    }
}
