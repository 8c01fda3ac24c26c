//! The debugger pane: moving through a run, or starting one.

use super::*;

/// A traced run being looked at: the run's view model (`trace::Session`,
/// built on the engine thread) and which buffer it ran.
pub struct Session {
    pub run: Box<trace::Session>,
    /// The buffer it ran (its gutter shows the run).
    pub buffer: usize,
    /// The buffer holds other text than the run ran (an edit undone back
    /// to it makes the run usable again).
    pub edited: bool,
    /// What the buffer held when the run started ([`disk_hash`]).
    pub ran: String,
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

impl App {
    /// A debugger key: the run's session decides (move, say why not, or
    /// run the script again); with no usable run, a forward move starts one
    /// — but not from a letter (`by_letter`): a word typed into the wrong
    /// pane must not run a script that writes keys.
    pub(super) fn debug(&mut self, movement: Move, by_letter: bool) -> Vec<Effect> {
        if self.running.is_some() {
            return Vec::new();
        }
        let active = self.active;
        let breakpoints = &self.buffers[active].breakpoints;
        let (answer, again) = match &mut self.session {
            Some(s) if s.buffer == active && !s.edited => (s.command(movement, breakpoints), true),
            _ => (trace::Session::without_run(movement), false),
        };
        match answer {
            Answer::Moved
                if movement == Move::Continue
                    && self.session.as_ref().is_some_and(|s| s.at_end()) =>
            {
                // No breakpoint ahead: Continue went to the run's end. The
                // next F5 runs the script again, which is said now.
                self.say(format!(
                    "no breakpoint ahead: the run's end ({} again runs it anew)",
                    self.key_for(Command::Run)
                ));
                Vec::new()
            }
            Answer::Moved => Vec::new(),
            Answer::Run(_) if by_letter => {
                self.warn(format!(
                    "letters here move through a run; to run the script (it writes keys) press {} or {}",
                    self.key_for(Command::StepOver),
                    self.key_for(Command::Run)
                ));
                Vec::new()
            }
            Answer::Run(movement) => {
                let effects = self.start_run(active, movement, false);
                if let Some(running) = &mut self.running {
                    running.again = again;
                }
                effects
            }
            Answer::Stayed(Why::RunOver) if self.server.is_some() => {
                self.say(format!(
                    "run over: {} runs it again on the server",
                    self.key_for(Command::Run)
                ));
                Vec::new()
            }
            Answer::Stayed(Why::RunOver) => {
                self.say(format!(
                    "run over: {} runs it again (writing again); {} undoes this run",
                    self.key_for(Command::Run),
                    self.key_for(Command::UndoRun)
                ));
                Vec::new()
            }
            Answer::Stayed(Why::AlreadyThere) => {
                self.say("already there");
                Vec::new()
            }
            Answer::Stayed(Why::NoFailure) => {
                self.say("this run did not fail: it returned");
                Vec::new()
            }
            Answer::Stayed(Why::NoRun) => {
                self.warn(format!(
                    "no run to step back through: {} or {} runs the script",
                    self.key_for(Command::StepOver),
                    self.key_for(Command::Run)
                ));
                Vec::new()
            }
        }
    }

    /// Ten timeline rows (calls, the error, the return) on or back.
    pub(super) fn timeline_page(&mut self, forward: bool) {
        const PAGE: usize = 10;
        let Some(session) = self.session.as_mut() else {
            self.warn(format!(
                "no run to page through: {} runs the script",
                self.key_for(Command::Run)
            ));
            return;
        };
        let rows = session.rows().len();
        if rows == 0 {
            return;
        }
        let row = match (session.current_row(), forward) {
            (None, true) => PAGE - 1,
            (None, false) => 0,
            (Some(r), true) => r + PAGE,
            (Some(r), false) => r.saturating_sub(PAGE),
        }
        .min(rows - 1);
        let step = session.rows()[row];
        if step == session.debugger().cursor() {
            self.say("already there");
        } else {
            session.goto(step);
        }
    }

    /// Closes the run's session. A big run's model is freed on a thread of
    /// its own: freeing it takes time proportional to the run, which the
    /// UI thread never spends.
    pub(super) fn close_session(&mut self) {
        self.closed_why = None;
        if let Some(old) = self.session.take() {
            if old.debugger().len() > 10_000 {
                std::thread::spawn(move || drop(old));
            }
        }
    }

    pub(super) fn start_run(&mut self, buffer: usize, then: Move, from_cli: bool) -> Vec<Effect> {
        self.lesson_started();
        let keys_args = match parse_keys_args(&self.buffers[buffer].args) {
            Ok(v) => v,
            Err(e) => {
                self.warn(e);
                return Vec::new();
            }
        };
        // A buffer of redis-cli commands (`.redis`) is stepped command by
        // command, MULTI/EXEC included.
        let argv = if self.buffers[buffer].name.ends_with(".redis") {
            vec![
                crate::trace::commands::COMMANDS.to_vec(),
                self.buffers[buffer].file_text().into_bytes(),
            ]
        } else {
            eval_argv(self.buffers[buffer].file_text().into_bytes(), keys_args)
        };
        self.active = buffer;
        // Ctrl+Z can come back to the text that ran.
        self.buffers[buffer].end_step();
        self.close_session();
        self.detail = None;
        self.running = Some(Running {
            since: self.now(),
            buffer,
            then,
            from_cli,
            edited: false,
            ran: self.buffers[buffer].hash(),
            again: false,
        });
        let start = Start::new(then, self.buffers[buffer].breakpoints.clone());
        vec![
            Effect::Request(RequestKind::Trace { argv, start }),
            Effect::SaveWorkspace,
        ]
    }
}
