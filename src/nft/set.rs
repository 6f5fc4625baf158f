//! Sets and maps (`NFT_MSG_NEWSET`): named and anonymous sets, maps,
//! verdict maps, object maps, with their key/data description.
//!
//! A set message carries only the set's description; its elements travel
//! in separate element-list messages ([`super::set_element`]).
//! The kernel dumps a set's attributes (`nf_tables_fill_set`, Linux 6.18)
//! as: table, name, handle, flags, key type/len, data type/len (maps),
//! object type (object maps), timeout, gc interval, policy, user data,
//! description nest, backend type and element count (Linux ≥ 6.16), then
//! the set expression(s). 5.10, 6.1 and 6.12 use the same order without
//! backend type and count; since kernels have inserted attributes before
//! (6.16 placed two before the expressions), [`Set::parse`] records the
//! order it saw and [`Set::emit`] replays it, as for tables and chains (see
//! [`super::attr_order`]), so that an attribute nftguard does not know
//! keeps its place. Sets built in code use the 6.18 order.

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, OrderRecorder, UNKNOWN};
use super::consts::NFTA_LIST_ELEM;
use super::expr::{self, AttrValue, Expr};
use super::{Family, RawAttr};
use crate::error::{Error, Result};
use crate::netlink::{AttrIter, AttrWriter};

/// `NFTA_SET_TABLE`.
pub const NFTA_SET_TABLE: u16 = 1;
/// `NFTA_SET_NAME`.
pub const NFTA_SET_NAME: u16 = 2;
/// `NFTA_SET_FLAGS`.
pub const NFTA_SET_FLAGS: u16 = 3;
/// `NFTA_SET_KEY_TYPE`.
pub const NFTA_SET_KEY_TYPE: u16 = 4;
/// `NFTA_SET_KEY_LEN`.
pub const NFTA_SET_KEY_LEN: u16 = 5;
/// `NFTA_SET_DATA_TYPE`.
pub const NFTA_SET_DATA_TYPE: u16 = 6;
/// `NFTA_SET_DATA_LEN`.
pub const NFTA_SET_DATA_LEN: u16 = 7;
/// `NFTA_SET_POLICY`.
pub const NFTA_SET_POLICY: u16 = 8;
/// `NFTA_SET_DESC`.
pub const NFTA_SET_DESC: u16 = 9;
/// `NFTA_SET_ID`.
pub const NFTA_SET_ID: u16 = 10;
/// `NFTA_SET_TIMEOUT`.
pub const NFTA_SET_TIMEOUT: u16 = 11;
/// `NFTA_SET_GC_INTERVAL`.
pub const NFTA_SET_GC_INTERVAL: u16 = 12;
/// `NFTA_SET_USERDATA`.
pub const NFTA_SET_USERDATA: u16 = 13;
/// `NFTA_SET_OBJ_TYPE`.
pub const NFTA_SET_OBJ_TYPE: u16 = 15;
/// `NFTA_SET_HANDLE`.
pub const NFTA_SET_HANDLE: u16 = 16;
/// `NFTA_SET_EXPR`.
pub const NFTA_SET_EXPR: u16 = 17;
/// `NFTA_SET_EXPRESSIONS`.
pub const NFTA_SET_EXPRESSIONS: u16 = 18;
/// `NFTA_SET_TYPE`: the backend the kernel chose (dump only, Linux ≥ 6.16).
pub const NFTA_SET_TYPE: u16 = 19;
/// `NFTA_SET_COUNT`: number of elements (dump only, Linux ≥ 6.16).
pub const NFTA_SET_COUNT: u16 = 20;

/// `NFTA_SET_DESC_SIZE`.
pub const NFTA_SET_DESC_SIZE: u16 = 1;
/// `NFTA_SET_DESC_CONCAT`.
pub const NFTA_SET_DESC_CONCAT: u16 = 2;
/// `NFTA_SET_FIELD_LEN`.
pub const NFTA_SET_FIELD_LEN: u16 = 1;

/// `NFT_DATA_VERDICT`: the data type of a verdict map.
pub const NFT_DATA_VERDICT: u32 = 0xffff_ff00;

/// Name template of anonymous sets: the kernel replaces `%d` with the
/// first free number (`__set0`, `__set1`, …).
pub const ANONYMOUS_SET_NAME: &str = "__set%d";

/// Bits per field in nft's concatenated key type id (`TYPE_BITS`).
pub const CONCAT_TYPE_BITS: u32 = 6;

bitflags! {
    /// Set flags (`enum nft_set_flags`). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub struct SetFlags: u32 {
        /// Bound to one rule, deleted with it (`__set%d`).
        const ANONYMOUS = 0x1;
        /// Elements cannot change after the set is bound.
        const CONSTANT = 0x2;
        /// Elements are ranges (`flags interval`).
        const INTERVAL = 0x4;
        /// A map: elements carry data.
        const MAP = 0x8;
        /// Elements may time out (`flags timeout`).
        const TIMEOUT = 0x10;
        /// Updated from the packet path (`flags dynamic`).
        const EVAL = 0x20;
        /// A map whose data are stateful objects.
        const OBJECT = 0x40;
        /// The key is a concatenation of several fields.
        const CONCAT = 0x80;
        /// Elements carry stateful expressions.
        const EXPR = 0x100;
        const _ = !0;
    }
}

/// Set selection policy (`enum nft_set_policies`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetPolicy {
    /// `NFT_SET_POL_PERFORMANCE` (0), the default: never dumped.
    Performance,
    /// `NFT_SET_POL_MEMORY` (1).
    Memory,
    /// Any other value, kept.
    Other(u32),
}

impl SetPolicy {
    /// The number the kernel uses.
    pub fn number(self) -> u32 {
        match self {
            SetPolicy::Performance => 0,
            SetPolicy::Memory => 1,
            SetPolicy::Other(n) => n,
        }
    }

    /// The policy for a number.
    pub fn from_number(n: u32) -> Self {
        match n {
            0 => SetPolicy::Performance,
            1 => SetPolicy::Memory,
            n => SetPolicy::Other(n),
        }
    }
}

/// The set description (`NFTA_SET_DESC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SetDesc {
    /// Maximum number of elements (`size N`).
    pub size: Option<u32>,
    /// Byte length of each field of a concatenated key, when the key has
    /// more than one field (`NFTA_SET_DESC_CONCAT`).
    pub concat: Option<Vec<u32>>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
}

impl SetDesc {
    fn parse(bytes: &[u8]) -> Result<Self> {
        let mut d = SetDesc::default();
        for a in AttrIter::new(bytes) {
            let a = a?;
            match a.kind() {
                NFTA_SET_DESC_SIZE => d.size = Some(a.be32()?),
                NFTA_SET_DESC_CONCAT => {
                    let mut fields = Vec::new();
                    for e in a.nested() {
                        let e = e?;
                        if e.kind() != NFTA_LIST_ELEM {
                            return Err(super::data::unknown("set concat description", e.kind()));
                        }
                        let mut len = None;
                        for f in e.nested() {
                            let f = f?;
                            match f.kind() {
                                NFTA_SET_FIELD_LEN if len.is_none() => len = Some(f.be32()?),
                                k => return Err(super::data::unknown("set concat field", k)),
                            }
                        }
                        fields.push(
                            len.ok_or_else(|| super::data::missing("set concat field", "length"))?,
                        );
                    }
                    d.concat = Some(fields);
                }
                _ => d.unknown.push(RawAttr::keep(&a)),
            }
        }
        Ok(d)
    }

    fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        if let Some(s) = self.size {
            w.put_be32(NFTA_SET_DESC_SIZE, s)?;
        }
        if let Some(fields) = &self.concat {
            w.nested(NFTA_SET_DESC_CONCAT, |w| {
                for len in fields {
                    w.nested(NFTA_LIST_ELEM, |w| w.put_be32(NFTA_SET_FIELD_LEN, *len))?;
                }
                Ok(())
            })?;
        }
        for raw in &self.unknown {
            w.put_raw_attrs(&raw.0);
        }
        Ok(())
    }
}

/// A set or map.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Set {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Set name (`__set%d` when creating an anonymous set; the kernel
    /// reports the name it assigned, e.g. `__set0`).
    pub name: String,
    /// Handle (kernel-assigned).
    pub handle: Option<u64>,
    /// Flags (`None`: not sent; the kernel dumps them only when non-zero).
    pub flags: Option<SetFlags>,
    /// Key data type as nft numbers it (`ipv4_addr` = 7,
    /// `inet_service` = 13, …; concatenations combine the field types,
    /// see [`Set::key_type_fields`]). The kernel only stores it.
    pub key_type: Option<u32>,
    /// Key length in bytes (for concatenations: the sum of the fields,
    /// each rounded up to 4 bytes).
    pub key_len: u32,
    /// Data type of a map ([`NFT_DATA_VERDICT`] for a verdict map).
    pub data_type: Option<u32>,
    /// Data length of a map in bytes.
    pub data_len: Option<u32>,
    /// Object type of an object map (`NFT_OBJECT_*`).
    pub obj_type: Option<u32>,
    /// Default element timeout in milliseconds.
    pub timeout: Option<u64>,
    /// Garbage-collection interval in milliseconds.
    pub gc_interval: Option<u32>,
    /// Selection policy (dumped only when not `performance`).
    pub policy: Option<SetPolicy>,
    /// User data: nft's TLVs (key/data byte order, `typeof` expressions,
    /// auto-merge, comment), kept byte for byte; see [`SetUdata`].
    pub userdata: Option<Vec<u8>>,
    /// Description (always dumped, possibly empty).
    pub desc: Option<SetDesc>,
    /// The backend the kernel chose (`NFTA_SET_TYPE`, dump only).
    pub backend: Option<String>,
    /// Number of elements (`NFTA_SET_COUNT`, dump only).
    pub count: Option<u32>,
    /// One expression attached to every element (`NFTA_SET_EXPR`).
    pub expr: Option<Box<Expr>>,
    /// Several expressions attached to every element (`NFTA_SET_EXPRESSIONS`).
    pub exprs: Option<Vec<Expr>>,
    /// Transaction id, so that rules and element lists of the same batch
    /// can refer to this set before it has a name (`NFTA_SET_ID`).
    pub id: Option<u32>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
    /// The order the attributes arrived in (encoding metadata).
    #[serde(skip)]
    pub order: AttrOrder,
}

/// The dump order of Linux 6.18, used for sets built in code (the
/// transaction id, never dumped, goes before the expressions).
const DEFAULT_ORDER: &[u16] = &[
    NFTA_SET_TABLE,
    NFTA_SET_NAME,
    NFTA_SET_HANDLE,
    NFTA_SET_FLAGS,
    NFTA_SET_KEY_TYPE,
    NFTA_SET_KEY_LEN,
    NFTA_SET_DATA_TYPE,
    NFTA_SET_DATA_LEN,
    NFTA_SET_OBJ_TYPE,
    NFTA_SET_TIMEOUT,
    NFTA_SET_GC_INTERVAL,
    NFTA_SET_POLICY,
    NFTA_SET_USERDATA,
    NFTA_SET_DESC,
    NFTA_SET_TYPE,
    NFTA_SET_COUNT,
    NFTA_SET_ID,
    NFTA_SET_EXPR,
    NFTA_SET_EXPRESSIONS,
];

impl Set {
    /// A set named `name` whose keys are `key_len` bytes of nft type
    /// `key_type`.
    pub fn new(
        family: Family,
        table: impl Into<String>,
        name: impl Into<String>,
        key_type: u32,
        key_len: u32,
    ) -> Self {
        Set {
            family,
            table: table.into(),
            name: name.into(),
            handle: None,
            flags: None,
            key_type: Some(key_type),
            key_len,
            data_type: None,
            data_len: None,
            obj_type: None,
            timeout: None,
            gc_interval: None,
            policy: None,
            userdata: None,
            desc: None,
            backend: None,
            count: None,
            expr: None,
            exprs: None,
            id: None,
            unknown: Vec::new(),
            order: AttrOrder::default(),
        }
    }

    /// An anonymous, constant set as nft creates it for `{ 22, 80 }` in a
    /// rule: name `__set%d`, flags `anonymous | constant`, transaction id
    /// `id` (rules and element lists of the same batch refer to it by
    /// that id), and `size` = the number of elements it will hold.
    pub fn anonymous(
        family: Family,
        table: impl Into<String>,
        key_type: u32,
        key_len: u32,
        id: u32,
        size: u32,
    ) -> Self {
        let mut s = Set::new(family, table, ANONYMOUS_SET_NAME, key_type, key_len);
        s.flags = Some(SetFlags::ANONYMOUS | SetFlags::CONSTANT);
        s.id = Some(id);
        s.desc = Some(SetDesc {
            size: Some(size),
            ..SetDesc::default()
        });
        s
    }

    /// Adds flags.
    pub fn with_flags(mut self, flags: SetFlags) -> Self {
        self.flags = Some(self.flags.unwrap_or_default() | flags);
        self
    }

    /// Makes this a map to `data_len`-byte values of nft type `data_type`.
    pub fn with_data(mut self, data_type: u32, data_len: u32) -> Self {
        self.flags = Some(self.flags.unwrap_or_default() | SetFlags::MAP);
        self.data_type = Some(data_type);
        self.data_len = Some(data_len);
        self
    }

    /// Makes this a verdict map.
    pub fn verdict_map(mut self) -> Self {
        // The kernel sizes verdict data itself (and dumps 16, the size of
        // `struct nft_verdict`); no length is sent.
        self.flags = Some(self.flags.unwrap_or_default() | SetFlags::MAP);
        self.data_type = Some(NFT_DATA_VERDICT);
        self.data_len = None;
        self
    }

    /// Sets the transaction id.
    pub fn with_id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }

    /// The flags (empty when absent).
    pub fn flags(&self) -> SetFlags {
        self.flags.unwrap_or_default()
    }

    /// Whether this is an anonymous set.
    pub fn is_anonymous(&self) -> bool {
        self.flags().contains(SetFlags::ANONYMOUS)
    }

    /// Whether elements are intervals.
    pub fn is_interval(&self) -> bool {
        self.flags().contains(SetFlags::INTERVAL)
    }

    /// Whether this is a map (values or verdicts).
    pub fn is_map(&self) -> bool {
        self.flags().contains(SetFlags::MAP)
    }

    /// Whether this is a verdict map.
    pub fn is_verdict_map(&self) -> bool {
        self.is_map() && self.data_type == Some(NFT_DATA_VERDICT)
    }

    /// Whether this maps keys to stateful objects.
    pub fn is_object_map(&self) -> bool {
        self.flags().contains(SetFlags::OBJECT)
    }

    /// The `size` of the description, if any.
    pub fn size(&self) -> Option<u32> {
        self.desc.as_ref().and_then(|d| d.size)
    }

    /// Byte lengths of the fields of a concatenated key, if the kernel
    /// knows them (interval sets of concatenations).
    pub fn concat_field_lens(&self) -> Option<&[u32]> {
        self.desc.as_ref().and_then(|d| d.concat.as_deref())
    }

    /// The nft type ids of the key's fields: one for a plain key, several
    /// for a concatenation (nft packs them `CONCAT_TYPE_BITS` bits each,
    /// first field in the most significant position).
    pub fn key_type_fields(&self) -> Vec<u32> {
        self.key_type.map(split_concat_type).unwrap_or_default()
    }

    /// nft's user-data TLVs of this set.
    pub fn udata(&self) -> SetUdata<'_> {
        SetUdata(self.userdata.as_deref().unwrap_or(&[]))
    }

    /// The comment nft stores in the user data, if any.
    pub fn comment(&self) -> Option<String> {
        self.udata()
            .get(SetUdata::COMMENT)
            .map(|v| String::from_utf8_lossy(v.strip_suffix(&[0]).unwrap_or(v)).into_owned())
    }

    /// Decodes a set message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut s = Set::new(family, "", "", 0, 0);
        s.key_type = None;
        let (mut table, mut name, mut key_len) = (None, None, None);
        let mut order = OrderRecorder::new();
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_SET_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_SET_NAME => name = Some(a.strz()?.to_string()),
                NFTA_SET_HANDLE => s.handle = Some(a.be64()?),
                NFTA_SET_FLAGS => s.flags = Some(SetFlags::from_bits_retain(a.be32()?)),
                NFTA_SET_KEY_TYPE => s.key_type = Some(a.be32()?),
                NFTA_SET_KEY_LEN => key_len = Some(a.be32()?),
                NFTA_SET_DATA_TYPE => s.data_type = Some(a.be32()?),
                NFTA_SET_DATA_LEN => s.data_len = Some(a.be32()?),
                NFTA_SET_OBJ_TYPE => s.obj_type = Some(a.be32()?),
                NFTA_SET_TIMEOUT => s.timeout = Some(a.be64()?),
                NFTA_SET_GC_INTERVAL => s.gc_interval = Some(a.be32()?),
                NFTA_SET_POLICY => s.policy = Some(SetPolicy::from_number(a.be32()?)),
                NFTA_SET_USERDATA => s.userdata = Some(a.payload.to_vec()),
                NFTA_SET_DESC => s.desc = Some(SetDesc::parse(a.payload)?),
                NFTA_SET_TYPE => s.backend = Some(a.strz()?.to_string()),
                NFTA_SET_COUNT => s.count = Some(a.be32()?),
                NFTA_SET_EXPR => s.expr = Some(<Box<Expr>>::from_attr(&a)?),
                NFTA_SET_EXPRESSIONS => s.exprs = Some(expr::decode_list(a.payload)?),
                NFTA_SET_ID => s.id = Some(a.be32()?),
                _ => {
                    s.unknown.push(RawAttr::keep(&a));
                    order.push(UNKNOWN);
                    continue;
                }
            }
            order.push(a.kind());
        }
        s.order = order.finish(DEFAULT_ORDER);
        s.table = table.ok_or_else(|| super::data::missing("set", "table"))?;
        s.name = name.ok_or_else(|| super::data::missing("set", "name"))?;
        s.key_len = key_len.ok_or_else(|| super::data::missing("set", "key length"))?;
        Ok(s)
    }

    /// Writes the attributes: in the order they were decoded in, or the
    /// current kernel's dump order for sets built in code.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, false)
    }

    /// Writes the attributes of a NEWSET request: as [`Set::emit`], minus
    /// the dump-only backend type and element count (the kernel rejects
    /// them in requests, `NLA_REJECT`).
    pub fn emit_request(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, true)
    }

    fn emit_as(&self, w: &mut AttrWriter<'_>, request: bool) -> Result<()> {
        fn be32(w: &mut AttrWriter<'_>, k: u16, v: Option<u32>) -> Result<()> {
            v.map_or(Ok(()), |v| w.put_be32(k, v))
        }
        self.order
            .emit(DEFAULT_ORDER, &self.unknown, w, |k, w| match k {
                NFTA_SET_TABLE => w.put_strz(k, &self.table),
                NFTA_SET_NAME => w.put_strz(k, &self.name),
                NFTA_SET_HANDLE => self.handle.map_or(Ok(()), |h| w.put_be64(k, h)),
                NFTA_SET_FLAGS => be32(w, k, self.flags.map(|f| f.bits())),
                NFTA_SET_KEY_TYPE => be32(w, k, self.key_type),
                NFTA_SET_KEY_LEN => w.put_be32(k, self.key_len),
                NFTA_SET_DATA_TYPE => be32(w, k, self.data_type),
                NFTA_SET_DATA_LEN => be32(w, k, self.data_len),
                NFTA_SET_OBJ_TYPE => be32(w, k, self.obj_type),
                NFTA_SET_TIMEOUT => self.timeout.map_or(Ok(()), |t| w.put_be64(k, t)),
                NFTA_SET_GC_INTERVAL => be32(w, k, self.gc_interval),
                NFTA_SET_POLICY => be32(w, k, self.policy.map(SetPolicy::number)),
                NFTA_SET_USERDATA => self.userdata.as_ref().map_or(Ok(()), |u| w.put(k, u)),
                NFTA_SET_DESC => self
                    .desc
                    .as_ref()
                    .map_or(Ok(()), |d| w.nested(k, |w| d.emit(w))),
                NFTA_SET_TYPE if !request => {
                    self.backend.as_ref().map_or(Ok(()), |b| w.put_strz(k, b))
                }
                NFTA_SET_COUNT if !request => be32(w, k, self.count),
                NFTA_SET_ID => match self.id {
                    Some(id) => w.put_be32(k, id),
                    // NEWSET requires NFTA_SET_ID even for a set nothing
                    // refers to by id (EINVAL otherwise); 0 is never handed
                    // out by `Transaction::next_id`.
                    None if request => w.put_be32(k, 0),
                    None => Ok(()),
                },
                NFTA_SET_EXPR => self.expr.as_ref().map_or(Ok(()), |e| e.to_attr(k, w)),
                NFTA_SET_EXPRESSIONS => self.exprs.as_ref().map_or(Ok(()), |e| e.to_attr(k, w)),
                _ => Ok(()),
            })
    }
}

/// Splits nft's concatenated type id into the field type ids, first field
/// first (nft: `type = (type << TYPE_BITS) | field_type` per field).
pub fn split_concat_type(mut t: u32) -> Vec<u32> {
    let mask = (1 << CONCAT_TYPE_BITS) - 1;
    let mut out = Vec::new();
    loop {
        out.push(t & mask);
        t >>= CONCAT_TYPE_BITS;
        if t == 0 {
            break;
        }
    }
    out.reverse();
    out
}

/// Packs field type ids into nft's concatenated type id.
pub fn concat_type(fields: &[u32]) -> u32 {
    fields
        .iter()
        .fold(0, |acc, f| (acc << CONCAT_TYPE_BITS) | f)
}

/// A view of nft's set user data: a list of TLVs (`u8 type, u8 len,
/// value`), as libnftnl's `nftnl_udata` writes them. The bytes stay as they
/// are; this only reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetUdata<'a>(pub &'a [u8]);

impl<'a> SetUdata<'a> {
    /// `NFTNL_UDATA_SET_KEYBYTEORDER` (u32, host order: 1 = host, 2 = big endian).
    pub const KEY_BYTEORDER: u8 = 0;
    /// `NFTNL_UDATA_SET_DATABYTEORDER`.
    pub const DATA_BYTEORDER: u8 = 1;
    /// `NFTNL_UDATA_SET_MERGE_ELEMENTS` (`auto-merge`).
    pub const MERGE_ELEMENTS: u8 = 2;
    /// `NFTNL_UDATA_SET_KEY_TYPEOF` (nested: the `typeof` expression).
    pub const KEY_TYPEOF: u8 = 3;
    /// `NFTNL_UDATA_SET_DATA_TYPEOF`.
    pub const DATA_TYPEOF: u8 = 4;
    /// `NFTNL_UDATA_SET_EXPR`.
    pub const EXPR: u8 = 5;
    /// `NFTNL_UDATA_SET_DATA_INTERVAL` (map data are intervals).
    pub const DATA_INTERVAL: u8 = 6;
    /// `NFTNL_UDATA_SET_COMMENT` (NUL-terminated).
    pub const COMMENT: u8 = 7;

    /// The TLVs in order, as `(type, value)`; stops at the first one that
    /// does not fit.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (&t, tail) = rest.split_first()?;
            let (&l, tail) = tail.split_first()?;
            let v = tail.get(..l as usize)?;
            rest = &tail[l as usize..];
            Some((t, v))
        })
    }

    /// The value of the first TLV of type `kind`.
    pub fn get(&self, kind: u8) -> Option<&'a [u8]> {
        self.iter().find(|(t, _)| *t == kind).map(|(_, v)| v)
    }

    /// A u32 TLV (nft writes these in host byte order).
    pub fn get_u32(&self, kind: u8) -> Option<u32> {
        let v: [u8; 4] = self.get(kind)?.try_into().ok()?;
        Some(u32::from_ne_bytes(v))
    }

    /// Whether nft merges adjacent intervals of this set (`auto-merge`).
    pub fn auto_merge(&self) -> bool {
        self.get_u32(Self::MERGE_ELEMENTS).is_some_and(|v| v != 0)
    }
}

/// Builds nft-style set user data from `(type, value)` TLVs.
pub fn build_udata(tlvs: &[(u8, &[u8])]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (t, v) in tlvs {
        let len = u8::try_from(v.len()).map_err(|_| Error::Invalid {
            what: "set user data",
            detail: format!("TLV {t} has {} bytes, at most 255 fit", v.len()),
        })?;
        out.push(*t);
        out.push(len);
        out.extend_from_slice(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &Set) -> Vec<u8> {
        let mut buf = Vec::new();
        s.emit(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = Set::parse(s.family, &buf).unwrap();
        assert_eq!(&back, s);
        let mut again = Vec::new();
        back.emit(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
        buf
    }

    #[test]
    fn set_roundtrips_with_concat_and_exprs() {
        let mut s = Set::new(Family::Inet, "t", "s", concat_type(&[7, 13]), 8)
            .with_flags(SetFlags::INTERVAL | SetFlags::CONCAT | SetFlags::TIMEOUT);
        s.handle = Some(3);
        s.timeout = Some(60_000);
        s.gc_interval = Some(1000);
        s.policy = Some(SetPolicy::Memory);
        s.userdata = Some(build_udata(&[(SetUdata::KEY_BYTEORDER, &2u32.to_ne_bytes())]).unwrap());
        s.desc = Some(SetDesc {
            size: Some(10),
            concat: Some(vec![4, 2]),
            unknown: vec![],
        });
        s.backend = Some("nft_set_pipapo_type".into());
        s.count = Some(0);
        s.expr = Some(Box::new(expr::Counter::new().into()));
        roundtrip(&s);
        assert_eq!(s.key_type_fields(), vec![7, 13]);
        assert_eq!(s.concat_field_lens(), Some(&[4, 2][..]));
        assert_eq!(s.udata().get_u32(SetUdata::KEY_BYTEORDER), Some(2));
    }

    #[test]
    fn an_unknown_attribute_keeps_its_place() {
        // A kernel that dumps an attribute nftguard does not know between
        // the description and the expression (as 6.16 did with backend
        // type and count for older decoders).
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(NFTA_SET_TABLE, "t").unwrap();
        w.put_strz(NFTA_SET_NAME, "s").unwrap();
        w.put_be64(NFTA_SET_HANDLE, 2).unwrap();
        w.put_be32(NFTA_SET_KEY_TYPE, 7).unwrap();
        w.put_be32(NFTA_SET_KEY_LEN, 4).unwrap();
        w.nested(NFTA_SET_DESC, |_| Ok(())).unwrap();
        w.put_be32(99, 1).unwrap();
        let counter: Box<Expr> = Box::new(expr::Counter::new().into());
        counter.to_attr(NFTA_SET_EXPR, &mut w).unwrap();
        let s = Set::parse(Family::Ipv4, &buf).unwrap();
        assert_eq!(s.unknown.len(), 1);
        let mut again = Vec::new();
        s.emit(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
        // A dump in the default order records nothing.
        let plain = roundtrip(&Set::new(Family::Ipv4, "t", "p", 7, 4));
        assert!(Set::parse(Family::Ipv4, &plain).unwrap().order.is_default());
    }

    #[test]
    fn request_omits_dump_only_attributes() {
        let mut s = Set::new(Family::Ipv4, "t", "s", 7, 4);
        s.backend = Some("x".into());
        s.count = Some(5);
        let mut buf = Vec::new();
        s.emit_request(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = Set::parse(Family::Ipv4, &buf).unwrap();
        assert_eq!((back.backend, back.count), (None, None));
    }

    #[test]
    fn anonymous_set_is_what_nft_sends() {
        let s = Set::anonymous(Family::Inet, "t", 13, 2, 1, 2);
        assert_eq!(s.name, "__set%d");
        assert!(s.is_anonymous());
        assert_eq!(s.size(), Some(2));
    }

    #[test]
    fn udata_reader_is_bounded() {
        let u = SetUdata(&[7, 3, b'h', b'i', 0, 2, 200, 1]);
        assert_eq!(u.iter().count(), 1);
        assert_eq!(u.get(SetUdata::COMMENT), Some(&b"hi\0"[..]));
        assert_eq!(u.get(2), None);
    }

    #[test]
    fn missing_key_len_is_an_error() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(NFTA_SET_TABLE, "t").unwrap();
        w.put_strz(NFTA_SET_NAME, "s").unwrap();
        assert!(Set::parse(Family::Inet, &buf).is_err());
    }
}
