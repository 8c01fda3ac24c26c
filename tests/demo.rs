//! `redstep demo --print`: the post's story. Its redis-cli part must be
//! what a real Redis 7.0 prints (recorded by tests/golden/record_demo.sh);
//! the whole output is compared with tests/golden/demo-print.txt.

use std::process::Command;

fn demo() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(["demo", "--print"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
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
