//! The terminal UI: a thin shell around [`app::App`]. Two threads feed one
//! channel — terminal events and the engine's answers — and the loop
//! blocks on it, so an idle redstep uses no CPU. Scripts run on the engine
//! thread; Esc sets the engine's interrupt flag from here.

pub mod app;
pub mod driver;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod opening;
pub mod theme;
pub mod ui;
pub mod workspace;

use std::io::stdout;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;

use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Terminal};

use crate::engine::Engine;
use crate::host::{ClientSender, Host};
use crate::script::{Interrupt, InterruptKind, ScriptConfig};

use app::{App, Effect, Msg};
use opening::Opening;
use theme::Theme;

/// Opens the TUI on `opening` until the user quits.
pub fn run(opening: Opening) -> anyhow::Result<()> {
    let workspace = workspace::data_dir().map(|dir| workspace::path_for(&dir, &opening.id));
    let (saved, warning) = match &workspace {
        Some(path) => match workspace::load(path) {
            Ok(saved) => (saved, None),
            Err(e) => (None, Some(format!("{e:#}"))),
        },
        None => (
            None,
            Some("no data folder found: edits are not kept after quitting".to_string()),
        ),
    };

    let host = Host::start(Engine::default, ScriptConfig::default());
    let interrupt = host.interrupt();
    let (sender, replies) = host
        .connect("127.0.0.1:0".into(), "redstep-tui".into())
        .split();
    let (tx, rx) = mpsc::channel();
    {
        let tx = tx.clone();
        thread::spawn(move || {
            for out in replies {
                if tx.send(Msg::Engine(out)).is_err() {
                    break;
                }
            }
        });
    }

    let mut terminal = enter_terminal()?;
    thread::spawn(move || {
        while let Ok(event) = event::read() {
            let msg = match event {
                Event::Key(key) => Msg::Key(key),
                Event::Mouse(mouse) => Msg::Mouse(mouse),
                Event::Resize(w, h) => Msg::Resize(w, h),
                _ => continue,
            };
            if tx.send(msg).is_err() {
                break;
            }
        }
    });

    let size = terminal.size().unwrap_or_default();
    let setup = opening.setup.clone();
    let mut app = App::new(
        opening,
        saved,
        Theme::from_env(),
        Rect::new(0, 0, size.width, size.height),
    );
    if let Some(warning) = warning {
        app.message = Some((warning, true));
    }
    let mut shell = Shell {
        sender,
        interrupt,
        workspace,
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        event_loop(&mut terminal, &mut app, &mut shell, &rx, setup)
    }));
    // Whatever happened, the buffers are kept and the terminal restored.
    let _ = shell.save_workspace(&app);
    restore_terminal();
    drop(host);
    match result {
        Ok(result) => result,
        Err(panic) => resume_unwind(panic),
    }
}

static RESTORED: AtomicBool = AtomicBool::new(false);

/// Raw mode, the alternate screen and mouse reports; a panic hook puts the
/// terminal back before the panic message is printed.
fn enter_terminal() -> anyhow::Result<DefaultTerminal> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        previous(info);
    }));
    RESTORED.store(false, Ordering::SeqCst);
    terminal::enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    Ok(Terminal::new(CrosstermBackend::new(stdout()))?)
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
        LeaveAlternateScreen,
        cursor::Show
    );
}

/// What effects act on.
struct Shell {
    sender: ClientSender,
    interrupt: Interrupt,
    workspace: Option<PathBuf>,
}

impl Shell {
    fn save_workspace(&self, app: &App) -> anyhow::Result<()> {
        match &self.workspace {
            Some(path) => workspace::save(path, &app.saved()),
            None => Ok(()),
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
                Effect::Interrupt => self.interrupt.request(InterruptKind::Stop),
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
                Effect::Quit => return false,
            }
        }
        true
    }
}

fn event_loop(
    terminal: &mut DefaultTerminal,
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
