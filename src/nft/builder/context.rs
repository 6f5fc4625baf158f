//! The protocol context of a rule under construction — which network and
//! transport protocol its matches already require — and the dependency
//! matches nft inserts when a match needs more.

use super::meta::NfProto;
use super::BuildError;
use crate::nft::consts::NFT_REG_1;
use crate::nft::expr::{Cmp, CmpOp, Expr, Meta, MetaKey};
use crate::nft::{Family, Rule};

/// A network protocol a match can need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    V4,
    V6,
}

impl Net {
    pub(crate) fn nfproto(self) -> NfProto {
        match self {
            Net::V4 => NfProto::Ipv4,
            Net::V6 => NfProto::Ipv6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Net::V4 => "ip",
            Net::V6 => "ip6",
        }
    }
}

/// Where a dependency goes: right before the match (nft's payload
/// dependencies) or at the head of the rule (nft's `reject` dependencies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Here,
    Head,
}

/// What the rule's matches already require.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProtoContext {
    pub network: Option<Net>,
    pub transport: Option<u8>,
}

/// Reads the protocol context from the table family and the rule's
/// `meta nfproto` / `meta l4proto` equality matches.
pub(crate) fn context_of(rule: &Rule) -> ProtoContext {
    let mut ctx = ProtoContext {
        network: match rule.family {
            Family::Ipv4 => Some(Net::V4),
            Family::Ipv6 => Some(Net::V6),
            _ => None,
        },
        transport: None,
    };
    for pair in rule.exprs.windows(2) {
        let (Expr::Meta(m), Expr::Cmp(c)) = (&pair[0], &pair[1]) else {
            continue;
        };
        let Some(reg) = m.dreg else { continue };
        let value = match c.data.value() {
            Some(&[v]) if c.sreg == reg && c.op == CmpOp::Eq => v,
            _ => continue,
        };
        match m.key {
            MetaKey::Nfproto if value == NfProto::Ipv4.number() => ctx.network = Some(Net::V4),
            MetaKey::Nfproto if value == NfProto::Ipv6.number() => ctx.network = Some(Net::V6),
            MetaKey::L4proto => ctx.transport = Some(value),
            _ => {}
        }
    }
    ctx
}

/// `meta KEY == value` (one byte), the form of nft's dependencies.
pub(crate) fn meta_byte_eq(key: MetaKey, value: u8) -> [Expr; 2] {
    [
        Meta::load(key, NFT_REG_1).into(),
        Cmp::new(NFT_REG_1, CmpOp::Eq, vec![value]).into(),
    ]
}

/// Adds dependency expressions at `place`.
pub(crate) fn insert_deps(mut rule: Rule, place: Place, deps: Vec<Expr>) -> Rule {
    rule.reserve_exprs();
    match place {
        Place::Here => rule.exprs.extend(deps),
        Place::Head => {
            rule.exprs.splice(0..0, deps);
        }
    }
    rule
}

/// Checks that `family` has an IP network header the builder can address.
pub(crate) fn require_ip_family(what: &str, family: Family) -> Result<(), BuildError> {
    match family {
        Family::Inet | Family::Ipv4 | Family::Ipv6 => Ok(()),
        _ => Err(BuildError::WrongFamily {
            what: what.to_string(),
            family,
        }),
    }
}

/// The dependency that makes `rule` require network protocol `net`:
/// nothing when it already does, `meta nfproto …` in an inet table, an
/// error when the rule (or the table) requires the other protocol.
pub(crate) fn network_dep(rule: &Rule, what: &str, net: Net) -> Result<Vec<Expr>, BuildError> {
    require_ip_family(what, rule.family)?;
    match context_of(rule).network {
        Some(have) if have == net => Ok(Vec::new()),
        Some(have) => Err(BuildError::ConflictingProtocols {
            what: what.to_string(),
            present: have.name().to_string(),
            needed: net.name().to_string(),
        }),
        None => Ok(meta_byte_eq(MetaKey::Nfproto, net.nfproto().number()).to_vec()),
    }
}

/// The dependencies that make `rule` require transport protocol `proto`:
/// `meta l4proto …` unless it already does, preceded, for ICMP and
/// ICMPv6, by the network dependency.
pub(crate) fn transport_dep(rule: &Rule, what: &str, proto: u8) -> Result<Vec<Expr>, BuildError> {
    require_ip_family(what, rule.family)?;
    match context_of(rule).transport {
        Some(have) if have == proto => return Ok(Vec::new()),
        Some(have) => {
            return Err(BuildError::ConflictingProtocols {
                what: what.to_string(),
                present: l4_name(have),
                needed: l4_name(proto),
            })
        }
        None => {}
    }
    let mut deps = match proto {
        IPPROTO_ICMP => network_dep(rule, what, Net::V4)?,
        IPPROTO_ICMPV6 => network_dep(rule, what, Net::V6)?,
        _ => Vec::new(),
    };
    deps.extend(meta_byte_eq(MetaKey::L4proto, proto));
    Ok(deps)
}

impl Rule {
    /// Adds the dependencies `deps` computes at `place`, or records its
    /// error. Returns the rule and whether the caller may go on.
    pub(crate) fn with_deps(
        self,
        place: Place,
        deps: impl FnOnce(&Rule) -> Result<Vec<Expr>, BuildError>,
    ) -> (Rule, bool) {
        if self.build_error.is_some() {
            return (self, false);
        }
        match deps(&self) {
            Ok(d) => (insert_deps(self, place, d), true),
            Err(e) => (self.fail(e), false),
        }
    }
}

pub(crate) const IPPROTO_ICMP: u8 = 1;
pub(crate) const IPPROTO_TCP: u8 = 6;
pub(crate) const IPPROTO_UDP: u8 = 17;
pub(crate) const IPPROTO_ICMPV6: u8 = 58;

/// nft's name of a layer-4 protocol number.
pub(crate) fn l4_name(proto: u8) -> String {
    match proto {
        IPPROTO_ICMP => "icmp".into(),
        IPPROTO_TCP => "tcp".into(),
        IPPROTO_UDP => "udp".into(),
        IPPROTO_ICMPV6 => "icmpv6".into(),
        n => format!("l4proto {n}"),
    }
}
