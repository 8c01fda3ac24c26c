//! Files behind the buffers: the disk is the truth (read at start, on focus,
//! before Ctrl+S), saving, and the prompts that name files and arguments.

use super::*;

/// A question in the status line.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptKind {
    Args,
    Filter,
    Open,
    SaveAs,
    /// A debugger step's number.
    Step,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
    /// Why Enter did not take the input (shown after it until it changes).
    pub error: Option<String>,
}

impl PromptKind {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            PromptKind::Args => "KEYS , ARGV: ",
            PromptKind::Filter => "filter keys (glob): ",
            PromptKind::Open => "open file: ",
            PromptKind::SaveAs => "save as: ",
            PromptKind::Step => "go to step: ",
        }
    }
}

impl App {
    /// Reads the files behind the buffers that have one.
    pub(super) fn read_files(&self, why: AfterRead) -> Option<Effect> {
        let files: Vec<(usize, PathBuf)> = self
            .buffers
            .iter()
            .enumerate()
            .filter_map(|(i, b)| Some((i, b.path.clone()?)))
            .collect();
        (!files.is_empty()).then_some(Effect::ReadFiles(files, why))
    }

    /// Buffer `i` takes its file's text (Ctrl+Z brings the old one back).
    pub(super) fn reload(&mut self, i: usize, text: &str) {
        let buffer = &mut self.buffers[i];
        buffer.replace_text(text);
        buffer.disk = Some(disk_hash(text));
        let name = buffer.name.clone();
        if let Some(session) = self.session.as_mut().filter(|s| s.buffer == i) {
            session.edited = disk_hash(text) != session.ran;
        }
        self.touch();
        self.say(format!(
            "{name} now holds the file's text (Ctrl+Z brings yours back)"
        ));
    }

    /// What the files hold now, for the reason they were read.
    pub(super) fn files_read(
        &mut self,
        files: Vec<(usize, Option<String>)>,
        why: AfterRead,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        // A question raised stops a save-and-quit: the user answers first.
        let mut asked = false;
        for (i, disk) in files {
            let Some(buffer) = self.buffers.get_mut(i) else {
                continue;
            };
            let name = buffer.name.clone();
            let here = buffer.hash();
            match (why, disk) {
                (AfterRead::Discard, Some(text)) => {
                    buffer.replace_text(&text);
                    buffer.disk = Some(disk_hash(&text));
                }
                (AfterRead::Discard, None) => {}
                (AfterRead::Save | AfterRead::SaveAndQuit, disk) => {
                    let (unchanged, edited_here) = match &disk {
                        None => (true, true),
                        Some(text) => {
                            let hash = disk_hash(text);
                            (
                                buffer.disk.as_deref() == Some(hash.as_str()) || hash == here,
                                buffer.disk.as_deref() != Some(here.as_str()),
                            )
                        }
                    };
                    if unchanged {
                        effects.extend(self.write(i));
                    } else if !edited_here {
                        // Nothing to save here: the other program's text is newer.
                        self.reload(i, disk.as_deref().unwrap_or_default());
                        self.say(format!("{name} changed on disk and had no edits here: it shows the file's text now; nothing was written"));
                    } else {
                        asked = true;
                        self.ask(
                            Question::Overwrite(i, disk.unwrap_or_default()),
                            format!("{name} changed on disk since redstep read it (another editor?), and has edits here. Write yours over it?"),
                            &[('o', "overwrite the file with this text"), ('r', "reload the file's text here (Ctrl+Z brings yours back)")],
                        );
                    }
                }
                // Not on disk: a new file (known as empty, as a missing
                // file opens) stays unmodified until typed in; one that
                // held text was removed by someone else.
                (AfterRead::Open | AfterRead::Look, None) => {
                    let new = disk_hash("");
                    if buffer.disk.as_deref() == Some(new.as_str()) {
                        if why == AfterRead::Open {
                            self.say(format!("{name} is a new file: Ctrl+S creates it"));
                        }
                    } else if buffer.disk.take().is_some() {
                        self.warn(format!(
                            "{name} is no longer on disk: Ctrl+S writes it again"
                        ));
                    }
                }
                (AfterRead::Open | AfterRead::Look, Some(text)) => {
                    let hash = disk_hash(&text);
                    if hash == here {
                        buffer.disk = Some(hash);
                        continue;
                    }
                    let base = buffer.disk.clone();
                    let disk_moved = base.as_deref() != Some(hash.as_str());
                    let edited_here = base.as_deref() != Some(here.as_str());
                    if !disk_moved {
                        // Edits made here and not written yet.
                        if why == AfterRead::Open {
                            self.ask(
                                Question::KeepOrReload(i, text),
                                format!("{name}: the workspace keeps edits from last time that are not in the file. Keep them?"),
                                &[('k', "keep the edits (Ctrl+S writes them to the file)"), ('r', "reload the file's text (Ctrl+Z brings the edits back)")],
                            );
                        }
                    } else if !edited_here {
                        self.reload(i, &text);
                        self.say(format!(
                            "{name} changed on disk: redstep shows the new text (Ctrl+Z undoes)"
                        ));
                    } else {
                        self.ask(
                            Question::KeepOrReload(i, text),
                            format!("{name} changed on disk, and has edits here that are not in the file. Which one?"),
                            &[('k', "keep the edits here (Ctrl+S would overwrite the file)"), ('r', "reload the file's text (Ctrl+Z brings the edits back)")],
                        );
                    }
                }
            }
        }
        if why == AfterRead::SaveAndQuit && !asked {
            self.quit = true;
            effects.extend([Effect::SaveWorkspace, Effect::Quit]);
        }
        effects
    }

    pub(super) fn prompt_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let command = self.keymap.lookup(Context::Prompt, &key);
        let prompt = self.prompt.as_mut().expect("prompt");
        match (command, key.code) {
            (Some(Command::Close), _) => self.prompt = None,
            (Some(Command::DeleteBack), _) => {
                prompt.input.pop();
                prompt.error = None;
            }
            (Some(Command::ClearLine), _) => {
                prompt.input.clear();
                prompt.error = None;
            }
            (Some(Command::Accept), _) => {
                let Prompt { kind, input, .. } = self.prompt.take().expect("prompt");
                return self.prompt_done(kind, input);
            }
            (_, KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.push(c);
                prompt.error = None;
            }
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn prompt_done(&mut self, kind: PromptKind, input: String) -> Vec<Effect> {
        match kind {
            PromptKind::Args => {
                if let Err(e) = parse_keys_args(&input) {
                    // Said in the prompt itself, which stays open to be mended.
                    self.prompt = Some(Prompt {
                        kind,
                        input,
                        error: Some(e.to_string()),
                    });
                    return Vec::new();
                }
                self.buffers[self.active].args = input;
                self.touch();
                Vec::new()
            }
            PromptKind::Filter => {
                self.filter = if input.trim().is_empty() {
                    "*".into()
                } else {
                    input.trim().to_string()
                };
                self.key_offset = 0;
                self.key_selected = 0;
                self.filter_run_keys();
                if let Some(session) = &self.session {
                    let hidden = session.key_count() - session.shown_count();
                    if hidden > 0 {
                        self.say(format!(
                            "the filter hides {} the run changed as well (the title counts them)",
                            crate::tui::ui::plural(hidden, "key")
                        ));
                    }
                }
                vec![self.refresh_keys()]
            }
            PromptKind::Step => {
                let Some(session) = self.session.as_mut() else {
                    return Vec::new();
                };
                let total = session.debugger().len();
                match input.trim().parse::<usize>() {
                    Ok(n) if (1..=total).contains(&n) => session.goto(n - 1),
                    _ => {
                        // Said in the prompt, which stays open to be mended.
                        self.prompt = Some(Prompt {
                            kind,
                            input,
                            error: Some(format!("a step from 1 to {total}")),
                        });
                    }
                }
                Vec::new()
            }
            PromptKind::Open => {
                let path = PathBuf::from(input.trim());
                match crate::tui::opening::file(&path) {
                    Ok(opening) => {
                        let spec = opening.buffers.into_iter().next().expect("one buffer");
                        if let Some(i) = self.buffers.iter().position(|b| b.path == spec.path) {
                            self.active = i;
                        } else {
                            let disk = Some(disk_hash(&spec.text));
                            self.buffers.push(Buffer::new(spec, Vec::new(), disk));
                            self.active = self.buffers.len() - 1;
                        }
                        self.focus = Focus::Editor;
                        self.touch();
                    }
                    Err(e) => self.warn(format!("{e:#}")),
                }
                Vec::new()
            }
            PromptKind::SaveAs => {
                let path = std::path::absolute(input.trim())
                    .unwrap_or_else(|_| PathBuf::from(input.trim()));
                self.buffers[self.active].path = Some(path);
                self.save()
            }
        }
    }

    /// Ctrl+S: first a look at the file, so another program's changes are
    /// not overwritten unasked (see [`AfterRead::Save`]).
    pub(super) fn save(&mut self) -> Vec<Effect> {
        let buffer = &self.buffers[self.active];
        match &buffer.path {
            Some(path) => vec![Effect::ReadFiles(
                vec![(self.active, path.clone())],
                AfterRead::Save,
            )],
            None => {
                let name = buffer.name.clone();
                self.prompt = Some(Prompt {
                    kind: PromptKind::SaveAs,
                    input: name,
                    error: None,
                });
                Vec::new()
            }
        }
    }

    /// Writes buffer `i` to its file.
    pub(super) fn write(&mut self, i: usize) -> Vec<Effect> {
        let buffer = &mut self.buffers[i];
        let Some(path) = buffer.path.clone() else {
            return Vec::new();
        };
        let text = buffer.file_text();
        buffer.disk = Some(disk_hash(&text));
        buffer.end_step();
        self.say(format!("saved {}", path.display()));
        vec![Effect::Write(path, text), Effect::SaveWorkspace]
    }
}
