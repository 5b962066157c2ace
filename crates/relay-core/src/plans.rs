//! What a plan sells, by name: the limits (`max_accounts`, `max_pairs`, …) and the features
//! (`edits`, `filters`, `regex`, …) the API refuses without and the runtime applies only
//! with. Plans are rows (seeded Free, Pro, Elite; editable); these names are the contract.

/// Every feature a plan can switch on, with what it unlocks.
pub const FEATURES: [(&str, &str); 11] = [
    ("edits", "edits at the source are applied to the copies"),
    ("deletes", "deletions at the source delete the copies"),
    ("replies", "replies point at the forwarded counterpart"),
    (
        "filters",
        "pair filters (keywords, senders, kinds, length, …)",
    ),
    ("regex", "regular expressions in filters and replacements"),
    (
        "transforms",
        "pair transformations (replace, remove, header, footer, …)",
    ),
    ("delay", "delays and forwarding hours"),
    ("backfill", "copying a source's history"),
    (
        "webhook_identity",
        "webhook copies show the author's name and avatar",
    ),
    ("customer_webhooks", "Relay calls your URL on events"),
    (
        "analytics_history_days",
        "how many days of analytics are kept (a number)",
    ),
];

/// Whether `name` is a feature a plan can have.
pub fn is_feature(name: &str) -> bool {
    FEATURES.iter().any(|(f, _)| *f == name)
}

/// Whether a plan's `features` object switches `name` on (`true`, or a number above 0).
pub fn has_feature(features: &serde_json::Value, name: &str) -> bool {
    match features.get(name) {
        Some(serde_json::Value::Bool(on)) => *on,
        Some(serde_json::Value::Number(n)) => n.as_f64().is_some_and(|n| n > 0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn features_are_on_when_true_or_positive() {
        let features =
            json!({"edits": true, "regex": false, "analytics_history_days": 30, "backfill": 0});
        assert!(has_feature(&features, "edits"));
        assert!(!has_feature(&features, "regex"));
        assert!(has_feature(&features, "analytics_history_days"));
        assert!(!has_feature(&features, "backfill"));
        assert!(!has_feature(&features, "delay"), "absent is off");
        assert!(is_feature("customer_webhooks") && !is_feature("teleport"));
    }
}
