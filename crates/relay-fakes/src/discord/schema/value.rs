//! Checks of single values against the OpenAPI types Discord's request schemas use:
//! strings with lengths, integers with bounds, booleans, snowflakes, URLs, ISO 8601 times,
//! arrays, and objects whose field names must be known. `null` passes every check (all the
//! fields the fake checks are nullable, except where `required` says otherwise).

use super::Check;
use serde_json::{Map, Value};

/// How a value is shown inside an error message: strings bare, the rest as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Check {
    /// A string of at most `max` characters (and at least `min`).
    pub(crate) fn string<'a>(&mut self, v: &'a Value, min: usize, max: usize) -> Option<&'a str> {
        let s = match v {
            Value::Null => return None,
            Value::String(s) => s,
            other => {
                let text = format!("Could not interpret \"{}\" as string.", shown(other));
                self.fail("STRING_TYPE_CONVERT", text);
                return None;
            }
        };
        let len = s.chars().count();
        if min > 0 && (len < min || len > max) {
            self.fail(
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between {min} and {max} in length."),
            );
        } else if len > max {
            self.fail(
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
        }
        Some(s)
    }

    /// An integer in `min..=max`.
    pub(crate) fn int(&mut self, v: &Value, min: i64, max: i64) -> Option<i64> {
        if v.is_null() {
            return None;
        }
        let Some(n) = v.as_i64() else {
            self.fail(
                "NUMBER_TYPE_COERCE",
                format!("Value \"{}\" is not int.", shown(v)),
            );
            return None;
        };
        if n > max {
            let text = format!("int value should be less than or equal to {max}.");
            self.fail("NUMBER_TYPE_MAX", text);
        } else if n < min {
            let text = format!("int value should be greater than or equal to {min}.");
            self.fail("NUMBER_TYPE_MIN", text);
        }
        Some(n)
    }

    pub(crate) fn boolean(&mut self, v: &Value) -> Option<bool> {
        match v {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            _ => {
                self.fail("BOOLEAN_TYPE_CONVERT", "Must be either true or false.");
                None
            }
        }
    }

    /// A snowflake: a string of digits or (as Discord also takes) a non-negative integer.
    pub(crate) fn snowflake(&mut self, v: &Value) -> Option<u64> {
        let parsed = match v {
            Value::Null => return None,
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            Value::Number(n) => n.as_u64(),
            _ => None,
        };
        if parsed.is_none() {
            let text = format!("Value \"{}\" is not snowflake.", shown(v));
            self.fail("NUMBER_TYPE_COERCE", text);
        }
        parsed
    }

    /// A URL (`format: uri`, at most 2048 characters) with one of `schemes`.
    pub(crate) fn url(&mut self, v: &Value, schemes: &[&str]) -> Option<()> {
        let s = self.string(v, 0, super::spec::URL)?;
        match url_scheme(s) {
            None => self.fail("URL_TYPE_INVALID_URL", "Not a well formed URL."),
            Some(scheme) if !schemes.contains(&scheme.as_str()) => {
                let allowed: Vec<String> = schemes.iter().map(|s| format!("'{s}'")).collect();
                let text = format!(
                    "Scheme \"{scheme}\" is not supported. Scheme must be one of ({}).",
                    allowed.join(", ")
                );
                self.fail("URL_TYPE_INVALID_SCHEME", text);
            }
            Some(_) => {}
        }
        Some(())
    }

    /// An ISO 8601 date and time (`format: date-time`).
    pub(crate) fn timestamp(&mut self, v: &Value) {
        let Some(s) = self.string(v, 0, usize::MAX) else {
            return;
        };
        let parses = chrono::DateTime::parse_from_rfc3339(s).is_ok()
            || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
        if !parses {
            let text = format!("Could not parse {s}. Should be ISO8601.");
            self.fail("DATE_TYPE_PARSE", text);
        }
    }

    /// An array of at most `max` items.
    pub(crate) fn array<'a>(&mut self, v: &'a Value, max: usize) -> Option<&'a Vec<Value>> {
        match v {
            Value::Null => None,
            Value::Array(items) => {
                if items.len() > max {
                    let text = format!("Must be {max} or fewer in length.");
                    self.fail("BASE_TYPE_MAX_LENGTH", text);
                }
                Some(items)
            }
            _ => {
                self.fail(
                    "LIST_TYPE_CONVERT",
                    "Only iterables may be used in a ListType.",
                );
                None
            }
        }
    }

    /// An object whose fields are all in `known` or `ignored` (fields Discord sends in
    /// its answers, which a client may send back and Discord ignores).
    pub(crate) fn object<'a>(
        &mut self,
        v: &'a Value,
        known: &[&str],
        ignored: &[&str],
    ) -> Option<&'a Map<String, Value>> {
        let fields = match v {
            Value::Null => return None,
            Value::Object(fields) => fields,
            _ => {
                self.fail(
                    "MODEL_TYPE_CONVERT",
                    "Only dictionaries may be used in a ModelType",
                );
                return None;
            }
        };
        for key in fields.keys() {
            if !known.contains(&key.as_str()) && !ignored.contains(&key.as_str()) {
                self.at(key, |c| {
                    c.fail(
                        "UNKNOWN_FIELD",
                        "Not a field of this request: Discord would ignore it, the fake refuses it so the mistake shows in tests.",
                    )
                });
            }
        }
        Some(fields)
    }

    /// Checks the field `name` of `obj` with `f`, at the field's path, when it is there.
    pub(crate) fn field<T: Default>(
        &mut self,
        obj: &Map<String, Value>,
        name: &str,
        f: impl FnOnce(&mut Self, &Value) -> T,
    ) -> T {
        match obj.get(name) {
            Some(v) => self.at(name, |c| f(c, v)),
            None => T::default(),
        }
    }

    /// `BASE_TYPE_REQUIRED` at `field` when the object lacks it (or has it `null`).
    pub(crate) fn required(&mut self, fields: &Map<String, Value>, field: &str) -> bool {
        let present = fields.get(field).is_some_and(|v| !v.is_null());
        if !present {
            self.at(field, |c| {
                c.fail("BASE_TYPE_REQUIRED", "This field is required")
            });
        }
        present
    }
}

/// The lowercase scheme of a well-formed absolute URL (`scheme://host…` with a host of
/// letters, digits, dots, dashes or a bracketed IPv6 address, an optional port, and no
/// whitespace), or `None`.
pub(crate) fn url_scheme(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || s.chars().any(char::is_whitespace) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return None;
        }
        let port = after.strip_prefix(':').unwrap_or(after);
        return port
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| scheme.to_ascii_lowercase());
    } else {
        match host_port.split_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            Some(_) => return None,
            None => host_port,
        }
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    host_ok.then(|| scheme.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::url_scheme;

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        for ok in [
            "https://example.com",
            "http://127.0.0.1:8080/a?b=c#d",
            "https://user@t.me/c/1/2",
            "attachment://photo.png",
            "https://[::1]:443/x",
        ] {
            assert!(url_scheme(ok).is_some(), "{ok}");
        }
        for bad in [
            "not a url",
            "example.com",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "https://host:port",
            "://host",
        ] {
            assert!(url_scheme(bad).is_none(), "{bad}");
        }
        assert_eq!(url_scheme("HTTPS://x.y").as_deref(), Some("https"));
    }
}
