//! The lane's bookkeeping: order, waiting for a delayed delivery, duplicates, and what a
//! batch gives back.

use super::{LaneMsg, LaneState};
use relay_core::Priority;
use relay_queue::{Entry, Job, StreamKind};

fn entry(delivery_id: i64, stream_id: &str) -> Entry {
    Entry {
        id: stream_id.to_owned(),
        stream: StreamKind::High,
        job: Job {
            delivery_id,
            destination: "dest".into(),
            priority: Priority::High,
            attempt: 0,
        },
    }
}

fn ids(entries: &[Entry]) -> Vec<i64> {
    entries.iter().map(|e| e.job.delivery_id).collect()
}

fn lane_with(delivery_ids: &[i64]) -> LaneState {
    let mut state = LaneState::default();
    for (n, id) in delivery_ids.iter().enumerate() {
        assert!(!state.take(LaneMsg::Entry(entry(*id, &format!("{n}-0")))));
    }
    state
}

#[test]
fn entries_go_out_in_delivery_order_whatever_order_they_arrived_in() {
    let mut state = lane_with(&[7, 3, 9, 1, 5]);
    assert_eq!(ids(&state.next_batch(2)), [1, 3]);
    state.take(LaneMsg::Entry(entry(2, "9-0")));
    assert_eq!(ids(&state.next_batch(10)), [2, 5, 7, 9]);
    assert!(state.next_batch(10).is_empty());
    assert!(state.is_empty());
}

#[test]
fn a_delayed_delivery_holds_back_everything_behind_it_until_it_returns() {
    let mut state = lane_with(&[1, 2, 3]);
    let batch = state.next_batch(10);
    assert_eq!(ids(&batch), [1, 2, 3]);
    // 1 was sent, 2 was delayed: 3 goes back in line behind it.
    state.wait_for(2);
    let unsent = state.end_batch(batch.into_iter().skip(2), |_| true, None);
    assert_eq!(unsent, [3]);
    state.take(LaneMsg::Entry(entry(4, "10-0")));
    assert!(state.next_batch(10).is_empty(), "3 and 4 must wait for 2");
    assert_eq!(state.len(), 2);
    // 2 comes back from the delayed set as a new stream entry: it goes alone, first.
    state.take(LaneMsg::Entry(entry(2, "11-0")));
    let batch = state.next_batch(10);
    assert_eq!(ids(&batch), [2]);
    assert_eq!(batch[0].id, "11-0");
    assert_eq!(ids(&state.next_batch(10)), [3, 4]);
}

#[test]
fn a_lane_taken_over_waits_for_what_its_previous_owner_left_delayed() {
    // The partition's recovery tells the lane before any entry arrives.
    let mut state = LaneState::default();
    state.take(LaneMsg::WaitFor(5));
    state.take(LaneMsg::Entry(entry(6, "1-0")));
    state.take(LaneMsg::Entry(entry(4, "2-0")));
    assert!(state.next_batch(10).is_empty());
    state.take(LaneMsg::Entry(entry(5, "3-0")));
    assert_eq!(ids(&state.next_batch(10)), [5]);
    assert_eq!(ids(&state.next_batch(10)), [4, 6]);
}

#[test]
fn a_second_entry_for_a_held_delivery_replaces_it_and_the_first_is_acknowledged_unsent() {
    let mut state = lane_with(&[1, 2]);
    assert!(state.take(LaneMsg::Entry(entry(2, "5-0"))));
    assert_eq!(state.len(), 2);
    assert_eq!(state.stale().len(), 1);
    assert_eq!(state.stale()[0].id, "1-0");
    state.clear_stale();
    assert!(state.stale().is_empty());
    let batch = state.next_batch(10);
    assert_eq!(ids(&batch), [1, 2]);
    assert_eq!(batch[1].id, "5-0");
}

#[test]
fn a_stalled_batch_gives_back_the_claims_it_holds_and_keeps_its_place() {
    let mut state = lane_with(&[10, 11, 12, 13]);
    let batch = state.next_batch(10);
    let mut rest = batch.into_iter();
    // 10 was sent; 11 stalled (PostgreSQL not answering) and was put back.
    rest.next();
    let stalled = rest.next().expect("a second entry");
    state.put_back(stalled);
    // 13 was not claimed (done already elsewhere): its claim is not given back.
    let unsent = state.end_batch(rest, |id| id != 13, Some(11));
    assert_eq!(unsent, [12, 11]);
    assert_eq!(ids(&state.next_batch(10)), [11, 12, 13]);
}

#[test]
fn an_empty_batch_end_gives_nothing_back() {
    let mut state = lane_with(&[]);
    assert!(
        state
            .end_batch(std::iter::empty(), |_| true, None)
            .is_empty()
    );
    assert!(state.next_batch(5).is_empty());
}
