//! The client's address for rate limits. Behind a load balancer every request comes from
//! the balancer, so when the peer is a trusted proxy the client is the right-most address
//! in `X-Forwarded-For` that is not itself a trusted proxy. An untrusted peer's header is
//! ignored: anyone can write one.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&ip.to_canonical()));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let h = headers(&["203.0.113.9, 10.0.0.7"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1"),
            "untrusted peer: header ignored"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &h, &[]),
            ip("10.0.0.2"),
            "no trusted proxies configured"
        );
    }

    #[test]
    fn a_spoofed_left_part_does_not_win() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // The client wrote "1.2.3.4" itself; the proxy appended the real address.
        let h = headers(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.9"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &headers(&["garbage"]), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &headers(&["203.0.113.9"]), &trusted),
            ip("203.0.113.9")
        );
    }
}
