//! What the chosen scenario is about, in plain words, and what to try with it.

use crate::engine::Engine;
use yew::prelude::*;

/// Something to try in each lesson, pointing at the controls that do it.
pub fn what_to_try(preset: &str) -> &'static str {
    match preset {
        "default" => {
            "Crash the database leader (click db-0-0, then Crash) and watch a follower take over; or slow an app server down ×50 and watch the p99 tile."
        }
        "async-follower-reads" => {
            "Watch the Stale reads tile climb, then switch Database → Reads go to the leader and see it stop. Click a stale read in Requests to see which follower answered."
        }
        "sync-leader-reads" => {
            "Crash a follower and watch writes stop (every follower must confirm); then switch to semi-synchronous replication and crash it again."
        }
        "leader-crash" => {
            "Let it run past 20 s: watch the election in the log, then open a lost write to see which failover discarded it. Try synchronous replication and run it again."
        }
        "partition-leader" => {
            "After 20 s two leaders accept writes; at 40 s the heal throws one side's writes away. Then reset, turn fencing on in the Database group before 20 s, and compare."
        }
        "region-failover" => {
            "Watch eu-west's users fail at 20 s until DNS gives up on their site and their cached answer expires; then try a shorter DNS TTL."
        }
        _ => "A benchmark: watch the frame rate hold while thousands of requests are in flight.",
    }
}

/// The scenario's description and a suggestion, under the top bar.
pub fn view(e: &Engine) -> Html {
    let description = e.scenario.description.trim();
    let description = if description.is_empty() {
        "A healthy system: about 300 requests a second from three regions, nothing broken yet."
    } else {
        description
    };
    html! {
        <section class="intro" aria-label="About this scenario">
            <p data-testid="preset-description">
                <strong>{ format!("{}: ", e.preset) }</strong>{ description }
            </p>
            <p class="try"><strong>{ "Try: " }</strong>{ what_to_try(&e.preset) }</p>
        </section>
    }
}
