//! LOLWUT's art, as Redis 7.0's lolwut5.c and lolwut6.c draw it: Georg
//! Nees's "Schotter" in Braille characters (version 5) and a skyline in
//! terminal colours (version 6). The arithmetic is Redis's own, single
//! precision where Redis's is, so the same random numbers draw the same
//! bytes; the random numbers are redstep's own (Redis's come from C's
//! `rand()`, seeded at start).

use crate::engine::errors::{self, err};
use crate::engine::numbers::parse_i64;
use crate::engine::Reply;

/// Version 5's largest canvas: Redis draws up to 2,000 x 399,204 pixels
/// (a byte each, and three bytes a Braille character for each eight),
/// enough to exhaust a laptop; redstep refuses past 64M pixels (version
/// 6's largest is 1M).
const MAX_PIXELS: i64 = 64 * 1024 * 1024;

/// A canvas of pixels (a colour each), reading 0 outside.
struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: i32, height: i32, color: u8) -> Canvas {
        Canvas {
            width,
            height,
            pixels: vec![color; (width.max(0) * height.max(0)) as usize],
        }
    }

    fn set(&mut self, x: i32, y: i32, color: u8) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(y * self.width + x) as usize] = color;
        }
    }

    fn get(&self, x: i32, y: i32) -> u8 {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(y * self.width + x) as usize]
        } else {
            0
        }
    }

    /// Bresenham's line, as lolwut.c draws it.
    fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32, color: u8) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let (sx, sy) = (if x1 < x2 { 1 } else { -1 }, if y1 < y2 { 1 } else { -1 });
        let mut error = dx - dy;
        loop {
            self.set(x1, y1, color);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = error * 2;
            if e2 > -dy {
                error -= dy;
                x1 += sx;
            }
            if e2 < dx {
                error += dx;
                y1 += sy;
            }
        }
    }

    /// A square centred on (x, y), turned by `angle` (lolwut5.c).
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32) {
        // Redis divides by this literal, not by the exact square root of 2.
        #[allow(clippy::approx_constant)]
        let size = (f64::from(size) / 1.4142135623) as f32;
        let size = f64::from(size).round() as f32;
        let mut k = (std::f64::consts::FRAC_PI_4 + f64::from(angle)) as f32;
        let mut px = [0i32; 4];
        let mut py = [0i32; 4];
        for j in 0..4 {
            px[j] = (f64::from(k).sin() * f64::from(size) + f64::from(x)).round() as i32;
            py[j] = (f64::from(k).cos() * f64::from(size) + f64::from(y)).round() as i32;
            k = (f64::from(k) + std::f64::consts::FRAC_PI_2) as f32;
        }
        for j in 0..4 {
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], 1);
        }
    }
}

/// C's `rand()`: 0 to 2^31 - 1.
fn rand() -> i32 {
    fastrand::i32(0..=i32::MAX)
}

/// The version-specific arguments: optional integers, each clamped.
fn numbers(args: &[Vec<u8>], defaults: &[(i64, i64, i64)]) -> Result<Vec<i64>, Reply> {
    defaults
        .iter()
        .enumerate()
        .map(|(i, &(default, low, high))| match args.get(i) {
            Some(arg) => parse_i64(arg)
                .map(|n| n.clamp(low, high))
                .ok_or_else(|| err(errors::NOT_INTEGER)),
            None => Ok(default),
        })
        .collect()
}

/// LOLWUT VERSION 5 [cols] [squares per row] [squares per column].
pub(crate) fn version5(args: &[Vec<u8>]) -> Result<String, Reply> {
    let n = numbers(args, &[(66, 1, 1000), (8, 1, 200), (12, 1, 200)])?;
    let (cols, per_row, per_col) = (n[0] as i32, n[1] as i32, n[2] as i32);
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let pixels = i64::from(width) * i64::from(height);
    if pixels > MAX_PIXELS {
        return Err(Reply::error(format!(
            "ERR redstep: this LOLWUT canvas would hold {pixels} pixels; redstep stops at {MAX_PIXELS} (Redis would draw it)"
        )));
    }
    let mut canvas = Canvas::new(width, height, 0);
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0f32;
            if y > 1 {
                let mut r = [0f32; 3];
                for v in &mut r {
                    *v = rand() as f32 / i32::MAX as f32 / per_col as f32 * y as f32;
                }
                for v in &mut r {
                    if rand() % 2 == 1 {
                        *v = -*v;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i32;
                sy = (sy as f32 + r[2] * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle);
        }
    }
    let mut text = String::new();
    let p = |x, y| u32::from(canvas.get(x, y) != 0);
    for y in (0..height).step_by(4) {
        for x in (0..width).step_by(2) {
            let byte = p(x, y)
                | p(x, y + 1) << 1
                | p(x, y + 2) << 2
                | p(x + 1, y) << 3
                | p(x + 1, y + 1) << 4
                | p(x + 1, y + 2) << 5
                | p(x, y + 3) << 6
                | p(x + 1, y + 3) << 7;
            text.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
        }
        if y != height - 1 {
            text.push('\n');
        }
    }
    text.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
    text.push_str(super::server::REDIS_VERSION);
    text.push('\n');
    Ok(text)
}

/// LOLWUT VERSION 6 [cols] [rows].
pub(crate) fn version6(args: &[Vec<u8>]) -> Result<String, Reply> {
    let n = numbers(args, &[(80, 1, 1000), (20, 1, 1000)])?;
    let (width, height) = (n[0] as i32, n[1] as i32);
    let mut canvas = Canvas::new(width, height, 3);
    let skyscraper = |canvas: &mut Canvas, xoff: i32, w: i32, h: i32, windows: bool, color: u8| {
        let starty = height - 1;
        let endy = starty - h + 1;
        let mut y = starty;
        while y >= endy {
            for x in xoff..xoff + w {
                if y == endy && (x <= xoff + 1 || x >= xoff + w - 2) {
                    continue;
                }
                let mut c = color;
                if windows && x > xoff + 1 && x < xoff + w - 2 && y > endy + 1 && y < starty - 1 {
                    let (relx, rely) = (x - (xoff + 1), y - (endy + 1));
                    if (relx / 2) % 2 != 0 && rely % 2 != 0 {
                        loop {
                            c = 1 + (rand() % 2) as u8;
                            if c != color {
                                break;
                            }
                        }
                        if relx % 2 != 0 {
                            c = canvas.get(x - 1, y);
                        }
                    }
                }
                canvas.set(x, y, c);
            }
            y -= 1;
        }
    };
    for color in [2u8, 1] {
        let mut offset = -10;
        while offset < width {
            offset += rand() % 8;
            let xoff = offset;
            let bwidth = 10 + rand() % 9;
            let bheight = if color == 2 {
                height / 2 + rand() % height / 2
            } else {
                height / 2 + rand() % height / 3
            };
            skyscraper(&mut canvas, xoff, bwidth, bheight, false, color);
            offset += if color == 2 { bwidth / 2 } else { bwidth + 1 };
        }
    }
    let mut offset = -10;
    while offset < width {
        offset += rand() % 8;
        let xoff = offset;
        let mut bwidth = 5 + rand() % 14;
        if bwidth % 4 != 0 {
            bwidth += bwidth % 3;
        }
        let bheight = height / 3 + rand() % height / 2;
        skyscraper(&mut canvas, xoff, bwidth, bheight, true, 0);
        offset += bwidth + 5;
    }
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            text.push_str(match canvas.get(x, y) {
                0 => "\x1b[0;30;40m \x1b[0m",
                1 => "\x1b[0;90;100m \x1b[0m",
                2 => "\x1b[0;37;47m \x1b[0m",
                _ => "\x1b[0;97;107m \x1b[0m",
            });
        }
        if y != height - 1 {
            text.push('\n');
        }
    }
    text.push_str("\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. ");
    text.push_str(super::server::REDIS_VERSION);
    text.push('\n');
    Ok(text)
}
