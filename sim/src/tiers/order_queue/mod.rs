//! Asynchronous work: a durable message queue and workers that take order jobs (payment, inventory, email) after the user has had the answer, redelivering a job whose worker went silent (at-least-once).

use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{Msg, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::time::{MS, SimTime, ms_to_micros};
use std::collections::{BTreeMap, VecDeque};

/// A job handed to a worker and not yet reported done.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivery {
    pub worker: NodeId,
    pub delivery: u32,
    pub deadline: SimTime,
}

/// The message queue. Its jobs are durable: a crash loses deliveries in
/// progress (they are redelivered), not the jobs.
#[derive(Clone, Debug, Default)]
pub struct QueueNode {
    pub(crate) waiting: VecDeque<u64>,
    pub(crate) in_flight: BTreeMap<u64, Delivery>,
    pub(crate) hungry: VecDeque<NodeId>,
    next_delivery: u32,
    /// Jobs taken.
    pub enqueued: u64,
    /// Jobs reported done.
    pub completed: u64,
    /// Jobs given to another worker after the first went silent.
    pub redelivered: u64,
}

impl QueueNode {
    /// Jobs not yet done (waiting or being worked on).
    pub fn backlog(&self) -> usize {
        self.waiting.len() + self.in_flight.len()
    }
}

/// A worker: does one job at a time, step by step.
#[derive(Clone, Debug, Default)]
pub struct WorkerNode {
    pub(crate) current: Option<(u64, u32)>,
    /// Jobs it finished.
    pub done: u64,
}

/// The steps of an order job, in order.
pub const STEPS: [&str; 3] = ["payment", "inventory", "email"];

/// How often the queue checks for silent workers and idle workers ask again.
const TICK: u64 = 100 * MS;

impl QueueNode {
    /// Starts (at time zero or on restart): jobs that were out with workers
    /// when it crashed are offered again.
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        let q = &mut *self;
        q.hungry.clear();
        // Deliveries in progress were forgotten with the crash: redeliver.
        let lost: Vec<u64> = q.in_flight.keys().copied().collect();
        q.in_flight.clear();
        for job in lost.into_iter().rev() {
            q.waiting.push_front(job);
        }
        cx.timer(TICK, Timer::QueueTick);
    }

    /// Handles a message from `from`.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, from: NodeId, msg: Msg) {
        let now = cx.now;
        match msg {
            Msg::Enqueue { req } => {
                let q = &mut *self;
                q.waiting.push_back(req.0);
                q.enqueued += 1;
                cx.metrics.totals.jobs_enqueued += 1;
                let work = cx.work(200);
                cx.hop_span(req, now, now.after(work), HopNote::Enqueued);
                cx.send(from, Msg::EnqueueAck { req }, work);
            }
            Msg::JobPull => {
                let q = &mut *self;
                if !q.hungry.contains(&from) {
                    q.hungry.push_back(from);
                }
            }
            Msg::JobDone { job, delivery } => {
                let q = &mut *self;
                if q.in_flight
                    .get(&job)
                    .is_some_and(|d| d.delivery == delivery)
                {
                    q.in_flight.remove(&job);
                    q.completed += 1;
                    cx.metrics.totals.jobs_done += 1;
                    cx.truth.job_effects.entry(job).or_default().done_at = Some(cx.now);
                }
            }
            // Nothing else is ever sent to the order queue; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobOffer { .. }
            | Msg::QPut { .. }
            | Msg::QPutAck { .. }
            | Msg::QGet { .. }
            | Msg::QValue { .. }
            | Msg::MReplicate { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::DbReply { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Ping { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
        self.dispatch(cx);
    }

    /// Hands waiting jobs to workers that asked for one.
    fn dispatch(&mut self, cx: &mut Cx) {
        let visibility = ms_to_micros(cx.scenario().queue.visibility_timeout_ms);
        let now = cx.now;
        let mut offers = Vec::new();
        let q = &mut *self;
        while !q.waiting.is_empty() {
            let Some(worker) = q.hungry.pop_front() else {
                break;
            };
            let Some(job) = q.waiting.pop_front() else {
                break;
            };
            q.next_delivery += 1;
            let delivery = q.next_delivery;
            q.in_flight.insert(
                job,
                Delivery {
                    worker,
                    delivery,
                    deadline: now.after(visibility),
                },
            );
            offers.push((worker, job, delivery));
        }
        for (worker, job, delivery) in offers {
            cx.send(worker, Msg::JobOffer { job, delivery }, 0);
        }
    }

    /// The queue's periodic check: a job whose worker has been silent past
    /// the visibility timeout goes back to the front of the line.
    pub(crate) fn on_tick(&mut self, cx: &mut Cx) {
        cx.timer(TICK, Timer::QueueTick);
        let now = cx.now;
        let q = &mut *self;
        let expired: Vec<(u64, NodeId)> = q
            .in_flight
            .iter()
            .filter(|(_, d)| d.deadline <= now)
            .map(|(&job, d)| (job, d.worker))
            .collect();
        for &(job, _) in expired.iter().rev() {
            q.in_flight.remove(&job);
            q.waiting.push_front(job);
            q.redelivered += 1;
        }
        for (job, worker) in expired {
            cx.log(LogEvent::Redelivered {
                job: RequestId(job),
                worker,
            });
        }
        self.dispatch(cx);
    }
}

impl WorkerNode {
    /// Starts (at time zero or on restart) by asking the queue for a job.
    pub(crate) fn boot(&mut self, cx: &mut Cx) {
        self.current = None;
        if let Some(q) = cx.topo.queue {
            cx.send(q, Msg::JobPull, 0);
        }
        cx.timer(10 * TICK, Timer::QueueTick);
    }

    /// Handles a message (a job offer).
    pub(crate) fn on_msg(&mut self, cx: &mut Cx, msg: Msg) {
        match msg {
            Msg::JobOffer { job, delivery } => {
                if self.current.is_some() {
                    return;
                }
                self.current = Some((job, delivery));
                let ms = cx.scenario().queue.task_ms[0];
                let d = cx.work(ms_to_micros(ms));
                cx.timer(d, Timer::WorkerStep(job, delivery, 0));
            }
            // Nothing else is ever sent to a queue worker; a message that arrives anyway
            // is counted as misrouted rather than dropped in silence.
            msg @ (Msg::DnsQuery { .. }
            | Msg::DnsAnswer { .. }
            | Msg::AuthQuery { .. }
            | Msg::AuthAnswer { .. }
            | Msg::Http { .. }
            | Msg::HttpReply { .. }
            | Msg::CacheGet { .. }
            | Msg::CacheValue { .. }
            | Msg::CacheSet { .. }
            | Msg::CacheDel { .. }
            | Msg::CacheWrite { .. }
            | Msg::CacheWriteAck { .. }
            | Msg::Enqueue { .. }
            | Msg::EnqueueAck { .. }
            | Msg::JobPull
            | Msg::QPut { .. }
            | Msg::QPutAck { .. }
            | Msg::QGet { .. }
            | Msg::QValue { .. }
            | Msg::MReplicate { .. }
            | Msg::JobDone { .. }
            | Msg::DbRead { .. }
            | Msg::DbWrite { .. }
            | Msg::DbReply { .. }
            | Msg::Append(_)
            | Msg::InstallSnapshot(_)
            | Msg::AppendReply { .. }
            | Msg::Vote { .. }
            | Msg::VoteReply { .. }
            | Msg::Ping { .. }
            | Msg::Pong { .. }
            | Msg::LbAdvert { .. }) => cx.misrouted(&msg),
        }
    }

    /// A worker finished one step of a job: its effect happens (charging a
    /// card twice is a duplicate), then the next step or the report.
    pub(crate) fn on_step_done(&mut self, cx: &mut Cx, job: u64, delivery: u32, step: u8) {
        if self.current != Some((job, delivery)) {
            return;
        }
        let effects = &mut cx.truth.job_effects.entry(job).or_default().steps;
        effects[step as usize] += 1;
        if effects[step as usize] > 1 {
            cx.metrics.totals.job_duplicates += 1;
        }
        let next = step as usize + 1;
        if next < STEPS.len() {
            let ms = cx.scenario().queue.task_ms[next];
            let d = cx.work(ms_to_micros(ms));
            cx.timer(d, Timer::WorkerStep(job, delivery, next as u8));
            return;
        }
        self.current = None;
        self.done += 1;
        if let Some(q) = cx.topo.queue {
            cx.send(q, Msg::JobDone { job, delivery }, 0);
            cx.send(q, Msg::JobPull, 0);
        }
    }

    /// An idle worker asks again now and then (the queue may have restarted).
    pub(crate) fn on_tick(&mut self, cx: &mut Cx) {
        cx.timer(10 * TICK, Timer::QueueTick);
        if self.current.is_none()
            && let Some(q) = cx.topo.queue
        {
            cx.send(q, Msg::JobPull, 0);
        }
    }
}
