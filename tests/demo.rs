//! `redstep demo`: the post's story. Its redis-cli part must be what a real
//! Redis 7.0 prints (recorded by tests/golden/record_demo.sh from the files
//! `demo --write` writes); the whole output is compared with
//! tests/golden/demo-print.txt; the commands it prints reproduce it outside
//! a checkout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn redstep(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn demo() -> String {
    let out = redstep(Path::new("/"), &["demo", "--print"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An empty folder outside the checkout.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("redstep-demo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_redis_cli_part_is_what_real_redis_prints() {
    let recorded = include_str!("golden/demo-redis-cli.txt");
    let printed = demo();
    assert!(
        printed.contains(recorded),
        "redis-cli part differs from Redis 7.0.15's:\n{recorded}\n---\n{printed}"
    );
}

#[test]
fn demo_print_matches_the_expected_story() {
    assert_eq!(demo(), include_str!("golden/demo-print.txt"));
}

#[test]
fn the_printed_commands_reproduce_the_trace_without_a_checkout() {
    let dir = scratch("reproduce");
    let printed = demo();
    assert!(printed.contains("`redstep demo --write post` writes its scripts into post/"));

    let out = redstep(&dir, &["demo", "--write", "post"]);
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.starts_with(
            "wrote post/init.lua\nwrote post/get.lua\nwrote post/inc.lua\nwrote post/setup.txt\n"
        ),
        "{said}"
    );
    for (name, text) in [
        ("init.lua", include_str!("../assets/post/init.lua")),
        ("get.lua", include_str!("../assets/post/get.lua")),
        ("inc.lua", include_str!("../assets/post/inc.lua")),
        ("setup.txt", "SET a 42\nSET b 42\n"),
    ] {
        assert_eq!(
            std::fs::read_to_string(dir.join("post").join(name)).unwrap(),
            text
        );
    }

    // The command --print shows above the trace, run as printed, prints
    // exactly that trace: 42 → 43, not (absent) → 1.
    let command = "redstep run post/inc.lua -c 'SET a 42' -c 'SET b 42' --trace";
    assert!(printed.contains(&format!("$ {command}\n")), "{printed}");
    assert!(said.contains(&format!("  {command}\n")), "{said}");
    let out = redstep(
        &dir,
        &[
            "run",
            "post/inc.lua",
            "-c",
            "SET a 42",
            "-c",
            "SET b 42",
            "--trace",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let trace = String::from_utf8(out.stdout).unwrap();
    assert!(trace.contains("a: \"42\" → \"43\""), "{trace}");
    assert!(
        printed.contains(&format!("$ {command}\n{trace}")),
        "{printed}\n---\n{trace}"
    );

    // The setup file gives the same run.
    let command = "redstep run post/inc.lua --setup post/setup.txt";
    assert!(said.contains(&format!("  {command}\n")), "{said}");
    let out = redstep(&dir, &["run", "post/inc.lua", "--setup", "post/setup.txt"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .ends_with("keys the script touched:\n\"a\" (string): \"43\"\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_write_keeps_what_is_there_and_overwrites_nothing() {
    let dir = scratch("keep");
    assert!(redstep(&dir, &["demo", "--write", "post"]).status.success());
    let again = redstep(&dir, &["demo", "--write", "post"]);
    assert!(again.status.success());
    assert!(String::from_utf8(again.stdout)
        .unwrap()
        .starts_with("post/init.lua is already there\n"));

    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("inc.lua"), "return 'mine'\n").unwrap();
    let out = redstep(&dir, &["demo", "--write", "other"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "redstep: other/inc.lua exists and differs from the post's; nothing written (choose another folder)\n"
    );
    assert_eq!(
        std::fs::read_to_string(other.join("inc.lua")).unwrap(),
        "return 'mine'\n"
    );
    assert!(!other.join("init.lua").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
