//! Run files: an experiment as data — the scenario, the seed, the commands applied by hand in their exact places, and how far it was played — which the browser saves and the command line replays to the same state (the same fingerprint).

use crate::Simulation;
use crate::error::Error;
use crate::scenario::Scenario;
use crate::time::SimTime;
use crate::timeline::{Applied, Timeline};
use serde::{Deserialize, Serialize};

/// The version of the run-file format this build writes and reads.
pub const RUN_FILE_VERSION: u32 = 1;

/// Largest run file read, in bytes (a run file is a scenario and a list of
/// commands: even a long session is far smaller).
pub const MAX_RUN_FILE_BYTES: usize = 8 * 1024 * 1024;

/// One experiment, to be replayed exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunFile {
    /// The format's version ([`RUN_FILE_VERSION`]); names the file's kind.
    pub pathlab_run: u32,
    /// The scenario the run started from.
    pub scenario: Scenario,
    /// Its seed.
    pub seed: u64,
    /// Commands applied by hand, with the simulated time (µs) and the
    /// number of events before each.
    pub commands: Vec<Applied>,
    /// How far the run was played (µs)…
    pub until: SimTime,
    /// …and how many events that took.
    pub events: u64,
    /// The fingerprint there (16 hex digits), as the browser showed it: a
    /// replay that does not reach it says so.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

impl RunFile {
    /// The run file of `timeline` as it is now: its scenario, seed, the
    /// current branch's commands up to the cursor, and the cursor.
    pub fn of(timeline: &Timeline) -> RunFile {
        let sim = timeline.sim();
        RunFile {
            pathlab_run: RUN_FILE_VERSION,
            scenario: timeline.scenario().clone(),
            seed: timeline.seed(),
            commands: timeline.commands().cloned().collect(),
            until: sim.now(),
            events: sim.events(),
            fingerprint: Some(sim.fingerprint_hex()),
        }
    }

    /// The file's text (JSON).
    pub fn to_json(&self) -> String {
        // Plain data always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a run file, naming what is wrong: not a run file, another
    /// version, too large, a bad field (with its path), a bad scenario, or
    /// commands out of order.
    pub fn from_json(text: &str) -> Result<RunFile, Error> {
        let bad = Error::RunFile;
        let (file, raw): (RunFile, _) = read_versioned(
            text,
            Versioned {
                key: "pathlab_run",
                version: RUN_FILE_VERSION,
                max_bytes: MAX_RUN_FILE_BYTES,
                kind: "run file",
            },
            bad,
        )?;
        // The scenario as its own file would be read: validated, defaults
        // that depend on other fields followed.
        let scenario_text = raw
            .get("scenario")
            .map(serde_json::Value::to_string)
            .unwrap_or_default();
        let scenario = Scenario::from_json(&scenario_text).map_err(|e| bad(e.to_string()))?;
        file.check_order()?;
        Ok(RunFile { scenario, ..file })
    }

    /// Refuses commands out of order of time, or after where the run was
    /// played to.
    pub fn check_order(&self) -> Result<(), Error> {
        let in_order = self
            .commands
            .windows(2)
            .all(|w| (w[0].at, w[0].events) <= (w[1].at, w[1].events));
        let before_end = self
            .commands
            .iter()
            .all(|c| (c.at, c.events) <= (self.until, self.events));
        if in_order && before_end {
            Ok(())
        } else {
            Err(Error::RunFile(
                "its commands must be in order of time, and before where it was played to".into(),
            ))
        }
    }

    /// Plays the run again, to exactly where it was saved. A command that
    /// cannot be applied where it stands is an error.
    pub fn replay(&self) -> Result<Timeline, Error> {
        let mut t = Timeline::new(&self.scenario, self.seed)?;
        for c in &self.commands {
            t.catch_up_exactly(&[], c.at, c.events);
            reached(t.sim(), c)?;
            t.apply(&c.command)?;
        }
        t.catch_up_exactly(&[], self.until, self.events);
        Ok(t)
    }

    /// Plays the run again to where it was saved with its read/write
    /// history recorded (see [`Simulation::history`]): what outside
    /// consistency checkers read, as `pathlab-sim history` writes it.
    pub fn replay_with_history(&self) -> Result<Simulation, Error> {
        let mut sim = Simulation::new(&self.scenario, self.seed)?;
        sim.record_history();
        for c in &self.commands {
            sim.step_until_bounded(c.at, c.events.saturating_sub(sim.events()));
            reached(&sim, c)?;
            sim.apply(&c.command)?;
        }
        sim.step_until_bounded(self.until, self.events.saturating_sub(sim.events()));
        Ok(sim)
    }

    /// The history of [`RunFile::replay_with_history`] as JSON lines, one
    /// operation per line.
    pub fn history_jsonl(&self) -> Result<String, Error> {
        let sim = self.replay_with_history()?;
        let mut out = String::new();
        for op in sim.history() {
            // Plain data always serialises.
            out.push_str(&serde_json::to_string(op).unwrap_or_default());
            out.push('\n');
        }
        Ok(out)
    }
}

/// What [`read_versioned`] checks of a file: the field naming its kind and
/// version, the version this build reads, its largest size, its kind in
/// words.
pub(crate) struct Versioned {
    pub key: &'static str,
    pub version: u32,
    pub max_bytes: usize,
    pub kind: &'static str,
}

/// Reads a versioned JSON file of PathLab's (a run file, a lesson), naming
/// what is wrong through `bad`: too large, not JSON, not this kind of file,
/// another version, or a bad field (with its path). Also gives the file as
/// plain JSON.
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    text: &str,
    what: Versioned,
    bad: fn(String) -> Error,
) -> Result<(T, serde_json::Value), Error> {
    if text.len() > what.max_bytes {
        return Err(bad(format!(
            "{} bytes is more than the {} a {} may have",
            text.len(),
            what.max_bytes,
            what.kind
        )));
    }
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    match raw.get(what.key).and_then(serde_json::Value::as_u64) {
        None => {
            return Err(bad(format!(
                "this is not a PathLab {} (it has no \"{}\" version)",
                what.kind, what.key
            )));
        }
        Some(v) if v != u64::from(what.version) => {
            return Err(bad(format!(
                "it is version {v}; this PathLab reads version {}",
                what.version
            )));
        }
        Some(_) => {}
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        bad(format!("{path}: {}", e.into_inner()))
    })?;
    Ok((value, raw))
}

/// Checks that a replay stopped exactly where command `c` was applied.
fn reached(sim: &Simulation, c: &Applied) -> Result<(), Error> {
    if (sim.now(), sim.events()) == (c.at, c.events) {
        Ok(())
    } else {
        Err(Error::RunFile(format!(
            "the run never stopped at {} after {} events for {}",
            c.at,
            c.events,
            c.command.describe()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Command;
    use crate::presets;

    /// A run with two commands, saved mid-way.
    fn saved() -> (RunFile, u64) {
        let scenario = presets::preset("leader-crash").unwrap();
        let mut t = Timeline::new(&scenario, 3).unwrap();
        t.advance(SimTime::from_secs_f64(12.0), u64::MAX);
        t.apply(&Command::set_rate(500.0)).unwrap();
        t.advance(SimTime::from_secs_f64(25.0), 7_777);
        t.apply(&Command::Restart {
            node: "db-0-0".into(),
        })
        .unwrap();
        t.advance(SimTime::from_secs_f64(31.0), 5_000);
        let fp = t.sim().fingerprint();
        (RunFile::of(&t), fp)
    }

    #[test]
    fn a_saved_run_reads_back_and_replays_to_the_same_fingerprint() {
        let (file, fp) = saved();
        assert_eq!(file.commands.len(), 2);
        let text = file.to_json();
        let back = RunFile::from_json(&text).unwrap();
        assert_eq!(back, file);
        let replayed = back.replay().unwrap();
        assert_eq!(replayed.sim().fingerprint(), fp);
        assert_eq!(
            (replayed.sim().now(), replayed.sim().events()),
            (file.until, file.events)
        );
    }

    #[test]
    fn the_history_of_a_run_file_is_the_one_its_run_recorded() {
        // A run played straight with its history recorded, commands and all…
        let scenario = presets::preset("leader-crash").unwrap();
        let mut sim = Simulation::new(&scenario, 3).unwrap();
        sim.record_history();
        sim.step_until(SimTime::from_secs_f64(12.0));
        sim.apply(&Command::set_rate(500.0)).unwrap();
        sim.step_until(SimTime::from_secs_f64(31.0));
        // …and the same run saved by a timeline and replayed from its file.
        let mut t = Timeline::new(&scenario, 3).unwrap();
        t.advance(SimTime::from_secs_f64(12.0), u64::MAX);
        t.apply(&Command::set_rate(500.0)).unwrap();
        t.advance(SimTime::from_secs_f64(31.0), u64::MAX);
        let file = RunFile::from_json(&RunFile::of(&t).to_json()).unwrap();
        let replayed = file.replay_with_history().unwrap();
        assert_eq!(replayed.fingerprint(), sim.fingerprint());
        assert!(sim.history().len() > 1_000, "a 31 s run reads and writes");
        let straight: Vec<String> = sim
            .history()
            .iter()
            .map(|op| serde_json::to_string(op).unwrap())
            .collect();
        let lines = file.history_jsonl().unwrap();
        assert_eq!(lines.lines().collect::<Vec<_>>(), straight);
    }

    #[test]
    fn a_bad_run_file_is_refused_with_what_is_wrong() {
        let (file, _) = saved();
        let err = |text: &str| RunFile::from_json(text).unwrap_err().to_string();
        assert!(err("{").contains("not JSON"));
        assert!(err(r#"{"preset":"default"}"#).contains("not a PathLab run file"));
        let mut v: serde_json::Value = serde_json::from_str(&file.to_json()).unwrap();
        v["pathlab_run"] = 2.into();
        assert!(err(&v.to_string()).contains("version 2"));
        v["pathlab_run"] = 1.into();
        v["seed"] = "seven".into();
        assert!(
            err(&v.to_string()).contains("seed"),
            "{}",
            err(&v.to_string())
        );
        v["seed"] = 3.into();
        v["scenario"]["db"]["replicas"] = 0.into();
        assert!(err(&v.to_string()).contains("replicas"));
        let mut late = file.clone();
        late.until = SimTime::ZERO;
        late.events = 0;
        assert!(err(&late.to_json()).contains("in order"));
        let huge = " ".repeat(MAX_RUN_FILE_BYTES + 1);
        assert!(err(&huge).contains("more than"));
    }
}
