//! A compact binary form for what the core sends the page every frame (the world, new log lines, seconds of the series, finished requests): small to decode in the page's bundle and fast enough for thousands of messages in flight sixty times a second. Integers are LEB128, floats 8 bytes little-endian, lists and text carry their length first.

use crate::action::{Action, Choice, LogKind, Panel, Redesign};
use crate::lessons::{Card, LessonState, LessonView, Revealed, StepView};
use crate::link::{
    Against, Frame, FromCore, HostAnswer, LessonAnswer, Opened, Summaries, SweepAnswer, Versus,
};
use pathlab_sim::lesson::WhyKind;
use pathlab_sim::rng::ServiceTime;
use pathlab_sim::scenario::{
    FollowerAck, LbStrategy, MixSpec, Partitioning, ReadFrom, Replication, SessionStore,
    WritePolicy,
};
use pathlab_sim::store::Eviction;
use pathlab_sim::{
    Applied, Branch, Command, Flight, Hop, HopNote, LogEntry, LogEvent, MovedKeys, NodeId,
    NodeKind, NodeState, NodeView, Outcome, Point, RequestId, RequestKind, Role, SimTime, Snapshot,
    Totals, Trace, Version,
};

/// Bytes being read, and where.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    /// Whether every byte was read.
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// A value with a binary form.
pub trait Wire: Sized {
    /// Appends the value's bytes.
    fn put(&self, w: &mut Vec<u8>);
    /// Reads a value; None if the bytes are not one.
    fn get(r: &mut Reader) -> Option<Self>;
}

/// Encodes a value.
pub fn encode<T: Wire>(v: &T) -> Vec<u8> {
    let mut w = Vec::new();
    v.put(&mut w);
    w
}

/// Decodes a value that fills `bytes` exactly.
pub fn decode<T: Wire>(bytes: &[u8]) -> Option<T> {
    let mut r = Reader::new(bytes);
    let v = T::get(&mut r)?;
    r.done().then_some(v)
}

impl Wire for u64 {
    fn put(&self, w: &mut Vec<u8>) {
        let mut v = *self;
        while v >= 0x80 {
            w.push((v as u8) | 0x80);
            v >>= 7;
        }
        w.push(v as u8);
    }
    fn get(r: &mut Reader) -> Option<Self> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = r.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

/// Narrower integers go as u64 and must fit when read.
macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                (*self as u64).put(w)
            }
            fn get(r: &mut Reader) -> Option<Self> {
                <$t>::try_from(u64::get(r)?).ok()
            }
        }
    )*};
}
wire_int!(u32, u16, u8, usize);

impl Wire for bool {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(u8::from(*self));
    }
    fn get(r: &mut Reader) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Wire for f64 {
    fn put(&self, w: &mut Vec<u8>) {
        w.extend_from_slice(&self.to_le_bytes());
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Some(f64::from_le_bytes(r.take(8)?.try_into().ok()?))
    }
}

impl Wire for String {
    fn put(&self, w: &mut Vec<u8>) {
        self.len().put(w);
        w.extend_from_slice(self.as_bytes());
    }
    fn get(r: &mut Reader) -> Option<Self> {
        let n = usize::get(r)?;
        String::from_utf8(r.take(n)?.to_vec()).ok()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            None => w.push(0),
            Some(v) => {
                w.push(1);
                v.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        match r.byte()? {
            0 => Some(None),
            1 => Some(Some(T::get(r)?)),
            _ => None,
        }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, w: &mut Vec<u8>) {
        self.len().put(w);
        for v in self {
            v.put(w);
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        let n = usize::get(r)?;
        // Every value takes a byte at least: a length beyond the bytes left
        // is a lie, and must not reserve memory.
        if n > r.bytes.len() - r.at {
            return None;
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::get(r)?);
        }
        Some(v)
    }
}

impl<T: Wire> Wire for Box<T> {
    fn put(&self, w: &mut Vec<u8>) {
        (**self).put(w)
    }
    fn get(r: &mut Reader) -> Option<Self> {
        T::get(r).map(Box::new)
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
        self.1.put(w);
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Some((A::get(r)?, B::get(r)?))
    }
}

impl Wire for [u64; 8] {
    fn put(&self, w: &mut Vec<u8>) {
        for v in self {
            v.put(w);
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        let mut a = [0; 8];
        for v in &mut a {
            *v = u64::get(r)?;
        }
        Some(a)
    }
}

/// Newtypes over one number.
macro_rules! wire_newtype {
    ($($t:ident($inner:ty)),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                self.0.put(w)
            }
            fn get(r: &mut Reader) -> Option<Self> {
                Some($t(<$inner>::get(r)?))
            }
        }
    )*};
}
wire_newtype!(SimTime(u64), NodeId(u16), RequestId(u64), Version(u64));

/// Enums without data: their variant's place in the list.
macro_rules! wire_units {
    ($($t:ident { $($v:ident),* }),*) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                const ALL: &[$t] = &[$($t::$v),*];
                w.push(ALL.iter().position(|x| x == self).unwrap_or(0) as u8);
            }
            fn get(r: &mut Reader) -> Option<Self> {
                const ALL: &[$t] = &[$($t::$v),*];
                ALL.get(r.byte()? as usize).copied()
            }
        }
    )*};
}
wire_units!(
    NodeState {
        Up,
        Down,
        Slow,
        Suspect
    },
    NodeKind {
        Client,
        Resolver,
        DnsAuthority,
        Cdn,
        Lb,
        App,
        Cache,
        Db,
        Queue,
        Worker
    },
    Role {
        Follower,
        Candidate,
        Leader
    },
    RequestKind {
        Static,
        Read,
        Write
    },
    LbStrategy {
        RoundRobin,
        WeightedRoundRobin,
        LeastConnections,
        Random,
        IpHash,
        ConsistentHash,
        Rendezvous,
        Path
    },
    SessionStore { Shared, Local },
    WritePolicy {
        Invalidate,
        WriteThrough,
        WriteBack
    },
    Eviction { Lru, Lfu, Fifo },
    Replication {
        Async,
        Sync,
        SemiSync,
        Quorum,
        MultiLeader
    },
    FollowerAck { Received, Applied },
    ReadFrom {
        Leader,
        Followers,
        ReadYourWrites,
        Sticky,
        Nearest
    },
    Partitioning { Hash, Range }
);

impl Wire for [f64; 3] {
    fn put(&self, w: &mut Vec<u8>) {
        for v in self {
            v.put(w);
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Some([f64::get(r)?, f64::get(r)?, f64::get(r)?])
    }
}

/// Enums whose variants each hold one value: a tag, then the value.
macro_rules! wire_one_of {
    ($t:ident { $($tag:literal => $v:ident),* $(,)? }) => {
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                match self {
                    $($t::$v(x) => {
                        w.push($tag);
                        x.put(w);
                    })*
                }
            }
            fn get(r: &mut Reader) -> Option<Self> {
                Some(match r.byte()? {
                    $($tag => $t::$v(Wire::get(r)?),)*
                    _ => return None,
                })
            }
        }
    };
}
wire_one_of!(Redesign {
    0 => Replication,
    1 => QuorumR,
    2 => QuorumW,
    3 => ReadRepair,
    4 => Shards,
    5 => Partitioning,
    6 => RangeBounds,
    7 => Placement,
    8 => Queue,
    9 => QueueWorkers,
    10 => EnqueueTimeout,
    11 => VisibilityTimeout,
    12 => TaskMs,
    13 => FlushInterval,
    14 => Sites,
    15 => Weights,
    16 => PathStatic,
    17 => DnsTtl,
    18 => TrafficShares,
    19 => CacheOn,
    20 => CacheCapacity,
    21 => Workers,
    22 => Service,
    23 => ClockSkew,
    24 => Sessions,
    25 => Mix,
    26 => ShipOnHeartbeat,
    27 => ReadFrom,
});

impl Wire for HopNote {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(self.code());
    }
    fn get(r: &mut Reader) -> Option<Self> {
        HopNote::from_code(r.byte()?)
    }
}

impl Wire for Outcome {
    fn put(&self, w: &mut Vec<u8>) {
        w.push(self.code());
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Outcome::from_code(r.byte()?)
    }
}

/// Structs: every field, in the order listed (a field left out does not
/// compile).
macro_rules! wire_struct {
    ($($t:ident { $($f:ident),* $(,)? }),* $(,)?) => {$(
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                $(self.$f.put(w);)*
            }
            fn get(r: &mut Reader) -> Option<Self> {
                Some($t { $($f: Wire::get(r)?),* })
            }
        }
    )*};
}
wire_struct!(
    NodeView {
        id,
        index,
        kind,
        region,
        state,
        slow,
        role,
        term,
        lag_ms,
        active,
        busy,
        queued,
        keys,
        partitioned,
        retired,
        dirty,
        share,
        shard
    },
    Flight {
        from,
        to,
        sent,
        arrives,
        request,
        kind,
        reply
    },
    Snapshot {
        now,
        nodes,
        cut,
        vips,
        flights
    },
    LogEntry { at, event },
    Point {
        t_s,
        requests,
        ok,
        errors,
        stale,
        p50_ms,
        p95_ms,
        p99_ms,
        cdn_hit_ratio,
        cache_hit_ratio,
        db_ops,
        lost_writes,
        sessions_lost,
        backlog,
        lag_ms
    },
    Totals {
        requests,
        ok,
        failed,
        errors,
        reads,
        stale_reads,
        read_your_writes,
        monotonic_reads,
        writes,
        writes_acked,
        statics,
        cdn_hits,
        cdn_misses,
        cache_hits,
        cache_misses,
        leader_changes,
        sessions_lost,
        jobs_enqueued,
        jobs_done,
        job_duplicates,
        conflicts,
        latency_us_sum,
        rolled_back_reads,
    },
    Hop {
        node,
        start,
        end,
        note
    },
    Trace {
        id,
        kind,
        key,
        session,
        client,
        start,
        end,
        outcome,
        version,
        expected,
        hops
    },
    MovedKeys {
        hash_mod,
        consistent_hash,
        range_split,
        this_design
    },
    Frame {
        run,
        now,
        events,
        fingerprint,
        seed,
        behind,
        end,
        cut,
        snapshot,
        flights_only,
        log_len,
        log_from,
        log,
        series,
        totals,
        traces,
        traces_gap,
        watched,
        trace_capacity,
        edits_from,
        edits,
        summaries,
        branches,
        applied,
        lost_writes,
        active_app_servers,
        in_flight,
        queue_backlog,
        memory,
        versus,
    },
    Versus {
        against,
        name,
        trade_off,
        rows,
        snapshot,
        flights_only,
        series,
        fingerprint,
        skipped
    },
    SweepAnswer {
        variant,
        seed,
        figures,
        theory,
        fingerprint
    },
    Against {
        set,
        preset,
        designs,
        commands,
        label
    },
    Summaries { moves, shard_moves },
    Branch {
        id,
        parent,
        commands,
        end,
        end_events,
        fingerprint
    },
    Opened {
        preset,
        designs,
        seed,
        view,
        speed,
        play,
        present,
        frame
    },
    Applied {
        at,
        events,
        command
    },
);

/// Enums with data: a tag, then the variant's fields.
macro_rules! wire_enum {
    ($t:ident { $($tag:literal => $v:ident { $($f:ident),* }),* $(,)? }) => {
        impl Wire for $t {
            fn put(&self, w: &mut Vec<u8>) {
                match self {
                    $($t::$v { $($f),* } => {
                        w.push($tag);
                        $($f.put(w);)*
                    })*
                }
            }
            fn get(r: &mut Reader) -> Option<Self> {
                Some(match r.byte()? {
                    $($tag => $t::$v { $($f: Wire::get(r)?),* },)*
                    _ => return None,
                })
            }
        }
    };
}
wire_enum!(ServiceTime {
    0 => Fixed { ms },
    1 => Uniform { min_ms, max_ms },
    2 => Exponential { mean_ms },
    3 => Lognormal { median_ms, sigma },
});

wire_struct!(MixSpec {
    static_,
    read,
    write
});

wire_enum!(Command {
    0 => Crash { node },
    1 => Restart { node },
    2 => Partition { groups },
    3 => PartitionOneWay { from, to },
    4 => Isolate { node },
    5 => Heal {},
    6 => Link { a, b, latency_ms, jitter_ms, loss },
    7 => Slow { node, factor },
    8 => RegionDown { region },
    9 => RegionUp { region },
    10 => Flush { node },
    11 => DnsSet { region, target },
    12 => DnsAuto { region },
    13 => SetLoad { requests_per_s, static_, read, write, key_skew },
    14 => SetDb { replication, follower_ack, read_from, fencing, sync_followers },
    15 => SetLb { strategy, sticky, virtual_nodes },
    16 => SetApp { session_store },
    17 => SetCache { write_policy, eviction, ttl_s },
    18 => Scale { servers },
});

wire_units!(
    WhyKind {
        StaleRead,
        ReadYourWrites,
        MonotonicRead,
        LostWrite,
        RolledBackRead
    },
    Panel {
        Help,
        Presenter,
        Load,
        Balancing,
        Caching,
        Database,
        Sharding,
        Queue,
        More
    },
    LogKind {
        Faults,
        Elections,
        Anomalies,
        Other
    }
);

wire_struct!(
    Card {
        id,
        order,
        title,
        topic,
        minutes,
        you_will_see,
        steps
    },
    StepView {
        title,
        text,
        highlight,
        ask,
        question,
        choices,
        guess,
        play_to,
        why
    },
    LessonView {
        id,
        title,
        topic,
        steps
    },
    Revealed {
        text,
        right_choice,
        figure,
        held,
        claims
    },
    LessonState {
        lesson,
        step,
        revealed
    },
    LessonAnswer {
        opened,
        frame,
        state
    },
);

wire_enum!(Choice {
    0 => Region { region },
    1 => SlowFactor { factor },
});

/// Actions a host page asks for (read by the core, done by the page). The
/// page's own actions (answers, the viewport, notices) never cross: they
/// are written as a tag that reads back as nothing.
impl Wire for Action {
    fn put(&self, w: &mut Vec<u8>) {
        use Action as A;
        macro_rules! put {
            ($tag:literal $(, $f:expr)*) => {{
                w.push($tag);
                $($f.put(w);)*
            }};
        }
        match self {
            A::Play => put!(0),
            A::Pause => put!(1),
            A::TogglePlay => put!(2),
            A::Speed { x } => put!(3, x),
            A::Faster => put!(4),
            A::Slower => put!(5),
            A::Step => put!(6),
            A::StepBack => put!(7),
            A::Seek { t, request, node } => put!(8, t, request, node),
            A::Marker { next } => put!(9, next),
            A::ToEnd => put!(10),
            A::Switch { branch } => put!(11, branch),
            A::SaveRun => put!(12),
            A::SaveMetrics => put!(13),
            A::SaveHistory => put!(14),
            A::SaveDiagram { png } => put!(15, png),
            A::RecordClip { secs } => put!(16, secs),
            A::OpenRunFile { text } => put!(17, text),
            A::OpenLink { link } => put!(18, link),
            A::CopyLink => put!(19),
            A::Reset => put!(20),
            A::Seed { seed } => put!(21, seed),
            A::Preset { name } => put!(22, name),
            A::Command(c) => put!(23, c),
            A::Redesign(d) => put!(24, d),
            A::Select { node } => put!(25, node),
            A::ClickNode { node } => put!(26, node),
            A::ClickAt { x, y } => put!(27, x, y),
            A::TogglePresenter => put!(28),
            A::OpenRequest { id } => put!(29, id),
            A::Picking { on } => put!(30, on),
            A::Cut => put!(31),
            A::Panel { panel, open } => put!(32, panel, open),
            A::CloseAll => put!(33),
            A::Dismiss => put!(34),
            A::LogFilter { kind } => put!(35, kind),
            A::LogGroup { first, open } => put!(36, first, open),
            A::Choose(c) => put!(37, c),
            A::Why { id } => put!(38, id),
            A::LessonIndex { open } => put!(39, open),
            A::LessonOpen { id, step } => put!(40, id, step),
            A::LessonNext => put!(41),
            A::LessonBack => put!(42),
            A::LessonRestart => put!(43),
            A::LessonAnswer { choice, guess } => put!(44, choice, guess),
            A::LessonDo => put!(45),
            A::LessonClose => put!(46),
            A::Compare { with } => put!(47, with),
            A::CompareDialog { open } => put!(48, open),
            A::SweepPanel { open } => put!(49, open),
            A::SweepStart { vary, seeds, secs } => put!(50, vary, seeds, secs),
            A::SweepStop => put!(51),
            A::SweepPick { variant } => put!(52, variant),
            A::SweepOpen { variant } => put!(53, variant),
            A::SweepCompare { variant } => put!(54, variant),
            A::SweepAxes { x, y } => put!(55, x, y),
            A::SweepCsv => put!(56),
            A::SweepEdit { field, text } => put!(57, field, text),
            A::Invalid { .. } | A::Viewport { .. } | A::Answered { .. } => put!(255),
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        use Action as A;
        Some(match r.byte()? {
            0 => A::Play,
            1 => A::Pause,
            2 => A::TogglePlay,
            3 => A::Speed { x: Wire::get(r)? },
            4 => A::Faster,
            5 => A::Slower,
            6 => A::Step,
            7 => A::StepBack,
            8 => A::Seek {
                t: Wire::get(r)?,
                request: Wire::get(r)?,
                node: Wire::get(r)?,
            },
            9 => A::Marker {
                next: Wire::get(r)?,
            },
            10 => A::ToEnd,
            11 => A::Switch {
                branch: Wire::get(r)?,
            },
            12 => A::SaveRun,
            13 => A::SaveMetrics,
            14 => A::SaveHistory,
            15 => A::SaveDiagram { png: Wire::get(r)? },
            16 => A::RecordClip {
                secs: Wire::get(r)?,
            },
            17 => A::OpenRunFile {
                text: Wire::get(r)?,
            },
            18 => A::OpenLink {
                link: Wire::get(r)?,
            },
            19 => A::CopyLink,
            20 => A::Reset,
            21 => A::Seed {
                seed: Wire::get(r)?,
            },
            22 => A::Preset {
                name: Wire::get(r)?,
            },
            23 => A::Command(Wire::get(r)?),
            24 => A::Redesign(Wire::get(r)?),
            25 => A::Select {
                node: Wire::get(r)?,
            },
            26 => A::ClickNode {
                node: Wire::get(r)?,
            },
            27 => A::ClickAt {
                x: Wire::get(r)?,
                y: Wire::get(r)?,
            },
            28 => A::TogglePresenter,
            29 => A::OpenRequest { id: Wire::get(r)? },
            30 => A::Picking { on: Wire::get(r)? },
            31 => A::Cut,
            32 => A::Panel {
                panel: Wire::get(r)?,
                open: Wire::get(r)?,
            },
            33 => A::CloseAll,
            34 => A::Dismiss,
            35 => A::LogFilter {
                kind: Wire::get(r)?,
            },
            36 => A::LogGroup {
                first: Wire::get(r)?,
                open: Wire::get(r)?,
            },
            37 => A::Choose(Wire::get(r)?),
            38 => A::Why { id: Wire::get(r)? },
            39 => A::LessonIndex {
                open: Wire::get(r)?,
            },
            40 => A::LessonOpen {
                id: Wire::get(r)?,
                step: Wire::get(r)?,
            },
            41 => A::LessonNext,
            42 => A::LessonBack,
            43 => A::LessonRestart,
            44 => A::LessonAnswer {
                choice: Wire::get(r)?,
                guess: Wire::get(r)?,
            },
            45 => A::LessonDo,
            46 => A::LessonClose,
            47 => A::Compare {
                with: Wire::get(r)?,
            },
            48 => A::CompareDialog {
                open: Wire::get(r)?,
            },
            49 => A::SweepPanel {
                open: Wire::get(r)?,
            },
            50 => A::SweepStart {
                vary: Wire::get(r)?,
                seeds: Wire::get(r)?,
                secs: Wire::get(r)?,
            },
            51 => A::SweepStop,
            52 => A::SweepPick {
                variant: Wire::get(r)?,
            },
            53 => A::SweepOpen {
                variant: Wire::get(r)?,
            },
            54 => A::SweepCompare {
                variant: Wire::get(r)?,
            },
            55 => A::SweepAxes {
                x: Wire::get(r)?,
                y: Wire::get(r)?,
            },
            56 => A::SweepCsv,
            57 => A::SweepEdit {
                field: Wire::get(r)?,
                text: Wire::get(r)?,
            },
            _ => return None,
        })
    }
}

impl Wire for HostAnswer {
    fn put(&self, w: &mut Vec<u8>) {
        self.kind.put(w);
        match &self.action {
            Ok(a) => {
                w.push(0);
                a.put(w);
            }
            Err(e) => {
                w.push(1);
                e.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        let kind = Wire::get(r)?;
        let action = match r.byte()? {
            0 => Ok(Wire::get(r)?),
            1 => Err(Wire::get(r)?),
            _ => return None,
        };
        Some(HostAnswer { kind, action })
    }
}

impl Wire for LogEvent {
    fn put(&self, w: &mut Vec<u8>) {
        use LogEvent as E;
        match self {
            E::Command(s) => (0u8, s).put(w),
            E::CommandFailed(s) => (1u8, s).put(w),
            E::Crashed(n) => (2u8, n).put(w),
            E::Restarted(n) => (3u8, n).put(w),
            E::Conflict {
                key,
                kept,
                overwritten,
                at,
                from,
            } => {
                w.push(4);
                (key, kept, overwritten).put(w);
                (at, from).put(w);
            }
            E::Redelivered { job, worker } => (5u8, (job, worker)).put(w),
            E::Retired(n) => (6u8, n).put(w),
            E::ElectionStarted { node, term } => (7u8, (node, term)).put(w),
            E::Elected { node, shard, term } => {
                w.push(8);
                (node, shard, term).put(w);
            }
            E::SteppedDown { node, term } => (9u8, (node, term)).put(w),
            E::Fenced { node } => (10u8, node).put(w),
            E::Truncated { node, entries } => (11u8, (node, entries)).put(w),
            E::RolledBackRead {
                request,
                key,
                version,
            } => {
                w.push(12);
                (request, key, version).put(w);
            }
            E::SnapshotInstalled { node, upto } => (13u8, (node, upto)).put(w),
            E::LostWrite {
                request,
                key,
                version,
                acked_at,
            } => {
                w.push(14);
                (request, key, version).put(w);
                acked_at.put(w);
            }
            E::BackendHealth {
                lb,
                backend,
                up,
                count,
            } => {
                w.push(15);
                (lb, backend, up).put(w);
                count.put(w);
            }
            E::LbTakeover { lb, from } => (16u8, (lb, from)).put(w),
            E::LbYield { lb, to } => (17u8, (lb, to)).put(w),
            E::DnsEdgeHealth { edge, up, fails } => {
                w.push(18);
                (edge, up, fails).put(w);
            }
            E::DnsSiteHealth { site, up, fails } => {
                w.push(19);
                (site, up, fails).put(w);
            }
        }
    }

    fn get(r: &mut Reader) -> Option<Self> {
        use LogEvent as E;
        fn g<T: Wire>(r: &mut Reader) -> Option<T> {
            T::get(r)
        }
        Some(match r.byte()? {
            0 => E::Command(g(r)?),
            1 => E::CommandFailed(g(r)?),
            2 => E::Crashed(g(r)?),
            3 => E::Restarted(g(r)?),
            4 => E::Conflict {
                key: g(r)?,
                kept: g(r)?,
                overwritten: g(r)?,
                at: g(r)?,
                from: g(r)?,
            },
            5 => E::Redelivered {
                job: g(r)?,
                worker: g(r)?,
            },
            6 => E::Retired(g(r)?),
            7 => E::ElectionStarted {
                node: g(r)?,
                term: g(r)?,
            },
            8 => E::Elected {
                node: g(r)?,
                shard: g(r)?,
                term: g(r)?,
            },
            9 => E::SteppedDown {
                node: g(r)?,
                term: g(r)?,
            },
            10 => E::Fenced { node: g(r)? },
            11 => E::Truncated {
                node: g(r)?,
                entries: g(r)?,
            },
            12 => E::RolledBackRead {
                request: g(r)?,
                key: g(r)?,
                version: g(r)?,
            },
            13 => E::SnapshotInstalled {
                node: g(r)?,
                upto: g(r)?,
            },
            14 => E::LostWrite {
                request: g(r)?,
                key: g(r)?,
                version: g(r)?,
                acked_at: g(r)?,
            },
            15 => E::BackendHealth {
                lb: g(r)?,
                backend: g(r)?,
                up: g(r)?,
                count: g(r)?,
            },
            16 => E::LbTakeover {
                lb: g(r)?,
                from: g(r)?,
            },
            17 => E::LbYield {
                lb: g(r)?,
                to: g(r)?,
            },
            18 => E::DnsEdgeHealth {
                edge: g(r)?,
                up: g(r)?,
                fails: g(r)?,
            },
            19 => E::DnsSiteHealth {
                site: g(r)?,
                up: g(r)?,
                fails: g(r)?,
            },
            _ => return None,
        })
    }
}

/// References write as what they point to (for writing tuples of fields).
impl<T: Wire> Wire for &T {
    fn put(&self, w: &mut Vec<u8>) {
        (**self).put(w)
    }
    fn get(_: &mut Reader) -> Option<Self> {
        None
    }
}

impl<A: Wire, B: Wire, C: Wire> Wire for (A, B, C) {
    fn put(&self, w: &mut Vec<u8>) {
        self.0.put(w);
        self.1.put(w);
        self.2.put(w);
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Some((A::get(r)?, B::get(r)?, C::get(r)?))
    }
}

impl Wire for FromCore {
    fn put(&self, w: &mut Vec<u8>) {
        match self {
            FromCore::Frame(f) => {
                w.push(0);
                f.put(w);
            }
            FromCore::Refused { error } => {
                w.push(1);
                error.put(w);
            }
            FromCore::File { name, text } => {
                w.push(2);
                (name, text).put(w);
            }
            FromCore::Link { fragment } => {
                w.push(3);
                fragment.put(w);
            }
            FromCore::Opened(o) => {
                w.push(4);
                o.put(w);
            }
            FromCore::Host(a) => {
                w.push(5);
                a.put(w);
            }
            FromCore::LessonIndex(cards) => {
                w.push(6);
                cards.put(w);
            }
            FromCore::Lesson(a) => {
                w.push(7);
                a.put(w);
            }
            FromCore::SweepPlan(labels) => {
                w.push(8);
                labels.put(w);
            }
            FromCore::SweepRun(a) => {
                w.push(9);
                a.put(w);
            }
        }
    }
    fn get(r: &mut Reader) -> Option<Self> {
        Some(match r.byte()? {
            0 => FromCore::Frame(Wire::get(r)?),
            1 => FromCore::Refused {
                error: Wire::get(r)?,
            },
            2 => FromCore::File {
                name: Wire::get(r)?,
                text: Wire::get(r)?,
            },
            3 => FromCore::Link {
                fragment: Wire::get(r)?,
            },
            4 => FromCore::Opened(Wire::get(r)?),
            5 => FromCore::Host(Wire::get(r)?),
            6 => FromCore::LessonIndex(Wire::get(r)?),
            7 => FromCore::Lesson(Wire::get(r)?),
            8 => FromCore::SweepPlan(Wire::get(r)?),
            9 => FromCore::SweepRun(Wire::get(r)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_a_host_can_ask_for_reads_back() {
        let texts = [
            r#"{"act":"play"}"#,
            r#"{"act":"speed","x":4}"#,
            r#"{"act":"seek","t":2.5,"request":7,"node":"db-0-0"}"#,
            r#"{"act":"command","do":"partition","groups":[["db-0-0"],["db-0-1"]]}"#,
            r#"{"act":"redesign","field":"db.replication","value":"sync"}"#,
            r#"{"act":"panel","panel":"database","open":true}"#,
            r#"{"act":"log-filter","kind":"anomalies"}"#,
            r#"{"act":"choose","choice":"slow-factor","factor":3}"#,
            r#"{"act":"save-diagram","png":true}"#,
            r#"{"act":"open-link","link":"x"}"#,
            r#"{"act":"log-group","first":3,"open":false}"#,
            r#"{"act":"why","id":12}"#,
        ];
        for t in texts {
            let a: Action = serde_json::from_str(t).unwrap();
            let answer = HostAnswer {
                kind: Some("act".into()),
                action: Ok(a),
            };
            assert_eq!(decode::<HostAnswer>(&encode(&answer)), Some(answer), "{t}");
        }
        let refused = HostAnswer {
            kind: None,
            action: Err("not JSON".into()),
        };
        assert_eq!(decode::<HostAnswer>(&encode(&refused)), Some(refused));
        let own = Action::Viewport { narrow: true };
        assert_eq!(decode::<Action>(&encode(&own)), None);
    }

    #[test]
    fn every_kind_of_value_reads_back_and_bad_bytes_are_refused() {
        let values: Vec<u64> = vec![0, 1, 127, 128, 300, u64::MAX];
        assert_eq!(decode::<Vec<u64>>(&encode(&values)), Some(values));
        let text = "dé-9 ✓".to_string();
        assert_eq!(decode::<String>(&encode(&text)), Some(text));
        let maybe: Option<f64> = Some(-2.5);
        assert_eq!(decode::<Option<f64>>(&encode(&maybe)), Some(maybe));
        let cmd = Command::Partition {
            groups: vec![vec!["db-0-0".into()], vec!["db-0-1".into(), "app-1".into()]],
        };
        assert_eq!(decode::<Command>(&encode(&cmd)), Some(cmd));
        let designs = vec![
            Redesign::Replication(Replication::SemiSync),
            Redesign::TaskMs([1.0, 2.5, 3.0]),
            Redesign::Placement(vec!["us-east".into(), "eu-west".into()]),
            Redesign::DnsTtl(30.0),
        ];
        assert_eq!(decode::<Vec<Redesign>>(&encode(&designs)), Some(designs));
        // Truncated, padded, or lying about a length: refused, never a panic.
        let bytes = encode(&vec![1u64, 2, 3]);
        assert_eq!(decode::<Vec<u64>>(&bytes[..bytes.len() - 1]), None);
        let mut padded = bytes.clone();
        padded.push(0);
        assert_eq!(decode::<Vec<u64>>(&padded), None);
        assert_eq!(decode::<Vec<u64>>(&encode(&u64::MAX)), None);
        assert_eq!(decode::<u8>(&encode(&300u64)), None);
        assert_eq!(decode::<FromCore>(&[9]), None);
        assert_eq!(decode::<Command>(&[200]), None);
    }
}
