//! The redis-cli pane: a line of input, its history, its output.

use super::*;

pub(super) const CLI_SCROLLBACK: usize = 2000;

/// The redis-cli pane's prompt, as redis-cli shows it.
pub const CLI_PROMPT: &str = "127.0.0.1:6379> ";

impl App {
    /// The redis-cli prompt: the real server's address when working on one.
    pub fn cli_prompt(&self) -> String {
        match self.server.as_deref().and_then(|s| s.split_once(" @ ")) {
            Some((_, at)) => format!("{}> ", at.split(" · ").next().unwrap_or(at)),
            None => CLI_PROMPT.to_string(),
        }
    }

    /// Says which server the panes show (called once, when opening on one).
    pub fn on_server(&mut self, label: String) {
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

    pub(super) fn cli_submit(&mut self) -> Vec<Effect> {
        let line = std::mem::take(&mut self.cli_input);
        self.cli_history_pos = None;
        if line.trim().is_empty() {
            return Vec::new();
        }
        if self.cli_history.last() != Some(&line) {
            self.cli_history.push(line.clone());
        }
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
        if self.running.is_some() {
            self.cli_print("(a script is running. A Redis client sending this now waits; once the script has run 5 s it gets BUSY instead. Here it runs when the script ends: Esc stops the script)");
        }
        // Whether it wrote shows in the next page of keys (see `Response::Keys`).
        self.expect.push_back(Expect::Cli);
        vec![Effect::Send(argv)]
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
