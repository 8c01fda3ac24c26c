//! Other clients beside a run: commands sent before it, at a step of it,
//! or after it, answered as Redis answers them. A script is isolated:
//! a command sent while it runs waits for it to end and then sees all its
//! writes, never a half-way state — unless the script has run past
//! `busy-reply-threshold`, when Redis answers at once (`BUSY`, or SCRIPT
//! KILL's OK / UNKILLABLE: `script::busy_answer`, the rule the engine
//! thread applies to real connections too).

use crate::protocol::cli::split_args;

/// When another client sends its command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Before,
    /// When the run reaches this step (from 1), before the step after it.
    Step(usize),
    /// When the script first reaches this line (before it runs).
    Line(u32),
    After,
}

/// A command of another client.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneCommand {
    /// 2, 3, ...: the run's own client is 1.
    pub client: u32,
    pub when: When,
    pub argv: Vec<Vec<u8>>,
}

impl LaneCommand {
    /// `[client N] WHEN: COMMAND`, WHEN being `before`, `after`, `step K`
    /// or `line N` (when the script first reaches line N); e.g. `step 2:
    /// GET a`, `client 3 line 2: INCR b`, `before: SET a 42`. The command
    /// uses redis-cli quoting.
    pub fn parse(text: &str) -> Result<LaneCommand, String> {
        let usage = || {
            format!("{text:?}: another client's command is written `[client N] before|after|step K|line N: COMMAND`, e.g. `step 2: GET a`")
        };
        let (head, command) = text.split_once(':').ok_or_else(usage)?;
        let mut words = head.split_whitespace().peekable();
        let mut client = 2;
        if words
            .peek()
            .is_some_and(|w| w.eq_ignore_ascii_case("client"))
        {
            words.next();
            client = words
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n >= 2)
                .ok_or_else(|| {
                    format!("{text:?}: the client is a number from 2 (the run is client 1)")
                })?;
        }
        let when = match (
            words.next().map(str::to_ascii_lowercase).as_deref(),
            words.next(),
        ) {
            (Some("before"), None) => When::Before,
            (Some("after"), None) => When::After,
            (Some("step"), Some(k)) => When::Step(
                k.parse()
                    .ok()
                    .filter(|k| *k >= 1)
                    .ok_or_else(|| format!("{text:?}: steps count from 1"))?,
            ),
            (Some("line"), Some(n)) => When::Line(
                n.parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("{text:?}: lines count from 1"))?,
            ),
            _ => return Err(usage()),
        };
        if words.next().is_some() {
            return Err(usage());
        }
        let argv = split_args(command.trim().as_bytes())
            .map_err(|_| format!("{text:?}: unbalanced quotes"))?;
        if argv.is_empty() {
            return Err(format!("{text:?}: no command after the colon"));
        }
        Ok(LaneCommand { client, when, argv })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_commands_read_as_written() {
        let c = LaneCommand::parse("step 2: GET a").unwrap();
        assert_eq!((c.client, &c.when, c.argv.len()), (2, &When::Step(2), 2));
        let c = LaneCommand::parse("client 3 before: SET k 'a b'").unwrap();
        assert_eq!((c.client, &c.when), (3, &When::Before));
        assert_eq!(c.argv[2], b"a b");
        assert_eq!(LaneCommand::parse("after: PING").unwrap().when, When::After);
        assert_eq!(
            LaneCommand::parse("line 9: PING").unwrap().when,
            When::Line(9)
        );
        assert!(LaneCommand::parse("step 0: GET a").is_err());
        assert!(LaneCommand::parse("client 1 after: GET a").is_err());
        assert!(LaneCommand::parse("GET a").is_err());
        assert!(LaneCommand::parse("soon: GET a").is_err());
    }
}
