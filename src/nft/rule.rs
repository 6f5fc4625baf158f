//! Rules (`NFT_MSG_NEWRULE`): a list of expressions plus user data.
//!
//! The high-level matches (`tcp().dport(22)`, `ip_saddr(…)`, …) live in
//! [`super::builder`]; this file holds the object itself and its codec.

use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, UNKNOWN};
use super::builder::BuildError;
use super::consts::*;
use super::expr::{self, Counter, Expr, Immediate};
use super::{Family, RawAttr, Verdict};
use crate::error::{Error, Result};
use crate::netlink::{AttrIter, AttrWriter};

/// `NFTA_RULE_COMPAT`: the protocol and inversion flag iptables-nft attaches
/// to rules using xt matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleCompat {
    /// Layer-4 protocol number.
    pub proto: u32,
    /// `NFT_RULE_COMPAT_F_*`.
    pub flags: u32,
}

/// User-data TLV type of a rule comment (`NFTNL_UDATA_RULE_COMMENT`).
pub const UDATA_RULE_COMMENT: u8 = 0;

/// The longest rule comment nft accepts, in bytes without the trailing NUL
/// (`NFTNL_UDATA_COMMENT_MAXLEN`; nft: "comment too long, 128 characters
/// maximum allowed").
pub const MAX_COMMENT_BYTES: usize = 128;

/// Room for expressions a built rule starts with (see [`Rule::push`]).
const EXPRS_RESERVE: usize = 8;

/// A rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain name.
    pub chain: String,
    /// Handle (kernel-assigned).
    pub handle: Option<u64>,
    /// Handle of the rule to insert after (append) or before (insert).
    pub position: Option<u64>,
    /// The expressions, evaluated in order.
    pub exprs: Vec<Expr>,
    /// iptables-nft compatibility information.
    pub compat: Option<RuleCompat>,
    /// User data (TLVs; nft stores the comment here).
    pub userdata: Option<Vec<u8>>,
    /// Transaction id, to refer to this rule within one batch.
    pub id: Option<u32>,
    /// Transaction id of the rule to position against.
    pub position_id: Option<u32>,
    /// Transaction id of the chain (instead of its name).
    pub chain_id: Option<u32>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
    /// The order the attributes arrived in (encoding metadata).
    #[serde(skip)]
    pub order: AttrOrder,
    /// The first misuse the high-level builder ([`super::builder`]) met
    /// while building this rule. A rule carrying one refuses to encode
    /// ([`Rule::emit`] returns [`Error::Invalid`]), so it never reaches the
    /// kernel half-built. Never set by decoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_error: Option<BuildError>,
}

impl Rule {
    /// An empty rule for `table`/`chain`.
    pub fn new(family: Family, table: impl Into<String>, chain: impl Into<String>) -> Self {
        Rule {
            family,
            table: table.into(),
            chain: chain.into(),
            handle: None,
            position: None,
            exprs: Vec::new(),
            compat: None,
            userdata: None,
            id: None,
            position_id: None,
            chain_id: None,
            unknown: Vec::new(),
            order: AttrOrder::default(),
            build_error: None,
        }
    }

    /// Appends an expression.
    pub fn push(mut self, e: impl Into<Expr>) -> Self {
        self.reserve_exprs();
        self.exprs.push(e.into());
        self
    }

    /// Gives a rule being built room for [`EXPRS_RESERVE`] expressions at
    /// its first one: one allocation instead of growing 4 → 8 (decoded
    /// rules are sized by what they hold instead).
    pub(crate) fn reserve_exprs(&mut self) {
        if self.exprs.capacity() == 0 {
            self.exprs.reserve_exact(EXPRS_RESERVE);
        }
    }

    /// Appends a `counter`.
    pub fn counter(self) -> Self {
        self.push(Counter::new())
    }

    /// Ends the rule with a verdict.
    pub fn verdict(self, v: Verdict) -> Self {
        self.push(Immediate::verdict(v))
    }

    /// `accept`.
    pub fn accept(self) -> Self {
        self.verdict(Verdict::Accept)
    }

    /// `drop`.
    pub fn drop(self) -> Self {
        self.verdict(Verdict::Drop)
    }

    /// `jump CHAIN`.
    pub fn jump(self, chain: &str) -> Self {
        self.verdict(Verdict::Jump(chain.into()))
    }

    /// `goto CHAIN`.
    pub fn goto(self, chain: &str) -> Self {
        self.verdict(Verdict::Goto(chain.into()))
    }

    /// `return`.
    pub fn ret(self) -> Self {
        self.verdict(Verdict::Return)
    }

    /// Sets the comment, stored as nft stores it (user-data TLV type 0,
    /// NUL-terminated). A comment longer than [`MAX_COMMENT_BYTES`] is
    /// recorded as the rule's [`BuildError`] (the rule then refuses to
    /// encode) and the rule keeps no comment.
    pub fn comment(mut self, text: &str) -> Self {
        if text.len() > MAX_COMMENT_BYTES {
            let detail = format!(
                "{} bytes, over nft's {MAX_COMMENT_BYTES}-byte limit for rule comments (rule in {} {} {})",
                text.len(),
                self.family,
                self.table,
                self.chain
            );
            return self.fail(BuildError::invalid("comment", detail));
        }
        let mut tlv = Vec::new();
        let mut v = text.as_bytes().to_vec();
        v.push(0);
        tlv.push(UDATA_RULE_COMMENT);
        tlv.push(v.len() as u8);
        tlv.extend_from_slice(&v);
        self.userdata = Some(tlv);
        self
    }

    /// The comment, if the user data carries one.
    pub fn comment_text(&self) -> Option<String> {
        self.userdata
            .as_deref()
            .and_then(|u| udata_string(u, UDATA_RULE_COMMENT))
    }

    /// Decodes a rule message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut r = Rule::new(family, "", "");
        let (mut table, mut chain) = (None, None);
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_RULE_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_RULE_CHAIN => chain = Some(a.strz()?.to_string()),
                NFTA_RULE_HANDLE => r.handle = Some(a.be64()?),
                NFTA_RULE_POSITION => r.position = Some(a.be64()?),
                NFTA_RULE_EXPRESSIONS => r.exprs = expr::decode_list(a.payload)?,
                NFTA_RULE_COMPAT => {
                    let (mut proto, mut flags) = (0, 0);
                    for c in a.nested() {
                        let c = c?;
                        match c.kind() {
                            NFTA_RULE_COMPAT_PROTO => proto = c.be32()?,
                            NFTA_RULE_COMPAT_FLAGS => flags = c.be32()?,
                            k => return Err(super::data::unknown("rule compat", k)),
                        }
                    }
                    r.compat = Some(RuleCompat { proto, flags });
                }
                NFTA_RULE_USERDATA => r.userdata = Some(a.payload.to_vec()),
                NFTA_RULE_ID => r.id = Some(a.be32()?),
                NFTA_RULE_POSITION_ID => r.position_id = Some(a.be32()?),
                NFTA_RULE_CHAIN_ID => r.chain_id = Some(a.be32()?),
                _ => {
                    r.unknown.push(RawAttr::keep(&a));
                    r.order.push(UNKNOWN);
                    continue;
                }
            }
            r.order.push(a.kind());
        }
        r.table = table.ok_or_else(|| super::data::missing("rule", "table"))?;
        r.chain = chain.unwrap_or_default();
        Ok(r)
    }

    /// Writes the attributes: in the order they were decoded in, or the
    /// kernel's dump order for rules built in code.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        if let Some(e) = &self.build_error {
            return Err(Error::Invalid {
                what: "rule",
                detail: e.to_string(),
            });
        }
        const ORDER: &[u16] = &[
            NFTA_RULE_TABLE,
            NFTA_RULE_CHAIN,
            NFTA_RULE_HANDLE,
            NFTA_RULE_POSITION,
            NFTA_RULE_EXPRESSIONS,
            NFTA_RULE_COMPAT,
            NFTA_RULE_USERDATA,
            NFTA_RULE_ID,
            NFTA_RULE_POSITION_ID,
            NFTA_RULE_CHAIN_ID,
        ];
        self.order.emit(ORDER, &self.unknown, w, |k, w| match k {
            NFTA_RULE_TABLE => w.put_strz(k, &self.table),
            // A rule addressed by chain id alone carries no chain name.
            NFTA_RULE_CHAIN if self.chain_id.is_none() || !self.chain.is_empty() => {
                w.put_strz(k, &self.chain)
            }
            NFTA_RULE_HANDLE => self.handle.map_or(Ok(()), |v| w.put_be64(k, v)),
            NFTA_RULE_POSITION => self.position.map_or(Ok(()), |v| w.put_be64(k, v)),
            NFTA_RULE_EXPRESSIONS if !self.exprs.is_empty() => {
                w.nested(k, |w| expr::encode_list(&self.exprs, w))
            }
            NFTA_RULE_COMPAT => match self.compat {
                None => Ok(()),
                Some(c) => w.nested(k, |w| {
                    w.put_be32(NFTA_RULE_COMPAT_PROTO, c.proto)?;
                    w.put_be32(NFTA_RULE_COMPAT_FLAGS, c.flags)
                }),
            },
            NFTA_RULE_USERDATA => self.userdata.as_ref().map_or(Ok(()), |v| w.put(k, v)),
            NFTA_RULE_ID => self.id.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_RULE_POSITION_ID => self.position_id.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_RULE_CHAIN_ID => self.chain_id.map_or(Ok(()), |v| w.put_be32(k, v)),
            _ => Ok(()),
        })
    }
}

/// Finds TLV `kind` in nft user data (`u8 type, u8 len, value`) and returns
/// it as a string without its trailing NUL.
pub fn udata_string(udata: &[u8], kind: u8) -> Option<String> {
    let mut rest = udata;
    while rest.len() >= 2 {
        let (t, l) = (rest[0], rest[1] as usize);
        let v = rest.get(2..2 + l)?;
        if t == kind {
            let v = v.strip_suffix(&[0]).unwrap_or(v);
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        rest = &rest[2 + l..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_is_stored_as_nft_stores_it() {
        let r = Rule::new(Family::Inet, "t", "c").accept().comment("hi");
        assert_eq!(r.userdata.as_deref(), Some(&[0u8, 3, b'h', b'i', 0][..]));
        assert_eq!(r.comment_text().as_deref(), Some("hi"));
    }

    #[test]
    fn overlong_comment_is_an_error_not_a_truncation() {
        let longest = "c".repeat(MAX_COMMENT_BYTES);
        let r = Rule::new(Family::Inet, "t", "c").accept().comment(&longest);
        assert!(r.build_error().is_none());
        assert_eq!(r.comment_text().as_deref(), Some(longest.as_str()));

        let r = Rule::new(Family::Inet, "filter", "input")
            .accept()
            .comment(&format!("{longest}x"));
        assert_eq!(r.comment_text(), None);
        let err = r.clone().checked().unwrap_err().to_string();
        assert!(err.contains("129 bytes"), "{err}");
        assert!(err.contains("128-byte limit"), "{err}");
        assert!(err.contains("inet filter input"), "{err}");
        let mut buf = Vec::new();
        assert!(r.emit(&mut AttrWriter::new(&mut buf)).is_err());
    }

    #[test]
    fn rule_roundtrips() {
        let r = Rule::new(Family::Inet, "t", "c")
            .counter()
            .accept()
            .comment("x");
        let mut buf = Vec::new();
        r.emit(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = Rule::parse(Family::Inet, &buf).unwrap();
        assert_eq!(back, r);
        let mut again = Vec::new();
        back.emit(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
    }

    #[test]
    fn udata_parser_is_bounded() {
        assert_eq!(udata_string(&[0, 200, 1], 0), None);
        assert_eq!(
            udata_string(&[1, 1, 0, 0, 2, b'a', 0], 0).as_deref(),
            Some("a")
        );
    }
}
