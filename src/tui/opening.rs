//! What the TUI opens: the default lesson (the post's three scripts), a
//! file, or a lesson by id.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// A script buffer as it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct BufferSpec {
    pub name: String,
    /// Where Ctrl+S writes it (None: only the workspace keeps it).
    pub path: Option<PathBuf>,
    pub text: String,
    /// KEYS and ARGV as redis-cli --eval takes them: `k1 k2 , a1 a2`.
    pub args: String,
}

#[derive(Clone, Debug)]
pub struct Opening {
    /// Names the workspace file that keeps this opening's buffers.
    pub id: String,
    pub buffers: Vec<BufferSpec>,
    pub active: usize,
    /// Commands run on the engine before anything else (redis-cli words).
    pub setup: Vec<Vec<Vec<u8>>>,
    /// Shown in the status line at start.
    pub intro: String,
}

/// The lesson `redstep` opens: the post's.
pub const DEFAULT_LESSON: &str = "the-post";

const INIT: &str = include_str!("../../assets/post/init.lua");
const GET: &str = include_str!("../../assets/post/get.lua");
const INC: &str = include_str!("../../assets/post/inc.lua");

fn script(name: &str, text: &str) -> BufferSpec {
    BufferSpec {
        name: name.into(),
        path: None,
        text: text.trim_end().to_string(),
        args: String::new(),
    }
}

/// The post "Lua Scripts Are Not Atomic in Redis": init.lua has run, so
/// a = 42 and b = 42; inc.lua is open, ready to step through.
pub fn post() -> Opening {
    Opening {
        id: "lesson-post".into(),
        buffers: vec![
            script("init.lua", INIT),
            script("inc.lua", INC),
            script("get.lua", GET),
        ],
        active: 1,
        setup: vec![vec![
            b"EVAL".to_vec(),
            INIT.as_bytes().to_vec(),
            b"0".to_vec(),
        ]],
        intro: "init.lua ran: a = 42, b = 42. F10 steps through inc.lua, F5 runs it.".into(),
    }
}

/// A Lua file; a missing file opens empty and is created on save.
pub fn file(path: &Path) -> anyhow::Result<Opening> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .with_context(|| format!("{} is not UTF-8 text", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "script.lua".into());
    Ok(Opening {
        id: format!("file-{:016x}", fnv(absolute.to_string_lossy().as_bytes())),
        buffers: vec![BufferSpec {
            name,
            path: Some(absolute),
            text,
            args: String::new(),
        }],
        active: 0,
        setup: Vec::new(),
        intro: "F5 runs the script, F10 steps through it, F2 sets KEYS and ARGV.".into(),
    })
}

/// A stable hash (workspace file names must not change between runs).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}
