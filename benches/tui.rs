//! The TUI's responsiveness: time to the first frame, and the time to
//! handle one key and draw again with 100,000 keys — against the same with
//! 10 keys measured in the same run (the ratio shows what the keyspace's
//! size costs). Targets: first frame under 100 ms, a key under 16 ms.
//! Run with `cargo bench --bench tui`.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use redstep::tui::app::Focus;
use redstep::tui::driver::Driver;
use redstep::tui::opening::{self, BufferSpec, Opening};
use redstep::tui::ui;

const KEYS_ROUNDS: usize = 400;

fn with_keys(n: usize) -> Opening {
    let mut opening = opening::post();
    opening.setup.push(vec![
        b"EVAL".to_vec(),
        format!("for i = 1, {n} do redis.call('SET', 'key:' .. i, i) end").into_bytes(),
        b"0".to_vec(),
    ]);
    opening.buffers.push(BufferSpec {
        name: "x.lua".into(),
        path: None,
        text: String::new(),
        args: String::new(),
    });
    opening
}

fn draw(driver: &mut Driver, terminal: &mut Terminal<TestBackend>) {
    terminal
        .draw(|frame| ui::draw(frame, &mut driver.app))
        .unwrap();
}

/// Median, 99th percentile and worst of one key handled and drawn.
fn keys(
    driver: &mut Driver,
    terminal: &mut Terminal<TestBackend>,
    key: impl Fn(usize) -> KeyCode,
) -> (Duration, Duration, Duration) {
    let mut times: Vec<Duration> = (0..KEYS_ROUNDS)
        .map(|i| {
            let start = Instant::now();
            driver.key(key(i));
            draw(driver, terminal);
            start.elapsed()
        })
        .collect();
    times.sort();
    (
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1],
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // Cold: nothing loaded yet in this process (syntect's syntaxes come from
    // the dump bundled in the binary, not parsed from grammar files).
    let start = Instant::now();
    let mut driver = Driver::new(opening::post(), 120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    draw(&mut driver, &mut terminal);
    let first = start.elapsed();
    println!("first frame (engine thread, init.lua, a page of keys, highlighting, draw): {}  target < 100 ms: {}", ms(first), if first < Duration::from_millis(100) { "met" } else { "MISSED" });

    let mut results = Vec::new();
    for n in [10usize, 100_000] {
        let mut driver = Driver::new(with_keys(n), 120, 40);
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        draw(&mut driver, &mut terminal);
        // Scrolling the keyspace: each Down past the page fetches the next page.
        driver.app.focus = Focus::Keyspace;
        let scroll = keys(&mut driver, &mut terminal, |i| {
            if (i / 40) % 2 == 0 {
                KeyCode::Down
            } else {
                KeyCode::Up
            }
        });
        let page = keys(&mut driver, &mut terminal, |i| {
            if (i / 20) % 2 == 0 {
                KeyCode::PageDown
            } else {
                KeyCode::PageUp
            }
        });
        // Typing in the editor, with the keyspace pane drawn too.
        driver.app.focus = Focus::Editor;
        driver.app.active = driver.app.buffers.len() - 1;
        let typing = keys(&mut driver, &mut terminal, |i| {
            if i % 30 == 29 {
                KeyCode::Enter
            } else {
                KeyCode::Char('x')
            }
        });
        // Stepping the post's script back and forth.
        driver.app.active = 1;
        driver.key(KeyCode::F(10));
        let step = keys(&mut driver, &mut terminal, |i| {
            if i % 2 == 0 {
                KeyCode::F(8)
            } else {
                KeyCode::F(7)
            }
        });
        results.push((
            n,
            [
                ("Down/Up in the keyspace", scroll),
                ("PgDn/PgUp in the keyspace", page),
                ("typing in the editor", typing),
                ("F8/F7 in the debugger", step),
            ],
        ));
    }
    let (_, small) = &results[0];
    let (_, large) = &results[1];
    println!("one key handled and drawn (engine round trip included), {KEYS_ROUNDS} keys each:");
    println!(
        "{:<38} {:>12} {:>12} {:>12} {:>10}  target p99 < 16 ms",
        "", "median", "p99", "worst", "vs 10 keys"
    );
    for ((name, s), (_, l)) in small.iter().zip(large.iter()) {
        let ratio = l.0.as_secs_f64() / s.0.as_secs_f64();
        println!(
            "{:<38} {:>12} {:>12} {:>12} {:>9.2}x  {}",
            format!("{name}, 100k keys"),
            ms(l.0),
            ms(l.1),
            ms(l.2),
            ratio,
            if l.1 < Duration::from_millis(16) {
                "met"
            } else {
                "MISSED"
            }
        );
    }
}
