//! Charts for the simulation report, drawn as SVG with `plotters` and embedded in the page
//! (the report needs no network to open).

use plotters::prelude::*;
use sourcing_engine::simulate::Kpis;
use sourcing_engine::Network;

const W: u32 = 720;
const H: u32 = 300;
const COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

/// An axis value in a few characters: `1.2M`, `35k`, `640`, `0.95`.
fn short(v: f64) -> String {
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

/// Day labels for an axis: `MM-DD` when every day is in the same year, else the whole date.
fn day_labels(days: &[&String]) -> Vec<String> {
    let year = |d: &str| d.get(..5).map(str::to_string);
    let one_year = days.windows(2).all(|w| year(w[0]) == year(w[1]));
    days.iter()
        .map(|d| match d.get(5..) {
            Some(rest) if one_year && d.len() == 10 => rest.to_string(),
            _ => d.to_string(),
        })
        .collect()
}

/// A line per rule set of one per-day figure; `unit_max` caps the axis at 1 for rates.
pub fn per_day(
    title: &str,
    runs: &[(&str, &Kpis)],
    value: impl Fn(&sourcing_engine::simulate::Block) -> f64,
    unit_max: bool,
) -> String {
    let mut svg = String::new();
    let days: Vec<&String> = runs
        .first()
        .map(|r| r.1.by_day.keys().collect())
        .unwrap_or_default();
    let labels = day_labels(&days);
    let series: Vec<Vec<f64>> = runs
        .iter()
        .map(|(_, k)| {
            days.iter()
                .map(|d| k.by_day.get(*d).map_or(0.0, &value))
                .collect()
        })
        .collect();
    let most = series.iter().flatten().copied().fold(0.0f64, f64::max);
    let top = if unit_max {
        1.05
    } else {
        most.max(1e-9) * 1.15
    };
    // One slot per day, the point in its middle: a single day sits mid-chart.
    let n = days.len().max(1);
    let every = n.div_ceil(12);
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .light_line_style(WHITE)
                .disable_x_mesh()
                .x_labels(n.min(60) * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() > 1e-6 || i < 0.0 || !(i as usize).is_multiple_of(every) {
                        return String::new();
                    }
                    labels.get(i as usize).cloned().unwrap_or_default()
                })
                .y_label_formatter(&|y| short(*y))
                .draw();
            for (i, (name, _)) in runs.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let points: Vec<(f64, f64)> = series[i]
                    .iter()
                    .enumerate()
                    .map(|(d, &v)| (d as f64, v))
                    .collect();
                // The first line is wider, so it still shows where the second lies on it.
                let width = if i == 0 { 4 } else { 2 };
                if let Ok(s) =
                    chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(width)))
                {
                    s.label(name.to_string())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
                }
                let radius = if n > 40 { 2 } else { 3 };
                let _ = chart.draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, radius, colour.filled())),
                );
            }
            let _ = chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw();
        }
        let _ = root.present();
    }
    svg
}

/// Units placed by location kind, one bar group per rule set.
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
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = runs.len().max(1);
        let chart = ChartBuilder::on(&root)
            .caption("Units placed by location kind", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..kinds.len() as f64, 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .light_line_style(WHITE)
                .disable_x_mesh()
                .x_labels(kinds.len() * 2 + 1)
                .x_label_formatter(&|x| {
                    let i = x.floor() as usize;
                    if (x - x.floor() - 0.5).abs() < 0.01 {
                        kinds.get(i).map_or(String::new(), |k| k.to_string())
                    } else {
                        String::new()
                    }
                })
                .y_label_formatter(&|y| short(*y))
                .draw();
            for (r, (name, k)) in runs.iter().enumerate() {
                let colour = COLOURS[r % COLOURS.len()];
                let width = 0.8 / n as f64;
                let bars = kinds.iter().enumerate().map(|(i, kd)| {
                    let v = k.overall.units_by_kind.get(*kd).copied().unwrap_or(0) as f64;
                    let x0 = i as f64 + 0.1 + width * r as f64;
                    Rectangle::new([(x0, 0.0), (x0 + width, v)], colour.filled())
                });
                if let Ok(s) = chart.draw_series(bars) {
                    s.label(name.to_string()).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                    });
                }
            }
            let _ = chart.configure_series_labels().border_style(BLACK).draw();
        }
        let _ = root.present();
    }
    svg
}

/// Where the load falls: every location that shipped, at its position, sized by shipments.
pub fn load_map(kpis: &Kpis, network: &Network) -> String {
    let mut svg = String::new();
    let points: Vec<(f64, f64, u64, &str)> = kpis
        .locations
        .iter()
        .filter_map(|l| {
            network
                .location(&l.location)
                .map(|n| (n.lon, n.lat, l.shipments, l.kind.as_str()))
        })
        .collect();
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
    let pad_x = ((x1 - x0) * 0.05).max(0.1);
    let pad_y = ((y1 - y0) * 0.05).max(0.1);
    let most = points.iter().map(|p| p.2).max().unwrap_or(1).max(1) as f64;
    {
        let root = SVGBackend::with_string(&mut svg, (W, 420)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(
                "Load by location (area: shipments; blue DC, green store, orange vendor)",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d((x0 - pad_x)..(x1 + pad_x), (y0 - pad_y)..(y1 + pad_y));
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .light_line_style(WHITE)
                .x_desc("longitude")
                .y_desc("latitude")
                .draw();
            let colour = |kind: &str| match kind {
                "dc" => RGBColor(31, 119, 180),
                "store" => RGBColor(44, 160, 44),
                _ => RGBColor(255, 127, 14),
            };
            let _ = chart.draw_series(points.iter().map(|&(x, y, n, kind)| {
                let r = (3.0 + 17.0 * (n as f64 / most).sqrt()) as i32;
                Circle::new((x, y), r, colour(kind).mix(0.6).filled())
            }));
        }
        let _ = root.present();
    }
    svg
}
