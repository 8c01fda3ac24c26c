//! Questions asked before anything is lost (a reset, an undo, a quit with
//! edits, a file that changed on disk), and the keys that answer them.

use super::*;

/// A question answered with one key, asked before anything is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Ask {
    pub question: Question,
    pub text: String,
    /// The keys that answer, with what each does (Esc always cancels).
    pub choices: Vec<(char, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Question {
    ResetLesson,
    GotoLesson(usize),
    UndoRun,
    /// Quitting with edits not written to their files.
    Quit,
    /// Buffer N and its file disagree (the file's text given).
    KeepOrReload(usize, String),
    /// Ctrl+S on buffer N, but its file changed on disk since it was read.
    Overwrite(usize, String),
}

impl App {
    /// Letters typed where they cannot go: say where typing goes.
    pub(super) fn not_a_text_field(&mut self) {
        let pane = self.focus.context().name();
        self.warn(format!(
            "the {pane} is not a text field: {} goes to the editor, {} to the redis-cli; {} lists the keys",
            self.key_for(Command::FocusEditor),
            self.key_for(Command::FocusCli),
            self.key_for(Command::Help),
        ));
    }

    pub(super) fn ask(&mut self, question: Question, text: String, choices: &[(char, &str)]) {
        // The same question about the same buffer is asked once: the newest
        // text (a file read again) replaces the waiting one.
        let same = |a: &Ask| match (&a.question, &question) {
            // One question at a time about a buffer and its file.
            (
                Question::KeepOrReload(i, _) | Question::Overwrite(i, _),
                Question::KeepOrReload(j, _) | Question::Overwrite(j, _),
            ) => i == j,
            (a, b) => a == b,
        };
        self.asks.retain(|a| !same(a));
        self.asks.push_back(Ask {
            question,
            text,
            choices: choices
                .iter()
                .map(|(c, what)| (*c, what.to_string()))
                .collect(),
        });
    }

    pub(super) fn ask_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ask = self.asks.front().expect("a question");
        let quit_again = ask.question == Question::Quit
            && self.keymap.lookup(Context::Global, &key) == Some(Command::Quit);
        let close = self.keymap.lookup(Context::Question, &key) == Some(Command::Close);
        let answer = match key.code {
            _ if quit_again => Some('k'),
            _ if close => None,
            KeyCode::Char(c) => {
                let c = c.to_ascii_lowercase();
                if !ask.choices.iter().any(|(k, _)| *k == c) {
                    let keys: Vec<String> =
                        ask.choices.iter().map(|(k, _)| k.to_string()).collect();
                    self.warn(format!(
                        "answer with {} (Esc: leave it as it is)",
                        keys.join(" or ")
                    ));
                    return Vec::new();
                }
                Some(c)
            }
            _ => return Vec::new(),
        };
        let ask = self.asks.pop_front().expect("a question");
        match answer {
            Some(c) => self.answer(ask.question, c),
            None => {
                self.say("nothing changed");
                Vec::new()
            }
        }
    }

    pub(super) fn answer(&mut self, question: Question, answer: char) -> Vec<Effect> {
        match (question, answer) {
            (Question::ResetLesson, 'y') => self.reset_lesson(),
            (Question::GotoLesson(target), 'y') => {
                vec![Effect::SaveWorkspace, Effect::OpenLesson(target)]
            }
            (Question::UndoRun, 'y') => match &self.session {
                Some(_) if self.running.is_none() => vec![Effect::Request(RequestKind::Undo)],
                _ => Vec::new(),
            },
            (Question::Quit, 's') => {
                let files: Vec<(usize, PathBuf)> = self
                    .buffers
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.modified())
                    .filter_map(|(i, b)| Some((i, b.path.clone()?)))
                    .collect();
                vec![Effect::ReadFiles(files, AfterRead::SaveAndQuit)]
            }
            (Question::Quit, 'k') => {
                self.quit = true;
                vec![Effect::SaveWorkspace, Effect::Quit]
            }
            (Question::Quit, 'd') => {
                let files: Vec<(usize, PathBuf)> = self
                    .buffers
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.modified())
                    .filter_map(|(i, b)| Some((i, b.path.clone()?)))
                    .collect();
                self.quit = true;
                vec![
                    Effect::ReadFiles(files, AfterRead::Discard),
                    Effect::SaveWorkspace,
                    Effect::Quit,
                ]
            }
            (Question::KeepOrReload(i, text), 'k') => {
                let buffer = &mut self.buffers[i];
                // The edits are knowingly newer than the file: ask no more.
                buffer.disk = Some(disk_hash(&text));
                let name = buffer.name.clone();
                self.say(format!("kept the edits to {name}: Ctrl+S writes them"));
                vec![Effect::SaveWorkspace]
            }
            (Question::KeepOrReload(i, text) | Question::Overwrite(i, text), 'r') => {
                self.reload(i, &text);
                vec![Effect::SaveWorkspace]
            }
            (Question::Overwrite(i, _), 'o') => self.write(i),
            _ => {
                self.say("nothing changed");
                Vec::new()
            }
        }
    }
}
