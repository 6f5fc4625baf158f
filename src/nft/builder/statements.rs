//! Statements with options: `limit`, `log`, `reject`. (`counter`, the
//! verdicts and `comment` are in [`crate::nft::rule`].)

use serde::{Deserialize, Serialize};

use super::context::{context_of, network_dep, transport_dep, Net, Place, IPPROTO_TCP};
use super::BuildError;
use crate::nft::expr::limit::NFT_LIMIT_F_INV;
use crate::nft::expr::{Limit, LimitType, Log, Reject, RejectType};
use crate::nft::{Family, Rule};

/// The period of a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitUnit {
    /// `/second`
    Second,
    /// `/minute`
    Minute,
    /// `/hour`
    Hour,
    /// `/day`
    Day,
    /// `/week`
    Week,
}

impl LimitUnit {
    /// The period in seconds, as the kernel takes it.
    pub fn seconds(self) -> u64 {
        match self {
            LimitUnit::Second => 1,
            LimitUnit::Minute => 60,
            LimitUnit::Hour => 3600,
            LimitUnit::Day => 86_400,
            LimitUnit::Week => 604_800,
        }
    }
}

/// `limit rate [over] RATE/UNIT [burst N packets|bytes]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RateLimit {
    /// Packets or bytes per `unit`.
    pub rate: u64,
    /// Period.
    pub unit: LimitUnit,
    /// Counts bytes instead of packets.
    pub bytes: bool,
    /// Burst; `None` takes nft's default (5 packets, 0 bytes).
    pub burst: Option<u32>,
    /// `over`: match when the rate is exceeded instead of while it is not.
    pub over: bool,
}

/// nft's default burst for packet limits.
const DEFAULT_PACKET_BURST: u32 = 5;

impl RateLimit {
    /// `limit rate RATE/UNIT` in packets.
    pub fn packets(rate: u64, unit: LimitUnit) -> Self {
        RateLimit {
            rate,
            unit,
            bytes: false,
            burst: None,
            over: false,
        }
    }

    /// `limit rate RATE bytes/UNIT` (nft prints `1 mbytes/second` for
    /// 1048576 bytes).
    pub fn bytes(rate: u64, unit: LimitUnit) -> Self {
        RateLimit {
            bytes: true,
            ..Self::packets(rate, unit)
        }
    }

    /// Sets the burst (packets or bytes, like the rate).
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// `limit rate over …`: matches packets beyond the rate.
    pub fn over(mut self) -> Self {
        self.over = true;
        self
    }
}

/// Syslog levels of `log level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// emerg (0)
    Emerg,
    /// alert (1)
    Alert,
    /// crit (2)
    Crit,
    /// err (3)
    Err,
    /// warn (4): the kernel's default.
    Warn,
    /// notice (5)
    Notice,
    /// info (6)
    Info,
    /// debug (7)
    Debug,
    /// audit (8): log to the audit subsystem instead.
    Audit,
}

impl LogLevel {
    /// The level number.
    pub fn number(self) -> u32 {
        self as u32
    }
}

/// `log [prefix "P"] [level L]`. The default is a plain `log`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogSpec {
    /// Prefix (at most 127 bytes, no NUL).
    pub prefix: Option<String>,
    /// Level; `None` is the kernel's default, warn.
    pub level: Option<LogLevel>,
}

/// `NF_LOG_PREFIXLEN`: 128 bytes with the NUL.
const LOG_PREFIX_MAX: usize = 127;

impl LogSpec {
    /// A plain `log`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the prefix.
    pub fn prefix(mut self, p: &str) -> Self {
        self.prefix = Some(p.to_string());
        self
    }

    /// Sets the level.
    pub fn level(mut self, l: LogLevel) -> Self {
        self.level = Some(l);
        self
    }
}

/// ICMP destination-unreachable codes for `reject with icmp …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IcmpCode {
    /// net-unreachable (0)
    NetUnreachable,
    /// host-unreachable (1)
    HostUnreachable,
    /// prot-unreachable (2)
    ProtUnreachable,
    /// port-unreachable (3)
    PortUnreachable,
    /// net-prohibited (9)
    NetProhibited,
    /// host-prohibited (10)
    HostProhibited,
    /// admin-prohibited (13)
    AdminProhibited,
}

impl IcmpCode {
    /// The code number.
    pub fn number(self) -> u8 {
        match self {
            IcmpCode::NetUnreachable => 0,
            IcmpCode::HostUnreachable => 1,
            IcmpCode::ProtUnreachable => 2,
            IcmpCode::PortUnreachable => 3,
            IcmpCode::NetProhibited => 9,
            IcmpCode::HostProhibited => 10,
            IcmpCode::AdminProhibited => 13,
        }
    }
}

/// ICMPv6 destination-unreachable codes for `reject with icmpv6 …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Icmpv6Code {
    /// no-route (0)
    NoRoute,
    /// admin-prohibited (1)
    AdminProhibited,
    /// addr-unreachable (3)
    AddrUnreachable,
    /// port-unreachable (4)
    PortUnreachable,
    /// policy-fail (5)
    PolicyFail,
    /// reject-route (6)
    RejectRoute,
}

impl Icmpv6Code {
    /// The code number.
    pub fn number(self) -> u8 {
        match self {
            Icmpv6Code::NoRoute => 0,
            Icmpv6Code::AdminProhibited => 1,
            Icmpv6Code::AddrUnreachable => 3,
            Icmpv6Code::PortUnreachable => 4,
            Icmpv6Code::PolicyFail => 5,
            Icmpv6Code::RejectRoute => 6,
        }
    }
}

/// Family-independent codes for `reject with icmpx …` (`inet` only; the
/// kernel picks the ICMP or ICMPv6 code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IcmpxCode {
    /// no-route (0)
    NoRoute,
    /// port-unreachable (1)
    PortUnreachable,
    /// host-unreachable (2)
    HostUnreachable,
    /// admin-prohibited (3)
    AdminProhibited,
}

impl IcmpxCode {
    /// The code number (`NFT_REJECT_ICMPX_*`).
    pub fn number(self) -> u8 {
        match self {
            IcmpxCode::NoRoute => 0,
            IcmpxCode::PortUnreachable => 1,
            IcmpxCode::HostUnreachable => 2,
            IcmpxCode::AdminProhibited => 3,
        }
    }
}

/// How `reject` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectWith {
    /// Plain `reject`: port unreachable, as `icmpx` in an `inet` table
    /// (or `icmp`/`icmpv6` once the rule fixes the network protocol), as
    /// `icmp` in `ip` and `icmpv6` in `ip6`.
    PortUnreachable,
    /// `reject with tcp reset` (adds `meta l4proto tcp` at the head of the
    /// rule unless the rule already requires TCP).
    TcpReset,
    /// `reject with icmp CODE` (`ip`, or `inet` where it adds
    /// `meta nfproto ipv4` at the head of the rule).
    Icmp(IcmpCode),
    /// `reject with icmpv6 CODE` (`ip6`, or `inet`).
    Icmpv6(Icmpv6Code),
    /// `reject with icmpx CODE` (`inet` only).
    Icmpx(IcmpxCode),
}

impl Rule {
    /// `limit rate …`. A zero rate is refused (the kernel does too).
    pub fn limit(self, l: RateLimit) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if l.rate == 0 {
            return self.fail(BuildError::invalid("limit", "the rate must not be zero"));
        }
        let (kind, default_burst) = if l.bytes {
            (LimitType::Bytes, 0)
        } else {
            (LimitType::Packets, DEFAULT_PACKET_BURST)
        };
        self.push(Limit {
            rate: l.rate,
            unit: l.unit.seconds(),
            burst: l.burst.unwrap_or(default_burst),
            kind,
            flags: if l.over { NFT_LIMIT_F_INV } else { 0 },
        })
    }

    /// `log [prefix "P"] [level L]`.
    pub fn log(self, spec: LogSpec) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        if let Some(p) = &spec.prefix {
            if p.len() > LOG_PREFIX_MAX || p.contains('\0') {
                return self.fail(BuildError::invalid(
                    "log prefix",
                    format!("{p:?}: at most {LOG_PREFIX_MAX} bytes, no NUL"),
                ));
            }
        }
        self.push(Log {
            prefix: spec.prefix,
            group: None,
            // nft sends no level for a plain `log`, but the kernel then
            // stores and dumps warn (4); writing it keeps the built rule
            // equal to its dump, so comparing desired and live rules works.
            level: Some(spec.level.unwrap_or(LogLevel::Warn).number()),
            flags: None,
            snaplen: None,
            qthreshold: None,
        })
    }

    /// `reject [with …]`. Only valid in input, forward and output chains
    /// (the kernel checks).
    pub fn reject(self, with: RejectWith) -> Rule {
        if self.build_error.is_some() {
            return self;
        }
        let family = self.family;
        if !matches!(family, Family::Inet | Family::Ipv4 | Family::Ipv6) {
            return self.fail(BuildError::WrongFamily {
                what: "reject".into(),
                family,
            });
        }
        let network = context_of(&self).network;
        let (rule, kind, code) = match with {
            RejectWith::PortUnreachable => match network {
                Some(Net::V4) => (
                    self,
                    RejectType::IcmpUnreach,
                    Some(IcmpCode::PortUnreachable.number()),
                ),
                Some(Net::V6) => (
                    self,
                    RejectType::IcmpUnreach,
                    Some(Icmpv6Code::PortUnreachable.number()),
                ),
                None => (
                    self,
                    RejectType::IcmpxUnreach,
                    Some(IcmpxCode::PortUnreachable.number()),
                ),
            },
            RejectWith::TcpReset => {
                let (r, ok) = self.with_deps(Place::Head, |r| {
                    transport_dep(r, "reject with tcp reset", IPPROTO_TCP)
                });
                if !ok {
                    return r;
                }
                (r, RejectType::TcpRst, None)
            }
            RejectWith::Icmp(c) => {
                let (r, ok) =
                    self.with_deps(Place::Head, |r| network_dep(r, "reject with icmp", Net::V4));
                if !ok {
                    return r;
                }
                (r, RejectType::IcmpUnreach, Some(c.number()))
            }
            RejectWith::Icmpv6(c) => {
                let (r, ok) = self.with_deps(Place::Head, |r| {
                    network_dep(r, "reject with icmpv6", Net::V6)
                });
                if !ok {
                    return r;
                }
                (r, RejectType::IcmpUnreach, Some(c.number()))
            }
            RejectWith::Icmpx(c) => {
                if family != Family::Inet {
                    return self.fail(BuildError::WrongFamily {
                        what: "reject with icmpx".into(),
                        family,
                    });
                }
                (self, RejectType::IcmpxUnreach, Some(c.number()))
            }
        };
        // The kernel keeps (and dumps) no code for a TCP reset.
        rule.push(Reject {
            kind,
            icmp_code: code,
        })
    }
}
