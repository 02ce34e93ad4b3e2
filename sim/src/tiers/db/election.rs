//! Elections and leadership: randomised timeouts, pre-votes, terms and majority votes with the up-to-date-log check, stepping down on a higher term or when fenced off.

use super::{DbNode, Role, StepDown, election_delay};
use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{DbResult, LogEntry, Msg, NO_KEY, Timer};
use crate::node::NodeId;
use crate::time::SimTime;

impl DbNode {
    /// Whether a candidate whose log ends with an entry of `last_term` at
    /// `last_index` is at least as up to date as this replica's log: a later
    /// last term wins, and with equal terms the longer log (Raft's rule).
    pub(crate) fn is_up_to_date(&self, last_term: u64, last_index: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// Whether this replica would tell a candidate that it would vote for it
    /// in `term` (a pre-vote, which changes nothing): only with an up-to-date
    /// log, and only if it too has lost touch with a leader for `lease`.
    pub(crate) fn grants_pre_vote(
        &self,
        now: SimTime,
        lease: u64,
        term: u64,
        last_term: u64,
        last_index: u64,
    ) -> bool {
        // Heard from a leader (or voted, or restarted) less than an election
        // timeout ago: a leader may still be serving.
        let leader_alive = self.role == Role::Leader || now.since(self.last_leader_contact) < lease;
        term > self.term && self.is_up_to_date(last_term, last_index) && !leader_alive
    }

    /// Whether this replica, already in `term`, votes for `from`: once per
    /// term, and only for a candidate whose log is up to date.
    pub(crate) fn grants_vote(
        &self,
        from: NodeId,
        term: u64,
        last_term: u64,
        last_index: u64,
    ) -> bool {
        term == self.term
            && self.is_up_to_date(last_term, last_index)
            && self.voted_for.is_none_or(|v| v == from)
    }

    /// Makes this replica leader of `term`. The first leader of a run (term
    /// 1 at time zero) takes office quietly: nothing was elected.
    pub(crate) fn become_leader(&mut self, cx: &mut Cx, term: u64) {
        let initial = cx.now == SimTime::ZERO && term == 1;
        let now = cx.now;
        let d = &mut *self;
        d.role = Role::Leader;
        d.term = term;
        d.leader = Some(d.id);
        d.pre_voting = false;
        let last = d.last_index();
        let n = d.members.len();
        d.next = vec![last + 1; n];
        d.matched = vec![0; n];
        d.matched[d.me] = last;
        d.peer_applied = vec![0; n];
        // The lease starts from the election: each voter stays loyal for an
        // election timeout after the request it granted was sent (the first
        // leader of a run counts from time zero, when every replica started).
        d.last_ack = std::mem::replace(&mut d.vote_anchor, vec![SimTime::ZERO; n]);
        d.last_ack[d.me] = now;
        d.pending.clear();
        // A promoted replica replays everything it has before serving.
        d.apply_to(last);
        if !initial {
            // Its first entry is a no-op of its own term: committing it
            // commits everything before it, and followers holding entries
            // it lacks drop them when it arrives.
            d.log.push(LogEntry {
                term,
                key: NO_KEY,
                appended_at: now.0,
            });
            d.matched[d.me] = last + 1;
            d.apply_to(last + 1);
        }
        let id = d.id;
        if !initial {
            cx.metrics.totals.leader_changes += 1;
            let shard = self.shard as u32;
            cx.log(LogEvent::Elected {
                node: id,
                shard,
                term,
            });
        }
        self.replicate(cx);
        let hb = cx.cfg().db_heartbeat;
        cx.timer(hb, Timer::DbHeartbeat(term));
    }

    /// Steps down to follower (seeing a higher term, or fenced off).
    pub(super) fn step_down(&mut self, cx: &mut Cx, term: u64, why: StepDown) {
        let d = &mut *self;
        let was_leader = d.role == Role::Leader;
        if term > d.term {
            d.term = term;
            d.voted_for = None;
        }
        d.role = Role::Follower;
        d.pre_voting = false;
        if was_leader {
            d.leader = None;
            let pending = std::mem::take(&mut d.pending);
            let id = d.id;
            for p in pending {
                cx.send(
                    p.app,
                    Msg::DbReply {
                        req: p.req,
                        attempt: p.attempt,
                        result: DbResult::NotLeader(None),
                    },
                    0,
                );
            }
            cx.log(match why {
                StepDown::HigherTerm => LogEvent::SteppedDown { node: id, term },
                StepDown::Fenced => LogEvent::Fenced { node: id },
            });
        }
    }

    pub(crate) fn on_election_timer(&mut self, cx: &mut Cx) {
        let now = cx.now;
        let d = &*self;
        let id = d.id;
        if d.role == Role::Leader {
            let after = cx.cfg().election_max;
            self.deadline = now.after(after);
            cx.timer(after, Timer::DbElection);
            return;
        }
        if now < d.deadline {
            let after = d.deadline.since(now);
            cx.timer(after, Timer::DbElection);
            return;
        }
        // Silence for a whole timeout: first ask, without disturbing anyone,
        // whether a majority would vote (pre-vote); only then raise the term.
        let delay = election_delay(cx);
        let d = &mut *self;
        d.deadline = now.after(delay);
        d.pre_voting = true;
        d.votes = 1;
        let (term, last_index, last_term) = (d.term + 1, d.last_index(), d.last_term());
        let peers: Vec<NodeId> = d.members.iter().copied().filter(|&m| m != id).collect();
        cx.timer(delay, Timer::DbElection);
        if self.votes >= self.majority() {
            self.start_election(cx);
            return;
        }
        for p in peers {
            cx.send(
                p,
                Msg::Vote {
                    term,
                    last_index,
                    last_term,
                    pre: true,
                },
                0,
            );
        }
    }

    fn start_election(&mut self, cx: &mut Cx) {
        let d = &mut *self;
        d.pre_voting = false;
        d.term += 1;
        d.role = Role::Candidate;
        d.voted_for = Some(d.id);
        d.leader = None;
        d.votes = 1;
        d.election_started = cx.now;
        d.vote_anchor = vec![SimTime::ZERO; d.members.len()];
        let (id, term, last_index, last_term) = (d.id, d.term, d.last_index(), d.last_term());
        let peers: Vec<NodeId> = d.members.iter().copied().filter(|&m| m != id).collect();
        cx.log(LogEvent::ElectionStarted { node: id, term });
        if self.votes >= self.majority() {
            self.become_leader(cx, term);
            return;
        }
        for p in peers {
            cx.send(
                p,
                Msg::Vote {
                    term,
                    last_index,
                    last_term,
                    pre: false,
                },
                0,
            );
        }
    }

    pub(super) fn on_vote(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        term: u64,
        last_index: u64,
        last_term: u64,
        pre: bool,
    ) {
        let now = cx.now;
        let min = cx.cfg().election_min;
        if pre {
            let granted = self.grants_pre_vote(now, min, term, last_term, last_index);
            cx.send(
                from,
                Msg::VoteReply {
                    term,
                    granted,
                    pre: true,
                },
                0,
            );
            return;
        }
        if term > self.term {
            self.step_down(cx, term, StepDown::HigherTerm);
        }
        let granted = self.grants_vote(from, term, last_term, last_index);
        if granted {
            // Having voted, wait a whole random timeout before standing:
            // voters that all waited the same time would stand together.
            let delay = election_delay(cx);
            self.voted_for = Some(from);
            self.deadline = now.after(delay);
            // Loyal to the candidate for an election timeout: no pre-vote
            // for anyone else until then, so its lease is safe.
            self.last_leader_contact = now;
        }
        let d = &mut *self;
        let my_term = d.term;
        cx.send(
            from,
            Msg::VoteReply {
                term: my_term,
                granted,
                pre: false,
            },
            0,
        );
    }

    pub(super) fn on_vote_reply(
        &mut self,
        cx: &mut Cx,
        from: NodeId,
        term: u64,
        granted: bool,
        pre: bool,
    ) {
        let d = &mut *self;
        if pre {
            if d.pre_voting && term == d.term + 1 && granted {
                d.votes += 1;
                if d.votes >= d.majority() {
                    self.start_election(cx);
                }
            }
            return;
        }
        if term > d.term {
            self.step_down(cx, term, StepDown::HigherTerm);
            return;
        }
        if d.role == Role::Candidate && term == d.term && granted {
            if let Some(i) = d.members.iter().position(|&m| m == from) {
                d.vote_anchor[i] = d.election_started;
            }
            d.votes += 1;
            if d.votes >= d.majority() {
                self.become_leader(cx, term);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::LogEntry;
    use crate::time::MS;

    /// A follower of a three-replica group whose log holds entries of `terms`.
    fn replica(terms: &[u64]) -> DbNode {
        let members = vec![NodeId(0), NodeId(1), NodeId(2)];
        let mut d = DbNode::new(NodeId(0), 0, members, 10);
        for &term in terms {
            d.log.push(LogEntry {
                term,
                key: 1,
                appended_at: 0,
            });
        }
        d.term = terms.last().copied().unwrap_or(0);
        d
    }

    #[test]
    fn a_later_last_term_beats_a_longer_log() {
        let d = replica(&[1, 1, 1, 1]);
        assert!(
            d.is_up_to_date(2, 1),
            "term 2 at index 1 is newer than term 1 at index 4"
        );
        assert!(!d.is_up_to_date(1, 3), "same term, shorter log");
        assert!(d.is_up_to_date(1, 4), "same term, same length");
    }

    #[test]
    fn one_vote_per_term_and_only_for_an_up_to_date_log() {
        let mut d = replica(&[1, 2]);
        d.term = 3;
        assert!(
            !d.grants_vote(NodeId(1), 3, 1, 5),
            "its log ends in an older term"
        );
        assert!(d.grants_vote(NodeId(1), 3, 2, 2));
        d.voted_for = Some(NodeId(1));
        assert!(
            d.grants_vote(NodeId(1), 3, 2, 2),
            "asking again gets the same answer"
        );
        assert!(
            !d.grants_vote(NodeId(2), 3, 2, 9),
            "the vote of term 3 is taken"
        );
        assert!(
            !d.grants_vote(NodeId(2), 2, 2, 9),
            "an old term gets no vote"
        );
    }

    #[test]
    fn a_granted_vote_restarts_the_timer_at_a_random_timeout() {
        use crate::context::testing::Harness;
        let s = crate::scenario::Scenario::default();
        let (lo, hi) = (1000 * MS, 2000 * MS);
        let mut waits = Vec::new();
        for seed in 0..20 {
            let mut h = Harness::new(&s, seed);
            h.now = SimTime(5000 * MS);
            let mut d = replica(&[1]);
            d.term = 1;
            d.on_vote(&mut h.cx(NodeId(0)), NodeId(1), 2, 1, 1, false);
            assert_eq!(d.voted_for, Some(NodeId(1)));
            let wait = d.deadline.since(h.now);
            assert!((lo..=hi).contains(&wait), "waits {wait} µs");
            waits.push(wait);
        }
        waits.sort_unstable();
        waits.dedup();
        assert!(
            waits.len() > 15,
            "voters must not all wait the same time: {waits:?}"
        );
    }

    #[test]
    fn no_pre_vote_while_the_leader_is_heard() {
        let mut d = replica(&[1]);
        d.leader = Some(NodeId(1));
        d.last_leader_contact = SimTime(1000 * MS);
        let lease = 1000 * MS;
        assert!(!d.grants_pre_vote(SimTime(1500 * MS), lease, 2, 1, 1));
        assert!(
            d.grants_pre_vote(SimTime(2500 * MS), lease, 2, 1, 1),
            "silent for a whole lease"
        );
        assert!(
            !d.grants_pre_vote(SimTime(2500 * MS), lease, 1, 1, 1),
            "not a newer term"
        );
        d.role = Role::Leader;
        assert!(
            !d.grants_pre_vote(SimTime(9000 * MS), lease, 5, 1, 1),
            "a leader never helps unseat itself"
        );
    }
}
