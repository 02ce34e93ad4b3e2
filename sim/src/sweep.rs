//! Sweeps: one or two scenario fields varied over values, every combination run for several seeds, and the mean and spread of the figures that show the trade-off (`pathlab-sim sweep`).

use crate::engine::Simulation;
use crate::error::Error;
use crate::lesson::{at_path, number_of};
use crate::scenario::Scenario;
use serde::Serialize;
use serde_json::Value;

/// The figures a sweep reports for each run, by their path in the run's
/// summary (as `run --json` prints it).
pub const FIGURES: [&str; 16] = [
    "availability",
    "latency_ms.p50",
    "latency_ms.p99",
    "writes.p99_ms",
    "cache.hit_ratio",
    "requests.failed",
    "writes.acked",
    "anomalies.stale_read",
    "anomalies.read_your_writes",
    "anomalies.monotonic_read",
    "anomalies.lost_write",
    "anomalies.rolled_back_read",
    "conflicts",
    "leader_changes",
    "lb.moved_on_add",
    "app.wait_ms",
];

/// One field and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// Its path in the scenario (`db.replication`, `app.servers`).
    pub field: String,
    pub values: Vec<Value>,
}

impl Vary {
    /// Reads `FIELD=V1,V2,…`. Values are JSON where they read as JSON
    /// (numbers, `true`), else text (`semi-sync`).
    pub fn parse(spec: &str) -> Result<Vary, String> {
        let (field, values) = spec.split_once('=').ok_or_else(|| {
            format!("--vary {spec:?}: write FIELD=V1,V2 (like db.replication=async,sync)")
        })?;
        let values: Vec<Value> = values
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string())))
            .collect();
        if field.is_empty() || values.is_empty() {
            return Err(format!(
                "--vary {spec:?}: give a field and at least one value"
            ));
        }
        Ok(Vary {
            field: field.to_string(),
            values,
        })
    }
}

/// One combination of values, and its scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// Each varied field and its value here.
    pub values: Vec<(String, Value)>,
    pub scenario: Scenario,
}

impl Variant {
    /// The combination in words: `db.replication=sync app.servers=4`.
    pub fn label(&self) -> String {
        self.values
            .iter()
            .map(|(f, v)| match v {
                Value::String(s) => format!("{f}={s}"),
                other => format!("{f}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Every combination of the values of `vary` applied to `base`, in order
/// (the first field's values outermost). A field that is not in the
/// scenario, or a value it cannot take, is an error naming it.
pub fn variants(base: &Scenario, vary: &[Vary]) -> Result<Vec<Variant>, Error> {
    let json: Value =
        serde_json::from_str(&base.to_json()).map_err(|e| Error::Scenario(e.to_string()))?;
    for v in vary {
        if at_path(&json, &v.field).is_none() {
            return Err(Error::Scenario(format!(
                "--vary: the scenario has no field {:?} (see `pathlab-sim show`)",
                v.field
            )));
        }
    }
    let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for v in vary {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                v.values.iter().map(move |x| {
                    let mut c = c.clone();
                    c.push((v.field.clone(), x.clone()));
                    c
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .map(|values| {
            let mut j = json.clone();
            for (field, value) in &values {
                set_path(&mut j, field, value.clone());
            }
            let scenario = Scenario::from_json(&j.to_string()).map_err(|e| {
                let label = Variant {
                    values: values.clone(),
                    scenario: base.clone(),
                }
                .label();
                Error::Scenario(format!("{label}: {e}"))
            })?;
            Ok(Variant { values, scenario })
        })
        .collect()
}

/// Sets the value at `path` (which exists) in a JSON tree.
fn set_path(v: &mut Value, path: &str, value: Value) {
    let mut at = v;
    for key in path.split('.') {
        at = match at {
            Value::Object(m) => m.entry(key.to_string()).or_insert(Value::Null),
            Value::Array(a) => match key.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    *at = value;
}

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunResult {
    pub seed: u64,
    pub fingerprint: String,
    /// The values of [`FIGURES`], in order; NaN (`null` in JSON) where the
    /// design has none (users moved, for a balancer that does not hash).
    pub figures: Vec<f64>,
    /// What textbook theory predicts for each of [`FIGURES`] in this run's
    /// design, where it has a prediction (see [`crate::theory::predictions`]).
    pub theory: Vec<Option<f64>>,
}

/// Runs `scenario` with `seed` for `duration_s` (or its own duration).
pub fn run_one(
    scenario: &Scenario,
    seed: u64,
    duration_s: Option<f64>,
) -> Result<RunResult, Error> {
    let mut s = scenario.clone();
    if let Some(d) = duration_s {
        s.duration_s = d;
    }
    let mut sim = Simulation::new(&s, seed)?;
    sim.run();
    let summary = crate::lesson::figures_of(&sim);
    Ok(RunResult {
        seed,
        theory: crate::theory::predictions(&sim),
        fingerprint: sim.fingerprint_hex(),
        figures: FIGURES
            .iter()
            .map(|f| at_path(&summary, f).and_then(number_of).unwrap_or(f64::NAN))
            .collect(),
    })
}

/// The mean and spread of one figure over a variant's runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    /// The sample standard deviation (0 for one run).
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

/// The mean and spread of the numbers among `xs` (all NaN when there are
/// none: the figure does not apply).
pub fn spread(xs: &[f64]) -> Spread {
    let xs: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if xs.is_empty() {
        return Spread {
            mean: f64::NAN,
            sd: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Spread {
        mean,
        sd: var.sqrt(),
        min: xs.iter().copied().fold(f64::INFINITY, f64::min),
        max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    #[test]
    fn a_vary_reads_text_and_numbers_and_names_what_is_wrong() {
        let v = Vary::parse("db.replication=async,semi-sync,sync").unwrap();
        assert_eq!(v.values[1], Value::String("semi-sync".into()));
        assert_eq!(
            Vary::parse("app.servers=2,4").unwrap().values[1],
            Value::from(4)
        );
        assert!(
            Vary::parse("db.replication")
                .unwrap_err()
                .contains("FIELD=V1,V2")
        );
        assert!(Vary::parse("db.replication=").is_err());
    }

    #[test]
    fn two_fields_make_every_combination_and_a_bad_one_is_named() {
        let base = presets::preset("leader-crash").unwrap();
        let vs = variants(
            &base,
            &[
                Vary::parse("db.replication=async,sync").unwrap(),
                Vary::parse("app.servers=2,3,4").unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(vs.len(), 6);
        assert_eq!(vs[4].label(), "db.replication=sync app.servers=3");
        assert_eq!(vs[4].scenario.app.servers, 3);
        let err = |spec: &str| {
            variants(&base, &[Vary::parse(spec).unwrap()])
                .unwrap_err()
                .to_string()
        };
        assert!(err("db.replicaton=async").contains("no field \"db.replicaton\""));
        assert!(err("db.replication=fast").contains("db.replication=fast"));
    }

    #[test]
    fn spread_is_the_sample_mean_and_deviation() {
        let s = spread(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!((s.min, s.max), (2.0, 9.0));
        assert_eq!(spread(&[3.0]).sd, 0.0);
        // A figure a design does not have is left out, or not there at all.
        assert_eq!(spread(&[3.0, f64::NAN]).mean, 3.0);
        assert!(spread(&[f64::NAN]).mean.is_nan());
    }
}
