//! `REJECT` target: `struct ipt_reject_info` (IPv4) and `struct
//! ip6t_reject_info` (IPv6), both one `u32 with` (8 bytes with padding),
//! numbered differently per family.

use serde::{Deserialize, Serialize};

use super::layout::{xt_align, Reader, Writer};

const SIZE: usize = xt_align(4);

/// `enum ipt_reject_with` names as iptables prints them (index = value;
/// `None` where iptables has no name).
const IPV4_NAMES: [Option<&str>; 9] = [
    Some("icmp-net-unreachable"),
    Some("icmp-host-unreachable"),
    Some("icmp-proto-unreachable"),
    Some("icmp-port-unreachable"),
    None, // IPT_ICMP_ECHOREPLY
    Some("icmp-net-prohibited"),
    Some("icmp-host-prohibited"),
    Some("tcp-reset"),
    Some("icmp-admin-prohibited"),
];

/// `enum ip6t_reject_with` names.
const IPV6_NAMES: [Option<&str>; 9] = [
    Some("icmp6-no-route"),
    Some("icmp6-adm-prohibited"),
    None, // IP6T_ICMP6_NOT_NEIGHBOUR
    Some("icmp6-addr-unreachable"),
    Some("icmp6-port-unreachable"),
    None, // IP6T_ICMP6_ECHOREPLY
    Some("tcp-reset"),
    Some("icmp6-policy-fail"),
    Some("icmp6-reject-route"),
];

/// `-j REJECT --reject-with TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reject {
    /// Whether this is the IPv6 variant (`ip6t_reject_info`).
    pub ipv6: bool,
    /// `ipt_reject_with` / `ip6t_reject_with` value.
    pub with: u32,
}

impl Reject {
    /// `IPT_ICMP_PORT_UNREACHABLE`, iptables' IPv4 default.
    pub const IPV4_PORT_UNREACHABLE: u32 = 3;
    /// `IPT_TCP_RESET`.
    pub const IPV4_TCP_RESET: u32 = 7;
    /// `IP6T_ICMP6_PORT_UNREACH`, ip6tables' default.
    pub const IPV6_PORT_UNREACHABLE: u32 = 4;

    /// Decodes the blob for one family.
    pub fn parse(r: Reader<'_>, ipv6: bool) -> Option<Self> {
        (r.len() == SIZE).then_some(())?;
        Some(Reject {
            ipv6,
            with: r.u32(0)?,
        })
    }

    /// Encodes the blob.
    pub fn emit(&self) -> Vec<u8> {
        Writer::new(SIZE).u32(0, self.with).finish()
    }

    /// The name iptables prints, if it has one.
    pub fn with_name(&self) -> Option<&'static str> {
        let table = if self.ipv6 { &IPV6_NAMES } else { &IPV4_NAMES };
        table.get(self.with as usize).copied().flatten()
    }

    /// libipt_REJECT / libip6t_REJECT `REJECT_save`. iptables prints
    /// `(null)` for values without a name; so do we.
    pub fn save(&self) -> String {
        format!(" --reject-with {}", self.with_name().unwrap_or("(null)"))
    }
}
