//! The TUI's model: everything the screen shows, changed only by
//! [`App::update`] from a [`Msg`] (a key, a mouse click, the engine's
//! answer). What the model wants done outside — send a command, stop the
//! script, write a file — comes back as [`Effect`]s, so tests drive the
//! whole TUI without a terminal or an engine thread.

// One file per pane below (`editor.rs`, `keyspace.rs`, ...), each an
// `impl App` block that reads these imports through `use super::*`.

use std::collections::{BTreeSet, VecDeque};
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use ratatui_textarea::{CursorMove, TextArea};

use crate::engine::Reply;
use crate::host::{KeyPage, Outgoing, Request, Response};
use crate::protocol::cli::{eval_argv, parse_keys_args};
use crate::protocol::cli::{format_reply, format_tty, split_args};
use crate::trace::words::{self, Look};
use crate::trace::Entry;
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

mod answers;
mod cli;
mod debugger;
mod editor;
mod files;
mod keyspace;
mod lessons;
mod mouse;
mod probe;
mod questions;

pub use cli::CLI_PROMPT;
pub use debugger::Session;
pub use editor::Buffer;
use editor::{buffers_of, Edit};
pub use files::{Prompt, PromptKind};
pub use keyspace::{display_key, KeyLine};
pub use probe::ProbeList;
pub use questions::{Ask, Question};

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

    pub(crate) fn context(self) -> Context {
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
    /// A probe finished (off the UI thread).
    Probed(Box<crate::probe::Report>),
    /// Time passed (only asked for while something is pending).
    Tick,
    /// Text pasted into the terminal (bracketed paste): one edit.
    Paste(String),
    /// The terminal got the focus back: files may have changed meanwhile.
    FocusGained,
    /// The files of these buffers as they are on disk now (None: missing),
    /// read for the reason given.
    FilesRead(Vec<(usize, Option<String>)>, AfterRead),
    /// SIGTERM or SIGHUP: quit at once, every edit kept in the workspace
    /// (nothing written over the files), the terminal restored.
    Terminate,
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
    /// Quitting, the edits saved: as `Save` for each, then quit unless a
    /// file changed on disk (that asks first).
    SaveAndQuit,
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
    /// Probe a script (off the UI thread); answer with `Msg::Probed`.
    Probe(Box<crate::probe::Target>),
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
    /// The engine as node 1 of N cluster masters, or standalone.
    Cluster(Option<usize>),
    /// Answer the redis-cli pane's waiting command now (Esc, Ctrl+C).
    Unblock,
}

/// A run on the engine: since when, of which buffer, where to put the
/// cursor when it returns, whether the redis-cli pane asked for it (it
/// prints the reply), and whether the buffer was edited meanwhile.
#[derive(Clone, Debug)]
pub struct Running {
    pub since: Instant,
    pub buffer: usize,
    pub then: Move,
    pub from_cli: bool,
    pub edited: bool,
    /// What the buffer held when the run started ([`disk_hash`]).
    pub ran: String,
    /// F5 on a finished run: the script runs again from the start, its
    /// writes landing on what the last run left (said when it returns).
    pub again: bool,
}

/// What a pending reply is for.
#[derive(PartialEq)]
enum Expect {
    /// A line typed in the redis-cli pane: the command, to print its
    /// reply as redis-cli does, and when it was sent (a reply that takes
    /// long is waited for: the pane says so).
    Cli(Vec<Vec<u8>>, Instant),
    /// A setup command: only errors are shown.
    Setup,
}

pub struct App {
    pub theme: Theme,
    pub workspace_id: String,
    pub buffers: Vec<Buffer>,
    pub active: usize,
    pub focus: Focus,
    pub session: Option<Session>,
    /// Why the last run's view was closed, said in the debugger pane until
    /// the next run (None: no run, or a new lesson).
    pub closed_why: Option<String>,
    /// A run is on the engine.
    pub running: Option<Running>,
    pub keys: KeyPage,
    /// Working on a real server: `redis 7.0.15 @ host:port` (None: the
    /// embedded engine).
    pub server: Option<String>,
    /// `--cluster`: the engine is node 1 of this many masters (the
    /// keyspace pane shows each key's slot).
    pub cluster: Option<usize>,
    /// The cluster mode redstep was started with (`--cluster`): a lesson
    /// with `cluster = N` changes it while it is open.
    pub started_cluster: Option<usize>,
    /// The mode last asked of the engine (its answer sets `cluster`).
    cluster_asked: Option<usize>,
    /// Other clients' commands sent around each run (typed in the
    /// redis-cli pane as `step 2: GET a`).
    pub lane: Vec<crate::trace::LaneCommand>,
    pub key_offset: usize,
    /// Selected row in the keyspace pane (changed keys first, then live ones).
    pub key_selected: usize,
    pub filter: String,
    pub detail: Option<(String, String)>,
    pub cli_input: String,
    pub cli_history: Vec<String>,
    cli_history_pos: Option<usize>,
    pub cli_output: Vec<String>,
    /// Lines typed in the redis-cli pane while a command there waits for
    /// its reply (BLPOP k 0): run after it, as redis-cli reads the next
    /// line only once a reply is in, so replies follow their commands.
    pub cli_held: VecDeque<String>,
    /// Whether the redis-cli pane's connection speaks RESP3 (after HELLO 3).
    cli_resp3: bool,
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
    /// Presenter mode (`--present`, Alt+P).
    pub present: bool,
    /// The last keys pressed, shown to the room in presenter mode.
    pub recent_keys: std::collections::VecDeque<String>,
    /// What Ctrl+C or Ctrl+X took, for Ctrl+V in any tab.
    clipboard: String,
    /// The key bindings in force (defaults, remapped by the config file).
    pub keymap: keymap::Keymap,
    /// Where the model reads the time (tests can put their own clock here).
    pub clock: fn() -> Instant,
    /// The command being carried out came from a plain letter.
    letter_key: bool,
    /// The opening's setup (the keyspace a probe starts from).
    setup: Vec<Vec<Vec<u8>>>,
    /// A probe's findings, shown as a list, and the selected one; `Some`
    /// with no report while the probe runs.
    pub probe: Option<ProbeList>,
    /// The run being undone on the engine thread (its buffer, edited since).
    undoing: Option<(usize, String)>,
}

/// Where a list's selection goes on a key (Up, Down, PgUp, PgDn, Home,
/// End), among `len` rows; None: not a key that moves it.
fn list_move(command: Option<Command>, selected: usize, len: usize) -> Option<usize> {
    const PAGE: usize = 10;
    let last = len.saturating_sub(1);
    Some(match command? {
        Command::ScrollUp => selected.saturating_sub(1),
        Command::ScrollDown => (selected + 1).min(last),
        Command::PageUp => selected.saturating_sub(PAGE),
        Command::PageDown => (selected + PAGE).min(last),
        Command::First => 0,
        Command::Last => last,
        _ => return None,
    })
}

/// The TUI records up to this much of a run (past the step cap the script
/// runs on unrecorded until it ends or Esc stops it).
pub(crate) fn trace_limits() -> Limits {
    Limits {
        max_steps: 5_000_000,
        max_bytes: 512 * 1024 * 1024,
        run_on_at_max_bytes: true,
        ..Limits::default()
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
            closed_why: None,
            running: None,
            keys: KeyPage::default(),
            server: None,
            cluster: None,
            started_cluster: None,
            cluster_asked: None,
            lane: Vec::new(),
            key_offset: 0,
            key_selected: 0,
            filter: "*".into(),
            detail: None,
            cli_input: String::new(),
            cli_history: Vec::new(),
            cli_history_pos: None,
            cli_resp3: false,
            cli_held: VecDeque::new(),
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
            present: false,
            recent_keys: std::collections::VecDeque::new(),
            clipboard: String::new(),
            keymap: keymap::Keymap::default(),
            clock: Instant::now,
            letter_key: false,
            setup: Vec::new(),
            probe: None,
            undoing: None,
        }
    }

    /// What to do first: the opening's setup, then a first page of keys,
    /// and a look at the files on disk (they are the truth).
    pub fn start(&mut self, setup: &[Vec<Vec<u8>>]) -> Vec<Effect> {
        self.setup = setup.to_vec();
        let mut effects: Vec<Effect> = self.cluster_mode().into_iter().collect();
        for argv in setup {
            self.expect.push_back(Expect::Setup);
            effects.push(Effect::Send(argv.clone()));
        }
        effects.push(self.refresh_keys());
        effects.extend(self.read_files(AfterRead::Open));
        effects
    }

    /// The engine is started in cluster mode (`--cluster`), or not.
    pub fn started_in_cluster(&mut self, shards: Option<usize>) {
        self.cluster = shards;
        self.started_cluster = shards;
        self.cluster_asked = shards;
    }

    /// The request that puts the engine in the mode the open lesson asks
    /// for (`cluster = N`, else the one redstep started with), if it is
    /// not in it.
    /// Compared with the mode last asked for, not the one last answered:
    /// a request waits while a run is on the engine, and lessons may be
    /// switched meanwhile.
    fn cluster_mode(&mut self) -> Option<Effect> {
        let wanted = self
            .lesson
            .as_ref()
            .and_then(|l| l.lesson().cluster)
            .or(self.started_cluster);
        if wanted == self.cluster_asked {
            return None;
        }
        self.cluster_asked = wanted;
        Some(Effect::Request(RequestKind::Cluster(wanted)))
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

    /// What the workspace keeps of the buffers (written on quit).
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

    pub(crate) fn areas(&self) -> Option<Areas> {
        layout::areas(
            self.size,
            self.lesson.is_some(),
            self.zoom.then_some(self.focus),
            self.present.then(|| layout::Present {
                focus: self.focus,
                script_rows: self.buffer().area.lines().len().min(u16::MAX as usize) as u16,
            }),
        )
    }

    /// Whether the loop should wake up by itself (a run to time, edits to save).
    pub(crate) fn wants_tick(&self) -> Option<Duration> {
        let hint_due = self
            .cli_waiting()
            .and_then(|(_, waited)| cli::WAITING_HINT.checked_sub(waited));
        if self.running.is_some() {
            Some(Duration::from_millis(100))
        } else if let Some(due) = hint_due {
            // Once, when the redis-cli pane's hint is due.
            Some(due.max(Duration::from_millis(10)))
        } else if self.dirty_since.is_some() {
            Some(Duration::from_millis(500))
        } else {
            None
        }
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let scroll = self.lesson.as_ref().map(|l| l.scroll);
        let resized = matches!(msg, Msg::Resize(..));
        let effects = self.handle(msg);
        // What the views need kept in range, kept here (the views only read).
        if resized || self.lesson.as_ref().map(|l| l.scroll) != scroll {
            self.clamp_lesson_scroll();
        }
        self.follow_cursor();
        effects
    }

    fn handle(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind != KeyEventKind::Release => {
                if self.present && self.shown_to_room(&key) {
                    self.recent_keys
                        .push_back(super::config::key_text(key.code, key.modifiers));
                    if self.recent_keys.len() > 6 {
                        self.recent_keys.pop_front();
                    }
                }
                self.key(key)
            }
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(mouse) => self.mouse(mouse),
            Msg::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                vec![self.refresh_keys()]
            }
            Msg::Engine(out) => self.engine(out),
            Msg::Checked(results) => self.checked(results),
            Msg::Probed(report) => self.probed(*report),
            Msg::Tick => match self.dirty_since {
                Some(t) if self.now().saturating_duration_since(t) >= Duration::from_secs(1) => {
                    self.dirty_since = None;
                    vec![Effect::SaveWorkspace]
                }
                _ => Vec::new(),
            },
            Msg::Paste(text) => self.paste(text),
            Msg::FocusGained => self.read_files(AfterRead::Look).into_iter().collect(),
            Msg::Terminate => {
                self.quit = true;
                vec![Effect::SaveWorkspace, Effect::Quit]
            }
            Msg::FilesRead(files, why) => self.files_read(files, why),
        }
    }

    /// How the key for `command` is written (as remapped), for messages.
    pub(crate) fn key_for(&self, command: Command) -> &'static str {
        self.keymap.keys_of(command).map_or("?", |b| b.keys)
    }

    /// The time now, from the model's clock.
    pub(crate) fn now(&self) -> Instant {
        (self.clock)()
    }

    /// While a script runs, a lesson cannot change under it (its reply
    /// would land in the next lesson's tab): says so and returns true.
    fn refuse_while_running(&mut self) -> bool {
        if self.running.is_none() {
            return false;
        }
        let stop = self.key_for(Command::Stop);
        self.warn(format!(
            "a script is running: {stop} stops it; then change or reset the lesson"
        ));
        true
    }

    fn say(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), false));
    }

    fn warn(&mut self, text: impl Into<String>) {
        self.message = Some((text.into(), true));
    }

    /// Whether presenter mode shows this key on its top line: a key that
    /// does something (a command, a key in a pane that is not for typing),
    /// never a character typed into the editor, the redis-cli or a prompt
    /// (the room sees the text itself, and a password stays off the wall).
    fn shown_to_room(&self, key: &KeyEvent) -> bool {
        let typing = self.prompt.is_some()
            || (self.asks.is_empty() && matches!(self.focus, Focus::Editor | Focus::Cli));
        if !typing {
            return true;
        }
        let context = if self.prompt.is_some() {
            Context::Prompt
        } else {
            self.focus.context()
        };
        self.keymap.lookup(context, key).is_some()
            || (self.escaped && matches!(key.code, KeyCode::Tab | KeyCode::BackTab))
    }

    fn key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Below 80×24 the screen says so and only quitting works: keys
        // would land in panes the user cannot see. A question (quitting's,
        // with edits not written) shows there too, and its keys answer it.
        if self.areas().is_none() {
            if !self.asks.is_empty() {
                return self.ask_key(key);
            }
            return match self.keymap.lookup(Context::Global, &key) {
                Some(Command::Quit) => self.command(Command::Quit),
                _ => Vec::new(),
            };
        }
        if self.help {
            let max = super::ui::help_scroll_max(&self.theme, &self.keymap, self.size);
            match self.keymap.lookup(Context::HelpOverlay, &key) {
                Some(Command::ScrollUp) => self.help_scroll = self.help_scroll.saturating_sub(1),
                Some(Command::ScrollDown) => self.help_scroll = (self.help_scroll + 1).min(max),
                Some(Command::PageUp) => self.help_scroll = self.help_scroll.saturating_sub(10),
                Some(Command::PageDown) => self.help_scroll = (self.help_scroll + 10).min(max),
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
        if self.probe.is_some() {
            return self.probe_key(key);
        }
        if let Some(command) = self.keymap.lookup(self.focus.context(), &key) {
            self.letter_key = matches!(key.code, KeyCode::Char(_))
                && key.modifiers.difference(KeyModifiers::SHIFT).is_empty();
            let effects = self.command(command);
            self.letter_key = false;
            return effects;
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

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.message = None;
        match command {
            Command::Run => self.debug(Move::Continue, self.letter_key),
            Command::StepOver => self.debug(Move::StepOver, self.letter_key),
            Command::StepInto => self.debug(Move::StepInto, self.letter_key),
            Command::StepOut => self.debug(Move::StepOut, self.letter_key),
            Command::NextCall => self.debug(Move::NextCall, self.letter_key),
            Command::StepBack => self.debug(Move::BackInto, self.letter_key),
            Command::PreviousCall => self.debug(Move::PreviousCall, self.letter_key),
            Command::DebugStart => self.debug(Move::Start, self.letter_key),
            Command::DebugEnd => self.debug(Move::End, self.letter_key),
            Command::GotoFailure => self.debug(Move::Failure, self.letter_key),
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
                if self.server.is_some() {
                    self.warn("undo is refused on a real server: Redis never rolls back, and redstep does not write to your server what Redis never would");
                    return Vec::new();
                }
                match &self.session {
                    Some(session)
                        if session
                            .debugger()
                            .timeline()
                            .outcome
                            .keys_changed
                            .is_empty() =>
                    {
                        self.say("nothing to undo: the run changed no key");
                        Vec::new()
                    }
                    Some(session) => {
                        let keys = match session.debugger().timeline().outcome.keys_changed.len() {
                            1 => "the key it changed back as it was".to_string(),
                            n => format!("the {n} keys it changed back as they were"),
                        };
                        self.ask(
                            Question::UndoRun,
                            format!("Undo the run: put {keys} before it (Redis never does this)?"),
                            &[('y', "undo the run's writes"), ('n', "keep them (Esc too)")],
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
                } else if self.expect.iter().any(|e| matches!(e, Expect::Cli(..))) {
                    // A redis-cli line still unanswered, and nothing else of
                    // the pane's runs until it is: a script it runs (EVAL
                    // of a loop) is stopped, a command that waits (BLPOP
                    // k 0, WAIT 1 0) answered with its timeout reply.
                    vec![Effect::Interrupt, Effect::Request(RequestKind::Unblock)]
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
            Command::GotoStep => {
                if self.session.is_some() {
                    self.prompt = Some(Prompt {
                        kind: PromptKind::Step,
                        input: String::new(),
                        error: None,
                    });
                } else {
                    self.warn(format!(
                        "no run to go through: {} runs the script",
                        self.key_for(Command::Run)
                    ));
                }
                Vec::new()
            }
            Command::Filter => {
                // The filter to edit; none when it is all keys (what is
                // typed then is the pattern, not `*` and it).
                let input = if self.filter == "*" {
                    String::new()
                } else {
                    self.filter.clone()
                };
                self.prompt = Some(Prompt {
                    kind: PromptKind::Filter,
                    input,
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
            Command::Present => {
                self.present = !self.present;
                self.recent_keys.clear();
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
                } else {
                    self.edit_text(Edit::Other, |area| area.cut());
                }
                self.clipboard = self.buffers[self.active].area.yank_text();
                let lines = self.clipboard.lines().count().max(1);
                self.say(format!(
                    "{} {}: Ctrl+V pastes them",
                    if command == Command::Copy {
                        "copied"
                    } else {
                        "cut"
                    },
                    super::ui::plural(lines, "line")
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
                    .filter(|b| b.modified())
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
                    buffer.redo()
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
            Command::PageUp | Command::PageDown if self.focus == Focus::Debugger => {
                self.timeline_page(command == Command::PageDown);
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
            Command::NextLesson
            | Command::PreviousLesson
            | Command::ResetLesson
            | Command::LessonList
                if self.lesson.is_some() && self.refuse_while_running() =>
            {
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
            Command::Close
            | Command::Accept
            | Command::DeleteBack
            | Command::First
            | Command::Last => Vec::new(),
            Command::Probe => self.start_probe(),
        }
    }
}
