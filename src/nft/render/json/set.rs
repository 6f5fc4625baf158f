//! Sets and maps (`{"set": …}`, `{"map": …}`) and their elements, named
//! or anonymous: intervals folded back into values, prefixes and ranges,
//! concatenations, map data, element timeouts, counters and comments.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::stmt::{verdict_json, Operand};
use super::types::Dtype;
use crate::nft::set::{split_concat_type, SetUdata};
use crate::nft::{Data, Expr, Ruleset, Set, SetElement, SetFlags};

/// The key field types of a set (several for a concatenation).
pub fn key_types(set: &Set, hint: Option<&Operand>) -> Vec<Dtype> {
    let host = set.udata().get_u32(SetUdata::KEY_BYTEORDER) == Some(1);
    let fields = set.key_type.map(split_concat_type).unwrap_or_default();
    let mut out: Vec<Dtype> = fields
        .iter()
        .map(|&t| match Dtype::from_id(t) {
            Some(Dtype::IntBe) if host => Dtype::IntHost,
            Some(d) => d,
            None => Dtype::IntBe,
        })
        .collect();
    // An anonymous set of plain integers takes its meaning from the
    // expression it is compared with (nft's `typeof`).
    if let Some(op) = hint {
        let parts: Vec<&Operand> = match op {
            Operand::Concat(v) => v.iter().collect(),
            o => vec![o],
        };
        if parts.len() == out.len() {
            for (d, p) in out.iter_mut().zip(parts) {
                if matches!(d, Dtype::IntBe | Dtype::IntHost) {
                    *d = p.dtype();
                }
            }
        } else if out.is_empty() {
            out = parts.iter().map(|p| p.dtype()).collect();
        }
    }
    if out.is_empty() {
        out.push(Dtype::IntBe);
    }
    out
}

/// The data type of a map.
pub fn data_type(set: &Set) -> Option<Dtype> {
    let t = set.data_type?;
    let host = set.udata().get_u32(SetUdata::DATA_BYTEORDER) == Some(1);
    Some(match Dtype::from_id(t) {
        Some(Dtype::IntBe) if host => Dtype::IntHost,
        Some(d) => d,
        None => Dtype::IntBe,
    })
}

fn field_lens(set: &Set, types: &[Dtype]) -> Vec<usize> {
    if let Some(l) = set.concat_field_lens() {
        return l.iter().map(|&x| x as usize).collect();
    }
    if types.len() == 1 {
        return vec![set.key_len as usize];
    }
    types.iter().map(|t| t.natural_len().max(1)).collect()
}

/// Splits a concatenated key into its fields (each padded to 4 bytes).
fn split_key<'k>(key: &'k [u8], lens: &[usize]) -> Vec<&'k [u8]> {
    if lens.len() <= 1 {
        return vec![key];
    }
    let mut out = Vec::new();
    let mut at = 0;
    for &l in lens {
        let end = (at + l).min(key.len());
        out.push(&key[at.min(end)..end]);
        at += l.div_ceil(4) * 4;
    }
    out
}

/// Big-endian comparable form of a key (host-order fields reversed).
fn sort_key(key: &[u8], types: &[Dtype], lens: &[usize]) -> Vec<u8> {
    split_key(key, lens)
        .iter()
        .zip(types.iter().chain(std::iter::repeat(&Dtype::IntBe)))
        .flat_map(|(k, t)| {
            let mut v = k.to_vec();
            if t.host_order() {
                v.reverse();
            }
            v
        })
        .collect()
}

fn value_json(key: &[u8], types: &[Dtype], lens: &[usize]) -> Value {
    let parts = split_key(key, lens);
    if parts.len() == 1 {
        return types[0].to_json(parts[0]);
    }
    json!({"concat": parts.iter().zip(types).map(|(p, t)| t.to_json(p)).collect::<Vec<_>>()})
}

/// `from`..=`to` as nft prints it: a value, a prefix or a range.
fn interval_json(from: &[u8], to: &[u8], t: Dtype) -> Value {
    if from == to {
        return t.to_json(from);
    }
    if matches!(t, Dtype::Ipv4 | Dtype::Ipv6) {
        if let Some(len) = prefix_len(from, to) {
            return json!({"prefix": {"addr": t.to_json(from), "len": len}});
        }
    }
    json!({"range": [t.to_json(from), t.to_json(to)]})
}

/// The prefix length if `from`..=`to` is exactly one prefix.
fn prefix_len(from: &[u8], to: &[u8]) -> Option<u32> {
    let bits = from.len() * 8;
    let bit = |v: &[u8], i: usize| v[i / 8] >> (7 - i % 8) & 1;
    let mut len = bits;
    while len > 0 && bit(from, len - 1) == 0 && bit(to, len - 1) == 1 {
        len -= 1;
    }
    (from[..len / 8] == to[..len / 8]
        && (len.is_multiple_of(8) || (from[len / 8] ^ to[len / 8]) >> (8 - len % 8) == 0)
        && (len..bits).all(|i| bit(from, i) == 0 && bit(to, i) == 1))
    .then_some(len as u32)
}

/// `key - 1` (big endian), for exclusive interval ends.
fn minus_one(key: &[u8]) -> Vec<u8> {
    let mut v = key.to_vec();
    for b in v.iter_mut().rev() {
        if *b == 0 {
            *b = 0xff;
        } else {
            *b -= 1;
            break;
        }
    }
    v
}

fn data_json(d: &Data, t: Option<Dtype>) -> Value {
    match d {
        Data::Verdict(v) => verdict_json(v),
        Data::Value(v) => t.unwrap_or(Dtype::IntBe).to_json(v),
    }
}

/// Adds the element's extras (`timeout`, `expires`, counter, comment);
/// a bare value stays bare.
fn with_extras(val: Value, e: &SetElement, set: &Set) -> Value {
    let mut m = Map::new();
    if let Some(t) = e.timeout {
        if Some(t) != set.timeout {
            m.insert("timeout".into(), json!(t / 1000));
        }
    }
    if let Some(x) = e.expiration {
        m.insert("expires".into(), json!(x / 1000));
    }
    for ex in e.expressions() {
        if let Expr::Counter(c) = ex {
            m.insert(
                "counter".into(),
                json!({"packets": c.packets.unwrap_or(0), "bytes": c.bytes.unwrap_or(0)}),
            );
        }
    }
    if let Some(c) = e.comment() {
        m.insert("comment".into(), json!(c));
    }
    if m.is_empty() {
        return val;
    }
    let mut inner = Map::new();
    inner.insert("val".into(), val);
    inner.extend(m);
    json!({ "elem": inner })
}

/// The elements of `set` as nft prints them, sorted.
pub fn render_elements(
    _rs: &Ruleset,
    set: &Set,
    elems: &[SetElement],
    hint: Option<&Operand>,
) -> Vec<Value> {
    let types = key_types(set, hint);
    let lens = field_lens(set, &types);
    let dtype = data_type(set);
    let is_map = set.is_map() || set.is_object_map();
    let mut items: Vec<(Vec<u8>, Value)> = Vec::new();
    let mut push = |sort: Vec<u8>, key: Value, e: &SetElement| {
        let key = with_extras(key, e, set);
        let v = if is_map {
            let data = match (&e.data, &e.objref) {
                (Some(d), _) => data_json(d, dtype),
                (None, Some(o)) => json!(o),
                _ => Value::Null,
            };
            json!([key, data])
        } else {
            key
        };
        items.push((sort, v));
    };
    if set.is_interval() && set.concat_field_lens().is_none() && types.len() == 1 {
        let mut sorted: Vec<&SetElement> = elems.iter().filter(|e| e.key.is_some()).collect();
        sorted.sort_by(|a, b| {
            let ka = sort_key(a.key.as_deref().unwrap_or(&[]), &types, &lens);
            let kb = sort_key(b.key.as_deref().unwrap_or(&[]), &types, &lens);
            ka.cmp(&kb).then_with(|| {
                // At the same key an end closes before a start opens.
                match (a.is_interval_end(), b.is_interval_end()) {
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    _ => Ordering::Equal,
                }
            })
        });
        let mut i = 0;
        while i < sorted.len() {
            let e = sorted[i];
            i += 1;
            if e.is_interval_end() {
                continue;
            }
            let from = e.key.clone().unwrap_or_default();
            let to = match sorted.get(i) {
                Some(n) if n.is_interval_end() => {
                    i += 1;
                    minus_one(n.key.as_deref().unwrap_or(&[]))
                }
                _ => vec![0xff; from.len()],
            };
            let v = interval_json(&from, &to, types[0]);
            push(sort_key(&from, &types, &lens), v, e);
        }
    } else {
        for e in elems {
            if e.is_interval_end() {
                continue;
            }
            if e.is_catchall() {
                push(vec![0xff; 64], json!("*"), e);
                continue;
            }
            let Some(key) = e.key.as_deref() else {
                continue;
            };
            let v = match &e.key_end {
                Some(end) if end.as_slice() != key => {
                    let ks = split_key(key, &lens);
                    let es = split_key(end, &lens);
                    let parts: Vec<Value> = ks
                        .iter()
                        .zip(es.iter())
                        .zip(types.iter())
                        .map(|((k, e), t)| interval_json(k, e, *t))
                        .collect();
                    if parts.len() == 1 {
                        parts.into_iter().next().unwrap_or(Value::Null)
                    } else {
                        json!({ "concat": parts })
                    }
                }
                _ => value_json(key, &types, &lens),
            };
            let sort = if lens.len() > 1 && e.key_end.is_none() {
                crate::nft::render::set::concat_sort_key(&split_key(key, &lens))
            } else {
                sort_key(key, &types, &lens)
            };
            push(sort, v, e);
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.into_iter().map(|(_, v)| v).collect()
}

/// `{"set": …}` or `{"map": …}` for a named set.
pub fn set_json(rs: &Ruleset, set: &Set) -> Value {
    let mut m = Map::new();
    m.insert("family".into(), json!(set.family.name()));
    m.insert("name".into(), json!(set.name));
    m.insert("table".into(), json!(set.table));
    let types = key_types(set, None);
    let type_names: Vec<Value> = set
        .key_type
        .map(split_concat_type)
        .unwrap_or_default()
        .iter()
        .zip(types.iter())
        .map(|(&id, t)| json!(Dtype::name_of(id).unwrap_or(t.type_name())))
        .collect();
    m.insert(
        "type".into(),
        if type_names.len() == 1 {
            type_names[0].clone()
        } else {
            Value::Array(type_names)
        },
    );
    m.insert("handle".into(), json!(set.handle.unwrap_or(0)));
    if let Some(c) = set.comment() {
        m.insert("comment".into(), json!(c));
    }
    if set.is_object_map() {
        m.insert(
            "map".into(),
            json!(crate::nft::object::obj_type_name(set.obj_type.unwrap_or(0))),
        );
    } else if set.is_map() {
        let name = set
            .data_type
            .and_then(Dtype::name_of)
            .map_or_else(|| json!("integer"), |n| json!(n));
        m.insert("map".into(), name);
    }
    if set.policy == Some(crate::nft::SetPolicy::Memory) {
        m.insert("policy".into(), json!("memory"));
    }
    if let Some(s) = set.size().filter(|&s| s != 0) {
        m.insert("size".into(), json!(s));
    }
    let f = set.flags();
    let mut flags = Vec::new();
    if f.contains(SetFlags::CONSTANT) {
        flags.push("constant");
    }
    if f.contains(SetFlags::INTERVAL) {
        flags.push("interval");
    }
    if f.contains(SetFlags::TIMEOUT) {
        flags.push("timeout");
    }
    if !flags.is_empty() {
        m.insert("flags".into(), json!(flags));
    }
    if let Some(t) = set.timeout.filter(|&t| t != 0) {
        m.insert("timeout".into(), json!(t / 1000));
    }
    if let Some(g) = set.gc_interval.filter(|&g| g != 0) {
        m.insert("gc-interval".into(), json!(g / 1000));
    }
    let stmts = super::delinearize::stateful_list(set.expr.as_deref(), set.exprs.as_deref(), true);
    if !stmts.is_empty() {
        m.insert("stmt".into(), Value::Array(stmts));
    }
    let elems = rs.elements_of(set.family, &set.table, &set.name);
    let rendered = render_elements(rs, set, elems, None);
    if !rendered.is_empty() {
        m.insert("elem".into(), Value::Array(rendered));
    }
    let kind = if set.is_map() || set.is_object_map() {
        "map"
    } else {
        "set"
    };
    let mut o = Map::new();
    o.insert(kind.into(), Value::Object(m));
    Value::Object(o)
}
