//! redstep: a terminal playground that shows how Redis Lua scripts really
//! behave.
//!
//! Layers, each using only the ones below it (see `docs/ARCHITECTURE.md`):
//!
//! - apps: `tui` (the screens: editor, keyspace, debugger, redis-cli,
//!   lesson), `server` (`redstep serve`: RESP2 over TCP), `run` and `exec`
//!   (headless), `demo` (the post); `cli` parses their arguments.
//! - `lessons`  — lesson files, their checks on a fresh engine, validation
//!   for instructors (used by the TUI and `redstep lessons`).
//! - `host`     — the one engine thread that owns the engine; every front
//!   end sends it commands over a channel.
//! - `trace`    — the recorder (a script run as a timeline of steps with
//!   inverse deltas), the debugger's view model (`trace::Session`),
//!   text/JSON/Markdown exports.
//! - `script`   — Lua 5.1 (through mlua's ffi): sandbox, `redis.*` API,
//!   conversions, EVAL and the script cache.
//! - `engine`   — Redis 7.0 semantics: keyspace, values, commands, replies.
//!   Knows nothing of Lua, threads, terminals or sockets.
//! - `protocol` — the RESP2 codec, redis-cli quoting and reply formatting.

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
