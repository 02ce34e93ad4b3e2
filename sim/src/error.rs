//! Errors for bad input from outside the simulated world (never for failures inside it, which are data).

use std::fmt;

/// What went wrong with input given to the simulator. Every variant is
/// recoverable: the simulation (if one exists) is left unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The scenario JSON is malformed, has an unknown field or a bad value.
    Scenario(String),
    /// A command names a node that does not exist.
    UnknownNode(String),
    /// A command names a region that does not exist.
    UnknownRegion(String),
    /// A command cannot be carried out as given.
    BadCommand(String),
    /// No preset has this name.
    UnknownPreset(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Scenario(m) => write!(f, "bad scenario: {m}"),
            Error::UnknownNode(n) => write!(f, "unknown node {n:?}"),
            Error::UnknownRegion(r) => write!(f, "unknown region {r:?}"),
            Error::BadCommand(m) => write!(f, "bad command: {m}"),
            Error::UnknownPreset(p) => write!(
                f,
                "unknown preset {p:?} (known: {})",
                crate::presets::NAMES
                    .iter()
                    .chain(&crate::presets::BENCH_NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for Error {}
