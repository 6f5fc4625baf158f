//! Flowtables (`NFT_MSG_NEWFLOWTABLE`): the fast path that `flow add @ft`
//! offloads established connections to.
//!
//! [`Flowtable::emit`] follows the kernel's dump order
//! (`nf_tables_fill_flowtable_info`, Linux 6.18): table, name, handle, use,
//! flags, then the hook nest (hook number, priority, devices).
//!
//! Kernels built without `CONFIG_NF_FLOW_TABLE` refuse to create
//! flowtables (ENOENT: no flowtable type for the family).

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

use super::{Family, RawAttr};
use crate::error::Result;
use crate::netlink::{AttrIter, AttrWriter};

/// `NFTA_FLOWTABLE_TABLE`.
pub const NFTA_FLOWTABLE_TABLE: u16 = 1;
/// `NFTA_FLOWTABLE_NAME`.
pub const NFTA_FLOWTABLE_NAME: u16 = 2;
/// `NFTA_FLOWTABLE_HOOK`.
pub const NFTA_FLOWTABLE_HOOK: u16 = 3;
/// `NFTA_FLOWTABLE_USE`.
pub const NFTA_FLOWTABLE_USE: u16 = 4;
/// `NFTA_FLOWTABLE_HANDLE`.
pub const NFTA_FLOWTABLE_HANDLE: u16 = 5;
/// `NFTA_FLOWTABLE_FLAGS`.
pub const NFTA_FLOWTABLE_FLAGS: u16 = 7;

/// `NFTA_FLOWTABLE_HOOK_NUM`.
pub const NFTA_FLOWTABLE_HOOK_NUM: u16 = 1;
/// `NFTA_FLOWTABLE_HOOK_PRIORITY`.
pub const NFTA_FLOWTABLE_HOOK_PRIORITY: u16 = 2;
/// `NFTA_FLOWTABLE_HOOK_DEVS`.
pub const NFTA_FLOWTABLE_HOOK_DEVS: u16 = 3;
/// `NFTA_DEVICE_NAME`.
pub const NFTA_DEVICE_NAME: u16 = 1;

/// The only hook a flowtable can use (`NF_NETDEV_INGRESS`).
pub const FLOWTABLE_HOOK_INGRESS: u32 = 0;

bitflags! {
    /// Flowtable flags (`enum nft_flowtable_flags`). Unknown bits are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    pub struct FlowtableFlags: u32 {
        /// Offload flows to the hardware (`flags offload`).
        const HW_OFFLOAD = 0x1;
        /// Count packets and bytes of offloaded flows (`counter`).
        const COUNTER = 0x2;
        const _ = !0;
    }
}

/// The hook of a flowtable (`NFTA_FLOWTABLE_HOOK`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FlowtableHook {
    /// Hook number (always ingress, 0).
    pub hooknum: Option<u32>,
    /// Priority.
    pub priority: Option<i32>,
    /// Devices (`devices = { eth0, eth1 }`).
    pub devices: Option<Vec<String>>,
    /// Hook attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
}

/// A flowtable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flowtable {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Flowtable name.
    pub name: String,
    /// Handle (kernel-assigned).
    pub handle: Option<u64>,
    /// Number of references from rules (kernel-reported).
    pub use_count: Option<u32>,
    /// Flags.
    pub flags: Option<FlowtableFlags>,
    /// Hook, priority and devices.
    pub hook: Option<FlowtableHook>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
}

impl Flowtable {
    /// A flowtable on the ingress hook at `priority` over `devices`.
    pub fn new(
        family: Family,
        table: impl Into<String>,
        name: impl Into<String>,
        priority: i32,
        devices: &[&str],
    ) -> Self {
        Flowtable {
            family,
            table: table.into(),
            name: name.into(),
            handle: None,
            use_count: None,
            flags: None,
            hook: Some(FlowtableHook {
                hooknum: Some(FLOWTABLE_HOOK_INGRESS),
                priority: Some(priority),
                devices: Some(devices.iter().map(|d| d.to_string()).collect()),
                unknown: Vec::new(),
            }),
            unknown: Vec::new(),
        }
    }

    /// The devices, if any.
    pub fn devices(&self) -> &[String] {
        self.hook
            .as_ref()
            .and_then(|h| h.devices.as_deref())
            .unwrap_or(&[])
    }

    /// The priority, if set.
    pub fn priority(&self) -> Option<i32> {
        self.hook.as_ref().and_then(|h| h.priority)
    }

    /// Decodes a flowtable message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut f = Flowtable::new(family, "", "", 0, &[]);
        f.hook = None;
        let (mut table, mut name) = (None, None);
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_FLOWTABLE_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_FLOWTABLE_NAME => name = Some(a.strz()?.to_string()),
                NFTA_FLOWTABLE_HANDLE => f.handle = Some(a.be64()?),
                NFTA_FLOWTABLE_USE => f.use_count = Some(a.be32()?),
                NFTA_FLOWTABLE_FLAGS => f.flags = Some(FlowtableFlags::from_bits_retain(a.be32()?)),
                NFTA_FLOWTABLE_HOOK => f.hook = Some(parse_hook(a.payload)?),
                _ => f.unknown.push(RawAttr::keep(&a)),
            }
        }
        f.table = table.ok_or_else(|| super::data::missing("flowtable", "table"))?;
        f.name = name.ok_or_else(|| super::data::missing("flowtable", "name"))?;
        Ok(f)
    }

    /// Writes the attributes in the kernel's dump order.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, false)
    }

    /// Writes the attributes of a NEWFLOWTABLE request (without the
    /// kernel-reported use count).
    pub fn emit_request(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, true)
    }

    fn emit_as(&self, w: &mut AttrWriter<'_>, request: bool) -> Result<()> {
        w.put_strz(NFTA_FLOWTABLE_TABLE, &self.table)?;
        w.put_strz(NFTA_FLOWTABLE_NAME, &self.name)?;
        if let Some(h) = self.handle {
            w.put_be64(NFTA_FLOWTABLE_HANDLE, h)?;
        }
        if !request {
            if let Some(u) = self.use_count {
                w.put_be32(NFTA_FLOWTABLE_USE, u)?;
            }
        }
        if let Some(fl) = self.flags {
            w.put_be32(NFTA_FLOWTABLE_FLAGS, fl.bits())?;
        }
        if let Some(h) = &self.hook {
            w.nested(NFTA_FLOWTABLE_HOOK, |w| {
                if let Some(n) = h.hooknum {
                    w.put_be32(NFTA_FLOWTABLE_HOOK_NUM, n)?;
                }
                if let Some(p) = h.priority {
                    w.put_be32(NFTA_FLOWTABLE_HOOK_PRIORITY, p as u32)?;
                }
                if let Some(ds) = &h.devices {
                    w.nested(NFTA_FLOWTABLE_HOOK_DEVS, |w| {
                        for d in ds {
                            w.put_strz(NFTA_DEVICE_NAME, d)?;
                        }
                        Ok(())
                    })?;
                }
                for raw in &h.unknown {
                    w.put_raw_attrs(&raw.0);
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

fn parse_hook(bytes: &[u8]) -> Result<FlowtableHook> {
    let mut h = FlowtableHook::default();
    for a in AttrIter::new(bytes) {
        let a = a?;
        match a.kind() {
            NFTA_FLOWTABLE_HOOK_NUM => h.hooknum = Some(a.be32()?),
            NFTA_FLOWTABLE_HOOK_PRIORITY => h.priority = Some(a.be32()? as i32),
            NFTA_FLOWTABLE_HOOK_DEVS => {
                let mut v = Vec::new();
                for d in a.nested() {
                    let d = d?;
                    if d.kind() != NFTA_DEVICE_NAME {
                        return Err(super::data::unknown("flowtable devices", d.kind()));
                    }
                    v.push(d.strz()?.to_string());
                }
                h.devices = Some(v);
            }
            _ => h.unknown.push(RawAttr::keep(&a)),
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flowtable_roundtrips_in_dump_order() {
        let mut f = Flowtable::new(Family::Inet, "t", "ft", -100, &["veth0", "veth1"]);
        f.handle = Some(4);
        f.use_count = Some(1);
        f.flags = Some(FlowtableFlags::COUNTER);
        let mut buf = Vec::new();
        f.emit(&mut AttrWriter::new(&mut buf)).unwrap();
        let back = Flowtable::parse(Family::Inet, &buf).unwrap();
        assert_eq!(back, f);
        let kinds: Vec<u16> = AttrIter::new(&buf).map(|a| a.unwrap().kind()).collect();
        assert_eq!(
            kinds,
            [
                NFTA_FLOWTABLE_TABLE,
                NFTA_FLOWTABLE_NAME,
                NFTA_FLOWTABLE_HANDLE,
                NFTA_FLOWTABLE_USE,
                NFTA_FLOWTABLE_FLAGS,
                NFTA_FLOWTABLE_HOOK
            ]
        );
        assert_eq!(back.devices(), ["veth0", "veth1"]);
        assert_eq!(back.priority(), Some(-100));
        let mut req = Vec::new();
        f.emit_request(&mut AttrWriter::new(&mut req)).unwrap();
        assert_eq!(
            Flowtable::parse(Family::Inet, &req).unwrap().use_count,
            None
        );
    }

    #[test]
    fn device_list_with_a_foreign_attribute_is_an_error() {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(NFTA_FLOWTABLE_TABLE, "t").unwrap();
        w.put_strz(NFTA_FLOWTABLE_NAME, "f").unwrap();
        w.nested(NFTA_FLOWTABLE_HOOK, |w| {
            w.nested(NFTA_FLOWTABLE_HOOK_DEVS, |w| w.put_be32(7, 1))
        })
        .unwrap();
        assert!(Flowtable::parse(Family::Inet, &buf).is_err());
    }
}
