//! Asynchronous work: a durable message queue and workers that take order jobs (payment, inventory, email) after the user has had the answer, redelivering a job whose worker went silent (at-least-once).

use crate::log::LogEvent;
use crate::msg::{Msg, Timer};
use crate::node::NodeId;
use crate::request::{HopNote, RequestId};
use crate::time::{MS, SimTime, ms_to_micros};
use crate::world::Simulation;
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

impl Simulation {
    fn queue_id(&self) -> Option<NodeId> {
        self.names.get("queue-1").copied()
    }

    pub(crate) fn queue_boot(&mut self, node: NodeId) {
        let q = &mut self.queues[0];
        q.hungry.clear();
        // Deliveries in progress were forgotten with the crash: redeliver.
        let lost: Vec<u64> = q.in_flight.keys().copied().collect();
        q.in_flight.clear();
        for job in lost.into_iter().rev() {
            q.waiting.push_front(job);
        }
        self.timer(node, TICK, Timer::QueueTick);
    }

    pub(crate) fn worker_boot(&mut self, node: NodeId, t: usize) {
        self.workers[t].current = None;
        if let Some(q) = self.queue_id() {
            self.send(node, q, Msg::JobPull, 0);
        }
        self.timer(node, 10 * TICK, Timer::QueueTick);
    }

    pub(crate) fn queue_on_msg(&mut self, node: NodeId, from: NodeId, msg: Msg) {
        let now = self.now;
        match msg {
            Msg::Enqueue { req } => {
                let q = &mut self.queues[0];
                q.waiting.push_back(req.0);
                q.enqueued += 1;
                self.metrics.totals.jobs_enqueued += 1;
                let work = self.work(node, 200);
                self.hop_span(req, node, now, now.after(work), HopNote::Enqueued);
                self.send(node, from, Msg::EnqueueAck { req }, work);
            }
            Msg::JobPull => {
                let q = &mut self.queues[0];
                if !q.hungry.contains(&from) {
                    q.hungry.push_back(from);
                }
            }
            Msg::JobDone { job, delivery } => {
                let q = &mut self.queues[0];
                if q.in_flight
                    .get(&job)
                    .is_some_and(|d| d.delivery == delivery)
                {
                    q.in_flight.remove(&job);
                    q.completed += 1;
                    self.metrics.totals.jobs_done += 1;
                }
            }
            _ => {}
        }
        self.queue_dispatch(node);
    }

    /// Hands waiting jobs to workers that asked for one.
    fn queue_dispatch(&mut self, node: NodeId) {
        let visibility = ms_to_micros(self.scenario.queue.visibility_timeout_ms);
        let now = self.now;
        let mut offers = Vec::new();
        let q = &mut self.queues[0];
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
            self.send(node, worker, Msg::JobOffer { job, delivery }, 0);
        }
    }

    /// The queue's periodic check: a job whose worker has been silent past
    /// the visibility timeout goes back to the front of the line.
    pub(crate) fn queue_tick(&mut self, node: NodeId) {
        self.timer(node, TICK, Timer::QueueTick);
        let now = self.now;
        let q = &mut self.queues[0];
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
            self.log_event(LogEvent::Redelivered {
                job: RequestId(job),
                worker,
            });
        }
        self.queue_dispatch(node);
    }

    pub(crate) fn worker_on_msg(&mut self, node: NodeId, t: usize, msg: Msg) {
        if let Msg::JobOffer { job, delivery } = msg {
            if self.workers[t].current.is_some() {
                return;
            }
            self.workers[t].current = Some((job, delivery));
            let ms = self.scenario.queue.task_ms[0];
            let d = self.work(node, ms_to_micros(ms));
            self.timer(node, d, Timer::WorkerStep(job, delivery, 0));
        }
    }

    /// A worker finished one step of a job: its effect happens (charging a
    /// card twice is a duplicate), then the next step or the report.
    pub(crate) fn worker_step(
        &mut self,
        node: NodeId,
        t: usize,
        job: u64,
        delivery: u32,
        step: u8,
    ) {
        if self.workers[t].current != Some((job, delivery)) {
            return;
        }
        let effects = self.job_effects.entry(job).or_insert([0; 3]);
        effects[step as usize] += 1;
        if effects[step as usize] > 1 {
            self.metrics.totals.job_duplicates += 1;
        }
        let next = step as usize + 1;
        if next < STEPS.len() {
            let ms = self.scenario.queue.task_ms[next];
            let d = self.work(node, ms_to_micros(ms));
            self.timer(node, d, Timer::WorkerStep(job, delivery, next as u8));
            return;
        }
        self.workers[t].current = None;
        self.workers[t].done += 1;
        if let Some(q) = self.queue_id() {
            self.send(node, q, Msg::JobDone { job, delivery }, 0);
            self.send(node, q, Msg::JobPull, 0);
        }
    }

    /// An idle worker asks again now and then (the queue may have restarted).
    pub(crate) fn worker_tick(&mut self, node: NodeId, t: usize) {
        self.timer(node, 10 * TICK, Timer::QueueTick);
        if self.workers[t].current.is_none()
            && let Some(q) = self.queue_id()
        {
            self.send(node, q, Msg::JobPull, 0);
        }
    }

    /// Jobs not yet done, if there is a queue.
    pub fn queue_backlog(&self) -> Option<usize> {
        self.queues.first().map(QueueNode::backlog)
    }
}
