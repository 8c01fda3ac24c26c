//! Command-line arguments (clap). Parsing only: each subcommand is run by
//! its own module.

use std::net::IpAddr;
use std::path::PathBuf;

use std::ffi::OsString;

use crate::protocol::cli::shell_word;
use clap::{CommandFactory, Parser, Subcommand};

const RUN_HELP: &str = "\
Options may stand before or after the script's words: `redstep run f.lua k1 , a1 --trace md`
traces. A word that is one of these options is taken as the option, with a warning on stderr.
Everything after a lone `--` goes to the script as it is: `redstep run f.lua k1 , -- --trace`
passes \"--trace\" as ARGV[1]. Other words starting with `-` (`-5`, `-inf`) are keys or arguments.

Exit status: 0 when the script ran, even when its reply is an error (as redis-cli); not 0 when
it could not run (a file it cannot read, an option it cannot parse).

Examples (`redstep demo --write .` writes inc.lua and setup.txt):
  redstep run inc.lua -c 'SET a 42' -c 'SET b 42' --trace
  redstep run inc.lua --setup setup.txt
  redstep run inc.lua key1 key2 , arg1 arg2";

#[derive(Parser, Debug)]
#[command(
    name = "redstep",
    version,
    about = "A terminal playground that shows how Redis Lua scripts really behave"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A Lua file to open in the TUI (created on save if missing).
    pub file: Option<PathBuf>,
    /// Open the TUI on this lesson (default: the post's scripts).
    #[arg(long, conflicts_with = "file")]
    pub lesson: Option<String>,
    /// Use the lessons of this folder instead of the shipped ones.
    #[arg(long, value_name = "DIR")]
    pub lessons: Option<PathBuf>,
    /// Work on a real server: the keyspace pane and redis-cli pane use it,
    /// and runs are stepped through its Lua debugger (LDB), e.g.
    /// redis://127.0.0.1:6379 or redis://user:pass@host:port/db.
    #[arg(long, value_name = "URL", conflicts_with_all = ["lesson", "lessons"])]
    pub redis: Option<String>,
    /// With --redis: `forked` (default: Redis forks for each run; the
    /// server's data is untouched afterwards) or `sync` (the writes stay;
    /// the server is blocked while a run is recorded).
    #[arg(long, value_name = "MODE", default_value = "forked", value_parser = ["forked", "sync"])]
    pub ldb: String,
    /// Allow --ldb sync on a server that is not on this machine.
    #[arg(long)]
    pub allow_blocking: bool,
    /// Record the session as an asciicast v2 file (asciinema play FILE).
    #[arg(long, value_name = "FILE.cast")]
    pub record: Option<PathBuf>,
    /// Presenter mode for a room: fewer, larger panes, the step and the
    /// keys pressed on a top line (Alt+P toggles it).
    #[arg(long)]
    pub present: bool,
    /// Answer as node 1 of an N-master Redis Cluster (default 3), slots split as
    /// `redis-cli --cluster create` splits them: CROSSSLOT, MOVED, the script
    /// cluster errors, CLUSTER SLOTS/NODES/... (`--cluster=N` for another N).
    #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "3", conflicts_with = "redis")]
    pub cluster: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum LessonsCommand {
    /// Check every lesson of a folder (default: the shipped ones): it
    /// parses, its scripts compile, its solution passes every check and
    /// its starting script fails one. Exit code 1 on any problem.
    Check { dir: Option<PathBuf> },
    /// List the lessons of a folder (default: the shipped ones).
    List { dir: Option<PathBuf> },
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run Redis commands against the embedded engine and print the replies
    /// as redis-cli does: from the arguments, or one per line from a file or
    /// standard input (redis-cli quoting).
    Exec {
        /// Print replies as `redis-cli --raw` does.
        #[arg(long)]
        raw: bool,
        /// Read commands from this file, one per line (`-` for standard input).
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// Answer as node 1 of an N-master Redis Cluster (default 3): CROSSSLOT,
        /// MOVED, the script cluster errors, CLUSTER SLOTS/NODES/....
        #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "3")]
        cluster: Option<usize>,
        /// One command and its arguments, e.g. `SET a 42`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a Lua script as `redis-cli --eval FILE KEY ... , ARG ...` would,
    /// then print every key it touched.
    #[command(after_help = RUN_HELP)]
    Run {
        /// The script.
        file: PathBuf,
        /// Redis commands to run first, one per line (redis-cli quoting).
        #[arg(long, value_name = "FILE")]
        setup: Option<PathBuf>,
        /// A Redis command to run first, e.g. -c 'SET a 42' (redis-cli
        /// quoting; repeat for more; run after the --setup file's lines).
        #[arg(short = 'c', long = "command", value_name = "COMMAND")]
        commands: Vec<String>,
        /// Print the reply as `redis-cli --raw` does.
        #[arg(long)]
        raw: bool,
        /// Print the whole run step by step: text (default), json, md, html (one
        /// self-contained page readers step through in a browser), or svg (a
        /// picture of the debugger at the end, or at --frame N).
        #[arg(long, num_args = 0..=1, default_missing_value = "text", value_parser = ["text", "json", "md", "html", "svg"])]
        trace: Option<String>,
        /// Record at most this many steps (the script runs on; what it
        /// changes after that shows at its end).
        #[arg(long, default_value_t = 5_000_000)]
        trace_steps: usize,
        /// With --trace svg: the step to draw (from 1; default: the end).
        #[arg(long, value_name = "N")]
        frame: Option<usize>,
        /// Stop the script when its trace passes this many megabytes.
        #[arg(long, default_value_t = 512)]
        trace_mb: usize,
        /// Another client's command, sent before the run, at a step of it,
        /// when it reaches a line, or after it: `step 2: GET a`, `client 3
        /// line 2: INCR b`, `before: SET a 42`, `after: GET a` (repeat for
        /// more). Shows what it waits for and what it sees.
        #[arg(long = "other", value_name = "WHEN: COMMAND")]
        others: Vec<String>,
        /// Step the script on a real server through its Lua debugger (LDB),
        /// e.g. redis://127.0.0.1:6379, redis://user:pass@host:port/db.
        #[arg(long, value_name = "URL", conflicts_with = "compare")]
        redis: Option<String>,
        /// With --redis: `forked` (Redis forks for the session; the server's
        /// data is untouched afterwards) or `sync` (the writes stay; the
        /// server is blocked while the script is stepped).
        #[arg(long, value_name = "MODE", default_value = "forked", value_parser = ["forked", "sync"])]
        ldb: String,
        /// Allow --ldb sync on a server that is not on this machine.
        #[arg(long)]
        allow_blocking: bool,
        /// Run the script on this server (forked: nothing changes there) and
        /// on the embedded engine with the same keys, and print the first
        /// step where the two differ; exit 1 on a difference.
        #[arg(long, value_name = "URL")]
        compare: Option<String>,
        /// Answer as node 1 of an N-master Redis Cluster (default 3): CROSSSLOT,
        /// MOVED, the script cluster errors, CLUSTER SLOTS/NODES/....
        #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "3", conflicts_with_all = ["redis", "compare"])]
        cluster: Option<usize>,
        /// Keys, then a lone "," and the arguments: `k1 k2 , a1 a2`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// The post "Lua Scripts Are Not Atomic in Redis": its three scripts in
    /// the TUI, the whole story printed with --print, or its files written
    /// with --write DIR to replay it with `redstep run` or redis-cli.
    Demo {
        /// Print the story (replies, the error with its SHA1, the trace) instead of opening the TUI.
        #[arg(long, conflicts_with = "write")]
        print: bool,
        /// Write the post's scripts (init.lua, get.lua, inc.lua) and its
        /// setup (setup.txt, for `run --setup`) into DIR (created if
        /// missing; a different file already there is not overwritten).
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
        /// Play the guided walk by itself (init, get, inc to the failure,
        /// get again, another client) and record it as an asciicast v2 file
        /// (`asciinema play FILE.cast`), without a terminal.
        #[arg(long, value_name = "FILE.cast", conflicts_with_all = ["print", "write"])]
        record: Option<PathBuf>,
        /// Open the demo in presenter mode (as `redstep --present`).
        #[arg(long, conflicts_with_all = ["print", "write", "record"])]
        present: bool,
    },
    /// Find the partial writes before production does: run the script on a
    /// fresh keyspace for many inputs and report each way it dies after
    /// writing (Redis keeps those writes), shrunk to the smallest input,
    /// with a `redstep run` command that shows it. Exit status 1 when one
    /// is found.
    #[command(after_help = PROBE_HELP)]
    Probe {
        /// The starting keyspace: Redis commands, one per line (redis-cli quoting).
        #[arg(long, value_name = "FILE")]
        setup: Option<PathBuf>,
        /// A Redis command for the starting keyspace, e.g. -c 'SET a 42' (repeat for more).
        #[arg(short = 'c', long = "command", value_name = "COMMAND")]
        commands: Vec<String>,
        /// How many inputs to try at most.
        #[arg(long, default_value_t = 2000)]
        budget: usize,
        /// The seed of the random combinations (the same seed gives the same report).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the findings as JSON (see docs/probe-json.md).
        #[arg(long)]
        json: bool,
        /// One or more scripts (*.lua), then their keys, a lone "," and the
        /// arguments: `limit.lua rate:u1 , 10 60`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        words: Vec<String>,
    },
    /// Check or list lessons (for instructors writing their own).
    Lessons {
        #[command(subcommand)]
        action: LessonsCommand,
    },
    /// The TUI's settings file ($XDG_CONFIG_HOME/redstep/config.toml):
    /// key remapping per action and colours per role.
    Config {
        /// Print a config file with every action's default keys and every
        /// colour (commented out: uncomment what you change).
        #[arg(long)]
        print: bool,
        /// Check the config file in force (or FILE) and say what is wrong in it.
        #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "")]
        check: Option<PathBuf>,
    },
    /// Serve the embedded engine over RESP2 and RESP3 (redis-cli and client libraries work).
    Serve {
        #[arg(long, default_value_t = 6379)]
        port: u16,
        /// Address to listen on; anything but loopback exposes the engine to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Require clients to AUTH with this password first, as Redis's requirepass.
        #[arg(long, value_name = "PASSWORD")]
        requirepass: Option<String>,
        /// Answer as node 1 of an N-master Redis Cluster (default 3); the other
        /// nodes' addresses in MOVED and CLUSTER SLOTS are this port + 1, + 2, ...
        #[arg(long, value_name = "N", num_args = 0..=1, require_equals = true, default_missing_value = "3")]
        cluster: Option<usize>,
    },
}

/// Parses the process's arguments; the warnings are for stderr.
const PROBE_HELP: &str = "\
What probe tries, starting from the --setup/-c keyspace and the given KEYS/ARGV:
  each key the script touches (its KEYS and the keys it builds): absent; holding an
    integer, a float, text, an empty string, 9223372036854775807; a list, a hash, a
    set, a sorted set; its starting value with a TTL;
  each ARGV: empty, text, negative, zero, a float, very large, with spaces;
  one KEYS or one ARGV fewer than given.
First every single change, then random combinations (--seed) up to --budget inputs.
A failure after a write is reported once per way it happens (the lines that wrote, the
line that failed, the error), shrunk to the fewest changes, with a command that shows it.
It finds failures within these inputs and this budget; it proves nothing about others.";

pub fn parse() -> (Cli, Vec<String>) {
    let (args, warnings) = reorder_run_args(std::env::args_os().collect());
    (Cli::parse_from(args), warnings)
}

/// `redstep run` takes its options anywhere: before the script, between it
/// and its words, or among the words. This moves every option of `run` found
/// before a lone `--` ahead of the script, and puts the script and its words
/// after a `--`, so clap reads the words as they are (`-5`, `-inf`, `--x`).
/// Each option that stood among the script's words, and each unknown
/// `--word` there, gets a warning. Other argument lists are returned as they are.
pub(crate) fn reorder_run_args(args: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let name = match args.get(1).and_then(|a| a.to_str()) {
        Some(name @ ("run" | "probe")) => name.to_string(),
        _ => return (args, Vec::new()),
    };
    let mut cli = Cli::command();
    cli.build();
    let run = cli.find_subcommand(&name).expect("the subcommand");
    let options: Vec<&clap::Arg> = run.get_arguments().filter(|a| !a.is_positional()).collect();
    let find = |token: &str| -> Option<&clap::Arg> {
        if let Some(long) = token.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            options.iter().copied().find(|a| a.get_long() == Some(name))
        } else {
            let mut chars = token.chars();
            match (chars.next(), chars.next(), chars.next()) {
                (Some('-'), Some(c), None) => {
                    options.iter().copied().find(|a| a.get_short() == Some(c))
                }
                _ => None,
            }
        }
    };
    let mut head: Vec<OsString> = args[..2].to_vec();
    let mut file: Option<OsString> = None;
    let mut words: Vec<OsString> = Vec::new();
    let mut warnings = Vec::new();
    // The words after the script as typed, and where the first option
    // among them stood, for the hint.
    let mut typed: Vec<OsString> = Vec::new();
    let mut first_misplaced: Option<usize> = None;
    let mut rest = args[2..].iter().peekable();
    while let Some(token) = rest.next() {
        let text = token.to_str().unwrap_or("");
        let at = typed.len();
        if file.is_some() {
            typed.push(token.clone());
        }
        if text == "--" {
            if file.is_none() {
                file = rest.next().cloned();
            }
            words.extend(rest.by_ref().cloned());
            break;
        }
        let option = if file.is_none() && text.starts_with('-') && text.len() > 1 {
            // Before the script, clap reads every dash word (e.g. `-cSET`).
            Some(find(text))
        } else {
            find(text).map(Some)
        };
        let Some(option) = option else {
            if file.is_none() {
                file = Some(token.clone());
            } else {
                if text.starts_with("--") && text.len() > 2 {
                    warnings.push(format!(
                        "{text} is not an option of `redstep {name}`: it goes to the script as a key or argument (after a lone -- it would go without this warning)"
                    ));
                }
                words.push(token.clone());
            }
            continue;
        };
        let mut moved = vec![token.clone()];
        if let Some(arg) = option {
            let takes = arg.get_action().takes_values() && !text.contains('=') && {
                let short_attached = !text.starts_with("--") && text.len() > 2;
                !short_attached
            };
            if takes {
                let optional = arg.get_num_args().is_some_and(|n| n.min_values() == 0);
                let next = rest.peek().map(|t| t.to_str().unwrap_or(""));
                let value_fits = match next {
                    None | Some("--") => false,
                    Some(v) if optional => arg
                        .get_possible_values()
                        .iter()
                        .any(|p| p.matches(v, false)),
                    Some(_) => true,
                };
                if value_fits {
                    let value = rest.next().expect("peeked").clone();
                    if file.is_some() {
                        typed.push(value.clone());
                    }
                    // `--name=value`, so a value starting with `-` stays a value.
                    let mut joined = OsString::from(format!(
                        "--{}=",
                        arg.get_long().expect("run's options have long names")
                    ));
                    joined.push(&value);
                    moved = vec![joined];
                    if !words.is_empty() {
                        let shown = format!("{text} {}", shell_word(&value.to_string_lossy()));
                        warnings.push(misplaced(&shown));
                    }
                } else if !words.is_empty() {
                    warnings.push(misplaced(text));
                }
            } else if !words.is_empty() {
                warnings.push(misplaced(text));
            }
        }
        if !words.is_empty() && first_misplaced.is_none() {
            first_misplaced = Some(at);
        }
        head.extend(moved);
    }
    if let Some(at) = first_misplaced {
        let mut shown: Vec<String> = vec![format!("redstep {name}")];
        shown.extend(file.iter().map(|f| shell_word(&f.to_string_lossy())));
        shown.extend(typed[..at].iter().map(|w| shell_word(&w.to_string_lossy())));
        shown.push("--".into());
        shown.extend(typed[at..].iter().map(|w| shell_word(&w.to_string_lossy())));
        warnings.push(format!(
            "to pass such words to the script, write them after a lone --: {}",
            shown.join(" ")
        ));
    }
    head.push("--".into());
    head.extend(file);
    head.extend(words);
    // `probe` documents its options after the words: no warnings there.
    if name == "probe" {
        warnings.clear();
    }
    (head, warnings)
}

fn misplaced(option: &str) -> String {
    format!(
        "{option} among the script's words is taken as redstep's option, not as a key or argument"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reorder(args: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut all = vec!["redstep".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        let (out, warnings) = reorder_run_args(all.into_iter().map(OsString::from).collect());
        (
            out.into_iter()
                .skip(1)
                .map(|s| s.into_string().unwrap())
                .collect(),
            warnings,
        )
    }

    fn words_of(args: &[&str]) -> (Vec<String>, Option<String>, Vec<String>) {
        let mut all = vec!["redstep"];
        all.extend(args);
        let (out, _) = reorder_run_args(all.into_iter().map(OsString::from).collect());
        match Cli::try_parse_from(out).unwrap().command {
            Some(Command::Run {
                words,
                trace,
                commands,
                ..
            }) => (words, trace, commands),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_after_the_words_are_options_with_a_warning() {
        let (out, warnings) = reorder(&["run", "f.lua", "k1", ",", "a1", "--trace", "md"]);
        assert_eq!(out, ["run", "--trace=md", "--", "f.lua", "k1", ",", "a1"]);
        assert_eq!(
            warnings,
            [
                "--trace md among the script's words is taken as redstep's option, not as a key or argument",
                "to pass such words to the script, write them after a lone --: redstep run f.lua k1 , a1 -- --trace md",
            ]
        );
        assert_eq!(
            words_of(&["run", "f.lua", "k1", ",", "a1", "--trace", "md"]),
            (
                vec!["k1".into(), ",".into(), "a1".into()],
                Some("md".into()),
                vec![]
            )
        );
    }

    #[test]
    fn a_lone_double_dash_passes_the_rest_as_it_is() {
        let (words, trace, _) = words_of(&["run", "f.lua", "k1", ",", "--", "--trace", "--"]);
        assert_eq!(words, ["k1", ",", "--trace", "--"]);
        assert_eq!(trace, None);
        let (words, _, _) = words_of(&["run", "f.lua", "--", "--raw"]);
        assert_eq!(words, ["--raw"]);
        let (out, warnings) = reorder(&["run", "--", "-odd.lua", "--raw"]);
        assert_eq!(out, ["run", "--", "-odd.lua", "--raw"]);
        assert!(warnings.is_empty());
    }

    #[test]
    fn options_before_the_script_read_as_before_and_trace_takes_only_its_formats() {
        let (out, warnings) = reorder(&["run", "--raw", "f.lua", "--trace", "k1"]);
        assert_eq!(out, ["run", "--raw", "--trace", "--", "f.lua", "k1"]);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (words, trace, commands) = words_of(&[
            "run",
            "-c",
            "SET a 42",
            "f.lua",
            "-c",
            "-x",
            "--command=SET b 1",
            "k",
            ",",
            "-5",
            "-inf",
        ]);
        assert_eq!(words, ["k", ",", "-5", "-inf"]);
        assert_eq!(trace, None);
        assert_eq!(commands, ["SET a 42", "-x", "SET b 1"]);
    }

    #[test]
    fn a_command_among_the_words_is_shown_quoted() {
        let (out, warnings) = reorder(&["run", "f.lua", "k1", "-c", "SET a 1"]);
        assert_eq!(out, ["run", "--command=SET a 1", "--", "f.lua", "k1"]);
        assert_eq!(
            warnings,
            [
                "-c 'SET a 1' among the script's words is taken as redstep's option, not as a key or argument",
                "to pass such words to the script, write them after a lone --: redstep run f.lua k1 -- -c 'SET a 1'",
            ]
        );
    }

    #[test]
    fn an_unknown_double_dash_word_is_an_argument_with_a_warning() {
        let (out, warnings) = reorder(&["run", "f.lua", "k", ",", "--trce", "-1"]);
        assert_eq!(out, ["run", "--", "f.lua", "k", ",", "--trce", "-1"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("--trce is not an option of `redstep run`"));
    }

    #[test]
    fn probe_takes_its_options_after_the_words_without_warnings() {
        let (out, warnings) = reorder(&[
            "probe", "f.lua", "k", ",", "-1", "-c", "SET a 1", "--json", "--budget", "9",
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        match Cli::try_parse_from(
            std::iter::once(OsString::from("redstep")).chain(out.into_iter().map(OsString::from)),
        )
        .unwrap()
        .command
        {
            Some(Command::Probe {
                words,
                commands,
                budget,
                json,
                ..
            }) => {
                assert_eq!(words, ["f.lua", "k", ",", "-1"]);
                assert_eq!(commands, ["SET a 1"]);
                assert_eq!((budget, json), (9, true));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_commands_are_left_alone() {
        let (out, warnings) = reorder(&["exec", "SET", "--trace", "1"]);
        assert_eq!(out, ["exec", "SET", "--trace", "1"]);
        assert!(warnings.is_empty());
    }
}
