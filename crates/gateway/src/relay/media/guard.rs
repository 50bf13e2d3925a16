//! Which hosts the media fetcher may reach.
//!
//! Three gates share one [`Guard`]: the URL check before a request (literal-IP
//! hosts never reach a resolver), the redirect policy (each hop's target is
//! checked again and the chain is bounded), and [`PublicResolver`], the DNS
//! resolver of the fetcher's client, which drops every non-public address so
//! a name that re-resolves to an internal host (DNS rebinding) has nowhere to
//! connect. The client connects only to addresses the resolver returned.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use thiserror::Error;

/// Most redirects followed for one fetch.
pub const MAX_REDIRECTS: usize = 3;

/// Why the guard refused a URL. Travels through reqwest as the source of its
/// error and is recovered by the fetcher to render the client's message.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum GuardError {
    /// The host is, or resolves only to, a non-public address.
    #[error("{host} resolves to a private address")]
    Private {
        /// The host name or address.
        host: String,
    },
    /// The name did not resolve at all.
    #[error("{host} does not resolve: {reason}")]
    Unresolved {
        /// The host name.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// The URL is not http(s) or has no host.
    #[error("{0} is not an http(s) URL with a host")]
    NotHttp(String),
    /// The redirect chain is longer than [`MAX_REDIRECTS`].
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
}

/// The address policy: public addresses only, unless private ones are
/// explicitly allowed (trusted deployments fetching from an intranet).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow_private: bool,
    /// One address treated as public, so real-socket tests can serve from
    /// loopback while everything else is guarded as in production.
    #[cfg(test)]
    pub(super) exempt: Option<IpAddr>,
}

impl Guard {
    /// A guard; `allow_private` turns every address check off.
    pub fn new(allow_private: bool) -> Self {
        Self {
            allow_private,
            #[cfg(test)]
            exempt: None,
        }
    }

    /// Whether the fetcher may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        #[cfg(test)]
        if self.exempt == Some(ip) {
            return true;
        }
        self.allow_private || is_public(ip)
    }

    /// Check a URL before it is requested: http(s), a host, and a literal-IP
    /// host must be permitted (names are checked by [`PublicResolver`]).
    pub fn check_url(&self, url: &Url) -> Result<(), GuardError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(GuardError::NotHttp(url.to_string()));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| GuardError::NotHttp(url.to_string()))?;
        match literal_ip(host) {
            Some(ip) if !self.permits(ip) => Err(GuardError::Private {
                host: host.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// The redirect decision: `previous` URLs were already requested (the
    /// first is the original URL, not a redirect); `next` must pass
    /// [`Guard::check_url`].
    pub fn check_redirect(&self, next: &Url, previous: usize) -> Result<(), GuardError> {
        if previous > MAX_REDIRECTS {
            return Err(GuardError::TooManyRedirects);
        }
        self.check_url(next)
    }

    /// The reqwest redirect policy enforcing [`Guard::check_redirect`].
    pub fn redirect_policy(&self) -> reqwest::redirect::Policy {
        let guard = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            match guard.check_redirect(attempt.url(), attempt.previous().len()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(e),
            }
        })
    }

    /// Keep the permitted addresses of a resolution of `host`.
    pub fn filter(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, GuardError> {
        let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| self.permits(a.ip())).collect();
        if kept.is_empty() {
            return Err(GuardError::Private {
                host: host.to_owned(),
            });
        }
        Ok(kept)
    }
}

/// The host as an IP address, if it is a literal (IPv6 in brackets).
fn literal_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// A DNS resolver (tokio's, i.e. the system's) that returns only addresses
/// the [`Guard`] permits, failing when none is left.
#[derive(Debug, Clone)]
pub struct PublicResolver {
    guard: Guard,
}

impl PublicResolver {
    /// A resolver enforcing `guard`.
    pub fn new(guard: Guard) -> Self {
        Self { guard }
    }

    /// Resolve `host` and keep the permitted addresses (port 0: the client
    /// puts the URL's port in).
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>, GuardError> {
        let found =
            tokio::net::lookup_host((host, 0))
                .await
                .map_err(|e| GuardError::Unresolved {
                    host: host.to_owned(),
                    reason: e.to_string(),
                })?;
        self.guard.filter(host, found)
    }
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let addrs = this.lookup(name.as_str()).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, shared
/// (CGNAT), link-local, unique-local, unspecified, broadcast, multicast,
/// documentation, benchmarking or reserved. IPv6 forms that embed an IPv4
/// address (mapped, compatible, NAT64, 6to4) are judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv4 blocks that are never public: (network, prefix length).
const V4_BLOCKED: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // shared address space (CGNAT)
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation (TEST-NET-1)
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast (deprecated)
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation (TEST-NET-2)
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation (TEST-NET-3)
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

/// IPv6 blocks inside global unicast (2000::/3) that are not public.
const V6_BLOCKED: [(Ipv6Addr, u8); 4] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32), // Teredo
    (Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0), 48), // benchmarking
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = ip.to_bits();
    !V4_BLOCKED
        .iter()
        .any(|(net, len)| prefix_match_v4(bits, net.to_bits(), *len))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let bits = ip.to_bits();
    // Only 2000::/3 is allocated global unicast; the rest is loopback,
    // unspecified, IPv4-compatible, discard, unique-local (fc00::/7),
    // link-local (fe80::/10), site-local, multicast (ff00::/8) or reserved.
    if !prefix_match_v6(
        bits,
        Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0).to_bits(),
        3,
    ) {
        return false;
    }
    !V6_BLOCKED
        .iter()
        .any(|(net, len)| prefix_match_v6(bits, net.to_bits(), *len))
}

/// The IPv4 address inside an IPv4-mapped (::ffff:0:0/96), NAT64
/// (64:ff9b::/96) or 6to4 (2002::/16) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = ip.to_bits();
    let low = Ipv4Addr::from_bits(bits as u32);
    let mapped = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0).to_bits();
    let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0).to_bits();
    if prefix_match_v6(bits, mapped, 96) || prefix_match_v6(bits, nat64, 96) {
        return Some(low);
    }
    let six_to_four = Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0).to_bits();
    if prefix_match_v6(bits, six_to_four, 16) {
        return Some(Ipv4Addr::from_bits((bits >> 80) as u32));
    }
    None
}

fn prefix_match_v4(bits: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_match_v6(bits: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn v4_classification() {
        let blocked = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ];
        for s in blocked {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ];
        for s in public {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn v6_classification() {
        let blocked = [
            "::",
            "::1",
            "::127.0.0.1",
            "100::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "2001::1",
            "2001:2::1",
            "3fff::1",
            "64:ff9b:1::1",
        ];
        for s in blocked {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        let public = [
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450::1",
        ];
        for s in public {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn embedded_v4_is_judged_by_the_v4_address() {
        let blocked = [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "::ffff:255.255.255.255",
            "::ffff:224.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
        ];
        for s in blocked {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        let public = ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"];
        for s in public {
            assert!(is_public(ip(s)), "{s} must be allowed");
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn literal_ip_urls_are_checked() {
        let guard = Guard::new(false);
        for s in [
            "http://127.0.0.1/x.png",
            "http://127.0.0.1:8080/x.png",
            "https://[::1]/x.png",
            "http://[::ffff:127.0.0.1]/x.png",
            "http://[::ffff:a9fe:a9fe]/latest/meta-data",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.1.2.3/a",
            "http://[fd00::1]/a",
            "http://[fe80::1]/a",
            "http://0.0.0.0/a",
            // WHATWG host parsing turns these into 127.0.0.1.
            "http://2130706433/a",
            "http://0x7f.1/a",
            "http://127.1/a",
        ] {
            assert!(
                matches!(guard.check_url(&url(s)), Err(GuardError::Private { .. })),
                "{s} must be refused"
            );
        }
        for s in [
            "http://8.8.8.8/a.png",
            "https://[2606:4700:4700::1111]/a",
            "https://example.com/a.png",
            "http://localhost/a.png", // a name: the resolver decides
        ] {
            assert_eq!(guard.check_url(&url(s)), Ok(()), "{s}");
        }
        assert!(matches!(
            guard.check_url(&url("ftp://example.com/a")),
            Err(GuardError::NotHttp(_))
        ));
        let open = Guard::new(true);
        assert_eq!(open.check_url(&url("http://127.0.0.1/x.png")), Ok(()));
    }

    #[test]
    fn redirect_decisions() {
        let guard = Guard::new(false);
        let public = url("https://cdn.example.com/a.png");
        assert_eq!(guard.check_redirect(&public, 1), Ok(()));
        assert_eq!(guard.check_redirect(&public, MAX_REDIRECTS), Ok(()));
        assert_eq!(
            guard.check_redirect(&public, MAX_REDIRECTS + 1),
            Err(GuardError::TooManyRedirects)
        );
        for target in [
            "http://127.0.0.1/a.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:10.0.0.1]/a",
        ] {
            assert!(matches!(
                guard.check_redirect(&url(target), 1),
                Err(GuardError::Private { .. })
            ));
        }
        assert!(matches!(
            guard.check_redirect(&url("file:///etc/passwd"), 1),
            Err(GuardError::NotHttp(_))
        ));
    }

    #[test]
    fn filter_drops_private_addresses() {
        let guard = Guard::new(false);
        let addrs: Vec<SocketAddr> = vec![
            "127.0.0.1:0".parse().unwrap(),
            "8.8.8.8:0".parse().unwrap(),
            "[::1]:0".parse().unwrap(),
        ];
        assert_eq!(
            guard.filter("h", addrs.clone()).unwrap(),
            vec!["8.8.8.8:0".parse::<SocketAddr>().unwrap()]
        );
        assert!(matches!(
            guard.filter("h", addrs[..1].to_vec()),
            Err(GuardError::Private { .. })
        ));
        assert_eq!(Guard::new(true).filter("h", addrs.clone()).unwrap(), addrs);
    }

    #[tokio::test]
    async fn resolver_refuses_localhost() {
        let resolver = PublicResolver::new(Guard::new(false));
        assert!(resolver.lookup("localhost").await.is_err());
        let open = PublicResolver::new(Guard::new(true));
        assert!(!open.lookup("localhost").await.unwrap().is_empty());
    }
}
