//! redis-cli line splitting (quoting) on arbitrary bytes: never panics,
//! and words quoted back split to the same words.
#![no_main]
use libfuzzer_sys::fuzz_target;
use redstep::protocol::cli::{quote, split_args};

fuzz_target!(|data: &[u8]| {
    if let Ok(words) = split_args(data) {
        let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
        let back = split_args(line.join(" ").as_bytes()).expect("quoted words split");
        assert_eq!(back, words);
    }
});
