//! The TUI's model: everything the screen shows, changed only by
//! [`App::update`] from a [`Msg`] (a key, a mouse click, the engine's
//! answer). What the model wants done outside — send a command, stop the
//! script, write a file — comes back as [`Effect`]s, so tests drive the
//! whole TUI without a terminal or an engine thread.

use std::collections::{BTreeSet, VecDeque};
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use ratatui_textarea::{CursorMove, TextArea};

use crate::engine::keyspace::Entry;
use crate::engine::Reply;
use crate::host::{KeyPage, Outgoing, Request, Response};
use crate::protocol::cli::{format_tty, split_args};
use crate::run::{eval_argv, parse_keys_args};
pub use crate::trace::KeyMark;
use crate::trace::{self, export, Answer, Limits, Move, Start, Why};

use super::keymap::{self, Command, Context};
use super::layout::{self, Areas};
use super::lesson::{self, LessonState, Mark};
use super::opening::{BufferSpec, Opening};
use super::theme::Theme;
use super::workspace::{disk_hash, Saved, SavedBuffer};
use crate::lessons::check::CheckResult;
use crate::lessons::Lesson;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Editor,
    Keyspace,
    Debugger,
    Lesson,
    Cli,
}

impl Focus {
    const ORDER: [Focus; 5] = [
        Focus::Editor,
        Focus::Keyspace,
        Focus::Debugger,
        Focus::Lesson,
        Focus::Cli,
    ];

    pub fn context(self) -> Context {
        match self {
            Focus::Editor => Context::Editor,
            Focus::Keyspace => Context::Keyspace,
            Focus::Debugger => Context::Debugger,
            Focus::Lesson => Context::Lesson,
            Focus::Cli => Context::Cli,
        }
    }

    /// The next pane `by` steps away (the lesson pane only with a lesson).
    fn next(self, by: isize, with_lesson: bool) -> Focus {
        let order: Vec<Focus> = Focus::ORDER
            .into_iter()
            .filter(|f| with_lesson || *f != Focus::Lesson)
            .collect();
        let i = order.iter().position(|f| *f == self).unwrap_or(0) as isize;
        order[(i + by).rem_euclid(order.len() as isize) as usize]
    }
}

/// Something for the model to react to.
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Engine(Outgoing),
    /// A lesson's checks ran (off the UI thread).
    Checked(Vec<CheckResult>),
    /// Time passed (only asked for while something is pending).
    Tick,
    /// Text pasted into the terminal (bracketed paste): one edit.
    Paste(String),
    /// The terminal got the focus back: files may have changed meanwhile.
    FocusGained,
    /// The files of these buffers as they are on disk now (None: missing),
    /// read for the reason given.
    FilesRead(Vec<(usize, Option<String>)>, AfterRead),
}

/// Why buffers' files were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterRead {
    /// At start: the workspace may hold edits the disk does not have.
    Open,
    /// Back from elsewhere: was a file changed by another program?
    Look,
    /// Ctrl+S: write unless the file changed on disk since it was read.
    Save,
    /// Quitting, the edits discarded: take the files' text back.
    Discard,
}

/// Something the model wants done outside it.
#[derive(Debug)]
pub enum Effect {
    Send(Vec<Vec<u8>>),
    Request(RequestKind),
    /// Stop the running script.
    Interrupt,
    /// Write a file (atomically).
    Write(PathBuf, String),
    /// Save the buffers to the workspace.
    SaveWorkspace,
    /// Run the current lesson's checks on this script; answer with `Msg::Checked`.
    RunChecks(Box<Lesson>, String),
    /// Open lesson N of the list with its saved buffers: call [`App::open_lesson`].
    OpenLesson(usize),
    /// Save the lesson progress.
    SaveProgress,
    /// Read these buffers' files; answer with `Msg::FilesRead`.
    ReadFiles(Vec<(usize, PathBuf)>, AfterRead),
    /// Put text on the system clipboard (OSC 52, where the terminal allows).
    Clipboard(String),
    Quit,
}

/// A [`Request`] with what is needed to build it (requests carry boxed
/// engine types; this keeps effects easy to inspect in tests).
#[derive(Debug)]
pub enum RequestKind {
    Trace {
        argv: Vec<Vec<u8>>,
        start: Start,
    },
    Keys {
        pattern: Vec<u8>,
        offset: usize,
        count: usize,
    },
    Key(Vec<u8>),
    Undo,
}

pub struct Buffer {
    pub name: String,
    pub path: Option<PathBuf>,
    pub area: TextArea<'static>,
    /// The text area a reload replaced (see [`Buffer::replace_text`]).
    previous: Option<Box<TextArea<'static>>>,
    pub args: String,
    pub breakpoints: BTreeSet<u32>,
    /// First visible line and column.
    pub top: usize,
    pub left: usize,
    /// Changed since it was last written to its file.
    pub modified: bool,
    /// A hash of the file's content when it was last read or written (None:
    /// no file yet, or not known), to notice changes made by other programs.
    pub disk: Option<String>,
}

impl Buffer {
    fn new(spec: BufferSpec, breakpoints: Vec<u32>, disk: Option<String>) -> Buffer {
        Buffer {
            area: text_area(&spec.text),
            previous: None,
            name: spec.name,
            path: spec.path,
            args: spec.args,
            breakpoints: breakpoints.into_iter().collect(),
            top: 0,
            left: 0,
            modified: false,
            disk,
        }
    }

    /// Replaces the whole text; Ctrl+Z, once nothing newer is left to
    /// undo, brings the old text back with its own undo history.
    fn replace_text(&mut self, text: &str) {
        let old = std::mem::replace(&mut self.area, text_area(text));
        self.previous = Some(Box::new(old));
    }

    /// Ctrl+Z: the last edit, or else the text a reload replaced.
    fn undo(&mut self) -> bool {
        if self.area.undo() {
            return true;
        }
        match self.previous.take() {
            Some(old) => {
                self.area = *old;
                true
            }
            None => false,
        }
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// What a run sends and a save writes: the text with a final newline,
    /// as editors save files (so the SHA1 is the one `redis-cli --eval
    /// FILE` gives for the saved file).
    pub fn file_text(&self) -> String {
        self.text() + "\n"
    }

    fn spec(&self) -> BufferSpec {
        BufferSpec {
            name: self.name.clone(),
            path: self.path.clone(),
            text: self.text(),
            args: self.args.clone(),
        }
    }
}

/// A traced run being looked at: the run's view model (`trace::Session`,
/// built on the engine thread) and which buffer it ran.
pub struct Session {
    pub run: Box<trace::Session>,
    /// The buffer it ran (its gutter shows the run).
    pub buffer: usize,
    /// The buffer was edited since the run.
    pub edited: bool,
}

impl Deref for Session {
    type Target = trace::Session;
    fn deref(&self) -> &trace::Session {
        &self.run
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut trace::Session {
        &mut self.run
    }
}

/// A question in the status line.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptKind {
    Args,
    Filter,
    Open,
    SaveAs,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Why Enter did not take the input (shown after it until it changes).
    pub error: Option<String>,
}

impl PromptKind {
    pub fn label(&self) -> &'static str {
        match self {
            PromptKind::Args => "KEYS , ARGV: ",
            PromptKind::Filter => "filter keys (glob): ",
            PromptKind::Open => "open file: ",
            PromptKind::SaveAs => "save as: ",
        }
    }
}

/// A question answered with one key, asked before anything is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Ask {
    pub question: Question,
    pub text: String,
    /// The keys that answer, with what each does (Esc always cancels).
    pub choices: Vec<(char, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Question {
    ResetLesson,
    GotoLesson(usize),
    UndoRun,
    /// Quitting with edits not written to their files.
    Quit,
    /// Buffer N and its file disagree (the file's text given).
    KeepOrReload(usize, String),
    /// Ctrl+S on buffer N, but its file changed on disk since it was read.
    Overwrite(usize, String),
}

/// A run on the engine: since when, where to put the cursor when it
/// returns, and whether the redis-cli pane asked for it (it prints the reply).
#[derive(Clone, Copy, Debug)]
pub struct Running {
    pub since: Instant,
    pub then: Move,
    pub from_cli: bool,
}

/// What a pending reply is for.
enum Expect {
    /// A line typed in the redis-cli pane.
    Cli,
    /// A setup command: only errors are shown.
    Setup,
}

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

pub struct App {
    pub theme: Theme,
    pub workspace_id: String,
    pub buffers: Vec<Buffer>,
    pub active: usize,
    pub focus: Focus,
    pub session: Option<Session>,
    /// A run is on the engine.
    pub running: Option<Running>,
    pub keys: KeyPage,
    pub key_offset: usize,
    /// Selected row in the keyspace pane (changed keys first, then live ones).
    pub key_selected: usize,
    pub filter: String,
    pub detail: Option<(String, String)>,
    pub cli_input: String,
    pub cli_history: Vec<String>,
    cli_history_pos: Option<usize>,
    pub cli_output: Vec<String>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    pub help_scroll: usize,
    pub message: Option<(String, bool)>,
    pub size: Rect,
    expect: VecDeque<Expect>,
    /// Unsaved-to-workspace edits, since when.
    pub dirty_since: Option<Instant>,
    pub quit: bool,
    /// The lesson being followed, if any.
    pub lesson: Option<LessonState>,
    /// The lesson and the redis-cli share a pane: the one last focused shows.
    pub cli_shown: bool,
    /// Questions waiting for an answer; the first is shown.
    pub asks: VecDeque<Ask>,
    /// Esc was pressed in the editor: a Tab now leaves it.
    pub escaped: bool,
    /// The focused pane fills the screen.
    pub zoom: bool,
    /// What Ctrl+C or Ctrl+X took, for Ctrl+V in any tab.
    clipboard: String,
    /// The key bindings in force (defaults, remapped by the config file).
    pub keymap: keymap::Keymap,
    /// The run being undone on the engine thread (its buffer, edited since).
    undoing: Option<(usize, bool)>,
}

const CLI_SCROLLBACK: usize = 2000;
/// The redis-cli pane's prompt, as redis-cli shows it.
pub const CLI_PROMPT: &str = "127.0.0.1:6379> ";
/// The TUI records up to this much of a run (past the step cap the script
/// runs on unrecorded until it ends or Esc stops it).
pub fn trace_limits() -> Limits {
    Limits {
        max_steps: 500_000,
        max_bytes: 256 * 1024 * 1024,
        ..Limits::default()
    }
}

/// A text area holding `text`, with redstep's settings.
fn text_area(text: &str) -> TextArea<'static> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut area = TextArea::new(if lines.is_empty() {
        vec![String::new()]
    } else {
        lines
    });
    area.set_max_histories(1000);
    area
}

/// The buffers to open: the saved ones if any, else the opening's (a file
/// just read is known to be on disk as it is).
fn buffers_of(opening: &Opening, saved: Option<Saved>) -> (Vec<Buffer>, usize) {
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
    pub fn new(opening: Opening, saved: Option<Saved>, theme: Theme, size: Rect) -> App {
        let (buffers, active) = buffers_of(&opening, saved);
        App {
            theme,
            workspace_id: opening.id,
            buffers,
            active,
            focus: Focus::Editor,
            session: None,
            running: None,
            keys: KeyPage::default(),
            key_offset: 0,
            key_selected: 0,
            filter: "*".into(),
            detail: None,
            cli_input: String::new(),
            cli_history: Vec::new(),
            cli_history_pos: None,
            cli_output: vec![
                "Commands here run on the same engine as the scripts.".into(),
                "--eval NAME k1 , a1 runs a tab.".into(),
            ],
            prompt: None,
            help: false,
            help_scroll: 0,
            message: Some((opening.intro, false)),
            size,
            expect: VecDeque::new(),
            dirty_since: None,
            quit: false,
            lesson: None,
            cli_shown: false,
            asks: VecDeque::new(),
            escaped: false,
            zoom: false,
            clipboard: String::new(),
            keymap: keymap::Keymap::default(),
            undoing: None,
        }
    }

    /// What to do first: the opening's setup, then a first page of keys,
    /// and a look at the files on disk (they are the truth).
    pub fn start(&mut self, setup: &[Vec<Vec<u8>>]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for argv in setup {
            self.expect.push_back(Expect::Setup);
            effects.push(Effect::Send(argv.clone()));
        }
        effects.push(self.refresh_keys());
        effects.extend(self.read_files(AfterRead::Open));
        effects
    }

    /// Reads the files behind the buffers that have one.
    fn read_files(&self, why: AfterRead) -> Option<Effect> {
        let files: Vec<(usize, PathBuf)> = self
            .buffers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| Some((i, b.path.clone()?)))
            .collect();
        (!files.is_empty()).then_some(Effect::ReadFiles(files, why))
    }

    /// Whether the shared pane shows the lesson (else the redis-cli).
    pub fn lesson_shown(&self) -> bool {
        self.lesson.is_some() && !self.cli_shown
    }

    fn set_focus(&mut self, focus: Focus) {
        self.focus = focus;
        match focus {
            Focus::Cli => self.cli_shown = true,
            Focus::Lesson => self.cli_shown = false,
            _ => {}
        }
    }

    pub fn buffer(&self) -> &Buffer {
        &self.buffers[self.active]
    }

    pub fn saved(&self) -> Saved {
        Saved {
            buffers: self
                .buffers
                .iter()
                .map(|b| SavedBuffer {
                    spec: b.spec(),
                    breakpoints: b.breakpoints.iter().copied().collect(),
                    disk: b.disk.clone(),
                })
                .collect(),
            active: self.active,
        }
    }

    pub fn areas(&self) -> Option<Areas> {
        layout::areas(
            self.size,
            self.lesson.is_some(),
            self.zoom.then_some(self.focus),
        )
    }

    /// Whether the loop should wake up by itself (a run to time, edits to save).
    pub fn wants_tick(&self) -> Option<Duration> {
        if self.running.is_some() {
            Some(Duration::from_millis(100))
        } else if self.dirty_since.is_some() {
            Some(Duration::from_millis(500))
        } else {
            None
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => self.key(key),
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(mouse) => self.mouse(mouse),
            Msg::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                vec![self.refresh_keys()]
            }
            Msg::Engine(out) => self.engine(out),
            Msg::Checked(results) => self.checked(results),
            Msg::Tick => match self.dirty_since {
                Some(t) if t.elapsed() >= Duration::from_secs(1) => {
                    self.dirty_since = None;
                    vec![Effect::SaveWorkspace]
                }
                _ => Vec::new(),
            },
            Msg::Paste(text) => self.paste(text),
            Msg::FocusGained => self.read_files(AfterRead::Look).into_iter().collect(),
            Msg::FilesRead(files, why) => self.files_read(files, why),
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), false));
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    // ---- keys ----

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.help {
            match self.keymap.lookup(Context::HelpOverlay, &key) {
                Some(Command::ScrollUp) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Command::ScrollDown) => self.help_scroll += 1,
                Some(Command::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                Some(Command::PageDown) => self.help_scroll += 10,
                _ => self.help = false,
            }
            return Vec::new();
        }
        if !self.asks.is_empty() {
            return self.ask_key(key);
        }
        if self.prompt.is_some() {
            return self.prompt_key(key);
        }
        if std::mem::take(&mut self.escaped)
            && self.focus == Focus::Editor
            && matches!(key.code, KeyCode::Tab | KeyCode::BackTab)
        {
            let by = if key.code == KeyCode::Tab { 1 } else { -1 };
            return self.command(if by == 1 {
                Command::FocusNext
            } else {
                Command::FocusPrevious
            });
        }
        if self.detail.is_some()
            && self.keymap.lookup(Context::ValueDetail, &key) == Some(Command::Close)
        {
            self.detail = None;
            return Vec::new();
        }
        if self.lesson.as_ref().is_some_and(|l| l.list.is_some()) {
            return self.lesson_list_key(key);
        }
        if let Some(command) = self.keymap.lookup(self.focus.context(), &key) {
            return self.command(command);
        }
        match self.focus {
            Focus::Editor => self.editor_key(key),
            Focus::Cli => self.cli_key(key),
            Focus::Keyspace | Focus::Debugger | Focus::Lesson => {
                if matches!(key.code, KeyCode::Char(_))
                    && !key.modifiers.contains(KeyModifiers::CONTROL)
                {
                    self.not_a_text_field();
                }
                Vec::new()
            }
        }
    }

    /// Letters typed where they cannot go: say where typing goes.
    fn not_a_text_field(&mut self) {
        let pane = self.focus.context().name();
        let cli = if self.lesson.is_some() {
            "Alt+5 (or Tab) the redis-cli"
        } else {
            "Tab the redis-cli"
        };
        self.warn(format!(
            "the {pane} is not a text field: Alt+1 goes to the editor, {cli}; ? lists its keys"
        ));
    }

    fn ask(&mut self, question: Question, text: String, choices: &[(char, &str)]) {
        self.asks.push_back(Ask {
            question,
            text,
            choices: choices
                .iter()
                .map(|(c, what)| (*c, what.to_string()))
                .collect(),
        });
    }

    fn ask_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ask = self.asks.front().expect("a question");
        let quit_again = ask.question == Question::Quit
            && self.keymap.lookup(Context::Global, &key) == Some(Command::Quit);
        let close = self.keymap.lookup(Context::Question, &key) == Some(Command::Close);
        let answer = match key.code {
            _ if quit_again => Some('k'),
            _ if close => None,
            KeyCode::Char(c) => {
                let c = c.to_ascii_lowercase();
                if !ask.choices.iter().any(|(k, _)| *k == c) {
                    let keys: Vec<String> =
                        ask.choices.iter().map(|(k, _)| k.to_string()).collect();
                    self.warn(format!(
                        "answer with {} (Esc: leave it as it is)",
                        keys.join(" or ")
                    ));
                    return Vec::new();
                }
                Some(c)
            }
            _ => return Vec::new(),
        };
        let ask = self.asks.pop_front().expect("a question");
        match answer {
            Some(c) => self.answer(ask.question, c),
            None => {
                self.say("nothing changed");
                Vec::new()
            }
        }
    }

    fn answer(&mut self, question: Question, answer: char) -> Vec<Effect> {
        match (question, answer) {
            (Question::ResetLesson, 'y') => self.reset_lesson(),
            (Question::GotoLesson(target), 'y') => {
                vec![Effect::SaveWorkspace, Effect::OpenLesson(target)]
            }
            (Question::UndoRun, 'y') => match &self.session {
                Some(_) if self.running.is_none() => vec![Effect::Request(RequestKind::Undo)],
                _ => Vec::new(),
            },
            (Question::Quit, 's') => {
                let mut effects = Vec::new();
                for i in 0..self.buffers.len() {
                    if self.buffers[i].modified && self.buffers[i].path.is_some() {
                        effects.extend(self.write(i));
                    }
                }
                self.quit = true;
                effects.extend([Effect::SaveWorkspace, Effect::Quit]);
                effects
            }
            (Question::Quit, 'k') => {
                self.quit = true;
                vec![Effect::SaveWorkspace, Effect::Quit]
            }
            (Question::Quit, 'd') => {
                let files: Vec<(usize, PathBuf)> = self
                    .buffers
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.modified)
                    .filter_map(|(i, b)| Some((i, b.path.clone()?)))
                    .collect();
                self.quit = true;
                vec![
                    Effect::ReadFiles(files, AfterRead::Discard),
                    Effect::SaveWorkspace,
                    Effect::Quit,
                ]
            }
            (Question::KeepOrReload(i, text), 'k') => {
                let buffer = &mut self.buffers[i];
                // The edits are knowingly newer than the file: ask no more.
                buffer.disk = Some(disk_hash(&text));
                buffer.modified = true;
                let name = buffer.name.clone();
                self.say(format!("kept the edits to {name}: Ctrl+S writes them"));
                vec![Effect::SaveWorkspace]
            }
            (Question::KeepOrReload(i, text) | Question::Overwrite(i, text), 'r') => {
                self.reload(i, &text);
                vec![Effect::SaveWorkspace]
            }
            (Question::Overwrite(i, _), 'o') => self.write(i),
            _ => {
                self.say("nothing changed");
                Vec::new()
            }
        }
    }

    /// Buffer `i` takes its file's text (Ctrl+Z brings the old one back).
    fn reload(&mut self, i: usize, text: &str) {
        let buffer = &mut self.buffers[i];
        buffer.replace_text(text);
        buffer.modified = false;
        buffer.disk = Some(disk_hash(text));
        let name = buffer.name.clone();
        if let Some(session) = self.session.as_mut().filter(|s| s.buffer == i) {
            session.edited = true;
        }
        self.touch();
        self.say(format!(
            "{name} now holds the file's text (Ctrl+Z brings yours back)"
        ));
    }

    /// What the files hold now, for the reason they were read.
    fn files_read(&mut self, files: Vec<(usize, Option<String>)>, why: AfterRead) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (i, disk) in files {
            let Some(buffer) = self.buffers.get_mut(i) else {
                continue;
            };
            let name = buffer.name.clone();
            let here = disk_hash(&buffer.text());
            match (why, disk) {
                (AfterRead::Discard, Some(text)) => {
                    buffer.replace_text(&text);
                    buffer.modified = false;
                    buffer.disk = Some(disk_hash(&text));
                }
                (AfterRead::Discard, None) => {}
                (AfterRead::Save, disk) => {
                    let unchanged = match &disk {
                        None => true,
                        Some(text) => {
                            let hash = disk_hash(text);
                            buffer.disk.as_deref() == Some(hash.as_str()) || hash == here
                        }
                    };
                    if unchanged {
                        effects.extend(self.write(i));
                    } else {
                        self.ask(
                            Question::Overwrite(i, disk.unwrap_or_default()),
                            format!("{name} changed on disk since redstep read it (another editor?). Write yours over it?"),
                            &[('o', "overwrite the file with this text"), ('r', "reload the file's text here (Ctrl+Z brings yours back)")],
                        );
                    }
                }
                (AfterRead::Open | AfterRead::Look, None) => {
                    if buffer.disk.take().is_some() {
                        buffer.modified = true;
                        self.warn(format!(
                            "{name} is no longer on disk: Ctrl+S writes it again"
                        ));
                    }
                }
                (AfterRead::Open | AfterRead::Look, Some(text)) => {
                    let hash = disk_hash(&text);
                    if hash == here {
                        buffer.modified = false;
                        buffer.disk = Some(hash);
                        continue;
                    }
                    let base = buffer.disk.clone();
                    let disk_moved = base.as_deref() != Some(hash.as_str());
                    let edited_here = base.as_deref() != Some(here.as_str());
                    if !disk_moved {
                        // Edits made here and not written yet.
                        buffer.modified = true;
                        if why == AfterRead::Open {
                            self.ask(
                                Question::KeepOrReload(i, text),
                                format!("{name}: the workspace keeps edits from last time that are not in the file. Keep them?"),
                                &[('k', "keep the edits (Ctrl+S writes them to the file)"), ('r', "reload the file's text (Ctrl+Z brings the edits back)")],
                            );
                        }
                    } else if !edited_here {
                        self.reload(i, &text);
                        self.say(format!(
                            "{name} changed on disk: redstep shows the new text (Ctrl+Z undoes)"
                        ));
                    } else {
                        self.buffers[i].modified = true;
                        self.ask(
                            Question::KeepOrReload(i, text),
                            format!("{name} changed on disk, and has edits here that are not in the file. Which one?"),
                            &[('k', "keep the edits here (Ctrl+S would overwrite the file)"), ('r', "reload the file's text (Ctrl+Z brings the edits back)")],
                        );
                    }
                }
            }
        }
        effects
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.message = None;
        match command {
            Command::Run => self.debug(Move::Continue),
            Command::StepOver => self.debug(Move::StepOver),
            Command::StepInto => self.debug(Move::StepInto),
            Command::StepOut => self.debug(Move::StepOut),
            Command::NextCall => self.debug(Move::NextCall),
            Command::StepBack => self.debug(Move::BackInto),
            Command::PreviousCall => self.debug(Move::PreviousCall),
            Command::DebugStart => self.debug(Move::Start),
            Command::DebugEnd => self.debug(Move::End),
            Command::GotoFailure => self.debug(Move::Failure),
            Command::ToggleBreakpoint => {
                let line = match (&self.session, self.focus) {
                    (Some(s), Focus::Debugger) if s.buffer == self.active => {
                        s.debugger().step().line
                    }
                    _ => self.buffer().area.cursor().0 as u32 + 1,
                };
                let buffer = &mut self.buffers[self.active];
                if !buffer.breakpoints.remove(&line) {
                    buffer.breakpoints.insert(line);
                }
                self.touch();
                Vec::new()
            }
            Command::UndoRun => {
                if self.running.is_some() {
                    return Vec::new();
                }
                match &self.session {
                    Some(session) => {
                        let keys = session.debugger().timeline().outcome.keys_changed.len();
                        self.ask(
                            Question::UndoRun,
                            format!("Undo the run: put the {keys} key(s) it changed back as they were before it (Redis never does this)?"),
                            &[('y', "undo the run's writes"), ('n', "keep them")],
                        );
                        Vec::new()
                    }
                    None => {
                        self.warn("no run to undo: F5 runs the script first");
                        Vec::new()
                    }
                }
            }
            Command::Stop => {
                if self.running.is_some() {
                    self.say("stopping the script…");
                    vec![Effect::Interrupt]
                } else {
                    Vec::new()
                }
            }
            Command::EditArgs => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Args,
                    input: self.buffer().args.clone(),
                    error: None,
                });
                Vec::new()
            }
            Command::Filter => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    input: self.filter.clone(),
                    error: None,
                });
                Vec::new()
            }
            Command::Open => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Open,
                    input: String::new(),
                    error: None,
                });
                Vec::new()
            }
            Command::NextBuffer | Command::PreviousBuffer => {
                let n = self.buffers.len();
                self.active = if command == Command::NextBuffer {
                    (self.active + 1) % n
                } else {
                    (self.active + n - 1) % n
                };
                self.touch();
                Vec::new()
            }
            Command::FocusNext => {
                self.set_focus(self.focus.next(1, self.lesson.is_some()));
                Vec::new()
            }
            Command::FocusPrevious => {
                self.set_focus(self.focus.next(-1, self.lesson.is_some()));
                Vec::new()
            }
            Command::FocusEditor => self.focus_pane(Focus::Editor),
            Command::FocusKeyspace => self.focus_pane(Focus::Keyspace),
            Command::FocusDebugger => self.focus_pane(Focus::Debugger),
            Command::FocusLesson if self.lesson.is_none() => {
                self.warn("no lesson is open: `redstep --lesson ID` opens one");
                Vec::new()
            }
            Command::FocusLesson => self.focus_pane(Focus::Lesson),
            Command::FocusCli => self.focus_pane(Focus::Cli),
            Command::Zoom => {
                self.zoom = !self.zoom;
                vec![self.refresh_keys()]
            }
            Command::LeaveEditor => {
                if self.running.is_some() {
                    return self.command(Command::Stop);
                }
                self.buffers[self.active].area.cancel_selection();
                self.escaped = true;
                self.say("Tab now leaves the editor (Shift+Tab: back a pane); any other key keeps editing");
                Vec::new()
            }
            Command::Indent | Command::Dedent => {
                self.indent(command == Command::Indent);
                Vec::new()
            }
            Command::FileStart | Command::FileEnd => {
                let area = &mut self.buffers[self.active].area;
                area.cancel_selection();
                if command == Command::FileStart {
                    area.move_cursor(CursorMove::Top);
                    area.move_cursor(CursorMove::Head);
                } else {
                    area.move_cursor(CursorMove::Bottom);
                    area.move_cursor(CursorMove::End);
                }
                Vec::new()
            }
            Command::Copy | Command::Cut => {
                if self.running.is_some() {
                    return self.command(Command::Stop);
                }
                let area = &mut self.buffers[self.active].area;
                if area.selection_range().is_none() {
                    self.say("select text first (Shift+arrows, Ctrl+A)");
                    return Vec::new();
                }
                if command == Command::Copy {
                    area.copy();
                } else if area.cut() {
                    self.edited();
                }
                self.clipboard = self.buffers[self.active].area.yank_text();
                let lines = self.clipboard.lines().count().max(1);
                self.say(format!(
                    "{} {lines} line(s): Ctrl+V pastes them",
                    if command == Command::Copy {
                        "copied"
                    } else {
                        "cut"
                    }
                ));
                vec![Effect::Clipboard(self.clipboard.clone())]
            }
            Command::Paste => {
                if self.clipboard.is_empty() {
                    self.say("nothing copied yet (Ctrl+C copies a selection; the terminal's paste works too)");
                    return Vec::new();
                }
                let text = self.clipboard.clone();
                self.paste(text)
            }
            Command::Save => self.save(),
            Command::Quit => {
                let unsaved: Vec<String> = self
                    .buffers
                    .iter()
                    .filter(|b| b.modified && b.path.is_some())
                    .map(|b| b.name.clone())
                    .collect();
                if !unsaved.is_empty() {
                    self.ask(
                        Question::Quit,
                        format!(
                            "{} not written to disk. Quit and…",
                            unsaved.join(", ")
                                + if unsaved.len() == 1 {
                                    " has edits"
                                } else {
                                    " have edits"
                                }
                        ),
                        &[
                            ('s', "save them to their files"),
                            (
                                'k',
                                "keep them in redstep's workspace only (back next time)",
                            ),
                            ('d', "discard them"),
                        ],
                    );
                    return Vec::new();
                }
                self.quit = true;
                vec![Effect::SaveWorkspace, Effect::Quit]
            }
            Command::Help => {
                self.help = true;
                self.help_scroll = 0;
                Vec::new()
            }
            Command::Undo | Command::Redo => {
                let buffer = &mut self.buffers[self.active];
                let changed = if command == Command::Undo {
                    buffer.undo()
                } else {
                    buffer.area.redo()
                };
                if changed {
                    self.edited();
                }
                Vec::new()
            }
            Command::ScrollUp | Command::ScrollDown | Command::PageUp | Command::PageDown
                if self.focus == Focus::Lesson =>
            {
                let by: i32 = match command {
                    Command::ScrollUp => -1,
                    Command::ScrollDown => 1,
                    Command::PageUp => -10,
                    _ => 10,
                };
                if let Some(l) = &mut self.lesson {
                    l.scroll = (l.scroll as i32 + by).max(0) as u16;
                }
                Vec::new()
            }
            Command::ScrollUp => self.select_key(-1),
            Command::ScrollDown => self.select_key(1),
            Command::PageUp => self.select_key(-(self.key_rows() as isize)),
            Command::PageDown => self.select_key(self.key_rows() as isize),
            Command::Detail => self.detail_of_selected(),
            Command::CheckScript => self.check_script(),
            Command::CliRun => self.cli_submit(),
            Command::HistoryBack | Command::HistoryForward => {
                self.cli_history_move(command == Command::HistoryBack);
                Vec::new()
            }
            Command::ClearLine => {
                self.cli_input.clear();
                Vec::new()
            }
            Command::ClearScreen => {
                self.cli_output.clear();
                Vec::new()
            }
            Command::SelectAll => {
                self.buffers[self.active].area.select_all();
                Vec::new()
            }
            Command::NextHint => {
                match &mut self.lesson {
                    Some(l) if l.hints_shown < l.lesson().hints.len() => {
                        l.hints_shown += 1;
                        l.scroll = u16::MAX; // the new hint is at the end
                    }
                    Some(l) if l.lesson().hints.is_empty() => {
                        self.message = Some(("this lesson has no hints".into(), false))
                    }
                    Some(_) => self.message = Some(("that was the last hint".into(), false)),
                    None => {}
                }
                Vec::new()
            }
            Command::NextLesson | Command::PreviousLesson => {
                let Some(l) = &self.lesson else {
                    return Vec::new();
                };
                let target = if command == Command::NextLesson {
                    l.current + 1
                } else {
                    l.current.wrapping_sub(1)
                };
                if target >= l.lessons.len() {
                    self.say(if command == Command::NextLesson {
                        "this is the last lesson"
                    } else {
                        "this is the first lesson"
                    });
                    return Vec::new();
                }
                // A letter typed into the wrong pane must not move a room on.
                let text = format!(
                    "Go to lesson {}, {}? Your scripts here are kept; the keys are set up for that lesson.",
                    target + 1,
                    l.lessons[target].title
                );
                self.ask(
                    Question::GotoLesson(target),
                    text,
                    &[('y', "go to that lesson"), ('n', "stay here")],
                );
                Vec::new()
            }
            Command::ResetLesson => {
                let Some(l) = &self.lesson else {
                    return Vec::new();
                };
                let names: Vec<&str> = l.lesson().buffers.iter().map(|b| b.name.as_str()).collect();
                let text = format!(
                    "Reset lesson {}: {} back to how the lesson starts (your edits are lost), and the keys to its setup?",
                    l.current + 1,
                    names.join(", ")
                );
                self.ask(
                    Question::ResetLesson,
                    text,
                    &[('y', "reset the lesson"), ('n', "keep your work")],
                );
                Vec::new()
            }
            Command::LessonList => {
                if let Some(l) = &mut self.lesson {
                    l.list = Some(l.current);
                }
                Vec::new()
            }
            // Overlays' own keys, handled where each overlay reads its keys.
            Command::Close | Command::Accept | Command::DeleteBack => Vec::new(),
        }
    }

    fn reset_lesson(&mut self) -> Vec<Effect> {
        let Some(l) = &self.lesson else {
            return Vec::new();
        };
        let current = l.current;
        let mut effects = self.open_lesson(current, None);
        self.say("the lesson is back to its start: scripts and keys");
        effects.push(Effect::SaveWorkspace);
        effects
    }

    fn focus_pane(&mut self, pane: Focus) -> Vec<Effect> {
        self.set_focus(pane);
        Vec::new()
    }

    /// Tab / Shift+Tab in the editor: indent or dedent the cursor's line, or
    /// every line the selection touches (a Tab without a selection across
    /// lines inserts spaces to the next tab stop, as editors do).
    fn indent(&mut self, more: bool) {
        let area = &mut self.buffers[self.active].area;
        let selection = area.selection_range();
        let (first, last) = match selection {
            Some(((r0, _), (r1, c1))) => (r0, if c1 == 0 && r1 > r0 { r1 - 1 } else { r1 }),
            None => (area.cursor().0, area.cursor().0),
        };
        if more && selection.is_none() {
            if area.insert_tab() {
                self.edited();
            }
            return;
        }
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
        if changed {
            self.edited();
        }
    }

    /// Pasted text: one edit in a text field, never keys.
    fn paste(&mut self, text: String) -> Vec<Effect> {
        // Terminals send Enter as \r in a paste.
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if let Some(prompt) = &mut self.prompt {
            prompt.input.push_str(&text.replace('\n', " "));
            return Vec::new();
        }
        if !self.asks.is_empty() || self.help {
            self.warn("nothing pasted: answer the question first");
            return Vec::new();
        }
        match self.focus {
            Focus::Editor => {
                let buffer = &mut self.buffers[self.active];
                let before = buffer.area.lines().len();
                let start = buffer.area.cursor().0 as u32 + 1;
                if buffer.area.insert_str(&text) {
                    // Breakpoints below the pasted lines move with their lines.
                    let delta = buffer.area.lines().len() as i64 - before as i64;
                    buffer.breakpoints = buffer
                        .breakpoints
                        .iter()
                        .map(|&l| {
                            if l > start {
                                (l as i64 + delta) as u32
                            } else {
                                l
                            }
                        })
                        .collect();
                    self.edited();
                }
            }
            Focus::Cli => self.cli_input.push_str(&text.replace('\n', " ")),
            _ => {
                self.not_a_text_field();
                self.warn(format!(
                    "nothing pasted: the {} is not a text field (Alt+1: the editor)",
                    self.focus.context().name()
                ));
            }
        }
        Vec::new()
    }

    /// F4: run the lesson's checks on the checked buffer (off the UI thread).
    fn check_script(&mut self) -> Vec<Effect> {
        let Some(l) = &mut self.lesson else {
            self.warn(
                "no lesson is open: `redstep --lesson ID` opens one (`redstep lessons list`)",
            );
            return Vec::new();
        };
        let lesson = l.lesson().clone();
        if lesson.checks.is_empty() {
            self.say("this walk has no checks: the lessons do (redstep lessons list)");
            return Vec::new();
        }
        let name = &lesson.buffers[lesson.checked].name;
        let Some(buffer) = self.buffers.iter().find(|b| &b.name == name) else {
            self.warn(format!("the lesson checks {name}, which is not open"));
            return Vec::new();
        };
        let script = match lesson.buffers[lesson.checked].kind {
            crate::lessons::Kind::Lua => buffer.file_text(),
            crate::lessons::Kind::Commands => buffer.text(),
        };
        l.checking = true;
        let mut effects = vec![Effect::RunChecks(Box::new(lesson), script)];
        if l.started() {
            effects.push(Effect::SaveProgress);
        }
        self.set_focus(Focus::Lesson);
        effects
    }

    fn checked(&mut self, results: Vec<CheckResult>) -> Vec<Effect> {
        let Some(l) = &mut self.lesson else {
            return Vec::new();
        };
        l.checking = false;
        let passed = results.iter().filter(|r| r.passed).count();
        let total = results.len();
        let all = passed == total;
        l.results = Some(results);
        l.scroll = u16::MAX; // the results are at the end
        let id = l.lesson().id.clone();
        let compile_error = l
            .results
            .as_ref()
            .and_then(|r| r.iter().find_map(|r| r.line.filter(|_| !r.passed)));
        if let Some(line) = compile_error {
            self.warn(format!(
                "the script does not compile (line {line}): Redis would run none of it, so no check ran"
            ));
            Vec::new()
        } else if all {
            l.progress.insert(id, Mark::Done);
            self.say(format!(
                "all {total} checks pass — lesson done. n: next lesson"
            ));
            vec![Effect::SaveProgress]
        } else {
            self.warn(format!("{passed} of {total} checks pass. h shows a hint."));
            Vec::new()
        }
    }

    fn lesson_list_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.keymap.lookup(Context::ListOverlay, &key);
        let l = self.lesson.as_mut().expect("a lesson list");
        let selected = l.list.unwrap_or(0);
        match command {
            Some(Command::ScrollUp) => l.list = Some(selected.saturating_sub(1)),
            Some(Command::ScrollDown) => l.list = Some((selected + 1).min(l.lessons.len() - 1)),
            Some(Command::Accept) => {
                l.list = None;
                if selected != l.current {
                    return vec![Effect::SaveWorkspace, Effect::OpenLesson(selected)];
                }
            }
            _ => l.list = None,
        }
        Vec::new()
    }

    /// Opens lesson `index` of the list: its buffers (saved ones if given),
    /// a fresh keyspace with its setup, no run.
    pub fn open_lesson(&mut self, index: usize, saved: Option<Saved>) -> Vec<Effect> {
        let Some(l) = &mut self.lesson else {
            return Vec::new();
        };
        l.current = index.min(l.lessons.len() - 1);
        l.hints_shown = 0;
        l.results = None;
        l.scroll = 0;
        let opening = lesson::opening(l.lesson(), l.current + 1, l.lessons.len());
        let (buffers, active) = buffers_of(&opening, saved);
        self.buffers = buffers;
        self.active = active.min(self.buffers.len() - 1);
        self.workspace_id = opening.id;
        self.close_session();
        self.detail = None;
        self.key_offset = 0;
        self.key_selected = 0;
        self.message = Some((opening.intro, false));
        let mut effects = Vec::new();
        for argv in std::iter::once(vec![b"FLUSHALL".to_vec()]).chain(opening.setup) {
            self.expect.push_back(Expect::Setup);
            effects.push(Effect::Send(argv));
        }
        effects.push(self.refresh_keys());
        effects
    }

    /// The buffers changed: save them to the workspace soon.
    fn touch(&mut self) {
        self.dirty_since.get_or_insert_with(Instant::now);
    }

    fn edited(&mut self) {
        self.buffers[self.active].modified = true;
        self.lesson_started();
        if let Some(session) = &mut self.session {
            if session.buffer == self.active {
                session.edited = true;
            }
        }
        self.touch();
    }

    /// A debugger key: the run's session decides (move, say why not, or
    /// run the script again); with no usable run, a forward move starts one.
    fn debug(&mut self, movement: Move) -> Vec<Effect> {
        if self.running.is_some() {
            return Vec::new();
        }
        let active = self.active;
        let breakpoints = &self.buffers[active].breakpoints;
        let answer = match &mut self.session {
            Some(s) if s.buffer == active && !s.edited => s.command(movement, breakpoints),
            _ => trace::Session::without_run(movement),
        };
        match answer {
            Answer::Moved => Vec::new(),
            Answer::Run(movement) => self.start_run(active, movement),
            Answer::Stayed(Why::RunOver) => {
                self.say("run over: F5 runs it again (writing again); F6 undoes this run");
                Vec::new()
            }
            Answer::Stayed(Why::AlreadyThere) => {
                self.say("already there");
                Vec::new()
            }
            Answer::Stayed(Why::NoRun) => {
                self.warn("no run to step back through: F10 or F5 runs the script");
                Vec::new()
            }
        }
    }

    /// Marks the lesson started (saved with the workspace's next save).
    fn lesson_started(&mut self) {
        if let Some(l) = &mut self.lesson {
            if l.started() {
                self.touch();
            }
        }
    }

    /// Closes the run's session. A big run's model is freed on a thread of
    /// its own: freeing it takes time proportional to the run, which the
    /// UI thread never spends.
    fn close_session(&mut self) {
        if let Some(old) = self.session.take() {
            if old.debugger().len() > 10_000 {
                std::thread::spawn(move || drop(old));
            }
        }
    }

    fn start_run(&mut self, buffer: usize, then: Move) -> Vec<Effect> {
        self.lesson_started();
        let keys_args = match parse_keys_args(&self.buffers[buffer].args) {
            Ok(v) => v,
            Err(e) => {
                self.warn(e);
                return Vec::new();
            }
        };
        let argv = eval_argv(self.buffers[buffer].file_text().into_bytes(), keys_args);
        self.active = buffer;
        self.close_session();
        self.detail = None;
        self.running = Some(Running {
            since: Instant::now(),
            then,
            from_cli: self.focus == Focus::Cli,
        });
        let start = Start::new(then, self.buffers[buffer].breakpoints.clone());
        vec![
            Effect::Request(RequestKind::Trace { argv, start }),
            Effect::SaveWorkspace,
        ]
    }

    fn editor_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Keys the text area would take for its own shortcuts but that a
        // beginner expects elsewhere are already bound in the key map.
        let area = &mut self.buffers[self.active].area;
        let before = area.lines().len();
        let changed = area.input(key);
        if changed {
            let after = self.buffers[self.active].area.lines().len();
            if before != after {
                self.shift_breakpoints(before, after);
            }
            self.edited();
        }
        Vec::new()
    }

    /// Lines inserted or deleted above a breakpoint move it with its line.
    fn shift_breakpoints(&mut self, before: usize, after: usize) {
        let buffer = &mut self.buffers[self.active];
        let row = buffer.area.cursor().0 as u32 + 1;
        let delta = after as i64 - before as i64;
        buffer.breakpoints = buffer
            .breakpoints
            .iter()
            .filter_map(|&l| {
                if l < row || (delta > 0 && l == row && buffer.area.cursor().1 > 0) {
                    Some(l)
                } else {
                    let moved = l as i64 + delta;
                    (moved >= 1 && moved <= after as i64).then_some(moved as u32)
                }
            })
            .collect();
    }

    /// Typing in the redis-cli pane (its other keys are in the key map).
    fn cli_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Backspace => {
                self.cli_input.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.cli_input.push(c)
            }
            _ => {}
        }
        Vec::new()
    }

    /// Up (`back`) or Down through the redis-cli history.
    fn cli_history_move(&mut self, back: bool) {
        if self.cli_history.is_empty() {
            return;
        }
        let last = self.cli_history.len() - 1;
        let pos = match (self.cli_history_pos, back) {
            (None, true) => Some(last),
            (None, false) => None,
            (Some(p), true) => Some(p.saturating_sub(1)),
            (Some(p), false) if p < last => Some(p + 1),
            (Some(_), false) => None,
        };
        self.cli_history_pos = pos;
        self.cli_input = pos.map(|p| self.cli_history[p].clone()).unwrap_or_default();
    }

    fn cli_print(&mut self, text: &str) {
        self.cli_output.extend(text.lines().map(str::to_string));
        if self.cli_output.len() > CLI_SCROLLBACK {
            let extra = self.cli_output.len() - CLI_SCROLLBACK;
            self.cli_output.drain(..extra);
        }
    }

    fn cli_submit(&mut self) -> Vec<Effect> {
        let line = std::mem::take(&mut self.cli_input);
        self.cli_history_pos = None;
        if line.trim().is_empty() {
            return Vec::new();
        }
        if self.cli_history.last() != Some(&line) {
            self.cli_history.push(line.clone());
        }
        self.cli_print(&format!("{CLI_PROMPT}{line}"));
        let argv = match split_args(line.as_bytes()) {
            Ok(argv) => argv,
            Err(_) => {
                self.cli_print("Invalid argument(s)");
                return Vec::new();
            }
        };
        if argv[0].eq_ignore_ascii_case(b"--eval") {
            return self.cli_eval(&argv[1..]);
        }
        if argv[0].eq_ignore_ascii_case(b"clear") {
            self.cli_output.clear();
            return Vec::new();
        }
        if self.running.is_some() {
            self.cli_print("(a script is running. A Redis client sending this now waits; once the script has run 5 s it gets BUSY instead. Here it runs when the script ends: Esc stops the script)");
        }
        // Whether it wrote shows in the next page of keys (see `Response::Keys`).
        self.expect.push_back(Expect::Cli);
        vec![Effect::Send(argv)]
    }

    /// `--eval NAME k1 k2 , a1 a2`: run a tab as redis-cli --eval would.
    fn cli_eval(&mut self, words: &[Vec<u8>]) -> Vec<Effect> {
        let Some(name) = words.first() else {
            self.cli_print("usage: --eval NAME [KEY ...] [, ARG ...]");
            return Vec::new();
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let Some(index) = self.buffers.iter().position(|b| b.name == name) else {
            let names: Vec<&str> = self.buffers.iter().map(|b| b.name.as_str()).collect();
            self.cli_print(&format!("no tab named {name}; tabs: {}", names.join(", ")));
            return Vec::new();
        };
        let rest: Vec<String> = words[1..]
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        self.buffers[index].args = rest
            .iter()
            .map(|w| export::word(w.as_bytes()))
            .collect::<Vec<_>>()
            .join(" ");
        self.cli_print(&format!("(running {name} traced: the debugger shows it)"));
        self.start_run(index, Move::End)
    }

    fn prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.keymap.lookup(Context::Prompt, &key);
        let prompt = self.prompt.as_mut().expect("prompt");
        match (command, key.code) {
            (Some(Command::Close), _) => self.prompt = None,
            (Some(Command::DeleteBack), _) => {
                prompt.input.pop();
                prompt.error = None;
            }
            (Some(Command::Accept), _) => {
                let Prompt { kind, input, .. } = self.prompt.take().expect("prompt");
                return self.prompt_done(kind, input);
            }
            (_, KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.push(c);
                prompt.error = None;
            }
            _ => {}
        }
        Vec::new()
    }

    fn prompt_done(&mut self, kind: PromptKind, input: String) -> Vec<Effect> {
        match kind {
            PromptKind::Args => {
                if let Err(e) = parse_keys_args(&input) {
                    // Said in the prompt itself, which stays open to be mended.
                    self.prompt = Some(Prompt {
                        kind,
                        input,
                        error: Some(e.to_string()),
                    });
                    return Vec::new();
                }
                self.buffers[self.active].args = input;
                self.touch();
                Vec::new()
            }
            PromptKind::Filter => {
                self.filter = if input.trim().is_empty() {
                    "*".into()
                } else {
                    input.trim().to_string()
                };
                self.key_offset = 0;
                self.key_selected = 0;
                vec![self.refresh_keys()]
            }
            PromptKind::Open => {
                let path = PathBuf::from(input.trim());
                match super::opening::file(&path) {
                    Ok(opening) => {
                        let spec = opening.buffers.into_iter().next().expect("one buffer");
                        if let Some(i) = self.buffers.iter().position(|b| b.path == spec.path) {
                            self.active = i;
                        } else {
                            let disk = Some(disk_hash(&spec.text));
                            self.buffers.push(Buffer::new(spec, Vec::new(), disk));
                            self.active = self.buffers.len() - 1;
                        }
                        self.focus = Focus::Editor;
                        self.touch();
                    }
                    Err(e) => self.warn(format!("{e:#}")),
                }
                Vec::new()
            }
            PromptKind::SaveAs => {
                let path = std::path::absolute(input.trim())
                    .unwrap_or_else(|_| PathBuf::from(input.trim()));
                self.buffers[self.active].path = Some(path);
                self.save()
            }
        }
    }

    /// Ctrl+S: first a look at the file, so another program's changes are
    /// not overwritten unasked (see [`AfterRead::Save`]).
    fn save(&mut self) -> Vec<Effect> {
        let buffer = &self.buffers[self.active];
        match &buffer.path {
            Some(path) => vec![Effect::ReadFiles(
                vec![(self.active, path.clone())],
                AfterRead::Save,
            )],
            None => {
                let name = buffer.name.clone();
                self.prompt = Some(Prompt {
                    kind: PromptKind::SaveAs,
                    input: name,
                    error: None,
                });
                Vec::new()
            }
        }
    }

    /// Writes buffer `i` to its file.
    fn write(&mut self, i: usize) -> Vec<Effect> {
        let buffer = &mut self.buffers[i];
        let Some(path) = buffer.path.clone() else {
            return Vec::new();
        };
        buffer.modified = false;
        let text = buffer.file_text();
        buffer.disk = Some(disk_hash(&text));
        self.say(format!("saved {}", path.display()));
        vec![Effect::Write(path, text), Effect::SaveWorkspace]
    }

    // ---- keyspace ----

    /// Rows of the keyspace pane the screen has room for.
    pub fn key_rows(&self) -> usize {
        self.areas()
            .map(|a| a.keyspace.height.saturating_sub(3) as usize)
            .unwrap_or(10)
            .max(1)
    }

    pub fn refresh_keys(&self) -> Effect {
        // The run's keys are left out of the live rows: fetch enough for a
        // screen whatever the run's size.
        let changed = self.session.as_ref().map_or(0, |s| s.key_count());
        Effect::Request(RequestKind::Keys {
            pattern: self.filter.clone().into_bytes(),
            offset: self.key_offset,
            count: self.key_rows() + changed.min(self.key_rows()),
        })
    }

    /// The rows the keyspace pane shows: the run's keys as they are at the
    /// cursor (as many as the pane has rows), then the live page (without
    /// the run's keys). Costs a screen of keys, whatever the run's size.
    pub fn key_lines(&self) -> Vec<KeyLine> {
        let mut lines = Vec::new();
        if let Some(session) = &self.session {
            for k in session.keys(0, self.key_rows()) {
                lines.push(KeyLine {
                    db: k.db,
                    key: k.key.to_vec(),
                    kind: k
                        .entry
                        .map(|e| e.value.kind().name().to_string())
                        .unwrap_or_else(|| "none".into()),
                    ttl_ms: None,
                    value: entry_value(k.entry),
                    before: k.before.map(entry_value),
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

    fn select_key(&mut self, by: isize) -> Vec<Effect> {
        let run_keys = self.session.as_ref().map_or(0, |s| s.key_count());
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

    /// The selected row's index among [`App::key_lines`].
    pub fn selected_line(&self) -> usize {
        let run_keys = self.session.as_ref().map_or(0, |s| s.key_count());
        if self.key_selected < run_keys {
            self.key_selected
        } else {
            run_keys + self.key_selected - run_keys - self.key_offset
        }
    }

    fn detail_of_selected(&mut self) -> Vec<Effect> {
        if let Some(k) = self.session.as_ref().and_then(|s| s.key(self.key_selected)) {
            self.detail = Some((display_key(k.key), export::entry_text(k.entry)));
            return Vec::new();
        }
        let lines = self.key_lines();
        let Some(line) = lines.get(self.selected_line()) else {
            return Vec::new();
        };
        vec![Effect::Request(RequestKind::Key(line.key.clone()))]
    }

    // ---- engine ----

    fn engine(&mut self, out: Outgoing) -> Vec<Effect> {
        match out {
            Outgoing::Reply(reply) => match self.expect.pop_front() {
                Some(Expect::Cli) => {
                    self.cli_print(&format_tty(&reply));
                    vec![self.refresh_keys()]
                }
                Some(Expect::Setup) => {
                    if let Reply::Error(e) = &reply {
                        self.warn(format!("setup failed: {}", String::from_utf8_lossy(e)));
                    }
                    vec![self.refresh_keys()]
                }
                None => Vec::new(),
            },
            Outgoing::Close => {
                // Only if the engine thread died: a bug. Nothing more will run.
                self.running = None;
                self.warn("the engine stopped (a redstep bug — please report it); your scripts are saved, Ctrl+Q quits");
                vec![Effect::SaveWorkspace]
            }
            Outgoing::Response(response) => self.response(*response),
        }
    }

    fn response(&mut self, response: Response) -> Vec<Effect> {
        match response {
            Response::Traced(run) => {
                // Built and placed on the engine thread: nothing here is
                // proportional to the run.
                let running = self.running.take();
                let session = Session {
                    run,
                    buffer: self.active,
                    edited: false,
                };
                let outcome = &session.debugger().timeline().outcome;
                let reply = export::reply_text(&outcome.reply);
                self.message = Some(match (outcome.status, session.compile_error_line()) {
                    (crate::trace::Status::Ok, _) => {
                        (format!("the script returned {reply}"), false)
                    }
                    (_, Some(line)) => (
                        format!("the script did not compile (line {line}): Redis ran none of it — {reply}"),
                        true,
                    ),
                    _ => (reply, true),
                });
                if running.is_some_and(|r| r.from_cli) {
                    let text = format_tty(&outcome.reply);
                    self.cli_print(&text);
                }
                self.session = Some(session);
                self.key_selected = 0;
                vec![self.refresh_keys()]
            }
            Response::Keys(page) => {
                let stale = self
                    .session
                    .as_ref()
                    .is_some_and(|s| page.version > s.keyspace_version && self.undoing.is_none());
                self.keys = page;
                if stale && self.running.is_none() {
                    // Something wrote after the run (a command in the
                    // redis-cli pane, an expiry): its view would lie.
                    self.close_session();
                    self.say("the keyspace changed after the run: the trace is closed");
                    return vec![self.refresh_keys()];
                }
                Vec::new()
            }
            Response::Key(key, entry) => {
                self.detail = Some((display_key(&key), export::entry_text(entry.as_ref())));
                Vec::new()
            }
            Response::Undone(result, run) => {
                let (buffer, edited) = self.undoing.take().unwrap_or((self.active, false));
                self.session = Some(Session {
                    run,
                    buffer,
                    edited,
                });
                match result {
                    Ok(()) => {
                        self.close_session();
                        self.say("the run was undone — Redis itself never does this");
                    }
                    Err(e) => self.warn(format!("cannot undo: {e}")),
                }
                vec![self.refresh_keys()]
            }
        }
    }

    /// The request an effect stands for (the undo needs the session).
    pub fn request(&mut self, kind: RequestKind) -> Option<Request> {
        Some(match kind {
            RequestKind::Trace { argv, start } => Request::Trace {
                argv,
                limits: trace_limits(),
                start,
            },
            RequestKind::Keys {
                pattern,
                offset,
                count,
            } => Request::Keys {
                db: 0,
                pattern: Some(pattern),
                offset,
                count,
            },
            RequestKind::Key(key) => Request::Key { db: 0, key },
            RequestKind::Undo => {
                let session = self.session.take()?;
                self.undoing = Some((session.buffer, session.edited));
                Request::Undo(session.run)
            }
        })
    }

    // ---- mouse ----

    fn mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let Some(areas) = self.areas() else {
            return Vec::new();
        };
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
                .take_while(|&i| super::ui::display_column(&line, i) <= screen_col)
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
                let run_keys = self.session.as_ref().map_or(0, |s| s.key_count());
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

/// The timeline row of the cursor: the last call/error/return at or before it.
pub fn current_row(session: &Session) -> Option<usize> {
    session.current_row()
}

fn entry_value(entry: Option<&Entry>) -> String {
    match entry {
        Some(e) => export::short_value(e, 200),
        None => "(absent)".into(),
    }
}

pub fn display_key(key: &[u8]) -> String {
    export::word(key)
}
