//! Ctrl+P: `redstep probe` on the active tab, from the TUI. The findings
//! appear in a list; choosing one sets up its keyspace and arguments and
//! runs the script to its failure, so the learner steps through the very
//! run that would have corrupted their data (F6 then puts the keys back).

use super::*;

use crate::probe::{Options, Report, Target};
use crate::protocol::cli::SetupLine;

/// The probe's list: its report (None while it runs) and the selected row.
pub struct ProbeList {
    pub report: Option<Box<Report>>,
    pub selected: usize,
}

/// How many inputs a probe from the TUI tries.
const BUDGET: usize = 2000;

impl App {
    pub(super) fn start_probe(&mut self) -> Vec<Effect> {
        if self.running.is_some() || self.probe.is_some() {
            return Vec::new();
        }
        let buffer = &self.buffers[self.active];
        let (keys, args) = match parse_keys_args(&buffer.args) {
            Ok(v) => v,
            Err(e) => {
                self.warn(e);
                return Vec::new();
            }
        };
        let target = Target {
            name: buffer
                .path
                .as_ref()
                .map_or(buffer.name.clone(), |p| p.display().to_string()),
            body: buffer.file_text().into_bytes(),
            keys,
            args,
            setup: self
                .setup
                .iter()
                .map(|argv| SetupLine {
                    place: "setup".into(),
                    line: export::command_text(argv).into_bytes(),
                })
                .collect(),
        };
        self.probe = Some(ProbeList {
            report: None,
            selected: 0,
        });
        self.say(format!(
            "probing {}: up to {BUDGET} inputs, each on a fresh keyspace…",
            buffer.name
        ));
        vec![Effect::Probe(Box::new(target))]
    }

    /// The options the TUI probes with.
    pub(crate) fn probe_options() -> Options {
        Options {
            budget: BUDGET,
            seed: 1,
        }
    }

    pub(super) fn probed(&mut self, report: Report) -> Vec<Effect> {
        let Some(list) = &mut self.probe else {
            return Vec::new();
        };
        let found = report.partial.len();
        let runs = report.runs;
        list.report = Some(Box::new(report));
        list.selected = 0;
        if found == 0 {
            self.say(format!(
                "no partial write found in {runs} inputs (not found is not impossible)"
            ));
        } else {
            self.warn(format!(
                "{} to die after writing in {runs} inputs: Enter runs the chosen one to its failure",
                crate::tui::ui::plural(found, "way")
            ));
        }
        Vec::new()
    }

    pub(super) fn probe_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.keymap.lookup(Context::ListOverlay, &key);
        let Some(list) = &mut self.probe else {
            return Vec::new();
        };
        let Some(report) = &list.report else {
            // Still probing: Esc stops waiting for it.
            if command == Some(Command::Close) {
                self.probe = None;
            }
            return Vec::new();
        };
        let rows = report.partial.len() + report.early.len();
        if let Some(to) = list_move(command, list.selected, rows) {
            list.selected = to;
            return Vec::new();
        }
        match command {
            Some(Command::Accept) if rows > 0 => {
                let list = self.probe.take().expect("the probe's list");
                return self.run_finding(*list.report.expect("a report"), list.selected);
            }
            _ => self.probe = None,
        }
        Vec::new()
    }

    /// Sets up finding `index`'s keyspace and arguments, and runs the
    /// active tab to its failure.
    fn run_finding(&mut self, report: Report, index: usize) -> Vec<Effect> {
        let finding = report
            .partial
            .iter()
            .map(|(f, _)| f)
            .chain(&report.early)
            .nth(index)
            .expect("a row of the list");
        let (keys, args) = report.arguments(&finding.variation);
        let mut words: Vec<String> = keys.iter().map(|k| export::word(k)).collect();
        if !args.is_empty() {
            words.push(",".into());
            words.extend(args.iter().map(|a| export::word(a)));
        }
        self.buffers[self.active].args = words.join(" ");
        self.touch();
        let mut effects = Vec::new();
        let setup = std::iter::once(vec![b"FLUSHALL".to_vec()])
            .chain(self.setup.clone())
            .chain(report.setup_of(&finding.variation));
        for argv in setup {
            self.expect.push_back(Expect::Setup);
            effects.push(Effect::Send(argv));
        }
        self.close_session();
        effects.extend(self.start_run(self.active, Move::Failure, false));
        self.say(format!(
            "{}: running it to its failure",
            report.sentence(&finding.variation)
        ));
        effects
    }
}
