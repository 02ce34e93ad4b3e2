//! The five charts, each built from the window of points it shows: throughput, error rate, latency (p50 and p99, log scale), stale reads and replication lag per replica.

use super::*;

pub(super) fn throughput(w: &Window) -> Chart {
    let value = |p: &Point| Some(p.requests as f64);
    let peak = w.max(value).unwrap_or(0.0);
    let max = nice_ceil(peak.max(1.0));
    let scale = Scale::Linear { max };
    let now = w.last.requests;
    Chart {
        id: "throughput",
        title: "Throughput",
        value: format!("{now} req/s"),
        summary: format!(
            "Throughput over the last {} s: {now} requests in the last second, peak {}.",
            w.span,
            fmt_num(peak)
        ),
        ticks: linear_ticks(max, fmt_num),
        lines: vec![Line {
            name: "requests per second".to_owned(),
            now: String::new(),
            color: BLUE,
            dash: DASHES[0],
            segments: segments(w, scale, value),
        }],
        x_labels: w.x_labels(),
        note: None,
    }
}

/// Share of a second's requests that failed, in percent (none when nothing finished).
fn error_pct(p: &Point) -> Option<f64> {
    (p.requests > 0).then(|| p.errors as f64 * 100.0 / p.requests as f64)
}

pub(super) fn error_rate(w: &Window) -> Chart {
    let peak = w.max(error_pct).unwrap_or(0.0);
    let max = nice_ceil(peak.max(1.0)).min(100.0);
    let scale = Scale::Linear { max };
    let last = w.last;
    let (value, summary) = match error_pct(last) {
        Some(pct) => (
            fmt_pct(pct),
            format!(
                "Error rate over the last {} s: {} of requests failed in the last second \
                 ({} of {}), peak {}.",
                w.span,
                fmt_pct(pct),
                last.errors,
                last.requests,
                fmt_pct(peak)
            ),
        ),
        None => (
            "no requests".to_owned(),
            format!(
                "Error rate over the last {} s: no requests finished in the last second, peak {}.",
                w.span,
                fmt_pct(peak)
            ),
        ),
    };
    Chart {
        id: "errors",
        title: "Error rate",
        value,
        summary,
        ticks: linear_ticks(max, fmt_pct),
        lines: vec![Line {
            name: "% of requests failed".to_owned(),
            now: String::new(),
            color: VERMILLION,
            dash: DASHES[0],
            segments: segments(w, scale, error_pct),
        }],
        x_labels: w.x_labels(),
        note: None,
    }
}

pub(super) fn latency(w: &Window) -> Chart {
    let p50 = |p: &Point| (p.requests > 0).then_some(p.p50_ms);
    let p99 = |p: &Point| (p.requests > 0).then_some(p.p99_ms);
    let peak = w.max(p99).unwrap_or(0.0).max(w.max(p50).unwrap_or(0.0));
    let floor = w.min_positive(p50).unwrap_or(1.0);
    // A log scale from the decade at or below the fastest median (0.1 ms to
    // 1 ms) to a round number above the slowest p99, at least two decades
    // high: a 4 s timeout and a 5 ms answer then both read clearly.
    let lo = decade_at_or_below(floor).clamp(0.1, 1.0);
    let hi = nice_ceil(peak).max(lo * 100.0);
    let scale = Scale::Log { lo, hi };
    let mut ticks = vec![(1.0, fmt_ms(hi))];
    let mut decade = hi;
    while decade > lo * 1.000_001 {
        decade = decade_at_or_below(decade / 1.000_001);
        let frac = scale.frac(decade);
        // Skip a decade that would crowd the top label.
        if frac < 0.88 {
            ticks.push((frac, fmt_ms(decade)));
        }
    }
    let last = w.last;
    let known = last.requests > 0;
    let (value, summary, now50, now99) = if known {
        (
            format!("p50 {} · p99 {}", fmt_ms(last.p50_ms), fmt_ms(last.p99_ms)),
            format!(
                "Latency over the last {} s, log scale: median {}, 99th percentile {} in the \
                 last second; slowest p99 {}.",
                w.span,
                fmt_ms(last.p50_ms),
                fmt_ms(last.p99_ms),
                fmt_ms(peak)
            ),
            fmt_ms(last.p50_ms),
            fmt_ms(last.p99_ms),
        )
    } else {
        (
            "no requests".to_owned(),
            format!(
                "Latency over the last {} s, log scale: no requests finished in the last second.",
                w.span
            ),
            "–".to_owned(),
            "–".to_owned(),
        )
    };
    Chart {
        id: "latency",
        title: "Latency (log scale)",
        value,
        summary,
        ticks,
        lines: vec![
            Line {
                name: "p50".to_owned(),
                now: now50,
                color: BLUE,
                dash: DASHES[0],
                segments: segments(w, scale, p50),
            },
            Line {
                name: "p99".to_owned(),
                now: now99,
                color: VERMILLION,
                dash: DASHES[1],
                segments: segments(w, scale, p99),
            },
        ],
        x_labels: w.x_labels(),
        note: None,
    }
}

pub(super) fn stale_reads(w: &Window) -> Chart {
    let value = |p: &Point| Some(p.stale as f64);
    let peak = w.max(value).unwrap_or(0.0);
    let max = nice_ceil(peak.max(1.0));
    let scale = Scale::Linear { max };
    let now = w.last.stale;
    let total: u64 = w.points.iter().map(|p| p.stale).sum();
    Chart {
        id: "stale",
        title: "Stale reads",
        value: format!("{now} /s"),
        summary: format!(
            "Stale reads over the last {} s: {now} in the last second, {total} in the window.",
            w.span
        ),
        ticks: linear_ticks(max, fmt_num),
        lines: vec![Line {
            name: "stale reads per second".to_owned(),
            now: String::new(),
            color: PURPLE,
            dash: DASHES[0],
            segments: segments(w, scale, value),
        }],
        x_labels: w.x_labels(),
        note: None,
    }
}

pub(super) fn replication_lag(w: &Window, replicas: &[String]) -> Chart {
    let n = w.points.iter().map(|p| p.lag_ms.len()).max().unwrap_or(0);
    let lag_of = |i: usize| move |p: &Point| p.lag_ms.get(i).copied().flatten();
    let peak = (0..n).filter_map(|i| w.max(lag_of(i))).fold(0.0, f64::max);
    let max = nice_ceil(peak.max(10.0));
    let scale = Scale::Linear { max };
    let mut lines = Vec::with_capacity(n);
    let mut summary = format!("Replication lag over the last {} s:", w.span);
    let mut worst: Option<(f64, usize)> = None;
    for i in 0..n {
        let name = replicas
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("replica {}", i + 1));
        let now = lag_of(i)(w.last);
        let now_text = now.map_or_else(|| "unknown".to_owned(), fmt_ms);
        let _ = write!(
            summary,
            "{} {name} {now_text}",
            if i == 0 { "" } else { "," }
        );
        if let Some(v) = now
            && worst.is_none_or(|(m, _)| v > m)
        {
            worst = Some((v, i));
        }
        lines.push(Line {
            name,
            now: now_text,
            color: PALETTE[i % PALETTE.len()],
            // Cycle dashes at a different period from colours so that pairs
            // stay unique for up to 35 replicas.
            dash: DASHES[i % DASHES.len()],
            segments: segments(w, scale, lag_of(i)),
        });
    }
    summary.push_str(if n == 0 { " no replicas." } else { "." });
    let value = match worst {
        Some((v, i)) => format!("max {} ({})", fmt_ms(v), lines[i].name),
        None => "unknown".to_owned(),
    };
    Chart {
        id: "lag",
        title: "Replication lag",
        value,
        summary,
        ticks: linear_ticks(max, fmt_ms),
        lines,
        x_labels: w.x_labels(),
        note: (n == 0).then_some("No database replicas in this scenario."),
    }
}
