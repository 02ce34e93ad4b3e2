//! Every field of a scenario is optional, and the defaults that depend on other fields follow them: setting any one field alone is refused only for that field's own value, never because some other field's default no longer fits.

use pathlab_sim::{Scenario, Simulation};
use serde_json::{Map, Value, json};

/// Every leaf of a JSON value with its dotted path (arrays count as leaves).
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.contains_key("dist") => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                leaves(x, p, out);
            }
        }
        _ => out.push((path, v.clone())),
    }
}

/// A JSON document with only `path` set to `value`.
fn only(path: &str, value: Value) -> Value {
    let mut v = value;
    for part in path.rsplit('.') {
        let mut m = Map::new();
        m.insert(part.to_string(), v);
        v = Value::Object(m);
    }
    v
}

/// Values worth trying for a field whose default is `default`.
fn candidates(default: &Value) -> Vec<Value> {
    match default {
        Value::Number(n) if n.is_u64() => {
            let d = n.as_u64().unwrap();
            let mut c: Vec<u64> = vec![0, 1, 2, 3, 5, 7, 16, 64, 256, 1000];
            c.extend([d / 2, d * 2, d * 10, d + 1]);
            c.into_iter().map(|x| json!(x)).collect()
        }
        Value::Number(n) => {
            let d = n.as_f64().unwrap();
            let mut c: Vec<f64> = vec![0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 16.0, 64.0, 256.0, 1000.0];
            c.extend([d * 0.5, d * 2.0, d * 10.0, d + 1.0]);
            c.into_iter().map(|x| json!(x)).collect()
        }
        Value::Bool(b) => vec![json!(!b)],
        Value::Array(a) if a.iter().all(Value::is_number) && a.len() == 2 => {
            vec![
                json!([5.0, 10.0]),
                json!([100.0, 200.0]),
                json!([5000.0, 9000.0]),
            ]
        }
        _ => Vec::new(),
    }
}

#[test]
fn any_one_field_alone_is_judged_on_its_own_value() {
    let defaults = serde_json::to_value(Scenario::default()).unwrap();
    let mut fields = Vec::new();
    leaves(&defaults, String::new(), &mut fields);
    let mut wrong = Vec::new();
    let mut accepted = 0;
    for (path, default) in &fields {
        for value in candidates(default) {
            let doc = only(path, value.clone());
            match Scenario::from_json(&doc.to_string()) {
                Ok(s) => {
                    accepted += 1;
                    // It also builds a world.
                    if let Err(e) = Simulation::new(&s, 1) {
                        wrong.push(format!("{path} = {value}: parsed but cannot run: {e}"));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    // Refused for its own value: fine. Refused because of
                    // another field's default: a default that should follow.
                    let own =
                        msg.contains(&format!(" {path}:")) || msg.contains(&format!(" {path}["));
                    if !own {
                        wrong.push(format!("{path} = {value}: {msg}"));
                    }
                }
            }
        }
    }
    assert!(
        accepted > 100,
        "only {accepted} single-field scenarios were accepted"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_single_replica_alone_is_a_valid_database() {
    let s = Scenario::from_json(r#"{"db": {"replicas": 1}}"#).unwrap();
    assert_eq!((s.db.quorum_r, s.db.quorum_w), (1, 1));
    let s = Scenario::from_json(r#"{"db": {"replicas": 5}}"#).unwrap();
    assert_eq!((s.db.quorum_r, s.db.quorum_w), (3, 3), "a majority of 5");
}

#[test]
fn any_list_of_regions_gets_a_round_trip_for_every_pair() {
    let s = Scenario::from_json(
        r#"{"network": {"regions": [{"name": "mars", "traffic_share": 1}, {"name": "venus", "traffic_share": 1}]}}"#,
    )
    .unwrap();
    let mut sim = Simulation::new(&s, 1).unwrap();
    sim.run_for(5.0);
    assert!(sim.summary().requests.ok > 0);
}
