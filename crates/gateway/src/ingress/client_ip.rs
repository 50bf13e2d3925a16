//! The client's IP: the socket peer, or — only when the peer is a trusted
//! proxy — the first address of `X-Forwarded-For` / `X-Real-IP`.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

/// Resolve the client IP of a request.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer_ip = peer.map(|p| p.ip());
    let from_proxy = peer_ip.is_some_and(|ip| trusted.iter().any(|n| n.contains(&ip)));
    if !from_proxy {
        return peer_ip;
    }
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok());
    let real = headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    forwarded.or(real).or(peer_ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn forwarded_headers_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.2.3.4, 10.0.0.1"),
        );
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(client_ip(Some(peer), &h, &[]), Some(peer.ip()));
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(Some(peer), &h, &trusted),
            Some("1.2.3.4".parse().unwrap())
        );
    }
}
