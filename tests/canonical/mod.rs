//! Replies in the canonical JSON of the recorded goldens
//! (`tests/golden/record.py`): `{"t":"bulk","v":"x"}`, `b64` for bytes that
//! are not UTF-8; RESP3 replies as a RESP2 client reads them.
#![allow(dead_code)]

use base64::Engine as _;
use redstep::engine::Reply;
use serde_json::{json, Value};

pub fn canon(kind: &str, bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => json!({"t": kind, "v": s}),
        Err(_) => {
            json!({"t": kind, "b64": base64::engine::general_purpose::STANDARD.encode(bytes)})
        }
    }
}

pub fn to_json(reply: &Reply) -> Value {
    match reply {
        Reply::Status(s) => canon("status", s),
        Reply::Error(e) => canon("error", e),
        Reply::Int(n) => json!({"t": "int", "v": n}),
        Reply::Bulk(b) => canon("bulk", b),
        Reply::Nil => json!({"t": "nil"}),
        Reply::NilArray => json!({"t": "nilarray"}),
        Reply::Array(items) => {
            json!({"t": "array", "v": items.iter().map(to_json).collect::<Vec<_>>()})
        }
        resp3 => to_json(&resp3.to_resp2()),
    }
}
