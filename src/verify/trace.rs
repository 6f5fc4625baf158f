//! The trace of an evaluation: which base chains ran, which rules the
//! packet met and what they decided, and what was assumed where the
//! evaluator could not decide.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::nft::expr::{CmpOp, PayloadBase};
use crate::nft::render::statement::{rule_text, rule_text_in};
use crate::nft::{Data, Expr, Family, Hook, Rule, Ruleset, Verdict};

/// One step of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// A base chain started.
    Chain {
        /// Hook.
        hook: Hook,
        /// Table family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        chain: String,
        /// Priority.
        priority: i32,
    },
    /// A rule matched (all its conditions held) and what it decided.
    Rule {
        /// Table family.
        family: Family,
        /// Table.
        table: String,
        /// Chain the rule sits in.
        chain: String,
        /// Rule handle.
        handle: Option<u64>,
        /// A readable description of the rule.
        rule: String,
        /// What it decided: `accept`, `drop`, `jump X`, `continue`, …
        outcome: String,
    },
    /// A base chain ended by its policy (its rules did not decide).
    Policy {
        /// Table family.
        family: Family,
        /// Table.
        table: String,
        /// Chain.
        chain: String,
        /// `accept` or `drop`.
        policy: String,
    },
    /// Something the evaluator could not decide, and the outcome this
    /// branch assumed.
    Assumed {
        /// What was undecidable and where.
        reason: String,
        /// The outcome assumed on this branch.
        choice: String,
    },
    /// A fact worth knowing that does not change the verdict (NAT, a
    /// skipped chain, …).
    Note {
        /// Text.
        text: String,
    },
}

/// `rule` as `nft list ruleset` prints it (statements and comment),
/// without access to its table's sets: anonymous sets print as `@__setN`.
/// Interface indexes are named in the calling thread's namespace.
pub fn describe_rule(rule: &Rule) -> String {
    non_empty(rule_text(
        rule,
        rule.family,
        &crate::netlink::interface_name,
    ))
}

/// `rule` as `nft list ruleset` prints it, with anonymous sets and maps
/// taken from `rs` (`tcp dport { 22, 80 }`). The evaluator's traces use
/// this with the ruleset it evaluates.
pub fn describe_rule_in(rs: &Ruleset, rule: &Rule) -> String {
    non_empty(rule_text_in(
        rs,
        rule,
        rule.family,
        &crate::netlink::interface_name,
    ))
}

fn non_empty(text: String) -> String {
    if text.trim().is_empty() {
        "(empty rule)".into()
    } else {
        text
    }
}

/// A compact summary of a list of expressions.
pub fn describe_exprs(exprs: &[Expr]) -> String {
    let mut out = String::new();
    for e in exprs {
        if !out.is_empty() {
            out.push_str("; ");
        }
        describe_expr(e, &mut out);
    }
    if out.is_empty() {
        out.push_str("(empty rule)");
    }
    out
}

fn describe_expr(e: &Expr, out: &mut String) {
    let _ = match e {
        Expr::Payload(p) => {
            let base = match p.base {
                PayloadBase::LinkLayer => "ll",
                PayloadBase::Network => "nh",
                PayloadBase::Transport => "th",
                PayloadBase::Inner => "ih",
                _ => "?",
            };
            match p.sreg {
                Some(r) => write!(out, "payload {base}+{}/{} = r{r}", p.offset, p.len),
                None => write!(out, "payload {base}+{}/{}", p.offset, p.len),
            }
        }
        Expr::Meta(m) => {
            let key = m.key.nft_name().unwrap_or("?");
            match m.sreg {
                Some(r) => write!(out, "meta {key} set r{r}"),
                None => write!(out, "meta {key}"),
            }
        }
        Expr::Ct(c) => {
            let key = c.key.nft_name().unwrap_or("?");
            match c.sreg {
                Some(r) => write!(out, "ct {key} set r{r}"),
                None => write!(out, "ct {key}"),
            }
        }
        Expr::Cmp(c) => {
            let op = match c.op {
                CmpOp::Eq => "==",
                o => o.nft_name().unwrap_or("?"),
            };
            write!(out, "{op} {}", data_text(&c.data))
        }
        Expr::Bitwise(b) => match (&b.mask, &b.xor) {
            (Some(m), Some(x)) => write!(out, "& {} ^ {}", data_text(m), data_text(x)),
            _ => write!(
                out,
                "bitwise {}",
                b.op.and_then(|o| o.nft_name()).unwrap_or("?")
            ),
        },
        Expr::Range(r) => write!(
            out,
            "{} {}-{}",
            r.op.nft_name().unwrap_or("?"),
            data_text(&r.from),
            data_text(&r.to)
        ),
        Expr::Lookup(l) => {
            let inv = l.flags.unwrap_or(0) & crate::nft::expr::lookup::NFT_LOOKUP_F_INV != 0;
            match l.dreg {
                Some(0) => write!(out, "vmap @{}", l.set),
                Some(_) => write!(out, "map @{}", l.set),
                None if inv => write!(out, "!= @{}", l.set),
                None => write!(out, "@{}", l.set),
            }
        }
        Expr::Immediate(i) => match &i.data {
            Data::Verdict(v) => write!(out, "{}", verdict_text(v)),
            Data::Value(v) => write!(out, "r{} = {}", i.dreg, hex(v)),
        },
        Expr::Opaque(o) => write!(out, "{} (not decoded)", o.name),
        other => write!(out, "{}", other.name()),
    };
}

/// A verdict as nft writes it.
pub fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Queue(n) => format!("queue {n}"),
        Verdict::Continue => "continue".into(),
        Verdict::Break => "break".into(),
        Verdict::Jump(c) => format!("jump {}", chain_text(c)),
        Verdict::Goto(c) => format!("goto {}", chain_text(c)),
        Verdict::Return => "return".into(),
        Verdict::Other(c) => format!("verdict {c}"),
    }
}

fn chain_text(c: &crate::nft::data::ChainRef) -> String {
    match c {
        crate::nft::data::ChainRef::Name(n) => n.clone(),
        crate::nft::data::ChainRef::Id(id) => format!("(chain id {id})"),
    }
}

fn data_text(d: &Data) -> String {
    match d {
        Data::Value(v) => hex(v),
        Data::Verdict(v) => verdict_text(v),
    }
}

fn hex(v: &[u8]) -> String {
    let mut s = String::from("0x");
    for b in v {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::{Cmp, Meta, MetaKey};

    #[test]
    fn summary_names_each_expression() {
        let r = Rule::new(Family::Inet, "t", "c")
            .push(Meta::load(MetaKey::L4proto, 1))
            .push(Cmp::new(1, CmpOp::Eq, vec![6]))
            .accept();
        assert_eq!(describe_exprs(&r.exprs), "meta l4proto; == 0x06; accept");
        assert_eq!(describe_rule(&r), "meta l4proto tcp accept");
    }
}
