//! Charts for the simulation report, as SVG embedded in the page (the report needs no
//! network to open): line and bar charts drawn with `plotters`; the load map and the
//! capacity heatmap written directly, so that every mark carries a `<title>` shown on hover.

use plotters::prelude::*;
use sourcing_engine::simulate::{Kpis, LocationDays};
use sourcing_engine::Network;
use std::fmt::Write as _;

const W: u32 = 720;
const H: u32 = 300;
/// Series colours: the first two are the two sides of a comparison.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// The longest series name a legend shows whole; a longer one is cut with `…` and shown
/// whole on hover.
const LABEL_MAX: usize = 44;
/// A legend row's height, and the legend's font size (px of the 720-px-wide drawing).
const LEGEND_ROW: u32 = 20;
const LEGEND_FONT: u32 = 13;

/// How a series is marked in the legend.
#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Bar,
}

/// The legend of a chart, in its own area under the plot so it never covers the data:
/// one entry per series (a swatch and the name), laid out left to right and wrapped onto
/// as many rows as the width needs.
struct Legend {
    /// Each entry: its row, its x, the name shown, the whole name, its colour.
    entries: Vec<(u32, f64, String, String, RGBColor)>,
    rows: u32,
    swatch: Swatch,
}

impl Legend {
    fn new(names: &[&str], swatch: Swatch) -> Legend {
        // Text width estimated from the character count: generous, so it never overruns.
        let char_w = f64::from(LEGEND_FONT) * 0.62;
        let (left, right) = (60.0, f64::from(W) - 10.0);
        let (mut row, mut x) = (0u32, left);
        let mut entries = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let shown = if name.chars().count() > LABEL_MAX {
                let cut: String = name.chars().take(LABEL_MAX - 1).collect();
                format!("{}…", cut.trim_end())
            } else {
                name.to_string()
            };
            let width = 24.0 + shown.chars().count() as f64 * char_w;
            if x > left && x + width > right {
                row += 1;
                x = left;
            }
            entries.push((row, x, shown, name.to_string(), COLOURS[i % COLOURS.len()]));
            x += width + 24.0;
        }
        Legend {
            rows: if entries.is_empty() { 0 } else { row + 1 },
            entries,
            swatch,
        }
    }

    /// The height the legend needs under the plot.
    fn height(&self) -> u32 {
        if self.rows == 0 {
            0
        } else {
            self.rows * LEGEND_ROW + 8
        }
    }

    /// The legend's SVG, placed from `top`; each entry carries its whole name as a
    /// `<title>`, shown on hover.
    fn svg(&self, top: u32) -> String {
        let mut out = String::from("<g class=\"legend\">");
        for (row, x, shown, name, c) in &self.entries {
            let y = f64::from(top + row * LEGEND_ROW) + f64::from(LEGEND_ROW) / 2.0 + 4.0;
            let colour = format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2);
            let mark = match self.swatch {
                Swatch::Line => format!(
                    "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"3\"/>",
                    x + 16.0
                ),
                Swatch::Bar => format!(
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"10\" fill=\"{colour}\"/>",
                    y - 5.0
                ),
            };
            let _ = write!(
                out,
                "<g><title>{}</title>{mark}<text x=\"{:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"{LEGEND_FONT}\">{}</text></g>",
                escape(name),
                x + 22.0,
                y + 4.0,
                escape(shown)
            );
        }
        out.push_str("</g>");
        out
    }
}

/// `svg` with `extra` drawn last, inside its root element.
fn with_extra(mut svg: String, extra: &str) -> String {
    match svg.rfind("</svg>") {
        Some(end) => svg.insert_str(end, extra),
        None => svg.push_str(extra),
    }
    svg
}

/// An axis value in a few characters: `1.2M`, `35k`, `640`, `0.95`, or `95 %`.
fn short(v: f64, percent: bool) -> String {
    if percent {
        return format!("{:.0} %", v * 100.0);
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Text safe inside SVG or HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Day labels for an axis: `MM-DD` when every day is in the same year, else the whole date.
pub fn day_labels(days: &[&String]) -> Vec<String> {
    let year = |d: &str| d.get(..5).map(str::to_string);
    let one_year = days.windows(2).all(|w| year(w[0]) == year(w[1]));
    days.iter()
        .map(|d| match d.get(5..) {
            Some(rest) if one_year && d.len() == 10 => rest.to_string(),
            _ => d.to_string(),
        })
        .collect()
}

/// What a line chart shows.
pub struct Lines<'a> {
    /// The title: what is shown, and its unit.
    pub title: &'a str,
    /// The x axis: what the positions are.
    pub x_desc: &'a str,
    /// The y axis: the figure and its unit.
    pub y_desc: &'a str,
    /// A label per position.
    pub labels: Vec<String>,
    /// One line per series: its name and a value per position.
    pub series: Vec<(String, Vec<f64>)>,
    /// Values are fractions, shown as percentages.
    pub percent: bool,
}

/// A line per series over labelled positions (days, or the values of a sweep).
pub fn lines(chart: &Lines<'_>) -> String {
    let mut svg = String::new();
    let most = chart
        .series
        .iter()
        .flat_map(|s| &s.1)
        .copied()
        .fold(0.0f64, f64::max);
    let least = chart
        .series
        .iter()
        .flat_map(|s| &s.1)
        .copied()
        .fold(0.0f64, f64::min);
    let top = if chart.percent && most <= 1.0 {
        1.05
    } else {
        // A flat zero still gets an axis of whole numbers.
        (most * 1.15).max(if chart.percent { 0.01 } else { 1.0 })
    };
    // One slot per position, the point in its middle: a single one sits mid-chart.
    let n = chart.labels.len().max(1);
    let every = n.div_ceil(12);
    let names: Vec<&str> = chart.series.iter().map(|s| s.0.as_str()).collect();
    let legend = Legend::new(&names, Swatch::Line);
    {
        let root = SVGBackend::with_string(&mut svg, (W, H + legend.height())).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, _) = root.split_vertically(H);
        let built = ChartBuilder::on(&plot)
            .caption(chart.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, least * 1.15..top);
        if let Ok(mut c) = built {
            let _ = c
                .configure_mesh()
                .light_line_style(WHITE)
                .disable_x_mesh()
                .x_desc(chart.x_desc)
                .y_desc(chart.y_desc)
                .x_labels(n.min(60) * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() > 1e-6 || i < 0.0 || !(i as usize).is_multiple_of(every) {
                        return String::new();
                    }
                    chart.labels.get(i as usize).cloned().unwrap_or_default()
                })
                .y_label_formatter(&|y| short(*y, chart.percent))
                .draw();
            for (i, (_, values)) in chart.series.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let points: Vec<(f64, f64)> = values
                    .iter()
                    .enumerate()
                    .map(|(d, &v)| (d as f64, v))
                    .collect();
                // The first line is wider, so it still shows where the second lies on it.
                let width = if i == 0 { 4 } else { 2 };
                let _ = c.draw_series(LineSeries::new(points.clone(), colour.stroke_width(width)));
                let radius = if n > 40 { 2 } else { 3 };
                let _ = c.draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, radius, colour.filled())),
                );
            }
        }
        let _ = root.present();
    }
    with_extra(svg, &legend.svg(H))
}

/// A per-day figure of every side, one line each.
pub fn per_day(
    title: &str,
    y_desc: &str,
    runs: &[(&str, &Kpis)],
    value: impl Fn(&sourcing_engine::simulate::Block) -> f64,
    percent: bool,
) -> String {
    // The days of every side, in date order.
    let mut days: Vec<&String> = runs.iter().flat_map(|r| r.1.by_day.keys()).collect();
    days.sort();
    days.dedup();
    let series = runs
        .iter()
        .map(|(name, k)| {
            let values = days
                .iter()
                .map(|d| k.by_day.get(*d).map_or(0.0, &value))
                .collect();
            (name.to_string(), values)
        })
        .collect();
    lines(&Lines {
        title,
        x_desc: "day (UTC date the order was placed)",
        y_desc,
        labels: day_labels(&days),
        series,
        percent,
    })
}

/// Units placed by location kind, one bar group per side.
pub fn units_by_kind(runs: &[(&str, &Kpis)]) -> String {
    let kinds = ["dc", "store", "dropship"];
    let mut svg = String::new();
    let top = runs
        .iter()
        .flat_map(|(_, k)| {
            kinds
                .iter()
                .map(|kd| k.overall.units_by_kind.get(*kd).copied().unwrap_or(0))
        })
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.1;
    let names: Vec<&str> = runs.iter().map(|r| r.0).collect();
    let legend = Legend::new(&names, Swatch::Bar);
    {
        let root = SVGBackend::with_string(&mut svg, (W, H + legend.height())).into_drawing_area();
        let _ = root.fill(&WHITE);
        let (plot, _) = root.split_vertically(H);
        let n = runs.len().max(1);
        let chart = ChartBuilder::on(&plot)
            .caption("Units placed by location kind (units)", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..kinds.len() as f64, 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .light_line_style(WHITE)
                .disable_x_mesh()
                .y_desc("units")
                .x_labels(kinds.len() * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.floor() as usize;
                    if (x - x.floor() - 0.5).abs() < 0.01 {
                        kinds.get(i).map_or(String::new(), |k| k.to_string())
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|y| short(*y, false))
                .draw();
            for (r, (_, k)) in runs.iter().enumerate() {
                let colour = COLOURS[r % COLOURS.len()];
                let width = 0.8 / n as f64;
                let bars = kinds.iter().enumerate().map(|(i, kd)| {
                    let v = k.overall.units_by_kind.get(*kd).copied().unwrap_or(0) as f64;
                    let x0 = i as f64 + 0.1 + width * r as f64;
                    Rectangle::new([(x0, 0.0), (x0 + width, v)], colour.filled())
                });
                let _ = chart.draw_series(bars);
            }
        }
        let _ = root.present();
    }
    with_extra(svg, &legend.svg(H))
}

/// A simplified outline of Germany (longitude, latitude), clockwise from the Dutch coast:
/// drawn under the load map when the network lies there (`sourcing gen` places locations
/// in German cities by default).
const GERMANY: &[(f64, f64)] = &[
    (7.0, 53.6),
    (8.0, 53.7),
    (8.6, 53.9),
    (8.9, 54.0),
    (8.6, 54.3),
    (8.7, 54.9),
    (9.4, 54.8),
    (10.0, 54.5),
    (11.0, 54.4),
    (10.9, 54.0),
    (11.5, 54.0),
    (12.1, 54.2),
    (13.0, 54.4),
    (13.4, 54.6),
    (14.2, 53.9),
    (14.4, 53.3),
    (14.6, 52.6),
    (14.7, 52.1),
    (14.9, 51.5),
    (15.0, 51.0),
    (14.3, 50.9),
    (13.6, 50.7),
    (12.5, 50.4),
    (12.1, 50.3),
    (12.5, 49.8),
    (12.9, 49.3),
    (13.8, 48.8),
    (13.4, 48.5),
    (13.0, 48.2),
    (12.8, 47.7),
    (13.0, 47.5),
    (12.2, 47.6),
    (11.2, 47.4),
    (10.5, 47.5),
    (10.0, 47.6),
    (9.6, 47.5),
    (8.9, 47.7),
    (8.6, 47.7),
    (7.6, 47.6),
    (7.5, 48.0),
    (7.8, 48.6),
    (8.2, 49.0),
    (7.0, 49.1),
    (6.4, 49.5),
    (6.1, 50.1),
    (6.4, 50.3),
    (6.0, 50.8),
    (5.9, 51.0),
    (6.2, 51.5),
    (5.95, 51.8),
    (6.8, 51.9),
    (7.0, 52.2),
    (6.7, 52.5),
    (7.1, 52.8),
    (7.2, 53.2),
];

/// A kind's colour on the map.
fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "dc" => "#1f77b4",
        "store" => "#2ca02c",
        _ => "#ff7f0e",
    }
}

/// Where the load falls on one side: every location that shipped, at its position, its
/// area proportional to its shipments on a scale of its own kind (DCs ship hundreds of
/// times what a store does; on one scale every store would be a dot). Hovering a circle
/// names the location and its figures.
pub fn load_map(title: &str, kpis: &Kpis, network: &Network) -> String {
    let (w, h) = (720.0, 560.0);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for l in &network.locations {
        x0 = x0.min(l.lon);
        x1 = x1.max(l.lon);
        y0 = y0.min(l.lat);
        y1 = y1.max(l.lat);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    // The outline only when the network lies within it.
    let germany = x0 >= 5.0 && x1 <= 15.8 && y0 >= 47.0 && y1 <= 55.5;
    if germany {
        (x0, x1, y0, y1) = (5.8, 15.1, 47.2, 55.1);
    }
    let pad_x = ((x1 - x0) * 0.04).max(0.05);
    let pad_y = ((y1 - y0) * 0.04).max(0.05);
    let (x0, x1, y0, y1) = (x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y);
    // Equirectangular, longitudes shortened by the cosine of the middle latitude.
    let shrink = ((y0 + y1) / 2.0).to_radians().cos().max(0.1);
    let (top, left, legend_w) = (40.0, 10.0, 170.0);
    let scale =
        ((w - left - legend_w - 10.0) / ((x1 - x0) * shrink)).min((h - top - 10.0) / (y1 - y0));
    let px = |lon: f64| left + (lon - x0) * shrink * scale;
    let py = |lat: f64| top + (y1 - lat) * scale;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif"><rect width="{w}" height="{h}" fill="white"/><text x="{}" y="22" font-size="16" text-anchor="middle">{}</text>"#,
        w / 2.0,
        escape(title)
    );
    if germany {
        let points: Vec<String> = GERMANY
            .iter()
            .map(|&(lon, lat)| format!("{:.1},{:.1}", px(lon), py(lat)))
            .collect();
        let _ = write!(
            svg,
            r##"<polygon points="{}" fill="#f4f4f0" stroke="#888" stroke-width="1"><title>Germany (simplified outline)</title></polygon>"##,
            points.join(" ")
        );
    }
    // Per kind: the most shipments, for the kind's own scale.
    let mut most: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for l in &kpis.locations {
        let m = most.entry(l.kind.as_str()).or_default();
        *m = (*m).max(l.shipments);
    }
    let radius = |kind: &str, n: u64| {
        let (small, big) = if kind == "store" {
            (2.0, 9.0)
        } else {
            (3.0, 18.0)
        };
        let m = most.get(kind).copied().unwrap_or(1).max(1) as f64;
        small + (big - small) * (n as f64 / m).sqrt()
    };
    // Stores and vendors first, biggest first, then the few DCs on top as rings, so that
    // neither hides the other and every circle can be hovered.
    let mut shown: Vec<_> = kpis.locations.iter().collect();
    shown.sort_by(|a, b| {
        (a.kind == "dc")
            .cmp(&(b.kind == "dc"))
            .then(b.shipments.cmp(&a.shipments))
            .then(a.location.cmp(&b.location))
    });
    for l in shown {
        let Some(n) = network.location(&l.location) else {
            continue;
        };
        let full = if l.full_days.is_empty() {
            String::new()
        } else {
            format!(", at capacity on {}", l.full_days.join(", "))
        };
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="{}" fill-opacity="{}" stroke="{}" stroke-width="{}"><title>{} ({}): {} shipments, {} units{}</title></circle>"#,
            px(n.lon),
            py(n.lat),
            radius(&l.kind, l.shipments),
            kind_colour(&l.kind),
            if l.kind == "dc" { "0.25" } else { "0.6" },
            match (l.full_days.is_empty(), l.kind == "dc") {
                (false, _) => "#b3261e",
                (true, true) => kind_colour("dc"),
                (true, false) => "none",
            },
            if l.full_days.is_empty() && l.kind != "dc" {
                0
            } else {
                2
            },
            escape(&l.location),
            l.kind,
            l.shipments,
            l.units,
            escape(&full)
        );
    }
    // The legend: kinds, the scale of each, and what a red ring means.
    let lx = w - legend_w + 5.0;
    let mut y = top + 10.0;
    for (kind, label) in [("dc", "DC"), ("store", "store"), ("dropship", "vendor")] {
        let Some(&m) = most.get(kind) else {
            continue;
        };
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="{}" fill-opacity="0.6"/><text x="{:.1}" y="{:.1}" font-size="12">{label}: {} shipments</text>"#,
            lx + 10.0,
            y + 8.0,
            radius(kind, m).min(10.0),
            kind_colour(kind),
            lx + 24.0,
            y + 12.0,
            short(m as f64, false)
        );
        y += 26.0;
    }
    let _ = write!(
        svg,
        r##"<circle cx="{:.1}" cy="{:.1}" r="6" fill="none" stroke="#b3261e" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="12">at capacity on a day</text><text x="{:.1}" y="{:.1}" font-size="11" fill="#555">area: shipments, per kind</text><text x="{:.1}" y="{:.1}" font-size="11" fill="#555">hover a circle for figures</text></svg>"##,
        lx + 10.0,
        y + 8.0,
        lx + 24.0,
        y + 12.0,
        lx,
        y + 34.0,
        lx,
        y + 50.0
    );
    svg
}

/// Shipments per day against the day's capacity, for the limited locations that were
/// busiest (most days at capacity, then highest peak): a row per location, a cell per day,
/// darker the fuller, outlined when full. `rows` caps the rows shown.
pub fn capacity_heatmap(title: &str, days: &[LocationDays], rows: usize) -> String {
    let mut all_days: Vec<&String> = days
        .iter()
        .flat_map(|l| l.days.iter().map(|d| &d.0))
        .collect();
    all_days.sort();
    all_days.dedup();
    let mut ranked: Vec<(&LocationDays, usize, f64)> = days
        .iter()
        .map(|l| {
            let full = l.days.iter().filter(|d| d.1 >= u64::from(d.2)).count();
            let peak = l
                .days
                .iter()
                .map(|d| d.1 as f64 / f64::from(d.2.max(1)))
                .fold(0.0, f64::max);
            (l, full, peak)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(b.2.partial_cmp(&a.2).unwrap_or(std::cmp::Ordering::Equal))
            .then(a.0.location.cmp(&b.0.location))
    });
    ranked.truncate(rows);
    let labels = day_labels(&all_days);
    let (cell_w, cell_h, left, top) = (
        (560.0 / all_days.len().max(1) as f64).clamp(8.0, 40.0),
        14.0,
        140.0,
        56.0,
    );
    let w = left + cell_w * all_days.len() as f64 + 20.0;
    let w = w.max(420.0);
    let h = top + cell_h * ranked.len() as f64 + 40.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="sans-serif"><rect width="{w:.0}" height="{h:.0}" fill="white"/><text x="{:.0}" y="20" font-size="15" text-anchor="middle">{}</text>"#,
        w / 2.0,
        escape(title)
    );
    let every = all_days.len().div_ceil(14).max(1);
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
                left + cell_w * (i as f64 + 0.5),
                top - 6.0,
                escape(label)
            );
        }
    }
    for (r, (l, _, _)) in ranked.iter().enumerate() {
        let y = top + cell_h * r as f64;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            left - 4.0,
            y + cell_h - 3.0,
            escape(&l.location)
        );
        for (day, sent, cap) in &l.days {
            let Some(i) = all_days.iter().position(|d| *d == day) else {
                continue;
            };
            let u = (*sent as f64 / f64::from((*cap).max(1))).min(1.0);
            // White to dark red by utilisation.
            let shade = |full: f64, empty: f64| (empty + (full - empty) * u) as u8;
            let full = *sent >= u64::from(*cap);
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="rgb({},{},{})" stroke="{}" stroke-width="{}"><title>{} on {day}: {sent} of {cap} shipments ({:.0} %)</title></rect>"##,
                left + cell_w * i as f64,
                y,
                cell_w - 1.0,
                cell_h - 1.0,
                shade(179.0, 250.0),
                shade(38.0, 250.0),
                shade(30.0, 250.0),
                if full { "#000" } else { "none" },
                if full { 1 } else { 0 },
                escape(&l.location),
                u * 100.0
            );
        }
    }
    let _ = write!(
        svg,
        r##"<text x="{left:.0}" y="{:.0}" font-size="11" fill="#555">colour: shipments / daily capacity (white 0 %, dark red 100 %); outlined: full that day</text></svg>"##,
        h - 14.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(names: &[&str]) -> String {
        lines(&Lines {
            title: "t",
            x_desc: "x",
            y_desc: "y",
            labels: vec!["a".into(), "b".into()],
            series: names
                .iter()
                .map(|n| (n.to_string(), vec![1.0, 2.0]))
                .collect(),
            percent: false,
        })
    }

    #[test]
    fn the_legend_has_its_own_rows_under_the_plot_and_cuts_long_names() {
        let long = "ship-from-store-first-with-a-very-long-descriptive-name-for-the-peak";
        let svg = chart(&["min-cost", long]);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}"));
        let height: u32 = doc
            .root_element()
            .attribute("height")
            .and_then(|h| h.parse().ok())
            .unwrap_or_default();
        assert!(height > H, "the drawing grows for the legend: {height}");
        let legend = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("legend"))
            .unwrap_or_else(|| panic!("a legend group"));
        let entries: Vec<_> = legend.children().filter(|n| n.is_element()).collect();
        assert_eq!(entries.len(), 2);
        for e in &entries {
            let text = e
                .descendants()
                .find(|n| n.has_tag_name("text"))
                .unwrap_or_else(|| panic!("a label"));
            let y: f64 = text
                .attribute("y")
                .and_then(|y| y.parse().ok())
                .unwrap_or(0.0);
            assert!(
                y > f64::from(H),
                "the label is under the plot, not on it: {y}"
            );
        }
        let shown = |i: usize| {
            entries[i]
                .descendants()
                .find(|n| n.has_tag_name("text"))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string()
        };
        let title = |i: usize| {
            entries[i]
                .descendants()
                .find(|n| n.has_tag_name("title"))
                .and_then(|n| n.text())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(shown(0), "min-cost");
        assert!(shown(1).ends_with('…') && shown(1).chars().count() <= LABEL_MAX);
        assert!(long.starts_with(shown(1).trim_end_matches('…')));
        assert_eq!(title(1), long, "the whole name on hover");
    }

    #[test]
    fn legend_entries_wrap_and_never_overlap() {
        let names: Vec<String> = (0..6)
            .map(|i| format!("side {i} {}", "x".repeat(20 + 5 * i)))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let legend = Legend::new(&refs, Swatch::Line);
        assert!(legend.rows > 1, "six long names take several rows");
        let char_w = f64::from(LEGEND_FONT) * 0.62;
        let width = |shown: &str| 24.0 + shown.chars().count() as f64 * char_w;
        for pair in legend.entries.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.0 == b.0 {
                assert!(a.1 + width(&a.2) <= b.1, "{} overlaps {}", a.2, b.2);
            } else {
                assert_eq!(b.0, a.0 + 1, "rows follow one another");
            }
        }
        for e in &legend.entries {
            assert!(
                e.1 + width(&e.2) <= f64::from(W),
                "{} runs off the chart",
                e.2
            );
        }
        // Two short names share one row.
        assert_eq!(
            Legend::new(&["min-cost", "ship-from-store-first"], Swatch::Bar).rows,
            1
        );
        assert_eq!(Legend::new(&[], Swatch::Bar).height(), 0);
    }
}
