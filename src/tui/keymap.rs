//! Every key binding, in one table: the key handler, the help overlay, the
//! status line and the README's key table are all generated from it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies. Global bindings work whatever pane has focus,
/// but not in an overlay (the help, a prompt, a question...), which has
/// only its own keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Global,
    Editor,
    Debugger,
    Keyspace,
    Lesson,
    Cli,
    HelpOverlay,
    Prompt,
    ListOverlay,
    ValueDetail,
    Question,
}

impl Context {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Context::Global => "anywhere",
            Context::Editor => "editor",
            Context::Debugger => "debugger pane",
            Context::Keyspace => "keyspace pane",
            Context::Lesson => "lesson pane",
            Context::Cli => "redis-cli pane",
            Context::HelpOverlay => "help",
            Context::Prompt => "prompt",
            Context::ListOverlay => "a list (lessons, probe findings)",
            Context::ValueDetail => "value shown whole",
            Context::Question => "a question",
        }
    }

    /// Whether a plain letter can be a key here (not where text is typed).
    pub(crate) fn takes_letters_as_keys(self) -> bool {
        !matches!(
            self,
            Context::Global | Context::Editor | Context::Cli | Context::Prompt
        )
    }

    /// The help, a prompt, the list, a value, a question: over the panes.
    pub(crate) fn is_overlay(self) -> bool {
        matches!(
            self,
            Context::HelpOverlay
                | Context::Prompt
                | Context::ListOverlay
                | Context::ValueDetail
                | Context::Question
        )
    }
}

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Run,
    StepOver,
    StepInto,
    StepOut,
    NextCall,
    StepBack,
    PreviousCall,
    ToggleBreakpoint,
    DebugStart,
    DebugEnd,
    GotoFailure,
    UndoRun,
    Stop,
    EditArgs,
    NextBuffer,
    PreviousBuffer,
    FocusNext,
    FocusPrevious,
    Save,
    Quit,
    Help,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    /// The first row of a list (Home).
    First,
    /// The last row of a list (End).
    Last,
    Filter,
    Detail,
    Open,
    Undo,
    Redo,
    CheckScript,
    NextHint,
    NextLesson,
    PreviousLesson,
    ResetLesson,
    LessonList,
    SelectAll,
    CliRun,
    HistoryBack,
    HistoryForward,
    ClearLine,
    ClearScreen,
    Indent,
    Dedent,
    LeaveEditor,
    FocusEditor,
    FocusKeyspace,
    FocusDebugger,
    FocusLesson,
    FocusCli,
    Zoom,
    Present,
    FileStart,
    FileEnd,
    Copy,
    Cut,
    Paste,
    /// Probe the script for partial writes (`redstep probe`).
    Probe,
    /// Put the debugger's cursor on a step given by number.
    GotoStep,
    /// Close an overlay without a change.
    Close,
    /// Take what an overlay offers (a prompt's input, the chosen lesson).
    Accept,
    DeleteBack,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub context: Context,
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    /// How the key is written in help texts.
    pub keys: &'static str,
    pub command: Command,
    pub description: &'static str,
    /// The status line's word for it ("" when not shown there).
    pub hint: &'static str,
}

const fn bind(
    context: Context,
    code: KeyCode,
    modifiers: KeyModifiers,
    keys: &'static str,
    command: Command,
    description: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        context,
        code,
        modifiers,
        keys,
        command,
        description,
        hint,
    }
}

use Command::*;
use Context::*;

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;
const ALT: KeyModifiers = KeyModifiers::ALT;

pub const BINDINGS: &[Binding] = &[
    bind(
        Global,
        KeyCode::F(5),
        NONE,
        "F5",
        Run,
        "run, or continue to the next breakpoint",
        "run",
    ),
    bind(
        Global,
        KeyCode::F(10),
        NONE,
        "F10",
        StepOver,
        "step over (next line in this function)",
        "step",
    ),
    bind(
        Global,
        KeyCode::F(11),
        NONE,
        "F11",
        StepInto,
        "step into (next line, entering functions)",
        "",
    ),
    bind(
        Global,
        KeyCode::F(11),
        SHIFT,
        "Shift+F11",
        StepOut,
        "step out (next line in the caller)",
        "",
    ),
    bind(
        Global,
        KeyCode::F(8),
        NONE,
        "F8",
        NextCall,
        "step to the next redis.call",
        "next call",
    ),
    bind(
        Global,
        KeyCode::F(7),
        NONE,
        "F7",
        StepBack,
        "step back one line",
        "back",
    ),
    bind(
        Global,
        KeyCode::F(7),
        SHIFT,
        "Shift+F7",
        PreviousCall,
        "back to the previous redis.call",
        "",
    ),
    bind(
        Global,
        KeyCode::F(9),
        NONE,
        "F9",
        ToggleBreakpoint,
        "toggle a breakpoint on the cursor's line",
        "",
    ),
    bind(
        Global,
        KeyCode::F(6),
        NONE,
        "F6",
        UndoRun,
        "undo the last run (what Redis never does)",
        "",
    ),
    bind(
        Global,
        KeyCode::F(2),
        NONE,
        "F2",
        EditArgs,
        "set KEYS and ARGV (k1 k2 , a1 a2)",
        "",
    ),
    bind(
        Global,
        KeyCode::F(3),
        NONE,
        "F3",
        NextBuffer,
        "next script tab",
        "",
    ),
    bind(
        Global,
        KeyCode::F(3),
        SHIFT,
        "Shift+F3",
        PreviousBuffer,
        "previous script tab",
        "",
    ),
    bind(
        Global,
        KeyCode::Esc,
        NONE,
        "Esc",
        Stop,
        "stop a running script / close a prompt / answer a waiting redis-cli command",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('c'),
        CTRL,
        "Ctrl+C",
        Stop,
        "stop a running script / answer a waiting redis-cli command",
        "",
    ),
    bind(
        Global,
        KeyCode::Tab,
        NONE,
        "Tab",
        FocusNext,
        "focus the next pane (in the editor: Esc, then Tab)",
        "focus",
    ),
    bind(
        Global,
        KeyCode::BackTab,
        SHIFT,
        "Shift+Tab",
        FocusPrevious,
        "focus the previous pane",
        "",
    ),
    bind(
        Global,
        KeyCode::Tab,
        ALT,
        "Alt+Tab",
        FocusNext,
        "focus the next pane (Esc then Tab, typed quickly, arrives as this)",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('1'),
        ALT,
        "Alt+1",
        FocusEditor,
        "focus the editor",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('2'),
        ALT,
        "Alt+2",
        FocusKeyspace,
        "focus the keyspace",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('3'),
        ALT,
        "Alt+3",
        FocusDebugger,
        "focus the debugger",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('4'),
        ALT,
        "Alt+4",
        FocusLesson,
        "focus the lesson",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('5'),
        ALT,
        "Alt+5",
        FocusCli,
        "focus the redis-cli",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('p'),
        ALT,
        "Alt+P",
        Present,
        "presenter mode: fewer, larger panes, the keys pressed shown (again: back)",
        "",
    ),
    bind(
        Global,
        KeyCode::F(12),
        NONE,
        "F12",
        Zoom,
        "zoom the focused pane to the whole screen (again: back)",
        "",
    ),
    bind(
        Editor,
        KeyCode::Tab,
        NONE,
        "Tab",
        Indent,
        "indent (the selected lines too)",
        "",
    ),
    bind(
        Editor,
        KeyCode::BackTab,
        SHIFT,
        "Shift+Tab",
        Dedent,
        "dedent (the selected lines too)",
        "",
    ),
    bind(
        Editor,
        KeyCode::Esc,
        NONE,
        "Esc Tab",
        LeaveEditor,
        "leave the editor: Esc, then Tab (Esc also stops a running script)",
        "focus",
    ),
    bind(
        Editor,
        KeyCode::Home,
        CTRL,
        "Ctrl+Home",
        FileStart,
        "go to the start of the script",
        "",
    ),
    bind(
        Editor,
        KeyCode::End,
        CTRL,
        "Ctrl+End",
        FileEnd,
        "go to the end of the script",
        "",
    ),
    bind(
        Editor,
        KeyCode::Char('c'),
        CTRL,
        "Ctrl+C",
        Copy,
        "copy the selection (stops a running script)",
        "",
    ),
    bind(
        Editor,
        KeyCode::Char('x'),
        CTRL,
        "Ctrl+X",
        Cut,
        "cut the selection",
        "",
    ),
    bind(
        Editor,
        KeyCode::Char('v'),
        CTRL,
        "Ctrl+V",
        Paste,
        "paste what was copied or cut",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('s'),
        CTRL,
        "Ctrl+S",
        Save,
        "save the script",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('o'),
        CTRL,
        "Ctrl+O",
        Open,
        "open a Lua file in a new tab",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('q'),
        CTRL,
        "Ctrl+Q",
        Quit,
        "quit (scripts are kept)",
        "quit",
    ),
    bind(
        Global,
        KeyCode::F(1),
        NONE,
        "F1",
        Help,
        "show all keys",
        "help",
    ),
    bind(
        Editor,
        KeyCode::Char('z'),
        CTRL,
        "Ctrl+Z",
        Undo,
        "undo an edit",
        "",
    ),
    bind(
        Editor,
        KeyCode::Char('y'),
        CTRL,
        "Ctrl+Y",
        Redo,
        "redo an edit",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('n'),
        NONE,
        "n",
        StepOver,
        "step over",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('s'),
        NONE,
        "s",
        StepInto,
        "step into",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('o'),
        NONE,
        "o",
        StepOut,
        "step out",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('c'),
        NONE,
        "c",
        Run,
        "continue to the next breakpoint",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('b'),
        NONE,
        "b",
        ToggleBreakpoint,
        "toggle a breakpoint on the current line",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('p'),
        NONE,
        "p",
        StepBack,
        "step back",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('r'),
        NONE,
        "r",
        NextCall,
        "next redis.call",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('R'),
        SHIFT,
        "R",
        PreviousCall,
        "previous redis.call",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('f'),
        NONE,
        "f",
        GotoFailure,
        "go to the failure",
        "",
    ),
    bind(
        Debugger,
        KeyCode::PageUp,
        NONE,
        "PgUp",
        PageUp,
        "ten redis.calls back",
        "",
    ),
    bind(
        Debugger,
        KeyCode::PageDown,
        NONE,
        "PgDn",
        PageDown,
        "ten redis.calls on",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('g'),
        NONE,
        "g",
        GotoStep,
        "go to a step by its number",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Home,
        CTRL,
        "Ctrl+Home",
        DebugStart,
        "go to the first step",
        "",
    ),
    bind(
        Debugger,
        KeyCode::End,
        CTRL,
        "Ctrl+End",
        DebugEnd,
        "go to the last step",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('u'),
        NONE,
        "u",
        UndoRun,
        "undo the run (Redis never does)",
        "",
    ),
    bind(
        Debugger,
        KeyCode::Char('?'),
        NONE,
        "?",
        Help,
        "show all keys",
        "",
    ),
    bind(
        Keyspace,
        KeyCode::Up,
        NONE,
        "Up",
        ScrollUp,
        "previous key",
        "",
    ),
    bind(
        Keyspace,
        KeyCode::Down,
        NONE,
        "Down",
        ScrollDown,
        "next key",
        "",
    ),
    bind(
        Keyspace,
        KeyCode::PageUp,
        NONE,
        "PgUp",
        PageUp,
        "page up",
        "",
    ),
    bind(
        Keyspace,
        KeyCode::PageDown,
        NONE,
        "PgDn",
        PageDown,
        "page down",
        "",
    ),
    bind(
        Keyspace,
        KeyCode::Char('/'),
        NONE,
        "/",
        Filter,
        "filter keys by pattern",
        "filter",
    ),
    bind(
        Keyspace,
        KeyCode::Enter,
        NONE,
        "Enter",
        Detail,
        "show the whole value of a key",
        "detail",
    ),
    bind(
        Keyspace,
        KeyCode::Char('?'),
        NONE,
        "?",
        Help,
        "show all keys",
        "",
    ),
    bind(
        Editor,
        KeyCode::Char('a'),
        CTRL,
        "Ctrl+A",
        SelectAll,
        "select all (typing replaces it)",
        "",
    ),
    bind(
        Global,
        KeyCode::Char('p'),
        CTRL,
        "Ctrl+P",
        Probe,
        "probe: try many inputs, list each way the script dies after writing",
        "",
    ),
    bind(
        Global,
        KeyCode::F(4),
        NONE,
        "F4",
        CheckScript,
        "check the lesson's script",
        "check",
    ),
    bind(
        Cli,
        KeyCode::Enter,
        NONE,
        "Enter",
        CliRun,
        "run the command (or --eval NAME keys , args)",
        "send",
    ),
    bind(
        Cli,
        KeyCode::Up,
        NONE,
        "Up",
        HistoryBack,
        "previous command",
        "",
    ),
    bind(
        Cli,
        KeyCode::Down,
        NONE,
        "Down",
        HistoryForward,
        "next command",
        "",
    ),
    bind(
        Cli,
        KeyCode::Char('u'),
        CTRL,
        "Ctrl+U",
        ClearLine,
        "clear the line",
        "",
    ),
    bind(
        Cli,
        KeyCode::Char('l'),
        CTRL,
        "Ctrl+L",
        ClearScreen,
        "clear the pane",
        "",
    ),
    bind(
        Lesson,
        KeyCode::Char('h'),
        NONE,
        "h",
        NextHint,
        "show the next hint",
        "hint",
    ),
    bind(
        Lesson,
        KeyCode::Char('n'),
        NONE,
        "n",
        NextLesson,
        "next lesson",
        "next",
    ),
    bind(
        Lesson,
        KeyCode::Char('p'),
        NONE,
        "p",
        PreviousLesson,
        "previous lesson",
        "",
    ),
    bind(
        Lesson,
        KeyCode::Char('l'),
        NONE,
        "l",
        LessonList,
        "the list of lessons",
        "list",
    ),
    bind(
        Lesson,
        KeyCode::Char('r'),
        NONE,
        "r",
        ResetLesson,
        "reset the lesson (its scripts and keys)",
        "",
    ),
    bind(Lesson, KeyCode::Up, NONE, "Up", ScrollUp, "scroll up", ""),
    bind(
        Lesson,
        KeyCode::Down,
        NONE,
        "Down",
        ScrollDown,
        "scroll down",
        "",
    ),
    bind(Lesson, KeyCode::PageUp, NONE, "PgUp", PageUp, "page up", ""),
    bind(
        Lesson,
        KeyCode::PageDown,
        NONE,
        "PgDn",
        PageDown,
        "page down",
        "",
    ),
    bind(
        Lesson,
        KeyCode::Char('?'),
        NONE,
        "?",
        Help,
        "show all keys",
        "",
    ),
    bind(
        HelpOverlay,
        KeyCode::Up,
        NONE,
        "Up",
        ScrollUp,
        "scroll up",
        "",
    ),
    bind(
        HelpOverlay,
        KeyCode::Down,
        NONE,
        "Down",
        ScrollDown,
        "scroll down",
        "",
    ),
    bind(
        HelpOverlay,
        KeyCode::PageUp,
        NONE,
        "PgUp",
        PageUp,
        "page up",
        "",
    ),
    bind(
        HelpOverlay,
        KeyCode::PageDown,
        NONE,
        "PgDn",
        PageDown,
        "page down",
        "",
    ),
    bind(
        HelpOverlay,
        KeyCode::Esc,
        NONE,
        "Esc",
        Close,
        "close the help (any other key does too)",
        "",
    ),
    bind(
        Prompt,
        KeyCode::Enter,
        NONE,
        "Enter",
        Accept,
        "take the input",
        "",
    ),
    bind(
        Prompt,
        KeyCode::Esc,
        NONE,
        "Esc",
        Close,
        "close the prompt, changing nothing",
        "",
    ),
    bind(
        Prompt,
        KeyCode::Backspace,
        NONE,
        "Backspace",
        DeleteBack,
        "delete the last character",
        "",
    ),
    bind(
        Prompt,
        KeyCode::Char('u'),
        CTRL,
        "Ctrl+U",
        ClearLine,
        "clear the input",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::Up,
        NONE,
        "Up",
        ScrollUp,
        "previous lesson",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::Down,
        NONE,
        "Down",
        ScrollDown,
        "next lesson",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::PageUp,
        NONE,
        "PgUp",
        PageUp,
        "ten up",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::PageDown,
        NONE,
        "PgDn",
        PageDown,
        "ten down",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::Home,
        NONE,
        "Home",
        First,
        "the first",
        "",
    ),
    bind(ListOverlay, KeyCode::End, NONE, "End", Last, "the last", ""),
    bind(
        ListOverlay,
        KeyCode::Enter,
        NONE,
        "Enter",
        Accept,
        "open the chosen lesson, or run the chosen finding to its failure",
        "",
    ),
    bind(
        ListOverlay,
        KeyCode::Esc,
        NONE,
        "Esc",
        Close,
        "close the list (any other key does too)",
        "",
    ),
    bind(
        ValueDetail,
        KeyCode::Esc,
        NONE,
        "Esc",
        Close,
        "close the value",
        "",
    ),
    bind(
        ValueDetail,
        KeyCode::Enter,
        NONE,
        "Enter",
        Close,
        "close the value",
        "",
    ),
    bind(
        ValueDetail,
        KeyCode::Char('q'),
        NONE,
        "q",
        Close,
        "close the value",
        "",
    ),
    bind(
        Question,
        KeyCode::Esc,
        NONE,
        "Esc",
        Close,
        "leave everything as it is (the question's letters answer it)",
        "",
    ),
];

fn matches(binding: &Binding, key: &KeyEvent) -> bool {
    let mods = key.modifiers & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
    if binding.code != key.code {
        return false;
    }
    // Terminals disagree on reporting Shift with upper-case letters and BackTab.
    match key.code {
        KeyCode::Char(_) | KeyCode::BackTab => {
            (mods - KeyModifiers::SHIFT) == (binding.modifiers - KeyModifiers::SHIFT)
        }
        // Esc pressed twice quickly arrives as Alt+Esc: it still stops.
        KeyCode::Esc => (mods - KeyModifiers::ALT) == binding.modifiers,
        _ => mods == binding.modifiers,
    }
}

/// The bindings in force: the defaults above, with the user's remapping
/// (`config.toml`, see [`super::config`]) applied.
#[derive(Clone, Debug)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            bindings: BINDINGS.to_vec(),
        }
    }
}

impl Keymap {
    /// The command a key means where `context` has focus: the pane's own
    /// binding first (Tab indents in the editor), then the global one.
    pub(crate) fn lookup(&self, context: Context, key: &KeyEvent) -> Option<Command> {
        let find = |c: Context| {
            self.bindings
                .iter()
                .filter(|b| b.context == c)
                .find(|b| matches(b, key))
                .map(|b| b.command)
        };
        find(context).or_else(|| {
            if context.is_overlay() {
                None
            } else {
                find(Context::Global)
            }
        })
    }

    /// The status line's hints for a context: (keys, word, command).
    pub(crate) fn hints(&self, context: Context) -> Vec<(&'static str, &'static str, Command)> {
        let own = |b: &Binding| {
            b.context == context
                || (b.context == Context::Global
                    && !self.bindings.iter().any(|o| {
                        o.context == context && o.code == b.code && o.modifiers == b.modifiers
                    }))
        };
        self.bindings
            .iter()
            .filter(|b| !b.hint.is_empty() && own(b))
            .map(|b| (b.keys, b.hint, b.command))
            .collect()
    }

    /// The first key written for `command` (for the status line's pinned keys).
    pub(crate) fn keys_of(&self, command: Command) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.command == command)
    }

    /// Binds `command` to `keys` instead of its default keys. A key the
    /// command had keeps its panes; another key with Ctrl, Alt or no letter
    /// goes to the panes where such a key of the command worked (anywhere,
    /// for most); a plain letter only to the command's panes that are not
    /// text fields. A key taken from another command is that command's no more.
    pub(crate) fn remap(
        &mut self,
        command: Command,
        keys: &[(KeyCode, KeyModifiers, &'static str)],
    ) -> Result<(), String> {
        let template: Vec<Binding> = self
            .bindings
            .iter()
            .filter(|b| b.command == command)
            .cloned()
            .collect();
        let Some(first) = template.first() else {
            return Err("that action has no key to replace".into());
        };
        let mut new = Vec::new();
        for (i, (code, modifiers, text)) in keys.iter().enumerate() {
            let letter = matches!(code, KeyCode::Char(_))
                && modifiers.difference(KeyModifiers::SHIFT).is_empty();
            let contexts: Vec<Context> = if letter {
                let mut panes: Vec<Context> = template
                    .iter()
                    .map(|b| b.context)
                    .filter(|c| c.takes_letters_as_keys())
                    .collect();
                panes.dedup();
                if panes.is_empty() {
                    return Err(format!(
                        "{text:?} would be typed as text in the editor or the redis-cli: use Ctrl, Alt or an F-key"
                    ));
                }
                panes
            } else {
                // Where the command had this very key; else where it had
                // keys that are not plain letters.
                let same: Vec<Context> = template
                    .iter()
                    .filter(|b| b.code == *code && b.modifiers == *modifiers)
                    .map(|b| b.context)
                    .collect();
                let mut panes: Vec<Context> = if same.is_empty() {
                    template
                        .iter()
                        .filter(|b| {
                            !matches!(b.code, KeyCode::Char(_))
                                || !b.modifiers.difference(KeyModifiers::SHIFT).is_empty()
                        })
                        .map(|b| b.context)
                        .collect()
                } else {
                    same
                };
                panes.dedup();
                if panes.is_empty() {
                    panes.push(first.context);
                }
                panes
            };
            for context in contexts {
                let model = template
                    .iter()
                    .find(|b| b.context == context)
                    .unwrap_or(first);
                new.push(Binding {
                    context,
                    code: *code,
                    modifiers: *modifiers,
                    keys: text,
                    command,
                    description: model.description,
                    hint: if i == 0 { first.hint } else { "" },
                });
            }
        }
        let taken = |b: &Binding| {
            b.command == command
                || new.iter().any(|n: &Binding| {
                    n.context == b.context && n.code == b.code && n.modifiers == b.modifiers
                })
        };
        // The new keys take the old ones' place in the table (and the status line).
        let at = self
            .bindings
            .iter()
            .position(|b| b.command == command)
            .map_or(self.bindings.len(), |i| {
                self.bindings[..i].iter().filter(|b| !taken(b)).count()
            });
        self.bindings.retain(|b| !taken(b));
        self.bindings.splice(at..at, new);
        Ok(())
    }
}

/// Keys the status line always shows, at the right, whatever the width.
pub(crate) const PINNED: [Command; 2] = [Command::Help, Command::Quit];

/// The default key table as Markdown (the README's copy is checked against it).
pub fn markdown_table() -> String {
    let mut out = String::from("| keys | where | what |\n|---|---|---|\n");
    for b in BINDINGS {
        out += &format!(
            "| {} | {} | {} |\n",
            b.keys,
            b.context.name(),
            b.description
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(context: Context, key: &KeyEvent) -> Option<Command> {
        Keymap::default().lookup(context, key)
    }

    #[test]
    fn esc_twice_quickly_still_stops() {
        let alt_esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::ALT);
        assert_eq!(lookup(Context::Keyspace, &alt_esc), Some(Command::Stop));
        // In the editor Esc leaves it, or stops a running script first.
        assert_eq!(
            lookup(Context::Editor, &alt_esc),
            Some(Command::LeaveEditor)
        );
        let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(lookup(Context::Editor, &tab), Some(Command::Indent));
        assert_eq!(lookup(Context::Lesson, &tab), Some(Command::FocusNext));
        let f7 = KeyEvent::new(KeyCode::F(7), KeyModifiers::SHIFT);
        assert_eq!(lookup(Context::Editor, &f7), Some(Command::PreviousCall));
        let n = KeyEvent::new(KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(lookup(Context::Debugger, &n), Some(Command::StepOver));
        assert_eq!(
            lookup(Context::Editor, &n),
            None,
            "letters type text in the editor"
        );
    }
}
