//! The editor edits and nothing a learner types loses work: Tab indents,
//! a paste is one edit, letters in other panes do nothing destructive,
//! the file on disk is the truth. Driven through the model against a real
//! engine thread, as tests/tui.rs does.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyModifiers};

use redstep::tui::app::{Focus, Msg};
use redstep::tui::driver::Driver;
use redstep::tui::opening::{self, BufferSpec, Opening};
use redstep::tui::workspace::{disk_hash, Saved, SavedBuffer};

fn script(text: &str) -> Opening {
    Opening {
        id: "t".into(),
        buffers: vec![BufferSpec {
            name: "s.lua".into(),
            path: None,
            text: text.into(),
            args: String::new(),
        }],
        active: 0,
        setup: vec![],
        intro: String::new(),
    }
}

fn lesson(id: &str) -> Driver {
    let lessons = redstep::lessons::builtin();
    let index = lessons.iter().position(|l| l.id == id).unwrap();
    Driver::lesson(lessons, index, 120, 40)
}

fn lines(d: &Driver) -> Vec<String> {
    d.app.buffer().area.lines().to_vec()
}

fn ctrl(d: &mut Driver, c: char) {
    d.key_with(KeyCode::Char(c), KeyModifiers::CONTROL);
}

fn alt(d: &mut Driver, c: char) {
    d.key_with(KeyCode::Char(c), KeyModifiers::ALT);
}

fn message(d: &Driver) -> String {
    d.app.message.clone().map(|m| m.0).unwrap_or_default()
}

#[test]
fn tab_indents_and_shift_tab_dedents_in_the_editor_and_keeps_the_focus() {
    let mut d = Driver::new(script("if x then\nreturn 1\nend"), 120, 40);
    d.key(KeyCode::Down);
    d.key(KeyCode::Tab);
    assert_eq!(d.app.focus, Focus::Editor);
    assert_eq!(lines(&d), ["if x then", "    return 1", "end"]);
    // The cursor moved with the text: typing goes where it was.
    d.type_text("x");
    assert_eq!(lines(&d)[1], "    xreturn 1");
    ctrl(&mut d, 'z');
    d.key(KeyCode::BackTab);
    assert_eq!(lines(&d), ["if x then", "return 1", "end"]);
    assert_eq!(d.app.focus, Focus::Editor);
    // A selection across lines: every line it touches, twice, then back.
    ctrl(&mut d, 'a');
    d.key(KeyCode::Tab);
    d.key(KeyCode::Tab);
    assert_eq!(
        lines(&d),
        ["        if x then", "        return 1", "        end"]
    );
    d.key(KeyCode::BackTab);
    assert_eq!(lines(&d), ["    if x then", "    return 1", "    end"]);
    // A tab character dedents too.
    let mut d = Driver::new(script("\treturn 1"), 120, 40);
    d.key(KeyCode::BackTab);
    assert_eq!(lines(&d), ["return 1"]);
}

#[test]
fn esc_then_tab_or_alt_digits_leave_the_editor() {
    let mut d = lesson("the-post");
    d.key(KeyCode::Esc);
    assert!(
        message(&d).contains("Tab now leaves the editor"),
        "{}",
        message(&d)
    );
    d.key(KeyCode::Tab);
    assert_eq!(d.app.focus, Focus::Keyspace);
    // Esc then another key: still editing, and the Tab after indents.
    alt(&mut d, '1');
    assert_eq!(d.app.focus, Focus::Editor);
    d.key(KeyCode::Esc);
    d.key(KeyCode::Right);
    d.key(KeyCode::Tab);
    assert_eq!(d.app.focus, Focus::Editor);
    // A quick Esc Tab arrives as Alt+Tab.
    d.key_with(KeyCode::Tab, KeyModifiers::ALT);
    assert_eq!(d.app.focus, Focus::Keyspace);
    alt(&mut d, '4');
    assert_eq!(d.app.focus, Focus::Lesson);
    alt(&mut d, '5');
    assert_eq!(d.app.focus, Focus::Cli);
    alt(&mut d, '3');
    assert_eq!(d.app.focus, Focus::Debugger);
}

#[test]
fn a_bracketed_paste_of_tab_indented_code_lands_verbatim_as_one_edit() {
    let mut d = lesson("the-post");
    let before = lines(&d);
    let lesson_before = d.app.lesson.as_ref().unwrap().current;
    // Terminals send the paste's line ends as \r.
    d.paste("if x then\r\t\t\treturn 1\rend\r");
    assert_eq!(d.app.focus, Focus::Editor, "a paste never moves the focus");
    assert_eq!(d.app.lesson.as_ref().unwrap().current, lesson_before);
    assert!(d.app.asks.is_empty(), "no question was raised by the paste");
    let after = lines(&d);
    assert_eq!(&after[..3], ["if x then", "\t\t\treturn 1", "end"]);
    assert_eq!(&after[3..], &before[..], "the old text follows the paste");
    // One Ctrl+Z takes the whole paste back.
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), before);
}

/// A paste outside a bracketed paste (a terminal without it, `tmux
/// send-keys`) types each newline as Ctrl+J: a newline, not the text
/// area's "delete to the start of the line", which lost every pasted line
/// but the last.
#[test]
fn a_newline_typed_as_ctrl_j_is_a_newline() {
    let mut d = Driver::new(script(""), 120, 40);
    for line in ["local a = 1", "local b = 2", "return a + b"] {
        d.type_text(line);
        ctrl(&mut d, 'j');
    }
    assert_eq!(
        lines(&d),
        ["local a = 1", "local b = 2", "return a + b", ""]
    );
}

/// A long text replaced by a short one shows the short one whole: the
/// editor kept its scroll, so only the last line showed and the line a run
/// died on was hidden.
#[test]
fn a_short_text_pasted_over_a_long_one_shows_from_its_first_line() {
    let long: String = (1..=100).map(|i| format!("-- line {i}\n")).collect();
    let mut d = Driver::new(script(&long), 120, 40);
    d.key_with(KeyCode::End, KeyModifiers::CONTROL);
    assert!(d.app.buffer().top > 50, "scrolled to the end");
    ctrl(&mut d, 'a');
    d.paste("redis.call('SET', 'a', '1')\nlocal x = nil + 1\nreturn 1");
    assert_eq!(lines(&d).len(), 3);
    assert_eq!(d.app.buffer().top, 0);
}

#[test]
fn a_paste_or_letters_in_a_pane_that_is_not_a_text_field_change_nothing() {
    let mut d = lesson("the-post");
    let before = lines(&d);
    alt(&mut d, '4');
    d.paste("if x then\n\treturn 1\nend");
    assert!(message(&d).contains("nothing pasted"), "{}", message(&d));
    // `incr a` typed into the lesson pane, meant for the redis-cli: the
    // letters that are lesson keys ask first, the question takes no other letter.
    d.type_text("incr a");
    assert_eq!(d.app.lesson.as_ref().unwrap().current, 3, "still lesson 4");
    assert_eq!(d.app.focus, Focus::Lesson);
    assert_eq!(lines(&d), before);
    assert_eq!(d.app.asks.len(), 1, "n asked before moving to lesson 5");
    d.key(KeyCode::Esc);
    assert!(d.app.asks.is_empty());
    assert_eq!(d.app.lesson.as_ref().unwrap().current, 3);
    // In the keyspace, a letter says where typing goes.
    alt(&mut d, '2');
    d.type_text("x");
    assert!(
        message(&d).contains("not a text field: Alt+1 goes to the editor"),
        "{}",
        message(&d)
    );
}

#[test]
fn copy_cut_and_paste_within_redstep_and_to_the_terminal() {
    let mut d = Driver::new(script("return 1"), 120, 40);
    ctrl(&mut d, 'a');
    ctrl(&mut d, 'c');
    assert!(
        d.outside.iter().any(|e| e == "Clipboard(\"return 1\")"),
        "{:?}",
        d.outside
    );
    d.key_with(KeyCode::End, KeyModifiers::CONTROL);
    d.key(KeyCode::Enter);
    ctrl(&mut d, 'v');
    assert_eq!(lines(&d), ["return 1", "return 1"]);
    d.key_with(KeyCode::Home, KeyModifiers::CONTROL);
    assert_eq!(d.app.buffer().area.cursor(), (0, 0));
    d.key_with(KeyCode::End, KeyModifiers::CONTROL);
    assert_eq!(d.app.buffer().area.cursor(), (1, 8));
}

#[test]
fn f2_with_unbalanced_quotes_says_so_in_the_prompt_at_once() {
    let mut d = Driver::new(script("return KEYS[1]"), 120, 40);
    d.key(KeyCode::F(2));
    d.type_text("\"k1 , a");
    d.key(KeyCode::Enter);
    let prompt = d.app.prompt.as_ref().expect("the prompt stays open");
    assert!(prompt.error.is_some(), "the error is in the prompt");
    d.key(KeyCode::Backspace);
    assert!(d.app.prompt.as_ref().unwrap().error.is_none());
    d.key(KeyCode::Esc);
    assert!(d.app.prompt.is_none());
}

// ---- the disk is the truth ----

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("redstep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `redstep FILE` with a workspace that kept `text` for it, knowing the
/// file held `known` when it was last read or written.
fn reopen(path: &std::path::Path, text: &str, known: Option<&str>) -> Driver {
    let opening = opening::file(path).unwrap();
    let mut spec = opening.buffers[0].clone();
    spec.text = text.into();
    let saved = Saved {
        buffers: vec![SavedBuffer {
            spec,
            breakpoints: vec![],
            disk: known.map(disk_hash),
        }],
        active: 0,
    };
    Driver::with_saved(opening, Some(saved), 120, 40)
}

#[test]
fn the_file_opens_as_on_disk_and_unsaved_edits_from_last_time_are_offered() {
    let dir = Dir::new("stale");
    let path = dir.0.join("f.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    // Nothing kept: the disk's text, not modified.
    let d = reopen(&path, "return 1", Some("return 1\n"));
    assert_eq!(lines(&d), ["return 1"]);
    assert!(!d.app.buffer().modified() && d.app.asks.is_empty());
    // Edits kept from last time: asked; r reloads the disk, Ctrl+Z brings them back.
    let mut d = reopen(&path, "return 2", Some("return 1\n"));
    assert!(d.app.asks[0].text.contains("keeps edits from last time"));
    assert!(d.app.buffer().modified(), "the tab shows *");
    d.key(KeyCode::Char('r'));
    assert_eq!(lines(&d), ["return 1"]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["return 2"]);
    // k keeps them: Ctrl+S then writes without asking again.
    let mut d = reopen(&path, "return 2", Some("return 1\n"));
    d.key(KeyCode::Char('k'));
    assert_eq!(lines(&d), ["return 2"]);
    ctrl(&mut d, 's');
    assert!(d.app.asks.is_empty());
    assert!(d
        .outside
        .iter()
        .any(|e| e.starts_with("Write(") && e.contains("return 2\\n")));
    // The file changed on disk since the workspace last saw it, no edits
    // kept here: the disk's new text, said.
    let d = reopen(&path, "return 0", Some("return 0\n"));
    assert_eq!(lines(&d), ["return 1"]);
    assert!(message(&d).contains("changed on disk"), "{}", message(&d));
}

#[test]
fn a_new_file_opens_unmodified_and_says_ctrl_s_creates_it() {
    let dir = Dir::new("new");
    let path = dir.0.join("new.lua");
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    assert!(
        message(&d).contains("new.lua is a new file: Ctrl+S creates it"),
        "{}",
        message(&d)
    );
    assert!(!d.app.buffer().modified(), "no * on a file not typed in");
    // Nothing typed: Ctrl+Q quits without a question.
    ctrl(&mut d, 'q');
    assert!(d.app.quit && d.app.asks.is_empty());
    // Typed in: modified, and Ctrl+S writes it.
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    d.type_text("return 1");
    assert!(d.app.buffer().modified());
    ctrl(&mut d, 's');
    assert!(d
        .outside
        .iter()
        .any(|e| e.starts_with("Write(") && e.contains("return 1")));
    // A file that held text and was removed meanwhile is told apart.
    let d = reopen(&path, "return 1", Some("return 1\n"));
    assert!(message(&d).contains("no longer on disk"), "{}", message(&d));
}

#[test]
fn a_file_changed_on_disk_while_open_is_noticed() {
    let dir = Dir::new("changed");
    let path = dir.0.join("f.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    // Another editor writes; redstep has no edits: it takes the new text
    // when the terminal gets the focus back.
    std::fs::write(&path, "return 10\n").unwrap();
    d.update(Msg::FocusGained);
    assert_eq!(lines(&d), ["return 10"]);
    // Both changed: asked, and k keeps redstep's text.
    d.type_text("0");
    std::fs::write(&path, "return 11\n").unwrap();
    d.update(Msg::FocusGained);
    assert!(d.app.asks[0]
        .text
        .contains("changed on disk, and has edits here"));
    d.key(KeyCode::Char('k'));
    assert_eq!(lines(&d), ["0return 10"]);
    // Ctrl+S after yet another change on disk: asked before overwriting;
    // Esc writes nothing.
    std::fs::write(&path, "return 12\n").unwrap();
    ctrl(&mut d, 's');
    assert!(d.app.asks[0]
        .text
        .contains("changed on disk since redstep read it"));
    d.key(KeyCode::Esc);
    assert!(!d.outside.iter().any(|e| e.starts_with("Write(")));
    // o overwrites.
    ctrl(&mut d, 's');
    d.key(KeyCode::Char('o'));
    assert!(d
        .outside
        .iter()
        .any(|e| e.starts_with("Write(") && e.contains("0return 10")));
}

#[test]
fn quitting_with_edits_not_written_asks_save_keep_or_discard() {
    let dir = Dir::new("quit");
    let path = dir.0.join("f.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    d.type_text("x");
    ctrl(&mut d, 'q');
    assert!(!d.app.quit, "asked first");
    assert!(d.app.asks[0]
        .text
        .contains("f.lua has edits not written to disk"));
    d.key(KeyCode::Esc);
    assert!(!d.app.quit);
    // d: the file's text comes back, nothing is written, and it quits.
    ctrl(&mut d, 'q');
    d.key(KeyCode::Char('d'));
    assert!(d.app.quit);
    assert_eq!(lines(&d), ["return 1"]);
    assert!(!d.outside.iter().any(|e| e.starts_with("Write(")));
    // s: written, then quit.
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    d.type_text("y");
    ctrl(&mut d, 'q');
    d.key(KeyCode::Char('s'));
    assert!(d.app.quit);
    assert!(d
        .outside
        .iter()
        .any(|e| e.starts_with("Write(") && e.contains("yreturn 1")));
    // Ctrl+Q twice: kept in the workspace, quit.
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    d.type_text("z");
    ctrl(&mut d, 'q');
    ctrl(&mut d, 'q');
    assert!(d.app.quit);
    assert_eq!(lines(&d), ["zreturn 1"]);
    // A lesson's scripts have no file: quitting asks nothing.
    let mut d = lesson("the-post");
    d.type_text("x");
    ctrl(&mut d, 'q');
    assert!(d.app.quit);
}

#[test]
fn a_write_typed_in_the_redis_cli_closes_the_runs_view_a_read_does_not() {
    let mut d = Driver::new(opening::post(), 120, 40);
    let sha = {
        d.key(KeyCode::F(5));
        assert!(d.app.session.is_some());
        alt(&mut d, '5');
        d.type_text("GET a");
        d.key(KeyCode::Enter);
        assert!(d.app.session.is_some(), "a read keeps the run's view");
        d.type_text("SCRIPT LOAD \"return redis.call('INCR', 'a')\"");
        d.key(KeyCode::Enter);
        assert!(d.app.session.is_some(), "loading a script writes no key");
        let line = d.app.cli_output.last().unwrap().clone();
        line.trim_matches('"').to_string()
    };
    // EVALSHA that writes: the view of the old run is closed.
    d.type_text(&format!("EVALSHA {sha} 0"));
    d.key(KeyCode::Enter);
    assert!(d.app.session.is_none(), "{:?}", d.app.cli_output);
    assert!(message(&d).contains("keys changed since the run: its view is closed"));
    // The debugger pane keeps saying why until the next run.
    let why = d.app.closed_why.clone().unwrap_or_default();
    assert!(why.starts_with("keys changed since it ran"), "{why}");
    // FCALL that writes, after a new run.
    d.type_text("FUNCTION LOAD \"#!lua name=lib\\nredis.register_function('f', function() return redis.call('INCR', 'b') end)\"");
    d.key(KeyCode::Enter);
    alt(&mut d, '1');
    d.key(KeyCode::F(5));
    assert!(d.app.session.is_some());
    assert_eq!(d.app.closed_why, None);
    alt(&mut d, '5');
    d.type_text("FCALL_RO f 0");
    d.key(KeyCode::Enter);
    assert!(
        d.app.session.is_some(),
        "FCALL_RO of a writing function is refused: nothing changed"
    );
    d.type_text("FCALL f 0");
    d.key(KeyCode::Enter);
    assert!(d.app.session.is_none(), "{:?}", d.app.cli_output);
}

/// F6 after a run that changed no key says there is nothing to undo
/// instead of asking to "put the 0 keys it changed back".
#[test]
fn undo_of_a_run_that_changed_nothing_says_so() {
    let mut d = Driver::new(script("return redis.call('GET', 'a')"), 120, 40);
    d.key(KeyCode::F(5));
    assert!(d.app.session.is_some());
    d.key(KeyCode::F(6));
    assert!(d.app.asks.is_empty(), "no question asked");
    assert_eq!(message(&d), "nothing to undo: the run changed no key");
}

#[test]
fn letters_in_the_debugger_never_start_a_run() {
    let mut d = Driver::new(opening::post(), 120, 40);
    alt(&mut d, '3');
    d.type_text("incr a");
    assert!(
        d.app.session.is_none() && d.app.running.is_none(),
        "no run started"
    );
    d.type_text("n");
    assert!(
        message(&d).contains("to run the script (it writes keys) press F10 or F5"),
        "{}",
        message(&d)
    );
    // F10 runs; then the letters move through the run, and past its end `c`
    // does not run it again.
    d.key(KeyCode::F(10));
    assert!(d.app.session.is_some());
    for _ in 0..5 {
        d.key(KeyCode::Char('n'));
    }
    let runs_before = d
        .app
        .session
        .as_ref()
        .unwrap()
        .debugger()
        .timeline()
        .name
        .clone();
    d.key(KeyCode::Char('c'));
    assert_eq!(
        d.app.session.as_ref().unwrap().debugger().timeline().name,
        runs_before
    );
    assert!(d.app.running.is_none());
}

#[test]
fn a_run_belongs_to_the_tab_that_ran_and_edits_during_it_count() {
    let mut d = Driver::new(opening::post(), 120, 40);
    let effects = d.app.update(Msg::Key(crossterm::event::KeyEvent::new(
        KeyCode::F(5),
        KeyModifiers::NONE,
    )));
    // While the run is on the engine: another tab, and an edit of the one that runs.
    let running = d.app.running.clone().expect("a run on the engine");
    assert_eq!(running.buffer, 1, "inc.lua");
    d.type_text("-- ");
    d.key_with(KeyCode::F(3), KeyModifiers::NONE);
    d.perform(effects);
    let session = d.app.session.as_ref().expect("the run's view");
    assert_eq!(session.buffer, 1, "credited to inc.lua, not get.lua");
    assert!(session.edited, "inc.lua was edited during the run");
}

/// While a lesson's script runs, the lesson cannot change under it (the
/// run's reply would land in the next lesson's tab, which showed lesson 7's
/// script "running" in lesson 8).
#[test]
fn lessons_do_not_change_while_a_script_runs() {
    let first = redstep::lessons::builtin()[0].id.clone();
    let mut d = lesson(&first);
    let effects = d.app.update(Msg::Key(crossterm::event::KeyEvent::new(
        KeyCode::F(5),
        KeyModifiers::NONE,
    )));
    assert!(d.app.running.is_some(), "a run on the engine");
    alt(&mut d, '4');
    for key in ['n', 'p', 'r', 'l'] {
        d.key(KeyCode::Char(key));
        assert!(d.app.asks.is_empty(), "{key}: no question while it runs");
        assert!(
            message(&d).starts_with("a script is running: "),
            "{key}: {}",
            message(&d)
        );
    }
    d.perform(effects);
    assert!(d.app.running.is_none());
    d.key(KeyCode::Char('n'));
    assert!(
        !d.app.asks.is_empty(),
        "after the run, n asks to change lessons"
    );
}

/// A letter typed into the script by mistake, then Ctrl+Z: the buffer holds
/// the text the run ran again, and the run is usable again.
#[test]
fn an_edit_undone_back_to_the_run_text_gives_the_run_back() {
    let mut d = Driver::new(opening::post(), 120, 40);
    d.app.focus = Focus::Editor;
    d.key(KeyCode::F(5));
    let steps = d.app.session.as_ref().expect("the run").debugger().len();
    assert!(steps > 2);
    d.type_text("x");
    assert!(d.app.session.as_ref().unwrap().edited);
    ctrl(&mut d, 'z');
    assert!(
        !d.app.session.as_ref().unwrap().edited,
        "back to the text it ran"
    );
    d.app.focus = Focus::Debugger;
    d.key_with(KeyCode::Home, KeyModifiers::CONTROL);
    assert_eq!(d.app.session.as_ref().unwrap().debugger().cursor(), 0);
    // Another edit that stays: the run is not this text's.
    d.app.focus = Focus::Editor;
    d.type_text("-- ");
    assert!(d.app.session.as_ref().unwrap().edited);
}

#[test]
fn breakpoints_stay_with_their_lines() {
    let mut d = Driver::new(script("a()\nb()\nc()\nd()"), 120, 40);
    d.key(KeyCode::Down);
    d.key(KeyCode::F(9)); // line 2
    d.key(KeyCode::Down);
    d.key(KeyCode::Down);
    d.key(KeyCode::F(9)); // line 4
                          // Backspace at the start of line 3 joins it to line 2: 2 stays, 4 moves up.
    d.key(KeyCode::Up);
    d.key(KeyCode::Home);
    d.key(KeyCode::Backspace);
    assert_eq!(lines(&d), ["a()", "b()c()", "d()"]);
    assert_eq!(
        d.app
            .buffer()
            .breakpoints
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [2, 3]
    );
    // Enter at the start of line 2 pushes it (and its breakpoint) down.
    d.key(KeyCode::Home);
    d.key(KeyCode::Enter);
    assert_eq!(
        d.app
            .buffer()
            .breakpoints
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [3, 4]
    );
    // Enter in the middle of line 3 keeps its breakpoint there.
    d.key(KeyCode::Right);
    d.key(KeyCode::Enter);
    assert_eq!(
        d.app
            .buffer()
            .breakpoints
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [3, 5]
    );
    // A paste at the start of line 1 moves them all.
    d.key_with(KeyCode::Home, KeyModifiers::CONTROL);
    d.paste("x()\ny()\n");
    assert_eq!(
        d.app
            .buffer()
            .breakpoints
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        [5, 7]
    );
}

#[test]
fn saving_at_quit_asks_before_writing_over_a_changed_file() {
    let dir = Dir::new("quitsave");
    let path = dir.0.join("f.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    d.type_text("-- mine\n");
    std::fs::write(&path, "return 'theirs'\n").unwrap();
    ctrl(&mut d, 'q');
    d.key(KeyCode::Char('s'));
    assert!(!d.app.quit, "asked first");
    assert!(d.app.asks[0].text.contains("changed on disk"));
    assert!(!d.outside.iter().any(|e| e.starts_with("Write(")));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "return 'theirs'\n");
    // The same file read again does not ask twice.
    d.update(Msg::FocusGained);
    d.update(Msg::FocusGained);
    assert_eq!(d.app.asks.len(), 1, "{:?}", d.app.asks);
}

#[test]
fn ctrl_s_with_no_edits_here_takes_the_files_new_text() {
    let dir = Dir::new("noedits");
    let path = dir.0.join("f.lua");
    std::fs::write(&path, "return 1\n").unwrap();
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    std::fs::write(&path, "return 2\n").unwrap();
    ctrl(&mut d, 's');
    assert!(d.app.asks.is_empty());
    assert_eq!(lines(&d), ["return 2"]);
    assert!(!d.outside.iter().any(|e| e.starts_with("Write(")));
    assert!(!d.app.buffer().modified());
}

#[test]
fn wide_characters_keep_the_cursor_on_its_character() {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut d = Driver::new(
        script("return \"日本語日本語日本語日本語日本語日本語日本語\""),
        80,
        24,
    );
    d.key(KeyCode::End);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| redstep::tui::ui::draw(frame, &d.app))
        .unwrap();
    let cursor = terminal.get_cursor_position().unwrap();
    let buffer = terminal.backend().buffer();
    // The cell left of the cursor holds the closing quote, not half a character.
    assert_eq!(buffer[(cursor.x - 1, cursor.y)].symbol(), "\"");
}

#[test]
fn ctrl_p_probes_the_tab_and_enter_runs_a_finding_to_its_failure() {
    use redstep::engine::Reply;
    let mut d = Driver::new(opening::post(), 120, 40);
    ctrl(&mut d, 'p');
    let report = d
        .app
        .probe
        .as_ref()
        .and_then(|p| p.report.as_ref())
        .expect("a report");
    assert_eq!(report.partial.len(), 1, "{}", report.text());
    assert!(
        message(&d).contains("1 way to die after writing"),
        "{}",
        message(&d)
    );
    // The list on screen, then Enter: the run at its failure, a kept at 43.
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|frame| redstep::tui::ui::draw(frame, &d.app))
        .unwrap();
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(
        screen.contains("✗ with the inputs as given: L1 INCR a stayed"),
        "{screen}"
    );
    d.key(KeyCode::Enter);
    assert!(d.app.probe.is_none());
    let session = d.app.session.as_ref().expect("the finding's run");
    assert!(session.debugger().at_failure());
    assert_eq!(
        d.conn.call(vec![b"GET".to_vec(), b"a".to_vec()]),
        Reply::bulk("43")
    );
    // F6 and y put the keys back as the probe's input had them.
    d.key(KeyCode::F(6));
    d.key(KeyCode::Char('y'));
    assert_eq!(
        d.conn.call(vec![b"GET".to_vec(), b"a".to_vec()]),
        Reply::bulk("42")
    );
}

/// Carries out what a save asked for: the file read, then the write,
/// done on disk here; returns what was written.
fn save_effects(d: &mut Driver, effects: Vec<redstep::tui::app::Effect>) -> Option<String> {
    use redstep::tui::app::Effect;
    let mut written = None;
    for effect in effects {
        match effect {
            Effect::ReadFiles(files, why) => {
                let read = files
                    .iter()
                    .map(|(i, p)| (*i, std::fs::read_to_string(p).ok()))
                    .collect();
                let more = d.app.update(Msg::FilesRead(read, why));
                written = written.or(save_effects(d, more));
            }
            Effect::Write(path, text) => {
                std::fs::write(&path, &text).unwrap();
                written = Some(text);
            }
            _ => {}
        }
    }
    written
}

fn ctrl_s(d: &mut Driver) -> Option<String> {
    let effects = d.app.update(Msg::Key(crossterm::event::KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    save_effects(d, effects)
}

#[test]
fn ctrl_s_ends_the_file_with_one_newline_and_a_file_round_trips() {
    let dir = Dir::new("roundtrip");
    let path = dir.0.join("f.lua");
    // A file without a final newline is written with one; the text in
    // the editor is not changed.
    std::fs::write(&path, "return 1").unwrap();
    let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    assert_eq!(ctrl_s(&mut d).as_deref(), Some("return 1\n"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "return 1\n");
    assert_eq!(d.app.buffer().text(), "return 1");
    assert!(!d.app.buffer().modified());
    // Load → save → load gives the same text, blank lines included (a
    // file ending with a blank line used to open as edited, and asked
    // whether to keep "edits from last time").
    std::fs::write(&path, "return 1\n\n").unwrap();
    let d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    assert!(d.app.asks.is_empty() && !d.app.buffer().modified());
    for text in [
        "local a = 1\n\nreturn a\n",
        "return 1\n\n",
        "\n",
        "x\n  y\n",
    ] {
        std::fs::write(&path, text).unwrap();
        let mut d = Driver::new(opening::file(&path).unwrap(), 120, 40);
        let before = d.app.buffer().text();
        assert_eq!(ctrl_s(&mut d).as_deref(), Some(text), "{text:?}");
        let d = Driver::new(opening::file(&path).unwrap(), 120, 40);
        assert_eq!(d.app.buffer().text(), before, "{text:?}");
    }
    // A lesson's script (no file yet): Save As writes it, and it opens
    // again as it was.
    let mut d = lesson("eval-keys-argv");
    let before = d.app.buffer().text();
    assert_eq!(ctrl_s(&mut d), None, "asks where first");
    let path = dir.0.join("greet.lua");
    d.app.prompt.as_mut().unwrap().input = path.display().to_string();
    let effects = d.app.update(Msg::Key(crossterm::event::KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let written = save_effects(&mut d, effects).unwrap();
    assert_eq!(written, before.clone() + "\n");
    let d = Driver::new(opening::file(&path).unwrap(), 120, 40);
    assert_eq!(d.app.buffer().text(), before);
}

/// A file ending with a blank line goes through the workspace (quit, start
/// again) as it is: the blank line kept, nothing asked (the workspace kept
/// the text without it, so the next start found "edits from last time").
#[test]
fn a_final_blank_line_survives_the_workspace() {
    let dir = Dir::new("blank-workspace");
    let path = dir.0.join("f.lua");
    for text in ["return 1\n\n", "\n\n", "a\n\n\n", "return 1\n", "\n"] {
        std::fs::write(&path, text).unwrap();
        let first = Driver::new(opening::file(&path).unwrap(), 120, 40);
        let lines_before = lines(&first);
        let saved = first.app.saved();
        let again = Driver::with_saved(opening::file(&path).unwrap(), Some(saved), 120, 40);
        assert!(again.app.asks.is_empty(), "{text:?}: {:?}", again.app.asks);
        assert!(!again.app.buffer().modified(), "{text:?}");
        assert_eq!(lines(&again), lines_before, "{text:?}");
    }
}

/// Ctrl+Z undoes what a learner thinks of as one edit: the characters typed
/// a word at a time, a run of Backspaces, a paste, an indent of many lines;
/// moving the cursor ends a step; Ctrl+Y redoes, until a new edit.
#[test]
fn undo_goes_a_word_or_an_edit_at_a_time_and_redo_comes_back() {
    let mut d = Driver::new(script(""), 120, 40);
    d.app.focus = Focus::Editor;
    d.type_text("local a = 1");
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a ="]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a"]);
    ctrl(&mut d, 'y');
    assert_eq!(lines(&d), ["local a ="]);
    // Three Backspaces: one step.
    for _ in 0..3 {
        d.key(KeyCode::Backspace);
    }
    assert_eq!(lines(&d), ["local "]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a ="]);
    assert_eq!(
        d.app.buffer().area.cursor(),
        (0, 9),
        "the cursor where it was"
    );
    // Enter starts a step, as a space does.
    d.key(KeyCode::End);
    d.type_text(" 2");
    d.key(KeyCode::Enter);
    d.type_text("return a");
    assert_eq!(lines(&d), ["local a = 2", "return a"]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a = 2", "return"]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a = 2"]);
    // The cursor moved: typing there is a step of its own.
    d.key(KeyCode::Home);
    d.type_text("--");
    assert_eq!(lines(&d), ["--local a = 2"]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a = 2"]);
    // A paste of many lines, then an indent of them all: a step each.
    d.key(KeyCode::End);
    d.paste("\nif a then\nreturn a\nend");
    assert_eq!(lines(&d), ["local a = 2", "if a then", "return a", "end"]);
    ctrl(&mut d, 'a');
    d.key(KeyCode::Tab);
    let indented = [
        "    local a = 2",
        "    if a then",
        "    return a",
        "    end",
    ];
    assert_eq!(lines(&d), indented);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a = 2", "if a then", "return a", "end"]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["local a = 2"]);
    // Redo brings both back; a new edit ends redo.
    ctrl(&mut d, 'y');
    ctrl(&mut d, 'y');
    assert_eq!(lines(&d), indented);
    ctrl(&mut d, 'z');
    d.type_text("x");
    ctrl(&mut d, 'y');
    assert_eq!(lines(&d).len(), 4);
    assert!(!lines(&d)[0].starts_with("    "), "{:?}", lines(&d));
    // The text area's own keys, Ctrl+U and Ctrl+R, undo and redo as well.
    let now = lines(&d);
    ctrl(&mut d, 'u');
    assert_ne!(lines(&d), now);
    ctrl(&mut d, 'r');
    assert_eq!(lines(&d), now);
    // Back to the empty script, and no further.
    for _ in 0..20 {
        ctrl(&mut d, 'z');
    }
    assert_eq!(lines(&d), [""]);
}

/// Ctrl+Z comes back to the text a run ran even when typing goes on in
/// the same word after F5; a key that only moves ends a step; breakpoints
/// follow their lines through undo and redo.
#[test]
fn undo_stops_at_the_text_that_ran_and_moves_breakpoints_back() {
    let mut d = Driver::new(script(""), 120, 40);
    d.app.focus = Focus::Editor;
    d.type_text("return 1");
    d.key(KeyCode::F(5));
    assert!(d.app.session.is_some());
    d.app.focus = Focus::Editor;
    d.type_text("2");
    assert!(d.app.session.as_ref().unwrap().edited);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["return 1"]);
    assert!(
        !d.app.session.as_ref().unwrap().edited,
        "the run is usable again"
    );
    // Left then Right: the cursor is back where it was, yet a new step.
    d.key(KeyCode::End);
    d.type_text("0");
    d.key(KeyCode::Left);
    d.key(KeyCode::Right);
    d.type_text("0");
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["return 10"]);
    // A breakpoint below a paste moves down with its line, and back up
    // with the undo; Ctrl+Y moves it down again.
    let mut d = Driver::new(script("a\nb\nc"), 120, 40);
    d.app.focus = Focus::Editor;
    d.key(KeyCode::Down);
    d.key(KeyCode::Down);
    d.key(KeyCode::F(9));
    let breakpoints = |d: &Driver| {
        d.app
            .buffer()
            .breakpoints
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(breakpoints(&d), [3]);
    d.key(KeyCode::Up);
    d.key(KeyCode::Up);
    d.key(KeyCode::End);
    d.paste("\nx\ny");
    assert_eq!(lines(&d), ["a", "x", "y", "b", "c"]);
    assert_eq!(breakpoints(&d), [5]);
    ctrl(&mut d, 'z');
    assert_eq!(lines(&d), ["a", "b", "c"]);
    assert_eq!(breakpoints(&d), [3]);
    ctrl(&mut d, 'y');
    assert_eq!(breakpoints(&d), [5]);
    // Undoing the line a breakpoint is on takes the breakpoint with it
    // (the redo left the cursor on y, line 3: x is above).
    d.key(KeyCode::Up);
    d.key(KeyCode::F(9));
    assert_eq!(breakpoints(&d), [2, 5]);
    ctrl(&mut d, 'z');
    assert_eq!(breakpoints(&d), [3]);
}

/// The redis-cli pane prints what no command waits for, as redis-cli does
/// once subscribed: every channel's confirmation, and a message a script
/// run from the editor publishes.
#[test]
fn the_cli_pane_prints_its_subscriptions_messages() {
    let mut d = Driver::new(script("return redis.call('PUBLISH', 'b', 'hi')"), 120, 40);
    alt(&mut d, '5');
    d.type_text("SUBSCRIBE a b");
    d.key(KeyCode::Enter);
    let shown = |d: &Driver| d.app.cli_output.join("\n");
    assert!(
        shown(&d).ends_with("1) \"subscribe\"\n2) \"a\"\n3) (integer) 1\n1) \"subscribe\"\n2) \"b\"\n3) (integer) 2"),
        "{}",
        shown(&d)
    );
    alt(&mut d, '1');
    d.key(KeyCode::F(5));
    assert!(
        shown(&d).ends_with("1) \"message\"\n2) \"b\"\n3) \"hi\""),
        "{}",
        shown(&d)
    );
    alt(&mut d, '5');
    d.type_text("UNSUBSCRIBE");
    d.key(KeyCode::Enter);
    assert!(
        shown(&d).ends_with("2) \"b\"\n3) (integer) 0"),
        "{}",
        shown(&d)
    );
}
