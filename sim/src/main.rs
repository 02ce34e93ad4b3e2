//! The `pathlab-sim` command line: run a preset or scenario file and print a summary, list presets, export the read/write history, or measure speed.

use pathlab_sim::{Error, Scenario, Simulation, presets};
use std::io::Write;
use std::process::ExitCode;

/// The system allocator, counting the bytes in use (for `memory` and
/// `travel`).
#[global_allocator]
static ALLOC: heapcount::Counting = heapcount::Counting;

/// Why a subcommand stopped early.
enum Stop {
    /// Bad input or a failed write: one line on stderr, exit status 2.
    Fail(String),
    /// The reader of our output went away (`| head`): end quietly, like
    /// other command-line tools.
    Closed,
    /// A check found what it checks to be false (it said which): exit
    /// status 1.
    Failed,
}

impl From<String> for Stop {
    fn from(msg: String) -> Stop {
        Stop::Fail(msg)
    }
}

/// Standard output, buffered; a closed pipe and a failed write are told apart.
struct Out(std::io::BufWriter<std::io::StdoutLock<'static>>);

impl Out {
    fn new() -> Out {
        Out(std::io::BufWriter::new(std::io::stdout().lock()))
    }

    fn line(&mut self, text: std::fmt::Arguments) -> Result<(), Stop> {
        writeln!(self.0, "{text}").map_err(write_error)
    }

    fn done(mut self) -> Result<(), Stop> {
        self.0.flush().map_err(write_error)
    }
}

fn write_error(e: std::io::Error) -> Stop {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Stop::Closed
    } else {
        Stop::Fail(format!("cannot write the output: {e}"))
    }
}

/// Writes one line of output (`out!(out, "...", args)`).
macro_rules! out {
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))?
    };
}

const USAGE: &str = "\
usage:
  pathlab-sim run (--preset NAME | --scenario FILE) [--seed N] [--duration SECONDS] [--json]
  pathlab-sim run --run-file FILE [--json]
      replays a run saved by the browser to where it was saved (same fingerprint)
  pathlab-sim history (--preset NAME | --scenario FILE) [--seed N] [--duration SECONDS]
  pathlab-sim history --run-file FILE
      the read/write history as JSON lines, for outside consistency checkers
  pathlab-sim presets
  pathlab-sim show (--preset NAME | --scenario FILE)
  pathlab-sim bench [--preset NAME] [--seed N] [--duration SECONDS]
  pathlab-sim memory [--preset NAME | --scenario FILE] [--seed N]
  pathlab-sim explain (--preset NAME | --scenario FILE) [--seed N] [--duration SECONDS] [--request N] [--json]
      why request N went wrong, as numbered facts; without --request, lists anomalous requests
  pathlab-sim travel [--preset NAME | --scenario FILE] [--seed N] [--duration SECONDS]
  pathlab-sim sweep (--preset NAME | --scenario FILE) --vary FIELD=V1,V2 [--vary FIELD=V1,V2] [--seeds A..B] [--duration SECONDS] [--json]
      runs every combination of the values for every seed, in parallel, and prints each figure's mean and spread
  pathlab-sim compare (--preset NAME | --scenario FILE) --b FIELD=VALUE [--b FIELD=VALUE] [--seed N] [--duration SECONDS] [--json]
      the scenario (A) and the same with those fields changed (B), same seed, side by side: what users saw, which did better, the trade-off
  pathlab-sim lesson check FILE... [--json]
      plays each lesson at its seed and reports every claim as held or FAILED (exit status 1 if one failed)";

/// Parsed options shared by the subcommands.
#[derive(Default)]
struct Opts {
    preset: Option<String>,
    scenario: Option<String>,
    seed: Option<u64>,
    duration: Option<f64>,
    json: bool,
    request: Option<u64>,
    run_file: Option<String>,
}

fn parse(args: lexopt::Parser, allow_json: bool) -> Result<Opts, String> {
    parse_for(args, allow_json, false)
}

/// Like [`parse`]; `explaining` also accepts `--request`.
fn parse_for(args: lexopt::Parser, allow_json: bool, explaining: bool) -> Result<Opts, String> {
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
            Long("duration") => o.duration = Some(duration(&text(&mut args, "--duration")?)?),
            Long("json") if allow_json => o.json = true,
            Long("run-file") if !explaining => o.run_file = Some(text(&mut args, "--run-file")?),
            Long("request") if explaining => {
                let v = text(&mut args, "--request")?;
                o.request = Some(
                    v.parse()
                        .map_err(|_| format!("--request must be a request number, got {v:?}"))?,
                );
            }
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unexpected argument {}", other.unexpected())),
        }
    }
    Ok(o)
}

/// Reads `--duration`'s value: seconds, above 0 and at most a day.
fn duration(v: &str) -> Result<f64, String> {
    let d: f64 = v
        .parse()
        .map_err(|_| format!("--duration must be a number of seconds, got {v:?}"))?;
    if !(d.is_finite() && d > 0.0 && d <= 86_400.0) {
        return Err(format!(
            "--duration must be between 0 and 86400 seconds, got {v}"
        ));
    }
    Ok(d)
}

fn text(args: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    let v = args.value().map_err(|_| format!("{flag} needs a value"))?;
    v.into_string()
        .map_err(|_| format!("{flag}: value is not valid text"))
}

fn load(o: &Opts) -> Result<Scenario, String> {
    if o.run_file.is_some() {
        return Err("--run-file works with run and history only".into());
    }
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

/// Reads a run file (given alone), naming what is wrong with it.
fn read_run_file(o: &Opts, path: &str) -> Result<pathlab_sim::runfile::RunFile, String> {
    if o.preset.is_some() || o.scenario.is_some() || o.seed.is_some() || o.duration.is_some() {
        return Err(
            "--run-file holds the scenario, the seed and how far to play: give it alone".into(),
        );
    }
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {path}: {e}"))?
        .len();
    if size > pathlab_sim::runfile::MAX_RUN_FILE_BYTES as u64 {
        return Err(format!(
            "{path}: {size} bytes is more than the {} a run file may have",
            pathlab_sim::runfile::MAX_RUN_FILE_BYTES
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    pathlab_sim::runfile::RunFile::from_json(&text).map_err(|e| format!("{path}: {e}"))
}

/// Replays a run file to where it was saved.
fn replay_file(o: &Opts, path: &str) -> Result<pathlab_sim::Timeline, String> {
    let file = read_run_file(o, path)?;
    let t = file.replay().map_err(|e| format!("{path}: {e}"))?;
    if let Some(fp) = &file.fingerprint
        && *fp != t.sim().fingerprint_hex()
    {
        eprintln!(
            "warning: {path} was saved at fingerprint {fp}; this replay reached {}",
            t.sim().fingerprint_hex()
        );
    }
    Ok(t)
}

fn run(o: Opts) -> Result<(), Stop> {
    let replayed;
    let mut built;
    let sim: &Simulation = match &o.run_file {
        Some(path) => {
            replayed = replay_file(&o, path)?;
            replayed.sim()
        }
        None => {
            built = build(&o)?;
            built.run();
            &built
        }
    };
    let mut out = Out::new();
    let s = sim.summary();
    if o.json {
        out!(
            out,
            "{}",
            serde_json::to_string(&s).map_err(|e| e.to_string())?
        );
        return out.done();
    }
    out!(
        out,
        "scenario      {} (seed {}, {} s simulated)",
        s.scenario,
        s.seed,
        s.duration_s
    );
    out!(
        out,
        "fingerprint   {}  ({} events)",
        s.fingerprint,
        s.events
    );
    out!(
        out,
        "requests      {} finished, {} answered, {} failed — availability {:.3} %",
        s.requests.total,
        s.requests.ok,
        s.requests.failed,
        s.availability * 100.0
    );
    out!(
        out,
        "latency       p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        s.latency_ms.p50,
        s.latency_ms.p95,
        s.latency_ms.p99,
        s.latency_ms.max
    );
    out!(
        out,
        "reads         {} ({} stale)",
        s.reads.total,
        s.reads.stale
    );
    out!(
        out,
        "writes        {} ({} acknowledged, {} lost)",
        s.writes.total,
        s.writes.acked,
        s.writes.lost
    );
    out!(
        out,
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
    out!(
        out,
        "cdn           {} hits, {} misses ({:.1} % hit)",
        s.cdn.hits,
        s.cdn.misses,
        pct(s.cdn.hits, s.cdn.misses)
    );
    out!(
        out,
        "cache         {} hits, {} misses ({:.1} % hit)",
        s.cache.hits,
        s.cache.misses,
        pct(s.cache.hits, s.cache.misses)
    );
    out!(
        out,
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
        out!(out, "errors        {}", errors.join(", "));
    }
    out!(out, "log:");
    for e in sim.log() {
        out!(out, "  {:>9}  {}", e.at.to_string(), sim.describe(e));
    }
    out.done()
}

fn history(o: Opts) -> Result<(), Stop> {
    let sim = match &o.run_file {
        Some(path) => read_run_file(&o, path)?
            .replay_with_history()
            .map_err(|e| format!("{path}: {e}"))?,
        None => {
            let mut sim = build(&o)?;
            sim.record_history();
            sim.run();
            sim
        }
    };
    let mut out = Out::new();
    for op in sim.history() {
        out!(
            out,
            "{}",
            serde_json::to_string(op).map_err(|e| e.to_string())?
        );
    }
    out.done()
}

fn show(o: Opts) -> Result<(), Stop> {
    let text = load(&o)?.to_json();
    let mut out = Out::new();
    out!(out, "{text}");
    out.done()
}

/// The flags that the sweep and the comparison share.
const SHARED_FLAGS: [&str; 4] = ["preset", "scenario", "duration", "json"];

/// Takes one of [`SHARED_FLAGS`] (`--preset`, `--scenario`, `--duration`,
/// `--json`) and its value.
fn scenario_flag(flag: &str, args: &mut lexopt::Parser, o: &mut Opts) -> Result<(), String> {
    match flag {
        "preset" => o.preset = Some(text(args, "--preset")?),
        "scenario" => o.scenario = Some(text(args, "--scenario")?),
        "duration" => o.duration = Some(duration(&text(args, "--duration")?)?),
        _ => o.json = true,
    }
    Ok(())
}

/// `sweep (--preset NAME | --scenario FILE) --vary FIELD=V1,V2 [--vary …]
/// [--seeds A..B] [--duration S] [--json]`: every combination of the
/// values, each for every seed, run in parallel across the cores; the mean
/// and spread of each figure per combination.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // It says how long the sweep took.
fn sweep(args: lexopt::Parser) -> Result<(), Stop> {
    use lexopt::prelude::*;
    use pathlab_sim::sweep::{FIGURES, Vary, run_one, spread, variants};
    use rayon::prelude::*;
    let mut args = args;
    let mut o = Opts::default();
    let mut vary = Vec::new();
    let mut seeds: Option<(u64, u64)> = None;
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        match arg {
            Long(flag) if SHARED_FLAGS.contains(&flag) => {
                let flag = flag.to_string();
                scenario_flag(&flag, &mut args, &mut o)?;
            }
            Long("vary") => vary.push(Vary::parse(&text(&mut args, "--vary")?)?),
            Long("seeds") => {
                let v = text(&mut args, "--seeds")?;
                let bad = || format!("--seeds must be N or A..B (whole numbers, A ≤ B), got {v:?}");
                let (a, b) = v.split_once("..").unwrap_or((&v, &v));
                let (a, b): (u64, u64) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a > b || b - a >= 1000 {
                    return Err(Stop::Fail(format!("{} (at most 1000 seeds)", bad())));
                }
                seeds = Some((a, b));
            }
            Long("help") | Short('h') => {
                let mut out = Out::new();
                out!(out, "{USAGE}");
                return out.done();
            }
            other => return Err(Stop::Fail(format!("sweep: {}", other.unexpected()))),
        }
    }
    if vary.is_empty() || vary.len() > 6 || vary.iter().filter(|v| v.values.len() > 1).count() > 2 {
        return Err(Stop::Fail(
            "sweep needs one or two --vary FIELD=V1,V2 (like --vary db.replication=async,sync); more --vary FIELD=V may each set one value"
                .into(),
        ));
    }
    let base = load(&o)?;
    let (a, b) = seeds.unwrap_or((base.seed, base.seed));
    let seeds: Vec<u64> = (a..=b).collect();
    let vs = variants(&base, &vary).map_err(|e| e.to_string())?;
    let jobs: Vec<(usize, u64)> = (0..vs.len())
        .flat_map(|i| seeds.iter().map(move |&s| (i, s)))
        .collect();
    let started = std::time::Instant::now();
    let results: Vec<_> = jobs
        .par_iter()
        .map(|&(i, seed)| run_one(&vs[i].scenario, seed, o.duration).map(|r| (i, r)))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let mut out = Out::new();
    let per_variant: Vec<Vec<&pathlab_sim::sweep::RunResult>> = (0..vs.len())
        .map(|i| {
            results
                .iter()
                .filter(|(j, _)| *j == i)
                .map(|(_, r)| r)
                .collect()
        })
        .collect();
    let stats = |runs: &[&pathlab_sim::sweep::RunResult], k: usize| {
        spread(&runs.iter().map(|r| r.figures[k]).collect::<Vec<_>>())
    };
    if o.json {
        let variants: Vec<serde_json::Value> = vs
            .iter()
            .zip(&per_variant)
            .map(|(v, runs)| {
                let figures: serde_json::Map<String, serde_json::Value> = FIGURES
                    .iter()
                    .enumerate()
                    .map(|(k, f)| (f.to_string(), serde_json::to_value(stats(runs, k)).unwrap_or_default()))
                    .collect();
                serde_json::json!({
                    "label": v.label(),
                    "values": v.values.iter().map(|(f, x)| (f.clone(), x.clone())).collect::<serde_json::Map<_, _>>(),
                    "figures": figures,
                    "runs": runs,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "scenario": base.name,
            "duration_s": o.duration.unwrap_or(base.duration_s),
            "seeds": seeds,
            "vary": vary.iter().map(|v| serde_json::json!({"field": v.field, "values": v.values})).collect::<Vec<_>>(),
            "figures": FIGURES,
            "variants": variants,
            "threads": rayon::current_num_threads(),
            "wall_s": secs,
        });
        out!(out, "{doc}");
        return out.done();
    }
    out!(
        out,
        "sweep of {}: {} variants × {} seeds ({}..={}), {} simulated s each; {} runs in {:.2} s on {} threads",
        base.name,
        vs.len(),
        seeds.len(),
        a,
        b,
        o.duration.unwrap_or(base.duration_s),
        jobs.len(),
        secs,
        rayon::current_num_threads()
    );
    for (v, runs) in vs.iter().zip(&per_variant) {
        out!(out, "{}:", v.label());
        for (k, f) in FIGURES.iter().enumerate() {
            let s = stats(runs, k);
            if s.mean.is_nan() {
                // A figure this design does not have.
                continue;
            }
            out!(
                out,
                "  {f:<28} mean {:>12.4}  sd {:>10.4}  min {:>12.4}  max {:>12.4}",
                s.mean,
                s.sd,
                s.min,
                s.max
            );
        }
    }
    out.done()
}

/// `compare (--preset NAME | --scenario FILE) --b FIELD=VALUE [--b …]
/// [--seed N] [--duration S] [--json]`: the scenario (A) and the same with
/// the fields changed (B), same seed, played side by side; the table of
/// what users saw and the trade-off in one line.
fn compare(args: lexopt::Parser) -> Result<(), Stop> {
    use lexopt::prelude::*;
    use pathlab_sim::compare::{Better, Pair, differences, trade_off};
    use pathlab_sim::sweep::{Vary, variants};
    let mut args = args;
    let mut o = Opts::default();
    let mut changes = Vec::new();
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        match arg {
            Long(flag) if SHARED_FLAGS.contains(&flag) => {
                let flag = flag.to_string();
                scenario_flag(&flag, &mut args, &mut o)?;
            }
            Long("seed") => {
                let v = text(&mut args, "--seed")?;
                o.seed = Some(
                    v.parse()
                        .map_err(|_| format!("--seed must be a whole number, got {v:?}"))?,
                );
            }
            Long("b") => {
                let v = Vary::parse(&text(&mut args, "--b")?)?;
                if v.values.len() != 1 {
                    return Err(Stop::Fail(format!("--b {}: give one value", v.field)));
                }
                changes.push(v);
            }
            Long("help") | Short('h') => {
                let mut out = Out::new();
                out!(out, "{USAGE}");
                return out.done();
            }
            other => return Err(Stop::Fail(format!("compare: {}", other.unexpected()))),
        }
    }
    if changes.is_empty() {
        return Err(Stop::Fail(
            "compare needs what B changes: --b FIELD=VALUE (like --b db.replication=sync)".into(),
        ));
    }
    let a = load(&o)?;
    let b = variants(&a, &changes)
        .map_err(|e| e.to_string())?
        .remove(0)
        .scenario;
    let seed = o.seed.unwrap_or(a.seed);
    let mut pair = Pair::new(&a, &b, seed).map_err(|e| e.to_string())?;
    pair.advance(pathlab_sim::SimTime::from_secs_f64(a.duration_s));
    let rows = pair.rows();
    let diffs = differences(&a, &b);
    let line = trade_off(&diffs, &rows);
    let mut out = Out::new();
    if o.json {
        let doc = serde_json::json!({
            "scenario": a.name,
            "seed": seed,
            "duration_s": a.duration_s,
            "differences": diffs.iter().map(|(p, x, y)| serde_json::json!({"field": p, "a": x, "b": y})).collect::<Vec<_>>(),
            "fingerprints": {"a": pair.a.sim().fingerprint_hex(), "b": pair.b.sim().fingerprint_hex()},
            "rows": rows,
            "trade_off": line,
        });
        out!(out, "{doc}");
        return out.done();
    }
    out!(
        out,
        "A: {} · B: {} · seed {seed}, {} simulated s",
        a.name,
        line.split(':').next().unwrap_or(""),
        a.duration_s
    );
    out!(out, "{:<30} {:>12} {:>12}  better", "", "A", "B");
    for r in &rows {
        let better = match r.better {
            Better::A => "A",
            Better::B => "B",
            Better::Same => "=",
        };
        out!(out, "{:<30} {:>12.3} {:>12.3}  {better}", r.name, r.a, r.b);
    }
    out!(out, "{line}");
    out.done()
}

/// `lesson check FILE... [--json]`: plays each lesson and reports every
/// claim; exit status 1 when one does not hold.
fn lesson(args: lexopt::Parser) -> Result<(), Stop> {
    use lexopt::prelude::*;
    use pathlab_sim::lesson::Lesson;
    let mut args = args;
    let mut files = Vec::new();
    let mut json = false;
    let mut sub = None;
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        match arg {
            Long("json") => json = true,
            Long("help") | Short('h') => {
                let mut out = Out::new();
                out!(out, "{USAGE}");
                return out.done();
            }
            Value(v) => {
                let v = v
                    .into_string()
                    .map_err(|_| "a file name is not valid text".to_string())?;
                if sub.is_none() {
                    sub = Some(v);
                } else {
                    files.push(v);
                }
            }
            other => return Err(Stop::Fail(format!("lesson: {}", other.unexpected()))),
        }
    }
    match sub.as_deref() {
        Some("check") => {}
        Some(other) => {
            return Err(Stop::Fail(format!(
                "unknown lesson subcommand {other:?} (expected check)"
            )));
        }
        None => {
            return Err(Stop::Fail(
                "lesson needs a subcommand: lesson check FILE".into(),
            ));
        }
    }
    if files.is_empty() {
        return Err(Stop::Fail("lesson check needs a lesson file".into()));
    }
    let mut out = Out::new();
    let mut failed = false;
    let mut reports = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let report = Lesson::from_json(&text)
            .and_then(|l| l.check())
            .map_err(|e| format!("{path}: {e}"))?;
        failed |= !report.all_held();
        if json {
            reports.push(report);
            continue;
        }
        out!(out, "lesson {} (seed {}):", report.lesson, report.seed);
        for s in &report.steps {
            out!(out, "  step {} {:?} at {:.1} s", s.step, s.title, s.t_s);
            for c in &s.claims {
                let word = if c.held { "held  " } else { "FAILED" };
                out!(out, "    {word} {}   (it is {})", c.claim, c.value);
            }
            if let Some(k) = s.right_choice {
                out!(out, "    answer: choice {}", k + 1);
            }
            if let Some(r) = &s.reveal {
                out!(out, "    reveal: {r}");
            }
        }
    }
    if json {
        let text = serde_json::to_string_pretty(&reports).map_err(|e| e.to_string())?;
        out!(out, "{text}");
    }
    out.done()?;
    if failed {
        if !json {
            eprintln!("some claims do not hold (marked FAILED above)");
        }
        return Err(Stop::Failed);
    }
    Ok(())
}

fn list_presets(args: lexopt::Parser) -> Result<(), Stop> {
    let mut args = args;
    if let Some(arg) = args.next().map_err(|e| e.to_string())? {
        return Err(Stop::Fail(format!(
            "presets takes no arguments, got {}",
            arg.unexpected()
        )));
    }
    let mut out = Out::new();
    for name in presets::NAMES.iter().chain(&presets::BENCH_NAMES) {
        if let Ok(s) = presets::preset(name) {
            out!(out, "{name:<22} {}", s.description);
        }
    }
    out.done()
}

#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // The benchmark is the one place that reads the wall clock.
fn bench(o: Opts) -> Result<(), Stop> {
    let o = Opts {
        preset: o.preset.or(Some("default".into())),
        duration: o.duration.or(Some(600.0)),
        ..o
    };
    let mut out = Out::new();
    let mut best = 0.0f64;
    let mut line = String::new();
    for round in 1..=5 {
        let mut sim = build(&o)?;
        let start = std::time::Instant::now();
        sim.run();
        let secs = start.elapsed().as_secs_f64();
        let rate = sim.events() as f64 / secs;
        out!(
            out,
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
    out!(out, "{line}");
    // The costliest command: scaling out to the largest pool with the
    // densest ring (applied at once, so its time is the command's).
    let mut s = Scenario::default();
    s.lb.virtual_nodes = 10_000;
    let mut sim = Simulation::new(&s, 1).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    sim.apply(&pathlab_sim::Command::Scale { servers: 256 })
        .map_err(|e| e.to_string())?;
    out!(
        out,
        "command: scale 4 → 256 app servers with 10,000 ring points each took {:.0} ms (goal < 1000)",
        start.elapsed().as_secs_f64() * 1e3
    );
    out.done()
}

/// The story of one anomalous request, or a list of requests to ask about.
fn explain(o: Opts) -> Result<(), Stop> {
    let scenario = load(&o)?;
    let seed = o.seed.unwrap_or(scenario.seed);
    let end = pathlab_sim::SimTime::from_secs_f64(scenario.duration_s);
    let start = Simulation::new(&scenario, seed).map_err(|e| e.to_string())?;
    let mut out = Out::new();
    let Some(n) = o.request else {
        let found = pathlab_sim::explain::anomalies(&start, end, 5);
        if o.json {
            let list: Vec<_> = found
                .iter()
                .map(|(r, a, at)| serde_json::json!({"request": r.0, "anomaly": a, "at_us": at.0}))
                .collect();
            out!(out, "{}", serde_json::Value::Array(list));
        } else {
            if found.is_empty() {
                out!(
                    out,
                    "no anomalies in {} s (seed {seed})",
                    scenario.duration_s
                );
            }
            for (r, a, at) in &found {
                out!(
                    out,
                    "request {:>7}  {:<28} at {:.3} s",
                    r.0,
                    a.title(),
                    at.as_secs_f64()
                );
            }
            out!(out, "ask with: --request N");
        }
        return out.done();
    };
    let e = pathlab_sim::explain(&start, pathlab_sim::RequestId(n), end)
        .map_err(|e| format!("request {n}: {e}"))?;
    if o.json {
        out!(
            out,
            "{}",
            serde_json::to_string_pretty(&e).map_err(|e| e.to_string())?
        );
    } else {
        out!(out, "{}", e.to_text().trim_end());
    }
    out.done()
}

/// Time travel: how long seeking and stepping back take in a 10-minute
/// run, and how much memory a 1-hour run's checkpoints hold.
#[allow(clippy::disallowed_methods, clippy::disallowed_types)] // A benchmark: it reads the wall clock.
fn travel(o: Opts) -> Result<(), Stop> {
    use pathlab_sim::{SimTime, Timeline};
    let o = Opts {
        preset: o
            .preset
            .or_else(|| o.scenario.is_none().then(|| "default".into())),
        ..o
    };
    let scenario = load(&o)?;
    let seed = o.seed.unwrap_or(scenario.seed);
    let minutes = o.duration.unwrap_or(600.0);
    let mut out = Out::new();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let mut t = Timeline::new(&scenario, seed).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    t.advance(SimTime::from_secs_f64(minutes), u64::MAX);
    out!(
        out,
        "played {minutes} simulated s in {:.0} ms, keeping {} checkpoints",
        ms(start.elapsed()),
        t.checkpoint_count()
    );
    // Seeks to moments spread over the run, in a fixed shuffled order.
    let mut seeks = Vec::new();
    for i in 0..20u64 {
        let at = minutes * ((i * 7) % 20) as f64 / 20.0 + 13.7;
        let start = std::time::Instant::now();
        t.seek(SimTime::from_secs_f64(at.min(minutes)));
        seeks.push(ms(start.elapsed()));
    }
    let mut steps = Vec::new();
    t.seek(SimTime::from_secs_f64(minutes * 0.61));
    for _ in 0..60 {
        let back = SimTime(t.cursor().0.saturating_sub(100_000));
        let start = std::time::Instant::now();
        t.seek(back);
        steps.push(ms(start.elapsed()));
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (sm, sx) = stat(&mut seeks);
    let (bm, bx) = stat(&mut steps);
    out!(
        out,
        "seek to any moment of a {minutes} s run: median {sm:.1} ms, worst {sx:.1} ms (goal ≤ 200)"
    );
    out!(
        out,
        "step back 0.1 s, 60 times: median {bm:.1} ms, worst {bx:.1} ms (goal ≤ 50)"
    );
    drop(t);
    let base = heapcount::live_bytes();
    let mut plain = Simulation::new(&scenario, seed).map_err(|e| e.to_string())?;
    plain.step_until(SimTime(3_600_000_000));
    let one = heapcount::live_bytes().saturating_sub(base);
    drop(plain);
    let base = heapcount::live_bytes();
    let mut t = Timeline::new(&scenario, seed).map_err(|e| e.to_string())?;
    t.advance(SimTime(3_600_000_000), u64::MAX);
    t.seek(SimTime(1_800_000_000));
    let all = heapcount::live_bytes().saturating_sub(base);
    out!(
        out,
        "checkpoints of a 1 h run (cursor moved back to 30 min): {:.1} MB in {} checkpoints, besides the run itself ({:.1} MB) (goal ≤ 100 MB)",
        all.saturating_sub(one) as f64 / 1e6,
        t.checkpoint_count(),
        one as f64 / 1e6
    );
    out.done()
}

/// Heap in use while a run goes on: after 1 simulated hour and after 24,
/// which should differ little once every store is bounded.
fn memory(o: Opts) -> Result<(), Stop> {
    let o = Opts {
        preset: o
            .preset
            .or_else(|| o.scenario.is_none().then(|| "default".into())),
        duration: Some(86_400.0),
        ..o
    };
    let mut out = Out::new();
    let base = heapcount::live_bytes();
    let mut sim = build(&o)?;
    let mut at_hour = 0;
    for hours in [1u64, 2, 6, 12, 24] {
        sim.step_until(pathlab_sim::SimTime(hours * 3_600_000_000));
        let bytes = heapcount::live_bytes().saturating_sub(base);
        if hours == 1 {
            at_hour = bytes;
        }
        out!(
            out,
            "after {hours:>2} simulated h: {:>8.1} MB in use ({} events)",
            bytes as f64 / 1e6,
            sim.events()
        );
    }
    let end = heapcount::live_bytes().saturating_sub(base);
    out!(
        out,
        "24 h / 1 h: {:.2}× (goal ≤ 2)",
        end as f64 / at_hour.max(1) as f64
    );
    out.done()
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
                "error: missing subcommand (expected run, history, presets, show, explain, bench, travel, memory, lesson, sweep or compare; see --help)"
            );
            return ExitCode::from(2);
        }
    };
    let result = match sub.as_str() {
        "run" => parse(args, true).map_err(Stop::from).and_then(run),
        "history" => parse(args, false).map_err(Stop::from).and_then(history),
        "show" => parse(args, false).map_err(Stop::from).and_then(show),
        "bench" => parse(args, false).map_err(Stop::from).and_then(bench),
        "memory" => parse(args, false).map_err(Stop::from).and_then(memory),
        "explain" => parse_for(args, true, true)
            .map_err(Stop::from)
            .and_then(explain),
        "travel" => parse(args, false).map_err(Stop::from).and_then(travel),
        "presets" => list_presets(args),
        "lesson" => lesson(args),
        "sweep" => sweep(args),
        "compare" => compare(args),
        other => Err(Stop::Fail(format!(
            "unknown subcommand {other:?} (expected run, history, presets, show, explain, bench, travel, memory, lesson, sweep or compare; see --help)"
        ))),
    };
    match result {
        Ok(()) | Err(Stop::Closed) => ExitCode::SUCCESS,
        Err(Stop::Failed) => ExitCode::from(1),
        Err(Stop::Fail(msg)) => {
            eprintln!("error: {}", pathlab_sim::error::one_line(&msg));
            ExitCode::from(2)
        }
    }
}
