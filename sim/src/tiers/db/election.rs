//! Elections and leadership: randomised timeouts, pre-votes, terms and majority votes with the up-to-date-log check, stepping down on a higher term or when fenced off.

use super::{DbNode, Role, StepDown, election_delay};
use crate::context::Cx;
use crate::log::LogEvent;
use crate::msg::{DbResult, Msg, Timer};
use crate::node::NodeId;
use crate::time::SimTime;

impl DbNode {
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
        d.last_ack = vec![now; n];
        d.pending.clear();
        // A promoted replica replays everything it has before serving.
        d.apply_to(last);
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
        let d = &*self;
        let up_to_date = (last_term, last_index) >= (d.last_term(), d.last_index());
        if pre {
            // Grant a pre-vote only if we, too, have lost touch with a leader.
            let leader_alive = d.role == Role::Leader
                || (d.leader.is_some() && now.since(d.last_leader_contact) < min);
            let granted = term > d.term && up_to_date && !leader_alive;
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
        if term > d.term {
            self.step_down(cx, term, StepDown::HigherTerm);
        }
        let d = &mut *self;
        let granted = term == d.term && up_to_date && d.voted_for.is_none_or(|v| v == from);
        if granted {
            d.voted_for = Some(from);
            d.deadline = now.after(min);
        }
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

    pub(super) fn on_vote_reply(&mut self, cx: &mut Cx, term: u64, granted: bool, pre: bool) {
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
            d.votes += 1;
            if d.votes >= d.majority() {
                self.become_leader(cx, term);
            }
        }
    }
}
