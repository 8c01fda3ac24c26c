//! Command-line arguments (clap). Parsing only: each subcommand is run by
//! its own module.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
        /// Read commands from this file, one per line.
        #[arg(short = 'f', long = "file")]
        file: Option<PathBuf>,
        /// One command and its arguments, e.g. `SET a 42`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run a Lua script as `redis-cli --eval FILE KEY ... , ARG ...` would,
    /// then print every key it touched.
    Run {
        /// The script.
        file: PathBuf,
        /// Redis commands to run first, one per line (redis-cli quoting).
        #[arg(long)]
        setup: Option<PathBuf>,
        /// Print the reply as `redis-cli --raw` does.
        #[arg(long)]
        raw: bool,
        /// Print the whole run step by step: text (default), json or md.
        #[arg(long, num_args = 0..=1, default_missing_value = "text", value_parser = ["text", "json", "md"])]
        trace: Option<String>,
        /// Record at most this many steps (the script runs on; what it
        /// changes after that shows at its end).
        #[arg(long, default_value_t = 5_000_000)]
        trace_steps: usize,
        /// Stop the script when its trace passes this many megabytes.
        #[arg(long, default_value_t = 512)]
        trace_mb: usize,
        /// Keys, then a lone "," and the arguments: `k1 k2 , a1 a2`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
    /// The post "Lua Scripts Are Not Atomic in Redis": its three scripts in
    /// the TUI, or the whole story printed with --print.
    Demo {
        /// Print the story (replies, the error with its SHA1, the trace) instead of opening the TUI.
        #[arg(long)]
        print: bool,
    },
    /// Check or list lessons (for instructors writing their own).
    Lessons {
        #[command(subcommand)]
        action: LessonsCommand,
    },
    /// Serve the embedded engine over RESP2 (redis-cli and client libraries work).
    Serve {
        #[arg(long, default_value_t = 6379)]
        port: u16,
        /// Address to listen on; anything but loopback exposes the engine to the network.
        #[arg(long, default_value = "127.0.0.1")]
        bind: IpAddr,
        /// Require clients to AUTH with this password first, as Redis's requirepass.
        #[arg(long, value_name = "PASSWORD")]
        requirepass: Option<String>,
    },
}
