//! Tables, chains, sets/maps, elements, stateful objects and flowtables
//! from their JSON form; rules are in [`super::rule`].

use serde_json::{Map, Value};

use super::rule::{element_list, rule_op};
use super::{
    int, known_keys, obj, opt_str, opt_uint, req, req_str, string, uint, Cmd, LResult, Path,
};
use crate::engine::{Op, Transaction};
use crate::nft::expr::{Counter, Limit, LimitType, Quota};
use crate::nft::object::{
    CtHelper, NFT_OBJECT_COUNTER, NFT_OBJECT_CT_HELPER, NFT_OBJECT_LIMIT, NFT_OBJECT_QUOTA,
};
use crate::nft::render::json::delinearize::LIMIT_UNITS;
use crate::nft::render::json::types::Dtype;
use crate::nft::set::concat_type;
use crate::nft::{
    Chain, ChainPolicy, Family, Flowtable, Hook, Object, ObjectData, Set, SetDesc, SetFlags,
    SetPolicy, Table, TableFlags,
};

pub(crate) fn family(o: &Map<String, Value>, p: &Path) -> LResult<Family> {
    let s = req_str(o, "family", p)?;
    Family::parse(&s).ok_or_else(|| {
        p.key("family").err(format!(
            "unknown family {s:?} (expected ip, ip6, inet, arp, bridge or netdev)"
        ))
    })
}

/// A name nf_tables accepts (at most 255 bytes, no NUL).
pub(crate) fn name(o: &Map<String, Value>, k: &str, p: &Path) -> LResult<String> {
    let s = req_str(o, k, p)?;
    if s.is_empty() || s.len() > 255 || s.contains('\0') {
        return Err(p
            .key(k)
            .err("expected a name of 1 to 255 bytes without NUL"));
    }
    Ok(s)
}

fn comment_udata(o: &Map<String, Value>, p: &Path) -> LResult<Option<Vec<u8>>> {
    match opt_str(o, "comment", p)? {
        None => Ok(None),
        Some(c) if c.len() > 254 => Err(p.key("comment").err("comment longer than 254 bytes")),
        Some(c) => {
            let mut v = vec![0, (c.len() + 1) as u8];
            v.extend_from_slice(c.as_bytes());
            v.push(0);
            Ok(Some(v))
        }
    }
}

/// The ops one command on one object gives.
/// The sets declared so far in the document, for standalone `element`
/// objects (which do not carry their set's type).
pub(crate) type Sets = std::collections::HashMap<(Family, String, String), Set>;

pub(crate) fn object_ops(
    tx: &mut Transaction,
    sets: &mut Sets,
    cmd: Cmd,
    kind: &str,
    body: &Value,
    p: &Path,
) -> LResult<Vec<Op>> {
    if kind == "ruleset" {
        return Err(p.err(
            "ruleset-wide commands are not supported: nftguard never flushes the whole ruleset",
        ));
    }
    let o = obj(body, p)?;
    match kind {
        "table" => table_op(cmd, o, p).map(|x| vec![x]),
        "chain" => chain_op(cmd, o, p).map(|x| vec![x]),
        "rule" => rule_op(tx, cmd, o, p),
        "set" | "map" => set_ops(sets, cmd, kind == "map", o, p),
        "element" => {
            let l = element_list(sets, o, p)?;
            Ok(vec![match cmd {
                Cmd::Delete => Op::DeleteElements(l),
                Cmd::Create => Op::CreateElements(l),
                Cmd::Add | Cmd::Insert | Cmd::Replace => Op::AddElements(l),
                Cmd::Flush => return Err(p.err("flush applies to sets, not elements")),
            }])
        }
        "counter" | "quota" | "limit" | "ct helper" => object_op(cmd, kind, o, p).map(|x| vec![x]),
        "flowtable" => flowtable_op(cmd, o, p).map(|x| vec![x]),
        _ => Err(p.err(format!(
            "unknown object kind {kind:?} (expected table, chain, rule, set, map, element, counter, quota, limit, ct helper or flowtable)"
        ))),
    }
}

fn table_op(cmd: Cmd, o: &Map<String, Value>, p: &Path) -> LResult<Op> {
    known_keys(o, &["family", "name", "handle", "flags", "comment"], p)?;
    let fam = family(o, p)?;
    let n = name(o, "name", p)?;
    match cmd {
        Cmd::Delete => {
            return Ok(Op::DeleteTable {
                family: fam,
                name: n,
            })
        }
        Cmd::Flush => {
            return Ok(Op::FlushTable {
                family: fam,
                name: n,
            })
        }
        _ => {}
    }
    let mut t = Table::new(fam, n);
    if let Some(f) = o.get("flags") {
        let fp = p.key("flags");
        let names: Vec<&Value> = match f {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        let mut flags = TableFlags::empty();
        for (i, v) in names.iter().enumerate() {
            flags |= match v.as_str() {
                Some("dormant") => TableFlags::DORMANT,
                Some("owner") => TableFlags::OWNER,
                Some("persist") => TableFlags::PERSIST,
                _ => return Err(fp.idx(i).err("expected dormant, owner or persist")),
            };
        }
        t.flags = Some(flags);
    }
    t.userdata = comment_udata(o, p)?;
    Ok(match cmd {
        Cmd::Create => Op::CreateTable(t),
        _ => Op::AddTable(t),
    })
}

/// nft's named chain priorities.
fn priority(v: &Value, p: &Path) -> LResult<i32> {
    if let Some(s) = v.as_str() {
        return Ok(match s {
            "raw" => -300,
            "mangle" => -150,
            "dstnat" => -100,
            "filter" => 0,
            "security" => 50,
            "srcnat" => 100,
            _ => return Err(p.err(format!("unknown priority name {s:?}"))),
        });
    }
    int(v, i32::MIN as i64, i32::MAX as i64, p).map(|n| n as i32)
}

fn hook_of(s: &str, p: &Path) -> LResult<Hook> {
    Ok(match s {
        "prerouting" => Hook::Prerouting,
        "input" => Hook::Input,
        "forward" => Hook::Forward,
        "output" => Hook::Output,
        "postrouting" => Hook::Postrouting,
        "ingress" => Hook::Ingress,
        "egress" => Hook::Egress,
        _ => return Err(p.err(format!("unknown hook {s:?}"))),
    })
}

fn devices(v: &Value, p: &Path) -> LResult<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, d)| string(d, &p.idx(i)))
            .collect(),
        _ => Err(p.err("expected a device name or a list of them")),
    }
}

fn chain_op(cmd: Cmd, o: &Map<String, Value>, p: &Path) -> LResult<Op> {
    known_keys(
        o,
        &[
            "family", "table", "name", "handle", "type", "hook", "prio", "policy", "dev",
            "comment", "newname",
        ],
        p,
    )?;
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let n = name(o, "name", p)?;
    match cmd {
        Cmd::Delete => {
            return Ok(Op::DeleteChain {
                family: fam,
                table,
                name: n,
            })
        }
        Cmd::Flush => {
            return Ok(Op::FlushChain {
                family: fam,
                table,
                name: n,
            })
        }
        _ => {}
    }
    let mut c = Chain::regular(fam, table, n);
    if let Some(h) = o.get("hook") {
        let hook = hook_of(&string(h, &p.key("hook"))?, &p.key("hook"))?;
        let prio = priority(req(o, "prio", p)?, &p.key("prio"))?;
        let t = req_str(o, "type", p)?;
        if !["filter", "nat", "route"].contains(&t.as_str()) {
            return Err(p.key("type").err("expected filter, nat or route"));
        }
        c = Chain::base(fam, c.table, c.name, hook, prio).with_type(&t);
        if let Some(pol) = o.get("policy") {
            c.policy = Some(match pol.as_str() {
                Some("accept") => ChainPolicy::Accept,
                Some("drop") => ChainPolicy::Drop,
                _ => return Err(p.key("policy").err("expected accept or drop")),
            });
        } else {
            c.policy = Some(ChainPolicy::Accept);
        }
        if let Some(d) = o.get("dev") {
            let devs = devices(d, &p.key("dev"))?;
            if let Some(h) = c.hook.as_mut() {
                h.set_devices(devs);
            }
        }
    }
    c.userdata = comment_udata(o, p)?;
    Ok(match cmd {
        Cmd::Create => Op::CreateChain(c),
        _ => Op::AddChain(c),
    })
}

/// Key types of a set: `"ipv4_addr"` or `["ipv4_addr", "inet_service"]`.
pub(crate) fn type_list(v: &Value, p: &Path) -> LResult<Vec<(u32, Dtype)>> {
    let names: Vec<(usize, &Value)> = match v {
        Value::Array(a) => a.iter().enumerate().collect(),
        v => vec![(0, v)],
    };
    if names.is_empty() {
        return Err(p.err("expected at least one type"));
    }
    names
        .into_iter()
        .map(|(i, v)| {
            let pp = if matches!(v, Value::Array(_)) {
                p.idx(i)
            } else {
                p.clone()
            };
            let s = string(v, &pp)?;
            Dtype::from_name(&s).ok_or_else(|| pp.err(format!("unknown or unsupported type {s:?}")))
        })
        .collect()
}

fn set_ops(
    sets: &mut Sets,
    cmd: Cmd,
    is_map: bool,
    o: &Map<String, Value>,
    p: &Path,
) -> LResult<Vec<Op>> {
    known_keys(
        o,
        &[
            "family",
            "table",
            "name",
            "handle",
            "type",
            "map",
            "flags",
            "timeout",
            "gc-interval",
            "size",
            "policy",
            "elem",
            "comment",
        ],
        p,
    )?;
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let n = name(o, "name", p)?;
    match cmd {
        Cmd::Delete => {
            return Ok(vec![Op::DeleteSet {
                family: fam,
                table,
                name: n,
            }])
        }
        Cmd::Flush => {
            return Ok(vec![Op::FlushSet {
                family: fam,
                table,
                name: n,
            }])
        }
        _ => {}
    }
    let types = type_list(req(o, "type", p)?, &p.key("type"))?;
    let lens: Vec<u32> = types.iter().map(|(_, d)| d.natural_len() as u32).collect();
    if lens.contains(&0) {
        return Err(p.key("type").err(
            "a key type of variable length needs a typeof, which the loader does not support",
        ));
    }
    let key_len: u32 = if lens.len() == 1 {
        lens[0]
    } else {
        lens.iter().map(|l| l.div_ceil(4) * 4).sum()
    };
    let ids: Vec<u32> = types.iter().map(|(id, _)| *id).collect();
    let mut s = Set::new(fam, table, n, concat_type(&ids), key_len);
    let mut flags = SetFlags::empty();
    if let Some(f) = o.get("flags") {
        let fp = p.key("flags");
        let list: Vec<&Value> = match f {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for (i, v) in list.iter().enumerate() {
            flags |= match v.as_str() {
                Some("constant") => SetFlags::CONSTANT,
                Some("interval") => SetFlags::INTERVAL,
                Some("timeout") => SetFlags::TIMEOUT,
                Some("dynamic") => SetFlags::EVAL,
                _ => {
                    return Err(fp
                        .idx(i)
                        .err("expected constant, interval, timeout or dynamic"))
                }
            };
        }
    }
    if types.len() > 1 && flags.contains(SetFlags::INTERVAL) {
        s.desc = Some(SetDesc {
            size: None,
            concat: Some(lens.clone()),
            unknown: Vec::new(),
        });
        flags |= SetFlags::CONCAT;
    }
    let key_order = if types.len() == 1 {
        types[0].1.nft_byteorder()
    } else {
        0
    };
    let mut data_order = None;
    if is_map {
        let m = req_str(o, "map", p)?;
        let (id, d) = Dtype::from_name(&m).ok_or_else(|| {
            p.key("map")
                .err(format!("unknown or unsupported data type {m:?}"))
        })?;
        data_order = Some(d.nft_byteorder());
        if d == Dtype::Verdict {
            s = s.verdict_map();
        } else {
            s = s.with_data(id, d.natural_len() as u32);
        }
    }
    s.flags = Some(s.flags() | flags);
    if let Some(t) = opt_uint(o, "timeout", u64::MAX / 1000, p)? {
        s.timeout = Some(t * 1000);
    }
    if let Some(g) = opt_uint(o, "gc-interval", u32::MAX as u64 / 1000, p)? {
        s.gc_interval = Some(g as u32 * 1000);
    }
    if let Some(sz) = opt_uint(o, "size", u32::MAX as u64, p)? {
        let d = s.desc.get_or_insert_with(SetDesc::default);
        d.size = Some(sz as u32);
    }
    if let Some(pol) = opt_str(o, "policy", p)? {
        s.policy = Some(match pol.as_str() {
            "performance" => SetPolicy::Performance,
            "memory" => SetPolicy::Memory,
            _ => return Err(p.key("policy").err("expected performance or memory")),
        });
    }
    let comment = opt_str(o, "comment", p)?.map(|c| format!("{c}\0"));
    if comment.as_ref().is_some_and(|c| c.len() > 255) {
        return Err(p.key("comment").err("comment longer than 254 bytes"));
    }
    s.userdata = Some(set_udata(key_order, data_order, comment.as_deref()));
    let mut ops = Vec::new();
    let elems = if o.contains_key("elem") {
        let mut eo = Map::new();
        eo.insert("family".into(), Value::String(fam.name()));
        eo.insert("table".into(), Value::String(s.table.clone()));
        eo.insert("name".into(), Value::String(s.name.clone()));
        eo.insert("elem".into(), o.get("elem").cloned().unwrap_or(Value::Null));
        Some(super::rule::elements_for(&s, &eo, p)?)
    } else {
        None
    };
    sets.insert((fam, s.table.clone(), s.name.clone()), s.clone());
    ops.push(match cmd {
        Cmd::Create => Op::CreateSet(s),
        _ => Op::AddSet(s),
    });
    if let Some(l) = elems {
        if !l.elements.is_empty() {
            ops.push(Op::AddElements(l));
        }
    }
    Ok(ops)
}

fn object_op(cmd: Cmd, kind: &str, o: &Map<String, Value>, p: &Path) -> LResult<Op> {
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let n = name(o, "name", p)?;
    let obj_type = match kind {
        "counter" => NFT_OBJECT_COUNTER,
        "quota" => NFT_OBJECT_QUOTA,
        "limit" => NFT_OBJECT_LIMIT,
        _ => NFT_OBJECT_CT_HELPER,
    };
    if cmd == Cmd::Delete {
        return Ok(Op::DeleteObject {
            family: fam,
            table,
            name: n,
            obj_type,
        });
    }
    if cmd == Cmd::Flush {
        return Err(p.err("objects cannot be flushed"));
    }
    let common = ["family", "table", "name", "handle", "comment"];
    let allow = |extra: &[&'static str]| -> Vec<&'static str> {
        common
            .iter()
            .copied()
            .chain(extra.iter().copied())
            .collect()
    };
    let data = match kind {
        "counter" => {
            known_keys(o, &allow(&["packets", "bytes"]), p)?;
            ObjectData::Counter(Counter {
                bytes: Some(opt_uint(o, "bytes", u64::MAX, p)?.unwrap_or(0)),
                packets: Some(opt_uint(o, "packets", u64::MAX, p)?.unwrap_or(0)),
            })
        }
        "quota" => {
            known_keys(o, &allow(&["bytes", "used", "inv"]), p)?;
            ObjectData::Quota(Quota {
                bytes: uint(req(o, "bytes", p)?, u64::MAX, &p.key("bytes"))?,
                consumed: Some(opt_uint(o, "used", u64::MAX, p)?.unwrap_or(0)),
                flags: u32::from(bool_key(o, "inv", p)?),
            })
        }
        "limit" => {
            known_keys(
                o,
                &allow(&[
                    "rate",
                    "per",
                    "burst",
                    "rate_unit",
                    "burst_unit",
                    "unit",
                    "inv",
                ]),
                p,
            )?;
            ObjectData::Limit(limit_of(o, p)?)
        }
        _ => {
            known_keys(o, &allow(&["type", "protocol", "l3proto"]), p)?;
            let l4 = match req_str(o, "protocol", p)?.as_str() {
                "tcp" => 6,
                "udp" => 17,
                _ => return Err(p.key("protocol").err("expected tcp or udp")),
            };
            let l3 = match opt_str(o, "l3proto", p)?.as_deref() {
                None | Some("inet") => match fam {
                    Family::Ipv4 => 2,
                    Family::Ipv6 => 10,
                    _ => 1,
                },
                Some("ip") => 2,
                Some("ip6") => 10,
                Some(_) => return Err(p.key("l3proto").err("expected ip, ip6 or inet")),
            };
            let name = req_str(o, "type", p)?;
            if name.len() > 15 {
                return Err(p.key("type").err("helper names are at most 15 bytes"));
            }
            ObjectData::CtHelper(CtHelper {
                name,
                l4proto: l4,
                l3proto: l3,
            })
        }
    };
    let mut ob = Object::new(fam, table, n, data);
    ob.userdata = comment_udata(o, p)?;
    Ok(match cmd {
        Cmd::Create => Op::CreateObject(ob),
        _ => Op::AddObject(ob),
    })
}

pub(crate) fn bool_key(o: &Map<String, Value>, k: &str, p: &Path) -> LResult<bool> {
    match o.get(k) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(p.key(k).err("expected true or false")),
    }
}

fn byte_unit(v: Option<&Value>, p: &Path) -> LResult<u64> {
    match v.map(|v| v.as_str()) {
        None | Some(Some("bytes")) => Ok(1),
        Some(Some("kbytes")) => Ok(1 << 10),
        Some(Some("mbytes")) => Ok(1 << 20),
        _ => Err(p.err("expected bytes, kbytes or mbytes")),
    }
}

/// A `limit` statement or object.
pub(crate) fn limit_of(o: &Map<String, Value>, p: &Path) -> LResult<Limit> {
    let rate = uint(req(o, "rate", p)?, u64::MAX, &p.key("rate"))?;
    let per = match o.get("per") {
        None => 1,
        Some(v) => {
            let s = string(v, &p.key("per"))?;
            LIMIT_UNITS
                .iter()
                .find(|(_, n)| *n == s)
                .map(|(n, _)| *n)
                .ok_or_else(|| {
                    p.key("per")
                        .err("expected second, minute, hour, day or week")
                })?
        }
    };
    let bytes = o.contains_key("rate_unit");
    let burst = opt_uint(o, "burst", u32::MAX as u64, p)?.unwrap_or(if bytes { 0 } else { 5 });
    let (rate, burst) = if bytes {
        let ru = byte_unit(o.get("rate_unit"), &p.key("rate_unit"))?;
        let bu = byte_unit(o.get("burst_unit"), &p.key("burst_unit"))?;
        (
            rate.checked_mul(ru)
                .ok_or_else(|| p.key("rate").err("rate too large"))?,
            u32::try_from(burst * bu).map_err(|_| p.key("burst").err("burst too large"))?,
        )
    } else {
        (rate, burst as u32)
    };
    Ok(Limit {
        rate,
        unit: per,
        burst,
        kind: if bytes {
            LimitType::Bytes
        } else {
            LimitType::Packets
        },
        flags: u32::from(bool_key(o, "inv", p)?),
    })
}

fn flowtable_op(cmd: Cmd, o: &Map<String, Value>, p: &Path) -> LResult<Op> {
    known_keys(
        o,
        &["family", "table", "name", "handle", "hook", "prio", "dev"],
        p,
    )?;
    let fam = family(o, p)?;
    let table = name(o, "table", p)?;
    let n = name(o, "name", p)?;
    match cmd {
        Cmd::Delete => {
            return Ok(Op::DeleteFlowtable {
                family: fam,
                table,
                name: n,
            })
        }
        Cmd::Flush => return Err(p.err("flowtables cannot be flushed")),
        _ => {}
    }
    let prio = priority(req(o, "prio", p)?, &p.key("prio"))?;
    let devs = match o.get("dev") {
        Some(d) => devices(d, &p.key("dev"))?,
        None => Vec::new(),
    };
    let refs: Vec<&str> = devs.iter().map(String::as_str).collect();
    let f = Flowtable::new(fam, table, n, prio, &refs);
    Ok(match cmd {
        Cmd::Create => Op::CreateFlowtable(f),
        _ => Op::AddFlowtable(f),
    })
}

/// The user data nft 1.0.6 attaches to a set: key byte order, for maps
/// the data byte order and the data-interval flag, and the comment.
pub(crate) fn set_udata(key_order: u32, data_order: Option<u32>, comment: Option<&str>) -> Vec<u8> {
    use crate::nft::set::SetUdata;
    let k = key_order.to_ne_bytes();
    let d = data_order.unwrap_or(0).to_ne_bytes();
    let zero = 0u32.to_ne_bytes();
    let mut tlvs: Vec<(u8, &[u8])> = vec![(SetUdata::KEY_BYTEORDER, &k)];
    if data_order.is_some() {
        tlvs.push((SetUdata::DATA_BYTEORDER, &d));
    }
    if let Some(c) = comment {
        tlvs.push((SetUdata::COMMENT, c.as_bytes()));
    }
    if data_order.is_some() {
        tlvs.push((SetUdata::DATA_INTERVAL, &zero));
    }
    let mut out = Vec::new();
    for (t, v) in tlvs {
        out.push(t);
        out.push(v.len().min(255) as u8);
        out.extend_from_slice(&v[..v.len().min(255)]);
    }
    out
}
