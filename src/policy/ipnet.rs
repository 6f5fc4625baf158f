//! An IPv4 or IPv6 network (address + prefix length), parsed strictly.
//!
//! A small type of our own instead of the `ipnet` crate: we need only parsing,
//! containment of host bits, ordering and display, and we want the error to
//! say *which* part is wrong. Address syntax is the standard library's
//! (`Ipv4Addr` rejects `10.0.0.300` and octal-looking `010.0.0.1`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP network in canonical form: no bits set after the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

/// Why a string is not an [`IpNet`]; its `Display` is the explanation used in
/// policy error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpNetError {
    /// The part before `/` is not an IPv4 or IPv6 address.
    BadAddress(String),
    /// The part after `/` is not a decimal number.
    BadPrefix(String),
    /// The prefix length is over 32 (IPv4) or 128 (IPv6).
    PrefixTooLong {
        /// The prefix length written.
        prefix_len: u32,
        /// 32 or 128.
        max: u8,
    },
    /// Bits are set after the prefix (`10.0.0.5/24`).
    HostBitsSet {
        /// The network the author probably meant (`10.0.0.0/24`).
        network: IpNet,
        /// The single host the author may have meant (`10.0.0.5/32`).
        host: IpNet,
    },
}

impl fmt::Display for IpNetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpNetError::BadAddress(addr) => {
                write!(f, "'{addr}' is not an IPv4 or IPv6 address")
            }
            IpNetError::BadPrefix(prefix) => {
                write!(f, "prefix length '{prefix}' is not a decimal number")
            }
            IpNetError::PrefixTooLong { prefix_len, max } => {
                let family = if *max == 32 { "IPv4" } else { "IPv6" };
                write!(f, "prefix length {prefix_len} is over {max}, the maximum for {family}")
            }
            IpNetError::HostBitsSet { network, host } => write!(
                f,
                "host bits are set after the prefix (did you mean '{network}' for the network or '{host}' for one host?)"
            ),
        }
    }
}

impl IpNet {
    /// A network from an address and prefix length; fails if the prefix is
    /// too long or host bits are set.
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<IpNet, IpNetError> {
        let max = max_prefix(addr);
        if prefix_len > max {
            return Err(IpNetError::PrefixTooLong {
                prefix_len: u32::from(prefix_len),
                max,
            });
        }
        let net = IpNet { addr, prefix_len };
        let network = net.truncated();
        if network.addr != addr {
            return Err(IpNetError::HostBitsSet {
                network,
                host: IpNet {
                    addr,
                    prefix_len: max,
                },
            });
        }
        Ok(net)
    }

    /// Parses `ADDR/LEN` or a bare `ADDR` (a single host: /32 or /128).
    /// Host bits set after the prefix are an error, never silently cleared:
    /// `10.0.0.5/24` may mean the network or the host, and guessing wrong
    /// opens or closes the wrong addresses.
    pub fn parse(text: &str) -> Result<IpNet, IpNetError> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| IpNetError::BadAddress(addr_text.to_string()))?;
        let max = max_prefix(addr);
        let prefix_len = match prefix_text {
            None => max,
            Some(prefix) => {
                let canonical = !prefix.is_empty()
                    && prefix.len() <= 3
                    && prefix.bytes().all(|b| b.is_ascii_digit())
                    && (prefix == "0" || !prefix.starts_with('0'));
                let value: u32 = prefix
                    .parse()
                    .ok()
                    .filter(|_| canonical)
                    .ok_or_else(|| IpNetError::BadPrefix(prefix.to_string()))?;
                u8::try_from(value).ok().filter(|len| *len <= max).ok_or(
                    IpNetError::PrefixTooLong {
                        prefix_len: value,
                        max,
                    },
                )?
            }
        };
        IpNet::new(addr, prefix_len)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// True for IPv4 networks.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether `addr` lies inside this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                u32::from(net) == u32::from(a) & mask_v4(self.prefix_len)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                u128::from(net) == u128::from(a) & mask_v6(self.prefix_len)
            }
            _ => false,
        }
    }

    fn truncated(&self) -> IpNet {
        let addr = match self.addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(self.prefix_len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(self.prefix_len))),
        };
        IpNet {
            addr,
            prefix_len: self.prefix_len,
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

fn mask_v4(prefix_len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(prefix_len.min(32)))
        .unwrap_or(0)
}

fn mask_v6(prefix_len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(prefix_len.min(128)))
        .unwrap_or(0)
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl serde::Serialize for IpNet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_networks_and_hosts() {
        assert_eq!(
            IpNet::parse("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            IpNet::parse("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(IpNet::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(
            IpNet::parse("2001:DB8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(IpNet::parse("::1").unwrap().to_string(), "::1/128");
        assert!(IpNet::parse("10.0.0.0/8")
            .unwrap()
            .contains("10.9.8.7".parse().unwrap()));
        assert!(!IpNet::parse("10.0.0.0/8")
            .unwrap()
            .contains("11.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("::/0")
            .unwrap()
            .contains("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn explains_what_is_wrong() {
        let msg = |s: &str| IpNet::parse(s).unwrap_err().to_string();
        assert_eq!(
            msg("10.0.0.300/8"),
            "'10.0.0.300' is not an IPv4 or IPv6 address"
        );
        assert_eq!(
            msg("10.0.0.0/33"),
            "prefix length 33 is over 32, the maximum for IPv4"
        );
        assert_eq!(
            msg("2001:db8::/129"),
            "prefix length 129 is over 128, the maximum for IPv6"
        );
        assert_eq!(msg("10.0.0.0/"), "prefix length '' is not a decimal number");
        assert_eq!(
            msg("10.0.0.0/08"),
            "prefix length '08' is not a decimal number"
        );
        assert_eq!(
            msg("10.0.0.0/99999999999"),
            "prefix length '99999999999' is not a decimal number"
        );
        assert_eq!(
            msg("10.0.0.5/24"),
            "host bits are set after the prefix (did you mean '10.0.0.0/24' for the network or '10.0.0.5/32' for one host?)"
        );
        assert_eq!(
            msg("010.0.0.1"),
            "'010.0.0.1' is not an IPv4 or IPv6 address"
        );
        assert_eq!(
            msg("fe80::1%eth0"),
            "'fe80::1%eth0' is not an IPv4 or IPv6 address"
        );
    }
}
