//! Telegram user sessions over MTProto (grammers): the session storage, the login flow,
//! a source (updates, with catch-up from the saved state) and a destination (sends with a
//! stable `random_id`).
//!
//! Relay talks to Telegram's DCs in production. With [`DcOverride`] every DC is one address
//! (the fake DC in tests and the demo) and a new session's auth key is the fake's shared
//! first half plus 128 random bytes of its own, which the fake treats as the device.

mod connection;
pub mod dialogs;
mod download;
mod entities;
mod errors;
mod listener;
pub mod login;
mod recent;
mod session;
mod sink;

pub use connection::Connection;
pub use download::MessageFile;
pub use errors::send_error;
pub use listener::{UserListener, incoming};
pub use login::{LoginError, LoginState, PasswordStep, SignedIn};
pub use session::{UserSession, session_data, session_data_from_keys};
pub use sink::{UserSink, random_id};

use grammers_session::SessionData;
use grammers_session::types::DcOption;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// How Relay reaches Telegram as a user.
#[derive(Clone)]
pub struct MtprotoConfig {
    /// The application id and hash from my.telegram.org.
    pub api_id: i32,
    pub api_hash: String,
    /// Unset in production.
    pub dc: Option<DcOverride>,
}

impl std::fmt::Debug for MtprotoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtprotoConfig")
            .field("api_id", &self.api_id)
            .field("api_hash", &"[redacted]")
            .field("dc", &self.dc.as_ref().map(|d| d.addr))
            .finish()
    }
}

/// Every DC at one address, with auth keys made from a shared first half.
#[derive(Clone)]
pub struct DcOverride {
    pub addr: SocketAddr,
    pub key_half: [u8; 128],
}

/// Parses the 128-byte shared key half from 256 hex digits.
pub fn parse_key_half(hex: &str) -> Result<[u8; 128], String> {
    let hex = hex.trim();
    if hex.len() != 256 {
        return Err(format!(
            "must be 256 hex digits (128 bytes), got {} characters",
            hex.len()
        ));
    }
    let mut out = [0u8; 128];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16)
            .map_err(|_| "must be hex digits only".to_owned())?;
    }
    Ok(out)
}

/// The session a new login starts from.
pub fn fresh_session(config: &MtprotoConfig) -> SessionData {
    let mut data = SessionData::default();
    if let Some(dc) = &config.dc {
        let mut key = [0u8; 256];
        key[..128].copy_from_slice(&dc.key_half);
        fill_random(&mut key[128..]);
        let (ipv4, ipv6) = match dc.addr {
            SocketAddr::V4(v4) => (v4, SocketAddrV6::new(Ipv6Addr::LOCALHOST, v4.port(), 0, 0)),
            SocketAddr::V6(v6) => (SocketAddrV4::new([127, 0, 0, 1].into(), v6.port()), v6),
        };
        for id in 1..=5 {
            data.dc_options.insert(
                id,
                DcOption {
                    id,
                    ipv4,
                    ipv6,
                    auth_key: Some(key),
                },
            );
        }
    }
    data
}

fn fill_random(buf: &mut [u8]) {
    // Without the OS's randomness nothing else in Relay would work either.
    getrandom::fill(buf).unwrap_or_else(|e| panic!("no randomness from the OS: {e}"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_halves_parse_and_refuse_clearly() {
        let hex = "ab".repeat(128);
        assert_eq!(parse_key_half(&hex).expect("parse"), [0xab; 128]);
        assert!(
            parse_key_half("abc")
                .expect_err("short")
                .contains("256 hex digits")
        );
        assert!(
            parse_key_half(&"zz".repeat(128))
                .expect_err("hex")
                .contains("hex")
        );
    }

    #[test]
    fn fresh_sessions_against_a_fake_dc_get_distinct_device_keys() {
        let config = MtprotoConfig {
            api_id: 1,
            api_hash: "h".into(),
            dc: Some(DcOverride {
                addr: "127.0.0.1:4430".parse().expect("addr"),
                key_half: [7; 128],
            }),
        };
        let a = fresh_session(&config);
        let b = fresh_session(&config);
        let key = |d: &SessionData| d.dc_options[&2].auth_key.expect("key");
        assert_eq!(key(&a)[..128], [7; 128]);
        assert_ne!(key(&a)[128..], key(&b)[128..]);
        assert_eq!(a.dc_options[&2].ipv4.port(), 4430);
    }
}
