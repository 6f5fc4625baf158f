//! `NFTA_DATA_*`: values and verdicts carried by expressions and set elements.

use serde::{Deserialize, Serialize};

use super::consts::*;
use super::expr::AttrValue;
use crate::error::{Error, Result};
use crate::netlink::{Attr, AttrWriter};

/// A verdict (`NFTA_VERDICT_*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// `NF_ACCEPT`.
    Accept,
    /// `NF_DROP`.
    Drop,
    /// `NF_QUEUE` (the queue number lives in the upper 16 bits of the code).
    Queue(u16),
    /// `NFT_CONTINUE`.
    Continue,
    /// `NFT_BREAK`.
    Break,
    /// `NFT_JUMP` to a chain.
    Jump(ChainRef),
    /// `NFT_GOTO` a chain.
    Goto(ChainRef),
    /// `NFT_RETURN`.
    Return,
    /// Any other code, kept as it is.
    Other(i32),
}

/// How a jump or goto names its target chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainRef {
    /// By name (`NFTA_VERDICT_CHAIN`).
    Name(String),
    /// By the transaction id of a chain created in the same batch
    /// (`NFTA_VERDICT_CHAIN_ID`).
    Id(u32),
}

impl From<&str> for ChainRef {
    fn from(s: &str) -> Self {
        ChainRef::Name(s.to_string())
    }
}

const NF_DROP: i32 = 0;
const NF_ACCEPT: i32 = 1;
const NF_QUEUE: i32 = 3;
const NFT_CONTINUE: i32 = -1;
const NFT_BREAK: i32 = -2;
const NFT_JUMP: i32 = -3;
const NFT_GOTO: i32 = -4;
const NFT_RETURN: i32 = -5;

impl Verdict {
    /// The numeric verdict code.
    pub fn code(&self) -> i32 {
        match self {
            Verdict::Accept => NF_ACCEPT,
            Verdict::Drop => NF_DROP,
            Verdict::Queue(n) => ((*n as i32) << 16) | NF_QUEUE,
            Verdict::Continue => NFT_CONTINUE,
            Verdict::Break => NFT_BREAK,
            Verdict::Jump(_) => NFT_JUMP,
            Verdict::Goto(_) => NFT_GOTO,
            Verdict::Return => NFT_RETURN,
            Verdict::Other(c) => *c,
        }
    }

    /// The target chain of a jump or goto.
    pub fn chain(&self) -> Option<&ChainRef> {
        match self {
            Verdict::Jump(c) | Verdict::Goto(c) => Some(c),
            _ => None,
        }
    }

    /// Decodes the attributes inside `NFTA_DATA_VERDICT`.
    pub fn parse(attr: &Attr<'_>) -> Result<Self> {
        let mut code = None;
        let mut chain = None;
        for a in attr.nested() {
            let a = a?;
            match a.kind() {
                NFTA_VERDICT_CODE => code = Some(a.be32()? as i32),
                NFTA_VERDICT_CHAIN => chain = Some(ChainRef::Name(a.strz()?.to_string())),
                NFTA_VERDICT_CHAIN_ID => chain = Some(ChainRef::Id(a.be32()?)),
                k => return Err(unknown("verdict", k)),
            }
        }
        let code = code.ok_or_else(|| missing("verdict", "code"))?;
        Ok(match (code, chain) {
            (NF_ACCEPT, None) => Verdict::Accept,
            (NF_DROP, None) => Verdict::Drop,
            (NFT_CONTINUE, None) => Verdict::Continue,
            (NFT_BREAK, None) => Verdict::Break,
            (NFT_RETURN, None) => Verdict::Return,
            (NFT_JUMP, Some(c)) => Verdict::Jump(c),
            (NFT_GOTO, Some(c)) => Verdict::Goto(c),
            (c, None) if c & 0xffff == NF_QUEUE && c >= 0 => Verdict::Queue((c >> 16) as u16),
            (c, None) => Verdict::Other(c),
            (c, Some(_)) => {
                return Err(Error::Malformed {
                    what: "verdict",
                    detail: format!("code {c} carries a chain"),
                })
            }
        })
    }

    /// Writes `NFTA_VERDICT_*` attributes (the content of `NFTA_DATA_VERDICT`).
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_be32(NFTA_VERDICT_CODE, self.code() as u32)?;
        match self.chain() {
            Some(ChainRef::Name(n)) => w.put_strz(NFTA_VERDICT_CHAIN, n),
            Some(ChainRef::Id(id)) => w.put_be32(NFTA_VERDICT_CHAIN_ID, *id),
            None => Ok(()),
        }
    }
}

/// A data item (`NFTA_DATA_*`): raw bytes, or a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Data {
    /// `NFTA_DATA_VALUE`: bytes as they sit in a register.
    Value(Vec<u8>),
    /// `NFTA_DATA_VERDICT`.
    Verdict(Verdict),
}

impl Data {
    /// The value bytes, if this is a value.
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Data::Value(v) => Some(v),
            Data::Verdict(_) => None,
        }
    }
}

impl AttrValue for Data {
    fn from_attr(attr: &Attr<'_>) -> Result<Self> {
        let mut out = None;
        for a in attr.nested() {
            let a = a?;
            if out.is_some() {
                return Err(Error::Malformed {
                    what: "data",
                    detail: "more than one value in a data attribute".into(),
                });
            }
            out = Some(match a.kind() {
                NFTA_DATA_VALUE => Data::Value(a.payload.to_vec()),
                NFTA_DATA_VERDICT => Data::Verdict(Verdict::parse(&a)?),
                k => return Err(unknown("data", k)),
            });
        }
        out.ok_or_else(|| missing("data", "value"))
    }

    fn from_attr_exact(attr: &Attr<'_>) -> Result<(Self, bool)> {
        let d = Self::from_attr(attr)?;
        let exact = match &d {
            // One value attribute, framed as the writer frames it.
            Data::Value(_) => {
                attr.is_canonical_nest()
                    && match attr.nested().next() {
                        Some(Ok(v)) => {
                            v.raw_kind == NFTA_DATA_VALUE
                                && v.is_canonical_frame()
                                && v.bytes.len() == attr.payload.len()
                        }
                        _ => false,
                    }
            }
            // Verdicts (one per rule, small) are checked by re-encoding.
            Data::Verdict(_) => {
                let mut buf = Vec::with_capacity(attr.bytes.len());
                d.to_attr(attr.raw_kind, &mut AttrWriter::new(&mut buf))
                    .is_ok()
                    && buf == attr.bytes
            }
        };
        Ok((d, exact))
    }

    fn to_attr(&self, kind: u16, w: &mut AttrWriter<'_>) -> Result<()> {
        w.nested(kind, |w| match self {
            Data::Value(v) => w.put(NFTA_DATA_VALUE, v),
            Data::Verdict(v) => w.nested(NFTA_DATA_VERDICT, |w| v.emit(w)),
        })
    }
}

pub(crate) fn unknown(what: &'static str, kind: u16) -> Error {
    Error::Malformed {
        what,
        detail: format!("unknown attribute type {kind}"),
    }
}

pub(crate) fn missing(what: &'static str, field: &str) -> Error {
    Error::Malformed {
        what,
        detail: format!("missing {field}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::AttrIter;

    fn roundtrip(d: &Data) -> Vec<u8> {
        let mut buf = Vec::new();
        d.to_attr(3, &mut AttrWriter::new(&mut buf)).unwrap();
        let a = AttrIter::new(&buf).next().unwrap().unwrap();
        assert_eq!(&Data::from_attr(&a).unwrap(), d);
        buf
    }

    #[test]
    fn verdict_bytes() {
        // NFTA_CMP_DATA(3) { NFTA_DATA_VERDICT { CODE = 1 } }
        let b = roundtrip(&Data::Verdict(Verdict::Accept));
        assert_eq!(b, [16, 0, 3, 0, 12, 0, 2, 0, 8, 0, 1, 0, 0, 0, 0, 1]);
        roundtrip(&Data::Verdict(Verdict::Jump("other".into())));
        roundtrip(&Data::Verdict(Verdict::Queue(3)));
        roundtrip(&Data::Value(vec![0, 22]));
    }
}
