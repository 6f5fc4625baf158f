//! `meta`: load packet metadata (interface, mark, protocol, …) into a
//! register, or set it from one.

u32_enum! {
    /// Metadata keys (`enum nft_meta_keys`) with the names nft prints.
    pub enum MetaKey {
        /// Packet length.
        Len = 0 => "length",
        /// Ethertype protocol.
        Protocol = 1 => "protocol",
        /// Packet priority.
        Priority = 2 => "priority",
        /// Packet mark.
        Mark = 3 => "mark",
        /// Input interface index.
        Iif = 4 => "iif",
        /// Output interface index.
        Oif = 5 => "oif",
        /// Input interface name.
        Iifname = 6 => "iifname",
        /// Output interface name.
        Oifname = 7 => "oifname",
        /// Input interface type.
        Iiftype = 8 => "iiftype",
        /// Output interface type.
        Oiftype = 9 => "oiftype",
        /// Originating socket UID.
        Skuid = 10 => "skuid",
        /// Originating socket GID.
        Skgid = 11 => "skgid",
        /// nftrace bit.
        Nftrace = 12 => "nftrace",
        /// Route realm.
        Rtclassid = 13 => "rtclassid",
        /// Security mark.
        Secmark = 14 => "secmark",
        /// Netfilter protocol family.
        Nfproto = 15 => "nfproto",
        /// Layer-4 protocol number.
        L4proto = 16 => "l4proto",
        /// Bridge input interface name.
        BriIifname = 17 => "ibrname",
        /// Bridge output interface name.
        BriOifname = 18 => "obrname",
        /// Packet type (host, broadcast, multicast, other).
        Pkttype = 19 => "pkttype",
        /// CPU number.
        Cpu = 20 => "cpu",
        /// Input interface group.
        Iifgroup = 21 => "iifgroup",
        /// Output interface group.
        Oifgroup = 22 => "oifgroup",
        /// Socket cgroup class id.
        Cgroup = 23 => "cgroup",
        /// Pseudo-random number.
        Prandom = 24 => "random",
        /// Whether the packet has a security path.
        Secpath = 25 => "ipsec",
        /// Input interface kind.
        Iifkind = 26 => "iifkind",
        /// Output interface kind.
        Oifkind = 27 => "oifkind",
        /// Bridge input port PVID.
        BriIifpvid = 28 => "ibrpvid",
        /// Bridge input VLAN protocol.
        BriIifvproto = 29 => "ibrvproto",
        /// Time since the epoch (ns).
        TimeNs = 30 => "time",
        /// Day of week.
        TimeDay = 31 => "day",
        /// Seconds since midnight.
        TimeHour = 32 => "hour",
        /// Slave device index.
        Sdif = 33 => "sdif",
        /// Slave device name.
        Sdifname = 34 => "sdifname",
        /// Bridge broute bit.
        BriBroute = 35 => "broute",
    }
}

nft_expr! {
    /// `meta`: `dreg` set for a load, `sreg` for a set.
    pub struct Meta = "meta" {
        /// What to load or set.
        key: req MetaKey = 2,
        /// Destination register of a load.
        dreg: opt u32 = 1,
        /// Source register of a set.
        sreg: opt u32 = 3,
    }
}

impl Meta {
    /// Loads `key` into register `dreg`.
    pub fn load(key: MetaKey, dreg: u32) -> Self {
        Meta {
            key,
            dreg: Some(dreg),
            sreg: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::expr::test_util::*;

    #[test]
    fn l4proto_load_bytes() {
        // [ meta load l4proto => reg 1 ]: KEY then DREG, as the kernel dumps it.
        let e = Meta::load(MetaKey::L4proto, 1).into();
        roundtrip(&e);
        assert_eq!(
            data_bytes(&e),
            [8, 0, 2, 0, 0, 0, 0, 16, 8, 0, 1, 0, 0, 0, 0, 1]
        );
        assert_eq!(MetaKey::from_nft_name("iifname"), Some(MetaKey::Iifname));
        assert_eq!(MetaKey::from_number(99), MetaKey::Other(99));
    }
}
