//! One picture of the debugger at a step of a run (default: where it
//! ended, the failure if it failed), drawn by the same views as the TUI
//! into an off-screen buffer and written as SVG: a post's cover image or a
//! slide.

use crossterm::event::KeyCode;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use super::driver::Driver;
use super::opening::Opening;
use super::theme::Theme;
use crate::trace::LaneCommand;

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 18.0;
const BG: &str = "#1e1e1e";
const FG: &str = "#d4d4d4";

/// Runs the opening's active buffer (with `args` and other clients), goes
/// to step `frame` (from 1; None: the end) and draws the screen.
pub fn svg(
    opening: Opening,
    args: &str,
    lane: Vec<LaneCommand>,
    frame: Option<usize>,
    width: u16,
    height: u16,
) -> anyhow::Result<String> {
    svg_on(opening, args, lane, frame, None, width, height)
}

/// `svg`, with the engine node 1 of `cluster` masters when given
/// (`run --trace svg --cluster`).
pub fn svg_on(
    opening: Opening,
    args: &str,
    lane: Vec<LaneCommand>,
    frame: Option<usize>,
    cluster: Option<usize>,
    width: u16,
    height: u16,
) -> anyhow::Result<String> {
    let mut driver = match cluster {
        Some(shards) => {
            crate::engine::cluster::validate(shards, crate::engine::DEFAULT_PORT)
                .map_err(|e| anyhow::anyhow!(e))?;
            Driver::cluster(opening, shards, width, height)
        }
        None => Driver::new(opening, width, height),
    };
    driver.app.theme = Theme::new(true);
    driver.app.lane = lane;
    let active = driver.app.active;
    driver.app.buffers[active].args = args.to_string();
    driver.key(KeyCode::F(5));
    let Some(session) = &driver.app.session else {
        anyhow::bail!("the run did not finish: nothing to draw");
    };
    let total = session.debugger().len();
    if let Some(frame) = frame {
        if frame == 0 || frame > total {
            anyhow::bail!("--frame {frame}: the run has steps 1 to {total}");
        }
        if let Some(session) = driver.app.session.as_mut() {
            session.run.goto(frame - 1);
        }
        // The run's reply belongs to its end, not to this step.
        driver.app.message = None;
    }
    let mut terminal = Terminal::new(TestBackend::new(width, height))?;
    terminal.draw(|f| super::ui::draw(f, &driver.app))?;
    Ok(to_svg(terminal.backend().buffer()))
}

fn hex(color: Color, default: &str) -> String {
    let named = |i: u8| -> (u8, u8, u8) {
        [
            (0, 0, 0),
            (205, 49, 49),
            (13, 188, 121),
            (229, 229, 16),
            (36, 114, 200),
            (188, 63, 188),
            (17, 168, 205),
            (229, 229, 229),
            (102, 102, 102),
            (241, 76, 76),
            (35, 209, 139),
            (245, 245, 67),
            (59, 142, 234),
            (214, 112, 214),
            (41, 184, 219),
            (255, 255, 255),
        ][i as usize]
    };
    let (r, g, b) = match color {
        Color::Reset => return default.to_string(),
        Color::Black => named(0),
        Color::Red => named(1),
        Color::Green => named(2),
        Color::Yellow => named(3),
        Color::Blue => named(4),
        Color::Magenta => named(5),
        Color::Cyan => named(6),
        Color::Gray => named(7),
        Color::DarkGray => named(8),
        Color::LightRed => named(9),
        Color::LightGreen => named(10),
        Color::LightYellow => named(11),
        Color::LightBlue => named(12),
        Color::LightMagenta => named(13),
        Color::LightCyan => named(14),
        Color::White => named(15),
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) if i < 16 => named(i),
        Color::Indexed(i) if i >= 232 => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
        Color::Indexed(i) => {
            let i = i - 16;
            let step = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (step(i / 36), step((i / 6) % 6), step(i % 6))
        }
    };
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The buffer as SVG: a background, then per row runs of same-styled text.
fn to_svg(buffer: &Buffer) -> String {
    let (w, h) = (buffer.area.width, buffer.area.height);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"14\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BG}\"/>\n",
        (f32::from(w) * CELL_W).ceil(),
        (f32::from(h) * CELL_H).ceil(),
        (f32::from(w) * CELL_W).ceil(),
        (f32::from(h) * CELL_H).ceil()
    );
    // A cell's text and background colours, REVERSED applied as a terminal
    // does: the default colours swap too (the default background becomes
    // the text's colour), so a reversed row reads dark on its colour.
    let colours = |c: &ratatui::buffer::Cell| {
        let fg = hex(c.fg, FG);
        let bg = (c.bg != Color::Reset).then(|| hex(c.bg, BG));
        if c.modifier.contains(Modifier::REVERSED) {
            (bg.unwrap_or_else(|| BG.to_string()), Some(fg))
        } else {
            (fg, bg)
        }
    };
    for y in 0..h {
        let mut x = 0;
        while x < w {
            let cell = &buffer[(x, y)];
            let style = (colours(cell), cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < w {
                let c = &buffer[(x, y)];
                if (colours(c), c.modifier) != style {
                    break;
                }
                text.push_str(c.symbol());
                x += 1;
            }
            let ((fg, bg), modifier) = &style;
            let (fx, fy) = (f32::from(start) * CELL_W, f32::from(y) * CELL_H);
            if let Some(bg) = bg {
                out += &format!(
                    "<rect x=\"{fx:.1}\" y=\"{fy:.1}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{bg}\"/>\n",
                    f32::from(x - start) * CELL_W,
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let weight = if modifier.contains(Modifier::BOLD) {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let opacity = if modifier.contains(Modifier::DIM) {
                " opacity=\"0.6\""
            } else {
                ""
            };
            out += &format!(
                "<text x=\"{fx:.1}\" y=\"{:.1}\" fill=\"{}\"{weight}{opacity} xml:space=\"preserve\" textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>\n",
                fy + CELL_H * 0.75,
                fg,
                f32::from(x - start) * CELL_W,
                escape(&text)
            );
        }
    }
    out += "</svg>\n";
    out
}
