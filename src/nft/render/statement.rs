//! Turning a rule's expressions back into nft statements, the way nft 1.0.6
//! does it (`netlink_delinearize.c`): follow what each register holds, turn
//! `load + [bitwise] + cmp` into a relational statement, name payload loads
//! from the protocol context, and drop the protocol dependencies nft adds
//! itself (`meta l4proto tcp` before `tcp dport`, `meta nfproto ipv4`
//! before `ip saddr` in inet tables).
//!
//! Two passes: `delinearize` builds statements from expressions, then
//! `Printer::print` walks them with the protocol context and prints.

use std::collections::HashMap;

use super::keys::{ct_name, ct_ty, exthdr_name, fib_text, fib_ty, meta_name, meta_ty, raw_payload};
use super::proto::{self, Field, Proto};
use super::simple::{
    limit_text, log_text, nat_flags, opaque_text, prefix_len_of_range, quota_text, verdict_text,
};
use super::untyped::{self, byteorder_regs};
use super::value::{self, byte_order, flags, format, int_value, IfResolver, Order, Ty};
use crate::nft::expr::{
    CmpOp, CtKey, Exthdr, ExthdrOp, Fib, MetaKey, NatType, PayloadBase, RangeOp, RejectType,
};
use crate::nft::{Data, Expr, Family, Rule, Ruleset, Set};

/// What a register holds.
#[derive(Debug, Clone, PartialEq)]
enum Src {
    /// Packet bytes.
    Payload {
        base: PayloadBase,
        offset: u32,
        len: u32,
    },
    /// A meta key.
    Meta(MetaKey),
    /// A conntrack key, optionally for one direction.
    Ct { key: CtKey, dir: Option<u8> },
    /// A fib lookup result.
    Fib(Fib),
    /// An extension header or option.
    Exthdr(Exthdr),
    /// `inner & mask`.
    Masked { inner: Box<Src>, mask: Vec<u8> },
    /// `(inner & mask) ^ xor` with a non-zero xor (`| v`, `^ v`, or a
    /// read-modify-write of header bits).
    MaskXor {
        inner: Box<Src>,
        mask: Vec<u8>,
        xor: Vec<u8>,
    },
    /// `inner` converted from host to network byte order (`byteorder`).
    Hton(Box<Src>),
    /// A constant (`immediate`).
    Imm(Vec<u8>),
    /// A value named by an untyped expression (`numgen inc mod 2`).
    Named { name: String, ty: Ty },
    /// `jhash EXPR TAIL`.
    Jhash { parts: Vec<Src>, tail: String },
    /// Several sources laid out in consecutive registers
    /// (`ip saddr . tcp dport`).
    Concat(Vec<Src>),
    /// `KEY map SET`: the data a map lookup returns.
    Map { key: Box<Src>, set: String },
    /// Something nftguard cannot follow; printed as is.
    Unknown(String),
}

/// The right-hand side of a relational statement.
#[derive(Debug, Clone, PartialEq)]
enum Rhs {
    Value(Vec<u8>),
    Range(Vec<u8>, Vec<u8>),
    /// A set reference (`@name`), printed as is.
    SetRef(String),
}

/// One statement of a rule before printing.
#[derive(Debug, Clone)]
enum Stmt {
    /// `lhs op rhs`.
    Rel { lhs: Src, op: CmpOp, rhs: Rhs },
    /// `reject …` (printed with the protocol context).
    Reject { kind: RejectType, code: Option<u8> },
    /// An option write (`tcp option maxseg size set 1300`).
    ExthdrSet { x: Exthdr, src: Src },
    /// A payload write (`tcp dport set 23`).
    PayloadSet {
        base: PayloadBase,
        offset: u32,
        len: u32,
        src: Src,
    },
    /// `KEY set VALUE` for meta and ct.
    Set { key: String, ty: Ty, src: Src },
    /// `KEY vmap SET`.
    Vmap { key: Src, set: String },
    /// `add @set { KEY [timeout T] [stmt …] [: DATA] }`.
    Dynset {
        op: String,
        set: String,
        key: Src,
        data: Option<Src>,
        timeout: Option<u64>,
        stmts: Vec<String>,
    },
    /// `BEFORE SRC AFTER`: a statement whose operand is printed in the
    /// protocol context (`counter name tcp dport map { … }`,
    /// `dnat ip to ip saddr map { … }`).
    Composite {
        before: String,
        src: Src,
        ty: Ty,
        after: String,
    },
    /// An iptables-nft xt match or target (printed with the layer-4
    /// protocol of the context).
    Xt(crate::compat::xt::XtExpr),
    /// A statement already in its final text.
    Text(String),
}

/// The sets a rule can refer to: those of its table.
#[derive(Clone, Copy)]
struct Sets<'a> {
    rs: Option<&'a Ruleset>,
    family: Family,
    table: &'a str,
}

impl<'a> Sets<'a> {
    fn get(&self, name: &str) -> Option<&'a Set> {
        self.rs?.set(self.family, self.table, name)
    }
}

/// Bytes a source occupies in the registers (before rounding to 4).
fn src_len(src: &Src) -> u32 {
    match src {
        Src::Payload { len, .. } => *len,
        Src::Exthdr(x) => x.len,
        Src::Meta(k) => match k {
            MetaKey::Iifname
            | MetaKey::Oifname
            | MetaKey::BriIifname
            | MetaKey::BriOifname
            | MetaKey::Iifkind
            | MetaKey::Oifkind
            | MetaKey::Sdifname => 16,
            MetaKey::TimeNs => 8,
            _ => 4,
        },
        Src::Ct { key, .. } => match key {
            CtKey::Labels | CtKey::Src | CtKey::Dst | CtKey::SrcIp6 | CtKey::DstIp6 => 16,
            CtKey::Bytes | CtKey::Pkts => 8,
            _ => 4,
        },
        Src::Masked { inner, .. } | Src::MaskXor { inner, .. } | Src::Hton(inner) => src_len(inner),
        Src::Imm(v) => v.len() as u32,
        _ => 4,
    }
}

/// The key a set lookup reads from `sreg`: a concatenation when the set's
/// key is longer than the first source.
fn key_src(regs: &Regs, sreg: u32, set: Option<&Set>) -> Src {
    let first = reg(regs, sreg);
    match set {
        Some(s) if s.key_len > src_len(&first).div_ceil(4) * 4 => {
            Src::Concat(concat_sources(regs, sreg, s.key_len))
        }
        _ => first,
    }
}

/// The register file: 16-byte registers 1–4 and 4-byte registers 8–23 are
/// tracked by number; nft itself uses register 1 for single matches.
type Regs = HashMap<u32, Src>;

fn reg(regs: &Regs, r: u32) -> Src {
    regs.get(&r)
        .cloned()
        .unwrap_or_else(|| Src::Unknown(format!("reg{r}")))
}

/// `e` re-encoded and kept as opaque bytes.
fn as_opaque(e: &Expr) -> Expr {
    let mut bytes = Vec::new();
    match e.encode(&mut crate::netlink::AttrWriter::new(&mut bytes)) {
        Ok(()) => Expr::Opaque(crate::nft::expr::Opaque {
            name: e.name().to_string(),
            bytes,
        }),
        Err(_) => e.clone(),
    }
}

/// Builds statements from `rule`'s expressions.
fn delinearize(rule: &Rule, family: Family, sets: Sets<'_>, ifname: IfResolver<'_>) -> Vec<Stmt> {
    let mut regs: Regs = HashMap::new();
    let mut out: Vec<Stmt> = Vec::new();
    for e in &rule.exprs {
        // Statements printed from their attributes (objref) go through the
        // same path as the kinds the core keeps opaque.
        let reencoded;
        let e = match e {
            Expr::Objref(o) if o.set_sreg.is_some() => {
                let set_name = o.set_name.clone().unwrap_or_default();
                let set = sets.get(&set_name);
                let key = key_src(&regs, o.set_sreg.unwrap_or(0), set);
                let before = match set.and_then(|s| s.obj_type).unwrap_or(0) {
                    2 => "quota name ",
                    3 => "ct helper set ",
                    4 => "limit name ",
                    7 => "ct timeout set ",
                    8 => "meta secmark set ",
                    9 => "ct expectation set ",
                    10 => "synproxy name ",
                    _ => "counter name ",
                };
                out.push(Stmt::Composite {
                    before: before.to_string(),
                    src: Src::Map {
                        key: Box::new(key),
                        set: set_name,
                    },
                    ty: Ty::Int(Order::Big),
                    after: String::new(),
                });
                continue;
            }
            Expr::Objref(_) => {
                reencoded = as_opaque(e);
                &reencoded
            }
            e => e,
        };
        match e {
            // Offsets and lengths come from the kernel as u32; the bit
            // arithmetic below assumes what the kernel accepts (a load fits
            // a 16-byte register), so anything else prints as it is.
            Expr::Payload(p) if p.offset > 0xffff || p.len == 0 || p.len > 16 => {
                let text = format!("payload @{},{},{}", p.base.number(), p.offset, p.len);
                match p.dreg {
                    Some(d) => {
                        regs.insert(d, Src::Unknown(text));
                    }
                    None => out.push(Stmt::Text(text)),
                }
            }
            Expr::Exthdr(x) if x.offset > 0xffff || x.len == 0 || x.len > 16 => {
                let text = format!("exthdr @{},{},{}", x.kind, x.offset, x.len);
                match x.dreg {
                    Some(d) => {
                        regs.insert(d, Src::Unknown(text));
                    }
                    None => out.push(Stmt::Text(text)),
                }
            }
            Expr::Payload(p) => match (p.dreg, p.sreg) {
                (Some(d), _) => {
                    regs.insert(
                        d,
                        Src::Payload {
                            base: p.base,
                            offset: p.offset,
                            len: p.len,
                        },
                    );
                }
                (None, Some(s)) => out.push(Stmt::PayloadSet {
                    base: p.base,
                    offset: p.offset,
                    len: p.len,
                    src: reg(&regs, s),
                }),
                (None, None) => out.push(Stmt::Text(opaque_text("payload", &[]))),
            },
            Expr::Meta(m) => match (m.dreg, m.sreg) {
                (Some(d), _) => {
                    regs.insert(d, Src::Meta(m.key));
                }
                (None, Some(s)) => out.push(Stmt::Set {
                    key: meta_name(m.key),
                    ty: meta_ty(m.key),
                    src: reg(&regs, s),
                }),
                (None, None) => out.push(Stmt::Text(opaque_text("meta", &[]))),
            },
            Expr::Ct(c) => match (c.dreg, c.sreg) {
                (Some(d), _) => {
                    regs.insert(
                        d,
                        Src::Ct {
                            key: c.key,
                            dir: c.direction,
                        },
                    );
                }
                (None, Some(s)) => out.push(Stmt::Set {
                    key: ct_name(c.key, c.direction),
                    ty: ct_ty(c.key, 4),
                    src: reg(&regs, s),
                }),
                (None, None) => out.push(Stmt::Text(opaque_text("ct", &[]))),
            },
            Expr::Bitwise(b) => {
                let src = reg(&regs, b.sreg);
                let xor_zero = match &b.xor {
                    Some(Data::Value(x)) => x.iter().all(|v| *v == 0),
                    None => true,
                    Some(Data::Verdict(_)) => false,
                };
                let is_mask =
                    b.op.is_none_or(|o| o == crate::nft::expr::BitwiseOp::MaskXor);
                let new = match (&b.mask, &b.xor, is_mask) {
                    (Some(Data::Value(m)), _, true) if xor_zero => Src::Masked {
                        inner: Box::new(src),
                        mask: m.clone(),
                    },
                    (Some(Data::Value(m)), Some(Data::Value(x)), true) => Src::MaskXor {
                        inner: Box::new(src),
                        mask: m.clone(),
                        xor: x.clone(),
                    },
                    _ => Src::Unknown(format!(
                        "{} ({} bitwise)",
                        src_text(&src, Ty::Int(Order::Big), ifname),
                        b.op.and_then(|o| o.nft_name()).unwrap_or("unknown")
                    )),
                };
                regs.insert(b.dreg, new);
            }
            Expr::Cmp(c) => {
                let lhs = reg(&regs, c.sreg);
                let value = match &c.data {
                    Data::Value(v) => v.clone(),
                    Data::Verdict(_) => Vec::new(),
                };
                // nft 1.0.6 writes `a-b` as `cmp gte a` + `cmp lte b`.
                if c.op == CmpOp::Lte {
                    if let Some(Stmt::Rel {
                        lhs: prev,
                        op: CmpOp::Gte,
                        rhs: Rhs::Value(from),
                    }) = out.last()
                    {
                        if *prev == lhs {
                            let from = from.clone();
                            out.pop();
                            out.push(Stmt::Rel {
                                lhs,
                                op: CmpOp::Eq,
                                rhs: Rhs::Range(from, value),
                            });
                            continue;
                        }
                    }
                }
                out.push(Stmt::Rel {
                    lhs,
                    op: c.op,
                    rhs: Rhs::Value(value),
                });
            }
            Expr::Range(r) => {
                let (Some(from), Some(to)) = (r.from.value(), r.to.value()) else {
                    out.push(Stmt::Text(opaque_text("range", &[])));
                    continue;
                };
                out.push(Stmt::Rel {
                    lhs: reg(&regs, r.sreg),
                    op: if r.op == RangeOp::Neq {
                        CmpOp::Neq
                    } else {
                        CmpOp::Eq
                    },
                    rhs: Rhs::Range(from.to_vec(), to.to_vec()),
                });
            }
            Expr::Immediate(i) => match &i.data {
                Data::Verdict(v) => out.push(Stmt::Text(verdict_text(v))),
                Data::Value(v) => {
                    regs.insert(i.dreg, Src::Imm(v.clone()));
                }
            },
            Expr::Lookup(l) => {
                let key = key_src(&regs, l.sreg, sets.get(&l.set));
                match l.dreg {
                    // The verdict register: a verdict map.
                    Some(0) => out.push(Stmt::Vmap {
                        key,
                        set: l.set.clone(),
                    }),
                    Some(d) => {
                        regs.insert(
                            d,
                            Src::Map {
                                key: Box::new(key),
                                set: l.set.clone(),
                            },
                        );
                    }
                    None => {
                        let inv =
                            l.flags.unwrap_or(0) & crate::nft::expr::lookup::NFT_LOOKUP_F_INV != 0;
                        out.push(Stmt::Rel {
                            lhs: key,
                            op: if inv { CmpOp::Neq } else { CmpOp::Eq },
                            rhs: Rhs::SetRef(l.set.clone()),
                        });
                    }
                }
            }
            Expr::Counter(c) => out.push(Stmt::Text(format!(
                "counter packets {} bytes {}",
                c.packets.unwrap_or(0),
                c.bytes.unwrap_or(0)
            ))),
            Expr::Limit(l) => out.push(Stmt::Text(limit_text(l))),
            Expr::Log(l) => out.push(Stmt::Text(log_text(l))),
            Expr::Reject(r) => out.push(Stmt::Reject {
                kind: r.kind,
                code: r.icmp_code,
            }),
            Expr::Nat(n) => match n.reg_addr_min.and_then(|r| regs.get(&r)) {
                Some(m @ Src::Map { set, .. }) => {
                    let full = nat_text(n, family, &regs);
                    let (mut before, after) = full
                        .split_once(" to ")
                        .map(|(a, b)| (a.to_string(), b))
                        .unwrap_or((full.clone(), ""));
                    // Address and port from one map (`addr . port` data):
                    // nft names the family even in ip/ip6 tables.
                    let concat_data = sets
                        .get(set)
                        .and_then(|s| s.data_type)
                        .is_some_and(|t| t >= 64 && t != crate::nft::set::NFT_DATA_VERDICT);
                    if concat_data && !before.contains(' ') {
                        before.push_str(if n.family == 10 { " ip6" } else { " ip" });
                    }
                    out.push(Stmt::Composite {
                        before: format!("{before} to "),
                        src: m.clone(),
                        ty: Ty::Int(Order::Big),
                        after: after.to_string(),
                    });
                }
                _ => out.push(Stmt::Text(nat_text(n, family, &regs))),
            },
            Expr::Masq(m) => out.push(Stmt::Text(format!(
                "masquerade{}{}",
                port_range(&regs, m.reg_proto_min, m.reg_proto_max, " to "),
                nat_flags(m.flags.unwrap_or(0))
            ))),
            Expr::Redir(r) => out.push(Stmt::Text(format!(
                "redirect{}{}",
                port_range(&regs, r.reg_proto_min, r.reg_proto_max, " to "),
                nat_flags(r.flags.unwrap_or(0))
            ))),
            Expr::Fib(f) => {
                regs.insert(f.dreg, Src::Fib(f.clone()));
            }
            Expr::Quota(q) => out.push(Stmt::Text(quota_text(q))),
            Expr::Connlimit(c) => out.push(Stmt::Text(format!(
                "ct count {}{}",
                if c.flags.unwrap_or(0) & 1 != 0 {
                    "over "
                } else {
                    ""
                },
                c.count
            ))),
            Expr::Notrack(_) => out.push(Stmt::Text("notrack".into())),
            Expr::Exthdr(x) => match (x.dreg, x.sreg) {
                (Some(d), _) => {
                    regs.insert(d, Src::Exthdr(x.clone()));
                }
                (None, Some(s)) => out.push(Stmt::ExthdrSet {
                    x: x.clone(),
                    src: reg(&regs, s),
                }),
                (None, None) => out.push(Stmt::Text(exthdr_name(x))),
            },
            Expr::Dynset(d) => {
                let mut stmts = Vec::new();
                if let Some(x) = &d.expr {
                    stmts.push(super::set::element_stmt_text(x));
                }
                for x in d.exprs.iter().flatten() {
                    stmts.push(super::set::element_stmt_text(x));
                }
                out.push(Stmt::Dynset {
                    op: d.op.nft_name().unwrap_or("add").to_string(),
                    set: d.set_name.clone(),
                    key: key_src(&regs, d.sreg_key, sets.get(&d.set_name)),
                    data: d.sreg_data.map(|r| reg(&regs, r)),
                    timeout: d.timeout.filter(|t| *t != 0),
                    stmts,
                });
            }
            // Re-encoded as opaque above.
            Expr::Objref(_) => out.push(Stmt::Text(opaque_text("objref", &[]))),
            Expr::Opaque(o) if o.name == "match" || o.name == "target" => {
                match crate::compat::xt::XtExpr::from_expr(e, family) {
                    Some(Ok(x)) => out.push(Stmt::Xt(x)),
                    _ => out.push(Stmt::Text(opaque_text(&o.name, o.data().unwrap_or(&[])))),
                }
            }
            Expr::Opaque(o) => {
                if o.name == "byteorder" {
                    if let Some((sreg, dreg)) = byteorder_regs(o.data().unwrap_or(&[])) {
                        let src = reg(&regs, sreg);
                        regs.insert(dreg, Src::Hton(Box::new(src)));
                        continue;
                    }
                }
                let data = o.data().unwrap_or(&[]);
                match untyped::source(&o.name, data) {
                    Some(untyped::Source::Named { dreg, name, ty }) => {
                        regs.insert(dreg, Src::Named { name, ty });
                        continue;
                    }
                    Some(untyped::Source::Jhash {
                        dreg,
                        sreg,
                        len,
                        tail,
                    }) => {
                        let parts = concat_sources(&regs, sreg, len);
                        regs.insert(dreg, Src::Jhash { parts, tail });
                        continue;
                    }
                    None => {}
                }
                if let Some(st) = untyped::statement(&o.name, data, family.number()) {
                    out.push(Stmt::Text(untyped_text(&st, &regs, ifname)));
                    continue;
                }
                out.push(Stmt::Text(opaque_text(&o.name, data)));
            }
        }
    }
    out
}

/// The sources of a concatenation of `len` bytes starting at register
/// `sreg`: nft lays concatenated values out in consecutive 4-byte registers
/// (16-byte register N is 4-byte registers 8 + 4(N-1) …), each rounded up to
/// 4 bytes.
fn concat_sources(regs: &Regs, sreg: u32, len: u32) -> Vec<Src> {
    let mut at = match sreg {
        1..=4 => 8 + (sreg - 1) * 4,
        r => r,
    };
    let mut left = len;
    let mut parts = Vec::new();
    while left > 0 && parts.len() < 16 {
        let src = regs.get(&at).cloned().or_else(|| {
            (at >= 8 && (at - 8) % 4 == 0)
                .then(|| regs.get(&((at - 8) / 4 + 1)).cloned())
                .flatten()
        });
        let Some(src) = src else {
            parts.push(Src::Unknown(format!("reg{at}")));
            break;
        };
        let n = src_len(&src);
        parts.push(src);
        let used = n.div_ceil(4) * 4;
        left = left.saturating_sub(used);
        at += used / 4;
    }
    parts
}

/// Fills an untyped statement's operands from the registers.
fn untyped_text(st: &untyped::Statement, regs: &Regs, ifname: IfResolver<'_>) -> String {
    let mut out = String::new();
    for (i, part) in st.parts.iter().enumerate() {
        out.push_str(part);
        let Some(op) = st.operands.get(i) else {
            continue;
        };
        let (r, ty) = match op {
            untyped::Operand::Addr(r, ty) => (*r, *ty),
            untyped::Operand::Port(r) => (*r, Ty::Port),
            untyped::Operand::Ifindex(r) => (*r, Ty::Ifindex),
        };
        match imm(regs, Some(r)) {
            Some(v) => out.push_str(&format(ty, &v, ifname)),
            None => out.push_str(&src_text(&reg(regs, r), ty, ifname)),
        }
    }
    out
}

fn imm(regs: &Regs, r: Option<u32>) -> Option<Vec<u8>> {
    match regs.get(&r?) {
        Some(Src::Imm(v)) => Some(v.clone()),
        _ => None,
    }
}

fn port_range(regs: &Regs, min: Option<u32>, max: Option<u32>, lead: &str) -> String {
    let Some(lo) = imm(regs, min) else {
        return String::new();
    };
    let lo = int_value(&lo, Order::Big);
    match imm(regs, max).map(|v| int_value(&v, Order::Big)) {
        Some(hi) if hi != lo => format!("{lead}:{lo}-{hi}"),
        _ => format!("{lead}:{lo}"),
    }
}

fn nat_text(n: &crate::nft::expr::Nat, family: Family, regs: &Regs) -> String {
    let kind = match n.kind {
        NatType::Snat => "snat",
        NatType::Dnat => "dnat",
        NatType::Other(_) => "nat",
    };
    let v6 = n.family == 10;
    let fam = match (family, n.family) {
        (Family::Inet, 2) => " ip",
        (Family::Inet, 10) => " ip6",
        _ => "",
    };
    let fmt_addr = |b: &[u8]| {
        if v6 {
            value::ipv6(b)
        } else {
            value::ipv4(b)
        }
    };
    let mut addr = String::new();
    if let Some(lo) = imm(regs, n.reg_addr_min) {
        addr = fmt_addr(&lo);
        if let Some(hi) = imm(regs, n.reg_addr_max).filter(|hi| *hi != lo) {
            match prefix_len_of_range(&lo, &hi) {
                Some(p) => addr = format!("{addr}/{p}"),
                None => addr = format!("{addr}-{}", fmt_addr(&hi)),
            }
        }
    }
    let ports = port_range(regs, n.reg_proto_min, n.reg_proto_max, "");
    let target = if v6 && !ports.is_empty() && !addr.is_empty() {
        format!("[{addr}]{ports}")
    } else {
        format!("{addr}{ports}")
    };
    format!("{kind}{fam} to {target}{}", nat_flags(n.flags.unwrap_or(0)))
}

/// A register's content as an expression (for `meta mark set ct mark`).
fn src_text(src: &Src, ty: Ty, ifname: IfResolver<'_>) -> String {
    match src {
        Src::Imm(v) => format(ty, v, ifname),
        Src::Meta(k) => meta_name(*k),
        Src::Ct { key, dir } => ct_name(*key, *dir),
        Src::Payload { base, offset, len } => raw_payload(*base, offset * 8, len * 8),
        Src::Fib(f) => fib_text(f),
        Src::Exthdr(x) => exthdr_name(x),
        Src::Masked { inner, mask } => format!(
            "{} & {}",
            src_text(inner, ty, ifname),
            format(ty, mask, ifname)
        ),
        Src::MaskXor { inner, mask, xor } => {
            let i = src_text(inner, ty, ifname);
            let inverted: Vec<u8> = xor.iter().map(|b| !b).collect();
            if mask.iter().all(|b| *b == 0xff) {
                format!("{i} ^ {}", format(ty, xor, ifname))
            } else if *mask == inverted {
                format!("{i} | {}", format(ty, xor, ifname))
            } else {
                format!(
                    "({i} & {}) ^ {}",
                    format(ty, mask, ifname),
                    format(ty, xor, ifname)
                )
            }
        }
        Src::Hton(inner) => src_text(inner, ty, ifname),
        Src::Named { name, .. } => name.clone(),
        Src::Jhash { parts, tail } => format!(
            "jhash {} {tail}",
            parts
                .iter()
                .map(|p| src_text(p, ty, ifname))
                .collect::<Vec<_>>()
                .join(" . ")
        ),
        Src::Concat(parts) => parts
            .iter()
            .map(|p| src_text(p, ty, ifname))
            .collect::<Vec<_>>()
            .join(" . "),
        Src::Map { key, set } => format!("{} map @{set}", src_text(key, ty, ifname)),
        Src::Unknown(t) => t.clone(),
    }
}

/// Which protocol header a base's protocol comes from, in the context.
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    ll: Option<Proto>,
    nh: Option<Proto>,
    th: Option<Proto>,
}

/// A stored protocol dependency: the statement that established the
/// protocol of a header base, which nft drops when a later match on that
/// header makes it implicit.
#[derive(Debug, Clone, Copy)]
struct Dep {
    stmt: usize,
    kind: DepKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DepKind {
    /// `meta nfproto`/`meta protocol` with the network protocol it selects.
    MetaL3(Proto),
    /// `meta l4proto`/`meta iiftype`.
    Meta,
    /// A payload protocol field (`ether type`, `ip protocol`, `ip6 nexthdr`)
    /// of this header base.
    Payload(usize),
}

const LL: usize = 0;
const NH: usize = 1;
const TH: usize = 2;

fn base_index(base: PayloadBase) -> Option<usize> {
    match base {
        PayloadBase::LinkLayer => Some(LL),
        PayloadBase::Network => Some(NH),
        PayloadBase::Transport => Some(TH),
        _ => None,
    }
}

/// Prints one rule's statements with nft's protocol context.
struct Printer<'a> {
    family: Family,
    sets: Sets<'a>,
    ifname: IfResolver<'a>,
    ctx: Ctx,
    deps: [Option<Dep>; 3],
    out: Vec<Option<String>>,
}

/// What a relational statement's left side resolved to.
struct Resolved {
    /// `tcp dport`, `meta mark`, …
    name: String,
    ty: Ty,
    /// Register bytes are big-endian although the type is host-order
    /// (after `byteorder`).
    swapped: bool,
    /// Header base and field, for payload matches.
    field: Option<(usize, Option<Field>, Proto)>,
}

impl<'a> Printer<'a> {
    fn new(family: Family, sets: Sets<'a>, ifname: IfResolver<'a>) -> Self {
        let mut ctx = Ctx::default();
        match family {
            Family::Ipv4 => ctx.nh = Some(Proto::Ip),
            Family::Ipv6 => ctx.nh = Some(Proto::Ip6),
            Family::Bridge => ctx.ll = Some(Proto::Ether),
            Family::Arp => ctx.nh = Some(Proto::Arp),
            _ => {}
        }
        Printer {
            family,
            sets,
            ifname,
            ctx,
            deps: [None; 3],
            out: Vec::new(),
        }
    }

    fn proto_of(&self, base: usize) -> Option<Proto> {
        match base {
            LL => self.ctx.ll,
            NH => self.ctx.nh,
            _ => self.ctx.th,
        }
    }

    fn set_proto(&mut self, base: usize, p: Proto) {
        match base {
            LL => self.ctx.ll = Some(p),
            NH => self.ctx.nh = Some(p),
            _ => self.ctx.th = Some(p),
        }
    }

    fn kill(&mut self, base: usize) {
        if let Some(d) = self.deps[base].take() {
            if let Some(slot) = self.out.get_mut(d.stmt) {
                *slot = None;
            }
        }
    }

    fn print(mut self, stmts: &[Stmt]) -> String {
        for s in stmts {
            let text = match s {
                Stmt::Rel { lhs, op, rhs } => self.relational(lhs, *op, rhs),
                Stmt::Reject { kind, code } => self.reject(*kind, *code),
                Stmt::Set { key, ty, src } => {
                    format!("{key} set {}", self.src_in_ctx(src, *ty))
                }
                Stmt::ExthdrSet { x, src } => {
                    let r = self.exthdr(x);
                    format!("{} set {}", r.name, self.src_in_ctx(src, r.ty))
                }
                Stmt::PayloadSet {
                    base,
                    offset,
                    len,
                    src,
                } => self.payload_set(*base, *offset, *len, src),
                Stmt::Vmap { key, set } => {
                    let r = self.resolve_used(key);
                    format!("{} vmap {}", r.name, self.set_ref(set, key, &r))
                }
                Stmt::Dynset {
                    op,
                    set,
                    key,
                    data,
                    timeout,
                    stmts,
                } => {
                    let r = self.resolve_used(key);
                    let mut t = format!("{op} @{set} {{ {}", r.name);
                    if let Some(ms) = timeout {
                        t.push_str(&format!(" timeout {}", value::time_ms(*ms)));
                    }
                    for st in stmts {
                        t.push(' ');
                        t.push_str(st);
                    }
                    if let Some(d) = data {
                        let ty = self
                            .sets
                            .get(set)
                            .and_then(|s| s.data_type)
                            .map_or(Ty::Int(Order::Big), |t| super::datatype::datatype(t).ty);
                        t.push_str(&format!(" : {}", self.src_in_ctx(d, ty)));
                    }
                    t.push_str(" }");
                    t
                }
                Stmt::Composite {
                    before,
                    src,
                    ty,
                    after,
                } => format!("{before}{}{after}", self.src_in_ctx(src, *ty)),
                Stmt::Xt(x) => {
                    let l4 = match self.ctx.th {
                        Some(Proto::Tcp) => Some("tcp"),
                        Some(Proto::Udp) => Some("udp"),
                        Some(Proto::Sctp) => Some("sctp"),
                        Some(Proto::Dccp) => Some("dccp"),
                        Some(Proto::Udplite) => Some("udplite"),
                        _ => None,
                    };
                    super::xt::xt_text(x, self.family, super::xt::XtCtx { l4 })
                }
                Stmt::Text(t) => t.clone(),
            };
            // nft forgets stored protocol dependencies at every statement
            // that is not a match (`rule_maybe_reset_payload_deps`): a
            // `meta l4proto tcp` before a counter or an xt match stays.
            if !matches!(s, Stmt::Rel { .. }) {
                self.deps = [None; 3];
            }
            self.out.push(Some(text));
        }
        self.out.into_iter().flatten().collect::<Vec<_>>().join(" ")
    }

    /// A set operand: an anonymous set's elements in braces, else `@name`.
    fn set_ref(&self, name: &str, key: &Src, r: &Resolved) -> String {
        let Some(set) = self.sets.get(name).filter(|s| s.is_anonymous()) else {
            return format!("@{name}");
        };
        let Some(rs) = self.sets.rs else {
            return format!("@{name}");
        };
        let elems = super::set::set_elements(rs, set);
        // A single key prints with the left side's type (it knows the
        // protocol context); the stored type may be less precise.
        let lhs_ty = match key {
            Src::Concat(_) => None,
            _ if r.swapped => None,
            _ => Some(r.ty).filter(|t| !matches!(t, Ty::RawHex)),
        };
        let ctx = super::set::ElementCtx {
            set,
            types: super::set::key_types(set),
            lhs_ty,
            ifname: self.ifname,
        };
        super::set::anonymous_elements(&ctx, &elems)
    }

    fn reject(&mut self, kind: RejectType, code: Option<u8>) -> String {
        let code = code.unwrap_or(0);
        let family_specific = matches!(self.family, Family::Inet | Family::Bridge | Family::Netdev);
        match kind {
            RejectType::TcpRst => {
                // In ip/ip6 tables nft drops the `meta l4proto tcp` it adds
                // for a TCP reset; inet keeps it.
                if matches!(self.family, Family::Ipv4 | Family::Ipv6) {
                    self.kill(TH);
                }
                "reject with tcp reset".into()
            }
            RejectType::IcmpxUnreach => {
                if code == 1 {
                    "reject".into()
                } else {
                    format!(
                        "reject with icmpx {}",
                        value::code_name(value::ICMPX_CODES, code)
                    )
                }
            }
            RejectType::IcmpUnreach => {
                let v6 = if family_specific {
                    let v6 = self.ctx.nh == Some(Proto::Ip6);
                    self.kill(NH);
                    v6
                } else {
                    self.family == Family::Ipv6
                };
                // Outside ip/ip6 nft always names the code (the bare
                // `reject` would be ambiguous between IPv4 and IPv6).
                if v6 {
                    if code == 4 && !family_specific {
                        "reject".into()
                    } else {
                        format!(
                            "reject with icmpv6 {}",
                            value::code_name(value::ICMPV6_CODES, code)
                        )
                    }
                } else if code == 3 && !family_specific {
                    "reject".into()
                } else {
                    format!(
                        "reject with icmp {}",
                        value::code_name(value::ICMP_CODES, code)
                    )
                }
            }
            RejectType::Other(n) => format!("reject type {n}"),
        }
    }

    /// Resolves a register's content into the name nft prints for it.
    fn resolve(&mut self, src: &Src) -> Resolved {
        match src {
            Src::Payload { base, offset, len } => {
                let Some(b) = base_index(*base) else {
                    return self.raw(*base, offset * 8, len * 8);
                };
                let proto = match self.proto_of(b) {
                    Some(p) => p,
                    None if b == TH => Proto::Th,
                    None => Proto::Unknown,
                };
                if let Some(f) = proto::find(proto, offset * 8, len * 8) {
                    return Resolved {
                        name: format!("{} {}", f.proto, f.name),
                        ty: f.ty,
                        swapped: false,
                        field: Some((b, Some(f), proto)),
                    };
                }
                let mut r = self.raw(*base, offset * 8, len * 8);
                r.field = Some((b, None, proto));
                r
            }
            Src::Meta(k) => Resolved {
                name: meta_name(*k),
                ty: meta_ty(*k),
                swapped: false,
                field: None,
            },
            Src::Ct { key, dir } => {
                let v6 = self.family == Family::Ipv6 || self.ctx.nh == Some(Proto::Ip6);
                match key {
                    // The family-dependent address keys print with the
                    // family nft infers (`ct original ip saddr`).
                    CtKey::Src | CtKey::Dst => {
                        let (fam, ty) = if v6 {
                            ("ip6", Ty::Ipv6)
                        } else {
                            ("ip", Ty::Ipv4)
                        };
                        let name = ct_name(*key, *dir).replacen(
                            key.nft_name().unwrap_or(""),
                            &format!("{fam} {}", key.nft_name().unwrap_or("")),
                            1,
                        );
                        Resolved {
                            name,
                            ty,
                            swapped: false,
                            field: None,
                        }
                    }
                    _ => Resolved {
                        name: ct_name(*key, *dir),
                        ty: ct_ty(*key, 4),
                        swapped: false,
                        field: None,
                    },
                }
            }
            Src::Exthdr(x) => self.exthdr(x),
            Src::Fib(f) => Resolved {
                name: fib_text(f),
                ty: fib_ty(f),
                swapped: false,
                field: None,
            },
            Src::Hton(inner) => {
                let mut r = self.resolve(inner);
                r.swapped = true;
                r
            }
            Src::Named { name, ty } => Resolved {
                name: name.clone(),
                ty: *ty,
                swapped: false,
                field: None,
            },
            Src::Concat(parts) => Resolved {
                name: parts
                    .iter()
                    .map(|p| self.resolve_used(p).name)
                    .collect::<Vec<_>>()
                    .join(" . "),
                ty: Ty::Int(Order::Big),
                swapped: false,
                field: None,
            },
            Src::Jhash { parts, tail } => Resolved {
                name: format!(
                    "jhash {} {tail}",
                    parts
                        .iter()
                        .map(|p| self.resolve_used(p).name)
                        .collect::<Vec<_>>()
                        .join(" . ")
                ),
                ty: Ty::Int(Order::Host),
                swapped: false,
                field: None,
            },
            other => Resolved {
                name: src_text(other, Ty::Int(Order::Big), self.ifname),
                ty: Ty::Int(Order::Big),
                swapped: false,
                field: None,
            },
        }
    }

    /// Resolves `src` and, for a header field, drops the dependency it
    /// makes implicit.
    fn resolve_used(&mut self, src: &Src) -> Resolved {
        let r = self.resolve(src);
        if let Some((base, field, proto)) = r.field {
            self.payload_used(base, proto, field.as_ref());
        }
        r
    }

    /// An extension header or option load. In inet tables the `meta
    /// nfproto` nft adds before an IPv6 extension header or IPv4 option
    /// becomes implicit.
    fn exthdr(&mut self, x: &Exthdr) -> Resolved {
        let op = x.op.unwrap_or(ExthdrOp::Ipv6);
        match op {
            ExthdrOp::Ipv6 if self.ctx.nh == Some(Proto::Ip6) => self.kill_meta_l3(),
            ExthdrOp::Ipv4 if self.ctx.nh == Some(Proto::Ip) => self.kill_meta_l3(),
            _ => {}
        }
        let desc = proto::exthdr(op.number(), x.kind);
        let present = x.flags.unwrap_or(0) & 1 != 0;
        match desc {
            Some(d) if present => Resolved {
                name: d.presence.to_string(),
                ty: Ty::Bool,
                swapped: false,
                field: None,
            },
            Some(d) => match d
                .fields
                .iter()
                .find(|f| f.offset == x.offset * 8 && f.len == x.len * 8)
            {
                Some(f) => Resolved {
                    name: format!("{} {}", f.proto, f.name),
                    ty: f.ty,
                    swapped: false,
                    field: None,
                },
                None => Resolved {
                    name: exthdr_name(x),
                    ty: Ty::RawHex,
                    swapped: false,
                    field: None,
                },
            },
            None => Resolved {
                name: exthdr_name(x),
                ty: Ty::RawHex,
                swapped: false,
                field: None,
            },
        }
    }

    fn kill_meta_l3(&mut self) {
        if matches!(
            self.deps[NH],
            Some(Dep {
                kind: DepKind::MetaL3(_),
                ..
            })
        ) {
            self.kill(NH);
        }
    }

    fn raw(&self, base: PayloadBase, off: u32, len: u32) -> Resolved {
        Resolved {
            name: raw_payload(base, off, len),
            ty: Ty::RawHex,
            swapped: false,
            field: None,
        }
    }

    /// Drops the stored dependency of header `base` when a match on that
    /// header makes it implicit (nft's `payload_dependency_kill`).
    fn payload_used(&mut self, base: usize, proto: Proto, field: Option<&Field>) {
        if proto == Proto::Unknown || proto == Proto::Th {
            return;
        }
        let Some(dep) = self.deps[base] else { return };
        if matches!(self.family, Family::Inet | Family::Bridge | Family::Netdev) {
            // `ip protocol tcp` / `ip6 nexthdr tcp` also restricts the
            // network protocol in these families: nft keeps it.
            if dep.kind == DepKind::Payload(NH) && base == TH {
                return;
            }
            // A protocol field of a stacked header does not replace the
            // one below it (`ether type 8021q vlan type ip`).
            if let (DepKind::Payload(b), Some(f)) = (dep.kind, field) {
                if b == base && proto.next_header(f).is_some() {
                    return;
                }
            }
        }
        self.kill(base);
    }

    fn fmt(&self, r: &Resolved, bytes: &[u8]) -> String {
        // nft 1.0.6 loads only the bytes of a byte-aligned prefix of a ct
        // address too, but then prints the short value as a number
        // widened on the left: `ct reply ip daddr 10.0.0.0/8` lists as
        // `ct reply ip daddr 0.0.0.10`. Reproduced as printed.
        if r.ty.is_address() && r.name.starts_with("ct ") {
            let full = if r.ty == Ty::Ipv6 { 16 } else { 4 };
            if bytes.len() < full {
                let mut b = vec![0u8; full - bytes.len()];
                b.extend_from_slice(bytes);
                return format(r.ty, &b, self.ifname);
            }
        }
        if r.swapped {
            let mut b = bytes.to_vec();
            if cfg!(target_endian = "little") {
                b.reverse();
            }
            return format(r.ty, &b, self.ifname);
        }
        format(r.ty, bytes, self.ifname)
    }

    fn relational(&mut self, lhs: &Src, op: CmpOp, rhs: &Rhs) -> String {
        if let Src::Masked { inner, mask } = lhs {
            if let Rhs::Value(v) = rhs {
                return self.masked(inner, mask, op, v);
            }
        }
        let r = self.resolve(lhs);
        if let Some((base, field, proto)) = r.field {
            self.payload_used(base, proto, field.as_ref());
        }
        let op_text = op_prefix(op, r.ty);
        let text = match rhs {
            Rhs::Value(v) => {
                // nft 1.0.6 loads only the bytes a byte-aligned prefix
                // needs: `ip saddr 10.0.0.0/8` is a 1-byte load.
                if let (Src::Payload { offset, len, .. }, Some((_, None, proto))) = (lhs, r.field) {
                    if let Some(f) = proto::find_shortened(proto, offset * 8, len * 8) {
                        let addr = match f.ty {
                            Ty::Ipv6 => value::ipv6(v),
                            Ty::Ipv4 => value::ipv4(v),
                            _ => format(f.ty, v, self.ifname),
                        };
                        return format!(
                            "{} {} {}{addr}/{}",
                            f.proto,
                            f.name,
                            op_prefix(op, f.ty),
                            len * 8
                        );
                    }
                }
                // nft prints `==` before a single flag (`ct state ==
                // established`) but not before several (`ct state
                // established | related`).
                if op == CmpOp::Eq
                    && r.ty.is_bitmask()
                    && int_value(v, byte_order(r.ty)).count_ones() > 1
                {
                    return format!("{} {}", r.name, self.fmt(&r, v));
                }
                if let Some(text) = self.expanded(lhs, &r, op, v) {
                    return text;
                }
                format!("{} {op_text}{}", r.name, self.fmt(&r, v))
            }
            Rhs::Range(a, b) => format!(
                "{} {op_text}{}-{}",
                r.name,
                self.fmt(&r, a),
                self.fmt(&r, b)
            ),
            Rhs::SetRef(s) => {
                let op_text = if op == CmpOp::Eq {
                    String::new()
                } else {
                    op_text
                };
                format!("{} {op_text}{}", r.name, self.set_ref(s, lhs, &r))
            }
        };
        if op == CmpOp::Eq {
            if let Rhs::Value(v) = rhs {
                self.protocol_key(lhs, &r, v);
            }
        }
        text
    }

    /// Updates the protocol context after `lhs == v` and stores the
    /// statement as a dependency nft may drop later.
    fn protocol_key(&mut self, lhs: &Src, r: &Resolved, v: &[u8]) {
        let idx = self.out.len();
        match lhs {
            Src::Meta(key) => {
                let n = int_value(v, Order::Big);
                let (provides, proto, kind) = match key {
                    MetaKey::Nfproto => {
                        let p = Proto::from_nfproto(n);
                        (NH, p, DepKind::MetaL3(p))
                    }
                    MetaKey::Protocol => {
                        let p = Proto::from_ethertype(n);
                        (NH, p, DepKind::MetaL3(p))
                    }
                    MetaKey::L4proto => (TH, Proto::from_l4(n), DepKind::Meta),
                    MetaKey::Iiftype
                        if self.family != Family::Bridge && int_value(v, Order::Host) == 1 =>
                    {
                        (LL, Proto::Ether, DepKind::Meta)
                    }
                    _ => return,
                };
                if provides == TH {
                    // nft's meta_may_dependency_kill: in inet and netdev a
                    // stored `meta nfproto` goes only when the l4 protocol
                    // implies it (icmp → ipv4, icmpv6 → ipv6).
                    if let Some(dep) = self.deps[NH] {
                        let kill = if matches!(self.family, Family::Inet | Family::Netdev) {
                            matches!(
                                (dep.kind, n),
                                (DepKind::MetaL3(Proto::Ip), 1) | (DepKind::MetaL3(Proto::Ip6), 58)
                            )
                        } else {
                            true
                        };
                        if kill {
                            self.kill(NH);
                        }
                    }
                }
                self.set_proto(provides, proto);
                self.deps[provides] = Some(Dep { stmt: idx, kind });
            }
            Src::Payload { .. } => {
                if let Some((base, Some(f), proto)) = r.field {
                    if let Some(next) = proto.next_header(&f) {
                        let p = next(int_value(v, Order::Big));
                        if p == Proto::Vlan && base == LL {
                            // `ether type 8021q`: the vlan header is still
                            // link layer.
                            self.set_proto(LL, Proto::Vlan);
                            self.deps[LL] = Some(Dep {
                                stmt: idx,
                                kind: DepKind::Payload(LL),
                            });
                        } else if base < TH {
                            self.set_proto(base + 1, p);
                            self.deps[base + 1] = Some(Dep {
                                stmt: idx,
                                kind: DepKind::Payload(base),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A value written by a statement, with payload sources named in the
    /// protocol context (`meta mark set jhash ip saddr mod 4`).
    fn src_in_ctx(&mut self, src: &Src, ty: Ty) -> String {
        match src {
            // A flag set being written prints comma-separated.
            Src::Imm(v) if ty.is_bitmask() => flags(ty, int_value(v, byte_order(ty)), ","),
            Src::Jhash { .. } | Src::Payload { .. } | Src::Concat(_) => self.resolve_used(src).name,
            Src::Map { key, set } => {
                let r = self.resolve_used(key);
                format!("{} map {}", r.name, self.set_ref(set, key, &r))
            }
            Src::Hton(inner) => self.src_in_ctx(inner, ty),
            other => src_text(other, ty, self.ifname),
        }
    }

    /// A payload write. Header fields narrower than a byte are written by
    /// loading the bytes, clearing the field's bits and or-ing the new value
    /// in (`ip dscp set cs1`).
    fn payload_set(&mut self, base: PayloadBase, offset: u32, len: u32, src: &Src) -> String {
        let Some(b) = base_index(base) else {
            return format!(
                "{} set {}",
                raw_payload(base, offset * 8, len * 8),
                src_text(src, Ty::Int(Order::Big), self.ifname)
            );
        };
        let proto = match self.proto_of(b) {
            Some(p) => p,
            None if b == TH => Proto::Th,
            None => Proto::Unknown,
        };
        if let Src::MaskXor { inner, mask, xor } = src {
            if **inner == (Src::Payload { base, offset, len }) {
                let total = len * 8;
                let cleared = !int_value(mask, Order::Big) & low_bits(total);
                let ones = cleared.count_ones();
                if ones > 0 {
                    let shift = cleared.trailing_zeros();
                    let field_off = offset * 8 + total - shift - ones;
                    if let Some(f) = proto::find(proto, field_off, ones) {
                        self.payload_used(b, proto, Some(&f));
                        let val = (int_value(xor, Order::Big) & cleared) >> shift;
                        let nbytes = ones.div_ceil(8) as usize;
                        let bytes = &val.to_be_bytes()[16 - nbytes..];
                        return format!(
                            "{} {} set {}",
                            f.proto,
                            f.name,
                            format(f.ty, bytes, self.ifname)
                        );
                    }
                }
            }
        }
        match proto::find(proto, offset * 8, len * 8) {
            Some(f) => {
                self.payload_used(b, proto, Some(&f));
                format!(
                    "{} {} set {}",
                    f.proto,
                    f.name,
                    src_text(src, f.ty, self.ifname)
                )
            }
            None => format!(
                "{} set {}",
                raw_payload(base, offset * 8, len * 8),
                src_text(src, Ty::RawHex, self.ifname)
            ),
        }
    }

    /// nft merges adjacent equality matches on one header into a single
    /// load (`icmp type echo-reply icmp code 0` is one 2-byte compare) and
    /// splits them again when listing: a load that covers consecutive
    /// fields exactly prints as one match per field.
    fn expanded(&mut self, lhs: &Src, r: &Resolved, op: CmpOp, v: &[u8]) -> Option<String> {
        let (Src::Payload { offset, len, .. }, Some((base, None, proto))) = (lhs, r.field) else {
            return None;
        };
        if op != CmpOp::Eq || v.len() != *len as usize {
            return None;
        }
        let (start, end) = (offset * 8, (offset + len) * 8);
        let mut at = start;
        let mut parts = Vec::new();
        while at < end {
            let f = proto
                .fields()
                .iter()
                .filter(|f| f.offset == at && f.offset + f.len <= end)
                .max_by_key(|f| f.len)?;
            parts.push(*f);
            at += f.len;
        }
        if parts.len() < 2 {
            return None;
        }
        let all = int_value(v, Order::Big);
        let mut texts = Vec::new();
        for f in &parts {
            let shift = end - f.offset - f.len;
            let mask = if f.len >= 128 {
                u128::MAX
            } else {
                (1u128 << f.len) - 1
            };
            let val = (all >> shift) & mask;
            let nbytes = f.len.div_ceil(8) as usize;
            let bytes = &val.to_be_bytes()[16 - nbytes..];
            texts.push(format!(
                "{} {} {}",
                f.proto,
                f.name,
                format(f.ty, bytes, self.ifname)
            ));
            self.payload_used(base, proto, Some(f));
        }
        Some(texts.join(" "))
    }

    /// `(x & mask) op v`: sub-byte header fields, prefixes, flag tests.
    fn masked(&mut self, inner: &Src, mask: &[u8], op: CmpOp, v: &[u8]) -> String {
        let r = self.resolve(inner);
        if let Some((base, field, proto)) = r.field {
            self.payload_used(base, proto, field.as_ref());
        }
        if let Src::Payload { base, offset, len } = inner {
            let total = len * 8;
            // A mask longer than the load (malformed) is cut to the load.
            let m = int_value(mask, Order::Big) & low_bits(total);
            let ones = m.count_ones();
            let lead = if total >= 128 {
                m.leading_zeros()
            } else {
                m.leading_zeros() - (128 - total)
            };
            let contiguous = ones > 0 && {
                let shifted = m >> (total - lead - ones);
                shifted.count_ones() == ones && shifted & (shifted + 1) == 0
            };
            let proto = r.field.map(|(_, _, p)| p).unwrap_or(Proto::Unknown);
            // A prefix of a whole address field.
            if let Some((_, Some(f), _)) = r.field {
                if f.ty.is_address() && (ones == 0 || (lead == 0 && contiguous)) {
                    let addr = match f.ty {
                        Ty::Ipv6 => value::ipv6(v),
                        Ty::Ipv4 => value::ipv4(v),
                        _ => format(f.ty, v, self.ifname),
                    };
                    return format!("{} {}{addr}/{ones}", r.name, op_prefix(op, f.ty));
                }
            }
            // A field narrower than the bytes loaded (`ip dscp`, `tcp doff`),
            // unless the load is itself a field (`tcp flags & syn`).
            let sub = if contiguous && ones < total {
                let field_off = offset * 8 + lead;
                match (proto::find(proto, field_off, ones), r.field) {
                    (Some(f), _) => Some((format!("{} {}", f.proto, f.name), f.ty)),
                    (None, Some((_, Some(_), _))) => None,
                    (None, _) => Some((raw_payload(*base, field_off, ones), Ty::RawHex)),
                }
            } else {
                None
            };
            if let Some((name, ty)) = sub {
                let shift = total - lead - ones;
                let val = (int_value(v, Order::Big) & m) >> shift;
                let nbytes = ones.div_ceil(8) as usize;
                let bytes = &val.to_be_bytes()[16 - nbytes..];
                return format!(
                    "{name} {}{}",
                    op_prefix(op, ty),
                    format(ty, bytes, self.ifname)
                );
            }
        }
        if let Src::Exthdr(x) = inner {
            let xop = x.op.unwrap_or(ExthdrOp::Ipv6).number();
            if let Some(d) = proto::exthdr(xop, x.kind) {
                let total = x.len * 8;
                let m = int_value(mask, Order::Big) & low_bits(total);
                let ones = m.count_ones();
                if ones > 0 {
                    let shift = m.trailing_zeros();
                    let off = x.offset * 8 + total - shift - ones;
                    if let Some(f) = d.fields.iter().find(|f| f.offset == off && f.len == ones) {
                        let val = (int_value(v, Order::Big) & m) >> shift;
                        let nbytes = ones.div_ceil(8) as usize;
                        let bytes = &val.to_be_bytes()[16 - nbytes..];
                        return format!(
                            "{} {} {}{}",
                            f.proto,
                            f.name,
                            op_prefix(op, f.ty),
                            format(f.ty, bytes, self.ifname)
                        );
                    }
                }
            }
        }
        if r.ty.is_bitmask() {
            let order = byte_order(r.ty);
            let (m, val) = (int_value(mask, order), int_value(v, order));
            return match (op, val) {
                (CmpOp::Neq, 0) => format!("{} {}", r.name, flags(r.ty, m, ",")),
                (CmpOp::Eq, 0) => format!("{} ! {}", r.name, flags(r.ty, m, ",")),
                // One bit tested for being set keeps the binary form
                // (`tcp flags & syn == syn`); several use `value / mask`.
                (op, v) if v == m && m.count_ones() == 1 => format!(
                    "{} & {} {}{}",
                    r.name,
                    flags(r.ty, m, ","),
                    op_prefix(op, r.ty),
                    flags(r.ty, v, ",")
                ),
                (CmpOp::Eq, v) => format!(
                    "{} {} / {}",
                    r.name,
                    flags(r.ty, v, ","),
                    flags(r.ty, m, ",")
                ),
                (op, v) => format!(
                    "{} {}{} / {}",
                    r.name,
                    op_prefix(op, Ty::Int(Order::Big)),
                    flags(r.ty, v, ","),
                    flags(r.ty, m, ",")
                ),
            };
        }
        let op_text = match op {
            CmpOp::Eq => "== ".to_string(),
            o => op_prefix(o, r.ty),
        };
        format!(
            "{} & {} {op_text}{}",
            r.name,
            self.fmt(&r, mask),
            self.fmt(&r, v)
        )
    }
}

fn low_bits(n: u32) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

/// The operator as printed before the value, with its trailing space;
/// equality prints nothing except for flag types, where nft writes `==`
/// to tell the exact comparison from the implicit "any of these bits".
fn op_prefix(op: CmpOp, ty: Ty) -> String {
    match op {
        CmpOp::Eq if ty.is_bitmask() => "== ".into(),
        CmpOp::Eq => String::new(),
        CmpOp::Neq => "!= ".into(),
        CmpOp::Lt => "< ".into(),
        CmpOp::Lte => "<= ".into(),
        CmpOp::Gt => "> ".into(),
        CmpOp::Gte => ">= ".into(),
        CmpOp::Other(n) => format!("op{n} "),
    }
}

/// One rule as nft prints it (statements and comment, without
/// indentation), without access to the rule's sets: set references print
/// as `@name`.
pub fn rule_text(rule: &Rule, family: Family, ifname: IfResolver<'_>) -> String {
    rule_text_sets(None, rule, family, ifname)
}

/// One rule as nft prints it, with anonymous sets (`{ 22, 80 }`), maps and
/// concatenated keys taken from `rs`.
pub fn rule_text_in(rs: &Ruleset, rule: &Rule, family: Family, ifname: IfResolver<'_>) -> String {
    rule_text_sets(Some(rs), rule, family, ifname)
}

fn rule_text_sets(
    rs: Option<&Ruleset>,
    rule: &Rule,
    family: Family,
    ifname: IfResolver<'_>,
) -> String {
    let sets = Sets {
        rs,
        family: rule.family,
        table: &rule.table,
    };
    let stmts = delinearize(rule, family, sets, ifname);
    let mut text = Printer::new(family, sets, ifname).print(&stmts);
    if let Some(c) = rule.comment_text() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("comment \"{c}\""));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::{Bitwise, Cmp, Counter, Ct, Meta, Payload};

    fn lo(i: u32) -> Option<String> {
        (i == 1).then(|| "lo".to_string())
    }

    fn text(family: Family, exprs: Vec<Expr>) -> String {
        let mut r = Rule::new(family, "t", "c");
        r.exprs = exprs;
        rule_text(&r, family, &lo)
    }

    fn l4(p: u8) -> Vec<Expr> {
        vec![
            Meta::load(MetaKey::L4proto, 1).into(),
            Cmp::new(1, CmpOp::Eq, vec![p]).into(),
        ]
    }

    #[test]
    fn tcp_dport_drops_its_dependency() {
        let mut e = l4(6);
        e.push(Payload::load(PayloadBase::Transport, 2, 2, 1).into());
        e.push(Cmp::new(1, CmpOp::Eq, vec![0, 22]).into());
        e.push(crate::nft::expr::Immediate::verdict(crate::nft::Verdict::Accept).into());
        assert_eq!(text(Family::Inet, e), "tcp dport 22 accept");
        assert_eq!(text(Family::Inet, l4(6)), "meta l4proto tcp");
    }

    #[test]
    fn shortened_prefix_and_ranges() {
        let e = vec![
            Payload::load(PayloadBase::Network, 12, 1, 1).into(),
            Cmp::new(1, CmpOp::Neq, vec![10]).into(),
        ];
        assert_eq!(text(Family::Ipv4, e), "ip saddr != 10.0.0.0/8");
        let mut e = l4(6);
        e.push(Payload::load(PayloadBase::Transport, 2, 2, 1).into());
        e.push(Cmp::new(1, CmpOp::Gte, vec![0x03, 0xe8]).into());
        e.push(Cmp::new(1, CmpOp::Lte, vec![0x07, 0xd0]).into());
        assert_eq!(text(Family::Ipv4, e), "tcp dport 1000-2000");
    }

    #[test]
    fn flags_forms() {
        let ct = |mask: u32, op, v: u32| {
            vec![
                Ct::load(CtKey::State, 1).into(),
                Bitwise::mask(1, mask.to_ne_bytes().to_vec()).into(),
                Cmp::new(1, op, v.to_ne_bytes().to_vec()).into(),
            ]
        };
        assert_eq!(
            text(Family::Inet, ct(6, CmpOp::Neq, 0)),
            "ct state established,related"
        );
        let plain = vec![
            Ct::load(CtKey::State, 1).into(),
            Cmp::new(1, CmpOp::Neq, 1u32.to_ne_bytes().to_vec()).into(),
            Counter::new().into(),
        ];
        assert_eq!(
            text(Family::Inet, plain),
            "ct state != invalid counter packets 0 bytes 0"
        );
        let mut e = l4(6);
        e.push(Payload::load(PayloadBase::Transport, 13, 1, 1).into());
        e.push(Bitwise::mask(1, vec![0x12]).into());
        e.push(Cmp::new(1, CmpOp::Eq, vec![0x02]).into());
        assert_eq!(text(Family::Inet, e), "tcp flags syn / syn,ack");
    }

    #[test]
    fn meta_values() {
        let e = vec![
            Meta::load(MetaKey::Iif, 1).into(),
            Cmp::new(1, CmpOp::Eq, 1u32.to_ne_bytes().to_vec()).into(),
        ];
        assert_eq!(text(Family::Inet, e), "iif \"lo\"");
        let e = vec![
            Meta::load(MetaKey::Mark, 1).into(),
            Bitwise::mask(1, 0xffu32.to_ne_bytes().to_vec()).into(),
            Cmp::new(1, CmpOp::Eq, 1u32.to_ne_bytes().to_vec()).into(),
        ];
        assert_eq!(
            text(Family::Inet, e),
            "meta mark & 0x000000ff == 0x00000001"
        );
    }

    /// Arbitrary expression sequences (odd lengths, offsets, masks,
    /// registers never loaded) render without panicking.
    #[test]
    fn arbitrary_expressions_do_not_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let bases = [
            PayloadBase::LinkLayer,
            PayloadBase::Network,
            PayloadBase::Transport,
            PayloadBase::Inner,
            PayloadBase::Other(9),
        ];
        let families = [
            Family::Inet,
            Family::Ipv4,
            Family::Ipv6,
            Family::Bridge,
            Family::Netdev,
            Family::Arp,
        ];
        for _ in 0..3000 {
            let mut exprs: Vec<Expr> = Vec::new();
            for _ in 0..(next() % 6 + 1) {
                let n = next();
                let len = [0u32, 1, 2, 3, 4, 6, 16, 17, 64, u32::MAX][(n % 10) as usize];
                let bytes: Vec<u8> = (0..(next() % 20)).map(|_| next() as u8).collect();
                let reg = (next() % 3) as u32;
                exprs.push(match n % 7 {
                    0 => Payload::load(
                        bases[(next() % 5) as usize],
                        [0u32, 1, 12, 13, 0xffff_ffff][(next() % 5) as usize],
                        len,
                        reg,
                    )
                    .into(),
                    1 => Meta::load(MetaKey::from_number((next() % 40) as u32), reg).into(),
                    2 => Bitwise::mask(reg, bytes).into(),
                    3 => Cmp::new(reg, CmpOp::from_number((next() % 7) as u32), bytes).into(),
                    4 => Ct::load(CtKey::from_number((next() % 25) as u32), reg).into(),
                    5 => crate::nft::expr::Reject {
                        kind: RejectType::from_number((next() % 4) as u32),
                        icmp_code: Some(next() as u8),
                    }
                    .into(),
                    _ => Exthdr {
                        dreg: Some(reg),
                        sreg: None,
                        kind: next() as u8,
                        offset: (next() % 300) as u32,
                        len,
                        flags: Some((next() % 2) as u32),
                        op: Some(ExthdrOp::from_number((next() % 4) as u32)),
                    }
                    .into(),
                });
            }
            let family = families[(next() % 6) as usize];
            let _ = text(family, exprs);
        }
    }
}
