//! Drives an [`App`] against a real engine thread, synchronously: every
//! effect is carried out and every answer awaited and fed back before the
//! next key. Tests and benchmarks see the model exactly as the screen
//! would once everything a key caused has settled.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use crate::host::{Connection, Host, Outgoing};
use crate::script::{Interrupt, ScriptConfig};

use super::app::{App, Effect, Msg};
use super::lesson::{LessonState, Progress};
use super::opening::Opening;
use super::theme::Theme;
use super::workspace::Saved;
use crate::lessons::Lesson;

pub struct Driver {
    pub app: App,
    pub conn: Connection,
    pub interrupt: Interrupt,
    /// Effects that would reach the outside world (files, workspace, quit).
    pub outside: Vec<String>,
    _host: Host,
}

impl Driver {
    /// A fresh engine, the opening's setup run, the first page of keys in.
    pub fn new(opening: Opening, width: u16, height: u16) -> Driver {
        Driver::with_saved(opening, None, width, height)
    }

    /// The same, with the buffers a workspace kept (as `redstep` reopens them).
    pub fn with_saved(opening: Opening, saved: Option<Saved>, width: u16, height: u16) -> Driver {
        Driver::on(opening, saved, None, None, width, height)
    }

    /// As `redstep --cluster=N` opens: the engine node 1 of `shards` masters.
    pub fn cluster(opening: Opening, shards: usize, width: u16, height: u16) -> Driver {
        Driver::on(opening, None, Some(shards), None, width, height)
    }

    fn on(
        opening: Opening,
        saved: Option<Saved>,
        cluster: Option<usize>,
        lesson: Option<LessonState>,
        width: u16,
        height: u16,
    ) -> Driver {
        let host = Host::start(
            move || crate::engine::cluster::engine(cluster),
            ScriptConfig::default(),
        );
        let conn = host.connect("127.0.0.1:0".into(), "driver".into());
        let setup = opening.setup.clone();
        let app = App::new(
            opening,
            saved,
            Theme::new(false),
            Rect::new(0, 0, width, height),
        );
        let mut driver = Driver {
            app,
            conn,
            interrupt: host.interrupt(),
            outside: Vec::new(),
            _host: host,
        };
        driver.app.started_in_cluster(cluster);
        if let Some(lesson) = lesson {
            driver.app.lane = lesson.lesson().others.clone();
            driver.app.lesson = Some(lesson);
        }
        let effects = driver.app.start(&setup);
        driver.perform(effects);
        driver
    }

    /// On lesson `index` of `lessons`, with the lesson pane, as `redstep --lesson` opens it.
    pub fn lesson(lessons: Vec<Lesson>, index: usize, width: u16, height: u16) -> Driver {
        let opening = super::lesson::opening(&lessons[index], index + 1, lessons.len());
        let lesson = LessonState::new(lessons, index, Progress::new());
        Driver::on(opening, None, None, Some(lesson), width, height)
    }

    pub fn perform(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send(argv) => {
                    self.conn.send(argv);
                    self.answer(false);
                }
                Effect::Request(kind) => {
                    if let Some(request) = self.app.request(kind) {
                        self.conn.request(request);
                        self.answer(true);
                    }
                }
                Effect::Interrupt => self.interrupt.request(),
                Effect::Probe(target) => {
                    let report = crate::probe::probe(&target, App::probe_options());
                    let more = self.app.update(Msg::Probed(Box::new(report)));
                    self.perform(more);
                }
                Effect::RunChecks(lesson, script) => {
                    let results = crate::lessons::check::run_all(&lesson, &script);
                    let more = self.app.update(Msg::Checked(results));
                    self.perform(more);
                }
                Effect::OpenLesson(index) => {
                    let more = self.app.open_lesson(index, None);
                    self.perform(more);
                }
                Effect::ReadFiles(files, why) => {
                    let read = super::workspace::read_files(&files);
                    let more = self.app.update(Msg::FilesRead(read, why));
                    self.perform(more);
                }
                other => self.outside.push(format!("{other:?}")),
            }
        }
    }

    /// Hands the app what the engine sends, up to the answer itself: a
    /// reply (or its silence) for a command, a response for a request.
    /// What comes before it goes to the app too, as the TUI's loop hands
    /// it over: a change of protocol before the reply of the HELLO that
    /// made it, a subscription's messages before a request's response.
    fn answer(&mut self, response: bool) {
        loop {
            let out = self
                .conn
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or(Outgoing::Close);
            let done = match &out {
                Outgoing::Protocol(_) => false,
                Outgoing::Reply(_) | Outgoing::Silenced => !response,
                Outgoing::Response(_) | Outgoing::Close => true,
            };
            let more = self.app.update(Msg::Engine(out));
            self.perform(more);
            if done {
                return;
            }
        }
    }

    pub fn key_with(&mut self, code: KeyCode, modifiers: KeyModifiers) {
        let effects = self.app.update(Msg::Key(KeyEvent::new(code, modifiers)));
        self.perform(effects);
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_with(code, KeyModifiers::NONE);
    }

    /// Text pasted into the terminal (a bracketed paste).
    pub fn paste(&mut self, text: &str) {
        let effects = self.app.update(Msg::Paste(text.to_string()));
        self.perform(effects);
    }

    pub fn update(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.perform(effects);
    }

    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        let effects = self.app.update(Msg::Resize(width, height));
        self.perform(effects);
    }
}
