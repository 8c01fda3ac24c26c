//! `redstep probe`: runs a script on a fresh keyspace for many inputs and
//! reports every distinct way it ends with writes kept and an error raised
//! — the partial writes Redis never rolls back — before production finds
//! them. Errors raised before any write are reported apart, as notes.
//!
//! The inputs: every key the script touches (its KEYS and the keys it
//! builds, found from a first run) absent, holding an integer, a float,
//! text, an empty string, a number too big to increment, a list, a hash, a
//! set or a sorted set, or its starting value with a TTL; every ARGV as
//! given, empty, text, negative, zero, a float, very large, with spaces;
//! one KEYS or one ARGV fewer. First every single change from the base
//! (the setup's keyspace and the given arguments), then random
//! combinations, seeded, up to the budget. Each finding is shrunk to the
//! fewest changes that still fail the same way.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::engine::{Client, Engine, Reply};
use crate::protocol::cli::split_args;
use crate::protocol::cli::{eval_argv, SetupLine};
use crate::script::{ScriptConfig, Scripting};
use crate::trace::{self, export, Debugger, Event, Limits, Timeline};

/// What to probe.
#[derive(Clone, Debug)]
pub struct Target {
    /// How the script is named in reports and reproduce commands (its path).
    pub name: String,
    pub body: Vec<u8>,
    pub keys: Vec<Vec<u8>>,
    pub args: Vec<Vec<u8>>,
    /// The starting keyspace, as redis-cli lines.
    pub setup: Vec<SetupLine>,
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How many runs at most, the systematic pass included.
    pub budget: usize,
    pub seed: u64,
}

/// What a key can hold in a variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyState {
    Absent,
    Integer,
    Float,
    Text,
    Empty,
    TooBig,
    List,
    Hash,
    Set,
    Zset,
    /// The base value, with a TTL.
    Expiring,
}

const KEY_STATES: [KeyState; 11] = [
    KeyState::Absent,
    KeyState::Integer,
    KeyState::Float,
    KeyState::Text,
    KeyState::Empty,
    KeyState::TooBig,
    KeyState::List,
    KeyState::Hash,
    KeyState::Set,
    KeyState::Zset,
    KeyState::Expiring,
];

impl KeyState {
    /// "a list", as a list of states says it.
    fn noun(self) -> &'static str {
        match self {
            KeyState::Absent => "nothing",
            KeyState::Integer => "an integer",
            KeyState::Float => "a float",
            KeyState::Text => "text",
            KeyState::Empty => "an empty string",
            KeyState::TooBig => "the largest integer",
            KeyState::List => "a list",
            KeyState::Hash => "a hash",
            KeyState::Set => "a set",
            KeyState::Zset => "a sorted set",
            KeyState::Expiring => "its value with a TTL",
        }
    }

    /// "holds a list", as the report's sentence says it.
    fn words(self) -> &'static str {
        match self {
            KeyState::Absent => "does not exist",
            KeyState::Integer => "holds an integer (\"10\")",
            KeyState::Float => "holds a float (\"1.5\")",
            KeyState::Text => "holds text that is not a number (\"abc\")",
            KeyState::Empty => "holds an empty string",
            KeyState::TooBig => "holds 9223372036854775807 (the largest integer)",
            KeyState::List => "holds a list",
            KeyState::Hash => "holds a hash",
            KeyState::Set => "holds a set",
            KeyState::Zset => "holds a sorted set",
            KeyState::Expiring => "has a TTL",
        }
    }

    /// The commands that put `key` in this state (after a DEL, except for
    /// `Expiring`, which keeps the base value).
    fn commands(self, key: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let k = key.to_vec();
        let cmd = |words: &[&[u8]]| -> Vec<Vec<u8>> {
            let mut argv: Vec<Vec<u8>> = vec![words[0].to_vec(), k.clone()];
            argv.extend(words[1..].iter().map(|w| w.to_vec()));
            argv
        };
        let del = cmd(&[b"DEL"]);
        match self {
            KeyState::Absent => vec![del],
            KeyState::Integer => vec![del, cmd(&[b"SET", b"10"])],
            KeyState::Float => vec![del, cmd(&[b"SET", b"1.5"])],
            KeyState::Text => vec![del, cmd(&[b"SET", b"abc"])],
            KeyState::Empty => vec![del, cmd(&[b"SET", b""])],
            KeyState::TooBig => vec![del, cmd(&[b"SET", b"9223372036854775807"])],
            KeyState::List => vec![del, cmd(&[b"RPUSH", b"a"])],
            KeyState::Hash => vec![del, cmd(&[b"HSET", b"f", b"v"])],
            KeyState::Set => vec![del, cmd(&[b"SADD", b"m"])],
            KeyState::Zset => vec![del, cmd(&[b"ZADD", b"1", b"m"])],
            KeyState::Expiring => vec![cmd(&[b"PEXPIRE", b"600000"])],
        }
    }
}

/// What an ARGV can be in a variation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArgState {
    Empty,
    Text,
    Negative,
    Zero,
    Float,
    Large,
    Spaces,
}

const ARG_STATES: [ArgState; 7] = [
    ArgState::Empty,
    ArgState::Text,
    ArgState::Negative,
    ArgState::Zero,
    ArgState::Float,
    ArgState::Large,
    ArgState::Spaces,
];

impl ArgState {
    fn value(self) -> &'static [u8] {
        match self {
            ArgState::Empty => b"",
            ArgState::Text => b"abc",
            ArgState::Negative => b"-1",
            ArgState::Zero => b"0",
            ArgState::Float => b"1.5",
            ArgState::Large => b"9223372036854775807",
            ArgState::Spaces => b"a b",
        }
    }
}

/// One change from the base input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// A key the script touches (by name) holds something else.
    Key(Vec<u8>, KeyState),
    /// ARGV[i] (from 0) is something else.
    Arg(usize, ArgState),
    /// The caller passes one key fewer.
    FewerKeys,
    /// The caller passes one argument fewer.
    FewerArgs,
}

/// An input: the base with these changes (kept sorted, one per key or arg).
pub(crate) type Variation = Vec<Change>;

/// How a run ended, as the grouping of findings sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Ending {
    /// Lines of the write calls that changed the keyspace.
    write_lines: Vec<u32>,
    error_line: Option<u32>,
    /// The error without the script's SHA and place (`ERR ...`, `WRONGTYPE ...`).
    class: String,
}

/// A way the script dies with writes kept (or, for notes, before any).
#[derive(Clone, Debug)]
pub struct Finding {
    /// The smallest change from the base found to fail this way.
    pub variation: Variation,
    /// Every single change that fails this way (to say "KEYS[2] holds a
    /// string, a list or a set" when one key's state is the cause).
    pub singles: Vec<Change>,
    /// How many inputs failed this way.
    pub hits: usize,
    pub error_line: Option<u32>,
    /// What the client received.
    pub error: String,
    /// The writes that stayed: (line, command, key, before, after).
    pub writes: Vec<Write>,
}

#[derive(Clone, Debug)]
pub struct Write {
    pub line: u32,
    pub command: String,
}

#[derive(Clone, Debug)]
pub struct KeptChange {
    pub key: String,
    pub before: String,
    pub after: String,
}

/// What a probe found.
#[derive(Clone, Debug)]
pub struct Report {
    pub target: Target,
    pub seed: u64,
    /// Inputs tried.
    pub runs: usize,
    /// Script runs made, shrinking and the findings' final runs included.
    pub executed: usize,
    pub partial: Vec<(Finding, Vec<KeptChange>)>,
    pub early: Vec<Finding>,
}

/// One engine reused for every run (a fresh keyspace each time).
struct Bench {
    engine: Engine,
    scripting: Scripting,
    client: Client,
    runs: usize,
}

impl Bench {
    fn new() -> Bench {
        let mut engine = Engine::default();
        let scripting = Scripting::new(
            &mut engine,
            ScriptConfig {
                // A run that loops is a finding too, found sooner.
                budget: Some(std::time::Duration::from_millis(200)),
                ..ScriptConfig::default()
            },
        );
        let client = engine.new_client();
        Bench {
            engine,
            scripting,
            client,
            runs: 0,
        }
    }

    fn call(&mut self, argv: &[Vec<u8>]) -> Reply {
        self.engine
            .call(&mut self.client, argv, &mut self.scripting)
    }

    /// The keyspace the variation starts from; then the traced run.
    fn run(&mut self, target: &Target, variation: &Variation) -> Timeline {
        self.runs += 1;
        self.call(&[b"FLUSHALL".to_vec()]);
        for line in &target.setup {
            if let Ok(argv) = split_args(&line.line) {
                if !argv.is_empty() {
                    self.call(&argv);
                }
            }
        }
        for argv in setup_of(variation) {
            self.call(&argv);
        }
        let (keys, args) = arguments(target, variation);
        let argv = eval_argv(target.body.clone(), (keys, args));
        trace::record(
            &mut self.engine,
            &mut self.scripting,
            &mut self.client,
            &argv,
            // Locals are not shown in a report: not recording them is faster.
            Limits {
                max_steps: 200_000,
                locals_steps: 0,
                ..Limits::default()
            },
        )
    }
}

/// The commands a variation runs after the base setup.
fn setup_of(variation: &Variation) -> Vec<Vec<Vec<u8>>> {
    variation
        .iter()
        .filter_map(|c| match c {
            Change::Key(key, state) => Some(state.commands(key)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// KEYS and ARGV for a variation.
fn arguments(target: &Target, variation: &Variation) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut keys = target.keys.clone();
    let mut args = target.args.clone();
    for change in variation {
        match change {
            Change::Arg(i, state) => {
                if let Some(a) = args.get_mut(*i) {
                    *a = state.value().to_vec();
                }
            }
            Change::FewerKeys => {
                keys.pop();
            }
            Change::FewerArgs => {
                args.pop();
            }
            Change::Key(..) => {}
        }
    }
    (keys, args)
}

/// How a run ended, if it ended in an error (with or without writes).
fn ending(timeline: &Timeline) -> Option<Ending> {
    let outcome = &timeline.outcome;
    let Reply::Error(message) = &outcome.reply else {
        return None;
    };
    if outcome.compile_error {
        return None;
    }
    let write_lines: Vec<u32> = timeline
        .steps_with_change_counts()
        .filter(|(s, changes)| {
            matches!(timeline.event(s), Event::Call(c) if c.write) && *changes > 0
        })
        .map(|(s, _)| s.line)
        .collect::<std::collections::BTreeSet<u32>>()
        .into_iter()
        .collect();
    let text = String::from_utf8_lossy(message);
    // Redis appends where the error happened; the class is what happened.
    let class = text.split(" script: ").next().unwrap_or(&text).to_string();
    Some(Ending {
        write_lines,
        error_line: outcome.error_line,
        class,
    })
}

/// Every key the script's calls name, in the order first seen.
fn touched_keys(engine: &Engine, timeline: &Timeline) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for step in &timeline.steps {
        if let Event::Call(call) = timeline.event(step) {
            if let Some(spec) = engine.command_table().resolve(call.argv) {
                for key in spec.keys(call.argv) {
                    if !keys.iter().any(|k| k == key) {
                        keys.push(key.to_vec());
                    }
                }
            }
        }
    }
    keys
}

/// Probes `target`: the systematic pass, then random combinations.
pub fn probe(target: &Target, options: Options) -> Report {
    let mut bench = Bench::new();
    let base_run = bench.run(target, &Vec::new());
    let mut keys = target.keys.clone();
    for key in touched_keys(&bench.engine, &base_run) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    // Every single change from the base.
    let mut singles: Vec<Change> = Vec::new();
    for key in &keys {
        for state in KEY_STATES {
            singles.push(Change::Key(key.clone(), state));
        }
    }
    for i in 0..target.args.len() {
        for state in ARG_STATES {
            singles.push(Change::Arg(i, state));
        }
    }
    if !target.keys.is_empty() {
        singles.push(Change::FewerKeys);
    }
    if !target.args.is_empty() {
        singles.push(Change::FewerArgs);
    }
    let mut inputs: Vec<Variation> = vec![Vec::new()];
    inputs.extend(singles.iter().map(|c| vec![c.clone()]));
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let mut seen: std::collections::HashSet<Variation> = inputs.iter().cloned().collect();
    let mut tries = 0;
    while inputs.len() < options.budget && !singles.is_empty() && tries < options.budget * 4 {
        tries += 1;
        let n = rng.usize(2..=3.min(singles.len()).max(2));
        let mut v: Variation = Vec::new();
        for _ in 0..n {
            let c = singles[rng.usize(..singles.len())].clone();
            // One change per key or argument.
            let same_slot = |a: &Change, b: &Change| match (a, b) {
                (Change::Key(x, _), Change::Key(y, _)) => x == y,
                (Change::Arg(x, _), Change::Arg(y, _)) => x == y,
                (a, b) => a == b,
            };
            if !v.iter().any(|o| same_slot(o, &c)) {
                v.push(c);
            }
        }
        v.sort();
        if seen.insert(v.clone()) {
            inputs.push(v);
        }
    }
    inputs.truncate(options.budget.max(1));

    // Run them all, grouped by how they end.
    let mut groups: BTreeMap<Ending, (Variation, usize, Vec<Change>)> = BTreeMap::new();
    for (i, variation) in inputs.iter().enumerate() {
        let timeline = if i == 0 {
            base_run.clone()
        } else {
            bench.run(target, variation)
        };
        if let Some(end) = ending(&timeline) {
            let entry = groups
                .entry(end)
                .or_insert_with(|| (variation.clone(), 0, Vec::new()));
            entry.1 += 1;
            if let [single] = variation.as_slice() {
                entry.2.push(single.clone());
            }
            if variation.len() < entry.0.len() {
                entry.0 = variation.clone();
            }
        }
    }
    let runs = inputs.len();
    let mut partial = Vec::new();
    let mut early = Vec::new();
    for (end, (variation, hits, singles)) in groups {
        let variation = shrink(&mut bench, target, &end, variation);
        let timeline = bench.run(target, &variation);
        let finding = Finding {
            hits,
            error_line: timeline.outcome.error_line,
            error: match &timeline.outcome.reply {
                Reply::Error(e) => String::from_utf8_lossy(e).into_owned(),
                other => export::reply_text(other),
            },
            writes: timeline
                .steps_with_change_counts()
                .filter_map(|(s, changes)| match timeline.event(s) {
                    Event::Call(c) if c.write && changes > 0 => Some(Write {
                        line: s.line,
                        command: export::command_text(c.argv),
                    }),
                    _ => None,
                })
                .collect(),
            variation,
            singles,
        };
        if end.write_lines.is_empty() {
            early.push(finding);
        } else {
            let debugger = Debugger::new(timeline, &bench.engine.keyspace);
            let kept = debugger
                .net_changes()
                .iter()
                .map(|c| KeptChange {
                    key: export::word(&c.key),
                    before: entry_text(c.before.as_ref()),
                    after: entry_text(c.after.as_ref()),
                })
                .collect();
            partial.push((finding, kept));
        }
    }
    Report {
        target: target.clone(),
        seed: options.seed,
        runs,
        executed: bench.runs,
        partial,
        early,
    }
}

fn entry_text(entry: Option<&crate::engine::keyspace::Entry>) -> String {
    match entry {
        Some(e) => export::short_value(e, 60),
        None => "(absent)".into(),
    }
}

/// The fewest changes that still end the same way: drop one change at a
/// time while the ending stays.
fn shrink(bench: &mut Bench, target: &Target, end: &Ending, mut variation: Variation) -> Variation {
    let mut i = 0;
    while i < variation.len() {
        let mut smaller = variation.clone();
        smaller.remove(i);
        if ending(&bench.run(target, &smaller)).as_ref() == Some(end) {
            variation = smaller;
        } else {
            i += 1;
        }
    }
    variation
}

impl Report {
    /// The input in one sentence: "when KEYS[2] holds a list".
    pub fn sentence(&self, variation: &Variation) -> String {
        if variation.is_empty() {
            return "with the inputs as given".into();
        }
        let key_name = |key: &Vec<u8>| match self.target.keys.iter().position(|k| k == key) {
            Some(i) => format!("KEYS[{}] ({})", i + 1, export::word(key)),
            None => format!("the key {}", export::word(key)),
        };
        // One key's state: name every state of that key that fails the same way.
        if let [Change::Key(key, _)] = variation.as_slice() {
            if let Some(finding) = self
                .partial
                .iter()
                .map(|(f, _)| f)
                .chain(&self.early)
                .find(|f| &f.variation == variation)
            {
                let states: Vec<KeyState> = KEY_STATES
                    .into_iter()
                    .filter(|s| finding.singles.contains(&Change::Key(key.clone(), *s)))
                    .collect();
                if states.len() > 1
                    && !states.contains(&KeyState::Absent)
                    && !states.contains(&KeyState::Expiring)
                {
                    let nouns: Vec<&str> = states.iter().map(|s| s.noun()).collect();
                    let (last, rest) = nouns.split_last().expect("two or more");
                    return format!("when {} holds {} or {last}", key_name(key), rest.join(", "));
                }
            }
        }
        let parts: Vec<String> = variation
            .iter()
            .map(|c| match c {
                Change::Key(key, state) => format!("{} {}", key_name(key), state.words()),
                Change::Arg(i, state) => format!(
                    "ARGV[{}] is {}",
                    i + 1,
                    match state {
                        ArgState::Empty => "empty".to_string(),
                        other => export::word(other.value()),
                    }
                ),
                Change::FewerKeys => "the caller passes one key fewer".into(),
                Change::FewerArgs => "the caller passes one argument fewer".into(),
            })
            .collect();
        format!("when {}", parts.join(" and "))
    }

    /// A `redstep run` command that shows the same run.
    pub(crate) fn reproduce(&self, variation: &Variation) -> String {
        let mut words = vec!["redstep".to_string(), "run".into(), "--trace".into()];
        for line in &self.target.setup {
            words.push("-c".into());
            words.push(shell(&String::from_utf8_lossy(&line.line)));
        }
        for argv in setup_of(variation) {
            words.push("-c".into());
            words.push(shell(&export::command_text(&argv)));
        }
        words.push(shell(&self.target.name));
        let (keys, args) = arguments(&self.target, variation);
        words.extend(keys.iter().map(|k| shell(&String::from_utf8_lossy(k))));
        if !args.is_empty() {
            words.push(",".into());
            words.extend(args.iter().map(|a| shell(&String::from_utf8_lossy(a))));
        }
        words.join(" ")
    }

    /// KEYS and ARGV of an input of this report.
    pub(crate) fn arguments(&self, variation: &Variation) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        arguments(&self.target, variation)
    }

    /// The commands that turn the base keyspace into an input's.
    pub(crate) fn setup_of(&self, variation: &Variation) -> Vec<Vec<Vec<u8>>> {
        setup_of(variation)
    }

    /// Whether a partial write was found (the exit status says so).
    pub fn found(&self) -> bool {
        !self.partial.is_empty()
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let name = &self.target.name;
        if self.partial.is_empty() {
            out += &format!(
                "{name}: no partial write found in {} inputs (seed {}). Not found is not impossible: \
                 only these inputs were tried.\n",
                self.runs, self.seed
            );
        } else {
            out += &format!(
                "{name}: {} way(s) to die with writes kept, in {} inputs (seed {}). Redis does not \
                 roll back: these writes stay.\n",
                self.partial.len(),
                self.runs,
                self.seed
            );
        }
        for (n, (f, kept)) in self.partial.iter().enumerate() {
            out += &format!(
                "\n{}. {} ({} input(s) fail this way)\n",
                n + 1,
                self.sentence(&f.variation),
                f.hits
            );
            for w in &f.writes {
                out += &format!("   line {}: {} — written\n", w.line, w.command);
            }
            for k in kept {
                out += &format!("   {}: {} → {}  ← stayed\n", k.key, k.before, k.after);
            }
            out += &format!(
                "   then line {}: (error) {}\n",
                f.error_line.map_or("?".into(), |l| l.to_string()),
                f.error
            );
            out += &format!("   reproduce: {}\n", self.reproduce(&f.variation));
        }
        if !self.early.is_empty() {
            out += "\nErrors before any write (harmless to the data):\n";
            for f in &self.early {
                out += &format!(
                    "- {}: line {}: (error) {}\n",
                    self.sentence(&f.variation),
                    f.error_line.map_or("?".into(), |l| l.to_string()),
                    f.error
                );
            }
        }
        out
    }

    pub fn json(&self) -> Json {
        let finding = |f: &Finding| {
            json!({
                "input": self.sentence(&f.variation),
                "changes": f.variation.iter().map(change_json).collect::<Vec<_>>(),
                "inputs_failing_this_way": f.hits,
                "error_line": f.error_line,
                "error": f.error,
                "writes": f.writes.iter().map(|w| json!({"line": w.line, "command": w.command})).collect::<Vec<_>>(),
                "reproduce": self.reproduce(&f.variation),
            })
        };
        json!({
            "script": self.target.name,
            "seed": self.seed,
            "inputs_tried": self.runs,
            "partial_writes": self.partial.iter().map(|(f, kept)| {
                let mut j = finding(f);
                j["kept"] = kept.iter().map(|k| json!({"key": k.key, "before": k.before, "after": k.after})).collect();
                j
            }).collect::<Vec<_>>(),
            "errors_before_any_write": self.early.iter().map(finding).collect::<Vec<_>>(),
        })
    }
}

fn change_json(change: &Change) -> Json {
    match change {
        Change::Key(key, state) => {
            json!({"key": export::word(key), "state": format!("{state:?}").to_lowercase()})
        }
        Change::Arg(i, state) => {
            json!({"argv": i + 1, "state": format!("{state:?}").to_lowercase()})
        }
        Change::FewerKeys => json!({"fewer": "keys"}),
        Change::FewerArgs => json!({"fewer": "args"}),
    }
}

fn shell(word: &str) -> String {
    crate::protocol::cli::shell_word(word)
}
