//! `redstep run` as a user types it: options before or after the script's
//! words (with a warning among the words), `--` for words that look like
//! options, and setup from a file and from `-c` commands.

use std::path::PathBuf;
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn redstep(dir: &std::path::Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A folder holding `echo.lua`, which returns its KEYS, its ARGV and the
/// value of `a`.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redstep-run-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("echo.lua"),
        "return {KEYS, ARGV, redis.call('GET', 'a') or 'no a'}\n",
    )
    .unwrap();
    dir
}

#[test]
fn options_after_the_words_are_options_and_get_a_warning() {
    let dir = folder("after");
    let out = redstep(&dir, &["run", "echo.lua", "k1", ",", "a1", "--raw"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "k1\na1\nno a\n\nkeys the script touched:\n\"a\" (none)\n"
    );
    assert_eq!(
        out.stderr,
        "redstep: warning: --raw among the script's words is taken as redstep's option, not as a key or argument\n\
         redstep: warning: to pass such words to the script, write them after a lone --: redstep run echo.lua k1 , a1 -- --raw\n"
    );

    let out = redstep(&dir, &["run", "echo.lua", "k1", ",", "a1", "--trace", "md"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("| step | line |"), "{}", out.stdout);
    assert!(!out.stdout.contains("--trace"), "{}", out.stdout);
    assert!(out.stderr.contains("--trace md among the script's words"));
}

#[test]
fn a_markdown_trace_ends_with_the_outcome_one_paragraph_a_sentence() {
    let dir = folder("md");
    std::fs::write(
        dir.join("inc.lua"),
        "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n",
    )
    .unwrap();
    let out = redstep(&dir, &["run", "inc.lua", "-c", "SET a 42", "--trace", "md"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let outcome = out
        .stdout
        .split("|\n\n")
        .nth(1)
        .expect("a blank line after the table");
    assert_eq!(
        outcome,
        "The script failed at line 2 after 1 write. Redis does not roll back: what it wrote stays written.\n\n\
         a went from \"42\" to \"43\" and stayed that way.\n\n\
         Line 3 never ran: redis.call('INCR', 'b')\n\n\
         Replicas and the AOF received it too: INCR a.\n",
        "{}",
        out.stdout
    );
}

/// A run that wrote nothing says so, rather than "after 0 writes" and
/// that what it wrote stays written.
#[test]
fn a_run_without_writes_says_nothing_was_written() {
    let dir = folder("nowrite");
    std::fs::write(
        dir.join("fail.lua"),
        "local x = redis.call('GET', 'a')\nreturn x + nil\n",
    )
    .unwrap();
    std::fs::write(dir.join("read.lua"), "return redis.call('GET', 'a')\n").unwrap();
    let failed = redstep(&dir, &["run", "fail.lua", "--trace", "md"]);
    assert!(
        failed.stdout.contains(
            "The script failed at line 2 before it wrote anything: nothing stayed written.\n"
        ),
        "{}",
        failed.stdout
    );
    let read = redstep(&dir, &["run", "read.lua", "--trace", "md"]);
    assert!(
        read.stdout
            .contains("The script returned without writing.\n"),
        "{}",
        read.stdout
    );
}

#[test]
fn frame_without_an_svg_trace_is_refused() {
    let dir = folder("frame");
    let out = redstep(&dir, &["run", "echo.lua", "--frame", "2", "--trace"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr
            .contains("--frame N picks the step a picture shows: it goes with --trace svg"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn a_json_trace_lists_the_first_200_untouched_keys_and_counts_the_rest() {
    let dir = folder("untouched");
    let setup: String = (0..250).map(|i| format!("SET k{i:03} {i}\n")).collect();
    std::fs::write(dir.join("setup.txt"), setup).unwrap();
    std::fs::write(dir.join("one.lua"), "return redis.call('INCR', 'k000')\n").unwrap();
    let out = redstep(
        &dir,
        &["run", "one.lua", "--setup", "setup.txt", "--trace", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trace: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let untouched = trace["untouched"].as_array().unwrap();
    assert_eq!(untouched.len(), 200);
    // k000 changed: the list starts at k001, by name.
    assert_eq!(untouched[0]["key"], "k001");
    assert_eq!(untouched[0]["value"]["value"], "1");
    assert_eq!(untouched[199]["key"], "k200");
    assert_eq!(trace["untouched_more"], 49);
}

#[test]
fn options_before_the_words_need_no_warning() {
    let dir = folder("before");
    let out = redstep(&dir, &["run", "--raw", "echo.lua", "--trace", "k1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    // `--trace` takes only text, json or md: k1 stays a key.
    assert!(out.stdout.starts_with("trace of EVAL"), "{}", out.stdout);
    assert!(out.stdout.contains("\"k1\""), "{}", out.stdout);
}

#[test]
fn a_lone_double_dash_passes_what_follows_to_the_script() {
    let dir = folder("dashes");
    let out = redstep(
        &dir,
        &["run", "echo.lua", "k1", ",", "--", "--trace", "--", "-c"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "1) 1) \"k1\"\n2) 1) \"--trace\"\n   2) \"--\"\n   3) \"-c\"\n3) \"no a\"\n\nkeys the script touched:\n\"a\" (none)\n"
    );
    // Numbers and -inf are words without any `--`.
    let out = redstep(&dir, &["run", "echo.lua", "k", ",", "-5", "-inf"]);
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "1) 1) \"k\"\n2) 1) \"-5\"\n   2) \"-inf\"\n3) \"no a\"\n\nkeys the script touched:\n\"a\" (none)\n"
    );
}

#[test]
fn an_unknown_double_dash_word_goes_to_the_script_with_a_warning() {
    let dir = folder("unknown");
    let out = redstep(&dir, &["run", "echo.lua", "k", ",", "--trce", "--raw"]);
    assert_eq!(
        out.stdout,
        "k\n--trce\nno a\n\nkeys the script touched:\n\"a\" (none)\n"
    );
    assert!(
        out.stderr.starts_with(
            "redstep: warning: --trce is not an option of `redstep run`: it goes to the script as a key or argument"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn setup_comes_from_c_commands_and_a_file() {
    let dir = folder("setup");
    std::fs::write(dir.join("setup.txt"), "SET a 1\nAPPEND a \"2 3\"\n").unwrap();
    let out = redstep(
        &dir,
        &[
            "run",
            "echo.lua",
            "--setup",
            "setup.txt",
            "-c",
            "APPEND a ' 4'",
            "--raw",
            "-c",
            "APPEND a 5",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The file's lines first, then each -c in order (no KEYS, no ARGV: two
    // empty lines in --raw).
    assert_eq!(
        out.stdout,
        "\n\n12 3 45\n\nkeys the script touched:\n\"a\" (string): \"12 3 45\"\n"
    );
    // No words: the options among them stand before any word, no warning.
    assert_eq!(out.stderr, "");

    // The post's run, from inline setup.
    std::fs::write(
        dir.join("inc.lua"),
        "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n",
    )
    .unwrap();
    let out = redstep(
        &dir,
        &["run", "inc.lua", "-c", "SET a 42", "-c", "SET b 42"],
    );
    assert_eq!(out.stderr, "");
    assert_eq!(
        out.stdout,
        "(error) ERR user_script:2: Script attempted to access nonexistent global variable 'result' \
         script: d0e480e1285ebff8a062967eb0fa7d2ada562d97, on @user_script:2.\n\n\
         keys the script touched:\n\"a\" (string): \"43\"\n"
    );
}

#[test]
fn a_setup_error_names_its_command_or_line_and_the_run_goes_on() {
    let dir = folder("setup-error");
    std::fs::write(dir.join("setup.txt"), "SET a 1\nSETT b 2\n").unwrap();
    let out = redstep(
        &dir,
        &[
            "run",
            "echo.lua",
            "--raw",
            "--setup",
            "setup.txt",
            "-c",
            "INCR a x",
        ],
    );
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout,
        "\n\n1\n\nkeys the script touched:\n\"a\" (string): \"1\"\n"
    );
    assert_eq!(
        out.stderr,
        "setup setup.txt:2: (error) ERR unknown command 'SETT', with args beginning with: 'b' '2' \n\
         setup -c 'INCR a x': (error) ERR wrong number of arguments for 'incr' command\n"
    );
}

#[test]
fn run_help_tells_the_double_dash_rule() {
    let out = redstep(&std::env::temp_dir(), &["run", "--help"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("-c, --command <COMMAND>"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Everything after a lone `--` goes to the script as it is: `redstep run f.lua k1 , -- --trace`"
        ),
        "{}",
        out.stdout
    );
}

/// A call short of its arguments (Redis answers it with an arity error,
/// which `pcall` catches) is traced and probed like any other: its keys
/// are looked for among the arguments it has.
#[test]
fn a_call_short_of_its_arguments_is_traced_and_probed() {
    let dir = folder("short-call");
    std::fs::write(
        dir.join("short.lua"),
        "redis.pcall('set')\nredis.pcall('sort')\nreturn 1\n",
    )
    .unwrap();
    for args in [
        &["run", "short.lua"][..],
        &["run", "short.lua", "--trace", "json"],
        &["probe", "short.lua"],
    ] {
        let out = redstep(&dir, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
    let out = redstep(&dir, &["run", "short.lua"]);
    assert!(out.stdout.starts_with("(integer) 1\n"), "{}", out.stdout);
}

/// `redstep exec -f -` reads its commands from standard input, as `-`
/// means for most tools (it looked for a file named `-`).
#[test]
fn exec_reads_standard_input_for_a_file_named_dash() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(["exec", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"SET a 41\nINCR a\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\n(integer) 42\n");
    assert!(out.status.success());
}
