//! A run a cluster node stopped (`--cluster`), in words: which step broke
//! the one-slot rule, and why (the slots of the keys involved).

use std::sync::OnceLock;

use crate::engine::cluster::{hash_tag, key_slot, SCRIPT_CROSS_SLOT, SCRIPT_NON_LOCAL};
use crate::engine::table::Table;

use super::export::word;
use super::{Event, Timeline};

/// The command table, for the key positions of a call.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Table::new)
}

fn keys(argv: &[Vec<u8>]) -> Vec<Vec<u8>> {
    table()
        .resolve(argv)
        .map(|spec| spec.keys(argv).into_iter().map(<[u8]>::to_vec).collect())
        .unwrap_or_default()
}

/// `b (slot 3300)`, `{u1}.a (slot 8106, tag {u1})`.
fn key_words(key: &[u8]) -> String {
    let tag = hash_tag(key)
        .map(|t| format!(", tag {{{}}}", String::from_utf8_lossy(t)))
        .unwrap_or_default();
    format!("{} (slot {}{tag})", word(key), key_slot(key))
}

fn command_words(argv: &[Vec<u8>]) -> String {
    argv.iter().map(|a| word(a)).collect::<Vec<_>>().join(" ")
}

/// The sentence for a run whose `redis.call` a cluster node refused (None
/// for any other run).
pub(crate) fn explain(timeline: &Timeline) -> Option<String> {
    let (at, call) =
        timeline
            .steps
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, step)| match timeline.event(step) {
                Event::Call(call) => {
                    let text = call.reply.error_text()?;
                    let refused =
                        text.contains(SCRIPT_CROSS_SLOT) || text.contains(SCRIPT_NON_LOCAL);
                    refused.then_some((i, call))
                }
                _ => None,
            })?;
    let text = call.reply.error_text().unwrap_or_default();
    let step = at + 1;
    let command = command_words(call.argv);
    let own = keys(call.argv);
    if text.contains(SCRIPT_CROSS_SLOT) {
        // The slot the run is bound to: its declared keys', or the first
        // key an earlier call used.
        let declared = match timeline.command.get(2) {
            Some(n) => {
                let n = std::str::from_utf8(n)
                    .ok()
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0);
                timeline.command.iter().skip(3).take(n).next().cloned()
            }
            None => None,
        };
        let (bound, how) = match declared {
            Some(key) => (key, "its first declared key"),
            None => {
                let earlier =
                    timeline.steps[..at]
                        .iter()
                        .find_map(|s| match timeline.event(s) {
                            Event::Call(c) if c.reply.error_text().is_none() => {
                                keys(c.argv).into_iter().next()
                            }
                            _ => None,
                        })?;
                (earlier, "the first key it used")
            }
        };
        let bound_slot = key_slot(&bound);
        let away = own
            .iter()
            .find(|k| key_slot(k) != bound_slot)
            .or(own.first())?;
        return Some(format!(
            "  The cluster refused step {step}, {command}: {} is outside slot {bound_slot}, the slot of {how} {}. A #!lua script (or a function) must stay in that slot; one without a shebang or with flags=allow-cross-slot-keys may leave it.",
            key_words(away),
            word(&bound)
        ));
    }
    let first = own.first()?;
    let reason = match own.iter().find(|k| key_slot(k) != key_slot(first)) {
        Some(other) => format!(
            "its keys hash to two slots, {} and {}; a node refuses such a call from a script as a non-local access, shebang or not",
            key_words(first),
            key_words(other)
        ),
        None => format!(
            "{} is served by another node; a script reaches only the keys of the node it runs on",
            key_words(first)
        ),
    };
    Some(format!(
        "  The cluster refused step {step}, {command}: {reason}."
    ))
}
