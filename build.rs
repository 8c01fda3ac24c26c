use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=csrc/numfmt.c");
    cc::Build::new()
        .file("csrc/numfmt.c")
        .warnings(true)
        .compile("redstep_numfmt");
    embed_lessons();
}

/// The lessons ship inside the binary: every `lessons/*.md` but the README.
fn embed_lessons() {
    println!("cargo:rerun-if-changed=lessons");
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("lessons");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "md") && p.file_name().is_some_and(|n| n != "README.md")
    });
    files.sort();
    let mut out = String::from(
        "/// The shipped lessons: (file name, text).\nconst BUILTIN: &[(&str, &str)] = &[\n",
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("lessons.rs");
    std::fs::write(target, out).unwrap();
}
