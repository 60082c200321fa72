//! Which IP addresses outbound requests may reach (SSRF defence), checked on the addresses DNS
//! actually returned, so a hostile DNS answer cannot route around it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The class of an address, as far as egress policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Routable on the internet.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 (CGNAT), fc00::/7.
    Private,
    /// 169.254/16 (cloud metadata lives here), fe80::/10.
    LinkLocal,
    /// Unspecified, multicast, broadcast, documentation and other reserved ranges.
    Reserved,
}

/// Classifies `ip`; IPv4-mapped IPv6 addresses are classified as their IPv4 address.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0)
        || (a == 198 && (18..20).contains(&b))
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        AddressClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

/// Which non-public classes the operator allows.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddressPolicy {
    /// Loopback allowed.
    pub allow_loopback: bool,
    /// Private ranges allowed.
    pub allow_private: bool,
}

impl AddressPolicy {
    /// `Err` with the reason when `ip` may not be reached. Link-local (cloud metadata) and
    /// reserved ranges are never allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match classify(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.allow_loopback => Ok(()),
            AddressClass::Private if self.allow_private => Ok(()),
            AddressClass::Loopback => Err(format!(
                "{ip} is a loopback address (egress.allowLoopback is off)"
            )),
            AddressClass::Private => Err(format!(
                "{ip} is a private address (egress.allowPrivate is off)"
            )),
            AddressClass::LinkLocal => Err(format!(
                "{ip} is link-local (cloud metadata range); never allowed"
            )),
            AddressClass::Reserved => Err(format!("{ip} is a reserved address; never allowed")),
        }
    }
}

/// A DNS name resolved only to refused addresses.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to refused addresses: {reasons}")]
pub struct AddressRefused {
    /// The name.
    pub host: String,
    /// Why each address was refused.
    pub reasons: String,
}

/// reqwest DNS resolver that drops refused addresses, and fails when none is left.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    /// The policy applied.
    pub policy: AddressPolicy,
    /// Host names with a fixed address (`egress.resolve`), lowercase; no DNS lookup for them.
    pub fixed: std::sync::Arc<std::collections::BTreeMap<String, SocketAddr>>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let fixed = self.fixed.get(&name.as_str().to_ascii_lowercase()).copied();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = match fixed {
                // The fixed port stands in for the URL's default port (hyper keeps a resolver's
                // port when the URL names none).
                Some(addr) => vec![addr],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let (allowed, refused): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|a| policy.check(a.ip()).is_ok());
            if allowed.is_empty() {
                let reasons = refused
                    .iter()
                    .filter_map(|a| policy.check(a.ip()).err())
                    .collect::<Vec<_>>()
                    .join("; ");
                let reasons = if reasons.is_empty() {
                    "no addresses".to_string()
                } else {
                    reasons
                };
                return Err(Box::new(AddressRefused { host, reasons })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classes() {
        assert_eq!(classify(ip("127.0.0.1")), AddressClass::Loopback);
        assert_eq!(classify(ip("::1")), AddressClass::Loopback);
        assert_eq!(classify(ip("::ffff:127.0.0.1")), AddressClass::Loopback);
        assert_eq!(classify(ip("10.1.2.3")), AddressClass::Private);
        assert_eq!(classify(ip("172.20.0.1")), AddressClass::Private);
        assert_eq!(classify(ip("192.168.1.1")), AddressClass::Private);
        assert_eq!(classify(ip("100.64.0.1")), AddressClass::Private);
        assert_eq!(classify(ip("fd00::1")), AddressClass::Private);
        assert_eq!(classify(ip("169.254.169.254")), AddressClass::LinkLocal);
        assert_eq!(
            classify(ip("::ffff:169.254.169.254")),
            AddressClass::LinkLocal
        );
        assert_eq!(classify(ip("fe80::1")), AddressClass::LinkLocal);
        assert_eq!(classify(ip("0.0.0.0")), AddressClass::Reserved);
        assert_eq!(classify(ip("224.0.0.1")), AddressClass::Reserved);
        assert_eq!(classify(ip("8.8.8.8")), AddressClass::Public);
        assert_eq!(classify(ip("2606:4700::1111")), AddressClass::Public);
    }

    #[test]
    fn policy_never_allows_metadata() {
        let open = AddressPolicy {
            allow_loopback: true,
            allow_private: true,
        };
        assert!(open.check(ip("169.254.169.254")).is_err());
        assert!(open.check(ip("127.0.0.1")).is_ok());
        let closed = AddressPolicy::default();
        assert!(
            closed
                .check(ip("127.0.0.1"))
                .unwrap_err()
                .contains("loopback")
        );
        assert!(
            closed
                .check(ip("10.0.0.1"))
                .unwrap_err()
                .contains("private")
        );
    }
}
