//! Simulated time: an integer count of microseconds, never the wall clock.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A moment in simulated time, in microseconds since the run began.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
pub type Micros = u64;

/// Microseconds in one millisecond.
pub const MS: Micros = 1_000;
/// Microseconds in one second.
pub const SEC: Micros = 1_000_000;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A moment that never comes.
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// This moment plus a span, saturating at [`SimTime::NEVER`].
    pub fn after(self, span: Micros) -> SimTime {
        SimTime(self.0.saturating_add(span))
    }

    /// The span from `earlier` to this moment (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> Micros {
        self.0.saturating_sub(earlier.0)
    }

    /// Whole seconds and a fraction, for people.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / SEC as f64
    }

    /// Converts seconds (as written in a scenario) to simulated time.
    pub fn from_secs_f64(secs: f64) -> SimTime {
        SimTime(secs_to_micros(secs))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / MS;
        write!(f, "{}.{:03}s", ms / 1000, ms % 1000)
    }
}

/// Converts milliseconds written as a float to whole microseconds.
/// Callers validate the input first; negative or non-finite values give zero.
pub fn ms_to_micros(ms: f64) -> Micros {
    if ms.is_finite() && ms > 0.0 {
        (ms * MS as f64).round() as Micros
    } else {
        0
    }
}

/// Converts seconds written as a float to whole microseconds.
pub fn secs_to_micros(secs: f64) -> Micros {
    if secs.is_finite() && secs > 0.0 {
        (secs * SEC as f64).round() as Micros
    } else {
        0
    }
}

/// Microseconds as milliseconds, for reports.
pub fn micros_to_ms(us: Micros) -> f64 {
    us as f64 / MS as f64
}
