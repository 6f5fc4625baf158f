//! The semantic diff: the desired table and the live one, each rule read
//! back into a [`DiffEntry`] (`{proto, port, source, action, rate_limit,
//! family, comment}` plus the chain and any other condition), then matched
//! as multisets. Both sides go through the same reader, so a table that
//! was installed from a plan diffs as "all skip" against that plan.
//!
//! Rules the reader does not fully understand (xt matches, lookups, …)
//! still give an entry: what it could not name is listed in `matches`.

use serde::{Deserialize, Serialize};

use crate::nft::expr::{CmpOp, CtKey, Expr, MetaKey, PayloadBase};
use crate::nft::{Chain, ChainPolicy, Data, Family, Rule, Ruleset, Verdict};

/// One rule (or chain policy) in plain terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffEntry {
    /// The chain (`input`, `output`, `forward`, or a foreign chain's name).
    pub chain: String,
    /// `inet` (IPv4 and IPv6), `ipv4` or `ipv6`.
    pub family: String,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or `any`.
    pub proto: String,
    /// A port number, `"first-last"`, or `"any"`.
    pub port: serde_json::Value,
    /// `any` or a network; `!` in front when negated.
    pub source: String,
    /// Destination network, when the rule matches one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `accept`, `drop`, `reject`, `jump CHAIN`, `goto CHAIN`, `return`,
    /// `log`, or `continue` (no verdict).
    pub action: String,
    /// `10/minute burst 20 per source`, `5/minute burst 10`, or null.
    pub rate_limit: Option<String>,
    /// The rule's comment.
    pub comment: Option<String>,
    /// Every other condition, in nft words, separated by `; ` (`iif lo`,
    /// `ct state new`,
    /// `icmp type 8`, `policy` for a chain's default verdict, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    /// Why a desired entry is skipped (`already_exists`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl DiffEntry {
    /// Whether `self` and `other` describe the same rule (everything but
    /// the comment and the reason).
    pub fn same_rule(&self, other: &DiffEntry) -> bool {
        self.chain == other.chain
            && self.family == other.family
            && self.proto == other.proto
            && self.port == other.port
            && self.source == other.source
            && self.destination == other.destination
            && self.action == other.action
            && self.rate_limit == other.rate_limit
            && self.matches == other.matches
    }

    /// Whether this entry is a chain's default verdict.
    pub fn is_policy(&self) -> bool {
        self.matches.as_deref() == Some("policy")
    }

    /// A port-bearing service rule (TCP/UDP with a port).
    pub fn is_service(&self) -> bool {
        matches!(self.proto.as_str(), "tcp" | "udp") && self.port != serde_json::json!("any")
    }
}

/// The diff. Field names are the plan's JSON keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// Desired entries the live table lacks.
    pub add: Vec<DiffEntry>,
    /// Desired entries already live (each with a `reason`).
    pub skip: Vec<DiffEntry>,
    /// Live entries the desired table lacks.
    pub remove: Vec<DiffEntry>,
}

impl Diff {
    /// Nothing to add or remove.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// Matches `desired` against `live` (as multisets, by [`DiffEntry::same_rule`]).
pub fn diff(desired: &[DiffEntry], live: &[DiffEntry], skip_reason: &str) -> Diff {
    let mut used = vec![false; live.len()];
    let mut out = Diff::default();
    for d in desired {
        let hit = live
            .iter()
            .enumerate()
            .find(|(i, l)| !used[*i] && d.same_rule(l))
            .map(|(i, _)| i);
        match hit {
            Some(i) => {
                used[i] = true;
                let mut e = d.clone();
                e.reason = Some(skip_reason.to_string());
                out.skip.push(e);
            }
            None => out.add.push(d.clone()),
        }
    }
    out.remove = live
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(l, _)| l.clone())
        .collect();
    out
}

/// The entries of one table: each base chain's policy, then its rules,
/// chain by chain, in the ruleset's order.
pub fn table_entries(rs: &Ruleset, family: Family, table: &str) -> Vec<DiffEntry> {
    let mut out = Vec::new();
    for c in rs.chains_of(family, table) {
        if let Some(p) = policy_entry(c) {
            out.push(p);
        }
        out.extend(rs.rules_of(family, table, &c.name).map(rule_entry));
    }
    out
}

/// The default-verdict entry of a base chain.
pub fn policy_entry(c: &Chain) -> Option<DiffEntry> {
    let policy = c.policy?;
    c.hook.as_ref()?;
    Some(DiffEntry {
        chain: c.name.clone(),
        family: family_name(c.family, None).into(),
        proto: "any".into(),
        port: "any".into(),
        source: "any".into(),
        destination: None,
        action: match policy {
            ChainPolicy::Accept => "accept".into(),
            ChainPolicy::Drop => "drop".into(),
            ChainPolicy::Other(n) => format!("verdict {n}"),
        },
        rate_limit: None,
        comment: Some("default policy".into()),
        matches: Some("policy".into()),
        reason: None,
    })
}

fn family_name(f: Family, nfproto: Option<u8>) -> &'static str {
    match (f, nfproto) {
        (Family::Ipv4, _) | (_, Some(2)) => "ipv4",
        (Family::Ipv6, _) | (_, Some(10)) => "ipv6",
        (Family::Inet, None) => "inet",
        _ => "other",
    }
}

/// What register 1 holds while reading a rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loaded {
    Nothing,
    Meta(MetaKey),
    Payload(PayloadBase, u32, u32),
    Ct(CtKey),
}

fn l4_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        n => format!("l4proto {n}"),
    }
}

fn ct_state_names(mask: u32) -> String {
    let names = [
        (1u32, "invalid"),
        (2, "established"),
        (4, "related"),
        (8, "new"),
        (64, "untracked"),
    ];
    let v: Vec<&str> = names
        .iter()
        .filter(|(b, _)| mask & b != 0)
        .map(|(_, n)| *n)
        .collect();
    v.join(",")
}

fn ifname(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0);
    let name = String::from_utf8_lossy(&bytes[..end.unwrap_or(bytes.len())]).into_owned();
    if end.is_none() && bytes.len() < 16 {
        format!("{name}*")
    } else {
        name
    }
}

fn prefix(bytes: &[u8], mask: Option<&[u8]>, v6: bool) -> String {
    let width = if v6 { 16 } else { 4 };
    let mut full = bytes.to_vec();
    full.resize(width, 0);
    let len: u32 = match mask {
        Some(m) => m.iter().map(|b| b.count_ones()).sum(),
        None => bytes.len() as u32 * 8,
    };
    let addr: std::net::IpAddr = if v6 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&full[..16]);
        std::net::Ipv6Addr::from(a).into()
    } else {
        std::net::Ipv4Addr::new(full[0], full[1], full[2], full[3]).into()
    };
    if len as usize == width * 8 {
        addr.to_string()
    } else {
        format!("{addr}/{len}")
    }
}

fn limit_text(l: &crate::nft::expr::Limit) -> String {
    let unit = match l.unit {
        1 => "second".to_string(),
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        604_800 => "week".into(),
        n => format!("{n}s"),
    };
    let over = if l.flags & 1 != 0 { "over " } else { "" };
    let bytes = if l.kind == crate::nft::expr::LimitType::Bytes {
        " bytes"
    } else {
        ""
    };
    format!("{over}{}{bytes}/{unit} burst {}", l.rate, l.burst)
}

fn be_u16(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.try_into().ok()?))
}

/// Reads a rule back into a [`DiffEntry`].
pub fn rule_entry(r: &Rule) -> DiffEntry {
    let mut nfproto: Option<u8> = None;
    let mut proto: Option<u8> = None;
    let mut port = serde_json::json!("any");
    let mut source = "any".to_string();
    let mut destination = None;
    let mut action: Option<String> = None;
    let mut rate_limit = None;
    let mut matches: Vec<String> = Vec::new();
    let mut loaded = Loaded::Nothing;
    let mut mask: Option<Vec<u8>> = None;
    let mut pending_low: Option<u16> = None;
    let is_v6 = |nf: Option<u8>| r.family == Family::Ipv6 || nf == Some(10);
    let is_v4 = |nf: Option<u8>| r.family == Family::Ipv4 || nf == Some(2);

    for e in &r.exprs {
        match e {
            Expr::Meta(m) if m.dreg.is_some() => {
                loaded = Loaded::Meta(m.key);
                mask = None;
            }
            Expr::Payload(p) if p.dreg.is_some() => {
                loaded = Loaded::Payload(p.base, p.offset, p.len);
                mask = None;
            }
            Expr::Ct(c) if c.dreg.is_some() => {
                loaded = Loaded::Ct(c.key);
                mask = None;
            }
            Expr::Bitwise(b) => {
                let zero_xor = b
                    .xor
                    .as_ref()
                    .and_then(Data::value)
                    .is_none_or(|x| x.iter().all(|v| *v == 0));
                match (b.mask.as_ref().and_then(Data::value), zero_xor) {
                    (Some(m), true) => mask = Some(m.to_vec()),
                    _ => matches.push("bitwise".into()),
                }
            }
            Expr::Cmp(c) => {
                let Some(v) = c.data.value() else {
                    matches.push("cmp".into());
                    continue;
                };
                let neg = if c.op == CmpOp::Neq { "!= " } else { "" };
                let eq_or_ne = matches!(c.op, CmpOp::Eq | CmpOp::Neq);
                match (loaded, c.op) {
                    (Loaded::Meta(MetaKey::Nfproto), CmpOp::Eq) if v.len() == 1 => {
                        nfproto = Some(v[0])
                    }
                    (Loaded::Meta(MetaKey::L4proto), CmpOp::Eq) if v.len() == 1 => {
                        proto = Some(v[0])
                    }
                    (Loaded::Meta(MetaKey::Iif | MetaKey::Oif), _) if eq_or_ne => {
                        let dir = if loaded == Loaded::Meta(MetaKey::Iif) {
                            "iif"
                        } else {
                            "oif"
                        };
                        let idx = <[u8; 4]>::try_from(v).map(u32::from_ne_bytes).ok();
                        match idx {
                            Some(1) => matches.push(format!("{dir} {neg}lo")),
                            Some(n) => matches.push(format!("{dir} {neg}{n}")),
                            None => matches.push(dir.into()),
                        }
                    }
                    (Loaded::Meta(MetaKey::Iifname), _) if eq_or_ne => {
                        matches.push(format!("iifname {neg}\"{}\"", ifname(v)))
                    }
                    (Loaded::Meta(MetaKey::Oifname), _) if eq_or_ne => {
                        matches.push(format!("oifname {neg}\"{}\"", ifname(v)))
                    }
                    (Loaded::Payload(PayloadBase::Network, off, _), _) if eq_or_ne => {
                        let field = if is_v4(nfproto) {
                            match off {
                                12 => Some((true, false)),
                                16 => Some((false, false)),
                                _ => None,
                            }
                        } else if is_v6(nfproto) {
                            match off {
                                8 => Some((true, true)),
                                24 => Some((false, true)),
                                _ => None,
                            }
                        } else {
                            None
                        };
                        match field {
                            Some((src, v6)) => {
                                let text =
                                    format!("{}{}", neg.trim(), prefix(v, mask.as_deref(), v6));
                                let text = text.replacen("!=", "!", 1);
                                if src {
                                    source = text;
                                } else {
                                    destination = Some(text);
                                }
                            }
                            None => matches.push(format!("network header +{off}")),
                        }
                    }
                    (Loaded::Payload(PayloadBase::Transport, 2, 2), CmpOp::Eq)
                        if matches!(proto, Some(6 | 17)) =>
                    {
                        port = be_u16(v).map_or(port, |p| serde_json::json!(p));
                    }
                    (Loaded::Payload(PayloadBase::Transport, 2, 2), CmpOp::Gte)
                        if matches!(proto, Some(6 | 17)) =>
                    {
                        pending_low = be_u16(v);
                    }
                    (Loaded::Payload(PayloadBase::Transport, 2, 2), CmpOp::Lte)
                        if matches!(proto, Some(6 | 17)) && pending_low.is_some() =>
                    {
                        if let (Some(lo), Some(hi)) = (pending_low.take(), be_u16(v)) {
                            port = serde_json::json!(format!("{lo}-{hi}"));
                        }
                    }
                    (Loaded::Payload(PayloadBase::Transport, 0, 1), CmpOp::Eq)
                        if matches!(proto, Some(1 | 58)) =>
                    {
                        matches.push(format!("type {}", v[0]));
                    }
                    (Loaded::Ct(CtKey::State), _) if mask.is_some() => {
                        let m = mask
                            .as_deref()
                            .and_then(|m| <[u8; 4]>::try_from(m).ok())
                            .map_or(0, u32::from_ne_bytes);
                        let zero = v.iter().all(|b| *b == 0);
                        match (c.op, zero) {
                            (CmpOp::Neq, true) => {
                                matches.push(format!("ct state {}", ct_state_names(m)))
                            }
                            (CmpOp::Eq, true) => {
                                matches.push(format!("ct state ! {}", ct_state_names(m)))
                            }
                            _ => matches.push("ct state ?".into()),
                        }
                    }
                    _ => matches.push(format!("{} {:?}", loaded_name(loaded), c.op).to_lowercase()),
                }
                mask = None;
            }
            Expr::Counter(_) => {}
            Expr::Limit(l) => rate_limit = Some(limit_text(l)),
            Expr::Dynset(d) => {
                let limit = d.expr.as_deref().and_then(|e| match e {
                    Expr::Limit(l) => Some(limit_text(l)),
                    _ => None,
                });
                match limit {
                    Some(t)
                        if matches!(loaded, Loaded::Payload(PayloadBase::Network, 12 | 8, _)) =>
                    {
                        rate_limit = Some(format!("{t} per source"))
                    }
                    _ => matches.push(format!("dynset @{}", d.set_name)),
                }
            }
            Expr::Log(_) => {
                if action.is_none() {
                    action = Some("log".into());
                }
            }
            Expr::Reject(_) => action = Some("reject".into()),
            Expr::Immediate(i) => match &i.data {
                Data::Verdict(v) => {
                    action = Some(match v {
                        Verdict::Accept => "accept".into(),
                        Verdict::Drop => "drop".into(),
                        Verdict::Return => "return".into(),
                        Verdict::Jump(c) => format!("jump {}", chain_ref(c)),
                        Verdict::Goto(c) => format!("goto {}", chain_ref(c)),
                        other => format!("{other:?}").to_lowercase(),
                    })
                }
                Data::Value(_) => matches.push("immediate".into()),
            },
            other => matches.push(other.name().to_string()),
        }
    }
    DiffEntry {
        chain: r.chain.clone(),
        family: family_name(r.family, nfproto).into(),
        proto: proto.map_or_else(|| "any".into(), l4_name),
        port,
        source,
        destination,
        action: action.unwrap_or_else(|| "continue".into()),
        rate_limit,
        comment: r.comment_text(),
        matches: if matches.is_empty() {
            None
        } else {
            Some(matches.join("; "))
        },
        reason: None,
    }
}

fn loaded_name(l: Loaded) -> String {
    match l {
        Loaded::Nothing => "value".into(),
        Loaded::Meta(k) => format!("meta {k:?}"),
        Loaded::Payload(b, o, n) => format!("payload {b:?}+{o}/{n}"),
        Loaded::Ct(k) => format!("ct {k:?}"),
    }
}

fn chain_ref(c: &crate::nft::data::ChainRef) -> String {
    match c {
        crate::nft::data::ChainRef::Name(n) => n.clone(),
        other => format!("{other:?}"),
    }
}
