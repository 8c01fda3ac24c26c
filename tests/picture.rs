//! `run --trace svg`: a picture of the TUI's debugger, drawn by its own
//! views, at the failure by default or at `--frame N`.

use std::process::Command;

fn svg(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("inc.lua");
    std::fs::write(
        &script,
        "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .arg("run")
        .arg(&script)
        .args(["-c", "SET a 42", "-c", "SET b 42", "--trace", "svg"])
        .args(args)
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
fn the_failure_is_drawn_with_its_gutter_marks_and_what_stayed() {
    let picture = svg(&[]);
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        picture.contains("step 4/4 · line 2 ✗ the script died here"),
        "{picture}"
    );
    assert!(
        picture.contains(">✗ </text>") || picture.contains("✗"),
        "the gutter's ✗"
    );
    assert!(picture.contains("← stayed"));
    assert!(picture.contains("The script failed at line 2 after 1 write."));
    assert!(picture.trim_end().ends_with("</svg>"));
}

#[test]
fn a_frame_is_drawn_at_its_step() {
    let picture = svg(&["--frame", "2"]);
    assert!(
        picture.contains("step 2/4 · line 1 (redis.call done)"),
        "{picture}"
    );
    assert!(picture.contains("\"42\" → \"43\""));
    // The selected row is reversed as a terminal shows it: dark text on
    // its colour, not the default light text on it.
    let row = picture
        .lines()
        .find(|l| l.starts_with("<text") && l.contains("▶ L1"))
        .expect("the selected row");
    assert!(row.contains("fill=\"#1e1e1e\""), "{row}");
    // The status line holds no reply yet: the run's error is its end's.
    assert!(!picture.contains("(error) ERR"), "{picture}");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(["run", "/nonexistent.lua", "--trace", "svg", "--frame", "9"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn chromium_renders_the_picture() {
    let picture = svg(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("failure.svg");
    std::fs::write(&file, picture).unwrap();
    let png = dir.path().join("failure.png");
    let Ok(out) = Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1008,720",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(&file)
        .output()
    else {
        eprintln!("SKIPPED: chromium is not installed");
        return;
    };
    assert!(out.status.success());
    assert!(
        std::fs::metadata(&png).unwrap().len() > 10_000,
        "a picture, not a blank page"
    );
}
