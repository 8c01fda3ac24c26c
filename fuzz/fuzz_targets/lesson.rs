//! The lesson parser on arbitrary text: a lesson or a problem with a line
//! number inside the file, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(problem) = redstep::lessons::parse("fuzz.md", text) {
            assert!(
                problem.line >= 1 && problem.line <= text.lines().count().max(1) + 1,
                "{problem}"
            );
        }
    }
});
