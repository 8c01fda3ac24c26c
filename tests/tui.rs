//! The TUI's model driven by key events against a real engine thread, and
//! drawn with ratatui's TestBackend: what a user would see, cell by cell.
//!
//! Snapshots live in tests/snapshots/; `REDSTEP_SNAPSHOTS=update cargo test
//! --test tui` rewrites them after a deliberate change of the screen.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use redstep::trace::Status;
use redstep::tui::app::{Effect, Msg};
use redstep::tui::driver::Driver;
use redstep::tui::opening::{self, BufferSpec, Opening};
use redstep::tui::{keymap, ui};

/// A driver (the app against a real engine thread) and a test terminal.
struct Harness {
    driver: Driver,
    terminal: Terminal<TestBackend>,
}

impl std::ops::Deref for Harness {
    type Target = Driver;
    fn deref(&self) -> &Driver {
        &self.driver
    }
}

impl std::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut Driver {
        &mut self.driver
    }
}

impl Harness {
    fn new(opening: Opening, width: u16, height: u16) -> Harness {
        Harness {
            driver: Driver::new(opening, width, height),
            terminal: Terminal::new(TestBackend::new(width, height)).unwrap(),
        }
    }

    fn screen(&mut self) -> Vec<String> {
        let app = &mut self.driver.app;
        self.terminal.draw(|frame| ui::draw(frame, app)).unwrap();
        let buffer = self.terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        self.driver.resize(width, height);
    }
}

/// An opening with one script and an empty keyspace.
fn script(name: &str, text: &str) -> Opening {
    Opening {
        id: "t".into(),
        buffers: vec![BufferSpec {
            name: name.into(),
            path: None,
            text: text.into(),
            args: String::new(),
        }],
        active: 0,
        setup: vec![],
        intro: String::new(),
    }
}

fn find<'a>(screen: &'a [String], needle: &str) -> Option<&'a String> {
    screen.iter().find(|l| l.contains(needle))
}

fn assert_shows(screen: &[String], needle: &str) {
    assert!(
        find(screen, needle).is_some(),
        "screen lacks {needle:?}:\n{}",
        screen.join("\n")
    );
}

/// The keyspace pane's row for a key (the pane is the right half of the top).
fn key_row(screen: &[String], key: &str) -> String {
    screen
        .iter()
        .map(|l| l.chars().skip(66).collect::<String>())
        .find(|l| {
            l.split_whitespace().nth(1) == Some(key)
                || l.split_whitespace()
                    .next()
                    .map(|w| w.trim_start_matches('│'))
                    == Some(key)
        })
        .unwrap_or_default()
}

/// The editor's row for a source line number.
fn editor_line(screen: &[String], n: u32) -> String {
    screen
        .iter()
        .map(|l| l.chars().take(66).collect::<String>())
        .find(|l| {
            l.chars()
                .skip(3)
                .collect::<String>()
                .trim_start()
                .starts_with(&format!("{n} "))
        })
        .unwrap_or_default()
}

fn snapshot(name: &str, screen: &[String]) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.txt"));
    let text = screen.join("\n") + "\n";
    if std::env::var("REDSTEP_SNAPSHOTS").as_deref() == Ok("update") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with REDSTEP_SNAPSHOTS=update",
            path.display()
        )
    });
    assert_eq!(text, expected, "screen differs from {}", path.display());
}

#[test]
fn the_post_scenario_forwards_and_back() {
    let mut h = Harness::new(opening::post(), 120, 40);

    // Before the run: init.lua's writes are there, inc.lua is open.
    let s = h.screen();
    assert!(key_row(&s, "a").contains("\"42\""), "{}", key_row(&s, "a"));
    assert!(key_row(&s, "b").contains("\"42\""));
    assert!(editor_line(&s, 2).contains("local result = result + 1"));
    assert_shows(&s, "No run to show.");
    snapshot("post-1-before", &s);

    // F10 starts a run, on line 1 before it runs; F8 goes to INCR a.
    h.key(KeyCode::F(10));
    let s = h.screen();
    assert!(editor_line(&s, 1).contains('▶'), "{}", editor_line(&s, 1));
    assert!(
        key_row(&s, "a").contains("\"42\""),
        "nothing ran yet: {}",
        key_row(&s, "a")
    );
    h.key(KeyCode::F(8));
    let s = h.screen();
    assert!(
        key_row(&s, "a").contains("\"42\" → \"43\""),
        "{}",
        key_row(&s, "a")
    );
    assert!(key_row(&s, "a").trim_start_matches('│').starts_with('▶'));
    assert!(key_row(&s, "b").contains("\"42\""));
    assert_shows(&s, "▶ L1   INCR a → (integer) 43  wrote a");
    snapshot("post-2-after-incr-a", &s);

    // F8 again: the script dies on line 2; a stayed 43, b is still 42.
    h.key(KeyCode::F(8));
    let s = h.screen();
    assert!(editor_line(&s, 2).contains('✗'), "{}", editor_line(&s, 2));
    assert!(editor_line(&s, 1).contains('✓'));
    assert!(!editor_line(&s, 3).contains('✓'), "line 3 never ran");
    assert!(
        key_row(&s, "a").contains("\"43\"") && key_row(&s, "a").contains("stayed"),
        "{}",
        key_row(&s, "a")
    );
    assert!(key_row(&s, "b").contains("\"42\"") && !key_row(&s, "b").contains("43"));
    assert_shows(
        &s,
        "The script failed at line 2 after 1 write. Redis does not roll back:",
    );
    assert_shows(&s, "a went from \"42\" to \"43\" and stayed that way.");
    assert_shows(&s, "Line 3 never ran: redis.call('INCR', 'b')");
    assert_shows(
        &s,
        "variable 'result' script: d0e480e1285ebff8a062967eb0fa7d2ada562d97, on",
    );
    snapshot("post-3-failure", &s);

    // F7 steps back: before the failing line, a is 43 already.
    h.key(KeyCode::F(7));
    let s = h.screen();
    assert!(editor_line(&s, 2).contains('▶'), "{}", editor_line(&s, 2));
    assert_shows(&s, "line 2 (about to run)");
    // Shift+F7 back to the previous call, then Ctrl+Home in the debugger: all undone on screen.
    h.key_with(KeyCode::F(7), KeyModifiers::SHIFT);
    assert_shows(&h.screen(), "▶ L1   INCR a");
    h.app.focus = redstep::tui::app::Focus::Debugger;
    h.key_with(KeyCode::Home, KeyModifiers::CONTROL);
    let s = h.screen();
    assert!(
        key_row(&s, "a").contains("\"42\"") && !key_row(&s, "a").contains("43"),
        "{}",
        key_row(&s, "a")
    );
    // F5 continues to the end; the live engine holds what Redis would: 43 and 42.
    h.key(KeyCode::F(5));
    assert!(h.app.session.as_ref().unwrap().debugger().at_failure());
    assert_eq!(
        h.conn
            .call(vec![b"MGET".to_vec(), b"a".to_vec(), b"b".to_vec()]),
        redstep::engine::Reply::Array(vec![
            redstep::engine::Reply::bulk("43"),
            redstep::engine::Reply::bulk("42")
        ])
    );
}

#[test]
fn breakpoints_stop_a_run_and_undo_puts_the_keyspace_back() {
    let mut h = Harness::new(opening::post(), 120, 40);
    // Cursor on line 2 of inc.lua, F9, F5: the run stops there.
    h.key(KeyCode::Down);
    h.key(KeyCode::F(9));
    assert!(
        editor_line(&h.screen(), 2).starts_with("│●"),
        "{}",
        editor_line(&h.screen(), 2)
    );
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert!(
        editor_line(&s, 2).contains('▶'),
        "stopped at the breakpoint: {}",
        editor_line(&s, 2)
    );
    // F6 asks first; only y undoes.
    h.key(KeyCode::F(6));
    let s = h.screen();
    assert_shows(
        &s,
        "Undo the run: put the key it changed back as it was before it",
    );
    assert!(key_row(&s, "a").contains("\"43\""), "{}", key_row(&s, "a"));
    h.key(KeyCode::Char('y'));
    let s = h.screen();
    assert_shows(&s, "the run was undone");
    assert_shows(&s, "The last run's view is closed:");
    assert!(key_row(&s, "a").contains("\"42\""), "{}", key_row(&s, "a"));
}

#[test]
fn the_cli_pane_runs_commands_and_its_writes_show_at_once() {
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Cli);
    h.type_text("SET greeting \"hello world\"");
    h.key(KeyCode::Enter);
    h.type_text("LPUSH l x y");
    h.key(KeyCode::Enter);
    h.type_text("HGET a");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "127.0.0.1:6379> SET greeting \"hello world\"");
    assert_shows(&s, "OK");
    assert_shows(&s, "(integer) 2");
    assert_shows(&s, "(error) ERR wrong number of arguments");
    assert!(
        key_row(&s, "greeting").contains("\"hello world\""),
        "{}",
        key_row(&s, "greeting")
    );
    // History: Up brings back the last line.
    h.key(KeyCode::Up);
    assert_eq!(h.app.cli_input, "HGET a");
    // --eval runs a tab traced, with KEYS and ARGV.
    h.app.cli_input.clear();
    h.type_text("--eval get.lua");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "1) \"42\"");
    assert_shows(&s, "get.lua · step"); // What redis-cli prints as text to read (INFO, CLIENT LIST...) is
                                        // printed as it is, an error of those without "(error)".
    h.type_text("INFO keyspace");
    h.key(KeyCode::Enter);
    h.type_text("CLIENT LIST TYPE bogus");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert!(
        s.iter().any(|l| l.contains("│# Keyspace ")),
        "INFO printed as text:\n{}",
        s.join("\n")
    );
    assert_shows(&s, "db0:keys=");
    assert!(
        s.iter()
            .any(|l| l.contains("│ERR Unknown client type 'bogus'")),
        "{}",
        s.join("\n")
    );
    // After HELLO 3 the replies print as redis-cli prints RESP3's.
    for line in [
        "HELLO 3",
        "HSET hh f v",
        "HGETALL hh",
        "ZADD z 1.5 m",
        "ZSCORE z m",
    ] {
        h.type_text(line);
        h.key(KeyCode::Enter);
    }
    let s = h.screen();
    assert_shows(&s, "1# \"f\" => \"v\"");
    assert_shows(&s, "(double) 1.5");
}

#[test]
fn a_syntax_error_is_shown_and_the_edit_kept() {
    let opening = script("bad.lua", "return (");
    let mut h = Harness::new(opening, 100, 30);
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert_shows(&s, "Error compiling script");
    assert_eq!(h.app.buffer().text(), "return (");
}

#[test]
fn keys_and_argv_reach_the_script() {
    let opening = script(
        "k.lua",
        "redis.call('SET', KEYS[1], ARGV[1])\nreturn {KEYS[1], ARGV[1], ARGV[2]}",
    );
    let mut h = Harness::new(opening, 120, 40);
    h.key(KeyCode::F(2));
    h.type_text("user:1 , \"a b\" 2");
    h.key(KeyCode::Enter);
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert!(
        key_row(&s, "user:1").contains("\"a b\""),
        "{}",
        s.join("\n")
    );
    assert_shows(&s, "returned [\"user:1\", \"a b\", \"2\"]");
}

/// A question asked while the terminal is too small (Ctrl+Q with edits
/// not written) shows above the "too small" message: the key seemed to do
/// nothing, and the keys typed next were taken as answers or ignored.
#[test]
fn a_question_shows_on_a_terminal_too_small() {
    let dir = std::env::temp_dir().join(format!("redstep-small-ask-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    let mut opening = script("s.lua", "return 1\n");
    opening.buffers[0].path = Some(path.clone());
    let mut h = Harness::new(opening, 120, 40);
    h.app.focus = redstep::tui::app::Focus::Editor;
    h.type_text("x");
    h.resize(40, 12);
    h.key_with(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert!(!h.app.asks.is_empty(), "Ctrl+Q asks about the edits");
    let s = h.screen();
    assert_shows(&s, "terminal too small");
    let text = h.app.asks.front().unwrap().text.clone();
    let start: String = text.chars().take(12).collect();
    assert_shows(&s, &start);
    // Its keys answer it there: Esc leaves everything as it is.
    h.key(KeyCode::Esc);
    assert!(h.app.asks.is_empty(), "Esc answered the question");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "return 1\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_small_terminal_gets_a_clear_message_and_loses_nothing() {
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key(KeyCode::F(10));
    h.key(KeyCode::F(8));
    h.resize(60, 15);
    let s = h.screen();
    assert_shows(&s, "terminal too small");
    assert_shows(&s, "this is 60×15");
    h.resize(80, 24);
    let s = h.screen();
    assert!(find(&s, "terminal too small").is_none());
    assert_shows(&s, "Debugger");
    assert_eq!(
        h.app.session.as_ref().unwrap().debugger().cursor(),
        1,
        "the run and its cursor survive"
    );
    h.resize(120, 40);
    let s = h.screen();
    assert!(key_row(&s, "a").contains("\"42\" → \"43\""));
}

#[test]
fn a_hundred_thousand_keys_are_paged_not_drawn() {
    let mut opening = script("x.lua", "return 1");
    opening.setup = vec![vec![
        b"EVAL".to_vec(),
        b"for i = 1, 100000 do redis.call('SET', 'key:' .. i, i) end".to_vec(),
        b"0".to_vec(),
    ]];
    let mut h = Harness::new(opening, 120, 40);
    let s = h.screen();
    assert_shows(&s, "100000 keys");
    assert!(
        h.app.keys.rows.len() < 100,
        "only a page is fetched: {}",
        h.app.keys.rows.len()
    );
    assert!(key_row(&s, "key:1").contains("\"1\""));
    h.key_with(KeyCode::Char('2'), KeyModifiers::ALT);
    for _ in 0..10 {
        h.key(KeyCode::PageDown);
    }
    let s = h.screen();
    let selected = h.app.key_selected;
    assert!(selected > 100, "{selected}");
    let name = format!("key:{}", selected + 1);
    assert!(
        key_row(&s, &name).contains(&format!("\"{}\"", selected + 1)),
        "the selected key is on screen: {name}\n{}",
        s.join("\n")
    );
    // Filter by pattern: what is typed is the pattern.
    h.key(KeyCode::Char('/'));
    h.type_text("key:9999*");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "11 keys filter key:9999*");
    // Opened again, the prompt holds the filter to edit; Ctrl+U clears
    // it, and an empty filter is all keys again.
    h.key(KeyCode::Char('/'));
    assert_eq!(h.app.prompt.as_ref().unwrap().input, "key:9999*");
    h.key_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(h.app.prompt.as_ref().unwrap().input, "");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.filter, "*");
    h.key(KeyCode::Char('/'));
    h.type_text("key:9999*");
    h.key(KeyCode::Enter);
    // Detail view of one key.
    h.key(KeyCode::Enter);
    assert!(h.app.detail.is_some());
    h.key(KeyCode::Esc);
    assert!(h.app.detail.is_none());
}

#[test]
fn esc_stops_a_runaway_script_while_the_screen_keeps_drawing() {
    let opening = script(
        "loop.lua",
        "redis.call('SET', 'before', 1)\nwhile true do end",
    );
    let mut h = Harness::new(opening, 120, 40);
    let effects = h
        .app
        .update(Msg::Key(KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE)));
    for effect in effects {
        if let Effect::Request(kind) = effect {
            let request = h.app.request(kind).unwrap();
            h.conn.request(request); // not awaited: the script runs on
        }
    }
    // The model answers and draws while the engine is busy.
    assert_shows(&h.screen(), "running…");
    h.key_with(KeyCode::Char('2'), KeyModifiers::ALT);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Keyspace);
    // Esc until the run comes back (the flag is read every 100,000 Lua
    // instructions; an Esc before the script starts does not count).
    let pressed = Instant::now();
    let out = loop {
        h.key(KeyCode::Esc);
        if let Some(out) = h.conn.recv_timeout(Duration::from_millis(20)) {
            break out;
        }
        assert!(
            pressed.elapsed() < Duration::from_secs(5),
            "Esc did not stop the script"
        );
    };
    // (How fast is a matter for a benchmark, not this test: a debug build
    // under load took 520 ms once; the loop above bounds it at 5 s.)
    let effects = h.app.update(Msg::Engine(out));
    h.perform(effects);
    let session = h.app.session.as_ref().unwrap();
    assert_eq!(
        session.debugger().timeline().outcome.status,
        Status::Interrupted
    );
    let s = h.screen();
    assert_shows(&s, "Script stopped by the redstep user");
    assert!(
        key_row(&s, "before").contains("\"1\""),
        "the write before the loop stayed"
    );
}

#[test]
fn edits_undo_redo_and_save_requests() {
    let path = std::env::temp_dir().join(format!("redstep-tui-{}.lua", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut h = Harness::new(opening::file(&path).unwrap(), 100, 30);
    h.type_text("return 1");
    assert_eq!(h.app.buffer().text(), "return 1");
    h.key_with(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_ne!(h.app.buffer().text(), "return 1");
    h.key_with(KeyCode::Char('y'), KeyModifiers::CONTROL);
    assert_eq!(h.app.buffer().text(), "return 1");
    h.key_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(
        h.outside
            .iter()
            .any(|e| e.starts_with("Write(") && e.contains("return 1\\n")),
        "{:?}",
        h.outside
    );
    h.key_with(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert!(h.app.quit);
    assert!(h.outside.iter().any(|e| e == "SaveWorkspace"));
}

#[test]
fn the_help_overlay_lists_every_binding() {
    // One column at 80×24: a wrapped text reads on when the lines are joined.
    let mut h = Harness::new(opening::post(), 80, 24);
    h.key(KeyCode::F(1));
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    // What does not fit scrolls with Down, a line at a time.
    let mut s = String::new();
    let mut last = Vec::new();
    for _ in 0..200 {
        let screen = h.screen();
        // The box: its title on row 1, its inside rows 2 to 21.
        let inside: Vec<String> = screen[2..screen.len() - 2]
            .iter()
            .map(|l| l.replace('│', " "))
            .collect();
        if last.is_empty() {
            s += &inside.join(" ");
        } else {
            s += " ";
            s += inside.last().unwrap();
        }
        last = inside;
        h.key(KeyCode::Down);
    }
    let s = words(&s);
    for (mark, meaning) in ui::LEGEND {
        assert!(s.contains(&words(meaning)), "help lacks the mark {mark}");
    }
    for binding in keymap::BINDINGS {
        assert!(
            s.contains(&words(binding.description)),
            "help lacks {:?}",
            binding.description
        );
    }
    h.key(KeyCode::Char('x'));
    assert!(!h.app.help);
}

#[test]
fn the_readme_lists_every_mark_of_the_legend() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (mark, meaning) in ui::LEGEND {
        assert!(
            readme.contains(&format!("| `{mark}` | {meaning} |")),
            "README lacks the mark {mark}: {meaning}"
        );
    }
}

#[test]
fn the_readme_key_table_is_the_keymap() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&keymap::markdown_table()),
        "README's key table differs; paste this:\n{}",
        keymap::markdown_table()
    );
}

#[test]
fn without_colour_the_marks_still_read() {
    use ratatui::style::Color;
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key(KeyCode::F(5));
    let s = h.screen();
    let colours = |h: &Harness| {
        let buffer = h.terminal.backend().buffer();
        buffer
            .content
            .iter()
            .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
            .count()
    };
    assert_eq!(colours(&h), 0, "NO_COLOR: no cell is coloured");
    assert!(editor_line(&s, 2).contains('✗') && key_row(&s, "a").contains("← stayed"));
    h.app.theme = redstep::tui::theme::Theme::new(true);
    h.screen();
    assert!(colours(&h) > 0, "with colour, the marks are coloured too");
}

#[test]
fn a_click_focuses_a_pane_and_picks_a_step_or_a_key() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key(KeyCode::F(5));
    let s = h.screen();
    let click = |h: &mut Harness, column: u16, row: u16| {
        let effects = h.app.update(Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }));
        h.perform(effects);
    };
    // The timeline row of INCR a.
    let row = s.iter().position(|l| l.contains("L1   INCR a")).unwrap() as u16;
    click(&mut h, 10, row);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Debugger);
    let s = h.screen();
    assert!(
        key_row(&s, "a").contains("\"42\" → \"43\""),
        "{}",
        key_row(&s, "a")
    );
    // The keyspace row of b.
    let row = s
        .iter()
        .position(|l| key_row(std::slice::from_ref(l), "b").contains("\"42\""))
        .unwrap() as u16;
    click(&mut h, 80, row);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Keyspace);
    h.key(KeyCode::Enter);
    assert_eq!(
        h.app.detail.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
        Some(("b", "\"42\""))
    );
    // A click under the value shown whole changes nothing; Esc closes it.
    click(&mut h, 20, 3);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Keyspace);
    h.key(KeyCode::Esc);
    // The editor: focus and the text cursor on the clicked line.
    click(&mut h, 20, 3);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Editor);
    assert_eq!(h.app.buffer().area.cursor().0, 2);
}

fn lesson_harness(id: &str) -> Harness {
    let lessons = redstep::lessons::builtin();
    let index = lessons.iter().position(|l| l.id == id).unwrap();
    Harness {
        driver: Driver::lesson(lessons, index, 120, 40),
        terminal: Terminal::new(TestBackend::new(120, 40)).unwrap(),
    }
}

fn set_text(h: &mut Harness, text: &str) {
    let lines = text.lines().map(str::to_string).collect();
    let active = h.app.active;
    h.app.buffers[active].area = ratatui_textarea::TextArea::new(lines);
}

#[test]
fn a_lesson_is_checked_hinted_passed_and_left_for_the_next() {
    use redstep::tui::lesson::Mark;
    let mut h = lesson_harness("eval-keys-argv");
    let s = h.screen();
    assert_shows(&s, &lesson_of(1));
    assert_shows(&s, "EVAL, KEYS and ARGV");
    // The starting script fails; a hint is shown on demand.
    h.key(KeyCode::F(4));
    let s = h.screen();
    assert_shows(&s, "✗ greets ARGV[1] and stores");
    assert_shows(&s, "the reply should be \"Hello, world\", but");
    assert_eq!(
        h.app
            .lesson
            .as_ref()
            .unwrap()
            .progress
            .get("eval-keys-argv"),
        Some(&Mark::Started)
    );
    h.key(KeyCode::Char('h'));
    assert_shows(&h.screen(), "Hint 1: ARGV[1] is the first");
    // The solution passes: the lesson is done.
    let solution = h.app.lesson.as_ref().unwrap().lessons[0].buffers[0]
        .solution
        .clone()
        .unwrap();
    set_text(&mut h, &solution);
    h.key(KeyCode::F(4));
    let s = h.screen();
    assert_shows(&s, "✓ greets ARGV[1] and stores");
    assert_shows(&s, "all 2 checks pass — lesson done");
    assert_eq!(
        h.app
            .lesson
            .as_ref()
            .unwrap()
            .progress
            .get("eval-keys-argv"),
        Some(&Mark::Done)
    );
    assert!(h.outside.iter().any(|e| e == "SaveProgress"));
    // n: the next lesson (after a y), its buffers and its keys.
    h.key(KeyCode::Char('n'));
    assert_shows(&h.screen(), "Go to lesson 2");
    h.key(KeyCode::Char('y'));
    let s = h.screen();
    assert_shows(&s, &lesson_of(2));
    assert_eq!(h.app.buffer().name, "exists.lua");
    assert!(
        key_row(&s, "present").contains("\"hello\""),
        "the lesson's setup ran on a fresh keyspace:\n{}",
        s.join("\n")
    );
    assert!(
        key_row(&s, "greeting").is_empty(),
        "the previous lesson's keys are gone"
    );
    // l: the list, with progress marks; Enter opens the chosen lesson.
    h.key(KeyCode::Char('l'));
    let s = h.screen();
    assert_shows(&s, "Lessons — Enter opens");
    assert_shows(&s, "✓  1  EVAL, KEYS and ARGV");
    for _ in 0..5 {
        h.key(KeyCode::Down);
    }
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, &lesson_of(7));
    assert_eq!(h.app.buffer().name, "transfer.lua");
    // r: the lesson back to its start, after a question; n or Esc keep the work.
    set_text(&mut h, "return 'edited'");
    h.app.focus = redstep::tui::app::Focus::Lesson;
    for refuse in [KeyCode::Char('n'), KeyCode::Esc] {
        h.key(KeyCode::Char('r'));
        assert_shows(
            &h.screen(),
            "Reset lesson 7: transfer.lua back to how the lesson starts",
        );
        h.key(KeyCode::Char('x')); // not an answer: still asking
        assert_eq!(h.app.asks.len(), 1);
        h.key(refuse);
        assert_eq!(h.app.buffer().text(), "return 'edited'");
        assert!(h.app.asks.is_empty());
    }
    h.key(KeyCode::Char('r'));
    h.key(KeyCode::Char('y'));
    assert!(
        h.app.buffer().text().contains("DECRBY"),
        "{}",
        h.app.buffer().text()
    );
}

#[test]
fn tab_moves_between_the_lesson_and_the_redis_cli() {
    let mut h = lesson_harness("the-post");
    assert!(h.app.lesson_shown());
    // Tab indents in the editor: Esc, then Tab, leaves it.
    h.key(KeyCode::Esc);
    for _ in 0..4 {
        h.key(KeyCode::Tab);
    }
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Cli);
    let s = h.screen();
    assert_shows(&s, "127.0.0.1:6379>");
    h.key(KeyCode::BackTab);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Lesson);
    assert_shows(&h.screen(), "A script dies half way");
}

#[test]
fn the_demo_walks_the_post_on_an_empty_engine() {
    let walk = redstep::demo::walk();
    let mut h = Harness {
        driver: Driver::lesson(vec![walk], 0, 120, 40),
        terminal: Terminal::new(TestBackend::new(120, 40)).unwrap(),
    };
    let s = h.screen();
    assert_shows(&s, "The post, step by step");
    assert_shows(&s, "0 keys");
    h.key(KeyCode::F(5)); // init.lua
    assert!(key_row(&h.screen(), "a").contains("\"42\""));
    h.key(KeyCode::F(3));
    h.key(KeyCode::F(5)); // get.lua
    assert_shows(&h.screen(), "the script returned [\"42\", \"42\"]");
    h.key(KeyCode::F(3));
    assert_eq!(h.app.buffer().name, "inc.lua");
    h.key(KeyCode::F(10));
    h.key(KeyCode::F(8));
    assert!(key_row(&h.screen(), "a").contains("\"42\" → \"43\""));
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert_shows(&s, "Redis does not roll back");
    assert_shows(&s, "d0e480e1285ebff8a062967eb0fa7d2ada562d97");
    h.key(KeyCode::F(3));
    h.key(KeyCode::F(3));
    h.key(KeyCode::F(5)); // get.lua again
    assert_shows(&h.screen(), "the script returned [\"43\", \"42\"]");
    h.key(KeyCode::F(4));
    assert_shows(&h.screen(), "this walk has no checks");
}

#[test]
fn select_all_then_typing_replaces_the_script() {
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key_with(KeyCode::Char('a'), KeyModifiers::CONTROL);
    h.type_text("return 1");
    assert_eq!(h.app.buffer().text(), "return 1");
    // Undo goes back an edit at a time, to the script as it was.
    for _ in 0.."return 1".len() + 1 {
        h.key_with(KeyCode::Char('z'), KeyModifiers::CONTROL);
    }
    assert!(
        h.app.buffer().text().starts_with("redis.call('INCR', 'a')"),
        "{}",
        h.app.buffer().text()
    );
}

#[test]
fn client_2_reading_during_the_posts_script_waits_and_sees_43() {
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    h.type_text("step 2: GET a");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "Other clients, with the next run:");
    assert_shows(&s, "client 2 sends GET a at step 2");
    h.key_with(KeyCode::Char('1'), KeyModifiers::ALT);
    h.key(KeyCode::F(10));
    h.key(KeyCode::F(8));
    // At INCR a the marker is next: client 2 has sent GET a and waits.
    h.key(KeyCode::F(10));
    let s = h.screen();
    assert_shows(
        &s,
        "⇄  client 2 sends GET a: it waits, the script is running",
    );
    assert!(key_row(&s, "a").contains("\"43\""), "{}", key_row(&s, "a"));
    // To the end: the script died, then client 2 got "43" (never 42).
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert_shows(
        &s,
        "⇄  client 2: GET a → \"43\" (sent at step 2, answered after the",
    );
    assert_shows(
        &s,
        "Client 2 sent GET a at step 2 and waited: it got \"43\" only after the",
    );
    snapshot("post-4-client-2-waits", &s);
}

/// "Lesson N/M" with M the shipped lessons' count.
fn lesson_of(n: usize) -> String {
    format!("Lesson {n}/{}", redstep::lessons::builtin().len())
}

#[test]
fn presenter_mode_at_80x24_shows_the_step_the_panes_and_the_keys() {
    let mut h = Harness::new(opening::post(), 80, 24);
    h.key_with(KeyCode::Char('p'), KeyModifiers::ALT);
    let s = h.screen();
    assert!(s[0].contains("NO RUN YET"), "{}", s.join("\n"));
    h.key(KeyCode::F(10));
    h.key(KeyCode::F(8));
    let s = h.screen();
    assert!(s[0].contains("STEP 2 / 4 · line 1"), "{}", s[0]);
    assert!(s[0].contains("keys: F10 F8"), "{}", s[0]);
    assert!(
        key_row(&s, "a").contains("\"42\" → \"43\"")
            || s.iter().any(|l| l.contains("\"42\" → \"43\"")),
        "{}",
        s.join("\n")
    );
    assert!(
        !s.iter().any(|l| l.contains("redis-cli")),
        "the redis-cli is hidden"
    );
    snapshot("present-80x24-step-2", &s);
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert!(s[0].contains("STEP 4 / 4 · line 2 ✗ DIED HERE"), "{}", s[0]);
    // The whole story fits at 80×24: what stayed, what never ran, what
    // the replicas got.
    for told in [
        "a went from \"42\" to \"43\" and stayed that way.",
        "Line 3 never ran: redis.call('INCR', 'b')",
        "Replicas and the AOF received:",
        "  INCR a",
    ] {
        assert_shows(&s, told);
    }
    snapshot("present-80x24-failure", &s);
    // The redis-cli takes the debugger's place while it takes the keys;
    // the room sees the command and its reply, and the top line shows
    // the keys that did something, not the letters typed.
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    h.type_text("GET a");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "▸ redis-cli");
    assert_shows(&s, "\"43\"");
    assert!(
        s[0].trim_end().ends_with("keys: F10 F8 F5 Alt+5 Enter"),
        "{}",
        s[0]
    );
    assert!(
        !s.iter().any(|l| l.contains("Debugger")),
        "{}",
        s.join("\n")
    );
    h.key_with(KeyCode::Char('3'), KeyModifiers::ALT);
    assert_shows(&h.screen(), "▸ Debugger");
    // Alt+P again: back to the usual panes.
    h.key_with(KeyCode::Char('p'), KeyModifiers::ALT);
    assert_shows(&h.screen(), "redis-cli");
}

#[test]
fn client_kill_of_the_tuis_own_connection_does_not_end_the_session() {
    let mut h = Harness::new(opening::post(), 120, 40);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    h.type_text("CLIENT KILL SKIPME no");
    h.key(KeyCode::Enter);
    h.type_text("GET a");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert_shows(&s, "(integer) 1");
    assert_shows(&s, "\"42\"");
    assert!(
        !s.iter().any(|l| l.contains("the engine stopped")),
        "{}",
        s.join("\n")
    );
}

/// Lesson 18 (#22): the XADD before the failing line stays; stepping back to
/// it, the debugger and the keyspace pane tell what the step added to the
/// stream, not a dump of it; a worker reading the group gets the event of a
/// job that does not exist.
#[test]
fn the_job_queue_lesson_shows_the_event_that_stays() {
    let mut h = lesson_harness("the-event-stays");
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert_shows(&s, "The script failed at line 4 after 1 write.");
    assert_shows(&s, "events: 0 entries → 1 entry: added");
    assert_shows(&s, "client 2: XLEN events → (integer) 1");
    assert_shows(&s, "client 2: EXISTS job:7 → (integer) 0");
    assert!(key_row(&s, "events").contains("1 entry, last id"), "{s:#?}");
    // The cursor rests on client 2's last reply, after the failure: the
    // gutter still marks line 4 as where the script died, not as run.
    let hset = s.iter().find(|l| l.contains("redis.call('HSET'")).unwrap();
    assert!(hset.contains("✗   4 redis.call('HSET'"), "{s:#?}");
    // Back to the start, then to the first call, the XADD: this step
    // changed the stream by one entry.
    for _ in 0..4 {
        h.key(KeyCode::F(7));
    }
    h.key(KeyCode::F(8));
    let s = h.screen();
    assert_shows(&s, "step 3/7 · line 3 (redis.call done)");
    assert_shows(&s, "This step changed:");
    assert_shows(&s, "events: 0 entries → 1 entry: added");
    assert!(
        key_row(&s, "events").contains("0 entries → 1 entry: a"),
        "{s:#?}"
    );
    // A worker in the redis-cli pane.
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    assert_eq!(h.app.focus, redstep::tui::app::Focus::Cli);
    for line in [
        "XREADGROUP GROUP workers w1 STREAMS events >",
        "HGETALL job:7",
    ] {
        h.type_text(line);
        h.key(KeyCode::Enter);
    }
    let s = h.screen();
    assert_shows(&s, "2) \"added\"");
    assert_shows(&s, "(empty array)");
}

/// Stepping a loop that writes, the step's locals stay in view: what
/// replicas will receive (a command a write) comes below them.
/// A loop of 100 INCRs, run (303 steps), the debugger focused at its end.
fn loop_run_in_the_debugger() -> Harness {
    let opening = script(
        "loop.lua",
        "for i = 1, 100 do\n  redis.call('INCR', 'k')\nend",
    );
    let mut h = Harness::new(opening, 120, 40);
    h.key(KeyCode::F(5));
    h.key_with(KeyCode::Char('3'), KeyModifiers::ALT);
    h
}

#[test]
fn stepping_a_writing_loop_keeps_its_locals_in_view() {
    let mut h = loop_run_in_the_debugger();
    h.key_with(KeyCode::Home, KeyModifiers::CONTROL);
    for _ in 0..4 {
        h.key(KeyCode::F(8));
    }
    let s = h.screen();
    assert_shows(&s, "Locals");
    assert_shows(&s, "i = 4");
    assert_shows(
        &s,
        "Replicas and the AOF get nothing until the script ends, then:",
    );
}

/// `g` in the debugger goes to a step by its number (a long run's middle
/// is thousands of key presses away otherwise); a number out of range is
/// said in the prompt, which stays open.
#[test]
fn g_goes_to_a_step_by_its_number() {
    let mut h = loop_run_in_the_debugger();
    h.key(KeyCode::Char('g'));
    h.type_text("0");
    h.key(KeyCode::Enter);
    assert_shows(&h.screen(), "go to step: 0  ✗ a step from 1 to 303");
    h.key(KeyCode::Backspace);
    h.type_text("150");
    h.key(KeyCode::Enter);
    assert!(h.app.prompt.is_none());
    let s = h.screen();
    assert_shows(&s, "loop.lua · step 150/303 · line 2 (redis.call done)");
    assert_shows(&s, "i = 50");
    // PgDn, PgUp: ten redis.calls on, back.
    h.key(KeyCode::PageDown);
    assert_shows(
        &h.screen(),
        "loop.lua · step 180/303 · line 2 (redis.call done)",
    );
    h.key(KeyCode::PageUp);
    h.key(KeyCode::PageUp);
    assert_shows(
        &h.screen(),
        "loop.lua · step 120/303 · line 2 (redis.call done)",
    );
}

#[test]
fn the_replica_lesson_shows_what_replicas_received_and_one_slot_runs_as_a_cluster_node() {
    let mut h = lesson_harness("the-replica-got-it-too");
    assert_eq!(h.app.cluster, None);
    h.key(KeyCode::F(5));
    let s = h.screen();
    // The debugger's "replicas receive" view beside the timeline: the
    // failed script's one write went out alone.
    assert_shows(&s, "Replicas and the AOF received:");
    assert_shows(&s, "  DECRBY stock:42 1");
    assert!(
        !s.join("\n").contains("received it too"),
        "the view lists it; the summary does not say it twice"
    );
    // Stepping back: nothing was sent yet; they get it when the script ends.
    h.key(KeyCode::F(7));
    assert_shows(
        &h.screen(),
        "Replicas and the AOF get nothing until the script ends, then:",
    );
    // The next lesson puts the engine in cluster mode (node 1 of 3) ...
    h.app.focus = redstep::tui::app::Focus::Lesson;
    h.key(KeyCode::Char('n'));
    h.key(KeyCode::Char('y'));
    assert_eq!(h.app.cluster, Some(3));
    let s = h.screen();
    assert_shows(&s, "node 1/3 · 0-5460");
    assert!(key_row(&s, "user:7").contains("2780"), "{}", s.join("\n"));
    // ... and its script dies at line 5 on a key of another slot.
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert_shows(&s, "line 5 ✗ the script died here");
    assert_shows(&s, "do not hash to the same slot");
    assert!(key_row(&s, "user:7").contains("\"15\""), "{}", s.join("\n"));
    // Back to the previous lesson: a standalone server again.
    h.app.focus = redstep::tui::app::Focus::Lesson;
    h.key(KeyCode::Char('p'));
    h.key(KeyCode::Char('y'));
    assert_eq!(h.app.cluster, None);
    assert!(!h.screen().join("\n").contains("node 1/3"));
}

fn message(h: &Harness) -> String {
    h.app.message.clone().map(|m| m.0).unwrap_or_default()
}

#[test]
fn f5_past_the_last_breakpoint_says_it_is_the_end_and_that_it_runs_again() {
    let text = "redis.call('INCR', 'n')\nreturn redis.call('GET', 'n')";
    let mut h = Harness::new(script("inc.lua", text), 120, 40);
    // A breakpoint on line 1; F5 stops there.
    h.key(KeyCode::F(9));
    h.key(KeyCode::F(5));
    assert!(editor_line(&h.screen(), 1).contains('▶'));
    // Past the last breakpoint, F5 goes to the run's end, and says so.
    h.key(KeyCode::F(5));
    assert!(h.app.session.as_ref().unwrap().at_end());
    assert!(
        message(&h).contains("no breakpoint ahead: the run's end (F5 again runs it anew)"),
        "{}",
        message(&h)
    );
    // At the end F5 runs the script again, which writes again: said.
    h.key(KeyCode::F(5));
    assert!(
        message(&h).contains("ran again from the start (writing again; F6 undoes it)")
            && message(&h).contains("stopped at the breakpoint on line 1"),
        "{}",
        message(&h)
    );
    // Without the breakpoint: straight to its end, with the new reply.
    h.key(KeyCode::F(9));
    h.key(KeyCode::F(5));
    h.key(KeyCode::F(5));
    assert_eq!(
        message(&h),
        "ran again from the start (writing again; F6 undoes it): the script returned \"3\""
    );
    assert!(key_row(&h.screen(), "n").contains("\"3\""));
    // A first run is not "again".
    let mut h = Harness::new(script("inc.lua", text), 120, 40);
    h.key(KeyCode::F(5));
    assert_eq!(message(&h), "the script returned \"1\"");
}

#[test]
fn home_end_and_pages_move_in_the_lesson_list() {
    let mut h = lesson_harness("eval-keys-argv");
    h.app.focus = redstep::tui::app::Focus::Lesson;
    h.key(KeyCode::Char('l'));
    let count = h.app.lesson.as_ref().unwrap().lessons.len();
    let list = |h: &Harness| h.app.lesson.as_ref().unwrap().list;
    h.key(KeyCode::End);
    assert_eq!(list(&h), Some(count - 1), "End: the last lesson, list open");
    h.key(KeyCode::Home);
    assert_eq!(list(&h), Some(0));
    h.key(KeyCode::PageDown);
    assert_eq!(list(&h), Some(10.min(count - 1)));
    h.key(KeyCode::PageUp);
    assert_eq!(list(&h), Some(0));
    h.key(KeyCode::End);
    let title = h.app.lesson.as_ref().unwrap().lessons[count - 1]
        .title
        .clone();
    assert_shows(&h.screen(), &title);
    h.key(KeyCode::Enter);
    h.key(KeyCode::Char('y'));
    assert_shows(&h.screen(), &lesson_of(count));
}

#[test]
fn a_functions_first_line_is_marked_run_once_its_definition_ran() {
    // Lua runs `local function f() ... end` at its `end` line (Redis's LDB
    // stops there too); its first line reads as run once that has run.
    let text = "local function bump(k)\n  local s = \"end\" -- end\n  return redis.call('INCR', k)\nend\nlocal function unused()\n  return 1\nend\nreturn bump('a')";
    let mut h = Harness::new(script("f.lua", text), 120, 40);
    h.key(KeyCode::F(10));
    let s = h.screen();
    assert!(editor_line(&s, 4).contains('▶'), "{}", s.join("\n"));
    assert!(
        !editor_line(&s, 1).contains('✓'),
        "not defined yet: {}",
        editor_line(&s, 1)
    );
    h.key(KeyCode::F(10));
    let s = h.screen();
    assert!(editor_line(&s, 1).contains('✓'), "{}", editor_line(&s, 1));
    assert!(editor_line(&s, 4).contains('✓'), "{}", editor_line(&s, 4));
    assert!(!editor_line(&s, 5).contains('✓'), "{}", editor_line(&s, 5));
    // At the end (bump's return, line 3): both defined, only bump's body ran.
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert!(editor_line(&s, 3).contains('▶'), "{}", editor_line(&s, 3));
    for n in [1, 2, 4, 5, 7, 8] {
        assert!(editor_line(&s, n).contains('✓'), "{}", editor_line(&s, n));
    }
    assert!(
        !editor_line(&s, 6).contains('✓'),
        "unused never ran: {}",
        editor_line(&s, 6)
    );
}

#[test]
fn the_keyspace_filter_hides_the_runs_keys_that_do_not_match_and_says_so() {
    let text = "redis.call('SET', 'user:1', 'a')\nredis.call('SET', 'order:1', 'b')\nreturn 1";
    let mut h = Harness::new(script("w.lua", text), 120, 40);
    h.key(KeyCode::F(5));
    let s = h.screen();
    assert!(!key_row(&s, "user:1").is_empty() && !key_row(&s, "order:1").is_empty());
    h.key_with(KeyCode::Char('2'), KeyModifiers::ALT);
    h.key(KeyCode::Char('/'));
    h.type_text("user:*");
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert!(!key_row(&s, "user:1").is_empty(), "{}", s.join("\n"));
    assert!(
        key_row(&s, "order:1").is_empty(),
        "the filter hides a key the run wrote:\n{}",
        s.join("\n")
    );
    assert_shows(&s, "filter user:* (1 hidden)");
    assert!(
        message(&h).contains("the filter hides 1 key the run changed"),
        "{}",
        message(&h)
    );
    // Enter on the one row shows user:1, not a hidden key.
    h.key(KeyCode::Enter);
    assert_eq!(h.app.detail.as_ref().unwrap().0, "user:1");
    h.key(KeyCode::Esc);
    // The filter cleared: every key again.
    h.key(KeyCode::Char('/'));
    h.key_with(KeyCode::Char('u'), KeyModifiers::CONTROL);
    h.key(KeyCode::Enter);
    let s = h.screen();
    assert!(!key_row(&s, "order:1").is_empty(), "{}", s.join("\n"));
}

static FROZEN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn frozen() -> Instant {
    *FROZEN.get_or_init(Instant::now)
}

fn two_seconds_on() -> Instant {
    frozen() + Duration::from_secs(2)
}

#[test]
fn a_waiting_redis_cli_command_says_so_and_replies_keep_the_typed_order() {
    use redstep::engine::Reply;
    use redstep::host::Outgoing;
    use redstep::tui::app::RequestKind;
    let mut h = Harness::new(script("s.lua", "return 1"), 120, 40);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    h.app.clock = frozen;
    // The model alone: replies are handed to it by hand.
    h.type_text("BLPOP k 0");
    let sent = h.app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    assert!(sent
        .iter()
        .any(|e| matches!(e, Effect::Send(argv) if argv[0] == b"BLPOP")));
    assert!(
        find(&h.screen(), "waiting for").is_none(),
        "a reply may take a moment before the pane says it waits"
    );
    h.app.clock = two_seconds_on;
    assert_shows(&h.screen(), "waiting for BLPOP… (Esc/Ctrl+C: answer now)");
    // A line typed meanwhile waits for that reply (as in redis-cli).
    h.type_text("GET a");
    let held = h.app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    assert!(
        !held.iter().any(|e| matches!(e, Effect::Send(_))),
        "{held:?}"
    );
    assert_shows(&h.screen(), "then: GET a");
    // Esc answers the waiting command.
    let stop = h.app.update(Msg::Key(KeyEvent::from(KeyCode::Esc)));
    assert!(stop
        .iter()
        .any(|e| matches!(e, Effect::Request(RequestKind::Unblock))));
    // Its reply, then the held line goes out and answers after it.
    let next = h.app.update(Msg::Engine(Outgoing::Reply(Reply::NilArray)));
    assert!(next
        .iter()
        .any(|e| matches!(e, Effect::Send(argv) if argv == &[b"GET".to_vec(), b"a".to_vec()])));
    h.app
        .update(Msg::Engine(Outgoing::Reply(Reply::Bulk(b"x".to_vec()))));
    let out = &h.app.cli_output;
    assert_eq!(
        out[out.len() - 4..],
        [
            "127.0.0.1:6379> BLPOP k 0",
            "(nil)",
            "127.0.0.1:6379> GET a",
            "\"x\""
        ]
    );
    assert!(find(&h.screen(), "waiting for").is_none());
}

/// CLIENT REPLY OFF in the redis-cli pane: nothing comes for the silenced
/// commands, and the pane does not wait for it (it used to hold every later
/// line, CLIENT REPLY ON too, for good). As redis-cli prints nothing for a
/// silenced command, nor does the pane.
#[test]
fn client_reply_off_in_the_redis_cli_pane_leaves_it_usable() {
    let mut h = Harness::new(script("s.lua", "return 1"), 120, 40);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    for line in [
        "CLIENT REPLY OFF",
        "SET a 1",
        "CLIENT REPLY ON",
        "GET a",
        "CLIENT REPLY SKIP",
        "SET a 2",
        "GET a",
    ] {
        h.type_text(line);
        h.key(KeyCode::Enter);
    }
    let out = &h.app.cli_output;
    assert_eq!(
        out[out.len() - 10..],
        [
            "127.0.0.1:6379> CLIENT REPLY OFF",
            "127.0.0.1:6379> SET a 1",
            "127.0.0.1:6379> CLIENT REPLY ON",
            "OK",
            "127.0.0.1:6379> GET a",
            "\"1\"",
            "127.0.0.1:6379> CLIENT REPLY SKIP",
            "127.0.0.1:6379> SET a 2",
            "127.0.0.1:6379> GET a",
            "\"2\"",
        ],
        "{out:#?}"
    );
    assert!(find(&h.screen(), "waiting for").is_none());
}
