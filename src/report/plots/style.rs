//! Sizes, fonts and colours shared by every chart, and the small helpers they all use.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::spec::Transport;

/// Width of a normal chart, in SVG pixels.
pub const WIDTH: u32 = 640;
/// Height of a normal chart.
pub const HEIGHT: u32 = 400;
/// Font family of every text (the browser picks the face; no font files are needed).
pub const FONT: &str = "sans-serif";
/// Size of a chart's title (plotters writes 1/1.24 of a size as the SVG font-size: 22 → 17.7 px).
pub const TITLE_SIZE: u32 = 22;
/// Size of axis descriptions and legends.
pub const LABEL_SIZE: u32 = 18;
/// Size of tick labels and small notes.
pub const TICK_SIZE: u32 = 16;
/// Margin around the plotting area.
pub const MARGIN: u32 = 12;
/// Room for the x axis labels.
pub const X_LABEL_AREA: u32 = 45;
/// Room for the y axis labels.
pub const Y_LABEL_AREA: u32 = 65;
/// Width of a chart's main lines.
pub const LINE_WIDTH: u32 = 2;

/// A qualitative palette (Tableau 10): distinguishable, and readable for most colour-blind readers.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of thin background lines (single iterations).
pub const FAINT: RGBColor = RGBColor(190, 190, 190);
/// Colour of reference lines (memcpy).
pub const REFERENCE: RGBColor = RGBColor(40, 40, 40);

/// The `i`-th palette colour, wrapping around.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Every chart draws a transport in the same colour.
pub fn transport_color(t: Transport) -> RGBColor {
    let i = Transport::ALL.iter().position(|x| *x == t).unwrap_or(0);
    color(i)
}

/// A text style of `size` in the shared font.
pub fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}

/// Draws into a fresh SVG of `width` × `height` on a white background and returns its text.
pub fn svg<F>(width: u32, height: u32, draw: F) -> Result<String>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
{
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// A legend under a chart: a coloured square and a name per entry, `per_row` to a row, each
/// `cell` = (width, height) pixels.
pub fn legend<'a>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: impl IntoIterator<Item = (&'a str, RGBColor)>,
    per_row: usize,
    cell: (i32, i32),
    label_size: u32,
) -> Result<()> {
    for (i, (name, color)) in entries.into_iter().enumerate() {
        let (col, row) = ((i % per_row) as i32, (i / per_row) as i32);
        let (x, y) = (20 + col * cell.0, 4 + row * cell.1);
        area.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], color.filled()))?;
        area.draw(&Text::new(name.to_string(), (x + 20, y), text(label_size)))?;
    }
    Ok(())
}

/// A number rounded to two decimals for an axis (seconds, Gbit/s).
pub fn round2_label(v: f64) -> String {
    format!("{}", (v * 100.0).round() / 100.0)
}

/// A latency in µs for an axis: `0.5`, `12`, `1.2k`.
pub fn us_label(us: f64) -> String {
    if us >= 1000.0 {
        format!("{}k", trim(us / 1000.0))
    } else {
        trim(us)
    }
}

fn trim(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A byte count: `64 B`, `16 KiB`, `1 MiB`.
pub fn size_label(bytes: f64) -> String {
    let b = bytes.round() as u64;
    if b >= 1 << 20 && b % (1 << 20) == 0 {
        format!("{} MiB", b >> 20)
    } else if b >= 1 << 10 && b % (1 << 10) == 0 {
        format!("{} KiB", b >> 10)
    } else {
        format!("{b} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short() {
        assert_eq!(us_label(0.5), "0.5");
        assert_eq!(us_label(12.0), "12");
        assert_eq!(us_label(1200.0), "1.2k");
        assert_eq!(size_label(16384.0), "16 KiB");
        assert_eq!(size_label(65000.0), "65000 B");
    }
}
