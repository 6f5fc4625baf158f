//! Address families (`NFPROTO_*`) of tables.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The family of a table, as nft names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `NFPROTO_UNSPEC` (0): all families, only in requests.
    Unspec,
    /// `inet` (1): IPv4 and IPv6.
    Inet,
    /// `ip` (2).
    #[serde(rename = "ip")]
    Ipv4,
    /// `arp` (3).
    Arp,
    /// `netdev` (5).
    Netdev,
    /// `bridge` (7).
    Bridge,
    /// `ip6` (10).
    #[serde(rename = "ip6")]
    Ipv6,
    /// A family number nftguard does not name.
    Other(u8),
}

impl Family {
    /// The `NFPROTO_*` number.
    pub fn number(self) -> u8 {
        match self {
            Family::Unspec => 0,
            Family::Inet => 1,
            Family::Ipv4 => 2,
            Family::Arp => 3,
            Family::Netdev => 5,
            Family::Bridge => 7,
            Family::Ipv6 => 10,
            Family::Other(n) => n,
        }
    }

    /// The family for an `NFPROTO_*` number.
    pub fn from_number(n: u8) -> Self {
        match n {
            0 => Family::Unspec,
            1 => Family::Inet,
            2 => Family::Ipv4,
            3 => Family::Arp,
            5 => Family::Netdev,
            7 => Family::Bridge,
            10 => Family::Ipv6,
            n => Family::Other(n),
        }
    }

    /// The name nft uses (`ip`, `ip6`, `inet`, …).
    pub fn name(self) -> String {
        match self {
            Family::Unspec => "unspec".into(),
            Family::Inet => "inet".into(),
            Family::Ipv4 => "ip".into(),
            Family::Arp => "arp".into(),
            Family::Netdev => "netdev".into(),
            Family::Bridge => "bridge".into(),
            Family::Ipv6 => "ip6".into(),
            Family::Other(n) => format!("family-{n}"),
        }
    }

    /// Parses an nft family name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "inet" => Family::Inet,
            "ip" => Family::Ipv4,
            "ip6" => Family::Ipv6,
            "arp" => Family::Arp,
            "netdev" => Family::Netdev,
            "bridge" => Family::Bridge,
            _ => return None,
        })
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
