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

fn redstep_err(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_folder_without_lessons_is_an_error() {
    let empty = std::env::temp_dir().join(format!("redstep-no-lessons-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    // A README alone is not a lesson.
    std::fs::write(empty.join("README.md"), "# my lessons\n").unwrap();
    let dir = empty.to_str().unwrap();
    for action in ["check", "list"] {
        let (code, out, err) = redstep_err(&["lessons", action, dir]);
        assert_eq!(code, 1, "{action}: {out}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!("redstep: no lessons found in {dir}: a lesson is a .md file (other than README.md) that starts with a +++ front matter (see lessons/README.md)\n")
        );
    }
    let _ = std::fs::remove_dir_all(&empty);
}

fn fixture(name: &str) -> lessons::Lesson {
    let path = format!("tests/fixtures/broken-lessons/{name}");
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    lessons::parse(&path, &text).unwrap()
}

#[test]
fn a_script_that_does_not_compile_is_one_result_with_its_line() {
    let lesson = lessons::builtin()
        .into_iter()
        .find(|l| l.id == "the-post")
        .unwrap();
    let script = "redis.call('INCR', 'a')\nlocal x = = 1\nredis.call('INCR', 'b')\n";
    assert!(lesson.checks.len() > 1, "the post has several checks");
    let results = check::run_all(&lesson, script);
    assert_eq!(
        results,
        vec![check::CheckResult {
            name: "inc.lua does not compile (line 2)".into(),
            passed: false,
            failures: vec!["Redis compiled nothing and ran nothing, so no check ran: ERR Error compiling script (new function): user_script:2: unexpected symbol near '='".into()],
            line: Some(2),
        }]
    );
    // An error at the end of the input is on the script's last line.
    let error = check::compile_error("if true then\n  return 2\n").unwrap();
    assert_eq!(error.line, 2);
    assert_eq!(
        error.message,
        "ERR Error compiling script (new function): user_script:3: 'end' expected (to close 'if' at line 1) near '<eof>'"
    );
    assert_eq!(check::compile_error("return 1"), None);
}

#[test]
fn a_setup_typo_is_one_result_per_setup_not_one_per_check() {
    let lesson = fixture("7-setup-typo.md");
    assert_eq!(lesson.setup_lines, vec![5, 6]);
    assert_eq!(lesson.checks[2].setup_lines, vec![24, 24]);
    let results = check::run_all(&lesson, "return 2");
    assert_eq!(
        results,
        vec![
            check::CheckResult {
                name: "the lesson's setup".into(),
                passed: false,
                failures: vec![
                    "setup \"SETT b 2\" fails: ERR unknown command 'SETT', with args beginning with: 'b' '2' ".into(),
                    "the lesson is broken: no check ran (tell its author)".into(),
                ],
                line: None,
            },
            check::CheckResult {
                name: "the setup of check \"own setup\"".into(),
                passed: false,
                failures: vec![
                    "setup \"INCR c x\" fails: ERR wrong number of arguments for 'incr' command".into(),
                    "the lesson is broken: no check ran (tell its author)".into(),
                ],
                line: None,
            },
        ]
    );
}

#[test]
fn compile_errors_and_setup_typos_are_reported_once_at_the_file_line() {
    let problems: Vec<String> = validate(&[
        fixture("6-solution-error-on-its-third-line.md"),
        fixture("7-setup-typo.md"),
        fixture("8-end-of-input.md"),
    ])
    .iter()
    .map(|p| p.to_string())
    .collect();
    assert_eq!(
        problems,
        vec![
            "tests/fixtures/broken-lessons/6-solution-error-on-its-third-line.md:11: the solution of s.lua does not compile: ERR Error compiling script (new function): user_script:3: unexpected symbol near '+'",
            "tests/fixtures/broken-lessons/7-setup-typo.md:6: the setup fails: \"SETT b 2\": ERR unknown command 'SETT', with args beginning with: 'b' '2' ",
            "tests/fixtures/broken-lessons/7-setup-typo.md:24: the setup of check \"own setup\" fails: \"INCR c x\": ERR wrong number of arguments for 'incr' command",
            "tests/fixtures/broken-lessons/8-end-of-input.md:10: the solution of s.lua does not compile: ERR Error compiling script (new function): user_script:3: 'end' expected (to close 'if' at line 1) near '<eof>'",
        ]
    );
}

#[test]
fn the_replica_and_cluster_lessons_fail_their_start_for_their_reason() {
    let find = |id: &str| lessons::builtin().into_iter().find(|l| l.id == id).unwrap();
    let lesson = find("the-replica-got-it-too");
    let results = check::run_all(&lesson, &lesson.buffers[lesson.checked].text);
    assert!(
        results[0].failures.contains(
            &"replicas and the AOF should receive nothing, but they received DECRBY stock:42 1"
                .to_string()
        ),
        "{:?}",
        results[0].failures
    );
    let lesson = find("one-slot");
    assert_eq!(lesson.cluster, Some(3));
    let results = check::run_all(&lesson, &lesson.buffers[lesson.checked].text);
    // Both checks fail on the starting script for the lesson's reason.
    for result in &results {
        assert!(
            result
                .failures
                .iter()
                .any(|f| f
                    .contains("Script attempted to access keys that do not hash to the same slot")),
            "{:?}",
            result.failures
        );
    }
}
