//! The narrow context a tier's handler sees: the time, the settings, the random streams, an effects buffer, sinks for request records, ground truth, metrics and the log, and the read-only topology — never another tier's state.

use crate::log::{EventLog, LogEvent};
use crate::metrics::Metrics;
use crate::msg::{Dest, Effect, Msg, Observation, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::requests::{Req, Requests};
use crate::rng::SimRng;
use crate::scenario::Scenario;
use crate::settings::{Config, Settings};
use crate::time::{Micros, SimTime};
use crate::topology::Topology;
use crate::truth::Truth;

/// The random streams tiers draw from, one per concern, so that a change of
/// design never reshuffles the arrivals. (The network's stream belongs to
/// the engine.)
#[derive(Clone, Debug)]
pub(crate) struct Streams {
    /// Arrivals, request mix, keys and sessions (users).
    pub workload: SimRng,
    /// Service times (app servers).
    pub service: SimRng,
    /// Election timeouts (database replicas).
    pub election: SimRng,
    /// Choices made by the design: random balancing, replica choice.
    pub design: SimRng,
}

/// What a handler may see and do. Built by the engine for one event at one
/// node; everything a tier learns about another travels as a message or
/// through the read-only [`Topology`].
#[derive(Debug)]
pub(crate) struct Cx<'a> {
    /// The current simulated time.
    pub now: SimTime,
    /// The node handling the event.
    pub me: NodeId,
    /// How many times slower than normal this node works (1 = normal).
    pub slow: f64,
    settings: &'a Settings,
    /// The random streams.
    pub rng: &'a mut Streams,
    /// Records of requests in flight.
    pub reqs: &'a mut Requests,
    /// The ground truth (what users were told).
    pub truth: &'a mut Truth,
    /// Counters and histograms.
    pub metrics: &'a mut Metrics,
    /// The layout of the world.
    pub topo: &'a Topology,
    effects: &'a mut Vec<Effect>,
    log: &'a mut EventLog,
}

impl<'a> Cx<'a> {
    /// A context for `me` at `now`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        now: SimTime,
        me: NodeId,
        slow: f64,
        settings: &'a Settings,
        rng: &'a mut Streams,
        reqs: &'a mut Requests,
        truth: &'a mut Truth,
        metrics: &'a mut Metrics,
        topo: &'a Topology,
        effects: &'a mut Vec<Effect>,
        log: &'a mut EventLog,
    ) -> Cx<'a> {
        Cx {
            now,
            me,
            slow,
            settings,
            rng,
            reqs,
            truth,
            metrics,
            topo,
            effects,
            log,
        }
    }

    /// The settings as they are now.
    #[inline]
    pub fn scenario(&self) -> &'a Scenario {
        self.settings.scenario()
    }

    /// Figures derived from the settings (durations in microseconds, …).
    #[inline]
    pub fn cfg(&self) -> &'a Config {
        self.settings.cfg()
    }

    /// Sends `msg` to `to` after `delay` of local work.
    #[inline(always)]
    pub fn send(&mut self, to: impl Into<Dest>, msg: Msg, delay: Micros) {
        self.effects.push(Effect::Send {
            from: self.me,
            to: to.into(),
            msg,
            delay,
        });
    }

    /// Wakes this node with `timer` after `after`.
    #[inline(always)]
    pub fn timer(&mut self, after: Micros, timer: Timer) {
        self.effects.push(Effect::Timer {
            node: self.me,
            after,
            timer,
        });
    }

    /// Claims the balancers' shared address for this node.
    pub fn claim_address(&mut self) {
        self.effects.push(Effect::ClaimAddress(self.me));
    }

    /// Stops this node once the handler is done (a drained server leaving).
    pub fn stop(&mut self) {
        self.effects.push(Effect::Stop(self.me));
    }

    /// Tells the ground truth something that needs the whole world to judge
    /// (an answer reaching its user, a write-back write settled).
    pub fn observe(&mut self, what: Observation) {
        self.effects.push(Effect::Observe(what));
    }

    /// Reports a message this node's tier never expects (a routing bug):
    /// it is counted, never silently dropped.
    pub fn misrouted(&mut self, msg: &Msg) {
        self.effects.push(Effect::Misrouted {
            node: self.me,
            tag: msg.tag(),
        });
    }

    /// Scales a span of work by this node's slowness.
    #[inline]
    pub fn work(&self, us: Micros) -> Micros {
        if self.slow == 1.0 {
            us
        } else {
            (us as f64 * self.slow) as Micros
        }
    }

    /// Records a line in the event log.
    pub fn log(&mut self, event: LogEvent) {
        self.log.push(self.now, event);
    }

    /// The record of a request, if it is still kept.
    #[inline]
    pub fn req(&mut self, id: RequestId) -> Option<&mut Req> {
        self.reqs.get(id)
    }

    /// Opens a hop at this node for request `id`; returns its index.
    pub fn hop_open(&mut self, id: RequestId, note: HopNote) -> u8 {
        self.reqs.hop_open(id, self.me, self.now, note)
    }

    /// Closes hop `idx` of request `id` at `end` with `note`.
    pub fn hop_close(&mut self, id: RequestId, idx: u8, end: SimTime, note: HopNote) {
        self.reqs.hop_close(id, idx, end, note);
    }

    /// Records a complete hop at this node.
    pub fn hop_span(&mut self, id: RequestId, start: SimTime, end: SimTime, note: HopNote) {
        self.reqs.hop_span(id, self.me, start, end, note);
    }
}

/// A world's worth of sinks and settings for testing one tier's handlers on
/// their own.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::rng::Stream;

    /// Owns everything a [`Cx`] borrows.
    pub struct Harness {
        pub now: SimTime,
        pub settings: Settings,
        pub rng: Streams,
        pub reqs: Requests,
        pub truth: Truth,
        pub metrics: Metrics,
        pub topo: Topology,
        pub effects: Vec<Effect>,
        pub log: EventLog,
    }

    impl Harness {
        /// A harness for `scenario` with random streams from `seed`.
        pub fn new(scenario: &Scenario, seed: u64) -> Harness {
            Harness {
                now: SimTime::ZERO,
                settings: Settings::new(scenario).expect("valid scenario"),
                rng: Streams {
                    workload: SimRng::new(seed, Stream::Workload),
                    service: SimRng::new(seed, Stream::Service),
                    election: SimRng::new(seed, Stream::Election),
                    design: SimRng::new(seed, Stream::Design),
                },
                reqs: Requests::default(),
                truth: Truth::new(scenario),
                metrics: Metrics::new(),
                topo: Topology::default(),
                effects: Vec::new(),
                log: EventLog::default(),
            }
        }

        /// The context of node `me` now.
        pub fn cx(&mut self, me: NodeId) -> Cx<'_> {
            Cx::new(
                self.now,
                me,
                1.0,
                &self.settings,
                &mut self.rng,
                &mut self.reqs,
                &mut self.truth,
                &mut self.metrics,
                &self.topo,
                &mut self.effects,
                &mut self.log,
            )
        }
    }
}
