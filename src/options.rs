//! The options a page address carries (`?preset=…&seed=…&speed=…&play=1&present=1&embed=1`), read leniently but never silently: a bad value is named in a notice.

use crate::engine::{Engine, SPEEDS};
use crate::link::Link;

/// Options read from the page address (`?preset=…&seed=…&play=1&speed=…&present=1&embed=1`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartOptions {
    /// Preset to load.
    pub preset: Option<String>,
    /// Seed to use.
    pub seed: Option<u64>,
    /// Start playing at once.
    pub play: bool,
    /// Playback speed.
    pub speed: Option<f64>,
    /// Presenter mode: large type, the diagram filling the screen.
    pub present: bool,
    /// Compact layout for a frame in another page.
    pub embed: bool,
    /// A run to open: the text after `#run=` in the address's fragment.
    pub run: Option<String>,
    /// A window of simulated seconds that play keeps to, looping.
    pub range: Option<(f64, f64)>,
    /// Play at once unless the reader prefers reduced motion (`autoplay`).
    pub autoplay: bool,
    /// The controls to show (`controls=play,clock`); all when absent.
    pub controls: Option<Vec<String>>,
    /// The panels to show (`panels=diagram,timeline`); all when absent.
    pub panels: Option<Vec<String>>,
    /// The origin of the page this one is embedded in, which may drive it
    /// by messages (`parent=https://example.org`; see `crate::host`).
    pub parent: Option<String>,
    /// Open the lesson index (`lessons`).
    pub lessons: bool,
    /// Open a lesson (`lesson=ID`) at a step (`step=N`, from 1).
    pub lesson: Option<String>,
    pub step: Option<u32>,
    /// Run B to compare with (`compare=db.replication=sync`, several
    /// changes joined by `;`, or `compare=PRESET`).
    pub compare: Option<crate::link::Against>,
}

/// Controls `controls=` can choose.
pub const CONTROLS: [&str; 11] = [
    "play", "step", "speed", "reset", "seed", "preset", "clock", "share", "lessons", "present",
    "help",
];

/// Panels `panels=` can choose.
pub const PANELS: [&str; 8] = [
    "metrics", "diagram", "timeline", "settings", "charts", "log", "requests", "legend",
];

/// Reads a comma-separated choice among `known`, naming unknown names.
fn choice(name: &str, v: &str, known: &[&str], warnings: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if known.contains(&item) {
            out.push(item.to_string());
        } else {
            warnings.push(format!(
                "ignored {name} {item:?}: the choices are {}",
                known.join(", ")
            ));
        }
    }
    out
}

impl StartOptions {
    /// The classes that hide what `controls=` and `panels=` left out
    /// (`hide-<name>`), for the app's root.
    pub fn hidden(&self) -> Vec<String> {
        let left_out = |chosen: &Option<Vec<String>>, known: &[&str]| -> Vec<String> {
            chosen.as_ref().map_or(Vec::new(), |c| {
                known
                    .iter()
                    .filter(|k| !c.iter().any(|x| x == *k))
                    .map(|k| format!("hide-{k}"))
                    .collect()
            })
        };
        let mut out = left_out(&self.controls, &CONTROLS);
        out.extend(left_out(&self.panels, &PANELS));
        out
    }
}

/// Reads `a..b`, a window of simulated seconds (0 ≤ a < b ≤ one day).
fn window(v: &str) -> Result<(f64, f64), String> {
    let bad = || format!("ignored range {v:?}: give it as start..end in seconds, e.g. 20..45");
    let (a, b) = v.split_once("..").ok_or_else(bad)?;
    let (a, b): (f64, f64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if !(a.is_finite() && b.is_finite() && 0.0 <= a && a < b && b <= 86_400.0) {
        return Err(format!(
            "ignored range {v:?}: its start must be before its end, both from 0 to 86400 s"
        ));
    }
    Ok((a, b))
}

/// Decodes `%2D`-style escapes and `+` (a space) in a query value; a `%`
/// not followed by two hex digits stays as it is.
pub fn url_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A yes/no option: `1`, `true`, `yes`, `on` (or nothing) and `0`,
/// `false`, `no`, `off`; anything else is reported and counts as no.
fn flag(name: &str, v: &str, warnings: &mut Vec<String>) -> bool {
    match v.to_ascii_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "on" => true,
        "0" | "false" | "no" | "off" => false,
        _ => {
            warnings.push(format!(
                "{name}={v:?} is neither yes nor no (use 1 or 0): ignored"
            ));
            false
        }
    }
}

impl StartOptions {
    /// Reads options from a query string; unknown or malformed values are
    /// ignored and reported back as warnings, one per problem.
    pub fn parse(query: &str) -> (StartOptions, Vec<String>) {
        let mut o = StartOptions::default();
        let mut warnings = Vec::new();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (url_decode(k), url_decode(v));
            match k.as_str() {
                "preset" => o.preset = Some(v),
                "seed" => match v.parse() {
                    Ok(s) => o.seed = Some(s),
                    Err(_) => warnings.push(format!("ignored seed {v:?}: not a whole number")),
                },
                "play" => o.play = flag("play", &v, &mut warnings),
                // For frames: play at once, unless the reader asked the
                // browser for reduced motion (the page checks).
                "autoplay" => o.autoplay = flag("autoplay", &v, &mut warnings),
                "controls" => o.controls = Some(choice("control", &v, &CONTROLS, &mut warnings)),
                "panels" => o.panels = Some(choice("panel", &v, &PANELS, &mut warnings)),
                "range" => match window(&v) {
                    Ok(r) => o.range = Some(r),
                    Err(why) => warnings.push(why),
                },
                "present" => o.present = flag("present", &v, &mut warnings),
                "embed" => o.embed = flag("embed", &v, &mut warnings),
                "lessons" => o.lessons = v.is_empty() || flag("lessons", &v, &mut warnings),
                "lesson" if !v.is_empty() => o.lesson = Some(v),
                "compare" => match against(&v) {
                    Ok(a) => o.compare = Some(a),
                    Err(why) => warnings.push(why),
                },
                "step" => match v.parse::<u32>() {
                    Ok(n) if n >= 1 => o.step = Some(n),
                    _ => warnings.push(format!(
                        "ignored step {v:?}: a lesson's steps are numbered from 1"
                    )),
                },
                "parent" => match crate::host::origin(&v) {
                    Ok(origin) => o.parent = Some(origin),
                    Err(why) => warnings.push(why),
                },
                "speed" => match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 => {
                        let (lo, hi) = (SPEEDS[0], SPEEDS[SPEEDS.len() - 1]);
                        if s > hi {
                            warnings.push(format!(
                                "speed {v} is above the fastest, {hi}×: playing at {hi}×"
                            ));
                        } else if s < lo {
                            warnings.push(format!(
                                "speed {v} is below the slowest, {lo}×: playing at {lo}×"
                            ));
                        }
                        o.speed = Some(s.clamp(lo, hi));
                    }
                    _ => warnings.push(format!("ignored speed {v:?}: not a positive number")),
                },
                other => warnings.push(format!("ignored unknown option {other:?}")),
            }
        }
        (o, warnings)
    }
}

/// Reads `compare=`: scenario changes as `FIELD=VALUE` joined by `;`, or
/// a preset's name.
fn against(v: &str) -> Result<crate::link::Against, String> {
    if v.contains('=') {
        Ok(crate::link::Against {
            set: v
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            ..Default::default()
        })
    } else if pathlab_sim::presets::NAMES.contains(&v) {
        Ok(crate::link::Against {
            preset: Some(v.to_string()),
            ..Default::default()
        })
    } else {
        Err(format!(
            "ignored compare {v:?}: give a change as FIELD=VALUE (like db.replication=sync) or a scenario's name"
        ))
    }
}

/// Builds the engine the page starts with.
pub fn initial_engine(
    opts: &StartOptions,
    warnings: Vec<String>,
    link: impl Fn() -> Box<dyn Link>,
) -> Engine {
    let preset = opts.preset.clone().unwrap_or_else(|| "default".to_string());
    let known = pathlab_sim::presets::preset(&preset).map(|_| preset.as_str());
    let mut engine = match known
        .map_err(|e| e.to_string())
        .and_then(|p| Engine::with_link(p, opts.seed, link()))
    {
        Ok(e) => e,
        Err(e) => {
            let mut fallback = Engine::with_link("default", opts.seed, link())
                .unwrap_or_else(|_| unreachable!("the default preset is valid"));
            fallback.error = Some(format!("{e}; showing the default scenario instead"));
            fallback
        }
    };
    if let Some(s) = opts.speed {
        engine.speed_idx = SPEEDS
            .iter()
            .position(|&x| x >= s)
            .unwrap_or(SPEEDS.len() - 1);
    }
    if opts.play {
        engine.toggle_play();
    }
    engine.presenter = opts.present;
    if engine.error.is_none() && !warnings.is_empty() {
        engine.error = Some(warnings.join("; "));
    }
    // A link to a run (`#run=…`) brings that run, at its moment.
    if let Some(fragment) = &opts.run {
        engine.open_link(fragment);
    }
    if let Some(against) = &opts.compare {
        engine.act(crate::action::Action::Compare {
            with: Some(against.clone()),
        });
    }
    if let Some(id) = &opts.lesson {
        engine.open_lesson(id.clone(), opts.step.unwrap_or(1) - 1);
    } else if opts.lessons {
        engine.act(crate::action::Action::LessonIndex { open: true });
    }
    if let Some((a, b)) = opts.range {
        engine.keep_to(
            pathlab_sim::SimTime::from_secs_f64(a),
            pathlab_sim::SimTime::from_secs_f64(b),
        );
    }
    engine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_and_autoplay_are_read_and_bad_ranges_are_named() {
        let (o, w) = StartOptions::parse("?embed=1&range=20..45&autoplay=1");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.range, Some((20.0, 45.0)));
        assert!(o.autoplay && !o.play, "autoplay is the page's to decide");
        let (o, w) = StartOptions::parse("?controls=play,clock,bogus&panels=diagram,timeline");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("bogus") && w[0].contains("play, step"),
            "{w:?}"
        );
        let hidden = o.hidden();
        assert!(hidden.contains(&"hide-step".to_string()));
        assert!(hidden.contains(&"hide-metrics".to_string()));
        assert!(!hidden.contains(&"hide-play".to_string()));
        assert!(!hidden.contains(&"hide-timeline".to_string()));
        assert!(
            StartOptions::parse("").0.hidden().is_empty(),
            "everything shows by default"
        );
        for bad in ["45..20", "20", "a..b", "-1..5", "0..100000"] {
            let (o, w) = StartOptions::parse(&format!("range={bad}"));
            assert_eq!(o.range, None, "{bad}");
            assert!(w.len() == 1 && w[0].contains("range"), "{bad}: {w:?}");
        }
    }

    #[test]
    fn compare_names_run_b_by_its_changes_or_its_preset() {
        let (o, w) = StartOptions::parse(
            "?preset=leader-crash&compare=db.replication%3Dsync%3Bapp.servers%3D2",
        );
        assert!(w.is_empty(), "{w:?}");
        let a = o.compare.unwrap();
        assert_eq!(a.set, vec!["db.replication=sync", "app.servers=2"]);
        let (o, _) = StartOptions::parse("compare=db.replication=sync");
        assert_eq!(o.compare.unwrap().set, vec!["db.replication=sync"]);
        let (o, _) = StartOptions::parse("compare=partition-leader");
        assert_eq!(
            o.compare.unwrap().preset.as_deref(),
            Some("partition-leader")
        );
        let (o, w) = StartOptions::parse("compare=nonsense");
        assert!(o.compare.is_none());
        assert!(w.len() == 1 && w[0].contains("FIELD=VALUE"), "{w:?}");
        // The engine starts comparing, and a field the scenario lacks is named.
        let (o, w) = StartOptions::parse("preset=leader-crash&compare=db.replication=sync");
        let e = initial_engine(&o, w, || Box::new(crate::live::LocalLink::new()));
        assert_eq!(
            e.versus.as_ref().map(|v| v.name.as_str()),
            Some("db.replication sync")
        );
        let (o, w) = StartOptions::parse("compare=db.replicaton=sync");
        let e = initial_engine(&o, w, || Box::new(crate::live::LocalLink::new()));
        assert!(e.versus.is_none());
        assert!(
            e.error
                .as_deref()
                .is_some_and(|m| m.contains("db.replicaton")),
            "{:?}",
            e.error
        );
    }
}
