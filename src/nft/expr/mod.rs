//! nf_tables expressions: one file per expression family, each holding the
//! typed form, its netlink parse/emit and byte-exact tests.
//!
//! Every typed expression emits its attributes in the order the kernel dumps
//! them, so that re-encoding a dumped expression reproduces its bytes.
//! [`Expr::decode`] checks exactly that: when the typed form would not
//! reproduce the received bytes (an attribute nftguard does not know, a
//! different order, a newer kernel), the expression is kept as
//! [`Opaque`] bytes instead. Decoding is therefore lossless by construction.

use serde::{Deserialize, Serialize};

use super::consts::{NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFTA_LIST_ELEM};
use crate::error::{Error, Result};
use crate::netlink::{Attr, AttrIter, AttrWriter};

#[macro_use]
mod macros;

// The codec macros, for the stateful objects in `nft::object`, whose data
// have the same shape as expression data.
pub(crate) use {field_emit, field_take, field_ty, nft_expr};

pub mod bitwise;
pub mod cmp;
pub mod connlimit;
pub mod counter;
pub mod ct;
pub mod dynset;
pub mod exthdr;
pub mod fib;
pub mod immediate;
pub mod limit;
pub mod log;
pub mod lookup;
pub mod meta;
pub mod nat;
pub mod notrack;
pub mod objref;
pub mod opaque;
pub mod payload;
pub mod quota;
pub mod range;
pub mod reject;

pub use bitwise::{Bitwise, BitwiseOp};
pub use cmp::{Cmp, CmpOp};
pub use connlimit::Connlimit;
pub use counter::Counter;
pub use ct::{Ct, CtKey};
pub use dynset::{Dynset, DynsetOp};
pub use exthdr::{Exthdr, ExthdrOp};
pub use fib::{Fib, FibResult};
pub use immediate::Immediate;
pub use limit::{Limit, LimitType};
pub use log::Log;
pub use lookup::Lookup;
pub use meta::{Meta, MetaKey};
pub use nat::{Masq, Nat, NatType, Redir};
pub use notrack::Notrack;
pub use objref::Objref;
pub use opaque::Opaque;
pub use payload::{Payload, PayloadBase};
pub use quota::Quota;
pub use range::{Range, RangeOp};
pub use reject::{Reject, RejectType};

/// A value that is carried in one netlink attribute.
pub trait AttrValue: Sized {
    /// Decodes the value from `attr`.
    fn from_attr(attr: &Attr<'_>) -> Result<Self>;
    /// Writes the value as attribute `kind`.
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()>;
    /// Decodes the value and says whether [`AttrValue::to_attr`] with
    /// `attr.raw_kind` would write exactly `attr.bytes` (header, payload,
    /// padding). This is how decoding proves itself lossless without
    /// re-encoding: the types used on hot paths answer from the framing
    /// alone; the default re-encodes the one attribute and compares.
    fn from_attr_exact(attr: &Attr<'_>) -> Result<(Self, bool)> {
        let v = Self::from_attr(attr)?;
        let exact = reencodes(attr.bytes, |w| v.to_attr(attr.raw_kind, w));
        Ok((v, exact))
    }
}

/// For the types whose decoder accepts exactly one payload per value and
/// whose writer writes that payload back (fixed-size integers, NUL-ended
/// strings, raw bytes, `u32` enumerations), the bytes are reproduced
/// exactly when the framing is the writer's.
macro_rules! exact_when_framed {
    () => {
        fn from_attr_exact(attr: &Attr<'_>) -> Result<(Self, bool)> {
            Ok((Self::from_attr(attr)?, attr.is_canonical_frame()))
        }
    };
}

impl AttrValue for u8 {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        attr.u8()
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_u8(kind, *self)
    }
}

impl AttrValue for u16 {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        attr.be16()
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_be16(kind, *self)
    }
}

impl AttrValue for u32 {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        attr.be32()
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_be32(kind, *self)
    }
}

/// A `u32` the kernel carries in host byte order (`nla_put_u32` /
/// `nla_get_u32`) — rare in nf_tables, where integers are big-endian; the
/// ct expectation timeout is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HostU32(pub u32);

impl AttrValue for HostU32 {
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        let b: [u8; 4] = attr.payload.try_into().map_err(|_| Error::Malformed {
            what: "attribute",
            detail: format!(
                "type {} has {} payload bytes, expected 4",
                attr.kind(),
                attr.payload.len()
            ),
        })?;
        Ok(HostU32(u32::from_ne_bytes(b)))
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put(kind, &self.0.to_ne_bytes())
    }
}

impl AttrValue for u64 {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        attr.be64()
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_be64(kind, *self)
    }
}

impl AttrValue for String {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        attr.strz().map(str::to_string)
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_strz(kind, self)
    }
}

impl AttrValue for Vec<u8> {
    exact_when_framed!();
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        Ok(attr.payload.to_vec())
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put(kind, self)
    }
}

/// One nested expression (`NFTA_DYNSET_EXPR`, `NFTA_SET_EXPR`).
impl AttrValue for Box<Expr> {
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        Expr::decode(attr.payload).map(Box::new)
    }
    fn from_attr_exact(attr: &Attr<'_>) -> Result<(Self, bool)> {
        // Whatever `Expr::decode` returns re-encodes to its input when that
        // is whole attributes (typed: proven; opaque: the bytes verbatim).
        let e = Self::from_attr(attr)?;
        Ok((e, attr.is_canonical_nest()))
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.nested(kind, |w| self.encode(w))
    }
}

/// A list of expressions (`NFTA_*_EXPRESSIONS`: `NFTA_LIST_ELEM` nests).
impl AttrValue for Vec<Expr> {
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        decode_list(attr.payload)
    }
    fn from_attr_exact(attr: &Attr<'_>) -> Result<(Self, bool)> {
        let (list, exact) = decode_list_exact(attr.payload)?;
        Ok((list, exact && attr.is_canonical_nest()))
    }
    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.nested(kind, |w| encode_list(self, w))
    }
}

thread_local! {
    /// Reused buffer for the re-encoding check of [`Expr::decode`]: a dump
    /// decodes millions of expressions, and a fresh buffer for each cost
    /// an allocation and a free per expression.
    static REENCODE_SCRATCH: std::cell::RefCell<Vec<u8>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `encode` writes exactly `bytes` (the slow proof of
/// losslessness, for input the fast checks do not vouch for).
fn reencodes(bytes: &[u8], encode: impl Fn(&mut AttrWriter<'_>) -> Result<()>) -> bool {
    let check = |buf: &mut Vec<u8>| {
        buf.clear();
        encode(&mut AttrWriter::new(buf)).is_ok() && buf.as_slice() == bytes
    };
    REENCODE_SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => check(&mut buf),
        // A nested check (a value whose encoding holds expressions) while
        // an outer one holds the buffer: a fresh buffer is always correct.
        Err(_) => check(&mut Vec::with_capacity(bytes.len())),
    })
}

/// Decodes the `NFTA_LIST_ELEM` nests of an expression list.
pub fn decode_list(bytes: &[u8]) -> Result<Vec<Expr>> {
    decode_list_exact(bytes).map(|(list, _)| list)
}

/// [`decode_list`], also saying whether [`encode_list`] reproduces `bytes`
/// exactly.
fn decode_list_exact(bytes: &[u8]) -> Result<(Vec<Expr>, bool)> {
    let mut out = Vec::with_capacity(count_attrs(bytes));
    let mut exact = true;
    for a in AttrIter::new(bytes) {
        let a = a?;
        if a.kind() != NFTA_LIST_ELEM {
            return Err(Error::Malformed {
                what: "expression list",
                detail: format!(
                    "attribute type {} where a list element was expected",
                    a.kind()
                ),
            });
        }
        // Each element re-encodes to its payload (see `Box<Expr>`); the
        // element's own header must be the writer's.
        exact &= a.raw_kind == NFTA_LIST_ELEM && a.is_canonical_nest();
        out.push(Expr::decode(a.payload)?);
    }
    Ok((out, exact))
}

/// How many attributes `bytes` holds, read from their length fields only
/// (a capacity hint: the real walk validates them). Saves the vector
/// regrowths of a rule's expression list, one of the costs of a dump.
fn count_attrs(bytes: &[u8]) -> usize {
    let (mut n, mut off) = (0, 0);
    while let Some(h) = bytes.get(off..off + 4) {
        let len = u16::from_ne_bytes([h[0], h[1]]) as usize;
        if len < 4 {
            break;
        }
        n += 1;
        off += (len + 3) & !3;
    }
    n
}

/// Writes expressions as `NFTA_LIST_ELEM` nests.
pub fn encode_list(exprs: &[Expr], w: &mut AttrWriter<'_>) -> Result<()> {
    for e in exprs {
        w.nested(NFTA_LIST_ELEM, |w| e.encode(w))?;
    }
    Ok(())
}

macro_rules! expr_enum {
    ($( $(#[$m:meta])* $var:ident($ty:ty) ),* $(,)?) => {
        /// One expression of a rule.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Expr {
            $( $(#[$m])* $var($ty), )*
            /// An expression kept as the bytes the kernel sent: xt
            /// `match`/`target`, kinds nftguard does not type, or a typed
            /// kind with attributes it does not know.
            Opaque(Opaque),
        }

        impl Expr {
            /// The kernel's name of the expression kind (`payload`, `cmp`, …).
            pub fn name(&self) -> &str {
                match self {
                    $( Expr::$var(_) => <$ty>::NAME, )*
                    Expr::Opaque(o) => &o.name,
                }
            }

            /// The typed form of kind `name` with data `data`, and whether
            /// its `emit_data` reproduces `data` exactly.
            fn parse_typed(name: &str, data: &[u8]) -> Option<Result<(Expr, bool)>> {
                Some(match name {
                    $( <$ty>::NAME => <$ty>::parse_exact(data).map(|(e, x)| (Expr::$var(e), x)), )*
                    _ => return None,
                })
            }

            fn emit_data(&self, w: &mut AttrWriter<'_>) -> Result<()> {
                match self {
                    $( Expr::$var(e) => e.emit(w), )*
                    Expr::Opaque(_) => Ok(()),
                }
            }
        }

        $(
            impl From<$ty> for Expr {
                fn from(e: $ty) -> Expr {
                    Expr::$var(e)
                }
            }
        )*
    };
}

expr_enum! {
    /// `payload`: load or store packet bytes.
    Payload(Payload),
    /// `meta`: load or set packet metadata.
    Meta(Meta),
    /// `cmp`: compare a register with a value.
    Cmp(Cmp),
    /// `bitwise`: mask/xor or shift a register.
    Bitwise(Bitwise),
    /// `immediate`: load a value or set the verdict.
    Immediate(Immediate),
    /// `lookup`: look a register up in a set.
    Lookup(Lookup),
    /// `range`: compare a register with a range.
    Range(Range),
    /// `counter`: count packets and bytes.
    Counter(Counter),
    /// `ct`: load or set conntrack data.
    Ct(Ct),
    /// `limit`: rate limit.
    Limit(Limit),
    /// `log`: log the packet.
    Log(Log),
    /// `reject`: reject the packet with ICMP or TCP reset.
    Reject(Reject),
    /// `nat`: source or destination NAT.
    Nat(Nat),
    /// `masq`: masquerade.
    Masq(Masq),
    /// `redir`: redirect to the local machine.
    Redir(Redir),
    /// `fib`: route lookup.
    Fib(Fib),
    /// `quota`: byte quota.
    Quota(Quota),
    /// `connlimit`: limit the number of connections.
    Connlimit(Connlimit),
    /// `dynset`: add or update a set element from the packet path.
    Dynset(Dynset),
    /// `exthdr`: IPv6 extension headers, TCP/IPv4/SCTP options.
    Exthdr(Exthdr),
    /// `notrack`: do not track the packet.
    Notrack(Notrack),
    /// `objref`: use a named stateful object.
    Objref(Objref),
}

impl Expr {
    /// Decodes the attributes inside one `NFTA_LIST_ELEM` (name and data).
    /// Never fails on an unknown kind or attribute: such expressions become
    /// [`Expr::Opaque`]. Fails only when the bytes are not well-framed.
    pub fn decode(bytes: &[u8]) -> Result<Expr> {
        let mut name = None;
        let mut data: &[u8] = &[];
        // Whether the frame is exactly what `encode` writes: the name, then
        // the data nest (none for notrack), nothing else, headers and
        // padding as the writer makes them.
        let mut framed = true;
        let mut seen = 0;
        for a in AttrIter::new(bytes) {
            let a = a?;
            match a.kind() {
                NFTA_EXPR_NAME => {
                    framed &= seen == 0 && a.raw_kind == NFTA_EXPR_NAME && a.is_canonical_frame();
                    name = Some(a.strz()?);
                }
                NFTA_EXPR_DATA => {
                    framed &= seen == 1 && a.raw_kind == NFTA_EXPR_DATA && a.is_canonical_nest();
                    data = a.payload;
                }
                _ => framed = false,
            }
            seen += 1;
        }
        let name = name.ok_or_else(|| Error::Malformed {
            what: "expression",
            detail: "no name".into(),
        })?;
        if let Some(Ok((typed, exact))) = Expr::parse_typed(name, data) {
            // Keep the typed form only when it reproduces the bytes exactly:
            // proven from the parse when the input is framed as nftguard
            // writes it, else (rare: a foreign writer) by re-encoding.
            let has_data = !matches!(typed, Expr::Notrack(_));
            let expected_attrs = if has_data { 2 } else { 1 };
            if (framed && exact && seen == expected_attrs) || reencodes(bytes, |w| typed.encode(w))
            {
                return Ok(typed);
            }
        }
        Ok(Expr::Opaque(Opaque {
            name: name.to_string(),
            bytes: bytes.to_vec(),
        }))
    }

    /// Writes `NFTA_EXPR_NAME` and `NFTA_EXPR_DATA` (the content of one
    /// `NFTA_LIST_ELEM`).
    pub fn encode(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        if let Expr::Opaque(o) = self {
            w.put_raw_attrs(&o.bytes);
            return Ok(());
        }
        w.put_strz(NFTA_EXPR_NAME, self.name())?;
        if let Expr::Notrack(_) = self {
            // notrack has no dump callback in the kernel, so it is dumped
            // (and sent by nft) without any NFTA_EXPR_DATA nest.
            return Ok(());
        }
        w.nested(NFTA_EXPR_DATA, |w| self.emit_data(w))
    }

    /// Whether nftguard decoded this expression into a typed form.
    pub fn is_typed(&self) -> bool {
        !matches!(self, Expr::Opaque(_))
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    /// Encodes `e` as the content of a list element, decodes it back, and
    /// checks that it comes back typed and equal. Returns the bytes.
    pub fn roundtrip(e: &Expr) -> Vec<u8> {
        let mut buf = Vec::new();
        e.encode(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = Expr::decode(&buf).unwrap();
        assert!(back.is_typed(), "{e:?} came back opaque");
        assert_eq!(&back, e);
        buf
    }

    /// The bytes of `NFTA_EXPR_DATA`'s content for `e`.
    pub fn data_bytes(e: &Expr) -> Vec<u8> {
        let mut buf = Vec::new();
        e.emit_data(&mut AttrWriter::new(&mut buf)).unwrap();
        buf
    }
}

#[cfg(test)]
mod exactness_tests {
    use super::*;
    use crate::nft::Verdict;

    fn encoded(e: &Expr) -> Vec<u8> {
        let mut buf = Vec::new();
        e.encode(&mut AttrWriter::new(&mut buf)).unwrap();
        buf
    }

    /// The `NFTA_EXPR_DATA` payload of an encoded expression.
    fn data_of(bytes: &[u8]) -> &[u8] {
        AttrIter::new(bytes)
            .map(|a| a.unwrap())
            .find(|a| a.kind() == NFTA_EXPR_DATA)
            .unwrap()
            .payload
    }

    fn samples() -> Vec<Expr> {
        vec![
            Payload::load(PayloadBase::Network, 12, 4, 1).into(),
            Cmp::new(1, CmpOp::Eq, vec![10, 0, 0, 1]).into(),
            Cmp::new(1, CmpOp::Neq, vec![6]).into(),
            Meta::load(MetaKey::L4proto, 1).into(),
            Counter::new().into(),
            Immediate::verdict(Verdict::Accept).into(),
            Immediate::verdict(Verdict::Jump("sub".into())).into(),
        ]
    }

    #[test]
    fn the_writers_own_bytes_are_proven_exact_without_reencoding() {
        for e in samples() {
            let bytes = encoded(&e);
            let data = data_of(&bytes);
            let (typed, exact) = Expr::parse_typed(e.name(), data).unwrap().unwrap();
            assert!(exact, "{e:?}");
            assert_eq!(typed, e);
            assert_eq!(Expr::decode(&bytes).unwrap(), e);
        }
    }

    #[test]
    fn foreign_framing_is_not_proven_and_falls_back() {
        let e: Expr = Cmp::new(1, CmpOp::Eq, vec![6]).into();
        let bytes = encoded(&e);
        let data = data_of(&bytes).to_vec();
        // The value is `06 00 00 00` after its 5-byte header: a non-zero
        // padding byte is not what the writer writes.
        let pos = data.windows(4).position(|w| w == [6, 0, 0, 0]).unwrap();
        let mut dirty = data.clone();
        dirty[pos + 1] = 0xaa;
        let (_, exact) = Cmp::parse_exact(&dirty).unwrap();
        assert!(!exact);
        // Attributes out of the emit order.
        let attrs: Vec<&[u8]> = AttrIter::new(&data).map(|a| a.unwrap().bytes).collect();
        let swapped = [attrs[1], attrs[0], attrs[2]].concat();
        assert!(!Cmp::parse_exact(&swapped).unwrap().1);
        // A flag bit on a type number.
        let mut flagged = data.clone();
        flagged[3] |= 0x40; // NLA_F_NET_BYTEORDER on the first attribute
        assert!(!Cmp::parse_exact(&flagged).unwrap().1);
        // Whole expressions with such data decode opaque, as re-encoding
        // would not give their bytes back.
        for d in [dirty, swapped, flagged] {
            let mut buf = Vec::new();
            let mut w = AttrWriter::new(&mut buf);
            w.put_strz(NFTA_EXPR_NAME, "cmp").unwrap();
            w.put(NFTA_EXPR_DATA, &d).unwrap();
            assert!(!Expr::decode(&buf).unwrap().is_typed());
        }
        // Data before the name: opaque too.
        let attrs: Vec<&[u8]> = AttrIter::new(&bytes).map(|a| a.unwrap().bytes).collect();
        let reversed = [attrs[1], attrs[0]].concat();
        assert!(!Expr::decode(&reversed).unwrap().is_typed());
    }
}
