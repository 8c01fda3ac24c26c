//! Timelines as text (for a terminal), JSON (documented in
//! `docs/trace-json.md`) and Markdown (a table a blog post can paste).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value as Json;

use crate::engine::keyspace::{Entry, Keyspace};
use crate::engine::value::Value;
use crate::engine::Reply;
use crate::protocol::cli::{format_tty, quote};

use super::{Call, Debugger, Event, KeyChange, Status, StepKind, Timeline};

/// An argument as redis-cli would echo it: bare when plain, quoted otherwise.
pub fn word(arg: &[u8]) -> String {
    let plain = !arg.is_empty()
        && arg
            .iter()
            .all(|b| b.is_ascii_graphic() && *b != b'"' && *b != b'\'' && *b != b'\\');
    if plain {
        String::from_utf8_lossy(arg).into_owned()
    } else {
        quote(arg)
    }
}

pub fn command_text(argv: &[Vec<u8>]) -> String {
    argv.iter().map(|a| word(a)).collect::<Vec<_>>().join(" ")
}

/// A reply on one line, as redis-cli shows it (arrays inline).
pub(crate) fn reply_text(reply: &Reply) -> String {
    match reply {
        Reply::Array(items) if !items.is_empty() => format!(
            "[{}]",
            items.iter().map(reply_text).collect::<Vec<_>>().join(", ")
        ),
        other if other.is_resp3() => reply_text(&other.to_resp2()),
        other => format_tty(other).trim_end().to_string(),
    }
}

/// What `redis.call` handed the script for this reply, in Lua notation.
fn lua_view(reply: &Reply) -> String {
    match reply {
        Reply::Int(n) => n.to_string(),
        Reply::Bulk(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Reply::Nil | Reply::NilArray => "false".into(),
        Reply::Status(s) => format!("{{ok={:?}}}", String::from_utf8_lossy(s)),
        Reply::Error(e) => format!("{{err={:?}}}", String::from_utf8_lossy(e)),
        Reply::Array(items) => format!(
            "{{{}}}",
            items.iter().map(lua_view).collect::<Vec<_>>().join(", ")
        ),
        other => lua_view(&other.to_resp2()),
    }
}

/// A key's value in one line, cut to about `max` characters (large
/// collections are not walked past what fits), as the keyspace pane shows
/// a key the run did not write with bit or geo commands.
pub fn short_value(entry: &Entry, max: usize) -> String {
    super::words::short(entry, super::words::Look::Plain, max)
}

/// A value in one line: `"43"`, `["a", "b"]`, `{"f": "v"}`..., at most about `max` characters.
pub fn value_text(value: &Value, max: usize) -> String {
    let q = |b: &[u8]| quote(b);
    let join = |open: &str, close: &str, items: &mut dyn Iterator<Item = String>, len: usize| {
        let mut out = String::from(open);
        for (shown, item) in items.enumerate() {
            if out.len() + item.len() > max && shown > 0 {
                out += &format!(", … {} more", len - shown);
                break;
            }
            if shown > 0 {
                out += ", ";
            }
            out += &item;
        }
        out + close
    };
    let text = match value {
        Value::String(s) => q(s),
        Value::List(l) => join("[", "]", &mut l.iter().map(|e| q(e)), l.len()),
        Value::Hash(h) => join(
            "{",
            "}",
            &mut h.map.iter().map(|(f, v)| format!("{}: {}", q(f), q(v))),
            h.map.len(),
        ),
        Value::Set(s) => join(
            "{",
            "}",
            &mut s.ordered().into_iter().map(|m| q(m)),
            s.members.len(),
        ),
        Value::ZSet(z) => join(
            "[",
            "]",
            &mut z
                .iter()
                .map(|(m, s)| format!("{} {}", q(m), crate::engine::numbers::format_double(s))),
            z.len(),
        ),
        Value::Stream(st) => {
            let last = String::from_utf8_lossy(&st.meta.last_id.text()).into_owned();
            let mut head = format!(
                "{} entr{}, last id {}",
                st.len(),
                if st.len() == 1 { "y" } else { "ies" },
                last
            );
            for (name, group) in &st.groups {
                head += &format!(", group {} ({} pending)", q(name), group.pel.len());
            }
            if st.is_empty() {
                head
            } else {
                let body = join(
                    "[",
                    "]",
                    &mut st.entries.iter().map(|(id, fields)| {
                        let mut e = id.to_string();
                        for (f, v) in fields {
                            e.push_str(&format!(" {} {}", q(f), q(v)));
                        }
                        e
                    }),
                    st.len(),
                );
                format!("{head} {body}")
            }
        }
    };
    if text.chars().count() > max {
        text.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    } else {
        text
    }
}

/// A key's value in one line: `"43"`, `["a", "b"]`, `{"f": "v"}`...
pub fn entry_text(entry: Option<&Entry>) -> String {
    let Some(entry) = entry else {
        return "(absent)".into();
    };
    let value = value_text(&entry.value, usize::MAX / 2);
    match entry.expire_at {
        Some(t) => format!("{value} (expires at {t} ms)"),
        None => value,
    }
}

fn change_text(c: &KeyChange) -> String {
    let kind = |e: &Option<Entry>| {
        e.as_ref()
            .map(|e| e.value.kind().name())
            .unwrap_or("absent")
    };
    let db = if c.db == 0 {
        String::new()
    } else {
        format!("db{} ", c.db)
    };
    format!(
        "{db}{}: {}",
        word(&c.key),
        super::words::change(c.before.as_ref(), c.after.as_ref(), c.look)
    ) + &if kind(&c.before) != kind(&c.after) && c.before.is_some() && c.after.is_some() {
        format!(" ({} → {})", kind(&c.before), kind(&c.after))
    } else {
        String::new()
    }
}

/// A summary's line for one key: `a went from "42" to "43"`, or for a
/// stream, bitmap, HyperLogLog or geo set, what happened to it.
fn went(c: &KeyChange, then: &str) -> String {
    match super::words::told(c.before.as_ref(), c.after.as_ref(), c.look) {
        Some(change) => format!(
            "  {}: {change}{}.",
            word(&c.key),
            then.replace(" and", ", and")
        ),
        None => format!(
            "  {} went from {} to {}{then}.",
            word(&c.key),
            entry_text(c.before.as_ref()),
            entry_text(c.after.as_ref())
        ),
    }
}

/// The `redis.call` lines that never ran, as source text.
fn never_ran(timeline: &Timeline) -> Vec<(u32, String)> {
    timeline
        .lines_never_reached()
        .into_iter()
        .filter_map(|n| {
            let text = timeline.source.get(n as usize - 1)?.trim().to_string();
            Some((n, text))
        })
        .collect()
}

/// How many keys the summary names one by one (the rest are counted).
const SUMMARY_KEYS: usize = 20;

/// The plain-words summary a learner should remember. `changes` are the
/// run's net changes ([`Debugger::net_changes`]).
pub fn summary(timeline: &Timeline, changes: &[KeyChange]) -> Vec<String> {
    summary_of(timeline, changes, true)
}

/// `summary` without its sentences on replicas (what they received, what
/// a real server's replicas hold): the debugger's replica view says it.
pub fn summary_without_replicas(timeline: &Timeline, changes: &[KeyChange]) -> Vec<String> {
    summary_of(timeline, changes, false)
}

fn summary_of(timeline: &Timeline, changes: &[KeyChange], replicas: bool) -> Vec<String> {
    if timeline.command.first().map(Vec::as_slice) == Some(super::commands::COMMANDS) {
        return commands_summary(timeline, changes);
    }
    let outcome = &timeline.outcome;
    let mut lines = Vec::new();
    let writes = match outcome.writes_applied {
        1 => "1 write".to_string(),
        n => format!("{n} writes"),
    };
    if outcome.compile_error {
        let line = outcome.error_line.unwrap_or(1);
        let why = match &outcome.reply {
            Reply::Error(e) => {
                let text = String::from_utf8_lossy(e);
                let after = text
                    .find("user_script:")
                    .and_then(|at| text[at..].splitn(3, ':').nth(2))
                    .map(|why| why.trim().to_string());
                after.unwrap_or_else(|| text.into_owned())
            }
            _ => String::new(),
        };
        let at_end = if why.contains("near '<eof>'") {
            " (the script ended before the statement did)"
        } else {
            ""
        };
        lines.push(format!(
            "The script did not compile: line {line}{at_end}: {why}."
        ));
        lines.push(
            "Redis ran none of it: no command ran and no key changed. Fix the line and run again."
                .into(),
        );
        return lines;
    }
    match outcome.status {
        Status::Ok if outcome.writes_applied == 0 => {
            lines.push("The script returned without writing.".into())
        }
        Status::Ok => lines.push(format!("The script returned after {writes}.")),
        Status::Error | Status::Interrupted => {
            let returned_error = timeline
                .failure_step()
                .is_some_and(|i| matches!(timeline.steps[i].kind, StepKind::Return(_)));
            let how = match outcome.status {
                Status::Interrupted => "was stopped",
                _ if returned_error => "returned an error",
                _ => "failed",
            };
            let at = outcome
                .error_line
                .map(|l| format!(" at line {l}"))
                .unwrap_or_default();
            if outcome.writes_applied == 0 {
                lines.push(format!(
                    "The script {how}{at} before it wrote anything: nothing stayed written."
                ));
            } else {
                lines.push(format!("The script {how}{at} after {writes}. Redis does not roll back: what it wrote stays written."));
            }
            lines.extend(super::cluster::explain(timeline));
            for c in changes.iter().take(SUMMARY_KEYS) {
                lines.push(went(c, " and stayed that way"));
            }
            if changes.len() > SUMMARY_KEYS {
                lines.push(format!(
                    "  … and {} more keys stayed changed too.",
                    changes.len() - SUMMARY_KEYS
                ));
            }
            for (line, text) in never_ran(timeline) {
                lines.push(format!("  Line {line} never ran: {text}"));
            }
            if replicas {
                lines.extend(replica_line(timeline));
            }
        }
    }
    if let Some(reason) = &outcome.truncated {
        lines.push(format!("The trace was cut: {reason}."));
    }
    lines.extend(lane_lines(timeline));
    lines.extend(server_lines(timeline, replicas));
    lines
}

/// What replicas and the AOF received of a failed run, when it wrote.
fn replica_line(timeline: &Timeline) -> Option<String> {
    const SHOWN: usize = 4;
    let sent: Vec<String> = timeline
        .replica
        .iter()
        .filter(|op| {
            !matches!(
                op.first().map(|c| c.to_ascii_uppercase()).as_deref(),
                Some(b"SELECT" | b"MULTI" | b"EXEC")
            )
        })
        .map(|op| command_text(op))
        .collect();
    if sent.is_empty() {
        return None;
    }
    let more = match sent.len().saturating_sub(SHOWN) + timeline.replica_more {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    // A forked run on a real server sent nothing: the engine's replay
    // says what the run would have sent.
    let sentence = match &timeline.server {
        Some(server) if server.forked => {
            "Without the debugger's fork, replicas and the AOF would have received it too:"
        }
        _ => "Replicas and the AOF received it too:",
    };
    Some(format!(
        "{sentence} {}{more}.",
        sent[..sent.len().min(SHOWN)].join(", ")
    ))
}

/// A commands run in words: what each EXEC did, what stayed.
fn commands_summary(timeline: &Timeline, changes: &[KeyChange]) -> Vec<String> {
    let writes = match timeline.outcome.writes_applied {
        1 => "1 write".to_string(),
        n => format!("{n} writes"),
    };
    let mut lines = vec![format!("The commands ran, with {writes}.")];
    let steps = &timeline.steps;
    for (e, step) in steps.iter().enumerate() {
        let Some(call) = timeline.call(e) else {
            continue;
        };
        if !call.argv[0].eq_ignore_ascii_case(b"exec") {
            continue;
        }
        match &*call.reply {
            Reply::Array(items) => {
                let queued: Vec<Call> = steps[..e]
                    .iter()
                    .rev()
                    .filter_map(|s| match timeline.event(s) {
                        Event::Call(c) => Some(c),
                        _ => None,
                    })
                    .take(items.len())
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let failed: Vec<String> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.is_error())
                    .map(|(i, r)| {
                        let what = queued.get(i).map(|c| command_text(c.argv)).unwrap_or_default();
                        format!("command {} ({what}) failed: {}", i + 1, reply_text(r))
                    })
                    .collect();
                if failed.is_empty() {
                    lines.push(format!("EXEC at line {} ran its {} commands.", step.line, items.len()));
                } else {
                    lines.push(format!(
                        "EXEC at line {} ran {} commands; {}. The others ran and what they wrote stays: MULTI/EXEC does not roll back either.",
                        step.line,
                        items.len(),
                        failed.join("; ")
                    ));
                }
            }
            Reply::Error(e) if e.starts_with(b"EXECABORT") => lines.push(format!(
                "EXEC at line {} refused the whole transaction (EXECABORT): a command was refused while queueing, so none of it ran.",
                step.line
            )),
            Reply::NilArray => lines.push(format!(
                "EXEC at line {} answered (nil): a WATCHed key changed before EXEC, so none of the transaction ran.",
                step.line
            )),
            _ => {}
        }
    }
    for c in changes.iter().take(SUMMARY_KEYS) {
        lines.push(went(c, ""));
    }
    lines.extend(lane_lines(timeline));
    lines
}

/// What the other clients saw, in words: isolation is the other half.
fn lane_lines(timeline: &Timeline) -> Vec<String> {
    let mut lines = Vec::new();
    let mut waited = false;
    for step in &timeline.steps {
        let Event::Other(other) = timeline.event(step) else {
            continue;
        };
        let command = command_text(&other.argv);
        match (&other.reply, other.sent_at) {
            (Some(reply), Some(at)) => {
                waited = true;
                lines.push(format!(
                    "Client {} sent {command} at step {} and waited: it got {} only after the script ended.",
                    other.client,
                    at + 1,
                    reply_text(reply)
                ))
            }
            (Some(Reply::Error(e)), None) if e.starts_with(b"BUSY") || e.starts_with(b"UNKILLABLE") => lines.push(format!(
                "Client {}'s {command} got {} at once: the script had run past busy-reply-threshold.",
                other.client,
                String::from_utf8_lossy(e).split_whitespace().next().unwrap_or("BUSY")
            )),
            _ => {}
        }
    }
    if waited {
        lines.push("A script is isolated (nothing else runs while it runs: no client sees it half way) but not atomic (what it wrote before failing stays).".into());
    }
    lines
}

/// What a run on a real server adds to the outcome: where, in which mode,
/// and what the recording could not see exactly.
fn server_lines(timeline: &Timeline, replicas: bool) -> Vec<String> {
    let Some(server) = &timeline.server else {
        return Vec::new();
    };
    let writes = timeline.outcome.writes_applied > 0;
    let mut lines = vec![match (server.forked, writes) {
        (true, true) => format!(
            "Stepped on {} in a forked copy (LDB's default): the server's data is untouched. On a real server without the debugger these writes would stay.",
            server.label
        ),
        (true, false) => format!(
            "Stepped on {} in a forked copy (LDB's default): the server's data is untouched.",
            server.label
        ),
        (false, true) => format!("Stepped on {} in sync mode: these writes stayed on the server.", server.label),
        (false, false) => format!("Stepped on {} in sync mode.", server.label),
    }];
    lines.extend(server.notes.iter().map(|n| format!("  Note: {n}")));
    if replicas {
        lines.extend(replica_reads(server));
    }
    lines
}

/// What each replica of the server held after a sync run, a sentence each.
pub fn replica_reads(server: &super::Server) -> Vec<String> {
    server.replicas.iter().map(replica_read_line).collect()
}

/// A replica read after a sync run, in one sentence.
fn replica_read_line(replica: &super::ReplicaRead) -> String {
    const SHOWN: usize = 4;
    if let Some(error) = &replica.error {
        return format!("Replica {} could not be read: {error}", replica.address);
    }
    let late = replica.lateness();
    let key = |k: &super::ReplicaKey| word(&k.key);
    let differ: Vec<String> = replica
        .keys
        .iter()
        .filter(|k| !k.same)
        .map(|k| {
            format!(
                "{} is {} there, {} on the primary",
                key(k),
                k.held,
                k.primary
            )
        })
        .collect();
    if differ.is_empty() {
        let held: Vec<String> = replica
            .keys
            .iter()
            .take(SHOWN)
            .map(|k| format!("{} = {}", key(k), k.held))
            .collect();
        let more = match replica.keys.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        if held.is_empty() {
            return format!("Replica {}: the script named no key.", replica.address);
        }
        format!(
            "Replica {} holds what the run left on the primary{late}: {}{more}.",
            replica.address,
            held.join(", ")
        )
    } else {
        format!(
            "Replica {} differs from the primary{late}: {}.",
            replica.address,
            differ.join("; ")
        )
    }
}

/// Another client's command in words, for a timeline row.
pub(crate) fn other_text(other: &super::Other) -> String {
    let command = command_text(&other.argv);
    match (&other.reply, other.sent_at) {
        (None, _) => format!(
            "client {} sends {command}: it waits, the script is running",
            other.client
        ),
        (Some(reply), Some(at)) => format!(
            "client {}: {command} → {} (sent at step {}, answered after the script)",
            other.client,
            reply_text(reply),
            at + 1
        ),
        (Some(reply), None) => {
            format!("client {}: {command} → {}", other.client, reply_text(reply))
        }
    }
}

/// The timeline as text: one row per step, then the outcome in words.
pub fn text(timeline: &Timeline, live: &Keyspace) -> String {
    let mut debugger = Debugger::new(timeline.clone(), live);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace of {} ({}){}",
        command_text(&timeline.command[..1]),
        timeline.name,
        match &timeline.server {
            Some(server) => format!(
                " on {}, LDB {}",
                server.label,
                if server.forked { "forked" } else { "sync" }
            ),
            None => String::new(),
        }
    );
    let _ = writeln!(out, "{:>5}  {:>4}  event", "step", "line");
    for (i, step) in timeline.steps.iter().enumerate() {
        let row = match timeline.event(step) {
            Event::Line { locals, .. } => {
                let code = timeline
                    .source
                    .get(step.line.saturating_sub(1) as usize)
                    .map(|s| s.trim())
                    .unwrap_or("");
                let locals = match locals.map(|at| timeline.locals.get(at)) {
                    Some(l) if !l.is_empty() => format!(
                        "   [{}]",
                        l.iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    _ => String::new(),
                };
                format!("▸ {code}{locals}")
            }
            Event::Call(call) => {
                let (argv, reply) = (call.argv, &call.reply);
                let mut row = format!("  {} → {}", command_text(argv), reply_text(reply));
                for change in debugger.goto_changes(i) {
                    row += &format!("\n{:>15}{}", "", change_text(&change));
                }
                row
            }
            Event::Error { message, .. } => format!("✗ {}", String::from_utf8_lossy(message)),
            Event::Return { reply } => format!("← {}", reply_text(reply)),
            Event::Other(other) => {
                let mut row = format!("⇄ {}", other_text(other));
                for change in debugger.goto_changes(i) {
                    row += &format!("\n{:>15}{}", "", change_text(&change));
                }
                row
            }
        };
        let line = match step.kind {
            StepKind::Other(_) => "-".to_string(),
            _ => step.line.to_string(),
        };
        let _ = writeln!(out, "{:>5}  {line:>4}  {row}", i + 1);
    }
    out.push('\n');
    for line in summary(timeline, debugger.net_changes()) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// A key's value in a change (`null` where the key is absent).
#[derive(Serialize)]
struct EntryDoc {
    expire_at_ms: Option<i64>,
    #[serde(rename = "type")]
    kind: &'static str,
    value: ValueDoc,
}

/// A value: a string, a list or set of strings, a hash's `[field, value]`
/// pairs, a zset's `[member, score]` pairs, a stream's `[id, [field,
/// value, ...]]` entries.
#[derive(Serialize)]
#[serde(untagged)]
enum ValueDoc {
    String(String),
    Strings(Vec<String>),
    Pairs(Vec<(String, String)>),
    Scored(Vec<(String, f64)>),
    Stream(Vec<(String, Vec<String>)>),
}

fn entry_doc(entry: Option<&Entry>) -> Option<EntryDoc> {
    let entry = entry?;
    let value = match &entry.value {
        Value::String(v) => ValueDoc::String(lossy(v)),
        Value::List(l) => ValueDoc::Strings(l.iter().map(|e| lossy(e)).collect()),
        Value::Hash(h) => {
            ValueDoc::Pairs(h.map.iter().map(|(f, v)| (lossy(f), lossy(v))).collect())
        }
        Value::Set(set) => ValueDoc::Strings(set.ordered().iter().map(|m| lossy(m)).collect()),
        Value::ZSet(z) => ValueDoc::Scored(z.iter().map(|(m, sc)| (lossy(m), sc)).collect()),
        Value::Stream(st) => ValueDoc::Stream(
            st.entries
                .iter()
                .map(|(id, fields)| {
                    let flat = fields.iter().flat_map(|(f, v)| [lossy(f), lossy(v)]);
                    (id.to_string(), flat.collect())
                })
                .collect(),
        ),
    };
    Some(EntryDoc {
        expire_at_ms: entry.expire_at,
        kind: entry.value.kind().name(),
        value,
    })
}

/// A reply in the conformance corpus's canonical form (`{"t":"int","v":43}`;
/// bytes that are not UTF-8 as `{"hex":"ff","t":"bulk"}`).
#[derive(Serialize)]
#[serde(untagged)]
enum ReplyDoc {
    Text { t: &'static str, v: String },
    Hex { hex: String, t: &'static str },
    Int { t: &'static str, v: i64 },
    Bare { t: &'static str },
    Array { t: &'static str, v: Vec<ReplyDoc> },
}

fn reply_doc(reply: &Reply) -> ReplyDoc {
    let bytes = |t: &'static str, b: &[u8]| match std::str::from_utf8(b) {
        Ok(v) => ReplyDoc::Text {
            t,
            v: v.to_string(),
        },
        Err(_) => ReplyDoc::Hex {
            hex: b.iter().map(|x| format!("{x:02x}")).collect(),
            t,
        },
    };
    match reply {
        Reply::Status(s) => bytes("status", s),
        Reply::Error(e) => bytes("error", e),
        Reply::Int(n) => ReplyDoc::Int { t: "int", v: *n },
        Reply::Bulk(b) => bytes("bulk", b),
        Reply::Nil => ReplyDoc::Bare { t: "nil" },
        Reply::NilArray => ReplyDoc::Bare { t: "nilarray" },
        Reply::Array(items) => ReplyDoc::Array {
            t: "array",
            v: items.iter().map(reply_doc).collect(),
        },
        other => reply_doc(&other.to_resp2()),
    }
}

// The JSON trace (`docs/trace-json.md`) as plain Serialize types, written
// straight out. Fields are declared in alphabetical order: that is the
// order the document has always had (it was built as sorted maps), so the
// output stays byte for byte what readers and pages already parse.

/// One key's change.
#[derive(Serialize)]
struct ChangeDoc {
    after: Option<EntryDoc>,
    before: Option<EntryDoc>,
    db: usize,
    key: String,
}

/// One step, by kind (each with the step's index, kind and line).
#[derive(Serialize)]
#[serde(untagged)]
enum StepDoc {
    Line {
        depth: u32,
        index: usize,
        kind: &'static str,
        line: u32,
        /// `[name, value]` pairs; null where locals were not recorded.
        locals: Option<Vec<(String, String)>>,
    },
    Call {
        argv: Vec<String>,
        changes: Vec<ChangeDoc>,
        index: usize,
        kind: &'static str,
        line: u32,
        lua: String,
        reply: ReplyDoc,
        write: bool,
    },
    Error {
        index: usize,
        kind: &'static str,
        line: u32,
        message: String,
    },
    Return {
        index: usize,
        kind: &'static str,
        line: u32,
        reply: ReplyDoc,
    },
    Other {
        argv: Vec<String>,
        changes: Vec<ChangeDoc>,
        client: u32,
        index: usize,
        kind: &'static str,
        line: u32,
        reply: Option<ReplyDoc>,
        /// The step (1-based) it was sent at.
        sent_at: Option<usize>,
    },
}

#[derive(Serialize)]
struct NeverRan {
    code: String,
    line: u32,
}

#[derive(Serialize)]
struct OutcomeDoc {
    error: Option<String>,
    error_line: Option<u32>,
    keys_changed: Vec<ChangeDoc>,
    never_ran: Vec<NeverRan>,
    reply: ReplyDoc,
    rolled_back: bool,
    status: &'static str,
    summary: Vec<String>,
    truncated: Option<String>,
    writes_applied: usize,
}

#[derive(Serialize)]
struct ServerDoc<'a> {
    forked: bool,
    label: &'a str,
    notes: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replicas: Vec<ReplicaDoc<'a>>,
}

#[derive(Serialize)]
struct ReplicaDoc<'a> {
    address: &'a str,
    caught_up: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    keys: Vec<ReplicaKeyDoc<'a>>,
}

#[derive(Serialize)]
struct ReplicaKeyDoc<'a> {
    db: usize,
    key: String,
    held: &'a str,
    primary: &'a str,
    same: bool,
}

#[derive(Serialize)]
struct TraceDoc<'a> {
    command: Vec<String>,
    outcome: OutcomeDoc,
    /// What replicas and the AOF received (absent for a real server's run).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replica: Vec<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<ServerDoc<'a>>,
    sha: &'a str,
    source: &'a [String],
    steps: Vec<StepDoc>,
    /// Keys no step changed, with their values (a page shows them beside
    /// the run's): the first UNTOUCHED_SHOWN by database and name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    untouched: Vec<KeyDoc>,
    /// How many more there are.
    #[serde(skip_serializing_if = "is_zero")]
    untouched_more: usize,
}

/// How many untouched keys a trace lists.
const UNTOUCHED_SHOWN: usize = 200;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct KeyDoc {
    db: usize,
    key: String,
    value: Option<EntryDoc>,
}

/// The keys of `live` that no step of `steps` changed: the first
/// UNTOUCHED_SHOWN by database and name (kept in a bounded heap, so a big
/// keyspace costs no copy of its names), and how many more.
fn untouched(live: &Keyspace, steps: &[StepDoc]) -> (Vec<KeyDoc>, usize) {
    use std::collections::BinaryHeap;
    let touched: std::collections::HashSet<(usize, &str)> = steps
        .iter()
        .flat_map(|s| match s {
            StepDoc::Call { changes, .. } | StepDoc::Other { changes, .. } => changes.as_slice(),
            _ => &[],
        })
        .map(|c| (c.db, c.key.as_str()))
        .collect();
    let is_touched = |db: usize, key: &[u8]| match std::str::from_utf8(key) {
        Ok(key) => touched.contains(&(db, key)),
        Err(_) => touched.contains(&(db, lossy(key).as_str())),
    };
    let mut first: BinaryHeap<(usize, &[u8])> = BinaryHeap::new();
    let mut count = 0;
    for db in 0..crate::engine::keyspace::DATABASES {
        for (key, _) in live.db(db).iter() {
            if is_touched(db, key) {
                continue;
            }
            count += 1;
            first.push((db, key.as_slice()));
            if first.len() > UNTOUCHED_SHOWN {
                first.pop();
            }
        }
    }
    let docs = first
        .into_sorted_vec()
        .into_iter()
        .map(|(db, key)| KeyDoc {
            db,
            key: lossy(key),
            value: entry_doc(live.db(db).entry(key)),
        })
        .collect::<Vec<_>>();
    (docs, count - count.min(UNTOUCHED_SHOWN))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn change_doc(c: &KeyChange) -> ChangeDoc {
    ChangeDoc {
        db: c.db,
        key: lossy(&c.key),
        before: entry_doc(c.before.as_ref()),
        after: entry_doc(c.after.as_ref()),
    }
}

/// The timeline as JSON text (see `docs/trace-json.md`), indented or on
/// one line.
pub fn json_text(timeline: &Timeline, live: &Keyspace, pretty: bool) -> String {
    let doc = trace_doc(timeline, live);
    let text = if pretty {
        serde_json::to_string_pretty(&doc)
    } else {
        serde_json::to_string(&doc)
    };
    text.expect("a trace is plain data")
}

/// The timeline as a JSON value (for tests and tools that look inside).
pub fn json(timeline: &Timeline, live: &Keyspace) -> Json {
    serde_json::to_value(trace_doc(timeline, live)).expect("a trace is plain data")
}

fn trace_doc<'a>(timeline: &'a Timeline, live: &Keyspace) -> TraceDoc<'a> {
    let mut debugger = Debugger::new(timeline.clone(), live);
    let words = |argv: &[Vec<u8>]| argv.iter().map(|a| lossy(a)).collect::<Vec<_>>();
    let steps: Vec<StepDoc> = timeline
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (index, line) = (i + 1, step.line);
            match timeline.event(step) {
                Event::Line { depth, locals } => StepDoc::Line {
                    depth,
                    index,
                    kind: "line",
                    line,
                    locals: locals.map(|at| {
                        timeline
                            .locals
                            .get(at)
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect()
                    }),
                },
                Event::Call(call) => StepDoc::Call {
                    argv: words(call.argv),
                    changes: debugger.goto_changes(i).iter().map(change_doc).collect(),
                    index,
                    kind: "call",
                    line,
                    lua: lua_view(&call.reply),
                    reply: reply_doc(&call.reply),
                    write: call.write,
                },
                Event::Error {
                    message,
                    interrupted,
                } => StepDoc::Error {
                    index,
                    kind: if interrupted { "interrupted" } else { "error" },
                    line,
                    message: lossy(message),
                },
                Event::Return { reply } => StepDoc::Return {
                    index,
                    kind: "return",
                    line,
                    reply: reply_doc(reply),
                },
                Event::Other(other) => StepDoc::Other {
                    argv: words(&other.argv),
                    changes: debugger.goto_changes(i).iter().map(change_doc).collect(),
                    client: other.client,
                    index,
                    kind: "other",
                    line,
                    reply: other.reply.as_ref().map(reply_doc),
                    sent_at: other.sent_at.map(|at| at + 1),
                },
            }
        })
        .collect();
    let (untouched, untouched_more) = untouched(live, &steps);
    let changes = debugger.net_changes();
    let outcome = &timeline.outcome;
    TraceDoc {
        untouched,
        untouched_more,
        command: words(&timeline.command),
        outcome: OutcomeDoc {
            error: match &outcome.reply {
                Reply::Error(e) => Some(lossy(e)),
                _ => None,
            },
            error_line: outcome.error_line,
            keys_changed: changes.iter().map(change_doc).collect(),
            never_ran: never_ran(timeline)
                .into_iter()
                .map(|(line, code)| NeverRan { code, line })
                .collect(),
            reply: reply_doc(&outcome.reply),
            rolled_back: false,
            status: outcome.status.name(),
            summary: summary(timeline, changes),
            truncated: outcome.truncated.clone(),
            writes_applied: outcome.writes_applied,
        },
        replica: timeline.replica.iter().map(|op| words(op)).collect(),
        server: timeline.server.as_ref().map(|server| ServerDoc {
            forked: server.forked,
            label: &server.label,
            notes: &server.notes,
            replicas: server
                .replicas
                .iter()
                .map(|r| ReplicaDoc {
                    address: &r.address,
                    caught_up: r.caught_up,
                    error: r.error.as_deref(),
                    keys: r
                        .keys
                        .iter()
                        .map(|k| ReplicaKeyDoc {
                            db: k.db,
                            key: String::from_utf8_lossy(&k.key).into_owned(),
                            held: &k.held,
                            primary: &k.primary,
                            same: k.same,
                        })
                        .collect(),
                })
                .collect(),
        }),
        sha: &timeline.name,
        source: &timeline.source,
        steps,
    }
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The `redis.call` steps as a Markdown table, then the outcome.
pub(crate) fn markdown(timeline: &Timeline, live: &Keyspace) -> String {
    let mut debugger = Debugger::new(timeline.clone(), live);
    let mut out = String::from(
        "| step | line | command | reply | keyspace change |\n|---:|---:|---|---|---|\n",
    );
    for (i, step) in timeline.steps.iter().enumerate() {
        let (command, reply, change) = match timeline.event(step) {
            Event::Call(call) => {
                let (argv, reply) = (call.argv, &call.reply);
                let changes: Vec<String> =
                    debugger.goto_changes(i).iter().map(change_text).collect();
                (
                    format!("`{}`", command_text(argv)),
                    format!("`{}`", reply_text(reply)),
                    changes.join("<br>"),
                )
            }
            Event::Error { message, .. } => (
                "**error**".into(),
                format!("`{}`", String::from_utf8_lossy(message)),
                String::new(),
            ),
            Event::Return { reply } => (
                "return".into(),
                format!("`{}`", reply_text(reply)),
                String::new(),
            ),
            Event::Other(other) => {
                let changes: Vec<String> =
                    debugger.goto_changes(i).iter().map(change_text).collect();
                (
                    format!("client {}: `{}`", other.client, command_text(&other.argv)),
                    match (&other.reply, other.sent_at) {
                        (None, _) => "waits: the script is running".to_string(),
                        (Some(r), Some(at)) => {
                            format!("`{}` (sent at step {})", reply_text(r), at + 1)
                        }
                        (Some(r), None) => format!("`{}`", reply_text(r)),
                    },
                    changes.join("<br>"),
                )
            }
            Event::Line { .. } => continue,
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            step.line,
            md_cell(&command),
            md_cell(&reply),
            md_cell(&change)
        );
    }
    // Each sentence of the outcome a paragraph of its own (Markdown joins
    // lines that follow one another).
    for line in summary(timeline, debugger.net_changes()) {
        let _ = write!(out, "\n{}\n", line.trim_start());
    }
    out
}

/// The timeline as ONE self-contained HTML page (no network: CSS, script
/// and the JSON trace inline) that readers step through in a browser:
/// buttons and keys move the cursor, `#step=N` keeps it in the address.
/// Its title names the script's `file` when the run came from one
/// (`trace of inc.lua (EVAL d0e480e1285e)`), else the command.
pub(crate) fn html(timeline: &Timeline, live: &Keyspace, file: Option<&str>) -> String {
    let json = json_text(timeline, live, false);
    // Inside <script>, "</" would end the element early.
    let json = json.replace("</", "<\\/");
    let command = command_text(&timeline.command[..1]);
    // A SHA1 shortened as git shortens one; a function's name whole.
    let sha = timeline.name.len() == 40 && timeline.name.bytes().all(|b| b.is_ascii_hexdigit());
    let name = if sha {
        &timeline.name[..12]
    } else {
        &timeline.name
    };
    let heading = match file {
        Some(file) => format!("trace of {file} ({command} {name})"),
        None => format!("trace of {command} ({name})"),
    };
    let heading = heading
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    fill(
        include_str!("../../assets/html/trace.html"),
        &[
            ("__TITLE__", &format!("redstep {heading}")),
            ("__HEADING__", &heading),
            ("__TRACE__", &json),
        ],
    )
}

/// `template` with each placeholder replaced, in one pass: what goes in is
/// not read again (a file named `__TRACE__.lua` stays its name).
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some((at, (placeholder, value))) = values
        .iter()
        .filter_map(|v| rest.find(v.0).map(|at| (at, v)))
        .min_by_key(|(at, _)| *at)
    {
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + placeholder.len()..];
    }
    out.push_str(rest);
    out
}
