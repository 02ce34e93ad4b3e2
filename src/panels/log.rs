//! The event log, told as a story: repeated events grouped into one line that opens, faults and elections always shown, a filter by kind — and the story of a lost write (acknowledged, then discarded by which failover).

use super::{Dispatch, on_change, on_click};
use crate::action::{Action, LogKind};
use crate::engine::Engine;
use crate::mirror::Mirror;
use pathlab_sim::{LogEntry, LogEvent, RequestId, Version};
use yew::prelude::*;

/// Lines shown besides faults and elections (which are always shown).
const SHOWN: usize = 120;

/// Which lines in a row fold into one: the same kind of repeated event.
fn group_key(e: &LogEvent) -> Option<&'static str> {
    Some(match e {
        LogEvent::LostWrite { .. } => "lost-write",
        LogEvent::RolledBackRead { .. } => "rolled-back-read",
        LogEvent::Conflict { .. } => "conflict",
        LogEvent::Redelivered { .. } => "redelivered",
        LogEvent::Crashed(_) => "crashed",
        LogEvent::Restarted(_) => "restarted",
        LogEvent::Truncated { .. } => "truncated",
        LogEvent::SnapshotInstalled { .. } => "snapshot",
        LogEvent::BackendHealth { .. } => "backend-health",
        _ => return None,
    })
}

/// A line of the log as shown: one event, or a burst of the same event.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// Position of its first entry in the log.
    pub first: usize,
    /// Positions of every entry it stands for (the first included).
    pub members: Vec<usize>,
    /// Its kind.
    pub kind: LogKind,
}

impl Line {
    /// How many entries it stands for.
    pub fn count(&self) -> usize {
        self.members.len()
    }
}

/// How long (µs) after a line's first event a repeat may still join it.
const BURST_US: u64 = 30_000_000;

/// Folds bursts of the same repeated event into lines (oldest first): an
/// event joins the latest line of its kind if that began less than 30 s
/// before and no fault or election came in between.
pub fn lines(log: &[LogEntry]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    // Since the last fault or election: the open line of each group key.
    let mut open: Vec<(&'static str, usize)> = Vec::new();
    for (i, entry) in log.iter().enumerate() {
        let kind = LogKind::of(&entry.event);
        let Some(key) = group_key(&entry.event) else {
            if matches!(kind, LogKind::Faults | LogKind::Elections) {
                open.clear();
            }
            out.push(Line {
                first: i,
                members: vec![i],
                kind,
            });
            continue;
        };
        let joined = open.iter().find(|(k, _)| *k == key).and_then(|&(_, l)| {
            let line = &mut out[l];
            (entry.at.since(log[line.first].at) < BURST_US).then(|| line.members.push(i))
        });
        if joined.is_none() {
            open.retain(|(k, _)| *k != key);
            open.push((key, out.len()));
            out.push(Line {
                first: i,
                members: vec![i],
                kind,
            });
        }
    }
    out
}

/// The lines to show, newest first: every fault and election, and the
/// newest [`SHOWN`] others, of the chosen kind.
pub fn shown(all: &[Line], filter: Option<LogKind>) -> Vec<&Line> {
    let mut others = 0;
    all.iter()
        .rev()
        .filter(|l| filter.is_none_or(|k| l.kind == k))
        .filter(|l| {
            if matches!(l.kind, LogKind::Faults | LogKind::Elections) {
                true
            } else {
                others += 1;
                others <= SHOWN
            }
        })
        .collect()
}

/// What a run of `n` repeated events says, in one line.
fn summary(sim: &Mirror, log: &[LogEntry], line: &Line) -> String {
    let entry = &log[line.first];
    let n = line.count();
    let last = line.members.last().map_or(entry.at, |&m| log[m].at);
    let at = if last.since(entry.at) < 100_000 {
        format!("{:.1} s", entry.at.as_secs_f64())
    } else {
        format!("{:.1}–{:.1} s", entry.at.as_secs_f64(), last.as_secs_f64())
    };
    let names = || {
        line.members
            .iter()
            .filter_map(|&m| match log[m].event {
                LogEvent::Crashed(id) | LogEvent::Restarted(id) => {
                    Some(sim.node_name(id).to_string())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match entry.event {
        LogEvent::LostWrite { .. } => format!("{n} acknowledged writes lost at {at}"),
        LogEvent::RolledBackRead { .. } => {
            format!("{n} reads rolled back at {at}: they returned values that were then discarded")
        }
        LogEvent::Conflict { .. } => {
            format!("{n} concurrent writes overwritten by last-writer-wins from {at}")
        }
        LogEvent::Redelivered { .. } => format!("{n} jobs delivered again from {at}"),
        LogEvent::Crashed(_) => format!("{n} nodes crashed at {at}: {}", names()),
        LogEvent::Restarted(_) => format!("{n} nodes restarted at {at}: {}", names()),
        _ => format!("{n} × {}", sim.describe(entry)),
    }
}

/// The node a line is about, if it is about one.
fn node_of(event: &LogEvent) -> Option<pathlab_sim::NodeId> {
    match *event {
        LogEvent::Crashed(n)
        | LogEvent::Restarted(n)
        | LogEvent::Retired(n)
        | LogEvent::ElectionStarted { node: n, .. }
        | LogEvent::Elected { node: n, .. }
        | LogEvent::SteppedDown { node: n, .. }
        | LogEvent::Fenced { node: n }
        | LogEvent::Truncated { node: n, .. }
        | LogEvent::SnapshotInstalled { node: n, .. }
        | LogEvent::BackendHealth { backend: n, .. }
        | LogEvent::LbTakeover { lb: n, .. }
        | LogEvent::LbYield { lb: n, .. }
        | LogEvent::DnsEdgeHealth { edge: n, .. } => Some(n),
        _ => None,
    }
}

/// One event's line: its time (a link to that moment, selecting the node
/// or opening the request it is about), its words, and a link to its
/// request.
fn entry_view(e: &Engine, d: &Dispatch, entry: &LogEntry) -> Html {
    let text = e.sim.describe(entry);
    let request = entry.event.request().map(|r| r.0);
    let node = node_of(&entry.event).map(|n| e.sim.node_name(n).to_string());
    let at = super::time_link(d, entry.at, request, node);
    match request {
        Some(id) => html! {
            <li class="log-entry linked">
                { at }
                <button type="button" class="link" onclick={on_click(d, Action::OpenRequest { id: Some(id) })}>{ text }</button>
            </li>
        },
        None => html! { <li class="log-entry">{ at }<span>{ text }</span></li> },
    }
}

/// The log panel.
pub fn view(e: &Engine, d: &Dispatch) -> Html {
    let log = e.sim.log();
    // Groups are named by their first line's place in the whole run, which
    // does not move when the log lets its oldest lines go.
    let base = e.sim.log_dropped() as usize;
    let all = lines(log);
    let show = shown(&all, e.log_filter);
    let on_filter = on_change(d, |v| {
        Some(Action::LogFilter {
            kind: LogKind::ALL
                .into_iter()
                .find(|k| crate::panels::serde_name(k) == v),
        })
    });
    html! {
        <section class="panel log" aria-label="Event log">
            <div class="log-head">
                <h2>{ format!("Event log ({})", base + log.len()) }</h2>
                <label class="log-filter">{ "Show " }
                    <select aria-label="Show log lines of" data-testid="log-filter" onchange={on_filter}>
                        <option value="" selected={e.log_filter.is_none()}>{ "everything" }</option>
                        { for LogKind::ALL.iter().map(|k| html! {
                            <option value={crate::panels::serde_name(k)} selected={e.log_filter == Some(*k)}>{ k.label() }</option>
                        }) }
                    </select>
                </label>
            </div>
            <ol data-testid="event-log" reversed=true>
                { for show.into_iter().map(|line| {
                    let entry = &log[line.first];
                    if line.count() == 1 {
                        return entry_view(e, d, entry);
                    }
                    let open = e.log_open.contains(&(base + line.first));
                    html! {
                        <li class={classes!("log-entry", "group", format!("kind-{}", crate::panels::serde_name(&line.kind)))} data-group-count={line.count().to_string()}>
                            { super::time_link(d, entry.at, None, None) }
                            <button type="button" class="link group-toggle" aria-expanded={open.to_string()}
                                    onclick={on_click(d, Action::LogGroup { first: base + line.first, open: !open })}>
                                { format!("{} {}", if open { "▾" } else { "▸" }, summary(&e.sim, log, line)) }
                            </button>
                            if open {
                                <ol class="group-lines">
                                    { for line.members.iter().take(500).map(|&m| entry_view(e, d, &log[m])) }
                                </ol>
                            }
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}

/// The story of a write that was acknowledged and then lost: when, and
/// what discarded it. `None` if request `id` lost no write.
pub fn lost_story(sim: &Mirror, id: RequestId) -> Option<String> {
    let log = sim.log();
    let (i, key, version, acked_at) = log.iter().enumerate().find_map(|(i, e)| match e.event {
        LogEvent::LostWrite {
            request,
            key,
            version,
            acked_at,
        } if request == id => Some((i, key, version, acked_at)),
        _ => None,
    })?;
    let lost_at = log[i].at;
    let when = format!(
        "Write acknowledged at {:.3} s, then lost (found at {:.3} s): ",
        acked_at.as_secs_f64(),
        lost_at.as_secs_f64()
    );
    let before = &log[..i];
    let conflict = log.iter().find(|e| {
        matches!(e.event, LogEvent::Conflict { key: k, overwritten, .. } if k == key && overwritten == version)
    });
    let why = if let Some(c) = conflict {
        format!(
            "at {:.3} s a concurrent write to key {key} from another region won (last writer wins keeps the later stamp), so this value was overwritten and never seen again.",
            c.at.as_secs_f64()
        )
    } else if version == Version::default() {
        let crash = before.iter().rev().find_map(|e| match e.event {
            LogEvent::Crashed(n) if sim.node_name(n).starts_with("cache") => Some((e.at, n)),
            _ => None,
        });
        match crash {
            Some((at, n)) => format!(
                "the write-back cache {} crashed at {:.3} s before writing it to the database.",
                sim.node_name(n),
                at.as_secs_f64()
            ),
            None => "the write-back cache lost it before writing it to the database.".to_string(),
        }
    } else {
        let elected = before.iter().rev().find_map(|e| match e.event {
            LogEvent::Elected { node, shard, term } => Some((e.at, node, shard, term)),
            _ => None,
        });
        match elected {
            Some((at, node, shard, term)) => format!(
                "at {:.3} s {} was elected leader of shard {shard} in term {term} without it; its log replaced the old leader's, discarding this write (version {version}).",
                at.as_secs_f64(),
                sim.node_name(node)
            ),
            None => format!(
                "the leader that took it lost it before a majority had it (version {version})."
            ),
        }
    };
    Some(when + &why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_lost_writes_is_one_line_and_the_partition_and_election_stay_visible() {
        let mut e = Engine::new("partition-leader", Some(1)).unwrap();
        e.run_for(46.0);
        let log = e.sim.log();
        let all = lines(log);
        let lost = all
            .iter()
            .find(|l| matches!(log[l.first].event, LogEvent::LostWrite { .. }))
            .expect("the heal loses writes");
        assert!(
            lost.count() > 100,
            "{} lost writes in one line",
            lost.count()
        );
        let show = shown(&all, None);
        let partition = show.iter().any(|l| matches!(&log[l.first].event, LogEvent::Command(c) if c.to_string().contains("partition")));
        let election = show
            .iter()
            .any(|l| matches!(log[l.first].event, LogEvent::Elected { .. }));
        assert!(partition && election, "faults and elections are shown");
        assert!(show.len() < 200);
        // The filter keeps one kind only.
        let faults = shown(&all, Some(LogKind::Faults));
        assert!(faults.iter().all(|l| l.kind == LogKind::Faults));
    }

    #[test]
    fn a_lost_write_tells_which_election_discarded_it() {
        let mut e = Engine::new("leader-crash", Some(1)).unwrap();
        e.run_for(30.0);
        let sim = &e.sim;
        let id = sim
            .log()
            .iter()
            .find_map(|e| match e.event {
                LogEvent::LostWrite { request, .. } => Some(request),
                _ => None,
            })
            .expect("the preset loses writes");
        let story = lost_story(sim, id).unwrap();
        assert!(story.contains("acknowledged at"), "{story}");
        assert!(story.contains("elected leader"), "{story}");
        assert!(lost_story(sim, RequestId(u64::MAX)).is_none());
    }
}
