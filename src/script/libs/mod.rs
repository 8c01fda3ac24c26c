//! The libraries Redis bundles into its Lua: `bit` (LuaBitOp), `struct`,
//! `cjson` and `cmsgpack`, written for redstep against Redis's behaviour.
//!
//! They follow the error-raising discipline of `script::lua`: the work
//! happens in functions returning `lua::Result`, so errors are raised only
//! after Rust values are dropped. (A Lua memory error raised inside a Lua
//! API call can still jump over a buffer; that leaks it, nothing worse.)

pub(crate) mod bit;
pub(crate) mod cjson;
pub(crate) mod cmsgpack;
pub(crate) mod structlib;

use super::lua::State;

/// Adds the four library tables to the globals.
///
/// # Safety
/// `state` must be a valid Lua state during setup.
pub(crate) unsafe fn register(state: State) {
    // Redis's order (luaLoadLibraries), which decides where each lands in
    // the globals.
    cjson::register(state);
    structlib::register(state);
    cmsgpack::register(state);
    bit::register(state);
}
