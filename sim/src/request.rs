//! Requests, their outcomes and their traces: what a user asked for, where it went hop by hop, and what came back.

use crate::node::NodeId;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A request's number, unique and increasing within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// What a user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RequestKind {
    /// A static asset, through the CDN.
    Static,
    /// A read of one key.
    Read,
    /// A write of one key.
    Write,
}

impl RequestKind {
    /// Lower-case name.
    pub fn label(self) -> &'static str {
        match self {
            RequestKind::Static => "static",
            RequestKind::Read => "read",
            RequestKind::Write => "write",
        }
    }
}

/// The version of a key: the (term, index) of the log entry that wrote it,
/// packed so that a larger number is always a later write. 0 is the value
/// every key starts with.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Version(pub u64);

impl Version {
    /// The version written by log entry `index` in `term`.
    pub fn new(term: u64, index: u64) -> Version {
        Version((term << 32) | (index & 0xFFFF_FFFF))
    }
    /// A version from a writer's clock (leaderless replication): the top bit
    /// marks it, then the time in µs and the writer's number break ties.
    pub fn stamped(time_us: u64, writer: u64) -> Version {
        Version((1 << 63) | ((time_us & ((1 << 55) - 1)) << 8) | (writer & 0xff))
    }

    /// The writer's clock (µs) of a stamped version (0 for a log version).
    pub fn stamp_us(self) -> u64 {
        if self.0 >> 63 == 1 {
            (self.0 >> 8) & ((1 << 55) - 1)
        } else {
            0
        }
    }

    /// The term that wrote it.
    pub fn term(self) -> u64 {
        self.0 >> 32
    }
    /// The log index that holds it.
    pub fn index(self) -> u64 {
        self.0 & 0xFFFF_FFFF
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            f.write_str("initial")
        } else if self.term() > 0xFFFF {
            // Leaderless versions are timestamps (µs << 8 | writer).
            let us = (self.0 & !(1 << 63)) >> 8;
            write!(f, "@{}.{:06}s", us / 1_000_000, us % 1_000_000)
        } else {
            write!(f, "t{}#{}", self.term(), self.index())
        }
    }
}

/// Why a request failed, as its user would be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The browser gave up waiting.
    Timeout,
    /// The name could not be resolved.
    DnsFailure,
    /// The load balancer had no healthy server (502).
    NoBackend,
    /// The load balancer gave up waiting for a server (504).
    GatewayTimeout,
    /// A server's queue was full (503).
    Overloaded,
    /// The database could not be reached or had no leader (503).
    DbUnavailable,
    /// The CDN could not reach the origin (504 from the edge).
    OriginUnreachable,
    /// The message queue did not take the job (503).
    QueueUnavailable,
}

impl ErrorKind {
    /// Every kind, in a fixed order (for counters).
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Timeout,
        ErrorKind::DnsFailure,
        ErrorKind::NoBackend,
        ErrorKind::GatewayTimeout,
        ErrorKind::Overloaded,
        ErrorKind::DbUnavailable,
        ErrorKind::OriginUnreachable,
        ErrorKind::QueueUnavailable,
    ];

    /// Position in [`ErrorKind::ALL`].
    pub fn idx(self) -> usize {
        self as usize
    }

    /// Short name, as in JSON.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::DnsFailure => "dns-failure",
            ErrorKind::NoBackend => "no-backend",
            ErrorKind::GatewayTimeout => "gateway-timeout",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::DbUnavailable => "db-unavailable",
            ErrorKind::OriginUnreachable => "origin-unreachable",
            ErrorKind::QueueUnavailable => "queue-unavailable",
        }
    }

    /// Whether a write that failed this way may still have taken effect
    /// (its user cannot know): it may have been stored before the answer
    /// was lost or the error arose. Only failures before the request
    /// reached an app server's work are certain not to have happened.
    pub fn may_have_taken_effect(self) -> bool {
        match self {
            ErrorKind::Timeout
            | ErrorKind::GatewayTimeout
            | ErrorKind::OriginUnreachable
            | ErrorKind::DbUnavailable
            | ErrorKind::QueueUnavailable => true,
            ErrorKind::DnsFailure | ErrorKind::NoBackend | ErrorKind::Overloaded => false,
        }
    }

    /// The reason in plain words.
    pub fn explain(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "the browser gave up waiting for an answer",
            ErrorKind::DnsFailure => "the name could not be resolved",
            ErrorKind::NoBackend => "the load balancer had no healthy app server (502)",
            ErrorKind::GatewayTimeout => {
                "the load balancer gave up waiting for the app server (504)"
            }
            ErrorKind::Overloaded => "the app server's queue was full (503)",
            ErrorKind::DbUnavailable => "the database had no reachable leader (503)",
            ErrorKind::OriginUnreachable => "the CDN edge could not reach the origin (504)",
            ErrorKind::QueueUnavailable => "the message queue did not take the order's job (503)",
        }
    }
}

/// How a request ended, as its user saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "error")]
pub enum Outcome {
    /// Answered correctly.
    Ok,
    /// Answered, but with data older than a write already acknowledged to someone.
    Stale,
    /// Failed.
    Failed(ErrorKind),
}

/// What happened at one hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopNote {
    /// The user's browser, from start to finish.
    Browser,
    /// A resolver answered from its cache.
    DnsCached,
    /// A resolver asked the authority.
    DnsLookup,
    /// The authority answered.
    DnsAnswer,
    /// A CDN edge had the asset.
    CdnHit,
    /// A CDN edge fetched the asset from the origin.
    CdnMiss,
    /// The load balancer forwarded the request.
    Balanced,
    /// An app server handled the request.
    Served,
    /// The request waited in an app server's queue.
    Queued,
    /// The cache had the key.
    CacheHit,
    /// The cache did not have the key.
    CacheMiss,
    /// The cache took a write to pass on to the database later.
    CacheWrite,
    /// The message queue took the order's job.
    Enqueued,
    /// A database replica served a read.
    DbRead,
    /// The database leader accepted a write.
    DbWrite,
    /// A replica refused: it is not the leader.
    NotLeader,
    /// A follower refused: it has not applied the session's last write yet.
    Behind,
    /// The hop failed.
    Failed(ErrorKind),
    /// Nothing came back in time.
    NoAnswer,
}

/// One hop of a request's trace.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// Where.
    pub node: NodeId,
    /// When it arrived (µs).
    pub start: SimTime,
    /// When it left (µs); [`SimTime::NEVER`] while still there.
    pub end: SimTime,
    /// What happened.
    pub note: HopNote,
}

/// Every hop note but [`HopNote::Failed`], in a fixed order (see
/// [`HopNote::code`]).
const PLAIN_NOTES: [HopNote; 18] = [
    HopNote::Browser,
    HopNote::DnsCached,
    HopNote::DnsLookup,
    HopNote::DnsAnswer,
    HopNote::CdnHit,
    HopNote::CdnMiss,
    HopNote::Balanced,
    HopNote::Served,
    HopNote::Queued,
    HopNote::CacheHit,
    HopNote::CacheMiss,
    HopNote::CacheWrite,
    HopNote::Enqueued,
    HopNote::DbRead,
    HopNote::DbWrite,
    HopNote::NotLeader,
    HopNote::Behind,
    HopNote::NoAnswer,
];

/// Codes from here on are failures, by [`ErrorKind::idx`].
const FAILED_CODE: u8 = 32;

impl HopNote {
    /// A small number standing for the note (failures from 32 on), for
    /// passing traces between programs without a parser.
    pub fn code(self) -> u8 {
        match self {
            HopNote::Failed(e) => FAILED_CODE + e.idx() as u8,
            n => PLAIN_NOTES.iter().position(|p| *p == n).unwrap_or(0) as u8,
        }
    }

    /// The note a [`HopNote::code`] stands for.
    pub fn from_code(c: u8) -> Option<HopNote> {
        match c.checked_sub(FAILED_CODE) {
            Some(e) => ErrorKind::ALL.get(e as usize).map(|e| HopNote::Failed(*e)),
            None => PLAIN_NOTES.get(c as usize).copied(),
        }
    }
}

impl Outcome {
    /// A small number standing for the outcome (failures as in
    /// [`HopNote::code`]).
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Stale => 1,
            Outcome::Failed(e) => FAILED_CODE + e.idx() as u8,
        }
    }

    /// The outcome an [`Outcome::code`] stands for.
    pub fn from_code(c: u8) -> Option<Outcome> {
        match c {
            0 => Some(Outcome::Ok),
            1 => Some(Outcome::Stale),
            _ => ErrorKind::ALL
                .get(c.checked_sub(FAILED_CODE)? as usize)
                .map(|e| Outcome::Failed(*e)),
        }
    }
}

/// The full story of one finished request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Its number.
    pub id: RequestId,
    /// What was asked.
    pub kind: RequestKind,
    /// Key (reads, writes) or asset (static).
    pub key: u32,
    /// The session that asked.
    pub session: u32,
    /// The client node.
    pub client: NodeId,
    /// When it was sent.
    pub start: SimTime,
    /// When its answer (or the timeout) came.
    pub end: SimTime,
    /// How it ended.
    pub outcome: Outcome,
    /// Version read or written, if any.
    pub version: Option<Version>,
    /// For a stale read: the newest version acknowledged before it started.
    pub expected: Option<Version>,
    /// Every hop, in order of arrival.
    pub hops: Vec<Hop>,
}

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn every_note_and_outcome_comes_back_from_its_code() {
        let notes = PLAIN_NOTES
            .iter()
            .copied()
            .chain(ErrorKind::ALL.iter().map(|e| HopNote::Failed(*e)));
        for n in notes {
            assert_eq!(HopNote::from_code(n.code()), Some(n));
        }
        let outcomes = [Outcome::Ok, Outcome::Stale]
            .into_iter()
            .chain(ErrorKind::ALL.iter().map(|e| Outcome::Failed(*e)));
        for o in outcomes {
            assert_eq!(Outcome::from_code(o.code()), Some(o));
        }
        assert_eq!(HopNote::from_code(200), None);
        assert_eq!(Outcome::from_code(7), None);
    }
}
