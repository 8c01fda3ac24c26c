//! The lesson pane: checks, hints, moving between lessons, the list.

use super::*;

impl App {
    pub(super) fn reset_lesson(&mut self) -> Vec<Effect> {
        let Some(l) = &self.lesson else {
            return Vec::new();
        };
        let current = l.current;
        let mut effects = self.open_lesson(current, None);
        self.say("the lesson is back to its start: scripts and keys");
        effects.push(Effect::SaveWorkspace);
        effects
    }

    /// F4: run the lesson's checks on the checked buffer (off the UI thread).
    pub(super) fn check_script(&mut self) -> Vec<Effect> {
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

    pub(super) fn checked(&mut self, results: Vec<CheckResult>) -> Vec<Effect> {
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

    pub(super) fn lesson_list_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.keymap.lookup(Context::ListOverlay, &key);
        let l = self.lesson.as_mut().expect("a lesson list");
        let selected = l.list.unwrap_or(0);
        if let Some(to) = list_move(command, selected, l.lessons.len()) {
            l.list = Some(to);
            return Vec::new();
        }
        match command {
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
    pub(crate) fn open_lesson(&mut self, index: usize, saved: Option<Saved>) -> Vec<Effect> {
        let Some(l) = &mut self.lesson else {
            return Vec::new();
        };
        l.current = index.min(l.lessons.len() - 1);
        l.hints_shown = 0;
        l.results = None;
        l.scroll = 0;
        let opening = lesson::opening(l.lesson(), l.current + 1, l.lessons.len());
        // The lesson's other clients replace whatever was typed before.
        self.lane = l.lesson().others.clone();
        let (buffers, active) = buffers_of(&opening, saved);
        self.buffers = buffers;
        self.active = active.min(self.buffers.len() - 1);
        self.workspace_id = opening.id;
        self.close_session();
        self.detail = None;
        self.key_offset = 0;
        self.key_selected = 0;
        self.message = Some((opening.intro, false));
        let mut effects: Vec<Effect> = self.cluster_mode().into_iter().collect();
        self.setup = opening.setup.clone();
        self.probe = None;
        for argv in std::iter::once(vec![b"FLUSHALL".to_vec()]).chain(opening.setup) {
            self.expect.push_back(Expect::Setup);
            effects.push(Effect::Send(argv));
        }
        effects.push(self.refresh_keys());
        effects
    }

    /// Marks the lesson started (saved with the workspace's next save).
    pub(super) fn lesson_started(&mut self) {
        if let Some(l) = &mut self.lesson {
            if l.started() {
                self.touch();
            }
        }
    }

    /// Keeps the lesson pane's scroll within its text (`u16::MAX` asks for
    /// the end).
    pub(super) fn clamp_lesson_scroll(&mut self) {
        let Some(area) = self.areas().map(|a| a.lesson) else {
            return;
        };
        let lines = crate::tui::ui::lesson_lines(self, area.width.saturating_sub(2)).len() as u16;
        if let Some(l) = &mut self.lesson {
            l.scroll = l
                .scroll
                .min(lines.saturating_sub(area.height.saturating_sub(2)));
        }
    }
}
