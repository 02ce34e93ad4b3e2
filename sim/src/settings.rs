//! The settings a running simulation uses, kept in one place: the scenario as it is now, and the figures derived from it (durations in microseconds, arrival gaps, key popularity), recomputed whenever a setting changes.

use crate::error::Error;
use crate::rng::Zipf;
use crate::scenario::Scenario;
use crate::time::{Micros, ms_to_micros, secs_to_micros};

/// The scenario as it is now (commands change it while the simulation runs)
/// and what is derived from it. The only way to change it is
/// [`Settings::change`], which validates the result with the same rules as
/// a scenario file, so every bound is written once.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    scenario: Scenario,
    cfg: Config,
    /// The commands that changed the settings, in order.
    edits: Vec<crate::Command>,
}

impl Settings {
    /// Validates a scenario and derives its figures.
    pub fn new(scenario: &Scenario) -> Result<Settings, Error> {
        scenario.validate()?;
        Ok(Settings {
            cfg: Config::of(scenario),
            scenario: scenario.clone(),
            edits: Vec::new(),
        })
    }

    /// The settings as they are now.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The commands that changed the settings so far, in order.
    pub fn edits(&self) -> &[crate::Command] {
        &self.edits
    }

    /// Notes that `cmd` changed the settings.
    pub fn record(&mut self, cmd: &crate::Command) {
        self.edits.push(cmd.clone());
    }

    /// Figures derived from the settings as they are now.
    pub fn cfg(&self) -> &Config {
        &self.cfg
    }

    /// What the settings would be after `edit`, if valid; nothing changes.
    pub fn try_change(&self, edit: impl FnOnce(&mut Scenario)) -> Result<Scenario, Error> {
        let mut next = self.scenario.clone();
        edit(&mut next);
        next.validate().map_err(|e| match e {
            Error::Scenario(why) => Error::BadCommand(why),
            other => other,
        })?;
        Ok(next)
    }

    /// Applies `edit` if the result is valid (and derives the figures
    /// again); on error nothing changes.
    pub fn change(&mut self, edit: impl FnOnce(&mut Scenario)) -> Result<(), Error> {
        let next = self.try_change(edit)?;
        self.cfg = Config::of(&next);
        self.scenario = next;
        Ok(())
    }
}

/// Figures derived from the settings, computed once per change rather than
/// on every event.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub client_timeout: Micros,
    /// Mean gap between arrivals per region (µs; infinite when silent).
    pub mean_gap: Vec<f64>,
    /// Cumulative request mix: static, read, write.
    pub mix: [f64; 3],
    pub dns_ttl: Micros,
    pub dns_timeout: Micros,
    pub dns_health: Micros,
    pub cdn_ttl: Micros,
    pub cdn_origin_timeout: Micros,
    pub lb_health: Micros,
    pub lb_upstream_timeout: Micros,
    pub lb_heartbeat: Micros,
    pub cache_ttl: Micros,
    pub cache_timeout: Micros,
    pub db_timeout: Micros,
    pub db_heartbeat: Micros,
    pub election_min: Micros,
    pub election_max: Micros,
    /// Popularity of data keys.
    pub zipf_keys: Zipf,
    /// Popularity of static assets.
    pub zipf_assets: Zipf,
}

impl Config {
    /// Derives every figure from a scenario.
    pub fn of(sc: &Scenario) -> Config {
        let (mean_gap, mix) = workload_rates(sc);
        Config {
            client_timeout: ms_to_micros(sc.workload.client_timeout_ms),
            mean_gap,
            mix,
            dns_ttl: secs_to_micros(sc.dns.ttl_s),
            dns_timeout: ms_to_micros(sc.dns.timeout_ms),
            dns_health: secs_to_micros(sc.dns.health_interval_s),
            cdn_ttl: secs_to_micros(sc.cdn.ttl_s),
            cdn_origin_timeout: ms_to_micros(sc.cdn.origin_timeout_ms),
            lb_health: ms_to_micros(sc.lb.health_interval_ms),
            lb_upstream_timeout: ms_to_micros(sc.lb.upstream_timeout_ms),
            lb_heartbeat: ms_to_micros(sc.lb.heartbeat_ms),
            cache_ttl: secs_to_micros(sc.cache.ttl_s),
            cache_timeout: ms_to_micros(sc.app.cache_timeout_ms),
            db_timeout: ms_to_micros(sc.app.db_timeout_ms),
            db_heartbeat: ms_to_micros(sc.db.heartbeat_ms),
            election_min: ms_to_micros(sc.db.election_timeout_ms[0]),
            election_max: ms_to_micros(sc.db.election_timeout_ms[1]),
            zipf_keys: Zipf::new(sc.workload.keys, sc.workload.key_skew),
            zipf_assets: Zipf::new(sc.workload.assets, sc.workload.asset_skew),
        }
    }
}

/// Mean gap between arrivals per region (µs; infinite when silent) and the
/// cumulative request mix, from a scenario's workload.
fn workload_rates(sc: &Scenario) -> (Vec<f64>, [f64; 3]) {
    let total_share: f64 = sc.network.regions.iter().map(|r| r.traffic_share).sum();
    let rate = sc.workload.requests_per_s;
    let gaps = sc
        .network
        .regions
        .iter()
        .map(|r| {
            let lambda = rate * r.traffic_share / total_share;
            if lambda > 0.0 {
                1e6 / lambda
            } else {
                f64::INFINITY
            }
        })
        .collect();
    let m = &sc.workload.mix;
    let total = m.static_ + m.read + m.write;
    (gaps, [m.static_ / total, (m.static_ + m.read) / total, 1.0])
}
