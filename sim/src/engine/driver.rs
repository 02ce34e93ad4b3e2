//! The driver: the event loop that pops the next event, hands it to the node's tier with a fresh context, and carries out the effects the handler asked for; crashes and restarts; and the simulation's accessors.

use super::net::Network;
use super::queue::EventQueue;
use crate::commands::Command;
use crate::context::Streams;
use crate::log::{EventLog, LogEntry, LogEvent};
use crate::metrics::Metrics;
use crate::msg::{Dest, Effect, Msg, Timer};
use crate::node::{NodeId, NodeKind, NodeStatus};
use crate::request::{RequestId, Trace};
use crate::requests::Requests;
use crate::scenario::Scenario;
use crate::settings::Settings;
use crate::tiers::Tiers;
use crate::time::{Micros, SEC, SimTime, secs_to_micros};
use crate::topology::Topology;
use crate::truth::Truth;
use std::collections::VecDeque;

/// Something scheduled to happen.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    Deliver {
        from: NodeId,
        to: NodeId,
        sent: SimTime,
        msg: Msg,
    },
    Timer {
        node: NodeId,
        life: u32,
        timer: Timer,
    },
    Command(u32),
    Tick,
}

/// A 64-bit hash over the event trace, the same on every platform: each
/// word is folded in with a rotate, an xor and a multiply (the FxHash step
/// at a fixed 64-bit width), and the result is finished with SplitMix64's
/// mixer when read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceHash(pub u64);

impl TraceHash {
    /// Folds one 64-bit word into the hash.
    #[inline]
    pub fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517C_C1B7_2722_0A95);
    }

    /// The finished hash.
    pub fn value(self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
}

/// A running simulation. A pure function of (scenario, seed, commands):
/// it never reads the clock or the operating system's randomness, and every
/// collection it iterates is ordered. It is `Clone`, so a copy is a
/// checkpoint that can be resumed or forked.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// The scenario the run started from (commands never change it).
    pub(crate) initial: Scenario,
    pub(crate) seed: u64,
    /// The settings as they are now.
    pub(crate) settings: Settings,
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<Event>,
    pub(crate) topo: Topology,
    pub(crate) status: Vec<NodeStatus>,
    pub(crate) net: Network,
    pub(crate) rng: Streams,
    pub(crate) tiers: Tiers,
    pub(crate) reqs: Requests,
    pub(crate) traces: VecDeque<Trace>,
    pub(crate) truth: Truth,
    pub(crate) metrics: Metrics,
    pub(crate) log: EventLog,
    pub(crate) effects: Vec<Effect>,
    pub(crate) events: u64,
    pub(crate) fp: TraceHash,
    pub(crate) commands: Vec<Command>,
    /// Messages that reached a tier that never expects them (always 0
    /// unless routing has a bug).
    pub(crate) misrouted: u64,
}

/// Builds the context for `$me` from the simulation's parts and evaluates
/// `$body` with the tiers and the context borrowed side by side.
macro_rules! with_cx {
    ($sim:expr, $me:expr, |$tiers:ident, $cx:ident| $body:expr) => {{
        let me: $crate::node::NodeId = $me;
        let slow = $sim.status[me.idx()].slow;
        let $tiers = &mut $sim.tiers;
        let mut cx = $crate::context::Cx::new(
            $sim.now,
            me,
            slow,
            &$sim.settings,
            &mut $sim.rng,
            &mut $sim.reqs,
            &mut $sim.truth,
            &mut $sim.metrics,
            &$sim.topo,
            &mut $sim.effects,
            &mut $sim.log,
        );
        let $cx = &mut cx;
        $body
    }};
}
pub(crate) use with_cx;

impl Simulation {
    /// What a node does when it starts (at time zero or on restart).
    pub(crate) fn boot(&mut self, id: NodeId) {
        let info = &self.topo.nodes[id.idx()];
        let (t, kind) = (info.tier_idx as usize, info.kind);
        with_cx!(self, id, |tiers, cx| match kind {
            NodeKind::Client => tiers.clients[t].boot(cx),
            NodeKind::DnsAuthority => tiers.auth[t].boot(cx),
            NodeKind::Lb => tiers.lbs[t].boot(cx),
            NodeKind::Db => tiers.dbs[t].boot(cx),
            NodeKind::Cache => tiers.caches[t].boot(cx),
            NodeKind::Queue => tiers.queues[t].boot(cx),
            NodeKind::Worker => tiers.workers[t].boot(cx),
            NodeKind::Resolver | NodeKind::Cdn | NodeKind::App => {}
        });
    }

    // ----- effects -------------------------------------------------------

    /// Carries out every effect handlers asked for, in order.
    pub(crate) fn flush(&mut self) {
        if self.effects.is_empty() {
            return;
        }
        let mut effects = std::mem::take(&mut self.effects);
        loop {
            for e in effects.drain(..) {
                self.carry_out(e);
            }
            // Carrying out may add effects (a node stopping): do those too.
            if self.effects.is_empty() {
                break;
            }
            std::mem::swap(&mut effects, &mut self.effects);
        }
        // Keep the buffer's allocation for the next event.
        self.effects = effects;
    }

    fn carry_out(&mut self, e: Effect) {
        match e {
            Effect::Send {
                from,
                to,
                msg,
                delay,
            } => self.transmit(from, to, msg, delay),
            Effect::Timer { node, after, timer } => {
                let life = self.status[node.idx()].incarnation;
                let ev = Event::Timer { node, life, timer };
                if timer.fixed_span() {
                    self.queue.push_after(self.now, after, ev);
                } else {
                    self.queue.push(self.now.after(after), ev);
                }
            }
            Effect::ClaimAddress(node) => {
                let site = self.topo.site_of(node);
                if let Some(v) = self.net.vips.get_mut(site) {
                    *v = Some(node);
                }
            }
            Effect::Stop(node) => self.crash(node),
            Effect::Observe(what) => self.observe(what),
            Effect::Misrouted { .. } => self.misrouted += 1,
        }
    }

    /// Puts a message on the network: partitions and loss may drop it,
    /// otherwise it arrives after the link's delay.
    fn transmit(&mut self, from: NodeId, to: Dest, msg: Msg, delay: Micros) {
        let to = match to {
            Dest::Node(n) => n,
            Dest::Origin | Dest::Site(_) => {
                let site = match to {
                    Dest::Site(s) => s as usize,
                    _ => 0,
                };
                match self.net.vips.get(site).copied().flatten() {
                    Some(n) => n,
                    None => {
                        self.net.dropped += 1;
                        return;
                    }
                }
            }
        };
        let sent = self.now.after(delay);
        let lat = if from == to {
            0
        } else {
            match self.net.latency(&self.topo, from, to) {
                Some(lat) => lat,
                None => return,
            }
        };
        let mut at = sent.after(lat);
        if msg.in_order() {
            at = self.net.in_order(from, to, at);
        }
        self.queue.push(
            at,
            Event::Deliver {
                from,
                to,
                sent,
                msg,
            },
        );
    }

    // ----- the loop ------------------------------------------------------

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Processes the next event. Returns false when nothing is left.
    pub fn step(&mut self) -> bool {
        let Some((at, ev)) = self.queue.pop() else {
            return false;
        };
        self.process(at, ev);
        true
    }

    #[inline]
    fn process(&mut self, at: SimTime, ev: Event) {
        self.now = at;
        self.events += 1;
        self.fp.mix(at.0);
        self.dispatch(ev);
        self.flush();
    }

    /// Processes every event up to and including time `t`, then sets the
    /// clock to `t`. Returns how many events ran.
    pub fn step_until(&mut self, t: SimTime) -> u64 {
        let before = self.events;
        while let Some((at, ev)) = self.queue.pop_until(t) {
            self.process(at, ev);
        }
        if t > self.now {
            self.now = t;
        }
        self.events - before
    }

    /// Like [`Simulation::step_until`], but stops after at most `budget`
    /// events (for an interface that must not block a frame). Returns true
    /// when `t` was reached.
    pub fn step_until_bounded(&mut self, t: SimTime, budget: u64) -> bool {
        for _ in 0..budget {
            match self.queue.pop_until(t) {
                Some((at, ev)) => self.process(at, ev),
                None => {
                    if t > self.now {
                        self.now = t;
                    }
                    return true;
                }
            }
        }
        if self.queue.peek_time().is_some_and(|at| at <= t) {
            return false;
        }
        if t > self.now {
            self.now = t;
        }
        true
    }

    /// Runs to the scenario's duration.
    pub fn run(&mut self) {
        let end = SimTime::from_secs_f64(self.initial.duration_s);
        self.step_until(end);
    }

    /// Runs for `secs` more simulated seconds.
    pub fn run_for(&mut self, secs: f64) {
        let end = self.now.after(secs_to_micros(secs));
        self.step_until(end);
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Deliver { from, to, msg, .. } => {
                self.fp
                    .mix(msg.tag() << 32 | (to.0 as u64) << 16 | from.0 as u64);
                if let Some(r) = msg.request() {
                    self.fp.mix(r.0);
                }
                if !self.status[to.idx()].up || self.net.is_blocked(from, to) {
                    self.net.dropped += 1;
                    return;
                }
                let info = &self.topo.nodes[to.idx()];
                let (t, kind) = (info.tier_idx as usize, info.kind);
                with_cx!(self, to, |tiers, cx| match kind {
                    NodeKind::Client => tiers.clients[t].on_msg(cx, from, msg),
                    NodeKind::Resolver => tiers.resolvers[t].on_msg(cx, from, msg),
                    NodeKind::DnsAuthority => tiers.auth[t].on_msg(cx, from, msg),
                    NodeKind::Cdn => tiers.cdns[t].on_msg(cx, from, msg),
                    NodeKind::Lb => tiers.lbs[t].on_msg(cx, from, msg),
                    NodeKind::App => tiers.apps[t].on_msg(cx, from, msg),
                    NodeKind::Cache => tiers.caches[t].on_msg(cx, from, msg),
                    NodeKind::Db => tiers.dbs[t].on_msg(cx, from, msg),
                    NodeKind::Queue => tiers.queues[t].on_msg(cx, from, msg),
                    NodeKind::Worker => tiers.workers[t].on_msg(cx, msg),
                });
            }
            Event::Timer { node, life, timer } => {
                self.fp.mix(timer.tag() << 32 | node.0 as u64);
                let st = &self.status[node.idx()];
                if !st.up || st.incarnation != life {
                    return;
                }
                let info = &self.topo.nodes[node.idx()];
                let (t, kind) = (info.tier_idx as usize, info.kind);
                with_cx!(self, node, |tiers, cx| match timer {
                    Timer::Arrival => tiers.clients[t].on_arrival(cx),
                    Timer::ClientTimeout(r) => tiers.clients[t].on_timeout(cx, r),
                    Timer::ResolverTimeout(name, epoch) => {
                        tiers.resolvers[t].on_timeout(cx, name, epoch)
                    }
                    Timer::AuthHealth => tiers.auth[t].on_health_timer(cx),
                    Timer::CdnOriginTimeout(r) => tiers.cdns[t].on_origin_timeout(cx, r),
                    Timer::LbHealth => tiers.lbs[t].on_health_timer(cx),
                    Timer::LbVrrp => tiers.lbs[t].on_heartbeat_timer(cx),
                    Timer::LbUpstreamTimeout(r) => tiers.lbs[t].on_upstream_timeout(cx, r),
                    Timer::AppCpu(r) => tiers.apps[t].on_cpu_done(cx, r),
                    Timer::AppCallTimeout(r, call) => tiers.apps[t].on_call_timeout(cx, r, call),
                    Timer::DbElection => tiers.dbs[t].on_election_timer(cx),
                    Timer::DbHeartbeat(term) => tiers.dbs[t].on_heartbeat_timer(cx, term),
                    Timer::DbApply(i) => tiers.dbs[t].on_apply_timer(cx, i),
                    Timer::DbStore(key, v) => tiers.dbs[t].on_store_timer(key, v),
                    Timer::DbServeGet(r, key, to) =>
                        tiers.dbs[t].on_serve_get_timer(cx, r, key, to),
                    Timer::CacheFlush => tiers.caches[t].on_flush_timer(cx),
                    Timer::QueueTick if kind == NodeKind::Queue => tiers.queues[t].on_tick(cx),
                    Timer::QueueTick => tiers.workers[t].on_tick(cx),
                    Timer::WorkerStep(job, delivery, step) => {
                        tiers.workers[t].on_step_done(cx, job, delivery, step)
                    }
                });
            }
            Event::Command(i) => {
                self.fp.mix(0xC0DE_0000 | i as u64);
                if let Some(cmd) = self.commands.get(i as usize).cloned() {
                    // Checked when scheduled; a failure here would be a bug,
                    // and it is reported in the log rather than panicking.
                    if let Err(e) = self.apply_now(&cmd) {
                        self.log_event(LogEvent::CommandFailed(e.to_string()));
                    }
                }
            }
            Event::Tick => {
                self.metrics_tick();
                self.queue.push(self.now.after(SEC), Event::Tick);
            }
        }
    }

    // ----- crash and restart -----------------------------------------------

    /// Stops a node: it forgets its memory and ignores messages and timers.
    pub(crate) fn crash(&mut self, id: NodeId) {
        if !self.status[id.idx()].up {
            return;
        }
        self.status[id.idx()].up = false;
        self.status[id.idx()].incarnation += 1;
        let info = &self.topo.nodes[id.idx()];
        let (t, kind) = (info.tier_idx as usize, info.kind);
        let retired = kind == NodeKind::App && self.tiers.apps.get(t).is_some_and(|a| a.retired);
        self.log_event(if retired {
            LogEvent::Retired(id)
        } else {
            LogEvent::Crashed(id)
        });
        // Whatever the node was doing for requests is gone with it.
        for r in self.reqs.iter_mut() {
            if r.app == Some(id) {
                r.app = None;
            }
            if r.lb == Some(id) {
                r.lb = None;
            }
            if r.cdn == Some(id) {
                r.cdn = None;
            }
        }
        let tiers = &mut self.tiers;
        match kind {
            NodeKind::Client | NodeKind::DnsAuthority | NodeKind::Queue => {}
            NodeKind::Resolver => tiers.resolvers[t] = Default::default(),
            NodeKind::Cdn => tiers.cdns[t].store.clear(),
            NodeKind::Lb => tiers.lbs[t].crash(),
            NodeKind::App => tiers.apps[t].crash(),
            NodeKind::Cache => {
                with_cx!(self, id, |tiers, cx| tiers.caches[t].crash(cx));
                self.flush();
            }
            NodeKind::Db => tiers.dbs[t].crash(),
            NodeKind::Worker => tiers.workers[t].current = None,
        }
    }

    /// Starts a crashed node again.
    pub(crate) fn restart(&mut self, id: NodeId) {
        if self.status[id.idx()].up {
            return;
        }
        self.status[id.idx()].up = true;
        self.status[id.idx()].incarnation += 1;
        self.log_event(LogEvent::Restarted(id));
        self.boot(id);
    }

    /// Records a line in the event log.
    pub(crate) fn log_event(&mut self, event: LogEvent) {
        self.log.push(self.now, event);
    }

    // ----- accessors -------------------------------------------------------

    /// The scenario this run started from. Commands that change settings
    /// while it runs do not change it; see [`Simulation::settings`].
    pub fn scenario(&self) -> &Scenario {
        &self.initial
    }

    /// The settings as they are now: the starting scenario with every
    /// `set-*`, `scale` and `set-load` command applied so far.
    pub fn settings(&self) -> &Scenario {
        self.settings.scenario()
    }

    /// The commands that changed the settings so far, in order: the
    /// scenario with these applied (see [`Command::edit`]) is
    /// [`Simulation::settings`].
    pub fn settings_edits(&self) -> &[crate::Command] {
        self.settings.edits()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Looks up a node by its id, e.g. `db-0-1`.
    pub fn node_id(&self, name: &str) -> Result<NodeId, crate::error::Error> {
        self.topo.id(name)
    }

    /// The readable id of a node.
    pub fn node_name(&self, id: NodeId) -> &str {
        self.topo.name(id)
    }

    /// App servers in service (not retired by scaling in).
    pub fn active_app_servers(&self) -> usize {
        self.tiers.apps.iter().filter(|a| !a.retired).count()
    }

    /// Messages that reached a node whose tier never expects them: 0 unless
    /// the engine routes wrongly (tests check it stays 0).
    pub fn misrouted(&self) -> u64 {
        self.misrouted
    }

    /// Events waiting in the queue.
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }

    /// Events processed so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// A hash of every event processed so far: two runs with the same
    /// scenario, seed and commands have the same fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fp.value()
    }

    /// The fingerprint as 16 hex digits.
    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.fp.value())
    }

    /// The event log so far.
    pub fn log(&self) -> &[LogEntry] {
        self.log.entries()
    }

    /// How many of the oldest log lines were let go (the log keeps the
    /// newest 100,000): line `i` of [`Simulation::log`] is line
    /// `log_dropped() + i` of the whole run.
    pub fn log_dropped(&self) -> u64 {
        self.log.dropped()
    }

    /// Renders a log entry in plain words.
    pub fn describe(&self, entry: &LogEntry) -> String {
        entry.event.describe(self)
    }

    /// Finished request traces, oldest first (bounded by `trace_capacity`).
    pub fn traces(&self) -> impl DoubleEndedIterator<Item = &Trace> + ExactSizeIterator {
        self.traces.iter()
    }

    /// The trace of one finished request, if still kept.
    pub fn trace(&self, id: RequestId) -> Option<&Trace> {
        // Traces are stored in id order of completion, which is close to id
        // order; a linear scan from the back is fast for recent requests.
        self.traces.iter().rev().find(|t| t.id == id)
    }

    /// Metrics so far.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Ids and kinds of all nodes, in diagram order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &str, NodeKind)> {
        self.topo
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i as u16), n.name.as_str(), n.kind))
    }
}
