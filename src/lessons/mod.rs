//! Lessons: Markdown files with a TOML front matter between `+++` lines
//! (the format is documented for instructors in `lessons/README.md`).
//! Parsing only here; [`check`] runs a lesson's checks on a fresh engine,
//! [`validate`] is `redstep lessons check`.

pub mod check;
mod front;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Spanned, Value};

use front::{Doc, Field, Known, LessonDoc, List, Tables};

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
    pub(crate) text_at: ValueAt,
    pub(crate) solution_at: ValueAt,
}

/// Where a string value stands in a lesson file, to turn a line of the
/// string (a compile error's) into a line of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ValueAt {
    /// The file line of the string's first line (0: not from a file).
    pub(crate) line: usize,
    /// A multi-line string (`'''` or `"""`): its lines are the file's.
    pub(crate) multiline: bool,
}

impl ValueAt {
    /// The file line of line `n` (1-based) of `text`, this value's string.
    /// Past the end (Lua's errors "near '<eof>'"), the string's last line.
    pub(crate) fn file_line(&self, n: usize, text: &str) -> usize {
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
    /// What replicas and the AOF received, a command a line as redis-cli
    /// would type it (`SELECT`, `MULTI` and `EXEC` included).
    Replica(Vec<String>),
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
    /// The engine answers as node 1 of this many cluster masters (as
    /// `redstep --cluster=N`), in the TUI and in the checks.
    pub cluster: Option<usize>,
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

/// One of `[[buffers]]` or `[[checks]]`: its keys, its fields and the line
/// of its header.
type OneTable<'t, T> = (&'t Known<T>, &'t T, usize);

/// The front matter's text, to turn a value's place into a file line.
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

    /// The file line where a value (or a table's header, or a key) starts.
    fn line<T>(&self, at: &Spanned<T>) -> usize {
        self.first_line + line_of(self.text, at.span().start) - 1
    }

    /// Where a string value starts (see [`ValueAt`]).
    fn value_at(&self, field: &Field) -> ValueAt {
        match field {
            Some(value) => self.string_at(value),
            None => ValueAt::default(),
        }
    }

    fn string_at(&self, value: &Spanned<Value>) -> ValueAt {
        let line = self.line(value);
        let written = &self.text[value.span()];
        if written.starts_with("'''") || written.starts_with("\"\"\"") {
            // TOML drops a newline right after the opening quotes.
            let rest = &written[3..];
            let next = usize::from(rest.starts_with('\n') || rest.starts_with("\r\n"));
            return ValueAt {
                line: line + next,
                multiline: true,
            };
        }
        ValueAt {
            line,
            multiline: false,
        }
    }

    fn string(&self, field: &Field, key: &str) -> Result<Option<String>, Problem> {
        match field {
            None => Ok(None),
            Some(value) => match value.get_ref() {
                Value::String(s) => Ok(Some(s.clone())),
                other => Err(self.problem(
                    self.line(value),
                    format!("`{key}` must be a string, not {}", other.type_str()),
                )),
            },
        }
    }

    fn required(
        &self,
        field: &Field,
        key: &str,
        line: usize,
        what: &str,
    ) -> Result<String, Problem> {
        self.string(field, key)?
            .ok_or_else(|| self.problem(line, format!("{what} needs `{key}`")))
    }

    /// A list of strings, each with the file line it is written on.
    fn strings(
        &self,
        list: &Option<Spanned<List>>,
        key: &str,
    ) -> Result<Option<Vec<(String, usize)>>, Problem> {
        let Some(list) = list else {
            return Ok(None);
        };
        match list.get_ref() {
            List::Items(items) => items
                .iter()
                .map(|item| match item.get_ref() {
                    Value::String(s) => Ok((s.clone(), self.string_at(item).line)),
                    other => Err(self.problem(
                        self.line(list),
                        format!("`{key}` must list strings, not {}", other.type_str()),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            List::Not(type_str) => Err(self.problem(
                self.line(list),
                format!("`{key}` must be a list of strings, not {type_str}"),
            )),
        }
    }

    /// A flag: `true` or `false`.
    fn flag(&self, field: &Field, key: &str) -> Result<bool, Problem> {
        match field {
            None => Ok(false),
            Some(value) => match value.get_ref() {
                Value::Boolean(b) => Ok(*b),
                other => Err(self.problem(
                    self.line(value),
                    format!("`{key}` must be true or false, not {}", other.type_str()),
                )),
            },
        }
    }

    /// A table's first unknown key, told with the keys it knows.
    fn unknown<T: Doc>(&self, table: &Known<T>) -> Result<(), Problem> {
        match &table.unknown {
            Some(k) => Err(self.problem(
                self.line(k),
                format!(
                    "{}: unknown field `{}` (known: {})",
                    T::WHAT,
                    k.get_ref(),
                    T::FIELDS.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// `[[buffers]]` or `[[checks]]`: each table with its header's line.
    fn tables<'t, T: Doc>(
        &self,
        tables: &'t Option<Spanned<Tables<T>>>,
        key: &str,
    ) -> Result<Vec<OneTable<'t, T>>, Problem> {
        let Some(tables) = tables else {
            return Ok(Vec::new());
        };
        let wrong = || {
            self.problem(
                self.line(tables),
                format!("`{key}` must be [[{key}]] tables"),
            )
        };
        match tables.get_ref() {
            Tables::Tables(items) => items
                .iter()
                .map(|t| {
                    let known = t.get_ref();
                    let doc = known.doc.as_ref().ok_or_else(wrong)?;
                    Ok((known, doc, self.line(t)))
                })
                .collect(),
            Tables::Not => Err(wrong()),
        }
    }

    /// `others = ["step 2: GET a", ...]`, each read as another client's command.
    fn lane(
        &self,
        list: &Option<Spanned<List>>,
    ) -> Result<Option<Vec<crate::trace::LaneCommand>>, Problem> {
        let Some(texts) = self.strings(list, "others")? else {
            return Ok(None);
        };
        let line = list.as_ref().map_or(1, |l| self.line(l));
        texts
            .iter()
            .map(|(t, _)| {
                crate::trace::LaneCommand::parse(t)
                    .map_err(|e| self.problem(line, format!("others: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

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
    let top: Known<LessonDoc> = toml::from_str(front.text).map_err(|e| {
        let line = e
            .span()
            .map(|s| front.first_line + line_of(front.text, s.start) - 1)
            .unwrap_or(1);
        let message = e.message().trim().to_string();
        front.problem(line, format!("front matter: {message}"))
    })?;
    front.unknown(&top)?;
    let Some(doc) = &top.doc else {
        return Err(front.problem(1, "the front matter is not a table"));
    };
    let id = front.required(&doc.id, "id", 1, "a lesson")?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        let line = doc.id.as_ref().map_or(1, |v| front.line(v));
        return Err(front.problem(line, format!("id {id:?}: use letters, digits, - and _")));
    }
    let title = front.required(&doc.title, "title", 1, "a lesson")?;
    let order = match &doc.order {
        None => 0,
        Some(value) => match value.get_ref() {
            Value::Integer(n) => *n,
            other => {
                return Err(front.problem(
                    front.line(value),
                    format!("`order` must be an integer, not {}", other.type_str()),
                ))
            }
        },
    };
    let (setup, setup_lines) = front
        .strings(&doc.setup, "setup")?
        .unwrap_or_default()
        .into_iter()
        .unzip();
    let args = front.string(&doc.args, "args")?.unwrap_or_default();
    let hints = front
        .strings(&doc.hints, "hints")?
        .unwrap_or_default()
        .into_iter()
        .map(|(hint, _)| hint)
        .collect();
    let others = front.lane(&doc.others)?.unwrap_or_default();
    let cluster = match &doc.cluster {
        None => None,
        Some(value) => match value.get_ref() {
            Value::Integer(n) if *n >= 0 => {
                let shards = *n as usize;
                crate::engine::cluster::validate(shards, crate::engine::DEFAULT_PORT).map_err(
                    |e| {
                        let e = e.trim_start_matches("--cluster: ");
                        front.problem(front.line(value), format!("`cluster`: {e}"))
                    },
                )?;
                Some(shards)
            }
            other => {
                return Err(front.problem(
                    front.line(value),
                    format!(
                        "`cluster` must be a count of masters (e.g. 3), not {}",
                        other.type_str()
                    ),
                ))
            }
        },
    };

    let mut buffers = Vec::new();
    for (known, b, line) in front.tables(&doc.buffers, "buffers")? {
        front.unknown(known)?;
        let name = front.required(&b.name, "name", line, "a buffer")?;
        let kind = match front.string(&b.kind, "kind")?.as_deref() {
            None | Some("lua") => Kind::Lua,
            Some("commands") => Kind::Commands,
            Some(other) => {
                return Err(front.problem(
                    b.kind.as_ref().map_or(line, |v| front.line(v)),
                    format!("buffer kind {other:?}: use \"lua\" or \"commands\""),
                ))
            }
        };
        let text = front.string(&b.text, "text")?.unwrap_or_default();
        let solution = front.string(&b.solution, "solution")?;
        buffers.push(LessonBuffer {
            name,
            kind,
            text,
            solution,
            line,
            text_at: front.value_at(&b.text),
            solution_at: front.value_at(&b.solution),
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
    for (known, c, line) in front.tables(&doc.checks, "checks")? {
        front.unknown(known)?;
        let name = front.required(&c.name, "name", line, "a check")?;
        let mut expect = Vec::new();
        if let Some(reply) = front.string(&c.reply, "reply")? {
            expect.push(Expect::Reply(reply));
        }
        if let Some(error) = front.string(&c.error, "error")? {
            expect.push(Expect::Error(error));
        }
        if front.flag(&c.ok, "ok")? {
            expect.push(Expect::Ok);
        }
        if let Some(keys) = &c.keys {
            let at = front.line(keys);
            match keys.get_ref() {
                Value::Table(keys) => {
                    let mut pairs = Vec::new();
                    for (k, v) in keys {
                        match v {
                            Value::String(s) => pairs.push((k.clone(), s.clone())),
                            other => {
                                return Err(front.problem(
                                    at,
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
                other => {
                    return Err(front.problem(
                        at,
                        format!(
                            "`keys` must be a table like {{ a = \"43\" }}, not {}",
                            other.type_str()
                        ),
                    ))
                }
            }
        }
        if let Some(absent) = front.strings(&c.absent, "absent")? {
            expect.push(Expect::Absent(absent.into_iter().map(|(k, _)| k).collect()));
        }
        if front.flag(&c.unchanged, "unchanged")? {
            expect.push(Expect::Unchanged);
        }
        if let Some(writes) = &c.writes {
            match writes.get_ref() {
                Value::Integer(n) if *n >= 0 => expect.push(Expect::Writes(*n as usize)),
                other => {
                    return Err(front.problem(
                        front.line(writes),
                        format!("`writes` must be a count, not {other}"),
                    ))
                }
            }
        }
        if let Some(probe) = &c.probe {
            match probe.get_ref() {
                Value::Integer(n) if *n > 0 => expect.push(Expect::NoPartialWrite(*n as usize)),
                other => {
                    return Err(front.problem(
                        front.line(probe),
                        format!("`probe` must be a count of inputs (e.g. 500), not {other}"),
                    ))
                }
            }
        }
        if let Some(saw) = front.strings(&c.others_saw, "others_saw")? {
            expect.push(Expect::OthersSaw(saw.into_iter().map(|(s, _)| s).collect()));
        }
        if let Some(sent) = front.strings(&c.replica, "replica")? {
            expect.push(Expect::Replica(sent.into_iter().map(|(s, _)| s).collect()));
        }
        if expect.is_empty() {
            return Err(front.problem(line, format!("check {name:?} expects nothing: give reply, error, ok, keys, absent, unchanged, writes, probe, others_saw or replica")));
        }
        let others = front.lane(&c.others)?;
        let (setup, setup_lines) = match front.strings(&c.setup, "setup")? {
            Some(lines) => {
                let (setup, at): (Vec<String>, Vec<usize>) = lines.into_iter().unzip();
                (Some(setup), at)
            }
            None => (None, Vec::new()),
        };
        let args = front.string(&c.args, "args")?;
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
    // A probe runs its inputs on standalone engines: in a cluster lesson it
    // would miss the writes the cluster's rules cut short.
    if let (Some(_), Some(check)) = (
        cluster,
        checks.iter().find(|c| {
            c.expect
                .iter()
                .any(|e| matches!(e, Expect::NoPartialWrite(_)))
        }),
    ) {
        return Err(front.problem(
            check.line,
            "a lesson with `cluster` cannot use `probe` (the probe runs on a standalone engine)",
        ));
    }
    Ok(Lesson {
        id,
        title,
        order,
        setup,
        setup_lines,
        args,
        others,
        cluster,
        hints,
        buffers,
        checked,
        checks,
        body,
        source: source.to_string(),
    })
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

    #[test]
    fn lines_are_where_toml_read_each_value() {
        // The key's name inside an earlier string does not move the line.
        let bad = GOOD.replace("reply = '\"1\"'", "error = \"reply = no\"\nreply = 1");
        assert_eq!(
            parse("t.md", &bad).unwrap_err().to_string(),
            "t.md:16: `reply` must be a string, not integer"
        );
        // A setup line with escapes is found where it is written.
        let text = GOOD.replace(
            r#"setup = ["SET a 1"]"#,
            "setup = [\n  \"SET a 1\",\n  \"SET \\\"b\\\" 2\",\n]",
        );
        let l = parse("t.md", &text).unwrap();
        assert_eq!(l.setup, vec!["SET a 1", "SET \"b\" 2"]);
        assert_eq!(l.setup_lines, vec![6, 7]);
        // TOML keeps what follows ''' on its line unless it is the newline:
        // the string's line 1 is then the key's line.
        let text = GOOD.replace("text = \"return 1\"", "text = '''  \nreturn 1\n'''");
        let l = parse("t.md", &text).unwrap();
        assert_eq!(l.buffers[0].text, "  \nreturn 1\n");
        let at = l.buffers[0].text_at;
        assert_eq!((at.line, at.multiline), (10, true));
        // An unknown key is told at its own line.
        let bad = GOOD.replace("solution = ", "x = 1\nsolution = ");
        assert!(parse("t.md", &bad)
            .unwrap_err()
            .to_string()
            .starts_with("t.md:11: a buffer: unknown field `x`"));
    }
}
