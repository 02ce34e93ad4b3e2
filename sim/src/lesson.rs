//! Lessons as data: a lesson file's steps (text, what to highlight, commands to do or ask for, how far to play, a prediction question) and the claims each step makes about the run, as predicates on the run's figures that a test plays and checks, so that the text and the truth cannot drift. The format is documented in `docs/lessons.md`.

use crate::commands::Command;
use crate::engine::Simulation;
use crate::error::Error;
use crate::presets;
use crate::scenario::Scenario;
use crate::time::SimTime;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version of the lesson format this build reads.
pub const LESSON_VERSION: u32 = 1;

/// Largest lesson file read, in bytes.
pub const MAX_LESSON_BYTES: usize = 1024 * 1024;

/// One lesson: what it is about, the run it plays, its steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The format's version ([`LESSON_VERSION`]); names the file's kind.
    pub pathlab_lesson: u32,
    /// Short name for links (`?lesson=leader-failure`): lower case, digits
    /// and dashes.
    pub id: String,
    /// Place in the lesson index (1 first).
    pub order: u32,
    pub title: String,
    /// The topic, in a few words.
    pub topic: String,
    /// About how long it takes, in minutes.
    pub minutes: u32,
    /// What the student will see, in one sentence (for the index).
    pub you_will_see: String,
    /// The preset the run starts from…
    pub preset: String,
    /// …changed by this JSON merge patch (RFC 7396) of its scenario
    /// (`{"db": {"replication": "sync"}}`); none by default.
    #[serde(default)]
    pub changes: Value,
    /// The run's seed.
    pub seed: u64,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// What the step says, in plain words.
    pub text: String,
    /// Nodes to highlight in the diagram.
    #[serde(default)]
    pub highlight: Vec<String>,
    /// Commands done as the step starts.
    #[serde(default)]
    pub commands: Vec<Command>,
    /// Something the student is asked to do as the step starts (the check
    /// does it for them).
    #[serde(default)]
    pub ask: Option<Ask>,
    /// The step plays the run to this many simulated seconds from its start.
    pub play_to: f64,
    /// A question asked before the step plays.
    #[serde(default)]
    pub predict: Option<Predict>,
    /// What the step claims about the run once played (see [`Claim`]).
    #[serde(default)]
    pub claims: Vec<String>,
    /// What is revealed once played: text with figures of the run in
    /// braces (`{anomalies.lost_write} confirmed writes were lost`).
    #[serde(default)]
    pub reveal: Option<String>,
    /// The kind of anomaly whose story ("why?") the reveal tells, for one
    /// request of that kind in this run.
    #[serde(default)]
    pub why: Option<WhyKind>,
}

/// A command the student is asked to carry out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The request, in words ("Crash the leader, db-0-0, now").
    pub text: String,
    /// The command that does it.
    pub command: Command,
}

/// A prediction question: several choices, or a number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predict {
    pub question: String,
    /// Choices, each with the claim that makes it right: exactly one holds
    /// in the run.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Or a number to guess.
    #[serde(default)]
    pub number: Option<Guess>,
}

/// One answer to choose.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub text: String,
    /// The claim that makes it the right answer.
    pub claim: String,
}

/// A number to guess: right when within `within` (a fraction) of the
/// figure measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guess {
    pub figure: String,
    /// Its unit, shown by the answer field ("ms", "writes").
    pub unit: String,
    /// The answer field's bounds.
    pub min: f64,
    pub max: f64,
    /// How close is right, as a fraction of the measured figure.
    pub within: f64,
}

/// Kinds of anomaly a reveal can explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WhyKind {
    StaleRead,
    ReadYourWrites,
    MonotonicRead,
    LostWrite,
    RolledBackRead,
}

/// How a claim compares.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Between two numbers, both included.
    Between(f64, f64),
}

/// A checkable claim about the run: `FIGURE OP NUMBER` (`==`, `!=`, `<`,
/// `<=`, `>`, `>=`) or `FIGURE between A and B`. A figure is a field of the
/// run's summary by its path (`anomalies.lost_write`, `latency_ms.p99`,
/// `errors.no_leader`), the same as `pathlab-sim run --json` prints, plus
/// `cache.hit_ratio` and `cdn.hit_ratio`; with `step.` in front, its value
/// over the step alone (counts that grew during it, and the step's own
/// latency percentiles, availability and hit ratios).
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub figure: String,
    pub op: Op,
    pub value: f64,
}

impl Claim {
    /// Reads a claim, naming what is wrong.
    pub fn parse(text: &str) -> Result<Claim, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let number = |w: &str| -> Result<f64, String> {
            w.replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{w:?} is not a number"))
        };
        let figure = |w: &str| -> Result<String, String> {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                Ok(w.to_string())
            } else {
                Err(format!("{w:?} is not a figure's name"))
            }
        };
        match words.as_slice() {
            [f, "between", a, "and", b] => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(format!("between {a} and {b}: the first must not be larger"));
                }
                Ok(Claim {
                    figure: figure(f)?,
                    op: Op::Between(a, b),
                    value: a,
                })
            }
            [f, op, v] => {
                let op = match *op {
                    "==" => Op::Eq,
                    "!=" => Op::Ne,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    other => {
                        return Err(format!(
                            "{other:?} is not a comparison (== != < <= > >= between)"
                        ));
                    }
                };
                Ok(Claim {
                    figure: figure(f)?,
                    op,
                    value: number(v)?,
                })
            }
            _ => Err(format!(
                "{text:?} is not a claim: write FIGURE OP NUMBER (like \"anomalies.lost_write > 0\") or FIGURE between A and B"
            )),
        }
    }

    /// Whether the claim holds for figure value `x`.
    pub fn holds(&self, x: f64) -> bool {
        match self.op {
            Op::Eq => x == self.value,
            Op::Ne => x != self.value,
            Op::Lt => x < self.value,
            Op::Le => x <= self.value,
            Op::Gt => x > self.value,
            Op::Ge => x >= self.value,
            Op::Between(a, b) => (a..=b).contains(&x),
        }
    }
}

/// The run's figures at one moment, and at the start of the step that led
/// there.
#[derive(Clone, Debug)]
pub struct Figures {
    now: Value,
    start: Value,
    latency: Histogram<u64>,
    start_latency: Histogram<u64>,
}

/// The run's figures as a JSON tree: its summary, with hit ratios.
pub(crate) fn figures_of(sim: &Simulation) -> Value {
    let mut v = serde_json::to_value(sim.summary()).unwrap_or_default();
    for cache in ["cache", "cdn"] {
        if let Some(c) = v.get_mut(cache).and_then(Value::as_object_mut) {
            let hits = c.get("hits").and_then(Value::as_f64).unwrap_or(0.0);
            let misses = c.get("misses").and_then(Value::as_f64).unwrap_or(0.0);
            let ratio = if hits + misses > 0.0 {
                hits / (hits + misses)
            } else {
                0.0
            };
            c.insert("hit_ratio".into(), ratio.into());
        }
    }
    v
}

pub(crate) fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => a.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

pub(crate) fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

impl Figures {
    /// Marks the start of a step.
    pub fn start(sim: &Simulation) -> Figures {
        let now = figures_of(sim);
        let latency = sim.metrics().latency.clone();
        Figures {
            start: now.clone(),
            now,
            start_latency: latency.clone(),
            latency,
        }
    }

    /// Takes the run's figures now (the step's start stays).
    pub fn update(&mut self, sim: &Simulation) {
        self.now = figures_of(sim);
        self.latency = sim.metrics().latency.clone();
    }

    /// A figure's value, or why there is none.
    pub fn get(&self, figure: &str) -> Result<f64, String> {
        let Some(path) = figure.strip_prefix("step.") else {
            return at_path(&self.now, figure)
                .and_then(number_of)
                .ok_or_else(|| format!("{figure:?} is not a figure of this run"));
        };
        let count = |p: &str| -> Option<f64> {
            let (a, b) = (at_path(&self.now, p)?, at_path(&self.start, p)?);
            Some(a.as_u64()?.saturating_sub(b.as_u64()?) as f64)
        };
        let ratio = |num: &[&str], den: &[&str]| -> Option<f64> {
            let sum = |ps: &[&str]| ps.iter().map(|p| count(p)).sum::<Option<f64>>();
            let (n, d) = (sum(num)?, sum(den)?);
            Some(if d > 0.0 { n / d } else { 0.0 })
        };
        let window = || {
            let mut h = self.latency.clone();
            // The start's counts are a part of the end's.
            h.subtract(&self.start_latency).ok()?;
            Some(h)
        };
        let pct = |q: f64| {
            window().map(|h| {
                if h.is_empty() {
                    0.0
                } else {
                    h.value_at_quantile(q) as f64 / 1000.0
                }
            })
        };
        let value = match path {
            "availability" => ratio(&["requests.ok"], &["requests.total"]),
            "cache.hit_ratio" => ratio(&["cache.hits"], &["cache.hits", "cache.misses"]),
            "cdn.hit_ratio" => ratio(&["cdn.hits"], &["cdn.hits", "cdn.misses"]),
            "latency_ms.p50" => pct(0.5),
            "latency_ms.p95" => pct(0.95),
            "latency_ms.p99" => pct(0.99),
            "latency_ms.max" => window().map(|h| h.max() as f64 / 1000.0),
            "latency_ms.mean" => window().map(|h| h.mean() / 1000.0),
            p => count(p),
        };
        value.ok_or_else(|| {
            format!(
                "{figure:?} is not a figure of a step (a step has counts, availability, hit ratios and latency percentiles)"
            )
        })
    }

    /// A claim's figure and whether the claim holds, or what is wrong with
    /// it.
    pub fn judge(&self, claim: &str) -> Result<(f64, bool), String> {
        let c = Claim::parse(claim)?;
        let x = self.get(&c.figure)?;
        Ok((x, c.holds(x)))
    }

    /// `text` with each `{figure}` replaced by its value.
    pub fn fill(&self, text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("a {{ without its }} in {text:?}"))?;
            let name = &rest[open + 1..open + close];
            out.push_str(&show(self.get(name)?, name));
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// A figure as text: whole numbers as they are (with thousands separated),
/// ratios as per cent, times with one decimal.
pub fn show(x: f64, figure: &str) -> String {
    let ratio = [
        "availability",
        "hit_ratio",
        "share",
        "keys_moved_on_add_shard",
        "moved_on_",
    ]
    .iter()
    .any(|r| figure.contains(r));
    if ratio {
        return format!("{:.1} %", x * 100.0);
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let digits = format!("{}", x.abs() as u64);
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        return if x < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    format!("{x:.1}")
}

/// What one claim came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimResult {
    pub claim: String,
    pub value: f64,
    pub held: bool,
}

/// What one step came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepResult {
    pub step: usize,
    pub title: String,
    /// The simulated time it ended at, in seconds.
    pub t_s: f64,
    pub claims: Vec<ClaimResult>,
    /// The prediction's right choice (from 0), when it has choices.
    pub right_choice: Option<usize>,
    /// The reveal, with the run's figures.
    pub reveal: Option<String>,
}

/// What a lesson's check came to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub lesson: String,
    pub seed: u64,
    pub fingerprint: String,
    pub steps: Vec<StepResult>,
}

impl Report {
    /// Whether every claim held.
    pub fn all_held(&self) -> bool {
        self.steps.iter().all(|s| s.claims.iter().all(|c| c.held))
    }
}

impl Lesson {
    /// Reads a lesson file, naming the field that is wrong (by its path,
    /// such as `steps[2].play_to`).
    pub fn from_json(text: &str) -> Result<Lesson, Error> {
        let (lesson, _) = crate::runfile::read_versioned(
            text,
            crate::runfile::Versioned {
                key: "pathlab_lesson",
                version: LESSON_VERSION,
                max_bytes: MAX_LESSON_BYTES,
                kind: "lesson",
            },
            Error::Lesson,
        )?;
        Ok(lesson)
    }

    /// The scenario the lesson plays: its preset with its changes.
    pub fn scenario(&self) -> Result<Scenario, Error> {
        let base = presets::preset(&self.preset)?;
        if self.changes.is_null() {
            return Ok(base);
        }
        let mut v: Value = serde_json::from_str(&base.to_json())
            .map_err(|e| Error::Lesson(format!("{}: {e}", self.id)))?;
        merge(&mut v, &self.changes);
        Scenario::from_json(&v.to_string()).map_err(|e| self.err(None, "changes", &e.to_string()))
    }

    /// An error naming this lesson, the step (from 0) and the field.
    fn err(&self, step: Option<usize>, field: &str, what: &str) -> Error {
        let at = match step {
            Some(i) => format!(
                "step {} ({:?}), {field}",
                i + 1,
                self.steps.get(i).map_or("", |s| s.title.as_str())
            ),
            None => field.to_string(),
        };
        Error::Lesson(format!("lesson {}, {at}: {what}", self.id))
    }

    /// Checks what can be checked without playing: the id, the order of
    /// times, the claims' form, the questions' form.
    pub fn validate(&self) -> Result<(), Error> {
        let ok_id = !self.id.is_empty()
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok_id {
            return Err(self.err(None, "id", "use lower-case letters, digits and dashes"));
        }
        if self.steps.is_empty() {
            return Err(self.err(None, "steps", "a lesson needs at least one step"));
        }
        let mut t = 0.0;
        for (i, s) in self.steps.iter().enumerate() {
            let e = |field: &str, what: &str| self.err(Some(i), field, what);
            if !(s.play_to.is_finite() && s.play_to >= t && s.play_to <= 86_400.0) {
                return Err(e(
                    "play_to",
                    &format!(
                        "{} must be a time no earlier than the step before's ({t})",
                        s.play_to
                    ),
                ));
            }
            t = s.play_to;
            for (k, c) in s.claims.iter().enumerate() {
                Claim::parse(c).map_err(|w| e(&format!("claims[{k}]"), &w))?;
            }
            if let Some(p) = &s.predict {
                match (&p.choices[..], &p.number) {
                    ([], Some(g)) => {
                        if !(g.min < g.max && g.within > 0.0 && g.within < 1.0) {
                            return Err(e(
                                "predict.number",
                                "min must be below max, and within between 0 and 1",
                            ));
                        }
                    }
                    (cs, None) if cs.len() >= 2 => {
                        for (k, c) in cs.iter().enumerate() {
                            Claim::parse(&c.claim)
                                .map_err(|w| e(&format!("predict.choices[{k}].claim"), &w))?;
                        }
                    }
                    _ => {
                        return Err(e(
                            "predict",
                            "give either two or more choices or a number, not both",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Plays the lesson at its seed, as a student who does what each step
    /// asks when it starts, and checks every claim where its step ends. A
    /// step that cannot be played (a bad command, an unknown node or
    /// figure, a question without exactly one right answer) is an error
    /// naming it; claims that do not hold are in the report.
    pub fn check(&self) -> Result<Report, Error> {
        self.validate()?;
        let scenario = self.scenario()?;
        let mut sim = Simulation::new(&scenario, self.seed)
            .map_err(|e| self.err(None, "preset", &e.to_string()))?;
        let mut steps = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let e = |field: &str, what: &str| self.err(Some(i), field, what);
            for (k, node) in s.highlight.iter().enumerate() {
                sim.node_id(node)
                    .map_err(|_| e(&format!("highlight[{k}]"), &format!("no node {node:?}")))?;
            }
            let mut figures = Figures::start(&sim);
            for (k, c) in s.commands.iter().enumerate() {
                sim.apply(c)
                    .map_err(|w| e(&format!("commands[{k}]"), &w.to_string()))?;
            }
            if let Some(ask) = &s.ask {
                sim.apply(&ask.command)
                    .map_err(|w| e("ask.command", &w.to_string()))?;
            }
            sim.step_until(SimTime::from_secs_f64(s.play_to));
            figures.update(&sim);
            let mut claims = Vec::new();
            for (k, text) in s.claims.iter().enumerate() {
                let (value, held) = figures
                    .judge(text)
                    .map_err(|w| e(&format!("claims[{k}]"), &w))?;
                claims.push(ClaimResult {
                    claim: text.clone(),
                    value,
                    held,
                });
            }
            let right_choice = match &s.predict {
                Some(p) if !p.choices.is_empty() => {
                    let mut right = Vec::new();
                    for (k, c) in p.choices.iter().enumerate() {
                        let (_, held) = figures
                            .judge(&c.claim)
                            .map_err(|w| e(&format!("predict.choices[{k}].claim"), &w))?;
                        if held {
                            right.push(k);
                        }
                    }
                    match right[..] {
                        [k] => Some(k),
                        _ => {
                            return Err(e(
                                "predict.choices",
                                &format!(
                                    "{} choices hold in this run ({right:?}); a question needs exactly one right answer",
                                    right.len()
                                ),
                            ));
                        }
                    }
                }
                Some(p) => {
                    if let Some(g) = &p.number {
                        figures
                            .get(&g.figure)
                            .map_err(|w| e("predict.number.figure", &w))?;
                    }
                    None
                }
                None => None,
            };
            let reveal = s
                .reveal
                .as_ref()
                .map(|r| figures.fill(r))
                .transpose()
                .map_err(|w| e("reveal", &w))?;
            steps.push(StepResult {
                step: i + 1,
                title: s.title.clone(),
                t_s: sim.now().as_secs_f64(),
                claims,
                right_choice,
                reveal,
            });
        }
        Ok(Report {
            lesson: self.id.clone(),
            seed: self.seed,
            fingerprint: sim.fingerprint_hex(),
            steps,
        })
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(steps: &str) -> String {
        format!(
            r#"{{"pathlab_lesson":1,"id":"t","order":1,"title":"T","topic":"t","minutes":3,
               "you_will_see":"x","preset":"leader-crash","seed":2,"steps":{steps}}}"#
        )
    }

    #[test]
    fn claims_read_and_compare() {
        let c = Claim::parse("anomalies.lost_write > 0").unwrap();
        assert_eq!(c.figure, "anomalies.lost_write");
        assert!(c.holds(1.0) && !c.holds(0.0));
        let b = Claim::parse("step.latency_ms.p99 between 100 and 400").unwrap();
        assert!(b.holds(100.0) && b.holds(400.0) && !b.holds(401.0));
        assert!(
            Claim::parse("x >> 3")
                .unwrap_err()
                .contains("not a comparison")
        );
        assert!(
            Claim::parse("x > many")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            Claim::parse("x between 5 and 1")
                .unwrap_err()
                .contains("larger")
        );
        assert!(Claim::parse("lost").unwrap_err().contains("not a claim"));
    }

    #[test]
    fn a_lesson_plays_and_its_claims_are_judged_by_the_run() {
        let text = lesson(
            r#"[
              {"title":"Calm","text":"a","play_to":15,"claims":["anomalies.lost_write == 0","leader_changes == 0"]},
              {"title":"Crash","text":"b","play_to":45,
               "predict":{"question":"Lost?","choices":[
                  {"text":"none","claim":"anomalies.lost_write == 0"},
                  {"text":"some","claim":"anomalies.lost_write > 0"}]},
               "claims":["anomalies.lost_write > 0","step.leader_changes >= 1","step.availability < 1","anomalies.lost_write > 1000000"],
               "reveal":"{anomalies.lost_write} of {writes.acked} confirmed writes were lost; {step.availability} answered."}
            ]"#,
        );
        let l = Lesson::from_json(&text).unwrap();
        let r = l.check().unwrap();
        assert!(r.steps[0].claims.iter().all(|c| c.held));
        let crash = &r.steps[1];
        assert_eq!(crash.right_choice, Some(1));
        assert_eq!(
            crash.claims.iter().map(|c| c.held).collect::<Vec<_>>(),
            [true, true, true, false],
            "the false claim is reported, not hidden"
        );
        assert!(!r.all_held());
        let lost = crash.claims[0].value;
        let reveal = crash.reveal.as_deref().unwrap();
        assert!(
            reveal.starts_with(&format!("{} of ", show(lost, "x"))),
            "{reveal}"
        );
        assert!(reveal.contains(" %"), "{reveal}");
    }

    #[test]
    fn a_step_s_latency_is_its_own_not_the_run_s() {
        let text = lesson(
            r#"[
              {"title":"Calm","text":"a","play_to":10},
              {"title":"Slow","text":"b","commands":[{"do":"slow","node":"db-0-0","factor":20}],"play_to":15,
               "claims":["step.latency_ms.p99 > latency_ms.p99"]}
            ]"#,
        );
        // A claim compares with a number, not another figure.
        let err = Lesson::from_json(&text)
            .unwrap()
            .check()
            .unwrap_err()
            .to_string();
        assert!(err.contains("step 2 (\"Slow\"), claims[0]"), "{err}");
        let mut l = Lesson::from_json(&text).unwrap();
        l.steps[1].claims = vec![];
        let mut sim = Simulation::new(&l.scenario().unwrap(), 2).unwrap();
        sim.step_until(SimTime::from_secs_f64(10.0));
        let mut f = Figures::start(&sim);
        sim.apply(&l.steps[1].commands[0]).unwrap();
        sim.step_until(SimTime::from_secs_f64(15.0));
        f.update(&sim);
        let (step, run) = (
            f.get("step.latency_ms.p99").unwrap(),
            f.get("latency_ms.p99").unwrap(),
        );
        assert!(
            step > run,
            "the slow step's p99 {step} is above the whole run's {run}"
        );
        let reqs = f.get("step.requests.total").unwrap();
        assert!((1_000.0..2_500.0).contains(&reqs), "5 s at 300/s: {reqs}");
    }

    #[test]
    fn a_bad_lesson_names_the_lesson_the_step_and_the_field() {
        let err = |steps: &str| {
            Lesson::from_json(&lesson(steps))
                .and_then(|l| l.check())
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"[{"title":"A","text":"a","play_to":"soon"}]"#).contains("steps[0].play_to"));
        assert!(
            err(r#"[{"title":"A","text":"a","play_to":5},{"title":"B","text":"b","play_to":2}]"#)
                .contains("lesson t, step 2 (\"B\"), play_to")
        );
        assert!(
            err(r#"[{"title":"A","text":"a","play_to":5,"claims":["lost_writes > 0"]}]"#)
                .contains("claims[0]: \"lost_writes\" is not a figure")
        );
        assert!(
            err(r#"[{"title":"A","text":"a","play_to":5,"highlight":["db-9"]}]"#)
                .contains("highlight[0]: no node \"db-9\"")
        );
        assert!(err(r#"[{"title":"A","text":"a","play_to":5,"commands":[{"do":"crash","node":"nope"}]}]"#)
            .contains("commands[0]"));
        assert!(err(r#"[{"title":"A","text":"a","play_to":5,"predict":{"question":"?","choices":[
              {"text":"x","claim":"requests.total >= 0"},{"text":"y","claim":"requests.total >= 1"}]}}]"#)
            .contains("2 choices hold"));
        assert!(
            err(r#"[{"title":"A","text":"a","play_to":5,"reveal":"{nothing}"}]"#)
                .contains("reveal")
        );
        let v2 = lesson("[]").replace("\"pathlab_lesson\":1", "\"pathlab_lesson\":2");
        assert!(
            Lesson::from_json(&v2)
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
    }

    #[test]
    fn changes_patch_the_preset() {
        let mut l =
            Lesson::from_json(&lesson(r#"[{"title":"A","text":"a","play_to":1}]"#)).unwrap();
        l.changes = serde_json::json!({"db": {"replication": "sync"}});
        assert_eq!(
            l.scenario().unwrap().db.replication,
            crate::scenario::Replication::Sync
        );
        l.changes = serde_json::json!({"db": {"replicas": 0}});
        assert!(l.scenario().unwrap_err().to_string().contains("changes"));
    }
}
