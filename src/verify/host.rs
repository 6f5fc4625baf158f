//! What the evaluator needs to know about the host beyond the ruleset:
//! its interfaces and their addresses (for `fib daddr type local`,
//! `fib saddr . iif oif`, and the routing decision between prerouting and
//! input/forward).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::packet::ip_octets;

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostAddress {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length of the connected network.
    pub prefix: u8,
}

/// One interface of the host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostInterface {
    /// Name.
    pub name: String,
    /// Index.
    pub index: u32,
    /// Addresses.
    pub addresses: Vec<HostAddress>,
}

/// A route beyond the connected networks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostRoute {
    /// Destination network.
    pub dest: IpAddr,
    /// Prefix length (0 for a default route).
    pub prefix: u8,
    /// Output interface index.
    pub oif: u32,
}

/// The host facts the evaluator may consult. Facts it lacks make the
/// expressions that need them undecidable, never guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostFacts {
    /// Interfaces and their addresses. Empty: nothing is known.
    pub interfaces: Vec<HostInterface>,
    /// Routes besides the connected networks of `interfaces`.
    pub routes: Vec<HostRoute>,
    /// Whether `interfaces` and `routes` are the complete main routing
    /// table (then an address no route covers is unreachable).
    pub routes_complete: bool,
}

/// An `RTN_*` address type, as `fib … type` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrType {
    /// `RTN_UNICAST` (1).
    Unicast = 1,
    /// `RTN_LOCAL` (2).
    Local = 2,
    /// `RTN_BROADCAST` (3).
    Broadcast = 3,
    /// `RTN_MULTICAST` (5).
    Multicast = 5,
    /// `RTN_UNREACHABLE` (7).
    Unreachable = 7,
}

impl HostFacts {
    /// No facts.
    pub fn none() -> Self {
        Self::default()
    }

    /// The interface with index `index`.
    pub fn interface(&self, index: u32) -> Option<&HostInterface> {
        self.interfaces.iter().find(|i| i.index == index)
    }

    /// Whether `addr` is an address of this host: `Some(true)` when an
    /// interface carries it (or it lies in a loopback network),
    /// `None` when no interfaces are known.
    pub fn is_local(&self, addr: &IpAddr) -> Option<bool> {
        if self.interfaces.is_empty() {
            return None;
        }
        Some(self.local_on(addr, None))
    }

    /// Whether `addr` is local, restricted to interface `only` if given.
    pub fn local_on(&self, addr: &IpAddr, only: Option<u32>) -> bool {
        self.interfaces
            .iter()
            .filter(|i| only.is_none_or(|o| o == i.index))
            .any(|i| {
                i.addresses.iter().any(|a| {
                    a.addr == *addr
                        // The whole loopback network is local (the kernel's
                        // `local 127.0.0.0/8 dev lo` route).
                        || (i.name == "lo" && a.addr.is_loopback() && in_prefix(addr, &a.addr, a.prefix))
                })
            })
    }

    /// The address type of `addr` (restricted to interface `only` if
    /// given), or None when the facts do not decide it.
    pub fn addr_type(&self, addr: &IpAddr, only: Option<u32>) -> Option<AddrType> {
        if addr.is_multicast() {
            return Some(AddrType::Multicast);
        }
        if let IpAddr::V4(a) = addr {
            if a.is_broadcast() {
                return Some(AddrType::Broadcast);
            }
        }
        if self.interfaces.is_empty() {
            return None;
        }
        if self.local_on(addr, only) {
            return Some(AddrType::Local);
        }
        if addr.is_ipv4() {
            // The broadcast address of a connected IPv4 network.
            let bcast = self.interfaces.iter().any(|i| {
                i.addresses.iter().any(|a| {
                    a.prefix < 31
                        && in_prefix(addr, &a.addr, a.prefix)
                        && host_bits_all_ones(addr, a.prefix)
                })
            });
            if bcast {
                return Some(AddrType::Broadcast);
            }
        }
        match self.route(addr) {
            Some(_) => Some(AddrType::Unicast),
            None if self.routes_complete => Some(AddrType::Unreachable),
            None => None,
        }
    }

    /// The output interface index for `addr` (longest prefix match over
    /// connected networks and routes).
    pub fn route(&self, addr: &IpAddr) -> Option<u32> {
        let mut best: Option<(u8, u32)> = None;
        let mut consider = |prefix: u8, oif: u32| {
            if best.is_none_or(|(p, _)| prefix > p) {
                best = Some((prefix, oif));
            }
        };
        for i in &self.interfaces {
            for a in &i.addresses {
                if in_prefix(addr, &a.addr, a.prefix) {
                    consider(a.prefix, i.index);
                }
            }
        }
        for r in &self.routes {
            if in_prefix(addr, &r.dest, r.prefix) {
                consider(r.prefix, r.oif);
            }
        }
        best.map(|(_, oif)| oif)
    }
}

/// Whether `addr` lies in `net/prefix` (same family).
pub fn in_prefix(addr: &IpAddr, net: &IpAddr, prefix: u8) -> bool {
    let (a, n) = (ip_octets(addr), ip_octets(net));
    if a.len() != n.len() || prefix as usize > a.len() * 8 {
        return false;
    }
    let full = prefix as usize / 8;
    if a[..full] != n[..full] {
        return false;
    }
    let rest = prefix % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == n[full] & mask
}

fn host_bits_all_ones(addr: &IpAddr, prefix: u8) -> bool {
    let a = ip_octets(addr);
    (prefix as usize..a.len() * 8).all(|bit| a[bit / 8] & (0x80 >> (bit % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            interfaces: vec![
                HostInterface {
                    name: "lo".into(),
                    index: 1,
                    addresses: vec![HostAddress {
                        addr: "127.0.0.1".parse().unwrap(),
                        prefix: 8,
                    }],
                },
                HostInterface {
                    name: "eth0".into(),
                    index: 2,
                    addresses: vec![HostAddress {
                        addr: "192.0.2.10".parse().unwrap(),
                        prefix: 24,
                    }],
                },
            ],
            routes: vec![],
            routes_complete: true,
        }
    }

    #[test]
    fn address_types() {
        let f = facts();
        let t = |a: &str| f.addr_type(&a.parse().unwrap(), None);
        assert_eq!(t("192.0.2.10"), Some(AddrType::Local));
        assert_eq!(t("127.3.4.5"), Some(AddrType::Local));
        assert_eq!(t("192.0.2.255"), Some(AddrType::Broadcast));
        assert_eq!(t("192.0.2.11"), Some(AddrType::Unicast));
        assert_eq!(t("198.51.100.1"), Some(AddrType::Unreachable));
        assert_eq!(t("224.0.0.1"), Some(AddrType::Multicast));
        assert_eq!(
            f.addr_type(&"192.0.2.10".parse().unwrap(), Some(1)),
            Some(AddrType::Unicast)
        );
        assert_eq!(
            HostFacts::none().addr_type(&"10.0.0.1".parse().unwrap(), None),
            None
        );
    }
}
