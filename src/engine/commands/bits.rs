//! Bitmap commands (Redis's bitops.c): a bitmap is a string. Writes edit
//! the string in place through `Keyspace::string_patch`, so a step's undo
//! records the bytes it replaced, never the whole string.

use crate::engine::errors::{self, err};
use crate::engine::keyspace::StrEnc;
use crate::engine::notify::STRING;
use crate::engine::numbers::parse_i64;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::Value;
use crate::engine::{CommandResult, Ctx, Reply};

use super::eq;

const KEY1: (i32, i32, i32) = (1, 1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, KEY1, setbit),
    CommandSpec::new("getbit", 3, READONLY | FAST, KEY1, getbit),
    CommandSpec::new("bitcount", -2, READONLY, KEY1, bitcount),
    CommandSpec::new("bitpos", -3, READONLY, KEY1, bitpos),
    CommandSpec::new("bitop", -4, WRITE | DENYOOM, (2, -1, 1), bitop),
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, KEY1, bitfield),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, KEY1, bitfield_ro),
];

const BIT_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const BIT_ARG: &str = "ERR The bit argument must be 1 or 0.";
const BITOP_NOT: &str = "ERR BITOP NOT must be called with a single source key.";
const BITFIELD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BITFIELD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const BITFIELD_RO: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// getBitOffsetFromArgument: a bit offset, `#n` meaning n × `bits` when
/// `bits` is given, below the proto-max-bulk-len limit (in bytes).
fn bit_offset(ctx: &Ctx, i: usize, bits: Option<u32>) -> Result<u64, Reply> {
    let raw = ctx.arg(i);
    let hash = bits.is_some() && raw.first() == Some(&b'#');
    let n = parse_i64(&raw[hash as usize..]).ok_or_else(|| err(BIT_OFFSET))?;
    let n = match bits {
        Some(b) if hash => n.wrapping_mul(b as i64),
        _ => n,
    };
    if n < 0 || (n >> 3) >= ctx.engine.config.proto_max_bulk_len {
        return Err(err(BIT_OFFSET));
    }
    Ok(n as u64)
}

fn ll_arg(ctx: &Ctx, i: usize) -> Result<i64, Reply> {
    parse_i64(ctx.arg(i)).ok_or_else(|| err(errors::NOT_INTEGER))
}

/// The string at key 1 made long enough to hold byte `byte` (created
/// zero-filled if missing), as lookupStringForBitCommand, or WRONGTYPE.
/// True when it was created or grown (Redis's `dirty`).
fn string_for_write(ctx: &mut Ctx, byte: usize) -> Result<bool, Reply> {
    let key = ctx.arg(1).to_vec();
    let db = ctx.db();
    match ctx.string(&key)?.map(|s| s.len()) {
        None => {
            ctx.ks().put_string_as(
                db,
                &key,
                Value::String(vec![0; byte + 1]),
                None,
                StrEnc::Raw,
            );
            Ok(true)
        }
        Some(len) => {
            ctx.ks().string_make_raw(db, &key);
            if len <= byte {
                // Grows the string: only the last byte is recorded.
                ctx.ks().string_patch(db, &key, byte, &[0]);
            }
            Ok(len <= byte)
        }
    }
}

fn current_string<'a>(ctx: &'a Ctx, key: &[u8]) -> &'a [u8] {
    match ctx
        .engine
        .keyspace
        .db(ctx.db())
        .entry(key)
        .map(|e| &e.value)
    {
        Some(Value::String(s)) => s,
        _ => &[],
    }
}

fn setbit(ctx: &mut Ctx) -> CommandResult {
    let offset = bit_offset(ctx, 2, None)?;
    let on = parse_i64(ctx.arg(3)).ok_or_else(|| err(BIT_VALUE))?;
    if on & !1 != 0 {
        return Err(err(BIT_VALUE));
    }
    let byte = (offset >> 3) as usize;
    let bit = 7 - (offset & 7) as u8;
    let key = ctx.arg(1).to_vec();
    let db = ctx.db();
    let current = ctx.string(&key)?.map(|s| (s.len(), s.get(byte).copied()));
    let set = |old: u8| (old & !(1 << bit)) | ((on as u8) << bit);
    let Some((len, old)) = current else {
        let mut value = vec![0u8; byte + 1];
        value[byte] = set(0);
        ctx.ks()
            .put_string_as(db, &key, Value::String(value), None, StrEnc::Raw);
        ctx.notify(STRING, "setbit", &key);
        return Ok(Reply::Int(0));
    };
    ctx.ks().string_make_raw(db, &key);
    let old = old.unwrap_or(0);
    let was = old & (1 << bit) != 0;
    if set(old) != old || len <= byte {
        ctx.ks().string_patch(db, &key, byte, &[set(old)]);
        ctx.notify(STRING, "setbit", &key);
    }
    Ok(Reply::Int(was as i64))
}

fn getbit(ctx: &mut Ctx) -> CommandResult {
    let offset = bit_offset(ctx, 2, None)?;
    let key = ctx.arg(1).to_vec();
    let Some(s) = ctx.string(&key)? else {
        return Ok(Reply::Int(0));
    };
    let byte = (offset >> 3) as usize;
    let bit = 7 - (offset & 7);
    Ok(Reply::Int(
        s.get(byte).is_some_and(|b| b & (1 << bit) != 0) as i64
    ))
}

fn popcount(bytes: &[u8]) -> i64 {
    bytes.iter().map(|b| b.count_ones() as i64).sum()
}

fn bitcount(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let argc = ctx.argv.len();
    let Some(strlen) = ctx.string(&key)?.map(|s| s.len() as i64) else {
        return Ok(Reply::Int(0));
    };
    let (mut start, mut end);
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if argc == 4 || argc == 5 {
        let mut totlen = strlen;
        start = ll_arg(ctx, 2)?;
        end = ll_arg(ctx, 3)?;
        if start < 0 && end < 0 && start > end {
            return Ok(Reply::Int(0));
        }
        let mut isbit = false;
        if argc == 5 {
            if eq(ctx.arg(4), "bit") {
                isbit = true;
            } else if !eq(ctx.arg(4), "byte") {
                return Err(err(errors::SYNTAX));
            }
        }
        if isbit {
            totlen <<= 3;
        }
        if start < 0 {
            start += totlen;
        }
        if end < 0 {
            end += totlen;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= totlen {
            end = totlen - 1;
        }
        if isbit && start <= end {
            first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
            last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
    } else if argc == 2 {
        start = 0;
        end = strlen - 1;
    } else {
        return Err(err(errors::SYNTAX));
    }
    if start > end {
        return Ok(Reply::Int(0));
    }
    let p = current_string(ctx, &key);
    let (s, e) = (start as usize, end as usize);
    let mut count = popcount(&p[s..=e]);
    if first_mask != 0 {
        count -= (p[s] & first_mask).count_ones() as i64;
    }
    if last_mask != 0 {
        count -= (p[e] & last_mask).count_ones() as i64;
    }
    Ok(Reply::Int(count))
}

/// redisBitpos: the first bit equal to `bit`; for 0 and none, the bit just
/// past the bytes; for 1 and none, -1.
fn first_bit(bytes: &[u8], bit: bool) -> i64 {
    for (i, b) in bytes.iter().enumerate() {
        let b = if bit { *b } else { !*b };
        if b != 0 {
            return i as i64 * 8 + b.leading_zeros() as i64;
        }
    }
    if bit {
        -1
    } else {
        bytes.len() as i64 * 8
    }
}

fn bitpos(ctx: &mut Ctx) -> CommandResult {
    let bit = ll_arg(ctx, 2)?;
    if bit != 0 && bit != 1 {
        return Err(err(BIT_ARG));
    }
    let bit = bit == 1;
    let key = ctx.arg(1).to_vec();
    let argc = ctx.argv.len();
    let Some(strlen) = ctx.string(&key)?.map(|s| s.len() as i64) else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let (mut start, mut end);
    let mut end_given = false;
    let (mut first_mask, mut last_mask) = (0u8, 0u8);
    if (4..=6).contains(&argc) {
        let mut totlen = strlen;
        start = ll_arg(ctx, 3)?;
        let mut isbit = false;
        if argc == 6 {
            if eq(ctx.arg(5), "bit") {
                isbit = true;
            } else if !eq(ctx.arg(5), "byte") {
                return Err(err(errors::SYNTAX));
            }
        }
        if argc >= 5 {
            end = ll_arg(ctx, 4)?;
            end_given = true;
        } else if isbit {
            end = (totlen << 3) + 7;
        } else {
            end = totlen - 1;
        }
        if isbit {
            totlen <<= 3;
        }
        if start < 0 {
            start += totlen;
        }
        if end < 0 {
            end += totlen;
        }
        start = start.max(0);
        end = end.max(0);
        if end >= totlen {
            end = totlen - 1;
        }
        if isbit && start <= end {
            first_mask = !((1u32 << (8 - (start & 7))) - 1) as u8;
            last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
            start >>= 3;
            end >>= 3;
        }
    } else if argc == 3 {
        start = 0;
        end = strlen - 1;
    } else {
        return Err(err(errors::SYNTAX));
    }
    if start > end {
        return Ok(Reply::Int(-1));
    }
    let p = current_string(ctx, &key);
    let mut bytes = end - start + 1;
    let pos = 'result: {
        if first_mask != 0 {
            let mut c = if bit {
                p[start as usize] & !first_mask
            } else {
                p[start as usize] | first_mask
            };
            if last_mask != 0 && bytes == 1 {
                c = if bit { c & !last_mask } else { c | last_mask };
            }
            let pos = first_bit(&[c], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'result pos;
            }
            start += 1;
            bytes -= 1;
        }
        let curbytes = bytes - (last_mask != 0) as i64;
        if curbytes > 0 {
            let s = start as usize;
            let pos = first_bit(&p[s..s + curbytes as usize], bit);
            if bytes == curbytes || (pos != -1 && pos != curbytes << 3) {
                break 'result pos;
            }
            start += curbytes;
            bytes -= curbytes;
        }
        let c = if bit {
            p[end as usize] & !last_mask
        } else {
            p[end as usize] | last_mask
        };
        first_bit(&[c], bit)
    };
    if end_given && !bit && pos == bytes << 3 {
        return Ok(Reply::Int(-1));
    }
    Ok(Reply::Int(if pos != -1 { pos + (start << 3) } else { pos }))
}

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

fn bitop(ctx: &mut Ctx) -> CommandResult {
    let name = ctx.arg(1);
    let op = if eq(name, "and") {
        BitOp::And
    } else if eq(name, "or") {
        BitOp::Or
    } else if eq(name, "xor") {
        BitOp::Xor
    } else if eq(name, "not") {
        BitOp::Not
    } else {
        return Err(err(errors::SYNTAX));
    };
    if op == BitOp::Not && ctx.argv.len() != 4 {
        return Err(err(BITOP_NOT));
    }
    let mut sources = Vec::with_capacity(ctx.argv.len() - 3);
    for i in 3..ctx.argv.len() {
        let key = ctx.arg(i).to_vec();
        // lookupKeyRead: a missing source is a keymiss.
        sources.push(match ctx.lookup_read(&key).map(|e| &e.value) {
            None => Vec::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(err(errors::WRONGTYPE)),
        });
    }
    let maxlen = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let target = ctx.arg(2).to_vec();
    let db = ctx.db();
    if maxlen == 0 {
        ctx.delete_key(&target);
        return Ok(Reply::Int(0));
    }
    let at = |s: &Vec<u8>, j: usize| s.get(j).copied().unwrap_or(0);
    let mut res = vec![0u8; maxlen];
    for (j, out) in res.iter_mut().enumerate() {
        let mut o = at(&sources[0], j);
        if op == BitOp::Not {
            o = !o;
        }
        for s in &sources[1..] {
            match op {
                BitOp::And => o &= at(s, j),
                BitOp::Or => o |= at(s, j),
                BitOp::Xor => o ^= at(s, j),
                BitOp::Not => {}
            }
        }
        *out = o;
    }
    ctx.lookup(&target);
    ctx.ks()
        .put_string_as(db, &target, Value::String(res), None, StrEnc::Raw);
    ctx.notify(STRING, "set", &target);
    Ok(Reply::Int(maxlen as i64))
}

// ---- BITFIELD -------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    Incrby,
}

struct Field {
    op: FieldOp,
    offset: u64,
    value: i64,
    overflow: Overflow,
    bits: u32,
    signed: bool,
}

fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for j in 0..bits as u64 {
        let o = offset + j;
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        value = (value << 1) | ((byte >> (7 - (o & 7))) & 1) as u64;
    }
    value
}

fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let mut value = get_unsigned(p, offset, bits) as i64;
    if bits < 64 && value & (1i64 << (bits - 1)) != 0 {
        value |= -1i64 << bits;
    }
    value
}

/// checkUnsignedBitfieldOverflow: (overflowed, the value to store instead).
fn unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (bool, u64) {
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX.checked_shl(bits).unwrap_or(0));
    if value > max || (incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        (true, if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        (false, value.wrapping_add(incr as u64))
    }
}

/// checkSignedBitfieldOverflow: (overflowed, the value to store instead).
fn signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (bool, i64) {
    let max = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        (true, if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        (true, if ow == Overflow::Sat { min } else { wrap() })
    } else {
        (false, value.wrapping_add(incr))
    }
}

fn bitfield_type(raw: &[u8]) -> Option<(bool, u32)> {
    let signed = match raw.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return None,
    };
    let bits = parse_i64(&raw[1..])?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return None;
    }
    Some((signed, bits as u32))
}

fn bitfield(ctx: &mut Ctx) -> CommandResult {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx) -> CommandResult {
    bitfield_generic(ctx, true)
}

fn bitfield_generic(ctx: &mut Ctx, ro_command: bool) -> CommandResult {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut readonly = true;
    let mut highest: u64 = 0;
    let argc = ctx.argv.len();
    let mut j = 2;
    while j < argc {
        let remargs = argc - j - 1;
        let sub = ctx.arg(j);
        let op = if eq(sub, "get") && remargs >= 2 {
            FieldOp::Get
        } else if eq(sub, "set") && remargs >= 3 {
            FieldOp::Set
        } else if eq(sub, "incrby") && remargs >= 3 {
            FieldOp::Incrby
        } else if eq(sub, "overflow") && remargs >= 1 {
            let name = ctx.arg(j + 1);
            overflow = if eq(name, "wrap") {
                Overflow::Wrap
            } else if eq(name, "sat") {
                Overflow::Sat
            } else if eq(name, "fail") {
                Overflow::Fail
            } else {
                return Err(err(BITFIELD_OVERFLOW));
            };
            j += 2;
            continue;
        } else {
            return Err(err(errors::SYNTAX));
        };
        let (signed, bits) = bitfield_type(ctx.arg(j + 1)).ok_or_else(|| err(BITFIELD_TYPE))?;
        let offset = bit_offset(ctx, j + 2, Some(bits))?;
        let mut value = 0;
        if op != FieldOp::Get {
            readonly = false;
            highest = highest.max(offset + bits as u64 - 1);
            value = ll_arg(ctx, j + 3)?;
        }
        ops.push(Field {
            op,
            offset,
            value,
            overflow,
            bits,
            signed,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    let key = ctx.arg(1).to_vec();
    let db = ctx.db();
    let mut dirty = false;
    if readonly {
        // lookupKeyRead (BITFIELD with only GETs too).
        if let Some(v) = ctx.lookup_read(&key).map(|e| &e.value) {
            if !matches!(v, Value::String(_)) {
                return Err(err(errors::WRONGTYPE));
            }
        }
    } else {
        if ro_command {
            return Err(err(BITFIELD_RO));
        }
        dirty = string_for_write(ctx, (highest >> 3) as usize)?;
    }
    let mut changes = 0;
    let mut replies = Vec::with_capacity(ops.len());
    for f in &ops {
        let p = current_string(ctx, &key);
        if f.op == FieldOp::Get {
            replies.push(Reply::Int(if f.signed {
                get_signed(p, f.offset, f.bits)
            } else {
                get_unsigned(p, f.offset, f.bits) as i64
            }));
            continue;
        }
        // SET and INCRBY: the new value as raw bits, or None on FAIL.
        let (reply, store) = if f.signed {
            let old = get_signed(p, f.offset, f.bits);
            let (over, new, ret) = if f.op == FieldOp::Incrby {
                let (over, new) = signed_overflow(old, f.value, f.bits, f.overflow);
                (over, new, new)
            } else {
                let (over, wrapped) = signed_overflow(f.value, 0, f.bits, f.overflow);
                (over, if over { wrapped } else { f.value }, old)
            };
            if over && f.overflow == Overflow::Fail {
                (Reply::Nil, None)
            } else {
                (Reply::Int(ret), Some(new as u64))
            }
        } else {
            let old = get_unsigned(p, f.offset, f.bits);
            let (over, new, ret) = if f.op == FieldOp::Incrby {
                let (over, new) = unsigned_overflow(old, f.value, f.bits, f.overflow);
                (over, new, new)
            } else {
                let (over, wrapped) = unsigned_overflow(f.value as u64, 0, f.bits, f.overflow);
                (over, if over { wrapped } else { f.value as u64 }, old)
            };
            if over && f.overflow == Overflow::Fail {
                (Reply::Nil, None)
            } else {
                (Reply::Int(ret as i64), Some(new))
            }
        };
        replies.push(reply);
        if let Some(new) = store {
            let first = (f.offset >> 3) as usize;
            let last = ((f.offset + f.bits as u64 - 1) >> 3) as usize;
            let original = p[first..=last].to_vec();
            let mut patch = original.clone();
            for b in 0..f.bits as u64 {
                let o = f.offset + b - (first as u64) * 8;
                let mask = 1u8 << (7 - (o & 7));
                let byte = &mut patch[(o >> 3) as usize];
                if (new >> (f.bits as u64 - 1 - b)) & 1 != 0 {
                    *byte |= mask;
                } else {
                    *byte &= !mask;
                }
            }
            if patch != original {
                ctx.ks().string_patch(db, &key, first, &patch);
            }
            if dirty || patch != original {
                changes += 1;
            }
        }
    }
    if changes > 0 {
        ctx.notify(STRING, "setbit", &key);
    } else {
        // Creating the key is not a change Redis counts: nothing goes out.
        ctx.prevent_propagation();
    }
    Ok(Reply::Array(replies))
}
