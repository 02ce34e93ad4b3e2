//! The event queue: ordered by (time, sequence number), so simultaneous events leave in the order they were scheduled.
//!
//! The heap holds only small keys; the events themselves wait in a slab
//! whose free slots are reused. Moving 16-byte keys instead of whole events
//! makes the heap several times faster.
//!
//! Most timers in the model have a fixed length (every client timeout is
//! four seconds, every health check a second apart), so timers of one
//! length are scheduled in time order. Such events go to a first-in,
//! first-out *lane* per length instead of the heap; `pop` takes the smallest
//! (time, sequence) among the heap's top and the lanes' fronts, so the order
//! is exactly that of a single heap, with a much smaller heap.

use crate::time::SimTime;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Bits of the second key word that hold the slab slot.
const SLOT_BITS: u32 = 24;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

/// A priority queue of events. Ties in time are broken by a sequence number
/// that only grows, which makes the order total and reproducible.
#[derive(Clone, Debug)]
pub struct EventQueue<E> {
    /// (time, sequence << 24 | slot), smallest first.
    heap: BinaryHeap<Reverse<(u64, u64)>>,
    /// (span, keys in order) for events scheduled a fixed span ahead.
    lanes: Vec<(u64, VecDeque<(u64, u64)>)>,
    /// The smallest lane front and its lane, kept up to date on every change.
    lane_min: Option<((u64, u64), usize)>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
}

/// At most this many lanes; other spans go to the heap.
const MAX_LANES: usize = 16;

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(4096),
            lanes: Vec::new(),
            lane_min: None,
            slab: Vec::with_capacity(4096),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: SimTime, event: E) {
        let key = self.store(event);
        self.heap.push(Reverse((at.0, key)));
    }

    /// Schedules `event` a fixed `span` after `now`. Callers must pass a
    /// `now` that never decreases between calls (the simulation clock).
    pub fn push_after(&mut self, now: SimTime, span: u64, event: E) {
        let at = now.0.saturating_add(span);
        let key = self.store(event);
        let lane = match self.lanes.iter().position(|(s, _)| *s == span) {
            Some(i) => Some(i),
            None if self.lanes.len() < MAX_LANES => {
                self.lanes.push((span, VecDeque::new()));
                Some(self.lanes.len() - 1)
            }
            None => None,
        };
        match lane {
            Some(i) if self.lanes[i].1.back().is_none_or(|&(t, _)| t <= at) => {
                self.lanes[i].1.push_back((at, key));
                // Only a lane that was empty gets a new front.
                if self.lanes[i].1.len() == 1 && self.lane_min.is_none_or(|(m, _)| (at, key) < m) {
                    self.lane_min = Some(((at, key), i));
                }
            }
            _ => self.heap.push(Reverse((at, key))),
        }
    }

    /// Puts an event in the slab; returns its key word (sequence and slot).
    fn store(&mut self, event: E) -> u64 {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s as u64
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u64
            }
        };
        debug_assert!(slot <= SLOT_MASK, "more than 16 million events waiting");
        let seq = self.next_seq;
        self.next_seq += 1;
        seq << SLOT_BITS | slot
    }

    /// Where the earliest event is: `None` for the heap, `Some(i)` for lane `i`.
    fn earliest(&self) -> Option<(Option<usize>, (u64, u64))> {
        let heap = self.heap.peek().map(|Reverse(k)| *k);
        match (heap, self.lane_min) {
            (Some(h), Some((l, i))) => Some(if l < h { (Some(i), l) } else { (None, h) }),
            (Some(h), None) => Some((None, h)),
            (None, Some((l, i))) => Some((Some(i), l)),
            (None, None) => None,
        }
    }

    /// Recomputes the smallest lane front after a lane's front changed.
    fn refresh_lane_min(&mut self) {
        self.lane_min = self
            .lanes
            .iter()
            .enumerate()
            .filter_map(|(i, (_, l))| l.front().map(|&k| (k, i)))
            .min();
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.earliest().map(|(_, (at, _))| SimTime(at))
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::NEVER)
    }

    /// Removes and returns the earliest event if it is due at or before `t`.
    pub fn pop_until(&mut self, t: SimTime) -> Option<(SimTime, E)> {
        let (lane, (at, _)) = self.earliest()?;
        if at > t.0 {
            return None;
        }
        let (at, key) = match lane {
            None => self.heap.pop()?.0,
            Some(i) => {
                let k = self.lanes[i].1.pop_front()?;
                self.refresh_lane_min();
                k
            }
        };
        let slot = (key & SLOT_MASK) as u32;
        let event = self.slab[slot as usize].take()?;
        self.free.push(slot);
        Some((SimTime(at), event))
    }

    /// How many events are waiting.
    pub fn len(&self) -> usize {
        self.heap.len() + self.lanes.iter().map(|(_, l)| l.len()).sum::<usize>()
    }

    /// Every waiting event in no particular order (for snapshots; callers sort).
    pub fn iter(&self) -> impl Iterator<Item = (SimTime, &E)> {
        let lanes = self.lanes.iter().flat_map(|(_, l)| l.iter());
        self.heap
            .iter()
            .map(|Reverse(k)| k)
            .chain(lanes)
            .filter_map(|(at, key)| {
                self.slab[(key & SLOT_MASK) as usize]
                    .as_ref()
                    .map(|e| (SimTime(*at), e))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        q.push(SimTime(5), "d");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn slots_are_reused_and_order_survives_reuse() {
        let mut q = EventQueue::default();
        for i in 0..100u64 {
            q.push(SimTime(100 - i), i);
        }
        for _ in 0..50 {
            q.pop();
        }
        for i in 0..50u64 {
            q.push(SimTime(1000 + i), 1000 + i);
        }
        let mut last = SimTime::ZERO;
        let mut n = 0;
        while let Some((t, _)) = q.pop() {
            assert!(t >= last);
            last = t;
            n += 1;
        }
        assert_eq!(n, 100);
        assert!(q.slab.len() <= 100);
    }

    #[test]
    fn lanes_and_heap_interleave_in_exact_order() {
        // The same events pushed through lanes or through the heap alone
        // must come out in the same order.
        let mut a = EventQueue::default();
        let mut b = EventQueue::default();
        let mut now = 0;
        let mut id = 0u32;
        for step in 0..500u64 {
            now += step % 7;
            for span in [0, 3, 10, (step * 13) % 11] {
                a.push_after(SimTime(now), span, id);
                b.push(SimTime(now + span), id);
                id += 1;
            }
            if step % 3 == 0 {
                assert_eq!(a.pop(), b.pop());
            }
        }
        while let Some(x) = b.pop() {
            assert_eq!(a.pop(), Some(x));
        }
        assert_eq!(a.pop(), None);
    }
}
