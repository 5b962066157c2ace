//! Sign-up rules: how an email address is normalised and checked, and the password policy.
//! The API and `relay admin create` apply the same rules.

use std::fmt;

/// An email address, trimmed and lower-cased, checked for a plausible shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The longest address SMTP allows.
const MAX_EMAIL_LEN: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Beyond this a "password" is a payload, not a secret anyone types.
pub const MAX_PASSWORD_CHARS: usize = 1024;

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must be an email address like name@example.com".into());
        };
        let plausible = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible {
            return Err("must be an email address like name@example.com".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a new password against the policy: at least 10 characters, at most 1024, and
/// neither the email address nor its local part.
pub fn check_password(password: &str, email: &Email) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    let lowered = password.trim().to_lowercase();
    if lowered == email.as_str() || lowered == email.local_part() {
        return Err("must not be your email address".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ")
                .expect("valid")
                .as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn the_password_policy_refuses_short_passwords_and_the_email() {
        let email = Email::parse("alice.smith@example.com").expect("valid");
        assert!(check_password("correct horse battery", &email).is_ok());
        assert_eq!(
            check_password("short", &email),
            Err("must be at least 10 characters".into())
        );
        assert!(check_password("ALICE.SMITH@example.com", &email).is_err());
        assert!(check_password("alice.smith", &email).is_err());
        assert!(check_password(&"x".repeat(1025), &email).is_err());
        // Characters, not bytes: ten two-byte characters are enough, nine are not.
        assert!(check_password(&"é".repeat(10), &email).is_ok());
        assert!(check_password(&"é".repeat(9), &email).is_err());
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent_and_never_panics(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                let again = Email::parse(email.as_str()).expect("a parsed email parses again");
                prop_assert_eq!(again, email.clone());
                prop_assert_eq!(email.as_str(), email.as_str().trim().to_lowercase());
            }
        }

        #[test]
        fn any_address_shaped_input_is_accepted(local in "[a-z0-9._+-]{1,20}", domain in "[a-z0-9-]{1,20}\\.[a-z]{2,6}") {
            let input = format!(" {local}@{domain} ");
            prop_assert!(Email::parse(&input).is_ok());
        }
    }
}
