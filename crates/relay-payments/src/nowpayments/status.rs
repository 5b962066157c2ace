//! NOWPayments payment statuses in order: a status only ever moves forward, so a late or
//! replayed IPN with an earlier status changes nothing. Only `finished` is paid.

/// Where `status` stands; unknown statuses rank lowest (they never overwrite anything).
pub fn rank(status: &str) -> i32 {
    match status {
        "waiting" => 0,
        "confirming" => 1,
        "confirmed" => 2,
        "sending" => 3,
        "partially_paid" => 4,
        "finished" | "failed" | "expired" => 5,
        "refunded" => 6,
        _ => -1,
    }
}

/// Our payment status for a NOWPayments status.
pub fn payment_status(status: &str) -> Option<&'static str> {
    Some(match status {
        "waiting" | "confirming" | "confirmed" | "sending" => "pending",
        "partially_paid" => "partially_paid",
        "finished" => "completed",
        "failed" => "failed",
        "expired" => "expired",
        "refunded" => "refunded",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward_and_only_finished_pays() {
        let arc = [
            "waiting",
            "confirming",
            "confirmed",
            "sending",
            "finished",
            "refunded",
        ];
        assert!(arc.windows(2).all(|w| rank(w[0]) < rank(w[1])));
        assert!(rank("partially_paid") < rank("finished"));
        assert_eq!(rank("bogus"), -1);
        assert_eq!(payment_status("finished"), Some("completed"));
        assert_eq!(payment_status("partially_paid"), Some("partially_paid"));
        assert_eq!(payment_status("bogus"), None);
    }
}
