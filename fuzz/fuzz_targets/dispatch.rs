//! Command dispatch on arbitrary argv (scripts included): the engine never
//! panics, and answers every command with one reply.
#![no_main]
use libfuzzer_sys::fuzz_target;
use redstep::engine::Engine;
use redstep::protocol::cli::split_args;
use redstep::script::{ScriptConfig, Scripting};

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(
        &mut engine,
        ScriptConfig {
            budget: Some(std::time::Duration::from_millis(200)),
            memory_limit: 32 << 20,
        },
    );
    let mut client = engine.new_client();
    for line in data.split(|b| *b == b'\n').take(16) {
        let Ok(argv) = split_args(line) else { continue };
        if argv.is_empty() {
            continue;
        }
        // Commands that would wait for another client or end the process are not dispatched.
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        if name.starts_with('B') && name.contains("POP")
            || matches!(
                name.as_str(),
                "BLMOVE"
                    | "BRPOPLPUSH"
                    | "SHUTDOWN"
                    | "SUBSCRIBE"
                    | "PSUBSCRIBE"
                    | "DEBUG"
                    | "MONITOR"
            )
        {
            continue;
        }
        let _ = engine.call(&mut client, &argv, &mut scripting);
    }
});
