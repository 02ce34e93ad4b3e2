//! Lessons on the page: the lesson index, and the lesson under way — the step's words, what it asks the student to do, the prediction asked before it plays, and the reveal with the run's own figures once it has.

use super::{Dispatch, on_click};
use crate::action::Action;
use crate::engine::{Engine, LessonPage};
use crate::lessons::{Card, StepView};
use pathlab_sim::lesson::WhyKind;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The lesson index: every lesson in order, with its topic, its time and
/// what the student will see; a button starts (or continues) each.
pub fn index(e: &Engine, d: &Dispatch) -> Html {
    if !e.lesson_index {
        return html! {};
    }
    let card = |c: &Card| {
        let reached = e.progress_of(&c.id);
        let (label, step) = match reached {
            Some(s) if s + 1 >= c.steps => ("Again".to_string(), 0),
            Some(s) => (format!("Continue at step {}", s + 1), s),
            None => ("Start".to_string(), 0),
        };
        html! {
            <li class="lesson-card" data-lesson={c.id.clone()}>
                <div class="lesson-card-head">
                    <span class="lesson-order">{ c.order }</span>
                    <h3>{ &c.title }</h3>
                    <span class="lesson-minutes">{ format!("{} min · {} steps", c.minutes, c.steps) }</span>
                </div>
                <p class="lesson-topic">{ &c.topic }</p>
                <p class="lesson-see">{ &c.you_will_see }</p>
                <button type="button" class="primary" data-action="lesson-open"
                        onclick={on_click(d, Action::LessonOpen { id: c.id.clone(), step })}>{ label }</button>
            </li>
        }
    };
    html! {
        <section class="lesson-index" data-testid="lesson-index" aria-label="Lessons">
            <div class="lesson-index-head">
                <h2>{ "Lessons" }</h2>
                <p>{ "Each lesson asks you to predict, then breaks something and shows what happened, with this run's own figures." }</p>
                <button type="button" aria-label="Close the lessons" onclick={on_click(d, Action::LessonIndex { open: false })}>{ "✕" }</button>
            </div>
            { match &e.lessons {
                None => html! { <p>{ "Loading the lessons…" }</p> },
                Some(cards) => html! { <ol class="lesson-cards">{ for cards.iter().map(card) }</ol> },
            } }
        </section>
    }
}

/// The lesson under way.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let Some(l) = &e.lesson else {
        return html! {};
    };
    let Some(step) = l.step() else {
        return html! {};
    };
    let n = l.state.lesson.steps.len();
    let k = l.state.step as usize;
    html! {
        <section class="lesson" data-testid="lesson" data-lesson={l.state.lesson.id.clone()} aria-label="Lesson">
            <div class="lesson-head">
                <span class="lesson-title">{ &l.state.lesson.title }</span>
                <span class="lesson-count">{ format!("Step {} of {n}", k + 1) }</span>
                <span class="lesson-nav">
                    <button type="button" data-action="lesson-back" aria-keyshortcuts="p" disabled={k == 0}
                            onclick={on_click(d, Action::LessonBack)}>{ "← Back" }</button>
                    <button type="button" data-action="lesson-restart" title="This step again from its start"
                            onclick={on_click(d, Action::LessonRestart)}>{ "Restart step" }</button>
                    <button type="button" class={classes!(l.state.revealed.is_some().then_some("primary"))} data-action="lesson-next"
                            aria-keyshortcuts="n" disabled={k + 1 >= n} onclick={on_click(d, Action::LessonNext)}>{ "Next →" }</button>
                    <button type="button" data-action="lesson-index" onclick={on_click(d, Action::LessonIndex { open: true })}>{ "All lessons" }</button>
                    <button type="button" aria-label="Leave the lesson (the run stays)" title="Leave the lesson: the run stays, to play freely"
                            onclick={on_click(d, Action::LessonClose)}>{ "✕" }</button>
                </span>
            </div>
            <div class="lesson-step" data-testid="lesson-step" data-step={(k + 1).to_string()}>
                <h2>{ &step.title }</h2>
                <p>{ &step.text }</p>
                { ask(l, step, d) }
                { predict(l, step, d) }
                { reveal(e, l, step, d) }
            </div>
        </section>
    }
}

/// What the step asks the student to do, and a button that does it for them.
fn ask(l: &LessonPage, step: &StepView, d: &Dispatch) -> Html {
    let Some((text, _)) = &step.ask else {
        return html! {};
    };
    html! {
        <p class={classes!("lesson-ask", l.asked.then_some("done"))} data-testid="lesson-ask">
            <strong>{ if l.asked { "Done: " } else { "Your turn: " } }</strong>{ text }
            if !l.asked {
                <button type="button" data-action="lesson-do" onclick={on_click(d, Action::LessonDo)}>{ "Do it for me" }</button>
            }
        </p>
    }
}

/// The prediction: choices or a number, locked in before the step plays.
fn predict(l: &LessonPage, step: &StepView, d: &Dispatch) -> Html {
    let Some(question) = &step.question else {
        return html! {
            if l.state.revealed.is_none() {
                <p class="lesson-play">{ format!("Press Play: the run stops at t = {:.0} s.", step.play_to.as_secs_f64()) }</p>
            }
        };
    };
    let locked = l.state.revealed.is_some();
    let answered = l.choice.is_some() || l.guess.is_some();
    let choices = step.choices.iter().enumerate().map(|(i, c)| {
        let i = i as u32;
        let right = l.state.revealed.as_ref().and_then(|r| r.right_choice) == Some(i);
        let onchange = {
            let d = d.clone();
            Callback::from(move |_: Event| d.emit(Action::LessonAnswer { choice: Some(i), guess: None }))
        };
        html! {
            <label class={classes!("choice", (locked && right).then_some("right"), (l.choice == Some(i)).then_some("chosen"))}>
                <input type="radio" name="predict" value={i.to_string()} checked={l.choice == Some(i)} disabled={locked} {onchange} />
                { c }
            </label>
        }
    });
    let number = step.guess.as_ref().map(|(unit, min, max)| {
        let onchange = {
            let d = d.clone();
            Callback::from(move |ev: Event| {
                let v = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .and_then(|i| i.value().parse::<f64>().ok());
                d.emit(Action::LessonAnswer { choice: None, guess: v });
            })
        };
        html! {
            <label class="guess">
                <input type="number" min={min.to_string()} max={max.to_string()} step="any" disabled={locked}
                       value={l.guess.map(|g| g.to_string()).unwrap_or_default()} {onchange} aria-label="Your guess" />
                { format!(" {unit}") }
            </label>
        }
    });
    html! {
        <form class="predict" data-testid="predict" onsubmit={Callback::from(|ev: SubmitEvent| ev.prevent_default())}>
            <p class="question"><strong>{ "Predict: " }</strong>{ question }</p>
            <div class="choices">{ for choices }{ for number }</div>
            if !locked {
                <p class="lesson-play">{ if answered {
                    format!("Locked in. Press Play: the run stops at t = {:.0} s and shows what happened.", step.play_to.as_secs_f64())
                } else {
                    "Choose an answer, then press Play.".to_string()
                } }</p>
            }
        </form>
    }
}

/// The reveal, once the step has played.
fn reveal(e: &Engine, l: &LessonPage, step: &StepView, d: &Dispatch) -> Html {
    let Some(r) = &l.state.revealed else {
        return html! {
            if l.revealing { <p class="lesson-wait">{ "Measuring…" }</p> }
        };
    };
    let verdict = match (&step.question, r.right_choice, r.figure) {
        (Some(_), Some(right), _) => Some(match l.choice {
            Some(c) if c == right => "Your prediction was right.".to_string(),
            Some(_) => format!(
                "Not quite. The run says: {}",
                step.choices.get(right as usize).map_or("", |s| s.as_str())
            ),
            None => format!(
                "The run says: {}",
                step.choices.get(right as usize).map_or("", |s| s.as_str())
            ),
        }),
        (Some(_), None, Some((x, within))) => {
            let shown = pathlab_sim::lesson::show(x, "");
            let unit = step.guess.as_ref().map_or("", |g| g.0.as_str());
            Some(match l.guess {
                Some(g) if (g - x).abs() <= within * x.abs() => {
                    format!("Your guess {g} {unit} was close: the run measured {shown} {unit}.")
                }
                Some(g) => format!("Your guess was {g} {unit}; the run measured {shown} {unit}."),
                None => format!("The run measured {shown} {unit}."),
            })
        }
        _ => None,
    };
    let why = step
        .why
        .and_then(|kind| why_target(e, l, kind).map(|id| (kind, id)));
    let ask_why = |id: u64| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| {
            d.emit(Action::OpenRequest { id: Some(id) });
            d.emit(Action::Why { id });
        })
    };
    html! {
        <div class="reveal" data-testid="reveal" role="status">
            if let Some(v) = verdict { <p class="verdict">{ v }</p> }
            if !r.text.is_empty() { <p>{ &r.text }</p> }
            if let Some((kind, id)) = why {
                <p><button type="button" data-action="lesson-why" data-request={id.to_string()}
                           onclick={ask_why(id)}>{ format!("Why? The story of one {}", kind_words(kind)) }</button></p>
            }
            if r.claims > 0 {
                <p class="claims">{ format!("{} of this step's {} claims hold in this run.", r.held, r.claims) }</p>
            }
        </div>
    }
}

/// An anomaly in words.
fn kind_words(kind: WhyKind) -> &'static str {
    match kind {
        WhyKind::StaleRead => "stale read",
        WhyKind::ReadYourWrites => "read that missed the user's own write",
        WhyKind::MonotonicRead => "read that went back in time",
        WhyKind::LostWrite => "lost write",
        WhyKind::RolledBackRead => "rolled-back read",
    }
}

/// The latest request of `kind` from this step of the run, whose story the
/// reveal offers.
fn why_target(e: &Engine, l: &LessonPage, kind: WhyKind) -> Option<u64> {
    use pathlab_sim::LogEvent;
    let from = (l.state.step as usize)
        .checked_sub(1)
        .and_then(|i| l.state.lesson.steps.get(i))
        .map_or(pathlab_sim::SimTime::ZERO, |s| s.play_to);
    match kind {
        WhyKind::LostWrite | WhyKind::RolledBackRead => e
            .sim
            .log()
            .iter()
            .rev()
            .take_while(|entry| entry.at >= from)
            .find_map(|entry| match (&entry.event, kind) {
                (LogEvent::LostWrite { request, .. }, WhyKind::LostWrite)
                | (LogEvent::RolledBackRead { request, .. }, WhyKind::RolledBackRead) => {
                    Some(request.0)
                }
                _ => None,
            }),
        _ => e
            .sim
            .traces()
            .rev()
            .take_while(|t| t.end >= from)
            .find(|t| t.outcome == pathlab_sim::Outcome::Stale)
            .map(|t| t.id.0),
    }
}
