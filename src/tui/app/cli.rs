//! The redis-cli pane: a line of input, its history, its output.

use super::*;

pub(super) const CLI_SCROLLBACK: usize = 2000;

/// How long a redis-cli command's reply may take before the pane says it
/// waits (a command that blocks: BLPOP k 0, WAIT, a paused client).
pub(crate) const WAITING_HINT: Duration = Duration::from_millis(300);

/// The redis-cli pane's prompt, as redis-cli shows it.
pub const CLI_PROMPT: &str = "127.0.0.1:6379> ";

impl App {
    /// The redis-cli prompt: the real server's address when working on one.
    pub(crate) fn cli_prompt(&self) -> String {
        match self.server.as_deref().and_then(|s| s.split_once(" @ ")) {
            Some((_, at)) => format!("{}> ", at.split(" · ").next().unwrap_or(at)),
            None => CLI_PROMPT.to_string(),
        }
    }

    /// Says which server the panes show (called once, when opening on one).
    pub(crate) fn on_server(&mut self, label: String) {
        self.cli_output[0] = format!("Commands here go to {label}.");
        self.server = Some(label);
    }
}

impl App {
    /// Typing in the redis-cli pane (its other keys are in the key map).
    pub(super) fn cli_key(&mut self, key: KeyEvent) -> Vec<Effect> {
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
    pub(super) fn cli_history_move(&mut self, back: bool) {
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

    pub(super) fn cli_print(&mut self, text: &str) {
        self.cli_output.extend(text.lines().map(str::to_string));
        if self.cli_output.len() > CLI_SCROLLBACK {
            let extra = self.cli_output.len() - CLI_SCROLLBACK;
            self.cli_output.drain(..extra);
        }
    }

    /// The command the redis-cli pane waits on (the oldest unanswered),
    /// and for how long it has.
    pub(crate) fn cli_waiting(&self) -> Option<(String, Duration)> {
        self.expect.iter().find_map(|e| match e {
            Expect::Cli(argv, since) => Some((
                String::from_utf8_lossy(argv.first().map_or(&[][..], Vec::as_slice)).to_uppercase(),
                self.now().saturating_duration_since(*since),
            )),
            Expect::Setup => None,
        })
    }

    /// What the redis-cli pane says above its prompt while its command
    /// waits (nothing when it does not, or not for long yet): what answers
    /// it now, then the lines typed meanwhile, which run after it.
    pub(crate) fn cli_waiting_lines(&self) -> Vec<String> {
        let Some((name, waited)) = self.cli_waiting() else {
            return Vec::new();
        };
        if waited < WAITING_HINT && self.cli_held.is_empty() {
            return Vec::new();
        }
        std::iter::once(format!(
            "waiting for {name}… ({}/Ctrl+C: answer now)",
            self.key_for(Command::Stop)
        ))
        .chain(self.cli_held.iter().map(|line| format!("then: {line}")))
        .collect()
    }

    pub(super) fn cli_submit(&mut self) -> Vec<Effect> {
        let line = std::mem::take(&mut self.cli_input);
        self.cli_history_pos = None;
        if line.trim().is_empty() {
            return Vec::new();
        }
        if self.cli_history.last() != Some(&line) {
            self.cli_history.push(line.clone());
        }
        if self.cli_waiting().is_some() {
            // Its reply first: this line runs once it is in.
            self.cli_held.push_back(line);
            return Vec::new();
        }
        self.cli_run_line(line)
    }

    /// Runs a line of the redis-cli pane: its prompt and text printed,
    /// then what it does.
    pub(super) fn cli_run_line(&mut self, line: String) -> Vec<Effect> {
        self.cli_print(&format!("{}{line}", self.cli_prompt()));
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
        if let Some(effects) = self.cli_lane(&line, &argv) {
            return effects;
        }
        if self.running.is_some() {
            self.cli_print("(a script is running. A Redis client sending this now waits; once the script has run 5 s it gets BUSY instead. Here it runs when the script ends: Esc stops the script)");
        }
        // Whether it wrote shows in the next page of keys (see `Response::Keys`).
        self.expect.push_back(Expect::Cli(argv.clone(), self.now()));
        vec![Effect::Send(argv)]
    }

    /// Other clients' commands: `step 2: GET a`, `client 3 before: SET a 1`,
    /// `after: GET a` add one to the next runs; `others` lists them,
    /// `others clear` removes them. None: not such a line.
    fn cli_lane(&mut self, line: &str, argv: &[Vec<u8>]) -> Option<Vec<Effect>> {
        let first = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        if first == "others" {
            if argv
                .get(1)
                .is_some_and(|a| a.eq_ignore_ascii_case(b"clear"))
            {
                self.lane.clear();
                self.cli_print("no other clients now: runs are alone again");
            } else if self.lane.is_empty() {
                self.cli_print("no other clients; add one with e.g. `step 2: GET a` (client 2 sends GET a when the run reaches step 2), `client 3 after: GET b`, `before: SET a 1`");
            } else {
                for text in self.lane_lines() {
                    self.cli_print(&text);
                }
            }
            return Some(Vec::new());
        }
        let head = first.trim_end_matches(':');
        let lane_like =
            matches!(head, "client" | "step" | "line" | "before" | "after") && line.contains(':');
        if !lane_like {
            return None;
        }
        match crate::trace::LaneCommand::parse(line) {
            Ok(command) => {
                if self.server.is_some() {
                    self.cli_print("(other clients run on the embedded engine only: on a real server, LDB blocks every other client while it steps)");
                    return Some(Vec::new());
                }
                self.lane.push(command);
                let last = self.lane_lines().pop().unwrap_or_default();
                self.cli_print(&format!("{last} — with the next run (F5, F10); `others` lists them, `others clear` removes them"));
            }
            Err(e) => self.cli_print(&format!("(error) {e}")),
        }
        Some(Vec::new())
    }

    /// The other clients' commands in words, one a line.
    pub(crate) fn lane_lines(&self) -> Vec<String> {
        self.lane
            .iter()
            .map(|c| {
                let when = match c.when {
                    crate::trace::When::Before => "before the run".to_string(),
                    crate::trace::When::After => "after the run".to_string(),
                    crate::trace::When::Step(k) => format!("at step {k}"),
                    crate::trace::When::Line(n) => format!("when the script reaches line {n}"),
                };
                format!(
                    "client {} sends {} {when}",
                    c.client,
                    export::command_text(&c.argv)
                )
            })
            .collect()
    }

    /// `--eval NAME k1 k2 , a1 a2`: run a tab as redis-cli --eval would.
    pub(super) fn cli_eval(&mut self, words: &[Vec<u8>]) -> Vec<Effect> {
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
        self.start_run(index, Move::End, true)
    }
}
