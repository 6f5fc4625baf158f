//! Tables (`NFT_MSG_NEWTABLE`).

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, UNKNOWN};
use super::consts::*;
use super::{Family, RawAttr};
use crate::error::Result;
use crate::netlink::{AttrIter, AttrWriter};

bitflags! {
    /// Table flags (`enum nft_table_flags`). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub struct TableFlags: u32 {
        /// The table's base chains are not registered (`dormant`).
        const DORMANT = 0x1;
        /// Owned by the netlink socket that created it (Linux ≥ 5.12): others
        /// get EPERM, and the table goes away with the socket.
        const OWNER = 0x2;
        /// With OWNER: the table outlives its owner (newer kernels).
        const PERSIST = 0x4;
        const _ = !0;
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Table {
    /// Family.
    pub family: Family,
    /// Name.
    pub name: String,
    /// Flags; `None` leaves them unset in a request.
    pub flags: Option<TableFlags>,
    /// Number of chains (kernel-reported).
    pub use_count: Option<u32>,
    /// Handle (kernel-assigned).
    pub handle: Option<u64>,
    /// User data (nft stores a comment TLV here).
    pub userdata: Option<Vec<u8>>,
    /// Port id of the owning socket (with OWNER).
    pub owner: Option<u32>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
    /// The order the attributes arrived in (encoding metadata).
    #[serde(skip)]
    pub order: AttrOrder,
}

impl Table {
    /// A table to create.
    pub fn new(family: Family, name: impl Into<String>) -> Self {
        Table {
            family,
            name: name.into(),
            flags: None,
            use_count: None,
            handle: None,
            userdata: None,
            owner: None,
            unknown: Vec::new(),
            order: AttrOrder::default(),
        }
    }

    /// Sets flags.
    pub fn with_flags(mut self, flags: TableFlags) -> Self {
        self.flags = Some(flags);
        self
    }

    /// The comment nft stores in the user data, if any.
    pub fn comment(&self) -> Option<String> {
        self.userdata
            .as_deref()
            .and_then(|u| super::rule::udata_string(u, 0))
    }

    /// Decodes a table message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut t = Table::new(family, "");
        let mut name = None;
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_TABLE_NAME => name = Some(a.strz()?.to_string()),
                NFTA_TABLE_FLAGS => t.flags = Some(TableFlags::from_bits_retain(a.be32()?)),
                NFTA_TABLE_USE => t.use_count = Some(a.be32()?),
                NFTA_TABLE_HANDLE => t.handle = Some(a.be64()?),
                NFTA_TABLE_USERDATA => t.userdata = Some(a.payload.to_vec()),
                NFTA_TABLE_OWNER => t.owner = Some(a.be32()?),
                _ => {
                    t.unknown.push(RawAttr::keep(&a));
                    t.order.push(UNKNOWN);
                    continue;
                }
            }
            t.order.push(a.kind());
        }
        t.name = name.ok_or_else(|| super::data::missing("table", "name"))?;
        Ok(t)
    }

    /// Writes the attributes: in the order they were decoded in, or the
    /// current kernel's dump order for tables built in code.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        // Kernel 6.18 order: FLAGS comes after USE and HANDLE.
        const ORDER: &[u16] = &[
            NFTA_TABLE_NAME,
            NFTA_TABLE_USE,
            NFTA_TABLE_HANDLE,
            NFTA_TABLE_FLAGS,
            NFTA_TABLE_USERDATA,
            NFTA_TABLE_OWNER,
        ];
        self.order.emit(ORDER, &self.unknown, w, |k, w| match k {
            NFTA_TABLE_NAME => w.put_strz(k, &self.name),
            NFTA_TABLE_USE => self.use_count.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_TABLE_HANDLE => self.handle.map_or(Ok(()), |v| w.put_be64(k, v)),
            NFTA_TABLE_FLAGS => self.flags.map_or(Ok(()), |v| w.put_be32(k, v.bits())),
            NFTA_TABLE_USERDATA => self.userdata.as_ref().map_or(Ok(()), |v| w.put(k, v)),
            NFTA_TABLE_OWNER => self.owner.map_or(Ok(()), |v| w.put_be32(k, v)),
            _ => Ok(()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(t: &Table) -> Vec<u8> {
        let mut b = Vec::new();
        t.emit(&mut AttrWriter::new(&mut b)).unwrap();
        b
    }

    #[test]
    fn replays_the_order_of_an_older_kernel() {
        // Kernels before 6.x dump FLAGS right after NAME; 6.18 after HANDLE.
        let mut old = Vec::new();
        let mut w = AttrWriter::new(&mut old);
        w.put_strz(NFTA_TABLE_NAME, "filter").unwrap();
        w.put_be32(NFTA_TABLE_FLAGS, 0).unwrap();
        w.put_be32(NFTA_TABLE_USE, 3).unwrap();
        w.put_be64(NFTA_TABLE_HANDLE, 7).unwrap();
        w.put_be32(99, 1).unwrap(); // an attribute from the future
        let t = Table::parse(Family::Ipv4, &old).unwrap();
        assert_eq!(emit(&t), old);
        assert_eq!(t.unknown.len(), 1);

        // Built in code: the current kernel's order.
        let mut fresh = Table::new(Family::Ipv4, "filter").with_flags(TableFlags::empty());
        fresh.use_count = Some(3);
        fresh.handle = Some(7);
        let b = emit(&fresh);
        let back = Table::parse(Family::Ipv4, &b).unwrap();
        assert_eq!(
            back, fresh,
            "attribute order does not take part in equality"
        );
        assert_ne!(b, old[..b.len()]);
    }
}
