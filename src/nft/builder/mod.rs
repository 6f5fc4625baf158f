//! High-level rule builder: the common matches and statements, encoded
//! exactly as nft 1.0.6 encodes them, protocol dependencies included.
//!
//! ```no_run
//! use nftguard::nft::{Family, Rule};
//! use nftguard::nft::builder::CtState;
//!
//! let rule = Rule::new(Family::Inet, "nftguard", "input")
//!     .iifname("eth0")
//!     .ct_state(CtState::ESTABLISHED | CtState::RELATED)
//!     .accept();
//! let ssh = Rule::new(Family::Inet, "nftguard", "input")
//!     .ip_saddr("10.0.0.0/8")
//!     .tcp()
//!     .dport(22)
//!     .counter()
//!     .accept();
//! ```
//!
//! # API shape
//!
//! Every match is a method on [`Rule`] that consumes the rule and returns
//! it with the match's expressions appended, so a rule reads left to right
//! like its nft text. Matches on a transport header go through a small
//! typed step, [`Rule::tcp`] / [`Rule::udp`] returning [`Tcp`] / [`Udp`],
//! whose methods (`dport`, `sport`, `flags`, …) return the [`Rule`] again:
//! a port match without a transport protocol cannot be written:
//!
//! ```compile_fail
//! use nftguard::nft::{Family, Rule};
//! let no_protocol = Rule::new(Family::Inet, "t", "c").dport(22);
//! ```
//!
//! Misuse that the types cannot rule out (an IPv6 address given to
//! [`Rule::ip_saddr`], an IPv4 match in an `ip6` table, `tcp` after `udp`,
//! an interface name longer than 15 bytes, an unknown interface for
//! [`Rule::iif`], …) is recorded in the rule as a [`BuildError`] instead of
//! panicking or producing a rule that silently never matches. The first
//! such error is kept and later matches and statements of this module
//! leave the rule unchanged. A
//! rule carrying one refuses to encode: `Transaction::commit` (and every
//! other encoder) fails with [`crate::Error::Invalid`] before anything is
//! sent. [`Rule::build_error`] and [`Rule::checked`] report it earlier.
//!
//! # Dependencies, as nft 1.0.6 inserts them
//!
//! The builder keeps no state of its own: it reads the protocol context
//! (which network and transport protocol the rule already requires) from
//! the rule's expressions — a `meta nfproto` or `meta l4proto` equality,
//! or the table family — exactly like nft's protocol context.
//!
//! - `ip`/`ip6` header matches in an `inet` table are preceded by
//!   `meta nfproto ipv4|ipv6` unless the rule already requires it; in an
//!   `ip`/`ip6` table no dependency is needed, and the other version is an
//!   error ([`BuildError::ConflictingProtocols`]).
//! - `tcp`/`udp` matches are preceded by `meta l4proto tcp|udp` in every
//!   family; `icmp`/`icmpv6` additionally need `meta nfproto` in `inet`.
//! - `reject with tcp reset` and `reject with icmp|icmpv6 …` insert their
//!   dependency at the *head* of the rule, as nft does; a plain
//!   [`RejectWith::PortUnreachable`] picks `icmpx`, `icmp` or `icmpv6` from
//!   the family and the network context, as nft does.
//! - Adjacent payload equality matches (`tcp sport 1 tcp dport 2`) are
//!   merged into one load the way nft merges them (same header, contiguous,
//!   at most 4 bytes together unless one is longer), within the run of
//!   matches since the last other statement.
//!
//! nft 1.0.6's merge has two bugs, fixed in later nft releases, that
//! change a rule's meaning; the builder follows the fixed behaviour:
//! it never merges `!=` matches (1.0.6 turns `tcp sport != 1 tcp dport
//! != 2` into "not both"), and never merges across a statement (1.0.6
//! moves `tcp sport 1 counter tcp dport 22` to `tcp sport 1 tcp dport 22
//! counter`, so the counter counts less).
//!
//! Where nft accepts a rule that can never match (`icmpv6 type` in an `ip`
//! table, `ct state != established,related`, which nft encodes as "state
//! differs from the value 6"), the builder reports an error or encodes the
//! meaning the method documents instead.
//!
//! These statements live in [`super::rule`]: `counter`, `accept`, `drop`,
//! `jump`, `goto`, `ret`, `verdict`, `comment`.

mod conntrack;
mod context;
mod meta;
mod network;
mod statements;
mod transport;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::consts::NFT_REG_1;
use super::expr::{Bitwise, Cmp, CmpOp, Expr, Payload, PayloadBase};
use super::{Family, Rule};
use crate::error::{Error, Result};

pub use conntrack::{CtState, CtStatus};
pub use meta::{NfProto, PktType};
pub use network::{IpPrefix, ToPrefix};
pub use statements::{
    IcmpCode, Icmpv6Code, IcmpxCode, LimitUnit, LogLevel, LogSpec, RateLimit, RejectWith,
};
pub use transport::{icmp_type, icmpv6_type, PortSpec, Tcp, TcpFlags, Udp};

/// A misuse of the builder, recorded in [`Rule::build_error`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildError {
    /// The match needs a protocol the rule already excludes, e.g. `ip6
    /// saddr` after `ip saddr`, `udp dport` after `tcp dport`, an IPv4
    /// match in an `ip6` table. (nft: "conflicting protocols specified".)
    ConflictingProtocols {
        /// The match being added.
        what: String,
        /// The protocol the rule already requires.
        present: String,
        /// The protocol the match needs.
        needed: String,
    },
    /// The match or statement cannot be used in a table of this family.
    WrongFamily {
        /// The match being added.
        what: String,
        /// The rule's family.
        family: Family,
    },
    /// A value the match cannot express (bad address, empty flag set,
    /// interface name too long, reversed range, …).
    InvalidValue {
        /// The match being added.
        what: String,
        /// Why the value is refused.
        detail: String,
    },
    /// [`Rule::iif`] / [`Rule::oif`] named an interface that does not exist
    /// in the calling thread's network namespace.
    NoSuchInterface {
        /// The interface name.
        name: String,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ConflictingProtocols {
                what,
                present,
                needed,
            } => write!(
                f,
                "conflicting protocols: `{what}` needs {needed} but the rule already matches {present}"
            ),
            BuildError::WrongFamily { what, family } => {
                write!(f, "`{what}` cannot be used in a {family} table")
            }
            BuildError::InvalidValue { what, detail } => write!(f, "`{what}`: {detail}"),
            BuildError::NoSuchInterface { name } => {
                write!(f, "interface {name:?} does not exist")
            }
        }
    }
}

impl std::error::Error for BuildError {}

impl BuildError {
    pub(crate) fn invalid(what: &str, detail: impl Into<String>) -> Self {
        BuildError::InvalidValue {
            what: what.to_string(),
            detail: detail.into(),
        }
    }
}

impl Rule {
    /// The first misuse recorded while building this rule, if any.
    pub fn build_error(&self) -> Option<&BuildError> {
        self.build_error.as_ref()
    }

    /// The rule, or [`Error::Invalid`] describing the first misuse recorded
    /// while building it (the error encoding would give).
    pub fn checked(self) -> Result<Rule> {
        match &self.build_error {
            None => Ok(self),
            Some(e) => Err(Error::Invalid {
                what: "rule",
                detail: e.to_string(),
            }),
        }
    }

    /// Records `e` unless an earlier error is already recorded.
    pub(crate) fn fail(mut self, e: BuildError) -> Rule {
        if self.build_error.is_none() {
            self.build_error = Some(e);
        }
        self
    }

    /// Appends expressions.
    pub(crate) fn append(mut self, exprs: impl IntoIterator<Item = Expr>) -> Rule {
        self.reserve_exprs();
        self.exprs.extend(exprs);
        self
    }
}

/// How a loaded value is compared: nft's relational operators for a
/// single value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rel {
    Eq,
    Neq,
}

impl Rel {
    fn cmp_op(self) -> CmpOp {
        match self {
            Rel::Eq => CmpOp::Eq,
            Rel::Neq => CmpOp::Neq,
        }
    }
}

/// `load; cmp op value` for a packet field, merging adjacent equality
/// matches as nft does.
pub(crate) fn payload_cmp(
    rule: Rule,
    base: PayloadBase,
    offset: u32,
    value: Vec<u8>,
    rel: Rel,
) -> Rule {
    let len = value.len() as u32;
    let mut rule = rule.append([
        Payload::load(base, offset, len, NFT_REG_1).into(),
        Cmp::new(NFT_REG_1, rel.cmp_op(), value).into(),
    ]);
    if rel == Rel::Eq {
        merge_payload_matches(&mut rule.exprs);
    }
    rule
}

/// `load; bitwise & mask; cmp op value` for a packet field.
pub(crate) fn payload_masked_cmp(
    rule: Rule,
    base: PayloadBase,
    offset: u32,
    mask: Vec<u8>,
    value: Vec<u8>,
    op: CmpOp,
) -> Rule {
    let len = mask.len() as u32;
    rule.append([
        Payload::load(base, offset, len, NFT_REG_1).into(),
        Bitwise::mask(NFT_REG_1, mask).into(),
        Cmp::new(NFT_REG_1, op, value).into(),
    ])
}

/// Whether `e` is part of an expression statement (a match) rather than a
/// statement of its own (counter, log, verdict, …): nft never merges
/// payload matches across the latter.
fn is_match_part(e: &Expr) -> bool {
    match e {
        Expr::Payload(p) => p.sreg.is_none(),
        Expr::Meta(m) => m.sreg.is_none(),
        Expr::Ct(c) => c.sreg.is_none(),
        Expr::Cmp(_) | Expr::Bitwise(_) | Expr::Range(_) | Expr::Lookup(_) => true,
        _ => false,
    }
}

/// One `payload load; cmp eq` pair found in a rule.
#[derive(Debug, Clone)]
struct PayloadEq {
    /// Index of the payload expression (the cmp follows it).
    at: usize,
    base: PayloadBase,
    offset: u32,
    value: Vec<u8>,
}

fn payload_eq_at(exprs: &[Expr], at: usize) -> Option<PayloadEq> {
    let (p, value) = payload_eq_parts(exprs, at)?;
    Some(PayloadEq {
        at,
        base: p.base,
        offset: p.offset,
        value: value.to_vec(),
    })
}

/// The load and the compared value of a payload equality match at `at`.
fn payload_eq_parts(exprs: &[Expr], at: usize) -> Option<(&Payload, &[u8])> {
    let (Some(Expr::Payload(p)), Some(Expr::Cmp(c))) = (exprs.get(at), exprs.get(at + 1)) else {
        return None;
    };
    let value = c.data.value()?;
    let plain_load = p.sreg.is_none() && p.dreg == Some(NFT_REG_1) && p.csum_type.is_none();
    if !plain_load || c.sreg != NFT_REG_1 || c.op != CmpOp::Eq || value.len() != p.len as usize {
        return None;
    }
    Some((p, value))
}

/// nft's rule of when two adjacent payload matches are merged (nftables
/// `payload_can_merge`, 1.0.x): same header, contiguous, at most one
/// register (16 bytes) together, and either still a fast-path load
/// (≤ 4 bytes), a link-layer load, or one of them already above 4 bytes.
fn can_merge(a: &PayloadEq, b: &PayloadEq) -> bool {
    let (la, lb) = (a.value.len() as u32, b.value.len() as u32);
    if a.base != b.base || a.offset + la != b.offset {
        return false;
    }
    let total = la + lb;
    total <= 16 && (total <= 4 || a.base == PayloadBase::LinkLayer || la > 4 || lb > 4)
}

/// Re-runs nft's payload merge (nftables `stmt_reduce`/`payload_do_merge`)
/// over the statement run that ends the rule: the payload equality
/// matches since the last non-match statement, sorted by header and
/// offset; each mergeable neighbour is folded into the lower-offset match,
/// which keeps its place in the rule, and removed.
fn merge_payload_matches(exprs: &mut Vec<Expr>) {
    let start = exprs
        .iter()
        .rposition(|e| !is_match_part(e))
        .map_or(0, |i| i + 1);
    // Most runs hold one match of each header: nothing to merge, and
    // nothing to copy to find that out.
    let candidates = (start..exprs.len().saturating_sub(1))
        .filter(|&i| payload_eq_parts(exprs, i).is_some())
        .take(2)
        .count();
    if candidates < 2 {
        return;
    }
    let mut found = Vec::new();
    let mut i = start;
    while i < exprs.len() {
        if let Some(m) = payload_eq_at(exprs, i) {
            found.push(m);
            i += 2;
        } else {
            i += 1;
        }
    }
    if found.len() < 2 {
        return;
    }
    found.sort_by_key(|m| (m.base.number(), m.offset));
    let mut removed = Vec::new();
    let mut last = found[0].clone();
    for this in found.into_iter().skip(1) {
        if can_merge(&last, &this) {
            last.value.extend_from_slice(&this.value);
            write_payload_eq(exprs, &last);
            removed.push(this.at);
        } else {
            last = this;
        }
    }
    removed.sort_unstable();
    for at in removed.into_iter().rev() {
        exprs.drain(at..at + 2);
    }
}

fn write_payload_eq(exprs: &mut [Expr], m: &PayloadEq) {
    exprs[m.at] = Payload::load(m.base, m.offset, m.value.len() as u32, NFT_REG_1).into();
    exprs[m.at + 1] = Cmp::new(NFT_REG_1, CmpOp::Eq, m.value.clone()).into();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_merge_like_nft() {
        // tcp dport 22 tcp sport 1 → one 4-byte load at th+0 where sport was.
        let r = Rule::new(Family::Ipv4, "t", "c")
            .tcp()
            .dport(22)
            .tcp()
            .sport(1);
        assert_eq!(r.exprs.len(), 4);
        assert_eq!(
            r.exprs[2],
            Payload::load(PayloadBase::Transport, 0, 4, 1).into()
        );
        assert_eq!(r.exprs[3], Cmp::new(1, CmpOp::Eq, vec![0, 1, 0, 22]).into());
    }

    #[test]
    fn no_merge_across_statements_or_beyond_four_bytes() {
        let r = Rule::new(Family::Ipv4, "t", "c")
            .tcp()
            .dport(22)
            .counter()
            .tcp()
            .sport(1);
        assert_eq!(r.exprs.len(), 7);
        let r = Rule::new(Family::Ipv4, "t", "c")
            .ip_saddr("1.2.3.4")
            .ip_daddr("5.6.7.8");
        assert_eq!(r.exprs.len(), 4);
    }

    #[test]
    fn first_error_is_kept_and_blocks_encoding() {
        let r = Rule::new(Family::Ipv6, "t", "c")
            .ip_saddr("1.2.3.4")
            .iifname("")
            .accept();
        assert!(matches!(
            r.build_error(),
            Some(BuildError::ConflictingProtocols { .. })
        ));
        let mut buf = Vec::new();
        let err = r
            .emit(&mut crate::netlink::AttrWriter::new(&mut buf))
            .unwrap_err();
        assert!(matches!(err, Error::Invalid { what: "rule", .. }), "{err}");
        assert!(r.clone().checked().is_err());
    }
}
