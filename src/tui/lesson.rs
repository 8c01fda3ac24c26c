//! The lesson a learner is on: the lesson list, hints shown so far, the
//! last check results, and progress (kept in the data folder).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value as Json};

use crate::lessons::check::CheckResult;
use crate::lessons::Lesson;
use crate::protocol::cli::split_args;

use super::opening::{BufferSpec, Opening};
use super::workspace::{read_or_set_aside, write_atomically};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Started,
    Done,
}

pub(crate) type Progress = BTreeMap<String, Mark>;

pub struct LessonState {
    pub lessons: Vec<Lesson>,
    pub current: usize,
    pub hints_shown: usize,
    /// The last check run's results (None: not checked since opening).
    pub results: Option<Vec<CheckResult>>,
    pub checking: bool,
    pub scroll: u16,
    pub progress: Progress,
    /// The lesson list overlay, with its selected row.
    pub list: Option<usize>,
}

impl LessonState {
    pub fn new(lessons: Vec<Lesson>, current: usize, progress: Progress) -> LessonState {
        LessonState {
            lessons,
            current,
            hints_shown: 0,
            results: None,
            checking: false,
            scroll: 0,
            progress,
            list: None,
        }
    }

    pub fn lesson(&self) -> &Lesson {
        &self.lessons[self.current]
    }

    /// Marks the current lesson started (unless done); true if that changed.
    pub(crate) fn started(&mut self) -> bool {
        let id = self.lesson().id.clone();
        if self.progress.contains_key(&id) {
            return false;
        }
        self.progress.insert(id, Mark::Started);
        true
    }
}

/// The opening (buffers, setup) of a lesson.
pub fn opening(lesson: &Lesson, number: usize, total: usize) -> Opening {
    Opening {
        id: format!("lesson-{}", lesson.id),
        buffers: lesson
            .buffers
            .iter()
            .map(|b| BufferSpec {
                name: b.name.clone(),
                path: None,
                text: b.text.trim_end().to_string(),
                args: lesson.args.clone(),
            })
            .collect(),
        active: lesson.checked,
        setup: lesson
            .setup
            .iter()
            .filter_map(|l| split_args(l.as_bytes()).ok())
            .filter(|a| !a.is_empty())
            .collect(),
        intro: if lesson.checks.is_empty() {
            format!("{}: follow the steps in the lesson pane", lesson.title)
        } else {
            format!(
                "Lesson {number}/{total}: {} — F4 checks your script",
                lesson.title
            )
        },
    }
}

pub(crate) fn save_progress(path: &Path, progress: &Progress) -> anyhow::Result<()> {
    let map: Map<String, Json> = progress
        .iter()
        .map(|(id, mark)| {
            (
                id.clone(),
                Json::String(
                    if *mark == Mark::Done {
                        "done"
                    } else {
                        "started"
                    }
                    .into(),
                ),
            )
        })
        .collect();
    write_atomically(
        path,
        serde_json::to_string_pretty(&Json::Object(map))?.as_bytes(),
    )
}

/// Reads progress; a file that cannot be understood is moved aside and
/// reported (the learner starts afresh rather than not at all).
pub(crate) fn load_progress(path: &Path) -> anyhow::Result<Progress> {
    let parse = |bytes: &[u8]| {
        let doc = serde_json::from_slice::<Json>(bytes).ok()?;
        doc.as_object()?
            .iter()
            .map(|(id, v)| match v.as_str()? {
                "done" => Some((id.clone(), Mark::Done)),
                "started" => Some((id.clone(), Mark::Started)),
                _ => None,
            })
            .collect::<Option<Progress>>()
    };
    Ok(read_or_set_aside(path, "lesson progress", parse)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_round_trips_and_a_corrupt_file_is_set_aside() {
        let dir = std::env::temp_dir().join(format!("redstep-progress-{}", std::process::id()));
        let path = dir.join("progress.json");
        let mut progress = Progress::new();
        progress.insert("a".into(), Mark::Done);
        progress.insert("b".into(), Mark::Started);
        save_progress(&path, &progress).unwrap();
        assert_eq!(load_progress(&path).unwrap(), progress);
        std::fs::write(&path, "{\"a\": 3}").unwrap();
        assert!(load_progress(&path)
            .unwrap_err()
            .to_string()
            .contains("could not be read"));
        assert!(path.with_extension("json.corrupt").exists());
        assert_eq!(load_progress(&path).unwrap(), Progress::new());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
