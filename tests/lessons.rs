//! Lessons: the shipped ones are sound (each solution passes every check,
//! each starting script fails one), and `redstep lessons check` reports a
//! broken lesson with file, line and reason.

use std::process::Command;

use redstep::lessons::{self, check, validate::validate};

fn redstep(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn lessons_check_passes_on_the_repository_lessons() {
    let (code, out) = redstep(&["lessons", "check", "lessons"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.ends_with("every solution passes, every starting script fails a check\n"),
        "{out}"
    );
}

#[test]
fn every_shipped_lesson_is_sound() {
    let shipped = lessons::builtin();
    assert!(shipped.len() >= 13, "{} lessons", shipped.len());
    let (from_dir, problems) = lessons::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/lessons"
    )));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        from_dir.len(),
        shipped.len(),
        "the binary ships every lesson of lessons/"
    );
    for lesson in &shipped {
        let buffer = &lesson.buffers[lesson.checked];
        let solution = buffer
            .solution
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no solution", lesson.id));
        for result in check::run_all(lesson, solution) {
            assert!(
                result.passed,
                "{}: the solution fails {:?}: {:?}",
                lesson.id, result.name, result.failures
            );
        }
        assert!(
            check::run_all(lesson, &buffer.text)
                .iter()
                .any(|r| !r.passed),
            "{}: the starting script passes every check",
            lesson.id
        );
    }
    assert_eq!(validate(&shipped), Vec::new());
}

#[test]
fn a_broken_lesson_is_reported_with_file_line_and_reason() {
    let (code, out) = redstep(&["lessons", "check", "tests/fixtures/broken-lessons"]);
    assert_eq!(code, 1);
    assert_eq!(out, include_str!("fixtures/broken-lessons.expected"));
}

#[test]
fn a_check_says_what_failed_in_plain_words() {
    let lesson = lessons::builtin()
        .into_iter()
        .find(|l| l.id == "the-post")
        .unwrap();
    let results = check::run_all(&lesson, &lesson.buffers[lesson.checked].text);
    assert!(!results[0].passed);
    assert_eq!(
        results[0].failures,
        vec![
            "the run should succeed, but it failed: (error) ERR user_script:2: Script attempted to access nonexistent global variable 'result' script: d0e480e1285ebff8a062967eb0fa7d2ada562d97, on @user_script:2.".to_string(),
            "b should be 43, but it is 42".to_string(),
        ]
    );
}

#[test]
fn a_runaway_script_fails_its_check_instead_of_hanging() {
    let lesson = lessons::builtin()
        .into_iter()
        .find(|l| l.id == "scripts-block-the-server")
        .unwrap();
    let started = std::time::Instant::now();
    let results = check::run_all(&lesson, &lesson.buffers[lesson.checked].text);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        results[1].failures[0].contains("Script stopped by redstep after 2000 ms"),
        "{:?}",
        results[1].failures
    );
}
