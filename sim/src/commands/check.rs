//! Checking a command before it runs: it must name real nodes and regions, and the settings it leaves must pass the same validation as a scenario file.

use super::{Command, edit_settings};
use crate::engine::{Event, Simulation};
use crate::error::Error;
use crate::node::NodeKind;
use crate::time::SimTime;

impl Simulation {
    /// The index of a region by name.
    pub(crate) fn region_id(&self, name: &str) -> Result<usize, Error> {
        self.initial
            .region_index(name)
            .ok_or_else(|| Error::UnknownRegion(name.to_string()))
    }

    /// Checks that a command names real things and makes sense, without
    /// changing anything.
    pub fn check(&self, cmd: &Command) -> Result<(), Error> {
        match cmd {
            Command::Crash { node } | Command::Restart { node } | Command::Isolate { node } => {
                self.node_id(node).map(|_| ())
            }
            Command::Partition { groups } => {
                if groups.len() < 2 {
                    return Err(Error::BadCommand(
                        "a partition needs at least two groups".into(),
                    ));
                }
                let mut seen = Vec::new();
                for g in groups {
                    if g.is_empty() {
                        return Err(Error::BadCommand("a partition group is empty".into()));
                    }
                    for n in g {
                        let id = self.node_id(n)?;
                        if seen.contains(&id) {
                            return Err(Error::BadCommand(format!(
                                "{n} is in two partition groups"
                            )));
                        }
                        seen.push(id);
                    }
                }
                Ok(())
            }
            Command::PartitionOneWay { from, to } => {
                if from.is_empty() || to.is_empty() {
                    return Err(Error::BadCommand(
                        "a one-way partition needs nodes on both sides".into(),
                    ));
                }
                for n in from.iter().chain(to) {
                    self.node_id(n)?;
                }
                Ok(())
            }
            Command::Heal => Ok(()),
            Command::Link {
                a,
                b,
                latency_ms,
                jitter_ms,
                loss,
            } => {
                let (ia, ib) = (self.node_id(a)?, self.node_id(b)?);
                if ia == ib {
                    return Err(Error::BadCommand(format!(
                        "a link needs two different nodes, got {a} twice"
                    )));
                }
                for (name, v, hi) in [
                    ("latency_ms", latency_ms, 600_000.0),
                    ("jitter_ms", jitter_ms, 600_000.0),
                    ("loss", loss, 1.0),
                ] {
                    if !(v.is_finite() && *v >= 0.0 && *v <= hi) {
                        return Err(Error::BadCommand(format!(
                            "{name} must be between 0 and {hi}, got {v}"
                        )));
                    }
                }
                Ok(())
            }
            Command::Slow { node, factor } => {
                self.node_id(node)?;
                if factor.is_finite() && (1.0..=1000.0).contains(factor) {
                    Ok(())
                } else {
                    Err(Error::BadCommand(format!(
                        "slow factor must be between 1 and 1000, got {factor}"
                    )))
                }
            }
            Command::RegionDown { region } | Command::RegionUp { region } => {
                self.region_id(region).map(|_| ())
            }
            Command::Flush { node } => {
                let id = self.node_id(node)?;
                match self.topo.nodes[id.idx()].kind {
                    NodeKind::Cache | NodeKind::Cdn => Ok(()),
                    k => Err(Error::BadCommand(format!(
                        "{node} is a {k}; only caches and CDN edges can be flushed"
                    ))),
                }
            }
            Command::DnsSet { region, target } => {
                if let Some(r) = region {
                    self.region_id(r)?;
                }
                if target == "origin" {
                    return Ok(());
                }
                let id = self.node_id(target)?;
                if self.topo.nodes[id.idx()].kind != NodeKind::Cdn {
                    return Err(Error::BadCommand(format!(
                        "{target} is not a CDN edge; static content can point at a cdn-… node or at origin"
                    )));
                }
                Ok(())
            }
            Command::DnsAuto { region } => {
                if let Some(r) = region {
                    self.region_id(r)?;
                }
                Ok(())
            }
            Command::SetDb {
                replication: Some(r),
                ..
            } if *r != self.settings().db.replication
                && (r.leaderless() || self.settings().db.replication.leaderless()) =>
            {
                Err(Error::BadCommand(
                    "switching to or from leaderless quorums or multiple leaders needs a new run: set db.replication in the scenario".into(),
                ))
            }
            Command::SetLoad { .. }
            | Command::SetDb { .. }
            | Command::SetLb { .. }
            | Command::SetApp { .. }
            | Command::SetCache { .. }
            | Command::Scale { .. } => self.settings.try_change(|s| edit_settings(s, cmd)).map(|_| ()),
        }
    }

    /// Schedules a command at simulated time `at` (now, if `at` has passed).
    pub fn schedule(&mut self, at: SimTime, cmd: Command) -> Result<(), Error> {
        self.check(&cmd)?;
        let i = self.commands.len() as u32;
        self.commands.push(cmd);
        self.queue.push(at.max(self.now), Event::Command(i));
        Ok(())
    }

    /// Applies a command now. On error nothing changes.
    pub fn apply(&mut self, cmd: &Command) -> Result<(), Error> {
        self.schedule(self.now, cmd.clone())?;
        // Run it (and anything else due at this instant) right away.
        self.step_until(self.now);
        Ok(())
    }
}
