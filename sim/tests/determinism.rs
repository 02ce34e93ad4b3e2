//! Determinism: the same scenario, seed and commands give the same fingerprint — in one process, across processes, and across a checkpoint.

use pathlab_sim::{Command, Scenario, SimTime, Simulation, presets};
use std::process::Command as Process;

fn drive(seed: u64) -> Simulation {
    let mut s = Simulation::new(&presets::preset("leader-crash").unwrap(), seed).unwrap();
    s.step_until(SimTime::from_secs_f64(5.0));
    s.apply(&Command::Slow {
        node: "app-2".into(),
        factor: 8.0,
    })
    .unwrap();
    s.step_until(SimTime::from_secs_f64(12.5));
    s.apply(&Command::Isolate {
        node: "cache-1".into(),
    })
    .unwrap();
    s.step_until(SimTime::from_secs_f64(30.0));
    s
}

#[test]
fn same_inputs_same_fingerprint() {
    let (a, b) = (drive(42), drive(42));
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert_eq!(a.summary(), b.summary());
    assert_eq!(a.events(), b.events());
}

#[test]
fn another_seed_another_fingerprint() {
    assert_ne!(drive(42).fingerprint(), drive(43).fingerprint());
}

#[test]
fn a_checkpoint_resumes_exactly() {
    let mut straight = drive(7);
    straight.run_for(10.0);
    let mut first = drive(7);
    let mut copy = first.clone();
    first.run_for(10.0);
    copy.run_for(10.0);
    assert_eq!(first.fingerprint(), straight.fingerprint());
    assert_eq!(copy.fingerprint(), straight.fingerprint());
}

#[test]
fn stepping_in_small_slices_changes_nothing() {
    let s = Scenario::default();
    let mut whole = Simulation::new(&s, 3).unwrap();
    whole.step_until(SimTime::from_secs_f64(10.0));
    let mut sliced = Simulation::new(&s, 3).unwrap();
    let mut t = 0;
    while t < 10_000_000 {
        t += 16_667; // one 60 Hz frame of simulated time
        sliced.step_until_bounded(SimTime(t.min(10_000_000)), 50);
        while !sliced.step_until_bounded(SimTime(t.min(10_000_000)), 50) {}
    }
    assert_eq!(whole.fingerprint(), sliced.fingerprint());
}

#[test]
fn the_command_line_gives_the_same_fingerprint_in_two_processes() {
    let exe = env!("CARGO_BIN_EXE_pathlab-sim");
    let run = || {
        let out = Process::new(exe)
            .args([
                "run",
                "--preset",
                "partition-leader",
                "--seed",
                "99",
                "--duration",
                "30",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["fingerprint"].as_str().unwrap().to_string()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let mut s = presets::preset("partition-leader").unwrap();
    s.duration_s = 30.0;
    let mut sim = Simulation::new(&s, 99).unwrap();
    sim.run();
    assert_eq!(sim.fingerprint_hex(), a, "the library and the CLI agree");
}
