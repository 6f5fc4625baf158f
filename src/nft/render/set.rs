//! Named sets and maps (`set NAME { … }`, `map NAME { … }`) and the element
//! lists nft prints for them and for anonymous sets in rules (`{ 22, 80 }`).
//!
//! nft 1.0.6 lists elements sorted by value (`list_expr_sort`), interval
//! sets as the ranges their start/end elements describe
//! (`interval_map_decompose`): a single value, a prefix `a/len` for
//! address types, else `a-b`.

use super::datatype::{datatype, DataType};
use super::keys::{ct_name, meta_name};
use super::simple::{limit_text, prefix_len_of_range, quota_text, verdict_text};
use super::value::{format, int_value, time_ms, IfResolver, Order, Ty};
use crate::nft::expr::{CtKey, MetaKey};
use crate::nft::set::{split_concat_type, SetUdata, NFT_DATA_VERDICT};
use crate::nft::set_element::SetElement;
use crate::nft::{Data, Expr, Ruleset, Set, SetFlags};

/// The element lists of named sets wrap after this text (nft's
/// `calculate_delim`).
const WRAP: &str = ",\n\t\t\t     ";

/// The datatypes of a set's key fields (one unless concatenated).
pub(crate) fn key_types(set: &Set) -> Vec<DataType> {
    let ids = match set.key_type {
        Some(t) if set.flags().contains(SetFlags::CONCAT) || t >= 64 => split_concat_type(t),
        Some(t) => vec![t],
        None => vec![4],
    };
    ids.into_iter().map(datatype).collect()
}

/// Byte lengths of the key fields: from the kernel's concat description if
/// it has one, else from the field types (a single field takes the key).
fn field_lens(set: &Set, types: &[DataType]) -> Vec<u32> {
    if let Some(lens) = set.concat_field_lens() {
        if lens.len() == types.len() {
            return lens.to_vec();
        }
    }
    if types.len() == 1 {
        return vec![set.key_len];
    }
    types.iter().map(|t| t.len.max(1)).collect()
}

/// Splits `key` into its fields (each field starts on a 4-byte boundary).
fn split_key<'a>(key: &'a [u8], lens: &[u32]) -> Vec<&'a [u8]> {
    let mut at = 0usize;
    let mut out = Vec::with_capacity(lens.len());
    for (i, len) in lens.iter().enumerate() {
        let len = *len as usize;
        let end = (at + len).min(key.len());
        out.push(key.get(at..end).unwrap_or(&[]));
        at = if i + 1 < lens.len() {
            at + len.div_ceil(4) * 4
        } else {
            end
        };
    }
    out
}

/// The order nft 1.0.6 lists the elements of a concatenation in
/// (`concat_expr_msort_value`): the fields' bytes, unpadded and one after
/// the other, read as one little-endian number, so the last byte weighs
/// most. Returned as bytes that compare in that order.
pub(crate) fn concat_sort_key(fields: &[&[u8]]) -> Vec<u8> {
    let mut key: Vec<u8> = fields.iter().flat_map(|f| f.iter().copied()).collect();
    key.reverse();
    key
}

/// One element as printed, with the value it sorts by.
struct Item {
    sort: Vec<u128>,
    text: String,
}

/// What an element list needs to know about its set.
pub(crate) struct ElementCtx<'a> {
    /// The set.
    pub set: &'a Set,
    /// Key field types.
    pub types: Vec<DataType>,
    /// Type of a single-field key as the rule's left side prints it, when
    /// known (it may be more precise than the set's stored type).
    pub lhs_ty: Option<Ty>,
    /// Interface names.
    pub ifname: IfResolver<'a>,
}

impl ElementCtx<'_> {
    fn field_ty(&self, i: usize) -> Ty {
        match (self.types.len(), self.lhs_ty) {
            (1, Some(t)) => t,
            _ => self.types.get(i).map_or(Ty::Int(Order::Big), |d| d.ty),
        }
    }

    fn prefix_ok(&self, i: usize) -> bool {
        self.types.get(i).is_some_and(|d| d.prefix)
            || matches!(self.field_ty(i), Ty::Ipv4 | Ty::Ipv6)
    }

    fn value(&self, i: usize, bytes: &[u8]) -> String {
        format(self.field_ty(i), bytes, self.ifname)
    }

    /// `a`, `a/len` or `a-b` for the inclusive range `lo..=hi` of field `i`.
    fn range(&self, i: usize, lo: &[u8], hi: &[u8]) -> String {
        if lo == hi {
            return self.value(i, lo);
        }
        // An interface-name wildcard (`"veth*"`) is the range from the
        // prefix padded with zeros to the prefix padded with 0xff.
        if self.field_ty(i) == Ty::Str && lo.len() == hi.len() {
            let p = lo.iter().zip(hi).take_while(|(a, b)| a == b).count();
            if lo[p..].iter().all(|b| *b == 0) && hi[p..].iter().all(|b| *b == 0xff) {
                return format(Ty::Str, &lo[..p], self.ifname);
            }
        }
        if self.prefix_ok(i) {
            if let Some(p) = prefix_len_of_range(lo, hi) {
                return format!("{}/{p}", self.value(i, lo));
            }
        }
        format!("{}-{}", self.value(i, lo), self.value(i, hi))
    }

    fn sort_key(&self, fields: &[&[u8]], big: bool) -> Vec<u128> {
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let order = if big {
                    Order::Big
                } else {
                    self.types.get(i).map_or(Order::Big, |d| d.order)
                };
                int_value(f, order)
            })
            .collect()
    }

    /// The text after an element's key: stateful expressions, timeout,
    /// expiry, comment, then ` : data` for maps.
    fn suffix(&self, e: &SetElement) -> String {
        let mut s = String::new();
        for x in e.expressions() {
            s.push(' ');
            s.push_str(&element_stmt_text(x));
        }
        if let Some(t) = e.timeout {
            s.push_str(&format!(" timeout {}", time_ms(t)));
        }
        if let Some(t) = e.expiration {
            s.push_str(&format!(" expires {}", time_ms(t)));
        }
        if let Some(c) = e.comment() {
            s.push_str(&format!(" comment \"{c}\""));
        }
        if let Some(obj) = &e.objref {
            s.push_str(&format!(" : \"{obj}\""));
        } else if let Some(d) = &e.data {
            s.push_str(" : ");
            s.push_str(&self.data_text(d));
        }
        s
    }

    fn data_text(&self, d: &Data) -> String {
        match d {
            Data::Verdict(v) => verdict_text(v),
            Data::Value(v) => {
                let ty = match self.set.data_type {
                    Some(NFT_DATA_VERDICT) | None => Ty::Hex(Order::Big),
                    // Concatenated data (`addr . port` for NAT maps).
                    Some(t) if t >= 64 => {
                        let types: Vec<DataType> =
                            split_concat_type(t).into_iter().map(datatype).collect();
                        let lens: Vec<u32> = types.iter().map(|d| d.len.max(1)).collect();
                        return split_key(v, &lens)
                            .iter()
                            .zip(&types)
                            .map(|(f, d)| format(d.ty, f, self.ifname))
                            .collect::<Vec<_>>()
                            .join(" . ");
                    }
                    Some(t) => datatype(t).ty,
                };
                format(ty, v, self.ifname)
            }
        }
    }

    /// The elements, sorted and printed one by one.
    fn items(&self, elems: &[SetElement]) -> Vec<String> {
        let lens = field_lens(self.set, &self.types);
        let mut items: Vec<Item> = Vec::new();
        let mut catchall = Vec::new();
        let concat_ranges = self.set.is_interval() && elems.iter().any(|e| e.key_end.is_some());
        if self.set.is_interval() && !concat_ranges {
            self.intervals(elems, &mut items, &mut catchall);
        } else {
            for e in elems {
                if e.is_catchall() {
                    catchall.push(format!("*{}", self.suffix(e)));
                    continue;
                }
                let Some(key) = &e.key else { continue };
                let lo = split_key(key, &lens);
                let hi = e.key_end.as_deref().map(|k| split_key(k, &lens));
                let parts: Vec<String> = lo
                    .iter()
                    .enumerate()
                    .map(|(i, f)| match &hi {
                        Some(h) => self.range(i, f, h.get(i).copied().unwrap_or(f)),
                        None => self.value(i, f),
                    })
                    .collect();
                let sort = if lo.len() > 1 && !concat_ranges {
                    concat_sort_key(&lo).into_iter().map(u128::from).collect()
                } else {
                    self.sort_key(&lo, concat_ranges)
                };
                items.push(Item {
                    sort,
                    text: format!("{}{}", parts.join(" . "), self.suffix(e)),
                });
            }
        }
        items.sort_by(|a, b| a.sort.cmp(&b.sort));
        let mut out: Vec<String> = items.into_iter().map(|i| i.text).collect();
        out.extend(catchall);
        out
    }

    /// Interval elements (rbtree): a start element opens a range, the next
    /// end element (the first key after it) closes it; an open range runs
    /// to the largest value.
    fn intervals(&self, elems: &[SetElement], items: &mut Vec<Item>, catchall: &mut Vec<String>) {
        let mut sorted: Vec<&SetElement> = Vec::new();
        for e in elems {
            if e.is_catchall() {
                catchall.push(format!("*{}", self.suffix(e)));
            } else if e.key.is_some() {
                sorted.push(e);
            }
        }
        // Ends sort before starts at the same key (adjacent ranges).
        sorted.sort_by(|a, b| {
            let ka = int_value(a.key.as_deref().unwrap_or(&[]), Order::Big);
            let kb = int_value(b.key.as_deref().unwrap_or(&[]), Order::Big);
            ka.cmp(&kb)
                .then(b.is_interval_end().cmp(&a.is_interval_end()))
        });
        let mut open: Option<&SetElement> = None;
        let push = |start: &SetElement, hi: Vec<u8>, items: &mut Vec<Item>| {
            let lo = start.key.clone().unwrap_or_default();
            items.push(Item {
                sort: vec![int_value(&lo, Order::Big)],
                text: format!("{}{}", self.range(0, &lo, &hi), self.suffix(start)),
            });
        };
        for e in sorted {
            let key = e.key.clone().unwrap_or_default();
            if e.is_interval_end() {
                if let Some(s) = open.take() {
                    push(s, decrement(&key), items);
                }
            } else {
                if let Some(s) = open.take() {
                    let k = s.key.clone().unwrap_or_default();
                    push(s, k, items);
                }
                open = Some(e);
            }
        }
        if let Some(s) = open {
            let len = s.key.as_ref().map_or(0, Vec::len);
            push(s, vec![0xff; len], items);
        }
    }
}

/// `key - 1` as a big-endian number.
fn decrement(key: &[u8]) -> Vec<u8> {
    let mut k = key.to_vec();
    for b in k.iter_mut().rev() {
        if *b == 0 {
            *b = 0xff;
        } else {
            *b -= 1;
            break;
        }
    }
    k
}

/// All elements of `set`, from every element-list message the dump
/// returned for it (large sets arrive in several).
pub(crate) fn set_elements(rs: &Ruleset, set: &Set) -> Vec<SetElement> {
    rs.elements
        .iter()
        .filter(|l| l.family == set.family && l.table == set.table && l.set == set.name)
        .flat_map(|l| l.elements.iter().cloned())
        .collect()
}

/// A stateful expression attached to an element or a set.
pub(crate) fn element_stmt_text(e: &Expr) -> String {
    match e {
        Expr::Counter(c) => format!(
            "counter packets {} bytes {}",
            c.packets.unwrap_or(0),
            c.bytes.unwrap_or(0)
        ),
        Expr::Limit(l) => limit_text(l),
        Expr::Quota(q) => quota_text(q),
        Expr::Connlimit(c) => format!(
            "ct count {}{}",
            if c.flags.unwrap_or(0) & 1 != 0 {
                "over "
            } else {
                ""
            },
            c.count
        ),
        other => super::simple::opaque_text(other.name(), &[]),
    }
}

/// `{ a, b, … }` for an anonymous set in a rule.
pub(crate) fn anonymous_elements(ctx: &ElementCtx<'_>, elems: &[SetElement]) -> String {
    format!("{{ {} }}", ctx.items(elems).join(", "))
}

/// `{ a, b,\n\t\t\t     c }` for a named set, wrapped as nft wraps it.
fn named_elements(ctx: &ElementCtx<'_>, elems: &[SetElement]) -> String {
    let per_line = match ctx.types.as_slice() {
        [one] => one.per_line,
        _ => 1,
    };
    let mut out = String::from("{ ");
    let mut count = 0;
    for (i, item) in ctx.items(elems).iter().enumerate() {
        if i > 0 {
            if count < per_line {
                out.push_str(", ");
            } else {
                count = 0;
                out.push_str(WRAP);
            }
        }
        out.push_str(item);
        count += 1;
    }
    out.push_str(" }");
    out
}

/// Prints a named set or map block (without the blank line before it).
pub(crate) fn set_text(out: &mut String, rs: &Ruleset, set: &Set, ifname: IfResolver<'_>) {
    let kind = if set.is_map() || set.is_object_map() {
        "map"
    } else {
        "set"
    };
    out.push_str(&format!("\t{kind} {} {{\n", set.name));
    let types = key_types(set);
    let udata = set.userdata.as_deref().map(SetUdata);
    let key_typeof = udata
        .as_ref()
        .and_then(|u| u.get(SetUdata::KEY_TYPEOF))
        .and_then(typeof_text);
    let data_typeof = udata
        .as_ref()
        .and_then(|u| u.get(SetUdata::DATA_TYPEOF))
        .and_then(typeof_text);
    let key_type = types.iter().map(|t| t.name).collect::<Vec<_>>().join(" . ");
    let data_type = if set.is_verdict_map() {
        Some("verdict".to_string())
    } else if set.is_object_map() {
        Some(crate::nft::object::obj_type_name(set.obj_type.unwrap_or(0)).to_string())
    } else if set.is_map() {
        let t = set.data_type.unwrap_or(0);
        let ids = if t >= 64 {
            split_concat_type(t)
        } else {
            vec![t]
        };
        Some(
            ids.into_iter()
                .map(|i| datatype(i).name)
                .collect::<Vec<_>>()
                .join(" . "),
        )
    } else {
        None
    };
    // nft prints `typeof` when it can describe the key (and the data of a
    // value map) by expressions.
    let head = match (&key_typeof, &data_type, &data_typeof) {
        (Some(k), None, _) => format!("typeof {k}"),
        (Some(k), Some(_), Some(d)) if !set.is_verdict_map() && !set.is_object_map() => {
            format!("typeof {k} : {d}")
        }
        (Some(k), Some(d), _) if set.is_verdict_map() || set.is_object_map() => {
            format!("typeof {k} : {d}")
        }
        (_, Some(d), _) => format!("type {key_type} : {d}"),
        (_, None, _) => format!("type {key_type}"),
    };
    out.push_str(&format!("\t\t{head}\n"));
    if let Some(crate::nft::set::SetPolicy::Memory) = set.policy {
        out.push_str("\t\tpolicy memory\n");
    }
    if let Some(size) = set.size().filter(|s| *s != 0) {
        out.push_str(&format!("\t\tsize {size}\n"));
    }
    let f = set.flags();
    let mut names = Vec::new();
    for (bit, name) in [
        (SetFlags::CONSTANT, "constant"),
        (SetFlags::EVAL, "dynamic"),
        (SetFlags::INTERVAL, "interval"),
        (SetFlags::TIMEOUT, "timeout"),
    ] {
        if f.contains(bit) {
            names.push(name);
        }
    }
    // A set with a default timeout does not print its only flag,
    // `timeout`, which that timeout implies.
    let implied = names == ["timeout"] && set.timeout.is_some_and(|t| t != 0);
    if !names.is_empty() && !implied {
        out.push_str(&format!("\t\tflags {}\n", names.join(",")));
    }
    let mut stmts: Vec<String> = Vec::new();
    if let Some(e) = &set.expr {
        stmts.push(set_stmt_text(e));
    }
    for e in set.exprs.iter().flatten() {
        stmts.push(set_stmt_text(e));
    }
    if !stmts.is_empty() {
        out.push_str(&format!("\t\t{}\n", stmts.join(" ")));
    }
    if udata.as_ref().is_some_and(SetUdata::auto_merge) {
        out.push_str("\t\tauto-merge\n");
    }
    if let Some(t) = set.timeout {
        out.push_str(&format!("\t\ttimeout {}\n", time_ms(t)));
    }
    if let Some(g) = set.gc_interval {
        out.push_str(&format!("\t\tgc-interval {}\n", time_ms(u64::from(g))));
    }
    if let Some(c) = set.comment() {
        out.push_str(&format!("\t\tcomment \"{c}\"\n"));
    }
    let elems = set_elements(rs, set);
    if !elems.is_empty() {
        let ctx = ElementCtx {
            set,
            types,
            lhs_ty: None,
            ifname,
        };
        out.push_str(&format!(
            "\t\telements = {}\n",
            named_elements(&ctx, &elems)
        ));
    }
    out.push_str("\t}\n");
}

/// A set's stateful template: counters print without values.
fn set_stmt_text(e: &Expr) -> String {
    match e {
        Expr::Counter(_) => "counter".into(),
        other => element_stmt_text(other),
    }
}

/// nft's `typeof` user data (`NFTNL_UDATA_SET_KEY_TYPEOF`): TLVs naming an
/// expression kind (`EXPR_PAYLOAD` 7, `EXPR_META` 9, `EXPR_CT` 12,
/// `EXPR_CONCAT` 13) and its description. `None` when nftguard cannot name
/// it (nft then prints `type …`).
pub(crate) fn typeof_text(v: &[u8]) -> Option<String> {
    let tlvs = tlvs(v)?;
    let kind = u32_of(find(&tlvs, 0)?)?;
    let data = find(&tlvs, 1)?;
    match kind {
        7 => {
            let d = tlvs_of(data)?;
            let desc = u32_of(find(&d, 0)?)?;
            let field = u32_of(find(&d, 1)?)?;
            payload_name(desc, field)
        }
        9 => {
            let d = tlvs_of(data)?;
            let key = u32_of(find(&d, 0)?)?;
            Some(meta_name(MetaKey::from_number(key)))
        }
        12 => {
            let d = tlvs_of(data)?;
            let key = u32_of(find(&d, 0)?)?;
            let dir = find(&d, 1)
                .and_then(u32_of)
                .and_then(|x| u8::try_from(x).ok());
            Some(ct_name(CtKey::from_number(key), dir.filter(|d| *d < 2)))
        }
        13 => {
            let d = tlvs_of(data)?;
            let mut parts = Vec::new();
            for (_, sub) in d {
                parts.push(typeof_text(sub)?);
            }
            (!parts.is_empty()).then(|| parts.join(" . "))
        }
        _ => None,
    }
}

fn tlvs(v: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < v.len() {
        let kind = *v.get(at)?;
        let len = usize::from(*v.get(at + 1)?);
        out.push((kind, v.get(at + 2..at + 2 + len)?));
        at += 2 + len;
    }
    Some(out)
}

fn tlvs_of(v: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    tlvs(v)
}

fn find<'a>(t: &[(u8, &'a [u8])], kind: u8) -> Option<&'a [u8]> {
    t.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
}

fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// `PROTO` `FIELD` from nft's protocol description id and field index
/// (`enum proto_desc_id` and the per-header field enums).
fn payload_name(desc: u32, field: u32) -> Option<String> {
    let (proto, fields): (&str, &[&str]) = match desc {
        4 => (
            "icmp",
            &[
                "type", "code", "checksum", "id", "sequence", "gateway", "mtu",
            ],
        ),
        6 => ("udp", &["sport", "dport", "length", "checksum"]),
        8 => (
            "tcp",
            &[
                "sport", "dport", "sequence", "ackseq", "doff", "reserved", "flags", "window",
                "checksum", "urgptr",
            ],
        ),
        11 => ("th", &["sport", "dport"]),
        12 => (
            "ip",
            &[
                "version",
                "hdrlength",
                "dscp",
                "ecn",
                "length",
                "id",
                "frag-off",
                "ttl",
                "protocol",
                "checksum",
                "saddr",
                "daddr",
            ],
        ),
        13 => (
            "ip6",
            &[
                "version",
                "dscp",
                "ecn",
                "flowlabel",
                "length",
                "nexthdr",
                "hoplimit",
                "saddr",
                "daddr",
            ],
        ),
        17 => ("ether", &["daddr", "saddr", "type"]),
        _ => return None,
    };
    let name = fields.get(usize::try_from(field).ok()?.checked_sub(1)?)?;
    Some(format!("{proto} {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typeof_payload_meta_ct_concat() {
        // `typeof ip saddr . tcp dport` as nft 1.0.6 stores it.
        let concat = [
            0, 4, 13, 0, 0, 0, 1, 44, 0, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 12, 0, 0, 0, 1, 4, 11,
            0, 0, 0, 1, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, 8, 0, 0, 0, 1, 4, 2, 0, 0, 0,
        ];
        assert_eq!(
            typeof_text(&concat).as_deref(),
            Some("ip saddr . tcp dport")
        );
        let meta = [0, 4, 9, 0, 0, 0, 1, 6, 0, 4, 3, 0, 0, 0];
        assert_eq!(typeof_text(&meta).as_deref(), Some("meta mark"));
        assert_eq!(typeof_text(&[0, 9]), None);
    }

    #[test]
    fn decrement_borrows() {
        assert_eq!(decrement(&[1, 0]), vec![0, 0xff]);
    }
}
