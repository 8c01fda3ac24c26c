//! The RESP request parser on arbitrary bytes: never panics, and a parsed
//! request re-encodes to bytes that parse back to the same argv.
#![no_main]
use libfuzzer_sys::fuzz_target;
use redstep::protocol::resp::{encode_request, parse_request, Parsed};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Parsed::Request(argv, used)) = parse_request(rest, 1 << 20) {
        if !argv.is_empty() {
            let again = encode_request(&argv);
            match parse_request(&again, 1 << 20) {
                Ok(Parsed::Request(back, n)) => {
                    assert_eq!(back, argv);
                    assert_eq!(n, again.len());
                }
                other => panic!("re-encoded request does not parse: {:?}", other.is_ok()),
            }
        }
        if used == 0 {
            break;
        }
        rest = &rest[used..];
    }
});
