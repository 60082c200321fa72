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

/// Classifies `ip`. An IPv6 address that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`,
/// IPv4-compatible `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96` and
/// `64:ff9b:1::/48`, 6to4 `2002::/16`) is classified by the IPv4 address it reaches, since that is
/// where a translator or relay would deliver the request; the local-use NAT64 prefix is at least
/// private whatever it embeds.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some((v4, floor)) => strictest(classify_v4(v4), floor),
            None => classify_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 address embeds, with the least restrictive class the prefix itself
/// allows.
fn embedded_v4(ip: Ipv6Addr) -> Option<(Ipv4Addr, AddressClass)> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some((v4, AddressClass::Public));
    }
    match s {
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0] | [0, 0, 0, 0, 0, 0, 0, 1] => None,
        // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1).
        [0, 0, 0, 0, 0, 0, _, _] => Some((low, AddressClass::Public)),
        // IPv4-translated (RFC 2765).
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some((low, AddressClass::Public)),
        // NAT64 well-known prefix (RFC 6052).
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some((low, AddressClass::Public)),
        // NAT64 local-use prefix (RFC 8215): an operator's own translator.
        [0x64, 0xff9b, 1, ..] => Some((low, AddressClass::Private)),
        // 6to4 (RFC 3056): the IPv4 address follows the prefix.
        [0x2002, hi, lo, ..] => Some((
            Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8),
            AddressClass::Public,
        )),
        _ => None,
    }
}

/// The more restrictive of two classes.
fn strictest(a: AddressClass, b: AddressClass) -> AddressClass {
    fn rank(c: AddressClass) -> u8 {
        match c {
            AddressClass::Public => 0,
            AddressClass::Private => 1,
            AddressClass::Loopback => 2,
            AddressClass::LinkLocal => 3,
            AddressClass::Reserved => 4,
        }
    }
    if rank(a) >= rank(b) { a } else { b }
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
        // The 6to4 relay anycast range (RFC 7526).
        || (a == 192 && b == 88 && ip.octets()[2] == 99)
    {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let s = ip.segments();
    let first = s[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        // Unique local, and the deprecated site-local fec0::/10 that some stacks still route.
        AddressClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        // Documentation.
        || (first == 0x2001 && s[1] == 0x0db8)
        || first == 0x3fff && s[1] & 0xf000 == 0
        // Discard-only (RFC 6666).
        || (first == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        // Teredo (its IPv4 addresses are obfuscated), benchmarking, ORCHID.
        || (first == 0x2001 && (s[1] == 0 || s[1] == 2 || (s[1] & 0xfff0) == 0x0010 || (s[1] & 0xfff0) == 0x0020))
        // The rest of ::/8 that no rule above gave a meaning.
        || first == 0
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
    fn ipv6_forms_that_embed_ipv4_are_classified_by_the_ipv4_address() {
        for (addr, class) in [
            ("::127.0.0.1", AddressClass::Loopback),
            ("::ffff:0:7f00:1", AddressClass::Loopback),
            ("::ffff:0:a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b::127.0.0.1", AddressClass::Loopback),
            ("64:ff9b::169.254.169.254", AddressClass::LinkLocal),
            ("64:ff9b::10.0.0.1", AddressClass::Private),
            ("64:ff9b::8.8.8.8", AddressClass::Public),
            ("64:ff9b:1::7f00:1", AddressClass::Loopback),
            ("64:ff9b:1::808:808", AddressClass::Private),
            ("2002:7f00:1::", AddressClass::Loopback),
            ("2002:a9fe:a9fe::1", AddressClass::LinkLocal),
            ("2002:c0a8:101::1", AddressClass::Private),
            ("2002:808:808::1", AddressClass::Public),
            ("fec0::1", AddressClass::Private),
            ("100::1", AddressClass::Reserved),
            ("2001::1", AddressClass::Reserved),
            ("::2", AddressClass::Reserved),
        ] {
            assert_eq!(classify(ip(addr)), class, "{addr}");
        }
        let open = AddressPolicy {
            allow_loopback: true,
            allow_private: true,
        };
        for addr in [
            "::ffff:0:a9fe:a9fe",
            "64:ff9b::169.254.169.254",
            "100::1",
            "2001::1",
        ] {
            assert!(open.check(ip(addr)).is_err(), "{addr}");
        }
        assert!(AddressPolicy::default().check(ip("::127.0.0.1")).is_err());
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
