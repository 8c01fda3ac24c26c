//! The workspace: every buffer of an opening, saved atomically to the
//! platform's data folder (or `REDSTEP_DATA_DIR`), so that quitting or a
//! crash loses no edit, and reopened next time.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{json, Value as Json};

use super::opening::BufferSpec;

/// The folder workspaces live in.
pub(crate) fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("REDSTEP_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "redstep").map(|d| d.data_dir().to_path_buf())
}

#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub buffers: Vec<SavedBuffer>,
    pub active: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SavedBuffer {
    pub spec: BufferSpec,
    pub breakpoints: Vec<u32>,
    /// A hash of what its file held when last read or written (see
    /// [`disk_hash`]): tells unsaved edits from changes made on disk.
    pub disk: Option<String>,
}

/// What identifies a file's text in the workspace: its lines, so a final
/// newline or CRLF line ends do not count as a change.
pub fn disk_hash(text: &str) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files' text now (None: missing or unreadable), for `Effect::ReadFiles`.
pub(crate) fn read_files(files: &[(usize, PathBuf)]) -> Vec<(usize, Option<String>)> {
    files
        .iter()
        .map(|(i, path)| (*i, std::fs::read_to_string(path).ok()))
        .collect()
}

pub(crate) fn path_for(dir: &Path, id: &str) -> PathBuf {
    dir.join("workspaces").join(format!("{id}.json"))
}

/// Writes a temporary file next to `path`, flushes it to the disk, then
/// renames it over: a crash or a power cut mid-write leaves the previous
/// version whole.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let mut file = tempfile::NamedTempFile::new_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .with_context(|| format!("cannot write {}", file.path().display()))?;
    // Keep the file's permissions when it is a user's script.
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(file.path(), meta.permissions());
    }
    file.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

pub(crate) fn save(path: &Path, saved: &Saved) -> anyhow::Result<()> {
    let buffers: Vec<Json> = saved
        .buffers
        .iter()
        .map(|saved| {
            let b = &saved.spec;
            json!({
                "name": b.name,
                "path": b.path.as_ref().map(|p| p.to_string_lossy().into_owned()),
                "text": b.text,
                "args": b.args,
                "breakpoints": saved.breakpoints,
                "disk": saved.disk,
            })
        })
        .collect();
    let doc = json!({ "version": 1, "active": saved.active, "buffers": buffers });
    write_atomically(path, serde_json::to_string_pretty(&doc)?.as_bytes())
}

/// Reads a workspace (None if there is none yet).
pub fn load(path: &Path) -> anyhow::Result<Option<Saved>> {
    read_or_set_aside(path, "the workspace", parse)
}

/// Reads a file this module wrote. A file that `parse` cannot understand
/// is moved aside (`.corrupt`) and reported, never fatal; a missing one is None.
pub(crate) fn read_or_set_aside<T>(
    path: &Path,
    what: &str,
    parse: impl FnOnce(&[u8]) -> Option<T>,
) -> anyhow::Result<Option<T>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    match parse(&bytes) {
        Some(value) => Ok(Some(value)),
        None => {
            let aside = path.with_extension("json.corrupt");
            let _ = std::fs::rename(path, &aside);
            anyhow::bail!(
                "{what} {} could not be read; it was moved to {}",
                path.display(),
                aside.display()
            )
        }
    }
}

fn parse(bytes: &[u8]) -> Option<Saved> {
    let doc: Json = serde_json::from_slice(bytes).ok()?;
    let mut buffers = Vec::new();
    for b in doc.get("buffers")?.as_array()? {
        let spec = BufferSpec {
            name: b.get("name")?.as_str()?.to_string(),
            path: b.get("path").and_then(Json::as_str).map(PathBuf::from),
            text: b.get("text")?.as_str()?.to_string(),
            args: b
                .get("args")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
        };
        let breakpoints = b
            .get("breakpoints")
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_u64().map(|n| n as u32))
                    .collect()
            })
            .unwrap_or_default();
        let disk = b.get("disk").and_then(Json::as_str).map(str::to_string);
        buffers.push(SavedBuffer {
            spec,
            breakpoints,
            disk,
        });
    }
    if buffers.is_empty() {
        return None;
    }
    let active = doc.get("active").and_then(Json::as_u64).unwrap_or(0) as usize;
    Some(Saved {
        active: active.min(buffers.len() - 1),
        buffers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_round_trips_and_a_corrupt_one_is_set_aside() {
        let dir = std::env::temp_dir().join(format!("redstep-ws-{}", std::process::id()));
        let path = path_for(&dir, "t");
        let saved = Saved {
            buffers: vec![SavedBuffer {
                spec: BufferSpec {
                    name: "a.lua".into(),
                    path: Some("/tmp/a.lua".into()),
                    text: "return 1\n-- é".into(),
                    args: "k , 1".into(),
                },
                breakpoints: vec![1, 3],
                disk: Some(disk_hash("return 1\n")),
            }],
            active: 0,
        };
        save(&path, &saved).unwrap();
        assert_eq!(load(&path).unwrap(), Some(saved));
        std::fs::write(&path, b"{not json").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("could not be read"), "{err}");
        assert!(path.with_extension("json.corrupt").exists());
        assert_eq!(load(&path).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
