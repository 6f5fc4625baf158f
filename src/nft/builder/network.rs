//! `ip saddr|daddr` and `ip6 saddr|daddr`: addresses and prefixes.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::context::{network_dep, Net, Place};
use super::{payload_cmp, payload_masked_cmp, BuildError, Rel};
use crate::nft::expr::PayloadBase;
use crate::nft::Rule;

/// An address with a prefix length (`10.0.0.0/8`, `fe80::/10`, or a
/// single address with the full length). Host bits below the prefix are
/// cleared, as nft clears them (`10.1.2.3/8` is `10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// `addr/len`; fails when `len` exceeds the address width.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, BuildError> {
        let width = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if len > width {
            return Err(BuildError::invalid(
                "address",
                format!("prefix length {len} is longer than the {width} bits of {addr}"),
            ));
        }
        let addr = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Ok(IpPrefix { addr, len })
    }

    /// The (masked) address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn len(&self) -> u8 {
        self.len
    }

    /// Whether this is `/0` (every address).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn octets(&self) -> Vec<u8> {
        match self.addr {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        }
    }

    fn mask(&self) -> Vec<u8> {
        let width = self.octets().len();
        (0..width)
            .map(|i| {
                let bits = (self.len as usize).saturating_sub(i * 8).min(8);
                (0xffu16 << (8 - bits)) as u8
            })
            .collect()
    }
}

impl From<IpAddr> for IpPrefix {
    fn from(addr: IpAddr) -> Self {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        IpPrefix { addr, len }
    }
}

impl From<Ipv4Addr> for IpPrefix {
    fn from(a: Ipv4Addr) -> Self {
        IpAddr::V4(a).into()
    }
}

impl From<Ipv6Addr> for IpPrefix {
    fn from(a: Ipv6Addr) -> Self {
        IpAddr::V6(a).into()
    }
}

impl FromStr for IpPrefix {
    type Err = BuildError;

    /// Parses `ADDR` or `ADDR/LEN`.
    fn from_str(s: &str) -> Result<Self, BuildError> {
        let bad = |d: &str| BuildError::invalid("address", format!("{s:?}: {d}"));
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| bad("not an IPv4 or IPv6 address"))?;
        match len {
            None => Ok(addr.into()),
            Some(l) => {
                let len: u8 = l
                    .parse()
                    .map_err(|_| bad("the prefix length is not a number"))?;
                IpPrefix::new(addr, len)
            }
        }
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Anything an address match accepts: an address, an [`IpPrefix`], a
/// `(address, length)` pair, or text (`"10.0.0.0/8"`, `"::1"`). Text that
/// does not parse is recorded as a [`BuildError::InvalidValue`].
pub trait ToPrefix {
    /// The prefix, or why there is none.
    fn to_prefix(self) -> Result<IpPrefix, BuildError>;
}

impl ToPrefix for IpPrefix {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        Ok(self)
    }
}
impl ToPrefix for IpAddr {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        Ok(self.into())
    }
}
impl ToPrefix for Ipv4Addr {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        Ok(self.into())
    }
}
impl ToPrefix for Ipv6Addr {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        Ok(self.into())
    }
}
impl ToPrefix for (IpAddr, u8) {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        IpPrefix::new(self.0, self.1)
    }
}
impl ToPrefix for (Ipv4Addr, u8) {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        IpPrefix::new(self.0.into(), self.1)
    }
}
impl ToPrefix for (Ipv6Addr, u8) {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        IpPrefix::new(self.0.into(), self.1)
    }
}
impl ToPrefix for &str {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        self.parse()
    }
}
impl ToPrefix for &String {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        self.parse()
    }
}
impl ToPrefix for String {
    fn to_prefix(self) -> Result<IpPrefix, BuildError> {
        self.parse()
    }
}

/// Which address field.
#[derive(Clone, Copy)]
enum Field {
    Saddr,
    Daddr,
}

impl Rule {
    fn addr_match(self, net: Net, field: Field, rel: Rel, p: impl ToPrefix) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        let width = match net {
            Net::V4 => 4u32,
            Net::V6 => 16u32,
        };
        let (what, offset) = match (net, field) {
            (Net::V4, Field::Saddr) => ("ip saddr", 12),
            (Net::V4, Field::Daddr) => ("ip daddr", 16),
            (Net::V6, Field::Saddr) => ("ip6 saddr", 8),
            (Net::V6, Field::Daddr) => ("ip6 daddr", 24),
        };
        // Through `new` again: a deserialized prefix may be unchecked.
        let prefix = match p.to_prefix().and_then(|p| IpPrefix::new(p.addr, p.len)) {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        let bytes = prefix.octets();
        if bytes.len() as u32 != width {
            let other = if width == 4 { "IPv6" } else { "IPv4" };
            return self.fail(BuildError::invalid(
                what,
                format!("{} is an {other} address", prefix.addr),
            ));
        }
        let (rule, ok) = self.with_deps(Place::Here, |r| network_dep(r, what, net));
        if !ok {
            return rule;
        }
        let len = prefix.len as u32;
        if len == width * 8 {
            payload_cmp(rule, PayloadBase::Network, offset, bytes, rel)
        } else if len.is_multiple_of(8) && len > 0 {
            // nft loads only the prefix bytes (`/8` is a 1-byte load).
            let n = (len / 8) as usize;
            payload_cmp(rule, PayloadBase::Network, offset, bytes[..n].to_vec(), rel)
        } else {
            payload_masked_cmp(
                rule,
                PayloadBase::Network,
                offset,
                prefix.mask(),
                bytes,
                rel.cmp_op(),
            )
        }
    }

    /// `ip saddr ADDR[/LEN]`: the IPv4 source address (prefix). Needs an
    /// `inet` or `ip` table; in `inet`, `meta nfproto ipv4` is added first.
    pub fn ip_saddr(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V4, Field::Saddr, Rel::Eq, p)
    }

    /// `ip saddr != ADDR[/LEN]`.
    pub fn ip_saddr_ne(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V4, Field::Saddr, Rel::Neq, p)
    }

    /// `ip daddr ADDR[/LEN]`.
    pub fn ip_daddr(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V4, Field::Daddr, Rel::Eq, p)
    }

    /// `ip daddr != ADDR[/LEN]`.
    pub fn ip_daddr_ne(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V4, Field::Daddr, Rel::Neq, p)
    }

    /// `ip6 saddr ADDR[/LEN]`: the IPv6 source address (prefix). Needs an
    /// `inet` or `ip6` table; in `inet`, `meta nfproto ipv6` is added first.
    pub fn ip6_saddr(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V6, Field::Saddr, Rel::Eq, p)
    }

    /// `ip6 saddr != ADDR[/LEN]`.
    pub fn ip6_saddr_ne(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V6, Field::Saddr, Rel::Neq, p)
    }

    /// `ip6 daddr ADDR[/LEN]`.
    pub fn ip6_daddr(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V6, Field::Daddr, Rel::Eq, p)
    }

    /// `ip6 daddr != ADDR[/LEN]`.
    pub fn ip6_daddr_ne(self, p: impl ToPrefix) -> Rule {
        self.addr_match(Net::V6, Field::Daddr, Rel::Neq, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_and_mask() {
        let p: IpPrefix = "10.1.2.3/8".parse().unwrap();
        assert_eq!(p.to_string(), "10.0.0.0/8");
        let p: IpPrefix = "fe80::1/10".parse().unwrap();
        assert_eq!(p.to_string(), "fe80::/10");
        assert_eq!(p.mask()[..2], [0xff, 0xc0]);
        assert!("10.0.0.0/33".parse::<IpPrefix>().is_err());
        assert!("10.0.0/8".parse::<IpPrefix>().is_err());
        assert!("::/x".parse::<IpPrefix>().is_err());
        assert_eq!(
            "1.2.3.4/0".parse::<IpPrefix>().unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            "1.2.3.4/32".parse::<IpPrefix>().unwrap().to_string(),
            "1.2.3.4/32"
        );
        // A prefix that skipped `new` (deserialized) is checked again.
        let bad: IpPrefix = serde_json::from_str(r#"{"addr":"10.0.0.0","len":40}"#).unwrap();
        let r = Rule::new(crate::nft::Family::Ipv4, "t", "c").ip_saddr(bad);
        assert!(matches!(
            r.build_error(),
            Some(BuildError::InvalidValue { .. })
        ));
        assert_eq!("::1".parse::<IpPrefix>().unwrap().len(), 128);
    }
}
