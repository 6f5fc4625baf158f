//! Rules encoded exactly as iptables-nft (1.8.9) encodes them, for the
//! one foreign place nftguard may write into: a chain meant for users,
//! such as Docker's `DOCKER-USER` in `table ip filter`.
//!
//! [`IptRule`] is a small typed description of an iptables rule;
//! [`IptRule::to_rule`] produces the nf_tables [`Rule`] iptables-nft would
//! send for the equivalent command line (`nft_ipv4_add` / `nft_ipv6_add`):
//!
//! 1. `-i`, `-o` (`meta iifname/oifname` + `cmp`; `+` wildcards compare the
//!    prefix without NUL), `-p` (`meta l4proto` + `cmp`), `-s`, `-d`
//!    (`payload` of the prefix bytes, with `bitwise` only when the prefix is
//!    not byte-aligned);
//! 2. the matches in order: `tcp`/`udp` ports natively (`payload th` +
//!    `cmp`, both ports in one 4-byte load when both are single and
//!    equally inverted; ranges as `range`), everything else as xt `match`;
//! 3. `counter`;
//! 4. the verdict (`immediate`) or an xt `target`.
//!
//! The rule carries `NFTA_RULE_COMPAT` (protocol and inversion flag), as
//! iptables-nft always sends it, and no user data.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::nft::expr::{
    Bitwise, Cmp, CmpOp, Counter, Immediate, Meta, MetaKey, Payload, PayloadBase, Range, RangeOp,
};
use crate::nft::{Data, Expr, Family, Rule, RuleCompat, Verdict};

use super::xt::conntrack::{self, Conntrack};
use super::xt::{Comment, Reject, XtExpr, XtInfo, XtKind};

/// `NFT_RULE_COMPAT_F_INV`: the protocol match is inverted.
pub const NFT_RULE_COMPAT_F_INV: u32 = 1 << 1;

/// `-i`/`-o`: an interface name, `+` at the end for a prefix wildcard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfaceMatch {
    /// Name (at most 15 bytes), optionally ending in `+`.
    pub name: String,
    /// `!`.
    pub invert: bool,
}

/// `-s`/`-d`: an address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrMatch {
    /// Address (host bits are cleared as iptables does).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// `!`.
    pub invert: bool,
}

impl AddrMatch {
    /// Parses `A.B.C.D[/N]` or `X::Y[/N]` (no prefix = host).
    pub fn parse(text: &str, invert: bool) -> Result<Self> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| invalid(format!("bad address `{text}`")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| invalid(format!("bad prefix length in `{text}`")))?,
            None => max,
        };
        Ok(AddrMatch {
            addr,
            prefix,
            invert,
        })
    }
}

/// A port or an inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMatch {
    /// Lowest port.
    pub from: u16,
    /// Highest port (= `from` for one port).
    pub to: u16,
    /// `!`.
    pub invert: bool,
}

impl PortMatch {
    /// One port.
    pub fn single(port: u16) -> Self {
        PortMatch {
            from: port,
            to: port,
            invert: false,
        }
    }
}

/// Connection tracking states of `--ctstate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtState {
    /// `INVALID`.
    Invalid,
    /// `NEW`.
    New,
    /// `RELATED`.
    Related,
    /// `ESTABLISHED`.
    Established,
    /// `UNTRACKED`.
    Untracked,
    /// `SNAT`.
    Snat,
    /// `DNAT`.
    Dnat,
}

impl CtState {
    fn bit(self) -> u16 {
        (match self {
            CtState::Invalid => conntrack::STATE_INVALID,
            CtState::New => conntrack::STATE_NEW,
            CtState::Related => conntrack::STATE_RELATED,
            CtState::Established => conntrack::STATE_ESTABLISHED,
            CtState::Untracked => conntrack::STATE_UNTRACKED,
            CtState::Snat => conntrack::STATE_SNAT,
            CtState::Dnat => conntrack::STATE_DNAT,
        }) as u16
    }
}

/// `--ctdir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CtDir {
    /// `ORIGINAL`.
    Original,
    /// `REPLY`.
    Reply,
}

/// A match after `-m`, in command-line order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchSpec {
    /// `-m conntrack [!] --ctstate S,S…`.
    CtState {
        /// States.
        states: Vec<CtState>,
        /// `!`.
        invert: bool,
    },
    /// `-m conntrack [!] --ctorigdstport P[:Q] [--ctdir D]`: the original
    /// destination port of the connection (before DNAT), the way to match
    /// published container ports in `DOCKER-USER`.
    CtOrigDstPort {
        /// Port or range (`invert` is `!`).
        port: PortMatch,
        /// Direction, if given.
        dir: Option<CtDir>,
    },
    /// `-m comment --comment TEXT` (at most 255 bytes).
    Comment(String),
}

/// `-j`/`-g`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSpec {
    /// `-j ACCEPT`.
    Accept,
    /// `-j DROP`.
    Drop,
    /// `-j RETURN`.
    Return,
    /// `-j REJECT [--reject-with …]`: the `ipt_reject_with` /
    /// `ip6t_reject_with` value, `None` for iptables' default (port
    /// unreachable).
    Reject(Option<u32>),
    /// `-j CHAIN`.
    Jump(String),
    /// `-g CHAIN`.
    Goto(String),
}

/// A small typed iptables rule: the options iptables-nft encodes
/// natively plus the matches `DOCKER-USER` rules need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IptRule {
    /// `Ipv4` (iptables) or `Ipv6` (ip6tables).
    pub family: Family,
    /// Table (`filter`, …).
    pub table: String,
    /// Chain.
    pub chain: String,
    /// `-i`.
    pub iniface: Option<IfaceMatch>,
    /// `-o`.
    pub outiface: Option<IfaceMatch>,
    /// `-p` (protocol number) and its `!`.
    pub proto: Option<(u8, bool)>,
    /// `-s`.
    pub src: Option<AddrMatch>,
    /// `-d`.
    pub dst: Option<AddrMatch>,
    /// `--sport` (needs `-p tcp` or `-p udp`).
    pub sport: Option<PortMatch>,
    /// `--dport` (needs `-p tcp` or `-p udp`).
    pub dport: Option<PortMatch>,
    /// Further matches.
    pub matches: Vec<MatchSpec>,
    /// Target; `None` is a rule without `-j` (it only counts).
    pub target: Option<TargetSpec>,
}

/// `IPPROTO_TCP`.
pub const PROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const PROTO_UDP: u8 = 17;

impl IptRule {
    /// An empty rule (matches everything, no target) for `table`/`chain`.
    pub fn new(family: Family, table: &str, chain: &str) -> Self {
        IptRule {
            family,
            table: table.into(),
            chain: chain.into(),
            iniface: None,
            outiface: None,
            proto: None,
            src: None,
            dst: None,
            sport: None,
            dport: None,
            matches: Vec::new(),
            target: None,
        }
    }

    /// A rule for Docker's `DOCKER-USER` chain (`table ip filter`).
    pub fn docker_user() -> Self {
        IptRule::new(Family::Ipv4, "filter", "DOCKER-USER")
    }

    /// `-i NAME` (`NAME+` for a prefix).
    pub fn in_iface(mut self, name: &str, invert: bool) -> Self {
        self.iniface = Some(IfaceMatch {
            name: name.into(),
            invert,
        });
        self
    }

    /// `-o NAME`.
    pub fn out_iface(mut self, name: &str, invert: bool) -> Self {
        self.outiface = Some(IfaceMatch {
            name: name.into(),
            invert,
        });
        self
    }

    /// `-p N`.
    pub fn proto(mut self, proto: u8, invert: bool) -> Self {
        self.proto = Some((proto, invert));
        self
    }

    /// `-p tcp`.
    pub fn tcp(self) -> Self {
        self.proto(PROTO_TCP, false)
    }

    /// `-p udp`.
    pub fn udp(self) -> Self {
        self.proto(PROTO_UDP, false)
    }

    /// `-s CIDR`.
    pub fn source(mut self, cidr: &str, invert: bool) -> Result<Self> {
        self.src = Some(AddrMatch::parse(cidr, invert)?);
        Ok(self)
    }

    /// `-d CIDR`.
    pub fn destination(mut self, cidr: &str, invert: bool) -> Result<Self> {
        self.dst = Some(AddrMatch::parse(cidr, invert)?);
        Ok(self)
    }

    /// `--sport N`.
    pub fn sport(mut self, port: u16) -> Self {
        self.sport = Some(PortMatch::single(port));
        self
    }

    /// `--dport N`.
    pub fn dport(mut self, port: u16) -> Self {
        self.dport = Some(PortMatch::single(port));
        self
    }

    /// `-m conntrack --ctstate …`.
    pub fn ctstate(mut self, states: &[CtState]) -> Self {
        self.matches.push(MatchSpec::CtState {
            states: states.to_vec(),
            invert: false,
        });
        self
    }

    /// `-m conntrack --ctorigdstport N --ctdir ORIGINAL|REPLY`.
    pub fn ct_orig_dst_port(mut self, port: u16, dir: Option<CtDir>) -> Self {
        self.matches.push(MatchSpec::CtOrigDstPort {
            port: PortMatch::single(port),
            dir,
        });
        self
    }

    /// `-m comment --comment TEXT`.
    pub fn comment(mut self, text: &str) -> Self {
        self.matches.push(MatchSpec::Comment(text.into()));
        self
    }

    /// `-j …` / `-g …`.
    pub fn target(mut self, t: TargetSpec) -> Self {
        self.target = Some(t);
        self
    }

    /// The nf_tables rule iptables-nft would send for this rule.
    pub fn to_rule(&self) -> Result<Rule> {
        let v6 = match self.family {
            Family::Ipv4 => false,
            Family::Ipv6 => true,
            f => {
                return Err(invalid(format!(
                    "iptables rules live in ip or ip6, not {}",
                    f.name()
                )))
            }
        };
        let mut r = Rule::new(self.family, self.table.clone(), self.chain.clone());
        if let Some(i) = &self.iniface {
            iface_exprs(&mut r.exprs, MetaKey::Iifname, i)?;
        }
        if let Some(o) = &self.outiface {
            iface_exprs(&mut r.exprs, MetaKey::Oifname, o)?;
        }
        let (proto, proto_inv) = self.proto.unwrap_or((0, false));
        if proto != 0 {
            r.exprs.push(Meta::load(MetaKey::L4proto, 1).into());
            r.exprs.push(Cmp::new(1, op(proto_inv), vec![proto]).into());
        }
        let (saddr, daddr) = if v6 { (8, 24) } else { (12, 16) };
        if let Some(a) = &self.src {
            addr_exprs(&mut r.exprs, saddr, a, v6)?;
        }
        if let Some(a) = &self.dst {
            addr_exprs(&mut r.exprs, daddr, a, v6)?;
        }
        r.compat = Some(RuleCompat {
            proto: u32::from(proto),
            flags: if proto_inv { NFT_RULE_COMPAT_F_INV } else { 0 },
        });
        if self.sport.is_some() || self.dport.is_some() {
            if proto_inv || !matches!(proto, PROTO_TCP | PROTO_UDP) {
                return Err(invalid("--sport/--dport need -p tcp or -p udp"));
            }
            port_exprs(&mut r.exprs, self.sport, self.dport);
        }
        for m in &self.matches {
            r.exprs.push(self.match_expr(m)?);
        }
        r.exprs.push(Counter::new().into());
        match &self.target {
            None => {}
            Some(TargetSpec::Accept) => r.exprs.push(Immediate::verdict(Verdict::Accept).into()),
            Some(TargetSpec::Drop) => r.exprs.push(Immediate::verdict(Verdict::Drop).into()),
            Some(TargetSpec::Return) => r.exprs.push(Immediate::verdict(Verdict::Return).into()),
            Some(TargetSpec::Jump(c)) => r
                .exprs
                .push(Immediate::verdict(Verdict::Jump(c.as_str().into())).into()),
            Some(TargetSpec::Goto(c)) => r
                .exprs
                .push(Immediate::verdict(Verdict::Goto(c.as_str().into())).into()),
            Some(TargetSpec::Reject(with)) => {
                let with = with.unwrap_or(if v6 {
                    Reject::IPV6_PORT_UNREACHABLE
                } else {
                    Reject::IPV4_PORT_UNREACHABLE
                });
                let x = XtExpr {
                    kind: XtKind::Target,
                    name: "REJECT".into(),
                    rev: 0,
                    info: XtInfo::Reject(Reject { ipv6: v6, with }),
                };
                r.exprs.push(x.to_expr()?);
            }
        }
        Ok(r)
    }

    fn match_expr(&self, m: &MatchSpec) -> Result<Expr> {
        let (name, info) = match m {
            MatchSpec::CtState { states, invert } => {
                if states.is_empty() {
                    return Err(invalid("--ctstate needs at least one state"));
                }
                let mut c = Conntrack::new();
                c.match_flags = conntrack::F_STATE;
                if *invert {
                    c.invert_flags = conntrack::F_STATE;
                }
                c.state_mask = states.iter().fold(0, |m, s| m | s.bit());
                ("conntrack", XtInfo::Conntrack(c))
            }
            MatchSpec::CtOrigDstPort { port, dir } => {
                if port.from > port.to {
                    return Err(invalid("--ctorigdstport range runs backwards"));
                }
                let mut c = Conntrack::new();
                c.match_flags = conntrack::F_ORIGDST_PORT;
                if port.invert {
                    c.invert_flags |= conntrack::F_ORIGDST_PORT;
                }
                // Revision 3: low port in host order, high port beside it.
                c.origdst_port = port.from;
                c.port_high[1] = port.to;
                if let Some(d) = dir {
                    c.match_flags |= conntrack::F_DIRECTION;
                    if *d == CtDir::Reply {
                        c.invert_flags |= conntrack::F_DIRECTION;
                    }
                }
                ("conntrack", XtInfo::Conntrack(c))
            }
            MatchSpec::Comment(text) => {
                if text.len() > 255 || text.contains('\0') {
                    return Err(invalid("a comment is at most 255 bytes, without NUL"));
                }
                (
                    "comment",
                    XtInfo::Comment(Comment {
                        comment: text.clone(),
                    }),
                )
            }
        };
        let rev = if name == "conntrack" { 3 } else { 0 };
        XtExpr {
            kind: XtKind::Match,
            name: name.into(),
            rev,
            info,
        }
        .to_expr()
    }
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::Invalid {
        what: "iptables rule",
        detail: detail.into(),
    }
}

fn op(invert: bool) -> CmpOp {
    if invert {
        CmpOp::Neq
    } else {
        CmpOp::Eq
    }
}

/// `add_iniface` / `add_outiface`.
fn iface_exprs(out: &mut Vec<Expr>, key: MetaKey, i: &IfaceMatch) -> Result<()> {
    const IFNAMSIZ: usize = 16;
    if i.name.is_empty() || i.name.len() >= IFNAMSIZ || i.name.contains('\0') {
        return Err(invalid(format!("bad interface name `{}`", i.name)));
    }
    out.push(Meta::load(key, 1).into());
    match i.name.strip_suffix('+') {
        Some("") => {
            // iptables loads the name and compares nothing for `-i +`;
            // `! -i +` compares with the impossible name `INVAL/D`.
            if i.invert {
                out.push(Cmp::new(1, CmpOp::Eq, b"INVAL/D\0".to_vec()).into());
            }
        }
        Some(prefix) => out.push(Cmp::new(1, op(i.invert), prefix.as_bytes().to_vec()).into()),
        None => {
            let mut v = i.name.as_bytes().to_vec();
            v.push(0);
            out.push(Cmp::new(1, op(i.invert), v).into());
        }
    }
    Ok(())
}

/// `add_addr`: load only the prefix bytes when the mask is byte-aligned,
/// else load the whole address and mask it.
fn addr_exprs(out: &mut Vec<Expr>, offset: u32, a: &AddrMatch, v6: bool) -> Result<()> {
    let (bytes, len): (Vec<u8>, usize) = match (a.addr, v6) {
        (IpAddr::V4(x), false) => (x.octets().to_vec(), 4),
        (IpAddr::V6(x), true) => (x.octets().to_vec(), 16),
        _ => return Err(invalid("address family does not match the table family")),
    };
    let prefix = usize::from(a.prefix);
    if prefix == 0 {
        if a.invert {
            return Err(invalid("`! -s 0/0` matches nothing"));
        }
        return Ok(()); // iptables adds nothing for 0/0
    }
    let mask: Vec<u8> = (0..len)
        .map(|i| {
            let bits = prefix.saturating_sub(i * 8).min(8);
            (0xffu16 << (8 - bits)) as u8
        })
        .collect();
    let data: Vec<u8> = bytes.iter().zip(&mask).map(|(b, m)| b & m).collect();
    if prefix % 8 == 0 {
        let n = prefix / 8;
        out.push(Payload::load(PayloadBase::Network, offset, n as u32, 1).into());
        out.push(Cmp::new(1, op(a.invert), data[..n].to_vec()).into());
    } else {
        out.push(Payload::load(PayloadBase::Network, offset, len as u32, 1).into());
        out.push(Bitwise::mask(1, mask).into());
        out.push(Cmp::new(1, op(a.invert), data).into());
    }
    Ok(())
}

/// `add_nft_tcpudp`.
fn port_exprs(out: &mut Vec<Expr>, sport: Option<PortMatch>, dport: Option<PortMatch>) {
    let full = PortMatch {
        from: 0,
        to: 0xffff,
        invert: false,
    };
    let (s, d) = (sport.unwrap_or(full), dport.unwrap_or(full));
    if s.from != 0 && s.from == s.to && d.from != 0 && d.from == d.to && s.invert == d.invert {
        let combined = (u32::from(s.from) << 16) | u32::from(d.from);
        out.push(Payload::load(PayloadBase::Transport, 0, 4, 1).into());
        out.push(Cmp::new(1, op(s.invert), combined.to_be_bytes().to_vec()).into());
        return;
    }
    for (offset, p) in [(0u32, s), (2, d)] {
        if p.from == 0 && p.to == 0xffff && !p.invert {
            continue;
        }
        out.push(Payload::load(PayloadBase::Transport, offset, 2, 1).into());
        if p.from == p.to {
            out.push(Cmp::new(1, op(p.invert), p.from.to_be_bytes().to_vec()).into());
        } else if p.from == 0 && p.to < 0xffff {
            let o = if p.invert { CmpOp::Gt } else { CmpOp::Lte };
            out.push(Cmp::new(1, o, p.to.to_be_bytes().to_vec()).into());
        } else {
            out.push(
                Range {
                    sreg: 1,
                    op: if p.invert { RangeOp::Neq } else { RangeOp::Eq },
                    from: Data::Value(p.from.to_be_bytes().to_vec()),
                    to: Data::Value(p.to.to_be_bytes().to_vec()),
                }
                .into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_aligned_prefix_loads_only_the_prefix() {
        let r = IptRule::docker_user()
            .source("10.1.2.3/8", false)
            .unwrap()
            .target(TargetSpec::Return)
            .to_rule()
            .unwrap();
        assert_eq!(
            r.exprs[0],
            Expr::Payload(Payload::load(PayloadBase::Network, 12, 1, 1))
        );
        assert_eq!(r.exprs[1], Expr::Cmp(Cmp::new(1, CmpOp::Eq, vec![10])));
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(AddrMatch::parse("10.0.0.0/33", false).is_err());
        assert!(IptRule::docker_user().dport(22).to_rule().is_err());
        assert!(IptRule::docker_user()
            .in_iface("averyveryverylongname", false)
            .to_rule()
            .is_err());
        assert!(IptRule::docker_user()
            .source("2001:db8::/32", false)
            .unwrap()
            .to_rule()
            .is_err());
    }
}
