//! A learner pasting huge values into the TUI's redis-cli pane: the
//! session survives (the engine thread answers each line) and the editor's
//! buffers are kept. In-process through `tui::driver::Driver`, against a
//! real engine thread.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use redstep::tui::app::Focus;
use redstep::tui::driver::Driver;
use redstep::tui::{opening, ui};

const MB: usize = 1024 * 1024;

/// Runs `line` in the cli pane as if typed (typing 130 MB key by key would
/// only test the key loop) and returns what the pane printed for it.
fn cli(driver: &mut Driver, line: &str) -> Vec<String> {
    let before = driver.app.cli_output.len();
    driver.app.cli_input = line.to_string();
    driver.key(KeyCode::Enter);
    // The echo of the line itself is skipped: it holds the huge value.
    driver.app.cli_output[before + 1..].to_vec()
}

fn screen(driver: &mut Driver) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &driver.app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn huge_values_in_the_cli_pane_keep_the_session_and_the_buffers() {
    let mut driver = Driver::new(opening::post(), 120, 40);
    driver.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    assert_eq!(driver.app.focus, Focus::Cli);
    let buffers: Vec<String> = driver.app.buffers.iter().map(|b| b.text()).collect();
    assert!(!buffers.is_empty());

    let a = "a".repeat(130 * MB);
    assert_eq!(cli(&mut driver, &format!("SET k {a}")), ["OK"]);
    assert_eq!(
        cli(&mut driver, &format!("EVAL \"return 1\" 0 {a}")),
        ["(integer) 1"]
    );
    drop(a);
    let b = "b".repeat(140 * MB);
    assert_eq!(
        cli(&mut driver, &format!("EVAL \"return 1\" 1 {b} {b}")),
        ["(integer) 1"]
    );
    drop(b);
    // (Before the Lua boundary was made safe, the line above made Lua exit
    // the process: the arguments alone passed the 256 MB limit.)
    // A memory bomb typed in the pane: a clean error, then business as usual.
    let bomb = cli(
        &mut driver,
        "EVAL \"local t = {} for i = 1, 1e9 do t[i] = {i} end\" 0",
    );
    assert_eq!(bomb.len(), 1, "{bomb:?}");
    assert!(
        bomb[0].starts_with(
            "(error) ERR Script stopped by redstep: Lua used more memory than its limit allows."
        ),
        "{bomb:?}"
    );
    assert_eq!(
        cli(&mut driver, "STRLEN k"),
        [format!("(integer) {}", 130 * MB)]
    );
    assert_eq!(cli(&mut driver, "PING"), ["PONG"]);
    let shown = screen(&mut driver);
    assert!(shown.contains("PONG"), "{shown}");
    let after: Vec<String> = driver.app.buffers.iter().map(|b| b.text()).collect();
    assert_eq!(after, buffers, "the editor's buffers are kept");
}
