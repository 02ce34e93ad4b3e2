//! Comparing two designs: runs A and B with the same seed (so the same arrivals and the same random draws for each concern) played in lock-step with the same commands; a table of what users saw in each, every row saying which did better; and, when they differ only in settings, the trade-off in one line.

use crate::commands::Command;
use crate::engine::Simulation;
use crate::error::Error;
use crate::lesson::{at_path, number_of};
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::timeline::Timeline;
use serde::Serialize;
use serde_json::Value;

/// The rows of the table: the figure's path in the run's summary, its
/// name, and whether less is better.
pub const ROWS: [(&str, &str, bool); 12] = [
    ("requests.ok", "requests answered", false),
    ("availability", "availability", false),
    ("latency_ms.p50", "p50 latency (ms)", true),
    ("latency_ms.p99", "p99 latency (ms)", true),
    ("writes.p99_ms", "p99 latency on writes (ms)", true),
    ("requests.failed", "errors", true),
    ("anomalies.stale_read", "stale reads", true),
    (
        "anomalies.read_your_writes",
        "read-your-writes violations",
        true,
    ),
    (
        "anomalies.monotonic_read",
        "monotonic-read violations",
        true,
    ),
    ("anomalies.lost_write", "lost writes", true),
    ("anomalies.rolled_back_read", "rolled-back reads", true),
    ("conflicts", "conflicts", true),
];

/// Which run did better on a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Better {
    A,
    B,
    Same,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub figure: &'static str,
    pub name: &'static str,
    pub a: f64,
    pub b: f64,
    pub better: Better,
}

/// Two runs in lock-step.
#[derive(Debug)]
pub struct Pair {
    pub a: Timeline,
    pub b: Timeline,
}

impl Pair {
    /// Runs of `a` and `b` with the same seed, at time zero.
    pub fn new(a: &Scenario, b: &Scenario, seed: u64) -> Result<Pair, Error> {
        Ok(Pair {
            a: Timeline::new(a, seed)?,
            b: Timeline::new(b, seed)?,
        })
    }

    /// Plays both on to `to`.
    pub fn advance(&mut self, to: SimTime) {
        self.a.advance(to, u64::MAX);
        self.b.advance(to, u64::MAX);
    }

    /// Applies `cmd` to both (checked against both first, so that a
    /// command one design cannot take changes neither).
    pub fn apply(&mut self, cmd: &Command) -> Result<(), Error> {
        self.a.sim().check(cmd)?;
        self.b.sim().check(cmd)?;
        self.a.apply(cmd)?;
        self.b.apply(cmd)
    }

    /// The table, as the runs stand.
    pub fn rows(&self) -> Vec<Row> {
        rows(self.a.sim(), self.b.sim())
    }
}

/// The table of runs `a` and `b` as they stand.
pub fn rows(a: &Simulation, b: &Simulation) -> Vec<Row> {
    let fa = serde_json::to_value(a.summary()).unwrap_or_default();
    let fb = serde_json::to_value(b.summary()).unwrap_or_default();
    ROWS.iter()
        .map(|&(figure, name, less_is_better)| {
            let get = |v: &Value| at_path(v, figure).and_then(number_of).unwrap_or(0.0);
            let (a, b) = (get(&fa), get(&fb));
            let better = if a == b {
                Better::Same
            } else if (a < b) == less_is_better {
                Better::A
            } else {
                Better::B
            };
            Row {
                figure,
                name,
                a,
                b,
                better,
            }
        })
        .collect()
}

/// The scenario fields where `a` and `b` differ, by path, with each one's
/// value (the name and description left out).
pub fn differences(a: &Scenario, b: &Scenario) -> Vec<(String, Value, Value)> {
    fn walk(a: &Value, b: &Value, path: &str, out: &mut Vec<(String, Value, Value)>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let none = Value::Null;
                    walk(
                        x.get(k).unwrap_or(&none),
                        y.get(k).unwrap_or(&none),
                        &p,
                        out,
                    );
                }
            }
            _ if a != b => out.push((path.to_string(), a.clone(), b.clone())),
            _ => {}
        }
    }
    let json = |s: &Scenario| serde_json::from_str::<Value>(&s.to_json()).unwrap_or_default();
    let mut out = Vec::new();
    walk(&json(a), &json(b), "", &mut out);
    out.retain(|(p, _, _)| p != "name" && p != "description");
    out
}

/// A figure's value in words.
fn shown(x: f64, figure: &str) -> String {
    crate::lesson::show(
        if figure.contains("latency") || figure.ends_with("_ms") {
            x.round()
        } else {
            x
        },
        figure,
    )
}

/// The trade-off in one line: what B (named by its differences from A)
/// gained and paid, for the rows where the runs differ.
pub fn trade_off(diffs: &[(String, Value, Value)], rows: &[Row]) -> String {
    trade_off_named(&name_of(diffs), rows)
}

/// B named by its differences from A: `db.replication sync, app.servers 2`.
pub fn name_of(diffs: &[(String, Value, Value)]) -> String {
    diffs
        .iter()
        .map(|(p, _, b)| match b {
            Value::String(s) => format!("{p} {s}"),
            other => format!("{p} {other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The trade-off in one line, B called `name`.
pub fn trade_off_named(name: &str, rows: &[Row]) -> String {
    let changes: Vec<String> = rows
        .iter()
        .filter(|r| r.better != Better::Same && r.figure != "requests.ok")
        .map(|r| {
            if r.name.contains("latency") {
                let d = r.b - r.a;
                // Two places where one would round to 0.0.
                let d = if d.abs() < 0.05 {
                    format!("{d:+.2}")
                } else if d.abs() < 10.0 {
                    format!("{d:+.1}")
                } else {
                    format!("{:+.0}", d.round())
                };
                format!("{d} ms {}", r.name.trim_end_matches(" (ms)"))
            } else if r.figure == "availability" {
                format!(
                    "availability {} instead of {}",
                    shown(r.b, r.figure),
                    shown(r.a, r.figure)
                )
            } else {
                // "1 stale read", "2 stale reads".
                let name = if r.b == 1.0 {
                    r.name.strip_suffix('s').unwrap_or(r.name)
                } else {
                    r.name
                };
                format!(
                    "{} {name} instead of {}",
                    shown(r.b, r.figure),
                    shown(r.a, r.figure)
                )
            }
        })
        .collect();
    if changes.is_empty() {
        format!("{name}: no difference users saw")
    } else {
        format!("{name}: {}", changes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    #[test]
    fn synchronous_replication_trades_latency_for_no_lost_writes_in_a_leader_crash() {
        let a = presets::preset("leader-crash").unwrap();
        let mut b = a.clone();
        b.db.replication = crate::scenario::Replication::Sync;
        let mut pair = Pair::new(&a, &b, 2).unwrap();
        pair.advance(SimTime::from_secs_f64(60.0));
        let rows = pair.rows();
        let lost = rows
            .iter()
            .find(|r| r.figure == "anomalies.lost_write")
            .unwrap();
        assert!(lost.a > 0.0 && lost.b == 0.0, "{lost:?}");
        assert_eq!(lost.better, Better::B);
        let diffs = differences(&a, &b);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(diffs[0].0, "db.replication");
        let line = trade_off(&diffs, &rows);
        assert!(line.starts_with("db.replication sync: "), "{line}");
        assert!(
            line.contains(&format!("0 lost writes instead of {}", shown(lost.a, ""))),
            "{line}"
        );
    }

    #[test]
    fn the_same_design_twice_meets_the_same_traffic_and_faults() {
        let a = presets::preset("partition-leader").unwrap();
        let mut pair = Pair::new(&a, &a, 5).unwrap();
        pair.advance(SimTime::from_secs_f64(10.0));
        pair.apply(&Command::Crash {
            node: "app-1".into(),
        })
        .unwrap();
        pair.advance(SimTime::from_secs_f64(30.0));
        assert_eq!(pair.a.sim().fingerprint(), pair.b.sim().fingerprint());
        assert!(pair.rows().iter().all(|r| r.better == Better::Same));
        assert!(differences(&a, &a).is_empty());
        // A command one design cannot take changes neither.
        let a = presets::preset("default").unwrap();
        let mut b = a.clone();
        b.app.servers = 2;
        let mut pair = Pair::new(&a, &b, 5).unwrap();
        let before = pair.a.sim().fingerprint();
        assert!(
            pair.apply(&Command::Crash {
                node: "app-4".into()
            })
            .is_err()
        );
        assert_eq!(pair.a.sim().fingerprint(), before);
    }
}
