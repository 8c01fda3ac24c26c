//! A buffer of redis-cli commands stepped like a script: each line is a
//! step, then its command with its reply and changes. Inside EXEC each
//! queued command is its own step, at the line that queued it, so a
//! transaction shows which commands ran, which failed, and what stayed —
//! MULTI/EXEC does not roll back either. Other clients' commands (the
//! lane) run at once between two commands: nothing is running to wait
//! for, which is how a WATCHed key gets touched.

use std::collections::{BTreeMap, HashSet};

use super::{Builder, LaneCommand, Limits, Other, Recorder, Timeline, When};
use crate::engine::{Client, ClientId, Engine, Extension, Reply};
use crate::protocol::cli::split_args;
use crate::script::Scripting;

/// `Timeline::command` of a commands run.
pub(crate) const COMMANDS: &[u8] = b"(commands)";

/// The scripting extension, with EXEC's queued commands recorded.
struct Exec<'a> {
    scripting: &'a mut Scripting,
    recorder: &'a mut Recorder,
    /// The lines that queued the commands EXEC is running.
    lines: Vec<u32>,
    next: usize,
}

impl Extension for Exec<'_> {
    fn call(&mut self, engine: &mut Engine, client: &mut Client, argv: &[Vec<u8>]) -> Reply {
        self.scripting.call(engine, client, argv)
    }

    fn queued_ran(&mut self, argv: &[Vec<u8>], reply: &Reply, write: bool) {
        let line = self.lines.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        self.recorder.command(line, argv, reply, write);
    }
}

/// Runs `text` (one redis-cli command a line; blank lines and `#`
/// comments skipped) for `client`, recording every command, with other
/// clients' commands from `lane`.
pub fn record_commands(
    engine: &mut Engine,
    scripting: &mut Scripting,
    client: &mut Client,
    text: &str,
    limits: Limits,
    lane: &[LaneCommand],
) -> Timeline {
    let db = client.db;
    let id = client.id;
    // Every client in the engine's table, so one's writes reach another's
    // WATCH as they do between connections.
    engine.lend_client(client, |engine| {
        let mut builder = Builder::new(limits);
        let previous = engine.keyspace.set_observer(Some(builder.observer()));
        let mut others: BTreeMap<u32, ClientId> = BTreeMap::new();
        let mut run_other =
            |engine: &mut Engine, scripting: &mut Scripting, command: &LaneCommand| {
                let other = *others.entry(command.client).or_insert_with(|| {
                    let other = engine.connect();
                    engine.execute(other, &[b"SELECT".to_vec(), db.to_string().into_bytes()]);
                    other
                });
                engine
                    .execute_with(other, &command.argv, scripting)
                    .unwrap_or(Reply::NilArray)
            };
        for command in lane.iter().filter(|c| c.when == When::Before) {
            let reply = run_other(engine, scripting, command);
            builder.other(command.client, command.argv.clone(), Some(reply), None);
        }
        let mut queued: Vec<u32> = Vec::new();
        let mut last = Reply::Nil;
        let mut steps = 0;
        let mut lines_seen = HashSet::new();
        let source: Vec<String> = text.lines().map(str::to_string).collect();
        for (i, raw) in source.iter().enumerate() {
            let line = i as u32 + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            builder.line(line, 1, |_, _| {});
            steps += 1;
            let first = lines_seen.insert(line);
            for command in lane
                .iter()
                .filter(|c| c.when == When::Step(steps) || (first && c.when == When::Line(line)))
            {
                let reply = run_other(engine, scripting, command);
                builder.other(command.client, command.argv.clone(), Some(reply), None);
            }
            let argv = match split_args(trimmed.as_bytes()) {
                Ok(argv) => argv,
                Err(_) => {
                    // redis-cli sends nothing for such a line.
                    last = Reply::error("Invalid argument(s)");
                    builder.command(line, &[trimmed.as_bytes().to_vec()], &last, false);
                    steps += 1;
                    continue;
                }
            };
            let in_multi = engine.client(id).is_some_and(|c| c.multi.is_some());
            let exec = argv[0].eq_ignore_ascii_case(b"exec") && in_multi;
            let write = engine
                .command_table()
                .resolve(&argv)
                .is_some_and(|spec| spec.is_write());
            let mut ext = Exec {
                scripting,
                recorder: &mut builder.recorder,
                lines: if exec {
                    std::mem::take(&mut queued)
                } else {
                    Vec::new()
                },
                next: 0,
            };
            last = engine
                .execute_with(id, &argv, &mut ext)
                .unwrap_or(Reply::NilArray);
            if last == Reply::status("QUEUED") {
                queued.push(line);
            } else if engine.client(id).is_none_or(|c| c.multi.is_none()) {
                queued.clear();
            }
            builder.command(line, &argv, &last, write && !exec);
            steps += 1;
            for command in lane.iter().filter(|c| c.when == When::Step(steps)) {
                let reply = run_other(engine, scripting, command);
                builder.other(command.client, command.argv.clone(), Some(reply), None);
            }
        }
        // Other clients' commands for a step or line never reached, then
        // the ones sent after the run: after the last step, each with its
        // own changes.
        let late: Vec<&LaneCommand> = lane
            .iter()
            .filter(|c| match c.when {
                When::Step(k) => k > steps,
                When::Line(n) => !lines_seen.contains(&n),
                When::After => true,
                When::Before => false,
            })
            .collect();
        // Their changes are their own steps', in order after the last.
        let sink = super::after_sink(engine);
        let mut after = Vec::new();
        for command in late {
            let reply = run_other(engine, scripting, command);
            after.push((
                Other {
                    client: command.client,
                    argv: command.argv.clone(),
                    reply: Some(reply),
                    sent_at: None,
                },
                std::mem::take(&mut *sink.lock().expect("trace lock")),
            ));
        }
        for other in others.into_values() {
            engine.disconnect(other);
        }
        engine.keyspace.set_observer(previous);
        builder.after = after;
        builder.finish(
            "commands".into(),
            &[COMMANDS.to_vec()],
            source,
            last,
            &engine.keyspace,
        )
    })
}
