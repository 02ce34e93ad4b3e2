//! "Why?" stories checked against the ground truth: for each kind of anomaly, in the preset that shows it, the facts an explanation states agree with what the run recorded (the missed write was acknowledged before the read began, the replica held an older version, the new leader was elected after the acknowledgement, …).

use pathlab_sim::explain::anomalies;
use pathlab_sim::{
    Anomaly, Explanation, Fact, RequestId, RequestKind, SimTime, Simulation, What, explain, presets,
};

fn start(preset: &str, seed: u64) -> (Simulation, SimTime) {
    let s = presets::preset(preset).unwrap();
    let end = SimTime::from_secs_f64(s.duration_s);
    (Simulation::new(&s, seed).unwrap(), end)
}

fn first(preset: &str, kind: Anomaly) -> (Simulation, SimTime, Explanation) {
    let (sim, end) = start(preset, 1);
    let (id, _, _) = *anomalies(&sim, end, 3)
        .iter()
        .find(|a| a.1 == kind)
        .unwrap_or_else(|| panic!("{preset} shows no {kind:?}"));
    let e = explain(&sim, id, end).unwrap();
    (sim, end, e)
}

fn fact(e: &Explanation, pick: impl Fn(&What) -> bool) -> &Fact {
    e.facts
        .iter()
        .find(|f| pick(&f.what))
        .unwrap_or_else(|| panic!("no such fact in\n{}", e.to_text()))
}

fn asked(e: &Explanation) -> SimTime {
    fact(e, |w| matches!(w, What::Asked { .. })).at
}

fn answered_version(e: &Explanation) -> Option<u64> {
    match fact(e, |w| matches!(w, What::Answered { .. })).what {
        What::Answered { version, .. } => version,
        _ => unreachable!(),
    }
}

#[test]
fn a_stale_read_names_the_write_it_missed_and_the_lagging_replica_that_answered() {
    let (_, _, e) = first("async-follower-reads", Anomaly::StaleRead);
    assert!(
        matches!(e.anomaly, Anomaly::StaleRead | Anomaly::ReadYourWrites),
        "{e:?}"
    );
    let missed = fact(&e, |w| matches!(w, What::Missed { .. }));
    let What::Missed {
        version,
        write: Some(_),
        acked: Some(acked),
        ..
    } = missed.what
    else {
        panic!("the missed write is known: {}", e.to_text())
    };
    assert!(acked < asked(&e), "acknowledged before the read began");
    let served = fact(&e, |w| matches!(w, What::ServedByReplica { .. }));
    let What::ServedByReplica {
        ref role,
        held,
        lag_ms,
        ref replication,
        ref read_from,
        ..
    } = served.what
    else {
        unreachable!()
    };
    assert_eq!(role, "follower");
    assert!(held < version, "the replica held an older version");
    assert_eq!(
        Some(held),
        answered_version(&e),
        "and that is what came back"
    );
    assert!(lag_ms > 0.0, "it was behind: {lag_ms} ms");
    assert_eq!(replication, "async");
    assert_eq!(read_from, "followers");
    // Each fact is linked to its moment, in order.
    assert!(e.facts.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn a_lost_write_names_its_leader_the_crash_the_election_without_it_and_its_loss() {
    let (_, _, e) = first("leader-crash", Anomaly::LostWrite);
    assert_eq!(e.anomaly, Anomaly::LostWrite);
    let ack = fact(&e, |w| matches!(w, What::Acknowledged { .. }));
    let What::Acknowledged {
        leader: Some(ref leader),
        term,
        ref replication,
        ref waited_for,
    } = ack.what
    else {
        panic!("{}", e.to_text())
    };
    assert_eq!(replication, "async");
    assert!(waited_for.contains("nothing"));
    let crash = fact(&e, |w| matches!(w, What::Fault { .. }));
    assert!(
        crash.text.contains(leader.as_str()),
        "the leader that acknowledged it crashed"
    );
    let elected = fact(&e, |w| matches!(w, What::Elected { .. }));
    let What::Elected {
        ref node,
        term: new_term,
    } = elected.what
    else {
        unreachable!()
    };
    assert_ne!(node, leader);
    assert!(new_term > term);
    assert!(ack.at < elected.at && crash.at < elected.at);
    let gone = e.facts.last().unwrap();
    assert!(matches!(gone.what, What::Discarded { .. }));
    assert!(gone.at >= elected.at);
}

#[test]
fn a_rolled_back_read_was_served_before_a_majority_had_it() {
    let (_, _, e) = first("partition-leader", Anomaly::RolledBackRead);
    assert_eq!(e.anomaly, Anomaly::RolledBackRead);
    let served = fact(&e, |w| matches!(w, What::ServedByReplica { .. }));
    assert!(
        matches!(
            served.what,
            What::ServedByReplica {
                committed: false,
                ..
            }
        ),
        "{}",
        e.to_text()
    );
    let partition = fact(&e, |w| matches!(w, What::Fault { .. }));
    assert!(partition.text.contains("partition"));
    let elected = fact(&e, |w| matches!(w, What::Elected { .. }));
    assert!(served.at < elected.at);
}

#[test]
fn an_error_names_the_hop_that_failed_and_the_fault_before_it() {
    let (_, _, e) = first("leader-crash", Anomaly::Error);
    assert_eq!(e.anomaly, Anomaly::Error);
    assert!(matches!(
        fact(&e, |w| matches!(w, What::Failed { .. })).what,
        What::Failed { ref error, .. } if error == "db-unavailable"
    ));
    let fault = fact(&e, |w| matches!(w, What::Fault { .. }));
    assert!(fault.at <= asked(&e));
    assert!(fault.text.contains("db-0-0"));
}

/// Reads that broke a session guarantee, found from the history alone.
fn session_violations(preset: &str) -> (Simulation, SimTime, Vec<(RequestId, bool)>) {
    let (sim, end) = start(preset, 1);
    let mut run = sim.clone();
    run.record_history();
    run.step_until(end);
    let mut found = Vec::new();
    let h = run.history();
    for (i, op) in h.iter().enumerate() {
        let (Some(v), RequestKind::Read) = (op.version, op.op) else {
            continue;
        };
        let before = h[..i]
            .iter()
            .filter(|p| p.session == op.session && p.key == op.key && p.complete_us < op.invoke_us);
        let own = before
            .clone()
            .filter(|p| p.op == RequestKind::Write && p.outcome == pathlab_sim::Outcome::Ok)
            .filter_map(|p| p.version)
            .max();
        let read = before
            .filter(|p| p.op == RequestKind::Read)
            .filter_map(|p| p.version)
            .max();
        if own.is_some_and(|w| v < w) {
            found.push((op.request, true));
        } else if read.is_some_and(|r| v < r) {
            found.push((op.request, false));
        }
    }
    (sim, end, found)
}

#[test]
fn session_guarantee_violations_name_the_sessions_own_write_or_earlier_read() {
    let (sim, end, found) = session_violations("async-follower-reads");
    let ryw = found
        .iter()
        .find(|f| f.1)
        .expect("a read-your-writes violation");
    let e = explain(&sim, ryw.0, end).unwrap();
    assert_eq!(e.anomaly, Anomaly::ReadYourWrites, "{}", e.to_text());
    assert!(matches!(
        fact(&e, |w| matches!(w, What::Missed { .. })).what,
        What::Missed { own: true, .. }
    ));
    // Monotonic reads break when reads move between replicas of different
    // ages: here, across a partition.
    let (sim, end, found) = session_violations("partition-leader");
    let mono = found
        .iter()
        .find(|f| !f.1)
        .expect("a monotonic-read violation");
    let e = explain(&sim, mono.0, end).unwrap();
    // It may be stale as well; the earlier read is part of its story.
    assert!(
        matches!(e.anomaly, Anomaly::MonotonicRead | Anomaly::StaleRead),
        "{}",
        e.to_text()
    );
    let before = fact(&e, |w| matches!(w, What::ReadBefore { .. }));
    let What::ReadBefore { version, read } = before.what else {
        unreachable!()
    };
    assert!(read.is_some());
    assert!(answered_version(&e).unwrap() < version);
    assert!(before.at < asked(&e));
}

#[test]
fn a_request_that_went_well_has_nothing_to_explain() {
    let (sim, end) = start("default", 1);
    assert_eq!(
        explain(&sim, RequestId(10), end).unwrap_err(),
        pathlab_sim::NotExplained::Fine
    );
    let mut later = sim.clone();
    later.step_until(SimTime::from_secs_f64(5.0));
    assert_eq!(
        explain(&later, RequestId(10), end).unwrap_err(),
        pathlab_sim::NotExplained::TooOld
    );
}

#[test]
fn a_stale_read_from_a_sites_cache_says_why_the_entry_outlived_the_write() {
    // A cache in every region: a write clears the cache of the site that
    // took it, not the others'.
    let (_, _, e) = first("region-failover", Anomaly::StaleRead);
    let served = fact(&e, |w| matches!(w, What::ServedByCache { .. }));
    let What::ServedByCache { ref node, held, .. } = served.what else {
        unreachable!()
    };
    let kept = fact(&e, |w| matches!(w, What::Kept { .. }));
    assert!(matches!(kept.what, What::Kept { node: ref n } if n == node));
    assert!(
        kept.text.contains("another site") || kept.text.contains("filled after"),
        "{}",
        e.to_text()
    );
    let What::Missed { version, .. } = fact(&e, |w| matches!(w, What::Missed { .. })).what else {
        unreachable!()
    };
    assert!(held < version);
}

#[test]
fn the_list_of_anomalies_finds_every_kind_and_each_is_explained_as_listed() {
    let (sim, end) = start("partition-leader", 1);
    let found = anomalies(&sim, end, 2);
    for kind in [
        Anomaly::StaleRead,
        Anomaly::ReadYourWrites,
        Anomaly::MonotonicRead,
        Anomaly::LostWrite,
        Anomaly::RolledBackRead,
        Anomaly::Error,
    ] {
        let (id, _, _) = *found
            .iter()
            .find(|f| f.1 == kind)
            .unwrap_or_else(|| panic!("no {kind:?} listed"));
        let e = explain(&sim, id, end).unwrap();
        // A read that broke a guarantee may be stale too; the story keeps
        // the earlier read among its facts.
        match kind {
            Anomaly::MonotonicRead => {
                fact(&e, |w| matches!(w, What::ReadBefore { .. }));
            }
            _ => assert_eq!(e.anomaly, kind, "{}", e.to_text()),
        }
    }
    assert!(
        found.windows(2).all(|w| w[0].2 <= w[1].2),
        "in order of time"
    );
}
