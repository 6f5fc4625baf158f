//! The small statement tree rules are rendered from: what a rule's
//! expressions mean (a match with a left operand, an operator and a right
//! value; a counter; a verdict; …), independent of the JSON spelling.

use serde_json::{json, Map, Value};

use super::fields::{ct_type, meta_type, Field};
use super::types::Dtype;
use crate::nft::expr::{CtKey, MetaKey, PayloadBase};
use crate::nft::Verdict;

/// What a register holds or a match looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A named header field.
    Payload(&'static Field),
    /// A header range without a name (`offset`/`len` in bytes).
    RawPayload {
        /// Header.
        base: PayloadBase,
        /// Offset in bytes.
        offset: u32,
        /// Length in bytes.
        len: u32,
    },
    /// `meta KEY`.
    Meta(MetaKey),
    /// `ct KEY` (with a direction for per-direction keys).
    Ct(CtKey, Option<u8>),
    /// Several operands concatenated (`a . b`).
    Concat(Vec<Operand>),
    /// `operand & mask`.
    And(Box<Operand>, Vec<u8>),
}

impl Operand {
    /// The datatype values compared with this operand have.
    pub fn dtype(&self) -> Dtype {
        match self {
            Operand::Payload(f) => f.dtype,
            Operand::RawPayload { .. } => Dtype::IntBe,
            Operand::Meta(k) => meta_type(*k).0,
            Operand::Ct(k, _) => ct_type(*k).0,
            Operand::Concat(_) => Dtype::IntBe,
            Operand::And(o, _) => o.dtype(),
        }
    }

    /// Length in bytes of the value this operand loads.
    pub fn len(&self) -> u32 {
        match self {
            Operand::Payload(f) => f.len,
            Operand::RawPayload { len, .. } => *len,
            Operand::Meta(k) => meta_type(*k).1,
            Operand::Ct(k, _) => ct_type(*k).1,
            Operand::Concat(v) => v.iter().map(|o| o.len().div_ceil(4) * 4).sum(),
            Operand::And(o, _) => o.len(),
        }
    }

    /// Whether the operand has length zero (never, but clippy asks).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` on this operand and every operand inside it.
    pub fn visit(&self, f: &mut dyn FnMut(&Operand)) {
        f(self);
        match self {
            Operand::Concat(v) => v.iter().for_each(|o| o.visit(f)),
            Operand::And(o, _) => o.visit(f),
            _ => {}
        }
    }

    /// The JSON form (`{"payload": …}`, `{"meta": …}`, …).
    pub fn to_json(&self) -> Value {
        match self {
            Operand::Payload(fl) => {
                json!({"payload": {"protocol": fl.proto, "field": fl.name}})
            }
            Operand::RawPayload { base, offset, len } => json!({"payload": {
                "base": base.nft_name().unwrap_or("ll"),
                "offset": offset * 8,
                "len": len * 8,
            }}),
            Operand::Meta(k) => json!({"meta": {"key": meta_key_name(*k)}}),
            Operand::Ct(k, dir) => {
                let mut m = Map::new();
                m.insert("key".into(), json!(ct_key_name(*k)));
                if let Some(d) = dir {
                    m.insert(
                        "dir".into(),
                        json!(if *d == 0 { "original" } else { "reply" }),
                    );
                }
                json!({ "ct": m })
            }
            Operand::Concat(v) => {
                json!({"concat": v.iter().map(Operand::to_json).collect::<Vec<_>>()})
            }
            Operand::And(o, mask) => json!({"&": [o.to_json(), o.dtype().to_json(mask)]}),
        }
    }
}

/// nft's JSON name of a `meta` key.
pub fn meta_key_name(k: MetaKey) -> String {
    match k {
        MetaKey::Prandom => "random".into(),
        MetaKey::Secpath => "ipsec".into(),
        k => k
            .nft_name()
            .map_or_else(|| format!("{}", k.number()), str::to_string),
    }
}

/// nft's JSON name of a `ct` key.
pub fn ct_key_name(k: CtKey) -> String {
    k.nft_name()
        .map_or_else(|| format!("{}", k.number()), str::to_string)
}

/// A right-hand side: a value, or something that stands for values.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A value of the left operand's type.
    Value(Vec<u8>),
    /// `addr/len`.
    Prefix(Vec<u8>, u32),
    /// `from-to` (both inclusive).
    Range(Vec<u8>, Vec<u8>),
    /// `@set`.
    SetRef(String),
    /// An anonymous set or map, elements already rendered.
    Anon(Vec<Value>),
    /// Another operand (`ct mark set meta mark`).
    Operand(Operand),
}

impl Rhs {
    /// The JSON form, values typed by `dtype`.
    pub fn to_json(&self, dtype: Dtype) -> Value {
        match self {
            Rhs::Value(v) => dtype.to_json(v),
            Rhs::Prefix(a, len) => json!({"prefix": {"addr": dtype.to_json(a), "len": len}}),
            Rhs::Range(a, b) => json!({"range": [dtype.to_json(a), dtype.to_json(b)]}),
            Rhs::SetRef(n) => json!(format!("@{n}")),
            Rhs::Anon(elems) => json!({ "set": elems }),
            Rhs::Operand(o) => o.to_json(),
        }
    }
}

/// One statement of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `left op right`.
    Match {
        /// `==`, `!=`, `<`, `in`, …
        op: &'static str,
        /// What is looked at.
        left: Operand,
        /// What it is compared with.
        right: Rhs,
    },
    /// A verdict.
    Verdict(Verdict),
    /// `vmap`: a verdict looked up by key.
    Vmap {
        /// Key.
        key: Operand,
        /// The map.
        data: Rhs,
    },
    /// `key set value`.
    Mangle {
        /// What is written.
        key: Operand,
        /// The value.
        value: Rhs,
    },
    /// `snat`/`dnat`/`masquerade`/`redirect`.
    Nat {
        /// Statement name.
        kind: &'static str,
        /// Address family, when printed.
        family: Option<&'static str>,
        /// Address (value or map lookup JSON).
        addr: Option<Value>,
        /// Port (value or map lookup JSON).
        port: Option<Value>,
        /// Flags by name.
        flags: Vec<&'static str>,
    },
    /// A statement already in its JSON form.
    Json(Value),
}

impl Stmt {
    /// The JSON form of the statement.
    pub fn to_json(&self) -> Value {
        match self {
            Stmt::Match { op, left, right } => json!({"match": {
                "op": op,
                "left": left.to_json(),
                "right": right.to_json(left.dtype()),
            }}),
            Stmt::Verdict(v) => verdict_json(v),
            Stmt::Vmap { key, data } => json!({"vmap": {
                "key": key.to_json(),
                "data": data.to_json(Dtype::Verdict),
            }}),
            Stmt::Mangle { key, value } => json!({"mangle": {
                "key": key.to_json(),
                "value": value.to_json(key.dtype()),
            }}),
            Stmt::Nat {
                kind,
                family,
                addr,
                port,
                flags,
            } => {
                let mut m = Map::new();
                if let Some(f) = family {
                    m.insert("family".into(), json!(f));
                }
                if let Some(a) = addr {
                    m.insert("addr".into(), a.clone());
                }
                if let Some(p) = port {
                    m.insert("port".into(), p.clone());
                }
                if !flags.is_empty() {
                    m.insert(
                        "flags".into(),
                        if flags.len() == 1 {
                            json!(flags[0])
                        } else {
                            json!(flags)
                        },
                    );
                }
                let inner = if m.is_empty() {
                    Value::Null
                } else {
                    Value::Object(m)
                };
                let mut o = Map::new();
                o.insert((*kind).into(), inner);
                Value::Object(o)
            }
            Stmt::Json(v) => v.clone(),
        }
    }
}

/// The JSON form of a verdict (`{"accept": null}`, `{"jump": {"target": …}}`).
pub fn verdict_json(v: &Verdict) -> Value {
    use crate::nft::data::ChainRef;
    let target = |c: &ChainRef| match c {
        ChainRef::Name(n) => json!({ "target": n }),
        ChainRef::Id(id) => json!({ "target": format!("id {id}") }),
    };
    match v {
        Verdict::Accept => json!({"accept": null}),
        Verdict::Drop => json!({"drop": null}),
        Verdict::Continue => json!({"continue": null}),
        Verdict::Return => json!({"return": null}),
        Verdict::Break => json!({"break": null}),
        Verdict::Jump(c) => json!({ "jump": target(c) }),
        Verdict::Goto(c) => json!({ "goto": target(c) }),
        Verdict::Queue(n) => json!({"queue": {"num": n}}),
        Verdict::Other(c) => json!({ "verdict": c }),
    }
}
