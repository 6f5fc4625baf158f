//! Chains (`NFT_MSG_NEWCHAIN`): base chains on a hook, and regular chains.

use serde::{Deserialize, Serialize};

use super::attr_order::{AttrOrder, UNKNOWN};
use super::consts::*;
use super::{Family, RawAttr};
use crate::error::{Error, Result};
use crate::netlink::{AttrIter, AttrWriter};

/// A netfilter hook, named as nft names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// `prerouting`.
    Prerouting,
    /// `input`.
    Input,
    /// `forward`.
    Forward,
    /// `output`.
    Output,
    /// `postrouting`.
    Postrouting,
    /// `ingress` (netdev, inet).
    Ingress,
    /// `egress` (netdev).
    Egress,
    /// A hook number nftguard does not name for this family.
    Other(u32),
}

impl Hook {
    /// The hook number in `family`.
    pub fn number(self, family: Family) -> u32 {
        match family {
            Family::Netdev => match self {
                Hook::Ingress => 0,
                Hook::Egress => 1,
                Hook::Other(n) => n,
                _ => u32::MAX,
            },
            Family::Arp => match self {
                Hook::Input => 0,
                Hook::Output => 1,
                Hook::Forward => 2,
                Hook::Other(n) => n,
                _ => u32::MAX,
            },
            _ => match self {
                Hook::Prerouting => 0,
                Hook::Input => 1,
                Hook::Forward => 2,
                Hook::Output => 3,
                Hook::Postrouting => 4,
                Hook::Ingress => 5,
                Hook::Egress => u32::MAX,
                Hook::Other(n) => n,
            },
        }
    }

    /// The hook for number `n` in `family`.
    pub fn from_number(family: Family, n: u32) -> Self {
        match (family, n) {
            (Family::Netdev, 0) => Hook::Ingress,
            (Family::Netdev, 1) => Hook::Egress,
            (Family::Netdev, n) => Hook::Other(n),
            (Family::Arp, 0) => Hook::Input,
            (Family::Arp, 1) => Hook::Output,
            (Family::Arp, 2) => Hook::Forward,
            (Family::Arp, n) => Hook::Other(n),
            (_, 0) => Hook::Prerouting,
            (_, 1) => Hook::Input,
            (_, 2) => Hook::Forward,
            (_, 3) => Hook::Output,
            (_, 4) => Hook::Postrouting,
            (_, 5) => Hook::Ingress,
            (_, n) => Hook::Other(n),
        }
    }

    /// The name nft prints.
    pub fn name(self) -> String {
        match self {
            Hook::Prerouting => "prerouting".into(),
            Hook::Input => "input".into(),
            Hook::Forward => "forward".into(),
            Hook::Output => "output".into(),
            Hook::Postrouting => "postrouting".into(),
            Hook::Ingress => "ingress".into(),
            Hook::Egress => "egress".into(),
            Hook::Other(n) => format!("{n}"),
        }
    }
}

/// The policy of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainPolicy {
    /// `NF_DROP`.
    Drop,
    /// `NF_ACCEPT`.
    Accept,
    /// Any other value, kept.
    Other(u32),
}

impl ChainPolicy {
    /// The numeric policy.
    pub fn number(self) -> u32 {
        match self {
            ChainPolicy::Drop => 0,
            ChainPolicy::Accept => 1,
            ChainPolicy::Other(n) => n,
        }
    }

    /// The policy for a number.
    pub fn from_number(n: u32) -> Self {
        match n {
            0 => ChainPolicy::Drop,
            1 => ChainPolicy::Accept,
            n => ChainPolicy::Other(n),
        }
    }
}

/// The type of a base chain (`filter`, `nat`, `route`).
pub type ChainType = String;

/// The hook specification of a base chain (`NFTA_CHAIN_HOOK`).
///
/// Devices (netdev and inet ingress chains): nft sends one device as
/// `NFTA_HOOK_DEV` and several as `NFTA_HOOK_DEVS` ([`ChainHook::set_devices`]
/// does the same). The kernel dumps a one-device hook with both, the list
/// first; given both, it hooks the `NFTA_HOOK_DEV` device and ignores the
/// list. [`Chain::emit`] therefore accepts both, for a chain built in code,
/// only in the dumped form (`devices` exactly `[device]`) and refuses any
/// other combination; a decoded chain re-encodes as it was dumped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainHook {
    /// Hook number (see [`Hook::from_number`]).
    pub hooknum: u32,
    /// Priority.
    pub priority: i32,
    /// One device (`NFTA_HOOK_DEV`).
    pub device: Option<String>,
    /// Several devices (`NFTA_HOOK_DEVS`).
    pub devices: Option<Vec<String>>,
    /// Hook attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
}

impl ChainHook {
    /// Sets the hook's devices as nft 1.0.6 sends them: one device as
    /// `NFTA_HOOK_DEV` (understood by every kernel with netdev chains),
    /// several as `NFTA_HOOK_DEVS`.
    pub fn set_devices(&mut self, mut devices: Vec<String>) {
        if devices.len() == 1 {
            self.device = devices.pop();
            self.devices = None;
        } else {
            self.device = None;
            self.devices = Some(devices);
        }
    }

    /// Refuses `device` and `devices` together unless in the kernel's dump
    /// form (the list holding exactly that one device).
    fn check_devices(&self) -> Result<()> {
        match (&self.device, &self.devices) {
            (Some(d), Some(ds)) if ds.len() != 1 || ds[0] != *d => Err(Error::Invalid {
                what: "chain hook",
                detail: format!(
                    "both device {d:?} (NFTA_HOOK_DEV) and devices {ds:?} (NFTA_HOOK_DEVS) are set; the kernel would hook {d:?} only (set one device or a list)"
                ),
            }),
            _ => Ok(()),
        }
    }
}

/// Packet and byte counters of a base chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainCounters {
    /// Bytes.
    pub bytes: u64,
    /// Packets.
    pub packets: u64,
}

/// A chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chain {
    /// Family of the table.
    pub family: Family,
    /// Table name.
    pub table: String,
    /// Chain name.
    pub name: String,
    /// Handle (kernel-assigned).
    pub handle: Option<u64>,
    /// Hook, for base chains.
    pub hook: Option<ChainHook>,
    /// Policy, for base chains.
    pub policy: Option<ChainPolicy>,
    /// Type, for base chains.
    pub chain_type: Option<ChainType>,
    /// Counters, for base chains that report them.
    pub counters: Option<ChainCounters>,
    /// `NFT_CHAIN_*` flags.
    pub flags: Option<u32>,
    /// Number of references (kernel-reported).
    pub use_count: Option<u32>,
    /// Transaction id, to refer to this chain within one batch.
    pub id: Option<u32>,
    /// User data (nft stores a comment TLV here).
    pub userdata: Option<Vec<u8>>,
    /// Attributes nftguard does not know, kept byte for byte.
    pub unknown: Vec<RawAttr>,
    /// The order the attributes arrived in (encoding metadata).
    #[serde(skip)]
    pub order: AttrOrder,
}

impl Chain {
    /// A regular chain (reached by jump/goto).
    pub fn regular(family: Family, table: impl Into<String>, name: impl Into<String>) -> Self {
        Chain {
            family,
            table: table.into(),
            name: name.into(),
            handle: None,
            hook: None,
            policy: None,
            chain_type: None,
            counters: None,
            flags: None,
            use_count: None,
            id: None,
            userdata: None,
            unknown: Vec::new(),
            order: AttrOrder::default(),
        }
    }

    /// A `filter` base chain on `hook` at `priority` (policy accept until set).
    pub fn base(
        family: Family,
        table: impl Into<String>,
        name: impl Into<String>,
        hook: Hook,
        priority: i32,
    ) -> Self {
        let mut c = Chain::regular(family, table, name);
        c.hook = Some(ChainHook {
            hooknum: hook.number(family),
            priority,
            device: None,
            devices: None,
            unknown: Vec::new(),
        });
        c.chain_type = Some("filter".into());
        c
    }

    /// Sets the policy.
    pub fn with_policy(mut self, policy: ChainPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Sets the chain type (`filter`, `nat`, `route`).
    pub fn with_type(mut self, t: &str) -> Self {
        self.chain_type = Some(t.to_string());
        self
    }

    /// Whether this is a base chain.
    pub fn is_base(&self) -> bool {
        self.hook.is_some()
    }

    /// The hook, named.
    pub fn hook_kind(&self) -> Option<Hook> {
        self.hook
            .as_ref()
            .map(|h| Hook::from_number(self.family, h.hooknum))
    }

    /// The comment nft stores in the user data, if any.
    pub fn comment(&self) -> Option<String> {
        self.userdata
            .as_deref()
            .and_then(|u| super::rule::udata_string(u, 0))
    }

    /// Decodes a chain message's attributes.
    pub fn parse(family: Family, attrs: &[u8]) -> Result<Self> {
        let mut c = Chain::regular(family, "", "");
        let (mut table, mut name) = (None, None);
        for a in AttrIter::new(attrs) {
            let a = a?;
            match a.kind() {
                NFTA_CHAIN_TABLE => table = Some(a.strz()?.to_string()),
                NFTA_CHAIN_NAME => name = Some(a.strz()?.to_string()),
                NFTA_CHAIN_HANDLE => c.handle = Some(a.be64()?),
                NFTA_CHAIN_HOOK => c.hook = Some(parse_hook(a.payload)?),
                NFTA_CHAIN_POLICY => c.policy = Some(ChainPolicy::from_number(a.be32()?)),
                NFTA_CHAIN_TYPE => c.chain_type = Some(a.strz()?.to_string()),
                NFTA_CHAIN_COUNTERS => {
                    let (mut bytes, mut packets) = (None, None);
                    for x in a.nested() {
                        let x = x?;
                        match x.kind() {
                            NFTA_COUNTER_BYTES => bytes = Some(x.be64()?),
                            NFTA_COUNTER_PACKETS => packets = Some(x.be64()?),
                            k => return Err(super::data::unknown("chain counters", k)),
                        }
                    }
                    c.counters = match (bytes, packets) {
                        (Some(bytes), Some(packets)) => Some(ChainCounters { bytes, packets }),
                        _ => return Err(super::data::missing("chain counters", "bytes/packets")),
                    };
                }
                NFTA_CHAIN_FLAGS => c.flags = Some(a.be32()?),
                NFTA_CHAIN_USE => c.use_count = Some(a.be32()?),
                NFTA_CHAIN_ID => c.id = Some(a.be32()?),
                NFTA_CHAIN_USERDATA => c.userdata = Some(a.payload.to_vec()),
                _ => {
                    c.unknown.push(RawAttr::keep(&a));
                    c.order.push(UNKNOWN);
                    continue;
                }
            }
            c.order.push(a.kind());
        }
        c.table = table.ok_or_else(|| super::data::missing("chain", "table"))?;
        c.name = name.ok_or_else(|| super::data::missing("chain", "name"))?;
        Ok(c)
    }

    /// Writes the attributes: in the order they were decoded in, or the
    /// current kernel's dump order for chains built in code.
    pub fn emit(&self, w: &mut AttrWriter<'_>) -> Result<()> {
        // Built chains only: a decoded chain re-encodes exactly as the
        // kernel dumped it, whatever its hook holds (lossless decoding).
        if let (Some(h), true) = (&self.hook, self.order.is_default()) {
            h.check_devices()?;
        }
        // Kernel 6.18 order: NAME before HANDLE (older kernels: HANDLE first).
        const ORDER: &[u16] = &[
            NFTA_CHAIN_TABLE,
            NFTA_CHAIN_NAME,
            NFTA_CHAIN_HANDLE,
            NFTA_CHAIN_HOOK,
            NFTA_CHAIN_POLICY,
            NFTA_CHAIN_TYPE,
            NFTA_CHAIN_COUNTERS,
            NFTA_CHAIN_FLAGS,
            NFTA_CHAIN_USE,
            NFTA_CHAIN_ID,
            NFTA_CHAIN_USERDATA,
        ];
        self.order.emit(ORDER, &self.unknown, w, |k, w| match k {
            NFTA_CHAIN_TABLE => w.put_strz(k, &self.table),
            NFTA_CHAIN_NAME => w.put_strz(k, &self.name),
            NFTA_CHAIN_HANDLE => self.handle.map_or(Ok(()), |v| w.put_be64(k, v)),
            NFTA_CHAIN_HOOK => match &self.hook {
                None => Ok(()),
                Some(h) => w.nested(k, |w| {
                    w.put_be32(NFTA_HOOK_HOOKNUM, h.hooknum)?;
                    w.put_be32(NFTA_HOOK_PRIORITY, h.priority as u32)?;
                    // The kernel dumps the DEVS list first, then DEV when the
                    // list holds exactly one device (verified on 6.18).
                    if let Some(ds) = &h.devices {
                        w.nested(NFTA_HOOK_DEVS, |w| {
                            for d in ds {
                                w.put_strz(1, d)?; // NFTA_DEVICE_NAME
                            }
                            Ok(())
                        })?;
                    }
                    if let Some(d) = &h.device {
                        w.put_strz(NFTA_HOOK_DEV, d)?;
                    }
                    for raw in &h.unknown {
                        w.put_raw_attrs(&raw.0);
                    }
                    Ok(())
                }),
            },
            NFTA_CHAIN_POLICY => self.policy.map_or(Ok(()), |p| w.put_be32(k, p.number())),
            NFTA_CHAIN_TYPE => self
                .chain_type
                .as_ref()
                .map_or(Ok(()), |t| w.put_strz(k, t)),
            NFTA_CHAIN_COUNTERS => match &self.counters {
                None => Ok(()),
                // The kernel (nft_dump_stats, Linux 6.18) dumps packets
                // before bytes.
                Some(c) => w.nested(k, |w| {
                    w.put_be64(NFTA_COUNTER_PACKETS, c.packets)?;
                    w.put_be64(NFTA_COUNTER_BYTES, c.bytes)
                }),
            },
            NFTA_CHAIN_FLAGS => self.flags.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_CHAIN_USE => self.use_count.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_CHAIN_ID => self.id.map_or(Ok(()), |v| w.put_be32(k, v)),
            NFTA_CHAIN_USERDATA => self.userdata.as_ref().map_or(Ok(()), |v| w.put(k, v)),
            _ => Ok(()),
        })
    }
}

fn parse_hook(bytes: &[u8]) -> Result<ChainHook> {
    let (mut hooknum, mut priority, mut device, mut devices) = (None, None, None, None);
    let mut unknown = Vec::new();
    for a in AttrIter::new(bytes) {
        let a = a?;
        match a.kind() {
            NFTA_HOOK_HOOKNUM => hooknum = Some(a.be32()?),
            NFTA_HOOK_PRIORITY => priority = Some(a.be32()? as i32),
            NFTA_HOOK_DEV => device = Some(a.strz()?.to_string()),
            NFTA_HOOK_DEVS => {
                let mut v = Vec::new();
                for d in a.nested() {
                    v.push(d?.strz()?.to_string());
                }
                devices = Some(v);
            }
            _ => unknown.push(RawAttr::keep(&a)),
        }
    }
    Ok(ChainHook {
        hooknum: hooknum.ok_or_else(|| super::data::missing("chain hook", "hook number"))?,
        priority: priority.ok_or_else(|| super::data::missing("chain hook", "priority"))?,
        device,
        devices,
        unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn netdev_chain() -> Chain {
        Chain::base(Family::Netdev, "t", "c", Hook::Ingress, 0)
    }

    fn emit(c: &Chain) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        c.emit(&mut AttrWriter::new(&mut buf))?;
        Ok(buf)
    }

    /// The kinds of the hook's nested attributes, in order.
    fn hook_attr_kinds(attrs: &[u8]) -> Vec<u16> {
        let hook = AttrIter::new(attrs)
            .map(|a| a.unwrap())
            .find(|a| a.kind() == NFTA_CHAIN_HOOK)
            .unwrap();
        hook.nested().map(|a| a.unwrap().kind()).collect()
    }

    #[test]
    fn device_and_a_different_device_list_are_refused() {
        let mut c = netdev_chain();
        let h = c.hook.as_mut().unwrap();
        h.device = Some("eth0".into());
        h.devices = Some(vec!["eth1".into(), "eth2".into()]);
        let err = emit(&c).unwrap_err().to_string();
        assert!(err.contains("\"eth0\""), "{err}");
        assert!(err.contains("eth1"), "{err}");
        c.hook.as_mut().unwrap().devices = Some(vec!["eth1".into()]);
        assert!(emit(&c).is_err());
    }

    #[test]
    fn devices_are_set_as_nft_sends_them() {
        let mut c = netdev_chain();
        c.hook.as_mut().unwrap().set_devices(vec!["eth0".into()]);
        assert_eq!(
            hook_attr_kinds(&emit(&c).unwrap()),
            [NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY, NFTA_HOOK_DEV]
        );
        c.hook
            .as_mut()
            .unwrap()
            .set_devices(vec!["eth0".into(), "eth1".into()]);
        assert_eq!(
            hook_attr_kinds(&emit(&c).unwrap()),
            [NFTA_HOOK_HOOKNUM, NFTA_HOOK_PRIORITY, NFTA_HOOK_DEVS]
        );
    }

    /// A chain attribute stream whose hook holds `devs` then `dev`.
    fn dumped_hook(devs: &str, dev: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w = AttrWriter::new(&mut buf);
        w.put_strz(NFTA_CHAIN_TABLE, "t").unwrap();
        w.put_strz(NFTA_CHAIN_NAME, "c").unwrap();
        w.nested(NFTA_CHAIN_HOOK, |w| {
            w.put_be32(NFTA_HOOK_HOOKNUM, 0)?;
            w.put_be32(NFTA_HOOK_PRIORITY, 0)?;
            w.nested(NFTA_HOOK_DEVS, |w| w.put_strz(1, devs))?;
            w.put_strz(NFTA_HOOK_DEV, dev)
        })
        .unwrap();
        buf
    }

    #[test]
    fn a_decoded_mismatching_hook_still_reencodes_byte_for_byte() {
        // Lossless decoding wins over the built-chain check: whatever a
        // foreign chain's hook holds is written back unchanged.
        let buf = dumped_hook("lO", "lo");
        let c = Chain::parse(Family::Netdev, &buf).unwrap();
        assert_eq!(emit(&c).unwrap(), buf);
        // The same hook built in code is refused.
        let mut built = netdev_chain();
        built.hook = c.hook.clone();
        assert!(emit(&built).is_err());
    }

    #[test]
    fn the_kernels_one_device_dump_reencodes_byte_for_byte() {
        // What the kernel dumps for `device "lo"`: the list, then DEV.
        let buf = dumped_hook("lo", "lo");
        let c = Chain::parse(Family::Netdev, &buf).unwrap();
        let h = c.hook.as_ref().unwrap();
        assert_eq!(h.device.as_deref(), Some("lo"));
        assert_eq!(h.devices.as_deref(), Some(&["lo".to_string()][..]));
        assert_eq!(emit(&c).unwrap(), buf);
    }
}
