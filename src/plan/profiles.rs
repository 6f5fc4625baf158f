//! SELECT: the four built-in profiles, the `--ports` list and the
//! declarative policy, each turned into an [`Intent`].
//!
//! Common to every profile (WORKFLOW.md §Profiles): input policy drop,
//! loopback, anti-spoofing of 127.0.0.0/8 and ::1, established/related
//! accepted, invalid dropped, essential ICMP and ICMPv6, SSH on the
//! detected port, rate limits per source address, rate-limited drop
//! logging, forward dropped unless another manager forwards here.
//! Those common parts are added by [`super::compile`]; this file decides
//! the services and defaults.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::intent::{Action, Direction, DropLog, ForwardMode, Intent, PerSourceLimit, Service, L4};
use super::PlanError;
use crate::nft::builder::LimitUnit;
use crate::policy::{self, IpNet, Policy};

/// The built-in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    /// SSH (per-source 10/minute burst 20), 80, 443; outbound open.
    PublicWebServer,
    /// SSH from the management subnet, the database port from the
    /// application subnet; outbound open.
    InternalDatabase,
    /// SSH only, per-source 5/minute burst 10; outbound open.
    BastionHost,
    /// SSH from the management subnet; outbound dropped except DNS, NTP,
    /// HTTP(S), DHCP and established.
    ZeroTrustNode,
}

impl ProfileName {
    /// Every profile, in documentation order.
    pub const ALL: [ProfileName; 4] = [
        ProfileName::PublicWebServer,
        ProfileName::InternalDatabase,
        ProfileName::BastionHost,
        ProfileName::ZeroTrustNode,
    ];

    /// The name on the command line and in the plan.
    pub fn name(self) -> &'static str {
        match self {
            ProfileName::PublicWebServer => "public-web-server",
            ProfileName::InternalDatabase => "internal-database",
            ProfileName::BastionHost => "bastion-host",
            ProfileName::ZeroTrustNode => "zero-trust-node",
        }
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProfileName {
    type Err = PlanError;

    fn from_str(s: &str) -> Result<Self, PlanError> {
        ProfileName::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                PlanError::Usage(format!(
                    "unknown profile '{s}' (expected one of: {})",
                    ProfileName::ALL.map(|p| p.name()).join(", ")
                ))
            })
    }
}

/// The profile parameters of the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProfileParams {
    /// `--ssh-port`: overrides the detected SSH port.
    pub ssh_port: Option<u16>,
    /// `--mgmt-subnet`; `None`: [`DEFAULT_MGMT_SUBNET`].
    pub mgmt_subnet: Option<IpNet>,
    /// `--app-subnet`; `None`: [`DEFAULT_APP_SUBNET`].
    pub app_subnet: Option<IpNet>,
    /// `--db-port`; `None`: [`DEFAULT_DB_PORT`].
    pub db_port: Option<u16>,
}

/// Default `--mgmt-subnet`.
pub const DEFAULT_MGMT_SUBNET: &str = "10.0.1.0/24";
/// Default `--app-subnet`.
pub const DEFAULT_APP_SUBNET: &str = "10.0.2.0/24";
/// Default `--db-port` (MySQL/MariaDB).
pub const DEFAULT_DB_PORT: u16 = 3306;

impl ProfileParams {
    /// The management subnet in effect.
    pub fn mgmt(&self) -> Result<IpNet, PlanError> {
        match self.mgmt_subnet {
            Some(n) => Ok(n),
            None => Self::parse_subnet("--mgmt-subnet", DEFAULT_MGMT_SUBNET),
        }
    }

    /// The application subnet in effect.
    pub fn app(&self) -> Result<IpNet, PlanError> {
        match self.app_subnet {
            Some(n) => Ok(n),
            None => Self::parse_subnet("--app-subnet", DEFAULT_APP_SUBNET),
        }
    }

    /// Parses a `--mgmt-subnet` / `--app-subnet` value.
    pub fn parse_subnet(flag: &str, text: &str) -> Result<IpNet, PlanError> {
        IpNet::parse(text).map_err(|e| PlanError::Usage(format!("{flag} '{text}': {e}")))
    }
}

/// One entry of `--ports`: a port or range and its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortProto {
    /// First port.
    pub first: u16,
    /// Last port (= first for one port).
    pub last: u16,
    /// tcp or udp.
    pub proto: L4,
}

/// Parses `--ports`: comma-separated `PORT[-PORT][/tcp|/udp]`, TCP when no
/// protocol is given (`22,80,443/tcp,53/udp,8000-8100`).
pub fn parse_ports(text: &str) -> Result<Vec<PortProto>, PlanError> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(PlanError::Usage(format!(
                "--ports '{text}': empty entry (expected PORT[/tcp|/udp] separated by commas)"
            )));
        }
        let (range, proto) = match item.split_once('/') {
            None => (item, L4::Tcp),
            Some((r, "tcp")) => (r, L4::Tcp),
            Some((r, "udp")) => (r, L4::Udp),
            Some((_, p)) => {
                return Err(PlanError::Usage(format!(
                    "--ports: '{item}': protocol '{p}' is not tcp or udp"
                )))
            }
        };
        let r = policy::PortRange::parse(range)
            .map_err(|e| PlanError::Usage(format!("--ports: '{item}': {e}")))?;
        let p = PortProto {
            first: r.first,
            last: r.last,
            proto,
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// What the planner knows about the host that shapes every intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    /// The SSH port to keep reachable (detected, or `--ssh-port`).
    pub ssh_port: u16,
    /// Who forwards here (Docker, libvirt, Kubernetes), if anyone.
    pub forwarding_owner: Option<String>,
}

/// SSH per-source limit of the public web server: 10/minute burst 20.
pub const SSH_LIMIT_WEB: PerSourceLimit = PerSourceLimit {
    rate: 10,
    unit: LimitUnit::Minute,
    burst: 20,
};

/// SSH per-source limit of the bastion host: 5/minute burst 10.
pub const SSH_LIMIT_BASTION: PerSourceLimit = PerSourceLimit {
    rate: 5,
    unit: LimitUnit::Minute,
    burst: 10,
};

fn forward_mode(facts: &HostFacts) -> ForwardMode {
    match &facts.forwarding_owner {
        Some(owner) => ForwardMode::LeftTo(owner.clone()),
        None => ForwardMode::Drop,
    }
}

fn base_intent(name: &str, kind: &str, facts: &HostFacts) -> Intent {
    Intent {
        name: name.to_string(),
        kind: kind.to_string(),
        input_drop: true,
        output_drop: false,
        forward: forward_mode(facts),
        icmp_v4: true,
        icmp_v6: true,
        drop_log: Some(DropLog::default()),
        ssh_port: facts.ssh_port,
        services: Vec::new(),
        warnings: Vec::new(),
    }
}

fn ssh(port: u16) -> Service {
    Service::allow_in(L4::Tcp, port, "ssh")
}

/// The intent of a built-in profile.
pub fn profile_intent(
    name: ProfileName,
    params: &ProfileParams,
    facts: &HostFacts,
) -> Result<Intent, PlanError> {
    let mut intent = base_intent(name.name(), "profile", facts);
    let port = facts.ssh_port;
    match name {
        ProfileName::PublicWebServer => {
            intent.services = vec![
                ssh(port).limited(SSH_LIMIT_WEB),
                Service::allow_in(L4::Tcp, 80, "http"),
                Service::allow_in(L4::Tcp, 443, "https"),
            ];
        }
        ProfileName::InternalDatabase => {
            intent.services = vec![
                ssh(port).from_net(params.mgmt()?),
                Service::allow_in(
                    L4::Tcp,
                    params.db_port.unwrap_or(DEFAULT_DB_PORT),
                    "database",
                )
                .from_net(params.app()?),
            ];
        }
        ProfileName::BastionHost => {
            intent.services = vec![ssh(port).limited(SSH_LIMIT_BASTION)];
        }
        ProfileName::ZeroTrustNode => {
            intent.output_drop = true;
            intent.services = vec![
                ssh(port).from_net(params.mgmt()?),
                Service::allow_in(L4::Udp, 53, "dns").outbound(),
                Service::allow_in(L4::Tcp, 53, "dns").outbound(),
                Service::allow_in(L4::Udp, 123, "ntp").outbound(),
                Service::allow_in(L4::Tcp, 80, "http").outbound(),
                Service::allow_in(L4::Tcp, 443, "https").outbound(),
                // Not in the seed's list, but a DHCP client that cannot
                // renew its lease loses its address: a lockout as sure as
                // a missing SSH rule.
                Service::allow_in(L4::Udp, 67, "dhcp client").outbound(),
                Service::allow_in(L4::Udp, 547, "dhcpv6 client").outbound(),
            ];
            intent.warnings.push(
                "zero-trust-node drops outbound traffic except DNS, NTP, HTTP(S) and DHCP: package mirrors on other ports, SMTP, LDAP and monitoring agents will stop working".into(),
            );
        }
    }
    Ok(intent)
}

/// The intent of `--ports`: the common base, SSH (per-source 10/minute
/// burst 20) and the listed ports from anywhere.
pub fn ports_intent(ports: &[PortProto], facts: &HostFacts) -> Intent {
    let mut intent = base_intent("ports", "ports", facts);
    intent
        .services
        .push(ssh(facts.ssh_port).limited(SSH_LIMIT_WEB));
    for p in ports {
        if p.proto == L4::Tcp && p.first == facts.ssh_port && p.last == facts.ssh_port {
            continue; // already there, rate-limited
        }
        let mut s = Service::allow_in(p.proto, p.first, "");
        s.ports = Some((p.first, p.last));
        s.comment = if p.first == p.last {
            format!("{}/{}", p.first, p.proto.name())
        } else {
            format!("{}-{}/{}", p.first, p.last, p.proto.name())
        };
        intent.services.push(s);
    }
    intent
}

fn burst_for(rate: u32) -> u32 {
    rate.saturating_mul(2)
}

fn unit_of(u: policy::RateUnit) -> LimitUnit {
    match u {
        policy::RateUnit::Second => LimitUnit::Second,
        policy::RateUnit::Minute => LimitUnit::Minute,
        policy::RateUnit::Hour => LimitUnit::Hour,
    }
}

fn nets(a: &policy::Addresses) -> Vec<Option<IpNet>> {
    match a {
        policy::Addresses::Any => vec![None],
        policy::Addresses::Nets(n) => n.iter().copied().map(Some).collect(),
    }
}

/// The intent of a declarative policy. Each policy rule expands into one
/// service per protocol (`any` with a port = TCP and UDP), port range,
/// source and destination network.
pub fn policy_intent(p: &Policy, facts: &HostFacts) -> Intent {
    let name = p.name().unwrap_or("policy");
    let mut intent = base_intent(name, "policy", facts);
    intent.input_drop = p.inbound.default == policy::DefaultVerdict::Deny;
    intent.output_drop = p.outbound.default == policy::DefaultVerdict::Deny;
    intent.forward = match (p.forward.default, &facts.forwarding_owner) {
        (_, Some(owner)) => ForwardMode::LeftTo(owner.clone()),
        (policy::DefaultVerdict::Deny, None) => ForwardMode::Drop,
        (policy::DefaultVerdict::Accept, None) => ForwardMode::Accept,
    };
    intent.icmp_v4 = p.icmp.ipv4 == policy::DefaultVerdict::Accept;
    intent.icmp_v6 = p.icmp.ipv6 == policy::DefaultVerdict::Accept;
    if !intent.icmp_v6 {
        intent.warnings.push(
            "icmp.ipv6 is deny: echo and error messages are dropped, but neighbour and router discovery stay allowed (IPv6 cannot work without them)".into(),
        );
    }
    if let Some(log) = &p.logging {
        if log.dropped == Some(false) {
            intent.drop_log = None;
        } else {
            let mut l = DropLog::default();
            if let Some(r) = log.rate_limit {
                l.rate = r.count;
                l.unit = unit_of(r.per);
                l.burst = burst_for(r.count).max(1);
            }
            if let Some(prefix) = &log.prefix {
                l.prefix = prefix.clone();
            }
            intent.drop_log = Some(l);
        }
    }
    if let Some(b) = p.backend {
        if !matches!(b, policy::Backend::Auto | policy::Backend::Nftables) {
            intent.warnings.push(format!(
                "the policy asks for backend {b:?}; nftguard programs nf_tables (table inet nftguard)"
            ).to_lowercase());
        }
    }
    for (direction, rules) in [
        (Direction::Input, &p.inbound.rules),
        (Direction::Output, &p.outbound.rules),
    ] {
        for r in rules {
            let protos: Vec<Option<L4>> = match (r.proto, &r.ports) {
                (policy::Proto::Tcp, _) => vec![Some(L4::Tcp)],
                (policy::Proto::Udp, _) => vec![Some(L4::Udp)],
                (policy::Proto::Icmp, _) => vec![Some(L4::Icmp)],
                (policy::Proto::Icmpv6, _) => vec![Some(L4::Icmpv6)],
                (policy::Proto::Any, policy::Ports::Any) => vec![None],
                (policy::Proto::Any, _) => vec![Some(L4::Tcp), Some(L4::Udp)],
            };
            let ranges: Vec<Option<(u16, u16)>> = match &r.ports {
                policy::Ports::Any => vec![None],
                policy::Ports::Ranges(v) => v.iter().map(|x| Some((x.first, x.last))).collect(),
            };
            let action = match r.action {
                policy::Action::Accept => Action::Accept,
                policy::Action::Drop => Action::Drop,
                policy::Action::Reject => Action::Reject,
            };
            let rate_limit = r.rate_limit.map(|rl| PerSourceLimit {
                rate: rl.count,
                unit: unit_of(rl.per),
                burst: burst_for(rl.count).max(1),
            });
            for proto in &protos {
                for ports in &ranges {
                    for source in nets(&r.source) {
                        for destination in nets(&r.destination) {
                            intent.services.push(Service {
                                direction,
                                proto: *proto,
                                ports: *ports,
                                source,
                                destination,
                                interface: r.interface.clone(),
                                action,
                                rate_limit,
                                comment: r.comment.clone().unwrap_or_default(),
                            });
                        }
                    }
                }
            }
        }
    }
    intent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        let p = parse_ports("22,80,443/tcp,53/udp,8000-8100").unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p[3].proto, L4::Udp);
        assert_eq!((p[4].first, p[4].last), (8000, 8100));
        assert!(parse_ports("22,,80").is_err());
        assert!(parse_ports("22/sctp").is_err());
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn profile_names_roundtrip() {
        for p in ProfileName::ALL {
            assert_eq!(p.name().parse::<ProfileName>().unwrap(), p);
        }
        assert!("web".parse::<ProfileName>().is_err());
    }
}
