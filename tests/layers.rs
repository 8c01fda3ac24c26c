//! The layers as docs/ARCHITECTURE.md draws them: each module may name only
//! the ones below it. This reads the sources, so a wrong `use` fails here.

use std::path::Path;

/// Top-level modules of the crate, each with the modules it may not name.
const RULES: &[(&str, &[&str])] = &[
    (
        "protocol",
        &[
            "remote", "engine", "script", "trace", "host", "lessons", "probe", "tui", "server",
            "run", "exec", "demo", "cli",
        ],
    ),
    (
        "engine",
        &[
            "remote", "script", "trace", "host", "lessons", "probe", "tui", "server", "run",
            "exec", "demo", "cli",
        ],
    ),
    (
        "script",
        &[
            "remote", "trace", "host", "lessons", "probe", "tui", "server", "run", "exec", "demo",
            "cli",
        ],
    ),
    (
        "trace",
        &[
            "remote", "host", "lessons", "probe", "tui", "server", "run", "exec", "demo", "cli",
        ],
    ),
    (
        "host",
        &[
            "lessons", "probe", "tui", "server", "run", "exec", "demo", "cli",
        ],
    ),
    // A real server as the debugger's backend, beside the engine thread.
    (
        "remote",
        &[
            "host", "lessons", "probe", "tui", "server", "run", "exec", "demo", "cli",
        ],
    ),
    // Libraries the apps share: lessons may use probe, never the reverse.
    (
        "probe",
        &["lessons", "tui", "server", "run", "exec", "demo", "cli"],
    ),
    ("lessons", &["tui", "server", "run", "exec", "demo", "cli"]),
    // Apps never name one another.
    ("tui", &["server", "run", "exec", "demo", "cli"]),
    (
        "server",
        &["tui", "run", "exec", "demo", "cli", "lessons", "probe"],
    ),
    ("run", &["tui", "server", "exec", "demo", "cli", "lessons"]),
    (
        "exec",
        &["tui", "server", "run", "demo", "cli", "lessons", "probe"],
    ),
    ("demo", &["tui", "server", "run", "exec", "cli"]),
];

/// The crate modules a file names: `crate::x::...` and `crate::{x, y::z}`.
fn named(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_names_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (module, forbidden) in RULES {
        let mut paths = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            files(&dir, &mut paths);
        } else {
            paths.push(src.join(format!("{module}.rs")));
        }
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            for name in named(&text) {
                if forbidden.contains(&name.as_str()) {
                    broken.push(format!("{}: names crate::{name}", path.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "layers broken:\n{}", broken.join("\n"));
}

#[test]
fn the_tui_reaches_the_engine_only_through_the_debugger_and_the_host() {
    let mut paths = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui"),
        &mut paths,
    );
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        for inner in ["engine::keyspace", "engine::table", "engine::value"] {
            assert!(!text.contains(inner), "{} names {inner}", path.display());
        }
    }
}

#[test]
fn the_reader_of_names_sees_groups_and_paths() {
    assert_eq!(
        named("use crate::{engine::Reply, host}; let x = crate::trace::record;"),
        ["engine", "host", "trace"]
    );
}
