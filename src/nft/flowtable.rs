//! Flowtables (`NFT_MSG_NEWFLOWTABLE`): the fast path that `flow add @ft`
//! offloads established connections to.
//!
//! The kernel's dump order (`nf_tables_fill_flowtable_info`) differs
//! between versions: table, name, use, handle, flags, hook on 5.10 and 6.1;
//! table, name, handle, use, flags, hook on 6.12 and 6.18 (the hook nest:
//! hook number, priority, devices, on all of them). [`Flowtable::parse`]
//! records the order it saw and [`Flowtable::emit`] replays it (see
//! [`super::attr_order`]); flowtables built in code use the 6.18 order.
//!
//! Kernels built without `CONFIG_NF_FLOW_TABLE` refuse to create
//! flowtables (ENOENT: no flowtable type for the family).

use bitflags::bitflags;
use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, OrderRecorder, UNKNOWN};
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
    /// The order the attributes arrived in (encoding metadata).
    #[serde(skip)]
    pub order: AttrOrder,
}

/// The dump order of Linux 6.18, used for flowtables built in code.
const DEFAULT_ORDER: &[u16] = &[
    NFTA_FLOWTABLE_TABLE,
    NFTA_FLOWTABLE_NAME,
    NFTA_FLOWTABLE_HANDLE,
    NFTA_FLOWTABLE_USE,
    NFTA_FLOWTABLE_FLAGS,
    NFTA_FLOWTABLE_HOOK,
];

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
            order: AttrOrder::default(),
        }
    }

    /// The devices, if any.
    pub fn devices(&self) -> &[String] {
        self.hook
            .as_ref()
            .and_then(|h| h.devices.as_deref())
            .unwrap_or(&[])
    }

    /// The devices sorted by name, the order nft 1.0.6 lists them in
    /// (`qsort_device_cmp`); the kernel dumps them newest first.
    pub fn sorted_devices(&self) -> Vec<&str> {
        let mut d: Vec<&str> = self.devices().iter().map(String::as_str).collect();
        d.sort_unstable();
        d
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
        let mut order = OrderRecorder::new();
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_FLOWTABLE_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_FLOWTABLE_NAME => name = Some(a.strz()?.to_string()),
                NFTA_FLOWTABLE_HANDLE => f.handle = Some(a.be64()?),
                NFTA_FLOWTABLE_USE => f.use_count = Some(a.be32()?),
                NFTA_FLOWTABLE_FLAGS => f.flags = Some(FlowtableFlags::from_bits_retain(a.be32()?)),
                NFTA_FLOWTABLE_HOOK => f.hook = Some(parse_hook(a.payload)?),
                _ => {
                    f.unknown.push(RawAttr::keep(&a));
                    order.push(UNKNOWN);
                    continue;
                }
            }
            order.push(a.kind());
        }
        f.order = order.finish(DEFAULT_ORDER);
        f.table = table.ok_or_else(|| super::data::missing("flowtable", "table"))?;
        f.name = name.ok_or_else(|| super::data::missing("flowtable", "name"))?;
        Ok(f)
    }

    /// Writes the attributes: in the order they were decoded in, or the
    /// current kernel's dump order for flowtables built in code.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, false)
    }

    /// Writes the attributes of a NEWFLOWTABLE request (without the
    /// kernel-reported use count).
    pub fn emit_request(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        self.emit_as(w, true)
    }

    fn emit_as(&self, w: &mut AttrWriter<'_>, request: bool) -> Result<()> {
        self.order
            .emit(DEFAULT_ORDER, &self.unknown, w, |k, w| match k {
                NFTA_FLOWTABLE_TABLE => w.put_strz(k, &self.table),
                NFTA_FLOWTABLE_NAME => w.put_strz(k, &self.name),
                NFTA_FLOWTABLE_HANDLE => self.handle.map_or(Ok(()), |h| w.put_be64(k, h)),
                NFTA_FLOWTABLE_USE if !request => {
                    self.use_count.map_or(Ok(()), |u| w.put_be32(k, u))
                }
                NFTA_FLOWTABLE_FLAGS => self.flags.map_or(Ok(()), |f| w.put_be32(k, f.bits())),
                NFTA_FLOWTABLE_HOOK => self.hook.as_ref().map_or(Ok(()), |h| emit_hook(h, w)),
                _ => Ok(()),
            })
    }
}

/// The hook nest: number, priority, devices (the same order on every
/// kernel seen), then unknown attributes.
fn emit_hook(h: &FlowtableHook, w: &mut AttrWriter<'_>) -> Result<()> {
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
    })
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
    fn replays_the_order_of_older_kernels() {
        // 5.10 and 6.1 dump the use count before the handle.
        let mut f = Flowtable::new(Family::Inet, "f", "ft", 0, &["ftv0"]);
        f.handle = Some(1);
        f.use_count = Some(0);
        f.flags = Some(FlowtableFlags::empty());
        let mut old = Vec::new();
        let mut w = AttrWriter::new(&mut old);
        w.put_strz(NFTA_FLOWTABLE_TABLE, "f").unwrap();
        w.put_strz(NFTA_FLOWTABLE_NAME, "ft").unwrap();
        w.put_be32(NFTA_FLOWTABLE_USE, 0).unwrap();
        w.put_be64(NFTA_FLOWTABLE_HANDLE, 1).unwrap();
        w.put_be32(NFTA_FLOWTABLE_FLAGS, 0).unwrap();
        emit_hook(f.hook.as_ref().unwrap(), &mut w).unwrap();
        w.put_be32(99, 1).unwrap(); // an attribute from the future
        let back = Flowtable::parse(Family::Inet, &old).unwrap();
        let mut again = Vec::new();
        back.emit(&mut AttrWriter::new(&mut again)).unwrap();
        assert_eq!(again, old);
        assert_eq!(back.unknown.len(), 1);
        let mut known = back.clone();
        known.unknown.clear();
        assert_eq!(known, f, "the order takes no part in equality");
        // Built in code: the 6.18 order (handle before use).
        let mut fresh = Vec::new();
        f.emit(&mut AttrWriter::new(&mut fresh)).unwrap();
        let kinds: Vec<u16> = AttrIter::new(&fresh).map(|a| a.unwrap().kind()).collect();
        assert_eq!(kinds, DEFAULT_ORDER);
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
