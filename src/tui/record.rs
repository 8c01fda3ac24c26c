//! `redstep --record FILE.cast`: the session as an asciicast v2 file
//! (playable with asciinema or asciinema-player): everything written to
//! the terminal, with the time it was written.

use std::fs::File;
use std::io::{BufWriter, Stdout, Write};
use std::path::Path;
use std::time::Instant;

/// The terminal's output, copied to a cast file when recording. Writes
/// are held until a flush (one frame), so a frame is one event.
pub(crate) struct Out {
    stdout: Stdout,
    cast: Option<Cast>,
    held: Vec<u8>,
}

struct Cast {
    file: BufWriter<File>,
    started: Instant,
    /// The size last recorded: a frame drawn at another size is preceded by
    /// an asciicast "r" event, so a player resizes with it.
    size: (u16, u16),
    /// The start of a UTF-8 character cut by the end of the last write.
    partial: Vec<u8>,
}

impl Out {
    pub(crate) fn plain() -> Out {
        Out {
            stdout: std::io::stdout(),
            cast: None,
            held: Vec::new(),
        }
    }

    /// Records into `path` (an asciicast v2 header for this terminal size).
    pub(crate) fn recording(path: &Path, width: u16, height: u16) -> anyhow::Result<Out> {
        let mut file = BufWriter::new(
            File::create(path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        );
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = serde_json::json!({
            "version": 2,
            "width": width,
            "height": height,
            "timestamp": timestamp,
            "env": {"TERM": std::env::var("TERM").unwrap_or_default()},
            "title": "redstep",
        });
        writeln!(file, "{header}")?;
        Ok(Out {
            stdout: std::io::stdout(),
            cast: Some(Cast {
                file,
                started: Instant::now(),
                size: (width, height),
                partial: Vec::new(),
            }),
            held: Vec::new(),
        })
    }
}

impl Drop for Cast {
    /// The recording's last event puts the cursor below the last row and
    /// shows it, so a shell prompt after `asciinema play` starts on a line
    /// of its own instead of over the screen.
    fn drop(&mut self) {
        let end = format!("\x1b[{};1H\r\n\x1b[?25h", self.size.1);
        self.event(end.as_bytes());
        let _ = self.file.flush();
    }
}

impl Cast {
    fn event(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        // Keep an unfinished UTF-8 sequence for the next write.
        let cut = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.partial.len(),
        };
        if cut == 0 {
            return;
        }
        let text = String::from_utf8_lossy(&self.partial[..cut]).into_owned();
        self.partial.drain(..cut);
        let line = serde_json::json!([self.started.elapsed().as_secs_f64(), "o", text]);
        let _ = writeln!(self.file, "{line}");
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        self.stdout.write_all(&held)?;
        if let Some(cast) = &mut self.cast {
            if let Ok(size) = crossterm::terminal::size() {
                if size != cast.size {
                    cast.size = size;
                    let line = serde_json::json!([
                        cast.started.elapsed().as_secs_f64(),
                        "r",
                        format!("{}x{}", size.0, size.1)
                    ]);
                    writeln!(cast.file, "{line}")?;
                }
            }
            cast.event(&held);
            cast.file.flush()?;
        }
        self.stdout.flush()
    }
}

/// One thing a presenter does in a played walk.
pub enum Stroke {
    Key(crossterm::event::KeyCode, crossterm::event::KeyModifiers),
    Type(&'static str),
}

/// A terminal's output collected in memory.
#[derive(Clone, Default)]
struct Collected(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Collected {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `redstep demo --record FILE.cast`: the walk's strokes played on a
/// lesson (one every `pace` seconds), each screen drawn off-screen by the
/// TUI's own views into an asciicast v2 file. Returns the frames written.
pub fn play_to_cast(
    lesson: crate::lessons::Lesson,
    strokes: &[Stroke],
    path: &Path,
    (width, height): (u16, u16),
    pace: f64,
) -> anyhow::Result<usize> {
    use ratatui::backend::CrosstermBackend;
    use ratatui::{Terminal, TerminalOptions, Viewport};
    let mut driver = super::driver::Driver::lesson(vec![lesson], 0, width, height);
    let screen = Collected::default();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(screen.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(ratatui::layout::Rect::new(0, 0, width, height)),
        },
    )?;
    let mut file = BufWriter::new(
        File::create(path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
    );
    let header = serde_json::json!({
        "version": 2,
        "width": width,
        "height": height,
        "title": "redstep demo: the post, step by step",
    });
    writeln!(file, "{header}")?;
    let mut frames = 0;
    let mut frame = |driver: &mut super::driver::Driver, at: f64| -> anyhow::Result<()> {
        terminal.draw(|f| super::ui::draw(f, &driver.app))?;
        let bytes = std::mem::take(&mut *screen.0.borrow_mut());
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if frames == 0 {
            // Start from a clear screen, without a cursor.
            text = format!("\x1b[?25l\x1b[2J\x1b[H{text}");
        }
        writeln!(file, "{}", serde_json::json!([at, "o", text]))?;
        frames += 1;
        Ok(())
    };
    frame(&mut driver, 0.0)?;
    for (i, stroke) in strokes.iter().enumerate() {
        match stroke {
            Stroke::Key(code, modifiers) => driver.key_with(*code, *modifiers),
            Stroke::Type(text) => driver.type_text(text),
        }
        frame(&mut driver, pace * (i + 1) as f64)?;
    }
    file.flush()?;
    Ok(frames)
}
