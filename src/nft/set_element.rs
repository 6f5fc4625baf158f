//! Set elements and element-list messages (`NFT_MSG_NEWSETELEM`,
//! `NFT_MSG_DELSETELEM`).
//!
//! An element-list message names one set and carries its elements inside
//! one `NFTA_SET_ELEM_LIST_ELEMENTS` nest. That nest, like every netlink
//! attribute, holds at most 65,535 bytes, so a long list is spread over
//! several messages: [`ElementList::emit_chunk`] writes as many elements as
//! fit and says where the next message must resume. The transaction puts
//! all of those messages into the same batch, so the change stays atomic.
//!
//! The kernel dumps an element's attributes (`nf_tables_fill_setelem`) as:
//! key, key end, data, expression(s), object reference, flags, timeout,
//! expiration, user data, the same on 5.10, 6.1, 6.12 and 6.18.
//! [`SetElement::parse`] still records the order when a dump departs from
//! it (an attribute nftguard does not know in the middle, a future kernel)
//! and [`SetElement::emit`] replays it (see [`super::attr_order`]); the
//! default order costs neither memory nor allocation per element.

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, OrderRecorder, UNKNOWN};
use super::consts::{NFTA_DATA_VALUE, NFTA_LIST_ELEM};
use super::expr::{self, AttrValue, Expr};
use super::{Data, Family, RawAttr, Verdict};
use crate::error::{Error, Result};
use crate::netlink::attr::NLA_MAX_LEN;
use crate::netlink::{Attr, AttrIter, AttrWriter};

/// `NFTA_SET_ELEM_LIST_TABLE`.
pub const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
/// `NFTA_SET_ELEM_LIST_SET`.
pub const NFTA_SET_ELEM_LIST_SET: u16 = 2;
/// `NFTA_SET_ELEM_LIST_ELEMENTS`.
pub const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
/// `NFTA_SET_ELEM_LIST_SET_ID`.
pub const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;

/// `NFTA_SET_ELEM_KEY`.
pub const NFTA_SET_ELEM_KEY: u16 = 1;
/// `NFTA_SET_ELEM_DATA`.
pub const NFTA_SET_ELEM_DATA: u16 = 2;
/// `NFTA_SET_ELEM_FLAGS`.
pub const NFTA_SET_ELEM_FLAGS: u16 = 3;
/// `NFTA_SET_ELEM_TIMEOUT`.
pub const NFTA_SET_ELEM_TIMEOUT: u16 = 4;
/// `NFTA_SET_ELEM_EXPIRATION`.
pub const NFTA_SET_ELEM_EXPIRATION: u16 = 5;
/// `NFTA_SET_ELEM_USERDATA`.
pub const NFTA_SET_ELEM_USERDATA: u16 = 6;
/// `NFTA_SET_ELEM_EXPR`.
pub const NFTA_SET_ELEM_EXPR: u16 = 7;
/// `NFTA_SET_ELEM_OBJREF`.
pub const NFTA_SET_ELEM_OBJREF: u16 = 9;
/// `NFTA_SET_ELEM_KEY_END`.
pub const NFTA_SET_ELEM_KEY_END: u16 = 10;
/// `NFTA_SET_ELEM_EXPRESSIONS`.
pub const NFTA_SET_ELEM_EXPRESSIONS: u16 = 11;

bitflags! {
    /// Element flags (`enum nft_set_elem_flags`). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub struct ElementFlags: u32 {
        /// Closes an interval (the element is the first key *after* it).
        const INTERVAL_END = 0x1;
        /// The catch-all element (`*`), which has no key.
        const CATCHALL = 0x2;
        const _ = !0;
    }
}

/// One set element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetElement {
    /// Key bytes as they sit in a register (absent for the catch-all).
    pub key: Option<Vec<u8>>,
    /// Last key of a range, for sets that store ranges as one element
    /// (concatenated interval sets, `pipapo`).
    pub key_end: Option<Vec<u8>>,
    /// Map data: a value, or a verdict (incl. `jump`/`goto`).
    pub data: Option<Data>,
    /// One stateful expression (`NFTA_SET_ELEM_EXPR`, e.g. a counter).
    pub expr: Option<Box<Expr>>,
    /// Several stateful expressions (`NFTA_SET_ELEM_EXPRESSIONS`).
    pub exprs: Option<Vec<Expr>>,
    /// Name of the stateful object an object map maps to.
    pub objref: Option<String>,
    /// Flags.
    pub flags: Option<ElementFlags>,
    /// Timeout in milliseconds.
    pub timeout: Option<u64>,
    /// Milliseconds left before the element expires.
    pub expiration: Option<u64>,
    /// User data (nft stores a comment TLV here).
    pub userdata: Option<Vec<u8>>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
    /// The order the attributes arrived in (encoding metadata; empty for
    /// the default order).
    #[serde(skip)]
    pub order: AttrOrder,
}

/// The dump order of every kernel seen (5.10 to 6.18).
const DEFAULT_ORDER: &[u16] = &[
    NFTA_SET_ELEM_KEY,
    NFTA_SET_ELEM_KEY_END,
    NFTA_SET_ELEM_DATA,
    NFTA_SET_ELEM_EXPR,
    NFTA_SET_ELEM_EXPRESSIONS,
    NFTA_SET_ELEM_OBJREF,
    NFTA_SET_ELEM_FLAGS,
    NFTA_SET_ELEM_TIMEOUT,
    NFTA_SET_ELEM_EXPIRATION,
    NFTA_SET_ELEM_USERDATA,
];

impl SetElement {
    /// An element with key `key`.
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        SetElement {
            key: Some(key.into()),
            ..SetElement::default()
        }
    }

    /// The catch-all element (`*`) of a map.
    pub fn catchall() -> Self {
        SetElement {
            flags: Some(ElementFlags::CATCHALL),
            ..SetElement::default()
        }
    }

    /// Sets the map data to a value.
    pub fn with_value(mut self, value: impl Into<Vec<u8>>) -> Self {
        self.data = Some(Data::Value(value.into()));
        self
    }

    /// Sets the map data to a verdict.
    pub fn with_verdict(mut self, v: Verdict) -> Self {
        self.data = Some(Data::Verdict(v));
        self
    }

    /// Sets the object an object map maps to.
    pub fn with_objref(mut self, name: impl Into<String>) -> Self {
        self.objref = Some(name.into());
        self
    }

    /// Sets the last key of a range (`key_end`).
    pub fn with_key_end(mut self, key_end: impl Into<Vec<u8>>) -> Self {
        self.key_end = Some(key_end.into());
        self
    }

    /// Marks the element as the end of an interval.
    pub fn interval_end(mut self) -> Self {
        self.flags = Some(self.flags.unwrap_or_default() | ElementFlags::INTERVAL_END);
        self
    }

    /// Sets the timeout in milliseconds.
    pub fn with_timeout(mut self, ms: u64) -> Self {
        self.timeout = Some(ms);
        self
    }

    /// Attaches one stateful expression (e.g. a counter).
    pub fn with_expr(mut self, e: impl Into<Expr>) -> Self {
        self.expr = Some(Box::new(e.into()));
        self
    }

    /// The flags (empty when absent).
    pub fn flags(&self) -> ElementFlags {
        self.flags.unwrap_or_default()
    }

    /// Whether this element closes an interval.
    pub fn is_interval_end(&self) -> bool {
        self.flags().contains(ElementFlags::INTERVAL_END)
    }

    /// Whether this is the catch-all element.
    pub fn is_catchall(&self) -> bool {
        self.flags().contains(ElementFlags::CATCHALL)
    }

    /// The map's verdict for this element, if it carries one.
    pub fn verdict(&self) -> Option<&Verdict> {
        match &self.data {
            Some(Data::Verdict(v)) => Some(v),
            _ => None,
        }
    }

    /// The element's stateful expressions, whichever attribute carried them.
    pub fn expressions(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = self.expr.iter().map(|b| b.as_ref()).collect();
        if let Some(es) = &self.exprs {
            out.extend(es.iter());
        }
        out
    }

    /// The comment nft stores in the user data (TLV type 0), if any.
    pub fn comment(&self) -> Option<String> {
        self.userdata
            .as_deref()
            .and_then(|u| super::rule::udata_string(u, 0))
    }

    /// Decodes the attributes inside one `NFTA_LIST_ELEM`.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut e = SetElement::default();
        let mut order = OrderRecorder::new();
        for a in AttrIter::new(bytes) {
            let a = a?;
            match a.kind() {
                NFTA_SET_ELEM_KEY => e.key = Some(value_of(&a, "set element key")?),
                NFTA_SET_ELEM_KEY_END => e.key_end = Some(value_of(&a, "set element key end")?),
                NFTA_SET_ELEM_DATA => e.data = Some(Data::from_attr(&a)?),
                NFTA_SET_ELEM_EXPR => e.expr = Some(<Box<Expr>>::from_attr(&a)?),
                NFTA_SET_ELEM_EXPRESSIONS => e.exprs = Some(expr::decode_list(a.payload)?),
                NFTA_SET_ELEM_OBJREF => e.objref = Some(a.strz()?.to_string()),
                NFTA_SET_ELEM_FLAGS => e.flags = Some(ElementFlags::from_bits_retain(a.be32()?)),
                NFTA_SET_ELEM_TIMEOUT => e.timeout = Some(a.be64()?),
                NFTA_SET_ELEM_EXPIRATION => e.expiration = Some(a.be64()?),
                NFTA_SET_ELEM_USERDATA => e.userdata = Some(a.payload.to_vec()),
                _ => {
                    e.unknown.push(RawAttr::keep(&a));
                    order.push(UNKNOWN);
                    continue;
                }
            }
            order.push(a.kind());
        }
        e.order = order.finish(DEFAULT_ORDER);
        Ok(e)
    }

    /// Writes the attributes (the content of one `NFTA_LIST_ELEM`): in
    /// the order they were decoded in, or the kernel's dump order.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.order
            .emit(DEFAULT_ORDER, &self.unknown, w, |k, w| match k {
                NFTA_SET_ELEM_KEY => self
                    .key
                    .as_ref()
                    .map_or(Ok(()), |v| w.nested(k, |w| w.put(NFTA_DATA_VALUE, v))),
                NFTA_SET_ELEM_KEY_END => self
                    .key_end
                    .as_ref()
                    .map_or(Ok(()), |v| w.nested(k, |w| w.put(NFTA_DATA_VALUE, v))),
                NFTA_SET_ELEM_DATA => self.data.as_ref().map_or(Ok(()), |d| d.to_attr(k, w)),
                NFTA_SET_ELEM_EXPR => self.expr.as_ref().map_or(Ok(()), |e| e.to_attr(k, w)),
                NFTA_SET_ELEM_EXPRESSIONS => {
                    self.exprs.as_ref().map_or(Ok(()), |e| e.to_attr(k, w))
                }
                NFTA_SET_ELEM_OBJREF => self.objref.as_ref().map_or(Ok(()), |o| w.put_strz(k, o)),
                NFTA_SET_ELEM_FLAGS => self.flags.map_or(Ok(()), |f| w.put_be32(k, f.bits())),
                NFTA_SET_ELEM_TIMEOUT => self.timeout.map_or(Ok(()), |t| w.put_be64(k, t)),
                NFTA_SET_ELEM_EXPIRATION => self.expiration.map_or(Ok(()), |x| w.put_be64(k, x)),
                NFTA_SET_ELEM_USERDATA => self.userdata.as_ref().map_or(Ok(()), |u| w.put(k, u)),
                _ => Ok(()),
            })
    }
}

fn value_of(a: &Attr<'_>, what: &'static str) -> Result<Vec<u8>> {
    match Data::from_attr(a)? {
        Data::Value(v) => Ok(v),
        Data::Verdict(_) => Err(Error::Malformed {
            what,
            detail: "a verdict where a value was expected".into(),
        }),
    }
}

/// The elements of one set: the payload of an element-list message.
///
/// In a dump the kernel spreads a big set over several messages;
/// [`crate::nft::Ruleset::elements`] holds one `ElementList` per set with
/// the elements of all of them, in the kernel's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ElementList {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Set name (`__set%d` with `set_id` for a set of the same batch).
    pub set: String,
    /// Transaction id of a set created in the same batch.
    pub set_id: Option<u32>,
    /// The elements.
    pub elements: Vec<SetElement>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
}

impl ElementList {
    /// Elements for set `set` of `table`.
    pub fn new(
        family: Family,
        table: impl Into<String>,
        set: impl Into<String>,
        elements: Vec<SetElement>,
    ) -> Self {
        ElementList {
            family,
            table: table.into(),
            set: set.into(),
            set_id: None,
            elements,
            unknown: Vec::new(),
        }
    }

    /// Refers to the set by its transaction id (a set created earlier in
    /// the same batch, e.g. an anonymous one).
    pub fn with_set_id(mut self, id: u32) -> Self {
        self.set_id = Some(id);
        self
    }

    /// Decodes an element-list message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut l = ElementList::new(family, "", "", Vec::new());
        let (mut table, mut set) = (None, None);
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_SET_ELEM_LIST_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_SET_ELEM_LIST_SET => set = Some(a.strz()?.to_string()),
                NFTA_SET_ELEM_LIST_SET_ID => l.set_id = Some(a.be32()?),
                NFTA_SET_ELEM_LIST_ELEMENTS => {
                    for e in a.nested() {
                        let e = e?;
                        if e.kind() != NFTA_LIST_ELEM {
                            return Err(super::data::unknown("set element list", e.kind()));
                        }
                        l.elements.push(SetElement::parse(e.payload)?);
                    }
                }
                _ => l.unknown.push(RawAttr::keep(&a)),
            }
        }
        l.table = table.ok_or_else(|| super::data::missing("set element list", "table"))?;
        l.set = set.ok_or_else(|| super::data::missing("set element list", "set"))?;
        Ok(l)
    }

    /// Writes the whole list as one message's attributes, in the kernel's
    /// dump order. Fails with [`Error::AttributeTooLong`] when the elements
    /// do not fit one nest; the transaction splits long lists with
    /// [`ElementList::emit_chunk`] instead.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_header(w)?;
        w.nested(NFTA_SET_ELEM_LIST_ELEMENTS, |w| {
            for e in &self.elements {
                w.nested(NFTA_LIST_ELEM, |w| e.emit(w))?;
            }
            Ok(())
        })?;
        for raw in &self.unknown {
            w.put_raw_attrs(&raw.0);
        }
        Ok(())
    }

    /// Writes table, set and set id, but no elements (a message that
    /// addresses the whole set, e.g. to flush it).
    pub fn emit_header(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_strz(NFTA_SET_ELEM_LIST_TABLE, &self.table)?;
        w.put_strz(NFTA_SET_ELEM_LIST_SET, &self.set)?;
        if let Some(id) = self.set_id {
            w.put_be32(NFTA_SET_ELEM_LIST_SET_ID, id)?;
        }
        Ok(())
    }

    /// Writes one message's attributes holding the elements from index
    /// `from` on, as many as fit in one `NFTA_SET_ELEM_LIST_ELEMENTS` nest
    /// of at most `max_nest` bytes (at most 65,535), and returns the index
    /// of the first element left out (`elements.len()` when all fit).
    /// `scratch` is a reusable buffer. At least one element is written per
    /// call; one element that alone exceeds the limit is an
    /// [`Error::AttributeTooLong`].
    pub fn emit_chunk(
        &self,
        w: &mut AttrWriter<'_>,
        from: usize,
        max_nest: usize,
        scratch: &mut Vec<u8>,
    ) -> Result<usize> {
        let max_nest = max_nest.min(NLA_MAX_LEN);
        self.emit_header(w)?;
        let nest = w.begin_nested(NFTA_SET_ELEM_LIST_ELEMENTS);
        let nest_start = w.buf().len() - crate::netlink::attr::NLA_HDRLEN;
        let mut next = from;
        while let Some(e) = self.elements.get(next) {
            scratch.clear();
            AttrWriter::new(scratch).nested(NFTA_LIST_ELEM, |w| e.emit(w))?;
            let used = w.buf().len() - nest_start;
            if used + scratch.len() > max_nest && next > from {
                break;
            }
            w.put_raw_attrs(scratch);
            next += 1;
        }
        w.end_nested(nest)?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::Counter;

    #[test]
    fn element_roundtrips_in_dump_order() {
        let e = SetElement::new(vec![10, 0, 0, 1])
            .with_verdict(Verdict::Jump("web".into()))
            .with_expr(Counter::new())
            .with_timeout(30_000);
        let mut buf = Vec::new();
        AttrWriter::new(&mut buf)
            .nested(NFTA_LIST_ELEM, |w| e.emit(w))
            .unwrap();
        let a = AttrIter::new(&buf).next().unwrap().unwrap();
        let back = SetElement::parse(a.payload).unwrap();
        assert_eq!(back, e);
        let kinds: Vec<u16> = AttrIter::new(a.payload)
            .map(|x| x.unwrap().kind())
            .collect();
        assert_eq!(
            kinds,
            [
                NFTA_SET_ELEM_KEY,
                NFTA_SET_ELEM_DATA,
                NFTA_SET_ELEM_EXPR,
                NFTA_SET_ELEM_TIMEOUT
            ]
        );
    }

    #[test]
    fn an_order_other_than_the_default_is_replayed() {
        // Flags before the data, and an unknown attribute in the middle.
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.nested(NFTA_SET_ELEM_KEY, |w| w.put(NFTA_DATA_VALUE, &[1, 2, 3, 4]))
            .unwrap();
        w.put_be32(NFTA_SET_ELEM_FLAGS, 0).unwrap();
        w.put_be32(99, 1).unwrap();
        Data::Verdict(Verdict::Accept)
            .to_attr(NFTA_SET_ELEM_DATA, &mut w)
            .unwrap();
        let e = SetElement::parse(&buf).unwrap();
        assert!(!e.order.is_default());
        let mut again = Vec::new();
        e.emit(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
        // The default order records nothing.
        let mut plain = Vec::new();
        SetElement::new(vec![1])
            .with_verdict(Verdict::Drop)
            .emit(&mut AttrWriter::new(&mut plain))
            .unwrap();
        assert!(SetElement::parse(&plain).unwrap().order.is_default());
    }

    #[test]
    fn catchall_has_no_key() {
        let e = SetElement::catchall().with_verdict(Verdict::Drop);
        let mut buf = Vec::new();
        e.emit(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = SetElement::parse(&buf).unwrap();
        assert!(back.is_catchall() && back.key.is_none());
    }

    #[test]
    fn chunks_stay_under_the_nest_limit_and_cover_every_element() {
        let elements: Vec<_> = (0u32..20_000)
            .map(|i| SetElement::new(i.to_be_bytes().to_vec()))
            .collect();
        let list = ElementList::new(Family::Ipv4, "t", "s", elements);
        assert!(matches!(
            list.emit(&mut AttrWriter::new(&mut Vec::new())),
            Err(Error::AttributeTooLong { .. })
        ));
        let (mut from, mut seen, mut chunks) = (0, Vec::new(), 0);
        let mut scratch = Vec::new();
        while from < list.elements.len() {
            let mut buf = Vec::new();
            from = list
                .emit_chunk(
                    &mut AttrWriter::new(&mut buf),
                    from,
                    NLA_MAX_LEN,
                    &mut scratch,
                )
                .unwrap();
            let back = ElementList::parse(Family::Ipv4, &buf).unwrap();
            for a in AttrIter::new(&buf) {
                let a = a.unwrap();
                assert!(a.bytes.len() <= NLA_MAX_LEN + 3);
            }
            seen.extend(back.elements);
            chunks += 1;
        }
        assert!(chunks > 1);
        assert_eq!(seen, list.elements);
    }

    #[test]
    fn malformed_elements_are_errors() {
        // A key carrying a verdict.
        let mut buf = Vec::new();
        Data::Verdict(Verdict::Accept)
            .to_attr(NFTA_SET_ELEM_KEY, &mut AttrWriter::new(&mut buf))
            .unwrap();
        assert!(SetElement::parse(&buf).is_err());
        assert!(SetElement::parse(&[9, 0, 1]).is_err());
    }
}
