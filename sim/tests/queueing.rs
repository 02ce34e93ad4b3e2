//! Asynchronous work: orders answered as soon as their follow-up job is queued, a backlog when workers fall behind, and at-least-once redelivery (with duplicates) when a worker dies mid-job.

use pathlab_sim::{Command, LogEvent, RequestKind, Scenario, SimTime, Simulation, TimedCommand};

fn orders() -> Scenario {
    let mut s = Scenario::default();
    s.queue.enabled = true;
    s.trace_capacity = 50_000;
    s
}

fn run(s: &Scenario, secs: f64) -> Simulation {
    let mut sim = Simulation::new(s, 8).unwrap();
    sim.step_until(SimTime::from_secs_f64(secs));
    sim
}

fn median_write_ms(sim: &Simulation) -> f64 {
    let mut v: Vec<u64> = sim
        .traces()
        .filter(|t| t.kind == RequestKind::Write && t.outcome == pathlab_sim::Outcome::Ok)
        .map(|t| t.end.since(t.start))
        .collect();
    v.sort_unstable();
    v[v.len() / 2] as f64 / 1000.0
}

#[test]
fn the_user_is_answered_once_the_job_is_queued_not_when_it_is_done() {
    let with_queue = run(&orders(), 20.0);
    let without = run(&Scenario::default(), 20.0);
    // Payment, inventory and email take 200 ms; the user waits a few ms more
    // than without a queue, not 200.
    let (q, plain) = (median_write_ms(&with_queue), median_write_ms(&without));
    assert!(q < plain + 10.0, "{q} ms with a queue, {plain} ms without");
    let sum = with_queue.summary().queue.unwrap();
    assert!(sum.enqueued > 500);
    assert!(sum.done + sum.backlog >= sum.enqueued);
    assert_eq!(sum.duplicates, 0);
}

#[test]
fn too_few_workers_make_a_visible_backlog() {
    let mut s = orders();
    s.queue.workers = 1;
    let sim = run(&s, 20.0);
    let backlog: Vec<u64> = sim
        .metrics()
        .series
        .iter()
        .filter_map(|p| p.backlog)
        .collect();
    // ~30 orders a second, one worker doing five a second: the line grows.
    assert!(backlog[15] > backlog[5] + 100, "{backlog:?}");
    assert_eq!(
        sim.summary().requests.failed,
        0,
        "users do not wait for the backlog"
    );
}

#[test]
fn a_worker_that_dies_mid_job_has_its_job_redelivered_and_some_steps_happen_twice() {
    let mut s = orders();
    s.queue.task_ms = [300.0, 300.0, 300.0];
    s.queue.workers = 8;
    s.script = vec![
        TimedCommand {
            at_s: 10.0,
            command: Command::Crash {
                node: "worker-1".into(),
            },
        },
        TimedCommand {
            at_s: 10.0,
            command: Command::Crash {
                node: "worker-2".into(),
            },
        },
        TimedCommand {
            at_s: 14.0,
            command: Command::Restart {
                node: "worker-1".into(),
            },
        },
        TimedCommand {
            at_s: 14.0,
            command: Command::Restart {
                node: "worker-2".into(),
            },
        },
    ];
    let sim = run(&s, 40.0);
    assert!(
        sim.log()
            .iter()
            .any(|e| matches!(e.event, LogEvent::Redelivered { .. }))
    );
    let sum = sim.summary().queue.unwrap();
    assert!(sum.redelivered >= 1);
    assert!(
        sum.duplicates >= 1,
        "steps done before the crash were done again: {sum:?}"
    );
    // At least once: after recovery every job is done.
    let mut drained = sim.clone();
    drained.apply(&Command::set_rate(0.0)).unwrap();
    drained.run_for(150.0);
    let after = drained.summary().queue.unwrap();
    assert_eq!(after.backlog, 0);
    assert_eq!(after.done, after.enqueued);
}

#[test]
fn when_the_queue_is_down_orders_fail_instead_of_waiting() {
    let mut s = orders();
    s.script = vec![TimedCommand {
        at_s: 5.0,
        command: Command::Crash {
            node: "queue-1".into(),
        },
    }];
    let sim = run(&s, 10.0);
    assert!(
        sim.metrics()
            .errors_of(pathlab_sim::ErrorKind::QueueUnavailable)
            > 50
    );
}

#[test]
fn the_summary_lets_anyone_check_littles_law() {
    // L = λW: the mean number of requests in flight equals the arrival rate
    // times the mean time a request spends in the system.
    let mut s = Scenario {
        duration_s: 120.0,
        ..Scenario::default()
    };
    s.workload.requests_per_s = 400.0;
    let mut sim = Simulation::new(&s, 11).unwrap();
    sim.run();
    let sum = sim.summary();
    let lambda = sum.requests.total as f64 / sum.duration_s;
    let w = sum.latency_ms.mean / 1000.0;
    let l = sum.requests.mean_in_flight;
    assert!(l > 1.0, "requests overlap: L = {l}");
    assert!(
        (l - lambda * w).abs() / l < 0.02,
        "L = {l:.3}, λW = {:.3} (λ = {lambda:.1}/s, W = {w:.4} s)",
        lambda * w
    );
    assert!(
        sum.latency_ms.mean > sum.latency_ms.p50,
        "a long tail pulls the mean up"
    );
}
