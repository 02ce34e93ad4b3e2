//! Time travel: a run that can go back to any moment (by restoring a checkpoint and replaying deterministically), step back, and branch off when something is done in the past, keeping every branch as plain data (scenario, seed, timed commands).

use crate::commands::Command;
use crate::engine::Simulation;
use crate::error::Error;
use crate::explain::{Explanation, NotExplained, replay_request_knowing};
use crate::request::{RequestId, Trace};
use crate::scenario::Scenario;
use crate::time::{Micros, SEC, SimTime};
use serde::{Deserialize, Serialize};

/// A command applied by hand, pinned to the exact place in the run where it
/// happened: the simulated time and how many events had run by then (a
/// frame may stop between two events of the same instant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// Simulated time, µs.
    pub at: SimTime,
    /// Events processed before it.
    pub events: u64,
    /// What was done.
    pub command: Command,
}

/// One line of history: the commands applied along it and how far it has
/// been played. Branches are data; a run is rebuilt from the timeline's
/// scenario and seed plus these commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Its number (0 for the first), stable while the timeline lives.
    pub id: u32,
    /// The branch it split from and when, if any.
    pub parent: Option<(u32, SimTime)>,
    /// Commands applied by hand, in order.
    pub commands: Vec<Applied>,
    /// How far it was played.
    pub end: SimTime,
    /// Events processed by then.
    pub end_events: u64,
    /// The fingerprint at `end`.
    pub fingerprint: u64,
}

/// Checkpoints start this far apart; the spacing doubles whenever
/// [`MAX_CHECKPOINTS`] would be exceeded.
const FIRST_SPACING: Micros = 5 * SEC;
/// Most checkpoints kept along the branch (besides the one at time zero).
pub const MAX_CHECKPOINTS: usize = 15;
/// Checkpoints kept close behind the cursor after a seek, so stepping back
/// replays only a little.
const NEAR_SPACING: Micros = 2 * SEC;
/// How many of those.
const NEAR_COUNT: usize = 2;

/// A run that remembers: the simulation at the cursor, checkpoints along
/// the current branch, the branch's commands (including those later than
/// the cursor, which are replayed when time moves forward again) and the
/// branches left behind.
#[derive(Debug)]
pub struct Timeline {
    scenario: Scenario,
    seed: u64,
    sim: Simulation,
    start: Simulation,
    /// Along the current branch, at multiples of `spacing`, oldest first.
    checkpoints: Vec<Simulation>,
    spacing: Micros,
    /// Close behind the cursor, oldest first.
    near: Vec<Simulation>,
    branch: Branch,
    others: Vec<Branch>,
    next_id: u32,
}

impl Timeline {
    /// A new run of `scenario` with `seed`, at time zero.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Timeline, Error> {
        let sim = Simulation::new(scenario, seed)?;
        Ok(Timeline {
            scenario: scenario.clone(),
            seed,
            start: sim.clone(),
            branch: Branch {
                id: 0,
                parent: None,
                commands: Vec::new(),
                end: SimTime::ZERO,
                end_events: sim.events(),
                fingerprint: sim.fingerprint(),
            },
            sim,
            checkpoints: Vec::new(),
            spacing: FIRST_SPACING,
            near: Vec::new(),
            others: Vec::new(),
            next_id: 1,
        })
    }

    /// Rebuilds a branch from plain data: the same scenario, seed and
    /// commands give the same run. The cursor is left at the branch's end.
    /// The cursor is left at `end`.
    pub fn replay(
        scenario: &Scenario,
        seed: u64,
        commands: &[Applied],
        end: SimTime,
    ) -> Result<Timeline, Error> {
        let mut t = Timeline::new(scenario, seed)?;
        t.branch.commands = commands.to_vec();
        if let Some(last) = commands.last() {
            t.branch.end = last.at;
            t.branch.end_events = last.events;
        }
        t.forward(end, u64::MAX)?;
        Ok(t)
    }

    /// The simulation at the cursor.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// The scenario the run started from.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Where the cursor is.
    pub fn cursor(&self) -> SimTime {
        self.sim.now()
    }

    /// How far the current branch has been played.
    pub fn end(&self) -> SimTime {
        self.branch.end.max(self.sim.now())
    }

    /// True while the cursor is before the branch's end (moving forward
    /// replays instead of making new history).
    pub fn in_past(&self) -> bool {
        (self.sim.now(), self.sim.events()) < (self.branch.end, self.branch.end_events)
    }

    /// The current branch, brought up to date.
    pub fn branch(&self) -> Branch {
        let mut b = self.branch.clone();
        if !self.in_past() {
            b.end = self.sim.now();
            b.end_events = self.sim.events();
            b.fingerprint = self.sim.fingerprint();
        }
        b
    }

    /// The branches left behind, oldest first.
    pub fn other_branches(&self) -> &[Branch] {
        &self.others
    }

    /// Commands of the current branch up to the cursor.
    pub fn commands(&self) -> impl Iterator<Item = &Applied> {
        let here = (self.sim.now(), self.sim.events());
        self.branch
            .commands
            .iter()
            .filter(move |c| (c.at, c.events) <= here)
    }

    /// How many saved states are kept (for the memory benchmark).
    pub fn checkpoint_count(&self) -> usize {
        1 + self.checkpoints.len() + self.near.len()
    }

    /// Moves forward to `target` (clamped to nothing: past the branch's end
    /// the run goes on), processing at most `budget` events. Replays the
    /// branch's commands in their places and takes checkpoints on the way.
    /// Returns true when `target` was reached.
    pub fn advance(&mut self, target: SimTime, budget: u64) -> bool {
        // Commands were checked when first applied; a replay applies the same
        // command to the same state, so it cannot fail.
        self.forward(target, budget).unwrap_or(true)
    }

    fn forward(&mut self, target: SimTime, mut budget: u64) -> Result<bool, Error> {
        loop {
            let next_cmd = self
                .branch
                .commands
                .iter()
                .find(|c| (c.at, c.events) >= (self.sim.now(), self.sim.events()))
                .filter(|c| c.at <= target)
                .cloned();
            let boundary = self.next_boundary();
            let stop = match &next_cmd {
                Some(c) => c.at.min(boundary),
                None => boundary.min(target),
            }
            .min(target);
            if let Some(c) = next_cmd.as_ref().filter(|c| c.at == stop) {
                // Run exactly the events that ran before it, then apply it.
                let need = c.events.saturating_sub(self.sim.events());
                let take = need.min(budget);
                self.sim.step_until_bounded(c.at, take);
                budget -= take;
                if take < need {
                    return Ok(false);
                }
                debug_assert_eq!(self.sim.now(), c.at, "replay reached the command's instant");
                self.sim.apply(&c.command)?;
                continue;
            }
            let before = self.sim.events();
            let reached = self.sim.step_until_bounded(stop, budget);
            budget -= self.sim.events() - before;
            if !reached {
                return Ok(false);
            }
            if stop == boundary && boundary <= target {
                self.take_checkpoint();
            }
            if stop == target {
                self.mark_end();
                return Ok(true);
            }
        }
    }

    /// At the branch's end, notes how far it has been played.
    fn mark_end(&mut self) {
        if !self.in_past() {
            self.branch.end = self.sim.now();
            self.branch.end_events = self.sim.events();
            self.branch.fingerprint = self.sim.fingerprint();
        }
    }

    /// The next checkpoint time after the cursor that has none yet.
    fn next_boundary(&self) -> SimTime {
        let last = self.checkpoints.last().map_or(SimTime::ZERO, |c| c.now());
        let from = last.max(self.sim.now());
        let n = from.0 / self.spacing + 1;
        SimTime(n * self.spacing)
    }

    fn take_checkpoint(&mut self) {
        let now = self.sim.now();
        if self.checkpoints.last().is_some_and(|c| c.now() >= now) {
            return;
        }
        self.checkpoints.push(self.sim.clone());
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            self.spacing *= 2;
            let s = self.spacing;
            self.checkpoints.retain(|c| c.now().0 % s == 0);
        }
    }

    /// Moves the cursor to `t` (at most the branch's end): restores the
    /// latest saved state not after it and replays.
    pub fn seek(&mut self, t: SimTime) {
        self.mark_end();
        let t = t.min(self.end());
        if t == self.sim.now() {
            return;
        }
        let best = self
            .near
            .iter()
            .chain(self.checkpoints.iter())
            .filter(|c| c.now() <= t)
            .max_by_key(|c| (c.now(), c.events()))
            .unwrap_or(&self.start);
        let here = (self.sim.now(), self.sim.events());
        if here > (t, u64::MAX) || (best.now(), best.events()) > here {
            self.sim = best.clone();
        }
        // Keep the near checkpoints still behind the new cursor.
        self.near.retain(|c| c.now() <= t);
        // Replay, leaving a few checkpoints just behind the target.
        let mut grid = SimTime(
            (t.0.saturating_sub(NEAR_SPACING * NEAR_COUNT as u64)) / NEAR_SPACING * NEAR_SPACING,
        );
        while grid < t {
            if grid > self.sim.now() {
                self.advance(grid, u64::MAX);
                if !self.near.iter().any(|c| c.now() == grid) {
                    self.near.push(self.sim.clone());
                }
            }
            grid = grid.after(NEAR_SPACING);
        }
        self.near.sort_by_key(|c| c.now());
        let keep = self.near.len().saturating_sub(NEAR_COUNT);
        self.near.drain(..keep);
        self.advance(t, u64::MAX);
    }

    /// Applies `cmd` at the cursor. In the past, this starts a new branch
    /// from here; the old future is kept as a branch to switch back to.
    /// On error nothing changes.
    pub fn apply(&mut self, cmd: &Command) -> Result<(), Error> {
        let at = self.sim.now();
        let events = self.sim.events();
        self.sim.check(cmd)?;
        if self.in_past() {
            self.fork();
        }
        self.sim.apply(cmd)?;
        self.branch.commands.push(Applied {
            at,
            events,
            command: cmd.clone(),
        });
        self.mark_end();
        Ok(())
    }

    /// Splits the current branch at the cursor: the old one is kept whole.
    fn fork(&mut self) {
        let here = (self.sim.now(), self.sim.events());
        let old = self.branch.clone();
        self.others.push(old);
        self.branch = Branch {
            id: self.next_id,
            parent: Some((self.branch.id, here.0)),
            commands: self
                .branch
                .commands
                .iter()
                .filter(|c| (c.at, c.events) < here)
                .cloned()
                .collect(),
            end: here.0,
            end_events: here.1,
            fingerprint: self.sim.fingerprint(),
        };
        self.next_id += 1;
        self.checkpoints.retain(|c| c.now() <= here.0);
        self.near.retain(|c| (c.now(), c.events()) <= here);
    }

    /// Follows a run being played elsewhere: takes on the commands applied
    /// there since (which must come later than those it has) and plays up
    /// to `upto`.
    pub fn catch_up(&mut self, more: &[Applied], upto: SimTime) {
        self.branch.commands.extend_from_slice(more);
        self.advance(upto, u64::MAX);
    }

    /// Like [`Timeline::catch_up`], stopping after exactly `events` events,
    /// as a run paused between two events of one instant did.
    pub fn catch_up_exactly(&mut self, more: &[Applied], upto: SimTime, events: u64) {
        self.branch.commands.extend_from_slice(more);
        while self.sim.events() < events {
            let before = self.sim.events();
            self.advance(upto, events - before);
            if self.sim.events() == before {
                break;
            }
        }
    }

    /// The story of `request` (see [`crate::explain`]), replayed from the
    /// latest saved state from before it started, up to the branch's end.
    pub fn explain(&self, request: RequestId) -> Result<Explanation, NotExplained> {
        self.replay_request(request).and_then(|(_, told)| told)
    }

    /// The trace of `request` rebuilt by replaying (see
    /// [`crate::explain::replay_request`]), with its story.
    #[allow(clippy::type_complexity)]
    pub fn replay_request(
        &self,
        request: RequestId,
    ) -> Result<(Trace, Result<Explanation, NotExplained>), NotExplained> {
        let known = (!self.in_past()).then_some(&self.sim);
        let from = self.before(request);
        let after: Vec<Applied> = self
            .branch
            .commands
            .iter()
            .filter(|c| (c.at, c.events) >= (from.now(), from.events()))
            .cloned()
            .collect();
        replay_request_knowing(from, request, self.end(), known, &after)
    }

    /// The latest saved state from before `request` started.
    fn before(&self, request: RequestId) -> &Simulation {
        self.checkpoints
            .iter()
            .rev()
            .find(|c| c.reqs.next_id() <= request)
            .unwrap_or(&self.start)
    }

    /// Makes branch `id` current again, with the cursor at the same time
    /// (or its end, if it is shorter). The branch left becomes one of the
    /// others. Returns where the two part (their first different command;
    /// [`SimTime::NEVER`] if they have the same commands).
    pub fn switch(&mut self, id: u32) -> Result<SimTime, Error> {
        let i = self
            .others
            .iter()
            .position(|b| b.id == id)
            .ok_or_else(|| Error::BadCommand(format!("there is no other branch {id}")))?;
        let cursor = self.sim.now();
        let mine = self.branch();
        let theirs = self.others.remove(i);
        // The common past: commands equal on both up to the first difference.
        let same = mine
            .commands
            .iter()
            .zip(&theirs.commands)
            .take_while(|(a, b)| a == b)
            .count();
        let split = match (mine.commands.get(same), theirs.commands.get(same)) {
            (Some(a), Some(b)) => a.at.min(b.at),
            (Some(a), None) => a.at,
            (None, Some(b)) => b.at,
            (None, None) => SimTime::NEVER,
        };
        self.others.push(mine);
        self.branch = theirs;
        self.checkpoints.retain(|c| c.now() < split);
        self.near.clear();
        self.sim = self.checkpoints.last().unwrap_or(&self.start).clone();
        self.seek(cursor.min(self.branch.end));
        Ok(split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    #[test]
    fn the_story_of_a_write_lost_to_a_crash_applied_by_hand_is_told() {
        // No script: the leader is crashed by hand, so a replay from a saved
        // state must apply the crash itself to see the write lost.
        let mut s = presets::preset("default").unwrap();
        s.db.ship_on_heartbeat = true;
        let mut t = Timeline::new(&s, 4).unwrap();
        t.apply(&Command::SetLoad {
            requests_per_s: None,
            static_: None,
            read: None,
            write: Some(0.3),
            key_skew: None,
        })
        .unwrap();
        // Just before the next batch of the log leaves the leader.
        t.advance(SimTime::from_secs_f64(20.08), u64::MAX);
        t.apply(&Command::Crash {
            node: "db-0-0".into(),
        })
        .unwrap();
        t.advance(SimTime::from_secs_f64(25.0), u64::MAX);
        let lost = t
            .sim()
            .log()
            .iter()
            .find_map(|e| match e.event {
                crate::log::LogEvent::LostWrite { request, .. } => Some(request),
                _ => None,
            })
            .expect("the crash loses a write");
        let story = t.explain(lost).expect("its story is told");
        assert_eq!(story.anomaly, crate::explain::Anomaly::LostWrite);
        assert!(story.facts.len() >= 3, "{:?}", story.facts);
    }

    fn straight(scenario: &Scenario, seed: u64, cmds: &[(f64, Command)], to: f64) -> Simulation {
        let mut sim = Simulation::new(scenario, seed).unwrap();
        for (at, c) in cmds.iter().filter(|(at, _)| *at <= to) {
            sim.step_until(SimTime::from_secs_f64(*at));
            sim.apply(c).unwrap();
        }
        sim.step_until(SimTime::from_secs_f64(to));
        sim
    }

    fn crash_leader() -> Command {
        Command::Crash {
            node: "db-0-0".into(),
        }
    }

    fn restart_leader() -> Command {
        Command::Restart {
            node: "db-0-0".into(),
        }
    }

    #[test]
    fn seeking_back_past_a_crash_and_forward_again_gives_the_straight_runs_state() {
        let scenario = presets::preset("default").unwrap();
        let mut t = Timeline::new(&scenario, 7).unwrap();
        t.advance(SimTime::from_secs_f64(12.0), u64::MAX);
        t.apply(&crash_leader()).unwrap();
        t.advance(SimTime::from_secs_f64(40.0), u64::MAX);
        let cmds = [(12.0, crash_leader())];
        for at in [3.0, 11.9, 12.0, 25.5, 39.0, 40.0, 0.5] {
            t.seek(SimTime::from_secs_f64(at));
            let direct = straight(&scenario, 7, &cmds, at);
            assert_eq!(t.sim().now(), direct.now(), "at {at} s");
            assert_eq!(t.sim().fingerprint(), direct.fingerprint(), "at {at} s");
            assert_eq!(
                t.sim().summary().requests.total,
                direct.summary().requests.total
            );
        }
        // Seeking never made new history: the crash is still there once.
        assert_eq!(t.branch().commands.len(), 1);
        assert!(t.other_branches().is_empty());
    }

    #[test]
    fn stepping_back_a_tenth_of_a_second_at_a_time_matches_the_straight_run() {
        let scenario = presets::preset("default").unwrap();
        let mut t = Timeline::new(&scenario, 3).unwrap();
        t.advance(SimTime::from_secs_f64(30.0), u64::MAX);
        for i in 1..=25 {
            let at = 30.0 - 0.1 * i as f64;
            t.seek(SimTime::from_secs_f64(at));
            assert_eq!(
                t.sim().fingerprint(),
                straight(&scenario, 3, &[], at).fingerprint()
            );
        }
    }

    #[test]
    fn a_command_in_the_past_starts_a_branch_and_the_old_future_can_be_switched_back_to() {
        let scenario = presets::preset("default").unwrap();
        let mut t = Timeline::new(&scenario, 5).unwrap();
        t.advance(SimTime::from_secs_f64(10.0), u64::MAX);
        t.apply(&crash_leader()).unwrap();
        t.advance(SimTime::from_secs_f64(30.0), u64::MAX);
        t.apply(&restart_leader()).unwrap();
        t.advance(SimTime::from_secs_f64(45.0), u64::MAX);
        let first = t.branch();
        // Go back and restart the leader much earlier instead.
        t.seek(SimTime::from_secs_f64(15.0));
        t.apply(&restart_leader()).unwrap();
        t.advance(SimTime::from_secs_f64(45.0), u64::MAX);
        let second = t.branch();
        assert_eq!(t.other_branches(), std::slice::from_ref(&first));
        assert_eq!(
            second.parent,
            Some((first.id, SimTime::from_secs_f64(15.0)))
        );
        assert_eq!(second.commands.len(), 2);
        assert_ne!(second.fingerprint, first.fingerprint);
        let direct = straight(
            &scenario,
            5,
            &[(10.0, crash_leader()), (15.0, restart_leader())],
            45.0,
        );
        assert_eq!(second.fingerprint, direct.fingerprint());
        // Back to the first future: same moment, its fingerprint.
        t.switch(first.id).unwrap();
        assert_eq!(t.cursor(), SimTime::from_secs_f64(45.0));
        assert_eq!(t.sim().fingerprint(), first.fingerprint);
        assert_eq!(t.other_branches().len(), 1);
        // A bad command in the past changes nothing.
        t.seek(SimTime::from_secs_f64(20.0));
        let fp = t.sim().fingerprint();
        assert!(
            t.apply(&Command::Crash {
                node: "nope".into()
            })
            .is_err()
        );
        assert_eq!(t.sim().fingerprint(), fp);
        assert_eq!(t.other_branches().len(), 1);
    }

    #[test]
    fn a_branch_is_plain_data_that_rebuilds_the_same_run() {
        let scenario = presets::preset("default").unwrap();
        let mut t = Timeline::new(&scenario, 9).unwrap();
        t.advance(SimTime::from_secs_f64(8.0), 1_000_000);
        t.apply(&crash_leader()).unwrap();
        // Stop between two events of one instant, as a busy frame may.
        while !t.advance(SimTime::from_secs_f64(20.0), 777) {}
        let b = t.branch();
        let json = serde_json::to_string(&b).unwrap();
        let back: Branch = serde_json::from_str(&json).unwrap();
        let again = Timeline::replay(&scenario, 9, &back.commands, b.end).unwrap();
        assert_eq!(again.sim().fingerprint(), b.fingerprint);
    }

    #[test]
    fn a_follower_fed_the_same_commands_plays_the_same_run_and_explains_from_a_checkpoint() {
        let scenario = presets::preset("async-follower-reads").unwrap();
        let mut lead = Timeline::new(&scenario, 2).unwrap();
        let mut follow = Timeline::new(&scenario, 2).unwrap();
        while !lead.advance(SimTime::from_secs_f64(17.0), 5_000) {}
        let stale = lead
            .sim()
            .traces()
            .rev()
            .find(|t| t.outcome == crate::request::Outcome::Stale)
            .expect("a stale read")
            .id;
        lead.apply(&crash_leader()).unwrap();
        follow.catch_up(&lead.branch().commands, SimTime::from_secs_f64(10.0));
        lead.advance(SimTime::from_secs_f64(25.0), u64::MAX);
        follow.catch_up(&[], SimTime::from_secs_f64(25.0));
        assert_eq!(follow.sim().fingerprint(), lead.sim().fingerprint());
        // A stale read from before the crash, explained from a checkpoint, tells
        // the same story as a replay from the start.
        let near = follow.explain(stale).unwrap();
        let full = crate::explain::explain(&follow.start, stale, follow.end()).unwrap();
        assert_eq!(near, full);
    }

    #[test]
    fn stories_told_from_the_runs_own_log_equal_those_of_a_full_replay() {
        let scenario = presets::preset("partition-leader").unwrap();
        let mut t = Timeline::new(&scenario, 1).unwrap();
        let end = SimTime::from_secs_f64(scenario.duration_s);
        t.advance(end, u64::MAX);
        let found = crate::explain::anomalies(&t.start, end, 2);
        for kind in [
            crate::explain::Anomaly::LostWrite,
            crate::explain::Anomaly::RolledBackRead,
            crate::explain::Anomaly::StaleRead,
        ] {
            let (id, _, _) = *found.iter().find(|f| f.1 == kind).unwrap();
            let quick = t.explain(id).unwrap();
            assert_eq!(quick.anomaly, kind);
            assert_eq!(quick, crate::explain::explain(&t.start, id, end).unwrap());
        }
    }

    #[test]
    fn checkpoints_stay_few_however_long_the_run() {
        let scenario = presets::preset("default").unwrap();
        let mut t = Timeline::new(&scenario, 1).unwrap();
        t.advance(SimTime::from_secs_f64(600.0), u64::MAX);
        assert!(t.checkpoints.len() <= MAX_CHECKPOINTS);
        // Spread over the run, not bunched at its start.
        assert!(t.checkpoints.last().unwrap().now() >= SimTime::from_secs_f64(500.0));
        t.seek(SimTime::from_secs_f64(333.3));
        assert!(t.checkpoint_count() <= 1 + MAX_CHECKPOINTS + NEAR_COUNT);
    }
}
