//! `redstep config`: the defaults printed, a file checked with its lines.

use std::process::Command;

fn redstep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn config_print_and_check() {
    let out = redstep(&["config", "--print"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("# step_over = [\"F10\", \"n\"]  # step over"),
        "{text}"
    );
    assert!(text.contains("[theme]"));

    let dir = std::env::temp_dir().join(format!("redstep-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(&file, "[keys]\nstep_over = \"F6\"\n").unwrap();
    let out = redstep(&["config", "--check", file.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    std::fs::write(&file, "[keys]\nstep_over = \"F6\"\n[colours]\n").unwrap();
    let out = redstep(&["config", "--check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "{}:3: unknown section [colours] (there are [keys] and [theme])\n",
            file.display()
        )
    );
    let _ = std::fs::remove_dir_all(&dir);
}
