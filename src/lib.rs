//! redstep: a terminal playground that shows how Redis Lua scripts really
//! behave.
//!
//! Layers, each using only the ones below it (see `docs/ARCHITECTURE.md`;
//! `tests/layers.rs` fails on a `use` that goes up or across apps):
//!
//! - apps: `tui` (the screens: editor, keyspace, debugger, redis-cli,
//!   lesson), `server` (`redstep serve`: RESP2 and RESP3 over TCP), `run`
//!   and `exec` (headless), `demo` (the post); `cli` parses their arguments.
//! - `lessons`  — lesson files, their checks on a fresh engine, validation
//!   for instructors (used by the TUI and `redstep lessons`).
//! - `probe`    — the partial-write finder (`redstep probe`).
//! - `host`     — the one engine thread that owns the engine; every front
//!   end sends it commands over a channel.
//! - `remote`   — a real Redis as the debugger's backend (its Lua debugger,
//!   LDB), beside the engine thread.
//! - `trace`    — the recorder (a script run as a timeline of steps with
//!   inverse deltas), the debugger's view model (`trace::Session`), how
//!   values and changes read (`trace::words`), text/JSON/Markdown/HTML exports.
//! - `script`   — Lua 5.1 (through mlua's ffi): sandbox, `redis.*` API,
//!   conversions, EVAL and the script cache.
//! - `engine`   — Redis 7.0 semantics: keyspace, values, commands, replies.
//!   Knows nothing of Lua, threads, terminals or sockets.
//! - `protocol` — the RESP2/RESP3 codec, `Reply`, redis-cli quoting, reply
//!   formatting and argument helpers.
//!
//! Items are `pub(crate)` unless `main.rs`, a test or a bench needs them:
//! the public surface is what those use.

pub mod cli;
pub mod demo;
pub mod engine;
pub mod exec;
pub mod host;
pub mod lessons;
pub mod probe;
pub mod protocol;
pub mod remote;
pub mod run;
pub mod script;
pub mod server;
pub mod trace;
pub mod tui;
