//! The `pathlab-sim` command line: run a preset or scenario file and print a summary, list presets, export the read/write history, or measure speed.

use pathlab_sim::{Error, Scenario, Simulation, presets};
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  pathlab-sim run (--preset NAME | --scenario FILE) [--seed N] [--duration SECONDS] [--json]
  pathlab-sim history (--preset NAME | --scenario FILE) [--seed N] [--duration SECONDS]
  pathlab-sim presets
  pathlab-sim show (--preset NAME | --scenario FILE)
  pathlab-sim bench [--preset NAME] [--seed N] [--duration SECONDS]";

/// Parsed options shared by the subcommands.
#[derive(Default)]
struct Opts {
    preset: Option<String>,
    scenario: Option<String>,
    seed: Option<u64>,
    duration: Option<f64>,
    json: bool,
}

fn parse(args: lexopt::Parser, allow_json: bool) -> Result<Opts, String> {
    use lexopt::prelude::*;
    let mut args = args;
    let mut o = Opts::default();
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        match arg {
            Long("preset") => o.preset = Some(text(&mut args, "--preset")?),
            Long("scenario") => o.scenario = Some(text(&mut args, "--scenario")?),
            Long("seed") => {
                let v = text(&mut args, "--seed")?;
                o.seed = Some(v.parse().map_err(|_| {
                    format!(
                        "--seed must be a whole number from 0 to {}, got {v:?}",
                        u64::MAX
                    )
                })?);
            }
            Long("duration") => {
                let v = text(&mut args, "--duration")?;
                let d: f64 = v
                    .parse()
                    .map_err(|_| format!("--duration must be a number of seconds, got {v:?}"))?;
                if !(d.is_finite() && d > 0.0 && d <= 86_400.0) {
                    return Err(format!(
                        "--duration must be between 0 and 86400 seconds, got {v}"
                    ));
                }
                o.duration = Some(d);
            }
            Long("json") if allow_json => o.json = true,
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument {}", other.unexpected())),
        }
    }
    Ok(o)
}

fn text(args: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    let v = args.value().map_err(|_| format!("{flag} needs a value"))?;
    v.into_string()
        .map_err(|_| format!("{flag}: value is not valid text"))
}

fn load(o: &Opts) -> Result<Scenario, String> {
    let mut s = match (&o.preset, &o.scenario) {
        (Some(_), Some(_)) => return Err("give either --preset or --scenario, not both".into()),
        (Some(p), None) => presets::preset(p).map_err(|e| e.to_string())?,
        (None, Some(f)) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("cannot read {f}: {e}"))?;
            Scenario::from_json(&text).map_err(|e| format!("{f}: {e}"))?
        }
        (None, None) => {
            return Err("give --preset NAME or --scenario FILE (see `pathlab-sim presets`)".into());
        }
    };
    if let Some(d) = o.duration {
        s.duration_s = d;
    }
    Ok(s)
}

fn build(o: &Opts) -> Result<Simulation, String> {
    let s = load(o)?;
    let seed = o.seed.unwrap_or(s.seed);
    Simulation::new(&s, seed).map_err(|e: Error| e.to_string())
}

fn run(o: Opts) -> Result<(), String> {
    let mut sim = build(&o)?;
    sim.run();
    let s = sim.summary();
    if o.json {
        println!("{}", serde_json::to_string(&s).map_err(|e| e.to_string())?);
        return Ok(());
    }
    println!(
        "scenario      {} (seed {}, {} s simulated)",
        s.scenario, s.seed, s.duration_s
    );
    println!("fingerprint   {}  ({} events)", s.fingerprint, s.events);
    println!(
        "requests      {} finished, {} answered, {} failed — availability {:.3} %",
        s.requests.total,
        s.requests.ok,
        s.requests.failed,
        s.availability * 100.0
    );
    println!(
        "latency       p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        s.latency_ms.p50, s.latency_ms.p95, s.latency_ms.p99, s.latency_ms.max
    );
    println!("reads         {} ({} stale)", s.reads.total, s.reads.stale);
    println!(
        "writes        {} ({} acknowledged, {} lost)",
        s.writes.total, s.writes.acked, s.writes.lost
    );
    println!(
        "anomalies     stale {}, read-your-writes {}, monotonic {}, lost writes {}",
        s.anomalies.stale_read,
        s.anomalies.read_your_writes,
        s.anomalies.monotonic_read,
        s.anomalies.lost_write
    );
    let pct = |h: u64, m: u64| {
        if h + m == 0 {
            0.0
        } else {
            h as f64 * 100.0 / (h + m) as f64
        }
    };
    println!(
        "cdn           {} hits, {} misses ({:.1} % hit)",
        s.cdn.hits,
        s.cdn.misses,
        pct(s.cdn.hits, s.cdn.misses)
    );
    println!(
        "cache         {} hits, {} misses ({:.1} % hit)",
        s.cache.hits,
        s.cache.misses,
        pct(s.cache.hits, s.cache.misses)
    );
    println!(
        "database      leader {} (term {}), {} leader changes",
        s.db.leader.as_deref().unwrap_or("none"),
        s.db.term,
        s.leader_changes
    );
    let errors: Vec<String> = s
        .errors
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    if !errors.is_empty() {
        println!("errors        {}", errors.join(", "));
    }
    println!("log:");
    for e in sim.log() {
        println!("  {:>9}  {}", e.at.to_string(), sim.describe(e));
    }
    Ok(())
}

fn history(o: Opts) -> Result<(), String> {
    use std::io::Write;
    let mut sim = build(&o)?;
    sim.record_history();
    sim.run();
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for op in sim.history() {
        let line = serde_json::to_string(op).map_err(|e| e.to_string())?;
        if writeln!(out, "{line}").is_err() {
            // The reader went away (e.g. `| head`): stop quietly.
            return Ok(());
        }
    }
    out.flush().ok();
    Ok(())
}

fn show(o: Opts) -> Result<(), String> {
    println!("{}", load(&o)?.to_json());
    Ok(())
}

#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // The benchmark is the one place that reads the wall clock.
fn bench(o: Opts) -> Result<(), String> {
    let o = Opts {
        preset: o.preset.or(Some("default".into())),
        duration: o.duration.or(Some(600.0)),
        ..o
    };
    let mut best = 0.0f64;
    let mut line = String::new();
    for round in 1..=5 {
        let mut sim = build(&o)?;
        let start = std::time::Instant::now();
        sim.run();
        let secs = start.elapsed().as_secs_f64();
        let rate = sim.events() as f64 / secs;
        println!(
            "round {round}: {} events in {:.3} s = {:.2} million events/s ({} simulated s, fingerprint {})",
            sim.events(),
            secs,
            rate / 1e6,
            sim.now().as_secs_f64(),
            sim.fingerprint_hex()
        );
        if rate > best {
            best = rate;
            line = format!(
                "best: {:.2} million simulation events per second (goal ≥ 5)",
                rate / 1e6
            );
        }
    }
    println!("{line}");
    Ok(())
}

fn main() -> ExitCode {
    let mut args = lexopt::Parser::from_env();
    let sub = match args.next() {
        Ok(Some(lexopt::Arg::Value(v))) => v.into_string().unwrap_or_default(),
        Ok(Some(lexopt::Arg::Long("help") | lexopt::Arg::Short('h'))) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!(
                "error: missing subcommand (expected run, history, presets, show or bench; see --help)"
            );
            return ExitCode::from(2);
        }
    };
    let result = match sub.as_str() {
        "run" => parse(args, true).and_then(run),
        "history" => parse(args, false).and_then(history),
        "show" => parse(args, false).and_then(show),
        "bench" => parse(args, false).and_then(bench),
        "presets" => {
            for name in presets::NAMES.iter().chain(&presets::BENCH_NAMES) {
                if let Ok(s) = presets::preset(name) {
                    println!("{name:<22} {}", s.description);
                }
            }
            Ok(())
        }
        other => Err(format!(
            "unknown subcommand {other:?} (expected run, history, presets, show or bench; see --help)"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
