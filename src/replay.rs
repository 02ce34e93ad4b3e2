//! The replay worker: a second copy of the simulation core, started in its own Web Worker the first time a question needs the run replayed (why did this request go wrong?), so that neither the page nor the live run waits while it replays. It follows the page's run from the same scenario, seed and exactly placed commands, keeping checkpoints as it goes.

use crate::action::Redesign;
use pathlab_sim::{
    Applied, Hop, HopNote, NodeId, Outcome, RequestId, RequestKind, Scenario, SimTime, Timeline,
    Trace, Version, What,
};
use serde::{Deserialize, Serialize};

use crate::link::WORKER_SCRIPT;

/// A question for the worker, with the run it is about.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ask {
    /// The run: the preset it started from…
    pub preset: String,
    /// …with these design changes, in order (the scenario is not sent
    /// whole, which keeps its serialising code out of the page).
    pub designs: Vec<Redesign>,
    /// Its seed.
    pub seed: u64,
    /// Commands applied so far, in their places.
    pub commands: Vec<Applied>,
    /// How far the page has played…
    pub upto: SimTime,
    /// …and how many events that took (a frame may stop between two events
    /// of one instant).
    pub events: u64,
    /// The page's fingerprint there: the worker checks it reached the same
    /// state before answering.
    pub fingerprint: u64,
    /// The request to explain.
    pub why: RequestId,
}

/// One fact of a story: when, and what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoryFact {
    /// Simulated time, µs.
    pub at: SimTime,
    /// In words.
    pub text: String,
    /// Another request it is about (the write a read missed, an earlier
    /// read), to open from the story.
    pub request: Option<RequestId>,
}

/// The worker's answer about one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The request.
    pub request: RequestId,
    /// What went wrong (a heading), or why there is no story.
    pub title: String,
    /// The story, in order; empty when there is nothing to explain.
    pub facts: Vec<StoryFact>,
    /// The request's hops, rebuilt by the replay (for requests whose
    /// details the page no longer keeps).
    pub trace: Option<Trace>,
    /// True when no answer came (the worker failed): asking again retries.
    #[serde(default)]
    pub failed: bool,
}

impl Answer {
    /// An answer with no story: `title` says why.
    pub fn untold(request: RequestId, title: String) -> Answer {
        Answer {
            request,
            title,
            facts: Vec::new(),
            trace: None,
            failed: false,
        }
    }
}

/// The run the worker follows, and what it was built from.
#[derive(Debug)]
pub struct Followed {
    scenario: Scenario,
    seed: u64,
    commands: Vec<Applied>,
    timeline: Timeline,
}

/// Answers one question, following the run in `state` (rebuilt when the
/// question is about another run).
pub fn answer(state: &mut Option<Followed>, ask: Ask, progress: &dyn Fn(f64)) -> Answer {
    let scenario = match crate::live::scenario_of(&ask.preset, &ask.designs) {
        Ok(s) => s,
        Err(e) => return Answer::untold(ask.why, format!("This run cannot be replayed: {e}")),
    };
    let same = |f: &Followed| {
        f.scenario == scenario
            && f.seed == ask.seed
            && ask.commands.starts_with(&f.commands)
            && f.timeline.cursor() <= ask.upto
            // Commands it has not seen must come after where it got to.
            && ask.commands[f.commands.len()..].iter().all(|c| {
                (c.at, c.events) >= (f.timeline.cursor(), f.timeline.sim().events())
            })
    };
    let f = match state.take().filter(|f| same(f)) {
        Some(f) => state.insert(f),
        None => match Timeline::new(&scenario, ask.seed) {
            Ok(timeline) => state.insert(Followed {
                scenario,
                seed: ask.seed,
                commands: Vec::new(),
                timeline,
            }),
            Err(e) => {
                return Answer::untold(ask.why, format!("This run cannot be replayed: {e}"));
            }
        },
    };
    let more = &ask.commands[f.commands.len()..];
    // Catch up in slices, saying how far it got (a long run takes seconds).
    let from = f.timeline.cursor().0;
    let span = ask.upto.0.saturating_sub(from);
    let slice = (span / 20).max(10_000_000);
    let mut at = from + slice;
    f.timeline.catch_up(more, f.timeline.cursor());
    while at < ask.upto.0 {
        f.timeline.catch_up(&[], SimTime(at));
        progress((at - from) as f64 / span as f64);
        at += slice;
    }
    f.timeline.catch_up_exactly(&[], ask.upto, ask.events);
    f.commands.extend_from_slice(more);
    let fingerprint = f.timeline.sim().fingerprint();
    if fingerprint != ask.fingerprint {
        *state = None;
        return Answer::untold(
            ask.why,
            format!(
                "The replay did not reach the page's state (fingerprint {fingerprint:016x}, the page's {:016x}), so it cannot tell this story",
                ask.fingerprint
            ),
        );
    }
    let (trace, told) = match f.timeline.replay_request(ask.why) {
        Ok((trace, told)) => (Some(trace), told),
        Err(e) => (None, Err(e)),
    };
    match told {
        Ok(e) => Answer {
            request: ask.why,
            title: format!("Why: a {}", e.anomaly.title()),
            facts: e
                .facts
                .into_iter()
                .map(|f| StoryFact {
                    at: f.at,
                    request: match f.what {
                        What::Missed { write, .. } => write,
                        What::ReadBefore { read, .. } => read,
                        _ => None,
                    },
                    text: f.text,
                })
                .collect(),
            trace,
            failed: false,
        },
        Err(e) => Answer {
            request: ask.why,
            title: capitalise(&e.to_string()),
            facts: Vec::new(),
            trace,
            failed: false,
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The worker's entry point: answers each message (an [`Ask`] as JSON) with
/// an [`Answer`] as JSON. A message that is not a question is answered
/// with an error line, and changes nothing.
#[cfg(target_arch = "wasm32")]
pub fn serve() {
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    thread_local! {
        static STATE: RefCell<Option<Followed>> = const { RefCell::new(None) };
        static LIVE: RefCell<crate::live::Core> = RefCell::new(crate::live::Core::new());
    }
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys_global();
    let reply = scope.clone();
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
            let text = m.data().as_string().unwrap_or_default();
            // The live run's messages are answered as JSON text.
            if let Ok(msg) = serde_json::from_str::<crate::link::ToCore>(&text) {
                let answer =
                    LIVE.with(|core| core.borrow_mut().handle(msg, &web_sys::js_sys::Date::now));
                let bytes = crate::wire::encode(&answer);
                let _ = reply.post_message(&web_sys::js_sys::Uint8Array::from(&bytes[..]));
                return;
            }
            let out = match serde_json::from_str::<Ask>(&text) {
                Ok(ask) => STATE.with(|s| {
                    let say = |fraction: f64| {
                        let o = web_sys::js_sys::Object::new();
                        let _ =
                            web_sys::js_sys::Reflect::set(&o, &"progress".into(), &fraction.into());
                        let _ = reply.post_message(&o);
                    };
                    answer(&mut s.borrow_mut(), ask, &say)
                }),
                Err(e) => Answer::untold(
                    RequestId(u64::MAX),
                    format!("The replay worker could not read the question: {e}"),
                ),
            };
            // Nothing to do if the page has gone.
            let _ = reply.post_message(&to_js(&out));
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    // Messages sent before this point were dropped: the page waits for this.
    let _ = scope.post_message(&READY.into());
}

use crate::link::READY;

/// An answer as a plain JavaScript object, `{request, title, facts:
/// [[at_us, text, other request or null], …], trace}`: the page reads it
/// without a JSON parser.
#[cfg(target_arch = "wasm32")]
fn to_js(a: &Answer) -> wasm_bindgen::JsValue {
    use web_sys::js_sys::{Array, Object, Reflect};
    let o = Object::new();
    let facts = Array::new();
    for f in &a.facts {
        let other = f
            .request
            .map_or(wasm_bindgen::JsValue::NULL, |r| (r.0 as f64).into());
        facts.push(&Array::of3(
            &(f.at.0 as f64).into(),
            &f.text.as_str().into(),
            &other,
        ));
    }
    let _ = Reflect::set(&o, &"request".into(), &(a.request.0 as f64).into());
    let _ = Reflect::set(&o, &"title".into(), &a.title.as_str().into());
    let _ = Reflect::set(&o, &"facts".into(), &facts);
    if let Some(t) = &a.trace {
        let hops = Array::new();
        for h in &t.hops {
            let hop = Array::new();
            for n in [
                h.node.0 as f64,
                h.start.0 as f64,
                h.end.0 as f64,
                h.note.code() as f64,
            ] {
                hop.push(&n.into());
            }
            hops.push(&hop);
        }
        let kind = match t.kind {
            RequestKind::Static => 0.0,
            RequestKind::Read => 1.0,
            RequestKind::Write => 2.0,
        };
        let version =
            |v: Option<Version>| v.map_or(wasm_bindgen::JsValue::NULL, |v| v.0.to_string().into());
        let trace = Array::new();
        for n in [
            kind,
            t.key as f64,
            t.session as f64,
            t.client.0 as f64,
            t.start.0 as f64,
            t.end.0 as f64,
            t.outcome.code() as f64,
        ] {
            trace.push(&n.into());
        }
        trace.push(&version(t.version));
        trace.push(&version(t.expected));
        trace.push(&hops);
        let _ = Reflect::set(&o, &"trace".into(), &trace);
    }
    o.into()
}

/// Reads a trace made by `to_js`.
fn trace_from_js(request: RequestId, v: &wasm_bindgen::JsValue) -> Option<Trace> {
    use web_sys::js_sys::Array;
    let a = Array::from(v);
    let num = |i: u32| a.get(i).as_f64();
    let version = |i: u32| {
        a.get(i)
            .as_string()
            .and_then(|s| s.parse().ok())
            .map(Version)
    };
    let hops = Array::from(&a.get(9))
        .iter()
        .map(|h| {
            let h = Array::from(&h);
            let n = |i: u32| h.get(i).as_f64();
            Some(Hop {
                node: NodeId(n(0)? as u16),
                start: SimTime(n(1)? as u64),
                end: SimTime(n(2)? as u64),
                note: HopNote::from_code(n(3)? as u8)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Trace {
        id: request,
        kind: [RequestKind::Static, RequestKind::Read, RequestKind::Write]
            .get(num(0)? as usize)
            .copied()?,
        key: num(1)? as u32,
        session: num(2)? as u32,
        client: NodeId(num(3)? as u16),
        start: SimTime(num(4)? as u64),
        end: SimTime(num(5)? as u64),
        outcome: Outcome::from_code(num(6)? as u8)?,
        version: version(7),
        expected: version(8),
        hops,
    })
}

/// Reads an answer made by `to_js`; None if it is not one.
fn from_js(v: &wasm_bindgen::JsValue) -> Option<Answer> {
    use web_sys::js_sys::{Array, Reflect};
    let get = |k: &str| Reflect::get(v, &k.into()).ok();
    let request = get("request")?.as_f64()?;
    let title = get("title")?.as_string()?;
    let facts = Array::from(&get("facts")?)
        .iter()
        .map(|f| {
            let pair = Array::from(&f);
            Some(StoryFact {
                at: SimTime(pair.get(0).as_f64()? as u64),
                text: pair.get(1).as_string()?,
                request: pair.get(2).as_f64().map(|r| RequestId(r as u64)),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let request = RequestId(request as u64);
    let trace = get("trace")
        .filter(|t| !t.is_undefined())
        .and_then(|t| trace_from_js(request, &t));
    Some(Answer {
        request,
        title,
        facts,
        trace,
        failed: false,
    })
}

#[cfg(target_arch = "wasm32")]
fn js_sys_global() -> web_sys::DedicatedWorkerGlobalScope {
    use wasm_bindgen::JsCast;
    web_sys::js_sys::global().unchecked_into()
}

/// The page's side: the worker, started on first use, and what to do
/// with its answers.
pub struct Client {
    worker: web_sys::Worker,
    /// Questions asked before the worker listens (then None).
    waiting: std::rc::Rc<std::cell::RefCell<Option<Vec<String>>>>,
    /// Set once the worker has stopped: the next question starts another.
    stopped: std::rc::Rc<std::cell::Cell<bool>>,
    _on_message: wasm_bindgen::prelude::Closure<dyn Fn(web_sys::MessageEvent)>,
    _on_error: wasm_bindgen::prelude::Closure<dyn Fn(web_sys::Event)>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Client")
    }
}

impl Client {
    /// Starts the worker. `on_answer` gets each answer, `on_progress` how
    /// far a long replay has got (0 to 1), `on_failure` a
    /// sentence when the worker could not answer (it failed to load, or
    /// stopped).
    pub fn start(
        on_answer: impl Fn(Answer) + 'static,
        on_progress: impl Fn(f64) + 'static,
        on_failure: impl Fn(String) + 'static,
    ) -> Result<Client, String> {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;
        let worker = web_sys::Worker::new(WORKER_SCRIPT)
            .map_err(|_| "the replay worker could not be started".to_string())?;
        let on_failure = std::rc::Rc::new(on_failure);
        let fail = on_failure.clone();
        let waiting = std::rc::Rc::new(std::cell::RefCell::new(Some(Vec::<String>::new())));
        let queue = waiting.clone();
        let port = worker.clone();
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                if m.data().as_string().as_deref() == Some(READY) {
                    let asked = queue.borrow_mut().take().unwrap_or_default();
                    for text in asked {
                        let _ = port.post_message(&text.into());
                    }
                    return;
                }
                let data = m.data();
                if let Some(p) = web_sys::js_sys::Reflect::get(&data, &"progress".into())
                    .ok()
                    .and_then(|p| p.as_f64())
                {
                    return on_progress(p);
                }
                match from_js(&data) {
                    Some(a) => on_answer(a),
                    None => fail("the replay worker answered something unexpected".into()),
                }
            });
        // A script that fails to load gives a plain Event; an error inside
        // the worker an ErrorEvent with a message.
        let stopped = std::rc::Rc::new(std::cell::Cell::new(false));
        let stop = stopped.clone();
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |e: web_sys::Event| {
            e.prevent_default();
            stop.set(true);
            let why = e
                .dyn_ref::<web_sys::ErrorEvent>()
                .map(|e| e.message())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "it could not be loaded".into());
            on_failure(format!("the replay worker stopped: {why}"));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Client {
            worker,
            waiting,
            stopped,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Whether the worker has stopped (it failed to load, or failed).
    pub fn stopped(&self) -> bool {
        self.stopped.get()
    }

    /// Sends a question.
    pub fn ask(&self, ask: &Ask) -> Result<(), String> {
        // Serialising plain data cannot fail; the message would be empty.
        let text = serde_json::to_string(ask).unwrap_or_default();
        if let Some(queue) = self.waiting.borrow_mut().as_mut() {
            queue.push(text);
            return Ok(());
        }
        self.worker
            .post_message(&text.into())
            .map_err(|_| "the question could not be sent to the replay worker".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pathlab_sim::{Command, Simulation, presets};

    fn ask(sim: &Simulation, commands: Vec<Applied>, why: RequestId) -> Ask {
        Ask {
            preset: "async-follower-reads".into(),
            designs: Vec::new(),
            seed: sim.seed(),
            commands,
            upto: sim.now(),
            events: sim.events(),
            fingerprint: sim.fingerprint(),
            why,
        }
    }

    #[test]
    fn the_worker_follows_the_pages_run_and_tells_a_stale_reads_story() {
        let scenario = presets::preset("async-follower-reads").unwrap();
        // The page's run, paused mid-instant as a busy frame leaves it.
        let mut page = Simulation::new(&scenario, 1).unwrap();
        while !page.step_until_bounded(SimTime::from_secs_f64(4.0), 3_333) {}
        let stale = page
            .traces()
            .find(|t| t.outcome == pathlab_sim::Outcome::Stale)
            .expect("a stale read")
            .id;
        let mut state = None;
        let a = answer(&mut state, ask(&page, Vec::new(), stale), &|_| {});
        assert_eq!(a.title, "Why: a stale read");
        assert!(a.facts.iter().any(|f| f.text.contains("behind its leader")));
        // Later, with a command: the worker goes on from where it was.
        let crash = Applied {
            at: page.now(),
            events: page.events(),
            command: Command::Crash {
                node: "db-0-0".into(),
            },
        };
        page.apply(&crash.command).unwrap();
        page.step_until(SimTime::from_secs_f64(6.0));
        let fine = page
            .traces()
            .rev()
            .find(|t| {
                t.outcome == pathlab_sim::Outcome::Ok && t.kind == pathlab_sim::RequestKind::Read
            })
            .unwrap()
            .id;
        let a = answer(&mut state, ask(&page, vec![crash], fine), &|_| {});
        assert!(a.facts.is_empty());
        assert!(a.title.contains("nothing to explain"), "{}", a.title);
        let f = state.as_ref().unwrap();
        assert_eq!(f.timeline.sim().fingerprint(), page.fingerprint());
        // A run that is not the page's (here: a wrong fingerprint) gets no
        // story rather than a wrong one, and the next question starts over.
        let mut wrong = ask(&page, Vec::new(), fine);
        wrong.fingerprint ^= 1;
        let a = answer(&mut state, wrong, &|_| {});
        assert!(
            a.title.contains("did not reach the page's state"),
            "{}",
            a.title
        );
        assert!(a.facts.is_empty() && a.trace.is_none() && state.is_none());
    }
}
