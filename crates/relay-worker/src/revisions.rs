//! Which row an edit of a source message becomes. Creates and deletes have one row each
//! (revision 0), so reading them twice (a reconnect, a catch-up) changes nothing: the
//! outbox's idempotency key takes the second as a no-op. Edits can be many, so each gets its
//! own revision — and the same edit read twice must get the same one. When the source says
//! when the message was edited (Telegram's `edit_date`, Discord's `edited_timestamp`), the
//! revision is a digest of that time and the edited content: a replayed edit finds its row
//! taken. Without one, it is the clock (every reading its own row, as before).

use chrono::Utc;

/// Revisions of the edits one router records.
#[derive(Default)]
pub struct Revision {
    last: i64,
}

impl Revision {
    /// The revision of an edit made at `edited_at_ms` (when known) whose payload is `payload`.
    pub fn of_edit(&mut self, edited_at_ms: Option<i64>, payload: &serde_json::Value) -> i64 {
        match edited_at_ms {
            Some(at) => digest(at, payload),
            None => self.next(),
        }
    }

    /// The clock in microseconds, strictly increasing even when two edits are recorded in
    /// the same microsecond (one batch).
    fn next(&mut self) -> i64 {
        self.last = Utc::now().timestamp_micros().max(self.last + 1);
        self.last
    }
}

/// FNV-1a over the edit time and the payload's JSON (serde_json writes a value the same way
/// each time), as a non-negative number so it never meets a create's or delete's 0 by
/// more than chance.
fn digest(edited_at_ms: i64, payload: &serde_json::Value) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let text = payload.to_string();
    let hash = edited_at_ms
        .to_le_bytes()
        .iter()
        .chain(text.as_bytes())
        .fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
        });
    (hash >> 1) as i64 | 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_edit_read_twice_has_one_revision() {
        let mut revisions = Revision::default();
        let edit = json!({ "text": { "text": "fixed typo" } });
        let first = revisions.of_edit(Some(1_700_000_000_000), &edit);
        assert_eq!(first, revisions.of_edit(Some(1_700_000_000_000), &edit));
        assert!(first > 0);
    }

    #[test]
    fn different_edits_have_different_revisions() {
        let mut revisions = Revision::default();
        let at = Some(1_700_000_000_000);
        let a = revisions.of_edit(at, &json!({ "text": { "text": "one" } }));
        let b = revisions.of_edit(at, &json!({ "text": { "text": "two" } }));
        let later = revisions.of_edit(
            Some(1_700_000_001_000),
            &json!({ "text": { "text": "one" } }),
        );
        assert_ne!(
            a, b,
            "two edits within one second (Telegram's resolution) differ by content"
        );
        assert_ne!(a, later, "the same text edited back later is a new edit");
    }

    #[test]
    fn without_an_edit_time_every_reading_is_its_own_row() {
        let mut revisions = Revision::default();
        let edit = json!({ "text": { "text": "same" } });
        let a = revisions.of_edit(None, &edit);
        let b = revisions.of_edit(None, &edit);
        assert!(b > a);
    }
}
