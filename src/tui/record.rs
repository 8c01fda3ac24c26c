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
                partial: Vec::new(),
            }),
            held: Vec::new(),
        })
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
            cast.event(&held);
            cast.file.flush()?;
        }
        self.stdout.flush()
    }
}
