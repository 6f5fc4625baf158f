//! Expressions kept byte for byte: xt `match`/`target` (iptables-nft), kinds
//! nftguard does not type, and typed kinds carrying attributes it does not
//! know. They are re-emitted exactly as received.

use serde::{Deserialize, Serialize};

use crate::netlink::AttrIter;
use crate::nft::consts::NFTA_EXPR_DATA;

/// An expression kept as the attributes of its list element.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Opaque {
    /// The kernel's expression name (`match`, `target`, `objref`, …).
    pub name: String,
    /// The attributes inside the `NFTA_LIST_ELEM`, header and padding
    /// included, exactly as received.
    pub bytes: Vec<u8>,
}

impl Opaque {
    /// The content of `NFTA_EXPR_DATA`, if well-framed and present.
    pub fn data(&self) -> Option<&[u8]> {
        AttrIter::new(&self.bytes)
            .filter_map(|a| a.ok())
            .find(|a| a.kind() == NFTA_EXPR_DATA)
            .map(|a| a.payload)
    }
}

#[cfg(test)]
mod tests {
    use crate::netlink::AttrWriter;
    use crate::nft::Expr;

    #[test]
    fn unknown_kind_is_kept_byte_for_byte() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(1, "frobnicate").unwrap();
        w.nested(2, |w| w.put_be32(9, 42)).unwrap();
        let e = Expr::decode(&buf).unwrap();
        assert!(!e.is_typed());
        assert_eq!(e.name(), "frobnicate");
        let mut again = Vec::new();
        e.encode(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
    }

    #[test]
    fn typed_kind_with_unknown_attribute_is_kept() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(1, "counter").unwrap();
        w.nested(2, |w| {
            w.put_be64(1, 0)?;
            w.put_be64(2, 0)?;
            w.put_be32(77, 1)
        })
        .unwrap();
        let e = Expr::decode(&buf).unwrap();
        assert!(!e.is_typed());
        let mut again = Vec::new();
        e.encode(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, buf);
    }
}
