//! Key names. Every key starts with a configurable prefix, so tests (and several Relay
//! installations) can share one Redis without seeing each other's keys.

use std::fmt;

/// The prefix all of Relay's keys live under, such as `relay` or `test-5f2c`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// A prefix may hold letters, digits, `-`, `_`, `.` and `:`; at most 64 characters.
    pub fn parse(prefix: &str) -> Result<Self, String> {
        let ok = (1..=64).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(Self(prefix.to_owned()))
        } else {
            Err(format!(
                "'{prefix}' must be 1 to 64 letters, digits, '-', '_', '.' or ':'"
            ))
        }
    }

    /// `prefix:part1:part2…`
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = self.0.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_joined_under_the_prefix() {
        let prefix = KeyPrefix::parse("relay").expect("valid");
        assert_eq!(prefix.key(&["workers", "w1"]), "relay:workers:w1");
        assert!(KeyPrefix::parse("").is_err());
        assert!(KeyPrefix::parse("has space").is_err());
        assert!(KeyPrefix::parse(&"x".repeat(65)).is_err());
    }
}
