//! The trace's byte count (`Outcome::trace_bytes`, what `--trace-mb` and
//! the TUI's cap stop at) against the heap a timeline really holds,
//! counted by this test binary's allocator: the cap is only a promise if the
//! count is close to the truth (it once said ~128 bytes a step where a step
//! held 513).

use std::sync::Mutex;

use redstep::engine::Engine;
use redstep::script::{ScriptConfig, Scripting};
use redstep::trace::{record, Debugger, Limits};

#[path = "../benches/common/heap.rs"]
mod heap;

/// One measurement at a time: the counter is the whole process's.
static ONE: Mutex<()> = Mutex::new(());

/// (counted heap of the timeline, the recorder's count, steps), recorded
/// up to `max_steps` (past it the changes are kept for the last step).
fn measure(script: &str, max_steps: usize) -> (usize, usize, usize) {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let before = heap::live();
    let timeline = {
        let mut engine = Engine::default();
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        let argv: Vec<Vec<u8>> = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
        let limits = Limits {
            max_steps,
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        record(&mut engine, &mut scripting, &mut client, &argv, limits)
    };
    let held = heap::live().saturating_sub(before);
    (held, timeline.outcome.trace_bytes, timeline.steps.len())
}

#[test]
fn the_trace_byte_count_is_within_a_fifth_of_the_heap_it_holds() {
    for (script, max_steps) in [
        ("for i = 1, 200000 do redis.call('INCR', 'counter') end", usize::MAX),
        ("for i = 1, 100000 do redis.call('SET', 'k'..i, i) end", usize::MAX),
        // Past the step cap each new key's change is still kept (it was
        // once counted twice here: 1.56 of the heap).
        ("for i = 1, 100000 do redis.call('SET', 'k'..i, i) end", 1000),
        ("for i = 1, 50000 do redis.call('HSET', 'h', 'f'..i, 'value '..i) end", usize::MAX),
        ("for i = 1, 50000 do redis.call('RPUSH', 'l', i) end for i = 1, 20000 do redis.call('LPOP', 'l') end", usize::MAX),
        ("local x = 0 for i = 1, 300000 do x = x + i end return x", usize::MAX),
    ] {
        let (held, counted, steps) = measure(script, max_steps);
        let ratio = counted as f64 / held as f64;
        eprintln!(
            "{:.60}: {held} bytes held, {counted} counted ({ratio:.2}), {} a step",
            script,
            held / steps
        );
        assert!(
            (0.8..=1.25).contains(&ratio),
            "{script}: the recorder counted {counted} bytes, the timeline holds {held} ({steps} steps, {} bytes a step): ratio {ratio:.2}",
            held / steps
        );
    }
}

/// What every step and every kept change pays, whatever it holds: a
/// field added here costs it millions of times over in a long run.
#[test]
fn steps_entries_and_changes_stay_small() {
    use redstep::engine::Delta;
    use redstep::trace::{Entry, Step};
    assert_eq!(std::mem::size_of::<Step>(), 16);
    assert_eq!(std::mem::size_of::<Entry>(), 56);
    assert_eq!(std::mem::size_of::<(usize, Delta)>(), 104);
}

/// What the debugger holds for a run, beside the trace's count: the view
/// (a copy of each key the run changed), each changed key before and after
/// the run, the indexes, the checkpoints (at most half of what a segment's
/// steps hold). Bounded by a multiple of the count, whatever the run does.
#[test]
fn the_debugger_holds_a_bounded_multiple_of_the_trace() {
    for script in [
        "for i = 1, 200000 do redis.call('INCR', 'counter') end",
        "for i = 1, 100000 do redis.call('SET', 'k'..i, i) end",
        "for i = 1, 50000 do redis.call('HSET', 'h'..i, 'f', 'v') end",
        "for i = 1, 50000 do redis.call('HSET', 'h'..(i % 2000), 'f'..i, 'v') end",
        "for i = 1, 20000 do redis.call('RPUSH', 'l', i) end for i = 1, 20000 do redis.call('LPUSH', 'l', i) end",
    ] {
        let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
        let mut engine = Engine::default();
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        let argv: Vec<Vec<u8>> = vec![b"EVAL".to_vec(), script.as_bytes().to_vec(), b"0".to_vec()];
        let limits = Limits {
            max_steps: usize::MAX,
            max_bytes: usize::MAX,
            ..Limits::default()
        };
        let before = heap::live();
        let timeline = record(&mut engine, &mut scripting, &mut client, &argv, limits);
        let engine_and_timeline = heap::live() - before;
        // The timeline alone: a copy of it, dropped.
        let copy = timeline.clone();
        let with_copy = heap::live();
        drop(copy);
        let timeline_heap = with_copy - heap::live();
        let counted = timeline.outcome.trace_bytes;
        let start = heap::live();
        let debugger = Debugger::new(timeline, &engine.keyspace);
        let held = heap::live() - start + timeline_heap;
        let ratio = held as f64 / counted as f64;
        eprintln!(
            "{script:.60}: {} steps, trace {counted} bytes counted, the debugger holds {held} ({ratio:.2}x)",
            debugger.len()
        );
        // A run over 50,000 new one-field hashes is the worst here: the
        // debugger keeps each changed key's value as the view shows it
        // and before and after the run (3.84x: the trace's count shrank
        // when a call step's box went, the debugger's share did not).
        assert!(ratio < 4.25, "{script}: the debugger holds {ratio:.2}x the trace ({engine_and_timeline} with the engine's growth)");
    }
}
