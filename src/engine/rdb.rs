//! Redis 7.0's DUMP serialization (RDB version 10): the object's RDB type
//! byte, its RDB encoding (listpacks, intsets, quicklist nodes, LZF-compressed
//! strings), the 2-byte RDB version and a CRC-64 (Jones, as Redis's
//! `crc64.c`) footer. Also MEMORY USAGE's estimate, which reuses the
//! encodings to size small values.

use std::collections::VecDeque;

use crc::{Crc, CRC_64_REDIS};

use super::numbers::{parse_f64, parse_i64};
use super::value::{
    Bytes, Consumer, Group, Hash, PendingEntry, Set, Stream, StreamFields, StreamId, StreamMeta,
    Value, ZSet, HASH_LISTPACK_ENTRIES, HASH_LISTPACK_VALUE, SET_INTSET_ENTRIES,
    ZSET_LISTPACK_ENTRIES, ZSET_LISTPACK_VALUE,
};
use crate::protocol::float::format_g;

pub(crate) const RDB_VERSION: u16 = 10;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

const QUICKLIST_PLAIN: u64 = 1;
const QUICKLIST_PACKED: u64 = 2;
/// `list-max-listpack-size -2`: listpacks of at most 8 kB per quicklist node.
const QUICKLIST_NODE_BYTES: usize = 8192;

const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

// ---- payload --------------------------------------------------------------

/// DUMP's payload for a value.
pub(crate) fn dump(value: &Value) -> Bytes {
    let mut out = Vec::new();
    match value {
        Value::String(s) => {
            out.push(TYPE_STRING);
            save_string(&mut out, s);
        }
        Value::List(items) => {
            out.push(TYPE_LIST_QUICKLIST_2);
            let nodes = quicklist_nodes(items);
            save_len(&mut out, nodes.len() as u64);
            for node in nodes {
                save_len(&mut out, QUICKLIST_PACKED);
                save_string(&mut out, &node);
            }
        }
        Value::Set(set) if set.intset => {
            out.push(TYPE_SET_INTSET);
            save_string(&mut out, &intset(set));
        }
        Value::Set(set) => {
            out.push(TYPE_SET);
            save_len(&mut out, set.members.len() as u64);
            for m in &set.members {
                save_string(&mut out, m);
            }
        }
        Value::Hash(h) if h.listpack => {
            out.push(TYPE_HASH_LISTPACK);
            let lp = listpack(h.map.iter().flat_map(|(f, v)| [f.as_slice(), v.as_slice()]));
            save_string(&mut out, &lp);
        }
        Value::Hash(h) => {
            out.push(TYPE_HASH);
            save_len(&mut out, h.map.len() as u64);
            for (f, v) in &h.map {
                save_string(&mut out, f);
                save_string(&mut out, v);
            }
        }
        Value::ZSet(z) if z.listpack => {
            out.push(TYPE_ZSET_LISTPACK);
            let scores: Vec<Bytes> = z.iter().map(|(_, s)| d2string(s)).collect();
            let lp = listpack(
                z.iter()
                    .zip(&scores)
                    .flat_map(|((m, _), s)| [m.as_slice(), s.as_slice()]),
            );
            save_string(&mut out, &lp);
        }
        Value::ZSet(z) => {
            // Redis saves a skiplist from the greatest element down.
            out.push(TYPE_ZSET_2);
            save_len(&mut out, z.len() as u64);
            for (m, s) in z.iter().rev() {
                save_string(&mut out, m);
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
        Value::Stream(stream) => {
            out.push(TYPE_STREAM_LISTPACKS_2);
            save_stream(&mut out, stream);
        }
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RDB_OPCODE_FUNCTION2: one library's code follows.
const OPCODE_FUNCTION2: u8 = 245;

/// FUNCTION DUMP's payload: each library's code after its opcode, then
/// the RDB version and the CRC-64, as Redis 7.0 writes it.
pub(crate) fn function_dump<'a>(codes: impl Iterator<Item = &'a [u8]>) -> Bytes {
    let mut out = Vec::new();
    for code in codes {
        out.push(OPCODE_FUNCTION2);
        save_string(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// RDB_OPCODE_FUNCTION: a library as Redis 7.0's release candidates wrote
/// it (name, engine, description, code without its `#!` line).
const OPCODE_FUNCTION: u8 = 246;

/// The libraries in a verified FUNCTION DUMP payload, as Redis 7.0's
/// functionRestoreCommand reads them: one after another while more than
/// the footer's 10 bytes are left (a string may read on into the footer),
/// each the library's code or the error that stops the restore.
pub(crate) fn function_items(
    payload: &[u8],
) -> impl Iterator<Item = Result<Bytes, &'static str>> + '_ {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || payload.len().saturating_sub(r.pos) <= 10 {
            return None;
        }
        let item = function_item(&mut r);
        failed = item.is_err();
        Some(item)
    })
}

fn function_item(r: &mut Reader<'_>) -> Result<Bytes, &'static str> {
    match r.byte() {
        Some(OPCODE_FUNCTION2) => r.string().ok_or("Failed loading library payload"),
        Some(OPCODE_FUNCTION) => {
            let name = r.string().ok_or("Failed loading library name")?;
            let engine = r.string().ok_or("Failed loading engine name")?;
            let (has_description, _) = r
                .len_or_enc()
                .ok_or("Failed loading library description indicator")?;
            if has_description != 0 {
                r.string().ok_or("Failed loading library description")?;
            }
            let blob = r.string().ok_or("Failed loading library blob")?;
            // Redis joins them with sdscatfmt's %s: each ends at a NUL.
            let c_str = |b: &[u8]| b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())].to_vec();
            let (name, engine, blob) = (c_str(&name), c_str(&engine), c_str(&blob));
            let mut code = b"#!".to_vec();
            code.extend_from_slice(&engine);
            code.extend_from_slice(b" name=");
            code.extend_from_slice(&name);
            code.push(b'\n');
            code.extend_from_slice(&blob);
            Ok(code)
        }
        Some(_) => Err("given type is not a function"),
        None => Err("can not read data type"),
    }
}

/// Redis's verifyDumpPayload: long enough, a version this server reads,
/// and the right checksum.
pub(crate) fn verify(payload: &[u8]) -> bool {
    if payload.len() < 10 {
        return false;
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return false;
    }
    let crc = crc64(&payload[..payload.len() - 8]);
    crc.to_le_bytes() == footer[2..]
}

/// Decodes a verified payload's object; None is Redis's `Bad data format`.
/// As Redis's rio over the whole payload, a truncated object reads on
/// into the footer, and bytes left after the object are ignored.
pub(crate) fn load(payload: &[u8]) -> Option<Value> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let kind = r.byte()?;
    let value = match kind {
        TYPE_STRING => Value::String(r.string()?),
        TYPE_LIST => {
            let n = r.len()?;
            let mut items = VecDeque::new();
            for _ in 0..n {
                items.push_back(r.string()?);
            }
            Value::List(items)
        }
        TYPE_LIST_QUICKLIST_2 => {
            let nodes = r.len()?;
            let mut items = VecDeque::new();
            for _ in 0..nodes {
                let container = r.len()?;
                let blob = r.string()?;
                match container {
                    QUICKLIST_PLAIN => items.push_back(blob),
                    QUICKLIST_PACKED => items.extend(read_listpack(&blob)?),
                    _ => return None,
                }
            }
            Value::List(items)
        }
        TYPE_SET => {
            let n = r.len()?;
            let mut members = Vec::new();
            for _ in 0..n {
                members.push(r.string()?);
            }
            make_set(members)?
        }
        TYPE_SET_INTSET => make_set(read_intset(&r.string()?)?)?,
        TYPE_HASH => {
            let n = r.len()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                pairs.push((r.string()?, r.string()?));
            }
            make_hash(pairs)?
        }
        TYPE_HASH_LISTPACK => {
            let flat = read_listpack(&r.string()?)?;
            if flat.len() % 2 != 0 {
                return None;
            }
            let mut it = flat.into_iter();
            let mut pairs = Vec::new();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                pairs.push((f, v));
            }
            make_hash(pairs)?
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let n = r.len()?;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let member = r.string()?;
                let score = if kind == TYPE_ZSET_2 {
                    f64::from_le_bytes(r.take(8)?.try_into().ok()?)
                } else {
                    r.text_double()?
                };
                if score.is_nan() {
                    return None;
                }
                pairs.push((member, score));
            }
            make_zset(pairs)?
        }
        TYPE_ZSET_LISTPACK => {
            let flat = read_listpack(&r.string()?)?;
            if flat.len() % 2 != 0 {
                return None;
            }
            let mut it = flat.into_iter();
            let mut pairs = Vec::new();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                pairs.push((m, parse_f64(&s)?));
            }
            make_zset(pairs)?
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => Value::Stream(Box::new(load_stream(
            &mut r,
            kind == TYPE_STREAM_LISTPACKS_2,
        )?)),
        _ => return None,
    };
    let empty = match &value {
        Value::String(_) => false,
        Value::List(l) => l.is_empty(),
        Value::Set(s) => s.members.is_empty(),
        Value::Hash(h) => h.map.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Stream(_) => false,
    };
    (!empty).then_some(value)
}

/// A set as rdbLoadObject leaves it: an intset while every member is an
/// integer and there are at most `set-max-intset-entries`.
fn make_set(members: Vec<Bytes>) -> Option<Value> {
    let mut set = Set {
        intset: members.len() <= SET_INTSET_ENTRIES
            && members.iter().all(|m| parse_i64(m).is_some()),
        ..Set::default()
    };
    for m in members {
        if !set.members.insert(m) {
            return None; // duplicate member
        }
    }
    Some(Value::Set(Box::new(set)))
}

fn make_hash(pairs: Vec<(Bytes, Bytes)>) -> Option<Value> {
    let mut h = Hash {
        listpack: pairs.len() <= HASH_LISTPACK_ENTRIES
            && pairs
                .iter()
                .all(|(f, v)| f.len() <= HASH_LISTPACK_VALUE && v.len() <= HASH_LISTPACK_VALUE),
        ..Hash::default()
    };
    for (f, v) in pairs {
        if h.map.insert(f, v).is_some() {
            return None; // duplicate field
        }
    }
    Some(Value::Hash(Box::new(h)))
}

fn make_zset(pairs: Vec<(Bytes, f64)>) -> Option<Value> {
    let mut z = ZSet::default();
    z.listpack = pairs.len() <= ZSET_LISTPACK_ENTRIES
        && pairs.iter().all(|(m, _)| m.len() <= ZSET_LISTPACK_VALUE);
    for (m, s) in pairs {
        if z.insert(m, s).is_some() {
            return None; // duplicate member
        }
    }
    Some(Value::ZSet(Box::new(z)))
}

// ---- RDB primitives -------------------------------------------------------

fn save_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | 0x40);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// rdbSaveRawString: small integers as integers, strings over 20 bytes
/// LZF-compressed when that saves at least 4 bytes, the rest as they are.
fn save_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = parse_i64(s) {
            if v.to_string().as_bytes() == s {
                if let Ok(v8) = i8::try_from(v) {
                    out.push(0xC0 | ENC_INT8);
                    out.push(v8 as u8);
                    return;
                } else if let Ok(v16) = i16::try_from(v) {
                    out.push(0xC0 | ENC_INT16);
                    out.extend_from_slice(&v16.to_le_bytes());
                    return;
                } else if let Ok(v32) = i32::try_from(v) {
                    out.push(0xC0 | ENC_INT32);
                    out.extend_from_slice(&v32.to_le_bytes());
                    return;
                }
            }
        }
    }
    if s.len() > 20 {
        if let Some(compressed) = lzf_compress(s) {
            out.push(0xC0 | ENC_LZF);
            save_len(out, compressed.len() as u64);
            save_len(out, s.len() as u64);
            out.extend_from_slice(&compressed);
            return;
        }
    }
    save_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Redis's rdbSaveLzfStringObject gives lzf_compress an output of `len - 4`
/// bytes and stores the string plainly when that does not suffice.
fn lzf_compress(s: &[u8]) -> Option<Bytes> {
    lzf_compress_into(s, s.len() - 4)
}

/// liblzf 3.6's lzf_compress as Redis builds it (HLOG 16, VERY_FAST), with
/// its output bound and its conservative "does it fit" tests, which decide
/// when Redis gives up compressing: the `lzf` crate's compressor has no
/// output bound, so DUMP's bytes would differ from Redis's near it. (The
/// crate decompresses.) Redis leaves its hash table uninitialised; a zeroed
/// one gives the same output unless stale slots happen to match.
fn lzf_compress_into(input: &[u8], out_len: usize) -> Option<Bytes> {
    const HLOG: u32 = 16;
    const HSIZE: u32 = 1 << HLOG;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    let idx =
        |h: u32| ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & (HSIZE - 1)) as usize;
    let mut htab = vec![0usize; HSIZE as usize];
    let mut out = vec![0u8; out_len + 3];
    let mut op: usize = 1; // start run
    let mut lit: usize = 0;
    let mut ip: usize = 0;
    let first = |p: usize| (u32::from(input[p]) << 8) | u32::from(*input.get(p + 1).unwrap_or(&0));
    let mut hval = first(0);
    while in_len >= 3 && ip < in_len - 2 {
        hval = (hval << 8) | u32::from(input[ip + 2]);
        let slot = idx(hval);
        let reference = htab[slot];
        htab[slot] = ip;
        let off = ip.wrapping_sub(reference).wrapping_sub(1);
        if off < MAX_OFF
            && reference > 0
            && input[reference + 2] == input[ip + 2]
            && input[reference] == input[ip]
            && input[reference + 1] == input[ip + 1]
        {
            let mut len: usize = 2;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            let not_lit = usize::from(lit == 0);
            if op + 3 + 1 >= out_len && op - not_lit + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= not_lit; // undo run if length is zero
            'scan: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[reference + len] != input[ip + len] {
                            break 'scan;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[reference + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // len is now #octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 2; // start run
            lit = 0;
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip;
            ip += 1;
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit as u8).wrapping_sub(1);
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    op -= usize::from(lit == 0);
    out.truncate(op);
    Some(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    /// A length, or (Err-free) the special encoding of a string.
    fn len_or_enc(&mut self) -> Option<(u64, bool)> {
        let first = self.byte()?;
        Some(match first >> 6 {
            0 => (u64::from(first & 0x3F), false),
            1 => (
                (u64::from(first & 0x3F) << 8) | u64::from(self.byte()?),
                false,
            ),
            2 => match first {
                0x80 => (
                    u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
                    false,
                ),
                0x81 => (u64::from_be_bytes(self.take(8)?.try_into().ok()?), false),
                _ => return None,
            },
            _ => (u64::from(first & 0x3F), true),
        })
    }

    fn len(&mut self) -> Option<u64> {
        match self.len_or_enc()? {
            (n, false) => Some(n),
            _ => None,
        }
    }

    fn string(&mut self) -> Option<Bytes> {
        let (n, encoded) = self.len_or_enc()?;
        if !encoded {
            return Some(self.take(usize::try_from(n).ok()?)?.to_vec());
        }
        match n as u8 {
            ENC_INT8 => Some((self.byte()? as i8).to_string().into_bytes()),
            ENC_INT16 => Some(
                i16::from_le_bytes(self.take(2)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            ENC_INT32 => Some(
                i32::from_le_bytes(self.take(4)?.try_into().ok()?)
                    .to_string()
                    .into_bytes(),
            ),
            ENC_LZF => {
                let clen = usize::try_from(self.len()?).ok()?;
                let len = usize::try_from(self.len()?).ok()?;
                let data = self.take(clen)?;
                // A back reference of 2 or 3 bytes makes at most 264: a
                // longer claim is corrupt (and must not size an allocation).
                if len == 0 || len > clen.saturating_mul(132) {
                    return None;
                }
                let out = lzf::decompress(data, len).ok()?;
                (out.len() == len).then_some(out)
            }
            _ => None,
        }
    }

    /// The old ZSET type's score: a length byte then text (253 nan, 254
    /// inf, 255 -inf).
    fn text_double(&mut self) -> Option<f64> {
        match self.byte()? {
            255 => Some(f64::NEG_INFINITY),
            254 => Some(f64::INFINITY),
            253 => Some(f64::NAN),
            n => parse_f64(self.take(usize::from(n))?),
        }
    }
}

// ---- listpack, intset, quicklist -------------------------------------------

/// lpStringToInt64: the integer a listpack would store this string as.
fn lp_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    parse_i64(s)
}

/// One listpack entry (encoding and data, without the back length).
fn lp_entry(out: &mut Vec<u8>, s: &[u8]) {
    if let Some(v) = lp_int(s) {
        if (0..=127).contains(&v) {
            out.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1i64 << 13) + v } else { v } as u16;
            out.push(((u >> 8) as u8) | 0xC0);
            out.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            out.push(0xF1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            out.push(0xF2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
            out.push(0xF3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            out.push(0xF4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    } else if s.len() < 64 {
        out.push(0x80 | s.len() as u8);
        out.extend_from_slice(s);
    } else if s.len() < 4096 {
        out.push(((s.len() >> 8) as u8) | 0xE0);
        out.push(s.len() as u8);
        out.extend_from_slice(s);
    } else {
        out.push(0xF0);
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    }
}

fn lp_backlen(out: &mut Vec<u8>, l: usize) {
    if l <= 127 {
        out.push(l as u8);
    } else if l < 16383 {
        out.push((l >> 7) as u8);
        out.push((l & 127) as u8 | 128);
    } else if l < 2_097_151 {
        out.push((l >> 14) as u8);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    } else if l < 268_435_455 {
        out.push((l >> 21) as u8);
        out.push(((l >> 14) & 127) as u8 | 128);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    } else {
        out.push((l >> 28) as u8);
        out.push(((l >> 21) & 127) as u8 | 128);
        out.push(((l >> 14) & 127) as u8 | 128);
        out.push(((l >> 7) & 127) as u8 | 128);
        out.push((l & 127) as u8 | 128);
    }
}

/// The bytes one element takes in a listpack.
fn lp_element(s: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    lp_entry(&mut e, s);
    let l = e.len();
    lp_backlen(&mut e, l);
    e
}

fn lp_finish(count: usize, body: &[u8]) -> Bytes {
    let total = 6 + body.len() + 1;
    let mut lp = Vec::with_capacity(total);
    lp.extend_from_slice(&(total as u32).to_le_bytes());
    lp.extend_from_slice(&(count.min(65535) as u16).to_le_bytes());
    lp.extend_from_slice(body);
    lp.push(0xFF);
    lp
}

pub(crate) fn listpack<'a>(items: impl Iterator<Item = &'a [u8]>) -> Bytes {
    let mut body = Vec::new();
    let mut count = 0;
    for s in items {
        body.extend_from_slice(&lp_element(s));
        count += 1;
    }
    lp_finish(count, &body)
}

fn read_listpack(lp: &[u8]) -> Option<Vec<Bytes>> {
    if lp.len() < 7 || u32::from_le_bytes(lp[..4].try_into().ok()?) as usize != lp.len() {
        return None;
    }
    let mut pos = 6;
    let mut items = Vec::new();
    loop {
        let b = *lp.get(pos)?;
        if b == 0xFF {
            break;
        }
        let start = pos;
        let int = |bytes: &[u8], bits: u32| -> i64 {
            let mut u: u64 = 0;
            for (i, b) in bytes.iter().enumerate() {
                u |= u64::from(*b) << (8 * i);
            }
            // sign-extend from `bits`
            ((u << (64 - bits)) as i64) >> (64 - bits)
        };
        let item: Bytes = if b & 0x80 == 0 {
            pos += 1;
            i64::from(b).to_string().into_bytes()
        } else if b & 0xC0 == 0x80 {
            let n = usize::from(b & 0x3F);
            pos += 1 + n;
            lp.get(start + 1..pos)?.to_vec()
        } else if b & 0xE0 == 0xC0 {
            let u = (u64::from(b & 0x1F) << 8) | u64::from(*lp.get(pos + 1)?);
            pos += 2;
            int(&u.to_le_bytes()[..2], 13).to_string().into_bytes()
        } else if b & 0xF0 == 0xE0 {
            let n = (usize::from(b & 0x0F) << 8) | usize::from(*lp.get(pos + 1)?);
            pos += 2 + n;
            lp.get(start + 2..pos)?.to_vec()
        } else {
            let (width, bits) = match b {
                0xF1 => (2, 16),
                0xF2 => (3, 24),
                0xF3 => (4, 32),
                0xF4 => (8, 64),
                0xF0 => {
                    let n = u32::from_le_bytes(lp.get(pos + 1..pos + 5)?.try_into().ok()?);
                    pos += 5 + n as usize;
                    let s = lp.get(start + 5..pos)?.to_vec();
                    items.push(s);
                    pos += backlen_size(pos - start);
                    continue;
                }
                _ => return None,
            };
            pos += 1 + width;
            int(lp.get(start + 1..pos)?, bits).to_string().into_bytes()
        };
        pos += backlen_size(pos - start);
        items.push(item);
    }
    (pos + 1 == lp.len()).then_some(items)
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// An intset's bytes: encoding (2, 4 or 8), count, sorted little-endian
/// values, at the smallest width that holds them all.
fn intset(set: &Set) -> Bytes {
    let mut values: Vec<i64> = set.members.iter().filter_map(|m| parse_i64(m)).collect();
    values.sort_unstable();
    let width: usize = if values.iter().all(|v| i16::try_from(*v).is_ok()) {
        2
    } else if values.iter().all(|v| i32::try_from(*v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + width * values.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

fn read_intset(blob: &[u8]) -> Option<Vec<Bytes>> {
    if blob.len() < 8 {
        return None;
    }
    let width = u32::from_le_bytes(blob[..4].try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob[4..8].try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() != 8 + width * count {
        return None;
    }
    let mut out = Vec::with_capacity(count);
    let mut last = None;
    for chunk in blob[8..].chunks(width) {
        let v = match width {
            2 => i64::from(i16::from_le_bytes(chunk.try_into().ok()?)),
            4 => i64::from(i32::from_le_bytes(chunk.try_into().ok()?)),
            _ => i64::from_le_bytes(chunk.try_into().ok()?),
        };
        if last.is_some_and(|l| l >= v) {
            return None;
        }
        last = Some(v);
        out.push(v.to_string().into_bytes());
    }
    Some(out)
}

/// A list as 7.0's quicklist holds it after RPUSHes: listpack nodes that
/// take elements while Redis's size estimate stays within 8 kB. (A list
/// edited in the middle or popped may have other node bounds in Redis:
/// the payload still restores to the same list.)
fn quicklist_nodes(items: &VecDeque<Bytes>) -> Vec<Bytes> {
    let mut nodes = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    let mut count = 0;
    for s in items {
        // _quicklistNodeAllowInsert: the node's size plus the element plus
        // SIZE_ESTIMATE_OVERHEAD (8) must stay within the limit.
        let sz = s.len();
        let overhead = 8;
        let node_sz = 6 + body.len() + 1;
        if count > 0 && node_sz + sz + overhead > QUICKLIST_NODE_BYTES {
            nodes.push(lp_finish(count, &body));
            body.clear();
            count = 0;
        }
        body.extend_from_slice(&lp_element(s));
        count += 1;
    }
    if count > 0 {
        nodes.push(lp_finish(count, &body));
    }
    nodes
}

/// Redis's d2string, which zset listpacks store scores with.
fn d2string(score: f64) -> Bytes {
    if score.is_nan() {
        return b"nan".to_vec();
    }
    if score.is_infinite() {
        return if score > 0.0 {
            b"inf".to_vec()
        } else {
            b"-inf".to_vec()
        };
    }
    if score == 0.0 {
        return if score.is_sign_negative() {
            b"-0".to_vec()
        } else {
            b"0".to_vec()
        };
    }
    let min = -4_503_599_627_370_495.0;
    let max = 4_503_599_627_370_496.0;
    if score > min && score < max && score == (score as i64) as f64 {
        return (score as i64).to_string().into_bytes();
    }
    format_g(score, 17).into_bytes()
}

// ---- MEMORY USAGE ---------------------------------------------------------

/// jemalloc's size class for an allocation of `n` bytes.
pub(crate) fn jemalloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let group = (n - 1).next_power_of_two() / 2; // the class group's base
    let step = group / 4;
    n.div_ceil(step) * step
}

/// sdsZmallocSize of an sds string of `len` bytes made to measure.
fn sds_size(len: usize) -> usize {
    let header = match len {
        0..=31 => 1,
        32..=255 => 3,
        256..=65535 => 5,
        _ => 9,
    };
    jemalloc_size(header + len + 1)
}

const ROBJ: usize = 16;
const DICT_ENTRY: usize = 24;
const DICT: usize = 56;
const QUICKLIST: usize = 40;
const QUICKLIST_NODE: usize = 40;
const ZSET_STRUCT: usize = 16;
const SKIPLIST: usize = 32;
/// The skiplist's header node, of 32 levels.
const SKIPLIST_HEADER: usize = 640;
/// A skiplist node of the average height (levels grow with p = 1/4):
/// jemalloc's 48, 64, 80... weighted by 3/4, 3/16, 3/64...
const SKIPLIST_NODE: usize = 53;

/// MEMORY USAGE's estimate for a key: Redis's objectComputeSize with
/// jemalloc's size classes, sampling `samples` elements of big values.
/// `encoding` is OBJECT ENCODING's answer (a string's `int`, `embstr`, `raw`).
pub(crate) fn memory_usage(key: &[u8], value: &Value, encoding: &str, samples: usize) -> usize {
    let samples = samples.max(1);
    let average = |sizes: &mut dyn Iterator<Item = usize>, n: usize| -> usize {
        let taken: Vec<usize> = sizes.take(samples).collect();
        if taken.is_empty() {
            0
        } else {
            (taken.iter().sum::<usize>() as f64 / taken.len() as f64 * n as f64) as usize
        }
    };
    let dict_slots = |n: usize| n.max(4).next_power_of_two();
    let object = match value {
        Value::String(_) if encoding == "int" => ROBJ,
        Value::String(s) if encoding == "embstr" => jemalloc_size(ROBJ + 3 + s.len() + 1),
        Value::String(s) => ROBJ + sds_size(s.len()),
        Value::List(items) => {
            let nodes = quicklist_nodes(items);
            let n = nodes.len();
            ROBJ + QUICKLIST
                + average(
                    &mut nodes
                        .iter()
                        .map(|lp| QUICKLIST_NODE + jemalloc_size(lp.len())),
                    n,
                )
        }
        Value::Set(set) if set.intset => ROBJ + jemalloc_size(intset(set).len()),
        Value::Set(set) => {
            let n = set.members.len();
            ROBJ + DICT
                + 8 * dict_slots(n)
                + average(
                    &mut set.members.iter().map(|m| DICT_ENTRY + sds_size(m.len())),
                    n,
                )
        }
        Value::Hash(h) if h.listpack => {
            ROBJ + jemalloc_size(
                listpack(h.map.iter().flat_map(|(f, v)| [f.as_slice(), v.as_slice()])).len(),
            )
        }
        Value::Hash(h) => {
            let n = h.map.len();
            ROBJ + DICT
                + 8 * dict_slots(n)
                + average(
                    &mut h
                        .map
                        .iter()
                        .map(|(f, v)| DICT_ENTRY + sds_size(f.len()) + sds_size(v.len())),
                    n,
                )
        }
        Value::ZSet(z) if z.listpack => {
            let scores: Vec<Bytes> = z.iter().map(|(_, s)| d2string(s)).collect();
            ROBJ + jemalloc_size(
                listpack(
                    z.iter()
                        .zip(&scores)
                        .flat_map(|((m, _), s)| [m.as_slice(), s.as_slice()]),
                )
                .len(),
            )
        }
        Value::ZSet(z) => {
            let n = z.len();
            ROBJ + ZSET_STRUCT
                + DICT
                + 8 * dict_slots(n)
                + SKIPLIST
                + SKIPLIST_HEADER
                + average(
                    &mut z
                        .iter()
                        .map(|(m, _)| sds_size(m.len()) + SKIPLIST_NODE + DICT_ENTRY),
                    n,
                )
        }
        Value::Stream(s) => {
            // sizeof(stream), streamRadixTreeMemoryUsage's figure for one
            // key per node, the nodes' listpacks (sampled), and the groups
            // with their pending entries and consumers, roughly.
            let nodes = stream_nodes(s);
            let n = nodes.len();
            let groups: usize = s
                .groups
                .values()
                .map(|g| 64 + g.pel.len() * 56 + g.consumers.len() * 64)
                .sum();
            ROBJ + 80
                + n * 16
                + (n + 1) * (4 + 8 * 30)
                + average(
                    &mut nodes
                        .iter()
                        .map(|node| jemalloc_size(node.listpack().len())),
                    n,
                )
                + groups
        }
    };
    object + sds_size(key.len()) + DICT_ENTRY
}

// ---- streams --------------------------------------------------------------

const STREAM_ITEM_DELETED: i64 = 1;
const STREAM_ITEM_SAMEFIELDS: i64 = 2;

fn stream_id_bytes(id: StreamId) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&id.ms.to_be_bytes());
    key[8..].copy_from_slice(&id.seq.to_be_bytes());
    key
}

fn int_text(v: i64) -> Bytes {
    v.to_string().into_bytes()
}

/// One radix-tree node as streamAppendItem builds it: a master entry (the
/// first entry's fields), then each entry as flags, id deltas from the
/// master id, its values (and field names unless they are the master's),
/// and its element count.
struct StreamNode {
    master: StreamId,
    master_fields: Vec<Bytes>,
    count: usize,
    elements: Vec<Bytes>,
}

impl StreamNode {
    fn listpack(&self) -> Bytes {
        let mut items: Vec<Bytes> = vec![
            int_text(self.count as i64),
            int_text(0),
            int_text(self.master_fields.len() as i64),
        ];
        items.extend(self.master_fields.iter().cloned());
        items.push(int_text(0));
        items.extend(self.elements.iter().cloned());
        listpack(items.iter().map(|i| i.as_slice()))
    }
}

fn stream_nodes(stream: &Stream) -> Vec<StreamNode> {
    // Redis's nodes as the stream's model has them (a stream built some
    // other way gets them by appending its entries again).
    let rebuilt;
    let model = if stream.nodes.is_empty() && !stream.entries.is_empty() {
        let mut s = Stream::default();
        for (id, fields) in &stream.entries {
            s.append(*id, fields.clone(), &Default::default());
        }
        rebuilt = s.nodes;
        &rebuilt
    } else {
        &stream.nodes
    };
    let mut nodes: Vec<StreamNode> = Vec::new();
    let mut keys = model.iter().peekable();
    while let Some((&key, model_node)) = keys.next() {
        let range = match keys.peek() {
            Some((next, _)) => stream.entries.range(key..**next),
            None => stream.entries.range(key..),
        };
        let mut fresh = true;
        for (id, fields) in range {
            if fresh {
                // A node whose entries were all deleted is not saved (its
                // deleted entries are not kept).
                fresh = false;
                nodes.push(StreamNode {
                    master: key,
                    master_fields: model_node.master_fields.to_vec(),
                    count: 0,
                    elements: Vec::new(),
                });
            }
            push_stream_entry(nodes.last_mut().expect("a node"), *id, fields);
        }
    }
    nodes
}

/// Appends one entry to a node being saved.
fn push_stream_entry(node: &mut StreamNode, id: StreamId, fields: &StreamFields) {
    {
        let same = node.master_fields.len() == fields.len()
            && node
                .master_fields
                .iter()
                .zip(fields)
                .all(|(m, (f, _))| m == f);
        let mut entry: Vec<Bytes> = vec![
            int_text(if same { STREAM_ITEM_SAMEFIELDS } else { 0 }),
            int_text(id.ms.wrapping_sub(node.master.ms) as i64),
            int_text(id.seq.wrapping_sub(node.master.seq) as i64),
        ];
        if same {
            entry.extend(fields.iter().map(|(_, v)| v.clone()));
        } else {
            entry.push(int_text(fields.len() as i64));
            for (f, v) in fields {
                entry.push(f.clone());
                entry.push(v.clone());
            }
        }
        let lp_count = fields.len() + if same { 0 } else { fields.len() + 1 } + 3;
        entry.push(int_text(lp_count as i64));
        node.elements.extend(entry);
        node.count += 1;
    }
}

fn save_time(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

fn save_stream(out: &mut Vec<u8>, stream: &Stream) {
    let nodes = stream_nodes(stream);
    save_len(out, nodes.len() as u64);
    for node in &nodes {
        save_string(out, &stream_id_bytes(node.master));
        save_string(out, &node.listpack());
    }
    let m = &stream.meta;
    save_len(out, stream.len() as u64);
    save_len(out, m.last_id.ms);
    save_len(out, m.last_id.seq);
    let first = stream.first_id();
    save_len(out, first.ms);
    save_len(out, first.seq);
    save_len(out, m.max_deleted.ms);
    save_len(out, m.max_deleted.seq);
    save_len(out, m.entries_added);
    save_len(out, stream.groups.len() as u64);
    for (name, group) in &stream.groups {
        save_string(out, name);
        save_len(out, group.last_id.ms);
        save_len(out, group.last_id.seq);
        save_len(out, group.entries_read.unwrap_or(u64::MAX));
        save_len(out, group.pel.len() as u64);
        for (id, pending) in &group.pel {
            out.extend_from_slice(&stream_id_bytes(*id));
            save_time(out, pending.delivery_time);
            save_len(out, pending.delivery_count);
        }
        save_len(out, group.consumers.len() as u64);
        for (name, consumer) in &group.consumers {
            save_string(out, name);
            save_time(out, consumer.seen_time);
            save_len(out, consumer.pending.len() as u64);
            for id in &consumer.pending {
                out.extend_from_slice(&stream_id_bytes(*id));
            }
        }
    }
}

fn read_id(bytes: &[u8]) -> Option<StreamId> {
    if bytes.len() != 16 {
        return None;
    }
    Some(StreamId::new(
        u64::from_be_bytes(bytes[..8].try_into().ok()?),
        u64::from_be_bytes(bytes[8..].try_into().ok()?),
    ))
}

fn load_stream(r: &mut Reader, v2: bool) -> Option<Stream> {
    let mut stream = Stream::default();
    let nodes = r.len()?;
    for _ in 0..nodes {
        let master = read_id(&r.string()?)?;
        let lp = r.string()?;
        let lp_len = lp.len();
        let items = read_listpack(&lp)?;
        let mut it = items.into_iter();
        let int = |it: &mut std::vec::IntoIter<Bytes>| parse_i64(&it.next()?);
        let count = int(&mut it)?;
        let deleted = int(&mut it)?;
        let nfields = usize::try_from(int(&mut it)?).ok()?;
        let mut master_fields = Vec::new();
        for _ in 0..nfields {
            master_fields.push(it.next()?);
        }
        int(&mut it)?; // the master entry's terminator
        let total = count.checked_add(deleted).filter(|t| *t > 0)?;
        let mut node = super::value::StreamNode {
            last: master,
            live: usize::try_from(count).ok()?,
            deleted: usize::try_from(deleted).ok()?,
            master_fields: master_fields.clone().into(),
            entry_bytes: 0,
        };
        node.entry_bytes = lp_len.saturating_sub(node.lp_bytes());
        for _ in 0..total {
            let flags = int(&mut it)?;
            let ms = master.ms.wrapping_add(int(&mut it)? as u64);
            let seq = master.seq.wrapping_add(int(&mut it)? as u64);
            let mut fields = Vec::new();
            if flags & STREAM_ITEM_SAMEFIELDS != 0 {
                for f in &master_fields {
                    fields.push((f.clone(), it.next()?));
                }
            } else {
                let n = int(&mut it)?;
                for _ in 0..n {
                    fields.push((it.next()?, it.next()?));
                }
            }
            int(&mut it)?; // lp-count
            node.last = StreamId::new(ms, seq);
            if flags & STREAM_ITEM_DELETED == 0 {
                stream.entries.insert(StreamId::new(ms, seq), fields);
            }
        }
        if it.next().is_some() {
            return None;
        }
        stream.nodes.insert(master, node);
    }
    let length = r.len()?;
    if length != stream.len() as u64 {
        return None;
    }
    let last_id = StreamId::new(r.len()?, r.len()?);
    let mut meta = StreamMeta {
        last_id,
        entries_added: length,
        max_deleted: StreamId::MIN,
    };
    if v2 {
        let _first = StreamId::new(r.len()?, r.len()?);
        meta.max_deleted = StreamId::new(r.len()?, r.len()?);
        meta.entries_added = r.len()?;
    }
    stream.meta = meta;
    let groups = r.len()?;
    for _ in 0..groups {
        let name = r.string()?;
        let mut group = Group {
            last_id: StreamId::new(r.len()?, r.len()?),
            ..Group::default()
        };
        group.entries_read = if v2 {
            Some(r.len()?).filter(|n| *n != u64::MAX)
        } else {
            stream.estimate_distance(group.last_id)
        };
        let pending = r.len()?;
        for _ in 0..pending {
            let id = read_id(r.take(16)?)?;
            let delivery_time = i64::from_le_bytes(r.take(8)?.try_into().ok()?);
            let delivery_count = r.len()?;
            group.pel.insert(
                id,
                PendingEntry {
                    consumer: Vec::new(),
                    delivery_time,
                    delivery_count,
                },
            );
        }
        let consumers = r.len()?;
        for _ in 0..consumers {
            let cname = r.string()?;
            let mut consumer = Consumer {
                seen_time: i64::from_le_bytes(r.take(8)?.try_into().ok()?),
                ..Consumer::default()
            };
            let owned = r.len()?;
            for _ in 0..owned {
                let id = read_id(r.take(16)?)?;
                group.pel.get_mut(&id)?.consumer = cname.clone();
                consumer.pending.insert(id);
            }
            group.consumers.insert(cname, consumer);
        }
        if group.pel.values().any(|p| p.consumer.is_empty()) {
            return None; // a pending entry no consumer owns
        }
        if stream.groups.insert(name, group).is_some() {
            return None;
        }
    }
    Some(stream)
}
