//! Geo commands. A geo set is a sorted set whose scores are 52-bit
//! interleaved geohashes; everything here follows Redis 7.0.15's `geo.c`,
//! `geohash.c` and `geohash_helper.c`: the same encoding, the same nine-cell
//! search (and so the same order of unsorted results), the same haversine
//! and the same number formatting. Writes go through ZADD and the sorted-set
//! store, so deltas and undo need nothing new.

use super::eq;
use super::zsets::{store_zset, zadd};
use crate::engine::errors::{self, err};
use crate::engine::numbers::{
    c_cast_i64, format_f, format_human_long_double, parse_f64, parse_i64,
};
use crate::engine::table::{flags::*, CommandSpec};
use crate::engine::value::{Bytes, ZSet};
use crate::engine::{CommandResult, Ctx, Reply};

const KEY1: (i32, i32, i32) = (1, 1, 1);

pub(crate) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, WRITE | DENYOOM, KEY1, geoadd),
    CommandSpec::new("geopos", -2, READONLY, KEY1, geopos),
    CommandSpec::new("geodist", -4, READONLY, KEY1, geodist),
    CommandSpec::new("geohash", -2, READONLY, KEY1, geohash),
    CommandSpec::new("georadius", -6, WRITE | DENYOOM, KEY1, georadius),
    CommandSpec::new("georadius_ro", -6, READONLY, KEY1, georadius_ro),
    CommandSpec::new(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM,
        KEY1,
        georadiusbymember,
    ),
    CommandSpec::new(
        "georadiusbymember_ro",
        -5,
        READONLY,
        KEY1,
        georadiusbymember_ro,
    ),
    CommandSpec::new("geosearch", -7, READONLY, KEY1, geosearch),
    CommandSpec::new(
        "geosearchstore",
        -8,
        WRITE | DENYOOM,
        (1, 2, 1),
        geosearchstore,
    ),
];

const UNSUPPORTED_UNIT: &str = "ERR unsupported unit provided. please use M, KM, FT, MI";
const NEED_RADIUS: &str = "ERR need numeric radius";
const NEED_WIDTH: &str = "ERR need numeric width";
const NEED_HEIGHT: &str = "ERR need numeric height";
const RADIUS_NEGATIVE: &str = "ERR radius cannot be negative";
const BOX_NEGATIVE: &str = "ERR height or width cannot be negative";
const NO_MEMBER: &str = "ERR could not decode requested zset member";
const COUNT_POSITIVE: &str = "ERR COUNT must be > 0";
const ANY_NEEDS_COUNT: &str = "ERR the ANY argument requires COUNT argument";

// ---- geohash.c -----------------------------------------------------------------

const STEP_MAX: u8 = 26;
const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;

#[derive(Clone, Copy, PartialEq, Debug, Default)]
struct HashBits {
    bits: u64,
    step: u8,
}

impl HashBits {
    const ZERO: HashBits = HashBits { bits: 0, step: 0 };

    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// geohashAlign52Bits.
    fn align52(self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Default)]
struct Range {
    min: f64,
    max: f64,
}

const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

#[derive(Clone, Copy, Default)]
struct Area {
    longitude: Range,
    latitude: Range,
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (u64::from(xlo), u64::from(ylo));
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// geohashEncode: None outside the limits or the ranges.
fn encode(long_range: Range, lat_range: Range, lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_range.min || lat > lat_range.max || lon < long_range.min || lon > long_range.max {
        return None;
    }
    let mut lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (lon - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

fn encode_wgs84(lon: f64, lat: f64, step: u8) -> HashBits {
    encode(LONG_RANGE, LAT_RANGE, lon, lat, step).unwrap_or(HashBits { bits: 0, step })
}

/// geohashDecode (the caller checks for a zeroed hash).
fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Area {
    let step = hash.step;
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << step) as f64;
    Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) * 1.0 / div) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) * 1.0 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) * 1.0 / div) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) * 1.0 / div) * long_scale,
        },
    }
}

fn area_to_long_lat(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// A C cast of a double to `uint64_t` as gcc emits it on x86-64.
fn c_cast_u64(value: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if value >= TWO63 {
        (c_cast_i64(value - TWO63) as u64) ^ (1 << 63)
    } else {
        c_cast_i64(value) as u64
    }
}

/// decodeGeohash: the coordinates a sorted-set score stands for. Any
/// score decodes (a plain sorted set's too), as in Redis.
pub(crate) fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: c_cast_u64(score),
        step: STEP_MAX,
    };
    area_to_long_lat(&decode(LONG_RANGE, LAT_RANGE, hash))
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

/// The eight neighbours, in the order Redis searches them: north, south,
/// east, west, north-east, north-west, south-east, south-west.
fn neighbors(hash: HashBits) -> [HashBits; 8] {
    let moved = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    [
        moved(0, 1),
        moved(0, -1),
        moved(1, 0),
        moved(-1, 0),
        moved(1, 1),
        moved(-1, 1),
        moved(1, -1),
        moved(-1, -1),
    ]
}
const NORTH: usize = 0;
const SOUTH: usize = 1;
const EAST: usize = 2;
const WEST: usize = 3;
const NORTH_EAST: usize = 4;
const NORTH_WEST: usize = 5;
const SOUTH_EAST: usize = 6;
const SOUTH_WEST: usize = 7;

// ---- geohash_helper.c ----------------------------------------------------------

const D_R: f64 = std::f64::consts::PI / 180.0;
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;

fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

#[derive(Clone, Copy)]
enum ShapeKind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy)]
struct Shape {
    kind: ShapeKind,
    /// The centre: longitude, latitude.
    xy: [f64; 2],
    /// Metres per unit.
    conversion: f64,
}

/// geohashBoundingBox: min lon, min lat, max lon, max lat.
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Radius(r) => (shape.conversion * r, shape.conversion * r),
        ShapeKind::Box { width, height } => (
            shape.conversion * (height / 2.0),
            shape.conversion * (width / 2.0),
        ),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
    let long_delta_top =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom =
        rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    let delta = if southern {
        long_delta_bottom
    } else {
        long_delta_top
    };
    [
        longitude - delta,
        latitude - lat_delta,
        longitude + delta,
        latitude + lat_delta,
    ]
}

/// geohashCalculateAreasByShapeWGS84: the centre cell and its neighbours
/// (zeroed where useless), in search order.
fn areas_by_shape(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Radius(r) => r,
        ShapeKind::Box { width, height } => {
            ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
        }
    } * shape.conversion;
    let mut steps = estimate_steps_by_radius(radius_meters, latitude);
    let mut hash = encode_wgs84(longitude, latitude, steps);
    let mut near = neighbors(hash);
    let mut area = decode(LONG_RANGE, LAT_RANGE, hash);
    let decrease_step = {
        let north = decode(LONG_RANGE, LAT_RANGE, near[NORTH]);
        let south = decode(LONG_RANGE, LAT_RANGE, near[SOUTH]);
        let east = decode(LONG_RANGE, LAT_RANGE, near[EAST]);
        let west = decode(LONG_RANGE, LAT_RANGE, near[WEST]);
        north.latitude.max < max_lat
            || south.latitude.min > min_lat
            || east.longitude.max < max_lon
            || west.longitude.min > min_lon
    };
    if steps > 1 && decrease_step {
        steps -= 1;
        hash = encode_wgs84(longitude, latitude, steps);
        near = neighbors(hash);
        area = decode(LONG_RANGE, LAT_RANGE, hash);
    }
    if steps >= 2 {
        if area.latitude.min < min_lat {
            for i in [SOUTH, SOUTH_WEST, SOUTH_EAST] {
                near[i] = HashBits::ZERO;
            }
        }
        if area.latitude.max > max_lat {
            for i in [NORTH, NORTH_EAST, NORTH_WEST] {
                near[i] = HashBits::ZERO;
            }
        }
        if area.longitude.min < min_lon {
            for i in [WEST, SOUTH_WEST, NORTH_WEST] {
                near[i] = HashBits::ZERO;
            }
        }
        if area.longitude.max > max_lon {
            for i in [EAST, SOUTH_EAST, NORTH_EAST] {
                near[i] = HashBits::ZERO;
            }
        }
    }
    let mut cells = [hash; 9];
    cells[1..].copy_from_slice(&near);
    cells
}

fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// geohashGetDistance: haversine on Redis's sphere.
fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// geoWithinShape: the point's coordinates and distance from the centre
/// when the score lies inside the shape.
fn within_shape(shape: &Shape, score: f64) -> Option<([f64; 2], f64)> {
    let xy = decode_score(score);
    let [x1, y1] = shape.xy;
    let [x2, y2] = xy;
    match shape.kind {
        ShapeKind::Radius(r) => {
            let d = distance(x1, y1, x2, y2);
            (d <= r * shape.conversion).then_some((xy, d))
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(y2, y1) > height_m / 2.0 {
                return None;
            }
            if distance(x2, y2, x1, y2) > width_m / 2.0 {
                return None;
            }
            Some((xy, distance(x1, y1, x2, y2)))
        }
    }
}

// ---- geo.c ---------------------------------------------------------------------

struct Point {
    longitude: f64,
    latitude: f64,
    dist: f64,
    score: f64,
    member: Bytes,
}

/// geoGetPointsInRange over one cell: members with scores in [min, max)
/// inside the shape, stopping once `limit` points are found (0: no limit).
fn points_in_cell(z: &ZSet, hash: HashBits, shape: &Shape, out: &mut Vec<Point>, limit: usize) {
    let min = hash.align52() as f64;
    let max = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    }
    .align52() as f64;
    for (member, score) in z.iter_from(min) {
        if score >= max {
            break;
        }
        if let Some((xy, dist)) = within_shape(shape, score) {
            out.push(Point {
                longitude: xy[0],
                latitude: xy[1],
                dist,
                score,
                member: member.clone(),
            });
        }
        if !out.is_empty() && limit > 0 && out.len() >= limit {
            break;
        }
    }
}

/// membersOfAllNeighbors.
fn search(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = areas_by_shape(shape);
    let mut out = Vec::new();
    let mut last_processed = 0;
    for i in 0..cells.len() {
        if cells[i].is_zero() {
            continue;
        }
        // Huge radii make neighbours repeat the cell searched just before.
        if last_processed != 0 && cells[i] == cells[last_processed] {
            continue;
        }
        if !out.is_empty() && limit > 0 && out.len() >= limit {
            break;
        }
        points_in_cell(z, cells[i], shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// sort_gp_asc / sort_gp_desc, as C comparators.
fn compare(a: &Point, b: &Point, desc: bool) -> i32 {
    let c = if a.dist > b.dist {
        1
    } else if a.dist == b.dist {
        0
    } else {
        -1
    };
    if desc {
        -c
    } else {
        c
    }
}

/// glibc's qsort (a stable top-down merge sort, `msort`), which Redis calls
/// when every result is returned.
fn msort(v: &mut Vec<Point>, cmp: &dyn Fn(&Point, &Point) -> i32) {
    if v.len() <= 1 {
        return;
    }
    let right = v.split_off(v.len() / 2);
    let mut left = std::mem::take(v);
    let mut right = right;
    msort(&mut left, cmp);
    msort(&mut right, cmp);
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(a), Some(b)) = (left.peek(), right.peek()) {
        if cmp(a, b) <= 0 {
            v.extend(left.next());
        } else {
            v.extend(right.next());
        }
    }
    v.extend(left);
    v.extend(right);
}

fn med3(v: &[Point], a: usize, b: usize, c: usize, cmp: &dyn Fn(&Point, &Point) -> i32) -> usize {
    if cmp(&v[a], &v[b]) < 0 {
        if cmp(&v[b], &v[c]) < 0 {
            b
        } else if cmp(&v[a], &v[c]) < 0 {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) > 0 {
        b
    } else if cmp(&v[a], &v[c]) < 0 {
        a
    } else {
        c
    }
}

fn vecswap(v: &mut [Point], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

/// Redis's `pqsort` (pqsort.c, Bentley & McIlroy's quicksort that skips
/// the parts outside `lrange..=rrange`): the partial sort Redis uses when
/// COUNT returns fewer than all the results. Not stable, so ties come out
/// in its order.
fn pqsort(
    v: &mut [Point],
    mut a: usize,
    mut n: usize,
    cmp: &dyn Fn(&Point, &Point) -> i32,
    lrange: usize,
    rrange: usize,
) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) > 0 {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(v, pm - d, pm, pm + d, cmp);
                pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(v, pl, pm, pn, cmp);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r > 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r < 0 {
                    break;
                }
                if r == 0 {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        // Whether [start, end) holds any of lrange..=rrange, as pqsort's
        // pointer test decides.
        let wanted = |start: usize, end: usize| {
            !((lrange < start && rrange < start) || (lrange >= end && rrange >= end))
        };
        let r = pb - pa;
        if r > 1 && wanted(a, a + r) {
            pqsort(v, a, r, cmp, lrange, rrange);
        }
        let r = pd - pc;
        if r > 1 {
            a = pn - r;
            n = r;
            if wanted(a, a + r) {
                continue;
            }
        }
        return;
    }
}

/// fixedpoint_d2string with 4 digits: how distances print.
fn distance_text(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".into();
    }
    let scaled = c_cast_i64((d * 10000.0).round_ties_even());
    let digits = scaled.unsigned_abs().to_string();
    let sign = if scaled < 0 { "-" } else { "" };
    let padded = format!("{digits:0>5}");
    let (int, frac) = padded.split_at(padded.len() - 4);
    format!("{sign}{int}.{frac}")
}

/// A coordinate as addReplyHumanLongDouble sends it: a bulk string in
/// RESP2, a double (the value of that text) in RESP3.
fn coord_reply(value: f64, resp3: bool) -> Reply {
    let text = format_human_long_double(value);
    if resp3 {
        Reply::DoubleText(text.into_bytes())
    } else {
        Reply::bulk(text)
    }
}

/// extractLongLatOrReply.
fn long_lat(ctx: &Ctx, i: usize) -> Result<[f64; 2], Reply> {
    let lon = parse_f64(ctx.arg(i)).ok_or_else(|| err(errors::NOT_FLOAT))?;
    let lat = parse_f64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_FLOAT))?;
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(Reply::error(format!(
            "ERR invalid longitude,latitude pair {},{}",
            format_f(lon),
            format_f(lat)
        )));
    }
    Ok([lon, lat])
}

/// extractUnitOrReply: metres per unit.
fn unit(arg: &[u8]) -> Result<f64, Reply> {
    if eq(arg, "m") {
        Ok(1.0)
    } else if eq(arg, "km") {
        Ok(1000.0)
    } else if eq(arg, "ft") {
        Ok(0.3048)
    } else if eq(arg, "mi") {
        Ok(1609.34)
    } else {
        Err(err(UNSUPPORTED_UNIT))
    }
}

/// extractDistanceOrReply: (radius, conversion).
fn radius_arg(ctx: &Ctx, i: usize) -> Result<(f64, f64), Reply> {
    let r = parse_f64(ctx.arg(i)).ok_or_else(|| err(NEED_RADIUS))?;
    if r < 0.0 {
        return Err(err(RADIUS_NEGATIVE));
    }
    Ok((r, unit(ctx.arg(i + 1))?))
}

/// extractBoxOrReply: (width, height, conversion).
fn box_arg(ctx: &Ctx, i: usize) -> Result<(f64, f64, f64), Reply> {
    let w = parse_f64(ctx.arg(i)).ok_or_else(|| err(NEED_WIDTH))?;
    let h = parse_f64(ctx.arg(i + 1)).ok_or_else(|| err(NEED_HEIGHT))?;
    if h < 0.0 || w < 0.0 {
        return Err(err(BOX_NEGATIVE));
    }
    Ok((w, h, unit(ctx.arg(i + 2))?))
}

// ---- GEOADD --------------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] lon lat member ...: checked here, then run as
/// the ZADD it stands for (scores are the 52-bit hashes), as Redis does.
fn geoadd(ctx: &mut Ctx) -> CommandResult {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < ctx.argv.len() {
        let opt = ctx.arg(longidx);
        if eq(opt, "nx") {
            nx = true;
        } else if eq(opt, "xx") {
            xx = true;
        } else if !eq(opt, "ch") {
            break;
        }
        longidx += 1;
    }
    if !(ctx.argv.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return Err(err(errors::SYNTAX));
    }
    let mut argv: Vec<Bytes> = Vec::with_capacity(longidx + (ctx.argv.len() - longidx) / 3 * 2);
    argv.push(b"zadd".to_vec());
    argv.extend(ctx.argv[1..longidx].iter().cloned());
    for i in (longidx..ctx.argv.len()).step_by(3) {
        let [lon, lat] = long_lat(ctx, i)?;
        let bits = encode_wgs84(lon, lat, STEP_MAX).align52();
        argv.push(bits.to_string().into_bytes());
        argv.push(ctx.argv[i + 2].clone());
    }
    // Replicas get the ZADD it turned into.
    ctx.propagate_as(argv.iter());
    let mut zctx = Ctx {
        engine: &mut *ctx.engine,
        client: &mut *ctx.client,
        argv: &argv,
        now: ctx.now,
        ext: &mut *ctx.ext,
        block: None,
    };
    zadd(&mut zctx)
}

// ---- GEOPOS / GEOHASH / GEODIST --------------------------------------------------

fn geopos(ctx: &mut Ctx) -> CommandResult {
    let key = ctx.arg(1).to_vec();
    let resp3 = ctx.resp3();
    let argv = ctx.argv;
    let z = ctx.zset(&key)?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                None => Reply::NilArray,
                Some(score) => {
                    let [lon, lat] = decode_score(score);
                    Reply::Array(vec![coord_reply(lon, resp3), coord_reply(lat, resp3)])
                }
            })
            .collect(),
    ))
}

fn geohash(ctx: &mut Ctx) -> CommandResult {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let key = ctx.arg(1).to_vec();
    let argv = ctx.argv;
    let z = ctx.zset(&key)?;
    Ok(Reply::Array(
        argv[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.score(m)) {
                None => Reply::Nil,
                Some(score) => {
                    // Redis's cells span latitudes ±85.05; a standard
                    // geohash spans ±90, so decode and encode again.
                    let [lon, lat] = decode_score(score);
                    let hash = encode(
                        Range {
                            min: -180.0,
                            max: 180.0,
                        },
                        Range {
                            min: -90.0,
                            max: 90.0,
                        },
                        lon,
                        lat,
                        26,
                    )
                    .unwrap_or_default();
                    let text: Vec<u8> = (0..11)
                        .map(|i| {
                            let idx = if i == 10 {
                                0
                            } else {
                                (hash.bits >> (52 - (i + 1) * 5)) & 0x1f
                            };
                            ALPHABET[idx as usize]
                        })
                        .collect();
                    Reply::Bulk(text)
                }
            })
            .collect(),
    ))
}

fn geodist(ctx: &mut Ctx) -> CommandResult {
    let to_meter = match ctx.argv.len() {
        5 => unit(ctx.arg(4))?,
        n if n > 5 => return Err(err(errors::SYNTAX)),
        _ => 1.0,
    };
    let key = ctx.arg(1).to_vec();
    let argv = ctx.argv;
    let Some(z) = ctx.zset(&key)? else {
        return Ok(Reply::Nil);
    };
    let (Some(s1), Some(s2)) = (z.score(&argv[2]), z.score(&argv[3])) else {
        return Ok(Reply::Nil);
    };
    let [x1, y1] = decode_score(s1);
    let [x2, y2] = decode_score(s2);
    Ok(Reply::bulk(distance_text(
        distance(x1, y1, x2, y2) / to_meter,
    )))
}

// ---- GEORADIUS / GEOSEARCH -------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// GEORADIUS / GEORADIUS_RO: key lon lat radius unit.
    Coords,
    /// GEORADIUSBYMEMBER / _RO: key member radius unit.
    Member,
    /// GEOSEARCH: key FROM... BY...
    Search,
    /// GEOSEARCHSTORE: dst src FROM... BY...
    SearchStore,
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// georadiusGeneric: the argument checks in Redis's order, the search, the
/// reply or the stored sorted set.
fn georadius_generic(ctx: &mut Ctx, variant: Variant, nostore: bool) -> CommandResult {
    let search = matches!(variant, Variant::Search | Variant::SearchStore);
    let src_index = if variant == Variant::SearchStore {
        2
    } else {
        1
    };
    let src = ctx.arg(src_index).to_vec();
    // The source's type is checked before any argument.
    // lookupKeyRead, for the STORE forms too (a missing one is a keymiss).
    let exists = match ctx.lookup_read(&src).map(|e| e.value.kind()) {
        None => false,
        Some(crate::engine::Kind::ZSet) => true,
        Some(_) => return Err(err(errors::WRONGTYPE)),
    };
    let event = if search {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    let mut store: Option<Bytes> = None;
    let mut storedist = false;
    let mut shape = Shape {
        kind: ShapeKind::Radius(0.0),
        xy: [0.0, 0.0],
        conversion: 0.0,
    };
    let base = match variant {
        Variant::Coords => {
            shape.xy = long_lat(ctx, 2)?;
            let (r, conversion) = radius_arg(ctx, 4)?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conversion;
            6
        }
        // A missing source: go on parsing to know which empty reply to give.
        Variant::Member if !exists => 5,
        Variant::Member => {
            shape.xy = member_long_lat(ctx, &src, 2)?;
            let (r, conversion) = radius_arg(ctx, 3)?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conversion;
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            store = Some(ctx.arg(1).to_vec());
            3
        }
    };
    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let argc = ctx.argv.len();
    let mut i = base;
    while i < argc {
        let arg = ctx.arg(i);
        let left = argc - i; // this argument and those after it
        if eq(arg, "withdist") {
            withdist = true;
        } else if eq(arg, "withhash") {
            withhash = true;
        } else if eq(arg, "withcoord") {
            withcoords = true;
        } else if eq(arg, "any") {
            any = true;
        } else if eq(arg, "asc") {
            sort = Sort::Asc;
        } else if eq(arg, "desc") {
            sort = Sort::Desc;
        } else if eq(arg, "count") && left > 1 {
            count = parse_i64(ctx.arg(i + 1)).ok_or_else(|| err(errors::NOT_INTEGER))?;
            if count <= 0 {
                return Err(err(COUNT_POSITIVE));
            }
            i += 1;
        } else if (eq(arg, "store") || eq(arg, "storedist")) && left > 1 && !nostore && !search {
            store = Some(ctx.arg(i + 1).to_vec());
            storedist = eq(arg, "storedist");
            i += 1;
        } else if eq(arg, "storedist") && variant == Variant::SearchStore {
            storedist = true;
        } else if eq(arg, "frommember") && left > 1 && search && !fromloc {
            if exists {
                shape.xy = member_long_lat(ctx, &src, i + 1)?;
            }
            frommember = true;
            i += 1;
        } else if eq(arg, "fromlonlat") && left > 2 && search && !frommember {
            shape.xy = long_lat(ctx, i + 1)?;
            fromloc = true;
            i += 2;
        } else if eq(arg, "byradius") && left > 2 && search && !bybox {
            let (r, conversion) = radius_arg(ctx, i + 1)?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conversion;
            byradius = true;
            i += 2;
        } else if eq(arg, "bybox") && left > 3 && search && !byradius {
            let (width, height, conversion) = box_arg(ctx, i + 1)?;
            shape.kind = ShapeKind::Box { width, height };
            shape.conversion = conversion;
            bybox = true;
            i += 3;
        } else {
            return Err(err(errors::SYNTAX));
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoords) {
        return Err(Reply::error(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if variant == Variant::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    let name = String::from_utf8_lossy(ctx.arg(0)).into_owned();
    if search && !(frommember || fromloc) {
        return Err(Reply::error(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !(byradius || bybox) {
        return Err(Reply::error(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(err(ANY_NEEDS_COUNT));
    }
    if !exists {
        return Ok(match store {
            Some(dst) => {
                ctx.delete_key(&dst);
                Reply::Int(0)
            }
            None => Reply::Array(vec![]),
        });
    }
    // COUNT without an order means the closest ones (not with ANY).
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let limit = if any { count as usize } else { 0 };
    let z = match ctx.lookup_quiet(&src).map(|e| &e.value) {
        Some(crate::engine::Value::ZSet(z)) => z,
        _ => unreachable!("checked above"),
    };
    let mut points = search_points(z, &shape, limit);
    if points.is_empty() && store.is_none() {
        return Ok(Reply::Array(vec![]));
    }
    let len = points.len();
    let returned = if count == 0 || (len as i64) < count {
        len
    } else {
        count as usize
    };
    if sort != Sort::None {
        let desc = sort == Sort::Desc;
        let cmp = move |a: &Point, b: &Point| compare(a, b, desc);
        if returned == len {
            msort(&mut points, &cmp);
        } else {
            pqsort(&mut points, 0, len, &cmp, 0, returned - 1);
        }
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= shape.conversion;
    }
    match store {
        None => {
            let resp3 = ctx.resp3();
            let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoords);
            Ok(Reply::Array(
                points
                    .into_iter()
                    .map(|p| {
                        if options == 0 {
                            return Reply::Bulk(p.member);
                        }
                        let mut item = vec![Reply::Bulk(p.member)];
                        if withdist {
                            item.push(Reply::bulk(distance_text(p.dist)));
                        }
                        if withhash {
                            item.push(Reply::Int(c_cast_i64(p.score)));
                        }
                        if withcoords {
                            item.push(Reply::Array(vec![
                                coord_reply(p.longitude, resp3),
                                coord_reply(p.latitude, resp3),
                            ]));
                        }
                        Reply::Array(item)
                    })
                    .collect(),
            ))
        }
        Some(dst) => {
            let items = points
                .into_iter()
                .map(|p| (p.member, if storedist { p.dist } else { p.score }))
                .collect();
            store_zset(ctx, &dst, items, event)
        }
    }
}

fn search_points(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    search(z, shape, limit)
}

/// longLatFromMember, or Redis's could-not-decode error.
fn member_long_lat(ctx: &mut Ctx, key: &[u8], i: usize) -> Result<[f64; 2], Reply> {
    let member = ctx.arg(i).to_vec();
    let score = ctx
        .zset(key)?
        .and_then(|z| z.score(&member))
        .ok_or_else(|| err(NO_MEMBER))?;
    Ok(decode_score(score))
}

fn georadius(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::Coords, false)
}

fn georadius_ro(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::Coords, true)
}

fn georadiusbymember(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::Member, false)
}

fn georadiusbymember_ro(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::Member, true)
}

fn geosearch(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::Search, false)
}

fn geosearchstore(ctx: &mut Ctx) -> CommandResult {
    georadius_generic(ctx, Variant::SearchStore, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_distances_as_redis_computes_them() {
        // GEOADD g 13.361389 38.115556 Palermo answers score 3479099956230698.
        assert_eq!(
            encode_wgs84(13.361389, 38.115556, STEP_MAX).align52(),
            3479099956230698
        );
        let [lon, lat] = decode_score(3479099956230698.0);
        assert_eq!(format_human_long_double(lon), "13.36138933897018433");
        assert_eq!(format_human_long_double(lat), "38.11555639549629859");
        assert_eq!(distance_text(0.00004999), "0.0000");
        assert_eq!(distance_text(0.0001), "0.0001");
    }

    #[test]
    fn interleave_round_trips() {
        for (x, y) in [
            (0u32, 0u32),
            (1, 2),
            (0x3ff_ffff, 0x155_5555),
            (12345, 67890),
        ] {
            assert_eq!(
                deinterleave64(interleave64(x, y)),
                u64::from(x) | u64::from(y) << 32
            );
        }
    }
}
