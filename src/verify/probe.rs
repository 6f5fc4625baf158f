//! The probe packets the checks send through the evaluator, and the facts
//! they need about the ruleset: which source networks rules single out
//! (so `allowed_from` can name them) and which destination ports a
//! policy mentions (the candidates for "intended").
//!
//! Extracting candidates reads the rules' expressions, but no answer is
//! taken from them: every candidate is then *evaluated* (ARCHITECTURE.md
//! decision 6), so a candidate a rule mentions but never accepts is not
//! reported as allowed.

use std::collections::BTreeSet;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::eval::{BranchVerdict, Decision, Evaluation, Evaluator, Path};
use super::listeners::Proto;
use super::packet::{CtDirection, CtInfo, CtState, Interface, IpFamily, Packet, L4};
use crate::nft::expr::{CmpOp, MetaKey, PayloadBase, RangeOp};
use crate::nft::{Data, Expr, Family, Hook, Rule, Ruleset};

/// A source address on the Internet (TEST-NET-3, RFC 5737): "anyone".
pub const OUTSIDE_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
/// A source address on the Internet (documentation prefix, RFC 3849).
pub const OUTSIDE_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 7);
/// The local address used when the host's own is not known (TEST-NET-1).
pub const PLACEHOLDER_LOCAL_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The local IPv6 address used when the host's own is not known.
pub const PLACEHOLDER_LOCAL_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
/// The client's source port in probes.
pub const EPHEMERAL_PORT: u16 = 54321;

/// The source address standing for "anyone" in `family`.
pub fn outside(family: IpFamily) -> IpAddr {
    match family {
        IpFamily::V4 => IpAddr::V4(OUTSIDE_V4),
        IpFamily::V6 => IpAddr::V6(OUTSIDE_V6),
    }
}

/// What a probe's evaluation means for "is this traffic let in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", content = "detail", rename_all = "snake_case")]
pub enum Answer {
    /// Accepted by every base chain it meets.
    Accept,
    /// Accepted unless a rate limit, quota or connection count met on the
    /// way is exhausted (per-source limits of the profiles): the only
    /// undecidable points depend on traffic, and some outcome accepts.
    AcceptWithinLimits,
    /// Dropped.
    Drop,
    /// The evaluator could not decide; the reasons.
    Unknown(String),
}

impl Answer {
    /// Accepted (possibly within limits).
    pub fn is_accept(&self) -> bool {
        matches!(self, Answer::Accept | Answer::AcceptWithinLimits)
    }

    /// A word for reports.
    pub fn word(&self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::AcceptWithinLimits => "accept (within rate limits)",
            Answer::Drop => "drop",
            Answer::Unknown(_) => "unknown",
        }
    }
}

/// Whether an undecidable point depends only on traffic volume (the text
/// the evaluator's `limit`/`quota`/`ct count` matchers use).
fn traffic_dependent(reason: &str) -> bool {
    reason.contains("depends on traffic") || reason.contains("depends on the number of connections")
}

/// Classifies an evaluation.
pub fn classify(e: &Evaluation) -> Answer {
    match e.verdict {
        Decision::Accept => Answer::Accept,
        Decision::Drop => Answer::Drop,
        Decision::Unknown => {
            let only_traffic =
                !e.reasons.is_empty() && e.reasons.iter().all(|r| traffic_dependent(r));
            let some_accept = e
                .branches
                .iter()
                .any(|b| b.verdict == BranchVerdict::Accept);
            if only_traffic && some_accept {
                Answer::AcceptWithinLimits
            } else if only_traffic {
                Answer::Drop
            } else {
                Answer::Unknown(e.reasons.join("; "))
            }
        }
    }
}

/// The hooks an incoming packet for a local socket meets.
pub fn inbound_path() -> Path {
    Path::Hooks(vec![Hook::Prerouting, Hook::Input])
}

/// A packet opening a new connection (a TCP SYN or a UDP datagram).
pub fn new_connection(
    proto: Proto,
    src: IpAddr,
    dst: IpAddr,
    dport: u16,
    iif: &Interface,
) -> Packet {
    let p = match proto {
        Proto::Tcp => Packet::tcp_syn(Hook::Input, src, EPHEMERAL_PORT, dst, dport),
        Proto::Udp => Packet::udp(Hook::Input, src, EPHEMERAL_PORT, dst, dport),
    };
    p.with_iif(iif.clone())
}

/// A reply of an established connection the host opened (server `src`
/// port `sport` answering the host's ephemeral port).
pub fn established_reply(
    proto: Proto,
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    iif: &Interface,
) -> Packet {
    let l4 = match proto {
        Proto::Tcp => L4::Tcp {
            sport,
            dport: EPHEMERAL_PORT,
            flags: Some(super::packet::tcp_flags::ACK),
        },
        Proto::Udp => L4::Udp {
            sport,
            dport: EPHEMERAL_PORT,
        },
    };
    Packet::new(Hook::Input, src, dst, l4)
        .with_iif(iif.clone())
        .with_ct(CtInfo {
            state: Some(CtState::Established),
            direction: Some(CtDirection::Reply),
            status: None,
            mark: Some(0),
        })
}

/// Evaluates `p` along the inbound path and classifies the result.
pub fn inbound(ev: &Evaluator<'_>, p: &Packet) -> (Answer, Option<Evaluation>) {
    match ev.evaluate_path(p, &inbound_path()) {
        Ok(e) => (classify(&e), Some(e)),
        Err(err) => (Answer::Unknown(err.to_string()), None),
    }
}

/// The interface packets from the network arrive on: the IPv4 default
/// route's (`/proc/thread-self/net/route`), else the first non-loopback
/// interface of `/proc/thread-self/net/dev`, else a made-up `probe0`
/// (index 0, which no `meta iif` matches). Names come from the calling
/// thread's namespace.
pub fn external_interface() -> Interface {
    let from_route = fs::read_to_string("/proc/thread-self/net/route")
        .ok()
        .and_then(|t| {
            t.lines().skip(1).find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() > 2 && f[1] == "00000000").then(|| f[0].to_string())
            })
        });
    let from_dev = || {
        fs::read_to_string("/proc/thread-self/net/dev")
            .ok()
            .and_then(|t| {
                t.lines().skip(2).find_map(|l| {
                    let name = l.split(':').next()?.trim();
                    (name != "lo" && !name.is_empty()).then(|| name.to_string())
                })
            })
    };
    match from_route.or_else(from_dev) {
        Some(name) => {
            let index = crate::netlink::interface_index(&name)
                .ok()
                .flatten()
                .unwrap_or(0);
            let mut i = Interface::new(name, index);
            i.arphrd = Some(1);
            i
        }
        None => {
            let mut i = Interface::new("probe0", 0);
            i.arphrd = Some(1);
            i
        }
    }
}

/// The loopback interface (`lo`, `ARPHRD_LOOPBACK`).
pub fn loopback_interface() -> Interface {
    let index = crate::netlink::interface_index("lo")
        .ok()
        .flatten()
        .unwrap_or(1);
    let mut i = Interface::new("lo", index);
    i.arphrd = Some(772);
    i
}

/// A source the checks try: a label for reports and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCandidate {
    /// `any`, `operator`, or the network a rule names (`10.0.2.0/24`).
    pub label: String,
    /// An address standing for it.
    pub addr: IpAddr,
}

/// The sources to try in `family`: anyone, the operator when known, and
/// one address inside every source network or set element the rules of
/// `rs` compare `ip saddr` / `ip6 saddr` with.
pub fn source_candidates(
    rs: &Ruleset,
    family: IpFamily,
    operator: Option<IpAddr>,
) -> Vec<SourceCandidate> {
    let mut out = vec![SourceCandidate {
        label: "any".into(),
        addr: outside(family),
    }];
    if let Some(op) = operator.filter(|a| IpFamily::of(a) == family) {
        out.push(SourceCandidate {
            label: format!("operator {op}"),
            addr: op,
        });
    }
    let len = family.addr_len();
    let mut seen = BTreeSet::new();
    for r in &rs.rules {
        for (net, prefix) in saddr_networks(rs, r, len) {
            if !seen.insert((net.clone(), prefix)) {
                continue;
            }
            let mut rep = net.clone();
            // An address inside the network: the network address itself
            // for a host, else the first host.
            if usize::from(prefix) < len * 8 {
                if let Some(last) = rep.last_mut() {
                    *last |= 1;
                }
            }
            let (Some(net_addr), Some(addr)) = (to_ip(&net), to_ip(&rep)) else {
                continue;
            };
            out.push(SourceCandidate {
                label: format!("{net_addr}/{prefix}"),
                addr,
            });
        }
    }
    out
}

fn to_ip(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(b).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(b).ok()?)),
        _ => None,
    }
}

/// What a register holds while scanning a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Loaded {
    Saddr { mask: Option<Vec<u8>> },
    Dport,
}

/// `(network bytes, prefix)` of every source network rule `r` compares
/// an address of `len` bytes with.
fn saddr_networks(rs: &Ruleset, r: &Rule, len: usize) -> Vec<(Vec<u8>, u8)> {
    let saddr_at = if len == 4 { 12 } else { 8 };
    let mut regs: Vec<(u32, Loaded)> = Vec::new();
    let mut out = Vec::new();
    let get = |regs: &Vec<(u32, Loaded)>, reg: u32| {
        regs.iter()
            .rev()
            .find(|(r, _)| *r == reg)
            .map(|(_, l)| l.clone())
    };
    for e in &r.exprs {
        match e {
            Expr::Payload(p) => {
                if let Some(d) = p.dreg {
                    regs.retain(|(r, _)| *r != d);
                    if p.base == PayloadBase::Network
                        && p.offset as usize == saddr_at
                        && p.len as usize == len
                    {
                        regs.push((d, Loaded::Saddr { mask: None }));
                    }
                }
            }
            Expr::Bitwise(b) => {
                let src = get(&regs, b.sreg);
                regs.retain(|(r, _)| *r != b.dreg);
                if let (Some(Loaded::Saddr { .. }), Some(Data::Value(m))) = (src, &b.mask) {
                    if m.len() == len {
                        regs.push((
                            b.dreg,
                            Loaded::Saddr {
                                mask: Some(m.clone()),
                            },
                        ));
                    }
                }
            }
            Expr::Cmp(c) if c.op == CmpOp::Eq => {
                if let (Some(Loaded::Saddr { mask }), Data::Value(v)) =
                    (get(&regs, c.sreg), &c.data)
                {
                    if v.len() == len {
                        let prefix = mask
                            .as_ref()
                            .map_or(len as u32 * 8, |m| m.iter().map(|b| b.count_ones()).sum());
                        out.push((v.clone(), prefix as u8));
                    }
                }
            }
            Expr::Lookup(l) if l.dreg.is_none() => {
                if let Some(Loaded::Saddr { .. }) = get(&regs, l.sreg) {
                    for el in rs.elements_of(r.family, &r.table, &l.set) {
                        if el.is_interval_end() {
                            continue;
                        }
                        if let Some(k) = el.key.as_ref().filter(|k| k.len() == len) {
                            out.push((k.clone(), (len * 8) as u8));
                        }
                    }
                }
            }
            Expr::Meta(m) if m.dreg.is_some() => {
                if let Some(d) = m.dreg {
                    regs.retain(|(r, _)| *r != d);
                }
            }
            _ => {}
        }
    }
    out
}

/// A destination port range a policy mentions, with its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    /// TCP or UDP.
    pub proto: Proto,
    /// First port.
    pub first: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl PortRange {
    /// One port.
    pub fn single(proto: Proto, port: u16) -> Self {
        PortRange {
            proto,
            first: port,
            last: port,
        }
    }

    /// Whether `port`/`proto` lies in it.
    pub fn contains(&self, proto: Proto, port: u16) -> bool {
        self.proto == proto && self.first <= port && port <= self.last
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}/{}", self.first, self.proto.name())
        } else {
            write!(f, "{}-{}/{}", self.first, self.last, self.proto.name())
        }
    }
}

/// Every destination port (or range) the rules of `rs` compare the
/// transport header's destination port with (`tcp dport 22`, `udp dport
/// { 53, 123 }`, `th dport 8000-8100`), with the protocol the rule
/// requires (both TCP and UDP when it does not say).
pub fn mentioned_ports(rs: &Ruleset) -> Vec<PortRange> {
    let mut out = BTreeSet::new();
    for r in &rs.rules {
        let mut protos: Option<Vec<Proto>> = None;
        let mut regs: Vec<(u32, Loaded)> = Vec::new();
        let mut l4_reg: Option<u32> = None;
        let mut ports: Vec<(u16, u16)> = Vec::new();
        for e in &r.exprs {
            match e {
                Expr::Meta(m) => {
                    if let Some(d) = m.dreg {
                        regs.retain(|(x, _)| *x != d);
                        l4_reg = (m.key == MetaKey::L4proto)
                            .then_some(d)
                            .or(l4_reg.filter(|x| *x != d));
                    }
                }
                Expr::Payload(p) => {
                    if let Some(d) = p.dreg {
                        regs.retain(|(x, _)| *x != d);
                        if p.base == PayloadBase::Transport && p.offset == 2 && p.len == 2 {
                            regs.push((d, Loaded::Dport));
                        }
                        // `ip protocol` / `ip6 nexthdr` as the protocol test.
                        if p.base == PayloadBase::Network
                            && p.len == 1
                            && (p.offset == 9 || p.offset == 6)
                        {
                            l4_reg = Some(d);
                        }
                    }
                }
                Expr::Cmp(c) if c.op == CmpOp::Eq => {
                    let Data::Value(v) = &c.data else { continue };
                    if Some(c.sreg) == l4_reg && v.len() == 1 {
                        protos = Some(match v[0] {
                            6 => vec![Proto::Tcp],
                            17 => vec![Proto::Udp],
                            _ => vec![],
                        });
                    } else if regs
                        .iter()
                        .any(|(x, l)| *x == c.sreg && *l == Loaded::Dport)
                        && v.len() == 2
                    {
                        let p = u16::from_be_bytes([v[0], v[1]]);
                        ports.push((p, p));
                    }
                }
                Expr::Range(g)
                    if g.op == RangeOp::Eq
                        && regs
                            .iter()
                            .any(|(x, l)| *x == g.sreg && *l == Loaded::Dport) =>
                {
                    if let (Data::Value(a), Data::Value(b)) = (&g.from, &g.to) {
                        if a.len() == 2 && b.len() == 2 {
                            ports.push((
                                u16::from_be_bytes([a[0], a[1]]),
                                u16::from_be_bytes([b[0], b[1]]),
                            ));
                        }
                    }
                }
                Expr::Lookup(l)
                    if l.dreg.is_none()
                        && regs
                            .iter()
                            .any(|(x, k)| *x == l.sreg && *k == Loaded::Dport) =>
                {
                    {
                        let els = rs.elements_of(r.family, &r.table, &l.set);
                        let mut i = 0;
                        while i < els.len() {
                            let el = &els[i];
                            i += 1;
                            if el.is_interval_end() {
                                continue;
                            }
                            let Some(k) = el.key.as_ref().filter(|k| k.len() == 2) else {
                                continue;
                            };
                            let first = u16::from_be_bytes([k[0], k[1]]);
                            // An interval set stores a range as its start and an
                            // end element holding last+1.
                            let last = match els.get(i) {
                                Some(n) if n.is_interval_end() => {
                                    n.key.as_ref().filter(|k| k.len() == 2).map_or(first, |k| {
                                        u16::from_be_bytes([k[0], k[1]])
                                            .saturating_sub(1)
                                            .max(first)
                                    })
                                }
                                _ => first,
                            };
                            ports.push((first, last));
                        }
                    }
                }
                _ => {}
            }
        }
        let protos = protos.unwrap_or_else(|| vec![Proto::Tcp, Proto::Udp]);
        for (a, b) in ports {
            for p in &protos {
                out.insert(PortRange {
                    proto: *p,
                    first: a.min(b),
                    last: a.max(b),
                });
            }
        }
    }
    out.into_iter().collect()
}

/// The part of `rs` made of the tables matching `keep`.
pub fn tables_where(rs: &Ruleset, keep: impl Fn(Family, &str) -> bool) -> Ruleset {
    Ruleset {
        genid: rs.genid,
        tables: rs
            .tables
            .iter()
            .filter(|t| keep(t.family, &t.name))
            .cloned()
            .collect(),
        chains: rs
            .chains
            .iter()
            .filter(|c| keep(c.family, &c.table))
            .cloned()
            .collect(),
        rules: rs
            .rules
            .iter()
            .filter(|r| keep(r.family, &r.table))
            .cloned()
            .collect(),
        sets: rs
            .sets
            .iter()
            .filter(|s| keep(s.family, &s.table))
            .cloned()
            .collect(),
        elements: rs
            .elements
            .iter()
            .filter(|l| keep(l.family, &l.table))
            .cloned()
            .collect(),
        objects: rs
            .objects
            .iter()
            .filter(|o| keep(o.family, &o.table))
            .cloned()
            .collect(),
        flowtables: rs
            .flowtables
            .iter()
            .filter(|f| keep(f.family, &f.table))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::{Chain, ChainPolicy, Table};

    #[test]
    fn finds_ports_and_source_networks() {
        let mut rs = Ruleset::default();
        rs.tables.push(Table::new(Family::Inet, "t"));
        rs.chains.push(
            Chain::base(Family::Inet, "t", "input", Hook::Input, 0).with_policy(ChainPolicy::Drop),
        );
        rs.rules.push(
            Rule::new(Family::Inet, "t", "input")
                .tcp()
                .dport(22)
                .accept(),
        );
        rs.rules.push(
            Rule::new(Family::Inet, "t", "input")
                .udp()
                .dport(53)
                .accept(),
        );
        let ports = mentioned_ports(&rs);
        assert_eq!(
            ports,
            vec![
                PortRange::single(Proto::Tcp, 22),
                PortRange::single(Proto::Udp, 53)
            ]
        );
        let c = source_candidates(&rs, IpFamily::V4, Some("198.51.100.9".parse().unwrap()));
        assert_eq!(c[0].label, "any");
        assert_eq!(c[1].addr, "198.51.100.9".parse::<IpAddr>().unwrap());
        assert_eq!(c.len(), 2);
    }
}
