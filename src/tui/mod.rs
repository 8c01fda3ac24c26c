//! The terminal UI: a thin shell around [`app::App`]. Two threads feed one
//! channel — terminal events and the engine's answers — and the loop
//! blocks on it, so an idle redstep uses no CPU. Scripts run on the engine
//! thread; Esc sets the engine's interrupt flag from here.

pub mod app;
pub mod config;
pub mod driver;
pub(crate) mod highlight;
pub mod keymap;
pub(crate) mod layout;
pub mod lesson;
pub(crate) mod markdown;
pub mod opening;
pub mod picture;
pub mod record;
pub mod theme;
pub mod ui;
pub mod workspace;

use std::io::stdout;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;

use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{
    self, DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableFocusChange, EnableMouseCapture, Event,
};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;

/// The terminal redstep draws on (its output recorded with `--record`).
type Screen = Terminal<CrosstermBackend<record::Out>>;

use crate::host::{ClientSender, Host};
use crate::script::{Interrupt, ScriptConfig};

use crate::lessons::Lesson;
use app::{App, Effect, Msg};
use opening::Opening;
use theme::Theme;

/// Opens the TUI until the user quits: on a lesson of a list (with the
/// lesson pane), or on a plain opening (a file, the post's scripts).
/// How the TUI shows itself: recorded to a cast file, in presenter mode.
#[derive(Clone, Debug, Default)]
pub struct Show {
    pub record: Option<PathBuf>,
    pub present: bool,
    /// Cluster mode: the engine is node 1 of this many shards.
    pub cluster: Option<usize>,
}

/// Opens the TUI; with `server`, on a real server instead of the embedded
/// engine (nothing of the opening's setup is sent to it).
pub fn run(
    opening: Opening,
    lessons: Option<(Vec<Lesson>, usize)>,
    server: Option<(crate::remote::Target, crate::remote::ldb::Options)>,
    show: Show,
) -> anyhow::Result<()> {
    let Show {
        record,
        present,
        cluster,
    } = show;
    if let Some(shards) = cluster {
        crate::engine::cluster::validate(shards, crate::engine::DEFAULT_PORT)
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    // SIGTERM and SIGHUP (a closed terminal window) are taken by one thread
    // (blocked in all others, which inherit this mask) and become a quit
    // that keeps every edit and restores the terminal.
    let signals = block_termination();
    let data = workspace::data_dir();
    let mut warnings = Vec::new();
    let opening = match &lessons {
        Some((list, current)) => lesson::opening(&list[*current], current + 1, list.len()),
        None => opening,
    };
    let saved = match &data {
        Some(dir) => workspace::load(&workspace::path_for(dir, &opening.id)).unwrap_or_else(|e| {
            warnings.push(format!("{e:#}"));
            None
        }),
        None => {
            warnings.push("no data folder found: edits are not kept after quitting".to_string());
            None
        }
    };
    let progress = match &data {
        Some(dir) if lessons.is_some() => lesson::load_progress(&dir.join("progress.json"))
            .unwrap_or_else(|e| {
                warnings.push(format!("{e:#}"));
                lesson::Progress::new()
            }),
        _ => lesson::Progress::new(),
    };

    let (host, server) = match server {
        Some((target, options)) => {
            let mode = options.mode.name();
            let (host, label) = Host::start_server(target, options)?;
            (host, Some(format!("{label} · LDB {mode}")))
        }
        None => (
            Host::start(
                move || crate::engine::cluster::engine(cluster),
                ScriptConfig::default(),
            ),
            None,
        ),
    };
    let interrupt = host.interrupt();
    let (sender, replies) = host
        .connect("127.0.0.1:0".into(), "redstep-tui".into())
        .split();
    let (tx, rx) = mpsc::channel();
    let checks_tx = tx.clone();
    {
        let tx = tx.clone();
        thread::spawn(move || {
            for out in replies {
                if tx.send(Msg::Engine(out)).is_err() {
                    return;
                }
            }
            // The engine thread is gone: say so rather than wait forever.
            let _ = tx.send(Msg::Engine(crate::host::Outgoing::Close));
        });
    }

    {
        let tx = tx.clone();
        thread::spawn(move || {
            if wait_for(&signals) {
                let _ = tx.send(Msg::Terminate);
            }
        });
    }
    let mut terminal = enter_terminal(record.as_deref())?;
    thread::spawn(move || {
        while let Ok(event) = event::read() {
            let msg = match event {
                Event::Key(key) => Msg::Key(key),
                Event::Mouse(mouse) => Msg::Mouse(mouse),
                Event::Resize(w, h) => Msg::Resize(w, h),
                Event::Paste(text) => Msg::Paste(text),
                Event::FocusGained => Msg::FocusGained,
                _ => continue,
            };
            if tx.send(msg).is_err() {
                break;
            }
        }
    });

    let size = terminal.size().unwrap_or_default();
    // A user's server is never written to by redstep's own setup.
    let setup = if server.is_some() {
        Vec::new()
    } else {
        opening.setup.clone()
    };
    let mut app = App::new(
        opening,
        saved,
        Theme::from_env(),
        Rect::new(0, 0, size.width, size.height),
    );
    if let Some(label) = server {
        app.on_server(label);
    }
    app.present = present;
    app.started_in_cluster(cluster);
    if let Some((list, current)) = lessons {
        app.lesson = Some(lesson::LessonState::new(list, current, progress));
        app.lane = app
            .lesson
            .as_ref()
            .map(|l| l.lesson().others.clone())
            .unwrap_or_default();
    }
    // The user's keys and colours; a bad file is told, the defaults stand in.
    if let Some(path) = config::path() {
        let settings = config::load(&path);
        app.keymap = settings.keymap;
        app.theme.palette = settings.palette;
        if let Some(first) = settings.problems.first() {
            let more = settings.problems.len() - 1;
            warnings.push(if more > 0 {
                format!("{first} (and {more} more: `redstep config --check`)")
            } else {
                first.clone()
            });
        }
    }
    if let Some(warning) = warnings.pop() {
        app.message = Some((warning, true));
    }
    let mut shell = Shell {
        sender,
        interrupt,
        data,
        tx: checks_tx,
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        event_loop(&mut terminal, &mut app, &mut shell, &rx, setup)
    }));
    // Whatever happened, the buffers are kept and the terminal restored.
    let _ = shell.save_workspace(&app);
    restore_terminal();
    // A script still running would keep the engine thread (and the exit) waiting.
    shell.interrupt.request();
    drop(host);
    match result {
        Ok(result) => result,
        Err(panic) => resume_unwind(panic),
    }
}

/// Blocks SIGTERM and SIGHUP in this thread (and the threads it starts).
fn block_termination() -> libc::sigset_t {
    // SAFETY: plain libc calls on a set owned here.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Waits for one of the blocked signals; true when one came.
fn wait_for(set: &libc::sigset_t) -> bool {
    let mut signal = 0;
    // SAFETY: the set was built by block_termination.
    unsafe { libc::sigwait(set, &mut signal) == 0 }
}

static RESTORED: AtomicBool = AtomicBool::new(false);

/// Raw mode, the alternate screen and mouse reports; a panic hook puts the
/// terminal back before the panic message is printed.
fn enter_terminal(record: Option<&std::path::Path>) -> anyhow::Result<Screen> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A command's panic is caught and answered as an error: the screen
        // stays (printing here would scribble over it).
        if crate::engine::panic_is_guarded() {
            return;
        }
        restore_terminal();
        previous(info);
    }));
    RESTORED.store(false, Ordering::SeqCst);
    terminal::enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        EnableFocusChange
    )?;
    let out = match record {
        Some(path) => {
            let (w, h) = terminal::size().unwrap_or((120, 40));
            record::Out::recording(path, w, h)?
        }
        None => record::Out::plain(),
    };
    Ok(Terminal::new(CrosstermBackend::new(out))?)
}

/// Puts the terminal back, once (leaving the alternate screen twice would
/// move the cursor over what was printed since).
fn restore_terminal() {
    if RESTORED.swap(true, Ordering::SeqCst) {
        return;
    }
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange,
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// What effects act on.
struct Shell {
    sender: ClientSender,
    interrupt: Interrupt,
    /// The data folder (workspaces, lesson progress).
    data: Option<PathBuf>,
    /// For answers computed on other threads (lesson checks).
    tx: Sender<Msg>,
}

impl Shell {
    /// Saves the buffers of the current opening, and the lesson progress.
    fn save_workspace(&self, app: &App) -> anyhow::Result<()> {
        let Some(dir) = &self.data else { return Ok(()) };
        workspace::save(&workspace::path_for(dir, &app.workspace_id), &app.saved())?;
        self.save_progress(app)
    }

    fn save_progress(&self, app: &App) -> anyhow::Result<()> {
        match (&self.data, &app.lesson) {
            (Some(dir), Some(l)) => lesson::save_progress(&dir.join("progress.json"), &l.progress),
            _ => Ok(()),
        }
    }

    /// Carries out effects; false once the app asked to quit.
    fn perform(&mut self, app: &mut App, effects: Vec<Effect>) -> bool {
        for effect in effects {
            match effect {
                Effect::Send(argv) => self.sender.send(argv),
                Effect::Request(kind) => {
                    if let Some(request) = app.request(kind) {
                        self.sender.request(request);
                    }
                }
                Effect::Interrupt => self.interrupt.request(),
                Effect::Write(path, text) => {
                    if let Err(e) = workspace::write_atomically(&path, text.as_bytes()) {
                        app.message = Some((format!("{e:#}"), true));
                    }
                }
                Effect::SaveWorkspace => {
                    app.dirty_since = None;
                    if let Err(e) = self.save_workspace(app) {
                        app.message = Some((format!("workspace not saved: {e:#}"), true));
                    }
                }
                Effect::Probe(target) => {
                    let tx = self.tx.clone();
                    thread::spawn(move || {
                        let report = crate::probe::probe(&target, App::probe_options());
                        let _ = tx.send(Msg::Probed(Box::new(report)));
                    });
                }
                Effect::RunChecks(lesson, script) => {
                    let tx = self.tx.clone();
                    thread::spawn(move || {
                        let _ = tx.send(Msg::Checked(crate::lessons::check::run_all(
                            &lesson, &script,
                        )));
                    });
                }
                Effect::OpenLesson(index) => {
                    let saved = app.lesson.as_ref().and_then(|l| {
                        let id = lesson::opening(&l.lessons[index], index + 1, l.lessons.len()).id;
                        workspace::load(&workspace::path_for(self.data.as_ref()?, &id)).ok()?
                    });
                    let more = app.open_lesson(index, saved);
                    if !self.perform(app, more) {
                        return false;
                    }
                }
                Effect::SaveProgress => {
                    if let Err(e) = self.save_progress(app) {
                        app.message = Some((format!("progress not saved: {e:#}"), true));
                    }
                }
                Effect::ReadFiles(files, why) => {
                    let read = workspace::read_files(&files);
                    let more = app.update(Msg::FilesRead(read, why));
                    if !self.perform(app, more) {
                        return false;
                    }
                }
                Effect::Clipboard(text) => {
                    // OSC 52: terminals that allow it put this on the system clipboard.
                    use base64::Engine as _;
                    use std::io::Write as _;
                    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
                    let mut out = stdout();
                    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                    let _ = out.flush();
                }
                Effect::Quit => return false,
            }
        }
        true
    }
}

fn event_loop(
    terminal: &mut Screen,
    app: &mut App,
    shell: &mut Shell,
    rx: &Receiver<Msg>,
    setup: Vec<Vec<Vec<u8>>>,
) -> anyhow::Result<()> {
    // The crash test's hook: with REDSTEP_TEST_PANIC set, F12 panics here.
    let crash_on_f12 = std::env::var_os("REDSTEP_TEST_PANIC").is_some();
    let first = app.start(&setup);
    if !shell.perform(app, first) {
        return Ok(());
    }
    loop {
        terminal.draw(|frame| ui::draw(frame, app))?;
        let msg = match app.wants_tick() {
            Some(timeout) => match rx.recv_timeout(timeout) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => Msg::Tick,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(msg) => msg,
                Err(_) => return Ok(()),
            },
        };
        // Take whatever else is queued too before drawing again.
        for msg in std::iter::once(msg).chain(rx.try_iter()) {
            if crash_on_f12 && matches!(&msg, Msg::Key(k) if k.code == event::KeyCode::F(12)) {
                panic!("REDSTEP_TEST_PANIC: a deliberate panic on F12");
            }
            let effects = app.update(msg);
            if !shell.perform(app, effects) {
                return Ok(());
            }
        }
    }
}
