//! Wire and console formats: RESP2 (`resp`), and redis-cli's argument
//! splitting and reply printing (`cli`).

pub mod cli;
pub mod resp;
