//! Tables (`NFT_MSG_NEWTABLE`).

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

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
                _ => t.unknown.push(RawAttr::keep(&a)),
            }
        }
        t.name = name.ok_or_else(|| super::data::missing("table", "name"))?;
        Ok(t)
    }

    /// Writes the attributes in the kernel's dump order.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        w.put_strz(NFTA_TABLE_NAME, &self.name)?;
        if let Some(u) = self.use_count {
            w.put_be32(NFTA_TABLE_USE, u)?;
        }
        if let Some(h) = self.handle {
            w.put_be64(NFTA_TABLE_HANDLE, h)?;
        }
        // Kernels since 6.x dump FLAGS after USE and HANDLE (verified on
        // 6.18; older kernels put it right after NAME).
        if let Some(f) = self.flags {
            w.put_be32(NFTA_TABLE_FLAGS, f.bits())?;
        }
        if let Some(u) = &self.userdata {
            w.put(NFTA_TABLE_USERDATA, u)?;
        }
        if let Some(o) = self.owner {
            w.put_be32(NFTA_TABLE_OWNER, o)?;
        }
        for raw in &self.unknown {
            w.put_raw_attrs(&raw.0);
        }
        Ok(())
    }
}
