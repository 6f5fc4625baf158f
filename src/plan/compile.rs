//! An [`Intent`] → the desired `table inet nftguard` (chains, dynamic sets,
//! rules) and the one batch that installs it: `delete table` + `create
//! table …` when the table exists (atomic replacement, nothing in between is
//! ever visible), `create table …` when it does not.
//!
//! Per-source rate limits are dynamic sets (`ssh4` of `ipv4_addr`, `ssh6`
//! of `ipv6_addr`, flags `dynamic,timeout`) updated from the packet path,
//! each element carrying its own `limit` — exactly what nft 1.0.6 sends for
//! `tcp dport 22 ct state new update @ssh4 { ip saddr limit rate 10/minute
//! burst 20 packets } accept` (checked with `nft --debug=netlink`):
//!
//! ```text
//! [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x06 ]
//! [ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x1600 ]
//! [ ct load state => reg 1 ] [ bitwise reg 1 = (reg 1 & 0x08) ^ 0 ] [ cmp neq reg 1 0 ]
//! [ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x02 ]
//! [ payload load 4b @ network header + 12 => reg 1 ]
//! [ dynset update reg_key 1 set ssh4 expr [ limit rate 10/minute burst 20 type packets flags 0x0 ] ]
//! [ immediate reg 0 accept ]
//! ```
//!
//! A source over its rate makes the `limit` break the rule: the packet falls
//! through to the (logged) drop. `update` rather than `add` refreshes the
//! element's timeout on every new connection, so a source that keeps
//! knocking never gets a fresh full bucket by waiting for expiry.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::intent::{Action, Direction, ForwardMode, Intent, PerSourceLimit, Service, L4};
use crate::engine::Transaction;
use crate::error::Result;
use crate::nft::builder::{
    icmp_type, icmpv6_type, CtState, LogSpec, NfProto, RateLimit, RejectWith,
};
use crate::nft::consts::NFT_REG_1;
use crate::nft::expr::{Dynset, DynsetOp, Limit, LimitType, Payload, PayloadBase};
use crate::nft::set::{build_udata, SetUdata};
use crate::nft::{Chain, ChainPolicy, Family, Hook, Rule, Ruleset, Set, SetDesc, SetFlags, Table};
use crate::policy::RATE_LIMIT_COMMENT_SUFFIX;

/// Our table's name.
pub const TABLE: &str = "nftguard";
/// Our table's family: one table filters IPv4 and IPv6 alike.
pub const FAMILY: Family = Family::Inet;
/// Priority of our base chains (the `filter` priority).
pub const PRIORITY: i32 = 0;

/// `LOOPBACK_IFINDEX`: `lo` is interface 1 in every network namespace, so
/// `iif lo` needs no lookup.
const LO_IFINDEX: u32 = 1;
/// nft type ids of set keys.
const TYPE_IPV4_ADDR: u32 = 7;
const TYPE_IPV6_ADDR: u32 = 8;
/// nft's byte order tag for big-endian keys in set user data.
const BYTEORDER_BIG_ENDIAN: u32 = 2;
/// Dynamic sets are bounded: a flood of spoofed sources cannot eat memory.
pub const DYNAMIC_SET_SIZE: u32 = 65_535;

/// Per-source limit of ICMP/ICMPv6 echo requests.
const ECHO_LIMIT: PerSourceLimit = PerSourceLimit {
    rate: 5,
    unit: crate::nft::builder::LimitUnit::Second,
    burst: 10,
};

/// The desired table, as objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    /// `table inet nftguard`.
    pub table: Table,
    /// Its base chains.
    pub chains: Vec<Chain>,
    /// Its dynamic sets.
    pub sets: Vec<Set>,
    /// Its rules, chain by chain, in order.
    pub rules: Vec<Rule>,
}

impl Desired {
    /// The batch that makes the live table equal to this one: `delete
    /// table` first when `table_exists`, then `create table`, chains, sets
    /// and rules.
    pub fn transaction(&self, table_exists: bool) -> Transaction {
        let mut tx = Transaction::new();
        if table_exists {
            tx.delete_table(FAMILY, TABLE);
        }
        tx.create_table(self.table.clone());
        for c in &self.chains {
            tx.create_chain(c.clone());
        }
        for s in &self.sets {
            tx.create_set(s.clone());
        }
        for r in &self.rules {
            tx.add_rule(r.clone());
        }
        tx
    }

    /// The desired table as a [`Ruleset`] (for rendering and diffing).
    pub fn ruleset(&self, genid: u32) -> Ruleset {
        Ruleset {
            genid,
            tables: vec![self.table.clone()],
            chains: self.chains.clone(),
            rules: self.rules.clone(),
            sets: self.sets.clone(),
            ..Ruleset::default()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Net {
    V4,
    V6,
}

struct Builder {
    sets: Vec<Set>,
    rules: Vec<Rule>,
}

fn rule(chain: &str) -> Rule {
    Rule::new(FAMILY, TABLE, chain)
}

fn ms_timeout(l: &PerSourceLimit) -> u64 {
    // Long enough for an idle source's bucket to refill completely
    // (burst / rate periods), and at least a minute.
    let periods = u64::from(l.burst).div_ceil(u64::from(l.rate.max(1)));
    (periods * l.unit.seconds()).max(60) * 1000
}

impl Builder {
    fn dynamic_set(&mut self, name: &str, net: Net, l: &PerSourceLimit) -> Result<()> {
        let (key_type, key_len) = match net {
            Net::V4 => (TYPE_IPV4_ADDR, 4),
            Net::V6 => (TYPE_IPV6_ADDR, 16),
        };
        let mut s = Set::new(FAMILY, TABLE, name, key_type, key_len)
            .with_flags(SetFlags::TIMEOUT | SetFlags::EVAL);
        s.timeout = Some(ms_timeout(l));
        s.desc = Some(SetDesc {
            size: Some(DYNAMIC_SET_SIZE),
            ..SetDesc::default()
        });
        s.userdata = Some(build_udata(&[(
            SetUdata::KEY_BYTEORDER,
            &BYTEORDER_BIG_ENDIAN.to_ne_bytes(),
        )])?);
        self.sets.push(s);
        Ok(())
    }

    /// `… ct state new update @SET { ip[6] saddr limit rate … } `: appends
    /// the per-source limit (the network dependency only if `r` does not
    /// already fix the family).
    fn per_source(
        &mut self,
        r: Rule,
        net: Net,
        set: &str,
        l: &PerSourceLimit,
        has_family: bool,
    ) -> Result<Rule> {
        self.dynamic_set(set, net, l)?;
        let mut r = r.ct_state(CtState::NEW);
        let (proto, offset, len) = match net {
            Net::V4 => (NfProto::Ipv4, 12, 4),
            Net::V6 => (NfProto::Ipv6, 8, 16),
        };
        if !has_family {
            r = r.meta_nfproto(proto);
        }
        Ok(
            r.push(Payload::load(PayloadBase::Network, offset, len, NFT_REG_1))
                .push(Dynset {
                    sreg_key: NFT_REG_1,
                    sreg_data: None,
                    op: DynsetOp::Update,
                    set_name: set.to_string(),
                    set_id: None,
                    timeout: None,
                    expr: Some(Box::new(
                        Limit {
                            rate: u64::from(l.rate),
                            unit: l.unit.seconds(),
                            burst: l.burst,
                            kind: LimitType::Packets,
                            flags: 0,
                        }
                        .into(),
                    )),
                    exprs: None,
                    flags: None,
                }),
        )
    }

    fn add(&mut self, r: Rule, comment: &str) -> Result<()> {
        let r = if comment.is_empty() {
            r
        } else {
            r.comment(comment)
        };
        self.rules.push(r.checked()?);
        Ok(())
    }

    fn drop_log(&mut self, chain: &str, intent: &Intent) -> Result<()> {
        if let Some(log) = &intent.drop_log {
            let r = rule(chain)
                .limit(RateLimit::packets(u64::from(log.rate), log.unit).burst(log.burst))
                .log(LogSpec::new().prefix(&log.prefix));
            self.add(r, "log dropped packets (rate-limited)")?;
        }
        Ok(())
    }

    fn common_head(&mut self, chain: &str, inbound: bool) -> Result<()> {
        if inbound {
            self.add(rule(chain).iif_index(LO_IFINDEX).accept(), "loopback")?;
            self.add(
                rule(chain).ip_saddr("127.0.0.0/8").drop(),
                "loopback addresses not from lo",
            )?;
            self.add(
                rule(chain).ip6_saddr("::1").drop(),
                "loopback addresses not from lo",
            )?;
        } else {
            self.add(
                rule(chain)
                    .push(crate::nft::expr::Meta::load(
                        crate::nft::expr::MetaKey::Oif,
                        NFT_REG_1,
                    ))
                    .push(crate::nft::expr::Cmp::new(
                        NFT_REG_1,
                        crate::nft::expr::CmpOp::Eq,
                        LO_IFINDEX.to_ne_bytes().to_vec(),
                    ))
                    .accept(),
                "loopback",
            )?;
        }
        self.add(
            rule(chain)
                .ct_state(CtState::ESTABLISHED | CtState::RELATED)
                .accept(),
            "established,related",
        )?;
        self.add(rule(chain).ct_state(CtState::INVALID).drop(), "invalid")?;
        Ok(())
    }

    fn icmp_inbound(&mut self, intent: &Intent) -> Result<()> {
        let chain = "input";
        if intent.icmp_v4 {
            for (t, name) in [
                (
                    icmp_type::DESTINATION_UNREACHABLE,
                    "destination-unreachable",
                ),
                (icmp_type::TIME_EXCEEDED, "time-exceeded"),
                (icmp_type::PARAMETER_PROBLEM, "parameter-problem"),
            ] {
                self.add(rule(chain).icmp_type(t).accept(), &format!("icmp {name}"))?;
            }
            let r = rule(chain).icmp_type(icmp_type::ECHO_REQUEST);
            let r = self.per_source(r, Net::V4, "ping4", &ECHO_LIMIT, true)?;
            self.add(r.accept(), "icmp echo-request (per source)")?;
        }
        let mut v6: Vec<(u8, &str)> = Vec::new();
        if intent.icmp_v6 {
            v6.extend([
                (
                    icmpv6_type::DESTINATION_UNREACHABLE,
                    "destination-unreachable",
                ),
                (icmpv6_type::PACKET_TOO_BIG, "packet-too-big"),
                (icmpv6_type::TIME_EXCEEDED, "time-exceeded"),
                (icmpv6_type::PARAMETER_PROBLEM, "parameter-problem"),
            ]);
        }
        // RFC 4890 §4.4.1: neighbour and router discovery and multicast
        // listener discovery must pass, or IPv6 stops working on the link.
        v6.extend([
            (icmpv6_type::ND_ROUTER_SOLICIT, "nd-router-solicit"),
            (icmpv6_type::ND_ROUTER_ADVERT, "nd-router-advert"),
            (icmpv6_type::ND_NEIGHBOR_SOLICIT, "nd-neighbor-solicit"),
            (icmpv6_type::ND_NEIGHBOR_ADVERT, "nd-neighbor-advert"),
            (icmpv6_type::MLD_LISTENER_QUERY, "mld-listener-query"),
            (MLD_LISTENER_REPORT, "mld-listener-report"),
            (MLD2_LISTENER_REPORT, "mld2-listener-report"),
        ]);
        for (t, name) in v6 {
            self.add(
                rule(chain).icmpv6_type(t).accept(),
                &format!("icmpv6 {name}"),
            )?;
        }
        if intent.icmp_v6 {
            let r = rule(chain).icmpv6_type(icmpv6_type::ECHO_REQUEST);
            let r = self.per_source(r, Net::V6, "ping6", &ECHO_LIMIT, true)?;
            self.add(r.accept(), "icmpv6 echo-request (per source)")?;
        }
        Ok(())
    }

    fn icmp_outbound(&mut self) -> Result<()> {
        for (t, name) in [
            (icmpv6_type::ND_ROUTER_SOLICIT, "nd-router-solicit"),
            (icmpv6_type::ND_NEIGHBOR_SOLICIT, "nd-neighbor-solicit"),
            (icmpv6_type::ND_NEIGHBOR_ADVERT, "nd-neighbor-advert"),
            (MLD_LISTENER_REPORT, "mld-listener-report"),
            (MLD2_LISTENER_REPORT, "mld2-listener-report"),
        ] {
            self.add(
                rule("output").icmpv6_type(t).accept(),
                &format!("icmpv6 {name}"),
            )?;
        }
        Ok(())
    }

    fn service(&mut self, index: usize, s: &Service, ssh_port: u16) -> Result<()> {
        let chain = s.direction.chain();
        let mut r = rule(chain);
        if let Some(i) = &s.interface {
            r = match s.direction {
                Direction::Input => r.iifname(i),
                Direction::Output => r.oifname(i),
            };
        }
        let mut family = None;
        if let Some(src) = s.source {
            r = match src.addr() {
                IpAddr::V4(_) => r.ip_saddr((src.addr(), src.prefix_len())),
                IpAddr::V6(_) => r.ip6_saddr((src.addr(), src.prefix_len())),
            };
            family = Some(if src.is_ipv4() { Net::V4 } else { Net::V6 });
        }
        if let Some(dst) = s.destination {
            r = match dst.addr() {
                IpAddr::V4(_) => r.ip_daddr((dst.addr(), dst.prefix_len())),
                IpAddr::V6(_) => r.ip6_daddr((dst.addr(), dst.prefix_len())),
            };
            family = Some(if dst.is_ipv4() { Net::V4 } else { Net::V6 });
        }
        r = match (s.proto, s.ports) {
            (Some(L4::Tcp), Some((a, b))) => r.tcp().dport(port_spec(a, b)),
            (Some(L4::Udp), Some((a, b))) => r.udp().dport(port_spec(a, b)),
            (Some(L4::Tcp), None) => r.meta_l4proto(6),
            (Some(L4::Udp), None) => r.meta_l4proto(17),
            (Some(L4::Icmp), _) => r.meta_nfproto(NfProto::Ipv4).meta_l4proto(1),
            (Some(L4::Icmpv6), _) => r.meta_nfproto(NfProto::Ipv6).meta_l4proto(58),
            (None, _) => r,
        };
        if matches!(s.proto, Some(L4::Icmp)) {
            family = Some(Net::V4);
        }
        if matches!(s.proto, Some(L4::Icmpv6)) {
            family = Some(Net::V6);
        }
        let finish = |r: Rule| -> Rule {
            let r = r.counter();
            match s.action {
                Action::Accept => r.accept(),
                Action::Drop => r.drop(),
                Action::Reject if s.proto == Some(L4::Tcp) => r.reject(RejectWith::TcpReset),
                Action::Reject => r.reject(RejectWith::PortUnreachable),
            }
        };
        match &s.rate_limit {
            None => self.add(finish(r), &s.comment),
            Some(l) => {
                let is_ssh = s.proto == Some(L4::Tcp) && s.ports == Some((ssh_port, ssh_port));
                let base = if is_ssh && s.comment == "ssh" {
                    "ssh".to_string()
                } else {
                    format!("limit{index}_")
                };
                let nets: Vec<Net> = match family {
                    Some(n) => vec![n],
                    None => vec![Net::V4, Net::V6],
                };
                for net in nets {
                    let set = format!("{base}{}", if net == Net::V4 { 4 } else { 6 });
                    let limited = self.per_source(r.clone(), net, &set, l, family.is_some())?;
                    let comment = if s.comment.is_empty() {
                        "per-source rate limit".to_string()
                    } else {
                        format!("{}{RATE_LIMIT_COMMENT_SUFFIX}", s.comment)
                    };
                    self.add(finish(limited), &comment)?;
                }
                Ok(())
            }
        }
    }
}

/// `mld-listener-report` (131).
const MLD_LISTENER_REPORT: u8 = 131;
/// `mld2-listener-report` (143).
const MLD2_LISTENER_REPORT: u8 = 143;

fn port_spec(a: u16, b: u16) -> crate::nft::builder::PortSpec {
    if a == b {
        crate::nft::builder::PortSpec::Port(a)
    } else {
        crate::nft::builder::PortSpec::Range(a, b)
    }
}

/// Compiles `intent` into the desired table.
pub fn compile(intent: &Intent) -> Result<Desired> {
    let mut b = Builder {
        sets: Vec::new(),
        rules: Vec::new(),
    };
    let mut chains = Vec::new();
    let policy = |drop: bool| {
        if drop {
            ChainPolicy::Drop
        } else {
            ChainPolicy::Accept
        }
    };

    chains.push(
        Chain::base(FAMILY, TABLE, "input", Hook::Input, PRIORITY)
            .with_policy(policy(intent.input_drop)),
    );
    b.common_head("input", true)?;
    b.icmp_inbound(intent)?;
    for (i, s) in intent.services.iter().enumerate() {
        if s.direction == Direction::Input {
            b.service(i, s, intent.ssh_port)?;
        }
    }
    if intent.input_drop {
        b.drop_log("input", intent)?;
    }

    if intent.forward == ForwardMode::Drop {
        chains.push(
            Chain::base(FAMILY, TABLE, "forward", Hook::Forward, PRIORITY)
                .with_policy(ChainPolicy::Drop),
        );
        b.drop_log("forward", intent)?;
    }

    let outbound = intent
        .services
        .iter()
        .any(|s| s.direction == Direction::Output);
    if intent.output_drop || outbound {
        chains.push(
            Chain::base(FAMILY, TABLE, "output", Hook::Output, PRIORITY)
                .with_policy(policy(intent.output_drop)),
        );
        if intent.output_drop {
            b.common_head("output", false)?;
            b.icmp_outbound()?;
        }
        for (i, s) in intent.services.iter().enumerate() {
            if s.direction == Direction::Output {
                b.service(i, s, intent.ssh_port)?;
            }
        }
        if intent.output_drop {
            b.drop_log("output", intent)?;
        }
    }

    Ok(Desired {
        table: Table::new(FAMILY, TABLE),
        chains,
        sets: b.sets,
        rules: b.rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::rule::MAX_COMMENT_BYTES;
    use crate::plan::profiles::{policy_intent, HostFacts};
    use crate::policy::Policy;

    fn policy_with(comment: &str, rate: &str) -> Policy {
        let text = format!(
            "schema_version: \"2.0\"\ninbound:\n  default: deny\n  rules:\n    - proto: tcp\n      port: 8080\n      action: accept\n{rate}      comment: {comment}\noutbound:\n  default: accept\nforward:\n  default: deny\nicmp:\n  ipv4: accept\n  ipv6: accept\n"
        );
        Policy::from_str(&text, "policy.yaml").unwrap()
    }

    fn facts() -> HostFacts {
        HostFacts {
            ssh_port: 22,
            forwarding_owner: None,
        }
    }

    #[test]
    fn longest_policy_comments_reach_the_rules_whole() {
        let longest = "c".repeat(MAX_COMMENT_BYTES);
        let d = compile(&policy_intent(&policy_with(&longest, ""), &facts())).unwrap();
        assert!(d
            .rules
            .iter()
            .any(|r| r.comment_text() == Some(longest.clone())));

        let limited = "l".repeat(MAX_COMMENT_BYTES - RATE_LIMIT_COMMENT_SUFFIX.len());
        let p = policy_with(&limited, "      rate_limit: 5/min\n");
        let d = compile(&policy_intent(&p, &facts())).unwrap();
        let want = format!("{limited}{RATE_LIMIT_COMMENT_SUFFIX}");
        assert_eq!(
            d.rules
                .iter()
                .filter(|r| r.comment_text() == Some(want.clone()))
                .count(),
            2
        );
    }

    #[test]
    fn overlong_intent_comment_is_an_error() {
        let mut intent = policy_intent(&policy_with("short", ""), &facts());
        intent.services[0].comment = "c".repeat(MAX_COMMENT_BYTES + 1);
        let err = compile(&intent).unwrap_err().to_string();
        assert!(err.contains("128-byte limit"), "{err}");
    }
}
