//! The API a host page drives an embedded PathLab with: versioned JSON messages through `postMessage`, accepted only from the origin named by `?parent=ORIGIN` and sent only to it. The host asks (`play`, `pause`, `seek`, `setSpeed`, `act`, `load`); the frame tells (`ready`, `tick`, `event`, `error`). See `docs/embed.md`.

use crate::action::{Action, LogKind};
use crate::engine::Engine;
use crate::panels::Dispatch;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The version of the message API (every message carries it as `v`).
pub const API_VERSION: u64 = 1;

/// Real milliseconds between two `tick` messages while time moves.
pub const TICK_MS: f64 = 250.0;

/// Most `event` messages sent at once (a burst of anomalies is summed up).
pub const EVENTS_PER_TICK: usize = 20;

/// Longest message read, in bytes of JSON (a run file fits).
pub const MAX_MESSAGE_BYTES: usize = pathlab_sim::runfile::MAX_RUN_FILE_BYTES + 1024;

/// Checks that `text` is an origin (`https://host[:port]`), as `?parent=`
/// must name one; returns it without a trailing slash.
pub fn origin(text: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "ignored parent {text:?}: it must be the origin of the embedding page, like https://example.org"
        )
    };
    let o = text.trim_end_matches('/');
    let (scheme, rest) = o.split_once("://").ok_or_else(bad)?;
    let host_ok = !rest.is_empty()
        && !rest.contains(['/', '?', '#', '@', ' '])
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if matches!(scheme, "http" | "https") && host_ok {
        Ok(o.to_ascii_lowercase())
    } else {
        Err(bad())
    }
}

/// What a host asked for, read from its message.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The message's `type`.
    pub kind: String,
    /// What it does here.
    pub action: Action,
}

/// Reads a host's message (its JSON text): the action it asks for, or what
/// is wrong with it, in words (answered with an `error` message).
pub fn read(text: &str) -> Result<Request, String> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the message is {} bytes, more than the {MAX_MESSAGE_BYTES} one may have",
            text.len()
        ));
    }
    let msg: Value =
        serde_json::from_str(text).map_err(|_| "the message is not a JSON object".to_string())?;
    let Value::Object(fields) = &msg else {
        return Err("the message is not a JSON object with a \"type\"".into());
    };
    let kind = fields
        .get("type")
        .and_then(Value::as_str)
        .ok_or("the message has no \"type\" (a string)")?
        .to_string();
    match fields.get("v").and_then(Value::as_u64) {
        Some(API_VERSION) => {}
        Some(v) => {
            return Err(format!(
                "the message is version {v}; this PathLab speaks version {API_VERSION}"
            ));
        }
        None => return Err(format!("the message has no version \"v\" ({API_VERSION})")),
    }
    let number = |name: &str| -> Result<f64, String> {
        fields
            .get(name)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{kind} needs \"{name}\", a number"))
    };
    let action = match kind.as_str() {
        "play" => Action::Play,
        "pause" => Action::Pause,
        "seek" => {
            let t_ms = number("t_ms")?;
            if t_ms < 0.0 {
                return Err(format!("seek: t_ms must be 0 or more, not {t_ms}"));
            }
            Action::Seek {
                t: t_ms / 1000.0,
                request: None,
                node: None,
            }
        }
        "setSpeed" => {
            let speed = number("speed")?;
            if speed <= 0.0 {
                return Err(format!("setSpeed: speed must be above 0, not {speed}"));
            }
            Action::Speed { x: speed }
        }
        "act" => {
            let raw = fields
                .get("action")
                .ok_or("act needs \"action\", an action object like {\"act\":\"play\"}")?;
            let action: Action = serde_json::from_value(raw.clone())
                .map_err(|e| format!("act: the action is not one PathLab knows: {e}"))?;
            if matches!(
                action,
                Action::Answered { .. } | Action::Viewport { .. } | Action::Invalid { .. }
            ) {
                return Err("act: that action is the page's own, not a host's".into());
            }
            action
        }
        "load" => match (fields.get("link"), fields.get("runFile")) {
            (Some(Value::String(link)), None) => Action::OpenLink { link: link.clone() },
            (None, Some(Value::String(text))) => Action::OpenRunFile { text: text.clone() },
            (None, Some(file @ Value::Object(_))) => Action::OpenRunFile {
                text: file.to_string(),
            },
            _ => {
                return Err(
                    "load needs either \"link\" (a string) or \"runFile\" (its text or object)"
                        .into(),
                );
            }
        },
        other => {
            return Err(format!(
                "unknown message type {other:?} (expected play, pause, seek, setSpeed, act or load)"
            ));
        }
    };
    Ok(Request { kind, action })
}

/// The `type` of a message that could not be read, if it has one.
pub fn kind_of(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text)
        .ok()?
        .get("type")?
        .as_str()
        .map(str::to_string)
}

/// A message to the host, built as a plain object (the page's bundle holds
/// no JSON reader).
struct Out(web_sys::js_sys::Object);

impl Out {
    fn new(kind: &str) -> Out {
        Out(web_sys::js_sys::Object::new())
            .text("type", kind)
            .num("v", API_VERSION as f64)
    }
    fn set(self, k: &str, v: wasm_bindgen::JsValue) -> Out {
        let _ = web_sys::js_sys::Reflect::set(&self.0, &k.into(), &v);
        self
    }
    fn num(self, k: &str, v: f64) -> Out {
        self.set(k, v.into())
    }
    fn text(self, k: &str, v: &str) -> Out {
        self.set(k, v.into())
    }
    fn maybe(self, k: &str, v: Option<f64>) -> Out {
        self.set(k, v.map_or(wasm_bindgen::JsValue::NULL, Into::into))
    }
}

/// The `error` message answering a bad message or a refused action.
fn error_message(about: Option<&str>, error: &str) -> Out {
    Out::new("error")
        .set(
            "about",
            about.map_or(wasm_bindgen::JsValue::NULL, Into::into),
        )
        .text("error", error)
}

/// The `tick` message: the simulated time and the key figures now.
fn tick_message(e: &Engine) -> Out {
    let m = e.sim.metrics();
    let t = m.totals;
    let recent = crate::panels::metrics::recent(e);
    let last = m.series.last();
    let metrics = Out(web_sys::js_sys::Object::new())
        .num("requests", t.requests as f64)
        .num("ok", t.ok as f64)
        .num("errors", t.failed as f64)
        .num("throughput", recent.throughput)
        .num("availability", recent.availability)
        .maybe("p50_ms", last.map(|p| p.p50_ms))
        .maybe("p99_ms", last.map(|p| p.p99_ms))
        .num("stale_reads", t.stale_reads as f64)
        .num("lost_writes", e.sim.lost_writes() as f64)
        .num("rolled_back_reads", t.rolled_back_reads as f64)
        .num("leader_changes", t.leader_changes as f64);
    Out::new("tick")
        .num("t_ms", (e.sim.now().0 / 1000) as f64)
        .num("end_ms", (e.sim.end().0 / 1000) as f64)
        .set("playing", e.playing.into())
        .num("speed", e.speed())
        .text("fingerprint", &e.sim.fingerprint_hex())
        .set("metrics", metrics.0.into())
}

/// `event` messages for log lines `from..` of the run at the cursor: faults,
/// elections and anomalies (at most [`EVENTS_PER_TICK`]; the first says how
/// many before it were skipped).
fn event_messages(e: &Engine, from: usize) -> Vec<Out> {
    let lines: Vec<_> = e
        .sim
        .log()
        .get(from..)
        .unwrap_or(&[])
        .iter()
        .filter_map(|entry| {
            let kind = match LogKind::of(&entry.event) {
                LogKind::Faults => "fault",
                LogKind::Elections => "election",
                LogKind::Anomalies => "anomaly",
                LogKind::Other => return None,
            };
            Some((entry, kind))
        })
        .collect();
    let skipped = lines.len().saturating_sub(EVENTS_PER_TICK);
    lines
        .iter()
        .skip(skipped)
        .enumerate()
        .map(|(i, (entry, kind))| {
            Out::new("event")
                .num("t_ms", (entry.at.0 / 1000) as f64)
                .text("kind", kind)
                .text("text", &e.sim.describe(entry))
                .num("skipped", if i == 0 { skipped as f64 } else { 0.0 })
        })
        .collect()
}

/// The frame's side of the conversation while it lives: the listener for
/// the host's messages and the timer that answers them and sends ticks and
/// events.
pub struct Host {
    _listener: gloo::events::EventListener,
    _timer: gloo::timers::callback::Interval,
}

/// What the frame last told the host.
#[derive(Default)]
struct Told {
    /// The run, its log's length, the time and play state of the last tick
    /// and when (real ms) it was sent.
    run: u32,
    log: usize,
    t: u64,
    playing: bool,
    at_ms: f64,
    /// The core's refusals already passed on.
    refusals: usize,
}

/// Starts talking with the host page at `parent` (an origin): says
/// `ready`, then answers its messages and keeps it told.
pub fn start(parent: String, engine: Rc<RefCell<Engine>>, dispatch: Dispatch) -> Option<Host> {
    let window = gloo::utils::window();
    let host = window.parent().ok().flatten()?;
    let post: Rc<dyn Fn(Out)> = {
        let parent = parent.clone();
        Rc::new(move |msg: Out| {
            // A host that went away cannot be told anything.
            let _ = host.post_message(&msg.0, &parent);
        })
    };
    let warned = Cell::new(false);
    let listener = {
        let engine = engine.clone();
        gloo::events::EventListener::new(&window, "message", move |ev| {
            let Some(ev) = wasm_bindgen::JsCast::dyn_ref::<web_sys::MessageEvent>(ev) else {
                return;
            };
            if ev.origin() != parent {
                if !warned.replace(true) {
                    web_sys::console::warn_1(
                        &format!(
                            "PathLab ignored a message from {}: only {parent} (its ?parent=) may drive this frame. Later ones are ignored without a word.",
                            ev.origin()
                        )
                        .into(),
                    );
                }
                return;
            }
            let data = ev.data();
            let text = match data.as_string() {
                Some(s) => s,
                None => web_sys::js_sys::JSON::stringify(&data)
                    .ok()
                    .and_then(|s| s.as_string())
                    .unwrap_or_default(),
            };
            // The core reads it; the timer below does what it asks.
            if let Ok(mut e) = engine.try_borrow_mut() {
                e.host_message(text);
            }
        })
    };
    let told = RefCell::new(Told::default());
    let timer = {
        let clock = window.performance();
        gloo::timers::callback::Interval::new(50, move || {
            let inbox = match engine.try_borrow_mut() {
                Ok(mut e) => std::mem::take(&mut e.host_inbox),
                Err(_) => return,
            };
            for answer in inbox {
                let kind = answer.kind.as_deref();
                match answer.action {
                    Ok(action) => {
                        dispatch.emit(action);
                        let refused = engine.try_borrow().ok().and_then(|e| e.refused_now.clone());
                        if let Some(why) = refused {
                            post(error_message(kind, &why));
                        }
                    }
                    Err(why) => post(error_message(kind, &why)),
                }
            }
            let Ok(e) = engine.try_borrow() else { return };
            if !e.sim.started() {
                return;
            }
            let now_ms = clock.as_ref().map_or(0.0, |p| p.now());
            let mut told = told.borrow_mut();
            if told.run != e.sim.run() {
                if told.run == 0 {
                    post(
                        Out::new("ready")
                            .text("preset", &e.preset)
                            .num("seed", e.seed as f64)
                            .num("t_ms", (e.sim.now().0 / 1000) as f64),
                    );
                }
                *told = Told {
                    run: e.sim.run(),
                    refusals: told.refusals,
                    at_ms: f64::NEG_INFINITY,
                    ..Told::default()
                };
            }
            let log = e.sim.log().len();
            // Gone back in time: events from there on are told again.
            told.log = told.log.min(log);
            for msg in event_messages(&e, told.log) {
                post(msg);
            }
            told.log = log;
            if e.refusals.0 > told.refusals {
                post(error_message(None, &e.refusals.1));
                told.refusals = e.refusals.0;
            }
            let t = e.sim.now().0;
            let changed = t != told.t || e.playing != told.playing;
            if changed && now_ms - told.at_ms >= TICK_MS {
                post(tick_message(&e));
                told.t = t;
                told.playing = e.playing;
                told.at_ms = now_ms;
            }
        })
    };
    Some(Host {
        _listener: listener,
        _timer: timer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_type_reads_as_its_action() {
        let r = |t: &str| read(t).map(|r| r.action);
        assert_eq!(r(r#"{"type":"play","v":1}"#), Ok(Action::Play));
        assert_eq!(r(r#"{"type":"pause","v":1}"#), Ok(Action::Pause));
        assert_eq!(
            r(r#"{"type":"seek","v":1,"t_ms":2500}"#),
            Ok(Action::Seek {
                t: 2.5,
                request: None,
                node: None
            })
        );
        assert_eq!(
            r(r#"{"type":"setSpeed","v":1,"speed":4}"#),
            Ok(Action::Speed { x: 4.0 })
        );
        assert_eq!(
            r(r#"{"type":"act","v":1,"action":{"act":"command","do":"crash","node":"db-0-0"}}"#),
            Ok(Action::Command(pathlab_sim::Command::Crash {
                node: "db-0-0".into()
            }))
        );
        assert_eq!(
            r(r#"{"type":"load","v":1,"link":"https://x.org/#run=abc"}"#),
            Ok(Action::OpenLink {
                link: "https://x.org/#run=abc".into()
            })
        );
        assert_eq!(
            r(r#"{"type":"load","v":1,"runFile":{"pathlab_run":1}}"#),
            Ok(Action::OpenRunFile {
                text: r#"{"pathlab_run":1}"#.into()
            })
        );
    }

    #[test]
    fn a_bad_message_is_named_for_what_is_wrong() {
        let err = |t: &str| read(t).unwrap_err();
        assert!(err("not json").contains("not a JSON object"));
        assert!(err("[1,2]").contains("not a JSON object"));
        assert!(err(r#"{"v":1}"#).contains("no \"type\""));
        assert!(err(r#"{"type":"play"}"#).contains("no version"));
        assert!(err(r#"{"type":"play","v":2}"#).contains("version 2"));
        assert!(err(r#"{"type":"jump","v":1}"#).contains("unknown message type \"jump\""));
        assert!(err(r#"{"type":"seek","v":1}"#).contains("t_ms"));
        assert!(err(r#"{"type":"seek","v":1,"t_ms":-5}"#).contains("0 or more"));
        assert!(err(r#"{"type":"setSpeed","v":1,"speed":0}"#).contains("above 0"));
        assert!(
            err(r#"{"type":"act","v":1,"action":{"act":"fly"}}"#).contains("not one PathLab knows")
        );
        assert!(
            err(r#"{"type":"act","v":1,"action":{"act":"viewport","narrow":true}}"#)
                .contains("page's own")
        );
        assert!(err(r#"{"type":"load","v":1}"#).contains("either"));
        assert!(err(r#"{"type":"load","v":1,"link":"a","runFile":"b"}"#).contains("either"));
    }

    #[test]
    fn parent_must_be_an_origin() {
        assert_eq!(
            origin("https://Example.org/"),
            Ok("https://example.org".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:8081"),
            Ok("http://127.0.0.1:8081".into())
        );
        for bad in [
            "example.org",
            "*",
            "https://",
            "https://a.org/path",
            "javascript:alert(1)",
            "ftp://a.org",
        ] {
            assert!(origin(bad).is_err(), "{bad}");
        }
    }

    /// A small deterministic generator (the test needs no quality, only
    /// variety, and must not depend on the run).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn a_hundred_thousand_garbled_messages_are_refused_without_a_panic() {
        let valid = [
            r#"{"type":"play","v":1}"#,
            r#"{"type":"seek","v":1,"t_ms":2500}"#,
            r#"{"type":"setSpeed","v":1,"speed":4}"#,
            r#"{"type":"act","v":1,"action":{"act":"command","do":"partition","groups":[["db-0-0"],["db-0-1"]]}}"#,
            r#"{"type":"load","v":1,"runFile":{"pathlab_run":1,"seed":3}}"#,
        ];
        let pieces = [
            "{", "}", "[", "]", "\"", ":", ",", "null", "1e999", "-0", "\"type\"", "\"v\"", "1",
            "\"act\"", "\"seek\"", "\\u0000", "🙂", "true", "\"t_ms\"", "NaN",
        ];
        let mut rng = Lcg(7);
        let mut read_ok = 0;
        for i in 0..100_000 {
            let base = valid[i % valid.len()].as_bytes().to_vec();
            let mut text = base.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % (text.len() + 1);
                match rng.next() % 3 {
                    0 => {
                        text.truncate(at);
                    }
                    1 => {
                        let p = pieces[(rng.next() as usize) % pieces.len()];
                        text.splice(at..at, p.bytes());
                    }
                    _ => {
                        if at < text.len() {
                            text[at] = (rng.next() % 256) as u8;
                        }
                    }
                }
            }
            let text = String::from_utf8_lossy(&text);
            match read(&text) {
                Ok(_) => read_ok += 1,
                Err(why) => assert!(!why.is_empty()),
            }
        }
        assert!(read_ok > 100, "some mutations stay valid: {read_ok}");
        assert!(read_ok < 90_000, "most are refused: {read_ok}");
    }
}
