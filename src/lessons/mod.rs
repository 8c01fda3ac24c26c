//! Lessons: Markdown files with a TOML front matter between `+++` lines
//! (the format is documented for instructors in `lessons/README.md`).
//! Parsing only here; [`check`] runs a lesson's checks on a fresh engine,
//! [`validate`] is `redstep lessons check`.

pub mod check;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// What a buffer holds: a Lua script, or redis-cli lines run one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Lua,
    Commands,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LessonBuffer {
    pub name: String,
    pub kind: Kind,
    pub text: String,
    /// The reference solution (for the checked buffer).
    pub solution: Option<String>,
    /// Line of the file where the buffer's table starts.
    pub line: usize,
    /// Where `text` and `solution` stand in the file.
    pub text_at: ValueAt,
    pub solution_at: ValueAt,
}

/// Where a string value stands in a lesson file, to turn a line of the
/// string (a compile error's) into a line of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValueAt {
    /// The file line of the string's first line (0: not from a file).
    pub line: usize,
    /// A multi-line string (`'''` or `"""`): its lines are the file's.
    pub multiline: bool,
}

impl ValueAt {
    /// The file line of line `n` (1-based) of `text`, this value's string.
    /// Past the end (Lua's errors "near '<eof>'"), the string's last line.
    pub fn file_line(&self, n: usize, text: &str) -> usize {
        if !self.multiline {
            return self.line;
        }
        let last = text.lines().count().max(1);
        self.line + n.clamp(1, last) - 1
    }
}

/// What a check expects of a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The reply as redis-cli prints it on a terminal, e.g. `(integer) 43`.
    Reply(String),
    /// The run ends in an error whose text contains this.
    Error(String),
    /// The run succeeds (no error).
    Ok,
    /// Keys and their values afterwards: a string's text, or for other
    /// types the one-line rendering (`["a", "b"]`, `{"f": "v"}`).
    Keys(Vec<(String, String)>),
    /// Keys that must not exist afterwards.
    Absent(Vec<String>),
    /// No key changed (compared with the keyspace after the setup).
    Unchanged,
    /// This many writes changed the keyspace.
    Writes(usize),
    /// `redstep probe` finds no partial write in this many inputs, from the
    /// check's setup and arguments.
    NoPartialWrite(usize),
    /// What the other clients got, in order, as redis-cli prints it.
    OthersSaw(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub name: String,
    /// Setup lines for this check (default: the lesson's).
    pub setup: Option<Vec<String>>,
    /// The file line of each of this check's setup lines.
    pub setup_lines: Vec<usize>,
    /// KEYS and ARGV for this check (default: the lesson's).
    pub args: Option<String>,
    /// Other clients' commands for this check (default: the lesson's).
    pub others: Option<Vec<crate::trace::LaneCommand>>,
    pub expect: Vec<Expect>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub id: String,
    pub title: String,
    pub order: i64,
    /// redis-cli lines run on a fresh engine before the learner's script.
    pub setup: Vec<String>,
    /// The file line of each setup line (empty when not from a file).
    pub setup_lines: Vec<usize>,
    /// KEYS and ARGV as `redis-cli --eval` takes them: `k1 k2 , a1 a2`.
    pub args: String,
    /// Other clients' commands around each run (`step 2: GET a`), set in
    /// the TUI when the lesson opens and used by its checks.
    pub others: Vec<crate::trace::LaneCommand>,
    pub hints: Vec<String>,
    pub buffers: Vec<LessonBuffer>,
    /// The buffer the checks run (the one with a solution).
    pub checked: usize,
    pub checks: Vec<Check>,
    /// The Markdown text after the front matter.
    pub body: String,
    /// Where it came from (a path, or `builtin:NAME`).
    pub source: String,
}

/// A problem in a lesson file, with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub source: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.message)
    }
}

impl std::error::Error for Problem {}

/// Line (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

struct Front<'a> {
    source: &'a str,
    /// The front matter's text and the file line it starts on.
    text: &'a str,
    first_line: usize,
}

impl Front<'_> {
    fn problem(&self, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            source: self.source.to_string(),
            line,
            message: message.into(),
        }
    }

    /// The file line where `needle` first appears in the front matter after `from_line`.
    fn line_of(&self, needle: &str, from_line: usize) -> usize {
        let skip = from_line.saturating_sub(self.first_line);
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i >= skip && l.contains(needle) {
                return self.first_line + line_of(self.text, offset) - 1;
            }
            offset += l.len();
        }
        self.first_line
    }

    /// The line where `key = ` is written in the table whose header is on
    /// `from_line` (1: the top level), before the next table header.
    fn key_line(&self, key: &str, from_line: usize) -> Option<usize> {
        let skip = from_line.saturating_sub(self.first_line);
        for (i, l) in self.text.lines().enumerate().skip(skip) {
            let l = l.trim_start();
            if i > skip && l.starts_with('[') {
                return None;
            }
            if i == skip && from_line > 1 && l.starts_with('[') {
                continue;
            }
            if let Some(rest) = l.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(self.first_line + i);
                }
            }
        }
        None
    }

    /// Where the string value of `key` starts (see [`ValueAt`]).
    fn value_at(&self, key: &str, from_line: usize) -> ValueAt {
        let Some(line) = self.key_line(key, from_line) else {
            return ValueAt::default();
        };
        let text = self.text.lines().nth(line - self.first_line).unwrap_or("");
        let value = text.split_once('=').map_or("", |(_, v)| v).trim_start();
        for quotes in ["\"\"\"", "'''"] {
            if let Some(rest) = value.strip_prefix(quotes) {
                // TOML drops a newline right after the opening quotes.
                let next = if rest.trim_end().is_empty() { 1 } else { 0 };
                return ValueAt {
                    line: line + next,
                    multiline: true,
                };
            }
        }
        ValueAt {
            line,
            multiline: false,
        }
    }

    /// The file line of each string of the list `key`: the line holding its
    /// text, or the key's line.
    fn list_lines(&self, key: &str, from_line: usize, items: &[String]) -> Vec<usize> {
        let Some(start) = self.key_line(key, from_line) else {
            return vec![from_line; items.len()];
        };
        let lines: Vec<&str> = self.text.lines().collect();
        let mut at = start;
        items
            .iter()
            .map(|item| {
                let found = (at..self.first_line + lines.len())
                    .take_while(|&n| {
                        n == start || !lines[n - self.first_line].trim_start().starts_with('[')
                    })
                    .find(|&n| lines[n - self.first_line].contains(item.as_str()));
                match found {
                    Some(n) => {
                        at = n;
                        n
                    }
                    None => start,
                }
            })
            .collect()
    }

    fn string(&self, table: &Table, key: &str, line: usize) -> Result<Option<String>, Problem> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.problem(
                self.line_of(key, line),
                format!("`{key}` must be a string, not {}", other.type_str()),
            )),
        }
    }

    fn required(
        &self,
        table: &Table,
        key: &str,
        line: usize,
        what: &str,
    ) -> Result<String, Problem> {
        self.string(table, key, line)?
            .ok_or_else(|| self.problem(line, format!("{what} needs `{key}`")))
    }

    fn strings(
        &self,
        table: &Table,
        key: &str,
        line: usize,
    ) -> Result<Option<Vec<String>>, Problem> {
        match table.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(self.problem(
                        self.line_of(key, line),
                        format!("`{key}` must list strings, not {}", other.type_str()),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(self.problem(
                self.line_of(key, line),
                format!(
                    "`{key}` must be a list of strings, not {}",
                    other.type_str()
                ),
            )),
        }
    }

    fn unknown(
        &self,
        table: &Table,
        known: &[&str],
        line: usize,
        what: &str,
    ) -> Result<(), Problem> {
        match table.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(self.problem(
                self.line_of(k, line),
                format!("{what}: unknown field `{k}` (known: {})", known.join(", ")),
            )),
            None => Ok(()),
        }
    }
}

const LESSON_FIELDS: &[&str] = &[
    "id", "title", "order", "setup", "args", "others", "hints", "buffers", "checks",
];
const BUFFER_FIELDS: &[&str] = &["name", "kind", "text", "solution"];
const CHECK_FIELDS: &[&str] = &[
    "name",
    "setup",
    "args",
    "reply",
    "error",
    "ok",
    "keys",
    "absent",
    "unchanged",
    "writes",
    "probe",
    "others",
    "others_saw",
];

/// Parses one lesson file's text; `source` names it in problems.
pub fn parse(source: &str, text: &str) -> Result<Lesson, Problem> {
    let problem = |line: usize, message: &str| Problem {
        source: source.to_string(),
        line,
        message: message.to_string(),
    };
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
        .ok_or_else(|| {
            problem(
                1,
                "a lesson starts with a `+++` line, then its TOML front matter, then `+++`",
            )
        })?;
    let end = rest
        .find("\n+++")
        .ok_or_else(|| problem(1, "the front matter has no closing `+++` line"))?;
    let front = Front {
        source,
        text: &rest[..end + 1],
        first_line: 2,
    };
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']).to_string();
    let table: Table = front.text.parse().map_err(|e: toml::de::Error| {
        let line = e
            .span()
            .map(|s| front.first_line + line_of(front.text, s.start) - 1)
            .unwrap_or(1);
        let message = e.message().trim().to_string();
        front.problem(line, format!("front matter: {message}"))
    })?;
    front.unknown(&table, LESSON_FIELDS, 1, "lesson")?;
    let id = front.required(&table, "id", 1, "a lesson")?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(front.problem(
            front.line_of("id", 1),
            format!("id {id:?}: use letters, digits, - and _"),
        ));
    }
    let title = front.required(&table, "title", 1, "a lesson")?;
    let order = match table.get("order") {
        None => 0,
        Some(Value::Integer(n)) => *n,
        Some(other) => {
            return Err(front.problem(
                front.line_of("order", 1),
                format!("`order` must be an integer, not {}", other.type_str()),
            ))
        }
    };
    let setup = front.strings(&table, "setup", 1)?.unwrap_or_default();
    let setup_lines = front.list_lines("setup", 1, &setup);
    let args = front.string(&table, "args", 1)?.unwrap_or_default();
    let hints = front.strings(&table, "hints", 1)?.unwrap_or_default();
    let others = lane(&front, &table, 1)?.unwrap_or_default();

    let mut buffers = Vec::new();
    let mut from = 1;
    for b in tables(&front, &table, "buffers")? {
        let line = front.line_of("[[buffers]]", from);
        from = line + 1;
        front.unknown(b, BUFFER_FIELDS, line, "a buffer")?;
        let name = front.required(b, "name", line, "a buffer")?;
        let kind = match front.string(b, "kind", line)?.as_deref() {
            None | Some("lua") => Kind::Lua,
            Some("commands") => Kind::Commands,
            Some(other) => {
                return Err(front.problem(
                    front.line_of("kind", line),
                    format!("buffer kind {other:?}: use \"lua\" or \"commands\""),
                ))
            }
        };
        let text = front.string(b, "text", line)?.unwrap_or_default();
        let solution = front.string(b, "solution", line)?;
        buffers.push(LessonBuffer {
            name,
            kind,
            text,
            solution,
            line,
            text_at: front.value_at("text", line),
            solution_at: front.value_at("solution", line),
        });
    }
    if buffers.is_empty() {
        return Err(front.problem(1, "a lesson needs at least one [[buffers]] table"));
    }
    let with_solution: Vec<usize> = (0..buffers.len())
        .filter(|&i| buffers[i].solution.is_some())
        .collect();
    let checked = match with_solution.as_slice() {
        [] => 0,
        [one] => *one,
        [_, second, ..] => {
            return Err(front.problem(
                buffers[*second].line,
                "only one buffer may have a `solution` (the one the checks run)",
            ))
        }
    };

    let mut checks = Vec::new();
    let mut from = 1;
    for c in tables(&front, &table, "checks")? {
        let line = front.line_of("[[checks]]", from);
        from = line + 1;
        front.unknown(c, CHECK_FIELDS, line, "a check")?;
        let name = front.required(c, "name", line, "a check")?;
        let mut expect = Vec::new();
        if let Some(reply) = front.string(c, "reply", line)? {
            expect.push(Expect::Reply(reply));
        }
        if let Some(error) = front.string(c, "error", line)? {
            expect.push(Expect::Error(error));
        }
        match c.get("ok") {
            None | Some(Value::Boolean(false)) => {}
            Some(Value::Boolean(true)) => expect.push(Expect::Ok),
            Some(other) => {
                return Err(front.problem(
                    front.line_of("ok", line),
                    format!("`ok` must be true or false, not {}", other.type_str()),
                ))
            }
        }
        match c.get("keys") {
            None => {}
            Some(Value::Table(keys)) => {
                let mut pairs = Vec::new();
                for (k, v) in keys {
                    match v {
                        Value::String(s) => pairs.push((k.clone(), s.clone())),
                        other => {
                            return Err(front.problem(
                                front.line_of("keys", line),
                                format!(
                                    "keys.{k} must be a string (the value as text), not {}",
                                    other.type_str()
                                ),
                            ))
                        }
                    }
                }
                expect.push(Expect::Keys(pairs));
            }
            Some(other) => {
                return Err(front.problem(
                    front.line_of("keys", line),
                    format!(
                        "`keys` must be a table like {{ a = \"43\" }}, not {}",
                        other.type_str()
                    ),
                ))
            }
        }
        if let Some(absent) = front.strings(c, "absent", line)? {
            expect.push(Expect::Absent(absent));
        }
        match c.get("unchanged") {
            None | Some(Value::Boolean(false)) => {}
            Some(Value::Boolean(true)) => expect.push(Expect::Unchanged),
            Some(other) => {
                return Err(front.problem(
                    front.line_of("unchanged", line),
                    format!(
                        "`unchanged` must be true or false, not {}",
                        other.type_str()
                    ),
                ))
            }
        }
        match c.get("writes") {
            None => {}
            Some(Value::Integer(n)) if *n >= 0 => expect.push(Expect::Writes(*n as usize)),
            Some(other) => {
                return Err(front.problem(
                    front.line_of("writes", line),
                    format!("`writes` must be a count, not {other}"),
                ))
            }
        }
        match c.get("probe") {
            None => {}
            Some(Value::Integer(n)) if *n > 0 => expect.push(Expect::NoPartialWrite(*n as usize)),
            Some(other) => {
                return Err(front.problem(
                    front.line_of("probe", line),
                    format!("`probe` must be a count of inputs (e.g. 500), not {other}"),
                ))
            }
        }
        if let Some(saw) = front.strings(c, "others_saw", line)? {
            expect.push(Expect::OthersSaw(saw));
        }
        if expect.is_empty() {
            return Err(front.problem(line, format!("check {name:?} expects nothing: give reply, error, ok, keys, absent, unchanged, writes, probe or others_saw")));
        }
        let others = lane(&front, c, line)?;
        let setup = front.strings(c, "setup", line)?;
        let setup_lines = setup
            .as_ref()
            .map(|s| front.list_lines("setup", line, s))
            .unwrap_or_default();
        let args = front.string(c, "args", line)?;
        checks.push(Check {
            name,
            setup,
            setup_lines,
            args,
            others,
            expect,
            line,
        });
    }
    Ok(Lesson {
        id,
        title,
        order,
        setup,
        setup_lines,
        args,
        others,
        hints,
        buffers,
        checked,
        checks,
        body,
        source: source.to_string(),
    })
}

/// `others = ["step 2: GET a", ...]`, each read as another client's command.
fn lane(
    front: &Front<'_>,
    table: &Table,
    line: usize,
) -> Result<Option<Vec<crate::trace::LaneCommand>>, Problem> {
    let Some(texts) = front.strings(table, "others", line)? else {
        return Ok(None);
    };
    texts
        .iter()
        .map(|t| {
            crate::trace::LaneCommand::parse(t)
                .map_err(|e| front.problem(front.line_of("others", line), format!("others: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn tables<'a>(front: &Front<'_>, table: &'a Table, key: &str) -> Result<Vec<&'a Table>, Problem> {
    match table.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_table().ok_or_else(|| {
                    front.problem(
                        front.line_of(key, 1),
                        format!("`{key}` must be [[{key}]] tables"),
                    )
                })
            })
            .collect(),
        Some(_) => Err(front.problem(
            front.line_of(key, 1),
            format!("`{key}` must be [[{key}]] tables"),
        )),
    }
}

/// The lessons shipped inside the binary (the repository's `lessons/*.md`).
pub fn builtin() -> Vec<Lesson> {
    let mut lessons: Vec<Lesson> = BUILTIN
        .iter()
        .map(|(name, text)| {
            parse(&format!("lessons/{name}"), text).unwrap_or_else(|p| {
                panic!("shipped lesson is broken (cargo test catches this): {p}")
            })
        })
        .collect();
    lessons.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
    lessons
}

include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// Every `*.md` file of a folder but its README, parsed and ordered;
/// problems are collected, not fatal.
pub fn load_dir(dir: &Path) -> (Vec<Lesson>, Vec<Problem>) {
    let mut lessons = Vec::new();
    let mut problems = Vec::new();
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            problems.push(Problem {
                source: dir.display().to_string(),
                line: 0,
                message: format!("cannot read the folder: {e}"),
            });
            return (lessons, problems);
        }
    };
    paths.retain(|p| {
        p.extension().is_some_and(|e| e == "md")
            && p.file_name()
                .is_some_and(|n| !n.eq_ignore_ascii_case("README.md"))
    });
    paths.sort();
    for path in paths {
        let source = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(text) => match parse(&source, &text) {
                Ok(lesson) => lessons.push(lesson),
                Err(p) => problems.push(p),
            },
            Err(e) => problems.push(Problem {
                source,
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    lessons.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
    (lessons, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"+++
id = "t"
title = "A test"
order = 1
setup = ["SET a 1"]
hints = ["first", "second"]

[[buffers]]
name = "s.lua"
text = "return 1"
solution = "return redis.call('GET', 'a')"

[[checks]]
name = "reads a"
reply = '"1"'
+++
# Hello
"#;

    #[test]
    fn a_lesson_parses() {
        let l = parse("t.md", GOOD).unwrap();
        assert_eq!(l.id, "t");
        assert_eq!(l.setup, vec!["SET a 1"]);
        assert_eq!(l.checks[0].expect, vec![Expect::Reply("\"1\"".into())]);
        assert_eq!(l.checks[0].line, 13);
        assert_eq!(l.buffers[0].line, 8);
        assert_eq!(l.body, "# Hello\n");
        // A one-line string: every line of it is the key's line.
        let at = l.buffers[0].solution_at;
        assert_eq!((at.line, at.multiline), (11, false));
        assert_eq!(at.file_line(3, "a\nb\nc"), 11);
        assert_eq!(l.setup_lines, vec![5]);
    }

    #[test]
    fn multi_line_strings_map_their_lines_to_the_file() {
        let text = GOOD
            .replace("text = \"return 1\"", "text = '''\nreturn 1\n'''")
            .replace(
                "solution = \"return redis.call('GET', 'a')\"",
                "solution = \"\"\"local a = 1\nreturn redis.call('GET', 'a')\"\"\"",
            );
        let l = parse("t.md", &text).unwrap();
        let b = &l.buffers[0];
        assert_eq!((b.text_at.line, b.text_at.multiline), (11, true));
        assert_eq!((b.solution_at.line, b.solution_at.multiline), (13, true));
        let solution = b.solution.as_deref().unwrap();
        assert_eq!(b.solution_at.file_line(2, solution), 14);
        // Past the end (an error near '<eof>'): the last line.
        assert_eq!(b.solution_at.file_line(9, solution), 14);
    }

    #[test]
    fn problems_name_the_line() {
        let bad = GOOD.replace("reply = '\"1\"'", "reply = 1");
        assert_eq!(
            parse("t.md", &bad).unwrap_err().to_string(),
            "t.md:15: `reply` must be a string, not integer"
        );
        let bad = GOOD.replace("name = \"reads a\"", "name = \"reads a\"\nrepl = 'x'");
        assert!(parse("t.md", &bad)
            .unwrap_err()
            .to_string()
            .starts_with("t.md:15: a check: unknown field `repl`"));
        let bad = GOOD.replace("order = 1", "order = ");
        assert!(
            parse("t.md", &bad)
                .unwrap_err()
                .to_string()
                .starts_with("t.md:4: front matter:"),
            "{}",
            parse("t.md", &bad).unwrap_err()
        );
        assert_eq!(parse("t.md", "# no front matter").unwrap_err().line, 1);
    }
}
