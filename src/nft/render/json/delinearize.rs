//! From a rule's expressions to the statement tree: register tracking,
//! payload fields and prefixes from loads and masks, ranges from
//! `cmp >=`/`cmp <=` pairs, concatenations from adjacent registers,
//! anonymous sets and maps, and nft's dependency elimination (the
//! `meta nfproto` / `meta l4proto` / `meta iiftype` matches nft inserts
//! before a header match are dropped again, as `nft list` does).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::fields::{field_at, l4_name, FIELDS};
use super::set::render_elements;
use super::stmt::{verdict_json, Operand, Rhs, Stmt};
use super::types::Dtype;
use crate::nft::expr::{
    BitwiseOp, CmpOp, DynsetOp, Expr, LimitType, MetaKey, NatType, PayloadBase, RangeOp, RejectType,
};
use crate::nft::{Data, Family, Ruleset};

/// Where a rule sits: its family and the ruleset (for anonymous sets).
pub struct RuleCtx<'a> {
    /// Table family.
    pub family: Family,
    /// Table name.
    pub table: &'a str,
    /// The ruleset the rule's sets live in.
    pub rs: &'a Ruleset,
}

#[derive(Debug, Clone)]
enum Reg {
    Op(Operand),
    Imm(Data),
    /// Result of a map lookup: JSON `{"map": …}` and the data type.
    Map(Value),
}

/// 32-bit register slot of register `r` (NFT_REG_1..4 are 16 bytes wide).
fn slot(r: u32) -> u32 {
    if (1..=4).contains(&r) {
        8 + (r - 1) * 4
    } else {
        r
    }
}

struct State<'a> {
    ctx: &'a RuleCtx<'a>,
    regs: HashMap<u32, Reg>,
    out: Vec<Stmt>,
    l3: Option<&'static str>,
    l4: Option<u8>,
}

/// Turns a rule's expressions into statements.
pub fn delinearize(exprs: &[Expr], ctx: &RuleCtx<'_>) -> Vec<Stmt> {
    let mut st = State {
        ctx,
        regs: HashMap::new(),
        out: Vec::new(),
        l3: match ctx.family {
            Family::Ipv4 => Some("ip"),
            Family::Ipv6 => Some("ip6"),
            Family::Arp => Some("arp"),
            _ => None,
        },
        l4: None,
    };
    let mut i = 0;
    while i < exprs.len() {
        i += st.step(exprs, i);
    }
    eliminate_dependencies(st.out, ctx.family)
}

impl State<'_> {
    fn set_reg(&mut self, r: u32, v: Reg) {
        self.regs.insert(slot(r), v);
    }

    fn reg(&self, r: u32) -> Option<&Reg> {
        self.regs.get(&slot(r))
    }

    fn operand(&self, r: u32) -> Option<Operand> {
        match self.reg(r) {
            Some(Reg::Op(o)) => Some(o.clone()),
            _ => None,
        }
    }

    /// The operand of `len` bytes starting at register `r`: one operand,
    /// or the concatenation of those in the following slots.
    fn operand_len(&self, r: u32, len: u32) -> Option<Operand> {
        let first = self.operand(r)?;
        if first.len() >= len {
            return Some(first);
        }
        let mut parts = Vec::new();
        let mut s = slot(r);
        let mut covered = 0;
        while covered < len {
            let Some(Reg::Op(o)) = self.regs.get(&s) else {
                return None;
            };
            let w = o.len().div_ceil(4);
            covered += w * 4;
            s += w.max(1);
            parts.push(o.clone());
        }
        Some(Operand::Concat(parts))
    }

    fn payload_operand(&self, base: PayloadBase, offset: u32, len: u32) -> Operand {
        let proto = match base {
            PayloadBase::LinkLayer => Some("ether"),
            PayloadBase::Network => self.l3,
            PayloadBase::Transport => self.l4.and_then(l4_name).or(Some("th")),
            _ => None,
        };
        if let Some(p) = proto {
            if let Some(f) = FIELDS
                .iter()
                .find(|f| f.proto == p && f.base == base && f.offset == offset && f.len == len)
            {
                return Operand::Payload(f);
            }
        }
        Operand::RawPayload { base, offset, len }
    }

    /// Handles the expression at `i`; returns how many it consumed.
    fn step(&mut self, exprs: &[Expr], i: usize) -> usize {
        let e = &exprs[i];
        match e {
            Expr::Payload(p) if p.sreg.is_none() => {
                if let Some(d) = p.dreg {
                    let op = self.payload_operand(p.base, p.offset, p.len);
                    self.set_reg(d, Reg::Op(op));
                    return 1;
                }
            }
            Expr::Meta(m) if m.dreg.is_some() => {
                if let Some(d) = m.dreg {
                    self.set_reg(d, Reg::Op(Operand::Meta(m.key)));
                    return 1;
                }
            }
            Expr::Ct(c) if c.dreg.is_some() => {
                if let Some(d) = c.dreg {
                    self.set_reg(d, Reg::Op(Operand::Ct(c.key, c.direction)));
                    return 1;
                }
            }
            Expr::Immediate(imm) => {
                if let Data::Verdict(v) = &imm.data {
                    if imm.dreg == crate::nft::consts::NFT_REG_VERDICT {
                        self.out.push(Stmt::Verdict(v.clone()));
                        return 1;
                    }
                }
                self.set_reg(imm.dreg, Reg::Imm(imm.data.clone()));
                return 1;
            }
            Expr::Bitwise(b) => {
                if let Some(n) = self.bitwise(b, exprs.get(i + 1)) {
                    return n;
                }
            }
            Expr::Cmp(c) => {
                if let Some(n) = self.cmp(c, exprs.get(i + 1)) {
                    return n;
                }
            }
            Expr::Range(r) => {
                if let (Some(left), Some(a), Some(b)) =
                    (self.operand(r.sreg), r.from.value(), r.to.value())
                {
                    let op = if r.op == RangeOp::Eq { "==" } else { "!=" };
                    self.out.push(Stmt::Match {
                        op,
                        left,
                        right: Rhs::Range(a.to_vec(), b.to_vec()),
                    });
                    return 1;
                }
            }
            Expr::Lookup(l) => {
                if let Some(n) = self.lookup(l) {
                    return n;
                }
            }
            Expr::Meta(m) if m.sreg.is_some() => {
                if let Some(v) = m.sreg.and_then(|r| self.rhs_of_reg(r)) {
                    self.out.push(Stmt::Mangle {
                        key: Operand::Meta(m.key),
                        value: v,
                    });
                    return 1;
                }
            }
            Expr::Ct(c) if c.sreg.is_some() => {
                if let Some(v) = c.sreg.and_then(|r| self.rhs_of_reg(r)) {
                    self.out.push(Stmt::Mangle {
                        key: Operand::Ct(c.key, c.direction),
                        value: v,
                    });
                    return 1;
                }
            }
            Expr::Counter(_) | Expr::Limit(_) | Expr::Quota(_) | Expr::Connlimit(_) => {
                if let Some(v) = stateful_json(e, false) {
                    self.out.push(Stmt::Json(v));
                    return 1;
                }
            }
            Expr::Log(l) => {
                self.out.push(Stmt::Json(log_json(l)));
                return 1;
            }
            Expr::Objref(o) => {
                if let (Some(name), Some(t)) = (&o.name, o.obj_type) {
                    let kind = crate::nft::object::obj_type_name(t);
                    let mut m = serde_json::Map::new();
                    m.insert(kind.into(), json!(name));
                    self.out.push(Stmt::Json(Value::Object(m)));
                    return 1;
                }
            }
            Expr::Notrack(_) => {
                self.out.push(Stmt::Json(json!({"notrack": null})));
                return 1;
            }
            Expr::Reject(r) => {
                self.out.push(Stmt::Json(self.reject_json(r)));
                return 1;
            }
            Expr::Nat(n) => {
                if let Some(s) = self.nat(n) {
                    self.out.push(s);
                    return 1;
                }
            }
            Expr::Masq(m) => {
                let port = m.reg_proto_min.and_then(|r| self.port_of(r));
                self.out.push(Stmt::Nat {
                    kind: "masquerade",
                    family: None,
                    addr: None,
                    port,
                    flags: nat_flags(m.flags.unwrap_or(0)),
                });
                return 1;
            }
            Expr::Redir(m) => {
                let port = m.reg_proto_min.and_then(|r| self.port_of(r));
                self.out.push(Stmt::Nat {
                    kind: "redirect",
                    family: None,
                    addr: None,
                    port,
                    flags: nat_flags(m.flags.unwrap_or(0)),
                });
                return 1;
            }
            Expr::Dynset(d) => {
                if let Some(key) = self.operand(d.sreg_key) {
                    let op = match d.op {
                        DynsetOp::Add => "add",
                        DynsetOp::Update => "update",
                        DynsetOp::Delete => "delete",
                        DynsetOp::Other(_) => "add",
                    };
                    let elem = match d.timeout {
                        Some(t) if t > 0 => {
                            json!({"elem": {"val": key.to_json(), "timeout": t / 1000}})
                        }
                        _ => key.to_json(),
                    };
                    let mut set = json!({
                        "op": op,
                        "elem": elem,
                        "set": format!("@{}", d.set_name),
                    });
                    let stmts = stateful_list(d.expr.as_deref(), d.exprs.as_deref(), false);
                    if !stmts.is_empty() {
                        set["stmt"] = Value::Array(stmts);
                    }
                    self.out.push(Stmt::Json(json!({ "set": set })));
                    return 1;
                }
            }
            _ => {}
        }
        self.out.push(Stmt::Json(
            json!({ "nftguard-opaque": { "expr": e.name() } }),
        ));
        1
    }

    fn rhs_of_reg(&self, r: u32) -> Option<Rhs> {
        match self.reg(r)? {
            Reg::Op(o) => Some(Rhs::Operand(o.clone())),
            Reg::Imm(Data::Value(v)) => Some(Rhs::Value(v.clone())),
            _ => None,
        }
    }

    fn bitwise(&mut self, b: &crate::nft::expr::Bitwise, next: Option<&Expr>) -> Option<usize> {
        if b.op.is_some_and(|o| o != BitwiseOp::MaskXor) || b.sreg != b.dreg {
            return None;
        }
        let mask = b.mask.as_ref()?.value()?.to_vec();
        let xor = b.xor.as_ref()?.value()?;
        if xor.iter().any(|&x| x != 0) {
            return None;
        }
        let left = self.operand(b.sreg)?;
        let Some(Expr::Cmp(c)) = next else {
            // A masked value stays in the register (e.g. for a lookup).
            self.set_reg(b.dreg, Reg::Op(Operand::And(Box::new(left), mask)));
            return Some(1);
        };
        if c.sreg != b.dreg {
            return None;
        }
        let value = c.data.value()?.to_vec();
        let dtype = left.dtype();
        // `ct state established,related`: mask, then `!= 0`: nft's
        // implicit flag test, printed with `in`.
        if dtype.is_bitmask() && c.op == CmpOp::Neq && value.iter().all(|&x| x == 0) {
            self.out.push(Stmt::Match {
                op: "in",
                left,
                right: Rhs::Value(mask),
            });
            return Some(2);
        }
        // A prefix: leading ones, address types.
        if let Some(bits) = prefix_bits(&mask) {
            if matches!(dtype, Dtype::Ipv4 | Dtype::Ipv6)
                && (c.op == CmpOp::Eq || c.op == CmpOp::Neq)
            {
                self.out.push(Stmt::Match {
                    op: cmp_op(c.op),
                    left,
                    right: Rhs::Prefix(value, bits),
                });
                return Some(2);
            }
        }
        self.out.push(Stmt::Match {
            op: cmp_op(c.op),
            left: Operand::And(Box::new(left), mask),
            right: Rhs::Value(value),
        });
        Some(2)
    }

    fn cmp(&mut self, c: &crate::nft::expr::Cmp, next: Option<&Expr>) -> Option<usize> {
        let value = c.data.value()?.to_vec();
        let reg = self.reg(c.sreg)?.clone();
        let Reg::Op(left) = reg else { return None };
        // `a-b`: `cmp >= a` then `cmp <= b` on the same register.
        if c.op == CmpOp::Gte {
            if let Some(Expr::Cmp(c2)) = next {
                if c2.op == CmpOp::Lte && c2.sreg == c.sreg {
                    let to = c2.data.value()?.to_vec();
                    self.out.push(Stmt::Match {
                        op: "==",
                        left,
                        right: Rhs::Range(value, to),
                    });
                    return Some(2);
                }
            }
        }
        // A shorter load of an address field: a byte-aligned prefix.
        if let Operand::RawPayload { base, offset, len } = &left {
            let proto = match base {
                PayloadBase::Network => self.l3,
                _ => None,
            };
            if let Some(f) = proto.and_then(|p| {
                FIELDS.iter().find(|f| {
                    f.proto == p
                        && f.base == *base
                        && f.offset == *offset
                        && f.len > *len
                        && matches!(f.dtype, Dtype::Ipv4 | Dtype::Ipv6)
                })
            }) {
                if c.op == CmpOp::Eq || c.op == CmpOp::Neq {
                    let mut addr = value.clone();
                    addr.resize(f.len as usize, 0);
                    self.out.push(Stmt::Match {
                        op: cmp_op(c.op),
                        left: Operand::Payload(f),
                        right: Rhs::Prefix(addr, len * 8),
                    });
                    return Some(1);
                }
            }
            // Several adjacent fields merged into one load.
            if c.op == CmpOp::Eq {
                if let Some(parts) = self.split_merged(*base, *offset, *len) {
                    let mut at = 0usize;
                    for f in parts {
                        let end = at + f.len as usize;
                        let v = value.get(at..end)?.to_vec();
                        at = end;
                        self.note_context(&Operand::Payload(f), &v);
                        self.out.push(Stmt::Match {
                            op: "==",
                            left: Operand::Payload(f),
                            right: Rhs::Value(v),
                        });
                    }
                    return Some(1);
                }
            }
        }
        if c.op == CmpOp::Eq {
            self.note_context(&left, &value);
        }
        self.out.push(Stmt::Match {
            op: cmp_op(c.op),
            left,
            right: Rhs::Value(value),
        });
        Some(1)
    }

    fn split_merged(
        &self,
        base: PayloadBase,
        offset: u32,
        len: u32,
    ) -> Option<Vec<&'static super::fields::Field>> {
        let proto = match base {
            PayloadBase::LinkLayer => "ether",
            PayloadBase::Network => self.l3?,
            PayloadBase::Transport => self.l4.and_then(l4_name)?,
            _ => return None,
        };
        let mut out = Vec::new();
        let mut at = offset;
        while at < offset + len {
            let f = field_at(proto, base, at, offset + len - at)?;
            out.push(f);
            at += f.len;
        }
        (out.len() > 1).then_some(out)
    }

    /// Remembers the protocols an equality match establishes.
    fn note_context(&mut self, left: &Operand, value: &[u8]) {
        match left {
            Operand::Meta(MetaKey::Nfproto) => match value {
                [2] => self.l3 = Some("ip"),
                [10] => self.l3 = Some("ip6"),
                _ => {}
            },
            Operand::Meta(MetaKey::L4proto) => {
                if let [v] = value {
                    self.l4 = Some(*v);
                }
            }
            Operand::Payload(f) if f.name == "protocol" || f.name == "nexthdr" => {
                if let [v] = value {
                    self.l4 = Some(*v);
                }
            }
            Operand::Payload(f) if f.proto == "ether" && f.name == "type" => self.note_l3(value),
            Operand::Meta(MetaKey::Protocol) => self.note_l3(value),
            _ => {}
        }
    }

    /// The network protocol an ethertype (`ether type`, `meta protocol`)
    /// establishes.
    fn note_l3(&mut self, ethertype: &[u8]) {
        match ethertype {
            [0x08, 0x00] => self.l3 = Some("ip"),
            [0x86, 0xdd] => self.l3 = Some("ip6"),
            [0x08, 0x06] => self.l3 = Some("arp"),
            _ => {}
        }
    }

    fn lookup(&mut self, l: &crate::nft::expr::Lookup) -> Option<usize> {
        let set = self.ctx.rs.set(self.ctx.family, self.ctx.table, &l.set);
        let key_len = set.map(|s| s.key_len);
        let left = match key_len {
            Some(len) => self.operand_len(l.sreg, len)?,
            None => self.operand(l.sreg)?,
        };
        let anonymous = set.is_some_and(|s| s.is_anonymous());
        let data = match (anonymous, set) {
            (true, Some(s)) => Rhs::Anon(render_elements(
                self.ctx.rs,
                s,
                self.ctx.rs.elements_of(s.family, &s.table, &s.name),
                Some(&left),
            )),
            _ => Rhs::SetRef(l.set.clone()),
        };
        let inverted = l.flags.unwrap_or(0) & crate::nft::expr::lookup::NFT_LOOKUP_F_INV != 0;
        match l.dreg {
            None => {
                self.out.push(Stmt::Match {
                    op: if inverted { "!=" } else { "==" },
                    left,
                    right: data,
                });
            }
            Some(0) => self.out.push(Stmt::Vmap { key: left, data }),
            Some(d) => {
                let data_json = data.to_json(Dtype::IntBe);
                self.set_reg(
                    d,
                    Reg::Map(json!({"map": {"key": left.to_json(), "data": data_json}})),
                );
            }
        }
        Some(1)
    }

    fn port_of(&self, r: u32) -> Option<Value> {
        match self.reg(r)? {
            Reg::Imm(Data::Value(v)) => Some(Dtype::InetService.to_json(v)),
            Reg::Map(m) => Some(m.clone()),
            Reg::Op(o) => Some(o.to_json()),
            _ => None,
        }
    }

    fn nat(&mut self, n: &crate::nft::expr::Nat) -> Option<Stmt> {
        let (fam, dtype) = match n.family {
            2 => ("ip", Dtype::Ipv4),
            10 => ("ip6", Dtype::Ipv6),
            _ => return None,
        };
        let addr = match n.reg_addr_min {
            Some(r) => {
                let min = match self.reg(r)? {
                    Reg::Imm(Data::Value(v)) => dtype.to_json(v),
                    Reg::Map(m) => m.clone(),
                    Reg::Op(o) => o.to_json(),
                    _ => return None,
                };
                match (n.reg_addr_max, self.reg(n.reg_addr_max.unwrap_or(r))) {
                    (Some(mx), Some(Reg::Imm(Data::Value(v)))) if mx != r => {
                        Some(json!({"range": [min, dtype.to_json(v)]}))
                    }
                    _ => Some(min),
                }
            }
            None => None,
        };
        let port = match n.reg_proto_min {
            Some(r) => {
                let min = self.port_of(r)?;
                match (n.reg_proto_max, self.reg(n.reg_proto_max.unwrap_or(r))) {
                    (Some(mx), Some(Reg::Imm(Data::Value(v)))) if mx != r => {
                        Some(json!({"range": [min, Dtype::InetService.to_json(v)]}))
                    }
                    _ => Some(min),
                }
            }
            None => None,
        };
        // `NF_NAT_RANGE_MAP_IPS` (1) is implied by an address and
        // `PROTO_SPECIFIED` (2) by a port: nft does not print them.
        let flags = nat_flags(n.flags.unwrap_or(0) & !0x3);
        Some(Stmt::Nat {
            kind: if n.kind == NatType::Snat {
                "snat"
            } else {
                "dnat"
            },
            family: (self.ctx.family == Family::Inet).then_some(fam),
            addr,
            port,
            flags,
        })
    }

    fn reject_json(&self, r: &crate::nft::expr::Reject) -> Value {
        let code = r.icmp_code.unwrap_or(0);
        let (kind, names): (&str, &[(u128, &str)]) = match r.kind {
            RejectType::TcpRst => return json!({"reject": {"type": "tcp reset"}}),
            RejectType::IcmpxUnreach => ("icmpx", ICMPX_CODES),
            _ if self.l3 == Some("ip6") => ("icmpv6", ICMPV6_CODES),
            _ => ("icmp", ICMP_CODES),
        };
        let expr = names
            .iter()
            .find(|(c, _)| *c == u128::from(code))
            .map_or_else(|| json!(code), |(_, n)| json!(n));
        json!({"reject": {"type": kind, "expr": expr}})
    }
}

pub use crate::nft::render::value::{ICMPV6_CODES, ICMPX_CODES, ICMP_CODES};

/// nft's NAT flag names by bit.
pub const NAT_FLAGS: &[(u32, &str)] = &[
    (0x4, "random"),
    (0x8, "persistent"),
    (0x10, "fully-random"),
    (0x40, "netmap"),
];

fn nat_flags(bits: u32) -> Vec<&'static str> {
    NAT_FLAGS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect()
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Neq => "!=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Other(_) => "==",
    }
}

fn prefix_bits(mask: &[u8]) -> Option<u32> {
    let mut bits = 0;
    let mut ended = false;
    for &b in mask {
        for i in (0..8).rev() {
            let one = b >> i & 1 == 1;
            if one && ended {
                return None;
            }
            if one {
                bits += 1;
            } else {
                ended = true;
            }
        }
    }
    (bits < mask.len() as u32 * 8).then_some(bits)
}

/// Time units of `limit` and their length in seconds.
pub const LIMIT_UNITS: &[(u64, &str)] = &[
    (1, "second"),
    (60, "minute"),
    (3600, "hour"),
    (86400, "day"),
    (604800, "week"),
];

/// The biggest byte unit that divides `n` exactly (nft's `kbytes`, …).
pub fn byte_unit(n: u64) -> (u64, &'static str) {
    let units = [(1u64 << 20, "mbytes"), (1 << 10, "kbytes")];
    for (u, name) in units {
        if n >= u && n.is_multiple_of(u) {
            return (n / u, name);
        }
    }
    (n, "bytes")
}

/// The JSON of a stateful expression (`counter`, `limit`, `quota`, `ct
/// count`); `stateless` prints a counter without its values, as nft does
/// for the expressions of a set declaration.
pub fn stateful_json(e: &Expr, stateless: bool) -> Option<Value> {
    Some(match e {
        Expr::Counter(_) if stateless => json!({"counter": null}),
        Expr::Counter(c) => json!({"counter": {
            "packets": c.packets.unwrap_or(0),
            "bytes": c.bytes.unwrap_or(0),
        }}),
        Expr::Limit(l) => limit_json(l),
        Expr::Quota(q) => quota_json(q),
        Expr::Connlimit(c) => {
            let mut m = serde_json::Map::new();
            m.insert("val".into(), json!(c.count));
            if c.flags.unwrap_or(0) & 1 != 0 {
                m.insert("inv".into(), json!(true));
            }
            json!({ "ct count": m })
        }
        _ => return None,
    })
}

/// The stateful expressions of a set or dynset (one, or a list), as JSON
/// statements.
pub fn stateful_list(one: Option<&Expr>, many: Option<&[Expr]>, stateless: bool) -> Vec<Value> {
    one.into_iter()
        .chain(many.unwrap_or_default())
        .map(|e| {
            stateful_json(e, stateless)
                .unwrap_or_else(|| json!({ "nftguard-opaque": { "expr": e.name() } }))
        })
        .collect()
}

fn limit_json(l: &crate::nft::expr::Limit) -> Value {
    let mut m = serde_json::Map::new();
    let per = LIMIT_UNITS
        .iter()
        .find(|(s, _)| *s == l.unit)
        .map_or_else(|| json!(l.unit), |(_, n)| json!(n));
    if l.kind == LimitType::Bytes {
        let (r, ru) = byte_unit(l.rate);
        m.insert("rate".into(), json!(r));
        m.insert("rate_unit".into(), json!(ru));
        // Statements print the byte burst even when it is 0.
        let (b, bu) = byte_unit(l.burst as u64);
        m.insert("burst".into(), json!(b));
        m.insert("burst_unit".into(), json!(bu));
    } else {
        m.insert("rate".into(), json!(l.rate));
        if l.burst != 0 {
            m.insert("burst".into(), json!(l.burst));
        }
    }
    m.insert("per".into(), per);
    if l.flags & 1 != 0 {
        m.insert("inv".into(), json!(true));
    }
    json!({ "limit": m })
}

/// Syslog level names, by number.
pub const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

fn log_json(l: &crate::nft::expr::Log) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(p) = &l.prefix {
        m.insert("prefix".into(), json!(p));
    }
    if let Some(g) = l.group {
        m.insert("group".into(), json!(g));
    }
    if let Some(s) = l.snaplen {
        m.insert("snaplen".into(), json!(s));
    }
    if let Some(q) = l.qthreshold {
        m.insert("queue-threshold".into(), json!(q));
    }
    // nft sends level 4 (warn) when none is given and does not print it.
    if let Some(lv) = l.level.filter(|&lv| lv != 4) {
        let name = LOG_LEVELS.get(lv as usize).map_or_else(
            || if lv == 8 { json!("audit") } else { json!(lv) },
            |n| json!(n),
        );
        m.insert("level".into(), name);
    }
    if let Some(f) = l.flags.filter(|&f| f != 0) {
        let names: Vec<&str> = [
            (1, "tcp sequence"),
            (2, "tcp options"),
            (4, "ip options"),
            (8, "skuid"),
            (16, "ether"),
        ]
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
        m.insert(
            "flags".into(),
            if f == 0x1f {
                json!("all")
            } else {
                json!(names)
            },
        );
    }
    if m.is_empty() {
        json!({"log": null})
    } else {
        json!({ "log": m })
    }
}

fn quota_json(q: &crate::nft::expr::Quota) -> Value {
    let mut m = serde_json::Map::new();
    let (v, vu) = byte_unit(q.bytes);
    m.insert("val".into(), json!(v));
    m.insert("val_unit".into(), json!(vu));
    if let Some(c) = q.consumed.filter(|&c| c != 0) {
        let (u, uu) = byte_unit(c);
        m.insert("used".into(), json!(u));
        m.insert("used_unit".into(), json!(uu));
    }
    if q.flags & 1 != 0 {
        m.insert("inv".into(), json!(true));
    }
    json!({ "quota": m })
}

/// Whether `stmt` is a dependency match of the given kind that a later
/// statement implies.
fn eliminate_dependencies(stmts: Vec<Stmt>, family: Family) -> Vec<Stmt> {
    let mut keep = vec![true; stmts.len()];
    for (i, s) in stmts.iter().enumerate() {
        let Stmt::Match {
            op: "==",
            left,
            right: Rhs::Value(v),
        } = s
        else {
            continue;
        };
        let later = &stmts[i + 1..];
        let implied = match (left, v.as_slice()) {
            (Operand::Meta(MetaKey::Nfproto), [n]) => {
                let (l3, l4) = if *n == 2 {
                    ("ip", "icmp")
                } else {
                    ("ip6", "icmpv6")
                };
                family == Family::Inet
                    && later.iter().any(|s| {
                        uses_proto(s, l3)
                            || uses_proto(s, l4)
                            || nat_family(s, l3)
                            || reject_needs(s, l4)
                    })
            }
            (Operand::Meta(MetaKey::L4proto), [n]) => l4_name(*n).is_some_and(|p| {
                later
                    .iter()
                    .any(|s| uses_proto(s, p) || (p == "tcp" && is_tcp_reset(s)))
            }),
            (Operand::Payload(f), [n]) if f.name == "protocol" || f.name == "nexthdr" => {
                l4_name(*n).is_some_and(|p| later.iter().any(|s| uses_proto(s, p)))
            }
            // `meta protocol ip` before `ip saddr` in bridge and netdev
            // tables.
            (Operand::Meta(MetaKey::Protocol), [0x08, 0x00]) => {
                later.iter().any(|s| uses_proto(s, "ip"))
            }
            (Operand::Meta(MetaKey::Protocol), [0x86, 0xdd]) => {
                later.iter().any(|s| uses_proto(s, "ip6"))
            }
            (Operand::Meta(MetaKey::Protocol), [0x08, 0x06]) => {
                later.iter().any(|s| uses_proto(s, "arp"))
            }
            (Operand::Meta(MetaKey::Iiftype), [1, 0]) => {
                later.iter().any(|s| uses_proto(s, "ether"))
            }
            _ => false,
        };
        if implied {
            keep[i] = false;
        }
    }
    stmts
        .into_iter()
        .zip(keep)
        .filter_map(|(s, k)| k.then_some(s))
        .collect()
}

fn operand_uses(o: &Operand, proto: &str) -> bool {
    let mut found = false;
    o.visit(&mut |x| {
        if let Operand::Payload(f) = x {
            if f.proto == proto {
                found = true;
            }
        }
    });
    found
}

fn uses_proto(s: &Stmt, proto: &str) -> bool {
    match s {
        Stmt::Match { left, right, .. } => {
            operand_uses(left, proto) || matches!(right, Rhs::Operand(o) if operand_uses(o, proto))
        }
        Stmt::Vmap { key, .. } => operand_uses(key, proto),
        Stmt::Mangle { key, value } => {
            operand_uses(key, proto) || matches!(value, Rhs::Operand(o) if operand_uses(o, proto))
        }
        Stmt::Nat { addr, port, .. } => {
            let j = format!("{addr:?}{port:?}");
            j.contains(&format!("String(\"{proto}\")"))
        }
        Stmt::Json(v) => v
            .get("set")
            .and_then(|x| x.get("elem"))
            .is_some_and(|e| e.to_string().contains(&format!("\"protocol\":\"{proto}\""))),
        Stmt::Verdict(_) => false,
    }
}

fn nat_family(s: &Stmt, l3: &str) -> bool {
    matches!(s, Stmt::Nat { family: Some(f), .. } if *f == l3)
}

fn reject_needs(s: &Stmt, l4: &str) -> bool {
    let icmp = if l4 == "icmp" { "icmp" } else { "icmpv6" };
    matches!(s, Stmt::Json(v) if v.get("reject").and_then(|r| r.get("type")) == Some(&json!(icmp)))
}

fn is_tcp_reset(s: &Stmt) -> bool {
    matches!(s, Stmt::Json(v) if v.get("reject").and_then(|r| r.get("type")) == Some(&json!("tcp reset")))
}

/// The JSON of a verdict, for map data.
pub fn verdict_value(v: &crate::nft::Verdict) -> Value {
    verdict_json(v)
}
