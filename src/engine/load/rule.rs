//! Rules and set elements from JSON: statements translated into the
//! expressions nft 1.0.6 emits (protocol dependencies, byte-aligned
//! prefixes as shorter loads, ranges as `cmp >=`/`cmp <=`, anonymous sets,
//! merged adjacent payload matches through the rule builder).

use serde_json::{Map, Value};

use super::objects::{bool_key, family, limit_of, name};
use super::{known_keys, obj, opt_uint, req, req_str, string, uint, Cmd, LResult, Path};
use crate::engine::{Op, Transaction};
use crate::nft::consts::NFT_REG_1;
use crate::nft::expr::{
    Bitwise, Cmp, CmpOp, Connlimit, Counter, Ct, CtKey, Dynset, DynsetOp, Expr, Immediate, Log,
    Lookup, Masq, Meta, MetaKey, Nat, NatType, Notrack, Objref, Payload, PayloadBase, Quota, Range,
    RangeOp, Redir, Reject, RejectType,
};
use crate::nft::object::{NFT_OBJECT_COUNTER, NFT_OBJECT_LIMIT, NFT_OBJECT_QUOTA};
use crate::nft::render::json::delinearize::{
    ICMPV6_CODES, ICMPX_CODES, ICMP_CODES, LOG_LEVELS, NAT_FLAGS,
};
use crate::nft::render::json::fields::{ct_type, field, l4_number, meta_type, Field};
use crate::nft::render::json::types::Dtype;
use crate::nft::{
    rule::MAX_COMMENT_BYTES, set::concat_type, Data, ElementList, Family, Rule, Set, SetElement,
    SetFlags, Verdict,
};

/// Deepest expression nesting the translator follows.
const MAX_EXPR_DEPTH: usize = 16;

/// A left-hand operand.
#[derive(Debug, Clone)]
enum Left {
    Payload(&'static Field),
    Raw {
        base: PayloadBase,
        offset: u32,
        len: u32,
    },
    Meta(MetaKey),
    Ct(CtKey, Option<u8>),
    Concat(Vec<Left>),
    And(Box<Left>, Value),
}

impl Left {
    fn dtype(&self) -> Dtype {
        match self {
            Left::Payload(f) => f.dtype,
            Left::Raw { .. } | Left::Concat(_) => Dtype::IntBe,
            Left::Meta(k) => meta_type(*k).0,
            Left::Ct(k, _) => ct_type(*k).0,
            Left::And(l, _) => l.dtype(),
        }
    }
    fn len(&self) -> u32 {
        match self {
            Left::Payload(f) => f.len,
            Left::Raw { len, .. } => *len,
            Left::Meta(k) => meta_type(*k).1,
            Left::Ct(k, _) => ct_type(*k).1,
            Left::Concat(v) => v.iter().map(|l| l.len().div_ceil(4) * 4).sum(),
            Left::And(l, _) => l.len(),
        }
    }
    fn parts(&self) -> Vec<&Left> {
        match self {
            Left::Concat(v) => v.iter().collect(),
            l => vec![l],
        }
    }
}

struct Ctx<'t> {
    tx: &'t mut Transaction,
    rule: Rule,
    ops: Vec<Op>,
    l3: Option<&'static str>,
    l4: Option<u8>,
}

fn verdict_of(k: &str, v: &Value, p: &Path) -> LResult<Option<Verdict>> {
    let target = || -> LResult<String> {
        let o = obj(v, p)?;
        req_str(o, "target", p)
    };
    Ok(Some(match k {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "continue" => Verdict::Continue,
        "return" => Verdict::Return,
        "jump" => Verdict::Jump(target()?.as_str().into()),
        "goto" => Verdict::Goto(target()?.as_str().into()),
        _ => return Ok(None),
    }))
}

/// The only key of a one-key object, with its value.
fn single<'a>(v: &'a Value, p: &Path) -> LResult<(&'a str, &'a Value)> {
    match v.as_object() {
        Some(o) if o.len() == 1 => o
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
            .ok_or_else(|| p.err("expected an object with one key")),
        _ => Err(p.err("expected an object with exactly one key")),
    }
}

pub(crate) fn rule_op(
    tx: &mut Transaction,
    cmd: Cmd,
    o: &Map<String, Value>,
    p: &Path,
) -> LResult<Vec<Op>> {
    known_keys(
        o,
        &[
            "family", "table", "chain", "handle", "position", "index", "expr", "comment",
        ],
        p,
    )?;
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let chain = name(o, "chain", p)?;
    let handle = opt_uint(o, "handle", u64::MAX, p)?;
    match cmd {
        Cmd::Delete => {
            let handle = handle
                .ok_or_else(|| p.err("missing key \"handle\" (rules are deleted by handle)"))?;
            return Ok(vec![Op::DeleteRule {
                family: fam,
                table,
                chain,
                handle,
            }]);
        }
        Cmd::Flush => return Err(p.err("rules cannot be flushed (flush the chain)")),
        _ => {}
    }
    let mut rule = Rule::new(fam, table, chain);
    if let Some(c) = super::opt_str(o, "comment", p)? {
        if c.len() > MAX_COMMENT_BYTES {
            return Err(p.key("comment").err(format!(
                "rule comment is {} bytes, over nft's {MAX_COMMENT_BYTES}-byte limit",
                c.len()
            )));
        }
        rule = rule.comment(&c);
    }
    let exprs = req(o, "expr", p)?
        .as_array()
        .ok_or_else(|| p.key("expr").err("expected an array of statements"))?;
    let mut cx = Ctx {
        tx,
        rule,
        ops: Vec::new(),
        l3: match fam {
            Family::Ipv4 => Some("ip"),
            Family::Ipv6 => Some("ip6"),
            _ => None,
        },
        l4: None,
    };
    let ep = p.key("expr");
    for (i, s) in exprs.iter().enumerate() {
        cx.statement(s, &ep.idx(i))?;
    }
    let mut rule = cx.rule;
    let mut ops = cx.ops;
    match cmd {
        Cmd::Replace => {
            rule.handle = Some(handle.ok_or_else(|| {
                p.err("missing key \"handle\" (replace needs the rule's handle)")
            })?);
            ops.push(Op::ReplaceRule(rule));
        }
        Cmd::Insert => {
            rule.position = opt_uint(o, "position", u64::MAX, p)?.or(handle);
            ops.push(Op::InsertRule(rule));
        }
        _ => {
            rule.position = opt_uint(o, "position", u64::MAX, p)?;
            ops.push(Op::AddRule(rule));
        }
    }
    Ok(ops)
}

impl Ctx<'_> {
    fn push(&mut self, e: impl Into<Expr>) {
        self.rule.exprs.push(e.into());
    }

    fn statement(&mut self, s: &Value, p: &Path) -> LResult<()> {
        let (k, v) = single(s, p)?;
        let p = &p.key(k);
        if let Some(verdict) = verdict_of(k, v, p)? {
            self.push(Immediate::verdict(verdict));
            return Ok(());
        }
        match k {
            "match" => self.match_stmt(obj(v, p)?, p),
            "counter" => {
                match v {
                    Value::String(n) => self.push(Objref::named(NFT_OBJECT_COUNTER, n.clone())),
                    Value::Null => self.push(Counter::new()),
                    Value::Object(o) => {
                        known_keys(o, &["packets", "bytes"], p)?;
                        self.push(Counter {
                            bytes: Some(opt_uint(o, "bytes", u64::MAX, p)?.unwrap_or(0)),
                            packets: Some(opt_uint(o, "packets", u64::MAX, p)?.unwrap_or(0)),
                        })
                    }
                    _ => return Err(p.err("expected null, an object or a counter name")),
                }
                Ok(())
            }
            "quota" => {
                match v {
                    Value::String(n) => self.push(Objref::named(NFT_OBJECT_QUOTA, n.clone())),
                    Value::Object(o) => {
                        known_keys(o, &["val", "val_unit", "used", "used_unit", "inv"], p)?;
                        let unit = |k: &str| -> LResult<u64> {
                            match o.get(k).and_then(Value::as_str) {
                                None | Some("bytes") => Ok(1),
                                Some("kbytes") => Ok(1 << 10),
                                Some("mbytes") => Ok(1 << 20),
                                Some(_) => Err(p.key(k).err("expected bytes, kbytes or mbytes")),
                            }
                        };
                        let val = uint(req(o, "val", p)?, u64::MAX >> 20, &p.key("val"))?
                            * unit("val_unit")?;
                        let used = opt_uint(o, "used", u64::MAX >> 20, p)?.unwrap_or(0)
                            * unit("used_unit")?;
                        self.push(Quota {
                            bytes: val,
                            consumed: Some(used),
                            flags: u32::from(bool_key(o, "inv", p)?),
                        })
                    }
                    _ => return Err(p.err("expected an object or a quota name")),
                }
                Ok(())
            }
            "limit" => {
                match v {
                    Value::String(n) => self.push(Objref::named(NFT_OBJECT_LIMIT, n.clone())),
                    Value::Object(o) => {
                        known_keys(
                            o,
                            &["rate", "per", "burst", "rate_unit", "burst_unit", "inv"],
                            p,
                        )?;
                        self.push(limit_of(o, p)?)
                    }
                    _ => return Err(p.err("expected an object or a limit name")),
                }
                Ok(())
            }
            "log" => self.log(v, p),
            "reject" => self.reject(v, p),
            "notrack" => {
                self.push(Notrack {});
                Ok(())
            }
            "ct count" => {
                let o = obj(v, p)?;
                known_keys(o, &["val", "inv"], p)?;
                self.push(Connlimit {
                    count: uint(req(o, "val", p)?, u32::MAX as u64, &p.key("val"))? as u32,
                    flags: bool_key(o, "inv", p)?.then_some(1),
                });
                Ok(())
            }
            "snat" | "dnat" => self.nat(k, v, p),
            "masquerade" | "redirect" => self.masq(k, v, p),
            "mangle" => self.mangle(obj(v, p)?, p),
            "vmap" => {
                let o = obj(v, p)?;
                known_keys(o, &["key", "data"], p)?;
                let key = self.left(req(o, "key", p)?, &p.key("key"), 0)?;
                self.load(&key, &p.key("key"))?;
                let (set, id) = self.set_ref(&key, req(o, "data", p)?, &p.key("data"), true)?;
                self.push(Lookup {
                    set,
                    set_id: id,
                    sreg: NFT_REG_1,
                    dreg: Some(0),
                    flags: None,
                });
                Ok(())
            }
            "set" => self.dynset(obj(v, p)?, p),
            _ => Err(p.err(format!("unknown or unsupported statement {k:?}"))),
        }
    }

    fn left(&self, v: &Value, p: &Path, depth: usize) -> LResult<Left> {
        if depth > MAX_EXPR_DEPTH {
            return Err(p.err("expression nested too deeply"));
        }
        let (k, inner) = single(v, p)?;
        let ip = p.key(k);
        match k {
            "payload" => {
                let o = obj(inner, &ip)?;
                if let Some(proto) = o.get("protocol") {
                    known_keys(o, &["protocol", "field"], &ip)?;
                    let proto = string(proto, &ip.key("protocol"))?;
                    let f = req_str(o, "field", &ip)?;
                    field(&proto, &f).map(Left::Payload).ok_or_else(|| {
                        ip.err(format!("unknown or unsupported header field {proto} {f}"))
                    })
                } else {
                    known_keys(o, &["base", "offset", "len"], &ip)?;
                    let base = match req_str(o, "base", &ip)?.as_str() {
                        "ll" => PayloadBase::LinkLayer,
                        "nh" => PayloadBase::Network,
                        "th" => PayloadBase::Transport,
                        _ => return Err(ip.key("base").err("expected ll, nh or th")),
                    };
                    let off = uint(req(o, "offset", &ip)?, 65535 * 8, &ip.key("offset"))?;
                    let len = uint(req(o, "len", &ip)?, 128, &ip.key("len"))?;
                    if off % 8 != 0 || len % 8 != 0 || len == 0 {
                        return Err(ip.err("only byte-aligned raw payloads are supported"));
                    }
                    Ok(Left::Raw {
                        base,
                        offset: (off / 8) as u32,
                        len: (len / 8) as u32,
                    })
                }
            }
            "meta" => {
                let o = obj(inner, &ip)?;
                known_keys(o, &["key"], &ip)?;
                let key = req_str(o, "key", &ip)?;
                let k = MetaKey::from_nft_name(&key)
                    .ok_or_else(|| ip.key("key").err(format!("unknown meta key {key:?}")))?;
                Ok(Left::Meta(k))
            }
            "ct" => {
                let o = obj(inner, &ip)?;
                known_keys(o, &["key", "dir", "family"], &ip)?;
                let key = req_str(o, "key", &ip)?;
                let k = CtKey::from_nft_name(&key)
                    .ok_or_else(|| ip.key("key").err(format!("unknown ct key {key:?}")))?;
                let dir = match o.get("dir").map(Value::as_str) {
                    None => None,
                    Some(Some("original")) => Some(0),
                    Some(Some("reply")) => Some(1),
                    Some(_) => return Err(ip.key("dir").err("expected original or reply")),
                };
                Ok(Left::Ct(k, dir))
            }
            "concat" => {
                let a = inner
                    .as_array()
                    .filter(|a| a.len() >= 2)
                    .ok_or_else(|| ip.err("expected an array of at least two expressions"))?;
                let parts = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.left(x, &ip.idx(i), depth + 1))
                    .collect::<LResult<Vec<_>>>()?;
                if parts.iter().any(|l| matches!(l, Left::Concat(_))) {
                    return Err(ip.err("nested concatenations are not supported"));
                }
                let total: u32 = parts.iter().map(|l| l.len().div_ceil(4) * 4).sum();
                if total > 64 {
                    return Err(ip.err("concatenation longer than 64 bytes"));
                }
                Ok(Left::Concat(parts))
            }
            "&" => {
                let a = inner
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| ip.err("expected [expression, mask]"))?;
                let l = self.left(&a[0], &ip.idx(0), depth + 1)?;
                Ok(Left::And(Box::new(l), a[1].clone()))
            }
            _ => Err(ip.err(format!("unknown or unsupported expression {k:?}"))),
        }
    }

    /// Adds the protocol dependencies `l` needs, as nft does.
    fn deps(&mut self, l: &Left, p: &Path) -> LResult<()> {
        for part in l.parts() {
            let part = match part {
                Left::And(x, _) => x.as_ref(),
                x => x,
            };
            let Left::Payload(f) = part else { continue };
            match f.proto {
                "ip" | "ip6" => self.need_l3(f.proto, p)?,
                "ether" => {
                    if matches!(self.rule.family, Family::Inet | Family::Ipv4 | Family::Ipv6) {
                        self.push(Meta::load(MetaKey::Iiftype, NFT_REG_1));
                        self.push(Cmp::new(NFT_REG_1, CmpOp::Eq, vec![1, 0]));
                    }
                }
                "th" => {}
                proto => {
                    let n = l4_number(proto).ok_or_else(|| p.err("unknown transport protocol"))?;
                    match self.l4 {
                        Some(have) if have == n => {}
                        Some(_) => {
                            return Err(p.err(format!(
                                "conflicting transport protocols: {proto} after another one"
                            )))
                        }
                        None => {
                            if proto == "icmp" {
                                self.need_l3("ip", p)?;
                            } else if proto == "icmpv6" {
                                self.need_l3("ip6", p)?;
                            }
                            self.push(Meta::load(MetaKey::L4proto, NFT_REG_1));
                            self.push(Cmp::new(NFT_REG_1, CmpOp::Eq, vec![n]));
                            self.l4 = Some(n);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn need_l3(&mut self, proto: &'static str, p: &Path) -> LResult<()> {
        match self.l3 {
            Some(have) if have == proto => Ok(()),
            Some(have) => Err(p.err(format!(
                "conflicting protocols: {proto} in a rule that requires {have}"
            ))),
            None => {
                match self.rule.family {
                    Family::Inet => {
                        self.push(Meta::load(MetaKey::Nfproto, NFT_REG_1));
                        self.push(Cmp::new(
                            NFT_REG_1,
                            CmpOp::Eq,
                            vec![if proto == "ip" { 2 } else { 10 }],
                        ));
                    }
                    Family::Bridge | Family::Netdev => {
                        self.push(Payload::load(PayloadBase::LinkLayer, 12, 2, NFT_REG_1));
                        self.push(Cmp::new(
                            NFT_REG_1,
                            CmpOp::Eq,
                            if proto == "ip" {
                                vec![0x08, 0]
                            } else {
                                vec![0x86, 0xdd]
                            },
                        ));
                    }
                    _ => {
                        return Err(p.err(format!("{proto} header in a {} table", self.rule.family)))
                    }
                }
                self.l3 = Some(proto);
                Ok(())
            }
        }
    }

    /// Loads `l` into registers from `NFT_REG_1` (concatenations into
    /// the following 32-bit registers), dependencies first.
    fn load(&mut self, l: &Left, p: &Path) -> LResult<()> {
        self.deps(l, p)?;
        let mut words = 0u32;
        for (i, part) in l.parts().into_iter().enumerate() {
            let reg = if i == 0 {
                NFT_REG_1
            } else {
                crate::nft::consts::NFT_REG32_00 + words
            };
            self.load_one(part, reg, p)?;
            words += part.len().div_ceil(4);
        }
        Ok(())
    }

    fn load_one(&mut self, l: &Left, reg: u32, p: &Path) -> LResult<()> {
        match l {
            Left::Payload(f) => self.push(Payload::load(f.base, f.offset, f.len, reg)),
            Left::Raw { base, offset, len } => self.push(Payload::load(*base, *offset, *len, reg)),
            Left::Meta(k) => self.push(Meta::load(*k, reg)),
            Left::Ct(k, d) => {
                let mut c = Ct::load(*k, reg);
                c.direction = *d;
                self.push(c)
            }
            Left::And(x, mask) => {
                self.load_one(x, reg, p)?;
                let m = x
                    .dtype()
                    .from_json(mask, x.len() as usize)
                    .map_err(|e| p.err(format!("expected {e}")))?;
                let mut b = Bitwise::mask(reg, m);
                b.sreg = reg;
                b.dreg = reg;
                self.push(b)
            }
            Left::Concat(_) => return Err(p.err("nested concatenation")),
        }
        Ok(())
    }

    fn value(&self, l: &Left, v: &Value, p: &Path) -> LResult<Vec<u8>> {
        if let Left::Concat(parts) = l {
            let c = single(v, p)?;
            let items = match c {
                ("concat", Value::Array(a)) if a.len() == parts.len() => a,
                _ => return Err(p.err("expected {\"concat\": [...]} with one value per field")),
            };
            let mut out = Vec::new();
            for (i, (part, x)) in parts.iter().zip(items).enumerate() {
                let mut b = self.value(part, x, &p.key("concat").idx(i))?;
                b.resize(b.len().div_ceil(4) * 4, 0);
                out.extend(b);
            }
            return Ok(out);
        }
        if let Left::Meta(MetaKey::Iif | MetaKey::Oif) = l {
            if let Value::String(s) = v {
                let idx = crate::netlink::socket::interface_index(s)
                    .ok()
                    .flatten()
                    .ok_or_else(|| p.err(format!("no interface named {s:?} in this namespace")))?;
                return Ok(idx.to_ne_bytes().to_vec());
            }
        }
        l.dtype()
            .from_json(v, l.len() as usize)
            .map_err(|e| p.err(format!("expected {e}")))
    }

    fn match_stmt(&mut self, o: &Map<String, Value>, p: &Path) -> LResult<()> {
        known_keys(o, &["op", "left", "right"], p)?;
        let op = req_str(o, "op", p)?;
        let left = self.left(req(o, "left", p)?, &p.key("left"), 0)?;
        let right = req(o, "right", p)?;
        let rp = p.key("right");
        let cmp_op = match op.as_str() {
            "==" | "in" => CmpOp::Eq,
            "!=" => CmpOp::Neq,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Lte,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Gte,
            _ => return Err(p.key("op").err("expected ==, !=, <, <=, >, >= or in")),
        };
        // Sets: `@name` or `{"set": [...]}`.
        let is_set_ref = matches!(right, Value::String(s) if s.starts_with('@'));
        let is_anon = right.as_object().is_some_and(|o| o.contains_key("set"));
        if is_set_ref || is_anon {
            if !matches!(cmp_op, CmpOp::Eq | CmpOp::Neq) {
                return Err(p.key("op").err("sets are matched with ==, != or in"));
            }
            self.load(&left, p)?;
            let (set, id) = self.set_ref(&left, right, &rp, false)?;
            self.push(Lookup {
                set,
                set_id: id,
                sreg: NFT_REG_1,
                dreg: None,
                flags: (cmp_op == CmpOp::Neq).then_some(crate::nft::expr::lookup::NFT_LOOKUP_F_INV),
            });
            return Ok(());
        }
        if let Some(obj) = right.as_object() {
            if let Some(pr) = obj.get("prefix") {
                return self.prefix_match(&left, pr, cmp_op, &rp.key("prefix"));
            }
            if let Some(r) = obj.get("range") {
                let rpp = rp.key("range");
                let a = r
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| rpp.err("expected [from, to]"))?;
                let from = self.value(&left, &a[0], &rpp.idx(0))?;
                let to = self.value(&left, &a[1], &rpp.idx(1))?;
                self.load(&left, p)?;
                match cmp_op {
                    CmpOp::Eq => {
                        self.push(Cmp::new(NFT_REG_1, CmpOp::Gte, from));
                        self.push(Cmp::new(NFT_REG_1, CmpOp::Lte, to));
                    }
                    CmpOp::Neq => self.push(Range {
                        sreg: NFT_REG_1,
                        op: RangeOp::Neq,
                        from: Data::Value(from),
                        to: Data::Value(to),
                    }),
                    _ => return Err(p.key("op").err("ranges are matched with == or !=")),
                }
                return Ok(());
            }
        }
        let value = self.value(&left, right, &rp)?;
        // Implicit flag test on bitmask types: `ct state established`.
        if op == "in" && left.dtype().is_bitmask() && !matches!(left, Left::And(..)) {
            self.load(&left, p)?;
            let zero = vec![0; value.len()];
            self.push(Bitwise::mask(NFT_REG_1, value));
            self.push(Cmp::new(NFT_REG_1, CmpOp::Neq, zero));
            return Ok(());
        }
        if let (Left::Payload(f), CmpOp::Eq | CmpOp::Neq) = (&left, cmp_op) {
            // Through the builder: it merges adjacent equality matches
            // the way nft does.
            self.deps(&left, p)?;
            let rel = if cmp_op == CmpOp::Eq {
                crate::nft::builder::Rel::Eq
            } else {
                crate::nft::builder::Rel::Neq
            };
            let r = std::mem::replace(&mut self.rule, Rule::new(Family::Unspec, "", ""));
            self.rule = crate::nft::builder::payload_cmp(r, f.base, f.offset, value.clone(), rel);
            self.note(&left, &value, cmp_op);
            return Ok(());
        }
        self.load(&left, p)?;
        self.note(&left, &value, cmp_op);
        self.push(Cmp::new(NFT_REG_1, cmp_op, value));
        Ok(())
    }

    fn note(&mut self, l: &Left, v: &[u8], op: CmpOp) {
        if op != CmpOp::Eq {
            return;
        }
        match (l, v) {
            (Left::Meta(MetaKey::Nfproto), [2]) => self.l3 = Some("ip"),
            (Left::Meta(MetaKey::Nfproto), [10]) => self.l3 = Some("ip6"),
            (Left::Meta(MetaKey::L4proto), [n]) => self.l4 = Some(*n),
            (Left::Payload(f), [n]) if f.name == "protocol" || f.name == "nexthdr" => {
                self.l4 = Some(*n)
            }
            _ => {}
        }
    }

    fn prefix_match(&mut self, l: &Left, pr: &Value, op: CmpOp, p: &Path) -> LResult<()> {
        let o = obj(pr, p)?;
        known_keys(o, &["addr", "len"], p)?;
        let mut addr = self.value(l, req(o, "addr", p)?, &p.key("addr"))?;
        let bits = uint(req(o, "len", p)?, (addr.len() * 8) as u64, &p.key("len"))? as usize;
        if !matches!(op, CmpOp::Eq | CmpOp::Neq) {
            return Err(p.err("prefixes are matched with == or !="));
        }
        let mut mask = vec![0u8; addr.len()];
        for i in 0..bits {
            mask[i / 8] |= 0x80 >> (i % 8);
        }
        for (a, m) in addr.iter_mut().zip(&mask) {
            *a &= m;
        }
        if let Left::Payload(f) = l {
            if bits.is_multiple_of(8) && bits > 0 {
                // nft loads only the prefix's bytes.
                self.deps(l, p)?;
                self.push(Payload::load(
                    f.base,
                    f.offset,
                    (bits / 8) as u32,
                    NFT_REG_1,
                ));
                addr.truncate(bits / 8);
                self.push(Cmp::new(NFT_REG_1, op, addr));
                return Ok(());
            }
        }
        self.load(l, p)?;
        self.push(Bitwise::mask(NFT_REG_1, mask));
        self.push(Cmp::new(NFT_REG_1, op, addr));
        Ok(())
    }

    /// A set reference (`"@name"`) or an anonymous set/map created in the
    /// batch; returns the lookup's set name and id.
    fn set_ref(
        &mut self,
        key: &Left,
        v: &Value,
        p: &Path,
        vmap: bool,
    ) -> LResult<(String, Option<u32>)> {
        if let Value::String(s) = v {
            let name = s
                .strip_prefix('@')
                .ok_or_else(|| p.err("expected \"@setname\" or {\"set\": [...]}"))?;
            if name.is_empty() {
                return Err(p.err("empty set name"));
            }
            return Ok((name.to_string(), None));
        }
        let o = obj(v, p)?;
        let items = o
            .get("set")
            .ok_or_else(|| p.err("expected {\"set\": [...]}"))?;
        let sp = p.key("set");
        let items = items
            .as_array()
            .ok_or_else(|| sp.err("expected an array of elements"))?;
        let parts = key.parts();
        let ids: Vec<u32> = parts.iter().map(|l| l.dtype().id()).collect();
        let mut set = Set::new(
            self.rule.family,
            self.rule.table.clone(),
            "__set%d",
            concat_type(&ids),
            key.len(),
        );
        if parts.len() > 1 {
            set.desc = Some(crate::nft::SetDesc {
                size: None,
                concat: Some(parts.iter().map(|l| l.len()).collect()),
                unknown: Vec::new(),
            });
        }
        let key_order = if parts.len() == 1 {
            parts[0].dtype().nft_byteorder()
        } else {
            0
        };
        if vmap {
            set = set.verdict_map();
            set.name = "__map%d".into();
            set.userdata = Some(super::objects::set_udata(key_order, Some(0), None));
        } else {
            set.userdata = Some(super::objects::set_udata(key_order, None, None));
        }
        let interval = items.iter().any(|x| {
            let k = if vmap { x.get(0) } else { Some(x) };
            k.and_then(Value::as_object)
                .is_some_and(|o| o.contains_key("prefix") || o.contains_key("range"))
        });
        if interval {
            set.flags = Some(set.flags() | SetFlags::INTERVAL);
        }
        let elems = self.elements(&set, key, items, &sp)?;
        let id = self.tx.next_id();
        set.flags = Some(set.flags() | SetFlags::ANONYMOUS | SetFlags::CONSTANT);
        set.id = Some(id);
        let size = crate::engine::transaction::anonymous_set_size(&set, &elems);
        set.desc.get_or_insert_with(Default::default).size = Some(size);
        let list = ElementList::new(set.family, set.table.clone(), set.name.clone(), elems)
            .with_set_id(id);
        let sname = set.name.clone();
        self.ops.push(Op::AddSet(set));
        if !list.elements.is_empty() {
            self.ops.push(Op::AddElements(list));
        }
        Ok((sname, Some(id)))
    }

    fn elements(
        &self,
        set: &Set,
        key: &Left,
        items: &[Value],
        p: &Path,
    ) -> LResult<Vec<SetElement>> {
        build_elements(set, key, items, p, |l, v, pp| self.value(l, v, pp))
    }

    fn log(&mut self, v: &Value, p: &Path) -> LResult<()> {
        let mut log = Log::prefix("");
        log.prefix = None;
        if let Value::Object(o) = v {
            known_keys(
                o,
                &[
                    "prefix",
                    "group",
                    "snaplen",
                    "queue-threshold",
                    "level",
                    "flags",
                ],
                p,
            )?;
            log.prefix = super::opt_str(o, "prefix", p)?;
            if log.prefix.as_ref().is_some_and(|x| x.len() > 127) {
                return Err(p.key("prefix").err("log prefix longer than 127 bytes"));
            }
            log.group = opt_uint(o, "group", u16::MAX as u64, p)?.map(|g| g as u16);
            log.snaplen = opt_uint(o, "snaplen", u32::MAX as u64, p)?.map(|g| g as u32);
            log.qthreshold = opt_uint(o, "queue-threshold", u16::MAX as u64, p)?.map(|g| g as u16);
            if let Some(l) = super::opt_str(o, "level", p)? {
                let n = LOG_LEVELS
                    .iter()
                    .position(|x| *x == l)
                    .or((l == "audit").then_some(8))
                    .ok_or_else(|| p.key("level").err("expected a syslog level name"))?;
                log.level = Some(n as u32);
            }
            if o.contains_key("flags") {
                return Err(p
                    .key("flags")
                    .err("log flags are not supported by the loader"));
            }
        } else if !v.is_null() {
            return Err(p.err("expected null or an object"));
        }
        self.push(log);
        Ok(())
    }

    fn reject(&mut self, v: &Value, p: &Path) -> LResult<()> {
        let fam = self.rule.family;
        let (t, expr) = match v {
            Value::Null => (None, None),
            Value::Object(o) => {
                known_keys(o, &["type", "expr"], p)?;
                (super::opt_str(o, "type", p)?, o.get("expr"))
            }
            _ => return Err(p.err("expected null or an object")),
        };
        let code = |names: &[(u128, &'static str)], default: u8| -> LResult<u8> {
            match expr {
                None => Ok(default),
                Some(Value::String(s)) => crate::nft::render::value::code_of(names, s)
                    .ok_or_else(|| p.key("expr").err(format!("unknown reject code {s:?}"))),
                Some(x) => uint(x, 255, &p.key("expr")).map(|n| n as u8),
            }
        };
        let (kind, icmp_code) = match t.as_deref() {
            Some("tcp reset") => {
                if self.l4 != Some(6) {
                    let deps = vec![
                        Meta::load(MetaKey::L4proto, NFT_REG_1).into(),
                        Cmp::new(NFT_REG_1, CmpOp::Eq, vec![6]).into(),
                    ];
                    self.rule.exprs.splice(0..0, deps);
                    self.l4 = Some(6);
                }
                (RejectType::TcpRst, 0)
            }
            Some("icmpx") => (RejectType::IcmpxUnreach, code(ICMPX_CODES, 1)?),
            Some("icmp") => (RejectType::IcmpUnreach, code(ICMP_CODES, 3)?),
            Some("icmpv6") => (RejectType::IcmpUnreach, code(ICMPV6_CODES, 4)?),
            None => match (fam, self.l3) {
                (Family::Ipv4, _) | (_, Some("ip")) => {
                    (RejectType::IcmpUnreach, code(ICMP_CODES, 3)?)
                }
                (Family::Ipv6, _) | (_, Some("ip6")) => {
                    (RejectType::IcmpUnreach, code(ICMPV6_CODES, 4)?)
                }
                _ => (RejectType::IcmpxUnreach, code(ICMPX_CODES, 1)?),
            },
            Some(other) => return Err(p.key("type").err(format!("unknown reject type {other:?}"))),
        };
        if fam == Family::Inet
            && matches!(t.as_deref(), Some("icmp") | Some("icmpv6"))
            && self.l3.is_none()
        {
            let n = if t.as_deref() == Some("icmp") { 2 } else { 10 };
            let deps = vec![
                Meta::load(MetaKey::Nfproto, NFT_REG_1).into(),
                Cmp::new(NFT_REG_1, CmpOp::Eq, vec![n]).into(),
            ];
            self.rule.exprs.splice(0..0, deps);
        }
        self.push(Reject {
            kind,
            icmp_code: Some(icmp_code),
        });
        Ok(())
    }

    /// Puts a nat address/port (value, or map lookup) into `reg`.
    fn nat_operand(&mut self, v: &Value, dtype: Dtype, reg: u32, p: &Path) -> LResult<()> {
        if let Some(m) = v.as_object().and_then(|o| o.get("map")) {
            let mp = p.key("map");
            let o = obj(m, &mp)?;
            known_keys(o, &["key", "data"], &mp)?;
            let key = self.left(req(o, "key", &mp)?, &mp.key("key"), 0)?;
            self.load(&key, &mp)?;
            let (set, id) = self.set_ref(&key, req(o, "data", &mp)?, &mp.key("data"), false)?;
            self.push(Lookup {
                set,
                set_id: id,
                sreg: NFT_REG_1,
                dreg: Some(reg),
                flags: None,
            });
            return Ok(());
        }
        let b = dtype
            .from_json(v, dtype.natural_len())
            .map_err(|e| p.err(format!("expected {e}")))?;
        self.push(Immediate {
            dreg: reg,
            data: Data::Value(b),
        });
        Ok(())
    }

    fn nat_flags(o: &Map<String, Value>, p: &Path) -> LResult<u32> {
        let Some(f) = o.get("flags") else {
            return Ok(0);
        };
        let list: Vec<&Value> = match f {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        let mut bits = 0;
        for (i, v) in list.iter().enumerate() {
            let s = v.as_str().unwrap_or("");
            bits |= NAT_FLAGS
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(b, _)| *b)
                .ok_or_else(|| {
                    p.key("flags")
                        .idx(i)
                        .err("expected random, fully-random, persistent or netmap")
                })?;
        }
        Ok(bits)
    }

    fn nat(&mut self, k: &str, v: &Value, p: &Path) -> LResult<()> {
        let o = obj(v, p)?;
        known_keys(o, &["family", "addr", "port", "flags"], p)?;
        let fam = match (super::opt_str(o, "family", p)?.as_deref(), self.rule.family) {
            (Some("ip"), _) | (None, Family::Ipv4) => 2u32,
            (Some("ip6"), _) | (None, Family::Ipv6) => 10,
            (None, _) => {
                if self.l3 == Some("ip6") {
                    10
                } else {
                    2
                }
            }
            (Some(_), _) => return Err(p.key("family").err("expected ip or ip6")),
        };
        let dtype = if fam == 2 { Dtype::Ipv4 } else { Dtype::Ipv6 };
        let mut nat = Nat {
            kind: if k == "snat" {
                NatType::Snat
            } else {
                NatType::Dnat
            },
            family: fam,
            reg_addr_min: None,
            reg_addr_max: None,
            reg_proto_min: None,
            reg_proto_max: None,
            flags: None,
        };
        let mut flags = Self::nat_flags(o, p)?;
        if let Some(a) = o.get("addr") {
            self.nat_operand(a, dtype, 1, &p.key("addr"))?;
            nat.reg_addr_min = Some(1);
            nat.reg_addr_max = Some(1);
            flags |= 1;
        }
        if let Some(port) = o.get("port") {
            self.nat_operand(port, Dtype::InetService, 2, &p.key("port"))?;
            nat.reg_proto_min = Some(2);
            nat.reg_proto_max = Some(2);
            flags |= 2;
        }
        nat.flags = Some(flags);
        self.push(nat);
        Ok(())
    }

    fn masq(&mut self, k: &str, v: &Value, p: &Path) -> LResult<()> {
        let empty = Map::new();
        let o = match v {
            Value::Null => &empty,
            v => obj(v, p)?,
        };
        known_keys(o, &["port", "flags"], p)?;
        let mut flags = Self::nat_flags(o, p)?;
        let mut regs = None;
        if let Some(port) = o.get("port") {
            let pp = p.key("port");
            if let Some(r) = port.as_object().and_then(|x| x.get("range")) {
                let a = r
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| pp.err("expected [from, to]"))?;
                self.nat_operand(&a[0], Dtype::InetService, 1, &pp.key("range").idx(0))?;
                self.nat_operand(&a[1], Dtype::InetService, 2, &pp.key("range").idx(1))?;
                regs = Some((1, 2));
            } else {
                self.nat_operand(port, Dtype::InetService, 1, &pp)?;
                regs = Some((1, 1));
            }
            flags |= 2;
        }
        let flags = (flags != 0 || k == "masquerade")
            .then_some(flags)
            .filter(|&f| f != 0);
        if k == "masquerade" {
            self.push(Masq {
                flags,
                reg_proto_min: regs.map(|r| r.0),
                reg_proto_max: regs.map(|r| r.1),
            });
        } else {
            self.push(Redir {
                reg_proto_min: regs.map(|r| r.0),
                reg_proto_max: regs.map(|r| r.1),
                flags,
            });
        }
        Ok(())
    }

    fn mangle(&mut self, o: &Map<String, Value>, p: &Path) -> LResult<()> {
        known_keys(o, &["key", "value"], p)?;
        let key = self.left(req(o, "key", p)?, &p.key("key"), 0)?;
        let v = req(o, "value", p)?;
        let vp = p.key("value");
        let is_expr = v.as_object().is_some_and(|x| {
            x.len() == 1
                && (x.contains_key("meta") || x.contains_key("ct") || x.contains_key("payload"))
        });
        if is_expr {
            let src = self.left(v, &vp, 0)?;
            self.load(&src, &vp)?;
        } else {
            let b = self.value(&key, v, &vp)?;
            self.push(Immediate {
                dreg: NFT_REG_1,
                data: Data::Value(b),
            });
        }
        match key {
            Left::Meta(k) => self.push(Meta {
                key: k,
                dreg: None,
                sreg: Some(NFT_REG_1),
            }),
            Left::Ct(k, d) => self.push(Ct {
                dreg: None,
                sreg: Some(NFT_REG_1),
                key: k,
                direction: d,
            }),
            _ => {
                return Err(p
                    .key("key")
                    .err("only meta and ct keys can be set by the loader"))
            }
        }
        Ok(())
    }

    fn dynset(&mut self, o: &Map<String, Value>, p: &Path) -> LResult<()> {
        known_keys(o, &["op", "elem", "set", "stmt"], p)?;
        let op = match req_str(o, "op", p)?.as_str() {
            "add" => DynsetOp::Add,
            "update" => DynsetOp::Update,
            "delete" => DynsetOp::Delete,
            _ => return Err(p.key("op").err("expected add, update or delete")),
        };
        let set = req_str(o, "set", p)?;
        let set = set
            .strip_prefix('@')
            .filter(|s| !s.is_empty())
            .ok_or_else(|| p.key("set").err("expected \"@setname\""))?
            .to_string();
        let ep = p.key("elem");
        let mut elem = req(o, "elem", p)?;
        let mut timeout = None;
        if let Some(inner) = elem.as_object().and_then(|x| x.get("elem")) {
            let io = obj(inner, &ep.key("elem"))?;
            known_keys(
                io,
                &["val", "timeout", "expires", "comment"],
                &ep.key("elem"),
            )?;
            timeout = opt_uint(io, "timeout", u64::MAX / 1000, &ep.key("elem"))?.map(|t| t * 1000);
            elem = req(io, "val", &ep.key("elem"))?;
        }
        let key = self.left(elem, &ep, 0)?;
        self.load(&key, &ep)?;
        if o.contains_key("stmt") {
            return Err(p
                .key("stmt")
                .err("statements in dynamic set updates are not supported by the loader"));
        }
        self.push(Dynset {
            sreg_key: NFT_REG_1,
            sreg_data: None,
            op,
            set_name: set,
            set_id: None,
            timeout,
            expr: None,
            exprs: None,
            flags: None,
        });
        Ok(())
    }
}

/// The key operand of a named set's type, for parsing its elements.
fn set_key(set: &Set) -> Left {
    let fields = set.key_type_fields();
    let lens = set.concat_field_lens().map(<[u32]>::to_vec);
    let parts: Vec<Left> = fields
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let d = Dtype::from_id(t).unwrap_or(Dtype::IntBe);
            let len =
                lens.as_ref()
                    .and_then(|l| l.get(i).copied())
                    .unwrap_or(if fields.len() == 1 {
                        set.key_len
                    } else {
                        d.natural_len() as u32
                    });
            typed_left(d, len)
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or(Left::Raw {
            base: PayloadBase::Network,
            offset: 0,
            len: set.key_len,
        })
    } else {
        Left::Concat(parts)
    }
}

/// A stand-in operand with type `d` and length `len` (a field of that
/// type, else a raw payload).
fn typed_left(d: Dtype, len: u32) -> Left {
    use crate::nft::render::json::fields::FIELDS;
    if let Some(f) = FIELDS.iter().find(|f| f.dtype == d && f.len == len) {
        return Left::Payload(f);
    }
    match d {
        Dtype::Mark => Left::Meta(MetaKey::Mark),
        Dtype::Ifname => Left::Meta(MetaKey::Iifname),
        Dtype::Uid => Left::Meta(MetaKey::Skuid),
        Dtype::Gid => Left::Meta(MetaKey::Skgid),
        Dtype::CtState => Left::Ct(CtKey::State, None),
        Dtype::CtStatus => Left::Ct(CtKey::Status, None),
        Dtype::PktType => Left::Meta(MetaKey::Pkttype),
        Dtype::NfProto => Left::Meta(MetaKey::Nfproto),
        _ => Left::Raw {
            base: PayloadBase::Network,
            offset: 0,
            len,
        },
    }
}

fn plus_one(v: &[u8]) -> Option<Vec<u8>> {
    let mut out = v.to_vec();
    for b in out.iter_mut().rev() {
        if *b == 0xff {
            *b = 0;
        } else {
            *b += 1;
            return Some(out);
        }
    }
    None
}

fn build_elements(
    set: &Set,
    key: &Left,
    items: &[Value],
    p: &Path,
    value: impl Fn(&Left, &Value, &Path) -> LResult<Vec<u8>>,
) -> LResult<Vec<SetElement>> {
    let is_map = set.is_map();
    let data_dtype = set.data_type.and_then(Dtype::from_id);
    let interval = set.is_interval();
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let ip = p.idx(i);
        let (k, d) = if is_map {
            let a = it
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| ip.err("expected [key, value]"))?;
            (&a[0], Some((&a[1], ip.idx(1))))
        } else {
            (it, None)
        };
        let kp = if is_map { ip.idx(0) } else { ip.clone() };
        // Extras: {"elem": {"val": …, "timeout": …, "comment": …}}.
        let (k, kp, timeout, comment) = match k.as_object().and_then(|o| o.get("elem")) {
            Some(inner) => {
                let ep = kp.key("elem");
                let o = obj(inner, &ep)?;
                known_keys(o, &["val", "timeout", "expires", "comment", "counter"], &ep)?;
                if o.contains_key("counter") {
                    return Err(ep
                        .key("counter")
                        .err("element counters are not supported by the loader"));
                }
                (
                    req(o, "val", &ep)?,
                    ep.key("val"),
                    opt_uint(o, "timeout", u64::MAX / 1000, &ep)?.map(|t| t * 1000),
                    super::opt_str(o, "comment", &ep)?,
                )
            }
            None => (k, kp, None, None),
        };
        let (from, to) = match k.as_object().map(|o| (o.get("prefix"), o.get("range"))) {
            Some((Some(pr), _)) => {
                let pp = kp.key("prefix");
                let o = obj(pr, &pp)?;
                known_keys(o, &["addr", "len"], &pp)?;
                let addr = value(key, req(o, "addr", &pp)?, &pp.key("addr"))?;
                let bits =
                    uint(req(o, "len", &pp)?, (addr.len() * 8) as u64, &pp.key("len"))? as usize;
                let mut lo = addr.clone();
                let mut hi = addr;
                for b in 0..lo.len() * 8 {
                    if b >= bits {
                        lo[b / 8] &= !(0x80 >> (b % 8));
                        hi[b / 8] |= 0x80 >> (b % 8);
                    }
                }
                (lo, Some(hi))
            }
            Some((_, Some(r))) => {
                let rp = kp.key("range");
                let a = r
                    .as_array()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| rp.err("expected [from, to]"))?;
                (
                    value(key, &a[0], &rp.idx(0))?,
                    Some(value(key, &a[1], &rp.idx(1))?),
                )
            }
            _ => (value(key, k, &kp)?, None),
        };
        if to.is_some() && !interval {
            return Err(kp.err("a prefix or range needs a set with the interval flag"));
        }
        let mut e = SetElement::new(from.clone());
        e.timeout = timeout;
        if let Some(c) = comment {
            if c.len() > 254 {
                return Err(kp.err("comment longer than 254 bytes"));
            }
            let mut u = vec![0, (c.len() + 1) as u8];
            u.extend_from_slice(c.as_bytes());
            u.push(0);
            e.userdata = Some(u);
        }
        if let Some((dv, dp)) = d {
            e.data = Some(match data_dtype {
                Some(Dtype::Verdict) => {
                    let (vk, vv) = single(dv, &dp)?;
                    Data::Verdict(
                        verdict_of(vk, vv, &dp.key(vk))?
                            .ok_or_else(|| dp.err("expected a verdict"))?,
                    )
                }
                Some(dt) => Data::Value(
                    dt.from_json(dv, set.data_len.unwrap_or(0) as usize)
                        .map_err(|e| dp.err(format!("expected {e}")))?,
                ),
                None => return Err(dp.err("map data of an unsupported type")),
            });
        }
        if interval {
            if matches!(key, Left::Concat(_)) {
                e.key_end = Some(to.unwrap_or(from));
                out.push(e);
            } else {
                let end = to.unwrap_or_else(|| from.clone());
                out.push(e);
                if let Some(next) = plus_one(&end) {
                    out.push(SetElement::new(next).interval_end());
                }
            }
        } else {
            out.push(e);
        }
    }
    Ok(out)
}

/// The element list of an `element` object (`{"family", "table",
/// "name", "elem"}`). A JSON element carries no type, so its set must be
/// declared earlier in the same document.
pub(crate) fn element_list(
    sets: &super::objects::Sets,
    o: &Map<String, Value>,
    p: &Path,
) -> LResult<ElementList> {
    known_keys(o, &["family", "table", "name", "elem"], p)?;
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let set = name(o, "name", p)?;
    let s = sets.get(&(fam, table.clone(), set.clone())).ok_or_else(|| {
        p.err(format!(
            "set {fam} {table} {set} is not declared earlier in this document, so the type of its elements is unknown"
        ))
    })?;
    elements_for(s, o, p)
}

/// The elements of a set or map given with the set.
pub(crate) fn elements_for(set: &Set, o: &Map<String, Value>, p: &Path) -> LResult<ElementList> {
    let items = o
        .get("elem")
        .and_then(Value::as_array)
        .ok_or_else(|| p.key("elem").err("expected an array of elements"))?;
    let key = set_key(set);
    let value = |l: &Left, v: &Value, pp: &Path| -> LResult<Vec<u8>> {
        if let Left::Concat(parts) = l {
            let items = match single(v, pp)? {
                ("concat", Value::Array(a)) if a.len() == parts.len() => a,
                _ => return Err(pp.err("expected {\"concat\": [...]} with one value per field")),
            };
            let mut out = Vec::new();
            for (i, (part, x)) in parts.iter().zip(items).enumerate() {
                let mut b = part
                    .dtype()
                    .from_json(x, part.len() as usize)
                    .map_err(|e| pp.key("concat").idx(i).err(format!("expected {e}")))?;
                b.resize(b.len().div_ceil(4) * 4, 0);
                out.extend(b);
            }
            return Ok(out);
        }
        l.dtype()
            .from_json(v, l.len() as usize)
            .map_err(|e| pp.err(format!("expected {e}")))
    };
    let elems = build_elements(set, &key, items, &p.key("elem"), value)?;
    Ok(ElementList::new(
        set.family,
        set.table.clone(),
        set.name.clone(),
        elems,
    ))
}
