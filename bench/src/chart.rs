//! SVG charts of the benchmark reports, written by hand (a few lines of
//! markup each; no plotting crate to build).

use std::fmt::Write;

/// The two axis lines of a plot area (left, top, width, height) and their labels.
pub fn axes(left: f64, top: f64, pw: f64, ph: f64, x_label: &str, y_label: &str) -> String {
    format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b:.1}\" stroke=\"black\"/>\n\
         <line x1=\"{left}\" y1=\"{b:.1}\" x2=\"{r:.1}\" y2=\"{b:.1}\" stroke=\"black\"/>\n\
         <text x=\"{cx:.1}\" y=\"{xl:.1}\" text-anchor=\"middle\">{x_label}</text>\n\
         <text x=\"18\" y=\"{cy:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {cy:.1})\">{y_label}</text>\n",
        b = top + ph,
        r = left + pw,
        cx = left + pw / 2.0,
        xl = top + ph + 40.0,
        cy = top + ph / 2.0,
    )
}

/// One curve of [`cdf_log_x`].
pub struct Series<'a> {
    pub label: &'a str,
    pub colour: &'a str,
    /// Milliseconds, any order.
    pub ms: Vec<f64>,
}

/// More points than this per curve do not show at this size; the curve keeps
/// evenly spaced quantiles (and the last sample, so the max stays visible).
const MAX_POINTS: usize = 400;

fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// An empirical distribution per series: the share of its samples at or
/// below a latency, on a log latency axis (one chart holds millisecond
/// fan-outs and second-long backlogs side by side).
pub fn cdf_log_x(title: &str, x_label: &str, series: &[Series]) -> String {
    let (w, h) = (860.0, 420.0);
    let (left, right, top, bottom) = (60.0, 330.0, 40.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let sorted: Vec<Vec<f64>> = series
        .iter()
        .map(|s| {
            let mut v: Vec<f64> = s.ms.iter().copied().filter(|x| x.is_finite() && *x > 0.0).collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    let all = || sorted.iter().flatten().copied();
    let lo = all().fold(f64::INFINITY, f64::min);
    let hi = all().fold(0.0, f64::max);
    let (xmin, xmax) = if lo.is_finite() && hi > 0.0 {
        let (a, b) = (lo.log10().floor(), hi.log10().ceil());
        (a, if b > a { b } else { a + 1.0 })
    } else {
        (0.0, 1.0)
    };
    let x = |ms: f64| left + (ms.log10() - xmin) / (xmax - xmin) * pw;
    let y = |share: f64| top + ph - share * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{cx}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{title}</text>",
        cx = (left + pw / 2.0)
    );
    for (share, label) in [(0.0, "0"), (0.25, "25%"), (0.5, "50%"), (0.75, "75%"), (0.9, "90%"), (1.0, "100%")] {
        let yy = y(share);
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            left + pw,
            left - 6.0,
            yy + 4.0
        );
    }
    let mut e = xmin;
    while e <= xmax {
        let ms = 10f64.powf(e);
        let xx = x(ms);
        let label = match e as i32 {
            d if d >= 3 => format!("{:.0} s", 10f64.powi(d - 3)),
            d if d >= 0 => format!("{ms:.0} ms"),
            d => format!("{ms:.*} ms", (-d) as usize),
        };
        let _ = writeln!(
            s,
            "<line x1=\"{xx:.1}\" y1=\"{top}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            top + ph,
            top + ph + 18.0
        );
        e += 1.0;
    }
    s.push_str(&axes(left, top, pw, ph, x_label, "share of messages at or below"));
    for (i, (serie, v)) in series.iter().zip(&sorted).enumerate() {
        if v.is_empty() {
            continue;
        }
        let n = v.len();
        let step = n.div_ceil(MAX_POINTS).max(1);
        // A step curve: the share rises to (k+1)/n at the k-th smallest sample.
        let mut pts = vec![format!("{:.1},{:.1}", x(v[0]), y(0.0))];
        let mut k = 0;
        while k < n {
            pts.push(format!("{:.1},{:.1}", x(v[k]), y((k + 1) as f64 / n as f64)));
            k = if k + step >= n && k != n - 1 { n - 1 } else { k + step };
        }
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
            pts.join(" "),
            c = serie.colour
        );
        let (p50, p99) = (nearest_rank(v, 0.5), nearest_rank(v, 0.99));
        for (p, share) in [(p50, 0.5), (p99, 0.99)] {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{c}\"/>",
                x(p),
                y(share),
                c = serie.colour
            );
        }
        let (lx, ly) = (left + pw + 15.0, top + 8.0 + i as f64 * 36.0);
        let _ = writeln!(
            s,
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{c}\" stroke-width=\"2\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{label}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\">n={n}, p50 {p50:.1} ms, p99 {p99:.1} ms</text>",
            lx + 24.0,
            lx + 30.0,
            ly + 4.0,
            lx + 30.0,
            ly + 18.0,
            c = serie.colour,
            label = serie.label
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_curve_per_series_with_its_quantiles() {
        let fast = Series { label: "fast", colour: "#1f77b4", ms: (1..=1000).map(|i| i as f64 / 100.0).collect() };
        let slow = Series { label: "slow", colour: "#d62728", ms: vec![300.0, 100.0, 200.0] };
        let svg = cdf_log_x("t", "ms", &[fast, slow]);
        assert_eq!(svg.matches("<polyline").count(), 2);
        // 1000 samples thinned to at most MAX_POINTS steps (plus the start and the max).
        let first = svg.lines().find(|l| l.starts_with("<polyline")).unwrap();
        let points = first.split('"').nth(1).unwrap().split(' ').count();
        assert!(points <= MAX_POINTS + 2, "{points} points");
        assert!(svg.contains("p50 5.0 ms, p99 9.9 ms"), "{svg}");
        assert!(svg.contains("n=3, p50 200.0 ms, p99 300.0 ms"), "{svg}");
        // Decades from 0.01 ms to 1 s on the axis.
        assert!(svg.contains(">0.01 ms<") && svg.contains(">1 s<"), "{svg}");
    }

    #[test]
    fn empty_series_draw_axes_only() {
        let svg = cdf_log_x("t", "ms", &[Series { label: "none", colour: "#000", ms: vec![] }]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 0);
    }
}
