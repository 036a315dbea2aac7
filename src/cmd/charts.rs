//! Charts for the simulation report, drawn as SVG with `plotters` and embedded in the page
//! (the report needs no network to open).

use plotters::prelude::*;
use sourcing_engine::simulate::Kpis;
use sourcing_engine::Network;

const W: u32 = 720;
const H: u32 = 300;
const COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

/// A line per rule set of one per-day figure.
pub fn per_day(
    title: &str,
    runs: &[(&str, &Kpis)],
    value: impl Fn(&sourcing_engine::simulate::Block) -> f64,
) -> String {
    let mut svg = String::new();
    let days: Vec<&String> = runs
        .first()
        .map(|r| r.1.by_day.keys().collect())
        .unwrap_or_default();
    let series: Vec<Vec<f64>> = runs
        .iter()
        .map(|(_, k)| {
            days.iter()
                .map(|d| k.by_day.get(*d).map_or(0.0, &value))
                .collect()
        })
        .collect();
    let top = series
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0..days.len().max(1), 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .x_labels(days.len().clamp(1, 10))
                .x_label_formatter(&|i| days.get(*i).map_or(String::new(), |d| d.to_string()))
                .draw();
            for (i, (name, _)) in runs.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let points: Vec<(usize, f64)> = series[i].iter().copied().enumerate().collect();
                if let Ok(s) =
                    chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                {
                    s.label(name.to_string())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour));
                }
                let _ = chart.draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 3, colour.filled())),
                );
            }
            let _ = chart.configure_series_labels().border_style(BLACK).draw();
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
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..kinds.len() as f64, 0.0..top);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
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
