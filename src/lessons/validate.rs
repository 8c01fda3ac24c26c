//! `redstep lessons check`: every lesson parses, its scripts compile, its
//! setup runs, its reference solution passes every check, and its starting
//! script fails at least one (or the exercise teaches nothing). Each problem
//! is reported once, at the file line it is written on.

use super::check::{compile_error, run_all, setup_errors};
use super::{Kind, Lesson, Problem};

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
        let mut solution_compiles = true;
        for b in lesson.buffers.iter().filter(|b| b.kind == Kind::Lua) {
            for (what, text, at) in [
                ("text", Some(&b.text), b.text_at),
                ("solution", b.solution.as_ref(), b.solution_at),
            ] {
                let Some(text) = text else { continue };
                if let Some(e) = compile_error(text) {
                    if what == "solution" {
                        solution_compiles = false;
                    }
                    let line = if at.line == 0 {
                        b.line
                    } else {
                        at.file_line(e.line, text)
                    };
                    problems.push(problem(
                        line,
                        format!("the {what} of {} does not compile: {}", b.name, e.message),
                    ));
                }
            }
        }
        let setup = setup_errors(lesson);
        for e in &setup {
            let whose = match e.check {
                None => String::new(),
                Some(c) => format!(" of check {:?}", lesson.checks[c].name),
            };
            problems.push(problem(
                e.file_line(lesson),
                format!("the setup{whose} fails: {:?}: {}", e.command, e.error),
            ));
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
        if !solution_compiles || !setup.is_empty() {
            // Reported above; running the checks would repeat it per check.
            continue;
        }
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
