//! Wire and console formats: a command's `Reply`, RESP2 (`resp`), how
//! doubles are written (`float`), and redis-cli's argument splitting, reply
//! printing and `--eval` arguments (`cli`). Nothing here knows the engine.

pub mod cli;
pub(crate) mod float;
pub(crate) mod reply;
pub mod resp;

pub use reply::Reply;
