//! xt `match` and `target` expressions (nft_compat), decoded into the
//! kernel's `struct xt_*` layouts.
//!
//! iptables-nft writes every extension it cannot express natively as an
//! nf_tables `match` or `target` expression: `NFTA_EXPR_DATA` holds
//! `NFTA_MATCH_NAME` (1, string), `NFTA_MATCH_REV` (2, be32) and
//! `NFTA_MATCH_INFO` (3, the extension's C struct in host layout, padded to
//! `XT_ALIGN` = 8); targets use the same numbers. The engine keeps these
//! expressions as [`Opaque`]; [`XtExpr`] is the typed view.
//!
//! Decoding is lossless by construction: [`XtInfo::decode`] keeps a typed
//! form only if encoding it again reproduces the blob byte for byte
//! (padding included), else it keeps [`XtInfo::Unknown`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::netlink::{AttrIter, AttrWriter};
use crate::nft::consts::{NFTA_EXPR_DATA, NFTA_EXPR_NAME};
use crate::nft::expr::Opaque;
use crate::nft::{Expr, Family};

pub mod addrtype;
pub mod comment;
pub mod connmark;
pub mod conntrack;
pub mod ct;
pub mod hashlimit;
pub mod icmp;
pub mod iprange;
pub mod layout;
pub mod limit;
pub mod log;
pub mod mark;
pub mod mark_target;
pub mod multiport;
pub mod nat;
pub mod nflog;
pub mod owner;
pub mod pkttype;
pub mod recent;
pub mod reject;
pub mod set;
pub mod state;
pub mod tcp;
pub mod tcpmss;
pub mod udp;

pub use addrtype::Addrtype;
pub use comment::Comment;
pub use connmark::ConnmarkMatch;
pub use conntrack::Conntrack;
pub use ct::CtTarget;
pub use hashlimit::Hashlimit;
pub use icmp::Icmp;
pub use iprange::Iprange;
pub use limit::Limit;
pub use log::LogTarget;
pub use mark::MarkMatch;
pub use mark_target::MarkTarget;
pub use multiport::Multiport;
pub use nat::{NatLayout, NatRange};
pub use nflog::Nflog;
pub use owner::Owner;
pub use pkttype::Pkttype;
pub use recent::Recent;
pub use reject::Reject;
pub use set::SetMatch;
pub use state::State;
pub use tcp::Tcp;
pub use tcpmss::Tcpmss;
pub use udp::Udp;

use layout::Reader;

/// `NFTA_MATCH_NAME` / `NFTA_TARGET_NAME`.
pub const NFTA_XT_NAME: u16 = 1;
/// `NFTA_MATCH_REV` / `NFTA_TARGET_REV`.
pub const NFTA_XT_REV: u16 = 2;
/// `NFTA_MATCH_INFO` / `NFTA_TARGET_INFO`.
pub const NFTA_XT_INFO: u16 = 3;

/// Whether the expression is an xt match or target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XtKind {
    /// `match` (nft_compat match).
    Match,
    /// `target` (nft_compat target).
    Target,
}

impl XtKind {
    /// The nf_tables expression name.
    pub fn expr_name(self) -> &'static str {
        match self {
            XtKind::Match => "match",
            XtKind::Target => "target",
        }
    }
}

/// The typed content of an xt `info` blob.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XtInfo {
    /// `comment` match.
    Comment(Comment),
    /// `conntrack` match (revisions 1–3; also `-m state` in iptables ≥ 1.8).
    Conntrack(Conntrack),
    /// `state` match (revision 0).
    State(State),
    /// `tcp` match.
    Tcp(Tcp),
    /// `udp` match.
    Udp(Udp),
    /// `icmp` match (IPv4).
    Icmp(Icmp),
    /// `icmp6` match (IPv6).
    Icmp6(Icmp),
    /// `multiport` match.
    Multiport(Multiport),
    /// `limit` match.
    Limit(Limit),
    /// `hashlimit` match.
    Hashlimit(Hashlimit),
    /// `recent` match.
    Recent(Recent),
    /// `addrtype` match.
    Addrtype(Addrtype),
    /// `mark` match.
    Mark(MarkMatch),
    /// `connmark` match.
    Connmark(ConnmarkMatch),
    /// `set` match (ipset).
    Set(SetMatch),
    /// `owner` match.
    Owner(Owner),
    /// `pkttype` match.
    Pkttype(Pkttype),
    /// `iprange` match.
    Iprange(Iprange),
    /// `LOG` target.
    Log(LogTarget),
    /// `REJECT` target (IPv4 or IPv6 variant).
    Reject(Reject),
    /// `MASQUERADE` target.
    Masquerade(NatRange),
    /// `SNAT` target.
    Snat(NatRange),
    /// `DNAT` target.
    Dnat(NatRange),
    /// `REDIRECT` target.
    Redirect(NatRange),
    /// `MARK` target (revision 2).
    MarkTarget(MarkTarget),
    /// `CT` target.
    Ct(CtTarget),
    /// `TCPMSS` target.
    Tcpmss(Tcpmss),
    /// `NFLOG` target.
    Nflog(Nflog),
    /// Any other extension, revision or layout: the blob as received.
    Unknown(Vec<u8>),
}

impl XtInfo {
    /// Decodes `info` of extension `name` revision `rev` in a table of
    /// `family`. Never fails: what is not understood (or would not
    /// re-encode to the same bytes) is [`XtInfo::Unknown`].
    pub fn decode(kind: XtKind, name: &str, rev: u32, family: Family, info: &[u8]) -> XtInfo {
        let r = Reader::new(info);
        let v6 = family == Family::Ipv6;
        let typed = match (kind, name, rev) {
            (XtKind::Match, "comment", 0) => Comment::parse(r).map(XtInfo::Comment),
            (XtKind::Match, "conntrack", 1..=3) => Conntrack::parse(r, rev).map(XtInfo::Conntrack),
            (XtKind::Match, "state", 0) => State::parse(r).map(XtInfo::State),
            (XtKind::Match, "tcp", 0) => Tcp::parse(r).map(XtInfo::Tcp),
            (XtKind::Match, "udp", 0) => Udp::parse(r).map(XtInfo::Udp),
            (XtKind::Match, "icmp", 0) => Icmp::parse(r).map(XtInfo::Icmp),
            (XtKind::Match, "icmp6", 0) => Icmp::parse(r).map(XtInfo::Icmp6),
            (XtKind::Match, "multiport", 0 | 1) => Multiport::parse(r, rev).map(XtInfo::Multiport),
            (XtKind::Match, "limit", 0) => Limit::parse(r).map(XtInfo::Limit),
            (XtKind::Match, "hashlimit", 1..=3) => Hashlimit::parse(r, rev).map(XtInfo::Hashlimit),
            (XtKind::Match, "recent", 0 | 1) => Recent::parse(r, rev).map(XtInfo::Recent),
            (XtKind::Match, "addrtype", 1) => Addrtype::parse(r).map(XtInfo::Addrtype),
            (XtKind::Match, "mark", 1) => MarkMatch::parse(r).map(XtInfo::Mark),
            (XtKind::Match, "connmark", 1) => ConnmarkMatch::parse(r).map(XtInfo::Connmark),
            (XtKind::Match, "set", 1..=4) => SetMatch::parse(r, rev).map(XtInfo::Set),
            (XtKind::Match, "owner", 1) => Owner::parse(r).map(XtInfo::Owner),
            (XtKind::Match, "pkttype", 0) => Pkttype::parse(r).map(XtInfo::Pkttype),
            (XtKind::Match, "iprange", 1) => Iprange::parse(r).map(XtInfo::Iprange),
            (XtKind::Target, "LOG", 0) => LogTarget::parse(r).map(XtInfo::Log),
            (XtKind::Target, "REJECT", 0) => Reject::parse(r, v6).map(XtInfo::Reject),
            (XtKind::Target, "MASQUERADE", 0) => NatRange::parse(r).map(XtInfo::Masquerade),
            (XtKind::Target, "SNAT", 0..=2) => NatRange::parse(r).map(XtInfo::Snat),
            (XtKind::Target, "DNAT", 0..=2) => NatRange::parse(r).map(XtInfo::Dnat),
            (XtKind::Target, "REDIRECT", 0) => NatRange::parse(r).map(XtInfo::Redirect),
            (XtKind::Target, "MARK", 2) => MarkTarget::parse(r).map(XtInfo::MarkTarget),
            (XtKind::Target, "CT", 0..=2) => CtTarget::parse(r, rev).map(XtInfo::Ct),
            (XtKind::Target, "TCPMSS", 0) => Tcpmss::parse(r).map(XtInfo::Tcpmss),
            (XtKind::Target, "NFLOG", 0) => Nflog::parse(r).map(XtInfo::Nflog),
            _ => None,
        };
        match typed {
            Some(t) if t.encode() == info => t,
            _ => XtInfo::Unknown(info.to_vec()),
        }
    }

    /// The blob, in the kernel's layout for the variant's revision.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            XtInfo::Comment(x) => x.emit(),
            XtInfo::Conntrack(x) => x.emit(),
            XtInfo::State(x) => x.emit(),
            XtInfo::Tcp(x) => x.emit(),
            XtInfo::Udp(x) => x.emit(),
            XtInfo::Icmp(x) | XtInfo::Icmp6(x) => x.emit(),
            XtInfo::Multiport(x) => x.emit(),
            XtInfo::Limit(x) => x.emit(),
            XtInfo::Hashlimit(x) => x.emit(),
            XtInfo::Recent(x) => x.emit(),
            XtInfo::Addrtype(x) => x.emit(),
            XtInfo::Mark(x) => x.emit(),
            XtInfo::Connmark(x) => x.emit(),
            XtInfo::Set(x) => x.emit(),
            XtInfo::Owner(x) => x.emit(),
            XtInfo::Pkttype(x) => x.emit(),
            XtInfo::Iprange(x) => x.emit(),
            XtInfo::Log(x) => x.emit(),
            XtInfo::Reject(x) => x.emit(),
            XtInfo::Masquerade(x) | XtInfo::Snat(x) | XtInfo::Dnat(x) | XtInfo::Redirect(x) => {
                x.emit()
            }
            XtInfo::MarkTarget(x) => x.emit(),
            XtInfo::Ct(x) => x.emit(),
            XtInfo::Tcpmss(x) => x.emit(),
            XtInfo::Nflog(x) => x.emit(),
            XtInfo::Unknown(b) => b.clone(),
        }
    }

    /// Whether this is a typed decoding.
    pub fn is_typed(&self) -> bool {
        !matches!(self, XtInfo::Unknown(_))
    }
}

/// What an extension's save text may need from outside the blob.
pub trait SaveContext {
    /// The table's family.
    fn family(&self) -> Family;
    /// The name of the ipset with kernel index `index`.
    fn set_name(&self, index: u16) -> Result<String>;
}

/// A typed xt match or target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct XtExpr {
    /// Match or target.
    pub kind: XtKind,
    /// Extension name (`conntrack`, `REJECT`, …).
    pub name: String,
    /// Extension revision.
    pub rev: u32,
    /// The decoded `info` blob.
    pub info: XtInfo,
}

impl XtExpr {
    /// The typed view of `expr` if it is an xt `match`/`target`: `None`
    /// for any other expression, an error when its attributes are not
    /// shaped as nft_compat dumps them (name, revision, info, in that
    /// order).
    pub fn from_expr(expr: &Expr, family: Family) -> Option<Result<XtExpr>> {
        let Expr::Opaque(o) = expr else {
            return None;
        };
        let kind = match o.name.as_str() {
            "match" => XtKind::Match,
            "target" => XtKind::Target,
            _ => return None,
        };
        Some(Self::parse_opaque(kind, o, family))
    }

    fn parse_opaque(kind: XtKind, o: &Opaque, family: Family) -> Result<XtExpr> {
        let data = o.data().ok_or_else(|| malformed("no NFTA_EXPR_DATA"))?;
        let (mut name, mut rev, mut info) = (None, None, None);
        for a in AttrIter::new(data) {
            let a = a?;
            match a.kind() {
                NFTA_XT_NAME => name = Some(a.strz()?.to_string()),
                NFTA_XT_REV => rev = Some(a.be32()?),
                NFTA_XT_INFO => info = Some(a.payload),
                k => return Err(malformed(&format!("unknown attribute {k}"))),
            }
        }
        let name = name.ok_or_else(|| malformed("no extension name"))?;
        let rev = rev.ok_or_else(|| malformed("no revision"))?;
        let info = info.unwrap_or_default();
        let x = XtExpr {
            kind,
            info: XtInfo::decode(kind, &name, rev, family, info),
            name,
            rev,
        };
        // The typed view must stand for exactly these bytes.
        if x.encode_attrs()? != o.bytes {
            return Err(malformed(
                "attributes are not in nft_compat's dump order; keep the expression opaque",
            ));
        }
        Ok(x)
    }

    /// The attributes of the list element (`NFTA_EXPR_NAME`,
    /// `NFTA_EXPR_DATA`), as the kernel dumps them.
    pub fn encode_attrs(&self) -> Result<Vec<u8>> {
        let info = self.info.encode();
        let mut buf = Vec::with_capacity(32 + self.name.len() + info.len());
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(NFTA_EXPR_NAME, self.kind.expr_name())?;
        w.nested(NFTA_EXPR_DATA, |w| {
            w.put_strz(NFTA_XT_NAME, &self.name)?;
            w.put_be32(NFTA_XT_REV, self.rev)?;
            w.put(NFTA_XT_INFO, &info)
        })?;
        Ok(buf)
    }

    /// The engine's form: an [`Expr::Opaque`] carrying exactly the bytes
    /// nft_compat dumps.
    pub fn to_expr(&self) -> Result<Expr> {
        Ok(Expr::Opaque(Opaque {
            name: self.kind.expr_name().to_string(),
            bytes: self.encode_attrs()?,
        }))
    }

    /// The name `iptables-save` prints after `-m`/`-j` (aliases: `state`
    /// for conntrack written by `-m state`, `NOTRACK` for CT's alias).
    pub fn save_name(&self) -> &str {
        match &self.info {
            XtInfo::Conntrack(c) => c.save_name(),
            XtInfo::Ct(c) => c.save_name(),
            _ => &self.name,
        }
    }

    /// The options `iptables-save` prints after the name, with their
    /// leading space. Fails for extensions iptables-nft would not know
    /// either ([`XtInfo::Unknown`]).
    pub fn save(&self, ctx: &dyn SaveContext) -> Result<String> {
        let v6 = ctx.family() == Family::Ipv6;
        Ok(match &self.info {
            XtInfo::Comment(x) => x.save(),
            XtInfo::Conntrack(x) => x.save(v6),
            XtInfo::State(x) => x.save(),
            XtInfo::Tcp(x) => x.save(),
            XtInfo::Udp(x) => x.save(),
            XtInfo::Icmp(x) => x.save(false),
            XtInfo::Icmp6(x) => x.save(true),
            XtInfo::Multiport(x) => x.save(),
            XtInfo::Limit(x) => x.save(),
            XtInfo::Hashlimit(x) => x.save(v6),
            XtInfo::Recent(x) => x.save(v6),
            XtInfo::Addrtype(x) => x.save(),
            XtInfo::Mark(x) => x.save(),
            XtInfo::Connmark(x) => x.save(),
            XtInfo::Set(x) => x.save(&ctx.set_name(x.index)?),
            XtInfo::Owner(x) => x.save(),
            XtInfo::Pkttype(x) => x.save(),
            XtInfo::Iprange(x) => x.save(v6),
            XtInfo::Log(x) => x.save(),
            XtInfo::Reject(x) => x.save(),
            XtInfo::Masquerade(x) => x.save_masquerade(v6),
            XtInfo::Snat(x) => x.save_snat(v6),
            XtInfo::Dnat(x) => x.save_dnat(v6),
            XtInfo::Redirect(x) => x.save_redirect(v6),
            XtInfo::MarkTarget(x) => x.save(),
            XtInfo::Ct(x) => x.save(),
            XtInfo::Tcpmss(x) => x.save(),
            XtInfo::Nflog(x) => x.save(),
            XtInfo::Unknown(_) => {
                return Err(Error::Invalid {
                    what: "iptables-save rendering",
                    detail: format!(
                        "{} extension {} revision {} is not one nftguard can print",
                        self.kind.expr_name(),
                        self.name,
                        self.rev
                    ),
                })
            }
        })
    }
}

fn malformed(detail: &str) -> Error {
    Error::Malformed {
        what: "xt match/target expression",
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(kind: XtKind, name: &str, rev: u32, family: Family, info: XtInfo) -> Vec<u8> {
        let bytes = info.encode();
        assert_eq!(bytes.len() % 8, 0, "{name}: not padded to XT_ALIGN");
        let back = XtInfo::decode(kind, name, rev, family, &bytes);
        assert_eq!(back, info, "{name} rev {rev}");
        bytes
    }

    #[test]
    fn sizes_match_the_kernel_structs() {
        // Sizes from `XT_ALIGN(sizeof(struct …))` on x86_64.
        let m = XtKind::Match;
        let v4 = Family::Ipv4;
        let mut c = Conntrack::new();
        for (rev, size) in [(1, 152), (2, 160), (3, 168)] {
            c.rev = rev;
            assert_eq!(
                roundtrip(m, "conntrack", rev, v4, XtInfo::Conntrack(c.clone())).len(),
                size
            );
        }
        let mp = Multiport {
            rev: 0,
            flags: multiport::DESTINATION,
            count: 2,
            ports: [80, 443, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            pflags: [0; 15],
            invert: 0,
        };
        assert_eq!(
            roundtrip(m, "multiport", 0, v4, XtInfo::Multiport(mp.clone())).len(),
            32
        );
        assert_eq!(mp.save(), " --dports 80,443");
        let a = Addrtype {
            source: 0,
            dest: 1 << 2,
            flags: addrtype::INVERT_DEST,
        };
        assert_eq!(
            roundtrip(m, "addrtype", 1, v4, XtInfo::Addrtype(a.clone())).len(),
            8
        );
        assert_eq!(a.save(), " ! --dst-type LOCAL");
        let ct = CtTarget {
            rev: 0,
            flags: ct::NOTRACK_ALIAS | ct::NOTRACK,
            zone: 0,
            ct_events: 0,
            exp_events: 0,
            helper: "ftp".into(),
            timeout: String::new(),
        };
        assert_eq!(
            roundtrip(XtKind::Target, "CT", 0, v4, XtInfo::Ct(ct.clone())).len(),
            40
        );
        assert_eq!(ct.save_name(), "NOTRACK");
        assert_eq!(ct.save(), "");
        let r = Reject {
            ipv6: true,
            with: 1,
        };
        assert_eq!(
            roundtrip(
                XtKind::Target,
                "REJECT",
                0,
                Family::Ipv6,
                XtInfo::Reject(r.clone())
            )
            .len(),
            8
        );
        assert_eq!(r.save(), " --reject-with icmp6-adm-prohibited");
    }

    #[test]
    fn comment_bytes() {
        let b = Comment {
            comment: "hi".into(),
        }
        .emit();
        assert_eq!(b.len(), 256);
        assert_eq!(&b[..3], b"hi\0");
        assert!(b[3..].iter().all(|&x| x == 0));
    }

    #[test]
    fn typed_view_reencodes_the_opaque_bytes() {
        let x = XtExpr {
            kind: XtKind::Match,
            name: "comment".into(),
            rev: 0,
            info: XtInfo::Comment(Comment {
                comment: "x".into(),
            }),
        };
        let e = x.to_expr().unwrap();
        assert_eq!(XtExpr::from_expr(&e, Family::Ipv4).unwrap().unwrap(), x);
        assert!(XtExpr::from_expr(&Expr::Counter(Default::default()), Family::Ipv4).is_none());
    }
}
