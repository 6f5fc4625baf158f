//! One inbound or outbound rule of a declarative policy, validated.

use std::fmt;

use super::ipnet::IpNet;
use super::port::Ports;
use super::rate::RateLimit;

/// Transport protocol a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (IPv4 only).
    Icmp,
    /// ICMPv6 (IPv6 only).
    Icmpv6,
    /// Any protocol. With a port other than `any` it means TCP and UDP on
    /// that port (the only protocols here that have ports).
    Any,
}

impl Proto {
    /// The spellings accepted in a policy, in `Proto` order.
    pub const NAMES: &'static [&'static str] = &["tcp", "udp", "icmp", "icmpv6", "any"];

    /// The policy spelling.
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Any => "any",
        }
    }
}

/// What a rule does with a matching packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let it through.
    Accept,
    /// Discard it silently.
    Drop,
    /// Discard it and tell the sender (TCP reset / ICMP unreachable).
    Reject,
}

impl Action {
    /// The spellings accepted in a policy.
    pub const NAMES: &'static [&'static str] = &["accept", "drop", "reject"];
}

/// The firewall managers a policy or rule can name (`backend`,
/// `backend_compat`). nftguard itself always programs nf_tables; the field is
/// kept so the planner can warn when a policy was written for another tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Let the tool choose (top-level `backend` only).
    Auto,
    /// nf_tables (nft, nftguard).
    Nftables,
    /// iptables (nft or legacy).
    Iptables,
    /// ufw.
    Ufw,
    /// firewalld.
    Firewalld,
}

impl Backend {
    /// Spellings for the top-level `backend`.
    pub const NAMES: &'static [&'static str] =
        &["auto", "nftables", "iptables", "ufw", "firewalld"];
    /// Spellings for a rule's `backend_compat` (naming concrete backends only).
    pub const COMPAT_NAMES: &'static [&'static str] = &["nftables", "iptables", "ufw", "firewalld"];
}

/// A set of addresses a rule matches (`source`, `destination`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Addresses {
    /// Every address. Serialised as `"any"`.
    Any,
    /// These networks, sorted and without duplicates, never empty (IPv4 and
    /// IPv6 may be mixed). Serialised as a list of `"addr/len"` strings.
    Nets(Vec<IpNet>),
}

impl Addresses {
    /// The first listed network that is not of the wanted family (IPv4 when
    /// `want_v4`), if any.
    pub(crate) fn first_not_family(&self, want_v4: bool) -> Option<IpNet> {
        match self {
            Addresses::Any => None,
            Addresses::Nets(nets) => nets.iter().copied().find(|n| n.is_ipv4() != want_v4),
        }
    }
}

impl serde::Serialize for Addresses {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Addresses::Any => serializer.serialize_str("any"),
            Addresses::Nets(nets) => nets.serialize(serializer),
        }
    }
}

impl fmt::Display for Addresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addresses::Any => f.write_str("any"),
            Addresses::Nets(nets) => {
                for (i, net) in nets.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{net}")?;
                }
                Ok(())
            }
        }
    }
}

/// Where something was written in the policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SourceLocation {
    /// 1-based line.
    pub line: u64,
    /// 1-based column (characters).
    pub column: u64,
}

/// What the planner appends to the comment of a rule with a `rate_limit`
/// (its per-source rules say so in the ruleset).
pub const RATE_LIMIT_COMMENT_SUFFIX: &str = " (per source)";

/// One validated rule, values normalised.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    /// Protocol.
    pub proto: Proto,
    /// Destination ports (`Any` for ICMP).
    pub ports: Ports,
    /// Verdict.
    pub action: Action,
    /// Source addresses (`Any` when the key is absent).
    pub source: Addresses,
    /// Destination addresses (schema 2.1, outbound rules only; `Any` when absent).
    pub destination: Addresses,
    /// Interface name (schema 2.1): input interface for inbound rules, output
    /// interface for outbound ones. A trailing `*` is a prefix wildcard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// Per-source rate limit (accept rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Free text stored as the rule's comment: at most 128 bytes (nft's
    /// limit), [`RATE_LIMIT_COMMENT_SUFFIX`] included when the rule has a
    /// `rate_limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Backends the author says the rule is meant for (empty: all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_compat: Vec<Backend>,
    /// Where the rule starts in the policy file.
    pub location: SourceLocation,
}
