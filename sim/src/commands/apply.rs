//! Applying a command: faults change the network and the nodes' status, and setting changes go through the one validated settings edit, after which the tiers that keep derived state are told.

use super::{Command, edit_settings};
use crate::engine::{LinkFault, Simulation, with_cx};
use crate::error::Error;
use crate::log::LogEvent;
use crate::node::{NodeId, NodeKind};
use crate::tiers::db::Role;
use crate::time::ms_to_micros;

impl Simulation {
    pub(crate) fn apply_now(&mut self, cmd: &Command) -> Result<(), Error> {
        self.check(cmd)?;
        self.log_event(LogEvent::Command(cmd.describe()));
        match cmd {
            Command::Crash { node } => {
                let id = self.node_id(node)?;
                self.crash(id);
            }
            Command::Restart { node } => {
                let id = self.node_id(node)?;
                self.status[id.idx()].region_down = false;
                self.restart(id);
            }
            Command::Partition { groups } => {
                let ids: Vec<Vec<NodeId>> = groups
                    .iter()
                    .map(|g| g.iter().map(|n| self.node_id(n)).collect::<Result<_, _>>())
                    .collect::<Result<_, _>>()?;
                for (i, ga) in ids.iter().enumerate() {
                    for (j, gb) in ids.iter().enumerate() {
                        if i != j {
                            for &a in ga {
                                for &b in gb {
                                    self.net.block(a, b);
                                }
                            }
                        }
                    }
                }
            }
            Command::PartitionOneWay { from, to } => {
                for a in from {
                    for b in to {
                        let (a, b) = (self.node_id(a)?, self.node_id(b)?);
                        if a != b {
                            self.net.block(a, b);
                        }
                    }
                }
            }
            Command::Isolate { node } => {
                let id = self.node_id(node)?;
                for i in 0..self.topo.nodes.len() {
                    let other = NodeId(i as u16);
                    if other != id {
                        self.net.block(id, other);
                        self.net.block(other, id);
                    }
                }
            }
            Command::Heal => self.net.heal(),
            Command::Link {
                a,
                b,
                latency_ms,
                jitter_ms,
                loss,
            } => {
                let (a, b) = (self.node_id(a)?, self.node_id(b)?);
                let fault = LinkFault {
                    extra: ms_to_micros(*latency_ms),
                    jitter: ms_to_micros(*jitter_ms),
                    loss: *loss,
                };
                self.net.set_link(a, b, fault);
            }
            Command::Slow { node, factor } => {
                let id = self.node_id(node)?;
                self.status[id.idx()].slow = *factor;
            }
            Command::RegionDown { region } => {
                let r = self.region_id(region)?;
                for i in 0..self.topo.nodes.len() {
                    let id = NodeId(i as u16);
                    if self.topo.nodes[i].region as usize == r
                        && self.topo.nodes[i].kind.is_server()
                        && self.status[i].up
                    {
                        self.crash(id);
                        self.status[i].region_down = true;
                    }
                }
            }
            Command::RegionUp { region } => {
                let r = self.region_id(region)?;
                for i in 0..self.topo.nodes.len() {
                    if self.topo.nodes[i].region as usize == r && self.status[i].region_down {
                        self.status[i].region_down = false;
                        self.restart(NodeId(i as u16));
                    }
                }
            }
            Command::Flush { node } => {
                let id = self.node_id(node)?;
                let t = self.topo.nodes[id.idx()].tier_idx as usize;
                match self.topo.nodes[id.idx()].kind {
                    NodeKind::Cache => self.tiers.caches[t].store.clear(),
                    NodeKind::Cdn => self.tiers.cdns[t].store.clear(),
                    _ => {}
                }
            }
            Command::DnsSet { region, target } => {
                let target = if target == "origin" {
                    crate::msg::Target::Origin
                } else {
                    crate::msg::Target::Node(self.node_id(target)?)
                };
                let regions = match region {
                    Some(r) => vec![self.region_id(r)?],
                    None => (0..self.topo.resolvers.len()).collect(),
                };
                for r in regions {
                    self.tiers.auth[0].overrides[r] = Some(target);
                }
            }
            Command::DnsAuto { region } => {
                let regions = match region {
                    Some(r) => vec![self.region_id(r)?],
                    None => (0..self.topo.resolvers.len()).collect(),
                };
                for r in regions {
                    self.tiers.auth[0].overrides[r] = None;
                }
            }
            Command::SetLoad { .. }
            | Command::SetDb { .. }
            | Command::SetLb { .. }
            | Command::SetApp { .. }
            | Command::SetCache { .. }
            | Command::Scale { .. } => self.change_settings(cmd)?,
        }
        Ok(())
    }

    /// Changes the settings as `cmd` says (validated as a scenario is), then
    /// brings the tiers' derived state in line.
    fn change_settings(&mut self, cmd: &Command) -> Result<(), Error> {
        let was_idle: Vec<bool> = self
            .settings
            .cfg()
            .mean_gap
            .iter()
            .map(|g| !g.is_finite())
            .collect();
        self.settings.change(|s| edit_settings(s, cmd))?;
        self.settings.record(cmd);
        match cmd {
            Command::SetLoad { .. } => {
                // A region whose users were silent has no arrival scheduled.
                for (t, idle) in was_idle.into_iter().enumerate() {
                    if idle && t < self.tiers.clients.len() {
                        let id = self.tiers.clients[t].id;
                        with_cx!(self, id, |tiers, cx| tiers.clients[t].boot(cx));
                    }
                }
            }
            Command::SetDb { .. } => {
                // Writes waiting under the old policy are settled under the new one.
                for t in 0..self.tiers.dbs.len() {
                    if self.tiers.dbs[t].role == Role::Leader {
                        let id = self.tiers.dbs[t].id;
                        with_cx!(self, id, |tiers, cx| tiers.dbs[t].advance_commit(cx));
                    }
                }
            }
            Command::SetLb {
                virtual_nodes: Some(v),
                ..
            } => {
                for lb in &mut self.tiers.lbs {
                    lb.rebuild_ring(*v);
                }
            }
            Command::SetCache {
                eviction: Some(e), ..
            } => {
                for c in &mut self.tiers.caches {
                    c.store.set_policy(*e);
                }
            }
            Command::Scale { servers } => self.scale_apps(*servers as usize),
            _ => {}
        }
        Ok(())
    }

    /// Brings the number of app servers in service in every site to
    /// `target`: retired servers return first, then new ones are built;
    /// scaling in retires the highest numbered.
    fn scale_apps(&mut self, target: usize) {
        let vnodes = self.settings().lb.virtual_nodes;
        for site in 0..self.topo.sites.len() {
            self.scale_site(site, target);
        }
        for lb in &mut self.tiers.lbs {
            lb.rebuild_ring(vnodes);
        }
    }

    /// Brings the app servers in service in `site` to `target`.
    fn scale_site(&mut self, site: usize, target: usize) {
        // The site's servers as (backend index, tier index).
        let servers = |sim: &Self| -> Vec<(usize, usize)> {
            sim.topo.sites[site]
                .apps
                .iter()
                .enumerate()
                .map(|(i, &id)| (i, sim.topo.nodes[id.idx()].tier_idx as usize))
                .collect()
        };
        let retired = |sim: &Self, t: usize| sim.tiers.apps[t].retired;
        let mut active = servers(self)
            .iter()
            .filter(|&&(_, t)| !retired(self, t))
            .count();
        while active < target {
            let back = servers(self).into_iter().find(|&(_, t)| retired(self, t));
            if let Some((i, t)) = back {
                self.tiers.apps[t].retired = false;
                self.set_backend_retired(site, i, false);
                let id = self.tiers.apps[t].id;
                self.restart(id);
            } else {
                self.add_app_server(site);
            }
            active += 1;
        }
        while active > target {
            let Some((i, t)) = servers(self)
                .into_iter()
                .rev()
                .find(|&(_, t)| !retired(self, t))
            else {
                break;
            };
            self.tiers.apps[t].retired = true;
            self.set_backend_retired(site, i, true);
            // It drains: no new requests; it stops once the ones it has are done.
            if self.tiers.apps[t].busy == 0 && self.tiers.apps[t].queue.is_empty() {
                let id = self.tiers.apps[t].id;
                self.crash(id);
            }
            active -= 1;
        }
    }

    /// Takes backend `i` of `site`'s balancers out of the pool, or back.
    fn set_backend_retired(&mut self, site: usize, i: usize, retired: bool) {
        for lb in self.tiers.lbs.iter_mut().filter(|lb| lb.site == site) {
            if let Some(b) = lb.backends.get_mut(i) {
                b.retired = retired;
            }
        }
    }
}
