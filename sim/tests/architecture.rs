//! Architecture invariants that a compiler cannot see: a tier's module never imports the engine or another tier, the defaults `docs/scenario.md` lists are the defaults the code uses, and the figures the README gives for each lesson are what the simulation gives.

use pathlab_sim::Scenario;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sim_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The modules of the crate a tier may use: shared vocabulary and the
/// narrow context, never the engine, the commands or another tier.
const TIER_MAY_USE: [&str; 14] = [
    "context", "error", "hashing", "log", "metrics", "msg", "node", "request", "requests", "rng",
    "scenario", "store", "time", "topology",
];

#[test]
fn a_tier_never_imports_the_engine_or_another_tier() {
    let tiers = sim_dir().join("src/tiers");
    let mut bad = Vec::new();
    let mut checked = 0;
    for dir in std::fs::read_dir(&tiers).expect("src/tiers") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let tier = dir.file_name().unwrap().to_string_lossy().to_string();
        for file in rust_files(&dir) {
            checked += 1;
            let text = std::fs::read_to_string(&file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let module: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    let allowed = TIER_MAY_USE.contains(&module.as_str())
                        || module == "truth"
                        || (module == "tiers" && rest.starts_with(&format!("tiers::{tier}")));
                    if !allowed {
                        bad.push(format!(
                            "{}:{}: the {tier} tier uses crate::{module}",
                            file.strip_prefix(sim_dir()).unwrap().display(),
                            n + 1
                        ));
                    }
                }
                if line.contains("super::super") {
                    bad.push(format!(
                        "{}:{}: reaches above its tier",
                        file.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(checked >= 8, "found only {checked} tier files");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The default column of every `| \`field\` | default | meaning |` row
/// under a `## \`section\`` heading of docs/scenario.md, as (path, text).
fn documented_defaults() -> Vec<(String, String)> {
    let doc =
        std::fs::read_to_string(sim_dir().join("../docs/scenario.md")).expect("docs/scenario.md");
    let mut section = String::new();
    let mut rows = Vec::new();
    let mut field_table = false;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            // Field sections are headed by the section's name in backticks.
            section = match h.trim() {
                "Top level" => String::new(),
                h if h.starts_with('`') => h.trim_matches('`').to_string(),
                _ => "-".into(),
            };
            field_table = false;
            continue;
        }
        if line.starts_with("| field |") {
            field_table = true;
            continue;
        }
        if line.starts_with("| ") && !line.starts_with("| `") {
            field_table = false; // the header of some other table
        }
        if section == "-" || !field_table || !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 {
            continue;
        }
        let field = cells[1].trim_matches('`');
        if field.contains(' ') || field.contains(',') {
            continue; // a row about several fields at once
        }
        let path = if section.is_empty() {
            field.to_string()
        } else {
            format!("{section}.{field}")
        };
        rows.push((path, cells[2].to_string()));
    }
    rows
}

/// The value at a dotted path of the default scenario's JSON.
fn default_at(path: &str) -> Option<Value> {
    let mut v = serde_json::to_value(Scenario::default()).ok()?;
    for part in path.split('.') {
        v = v.get(part)?.clone();
    }
    Some(v)
}

/// Whether a documented default (`60`, `` `true` ``, `"lru"`, `[1000, 2000]`)
/// says the same as the code's value. Prose (`see below`, `(text)`) is not
/// a value and is skipped.
fn agrees(doc: &str, code: &Value) -> Option<bool> {
    // The value is the first `code span` of the cell; words may follow it.
    let doc = match doc.strip_prefix('`') {
        Some(rest) => rest.split('`').next().unwrap_or(rest),
        None => doc,
    };
    let text = doc.replace(['_', ','], "").replace("` `", "");
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return Some(code.as_f64() == Some(n));
    }
    match code {
        Value::Bool(b) => Some(text == b.to_string()),
        Value::String(s) => {
            let unquoted = text.trim_matches('"');
            (unquoted.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !unquoted.is_empty())
                .then(|| unquoted == s)
        }
        Value::Array(items) if text.starts_with('[') => {
            let inner = text.trim_matches(|c| c == '[' || c == ']');
            let want: Vec<f64> = inner
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            let got: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
            Some(!want.is_empty() && want == got || inner.trim().is_empty() && items.is_empty())
        }
        _ => None,
    }
}

#[test]
fn the_documented_defaults_are_the_code_defaults() {
    let rows = documented_defaults();
    assert!(
        rows.len() > 60,
        "docs/scenario.md lists only {} fields",
        rows.len()
    );
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, doc) in &rows {
        let Some(code) = default_at(path) else {
            wrong.push(format!(
                "{path}: documented but not a field of the scenario"
            ));
            continue;
        };
        match agrees(doc, &code) {
            Some(true) => checked += 1,
            Some(false) => wrong.push(format!("{path}: documented {doc}, the code says {code}")),
            None => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked > 50, "only {checked} defaults could be compared");
}

#[test]
fn the_readme_figures_of_every_lesson_are_what_the_simulation_gives() {
    let readme = std::fs::read_to_string(sim_dir().join("../README.md")).expect("README.md");
    let header = "| preset | answered | p50 / p99 |";
    let start = readme
        .find(header)
        .expect("the README has the figures table");
    let rows: Vec<&str> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(
        rows.len(),
        pathlab_sim::presets::NAMES.len(),
        "one row per lesson"
    );
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`');
        let scenario = pathlab_sim::presets::preset(name).expect("a preset");
        let mut sim = pathlab_sim::Simulation::new(&scenario, 1).unwrap();
        sim.run();
        let s = sim.summary();
        let a = &s.anomalies;
        let figures = [
            format!("{:.2} %", s.availability * 100.0),
            format!("{:.0} / {:.0} ms", s.latency_ms.p50, s.latency_ms.p99),
            a.stale_read.to_string(),
            a.read_your_writes.to_string(),
            a.monotonic_read.to_string(),
            a.lost_write.to_string(),
            a.rolled_back_read.to_string(),
        ];
        assert_eq!(cells[1..], figures[..], "README row of {name}");
    }
}
