//! The desired firewall in plain terms, before it becomes nf_tables objects:
//! what a profile, a `--ports` list or a declarative policy asks for, after
//! expansion (one [`Service`] per protocol, port range and source network).
//! [`super::compile`] turns it into `table inet nftguard`.

use serde::{Deserialize, Serialize};

use crate::nft::builder::LimitUnit;
use crate::policy::IpNet;

/// A layer-4 protocol a service matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum L4 {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (IPv4).
    Icmp,
    /// ICMPv6.
    Icmpv6,
}

impl L4 {
    /// nft's name.
    pub fn name(self) -> &'static str {
        match self {
            L4::Tcp => "tcp",
            L4::Udp => "udp",
            L4::Icmp => "icmp",
            L4::Icmpv6 => "icmpv6",
        }
    }
}

/// The direction (our base chain) a service applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Incoming (`input` chain).
    Input,
    /// Outgoing (`output` chain).
    Output,
}

impl Direction {
    /// The chain name in `table inet nftguard`.
    pub fn chain(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// What a service rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Accept.
    Accept,
    /// Drop silently.
    Drop,
    /// Reject (TCP reset for TCP, ICMP port unreachable otherwise).
    Reject,
}

/// A per-source-address rate limit: every source gets its own token
/// bucket (an element of a dynamic set), so one client cannot exhaust
/// the budget of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerSourceLimit {
    /// New connections (packets) per `unit`.
    pub rate: u32,
    /// The period.
    pub unit: LimitUnit,
    /// Burst in packets.
    pub burst: u32,
}

/// One allow/deny rule of the intent, fully expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Input or output.
    pub direction: Direction,
    /// Protocol; `None` matches every protocol.
    pub proto: Option<L4>,
    /// Destination port range (first, last); `None` is every port.
    pub ports: Option<(u16, u16)>,
    /// Source network; `None` is every address (both families).
    pub source: Option<IpNet>,
    /// Destination network; `None` is every address.
    pub destination: Option<IpNet>,
    /// Input interface (inbound) or output interface (outbound).
    pub interface: Option<String>,
    /// Verdict.
    pub action: Action,
    /// Per-source rate limit on new connections (accept only).
    pub rate_limit: Option<PerSourceLimit>,
    /// The rule's comment.
    pub comment: String,
}

impl Service {
    /// An inbound TCP/UDP accept of one port from anywhere.
    pub fn allow_in(proto: L4, port: u16, comment: &str) -> Self {
        Service {
            direction: Direction::Input,
            proto: Some(proto),
            ports: Some((port, port)),
            source: None,
            destination: None,
            interface: None,
            action: Action::Accept,
            rate_limit: None,
            comment: comment.to_string(),
        }
    }

    /// The same service going out.
    pub fn outbound(mut self) -> Self {
        self.direction = Direction::Output;
        self
    }

    /// Restricted to `source`.
    pub fn from_net(mut self, source: IpNet) -> Self {
        self.source = Some(source);
        self
    }

    /// With a per-source rate limit.
    pub fn limited(mut self, limit: PerSourceLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }
}

/// What to do with the forward hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardMode {
    /// Base chain with policy drop.
    Drop,
    /// No forward chain of ours (everything our table sees is accepted).
    Accept,
    /// Left to another manager (Docker, libvirt, Kubernetes) that forwards
    /// here; the string says which.
    LeftTo(String),
}

/// Logging of the packets our chains drop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropLog {
    /// Log lines per `unit`.
    pub rate: u32,
    /// The period.
    pub unit: LimitUnit,
    /// Burst.
    pub burst: u32,
    /// Log prefix (≤ 32 bytes).
    pub prefix: String,
}

impl Default for DropLog {
    fn default() -> Self {
        DropLog {
            rate: 5,
            unit: LimitUnit::Minute,
            burst: 10,
            prefix: "nftguard drop: ".into(),
        }
    }
}

/// The desired firewall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Intent {
    /// Profile or policy name (`public-web-server`, `ports`, the policy's
    /// `metadata.name` …).
    pub name: String,
    /// `profile`, `ports` or `policy`.
    pub kind: String,
    /// Input default: drop (true) or accept.
    pub input_drop: bool,
    /// Output default: drop (true) or accept.
    pub output_drop: bool,
    /// Forward hook.
    pub forward: ForwardMode,
    /// Essential ICMP for IPv4.
    pub icmp_v4: bool,
    /// Essential ICMPv6 (echo and errors; neighbour discovery is always
    /// kept, IPv6 cannot work without it).
    pub icmp_v6: bool,
    /// Drop logging, if wanted.
    pub drop_log: Option<DropLog>,
    /// The SSH port the plan keeps reachable.
    pub ssh_port: u16,
    /// Allow/deny rules, in order.
    pub services: Vec<Service>,
    /// Things the operator should know about how the intent was built.
    pub warnings: Vec<String>,
}

impl Intent {
    /// The inbound accepted ports (the plan's `target_ports`), sorted.
    pub fn target_ports(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = self
            .services
            .iter()
            .filter(|s| s.direction == Direction::Input && s.action == Action::Accept)
            .filter(|s| matches!(s.proto, Some(L4::Tcp | L4::Udp) | None))
            .filter_map(|s| s.ports)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
