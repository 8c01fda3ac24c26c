//! redis-cli's console conventions: splitting a typed line into arguments
//! (`sdssplitargs`) and printing replies (`cliFormatReplyTTY` / `--raw`).

use super::Reply;
use std::io::BufRead;

/// The line had an unterminated quote, or a closing quote not followed by a space.
#[derive(Debug, PartialEq)]
pub struct UnbalancedQuotes;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Redis's `sdssplitargs`: double quotes with `\n \r \t \b \a \xHH` escapes,
/// single quotes with `\'`. A NUL ends the line, as in C.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let at = |i: usize| -> u8 { line.get(i).copied().unwrap_or(0) };
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(args);
        }
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        let mut current = Vec::new();
        while !done {
            let c = at(p);
            if in_double {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    let hex = |d: u8| (d as char).to_digit(16).unwrap_or(0) as u8;
                    current.push(hex(at(p + 2)) * 16 + hex(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

/// Redis's `sdscatrepr`: a quoted string with C escapes.
pub(crate) fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// A reply as redis-cli prints it on a terminal, ending with a newline,
/// on a RESP2 connection (RESP3's types as RESP2 carries them).
pub(crate) fn format_tty(reply: &Reply) -> String {
    format_tty_as(reply, false)
}

/// [`format_tty`] on a connection speaking RESP3 (`resp3`: after HELLO 3),
/// whose maps, sets, doubles and booleans redis-cli 7.0 prints as such:
/// `1# "f" => "v"`, `1~ "a"`, `(double) 1.5`, `(true)`.
pub(crate) fn format_tty_as(reply: &Reply, resp3: bool) -> String {
    let mut out = String::new();
    if resp3 {
        // redis-cli 7.0 reads the whole reply first: its hiredis refuses a
        // NaN double while reading, and has no big numbers to print; either
        // way it prints only that (and exits).
        if contains(reply, &|r| matches!(r, Reply::Double(d) if d.is_nan())) {
            return "Error: Bad double value\n".into();
        }
        if contains(reply, &|r| matches!(r, Reply::BigNumber(_))) {
            return "Unknown reply type: 13\n".into();
        }
        format_tty_into(reply, "", &mut out);
    } else {
        format_tty_into(&reply.to_resp2(), "", &mut out);
    }
    out
}

fn format_tty_into(reply: &Reply, prefix: &str, out: &mut String) {
    match reply {
        Reply::Error(e) => {
            out.push_str("(error) ");
            out.push_str(&String::from_utf8_lossy(e));
            out.push('\n');
        }
        Reply::Status(s) => {
            out.push_str(&String::from_utf8_lossy(s));
            out.push('\n');
        }
        Reply::Int(n) => out.push_str(&format!("(integer) {n}\n")),
        Reply::Bulk(b) => {
            out.push_str(&quote(b));
            out.push('\n');
        }
        Reply::Nil | Reply::NilArray => out.push_str("(nil)\n"),
        Reply::Double(d) => {
            out.push_str("(double) ");
            out.push_str(&super::float::format_double(*d));
            out.push('\n');
        }
        Reply::DoubleText(text) => {
            out.push_str("(double) ");
            out.push_str(&String::from_utf8_lossy(text));
            out.push('\n');
        }
        Reply::Bool(b) => out.push_str(if *b { "(true)\n" } else { "(false)\n" }),
        // A verbatim string's text as it is.
        Reply::Verbatim { text, .. } => {
            out.push_str(&String::from_utf8_lossy(text));
            out.push('\n');
        }
        // Found first (see `format_tty_as`).
        Reply::BigNumber(_) => out.push_str("Unknown reply type: 13\n"),
        Reply::Array(items) | Reply::Push(items) if items.is_empty() => {
            out.push_str(if matches!(reply, Reply::Push(_)) {
                "(empty push)\n"
            } else {
                "(empty array)\n"
            })
        }
        Reply::Set(items) if items.is_empty() => out.push_str("(empty set)\n"),
        Reply::Map(pairs) if pairs.is_empty() => out.push_str("(empty hash)\n"),
        Reply::Array(items) | Reply::Push(items) => aggregate_tty(items, ')', prefix, out),
        Reply::Set(items) => aggregate_tty(items, '~', prefix, out),
        Reply::Map(pairs) => {
            let width = pairs.len().to_string().len();
            let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
            for (i, (key, value)) in pairs.iter().enumerate() {
                let lead = if i == 0 { "" } else { prefix };
                out.push_str(&format!("{lead}{:>width$}# ", i + 1));
                format_tty_into(key, &child_prefix, out);
                out.pop();
                out.push_str(" => ");
                // A value of several lines starts on a line of its own.
                if multiline_tty(value) {
                    out.push('\n');
                    out.push_str(&child_prefix);
                }
                format_tty_into(value, &child_prefix, out);
            }
        }
    }
}

/// Whether `reply` or anything in it is `what`.
fn contains(reply: &Reply, what: &dyn Fn(&Reply) -> bool) -> bool {
    what(reply)
        || match reply {
            Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => {
                items.iter().any(|item| contains(item, what))
            }
            Reply::Map(pairs) => pairs
                .iter()
                .any(|(key, value)| contains(key, what) || contains(value, what)),
            _ => false,
        }
}

/// An array's, a set's or a push's items, numbered with `sep`
/// (`1)`, `1~`), each nested one indented under its number.
fn aggregate_tty(items: &[Reply], sep: char, prefix: &str, out: &mut String) {
    let width = items.len().to_string().len();
    let child_prefix = format!("{prefix}{}", " ".repeat(width + 2));
    for (i, item) in items.iter().enumerate() {
        let lead = if i == 0 { "" } else { prefix };
        out.push_str(&format!("{lead}{:>width$}{sep} ", i + 1));
        format_tty_into(item, &child_prefix, out);
    }
}

/// Whether redis-cli prints a map's value on lines of its own
/// (`cliIsMultilineValueTTY`): an aggregate of more than one item, or of
/// one that is itself so.
fn multiline_tty(reply: &Reply) -> bool {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) => match items.as_slice() {
            [] => false,
            [only] => multiline_tty(only),
            _ => true,
        },
        Reply::Map(pairs) => match pairs.as_slice() {
            [] => false,
            [(_, value)] => multiline_tty(value),
            _ => true,
        },
        _ => false,
    }
}

/// A reply as `redis-cli --raw` prints it, ending with a newline.
pub(crate) fn format_raw(reply: &Reply) -> Vec<u8> {
    let mut out = Vec::new();
    format_raw_into(reply, &mut out);
    out.push(b'\n');
    out
}

/// A reply to `argv` as redis-cli 7.0 prints it: raw (`--raw`, or not
/// on a terminal) with a newline after it, else as on a terminal, except
/// for the commands whose replies are text to read (INFO, CLIENT LIST,
/// LATENCY DOCTOR...: [`prints_verbatim`]), printed as they are on a
/// terminal too, without a newline after (INFO's text ends with its own).
pub(crate) fn format_reply(argv: &[Vec<u8>], reply: &Reply, raw: bool, resp3: bool) -> Vec<u8> {
    if prints_verbatim(argv) {
        let mut out = Vec::new();
        format_raw_into(reply, &mut out);
        out
    } else if raw {
        format_raw(reply)
    } else {
        format_tty_as(reply, resp3).into_bytes()
    }
}

/// The commands redis-cli 7.0 prints verbatim (its `cliSendCommand`'s
/// `output_raw`), by name and arguments.
pub(crate) fn prints_verbatim(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, name: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
    };
    let argc = argv.len();
    is(0, "info")
        || is(0, "lolwut")
        || (argc >= 2
            && is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (argc >= 2 && is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (argc >= 2 && is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
        || (argc >= 2 && is(0, "proxy") && is(1, "info"))
}

fn format_raw_into(reply: &Reply, out: &mut Vec<u8>) {
    match reply {
        Reply::Nil | Reply::NilArray => {}
        Reply::Error(e) => {
            out.extend_from_slice(e);
            out.push(b'\n');
        }
        Reply::Status(s) | Reply::Bulk(s) => out.extend_from_slice(s),
        Reply::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                }
                format_raw_into(item, out);
            }
        }
        resp3 => format_raw_into(&resp3.to_resp2(), out),
    }
}

// ---- redis-cli --eval's arguments, setup lines, shell words ----

/// KEYS and ARGV of a run.
pub(crate) type KeysAndArgs = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Splits redis-cli `--eval` arguments at the first lone ",".
pub fn split_keys_args(mut words: Vec<Vec<u8>>) -> KeysAndArgs {
    match words.iter().position(|w| w == b",") {
        Some(comma) => {
            let args = words.split_off(comma + 1);
            words.pop();
            (words, args)
        }
        None => (words, Vec::new()),
    }
}

/// `k1 k2 , a1 a2` typed as one line in redis-cli quoting (the TUI's F2,
/// lesson files) into KEYS and ARGV.
pub fn parse_keys_args(line: &str) -> Result<KeysAndArgs, String> {
    let words = split_args(line.as_bytes())
        .map_err(|_| format!("KEYS/ARGV {line:?}: unbalanced quotes"))?;
    Ok(split_keys_args(words))
}

/// `EVAL body numkeys key ... arg ...`
pub fn eval_argv(body: Vec<u8>, (keys, args): KeysAndArgs) -> Vec<Vec<u8>> {
    let mut argv = vec![b"EVAL".to_vec(), body, keys.len().to_string().into_bytes()];
    argv.extend(keys);
    argv.extend(args);
    argv
}

/// One line of setup: where it comes from (`setup.txt:2`, `-c 'SET a 42'`)
/// and the command in redis-cli quoting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLine {
    pub place: String,
    pub line: Vec<u8>,
}

/// The lines of a `--setup` file, each named `FILE:N`.
pub fn setup_file(name: &str, input: impl BufRead) -> std::io::Result<Vec<SetupLine>> {
    input
        .split(b'\n')
        .enumerate()
        .map(|(n, line)| {
            Ok(SetupLine {
                place: format!("{name}:{}", n + 1),
                line: line?,
            })
        })
        .collect()
}

/// `-c COMMAND` setup lines, each named by its option.
pub fn setup_commands(commands: &[String]) -> Vec<SetupLine> {
    commands
        .iter()
        .map(|c| SetupLine {
            place: format!("-c {}", shell_word(c)),
            line: c.as_bytes().to_vec(),
        })
        .collect()
}

/// A word as a POSIX shell would need it typed.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        split_args(line.as_bytes())
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn splits_like_sdssplitargs() {
        assert_eq!(args("SET a 42"), ["SET", "a", "42"]);
        assert_eq!(args("  set \"a b\"  'c d' "), ["set", "a b", "c d"]);
        assert_eq!(args(r#"ECHO "x\ny\x41""#), ["ECHO", "x\nyA"]);
        assert_eq!(args(r"ECHO 'it\'s'"), ["ECHO", "it's"]);
        assert_eq!(args("ECHO \"\""), ["ECHO", ""]);
        assert_eq!(split_args(b"ECHO \"abc"), Err(UnbalancedQuotes));
        assert_eq!(split_args(b"ECHO \"a\"b"), Err(UnbalancedQuotes));
        assert!(split_args(b"   ").unwrap().is_empty());
    }

    #[test]
    fn prints_like_redis_cli_on_a_terminal() {
        let reply = Reply::Array(vec![
            Reply::Int(1),
            Reply::Array(vec![Reply::Int(2), Reply::Int(3)]),
            Reply::bulk("x"),
            Reply::Array(vec![]),
        ]);
        assert_eq!(
            format_tty(&reply),
            "1) (integer) 1\n2) 1) (integer) 2\n   2) (integer) 3\n3) \"x\"\n4) (empty array)\n"
        );
        assert_eq!(format_tty(&Reply::bulk("é\"\n")), "\"\\xc3\\xa9\\\"\\n\"\n");
        assert_eq!(format_tty(&Reply::error("ERR x")), "(error) ERR x\n");
        assert_eq!(format_tty(&Reply::NilArray), "(nil)\n");
        // Recorded from redis-cli 7.0.15 on a terminal (`script -qc`):
        // INFO's text as it is, an empty INFO as nothing, an error of
        // CLIENT LIST without "(error)"; LATENCY GRAPH only with one event.
        let argv = |line: &str| split_args(line.as_bytes()).unwrap();
        let info = Reply::bulk("# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
        assert_eq!(
            format_reply(&argv("info keyspace"), &info, false, false),
            b"# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n"
        );
        assert_eq!(
            format_reply(&argv("INFO nosuch"), &Reply::bulk(""), true, false),
            b""
        );
        let unknown = Reply::error("ERR Unknown client type 'bogus'");
        assert_eq!(
            format_reply(&argv("client list type bogus"), &unknown, false, false),
            b"ERR Unknown client type 'bogus'\n"
        );
        let no_samples = Reply::error("ERR No samples available for event 'command'");
        assert_eq!(
            format_reply(&argv("LATENCY GRAPH command"), &no_samples, false, false),
            b"ERR No samples available for event 'command'\n"
        );
        assert_eq!(
            format_reply(&argv("LATENCY GRAPH"), &no_samples, false, false),
            b"(error) ERR No samples available for event 'command'\n"
        );
        assert_eq!(
            format_reply(&argv("ECHO a"), &Reply::bulk("a"), false, false),
            b"\"a\"\n"
        );
        assert_eq!(
            format_reply(&argv("ECHO a"), &Reply::bulk("a"), true, false),
            b"a\n"
        );
    }

    #[test]
    fn wide_arrays_align_their_indexes() {
        let reply = Reply::bulks((0..10).map(|i| i.to_string()));
        let text = format_tty(&reply);
        assert!(text.starts_with(" 1) \"0\"\n 2) \"1\"\n"));
        assert!(text.ends_with("10) \"9\"\n"));
    }

    #[test]
    fn raw_output() {
        assert_eq!(format_raw(&Reply::error("ERR x")), b"ERR x\n\n");
        assert_eq!(format_raw(&Reply::Nil), b"\n");
        assert_eq!(format_raw(&Reply::bulks(["a", "b"])), b"a\nb\n");
    }
}

#[cfg(test)]
mod keys_args_tests {
    use super::*;

    #[test]
    fn keys_and_args_split_at_the_first_lone_comma_and_keep_their_bytes() {
        let (keys, args) = parse_keys_args("k1 \"a b\" , \"\\xff\" , x").unwrap();
        assert_eq!(keys, vec![b"k1".to_vec(), b"a b".to_vec()]);
        assert_eq!(args, vec![vec![0xff], b",".to_vec(), b"x".to_vec()]);
        assert_eq!(
            parse_keys_args("k1").unwrap(),
            (vec![b"k1".to_vec()], vec![])
        );
        assert!(parse_keys_args("\"open")
            .unwrap_err()
            .contains("unbalanced quotes"));
        assert_eq!(
            eval_argv(
                b"return 1".to_vec(),
                (vec![b"k".to_vec()], vec![b"a".to_vec()])
            ),
            vec![
                b"EVAL".to_vec(),
                b"return 1".to_vec(),
                b"1".to_vec(),
                b"k".to_vec(),
                b"a".to_vec()
            ]
        );
    }
}
