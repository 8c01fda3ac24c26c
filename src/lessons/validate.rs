//! `redstep lessons check`: every lesson parses, its scripts compile, its
//! reference solution passes every check, and its starting script fails at
//! least one (or the exercise teaches nothing).

use crate::engine::{Engine, Reply};
use crate::script::{ScriptConfig, Scripting};

use super::check::run_all;
use super::{Kind, Lesson, Problem};

fn compiles(text: &str) -> Result<(), String> {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    let argv = vec![
        b"SCRIPT".to_vec(),
        b"LOAD".to_vec(),
        text.as_bytes().to_vec(),
    ];
    match engine.call(&mut client, &argv, &mut scripting) {
        Reply::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        _ => Ok(()),
    }
}

/// The problems of already parsed lessons.
pub fn validate(lessons: &[Lesson]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, lesson) in lessons.iter().enumerate() {
        let problem = |line: usize, message: String| Problem {
            source: lesson.source.clone(),
            line,
            message,
        };
        if let Some(first) = lessons[..i].iter().find(|l| l.id == lesson.id) {
            problems.push(problem(
                1,
                format!("id {:?} is already used by {}", lesson.id, first.source),
            ));
        }
        for b in lesson.buffers.iter().filter(|b| b.kind == Kind::Lua) {
            for (what, text) in [("text", Some(&b.text)), ("solution", b.solution.as_ref())] {
                if let Some(text) = text {
                    if let Err(e) = compiles(text) {
                        problems.push(problem(
                            b.line,
                            format!("the {what} of {} does not compile: {e}", b.name),
                        ));
                    }
                }
            }
        }
        if lesson.checks.is_empty() {
            problems.push(problem(
                1,
                "a lesson needs at least one [[checks]] table".into(),
            ));
            continue;
        }
        let checked = &lesson.buffers[lesson.checked];
        let Some(solution) = &checked.solution else {
            problems.push(problem(
                checked.line,
                format!(
                    "{} has checks but no `solution` to prove them",
                    checked.name
                ),
            ));
            continue;
        };
        for (check, result) in lesson.checks.iter().zip(run_all(lesson, solution)) {
            for failure in result.failures {
                problems.push(problem(
                    check.line,
                    format!("the solution fails check {:?}: {failure}", check.name),
                ));
            }
        }
        if run_all(lesson, &checked.text).iter().all(|r| r.passed) {
            problems.push(problem(
                checked.line,
                format!(
                    "the starting {} already passes every check: the exercise has nothing to do",
                    checked.name
                ),
            ));
        }
    }
    problems
}
