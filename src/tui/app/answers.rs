//! The engine thread's answers, and the requests effects stand for.

use super::*;

impl App {
    pub(super) fn engine(&mut self, out: Outgoing) -> Vec<Effect> {
        match out {
            Outgoing::Reply(reply) => match self.expect.pop_front() {
                Some(Expect::Cli(argv, _)) => {
                    let printed = format_reply(&argv, &reply, false, self.cli_resp3);
                    self.cli_print(&String::from_utf8_lossy(&printed));
                    self.cli_answered()
                }
                Some(Expect::Setup) => {
                    if let Reply::Error(e) = &reply {
                        self.warn(format!("setup failed: {}", String::from_utf8_lossy(e)));
                    }
                    vec![self.refresh_keys()]
                }
                // What no command waits for: the pane's subscription (a
                // channel's confirmation after the first, a message a
                // script published), printed as redis-cli prints it.
                None => {
                    let printed = format_reply(&[], &reply, false, self.cli_resp3);
                    self.cli_print(&String::from_utf8_lossy(&printed));
                    Vec::new()
                }
            },
            // CLIENT REPLY OFF/SKIP held its reply back: redis-cli prints
            // nothing for it either.
            Outgoing::Silenced => match self.expect.pop_front() {
                Some(Expect::Cli(..)) => self.cli_answered(),
                Some(Expect::Setup) => vec![self.refresh_keys()],
                None => Vec::new(),
            },
            Outgoing::Close => {
                // Only if the engine thread died: a bug. Nothing more will run.
                self.running = None;
                self.warn("the engine stopped (a redstep bug — please report it); your scripts are saved, Ctrl+Q quits");
                vec![Effect::SaveWorkspace]
            }
            Outgoing::Response(response) => self.response(*response),
            // The pane prints replies as redis-cli does in either protocol.
            Outgoing::Protocol(version) => {
                self.cli_resp3 = version == 3;
                Vec::new()
            }
        }
    }

    pub(super) fn response(&mut self, response: Response) -> Vec<Effect> {
        match response {
            Response::Traced(run) => {
                // Built and placed on the engine thread: nothing here is
                // proportional to the run.
                let running = self.running.take();
                // The buffer that ran, even if another tab is shown now.
                let from_cli = running.as_ref().is_some_and(|r| r.from_cli);
                let again = running.as_ref().is_some_and(|r| r.again);
                let (buffer, edited, ran) = match running {
                    Some(r) => (r.buffer, r.edited, r.ran),
                    None => (self.active, false, String::new()),
                };
                let session = Session {
                    run,
                    buffer,
                    edited,
                    ran,
                };
                let outcome = &session.debugger().timeline().outcome;
                let reply = export::reply_text(&outcome.reply);
                // Stepping from the start: the ending is not told before it is reached.
                let stepping = !session.at_end() && session.compile_error_line().is_none();
                self.message = Some(match (outcome.status, session.compile_error_line()) {
                    _ if stepping => (
                        format!(
                            "the run is recorded: {} steps through it, {} jumps to each redis.call",
                            self.key_for(Command::StepOver),
                            self.key_for(Command::NextCall)
                        ),
                        false,
                    ),
                    (crate::trace::Status::Ok, _) => {
                        let commands = session.debugger().timeline().command.first().map(Vec::as_slice)
                            == Some(crate::trace::commands::COMMANDS);
                        if commands {
                            (format!("the commands ran; the last answered {reply}"), false)
                        } else {
                            (format!("the script returned {reply}"), false)
                        }
                    }
                    (_, Some(line)) => (
                        format!("the script did not compile (line {line}): Redis ran none of it — {reply}"),
                        true,
                    ),
                    _ => (reply, true),
                });
                if again {
                    // F5 on a finished run ran the script once more: said,
                    // since its writes landed on the last run's.
                    let (text, warn) = self.message.take().unwrap_or_default();
                    let stop = if stepping {
                        let line = session.debugger().step().line;
                        format!("stopped at the breakpoint on line {line}")
                    } else {
                        text
                    };
                    let undo = if self.server.is_some() {
                        String::new()
                    } else {
                        format!("; {} undoes it", self.key_for(Command::UndoRun))
                    };
                    self.message = Some((
                        format!("ran again from the start (writing again{undo}): {stop}"),
                        warn,
                    ));
                }
                if from_cli {
                    let text = format_tty(&outcome.reply);
                    self.cli_print(&text);
                }
                self.session = Some(session);
                self.filter_run_keys();
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
                    self.closed_why = Some("keys changed since it ran (a command typed in the redis-cli pane, a key that expired, another client of the server), so its view would be wrong".into());
                    self.say(format!(
                        "keys changed since the run: its view is closed ({} runs again)",
                        self.key_for(Command::Run)
                    ));
                    return vec![self.refresh_keys()];
                }
                Vec::new()
            }
            Response::Key(key, entry) => {
                self.detail = Some((display_key(&key), export::entry_text(entry.as_ref())));
                Vec::new()
            }
            Response::Failed(why) => {
                self.running = None;
                self.warn(why);
                Vec::new()
            }
            Response::Cluster(Ok(shards)) => {
                self.cluster = shards;
                vec![self.refresh_keys()]
            }
            Response::Cluster(Err(why)) => {
                self.warn(why);
                Vec::new()
            }
            Response::Unblocked(done) => {
                if done {
                    self.say("the waiting command was answered with its timeout reply, as CLIENT UNBLOCK from another client does");
                }
                Vec::new()
            }
            Response::Undone(result, run) => {
                let (buffer, ran) = self.undoing.take().unwrap_or((self.active, String::new()));
                // Edits made meanwhile count (the buffer may hold the run's text again).
                let edited = self.buffers[buffer].hash() != ran;
                self.session = Some(Session {
                    run,
                    buffer,
                    edited,
                    ran,
                });
                match result {
                    Ok(()) => {
                        self.close_session();
                        self.closed_why =
                            Some("it was undone — Redis itself never does this".into());
                        self.say("the run was undone — Redis itself never does this");
                    }
                    Err(e) => {
                        self.filter_run_keys();
                        self.warn(format!("cannot undo: {e}"));
                    }
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
                lane: self.lane.clone(),
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
            RequestKind::Cluster(shards) => Request::Cluster(shards),
            RequestKind::Unblock => Request::Unblock,
            RequestKind::Undo => {
                let session = self.session.take()?;
                self.undoing = Some((session.buffer, session.ran));
                Request::Undo(session.run)
            }
        })
    }
}

impl App {
    /// A redis-cli line's command got its answer (or none will come): the
    /// keys are fetched again and the lines typed while it waited run, in
    /// order.
    fn cli_answered(&mut self) -> Vec<Effect> {
        let mut effects = vec![self.refresh_keys()];
        while self.cli_waiting().is_none() {
            let Some(line) = self.cli_held.pop_front() else {
                break;
            };
            effects.extend(self.cli_run_line(line));
        }
        effects
    }
}
