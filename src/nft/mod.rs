//! Typed nf_tables objects and expressions: netlink encode/decode and
//! rendering as nft text.

pub mod attr_order;
pub mod builder;
pub mod chain;
pub mod consts;
pub mod data;
pub mod expr;
pub mod family;
pub mod flowtable;
pub mod object;
pub mod render;
pub mod rule;
pub mod ruleset;
pub mod set;
pub mod set_element;
pub mod table;

pub use chain::{Chain, ChainPolicy, ChainType, Hook};
pub use data::{Data, Verdict};
pub use expr::Expr;
pub use family::Family;
pub use flowtable::{Flowtable, FlowtableFlags, FlowtableHook};
pub use object::{Object, ObjectData};
pub use rule::{Rule, RuleCompat};
pub use ruleset::Ruleset;
pub use set::{Set, SetDesc, SetFlags, SetPolicy};
pub use set_element::{ElementFlags, ElementList, SetElement};
pub use table::{Table, TableFlags};

use crate::netlink::Attr;

/// An attribute nftguard does not know, kept byte for byte (header and
/// padding included) so that re-encoding gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct RawAttr(pub Vec<u8>);

impl RawAttr {
    /// Keeps `attr` as it was received.
    pub fn keep(attr: &Attr<'_>) -> Self {
        // A last attribute may arrive without its padding; keep it padded
        // (as it will be written again) so that parsing what we emit gives
        // back the same value.
        let mut bytes = attr.bytes.to_vec();
        bytes.resize(crate::netlink::attr::align4(bytes.len()), 0);
        RawAttr(bytes)
    }
}
