//! `run --trace html`: one self-contained page (no network), opened in a
//! headless Chromium at a step given in the address, showing that step as
//! the TUI does. Skipped, saying so, where Chromium is missing.

use std::process::Command;

fn page() -> (tempfile::TempDir, std::path::PathBuf) {
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
        .args(["-c", "SET a 42", "-c", "SET b 42", "--trace", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let html = dir.path().join("trace.html");
    std::fs::write(&html, &out.stdout).unwrap();
    (dir, html)
}

#[test]
fn the_page_is_one_file_with_no_network() {
    let (_dir, html) = page();
    let text = std::fs::read_to_string(html).unwrap();
    assert!(text.len() < 200 * 1024, "{} bytes", text.len());
    assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("src=\""));
    assert!(text.contains("\"sha\":\"d0e480e1285ebff8a062967eb0fa7d2ada562d97\""));
}

/// The page's DOM after its script ran, opened at `fragment`.
fn dom(html: &std::path::Path, fragment: &str) -> Option<String> {
    let out = Command::new("chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}{fragment}", html.display()))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn chromium_shows_the_step_the_address_names() {
    let (_dir, html) = page();
    let Some(first) = dom(&html, "") else {
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium)");
        return;
    };
    assert!(
        first.contains("step 1/4 · line 1 (about to run)"),
        "{first}"
    );
    assert!(first.contains("Step to the end to read what happened."));
    let second = dom(&html, "#step=2").unwrap();
    assert!(
        second.contains("step 2/4 · line 1 (redis.call done)"),
        "{second}"
    );
    assert!(second.contains("a  \"42\" → \"43\""), "{second}");
    let failure = dom(&html, "#step=4").unwrap();
    assert!(failure.contains("line 2 ✗ the script died here"));
    assert!(
        failure.contains("class=\"died\"><span class=\"m\">✗</span><span class=\"n\">2</span>"),
        "{failure}"
    );
    assert!(failure.contains("a  \"43\"  ← stayed"), "{failure}");
    assert!(failure.contains("The script failed at line 2 after 1 write. Redis does not roll back: what it wrote stays written."));
    assert!(
        failure.contains("class=\"never\"><span class=\"m\"> </span><span class=\"n\">3</span>"),
        "{failure}"
    );
}
