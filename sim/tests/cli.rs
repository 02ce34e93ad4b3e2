//! The command line as other tools use it: `run --json` keys, `history` lines, `presets`, and clear one-line errors for bad input.

use std::io::Write;
use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pathlab-sim"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn scenario_file(text: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(text)
}

/// A file in the target directory, removed when dropped.
mod tempfile_path {
    pub struct TempFile(pub std::path::PathBuf);
    impl TempFile {
        pub fn new(text: &str) -> TempFile {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir();
            let p = dir.join(format!(
                "pathlab-cli-test-{}-{}.json",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let mut f = std::fs::File::create(&p).unwrap();
            super::Write::write_all(&mut f, text.as_bytes()).unwrap();
            TempFile(p)
        }
        pub fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn run_json_prints_one_object_with_every_documented_key() {
    let o = cli(&[
        "run",
        "--preset",
        "leader-crash",
        "--seed",
        "5",
        "--duration",
        "30",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "seed",
        "duration_s",
        "fingerprint",
        "events",
        "requests",
        "availability",
        "latency_ms",
        "reads",
        "writes",
        "anomalies",
        "cdn",
        "cache",
        "leader_changes",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for (obj, keys) in [
        ("requests", &["total", "ok", "failed", "mean_in_flight"][..]),
        ("latency_ms", &["mean", "p50", "p95", "p99", "max"]),
        ("reads", &["total", "stale"]),
        ("writes", &["total", "acked", "lost"]),
        (
            "anomalies",
            &[
                "stale_read",
                "read_your_writes",
                "monotonic_read",
                "lost_write",
                "rolled_back_read",
            ],
        ),
        ("cdn", &["hits", "misses"]),
        ("cache", &["hits", "misses"]),
    ] {
        for k in keys {
            assert!(v[obj].get(*k).is_some(), "missing {obj}.{k}");
        }
    }
    assert_eq!(v["seed"], 5);
    assert_eq!(v["duration_s"], 30.0);
    assert_eq!(v["leader_changes"], 1);
    let r = &v["requests"];
    assert_eq!(
        r["total"].as_u64().unwrap(),
        r["ok"].as_u64().unwrap() + r["failed"].as_u64().unwrap()
    );
}

#[test]
fn history_prints_one_operation_per_line() {
    let o = cli(&["history", "--preset", "default", "--duration", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut ops = 0;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for k in [
            "session",
            "op",
            "key",
            "version",
            "invoke_us",
            "complete_us",
            "outcome",
        ] {
            assert!(v.get(k).is_some(), "missing {k} in {line}");
        }
        assert!(matches!(v["op"].as_str(), Some("read" | "write")));
        assert!(v["invoke_us"].as_u64() <= v["complete_us"].as_u64());
        ops += 1;
    }
    assert!(ops > 500, "{ops} operations in 5 s");
}

#[test]
fn presets_lists_every_lesson() {
    let o = cli(&["presets"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    for name in [
        "default",
        "async-follower-reads",
        "sync-leader-reads",
        "leader-crash",
        "partition-leader",
        "region-failover",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing");
    }
}

#[test]
fn a_scenario_file_runs_and_its_script_is_applied() {
    let f = scenario_file(
        r#"{"version": 1, "duration_s": 15, "script": [{"at": 5, "do": "crash", "node": "db-0-0"}]}"#,
    );
    let o = cli(&["run", "--scenario", f.path(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["leader_changes"], 1);
}

fn assert_clean_error(o: &Output, needle: &str) {
    assert!(!o.status.success());
    let e = stderr(o);
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
    assert!(e.starts_with("error: "), "{e}");
    assert!(e.contains(needle), "{e:?} should mention {needle:?}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn bad_input_is_one_clear_line_and_a_non_zero_exit() {
    let malformed = scenario_file("{\"db\": {");
    assert_clean_error(&cli(&["run", "--scenario", malformed.path()]), "EOF");
    let wrong_type = scenario_file(r#"{"workload": {"requests_per_s": "lots"}}"#);
    assert_clean_error(
        &cli(&["run", "--scenario", wrong_type.path()]),
        "workload.requests_per_s",
    );
    let unknown = scenario_file(r#"{"db": {"replica": 3}}"#);
    assert_clean_error(&cli(&["run", "--scenario", unknown.path()]), "replica");
    let bad_number = scenario_file(r#"{"db": {"replicas": 0}}"#);
    assert_clean_error(
        &cli(&["run", "--scenario", bad_number.path()]),
        "db.replicas",
    );
    let bad_node = scenario_file(r#"{"script": [{"at": 1, "do": "crash", "node": "db-7"}]}"#);
    assert_clean_error(&cli(&["run", "--scenario", bad_node.path()]), "db-7");
    assert_clean_error(&cli(&["run", "--preset", "nope"]), "nope");
    assert_clean_error(
        &cli(&["run", "--preset", "default", "--seed", "-3"]),
        "--seed",
    );
    assert_clean_error(
        &cli(&["run", "--preset", "default", "--duration", "abc"]),
        "--duration",
    );
    assert_clean_error(
        &cli(&["run", "--preset", "default", "--duration", "inf"]),
        "--duration",
    );
    assert_clean_error(
        &cli(&["run", "--scenario", "/no/such/file.json"]),
        "cannot read",
    );
    assert_clean_error(&cli(&["run"]), "--preset");
    assert_clean_error(&cli(&["frobnicate"]), "frobnicate");
}

#[test]
fn anything_after_the_scenario_is_refused() {
    for text in [r#"{"version":1} xyz"#, "{}}}}", "{} {}"] {
        let f = scenario_file(text);
        let o = cli(&["run", "--scenario", f.path(), "--duration", "1"]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(
            stderr(&o).contains("trailing characters"),
            "{text}: {}",
            stderr(&o)
        );
    }
    let f = scenario_file("{}\n\n  \t\n");
    let o = cli(&["run", "--scenario", f.path(), "--duration", "1"]);
    assert!(
        o.status.success(),
        "white space after it is fine: {}",
        stderr(&o)
    );
}

#[test]
fn an_error_quoting_a_line_break_stays_one_line() {
    let f = scenario_file("{\"a\\nb\": 1}");
    let o = cli(&["run", "--scenario", f.path()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("a\\nb"),
        "the line break is shown escaped: {err}"
    );
    let o = cli(&["run", "--preset", "no\nsuch"]);
    assert_eq!(stderr(&o).trim_end().lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn every_subcommand_refuses_unknown_arguments() {
    for args in [
        &["presets", "--bogus"][..],
        &["presets", "extra"],
        &["run", "--preset", "default", "--bogus"],
        &["history", "--preset", "default", "--json"],
        &["show", "--preset", "default", "--seed"],
        &["bench", "--nope"],
        &["run", "--preset", "default", "--request", "5"],
        &["explain", "--preset", "default", "--bogus"],
    ] {
        let o = cli(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&o).trim_end().lines().count(),
            1,
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

/// Runs the CLI with its standard output going to `stdout`.
fn cli_to(args: &[&str], stdout: std::process::Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_pathlab-sim"))
        .args(args)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    for args in [
        &["history", "--preset", "default", "--duration", "20"][..],
        &["run", "--preset", "partition-leader", "--duration", "30"],
        &["presets"],
    ] {
        let mut child = cli_to(args, std::process::Stdio::piped());
        // Hang up before reading everything, as `| head -1` does.
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
        drop(stdout);
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {:?}: {}",
            o.status,
            stderr(&o)
        );
        assert!(stderr(&o).is_empty(), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn a_failed_write_is_an_error_not_a_silent_success() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no /dev/full on this system
    };
    for args in [
        &["history", "--preset", "default", "--duration", "5"][..],
        &["run", "--preset", "default", "--duration", "2"],
        &["presets"],
    ] {
        let child = cli_to(args, full.try_clone().unwrap().into());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("cannot write"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn explain_tells_a_lost_writes_story_as_json_and_refuses_what_it_cannot_explain() {
    let list = cli(&["explain", "--preset", "leader-crash", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let found: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let lost = found
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["anomaly"] == "lost-write")
        .expect("leader-crash loses writes");
    let id = lost["request"].to_string();
    let o = cli(&[
        "explain",
        "--preset",
        "leader-crash",
        "--request",
        &id,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let story: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(story["anomaly"], "lost-write");
    let facts = story["facts"].as_array().unwrap();
    let kinds: Vec<&str> = facts.iter().map(|f| f["fact"].as_str().unwrap()).collect();
    for k in ["asked", "acknowledged", "fault", "elected", "discarded"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(
        facts
            .iter()
            .all(|f| f["at_us"].is_u64() && f["text"].is_string())
    );
    // The same as text: numbered lines.
    let text = cli(&["explain", "--preset", "leader-crash", "--request", &id]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        out.starts_with(&format!("request {id} — lost write")),
        "{out}"
    );
    assert!(out.contains(" 1. ["), "{out}");
    // Nothing to explain, a request that never ran, a bad number.
    assert_clean_error(
        &cli(&["explain", "--preset", "default", "--request", "10"]),
        "nothing to explain",
    );
    assert_clean_error(
        &cli(&[
            "explain",
            "--preset",
            "default",
            "--duration",
            "5",
            "--request",
            "99999999",
        ]),
        "did not finish",
    );
    assert_clean_error(
        &cli(&["explain", "--preset", "default", "--request", "x"]),
        "--request",
    );
}

#[test]
fn a_run_file_replays_to_where_it_was_saved_with_the_same_fingerprint() {
    use pathlab_sim::runfile::RunFile;
    use pathlab_sim::{Command as Cmd, SimTime, Timeline, presets};
    // A run played by hand: a setting, a restart in mid-instant, saved later.
    let mut t = Timeline::new(&presets::preset("leader-crash").unwrap(), 5).unwrap();
    t.advance(SimTime::from_secs_f64(10.0), u64::MAX);
    t.apply(&Cmd::set_rate(450.0)).unwrap();
    t.advance(SimTime::from_secs_f64(24.0), 3_333);
    t.apply(&Cmd::Restart {
        node: "db-0-0".into(),
    })
    .unwrap();
    t.advance(SimTime::from_secs_f64(33.0), u64::MAX);
    let file = scenario_file(&RunFile::of(&t).to_json());
    let o = cli(&["run", "--run-file", file.path(), "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fingerprint"], t.sim().fingerprint_hex());
    assert_eq!(v["seed"], 5);
    assert_eq!(v["duration_s"], 33.0);
    // The run file stands alone.
    let o = cli(&["run", "--run-file", file.path(), "--seed", "3"]);
    assert_clean_error(&o, "give it alone");
    let bad = scenario_file(r#"{"pathlab_run": 9}"#);
    assert_clean_error(&cli(&["run", "--run-file", bad.path()]), "version 9");
    let not = scenario_file(r#"{"preset": "default"}"#);
    assert_clean_error(
        &cli(&["run", "--run-file", not.path()]),
        "not a PathLab run file",
    );
    assert_clean_error(
        &cli(&["show", "--run-file", file.path()]),
        "works with run and history only",
    );
    // Its history: the run's reads and writes, none after where it was
    // saved.
    let o = cli(&["history", "--run-file", file.path()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = std::str::from_utf8(&o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 1_000, "{} operations in 33 s", lines.len());
    assert!(
        lines
            .iter()
            .all(|op| op["invoke_us"].as_u64().unwrap() <= 33_000_000)
    );
    assert_clean_error(
        &cli(&["history", "--run-file", file.path(), "--preset", "default"]),
        "give it alone",
    );
}

#[test]
fn lesson_check_reports_each_claim_and_fails_on_a_false_one() {
    let lesson = |claims: &str| {
        scenario_file(&format!(
            r#"{{"pathlab_lesson": 1, "id": "crash", "order": 1, "title": "A crash", "topic": "failover",
                "minutes": 3, "you_will_see": "a leader crash", "preset": "leader-crash", "seed": 2,
                "steps": [
                  {{"title": "Calm", "text": "All is well.", "play_to": 15, "claims": ["anomalies.lost_write == 0"]}},
                  {{"title": "Crash", "text": "The leader dies at 20 s.", "play_to": 40,
                    "predict": {{"question": "Lost writes?", "choices": [
                      {{"text": "none", "claim": "anomalies.lost_write == 0"}},
                      {{"text": "some", "claim": "anomalies.lost_write > 0"}}]}},
                    "claims": [{claims}],
                    "reveal": "{{anomalies.lost_write}} confirmed writes were lost."}}
                ]}}"#
        ))
    };
    let good = lesson(r#""anomalies.lost_write > 0", "step.leader_changes >= 1""#);
    let o = cli(&["lesson", "check", good.path()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("held   anomalies.lost_write > 0"), "{out}");
    assert!(out.contains("answer: choice 2"), "{out}");
    assert!(out.contains("confirmed writes were lost."), "{out}");
    // A claim the run does not bear out: named, and exit status 1.
    let bad = lesson(r#""anomalies.lost_write == 0""#);
    let o = cli(&["lesson", "check", bad.path()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("FAILED anomalies.lost_write == 0"), "{out}");
    // JSON: one report per lesson.
    let o = cli(&["lesson", "check", good.path(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["lesson"], "crash");
    assert_eq!(v[0]["steps"][1]["right_choice"], 1);
    // A lesson that cannot be played: one line naming lesson, step and field.
    let broken = lesson(r#""writes.lots > 0""#);
    assert_clean_error(
        &cli(&["lesson", "check", broken.path()]),
        "lesson crash, step 2 (\"Crash\"), claims[0]",
    );
    assert_clean_error(&cli(&["lesson", "grade", good.path()]), "expected check");
}

#[test]
fn a_sweep_gives_each_variant_the_figures_it_gets_run_alone() {
    let o = cli(&[
        "sweep",
        "--preset",
        "leader-crash",
        "--vary",
        "db.replication=async,sync",
        "--seeds",
        "1..2",
        "--duration",
        "30",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let variants = v["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    let figures: Vec<&str> = v["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let shown = cli(&["show", "--preset", "leader-crash"]);
    let base: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    for variant in variants {
        let mode = variant["values"]["db.replication"].as_str().unwrap();
        let mut s = base.clone();
        s["db"]["replication"] = mode.into();
        let file = scenario_file(&s.to_string());
        let runs = variant["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        for run in runs {
            let seed = run["seed"].as_u64().unwrap().to_string();
            let alone = cli(&[
                "run",
                "--scenario",
                file.path(),
                "--seed",
                &seed,
                "--duration",
                "30",
                "--json",
            ]);
            assert!(alone.status.success(), "{}", stderr(&alone));
            let a: serde_json::Value = serde_json::from_slice(&alone.stdout).unwrap();
            assert_eq!(run["fingerprint"], a["fingerprint"], "{mode} seed {seed}");
            for (k, f) in figures.iter().enumerate() {
                let alone_figure = if *f == "cache.hit_ratio" {
                    // Not in the summary: hits over lookups.
                    let c = &a["cache"];
                    let (h, m) = (c["hits"].as_f64().unwrap(), c["misses"].as_f64().unwrap());
                    Some(h / (h + m))
                } else {
                    let mut at = &a;
                    for key in f.split('.') {
                        at = &at[key];
                    }
                    at.as_f64()
                };
                assert_eq!(
                    run["figures"][k].as_f64(),
                    alone_figure,
                    "{mode} seed {seed} {f}"
                );
            }
        }
        let lost = &variant["figures"]["anomalies.lost_write"];
        assert!(lost["min"].as_f64() <= lost["mean"].as_f64());
        assert!(lost["mean"].as_f64() <= lost["max"].as_f64());
    }
    // Synchronous replication loses nothing in the leader's crash.
    assert_eq!(variants[1]["figures"]["anomalies.lost_write"]["max"], 0.0);
    let sweep = |more: &[&str]| {
        let mut args = vec!["sweep", "--preset", "leader-crash"];
        args.extend_from_slice(more);
        cli(&args)
    };
    assert_clean_error(
        &sweep(&["--vary", "db.replicaton=sync"]),
        "no field \"db.replicaton\"",
    );
    assert_clean_error(&sweep(&[]), "one or two --vary");
    assert_clean_error(
        &sweep(&["--vary", "db.replication=sync", "--seeds", "9..2"]),
        "--seeds",
    );
}

#[test]
fn compare_shows_what_b_s_one_change_bought_and_cost() {
    let o = cli(&[
        "compare",
        "--preset",
        "leader-crash",
        "--b",
        "db.replication=sync",
        "--seed",
        "2",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["differences"].as_array().unwrap().len(), 1);
    assert_eq!(v["differences"][0]["field"], "db.replication");
    // A is the preset as it is: the same as running it alone.
    let alone = cli(&["run", "--preset", "leader-crash", "--seed", "2", "--json"]);
    let alone: serde_json::Value = serde_json::from_slice(&alone.stdout).unwrap();
    assert_eq!(v["fingerprints"]["a"], alone["fingerprint"]);
    let row = |figure: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["figure"] == figure)
            .unwrap()
            .clone()
    };
    let lost = row("anomalies.lost_write");
    assert_eq!(
        lost["a"].as_f64(),
        alone["anomalies"]["lost_write"].as_f64()
    );
    assert!(lost["a"].as_f64().unwrap() > 0.0 && lost["b"] == 0.0);
    assert_eq!(lost["better"], "b");
    let p99 = row("latency_ms.p99");
    assert!(
        p99["b"].as_f64() > p99["a"].as_f64(),
        "sync pays in latency"
    );
    assert_eq!(p99["better"], "a");
    let line = v["trade_off"].as_str().unwrap();
    assert!(line.starts_with("db.replication sync: "), "{line}");
    assert!(line.contains("lost writes instead of"), "{line}");
    assert_clean_error(
        &cli(&["compare", "--preset", "leader-crash"]),
        "--b FIELD=VALUE",
    );
}
