//! HyperLogLog (Redis 7.0.15's hyperloglog.c, byte for byte): a string
//! with a 16-byte `HYLL` header (encoding, cached cardinality) and either
//! the sparse opcodes (ZERO / XZERO / VAL) or 16384 dense 6-bit registers.
//! The hash (MurmurHash64A, seed 0xadc83b19), the sparse edits and merges,
//! the promotion to dense past `hll-sparse-max-bytes` (3000) and Ertl's
//! estimator are Redis's, so a value here and one from a real Redis are
//! interchangeable. Writes go through `string_patch` when the length does
//! not change, so a dense PFADD records the bytes it changed. A sparse
//! opcode running past register 16383 makes the value corrupt (INVALIDOBJ),
//! as in the installed 7.0.15, which carries the CVE-2025-32023 fix that
//! the 7.0.15 tag's source predates (tests/bits_hll_redis.rs compares them).

use crate::engine::errors::{self, err};
use crate::engine::keyspace::StrEnc;
use crate::engine::notify::STRING;
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, Value};
use crate::engine::{CommandResult, Ctx, Reply};

use super::eq;

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, (1, 1, 1), pfadd),
    // MAY_REPLICATE: it rewrites the cached count, so read-only scripts refuse it.
    CommandSpec::new("pfcount", -2, READONLY | MAY_REPLICATE, (1, -1, 1), pfcount),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, (1, -1, 1), pfmerge),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, (2, 2, 1), pfdebug),
    CommandSpec::new("pfselftest", 1, ADMIN, (0, 0, 0), pfselftest),
];

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";

const P: u32 = 14;
const Q: usize = 64 - P as usize;
pub(crate) const REGISTERS: usize = 1 << P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
pub(crate) const HDR: usize = 16;
pub(crate) const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// `hll-sparse-max-bytes`, Redis's default.
pub(crate) const SPARSE_MAX_BYTES: usize = 3000;

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

// ---- hashing -----------------------------------------------------------------

/// Austin Appleby's MurmurHash64A as Redis has it (little-endian reads).
pub(crate) fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4a7935bd1e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= (*b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// hllPatLen: (register index, run of zeros + 1).
fn pat_len(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc83b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- dense registers -------------------------------------------------------------

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_set_register(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let fb8 = 8 - fb;
    let v = val as u32;
    regs[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    regs[byte] |= (v << fb) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((REGISTER_MAX as u32) >> fb8) as u8;
        *next |= (v >> fb8) as u8;
    }
}

/// hllDenseSet: raises a register; true if it changed.
fn dense_set(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set_register(regs, i, count);
        true
    } else {
        false
    }
}

// ---- sparse opcodes ---------------------------------------------------------------

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}
fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}
fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}
fn zero_len(b: u8) -> usize {
    (b & 0x3f) as usize + 1
}
fn xzero_len(s: &[u8], p: usize) -> usize {
    ((((s[p] & 0x3f) as usize) << 8) | s.get(p + 1).copied().unwrap_or(0) as usize) + 1
}
fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}
fn val_len(b: u8) -> usize {
    (b & 0x3) as usize + 1
}
fn val_op(val: u8, len: usize) -> u8 {
    (((val - 1) << 2) | (len as u8 - 1)) | 0x80
}
fn zero_op(len: usize) -> u8 {
    (len - 1) as u8
}
fn xzero_op(len: usize) -> [u8; 2] {
    let l = len - 1;
    [((l >> 8) as u8) | 0x40, (l & 0xff) as u8]
}
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        seq.extend_from_slice(&xzero_op(len));
    } else {
        seq.push(zero_op(len));
    }
}

/// createHLLObject: the empty sparse HLL (all registers in XZERO runs).
pub(crate) fn empty() -> Bytes {
    let mut s = b"HYLL".to_vec();
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let run = left.min(XZERO_MAX_LEN);
        s.extend_from_slice(&xzero_op(run));
        left -= run;
    }
    s
}

fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// hllSparseToDense; false if the sparse data is corrupt.
fn sparse_to_dense(s: &mut Bytes) -> bool {
    if s[4] == DENSE {
        return true;
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = DENSE;
    let (mut idx, mut p) = (0usize, HDR);
    while p < s.len() {
        let b = s[p];
        let run = if is_zero(b) {
            zero_len(b)
        } else if is_xzero(b) {
            xzero_len(s, p)
        } else {
            val_len(b)
        };
        // An opcode past the last register makes the HLL corrupt
        // (the CVE-2025-32023 fix the installed 7.0.15 carries).
        if run + idx > REGISTERS {
            return false;
        }
        if is_val(b) {
            for _ in 0..run {
                dense_set_register(&mut dense[HDR..], idx, val_value(b));
                idx += 1;
            }
        } else {
            idx += run;
        }
        p += if is_xzero(b) { 2 } else { 1 };
    }
    if idx != REGISTERS {
        return false;
    }
    *s = dense;
    true
}

/// hllSparseSet: 1 if a register rose, 0 if not, -1 if corrupt.
fn sparse_set(s: &mut Bytes, index: usize, count: u8) -> i32 {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    let mut end = s.len();
    let (mut p, mut first, mut span) = (HDR, 0usize, 0usize);
    let mut prev: Option<usize> = None;
    while p < end {
        let b = s[p];
        let mut oplen = 1;
        if is_zero(b) {
            span = zero_len(b);
        } else if is_val(b) {
            span = val_len(b);
        } else {
            span = xzero_len(s, p);
            oplen = 2;
        }
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return -1;
    }
    let b = s[p];
    let (zero, xzero, val) = (is_zero(b), is_xzero(b), is_val(b));
    let runlen = if zero {
        zero_len(b)
    } else if xzero {
        xzero_len(s, p)
    } else {
        val_len(b)
    };
    let mut simple = false;
    if val {
        if val_value(b) >= count {
            return 0;
        }
        if runlen == 1 {
            s[p] = val_op(count, 1);
            simple = true;
        }
    }
    if !simple && zero && runlen == 1 {
        s[p] = val_op(count, 1);
        simple = true;
    }
    if !simple {
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        if zero || xzero {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        } else {
            let current = val_value(b);
            if index != first {
                seq.push(val_op(current, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(current, last - index));
            }
        }
        let oldlen = if xzero { 2 } else { 1 };
        if seq.len() > oldlen && s.len() + seq.len() - oldlen > SPARSE_MAX_BYTES {
            return promote(s, index, count);
        }
        let replaced = (p + oldlen).min(s.len());
        s.splice(p..replaced, seq);
        end = s.len();
    }
    // Step 4: merge adjacent VAL opcodes of equal value.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < end && scan > 0 {
        scan -= 1;
        let b = s[p];
        if is_xzero(b) {
            p += 2;
            continue;
        } else if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < end && is_val(s[p + 1]) {
            let (v1, v2) = (val_value(b), val_value(s[p + 1]));
            if v1 == v2 {
                let len = val_len(b) + val_len(s[p + 1]);
                if len <= VAL_MAX_LEN {
                    s[p + 1] = val_op(v1, len);
                    s.remove(p);
                    end -= 1;
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate_cache(s);
    1
}

fn promote(s: &mut Bytes, index: usize, count: u8) -> i32 {
    if !sparse_to_dense(s) {
        return -1;
    }
    dense_set(&mut s[HDR..], index, count);
    1
}

/// hllAdd: 1 if a register rose, 0 if not, -1 if corrupt.
fn add(s: &mut Bytes, element: &[u8]) -> i32 {
    let (index, count) = pat_len(element);
    match s[4] {
        DENSE => dense_set(&mut s[HDR..], index, count) as i32,
        SPARSE => sparse_set(s, index, count),
        _ => -1,
    }
}

// ---- estimator ---------------------------------------------------------------------

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prime = z;
        z += x * y;
        y += y;
        if z_prime == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prime = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z_prime == z {
            return z / 3.0;
        }
    }
}

/// hllCount's estimate from a register histogram (Ertl, arXiv:1702.01284).
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    let alpha_inf = 0.721_347_520_444_481_7_f64;
    (alpha_inf * m * m / z).round() as u64
}

/// The histogram of a valid HLL's registers; None if the sparse data does
/// not cover exactly 16384 registers.
fn histogram(s: &[u8]) -> Option<[u64; 64]> {
    let mut h = [0u64; 64];
    if s[4] == DENSE {
        for i in 0..REGISTERS {
            h[dense_get(&s[HDR..], i) as usize] += 1;
        }
        return Some(h);
    }
    let (mut idx, mut p) = (0usize, HDR);
    while p < s.len() {
        let b = s[p];
        if is_zero(b) {
            idx += zero_len(b);
            h[0] += zero_len(b) as u64;
            p += 1;
        } else if is_xzero(b) {
            let run = xzero_len(s, p);
            idx += run;
            h[0] += run as u64;
            p += 2;
        } else {
            idx += val_len(b);
            h[val_value(b) as usize] += val_len(b) as u64;
            p += 1;
        }
    }
    (idx == REGISTERS).then_some(h)
}

/// hllMerge: raises `max` to this HLL's registers; false if corrupt.
fn merge(max: &mut [u8], s: &[u8]) -> bool {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
        return true;
    }
    let (mut i, mut p) = (0usize, HDR);
    while p < s.len() {
        let b = s[p];
        let run = if is_zero(b) {
            zero_len(b)
        } else if is_xzero(b) {
            xzero_len(s, p)
        } else {
            val_len(b)
        };
        if run + i > REGISTERS {
            return false;
        }
        if is_val(b) {
            for m in &mut max[i..i + run] {
                *m = (*m).max(val_value(b));
            }
        }
        i += run;
        p += if is_xzero(b) { 2 } else { 1 };
    }
    i == REGISTERS
}

/// isHLLObjectOrReply's test of a string's bytes.
pub(crate) fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// For the keyspace pane: (estimated count, sparse?) of a string that is
/// an HLL; the cached count when valid.
pub(crate) fn describe(s: &[u8]) -> Option<(u64, bool)> {
    if !is_hll(s) {
        return None;
    }
    let card = u64::from_le_bytes(s[8..16].try_into().expect("8 bytes"));
    let count = if s[15] & 0x80 == 0 {
        card
    } else {
        estimate(&histogram(s)?)
    };
    Some((count, s[4] == SPARSE))
}

// ---- commands ---------------------------------------------------------------------

/// The HLL at `key`: None if missing, the NOT_HLL / WRONGTYPE error if not
/// one, with its expiry.
fn hll_value(ctx: &mut Ctx, key: &[u8]) -> Result<Option<(Bytes, Option<i64>)>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::String(s) if is_hll(s) => Ok(Some((s.clone(), e.expire_at))),
            Value::String(_) => Err(err(NOT_HLL)),
            _ => Err(err(errors::WRONGTYPE)),
        },
    }
}

/// Stores the edited HLL: in place (only the changed header and register
/// bytes are recorded) when its length did not change, else as a whole.
fn store(ctx: &mut Ctx, key: &[u8], old: Option<(&[u8], Option<i64>)>, new: Bytes) {
    let db = ctx.db();
    match old {
        Some((old, _)) if old.len() == new.len() => {
            for (from, to) in [(0, HDR), (HDR, new.len())] {
                let diff = |i: &usize| old[*i] != new[*i];
                let Some(first) = (from..to).find(diff) else {
                    continue;
                };
                let last = (from..to).rev().find(diff).expect("a first diff");
                ctx.ks().string_patch(db, key, first, &new[first..=last]);
            }
        }
        Some((_, expire)) => {
            ctx.ks()
                .put_string_as(db, key, Value::String(new), expire, StrEnc::Raw)
        }
        None => ctx
            .ks()
            .put_string_as(db, key, Value::String(new), None, StrEnc::Raw),
    }
}

/// dbUnshareStringValue: an existing HLL about to be edited is `raw`.
fn unshare(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.db();
    ctx.ks().string_make_raw(db, key);
}

fn pfadd(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let old = hll_value(ctx, &key)?;
    unshare(ctx, &key);
    let mut updated = old.is_none();
    let mut s = old.as_ref().map(|(s, _)| s.clone()).unwrap_or_else(empty);
    let mut corrupt = false;
    for i in 2..ctx.argv.len() {
        match add(&mut s, &ctx.argv[i]) {
            1 => updated = true,
            -1 => {
                corrupt = true;
                break;
            }
            _ => {}
        }
    }
    if updated && !corrupt {
        invalidate_cache(&mut s);
    }
    let old_ref = old.as_ref().map(|(s, e)| (s.as_slice(), *e));
    if old_ref.is_none_or(|(o, _)| o != s.as_slice()) {
        store(ctx, &key, old_ref, s);
    }
    if corrupt {
        return Err(err(INVALID));
    }
    if updated {
        ctx.notify(STRING, "pfadd", &key);
    }
    Ok(Reply::Int(updated as i64))
}

fn pfcount(ctx: &mut Ctx) -> CommandResult {
    if ctx.argv.len() > 2 {
        let mut max = vec![0u8; REGISTERS];
        for i in 1..ctx.argv.len() {
            let key = ctx.arg(i).to_vec();
            let Some((s, _)) = hll_value(ctx, &key)? else {
                continue;
            };
            if !merge(&mut max, &s) {
                return Err(err(INVALID));
            }
        }
        let mut h = [0u64; 64];
        for r in max {
            h[r as usize] += 1;
        }
        return Ok(Reply::Int(estimate(&h) as i64));
    }
    let key = ctx.arg(1).to_vec();
    let Some((s, expire)) = hll_value(ctx, &key)? else {
        return Ok(Reply::Int(0));
    };
    unshare(ctx, &key);
    if s[15] & 0x80 == 0 {
        let card = u64::from_le_bytes(s[8..16].try_into().expect("8 bytes"));
        return Ok(Reply::Int(card as i64));
    }
    let Some(h) = histogram(&s) else {
        return Err(err(INVALID));
    };
    let card = estimate(&h);
    let mut new = s.clone();
    new[8..16].copy_from_slice(&card.to_le_bytes());
    store(ctx, &key, Some((&s, expire)), new);
    Ok(Reply::Int(card as i64))
}

fn pfmerge(ctx: &mut Ctx) -> CommandResult {
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    for i in 1..ctx.argv.len() {
        let key = ctx.arg(i).to_vec();
        let Some((s, _)) = hll_value(ctx, &key)? else {
            // lookupKeyRead, the destination included.
            ctx.keymiss(&key);
            continue;
        };
        use_dense |= s[4] == DENSE;
        if !merge(&mut max, &s) {
            return Err(err(INVALID));
        }
    }
    let key = ctx.arg(1).to_vec();
    let old = hll_value(ctx, &key)?;
    unshare(ctx, &key);
    let mut s = old.as_ref().map(|(s, _)| s.clone()).unwrap_or_else(empty);
    if use_dense && !sparse_to_dense(&mut s) {
        return Err(err(INVALID));
    }
    for (j, &m) in max.iter().enumerate() {
        if m == 0 {
            continue;
        }
        if s[4] == DENSE {
            dense_set(&mut s[HDR..], j, m);
        } else {
            sparse_set(&mut s, j, m);
        }
    }
    invalidate_cache(&mut s);
    let old_ref = old.as_ref().map(|(s, e)| (s.as_slice(), *e));
    if old_ref.is_none_or(|(o, _)| o != s.as_slice()) {
        store(ctx, &key, old_ref, s);
    }
    ctx.notify(STRING, "pfadd", &key);
    // Redis counts every merge as a change: it always goes out.
    ctx.force_propagation();
    Ok(Reply::ok())
}

fn pfdebug(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(2).to_vec();
    let (s, expire) =
        hll_value(ctx, &key)?.ok_or_else(|| err("ERR The specified key does not exist"))?;
    unshare(ctx, &key);
    let sub = ctx.arg(1).to_vec();
    if eq(&sub, "getreg") || eq(&sub, "todense") {
        let converted = s[4] == SPARSE;
        let mut dense = s.clone();
        if converted {
            if !sparse_to_dense(&mut dense) {
                return Err(err(INVALID));
            }
            store(ctx, &key, Some((&s, expire)), dense.clone());
        }
        if eq(&sub, "todense") {
            return Ok(Reply::Int(converted as i64));
        }
        return Ok(Reply::Array(
            (0..REGISTERS)
                .map(|i| Reply::Int(dense_get(&dense[HDR..], i) as i64))
                .collect(),
        ));
    }
    if eq(&sub, "decode") {
        if s[4] != SPARSE {
            return Err(err("ERR HLL encoding is not sparse"));
        }
        let mut out = Vec::new();
        let mut p = HDR;
        while p < s.len() {
            let b = s[p];
            if is_zero(b) {
                out.push(format!("z:{}", zero_len(b)));
                p += 1;
            } else if is_xzero(b) {
                out.push(format!("Z:{}", xzero_len(&s, p)));
                p += 2;
            } else {
                out.push(format!("v:{},{}", val_value(b), val_len(b)));
                p += 1;
            }
        }
        return Ok(Reply::bulk(out.join(" ")));
    }
    if eq(&sub, "encoding") {
        return Ok(Reply::status(if s[4] == DENSE {
            "dense"
        } else {
            "sparse"
        }));
    }
    let mut text = b"ERR Unknown PFDEBUG subcommand '".to_vec();
    text.extend_from_slice(&sub);
    text.push(b'\'');
    Err(Reply::Error(errors::sanitize(text)))
}

/// PFSELFTEST: Redis's two tests, the second to 10^5 elements rather
/// than 10^7 (a teaching engine answers in well under a second).
fn pfselftest(_ctx: &mut Ctx) -> CommandResult {
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..10 {
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = rng.u8(..) & REGISTER_MAX;
            dense_set_register(&mut regs, i, *b);
        }
        for (i, b) in bytes.iter().enumerate() {
            let val = dense_get(&regs, i);
            if val != *b {
                return Err(Reply::error(format!(
                    "TESTFAILED Register {i} should be {b} but is {val}"
                )));
            }
        }
    }
    let mut dense = empty();
    sparse_to_dense(&mut dense);
    let mut sparse = empty();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let seed = rng.u64(..);
    let mut checkpoint: u64 = 1;
    for j in 1..=100_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        add(&mut dense, &ele);
        add(&mut sparse, &ele);
        if j == checkpoint {
            if (j as usize) < SPARSE_MAX_BYTES / 2 && sparse[4] != SPARSE {
                return Err(Reply::error("TESTFAILED sparse encoding not used"));
            }
            let count = estimate(&histogram(&dense).expect("valid"));
            if count != estimate(&histogram(&sparse).expect("valid")) {
                return Err(Reply::error("TESTFAILED dense/sparse disagree"));
            }
            let abserr = (checkpoint as i64 - count as i64).unsigned_abs();
            let maxerr = if j == 10 {
                1
            } else {
                (relerr * 6.0 * checkpoint as f64).ceil() as u64
            };
            if abserr > maxerr {
                return Err(Reply::error(format!(
                    "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
                )));
            }
            checkpoint *= 10;
        }
    }
    Ok(Reply::ok())
}
