//! Transport-header matches: `tcp|udp sport|dport`, `tcp flags`,
//! `icmp type`, `icmpv6 type`.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::context::{
    transport_dep, Place, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP,
};
use super::{payload_cmp, payload_masked_cmp, BuildError, Rel};
use crate::nft::consts::NFT_REG_1;
use crate::nft::data::Data;
use crate::nft::expr::{Cmp, CmpOp, Payload, PayloadBase, Range, RangeOp};
use crate::nft::Rule;

/// A port or an inclusive port range: `22`, `1000..=2000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortSpec {
    /// One port.
    Port(u16),
    /// `first-last`, both included.
    Range(u16, u16),
}

impl From<u16> for PortSpec {
    fn from(p: u16) -> Self {
        PortSpec::Port(p)
    }
}

impl From<RangeInclusive<u16>> for PortSpec {
    fn from(r: RangeInclusive<u16>) -> Self {
        PortSpec::Range(*r.start(), *r.end())
    }
}

bitflags::bitflags! {
    /// TCP header flags (`tcp flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub struct TcpFlags: u8 {
        /// fin
        const FIN = 0x01;
        /// syn
        const SYN = 0x02;
        /// rst
        const RST = 0x04;
        /// psh
        const PSH = 0x08;
        /// ack
        const ACK = 0x10;
        /// urg
        const URG = 0x20;
        /// ecn
        const ECN = 0x40;
        /// cwr
        const CWR = 0x80;
    }
}

/// Offsets of the fields the builder matches, from the transport header.
const SPORT: u32 = 0;
const DPORT: u32 = 2;
const TCP_FLAGS: u32 = 13;
const ICMP_TYPE: u32 = 0;

/// Adds the transport dependency for `proto`; `None` when an error was
/// recorded instead.
fn with_transport(rule: Rule, what: &str, proto: u8) -> (Rule, bool) {
    rule.with_deps(Place::Here, |r| transport_dep(r, what, proto))
}

fn port_match(rule: Rule, what: &str, proto: u8, offset: u32, spec: PortSpec, rel: Rel) -> Rule {
    if let PortSpec::Range(lo, hi) = spec {
        if lo > hi {
            return rule.fail(BuildError::invalid(
                what,
                format!("the range {lo}-{hi} is reversed"),
            ));
        }
    }
    let (rule, ok) = with_transport(rule, what, proto);
    if !ok {
        return rule;
    }
    match (spec, rel) {
        (PortSpec::Port(p), rel) => payload_cmp(
            rule,
            PayloadBase::Transport,
            offset,
            p.to_be_bytes().to_vec(),
            rel,
        ),
        // nft encodes a range match as two compares and its negation as a
        // `range` expression.
        (PortSpec::Range(lo, hi), Rel::Eq) => rule.append([
            Payload::load(PayloadBase::Transport, offset, 2, NFT_REG_1).into(),
            Cmp::new(NFT_REG_1, CmpOp::Gte, lo.to_be_bytes().to_vec()).into(),
            Cmp::new(NFT_REG_1, CmpOp::Lte, hi.to_be_bytes().to_vec()).into(),
        ]),
        (PortSpec::Range(lo, hi), Rel::Neq) => rule.append([
            Payload::load(PayloadBase::Transport, offset, 2, NFT_REG_1).into(),
            Range {
                sreg: NFT_REG_1,
                op: RangeOp::Neq,
                from: Data::Value(lo.to_be_bytes().to_vec()),
                to: Data::Value(hi.to_be_bytes().to_vec()),
            }
            .into(),
        ]),
    }
}

/// TCP header matches, from [`Rule::tcp`]. Each method adds
/// `meta l4proto tcp` first unless the rule already requires TCP, and
/// returns the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a protocol alone adds nothing; call a match such as dport"]
pub struct Tcp(Rule);

/// UDP header matches, from [`Rule::udp`]; see [`Tcp`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a protocol alone adds nothing; call a match such as dport"]
pub struct Udp(Rule);

impl Rule {
    /// Selects the TCP header for the next match: `tcp dport 22` is
    /// `.tcp().dport(22)`.
    pub fn tcp(self) -> Tcp {
        Tcp(self)
    }

    /// Selects the UDP header for the next match.
    pub fn udp(self) -> Udp {
        Udp(self)
    }

    /// `icmp type TYPE` (see [`icmp_type`] for the numbers). In an `inet`
    /// table nft adds `meta nfproto ipv4` and `meta l4proto icmp`; in an
    /// `ip6` table this is an error (nft accepts it but it never matches).
    pub fn icmp_type(self, t: u8) -> Rule {
        icmp_like(self, "icmp type", IPPROTO_ICMP, t)
    }

    /// `icmpv6 type TYPE` (see [`icmpv6_type`]); the IPv6 counterpart of
    /// [`Rule::icmp_type`].
    pub fn icmpv6_type(self, t: u8) -> Rule {
        icmp_like(self, "icmpv6 type", IPPROTO_ICMPV6, t)
    }
}

fn icmp_like(rule: Rule, what: &str, proto: u8, t: u8) -> Rule {
    let (rule, ok) = with_transport(rule, what, proto);
    if !ok {
        return rule;
    }
    payload_cmp(rule, PayloadBase::Transport, ICMP_TYPE, vec![t], Rel::Eq)
}

macro_rules! port_methods {
    ($ty:ident, $proto:expr, $name:literal) => {
        impl $ty {
            /// `… dport PORT` or `… dport FIRST-LAST`.
            pub fn dport(self, p: impl Into<PortSpec>) -> Rule {
                port_match(
                    self.0,
                    concat!($name, " dport"),
                    $proto,
                    DPORT,
                    p.into(),
                    Rel::Eq,
                )
            }

            /// `… dport != PORT` or `… dport != FIRST-LAST`.
            pub fn dport_ne(self, p: impl Into<PortSpec>) -> Rule {
                port_match(
                    self.0,
                    concat!($name, " dport"),
                    $proto,
                    DPORT,
                    p.into(),
                    Rel::Neq,
                )
            }

            /// `… sport PORT` or `… sport FIRST-LAST`.
            pub fn sport(self, p: impl Into<PortSpec>) -> Rule {
                port_match(
                    self.0,
                    concat!($name, " sport"),
                    $proto,
                    SPORT,
                    p.into(),
                    Rel::Eq,
                )
            }

            /// `… sport != PORT` or `… sport != FIRST-LAST`.
            pub fn sport_ne(self, p: impl Into<PortSpec>) -> Rule {
                port_match(
                    self.0,
                    concat!($name, " sport"),
                    $proto,
                    SPORT,
                    p.into(),
                    Rel::Neq,
                )
            }
        }
    };
}

port_methods!(Tcp, IPPROTO_TCP, "tcp");
port_methods!(Udp, IPPROTO_UDP, "udp");

impl Tcp {
    fn flags_match(self, mask: u8, value: u8, op: CmpOp, bitwise: bool) -> Rule {
        let (rule, ok) = with_transport(self.0, "tcp flags", IPPROTO_TCP);
        if !ok {
            return rule;
        }
        if bitwise {
            payload_masked_cmp(
                rule,
                PayloadBase::Transport,
                TCP_FLAGS,
                vec![mask],
                vec![value],
                op,
            )
        } else {
            rule.append([
                Payload::load(PayloadBase::Transport, TCP_FLAGS, 1, NFT_REG_1).into(),
                Cmp::new(NFT_REG_1, op, vec![value]).into(),
            ])
        }
    }

    /// `tcp flags syn,ack`: at least one of `any` is set.
    pub fn flags(self, any: TcpFlags) -> Rule {
        if any.is_empty() {
            return self
                .0
                .fail(BuildError::invalid("tcp flags", "no flag given"));
        }
        self.flags_match(any.bits(), 0, CmpOp::Neq, true)
    }

    /// `tcp flags ! syn,ack`: none of `none` is set.
    pub fn flags_none(self, none: TcpFlags) -> Rule {
        if none.is_empty() {
            return self
                .0
                .fail(BuildError::invalid("tcp flags", "no flag given"));
        }
        self.flags_match(none.bits(), 0, CmpOp::Eq, true)
    }

    /// `tcp flags syn / syn,ack`: of the flags in `mask`, exactly `set`
    /// are set (`set` must lie within `mask`, or it could never match).
    pub fn flags_masked(self, set: TcpFlags, mask: TcpFlags) -> Rule {
        if mask.is_empty() || !mask.contains(set) {
            return self.0.fail(BuildError::invalid(
                "tcp flags",
                format!("{set:?} is not within the mask {mask:?}"),
            ));
        }
        self.flags_match(mask.bits(), set.bits(), CmpOp::Eq, true)
    }

    /// `tcp flags == syn`: exactly the flags `all` are set, no others.
    pub fn flags_eq(self, all: TcpFlags) -> Rule {
        self.flags_match(0xff, all.bits(), CmpOp::Eq, false)
    }
}

/// ICMP type numbers as nft names them (`icmp type echo-request`).
pub mod icmp_type {
    /// echo-reply
    pub const ECHO_REPLY: u8 = 0;
    /// destination-unreachable
    pub const DESTINATION_UNREACHABLE: u8 = 3;
    /// source-quench
    pub const SOURCE_QUENCH: u8 = 4;
    /// redirect
    pub const REDIRECT: u8 = 5;
    /// echo-request
    pub const ECHO_REQUEST: u8 = 8;
    /// router-advertisement
    pub const ROUTER_ADVERTISEMENT: u8 = 9;
    /// router-solicitation
    pub const ROUTER_SOLICITATION: u8 = 10;
    /// time-exceeded
    pub const TIME_EXCEEDED: u8 = 11;
    /// parameter-problem
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// timestamp-request
    pub const TIMESTAMP_REQUEST: u8 = 13;
    /// timestamp-reply
    pub const TIMESTAMP_REPLY: u8 = 14;
}

/// ICMPv6 type numbers as nft names them (`icmpv6 type nd-neighbor-solicit`).
pub mod icmpv6_type {
    /// destination-unreachable
    pub const DESTINATION_UNREACHABLE: u8 = 1;
    /// packet-too-big
    pub const PACKET_TOO_BIG: u8 = 2;
    /// time-exceeded
    pub const TIME_EXCEEDED: u8 = 3;
    /// parameter-problem
    pub const PARAMETER_PROBLEM: u8 = 4;
    /// echo-request
    pub const ECHO_REQUEST: u8 = 128;
    /// echo-reply
    pub const ECHO_REPLY: u8 = 129;
    /// mld-listener-query
    pub const MLD_LISTENER_QUERY: u8 = 130;
    /// nd-router-solicit
    pub const ND_ROUTER_SOLICIT: u8 = 133;
    /// nd-router-advert
    pub const ND_ROUTER_ADVERT: u8 = 134;
    /// nd-neighbor-solicit
    pub const ND_NEIGHBOR_SOLICIT: u8 = 135;
    /// nd-neighbor-advert
    pub const ND_NEIGHBOR_ADVERT: u8 = 136;
    /// nd-redirect
    pub const ND_REDIRECT: u8 = 137;
}
