//! The TUI's responsiveness: time to the first frame, and the time to
//! handle one key and draw again with 100,000 keys — against the same with
//! 10 keys measured in the same run (the ratio shows what the keyspace's
//! size costs). Targets: first frame under 100 ms, a key under 16 ms.
//! Then a run writing 10,000 and 100,000 keys: the time from the run's
//! request (F5) to the first frame drawn after it (target < 1 s), the
//! worst key handled and drawn while it was prepared, and Esc pressed
//! during it: how long the key took, and how long until the stopped run
//! was on screen (target: Esc answered within 100 ms).
//! Run with `cargo bench --bench tui`.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use crossterm::event::{KeyEvent, KeyModifiers};

use redstep::host::Outgoing;
use redstep::trace::Status;
use redstep::tui::app::{Effect, Focus, Msg};
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
    terminal.draw(|frame| ui::draw(frame, &driver.app)).unwrap();
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

/// Presses `code` without waiting for the engine: a run's request goes out
/// and the key returns at once, as in the terminal.
fn press(driver: &mut Driver, code: KeyCode) {
    let effects = driver
        .app
        .update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    for effect in effects {
        match effect {
            Effect::Request(kind) => {
                if let Some(request) = driver.app.request(kind) {
                    driver.conn.request(request);
                }
            }
            Effect::Interrupt => driver.interrupt.request(),
            _ => {}
        }
    }
}

struct BigRun {
    first_frame: Duration,
    /// Ctrl+Home then Ctrl+End in the debugger: across the whole run.
    jumps: (Duration, Duration),
    /// F7 then F10 at the end: one step back and forward.
    step: Duration,
    worst_key: Duration,
    esc_answered: Duration,
    esc_to_frame: Duration,
    stopped: bool,
}

/// F5 on `for i = 1, n do redis.call('SET', 'k'..i, i) end`: the time to
/// the first frame after the run (Tab pressed and drawn every 10 ms
/// meanwhile); then the same run again with Esc pressed `esc_after` in.
fn big_run(n: usize, esc_after: Duration) -> BigRun {
    let script = format!("for i = 1, {n} do redis.call('SET', 'k'..i, i) end");
    let opening = Opening {
        id: "bench".into(),
        buffers: vec![BufferSpec {
            name: "big.lua".into(),
            path: None,
            text: script,
            args: String::new(),
        }],
        active: 0,
        setup: Vec::new(),
        intro: String::new(),
    };
    let mut driver = Driver::new(opening.clone(), 120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    draw(&mut driver, &mut terminal);
    // Keys pressed while waiting go to the keyspace (Tab would indent the editor).
    driver.app.focus = Focus::Keyspace;
    let start = Instant::now();
    press(&mut driver, KeyCode::F(5));
    let mut worst_key = Duration::ZERO;
    let first_frame = loop {
        match driver.conn.recv_timeout(Duration::from_millis(10)) {
            Some(out) => {
                let effects = driver.app.update(Msg::Engine(out));
                draw(&mut driver, &mut terminal);
                let first = start.elapsed();
                driver.perform(effects);
                break first;
            }
            None => {
                let key = Instant::now();
                press(&mut driver, KeyCode::Down);
                draw(&mut driver, &mut terminal);
                worst_key = worst_key.max(key.elapsed());
            }
        }
    };
    let session = driver.app.session.as_ref().expect("the run's session");
    assert_eq!(session.key_count(), n);
    assert_eq!(session.debugger().timeline().outcome.status, Status::Ok);
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("returned"), "the outcome is on screen");
    driver.app.focus = Focus::Debugger;
    let timed = |driver: &mut Driver, terminal: &mut Terminal<TestBackend>, code, modifiers| {
        let start = Instant::now();
        driver.key_with(code, modifiers);
        draw(driver, terminal);
        start.elapsed()
    };
    let home = timed(
        &mut driver,
        &mut terminal,
        KeyCode::Home,
        KeyModifiers::CONTROL,
    );
    let end = timed(
        &mut driver,
        &mut terminal,
        KeyCode::End,
        KeyModifiers::CONTROL,
    );
    let back = timed(
        &mut driver,
        &mut terminal,
        KeyCode::F(7),
        KeyModifiers::NONE,
    );
    let on = timed(
        &mut driver,
        &mut terminal,
        KeyCode::F(10),
        KeyModifiers::NONE,
    );
    assert!(driver.app.session.as_ref().unwrap().at_end());

    // Again, with Esc pressed while the run is on the engine thread.
    let mut driver = Driver::new(opening, 120, 40);
    draw(&mut driver, &mut terminal);
    driver.app.focus = Focus::Debugger;
    press(&mut driver, KeyCode::F(5));
    let mut esc_answered = Duration::ZERO;
    let mut esc_at = None;
    let start = Instant::now();
    let esc_to_frame = loop {
        if esc_at.is_none() && start.elapsed() >= esc_after {
            let key = Instant::now();
            press(&mut driver, KeyCode::Esc);
            draw(&mut driver, &mut terminal);
            esc_answered = key.elapsed();
            esc_at = Some(key);
        }
        if let Some(out) = driver.conn.recv_timeout(Duration::from_millis(5)) {
            let traced = matches!(out, Outgoing::Response(_));
            let effects = driver.app.update(Msg::Engine(out));
            draw(&mut driver, &mut terminal);
            let at = esc_at.map(|t| t.elapsed()).unwrap_or_default();
            driver.perform(effects);
            if traced {
                break at;
            }
        }
    };
    let stopped = driver
        .app
        .session
        .as_ref()
        .is_some_and(|s| s.debugger().timeline().outcome.status == Status::Interrupted);
    BigRun {
        first_frame,
        jumps: (home, end),
        step: back.max(on),
        worst_key,
        esc_answered,
        esc_to_frame,
        stopped,
    }
}

fn big_runs() {
    println!(
        "a run writing many keys (F5 → first frame after it), Down pressed every 10 ms meanwhile:"
    );
    for n in [10_000usize, 100_000] {
        let probe = big_run(n, Duration::from_secs(3600));
        let run = big_run(n, probe.first_frame / 5);
        println!(
            "{:>7} keys: first frame {:>10} (target < 1 s: {})  worst key while waiting {:>9}  Esc at 1/5 answered in {:>8} (target < 100 ms: {}), {} on screen {:>9} later",
            n,
            ms(probe.first_frame),
            if probe.first_frame < Duration::from_secs(1) { "met" } else { "MISSED" },
            ms(probe.worst_key),
            ms(run.esc_answered),
            if run.esc_answered < Duration::from_millis(100) && probe.worst_key < Duration::from_millis(100) { "met" } else { "MISSED" },
            if run.stopped { "the stopped run" } else { "the finished run" },
            ms(run.esc_to_frame),
        );
        println!(
            "{:>7} keys: Ctrl+Home {:>9}, Ctrl+End {:>9} (across the whole run), F7/F10 at the end {:>8}",
            n,
            ms(probe.jumps.0),
            ms(probe.jumps.1),
            ms(probe.step),
        );
    }
}

/// 100,000 keys, then a run of 2,000,000 INCRs on one key (6,000,004 steps:
/// the TUI records the first 5,000,000) that dies at its end: keys in the
/// debugger and in the keyspace pane, each handled and drawn, timed.
fn long_trace() {
    let mut opening = with_keys(100_000);
    let buffer = opening.buffers.last_mut().expect("a buffer");
    buffer.name = "long.lua".into();
    buffer.text = "for i = 1, 2000000 do\n  redis.call('INCR', 'counter')\nend\nredis.call('SET', 'last', 'x')\nreturn nil + 1\n".into();
    let mut driver = Driver::new(opening, 120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    driver.app.active = driver.app.buffers.len() - 1;
    driver.app.focus = Focus::Editor;
    draw(&mut driver, &mut terminal);
    let start = Instant::now();
    driver.key(KeyCode::F(5));
    draw(&mut driver, &mut terminal);
    let ran = start.elapsed();
    let session = driver.app.session.as_ref().expect("the run's session");
    let steps = session.debugger().timeline().steps.len();
    assert_eq!(session.debugger().timeline().outcome.status, Status::Error);
    println!(
        "100k keys and a run of {steps} steps dying at its end: F5 to its first frame {}",
        ms(ran)
    );
    let held = session.debugger().timeline().outcome.trace_bytes;
    println!(
        "  its trace holds {:.1} MB (the recorder's count, {} bytes a step); the process's peak resident set {} MB",
        held as f64 / 1e6,
        held / steps,
        peak_rss_mb().map_or("?".into(), |mb| mb.to_string())
    );
    driver.app.focus = Focus::Debugger;
    let rounds: [(&str, [(KeyCode, KeyModifiers); 2]); 6] = [
        (
            "n/p: step over, step back",
            [
                (KeyCode::Char('n'), KeyModifiers::NONE),
                (KeyCode::Char('p'), KeyModifiers::NONE),
            ],
        ),
        (
            "F8/F7",
            [
                (KeyCode::F(8), KeyModifiers::NONE),
                (KeyCode::F(7), KeyModifiers::NONE),
            ],
        ),
        (
            "r/R: next, previous redis.call",
            [
                (KeyCode::Char('r'), KeyModifiers::NONE),
                (KeyCode::Char('R'), KeyModifiers::SHIFT),
            ],
        ),
        (
            "Ctrl+Home/Ctrl+End",
            [
                (KeyCode::Home, KeyModifiers::CONTROL),
                (KeyCode::End, KeyModifiers::CONTROL),
            ],
        ),
        (
            "f (the failure) / Ctrl+Home",
            [
                (KeyCode::Char('f'), KeyModifiers::NONE),
                (KeyCode::Home, KeyModifiers::CONTROL),
            ],
        ),
        (
            "Down/Up in the keyspace",
            [
                (KeyCode::Down, KeyModifiers::NONE),
                (KeyCode::Up, KeyModifiers::NONE),
            ],
        ),
    ];
    println!(
        "{:<38} {:>12} {:>12} {:>12}  target p99 < 16 ms",
        "", "median", "p99", "worst"
    );
    for (name, pair) in rounds {
        if name.contains("keyspace") {
            driver.app.focus = Focus::Keyspace;
        }
        let mut times: Vec<Duration> = (0..100)
            .map(|i| {
                let (code, modifiers) = pair[i % 2];
                let start = Instant::now();
                driver.key_with(code, modifiers);
                draw(&mut driver, &mut terminal);
                start.elapsed()
            })
            .collect();
        times.sort();
        let p99 = times[times.len() * 99 / 100];
        println!(
            "{:<38} {:>12} {:>12} {:>12}  {}",
            name,
            ms(times[times.len() / 2]),
            ms(p99),
            ms(times[times.len() - 1]),
            if p99 < Duration::from_millis(16) {
                "met"
            } else {
                "not met"
            }
        );
    }
}

/// The process's peak resident set (VmHWM), in MB.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn main() {
    if std::env::args().any(|a| a == "long") {
        long_trace();
        return;
    }
    if std::env::args().any(|a| a == "big") {
        big_runs();
        return;
    }
    big_runs();
    long_trace();
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
