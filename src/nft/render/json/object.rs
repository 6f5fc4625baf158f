//! Stateful objects: `{"counter": …}`, `{"quota": …}`, `{"limit": …}`,
//! `{"ct helper": …}`, `{"ct expectation": …}`, `{"synproxy": …}`,
//! `{"secmark": …}`.

use serde_json::{json, Map, Value};

use super::delinearize::{byte_unit, LIMIT_UNITS};
use crate::nft::expr::LimitType;
use crate::nft::render::object as text;
use crate::nft::{Object, ObjectData};

/// nft's name of a layer-3 protocol number in objects (the number when
/// it has none).
pub fn l3proto_name(n: u16) -> Value {
    name_or_number(text::l3proto(n), u64::from(n))
}

/// nft's name of a layer-4 protocol number in objects.
pub fn l4proto_name(n: u8) -> Value {
    name_or_number(text::l4proto(n), u64::from(n))
}

fn name_or_number(name: String, n: u64) -> Value {
    if name == n.to_string() {
        json!(n)
    } else {
        json!(name)
    }
}

/// `{"<kind>": {family, name, table, handle, …}}` for one object.
pub fn object_json(o: &Object) -> Value {
    let mut m = Map::new();
    m.insert("family".into(), json!(o.family.name()));
    m.insert("name".into(), json!(o.name));
    m.insert("table".into(), json!(o.table));
    m.insert("handle".into(), json!(o.handle.unwrap_or(0)));
    if let Some(c) = o.comment() {
        m.insert("comment".into(), json!(c));
    }
    match &o.data {
        ObjectData::Counter(c) => {
            m.insert("packets".into(), json!(c.packets.unwrap_or(0)));
            m.insert("bytes".into(), json!(c.bytes.unwrap_or(0)));
        }
        ObjectData::Quota(q) => {
            m.insert("bytes".into(), json!(q.bytes));
            m.insert("used".into(), json!(q.consumed.unwrap_or(0)));
            m.insert("inv".into(), json!(q.flags & 1 != 0));
        }
        ObjectData::Limit(l) => {
            let per = LIMIT_UNITS
                .iter()
                .find(|(s, _)| *s == l.unit)
                .map_or_else(|| json!(l.unit), |(_, n)| json!(n));
            if l.kind == LimitType::Bytes {
                let (r, ru) = byte_unit(l.rate);
                m.insert("rate".into(), json!(r));
                m.insert("per".into(), per);
                m.insert("rate_unit".into(), json!(ru));
                if l.burst != 0 {
                    let (b, bu) = byte_unit(l.burst as u64);
                    m.insert("burst".into(), json!(b));
                    m.insert("burst_unit".into(), json!(bu));
                }
            } else {
                m.insert("rate".into(), json!(l.rate));
                m.insert("per".into(), per);
                if l.burst != 0 {
                    m.insert("burst".into(), json!(l.burst));
                }
            }
            if l.flags & 1 != 0 {
                m.insert("inv".into(), json!(true));
            }
        }
        ObjectData::CtHelper(h) => {
            m.insert("type".into(), json!(h.name));
            m.insert("protocol".into(), l4proto_name(h.l4proto));
            m.insert("l3proto".into(), l3proto_name(h.l3proto));
        }
        ObjectData::CtExpect(e) => {
            m.insert("protocol".into(), l4proto_name(e.l4proto));
            m.insert("dport".into(), json!(e.dport));
            m.insert("timeout".into(), json!(e.timeout.0));
            m.insert("size".into(), json!(e.size));
            m.insert("l3proto".into(), l3proto_name(e.l3proto));
        }
        ObjectData::Synproxy(s) => {
            m.insert("mss".into(), json!(s.mss));
            m.insert("wscale".into(), json!(s.wscale));
        }
        ObjectData::Secmark(s) => {
            m.insert("context".into(), json!(s.ctx));
        }
        ObjectData::CtTimeout(t) => {
            m.insert("protocol".into(), l4proto_name(t.l4proto));
            m.insert("l3proto".into(), l3proto_name(t.l3proto));
            let policy: Map<String, Value> = crate::nft::render::object::timeout_policy(t)
                .into_iter()
                .map(|(state, secs)| (state, json!(secs)))
                .collect();
            m.insert("policy".into(), Value::Object(policy));
        }
        ObjectData::Connlimit(_) | ObjectData::Raw { .. } => {}
    }
    let mut out = Map::new();
    out.insert(o.data.kind_name().into(), Value::Object(m));
    Value::Object(out)
}
